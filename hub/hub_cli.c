/*
 * hub_cli.c -- option parsing and error printing shared by the commands.
 */
#include "hub_cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

enum {
    OPT_REGISTRY = 256,
    OPT_CA_CERT,
    OPT_NAMESPACE,
    OPT_INSECURE,
    OPT_FORCE,
    OPT_PRE,
    OPT_JSON,
    OPT_VERBOSE,
    OPT_PASSWORD_STDIN,
};

static const struct option all_options[] = {{"registry", required_argument, 0, OPT_REGISTRY},
                                            {"ca-cert", required_argument, 0, OPT_CA_CERT},
                                            {"output", required_argument, 0, 'o'},
                                            {"namespace", required_argument, 0, OPT_NAMESPACE},
                                            {"username", required_argument, 0, 'u'},
                                            {"insecure", no_argument, 0, OPT_INSECURE},
                                            {"force", no_argument, 0, OPT_FORCE},
                                            {"pre", no_argument, 0, OPT_PRE},
                                            {"json", no_argument, 0, OPT_JSON},
                                            {"verbose", no_argument, 0, OPT_VERBOSE},
                                            {"password-stdin", no_argument, 0, OPT_PASSWORD_STDIN},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};

int hub_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "docflow-hub %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see docflow-hub %s --help)\n", cmd);
    return HUB_EXIT_USAGE;
}

int hub_cli_fail(const char *cmd, const df_error *err)
{
    fprintf(stderr, "docflow-hub %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return err->code == DF_OK ? HUB_EXIT_FAILURE : df_error_exit_code(err);
}

static int allowed_option(const char *allowed, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = allowed; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (p[len] == ',');
    }
    return strcmp(name, "help") == 0;
}

static void store_option(hub_cli_opts *o, int c, const char *arg)
{
    switch (c) {
    case OPT_REGISTRY:
        o->registry = arg;
        break;
    case OPT_CA_CERT:
        o->ca_cert = arg;
        break;
    case 'o':
        o->output = arg;
        break;
    case OPT_NAMESPACE:
        o->ns = arg;
        break;
    case 'u':
        o->username = arg;
        break;
    case OPT_INSECURE:
        o->insecure = 1;
        break;
    case OPT_FORCE:
        o->force = 1;
        break;
    case OPT_PRE:
        o->pre = 1;
        break;
    case OPT_JSON:
        o->json = 1;
        break;
    case OPT_VERBOSE:
        o->verbose = 1;
        break;
    case OPT_PASSWORD_STDIN:
        o->password_stdin = 1;
        break;
    default:
        o->help = 1;
        break;
    }
}

static const char *option_name(int c)
{
    for (const struct option *opt = all_options; opt->name; opt++)
        if (opt->val == c) return opt->name;
    return "?";
}

int hub_cli_parse(const char *cmd, int argc, char **argv, const char *allowed, int min_args,
                  int max_args, hub_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+ho:u:", all_options, NULL)) != -1 || optind < argc) {
        if (c == -1) { /* a positional argument; options may follow it */
            if (o->n_args == 4) return hub_cli_usage(cmd, "too many arguments");
            o->args[o->n_args++] = argv[optind++];
            continue;
        }
        if (c == '?')
            return hub_cli_usage(cmd, "unknown option or missing value: %s", argv[optind - 1]);
        if (!allowed_option(allowed, option_name(c)))
            return hub_cli_usage(cmd, "--%s is not an option of %s", option_name(c), cmd);
        store_option(o, c, optarg);
    }
    if (o->help) return DF_OK;
    if (o->n_args < min_args) return hub_cli_usage(cmd, "missing argument");
    if (o->n_args > max_args)
        return hub_cli_usage(cmd, "unexpected argument '%s'", o->args[max_args]);
    return DF_OK;
}

int hub_cli_ident(const char *cmd, const char *text, hub_ident *id)
{
    df_error err = DF_ERROR_INIT;
    if (hub_ident_parse(text, id, &err) == DF_OK) return DF_OK;
    fprintf(stderr, "docflow-hub %s: %s\n", cmd, err.msg);
    return HUB_EXIT_USAGE;
}

void hub_cli_ref(char *buf, size_t cap, const char *ns, const char *name, const char *version)
{
    snprintf(buf, cap, "%s/%s:%s", ns, name, version);
}
