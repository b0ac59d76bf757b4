/* replay.c: replaying traces on a simulated IOMMU (see replay.h). */
#define _POSIX_C_SOURCE 200809L
#include "trace/replay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim/qi.h"
#include "trace/dirty_pages.h"
#include "trace/key_index.h"
#include "walker/alloc.h"
#include "walker/bdf.h"
#include "walker/bits.h"
#include "walker/builder.h"
#include "walker/harvest.h"

/* The trace's access bits are the walker's. */
_Static_assert(VTRACE_ACC_R == VTD_ACC_R && VTRACE_ACC_W == VTD_ACC_W && VTRACE_ACC_X == VTD_ACC_X,
               "trace access bits must equal the walker's");

/* Host-physical pool for every structure the replay builds (below the generators' 4 GiB outputs). */
#define HOST_POOL_BASE UINT64_C(0x10000000)
#define HOST_POOL_SIZE UINT64_C(0xE0000000)
/* When that pool runs low (each device's PASID directory takes 128 KiB of it, so about 27,000
 * devices fill it), the builder moves on to this one, above any trace's outputs and below the
 * nested guest memory; a replay that fits the first pool places its tables as it always did. */
#define HIGH_POOL_BASE (UINT64_C(1) << 43)
#define HIGH_POOL_SIZE (UINT64_C(1) << 43)
#define POOL_RESERVE (UINT64_C(64) << 20)
/* Nested: the guest's first-stage tables live at these guest-physical addresses, and guest
 * memory sits at host address gpa + NESTED_HPA_OFFSET. */
#define GUEST_PT_GPA UINT64_C(0x40000000)
#define GUEST_PT_SIZE UINT64_C(0x4000000)
#define NESTED_HPA_OFFSET (UINT64_C(1) << 44)
/* PASID directory of 2^(7+7) entries: every 20-bit PASID. */
#define REPLAY_PDTS 7u
/* Progress is reported every this many translations. */
#define PROGRESS_EVERY (UINT64_C(1) << 22)

/* Domain ids 1..DID_UNIQUE go one to each address space, in order of first use; later spaces
 * (first-stage only) share one with first-stage spaces of other PASIDs. */
#define DID_UNIQUE 0xfffeu

/* Widest AM worth encoding: a block of 2^(12+45) bytes covers every 57-bit address. */
#define AM_ALL 45u

struct space {
    uint16_t sid;
    uint32_t pasid;
    uint16_t did;
    unsigned pgtt;
    struct vtd_pt fs, ss;    /* fs: FS and nested; ss: SS and nested (the guest's memory) */
    bool tracking;           /* SSADE set by its first `dirty` event */
    uint32_t index;          /* in spaces[] */
};

struct device {
    uint16_t sid;
    struct vtd_ctx ctx;
};

struct vtrace_replay {
    struct vtrace_replay_config cfg;
    struct vtd_iommu *io;
    struct vtd_builder b;
    uint64_t rtaddr;
    struct device *devs;
    unsigned ndevs, devcap;
    struct space **spaces;
    unsigned nspaces, spacecap;
    struct vtrace_key_index dev_by_sid;      /* sid -> index in devs */
    struct vtrace_key_index space_by_key;    /* space_key() -> index in spaces */
    struct vtrace_key_index space_by_tag;    /* (DID, PASID) -> index, once DIDs are shared */
    struct space *last;        /* the space of the previous event */
    uint64_t events[VTRACE_NKINDS], translations, descriptors, next_progress, events_done;
    int64_t events_total;
    double seconds;
    uint64_t budget, held;     /* host-memory budget; bytes of caches and records held */
    struct vtrace_stale first_stale[VTRACE_STALE_KEPT]; /* what the oracle found first */
    struct vtd_audit *audit;   /* with cfg.audit */
    uint64_t audit_kinds[VTD_AUDIT_NKINDS];
    uint16_t named_did;        /* the DID a domain event gives the space it creates */
    bool dids_named;           /* the trace names domains: every space must come from one */
    unsigned nfirst_stale;
    char why[192];             /* why_failed's text */
    struct vtrace_dirty_pages dirty; /* pages written and reported (dirty events) */
};

static const char *const mode_names[] = {"auto", "ss", "fs", "nested"};
const char *vtrace_mode_name(enum vtrace_mode m) { return (unsigned)m < 4 ? mode_names[m] : "?"; }
int vtrace_mode_of(const char *name)
{
    for (int m = 0; m < 4; m++)
        if (!strcmp(name, mode_names[m]))
            return m;
    return -1;
}

void vtrace_replay_config_default(struct vtrace_replay_config *cfg)
{
    *cfg = (struct vtrace_replay_config){.mode = VTRACE_MODE_AUTO, .fs_levels = 4, .ss_levels = 4, .nested_ss_shift = 21};
    vtd_iommu_config_default(&cfg->iommu);
    cfg->iommu.oracle = false;          /* for speed; --oracle turns it on */
    cfg->iommu.oracle_groups = false;   /* a scan per stale answer, and events carry no step */
    cfg->iommu.ordering_checks = false; /* the replay's own table updates are not under study */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int efail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int efail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, VTRACE_ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the host-memory budget ---- */

static uint64_t mib(uint64_t bytes) { return (bytes + (1u << 20) - 1) >> 20; }

/* The budget, less what the caches take (known from the configuration: they are allocated whole). */
static bool budget_init(struct vtrace_replay *rp, char *err)
{
    rp->budget = rp->cfg.max_host_bytes ? rp->cfg.max_host_bytes : VTRACE_DEFAULT_MAX_HOST_BYTES;
    rp->held = sizeof(*rp);
    for (unsigned c = 0; c < VTD_C_NCACHES; c++) {
        uint64_t b = vtd_iommu_cache_host_bytes(&rp->cfg.iommu, (enum vtd_cache_id)c);
        rp->held = b > UINT64_MAX - rp->held ? UINT64_MAX : rp->held + b;
    }
    /* Room for the root table and one address space at least: 1 MiB. */
    if (rp->held < rp->budget && rp->budget - rp->held >= (UINT64_C(1) << 20))
        return true;
    efail(err, "the caches take %llu MiB of host memory, more than the host-memory budget of %llu MiB "
               "(--max-memory) leaves beside 1 MiB for the replay",
          (unsigned long long)mib(rp->held), (unsigned long long)mib(rp->budget));
    return false;
}

/* What is left for simulated memory after the caches and records: its host limit. */
static void budget_apply(struct vtrace_replay *rp)
{
    uint64_t left = rp->held < rp->budget ? rp->budget - rp->held : 1;
    vtd_mem_set_host_limit(vtd_iommu_mem(rp->io), left > SIZE_MAX ? SIZE_MAX : (size_t)left);
}

/* Count `bytes` of records (a device, an address space); false when the budget has no room. */
static bool budget_hold(struct vtrace_replay *rp, uint64_t bytes)
{
    uint64_t used = vtd_mem_footprint(vtd_iommu_mem(rp->io));
    if (rp->held + bytes + used > rp->budget)
        return false;
    rp->held += bytes;
    budget_apply(rp);
    return true;
}

/* The reason for a builder's error: the budget when simulated memory refused for it. */
static const char *why_failed(struct vtrace_replay *rp, int rc)
{
    if (rc == -ENOMEM && vtd_mem_last_refusal(vtd_iommu_mem(rp->io)) == VTD_MEM_REFUSED_HOST) {
        snprintf(rp->why, sizeof(rp->why), "the replay reached its host-memory budget of %llu MiB (--max-memory)",
                 (unsigned long long)mib(rp->budget));
        return rp->why;
    }
    return strerror(-rc);
}

static const char *budget_text(struct vtrace_replay *rp) { return why_failed(rp, -ENOMEM); }

/* Count a finding by kind and pass it on. */
static void audit_heard(void *arg, const struct vtd_audit_finding *f)
{
    struct vtrace_replay *rp = arg;
    rp->audit_kinds[f->kind]++;
    if (rp->cfg.audit_fn)
        rp->cfg.audit_fn(rp->cfg.audit_arg, f);
}

struct vtrace_replay *vtrace_replay_new(const struct vtrace_replay_config *cfg, char err[VTRACE_ERR_LEN])
{
    if ((unsigned)cfg->mode > VTRACE_MODE_NESTED || (cfg->nested_ss_shift != 12 && cfg->nested_ss_shift != 21 &&
                                                     cfg->nested_ss_shift != 30)) {
        efail(err, "bad replay configuration (mode %d, nested second-stage page shift %u)", (int)cfg->mode,
              cfg->nested_ss_shift);
        return NULL;
    }
    struct vtrace_replay *rp = vtd_calloc(1, sizeof(*rp));
    if (!rp) {
        efail(err, "out of memory");
        return NULL;
    }
    rp->cfg = *cfg;
    rp->events_total = -1;
    if (!budget_init(rp, err)) {
        vtd_free(rp);
        return NULL;
    }
    rp->next_progress = PROGRESS_EVERY;
    const char *why = NULL;
    rp->io = vtd_iommu_new(&cfg->iommu, &why);
    if (!rp->io) {
        efail(err, "cannot create the IOMMU: %s", why ? why : "out of memory");
        vtd_free(rp);
        return NULL;
    }
    int rc = vtd_builder_init(&rp->b, vtd_iommu_mem(rp->io), vtd_iommu_caps(rp->io), HOST_POOL_BASE, HOST_POOL_SIZE);
    if (!rc)
        rc = vtd_build_root_table(&rp->b, &rp->rtaddr);
    if (rc) {
        efail(err, "cannot build the root table: %s", strerror(-rc));
        vtrace_replay_free(rp);
        return NULL;
    }
    vtd_iommu_set_root(rp->io, rp->rtaddr);
    budget_apply(rp);
    if (cfg->audit && !(rp->audit = vtd_audit_new(audit_heard, rp))) {
        efail(err, "out of memory");
        vtrace_replay_free(rp);
        return NULL;
    }
    return rp;
}

void vtrace_replay_free(struct vtrace_replay *rp)
{
    if (!rp)
        return;
    for (unsigned i = 0; i < rp->nspaces; i++)
        vtd_free(rp->spaces[i]);
    vtd_free(rp->spaces);
    vtd_free(rp->devs);
    vtrace_key_index_free(&rp->dev_by_sid);
    vtrace_key_index_free(&rp->space_by_key);
    vtrace_key_index_free(&rp->space_by_tag);
    vtrace_dirty_free(&rp->dirty);
    vtd_iommu_free(rp->io);
    vtd_audit_free(rp->audit);
    vtd_free(rp);
}

struct vtd_iommu *vtrace_replay_iommu(struct vtrace_replay *rp) { return rp->io; }

/* ---- devices and address spaces, built on first use ---- */

/* Move the builder to the high pool when the first one is nearly used up (once). */
static void pool_keep_room(struct vtrace_replay *rp)
{
    if (rp->b.pool_end - rp->b.pool_next < POOL_RESERVE && rp->b.pool_end <= HOST_POOL_BASE + HOST_POOL_SIZE)
        vtd_builder_init(&rp->b, vtd_iommu_mem(rp->io), vtd_iommu_caps(rp->io), HIGH_POOL_BASE, HIGH_POOL_SIZE);
}

static int device_of(struct vtrace_replay *rp, uint16_t sid, struct device **out, char *err)
{
    int64_t found = vtrace_key_index_find(&rp->dev_by_sid, sid);
    if (found >= 0) {
        *out = &rp->devs[found];
        return 0;
    }
    struct vtd_device_config dc = {.sid = sid, .pasid_bits = VTRACE_PASID_BITS};
    if (!budget_hold(rp, sizeof(*rp->devs) + VTRACE_KEY_INDEX_BYTES_PER_KEY + vtd_device_host_bytes(&dc)))
        return efail(err, "device %s: the replay reached its host-memory budget of %llu MiB (--max-memory)",
                     vtd_bdf_format(sid).s, (unsigned long long)mib(rp->budget));
    if (!vtd_grow_array((void **)&rp->devs, &rp->devcap, rp->ndevs, sizeof(*rp->devs)) ||
        !vtrace_key_index_add(&rp->dev_by_sid, sid, rp->ndevs))
        return efail(err, "out of memory");
    struct device *d = &rp->devs[rp->ndevs];
    *d = (struct device){.sid = sid, .ctx = {.paside = true, .pdts = REPLAY_PDTS}};
    pool_keep_room(rp);
    int rc = vtd_build_pasid_dir(&rp->b, REPLAY_PDTS, &d->ctx.pdtp);
    if (!rc)
        rc = vtd_build_context(&rp->b, rp->rtaddr, sid, &d->ctx);
    if (!rc)
        rc = vtd_iommu_add_device(rp->io, &dc);
    if (rc)
        return efail(err, "device %s: cannot set it up: %s", vtd_bdf_format(sid).s, why_failed(rp, rc));
    rp->ndevs++;
    *out = d;
    return 0;
}

static unsigned pgtt_for(const struct vtrace_replay *rp, bool has_pasid)
{
    switch (rp->cfg.mode) {
    case VTRACE_MODE_SS: return VTD_PGTT_SS;
    case VTRACE_MODE_FS: return VTD_PGTT_FS;
    case VTRACE_MODE_NESTED: return VTD_PGTT_NESTED;
    default: return has_pasid ? VTD_PGTT_FS : VTD_PGTT_SS;
    }
}

/* Make the second stage of a nested space map guest-physical [gpa, gpa+size) (whole pages). */
static int nested_back(struct vtrace_replay *rp, struct space *sp, uint64_t gpa, uint64_t size)
{
    unsigned shift = rp->cfg.nested_ss_shift;
    uint64_t page = UINT64_C(1) << shift;
    uint64_t first = gpa & ~(page - 1), end = (gpa + size + page - 1) & ~(page - 1);
    for (uint64_t a = first; a < end; a += page) {
        uint64_t pa;
        unsigned ps, perm;
        if (!vtd_pt_lookup(&sp->ss, a, &pa, &ps, &perm))
            continue;
        int rc = vtd_pt_map(&sp->ss, a, a + NESTED_HPA_OFFSET, page, shift, VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD);
        if (rc)
            return rc;
    }
    return 0;
}

/* The PASID entry of a space whose tables exist. */
static struct vtd_pasid_cfg space_pasid_cfg(const struct vtrace_replay *rp, const struct space *sp)
{
    struct vtd_pasid_cfg pc;
    vtd_pasid_cfg_init(&pc, sp->pgtt, sp->did);
    pc.fs_levels = rp->cfg.fs_levels;
    pc.ss_levels = rp->cfg.ss_levels;
    pc.ssptptr = sp->pgtt == VTD_PGTT_FS ? 0 : sp->ss.root;
    pc.fsptptr = sp->pgtt == VTD_PGTT_SS ? 0 : sp->fs.root;
    pc.ssade = sp->tracking;
    return pc;
}

static int space_build(struct vtrace_replay *rp, struct space *sp, const struct device *d)
{
    struct vtd_pasid_cfg pc;
    vtd_pasid_cfg_init(&pc, sp->pgtt, sp->did);
    pc.fs_levels = rp->cfg.fs_levels;
    pc.ss_levels = rp->cfg.ss_levels;
    int rc = 0;
    switch (sp->pgtt) {
    case VTD_PGTT_SS:
        rc = vtd_pt_init(&sp->ss, &rp->b, VTD_PT_SS, rp->cfg.ss_levels, NULL, 0, 0);
        pc.ssptptr = sp->ss.root;
        break;
    case VTD_PGTT_FS:
        rc = vtd_pt_init(&sp->fs, &rp->b, VTD_PT_FS, rp->cfg.fs_levels, NULL, 0, 0);
        pc.fsptptr = sp->fs.root;
        break;
    default: /* nested: guest memory for the guest's tables first, then the tables */
        rc = vtd_pt_init(&sp->ss, &rp->b, VTD_PT_SS, rp->cfg.ss_levels, NULL, 0, 0);
        if (!rc)
            rc = nested_back(rp, sp, GUEST_PT_GPA, GUEST_PT_SIZE);
        if (!rc)
            rc = vtd_pt_init(&sp->fs, &rp->b, VTD_PT_FS, rp->cfg.fs_levels, &sp->ss, GUEST_PT_GPA, GUEST_PT_SIZE);
        pc.ssptptr = sp->ss.root;
        pc.fsptptr = sp->fs.root;
        break;
    }
    return rc ? rc : vtd_build_pasid_entry(&rp->b, &d->ctx, sp->pasid, &pc);
}

/* The key of a space: its source-id above its PASID (20 bits). */
static uint64_t space_key(uint16_t sid, uint32_t pasid) { return (uint64_t)sid << 32 | pasid; }
/* The tag a first-stage space's cache entries carry: its DID above its PASID. */
static uint64_t space_tag(uint16_t did, uint32_t pasid) { return (uint64_t)did << 32 | pasid; }

/* Index the tags of the first-stage spaces so far: from now on DIDs are shared. */
static bool tags_index_all(struct vtrace_replay *rp)
{
    for (unsigned i = 0; i < rp->nspaces; i++)
        if (rp->spaces[i]->pgtt == VTD_PGTT_FS &&
            !vtrace_key_index_add(&rp->space_by_tag, space_tag(rp->spaces[i]->did, rp->spaces[i]->pasid), i))
            return false;
    return true;
}

/*
 * The DID of the next space. The first DID_UNIQUE spaces get DIDs 1, 2, ... in order. Past
 * them, a first-stage space shares the DID of a first-stage space (cache entries and their
 * invalidations are tagged by DID and PASID, so spaces of different PASIDs never meet) whose
 * (DID, PASID) is still free, trying DIDs round-robin; second-stage and nested spaces cannot
 * share (their entries are tagged by DID alone). 0: none left.
 */
static uint16_t did_for(struct vtrace_replay *rp, unsigned pgtt, uint32_t pasid)
{
    if (rp->named_did)
        return rp->named_did;
    if (rp->nspaces < DID_UNIQUE)
        return (uint16_t)(rp->nspaces + 1);
    if (pgtt != VTD_PGTT_FS)
        return 0;
    for (unsigned k = 0; k < DID_UNIQUE; k++) {
        uint16_t did = (uint16_t)(1 + (rp->nspaces + k) % DID_UNIQUE);
        if (rp->spaces[did - 1]->pgtt == VTD_PGTT_FS && /* the DID's first owner */
            vtrace_key_index_find(&rp->space_by_tag, space_tag(did, pasid)) < 0)
            return did;
    }
    return 0;
}

/* The audit's tag of a space: its PASID, or none for second-stage-only spaces, whose IOTLB
 * entries carry the DID alone (VT-d 6.2.1). */
static uint32_t audit_tag(const struct space *sp)
{
    return sp->pgtt == VTD_PGTT_SS ? VTD_AUDIT_NO_PASID : sp->pasid;
}

static int space_of(struct vtrace_replay *rp, const struct vtrace_event *e, struct space **out, char *err)
{
    uint32_t pasid = (e->flags & VTRACE_F_PASID) ? e->pasid : 0; /* RID_PASID is 0 */
    struct space *sp = rp->last;
    if (sp && sp->sid == e->sid && sp->pasid == pasid) {
        *out = sp;
        return 0;
    }
    int64_t found = vtrace_key_index_find(&rp->space_by_key, space_key(e->sid, pasid));
    if (found >= 0) {
        *out = rp->last = rp->spaces[found];
        return 0;
    }
    if (rp->dids_named && !rp->named_did)
        return efail(err, "%s PASID %u has no domain event (this trace names the domain of every space)",
                     vtd_bdf_format(e->sid).s, (unsigned)pasid);
    struct device *d = NULL;
    if (device_of(rp, e->sid, &d, err))
        return -1;
    unsigned pgtt = pgtt_for(rp, e->flags & VTRACE_F_PASID);
    if (rp->nspaces == DID_UNIQUE && !tags_index_all(rp))
        return efail(err, "out of memory");
    uint16_t did = did_for(rp, pgtt, pasid);
    if (!did)
        return efail(err, "more than %u address spaces: no domain id left for the %s space of %s PASID %u "
                          "(only first-stage spaces share domain ids)",
                     DID_UNIQUE, pgtt_name(pgtt), vtd_bdf_format(e->sid).s, (unsigned)pasid);
    if (!budget_hold(rp, sizeof(*sp) + sizeof(*rp->spaces) + 2 * VTRACE_KEY_INDEX_BYTES_PER_KEY))
        return efail(err, "address space %s PASID %u: %s", vtd_bdf_format(e->sid).s, (unsigned)pasid,
                     budget_text(rp));
    if (!vtd_grow_array((void **)&rp->spaces, &rp->spacecap, rp->nspaces, sizeof(*rp->spaces)) ||
        !(sp = vtd_calloc(1, sizeof(*sp))))
        return efail(err, "out of memory");
    *sp = (struct space){.sid = e->sid, .pasid = pasid, .did = did, .pgtt = pgtt, .index = rp->nspaces};
    /* The tag first: a tag left behind by a failure only keeps that (DID, PASID) unused. */
    if ((rp->nspaces >= DID_UNIQUE && !vtrace_key_index_add(&rp->space_by_tag, space_tag(did, pasid), rp->nspaces)) ||
        !vtrace_key_index_add(&rp->space_by_key, space_key(e->sid, pasid), rp->nspaces)) {
        vtd_free(sp);
        return efail(err, "out of memory");
    }
    rp->spaces[rp->nspaces++] = sp;
    pool_keep_room(rp);
    int rc = space_build(rp, sp, d);
    if (rc)
        return efail(err, "cannot build the %s tables of %s PASID %u: %s", pgtt_name(sp->pgtt),
                     vtd_bdf_format(e->sid).s, (unsigned)pasid, why_failed(rp, rc));
    if (rp->audit && vtd_audit_join(rp->audit, sp->sid, sp->did, audit_tag(sp), false))
        return efail(err, "out of memory");
    *out = rp->last = sp;
    return 0;
}

/* ---- events ---- */

static void progress(struct vtrace_replay *rp, uint64_t event_index)
{
    rp->next_progress = rp->translations + PROGRESS_EVERY;
    if (rp->cfg.progress)
        rp->cfg.progress(rp->cfg.progress_arg, event_index, rp->events_total);
}

/* Keep the first stale translations with where they happened, for the user to look at. */
static void note_stale(struct vtrace_replay *rp, const struct vtd_request *req, const struct vtd_dma_result *res,
                       uint64_t index)
{
    if (rp->nfirst_stale == VTRACE_STALE_KEPT)
        return;
    struct vtrace_stale *s = &rp->first_stale[rp->nfirst_stale++];
    *s = (struct vtrace_stale){.event = index, .addr = req->addr, .sid = req->sid, .pasid_valid = req->pasid_valid,
                               .pasid = req->pasid, .caches = res->report.caches};
    snprintf(s->fix, sizeof s->fix, "%s", res->report.fix);
}

/* A write while its space is tracked: the page must be reported by a later harvest. */
static void note_write(struct vtrace_replay *rp, const struct space *sp, const struct vtd_request *req, int rc)
{
    if (sp && sp->tracking && !rc && (req->access & VTD_ACC_W) &&
        (!budget_hold(rp, VTRACE_DIRTY_PAGE_BYTES) ||
         !vtrace_dirty_write(&rp->dirty, sp->index, req->addr >> VTD_PAGE_SHIFT)))
        vtd_iommu_count_alloc_failure(rp->io);
}

/* One translation per 4 KiB page the range touches. */
static void replay_dma(struct vtrace_replay *rp, const struct space *sp, const struct vtrace_event *e, uint64_t index)
{
    struct vtd_request req = {.sid = e->sid, .pasid_valid = e->flags & VTRACE_F_PASID, .pasid = e->pasid,
                              .access = e->access, .kind = VTD_REQ_UNTRANSLATED};
    struct vtd_dma_result res;
    uint64_t a = e->addr, end = e->addr + e->size;
    do {
        req.addr = a;
        if (!rp->cfg.dry) {
            int rc = vtd_iommu_dma(rp->io, &req, &res);
            if (res.stale)
                note_stale(rp, &req, &res, index);
            note_write(rp, sp, &req, rc);
        }
        rp->translations++;
        a = (a & VTD_PAGE_MASK) + VTD_PAGE_SIZE;
    } while (a < end);
    if (rp->translations >= rp->next_progress)
        progress(rp, index);
}

static unsigned pt_perm(const struct space *sp, unsigned access)
{
    return sp->pgtt == VTD_PGTT_SS ? access : access | VTD_PERM_U; /* first stage: user pages */
}

static int replay_map(struct vtrace_replay *rp, struct space *sp, const struct vtrace_event *e, char *err, uint64_t i)
{
    int rc = 0;
    pool_keep_room(rp);
    if (sp->pgtt == VTD_PGTT_NESTED)
        rc = nested_back(rp, sp, e->out, e->size);
    if (!rc)
        rc = vtd_pt_map(sp->pgtt == VTD_PGTT_SS ? &sp->ss : &sp->fs, e->addr, e->out, e->size, e->page_shift,
                        pt_perm(sp, e->access), VTD_MAP_AD);
    if (rc)
        return efail(err, "event %llu: map 0x%llx+0x%x -> 0x%llx: %s", (unsigned long long)i,
                     (unsigned long long)e->addr, (unsigned)e->size, (unsigned long long)e->out,
                     rc == -EEXIST ? "overlaps an existing mapping" : why_failed(rp, rc));
    return 0;
}

static int replay_unmap(struct space *sp, const struct vtrace_event *e, char *err, uint64_t i)
{
    int rc = vtd_pt_unmap(sp->pgtt == VTD_PGTT_SS ? &sp->ss : &sp->fs, e->addr, e->size);
    if (rc)
        return efail(err, "event %llu: unmap 0x%llx+0x%x: %s", (unsigned long long)i, (unsigned long long)e->addr,
                     (unsigned)e->size,
                     rc == -ENOENT ? "nothing mapped there"
                     : rc == -EINVAL ? "cuts a large page (large pages are unmapped whole)" : strerror(-rc));
    return 0;
}

/* The smallest address mask whose aligned block holds [addr, addr+size) (the codec's), at
 * most AM_ALL. */
static unsigned covering_am(uint64_t addr, uint64_t size)
{
    unsigned am = vtd_qi_am_covering(addr, addr + size - 1);
    return am < AM_ALL ? am : AM_ALL;
}

/*
 * The descriptor for an invalidation of a space: a second-stage-only space is tagged by its
 * domain (IOTLB invalidation); first-stage and nested ones by domain and PASID (PASID-based
 * IOTLB invalidation). A range beyond CAP.MAMV falls back to the whole domain, as Linux does
 * (Linux 5.10 drivers/iommu/intel/iommu.c iommu_flush_iotlb_psi).
 */
static struct vtd_desc invalidation_desc(const struct vtrace_replay *rp, const struct space *sp,
                                         const struct vtrace_event *e)
{
    unsigned am = e->size ? covering_am(e->addr, e->size) : 0;
    uint64_t addr = e->size ? vtd_qi_am_range(e->addr, am).first : 0;
    if (sp->pgtt == VTD_PGTT_SS) {
        if (e->size && am <= vtd_caps_mamv(vtd_iommu_caps(rp->io)))
            return vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, sp->did, addr, am, false, false, false);
        return vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, sp->did, 0, 0, false, false, false);
    }
    if (e->size)
        return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, sp->did, sp->pasid, addr, am, false);
    return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, sp->did, sp->pasid, 0, 0, false);
}

static int replay_invalidate(struct vtrace_replay *rp, struct space *sp, const struct vtrace_event *e, char *err,
                             uint64_t i)
{
    struct vtd_desc d = invalidation_desc(rp, sp, e);
    struct vtd_qi_result r;
    rp->descriptors++;
    if (vtd_qi_submit_desc(rp->io, &d, &r))
        return efail(err, "event %llu: the IOMMU rejects the invalidation: %s", (unsigned long long)i, r.why);
    return 0;
}

/* ---- dirty: the harvest of live migration ---- */

static int submit(struct vtrace_replay *rp, struct vtd_desc d, char *err, uint64_t i)
{
    struct vtd_qi_result r;
    rp->descriptors++;
    if (vtd_qi_submit_desc(rp->io, &d, &r))
        return efail(err, "event %llu: the IOMMU rejects the invalidation: %s", (unsigned long long)i, r.why);
    return 0;
}

/* The first dirty event of a space sets SSADE in its PASID entry: a single-qword change of a
 * present entry, then the PASID cache and the space's IOTLB entries flushed (Linux 6.7+
 * intel_pasid_setup_dirty_tracking). */
static int start_tracking(struct vtrace_replay *rp, struct space *sp, char *err, uint64_t i)
{
    struct device *d;
    int rc = device_of(rp, sp->sid, &d, err);
    if (rc)
        return rc;
    sp->tracking = true;
    struct vtd_pasid_cfg pc = space_pasid_cfg(rp, sp);
    if ((rc = vtd_build_pasid_entry(&rp->b, &d->ctx, sp->pasid, &pc)))
        return efail(err, "event %llu: dirty: cannot set SSADE: %s", (unsigned long long)i, why_failed(rp, rc));
    const struct vtrace_event all = {.kind = VTRACE_INVALIDATE};
    rc = submit(rp, vtd_desc_pc(VTD_QI_PC_G_PASID, sp->did, sp->pasid), err, i);
    return rc ? rc : submit(rp, invalidation_desc(rp, sp, &all), err, i);
}

struct harvest_ctx {
    struct vtrace_replay *rp;
    const struct space *sp;
    bool ok;
};

static void harvested(void *arg, uint64_t iova, uint64_t size)
{
    struct harvest_ctx *h = arg;
    for (uint64_t p = iova >> VTD_PAGE_SHIFT; h->ok && p <= (iova + size - 1) >> VTD_PAGE_SHIFT; p++)
        h->ok = budget_hold(h->rp, VTRACE_DIRTY_PAGE_BYTES) && vtrace_dirty_report(&h->rp->dirty, h->sp->index, p);
}

static int replay_dirty(struct vtrace_replay *rp, struct space *sp, const struct vtrace_event *e, char *err, uint64_t i)
{
    if (sp->pgtt != VTD_PGTT_SS)
        return efail(err, "event %llu: dirty: the space of %s PASID %u is %s; only second-stage spaces (requests "
                     "without PASID, or --mode ss) keep D bits to harvest", (unsigned long long)i,
                     vtd_bdf_format(sp->sid).s, (unsigned)sp->pasid, pgtt_name(sp->pgtt));
    int rc = sp->tracking ? 0 : start_tracking(rp, sp, err, i);
    if (rc)
        return rc;
    vtrace_dirty_tick(&rp->dirty);
    struct harvest_ctx h = {rp, sp, true};
    struct vtd_harvest_stats st;
    uint64_t size = e->size ? e->size : UINT64_C(1) << (12 + 9 * rp->cfg.ss_levels);
    if (vtd_ss_harvest(vtd_iommu_mem(rp->io), sp->ss.root, rp->cfg.ss_levels, e->addr, size, true, harvested, &h, &st))
        return efail(err, "event %llu: dirty: a table of the space cannot be read", (unsigned long long)i);
    if (!h.ok)
        return efail(err, "event %llu: dirty: %s", (unsigned long long)i, budget_text(rp));
    if (!st.dirty || rp->cfg.dirty_no_flush)
        return 0;
    /* The host's flush over what it found (iommu_iotlb_sync of the gathered range). */
    uint64_t span = st.last - st.first + 1;
    const struct vtrace_event range = {.kind = VTRACE_INVALIDATE, .addr = st.first,
                                       .size = span > UINT32_MAX ? 0 : (uint32_t)span};
    return submit(rp, invalidation_desc(rp, sp, range.size ? &range : &(struct vtrace_event){0}), err, i);
}

/* A descriptor as the driver submitted it: 256-bit for the types that need it (6.5.2). */
static int replay_desc(struct vtrace_replay *rp, const struct vtrace_event *e, char *err, uint64_t i)
{
    uint64_t qw[4] = {e->addr, e->out, 0, 0};
    struct vtd_qi_result r;
    rp->descriptors++;
    if (!rp->cfg.dry && vtd_qi_submit(rp->io, qw, vtd_desc_type(qw[0]) >= VTD_QI_PIOTLB ? 4 : 2, &r))
        return efail(err, "event %llu: the IOMMU rejects the descriptor: %s", (unsigned long long)i, r.why);
    if (rp->audit && vtd_audit_desc(rp->audit, i, qw))
        return efail(err, "out of memory");
    return 0;
}

/* A domain event creates the space with the DID it names; a device joining a DID that a space
 * has already shares that space. */
static int replay_domain(struct vtrace_replay *rp, const struct vtrace_event *e, char *err, uint64_t i)
{
    uint32_t pasid = (e->flags & VTRACE_F_PASID) ? e->pasid : 0;
    uint16_t did = (uint16_t)e->addr;
    if (rp->nspaces && !rp->dids_named)
        return efail(err, "event %llu: domain: spaces without a domain event came first (a trace names every "
                          "space's domain or none)", (unsigned long long)i);
    if (vtrace_key_index_find(&rp->space_by_key, space_key(e->sid, pasid)) >= 0)
        return efail(err, "event %llu: domain: %s PASID %u already has its domain", (unsigned long long)i,
                     vtd_bdf_format(e->sid).s, (unsigned)pasid);
    rp->dids_named = true;
    for (unsigned k = 0; k < rp->nspaces; k++) {
        struct space *sp = rp->spaces[k];
        if (sp->did != did)
            continue;
        if (sp->pasid != pasid)
            return efail(err, "event %llu: domain %u: one domain for PASIDs %u and %u is not replayed",
                         (unsigned long long)i, (unsigned)did, (unsigned)sp->pasid, (unsigned)pasid);
        if (!vtrace_key_index_add(&rp->space_by_key, space_key(e->sid, pasid), k) ||
            (rp->audit && vtd_audit_join(rp->audit, e->sid, did, audit_tag(sp), false)))
            return efail(err, "out of memory");
        return 0;
    }
    struct space *sp;
    rp->named_did = did;
    int rc = space_of(rp, e, &sp, err);
    rp->named_did = 0;
    return rc;
}

/* What the audit hears of a map, unmap or invalidate event; a replayed invalidation is complete
 * when it returns, as if a wait followed it. */
static int audit_event(struct vtrace_replay *rp, const struct space *sp, const struct vtrace_event *e, char *err,
                       uint64_t i)
{
    int rc = 0;
    uint64_t last = e->addr + e->size - 1;
    switch (e->kind) {
    case VTRACE_MAP: rc = vtd_audit_map(rp->audit, i, sp->did, audit_tag(sp), e->addr, last); break;
    case VTRACE_UNMAP: rc = vtd_audit_unmap(rp->audit, i, sp->did, audit_tag(sp), e->addr, last); break;
    case VTRACE_INVALIDATE: {
        struct vtd_desc d = invalidation_desc(rp, sp, e);
        struct vtd_desc w = vtd_desc_wait(0, 0, 0);
        rc = vtd_audit_desc(rp->audit, i, d.qw);
        if (!rc)
            rc = vtd_audit_desc(rp->audit, i, w.qw);
        break;
    }
    default: break;
    }
    return rc ? efail(err, "out of memory") : 0;
}

void vtrace_replay_finish(struct vtrace_replay *rp)
{
    if (rp->audit)
        vtd_audit_finish(rp->audit);
}

int vtrace_replay_events(struct vtrace_replay *rp, const struct vtrace_event *ev, long n, uint64_t first,
                         char err[VTRACE_ERR_LEN])
{
    double t0 = now_s();
    int rc = 0;
    for (long k = 0; k < n && !rc; k++) {
        const struct vtrace_event *e = &ev[k];
        uint64_t index = first + (uint64_t)k;
        struct space *sp = NULL;
        rp->events[e->kind]++;
        if (rp->cfg.dry && e->kind == VTRACE_DMA) {
            replay_dma(rp, NULL, e, index);
            continue;
        }
        if (e->kind == VTRACE_DESC) {
            rc = replay_desc(rp, e, err, index);
            continue;
        }
        if (e->kind == VTRACE_DOMAIN) {
            rc = replay_domain(rp, e, err, index);
            continue;
        }
        if ((rc = space_of(rp, e, &sp, err)))
            break;
        switch (e->kind) {
        case VTRACE_DMA: replay_dma(rp, sp, e, index); break;
        case VTRACE_DIRTY: rc = rp->cfg.dry ? 0 : replay_dirty(rp, sp, e, err, index); break;
        case VTRACE_MAP: rc = rp->cfg.dry ? 0 : replay_map(rp, sp, e, err, index); break;
        case VTRACE_UNMAP: rc = rp->cfg.dry ? 0 : replay_unmap(sp, e, err, index); break;
        default: rc = rp->cfg.dry ? 0 : replay_invalidate(rp, sp, e, err, index); break;
        }
        if (!rc && rp->audit)
            rc = audit_event(rp, sp, e, err, index);
    }
    rp->events_done = first + (uint64_t)n;
    rp->seconds += now_s() - t0;
    return rc;
}

void vtrace_replay_result(const struct vtrace_replay *rp, struct vtrace_replay_result *res)
{
    *res = (struct vtrace_replay_result){.translations = rp->translations, .descriptors = rp->descriptors,
                                         .seconds = rp->seconds};
    memcpy(res->events, rp->events, sizeof(res->events));
    memcpy(res->first_stale, rp->first_stale, rp->nfirst_stale * sizeof(*rp->first_stale));
    res->nfirst_stale = rp->nfirst_stale;
    if (rp->audit)
        res->audit = *vtd_audit_stats(rp->audit);
    memcpy(res->audit_kinds, rp->audit_kinds, sizeof(res->audit_kinds));
    const struct vtd_iommu_stats *st = vtd_iommu_stats(rp->io);
    res->faults = st->faults;
    res->stale = st->stale;
    res->reads = st->walk_reads;
    res->paging_reads = st->stage_reads[VTD_TR_FS] + st->stage_reads[VTD_TR_SS];
    for (unsigned c = 0; c < VTD_C_NCACHES; c++)
        res->cache[c] = *vtd_cache_stats(vtd_iommu_cache(rp->io, (enum vtd_cache_id)c));
    vtrace_dirty_count(&rp->dirty, &res->pages_written, &res->pages_reported, &res->pages_lost);
    res->dirty_lost = st->dirty_lost;
}

double vtrace_hit_rate(const struct vtd_cache_stats *s) { return s->lookups ? (double)s->hits / (double)s->lookups : 0; }

/* Events per read from the file (32 bytes each: 128 KiB blocks). */
#define REPLAY_CHUNK 4096

int vtrace_replay_file(const char *path, const struct vtrace_replay_config *cfg, struct vtrace_replay_result *res,
                       char err[VTRACE_ERR_LEN])
{
    struct vtrace_reader *r = vtrace_open(path, err);
    if (!r)
        return -1;
    struct vtrace_replay *rp = vtrace_replay_new(cfg, err);
    struct vtrace_event *ev = vtd_malloc(REPLAY_CHUNK * sizeof(*ev));
    int rc = rp && ev ? 0 : -1;
    if (rp && !ev)
        efail(err, "out of memory");
    double t0 = now_s();
    uint64_t done = 0;
    long n = 0;
    if (rp)
        rp->events_total = vtrace_expected(r);
    while (!rc && (n = vtrace_read(r, ev, REPLAY_CHUNK)) > 0) {
        rc = vtrace_replay_events(rp, ev, n, done, err);
        done += (uint64_t)n;
    }
    if (!rc && n < 0)
        rc = efail(err, "%s", vtrace_error(r));
    if (!rc) {
        vtrace_replay_finish(rp);
        vtrace_replay_result(rp, res);
        res->seconds = now_s() - t0;
    }
    vtd_free(ev);
    vtrace_replay_free(rp);
    vtrace_close(r);
    return rc;
}
