/*
 * common.h: what every benchmark shares: a monotonic clock, medians of repeated runs, result
 * rows, and their output as a table, JSON or CSV.
 */
#ifndef VTDSIM_BENCH_COMMON_H
#define VTDSIM_BENCH_COMMON_H

#include <stdbool.h>

struct bench_row {
    const char *name;
    double ns;     /* median ns per operation */
    double mops;   /* millions of operations per second */
    double reads;  /* paging reads per operation */
};

struct bench_opts {
    const char *json, *csv;
    bool quick;
};

double bench_now_ns(void);
/* Median of n samples (sorts them). */
double bench_median(double *v, int n);
/* --quick, --json FILE, --csv FILE; false (after a usage message) on anything else. */
bool bench_parse_args(int argc, char **argv, const char *prog, struct bench_opts *o);
/* The table on stdout and the files the options ask for. */
void bench_report(const struct bench_row *rows, int n, const struct bench_opts *o);

#endif
