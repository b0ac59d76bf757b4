/*
 * test_sim.c: the cached translation path: which cache serves each request, what the walk
 * reads when a paging-structure cache helps, dirty re-walks and device TLBs. (The oracle's
 * stale-translation reports are in test_oracle.c, the ordering warnings in test_ordering.c.)
 */
#include <errno.h>

#include "sim/regs.h"
#include "sim_fixture.h"

static struct vtd_pt ss; /* the second stage of the nested walk */

TestSuite(sim, .init = setup, .fini = teardown);



Test(sim, second_access_hits_the_iotlb)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10008, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_WALK);
    cr_assert_eq(r.x.out, 0x80008);
    cr_assert_eq(r.paging_reads, 4);
    cr_assert_eq(dma(SID, 1, 0x10010, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_eq(r.x.out, 0x80010);
    cr_assert_eq(r.reads, 0); /* context, PASID and IOTLB all hit */
    cr_assert(r.used & (1u << VTD_C_CONTEXT));
    cr_assert(r.used & (1u << VTD_C_PASID));
    cr_assert_not(r.stale);
    const struct vtd_cache_stats *st = vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB));
    cr_assert_eq(st->lookups, 2);
    cr_assert_eq(st->hits, 1);
    cr_assert_eq(st->fills, 1);
}

Test(sim, paging_structure_cache_shortens_the_walk)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    /* The neighbouring page misses the IOTLB; the cached PDE leaves one read: the PTE. */
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_PSC);
    cr_assert_eq(r.paging_reads, 1);
    cr_assert_eq(r.x.out, 0x81000);
    cr_assert_not(r.stale);
    /* Two first-stage walks, five first-stage reads; one root, context and PASID fetch. */
    const struct vtd_iommu_stats *st = vtd_iommu_stats(io);
    cr_assert_eq(st->stage_walks[VTD_TR_FS], 2);
    cr_assert_eq(st->stage_reads[VTD_TR_FS], 5);
    cr_assert_eq(st->stage_reads[VTD_TR_ROOT], 1);
    cr_assert_eq(st->stage_reads[VTD_TR_PASID], 1);
    cr_assert_eq(st->reads_hist[1], 1);
    cr_assert_eq(st->walks, 2);
}

Test(sim, write_through_clean_entry_walks_again_and_sets_dirty)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_not(r.x.dirty);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_W, &r), 0);
    cr_assert_neq(r.source, VTD_SRC_IOTLB, "a clean IOTLB entry must not serve a write");
    uint64_t pte_addr, pte;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pte_addr), 0);
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), pte_addr, &pte), 0);
    cr_assert(pte & VTD_FS_D);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_not(r.stale);
}

Test(sim, device_tlb_serves_ats_devices)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x200000, 0x400000, 0x200000, 21, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(ATS_SID, 5, 0x200100, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x400100);
    cr_assert_neq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(r.paging_reads, 3, "the translation request's walk counts (2 MiB leaf at level 2)");
    cr_assert_eq(dma(ATS_SID, 5, 0x3ff000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(r.x.out, 0x5ff000);
    cr_assert_eq(vtd_cache_count(vtd_iommu_devtlb(io, ATS_SID)), 1);
}

Test(sim, faults_are_counted_and_not_cached)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x50000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_eq(dma(SID, 1, 0x50000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_eq(vtd_iommu_stats(io)->faults, 2);
    cr_assert_eq(vtd_iommu_stats(io)->fault_count[VTD_FR_FS_P], 2);
    cr_assert_eq(vtd_cache_count(vtd_iommu_cache(io, VTD_C_IOTLB)), 0);
}

Test(sim, iotlb_permission_check_uses_the_requester)
{
    /* A supervisor-only page: a user request faults even when the IOTLB holds the page. */
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cfg.sre = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x1000, 12, VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD), 0);
    struct vtd_request req = {.sid = SID, .pasid_valid = true, .pasid = 1, .addr = 0x10000, .access = VTD_ACC_R,
                              .priv = true};
    struct vtd_dma_result r;
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), 0);
    req.priv = false;
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), VTD_FR_US);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_not(r.stale);
}

Test(sim, nested_walk_uses_second_stage_psc)
{
    cr_assert_eq(world_pasid(&w, &ctx, 4, VTD_PGTT_NESTED, 4, 4, &fs, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000000, 0x2000000, 0x2000, 12, RWU, VTD_MAP_AD), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 4, 0x10000000, VTD_ACC_R, &r), 0);
    unsigned first = r.paging_reads;
    cr_assert_eq(dma(SID, 4, 0x10001000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, WORLD_GUEST_RAM_HPA + 0x2001000);
    cr_assert_lt(r.paging_reads, first);
    cr_assert_eq(r.source, VTD_SRC_PSC);
    cr_assert_not(r.stale);
}

static void setup_no_caches(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    for (unsigned i = 0; i < VTD_C_NCACHES; i++)
        c.cache[i] = (struct vtd_cache_geometry){0};
    setup_with(&c);
}

Test(sim_nocache, disabled_caches_always_walk, .init = setup_no_caches, .fini = teardown)
{
    fs_two_pages();
    struct vtd_dma_result r;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
        cr_assert_eq(r.source, VTD_SRC_WALK);
        cr_assert_eq(r.paging_reads, 4);
        cr_assert_eq(r.used, 0);
    }
}

/* vtd_iommu_reset: the same world rebuilt after a reset gives the same answers as the first time. */
Test(sim, reset_is_like_new)
{
    struct vtd_dma_result r1, r2;
    fs_two_pages();
    cr_assert_eq(dma(SID, 1, 0x10008, VTD_ACC_W, &r1), 0);
    cr_assert_eq(dma(SID, 1, 0x10008, VTD_ACC_W, &r2), 0);
    cr_assert_eq(r2.source, VTD_SRC_IOTLB, "the second DMA hits the IOTLB");
    cr_assert_eq(dma(SID, 1, 0x900000, VTD_ACC_R, &r2), VTD_FR_FS_P);
    cr_assert_gt(vtd_mem_frames(vtd_iommu_mem(io)), 0);

    vtd_iommu_reset(io);
    cr_assert_eq(vtd_mem_frames(vtd_iommu_mem(io)), 0, "memory is empty");
    cr_assert_eq(vtd_iommu_stats(io)->requests, 0);
    cr_assert_eq(vtd_iommu_stats(io)->faults, 0);
    for (unsigned i = 0; i < VTD_C_NCACHES; i++)
        cr_assert_eq(vtd_cache_count(vtd_iommu_cache(io, i)), 0, "cache %u is empty", i);
    uint64_t gsts = ~UINT64_C(0);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_GSTS, 4, &gsts), 0);
    cr_assert_eq(gsts, 0, "no root table, translation off");

    /* The devices stayed; the same tables built again answer as before, from a walk first. */
    vtd_iommu_reset(io);
    cr_assert_eq(world_init_mem(&w, vtd_iommu_caps(io), vtd_iommu_mem(io)), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
    vtd_iommu_set_root(io, w.rtaddr);
    fs_two_pages();
    cr_assert_eq(dma(SID, 1, 0x10008, VTD_ACC_W, &r2), 0);
    cr_assert_eq(r2.source, VTD_SRC_WALK, "no cached entry survived");
    cr_assert_eq(r2.x.out, r1.x.out);
    cr_assert_eq(r2.reads, r1.reads);
    cr_assert_eq(vtd_iommu_stats(io)->requests, 1);
    cr_assert_eq(vtd_iommu_add_device(io, &(struct vtd_device_config){.sid = SID}), -EEXIST, "devices are kept");
}
