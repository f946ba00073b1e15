/*
 * test_executor_runtime.c -- executor instances on real plugins (the
 * test executors in tests/plugins and the YAML fixtures in
 * tests/data/executors): Jina's binding rules, YAML rebinding, batch
 * policies, return semantics, failures, typed parameters and `with:`
 * arguments, init failures, names, workspaces, runtime arguments and the
 * init / close lifecycle.
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/executor_runtime.h"

#define TEST_PLUGINS DF_TEST_BINARY_DIR "/tests/plugins"
#define FIXTURES     DF_TEST_DATA_DIR "/executors"

static df_arena *cfg_arena;
static char tmp_root[] = "/tmp/docflow-test-runtime-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int suite_teardown(void)
{
    df_arena_free(cfg_arena);
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    return df_arena_printf(cfg_arena, "%s/%s", tmp_root, name);
}

/* A configuration for `jtype` from tests/plugins/<plugin>.so. */
static df_executor_config *config(const char *jtype, const char *plugin)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, jtype, NULL);
    df_value_put_string(c->metas, "library", df_arena_printf(cfg_arena, "%s.so", plugin));
    return c;
}

static df_executor *open_config(const df_executor_config *c, df_error *err)
{
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_root;
    return df_executor_open(c, &opt, err);
}

static df_executor *open_fixture(const char *file, df_error *err)
{
    const char *path = df_arena_printf(cfg_arena, "%s/%s", FIXTURES, file);
    df_executor_config *c = df_executor_config_load(cfg_arena, path, NULL, err);
    if (!c) return NULL;
    return open_config(c, err);
}

static df_executor *open_plugin(const char *jtype, const char *plugin)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(config(jtype, plugin), &err);
    if (!ex) fprintf(stderr, "\nopen %s from %s.so failed: %s\n", jtype, plugin, err.msg);
    return ex;
}

/* One call: its memory, the documents "id0".."id<n-1>" (text = id), the
 * call record and its outcome. */
typedef struct run {
    df_arena *arena;
    df_docs *input;
    df_value *params;
    df_call call;
    df_error err;
    int rc;
} run;

static void run_begin(run *r, int n_docs)
{
    memset(r, 0, sizeof *r);
    r->arena = df_arena_new(0);
    r->input = df_docs_new(r->arena);
    for (int i = 0; i < n_docs; i++) {
        df_doc *d = df_doc_new(r->arena);
        char id[16];
        snprintf(id, sizeof id, "id%d", i);
        df_doc_set_str(d, DF_FIELD_ID, id);
        df_doc_set_text(d, id, (size_t)-1);
        df_docs_append(r->input, d);
    }
    r->params = df_value_new_map(r->arena);
}

static int run_call(run *r, df_executor *ex, const char *endpoint)
{
    r->call.arena = r->arena;
    r->call.endpoint = endpoint;
    r->call.docs = r->input;
    r->call.parameters = r->params;
    r->call.results = df_value_new_map(r->arena);
    df_error_clear(&r->err);
    r->rc = df_executor_call(ex, &r->call, &r->err);
    return r->rc;
}

static void run_end(run *r)
{
    df_arena_free(r->arena);
}

static const df_value *result(const run *r, const df_executor *ex, const char *key)
{
    return df_value_get(df_value_get(r->call.results, df_executor_name(ex)), key);
}

static double result_num(const run *r, const df_executor *ex, const char *key)
{
    return df_value_number(result(r, ex, key));
}

static const char *result_str(const run *r, const df_executor *ex, const char *key)
{
    const char *s = df_value_string(result(r, ex, key), NULL);
    return s ? s : "(absent)";
}

static const df_value *tag(const df_docs *docs, size_t i, const char *key)
{
    df_doc *d = df_docs_get(docs, i);
    return d ? df_value_get(df_doc_tags_peek(d), key) : NULL;
}

static const char *tag_str(const df_docs *docs, size_t i, const char *key)
{
    const char *s = df_value_string(tag(docs, i, key), NULL);
    return s ? s : "(absent)";
}

/* The handler the Bindings executors ran for `endpoint`, or "(skipped)". */
static const char *handler_for(df_executor *ex, const char *endpoint)
{
    run r;
    run_begin(&r, 2);
    static char out[32];
    if (run_call(&r, ex, endpoint) != DF_OK)
        snprintf(out, sizeof out, "(failed)");
    else if (r.call.skipped)
        snprintf(out, sizeof out, "(skipped)");
    else
        snprintf(out, sizeof out, "%s", result_str(&r, ex, "handler"));
    /* Every document saw the same handler the results name. */
    if (!r.call.skipped && strcmp(tag_str(r.call.docs, 1, "called"), out) != 0)
        snprintf(out, sizeof out, "(tags disagree)");
    run_end(&r);
    return out;
}

static int has_endpoint(const df_executor *ex, const char *endpoint)
{
    for (size_t i = 0; i < df_executor_endpoint_count(ex); i++)
        if (strcmp(df_executor_endpoint_at(ex, i), endpoint) == 0) return 1;
    return 0;
}

static char *read_text(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return buf;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- Jina's binding rules ----------------------------------------------------- */

static void test_bound_endpoint_calls_its_handler(void)
{
    df_executor *ex = open_plugin("Bindings", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "foo");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/random_work"), "bar");
    df_executor_close(ex);
}

static void test_endpoint_list_binds_every_endpoint_to_one_method(void)
{
    df_executor *ex = open_plugin("Bindings", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/search"), "qux");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/query"), "qux");
    df_executor_close(ex);
}

static void test_unbound_endpoint_calls_the_default_handler(void)
{
    df_executor *ex = open_plugin("Bindings", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/blah"), "baz");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/default"), "baz");
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/blah"), DF_OK);
    CU_ASSERT_EQUAL(r.call.skipped, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "endpoint"), "/blah");
    run_end(&r);
    df_executor_close(ex);
}

static void test_unbound_endpoint_without_default_passes_through(void)
{
    df_executor *ex = open_plugin("NoDefault", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 3);
    df_docs *before = df_docs_copy(r.arena, r.input);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/blah"), DF_OK);
    CU_ASSERT_EQUAL(r.call.skipped, 1);
    CU_ASSERT_PTR_EQUAL(r.call.docs, r.input);
    CU_ASSERT(df_docs_equal(r.call.docs, before));
    CU_ASSERT_EQUAL(df_value_len(r.call.results), 0);
    CU_ASSERT_STRING_EQUAL(r.err.msg, "");
    run_end(&r);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "foo");
    df_executor_close(ex);
}

static void test_bound_call_is_not_marked_skipped(void)
{
    df_executor *ex = open_plugin("NoDefault", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    r.call.skipped = 1; /* a stale value from an earlier call is reset */
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_OK);
    CU_ASSERT_EQUAL(r.call.skipped, 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_endpoints_and_default_are_listed(void)
{
    df_executor *with = open_plugin("Bindings", "bindings");
    df_executor *without = open_plugin("NoDefault", "bindings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(with);
    CU_ASSERT_PTR_NOT_NULL_FATAL(without);
    CU_ASSERT_EQUAL(df_executor_endpoint_count(with), 4);
    CU_ASSERT(has_endpoint(with, "/index") && has_endpoint(with, "/random_work") &&
              has_endpoint(with, "/search") && has_endpoint(with, "/query"));
    CU_ASSERT_PTR_NULL(df_executor_endpoint_at(with, 4));
    CU_ASSERT(df_executor_has_default(with));
    CU_ASSERT_EQUAL(df_executor_endpoint_count(without), 2);
    CU_ASSERT_FALSE(df_executor_has_default(without));
    CU_ASSERT_STRING_EQUAL(df_executor_jtype(without), "NoDefault");
    df_executor_close(with);
    df_executor_close(without);
}

static void test_jtype_is_found_without_metas_library(void)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "Bindings", NULL);
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    const char *lib = df_executor_library(ex);
    CU_ASSERT(strlen(lib) > 12 && strcmp(lib + strlen(lib) - 12, "/bindings.so") == 0);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "foo");
    df_executor_close(ex);
}

/* ---- YAML requests: rebinding ------------------------------------------------------ */

static void test_yaml_requests_win_over_the_compiled_table(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("bindings_rebind.yml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(df_executor_name(ex), "rebound");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/search"), "foo"); /* was qux */
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/query"), "qux");  /* untouched */
    df_executor_close(ex);
}

static void test_rebound_method_loses_its_compiled_endpoint(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("nodefault_rebind.yml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/search"), "foo");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "(skipped)");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/random_work"), "bar");
    CU_ASSERT_FALSE(has_endpoint(ex, "/index"));
    CU_ASSERT(has_endpoint(ex, "/search"));
    df_executor_close(ex);
}

static void test_default_key_rebinds_the_default_handler(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("bindings_rebind.yml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/blah"), "bar");
    /* foo moved to /search, so /index falls to the (new) default. */
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "bar");
    CU_ASSERT(df_executor_has_default(ex));
    CU_ASSERT_FALSE(has_endpoint(ex, "/default"));
    df_executor_close(ex);
}

static void test_requests_bind_one_method_to_several_endpoints(void)
{
    df_executor_config *c = config("NoDefault", "bindings");
    df_value_put_string(c->requests, "/a", "foo");
    df_value_put_string(c->requests, "/b", "foo");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/a"), "foo");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/b"), "foo");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "(skipped)");
    df_executor_close(ex);
}

static void test_default_key_adds_a_default_where_none_was_compiled(void)
{
    df_executor_config *c = config("NoDefault", "bindings");
    df_value_put_string(c->requests, "/default", "bar");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT(df_executor_has_default(ex));
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/blah"), "bar");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "foo");
    df_executor_close(ex);
}

static void test_rebinding_the_default_method_leaves_no_default(void)
{
    /* Jina: the default handler's method, bound to an endpoint by YAML,
     * loses its '/default' binding like any other method. */
    df_executor_config *c = config("Bindings", "bindings");
    df_value_put_string(c->requests, "/x", "baz");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_FALSE(df_executor_has_default(ex));
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/x"), "baz");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/blah"), "(skipped)");
    CU_ASSERT_STRING_EQUAL(handler_for(ex, "/index"), "foo");
    df_executor_close(ex);
}

static void test_unknown_method_in_requests_names_it_and_lists_methods(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("bindings_unknown_method.yml", &err);
    CU_ASSERT_PTR_NULL(ex);
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'nosuch'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "foo, bar, qux, baz"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bindings_unknown_method.yml:6"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/index"));
    df_executor_close(ex);
}

/* ---- batch policies ----------------------------------------------------------- */

/* The batch sizes the batch_probe handler recorded, as "2,2,1". */
static const char *batch_sizes(const run *r, const df_executor *ex)
{
    static char out[64];
    out[0] = '\0';
    const df_value *m = df_value_get(r->call.results, df_executor_name(ex));
    for (size_t i = 0; i < df_value_len(m); i++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", i);
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%g", i ? "," : "",
                 df_value_number(df_value_get(m, key)));
    }
    return out;
}

static void test_single_policy_calls_once_per_document(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/single"), DF_OK);
    CU_ASSERT_STRING_EQUAL(batch_sizes(&r, ex), "1,1,1");
    CU_ASSERT_EQUAL(df_docs_len(r.call.docs), 3);
    run_end(&r);
    df_executor_close(ex);
}

static void test_batch_n_splits_five_documents_into_two_two_one(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/pairs"), DF_OK);
    CU_ASSERT_STRING_EQUAL(batch_sizes(&r, ex), "2,2,1");
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.call.docs), 5);
    static const double want[5] = {2, 2, 2, 2, 1};
    for (size_t i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "id%zu", i);
        CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(r.call.docs, i), DF_FIELD_ID), id);
        CU_ASSERT_DOUBLE_EQUAL(df_value_number(tag(r.call.docs, i, "batch_len")), want[i], 0);
    }
    run_end(&r);
    df_executor_close(ex);
}

static void test_whole_policy_sees_every_document_at_once(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/whole"), DF_OK);
    CU_ASSERT_STRING_EQUAL(batch_sizes(&r, ex), "5");
    run_end(&r);
    df_executor_close(ex);
}

static void test_metas_batch_size_overrides_n(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("returns_batch_size.yml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/pairs"), DF_OK);
    CU_ASSERT_STRING_EQUAL(batch_sizes(&r, ex), "3,2");
    run_end(&r);
    run_begin(&r, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/single"), DF_OK); /* @single stays single */
    CU_ASSERT_STRING_EQUAL(batch_sizes(&r, ex), "1,1,1");
    run_end(&r);
    df_executor_close(ex);
}

static void test_metas_batch_size_must_be_a_positive_integer(void)
{
    const double bad[] = {0, -2, 2.5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        df_executor_config *c = config("Returns", "returns");
        df_value_put_number(c->metas, "batch_size", bad[i]);
        df_error err = DF_ERROR_INIT;
        CU_ASSERT_PTR_NULL(open_config(c, &err));
        CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "metas.batch_size"));
    }
    df_executor_config *c = config("Returns", "returns");
    df_value_put_string(c->metas, "batch_size", "3");
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_config(c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "metas.batch_size"));
}

static void test_batching_an_empty_request_succeeds(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/pairs"), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(r.call.docs), 0);
    run_end(&r);
    df_executor_close(ex);
}

/* ---- return semantics ------------------------------------------------------------ */

static void test_in_place_changes_reach_the_caller(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/inplace"), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.call.docs), 3);
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.call.docs, 0), NULL), "id0!");
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.call.docs, 2), NULL), "id2!");
    run_end(&r);
    df_executor_close(ex);
}

static void test_replacement_replaces_the_request_documents(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/replace"), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.call.docs), 1);
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.call.docs, 0), NULL), "summary");
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(tag(r.call.docs, 0, "count")), 3, 0);
    CU_ASSERT_EQUAL(df_docs_len(r.input), 3); /* the old array itself is left alone */
    run_end(&r);
    df_executor_close(ex);
}

static void test_replacement_under_batching_replaces_each_batch_share(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/replace_pairs"), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.call.docs), 3);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(tag(r.call.docs, 0, "count")), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(tag(r.call.docs, 1, "count")), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(tag(r.call.docs, 2, "count")), 1, 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_results_land_under_the_executor_name(void)
{
    df_executor_config *c = config("Returns", "returns");
    df_value_put_string(c->metas, "name", "my_exec");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/results"), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(r.call.results), 1);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(r.call.results, 0), "my_exec");
    const df_value *mine = df_value_get(r.call.results, "my_exec");
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(mine, "count")), 3, 0);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(mine, "first_text"), NULL), "id0");
    CU_ASSERT_EQUAL(df_docs_len(r.call.docs), 3); /* results do not touch documents */
    run_end(&r);
    df_executor_close(ex);
}

static void test_results_keep_what_other_executors_put_there(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    r.call.arena = r.arena;
    r.call.endpoint = "/results";
    r.call.docs = r.input;
    r.call.results = df_value_new_map(r.arena);
    df_value_put_string(r.call.results, "upstream", "kept");
    CU_ASSERT_EQUAL(df_executor_call(ex, &r.call, &r.err), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(r.call.results), 2);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(r.call.results, "upstream"), NULL), "kept");
    run_end(&r);
    df_executor_close(ex);
}

static void test_results_without_a_results_map_are_dropped(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 2);
    r.call.arena = r.arena;
    r.call.endpoint = "/results";
    r.call.docs = r.input;
    CU_ASSERT_EQUAL(df_executor_call(ex, &r.call, &r.err), DF_OK);
    CU_ASSERT_PTR_NULL(r.call.results);
    run_end(&r);
    df_executor_close(ex);
}

static void test_call_without_documents_gives_the_handler_an_empty_array(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    r.input = NULL;
    CU_ASSERT_EQUAL(run_call(&r, ex, "/results"), DF_OK);
    CU_ASSERT_PTR_NOT_NULL(r.call.docs);
    CU_ASSERT_EQUAL(df_docs_len(r.call.docs), 0);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "count"), 0, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "first_text"), "");
    run_end(&r);
    df_executor_close(ex);
}

/* ---- failures -------------------------------------------------------------------- */

static void test_handler_failure_reaches_err_prefixed_with_the_executor_name(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail"), DF_E_NOT_FOUND);
    CU_ASSERT_EQUAL(r.err.code, DF_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(r.err.msg, "Returns: no document with id abc");
    run_end(&r);
    df_executor_close(ex);
}

static void test_handler_code_without_fail_gets_a_generic_message(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail_silent"), DF_E_IO);
    CU_ASSERT_EQUAL(r.err.code, DF_E_IO);
    CU_ASSERT_EQUAL(strncmp(r.err.msg, "Returns: ", 9), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "fail_silent"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "without a message"));
    run_end(&r);
    df_executor_close(ex);
}

static void test_first_failure_of_a_request_wins(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail_twice"), DF_E_TIMEOUT);
    CU_ASSERT_STRING_EQUAL(r.err.msg, "Returns: first");
    run_end(&r);
    df_executor_close(ex);
}

static void test_fail_with_ok_code_still_fails_as_internal(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail_ok_code"), DF_E_INTERNAL);
    CU_ASSERT_STRING_EQUAL(r.err.msg, "Returns: code was ok");
    run_end(&r);
    df_executor_close(ex);
}

static void test_in_place_changes_of_a_failing_handler_stay(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 2);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail_after_edit"), DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.call.docs, 0), NULL), "edited");
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.call.docs, 1), NULL), "edited");
    run_end(&r);
    df_executor_close(ex);
}

static void test_failure_in_a_later_batch_fails_the_call(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail_second_batch"), DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(r.err.msg, "Returns: second batch refused");
    run_end(&r);
    df_executor_close(ex);
}

static void test_executor_keeps_serving_after_a_failure(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 2);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail"), DF_E_NOT_FOUND);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/results"), DF_OK);
    CU_ASSERT_EQUAL(r.err.code, DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "count"), 2, 0);
    run_end(&r);
    df_executor_close(ex);
}

/* ---- parameters ------------------------------------------------------------------- */

/* Calls /params with one parameter set by `put`, returns the error text. */
static void expect_param_error(const char *key, df_value *v, const char *want)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    df_value_set(r.params, key, v);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(r.err.msg, want);
    if (strcmp(r.err.msg, want) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", r.err.msg, want);
    run_end(&r);
    df_executor_close(ex);
}

static void test_param_of_the_wrong_type_fails_with_a_typed_message(void)
{
    df_arena *a = df_arena_new(0);
    expect_param_error("limit", df_value_new_string(a, "x", (size_t)-1),
                       "Returns: parameters.limit: expected an integer, got \"x\"");
    expect_param_error("limit", df_value_new_number(a, 2.5),
                       "Returns: parameters.limit: expected an integer, got 2.5");
    expect_param_error("mode", df_value_new_number(a, 3),
                       "Returns: parameters.mode: expected a string, got 3");
    expect_param_error("flag", df_value_new_string(a, "yes", (size_t)-1),
                       "Returns: parameters.flag: expected a boolean, got \"yes\"");
    expect_param_error("ratio", df_value_new_list(a),
                       "Returns: parameters.ratio: expected a number, got a list");
    df_arena_free(a);
}

static void test_params_absent_or_null_give_the_defaults(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    df_value_put_null(r.params, "limit");
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "limit"), 10, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "mode"), "fast");
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "ratio"), 0.5, 0);
    CU_ASSERT_EQUAL(df_value_type_of(result(&r, ex, "flag")), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_bool(result(&r, ex, "flag")), 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_params_of_the_right_type_are_read(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    df_value_put_number(r.params, "limit", 3.0);
    df_value_put_string(r.params, "mode", "exact");
    df_value_put_number(r.params, "ratio", 2); /* an integer is a fine float */
    df_value_put_bool(r.params, "flag", 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "limit"), 3, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "mode"), "exact");
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "ratio"), 2, 0);
    CU_ASSERT_EQUAL(df_value_bool(result(&r, ex, "flag")), 1);
    run_end(&r);
    df_executor_close(ex);
}

static void test_params_sub_map_of_this_executor_is_merged_to_top_level(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    df_value_put_number(r.params, "limit", 1);
    df_value_put_string(r.params, "mode", "top");
    df_value *own = df_value_new_map(r.arena);
    df_value_put_number(own, "limit", 7);
    df_value_set(r.params, "Returns", own);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "limit"), 7, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "mode"), "top");
    /* The caller's parameters are not changed by the merge. */
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(r.params, "limit")), 1, 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_params_sub_map_of_another_executor_is_ignored(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    df_value *other = df_value_new_map(r.arena);
    df_value_put_number(other, "limit", 99);
    df_value_set(r.params, "someone_else", other);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "limit"), 10, 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_params_without_parameters_give_an_empty_map(void)
{
    df_executor *ex = open_plugin("Returns", "returns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 1);
    r.params = NULL;
    CU_ASSERT_EQUAL(run_call(&r, ex, "/params"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "n_parameters"), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "limit"), 10, 0);
    run_end(&r);
    df_executor_close(ex);
}

/* ---- with: arguments and init failures ----------------------------------------------- */

static void test_with_typed_reads_get_the_yaml_values(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("with_typed.yml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/show"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "dim"), 16, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "label"), "hello");
    CU_ASSERT_EQUAL(df_value_bool(result(&r, ex, "flag")), 1);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "ratio"), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "n_with"), 4, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "metas_name"), "typed");
    run_end(&r);
    df_executor_close(ex);
}

static void test_with_absent_keys_give_the_defaults(void)
{
    df_executor *ex = open_plugin("WithTyped", "init_fail");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/show"), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "dim"), 4, 0);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "label"), "none");
    CU_ASSERT_EQUAL(df_value_bool(result(&r, ex, "flag")), 0);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "ratio"), 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(result_num(&r, ex, "n_with"), 0, 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_with_wrong_type_fails_init_naming_the_key_and_file_line(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("with_wrong_type.yml", &err);
    CU_ASSERT_PTR_NULL(ex);
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(strncmp(err.msg, "typed", 5), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.dim: expected an integer, got \"x\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with_wrong_type.yml:5:"));
    if (!strstr(err.msg, "with_wrong_type.yml:5:")) fprintf(stderr, "\n  got: %s\n", err.msg);
    df_executor_close(ex);
}

static void test_with_int_refuses_a_fraction_and_bool_a_string(void)
{
    df_executor_config *c = config("WithTyped", "init_fail");
    df_value_put_number(c->with, "dim", 2.5);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_config(c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.dim: expected an integer, got 2.5"));
    c = config("WithTyped", "init_fail");
    df_value_put_string(c->with, "flag", "yes");
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_config(c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.flag: expected a boolean, got \"yes\""));
}

static void test_init_fail_message_reaches_err_with_the_executor_name(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_fixture("init_fail.yml", &err);
    CU_ASSERT_PTR_NULL(ex);
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    CU_ASSERT_EQUAL(strncmp(err.msg, "failing", 7), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InitFail"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "init_fail.yml"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model file model.bin is missing"));
}

static void test_init_code_without_message_is_reported(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_config(config("InitSilent", "init_fail"), &err));
    CU_ASSERT_EQUAL(err.code, DF_E_IO);
    CU_ASSERT_EQUAL(strncmp(err.msg, "InitSilent", 10), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no message"));
}

/* ---- names, workspaces, runtime arguments, lifecycle ----------------------------------- */

static df_executor_config *lifecycle_config(const char *marker)
{
    df_executor_config *c = config("Lifecycle", "lifecycle");
    df_value_put_string(c->with, "marker", tmp_path(marker));
    return c;
}

static void test_name_is_option_then_metas_then_jtype(void)
{
    df_executor_config *c = lifecycle_config("names.log");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(df_executor_name(ex), "Lifecycle");
    df_executor_close(ex);

    df_value_put_string(c->metas, "name", "from_metas");
    ex = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(df_executor_name(ex), "from_metas");
    df_executor_close(ex);

    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_root;
    opt.name = "from_flow";
    ex = df_executor_open(c, &opt, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(df_executor_name(ex), "from_flow");
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/info"), DF_OK);
    CU_ASSERT_STRING_EQUAL(result_str(&r, ex, "name"), "from_flow"); /* what exec_name says */
    run_end(&r);
    df_executor_close(ex);
}

/* Opens Lifecycle with these options and returns its /info workspace. */
static const char *workspace_of(df_executor_options *opt, df_executor_config *c)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = df_executor_open(c, opt, &err);
    if (!ex) return "(open failed)";
    run r;
    run_begin(&r, 0);
    run_call(&r, ex, "/info");
    const char *ws = df_arena_strdup(cfg_arena, result_str(&r, ex, "workspace"));
    run_end(&r);
    df_executor_close(ex);
    return ws;
}

static void test_workspace_is_created_under_base_slash_name(void)
{
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_path("ws_a");
    opt.name = "lc";
    const char *ws = workspace_of(&opt, lifecycle_config("ws_a.log"));
    CU_ASSERT_STRING_EQUAL(ws, tmp_path("ws_a/lc"));
    CU_ASSERT(is_dir(tmp_path("ws_a/lc")));
}

static void test_shard_workspace_adds_the_shard_id(void)
{
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_path("ws_b");
    opt.name = "lc";
    opt.shard_id = 2;
    opt.shards = 3;
    const char *ws = workspace_of(&opt, lifecycle_config("ws_b.log"));
    CU_ASSERT_STRING_EQUAL(ws, tmp_path("ws_b/lc/2"));
    CU_ASSERT(is_dir(tmp_path("ws_b/lc/2")));
}

static void test_metas_workspace_is_the_base_without_an_option(void)
{
    df_executor_config *c = lifecycle_config("ws_c.log");
    df_value_put_string(c->metas, "workspace", tmp_path("ws_c"));
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    const char *ws = workspace_of(&opt, c);
    CU_ASSERT_STRING_EQUAL(ws, tmp_path("ws_c/Lifecycle"));
    CU_ASSERT(is_dir(tmp_path("ws_c/Lifecycle")));
}

static void test_workspace_that_cannot_be_created_is_null(void)
{
    const char *file = tmp_path("not_a_dir");
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = file; /* <file>/lc cannot be a folder */
    opt.name = "lc";
    df_error err = DF_ERROR_INIT;
    df_executor *ex = df_executor_open(lifecycle_config("ws_e.log"), &opt, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/info"), DF_OK);
    CU_ASSERT_PTR_NULL(result(&r, ex, "workspace"));
    CU_ASSERT_PTR_NULL(df_value_get(result(&r, ex, "runtime"), "workspace"));
    run_end(&r);
    df_executor_close(ex);
}

static void test_runtime_args_report_the_instance(void)
{
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_path("ws_d");
    opt.name = "rt";
    opt.shard_id = 1;
    opt.shards = 2;
    opt.replicas = 3;
    opt.replica_id = 2;
    df_error err = DF_ERROR_INIT;
    df_executor *ex = df_executor_open(lifecycle_config("rt.log"), &opt, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run r;
    run_begin(&r, 0);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/info"), DF_OK);
    const df_value *rt = result(&r, ex, "runtime");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(rt, "name"), NULL), "rt");
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(rt, "shard_id")), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(rt, "shards")), 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(rt, "replicas")), 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(rt, "replica_id")), 2, 0);
    const char *ws = df_value_string(df_value_get(rt, "workspace"), NULL);
    CU_ASSERT_PTR_NOT_NULL(ws);
    if (ws) CU_ASSERT_STRING_EQUAL(ws, tmp_path("ws_d/rt/1"));
    CU_ASSERT_EQUAL(df_value_bool(result(&r, ex, "unknown_arg_is_null")), 1);
    run_end(&r);
    df_executor_close(ex);
}

static void test_close_is_called_exactly_once(void)
{
    const char *marker = tmp_path("lifecycle.log");
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_config(lifecycle_config("lifecycle.log"), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    char buf[256];
    CU_ASSERT_STRING_EQUAL(read_text(marker, buf, sizeof buf), "init\n");
    run r;
    run_begin(&r, 1);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/info"), DF_OK);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/fail"), DF_E_INVALID_INPUT);
    run_end(&r);
    CU_ASSERT_STRING_EQUAL(read_text(marker, buf, sizeof buf), "init\n");
    df_executor_close(ex);
    CU_ASSERT_STRING_EQUAL(read_text(marker, buf, sizeof buf), "init\nclose\n");
}

static void test_each_instance_is_initialised_and_closed_once(void)
{
    const char *marker = tmp_path("two.log");
    df_executor_config *c = lifecycle_config("two.log");
    df_error err = DF_ERROR_INIT;
    df_executor *a = open_config(c, &err);
    df_executor *b = open_config(c, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    df_executor_close(a);
    char buf[256];
    CU_ASSERT_STRING_EQUAL(read_text(marker, buf, sizeof buf), "init\ninit\nclose\n");
    df_executor_close(b);
    CU_ASSERT_STRING_EQUAL(read_text(marker, buf, sizeof buf), "init\ninit\nclose\nclose\n");
    df_executor_close(NULL);
}

static void test_failed_init_does_not_call_close(void)
{
    /* Lifecycle without with.marker fails init; a close would crash on the
     * NULL state or write a marker, so a clean return is the evidence. */
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_config(config("Lifecycle", "lifecycle"), &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.marker is required"));
}

void df_test_register(void)
{
    setenv("DOCFLOW_PLUGIN_PATH", TEST_PLUGINS ":" DF_TEST_PLUGIN_DIR, 1);
    CU_pSuite s = CU_add_suite("executor_runtime", suite_setup, suite_teardown);
    CU_add_test(s, "bound endpoint calls its handler", test_bound_endpoint_calls_its_handler);
    CU_add_test(s, "endpoint list binds every endpoint to one method",
                test_endpoint_list_binds_every_endpoint_to_one_method);
    CU_add_test(s, "unbound endpoint calls the default handler",
                test_unbound_endpoint_calls_the_default_handler);
    CU_add_test(s, "unbound endpoint without default passes through",
                test_unbound_endpoint_without_default_passes_through);
    CU_add_test(s, "bound call is not marked skipped", test_bound_call_is_not_marked_skipped);
    CU_add_test(s, "endpoints and default are listed", test_endpoints_and_default_are_listed);
    CU_add_test(s, "jtype is found without metas.library",
                test_jtype_is_found_without_metas_library);
    CU_add_test(s, "YAML requests win over the compiled table",
                test_yaml_requests_win_over_the_compiled_table);
    CU_add_test(s, "rebound method loses its compiled endpoint",
                test_rebound_method_loses_its_compiled_endpoint);
    CU_add_test(s, "/default key rebinds the default handler",
                test_default_key_rebinds_the_default_handler);
    CU_add_test(s, "requests bind one method to several endpoints",
                test_requests_bind_one_method_to_several_endpoints);
    CU_add_test(s, "/default key adds a default where none was compiled",
                test_default_key_adds_a_default_where_none_was_compiled);
    CU_add_test(s, "rebinding the default method leaves no default",
                test_rebinding_the_default_method_leaves_no_default);
    CU_add_test(s, "unknown method in requests names it and lists methods",
                test_unknown_method_in_requests_names_it_and_lists_methods);
    CU_add_test(s, "single policy calls once per document",
                test_single_policy_calls_once_per_document);
    CU_add_test(s, "batch N=2 splits 5 documents into 2,2,1",
                test_batch_n_splits_five_documents_into_two_two_one);
    CU_add_test(s, "whole policy sees every document at once",
                test_whole_policy_sees_every_document_at_once);
    CU_add_test(s, "metas.batch_size overrides N", test_metas_batch_size_overrides_n);
    CU_add_test(s, "metas.batch_size must be a positive integer",
                test_metas_batch_size_must_be_a_positive_integer);
    CU_add_test(s, "batching an empty request succeeds", test_batching_an_empty_request_succeeds);
    CU_add_test(s, "in-place changes reach the caller", test_in_place_changes_reach_the_caller);
    CU_add_test(s, "replacement replaces the request documents",
                test_replacement_replaces_the_request_documents);
    CU_add_test(s, "replacement under batching replaces each batch's share",
                test_replacement_under_batching_replaces_each_batch_share);
    CU_add_test(s, "results land under the executor name",
                test_results_land_under_the_executor_name);
    CU_add_test(s, "results keep what other executors put there",
                test_results_keep_what_other_executors_put_there);
    CU_add_test(s, "results without a results map are dropped",
                test_results_without_a_results_map_are_dropped);
    CU_add_test(s, "call without documents gives the handler an empty array",
                test_call_without_documents_gives_the_handler_an_empty_array);
    CU_add_test(s, "handler failure reaches err prefixed with the executor name",
                test_handler_failure_reaches_err_prefixed_with_the_executor_name);
    CU_add_test(s, "handler code without fail gets a generic message",
                test_handler_code_without_fail_gets_a_generic_message);
    CU_add_test(s, "first failure of a request wins", test_first_failure_of_a_request_wins);
    CU_add_test(s, "fail with DF_OK still fails as internal",
                test_fail_with_ok_code_still_fails_as_internal);
    CU_add_test(s, "in-place changes of a failing handler stay",
                test_in_place_changes_of_a_failing_handler_stay);
    CU_add_test(s, "failure in a later batch fails the call",
                test_failure_in_a_later_batch_fails_the_call);
    CU_add_test(s, "executor keeps serving after a failure",
                test_executor_keeps_serving_after_a_failure);
    CU_add_test(s, "param of the wrong type fails with a typed message",
                test_param_of_the_wrong_type_fails_with_a_typed_message);
    CU_add_test(s, "params absent or null give the defaults",
                test_params_absent_or_null_give_the_defaults);
    CU_add_test(s, "params of the right type are read", test_params_of_the_right_type_are_read);
    CU_add_test(s, "parameters[<executor>] is merged to the top level",
                test_params_sub_map_of_this_executor_is_merged_to_top_level);
    CU_add_test(s, "parameters[<other executor>] is ignored",
                test_params_sub_map_of_another_executor_is_ignored);
    CU_add_test(s, "no parameters give an empty map",
                test_params_without_parameters_give_an_empty_map);
    CU_add_test(s, "with_* typed reads get the YAML values",
                test_with_typed_reads_get_the_yaml_values);
    CU_add_test(s, "with: absent keys give the defaults", test_with_absent_keys_give_the_defaults);
    CU_add_test(s, "with: wrong type fails init naming the key and file:line",
                test_with_wrong_type_fails_init_naming_the_key_and_file_line);
    CU_add_test(s, "with_int refuses a fraction, with_bool a string",
                test_with_int_refuses_a_fraction_and_bool_a_string);
    CU_add_test(s, "init_fail message reaches err with the executor name",
                test_init_fail_message_reaches_err_with_the_executor_name);
    CU_add_test(s, "init code without message is reported",
                test_init_code_without_message_is_reported);
    CU_add_test(s, "name is option, then metas.name, then jtype",
                test_name_is_option_then_metas_then_jtype);
    CU_add_test(s, "workspace is created under base/<name>",
                test_workspace_is_created_under_base_slash_name);
    CU_add_test(s, "shard workspace adds the shard id", test_shard_workspace_adds_the_shard_id);
    CU_add_test(s, "metas.workspace is the base without an option",
                test_metas_workspace_is_the_base_without_an_option);
    CU_add_test(s, "workspace that cannot be created is NULL",
                test_workspace_that_cannot_be_created_is_null);
    CU_add_test(s, "runtime args report the instance", test_runtime_args_report_the_instance);
    CU_add_test(s, "close is called exactly once", test_close_is_called_exactly_once);
    CU_add_test(s, "each instance is initialised and closed once",
                test_each_instance_is_initialised_and_closed_once);
    CU_add_test(s, "failed init does not call close", test_failed_init_does_not_call_close);
}
