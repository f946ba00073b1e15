/*
 * hub_registry_parse.h -- the pure pieces of the registry client: registry
 * URLs and the plain-http policy, resolving upload Locations, Link headers,
 * OCI name and tag grammar, and the registry's JSON error bodies.
 *
 * No network and no files here, so unit tests reach every rule directly
 * (tests/unit/test_hub_registry.c). The requests themselves live in
 * hub_registry.c; WWW-Authenticate and credentials in hub_auth.h.
 */
#ifndef DOCFLOW_HUB_REGISTRY_PARSE_H
#define DOCFLOW_HUB_REGISTRY_PARSE_H

#include <stddef.h>

#include "docflow/error.h"

/* 1 for the hosts plain http is allowed to without --insecure: "localhost",
 * 127.0.0.0/8 in dotted form and ::1 (with or without brackets). A name that
 * merely resolves to 127.0.0.1 does not count: the check must not depend on
 * DNS. */
int hub_url_host_is_loopback(const char *host);

/* Checks a registry URL and returns its normal form "scheme://host[:port]"
 * (malloc'd, caller frees) in *base_out. A URL without a scheme gets http://
 * for a loopback host and https:// otherwise. Refused, with the reason: other
 * schemes, user:password@ in the URL (use docflow-hub login), a path other
 * than "/", a query or fragment, and plain http to a non-loopback host unless
 * `insecure`. */
int hub_url_normalize_registry(const char *url, int insecure, char **base_out, df_error *err);

/* The plain-http policy for any URL the client is about to use (an upload
 * Location, a redirect, a token realm): https always passes; http only for a
 * loopback host or when `insecure`. `what` names the URL in the message. */
int hub_url_check_policy(const char *url, int insecure, const char *what, df_error *err);

/* 1 when both absolute URLs have the same scheme, host and port: credentials
 * are attached only to requests to the registry's own origin, never to an
 * upload Location or redirect that points elsewhere. */
int hub_url_same_origin(const char *a, const char *b);

/* Resolves `ref` (absolute "http://...", or relative "/v2/..." as a registry
 * with relativeurls sends it) against the absolute URL `base`. Returns a
 * malloc'd absolute URL, or NULL when either does not parse. */
char *hub_url_resolve(const char *base, const char *ref);

/* Appends one "key=value" query parameter, with '&' when the URL already has
 * a query (the registry's upload Location carries ?_state=...) and '?'
 * otherwise; a '#fragment' is dropped. `param` is appended as given (callers
 * pass digests, which need no escaping). Malloc'd. */
char *hub_url_append_query(const char *url, const char *param);

/* The target of the rel="next" entry of a Link header
 * ("<url>; rel=\"next\"", possibly among other comma-separated links), as
 * written (often relative: resolve it). Malloc'd, or NULL when there is none. */
char *hub_link_next(const char *link_header);

/* OCI distribution grammar. A repository name is path components
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by '/', at most 255 characters;
 * a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (so no '+': semver build
 * metadata cannot be a tag). Checked before any request because the registry
 * answers a bad name with a bare "404 page not found". */
int hub_oci_repo_valid(const char *name);
int hub_oci_tag_valid(const char *tag);

/* The registry's error body {"errors":[{"code":..,"message":..}]}: copies
 * errors[0].code and .message (truncated to the caps). Returns 1 when at least
 * a code was found, else 0 with both set to "". */
int hub_registry_error_parse(const char *body, size_t len, char *code, size_t code_cap,
                             char *message, size_t message_cap);

#endif
