/*
 * hub_pack.h -- writing a package tarball reproducibly: the same files give
 * a byte-identical .tar.gz, so its sha256 identifies its contents.
 *
 * How: entries sorted by path (bytewise); every entry a regular file (no
 * folder entries, no links); mtime SOURCE_DATE_EPOCH when set, else 0;
 * uid/gid 0 and no owner names; mode 0755 when the source file is
 * executable by its owner, else 0644; POSIX pax format (headers only where
 * ustar cannot hold a field); gzip at level 9 without a file name or a
 * timestamp in its header. Reproducible across machines with the same
 * zlib (a different deflate implementation may compress differently).
 *
 * Not for reading tarballs: see hub_extract.h.
 */
#ifndef DOCFLOW_HUB_PACK_H
#define DOCFLOW_HUB_PACK_H

#include <stddef.h>

#include "docflow/error.h"

typedef struct hub_pack_entry {
    const char *path;   /* the name in the archive */
    const char *source; /* a file to copy, or NULL to use data/len */
    const void *data;
    size_t len;
} hub_pack_entry;

/* Writes `entries` (in any order: they are sorted here; the array is
 * reordered) to `tarball`, atomically (a temporary file beside it, renamed
 * at the end). */
int hub_pack_write(const char *tarball, hub_pack_entry *entries, size_t n, df_error *err);

#endif
