/*
 * docflow/executor.h -- THE executor ABI, version 1.
 *
 * This is the only header an executor (a plugin .so) includes. It declares
 * what a plugin exports (one function returning static descriptors), and the
 * table of host functions a plugin receives in init. A plugin links nothing
 * of docflow: every service (documents, parameters, results, logging, errors,
 * request memory) is a function pointer in `df_host`.
 *
 * It is not the embedding API: programs that host executors (docflow-host,
 * docflow-hub, tools) use docflow/document.h and friends from libdocflow.
 *
 * ---------------------------------------------------------------------------
 * OWNERSHIP (one rule for the whole table)
 * ---------------------------------------------------------------------------
 * - Inputs: every handle and string the host hands out (documents, arrays,
 *   values, parameters, with: arguments) belongs to the host. Request-bound
 *   handles are valid until the handler returns; init-bound ones until init
 *   returns. Never free them; copy what you keep.
 * - Outputs: whatever a plugin sets through the table is copied by the host.
 *   Memory from libc malloc never crosses the boundary.
 * - Descriptors: everything reachable from docflow_plugin_v1() is static and
 *   lives as long as the module is loaded (the host never unloads a module
 *   while one of its instances lives).
 * - State: init returns the instance state through *state_out; close frees it.
 * - Request memory: host->req_alloc() memory is freed when the request ends.
 *
 * THREADS
 * - docflow_plugin_v1() must be pure and reentrant.
 * - The host never calls one instance from two threads at once: init, the
 *   handlers and close of one instance are serialised. Replicas are separate
 *   instances and may run in parallel, so module-global mutable state needs
 *   the plugin's own locking (better: keep none).
 * - Request-bound functions (everything taking a df_req, and every df_doc /
 *   df_docs / df_value reached from one) may only be called from the thread
 *   running that handler. Logging, alloc/free and instance queries are safe
 *   from any thread.
 *
 * ERRORS
 * - Functions returning int return DF_OK (0) or a df_rc code.
 * - A handler returns DF_OK or the value of host->fail(req, code, fmt, ...);
 *   the message reaches the client in the response header and the flow keeps
 *   serving. init returns DF_OK or host->init_fail(init, code, fmt, ...); the
 *   user sees the message prefixed with the executor name and its YAML
 *   file:line. Plugins never call exit() or abort().
 *
 * COMPATIBILITY
 * - The loader accepts a plugin whose abi_major equals DF_ABI_MAJOR and whose
 *   abi_minor is <= the host's DF_ABI_MINOR.
 * - Every struct that crosses the boundary starts with struct_size (or is
 *   walked with a stride), so old plugins keep loading when structs grow.
 * - df_host only ever grows AT ITS END, in groups marked "ABI 1.N". A plugin
 *   that wants to run on an older host probes newer entries with DF_HOST_HAS().
 */
#ifndef DOCFLOW_EXECUTOR_H
#define DOCFLOW_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Versions and attributes
 * ======================================================================== */

#define DF_ABI_MAJOR 1
#define DF_ABI_MINOR 0 /* bumped for every group appended to df_host */

#if defined(__GNUC__)
#define DF_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#define DF_PLUGIN_EXPORT            __attribute__((visibility("default")))
#else
#define DF_PRINTF(fmt_idx, arg_idx)
#define DF_PLUGIN_EXPORT
#endif

/* ========================================================================
 * Opaque handles. Incomplete types: compile-time checked, never dereferenced
 * by a plugin.
 * ======================================================================== */

typedef struct df_doc df_doc;     /* one Document (DocArray v1 fields)        */
typedef struct df_docs df_docs;   /* an ordered array of documents            */
typedef struct df_value df_value; /* a JSON-like value: tags, parameters, ... */
typedef struct df_req df_req;     /* one request being handled                */
typedef struct df_init df_init;   /* the context of one init call             */
typedef struct df_exec df_exec;   /* one executor instance, init..close       */
typedef struct df_host df_host;   /* the host function table (below)          */

/* ========================================================================
 * Enumerations (append-only; unknown values from a newer host are treated
 * as the nearest documented meaning)
 * ======================================================================== */

/* Return codes. Unknown codes from a plugin are reported as DF_E_INTERNAL. */
typedef enum df_rc {
    DF_OK = 0,
    DF_E_INVALID_INPUT = 1, /* the request or configuration is wrong: the user can fix it */
    DF_E_UNSUPPORTED = 2,   /* valid, but this executor does not do that */
    DF_E_NOT_FOUND = 3,     /* a referenced thing (id, file, key) does not exist */
    DF_E_RESOURCE = 4,      /* out of memory, disk, descriptors, ... */
    DF_E_IO = 5,            /* a file or network operation failed */
    DF_E_INTERNAL = 6,      /* a bug or an unexpected state */
    DF_E_TIMEOUT = 7,       /* a deadline passed */
} df_rc;

typedef enum df_log_level {
    DF_LOG_DEBUG = 0,
    DF_LOG_INFO = 1,
    DF_LOG_WARN = 2,
    DF_LOG_ERROR = 3,
} df_log_level;

typedef enum df_value_type {
    DF_VALUE_NULL = 0,
    DF_VALUE_BOOL = 1,
    DF_VALUE_NUMBER = 2, /* a double, as in JSON and google.protobuf.Value */
    DF_VALUE_STRING = 3,
    DF_VALUE_LIST = 4,
    DF_VALUE_MAP = 5, /* string keys, insertion order kept */
} df_value_type;

/* DocArray v1 keeps text, blob and tensor in one oneof: setting one clears
 * the others. */
typedef enum df_content_kind {
    DF_CONTENT_NONE = 0,
    DF_CONTENT_TEXT = 1,
    DF_CONTENT_BLOB = 2,
    DF_CONTENT_TENSOR = 3,
} df_content_kind;

/* The string fields of a document, for doc_str / doc_set_str. */
typedef enum df_doc_str_field {
    DF_FIELD_ID = 0,
    DF_FIELD_PARENT_ID = 1,
    DF_FIELD_URI = 2,
    DF_FIELD_MODALITY = 3,
    DF_FIELD_MIME_TYPE = 4,
} df_doc_str_field;

/* The scalar number fields of a document, for doc_num / doc_set_num.
 * granularity and adjacency are uint32 on the wire: set them with integral
 * values in [0, 2^32). */
typedef enum df_doc_num_field {
    DF_FIELD_GRANULARITY = 0,
    DF_FIELD_ADJACENCY = 1,
    DF_FIELD_WEIGHT = 2,
    DF_FIELD_OFFSET = 3,
} df_doc_num_field;

/* A document carries two maps of named scores: `scores` (how well a match
 * matches, written by rankers and indexers) and `evaluations` (written by
 * evaluators). */
typedef enum df_score_map {
    DF_SCORES = 0,
    DF_EVALUATIONS = 1,
} df_score_map;

/* How the host feeds documents to a handler (Jina's batching decorators). */
typedef enum df_batch_mode {
    DF_BATCH_WHOLE = 0,  /* the whole request at once (default)                  */
    DF_BATCH_SINGLE = 1, /* one document per call (Jina's @single)               */
    DF_BATCH_N = 2,      /* batches of `size` documents (Jina's @batching); the
                            last batch may be smaller; YAML metas.batch_size
                            overrides `size` */
} df_batch_mode;

/* ========================================================================
 * Plain structs shared with the host. Their layout is fixed forever: new
 * information comes through new functions, never new fields.
 * ======================================================================== */

/* A read-only view of an n-dim array (a document's tensor or embedding).
 * `dtype` is numpy's dtype string ("<f4" for little-endian float32, "<f8",
 * "<i8", "|u1", ...). `data` is little-endian, C order, `nbytes` long.
 * Valid until the array is changed or the request ends. */
typedef struct df_ndarray_view {
    const void *data;
    size_t nbytes;
    const uint32_t *shape;
    uint32_t ndim;
    const char *dtype;
} df_ndarray_view;

/* One named score (DocArray's NamedScore). Strings are "" when unset. */
typedef struct df_score {
    float value;
    const char *op_name;
    const char *description;
    const char *ref_id;
} df_score;

/* ========================================================================
 * What a plugin declares: docflow_plugin_v1() returns a df_plugin that lists
 * one or more executor definitions, each with its requests table.
 * ======================================================================== */

/* A request handler. Arguments: the state init returned, and the request.
 * Return value: DF_OK, or what host->fail() returned. Called on the
 * instance's own thread, never concurrently for one instance. */
typedef int (*df_handler)(void *state, df_req *req);

typedef struct df_batch_policy {
    uint32_t mode; /* a df_batch_mode */
    uint32_t size; /* documents per call for DF_BATCH_N; ignored otherwise */
} df_batch_policy;

/* One row of an executor's requests table (Jina's @requests(on=...)).
 * Rows are walked with the stride df_executor_def.request_size, so rows may
 * grow in later ABI versions. */
typedef struct df_request_def {
    const char *endpoint; /* "/index"; NULL = the default handler (bare @requests)  */
    const char *method;   /* the name YAML `requests:` and `uses_requests:` refer to;
                             the same handler may appear in several rows, once per
                             endpoint, always with the same method name */
    df_handler handler;
    df_batch_policy batch;
} df_request_def;

/* One executor type. Its jtype is what YAML `jtype:` (or `uses:`) names.
 *
 * init -- Required: yes. Arguments: the host table (safe to keep for the
 *   instance's life), the init context (valid until init returns) and where
 *   to store the instance state. Return value: DF_OK, or
 *   host->init_fail(...). Called on the host's control thread.
 * close -- Required: yes. Frees the state. Called once, after the last
 *   handler returned, even when the flow stops on an error. Must not fail. */
typedef struct df_executor_def {
    uint32_t struct_size;    /* sizeof(df_executor_def) as compiled; set by DF_EXECUTOR */
    const char *jtype;       /* [A-Za-z_][A-Za-z0-9_]*, unique in a process */
    const char *version;     /* semver of this executor */
    const char *description; /* one line, shown by inspect and the hub */
    int (*init)(const df_host *host, df_init *init, void **state_out);
    void (*close)(void *state);
    uint32_t n_requests;
    uint32_t request_size; /* sizeof(df_request_def) as compiled: the row stride */
    const df_request_def *requests;
} df_executor_def;

/* What a plugin .so exports, through docflow_plugin_v1(). A function, not a
 * data symbol, because dlsym is only guaranteed to work on functions, and
 * the ABI major is part of its name so a host can tell "built for ABI 2"
 * from "not a docflow plugin". */
typedef struct df_plugin {
    uint32_t struct_size; /* sizeof(df_plugin) as compiled; set by DF_PLUGIN */
    uint16_t abi_major;   /* DF_ABI_MAJOR at compile time */
    uint16_t abi_minor;   /* DF_ABI_MINOR at compile time (or lower, see DF_HOST_HAS) */
    const char *name;     /* the plugin (library) name */
    const char *version;  /* semver of this build; the hub checks it against manifest.yml */
    uint32_t n_executors;
    uint32_t executor_size; /* sizeof(df_executor_def) as compiled: the stride */
    const df_executor_def *executors;
} df_plugin;

/* The one exported symbol. It takes no arguments, has no side effects and
 * returns static data, so docflow-hub and `inspect` can read any .so. */
typedef const df_plugin *(*df_plugin_entry)(void);
#define DF_PLUGIN_ENTRY_NAME "docflow_plugin_v1"

/* ---- Declaration helpers: nobody types a struct_size by hand ---------- */

#define DF_BATCH_POLICY_WHOLE                                                                      \
    {                                                                                              \
        DF_BATCH_WHOLE, 0                                                                          \
    }

/* A row binding `endpoint` to handler `fn` (method name = the function's name). */
#define DF_REQUEST(endpoint, fn)                                                                   \
    {                                                                                              \
        (endpoint), #fn, (fn),                                                                     \
        {                                                                                          \
            DF_BATCH_WHOLE, 0                                                                      \
        }                                                                                          \
    }
/* The same, with the handler called once per document (Jina's @single). */
#define DF_REQUEST_SINGLE(endpoint, fn)                                                            \
    {                                                                                              \
        (endpoint), #fn, (fn),                                                                     \
        {                                                                                          \
            DF_BATCH_SINGLE, 0                                                                     \
        }                                                                                          \
    }
/* The same, with batches of n documents (Jina's @batching(batch_size=n)). */
#define DF_REQUEST_BATCH(endpoint, fn, n)                                                          \
    {                                                                                              \
        (endpoint), #fn, (fn),                                                                     \
        {                                                                                          \
            DF_BATCH_N, (n)                                                                        \
        }                                                                                          \
    }
/* The default handler: called for every endpoint without a row of its own. */
#define DF_DEFAULT(fn)                                                                             \
    {                                                                                              \
        NULL, #fn, (fn),                                                                           \
        {                                                                                          \
            DF_BATCH_WHOLE, 0                                                                      \
        }                                                                                          \
    }

#define DF_COUNT_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* An executor definition from a static df_request_def array. */
#define DF_EXECUTOR(jtype, version, description, init_fn, close_fn, requests_array)                \
    {                                                                                              \
        sizeof(df_executor_def), (jtype), (version), (description), (init_fn), (close_fn),         \
            DF_COUNT_OF(requests_array), sizeof(df_request_def), (requests_array)                  \
    }

/* Defines the exported entry point from a static df_executor_def array. */
#define DF_PLUGIN(name, version, executors_array)                                                  \
    DF_PLUGIN_EXPORT const df_plugin *docflow_plugin_v1(void);                                     \
    const df_plugin *docflow_plugin_v1(void)                                                       \
    {                                                                                              \
        static const df_plugin plugin = {sizeof(df_plugin),                                        \
                                         DF_ABI_MAJOR,                                             \
                                         DF_ABI_MINOR,                                             \
                                         (name),                                                   \
                                         (version),                                                \
                                         DF_COUNT_OF(executors_array),                             \
                                         sizeof(df_executor_def),                                  \
                                         (executors_array)};                                       \
        return &plugin;                                                                            \
    }

/* ========================================================================
 * The host function table.
 *
 * WARNING: append new entries at the END only, in a group marked with its
 * ABI version, and bump DF_ABI_MINOR. Inserting in the middle shifts every
 * later offset and silently breaks every plugin built before (Falco's API
 * 3.10 shipped exactly that bug).
 * ======================================================================== */

/* True when the host table has entry `fn` (it is inside struct_size and set). */
#define DF_HOST_HAS(h, fn)                                                                         \
    (offsetof(df_host, fn) + sizeof((h)->fn) <= (h)->struct_size && (h)->fn != NULL)

struct df_host {
    uint32_t struct_size; /* sizeof(df_host) of the running host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* ---- ABI 1.0: memory ------------------------------------------------ */

    /* General-purpose allocation for plugin state. Any thread. Never returns
     * NULL (the host stops the process on exhaustion). Free with host->free. */
    void *(*alloc)(size_t size);
    /* Frees host->alloc memory; NULL is fine. Any thread. */
    void (*free)(void *ptr);
    /* Request-scoped memory, 16-byte aligned, freed when the request ends.
     * Never NULL. Handler thread only. */
    void *(*req_alloc)(df_req *req, size_t size);

    /* ---- ABI 1.0: logging and errors ------------------------------------- */

    /* Logs one line prefixed with the instance name. `ex` may be NULL (then no
     * prefix). Any thread. */
    void (*log)(df_exec *ex, df_log_level level, const char *fmt, ...) DF_PRINTF(3, 4);
    /* Fails the request: formats and copies the message, returns `code` (or
     * DF_E_INTERNAL if code is DF_OK) so a handler can `return host->fail(..)`.
     * The first failure of a request wins. Handler thread only. */
    int (*fail)(df_req *req, int code, const char *fmt, ...) DF_PRINTF(3, 4);
    /* Fails init the same way: `return host->init_fail(init, code, ...)`.
     * The host prefixes the executor name and YAML location. */
    int (*init_fail)(df_init *init, int code, const char *fmt, ...) DF_PRINTF(3, 4);

    /* ---- ABI 1.0: the instance ------------------------------------------ */

    /* The instance an init or a request belongs to; valid until close. */
    df_exec *(*init_exec)(df_init *init);
    df_exec *(*req_exec)(df_req *req);
    /* The executor's name (metas.name, or the flow's `name:`, else the jtype).
     * Owned by the host, valid until close. Any thread. */
    const char *(*exec_name)(df_exec *ex);
    /* The instance's workspace folder, created on first call: the flow's or
     * metas' workspace, then <name>/<shard_id>/ below it for shards. NULL if
     * it cannot be created (the reason is logged). Any thread. */
    const char *(*exec_workspace)(df_exec *ex);
    /* A runtime argument: "name", "workspace", "shard_id", "shards",
     * "replicas", "replica_id". NULL if unknown. Valid until close. */
    const df_value *(*runtime_arg)(df_exec *ex, const char *key);

    /* ---- ABI 1.0: init arguments (`with:` after uses_with, and `metas:`) --- */

    /* Typed reads of `with:` keys. Each returns DF_OK and stores the value (or
     * `dflt` when the key is absent or null), or DF_E_INVALID_INPUT when the
     * key holds another type; the host then has already recorded
     * "with.<key>: expected <type>, got <what> (file:line)" as init's error,
     * so `return rc;` is enough. Strings live until init returns.
     * with_int refuses numbers with a fraction; with_float accepts integers. */
    int (*with_string)(df_init *init, const char *key, const char *dflt, const char **out);
    int (*with_int)(df_init *init, const char *key, int64_t dflt, int64_t *out);
    int (*with_float)(df_init *init, const char *key, double dflt, double *out);
    int (*with_bool)(df_init *init, const char *key, int dflt, int *out);
    /* Any `with:` value (lists and maps included); NULL when absent. */
    const df_value *(*with_value)(df_init *init, const char *key);
    /* The whole `with:` map and the `metas:` map (never NULL; maybe empty). */
    const df_value *(*with_all)(df_init *init);
    const df_value *(*metas)(df_init *init);

    /* ---- ABI 1.0: reading values ----------------------------------------- */

    /* The type of a value; DF_VALUE_NULL for a NULL pointer. */
    df_value_type (*value_type)(const df_value *v);
    /* Scalars: the value, or 0 / 0.0 / NULL when v has another type. The
     * string is NUL-terminated; *len (if non-NULL) gets its byte length. */
    int (*value_bool)(const df_value *v);
    double (*value_number)(const df_value *v);
    const char *(*value_string)(const df_value *v, size_t *len);
    /* Lists and maps: element count (0 for scalars), the i-th element, the
     * i-th key of a map, and a map lookup by key (NULL when absent). */
    size_t (*value_len)(const df_value *v);
    const df_value *(*value_at)(const df_value *v, size_t i);
    const char *(*value_key_at)(const df_value *v, size_t i);
    const df_value *(*value_get)(const df_value *v, const char *key);

    /* ---- ABI 1.0: building values ---------------------------------------- */

    /* New values in the request's memory. Handler thread only. */
    df_value *(*value_new_list)(df_req *req);
    df_value *(*value_new_map)(df_req *req);
    /* Add to a list / set a map key (replacing an existing one). The element
     * is deep-copied into the container's memory, so any value (a parameter,
     * a tag of another doc) can be passed. Return DF_OK or DF_E_INVALID_INPUT
     * when `container` has the wrong type. */
    int (*value_append)(df_value *list, const df_value *item);
    int (*value_set)(df_value *map, const char *key, const df_value *item);
    /* Scalar shortcuts: set map[key] or append to a list (key == NULL). */
    int (*value_put_string)(df_value *container, const char *key, const char *s);
    int (*value_put_number)(df_value *container, const char *key, double x);
    int (*value_put_bool)(df_value *container, const char *key, int b);
    int (*value_put_null)(df_value *container, const char *key);
    /* Removes a map key; DF_E_NOT_FOUND when absent. */
    int (*value_remove)(df_value *map, const char *key);

    /* ---- ABI 1.0: documents ---------------------------------------------- */

    /* A new empty document in the request's memory, with a fresh random
     * 32-hex id (as DocArray does). */
    df_doc *(*doc_new)(df_req *req);
    /* String fields; "" when unset, never NULL. Setting copies; NULL clears. */
    const char *(*doc_str)(const df_doc *d, df_doc_str_field f);
    void (*doc_set_str)(df_doc *d, df_doc_str_field f, const char *s);
    /* Number fields (0 when unset). */
    double (*doc_num)(const df_doc *d, df_doc_num_field f);
    void (*doc_set_num)(df_doc *d, df_doc_num_field f, double x);
    /* Which of text / blob / tensor the document holds. */
    df_content_kind (*doc_content)(const df_doc *d);
    /* text: NULL when the document holds no text. len may be NULL. Setting
     * copies `len` bytes (SIZE_MAX = strlen) and clears blob and tensor. */
    const char *(*doc_text)(const df_doc *d, size_t *len);
    void (*doc_set_text)(df_doc *d, const char *text, size_t len);
    /* blob: raw bytes; NULL when none. Setting copies and clears text/tensor. */
    const void *(*doc_blob)(const df_doc *d, size_t *len);
    void (*doc_set_blob)(df_doc *d, const void *data, size_t len);
    /* tensor and embedding as n-dim arrays. The getters fill *out and return
     * 1, or return 0 when absent. The setters copy; they return
     * DF_E_INVALID_INPUT when nbytes does not match shape x dtype size or
     * the dtype is not a numpy dtype string. set_tensor clears text/blob. */
    int (*doc_tensor)(const df_doc *d, df_ndarray_view *out);
    int (*doc_set_tensor)(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                          uint32_t ndim, const char *dtype);
    int (*doc_embedding)(const df_doc *d, df_ndarray_view *out);
    int (*doc_set_embedding)(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                             uint32_t ndim, const char *dtype);
    /* The embedding as float32, converting other numeric dtypes (the result
     * then lives in the document's memory). NULL when there is none; *dim
     * gets the element count. Writing through the pointer changes the doc. */
    float *(*doc_embedding_f32)(df_doc *d, size_t *dim);
    /* Sets a 1-d float32 embedding of `dim` values (copied). */
    void (*doc_set_embedding_f32)(df_doc *d, const float *values, size_t dim);
    /* location: the float list of DocArray's `location`. NULL/0 when unset. */
    const float *(*doc_location)(const df_doc *d, size_t *n);
    void (*doc_set_location)(df_doc *d, const float *values, size_t n);
    /* chunks and matches: nested arrays, created empty on first use, never
     * NULL. They share the document's memory. */
    df_docs *(*doc_chunks)(df_doc *d);
    df_docs *(*doc_matches)(df_doc *d);
    /* tags (a map; never NULL; change it with value_set / value_put_*) and
     * DocArray's _metadata map. */
    df_value *(*doc_tags)(df_doc *d);
    df_value *(*doc_metadata)(df_doc *d);
    /* Named scores in `scores` or `evaluations`. doc_score fills *out (strings
     * valid while the doc lives) and returns 1, or 0 when the name is absent.
     * doc_set_score creates or replaces; NULL strings in `s` mean "". */
    int (*doc_score)(const df_doc *d, df_score_map map, const char *name, df_score *out);
    void (*doc_set_score)(df_doc *d, df_score_map map, const char *name, const df_score *s);
    size_t (*doc_score_count)(const df_doc *d, df_score_map map);
    /* The i-th score: returns its name and fills *out; NULL past the end. */
    const char *(*doc_score_at)(const df_doc *d, df_score_map map, size_t i, df_score *out);

    /* ---- ABI 1.0: document arrays ------------------------------------------ */

    /* A new empty array in the request's memory. */
    df_docs *(*docs_new)(df_req *req);
    size_t (*docs_len)(const df_docs *docs);
    /* The i-th document, NULL past the end. */
    df_doc *(*docs_get)(const df_docs *docs, size_t i);
    /* The first document with this id, NULL when none. */
    df_doc *(*docs_find)(const df_docs *docs, const char *id);
    /* Appends a document. A document from another request's or array's memory
     * is deep-copied first; returns the document as stored in `docs`. */
    df_doc *(*docs_append)(df_docs *docs, df_doc *d);
    /* Removes the i-th document (later ones move up): DF_OK or DF_E_NOT_FOUND. */
    int (*docs_remove)(df_docs *docs, size_t i);
    void (*docs_clear)(df_docs *docs);
    /* The embeddings of all documents as one contiguous row-major float32
     * matrix (rows = docs_len, dim columns), ready for BLAS. Zero-copy after
     * the first call: the documents' embeddings are moved into the matrix and
     * point into it, so writing the matrix writes the embeddings. Returns NULL
     * and sets *rows = 0 for an empty array; returns NULL with *rows set to
     * the index of the first offending document when a document has no
     * embedding or a different dimension (use host->fail to report it). */
    float *(*docs_embeddings)(df_docs *docs, size_t *rows, size_t *dim);
    /* Sets every document's embedding from a rows x dim row-major matrix
     * (copied once into one block). DF_E_INVALID_INPUT when rows != docs_len. */
    int (*docs_set_embeddings)(df_docs *docs, const float *matrix, size_t rows, size_t dim);
    /* Sets scores[name].value of document i to values[i], for every document.
     * DF_E_INVALID_INPUT when n != docs_len. */
    int (*docs_set_scores)(df_docs *docs, const char *name, const float *values, size_t n);

    /* ---- ABI 1.0: the request ----------------------------------------------- */

    /* The endpoint being served ("/index"). Valid until the handler returns. */
    const char *(*req_endpoint)(df_req *req);
    /* The documents of this call: the request's, or the current batch of it
     * under DF_BATCH_SINGLE / DF_BATCH_N. Change them in place (the default
     * return semantics). */
    df_docs *(*req_docs)(df_req *req);
    /* Replaces this call's documents with `docs` (Jina's "return a new
     * DocumentArray"); under batching, replaces this batch's share. */
    void (*req_set_docs)(df_req *req, df_docs *docs);
    /* The request parameters (a map, never NULL), with the sub-map named after
     * this executor merged to the top level, as Jina does. */
    const df_value *(*req_parameters)(df_req *req);
    /* Typed parameter reads, like with_*: DF_OK with the value or `dflt`, or
     * DF_E_INVALID_INPUT after failing the request with
     * "parameters.<key>: expected <type>, got <what>". */
    int (*param_string)(df_req *req, const char *key, const char *dflt, const char **out);
    int (*param_int)(df_req *req, const char *key, int64_t dflt, int64_t *out);
    int (*param_float)(df_req *req, const char *key, double dflt, double *out);
    int (*param_bool)(df_req *req, const char *key, int dflt, int *out);
    /* This executor's entry in parameters.__results__: a map, created empty
     * on first call, returned to the client. */
    df_value *(*req_results)(df_req *req);
    /* docs_matrix: one array per upstream executor (in `needs` order) when
     * the executor joins several branches; 1 (the request's docs) otherwise. */
    size_t (*req_matrix_len)(df_req *req);
    df_docs *(*req_matrix_get)(df_req *req, size_t i);
    /* The groundtruths sent with the request (empty array when none). */
    df_docs *(*req_groundtruths)(df_req *req);
};

/* ========================================================================
 * Inline helpers for the common calls: df_h_<entry>(h, ...) == h-><entry>(...)
 * with the usual arguments filled in. `h` is the host table. (The df_h_
 * prefix keeps them apart from libdocflow's own df_doc_* functions.)
 * ======================================================================== */

static inline const char *df_h_doc_id(const df_host *h, const df_doc *d)
{
    return h->doc_str(d, DF_FIELD_ID);
}
static inline const char *df_h_doc_text(const df_host *h, const df_doc *d)
{
    return h->doc_text(d, NULL);
}
static inline void df_h_doc_set_text(const df_host *h, df_doc *d, const char *text)
{
    h->doc_set_text(d, text, (size_t)-1);
}
static inline float df_h_doc_score(const df_host *h, const df_doc *d, const char *name, float dflt)
{
    df_score s;
    return h->doc_score(d, DF_SCORES, name, &s) ? s.value : dflt;
}

#ifdef __cplusplus
}
#endif
#endif /* DOCFLOW_EXECUTOR_H */
