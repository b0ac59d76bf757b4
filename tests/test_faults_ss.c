/*
 * test_faults_ss.c: the walker's faults for the second-stage walk (fault codes 78h-7Ch, VT-d 7.1.3).
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 78h-7Ch: second stage ------------------------------------------------------------- */

Test(faults, ss_access_read)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, RW, 0);
    const uint64_t pde = pt_entry(&ss, VA, 2);
    abort_page(pde, VTD_MEM_ABORT_WRITE); /* without SSADE nothing is written */
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    abort_page(pde, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x78, pde, 2);
}

Test(faults, ss_access_ad_update)
{
    start();
    ss_pasid(1, 4);
    cfg.ssade = true;
    rebuild_pe(1);
    map4k(&ss, VA, PA, RW, 0);
    const uint64_t pte = pt_entry(&ss, VA, 1);
    abort_page(pte, VTD_MEM_ABORT_WRITE);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x78, pte, 1);
    /* The same abort with A and D preset: nothing to write. */
    map4k(&ss, VA + BIT(39), PA, RW, VTD_MAP_AD);
    abort_page(pt_entry(&ss, VA + BIT(39), 1), VTD_MEM_ABORT_WRITE);
    EXPECT(xl(1, VA + BIT(39), VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
}

Test(faults, ss_access_nested_table_fetch)
{
    start();
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_NESTED, 4, 4, &fs, &ss, &cfg), 0);
    map4k(&fs, VA, NEST_DATA_GPA, RWU, VTD_MAP_AD);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    abort_page(ss.root, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x78, ss.root + 8 * vtd_pt_index(fs.root, 4), 4);
    cr_assert_gt(w.trace.n, 0);
    cr_assert(w.trace.rec[w.trace.n - 1].for_fs, "the failing read served a first-stage table fetch");
}

Test(faults, ss_reserved)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, RWX, 0);
    cr_assert_eq(vtd_pt_map(&ss, VA2M, PA2M, UINT64_C(1) << 21, 21, RWX, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, VA1G, PA1G, UINT64_C(1) << 30, 30, RWX, 0), 0);
    static const struct entry_row rows[] = {
        { .name = "4 KiB page as mapped", .va = VA, .level = 1, .expect = 0 },
        { .name = "bit 62 in the leaf", .va = VA, .level = 1, .set = BIT(62), .expect = 0x7A },
        { .name = "ignored bit 63 in the leaf", .va = VA, .level = 1, .set = BIT(63), .expect = 0 },
        { .name = "PS in the SS-PML4E", .va = VA, .level = 4, .set = VTD_SS_PS, .expect = 0x7A },
        { .name = "ignored bit 10 in the SS-PML4E", .va = VA, .level = 4, .set = BIT(10), .expect = 0 },
        { .name = "address bit 48 (HAW) in the leaf", .va = VA, .level = 1, .set = BIT(48), .expect = 0x7A },
        { .name = "address bit 47 in the leaf", .va = VA, .level = 1, .set = BIT(47), .expect = 0 },
        { .name = "SNP in the leaf with ECAP.SC", .va = VA, .level = 1, .set = VTD_SS_SNP, .expect = 0 },
        { .name = "SNP in the leaf without ECAP.SC", .va = VA, .level = 1, .set = VTD_SS_SNP, .ecap_clr = VTD_ECAP_SC,
          .expect = 0x7A },
        { .name = "SNP in the SS-PML4E", .va = VA, .level = 4, .set = VTD_SS_SNP, .expect = 0x7A },
        { .name = "2 MiB leaf with CAP.SSLPS 2M", .va = VA2M, .level = 2, .expect = 0 },
        { .name = "2 MiB leaf without CAP.SSLPS 2M", .va = VA2M, .level = 2, .cap_clr = VTD_CAP_SSLPS_2M,
          .expect = 0x7A },
        { .name = "bit 12 in a 2 MiB leaf", .va = VA2M, .level = 2, .set = BIT(12), .expect = 0x7A },
        { .name = "1 GiB leaf with CAP.SSLPS 1G", .va = VA1G, .level = 3, .expect = 0 },
        { .name = "1 GiB leaf without CAP.SSLPS 1G", .va = VA1G, .level = 3, .cap_clr = VTD_CAP_SSLPS_1G,
          .expect = 0x7A },
        { .name = "bit 29 in a 1 GiB leaf", .va = VA1G, .level = 3, .set = BIT(29), .expect = 0x7A },
    };
    run_entry_rows(&ss, rows, sizeof(rows) / sizeof(rows[0]));
}

Test(faults, ssptptr_invalid)
{
    start();
    ss_pasid(1, 4);
    cfg.ssptptr = HAW_LIMIT;
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x7B, HAW_LIMIT, 0);
    cfg.ssptptr = BIT(47); /* legal, and an empty table */
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x86, BIT(47), 4);
}

Test(faults, ss_ad_nosnoop)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, RW, 0);                       /* no A anywhere */
    map4k(&ss, VA + BIT(39), PA, RW, VTD_MAP_AD);    /* new tables: A everywhere, D on the leaf */
    cfg.ssade = true;
    cfg.pwsnp = false;
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x7C, pt_entry(&ss, VA, 4), 4);
    EXPECT(xl(1, VA + BIT(39), VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA + BIT(39), VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
    cfg.ssade = false; /* no A/D tracking: nothing to write */
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cfg.ssade = true;
    cfg.pwsnp = true; /* snooped walk: the update is made */
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 4);
}
