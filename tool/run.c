/*
 * run.c: `vtdsim run [options] FILE|DIR...`: replay scenarios and check their expectations.
 * Each file is independent (its own IOMMU), so -j runs several at once on threads; the output
 * is printed in the order the files were given, each file's as soon as it and those before it
 * are done. A write error on stdout or a report is exit status 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "runner/runner.h"
#include "runner/text.h"
#include "shard.h"
#include "walker/alloc.h"
#include "walker/outfile.h"
#include "walker/number.h"

struct run_opts {
    const char *json, *junit;
    bool stats, verbose, list_steps, warnings_as_errors, audit;
    unsigned jobs;
    struct tool_shard shard; /* --shard I/N */
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
    "every expectation. A directory stands for its *.yaml files, in name order. Exit status: 0\n"
    "when every file loaded and every expectation held, 1 when an expectation failed, 2 when a\n"
    "file could not be loaded, on a usage error, or when the output or a report could not be\n"
    "written. The last line is 'N passed, M failed' (N, M: scenario files).\n"
    "\n"
    "For each failed expectation it prints the file:line of the step, the expectation, what\n"
    "happened, and for DMA steps: the structures the cached path read (its walk trace, empty when\n"
    "a cache answered), a fresh uncached walk of current memory (what the answer should have\n"
    "been, with every structure read), and the oracle's explanation of a stale translation:\n"
    "which caches held stale data, when they were filled, the narrowest invalidation\n"
    "descriptor that would have removed them and, when the same change left more entries\n"
    "stale, the one descriptor that removes them all.\n"
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
    "  --max-failures N  print the failures of the first N failed steps of each file (default\n"
    "                 20; 0: every one, up to 64 MiB of text per file)\n"
    "  -v             print one line per file, passed or not, every warning its steps raised\n"
    "                 (file:line:column, step) and every descriptor its uAPI steps issued\n"
    "  --warnings-as-errors  a warning that no expectation names fails the file\n"
    "  --audit        the latent-staleness audit (docs/trace-audit.md): a range unmapped or\n"
    "                 protected, then mapped again or left so at the end, with no covering\n"
    "                 invalidation completed in between fails its step, whether a DMA hit it or\n"
    "                 not (off by default)\n"
    "  --list-steps   run nothing: list each file's steps (number, file:line:column, kind), the\n"
    "                 numbers translate --after takes\n"
    "  --max-errors N  report at most N errors of a file that does not load, 1 to 100\n"
    "                 (default 20)\n"
    "  --shard I/N    run only shard I of N (1 <= I <= N): the files k (0-based, in the order the\n"
    "                 whole run takes them) with k mod N = I - 1; 'vtdsim merge' joins the\n"
    "                 shards' --json or --junit reports into the whole run's\n"
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

/* A budget's value: a positive number, or a size when `sizes` (walker/number.h). */
static bool parse_budget(const char *s, bool sizes, uint64_t *v)
{
    uint64_t x;
    if ((sizes ? vtd_size_parse(s, &x) : vtd_number_parse(s, &x)) || !x)
        return false;
    *v = x;
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
    char msg[512];
    snprintf(msg, sizeof msg, "%s takes a positive %s, not '%s'", a,
             !strcmp(a, "--max-memory") ? "size (e.g. 512M, 4G)" : !strcmp(a, "--timeout") ? "number of seconds" : "number",
             val);
    tool_usage_error("run", "%s", msg); /* escaped: the value may hold anything */
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
                    !strcmp(a, "--max-memory") || !strcmp(a, "--timeout") || !strcmp(a, "--max-errors") ||
                    !strcmp(a, "--max-failures") || !strcmp(a, "--shard")) &&
                   i + 1 >= argc) {
            return -tool_usage_error("run", "%s needs an argument", a);
        } else if (a[0] == '-' && a[1] == '-' && (rc = parse_budget_opt(a, argv[i + 1], &o->budgets))) {
            if (rc < 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--json")) {
            o->json = argv[++i];
        } else if (!strcmp(a, "--junit")) {
            o->junit = argv[++i];
        } else if (!strcmp(a, "-j")) {
            uint64_t n;
            if (vtd_number_parse(argv[++i], &n) || n < 1 || n > 256) {
                return -tool_usage_error("run", "-j takes a number from 1 to 256, not '%s'", argv[i]);
            }
            o->jobs = (unsigned)n;
        } else if (!strcmp(a, "--max-errors")) {
            uint64_t n;
            if (vtd_number_parse(argv[++i], &n) || n < 1 || n > SC_MAX_ERRORS)
                return -tool_usage_error("run", "--max-errors takes a number from 1 to 100, not '%s'", argv[i]);
            o->budgets.max_errors = (unsigned)n;
        } else if (!strcmp(a, "--max-failures")) {
            /* One number convention (walker/number.h); 0 keeps every failure. */
            uint64_t n;
            if (vtd_number_parse(argv[++i], &n) || n >= SC_FAILURES_ALL)
                return -tool_usage_error("run", "--max-failures takes a number (0: no limit), not '%s'", argv[i]);
            o->budgets.max_failures = n ? (unsigned)n : SC_FAILURES_ALL;
        } else if (!strcmp(a, "--shard")) {
            if (!tool_shard_parse(argv[++i], &o->shard))
                return -tool_usage_error("run", "--shard takes I/N with 1 <= I <= N <= 100000, not '%s'", argv[i]);
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
        } else if (!strcmp(a, "-v")) {
            o->verbose = true;
        } else if (!strcmp(a, "--list-steps")) {
            o->list_steps = true;
        } else if (!strcmp(a, "--warnings-as-errors")) {
            o->warnings_as_errors = true;
        } else if (!strcmp(a, "--audit")) {
            o->audit = true;
        } else if (a[0] == '-') {
            return -tool_usage_error("run", "unknown option '%s'", a);
        } else if (stat(a, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (list_add_dir(files, a)) {
                return -tool_usage_error("run", "cannot read directory '%s'", a);
            }
        } else if (list_add(files, a) < 0) {
            fputs("vtdsim run: out of memory\n", stderr);
            return -1;
        }
    }
    if (!files->n) {
        return -tool_usage_error("run", "no scenario files%s", "");
    }
    return 0;
}

/* --shard: keep the files of this shard (shard.h); the whole run's count goes to *total. */
static void keep_shard(struct file_list *files, const struct tool_shard *sh, unsigned *total)
{
    unsigned kept = 0;
    *total = files->n;
    for (unsigned k = 0; k < files->n; k++) {
        if (tool_shard_takes(sh, k))
            files->path[kept++] = files->path[k];
        else
            vtd_free(files->path[k]);
    }
    files->n = kept;
}

/*
 * The files and their results. Workers take the next file, run it and mark it done; the main
 * thread prints results in the order the files were given, each as soon as it and every file
 * before it are done (so a long file holds back the lines after it, never its own).
 */
struct pool {
    const struct file_list *files;
    struct sc_result *res;
    struct sc_run_opts opts;
    atomic_uint next;
    pthread_mutex_t lock;
    pthread_cond_t finished;   /* signalled when a file is done */
    bool *done;                /* per file, under lock */
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (unsigned i; (i = atomic_fetch_add(&p->next, 1)) < p->files->n;) {
        sc_run_file(p->files->path[i], &p->opts, &p->res[i]);
        pthread_mutex_lock(&p->lock);
        p->done[i] = true;
        pthread_cond_broadcast(&p->finished);
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

static void wait_done(struct pool *p, unsigned i)
{
    pthread_mutex_lock(&p->lock);
    while (!p->done[i])
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

/* Every warning the file's steps raised, with its place (-v). */
static void print_warnings(const struct sc_result *r)
{
    for (unsigned i = 0; i < r->nwarn; i++) {
        const struct sc_warning *w = &r->warn[i];
        fputs("  warning: ", stdout);
        sc_text_terminal(stdout, r->path);
        printf(":%u:%u: step %u%s: ", w->line, w->col, w->step, w->expected ? " (expected)" : "");
        sc_text_terminal(stdout, w->text);
        putchar('\n');
    }
    if (r->warnings > r->nwarn)
        printf("  ... %llu more warnings\n", (unsigned long long)(r->warnings - r->nwarn));
}

/* The hardware descriptors the file's uAPI steps made the host layer issue, each with its step (-v). */
static void print_issued(const struct sc_result *r)
{
    for (unsigned i = 0; i < r->nissued; i++) {
        const struct sc_issued *d = &r->issued[i];
        char t[160];
        vtd_qi_describe(d->d.qw, d->d.nqw, t, sizeof t);
        fputs("  issued: ", stdout);
        sc_text_terminal(stdout, r->path);
        printf(":%u: step %u (%s): %s%s%s\n", d->line, d->step, sc_kind_name(d->kind), t, d->rc ? ", refused: " : "",
               d->rc ? strerror(-d->rc) : "");
    }
    if (r->issued_total > r->nissued)
        printf("  ... %llu more descriptors issued\n", (unsigned long long)(r->issued_total - r->nissued));
}

/* A file's result, flushed so that it is seen as soon as the file is done (a write error stays
 * in stdout's error flag: tool/main.c turns it into exit status 2 with the reason). */
static void print_result(const struct sc_result *r, const struct run_opts *o)
{
    bool ok = sc_result_passed(r);
    sc_result_print(r, stdout);
    if (!ok || o->verbose) {
        fputs(ok ? "PASS " : "FAIL ", stdout);
        sc_text_terminal(stdout, r->path);
        if (r->load_error) { /* nothing ran: the error above says why */
            printf(" (does not load)\n");
            fflush(stdout);
            return;
        }
        printf(" (%u steps, %u requests, %u checks, %.3f s", r->steps, r->requests, r->checks, r->seconds);
        if (r->warnings)
            printf(", %llu warning%s", (unsigned long long)r->warnings, r->warnings == 1 ? "" : "s");
        printf(")\n");
    }
    if (o->verbose) {
        print_warnings(r);
        print_issued(r);
    }
    if (r->stats) {
        fputs("statistics of ", stdout);
        sc_text_terminal(stdout, r->path);
        fputs(":\n", stdout);
        sc_text_terminal(stdout, r->stats); /* device names come from the scenario */
    }
    fflush(stdout);
}

/* Run every file on `jobs` threads (the calling thread prints), or here when jobs is 1. */
static void run_all(struct pool *p, unsigned jobs, const struct run_opts *o)
{
    pthread_t tid[256];
    unsigned started = 0;
    if (jobs > p->files->n)
        jobs = p->files->n;
    for (unsigned i = 0; jobs > 1 && i < jobs; i++)
        if (!pthread_create(&tid[started], NULL, worker, p))
            started++;
    if (!started) { /* -j 1, or no thread could start: this thread runs and prints each file */
        for (unsigned i; (i = atomic_fetch_add(&p->next, 1)) < p->files->n;) {
            sc_run_file(p->files->path[i], &p->opts, &p->res[i]);
            print_result(&p->res[i], o);
        }
        return;
    }
    for (unsigned i = 0; i < p->files->n; i++) {
        wait_done(p, i);
        print_result(&p->res[i], o);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* Write a report; a failure is reported with its reason and makes the run's status 2. A shard's
 * report says which shard it is (shard NULL: the whole run). */
static int write_report(int (*write)(const char *, const struct sc_result *, unsigned, const struct sc_shard *, char *),
                        const char *path, const struct pool *p, const struct sc_shard *shard)
{
    char err[SC_REPORT_ERR_LEN];
    if (!path || !write(path, p->res, p->files->n, shard, err))
        return 0;
    fputs("vtdsim run: cannot write the report ", stderr);
    sc_text_terminal(stderr, err);
    fputc('\n', stderr);
    return -1;
}

/*
 * Before any file runs: can the report be written at all (its folder exists, it is not one of
 * the scenarios, not a directory)? Saves a long run whose report would be refused at the end.
 */
static int check_report(const char *path, const struct file_list *files)
{
    char err[VTD_OUTFILE_ERR_LEN];
    if (path && vtd_outfile_check(path, (const char *const *)files->path, files->n, err))
        return tool_error("run", err);
    return 0;
}

/* --list-steps: the top-level steps of each file, numbered as `translate --after` counts them.
 * 0, or 2 when a file does not load (its error is printed). */
static int list_steps(const struct file_list *files, unsigned max_errors)
{
    int status = 0;
    for (unsigned f = 0; f < files->n; f++) {
        struct sc_error err;
        struct scenario *s = sc_load_file_max(files->path[f], max_errors, &err);
        if (!s) {
            status = tool_load_errors("run", files->path[f], &err);
            continue;
        }
        for (unsigned i = 0; i < s->nsteps; i++) {
            const struct sc_step *st = &s->steps[i];
            char where[600];
            snprintf(where, sizeof where, "%s:%u:%u", files->path[f], st->line, st->col);
            printf("%5u  ", i + 1);
            sc_text_terminal(stdout, where); /* a file name may hold anything */
            printf("  %s", sc_kind_name(st->kind));
            if (st->nsub)
                printf(" (%u step%s repeated)", st->nsub, st->nsub == 1 ? "" : "s");
            putchar('\n');
        }
        sc_free(s);
    }
    return status;
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
    struct sc_shard shard = {.index = o.shard.index, .count = o.shard.count};
    if (o.shard.count)
        keep_shard(&files, &o.shard, &shard.total);
    if (o.list_steps) {
        rc = list_steps(&files, o.budgets.max_errors);
        list_free(&files);
        return rc;
    }
    if (check_report(o.json, &files) || check_report(o.junit, &files)) {
        list_free(&files);
        return 2;
    }
    struct pool p = {.files = &files, .opts = o.budgets};
    p.opts.stats = o.stats;
    p.opts.warnings_as_errors = o.warnings_as_errors;
    p.opts.audit = o.audit;
    p.res = vtd_calloc(files.n ? files.n : 1, sizeof *p.res); /* a shard may have no file */
    p.done = vtd_calloc(files.n ? files.n : 1, sizeof *p.done);
    if (!p.res || !p.done) {
        fputs("vtdsim run: out of memory\n", stderr);
        vtd_free(p.res);
        vtd_free(p.done);
        list_free(&files);
        return 2;
    }
    atomic_init(&p.next, 0);
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.finished, NULL);
    run_all(&p, o.jobs, &o);
    unsigned passed = 0, unloaded = 0;
    for (unsigned i = 0; i < files.n; i++) {
        passed += sc_result_passed(&p.res[i]);
        unloaded += p.res[i].load_error != NULL;
    }
    /* docs/cli.md: 2 when a file could not be read or loaded (an input error), else 1 when an
     * expectation failed. */
    int status = unloaded ? 2 : passed == files.n ? 0 : 1;
    const struct sc_shard *sh = o.shard.count ? &shard : NULL;
    int bad_json = write_report(sc_report_json_shard, o.json, &p, sh);
    int bad_junit = write_report(sc_report_junit_shard, o.junit, &p, sh);
    if (bad_json || bad_junit)
        status = 2;
    printf("%u passed, %u failed\n", passed, files.n - passed);
    for (unsigned i = 0; i < files.n; i++)
        sc_result_free(&p.res[i]);
    pthread_cond_destroy(&p.finished);
    pthread_mutex_destroy(&p.lock);
    vtd_free(p.done);
    vtd_free(p.res);
    list_free(&files);
    return status;
}
