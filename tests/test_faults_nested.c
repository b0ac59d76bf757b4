/*
 * test_faults_nested.c: the walker's faults for the first stage nested over the second: first-stage
 * tables and A/D updates seen through the second stage (fault codes 74h-77h, VT-d 7.1.3).
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 74h-77h: nested first stage ------------------------------------------------------- */

static void set_mgaw(unsigned bits) { vtd_caps_set_field(&w.caps.cap, VTD_CAP_MGAW, bits - 1); }

Test(faults, fs_nested_output_beyond_mgaw)
{
    struct vtd_caps c = caps_with(VTD_CAP_MGAW, vtd_field_prep(38, VTD_CAP_MGAW), 0, 0); /* MGAW 39 */
    start_caps(&c);
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_NESTED, 4, 3, &fs, &ss, &cfg), 0);
    map4k(&fs, VA, NEST_DATA_GPA, RWU, VTD_MAP_AD);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(x.out, WORLD_GUEST_RAM_HPA + NEST_DATA_GPA);
    const uint64_t pte = pt_entry(&fs, VA, 1), keep = rd(pte) & ~VTD_FS_ADDR;
    wr(pte, keep | BIT(39));
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x74, pte, 1);
    /* Just below MGAW the first stage is fine; the second stage maps nothing there. */
    wr(pte, keep | (BIT(39) - PAGE));
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x86);
    /* With MGAW 57 the GPA 2^39 leaves the first stage and is beyond the 3-level AGAW. */
    set_mgaw(57);
    wr(pte, keep | BIT(39));
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x84);
}

Test(faults, fs_nested_table_beyond_mgaw)
{
    struct vtd_caps c = caps_with(VTD_CAP_MGAW, vtd_field_prep(38, VTD_CAP_MGAW), 0, 0); /* MGAW 39 */
    start_caps(&c);
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_NESTED, 4, 3, &fs, &ss, &cfg), 0);
    map4k(&fs, VA, NEST_DATA_GPA, RWU, VTD_MAP_AD);
    const uint64_t pml4e = pt_entry(&fs, VA, 4), keep = rd(pml4e) & ~VTD_FS_ADDR;
    wr(pml4e, keep | BIT(39)); /* the PDPT at GPA 2^39 */
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x74, BIT(39) + 8 * vtd_pt_index(VA, 3), 3);
    wr(pml4e, keep | (BIT(39) - PAGE)); /* below MGAW, but the second stage does not map it */
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x76);
}

/* A nested setup whose second stage uses 4 KiB pages only, so single table pages can be protected. */
#define NG_PT_GPA UINT64_C(0x100000)
#define NG_PT_HPA UINT64_C(0x40100000)
#define NG_PT_SIZE (16 * PAGE)
#define NG_DATA_GPA UINT64_C(0x800000)
#define NG_DATA_HPA UINT64_C(0x40800000)

static void nested_4k(uint32_t pasid, unsigned fs_flags)
{
    cr_assert_eq(vtd_pt_init(&ss, &w.b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, NG_PT_GPA, NG_PT_HPA, NG_PT_SIZE, 12, RWX, 0), 0);
    map4k(&ss, NG_DATA_GPA, NG_DATA_HPA, RWX, 0);
    cr_assert_eq(vtd_pt_init(&fs, &w.b, VTD_PT_FS, 4, &ss, NG_PT_GPA, NG_PT_SIZE), 0);
    map4k(&fs, VA, NG_DATA_GPA, RWU, fs_flags);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, 7);
    cfg.fs_levels = 4;
    cfg.ss_levels = 4;
    cfg.fsptptr = fs.root;
    cfg.ssptptr = ss.root;
    rebuild_pe(pasid);
}

/* Guest-physical address of the first-stage table at `level` on VA's path. */
static uint64_t fs_table_gpa(unsigned level)
{
    return level == fs.levels ? fs.root : rd(pt_entry(&fs, VA, level + 1)) & VTD_FS_ADDR;
}

Test(faults, fs_nested_ptr_read)
{
    start();
    nested_4k(1, VTD_MAP_AD);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(x.out, NG_DATA_HPA);
    const uint64_t root = fs_table_gpa(4), entry_gpa = root + 8 * vtd_pt_index(VA, 4);
    cr_assert_eq(vtd_pt_protect(&ss, root, PAGE, W), 0);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x75, entry_gpa, 4);
    cr_assert_eq(vtd_pt_protect(&ss, root, PAGE, RW), 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(vtd_pt_unmap(&ss, root, PAGE), 0); /* not mapped at all: no read either */
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x75, entry_gpa, 4);
}

Test(faults, fs_nested_read)
{
    start();
    nested_4k(1, VTD_MAP_AD);
    for (unsigned level = 3; level >= 1; level--) {
        const uint64_t table = fs_table_gpa(level);
        cr_assert_eq(vtd_pt_protect(&ss, table, PAGE, W), 0);
        int rc = xl(1, VA, VTD_ACC_R, false);
        cr_assert_eq(rc, 0x76, "table at level %u write-only: got %#x", level, (unsigned)rc);
        cr_assert_eq(x.fault.level, level);
        cr_assert_eq(x.fault.addr, table + 8 * vtd_pt_index(VA, level));
        cr_assert_eq(vtd_pt_protect(&ss, table, PAGE, RW), 0);
        rc = xl(1, VA, VTD_ACC_R, false);
        cr_assert_eq(rc, 0, "table at level %u readable again: got %#x", level, (unsigned)rc);
    }
    /* The data page write-only is the request's own read fault, not a table fault. */
    cr_assert_eq(vtd_pt_protect(&ss, NG_DATA_GPA, PAGE, W), 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x86);
}

Test(faults, fs_nested_ad_write)
{
    start();
    nested_4k(1, 0); /* first-stage entries without A */
    cr_assert_eq(vtd_pt_protect(&ss, NG_PT_GPA, NG_PT_SIZE, R), 0);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x77, pt_entry(&fs, VA, 4), 4);
    /* Only the page table's page read-only: A lands on levels 4-2, then level 1 faults. */
    cr_assert_eq(vtd_pt_protect(&ss, NG_PT_GPA, NG_PT_SIZE, RW), 0);
    cr_assert_eq(vtd_pt_protect(&ss, fs_table_gpa(1), PAGE, R), 0);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x77, pt_entry(&fs, VA, 1), 1);
    for (unsigned l = 4; l >= 2; l--)
        cr_assert(rd(pt_entry(&fs, VA, l)) & VTD_FS_A, "A at level %u", l);
}

Test(faults, fs_nested_read_only_tables_with_a_preset)
{
    start();
    nested_4k(1, VTD_MAP_AD); /* A on every level, D on the leaf */
    cr_assert_eq(vtd_pt_protect(&ss, NG_PT_GPA, NG_PT_SIZE, R), 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
}
