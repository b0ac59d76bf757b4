/*
 * import_linux.h: turn a Linux kernel's IOMMU trace events (the text of
 * /sys/kernel/tracing/trace, or of `trace-cmd report`) into a vtdsim trace (trace.h), for the
 * latent-staleness audit (sim/audit.h, docs/trace-audit.md).
 *
 * Events read: iommu:map and iommu:unmap (Linux 4.x to 6.x: "iova=... [- ...] paddr=... size=..."
 * and "iova=... [- ...] size=... unmapped_size=..."), intel_iommu:qi_submit (Linux 5.8 and
 * later: the descriptor's four qwords), iommu:attach_device_to_domain, iommu:io_page_fault and
 * intel_iommu:cache_tag_assign (Linux 6.10 and later: a device and its DID). Other iommu and
 * intel_iommu events are known and skipped; lines of any other event, or that are not trace
 * events, are counted and skipped, never fatal.
 *
 * What comes out: map and unmap events of 4 KiB pages (Linux does not trace permissions: read
 * and write), each descriptor as a desc event, an invalidation wait after each run of
 * qi_submit lines of one CPU (qi_submit_sync waits for its batch before it returns, and does not
 * trace its wait descriptor), and a domain event for every domain id the maps and unmaps use,
 * ahead of everything else.
 *
 * Which domain a map or unmap belongs to: Linux's map and unmap events name none, so the import
 * reads the file twice. First it ties each to a domain id: by the IOTLB invalidation the same
 * CPU submitted right after it that covers it (strict mode flushes after each unmap; with
 * CAP.CM set, Linux flushes after each map too); an unmap still untied when its CPU moves on
 * by the first later IOTLB invalidation, from any CPU, that covers it (lazy mode's flush queue
 * flushes a whole domain later; that one is never later than the unmap's real flush); else by
 * the unmap or map it pairs with (the same IOVA page, first mapped first unmapped). What stays untied is assumed to belong to the
 * domain most events were tied to, and counted as assumed. Devices are tied to domains by a
 * device-selective context-cache invalidation (its SID, and the DID of the IOTLB invalidation
 * that follows), by the descriptors just before an attach event, by a device-TLB invalidation
 * in a batch with an IOTLB one, or by cache_tag_assign; a domain no device is tied to gets a
 * made-up device (ff:00.0, ff:00.1, ...), counted too.
 */
#ifndef VTDSIM_TRACE_IMPORT_LINUX_H
#define VTDSIM_TRACE_IMPORT_LINUX_H

#include <stdint.h>

#include "trace/trace.h"

struct vtrace_import_stats {
    uint64_t lines;            /* lines read (first pass) */
    uint64_t maps, unmaps, descriptors, waits_added, domains, attaches, page_faults;
    uint64_t known_skipped;    /* other iommu and intel_iommu events */
    uint64_t unknown_events;   /* lines of other events */
    uint64_t unparsed;         /* lines that are not trace events, or an event's text that did not parse */
    uint64_t by_flush, by_later, by_pair, assumed;  /* how maps and unmaps were tied to their domain */
    uint64_t inconsistent;     /* maps over pages their domain has mapped, unmaps of pages it has not: left out */
    uint64_t made_up_devices;  /* domains given a made-up device */
    uint16_t assumed_did;      /* the domain untied events were given (when `assumed`) */
    uint64_t first_unknown_line, first_unparsed_line; /* 1-based; 0: none */
    char first_unknown[64];    /* that line's event name */
};

/*
 * Read `in` and write `out` (binary, or CSV for a .csv name; written aside and renamed into
 * place). 0 with the statistics, or -1 with the reason in err (the files, memory; never the
 * content of a line).
 */
int vtrace_import_linux(const char *in, const char *out, struct vtrace_import_stats *st, char err[VTRACE_ERR_LEN]);

#endif
