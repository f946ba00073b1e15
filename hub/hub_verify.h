/*
 * hub_verify.h -- is a package tarball what its manifest says?
 *
 * A package is trusted only when its tarball passes every extraction check
 * (hub_extract.h) and holds manifest.yml plus exactly the files that
 * manifest lists, each with the listed sha256: an extra file would go
 * unverified, a missing one would break the executor later. Used by every
 * path that takes a tarball from outside: install, push of a tarball, pull,
 * and unpacking from the local store.
 */
#ifndef DOCFLOW_HUB_VERIFY_H
#define DOCFLOW_HUB_VERIFY_H

#include "docflow/arena.h"
#include "docflow/error.h"
#include "hub_extract.h"
#include "hub_manifest.h"

/* Checks an archive's files (from hub_extract_scan or _unpack) against the
 * manifest's list. `what` names the package in messages. */
int hub_verify_files(const hub_manifest *m, const hub_extract_result *r, const char *what,
                     df_error *err);
/* Scans a tarball, reads its manifest.yml (a complete manifest) and checks
 * every file. With `expect` (e.g. the config blob of a pull), the manifest
 * inside must say the same. Returns the manifest (arena memory) or NULL. */
hub_manifest *hub_verify_tarball(df_arena *a, const char *tarball, const char *what,
                                 const hub_manifest *expect, df_error *err);

#endif
