/*
 * executor_host.c -- the df_host table: the functions a plugin calls.
 *
 * Most entries point straight at libdocflow's document and value functions
 * (same signatures); the rest adapt the opaque df_req / df_init / df_exec
 * handles. Typed readers of `with:` and parameters record a precise message
 * on a type mismatch so a plugin can simply return the code.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docflow/buf.h"
#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "executor_internal.h"

/* ---- memory ----------------------------------------------------------------- */

static void *host_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "docflow: out of memory (plugin asked for %zu bytes)\n", size);
        abort();
    }
    return p;
}

static void host_free(void *p)
{
    free(p);
}
static void *host_req_alloc(df_req *req, size_t size)
{
    return df_arena_alloc(req->arena, size);
}

/* ---- logging and errors --------------------------------------------------- */

static void host_log(df_exec *ex, df_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    df_logv(level, ex ? ex->owner->name : NULL, fmt, ap);
    va_end(ap);
}

static int known_code(int code)
{
    return code > DF_OK && code <= DF_E_TIMEOUT;
}

static int host_fail(df_req *req, int code, const char *fmt, ...)
{
    if (!known_code(code)) code = DF_E_INTERNAL;
    if (!req->failed) {
        char msg[DF_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        df_error_set(req->err, code, "%s", msg);
        req->failed = code;
    }
    return code;
}

static int host_init_fail(df_init *init, int code, const char *fmt, ...)
{
    if (!known_code(code)) code = DF_E_INTERNAL;
    if (init->err.code == DF_OK) {
        char msg[DF_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        df_error_set(&init->err, code, "%s", msg);
    }
    return code;
}

/* ---- the instance ----------------------------------------------------------- */

static df_exec *host_init_exec(df_init *init)
{
    return &init->ex->exec;
}
static df_exec *host_req_exec(df_req *req)
{
    return &req->ex->exec;
}
static const char *host_exec_name(df_exec *ex)
{
    return ex->owner->name;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) return ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return errno;
    return 0;
}

static const char *host_exec_workspace(df_exec *e)
{
    df_executor *ex = e->owner;
    pthread_mutex_lock(&ex->workspace_lock);
    if (!ex->workspace) {
        const df_value *shard = df_value_get(ex->runtime_args, "shard_id");
        const char *path = df_value_number(shard) >= 0 && df_value_type_of(shard) == DF_VALUE_NUMBER
                               ? df_arena_printf(ex->arena, "%s/%s/%d", ex->workspace_base,
                                                 ex->name, (int)df_value_number(shard))
                               : df_arena_printf(ex->arena, "%s/%s", ex->workspace_base, ex->name);
        int rc = mkdir_p(path);
        if (rc) {
            df_log(DF_LOG_ERROR, ex->name, "cannot create workspace %s: %s", path, strerror(rc));
        } else {
            ex->workspace = path;
            df_value_put_string(ex->runtime_args, "workspace", path);
        }
    }
    const char *ws = ex->workspace;
    pthread_mutex_unlock(&ex->workspace_lock);
    return ws;
}

/* runtime_args is written only under workspace_lock (by the lazy
 * workspace creation), so readers take the lock too. */
static const df_value *host_runtime_arg(df_exec *ex, const char *key)
{
    if (key && strcmp(key, "workspace") == 0) host_exec_workspace(ex);
    pthread_mutex_lock(&ex->owner->workspace_lock);
    const df_value *v = df_value_get(ex->owner->runtime_args, key);
    pthread_mutex_unlock(&ex->owner->workspace_lock);
    return v;
}

/* ---- typed reads: shared by with_* and param_* ----------------------------------- */

typedef enum { WANT_STRING, WANT_INT, WANT_FLOAT, WANT_BOOL } want_kind;

static const char *want_name(want_kind k)
{
    static const char *names[] = {"a string", "an integer", "a number", "a boolean"};
    return names[k];
}

/* Describes a value for a message: `"abc"`, `3.5`, `a list`. */
static void describe(df_buf *b, const df_value *v)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_STRING: {
        size_t len;
        const char *s = df_value_string(v, &len);
        df_json_encode_string(b, s, len > 40 ? 40 : len);
        break;
    }
    case DF_VALUE_NUMBER:
        df_buf_printf(b, "%.17g", df_value_number(v));
        break;
    case DF_VALUE_BOOL:
        df_buf_append_str(b, df_value_bool(v) ? "true" : "false");
        break;
    case DF_VALUE_LIST:
        df_buf_append_str(b, "a list");
        break;
    case DF_VALUE_MAP:
        df_buf_append_str(b, "a map");
        break;
    default:
        df_buf_append_str(b, "null");
        break;
    }
}

/* Checks `v` against `want`; on a match stores it in *out. Returns 1 on
 * success, 0 on a type mismatch (with the "got" part in msg). */
static int typed_read(const df_value *v, want_kind want, void *out, df_buf *msg)
{
    df_value_type t = df_value_type_of(v);
    double x = df_value_number(v);
    switch (want) {
    case WANT_STRING:
        if (t == DF_VALUE_STRING) {
            *(const char **)out = df_value_string(v, NULL);
            return 1;
        }
        break;
    case WANT_INT:
        if (t == DF_VALUE_NUMBER && x == floor(x) && fabs(x) < 9.2e18) {
            *(int64_t *)out = (int64_t)x;
            return 1;
        }
        break;
    case WANT_FLOAT:
        if (t == DF_VALUE_NUMBER) {
            *(double *)out = x;
            return 1;
        }
        break;
    case WANT_BOOL:
        if (t == DF_VALUE_BOOL) {
            *(int *)out = df_value_bool(v);
            return 1;
        }
        break;
    }
    df_buf_printf(msg, "expected %s, got ", want_name(want));
    describe(msg, v);
    return 0;
}

static int init_read(df_init *init, const char *key, want_kind want, void *out)
{
    const df_value *v = df_value_get(init->cfg->with, key);
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) return 1; /* default stays */
    df_buf msg = DF_BUF_INIT;
    int ok = typed_read(v, want, out, &msg);
    if (!ok && init->err.code == DF_OK)
        df_error_set(&init->err, DF_E_INVALID_INPUT, "%s: with.%s: %s",
                     df_executor_config_where(init->cfg, v), key, msg.data);
    df_buf_free(&msg);
    return ok;
}

static int host_with_string(df_init *init, const char *key, const char *dflt, const char **out)
{
    *out = dflt;
    return init_read(init, key, WANT_STRING, out) ? DF_OK : DF_E_INVALID_INPUT;
}

static int host_with_int(df_init *init, const char *key, int64_t dflt, int64_t *out)
{
    *out = dflt;
    return init_read(init, key, WANT_INT, out) ? DF_OK : DF_E_INVALID_INPUT;
}

static int host_with_float(df_init *init, const char *key, double dflt, double *out)
{
    *out = dflt;
    return init_read(init, key, WANT_FLOAT, out) ? DF_OK : DF_E_INVALID_INPUT;
}

static int host_with_bool(df_init *init, const char *key, int dflt, int *out)
{
    *out = dflt;
    return init_read(init, key, WANT_BOOL, out) ? DF_OK : DF_E_INVALID_INPUT;
}

static const df_value *host_with_value(df_init *init, const char *key)
{
    return df_value_get(init->cfg->with, key);
}

static const df_value *host_with_all(df_init *init)
{
    return init->cfg->with;
}
static const df_value *host_metas(df_init *init)
{
    return init->cfg->metas;
}

/* ---- request parameters ------------------------------------------------------ */

/* Jina merges parameters[<executor name>] into the top level before a call;
 * done lazily so a handler that never reads parameters pays nothing. */
const df_value *df_req_parameters_merged(df_req *req)
{
    if (req->params) return req->params;
    const df_value *p = req->call->parameters;
    const df_value *own = df_value_get(p, req->ex->name);
    if (df_value_type_of(p) != DF_VALUE_MAP) {
        req->params = df_value_new_map(req->arena);
    } else if (df_value_type_of(own) != DF_VALUE_MAP) {
        req->params = p;
    } else {
        df_value *merged = df_value_copy(req->arena, p);
        df_value_merge(merged, own);
        req->params = merged;
    }
    return req->params;
}

static int param_read(df_req *req, const char *key, want_kind want, void *out)
{
    const df_value *v = df_value_get(df_req_parameters_merged(req), key);
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) return DF_OK;
    df_buf msg = DF_BUF_INIT;
    int ok = typed_read(v, want, out, &msg);
    int rc = ok ? DF_OK : host_fail(req, DF_E_INVALID_INPUT, "parameters.%s: %s", key, msg.data);
    df_buf_free(&msg);
    return rc;
}

static int host_param_string(df_req *req, const char *key, const char *dflt, const char **out)
{
    *out = dflt;
    return param_read(req, key, WANT_STRING, out);
}

static int host_param_int(df_req *req, const char *key, int64_t dflt, int64_t *out)
{
    *out = dflt;
    return param_read(req, key, WANT_INT, out);
}

static int host_param_float(df_req *req, const char *key, double dflt, double *out)
{
    *out = dflt;
    return param_read(req, key, WANT_FLOAT, out);
}

static int host_param_bool(df_req *req, const char *key, int dflt, int *out)
{
    *out = dflt;
    return param_read(req, key, WANT_BOOL, out);
}

/* ---- values, documents, arrays bound to a request ---------------------------- */

static df_value *host_value_new_list(df_req *req)
{
    return df_value_new_list(req->arena);
}
static df_value *host_value_new_map(df_req *req)
{
    return df_value_new_map(req->arena);
}
static df_doc *host_doc_new(df_req *req)
{
    return df_doc_new(req->arena);
}
static df_docs *host_docs_new(df_req *req)
{
    return df_docs_new(req->arena);
}

static const char *host_req_endpoint(df_req *req)
{
    return req->call->endpoint;
}
static df_docs *host_req_docs(df_req *req)
{
    return req->docs;
}

static void host_req_set_docs(df_req *req, df_docs *docs)
{
    req->replacement = docs ? docs : df_docs_new(req->arena);
}

static df_value *host_req_results(df_req *req)
{
    if (!req->results) req->results = df_value_new_map(req->arena);
    return req->results;
}

static size_t host_req_matrix_len(df_req *req)
{
    return req->call->matrix ? req->call->n_matrix : 1;
}

static df_docs *host_req_matrix_get(df_req *req, size_t i)
{
    if (!req->call->matrix) return i == 0 ? req->call->docs : NULL;
    return i < req->call->n_matrix ? req->call->matrix[i] : NULL;
}

static df_docs *host_req_groundtruths(df_req *req)
{
    if (!req->groundtruths)
        req->groundtruths =
            req->call->groundtruths ? req->call->groundtruths : df_docs_new(req->arena);
    return req->groundtruths;
}

/* ---- the table ------------------------------------------------------------------ */

static const df_host host_table = {
    .struct_size = sizeof(df_host),
    .abi_major = DF_ABI_MAJOR,
    .abi_minor = DF_ABI_MINOR,
    .alloc = host_alloc,
    .free = host_free,
    .req_alloc = host_req_alloc,
    .log = host_log,
    .fail = host_fail,
    .init_fail = host_init_fail,
    .init_exec = host_init_exec,
    .req_exec = host_req_exec,
    .exec_name = host_exec_name,
    .exec_workspace = host_exec_workspace,
    .runtime_arg = host_runtime_arg,
    .with_string = host_with_string,
    .with_int = host_with_int,
    .with_float = host_with_float,
    .with_bool = host_with_bool,
    .with_value = host_with_value,
    .with_all = host_with_all,
    .metas = host_metas,
    .value_type = df_value_type_of,
    .value_bool = df_value_bool,
    .value_number = df_value_number,
    .value_string = df_value_string,
    .value_len = df_value_len,
    .value_at = df_value_at,
    .value_key_at = df_value_key_at,
    .value_get = df_value_get,
    .value_new_list = host_value_new_list,
    .value_new_map = host_value_new_map,
    .value_append = df_value_append,
    .value_set = df_value_set,
    .value_put_string = df_value_put_string,
    .value_put_number = df_value_put_number,
    .value_put_bool = df_value_put_bool,
    .value_put_null = df_value_put_null,
    .value_remove = df_value_remove,
    .doc_new = host_doc_new,
    .doc_str = df_doc_str,
    .doc_set_str = df_doc_set_str,
    .doc_num = df_doc_num,
    .doc_set_num = df_doc_set_num,
    .doc_content = df_doc_content,
    .doc_text = df_doc_text,
    .doc_set_text = df_doc_set_text,
    .doc_blob = df_doc_blob,
    .doc_set_blob = df_doc_set_blob,
    .doc_tensor = df_doc_tensor,
    .doc_set_tensor = df_doc_set_tensor,
    .doc_embedding = df_doc_embedding,
    .doc_set_embedding = df_doc_set_embedding,
    .doc_embedding_f32 = df_doc_embedding_f32,
    .doc_set_embedding_f32 = df_doc_set_embedding_f32,
    .doc_location = df_doc_location,
    .doc_set_location = df_doc_set_location,
    .doc_chunks = df_doc_chunks,
    .doc_matches = df_doc_matches,
    .doc_tags = df_doc_tags,
    .doc_metadata = df_doc_metadata,
    .doc_score = df_doc_score,
    .doc_set_score = df_doc_set_score,
    .doc_score_count = df_doc_score_count,
    .doc_score_at = df_doc_score_at,
    .docs_new = host_docs_new,
    .docs_len = df_docs_len,
    .docs_get = df_docs_get,
    .docs_find = df_docs_find,
    .docs_append = df_docs_append,
    .docs_remove = df_docs_remove,
    .docs_clear = df_docs_clear,
    .docs_embeddings = df_docs_embeddings,
    .docs_set_embeddings = df_docs_set_embeddings,
    .docs_set_scores = df_docs_set_scores,
    .req_endpoint = host_req_endpoint,
    .req_docs = host_req_docs,
    .req_set_docs = host_req_set_docs,
    .req_parameters = df_req_parameters_merged,
    .param_string = host_param_string,
    .param_int = host_param_int,
    .param_float = host_param_float,
    .param_bool = host_param_bool,
    .req_results = host_req_results,
    .req_matrix_len = host_req_matrix_len,
    .req_matrix_get = host_req_matrix_get,
    .req_groundtruths = host_req_groundtruths,
};

const df_host *df_host_table(void)
{
    return &host_table;
}
