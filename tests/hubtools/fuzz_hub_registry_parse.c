/*
 * fuzz_hub_registry_parse.c -- libFuzzer target for everything the registry
 * client parses from a server it does not trust: WWW-Authenticate
 * challenges, Link headers, JSON error bodies, token answers, Locations
 * (resolved and given a digest), registry URLs, names, tags and base64.
 * Every input goes through every parser. Beyond "no crash, no leak, no UB":
 *   - a Link target is a substring of the header it came from;
 *   - a parsed challenge has a scheme, and its strings are NUL-terminated C
 *     strings no longer than the input;
 *   - a registry URL that normalizes, normalizes again to itself;
 *   - base64 of the input decodes back to the input.
 *
 * Without libFuzzer it is linked with tests/fuzz/fuzz_driver.c and ctest
 * replays tests/hubtools/corpus (see CMakeLists.txt here).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_auth.h"
#include "hub_registry_parse.h"

static void check(int ok, const char *what)
{
    if (ok) return;
    fprintf(stderr, "fuzz_hub_registry_parse: %s\n", what);
    abort();
}

static void fuzz_challenge(const char *s, size_t len)
{
    hub_auth_challenge c = {0};
    if (hub_auth_challenge_parse(s, &c) == DF_OK) {
        check(c.scheme != HUB_AUTH_NONE, "a parsed challenge has a scheme");
        const char *fields[] = {c.realm, c.service, c.scope, c.error};
        for (size_t i = 0; i < 4; i++)
            check(!fields[i] || strlen(fields[i]) <= len, "challenge field longer than input");
    }
    hub_auth_challenge_free(&c);
}

static void fuzz_link(const char *s)
{
    char *next = hub_link_next(s);
    check(!next || strstr(s, next) != NULL, "Link target not in the header");
    free(next);
}

static void fuzz_bodies(const char *s, size_t len)
{
    char code[32], message[64];
    hub_registry_error_parse(s, len, code, sizeof code, message, sizeof message);
    check(strlen(code) < sizeof code && strlen(message) < sizeof message, "error fields overflow");
    char *token = NULL;
    long expires = 0;
    df_error err = DF_ERROR_INIT;
    if (hub_auth_token_parse(s, len, &token, &expires, &err) == DF_OK)
        check(token && *token && expires > 0, "token answer without token or expiry");
    free(token);
}

static void fuzz_urls(const char *s)
{
    char *base = NULL;
    df_error err = DF_ERROR_INIT;
    if (hub_url_normalize_registry(s, 1, &base, &err) == DF_OK) {
        char *again = NULL;
        check(hub_url_normalize_registry(base, 1, &again, &err) == DF_OK, "normal form refused");
        check(!strcmp(base, again), "normal form is not a fixed point");
        free(again);
    }
    free(base);
    hub_url_check_policy(s, 0, "fuzz", &err);
    hub_url_same_origin(s, "http://127.0.0.1:5000");
    char *resolved = hub_url_resolve("http://127.0.0.1:5000/v2/a/b/blobs/uploads/", s);
    if (resolved) {
        char *put = hub_url_append_query(resolved, "digest=sha256:00");
        check(strstr(put, "digest=sha256:00") != NULL, "digest not appended");
        free(put);
    }
    free(resolved);
    hub_oci_repo_valid(s);
    hub_oci_tag_valid(s);
}

static void fuzz_base64(const uint8_t *data, size_t size, const char *s)
{
    char *enc = hub_auth_base64_encode(data, size);
    char *dec = NULL;
    size_t n = 0;
    check(hub_auth_base64_decode(enc, &dec, &n) == 0, "own base64 refused");
    check(n == size && (size == 0 || memcmp(dec, data, size) == 0), "base64 round trip");
    free(enc);
    free(dec);
    if (hub_auth_base64_decode(s, &dec, &n) == 0) free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* headers and URLs arrive as C strings */
    size_t len = strlen(s);
    fuzz_challenge(s, len);
    fuzz_link(s);
    fuzz_bodies(s, size);
    fuzz_urls(s);
    fuzz_base64(data, size, s);
    free(s);
    return 0;
}
