/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vtdsim copy of the mainline iommufd user API (include/uapi/linux/iommufd.h,
 * Linux 6.11 to 6.13) for what VT-d nesting uses: IOAS objects, GET_HW_INFO
 * with iommu_hw_info_vtd, nesting-parent and VT-d stage-1 HWPTs,
 * HWPT_INVALIDATE with iommu_hwpt_vtd_s1_invalidate arrays, dirty tracking
 * and the fault queue, and IOAS_COPY, OPTION (RLIMIT_MODE, HUGE_PAGES) and
 * VFIO's compat IOAS, VFIO_IOAS.
 *
 * Names, values, sizes and offsets are the kernel's; the text is ours. The
 * include guard is the kernel's, so with uapi/ first on the include path
 * <linux/iommufd.h> resolves here. Every request is _IO(IOMMUFD_TYPE, n):
 * the structure starts with its own size (copy_struct_from_user rules:
 * bytes past what is understood must be zero, else -E2BIG).
 *
 * Layouts are the x86-64 (LP64) ones and are checked at the end of the file.
 * See docs/uapi.md for the errno of every path.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <stddef.h>

#define IOMMUFD_TYPE (';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
};

/* Destroy any object (IOAS, HWPT, fault queue) by its ID. */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* A new, empty I/O address space; flags must be 0. */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* An inclusive IOVA interval. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * The IOVA ranges an IOAS may map: num_iovas in is the room at
 * allowed_iovas, out the number there are (-EMSGSIZE when the room was too
 * small); out_iova_alignment is the smallest alignment MAP accepts.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/* Ranges the IOAS must keep usable (replaces the whole list). */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0, /* iova is an input */
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/* Map user memory [user_va, +length) at iova (chosen when not FIXED_IOVA). */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/* Share an existing mapping of one IOAS with another. */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/*
 * Unmap whole earlier mappings inside [iova, +length); length comes back as
 * the bytes unmapped. iova 0 with length all-ones unmaps everything.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,     /* may parent a nested HWPT */
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,  /* needs dirty tracking */
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,        /* fault_id names a fault queue */
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,           /* may be attached to a PASID */
};

/* Bits of iommu_hwpt_vtd_s1.flags: PASID-entry controls for stage 1. */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,  /* supervisor requests allowed */
	IOMMU_VTD_S1_EAFE = 1 << 1, /* extended-accessed flag enable */
	IOMMU_VTD_S1_WPE = 1 << 2,  /* write-protect enable */
};

/* A guest stage-1 table: its guest-physical root and input address width. */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
};

/*
 * A HWPT: from an IOAS (pt_id) with data_type NONE (a kernel-managed domain,
 * a nesting parent with NEST_PARENT), or from a nesting parent HWPT with
 * data_type VTD_S1 and the struct at data_uptr (a nested domain).
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/* The VT-d registers user space needs to build a compatible stage 1. */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
};

enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
};

/*
 * The IOMMU behind a bound device: data_len in is the room at data_uptr,
 * out the size the kernel has (the rest of the room is zeroed).
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/* Bit n of the bitmap at data: the page iova + n * page_size was written. */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0, /* only leaf entries changed */
};

/*
 * Invalidate npages 4 KiB pages from addr (4 KiB aligned) in the caches of a
 * stage-1 table; addr 0 with npages all-ones means everything.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
};

/*
 * entry_num entries of entry_len bytes at data_uptr for a nested HWPT;
 * entry_num comes back as the entries handled, also on error.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
};

enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,
};

/* One page request, read from a fault queue's fd. */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/* The answer to a page-request group, written to the fault queue's fd. */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/* A fault queue object and the fd its records are read from. */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* ---- Layout checks (x86-64) ------------------------------------------- */

#ifdef __cplusplus
#define VTDSIM_IOMMUFD_H_CHECK(cond, msg) static_assert(cond, msg)
#else
#define VTDSIM_IOMMUFD_H_CHECK(cond, msg) _Static_assert(cond, msg)
#endif
#define VTDSIM_IOMMUFD_H_SIZE(type, n) \
	VTDSIM_IOMMUFD_H_CHECK(sizeof(type) == (n), "uapi/linux/iommufd.h: size of " #type)
#define VTDSIM_IOMMUFD_H_OFF(type, field, n) \
	VTDSIM_IOMMUFD_H_CHECK(offsetof(type, field) == (n), \
			       "uapi/linux/iommufd.h: offset of " #field " in " #type)

VTDSIM_IOMMUFD_H_CHECK(IOMMU_DESTROY == 0x3b80, "IOMMU_DESTROY number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_HWPT_ALLOC == 0x3b89, "IOMMU_HWPT_ALLOC number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_HWPT_INVALIDATE == 0x3b8d, "IOMMU_HWPT_INVALIDATE number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_FAULT_QUEUE_ALLOC == 0x3b8e, "IOMMU_FAULT_QUEUE_ALLOC number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_IOAS_COPY == 0x3b83, "IOMMU_IOAS_COPY number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_OPTION == 0x3b87, "IOMMU_OPTION number");
VTDSIM_IOMMUFD_H_CHECK(IOMMU_VFIO_IOAS == 0x3b88, "IOMMU_VFIO_IOAS number");

VTDSIM_IOMMUFD_H_SIZE(struct iommu_destroy, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_destroy, id, 4);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_alloc, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_alloc, flags, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_alloc, out_ioas_id, 8);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_iova_range, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_iova_range, last, 8);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_iova_ranges, 32);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_iova_ranges, ioas_id, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_iova_ranges, num_iovas, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_iova_ranges, __reserved, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_iova_ranges, allowed_iovas, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_iova_ranges, out_iova_alignment, 24);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_allow_iovas, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_allow_iovas, num_iovas, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_allow_iovas, allowed_iovas, 16);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_map, 40);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, flags, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, ioas_id, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, __reserved, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, user_va, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, length, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_map, iova, 32);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_copy, 40);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_copy, dst_ioas_id, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_copy, src_ioas_id, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_copy, length, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_copy, dst_iova, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_copy, src_iova, 32);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_ioas_unmap, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_unmap, ioas_id, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_unmap, iova, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_ioas_unmap, length, 16);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_option, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_option, op, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_option, object_id, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_option, val64, 16);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_vfio_ioas, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_vfio_ioas, op, 8);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_vtd_s1, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1, pgtbl_addr, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1, addr_width, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1, __reserved, 20);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_alloc, 48);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, flags, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, dev_id, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, pt_id, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, out_hwpt_id, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, __reserved, 20);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, data_type, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, data_len, 28);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, data_uptr, 32);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, fault_id, 40);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_alloc, __reserved2, 44);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hw_info_vtd, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info_vtd, __reserved, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info_vtd, cap_reg, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info_vtd, ecap_reg, 16);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hw_info, 40);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, dev_id, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, data_len, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, data_uptr, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, out_data_type, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, out_max_pasid_log2, 28);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, __reserved, 29);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hw_info, out_capabilities, 32);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_set_dirty_tracking, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_set_dirty_tracking, hwpt_id, 8);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_get_dirty_bitmap, 48);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, hwpt_id, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, flags, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, iova, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, length, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, page_size, 32);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_get_dirty_bitmap, data, 40);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_vtd_s1_invalidate, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, npages, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, flags, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_vtd_s1_invalidate, __reserved, 20);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_invalidate, 32);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, hwpt_id, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, data_uptr, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, data_type, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, entry_len, 20);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, entry_num, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_invalidate, __reserved, 28);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_pgfault, 40);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, dev_id, 4);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, pasid, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, grpid, 12);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, perm, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, addr, 24);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, length, 32);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_pgfault, cookie, 36);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_hwpt_page_response, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_hwpt_page_response, code, 4);

VTDSIM_IOMMUFD_H_SIZE(struct iommu_fault_alloc, 16);
VTDSIM_IOMMUFD_H_OFF(struct iommu_fault_alloc, out_fault_id, 8);
VTDSIM_IOMMUFD_H_OFF(struct iommu_fault_alloc, out_fault_fd, 12);

#undef VTDSIM_IOMMUFD_H_OFF
#undef VTDSIM_IOMMUFD_H_SIZE
#undef VTDSIM_IOMMUFD_H_CHECK

#endif /* _UAPI_IOMMUFD_H */
