/*
 * audit.h: the latent-staleness audit. It finds translations a cache may still hold after
 * software changed them, whether or not a DMA happened to use them (docs/trace-audit.md).
 *
 * The oracle (sim/oracle.c) sees a stale entry only when a request hits it. Hardware, though,
 * may cache any present translation at any time (VT-d 6.1: speculative fills are allowed), so
 * the audit is conservative: every range unmapped from an address space stays "possibly
 * cached" until an invalidation that covers it has been submitted and completed (a later
 * invalidation-wait descriptor), and, for a domain with device TLBs, until a device-TLB
 * invalidation of each such device followed the IOTLB one (6.5.2.5: the device TLB refills from
 * the IOTLB, so the IOTLB goes first). A map over such a range is a reuse that exposes it: each
 * one is a finding with the range, the unmap that made it stale, the map that reused it and the
 * narrowest descriptor that was missing. What is still possibly cached when the audit ends is
 * reported the same way, with no reuse.
 *
 * An address space is a domain id and, for first-stage and nested translation, a PASID (the
 * tags of its IOTLB entries); devices join spaces. Feed the audit the events in order: unmaps,
 * maps, and every descriptor submitted, waits included. It is an instance with no global state.
 */
#ifndef VTDSIM_SIM_AUDIT_H
#define VTDSIM_SIM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/qi_desc.h"

enum vtd_audit_kind {
    VTD_AUDIT_NOT_INVALIDATED, /* no invalidation touched the range */
    VTD_AUDIT_PARTIAL,         /* an invalidation covered a neighbour, not this part (address-mask rounding) */
    VTD_AUDIT_NOT_WAITED,      /* covered, but no invalidation wait completed it before the reuse */
    VTD_AUDIT_DEVTLB_MISSING,  /* the IOTLB was invalidated; a device TLB of the domain never was */
    VTD_AUDIT_DEVTLB_EARLY,    /* the device TLB was invalidated before the IOTLB only, never after */
    VTD_AUDIT_NKINDS
};
const char *vtd_audit_kind_name(enum vtd_audit_kind k);

#define VTD_AUDIT_NO_EVENT UINT64_MAX

/* A space's tag when it has no PASID (second-stage-only translation of a DMA-API domain). */
#define VTD_AUDIT_NO_PASID UINT32_MAX

struct vtd_audit_finding {
    enum vtd_audit_kind kind;
    uint16_t did;
    uint32_t pasid;           /* VTD_AUDIT_NO_PASID for a space tagged by its DID only */
    uint64_t first, last;     /* the possibly cached range, inclusive */
    uint64_t stale_event;     /* the unmap that made it stale */
    uint64_t reuse_event;     /* the map that reused it; VTD_AUDIT_NO_EVENT: stale at the end */
    uint64_t touch_event;     /* the invalidation that covered its neighbour (PARTIAL), covered it
                                 (NOT_WAITED, DEVTLB_*), else VTD_AUDIT_NO_EVENT */
    uint16_t devtlb_sid;      /* DEVTLB_*: the device whose TLB was left */
    struct vtd_desc missing;  /* the narrowest descriptor that would have removed it */
};

struct vtd_audit_stats {
    uint64_t maps, unmaps, descriptors, waits, reuses, findings;
    uint64_t pending, pending_peak;  /* ranges possibly cached now, and at most */
};

typedef void (*vtd_audit_fn)(void *arg, const struct vtd_audit_finding *f);

struct vtd_audit;
/* NULL when out of memory. `fn` hears each finding as it is made. */
struct vtd_audit *vtd_audit_new(vtd_audit_fn fn, void *arg);
void vtd_audit_free(struct vtd_audit *a);

/*
 * Device `sid` translates through the space (did, pasid); `devtlb`: it has a device TLB. A
 * device-TLB descriptor that names a member also tells the audit it has one. 0, or -ENOMEM.
 */
int vtd_audit_join(struct vtd_audit *a, uint16_t sid, uint16_t did, uint32_t pasid, bool devtlb);

/* [first, last] of the space (did, pasid) was unmapped / mapped at trace event `event`.
 * 0, or -ENOMEM. */
int vtd_audit_unmap(struct vtd_audit *a, uint64_t event, uint16_t did, uint32_t pasid, uint64_t first, uint64_t last);
int vtd_audit_map(struct vtd_audit *a, uint64_t event, uint16_t did, uint32_t pasid, uint64_t first, uint64_t last);

/* A descriptor was submitted (its first two qwords: every invalidation the audit reads fits
 * there). An invalidation wait completes everything submitted before it. 0, or -ENOMEM. */
int vtd_audit_desc(struct vtd_audit *a, uint64_t event, const uint64_t qw[2]);

/* The end of the run: what is still possibly cached becomes findings (reuse_event none). */
void vtd_audit_finish(struct vtd_audit *a);

const struct vtd_audit_stats *vtd_audit_stats(const struct vtd_audit *a);

/* One line: "never invalidated: DID 4 0xffffa000-0xffffafff, unmapped at event 12, reused by
 * the map at event 15; missing: IOTLB PSI DID 4 ADDR 0xffffa000 AM 0 ..." */
void vtd_audit_describe(const struct vtd_audit_finding *f, char *buf, size_t len);

#endif
