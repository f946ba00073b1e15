/*
 * hub_extract.h -- reading package tarballs that come from outside
 * (install, pull, push of a tarball) without trusting them.
 *
 * Every entry passes the same checks, whether the tarball is only scanned
 * (hashed, nothing written) or unpacked:
 *   - only regular files and directories: symbolic links, hard links,
 *     character and block devices, FIFOs and sockets are refused;
 *   - no setuid or setgid bit;
 *   - paths are relative, without "..", "." or empty parts, backslashes or
 *     control characters, at most 255 bytes and 16 levels deep (a leading
 *     "./" is accepted and dropped);
 *   - no entry twice, no sparse entries;
 *   - limits: bytes per entry, bytes in total, number of entries.
 * The first refusal stops the run with the entry's name and the reason.
 *
 * Unpacking writes into a fresh temporary folder (mkdtemp) through file
 * descriptors only (openat/mkdirat with O_NOFOLLOW and O_EXCL), never
 * through joined path strings; modes are 0644, or 0755 for entries with an
 * execute bit and for folders; the archive's owners, times and other bits
 * are ignored. hub_extract_commit() then renames the folder into place, so
 * a target is either complete or absent. On any error nothing of the
 * temporary folder remains.
 */
#ifndef DOCFLOW_HUB_EXTRACT_H
#define DOCFLOW_HUB_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"

typedef struct hub_extract_opts {
    uint64_t max_entry_bytes; /* per regular file */
    uint64_t max_total_bytes; /* all regular files together */
    uint64_t max_entries;     /* files and folders */
    const char *capture;      /* NULL, or a path whose content to keep in result.captured */
    size_t capture_max;       /* refuse the captured file when larger */
    const char *name;         /* the tarball's name in messages; NULL: its path */
} hub_extract_opts;

/* 512 MiB per file, 1 GiB in total, 10,000 entries; manifest.yml captured
 * up to 64 KiB. */
#define HUB_EXTRACT_MAX_ENTRY_BYTES (512ull << 20)
#define HUB_EXTRACT_MAX_TOTAL_BYTES (1ull << 30)
#define HUB_EXTRACT_MAX_ENTRIES     10000u
#define HUB_EXTRACT_OPTS_DEFAULT                                                                   \
    {                                                                                              \
        HUB_EXTRACT_MAX_ENTRY_BYTES, HUB_EXTRACT_MAX_TOTAL_BYTES, HUB_EXTRACT_MAX_ENTRIES,         \
            "manifest.yml", 64 * 1024, NULL                                                        \
    }

typedef struct hub_extracted_file {
    char *path; /* normalised: no "./" prefix */
    hub_digest digest;
    uint64_t size;
} hub_extracted_file;

typedef struct hub_extract_result {
    hub_extracted_file *files; /* regular files, in archive order */
    size_t n_files;
    char *staging;    /* unpack: the temporary folder (absolute); NULL after commit */
    df_buf captured;  /* the content of opts.capture, when present */
    int has_captured; /* 1 when opts.capture was in the archive */
} hub_extract_result;

/* Reads the whole tarball (gzip-compressed tar), checking and hashing every
 * entry; writes nothing. DF_OK, DF_E_INVALID_INPUT for a refused or
 * malformed archive ("x.tar.gz: entry 'a/../b': ..."), DF_E_IO. */
int hub_extract_scan(const char *tarball, const hub_extract_opts *opts, hub_extract_result *out,
                     df_error *err);
/* Unpacks into a new folder under `tmp_parent` (which must exist, on the
 * same file system as the final target). On error nothing is left there. */
int hub_extract_unpack(const char *tarball, const char *tmp_parent, const hub_extract_opts *opts,
                       hub_extract_result *out, df_error *err);
/* Renames the staging folder to `target` (its parent folders are created;
 * `target` itself must not exist). */
int hub_extract_commit(hub_extract_result *r, const char *target, df_error *err);
/* Removes a staging folder that was not committed, and frees the result. */
void hub_extract_result_free(hub_extract_result *r);

/* The file of the result with this path, or NULL. */
const hub_extracted_file *hub_extract_find(const hub_extract_result *r, const char *path);
/* Removes a folder tree without following symbolic links (rm -rf). DF_OK
 * when it is gone (or was never there). */
int hub_remove_tree(const char *path, df_error *err);
/* mkdir -p with mode 0755. */
int hub_mkdirs(const char *path, df_error *err);

#endif
