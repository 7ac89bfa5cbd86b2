/* Unit tests for the hash tables: u64 → u32 maps (absent keys, replacement, growth past
 * many doublings with keys that differ only in high bits) and string interning (ids in
 * order of first sight, binary strings with NUL bytes, lookups of absent strings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/hash.h"

static void test_hmap_basic(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m);
    assert_int_equal(hmap_get(&m, 42), HMAP_NONE);
    hmap_put(&m, 42, 7);
    assert_int_equal(hmap_get(&m, 42), 7);
    hmap_put(&m, 42, 9); /* replaces */
    assert_int_equal(hmap_get(&m, 42), 9);
    assert_int_equal(m.len, 1);
    assert_int_equal(hmap_get_or_put(&m, 42, 1), 9); /* present: unchanged */
    assert_int_equal(hmap_get_or_put(&m, 0, 5), HMAP_NONE);
    assert_int_equal(hmap_get(&m, 0), 5); /* key 0 is an ordinary key */
    assert_int_equal(hmap_get(&m, UINT64_MAX), HMAP_NONE);
    hmap_free(&m);
}

static void test_hmap_growth(void **state)
{
    (void)state;
    hmap m;
    hmap_init(&m);
    /* consecutive integers and keys that differ only above bit 32: both must spread */
    enum { N = 100000 };
    for (uint64_t i = 0; i < N; i++) {
        hmap_put(&m, i, (uint32_t)i);
        hmap_put(&m, i << 33, (uint32_t)(N + i));
    }
    assert_int_equal(m.len, 2 * N - 1);  /* 0 << 33 == 0 was put twice */
    assert_true(m.len * 4 <= m.cap * 3); /* grown before ¾ load */
    for (uint64_t i = 1; i < N; i++) {
        assert_int_equal(hmap_get(&m, i), i);
        assert_int_equal(hmap_get(&m, i << 33), N + i);
    }
    assert_int_equal(hmap_get(&m, 0), N);
    assert_int_equal(hmap_get(&m, (uint64_t)N), HMAP_NONE);
    size_t seen = 0;
    for (size_t s = 0; s < m.cap; s++) seen += m.slots[s].val != HMAP_NONE;
    assert_int_equal(seen, m.len);
    hmap_free(&m);
}

static void test_strtab(void **state)
{
    (void)state;
    strtab t;
    strtab_init(&t);
    assert_int_equal(strtab_find(&t, "a", 1), HMAP_NONE);
    assert_int_equal(strtab_intern(&t, "alpha", 5), 0);
    assert_int_equal(strtab_intern(&t, "beta", 4), 1);
    assert_int_equal(strtab_intern(&t, "alpha", 5), 0);
    assert_int_equal(strtab_intern(&t, "alph", 4), 2); /* a prefix is another string */
    assert_int_equal(strtab_intern(&t, "", 0), 3);
    static const char nul1[] = { 'a', 0, 'b' }, nul2[] = { 'a', 0, 'c' };
    assert_int_equal(strtab_intern(&t, nul1, 3), 4);
    assert_int_equal(strtab_intern(&t, nul2, 3), 5); /* differs after the NUL */
    assert_int_equal(strtab_find(&t, nul1, 3), 4);
    assert_int_equal(strtab_len(&t, 4), 3);
    assert_memory_equal(strtab_str(&t, 4), nul1, 3);
    assert_string_equal(strtab_str(&t, 1), "beta");
    assert_int_equal(strtab_find_hashed(&t, "beta", 4, hash_bytes("beta", 4)), 1);
    assert_int_equal(strtab_find(&t, "gamma", 5), HMAP_NONE);

    char buf[32];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(buf, sizeof buf, "key-%d", i);
        assert_int_equal(strtab_intern(&t, buf, (size_t)n), 6 + i);
    }
    for (int i = 0; i < 50000; i += 997) {
        int n = snprintf(buf, sizeof buf, "key-%d", i);
        assert_int_equal(strtab_find(&t, buf, (size_t)n), 6 + i);
        assert_string_equal(strtab_str(&t, 6 + (uint32_t)i), buf);
    }
    strtab_free(&t);
}

static void test_hash_spread(void **state)
{
    (void)state;
    /* equal bytes hash equally; one changed byte or length changes the hash */
    assert_true(hash_bytes("abc", 3) == hash_bytes("abc", 3));
    assert_true(hash_bytes("abc", 3) != hash_bytes("abd", 3));
    assert_true(hash_bytes("abc", 3) != hash_bytes("abc", 2));
    assert_true(hash_u64(1) != hash_u64(2));
    assert_true((hash_u64(1) ^ hash_u64(2)) >> 32 != 0); /* high bits move too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmap_basic),
        cmocka_unit_test(test_hmap_growth),
        cmocka_unit_test(test_strtab),
        cmocka_unit_test(test_hash_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
