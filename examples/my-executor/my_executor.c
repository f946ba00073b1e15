/*
 * my_executor.c -- KeywordTagger, the example executor of
 * docs/writing-an-executor.md, built out of tree against an installed
 * docflow (find_package(docflow) or pkg-config).
 *
 * It tags every document whose text contains one of the configured
 * keywords (ASCII case-insensitive substring match by default) and reports
 * how many documents matched each keyword. It is small on purpose: a list
 * `with:` argument, state, tags, parameters, results, replacing the
 * request's documents and failing on bad input, and nothing else.
 *
 * The docs include this file verbatim; tests/integration/test_docs_examples.sh
 * fails when the two differ.
 */
#include <stddef.h>
#include <string.h>

#include <docflow/executor.h>

typedef struct keyword_tagger {
    const df_host *host;
    df_exec *exec;
    const char *tag; /* the tag key matched keywords are stored under */
    int case_sensitive;
    size_t n_keywords;
    char **keywords; /* n_keywords NUL-terminated copies, host->alloc memory */
} keyword_tagger;

static void tagger_close(void *state)
{
    keyword_tagger *t = state;
    const df_host *h = t->host;
    for (size_t i = 0; i < t->n_keywords; i++)
        h->free(t->keywords[i]);
    h->free(t->keywords);
    h->free((void *)t->tag);
    h->free(t);
}

/* Copies a string into host->alloc memory: with: strings die after init. */
static char *copy_string(const df_host *h, const char *s, size_t len)
{
    char *out = h->alloc(len + 1);
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* with.keywords must be a non-empty list of non-empty strings. */
static int copy_keywords(const df_host *h, df_init *init, keyword_tagger *t)
{
    const df_value *list = h->with_value(init, "keywords");
    if (h->value_type(list) != DF_VALUE_LIST || h->value_len(list) == 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.keywords: expected a non-empty list of strings, "
                            "e.g. keywords: [pizza, pasta]");
    size_t n = h->value_len(list);
    t->keywords = h->alloc(n * sizeof *t->keywords);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *s = h->value_string(h->value_at(list, i), &len);
        if (!s || len == 0)
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.keywords[%zu]: expected a non-empty string", i);
        t->keywords[t->n_keywords++] = copy_string(h, s, len);
    }
    return DF_OK;
}

static int tagger_init(const df_host *h, df_init *init, void **state_out)
{
    const char *tag;
    int case_sensitive;
    int rc;
    if ((rc = h->with_string(init, "tag", "keywords", &tag))) return rc;
    if ((rc = h->with_bool(init, "case_sensitive", 0, &case_sensitive))) return rc;
    if (!*tag) return h->init_fail(init, DF_E_INVALID_INPUT, "with.tag must not be empty");

    keyword_tagger *t = h->alloc(sizeof *t);
    *t = (keyword_tagger){.host = h, .exec = h->init_exec(init), .case_sensitive = case_sensitive};
    t->tag = copy_string(h, tag, strlen(tag));
    if ((rc = copy_keywords(h, init, t))) {
        tagger_close(t); /* init failed: close is never called, so free here */
        return rc;
    }
    h->log(t->exec, DF_LOG_INFO, "tagging %zu keyword(s) into tags.%s", t->n_keywords, t->tag);
    *state_out = t;
    return DF_OK;
}

static unsigned char fold(const keyword_tagger *t, unsigned char c)
{
    return !t->case_sensitive && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether text[0..len) contains the keyword. Texts may hold NUL bytes, so
 * the length, not strstr, bounds the search. */
static int contains(const keyword_tagger *t, const char *text, size_t len, const char *keyword)
{
    size_t k = strlen(keyword);
    for (size_t i = 0; i + k <= len; i++) {
        size_t j = 0;
        while (j < k && fold(t, (unsigned char)text[i + j]) == fold(t, (unsigned char)keyword[j]))
            j++;
        if (j == k) return 1;
    }
    return 0;
}

/* The text of a document, or NULL; fails the request for a blob or tensor,
 * which this executor cannot read. */
static const char *text_of(const keyword_tagger *t, df_req *req, df_doc *d, size_t *len, int *rc)
{
    const df_host *h = t->host;
    *rc = DF_OK;
    df_content_kind kind = h->doc_content(d);
    if (kind == DF_CONTENT_BLOB || kind == DF_CONTENT_TENSOR)
        *rc = h->fail(req, DF_E_INVALID_INPUT,
                      "document '%s' holds a %s; KeywordTagger reads text only", df_h_doc_id(h, d),
                      kind == DF_CONTENT_BLOB ? "blob" : "tensor");
    return *rc ? NULL : h->doc_text(d, len);
}

/* Counts, per keyword, the documents that contain it; with `tag_docs` also
 * stores the matched keywords as a list in tags[t->tag]. Puts
 * {docs, tagged, counts: {keyword: n}} into this executor's __results__. */
static int scan(keyword_tagger *t, df_req *req, int tag_docs)
{
    const df_host *h = t->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs), tagged = 0;
    double *counts = h->req_alloc(req, t->n_keywords * sizeof *counts);
    memset(counts, 0, t->n_keywords * sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = h->docs_get(docs, i);
        size_t len;
        int rc;
        const char *text = text_of(t, req, d, &len, &rc);
        if (rc) return rc;
        if (!text) continue;
        df_value *found = h->value_new_list(req);
        for (size_t k = 0; k < t->n_keywords; k++) {
            if (!contains(t, text, len, t->keywords[k])) continue;
            counts[k] += 1;
            h->value_put_string(found, NULL, t->keywords[k]);
        }
        if (h->value_len(found) == 0) continue;
        tagged++;
        if (tag_docs) h->value_set(h->doc_tags(d), t->tag, found); /* deep-copied */
    }
    df_value *by_keyword = h->value_new_map(req);
    for (size_t k = 0; k < t->n_keywords; k++)
        h->value_put_number(by_keyword, t->keywords[k], counts[k]);
    df_value *results = h->req_results(req);
    h->value_put_number(results, "docs", (double)n);
    h->value_put_number(results, "tagged", (double)tagged);
    h->value_set(results, "counts", by_keyword);
    return DF_OK;
}

/* /index and /update: tag the documents in place. */
static int tag_docs(void *state, df_req *req)
{
    return scan(state, req, 1);
}

/* The default handler (every other endpoint): report counts, change nothing. */
static int count_matches(void *state, df_req *req)
{
    return scan(state, req, 0);
}

/* /filter: keep only the documents that contain parameters.keyword (default:
 * any keyword), by replacing the request's documents. */
static int keep_matching(void *state, df_req *req)
{
    keyword_tagger *t = state;
    const df_host *h = t->host;
    const char *only;
    int rc;
    if ((rc = h->param_string(req, "keyword", NULL, &only))) return rc;
    size_t first = 0, end = t->n_keywords;
    if (only) {
        while (first < end && strcmp(t->keywords[first], only) != 0)
            first++;
        if (first == end)
            return h->fail(req, DF_E_INVALID_INPUT,
                           "parameters.keyword: '%s' is not one of the %zu configured keywords",
                           only, t->n_keywords);
        end = first + 1;
    }
    df_docs *in = h->req_docs(req);
    df_docs *kept = h->docs_new(req);
    for (size_t i = 0; i < h->docs_len(in); i++) {
        df_doc *d = h->docs_get(in, i);
        size_t len;
        const char *text = text_of(t, req, d, &len, &rc);
        if (rc) return rc;
        for (size_t k = first; text && k < end; k++) {
            if (!contains(t, text, len, t->keywords[k])) continue;
            h->docs_append(kept, d);
            break;
        }
    }
    h->req_set_docs(req, kept);
    return DF_OK;
}

static const df_request_def tagger_requests[] = {
    DF_REQUEST("/index", tag_docs),
    DF_REQUEST("/update", tag_docs),
    DF_REQUEST("/filter", keep_matching),
    DF_DEFAULT(count_matches),
};

static const df_executor_def tagger_executors[] = {
    DF_EXECUTOR("KeywordTagger", "0.1.0", "Tags documents whose text contains a keyword",
                tagger_init, tagger_close, tagger_requests),
};

DF_PLUGIN("my-executor", "0.1.0", tagger_executors)
