/*
 * test_flow_config.c -- flow YAML loading and validation: every key of an
 * executor item, uses: in all its forms, auto names and default needs,
 * topological order, substitution, warnings, the default reducer of shards
 * polled ALL, and each validation error with its file:line:col (fixtures
 * in tests/data/flows/).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/flow_config.h"

static df_arena *arena;
static df_error err;
static df_value *errors, *warnings;

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
        if (!h_ || !strstr(h_, (needle)))                                                          \
            fprintf(stderr, "\n  '%s' lacks '%s'\n", h_ ? h_ : "(null)", (needle));                \
        CU_ASSERT_PTR_NOT_NULL(h_ ? strstr(h_, (needle)) : NULL);                                  \
    } while (0)

static const char *fixture(const char *name)
{
    return df_arena_printf(arena, "%s/flows/%s", DF_TEST_DATA_DIR, name);
}

/* Checks a fixture, collecting every error and warning. */
static df_flow_config *check(const char *name, const df_value *context)
{
    errors = df_value_new_list(arena);
    warnings = df_value_new_list(arena);
    return df_flow_config_check(arena, fixture(name), NULL, 0, context, errors, warnings);
}

/* Checks YAML text as if read from tests/data/flows/inline.yml. */
static df_flow_config *check_text(const char *text)
{
    errors = df_value_new_list(arena);
    warnings = df_value_new_list(arena);
    return df_flow_config_check(arena, fixture("inline.yml"), text, strlen(text), NULL, errors,
                                warnings);
}

static const char *item(const df_value *list, size_t i)
{
    return df_value_string(df_value_at(list, i), NULL);
}

/* The errors of a text that must fail, all joined (for one-line checks). */
static const char *errors_of(const char *text)
{
    CU_ASSERT_PTR_NULL(check_text(text));
    CU_ASSERT(df_value_len(errors) > 0);
    const char *all = "";
    for (size_t i = 0; i < df_value_len(errors); i++)
        all = df_arena_printf(arena, "%s%s\n", all, item(errors, i));
    return all;
}

static const char *warnings_joined(void)
{
    const char *all = "";
    for (size_t i = 0; i < df_value_len(warnings); i++)
        all = df_arena_printf(arena, "%s%s\n", all, item(warnings, i));
    return all;
}

static const char *str(const df_value *map, const char *key)
{
    const char *s = df_value_string(df_value_get(map, key), NULL);
    return s ? s : "(not a string)";
}

/* ---- a full flow ------------------------------------------------------------------- */

static void test_flow_good_fixture_loads_every_key(void)
{
    df_flow_config *f = check("good.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_value_len(errors), 0);
    CU_ASSERT_EQUAL(f->prefetch, 64);
    CU_ASSERT_DOUBLE_EQUAL(f->timeout_send_ms, 5000, 0);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(f->with, "port")), 12345);
    CU_ASSERT_EQUAL_FATAL(f->n_nodes, 4);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].name, "segmenter");
    CU_ASSERT_STRING_EQUAL(f->nodes[1].name, "encoder");
    CU_ASSERT_STRING_EQUAL(f->nodes[2].name, "filter");
    CU_ASSERT_STRING_EQUAL(f->nodes[3].name, "indexer");

    const df_flow_node *seg = df_flow_config_node(f, "segmenter");
    CU_ASSERT_EQUAL(seg->n_needs, 0);
    CU_ASSERT_STRING_EQUAL(seg->uses->jtype, "Sentencizer");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(seg->uses->with, "min_length")), 3);
    ASSERT_CONTAINS(seg->uses_from, "executors/segmenter.yml");
    /* the flow's top-level metas fill in; the executor's own metas stay */
    CU_ASSERT_STRING_EQUAL(str(seg->uses->metas, "description"), "shared by every executor");
    CU_ASSERT_STRING_EQUAL(str(seg->uses->metas, "name"), "segmenter");

    const df_flow_node *enc = df_flow_config_node(f, "encoder");
    CU_ASSERT_EQUAL(enc->replicas, 2);
    CU_ASSERT_EQUAL(enc->shards, 1);
    CU_ASSERT_EQUAL_FATAL(enc->n_needs, 1);
    CU_ASSERT_STRING_EQUAL(enc->needs[0], "segmenter");
    CU_ASSERT_STRING_EQUAL(enc->uses->jtype, "TextEncoder");
    CU_ASSERT_STRING_EQUAL(enc->uses_from, "inline");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(enc->uses->with, "dim")), 128); /* uses_with */
    CU_ASSERT_STRING_EQUAL(str(enc->uses->with, "model"), "small");
    CU_ASSERT_STRING_EQUAL(str(enc->env, "THREADS"), "2");
    CU_ASSERT_STRING_EQUAL(str(enc->env, "LANG"), "C"); /* with.env */
    CU_ASSERT_PTR_NULL(enc->library);
    CU_ASSERT_PTR_NULL(enc->when);

    const df_flow_node *filter = df_flow_config_node(f, "filter");
    CU_ASSERT_STRING_EQUAL(filter->uses->jtype, "Echo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(filter->when);
    df_doc *en = df_doc_new(arena), *de = df_doc_new(arena);
    df_value_put_string(df_doc_tags(en), "lang", "en");
    df_value_put_string(df_doc_tags(de), "lang", "de");
    CU_ASSERT_EQUAL(df_filter_match(filter->when, en), 1);
    CU_ASSERT_EQUAL(df_filter_match(filter->when, de), 0);

    const df_flow_node *idx = df_flow_config_node(f, "indexer");
    CU_ASSERT_EQUAL_FATAL(idx->n_needs, 2);
    CU_ASSERT_STRING_EQUAL(idx->needs[0], "encoder");
    CU_ASSERT_STRING_EQUAL(idx->needs[1], "filter");
    CU_ASSERT_EQUAL(idx->shards, 2);
    CU_ASSERT_EQUAL(df_flow_node_polling(idx, "/search"), DF_POLLING_ALL);
    CU_ASSERT_EQUAL(df_flow_node_polling(idx, "/index"), DF_POLLING_ANY);
    CU_ASSERT_EQUAL(df_flow_node_polling(idx, "/other"), DF_POLLING_ANY);
    CU_ASSERT_STRING_EQUAL(idx->uses_before->jtype, "Echo");
    CU_ASSERT_STRING_EQUAL(idx->uses_after->jtype, "MatchMerger");
    CU_ASSERT_STRING_EQUAL(str(idx->uses->requests, "/index"), "index"); /* uses_requests */
    CU_ASSERT_STRING_EQUAL(str(idx->uses->requests, "/search"), "search");
    CU_ASSERT_DOUBLE_EQUAL(idx->timeout_send_ms, 2000, 0);
    const df_value *batch = df_value_get(idx->dynamic_batching, "/index");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(batch, "preferred_batch_size")), 64);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(batch, "timeout")), 10);
    CU_ASSERT_PTR_NULL(df_flow_config_node(f, "nobody"));
    df_flow_config_free(f);
}

static void test_flow_load_gives_the_same_graph(void)
{
    df_error_clear(&err);
    df_flow_config *f = df_flow_config_load(arena, fixture("good.yml"), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->n_nodes, 4);
    CU_ASSERT_EQUAL(err.code, DF_OK);
    df_flow_config_free(f);
}

static void test_flow_sequential_auto_names_and_default_needs(void)
{
    df_flow_config *f = check("sequential.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(f->n_nodes, 3);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].name, "executor0");
    CU_ASSERT_STRING_EQUAL(f->nodes[1].name, "executor1");
    CU_ASSERT_STRING_EQUAL(f->nodes[2].name, "executor2");
    CU_ASSERT_EQUAL(f->nodes[0].n_needs, 0);
    CU_ASSERT_STRING_EQUAL(f->nodes[1].needs[0], "executor0");
    CU_ASSERT_STRING_EQUAL(f->nodes[2].needs[0], "executor1");
    CU_ASSERT_EQUAL(f->nodes[2].polling_default, DF_POLLING_ALL); /* "all": any case */
    CU_ASSERT_EQUAL(f->prefetch, 1000);                           /* Jina's default */
    CU_ASSERT_EQUAL(f->nodes[0].replicas, 1);
    df_flow_config_free(f);
}

static void test_flow_nodes_are_topologically_sorted(void)
{
    df_flow_config *f = check("reorder.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(f->n_nodes, 4);
    const char *order[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_STRING_EQUAL(f->nodes[i].name, order[i]);
    const df_flow_node *d = df_flow_config_node(f, "d");
    CU_ASSERT_EQUAL_FATAL(d->n_needs, 2);
    CU_ASSERT_STRING_EQUAL(d->needs[0], "gateway"); /* a join with the gateway keeps it */
    CU_ASSERT_STRING_EQUAL(d->needs[1], "c");
    df_flow_config_free(f);
}

static void test_flow_yaml_order_kept_when_it_is_topological(void)
{
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "executors:\n"
                                   "  - {name: z, uses: Echo}\n"
                                   "  - {name: y, uses: Echo, needs: gateway}\n"
                                   "  - {name: x, uses: Echo, needs: [z, y]}\n"
                                   "  - {name: w, uses: Echo, needs: gateway}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const char *order[] = {"z", "y", "x", "w"};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_STRING_EQUAL(f->nodes[i].name, order[i]);
    df_flow_config_free(f);
}

/* ---- substitution ------------------------------------------------------------------ */

static void test_flow_env_and_context_substitution(void)
{
    setenv("DF_FLOW_TEST_PORT", "8080", 1);
    setenv("DF_FLOW_TEST_WORKDIR", "/srv/work", 1);
    df_value *context = df_value_new_map(arena);
    df_value_put_string(context, "replicas", "3");
    df_value_put_string(context, "model", "small");
    df_flow_config *f = check("env_context.yml", context);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(f->with, "port")), 8080);
    CU_ASSERT_EQUAL(f->nodes[0].replicas, 3);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].workspace, "/srv/work/index");
    CU_ASSERT_STRING_EQUAL(str(f->nodes[0].env, "MODEL"), "small");
    df_flow_config_free(f);
    unsetenv("DF_FLOW_TEST_PORT");
    CU_ASSERT_PTR_NULL(check("env_context.yml", context));
    ASSERT_CONTAINS(item(errors, 0), "env_context.yml:4:9: ");
    ASSERT_CONTAINS(item(errors, 0), "DF_FLOW_TEST_PORT");
    unsetenv("DF_FLOW_TEST_WORKDIR");
}

/* ---- warnings ------------------------------------------------------------------------ */

static void test_flow_warnings_for_jina_spellings_and_unknown_keys(void)
{
    df_flow_config *f = check("warnings.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const char *all = warnings_joined();
    ASSERT_CONTAINS(all, "warnings.yml:5:1: unknown key 'colour' at the top level");
    ASSERT_CONTAINS(all, "warnings.yml:7:13: protocol 'grpc' is not served");
    ASSERT_CONTAINS(all, "warnings.yml:8:3: 'port_expose' is Jina 2.x's name for 'port'");
    ASSERT_CONTAINS(all, "warnings.yml:9:3: Jina's 'no_debug_endpoints' is not used");
    ASSERT_CONTAINS(all, "warnings.yml:10:3: unknown key 'prefetchh' in with: (known: protocol,");
    ASSERT_CONTAINS(all, "warnings.yml:11:1: 'pods' is Jina 1.x's name for 'executors'");
    ASSERT_CONTAINS(all, "warnings.yml:14:5: 'parallel' is Jina 1.x's name for 'shards'");
    ASSERT_CONTAINS(all, "warnings.yml:15:5: Jina's 'gpus' is not used by docflow");
    ASSERT_CONTAINS(all, "warnings.yml:16:5: unknown key 'colour' in an executor (known: name,");
    ASSERT_CONTAINS(all, "warnings.yml:17:5: host and port are used only with external: true");
    CU_ASSERT_EQUAL(df_value_len(warnings), 10);
    CU_ASSERT_EQUAL(df_value_len(f->warnings), 10);
    /* in file order */
    ASSERT_CONTAINS(item(warnings, 0), ":5:1:");
    ASSERT_CONTAINS(item(warnings, 9), ":17:5:");
    CU_ASSERT_EQUAL(f->nodes[0].shards, 2);                                /* parallel */
    CU_ASSERT_EQUAL(df_value_number(df_value_get(f->with, "port")), 8080); /* port_expose */
    df_flow_config_free(f);
}

static void test_flow_without_executors_warns(void)
{
    df_flow_config *f = check_text("jtype: Flow\nexecutors: []\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->n_nodes, 0);
    ASSERT_CONTAINS(warnings_joined(), "the flow has no executors");
    f = check_text("!Flow\n");
    CU_ASSERT_PTR_NOT_NULL(f);
}

static void test_flow_executor_yaml_warnings_reported_once(void)
{
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "executors:\n"
                                   "  - {name: a, uses: inline_warn.yml}\n"
                                   "  - {name: b, uses: inline_warn.yml}\n");
    /* no such file: two errors, one per reference, each at its uses */
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(df_value_len(errors), 2);
    ASSERT_CONTAINS(item(errors, 0), "inline.yml:3:21: uses: executor YAML 'inline_warn.yml'");
    ASSERT_CONTAINS(item(errors, 1), "inline.yml:4:21: ");
    f = check_text("jtype: Flow\n"
                   "executors:\n"
                   "  - {name: a, uses: {jtype: A, py_modules: [x.py]}}\n"
                   "  - {name: b, uses: executors/indexer.yml, uses_metas: {colour: red}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const char *all = warnings_joined();
    ASSERT_CONTAINS(all, "inline.yml:3:32: 'py_modules' is not supported by docflow");
    ASSERT_CONTAINS(all, "inline.yml:4:56: unknown key 'colour' in uses_metas");
}

/* ---- uses: in every form ------------------------------------------------------------- */

static const char *test_plugin(const char *name)
{
    return df_arena_printf(arena, "%s/tests/plugins/%s", DF_TEST_BINARY_DIR, name);
}

static void test_flow_uses_plugin_with_one_executor(void)
{
    const char *lib = test_plugin("lifecycle.so");
    const char *text = df_arena_printf(arena,
                                       "jtype: Flow\n"
                                       "executors:\n"
                                       "  - name: life\n"
                                       "    uses: %s\n"
                                       "    uses_with: {marker: x}\n",
                                       lib);
    df_flow_config *f = check_text(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const df_flow_node *n = &f->nodes[0];
    CU_ASSERT_STRING_EQUAL(n->library, lib);
    CU_ASSERT_STRING_EQUAL(n->uses->jtype, ""); /* checking never opens the .so */
    ASSERT_CONTAINS(n->uses_from, "plugin ");
    CU_ASSERT_STRING_EQUAL(str(n->uses->with, "marker"), "x");
    df_error_clear(&err);
    CU_ASSERT_EQUAL(df_flow_config_resolve_libraries(f, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(n->uses->jtype, "Lifecycle");
    df_flow_config *g =
        df_flow_config_parse(arena, text, strlen(text), fixture("inline.yml"), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->nodes[0].uses->jtype, "Lifecycle"); /* load resolves */
}

static void test_flow_uses_plugin_with_several_executors_must_pick(void)
{
    const char *lib = df_arena_printf(arena, "%s/echo.so", DF_TEST_PLUGIN_DIR);
    const char *text = df_arena_printf(arena, "jtype: Flow\nexecutors:\n  - uses: %s\n", lib);
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(
        df_flow_config_parse(arena, text, strlen(text), fixture("inline.yml"), NULL, &err));
    ASSERT_CONTAINS(err.msg, "inline.yml:3:11: ");
    ASSERT_CONTAINS(err.msg, "declares 2 executor types (Echo, EchoPairs)");
    ASSERT_CONTAINS(err.msg, "uses: {jtype: Echo, metas: {library: ");
    /* a bare file name is found in the plugin folders */
    setenv("DOCFLOW_PLUGIN_PATH", DF_TEST_PLUGIN_DIR, 1);
    df_flow_config *f = check_text("jtype: Flow\nexecutors:\n  - uses: text_case.so\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ASSERT_CONTAINS(f->nodes[0].library, "/text_case.so");
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

static void test_flow_uses_missing_plugin_says_where_it_looked(void)
{
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: sub/none.so\n"),
                    "inline.yml:3:11: uses: plugin 'sub/none.so' not found; looked in: ");
}

static void test_flow_uses_without_uses_is_base_executor(void)
{
    df_flow_config *f = check_text("jtype: Flow\nexecutors:\n  - name: pass\n  - uses:\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].uses->jtype, "BaseExecutor");
    CU_ASSERT_STRING_EQUAL(f->nodes[1].uses->jtype, "BaseExecutor");
}

static const char *fake_hub(df_arena *a, const char *uri, df_error *e)
{
    if (strcmp(uri, "hub://team/indexer:1.0") == 0)
        return df_arena_printf(a, "%s/flows/executors/indexer.yml", DF_TEST_DATA_DIR);
    df_error_set(e, DF_E_NOT_FOUND, "no package %s in the local store", uri);
    return NULL;
}

static void test_flow_uses_hub_goes_through_the_resolver(void)
{
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: hub://team/indexer:1.0\n"),
                    "inline.yml:3:11: uses: hub:// executors need docflow-hub (not available in "
                    "this build)");
    df_flow_set_hub_resolver(fake_hub);
    df_flow_config *f = check_text("jtype: Flow\nexecutors:\n  - uses: hub://team/indexer:1.0\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].uses->jtype, "VectorIndexer");
    ASSERT_CONTAINS(f->nodes[0].uses_from, "hub://team/indexer:1.0 -> ");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: hub://team/other\n"),
                    "inline.yml:3:11: uses: hub://team/other: no package hub://team/other in the "
                    "local store");
    df_flow_set_hub_resolver(NULL);
}

static void test_flow_uses_refuses_what_it_cannot_load(void)
{
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: jinaai://jina-ai/Encoder\n"),
                    "Jina's jinaai:// executors are not supported");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: not a name\n"),
                    "inline.yml:3:11: uses: \"not a name\" is not something docflow can load");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: [a]\n"),
                    "inline.yml:3:11: uses must be an executor YAML path");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: good.yml\n"),
                    "inline.yml:3:11: uses: \"good.yml\" is a flow, not an executor");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses: {with: {a: 1}}\n"),
                    "inline.yml:3:11: missing 'jtype'");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - uses_after: 7\n"),
                    "inline.yml:3:17: uses_after must be an executor YAML path");
}

static void test_flow_override_errors_point_at_the_section(void)
{
    const char *e = errors_of("jtype: Flow\n"
                              "executors:\n"
                              "  - uses: Echo\n"
                              "    uses_requests: {index: index}\n"
                              "    uses_metas: {batch_size: 0}\n"
                              "    uses_with: 3\n");
    ASSERT_CONTAINS(e, "inline.yml:4:20: uses_requests: endpoint 'index' must start with '/'");
    ASSERT_CONTAINS(e, "inline.yml:5:17: uses_metas.batch_size must be a whole number");
    ASSERT_CONTAINS(e, "inline.yml:6:16: uses_with must be a mapping, got a number");
}

static void test_flow_top_level_metas_checked_once(void)
{
    const char *e = errors_of("jtype: Flow\n"
                              "metas: {batch_size: none}\n"
                              "executors:\n"
                              "  - uses: Echo\n"
                              "  - uses: Echo\n");
    CU_ASSERT_EQUAL(df_value_len(errors), 1);
    ASSERT_CONTAINS(e, "inline.yml:2:1: metas (applied to every executor): ");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nmetas: [x]\nexecutors: []\n"),
                    "inline.yml:2:8: 'metas' must be a mapping, got a list");
}

/* ---- validation errors, one fixture each ------------------------------------------------- */

static const struct {
    const char *file;
    const char *message;
} bad_fixtures[] = {
    {"bad_unknown_needs.yml",
     "bad_unknown_needs.yml:7:12: needs: no executor named 'encodr' (known: gateway, encoder, "
     "indexer); did you mean 'encoder'?"},
    {"bad_cycle.yml", "bad_cycle.yml:5:12: needs: cycle a -> b -> c -> a ('a' needs 'c'"},
    {"bad_self_cycle.yml", "bad_self_cycle.yml:5:22: needs: 'a' needs itself"},
    {"bad_duplicate_name.yml",
     "bad_duplicate_name.yml:5:11: executor name 'encoder' is used twice (also at "},
    {"bad_replicas.yml", "bad_replicas.yml:5:15: replicas must be an integer >= 1, got \"two\""},
    {"bad_shards.yml", "bad_shards.yml:5:13: shards must be an integer >= 1, got 0"},
    {"bad_polling.yml",
     "bad_polling.yml:6:37: polling['/search'] must be ANY (one shard answers) or ALL"},
    {"bad_unreachable_join.yml",
     "bad_unreachable_join.yml:10:16: join 'join' waits for every one of its needs, but "
     "'island' never delivers"},
    {"bad_jtype.yml", "bad_jtype.yml:1:8: 'jtype: Deployment' is not a flow"},
    {"bad_missing_uses_file.yml",
     "bad_missing_uses_file.yml:4:11: uses: executor YAML 'executors/nowhere.yml' not found"},
    {"bad_missing_plugin.yml",
     "bad_missing_plugin.yml:4:11: uses: plugin 'no-such-plugin.so' not found"},
    {"bad_hub.yml", "bad_hub.yml:4:11: uses: hub:// executors need docflow-hub"},
    {"bad_when.yml", "bad_when.yml:5:11: when.tags__lang: unknown operator '$equals'"},
    {"bad_executor_yaml.yml", "executors/no_jtype.yml:2:1: missing 'jtype'"},
    {"bad_name.yml", "bad_name.yml:3:11: name 'gateway' is reserved"},
    {"bad_dynamic_batching.yml",
     "bad_dynamic_batching.yml:6:38: uses_dynamic_batching['/index'].preferred_batch_size must "
     "be an integer >= 1, got 0"},
    {"bad_types.yml", "bad_types.yml:9:15: replicas must be an integer >= 1, got 1.5"},
};

static void test_flow_each_bad_fixture_fails_with_its_position(void)
{
    for (size_t i = 0; i < sizeof bad_fixtures / sizeof bad_fixtures[0]; i++) {
        df_flow_config *f = check(bad_fixtures[i].file, NULL);
        CU_ASSERT_PTR_NULL(f);
        const char *all = "";
        for (size_t k = 0; k < df_value_len(errors); k++)
            all = df_arena_printf(arena, "%s%s\n", all, item(errors, k));
        ASSERT_CONTAINS(all, bad_fixtures[i].message);
        /* load gives the first error, with a pointer to validate */
        df_error_clear(&err);
        CU_ASSERT_PTR_NULL(df_flow_config_load(arena, fixture(bad_fixtures[i].file), NULL, &err));
        CU_ASSERT_STRING_EQUAL(err.msg,
                               df_value_len(errors) == 1
                                   ? item(errors, 0)
                                   : df_arena_printf(arena,
                                                     "%s (and %zu more error%s: "
                                                     "'docflow-host validate %s' "
                                                     "lists them all)",
                                                     item(errors, 0), df_value_len(errors) - 1,
                                                     df_value_len(errors) == 2 ? "" : "s",
                                                     fixture(bad_fixtures[i].file)));
        CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    }
}

static void test_flow_every_error_is_reported_in_file_order(void)
{
    CU_ASSERT_PTR_NULL(check("bad_types.yml", NULL));
    const char *expect[] = {
        "bad_types.yml:4:13: with.prefetch must be an integer >= 0, got -1",
        "bad_types.yml:5:9: with.cors must be true or false, got \"maybe\"",
        "bad_types.yml:8:11: uses must be an executor YAML path",
        "bad_types.yml:9:15: replicas must be an integer >= 1, got 1.5",
        "bad_types.yml:10:10: env must be a mapping of variable names to values",
        "bad_types.yml:11:19: timeout_send must be a number of milliseconds >= 0, got \"soon\"",
        "bad_types.yml:12:16: workspace must be a folder path (a string), got a list",
        "bad_types.yml:13:16: uses_with must be a mapping, got a list",
        "bad_types.yml:16:12: needs must be an executor name, gateway, or a list of them",
        "bad_types.yml:17:11: when must be a condition mapping",
        "bad_types.yml:18:5: external: true needs host: and port:",
    };
    size_t n = sizeof expect / sizeof expect[0];
    CU_ASSERT_EQUAL_FATAL(df_value_len(errors), n);
    for (size_t i = 0; i < n; i++)
        ASSERT_CONTAINS(item(errors, i), expect[i]);
}

static void test_flow_duplicate_of_an_automatic_name(void)
{
    const char *e = errors_of("jtype: Flow\n"
                              "executors:\n"
                              "  - uses: Echo\n"
                              "  - name: executor0\n"
                              "    uses: Echo\n");
    ASSERT_CONTAINS(e, "inline.yml:4:11: executor name 'executor0' is used twice (also at ");
    ASSERT_CONTAINS(e, "flows/inline.yml:3:5, where it is the automatic name of an executor "
                       "without name:): names must be unique; rename one");
}

static void test_flow_needs_forms_and_mistakes(void)
{
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "executors:\n"
                                   "  - {name: a, uses: Echo}\n"
                                   "  - {name: b, uses: Echo, needs: gateway}\n"
                                   "  - {name: c, uses: Echo, needs: [a, b]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nodes[1].n_needs, 0);
    CU_ASSERT_EQUAL(f->nodes[2].n_needs, 2);
    const char *e = errors_of("jtype: Flow\n"
                              "executors:\n"
                              "  - {name: a, uses: Echo}\n"
                              "  - {name: b, uses: Echo, needs: [a, a, 3]}\n");
    ASSERT_CONTAINS(e, "inline.yml:4:38: needs lists 'a' twice: keep one");
    ASSERT_CONTAINS(e, "inline.yml:4:41: needs[2] must be an executor name (a string), got 3");
    e = errors_of("jtype: Flow\nexecutors:\n  - {name: a, uses: Echo, needs: zzz}\n");
    ASSERT_CONTAINS(e, "no executor named 'zzz' (known: gateway, a)\n");
}

static void test_flow_cycles_and_what_they_cut_off(void)
{
    const char *e = errors_of("jtype: Flow\n"
                              "executors:\n"
                              "  - {name: a, uses: Echo, needs: b}\n"
                              "  - {name: b, uses: Echo, needs: a}\n"
                              "  - {name: c, uses: Echo, needs: gateway}\n"
                              "  - {name: d, uses: Echo, needs: [c, b]}\n");
    ASSERT_CONTAINS(e, "inline.yml:3:34: needs: cycle a -> b -> a ('a' needs 'b', which comes "
                       "after it): no request could ever pass; remove 'b' from a's needs, or "
                       "point a to gateway");
    ASSERT_CONTAINS(e, "inline.yml:6:38: join 'd' waits for every one of its needs, but 'b' "
                       "never delivers (it is in a needs cycle)");
    CU_ASSERT_EQUAL(df_value_len(errors), 2);
    /* two separate cycles: both reported */
    errors_of("jtype: Flow\n"
              "executors:\n"
              "  - {name: a, uses: Echo, needs: a}\n"
              "  - {name: b, uses: Echo, needs: c}\n"
              "  - {name: c, uses: Echo}\n");
    CU_ASSERT_EQUAL(df_value_len(errors), 2);
}

static void test_flow_top_level_mistakes(void)
{
    ASSERT_CONTAINS(errors_of("executors: []\n"), "inline.yml:1:1: missing 'jtype: Flow'");
    ASSERT_CONTAINS(errors_of("jtype: 3\n"), "inline.yml:1:8: 'jtype' must be Flow, got 3");
    ASSERT_CONTAINS(errors_of(""), "inline.yml: the file is empty");
    ASSERT_CONTAINS(errors_of("- a\n"), "inline.yml:1:1: a flow must be a mapping");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors: {a: 1}\n"),
                    "inline.yml:2:12: 'executors' must be a list, got a mapping");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors: []\npods: []\n"),
                    "inline.yml:3:1: both 'executors' and 'pods' are given");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nversion: [1]\n"),
                    "inline.yml:2:10: 'version' must be a string such as '1', got a list");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - encoder\n"),
                    "inline.yml:3:5: executors[0] must be a mapping");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors: [\n"), "inline.yml:");
}

static void test_flow_with_settings_are_checked(void)
{
    const char *e = errors_of("jtype: Flow\n"
                              "with:\n"
                              "  port: 70000\n"
                              "  log_format: xml\n"
                              "  protocol: smtp\n"
                              "  env: {A: [1]}\n"
                              "  max_body_bytes: 0\n"
                              "  title: 5\n");
    ASSERT_CONTAINS(e, "inline.yml:3:9: with.port must be at most 65535, got 70000");
    ASSERT_CONTAINS(e, "inline.yml:4:15: with.log_format must be text or json, got \"xml\"");
    ASSERT_CONTAINS(e, "inline.yml:5:13: with.protocol must be http, grpc or websocket");
    ASSERT_CONTAINS(e, "inline.yml:6:12: with.env.A must be a string, number or boolean");
    ASSERT_CONTAINS(e, "inline.yml:7:19: with.max_body_bytes must be an integer >= 1, got 0");
    ASSERT_CONTAINS(e, "inline.yml:8:10: with.title must be a string, got 5");
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "with: {env: {A: 1, B: x, C: true}, protocol: [http]}\n"
                                   "executors:\n"
                                   "  - {uses: Echo, env: {B: y, D: 0.5, E: 0.1, F: -3}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const df_value *env = f->nodes[0].env;
    CU_ASSERT_STRING_EQUAL(str(env, "A"), "1");
    CU_ASSERT_STRING_EQUAL(str(env, "B"), "y"); /* the executor's own wins */
    CU_ASSERT_STRING_EQUAL(str(env, "C"), "true");
    CU_ASSERT_STRING_EQUAL(str(env, "D"), "0.5");
    CU_ASSERT_STRING_EQUAL(str(env, "E"), "0.1");
    CU_ASSERT_STRING_EQUAL(str(env, "F"), "-3");
}

static void test_flow_polling_forms(void)
{
    df_flow_config *f =
        check_text("jtype: Flow\n"
                   "executors:\n"
                   "  - {uses: Echo, shards: 3, polling: {'*': all, /index: any}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_flow_node_polling(&f->nodes[0], "/search"), DF_POLLING_ALL);
    CU_ASSERT_EQUAL(df_flow_node_polling(&f->nodes[0], "/index"), DF_POLLING_ANY);
    CU_ASSERT_EQUAL(df_flow_node_polling(&f->nodes[0], NULL), DF_POLLING_ALL);
    CU_ASSERT_EQUAL(df_value_len(f->nodes[0].polling), 1); /* '*' is the default, not a key */
    const char *e = errors_of("jtype: Flow\n"
                              "executors:\n"
                              "  - {uses: Echo, polling: {search: ALL}}\n"
                              "  - {uses: Echo, polling: 1}\n"
                              "  - {uses: Echo, polling: SOME}\n");
    ASSERT_CONTAINS(e, "inline.yml:3:28: polling: 'search' is not an endpoint");
    ASSERT_CONTAINS(e, "inline.yml:4:27: polling must be ANY, ALL, or a mapping");
    ASSERT_CONTAINS(e, "inline.yml:5:27: polling must be ANY (one shard answers) or ALL");
}

/* ---- the default reducer of shards polled ALL ------------------------------------ */

static void test_flow_shards_polled_all_get_the_default_reducer(void)
{
    setenv("DOCFLOW_PLUGIN_PATH", DF_TEST_PLUGIN_DIR, 1);
    df_flow_config *f =
        check_text("jtype: Flow\n"
                   "executors:\n"
                   "  - {name: idx, uses: Echo, shards: 2, polling: {/search: ALL, '*': ANY}}\n"
                   "  - {name: all, uses: Echo, shards: 3, polling: all}\n"
                   "  - {name: one, uses: Echo, polling: ALL}\n"
                   "  - {name: any, uses: Echo, shards: 2, polling: {/index: ANY}}\n"
                   "  - {name: lim, uses: Echo, uses_with: {limit: 7}, shards: 2,"
                   " polling: ALL}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_value_len(warnings), 0);
    const df_flow_node *idx = df_flow_config_node(f, "idx");
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx->uses_after);
    CU_ASSERT_EQUAL(idx->uses_after_implicit, 1);
    CU_ASSERT_STRING_EQUAL(idx->uses_after->jtype, "MatchMerger");
    CU_ASSERT_EQUAL(df_value_bool(df_value_get(idx->uses_after->with, "default_reducer")), 1);
    CU_ASSERT_PTR_NULL(df_value_get(idx->uses_after->with, "limit")); /* the shards' own */
    ASSERT_CONTAINS(idx->uses_after_library, "/match_merger.so");
    CU_ASSERT_EQUAL(idx->uses_after_library[0], '/');
    ASSERT_CONTAINS(idx->uses_after_from, "default reducer of the shards' answers on /search");
    ASSERT_CONTAINS(idx->uses_after_from, "uses_after: null turns it off");
    CU_ASSERT_PTR_NULL(idx->uses_before);
    const df_flow_node *all = df_flow_config_node(f, "all");
    CU_ASSERT_EQUAL(all->uses_after_implicit, 1);
    ASSERT_CONTAINS(all->uses_after_from, "on every endpoint polled ALL");
    /* one shard, or no endpoint polled ALL: nothing to reduce */
    CU_ASSERT_PTR_NULL(df_flow_config_node(f, "one")->uses_after);
    CU_ASSERT_EQUAL(df_flow_config_node(f, "one")->uses_after_implicit, 0);
    CU_ASSERT_PTR_NULL(df_flow_config_node(f, "any")->uses_after);
    /* the shards' configured limit becomes the merged answer's */
    const df_flow_node *lim = df_flow_config_node(f, "lim");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lim->uses_after);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(lim->uses_after->with, "limit")), 7);
    /* loading keeps it (its jtype is known, so the plugin is not opened) */
    const char *text = "jtype: Flow\nexecutors:\n  - {uses: Echo, shards: 2, polling: ALL}\n";
    df_error_clear(&err);
    df_flow_config *g =
        df_flow_config_parse(arena, text, strlen(text), fixture("inline.yml"), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->nodes[0].uses_after->jtype, "MatchMerger");
    CU_ASSERT_EQUAL(g->nodes[0].uses_after_implicit, 1);
    /* the good fixture names MatchMerger itself: explicit */
    f = check("good.yml", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_flow_config_node(f, "indexer")->uses_after_implicit, 0);
    df_flow_config_free(f);
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

static void test_flow_uses_after_null_or_base_executor_is_no_reducer(void)
{
    setenv("DOCFLOW_PLUGIN_PATH", DF_TEST_PLUGIN_DIR, 1); /* where the default is found */
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "executors:\n"
                                   "  - {name: nil, uses: Echo, shards: 2, polling: ALL,"
                                   " uses_after: null}\n"
                                   "  - name: empty\n"
                                   "    uses: Echo\n"
                                   "    shards: 2\n"
                                   "    polling: ALL\n"
                                   "    uses_after:\n"
                                   "  - {name: base, uses: Echo, shards: 2, polling: ALL,"
                                   " uses_after: BaseExecutor, uses_before: BaseExecutor}\n"
                                   "  - {name: mine, uses: Echo, shards: 2, uses_after: Echo}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(df_value_len(errors), 0);
    /* null, empty and Jina's BaseExecutor (which Jina drops): the merge by id */
    const char *off[] = {"nil", "empty", "base"};
    for (int i = 0; i < 3; i++) {
        const df_flow_node *n = df_flow_config_node(f, off[i]);
        CU_ASSERT_PTR_NULL(n->uses_after);
        CU_ASSERT_PTR_NULL(n->uses_after_library);
        CU_ASSERT_PTR_NULL(n->uses_after_from);
        CU_ASSERT_EQUAL(n->uses_after_implicit, 0);
    }
    CU_ASSERT_PTR_NULL(df_flow_config_node(f, "base")->uses_before);
    const df_flow_node *mine = df_flow_config_node(f, "mine");
    CU_ASSERT_STRING_EQUAL(mine->uses_after->jtype, "Echo");
    CU_ASSERT_EQUAL(mine->uses_after_implicit, 0);
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

static void test_flow_external_and_scaling_limits(void)
{
    df_flow_config *f = check_text("jtype: Flow\n"
                                   "executors:\n"
                                   "  - {name: far, external: true, host: 10.0.0.2, port: 8081}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nodes[0].external, 1);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].host, "10.0.0.2");
    CU_ASSERT_EQUAL(f->nodes[0].port, 8081);
    const char *e =
        errors_of("jtype: Flow\n"
                  "executors:\n"
                  "  - {uses: Echo, replicas: 100000, shards: -2, external: yes please}\n");
    ASSERT_CONTAINS(e, "replicas must be at most 1024, got 100000");
    ASSERT_CONTAINS(e, "shards must be an integer >= 1, got -2");
    ASSERT_CONTAINS(e, "external must be true or false, got \"yes please\"");
}

static void test_flow_name_rules(void)
{
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - {name: 7, uses: Echo}\n"),
                    "inline.yml:3:12: name must be a string (quote it: name: \"7\"), got 7");
    ASSERT_CONTAINS(errors_of("jtype: Flow\nexecutors:\n  - {name: a/b, uses: Echo}\n"),
                    "inline.yml:3:12: name \"a/b\" may only use letters, digits");
    df_flow_config *f = check_text("jtype: Flow\nexecutors:\n  - {name: enc-1.v2_x, uses: Echo}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->nodes[0].name, "enc-1.v2_x");
}

static void test_flow_load_of_missing_file_is_not_found(void)
{
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(df_flow_config_load(arena, fixture("no-such-flow.yml"), NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_NOT_FOUND);
    ASSERT_CONTAINS(err.msg, "no-such-flow.yml");
    df_flow_config_free(NULL);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("flow_config", suite_init, suite_cleanup);
    CU_add_test(s, "good fixture loads every key", test_flow_good_fixture_loads_every_key);
    CU_add_test(s, "load gives the same graph", test_flow_load_gives_the_same_graph);
    CU_add_test(s, "auto names and default needs",
                test_flow_sequential_auto_names_and_default_needs);
    CU_add_test(s, "topological order", test_flow_nodes_are_topologically_sorted);
    CU_add_test(s, "YAML order kept when topological",
                test_flow_yaml_order_kept_when_it_is_topological);
    CU_add_test(s, "ENV and context substitution", test_flow_env_and_context_substitution);
    CU_add_test(s, "warnings", test_flow_warnings_for_jina_spellings_and_unknown_keys);
    CU_add_test(s, "no executors warns", test_flow_without_executors_warns);
    CU_add_test(s, "executor YAML warnings", test_flow_executor_yaml_warnings_reported_once);
    CU_add_test(s, "uses: plugin with one executor", test_flow_uses_plugin_with_one_executor);
    CU_add_test(s, "uses: plugin with several executors",
                test_flow_uses_plugin_with_several_executors_must_pick);
    CU_add_test(s, "uses: missing plugin", test_flow_uses_missing_plugin_says_where_it_looked);
    CU_add_test(s, "no uses: BaseExecutor", test_flow_uses_without_uses_is_base_executor);
    CU_add_test(s, "uses: hub resolver", test_flow_uses_hub_goes_through_the_resolver);
    CU_add_test(s, "uses: refused forms", test_flow_uses_refuses_what_it_cannot_load);
    CU_add_test(s, "override errors", test_flow_override_errors_point_at_the_section);
    CU_add_test(s, "top-level metas", test_flow_top_level_metas_checked_once);
    CU_add_test(s, "bad fixtures", test_flow_each_bad_fixture_fails_with_its_position);
    CU_add_test(s, "every error in file order", test_flow_every_error_is_reported_in_file_order);
    CU_add_test(s, "duplicate automatic name", test_flow_duplicate_of_an_automatic_name);
    CU_add_test(s, "needs forms and mistakes", test_flow_needs_forms_and_mistakes);
    CU_add_test(s, "cycles and joins", test_flow_cycles_and_what_they_cut_off);
    CU_add_test(s, "top-level mistakes", test_flow_top_level_mistakes);
    CU_add_test(s, "with: settings", test_flow_with_settings_are_checked);
    CU_add_test(s, "polling forms", test_flow_polling_forms);
    CU_add_test(s, "shards polled ALL get the default reducer",
                test_flow_shards_polled_all_get_the_default_reducer);
    CU_add_test(s, "uses_after null or BaseExecutor: no reducer",
                test_flow_uses_after_null_or_base_executor_is_no_reducer);
    CU_add_test(s, "external and scaling limits", test_flow_external_and_scaling_limits);
    CU_add_test(s, "name rules", test_flow_name_rules);
    CU_add_test(s, "missing flow file", test_flow_load_of_missing_file_is_not_found);
}
