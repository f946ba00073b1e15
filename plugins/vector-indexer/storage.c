/*
 * storage.c -- the VectorIndexer's workspace: opening it (lock, snapshot,
 * log replay, torn-tail repair), durable appends, background compaction
 * scheduling, and closing.
 *
 * Durability: an append is written and fdatasynced through io_uring (one
 * linked chain, or one RWF_DSYNC write) before vx_storage_append returns,
 * and a new segment's directory entry is fsynced before its first record
 * is acknowledged. So every acknowledged write survives a SIGKILL or a
 * power cut. A write that fails is truncated away, so the log never holds
 * a half record in the middle; a crash can only leave one at the end of
 * the newest segment, which open drops (each record carries its length
 * and CRC-32C).
 *
 * Where the filesystem supports it (statx reports a direct-I/O alignment:
 * ext4, xfs; not tmpfs), the active segment is written with O_DIRECT, so
 * the kernel writes from our buffers instead of first copying them into
 * page cache (on a VM that returns free memory to its host, that copy ran
 * at 0.7 GB/s into fresh pages, on the CPU, before the fdatasync could
 * start). Direct writes cover whole blocks at block offsets: each append
 * is staged in aligned buffers that begin with the segment's last partial
 * block (kept in memory) and end padded with zeros; the next append
 * rewrites that block with the same leading bytes, so a torn rewrite can
 * only ever lose bytes that were never acknowledged (a large append ends
 * with a PAD record instead, see stage_pad). The file is
 * preallocated PREALLOC_STEP at a time, and a segment's zero tail (the
 * preallocation, the padding) reads as the end of the log: at open, bytes
 * after the last valid record of the newest segment that are all zeros
 * are a clean end, any other byte makes them a torn tail. A sealed
 * segment is cut to its exact length (and synced) before the next one is
 * created, so older segments never end in zeros.
 *
 * Written blocks are cheaper to write again than preallocated ones (no
 * extent conversion, nothing but the data for the fdatasync), so a
 * compaction keeps merged segment files as spares and a new direct
 * segment takes one. Its previous records stay behind the new ones; each
 * record carries its segment's tag, so they read as the end of the log
 * (vx_log_parse: VX_PARSE_STALE), not as data and not as a torn tail.
 *
 * The log records' and snapshot's layouts are in vector_index.h;
 * compaction.c writes snapshots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vector_index.h"

struct vx_storage {
    const df_host *host;
    df_exec *exec;
    char *dir;
    int dir_fd, lock_fd;
    vx_ring ring; /* the handler thread's */
    uint64_t compact_bytes;
    int has_snapshot;
    uint64_t snapshot_gen, snapshot_bytes;
    /* Sealed segments not yet in the snapshot, ascending by gen. */
    uint64_t *sealed, *sealed_bytes;
    size_t n_sealed, cap_sealed;
    /* Compacted segment files kept to become new segments (gens they had),
     * and the first gen this instance created (older ones may hold records
     * without tags, so they are never recycled). */
    uint64_t spares[VX_SPARES];
    size_t n_spares;
    uint64_t own_gen;
    /* The segment appends go to; created on the first append. */
    uint64_t active_gen;
    int active_fd;
    uint64_t active_len;
    int log_io;          /* VX_LOG_IO_*: what the configuration allows */
    int direct;          /* the active segment (or the next one) is written with O_DIRECT */
    size_t blk;          /* direct: the alignment of offsets, lengths and buffers */
    uint64_t alloc_end;  /* direct: the active segment's size, preallocated */
    unsigned char *tail; /* direct: blk bytes, the active segment's last partial block */
    /* The append in progress, staged (the caller encodes its records
     * straight into these buffers) in buffers of STAGE_BYTES, aligned for
     * direct I/O; byte 0 is at file offset stage_base (direct: the start
     * of the partial block, written again), stage_fill bytes are staged,
     * stage_sent submitted. */
    unsigned char **stage;
    size_t n_stage, stage_fill, stage_sent;
    uint64_t stage_base;
    vx_buf bounce;       /* a record that straddles two staging buffers */
    int bounced;         /* vx_storage_room handed out the bounce buffer */
    int broken;          /* a failed append could not be undone: refuse writes */
    uint64_t append_len; /* bytes of records in the append */
    int append_state;
    int sync_submitted; /* the fdatasync of the append is queued */
    /* Background compaction: `finished` is the only field both threads touch. */
    pthread_mutex_t mu;
    pthread_t thread;
    int running, finished;
    vx_compaction job;
    uint64_t *job_gens;
    uint64_t compactions, dropped_tail;
    /* Durable appends, and their time from the first write handed to the
     * kernel to the fdatasync's completion (the write latency users see). */
    uint64_t appends, sync_ns, append_t0;
};

/* ========================================================================
 * Log records
 * ======================================================================== */

uint32_t vx_log_tag(uint64_t gen)
{
    return (uint32_t)((gen - 1) % VX_LOG_TAG_MAX) + 1;
}

/* Bytes 4..7 of a record's header: its type and its segment's tag. */
static void put_type_tag(uint8_t head[4], int type, uint32_t tag)
{
    head[0] = (uint8_t)type;
    head[1] = (uint8_t)tag;
    head[2] = (uint8_t)(tag >> 8);
    head[3] = (uint8_t)(tag >> 16);
}

static size_t record_begin(vx_buf *b, int type, uint32_t tag)
{
    size_t at = b->len;
    uint32_t magic = VX_LOG_MAGIC;
    uint8_t head[4];
    put_type_tag(head, type, tag);
    vx_buf_put(b, &magic, 4);
    vx_buf_put(b, head, 4);
    vx_buf_put_u32(b, 0); /* payload length, patched by record_end */
    vx_buf_put_u32(b, 0); /* crc, patched by record_end */
    return at;
}

static void record_end(vx_buf *b, size_t at)
{
    if (b->oom) return;
    uint32_t len = (uint32_t)(b->len - at - VX_LOG_HEADER);
    memcpy(b->data + at + 8, &len, 4);
    uint32_t crc = vx_crc32c(0, b->data + at + 4, 8);
    crc = vx_crc32c(crc, b->data + at + VX_LOG_HEADER, len);
    memcpy(b->data + at + 12, &crc, 4);
}

size_t vx_log_put_size(size_t dim, size_t id_len, size_t body_len)
{
    return VX_LOG_HEADER + 4 + dim * sizeof(float) + 4 + id_len + 4 + body_len;
}

/* Copies n bytes to p and returns p + n. */
static unsigned char *put_bytes(unsigned char *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

void vx_log_put_at(unsigned char *p, const float *vec, size_t dim, const vx_log_fields *f,
                   uint32_t tag)
{
    uint32_t len = (uint32_t)(vx_log_put_size(dim, f->id_len, f->body_len) - VX_LOG_HEADER);
    uint32_t magic = VX_LOG_MAGIC, d = (uint32_t)dim;
    uint32_t id_len = (uint32_t)f->id_len, body_len = (uint32_t)f->body_len;
    uint8_t type[4];
    put_type_tag(type, VX_LOG_PUT, tag);
    unsigned char *at = put_bytes(p, &magic, 4);
    at = put_bytes(at, type, 4);
    at = put_bytes(at, &len, 4) + 4; /* the crc, below */
    at = put_bytes(at, &d, 4);
    at = put_bytes(at, vec, dim * sizeof *vec);
    at = put_bytes(at, &id_len, 4);
    at = put_bytes(at, f->id, f->id_len);
    at = put_bytes(at, &body_len, 4);
    if (f->body_len) put_bytes(at, f->body, f->body_len);
    uint32_t crc = vx_crc32c(vx_crc32c(0, p + 4, 8), p + VX_LOG_HEADER, len);
    memcpy(p + 12, &crc, 4);
}

void vx_log_put_fields(const unsigned char *p, size_t dim, vx_log_fields *f)
{
    uint32_t id_len, body_len;
    const unsigned char *at = p + VX_LOG_HEADER + 4 + dim * sizeof(float);
    memcpy(&id_len, at, 4);
    f->id = (const char *)at + 4;
    f->id_len = id_len;
    memcpy(&body_len, at + 4 + id_len, 4);
    f->body = at + 8 + id_len;
    f->body_len = body_len;
}

void vx_log_delete(vx_buf *b, const char *id, size_t len, uint32_t tag)
{
    size_t at = record_begin(b, VX_LOG_DELETE, tag);
    vx_buf_put_u32(b, (uint32_t)len);
    vx_buf_put(b, id, len);
    record_end(b, at);
}

void vx_log_clear(vx_buf *b, uint32_t tag)
{
    record_end(b, record_begin(b, VX_LOG_CLEAR, tag));
}

static const unsigned char zeros[4096];

void vx_log_pad_header(unsigned char head[VX_LOG_HEADER], uint32_t payload, uint32_t tag)
{
    uint32_t magic = VX_LOG_MAGIC;
    memcpy(head, &magic, 4);
    put_type_tag(head + 4, VX_LOG_PAD, tag);
    memcpy(head + 8, &payload, 4);
    uint32_t crc = vx_crc32c(0, head + 4, 8);
    for (uint32_t left = payload; left > 0;) {
        uint32_t n = left < sizeof zeros ? left : (uint32_t)sizeof zeros;
        crc = vx_crc32c(crc, zeros, n);
        left -= n;
    }
    memcpy(head + 12, &crc, 4);
}

static uint32_t header_tag(const unsigned char *p)
{
    return (uint32_t)p[5] | (uint32_t)p[6] << 8 | (uint32_t)p[7] << 16;
}

int vx_log_parse(const unsigned char *p, size_t avail, uint32_t tag, vx_log_entry *e)
{
    uint32_t magic, len, crc;
    if (avail < VX_LOG_HEADER) return VX_PARSE_BAD;
    memcpy(&magic, p, 4);
    memcpy(&len, p + 8, 4);
    memcpy(&crc, p + 12, 4);
    if (magic != VX_LOG_MAGIC || len > VX_LOG_MAX_PAYLOAD || len > avail - VX_LOG_HEADER)
        return VX_PARSE_BAD;
    if (vx_crc32c(vx_crc32c(0, p + 4, 8), p + VX_LOG_HEADER, len) != crc) return VX_PARSE_BAD;
    /* Tag 0: written before records carried one; such segments are never
     * recycled, so no stale record has it. */
    uint32_t own = header_tag(p);
    *e = (vx_log_entry){.type = p[4], .size = VX_LOG_HEADER + (size_t)len};
    if (own && own != tag) return VX_PARSE_STALE;
    vx_reader r = {p + VX_LOG_HEADER, p + VX_LOG_HEADER + len, 0};
    switch (e->type) {
    case VX_LOG_PUT:
        e->dim = vx_read_u32(&r);
        e->vec = vx_read_bytes(&r, (size_t)e->dim * sizeof(float));
        e->id_len = vx_read_u32(&r);
        e->id = vx_read_bytes(&r, e->id_len);
        e->body_len = vx_read_u32(&r);
        e->body = vx_read_bytes(&r, e->body_len);
        break;
    case VX_LOG_DELETE:
        e->id_len = vx_read_u32(&r);
        e->id = vx_read_bytes(&r, e->id_len);
        break;
    case VX_LOG_CLEAR:
        break;
    case VX_LOG_PAD:
        r.p = r.end;
        break;
    default:
        return VX_PARSE_BAD;
    }
    return !r.bad && r.p == r.end ? VX_PARSE_OK : VX_PARSE_BAD;
}

int vx_snapshot_check(const vx_snapshot_header *h, uint64_t file_size, char *why, size_t cap)
{
    const char *problem = NULL;
    uint32_t crc = vx_crc32c(0, h, offsetof(vx_snapshot_header, header_crc));
    if (memcmp(h->magic, VX_SNAPSHOT_MAGIC, sizeof h->magic) != 0)
        problem = "not a snapshot";
    else if (h->version != 1)
        problem = "unknown version";
    else if (crc != h->header_crc)
        problem = "header checksum mismatch";
    else if (h->matrix_offset != VX_SNAPSHOT_HEADER ||
             h->matrix_bytes != h->rows * h->dim * sizeof(float) ||
             h->records_offset != h->matrix_offset + h->matrix_bytes ||
             h->records_offset + h->records_bytes != file_size)
        problem = "sections do not match the file size";
    if (problem) snprintf(why, cap, "%s", problem);
    return problem ? -1 : 0;
}

/* ========================================================================
 * Opening: lock, snapshot, segments
 * ======================================================================== */

static void storage_log(vx_storage *s, df_log_level level, const char *what)
{
    s->host->log(s->exec, level, "%s", what);
}

static int lock_workspace(vx_storage *s, vx_error *err)
{
    s->lock_fd = openat(s->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) return vx_fail(err, DF_E_IO, "%s/LOCK: %s", s->dir, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) return DF_OK;
    if (errno == EWOULDBLOCK)
        return vx_fail(err, DF_E_RESOURCE,
                       "workspace %s is in use by another VectorIndexer instance (replicas cannot "
                       "share one index: use shards, or give each its own workspace)",
                       s->dir);
    return vx_fail(err, DF_E_IO, "%s/LOCK: %s", s->dir, strerror(errno));
}

static int apply_entry(vx_store *st, const vx_log_entry *e, const char *where, uint64_t off,
                       vx_error *err)
{
    if (e->type == VX_LOG_PAD) return DF_OK;
    if (e->type == VX_LOG_CLEAR) {
        vx_store_clear(st);
        return DF_OK;
    }
    if (e->type == VX_LOG_DELETE) {
        vx_store_delete(st, e->id, e->id_len);
        return DF_OK;
    }
    if ((st->rows || st->pinned) && e->dim != st->dim)
        return vx_fail(err, DF_E_INVALID_INPUT,
                       "%s: the document at byte %" PRIu64
                       " has dimension %u, the index has dimension %zu",
                       where, off, e->dim, st->dim);
    vx_record *rec = vx_record_new(e->id, e->id_len, e->body, e->body_len);
    if (!rec || vx_store_reserve(st, st->rows + 1, e->dim)) {
        free(rec);
        return vx_fail(err, DF_E_RESOURCE, "%s: out of memory loading the index", where);
    }
    vx_store_put(st, e->vec, rec);
    return DF_OK;
}

static int load_snapshot_records(vx_store *st, const unsigned char *p, size_t len, uint64_t rows,
                                 const char *where, vx_error *err)
{
    vx_reader r = {p, p + len, 0};
    for (uint64_t i = 0; i < rows; i++) {
        uint32_t id_len = vx_read_u32(&r);
        const char *id = vx_read_bytes(&r, id_len);
        uint32_t body_len = vx_read_u32(&r);
        const void *body = vx_read_bytes(&r, body_len);
        if (r.bad) return vx_fail(err, DF_E_IO, "%s: record %" PRIu64 " is cut short", where, i);
        vx_record *rec = vx_record_new(id, id_len, body, body_len);
        if (!rec) return vx_fail(err, DF_E_RESOURCE, "%s: out of memory loading the index", where);
        if (vx_store_adopt(st, rec)) {
            free(rec);
            return vx_fail(err, DF_E_IO, "%s: id '%.*s' appears twice", where, (int)id_len, id);
        }
    }
    if (r.p != r.end) return vx_fail(err, DF_E_IO, "%s: bytes after the last record", where);
    return DF_OK;
}

static int load_snapshot(vx_storage *s, vx_store *st, vx_error *err)
{
    char where[4200];
    snprintf(where, sizeof where, "%s/%s", s->dir, VX_SNAPSHOT);
    int fd = openat(s->dir_fd, VX_SNAPSHOT, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return DF_OK;
    if (fd < 0) return vx_fail(err, DF_E_IO, "%s: %s", where, strerror(errno));
    unsigned char *records = NULL;
    struct stat sb;
    vx_snapshot_header h;
    char why[128];
    int rc;
    if (fstat(fd, &sb) != 0) {
        rc = vx_fail(err, DF_E_IO, "%s: %s", where, strerror(errno));
        goto out;
    }
    if ((uint64_t)sb.st_size < VX_SNAPSHOT_HEADER ||
        (rc = vx_ring_read(&s->ring, fd, &h, sizeof h, 0)) < 0 ||
        vx_snapshot_check(&h, (uint64_t)sb.st_size, why, sizeof why)) {
        rc = vx_fail(err, DF_E_IO, "%s: damaged snapshot (%s)", where,
                     (uint64_t)sb.st_size < VX_SNAPSHOT_HEADER ? "shorter than its header" : why);
        goto out;
    }
    if (st->pinned && h.rows && h.dim != st->dim) {
        rc = vx_fail(err, DF_E_INVALID_INPUT,
                     "%s holds %u-dimensional embeddings but with.dim is %zu: use dim: %u, or "
                     "another workspace",
                     where, h.dim, st->dim, h.dim);
        goto out;
    }
    if (h.rows && vx_store_reserve(st, h.rows, h.dim)) {
        rc = vx_fail(err, DF_E_RESOURCE, "%s: out of memory for %" PRIu64 " x %u floats", where,
                     h.rows, h.dim);
        goto out;
    }
    if (h.matrix_bytes &&
        (vx_ring_read(&s->ring, fd, st->matrix, h.matrix_bytes, h.matrix_offset) < 0 ||
         vx_crc32c(0, st->matrix, h.matrix_bytes) != h.matrix_crc)) {
        rc = vx_fail(err, DF_E_IO, "%s: damaged snapshot (matrix checksum mismatch)", where);
        goto out;
    }
    records = malloc(h.records_bytes ? h.records_bytes : 1);
    if (!records) {
        rc = vx_fail(err, DF_E_RESOURCE, "%s: out of memory", where);
        goto out;
    }
    if ((h.records_bytes &&
         vx_ring_read(&s->ring, fd, records, h.records_bytes, h.records_offset) < 0) ||
        vx_crc32c(0, records, h.records_bytes) != h.records_crc) {
        rc = vx_fail(err, DF_E_IO, "%s: damaged snapshot (records checksum mismatch)", where);
        goto out;
    }
    rc = load_snapshot_records(st, records, h.records_bytes, h.rows, where, err);
    if (rc == DF_OK) {
        s->has_snapshot = 1;
        s->snapshot_gen = h.covers_gen;
        s->snapshot_bytes = (uint64_t)sb.st_size;
    }
out:
    free(records);
    close(fd);
    return rc;
}

static int cmp_gen(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* <prefix><16 hex>.dfl -> its gen; 0 for any other name (gens start at 1). */
static uint64_t file_gen(const char *name, const char *prefix)
{
    size_t p = strlen(prefix);
    if (strlen(name) != p + 20 || strncmp(name, prefix, p) != 0 ||
        strcmp(name + p + 16, ".dfl") != 0)
        return 0;
    uint64_t gen = 0;
    for (size_t i = p; i < p + 16; i++) {
        char c = name[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return 0;
        gen = gen << 4 | (uint64_t)v;
    }
    return gen;
}

static void segment_name(char *out, size_t cap, uint64_t gen)
{
    snprintf(out, cap, VX_SEGMENT_FMT, (unsigned long long)gen);
}

/* The gens of the files named <prefix><gen>.dfl in the workspace,
 * ascending (malloc; *n set). */
static int list_gens(vx_storage *s, const char *prefix, uint64_t **out, size_t *n, vx_error *err)
{
    int fd = dup(s->dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return vx_fail(err, DF_E_IO, "%s: %s", s->dir, strerror(errno));
    }
    rewinddir(d);
    size_t cap = 16;
    uint64_t *gens = malloc(cap * sizeof *gens);
    *n = 0;
    struct dirent *e;
    while (gens && (e = readdir(d))) {
        uint64_t gen = file_gen(e->d_name, prefix);
        if (!gen) continue;
        if (*n == cap) {
            uint64_t *g = realloc(gens, 2 * cap * sizeof *gens);
            if (!g) {
                free(gens);
                gens = NULL;
                break;
            }
            gens = g;
            cap *= 2;
        }
        gens[(*n)++] = gen;
    }
    closedir(d);
    if (!gens) return vx_fail(err, DF_E_RESOURCE, "out of memory listing %s", s->dir);
    qsort(gens, *n, sizeof *gens, cmp_gen);
    *out = gens;
    return DF_OK;
}

static int push_sealed(vx_storage *s, uint64_t gen, uint64_t bytes)
{
    if (s->n_sealed == s->cap_sealed) {
        size_t cap = s->cap_sealed ? 2 * s->cap_sealed : 16;
        uint64_t *g = realloc(s->sealed, cap * sizeof *g);
        if (!g) return -1;
        s->sealed = g;
        uint64_t *b = realloc(s->sealed_bytes, cap * sizeof *b);
        if (!b) return -1;
        s->sealed_bytes = b;
        s->cap_sealed = cap;
    }
    s->sealed[s->n_sealed] = gen;
    s->sealed_bytes[s->n_sealed++] = bytes;
    return 0;
}

/* Cuts the tail off the newest segment and makes the cut durable. The
 * tail's bytes up to `end` are not all zero: a torn record, logged; only
 * zeros (end == keep): the preallocated space after the last record, a
 * clean end. */
static int drop_tail(vx_storage *s, int fd, const char *where, uint64_t keep, uint64_t end,
                     vx_error *err)
{
    int rc = ftruncate(fd, (off_t)keep) != 0 ? -errno : vx_ring_fsync(&s->ring, fd);
    if (rc < 0)
        return vx_fail(err, DF_E_IO, "%s: cannot drop the tail after the last record: %s", where,
                       strerror(-rc));
    if (end == keep) return DF_OK;
    uint64_t size = end;
    char msg[4400];
    snprintf(msg, sizeof msg,
             "%s: dropped an incomplete record at its end (%" PRIu64
             " bytes: a write the process did not finish, never acknowledged)",
             where, size - keep);
    storage_log(s, DF_LOG_WARN, msg);
    s->dropped_tail += size - keep;
    return DF_OK;
}

/* What follows the last valid record of a segment with `tag` (len bytes
 * at p): 0 for a clean end, else how far a write the process did not
 * finish reaches (for the warning). Clean: zeros (the preallocation, the
 * padding of the last block) or, in a recycled file, its old gen's
 * records with none of ours among them. Ours: a record of ours begins
 * there, cut short, or one lies further on (a later block of the same
 * write landed); anything else that is not zero is damage too. */
static size_t torn_bytes(const unsigned char *p, size_t len, uint32_t tag)
{
    const uint32_t magic = VX_LOG_MAGIC;
    size_t torn = 0;
    int stale = 0;
    if (len >= VX_LOG_HEADER && header_tag(p) == tag) {
        uint32_t m, n;
        memcpy(&m, p, 4);
        memcpy(&n, p + 8, 4);
        if (m == magic) torn = n < len - VX_LOG_HEADER ? VX_LOG_HEADER + (size_t)n : len;
    }
    for (const unsigned char *q = p; (q = memmem(q, (size_t)(p + len - q), &magic, 4)); q++) {
        vx_log_entry e;
        int got = vx_log_parse(q, (size_t)(p + len - q), tag, &e);
        if (got == VX_PARSE_BAD) continue;
        if (got == VX_PARSE_OK) torn = (size_t)(q - p) + e.size;
        stale |= got == VX_PARSE_STALE;
        q += e.size - 1;
    }
    if (torn || stale) return torn;
    while (len > 0 && p[len - 1] == 0) /* past the last byte that is not zero */
        len--;
    return len;
}

/* Replays one segment into the store. A record that fails its checks ends
 * the replay: in the newest segment it is a torn tail and is dropped; in
 * an older one it is damage, and opening fails rather than silently lose
 * what follows. */
static int replay_segment(vx_storage *s, vx_store *st, uint64_t gen, int newest, vx_error *err)
{
    char name[64], where[4200];
    segment_name(name, sizeof name, gen);
    snprintf(where, sizeof where, "%s/%s", s->dir, name);
    int fd = openat(s->dir_fd, name, O_RDWR | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int rc = vx_fail(err, DF_E_IO, "%s: %s", where, strerror(errno));
        if (fd >= 0) close(fd);
        return rc;
    }
    uint64_t size = (uint64_t)sb.st_size, off = 0;
    unsigned char *buf = malloc(size ? size : 1);
    int rc = DF_OK;
    if (!buf)
        rc = vx_fail(err, DF_E_RESOURCE, "%s: out of memory", where);
    else if (size && (rc = vx_ring_read(&s->ring, fd, buf, size, 0)) < 0)
        rc = vx_fail(err, DF_E_IO, "%s: %s", where, strerror(-rc));
    vx_log_entry e;
    while (rc == DF_OK && off < size &&
           vx_log_parse(buf + off, size - off, vx_log_tag(gen), &e) == VX_PARSE_OK) {
        rc = apply_entry(st, &e, where, off, err);
        off += e.size;
    }
    if (rc == DF_OK && off < size) {
        uint64_t end = off + torn_bytes(buf + off, size - off, vx_log_tag(gen));
        if (newest)
            rc = drop_tail(s, fd, where, off, end, err);
        else
            rc = vx_fail(err, DF_E_IO,
                         "%s: the record at byte %" PRIu64 " is damaged and %" PRIu64
                         " bytes follow it; an older segment is never torn by a crash, so this "
                         "is disk damage: restore the workspace from a backup",
                         where, off, size - off);
    }
    if (rc == DF_OK && push_sealed(s, gen, off)) rc = vx_fail(err, DF_E_RESOURCE, "out of memory");
    free(buf);
    close(fd);
    return rc;
}

static void start_compaction(vx_storage *s);
static size_t direct_alignment(int fd);

/* The spares a compaction left, newest kept; more than VX_SPARES (a
 * smaller limit before) are deleted, and all of them when this log is
 * not written direct (with.log_io: buffered, or a copy of the workspace
 * on tmpfs): they would never be used. */
static int load_spares(vx_storage *s, vx_error *err)
{
    uint64_t *gens = NULL;
    size_t n = 0;
    int rc = list_gens(s, "spare-", &gens, &n, err);
    int keep = s->log_io == VX_LOG_IO_AUTO && s->direct;
    for (size_t i = 0; rc == DF_OK && i < n; i++) {
        if (keep && i + VX_SPARES >= n) {
            s->spares[s->n_spares++] = gens[i];
            continue;
        }
        char name[64];
        snprintf(name, sizeof name, VX_SPARE_FMT, (unsigned long long)gens[i]);
        unlinkat(s->dir_fd, name, 0);
    }
    free(gens);
    return rc;
}

static int load(vx_storage *s, vx_store *st, vx_error *err)
{
    if (unlinkat(s->dir_fd, VX_SNAPSHOT_TMP, 0) != 0 && errno != ENOENT)
        return vx_fail(err, DF_E_IO, "%s/%s: %s", s->dir, VX_SNAPSHOT_TMP, strerror(errno));
    int rc = load_snapshot(s, st, err);
    if (rc) return rc;
    uint64_t *gens = NULL;
    size_t n = 0;
    if ((rc = list_gens(s, "log-", &gens, &n, err))) return rc;
    uint64_t newest = s->snapshot_gen;
    uint64_t log_bytes = 0;
    for (size_t i = 0; i < n && rc == DF_OK; i++) {
        char name[64];
        segment_name(name, sizeof name, gens[i]);
        if (gens[i] <= s->snapshot_gen) { /* merged before a crash cut the cleanup short */
            unlinkat(s->dir_fd, name, 0);
            continue;
        }
        rc = replay_segment(s, st, gens[i], i + 1 == n, err);
        newest = gens[i];
        if (rc == DF_OK) log_bytes += s->sealed_bytes[s->n_sealed - 1];
    }
    free(gens);
    s->active_gen = s->own_gen = newest + 1;
    if (rc == DF_OK) rc = load_spares(s, err);
    if (rc == DF_OK && s->compact_bytes && log_bytes >= s->compact_bytes) start_compaction(s);
    return rc;
}

vx_storage *vx_storage_open(const char *dir, vx_store *store, uint64_t compact_bytes, int log_io,
                            const df_host *h, df_exec *ex, vx_error *err)
{
    vx_storage *s = calloc(1, sizeof *s);
    if (!s) return vx_fail(err, DF_E_RESOURCE, "out of memory"), NULL;
    *s = (vx_storage){.host = h,
                      .exec = ex,
                      .dir_fd = -1,
                      .lock_fd = -1,
                      .active_fd = -1,
                      .log_io = log_io,
                      .compact_bytes = compact_bytes};
    pthread_mutex_init(&s->mu, NULL);
    s->dir = strdup(dir);
    int rc;
    if (!s->dir) {
        vx_fail(err, DF_E_RESOURCE, "out of memory");
        goto fail;
    }
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        vx_fail(err, DF_E_IO, "workspace %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (lock_workspace(s, err)) goto fail;
    /* What the segments will be written with (LOCK is on their filesystem);
     * each new segment checks again. */
    s->direct = log_io == VX_LOG_IO_AUTO && direct_alignment(s->lock_fd) != 0;
    if ((rc = vx_ring_init(&s->ring)) < 0) {
        vx_fail(err, DF_E_RESOURCE,
                "io_uring_queue_init: %s (the VectorIndexer writes through "
                "io_uring; is it disabled, e.g. by a seccomp profile?)",
                strerror(-rc));
        goto fail;
    }
    if (load(s, store, err)) goto fail;
    return s;
fail:
    vx_storage_close_no_compaction(s);
    return NULL;
}

/* ========================================================================
 * Appending
 * ======================================================================== */

/* Appends are staged in buffers of STAGE_BYTES (a multiple of any block
 * size), each written as soon as it is full, the rest at the sync. Why
 * that large: a direct write into preallocated (unwritten) space
 * completes through a kernel worker that converts the extents, so each
 * write of an append costs a wake-up of that worker, and on a busy
 * 2-vCPU machine such a wake-up can wait a scheduler slice for a CPU.
 * Measured, alternating builds: a 1,000-vector append (547 KB) as one
 * write beat the same bytes in 128, 256 or 512 KB pieces submitted while
 * the rest was still being encoded (0.61 against 0.54 to 0.55 of the
 * O_DIRECT disk alone); larger appends still overlap their encoding
 * with the disk, a megabyte at a time. The active segment is
 * preallocated PREALLOC_STEP (or compact_bytes, when smaller) at a time,
 * at the start of an append (nothing in flight then: ext4's fallocate
 * waits for direct writes), so its blocks are reserved ahead and the file
 * does not fragment. */
#define STAGE_BYTES   ((size_t)1 << 20)
#define PREALLOC_STEP ((uint64_t)16 << 20)
#define PAD_FROM      ((size_t)64 << 10)

/* The alignment O_DIRECT needs on fd's file, or 0 when it has none:
 * statx reports no direct-I/O alignment (tmpfs accepts O_DIRECT but goes
 * through its page cache all the same). At least the filesystem block and
 * 4096, so ext4 never takes its sub-block path (which zeroes around the
 * write and serialises it). */
static size_t direct_alignment(int fd)
{
#ifdef STATX_DIOALIGN
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN, &sx) != 0 ||
        !(sx.stx_mask & STATX_DIOALIGN) || !sx.stx_dio_mem_align || !sx.stx_dio_offset_align)
        return 0;
    size_t a = 4096;
    if (sx.stx_blksize > a) a = sx.stx_blksize;
    if (sx.stx_dio_mem_align > a) a = sx.stx_dio_mem_align;
    if (sx.stx_dio_offset_align > a) a = sx.stx_dio_offset_align;
    return a <= STAGE_BYTES && (a & (a - 1)) == 0 ? a : 0;
#else
    (void)fd;
    return 0;
#endif
}

/* Sets O_DIRECT on the new active segment when the configuration and its
 * filesystem allow it, with the block buffers for that alignment. */
static void choose_direct(vx_storage *s)
{
    s->direct = 0;
    if (s->log_io != VX_LOG_IO_AUTO) return;
    size_t a = direct_alignment(s->active_fd);
    int fl = fcntl(s->active_fd, F_GETFL);
    if (!a || fl < 0) return;
    if (a != s->blk) { /* another alignment: buffers aligned for it */
        for (size_t i = 0; i < s->n_stage; i++)
            free(s->stage[i]);
        s->n_stage = 0;
        free(s->tail);
        s->tail = NULL;
        s->blk = 0;
        void *t;
        if (posix_memalign(&t, a, a) != 0) return;
        s->tail = t;
        s->blk = a;
    }
    if (fcntl(s->active_fd, F_SETFL, fl | O_DIRECT) != 0) return;
    s->direct = 1;
}

/* A spare renamed to `name` and opened, or -1 when none is left (or the
 * log is not written direct: only direct writes gain from written blocks,
 * buffered ones would read them first). alloc_end is set to its size. */
static int reuse_spare(vx_storage *s, const char *name)
{
    while (s->n_spares > 0 && s->log_io == VX_LOG_IO_AUTO && s->direct) {
        uint64_t old = s->spares[--s->n_spares];
        char spare[64];
        snprintf(spare, sizeof spare, VX_SPARE_FMT, (unsigned long long)old);
        /* same tag: its records would read as the new gen's */
        if (vx_log_tag(old) == vx_log_tag(s->active_gen) ||
            renameat(s->dir_fd, spare, s->dir_fd, name) != 0) {
            unlinkat(s->dir_fd, spare, 0);
            continue;
        }
        int fd = openat(s->dir_fd, name, O_WRONLY | O_CLOEXEC);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0) {
            s->alloc_end = (uint64_t)sb.st_size;
            return fd;
        }
        if (fd >= 0) close(fd);
        unlinkat(s->dir_fd, name, 0);
    }
    return -1;
}

static int open_active(vx_storage *s, vx_error *err)
{
    char name[64];
    segment_name(name, sizeof name, s->active_gen);
    s->alloc_end = 0;
    s->active_fd = reuse_spare(s, name);
    if (s->active_fd < 0)
        s->active_fd = openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (s->active_fd < 0) return vx_fail(err, DF_E_IO, "%s/%s: %s", s->dir, name, strerror(errno));
    /* The new name must be durable before the first record in it is. */
    int rc = vx_ring_fsync(&s->ring, s->dir_fd);
    if (rc < 0) {
        close(s->active_fd);
        s->active_fd = -1;
        unlinkat(s->dir_fd, name, 0);
        return vx_fail(err, DF_E_IO, "%s: fsync: %s", s->dir, strerror(-rc));
    }
    s->active_len = 0;
    choose_direct(s);
    return DF_OK;
}

/* Cuts the active segment to its records (direct: the preallocated tail
 * goes) and makes the cut durable. 0 or -errno. */
static int trim_active(vx_storage *s)
{
    if (ftruncate(s->active_fd, (off_t)s->active_len) != 0) return -errno;
    s->alloc_end = s->active_len;
    return vx_ring_fsync(&s->ring, s->active_fd);
}

/* The active segment passed compact_bytes: it becomes read-only history
 * and the next append starts a new one. It is first cut to its exact
 * length (the preallocation, padding), durably, so no older segment ever
 * ends in zeros. */
static void seal_active(vx_storage *s)
{
    if (s->active_fd < 0) return;
    if (trim_active(s) < 0) {
        storage_log(s, DF_LOG_WARN,
                    "cannot cut the log segment to its length; it stays the active one");
        return;
    }
    close(s->active_fd);
    s->active_fd = -1;
    if (push_sealed(s, s->active_gen, s->active_len)) {
        storage_log(s, DF_LOG_WARN, "out of memory sealing a log segment; it stays in the log");
        return;
    }
    s->active_gen++;
    s->active_len = 0;
}

enum {
    APPEND_OK = 0,
    APPEND_REFUSED = 1,   /* begin failed, err says why */
    APPEND_NO_MEMORY = 2, /* a staging buffer could not be allocated */
    APPEND_RESUBMIT = 3,  /* a submit failed: finish rewrites synchronously */
};

/* The i-th staging buffer, allocated on first use (kept across appends,
 * so its pages are warm). */
static unsigned char *stage_buffer(vx_storage *s, size_t i)
{
    if (i < s->n_stage) return s->stage[i];
    unsigned char **v = realloc(s->stage, (i + 1) * sizeof *v);
    if (!v) return NULL;
    s->stage = v;
    void *p;
    if (posix_memalign(&p, s->blk ? s->blk : 64, STAGE_BYTES) != 0) return NULL;
    s->stage[s->n_stage++] = p;
    return p;
}

/* Submits the staged bytes from stage_sent up to `upto`, one write per
 * staging buffer they touch. */
static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void stage_submit(vx_storage *s, size_t upto)
{
    if (!s->append_t0) s->append_t0 = now_ns();
    while (s->stage_sent < upto) {
        size_t from = s->stage_sent;
        size_t end = (from / STAGE_BYTES + 1) * STAGE_BYTES;
        if (end > upto) end = upto;
        s->stage_sent = end;
        if (s->append_state != APPEND_OK) continue;
        const unsigned char *p = s->stage[from / STAGE_BYTES] + from % STAGE_BYTES;
        if (vx_ring_submit_write(&s->ring, s->active_fd, p, end - from, s->stage_base + from) < 0)
            s->append_state = APPEND_RESUBMIT;
    }
}

/* Hands the disk each staging buffer once it is full, so a large append
 * is written while the caller encodes the rest. */
static void stage_flush(vx_storage *s)
{
    size_t upto = s->stage_fill / STAGE_BYTES * STAGE_BYTES;
    if (upto > s->stage_sent) stage_submit(s, upto);
}

/* Copies bytes into the staging buffers. */
static void stage_put(vx_storage *s, const unsigned char *p, size_t len)
{
    while (len > 0) {
        size_t at = s->stage_fill % STAGE_BYTES;
        unsigned char *buf = stage_buffer(s, s->stage_fill / STAGE_BYTES);
        if (!buf) {
            s->append_state = APPEND_NO_MEMORY;
            return;
        }
        size_t n = STAGE_BYTES - at < len ? STAGE_BYTES - at : len;
        memcpy(buf + at, p, n);
        s->stage_fill += n;
        p += n;
        len -= n;
    }
}

/* Where the staging (and the write) ends: direct, the staged bytes padded
 * with zeros to the next block. */
static size_t stage_end(vx_storage *s)
{
    if (!s->direct) return s->stage_fill;
    size_t end = (s->stage_fill + s->blk - 1) / s->blk * s->blk;
    if (end > s->stage_fill)
        memset(s->stage[s->stage_fill / STAGE_BYTES] + s->stage_fill % STAGE_BYTES, 0,
               end - s->stage_fill);
    return end;
}

int vx_storage_begin(vx_storage *s, vx_error *err)
{
    vx_storage_poll(s);
    s->append_len = 0;
    s->append_state = APPEND_OK;
    s->sync_submitted = 0;
    s->bounced = 0;
    s->stage_fill = s->stage_sent = 0;
    s->append_t0 = 0;
    int rc = DF_OK;
    if (s->broken)
        rc = vx_fail(err, DF_E_IO,
                     "%s: an earlier write failed and could not be undone; reopen the index",
                     s->dir);
    else if (s->active_fd < 0)
        rc = open_active(s, err);
    if (rc) {
        s->append_state = APPEND_REFUSED;
        return rc;
    }
    s->stage_base = s->active_len;
    if (s->direct) {
        /* Reserve the blocks ahead; no write is in flight to wait for. A
         * failure is left to the writes, which grow the file themselves
         * (or report ENOSPC, EFBIG). */
        uint64_t step = PREALLOC_STEP; /* no further than the segment is meant to grow */
        if (s->compact_bytes && s->compact_bytes < step)
            step = (s->compact_bytes + s->blk - 1) / s->blk * s->blk;
        uint64_t want = s->active_len + step / 2;
        if (want > s->alloc_end) {
            uint64_t to = (want + step - 1) / step * step;
            if (fallocate(s->active_fd, 0, (off_t)s->alloc_end, (off_t)(to - s->alloc_end)) == 0)
                s->alloc_end = to;
        }
        /* The append starts with the last partial block, written again. */
        size_t t = (size_t)(s->active_len % s->blk);
        s->stage_base = s->active_len - t;
        stage_put(s, s->tail, t);
    }
    return DF_OK;
}

void *vx_storage_room(vx_storage *s, size_t len)
{
    s->bounced = 0;
    if (s->append_state == APPEND_REFUSED || s->append_state == APPEND_NO_MEMORY) return NULL;
    size_t at = s->stage_fill % STAGE_BYTES;
    if (len <= STAGE_BYTES - at) { /* in place: the bytes are written from there */
        unsigned char *buf = stage_buffer(s, s->stage_fill / STAGE_BYTES);
        if (!buf) s->append_state = APPEND_NO_MEMORY;
        return buf ? buf + at : NULL;
    }
    s->bounce.len = 0;
    if (vx_buf_reserve(&s->bounce, len)) {
        vx_buf_free(&s->bounce);
        s->append_state = APPEND_NO_MEMORY;
        return NULL;
    }
    s->bounced = 1; /* straddles two buffers: vx_storage_wrote copies it */
    return s->bounce.data;
}

/* Appended bytes after the fdatasync was queued would not be covered by
 * it: finish then writes the whole append again, synchronously. */
static int after_sync(vx_storage *s)
{
    if (s->sync_submitted) s->append_state = APPEND_RESUBMIT;
    return s->append_state == APPEND_REFUSED || s->append_state == APPEND_NO_MEMORY;
}

void vx_storage_wrote(vx_storage *s, size_t len)
{
    int bounced = s->bounced;
    s->bounced = 0;
    if (after_sync(s) || len == 0) return;
    if (bounced)
        stage_put(s, s->bounce.data, len);
    else
        s->stage_fill += len;
    s->append_len += len;
    stage_flush(s);
}

void vx_storage_write(vx_storage *s, const void *p, size_t len)
{
    if (after_sync(s) || len == 0) return;
    stage_put(s, p, len);
    s->append_len += len;
    stage_flush(s);
}

/* The append again, synchronously, from its staging buffers, then an
 * fdatasync. */
static int rewrite_staged(vx_storage *s)
{
    size_t end = stage_end(s);
    for (size_t at = 0; at < end; at += STAGE_BYTES) {
        size_t len = end - at < STAGE_BYTES ? end - at : STAGE_BYTES;
        int rc = vx_ring_write(&s->ring, s->active_fd, s->stage[at / STAGE_BYTES], len,
                               s->stage_base + at, at + len == end);
        int fl;
        if (rc == -EINVAL && s->direct && (fl = fcntl(s->active_fd, F_GETFL)) >= 0 &&
            fcntl(s->active_fd, F_SETFL, fl & ~O_DIRECT) == 0) {
            /* the file system refused the direct write after all: the
             * same bytes through the page cache, and from now on */
            storage_log(s, DF_LOG_WARN,
                        "a direct write was refused (EINVAL); the log is written through "
                        "the page cache from now on");
            s->direct = 0;
            at = (size_t)0 - STAGE_BYTES; /* from the start again */
            continue;
        }
        if (rc < 0) return rc;
    }
    return 0;
}

/* A large direct append ends with a PAD record up to the end of its last
 * block, so the next append's write starts on a block of its own. A write
 * over the rewritten partial block (written) and preallocated blocks
 * (unwritten) is one ext4 cannot take under its shared inode lock:
 * io_uring hands it to an io-wq worker, which on the handler's busy core
 * started the device write 0.1 ms late (kernel trace, 1,000-vector
 * appends). Small appends are not padded: they would grow the log by up
 * to a block each, and mostly fit in the partial block anyway. */
static void stage_pad(vx_storage *s)
{
    size_t used = s->stage_fill % s->blk;
    if (s->append_len < PAD_FROM || used == 0) return;
    size_t len = s->blk - used;
    if (len < VX_LOG_HEADER) len += s->blk;
    unsigned char head[VX_LOG_HEADER];
    vx_log_pad_header(head, (uint32_t)(len - VX_LOG_HEADER), vx_storage_tag(s));
    vx_storage_write(s, head, VX_LOG_HEADER);
    for (size_t left = len - VX_LOG_HEADER; left > 0;) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        vx_storage_write(s, zeros, n);
        left -= n;
    }
}

/* The rest of the append (direct: up to its last block, padded), in the
 * last staging buffer since stage_flush sent every full one, goes out
 * made durable. */
void vx_storage_sync(vx_storage *s)
{
    if (s->append_state != APPEND_OK || !s->append_len || s->sync_submitted) return;
    if (s->direct) stage_pad(s);
    if (!s->append_t0) s->append_t0 = now_ns();
    size_t from = s->stage_sent, end = stage_end(s);
    s->stage_sent = end;
    s->sync_submitted = 1;
    const unsigned char *p = end > from ? s->stage[from / STAGE_BYTES] + from % STAGE_BYTES : NULL;
    if (vx_ring_submit_sync(&s->ring, s->active_fd, p, end - from, s->stage_base + from) < 0)
        s->append_state = APPEND_RESUBMIT;
}

/* A direct append is durable: the new last partial block is kept for the
 * next append to write again. */
static void keep_tail(vx_storage *s)
{
    size_t t = (size_t)(s->active_len % s->blk);
    size_t at = (size_t)(s->active_len - t - s->stage_base);
    memset(s->tail, 0, s->blk);
    if (t) memcpy(s->tail, s->stage[at / STAGE_BYTES] + at % STAGE_BYTES, t);
    uint64_t written = s->stage_base + (s->stage_fill + s->blk - 1) / s->blk * s->blk;
    if (written > s->alloc_end) s->alloc_end = written;
}

int vx_storage_finish(vx_storage *s, int commit, vx_error *err)
{
    int rc = 0;
    if (commit) vx_storage_sync(s);
    int waited = vx_ring_wait_all(&s->ring);
    if (s->append_state == APPEND_REFUSED) return err->code;
    if (!commit) goto undo;
    if (s->append_state == APPEND_NO_MEMORY) {
        vx_fail(err, DF_E_RESOURCE, "out of memory writing the log");
        goto undo;
    }
    if (rc == 0) rc = waited;
    if (rc < 0 || s->append_state == APPEND_RESUBMIT) rc = rewrite_staged(s); /* short or failed */
    if (rc < 0) {
        char name[64];
        segment_name(name, sizeof name, s->active_gen);
        vx_fail(err, DF_E_IO, "%s/%s: write: %s", s->dir, name, strerror(-rc));
        goto undo;
    }
    s->active_len += s->append_len;
    if (s->direct) keep_tail(s);
    if (s->append_t0) s->sync_ns += now_ns() - s->append_t0;
    s->appends++;
    if (s->compact_bytes && s->active_len >= s->compact_bytes) {
        seal_active(s);
        start_compaction(s);
    }
    return DF_OK;
undo:
    /* Take the partial write back (and a direct segment's preallocation
     * with it), durably, so later records never follow a torn one and
     * nothing of the failed append comes back after a crash. */
    if (trim_active(s) < 0) s->broken = 1;
    return commit ? err->code : DF_OK;
}

int vx_storage_bounced(const vx_storage *s)
{
    return s->bounced;
}

uint32_t vx_storage_tag(const vx_storage *s)
{
    return vx_log_tag(s->active_gen);
}

int vx_storage_append(vx_storage *s, const void *records, size_t len, vx_error *err)
{
    if (vx_storage_begin(s, err) == DF_OK) vx_storage_write(s, records, len);
    return vx_storage_finish(s, 1, err);
}

/* ========================================================================
 * Background compaction
 * ======================================================================== */

static void *compactor_main(void *arg)
{
    vx_storage *s = arg;
    vx_ring ring;
    int rc = vx_ring_init(&ring);
    if (rc < 0)
        vx_fail(&s->job.err, DF_E_RESOURCE, "io_uring_queue_init: %s", strerror(-rc));
    else
        vx_compact(&s->job, &ring);
    vx_ring_exit(&ring);
    pthread_mutex_lock(&s->mu);
    s->finished = 1;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Takes in a compaction's outcome: the merged segments leave the list. */
static void finish_compaction(vx_storage *s)
{
    if (s->job.err.code) {
        char msg[600];
        snprintf(msg, sizeof msg, "compaction failed, the log stays as it is: %s", s->job.err.msg);
        storage_log(s, DF_LOG_ERROR, msg);
    } else {
        size_t n = s->job.n_gens;
        s->has_snapshot = 1;
        s->snapshot_gen = s->job.gens[n - 1];
        s->snapshot_bytes = s->job.snapshot_bytes;
        memmove(s->sealed, s->sealed + n, (s->n_sealed - n) * sizeof *s->sealed);
        memmove(s->sealed_bytes, s->sealed_bytes + n, (s->n_sealed - n) * sizeof *s->sealed_bytes);
        s->n_sealed -= n;
        s->compactions++;
        for (size_t i = 0; i < s->job.n_spared && s->n_spares < VX_SPARES; i++)
            s->spares[s->n_spares++] = s->job.spared[i];
    }
    free(s->job_gens);
    s->job_gens = NULL;
}

void vx_storage_poll(vx_storage *s)
{
    if (!s->running) return;
    pthread_mutex_lock(&s->mu);
    int done = s->finished;
    pthread_mutex_unlock(&s->mu);
    if (!done) return;
    pthread_join(s->thread, NULL);
    s->running = 0;
    finish_compaction(s);
}

static void wait_compaction(vx_storage *s)
{
    if (!s->running) return;
    pthread_join(s->thread, NULL);
    s->running = 0;
    finish_compaction(s);
}

/* Each compaction rewrites the whole snapshot, so it waits until the
 * sealed log is at least half the snapshot: writes are amplified at most
 * about threefold, and a reopen replays at most that much log. */
static int log_is_due(const vx_storage *s)
{
    uint64_t sealed = 0;
    for (size_t i = 0; i < s->n_sealed; i++)
        sealed += s->sealed_bytes[i];
    return sealed > 0 && (!s->has_snapshot || 2 * sealed >= s->snapshot_bytes);
}

/* A compaction of every sealed segment (job_gens: malloc). It keeps
 * merged segments as spares up to VX_SPARES when the log is written
 * direct, those at least half a segment long (one sealed at close is
 * often much shorter, not worth keeping). -1 when out of memory. */
static int prepare_job(vx_storage *s)
{
    s->job_gens = malloc(s->n_sealed * sizeof *s->job_gens);
    if (!s->job_gens) return -1;
    memcpy(s->job_gens, s->sealed, s->n_sealed * sizeof *s->job_gens);
    int recycle = s->log_io == VX_LOG_IO_AUTO && s->direct && s->compact_bytes;
    s->job = (vx_compaction){.dir_fd = s->dir_fd,
                             .has_snapshot = s->has_snapshot,
                             .gens = s->job_gens,
                             .n_gens = s->n_sealed,
                             .recycle_from = s->own_gen,
                             .min_spare_bytes = s->compact_bytes / 2,
                             .max_spares = recycle ? VX_SPARES - s->n_spares : 0};
    return 0;
}

static void start_compaction(vx_storage *s)
{
    vx_storage_poll(s);
    if (s->running || !log_is_due(s) || prepare_job(s)) return;
    s->finished = 0;
    if (pthread_create(&s->thread, NULL, compactor_main, s) != 0) {
        free(s->job_gens);
        s->job_gens = NULL;
        storage_log(s, DF_LOG_WARN, "cannot start the compaction thread; compacting on close");
        return;
    }
    s->running = 1;
}

/* ========================================================================
 * Status and closing
 * ======================================================================== */

void vx_storage_stats_get(vx_storage *s, vx_storage_stats *out)
{
    vx_storage_poll(s);
    *out = (vx_storage_stats){.snapshot_bytes = s->has_snapshot ? s->snapshot_bytes : 0,
                              .log_bytes = s->active_len,
                              .segments = s->n_sealed + (s->active_fd >= 0),
                              .compactions = s->compactions,
                              .dropped_tail_bytes = s->dropped_tail,
                              .compacting = s->running,
                              .direct = s->direct,
                              .spares = s->n_spares,
                              .appends = s->appends,
                              .sync_seconds = (double)s->sync_ns * 1e-9};
    for (size_t i = 0; i < s->n_sealed; i++)
        out->log_bytes += s->sealed_bytes[i];
}

/* Compacting on close rewrites the whole snapshot, so a log that is small
 * next to it stays a log (replaying it at the next open is cheaper). */
static int worth_compacting(const vx_storage *s, uint64_t log_bytes)
{
    return log_bytes > 0 && (!s->has_snapshot || log_bytes * 16 >= s->snapshot_bytes);
}

static void compact_now(vx_storage *s)
{
    uint64_t log_bytes = 0;
    for (size_t i = 0; i < s->n_sealed; i++)
        log_bytes += s->sealed_bytes[i];
    if (!worth_compacting(s, log_bytes) || prepare_job(s)) return;
    vx_compact(&s->job, &s->ring);
    finish_compaction(s);
}

void vx_storage_close_no_compaction(vx_storage *s)
{
    if (!s) return;
    wait_compaction(s);
    if (s->active_fd >= 0) {
        /* the preallocated tail goes; a crash before it did leaves zeros
         * after the last record, which open takes for the end */
        if (!s->broken && ftruncate(s->active_fd, (off_t)s->active_len) != 0)
            storage_log(s, DF_LOG_WARN, "cannot cut the log segment's preallocated tail");
        close(s->active_fd);
    }
    vx_ring_exit(&s->ring);
    if (s->dir_fd >= 0) close(s->dir_fd);
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&s->mu);
    free(s->sealed);
    free(s->sealed_bytes);
    vx_buf_free(&s->bounce);
    for (size_t i = 0; i < s->n_stage; i++)
        free(s->stage[i]);
    free(s->stage);
    free(s->tail);
    free(s->dir);
    free(s);
}

void vx_storage_close(vx_storage *s)
{
    if (!s) return;
    wait_compaction(s);
    if (!s->broken) {
        if (s->active_fd >= 0 && s->active_len > 0) seal_active(s);
        compact_now(s);
    }
    vx_storage_close_no_compaction(s);
}
