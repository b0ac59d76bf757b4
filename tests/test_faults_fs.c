/*
 * test_faults_fs.c: the walker's faults for the first-stage walk (fault codes 70h-73h) and its
 * A/D update without snooping (90h), VT-d 7.1.3.
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 70h-73h: first stage -------------------------------------------------------------- */

Test(faults, fs_access_read)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, VTD_MAP_AD);
    const uint64_t pde = pt_entry(&fs, VA, 2);
    abort_page(pde, VTD_MEM_ABORT_WRITE); /* A and D already set: nothing to write */
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
    abort_page(pde, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x70, pde, 2);
}

Test(faults, fs_access_ad_update)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0); /* no A anywhere */
    const uint64_t pte = pt_entry(&fs, VA, 1);
    abort_page(pte, VTD_MEM_ABORT_WRITE);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x70, pte, 1);
    for (unsigned l = 4; l >= 2; l--)
        cr_assert(rd(pt_entry(&fs, VA, l)) & VTD_FS_A, "A at level %u", l);
    cr_assert_not(rd(pte) & VTD_FS_A);
}

Test(faults, fs_access_ad_preset_needs_no_write)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, VTD_MAP_AD);
    abort_page(pt_entry(&fs, VA, 1), VTD_MEM_ABORT_WRITE);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
}

Test(faults, fs_not_present)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, VTD_MAP_AD);
    const struct {
        const char *name;
        uint64_t va;
        int expect;
        unsigned level;
    } rows[] = {
        { .name = "mapped", .va = VA, .expect = 0 },
        { .name = "PTE empty", .va = VA + PAGE, .expect = 0x71, .level = 1 },
        { .name = "PDE empty", .va = VA + (UINT64_C(1) << 21), .expect = 0x71, .level = 2 },
        { .name = "PDPE empty", .va = VA + (UINT64_C(1) << 30), .expect = 0x71, .level = 3 },
        { .name = "PML4E empty", .va = VA + (UINT64_C(1) << 39), .expect = 0x71, .level = 4 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = xl(1, rows[i].va, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        if (rc) {
            cr_assert_eq(x.fault.level, rows[i].level, "row '%s': level %u", rows[i].name, x.fault.level);
            cr_assert_eq(x.fault.addr, pt_entry(&fs, rows[i].va, rows[i].level), "row '%s': addr", rows[i].name);
        } else {
            cr_assert_eq(x.out, PA);
        }
    }
}

Test(faults, fs_reserved)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, VTD_MAP_AD);
    cr_assert_eq(vtd_pt_map(&fs, VA2M, PA2M, UINT64_C(1) << 21, 21, RWU, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_pt_map(&fs, VA1G, PA1G, UINT64_C(1) << 30, 30, RWU, VTD_MAP_AD), 0);
    static const struct entry_row rows[] = {
        { .name = "4 KiB page as mapped", .va = VA, .level = 1, .expect = 0 },
        { .name = "PS in the PML4E", .va = VA, .level = 4, .set = VTD_FS_PS, .expect = 0x72 },
        { .name = "ignored bit 9 in the PML4E", .va = VA, .level = 4, .set = BIT(9), .expect = 0 },
        { .name = "address bit 51 in the PDPE", .va = VA, .level = 3, .set = BIT(51), .expect = 0x72 },
        { .name = "address bit 48 (HAW) in the PTE", .va = VA, .level = 1, .set = BIT(48), .expect = 0x72 },
        { .name = "address bit 47 in the PTE", .va = VA, .level = 1, .set = BIT(47), .expect = 0 },
        { .name = "2 MiB page as mapped", .va = VA2M, .level = 2, .expect = 0 },
        { .name = "bit 13 in a 2 MiB leaf", .va = VA2M, .level = 2, .set = BIT(13), .expect = 0x72 },
        { .name = "bit 12 (PAT) in a 2 MiB leaf", .va = VA2M, .level = 2, .set = BIT(12), .expect = 0 },
        { .name = "1 GiB page with CAP.FS1GP", .va = VA1G, .level = 3, .expect = 0 },
        { .name = "1 GiB page without CAP.FS1GP", .va = VA1G, .level = 3, .cap_clr = VTD_CAP_FS1GP, .expect = 0x72 },
        { .name = "bit 29 in a 1 GiB leaf", .va = VA1G, .level = 3, .set = BIT(29), .expect = 0x72 },
    };
    run_entry_rows(&fs, rows, sizeof(rows) / sizeof(rows[0]));
}

Test(faults, fsptptr_invalid)
{
    start();
    fs_pasid(1, 4);
    cfg.fsptptr = HAW_LIMIT;
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x73, HAW_LIMIT, 0);
    cfg.fsptptr = BIT(47); /* legal, and an empty table */
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x71, BIT(47), 4);
}

/* ---- 90h: first-stage A/D update without snooping -------------------------------------- */

Test(faults, fs_ad_nosnoop)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0);                              /* no A anywhere */
    map4k(&fs, VA + BIT(39), PA + PAGE, RWU, VTD_MAP_AD);    /* new tables: A everywhere, D on the leaf */
    cfg.pwsnp = false;
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x90, pt_entry(&fs, VA, 4), 4);
    EXPECT(xl(1, VA + BIT(39), VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA + BIT(39), VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
    cfg.pwsnp = true;
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 4);
}
