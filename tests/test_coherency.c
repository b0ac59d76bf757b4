/*
 * test_coherency.c: non-coherent page walks (docs/walker.md, "Coherency"). With the CPU's
 * write-back cache on, the IOMMU reads memory itself where its walks do not snoop (root,
 * context and PASID structures without ECAP.C; scalable-mode paging structures without
 * ECAP.SMPWC or PWSNP; legacy tables without ECAP.C) and the CPU's view where they do; the
 * missing-flush check names the structure and the line.
 */
#include "sim_fixture.h"

#include "walker/builder.h"
#include "walker/legacy_ctx_entry.h"

static void setup_caps(uint64_t ecap_set, uint64_t ecap_clear)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.caps.ecap = (c.caps.ecap | ecap_set) & ~ecap_clear;
    setup_with(&c);
}

static void smpwc_off(void) { setup_caps(VTD_ECAP_C, VTD_ECAP_SMPWC); }
static void coherent(void) { setup_caps(VTD_ECAP_C, 0); }

TestSuite(coherency, .init = setup, .fini = teardown);
TestSuite(coherency_smpwc_off, .init = smpwc_off, .fini = teardown);
TestSuite(coherency_coherent, .init = coherent, .fini = teardown);

/* Map 0x10000 to 0x80000, translate it once, then remap it to 0x90000 with the CPU cache on. */
static void remap_in_cpu_cache(bool pwsnp)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    if (!pwsnp) {
        cfg.pwsnp = false;
        cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    }
    /* A/D set already: without PWSNP an update would fault (90h), not what is tested here. */
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(vtd_iommu_mem(io), true), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x90000, 0x1000, 12, RWU, VTD_MAP_AD), 0);
}

Test(coherency_smpwc_off, the_walk_reads_memory_and_the_check_names_the_line)
{
    remap_in_cpu_cache(true);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x80000);
    cr_assert(r.unflushed);
    cr_assert(strstr(r.flush_fix, "first-stage entry"), "%s", r.flush_fix);
    cr_assert(strstr(r.flush_fix, "ECAP.SMPWC is 0"), "%s", r.flush_fix);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    cr_assert_eq(vtd_mem_wbinvd(vtd_iommu_mem(io), NULL), 0);
    p_iotlb_pasid(cfg.did, 1, NULL);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x90000);
    cr_assert(!r.unflushed);
}

Test(coherency, pwsnp_clear_makes_paging_reads_unsnooped)
{
    remap_in_cpu_cache(false);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x80000);
    cr_assert(strstr(r.flush_fix, "PWSNP is 0"), "%s", r.flush_fix);
}

Test(coherency_coherent, snooped_walks_see_the_cpu_cache)
{
    remap_in_cpu_cache(true);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x90000);
    cr_assert(!r.unflushed);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
}

Test(coherency, a_pending_write_that_changes_nothing_is_not_reported)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x1000, 12, RWU, 0), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(vtd_iommu_mem(io), true), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x20000, 0x81000, 0x1000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x80000);
    cr_assert(!r.unflushed, "the other page's entry is not this answer's business");
}

Test(coherency, legacy_tables_follow_ecap_c)
{
    struct vtd_pt ss;
    struct vtd_ctx lctx;
    cr_assert_eq(world_legacy_root(&w), 0);
    cr_assert_eq(world_legacy_device(&w, SID, VTD_LCTX_TT_UNTRANSLATED, 4, 3, &ss, &lctx), 0);
    vtd_iommu_set_root(io, w.rtaddr);
    cr_assert_eq(vtd_pt_map(&ss, 0x10000, 0x80000, 0x1000, 12, VTD_PERM_R | VTD_PERM_W, 0), 0);
    cr_assert_eq(vtd_mem_set_cpu_cache(vtd_iommu_mem(io), true), 0);
    cr_assert_eq(vtd_pt_unmap(&ss, 0x10000, 0x1000), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, -1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, 0x80000);
    cr_assert(strstr(r.flush_fix, "second-stage entry"), "%s", r.flush_fix);
    cr_assert(strstr(r.flush_fix, "ECAP.C is 0"), "%s", r.flush_fix);
}
