/*
 * hub_ident.h -- package identifiers and versions: the grammar
 *
 *   [registry/]namespace/name[:version][@sha256:digest]
 *
 * semantic versions (semver 2.0: parse, precedence, formatting), version
 * specs (an exact semver, a prefix "1" / "1.2" meaning the newest match,
 * "latest") and the mapping between versions and OCI tags.
 *
 * Pure string work: no files, no network, no allocation (fixed buffers), so
 * the fuzz target can drive it alone. Not for resolving against a store:
 * hub_store / the commands do that with hub_version_pick().
 */
#ifndef DOCFLOW_HUB_IDENT_H
#define DOCFLOW_HUB_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/error.h"

/* Limits. A version is at most an OCI tag long (128 characters, '+' maps
 * to '_'); a namespace or name at most 64; "namespace/name" then stays far
 * below OCI's 255 for "host/namespace/name". */
#define HUB_VERSION_MAX   128
#define HUB_COMPONENT_MAX 64
#define HUB_REGISTRY_MAX  255
#define HUB_IDENT_MAX     512

/* What every identifier error ends with, so the user sees the rules. */
#define HUB_IDENT_GRAMMAR                                                                          \
    "identifiers are [registry/]namespace/name[:version][@sha256:digest]: namespace and name "     \
    "lowercase [a-z0-9]+([._-][a-z0-9]+)*, version a semver (1.2.3, 1.2.3-rc.1), a prefix (1 or "  \
    "1.2: the newest match) or latest"

/* A semantic version (semver.org 2.0). pre and build are "" when absent. */
typedef struct hub_semver {
    uint64_t major, minor, patch;
    char pre[HUB_VERSION_MAX + 1];   /* "rc.1" for 1.2.3-rc.1 */
    char build[HUB_VERSION_MAX + 1]; /* "build.5" for 1.2.3+build.5 */
} hub_semver;

/* Parses a full semver ("1.2.3", "1.0.0-rc.1+b5"). DF_OK, or
 * DF_E_INVALID_INPUT with the reason ("'01' has a leading zero"). */
int hub_semver_parse(const char *s, hub_semver *out, df_error *err);
/* Semver precedence: <0, 0, >0. Build metadata is ignored, as the spec says. */
int hub_semver_compare(const hub_semver *a, const hub_semver *b);
/* A total order for sorting: precedence, then build metadata bytewise. */
int hub_semver_order(const hub_semver *a, const hub_semver *b);
/* Writes "1.2.3[-pre][+build]" into buf (always NUL-terminated). */
void hub_semver_format(const hub_semver *v, char *buf, size_t cap);

typedef enum hub_version_kind {
    HUB_VERSION_NONE = 0,   /* no version given: the newest release */
    HUB_VERSION_LATEST = 1, /* "latest": the newest release */
    HUB_VERSION_PREFIX = 2, /* "1" or "1.2": the newest release with that prefix */
    HUB_VERSION_EXACT = 3,  /* a full semver */
} hub_version_kind;

typedef struct hub_version_spec {
    hub_version_kind kind;
    int parts;                      /* PREFIX: 1 ("1") or 2 ("1.2") */
    hub_semver v;                   /* EXACT: the version; PREFIX: major (and minor) */
    char text[HUB_VERSION_MAX + 1]; /* as written; "" for NONE */
} hub_version_spec;

/* Parses a version spec; NULL or "" gives HUB_VERSION_NONE. */
int hub_version_spec_parse(const char *s, hub_version_spec *out, df_error *err);
/* 1 when v satisfies spec. Pre-releases match only an exact spec naming
 * one, or any spec when allow_prerelease is set ("only when asked"). An
 * exact spec without build metadata matches every build of that version. */
int hub_version_matches(const hub_version_spec *spec, const hub_semver *v, int allow_prerelease);
/* The index of the newest of `versions` (version strings; those that are not
 * semver are skipped) that satisfies spec, or -1. */
long hub_version_pick(const hub_version_spec *spec, int allow_prerelease,
                      const char *const *versions, size_t n);

typedef struct hub_ident {
    char registry[HUB_REGISTRY_MAX + 1]; /* "localhost:5000"; "" when absent */
    char ns[HUB_COMPONENT_MAX + 1];
    char name[HUB_COMPONENT_MAX + 1];
    hub_version_spec version;
    char digest[72]; /* "sha256:<64 hex>"; "" when absent */
} hub_ident;

/* Parses an identifier. On error: DF_E_INVALID_INPUT, "bad identifier 'x':
 * <reason>; " HUB_IDENT_GRAMMAR. The registry is the first of three
 * components when it looks like a host (has a '.' or ':' or is
 * "localhost"). */
int hub_ident_parse(const char *s, hub_ident *out, df_error *err);
/* Writes "[registry/]ns/name[:version][@digest]" into buf. */
void hub_ident_format(const hub_ident *id, char *buf, size_t cap);
/* 1 when s matches [a-z0-9]+([._-][a-z0-9]+)* and is at most
 * HUB_COMPONENT_MAX long. */
int hub_name_valid(const char *s);

/* OCI tags cannot hold '+' (semver build metadata): the tag of a version has
 * '_' instead, and a tag maps back by turning '_' into '+'. Semver has no
 * '_', so the mapping is one to one. Both return DF_OK or
 * DF_E_INVALID_INPUT (not a semver / not a version tag, or too long). */
int hub_version_to_tag(const char *version, char *tag, size_t cap, df_error *err);
int hub_tag_to_version(const char *tag, char *version, size_t cap);

/* The base URL for a registry host of an identifier: http:// for loopback
 * hosts (localhost, 127.x.y.z, [::1]), https:// otherwise. */
void hub_registry_url_for_host(const char *host, char *buf, size_t cap);

#endif
