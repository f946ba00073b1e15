/*
 * float_format.c -- the shortest decimal digits of a float32, computed
 * directly with exact integer arithmetic (for the JSON codec).
 *
 * The codec used to find them by search: the nearest 9-digit decimal, then
 * the nearest 8-, 7-, ... digit ones while each still read back as the
 * float (parsed back, strtof as the last resort). That cost about half of
 * JSON encoding. Here nothing is parsed: the float's value and the two ends
 * of its rounding interval (the midpoints to its neighbours) are scaled by
 * 10^k to about 9 digits and computed exactly, as an integer part and a
 * fraction; a candidate reads back exactly when it lies in that interval
 * (ends included when the float's significand is even: ties go to even).
 *
 * The answer is the search's, byte for byte, for all 2^32 bit patterns
 * (tools/bench/float_format_check.c checked; tests/unit/test_float_format.c
 * checks samples in ctest). That is why it keeps two of the search's
 * choices that Ryu and Schubfach make differently:
 * - the last digit rounds half up: 2097152.25f -> 2097152.3 (Ryu: .2);
 * - shorter candidates are tried only while every longer one reads back,
 *   nearest first. At a power of two the interval is half as wide below
 *   as above, so a nearest candidate below may fail while a shorter one
 *   above would pass; the search never saw that one, neither do we.
 *
 * Not for: doubles (json_codec.c still searches for them), parsing, the
 * text layout (json_codec.c's fmt_decimal).
 */
#include "float_format.h"

#include <string.h>

typedef unsigned __int128 u128;

#define P5(hi, lo) (((u128)(hi) << 64) | (lo))

/* 5^0 .. 5^53: the largest k is 8 - floor(log10(2^-149)) = 53. */
static const u128 pow5[54] = {
    P5(0x0u, 0x0000000000000001u),               /* 5^0 */
    P5(0x0u, 0x0000000000000005u),               /* 5^1 */
    P5(0x0u, 0x0000000000000019u),               /* 5^2 */
    P5(0x0u, 0x000000000000007du),               /* 5^3 */
    P5(0x0u, 0x0000000000000271u),               /* 5^4 */
    P5(0x0u, 0x0000000000000c35u),               /* 5^5 */
    P5(0x0u, 0x0000000000003d09u),               /* 5^6 */
    P5(0x0u, 0x000000000001312du),               /* 5^7 */
    P5(0x0u, 0x000000000005f5e1u),               /* 5^8 */
    P5(0x0u, 0x00000000001dcd65u),               /* 5^9 */
    P5(0x0u, 0x00000000009502f9u),               /* 5^10 */
    P5(0x0u, 0x0000000002e90eddu),               /* 5^11 */
    P5(0x0u, 0x000000000e8d4a51u),               /* 5^12 */
    P5(0x0u, 0x0000000048c27395u),               /* 5^13 */
    P5(0x0u, 0x000000016bcc41e9u),               /* 5^14 */
    P5(0x0u, 0x000000071afd498du),               /* 5^15 */
    P5(0x0u, 0x0000002386f26fc1u),               /* 5^16 */
    P5(0x0u, 0x000000b1a2bc2ec5u),               /* 5^17 */
    P5(0x0u, 0x000003782dace9d9u),               /* 5^18 */
    P5(0x0u, 0x00001158e460913du),               /* 5^19 */
    P5(0x0u, 0x000056bc75e2d631u),               /* 5^20 */
    P5(0x0u, 0x0001b1ae4d6e2ef5u),               /* 5^21 */
    P5(0x0u, 0x000878678326eac9u),               /* 5^22 */
    P5(0x0u, 0x002a5a058fc295edu),               /* 5^23 */
    P5(0x0u, 0x00d3c21bcecceda1u),               /* 5^24 */
    P5(0x0u, 0x0422ca8b0a00a425u),               /* 5^25 */
    P5(0x0u, 0x14adf4b7320334b9u),               /* 5^26 */
    P5(0x0u, 0x6765c793fa10079du),               /* 5^27 */
    P5(0x2u, 0x04fce5e3e2502611u),               /* 5^28 */
    P5(0xau, 0x18f07d736b90be55u),               /* 5^29 */
    P5(0x32u, 0x7cb2734119d3b7a9u),              /* 5^30 */
    P5(0xfcu, 0x6f7c40458122964du),              /* 5^31 */
    P5(0x4eeu, 0x2d6d415b85acef81u),             /* 5^32 */
    P5(0x18a6u, 0xe32246c99c60ad85u),            /* 5^33 */
    P5(0x7b42u, 0x6fab61f00de36399u),            /* 5^34 */
    P5(0x2684cu, 0x2e58e9b04570f1fdu),           /* 5^35 */
    P5(0xc097cu, 0xe7bc90715b34b9f1u),           /* 5^36 */
    P5(0x3c2f70u, 0x86aed236c807a1b5u),          /* 5^37 */
    P5(0x12ced32u, 0xa16a1b11e8262889u),         /* 5^38 */
    P5(0x5e0a1fdu, 0x2712875988becaadu),         /* 5^39 */
    P5(0x1d6329f1u, 0xc35ca4bfabb9f561u),        /* 5^40 */
    P5(0x92efd1b8u, 0xd0cf37be5aa1cae5u),        /* 5^41 */
    P5(0x2deaf189cu, 0x140c16b7c528f679u),       /* 5^42 */
    P5(0xe596b7b0cu, 0x643c7196d9ccd05du),       /* 5^43 */
    P5(0x47bf19673du, 0xf52e37f2410011d1u),      /* 5^44 */
    P5(0x166bb7f0435u, 0xc9e717bb45005915u),     /* 5^45 */
    P5(0x701a97b150cu, 0xf18376a85901bd69u),     /* 5^46 */
    P5(0x23084f676940u, 0xb7915149bd08b30du),    /* 5^47 */
    P5(0xaf298d050e43u, 0x95d69670b12b7f41u),    /* 5^48 */
    P5(0x36bcfc1194751u, 0xed30f03375d97c45u),   /* 5^49 */
    P5(0x111b0ec57e6499u, 0xa1f4b1014d3f6d59u),  /* 5^50 */
    P5(0x558749db77f700u, 0x29c77506823d22bdu),  /* 5^51 */
    P5(0x1aba4714957d300u, 0xd0e549208b31adb1u), /* 5^52 */
    P5(0x85a36366eb71f04u, 0x147a6da2b7f86475u), /* 5^53 */
};

static const uint64_t pow10[11] = {1u,         10u,         100u,        1000u,
                                   10000u,     100000u,     1000000u,    10000000u,
                                   100000000u, 1000000000u, 10000000000u};

/* An exact non-negative rational as its integer part and what the
 * candidate checks need to know of its fraction. */
typedef struct scaled {
    uint64_t floor;
    int frac_zero; /* the fraction is 0 */
    int frac_half; /* the fraction is >= 1/2 */
} scaled;

/* p / 2^s (s >= 1) split into integer part and fraction. */
static inline scaled split_u128(u128 p, int s)
{
    u128 frac = p & (((u128)1 << s) - 1);
    return (scaled){(uint64_t)(p >> s), frac == 0, (int)((frac >> (s - 1)) & 1)};
}

/* m * 2^e * 10^k exactly, for m < 2^27 and the e, k of a float scaled to
 * at most 10 digits. Three cases by the size of 5^k: */
static scaled scale_exact(uint64_t m, int e, int k)
{
    int t = e + k; /* m * 5^k * 2^t */
    if (k < 0) {
        /* Values of 1e9 and more: t >= 4 here, m << t < 2^99, and
         * 5^-k <= 5^30, so one 128-bit division gives it all. */
        u128 n = (u128)m << t, d = pow5[-k];
        u128 q = n / d, r = n - q * d;
        return (scaled){(uint64_t)q, r == 0, r >= d - r};
    }
    if (k < 28) {
        /* 5^k < 2^64: a 64x64-bit product, the common case (values from
         * about 1e-19 to 1e9). */
        u128 p = (u128)m * (uint64_t)pow5[k];
        if (t >= 0) return (scaled){(uint64_t)(p << t), 1, 0};
        return split_u128(p, -t);
    }
    /* Below about 1e-19: m * 5^k takes up to 154 bits, hi:w0, and the
     * integer part stays under 2^36. */
    u128 lo = (u128)m * (uint64_t)pow5[k];
    u128 hi = (u128)m * (uint64_t)(pow5[k] >> 64) + (uint64_t)(lo >> 64);
    uint64_t w0 = (uint64_t)lo;
    if ((uint64_t)(hi >> 64) == 0) return split_u128(hi << 64 | w0, -t);
    scaled r = split_u128(hi, -t - 64); /* -t > 92 here */
    r.frac_zero &= w0 == 0;
    return r;
}

/* Whether candidate c, at the scale of `hi` and `lo`, reads back as the
 * float: above the value (`up`), it must not pass the upper end; else it
 * must not pass the lower end. */
static inline int reads_back(uint64_t c, int up, const scaled *hi, const scaled *lo, int inclusive)
{
    if (up) return c < hi->floor || (c == hi->floor && (inclusive || !hi->frac_zero));
    return c > lo->floor || (c == lo->floor && inclusive && lo->frac_zero);
}

void df_float_shortest(float af, uint64_t *digits, int *e)
{
    uint32_t bits;
    memcpy(&bits, &af, sizeof bits);
    uint32_t biased = (bits >> 23) & 0xff, fraction = bits & 0x7fffff;
    uint64_t m2 = biased ? fraction | 0x800000u : fraction; /* af = m2 * 2^e2 */
    int e2 = biased ? (int)biased - 150 : -149;

    /* x0: floor(log10(af)) or one less (78913 / 2^18 ~ log10(2), exact
     * enough for every float exponent); k scales af to 9 or 10 digits. */
    int log2_floor = e2 + 63 - __builtin_clzll(m2);
    int x0 = (int)(((int64_t)log2_floor * 78913) >> 18);
    int k = 8 - x0;

    /* In quarter units of 2^e2: the value and the ends of its interval,
     * which is narrower below at a power of two (but not at the smallest
     * normal, whose lower neighbour is as close as its upper). */
    uint64_t below = 2 - (uint64_t)(fraction == 0 && biased > 1);
    int inclusive = (m2 & 1) == 0;
    int t = e2 - 2 + k;
    scaled v, hi, lo;
    if (k >= 0 && k < 28 && t < 0) {
        /* The common case, values from about 1e-19 to 1e8: one 64x64-bit
         * product, the ends at fixed distances from it. */
        uint64_t p5 = (uint64_t)pow5[k];
        u128 x = (u128)(4 * m2) * p5;
        v = split_u128(x, -t);
        hi = split_u128(x + 2 * (u128)p5, -t);
        lo = split_u128(x - below * p5, -t);
    } else {
        v = scale_exact(4 * m2, e2 - 2, k);
        hi = scale_exact(4 * m2 + 2, e2 - 2, k);
        lo = scale_exact(4 * m2 - below, e2 - 2, k);
    }

    /* The nearest 9-digit candidate (rounded half up), d digits dropped
     * from the scaled value. It always reads back: at 9 digits the
     * interval reaches about 3 units or more on each side. */
    uint64_t rest = v.floor, c;
    int d, up;
    if (rest >= 1000000000u) {
        up = rest % 10 >= 5;
        rest /= 10;
        d = 1;
    } else {
        up = v.frac_half;
        d = 0;
    }
    c = rest + (uint64_t)up;
    uint64_t best = c;
    int best_d = d;

    /* Then one digit fewer at a time, down to one significant digit,
     * while the nearest candidate still reads back. Past the 0th drop the
     * half-up rounding only needs the integer part: the last dropped digit
     * is >= 5 exactly when the dropped part is >= half a unit. */
    for (int last = d + 8; d < last;) {
        up = rest % 10 >= 5;
        rest /= 10;
        c = rest + (uint64_t)up;
        d++;
        if (!reads_back(c * pow10[d], up, &hi, &lo, inclusive)) break;
        best = c;
        best_d = d;
    }
    *digits = best;
    *e = best_d - k;
}
