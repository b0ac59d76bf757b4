/*
 * uapi.h: the runner's uAPI steps: a scenario's `container:` and the VFIO ioctls it replays
 * through vtd_container_ioctl (host/container.h), with the structures filled from step fields.
 */
#ifndef VTDSIM_RUNNER_UAPI_H
#define VTDSIM_RUNNER_UAPI_H

#include <stdint.h>

#include "runner/scenario.h"
#include "walker/builder.h"

struct vtd_container;

/* The scenario's container on `io` (0 or -errno with *why). */
int sc_uapi_container_new(struct vtd_iommu *io, const struct scenario *s, struct vtd_container **out,
                          const char **why);
void sc_uapi_container_free(struct vtd_container *c);
struct vtd_builder *sc_uapi_builder(struct vtd_container *c);
const struct vtd_pt *sc_uapi_container_ss(const struct vtd_container *c);

/*
 * One uAPI step: `gpt` is the guest table a bind names (its root is gpgd), `sid` the device of
 * container_attach. Returns 0 or -errno; *ret receives the ioctl's result (a PASID for
 * ALLOC_PASID, argsz for get_info, the size unmapped for unmap_dma).
 */
int sc_uapi_step(struct vtd_container *c, const struct sc_step *st, const struct vtd_pt *gpt, uint16_t sid,
                 long long *ret);
/*
 * The iommu layer's answer to the last UNBIND_PGTBL or CACHE_INVLD: VFIO discards it and
 * returns 0, as the vSVA series did, so scenarios check it separately (iommu_errno).
 */
int sc_uapi_layer_error(const struct vtd_container *c);

/* One record of the container's fault queue, as the runner compares it. */
struct sc_ufault {
    uint32_t type, reason, flags, pasid, grpid;
    uint64_t addr;
};
/* Drain up to `max` records of the container's fault queue; returns how many. */
unsigned sc_uapi_read_faults(struct vtd_container *c, struct sc_ufault *out, unsigned max);

#endif
