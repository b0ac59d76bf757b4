/*
 * floor.h: what the machine itself needs for the work a translation cannot avoid, measured in
 * the same run as the benchmark it calibrates: a chain of dependent 64-bit loads, one per
 * sparse host page (a walk's table reads, each address taken from the entry read before it),
 * and one probe of a small open-addressed hash table (what finding a cached translation costs
 * at least). A benchmark row is then also printed as a multiple of its floor.
 */
#ifndef VTDSIM_BENCH_FLOOR_H
#define VTDSIM_BENCH_FLOOR_H

#include "common.h"

/* The largest chain measured: a nested 5x5 walk makes 35 paging reads. */
#define BENCH_FLOOR_MAX_LOADS 64

struct bench_floor {
    long iters;
    double chain_ns[BENCH_FLOOR_MAX_LOADS + 1]; /* per chain of that many loads; 0: not measured yet */
    double probe_ns;                            /* 0: not measured yet */
    char chain_name[BENCH_FLOOR_MAX_LOADS + 1][48];
};

void bench_floor_init(struct bench_floor *f, long iters);
/* ns for `loads` dependent loads across as many sparse pages (measured once, then remembered). */
double bench_floor_chain(struct bench_floor *f, unsigned loads);
/* ns for one probe of a 1,024-key open-addressed hash table (measured once). */
double bench_floor_probe(struct bench_floor *f);
/* The two floors as report rows: "floor: 24 dependent loads, 24 sparse pages" and the probe. */
struct bench_row bench_floor_chain_row(struct bench_floor *f, unsigned loads);
struct bench_row bench_floor_probe_row(struct bench_floor *f);
/* A walk's floor: as many dependent loads as it makes paging reads (at least one). */
double bench_floor_of_reads(struct bench_floor *f, double reads);

#endif
