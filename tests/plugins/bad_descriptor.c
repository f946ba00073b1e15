/*
 * bad_descriptor.c -- a plugin whose descriptors break every rule the
 * loader checks, so one message must list all of the problems: a jtype that
 * is not an identifier, a jtype declared twice, a missing close, an endpoint
 * bound twice, two default handlers, an endpoint without a leading '/', a
 * row without a handler, a row without a method name, DF_BATCH_N with size
 * 0, an unknown batch mode, and one method name for two handlers.
 * Not installed.
 */
#include <docflow/executor.h>

static int bad_init(const df_host *h, df_init *init, void **state_out)
{
    (void)h;
    (void)init;
    *state_out = NULL;
    return DF_OK;
}

static void bad_close(void *state)
{
    (void)state;
}

static int one(void *state, df_req *req)
{
    (void)state;
    (void)req;
    return DF_OK;
}

static int two(void *state, df_req *req)
{
    (void)state;
    (void)req;
    return DF_E_INTERNAL;
}

static const df_request_def ok_requests[] = {DF_REQUEST("/index", one)};

static const df_request_def broken_requests[] = {
    {"/index", "one", one, {DF_BATCH_WHOLE, 0}},
    {"/index", "two", two, {DF_BATCH_WHOLE, 0}},       /* endpoint bound twice */
    {NULL, "def_a", one, {DF_BATCH_WHOLE, 0}},         /* first default */
    {NULL, "def_b", two, {DF_BATCH_WHOLE, 0}},         /* second default */
    {"search", "search_fn", one, {DF_BATCH_WHOLE, 0}}, /* no leading '/' */
    {"/nohandler", "nohandler", NULL, {DF_BATCH_WHOLE, 0}},
    {"/nomethod", NULL, one, {DF_BATCH_WHOLE, 0}},
    {"/batch0", "batch0", one, {DF_BATCH_N, 0}}, /* size 0 */
    {"/mode9", "mode9", one, {9, 0}},            /* unknown mode */
    {"/clash", "one", two, {DF_BATCH_WHOLE, 0}}, /* 'one' names two handlers */
};

static const df_executor_def executors[] = {
    DF_EXECUTOR("Bad Name", "0.0.1", "jtype with a space", bad_init, bad_close, ok_requests),
    DF_EXECUTOR("Dupes", "0.0.1", "every row problem, no close", bad_init, NULL, broken_requests),
    DF_EXECUTOR("Dupes", "0.0.1", "the same jtype again", bad_init, bad_close, ok_requests),
};

DF_PLUGIN("bad_descriptor", "0.0.1", executors)
