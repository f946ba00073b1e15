/*
 * hub_verify.c -- a tarball's files against its manifest.
 */
#include "hub_verify.h"

#include <string.h>

#include "docflow/buf.h"

int hub_verify_files(const hub_manifest *m, const hub_extract_result *r, const char *what,
                     df_error *err)
{
    if (!hub_extract_find(r, "manifest.yml"))
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: the archive has no manifest.yml", what);
    for (size_t i = 0; i < m->n_files; i++) {
        const hub_file_info *want = &m->files[i];
        const hub_extracted_file *got = hub_extract_find(r, want->path);
        if (!got)
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s: %s is listed in manifest.yml but missing from the archive",
                                what, want->path);
        if (strcmp(got->digest.s, want->digest) != 0)
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s: %s has %s, but manifest.yml says %s: the package was "
                                "altered or damaged; get it again from its source",
                                what, want->path, got->digest.s, want->digest);
    }
    for (size_t i = 0; i < r->n_files; i++) {
        const char *path = r->files[i].path;
        /* An unlisted file would be installed without any digest vouching
         * for it. */
        if (strcmp(path, "manifest.yml") != 0 && !hub_manifest_file(m, path))
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s: %s is in the archive but not in manifest.yml files; refused "
                                "(every file must be listed with its sha256)",
                                what, path);
    }
    return DF_OK;
}

static int same_manifest(const hub_manifest *x, const hub_manifest *y)
{
    df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
    hub_manifest_write_json(x, &a);
    hub_manifest_write_json(y, &b);
    int same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    df_buf_free(&a);
    df_buf_free(&b);
    return same;
}

hub_manifest *hub_verify_tarball(df_arena *a, const char *tarball, const char *what,
                                 const hub_manifest *expect, df_error *err)
{
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    opts.name = what;
    hub_extract_result r;
    hub_manifest *m = NULL;
    if (hub_extract_scan(tarball, &opts, &r, err) != DF_OK) goto done;
    if (!r.has_captured) {
        df_error_set(err, DF_E_INVALID_INPUT,
                     "%s: no manifest.yml in the archive: not a docflow package (make one with "
                     "docflow-hub build)",
                     what);
        goto done;
    }
    const char *name = df_arena_printf(a, "%s:manifest.yml", what);
    m = hub_manifest_parse_yaml(a, r.captured.data, r.captured.len, name, 1, err);
    if (m && hub_verify_files(m, &r, what, err) != DF_OK) m = NULL;
    if (m && expect && !same_manifest(m, expect)) {
        df_error_set(err, DF_E_INVALID_INPUT,
                     "%s: the manifest.yml inside the package differs from the one in its OCI "
                     "config blob; refused",
                     what);
        m = NULL;
    }
done:
    hub_extract_result_free(&r);
    return m;
}
