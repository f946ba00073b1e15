/*
 * compaction.c -- merges the snapshot and sealed log segments into a new
 * snapshot, from the files alone.
 *
 * It never touches the in-memory index, so it runs on its own thread (with
 * its own io_uring) while handlers keep serving and appending to newer
 * segments. The segments' records are folded into "last write per id"
 * (a CLEAR drops everything before it); the old snapshot's rows whose id
 * no later record touches are copied across in chunks, with its checksum
 * verified on the way so damage is never carried forward. The new
 * snapshot is written aside, fsynced, renamed over the old one and the
 * directory fsynced; only then are the merged segments deleted, or the
 * newest few renamed to spares for the storage to reuse. A crash at any
 * point leaves either the old snapshot and all segments, or the new
 * snapshot and segments it covers (deleted at the next open).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector_index.h"

#define FLUSH_BYTES ((size_t)8 << 20)

/* Last write per id across the merged segments, in first-write order. */
typedef struct merge_map {
    vx_log_entry *entries; /* PUT or DELETE */
    uint32_t *hashes;
    size_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 empty */
    size_t n_slots;
} merge_map;

static long map_find(const merge_map *m, const char *id, size_t len, uint32_t hash)
{
    if (!m->n_slots) return -1;
    for (size_t i = hash & (m->n_slots - 1);; i = (i + 1) & (m->n_slots - 1)) {
        uint32_t s = m->slots[i];
        if (!s) return -1;
        const vx_log_entry *e = &m->entries[s - 1];
        if (m->hashes[s - 1] == hash && e->id_len == len && memcmp(e->id, id, len) == 0)
            return (long)s - 1;
    }
}

static int map_grow(merge_map *m)
{
    size_t cap = m->cap ? 2 * m->cap : 1024;
    vx_log_entry *e = realloc(m->entries, cap * sizeof *e);
    if (!e) return -1;
    m->entries = e;
    uint32_t *h = realloc(m->hashes, cap * sizeof *h);
    if (!h) return -1;
    m->hashes = h;
    m->cap = cap;
    size_t n_slots = 2 * cap;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t at = m->hashes[i] & (n_slots - 1);
        while (slots[at])
            at = (at + 1) & (n_slots - 1);
        slots[at] = (uint32_t)i + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return 0;
}

static int map_set(merge_map *m, const vx_log_entry *e)
{
    uint32_t hash = vx_id_hash(e->id, e->id_len);
    long i = map_find(m, e->id, e->id_len, hash);
    if (i >= 0) {
        m->entries[i] = *e;
        return 0;
    }
    if (m->n == m->cap && map_grow(m)) return -1;
    size_t at = hash & (m->n_slots - 1);
    while (m->slots[at])
        at = (at + 1) & (m->n_slots - 1);
    m->slots[at] = (uint32_t)m->n + 1;
    m->hashes[m->n] = hash;
    m->entries[m->n++] = *e;
    return 0;
}

static void map_reset(merge_map *m)
{
    m->n = 0;
    if (m->slots) memset(m->slots, 0, m->n_slots * sizeof *m->slots);
}

static void map_free(merge_map *m)
{
    free(m->entries);
    free(m->hashes);
    free(m->slots);
}

/* Everything one compaction holds, freed in one place. */
typedef struct merge {
    vx_compaction *c;
    vx_ring *ring;
    unsigned char **segs;
    merge_map map;
    int cleared; /* a CLEAR in the segments: the old snapshot is dropped */
    /* the old snapshot */
    int old_fd;
    vx_snapshot_header old;
    unsigned char *old_records;
    unsigned char *survives; /* per old row */
    size_t n_survivors;
    /* the new snapshot */
    int out_fd;
    vx_buf out;
    uint64_t pos;
    uint32_t crc;
} merge;

static int read_segments(merge *g)
{
    vx_compaction *c = g->c;
    g->segs = calloc(c->n_gens, sizeof *g->segs);
    if (!g->segs) return vx_fail(&c->err, DF_E_RESOURCE, "out of memory");
    for (size_t i = 0; i < c->n_gens; i++) {
        char name[64];
        snprintf(name, sizeof name, VX_SEGMENT_FMT, (unsigned long long)c->gens[i]);
        int fd = openat(c->dir_fd, name, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0) {
            int rc = vx_fail(&c->err, DF_E_IO, "%s: %s", name, strerror(errno));
            if (fd >= 0) close(fd);
            return rc;
        }
        size_t size = (size_t)sb.st_size;
        g->segs[i] = malloc(size ? size : 1);
        int rc = g->segs[i] ? (size ? vx_ring_read(g->ring, fd, g->segs[i], size, 0) : 0) : -ENOMEM;
        close(fd);
        if (rc < 0) return vx_fail(&c->err, DF_E_IO, "%s: %s", name, strerror(-rc));
        vx_log_entry e;
        for (size_t off = 0; off < size; off += e.size) {
            if (vx_log_parse(g->segs[i] + off, size - off, vx_log_tag(c->gens[i]), &e) !=
                VX_PARSE_OK)
                return vx_fail(&c->err, DF_E_IO, "%s: damaged record at byte %zu", name, off);
            if (e.type == VX_LOG_PAD) continue;
            if (e.type == VX_LOG_CLEAR) {
                map_reset(&g->map);
                g->cleared = 1;
            } else if (map_set(&g->map, &e)) {
                return vx_fail(&c->err, DF_E_RESOURCE, "out of memory");
            }
        }
    }
    return DF_OK;
}

/* Reads the old snapshot's header and records, and marks which of its
 * rows survive (no later record touches their id). */
static int read_old_snapshot(merge *g)
{
    vx_compaction *c = g->c;
    if (!c->has_snapshot || g->cleared) return DF_OK;
    g->old_fd = openat(c->dir_fd, VX_SNAPSHOT, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char why[128];
    if (g->old_fd < 0 || fstat(g->old_fd, &sb) != 0)
        return vx_fail(&c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT, strerror(errno));
    int rc = vx_ring_read(g->ring, g->old_fd, &g->old, sizeof g->old, 0);
    if (rc < 0 || vx_snapshot_check(&g->old, (uint64_t)sb.st_size, why, sizeof why))
        return vx_fail(&c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT, rc < 0 ? strerror(-rc) : why);
    g->old_records = malloc(g->old.records_bytes ? g->old.records_bytes : 1);
    g->survives = malloc(g->old.rows ? g->old.rows : 1);
    if (!g->old_records || !g->survives) return vx_fail(&c->err, DF_E_RESOURCE, "out of memory");
    if (g->old.records_bytes &&
        (rc = vx_ring_read(g->ring, g->old_fd, g->old_records, g->old.records_bytes,
                           g->old.records_offset)) < 0)
        return vx_fail(&c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT, strerror(-rc));
    if (vx_crc32c(0, g->old_records, g->old.records_bytes) != g->old.records_crc)
        return vx_fail(&c->err, DF_E_IO, "%s: records checksum mismatch", VX_SNAPSHOT);
    vx_reader r = {g->old_records, g->old_records + g->old.records_bytes, 0};
    for (uint64_t i = 0; i < g->old.rows; i++) {
        uint32_t id_len = vx_read_u32(&r);
        const char *id = vx_read_bytes(&r, id_len);
        vx_read_bytes(&r, vx_read_u32(&r));
        if (r.bad)
            return vx_fail(&c->err, DF_E_IO, "%s: record %" PRIu64 " cut short", VX_SNAPSHOT, i);
        g->survives[i] = map_find(&g->map, id, id_len, vx_id_hash(id, id_len)) < 0;
        g->n_survivors += g->survives[i];
    }
    return DF_OK;
}

static int flush(merge *g, int force)
{
    if (g->out.oom) return vx_fail(&g->c->err, DF_E_RESOURCE, "out of memory");
    if (g->out.len == 0 || (!force && g->out.len < FLUSH_BYTES)) return DF_OK;
    int rc = vx_ring_write(g->ring, g->out_fd, g->out.data, g->out.len, g->pos, 0);
    if (rc < 0) return vx_fail(&g->c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT_TMP, strerror(-rc));
    g->crc = vx_crc32c(g->crc, g->out.data, g->out.len);
    g->pos += g->out.len;
    g->out.len = 0;
    return DF_OK;
}

/* The surviving rows of the old matrix, read in chunks, its checksum
 * checked along the way. */
static int copy_old_matrix(merge *g, size_t dim)
{
    if (!g->n_survivors) return DF_OK;
    size_t row_bytes = dim * sizeof(float);
    size_t chunk_rows = FLUSH_BYTES / row_bytes ? FLUSH_BYTES / row_bytes : 1;
    unsigned char *in = malloc(chunk_rows * row_bytes);
    if (!in) return vx_fail(&g->c->err, DF_E_RESOURCE, "out of memory");
    uint32_t old_crc = 0;
    int rc = DF_OK;
    for (uint64_t r0 = 0; r0 < g->old.rows && rc == DF_OK; r0 += chunk_rows) {
        size_t n = g->old.rows - r0 < chunk_rows ? (size_t)(g->old.rows - r0) : chunk_rows;
        int io = vx_ring_read(g->ring, g->old_fd, in, n * row_bytes,
                              g->old.matrix_offset + r0 * row_bytes);
        if (io < 0) {
            rc = vx_fail(&g->c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT, strerror(-io));
            break;
        }
        old_crc = vx_crc32c(old_crc, in, n * row_bytes);
        for (size_t i = 0; i < n; i++)
            if (g->survives[r0 + i]) vx_buf_put(&g->out, in + i * row_bytes, row_bytes);
        rc = flush(g, 0);
    }
    free(in);
    if (rc == DF_OK && old_crc != g->old.matrix_crc)
        rc = vx_fail(&g->c->err, DF_E_IO, "%s: matrix checksum mismatch", VX_SNAPSHOT);
    return rc;
}

static int copy_old_records(merge *g)
{
    vx_reader r = {g->old_records, g->old_records + g->old.records_bytes, 0};
    for (uint64_t i = 0; i < g->old.rows && g->n_survivors; i++) {
        const unsigned char *start = r.p;
        vx_read_bytes(&r, vx_read_u32(&r)); /* id */
        vx_read_bytes(&r, vx_read_u32(&r)); /* body */
        if (g->survives[i]) vx_buf_put(&g->out, start, (size_t)(r.p - start));
        int rc = flush(g, 0);
        if (rc) return rc;
    }
    return DF_OK;
}

/* The dimension of the new snapshot; every row must share it. */
static int output_dim(merge *g, uint32_t *dim)
{
    *dim = g->n_survivors ? g->old.dim : 0;
    for (size_t i = 0; i < g->map.n; i++) {
        const vx_log_entry *e = &g->map.entries[i];
        if (e->type != VX_LOG_PUT) continue;
        if (!*dim) *dim = e->dim;
        if (e->dim != *dim)
            return vx_fail(&g->c->err, DF_E_INTERNAL,
                           "documents of dimensions %u and %u in one index", *dim, e->dim);
    }
    return DF_OK;
}

static int write_snapshot(merge *g)
{
    vx_compaction *c = g->c;
    uint32_t dim;
    int rc = output_dim(g, &dim);
    if (rc) return rc;
    g->out_fd = openat(c->dir_fd, VX_SNAPSHOT_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g->out_fd < 0) return vx_fail(&c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT_TMP, strerror(errno));
    vx_snapshot_header h = {.magic = VX_SNAPSHOT_MAGIC,
                            .version = 1,
                            .dim = dim,
                            .covers_gen = c->gens[c->n_gens - 1],
                            .matrix_offset = VX_SNAPSHOT_HEADER};
    g->pos = VX_SNAPSHOT_HEADER;
    g->crc = 0;
    if ((rc = copy_old_matrix(g, dim))) return rc;
    size_t puts = 0;
    for (size_t i = 0; i < g->map.n && rc == DF_OK; i++) {
        const vx_log_entry *e = &g->map.entries[i];
        if (e->type != VX_LOG_PUT) continue;
        vx_buf_put(&g->out, e->vec, (size_t)dim * sizeof(float));
        puts++;
        rc = flush(g, 0);
    }
    if (rc || (rc = flush(g, 1))) return rc;
    h.rows = g->n_survivors + puts;
    h.matrix_bytes = g->pos - VX_SNAPSHOT_HEADER;
    h.matrix_crc = g->crc;
    h.records_offset = g->pos;
    g->crc = 0;
    if ((rc = copy_old_records(g))) return rc;
    for (size_t i = 0; i < g->map.n && rc == DF_OK; i++) {
        const vx_log_entry *e = &g->map.entries[i];
        if (e->type != VX_LOG_PUT) continue;
        vx_buf_put_u32(&g->out, e->id_len);
        vx_buf_put(&g->out, e->id, e->id_len);
        vx_buf_put_u32(&g->out, e->body_len);
        vx_buf_put(&g->out, e->body, e->body_len);
        rc = flush(g, 0);
    }
    if (rc || (rc = flush(g, 1))) return rc;
    h.records_bytes = g->pos - h.records_offset;
    h.records_crc = g->crc;
    h.header_crc = vx_crc32c(0, &h, offsetof(vx_snapshot_header, header_crc));
    unsigned char block[VX_SNAPSHOT_HEADER] = {0};
    memcpy(block, &h, sizeof h);
    int io = vx_ring_write(g->ring, g->out_fd, block, sizeof block, 0, 0);
    if (io == 0) io = vx_ring_fsync(g->ring, g->out_fd);
    if (io < 0) return vx_fail(&c->err, DF_E_IO, "%s: %s", VX_SNAPSHOT_TMP, strerror(-io));
    c->snapshot_bytes = g->pos;
    c->rows = h.rows;
    return DF_OK;
}

/* Keeps the merged segment `name` (of `gen`) as a spare when the job
 * wants one more and it qualifies: 1 when it was renamed. Renamed or not
 * after a crash, it is harmless: a leftover log-* is covered by the
 * snapshot and deleted at the next open; a spare's records carry its old
 * gen's tag, so they read as the end of the log once it is reused. */
static int keep_spare(vx_compaction *c, const char *name, uint64_t gen)
{
    struct stat sb;
    if (c->n_spared >= c->max_spares || c->n_spared >= VX_SPARES || gen < c->recycle_from ||
        fstatat(c->dir_fd, name, &sb, 0) != 0 || (uint64_t)sb.st_size < c->min_spare_bytes)
        return 0;
    char spare[64];
    snprintf(spare, sizeof spare, VX_SPARE_FMT, (unsigned long long)gen);
    if (renameat(c->dir_fd, name, c->dir_fd, spare) != 0) return 0;
    c->spared[c->n_spared++] = gen;
    return 1;
}

/* The new snapshot replaces the old one; the merged segments go, the
 * newest few to spares. */
static int publish(merge *g)
{
    vx_compaction *c = g->c;
    if (renameat(c->dir_fd, VX_SNAPSHOT_TMP, c->dir_fd, VX_SNAPSHOT) != 0)
        return vx_fail(&c->err, DF_E_IO, "rename %s: %s", VX_SNAPSHOT_TMP, strerror(errno));
    int rc = vx_ring_fsync(g->ring, c->dir_fd);
    if (rc < 0) return vx_fail(&c->err, DF_E_IO, "fsync of the workspace: %s", strerror(-rc));
    for (size_t i = c->n_gens; i-- > 0;) {
        char name[64];
        snprintf(name, sizeof name, VX_SEGMENT_FMT, (unsigned long long)c->gens[i]);
        if (!keep_spare(c, name, c->gens[i]))
            unlinkat(c->dir_fd, name, 0); /* a leftover is deleted at the next open */
    }
    return DF_OK;
}

int vx_compact(vx_compaction *c, vx_ring *ring)
{
    if (c->n_gens == 0) return DF_OK;
    merge g = {.c = c, .ring = ring, .old_fd = -1, .out_fd = -1};
    int rc = read_segments(&g);
    if (!rc) rc = read_old_snapshot(&g);
    if (!rc) rc = write_snapshot(&g);
    if (g.out_fd >= 0) close(g.out_fd);
    if (!rc)
        rc = publish(&g);
    else
        unlinkat(c->dir_fd, VX_SNAPSHOT_TMP, 0);
    if (g.old_fd >= 0) close(g.old_fd);
    for (size_t i = 0; g.segs && i < c->n_gens; i++)
        free(g.segs[i]);
    free(g.segs);
    free(g.old_records);
    free(g.survives);
    vx_buf_free(&g.out);
    map_free(&g.map);
    return rc;
}
