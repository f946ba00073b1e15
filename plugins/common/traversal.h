/*
 * traversal.h -- Jina's `traversal_paths` for one executor: which documents
 * of a request it works on. Header-only and shared by the text executors
 * (plugins/common is on their include path), so they still link nothing.
 *
 * A path is "r" (the request's documents) or a string of 'c' (chunks) and
 * 'm' (matches) walked from them: "c" the chunks of each document, "cc"
 * their chunks, "cm" the matches of the chunks. Several paths are separated
 * by commas ("r,c"), or given as a YAML/JSON list (["r", "c"]). Jina's
 * slices ("r[0:2]") and attribute selectors are not supported.
 */
#ifndef DOCFLOW_PLUGIN_TRAVERSAL_H
#define DOCFLOW_PLUGIN_TRAVERSAL_H

#include <stdio.h>
#include <string.h>

#include <docflow/executor.h>

#define TRAVERSAL_MAX 256 /* bytes of a normalised traversal_paths string */

/* The arrays a traversal selected, in request memory. */
typedef struct doc_arrays {
    df_docs **items;
    size_t n, cap;
} doc_arrays;

/* Whether s[0..len) is one path ("r" or [cm]+). */
static inline int traversal_path_ok(const char *s, size_t len)
{
    if (len == 1 && s[0] == 'r') return 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] != 'c' && s[i] != 'm') return 0;
    return len > 0;
}

/* Normalises a string or a list of strings into "p1,p2" in out[TRAVERSAL_MAX],
 * dropping spaces. Returns NULL, or a message saying what is wrong. */
static inline const char *traversal_normalise(const df_host *h, const df_value *v, char *out)
{
    size_t n = 0;
    int list = h->value_type(v) == DF_VALUE_LIST;
    size_t items = list ? h->value_len(v) : 1;
    if (!list && h->value_type(v) != DF_VALUE_STRING)
        return "expected a string such as \"r\" or \"r,c\", or a list of them";
    for (size_t k = 0; k < items; k++) {
        const char *s = h->value_string(list ? h->value_at(v, k) : v, NULL);
        if (!s) return "expected a list of strings such as [\"r\", \"c\"]";
        if (n && n < TRAVERSAL_MAX) out[n++] = ',';
        for (; *s && n < TRAVERSAL_MAX; s++)
            if (*s != ' ') out[n++] = *s;
    }
    if (n >= TRAVERSAL_MAX) return "too long";
    out[n] = '\0';
    for (const char *p = out;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!traversal_path_ok(p, len))
            return "each path must be \"r\" (the documents) or made of c (chunks) and m "
                   "(matches), e.g. \"c\", \"cm\"; separate paths with commas";
        if (!comma) return NULL;
        p = comma + 1;
    }
}

static inline void traversal_push(const df_host *h, df_req *req, doc_arrays *out, df_docs *docs)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 8;
        df_docs **items = h->req_alloc(req, cap * sizeof *items);
        if (out->n) memcpy(items, out->items, out->n * sizeof *items);
        out->items = items;
        out->cap = cap;
    }
    out->items[out->n++] = docs;
}

static inline void traversal_walk(const df_host *h, df_req *req, df_docs *docs, const char *path,
                                  size_t len, doc_arrays *out)
{
    if (len == 0) {
        traversal_push(h, req, out, docs);
        return;
    }
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        df_docs *next = path[0] == 'c' ? h->doc_chunks(d) : h->doc_matches(d);
        if (h->docs_len(next)) traversal_walk(h, req, next, path + 1, len - 1, out);
    }
}

/* The arrays selected by a normalised traversal string, in path order. */
static inline doc_arrays traversal_collect(const df_host *h, df_req *req, const char *paths)
{
    doc_arrays out = {0};
    df_docs *roots = h->req_docs(req);
    for (const char *p = paths;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 1 && p[0] == 'r')
            traversal_push(h, req, &out, roots);
        else
            traversal_walk(h, req, roots, p, len, &out);
        if (!comma) return out;
        p = comma + 1;
    }
}

/* with.traversal_paths (default "r"), normalised into out[TRAVERSAL_MAX]. */
static inline int traversal_from_with(const df_host *h, df_init *init, char *out)
{
    const df_value *v = h->with_value(init, "traversal_paths");
    if (!v || h->value_type(v) == DF_VALUE_NULL) {
        snprintf(out, TRAVERSAL_MAX, "r");
        return DF_OK;
    }
    const char *why = traversal_normalise(h, v, out);
    return why ? h->init_fail(init, DF_E_INVALID_INPUT, "with.traversal_paths: %s", why) : DF_OK;
}

/* parameters.traversal_paths when present (a string or a list), else the
 * instance's; into request memory. */
static inline int traversal_from_params(const df_host *h, df_req *req, const char *dflt,
                                        const char **out)
{
    const df_value *v = h->value_get(h->req_parameters(req), "traversal_paths");
    *out = dflt;
    if (!v || h->value_type(v) == DF_VALUE_NULL) return DF_OK;
    char *buf = h->req_alloc(req, TRAVERSAL_MAX);
    const char *why = traversal_normalise(h, v, buf);
    if (why) return h->fail(req, DF_E_INVALID_INPUT, "parameters.traversal_paths: %s", why);
    *out = buf;
    return DF_OK;
}

#endif /* DOCFLOW_PLUGIN_TRAVERSAL_H */
