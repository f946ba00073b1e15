/*
 * test_executor_config.c -- executor YAML loading and checking: the
 * sections and their types, warnings for unknown keys, positions in every
 * message, substitution, inline maps, and the flow's overrides.
 */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/executor_config.h"

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

#define ASSERT_CONTAINS(haystack, needle)                                                          \
    do {                                                                                           \
        const char *h_ = (haystack);                                                               \
        if (!strstr(h_, (needle))) fprintf(stderr, "\n  '%s' lacks '%s'\n", h_, (needle));         \
        CU_ASSERT_PTR_NOT_NULL(strstr(h_, (needle)));                                              \
    } while (0)

static const char *fixture(const char *name)
{
    return df_arena_printf(arena, "%s/yaml/%s", DF_TEST_DATA_DIR, name);
}

static df_executor_config *load(const char *name, const df_value *context)
{
    df_error_clear(&err);
    return df_executor_config_load(arena, fixture(name), context, &err);
}

/* A configuration from YAML text, as if read from "exec.yml". */
static df_executor_config *from_text(const char *text)
{
    df_error_clear(&err);
    df_yaml *y = df_yaml_parse(arena, text, strlen(text), "exec.yml", NULL, &err);
    if (!y) return NULL;
    return df_executor_config_from_value(arena, df_yaml_root(y), y, "/configs", &err);
}

static const char *error_of(const char *text)
{
    CU_ASSERT_PTR_NULL(from_text(text));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    return err.msg;
}

static const char *warning(const df_executor_config *c, size_t i)
{
    return df_value_string(df_value_at(c->warnings, i), NULL);
}

static const char *str(const df_value *map, const char *key)
{
    const char *s = df_value_string(df_value_get(map, key), NULL);
    return s ? s : "(not a string)";
}

/* ---- loading ----------------------------------------------------------------- */

static void test_full_config_loads_every_section(void)
{
    df_executor_config *c = load("executor_full.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->jtype, "Echo");
    CU_ASSERT_STRING_EQUAL(c->source, fixture("executor_full.yml"));
    CU_ASSERT_STRING_EQUAL(str(c->with, "prefix"), ">> ");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->with, "repeat")), 2);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(c->with, "upper")), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_bool(df_value_get(c->with, "upper")), 1);
    CU_ASSERT_STRING_EQUAL(str(c->metas, "name"), "echo1");
    CU_ASSERT_STRING_EQUAL(str(c->metas, "library"), "../build/echo.so");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->metas, "batch_size")), 16);
    CU_ASSERT_STRING_EQUAL(str(c->requests, "/index"), "echo");
    CU_ASSERT_STRING_EQUAL(str(c->requests, "/search"), "echo");
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 0);
    CU_ASSERT_PTR_NOT_NULL(c->yaml);
}

static void test_dir_is_the_absolute_folder_of_the_file(void)
{
    df_executor_config *c = load("executor_full.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *want = realpath(DF_TEST_DATA_DIR "/yaml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_STRING_EQUAL(c->dir, want);
    CU_ASSERT_EQUAL(c->dir[0], '/');
    free(want);
}

static void test_tag_form_gives_the_jtype(void)
{
    df_executor_config *c = load("executor_tag.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->jtype, "TextCase");
    CU_ASSERT_STRING_EQUAL(str(c->with, "mode"), "upper");
}

static void test_with_list_reports_file_line_col(void)
{
    CU_ASSERT_PTR_NULL(load("bad_with_list.yml", NULL));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    const char *want = df_arena_printf(arena, "%s:3:7: 'with' must be a mapping, got a list",
                                       fixture("bad_with_list.yml"));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
}

static void test_missing_file_is_not_found(void)
{
    CU_ASSERT_PTR_NULL(load("no_such_file.yml", NULL));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    ASSERT_CONTAINS(err.msg, "no_such_file.yml': No such file or directory");
}

static void test_empty_file_says_what_is_needed(void)
{
    CU_ASSERT_PTR_NULL(load("empty.yml", NULL));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    ASSERT_CONTAINS(err.msg, "empty.yml: the file is empty; an executor config needs at least "
                             "'jtype: <ExecutorType>'");
}

static void test_env_and_context_are_substituted(void)
{
    setenv("DF_TEST_EXEC_PORT", "9000", 1);
    setenv("DF_TEST_EXEC_WS", "/tmp/ws", 1);
    df_value *ctx = df_value_new_map(arena);
    df_value_put_string(ctx, "who", "docflow");
    df_value *tags = df_value_new_list(arena);
    df_value_put_string(tags, NULL, "a");
    df_value_set(ctx, "tags", tags);
    df_executor_config *c = load("env_and_context.yml", ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(c->with, "port")), DF_VALUE_NUMBER);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->with, "port")), 9000);
    CU_ASSERT_STRING_EQUAL(str(c->with, "greeting"), "hello docflow");
    CU_ASSERT(df_value_equal(df_value_get(c->with, "tags"), tags));
    CU_ASSERT_STRING_EQUAL(str(c->metas, "workspace"), "/tmp/ws/echo");
}

static void test_unset_env_fails_the_load_with_position(void)
{
    setenv("DF_TEST_EXEC_WS", "/tmp/ws", 1);
    unsetenv("DF_TEST_EXEC_PORT");
    CU_ASSERT_PTR_NULL(load("env_and_context.yml", NULL));
    const char *want = df_arena_printf(arena,
                                       "%s:3:9: environment variable DF_TEST_EXEC_PORT is not set "
                                       "(used in ${{ ENV.DF_TEST_EXEC_PORT }}); export it or "
                                       "remove the reference",
                                       fixture("env_and_context.yml"));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
}

/* ---- checks on the sections ------------------------------------------------------ */

static void test_missing_jtype_says_how_to_fix(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("with: {a: 1}\n"),
                           "exec.yml:1:1: missing 'jtype' (the executor type): add 'jtype: "
                           "<ExecutorType>', e.g. 'jtype: Echo', or tag the mapping with "
                           "'!<ExecutorType>'");
}

static void test_jtype_must_be_a_type_name(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: [Echo]\n"),
                           "exec.yml:1:8: 'jtype' must be a string naming the executor type "
                           "(e.g. jtype: Echo), got a list");
    CU_ASSERT_STRING_EQUAL(error_of("jtype: My Exec\n"),
                           "exec.yml:1:8: 'jtype: My Exec' is not a valid executor type name "
                           "(letters, digits and '_', not starting with a digit)");
}

static void test_root_must_be_a_mapping(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("- jtype: Echo\n"),
                           "exec.yml:1:1: an executor config must be a mapping with 'jtype' (and "
                           "optionally with, metas, requests), got a list");
}

static void test_sections_must_be_mappings(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nmetas: [a]\n"),
                           "exec.yml:2:8: 'metas' must be a mapping, got a list");
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nrequests: /index\n"),
                           "exec.yml:2:11: 'requests' must be a mapping, got a string");
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nwith: 3\n"),
                           "exec.yml:2:7: 'with' must be a mapping, got a number");
}

static void test_empty_sections_are_empty_mappings(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith:\nmetas:\nrequests:\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_value_type_of(c->with), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_type_of(c->metas), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_type_of(c->requests), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_len(c->with), 0);
}

static void test_endpoint_must_start_with_slash(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nrequests:\n  /search: find\n  index: add\n"),
                           "exec.yml:4:3: requests: endpoint 'index' must start with '/' (e.g. "
                           "'/index')");
}

static void test_request_method_must_be_a_name(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nrequests:\n  /index: 3\n"),
                           "exec.yml:3:11: requests['/index'] must be a method name (a string), "
                           "got a number");
    ASSERT_CONTAINS(error_of("jtype: Echo\nrequests:\n  /index: do it\n"),
                    "exec.yml:3:11: requests['/index']: 'do it' is not a method name");
}

static void test_batch_size_must_be_a_positive_whole_number(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nmetas:\n  batch_size: 0\n"),
                           "exec.yml:3:15: metas.batch_size must be a whole number greater than "
                           "0, got 0");
    ASSERT_CONTAINS(error_of("jtype: Echo\nmetas:\n  batch_size: -4\n"), "got -4");
    ASSERT_CONTAINS(error_of("jtype: Echo\nmetas:\n  batch_size: 1.5\n"), "got 1.5");
    ASSERT_CONTAINS(error_of("jtype: Echo\nmetas:\n  batch_size: \"16\"\n"),
                    "exec.yml:3:15: metas.batch_size must be a whole number greater than 0, got a "
                    "string");
    CU_ASSERT_PTR_NOT_NULL(from_text("jtype: Echo\nmetas:\n  batch_size: 16\n"));
}

static void test_metas_strings_must_be_strings(void)
{
    CU_ASSERT_STRING_EQUAL(error_of("jtype: Echo\nmetas:\n  library: [a.so]\n"),
                           "exec.yml:3:12: metas.library must be a string, got a list");
    ASSERT_CONTAINS(error_of("jtype: Echo\nmetas:\n  name: 3\n"),
                    "exec.yml:3:9: metas.name must be a string, got a number");
    ASSERT_CONTAINS(error_of("jtype: Echo\nmetas:\n  keywords: text\n"),
                    "exec.yml:3:13: metas.keywords must be a list of strings, got a string");
    CU_ASSERT_PTR_NOT_NULL(from_text("jtype: Echo\nmetas:\n  workspace:\n  url: http://x\n"));
}

/* ---- warnings ------------------------------------------------------------------ */

static void test_unknown_top_level_key_is_a_warning(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith: {}\n\nfoo: 1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 1);
    CU_ASSERT_STRING_EQUAL(warning(c, 0), "exec.yml:4:1: unknown key 'foo' in executor config "
                                          "(known: jtype, with, metas, requests)");
}

static void test_jina_only_keys_are_ignored_with_a_warning(void)
{
    df_executor_config *c =
        from_text("jtype: Echo\npy_modules: [executor.py]\ndynamic_batching:\n  /x: {}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 2);
    CU_ASSERT_STRING_EQUAL(warning(c, 0),
                           "exec.yml:2:1: 'py_modules' is not supported by docflow (ignored)");
    CU_ASSERT_STRING_EQUAL(
        warning(c, 1), "exec.yml:3:1: 'dynamic_batching' is not supported by docflow (ignored)");
}

static void test_unknown_metas_key_is_a_warning(void)
{
    df_executor_config *c = from_text("jtype: Echo\nmetas:\n  name: e\n  nmae: x\n"
                                      "  py_modules: [a.py]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 2);
    CU_ASSERT_STRING_EQUAL(warning(c, 1),
                           "exec.yml:5:3: 'metas.py_modules' is not supported by docflow "
                           "(ignored): executors are shared libraries, named by metas.library or "
                           "found by jtype");
    CU_ASSERT_STRING_EQUAL(warning(c, 0), "exec.yml:4:3: unknown key 'nmae' in metas (known: "
                                          "name, description, workspace, library, batch_size, "
                                          "url, keywords)");
}

/* ---- inline maps and built-ins ---------------------------------------------------- */

static void test_inline_map_keeps_positions_of_its_document(void)
{
    const char *flow = "executors:\n  - uses: !Echo\n      with: {prefix: x}\n";
    df_yaml *y = df_yaml_parse(arena, flow, strlen(flow), "flow.yml", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    const df_value *uses =
        df_value_get(df_value_at(df_value_get(df_yaml_root(y), "executors"), 0), "uses");
    df_executor_config *c = df_executor_config_from_value(arena, uses, y, "/flows", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->jtype, "Echo");
    CU_ASSERT_STRING_EQUAL(c->dir, "/flows");
    CU_ASSERT_STRING_EQUAL(c->source, "flow.yml");
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, df_value_get(c->with, "prefix")),
                           "flow.yml:3:22");
}

static void test_map_without_yaml_is_inline(void)
{
    df_value *m = df_value_new_map(arena);
    df_value_put_string(m, "jtype", "Echo");
    df_value_put_number(m, "with", 1);
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(df_executor_config_from_value(arena, m, NULL, NULL, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "<inline>: 'with' must be a mapping, got a number");
    df_value_remove(m, "with");
    df_executor_config *c = df_executor_config_from_value(arena, m, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->source, "<inline>");
    CU_ASSERT_STRING_EQUAL(c->dir, ".");
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, df_value_get(m, "jtype")), "<inline>");
}

static void test_for_jtype_has_empty_sections(void)
{
    df_executor_config *c = df_executor_config_for_jtype(arena, "Echo", "/plugins");
    CU_ASSERT_STRING_EQUAL(c->jtype, "Echo");
    CU_ASSERT_STRING_EQUAL(c->dir, "/plugins");
    CU_ASSERT_EQUAL(df_value_type_of(c->with), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_type_of(c->metas), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_type_of(c->requests), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 0);
    CU_ASSERT_PTR_NULL(c->yaml);
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, NULL), "<jtype Echo>");
}

/* ---- overrides ------------------------------------------------------------------- */

static df_value *map_from(const char *text)
{
    df_yaml *y = df_yaml_parse(arena, text, strlen(text), "over.yml", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    return df_yaml_root(y);
}

static void test_override_uses_with_wins(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith:\n  prefix: a\n  keep: 1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const df_value *yaml_with = c->with;
    const df_value *kept = df_value_get(c->with, "keep");
    CU_ASSERT_EQUAL(df_executor_config_override(c, map_from("prefix: b\nnew: 2\n"),
                                                map_from("name: renamed\n"),
                                                map_from("/search: echo\n"), &err),
                    DF_OK);
    CU_ASSERT_STRING_EQUAL(str(c->with, "prefix"), "b");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->with, "new")), 2);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->with, "keep")), 1);
    CU_ASSERT_STRING_EQUAL(str(c->metas, "name"), "renamed");
    CU_ASSERT_STRING_EQUAL(str(c->requests, "/search"), "echo");
    /* The parsed tree is untouched, and untouched values keep positions. */
    CU_ASSERT_STRING_EQUAL(str(yaml_with, "prefix"), "a");
    CU_ASSERT_EQUAL(df_value_len(yaml_with), 2);
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, df_value_get(c->with, "keep")),
                           "exec.yml:4:9");
    CU_ASSERT_PTR_EQUAL(df_value_get(c->with, "keep"), kept);
}

static void test_override_with_nothing_changes_nothing(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith: {a: 1}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const df_value *before = c->with;
    df_value *null_value = df_value_new_null(arena);
    CU_ASSERT_EQUAL(df_executor_config_override(c, NULL, null_value, NULL, &err), DF_OK);
    CU_ASSERT_PTR_EQUAL(c->with, before);
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, c->with), "exec.yml:2:7");
}

static void test_override_errors_name_the_bad_key(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith: {a: 1}\nrequests: {/index: echo}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    df_error_clear(&err);
    CU_ASSERT_EQUAL(df_executor_config_override(c, map_from("[1]"), NULL, NULL, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "uses_with must be a mapping, got a list");
    CU_ASSERT_EQUAL(df_executor_config_override(c, NULL, NULL, map_from("/index: 3\n"), &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(
        err.msg, "uses_requests['/index'] must be a method name (a string), got a number");
    CU_ASSERT_EQUAL(df_executor_config_override(c, NULL, NULL, map_from("index: echo\n"), &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "uses_requests: endpoint 'index' must start with '/' (e.g. '/index')");
    CU_ASSERT_EQUAL(df_executor_config_override(c, NULL, map_from("batch_size: 0\n"), NULL, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "uses_metas.batch_size must be a whole number greater than 0, got 0");
}

static void test_failed_override_leaves_config_unchanged(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith: {a: 1}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(
        df_executor_config_override(c, map_from("a: 2\n"), NULL, map_from("/x: 4\n"), &err),
        DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(c->with, "a")), 1);
    CU_ASSERT_EQUAL(df_value_len(c->requests), 0);
}

static void test_override_unknown_metas_key_warns(void)
{
    df_executor_config *c = from_text("jtype: Echo\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(df_executor_config_override(c, NULL, map_from("colour: red\n"), NULL, &err),
                    DF_OK);
    CU_ASSERT_EQUAL(df_value_len(c->warnings), 1);
    CU_ASSERT_STRING_EQUAL(warning(c, 0), "unknown key 'colour' in uses_metas (known: name, "
                                          "description, workspace, library, batch_size, url, "
                                          "keywords)");
}

static void test_override_on_built_in_config(void)
{
    df_executor_config *c = df_executor_config_for_jtype(arena, "Echo", NULL);
    CU_ASSERT_EQUAL(df_executor_config_override(c, map_from("prefix: z\n"), NULL, NULL, &err),
                    DF_OK);
    CU_ASSERT_STRING_EQUAL(str(c->with, "prefix"), "z");
}

static void test_where_falls_back_to_the_source(void)
{
    df_executor_config *c = from_text("jtype: Echo\nwith: {a: 1}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, df_value_get(c->with, "a")),
                           "exec.yml:2:11");
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, NULL), "exec.yml");
    CU_ASSERT_STRING_EQUAL(df_executor_config_where(c, df_value_new_null(arena)), "exec.yml");
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("executor_config", suite_init, suite_cleanup);
    CU_add_test(s, "full config loads every section", test_full_config_loads_every_section);
    CU_add_test(s, "dir is the absolute folder of the file",
                test_dir_is_the_absolute_folder_of_the_file);
    CU_add_test(s, "tag form gives the jtype", test_tag_form_gives_the_jtype);
    CU_add_test(s, "with list reports file:line:col", test_with_list_reports_file_line_col);
    CU_add_test(s, "missing file is not found", test_missing_file_is_not_found);
    CU_add_test(s, "empty file says what is needed", test_empty_file_says_what_is_needed);
    CU_add_test(s, "env and context are substituted", test_env_and_context_are_substituted);
    CU_add_test(s, "unset env fails the load with position",
                test_unset_env_fails_the_load_with_position);
    CU_add_test(s, "missing jtype says how to fix", test_missing_jtype_says_how_to_fix);
    CU_add_test(s, "jtype must be a type name", test_jtype_must_be_a_type_name);
    CU_add_test(s, "root must be a mapping", test_root_must_be_a_mapping);
    CU_add_test(s, "sections must be mappings", test_sections_must_be_mappings);
    CU_add_test(s, "empty sections are empty mappings", test_empty_sections_are_empty_mappings);
    CU_add_test(s, "endpoint must start with slash", test_endpoint_must_start_with_slash);
    CU_add_test(s, "request method must be a name", test_request_method_must_be_a_name);
    CU_add_test(s, "batch_size must be a positive whole number",
                test_batch_size_must_be_a_positive_whole_number);
    CU_add_test(s, "metas strings must be strings", test_metas_strings_must_be_strings);
    CU_add_test(s, "unknown top-level key is a warning", test_unknown_top_level_key_is_a_warning);
    CU_add_test(s, "Jina-only keys are ignored with a warning",
                test_jina_only_keys_are_ignored_with_a_warning);
    CU_add_test(s, "unknown metas key is a warning", test_unknown_metas_key_is_a_warning);
    CU_add_test(s, "inline map keeps positions of its document",
                test_inline_map_keeps_positions_of_its_document);
    CU_add_test(s, "map without yaml is inline", test_map_without_yaml_is_inline);
    CU_add_test(s, "for_jtype has empty sections", test_for_jtype_has_empty_sections);
    CU_add_test(s, "override: uses_with wins", test_override_uses_with_wins);
    CU_add_test(s, "override with nothing changes nothing",
                test_override_with_nothing_changes_nothing);
    CU_add_test(s, "override errors name the bad key", test_override_errors_name_the_bad_key);
    CU_add_test(s, "failed override leaves config unchanged",
                test_failed_override_leaves_config_unchanged);
    CU_add_test(s, "override: unknown metas key warns", test_override_unknown_metas_key_warns);
    CU_add_test(s, "override on a built-in config", test_override_on_built_in_config);
    CU_add_test(s, "where falls back to the source", test_where_falls_back_to_the_source);
}
