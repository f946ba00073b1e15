/*
 * hub_manifest.h -- a package's manifest.yml: read and check it, write it
 * as YAML (into the package) and as JSON (the OCI config blob).
 *
 *   manifest_version: 1
 *   namespace: alice                 # [a-z0-9]+([._-][a-z0-9]+)*
 *   name: my-encoder                 # same grammar
 *   version: 0.1.0                   # semver 2.0
 *   description: ...                 # optional
 *   license: Apache-2.0              # optional (SPDX)
 *   url: https://...                 # optional
 *   keywords: [text, encoder]        # optional
 *   abi_version: "1.0"               # written by build, from the .so
 *   platform: linux-x86_64           # written by build, from uname
 *   library: lib/my_encoder.so       # the executor library
 *   executors:                       # written by build, from the .so
 *     - jtype: MyEncoder
 *       version: 0.1.0
 *       description: ...
 *       endpoints: [/index, /search]
 *       default: true                # has a default handler
 *   files:                           # written by build: every other file
 *     config.yml: sha256:...
 *     lib/my_encoder.so: sha256:...
 *
 * A source manifest (the one an author writes) needs only namespace, name
 * and version; a package manifest ("complete") needs everything build
 * writes. Unknown keys are kept out and reported as warnings, so a newer
 * docflow's manifest still reads. Not for checking files on disk: that is
 * hub_package's job.
 */
#ifndef DOCFLOW_HUB_MANIFEST_H
#define DOCFLOW_HUB_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"

#define HUB_MANIFEST_MAX_BYTES (64 * 1024) /* a manifest larger than this is refused */

typedef struct hub_executor_info {
    const char *jtype;
    const char *version;     /* "" when unknown */
    const char *description; /* "" when unknown */
    const char **endpoints;  /* "/index", ... */
    size_t n_endpoints;
    int has_default; /* a default handler (bare @requests) */
} hub_executor_info;

typedef struct hub_file_info {
    const char *path; /* relative, '/'-separated: "lib/x.so" */
    char digest[HUB_DIGEST_LEN + 1];
} hub_file_info;

typedef struct hub_manifest {
    const char *ns, *name, *version;
    const char *description, *license, *url; /* "" when absent */
    const char **keywords;
    size_t n_keywords;
    int has_abi;
    unsigned abi_major, abi_minor;
    const char *platform; /* "" when absent */
    const char *library;  /* "" when absent */
    hub_executor_info *executors;
    size_t n_executors;
    hub_file_info *files; /* sorted by path (bytewise) */
    size_t n_files;
    const char **warnings; /* "manifest.yml:7:1: unknown key 'licence'" */
    size_t n_warnings;
} hub_manifest;

/* Parses manifest YAML text (`name` for messages). `complete` demands a
 * package manifest. NULL on error, with "name:line:col: what to fix". */
hub_manifest *hub_manifest_parse_yaml(df_arena *a, const char *text, size_t len, const char *name,
                                      int complete, df_error *err);
hub_manifest *hub_manifest_load(df_arena *a, const char *path, int complete, df_error *err);
/* Parses the JSON form (a config blob); always complete. */
hub_manifest *hub_manifest_parse_json(df_arena *a, const char *json, size_t len, const char *name,
                                      df_error *err);

/* Writes the manifest, deterministically (fixed key order, files sorted). */
void hub_manifest_write_yaml(const hub_manifest *m, df_buf *out);
void hub_manifest_write_json(const hub_manifest *m, df_buf *out);

/* Adds or replaces a file's digest, keeping files sorted. */
void hub_manifest_set_file(df_arena *a, hub_manifest *m, const char *path, const char *digest);
/* The file entry for path, or NULL. */
const hub_file_info *hub_manifest_file(const hub_manifest *m, const char *path);

/* "linux-x86_64": this host's platform, as build writes it. */
void hub_host_platform(char *buf, size_t cap);
/* Can this host use the package? Refuses an abi_version whose major differs
 * or whose minor is newer than DF_ABI_MAJOR.DF_ABI_MINOR, and another
 * platform, naming both sides (DF_E_UNSUPPORTED). `ref` names the package
 * in the message. */
int hub_manifest_check_host(const hub_manifest *m, const char *ref, df_error *err);
/* 1 when `path` is a safe relative package path: '/'-separated parts of
 * [A-Za-z0-9._+-], no empty, "." or ".." part, no leading '/', at most 255
 * bytes and 16 levels deep. */
int hub_package_path_valid(const char *path);

#endif
