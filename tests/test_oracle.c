/*
 * test_oracle.c: the stale-translation oracle (sim/oracle.c). Every answer a cache helped with
 * is compared with a fresh, uncached walk of current memory: a translation served after memory
 * changed without the invalidation VT-d 6.5 requires is reported stale, with the caches that
 * held stale data, when they were filled, what the fresh walk says, and the narrowest
 * invalidation that removes it. The same re-walks count, for every entry an invalidation
 * removes, whether it was still correct (over-invalidation).
 */
#include "sim_fixture.h"

TestSuite(oracle, .init = setup, .fini = teardown);

/*
 * The oracle's suggested fix, as text: the whole of it (FIX_IS) or a part it must name
 * (FIX_NAMES). Every check of the fix goes through here, so a change of its form (a real
 * descriptor, printed by the descriptor describer) is adapted in one place.
 */
enum fix_match { FIX_IS, FIX_NAMES };
static void expect_fix(const struct vtd_dma_result *r, const char *text, enum fix_match how)
{
    cr_assert(r->stale, "no stale report, so no fix");
    if (how == FIX_IS)
        cr_assert_str_eq(r->report.fix, text);
    else
        cr_assert(strstr(r->report.fix, text) != NULL, "fix \"%s\" lacks \"%s\"", r->report.fix, text);
}

/* ---- stale reports: which cache, since when, what the fresh walk says, the fix ------------ */

Test(oracle, unmapped_leaf_without_invalidation_is_stale)
{
    fs_two_pages();
    struct vtd_dma_result r;
    vtd_iommu_set_step(io, 3);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    vtd_iommu_set_step(io, 7);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(dma(SID, 1, 0x10040, VTD_ACC_R, &r), 0, "the stale entry is still served, as hardware would");
    cr_assert_eq(r.x.out, 0x80040);
    cr_assert(r.stale);
    cr_assert_eq(r.report.caches, 1u << VTD_C_IOTLB);
    cr_assert_eq(r.report.filled_step, 3);
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_FS_P);
    expect_fix(&r, "P_IOTLB page-selective DID 2 PASID 1 ADDR 0x10000 AM 0", FIX_IS);
    cr_assert_eq(vtd_iommu_stats(io)->stale, 1);
    cr_assert_eq(vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB))->stale_hits, 1);
}

Test(oracle, stale_paging_structure_entry_after_table_change)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    /* The guest moves its page table: rewrite the PDE to point at a new, different table. */
    uint64_t pde_addr, pt;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_builder_alloc_page(&w.b, &pt), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt + 8 * 0x11, 0x99000 | VTD_FS_P | VTD_FS_RW | VTD_FS_US), 0);
    uint64_t pde;
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), pde_addr, &pde), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, (pde & ~VTD_FS_ADDR) | pt), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_PSC);
    cr_assert_eq(r.x.out, 0x81000);
    cr_assert(r.stale);
    cr_assert_eq(r.report.fresh.out, 0x99000);
    cr_assert_eq(r.report.caches, 1u << VTD_C_PSC_FS);
    expect_fix(&r, "P_IOTLB page-selective DID 2 PASID 1 ADDR 0x0 AM 9 IH 0", FIX_IS);
}

Test(oracle, pasid_entry_change_without_pasid_cache_invalidation)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_build_pasid_clear(&w.b, &ctx, 1), 0);
    /* A different page misses the IOTLB but the PASID cache still holds the entry. */
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert(r.report.caches & (1u << VTD_C_PASID));
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_PASID_P);
    expect_fix(&r, "PASID-cache PASID-selective DID 2 PASID 1", FIX_NAMES);
}

Test(oracle, context_entry_change_without_context_cache_invalidation)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    struct vtd_ctx off = ctx;
    off.paside = false;
    cr_assert_eq(vtd_build_context(&w.b, w.rtaddr, SID, &off), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert(r.report.caches & (1u << VTD_C_CONTEXT));
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_CTX_PASIDE);
    expect_fix(&r, "context-cache device-selective SID 00:03.0", FIX_NAMES);
}

Test(oracle, unmapped_page_in_a_device_tlb_is_stale)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x200000, 0x400000, 0x200000, 21, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(ATS_SID, 5, 0x200100, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x3ff000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    /* Unmap without any invalidation: the device TLB is stale. */
    cr_assert_eq(vtd_pt_unmap(&fs, 0x200000, 0x200000), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x200000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert_eq(r.report.caches, 1u << VTD_C_DEVTLB, "caches %#x", r.report.caches);
    expect_fix(&r, "PASID-based device-TLB SID 0x20 PASID 5 ADDR 0x200000 (size 2048 KiB)", FIX_IS);
}

/* ---- the invalidation hint (IH): leaf-only invalidation keeps the paging-structure caches -- */

/* The guest frees a page table (unlinks its PDE) and invalidates with IH=1: the
 * paging-structure cache still points at the freed table, which is reused for other data. */
Test(oracle, ih1_after_freeing_a_page_table_is_stale)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0); /* unlink the table */
    p_iotlb_psi(2, 1, 0x10000, 1, true, NULL); /* leaf-only: IH=1 */
    qi_wait();
    /* The freed page is reused: it now holds what looks like a PTE to 0xbad000. */
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), (pt_addr & VTD_PAGE_MASK) + 8 * 0x11,
                                 0xbad000 | VTD_FS_P | VTD_FS_RW | VTD_FS_US | VTD_FS_A), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_PSC);
    cr_assert_eq(r.x.out, 0xbad000);
    cr_assert(r.stale);
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_FS_P);
    cr_assert_eq(r.report.caches, 1u << VTD_C_PSC_FS);
    expect_fix(&r, "IH 0", FIX_NAMES);
}

Test(oracle, ih0_invalidation_removes_the_freed_table)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(2, 1, 0x0, 9, false, NULL); /* the whole 2 MiB the PDE covered, IH=0 */
    qi_wait();
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
}

/* ---- the fix and over-invalidation ---------------------------------------------------------- */

Test(oracle, the_oracles_fix_removes_the_stale_entry)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    p_iotlb_psi(cfg.did, 1, 0x10000, 0, false, NULL); /* what r.report.fix names */
    cr_assert_neq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0, "the walk now faults");
    cr_assert_not(r.stale);
}

Test(oracle, still_correct_entries_count_as_over_invalidated)
{
    fs_two_pages();
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    uint16_t did = cfg.did;
    /* Nothing changed in memory: every entry removed was still correct. */
    p_iotlb_pasid(did, 1, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 2);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 2);
    cr_assert_gt(qr.removed[VTD_C_PSC_FS], 0);
    cr_assert_eq(qr.over[VTD_C_PSC_FS], qr.removed[VTD_C_PSC_FS]);
    cr_assert_eq(vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB))->over_invalidated, 2);
    /* After an unmap, the entry removed was stale: not over-invalidation. */
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    p_iotlb_psi(did, 1, 0x10000, 0, true, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 0);
}

/* ---- switched off ---------------------------------------------------------------------------- */

Test(oracle_off, reports_nothing, .init = setup_no_oracle, .fini = teardown)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_not(r.stale);
}
