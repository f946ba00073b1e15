/*
 * hello_report.c -- the HTML page `docflow-host hello` writes: the figures,
 * the evaluation table, the flow, then every query image next to its top-k
 * matches with their labels and scores.
 *
 * The images are drawn from the pixel values: each is a tiny 8 x 8 grey PNG
 * encoded here (stored deflate blocks need no compression library) and
 * inlined as a data: URI, scaled up by the browser with
 * `image-rendering: pixelated`. The page needs nothing from the network.
 */
#include <stdio.h>
#include <string.h>

#include "hello.h"

/* ---- a minimal PNG encoder ------------------------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void)
{
    if (crc_table[1]) return;
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static size_t put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* A chunk: length, type, data, CRC of type and data. Returns its size. */
static size_t put_chunk(uint8_t *out, const char type[4], const uint8_t *data, uint32_t len)
{
    size_t n = put_be32(out, len);
    memcpy(out + n, type, 4);
    if (len) memcpy(out + n + 4, data, len);
    n += 4 + len;
    n += put_be32(out + n, crc32_of(out + 4, 4 + len));
    return n;
}

/* The 8 x 8 image as an 8-bit grey PNG: ink (16) black, paper (0) white. */
static size_t encode_png(uint8_t *out, const uint8_t px[HELLO_PIXELS])
{
    enum { RAW = HELLO_SIDE * (HELLO_SIDE + 1) }; /* a filter byte per row */
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13] = {0};
    put_be32(ihdr, HELLO_SIDE);
    put_be32(ihdr + 4, HELLO_SIDE);
    ihdr[8] = 8; /* bit depth; colour type 0 (grey), deflate, filter 0, no interlace */
    uint8_t z[2 + 5 + RAW + 4];
    size_t zn = 0;
    z[zn++] = 0x78; /* zlib header: deflate, 32 KiB window, no dictionary */
    z[zn++] = 0x01;
    z[zn++] = 0x01; /* the final block, stored */
    z[zn++] = RAW & 0xff;
    z[zn++] = RAW >> 8;
    z[zn++] = (uint8_t)~RAW & 0xff;
    z[zn++] = (uint8_t)(~RAW >> 8);
    uint32_t a = 1, b = 0; /* Adler-32 of the raw bytes */
    for (int y = 0; y < HELLO_SIDE; y++) {
        for (int x = -1; x < HELLO_SIDE; x++) {
            uint8_t v = 0; /* filter type 0 before each row */
            if (x >= 0) {
                int ink = px[y * HELLO_SIDE + x];
                if (ink > HELLO_MAX_VALUE) ink = HELLO_MAX_VALUE;
                v = (uint8_t)(255 - (ink * 255 + HELLO_MAX_VALUE / 2) / HELLO_MAX_VALUE);
            }
            z[zn++] = v;
            a = (a + v) % 65521;
            b = (b + a) % 65521;
        }
    }
    zn += put_be32(z + zn, b << 16 | a);
    crc_init();
    size_t n = 0;
    memcpy(out, signature, 8);
    n += 8;
    n += put_chunk(out + n, "IHDR", ihdr, sizeof ihdr);
    n += put_chunk(out + n, "IDAT", z, (uint32_t)zn);
    n += put_chunk(out + n, "IEND", NULL, 0);
    return n;
}

static void base64(df_buf *out, const uint8_t *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char q[4] = {alphabet[v >> 18 & 63], alphabet[v >> 12 & 63],
                     i + 1 < n ? alphabet[v >> 6 & 63] : '=', i + 2 < n ? alphabet[v & 63] : '='};
        df_buf_append(out, q, 4);
    }
}

void hello_png_data_uri(df_buf *out, const uint8_t px[HELLO_PIXELS])
{
    uint8_t png[256];
    size_t n = encode_png(png, px);
    df_buf_append_str(out, "data:image/png;base64,");
    base64(out, png, n);
}

/* ---- the page ------------------------------------------------------------------- */

static void escape(df_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            df_buf_append_str(out, "&amp;");
            break;
        case '<':
            df_buf_append_str(out, "&lt;");
            break;
        case '>':
            df_buf_append_str(out, "&gt;");
            break;
        case '"':
            df_buf_append_str(out, "&quot;");
            break;
        default:
            df_buf_append_char(out, *s);
        }
    }
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}"
    ".lead{color:#555;margin:0 0 16px}"
    ".figs{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 8px}"
    ".fig{background:#eef3fb;border-radius:6px;padding:8px 14px}"
    ".fig b{display:block;font-size:22px;color:#1b4f9c}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:3px 10px;text-align:left}"
    "th{background:#eef3fb}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}"
    ".legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;"
    "margin:0 4px 0 12px;border:3px solid}"
    ".queries{display:flex;flex-wrap:wrap;gap:10px}"
    ".query{flex:1 1 auto;display:flex;align-items:flex-start;gap:6px;padding:6px;"
    "border:1px solid #dde;"
    "border-radius:6px}"
    ".query .p{align-self:center;margin-left:auto;font-size:11px;color:#555;text-align:right}"
    ".query .arrow{align-self:center;color:#888;font-size:18px;padding:0 4px}"
    "figure{margin:0;text-align:center;font-size:11px;color:#444}"
    "figure img{display:block;width:56px;height:56px;image-rendering:pixelated;"
    "image-rendering:crisp-edges;border:3px solid #999}"
    "figure.q img{border-color:#1b4f9c}figure.hit img{border-color:#2e9d44}"
    "figure.miss img{border-color:#d9412b}figure.miss figcaption b{color:#d9412b}"
    "footer{margin-top:24px;color:#666;font-size:12px}";

static void figure(df_buf *out, const char *cls, const uint8_t *px, const char *caption)
{
    df_buf_printf(out, "<figure class=\"%s\"><img alt=\"\" src=\"", cls);
    if (px) {
        hello_png_data_uri(out, px);
    } else {
        uint8_t blank[HELLO_PIXELS] = {0};
        hello_png_data_uri(out, blank);
    }
    df_buf_printf(out, "\"><figcaption>%s</figcaption></figure>", caption);
}

static void query_block(df_buf *out, const hello_result *res, int k)
{
    const hello_image *q = res->query;
    char cap[160];
    df_buf_printf(out, "<div class=\"query\" id=\"%s\">", q->id);
    snprintf(cap, sizeof cap, "<b>query</b><br>label %d", q->label);
    figure(out, "q", q->px, cap);
    df_buf_append_str(out, "<span class=\"arrow\">&rarr;</span>");
    for (size_t i = 0; i < res->n_matches && i < (size_t)k; i++) {
        const hello_match *m = &res->matches[i];
        int hit = m->label == q->label;
        snprintf(cap, sizeof cap, "<b>%d</b>%s<br>%.4f", m->label, hit ? "" : " &#10007;",
                 (double)m->score);
        figure(out, hit ? "match hit" : "match miss", m->has_px ? m->px : NULL, cap);
    }
    if (res->precision >= 0)
        df_buf_printf(out, "<span class=\"p\">precision@%d<br><b>%.2f</b></span>", k,
                      res->precision);
    df_buf_append_str(out, "</div>\n");
}

void hello_report_html(df_buf *out, const hello_report *r)
{
    df_buf_append_str(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<title>docflow hello: searching handwritten digits</title><style>");
    df_buf_append_str(out, style);
    df_buf_append_str(out, "</style></head><body>\n");
    df_buf_append_str(out, "<h1>docflow hello: searching handwritten digits</h1>\n");
    df_buf_printf(out,
                  "<p class=\"lead\">%zu images of 8&times;8 pixels indexed through "
                  "ImageEncoder &rarr; VectorIndexer (2 shards: %zu + %zu, %s) &rarr; "
                  "MatchMerger; %zu held-out images searched, top %d each, evaluated by "
                  "label with the Evaluator.</p>\n",
                  r->n_indexed, r->shard_counts[0], r->shard_counts[1], r->metric, r->n_results,
                  r->k);

    df_buf_append_str(out, "<div class=\"figs\">");
    for (size_t i = 0; i < r->n_metrics && i < 2; i++)
        df_buf_printf(out, "<div class=\"fig\">%s<b>%.3f</b></div>", r->metrics[i].name,
                      r->metrics[i].value);
    double index_rate = r->index_s > 0 ? (double)r->n_indexed / r->index_s : 0;
    double search_rate = r->search_s > 0 ? (double)r->n_results / r->search_s : 0;
    df_buf_printf(out, "<div class=\"fig\">indexing<b>%.0f docs/s</b></div>", index_rate);
    df_buf_printf(out, "<div class=\"fig\">search<b>%.0f queries/s</b></div>", search_rate);
    df_buf_printf(out, "<div class=\"fig\">time taken<b>%.2f s</b></div>", r->total_s);
    df_buf_append_str(out, "</div>\n");

    df_buf_append_str(out, "<h2>Evaluation</h2>\n<table><tr><th>metric</th><th>mean over "
                           "the queries</th></tr>\n");
    for (size_t i = 0; i < r->n_metrics; i++) {
        df_buf_append_str(out, "<tr><td>");
        escape(out, r->metrics[i].name);
        df_buf_printf(out, "</td><td class=\"n\">%.4f</td></tr>\n", r->metrics[i].value);
    }
    df_buf_printf(out,
                  "<tr><td>queries</td><td class=\"n\">%zu</td></tr>\n"
                  "<tr><td>indexed documents</td><td class=\"n\">%zu</td></tr>\n"
                  "<tr><td>embedding</td><td class=\"n\">%d-d%s</td></tr>\n"
                  "<tr><td>indexing</td><td class=\"n\">%.3f s, %.0f docs/s</td></tr>\n"
                  "<tr><td>search</td><td class=\"n\">%.3f s, %.0f queries/s</td></tr>\n"
                  "</table>\n",
                  r->n_results, r->n_indexed, r->dim,
                  r->dim == HELLO_PIXELS ? " (the pixels)" : " (PCA)", r->index_s, index_rate,
                  r->search_s, search_rate);
    df_buf_printf(out,
                  "<p class=\"lead\">A match is relevant when its label equals the query's. "
                  "precision@%d: relevant matches among the first %d; reciprocal_rank: 1 / the "
                  "rank of the first relevant match; ndcg@%d: the ranking against the ideal one; "
                  "recall@%d: the relevant matches among every indexed image of that label "
                  "(about %zu each, so at most %d / %zu).</p>\n",
                  r->k, r->k, r->k, r->k, r->n_indexed / 10, r->k, r->n_indexed / 10);

    df_buf_printf(
        out,
        "<h2>Queries and their top %d matches</h2>\n<p class=\"legend\">Each held-out "
        "image, then its matches, best first, with their label and %s distance (smaller is closer)."
        "<span style=\"border-color:#1b4f9c\"></span>query"
        "<span style=\"border-color:#2e9d44\"></span>same label"
        "<span style=\"border-color:#d9412b\"></span>another label</p>\n"
        "<div class=\"queries\">\n",
        r->k, r->metric);
    for (size_t i = 0; i < r->n_results; i++)
        query_block(out, &r->results[i], r->k);
    df_buf_append_str(out, "</div>\n");

    df_buf_append_str(out, "<h2>The flow</h2>\n<pre>");
    escape(out, r->flow_yaml);
    df_buf_append_str(out, "</pre>\n");

    df_buf_append_str(out, "<footer>Data: ");
    escape(out, r->data_path);
    df_buf_append_str(
        out, ", the test set of the UCI &ldquo;Optical Recognition of Handwritten Digits&rdquo; "
             "data set (E. Alpaydin, C. Kaynak, 1998), as shipped in Debian&rsquo;s "
             "python3-sklearn; licensed under CC BY 4.0 "
             "(https://creativecommons.org/licenses/by/4.0/). Made by docflow-host hello."
             "</footer>\n</body></html>\n");
}
