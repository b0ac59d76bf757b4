/*
 * fuzz_cli_input.c: the vtdsim command line over arbitrary words (layout and the inputs it
 * skips: fuzz_cli_input.h). The tool's main() is compiled for this target as vtdsim_tool_main
 * (fuzz/CMakeLists.txt), so the real dispatch and every command's parser run unchanged.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fmemopen, mkdtemp, fchdir */
#endif
#include "fuzz_cli_input.h"
#include "fuzz_why.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/gen.h"
#include "walker/number.h"

int vtdsim_tool_main(int argc, char **argv);

/* The files every input finds in the working directory, and how each looked when written. */
struct fc_file {
    const char *name;
    char *data;
    size_t len;
    struct stat st;
};

struct fc_sandbox {
    char dir[64];
    struct fc_file files[4];
    int devnull;
};

static int fc_slurp(const char *path, struct fc_file *f)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return -1;
    size_t cap = 1 << 16;
    f->data = malloc(cap);
    f->len = f->data ? fread(f->data, 1, cap, in) : 0;
    fclose(in);
    return f->data ? 0 : -1;
}

static int fc_spill(struct fc_file *f)
{
    unlink(f->name);
    int fd = open(f->name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, f->data, f->len);
    int rc = w == (ssize_t)f->len && !fstat(fd, &f->st) ? 0 : -1;
    close(fd);
    return rc;
}

/* Whether the file is still the one fc_spill wrote: a command replaces a file by renaming a
 * new one over it (a new inode), and a write in place changes the size or the times. */
static bool fc_unchanged(const struct fc_file *f)
{
    struct stat now;
    return !lstat(f->name, &now) && now.st_ino == f->st.st_ino && now.st_dev == f->st.st_dev &&
           now.st_size == f->st.st_size && now.st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == f->st.st_mtim.tv_nsec && now.st_ctim.tv_sec == f->st.st_ctim.tv_sec &&
           now.st_ctim.tv_nsec == f->st.st_ctim.tv_nsec && now.st_mode == f->st.st_mode;
}

/* The scenario `name` of the source tree's scenarios/ (found next to this file). */
static int fc_scenario(const char *name, struct fc_file *f)
{
    char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    int len = slash ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/../scenarios/%s", len, slash ? __FILE__ : ".", name);
    return fc_slurp(path, f);
}

/* The trace seeds: generated once into the sandbox, kept in memory to restore them. */
static int fc_trace(const char *name, struct fc_file *f)
{
    struct vtrace_gen_params p;
    char err[VTRACE_ERR_LEN];
    vtrace_gen_defaults(&p, VTRACE_GEN_NIC);
    p.count = 16;
    p.ring = 8;
    f->name = name;
    return vtrace_generate_file(&p, name, NULL, err) ? -1 : fc_slurp(name, f);
}

static struct fc_sandbox the_sandbox;

/* At exit: the directory and what the last input left in it. */
static void fc_remove_sandbox(void)
{
    DIR *d = opendir(the_sandbox.dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            char path[sizeof the_sandbox.dir + 256];
            snprintf(path, sizeof path, "%s/%s", the_sandbox.dir, e->d_name);
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(path);
        }
        closedir(d);
    }
    rmdir(the_sandbox.dir);
}

/* Created on first use; lives (with its directory) until the process exits. */
static struct fc_sandbox *fc_sandbox(void)
{
    struct fc_sandbox *sb = &the_sandbox;
    static int state; /* 0: not made, 1: ready, -1: failed */
    if (state)
        return state > 0 ? sb : NULL;
    state = -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(sb->dir, sizeof sb->dir, "%s/fuzz_cli.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    int home = open(".", O_RDONLY | O_DIRECTORY);
    if (home < 0 || !mkdtemp(sb->dir) || atexit(fc_remove_sandbox) || chdir(sb->dir)) {
        if (home >= 0)
            close(home);
        return NULL;
    }
    sb->files[0].name = "a.yaml";
    sb->files[1].name = "b.yaml";
    int rc = fc_scenario("pgtt-pt.yaml", &sb->files[0]) || fc_scenario("fault-first-stage.yaml", &sb->files[1]) ||
             fc_trace("t.bin", &sb->files[2]) || fc_trace("t.csv", &sb->files[3]);
    if (fchdir(home))
        rc = -1;
    close(home);
    sb->devnull = open("/dev/null", O_WRONLY);
    if (rc || sb->devnull < 0)
        return NULL;
    state = 1;
    return sb;
}

#define FC_NFILES (sizeof the_sandbox.files / sizeof the_sandbox.files[0])

static bool fc_is_seed(const struct fc_sandbox *sb, const char *name)
{
    for (size_t i = 0; i < FC_NFILES; i++)
        if (!strcmp(name, sb->files[i].name))
            return true;
    return false;
}

/*
 * Back to exactly the seed files (run in the sandbox): whatever an input added goes, a seed
 * file it replaced or changed is written again. Unlinking and writing all four every time was
 * a fifth of the target's time (file creation on ext4), and most inputs write nothing.
 */
static int fc_restore(struct fc_sandbox *sb)
{
    DIR *d = opendir(".");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !fc_is_seed(sb, e->d_name))
            unlink(e->d_name);
    closedir(d);
    for (size_t i = 0; i < FC_NFILES; i++)
        if (!fc_unchanged(&sb->files[i]) && fc_spill(&sb->files[i]))
            return -1;
    return 0;
}

/* Whether a word is a number above FC_MAX_NUMBER, or a size with a K/M/G/T suffix above
 * FC_MAX_SIZE (the tool's own defaults go up to 1 GiB), as the tool reads them
 * (walker/number.h); beyond 64 bits counts as big. */
static bool fc_big_number(const char *s, size_t len, bool bytes)
{
    char buf[FC_MAX_WORD + 1];
    uint64_t v;
    memcpy(buf, s, len);
    buf[len] = '\0';
    int rc = vtd_number_parse(buf, &v);
    if (rc != -EINVAL)
        return rc == -ERANGE || v > FC_MAX_NUMBER;
    rc = vtd_size_parse(buf, &v);
    return rc == -ERANGE || (rc == 0 && v > (bytes ? FC_MAX_SIZE : FC_MAX_NUMBER));
}

/* Whether option `opt` takes a size in bytes; every other value, suffixed or not, is a count
 * (the tool reads `--count 8m` as 8,388,608 events, minutes of work). */
static bool fc_bytes_option(const char *opt)
{
    static const char *const bytes[] = {"--buffer", "--req-min", "--req-max", "--pkt-size",
                                        "--fq-size", "--dma-size", "--max-memory"};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++)
        if (!strcmp(opt, bytes[i]))
            return true;
    return false;
}

/* Whether the harness runs this command line (see fuzz_cli_input.h). */
bool fc_allowed(char **argv, int argc)
{
    bool gen = false, count = false;
    unsigned commas = 0;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strchr(w, '/') || !strcmp(w, ".."))
            return false; /* ".." would run or write the sandbox's parent (seconds, and not ours) */
        gen |= !strcmp(w, "gen");
        count |= !strcmp(w, "--count");
        for (const char *c = w; *c; c++)
            commas += *c == ',';
        if (!strcmp(argv[i - 1], "--addr"))
            continue; /* an address costs nothing, however large */
        for (const char *item = w; *item;) {
            size_t len = strcspn(item, ",");
            if (fc_big_number(item, len, fc_bytes_option(argv[i - 1])))
                return false;
            item += len + (item[len] == ',');
        }
    }
    return (!gen || count) && commas <= FC_MAX_COMMAS;
}

/* Split the input at newlines into argv (argv[0] = "vtdsim"); the words live in `store`. */
static int fc_split(const uint8_t *data, size_t size, char store[FC_MAX_WORDS][FC_MAX_WORD + 1], char **argv)
{
    int argc = 0;
    argv[argc++] = "vtdsim";
    size_t off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - data - off) : size - off;
        if (argc > FC_MAX_WORDS || len > FC_MAX_WORD || memchr(data + off, '\0', len))
            return -1;
        memcpy(store[argc - 1], data + off, len);
        store[argc - 1][len] = '\0';
        argv[argc] = store[argc - 1];
        argc++;
        off += len + 1;
    }
    argv[argc] = NULL;
    return argc;
}

int fuzz_cli_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    static char store[FC_MAX_WORDS][FC_MAX_WORD + 1];
    char *argv[FC_MAX_WORDS + 2];
    int argc = fc_split(data, size, store, argv);
    if (argc < 0 || !fc_allowed(argv, argc))
        return 0;
    struct fc_sandbox *sb = fc_sandbox();
    if (!sb)
        return fuzz_fail(why, why_len, "cannot set up the working directory: %s", strerror(errno));
    int home = open(".", O_RDONLY | O_DIRECTORY);
    if (home < 0 || chdir(sb->dir) || fc_restore(sb)) {
        if (home >= 0)
            close(home);
        return fuzz_fail(why, why_len, "cannot prepare %s: %s", sb->dir, strerror(errno));
    }
    /* The commands' normal output goes nowhere; their messages stay on stderr. */
    fflush(stdout);
    int out = dup(STDOUT_FILENO);
    dup2(sb->devnull, STDOUT_FILENO);
    int status = vtdsim_tool_main(argc, argv);
    fflush(stdout);
    dup2(out, STDOUT_FILENO);
    close(out);
    int ret = fchdir(home) ? fuzz_fail(why, why_len, "cannot return to the working directory") : 0;
    close(home);
    if (!ret && (status < 0 || status > 2))
        ret = fuzz_fail(why, why_len, "exit status %d (0, 1 or 2 expected)", status);
    return ret;
}
