/*
 * hub_templates.c -- filling in the embedded `docflow-hub new` templates.
 */
#include "hub_templates.h"

#include <stdio.h>
#include <string.h>

static const char *var_value(const hub_template_vars *v, const char *p, size_t *skip)
{
    static const struct {
        const char *key;
        size_t offset;
    } vars[] = {{"@NAMESPACE@", offsetof(hub_template_vars, ns)},
                {"@NAME@", offsetof(hub_template_vars, name)},
                {"@C_NAME@", offsetof(hub_template_vars, c_name)},
                {"@JTYPE@", offsetof(hub_template_vars, jtype)}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        size_t n = strlen(vars[i].key);
        if (strncmp(p, vars[i].key, n) == 0) {
            *skip = n;
            return *(const char *const *)((const char *)v + vars[i].offset);
        }
    }
    return NULL;
}

void hub_template_expand(const hub_template *t, const hub_template_vars *v, df_buf *out)
{
    for (size_t i = 0; i < t->len; i++) {
        size_t skip = 0;
        const char *value = t->text[i] == '@' ? var_value(v, t->text + i, &skip) : NULL;
        if (!value) {
            df_buf_append_char(out, t->text[i]);
            continue;
        }
        df_buf_append_str(out, value);
        i += skip - 1;
    }
}

void hub_template_file_name(const hub_template *t, const hub_template_vars *v, char *buf,
                            size_t cap)
{
    if (strcmp(t->name, "executor.c") == 0)
        snprintf(buf, cap, "%s.c", v->c_name);
    else if (strcmp(t->name, "gitignore") == 0)
        snprintf(buf, cap, ".gitignore");
    else
        snprintf(buf, cap, "%s", t->name);
}

void hub_template_names(const char *name, char *c_name, char *jtype, size_t cap)
{
    /* A C identifier or jtype cannot start with a digit: "_" in front. */
    size_t c = 0, j = 0;
    if (name[0] >= '0' && name[0] <= '9') {
        c_name[c++] = '_';
        jtype[j++] = '_';
    }
    int upper = 1;
    for (const char *p = name; *p && c + 1 < cap && j + 1 < cap; p++) {
        int sep = *p == '-' || *p == '.' || *p == '_';
        c_name[c++] = sep ? '_' : *p;
        if (sep) {
            upper = 1;
            continue;
        }
        jtype[j++] = (char)(upper && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        upper = 0;
    }
    c_name[c] = '\0';
    jtype[j] = '\0';
}
