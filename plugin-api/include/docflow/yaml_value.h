/*
 * docflow/yaml_value.h -- YAML (libyaml) to df_value, remembering where each
 * value and each mapping key came from so later checks can say
 * "flow.yml:12:5: ...".
 *
 * Scalars follow YAML 1.1 as PyYAML (and so Jina) reads them:
 *   null      ~, null, Null, NULL, empty
 *   bool      true/false, yes/no, on/off in the spellings x, X, Xxx
 *             ("yes", "Yes", "YES"; "yEs" stays a string)
 *   number    ints 42, +7, 1_000, 0x1F, 0o17, 0b101, 017 (octal, as YAML 1.1),
 *             1:30 (base 60 = 90); floats 1.5, .5, 1.5e-3, .inf, -.inf, .nan.
 *             Also 1e3 and -.5, which PyYAML leaves as strings. All numbers
 *             are doubles (exact up to 2^53).
 *   string    anything else; anything quoted; `!!str x`.
 * Dates stay strings. `!!int`, `!!float`, `!!bool`, `!!null` force a type
 * (an error when the text does not read as it).
 *
 * A mapping tagged `!Name` gets `jtype: Name` as its first key (Jina's
 * `!MyExecutor` form); an empty scalar tagged `!Name` becomes {jtype: Name}.
 * An explicit `jtype:` that disagrees with the tag is an error. Anchors,
 * aliases and `<<` merge keys are resolved (each alias is a copy, so values
 * can be changed independently). Errors: duplicate keys (both positions),
 * keys that are not scalars, more than 1,000,000 nodes counting alias
 * expansions (alias bombs), nesting deeper than 256, other tags.
 *
 * Substitution, on every string scalar (not on keys), as Jina's JAML does
 * (spaces inside the braces are optional: `${{ENV.X}}` works):
 *   ${{ ENV.NAME }} / ${{ env.NAME }}   the environment; unset is an error
 *                                       naming the variable and position
 *   ${{ NAME }} / ${{ CONTEXT.NAME }} / ${{ context.NAME }}
 *                                       a variable from `context` (a map the
 *                                       caller passes); unknown stays literal,
 *                                       as does anything else in ${{ }}
 * Inside a longer string a context value is written as YAML would (3, 0.5,
 * true, null); a list or map there is an error. When the whole scalar is one
 * expression, the result is re-read as a plain scalar (so
 * `replicas: ${{ ENV.N }}` gives a number, an empty value gives null) and a
 * non-string context value is used as is (lists and maps too). This holds
 * for quoted scalars as well, as in Jina, because flow-style YAML
 * (`{port: "${{ ENV.PORT }}"}`) cannot write ${{ unquoted; to keep a string
 * write `!!str "${{ ENV.ZIP }}"`. Substituted text is not scanned again.
 * Jina's old `$VAR` form and `${{ root.x }}` references are not supported
 * (they stay literal).
 */
#ifndef DOCFLOW_YAML_VALUE_H
#define DOCFLOW_YAML_VALUE_H

#include <stddef.h>
#include "docflow/arena.h"
#include "docflow/error.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_yaml df_yaml;

typedef struct df_yaml_pos {
    int line; /* 1-based; 0 when unknown */
    int col;  /* 1-based */
} df_yaml_pos;

/* Parses a file / a string (`name` is used in messages). The first YAML
 * document is used (an empty stream gives a null root). Everything lives in
 * arena `a`, which must outlive the df_yaml; `context` is only read during
 * the call. NULL on error, with "name:line:col: what" in err (a missing
 * file: "cannot open 'path': No such file or directory", DF_E_NOT_FOUND). */
df_yaml *df_yaml_load_file(df_arena *a, const char *path, const df_value *context, df_error *err);
df_yaml *df_yaml_parse(df_arena *a, const char *text, size_t len, const char *name,
                       const df_value *context, df_error *err);
df_value *df_yaml_root(const df_yaml *y);
const char *df_yaml_name(const df_yaml *y);
/* Where a value (any node reachable from the root) starts. */
df_yaml_pos df_yaml_pos_of(const df_yaml *y, const df_value *v);
/* "name:line:col" of a value (or just "name"), in arena memory of y. */
const char *df_yaml_where(const df_yaml *y, const df_value *v);
/* Where the key `key` of `map` (a mapping node of y) is written: for
 * messages about a key itself (unknown, duplicate, misspelt). {0, 0} and
 * "name" when the key is not there. */
df_yaml_pos df_yaml_key_pos(const df_yaml *y, const df_value *map, const char *key);
const char *df_yaml_key_where(const df_yaml *y, const df_value *map, const char *key);

#ifdef __cplusplus
}
#endif
#endif
