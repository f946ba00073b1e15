/*
 * test_vx_crc32c.c -- the VectorIndexer's CRC-32C (plugins/vector-indexer/
 * crc32c.c): standard check values, and agreement with a bit-by-bit
 * reference written here for every length up to 2000, for lengths that
 * cross each tier of its three-lane blocks, at every start alignment, and
 * when chained over split buffers.
 *
 * It tests the path the machine running it takes (SSE4.2 on any x86-64
 * built today); the byte-table fallback is only reached on CPUs without it.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/vector-indexer/vector_index.h"

/* Deliberately the slowest, most literal form of the definition, sharing no
 * table or shift operator with crc32c.c. */
static uint32_t reference_crc32c(uint32_t crc, const unsigned char *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* Fixed-seed xorshift, so a failure reproduces. */
static unsigned char *random_bytes(size_t len, uint64_t seed)
{
    unsigned char *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        p[i] = (unsigned char)(seed >> 24);
    }
    return p;
}

/* vx_crc32c of `data` copied to `offset` bytes into a buffer that ends where
 * the data does, so the sanitizer build catches any read past the end. */
static uint32_t crc_at_offset(const unsigned char *data, size_t len, size_t offset)
{
    size_t size = offset + len;
    unsigned char *buf = malloc(size ? size : 1);
    memcpy(buf + offset, data, len);
    uint32_t crc = vx_crc32c(0, buf + offset, len);
    free(buf);
    return crc;
}

static void test_vx_crc32c_check_value_of_123456789(void)
{
    CU_ASSERT_EQUAL(vx_crc32c(0, "123456789", 9), 0xE3069283u);
    CU_ASSERT_EQUAL(reference_crc32c(0, (const unsigned char *)"123456789", 9), 0xE3069283u);
}

static void test_vx_crc32c_empty_input_returns_the_crc_unchanged(void)
{
    CU_ASSERT_EQUAL(vx_crc32c(0, "", 0), 0);
    CU_ASSERT_EQUAL(vx_crc32c(0xE3069283u, "", 0), 0xE3069283u);
}

/* RFC 3720 (iSCSI) appendix B.4. */
static void test_vx_crc32c_matches_the_iscsi_test_vectors(void)
{
    unsigned char zeros[32] = {0}, ones[32], up[32], down[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) {
        up[i] = (unsigned char)i;
        down[i] = (unsigned char)(31 - i);
    }
    CU_ASSERT_EQUAL(vx_crc32c(0, zeros, 32), 0x8A9136AAu);
    CU_ASSERT_EQUAL(vx_crc32c(0, ones, 32), 0x62A8AB43u);
    CU_ASSERT_EQUAL(vx_crc32c(0, up, 32), 0x46DD794Eu);
    CU_ASSERT_EQUAL(vx_crc32c(0, down, 32), 0x113FDB5Cu);
}

/* Every length from 0 to 2000 covers the serial tail alone, one and several
 * short blocks, and each remainder of words and bytes after them. */
static void test_vx_crc32c_matches_reference_for_every_length_to_2000(void)
{
    enum { MAX_LEN = 2000 };
    unsigned char *data = random_bytes(MAX_LEN, 0x9E3779B97F4A7C15u);
    uint32_t expected = 0; /* reference CRC of data[0..len), grown a byte at a time */
    int mismatches = 0;
    for (size_t len = 0; len <= MAX_LEN; len++) {
        if (len) expected = reference_crc32c(expected, data + len - 1, 1);
        for (size_t offset = 0; offset < 8; offset++)
            mismatches += crc_at_offset(data, len, offset) != expected;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    free(data);
}

/* Long blocks are 3 x 8192 bytes and short ones 3 x 128: these lengths take
 * one and many long blocks, short blocks after them, and every kind of
 * remainder, so a wrong shift operator for either size shows here. */
static void test_vx_crc32c_matches_reference_for_large_lengths(void)
{
    static const size_t lengths[] = {
        3 * 8192 + 5,
        2 * 3 * 8192 + 2 * 3 * 128 + 5 * 8 + 3,
        3 * 8192 - 1,
        (1u << 20) + 7,
    };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        unsigned char *data = random_bytes(lengths[i], 0xD1B54A32D192ED03u + i);
        uint32_t expected = reference_crc32c(0, data, lengths[i]);
        for (size_t offset = 0; offset < 8; offset++)
            CU_ASSERT_EQUAL(crc_at_offset(data, lengths[i], offset), expected);
        free(data);
    }
}

/* Callers chain (the log header, then the payload), and each piece starts
 * its own blocks: splitting anywhere must not change the result. */
static void test_vx_crc32c_chained_pieces_equal_the_whole(void)
{
    enum { LEN = 3 * 8192 * 2 + 1000 };
    static const size_t splits[] = {0, 1, 7, 8, 383, 384, 531, 8192, 3 * 8192, 3 * 8192 + 1, LEN};
    unsigned char *data = random_bytes(LEN, 42);
    uint32_t whole = vx_crc32c(0, data, LEN);
    CU_ASSERT_EQUAL(whole, reference_crc32c(0, data, LEN));
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        size_t at = splits[i];
        CU_ASSERT_EQUAL(vx_crc32c(vx_crc32c(0, data, at), data + at, LEN - at), whole);
    }
    uint32_t three = vx_crc32c(0, data, 100);
    three = vx_crc32c(three, data + 100, 3 * 8192 + 17);
    three = vx_crc32c(three, data + 100 + 3 * 8192 + 17, LEN - 100 - 3 * 8192 - 17);
    CU_ASSERT_EQUAL(three, whole);
    free(data);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("vx_crc32c", NULL, NULL);
    CU_add_test(s, "check value of 123456789", test_vx_crc32c_check_value_of_123456789);
    CU_add_test(s, "empty input returns the crc unchanged",
                test_vx_crc32c_empty_input_returns_the_crc_unchanged);
    CU_add_test(s, "matches the iSCSI test vectors", test_vx_crc32c_matches_the_iscsi_test_vectors);
    CU_add_test(s, "matches reference for every length to 2000 at every offset",
                test_vx_crc32c_matches_reference_for_every_length_to_2000);
    CU_add_test(s, "matches reference for large lengths at every offset",
                test_vx_crc32c_matches_reference_for_large_lengths);
    CU_add_test(s, "chained pieces equal the whole", test_vx_crc32c_chained_pieces_equal_the_whole);
}
