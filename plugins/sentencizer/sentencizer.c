/*
 * sentencizer.c -- Sentencizer, the built-in sentence splitter: each
 * document's `text` becomes sentence `chunks` (Jina's Sentencizer), each
 * chunk carrying parent_id, granularity + 1, offset = its sentence index and
 * location = [start, end) in code points of the parent's text, where the
 * chunk's text is exactly that slice. Or, with `flatten`, the sentences
 * replace the request's documents, ready for an encoder and an indexer that
 * work on top-level documents.
 *
 * Rules (README.md says the same for users):
 * - A sentence ends after a run of punctuation characters (with.punct_chars)
 *   and any closing quotes or brackets right after it, when the run is
 *   followed by white space or the end of the text, or holds a non-ASCII
 *   mark such as "。" (CJK text has no spaces). So "3.14", "e.g.x" and
 *   "executor.h" do not split, "Hi! Bye." does.
 * - A blank line always ends a sentence (with.paragraph_breaks), so
 *   headings, list items and code blocks of Markdown stay apart.
 * - Sentences are stripped of surrounding white space; those shorter than
 *   min_sent_len characters are dropped; those longer than max_sent_len are
 *   cut into pieces of at most max_sent_len characters, at the last white
 *   space inside the limit when there is one (Jina truncates; we keep the
 *   rest, because a search index should not lose text).
 * - Characters are Unicode code points; an invalid UTF-8 byte counts as one.
 */
#include <stdio.h>
#include <string.h>

#include <docflow/executor.h>

#include "utf8.h"
#include "traversal.h"

#define MAX_PUNCT       64
#define DEFAULT_PUNCT   ".!?\xe3\x80\x82\xef\xbc\x81\xef\xbc\x9f" /* .!?。！？ */
#define DEFAULT_MAX_LEN 512

typedef struct sentencizer {
    const df_host *host;
    df_exec *exec;
    uint32_t punct[MAX_PUNCT];
    size_t n_punct;
    int64_t min_len, max_len; /* in code points */
    int paragraph_breaks, keep_tags, flatten;
    char traversal[TRAVERSAL_MAX];
} sentencizer;

/* A position in a text: its byte and its code point index. */
typedef struct cursor {
    size_t byte, chr;
} cursor;

/* ---- UTF-8 and character classes ---------------------------------------------- */

static int is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* Closing quotes and brackets that stay with the sentence they end. */
static int is_closer(uint32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == '}' || cp == 0xBB ||
           cp == 0x2019 || cp == 0x201D || cp == 0x300D || cp == 0x300F || cp == 0xFF09;
}

static int is_punct(const sentencizer *s, uint32_t cp)
{
    for (size_t i = 0; i < s->n_punct; i++)
        if (s->punct[i] == cp) return 1;
    return 0;
}

/* The code point at c; moves *c past it. */
static uint32_t next(const char *text, size_t len, cursor *c)
{
    uint32_t cp;
    c->byte += utf8_decode((const unsigned char *)text, len, c->byte, &cp);
    c->chr++;
    return cp;
}

static uint32_t peek(const char *text, size_t len, cursor c)
{
    return next(text, len, &c);
}

/* ---- init ------------------------------------------------------------------------- */

/* Adds the code points of one UTF-8 string to the punctuation set. */
static int add_punct(const df_host *h, df_init *init, sentencizer *s, const char *str, size_t len,
                     int single)
{
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += utf8_decode((const unsigned char *)str, len, i, &cp);
        if (cp > 0x10FFFF)
            return h->init_fail(init, DF_E_INVALID_INPUT, "with.punct_chars: invalid UTF-8");
        if (s->n_punct == MAX_PUNCT)
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.punct_chars: more than %d characters", MAX_PUNCT);
        s->punct[s->n_punct++] = cp;
        count++;
    }
    if (single && count != 1)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.punct_chars: each list item must be one character, got \"%s\"",
                            str);
    return DF_OK;
}

/* with.punct_chars: a string of characters (".!?") or a list of them
 * (Jina's form: [".", "!", "?"]). */
static int read_punct(const df_host *h, df_init *init, sentencizer *s)
{
    const df_value *v = h->with_value(init, "punct_chars");
    df_value_type type = h->value_type(v);
    int rc = DF_OK;
    if (type == DF_VALUE_NULL) {
        rc = add_punct(h, init, s, DEFAULT_PUNCT, strlen(DEFAULT_PUNCT), 0);
    } else if (type == DF_VALUE_STRING) {
        size_t len;
        const char *str = h->value_string(v, &len);
        rc = add_punct(h, init, s, str, len, 0);
    } else if (type == DF_VALUE_LIST) {
        for (size_t i = 0; i < h->value_len(v) && !rc; i++) {
            size_t len;
            const char *str = h->value_string(h->value_at(v, i), &len);
            if (!str)
                return h->init_fail(init, DF_E_INVALID_INPUT,
                                    "with.punct_chars[%zu]: expected a one-character string", i);
            rc = add_punct(h, init, s, str, len, 1);
        }
    } else {
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.punct_chars: expected a string such as \".!?\" or a list "
                            "of characters");
    }
    if (!rc && s->n_punct == 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.punct_chars: empty (give at least one character)");
    return rc;
}

static int read_config(const df_host *h, df_init *init, sentencizer *s)
{
    int rc;
    if ((rc = h->with_int(init, "min_sent_len", 1, &s->min_len))) return rc;
    if ((rc = h->with_int(init, "max_sent_len", DEFAULT_MAX_LEN, &s->max_len))) return rc;
    if (s->min_len < 0)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.min_sent_len: must be >= 0, got %lld",
                            (long long)s->min_len);
    if (s->max_len < 1)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.max_sent_len: must be >= 1, got %lld",
                            (long long)s->max_len);
    if (s->min_len > s->max_len)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.min_sent_len (%lld) is greater than with.max_sent_len (%lld): "
                            "every sentence would be dropped",
                            (long long)s->min_len, (long long)s->max_len);
    if ((rc = h->with_bool(init, "paragraph_breaks", 1, &s->paragraph_breaks))) return rc;
    if ((rc = h->with_bool(init, "keep_tags", 0, &s->keep_tags))) return rc;
    if ((rc = h->with_bool(init, "flatten", 0, &s->flatten))) return rc;
    if ((rc = read_punct(h, init, s))) return rc;
    return traversal_from_with(h, init, s->traversal);
}

static int sentencizer_init(const df_host *h, df_init *init, void **state_out)
{
    sentencizer *s = h->alloc(sizeof *s);
    *s = (sentencizer){.host = h, .exec = h->init_exec(init)};
    int rc = read_config(h, init, s);
    if (rc) {
        h->free(s); /* close is not called when init fails */
        return rc;
    }
    *state_out = s;
    return DF_OK;
}

static void sentencizer_close(void *state)
{
    sentencizer *s = state;
    s->host->free(s);
}

/* ---- splitting ---------------------------------------------------------------------- */

/* What one document's split needs besides the text. */
typedef struct split_ctx {
    sentencizer *s;
    df_req *req;
    df_doc *parent;
    df_docs *dest; /* the parent's chunks, or the flattened output */
    const char *text;
    size_t len;
    size_t count; /* sentences emitted so far: the next offset */
} split_ctx;

static void emit_sentence(split_ctx *x, cursor from, cursor to)
{
    const df_host *h = x->s->host;
    if ((int64_t)(to.chr - from.chr) < x->s->min_len || to.byte == from.byte) return;
    df_doc *c = h->doc_new(x->req);
    const char *parent_id = df_h_doc_id(h, x->parent);
    if (*parent_id) {
        /* Stable ids: indexing the same document again replaces its sentences. */
        size_t size = strlen(parent_id) + 24;
        char *id = h->req_alloc(x->req, size);
        snprintf(id, size, "%s#%zu", parent_id, x->count);
        h->doc_set_str(c, DF_FIELD_ID, id);
    }
    h->doc_set_text(c, x->text + from.byte, to.byte - from.byte);
    h->doc_set_str(c, DF_FIELD_PARENT_ID, parent_id);
    h->doc_set_num(c, DF_FIELD_GRANULARITY, h->doc_num(x->parent, DF_FIELD_GRANULARITY) + 1);
    h->doc_set_num(c, DF_FIELD_OFFSET, (double)x->count);
    float location[2] = {(float)from.chr, (float)to.chr};
    h->doc_set_location(c, location, 2);
    if (x->s->keep_tags) {
        df_value *from_tags = h->doc_tags(x->parent), *to_tags = h->doc_tags(c);
        for (size_t i = 0; i < h->value_len(from_tags); i++)
            h->value_set(to_tags, h->value_key_at(from_tags, i), h->value_at(from_tags, i));
    }
    h->docs_append(x->dest, c);
    x->count++;
}

/* The end of the piece starting at `from` (already past white space) that
 * holds at most max_len characters: the whole rest when it fits, else
 * before the last white space inside the limit, else a hard cut. *resume
 * gets where the next piece starts. */
static cursor cut_piece(split_ctx *x, cursor from, cursor end, cursor *resume)
{
    cursor c = from, cut_end = from, cut_next = from, last_word_end = from;
    int have_cut = 0;
    while (c.byte < end.byte && (int64_t)(c.chr - from.chr) < x->s->max_len) {
        cursor at = c;
        if (!is_space(next(x->text, end.byte, &c))) {
            last_word_end = c;
        } else if (last_word_end.byte > from.byte) { /* a place to cut: after a word */
            cut_end = last_word_end;
            cut_next = at;
            have_cut = 1;
        }
    }
    if (c.byte >= end.byte || is_space(peek(x->text, end.byte, c))) {
        *resume = c;
        return last_word_end; /* a clean end: the rest fits, or a space follows */
    }
    *resume = have_cut ? cut_next : c;
    return have_cut ? cut_end : c;
}

static cursor skip_spaces(const char *text, cursor c, cursor end)
{
    while (c.byte < end.byte) {
        cursor n = c;
        if (!is_space(next(text, end.byte, &n))) break;
        c = n;
    }
    return c;
}

/* A raw segment [from, to): stripped, cut to max_len pieces, emitted. */
static void emit_segment(split_ctx *x, cursor from, cursor to)
{
    cursor c = skip_spaces(x->text, from, to);
    while (c.byte < to.byte) {
        cursor resume;
        cursor end = cut_piece(x, c, to, &resume);
        emit_sentence(x, c, end);
        c = skip_spaces(x->text, resume, to);
    }
}

/* After a punctuation character at *c (already consumed): consumes the rest
 * of the run and the closers after it; returns whether they end a sentence. */
static int ends_sentence(split_ctx *x, uint32_t first, cursor *c)
{
    int strong = first >= 0x80 || is_space(first);
    cursor n = *c;
    uint32_t cp;
    while (c->byte < x->len && is_punct(x->s, cp = next(x->text, x->len, &n))) {
        strong |= cp >= 0x80 || is_space(cp);
        *c = n;
    }
    n = *c;
    while (c->byte < x->len && is_closer(next(x->text, x->len, &n)))
        *c = n;
    return strong || c->byte >= x->len || is_space(peek(x->text, x->len, *c));
}

/* Whether a blank line starts at c (which holds a '\n'): returns the second
 * line break's cursor in *after. */
static int blank_line(split_ctx *x, cursor c, cursor *after)
{
    next(x->text, x->len, &c);
    while (c.byte < x->len) {
        cursor n = c;
        uint32_t cp = next(x->text, x->len, &n);
        if (cp == '\n') {
            *after = c;
            return 1;
        }
        if (cp != ' ' && cp != '\t' && cp != '\r') return 0;
        c = n;
    }
    return 0;
}

static void split_text(split_ctx *x)
{
    cursor c = {0, 0}, start = c;
    while (c.byte < x->len) {
        cursor at = c, after;
        uint32_t cp = next(x->text, x->len, &c);
        if (is_punct(x->s, cp)) {
            if (ends_sentence(x, cp, &c)) {
                emit_segment(x, start, c);
                start = c;
            }
        } else if (cp == '\n' && x->s->paragraph_breaks && blank_line(x, at, &after)) {
            emit_segment(x, start, at);
            start = c = after;
        }
    }
    emit_segment(x, start, c);
}

/* ---- the handler --------------------------------------------------------------------- */

/* The documents the traversal selects, copied out of their arrays first:
 * splitting appends chunks, which a later path (say "r,c") must not see. */
static df_doc **snapshot(const df_host *h, df_req *req, doc_arrays arrays, size_t *n)
{
    *n = 0;
    for (size_t a = 0; a < arrays.n; a++)
        *n += h->docs_len(arrays.items[a]);
    df_doc **docs = h->req_alloc(req, (*n ? *n : 1) * sizeof *docs);
    size_t k = 0;
    for (size_t a = 0; a < arrays.n; a++)
        for (size_t i = 0; i < h->docs_len(arrays.items[a]); i++)
            docs[k++] = h->docs_get(arrays.items[a], i);
    return docs;
}

/* The default handler: splits the text of every selected document. */
static int segment(void *state, df_req *req)
{
    sentencizer *s = state;
    const df_host *h = s->host;
    const char *paths;
    int flatten, rc;
    if ((rc = traversal_from_params(h, req, s->traversal, &paths))) return rc;
    if ((rc = h->param_bool(req, "flatten", s->flatten, &flatten))) return rc;
    size_t n, with_text = 0, sentences = 0;
    df_doc **docs = snapshot(h, req, traversal_collect(h, req, paths), &n);
    df_docs *flat = flatten ? h->docs_new(req) : NULL;
    for (size_t i = 0; i < n; i++) {
        split_ctx x = {.s = s, .req = req, .parent = docs[i]};
        x.text = h->doc_text(docs[i], &x.len);
        if (!x.text) continue;
        x.dest = flat ? flat : h->doc_chunks(docs[i]);
        split_text(&x);
        with_text++;
        sentences += x.count;
    }
    if (flat) h->req_set_docs(req, flat);
    df_value *results = h->req_results(req);
    h->value_put_number(results, "docs", (double)with_text);
    h->value_put_number(results, "sentences", (double)sentences);
    return DF_OK;
}

static const df_request_def sentencizer_requests[] = {
    DF_DEFAULT(segment),
};

static const df_executor_def sentencizer_executors[] = {
    DF_EXECUTOR("Sentencizer", "0.1.0", "Splits texts into sentence chunks", sentencizer_init,
                sentencizer_close, sentencizer_requests),
};

DF_PLUGIN("sentencizer", "0.1.0", sentencizer_executors)
