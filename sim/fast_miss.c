/*
 * fast_miss.c: an IOTLB miss resumed from the paging-structure cache, as hardware does it (VT-d
 * 6.2.4: a PDE-cache hit leaves one PTE to fetch). The general path gets there through
 * vtd_translate() and the cache hooks of xlate.c, re-deriving the request's set-up at every stage;
 * this one finds the same cache entries first without counting anything, asks the walker for the
 * one PTE (walker/walk_fs_leaf.h), and only when everything succeeds makes the general path's
 * updates: context and PASID hits, the PSC hit, the read, then the IOTLB miss and its fill (the
 * general path counts the miss before the PSC hit, but each cache's counts and replacement state
 * are its own, so the order between caches shows nowhere). Anything else declines before the first
 * of them. A memo of the last requester (struct iommu_miss_memo) spares its next miss the finding
 * of the context and PASID entries and the request checks while both entries hold the same fills.
 */
#include "sim/iommu_internal.h"
#include "walker/walk_fs_leaf.h"

/* The level of the paging-structure-cache entries this path resumes from: PDEs. */
#define FAST_MISS_PSC_LEVEL 2u

/* The cache entries the general path would use, found without counting. */
struct fast_miss_found {
    struct vtd_cache_entry *ctx, *pasid, *psc;
    /* The PASID entry in fd->pasid's payload: the walk reads it there, not from the copy in the
     * result just written (a load from a fresh store waits on its forwarding). */
    const struct vtd_pasid_cfg *pe;
    struct vtd_cache_key iotlb_keys[IOMMU_PAGE_SIZES];
    unsigned iotlb_n;
    uint64_t iotlb_miss_token;
};

/*
 * The entry with this key: the one remembered (the last request's, for the context and PASID
 * caches; this path's last, for the PSC) while it still holds the key, else a probe. Keys are
 * unique in a cache, so both find the same entry; the remembered one skips a call and a probe.
 */
static inline struct vtd_cache_entry *find_remembered(const struct vtd_cache *c, struct vtd_cache_entry *last,
                                                      const struct vtd_cache_key *key)
{
    if (last && last->valid && cache_key_equal(&last->key, key))
        return last;
    return vtd_cache_peek(c, key);
}

static void use_entry(struct iommu_use *u, enum vtd_cache_id id, const struct vtd_cache_entry *e)
{
    u->used |= 1u << id;
    u->filled[id] = e->fill_seq;
}

/* The requests this path can take at all: untranslated ones (translate.c's other request kinds
 * take other routes). Its caller has checked io->fast_miss_ready (translation on, no trace,
 * scalable mode) and iommu_fast_miss a first-stage PSC holding PDEs. */
static bool fast_miss_usable(const struct vtd_request *req) { return req->kind == VTD_REQ_UNTRANSLATED; }

/* The device stage from the context cache (translate.c's translate_device, without a fetch). */
static bool fast_miss_device(struct vtd_iommu *io, const struct vtd_request *req, struct fast_miss_found *fd,
                             struct vtd_xlate *x)
{
    struct vtd_cache_key key = ctx_cache_key(req->sid);
    fd->ctx = find_remembered(io->cache[VTD_C_CONTEXT], io->last_ctx, &key);
    if (!fd->ctx)
        return false;
    const struct vtd_ctx *ctx = &((const struct ctx_cache_payload *)fd->ctx->payload)->ctx;
    if (req->pasid_valid && !ctx->paside)
        return false;
    /* vtd_xlate_reset()'s fields that nothing below writes on success. */
    x->fault = (struct vtd_fault_info){0};
    x->fs.leaf_level = x->ss.leaf_level = 0;
    vtd_xlate_set_device(req, ctx, x);
    return true;
}

/* The PASID stage from the PASID cache and the request checks, for a first-stage-only entry. */
static bool fast_miss_pasid(struct vtd_iommu *io, const struct vtd_request *req, struct fast_miss_found *fd,
                            struct vtd_xlate *x, unsigned *access)
{
    if (!vtd_ctx_pasid_in_range(&x->ctx, x->pasid))
        return false;
    struct vtd_cache_key key = pasid_cache_key(req->sid, x->pasid);
    fd->pasid = find_remembered(io->cache[VTD_C_PASID], io->last_pasid, &key);
    if (!fd->pasid)
        return false;
    const struct vtd_pasid_cfg *pe = fd->pe = &((const struct pasid_cache_payload *)fd->pasid->payload)->pe;
    struct vtd_request eff; /* the request with the checks' privilege and access: only `access` is read on */
    return pe->pgtt == VTD_PGTT_FS && !vtd_xlate_set_pasid(&io->cfg.caps, req, pe, x, &eff, access);
}

/* ---- the requester memo (struct iommu_miss_memo) ---- */

static bool memo_matches(const struct iommu_miss_memo *m, const struct vtd_request *req)
{
    return m->ctx_version && m->ident == iommu_fast_ident(req) && m->req_access == req->access &&
           iommu_entry_holds(m->ctx, m->ctx_version) && iommu_entry_holds(m->pasid_entry, m->pasid_version);
}

/* What fast_miss_device() and fast_miss_pasid() write, from the memo and the entries. */
static void memo_apply(const struct iommu_miss_memo *m, struct fast_miss_found *fd, struct vtd_xlate *x,
                       unsigned *access)
{
    const struct vtd_pasid_cfg *pe = &((const struct pasid_cache_payload *)m->pasid_entry->payload)->pe;
    fd->ctx = m->ctx;
    fd->pasid = m->pasid_entry;
    fd->pe = pe;
    x->fault = (struct vtd_fault_info){0};
    x->fs.leaf_level = x->ss.leaf_level = 0;
    x->ctx = ((const struct ctx_cache_payload *)m->ctx->payload)->ctx;
    x->pasid = m->pasid;
    x->priv = m->priv;
    x->pe = *pe;
    x->did = pe->did;
    x->pgtt = pe->pgtt;
    *access = m->access;
}

static void memo_note(struct iommu_miss_memo *m, const struct vtd_request *req, const struct fast_miss_found *fd,
                      const struct vtd_xlate *x, unsigned access)
{
    *m = (struct iommu_miss_memo){
        .ctx = fd->ctx, .pasid_entry = fd->pasid, .ctx_version = fd->ctx->version,
        .pasid_version = fd->pasid->version, .ident = iommu_fast_ident(req), .req_access = req->access,
        .pasid = x->pasid,
        .priv = x->priv, .access = access};
}

/* The device and PASID stages: from the memo when it holds for this requester, else found and
 * checked (then remembered: the memo is host-side, what it holds is no state of the model). */
static bool fast_miss_checked(struct vtd_iommu *io, const struct vtd_request *req, struct fast_miss_found *fd,
                              struct vtd_xlate *x, unsigned *access)
{
    struct iommu_miss_memo *m = &io->fast_miss_memo;
    if (memo_matches(m, req)) {
        memo_apply(m, fd, x, access);
        return true;
    }
    if (!fast_miss_device(io, req, fd, x) || !fast_miss_pasid(io, req, fd, x, access))
        return false;
    memo_note(m, req, fd, x, *access);
    return true;
}

/* An IOTLB miss (a first-stage entry is tagged by its PASID), and a PDE-level PSC hit. */
static bool fast_miss_caches(struct vtd_iommu *io, const struct vtd_request *req, struct fast_miss_found *fd,
                             uint32_t pasid, struct vtd_walk_start *start)
{
    uint16_t did = fd->pe->did;
    struct vtd_cache *iotlb = io->cache[VTD_C_IOTLB];
    unsigned shifts[IOMMU_PAGE_SIZES];
    fd->iotlb_n = iommu_iotlb_keys(iotlb, did, pasid, req->addr, fd->iotlb_keys, shifts);
    /* The fill after the miss reuses the probe of keys[0]: taken only while the IOTLB holds
     * 4 KiB entries, so that keys[0] is the key the one PTE fills. */
    if (!fd->iotlb_n || shifts[0] != VTD_PAGE_SHIFT ||
        vtd_cache_peek_any(iotlb, fd->iotlb_keys, fd->iotlb_n, &fd->iotlb_miss_token))
        return false;
    /* xlate.c's psc_probe tries the lowest level the cache holds first: PDEs, when it has any. */
    struct vtd_cache *psc = io->cache[VTD_C_PSC_FS];
    struct vtd_cache_key key = psc_fs_key(did, pasid, FAST_MISS_PSC_LEVEL, req->addr);
    fd->psc = find_remembered(psc, io->fast_miss_psc, &key);
    if (!fd->psc)
        return false;
    const struct psc_payload *p = (const struct psc_payload *)fd->psc->payload;
    *start = (struct vtd_walk_start){.level = FAST_MISS_PSC_LEVEL - 1, .table = p->next_table, .perm = p->perm};
    return true;
}

/* The general path's updates, in its order (see the file comment): the replacement state, the
 * remembered entries, the read's counts and the IOTLB's miss and fill. */
static void fast_miss_commit(struct vtd_iommu *io, const struct vtd_request *req, const struct fast_miss_found *fd,
                             const struct vtd_xlate *x)
{
    vtd_cache_touch(io->cache[VTD_C_CONTEXT], fd->ctx);
    io->last_ctx = fd->ctx;
    vtd_cache_touch(io->cache[VTD_C_PASID], fd->pasid);
    io->last_pasid = fd->pasid;
    vtd_cache_touch(io->cache[VTD_C_PSC_FS], fd->psc);
    io->fast_miss_psc = fd->psc;
    vtd_fs_leaf_commit(&io->env, fd->pe);
    /* The IOTLB miss (counted here, after the PSC hit's update: the counts are separate) and
     * the fill of keys[0], the page's 4 KiB key (fast_miss_caches). */
    iommu_iotlb_miss_fill(io, req, x, fd->iotlb_keys, fd->iotlb_miss_token);
    io->fast_misses++;
}

/* What the general path's hooks record of the entries used, for the oracle (xlate.c). */
static void fast_miss_note_use(struct iommu_use *u, const struct fast_miss_found *fd, const struct vtd_xlate *x)
{
    use_entry(u, VTD_C_CONTEXT, fd->ctx);
    use_entry(u, VTD_C_PASID, fd->pasid);
    u->pasid = x->pasid;
    use_entry(u, VTD_C_PSC_FS, fd->psc);
    u->psc_fs_level = FAST_MISS_PSC_LEVEL;
}

/* Everything the path reads, found and checked without changing any state but *x: false to
 * decline. */
static bool fast_miss_find(struct vtd_iommu *io, const struct vtd_request *req, struct fast_miss_found *fd,
                           struct vtd_xlate *x)
{
    struct vtd_walk_start start;
    unsigned access;
    if (!fast_miss_usable(req) || !fast_miss_checked(io, req, fd, x, &access) ||
        !fast_miss_caches(io, req, fd, x->pasid, &start) ||
        vtd_fs_leaf_peek(&io->env, fd->pe, &start, req->addr, access, x->priv, &x->fs))
        return false;
    /* vtd_translate_paging's first-stage result, then vtd_translate's output check. */
    x->out = x->fs.out;
    x->page_shift = x->fs.page_shift;
    x->perm = x->fs.perm;
    x->dirty = x->fs.dirty;
    return !vtd_xlate_out_blocked(req, x->out);
}

/* The resumed miss, found and made (its use records and the request's result left to the
 * caller): one body for both callers below, out of line. */
static __attribute__((noinline)) bool fast_miss(struct vtd_iommu *io, const struct vtd_request *req,
                                                struct fast_miss_found *fd, struct vtd_xlate *x)
{
    if (!fast_miss_find(io, req, fd, x))
        return false;
    fast_miss_commit(io, req, fd, x);
    return true;
}

/* Without PDEs in the first-stage PSC (the PSCs off, or none filled yet) nothing can be resumed:
 * that test alone, before the body's frame is set up, is what such a miss pays. Both stay out of
 * line: inlined at the call, the test changed how the whole-request hit around it compiled (3
 * instructions more a hit). */
static bool fast_miss_possible(struct vtd_iommu *io)
{
    return vtd_cache_class_count(io->cache[VTD_C_PSC_FS], FAST_MISS_PSC_LEVEL) != 0;
}

__attribute__((noinline)) bool iommu_fast_miss(struct vtd_iommu *io, struct iommu_use *u, const struct vtd_request *req,
                                               struct vtd_xlate *x)
{
    struct fast_miss_found fd;
    if (!fast_miss_possible(io) || !fast_miss(io, req, &fd, x))
        return false;
    fast_miss_note_use(u, &fd, x);
    return true;
}

/*
 * The whole request (vtd_iommu_dma's result and statistics), with the oracle off: nothing reads
 * the use records then, and a resumed miss is clean (no fault, no CPU-cache line dirty, which
 * the lean read requires), so the request-wide set-up, the checks after the translation and the
 * general counting have nothing to do that is not written here.
 */
#define FAST_MISS_USED ((1u << VTD_C_CONTEXT) | (1u << VTD_C_PASID) | (1u << VTD_C_PSC_FS))
bool iommu_fast_miss_dma(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res)
{
    struct fast_miss_found fd;
    if (!fast_miss_possible(io))
        return false;
    io->env.cnt = (struct vtd_walk_counters){0}; /* the request's counts start here */
    if (!fast_miss(io, req, &fd, &res->x))
        return false;
    iommu_result_clean(res, FAST_MISS_USED, VTD_SRC_PSC, io->env.cnt.reads, io->env.cnt.paging_reads);
    iommu_count_request(io, res, 0);
    return true;
}
