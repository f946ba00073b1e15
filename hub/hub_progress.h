/*
 * hub_progress.h -- what push and pull show while they move bytes: a bar
 * with bytes and rate on a terminal (stderr is a tty), nothing otherwise;
 * the command prints one summary line at the end either way.
 *
 * Not thread-safe; one per command.
 */
#ifndef DOCFLOW_HUB_PROGRESS_H
#define DOCFLOW_HUB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hub_progress {
    char label[160];
    int tty;      /* draw the bar */
    int enabled;  /* updates count only while set (the big blob) */
    int drawn;    /* a bar is on screen */
    double start; /* seconds, monotonic */
    double last_draw;
} hub_progress;

/* Starts the clock; the bar shows `label` ("pushing alice/echo:1.0.0"). */
void hub_progress_init(hub_progress *p, const char *label);
/* A hub_store_progress_fn / hub_progress_fn: ctx is the hub_progress. */
void hub_progress_update(void *ctx, uint64_t done, uint64_t total);
/* Removes the bar from the screen. */
void hub_progress_clear(hub_progress *p);
double hub_progress_seconds(const hub_progress *p);
/* "20.0 MB", "512 B" (decimal units). */
void hub_format_size(uint64_t bytes, char *buf, size_t cap);

#endif
