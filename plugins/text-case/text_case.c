/*
 * text_case.c -- three small text normalisers in one plugin (UpperCase,
 * LowerCase, SwapCase). The plugin proves that one .so can declare several
 * executors and that YAML `jtype` picks one of them. ASCII only: bytes of
 * multi-byte UTF-8 sequences are left untouched.
 */
#include <ctype.h>
#include <string.h>

#include <docflow/executor.h>

typedef int (*case_fn)(int c);

typedef struct text_case {
    const df_host *host;
    case_fn fn;
} text_case;

static int swap_case(int c)
{
    return isupper(c) ? tolower(c) : toupper(c);
}

static int init_with(const df_host *h, void **state_out, case_fn fn)
{
    text_case *t = h->alloc(sizeof *t);
    t->host = h;
    t->fn = fn;
    *state_out = t;
    return DF_OK;
}

static int upper_init(const df_host *h, df_init *init, void **s)
{
    (void)init;
    return init_with(h, s, toupper);
}

static int lower_init(const df_host *h, df_init *init, void **s)
{
    (void)init;
    return init_with(h, s, tolower);
}

static int swap_init(const df_host *h, df_init *init, void **s)
{
    (void)init;
    return init_with(h, s, swap_case);
}

static void case_close(void *state)
{
    text_case *t = state;
    t->host->free(t);
}

static int apply_case(void *state, df_req *req)
{
    text_case *t = state;
    const df_host *h = t->host;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        size_t len;
        const char *text = h->doc_text(d, &len);
        if (!text) continue;
        char *out = h->req_alloc(req, len + 1);
        for (size_t k = 0; k < len; k++)
            out[k] = (unsigned char)text[k] < 0x80 ? (char)t->fn((unsigned char)text[k]) : text[k];
        h->doc_set_text(d, out, len);
    }
    return DF_OK;
}

static const df_request_def case_requests[] = {
    DF_DEFAULT(apply_case),
};

static const df_executor_def case_executors[] = {
    DF_EXECUTOR("UpperCase", "0.1.0", "Upper-cases ASCII letters of each text", upper_init,
                case_close, case_requests),
    DF_EXECUTOR("LowerCase", "0.1.0", "Lower-cases ASCII letters of each text", lower_init,
                case_close, case_requests),
    DF_EXECUTOR("SwapCase", "0.1.0", "Swaps the case of ASCII letters of each text", swap_init,
                case_close, case_requests),
};

DF_PLUGIN("text-case", "0.1.0", case_executors)
