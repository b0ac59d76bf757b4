/*
 * container_iommufd.c: iommufd's later form of the same operations (issue 5): a nested
 * hardware page table from struct iommu_hwpt_vtd_s1 attached to one PASID, and arrays of
 * struct iommu_hwpt_vtd_s1_invalidate. Same internals as the VFIO form, so one scenario can run
 * through both generations. Errnos of Linux 6.8+ drivers/iommu/intel/nested.c
 * (intel_nested_domain_alloc, intel_nested_cache_invalidate_user), drivers/iommu/intel/pasid.c
 * (intel_pasid_setup_nested) and drivers/iommu/iommufd/hw_pagetable.c (iommufd_hwpt_invalidate);
 * the flush covers the range as 6.10+ computes it (cache.c, calculate_psi_aligned_address), or,
 * with VTD_IOMMUFD_6_8, as 6.8's nested.c + dmar.c qi_flush_piotlb did.
 */
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/container_internal.h"
#include <linux/iommufd_vtd.h>

int vtd_container_hwpt_alloc_vtd_s1(struct vtd_container *c, uint32_t pasid, const struct iommu_hwpt_vtd_s1 *s1)
{
    if (!c || !s1)
        return -EINVAL;
    /* 6.8 intel_nested_domain_alloc copies the structure up to __reserved and checks neither
     * unknown flags nor __reserved: both are ignored. The PASID checks are vtdsim's (the PASID
     * this hwpt is attached to must be one the container allocated). */
    if (pasid == 0 || pasid >= (UINT32_C(1) << 20))
        return -EINVAL;
    if (!cont_pasid_allocated(c, pasid))
        return -ENOENT;
    /* The seed's bind data carries the same facts; WPE has no seed flag (bit 2 there is PCD). */
    struct iommu_gpasid_bind_data d = {
        .argsz = sizeof(d), .version = IOMMU_GPASID_BIND_VERSION_1, .format = IOMMU_PASID_FORMAT_INTEL_VTD,
        .addr_width = s1->addr_width, .gpgd = s1->pgtbl_addr, .hpasid = pasid,
    };
    d.vendor.vtd.flags = ((s1->flags & IOMMU_VTD_S1_SRE) ? IOMMU_SVA_VTD_GPASID_SRE : 0) |
                         ((s1->flags & IOMMU_VTD_S1_EAFE) ? IOMMU_SVA_VTD_GPASID_EAFE : 0);
    const struct cont_bind_opts o = { .iommufd = true, .wpe = s1->flags & IOMMU_VTD_S1_WPE };
    return cont_bind_checked(c, &d, &o);
}

/* 6.8 (dmar.c qi_flush_piotlb): 2^am pages with am = ilog2(roundup_pow_of_two(npages)), the
 * address aligned down to that size (with a warning), so a range that straddles the block
 * boundary is left partly unflushed. */
static unsigned order_of_count(uint64_t npages)
{
    unsigned am = 0;
    while (am < 52 && (UINT64_C(1) << am) < npages)
        am++;
    return am;
}

/* Flush 2^am pages at `base` (aligned), or the whole PASID from am 52 on. */
static int flush_block(struct vtd_container *c, uint32_t pasid, uint64_t base, unsigned am, bool ih)
{
    int rc = am >= 52 ? cont_qi_piotlb_pasid(c, pasid) : cont_qi_piotlb_pages(c, pasid, base, am, ih);
    /* iommufd has no cache selection: device TLBs follow whenever ATS is on. */
    return rc ? rc : cont_flush_devtlbs(c, pasid, am >= 52 ? 0 : base, am);
}

/* One entry (intel_nested_cache_invalidate_user): 4 KiB-aligned addr, npages of 4 KiB; addr 0
 * with all-ones npages means everything. */
int cont_hwpt_inv_check(const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    if ((e->flags & ~(uint32_t)IOMMU_VTD_INV_FLAGS_LEAF) || e->__reserved)
        return -EOPNOTSUPP; /* unknown flags or __reserved */
    if ((e->addr & 0xFFF) || (e->npages == UINT64_MAX && e->addr))
        return -EINVAL; /* unaligned address, or "everything" not starting at 0 */
    return 0;
}

static int invalidate_one(struct vtd_container *c, uint32_t pasid, const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    int rc = cont_hwpt_inv_check(e);
    if (rc)
        return rc;
    bool ih = e->flags & IOMMU_VTD_INV_FLAGS_LEAF;
    bool v6_8 = c->cfg.iommufd_kernel == VTD_IOMMUFD_6_8;
    /* 6.8, npages 0: qi_flush_piotlb warns and returns, so the IOTLB keeps the page; the device
     * TLB flush that follows computes order ilog2(roundup_pow_of_two(0)), which x86-64
     * evaluates to 0 (one page at addr). */
    if (v6_8 && !e->npages)
        return cont_flush_devtlbs(c, pasid, e->addr, 0);
    /* 6.10+: npages 0 is rounded up to one page by the range helpers on x86-64. */
    uint64_t npages = e->npages ? e->npages : 1;
    if (npages == UINT64_MAX || npages > (UINT64_C(1) << 52) || e->addr + (npages << 12) - 1 < e->addr)
        return flush_block(c, pasid, 0, 52, ih);
    if (v6_8) {
        unsigned am = order_of_count(npages);
        return flush_block(c, pasid, e->addr & ~((UINT64_C(1) << (12 + am)) - 1), am, ih);
    }
    /* The smallest naturally aligned block covering the range (calculate_psi_aligned_address). */
    unsigned am = vtd_qi_am_covering(e->addr, e->addr + (npages << 12) - 1);
    return flush_block(c, pasid, am >= 52 ? 0 : (e->addr >> (12 + am)) << (12 + am), am, ih);
}

/* Bytes of an entry beyond the structure must be zero (copy_struct_from_user: -E2BIG). */
static bool tail_is_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int vtd_container_hwpt_invalidate(struct vtd_container *c, uint32_t pasid, const void *array, uint32_t entry_len,
                                  uint32_t *entry_num)
{
    if (!c || !entry_num)
        return -EINVAL;
    uint32_t want = *entry_num, done = 0;
    int rc = 0;
    *entry_num = 0;
    /* iommufd_hwpt_invalidate: entries without a buffer or a length; then the per-entry copy
     * (iommu_copy_struct_from_user_array) refuses an entry_len below the end of __reserved. */
    if (want && (!array || entry_len < sizeof(struct iommu_hwpt_vtd_s1_invalidate)))
        return -EINVAL;
    for (; done < want; done++) {
        const unsigned char *src = (const unsigned char *)array + (size_t)done * entry_len;
        struct iommu_hwpt_vtd_s1_invalidate e;
        memcpy(&e, src, sizeof(e));
        if (!tail_is_zero(src + sizeof(e), entry_len - sizeof(e))) {
            rc = -E2BIG; /* a newer, larger entry whose extra fields this kernel cannot honour */
            break;
        }
        if ((rc = invalidate_one(c, pasid, &e)))
            break;
    }
    *entry_num = done; /* how many entries were handled before any error */
    int wrc = done ? cont_qi_wait(c) : 0;
    return rc ? rc : wrc;
}
