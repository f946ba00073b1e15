/*
 * executor_runtime.c -- one executor instance: open (find the plugin, pick
 * the jtype, resolve bindings, init), call (Jina's binding rules and the
 * batch policies), close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docflow/buf.h"
#include "docflow/log.h"
#include "executor_internal.h"

/* ---- picking the executor of a plugin -------------------------------------- */

static int find_def(const df_plugin *p, const char *path, const char *jtype, df_executor_def *out,
                    df_error *err)
{
    df_buf have = DF_BUF_INIT;
    for (uint32_t i = 0; i < p->n_executors; i++) {
        df_executor_def_read(p, i, out);
        if (strcmp(out->jtype, jtype) == 0) {
            df_buf_free(&have);
            return DF_OK;
        }
        df_buf_printf(&have, "%s%s", i ? ", " : "", out->jtype);
    }
    df_error_set(err, DF_E_NOT_FOUND, "%s has no executor '%s' (it has: %s); fix jtype", path,
                 jtype, have.data ? have.data : "none");
    df_buf_free(&have);
    return DF_E_NOT_FOUND;
}

/* ---- bindings: the compiled table, then YAML requests: ------------------------ */

static const df_request_def *row_by_method(const df_request_def *rows, size_t n, const char *m)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].method, m) == 0) return &rows[i];
    return NULL;
}

static int is_default_endpoint(const char *ep)
{
    return !ep || strcmp(ep, "/default") == 0;
}

static int rebinding_error(df_executor *ex, const df_executor_config *cfg, const df_value *v,
                           const char *endpoint, const char *method, const df_request_def *rows,
                           size_t n, df_error *err)
{
    df_buf have = DF_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        if (!row_by_method(rows, i, rows[i].method))
            df_buf_printf(&have, "%s%s", have.len ? ", " : "", rows[i].method);
    df_error_set(err, DF_E_INVALID_INPUT,
                 "%s: requests.%s: executor %s has no method '%s' (it has: %s)",
                 df_executor_config_where(cfg, v), endpoint, ex->jtype, method,
                 have.data ? have.data : "none");
    df_buf_free(&have);
    return DF_E_INVALID_INPUT;
}

static int method_rebound(const df_value *requests, const char *method)
{
    for (size_t i = 0; i < df_value_len(requests); i++) {
        const char *m = df_value_string(df_value_at(requests, i), NULL);
        if (m && strcmp(m, method) == 0) return 1;
    }
    return 0;
}

static int resolve_bindings(df_executor *ex, const df_executor_config *cfg, df_error *err)
{
    size_t n_rows = ex->def.n_requests;
    df_request_def *rows = df_arena_calloc(ex->arena, (n_rows + 1) * sizeof *rows);
    for (size_t i = 0; i < n_rows; i++)
        df_request_def_read(&ex->def, i, &rows[i]);
    const df_value *reqs = cfg->requests;
    size_t n_yaml = df_value_len(reqs);
    ex->bindings = df_arena_calloc(ex->arena, (n_rows + n_yaml + 1) * sizeof *ex->bindings);
    /* Jina: a method named in YAML requests: loses its compiled endpoints. */
    for (size_t i = 0; i < n_rows; i++) {
        if (method_rebound(reqs, rows[i].method)) continue;
        ex->bindings[ex->n_bindings++] =
            (df_binding){rows[i].endpoint, rows[i].method, rows[i].handler, rows[i].batch};
    }
    for (size_t i = 0; i < n_yaml; i++) {
        const char *ep = df_value_key_at(reqs, i);
        const df_value *mv = df_value_at(reqs, i);
        const char *method = df_value_string(mv, NULL);
        const df_request_def *row = method ? row_by_method(rows, n_rows, method) : NULL;
        if (!row) return rebinding_error(ex, cfg, mv, ep, method ? method : "", rows, n_rows, err);
        const char *bound_ep = is_default_endpoint(ep) ? NULL : ep;
        for (size_t j = 0; j < ex->n_bindings; j++) { /* YAML wins over a compiled row */
            const char *old = ex->bindings[j].endpoint;
            if ((!old && !bound_ep) || (old && bound_ep && strcmp(old, bound_ep) == 0)) {
                ex->bindings[j] = ex->bindings[--ex->n_bindings];
                break;
            }
        }
        ex->bindings[ex->n_bindings++] =
            (df_binding){bound_ep, row->method, row->handler, row->batch};
    }
    for (size_t i = 0; i < ex->n_bindings; i++)
        if (!ex->bindings[i].endpoint) ex->default_binding = &ex->bindings[i];
    return DF_OK;
}

static int apply_batch_size(df_executor *ex, const df_executor_config *cfg, df_error *err)
{
    const df_value *bs = df_value_get(cfg->metas, "batch_size");
    if (!bs) return DF_OK;
    double x = df_value_number(bs);
    if (df_value_type_of(bs) != DF_VALUE_NUMBER || x < 1 || x != (double)(uint32_t)x)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: metas.batch_size must be a positive integer",
                            df_executor_config_where(cfg, bs));
    for (size_t i = 0; i < ex->n_bindings; i++)
        if (ex->bindings[i].batch.mode == DF_BATCH_N) ex->bindings[i].batch.size = (uint32_t)x;
    return DF_OK;
}

/* ---- open / close ---------------------------------------------------------------- */

static const char *default_workspace(df_arena *a)
{
    const char *home = getenv("DOCFLOW_HOME");
    if (home && *home) return df_arena_printf(a, "%s/workspace", home);
    const char *user_home = getenv("HOME");
    return df_arena_printf(a, "%s/.docflow/workspace", user_home && *user_home ? user_home : ".");
}

static void fill_identity(df_executor *ex, const df_executor_config *cfg,
                          const df_executor_options *o)
{
    const char *metas_name = df_value_string(df_value_get(cfg->metas, "name"), NULL);
    const char *name = o->name && *o->name         ? o->name
                       : metas_name && *metas_name ? metas_name
                                                   : cfg->jtype;
    ex->name = df_arena_strdup(ex->arena, name);
    ex->jtype = df_arena_strdup(ex->arena, cfg->jtype);
    const char *ws = df_value_string(df_value_get(cfg->metas, "workspace"), NULL);
    ex->workspace_base = o->workspace && *o->workspace ? df_arena_strdup(ex->arena, o->workspace)
                         : ws && *ws                   ? df_arena_strdup(ex->arena, ws)
                                                       : default_workspace(ex->arena);
    if (ex->workspace_base[0] != '/') { /* absolute, as Jina reports it */
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd))
            ex->workspace_base = df_arena_printf(ex->arena, "%s/%s", cwd, ex->workspace_base);
    }
    ex->runtime_args = df_value_new_map(ex->arena);
    df_value_put_string(ex->runtime_args, "name", ex->name);
    df_value_put_number(ex->runtime_args, "shard_id", o->shard_id);
    df_value_put_number(ex->runtime_args, "shards", o->shards);
    df_value_put_number(ex->runtime_args, "replicas", o->replicas);
    df_value_put_number(ex->runtime_args, "replica_id", o->replica_id);
}

static int run_init(df_executor *ex, const df_executor_config *cfg, df_error *err)
{
    df_init init = {ex, cfg, DF_ERROR_INIT};
    void *state = NULL;
    int rc = ex->def.init(df_host_table(), &init, &state);
    if (rc == DF_OK) {
        ex->state = state;
        ex->initialised = 1;
        return DF_OK;
    }
    const char *where = df_executor_config_where(cfg, df_value_len(cfg->with) ? cfg->with : NULL);
    if (init.err.code != DF_OK)
        return df_error_set(err, init.err.code, "%s (%s, %s): init failed: %s", ex->name, ex->jtype,
                            where, init.err.msg);
    return df_error_set(err, rc > 0 && rc <= DF_E_TIMEOUT ? rc : DF_E_INTERNAL,
                        "%s (%s, %s): init failed with code %d (%s) and no message", ex->name,
                        ex->jtype, where, rc, df_rc_name(rc));
}

df_executor *df_executor_open(const df_executor_config *cfg, const df_executor_options *opt,
                              df_error *err)
{
    df_executor_options defaults = DF_EXECUTOR_OPTIONS_INIT;
    if (!opt) opt = &defaults;
    df_executor *ex = calloc(1, sizeof *ex);
    if (!ex) abort();
    ex->exec.owner = ex;
    ex->arena = df_arena_new(4096);
    pthread_mutex_init(&ex->workspace_lock, NULL);
    const char *path = opt->library && *opt->library
                           ? df_loader_find(ex->arena, cfg, opt->library, err)
                           : df_loader_find(ex->arena, cfg, NULL, err);
    if (!path) goto fail;
    ex->library = path;
    ex->plugin = df_loader_open(path, err);
    if (!ex->plugin) goto fail;
    if (find_def(ex->plugin, path, cfg->jtype, &ex->def, err)) goto fail;
    fill_identity(ex, cfg, opt);
    if (resolve_bindings(ex, cfg, err) || apply_batch_size(ex, cfg, err)) goto fail;
    if (run_init(ex, cfg, err)) goto fail;
    return ex;
fail:
    df_executor_close(ex);
    return NULL;
}

void df_executor_close(df_executor *ex)
{
    if (!ex) return;
    if (ex->initialised && ex->def.close) ex->def.close(ex->state);
    pthread_mutex_destroy(&ex->workspace_lock);
    df_arena_free(ex->arena);
    free(ex);
}

const char *df_executor_name(const df_executor *ex)
{
    return ex->name;
}
const char *df_executor_jtype(const df_executor *ex)
{
    return ex->jtype;
}
const char *df_executor_library(const df_executor *ex)
{
    return ex->library;
}
int df_executor_has_default(const df_executor *ex)
{
    return ex->default_binding != NULL;
}

size_t df_executor_endpoint_count(const df_executor *ex)
{
    size_t n = 0;
    for (size_t i = 0; i < ex->n_bindings; i++)
        n += ex->bindings[i].endpoint != NULL;
    return n;
}

const char *df_executor_endpoint_at(const df_executor *ex, size_t i)
{
    for (size_t j = 0; j < ex->n_bindings; j++)
        if (ex->bindings[j].endpoint && i-- == 0) return ex->bindings[j].endpoint;
    return NULL;
}

/* ---- calls --------------------------------------------------------------------- */

static const df_binding *find_binding(const df_executor *ex, const char *endpoint)
{
    for (size_t i = 0; i < ex->n_bindings; i++) {
        const char *ep = ex->bindings[i].endpoint;
        if (ep && strcmp(ep, endpoint) == 0) return &ex->bindings[i];
    }
    return ex->default_binding;
}

static int handler_failed(df_req *req, const df_binding *b, int rc)
{
    if (!req->failed)
        df_error_set(req->err, rc > 0 && rc <= DF_E_TIMEOUT ? rc : DF_E_INTERNAL,
                     "handler '%s' returned code %d (%s) without a message", b->method, rc,
                     df_rc_name(rc));
    df_error_prefix(req->err, "%s", req->ex->name);
    return req->err ? req->err->code : rc;
}

/* Feeds the documents in slices of `size`; the output is each slice's
 * documents (or its replacement), in order. */
static int call_batched(df_req *req, const df_binding *b, uint32_t size)
{
    df_docs *in = req->call->docs;
    size_t n = df_docs_len(in);
    df_docs *out = df_docs_new(req->arena);
    df_docs_reserve(out, n);
    for (size_t i = 0; i < n; i += size) {
        size_t k = n - i < size ? n - i : size;
        df_docs *slice = df_docs_new(req->arena);
        df_docs_reserve(slice, k);
        for (size_t j = 0; j < k; j++)
            df_docs_append(slice, df_docs_get(in, i + j));
        req->docs = slice;
        req->replacement = NULL;
        int rc = b->handler(req->ex->state, req);
        if (rc != DF_OK || req->failed) return handler_failed(req, b, rc ? rc : req->failed);
        df_docs *src = req->replacement ? req->replacement : slice;
        for (size_t j = 0; j < df_docs_len(src); j++)
            df_docs_append(out, df_docs_get(src, j));
    }
    req->call->docs = out;
    return DF_OK;
}

int df_executor_call(df_executor *ex, df_call *call, df_error *err)
{
    call->skipped = 0;
    const df_binding *b = find_binding(ex, call->endpoint);
    if (!b) {
        call->skipped = 1; /* Jina: no handler, no default -> documents pass through */
        return DF_OK;
    }
    if (!call->docs) call->docs = df_docs_new(call->arena);
    df_req req = {.ex = ex, .call = call, .arena = call->arena, .docs = call->docs, .err = err};
    int rc;
    if (b->batch.mode == DF_BATCH_WHOLE) {
        rc = b->handler(ex->state, &req);
        if (rc != DF_OK || req.failed) return handler_failed(&req, b, rc ? rc : req.failed);
        if (req.replacement) call->docs = req.replacement;
    } else {
        rc = call_batched(&req, b, b->batch.mode == DF_BATCH_SINGLE ? 1 : b->batch.size);
        if (rc) return rc;
    }
    if (req.results && call->results)
        df_value_set(call->results, call->results_key ? call->results_key : ex->name, req.results);
    return DF_OK;
}
