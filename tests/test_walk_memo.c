/*
 * test_walk_memo.c: the nested table fetches remember the upper levels of their second-stage
 * walks (struct vtd_walk_ss_memo). Tables edited between walks at a remembered level, or at
 * the level-1 entry reached through the memo, without any invalidation (the walker caches
 * nothing a guest must invalidate): the next walk must see the new entry, exactly as a walk
 * that takes the checked path (and so never consults the memo) sees it. Two worlds are built
 * alike: one lean, one forced onto the checked path by an abort range nothing uses.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walk_memo_worlds.h"

#define SID vtd_sid(0, 4, 0)
#define PAGES 8

TestSuite(walk_memo, .fini = walk_memo_worlds_fini);

/* The virtual address of page i: 2 MiB + 4 KiB apart, so that each has its own page table. */
static uint64_t page_va(unsigned i) { return UINT64_C(0x40000000) + i * UINT64_C(0x201000); }

/*
 * Nested worlds: a second stage of `ss_levels` mapping the first 32 MiB of guest memory with
 * pages of 2^ss_shift bytes (the guest's tables from 1 MiB, its data from 24 MiB), a 4-level
 * first stage with PAGES pages mapped; `ad` presets their A/D bits, `ssade` sets SSADE.
 */
static void build_worlds_paged(unsigned ss_levels, unsigned ss_shift, bool ssade, bool ad)
{
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct world *w = &worlds[k];
        struct vtd_ctx ctx;
        struct vtd_pt fs, ss;
        struct vtd_pasid_cfg *cfg = &world_cfg[k];
        cr_assert_eq(world_init(w, NULL), 0);
        w->env.trace = NULL;
        cr_assert_eq(world_device(w, SID, &ctx), 0);
        cr_assert_eq(vtd_pt_init(&ss, &w->b, VTD_PT_SS, ss_levels, NULL, 0, 0), 0);
        cr_assert_eq(vtd_pt_map(&ss, 0, WORLD_GUEST_RAM_HPA, 32u << 20, ss_shift, VTD_PERM_R | VTD_PERM_W,
                                ad ? VTD_MAP_AD : 0),
                     0);
        cr_assert_eq(vtd_pt_init(&fs, &w->b, VTD_PT_FS, 4, &ss, WORLD_GUEST_PT_GPA, WORLD_GUEST_PT_SIZE), 0);
        vtd_pasid_cfg_init(cfg, VTD_PGTT_NESTED, 1);
        cfg->fs_levels = 4;
        cfg->ss_levels = ss_levels;
        cfg->fsptptr = fs.root;
        cfg->ssptptr = ss.root;
        cfg->ssade = ssade;
        cr_assert_eq(vtd_build_pasid_entry(&w->b, &ctx, 1, cfg), 0);
        world_ctx[k] = ctx;
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(vtd_pt_map(&fs, page_va(i), 0x1800000 + 0x1000 * (uint64_t)i, 0x1000, 12,
                                    VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, ad ? VTD_MAP_AD : 0),
                         0);
    }
    force_checked();
}

static void build_worlds(unsigned ss_levels, bool ssade, bool ad) { build_worlds_paged(ss_levels, 12, ssade, ad); }

/* Page i read in both worlds: the same result, fault and counters; returns the fault code. */
static int translate_both(unsigned i, unsigned access)
{
    struct vtd_xlate x[NWORLDS];
    int rc[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++)
        rc[k] = world_xlate(&worlds[k], SID, 1, page_va(i) + 0x18, access, false, &x[k]);
    cr_assert_eq(rc[LEAN], rc[CHECKED], "page %u: %#x lean, %#x checked", i, rc[LEAN], rc[CHECKED]);
    cr_assert_eq(x[LEAN].fault.code, x[CHECKED].fault.code);
    cr_assert_eq(x[LEAN].fault.addr, x[CHECKED].fault.addr);
    cr_assert_eq(x[LEAN].fault.level, x[CHECKED].fault.level);
    cr_assert_eq(x[LEAN].out, x[CHECKED].out);
    cr_assert_eq(x[LEAN].perm, x[CHECKED].perm);
    cr_assert_eq(x[LEAN].dirty, x[CHECKED].dirty);
    expect_same_counters(i);
    return rc[LEAN];
}

/* Every page read three times in a row (the walker remembers a region's upper levels after
 * the second walk there, the third goes through the memo), page 0 last. */
static void warm(void)
{
    for (unsigned i = PAGES; i-- > 0;)
        for (unsigned round = 0; round < 3; round++)
            cr_assert_eq(translate_both(i, VTD_ACC_R), 0, "page %u", i);
}

/* Replace the second-stage entry at `level` on the way to `gpa` by f(entry) in both worlds;
 * returns the old entry (the same in both). */
static uint64_t edit_both(uint64_t gpa, unsigned level, uint64_t clear, uint64_t set)
{
    uint64_t old = 0;
    for (unsigned k = 0; k < NWORLDS; k++) {
        uint64_t addr = ss_entry_at(k, gpa, level);
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, addr, &old), 0);
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, addr, (old & ~clear) | set), 0);
    }
    return old;
}

static void restore_both(uint64_t gpa, unsigned level, uint64_t val)
{
    for (unsigned k = 0; k < NWORLDS; k++)
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, ss_entry_at(k, gpa, level), val), 0);
}

/* Each edit of a remembered entry (or the level-1 entry under it) faults the next walk with
 * `code`, and undoing it lets the walk through again; both without invalidation. */
static void check_edits(unsigned ss_levels)
{
    build_worlds(ss_levels, false, true);
    const uint64_t gpa = world_cfg[LEAN].fsptptr; /* the first-stage root table: every walk fetches it */
    const struct {
        uint64_t clear, set;
        int code;
        const char *what;
    } edits[] = {
        {VTD_SS_R | VTD_SS_W | VTD_SS_X, 0, VTD_FR_FS_NEST_PTR_READ, "present bits cleared"},
        {0, VTD_SS_TM, VTD_FR_SS_RSVD, "reserved bit set"},
        {VTD_SS_R, 0, VTD_FR_FS_NEST_PTR_READ, "read permission removed"},
    };
    for (unsigned level = ss_levels; level >= 1; level--)
        for (unsigned e = 0; e < sizeof edits / sizeof edits[0]; e++) {
            warm();
            uint64_t old = edit_both(gpa, level, edits[e].clear, edits[e].set);
            for (unsigned i = 0; i < PAGES; i++)
                cr_assert_eq(translate_both(i, VTD_ACC_R), edits[e].code, "level %u, %s, page %u", level,
                             edits[e].what, i);
            restore_both(gpa, level, old);
            cr_assert_eq(translate_both(0, VTD_ACC_R), 0, "level %u, %s undone", level, edits[e].what);
        }
}

Test(walk_memo, edits_of_remembered_levels_seen_4_level_second_stage) { check_edits(4); }

Test(walk_memo, edits_of_remembered_levels_seen_5_and_3_level_second_stage)
{
    check_edits(5);
    walk_memo_worlds_fini();
    check_edits(3);
}

/* An entry pointing elsewhere: the level-2 entry above the first-stage root table moved to a
 * copy of its page table whose entry for that table maps another page: the walk reads it. */
Test(walk_memo, moved_table_followed)
{
    build_worlds(4, false, true);
    warm();
    const uint64_t gpa = world_cfg[LEAN].fsptptr;
    for (unsigned k = 0; k < NWORLDS; k++) {
        uint64_t copy;
        cr_assert_eq(vtd_builder_alloc_page(&worlds[k].b, &copy), 0);
        uint64_t l2 = ss_entry_at(k, gpa, 2), l2e, l1 = ss_entry_at(k, gpa, 1), l1e;
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, l2, &l2e), 0);
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, l1, &l1e), 0);
        /* The copy maps the root table's page as not present. */
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, copy + (l1 & 0xfff), l1e & ~(VTD_SS_R | VTD_SS_W)), 0);
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, l2, (l2e & ~VTD_SS_ADDR) | copy), 0);
    }
    cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_FS_NEST_PTR_READ);
}

/* With SSADE: an A bit cleared at a remembered level is set again by the next walk (the memo
 * keeps only entries with A set), and a leaf without A is updated through the memo. */
Test(walk_memo, accessed_bits_set_again)
{
    build_worlds(4, true, true);
    warm();
    const uint64_t gpa = world_cfg[LEAN].fsptptr;
    for (unsigned level = 4; level >= 1; level--) {
        edit_both(gpa, level, VTD_SS_A, 0);
        cr_assert_eq(translate_both(1, VTD_ACC_R), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 1, "level %u", level);
        uint64_t e;
        cr_assert_eq(vtd_mem_read64(worlds[LEAN].mem, ss_entry_at(LEAN, gpa, level), &e), 0);
        cr_assert(e & VTD_SS_A, "level %u", level);
        cr_assert_eq(translate_both(1, VTD_ACC_R), 0);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 0, "level %u", level);
    }
}

/* First-stage pages without A/D set, and writes: the first stage's A/D writes dirty the
 * second-stage pages holding its tables (SSADE), with the memo serving those fetches. */
Test(walk_memo, first_stage_ad_updates_through_the_memo)
{
    build_worlds(4, true, false);
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(translate_both(i, round ? VTD_ACC_W : VTD_ACC_R), 0, "round %u page %u", round, i);
}

/* A second stage mapping the guest's tables with 2 MiB pages: nothing to remember below
 * level 2, and the walks agree. */
Test(walk_memo, large_second_stage_pages)
{
    build_worlds_paged(4, 21, false, true);
    warm();
}

/* Dry runs with PWSNP set (the walks set no A bit), then PWSNP cleared in every world: a walk
 * that needs an A bit now meets the snoop fault. */
static void warm_dry_then_clear_pwsnp(void)
{
    for (unsigned k = 0; k < NWORLDS; k++) {
        worlds[k].env.dry_run = true;
        world_cfg[k].pwsnp = true;
        cr_assert_eq(vtd_build_pasid_entry(&worlds[k].b, &world_ctx[k], 1, &world_cfg[k]), 0);
    }
    warm();
    for (unsigned k = 0; k < NWORLDS; k++) {
        world_cfg[k].pwsnp = false;
        cr_assert_eq(vtd_build_pasid_entry(&worlds[k].b, &world_ctx[k], 1, &world_cfg[k]), 0);
    }
}

/*
 * A walk that computes A/D updates but writes none (the oracle's dry run) leaves the A bits
 * clear: such entries are never remembered, so a PASID entry rewritten without PWSNP (the
 * memo's key does not hold it) meets the fault for an A update it cannot snoop.
 */
Test(walk_memo, entries_without_accessed_bits_not_remembered)
{
    build_worlds(4, true, false);
    warm_dry_then_clear_pwsnp();
    cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_SS_AD_NOSNOOP);
}

/* Replace the first-stage entry at `level` on the way to page i in both worlds; returns the
 * old entry. */
static uint64_t fs_edit_both(unsigned i, unsigned level, uint64_t clear, uint64_t set)
{
    uint64_t old = 0;
    for (unsigned k = 0; k < NWORLDS; k++) {
        uint64_t hpa = guest_to_host(k, fs_entry_gpa(k, page_va(i), level));
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, hpa, &old), 0);
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, hpa, (old & ~clear) | set), 0);
    }
    return old;
}

/* The first-stage entries above the page table, edited between walks: not present, no user
 * access, a large-page bit (reserved at level 4, a leaf below), A cleared (set again). */
Test(walk_memo, first_stage_edits_seen)
{
    build_worlds(4, false, true);
    for (unsigned level = 4; level >= 2; level--) {
        warm();
        uint64_t old = fs_edit_both(0, level, VTD_FS_P, 0);
        cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_FS_P, "level %u", level);
        fs_edit_both(0, level, ~UINT64_C(0), old);
        warm();
        fs_edit_both(0, level, VTD_FS_US, 0);
        cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_US, "level %u", level);
        fs_edit_both(0, level, ~UINT64_C(0), old);
        warm();
        fs_edit_both(0, level, 0, VTD_FS_PS);
        int rc = translate_both(0, VTD_ACC_R);
        if (level == 4)
            cr_assert_eq(rc, VTD_FR_FS_RSVD);
        fs_edit_both(0, level, ~UINT64_C(0), old);
        warm();
        fs_edit_both(0, level, VTD_FS_A, 0);
        cr_assert_eq(translate_both(0, VTD_ACC_R), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 1, "level %u", level);
        cr_assert_eq(translate_both(0, VTD_ACC_R), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 0, "level %u", level);
    }
}

/* The second-stage entry mapping a first-stage table below the top one, edited: the fetch of
 * that table faults (not the root's fetch: VT-d 3.8, fault 75h rather than 74h's pointer). */
Test(walk_memo, lower_table_fetch_edits_seen)
{
    build_worlds(4, false, true);
    for (unsigned level = 3; level >= 2; level--) {
        warm();
        uint64_t gpa = fs_entry_gpa(LEAN, page_va(0), level);
        uint64_t old = edit_both(gpa, 1, VTD_SS_R | VTD_SS_W | VTD_SS_X, 0);
        cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_FS_NEST_READ, "level %u", level);
        restore_both(gpa, 1, old);
        cr_assert_eq(translate_both(0, VTD_ACC_R), 0, "level %u", level);
    }
}

/* The same for first-stage entries: with their A bits clear and the dry run writing none, the
 * upper levels are never remembered, and a PASID entry rewritten without PWSNP faults. */
Test(walk_memo, first_stage_entries_without_accessed_bits_not_remembered)
{
    build_worlds(4, false, true);
    for (unsigned level = 4; level >= 2; level--)
        fs_edit_both(0, level, VTD_FS_A, 0);
    warm_dry_then_clear_pwsnp();
    cr_assert_eq(translate_both(0, VTD_ACC_R), VTD_FR_FS_AD_NOSNOOP);
}

/*
 * Thousands of reads and writes, mostly of the page just walked (so that the memo serves
 * them), with SSADE and no A/D bits preset, while a bit of a random entry on the way (a
 * first-stage entry or a second-stage entry of its fetch, at any level) is flipped between
 * walks and flipped back at the next edit: both worlds see the same at every step.
 */
Test(walk_memo, random_requests_and_edits)
{
    build_worlds(4, true, false);
    rng_state = 0x9e3779b97f4a7c15;
    static const uint64_t fs_bits[] = {VTD_FS_P, VTD_FS_RW, VTD_FS_US, VTD_FS_A, VTD_FS_PS};
    static const uint64_t ss_bits[] = {VTD_SS_R, VTD_SS_W, VTD_SS_A, VTD_SS_TM};
    uint64_t edited[NWORLDS], bit = 0;
    unsigned page = 0, served = 0, edits = 0;
    for (unsigned n = 0; n < 6000; n++) {
        uint64_t r = rng();
        if ((r & 3) == 0)
            page = (unsigned)(r >> 8) % PAGES;
        if ((r >> 16) % 40 == 0) {
            if (bit)
                flip_at(edited, bit); /* the previous edit undone */
            unsigned target = (unsigned)(r >> 24) % PAGES, level = 1 + (unsigned)(r >> 28) % 4;
            uint64_t gpa = fs_entry_gpa(LEAN, page_va(target), level);
            unsigned ss_level = 1 + (unsigned)(r >> 36) % 4;
            for (unsigned k = 0; k < NWORLDS; k++)
                edited[k] = (r >> 32) & 1 ? guest_to_host(k, gpa) : ss_entry_at(k, gpa, ss_level);
            bit = (r >> 32) & 1 ? fs_bits[(r >> 33) % 5] : ss_bits[(r >> 33) % 4];
            flip_at(edited, bit);
            edits++;
        }
        served += translate_both(page, (r >> 40) & 1 ? VTD_ACC_W : VTD_ACC_R) == 0;
    }
    cr_assert_gt(edits, 100);
    cr_assert_gt(served, 2000, "only %u of the requests translated", served);
}
