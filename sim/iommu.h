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
 */
#ifndef VTDSIM_SIM_IOMMU_H
#define VTDSIM_SIM_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cache.h"
#include "walker/caps.h"
#include "walker/mem.h"
#include "walker/walk.h"

/* The caches, by index (also the bits of a "served by" mask). */
enum vtd_cache_id {
    VTD_C_CONTEXT,
    VTD_C_PASID,
    VTD_C_IOTLB,
    VTD_C_PSC_FS,   /* first-stage paging-structure cache (PML5E..PDE), tagged DID+PASID */
    VTD_C_PSC_SS,   /* second-stage paging-structure cache, tagged DID */
    VTD_C_NCACHES,
};
#define VTD_C_DEVTLB VTD_C_NCACHES /* bit used in served-by masks for a device TLB */

struct vtd_iommu_config {
    struct vtd_caps caps;
    struct vtd_cache_geometry cache[VTD_C_NCACHES];
    bool oracle;            /* compare cached answers with a fresh walk (default on) */
    bool ordering_checks;   /* warn about unsafe update orders (default on) */
    /* Answer a repeated IOTLB hit from the entries the previous identical hit used, with the
     * same checks, counts and replacement state as a full lookup (default on; off only to
     * compare, see tests/test_fastpath.c). */
    bool fast_path;
};

/*
 * Defaults: vtd_caps_default(); context cache 64 entries and PASID cache 128 (fully
 * associative), IOTLB 512 (64 sets x 8 ways), paging-structure caches 64 each (16 x 4), all LRU;
 * oracle, ordering checks and the IOTLB-hit fast path on.
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

/* Record the structures the IOMMU reads and writes for the following requests (NULL: stop). */
void vtd_iommu_set_trace(struct vtd_iommu *io, struct vtd_trace *trace);

/* The step counter: fills and stale reports carry the step at which they happened. */
void vtd_iommu_set_step(struct vtd_iommu *io, uint64_t step);

/* Where a translation came from. */
enum vtd_source { VTD_SRC_WALK, VTD_SRC_PSC, VTD_SRC_IOTLB, VTD_SRC_DEVTLB };
const char *vtd_source_name(enum vtd_source s);

/* A stale-translation report from the oracle. */
struct vtd_stale {
    unsigned caches;          /* bit per enum vtd_cache_id (and VTD_C_DEVTLB) that served stale data */
    uint64_t filled_step;     /* when the (oldest) stale entry was filled */
    struct vtd_xlate fresh;   /* what an uncached walk of current memory says */
    char fix[160];            /* the narrowest descriptor(s) that would have removed it */
};

struct vtd_dma_result {
    struct vtd_xlate x;       /* the answer served (stale or not) */
    enum vtd_source source;
    unsigned reads, paging_reads; /* structure reads the IOMMU made for this request */
    unsigned used;            /* bit per cache that had an entry used (context/PASID hits too) */
    bool stale;
    struct vtd_stale report;  /* when stale */
};

/* vtd_iommu_dma's answer when the device sent a page request instead (PRI, issue 5): the
 * request did not complete; the device retries once the page group response arrives. */
#define VTD_DMA_PAGE_REQUEST 0x100

/*
 * One DMA request from a device. For an ATS device an untranslated request first consults the
 * device TLB, then asks the IOMMU with a translation request and fills the device TLB.
 * Returns 0, the fault code (also in res->x.fault), or VTD_DMA_PAGE_REQUEST.
 */
int vtd_iommu_dma(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res);

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
    uint64_t stage_walks[6], stage_reads[6];
    uint64_t fault_count[256];           /* by fault code */
    uint64_t warnings;
    /* Allocations that failed where the model carries on without them (ordering checks, page
     * requests); the frames simulated memory refused are in vtd_mem_enomem_count(). */
    uint64_t alloc_failures;
};
const struct vtd_iommu_stats *vtd_iommu_stats(const struct vtd_iommu *io);
/* Requests the IOTLB-hit fast path answered (cfg.fast_path): a host-side figure, apart from the
 * statistics above, which are the same with the fast path on or off. */
uint64_t vtd_iommu_fast_hits(const struct vtd_iommu *io);

#endif
