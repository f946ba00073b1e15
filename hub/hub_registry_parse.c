/*
 * hub_registry_parse.c -- registry URLs, the plain-http policy, Location and
 * Link handling, OCI name grammar and error bodies. URL parsing is libcurl's
 * (curl_url), so the client and its checks agree on what a URL means.
 */
#include "hub_registry_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int hub_url_host_is_loopback(const char *host)
{
    if (!host || !*host) return 0;
    if (strcasecmp(host, "localhost") == 0) return 1;
    if (strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0) return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (host[0] == '[') {
        char inner[64];
        size_t n = strlen(host);
        if (n < 3 || n - 2 >= sizeof inner || host[n - 1] != ']') return 0;
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

/* The parts of an absolute URL that the policy and origin checks look at. */
typedef struct url_parts {
    char *scheme, *host, *port, *path, *query, *fragment, *user, *password;
} url_parts;

static void url_parts_free(url_parts *p)
{
    curl_free(p->scheme);
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->path);
    curl_free(p->query);
    curl_free(p->fragment);
    curl_free(p->user);
    curl_free(p->password);
    memset(p, 0, sizeof *p);
}

/* 0 on success. `default_port`: fill in 80/443 when the URL has none. */
static int url_split(const char *url, int default_port, url_parts *p)
{
    memset(p, 0, sizeof *p);
    CURLU *u = curl_url();
    if (!u) return -1;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) goto done;
    if (curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) != CURLUE_OK) goto done;
    if (curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK) goto done;
    curl_url_get(u, CURLUPART_PORT, &p->port, default_port ? CURLU_DEFAULT_PORT : 0);
    curl_url_get(u, CURLUPART_PATH, &p->path, 0);
    curl_url_get(u, CURLUPART_QUERY, &p->query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &p->fragment, 0);
    curl_url_get(u, CURLUPART_USER, &p->user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &p->password, 0);
    rc = 0;
done:
    curl_url_cleanup(u);
    if (rc) url_parts_free(p);
    return rc;
}

/* A host as the normal form may hold it: a DNS name or IPv4 address
 * ([a-z0-9._-], punycode for IDN) or a bracketed IPv6 address. Percent
 * escapes and other bytes are refused, so the normal form is a fixed point
 * and the loopback check sees what the connection will use. */
static int host_chars_ok(const char *host)
{
    if (host[0] == '[') return strspn(host + 1, "0123456789abcdef:.") == strlen(host) - 2;
    return *host && strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(host);
}

static void lowercase(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int plain_http_refused(const char *what, const char *host, df_error *err)
{
    return df_error_set(err, DF_E_INVALID_INPUT,
                        "%s: plain http to %s is refused (it would send credentials and "
                        "packages in the clear): use https://, or --insecure if you really mean it",
                        what, host);
}

int hub_url_check_policy(const char *url, int insecure, const char *what, df_error *err)
{
    url_parts p;
    if (url_split(url, 0, &p) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: '%s' is not a valid URL", what, url);
    int rc = DF_OK;
    if (strcasecmp(p.scheme, "https") != 0 && strcasecmp(p.scheme, "http") != 0)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "%s: '%s': only http:// and https:// are supported", what, url);
    else if (strcasecmp(p.scheme, "http") == 0 && !insecure && !hub_url_host_is_loopback(p.host))
        rc = plain_http_refused(what, p.host, err);
    url_parts_free(&p);
    return rc;
}

int hub_url_normalize_registry(const char *url, int insecure, char **base_out, df_error *err)
{
    *base_out = NULL;
    if (!url || !*url) return df_error_set(err, DF_E_INVALID_INPUT, "no registry URL given");
    char *full = NULL;
    int guessed = strstr(url, "://") == NULL;
    if (guessed && asprintf(&full, "https://%s", url) < 0) abort();
    url_parts p;
    int rc = DF_OK;
    if (url_split(guessed ? full : url, 0, &p) != 0) {
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry URL '%s' does not parse (expected http://host:port or "
                          "https://host)",
                          url);
        goto out;
    }
    lowercase(p.scheme);
    lowercase(p.host);
    /* guessed: http for loopback (a local test registry), else https */
    const char *scheme = guessed && hub_url_host_is_loopback(p.host) ? "http" : p.scheme;
    /* A pasted ".../v2/" is the API root, not a path prefix: accept it. */
    int path_ok = !p.path || !strcmp(p.path, "/") || !strcmp(p.path, "") ||
                  !strcmp(p.path, "/v2") || !strcmp(p.path, "/v2/");
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry URL '%s': only http:// and https:// are supported", url);
    else if (strchr(url, '%') || !host_chars_ok(p.host))
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry URL '%s': '%s' is not a host name (letters, digits, '.', '-'; "
                          "IDN names in punycode) or [IPv6] address",
                          url, p.host);
    else if (p.user || p.password)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry URL '%s' carries credentials: give them to docflow-hub login "
                          "instead",
                          url);
    else if (!path_ok || p.query || p.fragment)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry URL '%s': a registry is addressed by scheme://host[:port] only "
                          "(no path, query or fragment)",
                          url);
    else if (!strcmp(scheme, "http") && !insecure && !hub_url_host_is_loopback(p.host))
        rc = plain_http_refused("registry", p.host, err);
    if (rc != DF_OK) goto out;
    int default_port = p.port && ((!strcmp(scheme, "http") && !strcmp(p.port, "80")) ||
                                  (!strcmp(scheme, "https") && !strcmp(p.port, "443")));
    if (p.port && !default_port) {
        if (asprintf(base_out, "%s://%s:%s", scheme, p.host, p.port) < 0) abort();
    } else if (asprintf(base_out, "%s://%s", scheme, p.host) < 0) {
        abort();
    }
out:
    url_parts_free(&p);
    free(full);
    return rc;
}

int hub_url_same_origin(const char *a, const char *b)
{
    url_parts pa, pb;
    if (url_split(a, 1, &pa) != 0) return 0;
    if (url_split(b, 1, &pb) != 0) {
        url_parts_free(&pa);
        return 0;
    }
    int same = !strcasecmp(pa.scheme, pb.scheme) && !strcasecmp(pa.host, pb.host) && pa.port &&
               pb.port && !strcmp(pa.port, pb.port);
    url_parts_free(&pa);
    url_parts_free(&pb);
    return same;
}

char *hub_url_resolve(const char *base, const char *ref)
{
    CURLU *u = curl_url();
    if (!u) return NULL;
    char *out = NULL, *got = NULL;
    /* curl_url_set resolves a relative URL against the one already held. */
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
        out = strdup(got);
    curl_free(got);
    curl_url_cleanup(u);
    return out;
}

char *hub_url_append_query(const char *url, const char *param)
{
    size_t n = strcspn(url, "#");
    const char *q = memchr(url, '?', n);
    const char *sep = !q ? "?" : (url[n - 1] == '?' || url[n - 1] == '&') ? "" : "&";
    char *out = NULL;
    if (asprintf(&out, "%.*s%s%s", (int)n, url, sep, param) < 0) abort();
    return out;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Reads a Link parameter value (token or quoted string) into out; returns the
 * position after it. */
static const char *link_param_value(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\' && s[1]) s++;
            if (n + 1 < cap) out[n++] = *s;
        }
        if (*s == '"') s++;
    } else {
        for (; *s && *s != ';' && *s != ',' && *s != ' ' && *s != '\t'; s++)
            if (n + 1 < cap) out[n++] = *s;
    }
    out[n] = '\0';
    return s;
}

/* 1 when the space-separated relation list contains "next". */
static int rel_has_next(const char *rels)
{
    const char *s = rels;
    while (*s) {
        s = skip_space(s);
        size_t len = strcspn(s, " \t");
        if (len == 4 && strncasecmp(s, "next", 4) == 0) return 1;
        s += len;
    }
    return 0;
}

char *hub_link_next(const char *link)
{
    const char *s = link;
    while (s && *s) {
        s = skip_space(s);
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s != '<') return NULL;
        const char *end = strchr(s, '>');
        if (!end) return NULL;
        const char *target = s + 1;
        size_t target_len = (size_t)(end - target);
        int is_next = 0;
        s = end + 1;
        while (*(s = skip_space(s)) == ';') {
            s = skip_space(s + 1);
            size_t klen = strcspn(s, "=;, \t");
            int is_rel = klen == 3 && strncasecmp(s, "rel", 3) == 0;
            s = skip_space(s + klen);
            char value[128] = "";
            if (*s == '=') s = link_param_value(skip_space(s + 1), value, sizeof value);
            if (is_rel && rel_has_next(value)) is_next = 1;
        }
        if (is_next) return strndup(target, target_len);
        if (*s && *s != ',') return NULL;
    }
    return NULL;
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*; returns its length
 * or 0 when it is not one. */
static size_t repo_component(const char *s)
{
    size_t i = 0;
    if (!is_lower_alnum(s[i])) return 0;
    while (is_lower_alnum(s[i]))
        i++;
    while (s[i] && s[i] != '/') {
        if (s[i] == '.')
            i++;
        else if (s[i] == '_')
            i += s[i + 1] == '_' ? 2 : 1;
        else if (s[i] == '-')
            while (s[i] == '-')
                i++;
        else
            return 0;
        if (!is_lower_alnum(s[i])) return 0;
        while (is_lower_alnum(s[i]))
            i++;
    }
    return i;
}

int hub_oci_repo_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 255) return 0;
    const char *s = name;
    for (;;) {
        size_t n = repo_component(s);
        if (!n) return 0;
        s += n;
        if (!*s) return 1;
        s++; /* the '/' */
    }
}

int hub_oci_tag_valid(const char *tag)
{
    if (!tag) return 0;
    size_t n = strlen(tag);
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        int ok = isalnum((unsigned char)c) || c == '_' || (i > 0 && (c == '.' || c == '-'));
        if (!ok) return 0;
    }
    return 1;
}

int hub_registry_error_parse(const char *body, size_t len, char *code, size_t code_cap,
                             char *message, size_t message_cap)
{
    if (code_cap) code[0] = '\0';
    if (message_cap) message[0] = '\0';
    if (!body || !len) return 0;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!root) return 0;
    json_t *first = json_array_get(json_object_get(root, "errors"), 0);
    const char *c = json_string_value(json_object_get(first, "code"));
    const char *m = json_string_value(json_object_get(first, "message"));
    if (c && code_cap) snprintf(code, code_cap, "%s", c);
    if (m && message_cap) snprintf(message, message_cap, "%s", m);
    json_decref(root);
    return c != NULL;
}
