/*
 * test_hub_extract.c -- safe extraction: a hostile tarball (built here with
 * libarchive: absolute path, "..", symlink, hard link, devices, FIFO,
 * setuid, oversize, bombs, duplicates) is refused with its reason, nothing
 * is written outside the target, and nothing of a refused run remains.
 */
#include <CUnit/CUnit.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hub_extract.h"

typedef struct test_entry {
    const char *name;
    unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO; 1 = hard link */
    unsigned mode;
    const char *data; /* regular files; link target for links */
} test_entry;

static char work[PATH_MAX]; /* per test: work/in.tar.gz, work/tmp, work/outside */

static void setup_work(void)
{
    snprintf(work, sizeof work, "/tmp/test_hub_extract.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(work));
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/tmp", work);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/outside", work);
    mkdir(p, 0755);
}

static void teardown_work(void)
{
    hub_remove_tree(work, NULL);
}

static const char *path_in(const char *rel)
{
    static char p[4][PATH_MAX + 64];
    static int turn;
    turn = (turn + 1) % 4;
    snprintf(p[turn], sizeof p[turn], "%s/%s", work, rel);
    return p[turn];
}

static void write_tar(const char *path, const test_entry *entries, size_t n)
{
    struct archive *w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    archive_write_add_filter_gzip(w);
    CU_ASSERT_EQUAL_FATAL(archive_write_open_filename(w, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        const test_entry *t = &entries[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->name);
        archive_entry_set_perm(e, t->mode ? t->mode : 0644);
        if (t->type == 1) {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, t->data);
        } else {
            archive_entry_set_filetype(e, t->type);
        }
        if (t->type == AE_IFLNK) archive_entry_set_symlink(e, t->data);
        if (t->type == AE_IFCHR || t->type == AE_IFBLK) archive_entry_set_rdev(e, makedev(1, 3));
        size_t len = t->type == AE_IFREG && t->data ? strlen(t->data) : 0;
        archive_entry_set_size(e, (la_int64_t)len);
        CU_ASSERT(archive_write_header(w, e) >= ARCHIVE_WARN);
        if (len) archive_write_data(w, t->data, len);
        archive_entry_free(e);
    }
    archive_write_close(w);
    archive_write_free(w);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* The tarball is refused by scan and by unpack with `why` in the message,
 * and leaves tmp/ and outside/ empty. */
static void expect_refused(const test_entry *entries, size_t n, const hub_extract_opts *opts,
                           const char *why)
{
    setup_work();
    write_tar(path_in("in.tar.gz"), entries, n);
    hub_extract_opts dflt = HUB_EXTRACT_OPTS_DEFAULT;
    if (!opts) opts = &dflt;
    hub_extract_result r;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(hub_extract_scan(path_in("in.tar.gz"), opts, &r, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    if (!strstr(err.msg, why)) fprintf(stderr, "\n  expected '%s' in: %s\n", why, err.msg);
    hub_extract_result_free(&r);
    df_error_clear(&err);
    CU_ASSERT_EQUAL(hub_extract_unpack(path_in("in.tar.gz"), path_in("tmp"), opts, &r, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    CU_ASSERT_PTR_NULL(r.staging);
    hub_extract_result_free(&r);
    CU_ASSERT_EQUAL(count_entries(path_in("tmp")), 0);     /* nothing remains */
    CU_ASSERT_EQUAL(count_entries(path_in("outside")), 0); /* nothing escaped */
    teardown_work();
}

static const test_entry ok_file = {"config.yml", AE_IFREG, 0644, "jtype: X\n"};

static void test_absolute_path_is_refused(void)
{
    test_entry e[] = {ok_file, {"/tmp/test_hub_extract_abs", AE_IFREG, 0644, "x"}};
    expect_refused(e, 2, NULL, "an absolute path; refused");
    CU_ASSERT_NOT_EQUAL(access("/tmp/test_hub_extract_abs", F_OK), 0);
}

static void test_dotdot_is_refused(void)
{
    test_entry e[] = {ok_file, {"lib/../../outside/evil", AE_IFREG, 0644, "x"}};
    expect_refused(e, 2, NULL, "a '..' part; refused");
    test_entry e2[] = {{"..", AE_IFDIR, 0755, NULL}};
    expect_refused(e2, 1, NULL, "a '..' part");
}

static void test_symlink_is_refused(void)
{
    test_entry e[] = {{"lib", AE_IFLNK, 0777, "../outside"}, {"lib/x", AE_IFREG, 0644, "x"}};
    expect_refused(e, 2, NULL, "a symbolic link (to '../outside')");
}

static void test_hard_link_is_refused(void)
{
    test_entry e[] = {ok_file, {"passwd", 1, 0644, "/etc/passwd"}};
    expect_refused(e, 2, NULL, "a hard link (to '/etc/passwd')");
}

static void test_devices_and_fifos_are_refused(void)
{
    test_entry c[] = {{"null", AE_IFCHR, 0666, NULL}};
    expect_refused(c, 1, NULL, "a character device node");
    test_entry b[] = {{"disk", AE_IFBLK, 0666, NULL}};
    expect_refused(b, 1, NULL, "a block device node");
    test_entry f[] = {{"pipe", AE_IFIFO, 0644, NULL}};
    expect_refused(f, 1, NULL, "a FIFO");
}

static void test_setuid_and_setgid_are_refused(void)
{
    test_entry u[] = {{"lib/tool", AE_IFREG, 04755, "#!/bin/sh\n"}};
    expect_refused(u, 1, NULL, "has the setuid bit (mode 4755)");
    test_entry g[] = {{"lib/tool", AE_IFREG, 02755, "#!/bin/sh\n"}};
    expect_refused(g, 1, NULL, "has the setgid bit");
}

static void test_limits_refuse_oversize_entries_and_bombs(void)
{
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    opts.max_entry_bytes = 8;
    test_entry big[] = {{"data/big", AE_IFREG, 0644, "0123456789"}};
    expect_refused(big, 1, &opts, "10 bytes, over the limit of 8 bytes per file");
    opts = (hub_extract_opts)HUB_EXTRACT_OPTS_DEFAULT;
    opts.max_total_bytes = 12;
    test_entry total[] = {{"a", AE_IFREG, 0644, "0123456"}, {"b", AE_IFREG, 0644, "0123456"}};
    expect_refused(total, 2, &opts, "exceed 12 bytes in total");
    opts = (hub_extract_opts)HUB_EXTRACT_OPTS_DEFAULT;
    opts.max_entries = 2;
    test_entry many[] = {
        {"a", AE_IFREG, 0644, "1"}, {"b", AE_IFREG, 0644, "2"}, {"c", AE_IFREG, 0644, "3"}};
    expect_refused(many, 3, &opts, "more than 2 entries");
    opts = (hub_extract_opts)HUB_EXTRACT_OPTS_DEFAULT;
    opts.capture_max = 4;
    test_entry manifest[] = {{"manifest.yml", AE_IFREG, 0644, "namespace: a\n"}};
    expect_refused(manifest, 1, &opts, "larger than 4 bytes");
}

static void test_duplicates_and_odd_names_are_refused(void)
{
    test_entry dup[] = {ok_file, {"./config.yml", AE_IFREG, 0644, "jtype: Evil\n"}};
    expect_refused(dup, 2, NULL, "appears twice");
    test_entry dot[] = {{"lib/./x.so", AE_IFREG, 0644, "x"}};
    expect_refused(dot, 1, NULL, "an empty or '.' part");
    test_entry ctl[] = {{"a\033[2Jb", AE_IFREG, 0644, "x"}};
    expect_refused(ctl, 1, NULL, "a control character");
    test_entry bs[] = {{"a\\..\\b", AE_IFREG, 0644, "x"}};
    expect_refused(bs, 1, NULL, "backslash");
}

static void test_a_good_tarball_unpacks_with_fixed_modes(void)
{
    setup_work();
    test_entry e[] = {{"./", AE_IFDIR, 0755, NULL},
                      {"./config.yml", AE_IFREG, 0600, "jtype: X\n"},
                      {"lib/", AE_IFDIR, 0700, NULL},
                      {"lib/x.so", AE_IFREG, 0700, "ELF"},
                      {"manifest.yml", AE_IFREG, 0666, "namespace: a\n"},
                      {"data/deep/er/file", AE_IFREG, 0644, ""}};
    write_tar(path_in("in.tar.gz"), e, 6);
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    hub_extract_result r;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(hub_extract_unpack(path_in("in.tar.gz"), path_in("tmp"), &opts, &r, &err),
                          DF_OK);
    CU_ASSERT_EQUAL(r.n_files, 4);
    CU_ASSERT(r.has_captured);
    CU_ASSERT_STRING_EQUAL(r.captured.data, "namespace: a\n");
    const hub_extracted_file *f = hub_extract_find(&r, "config.yml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    hub_digest want;
    hub_digest_buffer("jtype: X\n", 9, &want);
    CU_ASSERT_STRING_EQUAL(f->digest.s, want.s);
    CU_ASSERT_EQUAL(hub_extract_commit(&r, path_in("target/pkg"), &err), DF_OK);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path_in("target/pkg/config.yml"), &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
    CU_ASSERT_EQUAL(stat(path_in("target/pkg/lib/x.so"), &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);
    CU_ASSERT_EQUAL(stat(path_in("target/pkg/data/deep/er/file"), &st), 0);
    CU_ASSERT_EQUAL(count_entries(path_in("tmp")), 0);
    hub_extract_result_free(&r);
    teardown_work();
}

static void test_commit_never_merges_into_an_existing_folder(void)
{
    setup_work();
    test_entry e[] = {ok_file};
    write_tar(path_in("in.tar.gz"), e, 1);
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    hub_extract_result r;
    df_error err = DF_ERROR_INIT;
    mkdir(path_in("target"), 0755);
    FILE *f = fopen(path_in("target/old"), "w");
    if (f) fclose(f);
    CU_ASSERT_EQUAL_FATAL(hub_extract_unpack(path_in("in.tar.gz"), path_in("tmp"), &opts, &r, &err),
                          DF_OK);
    CU_ASSERT_NOT_EQUAL(hub_extract_commit(&r, path_in("target"), &err), DF_OK);
    hub_extract_result_free(&r); /* removes the staging folder */
    CU_ASSERT_EQUAL(count_entries(path_in("tmp")), 0);
    CU_ASSERT_EQUAL(access(path_in("target/config.yml"), F_OK), -1);
    teardown_work();
}

static void test_garbage_and_missing_files_are_errors(void)
{
    setup_work();
    FILE *f = fopen(path_in("junk.tar.gz"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("this is not a tarball at all, not even close", f);
    fclose(f);
    hub_extract_opts opts = HUB_EXTRACT_OPTS_DEFAULT;
    hub_extract_result r;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_NOT_EQUAL(hub_extract_scan(path_in("junk.tar.gz"), &opts, &r, &err), DF_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "junk.tar.gz"));
    hub_extract_result_free(&r);
    CU_ASSERT_EQUAL(hub_extract_unpack(path_in("junk.tar.gz"), path_in("tmp"), &opts, &r, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(count_entries(path_in("tmp")), 0);
    hub_extract_result_free(&r);
    CU_ASSERT_EQUAL(hub_extract_scan(path_in("missing.tar.gz"), &opts, &r, &err), DF_E_NOT_FOUND);
    hub_extract_result_free(&r);
    teardown_work();
}

static void test_remove_tree_does_not_follow_links(void)
{
    setup_work();
    FILE *f = fopen(path_in("outside/keep"), "w");
    if (f) fclose(f);
    mkdir(path_in("tree"), 0755);
    CU_ASSERT_EQUAL(symlink(path_in("outside"), path_in("tree/link")), 0);
    CU_ASSERT_EQUAL(hub_remove_tree(path_in("tree"), NULL), DF_OK);
    CU_ASSERT_EQUAL(access(path_in("tree"), F_OK), -1);
    CU_ASSERT_EQUAL(access(path_in("outside/keep"), F_OK), 0);
    teardown_work();
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("hub_extract", NULL, NULL);
    CU_add_test(s, "absolute path refused", test_absolute_path_is_refused);
    CU_add_test(s, "'..' refused", test_dotdot_is_refused);
    CU_add_test(s, "symlink refused", test_symlink_is_refused);
    CU_add_test(s, "hard link refused", test_hard_link_is_refused);
    CU_add_test(s, "devices and FIFOs refused", test_devices_and_fifos_are_refused);
    CU_add_test(s, "setuid/setgid refused", test_setuid_and_setgid_are_refused);
    CU_add_test(s, "limits", test_limits_refuse_oversize_entries_and_bombs);
    CU_add_test(s, "duplicates and odd names", test_duplicates_and_odd_names_are_refused);
    CU_add_test(s, "good tarball", test_a_good_tarball_unpacks_with_fixed_modes);
    CU_add_test(s, "commit never merges", test_commit_never_merges_into_an_existing_folder);
    CU_add_test(s, "garbage and missing", test_garbage_and_missing_files_are_errors);
    CU_add_test(s, "remove_tree and links", test_remove_tree_does_not_follow_links);
}
