/*
 * match_merger.c -- MatchMerger: the reducer for shards polled ALL and for
 * joins. A flow runs it as a node's `uses_after`, either named there or as
 * the default reducer the flow configuration adds to a node with `shards`
 * polled ALL and no `uses_after:` key (with `default_reducer: true`). For
 * every query it gathers the matches of that query from each upstream array
 * (docs_matrix), keeps one copy per match id (the best scored one), orders
 * them by score in the metric's direction and writes the top `limit` back as
 * the query's matches, replacing whatever the runtime's merge by id left
 * there.
 *
 * What it cannot rank it leaves alone, so it is safe as a default: a query
 * whose matches carry no score of known direction, or not all the same one,
 * keeps the runtime's merge by id (Jina's default reduce); a document
 * without matches is not touched. Only a score the user named (with.metric,
 * or parameters.metric outside the default role) is ranked whatever the
 * matches carry, and an unknown direction for it is an error.
 *
 * Not a ranker: it never computes a score, it only orders the ones the
 * shards wrote into `scores[<metric>]`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <docflow/executor.h>

#define METRIC_NAME_MAX 128
/* limit of the default reducer when neither with.limit nor parameters.limit
 * says: as many matches as the longest answer of one source. Each shard
 * already cut its answer at the limit it was asked for, so the longest one
 * has that length whenever a shard had enough documents. */
#define LIMIT_LONGEST_SOURCE (-1)

/* Which way a score is better. */
typedef enum direction {
    DIRECTION_UNKNOWN = -1,
    DIRECTION_LOWER_IS_BETTER = 0, /* distances: ascending */
    DIRECTION_HIGHER_IS_BETTER = 1 /* similarities: descending */
} direction;

typedef struct match_merger {
    const df_host *host;
    df_exec *exec;
    char metric[METRIC_NAME_MAX]; /* with.metric; "" = each query's own score name */
    direction forced;             /* with.higher_is_better, or UNKNOWN when absent */
    int64_t limit;                /* 0 = keep every match; or LIMIT_LONGEST_SOURCE */
    int default_reducer;          /* with.default_reducer: the flow's implicit uses_after */
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

static int is_given(const df_host *h, const df_value *v)
{
    return v != NULL && h->value_type(v) != DF_VALUE_NULL;
}

static int merger_init(const df_host *h, df_init *init, void **state_out)
{
    const char *metric;
    int64_t limit;
    int higher = 0, default_reducer = 0;
    int rc;
    if ((rc = h->with_string(init, "metric", "", &metric))) return rc;
    if ((rc = h->with_int(init, "limit", 10, &limit))) return rc;
    if ((rc = h->with_bool(init, "default_reducer", 0, &default_reducer))) return rc;
    int forced = is_given(h, h->with_value(init, "higher_is_better"));
    if (forced && (rc = h->with_bool(init, "higher_is_better", 0, &higher))) return rc;
    if (limit < 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.limit must be >= 0 (0 keeps every match), got %lld",
                            (long long)limit);
    if (strlen(metric) >= METRIC_NAME_MAX)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.metric is longer than %d bytes",
                            METRIC_NAME_MAX - 1);
    /* A name the user wrote is a promise to rank by it: refuse it now
     * rather than guess a direction on every request. */
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
    m->default_reducer = default_reducer;
    m->limit = default_reducer && !is_given(h, h->with_value(init, "limit")) ? LIMIT_LONGEST_SOURCE
                                                                             : limit;
    *state_out = m;
    return DF_OK;
}

static void merger_close(void *state)
{
    match_merger *m = state;
    m->host->free(m);
}

/* ---- one request ------------------------------------------------------------ */

/* What a request asks for. */
typedef struct merge_plan {
    const char *metric; /* the score to rank by; "" = each query's first score name */
    int named;          /* the user named it: ranked even where matches lack it */
    direction dir;      /* of a named metric */
    int64_t limit;      /* 0 = every match; or LIMIT_LONGEST_SOURCE */
} merge_plan;

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

/* The default reducer reads parameters leniently: it is there without the
 * user asking, so a parameter meant for the shards that it cannot use must
 * not fail a request that would pass without it. */
static void plan_default(match_merger *m, df_req *req, merge_plan *p)
{
    const df_host *h = m->host;
    const df_value *params = h->req_parameters(req);
    const df_value *limit = h->value_get(params, "limit");
    double x = h->value_number(limit);
    if (h->value_type(limit) == DF_VALUE_NUMBER && x >= 0 && x == floor(x) && x < 9e15)
        p->limit = (int64_t)x;
    const char *metric = h->value_string(h->value_get(params, "metric"), NULL);
    if (!p->named && metric && *metric && strlen(metric) < METRIC_NAME_MAX) p->metric = metric;
}

static int plan_request(match_merger *m, df_req *req, merge_plan *p)
{
    const df_host *h = m->host;
    p->metric = m->metric;
    p->named = m->metric[0] != '\0';
    p->limit = m->limit;
    int rc;
    if (m->default_reducer) {
        plan_default(m, req, p);
    } else {
        if ((rc = h->param_int(req, "limit", m->limit, &p->limit))) return rc;
        if (p->limit < 0)
            return h->fail(req, DF_E_INVALID_INPUT,
                           "parameters.limit must be >= 0 (0 keeps every match), got %lld",
                           (long long)p->limit);
        if ((rc = h->param_string(req, "metric", m->metric, &p->metric))) return rc;
        p->named = p->metric[0] != '\0';
    }
    p->dir = m->forced != DIRECTION_UNKNOWN ? m->forced : direction_of_name(p->metric);
    if (p->named && p->dir == DIRECTION_UNKNOWN)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "parameters.metric '%s': cannot tell whether a higher score is better; "
                       "set with.higher_is_better: true (similarities) or false (distances), "
                       "or name a known score (cosine, euclidean, dot, ...)",
                       p->metric);
    return DF_OK;
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

/* The query's copy in every source (NULL where absent); the number of its
 * matches over all of them and in the longest one. */
static size_t find_sources(const df_host *h, df_req *req, const char *id, size_t pos,
                           df_doc **sources, size_t *longest)
{
    size_t total = 0;
    *longest = 0;
    for (size_t a = 0; a < h->req_matrix_len(req); a++) {
        sources[a] = source_of(h, h->req_matrix_get(req, a), pos, id);
        size_t n = sources[a] ? h->docs_len(h->doc_matches(sources[a])) : 0;
        total += n;
        if (n > *longest) *longest = n;
    }
    return total;
}

/* The score name of the query's first match (the first one of the first
 * source that has any), or NULL when that match has no score. */
static const char *first_score_name(const df_host *h, df_doc **sources, size_t n_sources)
{
    for (size_t a = 0; a < n_sources; a++) {
        df_docs *matches = sources[a] ? h->doc_matches(sources[a]) : NULL;
        if (!matches || !h->docs_len(matches)) continue;
        df_score s;
        return h->doc_score_at(h->docs_get(matches, 0), DF_SCORES, 0, &s);
    }
    return NULL;
}

/* Every match of the query over all sources, in arrival order; *all_carry
 * says whether each one has a score named `metric`. */
static candidate *gather(const df_host *h, df_req *req, df_doc **sources, size_t n_sources,
                         size_t total, const char *metric, size_t *n_out, int *all_carry)
{
    candidate *c = h->req_alloc(req, total * sizeof *c);
    size_t n = 0;
    *all_carry = 1;
    for (size_t a = 0; a < n_sources; a++) {
        if (!sources[a]) continue;
        df_docs *matches = h->doc_matches(sources[a]);
        for (size_t k = 0; k < h->docs_len(matches); k++) {
            df_doc *doc = h->docs_get(matches, k);
            df_score s;
            int has = h->doc_score(doc, DF_SCORES, metric, &s);
            if (!has) *all_carry = 0;
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

/* Merges the matches of query `pos`, or leaves them as they are when there
 * is nothing to merge or nothing it can rank them by. */
static void merge_query(match_merger *m, df_req *req, df_doc **sources, df_doc *query, size_t pos,
                        const merge_plan *p)
{
    const df_host *h = m->host;
    size_t n_sources = h->req_matrix_len(req), longest;
    size_t total = find_sources(h, req, df_h_doc_id(h, query), pos, sources, &longest);
    if (!total) return;
    const char *metric = p->metric;
    direction dir = p->dir;
    if (!p->named) {
        if (!metric[0]) metric = first_score_name(h, sources, n_sources);
        if (!metric) return; /* unscored: Jina's merge stays */
        dir = m->forced != DIRECTION_UNKNOWN ? m->forced : direction_of_name(metric);
        if (dir == DIRECTION_UNKNOWN) return;
    }
    size_t n;
    int all_carry;
    candidate *c = gather(h, req, sources, n_sources, total, metric, &n, &all_carry);
    if (!p->named && !all_carry) return; /* differing score names: not comparable */
    n = deduplicate(c, n, dir);
    qsort_r(c, n, sizeof *c, by_quality, &dir);
    size_t limit = p->limit == LIMIT_LONGEST_SOURCE ? longest : (size_t)p->limit;
    if (limit > 0 && n > limit) n = limit;
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
    size_t n_sources = h->req_matrix_len(req);
    /* One source: an endpoint polled ANY (one shard answered, already
     * ranked) reaching the default reducer; nothing to merge. */
    if (m->default_reducer && n_sources < 2) return DF_OK;
    merge_plan plan;
    int rc = plan_request(m, req, &plan);
    if (rc) return rc;
    df_doc **sources = h->req_alloc(req, (n_sources + 1) * sizeof *sources);
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        merge_query(m, req, sources, h->docs_get(docs, i), i, &plan);
    return DF_OK;
}

static const df_request_def merger_requests[] = {
    DF_DEFAULT(merge_matches),
};

static const df_executor_def merger_executors[] = {
    DF_EXECUTOR("MatchMerger", "0.2.0",
                "Merges the matches of each query from shards or joined branches, keeps the "
                "top limit by score",
                merger_init, merger_close, merger_requests),
};

DF_PLUGIN("match_merger", "0.2.0", merger_executors)
