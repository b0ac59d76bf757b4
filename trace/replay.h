/*
 * replay.h: replay a DMA trace on a simulated IOMMU (sim/iommu.h) and measure its caches, and
 * sweep one trace over a grid of cache geometries.
 *
 * The replay builds what a driver would: a context entry per device, a PASID entry and page
 * tables per address space (device + PASID; a request without PASID uses the RID_PASID entry,
 * PASID 0), each with its own domain id. Then, event by event:
 *   dma         one translation per 4 KiB page the range touches (a PCIe request never crosses
 *               a 4 KiB boundary, PCIe base specification 2.2.7), through vtd_iommu_dma
 *   map, unmap  the page-table change (walker/builder.h vtd_pt_map / vtd_pt_unmap)
 *   invalidate  the queued-invalidation descriptor that expresses it (sim/qi.h): page-selective
 *               for a range (the smallest aligned block covering it), domain- or PASID-selective
 *               for size 0; an IOTLB descriptor (type 2) for a second-stage-only space, a
 *               PASID-based IOTLB descriptor (type 6) for first-stage and nested spaces
 *   desc        the descriptor as it is (types 6 and above as 256-bit descriptors)
 *   domain      the space's domain id: it must come before the space's first event, and a trace
 *               that names one domain names them all (spaces get DIDs 1, 2, ... otherwise); a
 *               second device in a domain shares the first one's space (its tables and DID)
 *
 * With `audit` set, the events also feed the latent-staleness audit (sim/audit.h): each
 * invalidate event counts as submitted and waited for, desc events as what they are.
 *
 * Translation modes: `auto` (the default) gives spaces without a PASID second-stage-only
 * translation (a DMA-API domain) and spaces with one first-stage translation (shared virtual
 * addressing); `ss`, `fs` and `nested` force one mode for every space. In nested mode the
 * trace's output addresses are guest-physical: each space's second stage maps them (and the
 * guest's table pool) to host memory with pages of `nested_ss_shift`.
 */
#ifndef VTDSIM_TRACE_REPLAY_H
#define VTDSIM_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/audit.h"
#include "sim/iommu.h"
#include "trace/trace.h"

enum vtrace_mode { VTRACE_MODE_AUTO, VTRACE_MODE_SS, VTRACE_MODE_FS, VTRACE_MODE_NESTED };
const char *vtrace_mode_name(enum vtrace_mode m);
int vtrace_mode_of(const char *name);  /* -1 if unknown */

/* Called during long replays with the translations so far and the events of `total` done. */
typedef void (*vtrace_progress_fn)(void *arg, uint64_t events_done, int64_t events_total);

struct vtrace_replay_config {
    struct vtd_iommu_config iommu;  /* caches and oracle (vtrace_replay_config_default: oracle off) */
    enum vtrace_mode mode;
    unsigned fs_levels, ss_levels;  /* 4 and 4 */
    unsigned nested_ss_shift;       /* 12, 21 (default) or 30 */
    bool dry;                       /* read and split events, translate nothing: the loop's own cost */
    vtrace_progress_fn progress;    /* optional */
    void *progress_arg;
    uint64_t max_host_bytes;        /* host-memory budget (0: VTRACE_DEFAULT_MAX_HOST_BYTES) */
    /* `dirty` events: harvest without the IOTLB flush that must follow (the bug, default false). */
    bool dirty_no_flush;
    bool audit;                     /* run the latent-staleness audit (sim/audit.h) */
    vtd_audit_fn audit_fn;          /* hears each finding (optional) */
    void *audit_arg;
};

/*
 * The host memory one replay may use: its caches (allocated whole), simulated memory (the page
 * tables its map events build, index nodes included) and its records of devices and address
 * spaces. Caches beyond it are refused by vtrace_replay_new; an event that would go beyond it
 * stops the replay with an error naming the budget.
 */
#define VTRACE_DEFAULT_MAX_HOST_BYTES (UINT64_C(2) << 30)

/* Defaults: vtd_iommu_config_default() with the oracle and ordering checks off, mode auto,
 * 4-level tables, 2 MiB second-stage pages under nested first stages. */
void vtrace_replay_config_default(struct vtrace_replay_config *cfg);

/* One translation the oracle found stale: where in the trace, what was asked, which caches
 * served it, and the invalidation that would have removed it (the oracle's fix text). */
#define VTRACE_STALE_KEPT 64
struct vtrace_stale {
    uint64_t event;                    /* index of the dma event in the trace */
    uint64_t addr;                     /* the 4 KiB page's address within it */
    uint16_t sid;
    bool pasid_valid;
    uint32_t pasid;
    unsigned caches;                   /* bit per enum vtd_cache_id (and VTD_C_DEVTLB) */
    char fix[sizeof(((struct vtd_stale *)0)->fix)];
};

struct vtrace_replay_result {
    uint64_t events[VTRACE_NKINDS];
    uint64_t translations, faults, stale;
    struct vtrace_stale first_stale[VTRACE_STALE_KEPT]; /* the first stale translations, in order */
    unsigned nfirst_stale;
    uint64_t reads, paging_reads;      /* structure reads made by all translations */
    uint64_t descriptors;              /* invalidation descriptors submitted */
    struct vtd_cache_stats cache[VTD_C_NCACHES];
    double seconds;                    /* wall time of the replay loop (reading included) */
    /* With `dirty` events: pages written while their space was tracked, pages a harvest
     * reported, and pages written after the harvest that last reported them (lost, unless a
     * later harvest comes); dirty_lost: writes the oracle saw leave D clear (oracle on). */
    uint64_t pages_written, pages_reported, pages_lost, dirty_lost;
    struct vtd_audit_stats audit;      /* with cfg.audit */
    uint64_t audit_kinds[VTD_AUDIT_NKINDS]; /* findings per kind */
};

struct vtrace_replay;
/* NULL with the reason in err (bad configuration, caches beyond the host-memory budget, no memory). */
struct vtrace_replay *vtrace_replay_new(const struct vtrace_replay_config *cfg, char err[VTRACE_ERR_LEN]);
void vtrace_replay_free(struct vtrace_replay *rp);
/*
 * Replay events (a chunk of a trace; `first` is the index of ev[0] in the trace, for messages).
 * 0, or -1 with the reason in err (a map over a mapping, an unmap of nothing, an invalidation
 * the IOMMU rejects, no memory).
 */
int vtrace_replay_events(struct vtrace_replay *rp, const struct vtrace_event *ev, long n, uint64_t first,
                         char err[VTRACE_ERR_LEN]);
/* The end of the trace: the audit reports what is still possibly cached (vtrace_replay_file
 * does this itself). */
void vtrace_replay_finish(struct vtrace_replay *rp);
/* The counters so far (seconds: time spent inside vtrace_replay_events). */
void vtrace_replay_result(const struct vtrace_replay *rp, struct vtrace_replay_result *res);
/* The simulated IOMMU (for tests). */
struct vtd_iommu *vtrace_replay_iommu(struct vtrace_replay *rp);

/* A whole file, read in blocks. 0, or -1 with the reason in err. */
int vtrace_replay_file(const char *path, const struct vtrace_replay_config *cfg, struct vtrace_replay_result *res,
                       char err[VTRACE_ERR_LEN]);

/* Hit rate of one cache (hits / lookups; 0 without lookups). */
double vtrace_hit_rate(const struct vtd_cache_stats *s);

/* ---- sweeps ---- */

#define VTRACE_SWEEP_MAX 16
#define VTRACE_WAYS_FULL 0u    /* in `ways`: fully associative */

struct vtrace_sweep_grid {
    unsigned iotlb_entries[VTRACE_SWEEP_MAX], n_iotlb;
    unsigned ways[VTRACE_SWEEP_MAX], n_ways;        /* 1 = direct-mapped, VTRACE_WAYS_FULL */
    enum vtd_repl repl[3];
    unsigned n_repl;
    unsigned psc_entries[VTRACE_SWEEP_MAX], n_psc;  /* each paging-structure cache (4-way; 0: off) */
    /* Only point k (0-based, among the grid's valid points in sweep order) with k % shards ==
     * shard - 1 is replayed; shards 0: every point. */
    unsigned shard, shards;
};

/* IOTLB 32..4096 entries, direct/4/8/full, LRU/FIFO/random, PSC 0/16/64/256. */
void vtrace_sweep_grid_default(struct vtrace_sweep_grid *g);

struct vtrace_sweep_row {
    unsigned iotlb_entries, ways, psc_entries;
    enum vtd_repl repl;
    long point, points; /* this point's place among the grid's valid points, and their number */
    struct vtrace_replay_result r;
};

/* Called with each row as it is measured. */
typedef void (*vtrace_sweep_fn)(void *arg, const struct vtrace_sweep_row *row);

/*
 * Replay the events (held in memory) once per grid point; base gives everything the grid does
 * not vary. Geometries that do not divide evenly (entries not a multiple of the ways) are
 * skipped. Returns the rows measured, or -1 with the reason in err.
 */
long vtrace_sweep(const struct vtrace_event *ev, long n, const struct vtrace_replay_config *base,
                  const struct vtrace_sweep_grid *grid, vtrace_sweep_fn fn, void *arg, char err[VTRACE_ERR_LEN]);

/* Read a whole trace into memory (vtd_free the array). -1 with the reason in err. */
long vtrace_load(const char *path, struct vtrace_event **ev, char err[VTRACE_ERR_LEN]);

/* The CSV header and one row of a sweep. */
const char *vtrace_sweep_csv_header(void);
void vtrace_sweep_csv_row(const struct vtrace_sweep_row *row, char *buf, size_t len);
/* A shard's CSV puts the point and the number of points first (what `vtdsim merge` orders by). */
#define VTRACE_SWEEP_SHARD_COLUMNS "point,points,"


#endif
