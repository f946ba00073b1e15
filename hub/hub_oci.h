/*
 * hub_oci.h -- the OCI image manifest that carries one docflow package
 * version, identical in the local store and in a registry:
 *
 *   {"schemaVersion": 2,
 *    "mediaType": "application/vnd.oci.image.manifest.v1+json",
 *    "artifactType": "application/vnd.docflow.executor.config.v1+json",
 *    "config": {"mediaType": "application/vnd.docflow.executor.config.v1+json",
 *               "digest": "sha256:...", "size": N},        <- manifest.yml as JSON
 *    "layers": [{"mediaType": "application/vnd.docflow.executor.layer.v1.tar+gzip",
 *                "digest": "sha256:...", "size": N,         <- the package tarball
 *                "annotations": {"org.opencontainers.image.title":
 * "<ns>-<name>-<version>.tar.gz"}}], "annotations": {"org.opencontainers.image.version":
 * "<version>", "org.opencontainers.image.description": "...",   (when set)
 *                    "org.opencontainers.image.licenses": "...",      (when set)
 *                    "org.opencontainers.image.created": "1970-01-01T00:00:00Z"}}
 *
 * The bytes are a pure function of the package (no clock, fixed key order),
 * so pushing the same tarball twice gives the same manifest digest.
 */
#ifndef DOCFLOW_HUB_OCI_H
#define DOCFLOW_HUB_OCI_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"
#include "docflow/error.h"
#include "hub_digest.h"
#include "hub_manifest.h"

#define HUB_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define HUB_OCI_INDEX_TYPE    "application/vnd.oci.image.index.v1+json"
#define HUB_CONFIG_TYPE       "application/vnd.docflow.executor.config.v1+json"
#define HUB_LAYER_TYPE        "application/vnd.docflow.executor.layer.v1.tar+gzip"
#define HUB_REF_NAME          "org.opencontainers.image.ref.name"

/* A manifest (or a config blob) larger than this is refused. */
#define HUB_OCI_MAX_MANIFEST_BYTES (4 * 1024 * 1024)
#define HUB_OCI_MAX_CONFIG_BYTES   (1024 * 1024)

typedef struct hub_oci_desc {
    hub_digest digest;
    uint64_t size;
} hub_oci_desc;

typedef struct hub_oci_manifest {
    hub_oci_desc config;
    hub_oci_desc layer;
} hub_oci_manifest;

/* Writes the manifest bytes for a package. */
void hub_oci_manifest_write(const hub_manifest *m, const hub_oci_manifest *oci, df_buf *out);
/* Parses and checks manifest bytes: schemaVersion 2, the OCI manifest media
 * type, the docflow config type and exactly one docflow layer. `what` names
 * the manifest in messages. */
int hub_oci_manifest_parse(const char *data, size_t len, const char *what, hub_oci_manifest *out,
                           df_error *err);
/* "<ns>-<name>-<version>.tar.gz": the file name of a package tarball. */
void hub_package_file_name(const hub_manifest *m, char *buf, size_t cap);

#endif
