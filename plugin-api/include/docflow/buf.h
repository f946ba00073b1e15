/*
 * docflow/buf.h -- a growable byte buffer (malloc-backed) that encoders
 * append to. Not for request data that should die with the request: use the
 * arena for that. Growth never fails (exhaustion stops the process).
 */
#ifndef DOCFLOW_BUF_H
#define DOCFLOW_BUF_H

#include <stddef.h>
#include "docflow/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_buf {
    char *data; /* NUL-terminated after every append (not counted in len) */
    size_t len;
    size_t cap;
} df_buf;

#define DF_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void df_buf_reserve(df_buf *b, size_t extra);
void df_buf_append(df_buf *b, const void *p, size_t n);
void df_buf_append_str(df_buf *b, const char *s);
void df_buf_append_char(df_buf *b, char c);
void df_buf_printf(df_buf *b, const char *fmt, ...) DF_PRINTF(2, 3);
void df_buf_reset(df_buf *b); /* len = 0, memory kept */
void df_buf_free(df_buf *b);

#ifdef __cplusplus
}
#endif
#endif
