/*
 * null_entry.c -- a plugin whose docflow_plugin_v1() returns NULL; the
 * loader must refuse it with a message instead of dereferencing it.
 * Not installed.
 */
#include <docflow/executor.h>

DF_PLUGIN_EXPORT const df_plugin *docflow_plugin_v1(void);
const df_plugin *docflow_plugin_v1(void)
{
    return NULL;
}
