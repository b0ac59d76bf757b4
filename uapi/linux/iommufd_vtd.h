/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The two Intel VT-d nesting structures of the later iommufd API
 * (include/uapi/linux/iommufd.h in mainline Linux): the stage-1 page-table
 * description passed to IOMMU_HWPT_ALLOC and the stage-1 invalidation
 * request passed to IOMMU_HWPT_INVALIDATE. vtdsim maps them onto the same
 * machinery as the vSVA bind and cache-invalidate requests (issue 5).
 *
 * The definitions live in uapi/linux/iommufd.h (the whole mainline surface
 * vtdsim answers); this header names the VT-d part and keeps its checks.
 *
 * Layouts are checked at the end of the file.
 */
#ifndef VTDSIM_UAPI_LINUX_IOMMUFD_VTD_H
#define VTDSIM_UAPI_LINUX_IOMMUFD_VTD_H

#include <linux/iommufd.h> /* the definitions, from vtdsim's copy of the mainline header */
#include <stddef.h>

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
