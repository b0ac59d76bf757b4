/*
 * gen.h: deterministic generators of DMA traces that look like common workloads, for hit-rate
 * studies. The same parameters and seed give the same trace, event for event.
 *
 *   nic       receive/transmit rings; one map per packet buffer, one unmap when it completes,
 *             with strict invalidation (one page-selective flush per unmap, Linux's strict mode)
 *             or deferred invalidation (Linux's flush queue: freed IOVAs wait in a 256-entry
 *             queue, one domain-wide flush releases them; Linux 5.10 include/linux/iova.h
 *             IOVA_FQ_SIZE and drivers/iommu/iova.c queue_iova / fq_ring_free). An unsafe
 *             variant reuses IOVAs before the flush, which is what makes translations stale.
 *   storage   large sequential I/O (128 KiB - 1 MiB requests) over a buffer mapped once with
 *             2 MiB pages where aligned (a user-space driver's pinned buffer), with submission
 *             and completion queues.
 *   uniform   random accesses over N mapped 4 KiB pages, every page equally likely.
 *   zipf      the same with page popularity following Zipf's law (rank k with weight 1/k^s),
 *             hot pages scattered over the range.
 *   sva       a process address space shared with a device through a PASID (first stage):
 *             text, heap (2 MiB pages with some 4 KiB pages among them), huge-page buffers, stack.
 *
 * Live migration (dirty_every, every kind but sva): the device keeps working while the VMM
 * harvests its dirty pages: a `dirty` event over the whole space after every N DMAs (a pre-copy
 * round), and a last one at the end (the stop-and-copy round).
 */
#ifndef VTDSIM_TRACE_GEN_H
#define VTDSIM_TRACE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/trace.h"

enum vtrace_gen_kind { VTRACE_GEN_NIC, VTRACE_GEN_STORAGE, VTRACE_GEN_UNIFORM, VTRACE_GEN_ZIPF, VTRACE_GEN_SVA,
                       VTRACE_GEN_NKINDS };
enum vtrace_inval { VTRACE_INVAL_STRICT, VTRACE_INVAL_DEFERRED };

struct vtrace_gen_params {
    enum vtrace_gen_kind kind;
    uint64_t seed;
    uint64_t count;        /* packets (nic), requests (storage), DMAs (uniform, zipf, sva) */
    uint16_t sid;
    /* nic */
    unsigned ring;         /* descriptors per ring */
    unsigned pkt_size;     /* bytes per packet (at most 64 KiB) */
    bool rx, tx;           /* directions (both: packets alternate) */
    enum vtrace_inval inval;
    unsigned fq_size;      /* deferred: unmaps per flush */
    bool reuse_before_flush; /* deferred: free IOVAs at unmap (unsafe) instead of after the flush */
    /* storage */
    uint64_t buffer;       /* bytes of the I/O buffer (storage) */
    uint32_t req_min, req_max; /* request sizes: powers of two in [min, max] */
    bool small_pages;      /* storage, sva: 4 KiB pages only */
    /* uniform, zipf */
    uint64_t pages;        /* mapped pages */
    uint32_t dma_size;     /* bytes per random DMA */
    double zipf_s;         /* Zipf exponent */
    /* sva */
    uint32_t pasid;
    /* migration: a whole-space dirty harvest after every dirty_every DMAs (0: none) */
    uint64_t dirty_every;
};

/* Defaults for a kind (documented in docs/performance.md). */
void vtrace_gen_defaults(struct vtrace_gen_params *p, enum vtrace_gen_kind kind);
const char *vtrace_gen_name(enum vtrace_gen_kind kind);
/* The kind of a name, or -1. */
int vtrace_gen_kind_of(const char *name);

/* Where generated events go: 0 to continue, non-zero to stop (returned by vtrace_generate). */
typedef int (*vtrace_emit_fn)(void *arg, const struct vtrace_event *e);

/*
 * Generate a trace: 0, a non-zero value from `emit`, or -1 for bad parameters or no memory
 * with the reason in err.
 */
int vtrace_generate(const struct vtrace_gen_params *p, vtrace_emit_fn emit, void *arg, char err[VTRACE_ERR_LEN]);
/* The same into a file (format from its name); `events`, when given, gets the events written
 * per kind (enum vtrace_kind). */
int vtrace_generate_file(const struct vtrace_gen_params *p, const char *path, uint64_t events[VTRACE_NKINDS],
                         char err[VTRACE_ERR_LEN]);

/* The generators' random numbers: splitmix64, exposed for tests. */
uint64_t vtrace_rand(uint64_t *state);

#endif
