/*
 * bench_replay.c: scenario replay speed, in steps and DMA requests per second, for the bundled
 * long scenario (scenarios/repeat-trace-100k.yaml) or any scenario files given: parsing once,
 * then the median of repeated runs of the loaded scenario (the runner builds a fresh IOMMU and
 * its tables each run, as `vtdsim run` does).
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "runner/runner.h"

#define RUNS 5

static struct bench_row replay(const char *path, bool quick)
{
    struct bench_row r = {.name = path};
    struct sc_error err;
    struct scenario *s = sc_load_file(path, &err);
    if (!s) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return r;
    }
    double samples[RUNS];
    unsigned requests = 0;
    int runs = quick ? 1 : RUNS;
    for (int i = 0; i < runs; i++) {
        struct sc_result res = {0};
        double t0 = bench_now_ns();
        bool ok = sc_run(s, &(struct sc_run_opts){0}, &res);
        samples[i] = bench_now_ns() - t0;
        requests = res.requests;
        if (!ok)
            fprintf(stderr, "%s: the scenario failed\n", path);
        sc_result_free(&res);
    }
    double ns = bench_median(samples, runs);
    /* One row per request: ns per DMA request, M requests/s over the whole replay. */
    r.ns = requests ? ns / requests : ns;
    r.mops = requests ? requests / ns * 1e3 : 0;
    sc_free(s);
    return r;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    /* Scenario paths may follow the options; bench_parse_args sees only the options. */
    int nopt = 1;
    while (nopt < argc && !strncmp(argv[nopt], "--", 2))
        nopt += strcmp(argv[nopt], "--quick") ? 2 : 1;
    if (nopt > argc || !bench_parse_args(nopt, argv, "bench_replay [options] [scenario.yaml...]", &o))
        return 2;
    static const char *const bundled[] = {VTDSIM_SOURCE_DIR "/scenarios/repeat-trace-100k.yaml"};
    const char *const *paths = nopt < argc ? (const char *const *)argv + nopt : bundled;
    int n = nopt < argc ? argc - nopt : 1;
    struct bench_row rows[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++)
        rows[i] = bench_selected(&o, paths[i]) ? replay(paths[i], o.quick)
                                               : (struct bench_row){.name = paths[i], .skipped = true};
    printf("(ns/op and M ops/s per DMA request of the replay, parsing excluded)\n");
    bench_report(rows, n, &o);
    return 0;
}
