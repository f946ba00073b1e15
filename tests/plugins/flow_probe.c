/*
 * flow_probe.c -- test executors for flows: they leave in the documents and
 * in __results__ the evidence a flow test checks (which executors ran, in
 * what order, on which replica or shard, with how many documents, whether
 * an instance was ever entered twice at once). Not installed.
 *
 *   Probe     appends its name to tags.path; tags replica/shard/batch;
 *             fails a call that finds the instance already busy (re-entry);
 *             results: name, replica, shard, docs, calls, max_in_call,
 *             global_in_call, label, env (PROBE_ENV as seen by init).
 *             with: sleep_ms, jitter_ms, add_matches (m-<who>, m-shared,
 *             chunk c-<doc id>), fail_on (a tag key), label, call_log and
 *             close_log (files: a line per call / the name at close).
 *             parameters: sleep_ms, fail, stamp (-> tags.stamp).
 *             /mark (method `mark`) only sets tags.marked.
 *   Sharder   an in-memory indexer per shard: /index stores, /search adds
 *             every stored document as a match, /info reports the shard.
 *   JoinProbe records the shape of docs_matrix (a join's inputs, or the
 *             shards' outputs when used as uses_after).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <docflow/executor.h>

#define PATH_MAX_LEN 1024

/* Calls in progress over every Probe instance of the process: evidence
 * that requests pipeline (several instances busy at once). */
static atomic_int global_in_call;
static atomic_int global_max_in_call;

static void raise_max(atomic_int *max, int seen)
{
    int old = atomic_load(max);
    while (seen > old && !atomic_compare_exchange_weak(max, &old, seen)) {
    }
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void append_line(const char *path, const char *line)
{
    if (!path[0]) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s\n", line);
    fclose(f);
}

static int copy_with_string(const df_host *h, df_init *init, const char *key, char *out,
                            size_t size)
{
    const char *s;
    int rc = h->with_string(init, key, "", &s);
    if (rc) return rc;
    if (strlen(s) >= size)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.%s is too long", key);
    strcpy(out, s);
    return DF_OK;
}

static int runtime_int(const df_host *h, df_exec *ex, const char *key, int dflt)
{
    const df_value *v = h->runtime_arg(ex, key);
    return h->value_type(v) == DF_VALUE_NUMBER ? (int)h->value_number(v) : dflt;
}

/* tags[key] = tags[key] + [item] (a new list: values are copied in). */
static void tags_list_append(const df_host *h, df_req *req, df_doc *d, const char *key,
                             const char *item)
{
    df_value *tags = h->doc_tags(d);
    const df_value *old = h->value_get(tags, key);
    df_value *list = h->value_new_list(req);
    for (size_t i = 0; i < h->value_len(old); i++)
        h->value_append(list, h->value_at(old, i));
    h->value_put_string(list, NULL, item);
    h->value_set(tags, key, list);
}

/* ========================================================================
 * Probe
 * ======================================================================== */

typedef struct probe_state {
    const df_host *h;
    df_exec *ex;
    int shard_id, shards, replica_id;
    int64_t sleep_ms;
    int64_t jitter_ms; /* plus a pseudo-random 0..jitter_ms-1 per call */
    unsigned seed;
    int add_matches;
    char fail_on[128];
    char label[256];
    char env_value[256];
    char call_log[PATH_MAX_LEN];
    char close_log[PATH_MAX_LEN];
    atomic_int in_call;
    atomic_int max_in_call;
    atomic_int calls;
} probe_state;

static int probe_init(const df_host *h, df_init *init, void **state_out)
{
    probe_state *p = h->alloc(sizeof *p);
    memset(p, 0, sizeof *p);
    p->h = h;
    p->ex = h->init_exec(init);
    int rc;
    if ((rc = h->with_int(init, "sleep_ms", 0, &p->sleep_ms)) ||
        (rc = h->with_int(init, "jitter_ms", 0, &p->jitter_ms)) ||
        (rc = h->with_bool(init, "add_matches", 0, &p->add_matches)) ||
        (rc = copy_with_string(h, init, "fail_on", p->fail_on, sizeof p->fail_on)) ||
        (rc = copy_with_string(h, init, "label", p->label, sizeof p->label)) ||
        (rc = copy_with_string(h, init, "call_log", p->call_log, sizeof p->call_log)) ||
        (rc = copy_with_string(h, init, "close_log", p->close_log, sizeof p->close_log))) {
        h->free(p);
        return rc;
    }
    /* The node's env: is set while init runs, and only then. */
    const char *env = getenv("PROBE_ENV");
    snprintf(p->env_value, sizeof p->env_value, "%s", env ? env : "");
    p->shard_id = runtime_int(h, p->ex, "shard_id", -1);
    p->shards = runtime_int(h, p->ex, "shards", 1);
    p->replica_id = runtime_int(h, p->ex, "replica_id", 0);
    p->seed = (unsigned)(p->replica_id * 7919 + p->shard_id * 104729 + 17);
    *state_out = p;
    return DF_OK;
}

static void probe_close(void *state)
{
    probe_state *p = state;
    append_line(p->close_log, p->h->exec_name(p->ex));
    p->h->free(p);
}

/* Matches m-<who> and m-shared, chunk c-<doc id>, for merge-by-id checks:
 * the same ids come from several branches or shards. */
static void add_evidence(const df_host *h, df_req *req, df_doc *d, const char *who)
{
    char id[256];
    df_doc *m = h->doc_new(req);
    snprintf(id, sizeof id, "m-%s", who);
    h->doc_set_str(m, DF_FIELD_ID, id);
    h->value_put_string(h->doc_tags(m), "from", who);
    df_score s = {1.0f, "probe", "", ""};
    h->doc_set_score(m, DF_SCORES, "probe", &s);
    h->docs_append(h->doc_matches(d), m);
    df_doc *shared = h->doc_new(req);
    h->doc_set_str(shared, DF_FIELD_ID, "m-shared");
    h->value_put_string(h->doc_tags(shared), "from", who);
    h->docs_append(h->doc_matches(d), shared);
    df_doc *c = h->doc_new(req);
    snprintf(id, sizeof id, "c-%s", df_h_doc_id(h, d));
    h->doc_set_str(c, DF_FIELD_ID, id);
    snprintf(id, sizeof id, "by_%s", who);
    h->value_put_bool(h->doc_tags(c), id, 1);
    h->docs_append(h->doc_chunks(d), c);
}

static void probe_results(probe_state *p, df_req *req, size_t n_docs, int calls, int in_call,
                          int global_in_call_seen)
{
    const df_host *h = p->h;
    df_value *r = h->req_results(req);
    h->value_put_string(r, "name", h->exec_name(p->ex));
    h->value_put_number(r, "replica", p->replica_id);
    h->value_put_number(r, "shard", p->shard_id);
    h->value_put_number(r, "shards", p->shards);
    h->value_put_number(r, "calls", calls);
    h->value_put_number(r, "docs", (double)n_docs);
    h->value_put_number(r, "in_call", in_call);
    h->value_put_number(r, "max_in_call", atomic_load(&p->max_in_call));
    h->value_put_number(r, "global_in_call", global_in_call_seen);
    h->value_put_number(r, "global_max_in_call", atomic_load(&global_max_in_call));
    h->value_put_string(r, "label", p->label);
    h->value_put_string(r, "env", p->env_value);
}

static int probe_docs(probe_state *p, df_req *req, const char *who, int *failed_doc)
{
    const df_host *h = p->h;
    const char *stamp;
    int rc = h->param_string(req, "stamp", NULL, &stamp);
    if (rc) return rc;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    *failed_doc = -1;
    for (size_t i = 0; i < n; i++) {
        df_doc *d = h->docs_get(docs, i);
        df_value *tags = h->doc_tags(d);
        if (p->fail_on[0] && h->value_get(tags, p->fail_on) && *failed_doc < 0)
            *failed_doc = (int)i;
        tags_list_append(h, req, d, "path", h->exec_name(p->ex));
        h->value_put_number(tags, "replica", p->replica_id);
        h->value_put_number(tags, "shard", p->shard_id);
        h->value_put_number(tags, "batch", (double)n);
        if (stamp) h->value_put_string(tags, "stamp", stamp);
        if (p->add_matches) add_evidence(h, req, d, who);
    }
    return DF_OK;
}

/* The default handler. Parameters (also per executor, Jina's
 * parameters.<name>): sleep_ms, fail (bool), stamp (string). */
static int probe(void *state, df_req *req)
{
    probe_state *p = state;
    const df_host *h = p->h;
    int in_call = atomic_fetch_add(&p->in_call, 1) + 1;
    raise_max(&p->max_in_call, in_call);
    int global_seen = atomic_fetch_add(&global_in_call, 1) + 1;
    raise_max(&global_max_in_call, global_seen);
    int calls = atomic_fetch_add(&p->calls, 1) + 1;
    char who[160];
    if (p->shard_id >= 0)
        snprintf(who, sizeof who, "%s-%d", h->exec_name(p->ex), p->shard_id);
    else
        snprintf(who, sizeof who, "%s", h->exec_name(p->ex));
    int64_t ms;
    int fail = 0, failed_doc = -1;
    int rc = h->param_int(req, "sleep_ms", p->sleep_ms, &ms);
    if (!rc) rc = h->param_bool(req, "fail", 0, &fail);
    if (!rc) rc = probe_docs(p, req, who, &failed_doc);
    size_t n = h->docs_len(h->req_docs(req));
    if (!rc) {
        char line[256];
        snprintf(line, sizeof line, "%s %zu", who, n);
        append_line(p->call_log, line);
        if (p->jitter_ms > 0) ms += rand_r(&p->seed) % p->jitter_ms;
        sleep_ms(ms);
        /* busy Probes at entry or now, whichever is more */
        int global_now = atomic_load(&global_in_call);
        probe_results(p, req, n, calls, in_call,
                      global_now > global_seen ? global_now : global_seen);
    }
    atomic_fetch_sub(&global_in_call, 1);
    atomic_fetch_sub(&p->in_call, 1);
    if (rc) return rc;
    if (in_call > 1)
        return h->fail(req, DF_E_INTERNAL, "%s re-entered: %d calls at once", who, in_call);
    if (fail) return h->fail(req, DF_E_INVALID_INPUT, "%s failed because parameters.fail", who);
    if (failed_doc >= 0)
        return h->fail(req, DF_E_INVALID_INPUT, "%s refuses document %d (tag %s)", who, failed_doc,
                       p->fail_on);
    return DF_OK;
}

/* /mark (and whatever uses_requests binds it to): tags.marked = name. */
static int mark(void *state, df_req *req)
{
    probe_state *p = state;
    const df_host *h = p->h;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        h->value_put_string(h->doc_tags(h->docs_get(docs, i)), "marked", h->exec_name(p->ex));
    return DF_OK;
}

static const df_request_def probe_requests[] = {
    DF_REQUEST("/mark", mark),
    DF_DEFAULT(probe),
};

/* ========================================================================
 * Sharder
 * ======================================================================== */

typedef struct stored_doc {
    char *id;
    char *text;
} stored_doc;

typedef struct sharder {
    const df_host *h;
    df_exec *ex;
    int shard_id, shards;
    stored_doc *docs;
    size_t n, cap;
} sharder;

static int sharder_init(const df_host *h, df_init *init, void **state_out)
{
    sharder *s = h->alloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->h = h;
    s->ex = h->init_exec(init);
    s->shard_id = runtime_int(h, s->ex, "shard_id", -1);
    s->shards = runtime_int(h, s->ex, "shards", 1);
    *state_out = s;
    return DF_OK;
}

static void sharder_close(void *state)
{
    sharder *s = state;
    for (size_t i = 0; i < s->n; i++) {
        s->h->free(s->docs[i].id);
        s->h->free(s->docs[i].text);
    }
    s->h->free(s->docs);
    s->h->free(s);
}

static char *dup_host(const df_host *h, const char *str)
{
    size_t len = strlen(str);
    char *out = h->alloc(len + 1);
    memcpy(out, str, len + 1);
    return out;
}

static void store(sharder *s, const char *id, const char *text)
{
    const df_host *h = s->h;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        stored_doc *docs = h->alloc(cap * sizeof *docs);
        if (s->n) memcpy(docs, s->docs, s->n * sizeof *docs);
        h->free(s->docs);
        s->docs = docs;
        s->cap = cap;
    }
    s->docs[s->n].id = dup_host(h, id);
    s->docs[s->n].text = dup_host(h, text);
    s->n++;
}

/* /index: keeps id and text; tags.indexed_by = shard id. */
static int sharder_index(void *state, df_req *req)
{
    sharder *s = state;
    const df_host *h = s->h;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        const char *text = df_h_doc_text(h, d);
        store(s, df_h_doc_id(h, d), text ? text : "");
        h->value_put_number(h->doc_tags(d), "indexed_by", s->shard_id);
    }
    h->value_put_number(h->req_results(req), "stored", (double)s->n);
    return DF_OK;
}

/* /search: every stored document becomes a match (tags.shard, score
 * "sim"); chunk c-<query id> gets tags.shard_<k> so a reduce shows it was
 * merged by id. */
static int sharder_search(void *state, df_req *req)
{
    sharder *s = state;
    const df_host *h = s->h;
    df_docs *docs = h->req_docs(req);
    char key[64], id[256];
    snprintf(key, sizeof key, "shard_%d", s->shard_id);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *q = h->docs_get(docs, i);
        for (size_t k = 0; k < s->n; k++) {
            df_doc *m = h->doc_new(req);
            h->doc_set_str(m, DF_FIELD_ID, s->docs[k].id);
            df_h_doc_set_text(h, m, s->docs[k].text);
            h->value_put_number(h->doc_tags(m), "shard", s->shard_id);
            df_score sc = {1.0f / (float)(k + 1), "sharder", "", ""};
            h->doc_set_score(m, DF_SCORES, "sim", &sc);
            h->docs_append(h->doc_matches(q), m);
        }
        df_doc *c = h->doc_new(req);
        snprintf(id, sizeof id, "c-%s", df_h_doc_id(h, q));
        h->doc_set_str(c, DF_FIELD_ID, id);
        h->value_put_bool(h->doc_tags(c), key, 1);
        h->docs_append(h->doc_chunks(q), c);
    }
    return DF_OK;
}

/* /info: a match shard-<k> per query with the shard's workspace and
 * runtime arguments. */
static int sharder_info(void *state, df_req *req)
{
    sharder *s = state;
    const df_host *h = s->h;
    df_docs *docs = h->req_docs(req);
    const char *ws = h->exec_workspace(h->req_exec(req));
    char id[64];
    snprintf(id, sizeof id, "shard-%d", s->shard_id);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *m = h->doc_new(req);
        h->doc_set_str(m, DF_FIELD_ID, id);
        df_value *tags = h->doc_tags(m);
        h->value_put_string(tags, "workspace", ws ? ws : "");
        h->value_put_number(tags, "shard_id", s->shard_id);
        h->value_put_number(tags, "shards", s->shards);
        h->value_put_string(tags, "name", h->exec_name(s->ex));
        h->docs_append(h->doc_matches(h->docs_get(docs, i)), m);
    }
    return DF_OK;
}

static const df_request_def sharder_requests[] = {
    DF_REQUEST("/index", sharder_index),
    DF_REQUEST("/search", sharder_search),
    DF_REQUEST("/info", sharder_info),
};

/* ========================================================================
 * JoinProbe
 * ======================================================================== */

typedef struct join_state {
    const df_host *h;
    df_exec *ex;
} join_state;

static int join_init(const df_host *h, df_init *init, void **state_out)
{
    join_state *j = h->alloc(sizeof *j);
    j->h = h;
    j->ex = h->init_exec(init);
    *state_out = j;
    return DF_OK;
}

static void join_close(void *state)
{
    join_state *j = state;
    j->h->free(j);
}

/* The last entry of tags.path of an array's first document: which branch
 * the array came from ("" when it has none). */
static const char *array_origin(const df_host *h, df_docs *docs)
{
    df_doc *first = h->docs_get(docs, 0);
    if (!first) return "";
    const df_value *path = h->value_get(h->doc_tags(first), "path");
    size_t n = h->value_len(path);
    const char *s = n ? h->value_string(h->value_at(path, n - 1), NULL) : NULL;
    return s ? s : "";
}

/* Results: matrix_sizes, matrix_from (see array_origin), docs (merged
 * count); every merged document gets the name appended to tags.path. */
static int join_probe(void *state, df_req *req)
{
    join_state *j = state;
    const df_host *h = j->h;
    df_value *r = h->req_results(req);
    df_value *sizes = h->value_new_list(req);
    df_value *from = h->value_new_list(req);
    size_t n = h->req_matrix_len(req);
    for (size_t i = 0; i < n; i++) {
        df_docs *m = h->req_matrix_get(req, i);
        h->value_put_number(sizes, NULL, (double)h->docs_len(m));
        h->value_put_string(from, NULL, array_origin(h, m));
    }
    h->value_set(r, "matrix_sizes", sizes);
    h->value_set(r, "matrix_from", from);
    df_docs *docs = h->req_docs(req);
    h->value_put_number(r, "docs", (double)h->docs_len(docs));
    for (size_t i = 0; i < h->docs_len(docs); i++)
        tags_list_append(h, req, h->docs_get(docs, i), "path", h->exec_name(j->ex));
    return DF_OK;
}

static const df_request_def join_requests[] = {
    DF_DEFAULT(join_probe),
};

static const df_executor_def flow_probe_executors[] = {
    DF_EXECUTOR("Probe", "0.0.1", "leaves evidence of how a flow called it", probe_init,
                probe_close, probe_requests),
    DF_EXECUTOR("Sharder", "0.0.1", "an in-memory indexer per shard", sharder_init, sharder_close,
                sharder_requests),
    DF_EXECUTOR("JoinProbe", "0.0.1", "records the shape of docs_matrix", join_init, join_close,
                join_requests),
};

DF_PLUGIN("flow_probe", "0.0.1", flow_probe_executors)
