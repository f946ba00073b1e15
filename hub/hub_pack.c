/*
 * hub_pack.c -- the reproducible tarball writer (libarchive).
 *
 * Every field that could carry the build machine's state (times, owners,
 * umask, directory order, gzip's clock) is fixed here; see hub_pack.h.
 */
#include "hub_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int compare_paths(const void *x, const void *y)
{
    return strcmp(((const hub_pack_entry *)x)->path, ((const hub_pack_entry *)y)->path);
}

static time_t fixed_mtime(void)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (!s || !*s) return 0;
    char *end;
    long long t = strtoll(s, &end, 10);
    return (*end || t < 0) ? 0 : (time_t)t;
}

static struct archive *open_writer(const char *path, df_error *err)
{
    struct archive *w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    archive_write_add_filter_gzip(w);
    /* "!timestamp": libarchive would otherwise stamp gzip's header with the
     * current time, and the digest would change every second. */
    if (archive_write_set_filter_option(w, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
        archive_write_set_filter_option(w, "gzip", "compression-level", "9") != ARCHIVE_OK ||
        archive_write_open_filename(w, path) != ARCHIVE_OK) {
        df_error_set(err, DF_E_IO, "cannot write %s: %s", path, archive_error_string(w));
        archive_write_free(w);
        return NULL;
    }
    return w;
}

static int write_source(struct archive *w, const hub_pack_entry *e, df_error *err)
{
    int fd = open(e->source, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return df_error_set(err, DF_E_IO, "cannot read %s: %s", e->source, strerror(errno));
    char *buf = malloc(1 << 16);
    if (!buf) abort();
    ssize_t n;
    int rc = DF_OK;
    while ((n = read(fd, buf, 1 << 16)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && archive_write_data(w, buf, (size_t)n) != n) {
            rc = df_error_set(err, DF_E_IO, "cannot pack %s: %s", e->path, archive_error_string(w));
            break;
        }
    }
    if (!rc && n < 0)
        rc = df_error_set(err, DF_E_IO, "cannot read %s: %s", e->source, strerror(errno));
    free(buf);
    close(fd);
    return rc;
}

static int write_entry(struct archive *w, const hub_pack_entry *e, time_t mtime, df_error *err)
{
    struct stat st = {0};
    if (e->source && stat(e->source, &st) != 0)
        return df_error_set(err, DF_E_IO, "cannot read %s: %s", e->source, strerror(errno));
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e->path);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, (st.st_mode & S_IXUSR) ? 0755 : 0644);
    archive_entry_set_size(ae, e->source ? st.st_size : (la_int64_t)e->len);
    archive_entry_set_mtime(ae, mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    int rc =
        archive_write_header(w, ae) == ARCHIVE_OK
            ? DF_OK
            : df_error_set(err, DF_E_IO, "cannot pack %s: %s", e->path, archive_error_string(w));
    archive_entry_free(ae);
    if (rc) return rc;
    if (e->source) return write_source(w, e, err);
    if (e->len && archive_write_data(w, e->data, e->len) != (la_ssize_t)e->len)
        return df_error_set(err, DF_E_IO, "cannot pack %s: %s", e->path, archive_error_string(w));
    return DF_OK;
}

int hub_pack_write(const char *tarball, hub_pack_entry *entries, size_t n, df_error *err)
{
    qsort(entries, n, sizeof *entries, compare_paths);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", tarball, (long)getpid());
    struct archive *w = open_writer(tmp, err);
    if (!w) return DF_E_IO;
    time_t mtime = fixed_mtime();
    int rc = DF_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_entry(w, &entries[i], mtime, err);
    if (archive_write_close(w) != ARCHIVE_OK && !rc)
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", tarball, archive_error_string(w));
    archive_write_free(w);
    int fd = rc ? -1 : open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (!rc && rename(tmp, tarball) != 0)
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", tarball, strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}
