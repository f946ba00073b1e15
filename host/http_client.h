/*
 * http_client.h -- the HTTP client of the docflow-host commands that talk
 * to a running gateway (`post --host`, `ping`): a pool of libcurl easy
 * handles driven through one multi handle, so several exchanges run at
 * once from a single thread, over keep-alive connections that later
 * exchanges reuse.
 *
 * Not a general HTTP library: no redirects, no authentication, bodies held
 * in memory, http:// and https:// only. Not thread-safe: one thread owns a
 * client and everything it does.
 */
#ifndef DOCFLOW_HTTP_CLIENT_H
#define DOCFLOW_HTTP_CLIENT_H

#include <stddef.h>

#include "docflow/buf.h"
#include "docflow/error.h"

typedef struct df_http_client df_http_client;

/* One request and, once it completed, its answer. The caller owns the
 * struct; the client only borrows it between df_http_client_start and the
 * df_http_client_next call that returns it. */
typedef struct df_http_exchange {
    /* ---- set by the caller; must stay valid until the exchange completed */
    const char *url;
    const char *content_type; /* the body's type; NULL: a GET, no body */
    const void *body;         /* not copied */
    size_t body_len;
    long timeout_ms; /* the whole exchange; 0: none */
    void *user;      /* the caller's, untouched */

    /* ---- set by the client when the exchange completed */
    long status;             /* the HTTP status; 0 when no answer came */
    df_buf response;         /* the body; kept across starts, the caller frees it */
    char response_type[128]; /* Content-Type, "" when none */
    long retry_after_s;      /* Retry-After in seconds (either form); 0: absent */
    char error[256];         /* why no answer came ("Connection refused"); "" otherwise */

    /* ---- private */
    int slot;
} df_http_exchange;

/* A client running at most `parallel` exchanges at once and keeping up to
 * that many connections open. `user_agent` is sent as is. NULL (err says
 * why) when libcurl cannot start. */
df_http_client *df_http_client_new(int parallel, const char *user_agent, df_error *err);
/* Abandons the exchanges in flight (they never complete) and closes every
 * connection. NULL is fine. */
void df_http_client_free(df_http_client *c);

/* Starts an exchange. DF_E_RESOURCE when `parallel` exchanges are in flight
 * already; DF_E_INVALID_INPUT when libcurl refuses the request (a malformed
 * URL is only found out on completion, as a transport error). */
int df_http_client_start(df_http_client *c, df_http_exchange *x, df_error *err);
/* Drives the transfers and returns one completed exchange (its answer
 * fields set), waiting up to `wait_ms` for one; NULL when none completed
 * in that time or none is in flight. Call it again until NULL to collect
 * every exchange that completed at once. */
df_http_exchange *df_http_client_next(df_http_client *c, int wait_ms);
/* Exchanges started and not yet returned by df_http_client_next. */
int df_http_client_in_flight(const df_http_client *c);

/* Starts one exchange and waits for it: the blocking form, for commands
 * that send a single request (nothing else may be in flight). DF_OK once
 * it completed (answered or not: check x->status and x->error), or the
 * error of df_http_client_start. */
int df_http_client_run(df_http_client *c, df_http_exchange *x, df_error *err);

#endif
