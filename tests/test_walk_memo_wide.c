/*
 * test_walk_memo_wide.c: the nested first-stage memo serving walks elsewhere than the last
 * one's 2 MiB: its levels above level 2, reused for any address in the same 1 GiB (struct
 * vtd_walk_fs_memo), with the second-stage walks around them (the table fetches through their
 * memo, the nested walk's last step, second-stage-only walks). Entries are edited in memory
 * between walks without any invalidation (the walker caches nothing a guest must invalidate):
 * the next walk must see the edit, exactly as a world forced onto the checked path (which
 * never consults a memo) sees it. Answers, faults, A/D writes, the recorded tables and
 * permissions, and read counts of the two worlds are compared request by request.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walk_memo_worlds.h"

#define SID vtd_sid(0, 5, 0)
#define PAGES 48
#define PER_GIB 32
#define OUT_GPA UINT64_C(0x1800000)          /* the nested pages' guest-physical addresses, one 2 MiB */

static bool nested; /* the worlds' PASID 1 is nested, else second-stage only */

TestSuite(walk_memo_wide, .fini = walk_memo_worlds_fini);

/* Page i's input address: each page in a 2 MiB of its own (so with a first-stage page table of
 * its own), PER_GIB pages in a 1 GiB, the rest in the next 1 GiB. */
static uint64_t page_va(unsigned i)
{
    return UINT64_C(0x40000000) * (1 + i / PER_GIB) + (i % PER_GIB) * UINT64_C(0x201000);
}

/* Second-stage-only worlds: eight pages in each 2 MiB. */
static uint64_t page_gpa(unsigned i) { return UINT64_C(0x40000000) + (i / 8) * UINT64_C(0x200000) + (i % 8) * 0x1000; }

static uint64_t page_addr(unsigned i) { return nested ? page_va(i) : page_gpa(i); }

/*
 * Nested worlds: a 4-level second stage mapping the first 32 MiB of guest memory with 4 KiB
 * pages (the guest's tables from 1 MiB, its data from 24 MiB), a 4-level first stage with the
 * pages mapped to OUT_GPA on; `ad` presets their A/D bits, `ssade` sets SSADE.
 */
static void build_nested(bool ssade, bool ad)
{
    nested = true;
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct world *w = &worlds[k];
        struct vtd_pt fs, ss;
        struct vtd_pasid_cfg *cfg = &world_cfg[k];
        cr_assert_eq(world_init(w, NULL), 0);
        w->env.trace = NULL;
        cr_assert_eq(world_device(w, SID, &world_ctx[k]), 0);
        cr_assert_eq(vtd_pt_init(&ss, &w->b, VTD_PT_SS, 4, NULL, 0, 0), 0);
        cr_assert_eq(vtd_pt_map(&ss, 0, WORLD_GUEST_RAM_HPA, 32u << 20, 12, VTD_PERM_R | VTD_PERM_W,
                                ad ? VTD_MAP_AD : 0),
                     0);
        cr_assert_eq(vtd_pt_init(&fs, &w->b, VTD_PT_FS, 4, &ss, WORLD_GUEST_PT_GPA, WORLD_GUEST_PT_SIZE), 0);
        vtd_pasid_cfg_init(cfg, VTD_PGTT_NESTED, 1);
        cfg->fs_levels = cfg->ss_levels = 4;
        cfg->fsptptr = fs.root;
        cfg->ssptptr = ss.root;
        cfg->ssade = ssade;
        cr_assert_eq(vtd_build_pasid_entry(&w->b, &world_ctx[k], 1, cfg), 0);
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(vtd_pt_map(&fs, page_va(i), OUT_GPA + 0x1000 * (uint64_t)i, 0x1000, 12,
                                    VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, ad ? VTD_MAP_AD : 0),
                         0);
    }
    force_checked();
}

/* Second-stage-only worlds of `levels` with the pages mapped. */
static void build_second_stage(unsigned levels, bool ssade, bool ad)
{
    nested = false;
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct world *w = &worlds[k];
        struct vtd_pt fs, ss;
        cr_assert_eq(world_init(w, NULL), 0);
        w->env.trace = NULL;
        cr_assert_eq(world_device(w, SID, &world_ctx[k]), 0);
        cr_assert_eq(world_pasid(w, &world_ctx[k], 1, VTD_PGTT_SS, levels, 0, &fs, &ss, &world_cfg[k]), 0);
        world_cfg[k].ssade = ssade;
        cr_assert_eq(vtd_build_pasid_entry(&w->b, &world_ctx[k], 1, &world_cfg[k]), 0);
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(vtd_pt_map(&ss, page_gpa(i), UINT64_C(0x80000000) + 0x1000 * (uint64_t)i, 0x1000, 12,
                                    VTD_PERM_R | VTD_PERM_W, ad ? VTD_MAP_AD : 0),
                         0);
    }
    force_checked();
}

/* Page i translated in both worlds (PASID `pasid`): the same answer, fault, A/D writes,
 * recorded second-stage levels and read counts; returns the fault code. */
static int translate_pasid_both(uint32_t pasid, unsigned i, unsigned access)
{
    struct vtd_xlate x[NWORLDS];
    int rc[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++)
        rc[k] = world_xlate(&worlds[k], SID, pasid, page_addr(i) + 0x28, access, false, &x[k]);
    cr_assert_eq(rc[LEAN], rc[CHECKED], "page %u: %#x lean, %#x checked", i, rc[LEAN], rc[CHECKED]);
    cr_assert_eq(x[LEAN].fault.code, x[CHECKED].fault.code);
    cr_assert_eq(x[LEAN].fault.addr, x[CHECKED].fault.addr, "page %u: fault address", i);
    cr_assert_eq(x[LEAN].fault.level, x[CHECKED].fault.level);
    cr_assert_eq(x[LEAN].out, x[CHECKED].out, "page %u: %#lx lean, %#lx checked", i, (unsigned long)x[LEAN].out,
                 (unsigned long)x[CHECKED].out);
    cr_assert_eq(x[LEAN].perm, x[CHECKED].perm);
    cr_assert_eq(x[LEAN].dirty, x[CHECKED].dirty);
    cr_assert_eq(x[LEAN].page_shift, x[CHECKED].page_shift);
    if (!rc[LEAN]) {
        /* The stage results a paging-structure cache would take. */
        const struct vtd_stage_result *a = &x[LEAN].ss, *b = &x[CHECKED].ss;
        cr_assert_eq(a->leaf_level, b->leaf_level);
        cr_assert_eq(a->leaf_entry_addr, b->leaf_entry_addr);
        cr_assert_eq(a->raw_perm, b->raw_perm);
        for (unsigned l = a->top_level; l >= a->leaf_level && l >= 1; l--) {
            cr_assert_eq(a->table[l], b->table[l], "page %u: level %u table", i, l);
            cr_assert_eq(a->perm_above[l], b->perm_above[l], "page %u: level %u permissions", i, l);
        }
    }
    expect_same_counters(i);
    return rc[LEAN];
}

static int translate_both(unsigned i, unsigned access) { return translate_pasid_both(1, i, access); }

/* Every page read in turn, three rounds (each walk in a 2 MiB of its own: the memo fills on the
 * second walk elsewhere in the same 1 GiB). */
static void warm(void)
{
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(translate_both(i, VTD_ACC_R), 0, "round %u page %u", round, i);
}

/* Replace the entry at host address addr[k] by (old & ~clear) | set in each world k; returns
 * the old entry. */
static uint64_t edit_at(const uint64_t addr[NWORLDS], uint64_t clear, uint64_t set)
{
    uint64_t old = 0;
    for (unsigned k = 0; k < NWORLDS; k++) {
        cr_assert_eq(vtd_mem_read64(worlds[k].mem, addr[k], &old), 0);
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, addr[k], (old & ~clear) | set), 0);
    }
    return old;
}

static void restore_at(const uint64_t addr[NWORLDS], uint64_t val)
{
    for (unsigned k = 0; k < NWORLDS; k++)
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, addr[k], val), 0);
}

/* Where the first-stage entry at `level` on the way to page i lies in each world. */
static void fs_entry_hosts(unsigned i, unsigned level, uint64_t addr[NWORLDS])
{
    for (unsigned k = 0; k < NWORLDS; k++)
        addr[k] = guest_to_host(k, fs_entry_gpa(k, page_va(i), level));
}

/* Where the second-stage entry at `level` on the way to `gpa` lies in each world. */
static void ss_entry_hosts(uint64_t gpa, unsigned level, uint64_t addr[NWORLDS])
{
    for (unsigned k = 0; k < NWORLDS; k++)
        addr[k] = ss_entry_at(k, gpa, level);
}

/* The walks the tests make use the memo they are about, its 1 GiB part included. */
Test(walk_memo_wide, scattered_walks_fill_the_memo)
{
    build_nested(false, true);
    warm();
    const struct vtd_walk_host *h = &worlds[LEAN].env.host;
    cr_assert_neq(h->fs_memo.key, 0, "the first-stage memo was filled");
    cr_assert_gt(h->fs_memo.n_gib, 0);
    cr_assert_lt(h->fs_memo.n_gib, h->fs_memo.n);
}

/*
 * The first-stage entries at levels 4 and 3 (those the 1 GiB part of the memo holds), edited:
 * not present, no user access, the large-page bit (reserved at level 4, a 1 GiB leaf at level
 * 3), A cleared (set again by the next walk). Each edit is seen by the next walk, of a page in
 * another 2 MiB than the memo's, and undoing it lets the walks through again.
 */
Test(walk_memo_wide, upper_first_stage_edits_seen_elsewhere_in_the_gib)
{
    build_nested(false, true);
    const struct {
        uint64_t clear, set;
    } edits[] = {{VTD_FS_P, 0}, {VTD_FS_US, 0}, {0, VTD_FS_PS}, {VTD_FS_A, 0}, {VTD_FS_RW, 0}};
    for (unsigned level = 4; level >= 3; level--)
        for (unsigned e = 0; e < sizeof edits / sizeof edits[0]; e++) {
            warm();
            uint64_t at[NWORLDS];
            fs_entry_hosts(3, level, at);
            uint64_t old = edit_at(at, edits[e].clear, edits[e].set);
            int rc = translate_both(5, VTD_ACC_W);
            if (edits[e].clear == VTD_FS_P)
                cr_assert_eq(rc, VTD_FR_FS_P, "level %u", level);
            else if (edits[e].clear == VTD_FS_US)
                cr_assert_eq(rc, VTD_FR_US, "level %u", level);
            else if (edits[e].clear == VTD_FS_RW)
                cr_assert_eq(rc, VTD_FR_WRITE, "level %u", level);
            else if (edits[e].clear == VTD_FS_A)
                cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 1, "level %u", level);
            else if (level == 4)
                cr_assert_eq(rc, VTD_FR_FS_RSVD);
            for (unsigned i = 0; i < PAGES; i++)
                translate_both(i, VTD_ACC_R);
            restore_at(at, old);
            for (unsigned i = 0; i < PAGES; i++)
                cr_assert_eq(translate_both(i, VTD_ACC_R), 0, "level %u edit %u undone, page %u", level, e, i);
        }
}

/* The second-stage entries of the fetches of the level-4 and level-3 tables, at every level,
 * edited: no read permission (fault 74h for the root table, 75h below), a reserved bit. */
Test(walk_memo_wide, upper_table_fetch_edits_seen_elsewhere_in_the_gib)
{
    build_nested(false, true);
    for (unsigned fs_level = 4; fs_level >= 3; fs_level--)
        for (unsigned level = 4; level >= 1; level--) {
            warm();
            uint64_t at[NWORLDS];
            ss_entry_hosts(fs_entry_gpa(LEAN, page_va(7), fs_level), level, at);
            uint64_t old = edit_at(at, VTD_SS_R, 0);
            /* Above level 1 the entry is on the root table fetch's way too. */
            cr_assert_eq(translate_both(9, VTD_ACC_R),
                         fs_level == 4 || level > 1 ? VTD_FR_FS_NEST_PTR_READ : VTD_FR_FS_NEST_READ,
                         "fs level %u, ss level %u", fs_level, level);
            restore_at(at, old);
            cr_assert_eq(translate_both(9, VTD_ACC_R), 0);
            edit_at(at, 0, VTD_SS_TM);
            cr_assert_eq(translate_both(11, VTD_ACC_R), VTD_FR_SS_RSVD, "fs level %u, ss level %u", fs_level, level);
            restore_at(at, old);
            cr_assert_eq(translate_both(11, VTD_ACC_R), 0);
        }
}

/*
 * The second-stage entries on the way to the nested pages' output, at every level, edited
 * while the first-stage memo serves the walks: not present, no write permission (for
 * writes), a reserved bit, A cleared with SSADE (set again, once), and the leaf's D set.
 */
Test(walk_memo_wide, output_second_stage_edits_seen)
{
    build_nested(true, true);
    for (unsigned level = 4; level >= 1; level--) {
        warm();
        uint64_t at[NWORLDS];
        ss_entry_hosts(OUT_GPA + 0x3000, level, at);
        uint64_t old = edit_at(at, VTD_SS_R | VTD_SS_W, 0);
        /* Above level 2 the entry is on the table fetches' way too (guest memory below 1 GiB). */
        cr_assert_eq(translate_both(3, VTD_ACC_R), level > 2 ? VTD_FR_FS_NEST_PTR_READ : VTD_FR_READ, "level %u",
                     level);
        restore_at(at, old);
        cr_assert_eq(translate_both(3, VTD_ACC_R), 0);
        edit_at(at, VTD_SS_W, 0);
        cr_assert_eq(translate_both(3, VTD_ACC_W), VTD_FR_WRITE, "level %u", level);
        cr_assert_eq(translate_both(3, VTD_ACC_R), 0, "level %u", level);
        restore_at(at, old);
        edit_at(at, 0, VTD_SS_TM);
        cr_assert_eq(translate_both(3, VTD_ACC_R), VTD_FR_SS_RSVD, "level %u", level);
        restore_at(at, old);
        edit_at(at, VTD_SS_A | VTD_SS_D, 0);
        cr_assert_eq(translate_both(3, VTD_ACC_W), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 1, "level %u", level);
        cr_assert_eq(translate_both(3, VTD_ACC_W), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 0, "level %u", level);
    }
}

/* Second-stage-only walks of 4, 5 and 3 levels, pages eight to a 2 MiB: the same edits of the
 * entries on the way to a page whose neighbours were just walked. */
static void check_second_stage_only(unsigned levels)
{
    build_second_stage(levels, true, true);
    for (unsigned level = levels; level >= 1; level--) {
        warm();
        /* Pages 0 and 1 last: neighbours of page 2. */
        cr_assert_eq(translate_both(0, VTD_ACC_R), 0);
        cr_assert_eq(translate_both(1, VTD_ACC_R), 0);
        uint64_t at[NWORLDS];
        ss_entry_hosts(page_gpa(2), level, at);
        uint64_t old = edit_at(at, VTD_SS_R | VTD_SS_W, 0);
        cr_assert_eq(translate_both(2, VTD_ACC_R), VTD_FR_READ, "level %u", level);
        cr_assert_eq(translate_both(1, VTD_ACC_R), level == 1 ? 0 : VTD_FR_READ, "level %u", level);
        restore_at(at, old);
        edit_at(at, VTD_SS_W, 0);
        cr_assert_eq(translate_both(2, VTD_ACC_W), VTD_FR_WRITE, "level %u", level);
        restore_at(at, old);
        edit_at(at, 0, VTD_SS_TM);
        cr_assert_eq(translate_both(2, VTD_ACC_R), VTD_FR_SS_RSVD, "level %u", level);
        restore_at(at, old);
        edit_at(at, VTD_SS_A, 0);
        cr_assert_eq(translate_both(2, VTD_ACC_R), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 1, "level %u", level);
        cr_assert_eq(translate_both(2, VTD_ACC_R), 0, "level %u", level);
        cr_assert_eq(worlds[LEAN].env.cnt.ad_writes, 0, "level %u", level);
    }
}

Test(walk_memo_wide, second_stage_only_edits_seen_4_level) { check_second_stage_only(4); }

Test(walk_memo_wide, second_stage_only_edits_seen_5_and_3_level)
{
    check_second_stage_only(5);
    walk_memo_worlds_fini();
    check_second_stage_only(3);
}

/* A second PASID whose second stage is a copy mapping every page elsewhere: the remembered
 * entries and decodes never answer one PASID with the other's tables. */
Test(walk_memo_wide, other_pasid_not_served_from_the_memo)
{
    build_second_stage(4, false, true);
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct vtd_pt ss;
        struct vtd_pasid_cfg cfg = world_cfg[k];
        cr_assert_eq(vtd_pt_init(&ss, &worlds[k].b, VTD_PT_SS, 4, NULL, 0, 0), 0);
        for (unsigned i = 0; i < PAGES; i++)
            cr_assert_eq(vtd_pt_map(&ss, page_gpa(i), UINT64_C(0xc0000000) + 0x1000 * (uint64_t)i, 0x1000, 12,
                                    VTD_PERM_R, VTD_MAP_AD),
                         0);
        cfg.ssptptr = ss.root;
        cr_assert_eq(vtd_build_pasid_entry(&worlds[k].b, &world_ctx[k], 2, &cfg), 0);
    }
    for (unsigned round = 0; round < 4; round++)
        for (unsigned i = 0; i < 16; i++) {
            struct vtd_xlate x;
            uint32_t pasid = 1 + (round + i) % 2;
            cr_assert_eq(translate_pasid_both(pasid, i, VTD_ACC_R), 0);
            cr_assert_eq(world_xlate(&worlds[LEAN], SID, pasid, page_gpa(i), VTD_ACC_R, false, &x), 0);
            cr_assert_eq(x.out, (pasid == 1 ? UINT64_C(0x80000000) : UINT64_C(0xc0000000)) + 0x1000 * (uint64_t)i);
            cr_assert_eq(translate_pasid_both(pasid, i, VTD_ACC_W), pasid == 1 ? 0 : VTD_FR_WRITE);
        }
}

/*
 * Thousands of reads and writes of pages scattered over two GiBs, with SSADE and no A/D bits
 * preset, while a bit of a random entry on the way (a first-stage entry, a second-stage entry
 * of a table fetch or of the output's translation, at any level) is flipped between walks and
 * flipped back at the next edit: both worlds see the same at every step.
 */
Test(walk_memo_wide, random_scattered_requests_and_edits)
{
    build_nested(true, false);
    rng_state = 0x2545f4914f6cdd1d;
    static const uint64_t fs_bits[] = {VTD_FS_P, VTD_FS_RW, VTD_FS_US, VTD_FS_A, VTD_FS_PS, VTD_FS_D};
    static const uint64_t ss_bits[] = {VTD_SS_R, VTD_SS_W, VTD_SS_A, VTD_SS_TM, VTD_SS_D};
    uint64_t edited[NWORLDS], bit = 0;
    unsigned page = 0, served = 0, edits = 0;
    for (unsigned n = 0; n < 8000; n++) {
        uint64_t r = rng();
        /* Mostly the next page (a walk elsewhere in the GiB), sometimes the same or any. */
        page = (r & 7) == 0 ? page : (r & 7) == 1 ? (unsigned)(r >> 8) % PAGES : (page + 1) % PAGES;
        if ((r >> 16) % 50 == 0) {
            if (bit)
                flip_at(edited, bit); /* the previous edit undone */
            unsigned target = (unsigned)(r >> 24) % PAGES, level = 1 + (unsigned)(r >> 30) % 4;
            unsigned ss_level = 1 + (unsigned)(r >> 36) % 4, what = (unsigned)(r >> 40) % 3;
            uint64_t gpa = what == 2 ? OUT_GPA + 0x1000 * (uint64_t)target : fs_entry_gpa(LEAN, page_va(target), level);
            if (what == 0) {
                fs_entry_hosts(target, level, edited);
                bit = fs_bits[(r >> 44) % 6];
            } else {
                ss_entry_hosts(gpa, ss_level, edited);
                bit = ss_bits[(r >> 44) % 5];
            }
            flip_at(edited, bit);
            edits++;
        }
        served += translate_both(page, (r >> 50) & 1 ? VTD_ACC_W : VTD_ACC_R) == 0;
    }
    cr_assert_gt(edits, 100);
    cr_assert_gt(served, 3000, "only %u of the requests translated", served);
}
