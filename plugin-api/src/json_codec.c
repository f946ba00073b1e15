/*
 * json_codec.c -- documents and values <-> the JSON of Jina's HTTP gateway
 * (the format is described in docflow/json_codec.h).
 *
 * A hand-written single-pass parser that writes straight into df_doc and
 * df_value (no intermediate tree), and a writer that appends straight into a
 * df_buf. Why not jansson, DESIGN.md's first choice: on the reference batch
 * (10,000 documents with a 50-character text and a 128-float embedding) a
 * jansson decoder reached 58 MB/s and a jansson encoder 64 MB/s, against a
 * target of 150 MB/s; the time went into its tree, strtod and printf. Here
 * numbers take Clinger's fast path (exact double arithmetic) with a
 * correctly rounded strtod_l / strtof_l fallback. float32 values are
 * printed as their shortest round-trip decimal by float_format.c; doubles
 * by a shortest-round-trip search checked by parsing its output back.
 *
 * Not for: the request envelope ({"data": ..., "parameters": ...}), which
 * the gateway takes apart; not for JSON that is not documents or values.
 */
#include "docflow/json_codec.h"

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document_internal.h"
#include "float_format.h"

/* Limits that keep hostile input from exhausting the stack or the CPU. */
#define JSON_MAX_DEPTH   256      /* nested objects and arrays */
#define NDARRAY_MAX_DIMS 32       /* numpy's historical limit */
#define NUMBER_MAX_LEN   1024     /* characters in one number literal */
#define EMPTY_ROWS_MAX   1000000u /* "[]"s an encoder may write for a zero-size array */

/* ========================================================================
 * Small helpers
 * ======================================================================== */

static void *scratch_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    p = realloc(p, cap2 * elem);
    if (!p) {
        fprintf(stderr, "docflow: out of memory growing JSON scratch space\n");
        abort();
    }
    *cap = cap2;
    return p;
}

static inline int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* strtod/strtof follow LC_NUMERIC; JSON always uses '.', so the slow paths
 * run in the C locale whatever the program has set. */
static locale_t c_locale_obj;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale_obj = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    pthread_once(&c_locale_once, c_locale_init);
    return c_locale_obj;
}

/* ========================================================================
 * Decimal <-> binary floating point
 * ======================================================================== */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* 10^-64 .. 10^64, each rounded correctly by the compiler. */
static const double pow10_rounded[129] = {
    1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55, 1e-54, 1e-53, 1e-52,
    1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39,
    1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26,
    1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13,
    1e-12, 1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,
    1e1,   1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,
    1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22,  1e23,  1e24,  1e25,  1e26,
    1e27,  1e28,  1e29,  1e30,  1e31,  1e32,  1e33,  1e34,  1e35,  1e36,  1e37,  1e38,  1e39,
    1e40,  1e41,  1e42,  1e43,  1e44,  1e45,  1e46,  1e47,  1e48,  1e49,  1e50,  1e51,  1e52,
    1e53,  1e54,  1e55,  1e56,  1e57,  1e58,  1e59,  1e60,  1e61,  1e62,  1e63,  1e64};

/* m * 10^e as a correctly rounded double when exact double arithmetic
 * gives it (Clinger's fast path): m and 10^e are exact doubles and one
 * multiplication or division rounds once. 0 when the fast path does not
 * apply. Needs IEEE double evaluation (not x87 extended precision). */
static inline int fast_double(uint64_t m, int e, double *out)
{
#if FLT_EVAL_METHOD == 0
    if (m == 0) {
        *out = 0;
        return 1;
    }
    if (m > (1ull << 53)) return 0;
    if (e >= 0 && e <= 22) {
        *out = (double)m * pow10_exact[e];
        return 1;
    }
    if (e < 0 && e >= -22) {
        *out = (double)m / pow10_exact[-e];
        return 1;
    }
    if (e > 22 && e <= 22 + 15) {
        /* 123e30 = 123000000000000e22 when the left factor stays exact. */
        uint64_t p = pow10_u64[e - 22];
        if (m > (1ull << 53) / p) return 0;
        *out = (double)(m * p) * 1e22;
        return 1;
    }
    return 0;
#else
    (void)m, (void)e, (void)out;
    return 0;
#endif
}

/* The midpoint between float f >= 0 and its neighbour on d's side (every
 * such midpoint is a double); past FLT_MAX, the overflow threshold. */
static inline double float_midpoint_toward(float f, double d)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits += (double)f < d ? 1 : -1;
    float g;
    memcpy(&g, &bits, 4);
    return isinf(g) ? 0x1.ffffffp+127 : ((double)f + (double)g) * 0.5;
}

/* m * 10^e (exact when `exact`, else with digits past the 19th dropped)
 * rounded correctly to float, when double arithmetic can decide it; 0 when
 * it cannot (the caller then asks strtof).
 * - Clinger's case: d is the correctly rounded double, and rounding is
 *   monotonic, so d lies on the same side of every float midpoint as the
 *   exact value; only d landing exactly on a midpoint is undecided.
 * - Otherwise d = m * 10^e with m and 10^e rounded: within 2^-51 of the
 *   exact value (relative), far below the float spacing (2^-24), so d
 *   rounds like the exact value unless it lies within 2^-50 of a midpoint.
 *   This covers the 17-digit numbers Python writes for float32 values. */
static inline int float_from_decimal(uint64_t m, int e, int exact, float *out)
{
#if FLT_EVAL_METHOD == 0
    double d, mid;
    float f;
    if (exact && fast_double(m, e, &d)) {
        /* Here d = 0 or 1e-22 <= d < 1e38, inside the normal floats, where
         * a midpoint between two floats is a double with exactly 24
         * fraction bits, the last one set: a bit test instead of computing
         * the midpoint after the division (the decoder's hottest path). */
        uint64_t dbits;
        memcpy(&dbits, &d, sizeof dbits);
        if ((dbits & 0x1fffffffu) == 0x10000000u) return 0;
        *out = (float)d;
        return 1;
    }
    if (e < -64 || e > 64) return 0;
    d = (double)m * pow10_rounded[e + 64];
    f = (float)d;
    if (isinf(f)) return 0;
    if ((double)f != d && fabs(d - (mid = float_midpoint_toward(f, d))) <= d * 0x1p-50) return 0;
    *out = f;
    return 1;
#else
    (void)m, (void)e, (void)exact, (void)out;
    return 0;
#endif
}

/* m * 10^e rounded correctly to float / double (m, e exact). */
static float decimal_to_float(uint64_t m, int e)
{
    float f;
    if (float_from_decimal(m, e, 1, &f)) return f;
    char text[48];
    snprintf(text, sizeof text, "%" PRIu64 "e%d", m, e);
    return strtof_l(text, NULL, c_locale());
}

static double decimal_to_double(uint64_t m, int e)
{
    double d;
    if (fast_double(m, e, &d)) return d;
    char text[48];
    snprintf(text, sizeof text, "%" PRIu64 "e%d", m, e);
    return strtod_l(text, NULL, c_locale());
}

/* x * 10^k with a few roundings: only used to find candidate digits, which
 * are then checked by parsing them back. */
static double scale_pow10(double x, int k)
{
    while (k > 22)
        x *= 1e22, k -= 22;
    while (k < -22)
        x /= 1e22, k += 22;
    return k >= 0 ? x * pow10_exact[k] : x / pow10_exact[-k];
}

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}

static size_t fmt_i64(char *out, int64_t v)
{
    if (v >= 0) return fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + fmt_u64(out + 1, -(uint64_t)v);
}

/* Copies a short literal word; returns its length. */
static size_t copy_word(char *out, const char *word)
{
    size_t n = strlen(word);
    memcpy(out, word, n);
    return n;
}

/* "00" "01" ... "99": two digits per table look-up. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* The number of decimal digits of v > 0: 1233 / 4096 ~ log10(2). */
static inline int digit_count(uint64_t v)
{
    int n = (64 - __builtin_clzll(v)) * 1233 >> 12;
    return n + (v >= pow10_u64[n]);
}

/* Writes the nd digits of v (nd = digit_count(v)) to out, two at a time
 * from the right. */
static inline void put_digits(char *out, uint64_t v, int nd)
{
    char *p = out + nd;
    while (v >= 100) {
        uint64_t q = v / 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * (v - 100 * q), 2);
        v = q;
    }
    if (v >= 10)
        memcpy(p - 2, digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
}

/* Writes digits * 10^e (digits > 0) the way Python's repr does: plain
 * notation for exponents -4..15, else d.ddde+XX. Integral values get no
 * ".0". At most 25 characters, but `out` needs 32 bytes: it may write a
 * few bytes past the end it returns. The digits go straight to their
 * place (this runs once per float of every embedding written). */
static size_t fmt_decimal(char *out, int neg, uint64_t digits, int e)
{
    while (digits % 10 == 0)
        digits /= 10, e++;
    int nd = digit_count(digits);
    int x = nd - 1 + e; /* exponent of the leading digit */
    char *o = out;
    if (neg) *o++ = '-';
    if (x < -4 || x >= 16) {
        put_digits(o + 1, digits, nd); /* d.ddd: then move d before the point */
        o[0] = o[1];
        o[1] = '.';
        o += nd > 1 ? nd + 1 : 1;
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax < 10) *o++ = '0';
        o += fmt_u64(o, (uint64_t)ax);
    } else if (e >= 0) {
        put_digits(o, digits, nd);
        o += nd;
        memset(o, '0', (size_t)e);
        o += e;
    } else if (x >= 0) {
        put_digits(o + 1, digits, nd); /* then move the integer part left */
        for (int i = 0; i <= x; i++)
            o[i] = o[i + 1];
        o[x + 1] = '.';
        o += nd + 1;
    } else {
        memcpy(o, "0.0000", 6); /* "0." and up to 3 zeros, -x - 1 of them */
        put_digits(o + 1 - x, digits, nd);
        o += 1 - x + nd;
    }
    return (size_t)(o - out);
}

/* fmt_decimal as it was before it wrote its digits in place: the reference
 * its tests compare it with (with the float search below). */
static size_t fmt_decimal_reference(char *out, int neg, uint64_t digits, int e)
{
    while (digits && digits % 10 == 0)
        digits /= 10, e++;
    char dig[20];
    int nd = (int)fmt_u64(dig, digits);
    int x = nd - 1 + e; /* exponent of the leading digit */
    char *o = out;
    if (neg) *o++ = '-';
    if (x < -4 || x >= 16) {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax < 10) *o++ = '0';
        o += fmt_u64(o, (uint64_t)ax);
    } else if (e >= 0) {
        memcpy(o, dig, (size_t)nd);
        o += nd;
        memset(o, '0', (size_t)e);
        o += e;
    } else if (x >= 0) {
        memcpy(o, dig, (size_t)x + 1);
        o += x + 1;
        *o++ = '.';
        memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
        o += nd - x - 1;
    } else {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', (size_t)(-x - 1));
        o += -x - 1;
        memcpy(o, dig, (size_t)nd);
        o += nd;
    }
    return (size_t)(o - out);
}

/* The decimal exponent of the leading digit of ad > 0, or one less. */
static int decimal_exponent_floor(double ad)
{
    int e2;
    frexp(ad, &e2);
    return (int)floor((e2 - 1) * 0.30102999566398120);
}

/* Digits and exponent of printf's "%.*e" output, read without trusting the
 * locale's decimal point. */
static void printf_digits(double ad, int precision, uint64_t *digits, int *e)
{
    char text[64];
    snprintf(text, sizeof text, "%.*e", precision - 1, ad);
    uint64_t m = 0;
    int nd = 0;
    const char *p = text;
    for (; *p && *p != 'e'; p++)
        if (is_digit(*p)) m = m * 10 + (uint64_t)(*p - '0'), nd++;
    int ex = *p ? atoi(p + 1) : 0;
    *digits = m;
    *e = ex - (nd - 1);
}

/* The shortest digits * 10^e that read back as `ad` (> 0), among the
 * nearest candidates of each length: starts from `prec` digits (enough for
 * the type, so that candidate always reads back) and drops digits while the
 * result still reads back. Candidates come from inexact scaling, which is
 * why each is checked by parsing it back. Returns 0 when even the first
 * candidate fails (the caller then asks printf). */
typedef int (*reads_back_fn)(uint64_t m, int e, double ad);

static int float_reads_back(uint64_t m, int e, double ad)
{
    return (double)decimal_to_float(m, e) == ad;
}

static int double_reads_back(uint64_t m, int e, double ad)
{
    return decimal_to_double(m, e) == ad;
}

static int shortest_digits(double ad, int prec, reads_back_fn back, uint64_t *digits, int *e)
{
    int x = decimal_exponent_floor(ad);
    double v = scale_pow10(ad, prec - 1 - x);
    if (v >= (double)pow10_u64[prec] - 0.5) {
        x++;
        v = scale_pow10(ad, prec - 1 - x);
    }
    /* v ~ ad / 10^base_e, with `prec` digits before the point. */
    int base_e = x - (prec - 1);
    uint64_t best = (uint64_t)(v + 0.5);
    int best_e = base_e;
    if (!best || !back(best, best_e, ad)) return 0;
    while (best % 10 == 0)
        best /= 10, best_e++;
    for (int n = prec - (best_e - base_e) - 1; n >= 1; n--) {
        int drop = prec - n;
        uint64_t c = (uint64_t)(v / pow10_exact[drop] + 0.5);
        if (!c || !back(c, base_e + drop, ad)) break;
        best = c, best_e = base_e + drop;
        while (best % 10 == 0)
            best /= 10, best_e++;
        n = prec - (best_e - base_e);
    }
    *digits = best;
    *e = best_e;
    return 1;
}

/* A float32 as the shortest decimal that reads back as the same float
 * (9 significant digits at most); non-finite values as null. The digits
 * come from float_format.c, or with `search` from the search that
 * float_format.c replaced, kept as the reference its tests compare with. */
static inline size_t fmt_float_with(char *out, float f, int search)
{
    if (!isfinite(f)) return copy_word(out, "null");
    int neg = signbit(f) != 0;
    float af = fabsf(f);
    if (af == 0) return copy_word(out, neg ? "-0" : "0");
    if (af < 16777216.0f && af == (float)(uint32_t)af) {
        char *o = out;
        if (neg) *o++ = '-';
        return (size_t)(o - out) + fmt_u64(o, (uint32_t)af);
    }
    uint64_t digits;
    int e;
    if (!search) {
        df_float_shortest(af, &digits, &e);
        return fmt_decimal(out, neg, digits, e);
    }
    if (!shortest_digits(af, 9, float_reads_back, &digits, &e)) printf_digits(af, 9, &digits, &e);
    return fmt_decimal_reference(out, neg, digits, e);
}

static size_t fmt_float(char *out, float f)
{
    return fmt_float_with(out, f, 0);
}

size_t df_json_format_float(char *out, float f)
{
    return fmt_float_with(out, f, 0);
}

size_t df_json_format_float_reference(char *out, float f)
{
    return fmt_float_with(out, f, 1);
}

size_t df_json_format_decimal(char *out, int neg, uint64_t digits, int e)
{
    return fmt_decimal(out, neg, digits, e);
}

size_t df_json_format_decimal_reference(char *out, int neg, uint64_t digits, int e)
{
    return fmt_decimal_reference(out, neg, digits, e);
}

/* A double as the shortest decimal that reads back exactly (17
 * significant digits at most); non-finite values as null. */
static size_t fmt_double(char *out, double x)
{
    if (!isfinite(x)) return copy_word(out, "null");
    int neg = signbit(x) != 0;
    double ax = fabs(x);
    if (ax == 0) return copy_word(out, neg ? "-0" : "0");
    if (ax < 9007199254740992.0 && ax == floor(ax)) {
        char *o = out;
        if (neg) *o++ = '-';
        return (size_t)(o - out) + fmt_u64(o, (uint64_t)ax);
    }
    uint64_t digits;
    int e;
    if (!shortest_digits(ax, 15, double_reads_back, &digits, &e)) {
        printf_digits(ax, 16, &digits, &e);
        if (!double_reads_back(digits, e, ax)) printf_digits(ax, 17, &digits, &e);
    }
    return fmt_decimal(out, neg, digits, e);
}

/* ========================================================================
 * Base64: the standard alphabet with padding on output; on input also the
 * URL-safe alphabet and missing padding, as protobuf's JSON mapping accepts.
 * ======================================================================== */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Character -> 6-bit value; 255 for characters outside both alphabets. */
static const uint8_t b64_values[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 62,  255, 62,  255, 63,  52,  53,  54,  55,  56,  57,  58,  59,  60,
    61,  255, 255, 255, 255, 255, 255, 255, 0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,
    11,  12,  13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  255, 255, 255, 255,
    63,  255, 26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,  41,  42,
    43,  44,  45,  46,  47,  48,  49,  50,  51,  255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255,
};

/* ========================================================================
 * UTF-8
 * ======================================================================== */

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0xC2) return 0;
    if (c < 0xE0) return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0xF0) {
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
        return 3;
    }
    if (c > 0xF4) return 0;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
        return 0;
    return 4;
}

static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Whether any of 8 bytes is a control character, '"', '\\' or >= 0x80:
 * the bytes string readers and writers must look at one by one. */
static inline int word_needs_care(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t zq = (quote - ones) & ~quote, zb = (bslash - ones) & ~bslash;
    return ((ctl | zq | zb | w) & high) != 0;
}

/* ========================================================================
 * Decoder state, paths and errors
 * ======================================================================== */

/* One level of the path to the value being read: a member key, an array
 * index, or nothing yet (a container just opened). */
typedef struct path_seg {
    const char *key; /* raw key bytes in the input; NULL for arrays */
    size_t key_len;
    size_t index; /* SIZE_MAX before the first element */
} path_seg;

typedef struct map_key {
    const char *s; /* NUL-terminated, in the arena */
    size_t len;
} map_key;

typedef struct jstr { /* a string literal as it appears in the input */
    const char *raw;  /* between the quotes */
    size_t len;
    int escaped; /* holds backslash escapes */
} jstr;

typedef struct number { /* a number literal: mant * 10^exp10, signed by neg */
    uint64_t mant;
    int exp10;
    int neg;
    int exact; /* 0 when nonzero digits beyond the 19th were dropped */
    const char *text;
    size_t len;
} number;

typedef struct decoder {
    const char *start, *p, *end;
    df_arena *a;
    const char *prefix;
    df_error *err;
    int failed;
    int depth;
    path_seg path[JSON_MAX_DEPTH];
    /* Scratch stacks for the whole call (malloc'd, freed by decoder_free):
     * floats of the array being read, values and keys of open containers. */
    float *floats;
    size_t n_floats, cap_floats;
    df_value **vals;
    size_t n_vals, cap_vals;
    map_key *keys;
    size_t n_keys, cap_keys;
    size_t *firsts;
    size_t cap_firsts;
    char *bytes;
    size_t cap_bytes;
} decoder;

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c);
}

/* A prefix continues the field path ("data" -> "data[2].text") when what
 * follows its last ": " looks like a path; otherwise it is a label
 * ("line 3", "docs.jsonl:3", "--parameters") followed by ": ". */
static int prefix_is_path(const char *prefix)
{
    const char *tail = prefix, *q;
    while ((q = strstr(tail, ": ")))
        tail = q + 2;
    if (!is_ident_start((unsigned char)*tail)) return 0;
    for (const char *s = tail; *s; s++)
        if (!is_ident_char((unsigned char)*s) && *s != '.' && *s != '[' && *s != ']') return 0;
    return 1;
}

typedef struct text_out {
    char *s;
    size_t n, cap;
} text_out;

static void text_add(text_out *t, const char *s, size_t len)
{
    if (len > t->cap - 1 - t->n) len = t->cap - 1 - t->n;
    memcpy(t->s + t->n, s, len);
    t->n += len;
    t->s[t->n] = '\0';
}

static void text_add_key(text_out *t, const char *key, size_t len, int first)
{
    int ident = len > 0 && len <= 64 && is_ident_start((unsigned char)key[0]);
    for (size_t i = 1; ident && i < len; i++)
        ident = is_ident_char((unsigned char)key[i]);
    if (ident) {
        if (!first) text_add(t, ".", 1);
        text_add(t, key, len);
        return;
    }
    size_t show = len;
    if (show > 40) { /* cut at a character boundary */
        show = 40;
        while (show > 0 && ((unsigned char)key[show] & 0xC0) == 0x80)
            show--;
    }
    text_add(t, "[\"", 2);
    text_add(t, key, show);
    text_add(t, show < len ? "...\"]" : "\"]", show < len ? 5 : 2);
}

static void path_format(const decoder *dc, char *out, size_t cap)
{
    text_out t = {out, 0, cap};
    out[0] = '\0';
    const char *prefix = dc->prefix ? dc->prefix : "";
    int label = prefix[0] && !prefix_is_path(prefix);
    text_add(&t, prefix, strlen(prefix));
    int first = t.n == 0;
    for (int i = 0; i < dc->depth; i++) {
        const path_seg *s = &dc->path[i];
        if (!s->key && s->index == SIZE_MAX) continue;
        if (label) text_add(&t, ": ", 2), label = 0, first = 1;
        if (s->key) {
            text_add_key(&t, s->key, s->key_len, first);
        } else {
            char idx[32];
            text_add(&t, idx, (size_t)snprintf(idx, sizeof idx, "[%zu]", s->index));
        }
        first = 0;
    }
}

static int fail(decoder *dc, const char *fmt, ...) DF_PRINTF(2, 3);

/* Records the first error with the path of the value being read. */
static int fail(decoder *dc, const char *fmt, ...)
{
    if (dc->failed) return -1;
    dc->failed = 1;
    char path[512], msg[600];
    path_format(dc, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path[0])
        df_error_set(dc->err, DF_E_INVALID_INPUT, "%s: %s", path, msg);
    else
        df_error_set(dc->err, DF_E_INVALID_INPUT, "%s", msg);
    return -1;
}

static int fail_syntax(decoder *dc, const char *at, const char *fmt, ...) DF_PRINTF(3, 4);

/* Malformed JSON: the message gives the byte offset, line and column. */
static int fail_syntax(decoder *dc, const char *at, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = 1;
    const char *line_start = dc->start;
    for (const char *s = dc->start; s < at; s++)
        if (*s == '\n') line++, line_start = s + 1;
    return fail(dc, "invalid JSON at byte %zu (line %zu, column %zu): %s", (size_t)(at - dc->start),
                line, (size_t)(at - line_start) + 1, msg);
}

/* "'x'" for printable ASCII, else "byte 0xNN". */
static const char *char_desc(char *buf, size_t cap, int c)
{
    if (c < 0)
        snprintf(buf, cap, "the end of the input");
    else if (c >= 0x20 && c < 0x7F)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02X", (unsigned)c);
    return buf;
}

static inline int peek(const decoder *dc)
{
    return dc->p < dc->end ? (unsigned char)*dc->p : -1;
}

/* What the value at the cursor is, for "expected X, got Y"; NULL when no
 * JSON value starts here. */
/* 1 when the input at the cursor spells the literal `word`. */
static int has_literal(const decoder *dc, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(dc->end - dc->p) >= n && memcmp(dc->p, word, n) == 0;
}

static const char *kind_at(const decoder *dc)
{
    int c = peek(dc);
    switch (c) {
    case -1:
        return "the end of the input";
    case '{':
        return "an object";
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
        return has_literal(dc, "true") ? "a boolean" : NULL;
    case 'f':
        return has_literal(dc, "false") ? "a boolean" : NULL;
    case 'n':
        return has_literal(dc, "null") ? "null" : NULL; /* "not json" is no null */
    case 'N':
        return "NaN, which JSON does not allow";
    case 'I':
        return "Infinity, which JSON does not allow";
    case '-':
        if (dc->end - dc->p > 1 && dc->p[1] == 'I') return "-Infinity, which JSON does not allow";
        return "a number";
    default:
        return is_digit(c) ? "a number" : NULL;
    }
}

static int fail_type(decoder *dc, const char *expected)
{
    const char *kind = kind_at(dc);
    char c[32];
    if (!kind) return fail_syntax(dc, dc->p, "unexpected %s", char_desc(c, sizeof c, peek(dc)));
    return fail(dc, "expected %s, got %s", expected, kind);
}

/* ========================================================================
 * Decoder: tokens
 * ======================================================================== */

static inline void skip_ws(decoder *dc)
{
    const char *p = dc->p, *end = dc->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    dc->p = p;
}

static int match_literal(decoder *dc, const char *lit, size_t n)
{
    if ((size_t)(dc->end - dc->p) < n || memcmp(dc->p, lit, n) != 0)
        return fail_syntax(dc, dc->p, "invalid literal (expected %s)", lit);
    dc->p += n;
    return 0;
}

/* 1 after consuming a null, 0 when the value is not null, -1 on error. */
static int take_null(decoder *dc)
{
    if (peek(dc) != 'n') return 0;
    return match_literal(dc, "null", 4) ? -1 : 1;
}

/* Scans the string literal at the cursor (a '"'), validating UTF-8 and
 * rejecting raw control characters; escapes are checked when decoded. */
static int scan_string(decoder *dc, jstr *s)
{
    const unsigned char *p = (const unsigned char *)dc->p + 1;
    const unsigned char *end = (const unsigned char *)dc->end;
    int escaped = 0;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (word_needs_care(w)) break;
            p += 8;
        }
        if (p >= end) return fail_syntax(dc, dc->p, "unterminated string");
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') {
            escaped = 1;
            p = end - p >= 2 ? p + 2 : end;
            continue;
        }
        if (c < 0x20)
            return fail_syntax(dc, (const char *)p,
                               "control character U+%04X in a string (escape it)", c);
        if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (!n) return fail_syntax(dc, (const char *)p, "invalid UTF-8 in a string");
            p += n;
            continue;
        }
        p++;
    }
    s->raw = dc->p + 1;
    s->len = (size_t)((const char *)p - s->raw);
    s->escaped = escaped;
    dc->p = (const char *)p + 1;
    return 0;
}

static int hex4(const char *s, const char *end, uint32_t *out)
{
    if (end - s < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)s[i], d;
        if (is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* Decodes the escapes of s into out (room for s->len bytes: decoding never
 * grows a string). Returns the decoded length, or -1. */
static long unescape(decoder *dc, const jstr *s, char *out)
{
    const char *p = s->raw, *end = s->raw + s->len;
    char *o = out, c[32];
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        memcpy(o, p, run);
        o += run;
        if (!bs) break;
        p = bs + 2; /* the scanner guarantees a character after the backslash */
        switch (bs[1]) {
        case '"':
        case '\\':
        case '/':
            *o++ = bs[1];
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(p, end, &cp))
                return fail_syntax(dc, bs, "\\u must be followed by 4 hex digits");
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_syntax(dc, bs, "lone low surrogate \\u%04X", (unsigned)cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return fail_syntax(dc, bs, "high surrogate \\u%04X without a low surrogate",
                                       (unsigned)cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            o += utf8_put(o, cp);
            break;
        }
        default:
            return fail_syntax(dc, bs, "invalid escape: backslash followed by %s",
                               char_desc(c, sizeof c, (unsigned char)bs[1]));
        }
    }
    return (long)(o - out);
}

/* The string's bytes in the arena, NUL-terminated. NULL on error. */
static char *string_dup(decoder *dc, const jstr *s, size_t *len)
{
    char *out = df_arena_alloc(dc->a, s->len + 1);
    long n = (long)s->len;
    if (!s->escaped)
        memcpy(out, s->raw, s->len);
    else if ((n = unescape(dc, s, out)) < 0)
        return NULL;
    out[n] = '\0';
    *len = (size_t)n;
    return out;
}

/* Like string_dup for a C string (an id, a key): \u0000 would cut it. */
static char *cstring_dup(decoder *dc, const jstr *s, const char *what, size_t *len)
{
    char *out = string_dup(dc, s, len);
    if (out && s->escaped && memchr(out, '\0', *len)) {
        fail(dc, "%s must not contain a NUL character (\\u0000)", what);
        return NULL;
    }
    return out;
}

/* The decoded string, in the input when it has no escapes, else in
 * scratch memory valid until the next call. NULL on error. */
static const char *string_view(decoder *dc, const jstr *s, size_t *len)
{
    if (!s->escaped) {
        *len = s->len;
        return s->raw;
    }
    dc->bytes = scratch_grow(dc->bytes, &dc->cap_bytes, s->len + 1, 1);
    long n = unescape(dc, s, dc->bytes);
    if (n < 0) return NULL;
    *len = (size_t)n;
    return dc->bytes;
}

/* The value of the eight ASCII digits at p, or UINT64_MAX when one of the
 * eight bytes is not a digit (SWAR: one load, three multiplications). */
static inline uint64_t load_eight_digits(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (((v & 0xF0F0F0F0F0F0F0F0u) | (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) !=
        0x3333333333333333u)
        return UINT64_MAX;
    v -= 0x3030303030303030u;
    v = v * 10 + (v >> 8); /* pairs of digits in bytes 0, 2, 4, 6 */
    v = ((v & 0x000000FF000000FFu) * (100 + (1000000ull << 32)) +
         ((v >> 16) & 0x000000FF000000FFu) * (1 + (10000ull << 32))) >>
        32;
    return v;
#else
    (void)v;
    return UINT64_MAX;
#endif
}

/* Scans a number literal (RFC 8259 grammar) at the cursor. */
static int scan_number(decoder *dc, number *n)
{
    const char *p = dc->p, *end = dc->end;
    uint64_t m = 0;
    int nd = 0, e = 0, exact = 1;
    n->text = p;
    n->neg = *p == '-';
    if (n->neg) p++;
    if (p == end || !is_digit(*p)) {
        if (p < end && *p == 'I') return fail_type(dc, "a number");
        return fail_syntax(dc, p, "invalid number: expected a digit");
    }
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return fail_syntax(dc, p, "invalid number: leading zeros are not allowed");
    } else {
        for (; p < end && is_digit(*p); p++) {
            if (nd < 19)
                m = m * 10 + (uint64_t)(*p - '0'), nd++;
            else
                e++, exact &= *p == '0';
        }
    }
    if (p < end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return fail_syntax(dc, p, "invalid number: expected a digit after '.'");
        /* Eight digits at a time while all eight fit in m: what the loop
         * below would do, for the embeddings' 8- and 9-digit fractions. */
        uint64_t eight;
        while (end - p >= 8 && nd <= 11 && (eight = load_eight_digits(p)) != UINT64_MAX) {
            m = m * 100000000u + eight;
            nd = nd ? nd + 8 : (m ? digit_count(m) : 0); /* leading zeros do not count */
            e -= 8;
            p += 8;
        }
        for (; p < end && is_digit(*p); p++) {
            if (nd < 19) {
                if (m || *p != '0') m = m * 10 + (uint64_t)(*p - '0'), nd++;
                e--;
            } else {
                exact &= *p == '0';
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0, x = 0;
        if (++p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p == end || !is_digit(*p))
            return fail_syntax(dc, p, "invalid number: expected a digit in the exponent");
        for (; p < end && is_digit(*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        e += eneg ? -x : x;
    }
    n->len = (size_t)(p - n->text);
    if (n->len > NUMBER_MAX_LEN)
        return fail_syntax(dc, n->text, "number longer than %d characters", NUMBER_MAX_LEN);
    n->mant = m;
    n->exp10 = e;
    n->exact = exact;
    dc->p = p;
    return 0;
}

/* The slow paths copy the literal for strtod; noinline keeps that buffer
 * out of the frames of the recursive parsers. */
__attribute__((noinline)) static double number_strtod(const number *n)
{
    char buf[NUMBER_MAX_LEN + 1];
    memcpy(buf, n->text, n->len);
    buf[n->len] = '\0';
    return strtod_l(buf, NULL, c_locale());
}

__attribute__((noinline)) static float number_strtof(const number *n)
{
    char buf[NUMBER_MAX_LEN + 1];
    memcpy(buf, n->text, n->len);
    buf[n->len] = '\0';
    return strtof_l(buf, NULL, c_locale());
}

static int number_double(decoder *dc, const number *n, double *out)
{
    double d;
    if (n->exact && fast_double(n->mant, n->exp10, &d)) {
        *out = n->neg ? -d : d;
        return 0;
    }
    d = number_strtod(n);
    if (isinf(d))
        return fail(dc, "number %.*s is out of range for a double",
                    (int)(n->len < 40 ? n->len : 40), n->text);
    *out = d;
    return 0;
}

static int number_float(decoder *dc, const number *n, float *out)
{
    float f = 0;
    if (float_from_decimal(n->mant, n->exp10, n->exact, &f)) {
        *out = n->neg ? -f : f;
        return 0;
    }
    f = number_strtof(n);
    if (isinf(f))
        return fail(dc, "number %.*s is out of range for float32", (int)(n->len < 40 ? n->len : 40),
                    n->text);
    *out = f;
    return 0;
}

static int parse_u32(decoder *dc, uint32_t *out)
{
    int c = peek(dc);
    if (c != '-' && !is_digit(c)) return fail_type(dc, "a non-negative integer");
    number n;
    double d = 0; /* set by number_double; initialised for -O3's flow analysis */
    if (scan_number(dc, &n) || number_double(dc, &n, &d)) return -1;
    if (!(d >= 0 && d <= 4294967295.0 && d == floor(d)))
        return fail(dc, "expected an integer in [0, 4294967295], got %.*s",
                    (int)(n.len < 40 ? n.len : 40), n.text);
    *out = (uint32_t)d;
    return 0;
}

static int parse_float(decoder *dc, float *out)
{
    int c = peek(dc);
    if (c != '-' && !is_digit(c)) return fail_type(dc, "a number");
    number n;
    return scan_number(dc, &n) ? -1 : number_float(dc, &n, out);
}

/* ========================================================================
 * Decoder: containers. enter() opens an object or array at the cursor;
 * obj_next / arr_next step to the next member or element and keep the path
 * up to date; they return 1 when one follows (the cursor then at its value),
 * 0 after the closing bracket, -1 on error.
 * ======================================================================== */

static int enter(decoder *dc)
{
    if (dc->depth >= JSON_MAX_DEPTH)
        return fail(dc, "nested deeper than %d objects and arrays", JSON_MAX_DEPTH);
    path_seg *s = &dc->path[dc->depth++];
    s->key = NULL;
    s->key_len = 0;
    s->index = SIZE_MAX;
    dc->p++;
    return 0;
}

static inline void leave(decoder *dc)
{
    dc->depth--;
    dc->p++;
}

static int obj_next(decoder *dc, jstr *key)
{
    path_seg *seg = &dc->path[dc->depth - 1];
    skip_ws(dc);
    int c = peek(dc);
    if (c == '}') {
        leave(dc);
        return 0;
    }
    if (seg->key) {
        if (c != ',') return fail_syntax(dc, dc->p, "expected ',' or '}' after an object member");
        dc->p++;
        skip_ws(dc);
        c = peek(dc);
    }
    if (c != '"')
        return fail_syntax(dc, dc->p,
                           seg->key ? "expected a string key after ','"
                                    : "expected a string key or '}'");
    if (scan_string(dc, key)) return -1;
    seg->key = key->raw;
    seg->key_len = key->len;
    skip_ws(dc);
    if (peek(dc) != ':') return fail_syntax(dc, dc->p, "expected ':' after an object key");
    dc->p++;
    skip_ws(dc);
    return 1;
}

static inline int arr_next(decoder *dc)
{
    path_seg *seg = &dc->path[dc->depth - 1];
    skip_ws(dc);
    int c = peek(dc);
    if (c == ']') {
        leave(dc);
        return 0;
    }
    if (seg->index == SIZE_MAX) {
        seg->index = 0;
        return 1;
    }
    if (c != ',') return fail_syntax(dc, dc->p, "expected ',' or ']' after an array element");
    dc->p++;
    skip_ws(dc);
    seg->index++;
    return 1;
}

static void push_value(decoder *dc, df_value *v)
{
    if (dc->n_vals == dc->cap_vals)
        dc->vals = scratch_grow(dc->vals, &dc->cap_vals, dc->n_vals + 1, sizeof *dc->vals);
    dc->vals[dc->n_vals++] = v;
}

static void push_key(decoder *dc, const char *s, size_t len)
{
    if (dc->n_keys == dc->cap_keys)
        dc->keys = scratch_grow(dc->keys, &dc->cap_keys, dc->n_keys + 1, sizeof *dc->keys);
    dc->keys[dc->n_keys++] = (map_key){s, len};
}

static int key_eq(const map_key *x, const map_key *y)
{
    return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

/* first[i] = the index of the first key equal to keys[i] (i when none
 * before it). Returns whether there is any duplicate. Hashes large objects
 * so a hostile object with many keys stays linear. */
static int find_duplicates(decoder *dc, const map_key *keys, size_t n, size_t **first_out)
{
    dc->firsts = scratch_grow(dc->firsts, &dc->cap_firsts, n ? n : 1, sizeof *dc->firsts);
    size_t *first = *first_out = dc->firsts;
    int dup = 0;
    if (n <= 16) {
        for (size_t i = 0; i < n; i++) {
            first[i] = i;
            for (size_t j = 0; j < i; j++)
                if (first[j] == j && key_eq(&keys[j], &keys[i])) {
                    first[i] = j, dup = 1;
                    break;
                }
        }
        return dup;
    }
    size_t cap = 32;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slots = malloc(cap * sizeof *slots);
    if (!slots) {
        fprintf(stderr, "docflow: out of memory\n");
        abort();
    }
    memset(slots, 0xFF, cap * sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (size_t k = 0; k < keys[i].len; k++)
            h = (h ^ (unsigned char)keys[i].s[k]) * 1099511628211ull;
        size_t slot = (size_t)h & (cap - 1);
        first[i] = i;
        while (slots[slot] != SIZE_MAX && !key_eq(&keys[slots[slot]], &keys[i]))
            slot = (slot + 1) & (cap - 1);
        if (slots[slot] == SIZE_MAX)
            slots[slot] = i;
        else
            first[i] = slots[slot], dup = 1;
    }
    free(slots);
    return dup;
}

/* ========================================================================
 * Decoder: values
 * ======================================================================== */

static df_value *new_value(decoder *dc, df_value_type t)
{
    df_value *v = df_arena_alloc(dc->a, sizeof *v);
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)t;
    return v;
}

static df_value *parse_value(decoder *dc);

static df_value *new_container(decoder *dc, df_value_type t, df_value **items, const map_key *keys,
                               size_t n)
{
    df_value *v = new_value(dc, t);
    v->u.c.arena = dc->a;
    v->u.c.n = v->u.c.cap = n;
    if (!n) return v;
    v->u.c.items = df_arena_memdup(dc->a, items, n * sizeof *items);
    if (!keys) return v;
    v->u.c.keys = df_arena_alloc(dc->a, n * sizeof *v->u.c.keys);
    for (size_t i = 0; i < n; i++)
        v->u.c.keys[i] = keys[i].s;
    return v;
}

static df_value *parse_list(decoder *dc)
{
    size_t base = dc->n_vals;
    int rc;
    if (enter(dc)) return NULL;
    while ((rc = arr_next(dc)) == 1) {
        df_value *item = parse_value(dc);
        if (!item) return NULL;
        push_value(dc, item);
    }
    if (rc < 0) return NULL;
    size_t n = dc->n_vals - base; /* the stacks are NULL until first used: no NULL + 0 */
    df_value *list = new_container(dc, DF_VALUE_LIST, n ? dc->vals + base : NULL, NULL, n);
    dc->n_vals = base;
    return list;
}

/* The map of the keys and values pushed since `base`/`kbase`, popped off
 * the stacks. A repeated key keeps its first position and its last value,
 * as Python's json module does. */
static df_value *finish_map(decoder *dc, size_t base, size_t kbase)
{
    size_t n = dc->n_vals - base, *first;
    map_key *keys = n ? dc->keys + kbase : NULL; /* NULL until first used: no NULL + 0 */
    df_value **vals = n ? dc->vals + base : NULL;
    if (find_duplicates(dc, keys, n, &first)) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (first[i] != i) vals[first[i]] = vals[i];
        for (size_t i = 0; i < n; i++)
            if (first[i] == i) keys[kept] = keys[i], vals[kept++] = vals[i];
        n = kept;
    }
    df_value *map = new_container(dc, DF_VALUE_MAP, vals, keys, n);
    dc->n_vals = base;
    dc->n_keys = kbase;
    return map;
}

/* An object as a map (finish_map says how repeated keys go). */
static df_value *parse_map(decoder *dc)
{
    size_t base = dc->n_vals, kbase = dc->n_keys;
    jstr key;
    int rc;
    if (enter(dc)) return NULL;
    while ((rc = obj_next(dc, &key)) == 1) {
        size_t len;
        const char *k = cstring_dup(dc, &key, "an object key", &len);
        if (!k) return NULL;
        push_key(dc, k, len);
        df_value *item = parse_value(dc);
        if (!item) return NULL;
        push_value(dc, item);
    }
    return rc < 0 ? NULL : finish_map(dc, base, kbase);
}

static df_value *parse_value(decoder *dc)
{
    df_value *v;
    jstr s;
    switch (peek(dc)) {
    case '{':
        return parse_map(dc);
    case '[':
        return parse_list(dc);
    case '"':
        if (scan_string(dc, &s)) return NULL;
        v = new_value(dc, DF_VALUE_STRING);
        v->u.str.s = string_dup(dc, &s, &v->u.str.len);
        return v->u.str.s ? v : NULL;
    case 't':
        if (match_literal(dc, "true", 4)) return NULL;
        v = new_value(dc, DF_VALUE_BOOL);
        v->u.b = 1;
        return v;
    case 'f':
        if (match_literal(dc, "false", 5)) return NULL;
        return new_value(dc, DF_VALUE_BOOL);
    case 'n':
        return match_literal(dc, "null", 4) ? NULL : new_value(dc, DF_VALUE_NULL);
    default:
        break;
    }
    int c = peek(dc);
    if (c != '-' && !is_digit(c)) {
        fail_type(dc, "a JSON value");
        return NULL;
    }
    number n;
    double x = 0; /* set by number_double; initialised for -O3's flow analysis */
    if (scan_number(dc, &n) || number_double(dc, &n, &x)) return NULL;
    v = new_value(dc, DF_VALUE_NUMBER);
    v->u.num = x;
    return v;
}

/* ========================================================================
 * Decoder: n-dim arrays (tensor, embedding)
 * ======================================================================== */

/* What nested lists have shown so far of their shape. */
typedef struct shape_probe {
    uint32_t ndim;  /* 0 until a number or an empty list fixes the depth */
    uint64_t known; /* bit i set: shape[i] is fixed */
    uint32_t shape[NDARRAY_MAX_DIMS];
} shape_probe;

static inline void push_float(decoder *dc, float f)
{
    if (dc->n_floats == dc->cap_floats)
        dc->floats = scratch_grow(dc->floats, &dc->cap_floats, dc->n_floats + 1, sizeof(float));
    dc->floats[dc->n_floats++] = f;
}

/* An element of a number array: a number; null reads as NaN (the encoder
 * writes NaN as null) and true/false as 1/0 (numpy's bool arrays). */
static inline int parse_float_elem(decoder *dc, float *out)
{
    int c = peek(dc);
    if (c == '-' || is_digit(c)) {
        number n;
        return scan_number(dc, &n) ? -1 : number_float(dc, &n, out);
    }
    switch (c) {
    case 'n':
        *out = NAN;
        return match_literal(dc, "null", 4);
    case 't':
        *out = 1;
        return match_literal(dc, "true", 4);
    case 'f':
        *out = 0;
        return match_literal(dc, "false", 5);
    default:
        return fail_type(dc, "a number");
    }
}

static int parse_nested(decoder *dc, shape_probe *sp, uint32_t level)
{
    size_t count = 0;
    int rc;
    if (level >= NDARRAY_MAX_DIMS) return fail(dc, "more than %d dimensions", NDARRAY_MAX_DIMS);
    if (enter(dc)) return -1;
    while ((rc = arr_next(dc)) == 1) {
        if (peek(dc) == '[') {
            if (sp->ndim && level + 1 >= sp->ndim)
                return fail(dc, "ragged array: expected a number like the elements before, got an "
                                "array");
            if (parse_nested(dc, sp, level + 1)) return -1;
        } else {
            if (!sp->ndim) sp->ndim = level + 1;
            if (sp->ndim != level + 1) {
                const char *kind = kind_at(dc);
                if (!kind) return fail_type(dc, "an array");
                return fail(dc, "ragged array: expected an array like the elements before, got %s",
                            kind);
            }
            float f = 0; /* set by parse_float_elem; for -O3 flow analysis */
            if (parse_float_elem(dc, &f)) return -1;
            push_float(dc, f);
        }
        count++;
    }
    if (rc < 0) return -1;
    /* The path now names this array in its parent. */
    if (!sp->ndim) sp->ndim = level + 1;
    if (sp->known & (1ull << level)) {
        if (sp->shape[level] != count)
            return fail(dc, "ragged array: %zu elements, but the first array at this depth has %u",
                        count, (unsigned)sp->shape[level]);
    } else {
        if (count > UINT32_MAX) return fail(dc, "more than %u elements", (unsigned)UINT32_MAX);
        sp->shape[level] = (uint32_t)count;
        sp->known |= 1ull << level;
    }
    return 0;
}

static void ndarray_fill(decoder *dc, df_ndarray *nd, const uint32_t *shape, uint32_t ndim)
{
    size_t nbytes = dc->n_floats * sizeof(float);
    nd->present = 1;
    nd->data = df_arena_memdup(dc->a, dc->floats, nbytes);
    nd->nbytes = nbytes;
    nd->shape = df_arena_memdup(dc->a, shape, ndim * sizeof *shape);
    nd->ndim = ndim;
    nd->dtype = "<f4";
    nd->cls_name = "";
    nd->params = NULL;
}

static int base64_decode(decoder *dc, const jstr *s, uint8_t **out, size_t *out_len)
{
    size_t n, pad = 0;
    const char *src = string_view(dc, s, &n);
    if (!src) return -1;
    while (n && src[n - 1] == '=' && pad < 3)
        n--, pad++;
    if (pad > 2 || (pad && (n + pad) % 4) || n % 4 == 1)
        return fail(dc, "invalid base64: %zu characters with %zu '=' is not a valid length",
                    n + pad, pad);
    size_t full = n / 4, rest = n % 4;
    size_t len = full * 3 + (rest ? rest - 1 : 0);
    uint8_t *o = df_arena_alloc(dc->a, len ? len : 1);
    const unsigned char *u = (const unsigned char *)src;
    size_t i = 0, j = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t a = b64_values[u[i]], b = b64_values[u[i + 1]], c = b64_values[u[i + 2]],
                 d = b64_values[u[i + 3]];
        if ((a | b | c | d) & 0x80) goto bad;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        o[j++] = (uint8_t)(v >> 16);
        o[j++] = (uint8_t)(v >> 8);
        o[j++] = (uint8_t)v;
    }
    if (rest) {
        uint32_t a = b64_values[u[i]], b = b64_values[u[i + 1]],
                 c = rest == 3 ? b64_values[u[i + 2]] : 0;
        if ((a | b | c) & 0x80) goto bad;
        uint32_t v = a << 18 | b << 12 | c << 6;
        o[j++] = (uint8_t)(v >> 16);
        if (rest == 3) o[j++] = (uint8_t)(v >> 8);
    }
    *out = o;
    *out_len = len;
    return 0;
bad:
    while (b64_values[u[i]] != 255)
        i++;
    char c[32];
    return fail(dc, "invalid base64: unexpected %s at position %zu", char_desc(c, sizeof c, u[i]),
                i);
}

static int key_is(const char *k, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(k, name, len) == 0;
}

static int parse_shape(decoder *dc, uint32_t *shape, uint32_t *ndim)
{
    int rc;
    if (peek(dc) != '[') return fail_type(dc, "an array of dimensions");
    if (enter(dc)) return -1;
    while ((rc = arr_next(dc)) == 1) {
        if (*ndim >= NDARRAY_MAX_DIMS) return fail(dc, "more than %d dimensions", NDARRAY_MAX_DIMS);
        if (parse_u32(dc, &shape[(*ndim)++])) return -1;
    }
    return rc;
}

static const char *shape_text(char *buf, size_t cap, const uint32_t *shape, uint32_t ndim)
{
    text_out t = {buf, 0, cap};
    buf[0] = '\0';
    text_add(&t, "[", 1);
    for (uint32_t i = 0; i < ndim; i++) {
        char num[16];
        int n = snprintf(num, sizeof num, i ? ", %u" : "%u", (unsigned)shape[i]);
        text_add(&t, num, (size_t)n);
    }
    text_add(&t, "]", 1);
    return buf;
}

/* {"buffer": base64, "shape": [...], "dtype": "<f4"}: DenseNdArrayProto. */
static int parse_dense(decoder *dc, df_ndarray *nd)
{
    uint8_t *buf = NULL;
    size_t nbytes = 0, klen, len;
    uint32_t shape[NDARRAY_MAX_DIMS], ndim = 0;
    const char *dtype = NULL;
    jstr key, s;
    int rc;
    if (peek(dc) != '{') return fail_type(dc, "an object with buffer, shape and dtype");
    if (enter(dc)) return -1;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k || (rc = take_null(dc)) < 0) return -1;
        if (rc) continue;
        if (key_is(k, klen, "shape")) {
            if (parse_shape(dc, shape, &ndim)) return -1;
            continue;
        }
        int is_dtype = key_is(k, klen, "dtype");
        if (!is_dtype && !key_is(k, klen, "buffer"))
            return fail(dc, "unknown field (a dense array has buffer, shape and dtype)");
        if (peek(dc) != '"') return fail_type(dc, "a string");
        if (scan_string(dc, &s)) return -1;
        if (is_dtype ? !(dtype = cstring_dup(dc, &s, "dtype", &len))
                     : base64_decode(dc, &s, &buf, &nbytes) != 0)
            return -1;
    }
    if (rc < 0) return -1;
    if (!dtype) return fail(dc, "missing \"dtype\"");
    size_t esize = df_dtype_size(dtype), count = 1;
    if (!esize) return fail(dc, "unsupported dtype \"%.40s\"", dtype);
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] && count > SIZE_MAX / shape[i]) return fail(dc, "shape is too large");
        count *= shape[i];
    }
    if (count > SIZE_MAX / esize || count * esize != nbytes) {
        char st[200];
        return fail(dc, "buffer holds %zu bytes, but shape %s of %s needs %zu", nbytes,
                    shape_text(st, sizeof st, shape, ndim), dtype,
                    count > SIZE_MAX / esize ? SIZE_MAX : count * esize);
    }
    nd->present = 1;
    nd->data = buf ? buf : df_arena_alloc(dc->a, 1);
    nd->nbytes = nbytes;
    nd->shape = df_arena_memdup(dc->a, shape, ndim * sizeof *shape);
    nd->ndim = ndim;
    nd->dtype = dtype;
    return 0;
}

/* NdArrayProto's JSON: {"dense": {...}, "cls_name": "...", "parameters": {...}}. */
static int parse_ndarray_object(decoder *dc, df_ndarray *nd)
{
    df_ndarray out = {0};
    size_t klen, len;
    jstr key, s;
    int rc, have_dense = 0;
    out.cls_name = "";
    if (enter(dc)) return -1;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k || (rc = take_null(dc)) < 0) return -1;
        if (rc) continue;
        if (key_is(k, klen, "dense")) {
            if (parse_dense(dc, &out)) return -1;
            have_dense = 1;
        } else if (key_is(k, klen, "sparse")) {
            return fail(dc, "sparse arrays are not supported; send a dense array");
        } else if (key_is(k, klen, "cls_name") || key_is(k, klen, "clsName")) {
            if (peek(dc) != '"') return fail_type(dc, "a string");
            if (scan_string(dc, &s) || !(out.cls_name = cstring_dup(dc, &s, "cls_name", &len)))
                return -1;
        } else if (key_is(k, klen, "parameters")) {
            if (peek(dc) != '{') return fail_type(dc, "an object");
            if (!(out.params = parse_map(dc))) return -1;
        } else {
            return fail(dc, "unknown field (an array object has dense, cls_name and parameters)");
        }
    }
    if (rc < 0) return -1;
    if (!have_dense) return fail(dc, "array object without \"dense\"");
    *nd = out;
    return 0;
}

/* A tensor or embedding: nested lists of numbers (float32, any depth), a
 * bare number (0-d), or NdArrayProto's object form. */
static int parse_ndarray(decoder *dc, df_ndarray *nd)
{
    int c = peek(dc);
    if (c == '{') return parse_ndarray_object(dc, nd);
    dc->n_floats = 0;
    if (c == '[') {
        shape_probe sp;
        sp.ndim = 0;
        sp.known = 0;
        if (parse_nested(dc, &sp, 0)) return -1;
        ndarray_fill(dc, nd, sp.shape, sp.ndim);
        return 0;
    }
    if (c != '-' && !is_digit(c)) return fail_type(dc, "an array of numbers");
    float f = 0;
    if (parse_float(dc, &f)) return -1;
    push_float(dc, f);
    ndarray_fill(dc, nd, NULL, 0);
    return 0;
}

static int parse_location(decoder *dc, df_doc *d)
{
    int rc;
    if (peek(dc) != '[') return fail_type(dc, "an array of numbers");
    if (enter(dc)) return -1;
    dc->n_floats = 0;
    while ((rc = arr_next(dc)) == 1) {
        float f = 0;
        if (parse_float_elem(dc, &f)) return -1;
        push_float(dc, f);
    }
    if (rc < 0) return -1;
    d->n_location = dc->n_floats;
    d->location =
        dc->n_floats ? df_arena_memdup(dc->a, dc->floats, dc->n_floats * sizeof(float)) : NULL;
    return 0;
}

/* ========================================================================
 * Decoder: named scores
 * ======================================================================== */

static int parse_score_text(decoder *dc, const char **out, const char *what)
{
    jstr s;
    size_t len;
    if (peek(dc) != '"') return fail_type(dc, "a string");
    if (scan_string(dc, &s) || !(*out = cstring_dup(dc, &s, what, &len))) return -1;
    return 0;
}

/* {"value": 0.9, "op_name": "...", "description": "...", "ref_id": "..."} */
static int parse_score_object(decoder *dc, df_named_score *sc)
{
    jstr key;
    size_t klen;
    int rc;
    if (enter(dc)) return -1;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k || (rc = take_null(dc)) < 0) return -1;
        if (rc) continue;
        if (key_is(k, klen, "value"))
            rc = parse_float(dc, &sc->value);
        else if (key_is(k, klen, "op_name") || key_is(k, klen, "opName"))
            rc = parse_score_text(dc, &sc->op_name, "op_name");
        else if (key_is(k, klen, "description"))
            rc = parse_score_text(dc, &sc->description, "description");
        else if (key_is(k, klen, "ref_id") || key_is(k, klen, "refId"))
            rc = parse_score_text(dc, &sc->ref_id, "ref_id");
        else
            return fail(dc, "unknown field (a score has value, op_name, description and ref_id)");
        if (rc) return -1;
    }
    return rc;
}

static void score_push(df_arena *a, df_score_list *l, const df_named_score *sc)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        l->items = df_arena_realloc(a, l->items, l->n * sizeof *l->items, cap * sizeof *l->items);
        l->cap = cap;
    }
    l->items[l->n++] = *sc;
}

/* {"name": {...} or a bare number, ...}; a repeated name keeps the last. */
static int parse_scores(decoder *dc, df_score_list *list)
{
    size_t kbase = dc->n_keys, len, *first;
    jstr key;
    int rc;
    if (peek(dc) != '{') return fail_type(dc, "an object of named scores");
    if (enter(dc)) return -1;
    while ((rc = obj_next(dc, &key)) == 1) {
        df_named_score sc = {NULL, 0, "", "", ""};
        if (!(sc.name = cstring_dup(dc, &key, "a score name", &len))) return -1;
        int c = peek(dc);
        if (c == '{')
            rc = parse_score_object(dc, &sc);
        else if (c == '-' || is_digit(c))
            rc = parse_float(dc, &sc.value);
        else if (c == 'n')
            rc = match_literal(dc, "null", 4) ? -1 : 1;
        else
            rc = fail_type(dc, "a score object or a number");
        if (rc < 0) return -1;
        if (rc == 1) continue; /* null: unset */
        push_key(dc, sc.name, len);
        score_push(dc->a, list, &sc);
    }
    if (rc < 0) return -1;
    size_t n = dc->n_keys - kbase, kept = 0;
    if (n && find_duplicates(dc, dc->keys + kbase, n, &first)) {
        df_named_score *items = list->items + (list->n - n);
        for (size_t i = 0; i < n; i++)
            if (first[i] != i) items[first[i]] = items[i];
        for (size_t i = 0; i < n; i++)
            if (first[i] == i) items[kept++] = items[i];
        list->n -= n - kept;
    }
    dc->n_keys = kbase;
    return 0;
}

/* ========================================================================
 * Decoder: documents
 * ======================================================================== */

enum doc_field {
    F_ID,
    F_PARENT_ID,
    F_GRANULARITY,
    F_ADJACENCY,
    F_TEXT,
    F_BLOB,
    F_TENSOR,
    F_EMBEDDING,
    F_MIME_TYPE,
    F_URI,
    F_WEIGHT,
    F_MODALITY,
    F_OFFSET,
    F_LOCATION,
    F_TAGS,
    F_METADATA,
    F_SCORES,
    F_EVALUATIONS,
    F_CHUNKS,
    F_MATCHES,
};

/* DocArray's to_dict() keys, then protobuf-JSON's camelCase spellings
 * (json_name of `_metadata` is "Metadata"). */
static const struct {
    const char *name;
    enum doc_field field;
} doc_keys[] = {
    {"id", F_ID},
    {"parent_id", F_PARENT_ID},
    {"granularity", F_GRANULARITY},
    {"adjacency", F_ADJACENCY},
    {"text", F_TEXT},
    {"blob", F_BLOB},
    {"tensor", F_TENSOR},
    {"embedding", F_EMBEDDING},
    {"mime_type", F_MIME_TYPE},
    {"uri", F_URI},
    {"weight", F_WEIGHT},
    {"modality", F_MODALITY},
    {"offset", F_OFFSET},
    {"location", F_LOCATION},
    {"tags", F_TAGS},
    {"_metadata", F_METADATA},
    {"scores", F_SCORES},
    {"evaluations", F_EVALUATIONS},
    {"chunks", F_CHUNKS},
    {"matches", F_MATCHES},
    {"parentId", F_PARENT_ID},
    {"mimeType", F_MIME_TYPE},
    {"Metadata", F_METADATA},
};
#define DOC_KEYS_SNAKE 20 /* the first entries: the names suggested in errors */

static int doc_field_of(const char *k, size_t len)
{
    for (size_t i = 0; i < sizeof doc_keys / sizeof doc_keys[0]; i++)
        if (key_is(k, len, doc_keys[i].name)) return (int)doc_keys[i].field;
    return -1;
}

/* Edit distance, for "did you mean"; both strings short. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t row[32];
    if (na >= 32 || nb >= 32) return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static int fail_unknown_field(decoder *dc, const char *k, size_t len)
{
    const char *guess = NULL;
    size_t best = 3;
    for (size_t i = 0; i < DOC_KEYS_SNAKE; i++) {
        size_t d = edit_distance(k, len, doc_keys[i].name, strlen(doc_keys[i].name));
        if (d < best) best = d, guess = doc_keys[i].name;
    }
    dc->path[dc->depth - 1].key = NULL; /* name the document, and the key in the message */
    char shown[64];
    size_t n = len < 40 ? len : 40;
    while (n < len && n > 0 && ((unsigned char)k[n] & 0xC0) == 0x80)
        n--;
    snprintf(shown, sizeof shown, "%.*s%s", (int)n, k, n < len ? "..." : "");
    if (guess)
        return fail(dc, "unknown document field \"%s\" (did you mean \"%s\"?)", shown, guess);
    return fail(dc, "unknown document field \"%s\"", shown);
}

static const char *content_name(int kind)
{
    return kind == DF_CONTENT_TEXT ? "text" : kind == DF_CONTENT_BLOB ? "blob" : "tensor";
}

/* DocArray keeps text, blob and tensor in one oneof. */
static int claim_content(decoder *dc, df_doc *d, int kind)
{
    if (d->content != DF_CONTENT_NONE)
        return fail(
            dc, "a document holds only one of text, blob and tensor, and this one already has %s",
            content_name(d->content));
    d->content = (uint8_t)kind;
    return 0;
}

static int parse_string_field(decoder *dc, const char **out, const char *what)
{
    jstr s;
    size_t len;
    if (peek(dc) != '"') return fail_type(dc, "a string");
    if (scan_string(dc, &s)) return -1;
    const char *v = cstring_dup(dc, &s, what, &len);
    if (!v) return -1;
    *out = len ? v : NULL; /* empty means unset, as in DocArray */
    return 0;
}

static int parse_text(decoder *dc, df_doc *d)
{
    jstr s;
    size_t len;
    if (peek(dc) != '"') return fail_type(dc, "a string");
    if (scan_string(dc, &s)) return -1;
    const char *text = string_dup(dc, &s, &len);
    if (!text) return -1;
    if (!len) return 0;
    if (claim_content(dc, d, DF_CONTENT_TEXT)) return -1;
    d->text = text;
    d->text_len = len;
    return 0;
}

static int parse_blob(decoder *dc, df_doc *d)
{
    jstr s;
    uint8_t *blob;
    size_t len;
    if (peek(dc) != '"') return fail_type(dc, "a base64 string");
    if (scan_string(dc, &s) || base64_decode(dc, &s, &blob, &len)) return -1;
    if (!len) return 0;
    if (claim_content(dc, d, DF_CONTENT_BLOB)) return -1;
    d->blob = blob;
    d->blob_len = len;
    return 0;
}

static int parse_map_field(decoder *dc, df_value **slot)
{
    if (peek(dc) != '{') return fail_type(dc, "an object");
    df_value *m = parse_map(dc);
    if (!m) return -1;
    *slot = m->u.c.n ? m : NULL;
    return 0;
}

static void docs_push(df_docs *docs, df_doc *d)
{
    if (docs->n == docs->cap) df_docs_reserve(docs, 1);
    docs->items[docs->n++] = d;
}

static df_doc *parse_doc(decoder *dc);

static int parse_doc_list(decoder *dc, df_docs **slot)
{
    int rc;
    if (peek(dc) != '[') return fail_type(dc, "an array of documents");
    if (enter(dc)) return -1;
    while ((rc = arr_next(dc)) == 1) {
        df_doc *child = parse_doc(dc);
        if (!child) return -1;
        if (!*slot) *slot = df_docs_new(dc->a);
        docs_push(*slot, child);
    }
    return rc;
}

static int parse_doc_field(decoder *dc, df_doc *d, enum doc_field f)
{
    switch (f) {
    case F_ID:
        return parse_string_field(dc, &d->id, "id");
    case F_PARENT_ID:
        return parse_string_field(dc, &d->parent_id, "parent_id");
    case F_MIME_TYPE:
        return parse_string_field(dc, &d->mime_type, "mime_type");
    case F_URI:
        return parse_string_field(dc, &d->uri, "uri");
    case F_MODALITY:
        return parse_string_field(dc, &d->modality, "modality");
    case F_GRANULARITY:
        return parse_u32(dc, &d->granularity);
    case F_ADJACENCY:
        return parse_u32(dc, &d->adjacency);
    case F_WEIGHT:
        return parse_float(dc, &d->weight);
    case F_OFFSET:
        return parse_float(dc, &d->offset);
    case F_TEXT:
        return parse_text(dc, d);
    case F_BLOB:
        return parse_blob(dc, d);
    case F_TENSOR:
        if (claim_content(dc, d, DF_CONTENT_TENSOR)) return -1;
        return parse_ndarray(dc, &d->tensor);
    case F_EMBEDDING:
        return parse_ndarray(dc, &d->embedding);
    case F_LOCATION:
        return parse_location(dc, d);
    case F_TAGS:
        return parse_map_field(dc, &d->tags);
    case F_METADATA:
        return parse_map_field(dc, &d->metadata);
    case F_SCORES:
        return parse_scores(dc, &d->scores);
    case F_EVALUATIONS:
        return parse_scores(dc, &d->evaluations);
    case F_CHUNKS:
        return parse_doc_list(dc, &d->chunks);
    case F_MATCHES:
        return parse_doc_list(dc, &d->matches);
    }
    return fail(dc, "internal error: unhandled field");
}

static df_doc *parse_doc(decoder *dc)
{
    uint32_t seen = 0;
    size_t klen;
    jstr key;
    int rc;
    if (peek(dc) != '{') {
        fail_type(dc, "a document object");
        return NULL;
    }
    if (enter(dc)) return NULL;
    df_doc *d = df_doc_new_empty(dc->a);
    int has_id = 0;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k) return NULL;
        int f = doc_field_of(k, klen);
        if (f < 0) {
            fail_unknown_field(dc, k, klen);
            return NULL;
        }
        if (seen & (1u << f)) {
            fail(dc, "field given twice");
            return NULL;
        }
        seen |= 1u << f;
        if ((rc = take_null(dc)) < 0) return NULL;
        if (rc) continue; /* null: unset */
        if (parse_doc_field(dc, d, (enum doc_field)f)) return NULL;
        has_id |= f == F_ID;
    }
    if (rc < 0) return NULL;
    if (!has_id) { /* DocArray gives every new document a random id */
        char id[33];
        df_doc_random_id(id);
        d->id = df_arena_strndup(dc->a, id, 32);
    }
    return d;
}

/* ========================================================================
 * Decoder: entry points
 * ======================================================================== */

static void decoder_init(decoder *dc, df_arena *a, const char *json, size_t len, const char *prefix,
                         df_error *err)
{
    if (!json) json = "", len = 0;
    dc->start = dc->p = json;
    dc->end = json + len;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) dc->p += 3; /* a UTF-8 BOM */
    dc->a = a;
    dc->prefix = prefix;
    dc->err = err;
    dc->failed = 0;
    dc->depth = 0;
    dc->floats = NULL;
    dc->n_floats = dc->cap_floats = 0;
    dc->vals = NULL;
    dc->n_vals = dc->cap_vals = 0;
    dc->keys = NULL;
    dc->n_keys = dc->cap_keys = 0;
    dc->firsts = NULL;
    dc->cap_firsts = 0;
    dc->bytes = NULL;
    dc->cap_bytes = 0;
    skip_ws(dc);
}

static void decoder_free(decoder *dc)
{
    free(dc->floats);
    free(dc->vals);
    free(dc->keys);
    free(dc->firsts);
    free(dc->bytes);
}

static int expect_end(decoder *dc)
{
    skip_ws(dc);
    if (dc->p == dc->end) return 0;
    return fail_syntax(dc, dc->p, "unexpected data after the JSON value");
}

df_doc *df_json_decode_doc(df_arena *a, const char *json, size_t len, const char *path,
                           df_error *err)
{
    decoder dc;
    decoder_init(&dc, a, json, len, path, err);
    df_doc *d = parse_doc(&dc);
    if (d && expect_end(&dc)) d = NULL;
    decoder_free(&dc);
    return d;
}

int df_json_decode_docs(df_docs *out, const char *json, size_t len, const char *path, df_error *err)
{
    if (!out) return df_error_set(err, DF_E_INVALID_INPUT, "no document array to decode into");
    decoder dc;
    int rc;
    decoder_init(&dc, df_docs_arena(out), json, len, path, err);
    if (peek(&dc) != '[') {
        fail_type(&dc, "an array of documents");
        goto done;
    }
    if (enter(&dc)) goto done;
    while ((rc = arr_next(&dc)) == 1) {
        df_doc *d = parse_doc(&dc);
        if (!d) goto done;
        docs_push(out, d);
    }
    if (rc == 0) expect_end(&dc);
done:
    decoder_free(&dc);
    return dc.failed ? DF_E_INVALID_INPUT : DF_OK;
}

df_value *df_json_decode_value(df_arena *a, const char *json, size_t len, const char *path,
                               df_error *err)
{
    decoder dc;
    decoder_init(&dc, a, json, len, path, err);
    df_value *v = parse_value(&dc);
    if (v && expect_end(&dc)) v = NULL;
    decoder_free(&dc);
    return v;
}

/* ========================================================================
 * Decoder: request and response envelopes
 * ======================================================================== */

/* The documents member of an envelope: [doc, ...], {"docs": [doc, ...]} or
 * null, appended to `out` (a repeated "docs" replaces the earlier one). */
static int parse_envelope_docs(decoder *dc, df_docs *out)
{
    size_t base = out->n, klen;
    jstr key;
    int rc;
    if (peek(dc) == '[') return parse_doc_list(dc, &out);
    if (peek(dc) != '{') {
        rc = take_null(dc);
        return rc ? (rc < 0 ? -1 : 0) : fail_type(dc, "an array of documents");
    }
    if (enter(dc)) return -1;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k) return -1;
        if (!key_is(k, klen, "docs")) {
            if (!parse_value(dc)) return -1; /* Jina 2.x's groundtruths and the like */
            continue;
        }
        out->n = base;
        if ((rc = take_null(dc)) < 0) return -1;
        if (!rc && parse_doc_list(dc, &out)) return -1;
    }
    return rc;
}

/* Like parse_map, with member `docs_key` decoded into `docs` instead. */
static df_value *parse_envelope(decoder *dc, df_docs *docs, const char *docs_key)
{
    size_t base = dc->n_vals, kbase = dc->n_keys, docs_base = docs->n, klen;
    jstr key;
    int rc;
    if (peek(dc) != '{') {
        fail_type(dc, "a JSON object");
        return NULL;
    }
    if (enter(dc)) return NULL;
    while ((rc = obj_next(dc, &key)) == 1) {
        const char *k = string_view(dc, &key, &klen);
        if (!k) return NULL;
        if (key_is(k, klen, docs_key)) {
            docs->n = docs_base;
            if (parse_envelope_docs(dc, docs)) return NULL;
            continue;
        }
        if (!(k = cstring_dup(dc, &key, "an object key", &klen))) return NULL;
        push_key(dc, k, klen);
        df_value *item = parse_value(dc);
        if (!item) return NULL;
        push_value(dc, item);
    }
    return rc < 0 ? NULL : finish_map(dc, base, kbase);
}

int df_json_decode_envelope(df_docs *docs, df_value **members, const char *json, size_t len,
                            const char *docs_key, df_error *err)
{
    *members = NULL;
    if (!docs || !docs_key)
        return df_error_set(err, DF_E_INVALID_INPUT, "no document array to decode into");
    decoder dc;
    decoder_init(&dc, df_docs_arena(docs), json, len, NULL, err);
    df_value *m = parse_envelope(&dc, docs, docs_key);
    if (m && !expect_end(&dc)) *members = m;
    decoder_free(&dc);
    return dc.failed ? DF_E_INVALID_INPUT : DF_OK;
}

/* ========================================================================
 * Encoder: writing into df_buf. out_room() makes room for n bytes plus the
 * NUL that df_buf keeps after its data; writers fill it and add to len.
 * ======================================================================== */

static inline char *out_room(df_buf *b, size_t n)
{
    if (b->cap - b->len < n + 1) df_buf_reserve(b, n);
    return b->data + b->len;
}

static inline void put(df_buf *b, const void *s, size_t n)
{
    memcpy(out_room(b, n), s, n);
    b->len += n;
}

static inline void put_char(df_buf *b, char c)
{
    *out_room(b, 1) = c;
    b->len++;
}

#define PUT_LIT(b, s) put((b), (s), sizeof(s) - 1)

static void terminate(df_buf *b)
{
    out_room(b, 0);
    b->data[b->len] = '\0';
}

static void put_escape(df_buf *b, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    switch (c) {
    case '"':
        e[1] = '"';
        break;
    case '\\':
        e[1] = '\\';
        break;
    case '\b':
        e[1] = 'b';
        break;
    case '\f':
        e[1] = 'f';
        break;
    case '\n':
        e[1] = 'n';
        break;
    case '\r':
        e[1] = 'r';
        break;
    case '\t':
        e[1] = 't';
        break;
    default:
        memcpy(e + 1, "u00", 3);
        e[4] = hex[c >> 4];
        e[5] = hex[c & 15];
        put(b, e, 6);
        return;
    }
    put(b, e, 2);
}

/* Valid UTF-8 is written as is; invalid bytes become U+FFFD so the output
 * is always valid JSON. */
static void enc_string(df_buf *b, const char *str, size_t len)
{
    const unsigned char *p = (const unsigned char *)(str ? str : ""), *end = p + (str ? len : 0);
    const unsigned char *run = p;
    put_char(b, '"');
    while (p < end) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (word_needs_care(w)) break;
            p += 8;
        }
        if (p >= end) break;
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (n) {
                p += n;
                continue;
            }
        }
        put(b, run, (size_t)(p - run));
        if (c >= 0x80)
            PUT_LIT(b, "\xEF\xBF\xBD");
        else
            put_escape(b, c);
        run = ++p;
    }
    put(b, run, (size_t)(p - run));
    put_char(b, '"');
}

static void enc_cstr(df_buf *b, const char *s)
{
    enc_string(b, s, s ? strlen(s) : 0);
}

static void enc_base64(df_buf *b, const uint8_t *p, size_t n)
{
    size_t olen = (n + 2) / 3 * 4;
    char *o = out_room(b, olen + 2), *start = o;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = b64_chars[v >> 18];
        o[1] = b64_chars[(v >> 12) & 63];
        o[2] = b64_chars[(v >> 6) & 63];
        o[3] = b64_chars[v & 63];
        o += 4;
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        o[0] = b64_chars[v >> 18];
        o[1] = b64_chars[(v >> 12) & 63];
        o[2] = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    *o++ = '"';
    b->len += (size_t)(o - start);
}

static void put_u64(df_buf *b, uint64_t v)
{
    char *o = out_room(b, 20);
    b->len += fmt_u64(o, v);
}

static void put_float(df_buf *b, float f)
{
    char *o = out_room(b, 32);
    b->len += fmt_float(o, f);
}

static void put_double(df_buf *b, double x)
{
    char *o = out_room(b, 32);
    b->len += fmt_double(o, x);
}

/* ========================================================================
 * Encoder: values
 * ======================================================================== */

static void enc_value(df_buf *b, const df_value *v)
{
    if (!v) {
        PUT_LIT(b, "null");
        return;
    }
    switch (v->type) {
    case DF_VALUE_BOOL:
        if (v->u.b)
            PUT_LIT(b, "true");
        else
            PUT_LIT(b, "false");
        return;
    case DF_VALUE_NUMBER:
        put_double(b, v->u.num);
        return;
    case DF_VALUE_STRING:
        enc_string(b, v->u.str.s, v->u.str.len);
        return;
    case DF_VALUE_LIST:
        put_char(b, '[');
        for (size_t i = 0; i < v->u.c.n; i++) {
            if (i) put_char(b, ',');
            enc_value(b, v->u.c.items[i]);
        }
        put_char(b, ']');
        return;
    case DF_VALUE_MAP:
        put_char(b, '{');
        for (size_t i = 0; i < v->u.c.n; i++) {
            if (i) put_char(b, ',');
            enc_cstr(b, v->u.c.keys[i]);
            put_char(b, ':');
            enc_value(b, v->u.c.items[i]);
        }
        put_char(b, '}');
        return;
    default:
        PUT_LIT(b, "null");
        return;
    }
}

/* ========================================================================
 * Encoder: n-dim arrays as nested lists (numpy's tolist()), or as
 * NdArrayProto's {"dense": ...} object when lists cannot carry them
 * ======================================================================== */

typedef struct elem_type {
    char kind;     /* 'f', 'i', 'u' or 'b' */
    unsigned size; /* bytes */
    int swap;      /* big-endian data */
} elem_type;

static int elem_type_of(const char *dtype, elem_type *t)
{
    if (!dtype) return 0;
    const char *p = dtype;
    char order = '=';
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=') order = *p++;
    char kind = p[0];
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') return 0;
    if (!is_digit(p[1]) || p[2]) return 0;
    unsigned size = (unsigned)(p[1] - '0');
    if (size != 1 && size != 2 && size != 4 && size != 8) return 0;
    if ((kind == 'f' && size == 1) || (kind == 'b' && size != 1)) return 0;
    if (df_dtype_size(dtype) != size) return 0;
    t->kind = kind;
    t->size = size;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    t->swap = order != '>' && size > 1;
#else
    t->swap = order == '>' && size > 1;
#endif
    return 1;
}

static inline uint64_t load_elem(const uint8_t *p, const elem_type *t)
{
    uint64_t v = 0;
    if (!t->swap) {
        memcpy(&v, p, t->size); /* native order: the low bytes */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v >>= 64 - 8 * t->size;
#endif
        return v;
    }
    for (unsigned i = 0; i < t->size; i++)
        v = v << 8 | p[i];
    return v;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, mant = h & 1023;
    float f = 0;
    if (exp == 31) {
        uint32_t bits = sign | 0x7F800000u | mant << 13;
        memcpy(&f, &bits, 4);
        return f;
    }
    f = exp ? ldexpf((float)(mant | 1024), (int)exp - 25) : ldexpf((float)mant, -24);
    return sign ? -f : f;
}

/* Writes one element; at most 32 characters. */
static size_t fmt_elem(char *o, const uint8_t *p, const elem_type *t)
{
    uint64_t v = load_elem(p, t);
    switch (t->kind) {
    case 'f':
        if (t->size == 8) {
            double x;
            memcpy(&x, &v, 8);
            return fmt_double(o, x);
        }
        if (t->size == 4) {
            uint32_t bits = (uint32_t)v;
            float f = 0;
            memcpy(&f, &bits, 4);
            return fmt_float(o, f);
        }
        return fmt_float(o, half_to_float((uint16_t)v));
    case 'i': {
        unsigned shift = 64 - 8 * t->size; /* sign-extend */
        return fmt_i64(o, (int64_t)(v << shift) >> shift);
    }
    case 'u':
        return fmt_u64(o, v);
    default:
        return copy_word(o, v ? "true" : "false");
    }
}

/* count elements separated by commas, in chunks so a huge array does not
 * reserve its worst case at once. */
static void enc_elems(df_buf *b, const uint8_t *p, size_t count, const elem_type *t)
{
    const int plain_f32 = t->kind == 'f' && t->size == 4 && !t->swap;
    for (size_t i = 0; i < count;) {
        size_t chunk = count - i < 256 ? count - i : 256;
        char *o = out_room(b, chunk * 33), *start = o;
        for (size_t k = 0; k < chunk; k++, i++) {
            if (i) *o++ = ',';
            if (plain_f32) {
                float f = 0;
                memcpy(&f, p + i * 4, 4);
                o += fmt_float(o, f);
            } else {
                o += fmt_elem(o, p + i * t->size, t);
            }
        }
        b->len += (size_t)(o - start);
    }
}

static const uint8_t *enc_level(df_buf *b, const uint8_t *p, const uint32_t *shape, uint32_t ndim,
                                const elem_type *t)
{
    put_char(b, '[');
    if (ndim == 1) {
        enc_elems(b, p, shape[0], t);
        p += (size_t)shape[0] * t->size;
    } else {
        for (uint32_t i = 0; i < shape[0]; i++) {
            if (i) put_char(b, ',');
            p = enc_level(b, p, shape + 1, ndim - 1, t);
        }
    }
    put_char(b, ']');
    return p;
}

/* Whether nested lists can carry the array: a numeric dtype, a shape that
 * matches nbytes, and not millions of empty lists for a zero-size array. */
static int ndarray_listable(const df_ndarray *nd, elem_type *t)
{
    if (!elem_type_of(nd->dtype, t) || nd->ndim > NDARRAY_MAX_DIMS) return 0;
    if (nd->ndim && !nd->shape) return 0;
    size_t count = 1, lists = 1;
    for (uint32_t i = 0; i < nd->ndim && count; i++) {
        if (nd->shape[i] && count > SIZE_MAX / nd->shape[i]) return 0;
        count *= nd->shape[i];
    }
    for (uint32_t i = 0; !count && i < nd->ndim && nd->shape[i]; i++) {
        if (nd->shape[i] > EMPTY_ROWS_MAX / lists) return 0;
        lists *= nd->shape[i];
    }
    if (count > SIZE_MAX / t->size || count * t->size != nd->nbytes) return 0;
    return !nd->nbytes || nd->data;
}

static void enc_ndarray_dense(df_buf *b, const df_ndarray *nd)
{
    PUT_LIT(b, "{\"dense\":{\"buffer\":");
    enc_base64(b, nd->data, nd->data ? nd->nbytes : 0);
    PUT_LIT(b, ",\"shape\":[");
    for (uint32_t i = 0; nd->shape && i < nd->ndim; i++) {
        if (i) put_char(b, ',');
        put_u64(b, nd->shape[i]);
    }
    PUT_LIT(b, "],\"dtype\":");
    enc_cstr(b, nd->dtype);
    put_char(b, '}');
    if (nd->cls_name && nd->cls_name[0]) {
        PUT_LIT(b, ",\"cls_name\":");
        enc_cstr(b, nd->cls_name);
    }
    if (nd->params) {
        PUT_LIT(b, ",\"parameters\":");
        enc_value(b, nd->params);
    }
    put_char(b, '}');
}

static void enc_ndarray(df_buf *b, const df_ndarray *nd)
{
    elem_type t;
    if (!ndarray_listable(nd, &t))
        enc_ndarray_dense(b, nd);
    else if (nd->ndim == 0)
        enc_elems(b, nd->data, 1, &t);
    else
        enc_level(b, nd->data, nd->shape, nd->ndim, &t);
}

/* ========================================================================
 * Encoder: documents (DocArray's to_dict() key order; empty fields left out)
 * ======================================================================== */

static int nonempty(const char *s)
{
    return s && s[0];
}

/* A member's key with its leading comma: ,"uri": */
#define KEY(b, name) PUT_LIT((b), ",\"" name "\":")

/* Fields written only when set (DocArray leaves out empty ones). */
#define STR_FIELD(b, name, s)                                                                      \
    do {                                                                                           \
        if (nonempty(s)) {                                                                         \
            KEY(b, name);                                                                          \
            enc_cstr(b, s);                                                                        \
        }                                                                                          \
    } while (0)
#define U32_FIELD(b, name, x)                                                                      \
    do {                                                                                           \
        if (x) {                                                                                   \
            KEY(b, name);                                                                          \
            put_u64(b, x);                                                                         \
        }                                                                                          \
    } while (0)
#define FLOAT_FIELD(b, name, x) /* NaN is != 0: written, as null */                                \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            KEY(b, name);                                                                          \
            put_float(b, x);                                                                       \
        }                                                                                          \
    } while (0)
#define MAP_FIELD(b, name, v)                                                                      \
    do {                                                                                           \
        if (df_value_len(v)) {                                                                     \
            KEY(b, name);                                                                          \
            enc_value(b, v);                                                                       \
        }                                                                                          \
    } while (0)
#define SCORES_FIELD(b, name, list)                                                                \
    do {                                                                                           \
        if ((list)->n) {                                                                           \
            KEY(b, name);                                                                          \
            enc_scores(b, list);                                                                   \
        }                                                                                          \
    } while (0)
#define DOCS_FIELD(b, name, docs)                                                                  \
    do {                                                                                           \
        if ((docs) && (docs)->n) {                                                                 \
            KEY(b, name);                                                                          \
            enc_docs(b, docs);                                                                     \
        }                                                                                          \
    } while (0)

/* {"name": {"value": 0.9, "op_name": ...}}: the value always, the strings
 * when set. */
static void enc_scores(df_buf *b, const df_score_list *l)
{
    put_char(b, '{');
    for (size_t i = 0; i < l->n; i++) {
        const df_named_score *s = &l->items[i];
        if (i) put_char(b, ',');
        enc_cstr(b, s->name);
        PUT_LIT(b, ":{\"value\":");
        put_float(b, s->value);
        STR_FIELD(b, "op_name", s->op_name);
        STR_FIELD(b, "description", s->description);
        STR_FIELD(b, "ref_id", s->ref_id);
        put_char(b, '}');
    }
    put_char(b, '}');
}

static void enc_docs(df_buf *b, const df_docs *docs);

/* text, blob and tensor share a oneof; DocArray writes blob and tensor
 * before mime_type and text after it. */
static void enc_blob_or_tensor(df_buf *b, const df_doc *d)
{
    if (d->content == DF_CONTENT_BLOB && d->blob_len && d->blob) {
        KEY(b, "blob");
        enc_base64(b, d->blob, d->blob_len);
    } else if (d->content == DF_CONTENT_TENSOR && d->tensor.present) {
        KEY(b, "tensor");
        enc_ndarray(b, &d->tensor);
    }
}

static void enc_doc(df_buf *b, const df_doc *d)
{
    PUT_LIT(b, "{\"id\":");
    enc_cstr(b, d->id);
    STR_FIELD(b, "parent_id", d->parent_id);
    U32_FIELD(b, "granularity", d->granularity);
    U32_FIELD(b, "adjacency", d->adjacency);
    enc_blob_or_tensor(b, d);
    STR_FIELD(b, "mime_type", d->mime_type);
    if (d->content == DF_CONTENT_TEXT && d->text_len && d->text) {
        KEY(b, "text");
        enc_string(b, d->text, d->text_len);
    }
    FLOAT_FIELD(b, "weight", d->weight);
    STR_FIELD(b, "uri", d->uri);
    MAP_FIELD(b, "tags", d->tags);
    MAP_FIELD(b, "_metadata", d->metadata);
    FLOAT_FIELD(b, "offset", d->offset);
    if (d->n_location && d->location) {
        static const elem_type f32 = {'f', 4, 0};
        KEY(b, "location");
        put_char(b, '[');
        enc_elems(b, (const uint8_t *)d->location, d->n_location, &f32);
        put_char(b, ']');
    }
    if (d->embedding.present) {
        KEY(b, "embedding");
        enc_ndarray(b, &d->embedding);
    }
    STR_FIELD(b, "modality", d->modality);
    SCORES_FIELD(b, "evaluations", &d->evaluations);
    SCORES_FIELD(b, "scores", &d->scores);
    DOCS_FIELD(b, "chunks", d->chunks);
    DOCS_FIELD(b, "matches", d->matches);
    put_char(b, '}');
}

static void enc_docs(df_buf *b, const df_docs *docs)
{
    put_char(b, '[');
    for (size_t i = 0; docs && i < docs->n; i++) {
        if (i) put_char(b, ',');
        enc_doc(b, docs->items[i]);
    }
    put_char(b, ']');
}

void df_json_encode_doc(df_buf *b, const df_doc *d)
{
    if (d)
        enc_doc(b, d);
    else
        PUT_LIT(b, "null");
    terminate(b);
}

void df_json_encode_docs(df_buf *b, const df_docs *docs)
{
    enc_docs(b, docs);
    terminate(b);
}

void df_json_encode_value(df_buf *b, const df_value *v)
{
    enc_value(b, v);
    terminate(b);
}

void df_json_encode_string(df_buf *b, const char *s, size_t len)
{
    enc_string(b, s, len);
    terminate(b);
}
