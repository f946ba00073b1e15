/*
 * gateway_metrics.c -- the gateway's Prometheus counters and histograms and
 * their text exposition (format 0.0.4). Not an exporter framework: the
 * metric families are fixed here, and only the gateway observes them.
 *
 * One mutex guards everything: an observation is a hash lookup and a few
 * additions, far cheaper than the request it describes, so contention
 * stays negligible. Memory is allocated only the first time a label value
 * (an endpoint, an executor, an endpoint's status code) is seen.
 *
 * Label cardinality is bounded because endpoint names come from clients
 * (an unknown execEndpoint passes through the flow and answers 200, a
 * mistyped path gets a 404): past MAX_ENDPOINTS distinct endpoints, and for
 * any name longer than MAX_LABEL_BYTES, the observation is counted under
 * endpoint="other". Executors get the same guard, though the flow bounds
 * them. Real endpoints start with '/', so "other" cannot collide with one.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/error.h"
#include "gateway_metrics.h"

#define MAX_ENDPOINTS   256
#define MAX_EXECUTORS   1024
#define MAX_LABEL_BYTES 256
#define OTHER_LABEL     "other"

/* Upper bounds (seconds) of the latency buckets, 1-2.5-5 steps: fine enough
 * around a millisecond, where a healthy gateway answers, and up to 10 s,
 * beyond which a request is a timeout story rather than a latency one. */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])

typedef struct histogram {
    uint64_t in_bucket[N_BUCKETS]; /* per bucket, not cumulative; above the
                                      last bound only `count` has them */
    uint64_t count;
    double sum;
} histogram;

typedef struct code_count {
    int code;
    uint64_t n;
} code_count;

/* The series of one label value: an endpoint or an executor. */
typedef struct series {
    char *name;
    uint64_t hash;
    uint64_t calls; /* executors only; endpoints count per code */
    uint64_t errors;
    histogram latency;
    code_count *codes; /* endpoints only, sorted by code */
    size_t n_codes;
} series;

/* Label values by name: an open-addressing index into `items`, which keeps
 * them in first-seen order. */
typedef struct series_table {
    series *items;
    size_t n, cap;
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t n_slots;  /* a power of two, at least twice n */
    size_t max_items;
} series_table;

struct df_metrics {
    pthread_mutex_t lock;
    series_table endpoints;
    series_table executors;
    int64_t in_flight;
    uint64_t documents;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("docflow: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fputs("docflow: out of memory\n", stderr);
        abort();
    }
    return p;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void table_rehash(series_table *t, size_t n_slots)
{
    free(t->slots);
    t->slots = xcalloc(n_slots, sizeof *t->slots);
    t->n_slots = n_slots;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->items[i].hash & (n_slots - 1);
        while (t->slots[j])
            j = (j + 1) & (n_slots - 1);
        t->slots[j] = (uint32_t)(i + 1);
    }
}

static series *table_find(series_table *t, const char *name, uint64_t h)
{
    if (!t->n_slots) return NULL;
    for (size_t j = h & (t->n_slots - 1); t->slots[j]; j = (j + 1) & (t->n_slots - 1)) {
        series *s = &t->items[t->slots[j] - 1];
        if (s->hash == h && strcmp(s->name, name) == 0) return s;
    }
    return NULL;
}

static series *table_add(series_table *t, const char *name, uint64_t h)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->items = xrealloc(t->items, t->cap * sizeof *t->items);
    }
    series *s = &t->items[t->n++];
    memset(s, 0, sizeof *s);
    s->name = xrealloc(NULL, strlen(name) + 1);
    strcpy(s->name, name);
    s->hash = h;
    if (t->n * 2 > t->n_slots)
        table_rehash(t, t->n_slots ? t->n_slots * 2 : 32);
    else {
        size_t j = h & (t->n_slots - 1);
        while (t->slots[j])
            j = (j + 1) & (t->n_slots - 1);
        t->slots[j] = (uint32_t)t->n;
    }
    return s;
}

/* The series of `name`, created on first sight; "other" once the table is
 * full or for a name too long to be a real one. The pointer is valid until
 * the next call (items may move). */
static series *table_get(series_table *t, const char *name)
{
    if (!name || strlen(name) > MAX_LABEL_BYTES) name = OTHER_LABEL;
    uint64_t h = hash_name(name);
    series *s = table_find(t, name, h);
    if (s) return s;
    if (t->n >= t->max_items && strcmp(name, OTHER_LABEL) != 0) {
        name = OTHER_LABEL;
        h = hash_name(name);
        s = table_find(t, name, h);
        if (s) return s;
    }
    return table_add(t, name, h); /* "other" may exceed max_items by one */
}

static void table_free(series_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].name);
        free(t->items[i].codes);
    }
    free(t->items);
    free(t->slots);
}

static void histogram_observe(histogram *h, double seconds)
{
    if (!(seconds >= 0)) seconds = 0; /* NaN or a clock step back: one NaN would poison sum */
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (seconds <= bucket_bounds[i]) {
            h->in_bucket[i]++;
            break;
        }
    }
    h->count++;
    h->sum += seconds;
}

static void count_code(series *s, int code)
{
    size_t i = 0;
    while (i < s->n_codes && s->codes[i].code < code)
        i++;
    if (i < s->n_codes && s->codes[i].code == code) {
        s->codes[i].n++;
        return;
    }
    /* A new status code for this endpoint: the server answers a handful of
     * codes, so this grows by one rarely and stays small. */
    s->codes = xrealloc(s->codes, (s->n_codes + 1) * sizeof *s->codes);
    memmove(&s->codes[i + 1], &s->codes[i], (s->n_codes - i) * sizeof *s->codes);
    s->codes[i] = (code_count){code, 1};
    s->n_codes++;
}

df_metrics *df_metrics_new(void)
{
    df_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    m->endpoints.max_items = MAX_ENDPOINTS;
    m->executors.max_items = MAX_EXECUTORS;
    return m;
}

void df_metrics_free(df_metrics *m)
{
    if (!m) return;
    table_free(&m->endpoints);
    table_free(&m->executors);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void df_metrics_observe(df_metrics *m, const char *endpoint, int http_status, double seconds,
                        size_t docs, const df_flow_response *resp)
{
    pthread_mutex_lock(&m->lock);
    series *e = table_get(&m->endpoints, endpoint);
    count_code(e, http_status);
    if (http_status != 200 || (resp && resp->status != DF_OK)) e->errors++;
    histogram_observe(&e->latency, seconds);
    m->documents += docs;
    for (size_t i = 0; resp && i < resp->n_routes; i++) {
        const df_flow_route *r = &resp->routes[i];
        series *x = table_get(&m->executors, r->executor);
        x->calls++;
        if (r->status != DF_OK) x->errors++;
        double took = r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0;
        histogram_observe(&x->latency, took);
    }
    pthread_mutex_unlock(&m->lock);
}

void df_metrics_observe_refused(df_metrics *m, const char *endpoint, int http_status)
{
    pthread_mutex_lock(&m->lock);
    series *e = table_get(&m->endpoints, endpoint);
    count_code(e, http_status);
    if (http_status != 200) e->errors++;
    pthread_mutex_unlock(&m->lock);
}

void df_metrics_in_flight(df_metrics *m, int delta)
{
    pthread_mutex_lock(&m->lock);
    m->in_flight += delta;
    pthread_mutex_unlock(&m->lock);
}

/* ---- rendering ---------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (len == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
    if (len == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
    if (len == 4 && s[0] == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
    if (len == 4 && s[0] == 0xF4 && s[1] >= 0x90) return 0; /* past U+10FFFF */
    return len;
}

/* A label value as the format wants it: backslash, quote and newline
 * escaped. Invalid UTF-8 (a client's endpoint can be any bytes) becomes
 * U+FFFD, because Prometheus rejects the whole scrape over one bad value. */
static void append_label_value(df_buf *out, const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(s + i, n - i);
        const char *escaped = len == 0       ? "\xEF\xBF\xBD"
                              : s[i] == '\\' ? "\\\\"
                              : s[i] == '"'  ? "\\\""
                              : s[i] == '\n' ? "\\n"
                                             : NULL;
        if (escaped)
            df_buf_append_str(out, escaped);
        else
            df_buf_append(out, s + i, len);
        i += len ? len : 1;
    }
}

/* The shortest decimal that reads back as x (Go's ParseFloat reads it). */
static void append_double(df_buf *out, double x)
{
    if (isnan(x)) {
        df_buf_append_str(out, "NaN");
        return;
    }
    if (isinf(x)) {
        df_buf_append_str(out, x > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[32];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(tmp, sizeof tmp, "%.*g", precision, x);
        if (strtod(tmp, NULL) == x) break;
    }
    df_buf_append_str(out, tmp);
}

static void append_family(df_buf *out, const char *name, const char *type, const char *help)
{
    df_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{label="value"` -- the caller closes the brace or adds labels. */
static void append_series_start(df_buf *out, const char *name, const char *label, const char *value)
{
    df_buf_printf(out, "%s{%s=\"", name, label);
    append_label_value(out, value);
    df_buf_append_char(out, '"');
}

static void append_histogram(df_buf *out, const char *name, const char *label, const series *s)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cumulative += s->latency.in_bucket[i];
        append_series_start(out, name, label, s->name);
        df_buf_printf(out, ",le=\"%g\"} %llu\n", bucket_bounds[i], (unsigned long long)cumulative);
    }
    append_series_start(out, name, label, s->name);
    df_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->latency.count);
}

/* The histogram's _sum and _count samples (after its _bucket ones). */
static void append_histogram_totals(df_buf *out, const char *base, const char *label,
                                    const series *s)
{
    char name[96];
    snprintf(name, sizeof name, "%s_sum", base);
    append_series_start(out, name, label, s->name);
    df_buf_append_str(out, "} ");
    append_double(out, s->latency.sum);
    df_buf_append_char(out, '\n');
    snprintf(name, sizeof name, "%s_count", base);
    append_series_start(out, name, label, s->name);
    df_buf_printf(out, "} %llu\n", (unsigned long long)s->latency.count);
}

static void append_histogram_family(df_buf *out, const char *base, const char *label,
                                    const series *const *sorted, size_t n, const char *help)
{
    char bucket[96];
    snprintf(bucket, sizeof bucket, "%s_bucket", base);
    append_family(out, base, "histogram", help);
    for (size_t i = 0; i < n; i++) {
        append_histogram(out, bucket, label, sorted[i]);
        append_histogram_totals(out, base, label, sorted[i]);
    }
}

static int by_name(const void *a, const void *b)
{
    const series *x = *(const series *const *)a, *y = *(const series *const *)b;
    return strcmp(x->name, y->name);
}

/* The table's series sorted by name, so a scrape reads the same whatever
 * order the threads first saw them in. The caller frees the array. */
static const series **sorted_series(const series_table *t)
{
    const series **v = xrealloc(NULL, (t->n ? t->n : 1) * sizeof *v);
    for (size_t i = 0; i < t->n; i++)
        v[i] = &t->items[i];
    qsort(v, t->n, sizeof *v, by_name);
    return v;
}

static void render_endpoints(df_buf *out, const series_table *t)
{
    const series **v = sorted_series(t);
    append_family(out, "docflow_requests_total", "counter",
                  "Requests answered, by endpoint and HTTP status code.");
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < v[i]->n_codes; k++) {
            append_series_start(out, "docflow_requests_total", "endpoint", v[i]->name);
            df_buf_printf(out, ",code=\"%d\"} %llu\n", v[i]->codes[k].code,
                          (unsigned long long)v[i]->codes[k].n);
        }
    }
    append_family(out, "docflow_request_errors_total", "counter",
                  "Requests answered with a status other than 200 or failed in the flow.");
    for (size_t i = 0; i < t->n; i++) {
        append_series_start(out, "docflow_request_errors_total", "endpoint", v[i]->name);
        df_buf_printf(out, "} %llu\n", (unsigned long long)v[i]->errors);
    }
    append_histogram_family(out, "docflow_request_duration_seconds", "endpoint", v, t->n,
                            "Seconds from receiving a request to answering it (requests refused "
                            "before reaching the flow are not timed).");
    free(v);
}

static void render_executors(df_buf *out, const series_table *t)
{
    const series **v = sorted_series(t);
    append_family(out, "docflow_executor_calls_total", "counter",
                  "Executor calls, from the routes of the responses.");
    for (size_t i = 0; i < t->n; i++) {
        append_series_start(out, "docflow_executor_calls_total", "executor", v[i]->name);
        df_buf_printf(out, "} %llu\n", (unsigned long long)v[i]->calls);
    }
    append_family(out, "docflow_executor_errors_total", "counter", "Executor calls that failed.");
    for (size_t i = 0; i < t->n; i++) {
        append_series_start(out, "docflow_executor_errors_total", "executor", v[i]->name);
        df_buf_printf(out, "} %llu\n", (unsigned long long)v[i]->errors);
    }
    append_histogram_family(out, "docflow_executor_duration_seconds", "executor", v, t->n,
                            "Seconds an executor call took (from its route's start and end).");
    free(v);
}

void df_metrics_render(df_metrics *m, df_buf *out)
{
    /* Rendering under the lock keeps the scrape consistent (every _count
     * equals its +Inf bucket); scrapes are rare and take microseconds. */
    pthread_mutex_lock(&m->lock);
    render_endpoints(out, &m->endpoints);
    render_executors(out, &m->executors);
    append_family(out, "docflow_requests_in_flight", "gauge",
                  "Requests received and not yet answered.");
    df_buf_printf(out, "docflow_requests_in_flight %lld\n", (long long)m->in_flight);
    append_family(out, "docflow_documents_processed_total", "counter",
                  "Documents in the responses of the flow.");
    df_buf_printf(out, "docflow_documents_processed_total %llu\n",
                  (unsigned long long)m->documents);
    pthread_mutex_unlock(&m->lock);
}
