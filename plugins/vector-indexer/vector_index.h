/*
 * vector_index.h -- what the files of the VectorIndexer plugin share: the
 * exact top-k search kernels (search.c), the in-memory index (store.c), the
 * document record format (doc_record.c), checksums (crc32c.c) and the files
 * in the workspace (storage.c). vector_indexer.c binds them to the executor
 * ABI.
 *
 * Private to plugins/vector-indexer: nothing outside this folder includes
 * it, and nothing here is exported from the .so.
 */
#ifndef VECTOR_INDEX_H
#define VECTOR_INDEX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <docflow/executor.h>

/* ========================================================================
 * Errors: a message built where the fact is known, reported once by the
 * executor (host->fail / init_fail / log).
 * ======================================================================== */

typedef struct vx_error {
    int code; /* a df_rc */
    char msg[512];
} vx_error;

/* Sets *err (when it holds no error yet) and returns code. */
int vx_fail(vx_error *err, int code, const char *fmt, ...) DF_PRINTF(3, 4);

/* ========================================================================
 * A growable byte buffer (libc memory, never crosses the ABI).
 * ======================================================================== */

typedef struct vx_buf {
    unsigned char *data;
    size_t len, cap;
    int oom; /* set when a reserve failed; later appends are dropped */
} vx_buf;

/* Makes room for `more` bytes; 0, or -1 (and oom set) when out of memory. */
int vx_buf_reserve(vx_buf *b, size_t more);
void vx_buf_put(vx_buf *b, const void *p, size_t len);
void vx_buf_put_u8(vx_buf *b, uint8_t x);
void vx_buf_put_u32(vx_buf *b, uint32_t x);
void vx_buf_put_u64(vx_buf *b, uint64_t x);
void vx_buf_put_f64(vx_buf *b, double x);
void vx_buf_free(vx_buf *b);

/* A bounds-checked reader over bytes; `bad` is set on the first overrun. */
typedef struct vx_reader {
    const unsigned char *p, *end;
    int bad;
} vx_reader;

uint8_t vx_read_u8(vx_reader *r);
uint32_t vx_read_u32(vx_reader *r);
uint64_t vx_read_u64(vx_reader *r);
double vx_read_f64(vx_reader *r);
/* A pointer to the next `len` bytes (NULL and bad set when fewer remain). */
const void *vx_read_bytes(vx_reader *r, size_t len);

/* ========================================================================
 * crc32c.c: CRC-32C (Castagnoli), the checksum of log records and
 * snapshot sections; SSE4.2's crc32 instruction when the CPU has it.
 * ======================================================================== */

uint32_t vx_crc32c(uint32_t crc, const void *data, size_t len);

/* ========================================================================
 * search.c: exact top-k by inner product.
 *
 * Every metric reduces to "largest dot(q, x) * scale[x] + bias[x]":
 * dot (scale 1, bias 0), cosine (scale 1/|x|) and euclidean (bias
 * -|x|^2/2, since |q-x|^2 = |q|^2 - 2 (q.x - |x|^2/2)).
 * ======================================================================== */

typedef struct vx_hit {
    float value;
    uint32_t row;
} vx_hit;

typedef struct vx_matrix {
    const float *data; /* rows x dim, row-major, contiguous */
    size_t rows, dim;
    const float *scale; /* per row, or NULL for 1 */
    const float *bias;  /* per row, or NULL for 0 */
} vx_matrix;

typedef enum vx_kernel {
    VX_KERNEL_AUTO = 0, /* the fused scan for a few queries, sgemm blocks for more */
    VX_KERNEL_SCAN = 1, /* dot products and top-k in one vectorised pass over the rows */
    VX_KERNEL_BLAS = 2, /* OpenBLAS sgemm of query blocks x row blocks, then selection */
} vx_kernel;

/* pool.c: helper threads that sleep between jobs. A job is n tasks,
 * claimed one at a time by the caller (worker 0) and up to threads - 1
 * helpers (workers 1..), so a helper scheduled late takes fewer tasks
 * instead of holding the caller up. Returns once every task ran, with the
 * number of workers that could take part. */
typedef struct vx_pool vx_pool;
typedef void (*vx_task_fn)(void *ctx, size_t task, int worker);
vx_pool *vx_pool_new(void); /* NULL when out of memory; threads start on first use */
void vx_pool_free(vx_pool *p);
int vx_pool_run(vx_pool *p, int threads, size_t n_tasks, vx_task_fn fn, void *ctx);

/* For each of the nq queries (nq x dim, row-major), the rows with the
 * largest value, best first (equal values: lower row first), in
 * hits[i * k ..], and their number (min(k, rows) unless values are NaN) in
 * counts[i]. `threads` (with `pool`; NULL runs on the caller alone): the
 * fused scan splits the rows over them; the sgemm path lets OpenBLAS's own
 * threads multiply, then the pool's select, so one owner holds the cores
 * at any time. 0, or -1 when out of memory. */
int vx_search(const vx_matrix *m, const float *queries, size_t nq, size_t k, vx_kernel kernel,
              int threads, vx_pool *pool, vx_hit *hits, size_t *counts);

/* The kernel VX_KERNEL_AUTO picks for nq queries. */
vx_kernel vx_search_pick(size_t nq, size_t rows);

/* ========================================================================
 * store.c: the in-memory index. One contiguous float matrix (anonymous
 * memory that grows with mremap, so growing never copies, its pages
 * faulted in ahead of the rows by prefault.c), per-row scale and bias for
 * the metric, per-row records, and a hash from id to row.
 * Deleting moves the last row into the hole, so the matrix stays dense.
 * ======================================================================== */

/* prefault.c: a thread that faults the matrix's pages in ahead of the
 * rows (MADV_POPULATE_WRITE), so /index does not wait for page faults.
 * The store calls lock before it moves or unmaps the matrix (waiting for
 * a chunk in progress) and unlock with the mapping after. ahead asks for
 * the first `upto` bytes of the mapping to be populated. All take NULL. */
typedef struct vx_prefault vx_prefault;
vx_prefault *vx_prefault_new(void); /* NULL when no thread can start */
void vx_prefault_free(vx_prefault *p);
void vx_prefault_lock(vx_prefault *p);
void vx_prefault_unlock(vx_prefault *p, void *base, size_t mapped);
void vx_prefault_ahead(vx_prefault *p, size_t upto);

typedef enum vx_metric {
    VX_METRIC_COSINE = 0,
    VX_METRIC_EUCLIDEAN = 1,
    VX_METRIC_DOT = 2,
} vx_metric;

/* One stored document: its id and its serialized fields (doc_record.c). */
typedef struct vx_record {
    uint32_t id_len;
    uint32_t body_len;
    char data[]; /* id, NUL, body */
} vx_record;

static inline const char *vx_record_id(const vx_record *r)
{
    return r->data;
}
static inline const unsigned char *vx_record_body(const vx_record *r)
{
    return (const unsigned char *)r->data + r->id_len + 1;
}

/* The hash of an id (FNV-1a folded to 32 bits). */
uint32_t vx_id_hash(const char *id, size_t len);

/* A new record (malloc), or NULL when out of memory. */
vx_record *vx_record_new(const char *id, size_t id_len, const void *body, size_t body_len);

typedef struct vx_store {
    vx_metric metric;
    size_t dim;  /* 0 until the first vector, unless pinned */
    int pinned;  /* with.dim: the dimension stays after /clear */
    size_t rows; /* stored documents */
    size_t cap;  /* rows the buffers hold */
    float *matrix;
    size_t mapped; /* bytes mapped for the matrix */
    float *scale;  /* cosine: 1/|x| (0 for a zero vector) */
    float *bias;   /* euclidean: -|x|^2 / 2 */
    vx_record **records;
    uint64_t *slots; /* open addressing, linear probing: hash << 32 | (row + 1), 0 = empty */
    size_t n_slots;  /* a power of two, at least twice the rows */
    size_t record_bytes;
    vx_prefault *prefault; /* or NULL; not owned */
} vx_store;

void vx_store_init(vx_store *s, vx_metric metric, size_t pinned_dim);
void vx_store_free(vx_store *s);
/* Room for `rows` rows of `dim` floats (sets the dimension of an empty
 * store). 0, or -1 when out of memory. After it, puts of new ids up to
 * that count cannot fail. */
int vx_store_reserve(vx_store *s, size_t rows, size_t dim);
/* The row holding `id`, or -1. */
long vx_store_find(const vx_store *s, const char *id, size_t len);
/* Stores `vec` (dim floats, any alignment) under the record's id, replacing a document
 * with the same id; takes the record. Needs vx_store_reserve first; returns
 * 1 when it replaced, 0 when it added. */
int vx_store_put(vx_store *s, const void *vec, vx_record *rec);
/* What one put replaced, so it can be taken back while its log write is
 * still in flight (vector_indexer.c applies to memory during the write). */
typedef struct vx_undo {
    vx_record *rec; /* the record the put stored */
    vx_record *old; /* the record it replaced (kept), or NULL: it added a row */
    float *old_vec; /* the replaced vector (malloc), with old */
} vx_undo;

/* vx_store_put that keeps what it replaces in *u. 1 replaced, 0 added, -1
 * out of memory (nothing changed). */
int vx_store_put_undoable(vx_store *s, const void *vec, vx_record *rec, vx_undo *u);
/* Takes one put back; undo the puts of a request in reverse order. */
void vx_store_undo(vx_store *s, vx_undo *u);
/* The put is durable: frees what undo kept. */
void vx_store_undo_forget(vx_undo *u);
/* Loading: the next row's vector is already in the matrix (the loader
 * read it there); registers its record. Needs vx_store_reserve first.
 * 0, or -1 when the id is already stored (a corrupt snapshot). */
int vx_store_adopt(vx_store *s, vx_record *rec);
/* Deletes `id`: 1, or 0 when absent. */
int vx_store_delete(vx_store *s, const char *id, size_t len);
void vx_store_clear(vx_store *s);
/* The search view of the matrix. */
vx_matrix vx_store_view(const vx_store *s);
/* Memory held: matrix, per-row arrays, records, hash. */
size_t vx_store_bytes(const vx_store *s);

/* ========================================================================
 * doc_record.c: the body of a record, a document's fields in a
 * self-contained binary form (no docflow codec in a plugin):
 *   repeated { u8 field; u32 length; length bytes }   little-endian
 * See README.md "Storage format" for the fields.
 * ======================================================================== */

/* Appends the stored fields of `d` (everything but id, embedding, chunks,
 * matches and scores). */
void vx_doc_encode(const df_host *h, const df_doc *d, vx_buf *out);
/* Sets the stored fields on `d`. 0, or -1 for a malformed body. */
int vx_doc_decode(const df_host *h, df_req *req, df_doc *d, const unsigned char *body, size_t len);

/* ========================================================================
 * ring_io.c: whole-buffer reads and writes through io_uring. Each returns
 * 0 or -errno. One ring per thread; the synchronous calls only while no
 * write is in flight (after vx_ring_wait_all).
 * ======================================================================== */

#include <liburing.h>

#define VX_RING_DEPTH 16

typedef struct vx_ring {
    struct io_uring ring;
    int ready;
    unsigned outstanding; /* submitted by vx_ring_submit_*, not yet collected */
    unsigned unsynced;    /* writes by vx_ring_submit_write since the last sync */
    int error;            /* the first failure among them */
} vx_ring;

int vx_ring_init(vx_ring *r); /* -errno when io_uring is unavailable */
void vx_ring_exit(vx_ring *r);
/* Writes all of buf at `off`; with `sync`, fdatasyncs in the same chain. */
int vx_ring_write(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off, int sync);
/* Reads exactly len bytes at `off` (-ENODATA when the file is shorter). */
int vx_ring_read(vx_ring *r, int fd, void *buf, size_t len, uint64_t off);
/* A full fsync (data and metadata; also for directories). */
int vx_ring_fsync(vx_ring *r, int fd);
/* Writes in flight: queue writes (buf must stay valid and unchanged until
 * vx_ring_wait_all), then the last one (len may be 0) made durable:
 * linked to an fdatasync, which waits for the earlier ones to complete
 * first, or, when it is the only write since the last sync, written with
 * RWF_DSYNC; then wait for everything: 0, or the first failure (-EIO for
 * a short write). */
int vx_ring_submit_write(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off);
int vx_ring_submit_sync(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off);
int vx_ring_wait_all(vx_ring *r);

/* ========================================================================
 * storage.c: the workspace files.
 *
 *   LOCK                  flock'ed while an instance has the workspace
 *   index.dfv             the snapshot: header, matrix, records
 *   log-<gen>.dfl         append-only log segments, 16 hex digits of gen
 *
 * Every write request appends records to the active segment and
 * fdatasyncs it through io_uring before it returns. A segment is sealed
 * when it passes compact_bytes; a background thread then merges the
 * snapshot and the sealed segments into a new snapshot (written aside,
 * fsynced, renamed), and deletes the segments it covers.
 * ======================================================================== */

enum { VX_LOG_PUT = 1, VX_LOG_DELETE = 2, VX_LOG_CLEAR = 3, VX_LOG_PAD = 4 };

/* A log record: a 16-byte header { u32 magic "DFVL"; u8 type; u24 tag;
 * u32 payload length; u32 crc32c of the header's bytes 4..11 and the
 * payload } and the payload:
 *   PUT     u32 dim, f32[dim], u32 id length, id, u32 body length, body
 *   DELETE  u32 id length, id
 *   CLEAR   nothing
 *   PAD     zeros: ends a large direct append at a block boundary
 * The tag is vx_log_tag() of the segment's gen: a segment file is
 * recycled (a compacted one renamed for the next gen, so direct writes go
 * over written blocks), and its old records, still whole after the new
 * ones, carry the tag of their own gen. */
#define VX_LOG_MAGIC       0x4C564644u
#define VX_LOG_HEADER      16
#define VX_LOG_MAX_PAYLOAD ((uint32_t)1 << 30)
#define VX_LOG_TAG_MAX     0xFFFFFFu

/* A gen's tag, 1..VX_LOG_TAG_MAX (0 marks records from before tags). */
uint32_t vx_log_tag(uint64_t gen);
/* Writes the header of a PAD record of `payload` zero bytes. */
void vx_log_pad_header(unsigned char head[VX_LOG_HEADER], uint32_t payload, uint32_t tag);

typedef struct vx_log_entry {
    int type;
    uint32_t dim;
    const unsigned char *vec; /* PUT: dim floats, maybe unaligned: copy them */
    const char *id;           /* not NUL-terminated */
    uint32_t id_len;
    const unsigned char *body;
    uint32_t body_len;
    size_t size; /* header + payload */
} vx_log_entry;

/* Parses the record at p (avail bytes left) of a segment with `tag`:
 * VX_PARSE_OK; VX_PARSE_BAD when no whole valid record starts there (a
 * torn tail, or corruption); VX_PARSE_STALE for a whole record of the
 * file's previous gen (the end of a recycled segment's records). */
enum { VX_PARSE_BAD = 0, VX_PARSE_OK = 1, VX_PARSE_STALE = 2 };
int vx_log_parse(const unsigned char *p, size_t avail, uint32_t tag, vx_log_entry *out);

/* Segment file names: log-<16 hex digits of gen>.dfl; a compacted segment
 * kept for reuse: spare-<its old gen>.dfl, at most VX_SPARES of them. */
#define VX_SEGMENT_FMT  "log-%016llx.dfl"
#define VX_SPARE_FMT    "spare-%016llx.dfl"
#define VX_SPARES       4
#define VX_SNAPSHOT     "index.dfv"
#define VX_SNAPSHOT_TMP "index.dfv.tmp"

/* The snapshot: this header in a 4096-byte block, the matrix (rows x dim
 * f32) at matrix_offset, then the records at records_offset, one per row:
 * u32 id length, id, u32 body length, body. */
#define VX_SNAPSHOT_HEADER 4096
typedef struct vx_snapshot_header {
    char magic[8];    /* "DFVSNAP" NUL */
    uint32_t version; /* 1 */
    uint32_t dim;
    uint64_t rows;
    uint64_t covers_gen; /* every log segment up to this gen is inside */
    uint64_t matrix_offset, matrix_bytes;
    uint64_t records_offset, records_bytes;
    uint32_t matrix_crc, records_crc;
    uint32_t reserved;
    uint32_t header_crc; /* of the bytes before it */
} vx_snapshot_header;

#define VX_SNAPSHOT_MAGIC "DFVSNAP"

/* 0 when the header is whole and consistent with a file of file_size
 * bytes; -1 with the reason in why. */
int vx_snapshot_check(const vx_snapshot_header *h, uint64_t file_size, char *why, size_t cap);

/* compaction.c: merges the snapshot and sealed segments into a new
 * snapshot covering gens[n_gens - 1], then deletes those segments. */
typedef struct vx_compaction {
    int dir_fd;
    int has_snapshot;
    const uint64_t *gens; /* ascending */
    size_t n_gens;
    /* Up to max_spares merged segments of at least min_spare_bytes, with a
     * gen from recycle_from on (written with tags), are renamed to spares
     * instead of deleted; their gens come back in spared. */
    uint64_t recycle_from, min_spare_bytes;
    size_t max_spares, n_spared;
    uint64_t spared[VX_SPARES];
    uint64_t snapshot_bytes; /* out: the new snapshot's size */
    uint64_t rows;           /* out: its rows */
    vx_error err;
} vx_compaction;

/* 0, or a df_rc with c->err set (the old files are then left as they were). */
int vx_compact(vx_compaction *c, vx_ring *ring);

/* A document's id and stored body, as a PUT record holds them. */
typedef struct vx_log_fields {
    const char *id;
    size_t id_len;
    const unsigned char *body;
    size_t body_len;
} vx_log_fields;

/* The bytes of a PUT record, the record written at p (that many bytes:
 * encoded in place, in the log's staging buffer), and its id and body
 * read back from p (a record put_at wrote, unchecked). */
size_t vx_log_put_size(size_t dim, size_t id_len, size_t body_len);
void vx_log_put_at(unsigned char *p, const float *vec, size_t dim, const vx_log_fields *f,
                   uint32_t tag);
void vx_log_put_fields(const unsigned char *p, size_t dim, vx_log_fields *f);
/* Appends one log record. */
void vx_log_delete(vx_buf *b, const char *id, size_t len, uint32_t tag);
void vx_log_clear(vx_buf *b, uint32_t tag);

typedef struct vx_storage vx_storage;

typedef struct vx_storage_stats {
    uint64_t snapshot_bytes;
    uint64_t log_bytes;
    size_t segments;
    uint64_t compactions;        /* completed since open */
    uint64_t dropped_tail_bytes; /* torn tail dropped at open */
    int compacting;              /* a background compaction is running */
    int direct;                  /* the log is written with O_DIRECT (else through page cache) */
    size_t spares;               /* compacted segment files kept for reuse */
    uint64_t appends;            /* durable appends since open */
    double sync_seconds;         /* their time from first write to fdatasync done */
} vx_storage_stats;

/* How the log is written: AUTO with O_DIRECT where the filesystem supports
 * it (statx reports a direct-I/O alignment), through the page cache
 * elsewhere; BUFFERED always through the page cache. */
enum { VX_LOG_IO_AUTO = 0, VX_LOG_IO_BUFFERED = 1 };

/* Opens the workspace `dir` (locks it), loads the snapshot and replays the
 * log into `store`. compact_bytes: segment size that seals a segment and
 * starts a background compaction (0: compact on close only). log_io: a
 * VX_LOG_IO_*. NULL on error. */
vx_storage *vx_storage_open(const char *dir, vx_store *store, uint64_t compact_bytes, int log_io,
                            const df_host *h, df_exec *ex, vx_error *err);
/* The tag the records of the next append carry (vx_log_tag of the
 * segment it goes to). */
uint32_t vx_storage_tag(const vx_storage *s);
/* Appends `len` bytes of log records and makes them durable. 0, or a df_rc
 * with err set (then nothing of the append is left in the log). */
int vx_storage_append(vx_storage *s, const void *records, size_t len, vx_error *err);
/* The same in pieces, so the caller can work while the disk writes:
 * begin; append records with write (copied) or room + wrote (encoded in
 * place); sync; finish. Each full staging buffer (STAGE_BYTES, storage.c)
 * goes to the disk at once, the rest at the sync. With `commit`, finish returns once
 * every byte is written and fdatasynced (0), or after taking them all
 * back out of the log (a df_rc with err set); without, it takes them back
 * (the caller gave up) and returns 0. A failed begin still needs its
 * finish. */
int vx_storage_begin(vx_storage *s, vx_error *err);
void vx_storage_write(vx_storage *s, const void *records, size_t len);
/* Room for the next `len` bytes of records: where the caller encodes them
 * (in the staging buffer that is written to disk, when they fit in it),
 * then calls vx_storage_wrote(len). NULL when out of memory (finish then
 * fails the append). */
void *vx_storage_room(vx_storage *s, size_t len);
/* Whether the last room is a side buffer (the record straddles two
 * staging buffers; wrote copies it): its bytes do not stay there. */
int vx_storage_bounced(const vx_storage *s);
void vx_storage_wrote(vx_storage *s, size_t len);
/* Queues the fdatasync after the last bytes (finish does it otherwise),
 * so the caller can go on working while the disk syncs; it starts only
 * once every write before it completed. */
void vx_storage_sync(vx_storage *s);
int vx_storage_finish(vx_storage *s, int commit, vx_error *err);
void vx_storage_stats_get(vx_storage *s, vx_storage_stats *out);
/* Takes in a finished background compaction, if any (never blocks). */
void vx_storage_poll(vx_storage *s);
/* Waits for a running compaction, compacts what is left when the log is
 * worth it (at least 1/16 of the snapshot), releases the lock. */
void vx_storage_close(vx_storage *s);
/* The same without the final compaction (a failed open). */
void vx_storage_close_no_compaction(vx_storage *s);

#endif
