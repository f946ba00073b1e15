/*
 * test_doc_filter.c -- DocArray's query language (a flow's `when:`): every
 * operator on matching, mismatching and missing fields, nested tags paths,
 * scores, $and / $or / $not, several keys, every compile-time error with its
 * path, regexes, and matching from several threads at once.
 *
 * Cases are tables of {document JSON, condition JSON, expected}: a failing
 * row prints its index, document and condition.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "docflow/doc_filter.h"
#include "docflow/json_codec.h"

static df_arena *arena;

static int setup(void)
{
    arena = df_arena_new(0);
    return 0;
}

static int teardown(void)
{
    df_arena_free(arena);
    return 0;
}

/* The document most cases run against. */
static const char *const DOC =
    "{\"id\": \"doc1\", \"text\": \"hello world\", \"uri\": \"file:///a.txt\", "
    "\"mime_type\": \"text/plain\", \"granularity\": 2, \"weight\": 0.1, "
    "\"embedding\": [1, 2, 3], \"location\": [4, 5], "
    "\"tags\": {\"n\": 5, \"s\": \"abc\", \"t\": true, \"z\": null, \"e\": \"\", "
    "\"l\": [1, 2, 3], \"m\": {\"a\": {\"b\": 7}}, \"u\": \"h\\u00e9llo\"}, "
    "\"_metadata\": {\"source\": \"crawler\"}, "
    "\"scores\": {\"cosine\": {\"value\": 0.25, \"op_name\": \"cos\"}, "
    "\"my__score\": {\"value\": 3}}, "
    "\"evaluations\": {\"precision\": {\"value\": 0.5}}, "
    "\"chunks\": [{\"id\": \"c1\"}, {\"id\": \"c2\"}]}";

/* A document with nothing set but its id. */
static const char *const BARE = "{\"id\": \"bare\"}";

typedef struct filter_case {
    const char *doc;
    const char *cond;
    int expected;
} filter_case;

static df_value *json_value(const char *json)
{
    df_error err = DF_ERROR_INIT;
    df_value *v = df_json_decode_value(arena, json, strlen(json), NULL, &err);
    if (!v) fprintf(stderr, "\nbad test JSON %s: %s\n", json, err.msg);
    return v;
}

static df_doc *json_doc(const char *json)
{
    df_error err = DF_ERROR_INIT;
    df_doc *d = df_json_decode_doc(arena, json, strlen(json), NULL, &err);
    if (!d) fprintf(stderr, "\nbad test document %s: %s\n", json, err.msg);
    return d;
}

/* -1 when the condition does not compile. */
static int match(const char *doc, const char *cond)
{
    df_error err = DF_ERROR_INIT;
    df_filter *f = df_filter_compile(arena, json_value(cond), "test", &err);
    if (!f) {
        fprintf(stderr, "\n%s does not compile: %s\n", cond, err.msg);
        return -1;
    }
    int m = df_filter_match(f, json_doc(doc));
    df_filter_free(f);
    return m;
}

static void run_cases(const filter_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = match(cases[i].doc, cases[i].cond);
        if (got != cases[i].expected)
            fprintf(stderr, "\ncase %zu: %s on %s gave %d, expected %d\n", i, cases[i].cond,
                    cases[i].doc == DOC ? "DOC" : cases[i].doc, got, cases[i].expected);
        CU_ASSERT_EQUAL(got, cases[i].expected);
    }
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof cases[0])

/* The message of a compile error ("" when it compiled). */
static const char *compile_error(const char *cond, const char *where)
{
    static df_error err;
    df_error_clear(&err);
    df_filter *f = df_filter_compile(arena, json_value(cond), where, &err);
    if (f) {
        df_filter_free(f);
        return "";
    }
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    return err.msg;
}

#define ASSERT_ERROR(cond, where, expected)                                                        \
    do {                                                                                           \
        const char *msg_ = compile_error(cond, where);                                             \
        if (strcmp(msg_, expected) != 0)                                                           \
            fprintf(stderr, "\n%s\n  gave:     %s\n  expected: %s\n", cond, msg_, expected);       \
        CU_ASSERT_STRING_EQUAL(msg_, expected);                                                    \
    } while (0)

#define ASSERT_ERROR_HAS(cond, part)                                                               \
    do {                                                                                           \
        const char *msg_ = compile_error(cond, NULL);                                              \
        if (!strstr(msg_, part))                                                                   \
            fprintf(stderr, "\n%s\n  gave: %s\n  wanted: %s\n", cond, msg_, part);                 \
        CU_ASSERT_PTR_NOT_NULL(strstr(msg_, part));                                                \
    } while (0)

/* ---- comparison operators -------------------------------------------------------- */

static void test_filter_eq_and_neq_compare_values_of_the_same_type(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"text\": {\"$eq\": \"hello world\"}}", 1},
        {DOC, "{\"text\": {\"$eq\": \"hello\"}}", 0},
        {DOC, "{\"id\": {\"$eq\": \"doc1\"}}", 1},
        {DOC, "{\"uri\": {\"$eq\": \"file:///a.txt\"}}", 1},
        {DOC, "{\"mime_type\": {\"$eq\": \"text/plain\"}}", 1},
        {DOC, "{\"granularity\": {\"$eq\": 2}}", 1},
        {DOC, "{\"adjacency\": {\"$eq\": 0}}", 1},
        {DOC, "{\"tags__n\": {\"$eq\": 5}}", 1},
        {DOC, "{\"tags__n\": {\"$eq\": 5.0}}", 1},
        {DOC, "{\"tags__n\": {\"$eq\": 6}}", 0},
        {DOC, "{\"tags__s\": {\"$eq\": \"abc\"}}", 1},
        {DOC, "{\"tags__t\": {\"$eq\": true}}", 1},
        {DOC, "{\"tags__t\": {\"$eq\": false}}", 0},
        {DOC, "{\"tags__z\": {\"$eq\": null}}", 1},
        {DOC, "{\"tags__l\": {\"$eq\": [1, 2, 3]}}", 1},
        {DOC, "{\"tags__l\": {\"$eq\": [1, 2]}}", 0},
        {DOC, "{\"tags__m\": {\"$eq\": {\"a\": {\"b\": 7}}}}", 1},
        {DOC, "{\"tags__n\": {\"$neq\": 6}}", 1},
        {DOC, "{\"tags__n\": {\"$neq\": 5}}", 0},
        {DOC, "{\"tags__n\": {\"$ne\": 5}}", 0},
        {DOC, "{\"tags__s\": {\"$ne\": \"abd\"}}", 1},
        /* a bare value means $eq */
        {DOC, "{\"tags__n\": 5}", 1},
        {DOC, "{\"tags__s\": \"abd\"}", 0},
    };
    RUN(cases);
}

static void test_filter_eq_of_different_types_is_false(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__n\": {\"$eq\": \"5\"}}", 0},
        {DOC, "{\"tags__s\": {\"$eq\": 5}}", 0},
        {DOC, "{\"tags__t\": {\"$eq\": 1}}", 0},
        {DOC, "{\"tags__z\": {\"$eq\": false}}", 0},
        {DOC, "{\"tags__l\": {\"$eq\": 1}}", 0},
        {DOC, "{\"granularity\": {\"$eq\": \"2\"}}", 0},
        {DOC, "{\"text\": {\"$eq\": null}}", 0},
        {DOC, "{\"tags__n\": {\"$neq\": \"5\"}}", 1},
    };
    RUN(cases);
}

static void test_filter_missing_field_compares_as_null(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__nope\": {\"$eq\": null}}", 1},
        {DOC, "{\"tags__nope\": {\"$eq\": 5}}", 0},
        {DOC, "{\"tags__nope\": {\"$neq\": 5}}", 1},
        {DOC, "{\"tags__nope\": {\"$neq\": null}}", 0},
        {DOC, "{\"tags__n__deeper\": {\"$eq\": null}}", 1},
        {BARE, "{\"text\": {\"$eq\": null}}", 1},
        {BARE, "{\"parent_id\": {\"$eq\": null}}", 1},
        {BARE, "{\"modality\": {\"$eq\": \"\"}}", 0},
        {BARE, "{\"tags__k\": {\"$eq\": null}}", 1},
        {BARE, "{\"scores__cosine__value\": {\"$eq\": null}}", 1},
        /* numbers are always there */
        {BARE, "{\"weight\": {\"$eq\": null}}", 0},
        {BARE, "{\"weight\": {\"$eq\": 0}}", 1},
    };
    RUN(cases);
}

static void test_filter_order_compares_numbers_and_strings(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__n\": {\"$gt\": 4}}", 1},
        {DOC, "{\"tags__n\": {\"$gt\": 5}}", 0},
        {DOC, "{\"tags__n\": {\"$gte\": 5}}", 1},
        {DOC, "{\"tags__n\": {\"$gte\": 5.5}}", 0},
        {DOC, "{\"tags__n\": {\"$lt\": 6}}", 1},
        {DOC, "{\"tags__n\": {\"$lt\": 5}}", 0},
        {DOC, "{\"tags__n\": {\"$lte\": 5}}", 1},
        {DOC, "{\"tags__n\": {\"$lte\": -5}}", 0},
        {DOC, "{\"granularity\": {\"$gt\": 1}}", 1},
        {DOC, "{\"tags__s\": {\"$gt\": \"abb\"}}", 1},
        {DOC, "{\"tags__s\": {\"$gt\": \"abc\"}}", 0},
        {DOC, "{\"tags__s\": {\"$gte\": \"abc\"}}", 1},
        {DOC, "{\"tags__s\": {\"$lt\": \"abcd\"}}", 1}, /* a prefix sorts first */
        {DOC, "{\"tags__s\": {\"$lt\": \"ab\"}}", 0},
        /* bytewise: upper case sorts before lower case, ASCII before UTF-8 */
        {DOC, "{\"tags__s\": {\"$gt\": \"ZZZ\"}}", 1},
        {DOC, "{\"tags__u\": {\"$gt\": \"hz\"}}", 1},
        {DOC, "{\"text\": {\"$lt\": \"hello x\"}}", 1},
    };
    RUN(cases);
}

static void test_filter_order_of_different_types_or_missing_is_false(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__n\": {\"$gt\": \"4\"}}", 0}, {DOC, "{\"tags__n\": {\"$lt\": \"6\"}}", 0},
        {DOC, "{\"tags__s\": {\"$gt\": 1}}", 0},     {DOC, "{\"tags__s\": {\"$lte\": 1}}", 0},
        {DOC, "{\"tags__t\": {\"$gte\": 0}}", 0},    {DOC, "{\"tags__z\": {\"$lte\": 0}}", 0},
        {DOC, "{\"tags__l\": {\"$gt\": 0}}", 0},     {DOC, "{\"tags__nope\": {\"$gt\": 0}}", 0},
        {DOC, "{\"tags__nope\": {\"$lt\": 0}}", 0},  {BARE, "{\"text\": {\"$lt\": \"z\"}}", 0},
    };
    RUN(cases);
}

static void test_filter_float32_fields_compare_at_float32_precision(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"weight\": {\"$eq\": 0.1}}", 1},
        {DOC, "{\"weight\": {\"$gt\": 0.1}}", 0},
        {DOC, "{\"weight\": {\"$gte\": 0.1}}", 1},
        {DOC, "{\"weight\": {\"$lt\": 1e300}}", 1},
        {DOC, "{\"weight\": {\"$gt\": -1e300}}", 1},
        {DOC, "{\"scores__cosine__value\": {\"$eq\": 0.25}}", 1},
        {DOC, "{\"scores__cosine__value\": {\"$gt\": 0.2}}", 1},
        {DOC, "{\"evaluations__precision__value\": {\"$lte\": 0.5}}", 1},
        {DOC, "{\"evaluations__precision__value\": {\"$lt\": 0.5}}", 0},
    };
    RUN(cases);
}

/* ---- membership, regex, size, exists ------------------------------------------------ */

static void test_filter_in_and_nin_take_a_list(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__n\": {\"$in\": [1, 5, 9]}}", 1},
        {DOC, "{\"tags__n\": {\"$in\": [1, 9]}}", 0},
        {DOC, "{\"tags__n\": {\"$in\": [\"5\"]}}", 0},
        {DOC, "{\"tags__n\": {\"$in\": []}}", 0},
        {DOC, "{\"tags__s\": {\"$in\": [\"x\", \"abc\"]}}", 1},
        {DOC, "{\"id\": {\"$in\": [\"doc1\", \"doc2\"]}}", 1},
        {DOC, "{\"tags__nope\": {\"$in\": [null]}}", 1},
        {DOC, "{\"tags__nope\": {\"$in\": [1]}}", 0},
        {DOC, "{\"tags__n\": {\"$nin\": [1, 9]}}", 1},
        {DOC, "{\"tags__n\": {\"$nin\": [5]}}", 0},
        {DOC, "{\"tags__n\": {\"$nin\": []}}", 1},
        {DOC, "{\"tags__nope\": {\"$nin\": [1]}}", 1},
    };
    RUN(cases);
}

static void test_filter_regex_searches_strings_only(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"text\": {\"$regex\": \"^hel+o\"}}", 1},
        {DOC, "{\"text\": {\"$regex\": \"world$\"}}", 1},
        {DOC, "{\"text\": {\"$regex\": \"o w\"}}", 1}, /* a search, not a full match */
        {DOC, "{\"text\": {\"$regex\": \"^world\"}}", 0},
        {DOC, "{\"text\": {\"$regex\": \"(bye|hello) (there|world)\"}}", 1},
        {DOC, "{\"text\": {\"$regex\": \"[[:digit:]]\"}}", 0},
        {DOC, "{\"uri\": {\"$regex\": \"\\\\.txt$\"}}", 1},
        {DOC, "{\"tags__s\": {\"$regex\": \"b\"}}", 1},
        {DOC, "{\"tags__e\": {\"$regex\": \"^$\"}}", 1},
        {DOC, "{\"tags__n\": {\"$regex\": \"5\"}}", 0},
        {DOC, "{\"tags__l\": {\"$regex\": \"1\"}}", 0},
        {DOC, "{\"tags__nope\": {\"$regex\": \".*\"}}", 0},
        {BARE, "{\"text\": {\"$regex\": \".*\"}}", 0},
        /* the whole string is searched, past an embedded NUL */
        {"{\"tags\": {\"k\": \"a\\u0000b\"}}", "{\"tags__k\": {\"$regex\": \"b$\"}}", 1},
    };
    RUN(cases);
}

static void test_filter_size_counts_lists_maps_strings_and_arrays(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__l\": {\"$size\": 3}}", 1},
        {DOC, "{\"tags__l\": {\"$size\": 2}}", 0},
        {DOC, "{\"tags__m\": {\"$size\": 1}}", 1},
        {DOC, "{\"tags\": {\"$size\": 8}}", 1},
        {DOC, "{\"text\": {\"$size\": 11}}", 1},
        {DOC, "{\"tags__u\": {\"$size\": 5}}", 1}, /* code points, as Python's len */
        {DOC, "{\"tags__e\": {\"$size\": 0}}", 1},
        {DOC, "{\"tags__n\": {\"$size\": 1}}", 0},
        {DOC, "{\"tags__nope\": {\"$size\": 0}}", 0},
        {DOC, "{\"chunks\": {\"$size\": 2}}", 1},
        {DOC, "{\"matches\": {\"$size\": 0}}", 1},
        {DOC, "{\"embedding\": {\"$size\": 3}}", 1},
        {DOC, "{\"location\": {\"$size\": 2}}", 1},
        {DOC, "{\"scores\": {\"$size\": 2}}", 1},
        {DOC, "{\"evaluations\": {\"$size\": 1}}", 1},
    };
    RUN(cases);
}

static void test_filter_exists_means_non_empty_or_key_present(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"text\": {\"$exists\": true}}", 1},
        {DOC, "{\"embedding\": {\"$exists\": true}}", 1},
        {DOC, "{\"tensor\": {\"$exists\": false}}", 1},
        {DOC, "{\"blob\": {\"$exists\": false}}", 1},
        {DOC, "{\"chunks\": {\"$exists\": true}}", 1},
        {DOC, "{\"matches\": {\"$exists\": true}}", 0},
        {DOC, "{\"granularity\": {\"$exists\": true}}", 1},
        {DOC, "{\"adjacency\": {\"$exists\": true}}", 0}, /* 0 is empty, as in DocArray */
        {DOC, "{\"parent_id\": {\"$exists\": false}}", 1},
        {DOC, "{\"tags\": {\"$exists\": true}}", 1},
        {DOC, "{\"_metadata__source\": {\"$exists\": true}}", 1},
        {DOC, "{\"tags__n\": {\"$exists\": true}}", 1},
        {DOC, "{\"tags__z\": {\"$exists\": true}}", 1}, /* present, even if null */
        {DOC, "{\"tags__e\": {\"$exists\": true}}", 1},
        {DOC, "{\"tags__nope\": {\"$exists\": true}}", 0},
        {DOC, "{\"tags__nope\": {\"$exists\": false}}", 1},
        {DOC, "{\"scores__cosine__value\": {\"$exists\": true}}", 1},
        {DOC, "{\"scores__euclid__value\": {\"$exists\": false}}", 1},
        {BARE, "{\"tags\": {\"$exists\": false}}", 1},
        {BARE, "{\"text\": {\"$exists\": false}}", 1},
        {BARE, "{\"embedding\": {\"$exists\": false}}", 1},
        {"{\"blob\": \"AAE=\"}", "{\"blob\": {\"$exists\": true}}", 1},
        {"{\"tensor\": [[1, 2], [3, 4]]}", "{\"tensor\": {\"$size\": 4}}", 1},
    };
    RUN(cases);
}

/* ---- paths -------------------------------------------------------------------- */

static void test_filter_nested_tags_paths_walk_maps_and_lists(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"tags__m__a__b\": {\"$eq\": 7}}", 1},
        {DOC, "{\"tags__m__a__b\": {\"$gt\": 7}}", 0},
        {DOC, "{\"tags__m__a\": {\"$eq\": {\"b\": 7}}}", 1},
        {DOC, "{\"tags__m__x__b\": {\"$exists\": false}}", 1},
        {DOC, "{\"tags__l__0\": {\"$eq\": 1}}", 1},
        {DOC, "{\"tags__l__2\": {\"$eq\": 3}}", 1},
        {DOC, "{\"tags__l__3\": {\"$exists\": false}}", 1},
        {DOC, "{\"tags__l__x\": {\"$exists\": false}}", 1},
        {DOC, "{\"tags__s__0\": {\"$exists\": false}}", 1},
        {DOC, "{\"_metadata__source\": {\"$eq\": \"crawler\"}}", 1},
        /* keys holding single underscores are plain keys */
        {"{\"tags\": {\"a_b\": {\"c_d\": 1}}}", "{\"tags__a_b__c_d\": 1}", 1},
        /* a score name may hold "__": the attribute follows the last one */
        {DOC, "{\"scores__my__score__value\": 3}", 1},
        {DOC, "{\"scores__cosine__op_name\": \"cos\"}", 1},
        {DOC, "{\"scores__cosine__ref_id\": {\"$exists\": false}}", 1},
    };
    RUN(cases);
}

/* ---- logic --------------------------------------------------------------------- */

static void test_filter_and_or_not_combine_conditions(void)
{
    static const filter_case cases[] = {
        {DOC, "{\"$and\": [{\"tags__n\": {\"$eq\": 5}}, {\"text\": {\"$regex\": \"^h\"}}]}", 1},
        {DOC, "{\"$and\": [{\"tags__n\": {\"$eq\": 5}}, {\"text\": {\"$regex\": \"^x\"}}]}", 0},
        {DOC, "{\"$or\": [{\"tags__n\": {\"$eq\": 6}}, {\"text\": {\"$regex\": \"^h\"}}]}", 1},
        {DOC, "{\"$or\": [{\"tags__n\": {\"$eq\": 6}}, {\"text\": {\"$regex\": \"^x\"}}]}", 0},
        {DOC, "{\"$not\": {\"tags__n\": {\"$eq\": 5}}}", 0},
        {DOC, "{\"$not\": {\"tags__n\": {\"$eq\": 6}}}", 1},
        {DOC,
         "{\"$or\": [{\"$and\": [{\"tags__n\": 5}, {\"tags__s\": \"x\"}]}, "
         "{\"$not\": {\"granularity\": {\"$lt\": 2}}}]}",
         1},
        /* a map under $and / $or: each entry is one condition */
        {DOC, "{\"$or\": {\"tags__n\": 6, \"tags__s\": \"abc\"}}", 1},
        {DOC, "{\"$or\": {\"tags__n\": 6, \"tags__s\": \"x\"}}", 0},
        {DOC, "{\"$and\": {\"tags__n\": 5, \"tags__s\": \"x\"}}", 0},
        /* $not on one field's operators */
        {DOC, "{\"tags__n\": {\"$not\": {\"$gt\": 4}}}", 0},
        {DOC, "{\"tags__n\": {\"$not\": {\"$gt\": 5}}}", 1},
        {DOC, "{\"tags__nope\": {\"$not\": {\"$gt\": 5}}}", 1},
    };
    RUN(cases);
}

static void test_filter_several_keys_must_all_hold(void)
{
    static const filter_case cases[] = {
        {DOC,
         "{\"tags__n\": {\"$eq\": 5}, \"text\": {\"$regex\": \"^h\"}, \"weight\": {\"$gt\": 0}}",
         1},
        {DOC, "{\"tags__n\": {\"$eq\": 5}, \"text\": {\"$regex\": \"^x\"}}", 0},
        {DOC, "{\"tags__n\": {\"$gt\": 1, \"$lt\": 9}}", 1},
        {DOC, "{\"tags__n\": {\"$gt\": 1, \"$lt\": 5}}", 0},
        {DOC, "{\"tags__n\": {\"$gt\": 1}, \"$or\": [{\"id\": \"x\"}, {\"id\": \"doc1\"}]}", 1},
        {DOC, "{}", 1},
        {BARE, "{}", 1},
    };
    RUN(cases);
}

static void test_filter_null_filter_matches_and_null_doc_does_not(void)
{
    df_error err = DF_ERROR_INIT;
    df_filter *f = df_filter_compile(arena, json_value("{}"), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_filter_match(f, NULL), 0);
    CU_ASSERT_EQUAL(df_filter_match(NULL, json_doc(BARE)), 1);
    df_filter_free(f);
    df_filter_free(NULL);
}

static void test_filter_survives_the_condition_arena(void)
{
    df_arena *yaml_arena = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    const char *json = "{\"tags__s\": {\"$in\": [\"abc\"]}, \"text\": {\"$regex\": \"^h\"}}";
    df_value *cond = df_json_decode_value(yaml_arena, json, strlen(json), NULL, &err);
    df_filter *f = df_filter_compile(arena, cond, NULL, &err);
    df_arena_free(yaml_arena);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_filter_match(f, json_doc(DOC)), 1);
    df_filter_free(f);
}

/* ---- compile errors ---------------------------------------------------------------- */

static void test_filter_unknown_operator_lists_the_known_ones(void)
{
    ASSERT_ERROR("{\"tags__k\": {\"$equals\": 5}}", "flow.yml:12:7",
                 "flow.yml:12:7: when.tags__k: unknown operator '$equals' (known: $eq, $neq, $ne, "
                 "$gt, $gte, $lt, $lte, $in, $nin, $regex, $size, $exists, $not)");
    ASSERT_ERROR("{\"$nor\": []}", "flow.yml:3:5",
                 "flow.yml:3:5: when: unknown operator '$nor' (known here: $and, $or, $not, or a "
                 "field name)");
}

static void test_filter_unknown_field_lists_the_known_ones(void)
{
    ASSERT_ERROR_HAS("{\"textt\": {\"$eq\": \"x\"}}",
                     "when.textt: unknown field 'textt' (known: id, parent_id, text, uri, "
                     "mime_type, modality, granularity, adjacency, weight, offset, ");
    ASSERT_ERROR_HAS("{\"textt\": {\"$eq\": \"x\"}}", "tags__<key>");
    ASSERT_ERROR_HAS("{\"tag__k\": 1}", "when.tag__k: unknown field 'tag__k'");
    ASSERT_ERROR_HAS("{\"text__x\": 1}", "unknown field 'text__x'");
    ASSERT_ERROR("{\"scores__cosine\": {\"$gt\": 1}}", NULL,
                 "when.scores__cosine: bad field 'scores__cosine' (expected "
                 "scores__<name>__value; also __op_name, __description, __ref_id)");
    ASSERT_ERROR_HAS("{\"evaluations__p__values\": 1}",
                     "bad field 'evaluations__p__values' (expected evaluations__<name>__value");
    ASSERT_ERROR_HAS("{\"scores____value\": 1}", "bad field 'scores____value'");
    /* free-form paths are accepted as they are */
    CU_ASSERT_STRING_EQUAL(compile_error("{\"tags__anything__at__all\": 1}", NULL), "");
    CU_ASSERT_STRING_EQUAL(compile_error("{\"tags__\": 1}", NULL), "");
}

static void test_filter_operand_errors_name_the_operator_and_type(void)
{
    ASSERT_ERROR("{\"tags__k\": {\"$in\": 5}}", NULL,
                 "when.tags__k: $in expects a list, got a number");
    ASSERT_ERROR("{\"tags__k\": {\"$nin\": \"abc\"}}", NULL,
                 "when.tags__k: $nin expects a list, got a string");
    ASSERT_ERROR("{\"tags__k\": {\"$exists\": 1}}", NULL,
                 "when.tags__k: $exists expects true or false, got a number");
    ASSERT_ERROR("{\"tags__k\": {\"$size\": -1}}", NULL,
                 "when.tags__k: $size expects a non-negative integer, got -1");
    ASSERT_ERROR("{\"tags__k\": {\"$size\": 1.5}}", NULL,
                 "when.tags__k: $size expects a non-negative integer, got 1.5");
    ASSERT_ERROR("{\"tags__k\": {\"$size\": \"3\"}}", NULL,
                 "when.tags__k: $size expects a non-negative integer, got a string");
    ASSERT_ERROR("{\"tags__k\": {\"$gt\": true}}", NULL,
                 "when.tags__k: $gt expects a number or a string, got a bool");
    ASSERT_ERROR("{\"tags__k\": {\"$lte\": null}}", NULL,
                 "when.tags__k: $lte expects a number or a string, got a null");
    ASSERT_ERROR("{\"tags__k\": {\"$regex\": 5}}", NULL,
                 "when.tags__k: $regex expects a string, got a number");
    ASSERT_ERROR("{\"embedding\": {\"$eq\": [1, 2]}}", NULL,
                 "when.embedding: $eq does not apply to this field (only $exists and $size do)");
    ASSERT_ERROR("{\"tags\": {\"$regex\": \"x\"}}", NULL,
                 "when.tags: $regex does not apply to this field (only $exists and $size do)");
    ASSERT_ERROR("{\"tags__k\": {}}", NULL,
                 "when.tags__k: empty condition (expected an operator such as {$eq: value})");
}

static void test_filter_bad_regex_carries_regerror_text(void)
{
    const char *msg = compile_error("{\"text\": {\"$regex\": \"(unclosed\"}}", "f.yml:2:3");
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "f.yml:2:3: when.text: bad regex '(unclosed': "));
    /* glibc's regerror text for REG_EPAREN */
    regex_t re;
    int rc = regcomp(&re, "(unclosed", REG_EXTENDED | REG_NOSUB);
    char why[256];
    regerror(rc, &re, why, sizeof why);
    regfree(&re);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, why));
    ASSERT_ERROR_HAS("{\"text\": {\"$regex\": \"a{2,1}\"}}", "when.text: bad regex 'a{2,1}': ");
    ASSERT_ERROR("{\"text\": {\"$regex\": \"a\\u0000b\"}}", NULL,
                 "when.text: bad regex: the pattern holds a NUL byte");
    /* a good regex compiled before the bad one is freed too (ASan checks) */
    ASSERT_ERROR_HAS("{\"id\": {\"$regex\": \"^d\"}, \"text\": {\"$regex\": \"[\"}}",
                     "bad regex '['");
}

static void test_filter_logical_operand_errors_carry_the_path(void)
{
    ASSERT_ERROR("{\"$and\": [{\"tags__n\": 5}, {\"tags__k\": {\"$in\": 5}}]}", "flow.yml:4:9",
                 "flow.yml:4:9: when.$and[1].tags__k: $in expects a list, got a number");
    ASSERT_ERROR_HAS("{\"$or\": [{\"$not\": {\"textt\": 1}}]}",
                     "when.$or[0].$not.textt: unknown field 'textt' (known: ");
    ASSERT_ERROR("{\"$and\": 5}", NULL,
                 "when.$and: $and expects a list of conditions, got a number");
    ASSERT_ERROR("{\"$or\": []}", NULL, "when.$or: $or expects a non-empty list of conditions");
    ASSERT_ERROR("{\"$and\": [5]}", NULL,
                 "when.$and[0]: expected a map of conditions, got a number");
    ASSERT_ERROR("{\"$not\": [1]}", NULL, "when.$not: expected a map of conditions, got a list");
    ASSERT_ERROR("[1]", "x", "x: when: expected a map of conditions, got a list");
    CU_ASSERT_STRING_EQUAL(compile_error("\"text\"", ""),
                           "when: expected a map of conditions, got a string");
}

static void test_filter_deep_nesting_is_refused(void)
{
    char json[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(json, "{\"$not\": ");
    strcat(json, "{}");
    for (int i = 0; i < 100; i++)
        strcat(json, "}");
    ASSERT_ERROR_HAS(json, "condition nested too deeply");
    /* a reasonable depth is fine */
    CU_ASSERT_EQUAL(match(DOC, "{\"$not\": {\"$not\": {\"$not\": {\"tags__n\": 5}}}}"), 0);
}

/* ---- threads ------------------------------------------------------------------------- */

typedef struct thread_job {
    const df_filter *f;
    df_doc *yes, *no;
    int wrong;
} thread_job;

static void *match_many(void *arg)
{
    thread_job *job = arg;
    for (int i = 0; i < 20000; i++)
        job->wrong +=
            df_filter_match(job->f, job->yes) != 1 || df_filter_match(job->f, job->no) != 0;
    return NULL;
}

static void test_filter_matches_from_several_threads_at_once(void)
{
    df_error err = DF_ERROR_INIT;
    df_filter *f = df_filter_compile(
        arena,
        json_value(
            "{\"text\": {\"$regex\": \"^(hello|hi) w[a-z]+d$\"}, \"tags__n\": {\"$in\": [5]}}"),
        NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    df_doc *yes = json_doc(DOC);
    df_doc *no = json_doc("{\"text\": \"hello there\", \"tags\": {\"n\": 5}}");
    thread_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){f, yes, no, 0};
        CU_ASSERT_EQUAL(pthread_create(&threads[i], NULL, match_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CU_ASSERT_EQUAL(jobs[i].wrong, 0);
    }
    df_filter_free(f);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("doc_filter", setup, teardown);
    CU_add_test(s, "eq and neq compare values of the same type",
                test_filter_eq_and_neq_compare_values_of_the_same_type);
    CU_add_test(s, "eq of different types is false", test_filter_eq_of_different_types_is_false);
    CU_add_test(s, "missing field compares as null", test_filter_missing_field_compares_as_null);
    CU_add_test(s, "order compares numbers and strings",
                test_filter_order_compares_numbers_and_strings);
    CU_add_test(s, "order of different types or missing is false",
                test_filter_order_of_different_types_or_missing_is_false);
    CU_add_test(s, "float32 fields compare at float32 precision",
                test_filter_float32_fields_compare_at_float32_precision);
    CU_add_test(s, "in and nin take a list", test_filter_in_and_nin_take_a_list);
    CU_add_test(s, "regex searches strings only", test_filter_regex_searches_strings_only);
    CU_add_test(s, "size counts lists, maps, strings and arrays",
                test_filter_size_counts_lists_maps_strings_and_arrays);
    CU_add_test(s, "exists means non-empty or key present",
                test_filter_exists_means_non_empty_or_key_present);
    CU_add_test(s, "nested tags paths walk maps and lists",
                test_filter_nested_tags_paths_walk_maps_and_lists);
    CU_add_test(s, "and, or, not combine conditions", test_filter_and_or_not_combine_conditions);
    CU_add_test(s, "several keys must all hold", test_filter_several_keys_must_all_hold);
    CU_add_test(s, "NULL filter matches, NULL doc does not",
                test_filter_null_filter_matches_and_null_doc_does_not);
    CU_add_test(s, "filter survives the condition's arena",
                test_filter_survives_the_condition_arena);
    CU_add_test(s, "unknown operator lists the known ones",
                test_filter_unknown_operator_lists_the_known_ones);
    CU_add_test(s, "unknown field lists the known ones",
                test_filter_unknown_field_lists_the_known_ones);
    CU_add_test(s, "operand errors name the operator and type",
                test_filter_operand_errors_name_the_operator_and_type);
    CU_add_test(s, "bad regex carries regerror text", test_filter_bad_regex_carries_regerror_text);
    CU_add_test(s, "logical operand errors carry the path",
                test_filter_logical_operand_errors_carry_the_path);
    CU_add_test(s, "deep nesting is refused", test_filter_deep_nesting_is_refused);
    CU_add_test(s, "matches from several threads at once",
                test_filter_matches_from_several_threads_at_once);
}
