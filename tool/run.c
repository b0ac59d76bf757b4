/*
 * run.c: `vtdsim run [options] FILE|DIR...`: replay scenarios and check their expectations.
 * Each file is independent (its own IOMMU), so -j runs several at once on threads; the output
 * is printed in the order the files were given, whatever order they finish in.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "runner/runner.h"
#include "walker/alloc.h"

struct run_opts {
    const char *json, *junit;
    bool stats, verbose;
    unsigned jobs;
    struct sc_run_opts budgets; /* --max-work, --max-memory, --timeout */
};

struct file_list {
    char **path;
    unsigned n, cap;
};

static const char run_help[] =
    "usage: vtdsim run [options] FILE|DIR...\n"
    "\n"
    "Replays YAML scenarios (docs/scenario-format.md) against the simulated IOMMU and checks\n"
    "every expectation. A directory stands for its *.yaml files, in name order. The exit status\n"
    "is 0 only if every file loaded and every expectation held; the last line is\n"
    "'N passed, M failed' (N, M: scenario files).\n"
    "\n"
    "For each failed expectation it prints the file:line of the step, the expectation, what\n"
    "happened, and for DMA steps: the structures the cached path read (its walk trace, empty when\n"
    "a cache answered), a fresh uncached walk of current memory (what the answer should have\n"
    "been, with every structure read), and the oracle's explanation of a stale translation:\n"
    "which caches held stale data, when they were filled, and the narrowest invalidation\n"
    "descriptor that would have removed them.\n"
    "\n"
    "options:\n"
    "  --json FILE    write a JSON report (per file: result, counts, failures)\n"
    "  --junit FILE   write a JUnit XML report (one testcase per file)\n"
    "  --stats        print cache statistics per file (lookups, hits, ..., stale hits)\n"
    "  -j N           run N files in parallel (default 1)\n"
    "  --max-work N   work budget per file: 4 KiB pages translated, mapped or filled, repeats\n"
    "                 multiplied out (default 100000000)\n"
    "  --max-memory SIZE  host-memory budget per file for caches, device TLBs and simulated\n"
    "                 memory, e.g. 512M or 4G (default 2G)\n"
    "  --timeout SECONDS  stop a file that runs longer (default: no limit)\n"
    "  -v             print one line per file, passed or not\n"
    "  --help         this text\n";

static int list_add(struct file_list *l, const char *path)
{
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : 16;
        char **p = vtd_realloc(l->path, cap * sizeof *p);
        if (!p)
            return -1;
        l->path = p;
        l->cap = cap;
    }
    return (l->path[l->n] = vtd_strdup(path)) ? (int)l->n++ : -1;
}

static void list_free(struct file_list *l)
{
    for (unsigned i = 0; i < l->n; i++)
        vtd_free(l->path[i]);
    vtd_free(l->path);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_yaml(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* The *.yaml files of a directory, sorted by name. */
static int list_add_dir(struct file_list *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    unsigned first = l->n;
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !is_yaml(de->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        rc = list_add(l, path) < 0 ? -1 : 0;
    }
    closedir(d);
    qsort(l->path + first, l->n - first, sizeof *l->path, by_name);
    return rc;
}

/* A budget's value: a positive number, with K/M/G/T (powers of 1024) when `sizes`. */
static bool parse_budget(const char *s, bool sizes, uint64_t *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (sizes && *end && strchr("KMGTkmgt", *end) && !end[1]) {
        shift = (unsigned)(strchr("KMGT", toupper((unsigned char)*end)) - "KMGT" + 1) * 10;
        end++;
    }
    if (errno || *end || !x || x > (UINT64_MAX >> shift))
        return false;
    *v = (uint64_t)x << shift;
    return true;
}

/* --max-work, --max-memory, --timeout: 1 consumed, 0 not a budget option, -1 bad value. */
static int parse_budget_opt(const char *a, const char *val, struct sc_run_opts *b)
{
    char *end;
    if (!strcmp(a, "--max-work") && parse_budget(val, false, &b->max_work))
        return 1;
    if (!strcmp(a, "--max-memory") && parse_budget(val, true, &b->max_host_bytes))
        return 1;
    if (!strcmp(a, "--timeout") && *val >= '0' && *val <= '9' && (b->timeout = strtod(val, &end)) > 0 && !*end &&
        b->timeout <= 1e9)
        return 1;
    if (strcmp(a, "--max-work") && strcmp(a, "--max-memory") && strcmp(a, "--timeout"))
        return 0;
    fprintf(stderr, "vtdsim run: %s takes a positive %s, not '%s'\n", a,
            !strcmp(a, "--max-memory") ? "size (e.g. 512M, 4G)" : !strcmp(a, "--timeout") ? "number of seconds" : "number",
            val);
    return -1;
}

static int parse_args(int argc, char **argv, struct run_opts *o, struct file_list *files)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        struct stat sb;
        int rc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(run_help, stdout);
            return 1;
        } else if ((!strcmp(a, "--json") || !strcmp(a, "--junit") || !strcmp(a, "-j") || !strcmp(a, "--max-work") ||
                    !strcmp(a, "--max-memory") || !strcmp(a, "--timeout")) && i + 1 >= argc) {
            fprintf(stderr, "vtdsim run: %s needs an argument\n", a);
            return -1;
        } else if (a[0] == '-' && a[1] == '-' && (rc = parse_budget_opt(a, argv[i + 1], &o->budgets))) {
            if (rc < 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--json")) {
            o->json = argv[++i];
        } else if (!strcmp(a, "--junit")) {
            o->junit = argv[++i];
        } else if (!strcmp(a, "-j")) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "vtdsim run: -j takes a number from 1 to 256\n");
                return -1;
            }
            o->jobs = (unsigned)n;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
        } else if (!strcmp(a, "-v")) {
            o->verbose = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "vtdsim run: unknown option '%s'\n", a);
            return -1;
        } else if (stat(a, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (list_add_dir(files, a)) {
                fprintf(stderr, "vtdsim run: cannot read directory '%s'\n", a);
                return -1;
            }
        } else if (list_add(files, a) < 0) {
            return -1;
        }
    }
    if (!files->n) {
        fprintf(stderr, "vtdsim run: no scenario files (see --help)\n");
        return -1;
    }
    return 0;
}

struct pool {
    const struct file_list *files;
    struct sc_result *res;
    struct sc_run_opts opts;
    atomic_uint next;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (unsigned i; (i = atomic_fetch_add(&p->next, 1)) < p->files->n;)
        sc_run_file(p->files->path[i], &p->opts, &p->res[i]);
    return NULL;
}

static void run_all(struct pool *p, unsigned jobs)
{
    pthread_t tid[256];
    unsigned started = 0;
    if (jobs > p->files->n)
        jobs = p->files->n;
    for (unsigned i = 1; i < jobs; i++)
        if (!pthread_create(&tid[started], NULL, worker, p))
            started++;
    worker(p); /* this thread works too; it also covers for threads that failed to start */
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

static void print_result(const struct sc_result *r, const struct run_opts *o)
{
    bool ok = sc_result_passed(r);
    sc_result_print(r, stdout);
    if (!ok || o->verbose)
        printf("%s %s (%u steps, %u requests, %u checks, %.3f s)\n", ok ? "PASS" : "FAIL", r->path, r->steps,
               r->requests, r->checks, r->seconds);
    if (r->stats) {
        printf("statistics of %s:\n%s", r->path, r->stats);
    }
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o = {.jobs = 1};
    struct file_list files = {0};
    int rc = parse_args(argc, argv, &o, &files);
    if (rc) {
        list_free(&files);
        return rc > 0 ? 0 : 2;
    }
    struct pool p = {.files = &files, .opts = o.budgets};
    p.opts.stats = o.stats;
    p.res = vtd_calloc(files.n, sizeof *p.res);
    if (!p.res) {
        list_free(&files);
        return 2;
    }
    atomic_init(&p.next, 0);
    run_all(&p, o.jobs);
    unsigned passed = 0;
    for (unsigned i = 0; i < files.n; i++) {
        print_result(&p.res[i], &o);
        passed += sc_result_passed(&p.res[i]);
    }
    int status = passed == files.n ? 0 : 1;
    if (o.json && sc_report_json(o.json, p.res, files.n)) {
        fprintf(stderr, "vtdsim run: cannot write %s\n", o.json);
        status = 2;
    }
    if (o.junit && sc_report_junit(o.junit, p.res, files.n)) {
        fprintf(stderr, "vtdsim run: cannot write %s\n", o.junit);
        status = 2;
    }
    printf("%u passed, %u failed\n", passed, files.n - passed);
    for (unsigned i = 0; i < files.n; i++)
        sc_result_free(&p.res[i]);
    vtd_free(p.res);
    list_free(&files);
    return status;
}
