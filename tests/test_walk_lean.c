/*
 * test_walk_lean.c: a walk takes its lean path (walk_is_lean: no trace hook, no abort ranges,
 * no dirty CPU lines) or its checked one; both must give the same results, faults, counters
 * and A/D updates. Three worlds are built alike from one seed over random tables: one walks
 * lean, one is forced onto the checked path by an abort range nothing uses, one traces (and
 * its trace must hold one record per read and A/D write). Also: the remembered context and
 * PASID decodes follow changed entry bytes and changed capabilities.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walker/fs_entry.h"
#include "walker/ss_entry.h"
#include "world.h"
#include "xorshift.h"

#define SID vtd_sid(0, 3, 0)
#define MAPS 300
#define REQUESTS 3000
#define UNUSED_PA UINT64_C(0x7f0000000000) /* far above every table and page of the worlds */

enum { LEAN, CHECKED, TRACED, NWORLDS };

struct lean_case {
    unsigned pgtt, levels, ss_levels;
    bool ssade;
};

static uint64_t rng_state;
static uint64_t rng(void) { return xorshift64(&rng_state); }

static struct world worlds[NWORLDS];
static struct vtd_ctx world_ctx[NWORLDS];
static struct vtd_pasid_cfg world_cfg[NWORLDS];
static uint64_t map_va[MAPS];
static unsigned map_shift[MAPS];

static void teardown(void)
{
    for (unsigned i = 0; i < NWORLDS; i++)
        world_fini(&worlds[i]);
}

TestSuite(walk_lean, .fini = teardown);

/* A random permission set for a table of `kind` (a second stage has no U). */
static unsigned random_perm(enum vtd_pt_format kind)
{
    uint64_t r = rng();
    unsigned perm = VTD_PERM_R | (r & 1 ? VTD_PERM_W : 0) | (r & 2 ? VTD_PERM_X : 0);
    if (kind == VTD_PT_FS)
        perm |= (r & 4) || (r & 8) ? VTD_PERM_U : 0;
    return perm;
}

/* One world of the case, its mappings drawn from `seed` (every world draws the same). */
static void build_world(unsigned k, const struct lean_case *c, uint64_t seed)
{
    struct world *w = &worlds[k];
    struct vtd_pt fs, ss;
    struct vtd_ctx ctx;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_init(w, NULL), 0);
    cr_assert_eq(world_device(w, SID, &ctx), 0);
    cr_assert_eq(world_pasid(w, &ctx, 1, c->pgtt, c->levels, c->ss_levels, &fs, &ss, &cfg), 0);
    if (c->ssade) {
        cfg.ssade = true;
        cr_assert_eq(vtd_build_pasid_entry(&w->b, &ctx, 1, &cfg), 0);
    }
    bool nested = c->pgtt == VTD_PGTT_NESTED;
    struct vtd_pt *pt = c->pgtt == VTD_PGTT_SS ? &ss : &fs;
    enum vtd_pt_format kind = c->pgtt == VTD_PGTT_SS ? VTD_PT_SS : VTD_PT_FS;
    rng_state = seed;
    for (unsigned i = 0; i < MAPS; i++) {
        /* Each mapping in its own 1 GiB slot; a nested output stays inside guest RAM. */
        map_shift[i] = (rng() & 3) == 0 ? 21 : 12;
        map_va[i] = ((uint64_t)(i + 1) << 30) | ((rng() & 0x1ff) << 21);
        uint64_t pa_space = nested ? WORLD_GUEST_RAM_SIZE : UINT64_C(1) << 38;
        uint64_t pa = (rng() & (pa_space - 1)) & ~((UINT64_C(1) << map_shift[i]) - 1);
        if (!nested)
            pa += UINT64_C(0x100000000);
        unsigned flags = rng() & 1 ? VTD_MAP_AD : 0; /* half the mappings need A/D updates */
        cr_assert_eq(vtd_pt_map(pt, map_va[i], pa, UINT64_C(1) << map_shift[i], map_shift[i], random_perm(kind), flags),
                     0, "map %u", i);
    }
    world_ctx[k] = ctx;
    world_cfg[k] = cfg;
}

static void build_worlds(const struct lean_case *c, uint64_t seed)
{
    for (unsigned i = 0; i < NWORLDS; i++)
        build_world(i, c, seed);
    worlds[LEAN].env.trace = NULL;
    worlds[CHECKED].env.trace = NULL;
    cr_assert_eq(vtd_mem_set_abort(worlds[CHECKED].mem, UNUSED_PA, 0x1000, VTD_MEM_ABORT_READ), 0);
}

static void assert_same_stage(const struct vtd_stage_result *a, const struct vtd_stage_result *b, const char *what,
                              unsigned i)
{
    cr_assert_eq(a->leaf_level, b->leaf_level, "%s request %u", what, i);
    if (!a->leaf_level)
        return;
    cr_assert_eq(a->out, b->out, "%s request %u", what, i);
    cr_assert_eq(a->page_shift, b->page_shift, "%s request %u", what, i);
    cr_assert_eq(a->perm, b->perm, "%s request %u", what, i);
    cr_assert_eq(a->raw_perm, b->raw_perm, "%s request %u", what, i);
    cr_assert_eq(a->dirty, b->dirty, "%s request %u", what, i);
    cr_assert_eq(a->leaf_entry_addr, b->leaf_entry_addr, "%s request %u", what, i);
    for (unsigned l = a->leaf_level; l <= a->top_level; l++) {
        cr_assert_eq(a->table[l], b->table[l], "%s request %u level %u", what, i, l);
        cr_assert_eq(a->perm_above[l], b->perm_above[l], "%s request %u level %u", what, i, l);
    }
}

/* The same request in every world: the same answer, fault and counters. */
static void check_request(unsigned i, const struct vtd_request *req)
{
    struct vtd_xlate x[NWORLDS];
    int rc[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++) {
        worlds[k].trace.n = worlds[k].trace.dropped = 0;
        worlds[k].env.cnt = (struct vtd_walk_counters){0};
        rc[k] = vtd_translate(&worlds[k].env, req, &x[k]);
    }
    for (unsigned k = 1; k < NWORLDS; k++) {
        cr_assert_eq(rc[k], rc[LEAN], "request %u world %u: %#x vs %#x", i, k, rc[k], rc[LEAN]);
        cr_assert_eq(x[k].fault.code, x[LEAN].fault.code, "request %u", i);
        cr_assert_eq(x[k].fault.addr, x[LEAN].fault.addr, "request %u", i);
        cr_assert_eq(x[k].fault.level, x[LEAN].fault.level, "request %u", i);
        cr_assert_eq(x[k].fault.suppressed, x[LEAN].fault.suppressed, "request %u", i);
        cr_assert_eq(x[k].out, x[LEAN].out, "request %u", i);
        cr_assert_eq(x[k].page_shift, x[LEAN].page_shift, "request %u", i);
        cr_assert_eq(x[k].perm, x[LEAN].perm, "request %u", i);
        cr_assert_eq(x[k].dirty, x[LEAN].dirty, "request %u", i);
        const struct vtd_walk_counters *a = &worlds[k].env.cnt, *b = &worlds[LEAN].env.cnt;
        cr_assert_eq(a->reads, b->reads, "request %u world %u: %u reads vs %u", i, k, a->reads, b->reads);
        cr_assert_eq(a->paging_reads, b->paging_reads, "request %u", i);
        cr_assert_eq(a->ad_writes, b->ad_writes, "request %u", i);
        cr_assert(!memcmp(a->by_kind, b->by_kind, sizeof a->by_kind), "request %u: reads by kind differ", i);
        if (rc[LEAN])
            continue;
        if (vtd_pgtt_uses_fs(x[LEAN].pgtt))
            assert_same_stage(&x[k].fs, &x[LEAN].fs, "first stage", i);
        if (vtd_pgtt_uses_ss(x[LEAN].pgtt))
            assert_same_stage(&x[k].ss, &x[LEAN].ss, "second stage", i);
    }
    const struct vtd_walk_counters *t = &worlds[TRACED].env.cnt;
    cr_assert_eq(worlds[TRACED].trace.dropped, 0);
    cr_assert_eq(worlds[TRACED].trace.n, t->reads + t->ad_writes, "request %u", i);
}

/* Random requests over the mappings (and beside them) in all three worlds. */
static void run_case(const struct lean_case *c, uint64_t seed)
{
    build_worlds(c, seed);
    rng_state = seed ^ 0x5deece66d;
    unsigned nonzero_reads = 0;
    for (unsigned i = 0; i < REQUESTS; i++) {
        uint64_t r = rng();
        unsigned m = (unsigned)(r % MAPS);
        uint64_t off = (r >> 16) & ((UINT64_C(1) << map_shift[m]) - 1);
        /* One in eight requests misses every mapping (a not-present fault at some level). */
        uint64_t addr = (r >> 60) == 0 ? ((uint64_t)(MAPS + 2 + (r & 7)) << 30) | off : map_va[m] + off;
        unsigned access = (r >> 40) & 1 ? VTD_ACC_W : VTD_ACC_R;
        /* Few privileged or execute requests: without SRE and ERE those fault before any walk. */
        if (((r >> 44) & 7) == 0)
            access |= VTD_ACC_X;
        struct vtd_request req = {.sid = SID, .pasid_valid = true, .pasid = 1, .addr = addr, .access = access,
                                  .priv = ((r >> 47) & 7) == 0,
                                  .kind = (r >> 43) & 7 ? VTD_REQ_UNTRANSLATED : VTD_REQ_TRANSLATION};
        check_request(i, &req);
        nonzero_reads += worlds[LEAN].env.cnt.paging_reads != 0;
    }
    cr_assert_gt(nonzero_reads, REQUESTS / 2, "only %u of %u requests walked the paging structures", nonzero_reads,
                 REQUESTS);
}

Test(walk_lean, first_stage_4_and_5_levels)
{
    run_case(&(struct lean_case){VTD_PGTT_FS, 4, 0, false}, 11);
    teardown();
    run_case(&(struct lean_case){VTD_PGTT_FS, 5, 0, false}, 12);
}

Test(walk_lean, second_stage_3_4_5_levels_with_and_without_ssade)
{
    run_case(&(struct lean_case){VTD_PGTT_SS, 3, 0, false}, 21);
    teardown();
    run_case(&(struct lean_case){VTD_PGTT_SS, 4, 0, true}, 22);
    teardown();
    run_case(&(struct lean_case){VTD_PGTT_SS, 5, 0, false}, 23);
}

Test(walk_lean, nested_4x4_5x4_4x5_with_and_without_ssade)
{
    run_case(&(struct lean_case){VTD_PGTT_NESTED, 4, 4, false}, 31);
    teardown();
    run_case(&(struct lean_case){VTD_PGTT_NESTED, 5, 4, true}, 32);
    teardown();
    run_case(&(struct lean_case){VTD_PGTT_NESTED, 4, 5, false}, 33);
}

/* The nested table fetches' own faults: a first-stage table beyond the second stage's input
 * width, and a second-stage table pointer beyond HAW. */
Test(walk_lean, nested_table_fetch_faults)
{
    build_worlds(&(struct lean_case){VTD_PGTT_NESTED, 4, 3, false}, 41);
    struct vtd_request req = {.sid = SID, .pasid_valid = true, .pasid = 1, .addr = map_va[0], .access = VTD_ACC_R};
    uint64_t fsptptr[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++) {
        fsptptr[k] = world_cfg[k].fsptptr;
        world_cfg[k].fsptptr = UINT64_C(1) << 40; /* a 3-level second stage takes 39 bits */
        cr_assert_eq(vtd_build_pasid_entry(&worlds[k].b, &world_ctx[k], 1, &world_cfg[k]), 0);
    }
    check_request(0, &req);
    cr_assert_eq(worlds[LEAN].env.cnt.paging_reads, 0);
    struct vtd_xlate x;
    cr_assert_neq(vtd_translate(&worlds[LEAN].env, &req, &x), 0);
    cr_assert_eq(x.fault.addr, 0);
    for (unsigned k = 0; k < NWORLDS; k++) {
        world_cfg[k].fsptptr = fsptptr[k];
        world_cfg[k].ssptptr = UINT64_C(1) << 50;
        cr_assert_eq(vtd_build_pasid_entry(&worlds[k].b, &world_ctx[k], 1, &world_cfg[k]), 0);
    }
    check_request(1, &req);
    cr_assert_eq(vtd_translate(&worlds[LEAN].env, &req, &x), VTD_FR_SSPTPTR);
}

/* Translate PASID 1 at `va` (a read) in world 0 and return the fault code. */
static int xlate0(uint64_t va, struct vtd_xlate *x)
{
    return world_xlate(&worlds[0], SID, 1, va, VTD_ACC_R, false, x);
}

/*
 * The walker remembers the last context and PASID entries it decoded: new entry bytes, and
 * new capabilities for the same bytes, must be decoded afresh.
 */
Test(walk_lean, remembered_decodes_follow_entries_and_capabilities)
{
    struct world *w = &worlds[0];
    struct vtd_ctx ctx;
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    struct vtd_xlate x;
    const uint64_t va = 0x40000000;
    cr_assert_eq(world_init(w, NULL), 0);
    w->env.trace = NULL;
    cr_assert_eq(world_device(w, SID, &ctx), 0);
    cr_assert_eq(world_pasid(w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, va, 0x80000000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, VTD_MAP_AD), 0);
    cr_assert_eq(xlate0(va, &x), 0);
    cr_assert_eq(x.did, 2);
    /* New PASID-entry bytes (another domain id): seen at once. */
    cfg.did = 7;
    cr_assert_eq(vtd_build_pasid_entry(&w->b, &ctx, 1, &cfg), 0);
    cr_assert_eq(xlate0(va, &x), 0);
    cr_assert_eq(x.did, 7);
    /* The same bytes under capabilities without SRS: an entry with SRE is now invalid. */
    cfg.sre = true;
    cr_assert_eq(vtd_build_pasid_entry(&w->b, &ctx, 1, &cfg), 0);
    cr_assert_eq(xlate0(va, &x), 0);
    w->caps.ecap &= ~VTD_ECAP_SRS;
    cr_assert_eq(xlate0(va, &x), VTD_FR_PASID_RSVD);
    w->caps.ecap |= VTD_ECAP_SRS;
    cr_assert_eq(xlate0(va, &x), 0);
    /* New context-entry bytes (FPD set) and then a HAW the PASID-directory pointer exceeds. */
    cr_assert_eq(x.ctx.fpd, false);
    ctx.fpd = true;
    cr_assert_eq(vtd_build_context(&w->b, w->rtaddr, SID, &ctx), 0);
    cr_assert_eq(xlate0(va, &x), 0);
    cr_assert_eq(x.ctx.fpd, true);
    unsigned haw = w->caps.haw;
    w->caps.haw = 20; /* every table of the world lies above 1 MiB */
    cr_assert_neq(xlate0(va, &x), 0);
    w->caps.haw = haw;
    cr_assert_eq(xlate0(va, &x), 0);
}
