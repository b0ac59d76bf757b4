/*
 * container_iommufd.c: iommufd's later form of the same operations (issue 5): a nested
 * hardware page table from struct iommu_hwpt_vtd_s1 attached to one PASID, and arrays of
 * struct iommu_hwpt_vtd_s1_invalidate. Same internals as the VFIO form, so one scenario can run
 * through both generations. Errnos modelled on Linux 6.x intel/nested.c and iommufd (see
 * docs/uapi.md); not checked byte for byte against a kernel.
 */
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>

#include "sim/container_internal.h"
#include <linux/iommufd_vtd.h>

int vtd_container_hwpt_alloc_vtd_s1(struct vtd_container *c, uint32_t pasid, const struct iommu_hwpt_vtd_s1 *s1)
{
    if (!c || !s1)
        return -EINVAL;
    if ((s1->flags & ~(uint64_t)(IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE)) || s1->__reserved)
        return -EOPNOTSUPP;
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

/* One entry: 4 KiB-aligned addr, npages of 4 KiB (addr 0 with all-ones npages: everything). */
static int invalidate_one(struct vtd_container *c, uint32_t pasid, const struct iommu_hwpt_vtd_s1_invalidate *e)
{
    if ((e->flags & ~(uint32_t)IOMMU_VTD_INV_FLAGS_LEAF) || e->__reserved)
        return -EOPNOTSUPP;
    if ((e->addr & 0xFFF) || (e->npages == UINT64_MAX && e->addr) || e->npages == 0)
        return -EINVAL;
    int rc;
    if (e->npages == UINT64_MAX || e->npages > (UINT64_C(1) << 52) || e->addr + (e->npages << 12) - 1 < e->addr) {
        rc = cont_qi_piotlb_pasid(c, pasid);
        return rc ? rc : cont_flush_devtlbs(c, pasid, 0, 52);
    }
    uint64_t last = e->addr + (e->npages << 12) - 1;
    unsigned am = 0;
    while (am < 52 && (e->addr >> (12 + am)) != (last >> (12 + am)))
        am++;
    uint64_t base = am >= 52 ? 0 : (e->addr >> (12 + am)) << (12 + am);
    rc = am >= 52 ? cont_qi_piotlb_pasid(c, pasid)
                  : cont_qi_piotlb_pages(c, pasid, base, am, e->flags & IOMMU_VTD_INV_FLAGS_LEAF);
    /* iommufd has no cache selection: device TLBs follow whenever ATS is on. */
    return rc ? rc : cont_flush_devtlbs(c, pasid, base, am);
}

int vtd_container_hwpt_invalidate(struct vtd_container *c, uint32_t pasid, const void *array, uint32_t entry_len,
                                  uint32_t *entry_num)
{
    if (!c || !entry_num)
        return -EINVAL;
    uint32_t want = *entry_num, done = 0;
    int rc = 0;
    *entry_num = 0;
    if (want && (!array || entry_len < sizeof(struct iommu_hwpt_vtd_s1_invalidate)))
        return -EINVAL;
    for (; done < want; done++) {
        struct iommu_hwpt_vtd_s1_invalidate e;
        memcpy(&e, (const char *)array + (size_t)done * entry_len, sizeof(e));
        if ((rc = invalidate_one(c, pasid, &e)))
            break;
    }
    *entry_num = done; /* how many entries were handled before any error */
    int wrc = done ? cont_qi_wait(c) : 0;
    return rc ? rc : wrc;
}
