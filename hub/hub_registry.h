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
 * https uses the system CA store, or `ca_cert`.
 */
#ifndef DOCFLOW_HUB_REGISTRY_H
#define DOCFLOW_HUB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"

typedef struct hub_registry hub_registry;

/* Progress callback: bytes done / total (0 when unknown). */
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
 * demand). NULL on error ("registry http://x:5000 is not reachable: ..."). */
hub_registry *hub_registry_open(const hub_registry_opts *opts, df_error *err);
void hub_registry_close(hub_registry *r);

/* HEAD /v2/<repo>/blobs/<digest>: *exists = 1/0. */
int hub_registry_blob_exists(hub_registry *r, const char *repo, const char *digest, int *exists,
                             df_error *err);
/* Uploads a file as a blob (POST then PUT ?digest=; monolithic, or chunked
 * PATCHes when chunk_size > 0), skipping it when HEAD says it exists. */
int hub_registry_blob_push_file(hub_registry *r, const char *repo, const char *path,
                                const char *digest, uint64_t size, size_t chunk_size,
                                df_error *err);
int hub_registry_blob_push_buffer(hub_registry *r, const char *repo, const void *data,
                                  size_t len, const char *digest, df_error *err);
/* Downloads a blob to `dest_path` (written as dest_path.part, verified
 * against digest and size, then renamed). size 0 = unknown. */
int hub_registry_blob_pull_file(hub_registry *r, const char *repo, const char *digest,
                                uint64_t size, const char *dest_path, df_error *err);
int hub_registry_blob_pull_buffer(hub_registry *r, const char *repo, const char *digest,
                                  uint64_t size, df_buf *out, df_error *err);

/* PUT /v2/<repo>/manifests/<tag>; *digest_out gets the registry's digest,
 * which must equal the sha256 of the bytes sent (else an error). */
int hub_registry_manifest_put(hub_registry *r, const char *repo, const char *tag,
                              const char *media_type, const void *data, size_t len,
                              hub_digest *digest_out, df_error *err);
/* GET by tag or digest with the OCI Accept headers; verifies the digest
 * when `ref` is a digest. `media_type_out` (may be NULL) gets Content-Type. */
int hub_registry_manifest_get(hub_registry *r, const char *repo, const char *ref, df_buf *out,
                              hub_digest *digest_out, char *media_type_out,
                              size_t media_type_cap, df_error *err);
/* DELETE a manifest by digest. */
int hub_registry_manifest_delete(hub_registry *r, const char *repo, const char *digest,
                                 df_error *err);
/* GET /v2/<repo>/tags/list (following Link pagination). Tags are appended to
 * `out` as NUL-separated strings; *count gets their number. A repository the
 * registry does not know yields 0 tags, not an error. */
int hub_registry_tags(hub_registry *r, const char *repo, df_buf *out, size_t *count,
                      df_error *err);

/* docflow-hub login: checks the credentials against the registry and, when
 * they work, stores them in $DOCFLOW_HOME/auth.json (mode 0600, atomic). */
int hub_registry_login(const hub_registry_opts *opts, df_error *err);
/* Removes the stored credentials of a registry URL. */
int hub_registry_logout(const char *url, df_error *err);

#endif
