/*
 * qi.h: queued invalidation (VT-d 6.5.2): descriptor decoding, validation, and the removal of
 * exactly what each descriptor's scope covers from each cache.
 *
 * Descriptors reach the model two ways: through the invalidation queue in simulated memory
 * (IQA/IQH/IQT registers, sim/regs.h) or by direct submission (vtd_qi_submit), which is what
 * tests and scenarios use. Either way one function interprets them. The descriptors' layout,
 * encoders, decoders and describer are in sim/qi_desc.h.
 */
#ifndef VTDSIM_SIM_QI_H
#define VTDSIM_SIM_QI_H

#include <stdint.h>

#include "sim/iommu.h"
#include "sim/qi_desc.h"

/* Outcome of one descriptor. */
struct vtd_qi_result {
    int error;           /* 0, or an invalidation queue error (IQE) */
    char why[128];       /* for an error: the descriptor and the reason */
    unsigned removed[VTD_C_NKINDS];     /* entries removed per cache (device TLBs: VTD_C_DEVTLB) */
    unsigned over[VTD_C_NKINDS];        /* of those, entries that were still correct */
    unsigned iec_removed;               /* interrupt-entry-cache entries removed */
};

/*
 * Process one descriptor of `nqw` qwords (2 for 128-bit, 4 for 256-bit). Returns 0 or -EINVAL
 * for an invalid descriptor (reserved bits, unknown type or granularity, AM above CAP.MAMV, a
 * 256-bit-only type in a 128-bit descriptor...), with the reason in r->why.
 */
int vtd_qi_submit(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw, struct vtd_qi_result *r);

/* The same for a descriptor built by sim/qi_desc.h's encoders. */
static inline int vtd_qi_submit_desc(struct vtd_iommu *io, const struct vtd_desc *d, struct vtd_qi_result *r)
{
    return vtd_qi_submit(io, d->qw, d->nqw, r);
}

#endif
