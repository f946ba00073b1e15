/*
 * cmd_login.c -- `docflow-hub login URL` and `logout URL`: registry
 * credentials in $DOCFLOW_HOME/auth.json (written by the registry client,
 * mode 0600). The password is read from stdin only, never from the command
 * line, where other users could see it in the process list.
 */
#include <stdio.h>
#include <string.h>

#include "hub_cli.h"
#include "hub_registry.h"

static void login_usage(void)
{
    printf("usage: docflow-hub login URL -u USER --password-stdin [--ca-cert FILE] [--insecure]\n"
           "\n"
           "Checks USER and the password (read from stdin, never from the command line)\n"
           "against the registry at URL and, when they work, stores them in\n"
           "$DOCFLOW_HOME/auth.json (mode 0600) for push and pull; docflow-hub logout URL\n"
           "removes them.\n"
           "  echo \"$TOKEN\" | docflow-hub login https://registry.example -u alice "
           "--password-stdin\n"
           "\n"
           "options:\n"
           "  -u, --username USER  the user name\n"
           "  --password-stdin     read the password from stdin (required)\n"
           "  --ca-cert FILE       trust this CA for the registry's TLS certificate\n"
           "  --insecure           allow plain http to other hosts and skip TLS verification\n"
           "  -h, --help           this text\n"
           "\n"
           "exit status: 0 ok, 1 failure (wrong credentials, unreachable), 2 bad usage\n");
}

/* One line from stdin, without its newline. */
static int read_password(char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, stdin)) return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

int hub_cmd_login(int argc, char **argv)
{
    hub_cli_opts o;
    int rc =
        hub_cli_parse("login", argc, argv, "username,password-stdin,ca-cert,insecure", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) login_usage();
        return rc;
    }
    if (!o.username) return hub_cli_usage("login", "-u USER is required");
    if (!o.password_stdin)
        return hub_cli_usage("login",
                             "the password is read from stdin only: echo \"$PASSWORD\" "
                             "| docflow-hub login %s -u %s --password-stdin",
                             o.args[0], o.username);
    char password[4096];
    if (read_password(password, sizeof password) != 0)
        return hub_cli_usage("login", "no password on stdin");
    hub_registry_opts ro = {o.args[0], o.ca_cert, o.insecure, o.username, password, NULL, NULL};
    df_error err = DF_ERROR_INIT;
    rc = hub_registry_login(&ro, &err);
    memset(password, 0, sizeof password);
    if (rc) return hub_cli_fail("login", &err);
    printf("logged in to %s as %s\n", o.args[0], o.username);
    return HUB_EXIT_OK;
}

static void logout_usage(void)
{
    printf("usage: docflow-hub logout URL\n"
           "\n"
           "Removes the credentials docflow-hub login stored for the registry at URL from\n"
           "$DOCFLOW_HOME/auth.json.\n"
           "\n"
           "options:\n"
           "  -h, --help   this text\n"
           "\n"
           "exit status: 0 ok, 1 failure, 2 bad usage\n");
}

int hub_cmd_logout(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse("logout", argc, argv, "", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) logout_usage();
        return rc;
    }
    df_error err = DF_ERROR_INIT;
    if (hub_registry_logout(o.args[0], &err)) return hub_cli_fail("logout", &err);
    printf("logged out of %s\n", o.args[0]);
    return HUB_EXIT_OK;
}
