/*
 * hub_progress.c -- the push/pull progress bar.
 */
#include "hub_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hub_format_size(uint64_t bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, cap, "%.1f %s", v, units[u]);
}

void hub_progress_init(hub_progress *p, const char *label)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->tty = isatty(STDERR_FILENO);
    p->start = now();
}

double hub_progress_seconds(const hub_progress *p)
{
    return now() - p->start;
}

void hub_progress_update(void *ctx, uint64_t done, uint64_t total)
{
    hub_progress *p = ctx;
    if (!p || !p->tty || !p->enabled) return;
    double t = now();
    if (t - p->last_draw < 0.1 && done != total) return; /* 10 frames a second */
    p->last_draw = t;
    char d[32], tot[32], rate[32];
    hub_format_size(done, d, sizeof d);
    hub_format_size(total, tot, sizeof tot);
    double secs = t - p->start;
    hub_format_size(secs > 0 ? (uint64_t)((double)done / secs) : 0, rate, sizeof rate);
    char bar[31];
    int fill = total ? (int)(30.0 * (double)done / (double)total) : 0;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r%-40.40s [%s] %s / %s  %s/s ", p->label, bar, d, total ? tot : "?", rate);
    fflush(stderr);
    p->drawn = 1;
}

void hub_progress_clear(hub_progress *p)
{
    if (!p->drawn) return;
    fprintf(stderr, "\r%*s\r", 100, "");
    fflush(stderr);
    p->drawn = 0;
}
