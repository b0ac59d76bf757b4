/* common.c: shared benchmark plumbing (see common.h). */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void write_rows(const char *path, const struct bench_row *rows, int n, bool json)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        if (path)
            fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fprintf(f, json ? "[\n" : "name,ns_per_op,mops,paging_reads\n");
    int last = n - 1;
    while (last >= 0 && rows[last].skipped)
        last--;
    for (int i = 0; i < n; i++)
        if (!rows[i].skipped)
            fprintf(f, json ? "  {\"name\": \"%s\", \"ns_per_op\": %.2f, \"mops\": %.3f, \"paging_reads\": %.2f}%s\n"
                        : "\"%s\",%.2f,%.3f,%.2f%s\n",
                rows[i].name, rows[i].ns, rows[i].mops, rows[i].reads, json && i < last ? "," : "");
    if (json)
        fprintf(f, "]\n");
    fclose(f);
}

void bench_report(const struct bench_row *rows, int n, const struct bench_opts *o)
{
    printf("%-34s %10s %10s %12s\n", "benchmark", "ns/op", "M ops/s", "paging rd");
    for (int i = 0; i < n; i++)
        if (!rows[i].skipped)
            printf("%-34s %10.1f %10.2f %12.2f\n", rows[i].name, rows[i].ns, rows[i].mops, rows[i].reads);
    write_rows(o->json, rows, n, true);
    write_rows(o->csv, rows, n, false);
}
