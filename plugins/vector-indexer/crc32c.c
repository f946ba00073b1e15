/*
 * crc32c.c -- CRC-32C (Castagnoli), the checksum of every log record and
 * snapshot section. It catches torn and corrupted records, not tampering.
 *
 * SSE4.2's crc32 instruction computes this polynomial directly; elsewhere a
 * byte-wise table does. The instruction has a latency of 3 cycles but a
 * throughput of one per cycle, so a single chain of it runs at a third of
 * what the CPU can do. We therefore run three independent chains over three
 * adjacent lanes of a block and join their CRCs afterwards, as in Mark
 * Adler's crc32c.c: joining needs the first lane's CRC "shifted" over the
 * length of a lane of zero bytes, a linear map that a 4x256 table applies
 * in four lookups. Big buffers (snapshot sections) use long lanes, so the
 * joins cost nothing; log records (~530 bytes) use short ones. Below
 * 3 * VX_CRC_SHORT bytes it is still the single chain.
 */
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "vector_index.h"

#define CRC32C_POLY 0x82F63B78u /* reflected Castagnoli polynomial */

/* Lane lengths in bytes, multiples of 8 (the crc32q word). Long lanes make
 * the two joins per block negligible on big buffers; short lanes of 128
 * bytes give a 532-byte log record one three-lane block: 35 ns against 53
 * for the single chain, and 40 with 64-byte lanes, whose second block waits
 * for the join of the first. */
#define VX_CRC_LONG  8192
#define VX_CRC_SHORT 128

/* Takes a CRC register to the register after some fixed number of zero
 * bytes, one 256-entry table per byte of the register (crc_shift). */
typedef uint32_t crc_shift_table[4][256];

static uint32_t table[256];
static crc_shift_table shift_long;  /* over VX_CRC_LONG zero bytes */
static crc_shift_table shift_short; /* over VX_CRC_SHORT zero bytes */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int have_sse42;

/* A linear map on 32-bit CRC registers over GF(2): column n is the image of
 * bit n. Applying it XORs the columns of the set bits. */
static uint32_t gf2_apply(const uint32_t mat[32], uint32_t vec)
{
    uint32_t sum = 0;
    for (int n = 0; vec; n++, vec >>= 1)
        if (vec & 1) sum ^= mat[n];
    return sum;
}

/* out = a after b. Every map here is a power of the one-zero-bit map, so the
 * order does not matter; out may not alias a or b. */
static void gf2_compose(uint32_t out[32], const uint32_t a[32], const uint32_t b[32])
{
    for (int n = 0; n < 32; n++)
        out[n] = gf2_apply(a, b[n]);
}

/* The map taking a CRC register to the register after feeding it `len`
 * zero bytes: the one-zero-byte map raised to `len` by repeated squaring,
 * as zlib's crc32_combine does, so setup costs microseconds, not the
 * millions of steps of feeding zeros through the table. */
static void zeros_operator(uint32_t op[32], size_t len)
{
    uint32_t power[32], tmp[32];
    power[0] = CRC32C_POLY; /* one zero bit: shift right, reduce bit 0 */
    for (int n = 1; n < 32; n++)
        power[n] = 1u << (n - 1);
    for (int k = 0; k < 3; k++) { /* one zero bit -> one zero byte */
        gf2_compose(tmp, power, power);
        memcpy(power, tmp, sizeof tmp);
    }
    for (int n = 0; n < 32; n++) /* op = identity */
        op[n] = 1u << n;
    for (; len; len >>= 1) {
        if (len & 1) {
            gf2_compose(tmp, power, op);
            memcpy(op, tmp, sizeof tmp);
        }
        gf2_compose(tmp, power, power);
        memcpy(power, tmp, sizeof tmp);
    }
}

/* Tabulate the map per byte of the register: linearity lets four lookups,
 * one per byte, replace 32 conditional XORs. */
static void shift_table_build(crc_shift_table shift, size_t len)
{
    uint32_t op[32];
    zeros_operator(op, len);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            shift[k][b] = gf2_apply(op, b << (8 * k));
}

static uint32_t crc_shift(crc_shift_table shift, uint32_t crc)
{
    return shift[0][crc & 0xff] ^ shift[1][(crc >> 8) & 0xff] ^ shift[2][(crc >> 16) & 0xff] ^
           shift[3][crc >> 24];
}

/* Written once under pthread_once, read-only afterwards. */
static void crc_setup(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        table[i] = c;
    }
    shift_table_build(shift_long, VX_CRC_LONG);
    shift_table_build(shift_short, VX_CRC_SHORT);
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_table(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8); /* any alignment: records sit at arbitrary offsets */
    return w;
}

/* Consume whole blocks of three `lane`-byte lanes from *p. Lanes 1 and 2
 * start from a zero register, so each is the CRC of its bytes alone; by
 * linearity, the register after lanes 0..1 is lane 0's shifted over `lane`
 * zeros XOR lane 1's, and likewise for lane 2. */
__attribute__((target("sse4.2"))) static uint32_t crc_sse42_blocks(uint32_t crc,
                                                                   const unsigned char **p,
                                                                   size_t *len, size_t lane,
                                                                   crc_shift_table shift)
{
    const unsigned char *next = *p;
    for (; *len >= 3 * lane; *len -= 3 * lane, next += 2 * lane) {
        uint64_t crc0 = crc, crc1 = 0, crc2 = 0;
        for (const unsigned char *end = next + lane; next < end; next += 8) {
            crc0 = _mm_crc32_u64(crc0, load64(next));
            crc1 = _mm_crc32_u64(crc1, load64(next + lane));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * lane));
        }
        crc = crc_shift(shift, (uint32_t)crc0) ^ (uint32_t)crc1;
        crc = crc_shift(shift, crc) ^ (uint32_t)crc2;
    }
    *p = next;
    return crc;
}

__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
    crc = crc_sse42_blocks(crc, &p, &len, VX_CRC_LONG, shift_long);
    crc = crc_sse42_blocks(crc, &p, &len, VX_CRC_SHORT, shift_short);
    uint64_t c = crc;
    for (; len >= 8; p += 8, len -= 8)
        c = _mm_crc32_u64(c, load64(p));
    uint32_t c32 = (uint32_t)c;
    for (; len; p++, len--)
        c32 = _mm_crc32_u8(c32, *p);
    return c32;
}
#endif

uint32_t vx_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&table_once, crc_setup);
    crc = ~crc;
#if defined(__x86_64__)
    if (have_sse42) return ~crc_sse42(crc, data, len);
#endif
    return ~crc_table(crc, data, len);
}
