/*
 * dirty.c: the oracle's check for lost accessed/dirty state. Hardware updates A and D only when
 * it walks the paging structures (VT-d 3.6.3 first stage, 3.7.3 second stage): an IOTLB entry
 * remembers that its leaf was dirty and serves later writes without touching memory, and a
 * device TLB holds write permission with no D bit at all. When software clears a D bit (the
 * harvest of live migration) or an A bit and skips the invalidation, the next access through
 * the cached translation leaves the bit clear: the page is never reported. The oracle's fresh
 * walk (dry run) names the leaf entries; their bits in memory tell whether that happened.
 */
#include <stdio.h>

#include "sim/iommu_internal.h"
#include "walker/fs_entry.h"
#include "walker/ss_entry.h"

/* One stage's leaf as the fresh walk found it, and the A/D bits that stage keeps. */
struct ad_leaf {
    bool tracked;      /* the stage keeps A/D: first stage always, second stage with SSADE */
    uint64_t addr;     /* the leaf entry */
    uint64_t a, d;     /* the stage's A and D bits */
};

static struct ad_leaf leaf_of(const struct vtd_xlate *fresh, unsigned stage)
{
    if (stage == 1)
        return (struct ad_leaf){vtd_pgtt_uses_fs(fresh->pe.pgtt), fresh->fs.leaf_entry_addr, VTD_FS_A, VTD_FS_D};
    return (struct ad_leaf){vtd_pgtt_uses_ss(fresh->pe.pgtt) && fresh->pe.ssade, fresh->ss.leaf_entry_addr, VTD_SS_A,
                            VTD_SS_D};
}

/* Which of a leaf's bits are clear in memory now (a bit mask of `bits`; 0 when unreadable). */
static uint64_t bits_clear(struct vtd_iommu *io, const struct ad_leaf *l, uint64_t bits)
{
    uint64_t e;
    if (!l->tracked || vtd_mem_read64(io->mem, l->addr, &e))
        return 0;
    return ~e & bits;
}

/* The page of 2^shift bytes that holds addr. */
static uint64_t page_base(uint64_t addr, unsigned shift) { return addr & ~((UINT64_C(1) << shift) - 1); }

/* The narrowest invalidation that removes the cached translation that served the request: the
 * IOTLB entry itself, or the device-TLB entry (VT-d 6.5.2.3-6.5.2.5). */
static struct vtd_desc lost_fix(const struct vtd_iommu *io, const struct iommu_use *u, const struct vtd_request *req,
                                enum vtd_cache_id cache)
{
    if (cache == VTD_C_IOTLB)
        return iommu_iotlb_entry_fix(io, &u->iotlb_entry->key);
    return iommu_devtlb_entry_fix(u->sid, req->pasid_valid ? req->pasid : VTD_TAG_NO_PASID,
                                  page_base(req->addr, u->iotlb_shift), u->iotlb_shift);
}

static void describe_lost(struct vtd_ad_lost *l, const struct vtd_request *req)
{
    char fix[160];
    vtd_qi_describe(l->fix.qw, l->fix.nqw, fix, sizeof fix);
    snprintf(l->text, sizeof l->text,
             "%s of 0x%llx served by the %s entry filled at step %llu left %s of the %s-stage leaf at 0x%llx clear "
             "in memory (%s); invalidate it after clearing the bit: %s",
             (req->access & VTD_ACC_W) ? "write" : "access", (unsigned long long)req->addr,
             l->cache == VTD_C_IOTLB ? "IOTLB" : "device-TLB", (unsigned long long)l->filled_step,
             l->dirty ? "D" : "A", l->stage == 1 ? "first" : "second", (unsigned long long)l->entry_addr,
             l->dirty ? "the page is never reported dirty" : "the page looks unused", fix);
}

void iommu_ad_lost_check(struct vtd_iommu *io, const struct iommu_use *use, const struct vtd_request *req,
                         struct vtd_dma_result *res)
{
    const struct vtd_xlate *fresh = &res->report.fresh;
    if (fresh->fault.code || req->kind == VTD_REQ_TRANSLATION)
        return;
    bool write = (req->access & VTD_ACC_W) && (res->x.perm & VTD_PERM_W);
    struct vtd_ad_lost *l = &res->lost;
    /* The second stage first: it is what migration harvests. The entry named is the one with
     * a lost D bit if any, else the first with a lost A bit. */
    for (unsigned stage = 2; stage >= 1; stage--) {
        struct ad_leaf leaf = leaf_of(fresh, stage);
        uint64_t clear = bits_clear(io, &leaf, leaf.a | (write ? leaf.d : 0));
        if (!clear)
            continue;
        bool d = (clear & leaf.d) != 0;
        if ((d && !l->dirty) || (!l->dirty && !l->accessed)) {
            l->stage = stage;
            l->entry_addr = leaf.addr;
        }
        l->dirty = l->dirty || d;
        l->accessed = l->accessed || (clear & leaf.a) != 0;
    }
    if (!l->dirty && !l->accessed)
        return;
    l->cache = (use->used & (1u << VTD_C_DEVTLB)) ? VTD_C_DEVTLB : VTD_C_IOTLB;
    l->filled_step = use->filled[l->cache];
    l->fix = lost_fix(io, use, req, l->cache);
    describe_lost(l, req);
    io->stats.dirty_lost += l->dirty;
    io->stats.accessed_lost += l->accessed;
}
