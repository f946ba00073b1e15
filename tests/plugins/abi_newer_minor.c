/*
 * abi_newer_minor.c -- a plugin that claims ABI minor DF_ABI_MINOR + 1
 * (same major); the loader must refuse it: it may call host entries this
 * host does not have. Otherwise well-formed. Not installed.
 */
#include <docflow/executor.h>

static int noop_init(const df_host *h, df_init *init, void **state_out)
{
    (void)h;
    (void)init;
    *state_out = NULL;
    return DF_OK;
}

static void noop_close(void *state)
{
    (void)state;
}

static int noop(void *state, df_req *req)
{
    (void)state;
    (void)req;
    return DF_OK;
}

static const df_request_def noop_requests[] = {DF_DEFAULT(noop)};
static const df_executor_def executors[] = {
    DF_EXECUTOR("NewerMinor", "0.0.1", "claims a newer ABI minor", noop_init, noop_close,
                noop_requests),
};

DF_PLUGIN_EXPORT const df_plugin *docflow_plugin_v1(void);
const df_plugin *docflow_plugin_v1(void)
{
    static const df_plugin plugin = {sizeof(df_plugin),       DF_ABI_MAJOR, DF_ABI_MINOR + 1,
                                     "abi_newer_minor",       "0.0.1",      DF_COUNT_OF(executors),
                                     sizeof(df_executor_def), executors};
    return &plugin;
}
