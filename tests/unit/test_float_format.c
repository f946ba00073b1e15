/*
 * test_float_format.c -- float32 -> shortest decimal (float_format.c, as the
 * JSON codec writes it) must match, byte for byte, the search it replaced
 * (df_json_format_float_reference). tools/bench/float-format-check proves
 * that for all 2^32 patterns; this runs the samples and edge cases that fit
 * in ctest, and pins the search's choices that differ from Ryu's.
 */
#include <CUnit/CUnit.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "float_format.h"

/* ASan makes the reference (which parses with strtof) several times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define RANDOM_PATTERNS 1000000u
#else
#define RANDOM_PATTERNS 4000000u
#endif

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void) /* xorshift64*: reproducible runs */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static float from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static unsigned mismatches;

/* Compares new and reference text for one pattern and its negation;
 * prints the first few differences. */
static void check_bits(uint32_t bits)
{
    for (int sign = 0; sign < 2; sign++) {
        uint32_t b = bits ^ (sign ? 0x80000000u : 0);
        float f = from_bits(b);
        char got[32], want[32];
        size_t n = df_json_format_float(got, f), m = df_json_format_float_reference(want, f);
        if (n == m && memcmp(got, want, n) == 0) continue;
        if (mismatches++ < 10)
            fprintf(stderr, "\n  0x%08" PRIx32 ": new %.*s, reference %.*s", b, (int)n, got, (int)m,
                    want);
    }
}

static void check_range(uint32_t from, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        check_bits(from + i);
}

static uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_float_format_matches_the_search_on_random_patterns(void)
{
    mismatches = 0;
    for (uint32_t i = 0; i < RANDOM_PATTERNS; i++)
        check_bits((uint32_t)rng());
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_float_format_matches_the_search_on_subnormals_and_extremes(void)
{
    mismatches = 0;
    check_range(0, 70000);              /* zero, the smallest subnormals */
    check_range(0x007f0000u, 0x20000u); /* subnormal -> normal (FLT_MIN) */
    check_range(0x7f7f0000u, 0x10000u); /* up to FLT_MAX */
    check_range(0x7f800000u, 0x10u);    /* inf, NaNs: null */
    check_range(0x4b7f0000u, 0x20000u); /* 2^24: where integers stop being exact */
    check_range(0x4e6e0000u, 0x20000u); /* 1e9: the 10-digit scale */
    check_range(0x1f000000u, 0x10000u); /* ~1e-20: the 154-bit products */
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_float_format_matches_the_search_at_powers_of_two_and_ten(void)
{
    mismatches = 0;
    for (uint32_t exp = 0; exp < 255; exp++)
        for (uint32_t d = 0; d < 8; d++) { /* 2^e and its neighbours */
            check_bits((exp << 23) + d);
            check_bits((exp << 23) - d - 1);
        }
    for (int k = -46; k <= 39; k++) { /* the floats nearest 10^k */
        char text[16];
        snprintf(text, sizeof text, "1e%d", k);
        uint32_t b = bits_of(strtof(text, NULL));
        for (uint32_t d = 0; d < 64; d++) {
            check_bits(b + d);
            check_bits(b - d);
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_float_format_matches_the_search_for_1_to_9_digit_decimals(void)
{
    mismatches = 0;
    for (int digits = 1; digits <= 9; digits++)
        for (int i = 0; i < 20000; i++) {
            uint64_t m = rng() % 1000000000u;
            while (m >= 10 && m >= (uint64_t)pow(10, digits))
                m /= 10;
            char text[48];
            snprintf(text, sizeof text, "%" PRIu64 "e%d", m, (int)(rng() % 90) - 50);
            uint32_t b = bits_of(strtof(text, NULL));
            check_bits(b);
            check_bits(b + 1);
            check_bits(b - 1);
        }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_float_format_matches_the_search_on_decimal_ties(void)
{
    /* Floats whose exact value ends in 5 one digit past a candidate that
     * reads back: 2^21..2^24 steps by 1/4, 1/8 (x.25, x.125, ...), and
     * every float from 2^20 to 2^21 and 2^24 to 2^25 near the start. */
    mismatches = 0;
    check_range(0x4a000000u, 0x40000u); /* 2^21.. step 1/4 */
    check_range(0x49800000u, 0x40000u); /* 2^20.. step 1/8 */
    check_range(0x4b000000u, 0x40000u); /* 2^23.. step 1 (exact integers) */
    check_range(0x4b800000u, 0x40000u); /* 2^24.. step 2 */
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_float_format_decimal_layout_matches_the_former_one(void)
{
    /* digits * 10^e as doubles give them too (up to 17 digits, exponents
     * -340..310), every digit count at every leading exponent near the
     * switch to e-notation, and random ones. */
    unsigned bad = 0;
    for (int i = 0; i < 400000; i++) {
        int nd = 1 + (int)(rng() % 17), zeros = (int)(rng() % 4);
        uint64_t digits = 1 + rng() % 9;
        for (int k = 1; k < nd; k++)
            digits = digits * 10 + (k >= nd - zeros ? 0 : rng() % 10);
        int e = i < 200000 ? (int)(rng() % 40) - 20 - nd : (int)(rng() % 651) - 340;
        int neg = (int)(rng() & 1);
        char got[40], want[40];
        memset(got, 'x', sizeof got);
        size_t n = df_json_format_decimal(got, neg, digits, e);
        size_t m = df_json_format_decimal_reference(want, neg, digits, e);
        if (n == m && memcmp(got, want, n) == 0) continue;
        if (bad++ < 10)
            fprintf(stderr, "\n  %d %" PRIu64 "e%d: new %.*s, reference %.*s", neg, digits, e,
                    (int)n, got, (int)m, want);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void expect_text(float f, const char *want)
{
    char got[32];
    size_t n = df_json_format_float(got, f);
    got[n] = '\0';
    if (strcmp(got, want)) fprintf(stderr, "\n  %.9g written as %s, expected %s", f, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_float_format_keeps_the_search_choices(void)
{
    /* Ties round half up (Ryu and Python's repr say 2097152.2). */
    expect_text(2097152.25f, "2097152.3");
    expect_text(-2097152.75f, "-2097152.8");
    /* At a power of two the search stops at the first length that fails,
     * nearest first: 2^-96 stays at 9 digits though 1.2621775e-29 reads
     * back too (it lies in the wider half of the interval, above). */
    expect_text(from_bits(0x0f800000u), "1.26217745e-29");
    expect_text(from_bits(0x6b000000u), "1.54742505e+26");
    /* The usual ones. */
    expect_text(0.1f, "0.1");
    expect_text(1e-45f, "1e-45");
    expect_text(FLT_MIN, "1.1754944e-38");
    expect_text(FLT_MAX, "3.4028235e+38");
    expect_text(16777216.0f, "16777216");
    expect_text(16777218.0f, "16777218");
    expect_text(1e16f, "1e+16");
    expect_text(123456.7f, "123456.7");
    expect_text(0.0001f, "0.0001");
    expect_text(-0.0f, "-0");
    expect_text(NAN, "null");
    expect_text(-INFINITY, "null");
}

void df_test_register(void)
{
#define TEST(fn)                                                                                   \
    {                                                                                              \
#fn, fn                                                                                    \
    }
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        TEST(test_float_format_matches_the_search_on_random_patterns),
        TEST(test_float_format_matches_the_search_on_subnormals_and_extremes),
        TEST(test_float_format_matches_the_search_at_powers_of_two_and_ten),
        TEST(test_float_format_matches_the_search_for_1_to_9_digit_decimals),
        TEST(test_float_format_matches_the_search_on_decimal_ties),
        TEST(test_float_format_keeps_the_search_choices),
        TEST(test_float_format_decimal_layout_matches_the_former_one),
    };
    CU_pSuite suite = CU_add_suite("float_format", NULL, NULL);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
}
