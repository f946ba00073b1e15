/*
 * hub_templates.h -- the files `docflow-hub new` writes, embedded at build
 * time from the .in files of hub/templates/ (hub/embed_templates.cmake). In them,
 * @NAMESPACE@, @NAME@ (my-encoder), @C_NAME@ (my_encoder) and @JTYPE@
 * (MyEncoder) are replaced by hub_template_expand().
 */
#ifndef DOCFLOW_HUB_TEMPLATES_H
#define DOCFLOW_HUB_TEMPLATES_H

#include <stddef.h>

#include "docflow/buf.h"

typedef struct hub_template {
    const char *name; /* "config.yml", "executor.c", "gitignore", ... */
    const char *text;
    size_t len;
} hub_template;

/* Terminated by an entry with name NULL. */
extern const hub_template hub_templates[];

typedef struct hub_template_vars {
    const char *ns, *name, *c_name, *jtype;
} hub_template_vars;

/* Appends the template's text with the variables replaced. */
void hub_template_expand(const hub_template *t, const hub_template_vars *v, df_buf *out);
/* The file a template becomes: executor.c -> <c_name>.c, gitignore ->
 * .gitignore, others keep their name (arena-free: written into buf). */
void hub_template_file_name(const hub_template *t, const hub_template_vars *v, char *buf,
                            size_t cap);
/* my-encoder -> my_encoder and MyEncoder. */
void hub_template_names(const char *name, char *c_name, char *jtype, size_t cap);

#endif
