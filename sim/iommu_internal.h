/*
 * iommu_internal.h: the IOMMU instance's state and its cache layouts, shared by the sim/ files
 * (translation path, queued invalidation, registers, oracle). Not a public interface.
 *
 * Every cache entry is a two-word key plus a payload: sim/cache_keys_internal.h defines what each cache
 * is tagged by (its key struct, pack and unpack), the payload structs below what it holds.
 */
#ifndef VTDSIM_SIM_IOMMU_INTERNAL_H
#define VTDSIM_SIM_IOMMU_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "sim/cache_keys_internal.h"
#include "sim/iommu.h"
#include "sim/prq.h"
#include "walker/context_entry.h"
#include "walker/pasid_entry.h"
#include "walker/root_entry.h"

struct vtd_device {
    uint16_t sid;
    bool ats, pri;
    unsigned pasid_bits;
    struct vtd_cache *devtlb; /* NULL without ATS, and until first used (iommu_devtlb_of) */
    struct vtd_cache_geometry devtlb_geo;
    struct pri_state *pri_st; /* page request groups (prq.c); NULL until the first request */
    /* How it answers device-TLB invalidations (sim/ats_inv.h); unplugged: it answers nothing. */
    unsigned ats_reply;
    uint64_t ats_delay_ns;
    bool unplugged;
};

/* A device's TLB, made on first use so that an idle device costs a few bytes; NULL without ATS,
 * or when memory ran out (counted in the statistics' alloc_failures: the device goes on without). */
struct vtd_cache *iommu_devtlb_of(struct vtd_iommu *io, struct vtd_device *d);

/* Devices by source-id: one table of 256 per bus, allocated when the bus gets a device. */
struct vtd_bus {
    struct vtd_device *dev[256];
};

/* What one request used from the caches: for the result, statistics and stale reports. Only
 * `used`, sid, pasid and iotlb_entry are set at the start of a request; the rest is valid for
 * the caches `used` names. */
struct iommu_use {
    unsigned used;                      /* bit per enum vtd_cache_id, and VTD_C_DEVTLB */
    uint64_t filled[VTD_C_NKINDS];      /* fill step of the entry used, per cache */
    uint16_t sid;
    uint32_t pasid;                     /* the PASID of the walk (RID_PASID without one) */
    unsigned iotlb_shift;               /* page size of the IOTLB or device-TLB entry used */
    unsigned psc_fs_level, psc_ss_level; /* level of the paging-structure entry used */
    uint64_t psc_ss_gpa;                /* the address the second-stage PSC entry served */
    bool iotlb_tagged;                  /* the IOTLB entry used carried a PASID tag */
    struct vtd_cache_entry *iotlb_entry; /* the IOTLB entry that answered, if one did */
    struct iommu_fast_hit *fast_slot;   /* the request's fast-path slot (iommu_fast_slot), found once */
};

/* One request in flight (xlate.c): vtd_iommu_dma() keeps it on its stack and points the cached
 * path's walk environment (env.opaque) at it, so the cache hooks record what they used there
 * rather than in the instance. */
struct iommu_req {
    struct vtd_iommu *io;
    struct iommu_use use;
};

/*
 * One remembered IOTLB hit (xlate.c's fast path): the request's identity and the context,
 * PASID-cache and IOTLB entries that answered it, each with the version of its fill. It is used
 * only while all three entries still hold those fills (a fill's version is unique in its cache,
 * so the key and payload are the same) and the root table address is the same. A hit on a large
 * page also needs the IOTLB unchanged as a whole: a smaller page filled since for the same
 * address would be found first by the full lookup (it probes 4 KiB first).
 *
 * The fields a whole-request answer (fast_dma.c) reads come first, in its order, so that a
 * repeated hit reads the slot's first cache line and the entries' own.
 */
#define IOMMU_FAST_SLOTS 1024
/* Whether a remembered cache entry still holds the fill it held then: a removed entry's version
 * is 0 and a remembered one's is not (cache.h). */
static inline bool iommu_entry_holds(const struct vtd_cache_entry *e, uint64_t version) { return e->version == version; }
/* The result fields before the context entry (fault, out, page size, permissions, dirty, DID,
 * PASID, PGTT, privilege): what a repeated hit copies whole from its slot. */
#define IOMMU_FAST_HEAD offsetof(struct vtd_xlate, ctx)
#define IOMMU_FAST_ANSWER offsetof(struct vtd_xlate, fs)
/*
 * fast_miss.c's memo of the last requester whose request checks it passed: the context- and
 * PASID-cache entries it found, with their fill versions, and what the checks derived from them.
 * While both entries hold those fills (iommu_entry_holds), a request with the same identity gets
 * the same entries from a lookup and the same verdict from the checks. Versions 0: empty (a
 * remembered version is never 0).
 */
struct iommu_miss_memo {
    struct vtd_cache_entry *ctx, *pasid_entry;
    uint64_t ctx_version, pasid_version;
    /* The request's identity: every field the checks read but the address (and the kind: the
     * path takes untranslated requests only): source-id, PASID-valid, PASID and privilege in one
     * word (iommu_fast_ident), and the access. */
    uint64_t ident;
    unsigned req_access;
    /* The verdict: the PASID and privilege used and the walk's access. */
    uint32_t pasid;
    bool priv;
    unsigned access;
};

struct iommu_fast_hit {
    /* The last clean answer's request identity (iommu_fast_ident) and the IOMMU's fast_epoch
     * then: a request with the same identity, page and access (`key`), in the same epoch, may
     * be answered whole by iommu_fast_dma. Epoch 0 (an empty or disarmed slot) never matches:
     * the IOMMU's epoch is moved from 0 when it is made. */
    uint64_t ident, epoch;
    uint64_t key;                       /* request address's page | the armed request's access */
    unsigned served_access;             /* the last served request's access + 1; 0: none yet */
    unsigned iotlb_shift;
    struct vtd_cache_entry *iotlb, *pasid_entry, *ctx;
    uint64_t iotlb_version, pasid_version, ctx_version; /* 0: empty slot (versions start at 1) */
    uint64_t iotlb_generation;          /* large pages only: the IOTLB's generation then */
    /* The IOMMU's cache_changes when armed: while it is unchanged every entry above still holds
     * (one compare whose operand does not hang off the slot's entry pointers). */
    uint64_t cache_changes;
    /* The entries' slots in their caches (e->slot), stored by iommu_fast_dma_arm: a repeat's
     * LRU updates then address the stamps without a load through the entry pointers. */
    uint32_t ctx_slot, pasid_slot, iotlb_slot;
    /* That answer's output page and the mask of a request's offset in it, and its result
     * fields before the stage details (those before the context entry, then the context and
     * PASID entries the cache entries above hold), stored by iommu_fast_dma_arm: one copy
     * from the slot, no load through the entry pointers, answers a repeat. */
    uint64_t out_page, offset_mask;
    _Alignas(16) unsigned char answer[IOMMU_FAST_ANSWER];
    /* The fast path's own match (fast_matches) and verdict: for a request with the same access,
     * the request checks and the IOTLB entry's permission rules give the same verdict again
     * (they read nothing else), so only the address is recomputed. */
    uint64_t rtaddr;
    uint32_t pasid;
    uint16_t sid;
    bool pasid_valid, priv;
    bool iotlb_tagged;
    bool served_dirty;
    unsigned served_perm;
};

/* A slot's key: the request's page and, once armed, its access in the low 12 bits (a request
 * whose access does not fit arms nothing). */
#define FAST_KEY_ACCESS_MASK ((UINT64_C(1) << VTD_PAGE_SHIFT) - 1)
static inline uint64_t iommu_fast_key(const struct vtd_request *req)
{
    return (req->addr & ~FAST_KEY_ACCESS_MASK) | req->access;
}

/*
 * Who asks, in one word: the request's first eight bytes (source-id, PASID-valid, a padding
 * byte, PASID) with the padding byte replaced by the privilege, read with one load. Compared
 * whole, so an unused PASID or privilege must match too: stricter than the fast path needs,
 * never looser.
 */
#define FAST_IDENT_PAD_SHIFT 24 /* the padding byte at offset 3, little-endian */
#define FAST_IDENT_PAD_MASK (UINT64_C(0xff) << FAST_IDENT_PAD_SHIFT)
_Static_assert(offsetof(struct vtd_request, sid) == 0 && sizeof(((struct vtd_request *)0)->sid) == 2 &&
                   offsetof(struct vtd_request, pasid_valid) == 2 && offsetof(struct vtd_request, pasid) == 4 &&
                   sizeof(((struct vtd_request *)0)->pasid) == 4,
               "iommu_fast_ident reads sid, pasid_valid, one padding byte and pasid as one word");
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "iommu_fast_ident places the padding byte for a little-endian host"
#endif
static inline uint64_t iommu_fast_ident(const struct vtd_request *req)
{
    uint64_t w;
    memcpy(&w, req, sizeof w);
    return (w & ~FAST_IDENT_PAD_MASK) | (uint64_t)req->priv << FAST_IDENT_PAD_SHIFT;
}

/* A requester's page hashed: the page and the identity mixed by one multiply (the high bits of
 * a Fibonacci hash depend on every bit of its input). The fast-path slot and the oracle memo's
 * slot are both taken from its high bits, so a request hashes once. */
static inline uint64_t iommu_page_hash(const struct vtd_request *req, uint64_t ident)
{
    return (req->addr >> VTD_PAGE_SHIFT ^ ident) * UINT64_C(0x9e3779b97f4a7c15);
}
static inline struct iommu_fast_hit *iommu_fast_slot(struct iommu_fast_hit *fast, uint64_t page_hash)
{
    return &fast[page_hash >> 54]; /* IOMMU_FAST_SLOTS = 1 << 10 */
}
_Static_assert(IOMMU_FAST_SLOTS == 1 << 10, "iommu_fast_slot takes 10 bits");

/*
 * One request the oracle found clean (oracle_memo.c): who asked what, the answer both the
 * caches and the fresh walk gave, and the state that walk depended on (simulated memory's
 * generation, RTADDR, TE). While that state holds, a fresh walk of the same request gives the
 * same answer, so a served answer equal to it is not stale. `ad_checked`: the lost-A/D check
 * also ran on it and found nothing (it reads memory only).
 */
#define ORACLE_MEMO_SLOTS 512
struct oracle_memo_slot {
    uint64_t mem_generation;
    uint64_t rtaddr;
    uint64_t addr;
    uint64_t ident;             /* who asked: iommu_fast_ident (source-id, PASID, privilege) */
    uint64_t how;               /* oracle_memo_how: access, kind, TE; 0 in an unused slot */
    uint64_t out;               /* the answer (when code is 0) */
    int code;                   /* its fault code */
    uint8_t page_shift, perm;
    bool ad_checked;
};

/* Register values the model keeps (offsets and bits: sim/regs.h). */
struct vtd_regs {
    uint32_t gcmd, gsts;
    uint64_t rtaddr;            /* as written; latched into io->rtaddr by GCMD.SRTP */
    uint32_t fsts, fectl;
    uint32_t fedata, feaddr, feuaddr;
    uint64_t iqa, iqh, iqt;
    uint32_t ics, iectl;
    uint64_t iqercd;
    uint64_t pqa, pqh, pqt;
    uint32_t prs, pectl;
    uint64_t ccmd, iva, iotlb;  /* register-based invalidation (reg_inv.c) */
    uint64_t irta;              /* as written; latched by GCMD.SIRTP (ir.c) */
    uint64_t frcd[256][2];      /* fault-recording registers (CAP.NFR of them are used) */
    unsigned frcd_next;         /* next fault-recording register to fill */
    uint64_t faults_dropped;    /* faults not recorded for want of a free record (PFO) */
    uint32_t pedata, peaddr, peuaddr; /* page request event message (prq.c) */
};

/*
 * Device-TLB invalidation requests sent and not yet answered (ats_inv.c), at most
 * IOMMU_ATS_PENDING_MAX (the queue stops fetching when they are all in use), and the
 * invalidation wait held behind them.
 */
#define IOMMU_ATS_PENDING_MAX 16
struct ats_pending {
    uint64_t desc[4];
    unsigned nqw;
    uint16_t sid;
    uint64_t issued_ns;
    bool ice_done;       /* a bad-ITag completion was already reported */
};
struct iommu_ats {
    uint64_t now_ns, timeout_ns;
    struct ats_pending pend[IOMMU_ATS_PENDING_MAX];
    unsigned npend;
    bool wait_held;
    uint64_t wait_desc[4];
    unsigned wait_nqw;
    bool from_queue;     /* the descriptor being processed came from the queue in memory */
    bool completing;     /* replaying an answered request: remove the entries now */
};

#define IOMMU_WARNINGS_KEPT 64
struct order_watch;   /* ordering.c: PASID entries and table pages under watch */

struct vtd_iommu {
    struct vtd_iommu_config cfg;
    struct vtd_mem *mem;
    uint64_t rtaddr;
    bool te;                                 /* translation enabled */
    struct vtd_cache *cache[VTD_C_NCACHES];
    struct vtd_bus *bus[256];
    uint64_t step;
    struct vtd_iommu_stats stats;
    struct vtd_walk_env env;                 /* the cached path's walks (hooks: the caches; opaque:
                                                the struct iommu_req in flight, NULL between requests) */
    struct vtd_walk_env oracle_env;          /* uncached, dry-run walks */
    /* The context- and PASID-cache entries the last request used: a repeat of the same
     * requester is served from them after checking they still hold that key (a host-side
     * shortcut; counts and replacement are exactly those of a lookup). */
    struct vtd_cache_entry *last_ctx, *last_pasid;
    struct iommu_fast_hit fast[IOMMU_FAST_SLOTS];
    uint64_t fast_hits;                      /* answered by the fast path in the general path */
    uint64_t fast_dma_hits;                  /* answered whole by iommu_fast_dma (vtd_iommu_fast_hits
                                                counts both) */
    uint64_t fast_misses;                    /* IOTLB misses answered by iommu_fast_miss */
    struct vtd_cache_entry *fast_miss_psc;   /* the PSC entry it last used (checked before use) */
    struct iommu_miss_memo fast_miss_memo;   /* its last requester's checked entries (fast_miss.c) */
    /* Moves whenever translation is switched, the root table latched, a trace attached or
     * detached or a device with a device TLB added: what a whole-request answer (fast_dma.c)
     * takes as unchanged
     * since its slot was armed. Never 0 once the IOMMU is made. */
    uint64_t fast_epoch;
    /* What the fast paths need of that state, worked out when the epoch moves
     * (iommu_move_fast_epoch) instead of per request: translation on and no trace, with
     * cfg.fast_path for the remembered hit and, for the miss resumed from a PSC, cfg.fast_miss
     * and a root table in scalable mode. */
    bool fast_hit_ready, fast_miss_ready;
    /* Fills, refills, evictions, removals and resets in the IOMMU's own caches, counted together
     * (vtd_cache_share_changes): only grows. */
    uint64_t cache_changes;
    struct oracle_memo_slot memo[ORACLE_MEMO_SLOTS]; /* the oracle's clean checks (cfg.oracle_memo) */
    uint64_t memo_hits;
    struct vtd_regs regs;
    /* Ordering checks (ordering.c) and the warnings they raise (the last IOMMU_WARNINGS_KEPT). */
    struct order_watch *watch;
    char warnings[IOMMU_WARNINGS_KEPT][192];
    uint64_t nwarnings;
    /* Host software's listeners and slot (sim/iommu.h, vtd_iommu_set_fault_listener ...). */
    vtd_fault_listener fault_listener;
    void *fault_listener_arg;
    vtd_prq_handler prq_handler;             /* page request event message (prq.c) */
    void *prq_handler_arg;
    struct vtd_prq_stats prq_stats;
    vtd_qi_listener qi_listener;
    void *qi_listener_arg;
    void *host;
    /* Interrupt remapping (ir.c): its walks' environment (ir: the latched state; hooks: the
     * IEC) and the interrupt entry cache. */
    struct vtd_walk_env ir_env;
    struct vtd_cache *iec;
    struct iommu_ats ats;                    /* device-TLB invalidation completion (ats_inv.c) */
};

/* ---- cache payloads (keys: sim/cache_keys_internal.h) ---- */

/* context cache */
struct ctx_cache_payload {
    struct vtd_ctx ctx;
};

/* PASID cache: tagged by the entry's DID and PASID */
struct pasid_cache_payload {
    struct vtd_pasid_cfg pe; /* pe.did is the DID tag */
};

/*
 * IOTLB: permissions are kept per stage, as walked, so each request's privilege is applied on
 * every hit exactly as the walk would. Narrow fields keep it to 24 bytes, so an entry with its
 * header is one host cache line (sim/cache.h).
 */
struct iotlb_payload {
    uint64_t out_page;      /* output address of the page (aligned to 2^shift) */
    uint32_t fill_pasid;    /* who filled it: lets the oracle re-walk it */
    uint16_t fill_sid;
    uint8_t fs_perm;        /* first stage's accumulated R/W/U/X (VTD_PERM_ALL if none) */
    uint8_t ss_perm;        /* second stage's R/W/X (VTD_PERM_ALL if none) */
    uint8_t pgtt;
    bool dirty;             /* the translation may serve writes without an A/D update */
    bool fill_pasid_valid, fill_priv;
};
_Static_assert(sizeof(struct iotlb_payload) <= 24, "an IOTLB entry fits one host cache line");

/*
 * Both paging-structure caches: the next table and the permissions accumulated down to it. In
 * nested mode a first-stage entry's table address is guest-physical.
 */
struct psc_payload {
    uint64_t next_table;
    unsigned perm;
    uint16_t fill_sid;      /* who filled it: lets the oracle re-walk it */
    uint32_t fill_pasid;
};
_Static_assert(sizeof(struct psc_payload) <= 24, "a paging-structure cache entry fits one host cache line");

/* interrupt entry cache: the decoded IRTE */
struct iec_payload {
    struct vtd_irte irte;
};

/* device TLB (in the device) */
struct devtlb_payload {
    uint64_t out_page;
    unsigned perm;
    bool priv;              /* the privilege the translation was requested with */
};

/* The generic cache aligns payloads for 8-byte scalars only (sim/cache.h). */
_Static_assert(_Alignof(struct ctx_cache_payload) <= 8 && _Alignof(struct pasid_cache_payload) <= 8 &&
                   _Alignof(struct iotlb_payload) <= 8 && _Alignof(struct psc_payload) <= 8 &&
                   _Alignof(struct iec_payload) <= 8 && _Alignof(struct devtlb_payload) <= 8,
               "cache payloads need no more than 8-byte alignment");

/* Its entries still hold what they held when the slot was armed (a large page also needs the
 * IOTLB unchanged: see struct iommu_fast_hit). With no cache changed at all since, they do,
 * which one compare settles; else each entry's fill version is compared. */
static inline bool iommu_fast_entries_hold(const struct iommu_fast_hit *f, const struct vtd_iommu *io)
{
    if (f->cache_changes == io->cache_changes)
        return true;
    return iommu_entry_holds(f->iotlb, f->iotlb_version) && iommu_entry_holds(f->pasid_entry, f->pasid_version) &&
           iommu_entry_holds(f->ctx, f->ctx_version) &&
           (__builtin_expect(f->iotlb_shift == VTD_PAGE_SHIFT, 1) ||
            f->iotlb_generation == vtd_cache_generation(io->cache[VTD_C_IOTLB]));
}

/* Whenever translation is switched, the root table latched, a trace attached or detached or a
 * device with a device TLB added: every whole-request slot is disarmed, and the fast paths'
 * readiness follows the new state. */
static inline void iommu_move_fast_epoch(struct vtd_iommu *io)
{
    io->fast_epoch++;
    bool plain = io->te && !io->env.trace;
    io->fast_hit_ready = plain && io->cfg.fast_path;
    io->fast_miss_ready = plain && io->cfg.fast_miss && !vtd_rtaddr_is_legacy(io->env.rtaddr);
}

static inline struct vtd_device *iommu_device(struct vtd_iommu *io, uint16_t sid)
{
    struct vtd_bus *b = io->bus[sid >> 8];
    return b ? b->dev[sid & 0xff] : NULL;
}

/* The report fields of an answer with nothing to report: not stale, no unflushed line, no A or
 * D bit lost (the fast paths' clean answers; xlate.c's general path sets these before it looks). */
static inline void iommu_result_clean(struct vtd_dma_result *res, unsigned used, enum vtd_source source,
                                      unsigned reads, unsigned paging_reads)
{
    res->used = used;
    res->source = source;
    res->reads = reads;
    res->paging_reads = paging_reads;
    res->stale = false;
    res->report.caches = 0;
    res->unflushed = false;
    res->lost.dirty = res->lost.accessed = false;
}

/* Reads per structure kind. by_kind splits `reads`, so a walk that read first-stage entries
 * only (every miss resumed from the first-stage PSC) has one kind to count: that case without
 * the loop over the kinds. */
static inline __attribute__((always_inline)) void iommu_count_stage_reads(struct vtd_iommu_stats *st,
                                                                    const struct vtd_walk_counters *cnt)
{
    if (cnt->by_kind[VTD_TR_FS] == cnt->reads) {
        st->stage_walks[VTD_TR_FS]++;
        st->stage_reads[VTD_TR_FS] += cnt->reads;
        return;
    }
    for (unsigned k = 0; k < VTD_TR_NKINDS; k++)
        if (cnt->by_kind[k]) { /* a request reads few kinds: skip the others' counters */
            st->stage_walks[k]++;
            st->stage_reads[k] += cnt->by_kind[k];
        }
}

/* A request's statistics, its reads from the walk counters in io->env (xlate.c, fast_miss.c). */
static inline __attribute__((always_inline)) void iommu_count_request(struct vtd_iommu *io, const struct vtd_dma_result *res,
                                                                int rc)
{
    struct vtd_iommu_stats *st = &io->stats;
    st->requests++;
    if (__builtin_expect(rc != 0, 0)) {
        if (rc == VTD_DMA_PAGE_REQUEST) {
            st->page_requests++;
        } else {
            st->faults++;
            st->fault_count[rc & 0xff]++;
        }
    }
    unsigned reads = io->env.cnt.reads;
    st->reads_hist[reads < VTD_READS_HIST ? reads : VTD_READS_HIST - 1]++;
    if (reads) { /* by_kind splits `reads`: all zero without reads */
        st->walks++;
        st->walk_reads += reads;
        iommu_count_stage_reads(st, &io->env.cnt);
    }
    if (res->stale)
        st->stale++;
}

/* iommu_fast_dma (sim/fast_dma_internal.h): a whole request answered from the fast path's memo. */
/* After the fast path answered `req` cleanly from slot f with *x (its verdict remembered for
 * this access): let iommu_fast_dma answer its repeats in this epoch. */
void iommu_fast_dma_arm(struct vtd_iommu *io, struct iommu_fast_hit *f, const struct vtd_request *req,
                        const struct vtd_xlate *x);
/* The result fields every clean hit from slot f writes first (xlate.c; fast_dma.c too). */
void iommu_fast_begin(const struct iommu_fast_hit *f, const struct vtd_request *req, struct vtd_xlate *x);
/* The result fields a repeated clean hit from slot f writes (xlate.c; fast_dma.c too). */
void iommu_fast_serve_again(const struct iommu_fast_hit *f, const struct vtd_request *req,
                            const struct vtd_pasid_cfg *pe, struct vtd_xlate *x);

/*
 * An IOTLB miss answered from the paging-structure cache (fast_miss.c): a first-stage request
 * whose context and PASID entries are cached, which misses the IOTLB and whose walk the cache
 * resumes at the page table, reading one PTE that needs no A/D update and meets no fault, gets
 * the result, counts and replacement updates the general path (vtd_translate with the cache
 * hooks) would give it. False, before any state but *x changes, for anything else.
 */
bool iommu_fast_miss(struct vtd_iommu *io, struct iommu_use *u, const struct vtd_request *req, struct vtd_xlate *x);
/* The same miss answered as a whole request (result, statistics), for an IOMMU without the
 * oracle and a requester without a device TLB: what vtd_iommu_dma would give it. False, before
 * any state but *res changes, for anything else. */
bool iommu_fast_miss_dma(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res);
/* The IOTLB keys a lookup of `addr` probes: one per page size the IOTLB holds entries of,
 * smallest first (shifts[] their sizes); returns how many (xlate.c). */
unsigned iommu_iotlb_keys(const struct vtd_cache *c, uint16_t did, uint64_t tag, uint64_t addr,
                          struct vtd_cache_key *keys, unsigned *shifts);
/* Fill the IOTLB with a walk's answer `x` to `req` (xlate.c). */
void iommu_iotlb_fill(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x);
/* The same fill after a vtd_cache_peek_any() of `keys` missed, keys[0] being the key of x's page
 * (vtd_cache_miss_fill: the miss counted, then the fill; xlate.c). */
void iommu_iotlb_miss_fill(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x,
                           const struct vtd_cache_key *keys, uint64_t miss_token);
#define IOMMU_PAGE_SIZES 3 /* 4 KiB, 2 MiB, 1 GiB: the keys an IOTLB lookup may probe */

/* The caches as walk hooks (xlate.c): context, PASID, IOTLB, paging-structure caches. */
extern const struct vtd_walk_hooks iommu_cache_hooks;

/*
 * Whether a cache entry still matches a fresh uncached walk of current memory (oracle.c):
 * what over-invalidation accounting asks of every entry an invalidation removes.
 */
bool iommu_entry_still_ok(struct vtd_iommu *io, enum vtd_cache_id id, const struct vtd_cache_entry *e);
/* Likewise for a device's TLB entry. */
bool iommu_devtlb_entry_still_ok(struct vtd_iommu *io, const struct vtd_device *dev, const struct vtd_cache_entry *e);

/* Compare a cache-served result with a fresh walk; fill res->stale and the report (oracle.c).
 * `use` is what the request used from the caches. */
void iommu_oracle_check(struct vtd_iommu *io, const struct iommu_use *use, const struct vtd_request *req,
                        struct vtd_dma_result *res);

/*
 * The oracle's memo (oracle_memo.c). iommu_oracle_memo_clean (sim/oracle_memo_internal.h): whether this
 * request's answer was found clean by an earlier check that still holds (then the oracle and, if
 * `ad_needed`, the lost-A/D check need not run). _note: after those checks ran, remember the
 * request if they found nothing.
 */
void iommu_oracle_memo_note(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_dma_result *res,
                            bool ad_checked);

/* After the oracle (res->report.fresh holds the fresh walk): a cached answer that left an A or D
 * bit clear in memory fills res->lost and counts it (dirty.c). */
void iommu_ad_lost_check(struct vtd_iommu *io, const struct iommu_use *use, const struct vtd_request *req,
                         struct vtd_dma_result *res);

/* The narrowest descriptor that removes one IOTLB entry, or one device-TLB entry of 2^shift
 * bytes at addr (oracle.c). */
struct vtd_desc iommu_iotlb_entry_fix(const struct vtd_iommu *io, const struct vtd_cache_key *key);
/* The same for the IOTLB entries of one DID and PASID tag in the 2^(12+am) bytes at addr. */
struct vtd_desc iommu_iotlb_block_fix(const struct vtd_iommu *io, uint16_t did, uint64_t pasid_tag, uint64_t addr,
                                      unsigned am);
struct vtd_desc iommu_devtlb_entry_fix(uint16_t sid, uint64_t pasid_tag, uint64_t addr, unsigned shift);
/*
 * The stale entries the change that left this request's entry stale left in the same cache, and
 * the one descriptor that covers them (oracle_cover.c): for the IOTLB entry `iotlb` (NULL: none)
 * and for the device-TLB entry `devtlb_use` describes (NULL: none). Fills rep->groups and
 * rep->covering and adds the covering descriptors to rep->fix.
 */
void iommu_oracle_cover(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_cache_key *iotlb,
                        const struct iommu_use *devtlb_use, struct vtd_stale *rep);

/* ---- ordering checks (ordering.c) ---- */
void iommu_warn(struct vtd_iommu *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Register-based invalidation (reg_inv.c), run when software sets CCMD.ICC or IOTLB_REG.IVT:
 * the request in io->regs.ccmd (or io->regs.iotlb with io->regs.iva) is performed and the
 * register gets its completion (ICC/IVT clear, CAIG/IAIG the granularity performed).
 */
void iommu_reg_context_invalidate(struct vtd_iommu *io);
void iommu_reg_iotlb_invalidate(struct vtd_iommu *io);
/* Start watching a PASID entry the PASID cache now holds, for in-place modification. */
void iommu_order_watch_pasid(struct vtd_iommu *io, const struct vtd_ctx *ctx, uint16_t sid, uint32_t pasid);
/* A paging-structure entry pointing at `table` was invalidated: the page may be freed only
 * after the next invalidation wait completes. */
void iommu_order_table_released(struct vtd_iommu *io, uint64_t table);
/* An invalidation wait completed: every earlier invalidation is done. */
void iommu_order_wait_completed(struct vtd_iommu *io);
/*
 * A device-TLB invalidation for `sid` (pasid_tag or VTD_TAG_NO_PASID) over [start, end): warn if
 * the IOTLB still holds a stale entry the device could refill from (the IOTLB must go first).
 */
void iommu_order_check_devtlb(struct vtd_iommu *io, uint16_t sid, uint64_t pasid_tag, uint64_t start, uint64_t end);
/* The same for a global PASID-based device-TLB invalidation: every PASID the device TLB holds. */
void iommu_order_check_devtlb_all_pasids(struct vtd_iommu *io, uint16_t sid, const struct vtd_cache *devtlb,
                                         uint64_t start, uint64_t end);
void iommu_order_free(struct vtd_iommu *io);

/*
 * An answer made without a walk: cleared with vtd_xlate_reset(), not a whole-struct literal,
 * which would zero all 368 bytes with a string store (about 10 ns on a device-TLB hit).
 */
static inline void xlate_answer(struct vtd_xlate *x, uint64_t out, unsigned page_shift, unsigned perm, bool dirty)
{
    vtd_xlate_reset(x);
    x->out = out;
    x->page_shift = page_shift;
    x->perm = perm;
    x->dirty = dirty;
}
/* Translation disabled (GCMD.TE clear, VT-d 10.4.4): DMA reaches memory untranslated. */
static inline void xlate_untranslated(struct vtd_xlate *x, uint64_t addr)
{
    xlate_answer(x, addr, VTD_PAGE_SHIFT, VTD_PERM_ALL, true);
}

/* The missing-flush check of a DMA while the CPU cache holds dirty lines (coherency.c). */
void iommu_coherency_check(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res);

/* Record an unrecoverable fault in the fault-recording registers (regs.c). */
void iommu_record_fault(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x);
/* Interrupt remapping (ir.c): set-up with the instance, reset, GCMD's IR commands, and an IEC
 * invalidation (the entries removed). */
int iommu_ir_init(struct vtd_iommu *io);
void iommu_ir_free(struct vtd_iommu *io);
void iommu_ir_reset(struct vtd_iommu *io);
void iommu_ir_gcmd(struct vtd_iommu *io, uint32_t cmd);
unsigned iommu_iec_invalidate(struct vtd_iommu *io, bool index_selective, uint16_t iidx, unsigned im);

/* Process the invalidation queue from IQH to IQT (qi.c); called when IQT is written. */
void iommu_qi_drain(struct vtd_iommu *io);

/* ---- device-TLB invalidation completion (ats_inv.c) ---- */
/* Whether a device-TLB invalidation for `dev` must wait for the device's answer (from the queue,
 * the device not answering at once); if so it is recorded as outstanding (the caller removes
 * nothing). The queue must not send it when no slot is free (iommu_ats_slots_full). */
bool iommu_ats_defer(struct vtd_iommu *io, const struct vtd_device *dev, const uint64_t *desc, unsigned nqw);
bool iommu_ats_slots_full(const struct vtd_iommu *io);
/* Run an answered request's removal (qi.c, from ats_inv.c). */
void iommu_qi_complete(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw);
/* Back to no request outstanding, the clock at 0 and every device answering at once. */
void iommu_ats_reset(struct vtd_iommu *io);

#endif
