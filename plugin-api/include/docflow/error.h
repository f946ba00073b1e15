/*
 * docflow/error.h -- the error value libdocflow functions fill in.
 *
 * A df_error carries a df_rc code and one message built where the fact is
 * known (file:line, the JSON field, the identifier). Callers add context with
 * df_error_prefix on the way up and print it once, at the top.
 */
#ifndef DOCFLOW_ERROR_H
#define DOCFLOW_ERROR_H

#include "docflow/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DF_ERROR_MSG_MAX 1024

typedef struct df_error {
    int code;                   /* a df_rc; DF_OK when nothing failed */
    char msg[DF_ERROR_MSG_MAX]; /* "" when nothing failed */
} df_error;

#define DF_ERROR_INIT                                                                              \
    {                                                                                              \
        DF_OK, ""                                                                                  \
    }

/* Records an error and returns `code`, so `return df_error_set(...)` works.
 * `e` may be NULL (the error is then dropped). Overwrites an earlier error. */
int df_error_set(df_error *e, int code, const char *fmt, ...) DF_PRINTF(3, 4);
/* Prepends context: "prefix: old message". No-op when e is NULL or clear. */
void df_error_prefix(df_error *e, const char *fmt, ...) DF_PRINTF(2, 3);
void df_error_clear(df_error *e);
/* The process exit code for a failure of this kind: 2 for bad input or
 * usage (DF_E_INVALID_INPUT, DF_E_NOT_FOUND, DF_E_UNSUPPORTED), else 1. */
int df_error_exit_code(const df_error *e);
/* A short name for a code: "invalid input", "not found", ... */
const char *df_rc_name(int code);

#ifdef __cplusplus
}
#endif
#endif
