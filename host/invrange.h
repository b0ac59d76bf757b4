/*
 * invrange.h: the range probe behind `vtdsim inv-table --range ADDR SIZE`: how each host
 * policy turns a guest's invalidation of one (unaligned, multi-page) range into hardware
 * descriptors, which pages of the range those leave cached, and which cached pages beyond the
 * range they flush as well. Measured on a fresh simulated world per policy, without hardware.
 */
#ifndef VTDSIM_HOST_INVRANGE_H
#define VTDSIM_HOST_INVRANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/container.h"
#include "sim/qi_desc.h"

/* The host answering the guest: CACHE_INVLD under either policy, or iommufd's HWPT_INVALIDATE
 * as either kernel computes its range (docs/uapi.md). */
enum inv_range_policy { IRP_SPEC, IRP_LINUX_5_10, IRP_IOMMUFD_6_10, IRP_IOMMUFD_6_8, IRP_N };

#define INV_RANGE_MAX_PAGES 64u  /* 4 KiB pages a range may touch */
#define INV_RANGE_MARGIN 4u      /* pages probed on either side of the range */
#define INV_RANGE_MAX_DESCS 16u  /* descriptors kept per policy */

/* What became of one page's cached translation in one cache. */
enum inv_page_state {
    IPS_NONE,     /* nothing was cached for it before the request */
    IPS_FLUSHED,  /* in the range: the stale translation is gone (as asked) */
    IPS_STALE,    /* in the range: still served from the cache (the invalidation missed it) */
    IPS_KEPT,     /* beyond the range: still cached (as it should be) */
    IPS_LOST,     /* beyond the range: removed all the same (collateral over-invalidation) */
};

struct inv_range_page {
    uint64_t va;
    bool in_range;
    enum inv_page_state iotlb;   /* through the plain device */
    enum inv_page_state devtlb;  /* the ATS device's device TLB */
};

struct inv_range_result {
    enum inv_range_policy policy;
    uint32_t pasid;
    int err;                     /* the request's answer: 0 or -errno */
    unsigned ndesc;              /* descriptors issued (the first INV_RANGE_MAX_DESCS kept) */
    struct vtd_desc desc[INV_RANGE_MAX_DESCS];
    unsigned npages;             /* the range's pages and the margin on either side */
    struct inv_range_page page[INV_RANGE_MAX_PAGES + 2 * INV_RANGE_MARGIN];
};

/* The 4 KiB pages [addr, addr + size) touches, or 0 for an empty or wrapping range. */
uint64_t inv_range_pages(uint64_t addr, uint64_t size);
/*
 * Probe one policy. 0; -EINVAL for an empty or wrapping range, -E2BIG for more than
 * INV_RANGE_MAX_PAGES pages, -ERANGE beyond the 48-bit first stage's lower half; or the
 * -errno of building the probe world. The request's own answer is out->err.
 */
int inv_range_probe(enum inv_range_policy policy, uint64_t addr, uint64_t size, struct inv_range_result *out);
const char *inv_range_policy_name(enum inv_range_policy p);
const char *inv_page_state_name(enum inv_page_state s);

#endif
