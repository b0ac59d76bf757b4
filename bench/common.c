/* common.c: shared benchmark plumbing (see common.h). */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "walker/mem.h"

double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

bool bench_parse_args(int argc, char **argv, const char *prog, struct bench_opts *o)
{
    *o = (struct bench_opts){0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            o->json = argv[++i];
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            o->csv = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o->only = argv[++i];
        else if (!strcmp(argv[i], "--quick"))
            o->quick = true;
        else {
            fprintf(stderr, "usage: %s [--quick] [--only SUBSTRING] [--json FILE] [--csv FILE]\n", prog);
            return false;
        }
    }
    return true;
}

bool bench_selected(const struct bench_opts *o, const char *name)
{
    return !o->only || strstr(name, o->only);
}

/* How many times its floor a row took (0 when it has none). */
static double floor_multiple(const struct bench_row *r)
{
    return r->floor_ns > 0 ? r->ns / r->floor_ns : 0;
}

static void write_rows(const char *path, const struct bench_row *rows, int n, bool json)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        if (path)
            fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fprintf(f, json ? "[\n" : "name,ns_per_op,mops,paging_reads,floor_ns,x_floor\n");
    int last = n - 1;
    while (last >= 0 && rows[last].skipped)
        last--;
    for (int i = 0; i < n; i++)
        if (!rows[i].skipped)
            fprintf(f, json ? "  {\"name\": \"%s\", \"ns_per_op\": %.2f, \"mops\": %.3f, \"paging_reads\": %.2f, "
                              "\"floor_ns\": %.2f, \"x_floor\": %.2f}%s\n"
                        : "\"%s\",%.2f,%.3f,%.2f,%.2f,%.2f%s\n",
                rows[i].name, rows[i].ns, rows[i].mops, rows[i].reads, rows[i].floor_ns, floor_multiple(&rows[i]),
                json && i < last ? "," : "");
    if (json)
        fprintf(f, "]\n");
    fclose(f);
}

void bench_report(const struct bench_row *rows, int n, const struct bench_opts *o)
{
    printf("%-40s %10s %10s %10s %10s %8s\n", "benchmark", "ns/op", "M ops/s", "paging rd", "floor ns", "x floor");
    for (int i = 0; i < n; i++) {
        if (rows[i].skipped)
            continue;
        printf("%-40s %10.1f %10.2f %10.2f", rows[i].name, rows[i].ns, rows[i].mops, rows[i].reads);
        if (rows[i].floor_ns > 0)
            printf(" %10.1f %8.2f\n", rows[i].floor_ns, floor_multiple(&rows[i]));
        else
            printf(" %10s %8s\n", "-", "-");
    }
    write_rows(o->json, rows, n, true);
    write_rows(o->csv, rows, n, false);
}

/* ---- reference measurements ---- */

#define BENCH_REF_RUNS 7

volatile uint64_t bench_sink;

/* Reference: one aligned 64-bit read from simulated memory, cycling over 64 frames. */
struct bench_row bench_ref_mem_read(long iters)
{
    struct bench_row r = {.name = "ref: simulated memory read64"};
    struct vtd_mem *m = vtd_mem_new(48);
    for (uint64_t i = 0; i < 64; i++)
        vtd_mem_write64(m, i << 12, i);
    double samples[BENCH_REF_RUNS];
    for (int run = 0; run < BENCH_REF_RUNS; run++) {
        double t0 = bench_now_ns();
        uint64_t v, acc = 0;
        for (long i = 0; i < iters; i++) {
            vtd_mem_read64(m, ((uint64_t)(i & 63) << 12) | ((uint64_t)(i & 0x1f8)), &v);
            acc += v;
        }
        bench_sink += acc;
        samples[run] = (bench_now_ns() - t0) / (double)iters;
    }
    r.ns = bench_median(samples, BENCH_REF_RUNS);
    r.mops = 1e3 / r.ns;
    vtd_mem_free(m);
    return r;
}

struct hentry {
    uint64_t key;
    uint64_t val;
    UT_hash_handle hh;
};

/* Reference: one uthash lookup in a 1024-entry table (what a hash-based cache costs at best). */
struct bench_row bench_ref_uthash(long iters)
{
    struct bench_row r = {.name = "ref: uthash lookup (1024 keys)"};
    struct hentry *head = NULL, *items = calloc(1024, sizeof(*items));
    for (uint64_t i = 0; i < 1024; i++) {
        items[i].key = i * 0x1000;
        items[i].val = i;
        HASH_ADD(hh, head, key, sizeof(uint64_t), &items[i]);
    }
    double samples[BENCH_REF_RUNS];
    for (int run = 0; run < BENCH_REF_RUNS; run++) {
        double t0 = bench_now_ns();
        uint64_t acc = 0;
        for (long i = 0; i < iters; i++) {
            uint64_t key = (uint64_t)(i & 1023) * 0x1000;
            struct hentry *e;
            HASH_FIND(hh, head, &key, sizeof(key), e);
            acc += e ? e->val : 0;
        }
        bench_sink += acc;
        samples[run] = (bench_now_ns() - t0) / (double)iters;
    }
    HASH_CLEAR(hh, head);
    free(items);
    r.ns = bench_median(samples, BENCH_REF_RUNS);
    r.mops = 1e3 / r.ns;
    return r;
}
