/*
 * float_format.h -- the shortest decimal digits of a float32, for the JSON
 * codec (internal to libdocflow).
 *
 * Not for doubles, and not for the text itself: json_codec.c lays the
 * digits out (Python's repr notation) and prints doubles.
 */
#ifndef DOCFLOW_FLOAT_FORMAT_H
#define DOCFLOW_FLOAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* The digits * 10^e that the JSON codec prints for af (finite, > 0): the
 * shortest decimal that reads back as af, chosen exactly as the codec's
 * former search chose it (see float_format.c for what that means at the
 * edges). digits may end in zeros. Thread-safe, no allocation. */
__attribute__((visibility("hidden"))) void df_float_shortest(float af, uint64_t *digits, int *e);

/* Test hooks (defined in json_codec.c): the JSON text of a float32 as the
 * codec writes it, and as the former search wrote it (the reference that
 * tests/unit/test_float_format.c and tools/bench/float_format_check.c
 * compare it with). out needs 32 bytes; returns the length, no NUL. */
size_t df_json_format_float(char *out, float f);
size_t df_json_format_float_reference(char *out, float f);

/* The same for the layout alone (digits * 10^e, digits > 0; doubles use it
 * too): as written now, and as written before it placed digits directly. */
size_t df_json_format_decimal(char *out, int neg, uint64_t digits, int e);
size_t df_json_format_decimal_reference(char *out, int neg, uint64_t digits, int e);

#endif
