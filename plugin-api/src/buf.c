/*
 * buf.c -- df_buf, the growable output buffer encoders append to.
 */
#include "docflow/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_die(size_t want)
{
    fprintf(stderr, "docflow: out of memory growing a buffer to %zu bytes\n", want);
    abort();
}

void df_buf_reserve(df_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1; /* +1: the NUL kept after the data */
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) buf_die(cap);
    b->data = p;
    b->cap = cap;
}

void df_buf_append(df_buf *b, const void *p, size_t n)
{
    df_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void df_buf_append_str(df_buf *b, const char *s)
{
    df_buf_append(b, s, strlen(s));
}

void df_buf_append_char(df_buf *b, char c)
{
    df_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void df_buf_printf(df_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    df_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void df_buf_reset(df_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void df_buf_free(df_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
