/*
 * test_executor_abi.c -- the loader's side of the executor ABI: version
 * checks, entry-point detection, descriptor validation, old (shorter)
 * layouts, the messages a user sees for each, module reuse, and the host
 * table's DF_HOST_HAS probe.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/executor_runtime.h"

#define TEST_PLUGINS DF_TEST_BINARY_DIR "/tests/plugins"
#define ECHO_SO      DF_TEST_PLUGIN_DIR "/echo.so"

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

static int contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle)) return 1;
    fprintf(stderr, "\n  missing \"%s\" in: %s\n", needle, haystack);
    return 0;
}

static const char *test_plugin(const char *name)
{
    return df_arena_printf(arena, "%s/%s.so", TEST_PLUGINS, name);
}

/* ---- versions and entry points --------------------------------------------------- */

static void test_newer_major_is_refused_naming_both_versions(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("abi_newer_major"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_UNSUPPORTED);
    char plugin_v[32], host_v[32];
    snprintf(plugin_v, sizeof plugin_v, "ABI %d.3", DF_ABI_MAJOR + 1);
    snprintf(host_v, sizeof host_v, "ABI %d.%d", DF_ABI_MAJOR, DF_ABI_MINOR);
    CU_ASSERT(contains(err.msg, plugin_v));
    CU_ASSERT(contains(err.msg, host_v));
    CU_ASSERT(contains(err.msg, "abi_newer_major.so"));
}

static void test_newer_minor_is_refused(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("abi_newer_minor"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_UNSUPPORTED);
    char plugin_v[32], host_v[32];
    snprintf(plugin_v, sizeof plugin_v, "ABI %d.%d", DF_ABI_MAJOR, DF_ABI_MINOR + 1);
    snprintf(host_v, sizeof host_v, "ABI %d.%d", DF_ABI_MAJOR, DF_ABI_MINOR);
    CU_ASSERT(contains(err.msg, plugin_v));
    CU_ASSERT(contains(err.msg, host_v));
}

static void test_v2_only_plugin_is_reported_as_built_for_abi_2(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("abi_v2_only"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_UNSUPPORTED);
    CU_ASSERT(contains(err.msg, "built for docflow ABI 2"));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "not a docflow executor plugin"));
}

static void test_library_without_entry_is_not_a_plugin(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("not_a_plugin"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, "not a docflow executor plugin"));
    CU_ASSERT(contains(err.msg, DF_PLUGIN_ENTRY_NAME));
}

static void test_entry_returning_null_is_refused(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("null_entry"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, "returned NULL"));
}

static void test_file_that_is_not_a_shared_object_is_refused(void)
{
    df_error err = DF_ERROR_INIT;
    const char *path = DF_TEST_DATA_DIR "/executors/init_fail.yml";
    CU_ASSERT_PTR_NULL(df_plugin_load(path, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, "init_fail.yml"));
}

/* ---- finding the file and the jtype --------------------------------------------------- */

static void test_missing_file_is_not_found_with_its_path(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(TEST_PLUGINS "/no_such_plugin.so", &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT(contains(err.msg, TEST_PLUGINS "/no_such_plugin.so"));
}

static void test_missing_library_lists_where_it_looked(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor_config *c = df_executor_config_load(
        arena, DF_TEST_DATA_DIR "/executors/missing_library.yml", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NULL(df_executor_open(c, NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT(contains(err.msg, "no_such_plugin.so"));
    CU_ASSERT(contains(err.msg, "missing_library.yml"));
    CU_ASSERT(contains(err.msg, "executors/no_such_plugin.so")); /* beside the YAML */
    CU_ASSERT(contains(err.msg, TEST_PLUGINS "/no_such_plugin.so"));
    CU_ASSERT(contains(err.msg, DF_TEST_PLUGIN_DIR "/no_such_plugin.so"));
}

static void test_unknown_jtype_without_library_lists_the_folders(void)
{
    df_executor_config *c = df_executor_config_for_jtype(arena, "NoSuchExecutor", NULL);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_executor_open(c, NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT(contains(err.msg, "NoSuchExecutor"));
    CU_ASSERT(contains(err.msg, TEST_PLUGINS));
    CU_ASSERT(contains(err.msg, DF_TEST_PLUGIN_DIR));
}

static void test_jtype_not_in_plugin_lists_the_jtypes_it_has(void)
{
    df_executor_config *c = df_executor_config_for_jtype(arena, "Nope", NULL);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.library = ECHO_SO;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_executor_open(c, &opt, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT(contains(err.msg, "'Nope'"));
    CU_ASSERT(contains(err.msg, "Echo, EchoPairs"));
    CU_ASSERT(contains(err.msg, "echo.so"));
}

static void test_plugin_search_path_starts_with_docflow_plugin_path(void)
{
    const char *path = df_plugin_search_path(arena);
    const char *env = getenv("DOCFLOW_PLUGIN_PATH");
    CU_ASSERT_PTR_NOT_NULL_FATAL(env);
    CU_ASSERT_EQUAL(strncmp(path, env, strlen(env)), 0);
}

/* ---- descriptors ---------------------------------------------------------------------- */

static void test_malformed_descriptor_lists_every_problem_in_one_message(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_plugin_load(test_plugin("bad_descriptor"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, "malformed plugin descriptor"));
    CU_ASSERT(contains(err.msg, "'Bad Name' is not an identifier"));
    CU_ASSERT(contains(err.msg, "Dupes: init and close are required"));
    CU_ASSERT(contains(err.msg, "endpoint '/index' is bound twice"));
    CU_ASSERT(contains(err.msg, "2 default handlers"));
    CU_ASSERT(contains(err.msg, "endpoint 'search' must start with '/'"));
    CU_ASSERT(contains(err.msg, "row 5 has no handler"));
    CU_ASSERT(contains(err.msg, "row 6 has no method name"));
    CU_ASSERT(contains(err.msg, "row 7 has a bad batch policy"));
    CU_ASSERT(contains(err.msg, "row 8 has a bad batch policy"));
    CU_ASSERT(contains(err.msg, "method name 'one' names two handlers"));
    CU_ASSERT(contains(err.msg, "jtype 'Dupes' is declared twice"));
}

static void test_old_layout_rows_load_and_run_as_whole_requests(void)
{
    df_error err = DF_ERROR_INIT;
    const df_plugin *p = df_plugin_load(test_plugin("old_layout"), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(p->executors[0].request_size < sizeof(df_request_def));

    df_executor_config *c = df_executor_config_for_jtype(arena, "OldLayout", NULL);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.library = test_plugin("old_layout");
    df_executor *ex = df_executor_open(c, &opt, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_EQUAL(df_executor_endpoint_count(ex), 1);
    CU_ASSERT_STRING_EQUAL(df_executor_endpoint_at(ex, 0), "/index");
    CU_ASSERT(df_executor_has_default(ex));

    const char *endpoints[] = {"/index", "/other"};
    const char *by[] = {"old_index", "old_default"};
    for (int e = 0; e < 2; e++) {
        df_arena *a = df_arena_new(0);
        df_docs *docs = df_docs_new(a);
        for (int i = 0; i < 3; i++)
            df_docs_append(docs, df_doc_new(a));
        df_call call = {.arena = a, .endpoint = endpoints[e], .docs = docs};
        CU_ASSERT_EQUAL(df_executor_call(ex, &call, &err), DF_OK);
        CU_ASSERT_EQUAL(df_docs_len(call.docs), 3);
        for (size_t i = 0; i < df_docs_len(call.docs); i++) {
            const df_value *tags = df_doc_tags_peek(df_docs_get(call.docs, i));
            CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(tags, "seen")), 3, 0);
            CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(tags, "by"), NULL), by[e]);
        }
        df_arena_free(a);
    }
    df_executor_close(ex);
}

static void test_descriptor_of_a_good_plugin_is_readable(void)
{
    df_error err = DF_ERROR_INIT;
    const df_plugin *p = df_plugin_load(ECHO_SO, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->abi_major, DF_ABI_MAJOR);
    CU_ASSERT(p->abi_minor <= DF_ABI_MINOR);
    CU_ASSERT_STRING_EQUAL(p->name, "echo");
    CU_ASSERT_EQUAL(p->n_executors, 2);
    CU_ASSERT_STRING_EQUAL(p->executors[0].jtype, "Echo");
    CU_ASSERT_STRING_EQUAL(p->executors[1].jtype, "EchoPairs");
}

static void test_same_so_loaded_twice_returns_the_same_descriptor(void)
{
    df_error err = DF_ERROR_INIT;
    const df_plugin *first = df_plugin_load(ECHO_SO, &err);
    const df_plugin *again = df_plugin_load(ECHO_SO, &err);
    const df_plugin *other_spelling = df_plugin_load(DF_TEST_PLUGIN_DIR "/./echo.so", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_PTR_EQUAL(first, again);
    CU_ASSERT_PTR_EQUAL(first, other_spelling);
}

static void test_instances_of_one_plugin_share_the_module(void)
{
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.library = ECHO_SO;
    df_error err = DF_ERROR_INIT;
    df_executor *a =
        df_executor_open(df_executor_config_for_jtype(arena, "Echo", NULL), &opt, &err);
    df_executor *b =
        df_executor_open(df_executor_config_for_jtype(arena, "EchoPairs", NULL), &opt, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(df_executor_library(a), df_executor_library(b));
    CU_ASSERT_PTR_EQUAL(df_plugin_load(df_executor_library(a), &err),
                        df_plugin_load(df_executor_library(b), &err));
    df_executor_close(a);
    df_executor_close(b);
}

/* ---- the host table ------------------------------------------------------------------ */

static void test_host_table_declares_this_abi(void)
{
    const df_host *h = df_host_table();
    CU_ASSERT_EQUAL(h->struct_size, sizeof(df_host));
    CU_ASSERT_EQUAL(h->abi_major, DF_ABI_MAJOR);
    CU_ASSERT_EQUAL(h->abi_minor, DF_ABI_MINOR);
}

static void test_host_table_sets_every_entry(void)
{
    const df_host *h = df_host_table();
    size_t first = offsetof(df_host, alloc);
    size_t missing = 0;
    for (size_t off = first; off + sizeof(void (*)(void)) <= h->struct_size;
         off += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, (const char *)h + off, sizeof fn);
        if (!fn) {
            fprintf(stderr, "\n  df_host entry at offset %zu is NULL\n", off);
            missing++;
        }
    }
    CU_ASSERT_EQUAL(missing, 0);
}

static void test_host_has_is_true_for_real_entries(void)
{
    const df_host *h = df_host_table();
    CU_ASSERT(DF_HOST_HAS(h, alloc));
    CU_ASSERT(DF_HOST_HAS(h, docs_embeddings));
    CU_ASSERT(DF_HOST_HAS(h, req_groundtruths)); /* the last ABI 1.0 entry */
}

static void test_host_has_is_false_past_a_cut_struct_size(void)
{
    df_host older = *df_host_table();
    older.struct_size = (uint32_t)offsetof(df_host, req_matrix_len);
    CU_ASSERT_FALSE(DF_HOST_HAS(&older, req_matrix_len));
    CU_ASSERT_FALSE(DF_HOST_HAS(&older, req_groundtruths));
    CU_ASSERT(DF_HOST_HAS(&older, req_results)); /* the entry just before the cut */
    /* A cut in the middle of an entry does not count as having it. */
    older.struct_size = (uint32_t)(offsetof(df_host, req_results) + 1);
    CU_ASSERT_FALSE(DF_HOST_HAS(&older, req_results));
}

static void test_host_has_is_false_for_a_null_entry(void)
{
    df_host copy = *df_host_table();
    copy.req_groundtruths = NULL;
    CU_ASSERT_FALSE(DF_HOST_HAS(&copy, req_groundtruths));
}

void df_test_register(void)
{
    setenv("DOCFLOW_PLUGIN_PATH", TEST_PLUGINS ":" DF_TEST_PLUGIN_DIR, 1);
    CU_pSuite s = CU_add_suite("executor_abi", setup, teardown);
    CU_add_test(s, "newer major is refused naming both versions",
                test_newer_major_is_refused_naming_both_versions);
    CU_add_test(s, "newer minor is refused", test_newer_minor_is_refused);
    CU_add_test(s, "v2-only plugin is reported as built for ABI 2",
                test_v2_only_plugin_is_reported_as_built_for_abi_2);
    CU_add_test(s, "library without entry is not a plugin",
                test_library_without_entry_is_not_a_plugin);
    CU_add_test(s, "entry returning NULL is refused", test_entry_returning_null_is_refused);
    CU_add_test(s, "file that is not a shared object is refused",
                test_file_that_is_not_a_shared_object_is_refused);
    CU_add_test(s, "missing file is not found, with its path",
                test_missing_file_is_not_found_with_its_path);
    CU_add_test(s, "missing library lists where it looked",
                test_missing_library_lists_where_it_looked);
    CU_add_test(s, "unknown jtype without library lists the folders",
                test_unknown_jtype_without_library_lists_the_folders);
    CU_add_test(s, "jtype not in plugin lists the jtypes it has",
                test_jtype_not_in_plugin_lists_the_jtypes_it_has);
    CU_add_test(s, "plugin search path starts with DOCFLOW_PLUGIN_PATH",
                test_plugin_search_path_starts_with_docflow_plugin_path);
    CU_add_test(s, "malformed descriptor lists every problem in one message",
                test_malformed_descriptor_lists_every_problem_in_one_message);
    CU_add_test(s, "old layout rows load and run as whole requests",
                test_old_layout_rows_load_and_run_as_whole_requests);
    CU_add_test(s, "descriptor of a good plugin is readable",
                test_descriptor_of_a_good_plugin_is_readable);
    CU_add_test(s, "same .so loaded twice returns the same descriptor",
                test_same_so_loaded_twice_returns_the_same_descriptor);
    CU_add_test(s, "instances of one plugin share the module",
                test_instances_of_one_plugin_share_the_module);
    CU_add_test(s, "host table declares this ABI", test_host_table_declares_this_abi);
    CU_add_test(s, "host table sets every entry", test_host_table_sets_every_entry);
    CU_add_test(s, "DF_HOST_HAS is true for real entries", test_host_has_is_true_for_real_entries);
    CU_add_test(s, "DF_HOST_HAS is false past a cut struct_size",
                test_host_has_is_false_past_a_cut_struct_size);
    CU_add_test(s, "DF_HOST_HAS is false for a NULL entry",
                test_host_has_is_false_for_a_null_entry);
}
