/*
 * store.c -- the in-memory index: the embedding matrix (one contiguous
 * float array), per-row scale and bias for the metric, per-row records,
 * and a hash from id to row.
 *
 * The matrix lives in anonymous memory grown with mremap, so growing a
 * 512 MB matrix moves page tables, not bytes, and never needs twice the
 * memory. Deleting a row moves the last row into its place: the matrix
 * stays dense, so a search reads exactly rows x dim floats.
 *
 * Not here: files (storage.c), search (search.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vector_index.h"

/* A hash slot: the id's 32-bit hash in the high half, row + 1 in the low
 * half; 0 is empty. Keeping the hash makes rehashing and backward-shift
 * deletion free of string hashing, and rejects most probes early. */
#define SLOT_ROW(s)  ((uint32_t)(s)-1)
#define SLOT_HASH(s) ((uint32_t)((s) >> 32))
#define SLOT(h, row) (((uint64_t)(h) << 32) | ((uint64_t)(row) + 1))

/* Bytes of matrix kept faulted in past the reserved rows (prefault.c). */
#define PREFAULT_AHEAD ((size_t)16 << 20)

vx_record *vx_record_new(const char *id, size_t id_len, const void *body, size_t body_len)
{
    if (id_len > UINT32_MAX || body_len > UINT32_MAX) return NULL;
    vx_record *r = malloc(sizeof *r + id_len + 1 + body_len);
    if (!r) return NULL;
    r->id_len = (uint32_t)id_len;
    r->body_len = (uint32_t)body_len;
    memcpy(r->data, id, id_len);
    r->data[id_len] = '\0';
    if (body_len) memcpy(r->data + id_len + 1, body, body_len);
    return r;
}

static size_t record_size(const vx_record *r)
{
    return sizeof *r + r->id_len + 1 + r->body_len;
}

uint32_t vx_id_hash(const char *id, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 32));
}

void vx_store_init(vx_store *s, vx_metric metric, size_t pinned_dim)
{
    *s = (vx_store){.metric = metric, .dim = pinned_dim, .pinned = pinned_dim > 0};
}

void vx_store_free(vx_store *s)
{
    for (size_t r = 0; r < s->rows; r++)
        free(s->records[r]);
    if (s->matrix) {
        vx_prefault_lock(s->prefault);
        munmap(s->matrix, s->mapped);
        vx_prefault_unlock(s->prefault, NULL, 0);
    }
    free(s->scale);
    free(s->bias);
    free(s->records);
    free(s->slots);
    vx_prefault *prefault = s->prefault;
    vx_store_init(s, s->metric, s->pinned ? s->dim : 0);
    s->prefault = prefault;
}

void vx_store_clear(vx_store *s)
{
    vx_store_free(s);
}

static size_t round_to_pages(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page;
}

static int grow_matrix(vx_store *s, size_t cap)
{
    size_t bytes = round_to_pages(cap * s->dim * sizeof(float));
    if (bytes == 0) bytes = round_to_pages(1);
    vx_prefault_lock(s->prefault);
    void *p = s->matrix
                  ? mremap(s->matrix, s->mapped, bytes, MREMAP_MAYMOVE)
                  : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        vx_prefault_unlock(s->prefault, s->matrix, s->mapped);
        return -1;
    }
    /* Huge pages where the system gives them on request: a scan of 512 MB
     * then walks 256 pages instead of 131072, and growing faults in 2 MB
     * at a time. Advice only; without it everything works the same. */
    madvise(p, bytes, MADV_HUGEPAGE);
    s->matrix = p;
    s->mapped = bytes;
    vx_prefault_unlock(s->prefault, p, bytes);
    return 0;
}

static int grow_array(void **p, size_t cap, size_t elem)
{
    void *q = realloc(*p, cap * elem);
    if (!q) return -1;
    *p = q;
    return 0;
}

static void slot_insert(uint64_t *slots, size_t n_slots, uint32_t hash, size_t row)
{
    size_t i = hash & (n_slots - 1);
    while (slots[i])
        i = (i + 1) & (n_slots - 1);
    slots[i] = SLOT(hash, row);
}

static int rehash(vx_store *s, size_t n_slots)
{
    uint64_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i]) slot_insert(slots, n_slots, SLOT_HASH(s->slots[i]), SLOT_ROW(s->slots[i]));
    free(s->slots);
    s->slots = slots;
    s->n_slots = n_slots;
    return 0;
}

int vx_store_reserve(vx_store *s, size_t rows, size_t dim)
{
    if (s->rows == 0 && !s->pinned && dim) {
        if (s->dim != dim && s->matrix) vx_store_free(s); /* an empty matrix of another width */
        s->dim = dim;
    }
    if (rows >= UINT32_MAX) return -1; /* rows are 32-bit in hits and slots */
    if (rows > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < rows)
            cap *= 2;
        if (cap >= UINT32_MAX) cap = UINT32_MAX - 1;
        if (grow_matrix(s, cap)) return -1;
        if (grow_array((void **)&s->records, cap, sizeof *s->records)) return -1;
        if (s->metric == VX_METRIC_COSINE && grow_array((void **)&s->scale, cap, sizeof(float)))
            return -1;
        if (s->metric == VX_METRIC_EUCLIDEAN && grow_array((void **)&s->bias, cap, sizeof(float)))
            return -1;
        s->cap = cap;
    }
    size_t n_slots = s->n_slots ? s->n_slots : 128;
    while (n_slots < 2 * rows)
        n_slots *= 2;
    if (n_slots != s->n_slots && rehash(s, n_slots)) return -1;
    /* The rows after these, about as many as a request adds in a few
     * milliseconds, get their pages before they are written. */
    vx_prefault_ahead(s->prefault, rows * s->dim * sizeof(float) + PREFAULT_AHEAD);
    return 0;
}

/* The slot index holding `id`, or -1. */
static long find_slot(const vx_store *s, const char *id, size_t len, uint32_t hash)
{
    if (!s->n_slots) return -1;
    for (size_t i = hash & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
        uint64_t slot = s->slots[i];
        if (!slot) return -1;
        if (SLOT_HASH(slot) != hash) continue;
        const vx_record *r = s->records[SLOT_ROW(slot)];
        if (r->id_len == len && memcmp(r->data, id, len) == 0) return (long)i;
    }
}

long vx_store_find(const vx_store *s, const char *id, size_t len)
{
    long i = find_slot(s, id, len, vx_id_hash(id, len));
    return i < 0 ? -1 : (long)SLOT_ROW(s->slots[i]);
}

/* Scale and bias of row r from its vector. */
static void derive_row(vx_store *s, size_t r)
{
    if (s->metric == VX_METRIC_DOT) return;
    const float *x = s->matrix + r * s->dim;
    double sq = 0;
    for (size_t c = 0; c < s->dim; c++)
        sq += (double)x[c] * x[c];
    if (s->metric == VX_METRIC_COSINE)
        s->scale[r] = sq > 0 ? (float)(1.0 / sqrt(sq)) : 0.0f;
    else
        s->bias[r] = (float)(-0.5 * sq);
}

int vx_store_put(vx_store *s, const void *vec, vx_record *rec)
{
    uint32_t hash = vx_id_hash(rec->data, rec->id_len);
    long slot = find_slot(s, rec->data, rec->id_len, hash);
    size_t row;
    if (slot >= 0) {
        row = SLOT_ROW(s->slots[slot]);
        s->record_bytes -= record_size(s->records[row]);
        free(s->records[row]);
    } else {
        row = s->rows++;
        slot_insert(s->slots, s->n_slots, hash, row);
    }
    s->records[row] = rec;
    s->record_bytes += record_size(rec);
    memcpy(s->matrix + row * s->dim, vec, s->dim * sizeof(float));
    derive_row(s, row);
    return slot >= 0;
}

int vx_store_put_undoable(vx_store *s, const void *vec, vx_record *rec, vx_undo *u)
{
    uint32_t hash = vx_id_hash(rec->data, rec->id_len);
    long slot = find_slot(s, rec->data, rec->id_len, hash);
    *u = (vx_undo){.rec = rec};
    size_t row;
    if (slot >= 0) {
        row = SLOT_ROW(s->slots[slot]);
        u->old_vec = malloc(s->dim * sizeof(float));
        if (!u->old_vec) return -1;
        memcpy(u->old_vec, s->matrix + row * s->dim, s->dim * sizeof(float));
        u->old = s->records[row]; /* kept, not freed: undo puts it back */
        s->record_bytes -= record_size(u->old);
    } else {
        row = s->rows++;
        slot_insert(s->slots, s->n_slots, hash, row);
    }
    s->records[row] = rec;
    s->record_bytes += record_size(rec);
    memcpy(s->matrix + row * s->dim, vec, s->dim * sizeof(float));
    derive_row(s, row);
    return slot >= 0;
}

void vx_store_undo(vx_store *s, vx_undo *u)
{
    if (!u->old) { /* the put added the last row: drop it */
        vx_store_delete(s, u->rec->data, u->rec->id_len);
        return;
    }
    long row = vx_store_find(s, u->rec->data, u->rec->id_len);
    s->record_bytes += record_size(u->old) - record_size(u->rec);
    s->records[row] = u->old;
    memcpy(s->matrix + (size_t)row * s->dim, u->old_vec, s->dim * sizeof(float));
    derive_row(s, (size_t)row);
    free(u->rec);
    free(u->old_vec);
    *u = (vx_undo){0};
}

void vx_store_undo_forget(vx_undo *u)
{
    free(u->old);
    free(u->old_vec);
    *u = (vx_undo){0};
}

int vx_store_adopt(vx_store *s, vx_record *rec)
{
    uint32_t hash = vx_id_hash(rec->data, rec->id_len);
    if (find_slot(s, rec->data, rec->id_len, hash) >= 0) return -1;
    size_t row = s->rows++;
    slot_insert(s->slots, s->n_slots, hash, row);
    s->records[row] = rec;
    s->record_bytes += record_size(rec);
    derive_row(s, row);
    return 0;
}

/* Backward-shift deletion: entries after the hole that could live in it
 * move up, so probes never need tombstones. */
static void slot_remove(vx_store *s, size_t i)
{
    size_t mask = s->n_slots - 1;
    s->slots[i] = 0;
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t home = SLOT_HASH(s->slots[j]) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        s->slots[i] = s->slots[j];
        s->slots[j] = 0;
        i = j;
    }
}

int vx_store_delete(vx_store *s, const char *id, size_t len)
{
    long slot = find_slot(s, id, len, vx_id_hash(id, len));
    if (slot < 0) return 0;
    size_t row = SLOT_ROW(s->slots[slot]), last = s->rows - 1;
    slot_remove(s, (size_t)slot);
    s->record_bytes -= record_size(s->records[row]);
    free(s->records[row]);
    if (row != last) {
        vx_record *moved = s->records[last];
        long ms = find_slot(s, moved->data, moved->id_len, vx_id_hash(moved->data, moved->id_len));
        s->slots[ms] = SLOT(SLOT_HASH(s->slots[ms]), row);
        s->records[row] = moved;
        memcpy(s->matrix + row * s->dim, s->matrix + last * s->dim, s->dim * sizeof(float));
        if (s->scale) s->scale[row] = s->scale[last];
        if (s->bias) s->bias[row] = s->bias[last];
    }
    s->rows--;
    return 1;
}

vx_matrix vx_store_view(const vx_store *s)
{
    return (vx_matrix){s->matrix, s->rows, s->dim, s->scale, s->bias};
}

size_t vx_store_bytes(const vx_store *s)
{
    size_t per_row = sizeof(vx_record *) + (s->scale || s->bias ? sizeof(float) : 0);
    return s->rows * s->dim * sizeof(float) + s->record_bytes + s->cap * per_row +
           s->n_slots * sizeof *s->slots;
}
