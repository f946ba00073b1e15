/*
 * text_features.c -- tokenising a text and hashing its word unigrams, word
 * bigrams and character n-grams (see text_features.h). Not the place for
 * weighting, IDF or embeddings.
 *
 * A token is a maximal run of word characters: ASCII letters, digits and
 * '_', and every non-ASCII code point except white space and the common
 * punctuation and symbol blocks (is_word_char). So "io_uring" is one token,
 * "docflow-host" two. Each Han, hiragana or katakana character is a token of
 * its own (is_cjk_char): those scripts put no spaces between words.
 */
#include "text_features.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Fixed forever: changing any of these changes every embedding. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull
#define HASH_SEED  0x646f63666c6f7721ull /* "docflow!" */

/* Family bytes hashed in front of each feature; 'x' is the raw-text fallback. */
static const unsigned char family_byte[TF_FAMILIES] = {'w', 'b', 'c'};
#define RAW_BYTE 'x'

struct tf_token {
    size_t start; /* of '<' in norm */
    size_t end;   /* after '>' */
    size_t chars; /* code points between the markers */
};

/* ---- hashing -------------------------------------------------------------- */

static uint64_t fnv_add(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* murmur3's finaliser: FNV-1a's low bits mix poorly, and the encoder takes
 * the bucket, the sign and the IDF slot from different bits. */
static uint64_t fmix64(uint64_t k)
{
    k ^= HASH_SEED;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

uint64_t tf_hash_bytes(const char *bytes, size_t len)
{
    unsigned char tag = RAW_BYTE;
    return fmix64(fnv_add(fnv_add(FNV_OFFSET, &tag, 1), bytes, len));
}

/* ---- UTF-8 and character classes ------------------------------------------- */

/* Encodes a valid code point (< 0x110000, no surrogate) into out; returns the length. */
static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int in_range(uint32_t cp, uint32_t lo, uint32_t hi)
{
    return cp >= lo && cp <= hi;
}

/* Han ideographs, hiragana and katakana: languages written without spaces,
 * where each character is a token of its own (so that word bigrams are
 * character bigrams, as Lucene's CJK analyser does). */
static int is_cjk_char(uint32_t cp)
{
    return in_range(cp, 0x3040, 0x30FF) || in_range(cp, 0x3400, 0x4DBF) ||
           in_range(cp, 0x4E00, 0x9FFF) || in_range(cp, 0xF900, 0xFAFF) ||
           in_range(cp, 0x20000, 0x3134F);
}

static int is_word_char(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA; /* ª µ º */
    if (cp == 0xD7 || cp == 0xF7) return 0;                       /* × ÷ */
    if (cp == 0x0589 || cp == 0x061F || cp == 0x06D4 || in_range(cp, 0x0700, 0x0702) ||
        in_range(cp, 0x0964, 0x0965) || cp == 0x1680)
        return 0; /* sentence marks of Armenian, Arabic, Syriac, Devanagari; ogham space */
    if (in_range(cp, 0x2000, 0x2BFF)) return 0; /* punctuation, symbols, arrows, box drawing */
    if (in_range(cp, 0x3000, 0x303F)) return 0; /* CJK symbols and punctuation */
    if (in_range(cp, 0xFE30, 0xFE6F) || cp == 0xFEFF) return 0;
    if (in_range(cp, 0xFF01, 0xFF0F) || in_range(cp, 0xFF1A, 0xFF20) ||
        in_range(cp, 0xFF3B, 0xFF40) || in_range(cp, 0xFF5B, 0xFF65))
        return 0; /* fullwidth punctuation */
    return 1;     /* letters, digits, ideographs, emoji, invalid bytes */
}

uint32_t tf_fold_case(uint32_t cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (in_range(cp, 0xC0, 0xDE) && cp != 0xD7) return cp + 32;
    if (in_range(cp, 0x100, 0x137) || in_range(cp, 0x14A, 0x177)) return cp | 1;
    if (in_range(cp, 0x139, 0x148) || in_range(cp, 0x179, 0x17E)) return cp & 1 ? cp + 1 : cp;
    if (cp == 0x178) return 0xFF;
    if (in_range(cp, 0x391, 0x3A9) && cp != 0x3A2) return cp + 32;
    if (cp == 0x386) return 0x3AC;
    if (in_range(cp, 0x388, 0x38A)) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (in_range(cp, 0x38E, 0x38F)) return cp + 63;
    if (in_range(cp, 0x410, 0x42F)) return cp + 32;
    if (in_range(cp, 0x400, 0x40F)) return cp + 80;
    if (in_range(cp, 0xFF21, 0xFF3A)) return cp + 32;
    return cp;
}

/* ---- scratch buffers ------------------------------------------------------- */

/* Grows *buf to hold at least `need` elements of `size` bytes. */
static void reserve(const df_host *h, void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *grown = h->alloc(n * size);
    if (*cap) memcpy(grown, *buf, *cap * size);
    h->free(*buf);
    *buf = grown;
    *cap = n;
}

void tf_scratch_free(tf_scratch *s)
{
    const df_host *h = s->host;
    h->free(s->norm);
    h->free(s->tokens);
    h->free(s->offsets);
    h->free(s->features);
    memset(s, 0, sizeof *s);
    s->host = h;
}

/* ---- tokenising ------------------------------------------------------------- */

/* Closes the open token, if any. */
static void end_token(tf_scratch *s, size_t *out, size_t *n_tokens, int *in_token)
{
    if (!*in_token) return;
    s->norm[(*out)++] = '>';
    s->tokens[(*n_tokens)++].end = *out;
    *in_token = 0;
}

/* Fills s->norm with each token as "<token>" (case-folded if asked) and
 * s->tokens with their positions; returns the number of tokens. */
static size_t tokenise(tf_scratch *s, const tf_options *o, const char *text, size_t len)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t n_tokens = 0, out = 0;
    int in_token = 0;
    /* Folding never lengthens a character (every folded pair has equal UTF-8
     * lengths), and a token adds two marker bytes to at least one byte of
     * text plus the separator or CJK character after it: 3 x len is enough. */
    reserve(s->host, (void **)&s->norm, &s->norm_cap, 3 * len + 2, 1);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(in, len, i, &cp);
        int cjk = is_cjk_char(cp);
        if (!is_word_char(cp) || cjk) end_token(s, &out, &n_tokens, &in_token);
        if (!is_word_char(cp)) {
            i += n;
            continue;
        }
        if (!in_token) {
            reserve(s->host, (void **)&s->tokens, &s->tokens_cap, n_tokens + 1, sizeof *s->tokens);
            s->tokens[n_tokens] = (struct tf_token){.start = out};
            s->norm[out++] = '<';
            in_token = 1;
        }
        uint32_t folded = o->lowercase ? tf_fold_case(cp) : cp;
        if (folded != cp) {
            out += utf8_encode(folded, s->norm + out);
        } else { /* the original bytes: an invalid byte stays itself */
            memcpy(s->norm + out, in + i, n);
            out += n;
        }
        s->tokens[n_tokens].chars++;
        i += n;
        if (cjk) end_token(s, &out, &n_tokens, &in_token); /* a token of one character */
    }
    end_token(s, &out, &n_tokens, &in_token);
    return n_tokens;
}

/* ---- features ---------------------------------------------------------------- */

static void push(tf_scratch *s, size_t *n, tf_family family, uint64_t hash)
{
    reserve(s->host, (void **)&s->features, &s->features_cap, *n + 1, sizeof *s->features);
    s->features[(*n)++] = (tf_feature){.hash = hash, .family = family, .count = 1};
}

static uint64_t family_start(tf_family f)
{
    return fnv_add(FNV_OFFSET, &family_byte[f], 1);
}

/* The inner bytes of a token (without its markers). */
static const char *token_bytes(const tf_scratch *s, const struct tf_token *t, size_t *len)
{
    *len = t->end - t->start - 2;
    return s->norm + t->start + 1;
}

static void add_words(tf_scratch *s, size_t n_tokens, size_t *n)
{
    for (size_t i = 0; i < n_tokens; i++) {
        size_t len;
        const char *w = token_bytes(s, &s->tokens[i], &len);
        push(s, n, TF_WORD, fmix64(fnv_add(family_start(TF_WORD), w, len)));
    }
}

static void add_bigrams(tf_scratch *s, size_t n_tokens, size_t *n)
{
    for (size_t i = 0; i + 1 < n_tokens; i++) {
        size_t la, lb;
        const char *a = token_bytes(s, &s->tokens[i], &la);
        const char *b = token_bytes(s, &s->tokens[i + 1], &lb);
        uint64_t h = fnv_add(family_start(TF_BIGRAM), a, la);
        h = fnv_add(h, " ", 1); /* never inside a token */
        push(s, n, TF_BIGRAM, fmix64(fnv_add(h, b, lb)));
    }
}

/* Character n-grams of "<token>", n counted in code points: the markers
 * make prefixes and suffixes features of their own (fastText's subwords). */
static void add_char_ngrams(tf_scratch *s, const tf_options *o, size_t n_tokens, size_t *n)
{
    const unsigned char *norm = (const unsigned char *)s->norm;
    for (size_t t = 0; t < n_tokens; t++) {
        const struct tf_token *tok = &s->tokens[t];
        size_t chars = tok->chars + 2;
        reserve(s->host, (void **)&s->offsets, &s->offsets_cap, chars + 1, sizeof *s->offsets);
        size_t c = 0;
        for (size_t i = tok->start; i < tok->end; c++) {
            uint32_t cp;
            s->offsets[c] = (uint32_t)(i - tok->start);
            i += utf8_decode(norm, tok->end, i, &cp);
        }
        s->offsets[c] = (uint32_t)(tok->end - tok->start);
        for (size_t len = (size_t)o->ngram_min; len <= (size_t)o->ngram_max && len <= chars; len++)
            for (size_t i = 0; i + len <= chars; i++) {
                const char *p = s->norm + tok->start + s->offsets[i];
                size_t bytes = s->offsets[i + len] - s->offsets[i];
                push(s, n, TF_CHAR, fmix64(fnv_add(family_start(TF_CHAR), p, bytes)));
            }
    }
}

static int compare_features(const void *pa, const void *pb)
{
    const tf_feature *a = pa, *b = pb;
    if (a->family != b->family) return a->family < b->family ? -1 : 1;
    return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* Sorts the features and merges equal ones into one with a count. */
static size_t count_distinct(tf_feature *f, size_t n)
{
    if (n == 0) return 0;
    qsort(f, n, sizeof *f, compare_features);
    size_t out = 0;
    for (size_t i = 1; i < n; i++) {
        if (f[i].family == f[out].family && f[i].hash == f[out].hash)
            f[out].count++;
        else
            f[++out] = f[i];
    }
    return out + 1;
}

size_t tf_extract(tf_scratch *s, const tf_options *o, const char *text, size_t len,
                  const tf_feature **out)
{
    size_t n_tokens = tokenise(s, o, text, len), n = 0;
    if (o->want[TF_WORD]) add_words(s, n_tokens, &n);
    if (o->want[TF_BIGRAM]) add_bigrams(s, n_tokens, &n);
    if (o->want[TF_CHAR]) add_char_ngrams(s, o, n_tokens, &n);
    *out = s->features;
    return count_distinct(s->features, n);
}
