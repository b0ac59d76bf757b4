/*
 * test_outfile.c: walker/outfile.h never destroys a file (issue 13): a failed or abandoned
 * output leaves the previous file as it was, an output that is an input is refused, special
 * files are written in place and never removed, symbolic links survive.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walker/alloc.h"
#include "walker/outfile.h"

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vtdsim-outfile-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[400];
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

TestSuite(outfile, .init = make_dir, .fini = remove_dir);

static const char *at(const char *name)
{
    static char p[4][256];
    static unsigned next;
    char *s = p[next++ % 4];
    snprintf(s, 256, "%s/%s", dir, name);
    return s;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *get(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s is gone", path);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Files in the folder (a temporary file left behind would be one more). */
static unsigned entries(void)
{
    DIR *d = opendir(dir);
    unsigned n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
    closedir(d);
    return n;
}

Test(outfile, new_file_is_written_and_no_temporary_remains)
{
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("new.txt"), NULL, 0), 0, "%s", o.err);
    fputs("hello\n", o.f);
    cr_assert_eq(access(at("new.txt"), F_OK), -1, "the output appears only when committed");
    cr_assert_eq(vtd_outfile_commit(&o), 0, "%s", o.err);
    cr_assert_str_eq(get(at("new.txt")), "hello\n");
    cr_assert_eq(entries(), 1);
}

Test(outfile, discarded_output_leaves_the_old_file_and_its_mode)
{
    put(at("old.txt"), "old\n");
    chmod(at("old.txt"), 0640);
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("old.txt"), NULL, 0), 0, "%s", o.err);
    fputs("half of the new", o.f);
    vtd_outfile_discard(&o);
    cr_assert_str_eq(get(at("old.txt")), "old\n");
    cr_assert_eq(entries(), 1);

    cr_assert_eq(vtd_outfile_open(&o, at("old.txt"), NULL, 0), 0, "%s", o.err);
    fputs("new\n", o.f);
    cr_assert_eq(vtd_outfile_commit(&o), 0, "%s", o.err);
    struct stat sb;
    cr_assert_eq(stat(at("old.txt"), &sb), 0);
    cr_assert_str_eq(get(at("old.txt")), "new\n");
    cr_assert_eq(sb.st_mode & 0777, 0640, "the replaced file keeps its permissions");
}

Test(outfile, output_that_is_an_input_is_refused_under_any_name)
{
    put(at("in.bin"), "input\n");
    cr_assert_eq(link(at("in.bin"), at("hard.bin")), 0);
    cr_assert_eq(symlink(at("in.bin"), at("soft.bin")), 0);
    const char *inputs[] = {NULL, at("in.bin")};
    const char *names[] = {at("in.bin"), at("hard.bin"), at("soft.bin")};
    for (unsigned i = 0; i < 3; i++) {
        struct vtd_outfile o;
        cr_assert_eq(vtd_outfile_open(&o, names[i], inputs, 2), -EEXIST, "%s", names[i]);
        cr_assert(strstr(o.err, "is the input file"), "%s", o.err);
        cr_assert_null(o.f);
    }
    cr_assert_str_eq(get(at("in.bin")), "input\n");
    cr_assert_eq(entries(), 3);
}

Test(outfile, symbolic_link_keeps_pointing_at_the_new_content)
{
    put(at("target.txt"), "old\n");
    cr_assert_eq(symlink(at("target.txt"), at("link.txt")), 0);
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("link.txt"), NULL, 0), 0, "%s", o.err);
    fputs("new\n", o.f);
    cr_assert_eq(vtd_outfile_commit(&o), 0, "%s", o.err);
    struct stat sb;
    cr_assert_eq(lstat(at("link.txt"), &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link is still a link");
    cr_assert_str_eq(get(at("target.txt")), "new\n");
}

Test(outfile, dangling_link_directory_and_missing_folder_are_refused)
{
    cr_assert_eq(symlink(at("nowhere"), at("dangling")), 0);
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("dangling"), NULL, 0), -ENOENT);
    cr_assert(strstr(o.err, "symbolic link"), "%s", o.err);
    cr_assert_eq(vtd_outfile_open(&o, dir, NULL, 0), -EISDIR);
    cr_assert(strstr(o.err, "is a directory"), "%s", o.err);
    cr_assert_eq(vtd_outfile_open(&o, at("no/such/folder.csv"), NULL, 0), -ENOENT);
    cr_assert(strstr(o.err, "No such file or directory"), "%s", o.err);
    cr_assert_eq(entries(), 1);
}

Test(outfile, fifo_is_written_in_place_and_never_removed)
{
    cr_assert_eq(mkfifo(at("pipe"), 0600), 0);
    int rd = open(at("pipe"), O_RDONLY | O_NONBLOCK); /* a reader, so opening for writing does not block */
    cr_assert_geq(rd, 0);
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("pipe"), NULL, 0), 0, "%s", o.err);
    cr_assert_null(o.tmp);
    fputs("through\n", o.f);
    cr_assert_eq(vtd_outfile_commit(&o), 0, "%s", o.err);
    char buf[16] = {0};
    cr_assert_eq(read(rd, buf, sizeof(buf) - 1), 8);
    cr_assert_str_eq(buf, "through\n");
    cr_assert_eq(vtd_outfile_open(&o, at("pipe"), NULL, 0), 0, "%s", o.err);
    vtd_outfile_discard(&o);
    close(rd);
    struct stat sb;
    cr_assert_eq(lstat(at("pipe"), &sb), 0, "the FIFO survives");
    cr_assert(S_ISFIFO(sb.st_mode));
}

Test(outfile, write_error_on_a_device_is_reported_and_the_device_kept)
{
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, "/dev/full", NULL, 0), 0, "%s", o.err);
    fputs("lost\n", o.f);
    cr_assert_eq(vtd_outfile_commit(&o), -ENOSPC);
    cr_assert(strstr(o.err, "/dev/full: No space left on device"), "%s", o.err);
    struct stat sb;
    cr_assert_eq(stat("/dev/full", &sb), 0);
    cr_assert(S_ISCHR(sb.st_mode));
}

Test(outfile, failed_rename_removes_only_the_temporary_file)
{
    put(at("keep.txt"), "keep\n");
    struct vtd_outfile o;
    cr_assert_eq(vtd_outfile_open(&o, at("keep.txt"), NULL, 0), 0, "%s", o.err);
    fputs("new\n", o.f);
    /* The destination turns into a non-empty directory before the rename: rename must fail. */
    cr_assert_eq(unlink(at("keep.txt")), 0);
    cr_assert_eq(mkdir(at("keep.txt"), 0700), 0);
    put(at("keep.txt/inner"), "inner\n");
    cr_assert_lt(vtd_outfile_commit(&o), 0);
    cr_assert(strstr(o.err, "keep.txt"), "%s", o.err);
    cr_assert_str_eq(get(at("keep.txt/inner")), "inner\n");
    unlink(at("keep.txt/inner"));
    rmdir(at("keep.txt"));
    cr_assert_eq(entries(), 0, "no temporary file left");
}

/* `--json /dev/stdout >log`: the report goes after what the tool printed, into the same file. */
Test(outfile, the_file_stdout_writes_is_appended_to_not_replaced)
{
    int saved = dup(1);
    int fd = open(at("log"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    struct stat before, after;
    cr_assert_eq(fstat(fd, &before), 0);
    dup2(fd, 1);
    close(fd);
    cr_assert_eq(write(1, "printed\n", 8), 8);
    struct vtd_outfile o;
    int rc = vtd_outfile_open(&o, "/dev/stdout", NULL, 0);
    if (!rc) {
        fputs("report\n", o.f);
        rc = vtd_outfile_commit(&o);
    }
    cr_assert_eq(write(1, "more\n", 5), 5);
    dup2(saved, 1);
    close(saved);
    cr_assert_eq(rc, 0, "%s", o.err);
    cr_assert_eq(stat(at("log"), &after), 0);
    cr_assert_eq(after.st_ino, before.st_ino, "the file was replaced");
    cr_assert_str_eq(get(at("log")), "printed\nreport\nmore\n");
    cr_assert_eq(entries(), 1);
}

/* An allocation that fails at any point: a clean error, nothing created, nothing leaked. */
Test(outfile, allocation_failures_create_nothing)
{
    put(at("old.txt"), "old\n");
    cr_assert_eq(symlink(at("old.txt"), at("link.txt")), 0);
    const char *names[] = {at("new.txt"), at("old.txt"), at("link.txt")};
    for (unsigned i = 0; i < 3; i++)
        for (uint64_t nth = 1;; nth++) {
            int64_t live = vtd_alloc_live();
            struct vtd_outfile o;
            vtd_alloc_fail_nth(nth);
            int rc = vtd_outfile_open(&o, names[i], NULL, 0);
            bool delivered = vtd_alloc_fault_delivered();
            vtd_alloc_fail_nth(0);
            if (!delivered) {
                cr_assert_eq(rc, 0, "%s", o.err);
                vtd_outfile_discard(&o);
                cr_assert_eq(vtd_alloc_live(), live);
                break;
            }
            cr_assert_eq(rc, -ENOMEM, "%s: allocation %llu", names[i], (unsigned long long)nth);
            cr_assert(strstr(o.err, "out of memory"), "%s", o.err);
            cr_assert_eq(vtd_alloc_live(), live, "leak after allocation %llu failed", (unsigned long long)nth);
        }
    cr_assert_str_eq(get(at("old.txt")), "old\n");
    cr_assert_eq(entries(), 2);
}

/* The check before a long run: the same refusals as opening, and nothing created or opened. */
Test(outfile, check_refuses_what_open_refuses_and_touches_nothing)
{
    char err[VTD_OUTFILE_ERR_LEN];
    put(at("in.yaml"), "input\n");
    const char *inputs[] = {at("in.yaml")};
    cr_assert_eq(vtd_outfile_check(at("in.yaml"), inputs, 1, err), -EEXIST);
    cr_assert(strstr(err, "is the input file"), "%s", err);
    cr_assert_eq(vtd_outfile_check(dir, NULL, 0, err), -EISDIR);
    cr_assert_eq(vtd_outfile_check(at("no/such/r.json"), NULL, 0, err), -ENOENT);
    cr_assert(strstr(err, "cannot create a file in its folder"), "%s", err);
    cr_assert_eq(vtd_outfile_check(at("new.json"), NULL, 0, err), 0, "%s", err);
    cr_assert_eq(vtd_outfile_check("relative-name.json", NULL, 0, err), 0, "%s", err);
    cr_assert_eq(mkfifo(at("pipe"), 0600), 0);
    cr_assert_eq(vtd_outfile_check(at("pipe"), NULL, 0, err), 0, "a FIFO without a reader does not block: %s", err);
    cr_assert_eq(entries(), 2, "nothing created");
}
