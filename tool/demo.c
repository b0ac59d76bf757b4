/*
 * demo.c: `vtdsim demo`: the main job until the scenario runner exists. For every translation
 * type and paging depth it builds the structures in simulated memory, translates a spread of
 * addresses, checks each result against the builders' own view of the mapping, and prints one
 * summary row per configuration (with --explain, the structures each first walk read).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "walker/fault.h"
#include "world.h"

#define DEMO_SID 0x0018 /* 00:03.0 */
#define DEMO_PAGES 64

struct demo_case {
    const char *name;
    unsigned pgtt, levels, ss_levels, page_shift;
};

static const struct demo_case cases[] = {
    {"first-stage 4-level 4K", VTD_PGTT_FS, 4, 0, 12},
    {"first-stage 5-level 2M", VTD_PGTT_FS, 5, 0, 21},
    {"first-stage 4-level 1G", VTD_PGTT_FS, 4, 0, 30},
    {"second-stage 3-level 4K", VTD_PGTT_SS, 3, 0, 12},
    {"second-stage 4-level 2M", VTD_PGTT_SS, 4, 0, 21},
    {"second-stage 5-level 1G", VTD_PGTT_SS, 5, 0, 30},
    {"nested 4x4 4K", VTD_PGTT_NESTED, 4, 4, 12},
    {"nested 5x5 4K", VTD_PGTT_NESTED, 5, 5, 12},
    {"pass-through", VTD_PGTT_PT, 0, 0, 12},
};

static void explain_trace(const struct vtd_trace *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        printf("      %-5s %-9s L%u %s %#014llx = %#018llx\n", r->write ? "write" : "read",
               vtd_trace_kind_name(r->kind), r->level, r->for_fs ? "(for FS)" : "        ",
               (unsigned long long)r->addr, (unsigned long long)r->val);
    }
}

/* Expected output of `addr` per the builder's tables (nested: through both stages). */
static bool demo_expect(const struct demo_case *c, const struct vtd_pt *fs, const struct vtd_pt *ss, uint64_t addr,
                        uint64_t *out)
{
    uint64_t pa = addr;
    unsigned shift, perm;
    if (c->pgtt == VTD_PGTT_FS || c->pgtt == VTD_PGTT_NESTED)
        if (vtd_pt_lookup(fs, addr, &pa, &shift, &perm))
            return false;
    if (c->pgtt == VTD_PGTT_SS || c->pgtt == VTD_PGTT_NESTED)
        if (vtd_pt_lookup(ss, pa, &pa, &shift, &perm))
            return false;
    *out = pa;
    return true;
}

/* Map DEMO_PAGES pages for a case; returns 0 or a negative errno. */
static int demo_map(const struct demo_case *c, struct vtd_pt *fs, struct vtd_pt *ss)
{
    uint64_t size = UINT64_C(1) << c->page_shift;
    /* The second-stage format has no U/S bit. */
    unsigned perm = VTD_PERM_R | VTD_PERM_W | VTD_PERM_X | (c->pgtt == VTD_PGTT_SS ? 0 : VTD_PERM_U);
    for (uint64_t i = 0; i < DEMO_PAGES; i++) {
        uint64_t va = (UINT64_C(0x40) << 30) + i * 3 * size; /* every third page */
        uint64_t target = c->pgtt == VTD_PGTT_NESTED ? 0x800000 + i * size : (UINT64_C(1) << 36) + i * size;
        int rc = c->pgtt == VTD_PGTT_SS ? vtd_pt_map(ss, va, target, size, c->page_shift, perm, 0)
                 : c->pgtt == VTD_PGTT_PT ? 0
                                          : vtd_pt_map(fs, va, target, size, c->page_shift, perm, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static int demo_run_case(const struct demo_case *c, bool explain, unsigned *checked)
{
    struct world w;
    struct vtd_ctx ctx;
    struct vtd_pt fs, ss;
    struct vtd_pasid_cfg cfg;
    int rc = world_init(&w, NULL);
    if (!rc)
        rc = world_device(&w, DEMO_SID, &ctx);
    if (!rc)
        rc = world_pasid(&w, &ctx, 1, c->pgtt, c->levels, c->ss_levels, &fs, &ss, &cfg);
    if (!rc)
        rc = demo_map(c, &fs, &ss);
    if (rc) {
        printf("  %-26s setup failed: error %d\n", c->name, rc);
        world_fini(&w);
        return 1;
    }
    unsigned failures = 0, reads = 0, n = 0;
    uint64_t size = UINT64_C(1) << c->page_shift;
    for (uint64_t i = 0; i < 3 * DEMO_PAGES; i++, n++) {
        uint64_t addr = (UINT64_C(0x40) << 30) + i * size + (i * 0x88 & (size - 1) & ~UINT64_C(7));
        struct vtd_xlate x;
        int code = world_xlate(&w, DEMO_SID, 1, addr, VTD_ACC_R, false, &x);
        uint64_t want;
        bool mapped = demo_expect(c, &fs, &ss, addr, &want);
        bool ok = mapped ? (code == 0 && x.out == want) : (code == VTD_FR_FS_P || code == VTD_FR_READ);
        failures += !ok;
        if (!ok)
            printf("  MISMATCH %s at %#llx: fault %#x (%s), out %#llx\n", c->name, (unsigned long long)addr, code,
                   code ? vtd_fault_name(code) : "none", (unsigned long long)x.out);
        reads += w.env.cnt.paging_reads;
        if (explain && i == 0)
            explain_trace(&w.trace);
    }
    printf("  %-26s %4u translations  %5.1f paging reads each  %s\n", c->name, n, (double)reads / n,
           failures ? "FAIL" : "ok");
    *checked += n;
    world_fini(&w);
    return failures ? 1 : 0;
}

int cmd_demo(int argc, char **argv)
{
    bool explain = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--explain")) {
            explain = true;
        } else if (!strcmp(argv[i], "--help")) {
            printf("usage: vtdsim demo [--explain]\n\n"
                   "Builds each translation type (first stage, second stage, nested, pass-through)\n"
                   "in simulated memory, translates mapped and unmapped addresses, and checks every\n"
                   "result against the page-table builders. --explain prints the structures the\n"
                   "first walk of each configuration read and wrote.\n");
            return 0;
        } else {
            return tool_usage_error("demo", "unknown option '%s'", argv[i]);
        }
    }
    printf("vtdsim demo: uncached scalable-mode walks\n");
    unsigned failed = 0, checked = 0, ncases = sizeof(cases) / sizeof(cases[0]);
    for (unsigned i = 0; i < ncases; i++)
        failed += (unsigned)demo_run_case(&cases[i], explain, &checked);
    printf("%u passed, %u failed (%u translations checked)\n", ncases - failed, failed, checked);
    return failed ? 1 : 0;
}
