/*
 * error.c -- df_error: one message per failure, built where the fact is
 * known, with context prefixed on the way up.
 */
#include "docflow/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int df_error_set(df_error *e, int code, const char *fmt, ...)
{
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

void df_error_prefix(df_error *e, const char *fmt, ...)
{
    if (!e || e->code == DF_OK) return;
    char prefix[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    if (plen + 2 >= sizeof e->msg) return;
    /* Shift the old message right, then write the prefix in front. */
    size_t olen = strnlen(e->msg, sizeof e->msg - 1);
    if (plen + 2 + olen >= sizeof e->msg) olen = sizeof e->msg - plen - 3;
    memmove(e->msg + plen + 2, e->msg, olen);
    e->msg[plen + 2 + olen] = '\0';
    memcpy(e->msg, prefix, plen);
    e->msg[plen] = ':';
    e->msg[plen + 1] = ' ';
}

void df_error_clear(df_error *e)
{
    if (!e) return;
    e->code = DF_OK;
    e->msg[0] = '\0';
}

int df_error_exit_code(const df_error *e)
{
    if (!e || e->code == DF_OK) return 0;
    switch (e->code) {
    case DF_E_INVALID_INPUT:
    case DF_E_NOT_FOUND:
    case DF_E_UNSUPPORTED:
        return 2;
    default:
        return 1;
    }
}

const char *df_rc_name(int code)
{
    switch (code) {
    case DF_OK:
        return "ok";
    case DF_E_INVALID_INPUT:
        return "invalid input";
    case DF_E_UNSUPPORTED:
        return "unsupported";
    case DF_E_NOT_FOUND:
        return "not found";
    case DF_E_RESOURCE:
        return "out of resources";
    case DF_E_IO:
        return "i/o error";
    case DF_E_TIMEOUT:
        return "timeout";
    default:
        return "internal error";
    }
}
