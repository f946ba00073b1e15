/*
 * docflow/log.h -- the process log: one line per event on stderr, with a
 * UTC timestamp and level, or one JSON object per line for machines.
 * Thread-safe (each line is written with one call).
 */
#ifndef DOCFLOW_LOG_H
#define DOCFLOW_LOG_H

#include <stdarg.h>
#include "docflow/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

void df_log_set_level(df_log_level min_level); /* default DF_LOG_INFO */
void df_log_set_json(int json);                /* default 0: text lines */
int df_log_is_json(void);                      /* 1 after df_log_set_json(1) */
int df_log_enabled(df_log_level level);
/* `source` (an executor name, "host", ...) may be NULL. */
void df_log(df_log_level level, const char *source, const char *fmt, ...) DF_PRINTF(3, 4);
void df_logv(df_log_level level, const char *source, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
#endif
