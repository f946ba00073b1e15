/*
 * fuzz_hub_ident.c -- libFuzzer target for package identifiers, semantic
 * versions, version specs and tags: any input must parse or fail with a
 * message, never crash; what parses must format back to text that parses
 * to the same thing; precedence must be a consistent order.
 *
 * hub_ident.c is included rather than linked: it depends on nothing but
 * libdocflow's df_error, and fuzz targets link libdocflow only.
 *
 * Build by hand with libFuzzer (not wired into CMake):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -Ihub tests/fuzz/fuzz_hub_ident.c plugin-api/src/error.c \
 *     -o fuzz_hub_ident
 *   ./fuzz_hub_ident -max_total_time=60 tests/fuzz/corpus/fuzz_hub_ident/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/hub_ident.c"

static void check_ident(const char *text)
{
    hub_ident id, again;
    df_error err = DF_ERROR_INIT;
    if (hub_ident_parse(text, &id, &err) != DF_OK) {
        if (err.code == DF_OK || !strstr(err.msg, "[registry/]namespace/name")) abort();
        return;
    }
    if (!hub_name_valid(id.ns) || !hub_name_valid(id.name)) abort();
    char back[HUB_IDENT_MAX + 128], back2[HUB_IDENT_MAX + 128];
    hub_ident_format(&id, back, sizeof back);
    if (hub_ident_parse(back, &again, NULL) != DF_OK) abort();
    hub_ident_format(&again, back2, sizeof back2);
    if (strcmp(back, back2) != 0) abort();
    if (id.version.kind == HUB_VERSION_EXACT) {
        char tag[HUB_VERSION_MAX + 1], version[HUB_VERSION_MAX + 1];
        if (hub_version_to_tag(id.version.text, tag, sizeof tag, NULL) != DF_OK) abort();
        if (strchr(tag, '+')) abort();
        if (hub_tag_to_version(tag, version, sizeof version) != DF_OK) abort();
        if (strcmp(version, id.version.text) != 0) abort();
    }
}

static void check_semver(const char *text)
{
    hub_semver v, w;
    static const char *const others[] = {"1.0.0", "1.0.0-rc.1", "0.0.1-0", "2.0.0+b"};
    if (hub_semver_parse(text, &v, NULL) != DF_OK) return;
    char back[3 * HUB_VERSION_MAX];
    hub_semver_format(&v, back, sizeof back);
    if (hub_semver_parse(back, &w, NULL) != DF_OK || hub_semver_order(&v, &w) != 0) abort();
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        hub_semver_parse(others[i], &w, NULL);
        int a = hub_semver_compare(&v, &w), b = hub_semver_compare(&w, &v);
        if ((a > 0) != (b < 0) || (a == 0) != (b == 0)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[HUB_IDENT_MAX + 64];
    if (size >= sizeof text) size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    check_ident(text);
    check_semver(text);
    hub_version_spec spec;
    if (hub_version_spec_parse(text, &spec, NULL) == DF_OK) {
        static const char *const versions[] = {"1.0.0", "1.2.3", "2.0.0-rc.1", "x"};
        long pick = hub_version_pick(&spec, size & 1, versions, 4);
        if (pick < -1 || pick > 3) abort();
    }
    return 0;
}
