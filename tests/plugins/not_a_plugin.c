/*
 * not_a_plugin.c -- a shared library that exports a function, but not
 * docflow_plugin_v1: the loader must call it "not a docflow executor
 * plugin". Not installed.
 */
#include <docflow/executor.h>

DF_PLUGIN_EXPORT int not_a_docflow_entry(void);
int not_a_docflow_entry(void)
{
    return 42;
}
