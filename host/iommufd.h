/*
 * iommufd.h: one open /dev/iommu (an iommufd context) in front of one vtd_iommu, answering the
 * mainline ioctls of uapi/linux/iommufd.h with the kernel's structures and 0 / -errno, and the
 * VFIO device-cdev calls (bind, attach a device or one of its PASIDs to an IOAS or HWPT).
 *
 * The context keeps one IOAS, served by a vtd_container (host/container.h): its host domain is
 * the kernel-managed and nesting-parent HWPT, IOAS_MAP is MAP_DMA (user_va taken as a
 * host-physical address in the IOMMU's memory, as MAP_DMA's vaddr is), a nested HWPT attached
 * to a PASID is vtd_container_hwpt_alloc_vtd_s1 on that PASID and HWPT_INVALIDATE is
 * vtd_container_hwpt_invalidate on every PASID the HWPT is attached to. docs/uapi.md has the
 * errno of every path with the kernel function it follows.
 *
 * Threads: one context, its IOMMU and its container form one unit (one thread at a time).
 */
#ifndef VTDSIM_HOST_IOMMUFD_H
#define VTDSIM_HOST_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/container.h"

struct vtd_iommufd;

/* A context on `io`; the container it makes at IOAS_ALLOC uses `cfg` (NULL: the defaults). */
struct vtd_iommufd *vtd_iommufd_new(struct vtd_iommu *io, const struct vtd_container_config *cfg);
void vtd_iommufd_free(struct vtd_iommufd *ctx);

/* An iommufd ioctl on the context's fd: 0 or -errno (-ENOTTY for a number it does not know). */
int vtd_iommufd_ioctl(struct vtd_iommufd *ctx, unsigned long request, void *arg);

/*
 * The device cdev's requests, for the device with source-id `sid` (VFIO_DEVICE_BIND_IOMMUFD,
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_DETACH_IOMMUFD_PT of uapi/linux/vfio.h, their
 * argument as user space passes it). Bind: the device's dev_id comes back in out_devid.
 */
int vtd_iommufd_bind(struct vtd_iommufd *ctx, uint16_t sid, void *arg);
int vtd_iommufd_attach(struct vtd_iommufd *ctx, uint16_t sid, void *arg);
int vtd_iommufd_detach(struct vtd_iommufd *ctx, uint16_t sid, void *arg);

/*
 * A fault queue's file (IOMMU_FAULT_QUEUE_ALLOC; the caller owns the fd it hands out and
 * writes it into out_fault_fd). Read: whole struct iommu_hwpt_pgfault records of the page
 * requests of devices attached to HWPTs that name the queue; bytes read or -errno. Write: whole
 * struct iommu_hwpt_page_response records; bytes consumed or -errno. Readable: records wait.
 */
long vtd_iommufd_fault_read(struct vtd_iommufd *ctx, uint32_t fault_id, void *buf, size_t len);
long vtd_iommufd_fault_write(struct vtd_iommufd *ctx, uint32_t fault_id, const void *buf, size_t len);
bool vtd_iommufd_fault_readable(struct vtd_iommufd *ctx, uint32_t fault_id);

/* The container behind the IOAS (NULL before IOAS_ALLOC), for DMA set-up and tests. */
struct vtd_container *vtd_iommufd_container(struct vtd_iommufd *ctx);

/*
 * Dirty tracking of a HWPT: IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP after
 * the common checks (size, reserved fields, the HWPT's ID), in the kernel's order. A paging HWPT
 * allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING reaches vtd_container_hwpt_set_dirty_tracking
 * and vtd_container_hwpt_get_dirty_bitmap; any other paging HWPT answers -EOPNOTSUPP.
 */
int vtd_iommufd_hwpt_dirty(struct vtd_iommufd *ctx, unsigned long request, void *arg);

#endif
