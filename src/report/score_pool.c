/* score_pool.c — dividing a declared pool among the statements that share it (see
 * score.h, docs/language.md §9.2): the pool's amount in the period, each member's
 * claim, cap and floor checked, then score_pool_distribute (score_plan.c) does the
 * arithmetic and every outcome that changes pay is a located error or warning.
 */
#include "score_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *money_text(dec_t v, char *buf, size_t size)
{
    eval_format_value(eval_num(v), UNIT_MONEY, buf, size);
    return buf;
}

static const char *who_text(eval_session *s, int staff, char *buf, size_t size)
{
    size_t count;
    const eval_staff *who = &eval_roster(s, &count)[staff];
    if (who->name) snprintf(buf, size, "'%s' (%s)", who->id, who->name);
    else snprintf(buf, size, "'%s'", who->id);
    return buf;
}

/* The checks of one member's claim, cap and floor; false after an error. */
static bool check_member(eval_session *s, const ast_decl *pool, const char *label, score_statement *st,
                         diag_sink *diags)
{
    const score_pool_part *part = &st->pool;
    const ast_role_item *it = part->item;
    char who[256], a[64], b[64];
    who_text(s, st->staff, who, sizeof who);
    bool ok = true;
    if (part->share.kind == VAL_NUM && dec_sign(part->share.as.num) < 0) {
        ok = false;
        if (diags) {
            diagnostic *d =
                diag_report(diags, DIAG_ERROR, it->share->span, "pool-share",
                            "staff %s, %s: the share in pool '%s' is negative (%s)", who, label, pool->name,
                            (eval_format_value(part->share, UNIT_NUMBER, a, sizeof a), a));
            diag_hint(diags, d,
                      "a share is a claim on the pool and cannot take money from the others; "
                      "write it so that it is 0 or more, e.g. max(score, 0) * staff.base_bonus");
        }
    }
    const eval_value *bound[2] = { &part->cap, &part->floor };
    const ast_expr *expr[2] = { it->cap, it->floor };
    static const char *const word[2] = { "cap", "floor" };
    for (int k = 0; k < 2; k++) {
        if (!expr[k]) continue;
        if (bound[k]->kind != VAL_NUM) {
            ok = false;
            if (diags) {
                diagnostic *d = diag_report(diags, DIAG_ERROR, expr[k]->span, "pool-bound",
                                            "staff %s, %s: the %s in pool '%s' has no value (n/a)", who,
                                            label, word[k], pool->name);
                diag_hint(diags, d,
                          "a %s without a value would pay an unbounded part; fill the roster cell "
                          "it reads, or give a default: if staff.x > 0 then staff.x else 0",
                          word[k]);
            }
        } else if (dec_sign(bound[k]->as.num) < 0) {
            ok = false;
            if (diags) {
                diagnostic *d = diag_report(diags, DIAG_ERROR, expr[k]->span, "pool-bound",
                                            "staff %s, %s: the %s in pool '%s' is negative (%s)", who, label,
                                            word[k], pool->name, money_text(bound[k]->as.num, a, sizeof a));
                diag_hint(diags, d,
                          "a %s is money paid to a member, 0 or more: e.g. max(staff.quota - 1_500, 0)",
                          word[k]);
            }
        }
    }
    if (ok && part->cap.kind == VAL_NUM && part->floor.kind == VAL_NUM &&
        dec_cmp(part->floor.as.num, part->cap.as.num) > 0) {
        ok = false;
        if (diags) {
            diagnostic *d = diag_report(diags, DIAG_ERROR, it->floor->span, "pool-bound",
                                        "staff %s, %s: the floor in pool '%s' (%s) is above the cap (%s)",
                                        who, label, pool->name, money_text(part->floor.as.num, a, sizeof a),
                                        money_text(part->cap.as.num, b, sizeof b));
            diag_note(diags, d, it->cap->span, "the cap");
            diag_hint(
                diags, d,
                "a floor is the least a member is paid and the cap the most: the floor must not exceed the cap");
        }
    }
    return ok;
}

bool score_pool_settle(eval_session *s, const ast_decl *pool, size_t period, score_statement **members,
                       size_t n, diag_sink *diags, score_pool_run *run)
{
    size_t period_count;
    const period_t *periods = eval_periods(s, &period_count);
    char label[PERIOD_LABEL_SIZE], a[64], b[64], who[256];
    period_format(periods[period], label, sizeof label);
    dec_t zero = dec_from_int64(0);
    memset(run, 0, sizeof *run);
    run->period = period;
    run->pool = pool;
    run->members = n;
    run->amount = eval_null();
    for (size_t i = 0; i < n; i++) {
        members[i]->bonus = members[i]->bonus_exact = eval_null();
        members[i]->pool.settled = false;
        members[i]->pool.members = n;
    }

    /* the amount: money to the cent, 0 or more */
    const ast_expr *amount_expr = pool->u.pool.amount;
    eval_value amount = eval_value_of(s, (ast_expr *)amount_expr, period, -1, NULL);
    dec_t rounded = zero;
    bool ok = true;
    if (amount.kind != VAL_NUM || dec_round(amount.as.num, 2, &rounded) != DEC_OK) {
        ok = false;
        if (diags && n) {
            diagnostic *d = diag_report(diags, DIAG_ERROR, amount_expr->span, "pool-amount",
                                        "pool '%s' has no value in %s, so its %zu member%s cannot be paid",
                                        pool->name, label, n, n == 1 ? "" : "s");
            diag_hint(diags, d,
                      "an indicator without rows has no value; give the pool a value for every period, "
                      "e.g. if team_revenue > 0 then team_revenue * 3%% else 0");
        }
    } else if (dec_sign(rounded) < 0) {
        ok = false;
        if (diags && n) {
            diagnostic *d = diag_report(diags, DIAG_ERROR, amount_expr->span, "pool-amount",
                                        "pool '%s' is negative in %s (%s): there is nothing to divide",
                                        pool->name, label, money_text(rounded, a, sizeof a));
            diag_hint(diags, d, "when nothing is to be paid then, say so: max(AMOUNT, 0) is a pool of 0.00");
        }
    }
    if (ok) run->amount = eval_num(rounded);

    dec_t shares = zero;
    bool shares_ok = true;
    for (size_t i = 0; i < n; i++) {
        ok = check_member(s, pool, label, members[i], diags) && ok;
        score_pool_part *part = &members[i]->pool;
        if (members[i]->gates_passed && part->share.kind != VAL_NUM && diags) {
            diagnostic *d =
                diag_report(diags, DIAG_WARNING, part->item->share->span, "pool-no-share",
                            "staff %s, %s: the share in pool '%s' has no value (n/a), so no part of "
                            "the pool is paid to them",
                            who_text(s, members[i]->staff, who, sizeof who), label, pool->name);
            diag_hint(diags, d,
                      "the share reads a value the data lacks (often every kpi missing, so no score)");
        }
        if (dec_sign(part->claim) > 0)
            shares_ok = shares_ok && dec_add(shares, part->claim, &shares) == DEC_OK;
    }
    for (size_t i = 0; i < n; i++) {
        members[i]->pool.amount = rounded;
        members[i]->pool.shares = shares;
    }
    if (!ok || n == 0) {
        run->failed = !ok && n > 0;
        return ok || n == 0;
    }

    score_pool_member *m = xcalloc(n, sizeof *m);
    dec_t *out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const score_pool_part *part = &members[i]->pool;
        m[i].share = part->claim;
        m[i].has_cap = part->cap.kind == VAL_NUM;
        if (m[i].has_cap) m[i].cap = part->cap.as.num;
        m[i].has_floor = part->floor.kind == VAL_NUM;
        if (m[i].has_floor) m[i].floor = part->floor.as.num;
    }
    dec_t left = zero;
    score_pool_status status =
        shares_ok ? score_pool_distribute(rounded, m, n, out, &left) : SCORE_POOL_OVERFLOW;
    const kp_span at = pool->name_span;
    switch (status) {
    case SCORE_POOL_OK:
    case SCORE_POOL_CAPPED:
    case SCORE_POOL_NO_SHARES: break;
    case SCORE_POOL_FLOORS_EXCEED: {
        dec_t floors = zero;
        for (size_t i = 0; i < n; i++)
            if (m[i].has_floor && dec_sign(m[i].share) > 0) dec_add(floors, m[i].floor, &floors);
        if (diags) {
            diagnostic *d =
                diag_report(diags, DIAG_ERROR, at, "pool-floors",
                            "the floors of pool '%s' add up to %s in %s, more than the pool (%s)", pool->name,
                            money_text(floors, a, sizeof a), label, money_text(rounded, b, sizeof b));
            for (size_t i = 0; i < n; i++)
                if (members[i]->pool.item->floor) {
                    diag_note(diags, d, members[i]->pool.item->floor->span, "the floor");
                    break;
                }
            diag_hint(diags, d,
                      "no member's floor can be paid without taking another's; lower the floors or "
                      "raise the pool");
        }
        break;
    }
    case SCORE_POOL_OVERFLOW:
    case SCORE_POOL_INVALID:
        if (diags) {
            diagnostic *d =
                diag_report(diags, DIAG_ERROR, at, "overflow",
                            "dividing pool '%s' in %s leaves the exact decimal range (|value| < 1.7e20)",
                            pool->name, label);
            diag_hint(diags, d, "a share this large is most likely a wrong cell in the roster");
        }
        break;
    }
    bool paid = status == SCORE_POOL_OK || status == SCORE_POOL_CAPPED || status == SCORE_POOL_NO_SHARES;
    if (paid) {
        run->paid = zero;
        for (size_t i = 0; i < n; i++) {
            score_statement *st = members[i];
            score_pool_part *part = &st->pool;
            part->settled = true;
            st->bonus = st->bonus_exact = eval_num(out[i]);
            dec_add(run->paid, out[i], &run->paid);
            if (dec_sign(part->claim) <= 0) part->place = SCORE_POOL_NO_PART;
            else if (m[i].has_cap && dec_cmp(out[i], m[i].cap) == 0 &&
                     !(m[i].has_floor && dec_cmp(out[i], m[i].floor) == 0))
                part->place = SCORE_POOL_AT_CAP;
            else if (m[i].has_floor && dec_cmp(out[i], m[i].floor) == 0) part->place = SCORE_POOL_AT_FLOOR;
            else part->place = SCORE_POOL_PROPORTIONAL;
        }
        dec_sub(rounded, run->paid, &run->undistributed);
    }
    if (status == SCORE_POOL_CAPPED && diags) {
        diagnostic *d = diag_report(
            diags, DIAG_WARNING, at, "pool-capped",
            "pool '%s' in %s: every member with a share is at their cap, so %s of %s is "
            "not paid out",
            pool->name, label, money_text(run->undistributed, a, sizeof a), money_text(rounded, b, sizeof b));
        diag_hint(diags, d, "raise the caps or lower the pool, or decide the rest with an adjustments file");
    }
    if (status == SCORE_POOL_NO_SHARES && diags && dec_sign(rounded) > 0) {
        diagnostic *d =
            diag_report(diags, DIAG_WARNING, at, "pool-unpaid",
                        "pool '%s' in %s: none of its %zu member%s has a share above 0, so none of %s "
                        "is paid out",
                        pool->name, label, n, n == 1 ? "" : "s", money_text(rounded, a, sizeof a));
        diag_hint(diags, d, "a failed gate, or a share of 0 or without a value, takes no part");
    }
    run->failed = !paid;
    free(m);
    free(out);
    return paid;
}

bool score_pool_settle_one(eval_session *s, score_statement *st, const score_adjustments *a, diag_sink *diags)
{
    const ast_decl *pool = st->pool.pool;
    size_t roster_count, period_count;
    const eval_staff *roster = eval_roster(s, &roster_count);
    const period_t *periods = eval_periods(s, &period_count);
    score_statement *others = xcalloc(roster_count + 1, sizeof *others);
    score_statement **members = xcalloc(roster_count + 1, sizeof *members);
    size_t n = 0, other_count = 0;
    for (size_t i = 0; i < roster_count; i++) {
        if ((int)i == st->staff) {
            members[n++] = st;
            continue;
        }
        const eval_staff *who = &roster[i];
        ast_decl *role = NULL;
        for (size_t k = 0; who->role && k < pool->u.pool.roles.len; k++)
            if (!strcmp(((ast_decl *)pool->u.pool.roles.items[k])->name, who->role))
                role = pool->u.pool.roles.items[k];
        if (!role || !eval_staff_is_employed(who, periods[st->period])) continue;
        const score_adjustment **overrides =
            a ? score_adjust_overrides(s, role, st->period, (int)i, a) : NULL;
        score_statement_compute_with(s, role, st->period, (int)i, overrides, &others[other_count]);
        free(overrides);
        members[n++] = &others[other_count++];
    }
    score_pool_run run;
    bool ok = score_pool_settle(s, pool, st->period, members, n, diags, &run);
    for (size_t i = 0; i < other_count; i++) score_statement_free(&others[i]);
    free(others);
    free(members);
    return ok;
}
