/*
 * test_hub_manifest.c -- manifest.yml: reading and checking (with
 * positions), the YAML and JSON writers round-tripping tricky strings, the
 * package path rule, and the host checks (ABI, platform).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "docflow/executor.h"
#include "hub_manifest.h"

static const char *const digest_a =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *const digest_b =
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static hub_manifest *parse(df_arena *a, const char *text, int complete, df_error *err)
{
    return hub_manifest_parse_yaml(a, text, strlen(text), "manifest.yml", complete, err);
}

static char *complete_text(df_arena *a, const char *abi, const char *platform)
{
    return df_arena_printf(a,
                           "namespace: alice\nname: echo\nversion: 1.0.0\n"
                           "abi_version: \"%s\"\nplatform: %s\nlibrary: lib/echo.so\n"
                           "executors:\n  - jtype: Echo\n    endpoints: [/index]\n"
                           "    default: true\n"
                           "files:\n  lib/echo.so: %s\n  config.yml: %s\n",
                           abi, platform, digest_a, digest_b);
}

static void test_source_manifest_needs_only_identity(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    hub_manifest *m = parse(a, "namespace: alice\nname: my-encoder\nversion: 0.1.0\n", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->ns, "alice");
    CU_ASSERT_STRING_EQUAL(m->version, "0.1.0");
    CU_ASSERT_STRING_EQUAL(m->description, "");
    CU_ASSERT_EQUAL(m->n_files, 0);
    CU_ASSERT_PTR_NULL(parse(a, "namespace: alice\nname: my-encoder\nversion: 0.1.0\n", 1, &err));
    df_arena_free(a);
}

static void test_errors_name_the_position_and_the_fix(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(parse(a, "namespace: alice\nname: echo\n", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no 'version'"));
    CU_ASSERT_PTR_NULL(parse(a, "namespace: alice\nname: echo\nversion: 1.0\n", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "manifest.yml:3:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "quote it"));
    CU_ASSERT_PTR_NULL(parse(a, "namespace: alice\nname: echo\nversion: \"1.0\"\n", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "MAJOR.MINOR.PATCH"));
    CU_ASSERT_PTR_NULL(parse(a, "namespace: Alice\nname: echo\nversion: 1.0.0\n", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "manifest.yml:1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lowercase"));
    CU_ASSERT_PTR_NULL(parse(a, complete_text(a, "one", "linux-x86_64"), 1, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "MAJOR.MINOR"));
    df_arena_free(a);
}

static void test_unknown_keys_are_warnings_not_errors(void)
{
    df_arena *a = df_arena_new(0);
    hub_manifest *m =
        parse(a, "namespace: alice\nname: echo\nversion: 1.0.0\nlicence: MIT\n", 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->n_warnings, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(m->warnings[0], "manifest.yml:4:1: unknown key 'licence'"));
    df_arena_free(a);
}

static void test_complete_manifest_lists_config_and_library(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    hub_manifest *m = parse(a, complete_text(a, "1.0", "linux-x86_64"), 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->abi_major, 1);
    CU_ASSERT_EQUAL(m->n_executors, 1);
    CU_ASSERT(m->executors[0].has_default);
    CU_ASSERT_STRING_EQUAL(m->files[0].path, "config.yml"); /* sorted */
    CU_ASSERT_PTR_NOT_NULL(hub_manifest_file(m, "lib/echo.so"));
    char *no_config = df_arena_printf(a,
                                      "namespace: a\nname: b\nversion: 1.0.0\nabi_version: "
                                      "\"1.0\"\nplatform: p\nlibrary: lib/b.so\nexecutors: "
                                      "[{jtype: B}]\nfiles: {lib/b.so: %s}\n",
                                      digest_a);
    CU_ASSERT_PTR_NULL(parse(a, no_config, 1, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "config.yml"));
    df_arena_free(a);
}

static void test_file_paths_must_be_safe(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    char *evil =
        df_arena_printf(a, "namespace: a\nname: b\nversion: 1.0.0\nfiles:\n  ../x: %s\n", digest_a);
    CU_ASSERT_PTR_NULL(parse(a, evil, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a valid package path"));
    CU_ASSERT(hub_package_path_valid("lib/x.so"));
    CU_ASSERT(hub_package_path_valid("data/a-b_c+d.1"));
    static const char *bad[] = {"",   "/etc/passwd", "a/../b", "..",  "./a",  "a//b",
                                "a/", ".hidden",     "lib/.x", "a b", "a\\b", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT(!hub_package_path_valid(bad[i]));
    df_arena_free(a);
}

/* Strings that YAML would read as something else must come back as written. */
static void test_yaml_and_json_round_trip_tricky_strings(void)
{
    df_arena *a = df_arena_new(0);
    hub_manifest *m = parse(a, complete_text(a, "1.0", "linux-x86_64"), 1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    m->description = "yes: a \"quoted\" #hash, 1.0 and \\ back\nslash ünïcode";
    m->license = "1.0";
    m->url = "null";
    static const char *kw[] = {"yes", "[x]", "a,b", "-1", "~", "", "on"};
    m->keywords = kw;
    m->n_keywords = sizeof kw / sizeof kw[0];
    df_buf yaml = DF_BUF_INIT, json = DF_BUF_INIT, again = DF_BUF_INIT;
    hub_manifest_write_yaml(m, &yaml);
    df_error err = DF_ERROR_INIT;
    hub_manifest *back = hub_manifest_parse_yaml(a, yaml.data, yaml.len, "out.yml", 1, &err);
    if (!back) fprintf(stderr, "\n%s\n%s\n", err.msg, yaml.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_STRING_EQUAL(back->description, m->description);
    CU_ASSERT_STRING_EQUAL(back->license, "1.0");
    CU_ASSERT_STRING_EQUAL(back->url, "null");
    CU_ASSERT_EQUAL_FATAL(back->n_keywords, m->n_keywords);
    for (size_t i = 0; i < m->n_keywords; i++)
        CU_ASSERT_STRING_EQUAL(back->keywords[i], kw[i]);
    hub_manifest_write_json(m, &json);
    hub_manifest *from_json = hub_manifest_parse_json(a, json.data, json.len, "config", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(from_json);
    hub_manifest_write_json(from_json, &again);
    CU_ASSERT_STRING_EQUAL(json.data, again.data);
    df_buf_free(&yaml);
    df_buf_free(&json);
    df_buf_free(&again);
    df_arena_free(a);
}

static void test_writing_is_deterministic_and_plain_where_safe(void)
{
    df_arena *a = df_arena_new(0);
    hub_manifest *m = parse(a, complete_text(a, "1.0", "linux-x86_64"), 1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    df_buf one = DF_BUF_INIT, two = DF_BUF_INIT;
    hub_manifest_write_yaml(m, &one);
    hub_manifest_write_yaml(m, &two);
    CU_ASSERT_STRING_EQUAL(one.data, two.data);
    CU_ASSERT_PTR_NOT_NULL(strstr(one.data, "\nversion: 1.0.0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one.data, "\nabi_version: \"1.0\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(one.data, "    endpoints: [/index]\n"));
    df_buf_free(&one);
    df_buf_free(&two);
    df_arena_free(a);
}

static void test_set_file_keeps_files_sorted_and_unique(void)
{
    df_arena *a = df_arena_new(0);
    hub_manifest *m = parse(a, "namespace: a\nname: b\nversion: 1.0.0\n", 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    hub_manifest_set_file(a, m, "lib/b.so", digest_a);
    hub_manifest_set_file(a, m, "config.yml", digest_a);
    hub_manifest_set_file(a, m, "lib/b.so", digest_b);
    CU_ASSERT_EQUAL(m->n_files, 2);
    CU_ASSERT_STRING_EQUAL(m->files[0].path, "config.yml");
    CU_ASSERT_STRING_EQUAL(hub_manifest_file(m, "lib/b.so")->digest, digest_b);
    df_arena_free(a);
}

static void test_host_check_refuses_newer_abi_with_both_numbers(void)
{
    df_arena *a = df_arena_new(0);
    char platform[128];
    hub_host_platform(platform, sizeof platform);
    df_error err = DF_ERROR_INIT;
    hub_manifest *ok = parse(a, complete_text(a, "1.0", platform), 1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    CU_ASSERT_EQUAL(hub_manifest_check_host(ok, "alice/echo:1.0.0", &err), DF_OK);
    char abi[16];
    snprintf(abi, sizeof abi, "%d.%d", DF_ABI_MAJOR, DF_ABI_MINOR + 1);
    hub_manifest *newer = parse(a, complete_text(a, abi, platform), 1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(newer);
    CU_ASSERT_EQUAL(hub_manifest_check_host(newer, "alice/echo:1.0.0", &err), DF_E_UNSUPPORTED);
    char host_abi[32];
    snprintf(host_abi, sizeof host_abi, "this docflow has ABI %d.%d", DF_ABI_MAJOR, DF_ABI_MINOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, abi));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, host_abi));
    hub_manifest *major = parse(a, complete_text(a, "2.0", platform), 1, NULL);
    CU_ASSERT_EQUAL(hub_manifest_check_host(major, "x", &err), DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "major"));
    hub_manifest *other = parse(a, complete_text(a, "1.0", "plan9-mips"), 1, NULL);
    CU_ASSERT_EQUAL(hub_manifest_check_host(other, "x", &err), DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "plan9-mips"));
    df_arena_free(a);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_manifest", NULL, NULL);
    CU_add_test(s, "source manifest needs only identity", test_source_manifest_needs_only_identity);
    CU_add_test(s, "errors name position and fix", test_errors_name_the_position_and_the_fix);
    CU_add_test(s, "unknown keys are warnings", test_unknown_keys_are_warnings_not_errors);
    CU_add_test(s, "complete manifest", test_complete_manifest_lists_config_and_library);
    CU_add_test(s, "file paths must be safe", test_file_paths_must_be_safe);
    CU_add_test(s, "round trip", test_yaml_and_json_round_trip_tricky_strings);
    CU_add_test(s, "deterministic writing", test_writing_is_deterministic_and_plain_where_safe);
    CU_add_test(s, "set_file", test_set_file_keeps_files_sorted_and_unique);
    CU_add_test(s, "host check", test_host_check_refuses_newer_abi_with_both_numbers);
}
