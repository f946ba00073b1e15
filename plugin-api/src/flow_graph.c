/*
 * flow_graph.c -- the executors of a flow as a graph: automatic and
 * duplicate names, `needs` resolved to executors, cycles, executors no
 * request can reach, and the topological order the runtime starts and
 * stops them in (YAML order wherever that is one).
 *
 * Not for: reading an item's keys (flow_executors.c).
 */
#include "flow_config_internal.h"

#include <stdio.h>
#include <string.h>

#include "docflow/buf.h"

#define GATEWAY (-1)
/* "(known: ...)" lists at most this many names. */
#define KNOWN_NAMES_SHOWN 24

typedef struct graph {
    flow_loader *L;
    node_draft *d;
    size_t n;
    int **inputs; /* per node: input indices in needs order, GATEWAY for the gateway */
    const df_value ***input_values; /* the name as written; NULL for the default */
    size_t *n_inputs;
    unsigned char *dead;     /* needs: [] */
    unsigned char *done;     /* reached by the topological walk */
    unsigned char *in_cycle; /* part of a reported cycle */
    size_t *order;
    size_t n_order;
} graph;

static const df_value *name_pos(const node_draft *d)
{
    return d->name_yaml ? d->name_yaml : d->map;
}

/* ---- names ------------------------------------------------------------------------- */

static void check_duplicate_names(graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(g->d[i].node.name, g->d[j].node.name) != 0) continue;
            flow_error(g->L, name_pos(&g->d[i]),
                       "executor name '%s' is used twice (also at %s%s): names must be unique; "
                       "rename one",
                       g->d[i].node.name, df_yaml_where(g->L->y, name_pos(&g->d[j])),
                       g->d[j].name_yaml ? ""
                                         : ", where it is the automatic name of an executor "
                                           "without name:");
            break;
        }
    }
}

/* Levenshtein distance, for "did you mean"; long strings are not compared. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 1000;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *known_names(graph *g, const char *wrong)
{
    df_buf b = DF_BUF_INIT;
    df_buf_append_str(&b, "gateway");
    const char *close = NULL;
    size_t best = 3; /* at most 2 edits count as a typo */
    for (size_t i = 0; i < g->n; i++) {
        if (i < KNOWN_NAMES_SHOWN) df_buf_printf(&b, ", %s", g->d[i].node.name);
        size_t dist = edit_distance(wrong, g->d[i].node.name);
        if (dist < best) {
            best = dist;
            close = g->d[i].node.name;
        }
    }
    if (g->n > KNOWN_NAMES_SHOWN) df_buf_printf(&b, ", ... (%zu in all)", g->n + 1);
    df_buf_append_str(&b, ")");
    if (close) df_buf_printf(&b, "; did you mean '%s'?", close);
    const char *out = df_arena_strdup(g->L->a, b.data);
    df_buf_free(&b);
    return out;
}

/* ---- needs -------------------------------------------------------------------------- */

static int find_node(const graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->d[i].node.name, name) == 0) return (int)i;
    return -2;
}

static void resolve_listed_needs(graph *g, size_t i)
{
    node_draft *d = &g->d[i];
    for (size_t k = 0; k < d->n_need_values; k++) {
        const df_value *v = d->need_values[k];
        const char *name = df_value_string(v, NULL);
        int target = strcmp(name, "gateway") == 0 ? GATEWAY : find_node(g, name);
        if (target < GATEWAY) {
            flow_error(g->L, v, "needs: no executor named '%s' (known: %s", name,
                       known_names(g, name));
            continue;
        }
        int twice = 0;
        for (size_t m = 0; m < g->n_inputs[i]; m++)
            twice |= g->inputs[i][m] == target;
        if (twice) {
            flow_error(g->L, v, "needs lists '%s' twice: keep one", name);
            continue;
        }
        g->input_values[i][g->n_inputs[i]] = v;
        g->inputs[i][g->n_inputs[i]++] = target;
    }
}

static void resolve_needs(graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        node_draft *d = &g->d[i];
        size_t cap = d->n_need_values ? d->n_need_values : 1;
        g->inputs[i] = df_arena_calloc(g->L->a, cap * sizeof **g->inputs);
        g->input_values[i] = df_arena_calloc(g->L->a, cap * sizeof **g->input_values);
        switch (d->needs_kind) {
        case NEEDS_DEFAULT:
            g->inputs[i][0] = i ? (int)i - 1 : GATEWAY;
            g->n_inputs[i] = 1;
            break;
        case NEEDS_INVALID: /* reported; the gateway keeps later checks quiet */
            g->inputs[i][0] = GATEWAY;
            g->n_inputs[i] = 1;
            break;
        case NEEDS_EMPTY:
            g->dead[i] = 1;
            flow_error(g->L, d->needs_yaml,
                       "needs: [] leaves '%s' without inputs, so no request ever reaches it: "
                       "write needs: gateway to start from the gateway, or name its inputs",
                       d->node.name);
            break;
        case NEEDS_LIST:
            resolve_listed_needs(g, i);
            break;
        }
    }
}

/* ---- topological order ------------------------------------------------------------------ */

/* Kahn's algorithm, always taking the ready executor that comes first in
 * the file, so the order is the YAML order wherever that is one. What it
 * never reaches is in a cycle, after one, or after a needs: []. */
static void topological_walk(graph *g)
{
    size_t *waiting = df_arena_calloc(g->L->a, (g->n ? g->n : 1) * sizeof *waiting);
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->n_inputs[i]; k++)
            waiting[i] += g->inputs[i][k] != GATEWAY;
    for (;;) {
        size_t next = g->n;
        for (size_t i = 0; i < g->n && next == g->n; i++)
            if (!g->done[i] && !g->dead[i] && !waiting[i]) next = i;
        if (next == g->n) break;
        g->done[next] = 1;
        g->order[g->n_order++] = next;
        for (size_t j = 0; j < g->n; j++)
            for (size_t k = 0; k < g->n_inputs[j]; k++)
                if (g->inputs[j][k] == (int)next) waiting[j]--;
    }
}

/* ---- cycles -------------------------------------------------------------------------- */

static const char *cycle_text(graph *g, const size_t *flow, size_t m, size_t start)
{
    df_buf b = DF_BUF_INIT;
    for (size_t t = 0; t <= m; t++)
        df_buf_printf(&b, "%s%s", t ? " -> " : "", g->d[flow[(start + t) % m]].node.name);
    const char *out = df_arena_strdup(g->L->a, b.data);
    df_buf_free(&b);
    return out;
}

/* `flow` lists a cycle in the direction requests travel (each feeds the
 * next, the last feeds the first). The needs to blame is one naming an
 * executor at or after its own position: a default needs never does. */
static void report_cycle(graph *g, const size_t *flow, size_t m)
{
    size_t fresh = 0;
    for (size_t t = 0; t < m; t++)
        fresh += !g->in_cycle[flow[t]];
    if (!fresh) return;
    size_t blamed = 0;
    for (size_t t = 0; t < m; t++) {
        size_t from = flow[t], to = flow[(t + 1) % m];
        if (from >= to) {
            blamed = (t + 1) % m;
            break;
        }
    }
    size_t x = flow[blamed], y = flow[(blamed + m - 1) % m];
    const df_value *at = g->d[x].map;
    int defaults = 0;
    for (size_t k = 0; k < g->n_inputs[x]; k++)
        if (g->inputs[x][k] == (int)y && g->input_values[x][k]) at = g->input_values[x][k];
    for (size_t t = 0; t < m; t++) {
        g->in_cycle[flow[t]] = 1;
        defaults |= g->d[flow[t]].needs_kind == NEEDS_DEFAULT;
    }
    const char *name_x = g->d[x].node.name, *name_y = g->d[y].node.name;
    if (m == 1) {
        flow_error(g->L, at, "needs: '%s' needs itself, so no request could ever pass: remove it",
                   name_x);
        return;
    }
    flow_error(g->L, at,
               "needs: cycle %s ('%s' needs '%s', which comes after it%s): no request could ever "
               "pass; remove '%s' from %s's needs, or point %s to gateway",
               cycle_text(g, flow, m, blamed), name_x, name_y,
               defaults ? "; an executor without needs: follows the previous one" : "", name_y,
               name_x, name_x);
}

/* Depth-first search along needs (from an executor to its inputs) over
 * what the walk did not reach; a needs leading back onto the search stack
 * closes a cycle. Iterative: the depth can reach the executor count. */
static void find_cycles(graph *g)
{
    df_arena *a = g->L->a;
    size_t n = g->n ? g->n : 1;
    unsigned char *state = df_arena_calloc(a, n); /* 0 new, 1 on the stack, 2 finished */
    size_t *stack = df_arena_alloc(a, n * sizeof *stack);
    size_t *next = df_arena_calloc(a, n * sizeof *next);
    size_t *at = df_arena_alloc(a, n * sizeof *at);
    size_t *flow = df_arena_alloc(a, n * sizeof *flow);
    for (size_t s = 0; s < g->n; s++) {
        if (state[s] || g->done[s] || g->dead[s]) continue;
        size_t depth = 0;
        stack[depth++] = s;
        state[s] = 1;
        at[s] = 0;
        while (depth) {
            size_t u = stack[depth - 1];
            if (next[u] == g->n_inputs[u]) {
                state[u] = 2;
                depth--;
                continue;
            }
            int v = g->inputs[u][next[u]++];
            if (v == GATEWAY || g->done[v] || g->dead[v] || state[v] == 2) continue;
            if (state[v] == 0) {
                state[v] = 1;
                at[v] = depth;
                stack[depth++] = (size_t)v;
                continue;
            }
            /* stack[at[v]..depth-1]: each needs the next, and u needs v;
             * requests travel the other way round. */
            size_t m = 0;
            flow[m++] = (size_t)v;
            for (size_t t = depth - 1; t > at[v]; t--)
                flow[m++] = stack[t];
            report_cycle(g, flow, m);
        }
    }
}

/* ---- executors no request reaches ---------------------------------------------------------- */

static void check_joins(graph *g)
{
    for (size_t j = 0; j < g->n; j++) {
        if (g->done[j] || g->dead[j] || g->in_cycle[j] || g->n_inputs[j] < 2) continue;
        for (size_t k = 0; k < g->n_inputs[j]; k++) {
            int i = g->inputs[j][k];
            if (i == GATEWAY || g->done[i]) continue;
            const char *why = g->dead[i]       ? "it has needs: [], so nothing reaches it"
                              : g->in_cycle[i] ? "it is in a needs cycle"
                                               : "it comes after a needs cycle or a needs: []";
            const char *name = g->d[i].node.name;
            flow_error(g->L, g->input_values[j][k] ? g->input_values[j][k] : g->d[j].map,
                       "join '%s' waits for every one of its needs, but '%s' never delivers (%s): "
                       "fix that, or remove '%s' from the needs",
                       g->d[j].node.name, name, why, name);
        }
    }
}

/* ---- the result ------------------------------------------------------------------------------ */

static void fill_nodes(graph *g)
{
    df_flow_config *f = g->L->f;
    f->nodes = df_arena_calloc(g->L->a, (g->n ? g->n : 1) * sizeof *f->nodes);
    for (size_t t = 0; t < g->n_order; t++) {
        size_t i = g->order[t];
        df_flow_node *n = &f->nodes[f->n_nodes++];
        *n = g->d[i].node;
        int gateway_only = g->n_inputs[i] == 1 && g->inputs[i][0] == GATEWAY;
        n->n_needs = gateway_only ? 0 : g->n_inputs[i];
        n->needs = df_arena_calloc(g->L->a, (n->n_needs ? n->n_needs : 1) * sizeof *n->needs);
        for (size_t k = 0; k < n->n_needs; k++) {
            int in = g->inputs[i][k];
            n->needs[k] = in == GATEWAY ? "gateway" : g->d[in].node.name;
        }
    }
}

void flow_build_graph(flow_loader *L, node_draft *drafts, size_t n)
{
    df_arena *a = L->a;
    size_t cap = n ? n : 1;
    graph g = {.L = L, .d = drafts, .n = n};
    g.inputs = df_arena_calloc(a, cap * sizeof *g.inputs);
    g.input_values = df_arena_calloc(a, cap * sizeof *g.input_values);
    g.n_inputs = df_arena_calloc(a, cap * sizeof *g.n_inputs);
    g.dead = df_arena_calloc(a, cap);
    g.done = df_arena_calloc(a, cap);
    g.in_cycle = df_arena_calloc(a, cap);
    g.order = df_arena_calloc(a, cap * sizeof *g.order);
    check_duplicate_names(&g);
    resolve_needs(&g);
    topological_walk(&g);
    find_cycles(&g);
    check_joins(&g);
    if (!L->errors.n) fill_nodes(&g);
}
