/*
 * document.c -- Documents and document arrays (DocArray v1's model) in
 * arenas. Field semantics follow DocArray: empty means unset, text / blob /
 * tensor share one oneof, nested chunks and matches are created on demand.
 */
#include "docflow/document.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "document_internal.h"

/* ---- ids --------------------------------------------------------------- */

/* xoshiro-style generator per thread, seeded from getrandom: ids must be
 * unique, not secret, and a syscall per document would cost more than the
 * document. */
static _Thread_local uint64_t id_state[2];

static uint64_t id_next(void)
{
    if (!id_state[0] && !id_state[1]) {
        if (getrandom(id_state, sizeof id_state, 0) != sizeof id_state) {
            id_state[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&id_state;
            id_state[1] = (uint64_t)clock() * 0x9E3779B97F4A7C15ull + 1;
        }
    }
    uint64_t s1 = id_state[0];
    const uint64_t s0 = id_state[1];
    id_state[0] = s0;
    s1 ^= s1 << 23;
    id_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return id_state[1] + s0;
}

void df_doc_random_id(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t parts[2] = {id_next(), id_next()};
    for (int i = 0; i < 32; i++)
        out[i] = hex[(parts[i / 16] >> ((i % 16) * 4)) & 0xf];
    out[32] = '\0';
}

/* ---- creation and copies ------------------------------------------------- */

df_doc *df_doc_new_empty(df_arena *a)
{
    df_doc *d = df_arena_calloc(a, sizeof *d);
    d->arena = a;
    return d;
}

df_doc *df_doc_new(df_arena *a)
{
    df_doc *d = df_doc_new_empty(a);
    char *id = df_arena_alloc(a, 33);
    df_doc_random_id(id);
    d->id = id;
    return d;
}

df_arena *df_doc_arena(const df_doc *d)
{
    return d->arena;
}

static void ndarray_copy(df_arena *a, df_ndarray *dst, const df_ndarray *src)
{
    *dst = *src;
    if (!src->present) return;
    dst->data = df_arena_memdup(a, src->data, src->nbytes);
    dst->shape = df_arena_memdup(a, src->shape, src->ndim * sizeof(uint32_t));
    dst->dtype = df_arena_strdup(a, src->dtype);
    dst->cls_name = df_arena_strdup(a, src->cls_name);
    dst->params = df_value_copy(a, src->params);
}

static void scores_copy(df_arena *a, df_score_list *dst, const df_score_list *src)
{
    dst->n = dst->cap = src->n;
    dst->items = NULL;
    if (!src->n) return;
    dst->items = df_arena_alloc(a, src->n * sizeof *dst->items);
    for (size_t i = 0; i < src->n; i++) {
        const df_named_score *s = &src->items[i];
        dst->items[i] =
            (df_named_score){df_arena_strdup(a, s->name), s->value, df_arena_strdup(a, s->op_name),
                             df_arena_strdup(a, s->description), df_arena_strdup(a, s->ref_id)};
    }
}

df_doc *df_doc_copy(df_arena *a, const df_doc *s)
{
    df_doc *d = df_doc_new_empty(a);
    d->id = df_arena_strdup(a, s->id);
    d->parent_id = df_arena_strdup(a, s->parent_id);
    d->uri = df_arena_strdup(a, s->uri);
    d->modality = df_arena_strdup(a, s->modality);
    d->mime_type = df_arena_strdup(a, s->mime_type);
    d->content = s->content;
    if (s->text) d->text = df_arena_strndup(a, s->text, s->text_len);
    d->text_len = s->text_len;
    if (s->blob) d->blob = df_arena_memdup(a, s->blob, s->blob_len);
    d->blob_len = s->blob_len;
    ndarray_copy(a, &d->tensor, &s->tensor);
    ndarray_copy(a, &d->embedding, &s->embedding);
    d->granularity = s->granularity;
    d->adjacency = s->adjacency;
    d->weight = s->weight;
    d->offset = s->offset;
    if (s->n_location) d->location = df_arena_memdup(a, s->location, s->n_location * sizeof(float));
    d->n_location = s->n_location;
    if (s->chunks) d->chunks = df_docs_copy(a, s->chunks);
    if (s->matches) d->matches = df_docs_copy(a, s->matches);
    d->tags = df_value_copy(a, s->tags);
    d->metadata = df_value_copy(a, s->metadata);
    scores_copy(a, &d->scores, &s->scores);
    scores_copy(a, &d->evaluations, &s->evaluations);
    return d;
}

/* ---- scalar fields ------------------------------------------------------- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static const char **str_field(df_doc *d, df_doc_str_field f)
{
    switch (f) {
    case DF_FIELD_ID:
        return &d->id;
    case DF_FIELD_PARENT_ID:
        return &d->parent_id;
    case DF_FIELD_URI:
        return &d->uri;
    case DF_FIELD_MODALITY:
        return &d->modality;
    case DF_FIELD_MIME_TYPE:
        return &d->mime_type;
    }
    return NULL;
}

const char *df_doc_str(const df_doc *d, df_doc_str_field f)
{
    const char **p = str_field((df_doc *)d, f);
    return p ? nz(*p) : "";
}

void df_doc_set_str(df_doc *d, df_doc_str_field f, const char *s)
{
    const char **p = str_field(d, f);
    if (p) *p = s && *s ? df_arena_strdup(d->arena, s) : NULL;
}

double df_doc_num(const df_doc *d, df_doc_num_field f)
{
    switch (f) {
    case DF_FIELD_GRANULARITY:
        return d->granularity;
    case DF_FIELD_ADJACENCY:
        return d->adjacency;
    case DF_FIELD_WEIGHT:
        return d->weight;
    case DF_FIELD_OFFSET:
        return d->offset;
    }
    return 0;
}

static uint32_t to_u32(double x)
{
    if (!(x > 0)) return 0;
    return x >= 4294967295.0 ? UINT32_MAX : (uint32_t)x;
}

void df_doc_set_num(df_doc *d, df_doc_num_field f, double x)
{
    switch (f) {
    case DF_FIELD_GRANULARITY:
        d->granularity = to_u32(x);
        break;
    case DF_FIELD_ADJACENCY:
        d->adjacency = to_u32(x);
        break;
    case DF_FIELD_WEIGHT:
        d->weight = (float)x;
        break;
    case DF_FIELD_OFFSET:
        d->offset = (float)x;
        break;
    }
}

/* ---- content: text / blob / tensor ------------------------------------------ */

df_content_kind df_doc_content(const df_doc *d)
{
    return (df_content_kind)d->content;
}

static void content_clear(df_doc *d)
{
    d->text = NULL;
    d->text_len = 0;
    d->blob = NULL;
    d->blob_len = 0;
    memset(&d->tensor, 0, sizeof d->tensor);
    d->content = DF_CONTENT_NONE;
}

const char *df_doc_text(const df_doc *d, size_t *len)
{
    if (len) *len = d->content == DF_CONTENT_TEXT ? d->text_len : 0;
    return d->content == DF_CONTENT_TEXT ? d->text : NULL;
}

void df_doc_set_text(df_doc *d, const char *text, size_t len)
{
    content_clear(d);
    if (!text) return;
    if (len == (size_t)-1) len = strlen(text);
    if (len == 0) return; /* DocArray: empty text is unset */
    d->text = df_arena_strndup(d->arena, text, len);
    d->text_len = len;
    d->content = DF_CONTENT_TEXT;
}

const void *df_doc_blob(const df_doc *d, size_t *len)
{
    if (len) *len = d->content == DF_CONTENT_BLOB ? d->blob_len : 0;
    return d->content == DF_CONTENT_BLOB ? d->blob : NULL;
}

void df_doc_set_blob(df_doc *d, const void *data, size_t len)
{
    content_clear(d);
    if (!data) return;
    d->blob = df_arena_memdup(d->arena, data, len);
    d->blob_len = len;
    d->content = DF_CONTENT_BLOB;
}

size_t df_dtype_size(const char *dtype)
{
    if (!dtype || !dtype[0]) return 0;
    const char *p = dtype;
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=') p++;
    if (!p[0] || !strchr("fiub", p[0]) || !p[1]) return 0;
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (*end || n <= 0 || n > 16) return 0;
    if (p[0] == 'f' && n != 2 && n != 4 && n != 8) return 0;
    if ((p[0] == 'i' || p[0] == 'u') && n != 1 && n != 2 && n != 4 && n != 8) return 0;
    if (p[0] == 'b' && n != 1) return 0;
    return (size_t)n;
}

static int ndarray_get(const df_ndarray *n, df_ndarray_view *out)
{
    if (!n->present) return 0;
    if (out) *out = (df_ndarray_view){n->data, n->nbytes, n->shape, n->ndim, n->dtype};
    return 1;
}

static int ndarray_set(df_arena *a, df_ndarray *n, const void *data, size_t nbytes,
                       const uint32_t *shape, uint32_t ndim, const char *dtype)
{
    size_t esize = df_dtype_size(dtype);
    if (!esize) return DF_E_INVALID_INPUT;
    size_t count = 1, total;
    for (uint32_t i = 0; i < ndim; i++)
        if (__builtin_mul_overflow(count, (size_t)shape[i], &count)) return DF_E_INVALID_INPUT;
    if (__builtin_mul_overflow(count, esize, &total)) return DF_E_INVALID_INPUT;
    if (total != nbytes || (nbytes && !data)) return DF_E_INVALID_INPUT;
    n->present = 1;
    n->data = df_arena_memdup(a, data, nbytes);
    n->nbytes = nbytes;
    n->shape = df_arena_memdup(a, shape, ndim * sizeof(uint32_t));
    n->ndim = ndim;
    n->dtype = df_arena_strdup(a, dtype);
    if (dtype[0] == '>' && esize > 1) { /* stored little-endian, as the wire wants */
        unsigned char *p = n->data;
        for (size_t i = 0; i < count; i++, p += esize)
            for (size_t k = 0; k < esize / 2; k++) {
                unsigned char t = p[k];
                p[k] = p[esize - 1 - k];
                p[esize - 1 - k] = t;
            }
        ((char *)n->dtype)[0] = '<';
    }
    if (!n->cls_name) n->cls_name = "";
    return DF_OK;
}

int df_doc_tensor(const df_doc *d, df_ndarray_view *out)
{
    return d->content == DF_CONTENT_TENSOR ? ndarray_get(&d->tensor, out) : 0;
}

int df_doc_set_tensor(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                      uint32_t ndim, const char *dtype)
{
    df_ndarray t = {0};
    int rc = ndarray_set(d->arena, &t, data, nbytes, shape, ndim, dtype);
    if (rc) return rc;
    content_clear(d);
    d->tensor = t;
    d->content = DF_CONTENT_TENSOR;
    return DF_OK;
}

int df_doc_embedding(const df_doc *d, df_ndarray_view *out)
{
    return ndarray_get(&d->embedding, out);
}

int df_doc_set_embedding(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                         uint32_t ndim, const char *dtype)
{
    df_ndarray e = {0};
    int rc = ndarray_set(d->arena, &e, data, nbytes, shape, ndim, dtype);
    if (rc) return rc;
    d->embedding = e;
    return DF_OK;
}

static int dtype_is_f32(const char *dtype)
{
    return strcmp(dtype, "<f4") == 0 || strcmp(dtype, "=f4") == 0 || strcmp(dtype, "f4") == 0;
}

/* One element of a little-endian numeric array as double. */
static double element_as_double(const unsigned char *p, char kind, size_t size)
{
    switch (kind) {
    case 'f':
        if (size == 4) {
            float f;
            memcpy(&f, p, 4);
            return f;
        }
        if (size == 8) {
            double x;
            memcpy(&x, p, 8);
            return x;
        }
        return 0; /* float16 is not converted */
    case 'i':
        switch (size) {
        case 1: {
            int8_t v;
            memcpy(&v, p, 1);
            return v;
        }
        case 2: {
            int16_t v;
            memcpy(&v, p, 2);
            return v;
        }
        case 4: {
            int32_t v;
            memcpy(&v, p, 4);
            return v;
        }
        case 8: {
            int64_t v;
            memcpy(&v, p, 8);
            return (double)v;
        }
        default:
            return 0;
        }
    default: {
        uint64_t v = 0;
        memcpy(&v, p, size);
        return (double)v;
    }
    }
}

float *df_doc_embedding_f32(df_doc *d, size_t *dim)
{
    df_ndarray *e = &d->embedding;
    if (dim) *dim = 0;
    if (!e->present) return NULL;
    size_t esize = df_dtype_size(e->dtype);
    if (!esize) return NULL;
    size_t count = e->nbytes / esize;
    const char *kind = e->dtype + (strchr("<|=>", e->dtype[0]) ? 1 : 0);
    if (kind[0] == 'f' && esize == 2) return NULL; /* float16 is not converted */
    if (dim) *dim = count;
    if (dtype_is_f32(e->dtype) && ((uintptr_t)e->data % sizeof(float)) == 0) return e->data;
    /* Convert (or re-align) once; the document keeps the float32 copy. */
    const char *p = e->dtype;
    if (*p == '<' || *p == '|' || *p == '=' || *p == '>') p++;
    float *f = df_arena_alloc(d->arena, count * sizeof(float) + 1);
    for (size_t i = 0; i < count; i++)
        f[i] = (float)element_as_double((const unsigned char *)e->data + i * esize, p[0], esize);
    e->data = f;
    e->nbytes = count * sizeof(float);
    e->dtype = "<f4";
    return f;
}

void df_doc_set_embedding_f32(df_doc *d, const float *values, size_t dim)
{
    uint32_t shape = (uint32_t)dim;
    df_doc_set_embedding(d, values, dim * sizeof(float), &shape, 1, "<f4");
}

const char *df_doc_ndarray_cls(const df_doc *d, int which)
{
    return nz((which ? &d->embedding : &d->tensor)->cls_name);
}

void df_doc_set_ndarray_cls(df_doc *d, int which, const char *cls_name)
{
    (which ? &d->embedding : &d->tensor)->cls_name = df_arena_strdup(d->arena, nz(cls_name));
}

const df_value *df_doc_ndarray_params(const df_doc *d, int which)
{
    return (which ? &d->embedding : &d->tensor)->params;
}

void df_doc_set_ndarray_params(df_doc *d, int which, const df_value *params)
{
    (which ? &d->embedding : &d->tensor)->params = df_value_copy(d->arena, params);
}

/* ---- location, nested arrays, maps ---------------------------------------- */

const float *df_doc_location(const df_doc *d, size_t *n)
{
    if (n) *n = d->n_location;
    return d->n_location ? d->location : NULL;
}

void df_doc_set_location(df_doc *d, const float *values, size_t n)
{
    d->location = n ? df_arena_memdup(d->arena, values, n * sizeof(float)) : NULL;
    d->n_location = n;
}

df_docs *df_doc_chunks(df_doc *d)
{
    if (!d->chunks) d->chunks = df_docs_new(d->arena);
    return d->chunks;
}

df_docs *df_doc_matches(df_doc *d)
{
    if (!d->matches) d->matches = df_docs_new(d->arena);
    return d->matches;
}

df_value *df_doc_tags(df_doc *d)
{
    if (!d->tags) d->tags = df_value_new_map(d->arena);
    return d->tags;
}

df_value *df_doc_metadata(df_doc *d)
{
    if (!d->metadata) d->metadata = df_value_new_map(d->arena);
    return d->metadata;
}

const df_docs *df_doc_chunks_peek(const df_doc *d)
{
    return d->chunks && d->chunks->n ? d->chunks : NULL;
}
const df_docs *df_doc_matches_peek(const df_doc *d)
{
    return d->matches && d->matches->n ? d->matches : NULL;
}
const df_value *df_doc_tags_peek(const df_doc *d)
{
    return df_value_len(d->tags) ? d->tags : NULL;
}
const df_value *df_doc_metadata_peek(const df_doc *d)
{
    return df_value_len(d->metadata) ? d->metadata : NULL;
}

/* ---- named scores -------------------------------------------------------- */

static const df_score_list *score_list(const df_doc *d, df_score_map map)
{
    return map == DF_EVALUATIONS ? &d->evaluations : &d->scores;
}

static df_named_score *score_find(const df_score_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0) return &l->items[i];
    return NULL;
}

static void score_fill(const df_named_score *s, df_score *out)
{
    if (out) *out = (df_score){s->value, nz(s->op_name), nz(s->description), nz(s->ref_id)};
}

int df_doc_score(const df_doc *d, df_score_map map, const char *name, df_score *out)
{
    const df_named_score *s = name ? score_find(score_list(d, map), name) : NULL;
    if (!s) return 0;
    score_fill(s, out);
    return 1;
}

void df_doc_set_score(df_doc *d, df_score_map map, const char *name, const df_score *s)
{
    if (!name || !s) return;
    df_score_list *l = (df_score_list *)score_list(d, map);
    df_named_score *slot = score_find(l, name);
    if (!slot) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 2;
            l->items = df_arena_realloc(d->arena, l->items, l->n * sizeof *l->items,
                                        cap * sizeof *l->items);
            l->cap = cap;
        }
        slot = &l->items[l->n++];
        slot->name = df_arena_strdup(d->arena, name);
    }
    slot->value = s->value;
    slot->op_name = s->op_name && *s->op_name ? df_arena_strdup(d->arena, s->op_name) : "";
    slot->description =
        s->description && *s->description ? df_arena_strdup(d->arena, s->description) : "";
    slot->ref_id = s->ref_id && *s->ref_id ? df_arena_strdup(d->arena, s->ref_id) : "";
}

size_t df_doc_score_count(const df_doc *d, df_score_map map)
{
    return score_list(d, map)->n;
}

const char *df_doc_score_at(const df_doc *d, df_score_map map, size_t i, df_score *out)
{
    const df_score_list *l = score_list(d, map);
    if (i >= l->n) return NULL;
    score_fill(&l->items[i], out);
    return l->items[i].name;
}

/* ---- equality ------------------------------------------------------------- */

static int str_eq(const char *x, const char *y)
{
    return strcmp(nz(x), nz(y)) == 0;
}

static int ndarray_eq(const df_ndarray *x, const df_ndarray *y)
{
    if (x->present != y->present) return 0;
    if (!x->present) return 1;
    return x->ndim == y->ndim && x->nbytes == y->nbytes && str_eq(x->dtype, y->dtype) &&
           (x->ndim == 0 || memcmp(x->shape, y->shape, x->ndim * sizeof(uint32_t)) == 0) &&
           (x->nbytes == 0 || memcmp(x->data, y->data, x->nbytes) == 0) &&
           str_eq(x->cls_name, y->cls_name) && df_value_equal(x->params, y->params);
}

static int scores_eq(const df_score_list *x, const df_score_list *y)
{
    if (x->n != y->n) return 0;
    for (size_t i = 0; i < x->n; i++) {
        const df_named_score *a = &x->items[i], *b = score_find(y, x->items[i].name);
        if (!b) return 0;
        if (memcmp(&a->value, &b->value, sizeof(float)) != 0 || !str_eq(a->op_name, b->op_name) ||
            !str_eq(a->description, b->description) || !str_eq(a->ref_id, b->ref_id))
            return 0;
    }
    return 1;
}

static int docs_eq_nullable(const df_docs *x, const df_docs *y)
{
    size_t nx = x ? x->n : 0, ny = y ? y->n : 0;
    if (nx != ny) return 0;
    return nx == 0 || df_docs_equal(x, y);
}

static int value_eq_nullable(const df_value *x, const df_value *y)
{
    if (!df_value_len(x) && !df_value_len(y)) return 1;
    return df_value_equal(x, y);
}

int df_doc_equal(const df_doc *x, const df_doc *y)
{
    if (!str_eq(x->id, y->id) || !str_eq(x->parent_id, y->parent_id) || !str_eq(x->uri, y->uri) ||
        !str_eq(x->modality, y->modality) || !str_eq(x->mime_type, y->mime_type))
        return 0;
    if (x->content != y->content) return 0;
    if (x->content == DF_CONTENT_TEXT &&
        (x->text_len != y->text_len || memcmp(x->text, y->text, x->text_len) != 0))
        return 0;
    if (x->content == DF_CONTENT_BLOB &&
        (x->blob_len != y->blob_len || (x->blob_len && memcmp(x->blob, y->blob, x->blob_len))))
        return 0;
    if (x->content == DF_CONTENT_TENSOR && !ndarray_eq(&x->tensor, &y->tensor)) return 0;
    if (!ndarray_eq(&x->embedding, &y->embedding)) return 0;
    if (x->granularity != y->granularity || x->adjacency != y->adjacency) return 0;
    if (memcmp(&x->weight, &y->weight, sizeof(float)) ||
        memcmp(&x->offset, &y->offset, sizeof(float)))
        return 0;
    if (x->n_location != y->n_location ||
        (x->n_location && memcmp(x->location, y->location, x->n_location * sizeof(float))))
        return 0;
    return docs_eq_nullable(x->chunks, y->chunks) && docs_eq_nullable(x->matches, y->matches) &&
           value_eq_nullable(x->tags, y->tags) && value_eq_nullable(x->metadata, y->metadata) &&
           scores_eq(&x->scores, &y->scores) && scores_eq(&x->evaluations, &y->evaluations);
}

/* ---- arrays ---------------------------------------------------------------- */

df_docs *df_docs_new(df_arena *a)
{
    df_docs *docs = df_arena_calloc(a, sizeof *docs);
    docs->arena = a;
    return docs;
}

df_arena *df_docs_arena(const df_docs *docs)
{
    return docs->arena;
}
size_t df_docs_len(const df_docs *docs)
{
    return docs ? docs->n : 0;
}

df_doc *df_docs_get(const df_docs *docs, size_t i)
{
    return docs && i < docs->n ? docs->items[i] : NULL;
}

df_doc *df_docs_find(const df_docs *docs, const char *id)
{
    if (!docs || !id) return NULL;
    for (size_t i = 0; i < docs->n; i++)
        if (strcmp(nz(docs->items[i]->id), id) == 0) return docs->items[i];
    return NULL;
}

void df_docs_reserve(df_docs *docs, size_t n)
{
    if (docs->n + n <= docs->cap) return;
    size_t cap = docs->cap ? docs->cap : 8;
    while (cap < docs->n + n)
        cap *= 2;
    docs->items = df_arena_realloc(docs->arena, docs->items, docs->n * sizeof(df_doc *),
                                   cap * sizeof(df_doc *));
    docs->cap = cap;
}

df_doc *df_docs_append(df_docs *docs, df_doc *d)
{
    if (!docs || !d) return NULL;
    if (d->arena != docs->arena) d = df_doc_copy(docs->arena, d);
    df_docs_reserve(docs, 1);
    docs->items[docs->n++] = d;
    return d;
}

int df_docs_remove(df_docs *docs, size_t i)
{
    if (!docs || i >= docs->n) return DF_E_NOT_FOUND;
    memmove(&docs->items[i], &docs->items[i + 1], (docs->n - i - 1) * sizeof(df_doc *));
    docs->n--;
    return DF_OK;
}

void df_docs_clear(df_docs *docs)
{
    if (docs) docs->n = 0;
}

df_docs *df_docs_copy(df_arena *a, const df_docs *src)
{
    df_docs *docs = df_docs_new(a);
    if (!src || !src->n) return docs;
    df_docs_reserve(docs, src->n);
    for (size_t i = 0; i < src->n; i++)
        docs->items[i] = df_doc_copy(a, src->items[i]);
    docs->n = src->n;
    return docs;
}

int df_docs_equal(const df_docs *x, const df_docs *y)
{
    if (df_docs_len(x) != df_docs_len(y)) return 0;
    for (size_t i = 0; i < df_docs_len(x); i++)
        if (!df_doc_equal(x->items[i], y->items[i])) return 0;
    return 1;
}

/* ---- bulk embeddings and scores ---------------------------------------------- */

static int embedding_is_row(const df_doc *d, const float *block, size_t row, size_t dim)
{
    return d->embedding.present && d->embedding.data == block + row * dim;
}

float *df_docs_embeddings(df_docs *docs, size_t *rows, size_t *dim)
{
    *rows = 0;
    *dim = 0;
    if (!docs || !docs->n) return NULL;
    size_t d0;
    if (!df_doc_embedding_f32(docs->items[0], &d0) || d0 == 0) return NULL;
    for (size_t i = 1; i < docs->n; i++) {
        size_t di;
        if (!df_doc_embedding_f32(docs->items[i], &di) || di != d0) {
            *rows = i;
            return NULL;
        }
    }
    *dim = d0;
    float *block = docs->items[0]->embedding.data;
    /* Already contiguous (an earlier call, or set_embeddings): zero-copy. */
    int contiguous = 1;
    for (size_t i = 0; i < docs->n && contiguous; i++)
        contiguous = embedding_is_row(docs->items[i], block, i, d0);
    *rows = docs->n;
    if (contiguous) return block;
    block = df_arena_alloc(docs->arena, docs->n * d0 * sizeof(float));
    for (size_t i = 0; i < docs->n; i++) {
        df_ndarray *e = &docs->items[i]->embedding;
        memcpy(block + i * d0, e->data, d0 * sizeof(float));
        e->data = block + i * d0;
    }
    return block;
}

int df_docs_set_embeddings(df_docs *docs, const float *matrix, size_t rows, size_t dim)
{
    if (!docs || rows != docs->n || (rows && !matrix)) return DF_E_INVALID_INPUT;
    float *block = df_arena_memdup(docs->arena, matrix, rows * dim * sizeof(float));
    uint32_t *shape = df_arena_alloc(docs->arena, sizeof(uint32_t));
    *shape = (uint32_t)dim;
    for (size_t i = 0; i < rows; i++) {
        df_ndarray *e = &docs->items[i]->embedding;
        e->present = 1;
        e->data = block + i * dim;
        e->nbytes = dim * sizeof(float);
        e->shape = shape;
        e->ndim = 1;
        e->dtype = "<f4";
        if (!e->cls_name) e->cls_name = "";
    }
    return DF_OK;
}

int df_docs_set_scores(df_docs *docs, const char *name, const float *values, size_t n)
{
    if (!docs || !name || n != docs->n) return DF_E_INVALID_INPUT;
    for (size_t i = 0; i < n; i++) {
        df_doc *d = docs->items[i];
        df_score s = {values[i], NULL, NULL, NULL};
        df_named_score *old = score_find(&d->scores, name);
        if (old) {
            old->value = values[i];
            continue;
        }
        df_doc_set_score(d, DF_SCORES, name, &s);
    }
    return DF_OK;
}
