/*
 * hello.h -- what `docflow-host hello` (cmd_hello.c) hands to its HTML
 * report (hello_report.c): the digits, the search results and the
 * evaluation.
 */
#ifndef DOCFLOW_HOST_HELLO_H
#define DOCFLOW_HOST_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"

#define HELLO_SIDE      8 /* the digits are 8 x 8 */
#define HELLO_PIXELS    (HELLO_SIDE * HELLO_SIDE)
#define HELLO_MAX_VALUE 16 /* pixel values are 0..16 */

/* One image of the data set: its pixels, its label, its document id. */
typedef struct hello_image {
    uint8_t px[HELLO_PIXELS];
    int label;
    char id[16]; /* "digit-0042": the line number, from 1 */
} hello_image;

/* One match of a query, as the flow returned it. */
typedef struct hello_match {
    char id[64];
    int label;   /* tags.label, -1 when absent */
    float score; /* scores[metric].value */
    int has_px;
    uint8_t px[HELLO_PIXELS]; /* the stored tensor the indexer gave back */
} hello_match;

/* One query: the held-out image and its matches, best first. */
typedef struct hello_result {
    const hello_image *query;
    hello_match *matches;
    size_t n_matches;
    double precision; /* evaluations["precision@k"], -1 when absent */
} hello_result;

/* One line of the evaluation table. */
typedef struct hello_metric {
    const char *name; /* "precision@5" */
    double value;
} hello_metric;

typedef struct hello_report {
    size_t n_images;  /* in the data set */
    size_t n_indexed; /* indexed (the rest are the queries) */
    const hello_result *results;
    size_t n_results;
    const hello_metric *metrics;
    size_t n_metrics;
    int k;
    int dim;            /* the embedding size (64: the plain pixels) */
    const char *metric; /* "cosine" */
    size_t shard_counts[2];
    double index_s, search_s, total_s;
    const char *flow_yaml;
    const char *data_path;
} hello_report;

/* Appends the whole HTML page to `out`. */
void hello_report_html(df_buf *out, const hello_report *r);
/* Appends an 8 x 8 grey PNG of the pixels (0 = white, 16 = black) as a
 * data: URI (stored deflate: no compression library needed). */
void hello_png_data_uri(df_buf *out, const uint8_t px[HELLO_PIXELS]);

#endif
