/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The two Intel VT-d nesting structures of the later iommufd API
 * (include/uapi/linux/iommufd.h in mainline Linux): the stage-1 page-table
 * description passed to IOMMU_HWPT_ALLOC and the stage-1 invalidation
 * request passed to IOMMU_HWPT_INVALIDATE. vtdsim maps them onto the same
 * machinery as the vSVA bind and cache-invalidate requests (issue 5).
 *
 * Only these definitions are copied, with the mainline names and values and
 * our own text. The file is deliberately not called iommufd.h and has its
 * own guard, so the real <linux/iommufd.h> is never shadowed; do not include
 * both in one translation unit, as the struct names would clash.
 *
 * Layouts are checked at the end of the file.
 */
#ifndef VTDSIM_UAPI_LINUX_IOMMUFD_VTD_H
#define VTDSIM_UAPI_LINUX_IOMMUFD_VTD_H

#include <linux/types.h>
#include <stddef.h>

/* Bits of iommu_hwpt_vtd_s1.flags: PASID-entry controls for stage 1. */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,  /* supervisor requests allowed */
	IOMMU_VTD_S1_EAFE = 1 << 1, /* extended-accessed flag enable */
	IOMMU_VTD_S1_WPE = 1 << 2,  /* write-protect enable */
};

/*
 * A guest stage-1 (first-stage) table: its root (guest-physical) and its
 * input address width. `__reserved` must be zero.
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;      /* enum iommu_hwpt_vtd_s1_flags */
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/* Bits of iommu_hwpt_vtd_s1_invalidate.flags. */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0, /* only leaf entries changed */
};

/*
 * Invalidate `npages` 4 KiB pages from `addr` (4 KiB aligned) in the
 * caches for a stage-1 table; addr 0 with npages all-ones means everything.
 * `__reserved` must be zero.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;      /* enum iommu_hwpt_vtd_s1_invalidate_flags */
	__u32 __reserved;
};

/* ---- Layout checks ----------------------------------------------------- */

#ifdef __cplusplus
#define VTDSIM_IOMMUFD_VTD_H_CHECK(cond, msg) static_assert(cond, msg)
#else
#define VTDSIM_IOMMUFD_VTD_H_CHECK(cond, msg) _Static_assert(cond, msg)
#endif
#define VTDSIM_IOMMUFD_VTD_H_SIZE(type, n) \
	VTDSIM_IOMMUFD_VTD_H_CHECK(sizeof(type) == (n), \
				   "uapi/linux/iommufd_vtd.h: size of " #type)
#define VTDSIM_IOMMUFD_VTD_H_OFF(type, field, n) \
	VTDSIM_IOMMUFD_VTD_H_CHECK(offsetof(type, field) == (n), \
				   "uapi/linux/iommufd_vtd.h: offset of " #field " in " #type)

VTDSIM_IOMMUFD_VTD_H_SIZE(struct iommu_hwpt_vtd_s1, 24);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1, flags, 0);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1, pgtbl_addr, 8);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1, addr_width, 16);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1, __reserved, 20);

VTDSIM_IOMMUFD_VTD_H_SIZE(struct iommu_hwpt_vtd_s1_invalidate, 24);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, addr, 0);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, npages, 8);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, flags, 16);
VTDSIM_IOMMUFD_VTD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, __reserved, 20);

#undef VTDSIM_IOMMUFD_VTD_H_OFF
#undef VTDSIM_IOMMUFD_VTD_H_SIZE
#undef VTDSIM_IOMMUFD_VTD_H_CHECK

#endif /* VTDSIM_UAPI_LINUX_IOMMUFD_VTD_H */
