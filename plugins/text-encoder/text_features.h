/*
 * text_features.h -- turns one text into its distinct hashed features (word
 * unigrams, word bigrams, character n-grams) with their counts. It is the
 * deterministic half of TextEncoder: the same bytes give the same features on
 * every run and machine (FNV-1a 64 with a fixed seed, finished by murmur3's
 * fmix64; no locale, no libc ctype, no pointer values).
 *
 * It does no weighting and knows nothing about embeddings or IDF: see
 * text_encoder.c for those.
 */
#ifndef TEXT_FEATURES_H
#define TEXT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include <docflow/executor.h>

/* Feature families. Each is weighted and normalised on its own by the
 * encoder; the family is also hashed in, so "ab" the word and "ab" the
 * character n-gram are different features. */
typedef enum tf_family {
    TF_WORD = 0,   /* a token */
    TF_BIGRAM = 1, /* two consecutive tokens */
    TF_CHAR = 2,   /* n characters of "<token>" */
    TF_FAMILIES = 3,
} tf_family;

typedef struct tf_feature {
    uint64_t hash;   /* the feature's 64-bit hash; its bits are spent by the encoder */
    uint32_t family; /* a tf_family */
    uint32_t count;  /* occurrences in the text (term frequency) */
} tf_feature;

typedef struct tf_options {
    int lowercase; /* fold case before hashing (see tf_fold_case for the coverage) */
    int ngram_min; /* character n-gram lengths, in code points, 1 <= min <= max */
    int ngram_max;
    int want[TF_FAMILIES]; /* extract this family (the encoder skips zero-weight ones) */
} tf_options;

/* Reusable buffers, owned by one encoder instance (never shared between
 * threads). Zero-initialise, then tf_scratch_free when done. */
typedef struct tf_scratch {
    const df_host *host;
    char *norm; /* the text's tokens, case-folded, each as "<token>" */
    size_t norm_cap;
    struct tf_token *tokens;
    size_t tokens_cap;
    uint32_t *offsets; /* code point byte offsets of one padded token */
    size_t offsets_cap;
    tf_feature *features;
    size_t features_cap;
} tf_scratch;

void tf_scratch_free(tf_scratch *s);

/* Extracts the features of text[0..len) (UTF-8; invalid bytes count as one
 * character each and never split a token). Returns the number of distinct
 * features and points *out at them, sorted by family then hash, valid until
 * the next call. 0 when the text has no word characters. */
size_t tf_extract(tf_scratch *s, const tf_options *o, const char *text, size_t len,
                  const tf_feature **out);

/* The hash of raw bytes as a feature of its own (the encoder's fallback for
 * texts without word characters). */
uint64_t tf_hash_bytes(const char *bytes, size_t len);

/* Lower-cases ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and
 * fullwidth Latin letters; other code points are returned unchanged. A
 * fixed table, not the C library's towlower, so that results never depend
 * on a locale or a libc version. */
uint32_t tf_fold_case(uint32_t cp);

#endif /* TEXT_FEATURES_H */
