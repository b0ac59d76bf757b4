/*
 * xlate.c: the cached translation path (VT-d 6.2). The caches are hooks on the walker's
 * vtd_translate(): the context and PASID caches in front of stages 1 and 2, the IOTLB in front
 * of the paging step, paging-structure caches choosing where first- and second-stage walks
 * start. ATS devices consult their device TLB first. Every answer a cache helped with goes to
 * the oracle.
 */
#include <string.h>

#include "sim/fast_dma_internal.h"
#include "sim/iommu_internal.h"
#include "sim/oracle_memo_internal.h"
#include "sim/prq_internal.h"
#include "walker/fault.h"

/* The page sizes an IOTLB or device-TLB entry can have (4 KiB, 2 MiB, 1 GiB), smallest first. */
#define PAGE_SIZES IOMMU_PAGE_SIZES
static const unsigned probe_shifts[PAGE_SIZES] = {12, 21, 30};

/* The request being translated: vtd_iommu_dma() points the cached path's environment at it. */
static struct iommu_req *env_req(struct vtd_walk_env *env) { return env->opaque; }

/* Lookup through the remembered entry when it still holds the key (see iommu_internal.h). */
static struct vtd_cache_entry *lookup_remembered(struct vtd_cache *c, struct vtd_cache_entry **last,
                                                 const struct vtd_cache_key *key)
{
    struct vtd_cache_entry *e = *last;
    if (e && e->valid && cache_key_equal(&e->key, key)) {
        vtd_cache_touch(c, e);
        return e;
    }
    return *last = vtd_cache_lookup(c, key);
}

static void use_cache(struct iommu_use *u, enum vtd_cache_id id, const struct vtd_cache_entry *e)
{
    u->used |= 1u << id;
    u->filled[id] = e->fill_seq;
}

/* ---- stage 1 and 2: context and PASID caches ---- */

static int cached_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_iommu *io = rq->io;
    struct vtd_cache *c = io->cache[VTD_C_CONTEXT];
    struct vtd_cache_key key = ctx_cache_key(sid);
    struct vtd_cache_entry *e = lookup_remembered(c, &io->last_ctx, &key);
    if (e) {
        use_cache(&rq->use, VTD_C_CONTEXT, e);
        *out = ((const struct ctx_cache_payload *)e->payload)->ctx;
        return 0;
    }
    int rc = vtd_ctx_fetch(env, sid, out, f);
    if (!rc && (e = vtd_cache_insert(c, &key, io->step, NULL)))
        ((struct ctx_cache_payload *)e->payload)->ctx = *out;
    return rc;
}

static int cached_pasid_fetch(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid,
                              struct vtd_pasid_cfg *out, struct vtd_fault_info *f)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_iommu *io = rq->io;
    if (!vtd_ctx_pasid_in_range(ctx, pasid))
        return vtd_pasid_fetch(env, ctx, pasid, out, f); /* reports the range fault */
    struct vtd_cache *c = io->cache[VTD_C_PASID];
    struct vtd_cache_key key = pasid_cache_key(rq->use.sid, pasid);
    struct vtd_cache_entry *e = lookup_remembered(c, &io->last_pasid, &key);
    if (e) {
        use_cache(&rq->use, VTD_C_PASID, e);
        *out = ((const struct pasid_cache_payload *)e->payload)->pe;
        return 0;
    }
    int rc = vtd_pasid_fetch(env, ctx, pasid, out, f);
    if (!rc && (e = vtd_cache_insert(c, &key, io->step, NULL))) {
        ((struct pasid_cache_payload *)e->payload)->pe = *out;
        iommu_order_watch_pasid(io, ctx, rq->use.sid, pasid);
    }
    return rc;
}

/* ---- paging-structure caches ---- */

/*
 * The paging-structure-cache entry a walk of `addr` starts from, and its level: the lowest
 * level the cache holds entries of first (it skips the most reads), upward, stopping at the
 * first hit, each key built only when its level is probed. Counted as one lookup either way,
 * as hardware probes all levels at once. `pasid` is unused for the second stage's cache.
 */
static struct vtd_cache_entry *psc_probe(struct vtd_cache *c, bool fs, uint16_t did, uint32_t pasid, unsigned top,
                                         uint64_t addr, unsigned *level)
{
    for (unsigned l = 2; l <= top; l++) {
        if (!vtd_cache_class_count(c, l))
            continue;
        struct vtd_cache_key key = fs ? psc_fs_key(did, pasid, l, addr) : psc_ss_key(did, l, addr);
        struct vtd_cache_entry *e = vtd_cache_peek(c, &key);
        if (e) {
            vtd_cache_touch(c, e);
            *level = l;
            return e;
        }
    }
    unsigned none;
    return vtd_cache_lookup_any(c, NULL, 0, &none); /* the one miss */
}

static void cached_fs_start(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va,
                            struct vtd_walk_start *start)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_cache *c = rq->io->cache[VTD_C_PSC_FS];
    unsigned level = 0;
    struct vtd_cache_entry *e = psc_probe(c, true, pe->did, rq->use.pasid, pe->fs_levels, va, &level);
    if (!e)
        return;
    const struct psc_payload *p = (const struct psc_payload *)e->payload;
    use_cache(&rq->use, VTD_C_PSC_FS, e);
    rq->use.psc_fs_level = level;
    *start = (struct vtd_walk_start){.level = level - 1, .table = p->next_table, .perm = p->perm};
}

static void cached_fs_done(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va,
                           unsigned start_level, const struct vtd_stage_result *res)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_iommu *io = rq->io;
    /* Each non-leaf entry read on the way names the table below it. */
    for (unsigned l = start_level; l > res->leaf_level; l--) {
        struct vtd_cache_key key = psc_fs_key(pe->did, rq->use.pasid, l, va);
        struct vtd_cache_entry *e = vtd_cache_insert(io->cache[VTD_C_PSC_FS], &key, io->step, NULL);
        if (e)
            *(struct psc_payload *)e->payload = (struct psc_payload){
                .next_table = res->table[l - 1], .perm = res->perm_above[l - 1],
                .fill_sid = rq->use.sid, .fill_pasid = rq->use.pasid};
    }
}

static int cached_ss_translate(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa,
                               unsigned access, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_iommu *io = rq->io;
    struct vtd_cache *c = io->cache[VTD_C_PSC_SS];
    struct vtd_walk_start start = vtd_ss_full_start(pe);
    unsigned level = 0;
    struct vtd_cache_entry *e = psc_probe(c, false, pe->did, 0, pe->ss_levels, gpa, &level);
    if (e) {
        const struct psc_payload *p = (const struct psc_payload *)e->payload;
        use_cache(&rq->use, VTD_C_PSC_SS, e);
        rq->use.psc_ss_level = level;
        rq->use.psc_ss_gpa = gpa;
        start = (struct vtd_walk_start){.level = level - 1, .table = p->next_table, .perm = p->perm};
    }
    int rc = vtd_ss_walk_from(env, pe, &start, gpa, access, out, f);
    for (unsigned l = start.level; !rc && l > out->leaf_level; l--) {
        struct vtd_cache_key key = psc_ss_key(pe->did, l, gpa);
        if ((e = vtd_cache_insert(c, &key, io->step, NULL)))
            *(struct psc_payload *)e->payload = (struct psc_payload){
                .next_table = out->table[l - 1], .perm = out->perm_above[l - 1],
                .fill_sid = rq->use.sid, .fill_pasid = rq->use.pasid};
    }
    return rc;
}

/* ---- IOTLB ---- */

static uint64_t iotlb_pasid_tag(const struct vtd_pasid_cfg *pe, uint32_t pasid)
{
    /* Second-stage-only and pass-through translations are shared by the whole domain (6.2.1). */
    return vtd_pgtt_uses_fs(pe->pgtt) ? pasid : VTD_TAG_NO_PASID;
}

/* Apply a cached entry to this request the way the walk would: 0, a fault, or -1 to re-walk. */
static int iotlb_serve(struct vtd_walk_env *env, const struct iotlb_payload *p, unsigned shift,
                       const struct vtd_request *req, unsigned access, struct vtd_xlate *x)
{
    const struct vtd_pasid_cfg *pe = &x->pe;
    bool check = !(access & VTD_ACC_NOCHECK);
    unsigned perm = VTD_PERM_ALL;
    int code = 0;
    if (vtd_pgtt_uses_fs(pe->pgtt)) {
        if (check)
            code = vtd_fs_access_fault(env->caps, pe, p->fs_perm, access, x->priv);
        perm = vtd_fs_effective_perm(pe, p->fs_perm, x->priv);
    }
    if (!code && vtd_pgtt_uses_ss(pe->pgtt)) {
        if (check)
            code = vtd_ss_access_fault(access, p->ss_perm, pe->ssee);
        perm &= p->ss_perm | VTD_PERM_U;
    }
    if (code) {
        x->fault = (struct vtd_fault_info){.code = code};
        return code;
    }
    /* A write through an entry cached without D must set D in memory: walk again (6.2.2). */
    if ((access & VTD_ACC_W) && (perm & VTD_PERM_W) && !p->dirty)
        return -1;
    uint64_t mask = (UINT64_C(1) << shift) - 1;
    x->out = p->out_page | (req->addr & mask);
    x->page_shift = shift;
    x->perm = perm & VTD_PERM_ALL;
    x->dirty = p->dirty;
    return 0;
}

/* Every byte of a fill's payload, padding too (the cache leaves a new entry's as the victim had
 * it): a fixed-size clear the compiler turns into two stores, then the fields. */
static void iotlb_payload_write(struct vtd_cache_entry *e, const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct iotlb_payload *p = (struct iotlb_payload *)e->payload;
    memset(p, 0, sizeof *p);
    p->out_page = x->out & ~((UINT64_C(1) << x->page_shift) - 1);
    p->fs_perm = (uint8_t)(vtd_pgtt_uses_fs(x->pe.pgtt) ? x->fs.raw_perm : VTD_PERM_ALL);
    p->ss_perm = (uint8_t)(vtd_pgtt_uses_ss(x->pe.pgtt) ? x->ss.raw_perm : VTD_PERM_ALL);
    p->pgtt = (uint8_t)x->pe.pgtt;
    p->dirty = x->dirty;
    p->fill_sid = req->sid;
    p->fill_pasid = x->pasid;
    p->fill_pasid_valid = req->pasid_valid;
    p->fill_priv = x->priv;
}

void iommu_iotlb_fill(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct vtd_cache_key key = iotlb_key(x->pe.did, iotlb_pasid_tag(&x->pe, x->pasid), req->addr, x->page_shift);
    struct vtd_cache_entry *e = vtd_cache_insert_unzeroed(io->cache[VTD_C_IOTLB], &key, io->step);
    if (e)
        iotlb_payload_write(e, req, x);
}

void iommu_iotlb_miss_fill(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x,
                           const struct vtd_cache_key *keys, uint64_t miss_token)
{
    struct vtd_cache_entry *e = vtd_cache_miss_fill(io->cache[VTD_C_IOTLB], keys, miss_token, io->step);
    if (e)
        iotlb_payload_write(e, req, x);
}

/* Only the page sizes the IOTLB holds entries of, smallest first (one lookup either way). */
unsigned iommu_iotlb_keys(const struct vtd_cache *c, uint16_t did, uint64_t tag, uint64_t addr,
                          struct vtd_cache_key *keys, unsigned *shifts)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PAGE_SIZES; i++)
        if (vtd_cache_class_count(c, probe_shifts[i])) {
            shifts[n] = probe_shifts[i];
            keys[n++] = iotlb_key(did, tag, addr, probe_shifts[i]);
        }
    return n;
}

static int cached_paging(struct vtd_walk_env *env, const struct vtd_request *req, unsigned access,
                         struct vtd_xlate *x)
{
    struct iommu_req *rq = env_req(env);
    struct vtd_iommu *io = rq->io;
    rq->use.pasid = x->pasid;
    if (x->pe.pgtt == VTD_PGTT_PT)
        return vtd_translate_paging(env, req, access, x); /* nothing to cache: output = input */
    uint64_t tag = iotlb_pasid_tag(&x->pe, x->pasid);
    struct vtd_cache *c = io->cache[VTD_C_IOTLB];
    struct vtd_cache_key keys[PAGE_SIZES];
    unsigned shifts[PAGE_SIZES], which;
    unsigned n = iommu_iotlb_keys(c, x->pe.did, tag, req->addr, keys, shifts);
    struct vtd_cache_entry *e = vtd_cache_lookup_any(c, keys, n, &which);
    if (e) {
        int rc = iotlb_serve(env, (const struct iotlb_payload *)e->payload, shifts[which], req, access, x);
        if (rc >= 0) {
            use_cache(&rq->use, VTD_C_IOTLB, e);
            rq->use.iotlb_entry = e;
            rq->use.iotlb_shift = shifts[which];
            rq->use.iotlb_tagged = tag != VTD_TAG_NO_PASID;
            return rc;
        }
    }
    int rc = vtd_translate_paging(env, req, access, x);
    if (!rc)
        iommu_iotlb_fill(io, req, x);
    return rc;
}

const struct vtd_walk_hooks iommu_cache_hooks = {
    .ctx_fetch = cached_ctx_fetch,
    .pasid_fetch = cached_pasid_fetch,
    .paging = cached_paging,
    .fs_start = cached_fs_start,
    .fs_done = cached_fs_done,
    .ss_translate = cached_ss_translate,
};

/* ---- the fast path for repeated IOTLB hits ---- */

static bool fast_usable(const struct vtd_iommu *io, const struct vtd_request *req)
{
    return io->fast_hit_ready && req->kind == VTD_REQ_UNTRANSLATED;
}

static inline __attribute__((always_inline)) bool fast_matches(const struct iommu_fast_hit *f,
                                                               const struct vtd_iommu *io,
                                                               const struct vtd_request *req)
{
    return f->iotlb_version && f->rtaddr == io->env.rtaddr && f->sid == req->sid &&
           f->key >> VTD_PAGE_SHIFT == req->addr >> VTD_PAGE_SHIFT && f->pasid_valid == req->pasid_valid &&
           (!req->pasid_valid || (f->pasid == req->pasid && f->priv == req->priv)) && iommu_fast_entries_hold(f, io);
}

/* After a full lookup that the context cache, PASID cache and IOTLB answered alone (the
 * caller has checked fast_usable). */
static void fast_remember(struct vtd_iommu *io, struct iommu_use *u, const struct vtd_request *req)
{
    const unsigned hit_only = (1u << VTD_C_CONTEXT) | (1u << VTD_C_PASID) | (1u << VTD_C_IOTLB);
    if (u->used != hit_only)
        return;
    *u->fast_slot = (struct iommu_fast_hit){
        .iotlb_generation = vtd_cache_generation(io->cache[VTD_C_IOTLB]), .cache_changes = io->cache_changes,
        .rtaddr = io->env.rtaddr,
        .key = req->addr & ~FAST_KEY_ACCESS_MASK, .pasid = req->pasid, .sid = req->sid,
        .pasid_valid = req->pasid_valid, .priv = req->priv, .iotlb_tagged = u->iotlb_tagged,
        .iotlb_shift = u->iotlb_shift, .ctx = io->last_ctx, .pasid_entry = io->last_pasid,
        .iotlb = u->iotlb_entry, .ctx_version = io->last_ctx->version,
        .pasid_version = io->last_pasid->version, .iotlb_version = u->iotlb_entry->version};
}

/* The walker's request checks and iotlb_serve() on the remembered entries; a clean answer is
 * remembered with the request's access. False for anything else (a fault, a write needing D). */
static bool fast_serve_first(struct vtd_iommu *io, struct iommu_fast_hit *f, const struct vtd_request *req,
                             const struct vtd_pasid_cfg *pe, struct vtd_xlate *x)
{
    struct vtd_request eff;
    unsigned access;
    if (vtd_xlate_set_pasid(&io->cfg.caps, req, pe, x, &eff, &access) ||
        iotlb_serve(&io->env, (const struct iotlb_payload *)f->iotlb->payload, f->iotlb_shift, &eff, access, x))
        return false;
    f->served_access = req->access + 1;
    f->served_perm = x->perm;
    f->served_dirty = x->dirty;
    f->epoch = 0; /* disarmed until this answer arms it: the slot's verdict is for this access now */
    return true;
}

/* A hit's first result fields: no fault, and the device's from the remembered context entry.
 * Every other field before fs/ss is written by the serve steps (a full vtd_xlate_reset() costs
 * a third of a hit: a 144-byte memset). */
void iommu_fast_begin(const struct iommu_fast_hit *f, const struct vtd_request *req, struct vtd_xlate *x)
{
    x->fault.code = 0;
    x->fault.suppressed = false;
    x->fault.addr = 0;
    x->fault.level = 0;
    x->fs.leaf_level = x->ss.leaf_level = 0;
    vtd_xlate_set_device(req, &((const struct ctx_cache_payload *)f->ctx->payload)->ctx, x);
}

/* What fast_serve_first() wrote, for a request with the same access: the same PASID entry
 * fields, and the page's output with this request's offset. */
void iommu_fast_serve_again(const struct iommu_fast_hit *f, const struct vtd_request *req,
                             const struct vtd_pasid_cfg *pe, struct vtd_xlate *x)
{
    const struct iotlb_payload *p = (const struct iotlb_payload *)f->iotlb->payload;
    x->pe = *pe;
    x->did = pe->did;
    x->pgtt = pe->pgtt;
    x->out = p->out_page | (req->addr & ((UINT64_C(1) << f->iotlb_shift) - 1));
    x->page_shift = f->iotlb_shift;
    x->perm = f->served_perm;
    x->dirty = f->served_dirty;
}

/*
 * The same answer a full lookup gives (vtd_translate with the cache hooks) when the remembered
 * entries still hold: the walker's own request checks, then iotlb_serve(). Anything but a clean
 * hit (a fault, a write needing D) returns false before touching any state: the full path then
 * answers it.
 */
static inline __attribute__((always_inline)) bool fast_hit(struct vtd_iommu *io, struct iommu_use *u,
                                                           const struct vtd_request *req, struct vtd_xlate *x)
{
    struct iommu_fast_hit *f = u->fast_slot;
    if (!fast_matches(f, io, req))
        return false;
    const struct vtd_pasid_cfg *pe = &((const struct pasid_cache_payload *)f->pasid_entry->payload)->pe;
    iommu_fast_begin(f, req, x);
    if (f->served_access == req->access + 1)
        iommu_fast_serve_again(f, req, pe, x);
    else if (!fast_serve_first(io, f, req, pe, x))
        return false;
    if (vtd_xlate_out_blocked(req, x->out))
        return false;
    /* The lookups a full path makes, in its order: context, PASID, IOTLB. */
    vtd_cache_touch(io->cache[VTD_C_CONTEXT], f->ctx);
    use_cache(u, VTD_C_CONTEXT, f->ctx);
    vtd_cache_touch(io->cache[VTD_C_PASID], f->pasid_entry);
    use_cache(u, VTD_C_PASID, f->pasid_entry);
    vtd_cache_touch(io->cache[VTD_C_IOTLB], f->iotlb);
    use_cache(u, VTD_C_IOTLB, f->iotlb);
    io->last_ctx = f->ctx;
    io->last_pasid = f->pasid_entry;
    u->pasid = x->pasid;
    u->iotlb_shift = f->iotlb_shift;
    u->iotlb_tagged = f->iotlb_tagged;
    u->iotlb_entry = f->iotlb;
    io->fast_hits++;
    iommu_fast_dma_arm(io, f, req, x);
    return true;
}

/* ---- the IOMMU's answer to one request ---- */

static int iommu_translate(struct vtd_iommu *io, struct iommu_use *u, const struct vtd_request *req, struct vtd_xlate *x)
{
    if (!io->te) {
        xlate_untranslated(x, req->addr);
        return 0;
    }
    u->sid = req->sid;
    return vtd_translate(&io->env, req, x);
}

/* A request from a device without a device TLB: the fast path, else the full lookup. */
static inline __attribute__((always_inline)) int iommu_translate_direct(struct vtd_iommu *io, struct iommu_use *u,
                                                                        const struct vtd_request *req,
                                                                        struct vtd_xlate *x)
{
    bool fast = fast_usable(io, req);
    if (fast && fast_hit(io, u, req, x))
        return 0;
    /* A miss the PSC resumes, with the use records the oracle checks (without the oracle,
     * iommu_dma_rest has tried it as a whole request). */
    if (io->fast_miss_ready && io->cfg.oracle && iommu_fast_miss(io, u, req, x))
        return 0;
    int rc = iommu_translate(io, u, req, x);
    if (fast && !rc)
        fast_remember(io, u, req);
    return rc;
}

/* ---- device TLBs (ATS, VT-d 4.1) ---- */

static uint64_t devtlb_pasid_tag(const struct vtd_request *req) { return req->pasid_valid ? req->pasid : VTD_TAG_NO_PASID; }

static bool devtlb_allows(unsigned perm, unsigned access, bool priv)
{
    if (!priv && !(perm & VTD_PERM_U))
        return false;
    return !((access & VTD_ACC_R) && !(perm & VTD_PERM_R)) && !((access & VTD_ACC_W) && !(perm & VTD_PERM_W));
}

/* The translated request that follows a device-TLB answer: only the context is checked. */
static int devtlb_translated(struct vtd_iommu *io, struct iommu_use *u, const struct vtd_request *req, uint64_t out,
                             struct vtd_dma_result *res)
{
    struct vtd_request t = *req;
    t.kind = VTD_REQ_TRANSLATED;
    t.addr = out;
    struct vtd_xlate x;
    int rc = iommu_translate(io, u, &t, &x);
    res->x.ctx = x.ctx;
    if (rc)
        res->x.fault = x.fault;
    return rc;
}

static void devtlb_fill(struct vtd_iommu *io, struct vtd_device *dev, const struct vtd_request *req,
                        const struct vtd_xlate *x)
{
    struct vtd_cache_key key = devtlb_key(devtlb_pasid_tag(req), req->addr, x->page_shift);
    struct vtd_cache_entry *e = vtd_cache_insert(dev->devtlb, &key, io->step, NULL);
    if (e)
        *(struct devtlb_payload *)e->payload = (struct devtlb_payload){
            .out_page = x->out & ~((UINT64_C(1) << x->page_shift) - 1), .perm = x->perm, .priv = req->priv};
}

static int devtlb_dma(struct vtd_iommu *io, struct iommu_use *u, struct vtd_device *dev, const struct vtd_request *req,
                      struct vtd_dma_result *res)
{
    struct vtd_cache_key keys[PAGE_SIZES];
    unsigned shifts[PAGE_SIZES], n = 0, which;
    for (unsigned i = 0; i < PAGE_SIZES; i++)
        if (vtd_cache_class_count(dev->devtlb, probe_shifts[i])) {
            shifts[n] = probe_shifts[i];
            keys[n++] = devtlb_key(devtlb_pasid_tag(req), req->addr, probe_shifts[i]);
        }
    struct vtd_cache_entry *e = vtd_cache_lookup_any(dev->devtlb, keys, n, &which);
    const struct devtlb_payload *p = e ? (const struct devtlb_payload *)e->payload : NULL;
    if (p && devtlb_allows(p->perm, req->access, req->priv)) {
        use_cache(u, VTD_C_DEVTLB, e);
        u->iotlb_shift = shifts[which];
        uint64_t out = p->out_page | (req->addr & ((UINT64_C(1) << shifts[which]) - 1));
        xlate_answer(&res->x, out, shifts[which], p->perm, false);
        res->x.pasid = req->pasid;
        res->x.priv = req->priv;
        res->source = VTD_SRC_DEVTLB;
        return devtlb_translated(io, u, req, out, res);
    }
    /* Miss (or not enough permission cached): ask the IOMMU with a translation request. */
    struct vtd_request t = *req;
    t.kind = VTD_REQ_TRANSLATION;
    int rc = iommu_translate(io, u, &t, &res->x);
    if (rc)
        return rc;
    if (!devtlb_allows(res->x.perm, req->access, req->priv)) {
        /* The completion grants too little: a PRI device whose context allows page requests
         * asks for the page (into the page request queue, prq.c); a device that cannot send
         * one falls back to an untranslated request. */
        if (dev->pri && res->x.ctx.pre && iommu_pri_request_page(io, dev, req) == 0)
            return VTD_DMA_PAGE_REQUEST;
        return iommu_translate(io, u, req, &res->x);
    }
    devtlb_fill(io, dev, req, &res->x);
    return devtlb_translated(io, u, req, res->x.out, res);
}

/* ---- statistics and the entry point ---- */

/* The answer's source from the caches it used: the device TLB over the IOTLB over a PSC over
 * the walk, worked out once for every set of caches (`used` has a bit per enum vtd_cache_id) so
 * that a request pays one load for it. */
#define SRC_PSC_BITS ((1u << VTD_C_PSC_FS) | (1u << VTD_C_PSC_SS))
#define SRC_OF(u)                                                                                                \
    ((u) & (1u << VTD_C_DEVTLB)  ? VTD_SRC_DEVTLB                                                                \
     : (u) & (1u << VTD_C_IOTLB) ? VTD_SRC_IOTLB                                                                 \
     : (u) & SRC_PSC_BITS        ? VTD_SRC_PSC                                                                   \
                                 : VTD_SRC_WALK)
#define SRC_OF4(u) SRC_OF(u), SRC_OF((u) + 1), SRC_OF((u) + 2), SRC_OF((u) + 3)
#define SRC_OF16(u) SRC_OF4(u), SRC_OF4((u) + 4), SRC_OF4((u) + 8), SRC_OF4((u) + 12)
#define USED_SETS 64u
_Static_assert(VTD_C_NKINDS <= 6, "source_by_used covers six caches");
static const uint8_t source_by_used[USED_SETS] = {SRC_OF16(0u), SRC_OF16(16u), SRC_OF16(32u), SRC_OF16(48u)};

static enum vtd_source source_of(unsigned used) { return (enum vtd_source)source_by_used[used & (USED_SETS - 1)]; }

uint64_t vtd_iommu_fast_hits(const struct vtd_iommu *io) { return io->fast_hits + io->fast_dma_hits; }
uint64_t vtd_iommu_fast_misses(const struct vtd_iommu *io) { return io->fast_misses; }

/* A request the whole-request slot did not answer (see iommu_dma_one). */
static inline __attribute__((always_inline)) int iommu_dma_rest(struct vtd_iommu *io, struct iommu_fast_hit *slot,
                                                                const struct vtd_request *req,
                                                                struct vtd_dma_result *res)
{
    if (__builtin_expect(vtd_iommu_is_interrupt(req), 0))
        return vtd_iommu_interrupt(io, req, res);
    struct vtd_device *dev = iommu_device(io, req->sid);
    bool ats = dev && dev->ats;
    /* A miss the PSC resumes, answered whole before the set-up below (its oracle check needs
     * the use records, so only with the oracle off). The attempt at a repeated hit the general
     * path makes first cannot answer it: that needs the IOTLB entry this miss lacks. */
    if (io->fast_miss_ready && !io->cfg.oracle && !ats && iommu_fast_miss_dma(io, req, res))
        return 0;
    /* The report is filled only for a stale answer; res->x by the translation. */
    res->stale = false;
    res->report.caches = 0;
    res->unflushed = false;
    res->lost.dirty = res->lost.accessed = false;
    /* This request's passage through the caches, reached by the hooks through the environment.
     * Fields other than these are read only for the caches `used` names (a whole-struct clear
     * is a rep stos costing a tenth of an IOTLB hit). */
    struct iommu_req rq;
    struct iommu_use *u = &rq.use;
    rq.io = io;
    u->used = 0;
    u->sid = req->sid;
    u->pasid = 0;
    u->iotlb_entry = NULL;
    u->fast_slot = slot;
    io->env.opaque = &rq;
    /* One count per DMA: an ATS miss makes a translation request and a translated one. */
    io->env.cnt = (struct vtd_walk_counters){0};
    int rc = ats && iommu_devtlb_of(io, dev) && req->kind == VTD_REQ_UNTRANSLATED ? devtlb_dma(io, u, dev, req, res)
                                                                     : iommu_translate_direct(io, u, req, &res->x);
    io->env.opaque = NULL; /* rq ends here */
    res->used = u->used;
    res->source = source_of(res->used);
    res->reads = io->env.cnt.reads;
    res->paging_reads = io->env.cnt.paging_reads;
    if (rc && rc != VTD_DMA_PAGE_REQUEST && req->kind != VTD_REQ_TRANSLATION) {
        iommu_record_fault(io, req, &res->x);
        if (io->fault_listener)
            io->fault_listener(io->fault_listener_arg, req, &res->x);
    }
    /* The oracle checks every cache-served answer (a page request served nothing), the lost-A/D
     * check those of the IOTLB and device TLBs; the memo answers both for a request checked
     * clean before while nothing they read has changed. */
    bool check = io->cfg.oracle && res->used && rc != VTD_DMA_PAGE_REQUEST;
    bool check_ad = io->cfg.oracle && !rc && (u->used & ((1u << VTD_C_IOTLB) | (1u << VTD_C_DEVTLB)));
    /* The identity and page hash again rather than kept from the slot's look-up: live across
     * the whole-request attempt, they cost a repeat hit two instructions of register spills. */
    uint64_t ident = iommu_fast_ident(req);
    bool memo = check && io->cfg.oracle_memo &&
                iommu_oracle_memo_clean(io, req, ident, iommu_page_hash(req, ident), res, check_ad);
    if (check && !memo)
        iommu_oracle_check(io, u, req, res);
    if (__builtin_expect(vtd_mem_cpu_dirty(io->mem) != 0, 0))
        iommu_coherency_check(io, req, res);
    if (check_ad && !memo)
        iommu_ad_lost_check(io, u, req, res);
    if (check && !memo && io->cfg.oracle_memo)
        iommu_oracle_memo_note(io, req, res, check_ad);
    iommu_count_request(io, res, rc);
    return rc;
}

/* The slot of a request's page (its whole-request answer, fast_dma.c). */
static inline struct iommu_fast_hit *dma_slot(struct vtd_iommu *io, const struct vtd_request *req)
{
    return iommu_fast_slot(io->fast, iommu_page_hash(req, iommu_fast_ident(req)));
}

/* vtd_iommu_dma's body, inlined into vtd_iommu_dma_pages' loop. A repeat of a clean IOTLB hit
 * from a requester without a device TLB is answered whole (fast_dma.c), before the device
 * look-up. It is never an interrupt request: the same request, page and access would have been
 * one when it armed the slot, and an interrupt request arms nothing. */
static inline __attribute__((always_inline)) int iommu_dma_one(struct vtd_iommu *io, const struct vtd_request *req,
                                                               struct vtd_dma_result *res)
{
    struct iommu_fast_hit *slot = dma_slot(io, req);
    if (iommu_fast_dma(io, slot, req, res))
        return 0;
    return iommu_dma_rest(io, slot, req, res);
}

static __attribute__((noinline)) int iommu_dma_rest_call(struct vtd_iommu *io, struct iommu_fast_hit *slot,
                                                        const struct vtd_request *req, struct vtd_dma_result *res)
{
    return iommu_dma_rest(io, slot, req, res);
}

/* The whole-request answer inline and the rest out of line: vtd_iommu_dma stays small enough
 * that a caller linked with it (a replay loop, a benchmark) inlines it whatever the rest
 * becomes; when the rest grew, the whole function stopped inlining and a repeated hit paid
 * 25 instructions of call and spills. */
int vtd_iommu_dma(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res)
{
    struct iommu_fast_hit *slot = dma_slot(io, req);
    if (iommu_fast_dma(io, slot, req, res))
        return 0;
    return iommu_dma_rest_call(io, slot, req, res);
}

/* The pages one after another, each exactly as vtd_iommu_dma answers it; what the loop saves is
 * the call and the entry's set-up of each page's request. */
int vtd_iommu_dma_pages(struct vtd_iommu *io, const struct vtd_request *req, uint64_t n, struct vtd_dma_result *res)
{
    struct vtd_request page = *req;
    int rc = 0;
    for (uint64_t i = 0; i < n; i++) {
        rc = iommu_dma_one(io, &page, res);
        page.addr = (page.addr & VTD_PAGE_MASK) + VTD_PAGE_SIZE;
    }
    return rc;
}
