/*
 * container.h: a simulated VFIO type1 (nesting) container in front of one vtd_iommu: the
 * vSVA user API of the 2020 proposal (issue 5), answered with the kernel's 0 / -errno.
 *
 * The container owns a host domain: a DID and a second-stage table in the IOMMU's memory,
 * built from a host-physical pool. MAP_DMA's `vaddr` is taken as a host-physical address in
 * the IOMMU's simulated memory (there is no process address space to pin). Devices attached
 * get a scalable-mode context entry and a RID_PASID entry (PGTT 2) for the domain.
 */
#ifndef VTDSIM_SIM_CONTAINER_H
#define VTDSIM_SIM_CONTAINER_H

#include <stdint.h>

#include "sim/iommu.h"

struct vtd_container;

/* How NESTING_OP CACHE_INVLD turns a request into descriptors (see docs/uapi.md). */
enum vtd_inv_policy { VTD_INV_SPEC, VTD_INV_LINUX_5_10 };

struct vtd_container_config {
    uint16_t did;             /* the host domain's DID (non-zero, below 2^CAP.ND width) */
    uint64_t pool_base;       /* host-physical pool for the container's structures */
    uint64_t pool_size;
    unsigned ss_levels;       /* second-stage levels: 3, 4 or 5 (must be in SAGAW) */
    enum vtd_inv_policy policy;
};

/* Defaults: DID 1, pool [0x10000000, +256 MiB), 4-level second stage, policy spec. */
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

/* Host-side views for tests and tools. */
uint16_t vtd_container_did(const struct vtd_container *c);
/* The domain's second-stage table (a backing for guest first-stage tables). */
const struct vtd_pt *vtd_container_ss(const struct vtd_container *c);
/* The builder of the container's structures. */
struct vtd_builder *vtd_container_builder(struct vtd_container *c);

#endif
