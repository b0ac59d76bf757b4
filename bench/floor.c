/* floor.c: the machine's floor for a walk and for a cache probe (see floor.h). */
#include "floor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define FLOOR_RUNS 7
/* Pages as far apart as the walk benchmarks' addresses (2 MiB + 4 KiB), so that each load is
 * to another page and another cache set, as a walk's table reads are. */
#define FLOOR_STRIDE 0x201000u
#define PROBE_KEYS 1024u
#define PROBE_SLOTS 2048u /* a power of two, half full */

void bench_floor_init(struct bench_floor *f, long iters)
{
    *f = (struct bench_floor){.iters = iters};
}

/*
 * A ring of `loads` pointers, one per page; following it `iters` times round makes
 * loads * iters loads, each address the value the previous load returned, so none can start
 * before the one before it ends: the dependence a page walk has.
 */
static double measure_chain(unsigned loads, long iters)
{
    size_t bytes = (size_t)loads * FLOOR_STRIDE;
    char *area = aligned_alloc(4096, bytes);
    if (!area)
        return 0;
    void **node[BENCH_FLOOR_MAX_LOADS];
    for (unsigned i = 0; i < loads; i++)
        node[i] = (void **)(area + (size_t)i * FLOOR_STRIDE + (i * 72u) % 4096u / 8u * 8u);
    for (unsigned i = 0; i < loads; i++)
        *node[i] = node[(i + 1) % loads];
    double samples[FLOOR_RUNS];
    void **p = node[0];
    for (int run = 0; run < FLOOR_RUNS; run++) {
        double t0 = bench_now_ns();
        for (long i = 0; i < iters; i++)
            for (unsigned j = 0; j < loads; j++)
                p = (void **)*p;
        samples[run] = (bench_now_ns() - t0) / (double)iters;
    }
    bench_sink += (uint64_t)(uintptr_t)p;
    free(area);
    return bench_median(samples, FLOOR_RUNS);
}

static inline unsigned probe_slot(uint64_t key)
{
    return (unsigned)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 53) & (PROBE_SLOTS - 1); /* Fibonacci hashing */
}

/* One lookup per iteration in a linearly probed table of page-number keys (as the IOTLB is
 * tagged): hash, load the slot, compare, take the value. Each value names the key looked up
 * next (a permutation of the 1,024 keys), so the probes do not overlap: a request's lookup
 * cannot start before the request is known, and the loop measures one probe's latency. */
static double measure_probe(long iters)
{
    struct slot {
        uint64_t key, val;
    } *t = calloc(PROBE_SLOTS, sizeof(*t));
    if (!t)
        return 0;
    for (uint64_t i = 0; i < PROBE_KEYS; i++) {
        uint64_t key = (i << 12) | 1; /* | 1: no key is 0, the empty slot's */
        unsigned s = probe_slot(key);
        while (t[s].key)
            s = (s + 1) & (PROBE_SLOTS - 1);
        t[s] = (struct slot){key, (i * 389 + 1) & (PROBE_KEYS - 1)}; /* 389 odd: a permutation */
    }
    double samples[FLOOR_RUNS];
    for (int run = 0; run < FLOOR_RUNS; run++) {
        uint64_t next = 0;
        double t0 = bench_now_ns();
        for (long i = 0; i < iters; i++) {
            uint64_t key = (next << 12) | 1;
            unsigned s = probe_slot(key);
            while (t[s].key != key && t[s].key)
                s = (s + 1) & (PROBE_SLOTS - 1);
            next = t[s].val;
        }
        bench_sink += next;
        samples[run] = (bench_now_ns() - t0) / (double)iters;
    }
    free(t);
    return bench_median(samples, FLOOR_RUNS);
}

double bench_floor_chain(struct bench_floor *f, unsigned loads)
{
    if (!loads || loads > BENCH_FLOOR_MAX_LOADS)
        return 0;
    if (!f->chain_ns[loads])
        f->chain_ns[loads] = measure_chain(loads, f->iters / loads + 1);
    return f->chain_ns[loads];
}

double bench_floor_probe(struct bench_floor *f)
{
    if (!f->probe_ns)
        f->probe_ns = measure_probe(f->iters);
    return f->probe_ns;
}

double bench_floor_of_reads(struct bench_floor *f, double reads)
{
    long loads = lround(reads);
    return bench_floor_chain(f, loads < 1 ? 1u : (unsigned)loads);
}

struct bench_row bench_floor_chain_row(struct bench_floor *f, unsigned loads)
{
    char *name = f->chain_name[loads <= BENCH_FLOOR_MAX_LOADS ? loads : 0];
    snprintf(name, sizeof f->chain_name[0], "floor: %u dependent loads, sparse pages", loads);
    struct bench_row r = {.name = name, .ns = bench_floor_chain(f, loads)};
    r.mops = r.ns > 0 ? 1e3 / r.ns : 0;
    return r;
}

struct bench_row bench_floor_probe_row(struct bench_floor *f)
{
    struct bench_row r = {.name = "floor: hash probe (1024 keys)", .ns = bench_floor_probe(f)};
    r.mops = r.ns > 0 ? 1e3 / r.ns : 0;
    return r;
}
