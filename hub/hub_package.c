/*
 * hub_package.c -- `docflow-hub build`: package folder -> manifest.yml with
 * executors, ABI and digests -> reproducible tarball.
 *
 * Identity comes from the folder's manifest.yml, never from local state (a
 * lesson of Jina's hub, where a cache keyed by inode broke re-pushes); what
 * the library can tell (executors, endpoints, ABI) comes from the library,
 * never from a hand-written list.
 */
#include "hub_package.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docflow/buf.h"
#include "docflow/executor_config.h"
#include "docflow/executor_runtime.h"
#include "docflow/value.h"
#include "hub_pack.h"
#include "hub_verify.h"

extern char **environ;

/* Everything one build needs, in one place. */
typedef struct build {
    df_arena *a;
    const hub_build_opts *opts;
    char dir[PATH_MAX];
    hub_manifest *m;
    hub_pack_entry *entries;
    size_t n_entries;
    df_error *err;
} build;

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int hub_package_is_dir(const char *path)
{
    char p[PATH_MAX + 16];
    struct stat st;
    snprintf(p, sizeof p, "%s/manifest.yml", path);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && is_file(p);
}

static const char *in_dir(build *b, const char *rel)
{
    return df_arena_printf(b->a, "%s/%s", b->dir, rel);
}

/* ---- cmake -------------------------------------------------------------------------- */

/* The prefix of an installed docflow next to this docflow-hub, so the
 * package's find_package(docflow) finds the same docflow; NULL in a build
 * tree. */
static const char *own_prefix(df_arena *a)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';
    const char *prefix = df_arena_printf(a, "%s/..", exe);
    glob_t g;
    const char *pattern =
        df_arena_printf(a, "%s/lib*/{,*/}cmake/docflow/docflowConfig.cmake", prefix);
    int found = glob(pattern, GLOB_BRACE | GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    char real[PATH_MAX];
    return found && realpath(prefix, real) ? df_arena_strdup(a, real) : NULL;
}

/* Runs a command with its output in `log` (or on stderr when verbose). */
static int run(build *b, char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (b->opts->verbose)
        posix_spawn_file_actions_adddup2(&fa, 2, 1); /* stdout stays ours: path and digest */
    else {
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return df_error_set(b->err, DF_E_IO, "cannot run %s: %s (is cmake installed?)", argv[0],
                            strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? DF_OK : DF_E_INVALID_INPUT;
}

/* The last lines of the log, so the user sees the compiler's complaint. */
static void show_log_tail(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f) return;
    char lines[30][512];
    size_t n = 0;
    while (fgets(lines[n % 30], sizeof lines[0], f))
        n++;
    fclose(f);
    for (size_t i = n > 30 ? n - 30 : 0; i < n; i++)
        fprintf(stderr, "  | %s", lines[i % 30]);
}

static int run_cmake(build *b)
{
    const char *bdir = in_dir(b, "build");
    const char *log = in_dir(b, "build/docflow-hub-build.log");
    mkdir(bdir, 0755);
    unlink(log);
    const char *prefix = own_prefix(b->a);
    char *configure[] = {"cmake",
                         "-S",
                         b->dir,
                         "-B",
                         (char *)bdir,
                         "-DCMAKE_BUILD_TYPE=Release",
                         prefix ? df_arena_printf(b->a, "-DCMAKE_PREFIX_PATH=%s", prefix) : NULL,
                         NULL};
    char *compile[] = {"cmake", "--build", (char *)bdir, NULL};
    int rc = run(b, configure, log);
    if (!rc) rc = run(b, compile, log);
    if (rc == DF_E_INVALID_INPUT) {
        if (!b->opts->verbose) show_log_tail(log);
        df_error_set(b->err, rc,
                     "%s/CMakeLists.txt: the build failed (full log: %s); fix it, or build the "
                     "library yourself into lib/ and remove CMakeLists.txt from the package",
                     b->dir, b->opts->verbose ? "above" : log);
    }
    return rc;
}

/* ---- the library and its descriptor ---------------------------------------------------- */

static int find_library(build *b)
{
    hub_manifest *m = b->m;
    if (*m->library) {
        if (is_file(in_dir(b, m->library))) return DF_OK;
        return df_error_set(b->err, DF_E_INVALID_INPUT,
                            "%s/manifest.yml names library %s, but %s does not exist; build it "
                            "first (a CMakeLists.txt is built automatically)",
                            b->dir, m->library, in_dir(b, m->library));
    }
    glob_t g;
    int found = glob(in_dir(b, "lib/*.so"), 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    if (found == 1) m->library = df_arena_printf(b->a, "lib/%s", strrchr(g.gl_pathv[0], '/') + 1);
    globfree(&g);
    if (found == 1) return DF_OK;
    return df_error_set(b->err, DF_E_INVALID_INPUT,
                        found ? "%s/lib holds several .so files: name the executor library in "
                                "manifest.yml (library: lib/<name>.so)"
                              : "%s/lib has no .so file: add a CMakeLists.txt that builds "
                                "lib/<name>.so (docflow-hub new does), or put the library there",
                        b->dir);
}

/* Reads row i of a table with the plugin's stride into a zeroed struct of
 * ours, so shorter (older) rows read as zero in the missing fields. */
static void read_row(void *dst, size_t dst_size, const void *base, size_t stride, size_t i)
{
    memset(dst, 0, dst_size);
    memcpy(dst, (const char *)base + i * stride, stride < dst_size ? stride : dst_size);
}

static void describe_executor(build *b, const df_executor_def *d, hub_executor_info *e)
{
    e->jtype = df_arena_strdup(b->a, d->jtype);
    e->version = df_arena_strdup(b->a, d->version ? d->version : "");
    e->description = df_arena_strdup(b->a, d->description ? d->description : "");
    e->endpoints = df_arena_calloc(b->a, (d->n_requests + 1) * sizeof *e->endpoints);
    for (uint32_t i = 0; i < d->n_requests; i++) {
        df_request_def r;
        read_row(&r, sizeof r, d->requests, d->request_size, i);
        if (r.endpoint)
            e->endpoints[e->n_endpoints++] = df_arena_strdup(b->a, r.endpoint);
        else
            e->has_default = 1;
    }
}

static int describe_library(build *b)
{
    const char *path = in_dir(b, b->m->library);
    /* The loader checks the ABI (a newer one is refused with both
     * versions) and the descriptor before we read anything from it. */
    const df_plugin *p = df_plugin_load(path, b->err);
    if (!p) return b->err ? b->err->code : DF_E_INVALID_INPUT;
    hub_manifest *m = b->m;
    m->has_abi = 1;
    m->abi_major = p->abi_major;
    m->abi_minor = p->abi_minor;
    m->n_executors = p->n_executors;
    m->executors = df_arena_calloc(b->a, (p->n_executors + 1) * sizeof *m->executors);
    for (uint32_t i = 0; i < p->n_executors; i++) {
        df_executor_def d;
        read_row(&d, sizeof d, p->executors, p->executor_size, i);
        describe_executor(b, &d, &m->executors[i]);
    }
    if (p->version && strcmp(p->version, m->version) != 0)
        fprintf(stderr,
                "docflow-hub build: warning: %s says version %s, manifest.yml says %s (the "
                "package is %s; keep them equal)\n",
                path, p->version, m->version, m->version);
    return DF_OK;
}

/* ---- config.yml ------------------------------------------------------------------------ */

static int same_file(const char *x, const char *y)
{
    struct stat a, b;
    return stat(x, &a) == 0 && stat(y, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* config.yml must load, name one of the library's jtypes, and point
 * metas.library at the packaged library: after a pull, that is how the
 * host finds it. */
static int check_config(build *b)
{
    const char *path = in_dir(b, "config.yml");
    if (!is_file(path))
        return df_error_set(b->err, DF_E_INVALID_INPUT,
                            "%s: missing; a package needs its executor YAML (jtype, with, "
                            "metas.library: %s)",
                            path, b->m->library);
    df_executor_config *c = df_executor_config_load(b->a, path, NULL, b->err);
    if (!c) return b->err ? b->err->code : DF_E_INVALID_INPUT;
    int known = 0;
    for (size_t i = 0; i < b->m->n_executors; i++)
        known |= strcmp(b->m->executors[i].jtype, c->jtype) == 0;
    if (!known)
        return df_error_set(b->err, DF_E_INVALID_INPUT,
                            "%s: jtype %s is not an executor of %s (it has %s%s)", path, c->jtype,
                            b->m->library, b->m->executors[0].jtype,
                            b->m->n_executors > 1 ? ", ..." : "");
    const char *lib = df_value_string(df_value_get(c->metas, "library"), NULL);
    if (!lib || !same_file(lib[0] == '/' ? lib : df_arena_printf(b->a, "%s/%s", c->dir, lib),
                           in_dir(b, b->m->library)))
        return df_error_set(b->err, DF_E_INVALID_INPUT,
                            "%s: metas.library must name the packaged library (metas: {library: "
                            "%s}), so the host finds it after a pull",
                            path, b->m->library);
    return DF_OK;
}

/* ---- files ------------------------------------------------------------------------------ */

static void add_entry(build *b, const char *rel, const char *source)
{
    b->entries = df_arena_realloc(b->a, b->entries, b->n_entries * sizeof *b->entries,
                                  (b->n_entries + 1) * sizeof *b->entries);
    b->entries[b->n_entries++] = (hub_pack_entry){df_arena_strdup(b->a, rel), source, NULL, 0};
}

/* Adds every regular file below dir/rel (hidden names skipped). */
static int add_tree(build *b, const char *rel)
{
    DIR *d = opendir(in_dir(b, rel));
    if (!d) return DF_OK;
    struct dirent *e;
    int rc = DF_OK;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        const char *child = df_arena_printf(b->a, "%s/%s", rel, e->d_name);
        struct stat st;
        if (stat(in_dir(b, child), &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            rc = add_tree(b, child);
        else if (S_ISREG(st.st_mode) && !hub_package_path_valid(child))
            rc = df_error_set(b->err, DF_E_INVALID_INPUT,
                              "%s: file names in a package may hold only A-Z a-z 0-9 . _ + - "
                              "(rename it)",
                              in_dir(b, child));
        else if (S_ISREG(st.st_mode))
            add_entry(b, child, in_dir(b, child));
    }
    closedir(d);
    return rc;
}

static int collect_files(build *b)
{
    static const char *const top[] = {"config.yml", "README.md", "LICENSE", NULL};
    for (const char *const *f = top; *f; f++)
        if (is_file(in_dir(b, *f))) add_entry(b, *f, in_dir(b, *f));
    if (!is_file(in_dir(b, "README.md")))
        fprintf(stderr,
                "docflow-hub build: warning: %s has no README.md; users of the package "
                "will want one\n",
                b->dir);
    int rc = add_tree(b, "lib");
    if (!rc) rc = add_tree(b, "data");
    for (size_t i = 0; i < b->n_entries && !rc; i++) {
        hub_digest d;
        rc = hub_digest_file(b->entries[i].source, &d, NULL, b->err);
        if (!rc) hub_manifest_set_file(b->a, b->m, b->entries[i].path, d.s);
    }
    return rc;
}

/* ---- the build ------------------------------------------------------------------------- */

static int pack(build *b, hub_build_result *out)
{
    df_buf yaml = DF_BUF_INIT;
    hub_manifest_write_yaml(b->m, &yaml);
    add_entry(b, "manifest.yml", NULL);
    b->entries[b->n_entries - 1].data = df_arena_memdup(b->a, yaml.data, yaml.len);
    b->entries[b->n_entries - 1].len = yaml.len;
    df_buf_free(&yaml);
    char name[512];
    hub_package_file_name(b->m, name, sizeof name);
    out->tarball =
        df_arena_printf(b->a, "%s/%s", b->opts->out_dir ? b->opts->out_dir : b->dir, name);
    out->manifest = b->m;
    int rc = hub_pack_write(out->tarball, b->entries, b->n_entries, b->err);
    if (!rc) rc = hub_digest_file(out->tarball, &out->digest, &out->size, b->err);
    return rc;
}

static int load_source_manifest(build *b)
{
    const char *path = in_dir(b, "manifest.yml");
    if (!is_file(path))
        return df_error_set(b->err, DF_E_INVALID_INPUT,
                            "%s: not a package folder (no manifest.yml); create one with "
                            "docflow-hub new NAME",
                            b->dir);
    b->m = hub_manifest_load(b->a, path, 0, b->err);
    if (!b->m) return b->err ? b->err->code : DF_E_INVALID_INPUT;
    for (size_t i = 0; i < b->m->n_warnings; i++)
        fprintf(stderr, "docflow-hub build: warning: %s\n", b->m->warnings[i]);
    /* build writes these; whatever the folder's manifest says is replaced */
    b->m->n_files = 0;
    b->m->files = NULL;
    char platform[128];
    hub_host_platform(platform, sizeof platform);
    b->m->platform = df_arena_strdup(b->a, platform);
    return DF_OK;
}

int hub_package_build(df_arena *a, const hub_build_opts *opts, hub_build_result *out, df_error *err)
{
    build b = {.a = a, .opts = opts, .err = err};
    memset(out, 0, sizeof *out);
    if (!realpath(opts->dir, b.dir))
        return df_error_set(err, DF_E_NOT_FOUND, "%s: %s", opts->dir, strerror(errno));
    int rc = load_source_manifest(&b);
    if (!rc && is_file(in_dir(&b, "CMakeLists.txt"))) rc = run_cmake(&b);
    if (!rc) rc = find_library(&b);
    if (!rc) rc = describe_library(&b);
    if (!rc) rc = check_config(&b);
    if (!rc) rc = collect_files(&b);
    if (!rc) rc = pack(&b, out);
    return rc;
}

/* ---- taking a tarball into the store ------------------------------------------------------- */

int hub_package_check_ident(const hub_manifest *m, const hub_ident *id, const char *what,
                            df_error *err)
{
    if (strcmp(m->ns, id->ns) != 0 || strcmp(m->name, id->name) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s is the package %s/%s, not %s/%s; use the name from its "
                            "manifest.yml or change the manifest",
                            what, m->ns, m->name, id->ns, id->name);
    if (id->version.kind == HUB_VERSION_NONE) return DF_OK;
    if (id->version.kind != HUB_VERSION_EXACT || strcmp(id->version.text, m->version) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s has version %s, but the identifier says '%s'; give the exact "
                            "version (%s/%s:%s) or leave it out",
                            what, m->version, id->version.text, m->ns, m->name, m->version);
    return DF_OK;
}

int hub_package_import(hub_store *s, df_arena *a, const char *tarball, const hub_ident *expect,
                       int force, hub_store_progress_fn progress, void *ctx, hub_store_entry *out,
                       hub_manifest **manifest_out, int *unchanged, df_error *err)
{
    char staged[PATH_MAX + 64];
    hub_oci_desc layer;
    int rc = hub_store_stage_file(s, tarball, staged, sizeof staged, &layer, progress, ctx, err);
    if (rc) return rc;
    /* The staged copy is what gets verified and stored. */
    hub_manifest *m = hub_verify_tarball(a, staged, tarball, NULL, err);
    if (!m) rc = err ? err->code : DF_E_INVALID_INPUT;
    char ref[512];
    if (!rc) snprintf(ref, sizeof ref, "%s (%s/%s:%s)", tarball, m->ns, m->name, m->version);
    if (!rc && expect) rc = hub_package_check_ident(m, expect, tarball, err);
    if (!rc) rc = hub_manifest_check_host(m, ref, err);
    if (!rc) rc = hub_store_put_package(s, m, staged, &layer, force, out, unchanged, err);
    if (rc) unlink(staged);
    if (manifest_out) *manifest_out = m;
    return rc;
}
