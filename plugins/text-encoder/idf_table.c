/*
 * idf_table.c -- document frequencies and their file (see idf_table.h).
 *
 * File layout, little-endian whatever the machine, so a workspace moves
 * between machines:
 *   8 bytes  "DFTXIDF1"
 *   u32      slots (IDF_SLOTS)
 *   u32      0 (reserved)
 *   u64      documents fitted
 *   u32 x slots  document frequency of each slot
 *   u64      FNV-1a 64 of every byte before it (a torn or edited file is
 *            refused, not half-used)
 */
#include "idf_table.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAGIC        "DFTXIDF1"
#define HEADER_BYTES 24
#define CHUNK_SLOTS  16384

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put_le(unsigned char *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int set_err(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return code;
}

double idf_weight(const idf_table *t, uint32_t slot)
{
    return log((1.0 + (double)t->n_docs) / (1.0 + (double)t->df[slot])) + 1.0;
}

void idf_free(const df_host *h, idf_table *t)
{
    h->free(t->df);
    t->df = NULL;
    t->n_docs = 0;
}

/* ---- loading ------------------------------------------------------------------ */

static int read_all(int fd, unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t got = read(fd, buf, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        buf += got, n -= (size_t)got;
    }
    return 0;
}

static int load_counts(int fd, uint32_t *df, uint64_t *sum)
{
    unsigned char buf[CHUNK_SLOTS * 4];
    for (size_t done = 0; done < IDF_SLOTS; done += CHUNK_SLOTS) {
        if (read_all(fd, buf, sizeof buf)) return -1;
        *sum = fnv(*sum, buf, sizeof buf);
        for (size_t i = 0; i < CHUNK_SLOTS; i++)
            df[done + i] = (uint32_t)get_le(buf + 4 * i, 4);
    }
    return 0;
}

int idf_load(const df_host *h, idf_table *t, const char *path, char *err, size_t err_len)
{
    unsigned char header[HEADER_BYTES], trailer[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return DF_OK;
    if (fd < 0) return set_err(err, err_len, DF_E_IO, "%s: %s", path, strerror(errno));
    int rc = DF_E_IO;
    t->df = h->alloc((size_t)IDF_SLOTS * sizeof *t->df);
    uint64_t sum = 0xcbf29ce484222325ull;
    if (read_all(fd, header, sizeof header) || memcmp(header, MAGIC, 8) != 0 ||
        get_le(header + 8, 4) != IDF_SLOTS) {
        set_err(err, err_len, rc, "%s: not a TextEncoder IDF file of %u slots", path, IDF_SLOTS);
        goto done;
    }
    sum = fnv(sum, header, sizeof header);
    if (load_counts(fd, t->df, &sum) || read_all(fd, trailer, sizeof trailer) ||
        get_le(trailer, 8) != sum || read(fd, trailer, 1) != 0) {
        set_err(err, err_len, rc, "%s: truncated or corrupt (checksum mismatch)", path);
        goto done;
    }
    t->n_docs = get_le(header + 16, 8);
    rc = DF_OK;
done:
    close(fd);
    if (rc) idf_free(h, t);
    return rc;
}

/* ---- saving -------------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t put = write(fd, buf, n);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return -1;
        buf += put, n -= (size_t)put;
    }
    return 0;
}

static int write_table(int fd, const idf_table *t)
{
    unsigned char header[HEADER_BYTES] = MAGIC, buf[CHUNK_SLOTS * 4];
    put_le(header + 8, IDF_SLOTS, 4);
    put_le(header + 12, 0, 4);
    put_le(header + 16, t->n_docs, 8);
    uint64_t sum = fnv(0xcbf29ce484222325ull, header, sizeof header);
    if (write_all(fd, header, sizeof header)) return -1;
    for (size_t done = 0; done < IDF_SLOTS; done += CHUNK_SLOTS) {
        for (size_t i = 0; i < CHUNK_SLOTS; i++)
            put_le(buf + 4 * i, t->df[done + i], 4);
        sum = fnv(sum, buf, sizeof buf);
        if (write_all(fd, buf, sizeof buf)) return -1;
    }
    put_le(buf, sum, 8);
    return write_all(fd, buf, 8);
}

/* fsync of the folder makes the rename itself durable. */
static int sync_parent(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int idf_save(const idf_table *t, const char *path, char *err, size_t err_len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return set_err(err, err_len, DF_E_IO, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return set_err(err, err_len, DF_E_IO, "cannot write %s: %s: %s", path, tmp,
                       strerror(errno));
    int failed = write_table(fd, t) || fsync(fd);
    int saved_errno = errno;
    if (close(fd) != 0 && !failed) failed = 1, saved_errno = errno;
    if (!failed && rename(tmp, path) != 0) failed = 1, saved_errno = errno;
    if (failed) {
        unlink(tmp);
        return set_err(err, err_len, DF_E_IO, "cannot write %s: %s", path, strerror(saved_errno));
    }
    if (sync_parent(path) != 0)
        return set_err(err, err_len, DF_E_IO, "%s: fsync of its folder: %s", path, strerror(errno));
    return DF_OK;
}
