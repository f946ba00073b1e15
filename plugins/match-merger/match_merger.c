/*
 * match_merger.c -- MatchMerger: the reducer for shards polled ALL (used as
 * a flow node's `uses_after`) and for joins. For every query it gathers the
 * matches of that query from each upstream array (docs_matrix), keeps one
 * copy per match id (the best scored one), orders them by score in the
 * metric's direction and writes the top `limit` back as the query's
 * matches, replacing whatever the runtime's merge by id left there.
 *
 * Not a ranker: it never computes a score, it only orders the ones the
 * shards wrote into `scores[<metric>]`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <docflow/executor.h>

#define METRIC_NAME_MAX 128

/* Which way a score is better. */
typedef enum direction {
    DIRECTION_UNKNOWN = -1,
    DIRECTION_LOWER_IS_BETTER = 0, /* distances: ascending */
    DIRECTION_HIGHER_IS_BETTER = 1 /* similarities: descending */
} direction;

typedef struct match_merger {
    const df_host *host;
    df_exec *exec;
    char metric[METRIC_NAME_MAX]; /* "" = the first score name found in the matches */
    direction forced;             /* with.higher_is_better, or UNKNOWN when absent */
    int64_t limit;                /* 0 = keep every match */
} match_merger;

/* Score names whose direction is known. DocArray's native metrics
 * (cosine, euclidean, sqeuclidean) are distances: smaller is better. */
static const char *const distance_names[] = {"cosine",  "euclidean", "sqeuclidean", "l1",
                                             "l2",      "manhattan", "cityblock",   "hamming",
                                             "jaccard", "chebyshev", "distance",    NULL};
static const char *const similarity_names[] = {
    "dot",       "inner_product", "ip",    "similarity", "cosine_similarity", "sim", "score",
    "relevance", "bm25",          "tfidf", NULL};

static int in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0) return 1;
    return 0;
}

/* The direction of a score name, or DIRECTION_UNKNOWN. */
static direction direction_of_name(const char *name)
{
    if (in_list(distance_names, name)) return DIRECTION_LOWER_IS_BETTER;
    if (in_list(similarity_names, name)) return DIRECTION_HIGHER_IS_BETTER;
    return DIRECTION_UNKNOWN;
}

static int merger_init(const df_host *h, df_init *init, void **state_out)
{
    const char *metric;
    int64_t limit;
    int higher = 0;
    int rc;
    if ((rc = h->with_string(init, "metric", "", &metric))) return rc;
    if ((rc = h->with_int(init, "limit", 10, &limit))) return rc;
    int forced = h->with_value(init, "higher_is_better") != NULL &&
                 h->value_type(h->with_value(init, "higher_is_better")) != DF_VALUE_NULL;
    if (forced && (rc = h->with_bool(init, "higher_is_better", 0, &higher))) return rc;
    if (limit < 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.limit must be >= 0 (0 keeps every match), got %lld",
                            (long long)limit);
    if (strlen(metric) >= METRIC_NAME_MAX)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.metric is longer than %d bytes",
                            METRIC_NAME_MAX - 1);
    if (metric[0] && !forced && direction_of_name(metric) == DIRECTION_UNKNOWN)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.metric '%s': cannot tell whether a higher score is better; "
                            "set with.higher_is_better: true (similarities) or false (distances)",
                            metric);
    match_merger *m = h->alloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->host = h;
    m->exec = h->init_exec(init);
    strcpy(m->metric, metric);
    m->forced = forced ? (higher ? DIRECTION_HIGHER_IS_BETTER : DIRECTION_LOWER_IS_BETTER)
                       : DIRECTION_UNKNOWN;
    m->limit = limit;
    *state_out = m;
    return DF_OK;
}

static void merger_close(void *state)
{
    match_merger *m = state;
    m->host->free(m);
}

/* ---- one request ------------------------------------------------------------ */

/* A match seen for a query: where it came from, in arrival order. */
typedef struct candidate {
    df_doc *doc;
    const char *id;
    float score;
    int scored; /* has a finite score under the metric */
    size_t order;
} candidate;

/* Better first: scored before unscored, then by score in the metric's
 * direction, then in arrival order (shard order, then rank in the shard). */
static int compare_quality(const candidate *a, const candidate *b, direction dir)
{
    if (a->scored != b->scored) return a->scored ? -1 : 1;
    if (a->scored && a->score != b->score) {
        int a_first = dir == DIRECTION_HIGHER_IS_BETTER ? a->score > b->score : a->score < b->score;
        return a_first ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* qsort_r comparators; ctx points at the request's direction. */
static int by_quality(const void *x, const void *y, void *ctx)
{
    return compare_quality(x, y, *(const direction *)ctx);
}

/* Groups equal ids together, the best copy of each id first. */
static int by_id_then_quality(const void *x, const void *y, void *ctx)
{
    const candidate *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : compare_quality(a, b, *(const direction *)ctx);
}

/* The metric of this request: parameters.metric, else with.metric, else the
 * first score name carried by any match of any source. "" when no match
 * has a score. */
static const char *request_metric(match_merger *m, df_req *req, int *rc)
{
    const df_host *h = m->host;
    const char *metric;
    if ((*rc = h->param_string(req, "metric", m->metric, &metric))) return NULL;
    if (metric[0]) return metric;
    for (size_t a = 0; a < h->req_matrix_len(req); a++) {
        df_docs *docs = h->req_matrix_get(req, a);
        for (size_t i = 0; i < h->docs_len(docs); i++) {
            df_docs *matches = h->doc_matches(h->docs_get(docs, i));
            for (size_t k = 0; k < h->docs_len(matches); k++) {
                df_score s;
                const char *name = h->doc_score_at(h->docs_get(matches, k), DF_SCORES, 0, &s);
                if (name) return name;
            }
        }
    }
    return "";
}

/* The query's copy in upstream array `docs`: at the same position when the
 * ids agree (the usual case, and right even with repeated ids), else the
 * first document with its id. */
static df_doc *source_of(const df_host *h, df_docs *docs, size_t pos, const char *id)
{
    df_doc *d = h->docs_get(docs, pos);
    if (d && strcmp(df_h_doc_id(h, d), id) == 0) return d;
    return h->docs_find(docs, id);
}

/* Every match of query `pos` over all sources, in arrival order. */
static candidate *gather(match_merger *m, df_req *req, df_doc *query, size_t pos,
                         const char *metric, size_t *n_out)
{
    const df_host *h = m->host;
    const char *id = df_h_doc_id(h, query);
    size_t n_sources = h->req_matrix_len(req), total = 0;
    df_doc **sources = h->req_alloc(req, (n_sources + 1) * sizeof *sources);
    for (size_t a = 0; a < n_sources; a++) {
        sources[a] = source_of(h, h->req_matrix_get(req, a), pos, id);
        if (sources[a]) total += h->docs_len(h->doc_matches(sources[a]));
    }
    candidate *c = h->req_alloc(req, (total ? total : 1) * sizeof *c);
    size_t n = 0;
    for (size_t a = 0; a < n_sources; a++) {
        if (!sources[a]) continue;
        df_docs *matches = h->doc_matches(sources[a]);
        for (size_t k = 0; k < h->docs_len(matches); k++) {
            df_doc *doc = h->docs_get(matches, k);
            df_score s;
            int has = metric[0] && h->doc_score(doc, DF_SCORES, metric, &s);
            c[n] = (candidate){doc, df_h_doc_id(h, doc), has ? s.value : 0.0f,
                               has && isfinite(s.value), n};
            n++;
        }
    }
    *n_out = n;
    return c;
}

/* Keeps the best copy of each match id; returns the new count. */
static size_t deduplicate(candidate *c, size_t n, direction dir)
{
    if (n < 2) return n;
    qsort_r(c, n, sizeof *c, by_id_then_quality, &dir);
    size_t kept = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(c[i].id, c[kept - 1].id) != 0) c[kept++] = c[i];
    return kept;
}

static void merge_query(match_merger *m, df_req *req, df_doc *query, size_t pos, const char *metric,
                        direction dir, int64_t limit)
{
    const df_host *h = m->host;
    size_t n;
    candidate *c = gather(m, req, query, pos, metric, &n);
    n = deduplicate(c, n, dir);
    qsort_r(c, n, sizeof *c, by_quality, &dir);
    if (limit > 0 && n > (size_t)limit) n = (size_t)limit;
    /* The candidates point into the sources (the query's own matches among
     * them): request memory that clearing the array does not free. */
    df_docs *matches = h->doc_matches(query);
    h->docs_clear(matches);
    for (size_t i = 0; i < n; i++)
        h->docs_append(matches, c[i].doc);
}

/* Every endpoint: merge each query's matches. */
static int merge_matches(void *state, df_req *req)
{
    match_merger *m = state;
    const df_host *h = m->host;
    int64_t limit;
    int rc;
    if ((rc = h->param_int(req, "limit", m->limit, &limit))) return rc;
    if (limit < 0)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "parameters.limit must be >= 0 (0 keeps every match), got %lld",
                       (long long)limit);
    const char *metric = request_metric(m, req, &rc);
    if (rc) return rc;
    direction dir = m->forced != DIRECTION_UNKNOWN ? m->forced : direction_of_name(metric);
    if (metric[0] && dir == DIRECTION_UNKNOWN)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "score '%s': cannot tell whether a higher score is better; set "
                       "with.higher_is_better: true (similarities) or false (distances), "
                       "or with.metric to a known name (cosine, euclidean, dot, ...)",
                       metric);
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        merge_query(m, req, h->docs_get(docs, i), i, metric, dir, limit);
    return DF_OK;
}

static const df_request_def merger_requests[] = {
    DF_DEFAULT(merge_matches),
};

static const df_executor_def merger_executors[] = {
    DF_EXECUTOR("MatchMerger", "0.1.0",
                "Merges the matches of each query from shards or joined branches, keeps the "
                "top limit by score",
                merger_init, merger_close, merger_requests),
};

DF_PLUGIN("match_merger", "0.1.0", merger_executors)
