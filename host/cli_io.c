/*
 * cli_io.c -- file helpers of the docflow-host commands: whole-file reads
 * and atomic writes (a killed command never leaves a half-written output).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "host_cli.h"

void df_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (df_log_is_json()) { /* --log-format json: every stderr line is JSON */
        char source[64];
        snprintf(source, sizeof source, "docflow-host %s", cmd);
        df_logv(DF_LOG_ERROR, source, fmt, ap);
    } else {
        fprintf(stderr, "docflow-host %s: ", cmd);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

int df_cli_read_file(const char *path, df_buf *b, df_error *err)
{
    int use_stdin = !path || strcmp(path, "-") == 0;
    int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return df_error_set(err, DF_E_NOT_FOUND, "%s: %s", path, strerror(errno));
    for (;;) {
        df_buf_reserve(b, 65536);
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            if (!use_stdin) close(fd);
            return df_error_set(err, DF_E_IO, "%s: %s", use_stdin ? "stdin" : path, strerror(e));
        }
        if (n == 0) break;
        b->len += (size_t)n;
    }
    b->data[b->len] = '\0';
    if (!use_stdin) close(fd);
    return DF_OK;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int df_cli_write_file(const char *path, const void *data, size_t len, df_error *err)
{
    if (!path || strcmp(path, "-") == 0) {
        int e = write_all(STDOUT_FILENO, data, len);
        return e ? df_error_set(err, DF_E_IO, "stdout: %s", strerror(e)) : DF_OK;
    }
    /* A device, FIFO or symlink to one (/dev/null, /dev/stdout) is written
     * in place: renaming a temp file over it would replace the device. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int e = fd < 0 ? errno : write_all(fd, data, len);
        if (fd >= 0) close(fd);
        return e ? df_error_set(err, DF_E_IO, "%s: %s", path, strerror(e)) : DF_OK;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) abort();
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = fd < 0 ? errno : write_all(fd, data, len);
    if (!e && fsync(fd) != 0) e = errno;
    if (fd >= 0 && close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    free(tmp);
    return e ? df_error_set(err, DF_E_IO, "%s: %s", path, strerror(e)) : DF_OK;
}

/* Decodes every line of a JSONL text; blank lines are skipped. */
int df_cli_decode_jsonl(df_docs *out, const df_buf *in, const char *label, df_error *err)
{
    const char *p = in->data ? in->data : "";
    const char *end = p + in->len;
    df_arena *a = df_docs_arena(out);
    for (long line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *q = p;
        while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < stop) {
            const char *path = df_arena_printf(a, "%s:%ld", label, line);
            df_doc *d = df_json_decode_doc(a, p, (size_t)(stop - p), path, err);
            if (!d) return err->code ? err->code : DF_E_INVALID_INPUT;
            df_docs_append(out, d);
        }
        p = nl ? nl + 1 : end;
    }
    return DF_OK;
}

df_value *df_cli_parameters(df_arena *a, const char *json, df_error *err)
{
    if (!json) return df_value_new_map(a);
    df_value *v = df_json_decode_value(a, json, strlen(json), "--parameters", err);
    if (v && df_value_type_of(v) != DF_VALUE_MAP) {
        df_error_set(err, DF_E_INVALID_INPUT, "--parameters: expected a JSON object, got a %s",
                     df_value_type_name(df_value_type_of(v)));
        return NULL;
    }
    return v;
}

/* --context KEY=VALUE pairs -> a map for ${{ KEY }}. */
df_value *df_cli_context(df_arena *a, const char *const *pairs, int n, df_error *err)
{
    df_value *ctx = df_value_new_map(a);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        if (!eq || eq == pairs[i]) {
            df_error_set(err, DF_E_INVALID_INPUT, "--context '%s': expected KEY=VALUE", pairs[i]);
            return NULL;
        }
        char *key = df_arena_strndup(a, pairs[i], (size_t)(eq - pairs[i]));
        df_value_put_string(ctx, key, eq + 1);
    }
    return ctx;
}
