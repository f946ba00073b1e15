/*
 * bytes.c -- the plugin's byte plumbing: growable buffers, bounds-checked
 * readers and error messages. Everything on disk is little-endian; so is
 * every platform docflow builds for, so values are copied as they are in
 * memory (a static assertion below keeps it honest).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vector_index.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the VectorIndexer file format is little-endian; add byte swaps for this target");

int vx_fail(vx_error *err, int code, const char *fmt, ...)
{
    if (err->code) return err->code; /* the first, most precise message wins */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code ? code : DF_E_INTERNAL;
    return err->code;
}

int vx_buf_reserve(vx_buf *b, size_t more)
{
    if (b->oom) return -1;
    if (b->cap - b->len >= more) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) goto oom;
        cap *= 2;
    }
    unsigned char *p = realloc(b->data, cap);
    if (!p) goto oom;
    b->data = p;
    b->cap = cap;
    return 0;
oom:
    b->oom = 1;
    return -1;
}

void vx_buf_put(vx_buf *b, const void *p, size_t len)
{
    if (len == 0 || vx_buf_reserve(b, len)) return;
    memcpy(b->data + b->len, p, len);
    b->len += len;
}

void vx_buf_put_u8(vx_buf *b, uint8_t x)
{
    vx_buf_put(b, &x, 1);
}

void vx_buf_put_u32(vx_buf *b, uint32_t x)
{
    vx_buf_put(b, &x, 4);
}

void vx_buf_put_u64(vx_buf *b, uint64_t x)
{
    vx_buf_put(b, &x, 8);
}

void vx_buf_put_f64(vx_buf *b, double x)
{
    vx_buf_put(b, &x, 8);
}

void vx_buf_free(vx_buf *b)
{
    free(b->data);
    *b = (vx_buf){0};
}

const void *vx_read_bytes(vx_reader *r, size_t len)
{
    if (r->bad || (size_t)(r->end - r->p) < len) {
        r->bad = 1;
        return NULL;
    }
    const void *p = r->p;
    r->p += len;
    return p;
}

uint8_t vx_read_u8(vx_reader *r)
{
    const uint8_t *p = vx_read_bytes(r, 1);
    return p ? *p : 0;
}

uint32_t vx_read_u32(vx_reader *r)
{
    uint32_t x = 0;
    const void *p = vx_read_bytes(r, 4);
    if (p) memcpy(&x, p, 4);
    return x;
}

uint64_t vx_read_u64(vx_reader *r)
{
    uint64_t x = 0;
    const void *p = vx_read_bytes(r, 8);
    if (p) memcpy(&x, p, 8);
    return x;
}

double vx_read_f64(vx_reader *r)
{
    double x = 0;
    const void *p = vx_read_bytes(r, 8);
    if (p) memcpy(&x, p, 8);
    return x;
}
