/*
 * log.c -- the process log on stderr: text lines or JSON lines.
 */
#include "docflow/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "docflow/buf.h"
#include "docflow/json_codec.h"

static df_log_level log_min = DF_LOG_INFO;
static int log_json;

void df_log_set_level(df_log_level min_level)
{
    log_min = min_level;
}
void df_log_set_json(int json)
{
    log_json = json;
}
int df_log_is_json(void)
{
    return log_json;
}
int df_log_enabled(df_log_level level)
{
    return level >= log_min;
}

static const char *level_name(df_log_level level)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    return (unsigned)level < 4 ? names[level] : "INFO";
}

void df_logv(df_log_level level, const char *source, const char *fmt, va_list ap)
{
    if (!df_log_enabled(level)) return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    df_buf b = DF_BUF_INIT;
    if (log_json) {
        df_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\"", ts, level_name(level));
        if (source) {
            df_buf_append_str(&b, ",\"source\":");
            df_json_encode_string(&b, source, strlen(source));
        }
        df_buf_append_str(&b, ",\"msg\":");
        df_json_encode_string(&b, msg, strlen(msg));
        df_buf_append_str(&b, "}\n");
    } else {
        df_buf_printf(&b, "%s %-5s %s%s%s\n", ts, level_name(level), source ? source : "",
                      source ? ": " : "", msg);
    }
    fputs(b.data, stderr);
    df_buf_free(&b);
}

void df_log(df_log_level level, const char *source, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    df_logv(level, source, fmt, ap);
    va_end(ap);
}
