/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vtdsim copy of the VFIO container API for the type1 IOMMU backend: the
 * Linux 5.9 definitions plus the vSVA additions of QEMU RFC v10 02/25
 * (nesting capability, PASID_REQUEST, NESTING_OP), and the group and device
 * cdev requests that reach a container or an iommufd. Region, interrupt and
 * SPAPR parts of the real header are left out.
 *
 * Names, values, sizes and offsets match those sources; the text is ours.
 * The include guard is the kernel's, so with uapi/ first on the include path
 * <linux/vfio.h> resolves here and the system header is never read. Note
 * that the system header's capability 3 (DMA_AVAIL, Linux 5.10+) is this
 * header's VFIO_IOMMU_TYPE1_INFO_CAP_NESTING.
 *
 * Layouts are the x86-64 (LP64) ones and are checked at the end of the file.
 * See docs/uapi.md for how vtdsim uses each structure.
 */
#ifndef _UAPIVFIO_H
#define _UAPIVFIO_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/iommu.h>
#include <stddef.h>

#define VFIO_API_VERSION 0

/* IOMMU backends (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments). */
#define VFIO_TYPE1_IOMMU         1
#define VFIO_TYPE1v2_IOMMU       3
#define VFIO_TYPE1_NESTING_IOMMU 6 /* two-stage translation; implies v2 */

/*
 * Every VFIO request is _IO(VFIO_TYPE, VFIO_BASE + n): no size is encoded in
 * the number, each argument starts with its own argsz instead.
 */
#define VFIO_TYPE (';')
#define VFIO_BASE 100

/*
 * Header of one entry in an INFO capability chain. `next` is the offset of
 * the following entry from the start of the INFO buffer, 0 at the end.
 */
struct vfio_info_cap_header {
	__u16 id;
	__u16 version;
	__u32 next;
};

/* ---- Container requests ------------------------------------------------ */

#define VFIO_GET_API_VERSION _IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION _IO(VFIO_TYPE, VFIO_BASE + 1)
#define VFIO_SET_IOMMU       _IO(VFIO_TYPE, VFIO_BASE + 2)

/* ---- Type1 IOMMU: GET_INFO and its capabilities ------------------------ */

/*
 * Answer to VFIO_IOMMU_GET_INFO. With VFIO_IOMMU_INFO_CAPS, cap_offset is
 * the offset of the first vfio_info_cap_header in the caller's buffer
 * (0: none). A caller whose argsz is too small gets the needed size back
 * in argsz. The struct has 4 bytes of tail padding.
 */
struct vfio_iommu_type1_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0) /* iova_pgsizes is valid */
#define VFIO_IOMMU_INFO_CAPS    (1 << 1) /* cap_offset is valid */
	__u64 iova_pgsizes; /* bitmap of supported mapping sizes */
	__u32 cap_offset;
};

/* Capability 1: the IOVA windows DMA mappings may use. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1

struct vfio_iova_range {
	__u64 start;
	__u64 end;    /* inclusive */
};

struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	__u32 nr_iovas;
	__u32 reserved;
	struct vfio_iova_range iova_ranges[];
};

/* Capability 2: dirty-page logging is supported. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	__u32 flags;
	__u64 pgsize_bitmap;         /* page sizes the dirty bitmap can use */
	__u64 max_dirty_bitmap_size; /* largest bitmap, in bytes */
};

/*
 * Capability 3 (vSVA proposal): the nesting report of the IOMMU behind a
 * VFIO_TYPE1_NESTING_IOMMU container.
 */
#define VFIO_IOMMU_TYPE1_INFO_CAP_NESTING 3

struct vfio_iommu_type1_info_cap_nesting {
	struct vfio_info_cap_header header;
	struct iommu_nesting_info info;
};

#define VFIO_IOMMU_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

/* ---- Type1 IOMMU: mappings --------------------------------------------- */

/* Map `size` bytes of process memory at `vaddr` to IOVA `iova`. */
struct vfio_iommu_type1_dma_map {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_MAP_FLAG_READ  (1 << 0) /* device may read */
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1) /* device may write */
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

#define VFIO_IOMMU_MAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 13)

/*
 * A caller-supplied dirty bitmap: one bit per `pgsize` bytes, `size` bytes
 * long, zeroed by the caller. (The kernel marks `data` as a user pointer.)
 */
struct vfio_bitmap {
	__u64 pgsize;
	__u64 size;
	__u64 *data;
};

/*
 * Unmap [iova, iova + size); `size` returns the amount actually unmapped.
 * With GET_DIRTY_BITMAP, data[] holds a struct vfio_bitmap that receives
 * the dirty state of the range before it goes away.
 */
struct vfio_iommu_type1_dma_unmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
	__u64 iova;
	__u64 size;
	__u8 data[];
};

#define VFIO_IOMMU_UNMAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 14)

/* Container enable/disable; no argument. */
#define VFIO_IOMMU_ENABLE  _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE _IO(VFIO_TYPE, VFIO_BASE + 16)

/* ---- Type1 IOMMU: dirty-page logging ----------------------------------- */

/*
 * Exactly one flag per call. GET_BITMAP takes a
 * struct vfio_iommu_type1_dirty_bitmap_get in data[]; argsz covers it
 * but not the bitmap memory itself.
 */
struct vfio_iommu_type1_dirty_bitmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_START      (1 << 0)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP       (1 << 1)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP (1 << 2)
	__u8 data[];
};

struct vfio_iommu_type1_dirty_bitmap_get {
	__u64 iova;
	__u64 size;
	struct vfio_bitmap bitmap;
};

#define VFIO_IOMMU_DIRTY_PAGES _IO(VFIO_TYPE, VFIO_BASE + 17)

/* ---- vSVA proposal: PASID allocation ----------------------------------- */

/*
 * ALLOC_PASID allocates one PASID in [range.min, range.max] and returns it
 * as the (non-negative) result of the request; FREE_PASID frees every
 * PASID of the caller in that range and returns 0. Exactly one of the two
 * flags is set. Because the PASID comes back in a signed int, both bounds
 * must fit in VFIO_IOMMU_PASID_BITS bits. Available when the nesting
 * capability reports IOMMU_NESTING_FEAT_SYSWIDE_PASID.
 */
struct vfio_iommu_type1_pasid_request {
	__u32 argsz;
#define VFIO_IOMMU_FLAG_ALLOC_PASID (1 << 0)
#define VFIO_IOMMU_FLAG_FREE_PASID  (1 << 1)
	__u32 flags;
	struct {
		__u32 min;
		__u32 max;
	} range;
};

#define VFIO_PASID_REQUEST_MASK (VFIO_IOMMU_FLAG_ALLOC_PASID | \
				 VFIO_IOMMU_FLAG_FREE_PASID)

#define VFIO_IOMMU_PASID_BITS 31

#define VFIO_IOMMU_PASID_REQUEST _IO(VFIO_TYPE, VFIO_BASE + 18)

/* ---- vSVA proposal: nesting operations --------------------------------- */

/*
 * The low 16 bits of `flags` select the operation; data[] carries its
 * argument:
 *   BIND_PGTBL, UNBIND_PGTBL - struct iommu_gpasid_bind_data
 *   CACHE_INVLD              - struct iommu_cache_invalidate_info
 * Returns 0 or -errno.
 */
struct vfio_iommu_type1_nesting_op {
	__u32 argsz;
	__u32 flags;
#define VFIO_NESTING_OP_MASK (0xffff)
	__u8 data[];
};

enum {
	VFIO_IOMMU_NESTING_OP_BIND_PGTBL,
	VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL,
	VFIO_IOMMU_NESTING_OP_CACHE_INVLD,
	VFIO_IOMMU_NESTING_OP_NUM,
};

#define VFIO_IOMMU_NESTING_OP _IO(VFIO_TYPE, VFIO_BASE + 19)

/* ---- Group and device-cdev requests ----------------------------------- */

/*
 * The group file /dev/vfio/N (Linux 5.9) and the device cdev
 * /dev/vfio/devices/vfioN (Linux 6.6+, PASID attach 6.13), the part of the
 * real header a VMM needs to reach a container or an iommufd. Device cdev
 * numbers overlap PASID_REQUEST and NESTING_OP: they go to a device fd, the
 * others to a container fd.
 */
struct vfio_group_status {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_GROUP_FLAGS_VIABLE        (1 << 0)
#define VFIO_GROUP_FLAGS_CONTAINER_SET (1 << 1)

#define VFIO_GROUP_GET_STATUS      _IO(VFIO_TYPE, VFIO_BASE + 3)
#define VFIO_GROUP_SET_CONTAINER   _IO(VFIO_TYPE, VFIO_BASE + 4) /* arg: int * (container fd) */
#define VFIO_GROUP_UNSET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 5)

/* Bind a device cdev to an iommufd; out_devid is its dev_id there. */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

/* Attach the device (or one PASID of it) to an IOAS or HWPT. */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_ATTACH_PASID (1 << 0)
	__u32 pt_id;
	__u32 pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_DETACH_PASID (1 << 0)
	__u32 pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

/* ---- Layout checks (x86-64) ------------------------------------------- */

#ifdef __cplusplus
#define VTDSIM_VFIO_H_CHECK(cond, msg) static_assert(cond, msg)
#else
#define VTDSIM_VFIO_H_CHECK(cond, msg) _Static_assert(cond, msg)
#endif
#define VTDSIM_VFIO_H_SIZE(type, n) \
	VTDSIM_VFIO_H_CHECK(sizeof(type) == (n), "uapi/linux/vfio.h: size of " #type)
#define VTDSIM_VFIO_H_OFF(type, field, n) \
	VTDSIM_VFIO_H_CHECK(offsetof(type, field) == (n), \
			    "uapi/linux/vfio.h: offset of " #field " in " #type)

VTDSIM_VFIO_H_SIZE(struct vfio_info_cap_header, 8);
VTDSIM_VFIO_H_OFF(struct vfio_info_cap_header, id, 0);
VTDSIM_VFIO_H_OFF(struct vfio_info_cap_header, version, 2);
VTDSIM_VFIO_H_OFF(struct vfio_info_cap_header, next, 4);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_info, 24);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info, iova_pgsizes, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info, cap_offset, 16);

VTDSIM_VFIO_H_SIZE(struct vfio_iova_range, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iova_range, start, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iova_range, end, 8);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_info_cap_iova_range, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_iova_range, header, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_iova_range, reserved, 12);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges, 16);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_info_cap_migration, 32);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_migration, header, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_migration, flags, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size, 24);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_info_cap_nesting, 64);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_nesting, header, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_info_cap_nesting, info, 8);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_dma_map, 32);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_map, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_map, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_map, vaddr, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_map, iova, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_map, size, 24);

VTDSIM_VFIO_H_SIZE(struct vfio_bitmap, 24);
VTDSIM_VFIO_H_OFF(struct vfio_bitmap, pgsize, 0);
VTDSIM_VFIO_H_OFF(struct vfio_bitmap, size, 8);
VTDSIM_VFIO_H_OFF(struct vfio_bitmap, data, 16);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_dma_unmap, 24);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_unmap, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_unmap, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_unmap, iova, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_unmap, size, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dma_unmap, data, 24);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_dirty_bitmap, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap, data, 8);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_dirty_bitmap_get, 40);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap_get, iova, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap_get, size, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_dirty_bitmap_get, bitmap, 16);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_pasid_request, 16);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_pasid_request, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_pasid_request, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_pasid_request, range, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_pasid_request, range.min, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_pasid_request, range.max, 12);

VTDSIM_VFIO_H_SIZE(struct vfio_iommu_type1_nesting_op, 8);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_nesting_op, argsz, 0);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_nesting_op, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_iommu_type1_nesting_op, data, 8);

VTDSIM_VFIO_H_SIZE(struct vfio_group_status, 8);
VTDSIM_VFIO_H_OFF(struct vfio_group_status, flags, 4);

VTDSIM_VFIO_H_SIZE(struct vfio_device_bind_iommufd, 16);
VTDSIM_VFIO_H_OFF(struct vfio_device_bind_iommufd, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_device_bind_iommufd, iommufd, 8);
VTDSIM_VFIO_H_OFF(struct vfio_device_bind_iommufd, out_devid, 12);

VTDSIM_VFIO_H_SIZE(struct vfio_device_attach_iommufd_pt, 16);
VTDSIM_VFIO_H_OFF(struct vfio_device_attach_iommufd_pt, flags, 4);
VTDSIM_VFIO_H_OFF(struct vfio_device_attach_iommufd_pt, pt_id, 8);
VTDSIM_VFIO_H_OFF(struct vfio_device_attach_iommufd_pt, pasid, 12);

VTDSIM_VFIO_H_SIZE(struct vfio_device_detach_iommufd_pt, 12);
VTDSIM_VFIO_H_OFF(struct vfio_device_detach_iommufd_pt, pasid, 8);

#undef VTDSIM_VFIO_H_OFF
#undef VTDSIM_VFIO_H_SIZE
#undef VTDSIM_VFIO_H_CHECK

#endif /* _UAPIVFIO_H */
