/*
 * abi_newer_major.c -- a plugin that claims ABI major DF_ABI_MAJOR + 1
 * through the v1 entry point; the loader must refuse it and name both
 * versions. Otherwise well-formed. Not installed.
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
    DF_EXECUTOR("NewerMajor", "0.0.1", "claims a newer ABI major", noop_init, noop_close,
                noop_requests),
};

DF_PLUGIN_EXPORT const df_plugin *docflow_plugin_v1(void);
const df_plugin *docflow_plugin_v1(void)
{
    static const df_plugin plugin = {
        sizeof(df_plugin),      DF_ABI_MAJOR + 1,        3,        "abi_newer_major", "0.0.1",
        DF_COUNT_OF(executors), sizeof(df_executor_def), executors};
    return &plugin;
}
