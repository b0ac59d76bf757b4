/*
 * iommu.h: the simulated IOMMU around the walker.
 *
 * One instance owns simulated memory, the capabilities, a register file, the devices behind it
 * (each with an optional device TLB), the caches hardware may keep (context cache, PASID cache,
 * IOTLB, first- and second-stage paging-structure caches) and statistics. A DMA request goes
 * device TLB -> IOTLB -> paging-structure caches -> the walker's stages behind the context and
 * PASID caches. The oracle compares every answer that a cache helped with against a fresh
 * uncached walk and reports stale translations with the invalidation that would have removed
 * them. Queued invalidation removes exactly what each descriptor's scope covers.
 *
 * Threads: the library keeps no process-wide mutable state; everything belongs to an instance.
 * Distinct instances (and everything attached to them: containers, traces) may be used from
 * different threads at once; one instance, with what is attached to it, is used by one thread at
 * a time (no internal locking). The allocation fault injection of walker/alloc.h is per thread.
 */
#ifndef VTDSIM_SIM_IOMMU_H
#define VTDSIM_SIM_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cache.h"
#include "sim/qi_desc.h"
#include "walker/caps.h"
#include "walker/irte.h"
#include "walker/mem.h"
#include "walker/walk.h"

/* The caches, by index (also the bits of a "served by" mask). */
enum vtd_cache_id {
    VTD_C_CONTEXT,
    VTD_C_PASID,
    VTD_C_IOTLB,
    VTD_C_PSC_FS,   /* first-stage paging-structure cache (PML5E..PDE), tagged DID+PASID */
    VTD_C_PSC_SS,   /* second-stage paging-structure cache, tagged DID */
    VTD_C_DEVTLB,   /* a device's TLB (one per ATS device, in the device, not the IOMMU) */
    VTD_C_NKINDS,   /* every kind above: the size of per-cache counts that include device TLBs */
};
/* The IOMMU's own caches: the kinds before the device TLB (geometry, vtd_iommu_cache()). */
#define VTD_C_NCACHES VTD_C_DEVTLB

struct vtd_iommu_config {
    struct vtd_caps caps;
    struct vtd_cache_geometry cache[VTD_C_NCACHES];
    bool oracle;            /* compare cached answers with a fresh walk (default on) */
    bool ordering_checks;   /* warn about unsafe update orders (default on) */
    /* Answer a repeated IOTLB hit from the entries the previous identical hit used, with the
     * same checks, counts and replacement state as a full lookup (default on; off only to
     * compare, see tests/test_fastpath.c). */
    bool fast_path;
    /* Answer an IOTLB miss whose first-stage walk the paging-structure cache resumes at the page
     * table from that one PTE read, without the general walk, with the same results, counts and
     * replacement state (default on; off only to compare, see tests/test_fast_miss.c). */
    bool fast_miss;
    /* With the oracle: also find the one descriptor that covers every entry the same change left
     * stale (a scan of the cache per stale answer; default on; trace replay turns it off, since
     * a trace's events carry no step to tell one change from another). */
    bool oracle_groups;
    /* With the oracle: skip the fresh walk of a request when the same request (device, PASID,
     * privilege, address, access) was checked clean before and nothing that walk read can have
     * changed since (simulated memory, RTADDR, TE): the answer served must still equal the
     * remembered fresh answer, so every stale case is still reported (default on; off only to
     * compare, see tests/test_oracle_memo.c). */
    bool oracle_memo;
    /* The interrupt entry cache (IRTEs by interrupt index, sim/ir.c); default 256 entries,
     * 64 sets of 4 ways, LRU. */
    struct vtd_cache_geometry iec;
};

/*
 * Defaults: vtd_caps_default(); context cache 64 entries and PASID cache 128 (fully
 * associative), IOTLB 512 (64 sets x 8 ways), paging-structure caches 64 each (16 x 4), all LRU;
 * oracle (with its covering groups and its memo), ordering checks and the IOTLB-hit fast path on.
 */
void vtd_iommu_config_default(struct vtd_iommu_config *cfg);

struct vtd_device_config {
    uint16_t sid;
    bool ats;                         /* has a device TLB, sends ATS translation requests */
    bool pri;                         /* may send page requests */
    unsigned pasid_bits;              /* 0: no PASID capability */
    struct vtd_cache_geometry devtlb; /* used when ats */
};

struct vtd_iommu;

/*
 * Host memory, in bytes, that cache `id` of an IOMMU with this configuration takes (allocated
 * whole by vtd_iommu_new), and that one device takes with its device TLB.
 * For budgets: a user can refuse a configuration before building it. UINT64_MAX for a
 * geometry the cache refuses.
 */
uint64_t vtd_iommu_cache_host_bytes(const struct vtd_iommu_config *cfg, enum vtd_cache_id id);
uint64_t vtd_device_host_bytes(const struct vtd_device_config *dc);

/* NULL on bad configuration or no memory; *why (if given) says which. */
struct vtd_iommu *vtd_iommu_new(const struct vtd_iommu_config *cfg, const char **why);
void vtd_iommu_free(struct vtd_iommu *io);
/*
 * Back to the state vtd_iommu_new left, for reuse without rebuilding: memory emptied, caches and
 * device TLBs empty, registers at reset, statistics, warnings and step cleared, no root table.
 * Kept: the configuration, the devices, the trace and the fault and page-request listeners.
 */
void vtd_iommu_reset(struct vtd_iommu *io);
struct vtd_mem *vtd_iommu_mem(struct vtd_iommu *io);
const struct vtd_caps *vtd_iommu_caps(const struct vtd_iommu *io);

/* 0, -EEXIST (sid taken), -EINVAL (bad config), -ENOMEM. */
int vtd_iommu_add_device(struct vtd_iommu *io, const struct vtd_device_config *dev);

/* Set RTADDR and enable translation in one go (what a driver does through GCMD). */
void vtd_iommu_set_root(struct vtd_iommu *io, uint64_t rtaddr);
/*
 * The root-table pointer walks use: RTADDR_REG as latched by the last GCMD.SRTP (VT-d 11.4.4,
 * 11.4.5) or vtd_iommu_set_root, TTM bits included; not a later RTADDR write that no SRTP
 * latched. 0 before any. Every view of "the IOMMU's tables" starts here.
 */
uint64_t vtd_iommu_root(const struct vtd_iommu *io);

/* Record the structures the IOMMU reads and writes for the following requests (NULL: stop). */
void vtd_iommu_set_trace(struct vtd_iommu *io, struct vtd_trace *trace);

/* The step counter: fills and stale reports carry the step at which they happened. */
void vtd_iommu_set_step(struct vtd_iommu *io, uint64_t step);

/* Where a translation came from. */
enum vtd_source { VTD_SRC_WALK, VTD_SRC_PSC, VTD_SRC_IOTLB, VTD_SRC_DEVTLB, VTD_SRC_IEC };
const char *vtd_source_name(enum vtd_source s);

/*
 * The stale entries one change left in one cache: when the oracle reports a stale IOTLB or
 * device-TLB entry, it looks for the other entries of that cache with the same tag (DID and
 * PASID, or device and PASID) that are stale too and were made stale by the same change (the
 * step that last wrote a structure their fresh walk reads; vtd_iommu_set_step), and gives the
 * narrowest single descriptor that removes them all: page-selective with the smallest aligned
 * AM (or device-TLB size) that covers their span, else PASID- or domain-selective.
 */
#define VTD_STALE_PAGES_KEPT 8
struct vtd_stale_group {
    enum vtd_cache_id cache;  /* VTD_C_IOTLB or VTD_C_DEVTLB */
    unsigned entries;         /* stale entries of that change in the cache, the reported one included */
    uint64_t first, last;     /* the lowest and highest input address they translate */
    uint64_t change_step;     /* the step whose write left them stale */
    struct vtd_desc pages[VTD_STALE_PAGES_KEPT]; /* one descriptor per entry, lowest addresses first */
    unsigned npages;          /* of `entries`, the ones kept in pages[] */
    struct vtd_desc covering; /* the one descriptor that removes all of them */
};

/* A stale-translation report from the oracle. The fix is one descriptor per stale cache, in the
 * order software must issue them (VT-d 6.5.3: context, PASID, IOTLB, device TLB; 6.5.2.5: the
 * device TLB after the IOTLB): at most the context cache, the PASID cache, the two
 * paging-structure caches or the IOTLB, and the device TLB. */
#define VTD_STALE_FIXES_MAX 5
struct vtd_stale {
    unsigned caches;          /* bit per enum vtd_cache_id (and VTD_C_DEVTLB) that served stale data */
    uint64_t filled_step;     /* when the (oldest) stale entry was filled */
    struct vtd_xlate fresh;   /* what an uncached walk of current memory says */
    struct vtd_desc fixes[VTD_STALE_FIXES_MAX]; /* the narrowest descriptors that would have removed it */
    unsigned nfixes;
    /* The same as vtd_qi_describe() prints them, joined by "; ", then, when the same change left
     * more than this entry stale, "; or one descriptor for ...: " and the covering descriptors. */
    char fix[1024];
    struct vtd_stale_group groups[2]; /* the IOTLB's, then the device TLB's */
    unsigned ngroups;
    char covering[512];       /* the groups' covering descriptors described, with their spans */
};

/*
 * Lost accessed/dirty state (sim/dirty.c, with the oracle): a request served from a cached
 * translation (IOTLB or device TLB) that a walk would have used to set an A or D bit that is
 * clear in memory now. Hardware sets A/D only when it walks (VT-d 3.6.3, 3.7.3): software that
 * clears D (a dirty harvest) or A and does not invalidate the translation never sees the page
 * again. A lost D bit is a finding (a page written and never reported dirty); a lost A bit
 * only matters to software that relies on A, so it is counted and reported, not failed on.
 */
struct vtd_ad_lost {
    bool dirty, accessed;     /* a D (write) / A (any access) bit the cached answer left clear */
    unsigned stage;           /* 1: first-stage leaf, 2: second-stage leaf (the D one if both) */
    uint64_t entry_addr;      /* that leaf entry's host-physical address */
    enum vtd_cache_id cache;  /* VTD_C_IOTLB or VTD_C_DEVTLB: what served the request */
    uint64_t filled_step;     /* when that cache entry was filled */
    struct vtd_desc fix;      /* the narrowest invalidation that would have prevented it */
    char text[384];           /* all of the above as one sentence */
};

struct vtd_dma_result {
    struct vtd_xlate x;       /* the answer served (stale or not) */
    enum vtd_source source;
    unsigned reads, paging_reads; /* structure reads the IOMMU made for this request */
    unsigned used;            /* bit per cache that had an entry used (context/PASID hits too) */
    bool stale;
    struct vtd_stale report;  /* when stale */
    /* With the CPU's write-back cache holding dirty lines (walker/mem.h): the walk read a
     * structure whose newer value is still only in the CPU's cache, and the answer differs from
     * the one software meant; flush_fix names the structure, both values and the line to flush. */
    bool unflushed;
    char flush_fix[256];
    struct vtd_ad_lost lost;  /* lost.dirty / lost.accessed: see above (the rest when either) */
};

/*
 * What host software above the IOMMU (host/: the VFIO container) is told by it and keeps on it.
 * The fault listener hears every recorded unrecoverable fault (after the fault registers);
 * page requests go through the queue in memory and its event handler (sim/prq.h). The
 * host slot is one pointer the host layer keeps per IOMMU (what all containers of one IOMMU
 * share: the root table, the system-wide PASID space), so that state belongs to the instance
 * and not to the process; the IOMMU never looks inside it, and the layer that set it clears
 * and frees it before vtd_iommu_free. Each setter replaces what was set (NULL clears).
 */
typedef void (*vtd_fault_listener)(void *arg, const struct vtd_request *req, const struct vtd_xlate *x);
void vtd_iommu_set_fault_listener(struct vtd_iommu *io, vtd_fault_listener fn, void *arg);
void vtd_iommu_set_host(struct vtd_iommu *io, void *host);
void *vtd_iommu_host(const struct vtd_iommu *io);
/*
 * A listener told of every descriptor the IOMMU processes, by vtd_qi_submit or from the queue in
 * memory, once processed: rc is 0 or the error it was refused with. What lets a tool show which
 * descriptors host software issued for one of its calls. Kept across vtd_iommu_reset.
 */
typedef void (*vtd_qi_listener)(void *arg, const uint64_t *desc, unsigned nqw, int rc);
void vtd_iommu_set_qi_listener(struct vtd_iommu *io, vtd_qi_listener fn, void *arg);
/* What host software learns of a device from its PCIe capabilities (not its ATC's geometry). */
struct vtd_device_info {
    uint16_t sid;
    bool ats, pri;
    unsigned pasid_bits;
};
/* 0, or -ENODEV when no device has that source-id. */
int vtd_iommu_device_info(const struct vtd_iommu *io, uint16_t sid, struct vtd_device_info *out);
/* Count an allocation that failed where host software carried on without it (statistics). */
void vtd_iommu_count_alloc_failure(struct vtd_iommu *io);

/* vtd_iommu_dma's answer when the device sent a page request instead (PRI, issue 5): the
 * request did not complete; the device retries once the page group response arrives. */
#define VTD_DMA_PAGE_REQUEST 0x100

/*
 * One DMA request from a device. For an ATS device an untranslated request first consults the
 * device TLB, then asks the IOMMU with a translation request and fills the device TLB.
 * Returns 0, the fault code (also in res->x.fault), or VTD_DMA_PAGE_REQUEST.
 */
int vtd_iommu_dma(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res);
/*
 * The requests of `n` consecutive 4 KiB pages (n >= 1): `req` for the first, then the same
 * request at the start of each following page (the address wraps as uint64_t arithmetic does).
 * Each page is answered, counted, checked by the oracle and reported exactly as by its own
 * vtd_iommu_dma() call, in order; `res` and the return value are the last page's.
 */
int vtd_iommu_dma_pages(struct vtd_iommu *io, const struct vtd_request *req, uint64_t n, struct vtd_dma_result *res);

/* The caches (for statistics, tests and reports). */
struct vtd_cache *vtd_iommu_cache(struct vtd_iommu *io, enum vtd_cache_id id);
/* A device's TLB, or NULL. */
struct vtd_cache *vtd_iommu_devtlb(struct vtd_iommu *io, uint16_t sid);

/*
 * Ordering warnings (when cfg.ordering_checks): a present PASID entry modified in place, a
 * device-TLB invalidation issued while the IOTLB still holds the stale entry, a page-table
 * page written before the invalidation wait that covers its release. Returns the number raised
 * so far; vtd_iommu_warning(io, i) gives one of the last 64 (NULL if no longer kept).
 */
uint64_t vtd_iommu_warning_count(const struct vtd_iommu *io);
const char *vtd_iommu_warning(const struct vtd_iommu *io, uint64_t i);

/* Statistics beyond the per-cache counters. */
#define VTD_READS_HIST 48
struct vtd_iommu_stats {
    uint64_t requests, faults, stale, page_requests;
    uint64_t walks, walk_reads;
    uint64_t reads_hist[VTD_READS_HIST]; /* translations by number of structure reads (last bucket: more) */
    /* Per stage (enum vtd_trace_kind: root, context, PASID directory, PASID entry, first stage,
     * second stage): requests that read that stage at all, and the reads made there. */
    uint64_t stage_walks[VTD_TR_NKINDS], stage_reads[VTD_TR_NKINDS];
    uint64_t fault_count[256];           /* by fault code */
    uint64_t warnings;
    /* Allocations that failed where the model carries on without them (ordering checks, page
     * requests); the frames simulated memory refused are in vtd_mem_enomem_count(). */
    uint64_t alloc_failures;
    uint64_t interrupts;                 /* interrupt requests (vtd_iommu_interrupt), in `requests` too */
    /* Requests whose cached answer left a D (write) or A bit clear in memory (struct vtd_ad_lost). */
    uint64_t dirty_lost, accessed_lost;
};
const struct vtd_iommu_stats *vtd_iommu_stats(const struct vtd_iommu *io);
/* Requests the IOTLB-hit fast path answered (cfg.fast_path): a host-side figure, apart from the
 * statistics above, which are the same with the fast path on or off. */
uint64_t vtd_iommu_fast_hits(const struct vtd_iommu *io);
/* IOTLB misses the paging-structure-cache fast path answered (cfg.fast_miss): host-side too. */
uint64_t vtd_iommu_fast_misses(const struct vtd_iommu *io);
/* Oracle checks the memo answered without a fresh walk (cfg.oracle_memo): host-side too. */
uint64_t vtd_iommu_oracle_memo_hits(const struct vtd_iommu *io);

/*
 * Interrupt remapping (sim/ir.c, docs/interrupt-remapping.md). An interrupt request is a
 * VTD_REQ_INTERRUPT request (addr and data of the DWORD write), or any untranslated write
 * without PASID to 0xFEEx_xxxx, which vtd_iommu_dma hands here: it is never a DMA. With
 * remapping on (GCMD.IRE, ECAP.IR) the IRTE of a remappable request comes from the interrupt
 * entry cache or the table IRTA_REG pointed at when GCMD.SIRTP latched it; res->x.intr holds
 * the interrupt delivered, res->x.fault a fault 20h-26h (recorded like any other, the index in
 * FRCD's FI bits 63:48). With the oracle an IEC hit is compared with the table in memory: a
 * difference is reported stale (source VTD_SRC_IEC) with the IEC descriptor that removes it.
 */
/* Inline: vtd_iommu_dma asks it of every request. Without PASID, a write to 0xFEEx_xxxx is an
 * interrupt request, never a DMA (3.14). */
static inline bool vtd_iommu_is_interrupt(const struct vtd_request *req)
{
    if (req->kind == VTD_REQ_INTERRUPT)
        return true;
    return req->kind == VTD_REQ_UNTRANSLATED && !req->pasid_valid && (req->access & VTD_ACC_W) &&
           vtd_irq_addr_is_interrupt(req->addr);
}
int vtd_iommu_interrupt(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res);
/* Point IRTA at a table and enable remapping in one go (SIRTP and IRE, CFI as given), as
 * vtd_iommu_set_root does for translation. The IEC is not invalidated. */
void vtd_iommu_set_irt(struct vtd_iommu *io, uint64_t irta, bool cfi);
/* Remapping as the walks see it: the latched IRTA, IRES, CFIS. */
struct vtd_ir_cfg vtd_iommu_ir(const struct vtd_iommu *io);
/* The interrupt entry cache. */
struct vtd_cache *vtd_iommu_iec(struct vtd_iommu *io);

#endif
