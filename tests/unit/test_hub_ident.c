/*
 * test_hub_ident.c -- package identifiers, semantic versions, version specs
 * (exact, prefix, latest; pre-releases only when asked) and OCI tags.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "hub_ident.h"

static int semver_ok(const char *s)
{
    hub_semver v;
    return hub_semver_parse(s, &v, NULL) == DF_OK;
}

static int cmp(const char *a, const char *b)
{
    hub_semver x, y;
    CU_ASSERT_FATAL(semver_ok(a) && semver_ok(b));
    hub_semver_parse(a, &x, NULL);
    hub_semver_parse(b, &y, NULL);
    return hub_semver_compare(&x, &y);
}

static void test_semver_parses_the_valid_forms_of_semver_2(void)
{
    static const char *good[] = {"0.0.0",
                                 "1.2.3",
                                 "10.20.30",
                                 "1.0.0-alpha",
                                 "1.0.0-alpha.1",
                                 "1.0.0-0.3.7",
                                 "1.0.0-x.7.z.92",
                                 "1.0.0-x-y-z.--",
                                 "1.0.0+20130313144700",
                                 "1.0.0-beta+exp.sha.5114f85",
                                 "1.0.0+21AF26D3----117B344092BD",
                                 "1.0.0+001"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT(semver_ok(good[i]));
    hub_semver v;
    CU_ASSERT_EQUAL(hub_semver_parse("1.0.0-rc.1+b.5", &v, NULL), DF_OK);
    CU_ASSERT_EQUAL(v.major, 1);
    CU_ASSERT_STRING_EQUAL(v.pre, "rc.1");
    CU_ASSERT_STRING_EQUAL(v.build, "b.5");
    char buf[64];
    hub_semver_format(&v, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1.0.0-rc.1+b.5");
}

static void test_semver_refuses_invalid_versions_with_the_reason(void)
{
    static const char *bad[] = {"",
                                "1",
                                "1.2",
                                "1.2.3.4",
                                "01.2.3",
                                "1.02.3",
                                "1.2.03",
                                "1.2.3-",
                                "1.2.3+",
                                "1.2.3-01",
                                "1.2.3-a..b",
                                "1.2.3-a_b",
                                "v1.2.3",
                                "1.2.3 ",
                                "-1.2.3",
                                "1.2.x",
                                "99999999999999999999.0.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT(!semver_ok(bad[i]));
    hub_semver v;
    df_error err = DF_ERROR_INIT;
    hub_semver_parse("1.02.3", &v, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "leading zero"));
    hub_semver_parse("v1.2.3", &v, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "drop the leading 'v'"));
}

static void test_semver_precedence_follows_the_spec_example(void)
{
    static const char *order[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                  "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
                                  "1.0.1",        "1.2.0",         "1.10.0",           "2.0.0"};
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i + 1 < n; i++) {
        CU_ASSERT(cmp(order[i], order[i + 1]) < 0);
        CU_ASSERT(cmp(order[i + 1], order[i]) > 0);
    }
    CU_ASSERT_EQUAL(cmp("1.0.0+a", "1.0.0+b"), 0); /* build metadata has no precedence */
    hub_semver a, b;
    hub_semver_parse("1.0.0+a", &a, NULL);
    hub_semver_parse("1.0.0+b", &b, NULL);
    CU_ASSERT(hub_semver_order(&a, &b) < 0); /* ...but sorting is total */
}

static long pick(const char *spec_text, int pre, const char *const *versions, size_t n)
{
    hub_version_spec spec;
    CU_ASSERT_EQUAL_FATAL(hub_version_spec_parse(spec_text, &spec, NULL), DF_OK);
    return hub_version_pick(&spec, pre, versions, n);
}

static const char *const stored[] = {"1.0.0",      "1.2.0", "1.9.3",      "1.10.0",
                                     "2.0.0-rc.1", "0.9.0", "not-semver", "1.10.1-beta"};
#define N_STORED (sizeof stored / sizeof stored[0])

static void test_prefix_picks_the_newest_release_of_that_major_or_minor(void)
{
    CU_ASSERT_EQUAL(pick("1", 0, stored, N_STORED), 3);   /* 1.10.0: numeric, not 1.9.3 */
    CU_ASSERT_EQUAL(pick("1.2", 0, stored, N_STORED), 1); /* 1.2.0 */
    CU_ASSERT_EQUAL(pick("1.9", 0, stored, N_STORED), 2);
    CU_ASSERT_EQUAL(pick("0", 0, stored, N_STORED), 5);
    CU_ASSERT_EQUAL(pick("3", 0, stored, N_STORED), -1);
    CU_ASSERT_EQUAL(pick("1.0.0", 0, stored, N_STORED), 0);
}

static void test_latest_and_no_version_pick_the_newest_release(void)
{
    CU_ASSERT_EQUAL(pick("latest", 0, stored, N_STORED), 3);
    CU_ASSERT_EQUAL(pick("", 0, stored, N_STORED), 3);
    CU_ASSERT_EQUAL(pick(NULL, 0, stored, N_STORED), 3);
}

static void test_prereleases_match_only_when_asked(void)
{
    CU_ASSERT_EQUAL(pick("2", 0, stored, N_STORED), -1);
    CU_ASSERT_EQUAL(pick("2", 1, stored, N_STORED), 4);
    CU_ASSERT_EQUAL(pick("latest", 1, stored, N_STORED), 4);
    CU_ASSERT_EQUAL(pick("1.10", 1, stored, N_STORED), 7);       /* 1.10.1-beta > 1.10.0 */
    CU_ASSERT_EQUAL(pick("2.0.0-rc.1", 0, stored, N_STORED), 4); /* named: asked for */
}

static void test_exact_version_without_build_matches_any_build(void)
{
    static const char *const builds[] = {"1.0.0+b1", "1.0.0+b2", "1.0.1"};
    CU_ASSERT_EQUAL(pick("1.0.0", 0, builds, 3), 1);
    CU_ASSERT_EQUAL(pick("1.0.0+b1", 0, builds, 3), 0);
    CU_ASSERT_EQUAL(pick("1.0.0+b3", 0, builds, 3), -1);
}

static void test_version_specs_refuse_garbage(void)
{
    hub_version_spec spec;
    static const char *bad[] = {"x", "1.x", "01", "1.2.", "1..2", "^1.2", "1.2.3-", "latest2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_NOT_EQUAL(hub_version_spec_parse(bad[i], &spec, NULL), DF_OK);
}

static void test_ident_parses_namespace_name_version_and_digest(void)
{
    hub_ident id;
    CU_ASSERT_EQUAL_FATAL(hub_ident_parse("alice/my-encoder:0.1", &id, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(id.registry, "");
    CU_ASSERT_STRING_EQUAL(id.ns, "alice");
    CU_ASSERT_STRING_EQUAL(id.name, "my-encoder");
    CU_ASSERT_EQUAL(id.version.kind, HUB_VERSION_PREFIX);
    CU_ASSERT_EQUAL(id.version.parts, 2);
    const char *digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char text[256];
    snprintf(text, sizeof text, "a.b/c_d:1.2.3-rc.1+b5@%s", digest);
    CU_ASSERT_EQUAL_FATAL(hub_ident_parse(text, &id, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(id.ns, "a.b");
    CU_ASSERT_EQUAL(id.version.kind, HUB_VERSION_EXACT);
    CU_ASSERT_STRING_EQUAL(id.digest, digest);
    char back[256];
    hub_ident_format(&id, back, sizeof back);
    CU_ASSERT_STRING_EQUAL(back, text);
    CU_ASSERT_EQUAL(hub_ident_parse("alice/echo", &id, NULL), DF_OK);
    CU_ASSERT_EQUAL(id.version.kind, HUB_VERSION_NONE);
}

static void test_ident_recognises_a_registry_host(void)
{
    hub_ident id;
    CU_ASSERT_EQUAL_FATAL(hub_ident_parse("localhost:5000/alice/echo:1", &id, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(id.registry, "localhost:5000");
    CU_ASSERT_STRING_EQUAL(id.ns, "alice");
    CU_ASSERT_STRING_EQUAL(id.version.text, "1");
    CU_ASSERT_EQUAL_FATAL(hub_ident_parse("registry.example.com/alice/echo", &id, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(id.registry, "registry.example.com");
    CU_ASSERT_EQUAL(hub_ident_parse("localhost/alice/echo", &id, NULL), DF_OK);
    char url[300];
    hub_registry_url_for_host("localhost:5000", url, sizeof url);
    CU_ASSERT_STRING_EQUAL(url, "http://localhost:5000");
    hub_registry_url_for_host("127.0.0.1:5000", url, sizeof url);
    CU_ASSERT_STRING_EQUAL(url, "http://127.0.0.1:5000");
    hub_registry_url_for_host("registry.example.com", url, sizeof url);
    CU_ASSERT_STRING_EQUAL(url, "https://registry.example.com");
}

/* Every refusal names the identifier, says why, and shows the grammar. */
static void expect_bad(const char *text, const char *why)
{
    hub_ident id;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(hub_ident_parse(text, &id, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[registry/]namespace/name[:version][@sha256:digest]"));
    if (!strstr(err.msg, why)) fprintf(stderr, "\n  '%s' -> %s\n", text, err.msg);
}

static void test_ident_refuses_bad_identifiers_with_the_grammar(void)
{
    expect_bad("Alice/echo", "must be lowercase (try 'alice')");
    expect_bad("alice/Echo", "must be lowercase");
    expect_bad("echo", "a namespace is required");
    expect_bad("a/b/c", "not a registry host");
    expect_bad("x.io/a/b/c", "too many");
    expect_bad("alice/echo:", "the version after ':' is empty");
    expect_bad("alice/echo:v1", "not a number");
    expect_bad("alice/echo:1.2.3.4", "not a number");
    expect_bad("alice/echo@sha256:abc", "64 lowercase hex");
    expect_bad("alice/ec--ho", "single '.', '_' or '-'");
    expect_bad("alice/echo-", "single '.', '_' or '-'");
    expect_bad("alice/ echo", "spaces or control characters");
    expect_bad("/echo", "the namespace is empty");
    expect_bad("", "it is empty");
    expect_bad("localhost:99999/a/b", "not a host[:port]");
}

static void test_names_follow_the_component_grammar(void)
{
    CU_ASSERT(hub_name_valid("a"));
    CU_ASSERT(hub_name_valid("my-encoder.v2_x"));
    CU_ASSERT(!hub_name_valid(""));
    CU_ASSERT(!hub_name_valid("-a"));
    CU_ASSERT(!hub_name_valid("a..b"));
    CU_ASSERT(!hub_name_valid("a/b"));
    char long_name[80];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CU_ASSERT(!hub_name_valid(long_name));
    long_name[HUB_COMPONENT_MAX] = '\0';
    CU_ASSERT(hub_name_valid(long_name));
}

static void test_tags_map_build_metadata_plus_to_underscore_and_back(void)
{
    char tag[HUB_VERSION_MAX + 1], version[HUB_VERSION_MAX + 1];
    CU_ASSERT_EQUAL(hub_version_to_tag("1.2.3-rc.1+b.5", tag, sizeof tag, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(tag, "1.2.3-rc.1_b.5");
    CU_ASSERT_EQUAL(hub_tag_to_version(tag, version, sizeof version), DF_OK);
    CU_ASSERT_STRING_EQUAL(version, "1.2.3-rc.1+b.5");
    CU_ASSERT_NOT_EQUAL(hub_tag_to_version("latest", version, sizeof version), DF_OK);
    CU_ASSERT_NOT_EQUAL(hub_tag_to_version("1", version, sizeof version), DF_OK);
    CU_ASSERT_NOT_EQUAL(hub_version_to_tag("1.2", tag, sizeof tag, NULL), DF_OK);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_ident", NULL, NULL);
    CU_add_test(s, "semver parses the valid forms", test_semver_parses_the_valid_forms_of_semver_2);
    CU_add_test(s, "semver refuses invalid versions",
                test_semver_refuses_invalid_versions_with_the_reason);
    CU_add_test(s, "semver precedence", test_semver_precedence_follows_the_spec_example);
    CU_add_test(s, "prefix picks the newest",
                test_prefix_picks_the_newest_release_of_that_major_or_minor);
    CU_add_test(s, "latest picks the newest release",
                test_latest_and_no_version_pick_the_newest_release);
    CU_add_test(s, "pre-releases only when asked", test_prereleases_match_only_when_asked);
    CU_add_test(s, "exact without build", test_exact_version_without_build_matches_any_build);
    CU_add_test(s, "version specs refuse garbage", test_version_specs_refuse_garbage);
    CU_add_test(s, "ident parses", test_ident_parses_namespace_name_version_and_digest);
    CU_add_test(s, "ident registry host", test_ident_recognises_a_registry_host);
    CU_add_test(s, "bad identifiers", test_ident_refuses_bad_identifiers_with_the_grammar);
    CU_add_test(s, "component grammar", test_names_follow_the_component_grammar);
    CU_add_test(s, "tags", test_tags_map_build_metadata_plus_to_underscore_and_back);
}
