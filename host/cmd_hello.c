/*
 * cmd_hello.c -- `docflow-host hello`: docflow's "hello world", the
 * equivalent of `jina hello fashion`, offline and in a few seconds.
 *
 * It reads the bundled digits (examples/hello/digits.csv.gz: 1,797 8 x 8
 * handwritten digits with labels), holds out an evenly spaced query set,
 * indexes the rest through a real flow
 *
 *   ImageEncoder -> VectorIndexer (2 shards, /index ANY, /search ALL,
 *                   default reducer MatchMerger) -> Evaluator (/evaluate only)
 *
 * searches the queries, evaluates precision@k by label with the Evaluator,
 * prints the figures and writes hello-report.html (hello_report.c). With
 * --serve the same flow then stays up behind the HTTP gateway.
 *
 * The gzipped CSV is read with libarchive's raw format and gzip filter
 * (libarchive is already a dependency; zlib is not).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "docflow/flow.h"
#include "docflow/log.h"
#include "gateway.h"
#include "hello.h"
#include "host_cli.h"

#define CMD            "hello"
#define REQUEST_SIZE   100 /* documents per request, as a client would send */
#define WORKSPACE_NAME "hello-workspace"
#define WORKSPACE_MARK ".docflow-hello" /* only a folder holding it is ever removed */
#define REPORT_NAME    "hello-report.html"
#define SHARDS         2

extern char **environ;

typedef struct hello_opts {
    const char *workdir;
    const char *data;
    const char *host;
    long k;
    long queries; /* 0: a tenth of the images */
    long dim;
    long port;
    int serve;
    int open;
    int verbose;
} hello_opts;

static void hello_usage(FILE *out)
{
    fprintf(out, "usage: docflow-host hello [options]\n"
                 "\n"
                 "docflow's hello world: indexes 1,797 handwritten digits (8x8 pixels) through a\n"
                 "flow ImageEncoder -> VectorIndexer (2 shards) -> MatchMerger, searches a\n"
                 "held-out set, evaluates precision@k by label with the Evaluator, prints the\n"
                 "figures and writes hello-report.html. Offline, a few seconds.\n"
                 "\n"
                 "options:\n"
                 "  --workdir DIR    where the report and the workspace (DIR/" WORKSPACE_NAME ",\n"
                 "                   emptied first) go (default: the current folder)\n"
                 "  --k N            matches per query and the k of precision@k (default 5)\n"
                 "  --queries N      held-out query images, evenly spaced (default 180: every\n"
                 "                   10th image)\n"
                 "  --dim N          embedding size: 64 = the plain pixels (default), less = a\n"
                 "                   PCA fitted on /fit first\n"
                 "  --data FILE      the digits CSV (gzipped or not; default: the bundled one)\n"
                 "  --serve          keep the flow up behind the HTTP gateway afterwards\n"
                 "  --host ADDR      with --serve: bind address (default 127.0.0.1)\n"
                 "  --port N         with --serve: port (default 12345; 0 = a free one)\n"
                 "  --open           open the report in a browser (xdg-open)\n"
                 "  --verbose        show the executors' log lines\n"
                 "  -h, --help       this text\n"
                 "\n"
                 "exit status: 0 ok, 1 a failure (data, flow or report), 2 bad usage\n");
}

static int parse_long(const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        df_cli_error(CMD, "%s: expected a whole number in %ld..%ld, got '%s'", opt, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, hello_opts *o)
{
    enum {
        O_WORKDIR = 256,
        O_K,
        O_QUERIES,
        O_DIM,
        O_DATA,
        O_SERVE,
        O_HOST,
        O_PORT,
        O_OPEN,
        O_VERBOSE
    };
    static const struct option longs[] = {{"workdir", required_argument, 0, O_WORKDIR},
                                          {"k", required_argument, 0, O_K},
                                          {"queries", required_argument, 0, O_QUERIES},
                                          {"dim", required_argument, 0, O_DIM},
                                          {"data", required_argument, 0, O_DATA},
                                          {"serve", no_argument, 0, O_SERVE},
                                          {"host", required_argument, 0, O_HOST},
                                          {"port", required_argument, 0, O_PORT},
                                          {"open", no_argument, 0, O_OPEN},
                                          {"verbose", no_argument, 0, O_VERBOSE},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    *o = (hello_opts){.workdir = ".", .k = 5, .dim = HELLO_PIXELS, .port = 12345};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_WORKDIR:
            o->workdir = optarg;
            break;
        case O_K:
            if (parse_long("--k", optarg, 1, 100, &o->k)) return 2;
            break;
        case O_QUERIES:
            if (parse_long("--queries", optarg, 1, 100000, &o->queries)) return 2;
            break;
        case O_DIM:
            if (parse_long("--dim", optarg, 1, HELLO_PIXELS, &o->dim)) return 2;
            break;
        case O_DATA:
            o->data = optarg;
            break;
        case O_SERVE:
            o->serve = 1;
            break;
        case O_HOST:
            o->host = optarg;
            break;
        case O_PORT:
            if (parse_long("--port", optarg, 0, 65535, &o->port)) return 2;
            break;
        case O_OPEN:
            o->open = 1;
            break;
        case O_VERBOSE:
            o->verbose = 1;
            break;
        case 'h':
            hello_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) return df_cli_error(CMD, "unexpected argument '%s'", argv[optind]), 2;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ========================================================================
 * The data set
 * ======================================================================== */

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* --data, else the copy installed beside this program (relocatable), else
 * the source tree of this build, else the configured install path. */
static const char *find_data(const hello_opts *o, char *buf, size_t cap)
{
    if (o->data) return o->data;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", exe, DOCFLOW_HELLO_DATA_FROM_BIN);
            if (file_exists(path) && cap >= PATH_MAX && realpath(path, buf)) return buf;
        }
    }
    if (file_exists(DOCFLOW_HELLO_DATA_SOURCE)) return DOCFLOW_HELLO_DATA_SOURCE;
    return DOCFLOW_HELLO_DATA_INSTALLED;
}

/* The file's bytes, gunzipped when it is gzip (libarchive's raw format
 * reads a lone compressed stream; a plain file passes through as is). */
static int read_gzip(const char *path, df_buf *out, df_error *err)
{
    struct archive *ar = archive_read_new();
    if (!ar) return df_error_set(err, DF_E_RESOURCE, "out of memory");
    archive_read_support_filter_gzip(ar);
    archive_read_support_format_raw(ar);
    struct archive_entry *entry;
    int rc = DF_OK;
    if (archive_read_open_filename(ar, path, 1 << 16) != ARCHIVE_OK ||
        archive_read_next_header(ar, &entry) != ARCHIVE_OK) {
        rc = df_error_set(err, DF_E_IO, "%s: %s", path, archive_error_string(ar));
    } else {
        char chunk[1 << 15];
        la_ssize_t n;
        while ((n = archive_read_data(ar, chunk, sizeof chunk)) > 0)
            df_buf_append(out, chunk, (size_t)n);
        if (n < 0) rc = df_error_set(err, DF_E_IO, "%s: %s", path, archive_error_string(ar));
    }
    archive_read_free(ar);
    return rc;
}

/* Lines of 64 pixel values 0..16 and a label 0..9, comma-separated. */
static int parse_digits(const char *path, const df_buf *text, hello_image **out, size_t *n_out,
                        df_error *err)
{
    size_t cap = 2048, n = 0, line = 0;
    hello_image *img = malloc(cap * sizeof *img);
    if (!img) abort();
    const char *p = text->data ? text->data : "", *end = p + text->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        line++;
        const char *q = p;
        p = eol + 1;
        while (q < eol && (*q == ' ' || *q == '\r' || *q == '\t'))
            q++;
        if (q == eol) continue; /* a blank line */
        if (n == cap) {
            cap *= 2;
            img = realloc(img, cap * sizeof *img);
            if (!img) abort();
        }
        hello_image *im = &img[n];
        for (int field = 0; field <= HELLO_PIXELS; field++) {
            char *num_end;
            long v = strtol(q, &num_end, 10);
            int max = field < HELLO_PIXELS ? HELLO_MAX_VALUE : 9;
            if (num_end == q || v < 0 || v > max) {
                free(img);
                return df_error_set(err, DF_E_INVALID_INPUT,
                                    "%s:%zu: value %d: expected a whole number in 0..%d (64 "
                                    "pixels 0..16, then the label 0..9)",
                                    path, line, field + 1, max);
            }
            if (field < HELLO_PIXELS)
                im->px[field] = (uint8_t)v;
            else
                im->label = (int)v;
            q = num_end;
            while (q < eol && (*q == ' ' || *q == '\r'))
                q++;
            if (field < HELLO_PIXELS) {
                if (q >= eol || *q != ',') {
                    free(img);
                    return df_error_set(err, DF_E_INVALID_INPUT,
                                        "%s:%zu: %d values, expected 65 (64 pixels, the label)",
                                        path, line, field + 1);
                }
                q++;
            }
        }
        if (q != eol) {
            free(img);
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s:%zu: more than 65 values (64 pixels, the label)", path, line);
        }
        snprintf(im->id, sizeof im->id, "digit-%04zu", line);
        n++;
    }
    *out = img;
    *n_out = n;
    return DF_OK;
}

/* ========================================================================
 * The workspace and the flow
 * ======================================================================== */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) ? -1 : 0;
}

/* DIR/hello-workspace, emptied: a rerun starts from nothing, so it gives
 * the same results. A folder of that name without our mark is left alone. */
static int prepare_workspace(const char *workdir, char real[PATH_MAX], char *ws, size_t cap,
                             df_error *err)
{
    if (mkdir(workdir, 0755) != 0 && errno != EEXIST)
        return df_error_set(err, DF_E_IO, "--workdir %s: %s", workdir, strerror(errno));
    if (!realpath(workdir, real))
        return df_error_set(err, DF_E_IO, "--workdir %s: %s", workdir, strerror(errno));
    if (strcmp(real, "/") == 0) real[0] = '\0';
    snprintf(ws, cap, "%s/%s", real, WORKSPACE_NAME);
    char mark[PATH_MAX + 32];
    snprintf(mark, sizeof mark, "%s/%s", ws, WORKSPACE_MARK);
    struct stat st;
    if (lstat(ws, &st) == 0) {
        if (!S_ISDIR(st.st_mode) || !file_exists(mark))
            return df_error_set(err, DF_E_IO,
                                "%s exists and was not made by docflow-host hello (no %s in "
                                "it): remove it or choose another --workdir",
                                ws, WORKSPACE_MARK);
        if (nftw(ws, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            return df_error_set(err, DF_E_IO, "cannot empty %s: %s", ws, strerror(errno));
    }
    if (mkdir(ws, 0755) != 0) return df_error_set(err, DF_E_IO, "%s: %s", ws, strerror(errno));
    FILE *f = fopen(mark, "w");
    if (!f) return df_error_set(err, DF_E_IO, "%s: %s", mark, strerror(errno));
    fputs("made by docflow-host hello: emptied by every run\n", f);
    fclose(f);
    return DF_OK;
}

/* A YAML single-quoted scalar. */
static void yaml_quote(df_buf *b, const char *s)
{
    df_buf_append_char(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') df_buf_append_char(b, '\'');
        df_buf_append_char(b, *s);
    }
    df_buf_append_char(b, '\'');
}

static void flow_yaml(df_buf *b, const char *ws, int k, int dim, const size_t per_label[10])
{
    df_buf_append_str(b, "# docflow-host hello's flow: digits in, matches and evaluations out.\n"
                         "jtype: Flow\n"
                         "with:\n"
                         "  workspace: ");
    yaml_quote(b, ws);
    df_buf_printf(b,
                  "\n"
                  "executors:\n"
                  "  - name: encoder          # 8x8 pixels -> L2-normalised embedding\n"
                  "    uses:\n"
                  "      jtype: ImageEncoder\n"
                  "      with: {height: 8, width: 8, dim: %d}\n"
                  "  - name: indexer          # exact search, each shard its own workspace\n"
                  "    uses:\n"
                  "      jtype: VectorIndexer\n"
                  "      with: {metric: cosine, limit: %d}\n"
                  "    shards: %d\n"
                  "    polling: {/index: ANY, /search: ALL, /status: ALL}\n"
                  "    # shards polled ALL get MatchMerger, the default reducer: it merges\n"
                  "    # the shards' top-%d per query by score (uses_after: null turns it off)\n"
                  "  - name: evaluator        # precision@k etc. by the label tag\n"
                  "    uses:\n"
                  "      jtype: Evaluator\n"
                  "      with:\n"
                  "        label_tag: label\n"
                  "        k: %d\n"
                  "        metrics: [precision@1, %sreciprocal_rank, ndcg_at_k, recall_at_k]\n"
                  "        label_counts: {",
                  dim == HELLO_PIXELS ? 0 : dim, k, SHARDS, k, k, k > 1 ? "precision_at_k, " : "");
    for (int l = 0; l < 10; l++)
        df_buf_printf(b, "%s'%d': %zu", l ? ", " : "", l, per_label[l]);
    df_buf_append_str(b, "}   # indexed images per label: R of recall\n"
                         "      requests: {/evaluate: evaluate}   # not /search: queries need no "
                         "label\n");
}

/* ========================================================================
 * Requests: posted concurrently, collected by slot
 * ======================================================================== */

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    df_flow_response **resp;
} collector;

typedef struct slot_ctx {
    collector *c;
    size_t slot;
} slot_ctx;

static void on_done(void *ctx, df_flow_response *r)
{
    slot_ctx *s = ctx;
    pthread_mutex_lock(&s->c->mu);
    s->c->resp[s->slot] = r;
    s->c->pending--;
    pthread_cond_signal(&s->c->cv);
    pthread_mutex_unlock(&s->c->mu);
}

/* The documents of images[idx[first .. first + n)]: id, tensor 8 x 8
 * uint8, tags {label}. */
static df_docs *make_docs(df_arena *a, const hello_image *images, const size_t *idx, size_t first,
                          size_t n)
{
    static const uint32_t shape[2] = {HELLO_SIDE, HELLO_SIDE};
    df_docs *docs = df_docs_new(a);
    df_docs_reserve(docs, n);
    for (size_t i = first; i < first + n; i++) {
        const hello_image *im = &images[idx[i]];
        df_doc *d = df_docs_append(docs, df_doc_new_empty(a));
        df_doc_set_str(d, DF_FIELD_ID, im->id);
        df_doc_set_tensor(d, im->px, HELLO_PIXELS, shape, 2, "|u1");
        df_value_put_number(df_doc_tags(d), "label", im->label);
    }
    return docs;
}

static df_value *limit_params(df_arena *a, int k)
{
    df_value *p = df_value_new_map(a);
    df_value_put_number(p, "limit", k);
    return p;
}

/* Sends images[idx[0 .. n)] to `endpoint` in requests of REQUEST_SIZE, all
 * in flight at once (the flow pipelines them and spreads /index over the
 * shards), and returns the responses in request order, or NULL after
 * printing the first failure. */
static df_flow_response **post_all(df_flow *flow, const char *endpoint, const char *target,
                                   const hello_image *images, const size_t *idx, size_t n, int k,
                                   size_t *n_resp)
{
    size_t nreq = (n + REQUEST_SIZE - 1) / REQUEST_SIZE;
    collector c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL};
    c.resp = calloc(nreq ? nreq : 1, sizeof *c.resp);
    slot_ctx *ctx = calloc(nreq ? nreq : 1, sizeof *ctx);
    if (!c.resp || !ctx) abort();
    df_error err = DF_ERROR_INIT;
    int failed = 0;
    for (size_t r = 0; r < nreq && !failed; r++) {
        size_t first = r * REQUEST_SIZE, len = n - first < REQUEST_SIZE ? n - first : REQUEST_SIZE;
        df_arena *a = df_arena_new(1 << 16);
        df_flow_request q = {.arena = a,
                             .endpoint = endpoint,
                             .docs = make_docs(a, images, idx, first, len),
                             .parameters = k > 0 ? limit_params(a, k) : NULL,
                             .target_executor = target};
        ctx[r] = (slot_ctx){&c, r};
        pthread_mutex_lock(&c.mu);
        c.pending++;
        pthread_mutex_unlock(&c.mu);
        if (df_flow_post(flow, &q, on_done, &ctx[r], 1, &err)) {
            pthread_mutex_lock(&c.mu);
            c.pending--;
            pthread_mutex_unlock(&c.mu);
            df_cli_error(CMD, "%s: %s", endpoint, err.msg);
            failed = 1;
        }
    }
    pthread_mutex_lock(&c.mu);
    while (c.pending)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    free(ctx);
    for (size_t r = 0; r < nreq && !failed; r++) {
        if (!c.resp[r] || c.resp[r]->status == DF_OK) continue;
        df_cli_error(CMD, "%s failed in %s: %s", endpoint,
                     c.resp[r]->error_executor ? c.resp[r]->error_executor : "the flow",
                     c.resp[r]->error ? c.resp[r]->error : df_rc_name(c.resp[r]->status));
        failed = 1;
    }
    if (failed) {
        for (size_t r = 0; r < nreq; r++)
            df_flow_response_free(c.resp[r]);
        free(c.resp);
        return NULL;
    }
    *n_resp = nreq;
    return c.resp;
}

static void free_responses(df_flow_response **resp, size_t n)
{
    for (size_t i = 0; resp && i < n; i++)
        df_flow_response_free(resp[i]);
    free(resp);
}

/* One call with no documents (or the given ones); NULL after printing why. */
static df_flow_response *call_flow(df_flow *flow, df_arena *a, const char *endpoint,
                                   const char *target, df_docs *docs, df_value *params)
{
    df_error err = DF_ERROR_INIT;
    df_flow_request q = {.arena = a,
                         .endpoint = endpoint,
                         .docs = docs,
                         .parameters = params,
                         .target_executor = target};
    df_flow_response *r = df_flow_call(flow, &q, &err);
    if (!r) {
        df_cli_error(CMD, "%s: %s", endpoint, err.msg);
        return NULL;
    }
    if (r->status != DF_OK) {
        df_cli_error(CMD, "%s failed in %s: %s", endpoint,
                     r->error_executor ? r->error_executor : "the flow",
                     r->error ? r->error : df_rc_name(r->status));
        df_flow_response_free(r);
        return NULL;
    }
    return r;
}

static const df_value *results_of(const df_flow_response *r, const char *key)
{
    return df_value_get(df_value_get(r->parameters, "__results__"), key);
}

/* ========================================================================
 * The run
 * ======================================================================== */

typedef struct hello_run {
    hello_image *images;
    size_t n_images;
    size_t *index_idx, *query_idx;
    size_t n_index, n_queries;
    long *query_slot; /* image -> its query number, -1 for indexed images */
    hello_result *results;
    hello_metric metrics[16];
    size_t n_metrics;
    size_t per_label[10]; /* indexed images per label */
    size_t shard_counts[SHARDS];
    double index_s, search_s;
} hello_run;

/* Queries are images floor(j * n / q), j = 0..q-1: evenly spaced, so every
 * label is among them; the rest is indexed. */
static void split(hello_run *run, size_t n_queries)
{
    size_t n = run->n_images;
    run->query_slot = malloc(n * sizeof *run->query_slot);
    run->query_idx = malloc(n_queries * sizeof *run->query_idx);
    run->index_idx = malloc(n * sizeof *run->index_idx);
    if (!run->query_slot || !run->query_idx || !run->index_idx) abort();
    for (size_t i = 0; i < n; i++)
        run->query_slot[i] = -1;
    for (size_t j = 0; j < n_queries; j++) {
        size_t i = j * n / n_queries;
        run->query_idx[j] = i;
        run->query_slot[i] = (long)j;
    }
    run->n_queries = n_queries;
    run->n_index = 0;
    for (size_t i = 0; i < n; i++) {
        if (run->query_slot[i] >= 0) continue;
        run->index_idx[run->n_index++] = i;
        run->per_label[run->images[i].label]++;
    }
}

/* The image of a document id "digit-NNNN", or -1. */
static long image_of(const hello_run *run, const char *id)
{
    unsigned long line;
    char tail;
    if (!id || sscanf(id, "digit-%lu%c", &line, &tail) != 1 || line < 1 || line > run->n_images)
        return -1;
    return (long)line - 1;
}

static int fit_encoder(df_flow *flow, const hello_run *run)
{
    /* Cumulative /fit, one request at a time; only the encoder runs. */
    for (size_t first = 0; first < run->n_index; first += REQUEST_SIZE) {
        size_t len = run->n_index - first < REQUEST_SIZE ? run->n_index - first : REQUEST_SIZE;
        df_arena *a = df_arena_new(1 << 16);
        df_flow_response *r =
            call_flow(flow, a, "/fit", "encoder",
                      make_docs(a, run->images, run->index_idx, first, len), NULL);
        if (!r) return -1;
        df_flow_response_free(r);
    }
    return 0;
}

static int index_images(df_flow *flow, hello_run *run)
{
    double t0 = now_s();
    size_t n_resp;
    df_flow_response **resp =
        post_all(flow, "/index", NULL, run->images, run->index_idx, run->n_index, 0, &n_resp);
    if (!resp) return -1;
    run->index_s = now_s() - t0;
    free_responses(resp, n_resp);
    /* How the documents spread over the shards (/status is polled ALL). */
    df_flow_response *st = call_flow(flow, df_arena_new(0), "/status", "indexer", NULL, NULL);
    if (!st) return -1;
    size_t total = 0;
    for (int s = 0; s < SHARDS; s++) {
        char key[32];
        snprintf(key, sizeof key, "indexer/shard-%d", s);
        run->shard_counts[s] = (size_t)df_value_number(df_value_get(results_of(st, key), "count"));
        total += run->shard_counts[s];
    }
    df_flow_response_free(st);
    if (total != run->n_index) {
        df_cli_error(CMD, "the shards hold %zu documents, %zu were indexed", total, run->n_index);
        return -1;
    }
    return 0;
}

static void read_matches(hello_run *run, const df_doc *d, hello_result *res, int k)
{
    const df_docs *matches = df_doc_matches_peek(d);
    size_t n = df_docs_len(matches);
    if (n > (size_t)k) n = (size_t)k;
    res->matches = calloc(n ? n : 1, sizeof *res->matches);
    if (!res->matches) abort();
    res->n_matches = n;
    for (size_t i = 0; i < n; i++) {
        const df_doc *m = df_docs_get(matches, i);
        hello_match *hm = &res->matches[i];
        snprintf(hm->id, sizeof hm->id, "%s", df_doc_str(m, DF_FIELD_ID));
        const df_value *label = df_value_get(df_doc_tags_peek(m), "label");
        hm->label = df_value_type_of(label) == DF_VALUE_NUMBER ? (int)df_value_number(label) : -1;
        df_score s;
        hm->score = df_doc_score(m, DF_SCORES, "cosine", &s) ? s.value : 0.0f;
        df_ndarray_view t;
        if (df_doc_tensor(m, &t) && t.nbytes == HELLO_PIXELS && t.dtype &&
            strcmp(t.dtype, "|u1") == 0) {
            memcpy(hm->px, t.data, HELLO_PIXELS);
            hm->has_px = 1;
        } else {
            long img = image_of(run, hm->id);
            if (img >= 0) {
                memcpy(hm->px, run->images[img].px, HELLO_PIXELS);
                hm->has_px = 1;
            }
        }
    }
}

/* Searches the queries, then sends their results to the Evaluator. */
static int search_and_evaluate(df_flow *flow, hello_run *run, int k)
{
    double t0 = now_s();
    size_t n_resp;
    df_flow_response **resp =
        post_all(flow, "/search", NULL, run->images, run->query_idx, run->n_queries, k, &n_resp);
    if (!resp) return -1;
    run->search_s = now_s() - t0;

    /* The results, in query order, and one /evaluate request holding them. */
    run->results = calloc(run->n_queries, sizeof *run->results);
    if (!run->results) abort();
    df_arena *a = df_arena_new(1 << 20);
    df_docs *eval_docs = df_docs_new(a);
    const df_doc **by_query = calloc(run->n_queries, sizeof *by_query);
    if (!by_query) abort();
    for (size_t r = 0; r < n_resp; r++) {
        for (size_t i = 0; i < df_docs_len(resp[r]->docs); i++) {
            const df_doc *d = df_docs_get(resp[r]->docs, i);
            long img = image_of(run, df_doc_str(d, DF_FIELD_ID));
            if (img >= 0 && run->query_slot[img] >= 0) by_query[run->query_slot[img]] = d;
        }
    }
    int rc = 0;
    for (size_t j = 0; j < run->n_queries; j++) {
        hello_result *res = &run->results[j];
        res->query = &run->images[run->query_idx[j]];
        res->precision = -1;
        if (!by_query[j]) {
            df_cli_error(CMD, "/search: query %s is missing from the responses", res->query->id);
            rc = -1;
            break;
        }
        read_matches(run, by_query[j], res, k);
        df_docs_append(eval_docs, (df_doc *)by_query[j]); /* a deep copy into `a` */
    }
    free(by_query);
    free_responses(resp, n_resp);
    if (rc) {
        df_arena_free(a);
        return rc;
    }

    /* /evaluate: precision@k etc. by label (R of recall: with.label_counts). */
    df_value *params = df_value_new_map(a);
    df_value_put_number(params, "k", k);
    df_flow_response *ev = call_flow(flow, a, "/evaluate", "evaluator", eval_docs, params);
    if (!ev) return -1;
    const df_value *means = results_of(ev, "evaluator");
    for (size_t i = 0; i < df_value_len(means) && run->n_metrics < 16; i++) {
        const char *name = df_value_key_at(means, i);
        if (strcmp(name, "docs") == 0) continue;
        hello_metric *m = &run->metrics[run->n_metrics++];
        m->name = strdup(name);
        if (!m->name) abort();
        m->value = df_value_number(df_value_at(means, i));
    }
    char pk[32];
    snprintf(pk, sizeof pk, "precision@%d", k);
    for (size_t i = 0; i < df_docs_len(ev->docs); i++) {
        const df_doc *d = df_docs_get(ev->docs, i);
        long img = image_of(run, df_doc_str(d, DF_FIELD_ID));
        df_score s;
        if (img >= 0 && run->query_slot[img] >= 0 && df_doc_score(d, DF_EVALUATIONS, pk, &s))
            run->results[run->query_slot[img]].precision = s.value;
    }
    df_flow_response_free(ev);
    if (run->n_metrics == 0) {
        df_cli_error(CMD, "/evaluate: the Evaluator returned no results");
        return -1;
    }
    return 0;
}

static void free_run(hello_run *run)
{
    for (size_t j = 0; run->results && j < run->n_queries; j++)
        free(run->results[j].matches);
    for (size_t i = 0; i < run->n_metrics; i++)
        free((char *)run->metrics[i].name);
    free(run->results);
    free(run->images);
    free(run->index_idx);
    free(run->query_idx);
    free(run->query_slot);
}

static double metric_value(const hello_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_metrics; i++)
        if (strcmp(run->metrics[i].name, name) == 0) return run->metrics[i].value;
    return -1;
}

static void print_figures(const hello_run *run, const hello_opts *o, const char *data,
                          double total_s)
{
    printf("docflow hello: %zu handwritten digits, 8x8 pixels (%s)\n", run->n_images, data);
    printf("flow: ImageEncoder (%ld-d%s) -> VectorIndexer (cosine, %d shards: %zu + %zu) -> "
           "MatchMerger -> Evaluator\n",
           o->dim, o->dim == HELLO_PIXELS ? ", the pixels" : ", PCA fitted on /fit", SHARDS,
           run->shard_counts[0], run->shard_counts[1]);
    printf("indexed  %zu images in %.3f s (%.0f docs/s)\n", run->n_index, run->index_s,
           run->index_s > 0 ? (double)run->n_index / run->index_s : 0.0);
    printf("searched %zu held-out images in %.3f s (%.0f queries/s), top %ld each\n",
           run->n_queries, run->search_s,
           run->search_s > 0 ? (double)run->n_queries / run->search_s : 0.0, o->k);
    printf("evaluation by label (mean over the queries):\n");
    for (size_t i = 0; i < run->n_metrics; i++)
        printf("  %-16s %.4f\n", run->metrics[i].name, run->metrics[i].value);
    printf("time taken: %.2f s\n", total_s);
}

/* xdg-open, in the background, through sh so that nothing is left to reap. */
static void open_report(const char *path)
{
    char *argv[] = {"sh",
                    "-c",
                    "command -v xdg-open >/dev/null 2>&1 || exit 127; "
                    "xdg-open \"$1\" >/dev/null 2>&1 &",
                    "sh",
                    (char *)path,
                    NULL};
    pid_t pid;
    int status = 0;
    if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("(no xdg-open here: open file://%s in a browser)\n", path);
}

static void print_serve_help(const hello_run *run, const df_gateway_options *g, int k)
{
    const hello_image *q = &run->images[run->query_idx[0]];
    char port[16];
    if (g->port)
        snprintf(port, sizeof port, "%d", g->port);
    else
        snprintf(port, sizeof port, "$PORT");
    printf("\nserving the flow over HTTP%s; Ctrl-C stops it. Search with a held-out image "
           "(label %d):\n\n",
           g->port ? "" : " (PORT: on the 'ready on' line below)", q->label);
    printf("curl -s %s:%s/post -H 'content-type: application/json' -d '{\"execEndpoint\": "
           "\"/search\", \"parameters\": {\"limit\": %d}, \"data\": [{\"tensor\": [",
           strcmp(g->host, "0.0.0.0") ? g->host : "127.0.0.1", port, k);
    for (int y = 0; y < HELLO_SIDE; y++) {
        printf("%s[", y ? ", " : "");
        for (int x = 0; x < HELLO_SIDE; x++)
            printf("%s%d", x ? ", " : "", q->px[y * HELLO_SIDE + x]);
        printf("]");
    }
    printf("]}]}'\n\nEach match carries tags.label and scores.cosine; /evaluate with documents "
           "that have matches and tags.label gives precision@%d.\n\n",
           k);
    fflush(stdout);
}

int df_cmd_hello(int argc, char **argv)
{
    hello_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    if (o.serve == 0 && (o.host || o.port != 12345))
        df_cli_error(CMD, "note: --host and --port only matter with --serve");
    df_log_set_level(o.verbose ? DF_LOG_INFO : DF_LOG_WARN);
    double t_start = now_s();
    df_error err = DF_ERROR_INIT;
    hello_run run = {0};

    char data_buf[PATH_MAX + 64];
    const char *data = find_data(&o, data_buf, sizeof data_buf);
    df_buf text = DF_BUF_INIT;
    if (read_gzip(data, &text, &err) ||
        parse_digits(data, &text, &run.images, &run.n_images, &err)) {
        df_buf_free(&text);
        df_cli_error(CMD, "%s", err.msg);
        if (!o.data) fprintf(stderr, "(give the digits with --data FILE)\n");
        return DF_EXIT_FAILURE;
    }
    df_buf_free(&text);
    size_t n_queries = o.queries ? (size_t)o.queries : (run.n_images + 9) / 10;
    if (n_queries > run.n_images / 2 || (size_t)o.k > run.n_images - n_queries) {
        df_cli_error(CMD,
                     "--queries %zu / --k %ld: %zu images cannot give that (at most half "
                     "of them as queries, and k below the indexed count)",
                     n_queries, o.k, run.n_images);
        free_run(&run);
        return DF_EXIT_USAGE;
    }
    split(&run, n_queries);

    char workdir[PATH_MAX], ws[PATH_MAX + 64];
    if (prepare_workspace(o.workdir, workdir, ws, sizeof ws, &err)) {
        df_cli_error(CMD, "%s", err.msg);
        free_run(&run);
        return DF_EXIT_FAILURE;
    }
    df_buf yaml = DF_BUF_INIT;
    flow_yaml(&yaml, ws, (int)o.k, (int)o.dim, run.per_label);
    char flow_path[PATH_MAX + 128];
    snprintf(flow_path, sizeof flow_path, "%s/flow.yml", ws);
    /* Kept beside the index: `docflow-host run` serves it again later. */
    if (df_cli_write_file(flow_path, yaml.data, yaml.len, &err)) {
        df_cli_error(CMD, "%s", err.msg);
        df_buf_free(&yaml);
        free_run(&run);
        return DF_EXIT_FAILURE;
    }
    df_arena *a = df_arena_new(1 << 16);
    df_flow_config *cfg = df_flow_config_parse(a, yaml.data, yaml.len, flow_path, NULL, &err);
    df_flow *flow = NULL;
    int exit_code = DF_EXIT_FAILURE;
    if (!cfg) {
        df_cli_error(CMD, "the hello flow: %s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < df_value_len(cfg->warnings); i++)
        df_log(DF_LOG_WARN, NULL, "%s", df_value_string(df_value_at(cfg->warnings, i), NULL));
    if (o.serve) df_gateway_block_signals(); /* before any flow thread exists */
    flow = df_flow_open(cfg, &err);
    if (!flow) {
        df_cli_error(CMD, "%s", err.msg);
        fprintf(stderr, "(the executors are built-ins: ImageEncoder, VectorIndexer, MatchMerger "
                        "and Evaluator must be in the plugin folder; see DOCFLOW_PLUGIN_PATH)\n");
        goto out;
    }
    if (o.dim < HELLO_PIXELS && fit_encoder(flow, &run)) goto out;
    if (index_images(flow, &run) || search_and_evaluate(flow, &run, (int)o.k)) goto out;

    char report_path[PATH_MAX + 64];
    snprintf(report_path, sizeof report_path, "%s/%s", workdir, REPORT_NAME);
    hello_report rep = {.n_images = run.n_images,
                        .n_indexed = run.n_index,
                        .results = run.results,
                        .n_results = run.n_queries,
                        .metrics = run.metrics,
                        .n_metrics = run.n_metrics,
                        .k = (int)o.k,
                        .dim = (int)o.dim,
                        .metric = "cosine",
                        .shard_counts = {run.shard_counts[0], run.shard_counts[1]},
                        .index_s = run.index_s,
                        .search_s = run.search_s,
                        .flow_yaml = yaml.data,
                        .data_path = data};
    rep.total_s = now_s() - t_start;
    df_buf html = DF_BUF_INIT;
    hello_report_html(&html, &rep);
    rc = df_cli_write_file(report_path, html.data, html.len, &err);
    df_buf_free(&html);
    if (rc) {
        df_cli_error(CMD, "%s", err.msg);
        goto out;
    }
    print_figures(&run, &o, data, now_s() - t_start);
    printf("report: %s\n", report_path);
    printf("flow and index: %s (docflow-host run %s serves them again)\n", ws, flow_path);
    if (metric_value(&run, "precision@1") < 0)
        df_cli_error(CMD, "warning: no precision@1 in the Evaluator's results");
    fflush(stdout);
    if (o.open) open_report(report_path);
    exit_code = DF_EXIT_OK;
    if (o.serve) {
        df_gateway_options g = {
            .host = o.host ? o.host : "127.0.0.1", .port = (int)o.port, .drain_ms = 10000};
        if (strcmp(g.host, "localhost") == 0) g.host = "127.0.0.1";
        print_serve_help(&run, &g, (int)o.k);
        df_log_set_level(o.verbose ? DF_LOG_DEBUG : DF_LOG_INFO);
        df_flow *served = flow;
        flow = NULL; /* the gateway closes it */
        if (df_gateway_serve(served, &g, &err)) {
            df_cli_error(CMD, "%s", err.msg);
            exit_code = DF_EXIT_FAILURE;
        } else {
            df_log(DF_LOG_INFO, "gateway", "stopped");
        }
    }
out:
    df_flow_close(flow, 0);
    df_flow_config_free(cfg);
    df_arena_free(a);
    df_buf_free(&yaml);
    free_run(&run);
    return exit_code;
}
