/*
 * hub_resolver.c -- `uses: hub://namespace/name[:version]` in flows, without
 * linking the hub into docflow-host: the resolver registered with
 * df_flow_set_hub_resolver() runs
 *
 *     docflow-hub resolve URI --policy P [--registry URL]
 *
 * and reads the path of the package's config.yml from its stdout; on failure
 * docflow-hub's message becomes the flow's error. docflow-hub is the one
 * next to this docflow-host (/proc/self/exe's folder), else the build tree's
 * (../hub/docflow-hub), else the first on PATH.
 *
 * The policy (when the registry is asked: missing, always, never), the
 * first that is set:
 *   1. $DOCFLOW_HUB_PULL (an operator's override, e.g. never in CI);
 *   2. the flow's with.hub_pull (a string, or true = missing, false = never),
 *      read from the flow file named on the command line (run/validate/plot
 *      FLOW, post --flow FLOW; ${{ ENV.X }} and --context apply) the first
 *      time a hub:// executor is resolved -- the resolver hook gets only the
 *      URI, so the policy is looked up once and kept here;
 *   3. missing.
 * The registry: docflow-host's --registry URL (taken out of argv by
 * df_host_hub_setup before the command parses its options), else
 * $DOCFLOW_REGISTRY, which docflow-hub reads itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docflow/flow_config.h"
#include "docflow/yaml_value.h"
#include "host_cli.h"

extern char **environ;

#define CAPTURE_MAX   (64 * 1024)       /* kept of docflow-hub's stdout / stderr */
#define FLOW_FILE_MAX (4 * 1024 * 1024) /* larger files are not read for the policy */

static struct {
    int argc; /* the command's arguments (argv[0] = the command's name) */
    char **argv;
    const char *registry; /* --registry URL, or NULL */
    int policy_read;
    char policy[64];
} hub;

/* ---- the policy ---------------------------------------------------------------------- */

static int is_flow_command(const char *cmd)
{
    return strcmp(cmd, "run") == 0 || strcmp(cmd, "post") == 0 || strcmp(cmd, "validate") == 0 ||
           strcmp(cmd, "plot") == 0;
}

/* --context KEY=VALUE pairs of the command line, as the command reads them. */
static df_value *command_context(df_arena *a)
{
    df_value *ctx = df_value_new_map(a);
    df_error err = DF_ERROR_INIT;
    for (int i = 1; i < hub.argc; i++) {
        const char *pair = NULL;
        if ((strcmp(hub.argv[i], "--context") == 0 || strcmp(hub.argv[i], "-c") == 0) &&
            i + 1 < hub.argc)
            pair = hub.argv[++i];
        else if (strncmp(hub.argv[i], "--context=", 10) == 0)
            pair = hub.argv[i] + 10;
        if (pair) df_cli_context_arg(a, ctx, pair, &err); /* a bad pair: the command says so */
    }
    return ctx;
}

/* 1 when `file` is a flow (its with.hub_pull, if any, copied into
 * hub.policy); 0 when it is not one or cannot be read. */
static int policy_of_flow(const char *file)
{
    struct stat st;
    if (strcmp(file, "-") == 0 || stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > FLOW_FILE_MAX)
        return 0;
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_yaml *y = df_yaml_load_file(a, file, command_context(a), &err);
    const df_value *root = y ? df_yaml_root(y) : NULL;
    int is_flow = df_value_type_of(root) == DF_VALUE_MAP &&
                  (df_value_get(root, "executors") || df_value_get(root, "pods"));
    const df_value *v = is_flow ? df_value_get(df_value_get(root, "with"), "hub_pull") : NULL;
    if (df_value_type_of(v) == DF_VALUE_BOOL)
        snprintf(hub.policy, sizeof hub.policy, "%s", df_value_bool(v) ? "missing" : "never");
    else if (df_value_type_of(v) == DF_VALUE_STRING)
        snprintf(hub.policy, sizeof hub.policy, "%s", df_value_string(v, NULL));
    df_arena_free(a);
    return is_flow;
}

static const char *policy(void)
{
    const char *env = getenv("DOCFLOW_HUB_PULL");
    if (env && *env) return env;
    if (!hub.policy_read) {
        hub.policy_read = 1;
        int post = hub.argc > 0 && strcmp(hub.argv[0], "post") == 0;
        for (int i = 1; i < hub.argc; i++) {
            const char *arg = hub.argv[i], *file = NULL;
            if (strcmp(arg, "--flow") == 0 && i + 1 < hub.argc)
                file = hub.argv[++i];
            else if (strncmp(arg, "--flow=", 7) == 0)
                file = arg + 7;
            else if (!post && arg[0] != '-')
                file = arg;
            if (file && policy_of_flow(file)) break;
        }
    }
    return *hub.policy ? hub.policy : "missing";
}

/* ---- running docflow-hub --------------------------------------------------------------- */

/* The docflow-hub beside this executable (installed), or in the build
 * tree's hub/ folder; 0 when neither exists (then PATH is searched). */
static int find_hub(char *path, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = '\0';
    static const char *const where[] = {"%s/docflow-hub", "%s/../hub/docflow-hub"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        int len = snprintf(path, cap, where[i], exe);
        if (len > 0 && (size_t)len < cap && access(path, X_OK) == 0) return 1;
    }
    return 0;
}

typedef struct capture {
    int fd;
    df_buf buf;
} capture;

/* Reads both pipes until docflow-hub closes them (keeping CAPTURE_MAX bytes
 * of each), so neither can fill up and block it. */
static void drain(capture *c, size_t n)
{
    size_t open_fds = n;
    while (open_fds) {
        struct pollfd p[2];
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (c[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char chunk[4096];
            ssize_t got = read(c[i].fd, chunk, sizeof chunk);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0) {
                close(c[i].fd);
                c[i].fd = -1;
                open_fds--;
                continue;
            }
            if (c[i].buf.len < CAPTURE_MAX) df_buf_append(&c[i].buf, chunk, (size_t)got);
        }
    }
    for (size_t i = 0; i < n; i++) /* after a poll failure: docflow-hub gets EPIPE */
        if (c[i].fd >= 0) close(c[i].fd);
}

static void trim(df_buf *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
                      b->data[b->len - 1] == ' '))
        b->len--;
    df_buf_append_char(b, '\0');
    b->len--;
}

/* Runs docflow-hub with `args`; *status gets its wait status. */
static int spawn_hub(char **args, capture *out, capture *errc, int *status, df_error *err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return df_error_set(err, DF_E_RESOURCE, "pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return df_error_set(err, DF_E_RESOURCE, "pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    /* Whatever this process blocks or ignores (a server's signal handling),
     * docflow-hub starts with the defaults: Ctrl-C and SIGPIPE work. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGHUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    char path[PATH_MAX];
    pid_t pid;
    int found = find_hub(path, sizeof path);
    int rc = found ? posix_spawn(&pid, path, &fa, &at, args, environ)
                   : posix_spawnp(&pid, "docflow-hub", &fa, &at, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        if (found) return df_error_set(err, DF_E_IO, "cannot run %s: %s", path, strerror(rc));
        return df_error_set(err, DF_E_NOT_FOUND,
                            "hub:// executors need docflow-hub, which is neither next to "
                            "docflow-host nor on PATH (%s); install docflow's hub or add its "
                            "folder to PATH",
                            strerror(rc));
    }
    capture c[2] = {{po[0], DF_BUF_INIT}, {pe[0], DF_BUF_INIT}};
    drain(c, 2);
    out->buf = c[0].buf;
    errc->buf = c[1].buf;
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            *status = 0;
            return df_error_set(err, DF_E_INTERNAL, "waitpid: %s", strerror(errno));
        }
    }
    return DF_OK;
}

/* docflow-hub's error, without its "docflow-hub resolve: " and
 * "uses: URI: " prefixes (the flow loader names the key and the URI).
 * Lines before the last (e.g. waiting for the store's lock) go to stderr. */
static void hub_error(df_buf *e, const char *uri, int status, df_error *err)
{
    trim(e);
    char *msg = e->data ? e->data : "";
    char *nl = strrchr(msg, '\n');
    if (nl) {
        *nl = '\0';
        fprintf(stderr, "%s\n", msg);
        msg = nl + 1;
    }
    static const char cmd_prefix[] = "docflow-hub resolve: ";
    if (strncmp(msg, cmd_prefix, sizeof cmd_prefix - 1) == 0) msg += sizeof cmd_prefix - 1;
    size_t ul = strlen(uri);
    if (strncmp(msg, "uses: ", 6) == 0 && strncmp(msg + 6, uri, ul) == 0 &&
        strncmp(msg + 6 + ul, ": ", 2) == 0)
        msg += 6 + ul + 2;
    int code = WIFEXITED(status) && WEXITSTATUS(status) == 2 ? DF_E_INVALID_INPUT : DF_E_IO;
    if (*msg)
        df_error_set(err, code, "%s", msg);
    else if (WIFSIGNALED(status))
        df_error_set(err, code, "docflow-hub resolve was killed by signal %d", WTERMSIG(status));
    else
        df_error_set(err, code, "docflow-hub resolve failed (exit status %d) without a message",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static const char *resolve(df_arena *a, const char *uri, df_error *err)
{
    char *args[10];
    int n = 0;
    args[n++] = "docflow-hub";
    args[n++] = "resolve";
    args[n++] = "--policy";
    args[n++] = (char *)policy();
    if (hub.registry) {
        args[n++] = "--registry";
        args[n++] = (char *)hub.registry;
    }
    args[n++] = (char *)uri;
    args[n] = NULL;

    capture out = {-1, DF_BUF_INIT}, errc = {-1, DF_BUF_INIT};
    int status = 0;
    const char *path = NULL;
    if (spawn_hub(args, &out, &errc, &status, err) == DF_OK) {
        trim(&out.buf);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            if (errc.buf.len) fprintf(stderr, "%.*s", (int)errc.buf.len, errc.buf.data);
            if (out.buf.len && !memchr(out.buf.data, '\n', out.buf.len))
                path = df_arena_strdup(a, out.buf.data);
            else
                df_error_set(err, DF_E_INTERNAL,
                             "docflow-hub resolve printed '%.200s', not one path",
                             out.buf.data ? out.buf.data : "");
        } else {
            hub_error(&errc.buf, uri, status, err);
        }
    }
    df_buf_free(&out.buf);
    df_buf_free(&errc.buf);
    return path;
}

/* ---- set-up ------------------------------------------------------------------------------ */

int df_host_hub_setup(int argc, char **argv)
{
    df_flow_set_hub_resolver(resolve);
    if (argc < 2 || !is_flow_command(argv[1])) return argc;
    int out = 2;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--registry") == 0 && i + 1 < argc)
            hub.registry = argv[++i];
        else if (strncmp(argv[i], "--registry=", 11) == 0)
            hub.registry = argv[i] + 11;
        else
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    if (hub.registry && !*hub.registry) hub.registry = NULL;
    hub.argc = out - 1;
    hub.argv = argv + 1;
    return out;
}
