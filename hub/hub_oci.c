/*
 * hub_oci.c -- writing and checking the OCI image manifest of a package
 * (jansson: compact output, keys in insertion order, so the bytes depend
 * only on the package).
 */
#include "hub_oci.h"

#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static json_t *descriptor(const char *media_type, const hub_oci_desc *d)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", d->digest.s, "size",
                     (json_int_t)d->size);
}

void hub_package_file_name(const hub_manifest *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%s-%s.tar.gz", m->ns, m->name, m->version);
}

static json_t *annotations(const hub_manifest *m)
{
    json_t *a = json_object();
    json_object_set_new(a, "org.opencontainers.image.version", json_string(m->version));
    if (*m->description)
        json_object_set_new(a, "org.opencontainers.image.description", json_string(m->description));
    if (*m->license)
        json_object_set_new(a, "org.opencontainers.image.licenses", json_string(m->license));
    if (*m->url) json_object_set_new(a, "org.opencontainers.image.source", json_string(m->url));
    /* A fixed creation time keeps the bytes reproducible (ORAS's advice). */
    json_object_set_new(a, "org.opencontainers.image.created", json_string("1970-01-01T00:00:00Z"));
    return a;
}

void hub_oci_manifest_write(const hub_manifest *m, const hub_oci_manifest *oci, df_buf *out)
{
    char title[512];
    hub_package_file_name(m, title, sizeof title);
    json_t *layer = descriptor(HUB_LAYER_TYPE, &oci->layer);
    json_object_set_new(layer, "annotations",
                        json_pack("{s:s}", "org.opencontainers.image.title", title));
    json_t *root = json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o}", "schemaVersion", 2, "mediaType",
                             HUB_OCI_MANIFEST_TYPE, "artifactType", HUB_CONFIG_TYPE, "config",
                             descriptor(HUB_CONFIG_TYPE, &oci->config), "layers", layer,
                             "annotations", annotations(m));
    char *s = json_dumps(root, JSON_COMPACT);
    df_buf_append_str(out, s);
    free(s);
    json_decref(root);
}

static int read_descriptor(const json_t *j, const char *expect_type, const char *what,
                           const char *field, hub_oci_desc *out, df_error *err)
{
    const char *type = json_string_value(json_object_get(j, "mediaType"));
    const char *digest = json_string_value(json_object_get(j, "digest"));
    json_t *size = json_object_get(j, "size");
    if (!json_is_object(j) || !digest || !hub_digest_valid(digest) || !json_is_integer(size) ||
        json_integer_value(size) < 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: %s is not a valid descriptor (mediaType, sha256 digest, size)",
                            what, field);
    if (!type || strcmp(type, expect_type) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: %s has media type '%s', expected %s: not a docflow package", what,
                            field, type ? type : "(none)", expect_type);
    snprintf(out->digest.s, sizeof out->digest.s, "%s", digest);
    out->size = (uint64_t)json_integer_value(size);
    return DF_OK;
}

int hub_oci_manifest_parse(const char *data, size_t len, const char *what, hub_oci_manifest *out,
                           df_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > HUB_OCI_MAX_MANIFEST_BYTES)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: manifest larger than %d bytes", what,
                            HUB_OCI_MAX_MANIFEST_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: manifest is not JSON (%s)", what,
                            jerr.text);
    int rc = DF_OK;
    const char *type = json_string_value(json_object_get(root, "mediaType"));
    json_t *layers = json_object_get(root, "layers");
    if (json_integer_value(json_object_get(root, "schemaVersion")) != 2 || !type ||
        strcmp(type, HUB_OCI_MANIFEST_TYPE) != 0)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "%s: not an OCI image manifest (schemaVersion 2, mediaType %s)", what,
                          HUB_OCI_MANIFEST_TYPE);
    else if (!json_is_array(layers) || json_array_size(layers) != 1)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "%s: a docflow package manifest has exactly one layer", what);
    else if (!(rc = read_descriptor(json_object_get(root, "config"), HUB_CONFIG_TYPE, what,
                                    "config", &out->config, err)))
        rc = read_descriptor(json_array_get(layers, 0), HUB_LAYER_TYPE, what, "layers[0]",
                             &out->layer, err);
    json_decref(root);
    return rc;
}
