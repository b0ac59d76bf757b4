/*
 * test_oracle.c: the stale-translation oracle (sim/oracle.c). Every answer a cache helped with
 * is compared with a fresh, uncached walk of current memory: a translation served after memory
 * changed without the invalidation VT-d 6.5 requires is reported stale, with the caches that
 * held stale data, when they were filled, what the fresh walk says, and the narrowest
 * invalidation that removes it. The same re-walks count, for every entry an invalidation
 * removes, whether it was still correct (over-invalidation).
 */
#include <stdio.h>

#include "sim_fixture.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"

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

/*
 * The oracle's fix is a real descriptor: each one submitted is valid and removes an entry, the
 * report's text is what vtd_qi_describe says of it, and the same request is then answered as
 * the fresh walk said, with nothing stale.
 */
static void fix_removes_stale(uint16_t sid, int64_t pasid, uint64_t addr, const struct vtd_dma_result *stale)
{
    struct vtd_stale rep = stale->report;
    cr_assert(stale->stale);
    cr_assert_gt(rep.nfixes, 0);
    for (unsigned i = 0; i < rep.nfixes; i++) {
        char text[128];
        vtd_qi_describe(rep.fixes[i].qw, rep.fixes[i].nqw, text, sizeof text);
        cr_assert(strstr(rep.fix, text) != NULL, "\"%s\" not in \"%s\"", text, rep.fix);
        struct vtd_qi_result q;
        cr_assert_eq(vtd_qi_submit_desc(io, &rep.fixes[i], &q), 0, "%s: %s", text, q.why);
        unsigned removed = 0;
        for (unsigned c = 0; c < VTD_C_NKINDS; c++)
            removed += q.removed[c];
        cr_assert_gt(removed, 0, "%s removed nothing", text);
    }
    struct vtd_dma_result r;
    int rc = dma(sid, pasid, addr, VTD_ACC_R, &r);
    cr_assert_not(r.stale, "still stale after %s: %s", rep.fix, r.report.fix);
    cr_assert_eq(rc, rep.fresh.fault.code);
    if (!rc)
        cr_assert_eq(r.x.out, rep.fresh.out);
}

/* Point the directory entry (level 2) above `va` at a fresh table whose entry `index` is
 * `leaf`, as a guest moving its page table would; `addr_mask` is the entry's address field. */
static int move_page_table(const struct vtd_pt *pt, uint64_t va, unsigned index, uint64_t leaf, uint64_t addr_mask)
{
    uint64_t pde_addr, pde, table;
    struct vtd_mem *mem = vtd_iommu_mem(io);
    if (vtd_pt_entry_addr(pt, va, 2, &pde_addr) || vtd_builder_alloc_page(&w.b, &table) ||
        vtd_mem_write64(mem, table + 8 * index, leaf) || vtd_mem_read64(mem, pde_addr, &pde))
        return -1;
    return vtd_mem_write64(mem, pde_addr, (pde & ~addr_mask) | table);
}

/* Clear bits of the leaf (4 KiB) entry that maps va. */
static void clear_pte_bits(const struct vtd_pt *pt, uint64_t va, uint64_t bits)
{
    uint64_t pte_addr, pte;
    cr_assert_eq(vtd_pt_entry_addr(pt, va, 1, &pte_addr), 0);
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), pte_addr, &pte), 0);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), pte_addr, pte & ~bits), 0);
}

/* ---- stale reports: which cache, since when, what the fresh walk says, the fix --------- */

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
    expect_fix(&r, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 0 IH 0", FIX_IS);
    fix_removes_stale(SID, 1, 0x10040, &r);
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
    expect_fix(&r, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x0 AM 9 IH 0", FIX_IS);
    fix_removes_stale(SID, 1, 0x11000, &r);
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
    fix_removes_stale(SID, 1, 0x11000, &r);
}

/*
 * One field of a cached PASID entry changed in place (VT-d 9.6), then a page the IOTLB does not
 * hold: the walk runs on the cached entry. The oracle reports a change that alters the answer
 * and blames the PASID cache; a change that alters no answer is no stale translation.
 */
enum pe_change { PE_PGTT_PT, PE_FSPTPTR_EMPTY, PE_FS_LEVELS_5, PE_DID };
static const struct {
    const char *name;
    enum pe_change change;
    bool stale;
    int fresh_code;     /* the fresh walk's fault (0: it translates) */
    uint64_t fresh_out; /* and then its output */
} pe_change_rows[] = {
    { .name = "PGTT first-stage to pass-through", .change = PE_PGTT_PT, .stale = true, .fresh_out = 0x11000 },
    { .name = "FSPTPTR to an empty table", .change = PE_FSPTPTR_EMPTY, .stale = true, .fresh_code = VTD_FR_FS_P },
    { .name = "5-level first stage over a 4-level table", .change = PE_FS_LEVELS_5, .stale = true,
      .fresh_code = VTD_FR_FS_P }, /* one level too many: the walk ends at an empty entry */
    { .name = "another DID, the same tables", .change = PE_DID, .stale = false },
};

static void change_pasid_entry(uint32_t pasid, struct vtd_pasid_cfg *pe, enum pe_change change)
{
    uint64_t empty;
    switch (change) {
    case PE_PGTT_PT:
        pe->pgtt = VTD_PGTT_PT;
        break;
    case PE_FSPTPTR_EMPTY:
        cr_assert_eq(vtd_builder_alloc_page(&w.b, &empty), 0);
        pe->fsptptr = empty;
        break;
    case PE_FS_LEVELS_5:
        pe->fs_levels = 5;
        break;
    case PE_DID:
        pe->did = (uint16_t)(pe->did + 100);
        break;
    }
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, pasid, pe), 0, "rewritten in place");
}

Test(oracle, pasid_entry_fields_changed_without_pasid_cache_invalidation)
{
    for (size_t i = 0; i < sizeof(pe_change_rows) / sizeof(pe_change_rows[0]); i++) {
        const uint32_t pasid = 10 + (uint32_t)i; /* one PASID-cache entry per row */
        struct vtd_pt pt;
        struct vtd_pasid_cfg pe;
        struct vtd_dma_result r;
        cr_assert_eq(world_pasid(&w, &ctx, pasid, VTD_PGTT_FS, 4, 0, &pt, NULL, &pe), 0);
        cr_assert_eq(vtd_pt_map(&pt, 0x10000, 0x80000, 0x2000, 12, RWU, VTD_MAP_AD), 0);
        cr_assert_eq(dma(SID, pasid, 0x10000, VTD_ACC_R, &r), 0);
        change_pasid_entry(pasid, &pe, pe_change_rows[i].change);
        cr_assert_eq(dma(SID, pasid, 0x11000, VTD_ACC_R, &r), 0, "row '%s'", pe_change_rows[i].name);
        cr_assert_eq(r.x.out, 0x81000, "row '%s': the cached entry's answer", pe_change_rows[i].name);
        cr_assert_eq(r.stale, pe_change_rows[i].stale, "row '%s'", pe_change_rows[i].name);
        if (!r.stale)
            continue;
        cr_assert(r.report.caches & (1u << VTD_C_PASID), "row '%s': caches %#x", pe_change_rows[i].name,
                  r.report.caches);
        cr_assert_eq(r.report.fresh.fault.code, pe_change_rows[i].fresh_code, "row '%s'", pe_change_rows[i].name);
        if (!pe_change_rows[i].fresh_code)
            cr_assert_eq(r.report.fresh.out, pe_change_rows[i].fresh_out, "row '%s'", pe_change_rows[i].name);
    }
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
    fix_removes_stale(SID, 1, 0x11000, &r);
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
    /* The IOTLB entry behind the device TLB is stale too (it would refill it), so the fix names
     * both, the IOTLB first (VT-d 6.5.2.5). */
    cr_assert_eq(r.report.caches, (1u << VTD_C_IOTLB) | (1u << VTD_C_DEVTLB), "caches %#x", r.report.caches);
    char want[160];
    snprintf(want, sizeof want, "P_IOTLB PSI DID %u PASID 5 ADDR 0x200000 AM 9 IH 0; PASID-based device-TLB SID "
             "00:04.0 PASID 5 ADDR 0x2ff000 (2048 KiB at 0x200000)", cfg.did);
    expect_fix(&r, want, FIX_IS);
    cr_assert_eq(vtd_desc_type(r.report.fixes[0].qw[0]), VTD_QI_PIOTLB);
    cr_assert_eq(vtd_desc_type(r.report.fixes[1].qw[0]), VTD_QI_PDEVTLB);
    uint64_t stale_before = vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB))->stale_hits;
    fix_removes_stale(ATS_SID, 5, 0x200000, &r);
    cr_assert_eq(vtd_cache_stats(vtd_iommu_cache(io, VTD_C_IOTLB))->stale_hits, stale_before,
                 "the IOTLB served nothing, so it counts no stale hit");
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "the fix's order raises no ordering warning");
}

/* Permissions reduced without invalidation: a read the new entry still allows is served with
 * the old permissions, and that differs from the fresh walk too. */
Test(oracle, permission_reduced_without_invalidation_is_stale)
{
    fs_two_pages();
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    clear_pte_bits(&fs, 0x10000, VTD_FS_RW);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert(r.stale);
    cr_assert_eq(r.report.fresh.fault.code, 0);
    cr_assert_eq(r.report.fresh.out, r.x.out, "the same page");
    cr_assert(r.x.perm & VTD_PERM_W);
    cr_assert_not(r.report.fresh.perm & VTD_PERM_W);
    cr_assert_eq(r.report.caches, 1u << VTD_C_IOTLB);
    expect_fix(&r, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 0 IH 0", FIX_IS);
}

/* A second-stage directory entry repointed without invalidation: the second-stage
 * paging-structure cache still leads to the old table. The fix is the domain's IOTLB
 * invalidation of the 2 MiB the entry covers, IH 0 so that paging-structure caches go too
 * (VT-d 6.5.2.3). */
Test(oracle, stale_second_stage_paging_structure_entry)
{
    struct vtd_pt sl;
    cr_assert_eq(world_pasid(&w, &ctx, 2, VTD_PGTT_SS, 4, 0, NULL, &sl, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&sl, 0x10000, 0x80000, 0x1000, 12, VTD_PERM_R | VTD_PERM_W, 0), 0);
    cr_assert_eq(vtd_pt_map(&sl, 0x11000, 0x81000, 0x1000, 12, VTD_PERM_R | VTD_PERM_W, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 2, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(move_page_table(&sl, 0x10000, 0x11, 0x99000 | VTD_SS_R | VTD_SS_W, VTD_SS_ADDR), 0);
    cr_assert_eq(dma(SID, 2, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_PSC);
    cr_assert_eq(r.x.out, 0x81000);
    cr_assert(r.stale);
    cr_assert_eq(r.report.fresh.out, 0x99000);
    cr_assert_eq(r.report.caches, 1u << VTD_C_PSC_SS, "caches %#x", r.report.caches);
    char want[96];
    snprintf(want, sizeof want, "IOTLB PSI DID %u ADDR 0x0 AM 9 IH 0", cfg.did);
    expect_fix(&r, want, FIX_IS);
    fix_removes_stale(SID, 2, 0x11000, &r);
}

/* The root entry cleared under a cached context entry: the fresh walk has no context entry at
 * all, and both the context and PASID caches are blamed, the context cache first (VT-d 6.5.3). */
Test(oracle, context_entry_gone_without_context_cache_invalidation)
{
    fs_two_pages();
    struct vtd_dma_result r;
    vtd_iommu_set_step(io, 4);
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    vtd_iommu_set_step(io, 9);
    cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), vtd_root_entry_addr(w.rtaddr & VTD_RTADDR_RTA, 0), 0), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0, "the cached context and PASID entries still serve");
    cr_assert(r.stale);
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_ROOT_P);
    cr_assert_eq(r.report.caches & ((1u << VTD_C_CONTEXT) | (1u << VTD_C_PASID)),
                 (1u << VTD_C_CONTEXT) | (1u << VTD_C_PASID), "caches %#x", r.report.caches);
    cr_assert_eq(r.report.filled_step, 4);
    expect_fix(&r, "context-cache device-selective SID 00:03.0 FM 0; PASID-cache PASID-selective DID 2 PASID 1", FIX_NAMES);
    fix_removes_stale(SID, 1, 0x11000, &r);
}

/* Without PASID the device-TLB entry is untagged, and so is the fix (type 3, VT-d 6.5.2.5). */
Test(oracle, unmapped_page_in_a_device_tlb_without_pasid_is_stale)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 0, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0); /* RID_PASID */
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x400000, 0x1000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(ATS_SID, -1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, -1, 0x10040, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x1000), 0);
    cr_assert_eq(dma(ATS_SID, -1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert_eq(r.report.caches, (1u << VTD_C_IOTLB) | (1u << VTD_C_DEVTLB), "caches %#x", r.report.caches);
    cr_assert_eq(r.report.fresh.fault.code, VTD_FR_FS_P);
    char want[160];
    snprintf(want, sizeof want, "P_IOTLB PSI DID %u PASID 0 ADDR 0x10000 AM 0 IH 0; device-TLB SID 00:04.0 ADDR "
             "0x10000 S 0 (4 KiB at 0x10000)", cfg.did);
    expect_fix(&r, want, FIX_IS);
    fix_removes_stale(ATS_SID, -1, 0x10000, &r);
}

/* ---- IH: a leaf-only invalidation keeps the paging-structure caches -------------------- */

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
    fix_removes_stale(SID, 1, 0x11000, &r);
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

/* ---- the fix and over-invalidation ----------------------------------------------------- */

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

/* An entry whose permissions changed was not still correct: removing it is no over-invalidation;
 * its unchanged neighbour is. */
Test(oracle, an_entry_with_changed_permissions_is_not_over_invalidated)
{
    fs_two_pages();
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    clear_pte_bits(&fs, 0x10000, VTD_FS_RW); /* now read-only */
    p_iotlb_psi(cfg.did, 1, 0x10000, 0, true, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 0);
    p_iotlb_psi(cfg.did, 1, 0x11000, 0, true, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 1);
}

/* The same for a second-stage entry: its permissions are the second stage's. */
Test(oracle, a_second_stage_entry_with_changed_permissions_is_not_over_invalidated)
{
    struct vtd_pt sl;
    cr_assert_eq(world_pasid(&w, &ctx, 2, VTD_PGTT_SS, 4, 0, NULL, &sl, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&sl, 0x10000, 0x80000, 0x2000, 12, VTD_PERM_R | VTD_PERM_W, 0), 0);
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(SID, 2, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(SID, 2, 0x11000, VTD_ACC_R, &r), 0);
    clear_pte_bits(&sl, 0x10000, VTD_SS_W);
    iotlb_psi(cfg.did, 0x10000, 0, true, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 0);
    iotlb_psi(cfg.did, 0x11000, 0, true, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 1);
}

/* The PASID entry moved to another domain (cleared first, as VT-d 6.5.3.3 asks): the old
 * domain's IOTLB and first-stage paging-structure entries no longer describe it. */
Test(oracle, entries_of_the_old_domain_are_not_over_invalidated)
{
    fs_two_pages();
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    const uint16_t old_did = cfg.did;
    cr_assert_eq(vtd_build_pasid_clear(&w.b, &ctx, 1), 0);
    cfg.did = (uint16_t)(old_did + 7);
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 1, &cfg), 0);
    p_iotlb_pasid(old_did, 1, &qr);
    cr_assert_eq(qr.removed[VTD_C_IOTLB], 1);
    cr_assert_eq(qr.over[VTD_C_IOTLB], 0);
    cr_assert_gt(qr.removed[VTD_C_PSC_FS], 0);
    cr_assert_eq(qr.over[VTD_C_PSC_FS], 0);
}

/* Device-TLB entries are judged the same way: still correct, or permissions changed. */
Test(oracle, device_tlb_entries_count_as_over_invalidated_only_when_still_correct)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x400000, 0x2000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    struct vtd_qi_result qr;
    cr_assert_eq(dma(ATS_SID, 5, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_cache_count(vtd_iommu_devtlb(io, ATS_SID)), 2);
    clear_pte_bits(&fs, 0x10000, VTD_FS_RW);
    p_devtlb(ATS_SID, 5, false, 0x10000, &qr);
    cr_assert_eq(qr.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(qr.over[VTD_C_DEVTLB], 0);
    p_devtlb(ATS_SID, 5, false, 0x11000, &qr);
    cr_assert_eq(qr.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(qr.over[VTD_C_DEVTLB], 1);
}

/* ---- switched off ---------------------------------------------------------------------- */

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

/* ---- one descriptor for every entry one change left stale -------------------------------- */

/* PASID 1 on SID with `n` 4 KiB pages from va, each translated once at step 2. */
static void fs_pages_translated(uint64_t va, unsigned n)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, va, 0x800000, (uint64_t)n << 12, 12, RWU, 0), 0);
    vtd_iommu_set_step(io, 2);
    struct vtd_dma_result r;
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(dma(SID, 1, va + ((uint64_t)i << 12), VTD_ACC_R, &r), 0);
        cr_assert_not(r.stale);
    }
}

static void expect_desc_text(const struct vtd_desc *d, const char *text)
{
    char got[128];
    vtd_qi_describe(d->qw, d->nqw, got, sizeof got);
    cr_assert_str_eq(got, text);
}

/* One unmap of 16 KiB leaves four IOTLB entries stale: the per-page fix names the page asked
 * for, the group names all four, and one P_IOTLB of AM 2 at the aligned base removes them. */
Test(oracle, one_unmap_of_four_pages_is_covered_by_one_am2_descriptor)
{
    fs_pages_translated(0x10000, 4);
    vtd_iommu_set_step(io, 5);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x4000), 0);
    vtd_iommu_set_step(io, 6);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x12000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    cr_assert_eq(r.report.ngroups, 1);
    const struct vtd_stale_group *g = &r.report.groups[0];
    cr_assert_eq(g->cache, VTD_C_IOTLB);
    cr_assert_eq(g->entries, 4);
    cr_assert_eq(g->npages, 4);
    cr_assert_eq(g->change_step, 5);
    cr_assert_eq(g->first, 0x10000);
    cr_assert_eq(g->last, 0x13fff);
    expect_desc_text(&g->pages[0], "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 0 IH 0");
    expect_desc_text(&g->pages[3], "P_IOTLB PSI DID 2 PASID 1 ADDR 0x13000 AM 0 IH 0");
    expect_desc_text(&g->covering, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 2 IH 0");
    expect_fix(&r, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x12000 AM 0 IH 0; or one descriptor for the 4 stale IOTLB "
                   "entries the change at step 5 left, 0x10000-0x13fff: P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 2 IH 0",
               FIX_IS);
    cr_assert(strstr(r.report.covering, "ADDR 0x10000 AM 2") != NULL, "%s", r.report.covering);
    struct vtd_qi_result q;
    cr_assert_eq(vtd_qi_submit_desc(io, &g->covering, &q), 0, "%s", q.why);
    cr_assert_eq(q.removed[VTD_C_IOTLB], 4);
    for (uint64_t va = 0x10000; va < 0x14000; va += 0x1000) {
        cr_assert_eq(dma(SID, 1, va, VTD_ACC_R, &r), VTD_FR_FS_P);
        cr_assert_not(r.stale, "0x%llx still stale", (unsigned long long)va);
    }
}

/* Two pages across a 16 KiB boundary: the aligned block that holds both is 32 KiB (AM 3). */
Test(oracle, a_span_across_an_alignment_boundary_needs_the_next_am)
{
    fs_pages_translated(0x13000, 2);
    vtd_iommu_set_step(io, 5);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x13000, 0x2000), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x13000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.report.groups[0].entries, 2);
    expect_desc_text(&r.report.groups[0].covering, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 3 IH 0");
}

/* An entry another change left stale (an earlier unmap in another page table) is not in the
 * group: the covering descriptor stays the one the later unmap needs. */
Test(oracle, entries_left_stale_by_another_change_are_not_grouped)
{
    fs_pages_translated(0x10000, 2);
    cr_assert_eq(vtd_pt_map(&fs, 0x400000, 0x900000, 0x1000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x400000, VTD_ACC_R, &r), 0);
    vtd_iommu_set_step(io, 3);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x400000, 0x1000), 0);
    vtd_iommu_set_step(io, 5);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    cr_assert_eq(dma(SID, 1, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    const struct vtd_stale_group *g = &r.report.groups[0];
    cr_assert_eq(g->entries, 2, "entries %u", g->entries);
    cr_assert_eq(g->change_step, 5);
    expect_desc_text(&g->covering, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x10000 AM 1 IH 0");
    /* The earlier change's entry has its own group, of one: no "or one descriptor" then. */
    cr_assert_eq(dma(SID, 1, 0x400000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.report.groups[0].entries, 1);
    cr_assert_eq(r.report.groups[0].change_step, 3);
    cr_assert_null(strstr(r.report.fix, "or one descriptor"), "%s", r.report.fix);
}

/* Second-stage entries take a type-2 descriptor, whose AM CAP.MAMV bounds: above it, the
 * narrowest single descriptor is domain-selective (VT-d 6.5.2.3). */
static void ss_four_pages_unmapped(struct vtd_dma_result *r)
{
    struct vtd_pt sl;
    cr_assert_eq(world_pasid(&w, &ctx, 2, VTD_PGTT_SS, 4, 0, NULL, &sl, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&sl, 0x10000, 0x80000, 0x4000, 12, VTD_PERM_R | VTD_PERM_W, 0), 0);
    for (uint64_t va = 0x10000; va < 0x14000; va += 0x1000)
        cr_assert_eq(dma(SID, 2, va, VTD_ACC_R, r), 0);
    vtd_iommu_set_step(io, 4);
    cr_assert_eq(vtd_pt_unmap(&sl, 0x10000, 0x4000), 0);
    cr_assert_eq(dma(SID, 2, 0x10000, VTD_ACC_R, r), 0);
    cr_assert(r->stale);
    cr_assert_eq(r->report.groups[0].entries, 4);
}

Test(oracle, second_stage_group_takes_a_type2_psi_within_mamv)
{
    struct vtd_dma_result r;
    ss_four_pages_unmapped(&r);
    char want[64];
    snprintf(want, sizeof want, "IOTLB PSI DID %u ADDR 0x10000 AM 2 IH 0", cfg.did);
    expect_desc_text(&r.report.groups[0].covering, want);
}

/* Replaces the suite's IOMMU (its init ran first) with one of MAMV 1. */
static void setup_mamv1(void)
{
    teardown();
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.caps.cap = (c.caps.cap & ~VTD_CAP_MAMV) | vtd_field_prep(1, VTD_CAP_MAMV);
    setup_with(&c);
}

Test(oracle, second_stage_group_above_mamv_is_domain_selective, .init = setup_mamv1)
{
    struct vtd_dma_result r;
    ss_four_pages_unmapped(&r);
    char want[64];
    snprintf(want, sizeof want, "IOTLB domain-selective DID %u", cfg.did);
    expect_desc_text(&r.report.groups[0].covering, want);
    struct vtd_qi_result q;
    cr_assert_eq(vtd_qi_submit_desc(io, &r.report.groups[0].covering, &q), 0, "%s", q.why);
    cr_assert_eq(q.removed[VTD_C_IOTLB], 4);
}

/* A device TLB and the IOTLB behind it, both stale for four pages: one group each, the IOTLB's
 * first, and the device TLB's covering descriptor is the 16 KiB size encoding (S = 1). */
Test(oracle, device_tlb_and_iotlb_groups_each_get_one_descriptor)
{
    cr_assert_eq(world_pasid(&w, &ats_ctx, 5, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x800000, 0x4000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    for (uint64_t va = 0x10000; va < 0x14000; va += 0x1000)
        cr_assert_eq(dma(ATS_SID, 5, va, VTD_ACC_R, &r), 0);
    vtd_iommu_set_step(io, 8);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x4000), 0);
    cr_assert_eq(dma(ATS_SID, 5, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(r.report.ngroups, 2);
    cr_assert_eq(r.report.groups[0].cache, VTD_C_IOTLB);
    cr_assert_eq(r.report.groups[1].cache, VTD_C_DEVTLB);
    cr_assert_eq(r.report.groups[1].entries, 4);
    expect_desc_text(&r.report.groups[1].covering,
                     "PASID-based device-TLB SID 00:04.0 PASID 5 ADDR 0x11000 (16 KiB at 0x10000)");
    /* Both groups' texts fit whole, the IOTLB's first. */
    expect_fix(&r, "; or one descriptor for the 4 stale device-TLB entries the change at step 8 left, "
                   "0x10000-0x13fff: PASID-based device-TLB SID 00:04.0 PASID 5 ADDR 0x11000 (16 KiB at 0x10000)",
               FIX_NAMES);
    const char *dev = strstr(r.report.covering, "PASID-based device-TLB SID 00:04.0 PASID 5 ADDR 0x11000 (16 KiB at "
                                                "0x10000) (covers the 4 stale device-TLB entries the change at step 8 "
                                                "left, 0x10000-0x13fff)");
    const char *iotlb = strstr(r.report.covering, "P_IOTLB PSI DID");
    cr_assert(dev && iotlb && iotlb < dev, "%s", r.report.covering);
    for (unsigned i = 0; i < r.report.ngroups; i++)
        cr_assert_eq(vtd_qi_submit_desc(io, &r.report.groups[i].covering, NULL), 0);
    cr_assert_eq(vtd_iommu_warning_count(io), 0);
    for (uint64_t va = 0x10000; va < 0x14000; va += 0x1000) {
        cr_assert_eq(dma(ATS_SID, 5, va, VTD_ACC_R, &r), VTD_FR_FS_P);
        cr_assert_not(r.stale);
    }
}

/* More stale entries than the report keeps descriptors for: the lowest addresses are kept, all
 * are counted and covered. */
Test(oracle, a_large_group_keeps_its_lowest_pages)
{
    fs_pages_translated(0x20000, 12);
    vtd_iommu_set_step(io, 5);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x20000, 0xc000), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x2b000, VTD_ACC_R, &r), 0);
    const struct vtd_stale_group *g = &r.report.groups[0];
    cr_assert_eq(g->entries, 12);
    cr_assert_eq(g->npages, VTD_STALE_PAGES_KEPT);
    expect_desc_text(&g->pages[0], "P_IOTLB PSI DID 2 PASID 1 ADDR 0x20000 AM 0 IH 0");
    expect_desc_text(&g->pages[VTD_STALE_PAGES_KEPT - 1], "P_IOTLB PSI DID 2 PASID 1 ADDR 0x27000 AM 0 IH 0");
    expect_desc_text(&g->covering, "P_IOTLB PSI DID 2 PASID 1 ADDR 0x20000 AM 4 IH 0");
}

/* A block of the whole address space is better said PASID-selective. */
Test(oracle, a_block_of_everything_is_pasid_selective)
{
    struct vtd_desc d = iommu_iotlb_block_fix(io, 2, 5, 0, VTD_QI_AM_EVERYTHING);
    expect_desc_text(&d, "P_IOTLB all-in-PASID DID 2 PASID 5");
}

/* Without step numbers (trace replay sets none), changes are not told apart: the group is every
 * stale entry of the tag, and the text says no step. */
Test(oracle, without_steps_the_group_names_no_change)
{
    fs_pages_translated(0x10000, 2);
    vtd_iommu_set_step(io, 0);
    cr_assert_eq(vtd_pt_unmap(&fs, 0x10000, 0x2000), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.report.groups[0].change_step, 0);
    expect_fix(&r, "or one descriptor for the 2 stale IOTLB entries, 0x10000-0x11fff: P_IOTLB PSI DID 2 PASID 1 ADDR "
                   "0x10000 AM 1 IH 0", FIX_NAMES);
}
