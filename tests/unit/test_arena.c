/*
 * test_arena.c -- the bump allocator behind request memory: alignment,
 * large allocations, reset and reuse, realloc, and the string helpers.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "docflow/arena.h"

static int aligned16(const void *p)
{
    return ((uintptr_t)p % 16) == 0;
}

static void test_arena_alloc_is_16_byte_aligned_for_odd_sizes(void)
{
    df_arena *a = df_arena_new(0);
    static const size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 33, 100, 1000, 5000};
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            CU_ASSERT(aligned16(df_arena_alloc(a, sizes[i])));
    df_arena_free(a);
}

static void test_arena_allocations_do_not_overlap(void)
{
    df_arena *a = df_arena_new(64);
    unsigned char *p[200];
    for (int i = 0; i < 200; i++) {
        p[i] = df_arena_alloc(a, 24);
        memset(p[i], i, 24);
    }
    int intact = 1;
    for (int i = 0; i < 200; i++)
        for (int k = 0; k < 24; k++)
            if (p[i][k] != (unsigned char)i) intact = 0;
    CU_ASSERT(intact);
    df_arena_free(a);
}

static void test_arena_large_allocation_is_usable_and_counted(void)
{
    df_arena *a = df_arena_new(1024);
    size_t big = 8u << 20;
    unsigned char *p = df_arena_alloc(a, big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(aligned16(p));
    memset(p, 0x5a, big);
    CU_ASSERT_EQUAL(p[0], 0x5a);
    CU_ASSERT_EQUAL(p[big - 1], 0x5a);
    CU_ASSERT(df_arena_used(a) >= big);
    df_arena_free(a);
}

static void test_arena_small_allocations_survive_a_large_one(void)
{
    df_arena *a = df_arena_new(256);
    char *before = df_arena_strdup(a, "before");
    unsigned char *big = df_arena_alloc(a, 1u << 20);
    memset(big, 0xff, 1u << 20);
    char *after = df_arena_strdup(a, "after");
    CU_ASSERT_STRING_EQUAL(before, "before");
    CU_ASSERT_STRING_EQUAL(after, "after");
    CU_ASSERT(after < (char *)big || after >= (char *)big + (1u << 20));
    df_arena_free(a);
}

static void test_arena_used_counts_every_allocation(void)
{
    df_arena *a = df_arena_new(0);
    CU_ASSERT_EQUAL(df_arena_used(a), 0);
    df_arena_alloc(a, 1);
    size_t after_one = df_arena_used(a);
    CU_ASSERT(after_one >= 1);
    df_arena_alloc(a, 17);
    CU_ASSERT(df_arena_used(a) >= after_one + 17);
    df_arena_free(a);
}

static void test_arena_reset_reuses_memory_and_clears_usage(void)
{
    df_arena *a = df_arena_new(4096);
    void *first = df_arena_alloc(a, 100);
    df_arena_alloc(a, 200);
    CU_ASSERT(df_arena_used(a) > 0);
    df_arena_reset(a);
    CU_ASSERT_EQUAL(df_arena_used(a), 0);
    CU_ASSERT_PTR_EQUAL(df_arena_alloc(a, 100), first);
    df_arena_free(a);
}

static void test_arena_reset_keeps_the_largest_block(void)
{
    df_arena *a = df_arena_new(1024);
    df_arena_alloc(a, 64);
    void *big = df_arena_alloc(a, 1u << 20);
    df_arena_alloc(a, 64);
    df_arena_reset(a);
    /* Half the big block fits in the kept block: no new malloc, same start. */
    CU_ASSERT_PTR_EQUAL(df_arena_alloc(a, 1u << 19), big);
    df_arena_free(a);
}

static void test_arena_calloc_zeroes_reused_memory(void)
{
    df_arena *a = df_arena_new(4096);
    unsigned char *dirty = df_arena_alloc(a, 256);
    memset(dirty, 0xab, 256);
    df_arena_reset(a);
    unsigned char *clean = df_arena_calloc(a, 256);
    CU_ASSERT_PTR_EQUAL(clean, dirty);
    int zero = 1;
    for (int i = 0; i < 256; i++)
        if (clean[i]) zero = 0;
    CU_ASSERT(zero);
    df_arena_free(a);
}

static void test_arena_realloc_grows_by_copying(void)
{
    df_arena *a = df_arena_new(0);
    char *old = df_arena_alloc(a, 8);
    memcpy(old, "abcdefg", 8);
    char *grown = df_arena_realloc(a, old, 8, 4096);
    CU_ASSERT_PTR_NOT_EQUAL(grown, old);
    CU_ASSERT_STRING_EQUAL(grown, "abcdefg");
    CU_ASSERT_STRING_EQUAL(old, "abcdefg"); /* arenas never free the old copy */
    memset(grown + 8, 'z', 4096 - 8);       /* the new size is all usable */
    CU_ASSERT(aligned16(grown));
    df_arena_free(a);
}

static void test_arena_realloc_to_smaller_keeps_the_block(void)
{
    df_arena *a = df_arena_new(0);
    char *old = df_arena_alloc(a, 64);
    CU_ASSERT_PTR_EQUAL(df_arena_realloc(a, old, 64, 16), old);
    df_arena_free(a);
}

static void test_arena_realloc_from_null_allocates(void)
{
    df_arena *a = df_arena_new(0);
    char *p = df_arena_realloc(a, NULL, 0, 32);
    CU_ASSERT_PTR_NOT_NULL(p);
    memset(p, 1, 32);
    df_arena_free(a);
}

static void test_arena_memdup_copies_bytes_including_nul(void)
{
    df_arena *a = df_arena_new(0);
    const char src[5] = {'a', '\0', 'b', '\0', 'c'};
    char *p = df_arena_memdup(a, src, sizeof src);
    CU_ASSERT_PTR_NOT_EQUAL(p, src);
    CU_ASSERT_EQUAL(memcmp(p, src, sizeof src), 0);
    CU_ASSERT_PTR_NOT_NULL(df_arena_memdup(a, src, 0));
    df_arena_free(a);
}

static void test_arena_strdup_copies_and_null_stays_null(void)
{
    df_arena *a = df_arena_new(0);
    char buf[] = "hello";
    char *p = df_arena_strdup(a, buf);
    buf[0] = 'J';
    CU_ASSERT_STRING_EQUAL(p, "hello");
    CU_ASSERT_PTR_NULL(df_arena_strdup(a, NULL));
    CU_ASSERT_PTR_NULL(df_arena_strndup(a, NULL, 3));
    df_arena_free(a);
}

static void test_arena_strndup_stops_at_n_and_terminates(void)
{
    df_arena *a = df_arena_new(0);
    char *p = df_arena_strndup(a, "hello world", 5);
    CU_ASSERT_STRING_EQUAL(p, "hello");
    CU_ASSERT_EQUAL(p[5], '\0');
    df_arena_free(a);
}

static void test_arena_printf_formats_long_strings(void)
{
    df_arena *a = df_arena_new(64);
    char *p = df_arena_printf(a, "%s/%d/%05.1f", "ws", 42, 3.14159);
    CU_ASSERT_STRING_EQUAL(p, "ws/42/003.1");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *q = df_arena_printf(a, "<%s>", big);
    CU_ASSERT_EQUAL(strlen(q), sizeof big + 1);
    CU_ASSERT_EQUAL(q[0], '<');
    CU_ASSERT_EQUAL(q[sizeof big], '>');
    df_arena_free(a);
}

static void test_arena_free_accepts_null(void)
{
    df_arena_free(NULL);
    CU_PASS("df_arena_free(NULL) returned");
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("arena", NULL, NULL);
    CU_add_test(s, "alloc is 16-byte aligned for odd sizes",
                test_arena_alloc_is_16_byte_aligned_for_odd_sizes);
    CU_add_test(s, "allocations do not overlap", test_arena_allocations_do_not_overlap);
    CU_add_test(s, "large allocation is usable and counted",
                test_arena_large_allocation_is_usable_and_counted);
    CU_add_test(s, "small allocations survive a large one",
                test_arena_small_allocations_survive_a_large_one);
    CU_add_test(s, "used counts every allocation", test_arena_used_counts_every_allocation);
    CU_add_test(s, "reset reuses memory and clears usage",
                test_arena_reset_reuses_memory_and_clears_usage);
    CU_add_test(s, "reset keeps the largest block", test_arena_reset_keeps_the_largest_block);
    CU_add_test(s, "calloc zeroes reused memory", test_arena_calloc_zeroes_reused_memory);
    CU_add_test(s, "realloc grows by copying", test_arena_realloc_grows_by_copying);
    CU_add_test(s, "realloc to smaller keeps the block",
                test_arena_realloc_to_smaller_keeps_the_block);
    CU_add_test(s, "realloc from NULL allocates", test_arena_realloc_from_null_allocates);
    CU_add_test(s, "memdup copies bytes including NUL",
                test_arena_memdup_copies_bytes_including_nul);
    CU_add_test(s, "strdup copies; NULL stays NULL", test_arena_strdup_copies_and_null_stays_null);
    CU_add_test(s, "strndup stops at n and terminates",
                test_arena_strndup_stops_at_n_and_terminates);
    CU_add_test(s, "printf formats long strings", test_arena_printf_formats_long_strings);
    CU_add_test(s, "free accepts NULL", test_arena_free_accepts_null);
}
