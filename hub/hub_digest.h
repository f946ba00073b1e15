/*
 * hub_digest.h -- sha256 digests (OpenSSL libcrypto) of buffers and files,
 * in OCI's "sha256:<64 hex>" form. Every blob and file the hub touches is
 * verified through these.
 */
#ifndef DOCFLOW_HUB_DIGEST_H
#define DOCFLOW_HUB_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/error.h"

#define HUB_DIGEST_LEN 71 /* "sha256:" + 64 hex */

typedef struct hub_digest {
    char s[HUB_DIGEST_LEN + 1]; /* "sha256:..." NUL-terminated */
} hub_digest;

/* Incremental hashing, for streams (uploads, downloads). */
typedef struct hub_sha256 hub_sha256;
hub_sha256 *hub_sha256_new(void);
void hub_sha256_update(hub_sha256 *h, const void *data, size_t len);
/* Finishes and frees h. */
void hub_sha256_final(hub_sha256 *h, hub_digest *out);

void hub_digest_buffer(const void *data, size_t len, hub_digest *out);
/* Hashes a file; *size (if non-NULL) gets its length. DF_OK or DF_E_IO. */
int hub_digest_file(const char *path, hub_digest *out, uint64_t *size, df_error *err);
/* 1 when s is "sha256:" followed by exactly 64 lowercase hex digits. */
int hub_digest_valid(const char *s);

#endif
