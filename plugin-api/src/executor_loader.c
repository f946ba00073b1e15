/*
 * executor_loader.c -- finds, opens and checks executor plugins (.so files)
 * through libltdl.
 *
 * Checks, in order, each with its own message: the file exists; it opens;
 * it exports docflow_plugin_v1 (or says it was built for another major); the
 * ABI version is compatible (same major, host minor >= plugin minor); the
 * descriptors are well-formed (walked with the strides the plugin declares,
 * so older, shorter layouts load). Modules are opened resident and never
 * closed: an instance may outlive whoever asked for it, and resident
 * modules keep sanitizer stack traces symbolised.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/buf.h"
#include "docflow/executor_runtime.h"
#include "executor_internal.h"

/* The oldest layouts this host accepts. A request row without `batch`
 * (an earlier draft of ABI 1) is read as DF_BATCH_WHOLE. */
#define DF_PLUGIN_MIN_SIZE       sizeof(df_plugin)
#define DF_EXECUTOR_DEF_MIN_SIZE sizeof(df_executor_def)
#define DF_REQUEST_DEF_MIN_SIZE  offsetof(df_request_def, batch)

typedef struct loaded_module {
    char *path; /* real path */
    const df_plugin *plugin;
    struct loaded_module *next;
} loaded_module;

/* libltdl is "not well tested in a multithreaded environment": every call
 * into it happens under this lock. */
static pthread_mutex_t loader_lock = PTHREAD_MUTEX_INITIALIZER;
static loaded_module *modules;
static int ltdl_ready;

static int valid_jtype(const char *s)
{
    if (!s || !*s) return 0;
    if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return 0;
    for (const char *p = s; *p; p++)
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

/* Reads row i of a table with the plugin's stride into a zeroed host-side
 * struct, so rows shorter than ours read as zero in the missing fields. */
static void read_row(void *dst, size_t dst_size, const void *base, size_t stride, size_t i)
{
    memset(dst, 0, dst_size);
    memcpy(dst, (const char *)base + i * stride, stride < dst_size ? stride : dst_size);
}

void df_executor_def_read(const df_plugin *p, size_t i, df_executor_def *out)
{
    read_row(out, sizeof *out, p->executors, p->executor_size, i);
}

void df_request_def_read(const df_executor_def *d, size_t i, df_request_def *out)
{
    read_row(out, sizeof *out, d->requests, d->request_size, i);
}

/* Collects every problem of one executor definition into `msg`. */
static void check_requests(const df_executor_def *d, df_buf *msg)
{
    if (d->n_requests && (!d->requests || d->request_size < DF_REQUEST_DEF_MIN_SIZE)) {
        df_buf_printf(msg, "; %s: requests table missing or request_size %u too small", d->jtype,
                      d->request_size);
        return;
    }
    int defaults = 0;
    for (uint32_t i = 0; i < d->n_requests; i++) {
        df_request_def r;
        df_request_def_read(d, i, &r);
        if (!r.handler) df_buf_printf(msg, "; %s: request row %u has no handler", d->jtype, i);
        if (!r.method || !*r.method)
            df_buf_printf(msg, "; %s: request row %u has no method name", d->jtype, i);
        if (!r.endpoint)
            defaults++;
        else if (r.endpoint[0] != '/')
            df_buf_printf(msg, "; %s: endpoint '%s' must start with '/'", d->jtype, r.endpoint);
        if (r.batch.mode > DF_BATCH_N || (r.batch.mode == DF_BATCH_N && r.batch.size == 0))
            df_buf_printf(msg, "; %s: request row %u has a bad batch policy", d->jtype, i);
        for (uint32_t j = 0; j < i; j++) {
            df_request_def o;
            df_request_def_read(d, j, &o);
            if (r.endpoint && o.endpoint && strcmp(r.endpoint, o.endpoint) == 0)
                df_buf_printf(msg, "; %s: endpoint '%s' is bound twice", d->jtype, r.endpoint);
            if (r.method && o.method && strcmp(r.method, o.method) == 0 && r.handler != o.handler)
                df_buf_printf(msg, "; %s: method name '%s' names two handlers", d->jtype, r.method);
        }
    }
    if (defaults > 1)
        df_buf_printf(msg, "; %s: %d default handlers (at most one)", d->jtype, defaults);
}

static void check_executors(const df_plugin *p, df_buf *msg)
{
    if (!p->executors || p->executor_size < DF_EXECUTOR_DEF_MIN_SIZE) {
        df_buf_printf(msg, "; executor table missing or executor_size %u too small (need %zu)",
                      p->executor_size, (size_t)DF_EXECUTOR_DEF_MIN_SIZE);
        return;
    }
    if (p->n_executors == 0) df_buf_append_str(msg, "; it declares no executors");
    for (uint32_t i = 0; i < p->n_executors; i++) {
        df_executor_def d;
        df_executor_def_read(p, i, &d);
        if (!valid_jtype(d.jtype)) {
            df_buf_printf(msg, "; executor %u: jtype '%s' is not an identifier", i,
                          d.jtype ? d.jtype : "(null)");
            continue;
        }
        if (d.struct_size < DF_EXECUTOR_DEF_MIN_SIZE)
            df_buf_printf(msg, "; %s: struct_size %u too small", d.jtype, d.struct_size);
        if (!d.init || !d.close) df_buf_printf(msg, "; %s: init and close are required", d.jtype);
        for (uint32_t j = 0; j < i; j++) {
            df_executor_def o;
            df_executor_def_read(p, j, &o);
            if (o.jtype && strcmp(o.jtype, d.jtype) == 0)
                df_buf_printf(msg, "; jtype '%s' is declared twice", d.jtype);
        }
        check_requests(&d, msg);
    }
}

static int check_plugin(const char *path, const df_plugin *p, df_error *err)
{
    if (!p)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: docflow_plugin_v1() returned NULL; it must return its static "
                            "df_plugin (use DF_PLUGIN from docflow/executor.h)",
                            path);
    if (p->struct_size < DF_PLUGIN_MIN_SIZE)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: df_plugin.struct_size is %u, smaller than any ABI 1 layout (%zu); "
                            "rebuild it with DF_PLUGIN from docflow/executor.h",
                            path, p->struct_size, (size_t)DF_PLUGIN_MIN_SIZE);
    if (p->abi_major != DF_ABI_MAJOR)
        return df_error_set(err, DF_E_UNSUPPORTED,
                            "%s: built for docflow ABI %u.%u, but this host speaks ABI %d.%d "
                            "(major versions must match); rebuild the plugin against this docflow",
                            path, p->abi_major, p->abi_minor, DF_ABI_MAJOR, DF_ABI_MINOR);
    if (p->abi_minor > DF_ABI_MINOR)
        return df_error_set(err, DF_E_UNSUPPORTED,
                            "%s: built for docflow ABI %u.%u, newer than this host's ABI %d.%d; "
                            "upgrade docflow or rebuild the plugin against this one",
                            path, p->abi_major, p->abi_minor, DF_ABI_MAJOR, DF_ABI_MINOR);
    df_buf msg = DF_BUF_INIT;
    check_executors(p, &msg);
    if (msg.len) {
        df_error_set(err, DF_E_INVALID_INPUT, "%s: malformed plugin descriptor: %s", path,
                     msg.data + 2);
        df_buf_free(&msg);
        return DF_E_INVALID_INPUT;
    }
    return DF_OK;
}

static int open_module(const char *real, const df_plugin **out, df_error *err)
{
    if (!ltdl_ready) {
        if (lt_dlinit() != 0)
            return df_error_set(err, DF_E_INTERNAL, "libltdl failed to initialise: %s",
                                lt_dlerror());
        ltdl_ready = 1;
    }
    lt_dladvise advise;
    lt_dladvise_init(&advise);
    lt_dladvise_local(&advise);
    lt_dladvise_resident(&advise);
    lt_dlhandle h = lt_dlopenadvise(real, advise);
    lt_dladvise_destroy(&advise);
    if (!h)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: cannot be loaded: %s", real,
                            lt_dlerror());
    df_plugin_entry entry;
    void *sym = lt_dlsym(h, DF_PLUGIN_ENTRY_NAME);
    if (!sym) {
        int newer = lt_dlsym(h, "docflow_plugin_v2") != NULL;
        if (newer)
            return df_error_set(err, DF_E_UNSUPPORTED,
                                "%s: built for docflow ABI 2 (it exports docflow_plugin_v2); this "
                                "host speaks ABI %d.%d: use a docflow release with ABI 2",
                                real, DF_ABI_MAJOR, DF_ABI_MINOR);
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: not a docflow executor plugin: it does not export %s (declare "
                            "it with DF_PLUGIN(...) from docflow/executor.h)",
                            real, DF_PLUGIN_ENTRY_NAME);
    }
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer, as dlsym requires */
    const df_plugin *p = entry();
    int rc = check_plugin(real, p, err);
    if (rc) return rc;
    *out = p;
    return DF_OK;
}

const df_plugin *df_loader_open(const char *path, df_error *err)
{
    if (!path || !*path) {
        df_error_set(err, DF_E_INVALID_INPUT, "empty plugin path");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        df_error_set(err, DF_E_NOT_FOUND, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        df_error_set(err, DF_E_INVALID_INPUT, "%s: not a regular file", path);
        return NULL;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        df_error_set(err, DF_E_NOT_FOUND, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pthread_mutex_lock(&loader_lock);
    const df_plugin *p = NULL;
    for (loaded_module *m = modules; m; m = m->next)
        if (strcmp(m->path, real) == 0) p = m->plugin;
    if (!p && open_module(real, &p, err) == DF_OK) {
        loaded_module *m = malloc(sizeof *m);
        char *copy = strdup(real);
        if (m && copy) {
            *m = (loaded_module){copy, p, modules};
            modules = m;
        } else {
            free(m);
            free(copy);
        }
    }
    pthread_mutex_unlock(&loader_lock);
    return p;
}

const df_plugin *df_plugin_load(const char *path, df_error *err)
{
    return df_loader_open(path, err);
}

/* ---- where plugins are searched ------------------------------------------ */

static void append_dir(df_buf *b, const char *dir)
{
    if (!dir || !*dir) return;
    if (b->len) df_buf_append_char(b, ':');
    df_buf_append_str(b, dir);
}

const char *df_plugin_search_path(df_arena *a)
{
    df_buf b = DF_BUF_INIT;
    append_dir(&b, getenv("DOCFLOW_PLUGIN_PATH"));
    /* <exe>/../<libdir>/docflow/plugins serves the build tree and any
     * relocated install alike; the configured install dir comes last. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char dir[PATH_MAX + 64];
            snprintf(dir, sizeof dir, "%s/../%s", exe, DOCFLOW_PLUGIN_SUBDIR);
            char real[PATH_MAX];
            if (realpath(dir, real)) append_dir(&b, real);
        }
    }
    append_dir(&b, DOCFLOW_INSTALL_PLUGIN_DIR);
    const char *out = df_arena_strdup(a, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* metas.library (or an explicit library): relative to the YAML folder,
 * then as a file name in each search folder. */
static const char *find_library_file(df_arena *a, const char *lib, const char *cfg_dir,
                                     const char *search, df_buf *tried)
{
    if (lib[0] == '/') {
        append_dir(tried, lib);
        return file_exists(lib) ? lib : NULL;
    }
    const char *cand = cfg_dir && *cfg_dir ? df_arena_printf(a, "%s/%s", cfg_dir, lib) : lib;
    append_dir(tried, cand);
    if (file_exists(cand)) return cand;
    const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
    for (const char *p = search; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            cand = df_arena_printf(a, "%.*s/%s", (int)len, p, base);
            append_dir(tried, cand);
            if (file_exists(cand)) return cand;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static int has_jtype(const df_plugin *p, const char *jtype)
{
    for (uint32_t i = 0; i < p->n_executors; i++) {
        df_executor_def d;
        df_executor_def_read(p, i, &d);
        if (strcmp(d.jtype, jtype) == 0) return 1;
    }
    return 0;
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The first .so (in name order) of one folder that declares `jtype`. */
static const char *scan_dir_for_jtype(df_arena *a, const char *dir, const char *jtype)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0)
            names[n++] = df_arena_strdup(a, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        const char *path = df_arena_printf(a, "%s/%s", dir, names[i]);
        df_error ignored = DF_ERROR_INIT;
        const df_plugin *p = df_loader_open(path, &ignored);
        if (p && has_jtype(p, jtype)) return path;
    }
    return NULL;
}

static const char *find_by_jtype(df_arena *a, const char *jtype, const char *search, df_buf *tried)
{
    for (const char *p = search; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *dir = df_arena_strndup(a, p, len);
            append_dir(tried, dir);
            const char *hit = scan_dir_for_jtype(a, dir, jtype);
            if (hit) return hit;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

const char *df_loader_find(df_arena *a, const df_executor_config *cfg, const char *library,
                           df_error *err)
{
    const char *search = df_plugin_search_path(a);
    const df_value *lib_v = df_value_get(cfg->metas, "library");
    const char *lib = library ? library : df_value_string(lib_v, NULL);
    df_buf tried = DF_BUF_INIT;
    const char *found;
    if (lib) {
        found = find_library_file(a, lib, library ? NULL : cfg->dir, search, &tried);
        if (!found) {
            const char *where = library ? "--library" : df_executor_config_where(cfg, lib_v);
            df_error_set(err, DF_E_NOT_FOUND,
                         "%s: executor library '%s' not found; looked in: %s. Build it, fix the "
                         "path, or add its folder to DOCFLOW_PLUGIN_PATH",
                         where, lib, tried.data ? tried.data : "(nowhere)");
        }
    } else {
        found = find_by_jtype(a, cfg->jtype, search, &tried);
        if (!found)
            df_error_set(err, DF_E_NOT_FOUND,
                         "%s: no plugin declares jtype '%s' (searched: %s); set metas.library to "
                         "its .so or add its folder to DOCFLOW_PLUGIN_PATH",
                         cfg->source ? cfg->source : "executor", cfg->jtype,
                         tried.data ? tried.data : "(no plugin folders)");
    }
    df_buf_free(&tried);
    return found;
}
