/*
 * test_scenario_failnth.c: allocation-failure injection over the scenario suite (issue 8), in
 * the spirit of Linux's fail-nth: for every file in scenarios/ and N = 1, 2, ... the Nth
 * allocation made through walker/alloc.h fails while the file is loaded and run, until a run
 * no longer reaches allocation N. Each run must end cleanly:
 *
 *  - it fails with a message naming the lack of memory ("out of memory" or ENOMEM) in the
 *    load error or in a step's failure text, or
 *  - it passes every expectation (the allocation was one whose failure the model tolerates by
 *    design, and the answers are still right);
 *
 * and, once the result is freed, no block allocated through walker/alloc.h is still alive
 * (LeakSanitizer checks the same under the ASan build, including libc's own allocations).
 * Scenarios with many allocations are sampled (see sweep_next) so that the whole sweep stays
 * within a minute under ASan; the sampling is logged, never applied silently.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/runner.h"
#include "walker/alloc.h"

/*
 * Sampling for the few files whose runs are slow because they allocate a lot (the nested
 * scenarios build a second stage over 1 GiB of guest RAM: about 570 allocations at about
 * 85 ms a run under ASan): every allocation up to SWEEP_FULL_LIMIT; beyond it, the first
 * SWEEP_HEAD (the loader and the setup, where the error paths differ most) and then
 * SWEEP_TAIL_SAMPLES evenly spread over the rest. The file and its stride are logged.
 */
#define SWEEP_FULL_LIMIT 256u
#define SWEEP_HEAD 64u
#define SWEEP_TAIL_SAMPLES 24u

static void scenario_dir(char *buf, size_t len)
{
    const char *slash = strrchr(__FILE__, '/');
    int n = slash ? (int)(slash - __FILE__) : 1;
    snprintf(buf, len, "%.*s/../scenarios", n, slash ? __FILE__ : ".");
}

static bool mentions_oom(const char *text)
{
    return text && (strstr(text, "out of memory") || strstr(text, "ENOMEM") || strstr(text, "Cannot allocate memory"));
}

/* Did a failed run say that memory ran out? */
static bool result_says_oom(const struct sc_result *r)
{
    if (r->out_of_memory || mentions_oom(r->load_error))
        return true;
    for (unsigned i = 0; i < r->nfail; i++)
        if (mentions_oom(r->fail[i].text))
            return true;
    return false;
}

/* Run `path` with allocation `nth` failing (0: none); returns whether the failure was reached. */
static bool run_failing(const char *path, uint64_t nth, bool *passed, bool *says_oom, uint64_t *count)
{
    struct sc_run_opts o = {.stats = true};
    struct sc_result r = {0};
    int64_t live = vtd_alloc_live();
    vtd_alloc_fail_nth(nth);
    *passed = sc_run_file(path, &o, &r);
    bool delivered = vtd_alloc_fault_delivered();
    *count = vtd_alloc_count();
    vtd_alloc_fail_nth(0);
    *says_oom = result_says_oom(&r);
    if (!*passed && !*says_oom)
        sc_result_print(&r, stderr);
    sc_result_free(&r);
    cr_expect_eq(vtd_alloc_live(), live, "%s, allocation %llu failing: %lld blocks leaked", path,
                 (unsigned long long)nth, (long long)(vtd_alloc_live() - live));
    return delivered;
}

/* The next allocation to fail after `nth`, for a file that makes `total` allocations. */
static uint64_t sweep_next(uint64_t nth, uint64_t total)
{
    if (total <= SWEEP_FULL_LIMIT || nth < SWEEP_HEAD)
        return nth + 1;
    return nth + (total - SWEEP_HEAD + SWEEP_TAIL_SAMPLES - 1) / SWEEP_TAIL_SAMPLES;
}

/* The sweep of one file; returns the runs made. */
static unsigned sweep_file(const char *path)
{
    bool passed, oom;
    uint64_t total;
    run_failing(path, 0, &passed, &oom, &total);
    cr_assert(passed, "%s does not pass without injected failures", path);
    if (total > SWEEP_FULL_LIMIT)
        fprintf(stderr, "failnth: %s: %llu allocations: the first %u fail one by one, then every %lluth\n", path,
                    (unsigned long long)total, SWEEP_HEAD, (unsigned long long)(sweep_next(SWEEP_HEAD, total) - SWEEP_HEAD));
    unsigned runs = 0;
    for (uint64_t nth = 1;; nth = sweep_next(nth, total)) {
        uint64_t count;
        bool delivered = run_failing(path, nth, &passed, &oom, &count);
        runs++;
        if (!delivered) {
            cr_expect(passed, "%s: allocation %llu was never reached, yet the run failed", path,
                      (unsigned long long)nth);
            break;
        }
        cr_expect(passed || oom, "%s: allocation %llu failing: the run failed without saying out of memory", path,
                  (unsigned long long)nth);
        cr_assert_leq(nth, 2 * total + 64, "%s: allocation %llu reached, but an undisturbed run makes only %llu", path,
                      (unsigned long long)nth, (unsigned long long)total);
    }
    return runs;
}

Test(failnth, scenario_suite, .timeout = 600)
{
    char dir[1024];
    scenario_dir(dir, sizeof dir);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    cr_assert_gt(n, 0, "cannot read %s", dir);
    unsigned files = 0, runs = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        if (len > 5 && strcmp(name + len - 5, ".yaml") == 0) {
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            unsigned k = sweep_file(path);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (getenv("FAILNTH_TIMES"))
                fprintf(stderr, "%s: %u runs, %.2f s\n", name, k,
                        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
            runs += k;
            files++;
        }
        free(names[i]);
    }
    free(names);
    cr_log_info("%u scenario files, %u runs with one allocation failing", files, runs);
    cr_assert_geq(files, 10);
}
