/*
 * test_sim.c: the cached translation path: which cache serves each request, what the walk
 * reads when a paging-structure cache helps, dirty re-walks, device TLBs, and the oracle's
 * stale-translation reports when memory changes without an invalidation.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/regs.h"
#include "walker/fs_entry.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)
#define ATS_SID vtd_sid(0, 4, 0)
#define RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

static struct vtd_iommu *io;
static struct world w;
static struct vtd_ctx ctx, ats_ctx;
static struct vtd_pt fs, ss;
static struct vtd_pasid_cfg cfg;

static void setup_with(const struct vtd_iommu_config *c)
{
    const char *why = NULL;
    io = vtd_iommu_new(c, &why);
    cr_assert_not_null(io, "%s", why ? why : "");
    cr_assert_eq(world_init_mem(&w, vtd_iommu_caps(io), vtd_iommu_mem(io)), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
    cr_assert_eq(world_device(&w, ATS_SID, &ats_ctx), 0);
    vtd_iommu_set_root(io, w.rtaddr);
    struct vtd_device_config plain = {.sid = SID, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = ATS_SID, .ats = true, .pasid_bits = 20,
                                    .devtlb = {.sets = 1, .ways = 32}};
    cr_assert_eq(vtd_iommu_add_device(io, &plain), 0);
    cr_assert_eq(vtd_iommu_add_device(io, &ats), 0);
}

static void setup(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    setup_with(&c);
}

static void teardown(void)
{
    world_fini(&w);
    vtd_iommu_free(io);
}

static int dma(uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, struct vtd_dma_result *r)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
                              .addr = addr, .access = access};
    return vtd_iommu_dma(io, &req, r);
}

/* A first-stage PASID 1 on SID with two pages in one page table. */
static void fs_two_pages(void)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x1000, 12, RWU, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x11000, 0x81000, 0x1000, 12, RWU, 0), 0);
}

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

Test(sim, unmapped_leaf_without_invalidation_is_stale)
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
    cr_assert_str_eq(r.report.fix, "P_IOTLB page-selective DID 2 PASID 1 ADDR 0x10000 AM 0");
    cr_assert_eq(vtd_iommu_stats(io)->stale, 1);
    cr_assert_eq(vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB))->stale_hits, 1);
}

Test(sim, stale_paging_structure_entry_after_table_change)
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
    cr_assert_str_eq(r.report.fix, "P_IOTLB page-selective DID 2 PASID 1 ADDR 0x0 AM 9 IH 0");
}

Test(sim, pasid_entry_change_without_pasid_cache_invalidation)
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
    cr_assert(strstr(r.report.fix, "PASID-cache PASID-selective DID 2 PASID 1") != NULL, "%s", r.report.fix);
}

Test(sim, context_entry_change_without_context_cache_invalidation)
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
    cr_assert(strstr(r.report.fix, "context-cache device-selective SID 00:03.0") != NULL, "%s", r.report.fix);
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
    /* Unmap without any invalidation: the device TLB is stale. */
    cr_assert_eq(vtd_pt_unmap(&fs, 0x200000, 0x200000), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x200000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert_eq(r.report.caches, 1u << VTD_C_DEVTLB, "caches %#x", r.report.caches);
    cr_assert_str_eq(r.report.fix, "PASID-based device-TLB SID 0x20 PASID 5 ADDR 0x200000 (size 2048 KiB)");
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

static void setup_no_oracle(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.oracle = false;
    setup_with(&c);
}

Test(sim_nooracle, oracle_off_reports_nothing, .init = setup_no_oracle, .fini = teardown)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_not(r.stale);
}

Test(sim, present_pasid_entry_rewritten_in_place_warns)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0); /* rewrites a present entry */
    cr_assert_eq(vtd_iommu_warning_count(io), 1, "one warning for the whole rewrite");
    cr_assert(strstr(vtd_iommu_warning(io, 0), "modified while present") != NULL, "%s", vtd_iommu_warning(io, 0));
}

Test(sim, pasid_entry_cleared_first_does_not_warn)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_build_pasid_clear(&w.b, &ctx, 1), 0);
    cfg.wpe = true;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0));
}

Test(sim_nooracle, ordering_checks_can_be_switched_off, .init = setup_no_oracle, .fini = teardown)
{
    /* (this fixture keeps ordering checks on; switch them off here) */
    io->cfg.ordering_checks = false;
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
}

/* Submit a P_IOTLB page-selective descriptor (type 6, 256-bit). */
static void p_iotlb_psi(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    uint64_t d[4] = {6 | (3u << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32),
                     addr | am | (ih ? 1u << 6 : 0), 0, 0};
    struct vtd_qi_result qr;
    cr_assert_eq(vtd_qi_submit(io, d, 4, &qr), 0, "%s", qr.why);
}

static void qi_wait(void)
{
    uint64_t d[4] = {5 | (1u << 4), 0, 0, 0}; /* IF: completion status only */
    struct vtd_qi_result qr;
    cr_assert_eq(vtd_qi_submit(io, d, 4, &qr), 0, "%s", qr.why);
}

/* The guest frees a page table (unlinks its PDE) and invalidates with IH=1: the
 * paging-structure cache still points at the freed table, which is reused for other data. */
Test(sim, ih1_after_freeing_a_page_table_is_stale)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0); /* unlink the table */
    p_iotlb_psi(2, 1, 0x10000, 1, true);                              /* leaf-only: IH=1 */
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
    cr_assert(strstr(r.report.fix, "IH 0") != NULL, "%s", r.report.fix);
}

Test(sim, ih0_invalidation_removes_the_freed_table)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(2, 1, 0x0, 9, false); /* the whole 2 MiB the PDE covered, IH=0 */
    qi_wait();
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
}

Test(sim, table_reused_before_the_wait_warns)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    uint64_t pde_addr, pt_addr;
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 2, &pde_addr), 0);
    cr_assert_eq(vtd_pt_entry_addr(&fs, 0x10000, 1, &pt_addr), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pde_addr, 0), 0);
    p_iotlb_psi(2, 1, 0x0, 9, false);
    /* No wait yet: reusing the table page now races with the invalidation. */
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt_addr & VTD_PAGE_MASK, 0x1234), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    cr_assert(strstr(vtd_iommu_warning(io, 0), "before the invalidation wait") != NULL, "%s", vtd_iommu_warning(io, 0));
    /* After a wait, writes to that page are fine. */
    qi_wait();
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pt_addr & VTD_PAGE_MASK, 0x5678), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
}

/* A global PASID-based device-TLB invalidation (type 8, G=1) issued while the IOTLB still holds
 * a stale entry for one of the device's PASIDs raises the ordering warning; after the IOTLB
 * invalidation, the same descriptor raises none. */
Test(sim, global_pasid_devtlb_before_iotlb_warns)
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
    uint64_t d[4] = {VTD_QI_PDEVTLB | ((uint64_t)ATS_SID << 16), 0x10000 | 1, 0, 0};
    struct vtd_qi_result qr;
    cr_assert_eq(vtd_qi_submit(io, d, 4, &qr), 0, "%s", qr.why);
    cr_assert_eq(qr.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(vtd_iommu_warning_count(io), 1);
    cr_assert(strstr(vtd_iommu_warning(io, 0), "before the IOTLB invalidation") != NULL, "%s", vtd_iommu_warning(io, 0));
    p_iotlb_psi(cfg.did, 5, 0x10000, 0, false);
    cr_assert_eq(vtd_qi_submit(io, d, 4, &qr), 0, "%s", qr.why);
    cr_assert_eq(vtd_iommu_warning_count(io), 1, "no new warning once the IOTLB is clean");
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
