/*
 * common.h: what every benchmark shares: a monotonic clock, medians of repeated runs, result
 * rows, and their output as a table, JSON or CSV.
 */
#ifndef VTDSIM_BENCH_COMMON_H
#define VTDSIM_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>

struct bench_row {
    const char *name;
    double ns;     /* median ns per operation */
    double mops;   /* millions of operations per second */
    double reads;  /* paging reads per operation */
    double floor_ns; /* the machine's floor for this operation, measured in the same run (bench/floor.h); 0: none */
    bool skipped;  /* not selected by --only: left out of the report */
};

struct bench_opts {
    const char *json, *csv;
    bool quick;
    const char *only; /* run only the benchmarks whose name contains this */
};

double bench_now_ns(void);
/* Median of n samples (sorts them). */
double bench_median(double *v, int n);
/* Whether --only selects the benchmark `name` (all when --only is absent). */
bool bench_selected(const struct bench_opts *o, const char *name);
/* --quick, --only SUBSTRING, --json FILE, --csv FILE; false (after a usage message) on anything else. */
bool bench_parse_args(int argc, char **argv, const char *prog, struct bench_opts *o);
/*
 * Reference operations measured in the same run as a benchmark, so that ratios stay meaningful
 * on a noisy machine: one 64-bit read from simulated memory, one uthash lookup in 1024 keys.
 */
struct bench_row bench_ref_mem_read(long iters);
struct bench_row bench_ref_uthash(long iters);
/* Where benchmarks put results so that the compiler keeps the work. */
extern volatile uint64_t bench_sink;

/* The table on stdout and the files the options ask for. */
void bench_report(const struct bench_row *rows, int n, const struct bench_opts *o);

#endif
