/*
 * test_hub_store.c -- the local OCI store: layout, import of verified
 * packages, immutable versions, resolution, digests checked on every read
 * (a corrupted blob is detected), unpacking, removal with garbage
 * collection, foreign index entries, hub_resolve_uses, and the
 * reproducible tarball writer the packages come from.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/executor.h"
#include "hub_extract.h"
#include "hub_pack.h"
#include "hub_package.h"
#include "hub_store.h"

static char home[PATH_MAX];
static df_arena *arena;

static int setup(void)
{
    snprintf(home, sizeof home, "/tmp/test_hub_store.XXXXXX");
    if (!mkdtemp(home)) return 1;
    setenv("DOCFLOW_HOME", home, 1);
    arena = df_arena_new(0);
    return 0;
}

static int teardown(void)
{
    hub_remove_tree(home, NULL);
    df_arena_free(arena);
    return 0;
}

static const char *at(const char *rel)
{
    return df_arena_printf(arena, "%s/%s", home, rel);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

enum { PLAIN = 0, TAMPERED = 1, EXTRA_FILE = 2 };

/* A package tarball of a fake executor (the store never loads the .so). */
static const char *make_package(const char *version, const char *abi, const char *so, int how)
{
    static const char config[] = "jtype: Fake\nmetas: {library: lib/fake.so}\n";
    hub_manifest m = {0};
    char platform[128];
    hub_host_platform(platform, sizeof platform);
    m.ns = "alice";
    m.name = "fake";
    m.version = version;
    m.description = m.license = m.url = "";
    m.platform = df_arena_strdup(arena, platform);
    m.library = "lib/fake.so";
    m.has_abi = 1;
    sscanf(abi, "%u.%u", &m.abi_major, &m.abi_minor);
    static const char *const endpoints[] = {"/index"};
    hub_executor_info ex = {"Fake", "", "", (const char **)endpoints, 1, 1};
    m.executors = &ex;
    m.n_executors = 1;
    hub_digest d;
    hub_digest_buffer(config, strlen(config), &d);
    hub_manifest_set_file(arena, &m, "config.yml", d.s);
    hub_digest_buffer(so, strlen(so), &d);
    hub_manifest_set_file(arena, &m, "lib/fake.so", d.s);
    df_buf yaml = DF_BUF_INIT;
    hub_manifest_write_yaml(&m, &yaml);
    const char *packed_so = how == TAMPERED ? "tampered" : so;
    hub_pack_entry e[] = {{"config.yml", NULL, config, strlen(config)},
                          {"lib/fake.so", NULL, packed_so, strlen(packed_so)},
                          {"manifest.yml", NULL, yaml.data, yaml.len},
                          {"data/unlisted", NULL, "x", 1}};
    const char *path = df_arena_printf(arena, "%s/fake-%s-%d.tar.gz", home, version, how);
    CU_ASSERT_EQUAL(hub_pack_write(path, e, how == EXTRA_FILE ? 4 : 3, NULL), DF_OK);
    df_buf_free(&yaml);
    return path;
}

static int import(hub_store *s, const char *tarball, int force, int *unchanged, df_error *err)
{
    hub_store_entry e;
    int dummy;
    return hub_package_import(s, arena, tarball, NULL, force, NULL, NULL, &e, NULL,
                              unchanged ? unchanged : &dummy, err);
}

static hub_ident ident(const char *text)
{
    hub_ident id;
    CU_ASSERT_EQUAL(hub_ident_parse(text, &id, NULL), DF_OK);
    return id;
}

static void test_open_creates_an_oci_layout(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(access(at("hub/oci-layout"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("hub/index.json"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("hub/blobs/sha256"), F_OK), 0);
    hub_store_entry *entries;
    size_t n;
    CU_ASSERT_EQUAL(hub_store_list(s, &entries, &n, &err), DF_OK);
    CU_ASSERT_EQUAL(n, 0);
    free(entries);
    hub_store_close(s);
    CU_ASSERT_STRING_EQUAL(hub_home(arena), home);
}

static void test_import_stores_and_unpacks_a_verified_package(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int unchanged = -1;
    CU_ASSERT_EQUAL_FATAL(
        import(s, make_package("1.0.0", "1.0", "so-1.0.0", PLAIN), 0, &unchanged, &err), DF_OK);
    CU_ASSERT_EQUAL(unchanged, 0);
    hub_ident id = ident("alice/fake:1.0.0");
    hub_store_entry e;
    CU_ASSERT_EQUAL_FATAL(hub_store_resolve(s, &id, 0, &e, &err), DF_OK);
    hub_store_package p;
    CU_ASSERT_EQUAL_FATAL(hub_store_load(s, arena, &e, 1, &p, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(p.manifest->executors[0].jtype, "Fake");
    const char *dir;
    CU_ASSERT_EQUAL(hub_store_unpack(s, arena, &p, &dir, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(dir, at("executors/alice/fake/1.0.0"));
    CU_ASSERT_EQUAL(access(at("executors/alice/fake/1.0.0/lib/fake.so"), F_OK), 0);
    CU_ASSERT_EQUAL(access(at("executors/alice/fake/1.0.0/.docflow-hub.json"), F_OK), 0);
    hub_store_package_free(&p);
    CU_ASSERT_EQUAL(count_entries(at("tmp/hub")), 0);
    hub_store_close(s);
}

static void test_versions_are_immutable_unless_forced(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int unchanged = -1;
    CU_ASSERT_EQUAL(import(s, make_package("1.0.0", "1.0", "so-1.0.0", PLAIN), 0, &unchanged, &err),
                    DF_OK);
    CU_ASSERT_EQUAL(unchanged, 1);
    const char *other = make_package("1.0.0", "1.0", "other bytes", PLAIN);
    CU_ASSERT_EQUAL(import(s, other, 0, NULL, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "already in the local store with other content"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--force"));
    CU_ASSERT_EQUAL(import(s, other, 1, &unchanged, &err), DF_OK);
    CU_ASSERT_EQUAL(unchanged, 0);
    hub_ident id = ident("alice/fake:1.0.0");
    hub_store_entry e;
    hub_store_package p;
    CU_ASSERT_EQUAL(hub_store_resolve(s, &id, 0, &e, &err), DF_OK);
    CU_ASSERT_EQUAL_FATAL(hub_store_load(s, arena, &e, 1, &p, &err), DF_OK);
    const char *dir;
    CU_ASSERT_EQUAL(hub_store_unpack(s, arena, &p, &dir, &err), DF_OK); /* replaces the old */
    FILE *f = fopen(at("executors/alice/fake/1.0.0/lib/fake.so"), "r");
    char buf[32] = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(fgets(buf, sizeof buf, f) != NULL);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "other bytes");
    hub_store_package_free(&p);
    hub_store_close(s);
}

static void test_resolution_picks_the_newest_match(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const char *versions[] = {"1.2.0", "1.10.0", "1.9.9", "2.0.0-rc.1", "0.5.0"};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(
            import(s, make_package(versions[i], "1.0", versions[i], PLAIN), 0, NULL, &err), DF_OK);
    static const struct {
        const char *id;
        int pre;
        const char *want;
    } cases[] = {
        {"alice/fake:1", 0, "1.10.0"},          {"alice/fake", 0, "1.10.0"},
        {"alice/fake:latest", 0, "1.10.0"},     {"alice/fake:1.9", 0, "1.9.9"},
        {"alice/fake:0", 0, "0.5.0"},           {"alice/fake:2", 1, "2.0.0-rc.1"},
        {"alice/fake:latest", 1, "2.0.0-rc.1"}, {"alice/fake:2.0.0-rc.1", 0, "2.0.0-rc.1"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hub_ident id = ident(cases[i].id);
        hub_store_entry e;
        CU_ASSERT_EQUAL(hub_store_resolve(s, &id, cases[i].pre, &e, &err), DF_OK);
        CU_ASSERT_STRING_EQUAL(e.version, cases[i].want);
    }
    hub_ident two = ident("alice/fake:2");
    hub_store_entry e;
    CU_ASSERT_EQUAL(hub_store_resolve(s, &two, 0, &e, &err), DF_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only pre-releases match"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1.10.0"));
    hub_ident nobody = ident("bob/none");
    CU_ASSERT_EQUAL(hub_store_resolve(s, &nobody, 0, &e, &err), DF_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bob/none is not in the local store"));
    /* a digest pins one version */
    hub_ident one = ident("alice/fake:1.9.9");
    CU_ASSERT_EQUAL(hub_store_resolve(s, &one, 0, &e, &err), DF_OK);
    hub_ident pinned = ident(df_arena_printf(arena, "alice/fake@%s", e.manifest.digest.s));
    hub_store_entry by_digest;
    CU_ASSERT_EQUAL(hub_store_resolve(s, &pinned, 0, &by_digest, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(by_digest.version, "1.9.9");
    hub_ident wrong = ident(df_arena_printf(arena, "alice/fake:2@%s", e.manifest.digest.s));
    CU_ASSERT_EQUAL(hub_store_resolve(s, &wrong, 0, &by_digest, &err), DF_E_NOT_FOUND);
    hub_store_close(s);
}

static void flip_a_byte(const char *path)
{
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
}

static void test_a_corrupted_blob_is_detected(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    hub_ident id = ident("alice/fake:1.2.0");
    hub_store_entry e;
    hub_store_package p;
    CU_ASSERT_EQUAL_FATAL(hub_store_resolve(s, &id, 0, &e, &err), DF_OK);
    CU_ASSERT_EQUAL_FATAL(hub_store_load(s, arena, &e, 1, &p, &err), DF_OK);
    char layer[PATH_MAX];
    hub_store_blob_path(s, p.oci.layer.digest.s, layer, sizeof layer);
    hub_store_package_free(&p);
    flip_a_byte(layer);
    CU_ASSERT_EQUAL(hub_store_load(s, arena, &e, 1, &p, &err), DF_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the local store is corrupted"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, layer));
    /* without the layer check the manifest still loads, but unpacking refuses */
    CU_ASSERT_EQUAL_FATAL(hub_store_load(s, arena, &e, 0, &p, &err), DF_OK);
    const char *dir;
    CU_ASSERT_EQUAL(hub_store_unpack(s, arena, &p, &dir, &err), DF_E_IO);
    CU_ASSERT_EQUAL(access(at("executors/alice/fake/1.2.0"), F_OK), -1);
    hub_store_package_free(&p);
    char manifest[PATH_MAX];
    hub_store_blob_path(s, e.manifest.digest.s, manifest, sizeof manifest);
    flip_a_byte(manifest);
    CU_ASSERT_EQUAL(hub_store_load(s, arena, &e, 0, &p, &err), DF_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not match its digest"));
    hub_store_close(s);
}

static void test_remove_and_gc_drop_only_unreferenced_blobs(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    hub_ident id = ident("alice/fake:1.2.0"); /* corrupted above: removal must still work */
    hub_store_entry e;
    CU_ASSERT_EQUAL_FATAL(hub_store_resolve(s, &id, 0, &e, &err), DF_OK);
    int before = count_entries(at("hub/blobs/sha256"));
    CU_ASSERT_EQUAL(hub_store_remove_entry(s, &e, &err), DF_OK);
    CU_ASSERT_EQUAL(hub_store_remove_entry(s, &e, &err), DF_E_NOT_FOUND);
    CU_ASSERT_EQUAL(hub_store_gc(s, &err), DF_OK);
    CU_ASSERT_EQUAL(count_entries(at("hub/blobs/sha256")), before - 3);
    hub_ident other = ident("alice/fake:1.0.0");
    hub_store_package p;
    CU_ASSERT_EQUAL(hub_store_resolve(s, &other, 0, &e, &err), DF_OK);
    CU_ASSERT_EQUAL(hub_store_load(s, arena, &e, 1, &p, &err), DF_OK);
    hub_store_package_free(&p);
    CU_ASSERT_EQUAL(hub_store_remove_entry(s, &e, &err), DF_OK);
    CU_ASSERT_EQUAL(hub_store_gc(s, &err), DF_OK);
    CU_ASSERT_EQUAL(access(at("executors/alice/fake/1.0.0"), F_OK), -1); /* unpacked: gone */
    hub_store_close(s);
}

static void test_foreign_index_entries_are_kept_and_skipped(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    hub_store_entry *entries;
    size_t n;
    CU_ASSERT_EQUAL(hub_store_list(s, &entries, &n, &err), DF_OK);
    size_t ours = n;
    free(entries);
    /* what skopeo copy oci:DIR:1.0.0 would add: a bare tag as ref name */
    FILE *f = fopen(at("hub/index.json"), "r");
    char text[8192] = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    char *end = strrchr(text, ']');
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    const char *foreign = ",{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                          "\"digest\":\"sha256:0000000000000000000000000000000000000000000000000"
                          "000000000000000\",\"size\":3,\"annotations\":{\"org.opencontainers."
                          "image.ref.name\":\"1.0.0\"}}]}";
    snprintf(end, sizeof text - (size_t)(end - text), "%s", foreign);
    (void)len;
    f = fopen(at("hub/index.json"), "w");
    fputs(text, f);
    fclose(f);
    CU_ASSERT_EQUAL(hub_store_list(s, &entries, &n, &err), DF_OK);
    CU_ASSERT_EQUAL(n, ours);
    free(entries);
    CU_ASSERT_EQUAL(import(s, make_package("3.0.0", "1.0", "three", PLAIN), 0, NULL, &err), DF_OK);
    f = fopen(at("hub/index.json"), "r");
    len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"org.opencontainers.image.ref.name\":\"1.0.0\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "\"org.opencontainers.image.ref.name\":\"alice/fake:3.0.0\""));
    hub_store_close(s);
}

static void test_bad_packages_leave_nothing_in_the_store(void)
{
    df_error err = DF_ERROR_INIT;
    hub_store *s = hub_store_open(home, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int blobs = count_entries(at("hub/blobs/sha256"));
    CU_ASSERT_EQUAL(import(s, make_package("4.0.0", "1.0", "x", TAMPERED), 0, NULL, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lib/fake.so has sha256:"));
    CU_ASSERT_EQUAL(import(s, make_package("4.0.0", "1.0", "x", EXTRA_FILE), 0, NULL, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "data/unlisted is in the archive but not in"));
    char abi[16];
    snprintf(abi, sizeof abi, "%d.%d", DF_ABI_MAJOR, DF_ABI_MINOR + 1);
    CU_ASSERT_EQUAL(import(s, make_package("4.0.0", abi, "x", PLAIN), 0, NULL, &err),
                    DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, abi));
    CU_ASSERT_EQUAL(count_entries(at("hub/blobs/sha256")), blobs);
    CU_ASSERT_EQUAL(count_entries(at("tmp/hub")), 0);
    hub_ident id = ident("alice/fake:4.0.0");
    hub_store_entry e;
    CU_ASSERT_EQUAL(hub_store_resolve(s, &id, 0, &e, &err), DF_E_NOT_FOUND);
    hub_store_close(s);
}

static void test_resolve_uses_returns_the_unpacked_config(void)
{
    df_error err = DF_ERROR_INIT;
    const char *path = hub_resolve_uses(arena, "hub://alice/fake:3", NULL, "never", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_STRING_EQUAL(path, at("executors/alice/fake/3.0.0/config.yml"));
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    CU_ASSERT_PTR_NOT_NULL(hub_resolve_uses(arena, "hub://alice/fake", NULL, NULL, &err));
    CU_ASSERT_PTR_NULL(hub_resolve_uses(arena, "hub://alice/fake:9", NULL, "missing", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "uses: hub://alice/fake:9"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no registry to pull from"));
    CU_ASSERT_PTR_NULL(hub_resolve_uses(arena, "alice/fake", NULL, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hub://namespace/name"));
    CU_ASSERT_PTR_NULL(hub_resolve_uses(arena, "hub://Alice/fake", NULL, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lowercase"));
    CU_ASSERT_PTR_NULL(hub_resolve_uses(arena, "hub://alice/fake", NULL, "sometimes", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing (default), always or never"));
    CU_ASSERT_PTR_NULL(hub_resolve_uses(arena, "hub://alice/fake", NULL, "always", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs a registry"));
}

static void test_packing_is_reproducible(void)
{
    hub_pack_entry a[] = {{"b.txt", NULL, "bee", 3}, {"a.txt", NULL, "ay", 2}};
    hub_pack_entry b[] = {{"a.txt", NULL, "ay", 2}, {"b.txt", NULL, "bee", 3}};
    const char *one = at("one.tar.gz"), *two = at("two.tar.gz");
    CU_ASSERT_EQUAL(hub_pack_write(one, a, 2, NULL), DF_OK);
    sleep(1); /* a clock in the output would show now */
    CU_ASSERT_EQUAL(hub_pack_write(two, b, 2, NULL), DF_OK);
    hub_digest d1, d2;
    CU_ASSERT_EQUAL(hub_digest_file(one, &d1, NULL, NULL), DF_OK);
    CU_ASSERT_EQUAL(hub_digest_file(two, &d2, NULL, NULL), DF_OK);
    CU_ASSERT_STRING_EQUAL(d1.s, d2.s);
    unsigned char header[10];
    FILE *f = fopen(one, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fread(header, 1, 10, f), 10);
    fclose(f);
    CU_ASSERT_EQUAL(header[0], 0x1f);
    CU_ASSERT_EQUAL(header[3] & 0x08, 0);                              /* no file name */
    CU_ASSERT_EQUAL(header[4] | header[5] | header[6] | header[7], 0); /* no timestamp */
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_store", setup, teardown);
    CU_add_test(s, "open creates an OCI layout", test_open_creates_an_oci_layout);
    CU_add_test(s, "import stores and unpacks", test_import_stores_and_unpacks_a_verified_package);
    CU_add_test(s, "versions are immutable", test_versions_are_immutable_unless_forced);
    CU_add_test(s, "resolution", test_resolution_picks_the_newest_match);
    CU_add_test(s, "corrupted blob detected", test_a_corrupted_blob_is_detected);
    CU_add_test(s, "remove and gc", test_remove_and_gc_drop_only_unreferenced_blobs);
    CU_add_test(s, "foreign index entries", test_foreign_index_entries_are_kept_and_skipped);
    CU_add_test(s, "bad packages leave nothing", test_bad_packages_leave_nothing_in_the_store);
    CU_add_test(s, "hub_resolve_uses", test_resolve_uses_returns_the_unpacked_config);
    CU_add_test(s, "packing is reproducible", test_packing_is_reproducible);
}
