/*
 * hub_store.h -- the local store: an OCI image layout under
 * $DOCFLOW_HOME/hub (default ~/.docflow/hub), and the unpacked packages
 * under $DOCFLOW_HOME/executors/<namespace>/<name>/<version>/.
 *
 *   hub/oci-layout            {"imageLayoutVersion":"1.0.0"}
 *   hub/index.json            one descriptor per stored version, annotated
 *                             org.opencontainers.image.ref.name =
 *                             "<namespace>/<name>:<version>" (the true
 *                             semver, '+' included: a valid OCI ref name)
 *   hub/blobs/sha256/<hex>    OCI manifests, config blobs (manifest.yml as
 *                             JSON), layers (the package tarballs)
 *   executors/<ns>/<name>/<version>/
 *                             an unpacked package, with .docflow-hub.json
 *                             naming the manifest digest it came from
 *   tmp/hub/                  staging, on the same file system (renames)
 *   hub.lock                  flock: shared for readers, exclusive for writers
 *
 * Crash safety: every file is written to tmp/hub, fsync'ed and renamed into
 * place; index.json is rewritten the same way and only after every blob of
 * a version is in place, so a killed command leaves at most unreferenced
 * blobs (removed by the next `rm`) and staging files (removed by the next
 * writer). A version is either fully there or absent.
 *
 * Integrity: every blob read is checked against its digest; a mismatch is
 * reported as a corrupted store with the blob's path and what to do.
 *
 * Not here: building tarballs (hub_package), registries (hub_remote).
 */
#ifndef DOCFLOW_HUB_STORE_H
#define DOCFLOW_HUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"
#include "hub_ident.h"
#include "hub_manifest.h"
#include "hub_oci.h"

typedef struct hub_store hub_store;

/* Progress callback: bytes done / total (0 when unknown). */
typedef void (*hub_store_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* $DOCFLOW_HOME, or ~/.docflow (arena memory). */
const char *hub_home(df_arena *a);

/* Opens (creating when missing) the store under `home` and takes its lock:
 * shared for readers, exclusive for writers. A writer also clears staging
 * files left by killed commands. While another process holds the lock,
 * says so on stderr and waits. */
hub_store *hub_store_open(const char *home, int exclusive, df_error *err);
/* Releases the lock and frees. NULL is fine. */
void hub_store_close(hub_store *s);

const char *hub_store_home(const hub_store *s);
/* A folder for staging files, on the store's file system. */
const char *hub_store_tmp_dir(const hub_store *s);
/* blobs/sha256/<hex> of a digest, in buf. */
const char *hub_store_blob_path(const hub_store *s, const char *digest, char *buf, size_t cap);

/* ---- blobs -------------------------------------------------------------------- */

/* Copies a file into the staging folder, hashing while copying; `staged`
 * gets the copy's path. The copy is what gets checked and then adopted, so
 * the source cannot change between the check and the store (TOCTOU). */
int hub_store_stage_file(hub_store *s, const char *src, char *staged, size_t cap, hub_oci_desc *out,
                         hub_store_progress_fn progress, void *ctx, df_error *err);
int hub_store_put_blob_buffer(hub_store *s, const void *data, size_t len, hub_oci_desc *out,
                              df_error *err);
/* Moves a file (already in hub_store_tmp_dir) into the store as the blob
 * `digest` after hashing it; a mismatch removes the file and fails. */
int hub_store_adopt_blob(hub_store *s, const char *tmp_file, const hub_oci_desc *expect,
                         df_error *err);
/* Reads a blob of at most `max` bytes, verified against its digest. */
int hub_store_read_blob(hub_store *s, const char *digest, size_t max, df_buf *out, df_error *err);
/* Hashes a blob file and compares digest and size (size 0: not checked). */
int hub_store_verify_blob(hub_store *s, const hub_oci_desc *d, df_error *err);

/* ---- versions (index.json) ------------------------------------------------------ */

typedef struct hub_store_entry {
    char ns[HUB_COMPONENT_MAX + 1];
    char name[HUB_COMPONENT_MAX + 1];
    char version[HUB_VERSION_MAX + 1];
    hub_oci_desc manifest; /* the OCI manifest blob */
} hub_store_entry;

/* Every stored version, sorted by namespace, name and version (oldest
 * first). *out is malloc'd (free it). Entries with foreign ref names (e.g.
 * copied in by another tool) are skipped. */
int hub_store_list(hub_store *s, hub_store_entry **out, size_t *n, df_error *err);
/* Resolves an identifier to a stored version: the newest match of its
 * version spec (and its digest, when given). DF_E_NOT_FOUND says what is
 * there ("alice/echo has 1.0.0, 1.2.0; none matches :2"). */
int hub_store_resolve(hub_store *s, const hub_ident *id, int allow_prerelease, hub_store_entry *out,
                      df_error *err);
/* Adds or replaces the version's entry in index.json (atomically). */
int hub_store_set_entry(hub_store *s, const hub_store_entry *e, df_error *err);
/* Removes a version's entry; DF_E_NOT_FOUND when absent. */
int hub_store_remove_entry(hub_store *s, const hub_store_entry *e, df_error *err);
/* Deletes blobs no index entry refers to, and unpacked folders whose
 * version is gone. */
int hub_store_gc(hub_store *s, df_error *err);

/* ---- packages --------------------------------------------------------------------- */

/* What the store knows of one version: its OCI manifest (raw bytes and
 * parsed), and the package manifest from the config blob. */
typedef struct hub_store_package {
    hub_store_entry entry;
    df_buf raw_manifest;
    hub_oci_manifest oci;
    hub_manifest *manifest; /* arena memory */
} hub_store_package;

/* Reads and verifies the OCI manifest and the config blob of an entry;
 * with `verify_layer`, hashes the layer too. */
int hub_store_load(hub_store *s, df_arena *a, const hub_store_entry *e, int verify_layer,
                   hub_store_package *out, df_error *err);
void hub_store_package_free(hub_store_package *p);

/* Stores a verified package: its layer (a staged file, adopted), its config
 * blob (the manifest as JSON), its OCI manifest, then the index entry. A
 * version already stored with other content is refused (DF_E_INVALID_INPUT)
 * unless `force`; *unchanged = 1 when the same bytes were already there. */
int hub_store_put_package(hub_store *s, const hub_manifest *m, const char *staged_layer,
                          const hub_oci_desc *layer, int force, hub_store_entry *out,
                          int *unchanged, df_error *err);
/* The same for a pulled package: the OCI manifest and config bytes exactly
 * as received (so digests stay those of the registry). */
int hub_store_put_pulled(hub_store *s, const hub_manifest *m, const df_buf *raw_manifest,
                         const hub_oci_manifest *oci, const df_buf *config,
                         const char *staged_layer, int force, hub_store_entry *out, int *unchanged,
                         df_error *err);

/* Unpacks a stored version into executors/<ns>/<name>/<version>/ unless it
 * is already there from the same manifest digest: checks the layer's
 * digest, the host's ABI and platform, then extracts safely and checks
 * every file's sha256 against the manifest before the folder is renamed
 * into place. *dir_out gets the folder (arena memory). */
int hub_store_unpack(hub_store *s, df_arena *a, const hub_store_package *p, const char **dir_out,
                     df_error *err);
/* The folder a version unpacks to (arena memory). */
const char *hub_store_unpack_dir(const hub_store *s, df_arena *a, const hub_store_entry *e);

/* ---- for the flow loader ------------------------------------------------------------- */

/* Resolves `uses: hub://namespace/name[:version]` to the config.yml of the
 * unpacked package (arena memory), pulling from `registry` (a URL, or NULL
 * for none) as `policy` says: "missing" (default; pull only when no stored
 * version matches), "always" (pull the newest match first) or "never"
 * (local store only). NULL on error, with a message naming the URI. */
const char *hub_resolve_uses(df_arena *a, const char *hub_uri, const char *registry,
                             const char *policy, df_error *err);

#endif
