/*
 * hub_remote.c -- packages to and from an OCI registry (see hub_remote.h).
 *
 * Everything that arrives from the registry is checked before it is used,
 * in the order that wastes the least: the manifest (digest, media types),
 * the small config blob (identity, ABI, platform: "needs ABI 1.3" costs
 * one small GET, not a layer download), then the layer (digest, then every
 * file against the config's list) before the store sees it.
 */
#include "hub_remote.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_extract.h"
#include "hub_oci.h"
#include "hub_registry.h"
#include "hub_verify.h"

const char *hub_remote_url(df_arena *a, const char *flag, const hub_ident *id, int use_env)
{
    if (flag && *flag) return flag;
    if (id && *id->registry) {
        char url[HUB_REGISTRY_MAX + 16];
        hub_registry_url_for_host(id->registry, url, sizeof url);
        return df_arena_strdup(a, url);
    }
    const char *env = use_env ? getenv("DOCFLOW_REGISTRY") : NULL;
    return env && *env ? env : NULL;
}

static hub_registry *open_registry(const hub_remote_opts *o, df_error *err)
{
    hub_registry_opts ro = {0};
    ro.url = o->url;
    ro.ca_cert = o->ca_cert;
    ro.insecure = o->insecure;
    if (o->progress) {
        ro.progress = hub_progress_update;
        ro.progress_ctx = o->progress;
    }
    return hub_registry_open(&ro, err);
}

static void set_progress(const hub_remote_opts *o, int on)
{
    if (o->progress) o->progress->enabled = on;
}

/* ---- push ----------------------------------------------------------------------------- */

/* Immutable versions: a tag that exists with other content needs --force. */
static int check_tag(hub_registry *r, const hub_remote_opts *o, const char *repo, const char *tag,
                     const hub_digest *ours, int *same, df_error *err)
{
    df_buf tags = DF_BUF_INIT, raw = DF_BUF_INIT;
    size_t n = 0;
    int rc = hub_registry_tags(r, repo, &tags, &n, err), exists = 0;
    for (size_t i = 0, off = 0; !rc && i < n; i++, off += strlen(tags.data + off) + 1)
        exists |= strcmp(tags.data + off, tag) == 0;
    *same = 0;
    hub_digest theirs;
    if (!rc && exists) rc = hub_registry_manifest_get(r, repo, tag, &raw, &theirs, NULL, 0, err);
    if (!rc && exists) {
        hub_digest_buffer(raw.data, raw.len, &theirs);
        *same = strcmp(theirs.s, ours->s) == 0;
        if (!*same && !o->force)
            rc = df_error_set(err, DF_E_INVALID_INPUT,
                              "%s:%s is already in %s with other content (%s); versions are "
                              "immutable: bump the version, or pass --force to replace it",
                              repo, tag, o->url, theirs.s);
    }
    df_buf_free(&tags);
    df_buf_free(&raw);
    return rc;
}

static int push_blobs(hub_registry *r, const hub_remote_opts *o, const char *repo,
                      const char *tarball, const hub_oci_manifest *oci, const df_buf *config,
                      df_error *err)
{
    set_progress(o, 1);
    int rc =
        hub_registry_blob_push_file(r, repo, tarball, oci->layer.digest.s, oci->layer.size, 0, err);
    set_progress(o, 0);
    if (!rc)
        rc = hub_registry_blob_push_buffer(r, repo, config->data, config->len, oci->config.digest.s,
                                           err);
    return rc;
}

int hub_remote_push(const hub_remote_opts *o, const char *tarball, const hub_manifest *m,
                    hub_remote_result *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    char repo[2 * HUB_COMPONENT_MAX + 2], tag[HUB_VERSION_MAX + 1];
    snprintf(repo, sizeof repo, "%s/%s", m->ns, m->name);
    snprintf(out->version, sizeof out->version, "%s", m->version);
    int rc = hub_version_to_tag(m->version, tag, sizeof tag, err);
    if (rc) return rc;
    df_buf config = DF_BUF_INIT, raw = DF_BUF_INIT;
    hub_manifest_write_json(m, &config);
    hub_oci_manifest oci;
    hub_digest_buffer(config.data, config.len, &oci.config.digest);
    oci.config.size = config.len;
    rc = hub_digest_file(tarball, &oci.layer.digest, &oci.layer.size, err);
    out->bytes = oci.layer.size;
    if (!rc) hub_oci_manifest_write(m, &oci, &raw);
    hub_digest_buffer(raw.data, raw.len, &out->manifest);
    hub_registry *r = rc ? NULL : open_registry(o, err);
    if (!rc && !r) rc = err ? err->code : DF_E_IO;
    if (!rc) rc = check_tag(r, o, repo, tag, &out->manifest, &out->unchanged, err);
    if (!rc && !out->unchanged) rc = push_blobs(r, o, repo, tarball, &oci, &config, err);
    hub_digest put;
    if (!rc && !out->unchanged)
        rc = hub_registry_manifest_put(r, repo, tag, HUB_OCI_MANIFEST_TYPE, raw.data, raw.len, &put,
                                       err);
    if (!rc && !out->unchanged && strcmp(put.s, out->manifest.s) != 0)
        rc = df_error_set(err, DF_E_IO, "%s answered the push of %s:%s with digest %s, not %s",
                          o->url, repo, tag, put.s, out->manifest.s);
    hub_registry_close(r);
    df_buf_free(&config);
    df_buf_free(&raw);
    if (rc) df_error_prefix(err, "push %s:%s to %s", repo, m->version, o->url);
    return rc;
}

/* ---- pull ------------------------------------------------------------------------------- */

typedef struct pull {
    const hub_remote_opts *o;
    hub_store *s;
    df_arena *a;
    const hub_ident *id;
    hub_registry *r;
    char repo[2 * HUB_COMPONENT_MAX + 2];
    char tag[HUB_VERSION_MAX + 1];
    df_buf raw;
    df_buf config;
    hub_oci_manifest oci;
    hub_manifest *m;
    hub_remote_result *out;
    df_error *err;
} pull;

static int by_version(const void *x, const void *y)
{
    hub_semver a, b;
    hub_semver_parse(*(char *const *)x, &a, NULL);
    hub_semver_parse(*(char *const *)y, &b, NULL);
    return hub_semver_order(&a, &b);
}

/* Tags -> versions -> the newest match. */
static int resolve_tag(pull *p)
{
    df_buf tags = DF_BUF_INIT;
    size_t n = 0;
    int rc = hub_registry_tags(p->r, p->repo, &tags, &n, p->err);
    char **versions = calloc(n + 1, sizeof *versions);
    if (!versions) abort();
    size_t nv = 0;
    for (size_t i = 0, off = 0; !rc && i < n; i++, off += strlen(tags.data + off) + 1) {
        char v[HUB_VERSION_MAX + 1];
        /* the registry's order means nothing (2.8 does not sort): parse all */
        if (hub_tag_to_version(tags.data + off, v, sizeof v) == DF_OK) versions[nv++] = strdup(v);
    }
    long pick = rc ? -1
                   : hub_version_pick(&p->id->version, p->o->allow_prerelease,
                                      (const char *const *)versions, nv);
    if (!rc && pick < 0) {
        qsort(versions, nv, sizeof *versions, by_version);
        df_buf have = DF_BUF_INIT;
        for (size_t i = 0; i < nv; i++)
            df_buf_printf(&have, "%s%s", i ? ", " : "", versions[i]);
        rc = df_error_set(p->err, DF_E_NOT_FOUND, "%s has no version matching '%s' (%s%s)%s",
                          p->repo, *p->id->version.text ? p->id->version.text : "latest",
                          nv ? "versions: " : "no versions at all", nv ? have.data : "",
                          nv && !p->o->allow_prerelease ? "; pre-releases count only with --pre "
                                                          "or when named"
                                                        : "");
        df_buf_free(&have);
    }
    if (pick >= 0) hub_version_to_tag(versions[pick], p->tag, sizeof p->tag, NULL);
    for (size_t i = 0; i < nv; i++)
        free(versions[i]);
    free(versions);
    df_buf_free(&tags);
    return rc;
}

static int fetch_manifest(pull *p)
{
    const char *ref = *p->id->digest ? p->id->digest : p->tag;
    hub_digest d;
    int rc = hub_registry_manifest_get(p->r, p->repo, ref, &p->raw, &d, NULL, 0, p->err);
    if (rc) return rc;
    /* Ours, from the bytes: the one thing a registry cannot fake. */
    hub_digest_buffer(p->raw.data, p->raw.len, &p->out->manifest);
    if (*p->id->digest && strcmp(p->out->manifest.s, p->id->digest) != 0)
        return df_error_set(p->err, DF_E_IO, "%s@%s: the registry sent a manifest with digest %s",
                            p->repo, p->id->digest, p->out->manifest.s);
    char what[300];
    snprintf(what, sizeof what, "%s:%s", p->repo, ref);
    return hub_oci_manifest_parse(p->raw.data, p->raw.len, what, &p->oci, p->err);
}

/* The config says who the package is and what it needs. */
static int fetch_config(pull *p)
{
    if (p->oci.config.size > HUB_OCI_MAX_CONFIG_BYTES)
        return df_error_set(p->err, DF_E_INVALID_INPUT, "%s: config blob of %llu bytes; refused",
                            p->repo, (unsigned long long)p->oci.config.size);
    int rc = hub_registry_blob_pull_buffer(p->r, p->repo, p->oci.config.digest.s,
                                           p->oci.config.size, &p->config, p->err);
    if (rc) return rc;
    p->m = hub_manifest_parse_json(p->a, p->config.data, p->config.len,
                                   df_arena_printf(p->a, "%s config blob", p->repo), p->err);
    if (!p->m) return p->err ? p->err->code : DF_E_INVALID_INPUT;
    hub_semver v;
    if (strcmp(p->m->ns, p->id->ns) || strcmp(p->m->name, p->id->name) ||
        hub_semver_parse(p->m->version, &v, NULL) ||
        (p->id->version.kind != HUB_VERSION_NONE && !hub_version_matches(&p->id->version, &v, 1)))
        return df_error_set(p->err, DF_E_INVALID_INPUT,
                            "%s: the registry's package says it is %s/%s:%s, which is not what "
                            "was asked for; refused",
                            p->repo, p->m->ns, p->m->name, p->m->version);
    snprintf(p->out->version, sizeof p->out->version, "%s", p->m->version);
    char ref[300];
    snprintf(ref, sizeof ref, "%s:%s", p->repo, p->m->version);
    return hub_manifest_check_host(p->m, ref, p->err);
}

/* Already stored from the same manifest: no download. */
static int stored_already(pull *p)
{
    hub_ident id = *p->id;
    memset(id.digest, 0, sizeof id.digest);
    hub_version_spec_parse(p->m->version, &id.version, NULL);
    hub_store_entry e;
    if (hub_store_resolve(p->s, &id, 1, &e, NULL) != DF_OK) return 0;
    if (strcmp(e.version, p->m->version) || strcmp(e.manifest.digest.s, p->out->manifest.s))
        return 0;
    p->out->entry = e;
    p->out->unchanged = 1;
    return 1;
}

static int fetch_layer(pull *p)
{
    if (p->oci.layer.size > HUB_EXTRACT_MAX_TOTAL_BYTES)
        return df_error_set(p->err, DF_E_INVALID_INPUT,
                            "%s:%s: a layer of %llu bytes is over the %llu-byte limit; refused",
                            p->repo, p->m->version, (unsigned long long)p->oci.layer.size,
                            (unsigned long long)HUB_EXTRACT_MAX_TOTAL_BYTES);
    char staged[PATH_MAX];
    snprintf(staged, sizeof staged, "%s/pull.%ld.tar.gz", hub_store_tmp_dir(p->s), (long)getpid());
    set_progress(p->o, 1);
    int rc = hub_registry_blob_pull_file(p->r, p->repo, p->oci.layer.digest.s, p->oci.layer.size,
                                         staged, p->err);
    set_progress(p->o, 0);
    p->out->bytes = p->oci.layer.size;
    char what[300];
    snprintf(what, sizeof what, "%s:%s", p->repo, p->m->version);
    /* Every file against the config's list, before the store sees it. */
    if (!rc && !hub_verify_tarball(p->a, staged, what, p->m, p->err))
        rc = p->err ? p->err->code : DF_E_INVALID_INPUT;
    if (!rc)
        rc = hub_store_put_pulled(p->s, p->m, &p->raw, &p->oci, &p->config, staged, p->o->force,
                                  &p->out->entry, &p->out->unchanged, p->err);
    unlink(staged);
    return rc;
}

int hub_remote_pull(const hub_remote_opts *o, hub_store *s, df_arena *a, const hub_ident *id,
                    hub_remote_result *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    pull p = {.o = o, .s = s, .a = a, .id = id, .out = out, .err = err};
    snprintf(p.repo, sizeof p.repo, "%s/%s", id->ns, id->name);
    p.r = open_registry(o, err);
    int rc = p.r ? DF_OK : (err ? err->code : DF_E_IO);
    if (!rc && !*id->digest) rc = resolve_tag(&p);
    if (!rc) rc = fetch_manifest(&p);
    if (!rc) rc = fetch_config(&p);
    if (!rc && !stored_already(&p)) rc = fetch_layer(&p);
    hub_registry_close(p.r);
    df_buf_free(&p.raw);
    df_buf_free(&p.config);
    if (rc) df_error_prefix(err, "pull %s from %s", p.repo, o->url);
    return rc;
}

/* ---- delete ----------------------------------------------------------------------------- */

int hub_remote_delete(const hub_remote_opts *o, const hub_ident *id, hub_remote_result *out,
                      df_error *err)
{
    memset(out, 0, sizeof *out);
    char repo[2 * HUB_COMPONENT_MAX + 2], tag[HUB_VERSION_MAX + 1];
    snprintf(repo, sizeof repo, "%s/%s", id->ns, id->name);
    snprintf(out->version, sizeof out->version, "%s", id->version.text);
    int rc = *id->digest ? DF_OK : hub_version_to_tag(id->version.text, tag, sizeof tag, err);
    hub_registry *r = rc ? NULL : open_registry(o, err);
    if (!rc && !r) rc = err ? err->code : DF_E_IO;
    df_buf raw = DF_BUF_INIT;
    if (!rc && *id->digest)
        snprintf(out->manifest.s, sizeof out->manifest.s, "%s", id->digest);
    else if (!rc)
        rc = hub_registry_manifest_get(r, repo, tag, &raw, &out->manifest, NULL, 0, err);
    if (!rc) rc = hub_registry_manifest_delete(r, repo, out->manifest.s, err);
    hub_registry_close(r);
    df_buf_free(&raw);
    if (rc) df_error_prefix(err, "rm %s from %s", repo, o->url);
    return rc;
}
