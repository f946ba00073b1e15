/*
 * test_hub_registry.c -- the registry client's pure rules, no network: the
 * plain-http policy and loopback hosts, registry URL normal form, upload
 * Locations (relative, or already carrying ?_state=) joined with &digest=,
 * Link rel="next", OCI name/tag grammar and the registry's error bodies.
 * Requests against a real registry are tests/integration/test_hub_registry.sh.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "hub_registry_parse.h"

static void test_hub_loopback_hosts_are_localhost_127_8_and_ipv6_one(void)
{
    const char *yes[] = {"localhost",       "LocalHost", "127.0.0.1", "127.1.2.3",
                         "127.255.255.255", "::1",       "[::1]",     "[0:0:0:0:0:0:0:1]"};
    const char *no[] = {"",
                        "128.0.0.1",
                        "10.0.0.1",
                        "0.0.0.0",
                        "localhost.example.com",
                        "127.0.0.1.nip.io",
                        "[::2]",
                        "::",
                        "registry.example",
                        "127.0.0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CU_ASSERT(hub_url_host_is_loopback(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CU_ASSERT(!hub_url_host_is_loopback(no[i]));
    CU_ASSERT(!hub_url_host_is_loopback(NULL));
}

/* normalize(url, insecure) == want, or refused when want is NULL */
static void expect_normal(const char *url, int insecure, const char *want)
{
    char *base = NULL;
    df_error err = DF_ERROR_INIT;
    int rc = hub_url_normalize_registry(url, insecure, &base, &err);
    if (want) {
        CU_ASSERT_EQUAL(rc, DF_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(base);
        CU_ASSERT_STRING_EQUAL(base, want);
    } else {
        CU_ASSERT_EQUAL(rc, DF_E_INVALID_INPUT);
        CU_ASSERT_PTR_NULL(base);
        CU_ASSERT(err.msg[0] != '\0');
    }
    free(base);
}

static void test_hub_registry_url_normal_form(void)
{
    expect_normal("http://127.0.0.1:5000", 0, "http://127.0.0.1:5000");
    expect_normal("http://127.0.0.1:5000/", 0, "http://127.0.0.1:5000");
    expect_normal("HTTP://LocalHost:5000/v2/", 0, "http://localhost:5000");
    expect_normal("http://[::1]:5000", 0, "http://[::1]:5000");
    expect_normal("https://registry.example:443/", 0, "https://registry.example");
    expect_normal("https://registry.example:5443", 0, "https://registry.example:5443");
    expect_normal("http://127.0.0.1:80", 0, "http://127.0.0.1");
    /* libcurl's numeric IPv4 forms are loopback too, and normalized */
    expect_normal("http://127.1:5000", 0, "http://127.0.0.1:5000");
    expect_normal("http://0x7f.1", 0, "http://127.0.0.1");
}

static void test_hub_registry_url_refuses_escaped_and_non_ascii_hosts(void)
{
    /* curl would decode %33 to '3': the normal form must be a fixed point */
    expect_normal("https://%33733233", 1, NULL);
    expect_normal("http://127.0.0.%31:5000", 0, NULL);
    expect_normal("https://\xc3\x9cn\xc3\xaf.example", 0, NULL);
    expect_normal("https://xn--n-dha0b.example", 0, "https://xn--n-dha0b.example");
}

static void test_hub_registry_url_without_scheme_is_http_on_loopback_https_elsewhere(void)
{
    expect_normal("127.0.0.1:5000", 0, "http://127.0.0.1:5000");
    expect_normal("localhost:5000", 0, "http://localhost:5000");
    expect_normal("registry.example", 0, "https://registry.example");
    expect_normal("registry.example:5000", 0, "https://registry.example:5000");
}

static void test_hub_registry_url_refuses_plain_http_off_loopback_unless_insecure(void)
{
    df_error err = DF_ERROR_INIT;
    char *base = NULL;
    CU_ASSERT_EQUAL(hub_url_normalize_registry("http://registry.example:5000", 0, &base, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "plain http to registry.example is refused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--insecure"));
    expect_normal("http://registry.example:5000", 1, "http://registry.example:5000");
    expect_normal("http://10.1.2.3:5000", 0, NULL);
}

static void test_hub_registry_url_refuses_credentials_paths_and_other_schemes(void)
{
    expect_normal("", 0, NULL);
    expect_normal(NULL, 0, NULL);
    expect_normal("ftp://127.0.0.1", 0, NULL);
    expect_normal("http://alice:s3cret@127.0.0.1:5000", 0, NULL);
    expect_normal("https://registry.example/some/prefix", 0, NULL);
    expect_normal("https://registry.example/?x=1", 0, NULL);
    expect_normal("https://registry.example/#frag", 0, NULL);
    df_error err = DF_ERROR_INIT;
    char *base = NULL;
    hub_url_normalize_registry("http://alice:pw@127.0.0.1:5000", 0, &base, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "docflow-hub login"));
}

static void test_hub_policy_applies_to_locations_and_realms(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(hub_url_check_policy("https://s3.example/bucket/x?sig=1", 0, "redirect", &err),
                    DF_OK);
    CU_ASSERT_EQUAL(hub_url_check_policy("http://127.0.0.1:5000/v2/a/b/blobs/uploads/u", 0,
                                         "upload Location", &err),
                    DF_OK);
    CU_ASSERT_EQUAL(hub_url_check_policy("http://storage.example/x", 0, "upload Location", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "upload Location: plain http to storage.example"));
    CU_ASSERT_EQUAL(hub_url_check_policy("http://storage.example/x", 1, "upload Location", &err),
                    DF_OK);
    CU_ASSERT_EQUAL(hub_url_check_policy("file:///etc/passwd", 1, "token server", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(hub_url_check_policy("not a url", 1, "token server", &err), DF_E_INVALID_INPUT);
}

static void test_hub_same_origin_compares_scheme_host_and_port(void)
{
    CU_ASSERT(hub_url_same_origin("http://127.0.0.1:5000/v2/a/b/blobs/uploads/x?_state=1",
                                  "http://127.0.0.1:5000"));
    CU_ASSERT(hub_url_same_origin("https://registry.example/v2/", "https://registry.example:443"));
    CU_ASSERT(hub_url_same_origin("http://LOCALHOST:5000/", "http://localhost:5000"));
    CU_ASSERT(!hub_url_same_origin("http://127.0.0.1:5001/v2/", "http://127.0.0.1:5000"));
    CU_ASSERT(!hub_url_same_origin("https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000"));
    CU_ASSERT(!hub_url_same_origin("https://s3.example/x", "https://registry.example"));
    CU_ASSERT(!hub_url_same_origin("garbage", "https://registry.example"));
}

static void expect_resolved(const char *base, const char *ref, const char *want)
{
    char *got = hub_url_resolve(base, ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static void test_hub_location_relative_or_absolute_resolves_against_the_request(void)
{
    const char *post = "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/";
    /* relativeurls: true */
    expect_resolved(
        post, "/v2/alice/echo/blobs/uploads/3f2a?_state=eyJhIjoxfQ%3D%3D",
        "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/3f2a?_state=eyJhIjoxfQ%3D%3D");
    /* the default: absolute, kept byte for byte */
    expect_resolved(post, "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/3f2a?_state=a_b-c%3D",
                    "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/3f2a?_state=a_b-c%3D");
    expect_resolved(post, "3f2a?x=1", "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/3f2a?x=1");
    expect_resolved("https://registry.example/v2/a/b/blobs/sha256:00", "https://s3.example/o?sig=x",
                    "https://s3.example/o?sig=x");
}

static void expect_appended(const char *url, const char *param, const char *want)
{
    char *got = hub_url_append_query(url, param);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static void test_hub_digest_is_appended_with_ampersand_to_a_location_with_a_query(void)
{
    const char *d =
        "digest=sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    expect_appended("http://h/v2/a/b/blobs/uploads/u?_state=xyz", d,
                    "http://h/v2/a/b/blobs/uploads/u?_state=xyz&digest=sha256:"
                    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");
    expect_appended("http://h/u", "digest=x", "http://h/u?digest=x");
    expect_appended("http://h/u?", "digest=x", "http://h/u?digest=x");
    expect_appended("http://h/u?a=1&", "digest=x", "http://h/u?a=1&digest=x");
    expect_appended("http://h/u?a=1#frag", "digest=x", "http://h/u?a=1&digest=x");
    expect_appended("http://h/u#frag?no", "digest=x", "http://h/u?digest=x");
}

static void test_hub_location_join_relative_with_state_then_digest(void)
{
    char *loc = hub_url_resolve("http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/",
                                "/v2/alice/echo/blobs/uploads/u1?_state=s%2Bt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(loc);
    char *put = hub_url_append_query(loc, "digest=sha256:ab");
    CU_ASSERT_STRING_EQUAL(put, "http://127.0.0.1:5000/v2/alice/echo/blobs/uploads/u1?_state=s%2Bt"
                                "&digest=sha256:ab");
    free(put);
    free(loc);
}

static void expect_next(const char *link, const char *want)
{
    char *got = hub_link_next(link);
    if (!want) {
        CU_ASSERT_PTR_NULL(got);
    } else {
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, want);
    }
    free(got);
}

static void test_hub_link_header_next_page(void)
{
    expect_next("</v2/alice/echo/tags/list?last=1.0.0&n=2>; rel=\"next\"",
                "/v2/alice/echo/tags/list?last=1.0.0&n=2");
    expect_next("<https://r.example/v2/x/tags/list?last=b>; rel=next",
                "https://r.example/v2/x/tags/list?last=b");
    expect_next("</p1>; rel=\"prev\", </p3>; rel=\"next\"", "/p3");
    expect_next("</p3>; title=\"a, b; c\"; REL=\"Next\"", "/p3");
    expect_next("</p4>;rel=\"next last\"", "/p4");
    expect_next("</p1>; rel=\"prev\"", NULL);
    expect_next("</p1>; rel=\"nextish\"", NULL);
    expect_next("", NULL);
    expect_next(NULL, NULL);
    expect_next("garbage", NULL);
    expect_next("</unterminated; rel=\"next\"", NULL);
}

static void test_hub_oci_repository_names(void)
{
    const char *ok[] = {"alice/echo", "a/b/c", "alice/my-encoder", "a0/b.c_d__e---f", "x"};
    const char *bad[] = {"",
                         "Alice/echo",
                         "alice/Echo",
                         "alice//echo",
                         "/alice",
                         "alice/",
                         "alice/echo-",
                         "alice/.echo",
                         "alice/a___b",
                         "alice/a..b",
                         "alice/e cho",
                         "alice/echo:1"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CU_ASSERT(hub_oci_repo_valid(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT(!hub_oci_repo_valid(bad[i]));
    CU_ASSERT(!hub_oci_repo_valid(NULL));
    char long_name[300];
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    CU_ASSERT(!hub_oci_repo_valid(long_name));
    long_name[255] = '\0';
    CU_ASSERT(hub_oci_repo_valid(long_name));
}

static void test_hub_oci_tags_refuse_build_metadata_and_leading_dot(void)
{
    const char *ok[] = {"1.0.0", "1.0.0-rc.1", "latest", "v1", "_x", "1.2.3_build.5", "A"};
    const char *bad[] = {"", "1.0.0+build", ".hidden", "-x", "a/b", "a:b", "sha256:ab"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CU_ASSERT(hub_oci_tag_valid(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT(!hub_oci_tag_valid(bad[i]));
    char tag[200];
    memset(tag, 't', 129);
    tag[129] = '\0';
    CU_ASSERT(!hub_oci_tag_valid(tag));
    tag[128] = '\0';
    CU_ASSERT(hub_oci_tag_valid(tag));
}

static void test_hub_registry_error_body_first_error(void)
{
    char code[32], msg[64];
    const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                       "unknown\",\"detail\":{\"Tag\":\"9\"}},{\"code\":\"OTHER\"}]}\n";
    CU_ASSERT(hub_registry_error_parse(body, strlen(body), code, sizeof code, msg, sizeof msg));
    CU_ASSERT_STRING_EQUAL(code, "MANIFEST_UNKNOWN");
    CU_ASSERT_STRING_EQUAL(msg, "manifest unknown");
    CU_ASSERT(
        !hub_registry_error_parse("404 page not found\n", 19, code, sizeof code, msg, sizeof msg));
    CU_ASSERT_STRING_EQUAL(code, "");
    CU_ASSERT_STRING_EQUAL(msg, "");
    CU_ASSERT(!hub_registry_error_parse("{\"errors\":[]}", 13, code, sizeof code, msg, sizeof msg));
    CU_ASSERT(!hub_registry_error_parse(NULL, 0, code, sizeof code, msg, sizeof msg));
    /* truncation is safe */
    char small[5];
    CU_ASSERT(hub_registry_error_parse(body, strlen(body), small, sizeof small, msg, sizeof msg));
    CU_ASSERT_STRING_EQUAL(small, "MANI");
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_registry", NULL, NULL);
    CU_add_test(s, "loopback hosts", test_hub_loopback_hosts_are_localhost_127_8_and_ipv6_one);
    CU_add_test(s, "registry URL normal form", test_hub_registry_url_normal_form);
    CU_add_test(s, "escaped and non-ASCII hosts",
                test_hub_registry_url_refuses_escaped_and_non_ascii_hosts);
    CU_add_test(s, "URL without scheme",
                test_hub_registry_url_without_scheme_is_http_on_loopback_https_elsewhere);
    CU_add_test(s, "plain http policy",
                test_hub_registry_url_refuses_plain_http_off_loopback_unless_insecure);
    CU_add_test(s, "refused URLs",
                test_hub_registry_url_refuses_credentials_paths_and_other_schemes);
    CU_add_test(s, "policy on Locations and realms",
                test_hub_policy_applies_to_locations_and_realms);
    CU_add_test(s, "same origin", test_hub_same_origin_compares_scheme_host_and_port);
    CU_add_test(s, "Location resolution",
                test_hub_location_relative_or_absolute_resolves_against_the_request);
    CU_add_test(s, "digest appended with &",
                test_hub_digest_is_appended_with_ampersand_to_a_location_with_a_query);
    CU_add_test(s, "Location join", test_hub_location_join_relative_with_state_then_digest);
    CU_add_test(s, "Link next", test_hub_link_header_next_page);
    CU_add_test(s, "repository names", test_hub_oci_repository_names);
    CU_add_test(s, "tags", test_hub_oci_tags_refuse_build_metadata_and_leading_dot);
    CU_add_test(s, "error body", test_hub_registry_error_body_first_error);
}
