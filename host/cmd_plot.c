/*
 * cmd_plot.c -- `docflow-host plot FLOW.yml`: the flow's graph as Graphviz
 * DOT (always available), Mermaid (for Markdown pages), or SVG / PNG drawn
 * by Graphviz's `dot` when it is installed.
 *
 * The drawing: the gateway as start and end, one box per executor with its
 * jtype and replicas / shards / polling, uses_before and uses_after as
 * boxes around it (grouped), `when:` conditions as edge labels. Like
 * validate, it never opens a plugin.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docflow/flow_config.h"
#include "docflow/json_codec.h"
#include "host_cli.h"

#define CMD "plot"

typedef enum plot_format { FORMAT_DOT, FORMAT_MERMAID, FORMAT_SVG, FORMAT_PNG } plot_format;

/* Everything a drawing needs to know about one executor. */
typedef struct plot_node {
    const df_flow_node *n;
    const char *label; /* lines joined by '\n' */
    const char *when;  /* the condition as compact JSON; NULL: none */
    int leaf;          /* no executor needs it: it answers to the gateway */
} plot_node;

static void plot_usage(FILE *out)
{
    fprintf(out,
            "usage: docflow-host plot FLOW.yml [-o FILE] [--format dot|mermaid|svg|png]\n"
            "\n"
            "Draws a flow: the gateway at both ends, each executor with its jtype,\n"
            "replicas, shards and polling, uses_before / uses_after beside it, and when:\n"
            "conditions on the edges. The flow is checked first (as by validate).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE     where to write (default: stdout); the format follows\n"
            "                        the extension (.dot .gv .mmd .svg .png) unless --format\n"
            "                        is given\n"
            "  --format FORMAT       dot (Graphviz source, the default), mermaid, or svg / png\n"
            "                        (these run Graphviz's dot, which must be installed)\n"
            "  --context KEY=VALUE   a ${{ KEY }} variable for the YAML (repeatable)\n"
            "  -h, --help            this text\n"
            "\n"
            "exit status: 0 ok, 1 drawing failed (e.g. no Graphviz for svg/png),\n"
            "2 errors in the flow or bad usage\n");
}

static int format_named(const char *s, plot_format *out)
{
    static const struct {
        const char *name;
        plot_format format;
    } names[] = {{"dot", FORMAT_DOT},     {"gv", FORMAT_DOT},  {"mermaid", FORMAT_MERMAID},
                 {"mmd", FORMAT_MERMAID}, {"svg", FORMAT_SVG}, {"png", FORMAT_PNG},
                 {NULL, FORMAT_DOT}};
    for (size_t i = 0; names[i].name; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].format;
            return 1;
        }
    return 0;
}

/* ---- what to draw -------------------------------------------------------------------- */

static const char *jtype_of(const df_executor_config *c)
{
    return c && c->jtype && *c->jtype ? c->jtype : "(from its .so)";
}

static const char *node_label(df_arena *a, const df_flow_node *n)
{
    df_buf b = DF_BUF_INIT;
    df_buf_printf(&b, "%s\n%s", n->name, jtype_of(n->uses));
    if (n->replicas > 1) df_buf_printf(&b, "\nreplicas: %d", n->replicas);
    if (n->shards > 1) df_buf_printf(&b, "\nshards: %d", n->shards);
    if (n->shards > 1 || df_value_len(n->polling) || n->polling_default == DF_POLLING_ALL) {
        df_buf_printf(&b, "\npolling: %s", n->polling_default == DF_POLLING_ALL ? "ALL" : "ANY");
        for (size_t i = 0; i < df_value_len(n->polling); i++)
            df_buf_printf(&b, ", %s: %s", df_value_key_at(n->polling, i),
                          df_value_string(df_value_at(n->polling, i), NULL));
    }
    if (n->external) df_buf_printf(&b, "\nexternal: %s:%d", n->host ? n->host : "?", n->port);
    const char *out = df_arena_strdup(a, b.data);
    df_buf_free(&b);
    return out;
}

static plot_node *plot_nodes(df_arena *a, const df_flow_config *f)
{
    plot_node *p = df_arena_calloc(a, (f->n_nodes ? f->n_nodes : 1) * sizeof *p);
    for (size_t i = 0; i < f->n_nodes; i++) {
        const df_flow_node *n = &f->nodes[i];
        p[i].n = n;
        p[i].label = node_label(a, n);
        p[i].leaf = 1;
        if (n->when_yaml) {
            df_buf b = DF_BUF_INIT;
            df_json_encode_value(&b, n->when_yaml);
            p[i].when = df_arena_printf(a, "when %s", b.data);
            df_buf_free(&b);
        }
    }
    for (size_t i = 0; i < f->n_nodes; i++)
        for (size_t k = 0; k < f->nodes[i].n_needs; k++)
            for (size_t j = 0; j < f->n_nodes; j++)
                if (strcmp(f->nodes[j].name, f->nodes[i].needs[k]) == 0) p[j].leaf = 0;
    return p;
}

static size_t index_of(const df_flow_config *f, const char *name)
{
    for (size_t i = 0; i < f->n_nodes; i++)
        if (strcmp(f->nodes[i].name, name) == 0) return i;
    return f->n_nodes; /* "gateway" */
}

/* ---- Graphviz DOT --------------------------------------------------------------------- */

/* Node names are letters, digits, '_', '-', '.', never '/', so
 * "gateway/start" and "name/uses_after" cannot collide with them. */
static void dot_string(df_buf *b, const char *s)
{
    df_buf_append_char(b, '"');
    for (; *s; s++) {
        if (*s == '\n')
            df_buf_append_str(b, "\\n");
        else if (*s == '"' || *s == '\\') {
            df_buf_append_char(b, '\\');
            df_buf_append_char(b, *s);
        } else
            df_buf_append_char(b, *s);
    }
    df_buf_append_char(b, '"');
}

static void dot_edge(df_buf *b, const char *indent, const char *from, const char *from_suffix,
                     const char *to, const char *to_suffix, const char *label)
{
    df_buf_printf(b, "%s\"", indent);
    df_buf_printf(b, "%s%s\" -> \"%s%s\"", from, from_suffix, to, to_suffix);
    if (label) {
        df_buf_append_str(b, " [label=");
        dot_string(b, label);
        df_buf_append_str(b, "]");
    }
    df_buf_append_str(b, ";\n");
}

static void dot_node(df_buf *b, const plot_node *p, df_arena *a)
{
    const df_flow_node *n = p->n;
    int group = n->uses_before || n->uses_after;
    const char *indent = group ? "    " : "  ";
    if (group) {
        df_buf_printf(
            b, "  subgraph \"cluster_%s\" {\n    style=dashed; color=gray50; label=", n->name);
        dot_string(b, n->name);
        df_buf_append_str(b, ";\n");
    }
    if (n->uses_before) {
        df_buf_printf(b, "%s\"%s/uses_before\" [label=", indent, n->name);
        dot_string(b, df_arena_printf(a, "uses_before\n%s", jtype_of(n->uses_before)));
        df_buf_append_str(b, "];\n");
    }
    df_buf_printf(b, "%s\"%s\" [label=", indent, n->name);
    dot_string(b, p->label);
    df_buf_append_str(b, n->shards > 1 ? ", peripheries=2];\n" : "];\n");
    if (n->uses_after) {
        df_buf_printf(b, "%s\"%s/uses_after\" [label=", indent, n->name);
        dot_string(b, df_arena_printf(a, "uses_after\n%s", jtype_of(n->uses_after)));
        df_buf_append_str(b, "];\n");
    }
    if (n->uses_before) dot_edge(b, indent, n->name, "/uses_before", n->name, "", NULL);
    if (n->uses_after) dot_edge(b, indent, n->name, "", n->name, "/uses_after", NULL);
    if (group) df_buf_append_str(b, "  }\n");
}

static const char *exit_suffix(const df_flow_node *n)
{
    return n->uses_after ? "/uses_after" : "";
}

static const char *entry_suffix(const df_flow_node *n)
{
    return n->uses_before ? "/uses_before" : "";
}

static void render_dot(df_buf *b, df_arena *a, const df_flow_config *f, const plot_node *p)
{
    df_buf_append_str(b, "digraph flow {\n  rankdir=LR;\n  label=");
    dot_string(b, f->source);
    df_buf_append_str(b, ";\n  labelloc=t;\n"
                         "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", "
                         "fontname=\"Helvetica\"];\n"
                         "  edge [fontname=\"Helvetica\", fontsize=10];\n"
                         "  \"gateway/start\" [label=\"gateway\", shape=ellipse, "
                         "fillcolor=\"#d9e8f5\"];\n"
                         "  \"gateway/end\" [label=\"gateway\", shape=ellipse, "
                         "fillcolor=\"#d9e8f5\"];\n");
    for (size_t i = 0; i < f->n_nodes; i++)
        dot_node(b, &p[i], a);
    for (size_t i = 0; i < f->n_nodes; i++) {
        const df_flow_node *n = &f->nodes[i];
        if (!n->n_needs)
            dot_edge(b, "  ", "gateway", "/start", n->name, entry_suffix(n), p[i].when);
        for (size_t k = 0; k < n->n_needs; k++) {
            size_t j = index_of(f, n->needs[k]);
            if (j == f->n_nodes)
                dot_edge(b, "  ", "gateway", "/start", n->name, entry_suffix(n), p[i].when);
            else
                dot_edge(b, "  ", n->needs[k], exit_suffix(&f->nodes[j]), n->name, entry_suffix(n),
                         p[i].when);
        }
    }
    for (size_t i = 0; i < f->n_nodes; i++)
        if (p[i].leaf)
            dot_edge(b, "  ", f->nodes[i].name, exit_suffix(&f->nodes[i]), "gateway", "/end", NULL);
    if (!f->n_nodes) dot_edge(b, "  ", "gateway", "/start", "gateway", "/end", NULL);
    df_buf_append_str(b, "}\n");
}

/* ---- Mermaid ---------------------------------------------------------------------------- */

/* Mermaid ids are n<position>; labels are quoted, with its entity codes
 * for what would end the quote or look like markup. */
static void mermaid_text(df_buf *b, const char *s)
{
    df_buf_append_char(b, '"');
    for (; *s; s++) {
        switch (*s) {
        case '\n':
            df_buf_append_str(b, "<br/>");
            break;
        case '"':
            df_buf_append_str(b, "#quot;");
            break;
        case '<':
            df_buf_append_str(b, "#lt;");
            break;
        case '>':
            df_buf_append_str(b, "#gt;");
            break;
        default:
            df_buf_append_char(b, *s);
        }
    }
    df_buf_append_char(b, '"');
}

static void mermaid_edge(df_buf *b, const char *from, const char *to, const char *label)
{
    df_buf_printf(b, "  %s -->", from);
    if (label) {
        df_buf_append_char(b, '|');
        mermaid_text(b, label);
        df_buf_append_char(b, '|');
    }
    df_buf_printf(b, " %s\n", to);
}

static void mermaid_node(df_buf *b, df_arena *a, const plot_node *p, size_t i)
{
    const df_flow_node *n = p->n;
    int group = n->uses_before || n->uses_after;
    if (group) {
        df_buf_printf(b, "  subgraph g%zu [", i);
        mermaid_text(b, n->name);
        df_buf_append_str(b, "]\n");
    }
    if (n->uses_before) {
        df_buf_printf(b, "  n%zu_before[", i);
        mermaid_text(b, df_arena_printf(a, "uses_before\n%s", jtype_of(n->uses_before)));
        df_buf_append_str(b, "]\n");
    }
    df_buf_printf(b, "  n%zu[", i);
    mermaid_text(b, p->label);
    df_buf_append_str(b, "]\n");
    if (n->uses_after) {
        df_buf_printf(b, "  n%zu_after[", i);
        mermaid_text(b, df_arena_printf(a, "uses_after\n%s", jtype_of(n->uses_after)));
        df_buf_append_str(b, "]\n");
    }
    if (n->uses_before)
        mermaid_edge(b, df_arena_printf(a, "n%zu_before", i), df_arena_printf(a, "n%zu", i), NULL);
    if (n->uses_after)
        mermaid_edge(b, df_arena_printf(a, "n%zu", i), df_arena_printf(a, "n%zu_after", i), NULL);
    if (group) df_buf_append_str(b, "  end\n");
}

static void render_mermaid(df_buf *b, df_arena *a, const df_flow_config *f, const plot_node *p)
{
    df_buf_append_str(b, "flowchart LR\n  gateway_start([\"gateway\"])\n");
    for (size_t i = 0; i < f->n_nodes; i++)
        mermaid_node(b, a, &p[i], i);
    df_buf_append_str(b, "  gateway_end([\"gateway\"])\n");
    for (size_t i = 0; i < f->n_nodes; i++) {
        const df_flow_node *n = &f->nodes[i];
        const char *entry = df_arena_printf(a, n->uses_before ? "n%zu_before" : "n%zu", i);
        if (!n->n_needs) mermaid_edge(b, "gateway_start", entry, p[i].when);
        for (size_t k = 0; k < n->n_needs; k++) {
            size_t j = index_of(f, n->needs[k]);
            const char *from =
                j == f->n_nodes
                    ? "gateway_start"
                    : df_arena_printf(a, f->nodes[j].uses_after ? "n%zu_after" : "n%zu", j);
            mermaid_edge(b, from, entry, p[i].when);
        }
    }
    for (size_t i = 0; i < f->n_nodes; i++)
        if (p[i].leaf)
            mermaid_edge(b, df_arena_printf(a, f->nodes[i].uses_after ? "n%zu_after" : "n%zu", i),
                         "gateway_end", NULL);
    if (!f->n_nodes) mermaid_edge(b, "gateway_start", "gateway_end", NULL);
}

/* ---- Graphviz ----------------------------------------------------------------------------- */

static int dot_installed(void)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char cand[4096];
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(cand, sizeof cand, "%.*s/dot", (int)len, len ? p : ".");
        if (access(cand, X_OK) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* Pipes the DOT text into `dot -T<format> [-o FILE]`. */
static int run_graphviz(const df_buf *dot, const char *format, const char *output)
{
    int fds[2];
    if (pipe(fds) != 0) return df_cli_error(CMD, "pipe: %s", strerror(errno)), DF_EXIT_FAILURE;
    pid_t pid = fork();
    if (pid < 0) return df_cli_error(CMD, "fork: %s", strerror(errno)), DF_EXIT_FAILURE;
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        char type[16];
        snprintf(type, sizeof type, "-T%s", format);
        if (output)
            execlp("dot", "dot", type, "-o", output, (char *)NULL);
        else
            execlp("dot", "dot", type, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    /* A dot that quits early must not kill us with SIGPIPE: its exit
     * status says what went wrong. */
    signal(SIGPIPE, SIG_IGN);
    const char *p = dot->data;
    size_t left = dot->len;
    while (left) {
        ssize_t n = write(fds[1], p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        p += n;
        left -= (size_t)n;
    }
    close(fds[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return DF_EXIT_OK;
    df_cli_error(CMD, "Graphviz's dot failed (exit status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return DF_EXIT_FAILURE;
}

/* ---- the command ------------------------------------------------------------------------------
 */

typedef struct plot_opts {
    const char *flow;
    const char *output;
    plot_format format;
    int format_given;
} plot_opts;

static int parse_args(int argc, char **argv, df_arena *a, df_value *context, plot_opts *o)
{
    static const struct option longs[] = {{"output", required_argument, 0, 'o'},
                                          {"format", required_argument, 0, 'f'},
                                          {"context", required_argument, 0, 'c'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    df_error err = DF_ERROR_INIT;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", longs, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
            break;
        case 'f':
            if (!format_named(optarg, &o->format))
                return df_cli_error(CMD, "--format: expected dot, mermaid, svg or png, got '%s'",
                                    optarg),
                       DF_EXIT_USAGE;
            o->format_given = 1;
            break;
        case 'c':
            if (df_cli_context_arg(a, context, optarg, &err))
                return df_cli_error(CMD, "%s", err.msg), DF_EXIT_USAGE;
            break;
        case 'h':
            plot_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return DF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return df_cli_error(CMD, optind >= argc ? "missing FLOW.yml (see --help)"
                                                : "expected one FLOW.yml (see --help)"),
               DF_EXIT_USAGE;
    o->flow = argv[optind];
    if (!o->format_given && o->output) {
        const char *dot = strrchr(o->output, '.');
        if (dot && !strchr(dot, '/')) format_named(dot + 1, &o->format);
    }
    return 0;
}

int df_cmd_plot(int argc, char **argv)
{
    df_arena *a = df_arena_new(1 << 16);
    df_value *context = df_value_new_map(a);
    plot_opts o = {0};
    df_buf text = DF_BUF_INIT;
    df_flow_config *f = NULL;
    int rc = parse_args(argc, argv, a, context, &o);
    if (rc) {
        rc = rc < 0 ? DF_EXIT_OK : rc;
        goto done;
    }
    int graphviz = o.format == FORMAT_SVG || o.format == FORMAT_PNG;
    if (graphviz && !dot_installed()) {
        df_cli_error(CMD, "Graphviz's dot is not installed (apt-get install graphviz); use "
                          "--format dot");
        rc = DF_EXIT_FAILURE;
        goto done;
    }
    f = df_cli_check_flow(a, CMD, o.flow, context);
    if (!f) {
        rc = DF_EXIT_USAGE;
        goto done;
    }
    plot_node *p = plot_nodes(a, f);
    if (o.format == FORMAT_MERMAID)
        render_mermaid(&text, a, f, p);
    else
        render_dot(&text, a, f, p);
    if (graphviz) {
        rc = run_graphviz(&text, o.format == FORMAT_SVG ? "svg" : "png", o.output);
        goto done;
    }
    df_error err = DF_ERROR_INIT;
    rc = DF_EXIT_OK;
    if (df_cli_write_file(o.output, text.data, text.len, &err)) {
        df_cli_error(CMD, "%s", err.msg);
        rc = DF_EXIT_FAILURE;
    }
done:
    df_flow_config_free(f);
    df_buf_free(&text);
    df_arena_free(a);
    return rc;
}
