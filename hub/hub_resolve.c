/*
 * hub_resolve.c -- `uses: hub://namespace/name[:version]` in a flow: the
 * path of the unpacked package's config.yml, pulling it first when the
 * policy says so (see hub_store.h).
 */
#include <string.h>

#include "hub_remote.h"
#include "hub_store.h"

static int parse_uri(const char *uri, hub_ident *id, df_error *err)
{
    if (!uri || strncmp(uri, "hub://", 6) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "'%s' is not a hub URI: write uses: hub://namespace/name[:version]",
                            uri ? uri : "");
    int rc = hub_ident_parse(uri + 6, id, err);
    if (rc) df_error_prefix(err, "uses: %s", uri);
    return rc;
}

static int parse_policy(const char *policy, int *always, int *never, df_error *err)
{
    *always = policy && strcmp(policy, "always") == 0;
    *never = policy && strcmp(policy, "never") == 0;
    if (!policy || !*policy || *always || *never || strcmp(policy, "missing") == 0) return DF_OK;
    return df_error_set(err, DF_E_INVALID_INPUT,
                        "hub_pull: '%s' is not a policy; use missing (default), always or never",
                        policy);
}

/* Finds (or pulls) the version and returns its stored entry. */
static int find(hub_store *s, df_arena *a, const hub_ident *id, const char *url, int always,
                int never, hub_store_entry *e, df_error *err)
{
    if (!always) {
        df_error local = DF_ERROR_INIT;
        int rc = hub_store_resolve(s, id, 0, e, &local);
        if (rc == DF_OK) return DF_OK;
        if (never || !url || rc != DF_E_NOT_FOUND) {
            *err = local;
            if (!url && !never && rc == DF_E_NOT_FOUND)
                df_error_prefix(err, "no registry to pull from (set --registry or "
                                     "DOCFLOW_REGISTRY)");
            return rc;
        }
    } else if (!url) {
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "hub_pull: always needs a registry: set --registry or "
                            "DOCFLOW_REGISTRY");
    }
    /* The registry is the source of truth when asked to pull. */
    hub_remote_opts o = {.url = url, .force = 1};
    hub_remote_result r;
    int rc = hub_remote_pull(&o, s, a, id, &r, err);
    if (!rc) *e = r.entry;
    return rc;
}

const char *hub_resolve_uses(df_arena *a, const char *hub_uri, const char *registry,
                             const char *policy, df_error *err)
{
    hub_ident id;
    int always, never;
    if (parse_uri(hub_uri, &id, err) || parse_policy(policy, &always, &never, err)) return NULL;
    const char *url = hub_remote_url(a, registry, &id, 0);
    hub_store *s = hub_store_open(hub_home(a), 1, err);
    if (!s) return NULL;
    hub_store_entry e;
    hub_store_package p;
    const char *dir = NULL;
    int rc = find(s, a, &id, url, always, never, &e, err);
    if (!rc) rc = hub_store_load(s, a, &e, 0, &p, err);
    if (!rc) {
        rc = hub_store_unpack(s, a, &p, &dir, err);
        hub_store_package_free(&p);
    }
    hub_store_close(s);
    if (rc) {
        df_error_prefix(err, "uses: %s", hub_uri);
        return NULL;
    }
    return df_arena_printf(a, "%s/config.yml", dir);
}
