/*
 * doc_filter.c -- DocArray's query language ({tags__k: {$eq: 5}}, $and,
 * $or, $not), compiled once into a small tree in the caller's arena and
 * matched against documents. Matching only reads the tree (glibc's regexec
 * locks internally), so one compiled filter serves every thread of a flow.
 *
 * Not for: sorting, projections or vector search; this only answers "does
 * this document satisfy this condition".
 *
 * The language and its semantics (where DocArray's Python leaves room:
 * types, missing fields, $exists) are documented in docflow/doc_filter.h.
 */
#include "docflow/doc_filter.h"

#include <float.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "document_internal.h"

/* Deeper conditions are a mistake or an attack; the limit keeps compile and
 * match recursion small. */
#define MAX_DEPTH 64

#define KNOWN_OPERATORS                                                                            \
    "$eq, $neq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $regex, $size, $exists, $not"
#define KNOWN_FIELDS                                                                               \
    "id, parent_id, text, uri, mime_type, modality, granularity, adjacency, weight, offset, "      \
    "embedding, tensor, blob, location, chunks, matches, tags, tags__<key>[__<key>...], "          \
    "_metadata__<key>[__<key>...], scores__<name>__value, evaluations__<name>__value"

/* ---- fields ------------------------------------------------------------------ */

typedef enum field_kind {
    FIELD_ID,
    FIELD_PARENT_ID,
    FIELD_URI,
    FIELD_MIME_TYPE,
    FIELD_MODALITY,
    FIELD_TEXT,
    FIELD_GRANULARITY,
    FIELD_ADJACENCY,
    FIELD_WEIGHT,
    FIELD_OFFSET,
    /* Presence-only fields: only $exists and $size apply. */
    FIELD_EMBEDDING,
    FIELD_TENSOR,
    FIELD_BLOB,
    FIELD_LOCATION,
    FIELD_CHUNKS,
    FIELD_MATCHES,
    FIELD_SCORE_MAP, /* scores / evaluations as a whole */
    /* Free-form paths into a map (n_keys == 0: the map as a whole). */
    FIELD_TAGS,
    FIELD_METADATA,
    /* One attribute of one named score. */
    FIELD_SCORE,
} field_kind;

typedef enum score_attr { SCORE_VALUE, SCORE_OP_NAME, SCORE_DESCRIPTION, SCORE_REF_ID } score_attr;

typedef struct field_path {
    field_kind kind;
    const char **keys; /* FIELD_TAGS / FIELD_METADATA: the keys below the map */
    size_t n_keys;
    df_score_map map; /* FIELD_SCORE / FIELD_SCORE_MAP */
    const char *score_name;
    score_attr attr;
} field_path;

static const struct {
    const char *name;
    field_kind kind;
} plain_fields[] = {
    {"id", FIELD_ID},
    {"parent_id", FIELD_PARENT_ID},
    {"uri", FIELD_URI},
    {"mime_type", FIELD_MIME_TYPE},
    {"modality", FIELD_MODALITY},
    {"text", FIELD_TEXT},
    {"granularity", FIELD_GRANULARITY},
    {"adjacency", FIELD_ADJACENCY},
    {"weight", FIELD_WEIGHT},
    {"offset", FIELD_OFFSET},
    {"embedding", FIELD_EMBEDDING},
    {"tensor", FIELD_TENSOR},
    {"blob", FIELD_BLOB},
    {"location", FIELD_LOCATION},
    {"chunks", FIELD_CHUNKS},
    {"matches", FIELD_MATCHES},
};

static const char *const score_attrs[] = {"value", "op_name", "description", "ref_id"};

static int field_is_presence_only(const field_path *p)
{
    if (p->kind == FIELD_TAGS || p->kind == FIELD_METADATA) return p->n_keys == 0;
    return p->kind >= FIELD_EMBEDDING && p->kind <= FIELD_SCORE_MAP;
}

/* ---- operators and the compiled tree --------------------------------------------- */

typedef enum op_kind {
    OP_EQ,
    OP_NEQ,
    OP_GT,
    OP_GTE,
    OP_LT,
    OP_LTE,
    OP_IN,
    OP_NIN,
    OP_REGEX,
    OP_SIZE,
    OP_EXISTS,
} op_kind;

static const struct {
    const char *name;
    op_kind op;
} operators[] = {
    {"$eq", OP_EQ},   {"$neq", OP_NEQ},     {"$ne", OP_NEQ},    {"$gt", OP_GT},
    {"$gte", OP_GTE}, {"$lt", OP_LT},       {"$lte", OP_LTE},   {"$in", OP_IN},
    {"$nin", OP_NIN}, {"$regex", OP_REGEX}, {"$size", OP_SIZE}, {"$exists", OP_EXISTS},
};

typedef enum node_kind { NODE_ALL, NODE_ANY, NODE_NOT, NODE_TEST } node_kind;

typedef struct node node;
struct node {
    node_kind kind;
    node **children; /* NODE_ALL / NODE_ANY: n_children; NODE_NOT: one */
    size_t n_children;
    /* NODE_TEST */
    const field_path *field;
    op_kind op;
    const df_value *operand; /* a copy in the filter's arena */
    size_t size;             /* OP_SIZE */
    int exists;              /* OP_EXISTS */
    regex_t *regex;          /* OP_REGEX; freed by df_filter_free */
    node *next_regex;        /* the filter's list of nodes holding a regex */
};

struct df_filter {
    node *root;
    node *regexes;
};

/* ---- reading a field of a document ------------------------------------------------ */

typedef enum value_kind {
    VALUE_MISSING,
    VALUE_NULL,
    VALUE_BOOL,
    VALUE_NUMBER,
    VALUE_STRING,
    VALUE_CONTAINER, /* a list or map from tags */
    VALUE_OPAQUE,    /* a presence-only field: only `exists` and `size` mean anything */
} value_kind;

typedef struct field_value {
    value_kind kind;
    int exists;
    int is_float32; /* compare numbers at float32 precision */
    int b;
    double num;
    const char *s;
    size_t len;
    const df_value *v; /* VALUE_CONTAINER */
    size_t size;       /* VALUE_OPAQUE: element count */
} field_value;

static field_value string_field(const char *s, size_t len)
{
    if (!s || !len) return (field_value){.kind = VALUE_MISSING};
    return (field_value){.kind = VALUE_STRING, .exists = 1, .s = s, .len = len};
}

static field_value number_field(double x, int is_float32)
{
    return (field_value){
        .kind = VALUE_NUMBER, .exists = x != 0, .num = x, .is_float32 = is_float32};
}

static field_value opaque_field(int present, size_t size)
{
    return (field_value){.kind = VALUE_OPAQUE, .exists = present, .size = size};
}

static field_value value_field(const df_value *v)
{
    field_value f = {.kind = VALUE_MISSING};
    if (!v) return f;
    f.exists = 1;
    switch (df_value_type_of(v)) {
    case DF_VALUE_NULL:
        f.kind = VALUE_NULL;
        break;
    case DF_VALUE_BOOL:
        f.kind = VALUE_BOOL;
        f.b = df_value_bool(v);
        break;
    case DF_VALUE_NUMBER:
        f.kind = VALUE_NUMBER;
        f.num = df_value_number(v);
        break;
    case DF_VALUE_STRING:
        f.kind = VALUE_STRING;
        f.s = df_value_string(v, &f.len);
        break;
    default:
        f.kind = VALUE_CONTAINER;
        f.v = v;
        break;
    }
    return f;
}

static size_t ndarray_count(const df_ndarray *n)
{
    size_t count = 1;
    for (uint32_t i = 0; i < n->ndim; i++)
        count *= n->shape[i];
    return count;
}

/* A path step into a list takes a decimal index, as DocArray's dunder_get. */
static const df_value *value_step(const df_value *v, const char *key)
{
    if (df_value_type_of(v) == DF_VALUE_MAP) return df_value_get(v, key);
    if (df_value_type_of(v) != DF_VALUE_LIST || !*key || strspn(key, "0123456789") != strlen(key))
        return NULL;
    char *end;
    unsigned long long i = strtoull(key, &end, 10);
    return i < df_value_len(v) ? df_value_at(v, (size_t)i) : NULL;
}

static field_value map_path_field(const df_value *root, const field_path *p)
{
    if (p->n_keys == 0) return opaque_field(df_value_len(root) > 0, df_value_len(root));
    const df_value *v = root;
    for (size_t i = 0; i < p->n_keys && v; i++)
        v = value_step(v, p->keys[i]);
    return value_field(v);
}

static field_value score_field(const df_doc *d, const field_path *p)
{
    df_score s;
    if (!df_doc_score(d, p->map, p->score_name, &s)) return (field_value){.kind = VALUE_MISSING};
    switch (p->attr) {
    case SCORE_VALUE:
        return (field_value){.kind = VALUE_NUMBER, .exists = 1, .num = s.value, .is_float32 = 1};
    case SCORE_OP_NAME:
        return string_field(s.op_name, strlen(s.op_name));
    case SCORE_DESCRIPTION:
        return string_field(s.description, strlen(s.description));
    case SCORE_REF_ID:
        return string_field(s.ref_id, strlen(s.ref_id));
    }
    return (field_value){.kind = VALUE_MISSING};
}

static field_value read_field(const field_path *p, const df_doc *d)
{
    switch (p->kind) {
    case FIELD_ID:
        return string_field(d->id, d->id ? strlen(d->id) : 0);
    case FIELD_PARENT_ID:
        return string_field(d->parent_id, d->parent_id ? strlen(d->parent_id) : 0);
    case FIELD_URI:
        return string_field(d->uri, d->uri ? strlen(d->uri) : 0);
    case FIELD_MIME_TYPE:
        return string_field(d->mime_type, d->mime_type ? strlen(d->mime_type) : 0);
    case FIELD_MODALITY:
        return string_field(d->modality, d->modality ? strlen(d->modality) : 0);
    case FIELD_TEXT:
        return d->content == DF_CONTENT_TEXT ? string_field(d->text, d->text_len)
                                             : string_field(NULL, 0);
    case FIELD_GRANULARITY:
        return number_field(d->granularity, 0);
    case FIELD_ADJACENCY:
        return number_field(d->adjacency, 0);
    case FIELD_WEIGHT:
        return number_field(d->weight, 1);
    case FIELD_OFFSET:
        return number_field(d->offset, 1);
    case FIELD_EMBEDDING:
        return opaque_field(d->embedding.present,
                            d->embedding.present ? ndarray_count(&d->embedding) : 0);
    case FIELD_TENSOR: {
        int present = d->content == DF_CONTENT_TENSOR && d->tensor.present;
        return opaque_field(present, present ? ndarray_count(&d->tensor) : 0);
    }
    case FIELD_BLOB: {
        size_t n = d->content == DF_CONTENT_BLOB ? d->blob_len : 0;
        return opaque_field(n > 0, n);
    }
    case FIELD_LOCATION:
        return opaque_field(d->n_location > 0, d->n_location);
    case FIELD_CHUNKS:
        return opaque_field(df_docs_len(d->chunks) > 0, df_docs_len(d->chunks));
    case FIELD_MATCHES:
        return opaque_field(df_docs_len(d->matches) > 0, df_docs_len(d->matches));
    case FIELD_SCORE_MAP: {
        size_t n = df_doc_score_count(d, p->map);
        return opaque_field(n > 0, n);
    }
    case FIELD_TAGS:
        return map_path_field(d->tags, p);
    case FIELD_METADATA:
        return map_path_field(d->metadata, p);
    case FIELD_SCORE:
        return score_field(d, p);
    }
    return (field_value){.kind = VALUE_MISSING};
}

/* ---- comparing a field with an operand -------------------------------------------- */

/* The operand as the field would hold it: a float32 field set to 0.1 holds
 * 0.1f, which is not the double 0.1. Out-of-range operands stay as they are
 * (converting them would be undefined, and every float32 compares right
 * against them anyway). */
static double operand_number(const field_value *f, double x)
{
    if (!f->is_float32 || !(fabs(x) <= FLT_MAX)) return x;
    return (float)x;
}

static int value_equals(const field_value *f, const df_value *operand)
{
    switch (df_value_type_of(operand)) {
    case DF_VALUE_NULL:
        return f->kind == VALUE_MISSING || f->kind == VALUE_NULL;
    case DF_VALUE_BOOL:
        return f->kind == VALUE_BOOL && f->b == df_value_bool(operand);
    case DF_VALUE_NUMBER:
        return f->kind == VALUE_NUMBER && f->num == operand_number(f, df_value_number(operand));
    case DF_VALUE_STRING: {
        size_t len;
        const char *s = df_value_string(operand, &len);
        return f->kind == VALUE_STRING && f->len == len && memcmp(f->s, s, len) == 0;
    }
    default:
        return f->kind == VALUE_CONTAINER && df_value_equal(f->v, operand);
    }
}

/* Orders field against operand into *cmp (-1, 0, 1); 0 when they have no
 * order: different types, bool, null, containers, NaN. */
static int value_order(const field_value *f, const df_value *operand, int *cmp)
{
    df_value_type t = df_value_type_of(operand);
    if (t == DF_VALUE_NUMBER && f->kind == VALUE_NUMBER) {
        double x = f->num, y = operand_number(f, df_value_number(operand));
        if (isnan(x) || isnan(y)) return 0;
        *cmp = (x > y) - (x < y);
        return 1;
    }
    if (t == DF_VALUE_STRING && f->kind == VALUE_STRING) {
        size_t len;
        const char *s = df_value_string(operand, &len);
        int c = memcmp(f->s, s, f->len < len ? f->len : len);
        if (c == 0) c = (f->len > len) - (f->len < len);
        *cmp = (c > 0) - (c < 0);
        return 1;
    }
    return 0;
}

static int value_in(const field_value *f, const df_value *list)
{
    for (size_t i = 0; i < df_value_len(list); i++)
        if (value_equals(f, df_value_at(list, i))) return 1;
    return 0;
}

/* Python's len(): code points of a string, items of a list or map. */
static int value_size(const field_value *f, size_t *n)
{
    switch (f->kind) {
    case VALUE_OPAQUE:
        *n = f->size;
        return 1;
    case VALUE_CONTAINER:
        *n = df_value_len(f->v);
        return 1;
    case VALUE_STRING:
        *n = 0;
        for (size_t i = 0; i < f->len; i++)
            *n += ((unsigned char)f->s[i] & 0xC0) != 0x80;
        return 1;
    default:
        return 0;
    }
}

static int regex_search(const regex_t *re, const field_value *f)
{
    if (f->kind != VALUE_STRING) return 0;
    /* REG_STARTEND: the length bounds the search, so strings holding NUL
     * bytes (tags may) are searched whole, and nothing reads past them. */
    regmatch_t range = {.rm_so = 0, .rm_eo = (regoff_t)f->len};
    return regexec(re, f->s, 1, &range, REG_STARTEND) == 0;
}

static int test_holds(const node *n, const field_value *f)
{
    int cmp = 0;
    size_t size;
    switch (n->op) {
    case OP_EQ:
        return value_equals(f, n->operand);
    case OP_NEQ:
        return !value_equals(f, n->operand);
    case OP_GT:
        return value_order(f, n->operand, &cmp) && cmp > 0;
    case OP_GTE:
        return value_order(f, n->operand, &cmp) && cmp >= 0;
    case OP_LT:
        return value_order(f, n->operand, &cmp) && cmp < 0;
    case OP_LTE:
        return value_order(f, n->operand, &cmp) && cmp <= 0;
    case OP_IN:
        return value_in(f, n->operand);
    case OP_NIN:
        return !value_in(f, n->operand);
    case OP_REGEX:
        return regex_search(n->regex, f);
    case OP_SIZE:
        return value_size(f, &size) && size == n->size;
    case OP_EXISTS:
        return f->exists == n->exists;
    }
    return 0;
}

static int node_holds(const node *n, const df_doc *d)
{
    switch (n->kind) {
    case NODE_ALL:
        for (size_t i = 0; i < n->n_children; i++)
            if (!node_holds(n->children[i], d)) return 0;
        return 1;
    case NODE_ANY:
        for (size_t i = 0; i < n->n_children; i++)
            if (node_holds(n->children[i], d)) return 1;
        return 0;
    case NODE_NOT:
        return !node_holds(n->children[0], d);
    case NODE_TEST: {
        field_value f = read_field(n->field, d);
        return test_holds(n, &f);
    }
    }
    return 0;
}

int df_filter_match(const df_filter *f, const df_doc *d)
{
    if (!f) return 1;
    if (!d) return 0;
    return node_holds(f->root, d);
}

/* ---- compiling ---------------------------------------------------------------------- */

typedef struct compiler {
    df_arena *a;
    df_error *err;
    df_filter *filter;
} compiler;

#define FAIL(c, ...) (df_error_set((c)->err, DF_E_INVALID_INPUT, __VA_ARGS__), (node *)NULL)

static node *node_new(compiler *c, node_kind kind, size_t n_children)
{
    node *n = df_arena_calloc(c->a, sizeof *n);
    n->kind = kind;
    n->n_children = n_children;
    if (n_children) n->children = df_arena_calloc(c->a, n_children * sizeof *n->children);
    return n;
}

/* A node of `kind` over children, or the only child itself. */
static node *node_group(compiler *c, node_kind kind, node **children, size_t n)
{
    if (n == 1) return children[0];
    node *g = node_new(c, kind, 0);
    g->children = children;
    g->n_children = n;
    return g;
}

static const char *type_name(const df_value *v)
{
    return df_value_type_name(df_value_type_of(v));
}

/* Splits `s` at every "__" into arena strings, as Python's str.split("__"). */
static const char **split_dunder(compiler *c, const char *s, size_t *n)
{
    size_t count = 1;
    for (const char *p = strstr(s, "__"); p; p = strstr(p + 2, "__"))
        count++;
    const char **keys = df_arena_alloc(c->a, count * sizeof *keys);
    *n = 0;
    for (;;) {
        const char *sep = strstr(s, "__");
        if (!sep) break;
        keys[(*n)++] = df_arena_strndup(c->a, s, (size_t)(sep - s));
        s = sep + 2;
    }
    keys[(*n)++] = df_arena_strdup(c->a, s);
    return keys;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* scores__<name>__<attr>: the name may itself hold "__", so the attribute
 * is what follows the last one. */
static const field_path *parse_score_field(compiler *c, const char *key, const char *rest,
                                           df_score_map map, const char *path)
{
    const char *last = NULL;
    for (const char *p = strstr(rest, "__"); p; p = strstr(p + 1, "__"))
        last = p;
    int attr = -1;
    for (int i = 0; last && last > rest && i < (int)(sizeof score_attrs / sizeof *score_attrs); i++)
        if (strcmp(last + 2, score_attrs[i]) == 0) attr = i;
    if (attr < 0) {
        const char *root = map == DF_EVALUATIONS ? "evaluations" : "scores";
        df_error_set(c->err, DF_E_INVALID_INPUT,
                     "%s: bad field '%s' (expected %s__<name>__value; also __op_name, "
                     "__description, __ref_id)",
                     path, key, root);
        return NULL;
    }
    field_path *p = df_arena_calloc(c->a, sizeof *p);
    p->kind = FIELD_SCORE;
    p->map = map;
    p->score_name = df_arena_strndup(c->a, rest, (size_t)(last - rest));
    p->attr = (score_attr)attr;
    return p;
}

static const field_path *parse_field(compiler *c, const char *key, const char *path)
{
    field_path *p = df_arena_calloc(c->a, sizeof *p);
    for (size_t i = 0; i < sizeof plain_fields / sizeof *plain_fields; i++)
        if (strcmp(key, plain_fields[i].name) == 0) {
            p->kind = plain_fields[i].kind;
            return p;
        }
    if (strcmp(key, "tags") == 0 || strcmp(key, "_metadata") == 0) {
        p->kind = key[0] == 't' ? FIELD_TAGS : FIELD_METADATA;
        return p;
    }
    if (starts_with(key, "tags__") || starts_with(key, "_metadata__")) {
        p->kind = key[0] == 't' ? FIELD_TAGS : FIELD_METADATA;
        p->keys = split_dunder(c, strstr(key, "__") + 2, &p->n_keys);
        return p;
    }
    if (strcmp(key, "scores") == 0 || strcmp(key, "evaluations") == 0) {
        p->kind = FIELD_SCORE_MAP;
        p->map = key[0] == 'e' ? DF_EVALUATIONS : DF_SCORES;
        return p;
    }
    if (starts_with(key, "scores__")) return parse_score_field(c, key, key + 8, DF_SCORES, path);
    if (starts_with(key, "evaluations__"))
        return parse_score_field(c, key, key + 13, DF_EVALUATIONS, path);
    df_error_set(c->err, DF_E_INVALID_INPUT, "%s: unknown field '%s' (known: %s)", path, key,
                 KNOWN_FIELDS);
    return NULL;
}

static int lookup_operator(const char *name, op_kind *op)
{
    for (size_t i = 0; i < sizeof operators / sizeof *operators; i++)
        if (strcmp(name, operators[i].name) == 0) {
            *op = operators[i].op;
            return 1;
        }
    return 0;
}

static node *compile_regex(compiler *c, node *n, const df_value *operand, const char *path)
{
    size_t len;
    const char *pattern = df_value_string(operand, &len);
    if (strlen(pattern) != len) return FAIL(c, "%s: bad regex: the pattern holds a NUL byte", path);
    regex_t *re = df_arena_calloc(c->a, sizeof *re);
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof why);
        regfree(re);
        return FAIL(c, "%s: bad regex '%s': %s", path, pattern, why);
    }
    n->regex = re;
    n->next_regex = c->filter->regexes;
    c->filter->regexes = n;
    return n;
}

/* Checks the operand of one operator and fills the test node. */
static node *compile_test(compiler *c, const field_path *field, const char *name, op_kind op,
                          const df_value *operand, const char *path)
{
    df_value_type t = df_value_type_of(operand);
    if (field_is_presence_only(field) && op != OP_EXISTS && op != OP_SIZE)
        return FAIL(c, "%s: %s does not apply to this field (only $exists and $size do)", path,
                    name);
    node *n = node_new(c, NODE_TEST, 0);
    n->field = field;
    n->op = op;
    n->operand = df_value_copy(c->a, operand);
    switch (op) {
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        if (t != DF_VALUE_NUMBER && t != DF_VALUE_STRING)
            return FAIL(c, "%s: %s expects a number or a string, got a %s", path, name,
                        type_name(operand));
        return n;
    case OP_IN:
    case OP_NIN:
        if (t != DF_VALUE_LIST)
            return FAIL(c, "%s: %s expects a list, got a %s", path, name, type_name(operand));
        return n;
    case OP_REGEX:
        if (t != DF_VALUE_STRING)
            return FAIL(c, "%s: $regex expects a string, got a %s", path, type_name(operand));
        return compile_regex(c, n, operand, path);
    case OP_SIZE: {
        double x = df_value_number(operand);
        if (t != DF_VALUE_NUMBER)
            return FAIL(c, "%s: $size expects a non-negative integer, got a %s", path,
                        type_name(operand));
        if (!(x >= 0 && x <= 9007199254740992.0) || x != floor(x))
            return FAIL(c, "%s: $size expects a non-negative integer, got %g", path, x);
        n->size = (size_t)x;
        return n;
    }
    case OP_EXISTS:
        if (t != DF_VALUE_BOOL)
            return FAIL(c, "%s: $exists expects true or false, got a %s", path, type_name(operand));
        n->exists = df_value_bool(operand);
        return n;
    default:
        return n;
    }
}

/* The operators given for one field: {$gt: 1, $lt: 5} (all must hold), or a
 * bare value meaning $eq. */
static node *compile_operators(compiler *c, const field_path *field, const df_value *ops,
                               const char *path, int depth)
{
    if (depth > MAX_DEPTH) return FAIL(c, "%s: condition nested too deeply", path);
    if (df_value_type_of(ops) != DF_VALUE_MAP)
        return compile_test(c, field, "$eq", OP_EQ, ops, path);
    size_t n = df_value_len(ops);
    if (n == 0)
        return FAIL(c, "%s: empty condition (expected an operator such as {$eq: value})", path);
    node **tests = df_arena_alloc(c->a, n * sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        const char *name = df_value_key_at(ops, i);
        const df_value *operand = df_value_at(ops, i);
        op_kind op;
        if (strcmp(name, "$not") == 0) {
            node *inner = compile_operators(c, field, operand, path, depth + 1);
            if (!inner) return NULL;
            tests[i] = node_new(c, NODE_NOT, 1);
            tests[i]->children[0] = inner;
        } else if (lookup_operator(name, &op)) {
            tests[i] = compile_test(c, field, name, op, operand, path);
        } else {
            return FAIL(c, "%s: unknown operator '%s' (known: %s)", path, name, KNOWN_OPERATORS);
        }
        if (!tests[i]) return NULL;
    }
    return node_group(c, NODE_ALL, tests, n);
}

static node *compile_condition(compiler *c, const df_value *cond, const char *path, int depth);

static node *compile_entry(compiler *c, const char *key, const df_value *value, const char *path,
                           int depth);

/* The operand of $and / $or: a list of conditions, or a map whose entries
 * are taken one by one. */
static node *compile_logical(compiler *c, const char *name, node_kind kind, const df_value *value,
                             const char *path, int depth)
{
    df_value_type t = df_value_type_of(value);
    if (t != DF_VALUE_LIST && t != DF_VALUE_MAP)
        return FAIL(c, "%s: %s expects a list of conditions, got a %s", path, name,
                    type_name(value));
    size_t n = df_value_len(value);
    if (n == 0) return FAIL(c, "%s: %s expects a non-empty list of conditions", path, name);
    node **children = df_arena_alloc(c->a, n * sizeof *children);
    for (size_t i = 0; i < n; i++) {
        const df_value *item = df_value_at(value, i);
        if (t == DF_VALUE_LIST) {
            const char *item_path = df_arena_printf(c->a, "%s[%zu]", path, i);
            children[i] = compile_condition(c, item, item_path, depth + 1);
        } else {
            children[i] = compile_entry(c, df_value_key_at(value, i), item, path, depth + 1);
        }
        if (!children[i]) return NULL;
    }
    return node_group(c, kind, children, n);
}

/* One key of a condition map: a logical operator or a field. */
static node *compile_entry(compiler *c, const char *key, const df_value *value, const char *path,
                           int depth)
{
    const char *key_path = df_arena_printf(c->a, "%s.%s", path, key);
    if (strcmp(key, "$and") == 0) return compile_logical(c, key, NODE_ALL, value, key_path, depth);
    if (strcmp(key, "$or") == 0) return compile_logical(c, key, NODE_ANY, value, key_path, depth);
    if (strcmp(key, "$not") == 0) {
        node *inner = compile_condition(c, value, key_path, depth + 1);
        if (!inner) return NULL;
        node *n = node_new(c, NODE_NOT, 1);
        n->children[0] = inner;
        return n;
    }
    if (key[0] == '$')
        return FAIL(c, "%s: unknown operator '%s' (known here: $and, $or, $not, or a field name)",
                    path, key);
    const field_path *field = parse_field(c, key, key_path);
    if (!field) return NULL;
    return compile_operators(c, field, value, key_path, depth);
}

/* A condition map: every entry must hold; {} holds for every document. */
static node *compile_condition(compiler *c, const df_value *cond, const char *path, int depth)
{
    if (depth > MAX_DEPTH) return FAIL(c, "%s: condition nested too deeply", path);
    if (df_value_type_of(cond) != DF_VALUE_MAP)
        return FAIL(c, "%s: expected a map of conditions, got a %s", path, type_name(cond));
    size_t n = df_value_len(cond);
    node **children = n ? df_arena_alloc(c->a, n * sizeof *children) : NULL;
    for (size_t i = 0; i < n; i++) {
        children[i] = compile_entry(c, df_value_key_at(cond, i), df_value_at(cond, i), path, depth);
        if (!children[i]) return NULL;
    }
    return node_group(c, NODE_ALL, children, n);
}

df_filter *df_filter_compile(df_arena *a, const df_value *condition, const char *where,
                             df_error *err)
{
    df_filter *f = df_arena_calloc(a, sizeof *f);
    compiler c = {a, err, f};
    f->root = compile_condition(&c, condition, "when", 0);
    if (f->root) return f;
    /* The arena keeps the tree; only the regexes live outside it. */
    df_filter_free(f);
    if (where && *where) df_error_prefix(err, "%s", where);
    return NULL;
}

void df_filter_free(df_filter *f)
{
    if (!f) return;
    for (node *n = f->regexes; n; n = n->next_regex)
        regfree(n->regex);
    f->regexes = NULL;
}
