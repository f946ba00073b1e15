/*
 * cmd_inspect.c -- `docflow-hub inspect ID|TARBALL`: what a package is and
 * holds (manifest, executors, endpoints, ABI, files and digests), with every
 * digest checked on the way.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/executor.h"
#include "hub_cli.h"
#include "hub_progress.h"
#include "hub_store.h"
#include "hub_verify.h"

#define CMD "inspect"

static void inspect_usage(void)
{
    printf("usage: docflow-hub inspect ID|TARBALL [--json] [--pre]\n"
           "\n"
           "Shows a package: identity, description, license, platform, executor ABI\n"
           "version (and this host's), library, executors with their endpoints, and every\n"
           "file with its sha256; for a stored version also its manifest, config and layer\n"
           "digests and where it is unpacked. ID is resolved in the local store like pull\n"
           "does (namespace/name[:version][@sha256:digest]); a .tar.gz file is verified and\n"
           "shown without storing it. Every digest is checked: a corrupted store is\n"
           "reported (exit 1).\n"
           "\n"
           "options:\n"
           "  --json       one JSON object: {\"ref\", \"manifest\": <manifest.yml as JSON>,\n"
           "               \"digest\", \"config_digest\", \"layer_digest\", \"size\",\n"
           "               \"unpacked\"} (the last four only for stored versions)\n"
           "  --pre        let pre-releases match a version prefix\n"
           "  -h, --help   this text\n"
           "\n"
           "exit status: 0 ok, 1 failure (a corrupted store), 2 bad usage or no such version\n");
}

/* Free text from a package as it may be printed: control characters
 * (C0, DEL, and C1 as UTF-8) become '?', so a hostile manifest cannot
 * rewrite the user's terminal. */
static const char *safe(df_arena *a, const char *s)
{
    char *out = df_arena_strdup(a, s);
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) *p = '?';
        if (c == 0xc2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f)
            p[0] = p[1] = '?';
    }
    return out;
}

static void show_executors(df_arena *a, const hub_manifest *m)
{
    printf("executors:\n");
    for (size_t i = 0; i < m->n_executors; i++) {
        const hub_executor_info *e = &m->executors[i];
        printf("  %s%s%s%s%s\n", e->jtype, *e->version ? " " : "", safe(a, e->version),
               *e->description ? " -- " : "", safe(a, e->description));
        printf("    endpoints:");
        for (size_t k = 0; k < e->n_endpoints; k++)
            printf(" %s", safe(a, e->endpoints[k]));
        printf("%s\n", e->has_default ? (e->n_endpoints ? " (+ default handler for every other)"
                                                        : " default handler (every endpoint)")
                                      : "");
    }
}

static void show_text(df_arena *a, const hub_manifest *m, const hub_store_package *p,
                      const char *dir)
{
    printf("%s/%s:%s\n", m->ns, m->name, m->version);
    if (*m->description) printf("  description  %s\n", safe(a, m->description));
    if (*m->license) printf("  license      %s\n", safe(a, m->license));
    if (*m->url) printf("  url          %s\n", safe(a, m->url));
    printf("  platform     %s\n", safe(a, m->platform));
    printf("  abi          %u.%u (this host: %d.%d)\n", m->abi_major, m->abi_minor, DF_ABI_MAJOR,
           DF_ABI_MINOR);
    printf("  library      %s\n", m->library);
    if (p) {
        char size[32];
        hub_format_size(p->oci.layer.size, size, sizeof size);
        printf("  manifest     %s\n  config       %s\n  layer        %s (%s)\n",
               p->entry.manifest.digest.s, p->oci.config.digest.s, p->oci.layer.digest.s, size);
        printf("  unpacked     %s\n", dir ? dir : "no (docflow-hub pull unpacks it)");
    }
    show_executors(a, m);
    printf("files:\n  (manifest.yml)\n");
    for (size_t i = 0; i < m->n_files; i++)
        printf("  %s  %s\n", m->files[i].digest, m->files[i].path);
}

static void show_json(const hub_manifest *m, const hub_store_package *p, const char *dir)
{
    df_buf b = DF_BUF_INIT;
    hub_manifest_write_json(m, &b);
    json_t *root =
        json_pack("{s:o, s:o}", "ref", json_sprintf("%s/%s:%s", m->ns, m->name, m->version),
                  "manifest", json_loadb(b.data, b.len, 0, NULL));
    if (p) {
        json_object_set_new(root, "digest", json_string(p->entry.manifest.digest.s));
        json_object_set_new(root, "config_digest", json_string(p->oci.config.digest.s));
        json_object_set_new(root, "layer_digest", json_string(p->oci.layer.digest.s));
        json_object_set_new(root, "size", json_integer((json_int_t)p->oci.layer.size));
        json_object_set_new(root, "unpacked", dir ? json_string(dir) : json_null());
    }
    char *text = json_dumps(root, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(root);
    df_buf_free(&b);
}

static int inspect_tarball(df_arena *a, const char *path, int as_json, df_error *err)
{
    hub_manifest *m = hub_verify_tarball(a, path, path, NULL, err);
    if (!m) return err->code;
    if (as_json)
        show_json(m, NULL, NULL);
    else
        show_text(a, m, NULL, NULL);
    return DF_OK;
}

static int inspect_stored(df_arena *a, const hub_ident *id, const hub_cli_opts *o, df_error *err)
{
    hub_store *s = hub_store_open(hub_home(a), 0, err);
    if (!s) return err->code;
    hub_store_entry e;
    hub_store_package p;
    int rc = hub_store_resolve(s, id, o->pre, &e, err);
    if (!rc) rc = hub_store_load(s, a, &e, 1, &p, err);
    if (!rc) {
        const char *dir = hub_store_unpack_dir(s, a, &e);
        if (access(df_arena_printf(a, "%s/config.yml", dir), F_OK) != 0) dir = NULL;
        if (o->json)
            show_json(p.manifest, &p, dir);
        else
            show_text(a, p.manifest, &p, dir);
        hub_store_package_free(&p);
    }
    hub_store_close(s);
    return rc;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int hub_cmd_inspect(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "json,pre", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) inspect_usage();
        return rc;
    }
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    hub_ident id;
    size_t len = strlen(o.args[0]);
    if (!is_file(o.args[0]) && len > 7 && strcmp(o.args[0] + len - 7, ".tar.gz") == 0) {
        df_error_set(&err, DF_E_NOT_FOUND, "%s: no such file", o.args[0]);
        rc = hub_cli_fail(CMD, &err);
    } else if (is_file(o.args[0]))
        rc = inspect_tarball(a, o.args[0], o.json, &err) ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
    else if ((rc = hub_cli_ident(CMD, o.args[0], &id)) == DF_OK)
        rc = inspect_stored(a, &id, &o, &err) ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
    df_arena_free(a);
    return rc;
}
