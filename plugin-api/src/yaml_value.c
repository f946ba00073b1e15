/*
 * yaml_value.c -- YAML text to df_value through libyaml's event API: PyYAML's
 * YAML 1.1 scalar typing, `!Tag` -> jtype, anchors / aliases / `<<` merge
 * keys, Jina's ${{ }} substitution, and the position of every node and key.
 *
 * Not for: what the keys mean (executor_config.c and the flow loader check
 * that) or writing YAML.
 */
#include "docflow/yaml_value.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "document_internal.h"

/* Every node built counts, alias copies included: a handful of aliases of
 * aliases ("billion laughs") would otherwise expand into billions of nodes.
 * No real configuration comes near the cap. */
#define YAML_MAX_NODES 1000000
/* The loader (and every later walk over the tree) recurses once per level. */
#define YAML_MAX_DEPTH 256
/* libyaml spells `!!x` as this prefix + x. */
#define YAML_STD_TAG "tag:yaml.org,2002:"

/* ---- positions: an open-addressing table from node (or key) pointer ---------- */

typedef struct pos_slot {
    const void *node; /* a df_value * or a map key's string; NULL = empty slot */
    df_yaml_pos pos;
} pos_slot;

struct df_yaml {
    df_arena *arena;
    const char *name;
    df_value *root;
    pos_slot *slots; /* power-of-two count, in the arena (old tables are dropped) */
    size_t n_slots, used;
};

static size_t pointer_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static pos_slot *pos_find_slot(pos_slot *slots, size_t n_slots, const void *node)
{
    size_t mask = n_slots - 1;
    for (size_t i = pointer_hash(node) & mask;; i = (i + 1) & mask)
        if (slots[i].node == node || !slots[i].node) return &slots[i];
}

static void pos_table_init(df_yaml *y, size_t n_slots)
{
    y->slots = df_arena_calloc(y->arena, n_slots * sizeof *y->slots);
    y->n_slots = n_slots;
    y->used = 0;
}

static void pos_put(df_yaml *y, const void *node, df_yaml_pos pos)
{
    if ((y->used + 1) * 4 > y->n_slots * 3) {
        pos_slot *old = y->slots;
        size_t old_n = y->n_slots;
        pos_table_init(y, old_n * 2);
        for (size_t i = 0; i < old_n; i++)
            if (old[i].node) {
                *pos_find_slot(y->slots, y->n_slots, old[i].node) = old[i];
                y->used++;
            }
    }
    pos_slot *s = pos_find_slot(y->slots, y->n_slots, node);
    if (!s->node) y->used++;
    s->node = node;
    s->pos = pos;
}

static df_yaml_pos pos_get(const df_yaml *y, const void *node)
{
    df_yaml_pos none = {0, 0};
    if (!y || !node || !y->slots) return none;
    const pos_slot *s = pos_find_slot(y->slots, y->n_slots, node);
    return s->node ? s->pos : none;
}

/* ---- the loader's state ------------------------------------------------------ */

typedef struct anchor {
    const char *name;
    df_value *node;       /* NULL while the anchored node is still being built */
    const char *key_text; /* a scalar's text, for an alias used as a mapping key */
    size_t n_nodes;       /* nodes in the subtree: what one alias of it costs */
} anchor;

typedef struct loader {
    df_yaml *y;
    df_arena *a;
    const df_value *context;
    df_error *err;
    yaml_parser_t parser;
    yaml_event_t ev; /* the current event */
    anchor *anchors; /* malloc'd; searched from the end (a name may be redefined) */
    size_t n_anchors, cap_anchors;
    size_t n_nodes;
    int depth;
} loader;

static df_yaml_pos mark_pos(yaml_mark_t m)
{
    return (df_yaml_pos){(int)m.line + 1, (int)m.column + 1};
}

static int fail_at(loader *L, df_yaml_pos pos, int code, const char *fmt, ...) DF_PRINTF(4, 5);
static int fail_at(loader *L, df_yaml_pos pos, int code, const char *fmt, ...)
{
    char msg[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return df_error_set(L->err, code, "%s:%d:%d: %s", L->y->name, pos.line, pos.col, msg);
}

static const char *type_phrase(const df_value *v)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_BOOL:
        return "a boolean";
    case DF_VALUE_NUMBER:
        return "a number";
    case DF_VALUE_STRING:
        return "a string";
    case DF_VALUE_LIST:
        return "a list";
    case DF_VALUE_MAP:
        return "a mapping";
    default:
        return "null";
    }
}

/* Counts a new node against the cap and records where it was written. */
static int node_made(loader *L, const df_value *v, df_yaml_pos pos)
{
    if (++L->n_nodes > YAML_MAX_NODES)
        return fail_at(L, pos, DF_E_INVALID_INPUT,
                       "the document has more than %d nodes (counting alias expansions)",
                       YAML_MAX_NODES);
    pos_put(L->y, v, pos);
    return DF_OK;
}

static int parse_error(loader *L)
{
    yaml_parser_t *p = &L->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_MEMORY_ERROR)
        return df_error_set(L->err, DF_E_RESOURCE, "%s: out of memory while parsing YAML",
                            L->y->name);
    if (p->error == YAML_READER_ERROR)
        return df_error_set(L->err, DF_E_INVALID_INPUT, "%s: invalid input at byte %zu: %s",
                            L->y->name, p->problem_offset, problem);
    df_yaml_pos at = mark_pos(p->problem_mark);
    if (!p->context) return fail_at(L, at, DF_E_INVALID_INPUT, "%s", problem);
    df_yaml_pos ctx = mark_pos(p->context_mark);
    return fail_at(L, at, DF_E_INVALID_INPUT, "%s (%s at %d:%d)", problem, p->context, ctx.line,
                   ctx.col);
}

static int next_event(loader *L)
{
    yaml_event_delete(&L->ev);
    if (yaml_parser_parse(&L->parser, &L->ev)) return DF_OK;
    memset(&L->ev, 0, sizeof L->ev);
    return parse_error(L);
}

/* ---- plain scalars: PyYAML's implicit resolver (YAML 1.1) ------------------- */

typedef enum plain_kind { PLAIN_STRING, PLAIN_NULL, PLAIN_BOOL, PLAIN_NUMBER } plain_kind;

static int text_is(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && memcmp(s, *words, len) == 0) return 1;
    return 0;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

/* Digits of `base` with '_' anywhere (PyYAML's [0-9_]+ and friends); at
 * least one digit unless `digits_optional`. */
static int parse_digits(const char *s, size_t len, int base, int digits_optional, double *out)
{
    double x = 0;
    int seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_') continue;
        int d = digit_value(s[i]);
        if (d >= base) return 0;
        x = x * base + d;
        seen = 1;
    }
    *out = x;
    return seen || digits_optional;
}

/* A decimal integer or float text with '_' removed, for strtod. */
static double strtod_without_underscores(const char *s, size_t len)
{
    char small[128];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return NAN;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '_') buf[n++] = s[i];
    buf[n] = '\0';
    double x = strtod(buf, NULL);
    if (buf != small) free(buf);
    return x;
}

/* `1:30:05` (base 60) after a first part parsed by the caller: each part is
 * [0-5]?[0-9]. Returns the length consumed, 0 when not sexagesimal. */
static size_t parse_sexagesimal_tail(const char *s, size_t len, double *acc)
{
    size_t i = 0;
    while (i < len && s[i] == ':') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 2)
            i++;
        size_t n = i - start;
        if (n == 0 || (n == 2 && s[start] > '5')) return 0;
        *acc = *acc * 60 + (n == 2 ? (s[start] - '0') * 10 + (s[start + 1] - '0') : s[start] - '0');
    }
    return i;
}

static int parse_yaml_int(const char *s, size_t len, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '+' || s[0] == '-')) neg = s[i++] == '-';
    const char *d = s + i;
    size_t n = len - i;
    double x;
    if (n == 0) return 0;
    if (n >= 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'o' || d[1] == 'b')) {
        int base = d[1] == 'x' ? 16 : d[1] == 'o' ? 8 : 2;
        if (!parse_digits(d + 2, n - 2, base, 0, &x)) return 0;
    } else if (d[0] == '0') { /* 1.1 octal: 0755; a lone 0 is zero */
        if (!parse_digits(d + 1, n - 1, 8, 1, &x)) return 0;
    } else if (d[0] >= '1' && d[0] <= '9') {
        const char *colon = memchr(d, ':', n);
        size_t head = colon ? (size_t)(colon - d) : n;
        for (size_t k = 0; k < head; k++)
            if (d[k] != '_' && (d[k] < '0' || d[k] > '9')) return 0;
        x = strtod_without_underscores(d, head);
        if (colon && parse_sexagesimal_tail(colon, n - head, &x) != n - head) return 0;
    } else {
        return 0;
    }
    *out = neg && x != 0 ? -x : x;
    return 1;
}

/* Decimal floats: PyYAML's forms plus a few it leaves as strings (1e3,
 * 1.0e3, -.5), since a config value that looks like a number is meant as
 * one. An integer-looking text without '.' or exponent is not a float. */
static int parse_decimal_float(const char *s, size_t len, double *out)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    int dot = 0, exponent = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (i < len && s[i] == '_') return 0; /* the first digit may not be '_' */
    for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
        int_digits++;
    if (i < len && s[i] == '.') {
        dot = 1;
        i++;
        if (!int_digits && (i >= len || s[i] < '0' || s[i] > '9')) return 0;
        for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
            frac_digits++;
    }
    if (!int_digits && !frac_digits) return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        exponent = 1;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        size_t start = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == start) return 0;
    }
    if (i != len || (!dot && !exponent)) return 0;
    *out = strtod_without_underscores(s, len);
    return 1;
}

static int parse_yaml_float(const char *s, size_t len, double *out)
{
    static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    int signed_ = len && (s[0] == '+' || s[0] == '-');
    if (text_is(s + signed_, len - signed_, infs)) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    if (text_is(s, len, nans)) {
        *out = NAN;
        return 1;
    }
    const char *colon = memchr(s, ':', len);
    if (!colon) return parse_decimal_float(s, len, out);
    /* Sexagesimal float: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
    const char *dot = memchr(colon, '.', len - (size_t)(colon - s));
    if (!dot || s[signed_] < '0' || s[signed_] > '9') return 0;
    double x;
    if (!parse_digits(s + signed_, (size_t)(colon - s) - signed_, 10, 0, &x)) return 0;
    size_t tail = (size_t)(dot - colon);
    if (parse_sexagesimal_tail(colon, tail, &x) != tail) return 0;
    double frac;
    size_t frac_len = len - (size_t)(dot - s) - 1;
    if (!parse_digits(dot + 1, frac_len, 10, 1, &frac)) return 0;
    char fbuf[64];
    if (frac_len) {
        snprintf(fbuf, sizeof fbuf, "0.%.*s", (int)(frac_len < 40 ? frac_len : 40), dot + 1);
        x += strtod_without_underscores(fbuf, strlen(fbuf));
    }
    *out = s[0] == '-' ? -x : x;
    return 1;
}

static plain_kind resolve_plain(const char *s, size_t len, int *b, double *x)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes",
                                        "YES",  "on",   "On",   "ON",  NULL};
    static const char *const falses[] = {"false", "False", "FALSE", "no",  "No",
                                         "NO",    "off",   "Off",   "OFF", NULL};
    if (len == 0 || text_is(s, len, nulls)) return PLAIN_NULL;
    if (text_is(s, len, trues) || text_is(s, len, falses)) {
        *b = text_is(s, len, trues);
        return PLAIN_BOOL;
    }
    if (parse_yaml_int(s, len, x) || parse_yaml_float(s, len, x)) return PLAIN_NUMBER;
    return PLAIN_STRING;
}

static df_value *plain_value(df_arena *a, const char *s, size_t len)
{
    int b = 0;
    double x = 0;
    switch (resolve_plain(s, len, &b, &x)) {
    case PLAIN_NULL:
        return df_value_new_null(a);
    case PLAIN_BOOL:
        return df_value_new_bool(a, b);
    case PLAIN_NUMBER:
        return df_value_new_number(a, x);
    default:
        return df_value_new_string(a, s, len);
    }
}

/* ---- ${{ }} substitution ---------------------------------------------------- */

typedef struct text_buf {
    char *p;
    size_t n, cap;
} text_buf;

static void text_append(text_buf *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            fprintf(stderr, "docflow: out of memory (%zu bytes)\n", cap);
            abort();
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

typedef enum expr_kind { EXPR_ENV, EXPR_CONTEXT } expr_kind;

typedef struct expr {
    expr_kind kind;
    const char *name; /* into the scalar text, not terminated */
    size_t name_len;
    size_t len; /* the whole ${{ ... }} */
} expr;

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len > n && memcmp(s, prefix, n) == 0;
}

/* Reads `${{ NAME }}` at p (which starts with "${{"), spaces optional as in
 * Jina's regex. Returns 0 for anything else (left literal). */
static int parse_expr(const char *p, size_t avail, expr *e)
{
    size_t i = 3;
    while (i < avail && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t start = i;
    while (i < avail && (is_name_char(p[i]) || p[i] == '.'))
        i++;
    size_t end = i;
    while (i < avail && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (end == start || i + 2 > avail || p[i] != '}' || p[i + 1] != '}') return 0;
    const char *id = p + start;
    size_t id_len = end - start;
    e->len = i + 2;
    e->kind = EXPR_CONTEXT;
    if (has_prefix(id, id_len, "ENV.") || has_prefix(id, id_len, "env.")) {
        e->kind = EXPR_ENV;
        id += 4, id_len -= 4;
    } else if (has_prefix(id, id_len, "CONTEXT.") || has_prefix(id, id_len, "context.")) {
        id += 8, id_len -= 8;
    }
    if (e->kind == EXPR_ENV && memchr(id, '.', id_len)) return 0;
    e->name = id;
    e->name_len = id_len;
    return 1;
}

/* A context value's text inside a longer string: YAML's spelling, so that
 * a whole-scalar result reads back as the same value. */
static const char *value_text(df_arena *a, const df_value *v)
{
    double x = df_value_number(v);
    switch (df_value_type_of(v)) {
    case DF_VALUE_STRING:
        return df_value_string(v, NULL);
    case DF_VALUE_BOOL:
        return df_value_bool(v) ? "true" : "false";
    case DF_VALUE_NULL:
        return "null";
    case DF_VALUE_NUMBER:
        if (isnan(x)) return ".nan";
        if (isinf(x)) return x < 0 ? "-.inf" : ".inf";
        if (x == floor(x) && fabs(x) < 1e15) return df_arena_printf(a, "%.0f", x);
        for (int prec = 15; prec < 17; prec++) {
            char *s = df_arena_printf(a, "%.*g", prec, x);
            if (strtod(s, NULL) == x) return s;
        }
        return df_arena_printf(a, "%.17g", x);
    default:
        return NULL; /* lists and maps have no string form */
    }
}

typedef struct subst {
    const char *text; /* arena, NUL-terminated */
    size_t len;
    int whole;                   /* the scalar was exactly one resolved expression */
    const df_value *whole_value; /* ...naming a non-string context value */
} subst;

/* One resolved expression appended to `out`. `whole_ok`: the expression is
 * the entire scalar and the scalar may take the value's type. */
static int substitute_one(loader *L, const expr *e, const char *literal, df_yaml_pos pos,
                          int whole_ok, text_buf *out, subst *s)
{
    const char *name = df_arena_strndup(L->a, e->name, e->name_len);
    if (e->kind == EXPR_ENV) {
        const char *val = getenv(name);
        if (!val)
            return fail_at(L, pos, DF_E_INVALID_INPUT,
                           "environment variable %s is not set (used in %.*s); export it or "
                           "remove the reference",
                           name, (int)e->len, literal);
        text_append(out, val, strlen(val));
        s->whole = whole_ok;
        return DF_OK;
    }
    const df_value *cv = df_value_get(L->context, name);
    if (!cv) { /* unknown: stays literal, as Jina's safe_substitute does */
        text_append(out, literal, e->len);
        return DF_OK;
    }
    if (whole_ok) {
        s->whole = 1;
        if (df_value_type_of(cv) != DF_VALUE_STRING) s->whole_value = cv;
    }
    const char *text = value_text(L->a, cv);
    if (!text && !s->whole_value)
        return fail_at(L, pos, DF_E_INVALID_INPUT,
                       "context variable %s is %s and cannot be part of a longer string (used "
                       "in %.*s)",
                       name, type_phrase(cv), (int)e->len, literal);
    if (text) text_append(out, text, strlen(text));
    return DF_OK;
}

/* Replaces every ${{ }} of s. `typed_ok`: a scalar that is exactly one
 * expression may become a number, bool, null, list or map. */
static int substitute(loader *L, const char *s, size_t len, df_yaml_pos pos, int typed_ok,
                      subst *out)
{
    text_buf t = {0};
    size_t i = 0;
    int rc = DF_OK;
    memset(out, 0, sizeof *out);
    text_append(&t, "", 0);
    while (i < len) {
        const char *open = memmem(s + i, len - i, "${{", 3);
        if (!open) {
            text_append(&t, s + i, len - i);
            break;
        }
        text_append(&t, s + i, (size_t)(open - (s + i)));
        size_t at = (size_t)(open - s);
        expr e;
        if (!parse_expr(open, len - at, &e)) {
            text_append(&t, open, 3);
            i = at + 3;
            continue;
        }
        int whole_ok = typed_ok && at == 0 && e.len == len;
        rc = substitute_one(L, &e, open, pos, whole_ok, &t, out);
        if (rc) goto done;
        i = at + e.len;
    }
    out->text = df_arena_strndup(L->a, t.p, t.n);
    out->len = t.n;
done:
    free(t.p);
    return rc;
}

/* ---- building nodes ----------------------------------------------------------- */

static df_value *load_node(loader *L);

/* A deep copy recording positions: the copy's root is where the alias (or
 * expression) is written; inside, each node keeps its original position, or
 * `pos` when the source has none. `foreign`: src is not from this document
 * (a context value), so its keys live in someone else's arena. */
static df_value *copy_tree(loader *L, const df_value *src, df_yaml_pos pos, int foreign, int depth)
{
    if (L->depth + depth > YAML_MAX_DEPTH) {
        fail_at(L, pos, DF_E_INVALID_INPUT, "nesting deeper than %d levels", YAML_MAX_DEPTH);
        return NULL;
    }
    df_value_type t = df_value_type_of(src);
    df_value *v;
    if (t != DF_VALUE_LIST && t != DF_VALUE_MAP) {
        v = df_value_copy(L->a, src);
        if (!v) v = df_value_new_null(L->a);
        return node_made(L, v, pos) ? NULL : v;
    }
    size_t n = df_value_len(src);
    v = t == DF_VALUE_MAP ? df_value_new_map(L->a) : df_value_new_list(L->a);
    if (node_made(L, v, pos)) return NULL;
    if (n) {
        v->u.c.items = df_arena_alloc(L->a, n * sizeof *v->u.c.items);
        if (t == DF_VALUE_MAP) v->u.c.keys = df_arena_alloc(L->a, n * sizeof *v->u.c.keys);
    }
    v->u.c.cap = n;
    for (size_t i = 0; i < n; i++) {
        const df_value *child = df_value_at(src, i);
        df_yaml_pos cpos = pos_get(L->y, child);
        df_value *c = copy_tree(L, child, cpos.line ? cpos : pos, foreign, depth + 1);
        if (!c) return NULL;
        if (t == DF_VALUE_MAP) {
            /* This document's keys are immutable strings in this arena:
             * shared, and so is their recorded position. */
            const char *key = df_value_key_at(src, i);
            if (foreign) {
                key = df_arena_strdup(L->a, key);
                pos_put(L->y, key, pos);
            }
            v->u.c.keys[i] = key;
        }
        v->u.c.items[v->u.c.n++] = c;
    }
    return v;
}

static long anchor_begin(loader *L, const yaml_char_t *name)
{
    if (L->n_anchors == L->cap_anchors) {
        size_t cap = L->cap_anchors ? L->cap_anchors * 2 : 16;
        anchor *p = realloc(L->anchors, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "docflow: out of memory (%zu anchors)\n", cap);
            abort();
        }
        L->anchors = p;
        L->cap_anchors = cap;
    }
    L->anchors[L->n_anchors] =
        (anchor){df_arena_strdup(L->a, (const char *)name), NULL, NULL, L->n_nodes};
    return (long)L->n_anchors++;
}

static void anchor_end(loader *L, long i, df_value *node, const char *key_text)
{
    if (i < 0) return;
    anchor *an = &L->anchors[i];
    an->node = node;
    an->key_text = key_text;
    an->n_nodes = L->n_nodes - an->n_nodes; /* began as the count before the node */
}

static const anchor *anchor_find(loader *L, const char *name)
{
    for (size_t i = L->n_anchors; i-- > 0;)
        if (strcmp(L->anchors[i].name, name) == 0) return &L->anchors[i];
    return NULL;
}

/* The anchor named by the current (alias) event, or NULL with an error. */
static const anchor *alias_target(loader *L, df_yaml_pos pos)
{
    const char *name = (const char *)L->ev.data.alias.anchor;
    const anchor *an = anchor_find(L, name);
    if (!an)
        fail_at(L, pos, DF_E_INVALID_INPUT, "unknown alias '*%s' (no anchor '&%s' before it)", name,
                name);
    else if (!an->node)
        fail_at(L, pos, DF_E_INVALID_INPUT,
                "alias '*%s' is used inside the node it names (recursive structures are not "
                "supported)",
                name);
    return an && an->node ? an : NULL;
}

static df_value *load_alias(loader *L, df_yaml_pos pos)
{
    const anchor *an = alias_target(L, pos);
    if (!an) return NULL;
    if (L->n_nodes + an->n_nodes > YAML_MAX_NODES) {
        fail_at(L, pos, DF_E_INVALID_INPUT,
                "alias '*%s' would grow the document past %d nodes (aliases nested to expand "
                "exponentially?)",
                an->name, YAML_MAX_NODES);
        return NULL;
    }
    return copy_tree(L, an->node, pos, 0, 0);
}

static int is_std_tag(const char *tag, const char *name)
{
    size_t n = strlen(YAML_STD_TAG);
    return tag && strncmp(tag, YAML_STD_TAG, n) == 0 && strcmp(tag + n, name) == 0;
}

/* `!Name` (a local tag) gives "Name"; `!` alone and global tags give NULL. */
static const char *local_tag_name(const char *tag)
{
    return tag && tag[0] == '!' && tag[1] ? tag + 1 : NULL;
}

static df_value *jtype_map(loader *L, const char *jtype, df_yaml_pos pos)
{
    df_value *m = df_value_new_map(L->a);
    df_value *s = df_value_new_string(L->a, jtype, SIZE_MAX);
    if (node_made(L, m, pos) || node_made(L, s, pos)) return NULL;
    m->u.c.keys = df_arena_alloc(L->a, sizeof *m->u.c.keys);
    m->u.c.items = df_arena_alloc(L->a, sizeof *m->u.c.items);
    m->u.c.keys[0] = df_arena_strdup(L->a, "jtype");
    m->u.c.items[0] = s;
    m->u.c.n = m->u.c.cap = 1;
    pos_put(L->y, m->u.c.keys[0], pos);
    return m;
}

/* A string scalar after substitution. `retype`: a scalar that is exactly
 * one expression reads as a plain scalar again (or takes the context
 * value's type). */
static df_value *string_scalar(loader *L, const char *text, size_t len, df_yaml_pos pos, int retype)
{
    df_value *v;
    if (!memmem(text, len, "${{", 3)) {
        v = df_value_new_string(L->a, text, len);
        return node_made(L, v, pos) ? NULL : v;
    }
    subst s;
    if (substitute(L, text, len, pos, retype, &s)) return NULL;
    if (s.whole_value) return copy_tree(L, s.whole_value, pos, 1, 0);
    v = s.whole ? plain_value(L->a, s.text, s.len) : df_value_new_string(L->a, s.text, s.len);
    return node_made(L, v, pos) ? NULL : v;
}

/* `!!int`, `!!float`, `!!bool`, `!!null`: the text (after substitution)
 * must read as that type. */
static df_value *typed_scalar(loader *L, const char *text, size_t len, const char *type,
                              df_value_type want, df_yaml_pos pos)
{
    df_value *v = string_scalar(L, text, len, pos, 0);
    if (!v) return NULL;
    size_t n;
    const char *s = df_value_string(v, &n);
    int b = 0;
    double x = 0;
    plain_kind k = resolve_plain(s, n, &b, &x);
    int ok = (want == DF_VALUE_NULL && k == PLAIN_NULL) ||
             (want == DF_VALUE_BOOL && k == PLAIN_BOOL) ||
             (want == DF_VALUE_NUMBER && k == PLAIN_NUMBER &&
              (strcmp(type, "float") == 0 || parse_yaml_int(s, n, &x)));
    if (!ok) {
        fail_at(L, pos, DF_E_INVALID_INPUT, "'%s' is not a valid !!%s", s, type);
        return NULL;
    }
    df_value *typed = plain_value(L->a, s, n);
    pos_put(L->y, typed, pos); /* replaces v, already counted */
    return typed;
}

static df_value *construct_scalar(loader *L, const char *text, size_t len,
                                  yaml_scalar_style_t style, const char *tag, df_yaml_pos pos)
{
    int plain = style == YAML_PLAIN_SCALAR_STYLE || style == YAML_ANY_SCALAR_STYLE;
    if (!tag) {
        /* Quoted expressions are retyped too: Jina does, and flow-style YAML
         * ({port: "${{ ENV.PORT }}"}) cannot write ${{ unquoted. `!!str`
         * keeps a string. */
        if (!plain || memmem(text, len, "${{", 3)) return string_scalar(L, text, len, pos, 1);
        df_value *v = plain_value(L->a, text, len);
        return node_made(L, v, pos) ? NULL : v;
    }
    if (strcmp(tag, "!") == 0 || is_std_tag(tag, "str") || is_std_tag(tag, "timestamp"))
        return string_scalar(L, text, len, pos, 0);
    if (is_std_tag(tag, "int")) return typed_scalar(L, text, len, "int", DF_VALUE_NUMBER, pos);
    if (is_std_tag(tag, "float")) return typed_scalar(L, text, len, "float", DF_VALUE_NUMBER, pos);
    if (is_std_tag(tag, "bool")) return typed_scalar(L, text, len, "bool", DF_VALUE_BOOL, pos);
    if (is_std_tag(tag, "null")) return typed_scalar(L, text, len, "null", DF_VALUE_NULL, pos);
    const char *jtype = local_tag_name(tag);
    if (jtype && plain && len == 0) return jtype_map(L, jtype, pos); /* `uses: !Echo` */
    if (jtype)
        fail_at(L, pos, DF_E_INVALID_INPUT,
                "the tag '%s' sets a jtype and belongs on a mapping (write '%s' then the keys "
                "below it, or 'jtype: %s')",
                tag, tag, jtype);
    else
        fail_at(L, pos, DF_E_UNSUPPORTED, "unsupported tag '%s' on a scalar", tag);
    return NULL;
}

static df_value *load_scalar(loader *L, df_yaml_pos pos)
{
    const yaml_event_t *e = &L->ev;
    const char *text = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    long an = e->data.scalar.anchor ? anchor_begin(L, e->data.scalar.anchor) : -1;
    df_value *v =
        construct_scalar(L, text, len, e->data.scalar.style, (const char *)e->data.scalar.tag, pos);
    if (v && an >= 0) anchor_end(L, an, v, df_arena_strndup(L->a, text, len));
    return v;
}

static df_value *load_sequence(loader *L, df_yaml_pos pos)
{
    const char *tag = (const char *)L->ev.data.sequence_start.tag;
    if (tag && strcmp(tag, "!") != 0 && !is_std_tag(tag, "seq")) {
        fail_at(L, pos, local_tag_name(tag) ? DF_E_INVALID_INPUT : DF_E_UNSUPPORTED,
                local_tag_name(tag) ? "the tag '%s' sets a jtype and belongs on a mapping, not "
                                      "a list"
                                    : "unsupported tag '%s' on a list",
                tag);
        return NULL;
    }
    long an =
        L->ev.data.sequence_start.anchor ? anchor_begin(L, L->ev.data.sequence_start.anchor) : -1;
    df_value *list = df_value_new_list(L->a);
    if (node_made(L, list, pos)) return NULL;
    for (;;) {
        if (next_event(L)) return NULL;
        if (L->ev.type == YAML_SEQUENCE_END_EVENT) break;
        df_value *item = load_node(L);
        if (!item) return NULL;
        df_value_append_owned(list, item);
    }
    anchor_end(L, an, list, NULL);
    return list;
}

/* ---- mappings ------------------------------------------------------------------ */

typedef struct map_entry {
    const char *key;
    df_yaml_pos key_pos;
    df_value *value;
} map_entry;

/* What a mapping collects before it becomes a df_value: its explicit keys
 * (with a hash index for duplicate checks) and its `<<` merge sources. */
typedef struct map_builder {
    map_entry *entries;
    size_t n, cap;
    size_t *index; /* open addressing: entry number + 1; 0 = empty */
    size_t index_slots;
    df_value **merges;
    size_t n_merges, cap_merges;
} map_builder;

static void *grow(void *p, size_t *cap, size_t elem)
{
    size_t n = *cap ? *cap * 2 : 8;
    void *q = realloc(p, n * elem);
    if (!q) {
        fprintf(stderr, "docflow: out of memory (%zu bytes)\n", n * elem);
        abort();
    }
    *cap = n;
    return q;
}

static size_t string_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot of `key` in the index: holding it, or empty where it would go. */
static size_t *builder_slot(map_builder *b, const char *key)
{
    size_t mask = b->index_slots - 1;
    for (size_t i = string_hash(key) & mask;; i = (i + 1) & mask)
        if (!b->index[i] || strcmp(b->entries[b->index[i] - 1].key, key) == 0) return &b->index[i];
}

static const map_entry *builder_find(map_builder *b, const char *key)
{
    if (!b->index_slots) return NULL;
    size_t *slot = builder_slot(b, key);
    return *slot ? &b->entries[*slot - 1] : NULL;
}

static void builder_reindex(map_builder *b)
{
    size_t slots = 16;
    while (slots < (b->n + 1) * 2)
        slots *= 2;
    if (slots <= b->index_slots) return;
    free(b->index);
    b->index = calloc(slots, sizeof *b->index);
    if (!b->index) {
        fprintf(stderr, "docflow: out of memory (%zu bytes)\n", slots * sizeof *b->index);
        abort();
    }
    b->index_slots = slots;
    for (size_t i = 0; i < b->n; i++)
        *builder_slot(b, b->entries[i].key) = i + 1;
}

static void builder_add(map_builder *b, const char *key, df_yaml_pos key_pos, df_value *value)
{
    if (b->n == b->cap) b->entries = grow(b->entries, &b->cap, sizeof *b->entries);
    b->entries[b->n++] = (map_entry){key, key_pos, value};
    if ((b->n + 1) * 2 > b->index_slots)
        builder_reindex(b);
    else
        *builder_slot(b, key) = b->n;
}

static void builder_free(map_builder *b)
{
    free(b->entries);
    free(b->index);
    free(b->merges);
}

typedef struct key_info {
    const char *text;
    df_yaml_pos pos;
    int is_merge; /* a plain `<<` */
} key_info;

/* The current event as a mapping key: a scalar (or an alias of one). */
static int load_key(loader *L, key_info *k)
{
    yaml_event_t *e = &L->ev;
    k->pos = mark_pos(e->start_mark);
    k->is_merge = 0;
    if (e->type == YAML_ALIAS_EVENT) {
        const anchor *an = alias_target(L, k->pos);
        if (!an) return L->err ? L->err->code : DF_E_INVALID_INPUT;
        if (!an->key_text)
            return fail_at(L, k->pos, DF_E_INVALID_INPUT,
                           "mapping keys must be strings, but alias '*%s' names %s", an->name,
                           type_phrase(an->node));
        k->text = an->key_text;
        return DF_OK;
    }
    if (e->type != YAML_SCALAR_EVENT)
        return fail_at(L, k->pos, DF_E_INVALID_INPUT, "mapping keys must be strings, got %s",
                       e->type == YAML_MAPPING_START_EVENT ? "a mapping" : "a list");
    const char *text = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    k->text = df_arena_strndup(L->a, text, len);
    k->is_merge = !e->data.scalar.tag && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                  strcmp(k->text, "<<") == 0;
    if (e->data.scalar.anchor) {
        long an = anchor_begin(L, e->data.scalar.anchor);
        df_value *v = df_value_new_string(L->a, text, len);
        if (node_made(L, v, k->pos)) return L->err ? L->err->code : DF_E_INVALID_INPUT;
        anchor_end(L, an, v, k->text);
    }
    return DF_OK;
}

/* `<<: *base` or `<<: [*a, *b]` (YAML 1.1 merge keys, as PyYAML reads them). */
static int add_merge(loader *L, map_builder *b, df_value *v, df_yaml_pos pos)
{
    df_value_type t = df_value_type_of(v);
    for (size_t i = 0; t == DF_VALUE_LIST && i < df_value_len(v); i++)
        if (df_value_type_of(df_value_at(v, i)) != DF_VALUE_MAP) t = DF_VALUE_NULL;
    if (t != DF_VALUE_MAP && t != DF_VALUE_LIST)
        return fail_at(L, pos, DF_E_INVALID_INPUT,
                       "the merge key '<<' needs a mapping or a list of mappings, got %s",
                       type_phrase(v));
    size_t n = t == DF_VALUE_MAP ? 1 : df_value_len(v);
    for (size_t i = 0; i < n; i++) {
        if (b->n_merges == b->cap_merges)
            b->merges = grow(b->merges, &b->cap_merges, sizeof *b->merges);
        b->merges[b->n_merges++] = t == DF_VALUE_MAP ? v : df_value_at_mut(v, i);
    }
    return DF_OK;
}

/* Reads key/value pairs up to the mapping's end into b. */
static int collect_pairs(loader *L, map_builder *b)
{
    for (;;) {
        if (next_event(L)) return DF_E_INVALID_INPUT;
        if (L->ev.type == YAML_MAPPING_END_EVENT) return DF_OK;
        key_info k = {NULL, {0, 0}, 0};
        if (load_key(L, &k) || next_event(L)) return DF_E_INVALID_INPUT;
        df_yaml_pos value_pos = mark_pos(L->ev.start_mark);
        df_value *v = load_node(L);
        if (!v) return DF_E_INVALID_INPUT;
        const map_entry *first = builder_find(b, k.text);
        if (first)
            return fail_at(L, k.pos, DF_E_INVALID_INPUT,
                           "duplicate key '%s' (first defined at %d:%d); keep one of them", k.text,
                           first->key_pos.line, first->key_pos.col);
        if (k.is_merge && add_merge(L, b, v, value_pos)) return DF_E_INVALID_INPUT;
        builder_add(b, k.text, k.pos, k.is_merge ? NULL : v);
    }
}

static void map_push(loader *L, df_value *m, const char *key, df_yaml_pos key_pos, df_value *v)
{
    m->u.c.keys[m->u.c.n] = key;
    m->u.c.items[m->u.c.n++] = v;
    pos_put(L->y, key, key_pos);
}

/* The df_value of a collected mapping: `jtype` from the tag first, explicit
 * keys in order, then merged keys not given explicitly (earlier sources win,
 * as in PyYAML). Built directly: df_value_set_owned would search the keys
 * once per insert. */
static df_value *build_map(loader *L, map_builder *b, const char *jtype, df_yaml_pos pos)
{
    const map_entry *explicit_jtype = jtype ? builder_find(b, "jtype") : NULL;
    if (explicit_jtype) {
        const char *given = df_value_string(explicit_jtype->value, NULL);
        if (!given || strcmp(given, jtype) != 0) {
            fail_at(L, explicit_jtype->key_pos, DF_E_INVALID_INPUT,
                    "the tag '!%s' (at %d:%d) and this 'jtype' disagree; keep one of them", jtype,
                    pos.line, pos.col);
            return NULL;
        }
        jtype = NULL;
    }
    size_t cap = b->n + (jtype != NULL);
    for (size_t i = 0; i < b->n_merges; i++)
        cap += df_value_len(b->merges[i]);
    df_value *m = df_value_new_map(L->a);
    if (node_made(L, m, pos)) return NULL;
    if (cap) {
        m->u.c.keys = df_arena_alloc(L->a, cap * sizeof *m->u.c.keys);
        m->u.c.items = df_arena_alloc(L->a, cap * sizeof *m->u.c.items);
    }
    m->u.c.cap = cap;
    if (jtype) {
        df_value *s = df_value_new_string(L->a, jtype, SIZE_MAX);
        if (node_made(L, s, pos)) return NULL;
        map_push(L, m, df_arena_strdup(L->a, "jtype"), pos, s);
        builder_add(b, "jtype", pos, NULL);
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->entries[i].value)
            map_push(L, m, b->entries[i].key, b->entries[i].key_pos, b->entries[i].value);
    for (size_t i = 0; i < b->n_merges; i++) {
        const df_value *src = b->merges[i];
        for (size_t j = 0; j < df_value_len(src); j++) {
            const char *key = df_value_key_at(src, j);
            if (builder_find(b, key)) continue;
            df_yaml_pos kpos = pos_get(L->y, key);
            map_push(L, m, key, kpos.line ? kpos : pos, df_value_at_mut((df_value *)src, j));
            builder_add(b, key, kpos, NULL);
        }
    }
    return m;
}

static df_value *load_mapping(loader *L, df_yaml_pos pos)
{
    const char *tag = df_arena_strdup(L->a, (const char *)L->ev.data.mapping_start.tag);
    const char *jtype = local_tag_name(tag);
    if (tag && !jtype && strcmp(tag, "!") != 0 && !is_std_tag(tag, "map")) {
        fail_at(L, pos, DF_E_UNSUPPORTED, "unsupported tag '%s' on a mapping", tag);
        return NULL;
    }
    long an =
        L->ev.data.mapping_start.anchor ? anchor_begin(L, L->ev.data.mapping_start.anchor) : -1;
    map_builder b = {0};
    df_value *m = NULL;
    if (collect_pairs(L, &b) == DF_OK) m = build_map(L, &b, jtype, pos);
    builder_free(&b);
    if (m) anchor_end(L, an, m, NULL);
    return m;
}

/* The node whose first event is current; on return the current event is its
 * last one. */
static df_value *load_node(loader *L)
{
    df_yaml_pos pos = mark_pos(L->ev.start_mark);
    df_value *v = NULL;
    if (L->ev.type == YAML_ALIAS_EVENT) return load_alias(L, pos);
    if (L->ev.type == YAML_SCALAR_EVENT) return load_scalar(L, pos);
    if (++L->depth > YAML_MAX_DEPTH) {
        fail_at(L, pos, DF_E_INVALID_INPUT, "nesting deeper than %d levels", YAML_MAX_DEPTH);
        return NULL;
    }
    if (L->ev.type == YAML_SEQUENCE_START_EVENT)
        v = load_sequence(L, pos);
    else if (L->ev.type == YAML_MAPPING_START_EVENT)
        v = load_mapping(L, pos);
    else
        fail_at(L, pos, DF_E_INTERNAL, "unexpected YAML event %d", (int)L->ev.type);
    L->depth--;
    return v;
}

/* The first document of the stream; an empty stream is null. Its end event
 * is read too, so junk after the root node is reported. */
static int load_document(loader *L)
{
    if (next_event(L) || next_event(L)) return DF_E_INVALID_INPUT; /* stream, document start */
    if (L->ev.type == YAML_STREAM_END_EVENT) {
        L->y->root = df_value_new_null(L->a);
        return node_made(L, L->y->root, mark_pos(L->ev.start_mark));
    }
    if (next_event(L)) return DF_E_INVALID_INPUT;
    L->y->root = load_node(L);
    if (!L->y->root || next_event(L)) return DF_E_INVALID_INPUT;
    return DF_OK;
}

/* ---- public API ------------------------------------------------------------------ */

df_yaml *df_yaml_parse(df_arena *a, const char *text, size_t len, const char *name,
                       const df_value *context, df_error *err)
{
    df_error local = DF_ERROR_INIT;
    df_yaml *y = df_arena_calloc(a, sizeof *y);
    y->arena = a;
    y->name = df_arena_strdup(a, name ? name : "<string>");
    pos_table_init(y, 64);
    loader L = {.y = y, .a = a, .context = context, .err = err ? err : &local};
    if (!yaml_parser_initialize(&L.parser)) {
        df_error_set(err, DF_E_RESOURCE, "%s: cannot initialise the YAML parser", y->name);
        return NULL;
    }
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)(text ? text : ""),
                                 text ? len : 0);
    int rc = load_document(&L);
    yaml_event_delete(&L.ev);
    yaml_parser_delete(&L.parser);
    free(L.anchors);
    return rc ? NULL : y;
}

df_yaml *df_yaml_load_file(df_arena *a, const char *path, const df_value *context, df_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        df_error_set(err, e == ENOENT ? DF_E_NOT_FOUND : DF_E_IO, "cannot open '%s': %s", path,
                     strerror(e));
        return NULL;
    }
    text_buf t = {0};
    char chunk[65536];
    size_t n;
    text_append(&t, "", 0);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        text_append(&t, chunk, n);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    df_yaml *y = NULL;
    if (read_errno)
        df_error_set(err, DF_E_IO, "cannot read '%s': %s", path, strerror(read_errno));
    else
        y = df_yaml_parse(a, t.p, t.n, path, context, err);
    free(t.p);
    return y;
}

df_value *df_yaml_root(const df_yaml *y)
{
    return y ? y->root : NULL;
}

const char *df_yaml_name(const df_yaml *y)
{
    return y ? y->name : NULL;
}

df_yaml_pos df_yaml_pos_of(const df_yaml *y, const df_value *v)
{
    return pos_get(y, v);
}

static const char *where_at(const df_yaml *y, df_yaml_pos p)
{
    if (!p.line) return y->name;
    return df_arena_printf(y->arena, "%s:%d:%d", y->name, p.line, p.col);
}

const char *df_yaml_where(const df_yaml *y, const df_value *v)
{
    return y ? where_at(y, pos_get(y, v)) : "(unknown)";
}

/* The key string as the map stores it: positions are recorded per pointer. */
static const char *stored_key(const df_value *map, const char *key)
{
    for (size_t i = 0; key && i < df_value_len(map); i++) {
        const char *k = df_value_key_at(map, i);
        if (k && strcmp(k, key) == 0) return k;
    }
    return NULL;
}

df_yaml_pos df_yaml_key_pos(const df_yaml *y, const df_value *map, const char *key)
{
    return pos_get(y, stored_key(map, key));
}

const char *df_yaml_key_where(const df_yaml *y, const df_value *map, const char *key)
{
    return y ? where_at(y, df_yaml_key_pos(y, map, key)) : "(unknown)";
}
