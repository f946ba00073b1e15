/*
 * hub_store.c -- the local OCI image layout: folders, the lock, blobs and
 * index.json. Package-level operations are in hub_store_package.c.
 *
 * Every write goes through write_atomic() or a staging file renamed into
 * place; readers hold a shared flock and writers an exclusive one, so a
 * reader never sees a blob disappear under it (gc runs under the writer's
 * lock) and two pushes never interleave their index updates.
 */
#include "hub_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub_extract.h"

struct hub_store {
    char home[PATH_MAX];
    char root[PATH_MAX + 8]; /* home/hub */
    char tmp[PATH_MAX + 16]; /* home/tmp/hub */
    int lock_fd;
};

const char *hub_home(df_arena *a)
{
    const char *env = getenv("DOCFLOW_HOME");
    if (env && *env) return df_arena_strdup(a, env);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/tmp";
    }
    return df_arena_printf(a, "%s/.docflow", home);
}

const char *hub_store_home(const hub_store *s)
{
    return s->home;
}

const char *hub_store_tmp_dir(const hub_store *s)
{
    return s->tmp;
}

const char *hub_store_blob_path(const hub_store *s, const char *digest, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/blobs/sha256/%s", s->root, digest + 7);
    return buf;
}

/* ---- files ---------------------------------------------------------------------- */

static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
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

/* A new staging file in tmp/hub; *fd gets it open for writing. */
static int staging_file(hub_store *s, char *path, size_t cap, int *fd, df_error *err)
{
    snprintf(path, cap, "%s/write.XXXXXX", s->tmp);
    *fd = mkostemp(path, O_CLOEXEC);
    if (*fd < 0)
        return df_error_set(err, DF_E_IO, "cannot create a file in %s: %s", s->tmp,
                            strerror(errno));
    return DF_OK;
}

/* fsync, close and rename the staging file to `final`; on failure it is
 * removed. */
static int finish_staging(int fd, const char *tmp, const char *final, df_error *err)
{
    int ok = fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return df_error_set(err, DF_E_IO, "cannot write %s: %s", final, strerror(e));
    }
    sync_dir_of(final);
    return DF_OK;
}

static int write_atomic(hub_store *s, const char *final, const void *data, size_t len,
                        df_error *err)
{
    char tmp[PATH_MAX + 32];
    int fd, rc = staging_file(s, tmp, sizeof tmp, &fd, err);
    if (rc) return rc;
    if (write_all(fd, data, len) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return df_error_set(err, DF_E_IO, "cannot write %s: %s", final, strerror(e));
    }
    return finish_staging(fd, tmp, final, err);
}

/* ---- opening and locking ---------------------------------------------------------- */

static int take_lock(hub_store *s, int exclusive, df_error *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/hub.lock", s->home);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0)
        return df_error_set(err, DF_E_IO, "cannot open the store lock %s: %s", path,
                            strerror(errno));
    int op = exclusive ? LOCK_EX : LOCK_SH;
    if (flock(s->lock_fd, op | LOCK_NB) == 0) return DF_OK;
    if (errno == EWOULDBLOCK)
        fprintf(stderr, "docflow-hub: waiting for another docflow-hub to release %s ...\n", path);
    while (flock(s->lock_fd, op) != 0)
        if (errno != EINTR)
            return df_error_set(err, DF_E_IO, "cannot lock %s: %s", path, strerror(errno));
    return DF_OK;
}

/* Staging files left by a killed writer: only writers use tmp/hub, and we
 * hold the exclusive lock, so everything there is garbage. */
static void clear_staging(hub_store *s)
{
    DIR *d = opendir(s->tmp);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", s->tmp, e->d_name);
        hub_remove_tree(path, NULL);
    }
    closedir(d);
}

static int ensure_layout(hub_store *s, df_error *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/oci-layout", s->root);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int rc = DF_OK;
    if (access(path, F_OK) != 0) rc = write_atomic(s, path, layout, sizeof layout - 1, err);
    snprintf(path, sizeof path, "%s/index.json", s->root);
    static const char index[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" HUB_OCI_INDEX_TYPE "\",\"manifests\":[]}";
    if (!rc && access(path, F_OK) != 0) rc = write_atomic(s, path, index, sizeof index - 1, err);
    return rc;
}

hub_store *hub_store_open(const char *home, int exclusive, df_error *err)
{
    hub_store *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->lock_fd = -1;
    snprintf(s->home, sizeof s->home, "%s", home);
    snprintf(s->root, sizeof s->root, "%s/hub", home);
    snprintf(s->tmp, sizeof s->tmp, "%s/tmp/hub", home);
    char blobs[PATH_MAX + 32];
    snprintf(blobs, sizeof blobs, "%s/blobs/sha256", s->root);
    int rc = hub_mkdirs(blobs, err);
    if (!rc) rc = hub_mkdirs(s->tmp, err);
    if (!rc) rc = take_lock(s, exclusive, err);
    if (!rc && exclusive) {
        clear_staging(s);
        rc = ensure_layout(s, err);
    }
    if (rc) {
        df_error_prefix(err, "local store %s", s->root);
        hub_store_close(s);
        return NULL;
    }
    return s;
}

void hub_store_close(hub_store *s)
{
    if (!s) return;
    if (s->lock_fd >= 0) close(s->lock_fd); /* closing releases the flock */
    free(s);
}

/* ---- blobs ------------------------------------------------------------------------- */

static int corrupted(const char *path, const char *digest, const char *why, df_error *err)
{
    return df_error_set(err, DF_E_IO,
                        "the local store is corrupted: blob %s %s (expected %s); remove the "
                        "version (docflow-hub rm) and push, pull or install it again",
                        path, why, digest);
}

int hub_store_stage_file(hub_store *s, const char *src, char *staged, size_t cap, hub_oci_desc *out,
                         hub_store_progress_fn progress, void *ctx, df_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return df_error_set(err, errno == ENOENT ? DF_E_NOT_FOUND : DF_E_IO, "cannot read %s: %s",
                            src, strerror(errno));
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return df_error_set(err, DF_E_INVALID_INPUT, "%s is not a package tarball (a file)", src);
    }
    int fd, rc = staging_file(s, staged, cap, &fd, err);
    if (rc) {
        close(in);
        return rc;
    }
    hub_sha256 *h = hub_sha256_new();
    char *buf = malloc(1 << 17);
    if (!buf) abort();
    uint64_t done = 0;
    ssize_t n;
    while ((n = read(in, buf, 1 << 17)) > 0 || (n < 0 && errno == EINTR)) {
        if (n < 0) continue;
        hub_sha256_update(h, buf, (size_t)n);
        if (write_all(fd, buf, (size_t)n) != 0) break;
        done += (uint64_t)n;
        if (progress) progress(ctx, done, (uint64_t)st.st_size);
    }
    int e = errno, failed = n != 0;
    hub_sha256_final(h, &out->digest);
    free(buf);
    out->size = done;
    close(in);
    int closed = close(fd) == 0;
    if (failed || !closed) {
        unlink(staged);
        return df_error_set(err, DF_E_IO, "cannot copy %s into %s: %s", src, s->tmp,
                            strerror(failed ? e : errno));
    }
    return DF_OK;
}

int hub_store_put_blob_buffer(hub_store *s, const void *data, size_t len, hub_oci_desc *out,
                              df_error *err)
{
    hub_digest_buffer(data, len, &out->digest);
    out->size = len;
    char final[PATH_MAX + 96];
    return write_atomic(s, hub_store_blob_path(s, out->digest.s, final, sizeof final), data, len,
                        err);
}

int hub_store_adopt_blob(hub_store *s, const char *tmp_file, const hub_oci_desc *expect,
                         df_error *err)
{
    hub_digest got;
    uint64_t size;
    int rc = hub_digest_file(tmp_file, &got, &size, err);
    if (!rc && (strcmp(got.s, expect->digest.s) != 0 || size != expect->size))
        rc = df_error_set(err, DF_E_IO, "%s: %s, %llu bytes, but expected %s, %llu bytes", tmp_file,
                          got.s, (unsigned long long)size, expect->digest.s,
                          (unsigned long long)expect->size);
    char final[PATH_MAX + 96];
    hub_store_blob_path(s, expect->digest.s, final, sizeof final);
    int fd = rc ? -1 : open(tmp_file, O_RDONLY | O_CLOEXEC);
    if (!rc && (fd < 0 || fsync(fd) != 0 || rename(tmp_file, final) != 0))
        rc = df_error_set(err, DF_E_IO, "cannot move %s to %s: %s", tmp_file, final,
                          strerror(errno));
    if (fd >= 0) close(fd);
    if (rc)
        unlink(tmp_file);
    else
        sync_dir_of(final);
    return rc;
}

int hub_store_read_blob(hub_store *s, const char *digest, size_t max, df_buf *out, df_error *err)
{
    char path[PATH_MAX + 96];
    hub_store_blob_path(s, digest, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return corrupted(path, digest, "is missing", err);
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > max) {
        close(fd);
        return corrupted(path, digest, "is larger than any blob of its kind", err);
    }
    df_buf_reset(out);
    df_buf_reserve(out, (size_t)st.st_size + 1);
    ssize_t n;
    while ((n = read(fd, out->data + out->len, out->cap - out->len - 1)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0) out->len += (size_t)n;
    close(fd);
    out->data[out->len] = '\0';
    hub_digest got;
    hub_digest_buffer(out->data, out->len, &got);
    if (strcmp(got.s, digest) != 0)
        return corrupted(path, digest, "does not match its digest", err);
    return DF_OK;
}

int hub_store_verify_blob(hub_store *s, const hub_oci_desc *d, df_error *err)
{
    char path[PATH_MAX + 96];
    hub_store_blob_path(s, d->digest.s, path, sizeof path);
    hub_digest got;
    uint64_t size;
    if (access(path, F_OK) != 0) return corrupted(path, d->digest.s, "is missing", err);
    int rc = hub_digest_file(path, &got, &size, err);
    if (rc) return rc;
    if (strcmp(got.s, d->digest.s) != 0 || (d->size && size != d->size))
        return corrupted(path, d->digest.s, "does not match its digest", err);
    return DF_OK;
}

/* ---- index.json ------------------------------------------------------------------- */

static json_t *load_index(hub_store *s, df_error *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/index.json", s->root);
    if (access(path, F_OK) != 0)
        return json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", HUB_OCI_INDEX_TYPE,
                         "manifests");
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root || !json_is_array(json_object_get(root, "manifests"))) {
        df_error_set(err, DF_E_IO,
                     "the local store is corrupted: %s is not an OCI index (%s); restore it or "
                     "move %s away and push your packages again",
                     path, root ? "no manifests list" : jerr.text, s->root);
        json_decref(root);
        return NULL;
    }
    return root;
}

static int save_index(hub_store *s, json_t *root, df_error *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/index.json", s->root);
    char *text = json_dumps(root, JSON_COMPACT);
    int rc = write_atomic(s, path, text, strlen(text), err);
    free(text);
    return rc;
}

static const char *ref_name_of(const json_t *desc)
{
    return json_string_value(json_object_get(json_object_get(desc, "annotations"), HUB_REF_NAME));
}

/* Reads one index descriptor; 0 when it is not a docflow "ns/name:version". */
static int entry_from_json(const json_t *desc, hub_store_entry *e)
{
    const char *ref = ref_name_of(desc);
    const char *digest = json_string_value(json_object_get(desc, "digest"));
    json_t *size = json_object_get(desc, "size");
    hub_ident id;
    if (!ref || !digest || !hub_digest_valid(digest) || !json_is_integer(size) ||
        hub_ident_parse(ref, &id, NULL) != DF_OK || id.version.kind != HUB_VERSION_EXACT ||
        *id.registry || *id.digest)
        return 0;
    memset(e, 0, sizeof *e);
    snprintf(e->ns, sizeof e->ns, "%s", id.ns);
    snprintf(e->name, sizeof e->name, "%s", id.name);
    snprintf(e->version, sizeof e->version, "%s", id.version.text);
    snprintf(e->manifest.digest.s, sizeof e->manifest.digest.s, "%s", digest);
    e->manifest.size = (uint64_t)json_integer_value(size);
    return 1;
}

static int compare_entries(const void *x, const void *y)
{
    const hub_store_entry *a = x, *b = y;
    int c = strcmp(a->ns, b->ns);
    if (!c) c = strcmp(a->name, b->name);
    if (c) return c;
    hub_semver va, vb;
    hub_semver_parse(a->version, &va, NULL);
    hub_semver_parse(b->version, &vb, NULL);
    return hub_semver_order(&va, &vb);
}

int hub_store_list(hub_store *s, hub_store_entry **out, size_t *n, df_error *err)
{
    *out = NULL;
    *n = 0;
    json_t *root = load_index(s, err);
    if (!root) return DF_E_IO;
    json_t *list = json_object_get(root, "manifests");
    *out = calloc(json_array_size(list) + 1, sizeof **out);
    if (!*out) abort();
    size_t i;
    json_t *desc;
    json_array_foreach(list, i, desc)
    {
        if (entry_from_json(desc, &(*out)[*n])) (*n)++;
    }
    json_decref(root);
    qsort(*out, *n, sizeof **out, compare_entries);
    return DF_OK;
}

static char *ref_name(const hub_store_entry *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s:%s", e->ns, e->name, e->version);
    return buf;
}

/* Drops every descriptor with this ref name; returns how many. */
static size_t drop_ref(json_t *list, const char *ref)
{
    size_t dropped = 0;
    for (size_t i = json_array_size(list); i-- > 0;) {
        const char *r = ref_name_of(json_array_get(list, i));
        if (r && strcmp(r, ref) == 0) {
            json_array_remove(list, i);
            dropped++;
        }
    }
    return dropped;
}

int hub_store_set_entry(hub_store *s, const hub_store_entry *e, df_error *err)
{
    json_t *root = load_index(s, err);
    if (!root) return DF_E_IO;
    char ref[512];
    ref_name(e, ref, sizeof ref);
    json_t *list = json_object_get(root, "manifests");
    drop_ref(list, ref);
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s, s:I, s:{s:s}}", "mediaType", HUB_OCI_MANIFEST_TYPE,
                        "artifactType", HUB_CONFIG_TYPE, "digest", e->manifest.digest.s, "size",
                        (json_int_t)e->manifest.size, "annotations", HUB_REF_NAME, ref));
    int rc = save_index(s, root, err);
    json_decref(root);
    return rc;
}

int hub_store_remove_entry(hub_store *s, const hub_store_entry *e, df_error *err)
{
    json_t *root = load_index(s, err);
    if (!root) return DF_E_IO;
    char ref[512];
    ref_name(e, ref, sizeof ref);
    int rc = drop_ref(json_object_get(root, "manifests"), ref)
                 ? save_index(s, root, err)
                 : df_error_set(err, DF_E_NOT_FOUND, "%s is not in the local store", ref);
    json_decref(root);
    return rc;
}

/* ---- resolution -------------------------------------------------------------------- */

/* "1.0.0, 1.2.0" of the stored versions (at most the 12 newest). */
static void list_versions(df_buf *b, const char *const *versions, size_t n)
{
    size_t first = n > 12 ? n - 12 : 0;
    if (first) df_buf_append_str(b, "..., ");
    for (size_t i = first; i < n; i++)
        df_buf_printf(b, "%s%s", i > first ? ", " : "", versions[i]);
}

static int not_found(const hub_ident *id, const char *const *versions, size_t n, int allow_pre,
                     df_error *err)
{
    if (!n)
        return df_error_set(err, DF_E_NOT_FOUND,
                            "%s/%s is not in the local store; pull it (docflow-hub pull %s/%s "
                            "--registry URL), push it or install its tarball first",
                            id->ns, id->name, id->ns, id->name);
    df_buf b = DF_BUF_INIT;
    list_versions(&b, versions, n);
    hub_version_spec spec = id->version;
    const char *hint = "";
    if (!allow_pre && spec.kind != HUB_VERSION_EXACT &&
        hub_version_pick(&spec, 1, versions, n) >= 0)
        hint = "; only pre-releases match, and those are picked only when asked: pass --pre or "
               "name one";
    df_error_set(err, DF_E_NOT_FOUND,
                 "no version of %s/%s in the local store matches %s%s%s "
                 "(stored: %s)%s",
                 id->ns, id->name, *spec.text ? "'" : "", *spec.text ? spec.text : "a release",
                 *spec.text ? "'" : "", b.data, hint);
    df_buf_free(&b);
    return DF_E_NOT_FOUND;
}

static long pick_digest(const hub_ident *id, const hub_store_entry *mine, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hub_semver v;
        if (strcmp(mine[i].manifest.digest.s, id->digest) != 0) continue;
        if (id->version.kind == HUB_VERSION_NONE) return (long)i;
        if (hub_semver_parse(mine[i].version, &v, NULL) == DF_OK &&
            hub_version_matches(&id->version, &v, 1))
            return (long)i;
    }
    return -1;
}

int hub_store_resolve(hub_store *s, const hub_ident *id, int allow_prerelease, hub_store_entry *out,
                      df_error *err)
{
    hub_store_entry *all;
    size_t n, mine = 0;
    int rc = hub_store_list(s, &all, &n, err);
    if (rc) return rc;
    /* Keep this package's entries at the front, in version order. */
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].ns, id->ns) == 0 && strcmp(all[i].name, id->name) == 0)
            all[mine++] = all[i];
    const char **versions = calloc(mine + 1, sizeof *versions);
    if (!versions) abort();
    for (size_t i = 0; i < mine; i++)
        versions[i] = all[i].version;
    long pick = *id->digest ? pick_digest(id, all, mine)
                            : hub_version_pick(&id->version, allow_prerelease, versions, mine);
    if (pick >= 0)
        *out = all[pick];
    else if (*id->digest && mine)
        rc = df_error_set(err, DF_E_NOT_FOUND,
                          "%s/%s%s%s@%s is not in the local store (no stored version has that "
                          "manifest digest; docflow-hub list --json shows the digests)",
                          id->ns, id->name, *id->version.text ? ":" : "", id->version.text,
                          id->digest);
    else
        rc = not_found(id, versions, mine, allow_prerelease, err);
    free(versions);
    free(all);
    return rc;
}

/* ---- garbage collection ------------------------------------------------------------- */

typedef struct digest_set {
    char (*items)[HUB_DIGEST_LEN + 1];
    size_t n;
} digest_set;

static void set_add(digest_set *set, const char *digest)
{
    if (!digest || !hub_digest_valid(digest)) return;
    set->items = realloc(set->items, (set->n + 1) * sizeof *set->items);
    if (!set->items) abort();
    snprintf(set->items[set->n++], HUB_DIGEST_LEN + 1, "%s", digest);
}

static int set_has(const digest_set *set, const char *hex)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i] + 7, hex) == 0) return 1;
    return 0;
}

/* Adds a manifest's children (config and layers, or an index's
 * manifests); 0 when the manifest cannot be read, so gc keeps everything. */
static int add_children(hub_store *s, const char *digest, digest_set *set)
{
    df_buf raw = DF_BUF_INIT;
    int ok = hub_store_read_blob(s, digest, HUB_OCI_MAX_MANIFEST_BYTES, &raw, NULL) == DF_OK;
    json_t *root = ok ? json_loadb(raw.data, raw.len, 0, NULL) : NULL;
    df_buf_free(&raw);
    if (!root) return 0;
    set_add(set, json_string_value(json_object_get(json_object_get(root, "config"), "digest")));
    static const char *const lists[] = {"layers", "manifests"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(root, lists[k]), i, d)
        {
            set_add(set, json_string_value(json_object_get(d, "digest")));
        }
    }
    json_decref(root);
    return 1;
}

static void delete_unreferenced_blobs(hub_store *s, const digest_set *keep)
{
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/blobs/sha256", s->root);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || set_has(keep, e->d_name)) continue;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* Calls fn for every entry of `dir` whose name does not start with '.'. */
static void for_each_child(const char *dir, void (*fn)(void *, const char *, const char *),
                           void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(ctx, path, e->d_name);
    }
    if (d) closedir(d);
}

typedef struct orphan_walk {
    const hub_store_entry *entries;
    size_t n;
    const char *ns, *name;
} orphan_walk;

static void visit_version(void *ctx, const char *path, const char *version)
{
    const orphan_walk *w = ctx;
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->entries[i].ns, w->ns) && !strcmp(w->entries[i].name, w->name) &&
            !strcmp(w->entries[i].version, version))
            return;
    hub_remove_tree(path, NULL);
}

static void visit_name(void *ctx, const char *path, const char *name)
{
    ((orphan_walk *)ctx)->name = name;
    for_each_child(path, visit_version, ctx);
    rmdir(path); /* only when empty */
}

static void visit_namespace(void *ctx, const char *path, const char *ns)
{
    ((orphan_walk *)ctx)->ns = ns;
    for_each_child(path, visit_name, ctx);
    rmdir(path);
}

/* executors/<ns>/<name>/<version>/ folders whose version is not stored. */
static void delete_orphan_unpacked(hub_store *s, const hub_store_entry *entries, size_t n)
{
    char base[PATH_MAX + 16];
    snprintf(base, sizeof base, "%s/executors", s->home);
    orphan_walk w = {entries, n, NULL, NULL};
    for_each_child(base, visit_namespace, &w);
}

int hub_store_gc(hub_store *s, df_error *err)
{
    json_t *root = load_index(s, err);
    if (!root) return DF_E_IO;
    digest_set keep = {NULL, 0};
    int complete = 1;
    size_t i;
    json_t *desc;
    json_array_foreach(json_object_get(root, "manifests"), i, desc)
    {
        const char *digest = json_string_value(json_object_get(desc, "digest"));
        set_add(&keep, digest);
        if (digest && hub_digest_valid(digest)) complete &= add_children(s, digest, &keep);
    }
    json_decref(root);
    /* With an unreadable manifest we cannot know its blobs: delete none. */
    if (complete) delete_unreferenced_blobs(s, &keep);
    free(keep.items);
    hub_store_entry *entries;
    size_t n;
    if (hub_store_list(s, &entries, &n, NULL) == DF_OK) {
        delete_orphan_unpacked(s, entries, n);
        free(entries);
    }
    return DF_OK;
}
