/*
 * hub_registry.h -- a client of the OCI distribution API (v1.1) over
 * libcurl: blobs, manifests, tags, delete, and authentication (anonymous,
 * basic, bearer-token challenge), with credentials from docflow-hub login.
 *
 * Generic: it moves blobs and manifests and knows nothing of docflow
 * packages; hub_store / the commands compose it. Every downloaded blob is
 * verified against its digest (and size) before the call returns success;
 * a failed download leaves no file behind.
 *
 * Plain http:// is allowed only for loopback hosts unless `insecure` is set;
 * https uses the system CA store, or `ca_cert`. The same rule applies to
 * every URL the registry sends us to (upload Locations, blob redirects, the
 * token realm), and credentials go only to the registry's own origin (and to
 * its token realm).
 *
 * Errors say where and what, with the registry's own errors[0] when it sent
 * one, and what to do when there is something to do:
 *   registry http://127.0.0.1:5000: alice/echo:1.0.0: manifest unknown (404 MANIFEST_UNKNOWN)
 *   registry http://127.0.0.1:5000: alice/echo tags: authentication required
 *     (401 UNAUTHORIZED); run docflow-hub login http://127.0.0.1:5000
 * Codes: DF_E_NOT_FOUND for a 404, DF_E_INVALID_INPUT for what the user can
 * fix (bad names, 400/401/403, plain http refused), DF_E_TIMEOUT for a stalled
 * transfer, DF_E_IO for the rest (unreachable, TLS, 5xx, failed verification).
 *
 * Timeouts: 10 s to connect; a transfer slower than 1 byte/s for 30 s fails
 * (DOCFLOW_HUB_LOW_SPEED_TIME=<seconds> changes the 30). A hub_registry holds
 * one libcurl handle whose connection is kept alive between calls: use it
 * from one thread at a time. With the docflow log at debug level, every
 * request is logged ("registry: PUT <url> -> 201"), never a credential.
 */
#ifndef DOCFLOW_HUB_REGISTRY_H
#define DOCFLOW_HUB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"

typedef struct hub_registry hub_registry;

/* Progress callback: bytes done / total (0 when unknown), for blob pushes
 * and pulls only. A push skipped because the blob exists reports done ==
 * total once. */
typedef void (*hub_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct hub_registry_opts {
    const char *url;      /* "http://127.0.0.1:5000" or "https://registry.example" */
    const char *ca_cert;  /* PEM file, or NULL for the system store */
    int insecure;         /* allow plain http to non-loopback hosts, skip TLS verification */
    const char *username; /* explicit credentials; NULL: from auth.json (docflow-hub login) */
    const char *password;
    hub_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} hub_registry_opts;

/* Checks the URL and pings GET /v2/ (a 401 there is fine: auth comes on
 * demand). NULL on error ("registry http://x:5000 is not reachable: ...").
 * The URL may omit the scheme: http:// is assumed for loopback hosts and
 * https:// otherwise; a path other than / (or /v2/) is refused. Credentials:
 * opts->username and password (both or neither), else the auth.json entry of
 * the registry, else anonymous. */
hub_registry *hub_registry_open(const hub_registry_opts *opts, df_error *err);
void hub_registry_close(hub_registry *r);

/* Repository names follow the OCI grammar (lowercase components joined by
 * '/') and digests are "sha256:<64 hex>"; anything else is refused before a
 * request is made. */

/* HEAD /v2/<repo>/blobs/<digest>: *exists = 1/0. */
int hub_registry_blob_exists(hub_registry *r, const char *repo, const char *digest, int *exists,
                             df_error *err);
/* Uploads a file as a blob (POST then PUT ?digest=; monolithic, or chunked
 * PATCHes of chunk_size bytes then an empty PUT when chunk_size > 0),
 * skipping it when HEAD says it exists. `size` must be the file's size; the
 * registry checks the digest. A failed upload session is cancelled. */
int hub_registry_blob_push_file(hub_registry *r, const char *repo, const char *path,
                                const char *digest, uint64_t size, size_t chunk_size,
                                df_error *err);
int hub_registry_blob_push_buffer(hub_registry *r, const char *repo, const void *data, size_t len,
                                  const char *digest, df_error *err);
/* Downloads a blob to `dest_path` (written as dest_path.part, verified
 * against digest and size, fsync'ed, then renamed; on any failure the .part
 * is removed and dest_path untouched). size 0 = unknown. Redirects (to blob
 * storage) are followed. The buffer variant appends to `out` only on
 * success, and caps an unknown size at 64 MiB. */
int hub_registry_blob_pull_file(hub_registry *r, const char *repo, const char *digest,
                                uint64_t size, const char *dest_path, df_error *err);
int hub_registry_blob_pull_buffer(hub_registry *r, const char *repo, const char *digest,
                                  uint64_t size, df_buf *out, df_error *err);

/* PUT /v2/<repo>/manifests/<tag> with Content-Type `media_type` (the
 * registry refuses a manifest whose type does not match); `tag` is an OCI
 * tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: no '+') or the manifest's digest.
 * *digest_out (may be NULL) gets the sha256 of the bytes, which the
 * registry's Docker-Content-Digest must equal (else an error). */
int hub_registry_manifest_put(hub_registry *r, const char *repo, const char *tag,
                              const char *media_type, const void *data, size_t len,
                              hub_digest *digest_out, df_error *err);
/* GET by tag or digest with the OCI Accept headers (OCI manifest and index,
 * Docker v2 manifest and list); verifies the digest when `ref` is a digest,
 * and the registry's Docker-Content-Digest otherwise, and that a manifest's
 * own mediaType agrees with its Content-Type. Appends the exact bytes to
 * `out` (only on success, at most 16 MiB). `media_type_out` (may be NULL)
 * gets the Content-Type without parameters (an error when it does not fit
 * in media_type_cap). */
int hub_registry_manifest_get(hub_registry *r, const char *repo, const char *ref, df_buf *out,
                              hub_digest *digest_out, char *media_type_out, size_t media_type_cap,
                              df_error *err);
/* DELETE a manifest by digest (registry 2.8 cannot delete by tag; deleting
 * a digest drops every tag that points to it). DF_E_NOT_FOUND when unknown. */
int hub_registry_manifest_delete(hub_registry *r, const char *repo, const char *digest,
                                 df_error *err);
/* GET /v2/<repo>/tags/list (following Link pagination). Tags are appended to
 * `out` as NUL-separated strings, in the registry's order (2.8 does not sort
 * them: the caller does); *count gets their number. A repository the
 * registry does not know yields 0 tags, not an error. */
int hub_registry_tags(hub_registry *r, const char *repo, df_buf *out, size_t *count, df_error *err);

/* docflow-hub login: checks opts->username/password against the registry
 * (GET /v2/ with them: Basic directly, Bearer through a token from the realm)
 * and, when they work, stores them in $DOCFLOW_HOME/auth.json (mode 0600,
 * atomic; format in hub_auth.h). Refused credentials store nothing. A
 * registry without auth accepts any credentials, as with docker login. */
int hub_registry_login(const hub_registry_opts *opts, df_error *err);
/* Removes the stored credentials of a registry URL; DF_E_NOT_FOUND ("not
 * logged in to ...") when there were none. */
int hub_registry_logout(const char *url, df_error *err);

#endif
