/*
 * container.h: a simulated VFIO type1 (nesting) container in front of one vtd_iommu: the
 * vSVA user API of the 2020 proposal (issue 5), answered with the kernel's 0 / -errno.
 *
 * The container owns a host domain: a DID and a second-stage table in the IOMMU's memory,
 * built from a host-physical pool. MAP_DMA's `vaddr` is taken as a host-physical address in
 * the IOMMU's simulated memory (there is no process address space to pin). Devices attached
 * get a scalable-mode context entry and a RID_PASID entry (PGTT 2) for the domain.
 *
 * Threads: what the containers of one IOMMU share (root table, PASID space) is kept in that
 * IOMMU (vtd_iommu_set_host), never in the process. An IOMMU and its containers form one
 * unit: one thread at a time; different IOMMUs with their containers run on different threads
 * freely. Free the containers before their IOMMU.
 */
#ifndef VTDSIM_SIM_CONTAINER_H
#define VTDSIM_SIM_CONTAINER_H

#include <stdint.h>

#include "sim/iommu.h"

struct vtd_container;

/* How NESTING_OP CACHE_INVLD turns a request into descriptors (see docs/uapi.md). */
enum vtd_inv_policy { VTD_INV_SPEC, VTD_INV_LINUX_5_10 };

/* Which kernel answers the iommufd form (HWPT_INVALIDATE differs; see docs/uapi.md). */
enum vtd_iommufd_kernel { VTD_IOMMUFD_6_10, VTD_IOMMUFD_6_8 };

/* Where VFIO_IOMMU_DIRTY_PAGES finds dirty pages (docs/dirty-tracking.md). */
enum vtd_dirty_source {
    VTD_DIRTY_PINNED, /* type1's software fallback: every pinned page is dirty (Linux 5.8-5.10) */
    VTD_DIRTY_SSADE,  /* the IOMMU's second-stage D bits: harvest = read and clear, then flush */
};
struct vtd_container_config {
    uint16_t did;             /* the host domain's DID (non-zero, below 2^CAP.ND width) */
    uint64_t pool_base;       /* host-physical pool for the container's structures */
    uint64_t pool_size;
    unsigned ss_levels;       /* second-stage levels: 3, 4 or 5 (must be in SAGAW) */
    enum vtd_inv_policy policy;
    enum vtd_iommufd_kernel iommufd_kernel;
    unsigned fault_queue;     /* fault records kept (0: 128) */
    enum vtd_dirty_source dirty_source; /* VFIO_IOMMU_DIRTY_PAGES' source (default pinned) */
    /* The flush after a harvest cleared D bits: IOTLB and device TLBs (default), or the bugs by
     * which a device keeps writing through a cached dirty translation: none, or the IOTLB only. */
    enum vtd_dirty_flush { VTD_DIRTY_FLUSH_ALL, VTD_DIRTY_FLUSH_NONE, VTD_DIRTY_FLUSH_IOTLB } dirty_flush;
};

/* Defaults: DID 1, pool [0x10000000, +256 MiB), 4-level second stage, policy spec, iommufd
 * as Linux 6.10+ answers it. */
void vtd_container_config_default(struct vtd_container_config *cfg);

/*
 * A container on `io`. The first container of an IOMMU builds the root table and sets RTADDR;
 * later ones reuse it (they must use disjoint pools and DIDs). NULL on bad configuration or
 * no memory (*why says which).
 */
struct vtd_container *vtd_container_new(struct vtd_iommu *io, const struct vtd_container_config *cfg,
                                        const char **why);
void vtd_container_free(struct vtd_container *c);

/*
 * Attach a device added with vtd_iommu_add_device: writes its context entry (PASIDE, DTE with
 * ATS, PRE with PRI, a PASID directory) and a PGTT 2 RID_PASID entry for the domain, then
 * invalidates the context cache (device-selective) and the PASID cache.
 * 0, -ENODEV (no such device), -EBUSY (already attached), -ENOMEM.
 */
int vtd_container_attach_device(struct vtd_container *c, uint16_t sid);

/* The ioctl entry point: 0 (or a PASID for ALLOC_PASID) or -errno. */
int vtd_container_ioctl(struct vtd_container *c, unsigned long request, void *arg);
/*
 * VFIO_IOMMU_NESTING_OP with `op` and its payload, in one buffer (header + data) the way user
 * space builds it: the ioctl's answer, or -ENOMEM.
 */
int vtd_container_nesting_op(struct vtd_container *c, uint32_t op, const void *data, size_t len);

/*
 * CACHE_INVLD as the iommu layer answered it (iommu_uapi_cache_invalidate + the policy): 0 or
 * -errno. `uinfo` points at a struct iommu_cache_invalidate_info of its own argsz. The VFIO
 * path (NESTING_OP) discards this answer and returns 0, as the vSVA series did.
 */
int vtd_container_cache_invalidate(struct vtd_container *c, const void *uinfo);
/* The iommu layer's answer to the last UNBIND_PGTBL or CACHE_INVLD that VFIO discarded. */
int vtd_container_last_op_error(const struct vtd_container *c);

/*
 * Faults. Every unrecoverable fault of an attached device (not FPD-suppressed) becomes one
 * struct iommu_fault (DMA_UNRECOV; reason by the table in docs/uapi.md). Read up to `max`
 * records, oldest first; returns how many. A full queue drops new records and counts them.
 */
struct iommu_fault;
int vtd_container_read_faults(struct vtd_container *c, struct iommu_fault *buf, unsigned max);
uint64_t vtd_container_fault_overflows(const struct vtd_container *c);
/* The uAPI reason for a VT-d fault reason code. */
uint32_t vtd_container_fault_reason(int vtd_code);

/*
 * Page requests: a PRI device (context PRE set) whose ATS completion grants too little sends a
 * page request, queued with the faults as an iommu_fault of type PAGE_REQ; vtd_iommu_dma
 * returns VTD_DMA_PAGE_REQUEST. The VMM answers here: 0, or -EINVAL (argsz, version, flags,
 * code, or no pending group with that grpid/PASID). The answer reaches the device as a page
 * group response; after SUCCESS the device may retry.
 */
struct iommu_page_response;
int vtd_container_page_response(struct vtd_container *c, const struct iommu_page_response *msg);
unsigned vtd_container_pending_page_requests(const struct vtd_container *c);

/*
 * iommufd's later form (uapi/linux/iommufd_vtd.h): a nested hwpt for one PASID of the
 * container (like BIND_PGTBL; SRE, EAFE, WPE), and an array of invalidations of `entry_len`
 * bytes each; *entry_num in: entries, out: entries handled before the first error.
 * 0 or -EOPNOTSUPP (unknown flags, reserved field), -EINVAL, -ENOENT, -EBUSY.
 */
struct iommu_hwpt_vtd_s1;
int vtd_container_hwpt_alloc_vtd_s1(struct vtd_container *c, uint32_t pasid, const struct iommu_hwpt_vtd_s1 *s1);
int vtd_container_hwpt_invalidate(struct vtd_container *c, uint32_t pasid, const void *array, uint32_t entry_len,
                                  uint32_t *entry_num);

/*
 * iommufd's dirty tracking on the container's second-stage hardware page table (Linux 6.7+
 * IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP; host/container_dirty.c), as C
 * calls with the structures' fields: the flags take the kernel's values.
 * Set: flags VTD_HWPT_DIRTY_TRACKING_ENABLE or 0 (disable): SSADE in every PASID entry using the
 * table, with the flushes. 0, -EINVAL (unknown flags), -EOPNOTSUPP (no ECAP.SSADS: the domain
 * could not have been allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING).
 * Get: one bit per `page_size` bytes of [iova, iova + length) into `data` (OR'ed in), D bits
 * cleared unless VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR; then the IOTLB flush of what was found.
 * 0, -EOPNOTSUPP (unknown flags, reserved non-zero, no SSADS), -EOVERFLOW (range wraps),
 * -EINVAL (misaligned to 4 KiB or page_size, page_size 0 or not a power of two, tracking off,
 * a hole in the range), -EFAULT (data NULL, or a table unreadable).
 */
#define VTD_HWPT_DIRTY_TRACKING_ENABLE 1u
#define VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR 1u
int vtd_container_hwpt_set_dirty_tracking(struct vtd_container *c, uint32_t flags);
int vtd_container_hwpt_get_dirty_bitmap(struct vtd_container *c, uint64_t iova, uint64_t length, uint64_t page_size,
                                        uint32_t flags, uint32_t reserved, uint64_t *data);
/* Whether dirty tracking is on (either form). */
bool vtd_container_dirty_tracking(const struct vtd_container *c);
/* Host-side views for tests and tools. */
uint16_t vtd_container_did(const struct vtd_container *c);
/*
 * Pages a container may pin over all its MAP_DMAs, like the RLIMIT_MEMLOCK accounting of Linux
 * 5.9's vfio_pin_pages_remote: MAP_DMA answers -ENOMEM past it. And the pages pinned now.
 */
#define VTD_CONTAINER_PIN_LIMIT_PAGES (UINT64_C(1) << 20)
uint64_t vtd_container_pinned_pages(const struct vtd_container *c);
/* The domain's second-stage table (a backing for guest first-stage tables). */
const struct vtd_pt *vtd_container_ss(const struct vtd_container *c);
/* The builder of the container's structures. */
struct vtd_builder *vtd_container_builder(struct vtd_container *c);

#endif
