/*
 * hub_package.h -- making a package from a folder (`docflow-hub build`) and
 * taking a package tarball into the local store (`install`, `push`).
 *
 * A package folder holds:
 *   manifest.yml     namespace, name, version (+ description, license, ...)
 *   config.yml       the executor YAML; metas.library: lib/<name>.so
 *   README.md        (recommended)
 *   LICENSE          (optional)
 *   CMakeLists.txt   (optional) built with cmake into build/ first
 *   lib/             the executor library (and any other files it needs)
 *   data/            (optional) extra files, shipped as they are
 * Everything else (sources, build/, tarballs) stays out of the package.
 * Hidden files (names starting with '.') are skipped.
 *
 * Build reads the executors, endpoints and ABI version from the built .so
 * (df_plugin_load: the author's own library, so running its constructors
 * is acceptable; nothing is ever loaded from a tarball of someone else),
 * writes the complete manifest.yml with every file's sha256, and packs
 * <namespace>-<name>-<version>.tar.gz reproducibly (hub_pack.h).
 */
#ifndef DOCFLOW_HUB_PACKAGE_H
#define DOCFLOW_HUB_PACKAGE_H

#include <stdint.h>

#include "docflow/arena.h"
#include "docflow/error.h"
#include "hub_digest.h"
#include "hub_ident.h"
#include "hub_manifest.h"
#include "hub_store.h"

typedef struct hub_build_opts {
    const char *dir;     /* the package folder */
    const char *out_dir; /* where the tarball goes; NULL: the package folder */
    int verbose;         /* show cmake's output (else only when it fails) */
} hub_build_opts;

typedef struct hub_build_result {
    const char *tarball; /* arena memory */
    hub_digest digest;
    uint64_t size;
    hub_manifest *manifest;
} hub_build_result;

/* Builds a package folder into a tarball. Warnings (unknown manifest keys,
 * a .so version that differs from manifest.yml, no README.md) go to
 * stderr. DF_E_INVALID_INPUT for problems the author fixes (each message
 * names the file and the fix), DF_E_IO otherwise. */
int hub_package_build(df_arena *a, const hub_build_opts *opts, hub_build_result *out,
                      df_error *err);

/* 1 when `path` is a folder with a manifest.yml (a package folder). */
int hub_package_is_dir(const char *path);

/* Takes a tarball into the local store: copies it into the staging folder,
 * verifies the copy (hub_verify_tarball), checks the host's ABI and
 * platform, and stores it. `expect` (may be NULL) is the identifier the
 * user gave: its namespace and name, and its version when given, must be
 * the manifest's. See hub_store_put_package for `force` and `unchanged`. */
int hub_package_import(hub_store *s, df_arena *a, const char *tarball, const hub_ident *expect,
                       int force, hub_store_progress_fn progress, void *ctx, hub_store_entry *out,
                       hub_manifest **manifest_out, int *unchanged, df_error *err);

/* Does a package's identity agree with an identifier the user typed?
 * "ID says 0.2.0 but the package is 0.1.0". Exact versions only. */
int hub_package_check_ident(const hub_manifest *m, const hub_ident *id, const char *what,
                            df_error *err);

#endif
