/* score_plan.c — the arithmetic of bonus pools (see score.h): dividing a pool of money
 * among people in proportion to their shares, within per-person caps and floors, to
 * the cent, with parts that add up to the pool exactly.
 *
 * Bounds. The exact split gives each member with a share clamp(λ × share, floor, cap)
 * for the one λ at which the parts add up to the pool (the sum grows with λ). It is
 * found by fixing members at their bounds, never undoing a fix: with the free members'
 * proportional parts y = R × share / S (R: what the fixed members leave, S: the free
 * shares), the parts above a cap exceed by E in all and those below a floor fall short
 * by D. If E ≥ D, clamping every part would leave the sum at or below R, so λ can only
 * grow: whoever is above their cap now stays above it, and those are fixed at their
 * caps. If D > E, λ can only shrink, and those below their floors are fixed there.
 * Each round fixes at least one member, so there are at most n rounds.
 *
 * Cents. The free members' parts are cut down to the cent; the cents left over (fewer
 * than the free members) go one each to the largest cut-off remainders, ties to the
 * member listed first (the caller lists them in roster order). Fixed members get their
 * bound, which is in cents. So the parts add up to the pool exactly, each within a
 * cent of its exact proportional part, and the same input gives the same cents.
 */
#include "score_internal.h"

#include <stdlib.h>
#include <string.h>

static bool in_cents(dec_t v)
{
    dec_t r;
    return dec_round(v, 2, &r) == DEC_OK && dec_cmp(r, v) == 0;
}

/* V cut down to the cent (V ≥ 0). */
static bool floor_cents(dec_t v, dec_t cent, dec_t *out)
{
    dec_t r;
    if (dec_round(v, 2, &r) != DEC_OK) return false;
    if (dec_cmp(r, v) > 0 && dec_sub(r, cent, &r) != DEC_OK) return false;
    *out = r;
    return true;
}

enum { FREE, AT_FLOOR, AT_CAP, LEFT_OUT };

score_pool_status score_pool_distribute(dec_t amount, const score_pool_member *m, size_t n, dec_t *out,
                                        dec_t *undistributed)
{
    dec_t zero = dec_from_int64(0), cent;
    dec_div(dec_from_int64(1), dec_from_int64(100), 2, &cent);
    *undistributed = zero;
    for (size_t i = 0; i < n; i++) out[i] = zero;
    if (dec_sign(amount) < 0 || !in_cents(amount)) return SCORE_POOL_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (dec_sign(m[i].share) < 0) return SCORE_POOL_INVALID;
        if (m[i].has_cap && (dec_sign(m[i].cap) < 0 || !in_cents(m[i].cap))) return SCORE_POOL_INVALID;
        if (m[i].has_floor && (dec_sign(m[i].floor) < 0 || !in_cents(m[i].floor))) return SCORE_POOL_INVALID;
        if (m[i].has_cap && m[i].has_floor && dec_cmp(m[i].floor, m[i].cap) > 0) return SCORE_POOL_INVALID;
    }

    unsigned char *state = xcalloc(n + 1, 1);
    dec_t *part = xcalloc(n + 1, sizeof *part);
    score_pool_status status = SCORE_POOL_OK;
    size_t eligible = 0;
    dec_t floors = zero;
    for (size_t i = 0; i < n; i++) {
        state[i] = dec_sign(m[i].share) > 0 ? FREE : LEFT_OUT;
        if (state[i] == LEFT_OUT) continue;
        eligible++;
        if (m[i].has_floor && dec_add(floors, m[i].floor, &floors) != DEC_OK) status = SCORE_POOL_OVERFLOW;
    }
    if (status == SCORE_POOL_OK && eligible == 0) {
        *undistributed = amount;
        status = SCORE_POOL_NO_SHARES;
    }
    if (status == SCORE_POOL_OK && dec_cmp(floors, amount) > 0) status = SCORE_POOL_FLOORS_EXCEED;

    dec_t rest = amount; /* what the fixed members leave for the free ones */
    bool settled = status != SCORE_POOL_OK;
    while (!settled) {
        dec_t shares = zero;
        rest = amount;
        for (size_t i = 0; i < n && status == SCORE_POOL_OK; i++) {
            if (state[i] == FREE && dec_add(shares, m[i].share, &shares) != DEC_OK)
                status = SCORE_POOL_OVERFLOW;
            if (state[i] == AT_FLOOR && dec_sub(rest, m[i].floor, &rest) != DEC_OK)
                status = SCORE_POOL_OVERFLOW;
            if (state[i] == AT_CAP && dec_sub(rest, m[i].cap, &rest) != DEC_OK) status = SCORE_POOL_OVERFLOW;
        }
        if (status != SCORE_POOL_OK || dec_sign(shares) == 0) break;
        dec_t excess = zero, deficit = zero;
        for (size_t i = 0; i < n && status == SCORE_POOL_OK; i++) {
            if (state[i] != FREE) continue;
            dec_t product, d;
            if (dec_mul(rest, m[i].share, &product) != DEC_OK ||
                dec_div(product, shares, DEC_PLACES, &part[i]) != DEC_OK) {
                status = SCORE_POOL_OVERFLOW;
                break;
            }
            if (m[i].has_cap && dec_cmp(part[i], m[i].cap) > 0) {
                if (dec_sub(part[i], m[i].cap, &d) != DEC_OK || dec_add(excess, d, &excess) != DEC_OK)
                    status = SCORE_POOL_OVERFLOW;
            } else if (m[i].has_floor && dec_cmp(part[i], m[i].floor) < 0) {
                if (dec_sub(m[i].floor, part[i], &d) != DEC_OK || dec_add(deficit, d, &deficit) != DEC_OK)
                    status = SCORE_POOL_OVERFLOW;
            }
        }
        if (status != SCORE_POOL_OK) break;
        if (dec_sign(excess) == 0 && dec_sign(deficit) == 0) break;
        bool fix_caps = dec_cmp(excess, deficit) >= 0;
        for (size_t i = 0; i < n; i++) {
            if (state[i] != FREE) continue;
            if (fix_caps && m[i].has_cap && dec_cmp(part[i], m[i].cap) > 0) state[i] = AT_CAP;
            if (!fix_caps && m[i].has_floor && dec_cmp(part[i], m[i].floor) < 0) state[i] = AT_FLOOR;
        }
    }

    if (status == SCORE_POOL_OK) {
        /* bounds, then the free parts cut to the cent, then the cents left over */
        dec_t paid = zero;
        size_t free_count = 0;
        for (size_t i = 0; i < n && status == SCORE_POOL_OK; i++) {
            if (state[i] == AT_FLOOR) out[i] = m[i].floor;
            else if (state[i] == AT_CAP) out[i] = m[i].cap;
            else if (state[i] == FREE && !floor_cents(part[i], cent, &out[i])) status = SCORE_POOL_OVERFLOW;
            free_count += state[i] == FREE;
            if (status == SCORE_POOL_OK && dec_add(paid, out[i], &paid) != DEC_OK)
                status = SCORE_POOL_OVERFLOW;
        }
        dec_t left = zero;
        if (status == SCORE_POOL_OK && dec_sub(amount, paid, &left) != DEC_OK) status = SCORE_POOL_OVERFLOW;
        if (status == SCORE_POOL_OK && free_count == 0) {
            /* every member with a share is at a bound: caps leave the rest over */
            *undistributed = left;
            if (dec_sign(left) > 0) status = SCORE_POOL_CAPPED;
        }
        bool *given = xcalloc(n + 1, sizeof *given);
        while (status == SCORE_POOL_OK && free_count > 0 && dec_sign(left) > 0) {
            /* the largest remainder not yet given a cent; the first listed on a tie */
            size_t best = n;
            dec_t best_rem = zero;
            for (size_t i = 0; i < n; i++) {
                if (state[i] != FREE || given[i]) continue;
                dec_t with_cent, rem;
                if (dec_add(out[i], cent, &with_cent) != DEC_OK) continue;
                if (m[i].has_cap && dec_cmp(with_cent, m[i].cap) > 0) continue;
                if (dec_sub(part[i], out[i], &rem) != DEC_OK) continue;
                if (best == n || dec_cmp(rem, best_rem) > 0) {
                    best = i;
                    best_rem = rem;
                }
            }
            if (best == n) {
                /* more cents than free members: cannot happen while the parts add
                 * up to the rest; refuse rather than pay a wrong sum */
                status = SCORE_POOL_OVERFLOW;
                break;
            }
            given[best] = true;
            dec_add(out[best], cent, &out[best]);
            dec_sub(left, cent, &left);
        }
        /* a part rounded up in its 18th place may have cut to one cent too many:
         * take it back from the smallest remainder, last listed first on a tie */
        while (status == SCORE_POOL_OK && free_count > 0 && dec_sign(left) < 0) {
            size_t worst = n;
            dec_t worst_rem = zero;
            for (size_t i = 0; i < n; i++) {
                dec_t without, rem;
                if (state[i] != FREE || dec_sub(out[i], cent, &without) != DEC_OK || dec_sign(without) < 0)
                    continue;
                if (m[i].has_floor && dec_cmp(without, m[i].floor) < 0) continue;
                if (dec_sub(part[i], out[i], &rem) != DEC_OK) continue;
                if (worst == n || dec_cmp(rem, worst_rem) <= 0) {
                    worst = i;
                    worst_rem = rem;
                }
            }
            if (worst == n) {
                status = SCORE_POOL_OVERFLOW;
                break;
            }
            dec_sub(out[worst], cent, &out[worst]);
            dec_add(left, cent, &left);
        }
        free(given);
    }
    if (status == SCORE_POOL_OVERFLOW || status == SCORE_POOL_FLOORS_EXCEED)
        for (size_t i = 0; i < n; i++) out[i] = zero;
    free(state);
    free(part);
    return status;
}

/* ---- forced distribution ----------------------------------------------------------------- */

score_grade_status score_grade_bounds(const dec_t *quotas, size_t grade_count, size_t ranked, size_t *bound)
{
    if (grade_count == 0) return SCORE_GRADE_INVALID;
    dec_t cumulative = dec_from_int64(0);
    /* each grade's cumulative boundary, rounded half up; the last grade takes the rest */
    for (size_t k = 0; k < grade_count; k++) {
        if (k + 1 == grade_count) {
            bound[k] = ranked;
            break;
        }
        dec_t count, rounded;
        int64_t whole = 0;
        if (dec_add(cumulative, quotas[k], &cumulative) != DEC_OK ||
            dec_mul(cumulative, dec_from_int64((int64_t)ranked), &count) != DEC_OK ||
            dec_round(count, 0, &rounded) != DEC_OK || dec_to_int64(rounded, &whole) != DEC_OK || whole < 0)
            return SCORE_GRADE_INVALID;
        bound[k] = (size_t)whole > ranked ? ranked : (size_t)whole;
        /* the top grade is never empty for a quota above 0: 2 people × 20% still have an A */
        if (k == 0 && bound[0] == 0 && ranked > 0 && dec_sign(quotas[0]) > 0) bound[0] = 1;
        if (k > 0 && bound[k] < bound[k - 1]) bound[k] = bound[k - 1];
    }
    return SCORE_GRADE_OK;
}

score_grade_status score_grade_assign(const eval_value *scores, const bool *rankable, size_t n,
                                      const dec_t *quotas, size_t grade_count, int *rank, int *grade)
{
    if (grade_count == 0) return SCORE_GRADE_INVALID;
    dec_t zero = dec_from_int64(0), one = dec_from_int64(1), cumulative = zero;
    for (size_t k = 0; k + 1 < grade_count; k++) {
        if (dec_sign(quotas[k]) < 0 || dec_add(cumulative, quotas[k], &cumulative) != DEC_OK)
            return SCORE_GRADE_INVALID;
    }
    if (dec_cmp(cumulative, one) > 0) return SCORE_GRADE_INVALID;

    size_t ranked = 0;
    for (size_t i = 0; i < n; i++) ranked += rankable[i] && scores[i].kind == VAL_NUM;
    size_t *bound = xcalloc(grade_count, sizeof *bound);
    if (score_grade_bounds(quotas, grade_count, ranked, bound) != SCORE_GRADE_OK) {
        free(bound);
        return SCORE_GRADE_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rankable[i] || scores[i].kind != VAL_NUM) {
            rank[i] = 0;
            grade[i] = (int)grade_count - 1;
            continue;
        }
        /* competition ranking: 1 + how many ranked members scored strictly higher */
        size_t above = 0;
        for (size_t j = 0; j < n; j++)
            above +=
                rankable[j] && scores[j].kind == VAL_NUM && dec_cmp(scores[j].as.num, scores[i].as.num) > 0;
        rank[i] = (int)above + 1;
        size_t k = 0;
        while (k + 1 < grade_count && above >= bound[k]) k++;
        grade[i] = (int)k;
    }
    free(bound);
    return SCORE_GRADE_OK;
}
