/*
 * test_walk.c: successful walks of every translation type, level count and page size; nested
 * read counts; A/D updates; traces; and a randomized round-trip property.
 * (Each fault code has its own test in the test_faults_*.c suites, one per stage.)
 */
#include <criterion/criterion.h>

#include "walker/fs_entry.h"
#include "walker/ss_entry.h"
#include "world.h"
#include "xorshift.h"

#define SID vtd_sid(0, 3, 0)
#define RW (VTD_PERM_R | VTD_PERM_W)
#define RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)
#define RWX (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X)

static struct world w;
static struct vtd_ctx ctx;
static struct vtd_pt fs, ss;
static struct vtd_pasid_cfg cfg;

static void setup(void)
{
    cr_assert_eq(world_init(&w, NULL), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
}
static void teardown(void) { world_fini(&w); }

static uint64_t entry_at(const struct vtd_pt *pt, uint64_t va, unsigned level)
{
    uint64_t hpa, val;
    cr_assert_eq(vtd_pt_entry_addr(pt, va, level, &hpa), 0);
    cr_assert_eq(vtd_mem_read64(w.mem, hpa, &val), 0);
    return val;
}

TestSuite(walk, .init = setup, .fini = teardown);

/* First stage, 4 and 5 levels, every page size: output, size, permissions. */
static void check_fs(unsigned levels, unsigned shift, uint64_t va, uint64_t pa)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, levels, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, va, pa, UINT64_C(1) << shift, shift, RWU, 0), 0);
    struct vtd_xlate x;
    uint64_t off = (UINT64_C(1) << shift) - 8;
    cr_assert_eq(world_xlate(&w, SID, 1, va + off, VTD_ACC_R, false, &x), 0, "levels %u shift %u: fault %#x", levels,
                 shift, x.fault.code);
    cr_assert_eq(x.out, pa + off);
    cr_assert_eq(x.page_shift, shift);
    cr_assert_eq(x.perm, RWU); /* mapped without X: XD set */
    cr_assert_eq(x.pgtt, VTD_PGTT_FS);
    cr_assert_eq(x.did, 2);
    cr_assert_eq(x.fs.leaf_level, (shift - 12) / 9 + 1);
    /* One read per level down to the leaf. */
    cr_assert_eq(w.env.cnt.paging_reads, levels - (shift - 12) / 9);
}

Test(walk, fs_4level_4k) { check_fs(4, 12, UINT64_C(0x7f1234567000), UINT64_C(0x80001000)); }
Test(walk, fs_4level_2m) { check_fs(4, 21, UINT64_C(0x40000000), UINT64_C(0x80200000)); }
Test(walk, fs_4level_1g) { check_fs(4, 30, UINT64_C(0x8000000000), UINT64_C(0x80000000)); }
Test(walk, fs_5level_4k) { check_fs(5, 12, UINT64_C(0x00ff000000001000), UINT64_C(0x90000000)); }
Test(walk, fs_5level_1g) { check_fs(5, 30, UINT64_C(0x0100000000000000) - UINT64_C(0x40000000), UINT64_C(0xC0000000)); }

Test(walk, fs_negative_canonical_address)
{
    /* The upper half of a 48-bit space: sign-extended addresses are canonical. */
    check_fs(4, 12, UINT64_C(0xffff800000000000), UINT64_C(0x80002000));
}

/* Second stage, 3, 4, 5 levels and every page size. */
static void check_ss(unsigned levels, unsigned shift, uint64_t gpa, uint64_t hpa, unsigned perm, unsigned access)
{
    cr_assert_eq(world_pasid(&w, &ctx, 7, VTD_PGTT_SS, levels, 0, NULL, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&ss, gpa, hpa, UINT64_C(1) << shift, shift, perm, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 7, gpa + 0x123, access, false, &x), 0, "fault %#x", x.fault.code);
    cr_assert_eq(x.out, hpa + 0x123);
    cr_assert_eq(x.page_shift, shift);
    cr_assert_eq(x.perm & RW, perm & RW);
    cr_assert(x.perm & VTD_PERM_X); /* without SSEE execute is not restricted */
    cr_assert_eq(w.env.cnt.paging_reads, levels - (shift - 12) / 9);
}

Test(walk, ss_3level_4k) { check_ss(3, 12, UINT64_C(0x7ffffff000), UINT64_C(0x50000000), RWX, VTD_ACC_W); }
Test(walk, ss_4level_2m) { check_ss(4, 21, UINT64_C(0xffffffe00000), UINT64_C(0x50200000), VTD_PERM_R, VTD_ACC_R); }
Test(walk, ss_5level_1g) { check_ss(5, 30, UINT64_C(0x1ffffffc0000000), UINT64_C(0x40000000), RW, VTD_ACC_R); }
Test(walk, ss_write_only_page) { check_ss(4, 12, 0x1000, 0x2000, VTD_PERM_W, VTD_ACC_W); }

Test(walk, passthrough_is_identity)
{
    cr_assert_eq(world_pasid(&w, &ctx, 3, VTD_PGTT_PT, 0, 0, NULL, NULL, &cfg), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 3, UINT64_C(0xabcdef123), VTD_ACC_W, false, &x), 0);
    cr_assert_eq(x.out, UINT64_C(0xabcdef123));
    cr_assert_eq(x.pgtt, VTD_PGTT_PT);
    cr_assert_eq(w.env.cnt.paging_reads, 0);
    cr_assert_eq(w.env.cnt.reads, 4); /* root, context, directory, PASID entry */
}

Test(walk, request_without_pasid_uses_rid_pasid)
{
    cr_assert_eq(world_pasid(&w, &ctx, 0, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x5000, 0x66000, 0x1000, 12, RWU, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, -1, 0x5008, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(x.out, 0x66008);
    cr_assert_eq(x.pasid, 0);
}

Test(walk, translated_request_passes_address_through)
{
    struct vtd_xlate x;
    cr_assert_eq(world_xlate_kind(&w, SID, 5, 0x1234000, VTD_ACC_W, false, VTD_REQ_TRANSLATED, &x), 0);
    cr_assert_eq(x.out, 0x1234000);
    cr_assert_eq(w.env.cnt.reads, 2); /* root and context only */
}

Test(walk, trace_records_each_structure_in_order)
{
    cr_assert_eq(world_pasid(&w, &ctx, 65, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x200000, 0x300000, 0x1000, 12, RWU, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 65, 0x200000, VTD_ACC_W, false, &x), 0);
    static const unsigned kinds[] = {VTD_TR_ROOT, VTD_TR_CTX, VTD_TR_PDIR, VTD_TR_PASID,
                                     VTD_TR_FS, VTD_TR_FS, VTD_TR_FS, VTD_TR_FS};
    cr_assert_geq(w.trace.n, 8);
    for (unsigned i = 0; i < 8; i++) {
        cr_assert_eq(w.trace.rec[i].kind, kinds[i], "record %u", i);
        cr_assert_not(w.trace.rec[i].write);
    }
    cr_assert_eq(w.trace.rec[4].level, 4);
    cr_assert_eq(w.trace.rec[7].level, 1);
    cr_assert_eq(w.trace.rec[0].addr, (w.rtaddr & ~UINT64_C(0xfff)));
    cr_assert_eq(w.trace.rec[2].addr, ctx.pdtp + 8 * (65 >> 6));
    /* Then the A/D writes: A on four levels (D with the leaf's). */
    cr_assert_eq(w.trace.n, 12);
    cr_assert(w.trace.rec[11].write);
    cr_assert(w.trace.rec[11].val & VTD_FS_D);
}

Test(walk, fs_accessed_and_dirty_bits)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x400000, 0x500000, 0x1000, 12, RWU, 0), 0);
    for (unsigned l = 4; l >= 1; l--)
        cr_assert_eq(entry_at(&fs, 0x400000, l) & (VTD_FS_A | VTD_FS_D), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 1, 0x400000, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 4);
    cr_assert_not(x.dirty);
    for (unsigned l = 4; l >= 1; l--) {
        cr_assert(entry_at(&fs, 0x400000, l) & VTD_FS_A, "A at level %u", l);
        cr_assert_not(entry_at(&fs, 0x400000, l) & VTD_FS_D, "D at level %u", l);
    }
    /* A second read writes nothing; a write sets D on the leaf only. */
    cr_assert_eq(world_xlate(&w, SID, 1, 0x400000, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
    cr_assert_eq(world_xlate(&w, SID, 1, 0x400000, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 1);
    cr_assert(x.dirty);
    cr_assert(entry_at(&fs, 0x400000, 1) & VTD_FS_D);
    cr_assert_not(entry_at(&fs, 0x400000, 2) & VTD_FS_D);
}

Test(walk, extended_accessed_flag_with_eafe)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cfg.eafe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x400000, 0x500000, 0x1000, 12, RWU, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 1, 0x400000, VTD_ACC_R, false, &x), 0);
    for (unsigned l = 4; l >= 1; l--)
        cr_assert_eq(entry_at(&fs, 0x400000, l) & (VTD_FS_A | VTD_FS_EA), VTD_FS_A | VTD_FS_EA);
}

Test(walk, no_ad_writes_when_preset)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x400000, 0x500000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 1, 0x400000, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
}

Test(walk, ss_accessed_dirty_with_ssade)
{
    cr_assert_eq(world_pasid(&w, &ctx, 9, VTD_PGTT_SS, 4, 0, NULL, &ss, &cfg), 0);
    cfg.ssade = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 9, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0x200000, 0x600000, 0x200000, 21, RW, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 9, 0x201000, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 3);
    cr_assert(entry_at(&ss, 0x200000, 2) & VTD_SS_A);
    cr_assert_not(entry_at(&ss, 0x200000, 2) & VTD_SS_D);
    cr_assert_not(x.dirty);
    cr_assert_eq(world_xlate(&w, SID, 9, 0x201000, VTD_ACC_W, false, &x), 0);
    cr_assert(entry_at(&ss, 0x200000, 2) & VTD_SS_D);
    cr_assert_not(entry_at(&ss, 0x200000, 3) & VTD_SS_D);
    cr_assert(x.dirty);
}

Test(walk, ss_without_ssade_leaves_entries_alone)
{
    cr_assert_eq(world_pasid(&w, &ctx, 9, VTD_PGTT_SS, 4, 0, NULL, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0x200000, 0x600000, 0x1000, 12, RW, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 9, 0x200000, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
    cr_assert(x.dirty); /* nothing tracks dirtiness, so no update is ever needed */
}

Test(walk, supervisor_requests)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cfg.sre = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x1000, 0x9000, 0x1000, 12, VTD_PERM_R, 0), 0); /* supervisor, read-only */
    struct vtd_xlate x;
    /* Without WPE a supervisor may write a read-only page. */
    cr_assert_eq(world_xlate(&w, SID, 1, 0x1000, VTD_ACC_W, true, &x), 0);
    cr_assert(x.perm & VTD_PERM_W);
    cr_assert_not(x.perm & VTD_PERM_U);
    cr_assert(x.priv);
}

Test(walk, ats_translation_reports_permissions)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x1000, 0x9000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate_kind(&w, SID, 1, 0x1000, VTD_ACC_W, false, VTD_REQ_TRANSLATION, &x), 0);
    cr_assert_eq(x.out, 0x9000);
    cr_assert(x.perm & VTD_PERM_R);
    cr_assert_not(x.perm & VTD_PERM_W);
}

/*
 * A nested setup with 4 KiB pages at both stages, so that every second-stage walk reaches the
 * last level: guest RAM [0, 32 MiB) -> host 0x40000000.
 */
static void nested_4k(unsigned fs_levels, unsigned ss_levels)
{
    cr_assert_eq(vtd_pt_init(&ss, &w.b, VTD_PT_SS, ss_levels, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0, WORLD_GUEST_RAM_HPA, 32u << 20, 12, RWX, 0), 0);
    cr_assert_eq(vtd_pt_init(&fs, &w.b, VTD_PT_FS, fs_levels, &ss, WORLD_GUEST_PT_GPA, WORLD_GUEST_PT_SIZE), 0);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, 42);
    cfg.fs_levels = fs_levels;
    cfg.ss_levels = ss_levels;
    cfg.fsptptr = fs.root;
    cfg.ssptptr = ss.root;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 2, &cfg), 0);
}

static void check_nested_reads(unsigned n, unsigned m)
{
    nested_4k(n, m);
    uint64_t va = UINT64_C(0x7000), gpa = UINT64_C(0x1800000);
    cr_assert_eq(vtd_pt_map(&fs, va, gpa, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 2, va + 0x10, VTD_ACC_R, false, &x), 0, "fault %#x", x.fault.code);
    cr_assert_eq(x.out, WORLD_GUEST_RAM_HPA + gpa + 0x10);
    cr_assert_eq(x.pgtt, VTD_PGTT_NESTED);
    cr_assert_eq(x.did, 42);
    cr_assert_eq(w.env.cnt.paging_reads, (n + 1) * (m + 1) - 1);
    cr_assert_eq(w.env.cnt.reads, (n + 1) * (m + 1) - 1 + 4);
    unsigned for_fs = 0;
    for (unsigned i = 0; i < w.trace.n; i++)
        for_fs += w.trace.rec[i].for_fs;
    cr_assert_eq(for_fs, n * m); /* second-stage reads made to reach first-stage tables */
}

Test(walk, nested_4x4_reads_24) { check_nested_reads(4, 4); }
Test(walk, nested_5x5_reads_35) { check_nested_reads(5, 5); }
Test(walk, nested_4x3_reads_19) { check_nested_reads(4, 3); }

Test(walk, nested_combines_page_size_and_permissions)
{
    /* First stage maps a 2 MiB page read/write; the second stage maps 4 KiB pages, one read-only. */
    nested_4k(4, 4);
    cr_assert_eq(vtd_pt_map(&fs, 0x40000000, 0x1000000, 0x200000, 21, RWU, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_pt_protect(&ss, 0x1001000, 0x1000, VTD_PERM_R), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 2, 0x40001008, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(x.out, WORLD_GUEST_RAM_HPA + 0x1001008);
    cr_assert_eq(x.page_shift, 12);
    cr_assert_eq(x.perm & RW, VTD_PERM_R);
    cr_assert(x.perm & VTD_PERM_U);
    cr_assert_eq(world_xlate(&w, SID, 2, 0x40000008, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(x.perm & RW, RW);
    cr_assert_eq(world_xlate(&w, SID, 2, 0x40001008, VTD_ACC_W, false, &x), VTD_FR_WRITE);
}

Test(walk, nested_with_world_large_pages)
{
    cr_assert_eq(world_pasid(&w, &ctx, 4, VTD_PGTT_NESTED, 4, 4, &fs, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000000, 0x2000000, 0x1000, 12, RWU, 0), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 4, 0x10000abc, VTD_ACC_W, false, &x), 0, "fault %#x", x.fault.code);
    cr_assert_eq(x.out, WORLD_GUEST_RAM_HPA + 0x2000abc);
    cr_assert(x.dirty);
    /* The guest's tables live in guest memory: the leaf's D bit is in host memory behind SS. */
    cr_assert(entry_at(&fs, 0x10000000, 1) & VTD_FS_D);
}

/* Round trip: thousands of random mappings translate back exactly; unmapped ones fault 71h. */
static uint64_t rng_state = 12345;
static uint64_t rng(void) { return xorshift64(&rng_state); }

Test(walk, property_random_mappings_round_trip)
{
    enum { N = 3000 };
    static uint64_t va[N], pa[N];
    static unsigned shift[N];
    static bool gone[N];
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    /* Each mapping gets its own 1 GiB slot (at a random 2 MiB offset), so none overlap. */
    for (unsigned i = 0; i < N; i++) {
        shift[i] = (rng() & 3) == 0 ? 21 : 12;
        va[i] = ((uint64_t)i << 30) | ((rng() & 0x1ff) << 21);
        pa[i] = (UINT64_C(0x100000000) + (rng() & ((UINT64_C(1) << 38) - 1))) & ~((UINT64_C(1) << shift[i]) - 1);
        cr_assert_eq(vtd_pt_map(&fs, va[i], pa[i], UINT64_C(1) << shift[i], shift[i], RWU, 0), 0, "map %u", i);
    }
    for (unsigned i = 0; i < N; i++) {
        uint64_t off = rng() & ((UINT64_C(1) << shift[i]) - 1);
        struct vtd_xlate x;
        cr_assert_eq(world_xlate(&w, SID, 1, va[i] + off, VTD_ACC_R, false, &x), 0, "xlate %u", i);
        cr_assert_eq(x.out, pa[i] + off, "mapping %u", i);
        cr_assert_eq(x.page_shift, shift[i]);
    }
    for (unsigned i = 0; i < N; i++)
        if ((gone[i] = rng() & 1))
            cr_assert_eq(vtd_pt_unmap(&fs, va[i], UINT64_C(1) << shift[i]), 0);
    for (unsigned i = 0; i < N; i++) {
        struct vtd_xlate x;
        int rc = world_xlate(&w, SID, 1, va[i], VTD_ACC_R, false, &x);
        if (gone[i]) {
            cr_assert_eq(rc, VTD_FR_FS_P, "unmapped %u", i);
            cr_assert_eq(x.fault.level, shift[i] == 21 ? 2 : 1);
        } else {
            cr_assert_eq(rc, 0);
            cr_assert_eq(x.out, pa[i]);
        }
    }
}

/*
 * The walker remembers the host frame each level last read (walk_internal.h): a later walk must
 * still see new table contents, a new page table, and an abort range set since.
 */
/* Translate `va` (PASID 1, a read) and require `expect` as the output address. */
static void xlate_expect(uint64_t va, uint64_t expect)
{
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 1, va, VTD_ACC_R, false, &x), 0, "va %#llx", (unsigned long long)va);
    cr_assert_eq(x.out, expect, "va %#llx", (unsigned long long)va);
}

/* Map `va` to `pa` afresh (4 KiB) and translate it. */
static void remap_expect(uint64_t va, uint64_t pa)
{
    cr_assert_eq(vtd_pt_unmap(&fs, va, 0x1000), 0);
    cr_assert_eq(vtd_pt_map(&fs, va, pa, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    xlate_expect(va, pa);
}

Test(walk, remembered_frames_see_changes_and_abort_ranges)
{
    const uint64_t va = 0x200000, va2 = UINT64_C(0x7f0000000000);
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, va, 0x80000000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_pt_map(&fs, va2, 0x90000000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    xlate_expect(va, 0x80000000);
    remap_expect(va, 0xA0000000); /* new contents in the remembered leaf table */
    /* Other tables at the same levels, then back. */
    xlate_expect(va2, 0x90000000);
    xlate_expect(va, 0xA0000000);
    /* Two frames are remembered per level: after va2, va's leaf table is the older one, and
     * a change there is still seen. */
    xlate_expect(va2, 0x90000000);
    remap_expect(va, 0xB0000000);
    xlate_expect(va2, 0x90000000);
    /* An abort range on va's leaf table (now the older remembered frame), set after the
     * walks that remembered it. */
    uint64_t pte_addr;
    struct vtd_xlate x;
    cr_assert_eq(vtd_pt_entry_addr(&fs, va, 1, &pte_addr), 0);
    cr_assert_eq(vtd_mem_set_abort(w.mem, pte_addr & ~UINT64_C(0xfff), 0x1000, VTD_MEM_ABORT_READ), 0);
    cr_assert_eq(world_xlate(&w, SID, 1, va, VTD_ACC_R, false, &x), VTD_FR_FS_ACCESS);
    cr_assert_eq(x.fault.addr, pte_addr);
}
