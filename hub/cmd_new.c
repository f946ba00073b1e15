/*
 * cmd_new.c -- `docflow-hub new NAME`: a package folder to start from, from
 * the templates embedded in the binary (hub_templates.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub_cli.h"
#include "hub_extract.h"
#include "hub_templates.h"

#define CMD "new"

static void new_usage(void)
{
    printf("usage: docflow-hub new [NAMESPACE/]NAME [--namespace NS] [-o DIR]\n"
           "\n"
           "Creates the folder DIR/NAME (DIR: the current folder) holding a working\n"
           "executor package: NAME.c (the executor), CMakeLists.txt (find_package(docflow) +\n"
           "docflow_add_executor), config.yml, manifest.yml, README.md, sample.jsonl and\n"
           "test.sh. Then: cd NAME && docflow-hub build . && ./test.sh\n"
           "\n"
           "NAME is lowercase [a-z0-9]+([._-][a-z0-9]+)*; the executor's jtype is its\n"
           "CamelCase form (my-encoder -> MyEncoder). The namespace comes from NAME, else\n"
           "--namespace, else your login name.\n"
           "\n"
           "options:\n"
           "  --namespace NS   the package's namespace\n"
           "  -o, --output DIR where to create the folder (default: .)\n"
           "  -h, --help       this text\n"
           "\n"
           "exit status: 0 ok, 1 failure, 2 bad usage or bad input\n");
}

/* The login name, lowercased, when it is a valid namespace. */
static const char *default_namespace(char *buf, size_t cap)
{
    const char *user = getenv("USER");
    if (!user || !*user) user = getlogin();
    snprintf(buf, cap, "%s", user ? user : "");
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return hub_name_valid(buf) ? buf : "local";
}

static int write_file(const char *dir, const char *name, const df_buf *text, df_error *err)
{
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wx");
    if (!f || fwrite(text->data, 1, text->len, f) != text->len || fclose(f) != 0)
        return df_error_set(err, DF_E_IO, "cannot write %s: %s", path, strerror(errno));
    if (strcmp(name, "test.sh") == 0) chmod(path, 0755);
    return DF_OK;
}

static int write_templates(const char *dir, const hub_template_vars *v, df_error *err)
{
    int rc = DF_OK;
    for (const hub_template *t = hub_templates; t->name && !rc; t++) {
        df_buf text = DF_BUF_INIT;
        char name[256];
        hub_template_expand(t, v, &text);
        hub_template_file_name(t, v, name, sizeof name);
        rc = write_file(dir, name, &text, err);
        df_buf_free(&text);
    }
    return rc;
}

/* Splits "ns/name" or "name" and checks both parts. */
static int read_name(const hub_cli_opts *o, char *ns, char *name, size_t cap)
{
    const char *arg = o->args[0], *slash = strchr(arg, '/');
    char user[128];
    snprintf(name, cap, "%.64s", slash ? slash + 1 : arg);
    if (slash)
        snprintf(ns, cap, "%.*s", (int)(slash - arg) > 64 ? 64 : (int)(slash - arg), arg);
    else
        snprintf(ns, cap, "%.64s", o->ns ? o->ns : default_namespace(user, sizeof user));
    size_t name_len = strlen(slash ? slash + 1 : arg);
    size_t ns_len = slash ? (size_t)(slash - arg) : strlen(o->ns ? o->ns : ns);
    if (!hub_name_valid(name) || !hub_name_valid(ns) || name_len != strlen(name) ||
        ns_len != strlen(ns)) {
        fprintf(stderr,
                "docflow-hub new: '%s/%s' is not a valid package name: namespace and name must "
                "be lowercase [a-z0-9]+([._-][a-z0-9]+)*, at most %d characters each (e.g. "
                "alice/my-encoder)\n",
                ns, name, HUB_COMPONENT_MAX);
        return HUB_EXIT_USAGE;
    }
    return DF_OK;
}

int hub_cmd_new(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "namespace,output", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) new_usage();
        return rc;
    }
    char ns[HUB_COMPONENT_MAX + 1], name[HUB_COMPONENT_MAX + 1];
    char c_name[HUB_COMPONENT_MAX + 2], jtype[HUB_COMPONENT_MAX + 2];
    if ((rc = read_name(&o, ns, name, sizeof ns))) return rc;
    hub_template_names(name, c_name, jtype, sizeof c_name);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", o.output ? o.output : ".", name);
    df_error err = DF_ERROR_INIT;
    if (mkdir(dir, 0755) != 0) {
        df_error_set(&err, errno == EEXIST ? DF_E_INVALID_INPUT : DF_E_IO, "cannot create %s: %s%s",
                     dir, strerror(errno), errno == EEXIST ? " (pick another name or -o DIR)" : "");
        return hub_cli_fail(CMD, &err);
    }
    hub_template_vars v = {ns, name, c_name, jtype};
    if (write_templates(dir, &v, &err) != DF_OK) {
        hub_remove_tree(dir, NULL); /* nothing half-made stays */
        return hub_cli_fail(CMD, &err);
    }
    printf("created %s: the package %s/%s, executor %s\n"
           "next: cd %s && docflow-hub build . && ./test.sh\n",
           dir, ns, name, jtype, dir);
    return HUB_EXIT_OK;
}
