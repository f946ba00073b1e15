/*
 * hub_store_package.c -- packages in the local store: storing a verified
 * package as OCI blobs plus an index entry, reading one back with every
 * digest checked, and unpacking it into executors/<ns>/<name>/<version>/.
 *
 * Order matters for crash safety: blobs first, index entry last, so a
 * version is visible only once everything it needs is on disk; unpacking
 * goes to a staging folder renamed into place only after every file
 * matched the manifest.
 */
#include "hub_store.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_extract.h"
#include "hub_verify.h"

#define UNPACK_MARKER "/.docflow-hub.json"

static void ref_of(const hub_manifest *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s:%s", m->ns, m->name, m->version);
}

static void entry_of(const hub_manifest *m, const hub_oci_desc *manifest, hub_store_entry *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->ns, sizeof e->ns, "%s", m->ns);
    snprintf(e->name, sizeof e->name, "%s", m->name);
    snprintf(e->version, sizeof e->version, "%s", m->version);
    e->manifest = *manifest;
}

/* Immutable versions: the same ref with other bytes needs --force. */
static int check_existing(hub_store *s, const hub_store_entry *e, int force, int *unchanged,
                          df_error *err)
{
    hub_ident id = {0};
    snprintf(id.ns, sizeof id.ns, "%s", e->ns);
    snprintf(id.name, sizeof id.name, "%s", e->name);
    hub_version_spec_parse(e->version, &id.version, NULL);
    hub_store_entry old;
    *unchanged = 0;
    if (hub_store_resolve(s, &id, 1, &old, NULL) != DF_OK || strcmp(old.version, e->version))
        return DF_OK;
    if (strcmp(old.manifest.digest.s, e->manifest.digest.s) == 0) {
        *unchanged = 1;
        return DF_OK;
    }
    if (force) return DF_OK;
    return df_error_set(err, DF_E_INVALID_INPUT,
                        "%s/%s:%s is already in the local store with other content (%s); "
                        "versions are immutable: bump the version, or pass --force to replace it",
                        e->ns, e->name, e->version, old.manifest.digest.s);
}

static int store_common(hub_store *s, const hub_manifest *m, const df_buf *raw,
                        const df_buf *config, const char *staged_layer, const hub_oci_desc *layer,
                        int force, hub_store_entry *out, int *unchanged, df_error *err)
{
    hub_oci_desc manifest_desc, config_desc;
    hub_digest_buffer(raw->data, raw->len, &manifest_desc.digest);
    manifest_desc.size = raw->len;
    entry_of(m, &manifest_desc, out);
    int rc = check_existing(s, out, force, unchanged, err);
    if (!rc) rc = hub_store_adopt_blob(s, staged_layer, layer, err);
    if (!rc) rc = hub_store_put_blob_buffer(s, config->data, config->len, &config_desc, err);
    if (!rc) rc = hub_store_put_blob_buffer(s, raw->data, raw->len, &manifest_desc, err);
    /* The index entry last: before it, the version does not exist. */
    if (!rc) rc = hub_store_set_entry(s, out, err);
    if (!rc && force && !*unchanged) hub_store_gc(s, NULL); /* the replaced version's blobs */
    return rc;
}

int hub_store_put_package(hub_store *s, const hub_manifest *m, const char *staged_layer,
                          const hub_oci_desc *layer, int force, hub_store_entry *out,
                          int *unchanged, df_error *err)
{
    df_buf config = DF_BUF_INIT, raw = DF_BUF_INIT;
    hub_manifest_write_json(m, &config);
    hub_oci_manifest oci;
    hub_digest_buffer(config.data, config.len, &oci.config.digest);
    oci.config.size = config.len;
    oci.layer = *layer;
    hub_oci_manifest_write(m, &oci, &raw);
    int rc = store_common(s, m, &raw, &config, staged_layer, layer, force, out, unchanged, err);
    df_buf_free(&config);
    df_buf_free(&raw);
    return rc;
}

int hub_store_put_pulled(hub_store *s, const hub_manifest *m, const df_buf *raw_manifest,
                         const hub_oci_manifest *oci, const df_buf *config,
                         const char *staged_layer, int force, hub_store_entry *out, int *unchanged,
                         df_error *err)
{
    return store_common(s, m, raw_manifest, config, staged_layer, &oci->layer, force, out,
                        unchanged, err);
}

/* ---- reading ------------------------------------------------------------------------ */

int hub_store_load(hub_store *s, df_arena *a, const hub_store_entry *e, int verify_layer,
                   hub_store_package *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    out->entry = *e;
    char ref[512], what[600];
    snprintf(ref, sizeof ref, "%s/%s:%s", e->ns, e->name, e->version);
    snprintf(what, sizeof what, "%s (local store)", ref);
    df_buf config = DF_BUF_INIT;
    int rc = hub_store_read_blob(s, e->manifest.digest.s, HUB_OCI_MAX_MANIFEST_BYTES,
                                 &out->raw_manifest, err);
    if (!rc)
        rc = hub_oci_manifest_parse(out->raw_manifest.data, out->raw_manifest.len, what, &out->oci,
                                    err);
    if (!rc)
        rc = hub_store_read_blob(s, out->oci.config.digest.s, HUB_OCI_MAX_CONFIG_BYTES, &config,
                                 err);
    if (!rc) {
        out->manifest = hub_manifest_parse_json(a, config.data, config.len, what, err);
        if (!out->manifest) rc = err ? err->code : DF_E_INVALID_INPUT;
    }
    char got[512];
    if (!rc) ref_of(out->manifest, got, sizeof got);
    if (!rc && strcmp(got, ref) != 0)
        rc = df_error_set(err, DF_E_IO,
                          "the local store is corrupted: the entry %s holds the package %s; "
                          "remove it (docflow-hub rm %s) and push or pull it again",
                          ref, got, ref);
    if (!rc && verify_layer) rc = hub_store_verify_blob(s, &out->oci.layer, err);
    df_buf_free(&config);
    if (rc) hub_store_package_free(out);
    return rc;
}

void hub_store_package_free(hub_store_package *p)
{
    df_buf_free(&p->raw_manifest);
}

/* ---- unpacking ---------------------------------------------------------------------- */

const char *hub_store_unpack_dir(const hub_store *s, df_arena *a, const hub_store_entry *e)
{
    return df_arena_printf(a, "%s/executors/%s/%s/%s", hub_store_home(s), e->ns, e->name,
                           e->version);
}

/* 1 when `dir` was unpacked from this manifest digest. */
static int unpacked_from(const char *dir, const char *digest)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s" UNPACK_MARKER, dir);
    json_t *root = json_load_file(path, 0, NULL);
    const char *got = json_string_value(json_object_get(root, "manifest"));
    int same = got && strcmp(got, digest) == 0;
    json_decref(root);
    return same;
}

/* The marker goes into the staging folder, so it arrives with the files in
 * one rename. Package paths cannot start with '.', so it cannot clash. */
static int write_marker(const char *staging, const hub_store_package *p, df_error *err)
{
    char path[PATH_MAX], ref[512];
    snprintf(path, sizeof path, "%s" UNPACK_MARKER, staging);
    snprintf(ref, sizeof ref, "%s/%s:%s", p->entry.ns, p->entry.name, p->entry.version);
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:s}", "ref", ref, "manifest", p->entry.manifest.digest.s,
                  "config", p->oci.config.digest.s, "layer", p->oci.layer.digest.s);
    int rc = json_dump_file(root, path, JSON_COMPACT) == 0
                 ? DF_OK
                 : df_error_set(err, DF_E_IO, "cannot write %s", path);
    json_decref(root);
    return rc;
}

/* Moves a stale unpacked folder aside, puts the new one in place, then
 * deletes the old one: the path never holds a mix of two versions. */
static int replace_dir(hub_store *s, hub_extract_result *r, const char *dir, df_error *err)
{
    char aside[PATH_MAX], old[PATH_MAX + 8];
    snprintf(aside, sizeof aside, "%s/old.XXXXXX", hub_store_tmp_dir(s));
    int have_old = access(dir, F_OK) == 0;
    if (have_old) {
        if (!mkdtemp(aside))
            return df_error_set(err, DF_E_IO, "cannot create a folder in %s: %s",
                                hub_store_tmp_dir(s), strerror(errno));
        snprintf(old, sizeof old, "%s/d", aside);
        if (rename(dir, old) != 0)
            return df_error_set(err, DF_E_IO, "cannot move the old %s aside: %s", dir,
                                strerror(errno));
    }
    int rc = hub_extract_commit(r, dir, err);
    if (have_old) hub_remove_tree(aside, NULL);
    return rc;
}

int hub_store_unpack(hub_store *s, df_arena *a, const hub_store_package *p, const char **dir_out,
                     df_error *err)
{
    const char *dir = hub_store_unpack_dir(s, a, &p->entry);
    *dir_out = dir;
    if (unpacked_from(dir, p->entry.manifest.digest.s)) return DF_OK;
    char ref[512], layer[PATH_MAX];
    snprintf(ref, sizeof ref, "%s/%s:%s", p->entry.ns, p->entry.name, p->entry.version);
    int rc = hub_manifest_check_host(p->manifest, ref, err);
    if (!rc) rc = hub_store_verify_blob(s, &p->oci.layer, err);
    if (rc) return rc;
    hub_store_blob_path(s, p->oci.layer.digest.s, layer, sizeof layer);
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    opts.name = ref;
    hub_extract_result r;
    rc = hub_extract_unpack(layer, hub_store_tmp_dir(s), &opts, &r, err);
    if (!rc) rc = hub_verify_files(p->manifest, &r, ref, err);
    if (!rc) rc = write_marker(r.staging, p, err);
    if (!rc) rc = replace_dir(s, &r, dir, err);
    hub_extract_result_free(&r);
    return rc;
}
