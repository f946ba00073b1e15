/*
 * hub_registry_cli.c -- drives hub_registry.h from the shell, one subcommand
 * per API call, for the integration test against a real registry. Not a user
 * tool: docflow-hub is.
 *
 * Errors go to stderr as "error: <message>" with the exit code of
 * df_error_exit_code(); -v logs every HTTP request (the client's debug log),
 * which is how the test counts requests and new connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/log.h"
#include "hub_registry.h"

static const char usage[] =
    "usage: hub_registry_cli [--url URL] [-u USER -p PASS | --password-stdin] [--insecure]\n"
    "                        [--ca-cert FILE] [--chunk BYTES] [--progress] [-v] COMMAND ARGS\n"
    "commands:\n"
    "  ping\n"
    "  exists REPO DIGEST                  prints yes or no\n"
    "  push-file REPO FILE [DIGEST SIZE]   prints the digest\n"
    "  push-buffer REPO FILE               the file read into memory first\n"
    "  pull-file REPO DIGEST SIZE DEST\n"
    "  pull-buffer REPO DIGEST SIZE        the bytes on stdout\n"
    "  manifest-put REPO TAG MEDIATYPE FILE   prints the digest\n"
    "  manifest-get REPO REF OUTFILE       prints DIGEST MEDIATYPE\n"
    "  manifest-delete REPO DIGEST\n"
    "  tags REPO                           one per line, as the registry sent them\n"
    "  login                               checks and stores -u/-p for --url\n"
    "  logout\n";

typedef struct progress_log {
    unsigned long calls;
    uint64_t done, total;
} progress_log;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    progress_log *p = ctx;
    p->calls++;
    p->done = done;
    p->total = total;
}

static int read_file(const char *path, df_buf *out, df_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return df_error_set(err, DF_E_IO, "cannot read %s", path);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        df_buf_append(out, chunk, n);
    fclose(f);
    return DF_OK;
}

static int write_file(const char *path, const df_buf *b, df_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data ? b->data : "", 1, b->len, f) != b->len || fclose(f) != 0)
        return df_error_set(err, DF_E_IO, "cannot write %s", path);
    return DF_OK;
}

static int need(int argc, int n)
{
    if (argc == n) return 1;
    fputs(usage, stderr);
    return 0;
}

/* Runs one API call; argv[0] is the command. */
static int run(hub_registry *r, int argc, char **argv, size_t chunk, df_error *err)
{
    const char *cmd = argv[0];
    df_buf buf = DF_BUF_INIT;
    int rc = DF_OK;
    if (!strcmp(cmd, "ping") && need(argc, 1)) {
        puts("ok");
    } else if (!strcmp(cmd, "exists") && need(argc, 3)) {
        int exists = 0;
        if ((rc = hub_registry_blob_exists(r, argv[1], argv[2], &exists, err)) == DF_OK)
            puts(exists ? "yes" : "no");
    } else if (!strcmp(cmd, "push-file") && (argc == 3 || need(argc, 5))) {
        hub_digest d;
        uint64_t size = 0;
        if (argc == 5) {
            snprintf(d.s, sizeof d.s, "%s", argv[3]);
            size = strtoull(argv[4], NULL, 10);
        } else if ((rc = hub_digest_file(argv[2], &d, &size, err)) != DF_OK) {
            return rc;
        }
        if ((rc = hub_registry_blob_push_file(r, argv[1], argv[2], d.s, size, chunk, err)) == DF_OK)
            puts(d.s);
    } else if (!strcmp(cmd, "push-buffer") && need(argc, 3)) {
        hub_digest d;
        if ((rc = read_file(argv[2], &buf, err)) == DF_OK) {
            hub_digest_buffer(buf.data ? buf.data : "", buf.len, &d);
            rc = hub_registry_blob_push_buffer(r, argv[1], buf.data ? buf.data : "", buf.len, d.s,
                                               err);
            if (rc == DF_OK) puts(d.s);
        }
    } else if (!strcmp(cmd, "pull-file") && need(argc, 5)) {
        rc = hub_registry_blob_pull_file(r, argv[1], argv[2], strtoull(argv[3], NULL, 10), argv[4],
                                         err);
    } else if (!strcmp(cmd, "pull-buffer") && need(argc, 4)) {
        rc = hub_registry_blob_pull_buffer(r, argv[1], argv[2], strtoull(argv[3], NULL, 10), &buf,
                                           err);
        if (rc == DF_OK) fwrite(buf.data ? buf.data : "", 1, buf.len, stdout);
    } else if (!strcmp(cmd, "manifest-put") && need(argc, 5)) {
        hub_digest d;
        if ((rc = read_file(argv[4], &buf, err)) == DF_OK &&
            (rc = hub_registry_manifest_put(r, argv[1], argv[2], argv[3], buf.data ? buf.data : "",
                                            buf.len, &d, err)) == DF_OK)
            puts(d.s);
    } else if (!strcmp(cmd, "manifest-get") && need(argc, 4)) {
        hub_digest d;
        char media_type[256];
        if ((rc = hub_registry_manifest_get(r, argv[1], argv[2], &buf, &d, media_type,
                                            sizeof media_type, err)) == DF_OK &&
            (rc = write_file(argv[3], &buf, err)) == DF_OK)
            printf("%s %s\n", d.s, media_type);
    } else if (!strcmp(cmd, "manifest-delete") && need(argc, 3)) {
        rc = hub_registry_manifest_delete(r, argv[1], argv[2], err);
    } else if (!strcmp(cmd, "tags") && need(argc, 2)) {
        size_t count = 0;
        if ((rc = hub_registry_tags(r, argv[1], &buf, &count, err)) == DF_OK) {
            const char *t = buf.data;
            for (size_t i = 0; i < count; i++, t += strlen(t) + 1)
                puts(t);
        }
    } else {
        fputs(usage, stderr);
        rc = DF_E_INVALID_INPUT;
        df_error_set(err, rc, "unknown command or wrong arguments: %s", cmd);
    }
    df_buf_free(&buf);
    return rc;
}

int main(int argc, char **argv)
{
    hub_registry_opts opts = {.url = getenv("DF_REG_URL")};
    size_t chunk = 0;
    int show_progress = 0, password_stdin = 0;
    char password[512];
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--url") && v)
            opts.url = argv[++i];
        else if (!strcmp(a, "-u") && v)
            opts.username = argv[++i];
        else if (!strcmp(a, "-p") && v)
            opts.password = argv[++i];
        else if (!strcmp(a, "--password-stdin"))
            password_stdin = 1;
        else if (!strcmp(a, "--insecure"))
            opts.insecure = 1;
        else if (!strcmp(a, "--ca-cert") && v)
            opts.ca_cert = argv[++i];
        else if (!strcmp(a, "--chunk") && v)
            chunk = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--progress"))
            show_progress = 1;
        else if (!strcmp(a, "-v"))
            df_log_set_level(DF_LOG_DEBUG);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (password_stdin) {
        if (!fgets(password, sizeof password, stdin)) password[0] = '\0';
        password[strcspn(password, "\r\n")] = '\0';
        opts.password = password;
    }
    progress_log prog = {0};
    if (show_progress) {
        opts.progress = on_progress;
        opts.progress_ctx = &prog;
    }
    df_error err = DF_ERROR_INIT;
    int rc;
    if (!strcmp(argv[i], "login")) {
        rc = hub_registry_login(&opts, &err);
    } else if (!strcmp(argv[i], "logout")) {
        rc = hub_registry_logout(opts.url, &err);
    } else {
        hub_registry *r = hub_registry_open(&opts, &err);
        rc = r ? run(r, argc - i, argv + i, chunk, &err) : err.code;
        hub_registry_close(r);
    }
    if (show_progress)
        fprintf(stderr, "progress calls=%lu done=%llu total=%llu\n", prog.calls,
                (unsigned long long)prog.done, (unsigned long long)prog.total);
    if (rc != DF_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return df_error_exit_code(&err);
    }
    return 0;
}
