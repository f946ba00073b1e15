/*
 * crc32c.c -- CRC-32C (Castagnoli), the checksum of every log record and
 * snapshot section. It catches torn and corrupted records, not tampering.
 *
 * SSE4.2's crc32 instruction computes this polynomial directly (several
 * GB/s, so checking a 512 MB snapshot at open costs well under a second);
 * elsewhere a byte-wise table does.
 */
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "vector_index.h"

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int have_sse42;

/* Written once under pthread_once, read-only afterwards. */
static void crc_setup(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
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
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
    uint64_t c = crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
    }
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
