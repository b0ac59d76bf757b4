/*
 * container_internal.h: the container's state, shared by host/container*.c. Not a public interface.
 */
#ifndef VTDSIM_SIM_CONTAINER_INTERNAL_H
#define VTDSIM_SIM_CONTAINER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "host/container.h"
#include <linux/iommu.h>
#include "sim/qi.h"
#include "walker/builder.h"

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

/* ---- what containers of one IOMMU share: the root table and the system-wide PASID space ---- */

struct pasid_owner {
    uint32_t pasid;
    const struct vtd_container *owner;
};

/* What every container of one IOMMU shares (the host kernel's per-IOMMU state), kept in the
 * IOMMU's host slot (vtd_iommu_set_host) while a container exists. */
struct iommu_share {
    struct vtd_iommu *io;
    unsigned refs;
    uint64_t rtaddr;
    struct pasid_owner *pasids; /* sorted by PASID */
    size_t npasids, cap;
    struct vtd_container **conts; /* the containers on this IOMMU (fault dispatch) */
    size_t nconts;
    bool prq_ready; /* the page request queue is set up (prq.c) */
};


struct dma_map {
    uint64_t iova, size, vaddr;
    unsigned perm;
};


/* A PASID bound with BIND_PGTBL. Linux 5.10 intel_svm_bind_gpasid refuses a second bind of the
 * same device and PASID (-EBUSY; users are counted only for aux-domain devices). */
struct bound_pasid {
    uint32_t pasid;
};

/* The bounded fault queue (container_fault.c). */
struct fault_queue {
    struct iommu_fault *rec;
    unsigned cap, head, n;
    uint64_t overflows;
};

/* A page request group waiting for the VMM's response (prq.c). */
struct pending_group {
    uint16_t sid;
    bool pasid_valid;
    uint32_t pasid, grpid;
};

struct vtd_container_x {
    struct fault_queue faults;
    struct pending_group *groups;
    size_t ngroups, capgroups;
    struct bound_pasid *bound;
    size_t nbound, capbound;
    int last_inv_error;
};

struct vtd_container {
    struct vtd_iommu *io;
    struct vtd_container_config cfg;
    struct iommu_share *share;
    struct vtd_builder b;
    struct vtd_pt ss;
    struct dma_map *maps;
    size_t nmaps, capmaps;
    /* dmar_domain->max_addr of Linux 5.10 intel-iommu: the highest end of a mapping, lowered
     * only when the top piece is unmapped; intel_pasid_setup_nested checks gpgd against it. */
    uint64_t max_addr;
    uint16_t *sids;
    size_t nsids, capsids;
    struct vtd_ctx ctx_proto; /* the directory every attached device shares */
    struct vtd_container_x x; /* nesting state (container_nest.c) */
    /* Dirty tracking (container_dirty.c): started by VFIO_IOMMU_DIRTY_PAGES, by iommufd's
     * SET_DIRTY_TRACKING; SSADE is on in the PASID entries while `ssade` is. */
    bool dirty_vfio, dirty_hwpt, ssade;
};

/* Submit one descriptor (built with sim/qi_desc.h) / an invalidation wait. */
int cont_qi(struct vtd_container *c, struct vtd_desc d);
int cont_qi_wait(struct vtd_container *c);
bool cont_attached(const struct vtd_container *c, uint16_t sid);
/* Whether the device has ATS (a device TLB the host must invalidate). */
bool cont_device_ats(const struct vtd_container *c, uint16_t sid);
bool cont_pasid_allocated(const struct vtd_container *c, uint32_t pasid);
/* vSVA v7 fills the container's nesting_info when the first group is attached; until then
 * GET_INFO has no nesting capability and PASID_REQUEST and NESTING_OP answer -EOPNOTSUPP. */
static inline bool cont_has_nesting_info(const struct vtd_container *c)
{
    return c->nsids != 0;
}
/* How many PASIDs this container holds (its ioasid set's quota count). */
unsigned cont_pasids_owned(const struct vtd_container *c);
unsigned cont_ss_width(const struct vtd_container *c);
/* VFIO_IOMMU_NESTING_OP (container_nest.c). */
int cont_nesting_op(struct vtd_container *c, void *arg);
void cont_nest_free(struct vtd_container *c);
/* The fault queue (container_fault.c). */
int cont_fault_init(struct vtd_container *c, unsigned cap);
void cont_fault_fini(struct vtd_container *c);
struct iommu_fault;
int cont_fault_push(struct vtd_container *c, const struct iommu_fault *f);
/* Shared by the two API generations (container_nest.c). */
/* Which generation's bind rules apply (VFIO + Linux 5.10, or iommufd + Linux 6.8), and WPE. */
struct cont_bind_opts {
    bool iommufd;
    bool wpe;
};
int cont_bind_checked(struct vtd_container *c, const struct iommu_gpasid_bind_data *d, const struct cont_bind_opts *o);
/* Whether a bind (either generation) of this container holds the PASID. */
bool cont_pasid_bound(struct vtd_container *c, uint32_t pasid);
/* Tear down this container's binding of the PASID, if any (entry cleared, caches flushed). */
int cont_unbind_pasid(struct vtd_container *c, uint32_t pasid);
int cont_qi_piotlb_pasid(struct vtd_container *c, uint32_t pasid);
int cont_qi_piotlb_pages(struct vtd_container *c, uint32_t pasid, uint64_t addr, unsigned am, bool ih);
int cont_flush_devtlbs(struct vtd_container *c, uint32_t pasid, uint64_t addr, unsigned order);
/* An iommufd invalidation entry's own checks (container_iommufd.c): 0, -EOPNOTSUPP, -EINVAL. */
struct iommu_hwpt_vtd_s1_invalidate;
int cont_hwpt_inv_check(const struct iommu_hwpt_vtd_s1_invalidate *e);
/* Page requests (prq.c). */
int cont_prq_init(struct vtd_container *c);
void cont_prq_fini(struct vtd_container *c);

/* Flush the domain's IOTLB over [start, last], every ATS device's TLB, then wait; the IOTLB
 * part alone (container.c). */
int cont_flush_ss_range(struct vtd_container *c, uint64_t start, uint64_t last);
int cont_qi_iotlb_range(struct vtd_container *c, uint64_t start, uint64_t last);
/* The first mapping overlapping [start, start + size), or NULL (container.c). */
struct dma_map *cont_find_dma(struct vtd_container *c, uint64_t start, uint64_t size);
/* VFIO_IOMMU_DIRTY_PAGES, and UNMAP_DMA's dirty bitmap of one mapping (container_dirty.c). */
int cont_dirty_pages(struct vtd_container *c, void *arg);
struct vfio_bitmap;
/* iommufd_check_iova_range: the bitmap's range against the domain's and the bitmap's page
 * sizes; *last is its last byte. 0, -EOVERFLOW or -EINVAL. */
int cont_dirty_check_range(uint64_t iova, uint64_t length, uint64_t page_size, uint64_t *last);
int cont_dirty_unmap_check(const struct vtd_container *c, uint64_t size, const struct vfio_bitmap *bm);
int cont_dirty_unmap_report(struct vtd_container *c, const struct dma_map *m, uint64_t base,
                            const struct vfio_bitmap *bm);

/* The uAPI permission bits (IOMMU_FAULT_PERM_*) of a request (container_fault.c). */
uint32_t container_fault_perm(const struct vtd_request *req);

#endif
