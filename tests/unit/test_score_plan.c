/* Unit tests for score_plan.c: a bonus pool divided to the cent, with caps, floors and
 * the redistribution of what a cap cuts off (hand-computed cases, then random pools
 * whose parts must add up to the pool exactly); ranks and grades by quota, with ties,
 * small teams and members who are not ranked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/score.h"

static dec_t D(const char *text)
{
    dec_t d;
    assert_int_equal(dec_parse(text, strlen(text), 18, &d), DEC_OK);
    return d;
}

static void assert_dec(dec_t v, const char *want)
{
    assert_int_equal(dec_cmp(v, D(want)), 0);
}

static score_pool_member share(const char *s)
{
    score_pool_member m;
    memset(&m, 0, sizeof m);
    m.share = D(s);
    return m;
}

static score_pool_member bounded(const char *s, const char *floor, const char *cap)
{
    score_pool_member m = share(s);
    if (floor) {
        m.has_floor = true;
        m.floor = D(floor);
    }
    if (cap) {
        m.has_cap = true;
        m.cap = D(cap);
    }
    return m;
}

/* 100.00 in three equal shares: 33.33 each and one cent left, which goes to the first
 * listed (the remainders tie). */
static void test_equal_shares_tie(void **state)
{
    (void)state;
    score_pool_member m[] = { share("1"), share("1"), share("1") };
    dec_t out[3], left;
    assert_int_equal(score_pool_distribute(D("100"), m, 3, out, &left), SCORE_POOL_OK);
    assert_dec(out[0], "33.34");
    assert_dec(out[1], "33.33");
    assert_dec(out[2], "33.33");
    assert_dec(left, "0");
}

/* 150,000 for shares 1:2:3 is 25,000 / 50,000 / 75,000; with a cap of 55,000 the third
 * is cut to 55,000 and its 20,000 goes 1:2 to the others: 31,666.67 / 63,333.33, and
 * the second is over the cap too: 55,000, so the first takes the rest, 40,000. */
static void test_cap_redistribution(void **state)
{
    (void)state;
    score_pool_member m[] = { bounded("1", NULL, "55000"), bounded("2", NULL, "55000"),
                              bounded("3", NULL, "55000") };
    dec_t out[3], left;
    assert_int_equal(score_pool_distribute(D("150000"), m, 3, out, &left), SCORE_POOL_OK);
    assert_dec(out[0], "40000");
    assert_dec(out[1], "55000");
    assert_dec(out[2], "55000");
}

/* 1,000 for 1:9 is 100 / 900; a floor of 200 lifts the first, the second gets 800. */
static void test_floor(void **state)
{
    (void)state;
    score_pool_member m[] = { bounded("1", "200", NULL), bounded("9", "200", NULL) };
    dec_t out[2], left;
    assert_int_equal(score_pool_distribute(D("1000"), m, 2, out, &left), SCORE_POOL_OK);
    assert_dec(out[0], "200");
    assert_dec(out[1], "800");
}

/* 100 for 1:1:8 with floors of 20 and a cap of 50 on the third: proportional parts
 * 10 / 10 / 80 exceed the cap by 30 and miss the floors by 20, so the cap is fixed
 * first (fixing the floors first would pay 20 / 20 / 50 = 90): 25 / 25 / 50. */
static void test_cap_before_floor(void **state)
{
    (void)state;
    score_pool_member m[] = { bounded("1", "20", NULL), bounded("1", "20", NULL), bounded("8", "20", "50") };
    dec_t out[3], left;
    assert_int_equal(score_pool_distribute(D("100"), m, 3, out, &left), SCORE_POOL_OK);
    assert_dec(out[0], "25");
    assert_dec(out[1], "25");
    assert_dec(out[2], "50");
}

/* a share of 0 (a failed gate) takes no part and no floor */
static void test_zero_share(void **state)
{
    (void)state;
    score_pool_member m[] = { bounded("0", "500", NULL), share("2"), share("1") };
    dec_t out[3], left;
    assert_int_equal(score_pool_distribute(D("10"), m, 3, out, &left), SCORE_POOL_OK);
    assert_dec(out[0], "0");
    assert_dec(out[1], "6.67");
    assert_dec(out[2], "3.33");
}

static void test_limits(void **state)
{
    (void)state;
    dec_t out[2], left;
    score_pool_member capped[] = { bounded("1", NULL, "300"), bounded("1", NULL, "300") };
    assert_int_equal(score_pool_distribute(D("1000"), capped, 2, out, &left), SCORE_POOL_CAPPED);
    assert_dec(out[0], "300");
    assert_dec(out[1], "300");
    assert_dec(left, "400");
    score_pool_member floors[] = { bounded("1", "60", NULL), bounded("1", "60", NULL) };
    assert_int_equal(score_pool_distribute(D("100"), floors, 2, out, &left), SCORE_POOL_FLOORS_EXCEED);
    assert_dec(out[0], "0");
    score_pool_member none[] = { share("0"), share("0") };
    assert_int_equal(score_pool_distribute(D("100"), none, 2, out, &left), SCORE_POOL_NO_SHARES);
    assert_dec(left, "100");
    score_pool_member plain[] = { share("1"), share("1") };
    assert_int_equal(score_pool_distribute(D("10.001"), plain, 2, out, &left), SCORE_POOL_INVALID);
    assert_int_equal(score_pool_distribute(D("-1"), plain, 2, out, &left), SCORE_POOL_INVALID);
    score_pool_member upside[] = { bounded("1", "50", "40"), share("1") };
    assert_int_equal(score_pool_distribute(D("100"), upside, 2, out, &left), SCORE_POOL_INVALID);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random decimal with up to PLACES places below LIMIT. */
static dec_t random_dec(uint64_t limit, unsigned places)
{
    char text[64];
    uint64_t whole = next_random() % limit, frac = next_random() % 10000;
    if (places == 0) snprintf(text, sizeof text, "%llu", (unsigned long long)whole);
    else
        snprintf(text, sizeof text, "%llu.%0*llu", (unsigned long long)whole, (int)places,
                 (unsigned long long)(frac % (places == 2 ? 100 : 10000)));
    return D(text);
}

/* Random pools: whatever the shares, caps and floors, the parts are in cents, within
 * their bounds, add up to the pool exactly (less what caps leave over), and the same
 * input gives the same parts. */
static void test_random_pools_are_exact(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + next_random() % 40;
        score_pool_member m[40];
        for (size_t i = 0; i < n; i++) {
            memset(&m[i], 0, sizeof m[i]);
            m[i].share = next_random() % 10 == 0 ? dec_from_int64(0) : random_dec(500000, 4);
            if (next_random() % 3 == 0) {
                m[i].has_cap = true;
                m[i].cap = random_dec(20000, 2);
            }
            if (next_random() % 4 == 0) {
                m[i].has_floor = true;
                m[i].floor = random_dec(2000, 2);
                if (m[i].has_cap && dec_cmp(m[i].floor, m[i].cap) > 0) m[i].floor = m[i].cap;
            }
        }
        dec_t amount = random_dec(400000, 2), out[40], again[40], left, left2;
        score_pool_status st = score_pool_distribute(amount, m, n, out, &left);
        assert_int_equal(score_pool_distribute(amount, m, n, again, &left2), st);
        assert_memory_equal(out, again, n * sizeof *out);
        if (st == SCORE_POOL_FLOORS_EXCEED) continue;
        assert_true(st == SCORE_POOL_OK || st == SCORE_POOL_CAPPED || st == SCORE_POOL_NO_SHARES);
        dec_t sum = left;
        for (size_t i = 0; i < n; i++) {
            dec_t cents;
            assert_int_equal(dec_round(out[i], 2, &cents), DEC_OK);
            assert_int_equal(dec_cmp(cents, out[i]), 0);
            if (dec_sign(m[i].share) == 0) assert_int_equal(dec_sign(out[i]), 0);
            else if (m[i].has_floor) assert_true(dec_cmp(out[i], m[i].floor) >= 0);
            if (m[i].has_cap) assert_true(dec_cmp(out[i], m[i].cap) <= 0);
            assert_int_equal(dec_add(sum, out[i], &sum), DEC_OK);
        }
        assert_int_equal(dec_cmp(sum, amount), 0);
        if (st == SCORE_POOL_OK) assert_int_equal(dec_sign(left), 0);
    }
}

/* ---- forced distribution ---- */

static const char *grades_of(const char *const *scores, const bool *rankable, size_t n, int *rank)
{
    static char letters[64];
    eval_value v[32];
    bool all[32];
    for (size_t i = 0; i < n; i++) {
        v[i] = scores[i] ? eval_num(D(scores[i])) : eval_null();
        all[i] = rankable ? rankable[i] : true;
    }
    dec_t quotas[3] = { D("0.2"), D("0.7"), D("0") }; /* A top 20%, B next 70%, C rest */
    int grade[32];
    assert_int_equal(score_grade_assign(v, all, n, quotas, 3, rank, grade), SCORE_GRADE_OK);
    for (size_t i = 0; i < n; i++) letters[i] = (char)('A' + grade[i]);
    letters[n] = '\0';
    return letters;
}

/* 5 people: A takes round(5 × 20%) = 1; A+B take round(5 × 90%) = round(4.5) = 5 (half
 * up), so C is empty. */
static void test_grades_five(void **state)
{
    (void)state;
    const char *s[] = { "50", "90", "70", "80", "60" };
    int rank[5];
    assert_string_equal(grades_of(s, NULL, 5, rank), "BABBB");
    assert_int_equal(rank[0], 5);
    assert_int_equal(rank[1], 1);
    assert_int_equal(rank[3], 2);
}

/* 10 people: A 2, B 9 − 2 = 7, C the last one. */
static void test_grades_ten(void **state)
{
    (void)state;
    const char *s[] = { "100", "99", "98", "97", "96", "95", "94", "93", "92", "91" };
    int rank[10];
    assert_string_equal(grades_of(s, NULL, 10, rank), "AABBBBBBBC");
}

/* a tie at the A boundary: both 90s are A (the tie exceeds the quota of 1), and 80 has
 * rank 3 */
static void test_grades_tie(void **state)
{
    (void)state;
    const char *s[] = { "90", "80", "90", "70", "60" };
    int rank[5];
    assert_string_equal(grades_of(s, NULL, 5, rank), "ABABB");
    assert_int_equal(rank[0], 1);
    assert_int_equal(rank[2], 1);
    assert_int_equal(rank[1], 3);
    const char *same[] = { "75", "75", "75", "75" };
    assert_string_equal(grades_of(same, NULL, 4, rank), "AAAA");
}

/* 2 ranked people: round(2 × 20%) = 0, but the top grade keeps one; A+B = round(1.8) =
 * 2. No score and a failed gate are not ranked (rank 0) and get the last grade. */
static void test_grades_small_and_unranked(void **state)
{
    (void)state;
    const char *s[] = { "80", NULL, "95", "99" };
    bool rankable[] = { true, true, true, false };
    int rank[4];
    assert_string_equal(grades_of(s, rankable, 4, rank), "BCAC");
    assert_int_equal(rank[1], 0);
    assert_int_equal(rank[3], 0);
    assert_int_equal(rank[2], 1);
    assert_int_equal(rank[0], 2);
}

static void test_grades_invalid(void **state)
{
    (void)state;
    eval_value v[1] = { eval_num(D("1")) };
    bool yes[1] = { true };
    int rank[1], grade[1];
    dec_t over[3] = { D("0.6"), D("0.5"), D("0") };
    assert_int_equal(score_grade_assign(v, yes, 1, over, 3, rank, grade), SCORE_GRADE_INVALID);
    assert_int_equal(score_grade_assign(v, yes, 1, over, 0, rank, grade), SCORE_GRADE_INVALID);
}

/* The cut-offs explain shows: 5 × 20% = 1 and 5 × 90% = 4.5 → 5; 7 × 25% = 1.75 → 2 and
 * 7 × 75% = 5.25 → 5; 2 × 20% = 0.4 → 0, kept at 1 for the top grade; none ranked: 0. */
static void test_grade_bounds(void **state)
{
    (void)state;
    size_t bound[3];
    dec_t five[3] = { D("0.2"), D("0.7"), D("0") };
    assert_int_equal(score_grade_bounds(five, 3, 5, bound), SCORE_GRADE_OK);
    assert_int_equal(bound[0], 1);
    assert_int_equal(bound[1], 5);
    assert_int_equal(bound[2], 5);
    dec_t quarter[3] = { D("0.25"), D("0.5"), D("0") };
    assert_int_equal(score_grade_bounds(quarter, 3, 7, bound), SCORE_GRADE_OK);
    assert_int_equal(bound[0], 2);
    assert_int_equal(bound[1], 5);
    assert_int_equal(bound[2], 7);
    assert_int_equal(score_grade_bounds(five, 3, 2, bound), SCORE_GRADE_OK);
    assert_int_equal(bound[0], 1);
    assert_int_equal(bound[1], 2);
    assert_int_equal(score_grade_bounds(five, 3, 0, bound), SCORE_GRADE_OK);
    assert_int_equal(bound[0], 0);
    assert_int_equal(bound[2], 0);
    assert_int_equal(score_grade_bounds(five, 0, 5, bound), SCORE_GRADE_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_shares_tie),
        cmocka_unit_test(test_cap_redistribution),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_cap_before_floor),
        cmocka_unit_test(test_zero_share),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_random_pools_are_exact),
        cmocka_unit_test(test_grades_five),
        cmocka_unit_test(test_grades_ten),
        cmocka_unit_test(test_grades_tie),
        cmocka_unit_test(test_grades_small_and_unranked),
        cmocka_unit_test(test_grades_invalid),
        cmocka_unit_test(test_grade_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
