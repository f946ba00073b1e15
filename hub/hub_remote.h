/*
 * hub_remote.h -- push and pull of packages against an OCI registry,
 * composed from the generic registry client (hub_registry.h).
 *
 * Repository: "<namespace>/<name>". Tag: the version with '+' (semver build
 * metadata, not allowed in OCI tags) replaced by '_' (hub_version_to_tag);
 * the config blob keeps the true version. Only exact version tags are
 * written (no floating "1", "1.2" or "latest" tags): resolution lists the
 * tags and picks the newest match on the client, so it never depends on a
 * mutable tag.
 *
 * Push: layer blob, config blob, then the manifest by tag. An existing tag
 * with other content is refused unless --force.
 * Pull: tags list -> semver resolution -> manifest by tag (or digest) ->
 * config (checked: identity, host ABI and platform, before the layer is
 * downloaded) -> layer (its digest checked by the client) -> every file's
 * sha256 checked against the config's manifest before anything is stored
 * or unpacked.
 */
#ifndef DOCFLOW_HUB_REMOTE_H
#define DOCFLOW_HUB_REMOTE_H

#include "docflow/arena.h"
#include "docflow/error.h"
#include "hub_ident.h"
#include "hub_manifest.h"
#include "hub_progress.h"
#include "hub_store.h"

typedef struct hub_remote_opts {
    const char *url;        /* registry base URL */
    const char *ca_cert;    /* NULL: the system CA store */
    int insecure;           /* plain http beyond loopback, no TLS verification */
    int force;              /* replace an existing version */
    int allow_prerelease;   /* pre-releases count in resolution */
    hub_progress *progress; /* may be NULL */
} hub_remote_opts;

typedef struct hub_remote_result {
    hub_digest manifest; /* the manifest digest in the registry */
    char version[HUB_VERSION_MAX + 1];
    uint64_t bytes;        /* layer size */
    int unchanged;         /* the registry (push) or the store (pull) already had it */
    hub_store_entry entry; /* pull: the stored version */
} hub_remote_result;

/* Pushes a verified package tarball whose manifest is `m`. */
int hub_remote_push(const hub_remote_opts *o, const char *tarball, const hub_manifest *m,
                    hub_remote_result *out, df_error *err);
/* Resolves `id` against the registry and stores the package in `s`. */
int hub_remote_pull(const hub_remote_opts *o, hub_store *s, df_arena *a, const hub_ident *id,
                    hub_remote_result *out, df_error *err);

/* Deletes an exact version (or a digest) from the registry: its manifest,
 * by digest, which also drops any other tag pointing to the same manifest
 * (registry 2.8 cannot delete a single tag). Blobs stay until the
 * registry's garbage collection. */
int hub_remote_delete(const hub_remote_opts *o, const hub_ident *id, hub_remote_result *out,
                      df_error *err);

/* The registry URL for a command: --registry, else the identifier's
 * registry host, else $DOCFLOW_REGISTRY (when use_env), else NULL. */
const char *hub_remote_url(df_arena *a, const char *flag, const hub_ident *id, int use_env);

#endif
