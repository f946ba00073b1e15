/*
 * cmd_list.c -- `docflow-hub list [NS/[NAME]]`: the versions in the local
 * store with their digests and sizes.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_cli.h"
#include "hub_progress.h"
#include "hub_store.h"

#define CMD "list"

static void list_usage(void)
{
    printf("usage: docflow-hub list [NAMESPACE[/NAME]] [--json]\n"
           "\n"
           "Lists the versions in the local store ($DOCFLOW_HOME/hub): package, version,\n"
           "package size, manifest digest (pin a version with ID@digest), and whether it is\n"
           "unpacked. NAMESPACE/ (or NAMESPACE) keeps one namespace, NAMESPACE/NAME one\n"
           "package.\n"
           "\n"
           "options:\n"
           "  --json       one JSON array: [{\"ref\", \"namespace\", \"name\", \"version\",\n"
           "               \"digest\", \"size\", \"description\", \"unpacked\"}]\n"
           "  -h, --help   this text\n"
           "\n"
           "exit status: 0 ok, 1 failure (a corrupted entry is listed and reported), 2 bad\n"
           "usage\n");
}

typedef struct filter {
    char ns[HUB_COMPONENT_MAX + 1];
    char name[HUB_COMPONENT_MAX + 1];
} filter;

static int parse_filter(const char *arg, filter *f)
{
    memset(f, 0, sizeof *f);
    if (!arg) return DF_OK;
    const char *slash = strchr(arg, '/');
    snprintf(f->ns, sizeof f->ns, "%.*s", slash ? (int)(slash - arg) : HUB_COMPONENT_MAX, arg);
    if (slash) snprintf(f->name, sizeof f->name, "%s", slash + 1);
    if (hub_name_valid(f->ns) && (!*f->name || hub_name_valid(f->name))) return DF_OK;
    return hub_cli_usage(CMD,
                         "'%s' is not NAMESPACE, NAMESPACE/ or NAMESPACE/NAME (lowercase "
                         "[a-z0-9]+([._-][a-z0-9]+)*)",
                         arg);
}

static int keep(const filter *f, const hub_store_entry *e)
{
    return (!*f->ns || strcmp(f->ns, e->ns) == 0) && (!*f->name || strcmp(f->name, e->name) == 0);
}

/* One row: a JSON object, or a text line. 1 when the entry is corrupted. */
static int show(hub_store *s, df_arena *a, const hub_store_entry *e, json_t *json)
{
    hub_store_package p;
    df_error err = DF_ERROR_INIT;
    int bad = hub_store_load(s, a, e, 0, &p, &err) != DF_OK;
    const char *dir = hub_store_unpack_dir(s, a, e);
    int unpacked = access(df_arena_printf(a, "%s/config.yml", dir), F_OK) == 0;
    char ref[300], size[32];
    hub_cli_ref(ref, sizeof ref, e->ns, e->name, e->version);
    hub_format_size(bad ? 0 : p.oci.layer.size, size, sizeof size);
    if (bad) fprintf(stderr, "docflow-hub list: %s: %s\n", ref, err.msg);
    if (json)
        json_array_append_new(
            json, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "ref", ref, "namespace",
                            e->ns, "name", e->name, "version", e->version, "digest",
                            e->manifest.digest.s, "size", (json_int_t)(bad ? 0 : p.oci.layer.size),
                            "description", bad ? "" : p.manifest->description, "unpacked",
                            unpacked ? json_string(dir) : json_null()));
    else
        printf("%-32s %-14s %10s  %s%s\n", df_arena_printf(a, "%s/%s", e->ns, e->name), e->version,
               bad ? "CORRUPTED" : size, e->manifest.digest.s, unpacked ? "  unpacked" : "");
    if (!bad) hub_store_package_free(&p);
    return bad;
}

static int list(const filter *f, int as_json, df_error *err)
{
    df_arena *a = df_arena_new(0);
    hub_store *s = hub_store_open(hub_home(a), 0, err);
    hub_store_entry *entries = NULL;
    size_t n = 0, shown = 0;
    int rc = s ? hub_store_list(s, &entries, &n, err) : err->code, bad = 0;
    json_t *json = as_json ? json_array() : NULL;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!keep(f, &entries[i])) continue;
        if (!as_json && shown++ == 0)
            printf("%-32s %-14s %10s  %s\n", "PACKAGE", "VERSION", "SIZE", "DIGEST");
        bad |= show(s, a, &entries[i], json);
    }
    if (!rc && as_json) {
        char *text = json_dumps(json, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
    } else if (!rc && !shown) {
        fprintf(stderr, "docflow-hub list: no packages%s in the local store (%s/hub)\n",
                *f->ns ? " matching" : "", hub_store_home(s));
    }
    if (!rc && bad)
        rc = df_error_set(err, DF_E_IO,
                          "some versions are corrupted (see above); docflow-hub rm "
                          "them and push, pull or install them again");
    json_decref(json);
    free(entries);
    hub_store_close(s);
    df_arena_free(a);
    return rc;
}

int hub_cmd_list(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "json", 0, 1, &o);
    if (rc || o.help) {
        if (o.help) list_usage();
        return rc;
    }
    filter f;
    if ((rc = parse_filter(o.n_args ? o.args[0] : NULL, &f))) return rc;
    df_error err = DF_ERROR_INIT;
    return list(&f, o.json, &err) ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
}
