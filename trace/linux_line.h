/*
 * linux_line.h: one line of a Linux kernel's trace text (/sys/kernel/tracing/trace or
 * trace-cmd report) as the import needs it (trace/import_linux.c): which IOMMU event, on which
 * CPU, and its fields. Not a public interface.
 */
#ifndef VTDSIM_TRACE_LINUX_LINE_H
#define VTDSIM_TRACE_LINUX_LINE_H

#include <stdbool.h>
#include <stdint.h>

/* Linux maps whole pages of this size. */
#define LX_PAGE_SHIFT 12u

/* none: a comment or blank line; known: another iommu or intel_iommu event; unknown: any other
 * event; bad: not an event line, or an event whose text did not parse. */
enum lx_kind { LX_NONE, LX_MAP, LX_UNMAP, LX_QI, LX_ATTACH, LX_FAULT, LX_TAG, LX_KNOWN, LX_UNKNOWN, LX_BAD };

/* One line of the trace, parsed. */
struct lx_event {
    enum lx_kind kind;
    unsigned cpu;
    uint64_t iova, size, paddr;
    uint64_t qw[2];
    uint16_t sid, did;
    bool devtlb;              /* cache_tag_assign of a device TLB */
    char name[64];            /* the event's name (unknown events) */
};

/*
 * "  task-pid  [001] d..1.  19.63: map: IOMMU: ..." (tracefs) or "task-pid [001] 19.63: map: ..."
 * (trace-cmd report): the CPU in brackets, then the timestamp, the event's name and its text.
 */
void lx_parse_line(const char *line, struct lx_event *e);

#endif
