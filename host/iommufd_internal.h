/*
 * iommufd_internal.h: the iommufd context's state, shared by host/iommufd*.c. Not installed.
 */
#ifndef VTDSIM_HOST_IOMMUFD_INTERNAL_H
#define VTDSIM_HOST_IOMMUFD_INTERNAL_H

#include <linux/iommufd.h>

#include "host/iommufd.h"

enum ifd_type { IFD_NONE, IFD_IOAS, IFD_HWPT_PAGING, IFD_HWPT_NESTED, IFD_FAULT, IFD_DEVICE };

/* One object of the context's ID space (IDs from 1; 0 is never an object). */
struct ifd_obj {
    enum ifd_type type;
    uint32_t parent;            /* HWPT: its IOAS (paging) or nesting parent (nested) */
    uint32_t fault_id;          /* nested HWPT: the fault queue named at HWPT_ALLOC, or 0 */
    unsigned users;             /* objects and attachments that refer to it (DESTROY: -EBUSY) */
    bool nest_parent;
    bool dirty_ops;             /* paging HWPT allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING */
    bool auto_domain;           /* made by attaching a RID to the IOAS: freed with its last device */
    bool no_large_pages;        /* IOAS: IOMMU_OPTION_HUGE_PAGES set to 0 */
    struct iommu_hwpt_vtd_s1 s1; /* nested HWPT: its stage-1 table */
};

/* One IOAS_MAP area: exactly what UNMAP must cover whole. */
struct ifd_area {
    uint64_t iova, length, user_va;
};

struct ifd_dev {
    uint16_t sid;
    uint32_t dev_id;
    uint32_t pt_id;             /* the RID's attachment (IOAS or paging HWPT), 0: none */
};

/* A PASID of a device attached to a nested HWPT. */
struct ifd_pasid {
    uint16_t sid;
    uint32_t pasid, hwpt_id;
};

/* A page request delivered to a fault queue and not yet answered. */
struct ifd_cookie {
    uint32_t cookie, fault_id, pasid, grpid;
    bool pasid_valid;
};

struct vtd_iommufd {
    struct vtd_iommu *io;
    struct vtd_container_config cfg;
    struct vtd_container *c;    /* made at the first IOAS_ALLOC */
    uint32_t ioas_id;
    uint32_t vfio_ioas_id;      /* IOMMU_VFIO_IOAS: the compat IOAS, 0: none */
    bool account_mm;            /* IOMMU_OPTION_RLIMIT_MODE: 1 (per mm) or 0 (per user, the default) */
    struct ifd_obj *obj;        /* obj[id - 1] */
    uint32_t nobj;
    struct ifd_area *area;
    size_t narea, caparea;
    struct iommu_iova_range *allowed;
    uint32_t nallowed;
    struct ifd_dev *dev;
    size_t ndev;
    struct ifd_pasid *pasid;
    size_t npasid, cappasid;
    struct ifd_cookie *cookie;
    size_t ncookie, capcookie;
    uint32_t next_cookie;
    struct iommu_hwpt_pgfault *pending; /* records read from the container, not yet read by user space */
    size_t npending, cappending;
};

struct ifd_obj *ifd_obj_get(struct vtd_iommufd *ctx, uint32_t id, enum ifd_type type);
int ifd_obj_new(struct vtd_iommufd *ctx, enum ifd_type type, uint32_t *id);
/* One user less of a HWPT; an automatic one goes with its last user (iommufd_auto_response). */
void ifd_hwpt_release(struct vtd_iommufd *ctx, uint32_t id);
struct ifd_dev *ifd_dev_by_id(struct vtd_iommufd *ctx, uint32_t dev_id);
struct ifd_dev *ifd_dev_by_sid(struct vtd_iommufd *ctx, uint16_t sid);
/* Make the IOAS's container on the first IOAS_ALLOC (0 or -ENOMEM). */
int ifd_container_make(struct vtd_iommufd *ctx);
/* Unmap every IOAS area (context teardown). */
void ifd_areas_release(struct vtd_iommufd *ctx);

/* Per-ioctl handlers (iommufd_ioas.c, iommufd_hwpt.c, iommufd_fault.c). */
int ifd_ioas_alloc(struct vtd_iommufd *ctx, struct iommu_ioas_alloc *cmd);
int ifd_ioas_iova_ranges(struct vtd_iommufd *ctx, struct iommu_ioas_iova_ranges *cmd);
int ifd_ioas_allow_iovas(struct vtd_iommufd *ctx, struct iommu_ioas_allow_iovas *cmd);
int ifd_ioas_map(struct vtd_iommufd *ctx, struct iommu_ioas_map *cmd);
int ifd_ioas_unmap(struct vtd_iommufd *ctx, struct iommu_ioas_unmap *cmd);
int ifd_ioas_copy(struct vtd_iommufd *ctx, struct iommu_ioas_copy *cmd);
int ifd_option(struct vtd_iommufd *ctx, struct iommu_option *cmd);
int ifd_vfio_ioas(struct vtd_iommufd *ctx, struct iommu_vfio_ioas *cmd);
int ifd_hwpt_alloc(struct vtd_iommufd *ctx, struct iommu_hwpt_alloc *cmd, uint32_t user_size);
int ifd_hwpt_invalidate(struct vtd_iommufd *ctx, struct iommu_hwpt_invalidate *cmd);
int ifd_get_hw_info(struct vtd_iommufd *ctx, struct iommu_hw_info *cmd);
int ifd_fault_alloc(struct vtd_iommufd *ctx, struct iommu_fault_alloc *cmd);

#endif
