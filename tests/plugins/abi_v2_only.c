/*
 * abi_v2_only.c -- a plugin built for a future ABI 2: it exports only
 * docflow_plugin_v2 (the ABI major is part of the entry point's name). The
 * loader must say "built for ABI 2", not "not a plugin". Not installed.
 */
#include <docflow/executor.h>

/* What a v2 entry returns is unknown to this host; it is never called. */
DF_PLUGIN_EXPORT const void *docflow_plugin_v2(void);
const void *docflow_plugin_v2(void)
{
    static const char future[] = "an ABI 2 descriptor";
    return future;
}
