/*
 * main.c -- docflow-bench: micro-benchmarks of the document codecs and of
 * executor dispatch, with the command line and the report (a table, or
 * JSON with --json).
 *
 * Speed is measured, not asserted: the exit status is 0 whatever the
 * figures, and nonzero only when something failed (bad usage, a decode
 * error, a round trip that changed the documents, an executor that would
 * not load).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <docflow/buf.h>
#include <docflow/error.h>
#include <docflow/json_codec.h>

#include "bench.h"

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif

static const char usage[] =
    "usage: docflow-bench [--docs N] [--dim D] [--repeat R] [--calls C] [--json]\n"
    "       docflow-bench --flow [--request-docs N] [--in-flight W] [--sample-ms MS]\n"
    "                     [--idle-ms MS] [--dim D] [--repeat R] [--calls C] [--json]\n"
    "       docflow-bench --indexer [...]  (the VectorIndexer; see --indexer --help)\n"
    "\n"
    "Measures, on N documents each holding a 50-character text and a D-float\n"
    "embedding:\n"
    "  - protobuf encode / decode with docflow's codec, and plain protobuf-c\n"
    "    pack / unpack of the same messages as the reference (ratio >= 0.80);\n"
    "  - JSON encode / decode (target >= 150 MB/s each way);\n"
    "  - df_executor_call of a no-op handler in a loaded executor, C calls\n"
    "    per sample (target < 100 ns per call).\n"
    "Each figure is the median (and best) of R timed samples after a warm-up;\n"
    "MB = 1e6 bytes of the serialized form. Every codec is first checked to\n"
    "round-trip the documents exactly.\n"
    "\n"
    "With --flow, measures the flow runtime instead: a flow of 3 sequential\n"
    "no-op executors (and one of 1, for reference) opened from YAML and driven\n"
    "in-process with df_flow_post; requests/s with 1 and N documents per\n"
    "request and 1 and W requests in flight (target >= 100000 for 1 document,\n"
    "W = 16), the latency per executor hop (target p50 < 20 us) and the CPU\n"
    "of the open flow while idle (target < 1%). The dispatch figure is run\n"
    "too, as the reference.\n"
    "\n"
    "options:\n"
    "  --docs N          documents per batch (default 10000)\n"
    "  --dim D           floats per embedding (default 128)\n"
    "  --repeat R        timed samples per figure (default 5)\n"
    "  --calls C         dispatch calls per sample (default 1000000)\n"
    "  --flow            run the flow benchmark (not the codecs)\n"
    "  --request-docs N  documents per large flow request (default 100)\n"
    "  --in-flight W     requests in flight of the concurrent flow runs (default 16)\n"
    "  --sample-ms MS    length of one flow sample (default 300)\n"
    "  --idle-ms MS      how long the idle flow is watched (default 2000)\n"
    "  --json            print the figures as one JSON object\n"
    "  --help            print this help\n"
    "\n"
    "Exit status: 0 when every benchmark ran (targets missed or not), 1 when a\n"
    "benchmark failed, 2 on bad usage.\n";

/* ========================================================================
 * Command line
 * ======================================================================== */

static int parse_size(const char *opt, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "docflow-bench: %s expects a whole number in %zu..%zu, got '%s'\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* 0 to run, 1 after --help, -1 on bad usage (already reported). */
static int parse_args(int argc, char **argv, bench_config *cfg, int *json, int *flow)
{
    static const struct option options[] = {
        {"docs", required_argument, NULL, 'n'},
        {"dim", required_argument, NULL, 'd'},
        {"repeat", required_argument, NULL, 'r'},
        {"calls", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"flow", no_argument, NULL, 'F'},
        {"request-docs", required_argument, NULL, 'D'},
        {"in-flight", required_argument, NULL, 'W'},
        {"sample-ms", required_argument, NULL, 'S'},
        {"idle-ms", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t repeat = (size_t)cfg->repeat, window = (size_t)cfg->flow_window;
    size_t sample_ms = cfg->flow_sample_ms, idle_ms = cfg->flow_idle_ms;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'n':
            rc = parse_size("--docs", optarg, 1, 10000000, &cfg->docs);
            break;
        case 'd':
            rc = parse_size("--dim", optarg, 1, 1 << 20, &cfg->dim);
            break;
        case 'r':
            rc = parse_size("--repeat", optarg, 1, 1000, &repeat);
            break;
        case 'c':
            rc = parse_size("--calls", optarg, 1, 1000000000, &cfg->calls);
            break;
        case 'j':
            *json = 1;
            break;
        case 'F':
            *flow = 1;
            break;
        case 'D':
            rc = parse_size("--request-docs", optarg, 1, 1000000, &cfg->flow_docs);
            break;
        case 'W':
            rc = parse_size("--in-flight", optarg, 1, BENCH_MAX_IN_FLIGHT, &window);
            break;
        case 'S':
            rc = parse_size("--sample-ms", optarg, 1, 60000, &sample_ms);
            break;
        case 'I':
            rc = parse_size("--idle-ms", optarg, 1, 600000, &idle_ms);
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            fputs("try 'docflow-bench --help'\n", stderr);
            return -1;
        }
        if (rc) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "docflow-bench: unexpected argument '%s'; try --help\n", argv[optind]);
        return -1;
    }
    cfg->repeat = (int)repeat;
    cfg->flow_window = (int)window;
    cfg->flow_sample_ms = (unsigned)sample_ms;
    cfg->flow_idle_ms = (unsigned)idle_ms;
    return 0;
}

/* ========================================================================
 * The machine (for the record; figures only compare on one machine)
 * ======================================================================== */

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, cap, "%s", colon);
        break;
    }
    fclose(f);
}

/* ========================================================================
 * Targets
 * ======================================================================== */

typedef struct target {
    const char *key;
    const char *label;
    double value;
    double limit;
    int below_is_good; /* 1: value < limit passes; 0: value >= limit passes */
} target;

enum { TARGET_COUNT = 5 };

static double ratio(const bench_figure *ours, const bench_figure *ref)
{
    double r = bench_docs_per_s(ref, 0);
    return r > 0 ? bench_docs_per_s(ours, 0) / r : 0;
}

static double ns_per_call(const bench_figure *f, int best)
{
    double s = best ? f->timing.min : f->timing.median;
    return s * 1e9 / (double)f->docs;
}

static void make_targets(const bench_figure *c, const bench_figure *dispatch,
                         target t[TARGET_COUNT])
{
    t[0] = (target){"pb_encode_ratio", "protobuf encode, docflow / protobuf-c",
                    ratio(&c[BENCH_PB_ENCODE], &c[BENCH_PB_ENCODE_REF]), 0.80, 0};
    t[1] = (target){"pb_decode_ratio", "protobuf decode, docflow / protobuf-c",
                    ratio(&c[BENCH_PB_DECODE], &c[BENCH_PB_DECODE_REF]), 0.80, 0};
    t[2] = (target){"json_encode_mb_per_s", "JSON encode, MB/s",
                    bench_mb_per_s(&c[BENCH_JSON_ENCODE], 0), 150, 0};
    t[3] = (target){"json_decode_mb_per_s", "JSON decode, MB/s",
                    bench_mb_per_s(&c[BENCH_JSON_DECODE], 0), 150, 0};
    t[4] =
        (target){"dispatch_ns_per_call", "dispatch, ns per call", ns_per_call(dispatch, 0), 100, 1};
}

static int target_met(const target *t)
{
    return t->below_is_good ? t->value < t->limit : t->value >= t->limit;
}

/* ========================================================================
 * Report: table
 * ======================================================================== */

typedef struct report {
    const bench_config *cfg;
    const bench_figure *codecs; /* BENCH_CODEC_COUNT figures */
    const bench_figure *dispatch;
    int pb_identical;
    char cpu[256];
    long cpus;
} report;

static void print_table(const report *r)
{
    const bench_config *cfg = r->cfg;
    const bench_figure *c = r->codecs;
    printf("docflow-bench: %zu documents (%zu-char text, %zu-float embedding), "
           "median and best of %d samples\n",
           cfg->docs, cfg->text_len, cfg->dim, cfg->repeat);
    printf("machine: %s, %ld CPUs; build: %s\n", r->cpu, r->cpus, BENCH_BUILD_TYPE);
    printf("serialized: protobuf %zu bytes (%s protobuf-c's), JSON %zu bytes\n\n",
           c[BENCH_PB_ENCODE].bytes, r->pb_identical ? "identical to" : "DIFFERENT from",
           c[BENCH_JSON_ENCODE].bytes);
    printf("%-30s %12s %12s %14s %12s\n", "benchmark", "MB/s", "best MB/s", "docs/s", "ms/batch");
    for (int i = 0; i < BENCH_CODEC_COUNT; i++)
        printf("%-30s %12.1f %12.1f %14.0f %12.3f\n", c[i].label, bench_mb_per_s(&c[i], 0),
               bench_mb_per_s(&c[i], 1), bench_docs_per_s(&c[i], 0), c[i].timing.median * 1e3);
    printf("\n%-30s %12s %12s %14s\n", "dispatch (1-doc request)", "ns/call", "best ns/call",
           "calls/sample");
    printf("%-30s %12.1f %12.1f %14zu\n\n", r->dispatch->label, ns_per_call(r->dispatch, 0),
           ns_per_call(r->dispatch, 1), r->dispatch->docs);

    target t[TARGET_COUNT];
    make_targets(c, r->dispatch, t);
    printf("%-40s %10s %10s  %s\n", "target (medians)", "measured", "target", "result");
    for (int i = 0; i < TARGET_COUNT; i++) {
        char limit[32];
        snprintf(limit, sizeof limit, "%s %g", t[i].below_is_good ? "<" : ">=", t[i].limit);
        printf("%-40s %10.2f %10s  %s\n", t[i].label, t[i].value, limit,
               target_met(&t[i]) ? "PASS" : "BELOW");
    }
    printf("\nround trips verified: protobuf, protobuf-c bytes, JSON (df_docs_equal)\n");
}

/* ========================================================================
 * Report: JSON
 * ======================================================================== */

static void json_figure(df_buf *b, const bench_figure *f)
{
    df_buf_printf(b,
                  "\"%s\":{\"median_s\":%.9g,\"min_s\":%.9g,\"iterations_per_sample\":%zu,"
                  "\"docs\":%zu,\"bytes\":%zu,\"mb_per_s\":%.6g,\"mb_per_s_best\":%.6g,"
                  "\"docs_per_s\":%.6g,\"docs_per_s_best\":%.6g}",
                  f->key, f->timing.median, f->timing.min, f->timing.iterations, f->docs, f->bytes,
                  bench_mb_per_s(f, 0), bench_mb_per_s(f, 1), bench_docs_per_s(f, 0),
                  bench_docs_per_s(f, 1));
}

static void print_json(const report *r)
{
    const bench_config *cfg = r->cfg;
    df_buf b = DF_BUF_INIT;
    df_buf_printf(&b,
                  "{\"docs\":%zu,\"dim\":%zu,\"text_len\":%zu,\"repeat\":%d,\"calls\":%zu,"
                  "\"cpus\":%ld,\"build_type\":\"%s\",\"cpu\":",
                  cfg->docs, cfg->dim, cfg->text_len, cfg->repeat, cfg->calls, r->cpus,
                  BENCH_BUILD_TYPE);
    df_json_encode_string(&b, r->cpu, strlen(r->cpu));
    df_buf_printf(&b, ",\"pb_identical_to_reference\":%s,\"results\":{",
                  r->pb_identical ? "true" : "false");
    for (int i = 0; i < BENCH_CODEC_COUNT; i++) {
        json_figure(&b, &r->codecs[i]);
        df_buf_append_char(&b, ',');
    }
    df_buf_printf(&b,
                  "\"dispatch\":{\"ns_per_call\":%.6g,\"ns_per_call_best\":%.6g,"
                  "\"calls_per_sample\":%zu}},\"targets\":[",
                  ns_per_call(r->dispatch, 0), ns_per_call(r->dispatch, 1), r->dispatch->docs);
    target t[TARGET_COUNT];
    make_targets(r->codecs, r->dispatch, t);
    for (int i = 0; i < TARGET_COUNT; i++)
        df_buf_printf(&b,
                      "%s{\"name\":\"%s\",\"value\":%.6g,\"limit\":%g,\"op\":\"%s\",\"pass\":%s}",
                      i ? "," : "", t[i].key, t[i].value, t[i].limit,
                      t[i].below_is_good ? "<" : ">=", target_met(&t[i]) ? "true" : "false");
    df_buf_append_str(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    df_buf_free(&b);
}

/* ========================================================================
 * Report: flows (--flow)
 * ======================================================================== */

enum { FLOW_TARGET_COUNT = 3 };

/* figures[1]: 3 executors, 1 document, W in flight; figures[0]: 1 in flight. */
static void make_flow_targets(const bench_flow_report *f, target t[FLOW_TARGET_COUNT])
{
    t[0] = (target){"flow_rps_1doc_in_flight", "flow req/s, 1 doc, W in flight",
                    f->figures[1].rps_median, 100000, 0};
    t[1] = (target){"flow_hop_p50_us", "flow hop p50 (routes, 1 in flight), us",
                    f->figures[0].hop.p50, 20, 1};
    t[2] = (target){"flow_idle_cpu_percent", "idle open flow, % of one core", f->idle.cpu_percent,
                    1, 1};
}

static void print_flow_table(const bench_config *cfg, const bench_flow_report *f,
                             const bench_figure *dispatch, const char *cpu, long cpus)
{
    printf("docflow-bench --flow: chains of BenchNoop executors driven in-process "
           "(df_flow_post),\nmedian and best of %d samples of %u ms; documents: %zu-char text + "
           "%zu-float embedding,\ndeep-copied into each request's arena by the client thread\n",
           cfg->repeat, cfg->flow_sample_ms, cfg->text_len, cfg->dim);
    printf("machine: %s, %ld CPUs; build: %s\n\n", cpu, cpus, BENCH_BUILD_TYPE);
    printf("%-5s %5s %6s %11s %11s %11s %9s %9s %9s %9s\n", "execs", "docs", "flight", "req/s",
           "best req/s", "docs/s", "e2e p50", "e2e p99", "hop p50", "hop p99");
    for (int i = 0; i < f->n_figures; i++) {
        const bench_flow_figure *g = &f->figures[i];
        printf("%-5d %5zu %6d %11.0f %11.0f %11.0f %9.1f %9.1f", g->executors, g->docs,
               g->in_flight, g->rps_median, g->rps_best, g->rps_median * (double)g->docs,
               g->e2e.p50, g->e2e.p99);
        if (g->executors > 1)
            printf(" %9.1f %9.1f\n", g->hop.p50, g->hop.p99);
        else
            printf(" %9s %9s\n", "-", "-");
    }
    printf("(latencies in us; hop = routes' end of executor i -> start of executor i+1)\n\n");

    printf("%-52s %9s %9s\n", "latency breakdown, us (1 doc, 1 in flight)", "p50", "p99");
    const bench_flow_figure *g = &f->figures[0];
    printf("%-52s %9.1f %9.1f\n", "post -> first executor starts", g->in.p50, g->in.p99);
    printf("%-52s %9.1f %9.1f\n", "executor call (route start -> end)", g->exec.p50, g->exec.p99);
    printf("%-52s %9.1f %9.1f\n", "hop: executor i ends -> executor i+1 starts", g->hop.p50,
           g->hop.p99);
    printf("%-52s %9.1f %9.1f\n", "last executor ends -> done callback", g->out.p50, g->out.p99);
    printf("%-52s %9.1f %9.1f\n", "hop: (e2e 3 executors - e2e 1 executor) / 2", f->hop_diff.p50,
           f->hop_diff.p99);
    printf("\nreference: %s %.1f ns/call (same run); client: building a request "
           "%.2f us (1 doc), %.2f us (%zu docs)\n",
           dispatch->label, ns_per_call(dispatch, 0), f->build_us[0], f->build_us[1],
           cfg->flow_docs);
    printf("idle: both flows open, nothing in flight, %.2f s: CPU %.3f%% of one core "
           "(user %.1f ms, sys %.1f ms), context switches: %ld\n\n",
           f->idle.wall_s, f->idle.cpu_percent, f->idle.user_s * 1e3, f->idle.sys_s * 1e3,
           f->idle.wakeups);

    target t[FLOW_TARGET_COUNT];
    make_flow_targets(f, t);
    printf("%-40s %10s %10s  %s\n", "target (medians)", "measured", "target", "result");
    for (int i = 0; i < FLOW_TARGET_COUNT; i++) {
        char limit[32];
        snprintf(limit, sizeof limit, "%s %g", t[i].below_is_good ? "<" : ">=", t[i].limit);
        printf("%-40s %10.2f %10s  %s\n", t[i].label, t[i].value, limit,
               target_met(&t[i]) ? "PASS" : "MISSED");
    }
}

static void json_percentiles(df_buf *b, const char *key, const bench_percentiles *p)
{
    df_buf_printf(b, "\"%s\":{\"p50_us\":%.6g,\"p99_us\":%.6g,\"count\":%zu}", key, p->p50, p->p99,
                  p->count);
}

static void print_flow_json(const bench_config *cfg, const bench_flow_report *f,
                            const bench_figure *dispatch, const char *cpu, long cpus)
{
    df_buf b = DF_BUF_INIT;
    df_buf_printf(&b,
                  "{\"mode\":\"flow\",\"dim\":%zu,\"text_len\":%zu,\"repeat\":%d,"
                  "\"sample_ms\":%u,\"request_docs\":%zu,\"in_flight\":%d,\"cpus\":%ld,"
                  "\"build_type\":\"%s\",\"cpu\":",
                  cfg->dim, cfg->text_len, cfg->repeat, cfg->flow_sample_ms, cfg->flow_docs,
                  cfg->flow_window, cpus, BENCH_BUILD_TYPE);
    df_json_encode_string(&b, cpu, strlen(cpu));
    df_buf_append_str(&b, ",\"flows\":[");
    for (int i = 0; i < f->n_figures; i++) {
        const bench_flow_figure *g = &f->figures[i];
        df_buf_printf(&b,
                      "%s{\"executors\":%d,\"docs\":%zu,\"in_flight\":%d,\"rps\":%.6g,"
                      "\"rps_best\":%.6g,\"requests\":%zu,",
                      i ? "," : "", g->executors, g->docs, g->in_flight, g->rps_median, g->rps_best,
                      g->requests);
        json_percentiles(&b, "e2e", &g->e2e);
        df_buf_append_char(&b, ',');
        json_percentiles(&b, "hop", &g->hop);
        df_buf_append_char(&b, ',');
        json_percentiles(&b, "post_to_first", &g->in);
        df_buf_append_char(&b, ',');
        json_percentiles(&b, "last_to_done", &g->out);
        df_buf_append_char(&b, ',');
        json_percentiles(&b, "executor_call", &g->exec);
        df_buf_append_char(&b, '}');
    }
    df_buf_append_str(&b, "],");
    json_percentiles(&b, "hop_diff", &f->hop_diff);
    df_buf_printf(&b,
                  ",\"build_request_us\":{\"1\":%.6g,\"%zu\":%.6g},"
                  "\"idle\":{\"wall_s\":%.6g,\"user_s\":%.6g,\"sys_s\":%.6g,"
                  "\"cpu_percent\":%.6g,\"context_switches\":%ld},"
                  "\"dispatch\":{\"ns_per_call\":%.6g},\"targets\":[",
                  f->build_us[0], cfg->flow_docs, f->build_us[1], f->idle.wall_s, f->idle.user_s,
                  f->idle.sys_s, f->idle.cpu_percent, f->idle.wakeups, ns_per_call(dispatch, 0));
    target t[FLOW_TARGET_COUNT];
    make_flow_targets(f, t);
    for (int i = 0; i < FLOW_TARGET_COUNT; i++)
        df_buf_printf(&b,
                      "%s{\"name\":\"%s\",\"value\":%.6g,\"limit\":%g,\"op\":\"%s\",\"pass\":%s}",
                      i ? "," : "", t[i].key, t[i].value, t[i].limit,
                      t[i].below_is_good ? "<" : ">=", target_met(&t[i]) ? "true" : "false");
    df_buf_append_str(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    df_buf_free(&b);
}

static int run_flow(const bench_config *cfg, int json)
{
    bench_figure dispatch;
    bench_flow_report *f = calloc(1, sizeof *f);
    if (!f) return 1;
    df_error err = DF_ERROR_INIT;
    if (bench_dispatch(cfg, &dispatch, &err) || bench_flow(cfg, f, &err)) {
        fprintf(stderr, "docflow-bench: %s\n", err.msg);
        free(f);
        return 1;
    }
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (json)
        print_flow_json(cfg, f, &dispatch, cpu, cpus);
    else
        print_flow_table(cfg, f, &dispatch, cpu, cpus);
    free(f);
    return 0;
}

/* ========================================================================
 * main
 * ======================================================================== */

int main(int argc, char **argv)
{
    bench_config cfg = {.docs = 10000,
                        .dim = 128,
                        .text_len = 50,
                        .repeat = 5,
                        .calls = 1000000,
                        .flow_docs = 100,
                        .flow_window = 16,
                        .flow_sample_ms = 300,
                        .flow_idle_ms = 2000};
    int json = 0, flow = 0;
    /* --indexer hands the command line to the VectorIndexer benchmark,
     * which has options of its own (docflow-bench --indexer --help). */
    if (argc > 1 && strcmp(argv[1], "--indexer") == 0) return bench_indexer_main(argc, argv);
    int rc = parse_args(argc, argv, &cfg, &json, &flow);
    if (rc) return rc > 0 ? 0 : 2;
    if (flow) return run_flow(&cfg, json);

    bench_figure codecs[BENCH_CODEC_COUNT];
    bench_figure dispatch;
    report r = {.cfg = &cfg, .codecs = codecs, .dispatch = &dispatch};
    df_error err = DF_ERROR_INIT;
    if (bench_codecs(&cfg, codecs, &r.pb_identical, &err) ||
        bench_dispatch(&cfg, &dispatch, &err)) {
        fprintf(stderr, "docflow-bench: %s\n", err.msg);
        return 1;
    }
    cpu_model(r.cpu, sizeof r.cpu);
    r.cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (json)
        print_json(&r);
    else
        print_table(&r);
    return 0;
}
