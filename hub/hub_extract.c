/*
 * hub_extract.c -- checked reading and unpacking of package tarballs.
 *
 * Modelled on falcoctl's internal/utils/extract.go: every check below says
 * which attack it closes. The rule of thumb is that a tarball can lie about
 * everything (names, types, sizes, modes), so nothing in a header is used
 * without a check, and nothing is written through a path string that the
 * archive could have influenced: files are created relative to directory
 * descriptors we opened ourselves, one name at a time.
 */
#include "hub_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PATH_BYTES 255
#define MAX_DEPTH      16

typedef struct walker {
    const char *tarball; /* the file */
    const char *name;    /* what messages call it */
    const hub_extract_opts *opts;
    hub_extract_result *out;
    int root_fd; /* the staging folder; -1 when only scanning */
    uint64_t total_bytes;
    uint64_t entries;
    df_error *err;
} walker;

/* A name as it may be printed: control characters become '?', so a hostile
 * name cannot rewrite the user's terminal. */
static const char *printable(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i], next = (unsigned char)s[i + 1];
        /* C1 controls arrive in UTF-8 as 0xc2 0x80..0x9f: both bytes go. */
        if (c == 0xc2 && next >= 0x80 && next <= 0x9f && i + 2 < cap) {
            buf[i] = buf[i + 1] = '?';
            i++;
            continue;
        }
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : s[i];
    }
    buf[i] = '\0';
    return buf;
}

static int refuse(walker *w, const char *name, const char *fmt, ...) DF_PRINTF(3, 4);
static int refuse(walker *w, const char *name, const char *fmt, ...)
{
    char reason[512], shown[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return df_error_set(w->err, DF_E_INVALID_INPUT, "%s: entry '%s': %s", w->name,
                        printable(name, shown, sizeof shown), reason);
}

/* ---- header checks ------------------------------------------------------------------ */

/* Only regular files and folders are ever written. */
static int check_type(walker *w, struct archive_entry *e, const char *name)
{
    char shown[300];
    /* Hard links first: their type field may say "regular file". A link's
     * target is a second name that the path checks below never see, so it
     * could name any file on the system (falcoctl: "the '..' check above
     * only inspects header.Name, never header.Linkname"). */
    if (archive_entry_hardlink(e))
        return refuse(w, name,
                      "a hard link (to '%s'); refused: a link target escapes the path "
                      "checks and can reach files outside the target folder",
                      printable(archive_entry_hardlink(e), shown, sizeof shown));
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
    case AE_IFDIR:
        return DF_OK;
    case AE_IFLNK:
        /* A symlink can point anywhere; a later entry written "through" it
         * would land outside the target folder (the classic tar-slip). */
        return refuse(w, name,
                      "a symbolic link (to '%s'); refused: links can point outside the target "
                      "folder, and files written through them would follow",
                      printable(archive_entry_symlink(e), shown, sizeof shown));
    case AE_IFCHR:
    case AE_IFBLK:
        /* Device nodes give whoever opens them access to hardware or kernel
         * memory; a package has no use for them. */
        return refuse(w, name, "a %s device node; refused: device files open hardware",
                      archive_entry_filetype(e) == AE_IFCHR ? "character" : "block");
    case AE_IFIFO:
        /* A FIFO blocks whoever opens it for reading: a loader that opens
         * package files would hang. */
        return refuse(w, name, "a FIFO (named pipe); refused: opening one blocks forever");
    case AE_IFSOCK:
        return refuse(w, name, "a socket; refused: only regular files and folders are allowed");
    default:
        return refuse(w, name,
                      "an entry of unknown type %o; refused: only regular files and "
                      "folders are allowed",
                      (unsigned)archive_entry_filetype(e));
    }
}

static int check_mode(walker *w, struct archive_entry *e, const char *name)
{
    mode_t mode = archive_entry_mode(e);
    /* We never apply the archive's mode, but a setuid/setgid bit means the
     * tarball was made to raise privileges somewhere: refuse it outright
     * rather than silently clean it. */
    if (mode & (S_ISUID | S_ISGID))
        return refuse(w, name,
                      "has the %s bit (mode %04o); refused: a package must not carry "
                      "privilege-raising files",
                      (mode & S_ISUID) ? "setuid" : "setgid", (unsigned)(mode & 07777));
    return DF_OK;
}

/* Checks one '/'-separated part of a path. */
static int check_part(walker *w, const char *name, const char *part, size_t n)
{
    /* ".." walks out of the target folder (path traversal). */
    if (n == 2 && part[0] == '.' && part[1] == '.')
        return refuse(w, name, "a '..' part; refused: it would write outside the target folder");
    /* "." and empty parts are harmless by themselves but give one file two
     * names, which defeats the duplicate check and the manifest's list. */
    if (n == 0 || (n == 1 && part[0] == '.'))
        return refuse(w, name,
                      "an empty or '.' part in the path; refused: every file must have "
                      "exactly one name");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)part[i];
        /* A backslash is a separator on other systems; control characters
         * hide names from the user. */
        if (c < 0x20 || c == 0x7f || c == '\\')
            return refuse(w, name, "a control character or backslash in the path; refused");
    }
    return DF_OK;
}

/* Normalises and checks an entry's path: *norm points into `name`. */
static int check_path(walker *w, const char *name, int is_dir, char *norm, size_t cap)
{
    if (!name || !*name)
        return refuse(w, "", "an entry without a name (or one that is not valid text); refused");
    /* An absolute name would be written wherever it says. */
    if (name[0] == '/')
        return refuse(w, name,
                      "an absolute path; refused: it would write outside the target folder");
    const char *p = name;
    while (p[0] == '.' && p[1] == '/')
        p += 2; /* tar's "./x": the same as "x" */
    size_t len = strlen(p);
    if (is_dir && len && p[len - 1] == '/') len--;
    if (len > MAX_PATH_BYTES || len >= cap)
        return refuse(w, name, "a path longer than %d bytes; refused", MAX_PATH_BYTES);
    memcpy(norm, p, len);
    norm[len] = '\0';
    if (!len) return DF_OK; /* "./": the target folder itself */
    int depth = 0;
    for (const char *part = norm;; depth++) {
        size_t n = strcspn(part, "/");
        int rc = check_part(w, name, part, n);
        if (rc) return rc;
        if (depth >= MAX_DEPTH)
            return refuse(w, name, "a path deeper than %d folders; refused", MAX_DEPTH);
        if (!part[n]) return DF_OK;
        part += n + 1;
    }
}

/* Limits bound what a "tar bomb" can cost: per file, in total, in entries. */
static int check_limits(walker *w, struct archive_entry *e, const char *name)
{
    if (++w->entries > w->opts->max_entries)
        return refuse(w, name, "more than %llu entries in the archive; refused",
                      (unsigned long long)w->opts->max_entries);
    if (archive_entry_filetype(e) != AE_IFREG) return DF_OK;
    int64_t size = archive_entry_size(e);
    if (size < 0 || (uint64_t)size > w->opts->max_entry_bytes)
        return refuse(w, name, "%lld bytes, over the limit of %llu bytes per file; refused",
                      (long long)size, (unsigned long long)w->opts->max_entry_bytes);
    if (w->total_bytes + (uint64_t)size > w->opts->max_total_bytes)
        return refuse(w, name, "the files exceed %llu bytes in total; refused",
                      (unsigned long long)w->opts->max_total_bytes);
    /* Sparse entries describe holes by offsets the header controls. */
    if (archive_entry_sparse_count(e) > 0)
        return refuse(w, name, "a sparse file; refused: only plain regular files are allowed");
    return DF_OK;
}

static int check_duplicate(walker *w, const char *path, const char *name)
{
    /* A second entry with the same name would replace a file after it was
     * checked (or hashed): the archive must name each file once. */
    for (size_t i = 0; i < w->out->n_files; i++)
        if (strcmp(w->out->files[i].path, path) == 0)
            return refuse(w, name, "appears twice in the archive; refused");
    return DF_OK;
}

/* ---- writing ---------------------------------------------------------------------- */

/* Opens the folders of `path` below the staging folder, creating missing
 * ones, one name at a time. With `whole` the last part is a folder too;
 * otherwise *leaf gets the file name. Returns a descriptor or -1. */
static int open_dirs(walker *w, const char *path, int whole, const char **leaf)
{
    int fd = dup(w->root_fd);
    const char *p = path;
    while (fd >= 0) {
        size_t n = strcspn(p, "/");
        if (!p[n] && !whole) {
            *leaf = p;
            return fd;
        }
        char part[MAX_PATH_BYTES + 1];
        memcpy(part, p, n);
        part[n] = '\0';
        /* O_NOFOLLOW | O_DIRECTORY: only a real folder we can walk into is
         * accepted. Nothing in the staging folder can be a link (we never
         * create one), but this also closes the window between mkdirat and
         * openat in which another process could swap one in (TOCTOU). */
        if (mkdirat(fd, part, 0755) != 0 && errno != EEXIST) {
            close(fd);
            return -1;
        }
        int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        if (!p[n]) break;
        p += n + 1;
    }
    return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Streams one entry's data: hashes it, writes it to fd (when >= 0) and
 * captures it when asked. */
static int copy_data(walker *w, struct archive *a, int fd, const char *path, const char *name,
                     hub_extracted_file *f)
{
    int capture = w->opts->capture && strcmp(path, w->opts->capture) == 0;
    hub_sha256 *h = hub_sha256_new();
    const void *buf;
    size_t size;
    la_int64_t offset;
    int r, rc = DF_OK;
    while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK) {
        /* Data must arrive in one piece from offset 0: a gap is a hole the
         * header did not declare. */
        if ((uint64_t)offset != f->size) {
            rc = refuse(w, name, "data with holes; refused");
            break;
        }
        f->size += size;
        w->total_bytes += size;
        if (f->size > w->opts->max_entry_bytes || w->total_bytes > w->opts->max_total_bytes) {
            rc = refuse(w, name, "more data than the size limits allow; refused");
            break;
        }
        hub_sha256_update(h, buf, size);
        if (capture && f->size > w->opts->capture_max) {
            rc = refuse(w, name, "larger than %zu bytes; refused", w->opts->capture_max);
            break;
        }
        if (capture) df_buf_append(&w->out->captured, buf, size);
        if (fd >= 0 && write_all(fd, buf, size) != 0) {
            rc = df_error_set(w->err, DF_E_IO, "cannot write %s from %s: %s", path, w->name,
                              strerror(errno));
            break;
        }
    }
    if (!rc && r != ARCHIVE_EOF)
        rc = df_error_set(w->err, DF_E_INVALID_INPUT, "%s: reading '%s' failed: %s", w->name, path,
                          archive_error_string(a));
    hub_sha256_final(h, &f->digest);
    if (capture && !rc) w->out->has_captured = 1;
    return rc;
}

static int write_file(walker *w, struct archive *a, struct archive_entry *e, const char *path,
                      const char *name, hub_extracted_file *f)
{
    if (w->root_fd < 0) return copy_data(w, a, -1, path, name, f);
    const char *leaf = NULL;
    int dir = open_dirs(w, path, 0, &leaf);
    if (dir < 0)
        return df_error_set(w->err, DF_E_INVALID_INPUT,
                            "%s: entry '%s': a parent folder cannot be created (%s)", w->name, path,
                            strerror(errno));
    mode_t mode = (archive_entry_mode(e) & 0111) ? 0755 : 0644;
    /* O_EXCL: never reuse or truncate an existing file; O_NOFOLLOW: never
     * write through a link in the last position. */
    int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    close(dir);
    if (fd < 0)
        return df_error_set(w->err, DF_E_INVALID_INPUT, "%s: entry '%s' cannot be created: %s",
                            w->name, path, strerror(errno));
    int rc = copy_data(w, a, fd, path, name, f);
    if (!rc && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
        rc = df_error_set(w->err, DF_E_IO, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int make_dir(walker *w, const char *path)
{
    if (w->root_fd < 0 || !*path) return DF_OK;
    int fd = open_dirs(w, path, 1, NULL);
    if (fd < 0)
        return df_error_set(w->err, DF_E_INVALID_INPUT, "%s: folder '%s' cannot be created: %s",
                            w->name, path, strerror(errno));
    close(fd);
    return DF_OK;
}

/* ---- the walk ------------------------------------------------------------------------ */

static int handle_entry(walker *w, struct archive *a, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    char path[MAX_PATH_BYTES + 2];
    int rc;
    if ((rc = check_type(w, e, name ? name : "")) || (rc = check_mode(w, e, name)) ||
        (rc = check_path(w, name, archive_entry_filetype(e) == AE_IFDIR, path, sizeof path)) ||
        (rc = check_limits(w, e, name)))
        return rc;
    if (archive_entry_filetype(e) == AE_IFDIR) return make_dir(w, path);
    if (!*path) return refuse(w, name, "a file without a name; refused");
    if ((rc = check_duplicate(w, path, name))) return rc;
    hub_extract_result *out = w->out;
    out->files = realloc(out->files, (out->n_files + 1) * sizeof *out->files);
    if (!out->files) abort();
    hub_extracted_file *f = &out->files[out->n_files];
    *f = (hub_extracted_file){.path = strdup(path)};
    if (!f->path) abort();
    out->n_files++;
    return write_file(w, a, e, path, name, f);
}

static struct archive *open_archive(const char *tarball, const char *name, df_error *err)
{
    struct archive *a = archive_read_new();
    /* gzip + tar only: every other format or filter is attack surface we
     * do not need. */
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, tarball, 1 << 16) != ARCHIVE_OK) {
        int missing = archive_errno(a) == ENOENT;
        df_error_set(err, missing ? DF_E_NOT_FOUND : DF_E_INVALID_INPUT,
                     missing ? "%s: %s" : "%s: not a readable .tar.gz (%s)", name,
                     archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static int walk(walker *w)
{
    struct archive *a = open_archive(w->tarball, w->name, w->err);
    if (!a) return w->err ? w->err->code : DF_E_INVALID_INPUT;
    struct archive_entry *e;
    int r, rc = DF_OK;
    while (!rc && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (r < ARCHIVE_WARN) {
            rc = df_error_set(w->err, DF_E_INVALID_INPUT,
                              "%s: not a readable .tar.gz (%s); make packages with "
                              "docflow-hub build",
                              w->name, archive_error_string(a));
            break;
        }
        rc = handle_entry(w, a, e);
    }
    archive_read_free(a);
    return rc;
}

int hub_extract_scan(const char *tarball, const hub_extract_opts *opts, hub_extract_result *out,
                     df_error *err)
{
    memset(out, 0, sizeof *out);
    walker w = {tarball, opts->name ? opts->name : tarball, opts, out, -1, 0, 0, err};
    return walk(&w);
}

int hub_extract_unpack(const char *tarball, const char *tmp_parent, const hub_extract_opts *opts,
                       hub_extract_result *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/unpack.XXXXXX", tmp_parent);
    if (!mkdtemp(tmpl))
        return df_error_set(err, DF_E_IO, "cannot create a folder in %s: %s", tmp_parent,
                            strerror(errno));
    out->staging = realpath(tmpl, NULL);
    if (!out->staging) out->staging = strdup(tmpl);
    walker w = {tarball, opts->name ? opts->name : tarball, opts, out, -1, 0, 0, err};
    w.root_fd = open(out->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = w.root_fd < 0
                 ? df_error_set(err, DF_E_IO, "cannot open %s: %s", out->staging, strerror(errno))
                 : walk(&w);
    if (!rc && fsync(w.root_fd) != 0)
        rc = df_error_set(err, DF_E_IO, "cannot sync %s: %s", out->staging, strerror(errno));
    if (w.root_fd >= 0) close(w.root_fd);
    if (rc) {
        hub_remove_tree(out->staging, NULL);
        free(out->staging);
        out->staging = NULL;
    }
    return rc;
}

static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int hub_extract_commit(hub_extract_result *r, const char *target, df_error *err)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", target);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) *slash = '\0';
    int rc = hub_mkdirs(parent, err);
    if (rc) return rc;
    if (rename(r->staging, target) != 0)
        return df_error_set(err, DF_E_IO, "cannot move the unpacked package to %s: %s", target,
                            strerror(errno));
    sync_dir(parent);
    free(r->staging);
    r->staging = NULL;
    return DF_OK;
}

void hub_extract_result_free(hub_extract_result *r)
{
    if (r->staging) {
        hub_remove_tree(r->staging, NULL);
        free(r->staging);
    }
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].path);
    free(r->files);
    df_buf_free(&r->captured);
    memset(r, 0, sizeof *r);
}

const hub_extracted_file *hub_extract_find(const hub_extract_result *r, const char *path)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i].path, path) == 0) return &r->files[i];
    return NULL;
}

/* ---- folders ---------------------------------------------------------------------- */

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int hub_remove_tree(const char *path, df_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? DF_OK : DF_E_IO;
    /* FTW_PHYS: never follow a link out of the tree; FTW_DEPTH: contents
     * before their folder. */
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return df_error_set(err, DF_E_IO, "cannot remove %s: %s", path, strerror(errno));
    return DF_OK;
}

int hub_mkdirs(const char *path, df_error *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return df_error_set(err, DF_E_INVALID_INPUT, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return df_error_set(err, DF_E_IO, "cannot create folder %s: %s", buf, strerror(errno));
        *p = c;
        if (!c) return DF_OK;
    }
}
