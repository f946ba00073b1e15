/*
 * utf8.h -- UTF-8 decoding shared by the text executors (Sentencizer,
 * TextEncoder). Header-only, so a plugin still links nothing of docflow.
 */
#ifndef DOCFLOW_PLUGINS_UTF8_H
#define DOCFLOW_PLUGINS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[i] (i < len) and returns its byte length. An
 * invalid, overlong or truncated sequence decodes as its first byte alone,
 * mapped above U+10FFFF so that it never equals a real character. */
static inline size_t utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned c = s[i];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        goto invalid;
    }
    if (n > len - i) goto invalid;
    for (size_t k = 1; k < n; k++) {
        unsigned b = s[i + k];
        if ((b & 0xC0) != 0x80) goto invalid;
        v = (v << 6) | (b & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) goto invalid;
    *cp = v;
    return n;
invalid:
    *cp = 0x110000u + c;
    return 1;
}

#endif
