/*
 * test_hub_auth.c -- registry auth without a network: WWW-Authenticate
 * challenges, token answers, the per-scope token cache, base64, and
 * auth.json (mode 0600, atomic rewrite, other entries kept, keys by
 * host:port) under a temporary DOCFLOW_HOME.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub_auth.h"

static void test_hub_auth_bearer_challenge_with_scope_containing_commas(void)
{
    hub_auth_challenge c = {0};
    CU_ASSERT_EQUAL(hub_auth_challenge_parse(
                        "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                        "scope=\"repository:alice/echo:pull,push\"",
                        &c),
                    DF_OK);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_BEARER);
    CU_ASSERT_STRING_EQUAL(c.realm, "https://auth.example/token");
    CU_ASSERT_STRING_EQUAL(c.service, "registry.example");
    CU_ASSERT_STRING_EQUAL(c.scope, "repository:alice/echo:pull,push");
    CU_ASSERT_PTR_NULL(c.error);
    hub_auth_challenge_free(&c);
}

static void test_hub_auth_challenge_spacing_case_escapes_and_error(void)
{
    hub_auth_challenge c = {0};
    CU_ASSERT_EQUAL(hub_auth_challenge_parse("  bearer  Realm = \"http://127.0.0.1:9/t\" , "
                                             "error=\"insufficient_scope\", service=reg, "
                                             "scope=\"a \\\"q\\\"\"",
                                             &c),
                    DF_OK);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_BEARER);
    CU_ASSERT_STRING_EQUAL(c.realm, "http://127.0.0.1:9/t");
    CU_ASSERT_STRING_EQUAL(c.service, "reg");
    CU_ASSERT_STRING_EQUAL(c.error, "insufficient_scope");
    CU_ASSERT_STRING_EQUAL(c.scope, "a \"q\"");
    /* parsing again into the same struct frees the old values */
    CU_ASSERT_EQUAL(hub_auth_challenge_parse("Basic realm=\"docflow-hub\"", &c), DF_OK);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_BASIC);
    CU_ASSERT_STRING_EQUAL(c.realm, "docflow-hub");
    CU_ASSERT_PTR_NULL(c.service);
    hub_auth_challenge_free(&c);
}

static void test_hub_auth_first_of_several_challenges_wins(void)
{
    hub_auth_challenge c = {0};
    CU_ASSERT_EQUAL(hub_auth_challenge_parse(
                        "Bearer realm=\"https://a/t\", service=\"s\", Basic realm=\"b\"", &c),
                    DF_OK);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_BEARER);
    CU_ASSERT_STRING_EQUAL(c.realm, "https://a/t");
    CU_ASSERT_STRING_EQUAL(c.service, "s");
    CU_ASSERT_EQUAL(hub_auth_challenge_parse("Negotiate abc", &c), DF_OK);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_OTHER);
    CU_ASSERT_EQUAL(hub_auth_challenge_parse("", &c), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(c.scheme, HUB_AUTH_NONE);
    CU_ASSERT_EQUAL(hub_auth_challenge_parse(NULL, &c), DF_E_INVALID_INPUT);
    /* an unterminated quote ends at the end of the value */
    CU_ASSERT_EQUAL(hub_auth_challenge_parse("Bearer realm=\"https://a/t", &c), DF_OK);
    CU_ASSERT_STRING_EQUAL(c.realm, "https://a/t");
    hub_auth_challenge_free(&c);
}

static void test_hub_auth_token_answer(void)
{
    char *tok = NULL;
    long exp = 0;
    df_error err = DF_ERROR_INIT;
    const char *a = "{\"token\":\"T1\",\"access_token\":\"A1\",\"expires_in\":300}";
    CU_ASSERT_EQUAL(hub_auth_token_parse(a, strlen(a), &tok, &exp, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(tok, "T1");
    CU_ASSERT_EQUAL(exp, 300);
    free(tok);
    const char *b = "{\"access_token\":\"A2\"}";
    CU_ASSERT_EQUAL(hub_auth_token_parse(b, strlen(b), &tok, &exp, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(tok, "A2");
    CU_ASSERT_EQUAL(exp, 60);
    free(tok);
    const char *c = "{\"details\":\"no\"}";
    CU_ASSERT_EQUAL(hub_auth_token_parse(c, strlen(c), &tok, &exp, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NULL(tok);
    CU_ASSERT_EQUAL(hub_auth_token_parse("<html>", 6, &tok, &exp, &err), DF_E_INVALID_INPUT);
}

static void test_hub_auth_token_cache_by_scope_and_expiry(void)
{
    hub_auth_tokens *t = hub_auth_tokens_new();
    CU_ASSERT_PTR_NULL(hub_auth_tokens_find(t, "repository:a/b:pull", 0));
    hub_auth_tokens_put(t, "repository:a/b:pull", "P", 100);
    CU_ASSERT_STRING_EQUAL(hub_auth_tokens_find(t, "repository:a/b:pull", 50), "P");
    CU_ASSERT_PTR_NULL(hub_auth_tokens_find(t, "repository:a/b:pull", 100)); /* expired */
    CU_ASSERT_PTR_NULL(hub_auth_tokens_find(t, "repository:a/b:pull,push", 50));
    CU_ASSERT_PTR_NULL(hub_auth_tokens_find(t, "repository:a/c:pull", 50));
    hub_auth_tokens_put(t, "repository:a/c:pull,push", "PP", 100);
    /* a push token serves pulls of the same repository */
    CU_ASSERT_STRING_EQUAL(hub_auth_tokens_find(t, "repository:a/c:pull", 50), "PP");
    hub_auth_tokens_put(t, "repository:a/b:pull", "P2", 200);
    CU_ASSERT_STRING_EQUAL(hub_auth_tokens_find(t, "repository:a/b:pull", 150), "P2");
    hub_auth_tokens_put(t, "", "ROOT", 10);
    CU_ASSERT_STRING_EQUAL(hub_auth_tokens_find(t, "", 5), "ROOT");
    hub_auth_tokens_free(t);
}

static void test_hub_auth_base64_round_trip(void)
{
    const char *pairs[] = {"", "a", "ab", "abc", "alice:s3cret", "bob:pa:ss:word"};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *enc = hub_auth_base64_encode(pairs[i], strlen(pairs[i]));
        char *dec = NULL;
        size_t n = 0;
        CU_ASSERT_EQUAL(hub_auth_base64_decode(enc, &dec, &n), 0);
        CU_ASSERT_EQUAL(n, strlen(pairs[i]));
        CU_ASSERT_STRING_EQUAL(dec, pairs[i]);
        free(enc);
        free(dec);
    }
    char *enc = hub_auth_base64_encode("alice:s3cret", 12);
    CU_ASSERT_STRING_EQUAL(enc, "YWxpY2U6czNjcmV0");
    free(enc);
    char *dec = NULL;
    size_t n;
    CU_ASSERT_EQUAL(hub_auth_base64_decode("abc", &dec, &n), -1);
    CU_ASSERT_EQUAL(hub_auth_base64_decode("ab!d", &dec, &n), -1);
}

/* ---------------------------------------------------------------- auth.json */

static char home[256];

static int auth_suite_init(void)
{
    snprintf(home, sizeof home, "/tmp/test_hub_auth.XXXXXX");
    if (!mkdtemp(home)) return 1;
    strcat(home, "/home"); /* does not exist yet: store creates it */
    return setenv("DOCFLOW_HOME", home, 1);
}

static int auth_suite_clean(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(home) - 5), home);
    return system(cmd) == 0 ? 0 : 1;
}

static char *read_auth_file(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/auth.json", home);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_hub_auth_store_creates_private_file_and_dir(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(hub_auth_store("http://127.0.0.1:5000", "alice", "s3cret", &err), DF_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/auth.json", home);
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
    CU_ASSERT_EQUAL_FATAL(stat(home, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
    char *text = read_auth_file();
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"127.0.0.1:5000\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "YWxpY2U6czNjcmV0"));
    CU_ASSERT_PTR_NULL(strstr(text, "s3cret"));
    df_buf p = DF_BUF_INIT;
    CU_ASSERT_EQUAL(hub_auth_file_path(&p, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(p.data, path);
    df_buf_free(&p);
}

static void test_hub_auth_lookup_by_any_spelling_of_the_registry(void)
{
    df_error err = DF_ERROR_INIT;
    const char *spellings[] = {"http://127.0.0.1:5000", "http://127.0.0.1:5000/", "127.0.0.1:5000",
                               "https://127.0.0.1:5000"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char *u = NULL, *p = NULL;
        int found = 0;
        CU_ASSERT_EQUAL(hub_auth_lookup(spellings[i], &u, &p, &found, &err), DF_OK);
        CU_ASSERT_EQUAL(found, 1);
        if (found) {
            CU_ASSERT_STRING_EQUAL(u, "alice");
            CU_ASSERT_STRING_EQUAL(p, "s3cret");
        }
        free(u);
        free(p);
    }
    char *u = NULL, *p = NULL;
    int found = 1;
    CU_ASSERT_EQUAL(hub_auth_lookup("http://127.0.0.1:5001", &u, &p, &found, &err), DF_OK);
    CU_ASSERT_EQUAL(found, 0);
    CU_ASSERT_PTR_NULL(u);
}

static void test_hub_auth_second_registry_keeps_the_first_and_replace_works(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(hub_auth_store("https://registry.example", "bob", "pa:ss", &err), DF_OK);
    CU_ASSERT_EQUAL(hub_auth_store("http://127.0.0.1:5000", "alice", "new", &err), DF_OK);
    char *u = NULL, *p = NULL;
    int found = 0;
    CU_ASSERT_EQUAL(hub_auth_lookup("registry.example", &u, &p, &found, &err), DF_OK);
    CU_ASSERT(found && !strcmp(u, "bob") && !strcmp(p, "pa:ss"));
    free(u);
    free(p);
    CU_ASSERT_EQUAL(hub_auth_lookup("127.0.0.1:5000", &u, &p, &found, &err), DF_OK);
    CU_ASSERT(found && !strcmp(p, "new"));
    free(u);
    free(p);
    CU_ASSERT_EQUAL(hub_auth_store("http://127.0.0.1:5000", "al:ice", "x", &err),
                    DF_E_INVALID_INPUT);
}

static void test_hub_auth_remove_then_remove_again_is_not_found(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(hub_auth_remove("http://127.0.0.1:5000/", &err), DF_OK);
    char *u = NULL, *p = NULL;
    int found = 1;
    CU_ASSERT_EQUAL(hub_auth_lookup("127.0.0.1:5000", &u, &p, &found, &err), DF_OK);
    CU_ASSERT_EQUAL(found, 0);
    CU_ASSERT_EQUAL(hub_auth_remove("http://127.0.0.1:5000", &err), DF_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not logged in to http://127.0.0.1:5000"));
    CU_ASSERT_EQUAL(hub_auth_lookup("registry.example", &u, &p, &found, &err), DF_OK);
    CU_ASSERT_EQUAL(found, 1);
    free(u);
    free(p);
}

static void test_hub_auth_malformed_file_is_reported_and_not_overwritten(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/auth.json", home);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"auths\": {oops", f);
    fclose(f);
    df_error err = DF_ERROR_INIT;
    char *u = NULL, *p = NULL;
    int found = 0;
    CU_ASSERT_EQUAL(hub_auth_lookup("127.0.0.1:5000", &u, &p, &found, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "auth.json"));
    CU_ASSERT_EQUAL(hub_auth_store("http://127.0.0.1:5000", "alice", "s3cret", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(read_auth_file(), "{\"auths\": {oops");
    /* Docker's plain username/password fields are read too */
    f = fopen(path, "w");
    fputs("{\"auths\":{\"127.0.0.1:5000\":{\"username\":\"carol\",\"password\":\"pw\"}}}", f);
    fclose(f);
    CU_ASSERT_EQUAL(hub_auth_lookup("127.0.0.1:5000", &u, &p, &found, &err), DF_OK);
    CU_ASSERT(found && !strcmp(u, "carol") && !strcmp(p, "pw"));
    free(u);
    free(p);
    unlink(path);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_auth", NULL, NULL);
    CU_add_test(s, "bearer challenge", test_hub_auth_bearer_challenge_with_scope_containing_commas);
    CU_add_test(s, "challenge syntax", test_hub_auth_challenge_spacing_case_escapes_and_error);
    CU_add_test(s, "several challenges", test_hub_auth_first_of_several_challenges_wins);
    CU_add_test(s, "token answer", test_hub_auth_token_answer);
    CU_add_test(s, "token cache", test_hub_auth_token_cache_by_scope_and_expiry);
    CU_add_test(s, "base64", test_hub_auth_base64_round_trip);
    CU_pSuite f = CU_add_suite("hub_auth_file", auth_suite_init, auth_suite_clean);
    CU_add_test(f, "store", test_hub_auth_store_creates_private_file_and_dir);
    CU_add_test(f, "lookup", test_hub_auth_lookup_by_any_spelling_of_the_registry);
    CU_add_test(f, "second registry",
                test_hub_auth_second_registry_keeps_the_first_and_replace_works);
    CU_add_test(f, "remove", test_hub_auth_remove_then_remove_again_is_not_found);
    CU_add_test(f, "malformed", test_hub_auth_malformed_file_is_reported_and_not_overwritten);
}
