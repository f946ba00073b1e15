/*
 * evaluator.c -- Evaluator: compares each document of a request with its
 * groundtruth and scores the comparison, as Jina 1.x's evaluators and
 * DocArray's `da.evaluate` do.
 *
 * Two families of metrics:
 *   - search quality of a document's `matches`, with binary relevance:
 *     precision@k, recall@k, hit@k, reciprocal_rank, ndcg@k. A match is
 *     relevant when its id is among the groundtruth's matches, or, with
 *     `label_tag`, when match.tags[label] equals the document's.
 *   - embedding distance to the groundtruth's embedding: euclidean, cosine
 *     (Jina's EuclideanEvaluator / CosineEvaluator).
 * Each document gets evaluations[<name>] (op_name = name); the request's
 * __results__ get the mean of each metric and the number of documents.
 *
 * Not here: choosing which documents to search (that is the flow) or
 * aggregating over several requests (the caller weighs the means by
 * `docs`).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docflow/executor.h>

#define MAX_METRICS   32
#define NAME_MAX_LEN  64
#define LABEL_MAX_LEN 256

typedef enum metric_kind {
    METRIC_PRECISION,
    METRIC_RECALL,
    METRIC_HIT,
    METRIC_RECIPROCAL_RANK,
    METRIC_NDCG,
    METRIC_EUCLIDEAN,
    METRIC_COSINE,
} metric_kind;

/* The rank metrics taking a cut-off: "<base>_at_k" (DocArray's name; k from
 * with.k or parameters.k) or "<base>@<N>" (a fixed N). */
static const struct {
    const char *base;
    metric_kind kind;
} cutoff_metrics[] = {
    {"precision", METRIC_PRECISION},
    {"recall", METRIC_RECALL},
    {"hit", METRIC_HIT},
    {"ndcg", METRIC_NDCG},
};

typedef struct metric {
    metric_kind kind;
    int64_t k; /* the cut-off; 0 = the request's k; unused without a cut-off */
} metric;

typedef struct label_count {
    char *label;
    double count;
} label_count;

typedef struct evaluator {
    const df_host *host;
    df_exec *exec;
    metric metrics[MAX_METRICS];
    size_t n_metrics;
    int64_t k;
    int match_by_position;
    char label_tag[LABEL_MAX_LEN]; /* "" = relevance from the groundtruth's matches */
    label_count *counts;           /* with.label_counts */
    size_t n_counts;
} evaluator;

static const char known_metrics[] =
    "precision_at_k, recall_at_k, hit_at_k, ndcg_at_k (or precision@N, ...), reciprocal_rank, "
    "euclidean, cosine";

static int has_cutoff(metric_kind kind)
{
    return kind == METRIC_PRECISION || kind == METRIC_RECALL || kind == METRIC_HIT ||
           kind == METRIC_NDCG;
}

static int is_embedding_metric(metric_kind kind)
{
    return kind == METRIC_EUCLIDEAN || kind == METRIC_COSINE;
}

static const char *base_name(metric_kind kind)
{
    switch (kind) {
    case METRIC_PRECISION:
        return "precision";
    case METRIC_RECALL:
        return "recall";
    case METRIC_HIT:
        return "hit";
    case METRIC_NDCG:
        return "ndcg";
    case METRIC_RECIPROCAL_RANK:
        return "reciprocal_rank";
    case METRIC_EUCLIDEAN:
        return "euclidean";
    case METRIC_COSINE:
        return "cosine";
    }
    return "?";
}

/* ---- init ----------------------------------------------------------------------- */

/* Parses one metric name; DF_OK or init_fail's code. */
static int parse_metric(const df_host *h, df_init *init, const char *name, metric *out)
{
    static const struct {
        const char *name;
        metric_kind kind;
    } plain[] = {{"reciprocal_rank", METRIC_RECIPROCAL_RANK},
                 {"euclidean", METRIC_EUCLIDEAN},
                 {"cosine", METRIC_COSINE}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(name, plain[i].name) == 0) {
            *out = (metric){plain[i].kind, 0};
            return DF_OK;
        }
    for (size_t i = 0; i < sizeof cutoff_metrics / sizeof cutoff_metrics[0]; i++) {
        size_t len = strlen(cutoff_metrics[i].base);
        if (strncmp(name, cutoff_metrics[i].base, len) != 0) continue;
        const char *rest = name + len;
        if (strcmp(rest, "_at_k") == 0) {
            *out = (metric){cutoff_metrics[i].kind, 0};
            return DF_OK;
        }
        if (rest[0] != '@') continue;
        char *end;
        long long k = strtoll(rest + 1, &end, 10);
        if (rest[1] < '0' || rest[1] > '9' || *end)
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.metrics: '%s': the cut-off after '@' must be a whole number",
                                name);
        if (k <= 0)
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.metrics: '%s': k must be >= 1, got %lld", name, k);
        *out = (metric){cutoff_metrics[i].kind, (int64_t)k};
        return DF_OK;
    }
    return h->init_fail(init, DF_E_INVALID_INPUT, "with.metrics: unknown metric '%s' (known: %s)",
                        name, known_metrics);
}

static int add_metric(evaluator *e, df_init *init, const char *name)
{
    const df_host *h = e->host;
    if (!name || !name[0])
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.metrics: expected metric names (strings), e.g. "
                            "metrics: [precision_at_k, reciprocal_rank]");
    if (e->n_metrics == MAX_METRICS)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.metrics: more than %d metrics",
                            MAX_METRICS);
    return parse_metric(h, init, name, &e->metrics[e->n_metrics++]);
}

/* with.metrics: a name or a list of names. Without it, the rank metrics
 * (recall only when the number of relevant documents can be known). */
static int read_metrics(evaluator *e, df_init *init)
{
    const df_host *h = e->host;
    const df_value *v = h->with_value(init, "metrics");
    int rc;
    if (!v || h->value_type(v) == DF_VALUE_NULL) {
        const char *defaults[] = {"precision_at_k", "recall_at_k", "reciprocal_rank", "ndcg_at_k"};
        for (size_t i = 0; i < 4; i++) {
            if (e->label_tag[0] && i == 1 && !e->n_counts) continue;
            if ((rc = add_metric(e, init, defaults[i]))) return rc;
        }
        return DF_OK;
    }
    if (h->value_type(v) == DF_VALUE_STRING) return add_metric(e, init, h->value_string(v, NULL));
    if (h->value_type(v) != DF_VALUE_LIST || h->value_len(v) == 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.metrics: expected a metric name or a non-empty list of them "
                            "(known: %s)",
                            known_metrics);
    for (size_t i = 0; i < h->value_len(v); i++)
        if ((rc = add_metric(e, init, h->value_string(h->value_at(v, i), NULL)))) return rc;
    return DF_OK;
}

/* with.label_counts: {label: number of indexed documents with it}. */
static int read_label_counts(evaluator *e, df_init *init)
{
    const df_host *h = e->host;
    const df_value *v = h->with_value(init, "label_counts");
    if (!v || h->value_type(v) == DF_VALUE_NULL) return DF_OK;
    if (h->value_type(v) != DF_VALUE_MAP)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.label_counts: expected a map {label: count}");
    size_t n = h->value_len(v);
    e->counts = h->alloc((n ? n : 1) * sizeof *e->counts);
    for (size_t i = 0; i < n; i++) {
        const df_value *c = h->value_at(v, i);
        const char *key = h->value_key_at(v, i);
        if (h->value_type(c) != DF_VALUE_NUMBER || h->value_number(c) < 0)
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.label_counts['%s']: expected a count >= 0", key);
        size_t len = strlen(key);
        char *copy = h->alloc(len + 1);
        memcpy(copy, key, len + 1);
        e->counts[e->n_counts++] = (label_count){copy, h->value_number(c)};
    }
    return DF_OK;
}

static void evaluator_close(void *state)
{
    evaluator *e = state;
    const df_host *h = e->host;
    for (size_t i = 0; i < e->n_counts; i++)
        h->free(e->counts[i].label);
    h->free(e->counts);
    h->free(e);
}

static int evaluator_init(const df_host *h, df_init *init, void **state_out)
{
    const char *match_by, *label_tag;
    int64_t k;
    int rc;
    if ((rc = h->with_int(init, "k", 10, &k))) return rc;
    if ((rc = h->with_string(init, "match_by", "id", &match_by))) return rc;
    if ((rc = h->with_string(init, "label_tag", "", &label_tag))) return rc;
    if (k <= 0)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.k must be >= 1, got %lld",
                            (long long)k);
    if (strcmp(match_by, "id") != 0 && strcmp(match_by, "position") != 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.match_by must be 'id' or 'position', got '%s'", match_by);
    if (strlen(label_tag) >= LABEL_MAX_LEN)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.label_tag is longer than %d bytes",
                            LABEL_MAX_LEN - 1);
    evaluator *e = h->alloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->host = h;
    e->exec = h->init_exec(init);
    e->k = k;
    e->match_by_position = strcmp(match_by, "position") == 0;
    strcpy(e->label_tag, label_tag);
    if ((rc = read_label_counts(e, init)) || (rc = read_metrics(e, init))) {
        evaluator_close(e); /* init failed: close is never called */
        return rc;
    }
    *state_out = e;
    return DF_OK;
}

/* ---- relevance -------------------------------------------------------------------- */

/* What one document is judged against. */
typedef struct judgement {
    df_doc *doc;
    df_doc *truth;         /* the groundtruth, NULL when not needed */
    const char **relevant; /* groundtruth match ids, sorted and distinct */
    size_t n_relevant;
    const df_value *label; /* the document's tags[label_tag] (label mode) */
    double total_relevant; /* R: relevant documents in the index; < 0 unknown */
    unsigned char *hits;   /* per match: 1 when relevant */
    size_t n_matches;
} judgement;

static int by_string(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int scalar_equal(const df_host *h, const df_value *a, const df_value *b)
{
    df_value_type t = h->value_type(a);
    if (t != h->value_type(b)) return 0;
    switch (t) {
    case DF_VALUE_BOOL:
        return h->value_bool(a) == h->value_bool(b);
    case DF_VALUE_NUMBER:
        return h->value_number(a) == h->value_number(b);
    case DF_VALUE_STRING: {
        size_t la, lb;
        const char *sa = h->value_string(a, &la), *sb = h->value_string(b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    default:
        return 0;
    }
}

/* A label as the key of label_counts: strings as they are, whole numbers
 * without a fraction ("3"), other numbers in shortest form, booleans as
 * true / false. */
static const char *label_key(const df_host *h, df_req *req, const df_value *label)
{
    switch (h->value_type(label)) {
    case DF_VALUE_STRING:
        return h->value_string(label, NULL);
    case DF_VALUE_BOOL:
        return h->value_bool(label) ? "true" : "false";
    case DF_VALUE_NUMBER: {
        char *s = h->req_alloc(req, 32);
        double x = h->value_number(label);
        if (x == floor(x) && fabs(x) < 1e15)
            snprintf(s, 32, "%.0f", x);
        else
            snprintf(s, 32, "%.17g", x);
        return s;
    }
    default:
        return NULL;
    }
}

/* R in label mode: parameters.label_counts[label], else
 * with.label_counts[label], else unknown (-1). */
static double label_total(evaluator *e, df_req *req, const df_value *label)
{
    const df_host *h = e->host;
    const char *key = label_key(h, req, label);
    if (!key) return -1;
    const df_value *counts = h->value_get(h->req_parameters(req), "label_counts");
    const df_value *c = h->value_get(counts, key);
    if (h->value_type(c) == DF_VALUE_NUMBER) return h->value_number(c);
    for (size_t i = 0; i < e->n_counts; i++)
        if (strcmp(e->counts[i].label, key) == 0) return e->counts[i].count;
    return -1;
}

/* The groundtruth's distinct match ids, sorted for bsearch. */
static void relevant_ids(const df_host *h, df_req *req, judgement *j)
{
    df_docs *matches = h->doc_matches(j->truth);
    size_t n = h->docs_len(matches);
    j->relevant = h->req_alloc(req, (n ? n : 1) * sizeof *j->relevant);
    for (size_t i = 0; i < n; i++)
        j->relevant[i] = df_h_doc_id(h, h->docs_get(matches, i));
    qsort(j->relevant, n, sizeof *j->relevant, by_string);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!kept || strcmp(j->relevant[i], j->relevant[kept - 1]) != 0)
            j->relevant[kept++] = j->relevant[i];
    j->n_relevant = kept;
    j->total_relevant = (double)kept;
}

static int match_is_relevant(const evaluator *e, const judgement *j, df_doc *match)
{
    const df_host *h = e->host;
    if (e->label_tag[0])
        return scalar_equal(h, j->label, h->value_get(h->doc_tags(match), e->label_tag));
    const char *id = df_h_doc_id(h, match);
    return bsearch(&id, j->relevant, j->n_relevant, sizeof *j->relevant, by_string) != NULL;
}

/* Fills j->hits (and R) for the document's matches. */
static int judge_matches(evaluator *e, df_req *req, judgement *j)
{
    const df_host *h = e->host;
    if (e->label_tag[0]) {
        j->label = h->value_get(h->doc_tags(j->doc), e->label_tag);
        df_value_type t = h->value_type(j->label);
        if (t != DF_VALUE_STRING && t != DF_VALUE_NUMBER && t != DF_VALUE_BOOL)
            return h->fail(req, DF_E_INVALID_INPUT,
                           "document '%s' has no tags.%s (a string, number or bool): with "
                           "label_tag, every document needs its label",
                           df_h_doc_id(h, j->doc), e->label_tag);
        j->total_relevant = label_total(e, req, j->label);
    } else {
        relevant_ids(h, req, j);
    }
    df_docs *matches = h->doc_matches(j->doc);
    j->n_matches = h->docs_len(matches);
    j->hits = h->req_alloc(req, j->n_matches ? j->n_matches : 1);
    for (size_t i = 0; i < j->n_matches; i++)
        j->hits[i] = (unsigned char)match_is_relevant(e, j, h->docs_get(matches, i));
    return DF_OK;
}

/* ---- the metrics ------------------------------------------------------------------ */

static size_t hits_in(const judgement *j, size_t n)
{
    size_t hits = 0;
    for (size_t i = 0; i < n && i < j->n_matches; i++)
        hits += j->hits[i];
    return hits;
}

static double discounted_gain(size_t n)
{
    double g = 0;
    for (size_t i = 0; i < n; i++)
        g += 1.0 / log2((double)i + 2.0);
    return g;
}

/* nDCG@k, binary gains: DCG = sum over the top k of rel_i / log2(i + 1)
 * (i from 1); the ideal puts min(R, k) relevant documents on top. Without
 * R (label mode, no label_counts) the ideal is the best reordering of the
 * retrieved list, as DocArray does. */
static double ndcg(const judgement *j, size_t k)
{
    double dcg = 0;
    for (size_t i = 0; i < k && i < j->n_matches; i++)
        if (j->hits[i]) dcg += 1.0 / log2((double)i + 2.0);
    double relevant = j->total_relevant >= 0 ? j->total_relevant : (double)hits_in(j, j->n_matches);
    double ideal = discounted_gain(relevant < (double)k ? (size_t)relevant : k);
    return ideal > 0 ? dcg / ideal : 0.0;
}

static double reciprocal_rank(const judgement *j)
{
    for (size_t i = 0; i < j->n_matches; i++)
        if (j->hits[i]) return 1.0 / (double)(i + 1);
    return 0.0;
}

/* The document's embedding, or a failure naming it. */
static const float *embedding_of(evaluator *e, df_req *req, df_doc *d, const char *what,
                                 size_t *dim, int *rc)
{
    const df_host *h = e->host;
    const float *v = h->doc_embedding_f32(d, dim);
    *rc = v ? DF_OK
            : h->fail(req, DF_E_INVALID_INPUT,
                      "%s '%s' has no embedding (or not a numeric one): euclidean and cosine "
                      "compare embeddings",
                      what, df_h_doc_id(h, d));
    return v;
}

/* Euclidean distance or cosine distance (1 - cos; 1 when a vector is 0)
 * between the document's and the groundtruth's embeddings. */
static int embedding_distance(evaluator *e, df_req *req, const judgement *j, metric_kind kind,
                              double *out)
{
    const df_host *h = e->host;
    size_t da, db;
    int rc;
    const float *a = embedding_of(e, req, j->doc, "document", &da, &rc);
    if (rc) return rc;
    const float *b = embedding_of(e, req, j->truth, "groundtruth", &db, &rc);
    if (rc) return rc;
    if (da != db)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "document '%s' has a %zu-dim embedding, its groundtruth '%s' %zu-dim",
                       df_h_doc_id(h, j->doc), da, df_h_doc_id(h, j->truth), db);
    double dot = 0, na = 0, nb = 0, sq = 0;
    for (size_t i = 0; i < da; i++) {
        double x = a[i], y = b[i];
        dot += x * y;
        na += x * x;
        nb += y * y;
        sq += (x - y) * (x - y);
    }
    if (kind == METRIC_EUCLIDEAN)
        *out = sqrt(sq);
    else
        *out = na > 0 && nb > 0 ? 1.0 - dot / (sqrt(na) * sqrt(nb)) : 1.0;
    return DF_OK;
}

static int metric_value(evaluator *e, df_req *req, const judgement *j, const metric *m, size_t k,
                        double *out)
{
    const df_host *h = e->host;
    size_t cut = k < j->n_matches ? k : j->n_matches;
    switch (m->kind) {
    case METRIC_PRECISION: /* DocArray: over the top min(k, matches) */
        *out = cut ? (double)hits_in(j, cut) / (double)cut : 0.0;
        return DF_OK;
    case METRIC_RECALL:
        if (j->total_relevant < 0)
            return h->fail(req, DF_E_INVALID_INPUT,
                           "recall needs the number of relevant documents: with label_tag, "
                           "give parameters.label_counts (or with.label_counts) = {label: "
                           "count}; document '%s' has label '%s' and no count",
                           df_h_doc_id(h, j->doc), label_key(h, req, j->label));
        *out = j->total_relevant > 0 ? (double)hits_in(j, cut) / j->total_relevant : 0.0;
        if (*out > 1.0) *out = 1.0; /* repeated match ids */
        return DF_OK;
    case METRIC_HIT:
        *out = hits_in(j, cut) ? 1.0 : 0.0;
        return DF_OK;
    case METRIC_RECIPROCAL_RANK:
        *out = reciprocal_rank(j);
        return DF_OK;
    case METRIC_NDCG:
        *out = ndcg(j, k);
        return DF_OK;
    case METRIC_EUCLIDEAN:
    case METRIC_COSINE:
        return embedding_distance(e, req, j, m->kind, out);
    }
    return h->fail(req, DF_E_INTERNAL, "unknown metric kind %d", (int)m->kind);
}

/* ---- one request -------------------------------------------------------------------- */

static int needs_groundtruth(const evaluator *e)
{
    for (size_t i = 0; i < e->n_metrics; i++)
        if (is_embedding_metric(e->metrics[i].kind) || !e->label_tag[0]) return 1;
    return 0;
}

/* The groundtruth of document `pos`, or a failure saying what to send. */
static df_doc *groundtruth_of(evaluator *e, df_req *req, df_docs *truths, size_t pos, df_doc *d,
                              int *rc)
{
    const df_host *h = e->host;
    *rc = DF_OK;
    if (e->match_by_position) return h->docs_get(truths, pos);
    df_doc *t = h->docs_find(truths, df_h_doc_id(h, d));
    if (!t)
        *rc = h->fail(req, DF_E_NOT_FOUND,
                      "no groundtruth for document '%s' (match_by: id): send a groundtruth with "
                      "the same id, or set match_by: position",
                      df_h_doc_id(h, d));
    return t;
}

/* Checks that groundtruths came, and in the right number for position. */
static int check_groundtruths(evaluator *e, df_req *req, df_docs *docs, df_docs *truths)
{
    const df_host *h = e->host;
    size_t nd = h->docs_len(docs), nt = h->docs_len(truths);
    if (nd && !nt)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "no groundtruths in the request: the Evaluator compares each document "
                       "with its groundtruth (docflow-host call --groundtruths FILE, or the "
                       "request's groundtruths)%s",
                       e->label_tag[0] ? "" : "; or set with.label_tag to judge by a label");
    if (e->match_by_position && nd != nt)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "match_by: position needs one groundtruth per document: %zu documents, "
                       "%zu groundtruths",
                       nd, nt);
    return DF_OK;
}

/* The name of metric m at cut-off k: "precision@5", "reciprocal_rank". */
static const char *metric_name(const df_host *h, df_req *req, const metric *m, int64_t k)
{
    if (!has_cutoff(m->kind)) return base_name(m->kind);
    char *s = h->req_alloc(req, NAME_MAX_LEN);
    snprintf(s, NAME_MAX_LEN, "%s@%lld", base_name(m->kind), (long long)k);
    return s;
}

static const char *description_of(const evaluator *e, const metric *m)
{
    if (is_embedding_metric(m->kind)) return "embedding distance to the groundtruth";
    return e->label_tag[0] ? "relevant: same label tag" : "relevant: in the groundtruth's matches";
}

static int evaluate_doc(evaluator *e, df_req *req, judgement *j, const char **names,
                        const int64_t *ks, double *sums)
{
    const df_host *h = e->host;
    int rc;
    int rank_metrics = 0;
    for (size_t m = 0; m < e->n_metrics; m++)
        rank_metrics |= !is_embedding_metric(e->metrics[m].kind);
    if (rank_metrics && (rc = judge_matches(e, req, j))) return rc;
    for (size_t m = 0; m < e->n_metrics; m++) {
        double value;
        if ((rc = metric_value(e, req, j, &e->metrics[m], (size_t)ks[m], &value))) return rc;
        sums[m] += value;
        const char *ref = j->truth ? df_h_doc_id(h, j->truth) : "";
        df_score s = {(float)value, names[m], description_of(e, &e->metrics[m]), ref};
        h->doc_set_score(j->doc, DF_EVALUATIONS, names[m], &s);
    }
    return DF_OK;
}

/* /evaluate and /search: evaluate every document of the request. */
static int evaluate(void *state, df_req *req)
{
    evaluator *e = state;
    const df_host *h = e->host;
    int64_t k;
    int rc;
    if ((rc = h->param_int(req, "k", e->k, &k))) return rc;
    if (k <= 0)
        return h->fail(req, DF_E_INVALID_INPUT, "parameters.k must be >= 1, got %lld",
                       (long long)k);
    df_docs *docs = h->req_docs(req);
    df_docs *truths = h->req_groundtruths(req);
    int with_truth = needs_groundtruth(e);
    if (with_truth && (rc = check_groundtruths(e, req, docs, truths))) return rc;
    const char **names = h->req_alloc(req, e->n_metrics * sizeof *names);
    int64_t *ks = h->req_alloc(req, e->n_metrics * sizeof *ks);
    double *sums = h->req_alloc(req, e->n_metrics * sizeof *sums);
    for (size_t m = 0; m < e->n_metrics; m++) {
        ks[m] = e->metrics[m].k ? e->metrics[m].k : k;
        names[m] = metric_name(h, req, &e->metrics[m], ks[m]);
        sums[m] = 0;
    }
    size_t n = h->docs_len(docs);
    for (size_t i = 0; i < n; i++) {
        judgement j = {.doc = h->docs_get(docs, i), .total_relevant = -1};
        if (with_truth && !(j.truth = groundtruth_of(e, req, truths, i, j.doc, &rc))) return rc;
        if ((rc = evaluate_doc(e, req, &j, names, ks, sums))) return rc;
    }
    df_value *results = h->req_results(req);
    for (size_t m = 0; m < e->n_metrics && n; m++)
        h->value_put_number(results, names[m], sums[m] / (double)n);
    h->value_put_number(results, "docs", (double)n);
    return DF_OK;
}

static const df_request_def evaluator_requests[] = {
    DF_REQUEST("/evaluate", evaluate),
    DF_REQUEST("/search", evaluate),
};

static const df_executor_def evaluator_executors[] = {
    DF_EXECUTOR("Evaluator", "0.1.0",
                "Scores documents against their groundtruth: precision@k, recall@k, "
                "reciprocal rank, nDCG@k, embedding distances",
                evaluator_init, evaluator_close, evaluator_requests),
};

DF_PLUGIN("evaluator", "0.1.0", evaluator_executors)
