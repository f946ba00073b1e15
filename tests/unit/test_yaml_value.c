/*
 * test_yaml_value.c -- YAML to df_value: PyYAML's scalar typing, `!Tag`,
 * anchors and merge keys, the limits, positions, errors, and ${{ }}
 * substitution from the environment and a context map.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docflow/yaml_value.h"

static df_arena *arena;
static df_error err;

static int suite_init(void)
{
    arena = df_arena_new(0);
    return arena ? 0 : 1;
}

static int suite_cleanup(void)
{
    df_arena_free(arena);
    return 0;
}

static df_yaml *parse_ctx(const char *text, const df_value *context)
{
    df_error_clear(&err);
    return df_yaml_parse(arena, text, strlen(text), "t.yml", context, &err);
}

static df_yaml *parse(const char *text)
{
    return parse_ctx(text, NULL);
}

/* The root of a document that must parse. */
static const df_value *root_of(const char *text)
{
    df_yaml *y = parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    return df_yaml_root(y);
}

/* The error message of a document that must fail. */
static const char *error_of(const char *text)
{
    df_yaml *y = parse(text);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_NOT_EQUAL(err.code, DF_OK);
    return err.msg;
}

#define ASSERT_CONTAINS(haystack, needle)                                                          \
    do {                                                                                           \
        const char *h_ = (haystack);                                                               \
        if (!strstr(h_, (needle))) fprintf(stderr, "\n  '%s' lacks '%s'\n", h_, (needle));         \
        CU_ASSERT_PTR_NOT_NULL(strstr(h_, (needle)));                                              \
    } while (0)

static void assert_number(const df_value *m, const char *key, double want)
{
    const df_value *v = df_value_get(m, key);
    if (df_value_type_of(v) != DF_VALUE_NUMBER || df_value_number(v) != want)
        fprintf(stderr, "\n  %s: want number %g, got %s\n", key, want,
                df_value_type_name(df_value_type_of(v)));
    CU_ASSERT_EQUAL(df_value_type_of(v), DF_VALUE_NUMBER);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(v), want, 1e-12);
}

static void assert_string(const df_value *m, const char *key, const char *want)
{
    const char *s = df_value_string(df_value_get(m, key), NULL);
    if (!s || strcmp(s, want) != 0)
        fprintf(stderr, "\n  %s: want string '%s', got %s\n", key, want, s ? s : "(not a string)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, want);
}

static void assert_bool(const df_value *m, const char *key, int want)
{
    const df_value *v = df_value_get(m, key);
    CU_ASSERT_EQUAL(df_value_type_of(v), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_bool(v), want);
}

static void assert_null(const df_value *m, const char *key)
{
    const df_value *v = df_value_get(m, key);
    CU_ASSERT_PTR_NOT_NULL(v);
    CU_ASSERT_EQUAL(df_value_type_of(v), DF_VALUE_NULL);
}

/* ---- scalar typing ---------------------------------------------------------- */

static void test_null_spellings_are_null(void)
{
    const df_value *m = root_of("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nul\ng: nULL\n");
    assert_null(m, "a");
    assert_null(m, "b");
    assert_null(m, "c");
    assert_null(m, "d");
    assert_null(m, "e");
    assert_string(m, "f", "nul");
    assert_string(m, "g", "nULL");
}

static void test_bool_spellings_follow_pyyaml(void)
{
    const df_value *m = root_of("a: yes\nb: No\nc: ON\nd: off\ne: True\nf: FALSE\n"
                                "g: yEs\nh: y\ni: n\n");
    assert_bool(m, "a", 1);
    assert_bool(m, "b", 0);
    assert_bool(m, "c", 1);
    assert_bool(m, "d", 0);
    assert_bool(m, "e", 1);
    assert_bool(m, "f", 0);
    assert_string(m, "g", "yEs");
    assert_string(m, "h", "y");
    assert_string(m, "i", "n");
}

static void test_integer_forms_are_numbers(void)
{
    const df_value *m = root_of("a: 42\nb: -7\nc: +3\nd: 0x1F\ne: 0o17\nf: 017\ng: 0b101\n"
                                "h: 1_000\ni: 1:30\nj: 0\nk: -0x10\nl: 09\nm: 0x\nn: 1:70\n"
                                "o: 12345678901\n");
    assert_number(m, "a", 42);
    assert_number(m, "b", -7);
    assert_number(m, "c", 3);
    assert_number(m, "d", 31);
    assert_number(m, "e", 15);
    assert_number(m, "f", 15); /* YAML 1.1 octal, as PyYAML */
    assert_number(m, "g", 5);
    assert_number(m, "h", 1000);
    assert_number(m, "i", 90); /* base 60, as PyYAML */
    assert_number(m, "j", 0);
    assert_number(m, "k", -16);
    assert_string(m, "l", "09");
    assert_string(m, "m", "0x");
    assert_string(m, "n", "1:70");
    assert_number(m, "o", 12345678901.0);
}

static void test_float_forms_are_numbers(void)
{
    const df_value *m = root_of("a: 1.5\nb: .5\nc: -.5\nd: 1e3\ne: 1.5e-3\nf: 1_000.5\n"
                                "g: .inf\nh: -.Inf\ni: .NaN\nj: 1:30.5\nk: 3.10\nl: 1.2.3\n"
                                "m: 1e\nn: .\no: 2001-12-14\n");
    assert_number(m, "a", 1.5);
    assert_number(m, "b", 0.5);
    assert_number(m, "c", -0.5);
    assert_number(m, "d", 1000);
    assert_number(m, "e", 0.0015);
    assert_number(m, "f", 1000.5);
    CU_ASSERT(isinf(df_value_number(df_value_get(m, "g"))) &&
              df_value_number(df_value_get(m, "g")) > 0);
    CU_ASSERT(isinf(df_value_number(df_value_get(m, "h"))) &&
              df_value_number(df_value_get(m, "h")) < 0);
    CU_ASSERT(isnan(df_value_number(df_value_get(m, "i"))));
    assert_number(m, "j", 90.5);
    assert_number(m, "k", 3.1);
    assert_string(m, "l", "1.2.3");
    assert_string(m, "m", "1e");
    assert_string(m, "n", ".");
    assert_string(m, "o", "2001-12-14"); /* dates stay strings */
}

static void test_quoted_and_block_scalars_are_strings(void)
{
    const df_value *m = root_of("a: \"42\"\nb: '1.5'\nc: \"yes\"\nd: 'null'\ne: |\n  7\n"
                                "f: \"\"\n");
    assert_string(m, "a", "42");
    assert_string(m, "b", "1.5");
    assert_string(m, "c", "yes");
    assert_string(m, "d", "null");
    assert_string(m, "e", "7\n");
    assert_string(m, "f", "");
}

static void test_explicit_tags_force_the_type(void)
{
    const df_value *m = root_of("a: !!str 42\nb: !!int \"42\"\nc: !!float 3\nd: !!bool \"yes\"\n"
                                "e: !!null ''\nf: ! 12\n");
    assert_string(m, "a", "42");
    assert_number(m, "b", 42);
    assert_number(m, "c", 3);
    assert_bool(m, "d", 1);
    assert_null(m, "e");
    assert_string(m, "f", "12"); /* the non-specific tag: a string */
    CU_ASSERT_STRING_EQUAL(error_of("a: !!int abc\n"), "t.yml:1:4: 'abc' is not a valid !!int");
    ASSERT_CONTAINS(error_of("a: !!int 1.5\n"), "not a valid !!int");
    ASSERT_CONTAINS(error_of("a: !!binary aGk=\n"), "t.yml:1:4: unsupported tag");
}

/* ---- tags, anchors, merge keys ---------------------------------------------- */

static void test_tag_on_mapping_inserts_jtype_first(void)
{
    const df_value *m = root_of("!Echo\nwith: {a: 1}\n");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 0), "jtype");
    assert_string(m, "jtype", "Echo");
    CU_ASSERT_EQUAL(df_value_len(m), 2);
    /* An explicit jtype that agrees is kept once. */
    m = root_of("!Echo\njtype: Echo\n");
    CU_ASSERT_EQUAL(df_value_len(m), 1);
    assert_string(m, "jtype", "Echo");
    /* Flow style and nested mappings work the same. */
    m = root_of("uses: !Echo {with: {a: 1}}\n");
    assert_string(df_value_get(m, "uses"), "jtype", "Echo");
}

static void test_tag_on_empty_scalar_is_a_jtype_mapping(void)
{
    const df_value *m = root_of("uses: !Echo\n");
    const df_value *uses = df_value_get(m, "uses");
    CU_ASSERT_EQUAL(df_value_type_of(uses), DF_VALUE_MAP);
    assert_string(uses, "jtype", "Echo");
}

static void test_tag_disagreeing_with_jtype_is_an_error(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("!Echo\njtype: Other\n"),
                           "t.yml:2:1: the tag '!Echo' (at 1:1) and this 'jtype' disagree; keep "
                           "one of them");
}

static void test_jtype_tag_elsewhere_is_an_error(void)
{
    ASSERT_CONTAINS(error_of("a: !Echo [1]\n"), "t.yml:1:4: the tag '!Echo' sets a jtype");
    ASSERT_CONTAINS(error_of("a: !Echo text\n"), "belongs on a mapping");
    ASSERT_CONTAINS(error_of("a: !!python/object:foo {}\n"), "unsupported tag");
}

static void test_aliases_are_independent_copies(void)
{
    df_yaml *y = parse("base: &b {x: 1, list: [a, b]}\nother: *b\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const df_value *m = df_yaml_root(y);
    const df_value *base = df_value_get(m, "base"), *other = df_value_get(m, "other");
    CU_ASSERT(df_value_equal(base, other));
    CU_ASSERT_PTR_NOT_EQUAL(base, other);
    CU_ASSERT_PTR_NOT_EQUAL(df_value_get(base, "list"), df_value_get(other, "list"));
    df_value_put_number(df_value_get_mut((df_value *)other, "list"), NULL, 3);
    CU_ASSERT_EQUAL(df_value_len(df_value_get(base, "list")), 2);
    /* The copy is where the alias is written; inside, where the anchor's
     * nodes are. */
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, other), "t.yml:2:8");
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, df_value_get(other, "x")), "t.yml:1:14");
}

static void test_alias_of_scalar_can_be_a_key(void)
{
    const df_value *m = root_of("k: &name port\n*name : 80\n");
    assert_number(m, "port", 80);
}

static void test_merge_keys_fill_missing_keys(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/yaml/anchors.yml", DF_TEST_DATA_DIR);
    df_yaml *y = df_yaml_load_file(arena, path, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const df_value *primary = df_value_get(df_yaml_root(y), "primary");
    assert_number(primary, "timeout", 30);
    assert_number(primary, "retries", 5); /* explicit keys win */
    CU_ASSERT_EQUAL(df_value_len(primary), 2);
    assert_number(df_value_get(df_yaml_root(y), "copy"), "retries", 3);
    /* Earlier merge sources win over later ones. */
    const df_value *m = root_of("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
    assert_number(df_value_get(m, "c"), "x", 1);
    assert_number(df_value_get(m, "c"), "y", 2);
    ASSERT_CONTAINS(
        error_of("a:\n  <<: 3\n"),
        "t.yml:2:7: the merge key '<<' needs a mapping or a list of mappings, got a number");
}

static void test_alias_bomb_is_stopped_by_the_node_cap(void)
{
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    clock_t start = clock();
    df_arena *local = df_arena_new(0);
    df_error_clear(&err);
    df_yaml *y = df_yaml_parse(local, bomb, strlen(bomb), "t.yml", NULL, &err);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    ASSERT_CONTAINS(err.msg, "t.yml:6:36: alias '*e'");
    ASSERT_CONTAINS(err.msg, "would grow the document past 1000000 nodes");
    df_arena_free(local);
    CU_ASSERT((double)(clock() - start) / CLOCKS_PER_SEC < 10.0);
}

static void test_unknown_and_recursive_aliases_are_errors(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("a: *nope\n"),
                           "t.yml:1:4: unknown alias '*nope' (no anchor '&nope' before it)");
    ASSERT_CONTAINS(error_of("a: &x [1, *x]\n"), "t.yml:1:11: alias '*x' is used inside the node");
}

/* ---- structure errors and limits --------------------------------------------- */

static void test_duplicate_keys_name_both_positions(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("a: 1\nb: 2\na: 3\n"),
                           "t.yml:3:1: duplicate key 'a' (first defined at 1:1); keep one of them");
    ASSERT_CONTAINS(error_of("x:\n  k: 1\n  k: 2\n"),
                    "t.yml:3:3: duplicate key 'k' (first defined at 2:3)");
}

static void test_non_scalar_keys_are_errors(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("? [1, 2]\n: x\n"),
                           "t.yml:1:3: mapping keys must be strings, got a list");
    ASSERT_CONTAINS(error_of("{a: 1}: x\n"), "mapping keys must be strings, got a mapping");
    ASSERT_CONTAINS(error_of("k: &m {a: 1}\n*m : x\n"), "alias '*m' names a mapping");
}

static void test_deep_nesting_is_an_error(void)
{
    char text[1000];
    memset(text, '[', 300);
    memset(text + 300, ']', 300);
    text[600] = '\0';
    ASSERT_CONTAINS(error_of(text), "nesting deeper than 256 levels");
}

static void test_empty_document_is_null(void)
{
    CU_ASSERT_EQUAL(df_value_type_of(root_of("")), DF_VALUE_NULL);
    CU_ASSERT_PTR_NOT_NULL(root_of("# only a comment\n"));
    CU_ASSERT_EQUAL(df_value_type_of(root_of("# only a comment\n")), DF_VALUE_NULL);
}

static void test_only_the_first_document_is_read(void)
{
    const df_value *m = root_of("a: 1\n---\nb: 2\n");
    CU_ASSERT_EQUAL(df_value_len(m), 1);
    assert_number(m, "a", 1);
}

/* ---- errors from libyaml and the file system -------------------------------- */

static void test_syntax_errors_have_position_and_problem(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("a: [1, 2\nb: 3\n"),
                           "t.yml:2:2: did not find expected ',' or ']' (while parsing a flow "
                           "sequence at 1:4)");
    CU_ASSERT_STRING_EQUAL(error_of("a: b: c\n"),
                           "t.yml:1:5: mapping values are not allowed in this context");
    ASSERT_CONTAINS(error_of("- a\nb: c\n"), "t.yml:2:1: ");
}

static void test_invalid_utf8_names_the_byte(void)
{
    ASSERT_CONTAINS(error_of("a: \xff\xfe\n"), "t.yml: invalid input at byte 3");
}

static void test_missing_file_names_path_and_reason(void)
{
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(df_yaml_load_file(arena, "/nonexistent/x.yml", NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(err.msg, "cannot open '/nonexistent/x.yml': No such file or directory");
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(df_yaml_load_file(arena, DF_TEST_DATA_DIR, NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_IO);
    ASSERT_CONTAINS(err.msg, "cannot read '" DF_TEST_DATA_DIR "': Is a directory");
}

/* ---- positions --------------------------------------------------------------- */

static void test_positions_of_values_and_keys(void)
{
    df_yaml *y = parse("top:\n  list:\n    - one\n    - {k: v}\n  \"q\": 'x'\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const df_value *m = df_yaml_root(y);
    const df_value *top = df_value_get(m, "top");
    const df_value *list = df_value_get(top, "list");
    df_yaml_pos p = df_yaml_pos_of(y, df_value_at(list, 0));
    CU_ASSERT_EQUAL(p.line, 3);
    CU_ASSERT_EQUAL(p.col, 7);
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, df_value_get(df_value_at(list, 1), "k")), "t.yml:4:11");
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, df_value_get(top, "q")), "t.yml:5:8");
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, m), "t.yml:1:1");
    CU_ASSERT_STRING_EQUAL(df_yaml_key_where(y, top, "q"), "t.yml:5:3");
    CU_ASSERT_STRING_EQUAL(df_yaml_key_where(y, top, "list"), "t.yml:2:3");
    CU_ASSERT_EQUAL(df_yaml_key_pos(y, top, "missing").line, 0);
    CU_ASSERT_STRING_EQUAL(df_yaml_key_where(y, top, "missing"), "t.yml");
    /* A value that is not from this document has no position. */
    df_value *stranger = df_value_new_null(arena);
    CU_ASSERT_EQUAL(df_yaml_pos_of(y, stranger).line, 0);
    CU_ASSERT_STRING_EQUAL(df_yaml_where(y, stranger), "t.yml");
    CU_ASSERT_STRING_EQUAL(df_yaml_name(y), "t.yml");
}

static int every_node_has_a_position(const df_yaml *y, const df_value *v)
{
    if (df_yaml_pos_of(y, v).line <= 0) return 0;
    for (size_t i = 0; i < df_value_len(v); i++) {
        if (df_value_type_of(v) == DF_VALUE_MAP &&
            df_yaml_key_pos(y, v, df_value_key_at(v, i)).line <= 0)
            return 0;
        if (!every_node_has_a_position(y, df_value_at(v, i))) return 0;
    }
    return 1;
}

static void test_every_node_has_a_position(void)
{
    df_arena *ca = df_arena_new(0);
    df_value *ctx = df_value_new_map(ca);
    df_value *inner = df_value_new_map(ca);
    df_value_put_number(inner, "n", 1);
    df_value_set(ctx, "obj", inner);
    df_yaml *y = parse_ctx("!Flow\nbase: &b {x: [1, {y: 2}]}\nuse: *b\nm:\n  <<: *b\n  z: 3\n"
                           "c: ${{ obj }}\nt: !Echo\nlist: [a, [b, c], {d: e}]\n",
                           ctx);
    df_arena_free(ca); /* the document must not point into the context's arena */
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT(every_node_has_a_position(y, df_yaml_root(y)));
    CU_ASSERT_STRING_EQUAL(df_value_key_at(df_value_get(df_yaml_root(y), "c"), 0), "n");
}

static void test_large_maps_parse_quickly(void)
{
    size_t n = 20000;
    char *text = malloc(n * 24);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "key%zu: %zu\n", i, i);
    clock_t start = clock();
    df_arena *local = df_arena_new(0);
    df_yaml *y = df_yaml_parse(local, text, len, "big.yml", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT_EQUAL(df_value_len(df_yaml_root(y)), n);
    CU_ASSERT_STRING_EQUAL(df_yaml_key_where(y, df_yaml_root(y), "key19999"), "big.yml:20000:1");
    df_arena_free(local);
    free(text);
    CU_ASSERT((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
}

/* ---- ${{ }} substitution ------------------------------------------------------ */

static void test_env_whole_scalar_is_retyped(void)
{
    setenv("DF_TEST_PORT", "8080", 1);
    setenv("DF_TEST_FLAG", "yes", 1);
    setenv("DF_TEST_EMPTY", "", 1);
    const df_value *m = root_of("a: ${{ ENV.DF_TEST_PORT }}\nb: ${{env.DF_TEST_PORT}}\n"
                                "c: ${{ ENV.DF_TEST_FLAG }}\nd: ${{ ENV.DF_TEST_EMPTY }}\n"
                                "e: [\"${{ ENV.DF_TEST_PORT }}\"]\nf: '${{ ENV.DF_TEST_PORT }}'\n");
    assert_number(m, "a", 8080);
    assert_number(m, "b", 8080);
    assert_bool(m, "c", 1);
    assert_null(m, "d");
    CU_ASSERT_EQUAL(df_value_number(df_value_at(df_value_get(m, "e"), 0)), 8080);
    assert_number(m, "f", 8080); /* quoted too, as in Jina */
}

static void test_str_tag_keeps_a_substituted_string(void)
{
    setenv("DF_TEST_ZIP", "01234", 1);
    const df_value *m =
        root_of("zip: !!str \"${{ ENV.DF_TEST_ZIP }}\"\nraw: ${{ ENV.DF_TEST_ZIP }}\n");
    assert_string(m, "zip", "01234");
    assert_number(m, "raw", 668); /* YAML 1.1 octal, as Jina would read it */
}

static void test_env_inside_a_string_stays_a_string(void)
{
    setenv("DF_TEST_PORT", "8080", 1);
    setenv("DF_TEST_HOST", "localhost", 1);
    const df_value *m = root_of("url: http://${{ ENV.DF_TEST_HOST }}:${{ ENV.DF_TEST_PORT }}/x\n"
                                "two: ${{ ENV.DF_TEST_PORT }}${{ ENV.DF_TEST_PORT }}\n");
    assert_string(m, "url", "http://localhost:8080/x");
    assert_string(m, "two", "80808080");
}

static void test_unset_env_is_an_error_with_position(void)
{
    unsetenv("DF_TEST_UNSET");
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nport: ${{ ENV.DF_TEST_UNSET }}\n"),
                           "t.yml:2:7: environment variable DF_TEST_UNSET is not set (used in "
                           "${{ ENV.DF_TEST_UNSET }}); export it or remove the reference");
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    ASSERT_CONTAINS(error_of("a: x ${{env.DF_TEST_UNSET}}\n"), "(used in ${{env.DF_TEST_UNSET}})");
}

static void test_substituted_text_is_not_scanned_again(void)
{
    setenv("DF_TEST_SNEAKY", "${{ ENV.DF_TEST_UNSET }}", 1);
    unsetenv("DF_TEST_UNSET");
    const df_value *m = root_of("a: ${{ ENV.DF_TEST_SNEAKY }}\n");
    assert_string(m, "a", "${{ ENV.DF_TEST_UNSET }}");
}

static void test_context_variables_are_substituted(void)
{
    df_value *ctx = df_value_new_map(arena);
    df_value_put_number(ctx, "n", 3);
    df_value_put_number(ctx, "ratio", 0.25);
    df_value_put_string(ctx, "name", "world");
    df_value_put_string(ctx, "count", "7");
    df_value *list = df_value_new_list(arena);
    df_value_put_string(list, NULL, "x");
    df_value_set(ctx, "list", list);
    df_yaml *y = parse_ctx("a: ${{ n }}\nb: ${{ CONTEXT.ratio }}\nc: hello ${{ context.name }}\n"
                           "d: n=${{ n }} r=${{ ratio }}\ne: ${{ list }}\nf: ${{ count }}\n"
                           "g: ${{ missing }}\nh: ${{ root.a.b }}\n",
                           ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const df_value *m = df_yaml_root(y);
    assert_number(m, "a", 3);
    assert_number(m, "b", 0.25);
    assert_string(m, "c", "hello world");
    assert_string(m, "d", "n=3 r=0.25");
    CU_ASSERT(df_value_equal(df_value_get(m, "e"), list));
    CU_ASSERT_PTR_NOT_EQUAL(df_value_get(m, "e"), list);
    assert_number(m, "f", 7);
    assert_string(m, "g", "${{ missing }}");
    assert_string(m, "h", "${{ root.a.b }}");
}

static void test_context_map_inside_a_string_is_an_error(void)
{
    df_value *ctx = df_value_new_map(arena);
    df_value_set(ctx, "obj", df_value_new_map(arena));
    parse_ctx("a: x ${{ obj }}\n", ctx);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yml:1:4: context variable obj is a mapping and cannot be "
                                    "part of a longer string (used in ${{ obj }})");
}

static void test_without_context_variables_stay_literal(void)
{
    const df_value *m = root_of("a: ${{ x }}\nb: ${{ }}\nc: ${{ ENV.A B }}\nd: ${{ ENV.X\n"
                                "e: $HOME\n${{ key }}: 1\n");
    assert_string(m, "a", "${{ x }}");
    assert_string(m, "b", "${{ }}");
    assert_string(m, "c", "${{ ENV.A B }}");
    assert_string(m, "d", "${{ ENV.X");
    assert_string(m, "e", "$HOME");
    assert_number(m, "${{ key }}", 1); /* keys are never substituted */
}

static void test_load_file_uses_the_path_as_name(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/yaml/executor_tag.yml", DF_TEST_DATA_DIR);
    df_error_clear(&err);
    df_yaml *y = df_yaml_load_file(arena, path, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT_STRING_EQUAL(df_yaml_name(y), path);
    assert_string(df_yaml_root(y), "jtype", "TextCase");
    char want[1100];
    snprintf(want, sizeof want, "%s:3:9", path);
    CU_ASSERT_STRING_EQUAL(
        df_yaml_where(y, df_value_get(df_value_get(df_yaml_root(y), "with"), "mode")), want);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("yaml_value", suite_init, suite_cleanup);
    CU_add_test(s, "null spellings are null", test_null_spellings_are_null);
    CU_add_test(s, "bool spellings follow PyYAML", test_bool_spellings_follow_pyyaml);
    CU_add_test(s, "integer forms are numbers", test_integer_forms_are_numbers);
    CU_add_test(s, "float forms are numbers", test_float_forms_are_numbers);
    CU_add_test(s, "quoted and block scalars are strings",
                test_quoted_and_block_scalars_are_strings);
    CU_add_test(s, "explicit tags force the type", test_explicit_tags_force_the_type);
    CU_add_test(s, "tag on mapping inserts jtype first", test_tag_on_mapping_inserts_jtype_first);
    CU_add_test(s, "tag on empty scalar is a jtype mapping",
                test_tag_on_empty_scalar_is_a_jtype_mapping);
    CU_add_test(s, "tag disagreeing with jtype is an error",
                test_tag_disagreeing_with_jtype_is_an_error);
    CU_add_test(s, "jtype tag elsewhere is an error", test_jtype_tag_elsewhere_is_an_error);
    CU_add_test(s, "aliases are independent copies", test_aliases_are_independent_copies);
    CU_add_test(s, "alias of scalar can be a key", test_alias_of_scalar_can_be_a_key);
    CU_add_test(s, "merge keys fill missing keys", test_merge_keys_fill_missing_keys);
    CU_add_test(s, "alias bomb is stopped by the node cap",
                test_alias_bomb_is_stopped_by_the_node_cap);
    CU_add_test(s, "unknown and recursive aliases are errors",
                test_unknown_and_recursive_aliases_are_errors);
    CU_add_test(s, "duplicate keys name both positions", test_duplicate_keys_name_both_positions);
    CU_add_test(s, "non-scalar keys are errors", test_non_scalar_keys_are_errors);
    CU_add_test(s, "deep nesting is an error", test_deep_nesting_is_an_error);
    CU_add_test(s, "empty document is null", test_empty_document_is_null);
    CU_add_test(s, "only the first document is read", test_only_the_first_document_is_read);
    CU_add_test(s, "syntax errors have position and problem",
                test_syntax_errors_have_position_and_problem);
    CU_add_test(s, "invalid UTF-8 names the byte", test_invalid_utf8_names_the_byte);
    CU_add_test(s, "missing file names path and reason", test_missing_file_names_path_and_reason);
    CU_add_test(s, "positions of values and keys", test_positions_of_values_and_keys);
    CU_add_test(s, "every node has a position", test_every_node_has_a_position);
    CU_add_test(s, "large maps parse quickly", test_large_maps_parse_quickly);
    CU_add_test(s, "env whole scalar is retyped", test_env_whole_scalar_is_retyped);
    CU_add_test(s, "!!str keeps a substituted string", test_str_tag_keeps_a_substituted_string);
    CU_add_test(s, "env inside a string stays a string", test_env_inside_a_string_stays_a_string);
    CU_add_test(s, "unset env is an error with position", test_unset_env_is_an_error_with_position);
    CU_add_test(s, "substituted text is not scanned again",
                test_substituted_text_is_not_scanned_again);
    CU_add_test(s, "context variables are substituted", test_context_variables_are_substituted);
    CU_add_test(s, "context map inside a string is an error",
                test_context_map_inside_a_string_is_an_error);
    CU_add_test(s, "without context variables stay literal",
                test_without_context_variables_stay_literal);
    CU_add_test(s, "load_file uses the path as name", test_load_file_uses_the_path_as_name);
}
