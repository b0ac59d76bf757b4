/*
 * test_ordering.c: the ordering checks (sim/ordering.c): the order software must follow when
 * it changes translation structures (VT-d 6.5.3 and 6.5.2.x). A present PASID entry is not
 * rewritten in place (6.5.3.3), the device TLB is invalidated after the IOTLB it is refilled
 * from (6.5.2.5, 6.5.2.6), and a released page-table page is not reused before the wait that
 * follows its invalidation (6.5.2.8). Each warning has a test that raises it next to the
 * correct order, which raises none.
 */
#include "sim_fixture.h"

TestSuite(ordering, .init = setup, .fini = teardown);

/* Warning `i` (0 the first) names `part`. */
static void expect_warning(uint64_t i, const char *part)
{
    const char *text = vtd_iommu_warning(io, i);
    cr_assert_not_null(text, "no warning %llu (count %llu)", (unsigned long long)i,
                       (unsigned long long)vtd_iommu_warning_count(io));
    cr_assert(strstr(text, part) != NULL, "warning %llu \"%s\" lacks \"%s\"", (unsigned long long)i, text, part);
}

/* ---- 6.5.3.3: a present PASID entry is not modified in place --------------------------- */

Test(ordering, present_pasid_entry_rewritten_in_place_warns)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0); /* rewrites a present entry */
    cr_assert_eq(vtd_iommu_warning_count(io), 1, "one warning for the whole rewrite");
    expect_warning(0, "modified while present");
}

Test(ordering, pasid_entry_cleared_first_does_not_warn)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_build_pasid_clear(&w.b, &ctx, 1), 0);
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0));
}

/* A 512-bit entry written in one go is still not atomic for the IOMMU (VT-d 6.5.3.3). */
Test(ordering, present_pasid_entry_written_in_one_go_warns)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0); /* the entry is watched from its first use */
    const uint64_t pe = vtd_build_pasid_entry_addr(&w.b, &ctx, 1);
    uint64_t qw[8];
    cr_assert_eq(vtd_mem_read(vtd_iommu_mem(io), pe, qw, sizeof qw), 0);
    cr_assert_eq(vtd_mem_write(vtd_iommu_mem(io), pe, qw, sizeof qw), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    expect_warning(0, "modified while present");
}

/* Clearing P with a fill of the first qword is as good as a write of it. */
Test(ordering, pasid_entry_cleared_by_a_fill_does_not_warn)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    const uint64_t pe = vtd_build_pasid_entry_addr(&w.b, &ctx, 1);
    cr_assert_eq(vtd_mem_fill(vtd_iommu_mem(io), pe, 0, 8), 0);
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0));
}

/* ---- 6.5.2.8: a released page-table page is not reused before the wait ----------------- */

Test(ordering, table_reused_before_the_wait_warns)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(2, 1, 0x0, 9, false, NULL);
    /* No wait yet: reusing the table page now races with the invalidation. */
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt_addr & VTD_PAGE_MASK, 0x1234), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    expect_warning(0, "before the invalidation wait");
    /* After a wait, writes to that page are fine. */
    qi_wait();
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt_addr & VTD_PAGE_MASK, 0x5678), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
}

/* ---- 6.5.2.6: the device TLB after the IOTLB it is refilled from ----------------------- */

/* A global PASID-based device-TLB invalidation (type 8, G=1) issued while the IOTLB still holds
 * a stale entry for one of the device's PASIDs raises the ordering warning; after the IOTLB
 * invalidation, the same descriptor raises none. */
Test(ordering, global_pasid_devtlb_before_iotlb_warns)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x400000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(ATS_SID, 5, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    /* Type 8 with G=1 (bit 0 of the second qword): every PASID of the device, one 4 KiB page
     * (S=0) (VT-d 6.5.2.6). */
    struct vtd_qi_result qr;
    p_devtlb(ATS_SID, 0, true, 0x10000, &qr);
    cr_assert_eq(qr.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    expect_warning(0, "before the IOTLB invalidation");
    p_iotlb_psi(cfg.did, 5, 0x10000, 0, false, NULL);
    p_devtlb(ATS_SID, 0, true, 0x10000, &qr);
    cr_assert_eq(vtd_iommu_warning_count(io), 1, "no new warning once the IOTLB is clean");
}

/* The same warning for one PASID (type 8, G=0): given before the P_IOTLB invalidation it
 * depends on, it warns; given after it, it does not. */
Test(ordering, device_tlb_before_iotlb_raises_an_ordering_warning)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x2000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(ATS_SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    uint64_t before = vtd_iommu_warning_count(io);
    p_devtlb(ATS_SID, 1, false, 0x10000, &qr);
    cr_assert_eq(qr.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(vtd_iommu_warning_count(io), before + 1, "the IOTLB still holds the stale entry");
    p_iotlb_psi(cfg.did, 1, 0x10000, 0, false, NULL);
    p_devtlb(ATS_SID, 1, false, 0x10000, NULL);
    cr_assert_eq(vtd_iommu_warning_count(io), before + 1, "right order: no new warning");
}

/* ---- the warnings kept ----------------------------------------------------------------- */

/* Only the last IOMMU_WARNINGS_KEPT warnings can be read back; older and future indexes read NULL. */
Test(ordering, only_the_last_warnings_are_kept)
{
    cr_assert_null(vtd_iommu_warning(io, 0), "no warning yet");
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(cfg.did, 1, 0x0, 9, false, NULL); /* releases the table; no wait follows */
    for (unsigned i = 0; i <= IOMMU_WARNINGS_KEPT; i++) /* every write into it warns */
        cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), (pt_addr & VTD_PAGE_MASK) + 8 * (i % 512), i), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), IOMMU_WARNINGS_KEPT + 1);
    cr_assert_null(vtd_iommu_warning(io, 0), "the oldest is forgotten");
    expect_warning(1, "before the invalidation wait");
    expect_warning(IOMMU_WARNINGS_KEPT, "before the invalidation wait");
    cr_assert_null(vtd_iommu_warning(io, IOMMU_WARNINGS_KEPT + 1));
}

/* ---- switched off ---------------------------------------------------------------------- */

Test(ordering_off, checks_can_be_switched_off, .init = setup_no_oracle, .fini = teardown)
{
    /* (this fixture keeps ordering checks on; switch them off here) */
    io->cfg.ordering_checks = false;
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
}

/* Checks switched off after they started watching: the same unsafe orders raise nothing, and
 * switched on again they warn. */
Test(ordering, checks_switched_off_later_raise_nothing)
{
    fs_two_pages();
    struct vtd_pt ats_fs;
    struct vtd_pasid_cfg ats_cfg;
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &ats_fs, NULL, &ats_cfg), 0);
    cr_assert_eq(vtd_pt_map(&ats_fs, 0x10000, 0x400000, 0x1000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x10000, VTD_ACC_R, &r), 0);
    io->cfg.ordering_checks = false;
    /* a present PASID entry rewritten in place */
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    /* the device TLB invalidated before the IOTLB, for one PASID and for all */
    cr_assert_eq(vtd_pt_unmap(&ats_fs, 0x10000, 0x1000), 0);
    p_devtlb(ATS_SID, 5, false, 0x10000, NULL);
    cr_assert_eq(dma(ATS_SID, 5, 0x10000, VTD_ACC_R, &r), 0, "refilled from the stale IOTLB entry");
    p_devtlb(ATS_SID, 0, true, 0x10000, NULL);
    /* a released table written before the wait */
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(cfg.did, 1, 0x0, 9, false, NULL);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt_addr & VTD_PAGE_MASK, 0x1234), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0));
    /* Back on: the PASID entry is still watched. */
    io->cfg.ordering_checks = true;
    cfg.wpe = false;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    expect_warning(0, "modified while present");
}
