/*
 * hub_auth.h -- registry credentials and the pieces of registry auth that
 * need no network: $DOCFLOW_HOME/auth.json (what docflow-hub login stores),
 * WWW-Authenticate challenges, bearer token responses and the per-scope
 * token cache. The requests (token fetch, retries) are hub_registry.c's.
 *
 * auth.json has Docker's shape, so a reader of ~/.docker/config.json knows it:
 *
 *   {"auths": {"127.0.0.1:5000": {"auth": "<base64 of user:password>"}}}
 *
 * keyed by the registry's host[:port] (the scheme is not part of the key, as
 * in Docker). base64 is encoding, not encryption: the file's protection is its
 * mode, 0600, in a 0700 directory. Writes are atomic (temp file, fsync,
 * rename) under a lock file, and other keys in the file are kept.
 */
#ifndef DOCFLOW_HUB_AUTH_H
#define DOCFLOW_HUB_AUTH_H

#include <stddef.h>

#include "docflow/buf.h"
#include "docflow/error.h"

/* ---------------------------------------------------------------- auth.json */

/* $DOCFLOW_HOME/auth.json; DOCFLOW_HOME defaults to ~/.docflow. Appends to
 * `out`. DF_E_INVALID_INPUT when neither DOCFLOW_HOME nor a home is known. */
int hub_auth_file_path(df_buf *out, df_error *err);

/* The auth.json key of a registry URL (as given to login or --registry):
 * "host[:port]", lowercase, default ports dropped. Malloc'd in *key_out. */
int hub_auth_key(const char *registry_url, char **key_out, df_error *err);

/* Stored credentials of a registry: DF_OK with *found = 0 when there are none
 * (or no auth.json); with *found = 1, *username and *password are malloc'd.
 * A malformed file is an error naming it. */
int hub_auth_lookup(const char *registry_url, char **username, char **password, int *found,
                    df_error *err);
/* Adds or replaces the credentials of a registry (creating $DOCFLOW_HOME with
 * mode 0700 when missing). */
int hub_auth_store(const char *registry_url, const char *username, const char *password,
                   df_error *err);
/* Removes them; DF_E_NOT_FOUND ("not logged in to ...") when there were none. */
int hub_auth_remove(const char *registry_url, df_error *err);

/* ---------------------------------------------------------------- challenges */

typedef enum hub_auth_scheme {
    HUB_AUTH_NONE = 0, /* no (parsable) challenge */
    HUB_AUTH_BASIC,
    HUB_AUTH_BEARER,
    HUB_AUTH_OTHER, /* e.g. Negotiate: not supported */
} hub_auth_scheme;

/* A parsed WWW-Authenticate value. Strings are malloc'd or NULL. */
typedef struct hub_auth_challenge {
    hub_auth_scheme scheme;
    char *realm;   /* Basic: a label; Bearer: the token server URL */
    char *service; /* Bearer */
    char *scope;   /* Bearer: "repository:alice/echo:pull,push" (may be absent) */
    char *error;   /* Bearer: "invalid_token", "insufficient_scope", ... */
} hub_auth_challenge;

/* Parses the first challenge of a header value such as
 *   Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"
 *   Basic realm="docflow-hub"
 * Scheme and parameter names are case-insensitive, values are tokens or
 * quoted strings (with \-escapes). Returns DF_OK, or DF_E_INVALID_INPUT for
 * an empty or unparsable value (out->scheme is then HUB_AUTH_NONE). Any
 * earlier content of `out` is freed. */
int hub_auth_challenge_parse(const char *header, hub_auth_challenge *out);
void hub_auth_challenge_free(hub_auth_challenge *c);

/* A token server's answer {"token": ..., "access_token": ..., "expires_in": N}:
 * *token (malloc'd) is "token", else "access_token"; *expires_in is N, or 60
 * when absent (the spec's default). */
int hub_auth_token_parse(const char *json, size_t len, char **token, long *expires_in,
                         df_error *err);

/* ---------------------------------------------------------------- token cache */

/* Bearer tokens of one registry connection, keyed by the scope they were
 * asked for ("" for the registry root). Not shared between threads. */
typedef struct hub_auth_tokens hub_auth_tokens;

hub_auth_tokens *hub_auth_tokens_new(void);
void hub_auth_tokens_free(hub_auth_tokens *t);
/* The token for `scope` still valid at `now` (seconds, any monotonic clock),
 * or NULL. A "pull,push" token also serves a "pull" request of the same
 * repository. The pointer lives until the next put or free. */
const char *hub_auth_tokens_find(hub_auth_tokens *t, const char *scope, double now);
/* Stores (copies) a token, valid until `expires_at`, replacing one of the
 * same scope. */
void hub_auth_tokens_put(hub_auth_tokens *t, const char *scope, const char *token,
                         double expires_at);

/* ---------------------------------------------------------------- base64 */

/* Standard base64 (with padding) of `len` bytes, malloc'd. */
char *hub_auth_base64_encode(const void *data, size_t len);
/* Decodes standard base64; malloc'd NUL-terminated bytes in *out (length in
 * *out_len), or -1 when the input is not base64. */
int hub_auth_base64_decode(const char *text, char **out, size_t *out_len);

#endif
