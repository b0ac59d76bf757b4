/*
 * ats_inv.h: device-TLB invalidation completion and time-out (VT-d 6.5.2.10, FSTS.ITE/ICE and
 * IQERCD.ITESID/ICESID in 11.4).
 *
 * A device-TLB invalidation read from the invalidation queue in memory is a request sent to the
 * device (PCIe ATS "Invalidate Request"); the device answers with an Invalidate Completion when
 * its TLB is clean. Each ATS device answers in one of four ways (vtd_iommu_set_ats_reply): at
 * once (the default, and what a direct vtd_qi_submit always gets), after a delay, never (a hung
 * or hot-unplugged device), or with a completion whose ITag matches no request (ICE; the real
 * completion then never comes). Time is the IOMMU's own clock, moved by vtd_iommu_advance.
 *
 * While a request is outstanding the queue keeps going up to the next invalidation wait, which
 * is fetched (IQH moves past it) and held: it completes, with its status write and IWC, once
 * every earlier request has completed. A request still unanswered after the time-out (default
 * one minute, the PCIe ATS Invalidate Completion time-out) raises FSTS.ITE with the device's
 * source-id in IQERCD.ITESID; the held wait is aborted (no status write, no IWC), outstanding
 * requests are abandoned, and nothing more is fetched until software clears ITE. Recovery is
 * software's: read IQH, clear ITE, resubmit the batch or give it up (Linux qi_check_fault()).
 */
#ifndef VTDSIM_SIM_ATS_INV_H
#define VTDSIM_SIM_ATS_INV_H

#include <stdint.h>

#include "sim/iommu.h"

enum vtd_ats_reply {
    VTD_ATS_REPLY_NOW,      /* completes at once */
    VTD_ATS_REPLY_DELAYED,  /* completes after the device's delay (a time-out if longer) */
    VTD_ATS_REPLY_NEVER,    /* never answers: the request times out */
    VTD_ATS_REPLY_BAD_ITAG, /* answers after the delay with an unknown ITag: ICE, then a time-out */
};

/* PCIe ATS: an Invalidate Completion may take up to a minute (-0%/+50%). */
#define VTD_ATS_INV_TIMEOUT_DEFAULT_NS (UINT64_C(60) * 1000 * 1000 * 1000)

/* How the device `sid` answers device-TLB invalidations from now on. 0, -ENODEV (no such
 * device), -EINVAL (not an ATS device, or an unknown reply). */
int vtd_iommu_set_ats_reply(struct vtd_iommu *io, uint16_t sid, enum vtd_ats_reply reply, uint64_t delay_ns);

/* Hot-unplug: the device's TLB is gone and it answers nothing more. 0 or -ENODEV. */
int vtd_iommu_unplug(struct vtd_iommu *io, uint16_t sid);

/* The IOMMU's device-TLB invalidation time-out (0: the default). */
void vtd_iommu_set_inv_timeout(struct vtd_iommu *io, uint64_t ns);

/* Let `ns` nanoseconds pass: completions, ICE and time-outs due by then happen in time order. */
void vtd_iommu_advance(struct vtd_iommu *io, uint64_t ns);

/* The clock, and the device-TLB invalidation requests outstanding now. */
uint64_t vtd_iommu_now(const struct vtd_iommu *io);
unsigned vtd_iommu_inv_outstanding(const struct vtd_iommu *io);

#endif
