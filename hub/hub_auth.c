/*
 * hub_auth.c -- auth.json (read, atomic locked rewrite), WWW-Authenticate
 * parsing, token responses and the bearer token cache. See hub_auth.h for the
 * file format.
 */
#include "hub_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/log.h"
#include "hub_registry_parse.h"

/* ---------------------------------------------------------------- paths */

static int home_dir(df_buf *out, df_error *err)
{
    const char *home = getenv("DOCFLOW_HOME");
    if (home && *home) {
        df_buf_append_str(out, home);
        return DF_OK;
    }
    home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "cannot tell where auth.json lives: set DOCFLOW_HOME or HOME");
    df_buf_printf(out, "%s/.docflow", home);
    return DF_OK;
}

int hub_auth_file_path(df_buf *out, df_error *err)
{
    int rc = home_dir(out, err);
    if (rc == DF_OK) df_buf_append_str(out, "/auth.json");
    return rc;
}

int hub_auth_key(const char *registry_url, char **key_out, df_error *err)
{
    char *base = NULL;
    *key_out = NULL;
    /* The key names a registry whatever its scheme: no plain-http check here. */
    int rc = hub_url_normalize_registry(registry_url, 1, &base, err);
    if (rc != DF_OK) return rc;
    *key_out = strdup(strstr(base, "://") + 3);
    free(base);
    return DF_OK;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *path, df_error *err)
{
    char *p = strdup(path);
    int rc = DF_OK;
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0') continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = df_error_set(err, DF_E_IO, "cannot create %s: %s", p, strerror(errno));
            break;
        }
        *s = c;
        if (!c) break;
    }
    free(p);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* Loads auth.json into *root (NULL when the file does not exist). */
static int auth_load(const char *path, json_t **root, df_error *err)
{
    *root = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return DF_OK;
        return df_error_set(err, DF_E_IO, "cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        df_log(DF_LOG_WARN, "hub", "%s is readable by other users (mode %04o): chmod 600 %s", path,
               (unsigned)(st.st_mode & 07777), path);
    json_error_t jerr;
    json_t *j = json_loadfd(fd, 0, &jerr);
    close(fd);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s:%d: not a credentials file (%s); fix it or remove it and log in "
                            "again",
                            path, jerr.line, j ? "not a JSON object" : jerr.text);
    }
    *root = j;
    return DF_OK;
}

/* Splits "user:password" (the password may contain ':'). */
static int split_user_password(const char *s, size_t len, char **user, char **password)
{
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s) return -1;
    *user = strndup(s, (size_t)(colon - s));
    *password = strndup(colon + 1, len - (size_t)(colon - s) - 1);
    return 0;
}

/* Reads one "auths" entry: "auth" (base64 user:password) or, as Docker also
 * accepts, plain "username" and "password". */
static int entry_credentials(json_t *entry, char **user, char **password)
{
    const char *b64 = json_string_value(json_object_get(entry, "auth"));
    if (b64 && *b64) {
        char *raw = NULL;
        size_t n = 0;
        int rc = -1;
        if (hub_auth_base64_decode(b64, &raw, &n) == 0)
            rc = split_user_password(raw, n, user, password);
        free(raw);
        return rc;
    }
    const char *u = json_string_value(json_object_get(entry, "username"));
    const char *p = json_string_value(json_object_get(entry, "password"));
    if (!u || !p || !*u) return -1;
    *user = strdup(u);
    *password = strdup(p);
    return 0;
}

int hub_auth_lookup(const char *registry_url, char **username, char **password, int *found,
                    df_error *err)
{
    *username = *password = NULL;
    *found = 0;
    df_buf path = DF_BUF_INIT;
    char *key = NULL;
    json_t *root = NULL;
    int rc = hub_auth_key(registry_url, &key, err);
    if (rc == DF_OK) rc = hub_auth_file_path(&path, err);
    if (rc == DF_OK) rc = auth_load(path.data, &root, err);
    if (rc != DF_OK || !root) goto out;
    json_t *entry = json_object_get(json_object_get(root, "auths"), key);
    if (!entry) goto out;
    if (entry_credentials(entry, username, password) != 0) {
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "%s: the entry of %s is malformed (expected \"auth\": base64 of "
                          "user:password); run docflow-hub login %s again",
                          path.data, key, registry_url);
        goto out;
    }
    *found = 1;
out:
    json_decref(root);
    free(key);
    df_buf_free(&path);
    return rc;
}

/* ---------------------------------------------------------------- writing */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Replaces `path` with `root`: temp file (0600) in the same directory, fsync,
 * rename, fsync of the directory, so a crash leaves the old or the new file,
 * never half of one. */
static int auth_save(const char *dir, const char *path, json_t *root, df_error *err)
{
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    char *tmp = NULL;
    if (!text || asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) abort();
    int rc = DF_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
        write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        rc = df_error_set(err, DF_E_IO, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    free(tmp);
    free(text);
    return rc;
}

/* A read-modify-write of auth.json under an exclusive lock on auth.json.lock,
 * so two logins at once cannot drop each other's entry. `edit` changes root
 * in place. */
typedef int (*auth_edit_fn)(json_t *auths, const char *key, void *ctx, df_error *err);

static int auth_update(const char *registry_url, auth_edit_fn edit, void *ctx, df_error *err)
{
    df_buf dir = DF_BUF_INIT, path = DF_BUF_INIT, lock = DF_BUF_INIT;
    char *key = NULL;
    json_t *root = NULL;
    int lock_fd = -1;
    int rc = hub_auth_key(registry_url, &key, err);
    if (rc == DF_OK) rc = home_dir(&dir, err);
    if (rc == DF_OK) rc = make_dirs(dir.data, err);
    if (rc != DF_OK) goto out;
    df_buf_printf(&path, "%s/auth.json", dir.data);
    df_buf_printf(&lock, "%s/auth.json.lock", dir.data);
    lock_fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        rc = df_error_set(err, DF_E_IO, "cannot lock %s: %s", lock.data, strerror(errno));
        goto out;
    }
    if ((rc = auth_load(path.data, &root, err)) != DF_OK) goto out;
    if (!root) root = json_object();
    json_t *auths = json_object_get(root, "auths");
    if (!json_is_object(auths)) {
        auths = json_object();
        json_object_set_new(root, "auths", auths);
    }
    if ((rc = edit(auths, key, ctx, err)) != DF_OK) goto out;
    rc = auth_save(dir.data, path.data, root, err);
out:
    if (lock_fd >= 0) close(lock_fd); /* releases the lock */
    json_decref(root);
    free(key);
    df_buf_free(&dir);
    df_buf_free(&path);
    df_buf_free(&lock);
    return rc;
}

typedef struct store_ctx {
    const char *username, *password;
} store_ctx;

static int edit_store(json_t *auths, const char *key, void *ctx, df_error *err)
{
    (void)err;
    store_ctx *c = ctx;
    df_buf pair = DF_BUF_INIT;
    df_buf_printf(&pair, "%s:%s", c->username, c->password);
    char *b64 = hub_auth_base64_encode(pair.data, pair.len);
    json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
    free(b64);
    /* the plain text pair must not linger in freed memory longer than needed */
    memset(pair.data, 0, pair.len);
    df_buf_free(&pair);
    return DF_OK;
}

int hub_auth_store(const char *registry_url, const char *username, const char *password,
                   df_error *err)
{
    if (!username || !*username || strchr(username, ':'))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "a user name is required and cannot contain ':'");
    if (!password) return df_error_set(err, DF_E_INVALID_INPUT, "no password given");
    store_ctx c = {username, password};
    return auth_update(registry_url, edit_store, &c, err);
}

static int edit_remove(json_t *auths, const char *key, void *ctx, df_error *err)
{
    const char *url = ctx;
    if (json_object_del(auths, key) != 0)
        return df_error_set(err, DF_E_NOT_FOUND, "not logged in to %s (no entry %s in auth.json)",
                            url, key);
    return DF_OK;
}

int hub_auth_remove(const char *registry_url, df_error *err)
{
    return auth_update(registry_url, edit_remove, (void *)registry_url, err);
}

/* ---------------------------------------------------------------- challenges */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static size_t token_len(const char *s)
{
    return strcspn(s, "=, \t\"");
}

/* Reads a token or quoted-string value; malloc'd in *out. */
static const char *read_value(const char *s, char **out)
{
    df_buf v = DF_BUF_INIT;
    df_buf_append(&v, "", 0);
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\' && s[1]) s++;
            df_buf_append_char(&v, *s);
        }
        if (*s == '"') s++;
    } else {
        size_t n = strcspn(s, ", \t");
        df_buf_append(&v, s, n);
        s += n;
    }
    *out = v.data;
    return s;
}

void hub_auth_challenge_free(hub_auth_challenge *c)
{
    if (!c) return;
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof *c);
}

int hub_auth_challenge_parse(const char *header, hub_auth_challenge *out)
{
    hub_auth_challenge_free(out);
    if (!header) return DF_E_INVALID_INPUT;
    const char *s = skip_ws(header);
    size_t n = token_len(s);
    if (n == 0) return DF_E_INVALID_INPUT;
    if (n == 5 && strncasecmp(s, "Basic", 5) == 0)
        out->scheme = HUB_AUTH_BASIC;
    else if (n == 6 && strncasecmp(s, "Bearer", 6) == 0)
        out->scheme = HUB_AUTH_BEARER;
    else
        out->scheme = HUB_AUTH_OTHER;
    s += n;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s) break;
        size_t klen = token_len(s);
        const char *key = s;
        const char *after = skip_ws(s + klen);
        if (klen == 0 || *after != '=') break; /* the next challenge starts here */
        char *value = NULL;
        s = read_value(skip_ws(after + 1), &value);
        char **slot = NULL;
        if (klen == 5 && !strncasecmp(key, "realm", 5)) slot = &out->realm;
        if (klen == 7 && !strncasecmp(key, "service", 7)) slot = &out->service;
        if (klen == 5 && !strncasecmp(key, "scope", 5)) slot = &out->scope;
        if (klen == 5 && !strncasecmp(key, "error", 5)) slot = &out->error;
        if (slot && !*slot)
            *slot = value;
        else
            free(value);
    }
    return DF_OK;
}

int hub_auth_token_parse(const char *json, size_t len, char **token, long *expires_in,
                         df_error *err)
{
    *token = NULL;
    *expires_in = 60;
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *t = json_string_value(json_object_get(root, "token"));
    if (!t || !*t) t = json_string_value(json_object_get(root, "access_token"));
    int rc = DF_OK;
    if (!t || !*t) {
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "the token server's answer has no \"token\" or \"access_token\"");
    } else {
        *token = strdup(t);
        json_t *e = json_object_get(root, "expires_in");
        if (json_is_integer(e) && json_integer_value(e) > 0)
            *expires_in = (long)json_integer_value(e);
    }
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- token cache */

typedef struct token_entry {
    char *scope;
    char *token;
    double expires_at;
    struct token_entry *next;
} token_entry;

struct hub_auth_tokens {
    token_entry *head;
};

hub_auth_tokens *hub_auth_tokens_new(void)
{
    hub_auth_tokens *t = calloc(1, sizeof *t);
    if (!t) abort();
    return t;
}

void hub_auth_tokens_free(hub_auth_tokens *t)
{
    if (!t) return;
    for (token_entry *e = t->head, *next; e; e = next) {
        next = e->next;
        free(e->scope);
        free(e->token);
        free(e);
    }
    free(t);
}

static token_entry *find_exact(hub_auth_tokens *t, const char *scope)
{
    for (token_entry *e = t->head; e; e = e->next)
        if (strcmp(e->scope, scope) == 0) return e;
    return NULL;
}

const char *hub_auth_tokens_find(hub_auth_tokens *t, const char *scope, double now)
{
    token_entry *e = find_exact(t, scope);
    if (e && e->expires_at > now) return e->token;
    size_t n = strlen(scope);
    if (n < 5 || strcmp(scope + n - 5, ":pull") != 0) return NULL;
    /* "repository:x:pull" is covered by a "repository:x:pull,push" token */
    df_buf wider = DF_BUF_INIT;
    df_buf_printf(&wider, "%.*s:pull,push", (int)(n - 5), scope);
    e = find_exact(t, wider.data);
    df_buf_free(&wider);
    return e && e->expires_at > now ? e->token : NULL;
}

void hub_auth_tokens_put(hub_auth_tokens *t, const char *scope, const char *token,
                         double expires_at)
{
    token_entry *e = find_exact(t, scope);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) abort();
        e->scope = strdup(scope);
        e->next = t->head;
        t->head = e;
    }
    free(e->token);
    e->token = strdup(token);
    e->expires_at = expires_at;
}

/* ---------------------------------------------------------------- base64 */

char *hub_auth_base64_encode(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out) abort();
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

int hub_auth_base64_decode(const char *text, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t n = strlen(text);
    if (n % 4 != 0) return -1;
    size_t pad = 0;
    if (n >= 1 && text[n - 1] == '=') pad++;
    if (n >= 2 && text[n - 2] == '=') pad++;
    unsigned char *buf = malloc(n / 4 * 3 + 1);
    if (!buf) abort();
    int got = n ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n) : 0;
    if (got < 0 || (size_t)got < pad) {
        free(buf);
        return -1;
    }
    *out_len = (size_t)got - pad;
    buf[*out_len] = '\0';
    *out = (char *)buf;
    return 0;
}
