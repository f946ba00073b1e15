/*
 * flow_config_internal.h -- what the three parts of the flow loader share:
 * flow_config.c (entry points, the top level and `with:`), flow_executors.c
 * (one `executors:` item and its `uses:`), flow_graph.c (names, needs,
 * cycles, topological order).
 *
 * The loader never stops at the first mistake: every check appends to a
 * list of errors and goes on, so `docflow-host validate` can show them all.
 */
#ifndef DOCFLOW_FLOW_CONFIG_INTERNAL_H
#define DOCFLOW_FLOW_CONFIG_INTERNAL_H

#include "docflow/flow_config.h"

/* Caps that keep a hostile or mistyped file from asking for millions of
 * threads; real flows are far below them. */
#define FLOW_MAX_EXECUTORS 4096
#define FLOW_MAX_REPLICAS  1024
#define FLOW_MAX_SHARDS    1024

/* An error or warning, with where it is about in the flow file, so the
 * lists come out in file order whatever order the checks ran in. */
typedef struct flow_diag {
    long order; /* line * 100000 + col in the flow file; 0 when unknown */
    size_t seq; /* ties keep the order of discovery */
    const char *text;
} flow_diag;

typedef struct flow_diags {
    flow_diag *items;
    size_t n, cap;
} flow_diags;

typedef struct flow_loader {
    df_arena *a;
    const df_yaml *y;
    df_flow_config *f;
    const char *dir_as_written; /* the flow file's folder as the user named it; "" = current */
    const df_value *context;
    const df_value *top_metas; /* the flow's top-level metas (a checked map) or NULL */
    const df_value *flow_env;  /* with.env as strings (map) or NULL */
    flow_diags errors;
    flow_diags warnings; /* without duplicates */
    size_t seq;
    df_filter **filters; /* every compiled `when:`, freed on failure */
    size_t n_filters, cap_filters;
} flow_loader;

/* How an executor item says where its input comes from. */
typedef enum needs_kind {
    NEEDS_DEFAULT, /* no needs: the previous executor, or the gateway for the first */
    NEEDS_LIST,    /* a name, `gateway`, or a list of them */
    NEEDS_EMPTY,   /* needs: [] -- nothing reaches the executor */
    NEEDS_INVALID  /* already reported */
} needs_kind;

/* One `executors:` item as read, before the graph is known. */
typedef struct node_draft {
    df_flow_node node;
    const df_value *map;
    const df_value *name_yaml; /* NULL: auto-named */
    needs_kind needs_kind;
    const df_value *needs_yaml;   /* the needs value; NULL when absent */
    const df_value **need_values; /* each name as written (string values) */
    size_t n_need_values;
} node_draft;

/* ---- messages (flow_config.c) ---- */

/* An error at a value's position ("file:line:col: ..."). */
void flow_error(flow_loader *L, const df_value *at, const char *fmt, ...) DF_PRINTF(3, 4);
/* An error at the position of `key` in `map`. */
void flow_error_key(flow_loader *L, const df_value *map, const char *key, const char *fmt, ...)
    DF_PRINTF(4, 5);
/* A message that already names its position (e.g. from the executor YAML
 * reader), sorted with the flow-file value `about` (may be NULL). */
void flow_error_text(flow_loader *L, const df_value *about, const char *msg);
void flow_warn_key(flow_loader *L, const df_value *map, const char *key, const char *fmt, ...)
    DF_PRINTF(4, 5);
void flow_warn_text(flow_loader *L, const df_value *about, const char *msg);
/* How a wrong value reads in a message: "two" (quoted), 1.5, true, null,
 * a list, a mapping. */
const char *flow_got(flow_loader *L, const df_value *v);
/* A whole number in [min, max], else an error "<what> must be an integer
 * >= min, got X" at v. 0 on success. */
int flow_read_int(flow_loader *L, const df_value *v, const char *what, int min, int max, int *out);
/* A number of milliseconds >= 0, else an error. 0 on success. */
int flow_read_ms(flow_loader *L, const df_value *v, const char *what, double *out);
/* A map of scalars as a map of strings (env:), else errors; NULL on error. */
df_value *flow_read_env(flow_loader *L, const df_value *v, const char *what);
/* "a, b, c" of a NULL-terminated list, for "(known: ...)". */
const char *flow_join(flow_loader *L, const char *const *words);
int flow_in_list(const char *word, const char *const *words);

/* The hook set by df_flow_set_hub_resolver (NULL: none). */
df_hub_resolver flow_hub_resolver(void);

/* ---- executors (flow_executors.c) ---- */

/* Reads the item at `index` of executors: into d (never fails: problems are
 * reported and sensible defaults kept so the graph can still be checked). */
void flow_read_executor(flow_loader *L, node_draft *d, const df_value *map, size_t index);

/* ---- the graph (flow_graph.c) ---- */

/* Names, needs, cycles and reachability; on success fills f->nodes in
 * topological order (YAML order wherever that is one). */
void flow_build_graph(flow_loader *L, node_draft *drafts, size_t n);

#endif
