/*
 * hub_digest.c -- sha256 through OpenSSL's EVP interface.
 */
#include "hub_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hub_sha256 {
    EVP_MD_CTX *ctx;
};

hub_sha256 *hub_sha256_new(void)
{
    hub_sha256 *h = malloc(sizeof *h);
    if (!h || !(h->ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
        fprintf(stderr, "docflow-hub: cannot start a sha256 digest\n");
        abort();
    }
    return h;
}

void hub_sha256_update(hub_sha256 *h, const void *data, size_t len)
{
    if (len) EVP_DigestUpdate(h->ctx, data, len);
}

void hub_sha256_final(hub_sha256 *h, hub_digest *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    EVP_MD_CTX_free(h->ctx);
    free(h);
    static const char hex[] = "0123456789abcdef";
    memcpy(out->s, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        out->s[7 + 2 * i] = hex[md[i] >> 4];
        out->s[8 + 2 * i] = hex[md[i] & 15];
    }
    out->s[HUB_DIGEST_LEN] = '\0';
}

void hub_digest_buffer(const void *data, size_t len, hub_digest *out)
{
    hub_sha256 *h = hub_sha256_new();
    hub_sha256_update(h, data, len);
    hub_sha256_final(h, out);
}

int hub_digest_file(const char *path, hub_digest *out, uint64_t *size, df_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return df_error_set(err, DF_E_IO, "%s: %s", path, strerror(errno));
    hub_sha256 *h = hub_sha256_new();
    char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            hub_sha256_final(h, out);
            return df_error_set(err, DF_E_IO, "%s: %s", path, strerror(e));
        }
        if (n == 0) break;
        hub_sha256_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    hub_sha256_final(h, out);
    if (size) *size = total;
    return DF_OK;
}

int hub_digest_valid(const char *s)
{
    if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != HUB_DIGEST_LEN) return 0;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}
