/*
 * test_gateway_metrics.c -- the gateway's Prometheus metrics: every render
 * is parsed back here (HELP / TYPE before samples, label escapes, numbers),
 * then counters, cumulative buckets, +Inf == _count and sums are checked
 * against what was observed; concurrency gives exact counts; escaping and
 * the cap on endpoint labels.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_metrics.h"

#define MAX_LABELS 4

typedef struct sample {
    char name[128];
    size_t n_labels;
    char key[MAX_LABELS][32];
    char value[MAX_LABELS][512]; /* unescaped */
    double v;
} sample;

typedef struct family {
    char name[128];
    char type[16];
    int has_help;
} family;

typedef struct exposition {
    sample *samples;
    size_t n;
    family families[32];
    size_t n_families;
    char error[256]; /* "" when the text parsed */
} exposition;

static void parse_fail(exposition *e, size_t line, const char *what)
{
    if (!e->error[0]) snprintf(e->error, sizeof e->error, "line %zu: %s", line, what);
}

static family *family_of(exposition *e, const char *name)
{
    for (size_t i = 0; i < e->n_families; i++)
        if (strcmp(e->families[i].name, name) == 0) return &e->families[i];
    return NULL;
}

/* The family a sample belongs to: histograms' samples carry a suffix. */
static family *family_of_sample(exposition *e, const char *name)
{
    family *f = family_of(e, name);
    if (f) return f;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(name), k = strlen(suffixes[i]);
        if (n <= k || strcmp(name + n - k, suffixes[i]) != 0) continue;
        char base[128];
        snprintf(base, sizeof base, "%.*s", (int)(n - k), name);
        f = family_of(e, base);
        if (f && strcmp(f->type, "histogram") == 0) return f;
    }
    return NULL;
}

static void parse_comment(exposition *e, size_t line, const char *s)
{
    char kind[8], name[128];
    int used = 0;
    if (sscanf(s, "# %7s %127s %n", kind, name, &used) < 2) return parse_fail(e, line, "comment");
    family *f = family_of(e, name);
    if (!f) {
        if (e->n_families == 32) return parse_fail(e, line, "too many families");
        f = &e->families[e->n_families++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    if (strcmp(kind, "HELP") == 0) {
        if (f->has_help) parse_fail(e, line, "second HELP");
        if (f->type[0]) parse_fail(e, line, "HELP after TYPE");
        if (!s[used]) parse_fail(e, line, "empty HELP");
        f->has_help = 1;
    } else if (strcmp(kind, "TYPE") == 0) {
        if (f->type[0]) parse_fail(e, line, "second TYPE");
        snprintf(f->type, sizeof f->type, "%s", s + used);
        if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") && strcmp(f->type, "histogram"))
            parse_fail(e, line, "unknown TYPE");
    }
}

/* `"value"` with \\, \" and \n escapes; returns the byte after the quote. */
static const char *parse_label_value(const char *s, char *out, size_t cap)
{
    if (*s++ != '"') return NULL;
    size_t n = 0;
    for (; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            c = *s == 'n' ? '\n' : *s == '\\' ? '\\' : *s == '"' ? '"' : 0;
            if (!c) return NULL;
        } else if (c == '\n') {
            return NULL;
        }
        if (n + 1 < cap) out[n++] = c;
    }
    out[n] = '\0';
    return *s == '"' ? s + 1 : NULL;
}

static void parse_sample(exposition *e, size_t line, const char *s)
{
    sample *x = &e->samples[e->n];
    memset(x, 0, sizeof *x);
    size_t k = strcspn(s, "{ ");
    snprintf(x->name, sizeof x->name, "%.*s", (int)k, s);
    s += k;
    if (*s == '{') {
        s++;
        while (*s != '}') {
            if (x->n_labels == MAX_LABELS) return parse_fail(e, line, "too many labels");
            size_t kl = strcspn(s, "=");
            snprintf(x->key[x->n_labels], sizeof x->key[0], "%.*s", (int)kl, s);
            s = parse_label_value(s + kl + 1, x->value[x->n_labels], sizeof x->value[0]);
            if (!s) return parse_fail(e, line, "bad label value");
            x->n_labels++;
            if (*s == ',')
                s++;
            else if (*s != '}')
                return parse_fail(e, line, "bad label list");
        }
        s++;
    }
    if (*s++ != ' ') return parse_fail(e, line, "no space before the value");
    char *end;
    x->v = strcmp(s, "+Inf") == 0 ? INFINITY : strtod(s, &end);
    if (strcmp(s, "+Inf") != 0 && (end == s || *end)) return parse_fail(e, line, "bad value");
    family *f = family_of_sample(e, x->name);
    if (!f || !f->has_help || !f->type[0]) return parse_fail(e, line, "sample before HELP/TYPE");
    e->n++;
}

/* Parses the whole text; e->error says what was wrong, if anything. */
static void parse_exposition(exposition *e, const char *text)
{
    memset(e, 0, sizeof *e);
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    e->samples = calloc(lines, sizeof *e->samples);
    size_t line = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl) return parse_fail(e, line + 1, "last line without a newline");
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)(nl - p), p);
        line++;
        if (buf[0] == '#')
            parse_comment(e, line, buf);
        else if (buf[0])
            parse_sample(e, line, buf);
        else
            parse_fail(e, line, "empty line");
        p = nl + 1;
    }
}

static void exposition_free(exposition *e)
{
    free(e->samples);
}

static const char *label_of(const sample *x, const char *key)
{
    for (size_t i = 0; i < x->n_labels; i++)
        if (strcmp(x->key[i], key) == 0) return x->value[i];
    return NULL;
}

/* The sample `name` whose labels are exactly the given key/value pairs
 * (n_pairs of them, NULL-free); NULL when absent. */
static const sample *find(const exposition *e, const char *name, size_t n_pairs, ...)
{
    const char *pairs[2 * MAX_LABELS];
    va_list ap;
    va_start(ap, n_pairs);
    for (size_t i = 0; i < 2 * n_pairs; i++)
        pairs[i] = va_arg(ap, const char *);
    va_end(ap);
    for (size_t i = 0; i < e->n; i++) {
        const sample *x = &e->samples[i];
        if (strcmp(x->name, name) != 0 || x->n_labels != n_pairs) continue;
        size_t k = 0;
        while (k < n_pairs && label_of(x, pairs[2 * k]) &&
               strcmp(label_of(x, pairs[2 * k]), pairs[2 * k + 1]) == 0)
            k++;
        if (k == n_pairs) return x;
    }
    return NULL;
}

static double value_of(const sample *x)
{
    CU_ASSERT_PTR_NOT_NULL(x);
    return x ? x->v : NAN;
}

static df_metrics *metrics;
static df_buf text;
static exposition parsed;

/* Renders and parses; the text must always be valid. */
static void render(void)
{
    df_buf_reset(&text);
    df_metrics_render(metrics, &text);
    exposition_free(&parsed);
    parse_exposition(&parsed, text.data ? text.data : "");
    if (parsed.error[0]) fprintf(stderr, "\n  %s\n%s", parsed.error, text.data);
    CU_ASSERT_STRING_EQUAL(parsed.error, "");
}

/* Each test starts from fresh metrics. */
static void setup(void)
{
    metrics = df_metrics_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
}

static void teardown(void)
{
    df_metrics_free(metrics);
    metrics = NULL;
}

static int suite_cleanup(void)
{
    exposition_free(&parsed);
    memset(&parsed, 0, sizeof parsed);
    df_buf_free(&text);
    return 0;
}

/* Each histogram (base name, one label): buckets cumulative and non
 * decreasing, ending with +Inf equal to _count. Returns how many it checked. */
static size_t check_histograms(const char *base, const char *label)
{
    char bucket[128], count[128];
    snprintf(bucket, sizeof bucket, "%s_bucket", base);
    snprintf(count, sizeof count, "%s_count", base);
    size_t checked = 0;
    for (size_t i = 0; i < parsed.n; i++) {
        const sample *c = &parsed.samples[i];
        if (strcmp(c->name, count) != 0) continue;
        const char *who = label_of(c, label);
        double last = 0, last_le = -1;
        size_t n_buckets = 0;
        for (size_t k = 0; k < parsed.n; k++) {
            const sample *b = &parsed.samples[k];
            if (strcmp(b->name, bucket) != 0 || strcmp(label_of(b, label), who) != 0) continue;
            double le =
                strcmp(label_of(b, "le"), "+Inf") == 0 ? INFINITY : strtod(label_of(b, "le"), NULL);
            CU_ASSERT(le > last_le);
            CU_ASSERT(b->v >= last);
            last = b->v;
            last_le = le;
            n_buckets++;
        }
        CU_ASSERT(isinf(last_le));
        CU_ASSERT_EQUAL(last, c->v);
        CU_ASSERT(n_buckets >= 10);
        checked++;
    }
    return checked;
}

static double bucket_at(const char *base, const char *label, const char *who, const char *le)
{
    char bucket[128];
    snprintf(bucket, sizeof bucket, "%s_bucket", base);
    return value_of(find(&parsed, bucket, 2, label, who, "le", le));
}

static void test_metrics_empty_render_has_every_family(void)
{
    render();
    static const char *const families[][2] = {
        {"docflow_requests_total", "counter"},
        {"docflow_request_errors_total", "counter"},
        {"docflow_request_duration_seconds", "histogram"},
        {"docflow_executor_calls_total", "counter"},
        {"docflow_executor_errors_total", "counter"},
        {"docflow_executor_duration_seconds", "histogram"},
        {"docflow_requests_in_flight", "gauge"},
        {"docflow_documents_processed_total", "counter"},
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        family *f = family_of(&parsed, families[i][0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT(f->has_help);
        CU_ASSERT_STRING_EQUAL(f->type, families[i][1]);
    }
    CU_ASSERT_EQUAL(parsed.n, 2);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_requests_in_flight", 0)), 0);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_documents_processed_total", 0)), 0);
}

static df_flow_response response(df_flow_route *routes, size_t n_routes, int status)
{
    df_flow_response r;
    memset(&r, 0, sizeof r);
    r.routes = routes;
    r.n_routes = n_routes;
    r.status = status;
    return r;
}

static void test_metrics_count_requests_errors_and_documents_per_endpoint(void)
{
    const uint64_t t0 = 1700000000000000000ULL;
    df_flow_route ok_routes[] = {
        {"encoder", t0, t0 + 2000000, DF_OK},          /* 2 ms */
        {"indexer/shard-0", t0, t0 + 30000000, DF_OK}, /* 30 ms */
    };
    df_flow_route failed_routes[] = {
        {"encoder", t0, t0 + 1000000, DF_OK},
        {"indexer/shard-0", t0, t0 + 4000000, DF_E_INVALID_INPUT},
    };
    df_flow_response ok = response(ok_routes, 2, DF_OK);
    df_flow_response failed = response(failed_routes, 2, DF_E_INVALID_INPUT);
    for (int i = 0; i < 3; i++)
        df_metrics_observe(metrics, "/index", 200, 0.004, 2, &ok);
    df_metrics_observe(metrics, "/search", 200, 0.02, 5, &ok);
    df_metrics_observe(metrics, "/search", 200, 0.03, 1, &failed); /* failed in the flow */
    df_metrics_observe(metrics, "/search", 504, 5.0, 0, NULL);     /* timed out */
    df_metrics_observe_refused(metrics, "/post", 400);
    df_metrics_observe_refused(metrics, "/post", 503);
    render();

    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/index", "code", "200")),
        3);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/search", "code", "200")),
        2);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/search", "code", "504")),
        1);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/post", "code", "400")),
        1);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/post", "code", "503")),
        1);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_errors_total", 1, "endpoint", "/index")), 0);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_errors_total", 1, "endpoint", "/search")), 2);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_request_errors_total", 1, "endpoint", "/post")),
                    2);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_documents_processed_total", 0)), 12);

    /* Latency: refused requests are counted but not timed. */
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_count", 1, "endpoint", "/index")),
        3);
    CU_ASSERT_DOUBLE_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_sum", 1, "endpoint", "/index")),
        0.012, 1e-12);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_count", 1, "endpoint", "/search")),
        3);
    CU_ASSERT_DOUBLE_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_sum", 1, "endpoint", "/search")),
        5.05, 1e-12);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_count", 1, "endpoint", "/post")),
        0);
    CU_ASSERT_EQUAL(check_histograms("docflow_request_duration_seconds", "endpoint"), 3);

    /* Executors, from the routes. */
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_executor_calls_total", 1, "executor", "encoder")), 5);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_executor_calls_total", 1, "executor", "indexer/shard-0")),
        5);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_executor_errors_total", 1, "executor", "encoder")), 0);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_executor_errors_total", 1, "executor", "indexer/shard-0")),
        1);
    CU_ASSERT_DOUBLE_EQUAL(
        value_of(find(&parsed, "docflow_executor_duration_seconds_sum", 1, "executor", "encoder")),
        4 * 0.002 + 0.001, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(value_of(find(&parsed, "docflow_executor_duration_seconds_sum", 1,
                                         "executor", "indexer/shard-0")),
                           4 * 0.030 + 0.004, 1e-12);
    CU_ASSERT_EQUAL(
        bucket_at("docflow_executor_duration_seconds", "executor", "indexer/shard-0", "0.005"), 1);
    CU_ASSERT_EQUAL(
        bucket_at("docflow_executor_duration_seconds", "executor", "indexer/shard-0", "0.05"), 5);
    CU_ASSERT_EQUAL(check_histograms("docflow_executor_duration_seconds", "executor"), 2);
}

static void test_metrics_histogram_buckets_are_cumulative(void)
{
    static const double seconds[] = {0.0001, 0.0005, 0.0007, 0.003, 0.2, 0.2, 9.99, 20, NAN, -1};
    double sum = 0;
    for (size_t i = 0; i < sizeof seconds / sizeof seconds[0]; i++) {
        df_metrics_observe(metrics, "/index", 200, seconds[i], 0, NULL);
        if (seconds[i] > 0) sum += seconds[i]; /* NaN and negative count as 0 */
    }
    render();
    const char *h = "docflow_request_duration_seconds";
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.0005"), 4); /* incl. NaN, -1 */
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.001"), 5);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.0025"), 5);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.005"), 6);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.1"), 6);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "0.25"), 8);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "10"), 9);
    CU_ASSERT_EQUAL(bucket_at(h, "endpoint", "/index", "+Inf"), 10);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_count", 1, "endpoint", "/index")),
        10);
    CU_ASSERT_DOUBLE_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_sum", 1, "endpoint", "/index")),
        sum, 1e-9);
    CU_ASSERT_EQUAL(check_histograms(h, "endpoint"), 1);
}

static void test_metrics_in_flight_gauge_goes_up_and_down(void)
{
    df_metrics_in_flight(metrics, 1);
    df_metrics_in_flight(metrics, 1);
    df_metrics_in_flight(metrics, 1);
    df_metrics_in_flight(metrics, -1);
    render();
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_requests_in_flight", 0)), 2);
    df_metrics_in_flight(metrics, -2);
    render();
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_requests_in_flight", 0)), 0);
}

static void test_metrics_label_values_are_escaped(void)
{
    const char *nasty = "/a\"b\\c\nd";
    df_flow_route routes[] = {{"exec\"\\\n", 0, 1000, DF_OK}};
    df_flow_response r = response(routes, 1, DF_OK);
    df_metrics_observe(metrics, nasty, 200, 0.001, 1, &r);
    df_metrics_observe(metrics, "/caf\xC3\xA9", 200, 0.001, 1, NULL);       /* valid UTF-8 */
    df_metrics_observe(metrics, "/bad\xFF\xC3(", 200, 0.001, 1, NULL);      /* invalid */
    df_metrics_observe(metrics, "/surrogate\xED\xA0\x80", 404, 0, 0, NULL); /* invalid */
    render();
    CU_ASSERT_PTR_NOT_NULL(strstr(text.data, "endpoint=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(
        find(&parsed, "docflow_requests_total", 2, "endpoint", nasty, "code", "200"));
    CU_ASSERT_PTR_NOT_NULL(
        find(&parsed, "docflow_executor_calls_total", 1, "executor", "exec\"\\\n"));
    CU_ASSERT_PTR_NOT_NULL(
        find(&parsed, "docflow_requests_total", 2, "endpoint", "/caf\xC3\xA9", "code", "200"));
    /* Invalid bytes become U+FFFD, so Prometheus does not reject the scrape. */
    CU_ASSERT_PTR_NOT_NULL(find(&parsed, "docflow_requests_total", 2, "endpoint",
                                "/bad\xEF\xBF\xBD\xEF\xBF\xBD(", "code", "200"));
    CU_ASSERT_PTR_NOT_NULL(find(&parsed, "docflow_requests_total", 2, "endpoint",
                                "/surrogate\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", "code", "404"));
}

static void test_metrics_endpoint_labels_are_capped_into_other(void)
{
    char name[64];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "/unknown-%d", i);
        df_metrics_observe_refused(metrics, name, 404);
    }
    /* Seen before the cap: still its own series. */
    df_metrics_observe_refused(metrics, "/unknown-0", 404);
    char long_name[400];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[0] = '/';
    long_name[sizeof long_name - 1] = '\0';
    df_metrics_observe_refused(metrics, long_name, 404);
    render();
    size_t series = 0;
    double total = 0;
    for (size_t i = 0; i < parsed.n; i++) {
        if (strcmp(parsed.samples[i].name, "docflow_requests_total") != 0) continue;
        series++;
        total += parsed.samples[i].v;
    }
    CU_ASSERT_EQUAL(series, 257); /* 256 endpoints, then "other" */
    CU_ASSERT_EQUAL(total, 302);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/unknown-0",
                                  "code", "404")),
                    2);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "other", "code", "404")),
        300 - 256 + 1);
    CU_ASSERT_PTR_NULL(
        find(&parsed, "docflow_requests_total", 2, "endpoint", "/unknown-299", "code", "404"));
    CU_ASSERT_PTR_NULL(strstr(text.data, "xxxxxxxxxxxxxxxx"));
}

#define N_THREADS      4
#define N_OBSERVATIONS 10000

static void *observe_many(void *arg)
{
    const char *endpoint = arg;
    df_flow_route routes[] = {{"encoder", 0, 1000000, DF_OK}, {"indexer", 0, 2000000, DF_OK}};
    df_flow_response ok = response(routes, 2, DF_OK);
    for (int i = 0; i < N_OBSERVATIONS; i++) {
        df_metrics_in_flight(metrics, 1);
        if (i % 10 == 9)
            df_metrics_observe_refused(metrics, endpoint, 503);
        else
            df_metrics_observe(metrics, endpoint, 200, 0.001, 3, &ok);
        df_metrics_in_flight(metrics, -1);
    }
    return NULL;
}

static void *render_many(void *arg)
{
    atomic_int *stop = arg;
    df_buf b = DF_BUF_INIT;
    while (!atomic_load(stop)) {
        df_buf_reset(&b);
        df_metrics_render(metrics, &b);
    }
    df_buf_free(&b);
    return NULL;
}

static void test_metrics_concurrent_observations_are_exact(void)
{
    static const char *const endpoints[N_THREADS] = {"/index", "/search", "/index", "/custom"};
    pthread_t threads[N_THREADS], renderer;
    atomic_int stop = 0;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&renderer, NULL, render_many, (void *)&stop), 0);
    for (int i = 0; i < N_THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, observe_many, (void *)endpoints[i]),
                              0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(threads[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(renderer, NULL);
    render();

    const double ok_per_thread = N_OBSERVATIONS * 9 / 10, refused_per_thread = N_OBSERVATIONS / 10;
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/index", "code", "200")),
        2 * ok_per_thread);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/index", "code", "503")),
        2 * refused_per_thread);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_requests_total", 2, "endpoint", "/custom", "code", "200")),
        ok_per_thread);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_errors_total", 1, "endpoint", "/search")),
        refused_per_thread);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_request_duration_seconds_count", 1, "endpoint", "/index")),
        2 * ok_per_thread);
    CU_ASSERT_EQUAL(bucket_at("docflow_request_duration_seconds", "endpoint", "/index", "0.001"),
                    2 * ok_per_thread);
    CU_ASSERT_EQUAL(
        value_of(find(&parsed, "docflow_executor_calls_total", 1, "executor", "encoder")),
        N_THREADS * ok_per_thread);
    CU_ASSERT_DOUBLE_EQUAL(
        value_of(find(&parsed, "docflow_executor_duration_seconds_sum", 1, "executor", "indexer")),
        N_THREADS * ok_per_thread * 0.002, 1e-6);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_documents_processed_total", 0)),
                    N_THREADS * ok_per_thread * 3);
    CU_ASSERT_EQUAL(value_of(find(&parsed, "docflow_requests_in_flight", 0)), 0);
    CU_ASSERT_EQUAL(check_histograms("docflow_request_duration_seconds", "endpoint"), 3);
}

static void test_metrics_render_is_sorted_and_stable(void)
{
    df_metrics_observe(metrics, "/search", 200, 0.001, 0, NULL);
    df_metrics_observe(metrics, "/index", 500, 0.001, 0, NULL);
    df_metrics_observe(metrics, "/index", 200, 0.001, 0, NULL);
    render();
    const char *index200 =
        strstr(text.data, "docflow_requests_total{endpoint=\"/index\",code=\"200\"}");
    const char *index500 =
        strstr(text.data, "docflow_requests_total{endpoint=\"/index\",code=\"500\"}");
    const char *search = strstr(text.data, "docflow_requests_total{endpoint=\"/search\"");
    CU_ASSERT(index200 && index500 && search && index200 < index500 && index500 < search);
    char *first = strdup(text.data);
    render();
    CU_ASSERT_STRING_EQUAL(first, text.data);
    free(first);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown("gateway_metrics", NULL, suite_cleanup,
                                                       setup, teardown);
    CU_add_test(s, "empty render has every family", test_metrics_empty_render_has_every_family);
    CU_add_test(s, "requests, errors and documents per endpoint",
                test_metrics_count_requests_errors_and_documents_per_endpoint);
    CU_add_test(s, "histogram buckets are cumulative",
                test_metrics_histogram_buckets_are_cumulative);
    CU_add_test(s, "in-flight gauge", test_metrics_in_flight_gauge_goes_up_and_down);
    CU_add_test(s, "label values are escaped", test_metrics_label_values_are_escaped);
    CU_add_test(s, "endpoint labels capped into other",
                test_metrics_endpoint_labels_are_capped_into_other);
    CU_add_test(s, "concurrent observations are exact",
                test_metrics_concurrent_observations_are_exact);
    CU_add_test(s, "render is sorted and stable", test_metrics_render_is_sorted_and_stable);
}
