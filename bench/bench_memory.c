/*
 * bench_memory.c: what simulated memory costs per mapped page, against the page tables' own
 * size (the 4 KiB table pages a real IOMMU's tables would occupy for the same mappings).
 *
 * Target (issue #7): memory per mapped 4 KiB page within 10% of the page tables' own size. The
 * model's extra cost is its sparse index (walker/mem.c); caches have a fixed size and are left
 * out. Dense rows map one contiguous range; the sparse row maps one page per 2 MiB, so each
 * page needs a leaf table of its own (its own size is large, and so is the model's).
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "world.h"

struct mem_row {
    const char *name;
    uint64_t pages;        /* 4 KiB pages mapped */
    uint64_t table_bytes;  /* table pages the mappings needed, times 4 KiB */
    uint64_t sim_bytes;    /* growth of the simulated memory's footprint */
    bool skipped;
};

enum layout { DENSE, SPARSE };

static struct mem_row measure(const char *name, enum vtd_pt_format fmt, unsigned levels, enum layout layout,
                              uint64_t pages)
{
    struct mem_row r = {.name = name, .pages = pages};
    struct world w;
    struct vtd_pt pt;
    if (world_init(&w, NULL) || vtd_pt_init(&pt, &w.b, fmt, levels, NULL, 0, 0)) {
        fprintf(stderr, "%s: setup failed\n", name);
        return r;
    }
    size_t mem_before = vtd_mem_footprint(w.mem);
    uint64_t pool_before = w.b.pool_next;
    unsigned perm = fmt == VTD_PT_FS ? VTD_PERM_R | VTD_PERM_W | VTD_PERM_U : VTD_PERM_R | VTD_PERM_W;
    int rc = 0;
    if (layout == DENSE)
        rc = vtd_pt_map(&pt, 0, UINT64_C(0x100000000), pages << 12, 12, perm, VTD_MAP_AD);
    for (uint64_t i = 0; layout == SPARSE && !rc && i < pages; i++)
        rc = vtd_pt_map(&pt, i << 21, UINT64_C(0x100000000) + (i << 12), 0x1000, 12, perm, VTD_MAP_AD);
    if (rc)
        fprintf(stderr, "%s: mapping failed (%d)\n", name, rc);
    /* The builder takes every table page from its pool, one 4 KiB frame each. */
    r.table_bytes = w.b.pool_next - pool_before;
    r.sim_bytes = vtd_mem_footprint(w.mem) - mem_before;
    world_fini(&w);
    return r;
}

static double ratio(const struct mem_row *r) { return r->table_bytes ? (double)r->sim_bytes / (double)r->table_bytes : 0; }

static void write_rows(const char *path, const struct mem_row *rows, int n, bool json)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        if (path)
            fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fprintf(f, json ? "[\n" : "name,pages,table_bytes,sim_bytes,sim_bytes_per_page,ratio\n");
    int last = n - 1;
    while (last >= 0 && rows[last].skipped)
        last--;
    for (int i = 0; i < n; i++) {
        const struct mem_row *r = &rows[i];
        if (r->skipped)
            continue;
        double per_page = (double)r->sim_bytes / (double)r->pages;
        if (json)
            fprintf(f, "  {\"name\": \"%s\", \"pages\": %llu, \"table_bytes\": %llu, \"sim_bytes\": %llu, "
                       "\"sim_bytes_per_page\": %.2f, \"ratio\": %.4f}%s\n",
                    r->name, (unsigned long long)r->pages, (unsigned long long)r->table_bytes,
                    (unsigned long long)r->sim_bytes, per_page, ratio(r), i < last ? "," : "");
        else
            fprintf(f, "\"%s\",%llu,%llu,%llu,%.2f,%.4f\n", r->name, (unsigned long long)r->pages,
                    (unsigned long long)r->table_bytes, (unsigned long long)r->sim_bytes, per_page, ratio(r));
    }
    if (json)
        fprintf(f, "]\n");
    fclose(f);
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (!bench_parse_args(argc, argv, "bench_memory", &o))
        return 2;
    uint64_t dense = o.quick ? 1u << 15 : 1u << 18, sparse = o.quick ? 1u << 11 : 1u << 14;
    static const struct mem_case {
        const char *name;
        enum vtd_pt_format fmt;
        unsigned levels;
        enum layout layout;
    } cases[] = {
        {"dense 4K, second stage 4-level", VTD_PT_SS, 4, DENSE},
        {"dense 4K, first stage 4-level", VTD_PT_FS, 4, DENSE},
        {"dense 4K, first stage 5-level", VTD_PT_FS, 5, DENSE},
        {"sparse 4K (one per 2M), first stage 4-level", VTD_PT_FS, 4, SPARSE},
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
    struct mem_row rows[NCASES];
    printf("%-46s %9s %12s %12s %10s %7s\n", "benchmark", "pages", "table bytes", "sim bytes", "B/page", "ratio");
    for (int i = 0; i < NCASES; i++) {
        const struct mem_case *c = &cases[i];
        if (!bench_selected(&o, c->name)) {
            rows[i] = (struct mem_row){.name = c->name, .skipped = true};
            continue;
        }
        rows[i] = measure(c->name, c->fmt, c->levels, c->layout, c->layout == DENSE ? dense : sparse);
        printf("%-46s %9llu %12llu %12llu %10.2f %7.3f\n", rows[i].name, (unsigned long long)rows[i].pages,
               (unsigned long long)rows[i].table_bytes, (unsigned long long)rows[i].sim_bytes,
               (double)rows[i].sim_bytes / (double)rows[i].pages, ratio(&rows[i]));
    }
    write_rows(o.json, rows, NCASES, true);
    write_rows(o.csv, rows, NCASES, false);
    printf("\nmemory per mapped page: the model's footprint / the tables' own size (target <= 1.10)\n");
    return 0;
}
