/*
 * hub_ident.c -- identifiers, semantic versions, version specs and tags.
 *
 * Everything is validated here, locally, because a registry answers a bad
 * name or tag with a bare 404 page (oci-registry.md, gotcha 9): the user
 * must learn what is wrong from us, with the grammar beside it.
 */
#include "hub_ident.h"

#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_lower_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

static int is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* ---- semver ---------------------------------------------------------------- */

/* A numeric identifier [0-9]+ without leading zeros, fitting uint64. */
static int parse_number(const char *s, size_t len, uint64_t *out, const char *what, df_error *err)
{
    if (len == 0) return df_error_set(err, DF_E_INVALID_INPUT, "the %s number is missing", what);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return df_error_set(err, DF_E_INVALID_INPUT, "the %s number '%.*s' is not a number",
                                what, (int)len, s);
        if (v > (UINT64_MAX - 9) / 10)
            return df_error_set(err, DF_E_INVALID_INPUT, "the %s number '%.*s' is too large", what,
                                (int)len, s);
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (len > 1 && s[0] == '0')
        return df_error_set(err, DF_E_INVALID_INPUT, "the %s number '%.*s' has a leading zero",
                            what, (int)len, s);
    *out = v;
    return DF_OK;
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i])) return 0;
    return 1;
}

/* Dot-separated non-empty [0-9A-Za-z-]+ identifiers; in a pre-release a
 * numeric identifier must not have a leading zero. */
static int check_dotted(const char *s, const char *what, int numeric_rule, df_error *err)
{
    if (!*s) return df_error_set(err, DF_E_INVALID_INPUT, "the %s is empty", what);
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t len = (size_t)(p - start);
            if (len == 0)
                return df_error_set(err, DF_E_INVALID_INPUT, "the %s '%s' has an empty part", what,
                                    s);
            if (numeric_rule && len > 1 && start[0] == '0' && all_digits(start, len))
                return df_error_set(err, DF_E_INVALID_INPUT,
                                    "the %s part '%.*s' has a leading zero", what, (int)len, start);
            if (*p == '\0') return DF_OK;
            start = p + 1;
        } else if (!is_alnum(*p) && *p != '-') {
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "the %s '%s' may hold only [0-9A-Za-z-] and dots", what, s);
        }
    }
}

int hub_semver_parse(const char *s, hub_semver *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return df_error_set(err, DF_E_INVALID_INPUT, "the version is empty");
    size_t len = strlen(s);
    if (len > HUB_VERSION_MAX)
        return df_error_set(err, DF_E_INVALID_INPUT, "the version is longer than %d characters",
                            HUB_VERSION_MAX);
    if (s[0] == 'v' || s[0] == 'V')
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "'%s' is not a semver: drop the leading '%c' (e.g. %s)", s, s[0],
                            s + 1);
    const char *plus = strchr(s, '+');
    size_t core_end = plus ? (size_t)(plus - s) : len;
    const char *dash = memchr(s, '-', core_end);
    size_t nums_end = dash ? (size_t)(dash - s) : core_end;
    const char *dot1 = memchr(s, '.', nums_end);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', nums_end - (size_t)(dot1 + 1 - s)) : NULL;
    if (!dot1 || !dot2)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "'%s' is not a semver: expected MAJOR.MINOR.PATCH (e.g. 1.2.3)", s);
    int rc;
    if ((rc = parse_number(s, (size_t)(dot1 - s), &out->major, "major", err)) ||
        (rc = parse_number(dot1 + 1, (size_t)(dot2 - dot1 - 1), &out->minor, "minor", err)) ||
        (rc = parse_number(dot2 + 1, nums_end - (size_t)(dot2 + 1 - s), &out->patch, "patch", err)))
        return rc;
    if (dash) {
        memcpy(out->pre, dash + 1, core_end - nums_end - 1);
        out->pre[core_end - nums_end - 1] = '\0';
        if ((rc = check_dotted(out->pre, "pre-release", 1, err))) return rc;
    }
    if (plus) {
        snprintf(out->build, sizeof out->build, "%s", plus + 1);
        if ((rc = check_dotted(out->build, "build metadata", 0, err))) return rc;
    }
    return DF_OK;
}

static int compare_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* One pre-release identifier each: numeric ones compare numerically (no
 * leading zeros, so by length first) and rank below alphanumeric ones. */
static int compare_pre_part(const char *a, size_t alen, const char *b, size_t blen)
{
    int an = all_digits(a, alen), bn = all_digits(b, blen);
    if (an && bn) {
        if (alen != blen) return alen < blen ? -1 : 1;
        return memcmp(a, b, alen);
    }
    if (an != bn) return an ? -1 : 1;
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return compare_u64(alen, blen);
}

static int compare_pre(const char *a, const char *b)
{
    if (!*a || !*b) return *a ? -1 : (*b ? 1 : 0); /* a release outranks its pre-releases */
    for (;;) {
        size_t alen = strcspn(a, "."), blen = strcspn(b, ".");
        int c = compare_pre_part(a, alen, b, blen);
        if (c) return c < 0 ? -1 : 1;
        a += alen;
        b += blen;
        if (!*a || !*b) return *a ? 1 : (*b ? -1 : 0); /* more parts rank higher */
        a++;
        b++;
    }
}

int hub_semver_compare(const hub_semver *a, const hub_semver *b)
{
    int c;
    if ((c = compare_u64(a->major, b->major))) return c;
    if ((c = compare_u64(a->minor, b->minor))) return c;
    if ((c = compare_u64(a->patch, b->patch))) return c;
    return compare_pre(a->pre, b->pre);
}

int hub_semver_order(const hub_semver *a, const hub_semver *b)
{
    int c = hub_semver_compare(a, b);
    if (c) return c;
    c = strcmp(a->build, b->build);
    return c < 0 ? -1 : c > 0;
}

void hub_semver_format(const hub_semver *v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%llu.%llu.%llu%s%s%s%s", (unsigned long long)v->major,
             (unsigned long long)v->minor, (unsigned long long)v->patch, *v->pre ? "-" : "", v->pre,
             *v->build ? "+" : "", v->build);
}

/* ---- version specs ----------------------------------------------------------- */

static int parse_prefix(const char *s, hub_version_spec *out, df_error *err)
{
    const char *dot = strchr(s, '.');
    int rc = parse_number(s, dot ? (size_t)(dot - s) : strlen(s), &out->v.major, "major", err);
    if (rc) return rc;
    out->parts = 1;
    if (dot) {
        rc = parse_number(dot + 1, strlen(dot + 1), &out->v.minor, "minor", err);
        if (rc) return rc;
        out->parts = 2;
    }
    out->kind = HUB_VERSION_PREFIX;
    return DF_OK;
}

int hub_version_spec_parse(const char *s, hub_version_spec *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return DF_OK;
    if (strlen(s) > HUB_VERSION_MAX)
        return df_error_set(err, DF_E_INVALID_INPUT, "the version is longer than %d characters",
                            HUB_VERSION_MAX);
    snprintf(out->text, sizeof out->text, "%s", s);
    if (strcmp(s, "latest") == 0) {
        out->kind = HUB_VERSION_LATEST;
        return DF_OK;
    }
    size_t dots = 0;
    for (const char *p = s; *p; p++)
        dots += *p == '.';
    /* "1" and "1.2" are prefixes; anything with a '-' or '+' or two dots
     * must be a full semver. */
    if (dots < 2 && !strpbrk(s, "-+")) return parse_prefix(s, out, err);
    out->kind = HUB_VERSION_EXACT;
    return hub_semver_parse(s, &out->v, err);
}

int hub_version_matches(const hub_version_spec *spec, const hub_semver *v, int allow_prerelease)
{
    if (spec->kind == HUB_VERSION_EXACT) {
        if (hub_semver_compare(&spec->v, v) != 0) return 0;
        return !*spec->v.build || strcmp(spec->v.build, v->build) == 0;
    }
    if (*v->pre && !allow_prerelease) return 0;
    if (spec->kind != HUB_VERSION_PREFIX) return 1;
    if (v->major != spec->v.major) return 0;
    return spec->parts < 2 || v->minor == spec->v.minor;
}

long hub_version_pick(const hub_version_spec *spec, int allow_prerelease,
                      const char *const *versions, size_t n)
{
    long best = -1;
    hub_semver best_v, v;
    for (size_t i = 0; i < n; i++) {
        if (hub_semver_parse(versions[i], &v, NULL) != DF_OK) continue;
        if (!hub_version_matches(spec, &v, allow_prerelease)) continue;
        if (best < 0 || hub_semver_order(&v, &best_v) > 0) {
            best = (long)i;
            best_v = v;
        }
    }
    return best;
}

/* ---- identifiers ------------------------------------------------------------- */

int hub_name_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > HUB_COMPONENT_MAX) return 0;
    int prev_sep = 1; /* no separator first */
    for (const char *p = s; *p; p++) {
        int sep = *p == '.' || *p == '_' || *p == '-';
        if (!sep && !is_lower_alnum(*p)) return 0;
        if (sep && prev_sep) return 0;
        prev_sep = sep;
    }
    return !prev_sep;
}

static int has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') return 1;
    return 0;
}

/* Why a namespace or name is refused, as precisely as we can tell. */
static void explain_component(const char *what, const char *s, char *buf, size_t cap)
{
    if (!*s) {
        snprintf(buf, cap, "the %s is empty", what);
    } else if (strlen(s) > HUB_COMPONENT_MAX) {
        snprintf(buf, cap, "the %s is longer than %d characters", what, HUB_COMPONENT_MAX);
    } else if (has_upper(s)) {
        char lower[HUB_COMPONENT_MAX + 1];
        size_t i = 0;
        for (; s[i] && i < HUB_COMPONENT_MAX; i++)
            lower[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
        lower[i] = '\0';
        snprintf(buf, cap, "the %s '%s' must be lowercase (try '%s')", what, s, lower);
    } else {
        snprintf(buf, cap,
                 "the %s '%s' may hold only a-z, 0-9 and single '.', '_' or '-' between them", what,
                 s);
    }
}

static int is_hexdigest(const char *s)
{
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71) return 0;
    for (s += 7; *s; s++)
        if (!is_digit(*s) && !(*s >= 'a' && *s <= 'f')) return 0;
    return 1;
}

static int looks_like_host(const char *s, size_t len)
{
    return memchr(s, '.', len) || memchr(s, ':', len) ||
           (len == 9 && memcmp(s, "localhost", 9) == 0);
}

/* host[:port] with hostname characters and a port 1..65535. */
static int registry_valid(const char *s)
{
    const char *colon = strchr(s, ':');
    size_t host_len = colon ? (size_t)(colon - s) : strlen(s);
    if (host_len == 0 || host_len > 253) return 0;
    for (size_t i = 0; i < host_len; i++)
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-') return 0;
    if (!colon) return 1;
    uint64_t port;
    if (parse_number(colon + 1, strlen(colon + 1), &port, "port", NULL) != DF_OK) return 0;
    return port >= 1 && port <= 65535;
}

static int bad_ident(df_error *err, const char *s, const char *reason)
{
    return df_error_set(err, DF_E_INVALID_INPUT, "bad identifier '%.*s': %s; %s", HUB_IDENT_MAX, s,
                        reason, HUB_IDENT_GRAMMAR);
}

/* Splits "a/b[/c]" into the registry (when three parts) and ns/name. */
static int split_path(const char *path, hub_ident *out, char *why, size_t cap)
{
    const char *s1 = strchr(path, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1) {
        snprintf(why, cap, "a namespace is required (namespace/name, e.g. alice/%.64s)", path);
        return -1;
    }
    if (s2 && strchr(s2 + 1, '/')) {
        snprintf(why, cap, "too many '/'-separated parts");
        return -1;
    }
    const char *ns = path;
    if (s2) {
        if (!looks_like_host(path, (size_t)(s1 - path))) {
            snprintf(why, cap,
                     "three parts, but '%.*s' is not a registry host (a host has a '.' or a "
                     "':port', or is localhost)",
                     (int)(s1 - path), path);
            return -1;
        }
        snprintf(out->registry, sizeof out->registry, "%.*s", (int)(s1 - path), path);
        if (!registry_valid(out->registry)) {
            snprintf(why, cap, "the registry '%s' is not a host[:port]", out->registry);
            return -1;
        }
        ns = s1 + 1;
        s1 = s2;
    }
    size_t ns_len = (size_t)(s1 - ns), name_len = strlen(s1 + 1);
    if (ns_len > HUB_COMPONENT_MAX || name_len > HUB_COMPONENT_MAX) {
        snprintf(why, cap, "the namespace and the name may have at most %d characters each",
                 HUB_COMPONENT_MAX);
        return -1;
    }
    memcpy(out->ns, ns, ns_len);
    out->ns[ns_len] = '\0';
    memcpy(out->name, s1 + 1, name_len + 1);
    if (!hub_name_valid(out->ns)) {
        explain_component("namespace", out->ns, why, cap);
        return -1;
    }
    if (!hub_name_valid(out->name)) {
        explain_component("name", out->name, why, cap);
        return -1;
    }
    return 0;
}

static int control_or_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return 1;
    return 0;
}

int hub_ident_parse(const char *s, hub_ident *out, df_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return bad_ident(err, "", "it is empty");
    if (strlen(s) > HUB_IDENT_MAX) return bad_ident(err, s, "it is too long");
    if (control_or_space(s)) return bad_ident(err, s, "it holds spaces or control characters");
    char path[HUB_IDENT_MAX + 1];
    snprintf(path, sizeof path, "%s", s);
    char *at = strchr(path, '@');
    if (at) {
        *at = '\0';
        if (!is_hexdigest(at + 1))
            return bad_ident(err, s,
                             "the digest must be sha256: followed by 64 lowercase hex "
                             "digits");
        snprintf(out->digest, sizeof out->digest, "%s", at + 1);
    }
    /* The version follows the last ':' after the last '/', so a registry's
     * ":port" is not mistaken for it. */
    char *slash = strrchr(path, '/');
    char *colon = strrchr(slash ? slash : path, ':');
    char why[512];
    if (colon) {
        *colon = '\0';
        df_error verr = DF_ERROR_INIT;
        if (!colon[1]) return bad_ident(err, s, "the version after ':' is empty");
        if (hub_version_spec_parse(colon + 1, &out->version, &verr) != DF_OK)
            return bad_ident(err, s, verr.msg);
    }
    if (split_path(path, out, why, sizeof why) != 0) return bad_ident(err, s, why);
    return DF_OK;
}

void hub_ident_format(const hub_ident *id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s/%s%s%s%s%s", id->registry, *id->registry ? "/" : "", id->ns,
             id->name, *id->version.text ? ":" : "", id->version.text, *id->digest ? "@" : "",
             id->digest);
}

/* ---- tags ----------------------------------------------------------------------- */

int hub_version_to_tag(const char *version, char *tag, size_t cap, df_error *err)
{
    hub_semver v;
    int rc = hub_semver_parse(version, &v, err);
    if (rc) return rc;
    if (strlen(version) + 1 > cap)
        return df_error_set(err, DF_E_INVALID_INPUT, "version '%s' is too long for a tag", version);
    size_t i = 0;
    for (; version[i]; i++)
        tag[i] = version[i] == '+' ? '_' : version[i];
    tag[i] = '\0';
    return DF_OK;
}

int hub_tag_to_version(const char *tag, char *version, size_t cap)
{
    size_t len = strlen(tag);
    if (len + 1 > cap) return DF_E_INVALID_INPUT;
    for (size_t i = 0; i <= len; i++)
        version[i] = tag[i] == '_' ? '+' : tag[i];
    hub_semver v;
    return hub_semver_parse(version, &v, NULL) == DF_OK ? DF_OK : DF_E_INVALID_INPUT;
}

void hub_registry_url_for_host(const char *host, char *buf, size_t cap)
{
    size_t hl = strcspn(host, ":");
    int loopback = (hl == 9 && strncmp(host, "localhost", 9) == 0) ||
                   strncmp(host, "127.", 4) == 0 || strncmp(host, "[::1]", 5) == 0;
    snprintf(buf, cap, "%s://%s", loopback ? "http" : "https", host);
}
