/*
 * bench_setup.c: how long building mappings takes: one dense range of 4 KiB pages in a
 * second-stage 4-level table, built with the builders in 4 GiB calls (the most one vtd_pt_map
 * call writes, VTD_PT_MAX_LEAVES), from empty simulated memory. Prints the seconds, ns per
 * mapped page and the table pages the builder allocated, with the floor of the same run.
 *
 * Target (performance issue, item 5): a dense 256 GiB map builds in under 2 s.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "walker/builder.h"
#include "walker/caps.h"
#include "walker/mem.h"
#include "walker/walk.h"

#define POOL_BASE (UINT64_C(1) << 40) /* table pages far above the mapped range */
#define POOL_SIZE (UINT64_C(1) << 30) /* 256 GiB of 4 KiB pages need 513 MiB of tables */
#define CALL_BYTES (VTD_PT_MAX_LEAVES << 12)
#define RUNS 3

/* Seconds to map `bytes` from VA 0 to PA 2^39 in a fresh memory; 0 on failure. */
static double build_once(uint64_t bytes, uint64_t *table_pages)
{
    struct vtd_caps caps;
    vtd_caps_default(&caps);
    struct vtd_mem *m = vtd_mem_new(caps.haw);
    struct vtd_builder b;
    struct vtd_pt pt;
    double t0 = bench_now_ns();
    int rc = !m ? -1 : vtd_builder_init(&b, m, &caps, POOL_BASE, POOL_SIZE);
    rc = rc ? rc : vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0);
    for (uint64_t off = 0; !rc && off < bytes; off += CALL_BYTES)
        rc = vtd_pt_map(&pt, off, (UINT64_C(1) << 39) + off, bytes - off < CALL_BYTES ? bytes - off : CALL_BYTES, 12,
                        VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD);
    double secs = (bench_now_ns() - t0) / 1e9;
    if (rc)
        fprintf(stderr, "bench_setup: mapping failed (%d)\n", rc);
    *table_pages = rc ? 0 : (b.pool_next - POOL_BASE) >> 12;
    vtd_mem_free(m); /* freeing is not part of building */
    return rc ? 0 : secs;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (!bench_parse_args(argc, argv, "bench_setup", &o))
        return 2;
    uint64_t gib = o.quick ? 1 : 256;
    char name[64];
    snprintf(name, sizeof name, "dense map, %llu GiB of 4 KiB pages", (unsigned long long)gib);
    struct bench_row rows[2] = {bench_ref_mem_read(2000000), {.name = name, .skipped = !bench_selected(&o, name)}};
    uint64_t pages = gib << 18, table_pages = 0;
    double samples[RUNS];
    for (int run = 0; run < RUNS && !rows[1].skipped; run++)
        samples[run] = build_once(gib << 30, &table_pages);
    if (!rows[1].skipped) {
        double secs = bench_median(samples, RUNS);
        rows[1].ns = secs * 1e9 / (double)pages;
        rows[1].mops = rows[1].ns > 0 ? 1e3 / rows[1].ns : 0;
        bench_report(rows, 2, &o);
        printf("\n%s: %.2f s (target < 2 s), %llu table pages (%.0f MiB)\n", name, secs,
               (unsigned long long)table_pages, (double)table_pages / 256.0);
    }
    return 0;
}
