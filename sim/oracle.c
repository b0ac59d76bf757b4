/*
 * oracle.c: the stale-translation oracle. Every answer a cache helped with is compared with a
 * fresh, uncached, side-effect-free walk of current memory; a difference in output, page size,
 * permissions, or fault versus success is a stale translation. The report names the caches
 * that held stale data, when they were filled, what the fresh walk says, and the narrowest
 * invalidation descriptors that would have removed them (built and described by sim/qi_desc.h,
 * ready for vtd_qi_submit_desc), with, from oracle_cover.c, the one descriptor per cache that
 * removes every entry the same change left stale. The same re-walks decide, for each entry an
 * invalidation removes, whether it was still correct (over-invalidation).
 */
#include <stdio.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "walker/fault.h"
#include "walker/legacy_ctx_entry.h"

/* A fresh walk with no caches and no A/D writes. */
static int fresh_translate(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_xlate *x)
{
    io->oracle_env.cnt = (struct vtd_walk_counters){0};
    io->oracle_env.rtaddr = io->rtaddr;
    if (!io->te) {
        xlate_untranslated(x, req->addr);
        return 0;
    }
    return vtd_translate(&io->oracle_env, req, x);
}

static bool ctx_equal(const struct vtd_ctx *a, const struct vtd_ctx *b)
{
    return a->fpd == b->fpd && a->dte == b->dte && a->paside == b->paside && a->pre == b->pre &&
           a->rid_priv == b->rid_priv && a->pdts == b->pdts && a->pdtp == b->pdtp && a->rid_pasid == b->rid_pasid &&
           a->legacy == b->legacy && a->tt == b->tt && a->ss_levels == b->ss_levels && a->did == b->did &&
           a->slptptr == b->slptptr;
}

static bool pasid_cfg_equal(const struct vtd_pasid_cfg *a, const struct vtd_pasid_cfg *b)
{
    return a->pgtt == b->pgtt && a->fpd == b->fpd && a->did == b->did && a->pwsnp == b->pwsnp &&
           a->pgsnp == b->pgsnp && a->ss_levels == b->ss_levels && a->ssee == b->ssee && a->ssade == b->ssade &&
           a->ssptptr == b->ssptptr && a->fs_levels == b->fs_levels && a->sre == b->sre && a->ere == b->ere &&
           a->wpe == b->wpe && a->nxe == b->nxe && a->smep == b->smep && a->eafe == b->eafe &&
           a->fsptptr == b->fsptptr;
}

/* The context entry a source-id has in memory now (false if it has none usable). */
static bool fresh_ctx(struct vtd_iommu *io, uint16_t sid, struct vtd_ctx *ctx)
{
    struct vtd_fault_info f;
    io->oracle_env.rtaddr = io->rtaddr;
    return vtd_ctx_fetch(&io->oracle_env, sid, ctx, &f) == 0;
}

static bool fresh_pasid(struct vtd_iommu *io, uint16_t sid, uint32_t pasid, struct vtd_pasid_cfg *pe)
{
    struct vtd_ctx ctx;
    struct vtd_fault_info f;
    if (!fresh_ctx(io, sid, &ctx))
        return false;
    /* A legacy context entry holds the paging configuration itself (no PASID structures). */
    if (ctx.legacy) {
        vtd_lctx_paging_cfg(&ctx, pe);
        return true;
    }
    return vtd_pasid_fetch(&io->oracle_env, &ctx, pasid, pe, &f) == 0;
}

static bool results_differ(int rc_a, const struct vtd_xlate *a, int rc_b, const struct vtd_xlate *b)
{
    if (rc_a != rc_b)
        return true;
    if (rc_a)
        return false;
    return a->out != b->out || a->page_shift != b->page_shift || a->perm != b->perm;
}

/* ---- which descriptor would have removed a stale entry ---- */

/* The page of 2^shift bytes that holds addr. */
static uint64_t page_of(uint64_t addr, unsigned shift) { return addr & ~((UINT64_C(1) << shift) - 1); }

/* A type-2 invalidation of 2^(12+am) bytes at addr: page-selective when CAP.PSI and CAP.MAMV
 * allow it, else the whole domain (VT-d 6.5.2.3). */
static struct vtd_desc iotlb_fix(const struct vtd_caps *caps, uint16_t did, uint64_t addr, unsigned am)
{
    if (!vtd_cap_has(caps, VTD_CAP_PSI) || am > vtd_caps_mamv(caps))
        return vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, did, 0, 0, false, false, false);
    return vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, did, addr, am, false, false, false);
}

/* The narrowest descriptor that removes the IOTLB entries of one tag in the 2^(12+am) bytes at
 * addr: PASID-based for a PASID tag (first-stage or nested entries; all of the PASID when the
 * block is everything), type 2 for the others (VT-d 6.5.2.3, 6.5.2.4). */
struct vtd_desc iommu_iotlb_block_fix(const struct vtd_iommu *io, uint16_t did, uint64_t pasid_tag, uint64_t addr,
                                      unsigned am)
{
    if (pasid_tag == VTD_TAG_NO_PASID)
        return iotlb_fix(&io->cfg.caps, did, addr, am);
    if (am >= VTD_QI_AM_EVERYTHING)
        return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, did, (uint32_t)pasid_tag, 0, 0, false);
    return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, did, (uint32_t)pasid_tag, addr, am, false);
}

struct vtd_desc iommu_iotlb_entry_fix(const struct vtd_iommu *io, const struct vtd_cache_key *key)
{
    struct iotlb_tag t = iotlb_tag_unpack(key);
    return iommu_iotlb_block_fix(io, t.did, t.pasid_tag, t.page << t.shift, t.shift - VTD_PAGE_SHIFT);
}

/* The narrowest descriptor that removes a device-TLB entry of 2^shift bytes at addr. */
struct vtd_desc iommu_devtlb_entry_fix(uint16_t sid, uint64_t pasid_tag, uint64_t addr, unsigned shift)
{
    struct vtd_devtlb_size size = vtd_devtlb_size_encode(addr, shift - VTD_PAGE_SHIFT);
    if (pasid_tag != VTD_TAG_NO_PASID)
        return vtd_desc_p_devtlb(sid, 0, 0, (uint32_t)pasid_tag, false, size);
    return vtd_desc_devtlb(sid, 0, 0, size);
}

/* The narrowest descriptor that removes the entry of `cache` this request used (the IOTLB's:
 * `iotlb`). IH stays 0: only software knows that no paging-structure entry changed. */
static struct vtd_desc fix_for(struct vtd_iommu *io, const struct iommu_use *u, enum vtd_cache_id cache,
                               const struct vtd_request *req, const struct vtd_xlate *x,
                               const struct vtd_cache_key *iotlb)
{
    uint16_t did = x->pe.did;
    unsigned shift;
    switch (cache) {
    case VTD_C_CONTEXT: /* a legacy entry is tagged by its own DID, whatever stage the request reached */
        return vtd_desc_cc(VTD_QI_CC_G_DEVICE, x->ctx.legacy ? x->ctx.did : did, u->sid, 0);
    case VTD_C_PASID: return vtd_desc_pc(VTD_QI_PC_G_PASID, did, u->pasid);
    case VTD_C_IOTLB: return iommu_iotlb_entry_fix(io, iotlb);
    case VTD_C_PSC_FS:
        shift = vtd_pt_level_shift(u->psc_fs_level);
        return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, did, u->pasid, page_of(req->addr, shift),
                                shift - VTD_PAGE_SHIFT, false);
    case VTD_C_PSC_SS:
        shift = vtd_pt_level_shift(u->psc_ss_level);
        return iotlb_fix(&io->cfg.caps, did, page_of(u->psc_ss_gpa, shift), shift - VTD_PAGE_SHIFT);
    default: /* VTD_C_DEVTLB */
        return iommu_devtlb_entry_fix(u->sid, req->pasid_valid ? req->pasid : VTD_TAG_NO_PASID,
                                      page_of(req->addr, u->iotlb_shift), u->iotlb_shift);
    }
}

/* Add a descriptor to the report, and its description to the report's text. */
static void fix_append(struct vtd_stale *rep, const struct vtd_desc *d)
{
    char t[128];
    size_t used = strlen(rep->fix);
    if (rep->nfixes == VTD_STALE_FIXES_MAX)
        return;
    rep->fixes[rep->nfixes++] = *d;
    vtd_qi_describe(d->qw, d->nqw, t, sizeof t);
    snprintf(rep->fix + used, sizeof rep->fix - used, "%s%s", used ? "; " : "", t);
}

/*
 * Which of the caches used held stale data: the context and PASID caches are checked against
 * memory directly; a differing final answer blames the translation caches that served it.
 */
static bool psc_entry_stale(struct vtd_iommu *io, enum vtd_cache_id id, struct vtd_cache_key key)
{
    const struct vtd_cache_entry *e = vtd_cache_peek(io->cache[id], &key);
    return e && !iommu_entry_still_ok(io, id, e);
}

/* What stands behind a device-TLB answer: an IOTLB entry the device's translation requests
 * were answered from (it filled it: same requester and PASID) that holds the address and is
 * stale too. Left alone, it refills the device TLB after the device-TLB invalidation. */
struct iotlb_behind {
    struct vtd_iommu *io;
    const struct vtd_request *req;
    const struct vtd_cache_entry *found;
};

static void find_iotlb_behind(const struct vtd_cache_entry *e, void *arg)
{
    struct iotlb_behind *b = arg;
    const struct iotlb_payload *p = (const struct iotlb_payload *)e->payload;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    bool same_requester = p->fill_sid == b->req->sid && p->fill_pasid_valid == b->req->pasid_valid &&
                          (!p->fill_pasid_valid || p->fill_pasid == b->req->pasid);
    if (!b->found && same_requester && t.page == b->req->addr >> t.shift && !iommu_entry_still_ok(b->io, VTD_C_IOTLB, e))
        b->found = e;
}

/* The stale IOTLB entry this request used or that stands behind its device-TLB answer. */
static bool stale_iotlb_key(struct vtd_iommu *io, const struct iommu_use *u, const struct vtd_request *req,
                            struct vtd_cache_key *key, uint64_t *behind_fill)
{
    if ((u->used & (1u << VTD_C_DEVTLB)) == 0) {
        /* Both the full lookup and the fast path name the IOTLB entry that answered. */
        bool served = (u->used & (1u << VTD_C_IOTLB)) && u->iotlb_entry;
        if (served)
            *key = u->iotlb_entry->key;
        return served;
    }
    struct iotlb_behind b = {.io = io, .req = req};
    vtd_cache_foreach(io->cache[VTD_C_IOTLB], find_iotlb_behind, &b);
    if (b.found) {
        *key = b.found->key;
        *behind_fill = b.found->fill_seq;
    }
    return b.found != NULL;
}

static unsigned stale_caches(struct vtd_iommu *io, const struct iommu_use *u, const struct vtd_request *req,
                             const struct vtd_xlate *served, bool iotlb_behind)
{
    unsigned used = u->used, stale = 0;
    struct vtd_ctx ctx;
    struct vtd_pasid_cfg pe;
    if ((used & (1u << VTD_C_CONTEXT)) && (!fresh_ctx(io, u->sid, &ctx) || !ctx_equal(&ctx, &served->ctx)))
        stale |= 1u << VTD_C_CONTEXT;
    if ((used & (1u << VTD_C_PASID)) && (!fresh_pasid(io, u->sid, u->pasid, &pe) || !pasid_cfg_equal(&pe, &served->pe)))
        stale |= 1u << VTD_C_PASID;
    /* A device-TLB or IOTLB answer stands on its own (it hides everything below it); the
     * paging-structure entries a walk started from are checked one by one. A device-TLB answer
     * also blames the stale IOTLB entry behind it, which would refill it. */
    if (used & (1u << VTD_C_DEVTLB))
        return stale | 1u << VTD_C_DEVTLB | (iotlb_behind ? 1u << VTD_C_IOTLB : 0);
    if (used & (1u << VTD_C_IOTLB))
        return stale | 1u << VTD_C_IOTLB;
    if ((used & (1u << VTD_C_PSC_FS)) &&
        psc_entry_stale(io, VTD_C_PSC_FS, psc_fs_key(served->pe.did, u->pasid, u->psc_fs_level, req->addr)))
        stale |= 1u << VTD_C_PSC_FS;
    if ((used & (1u << VTD_C_PSC_SS)) &&
        psc_entry_stale(io, VTD_C_PSC_SS, psc_ss_key(served->pe.did, u->psc_ss_level, u->psc_ss_gpa)))
        stale |= 1u << VTD_C_PSC_SS;
    /* Nothing identified (an entry evicted since, say): blame what served the walk. */
    return stale ? stale : used & ((1u << VTD_C_PSC_FS) | (1u << VTD_C_PSC_SS));
}

/* The oldest fill among the stale caches: u->filled for those the request used, and the IOTLB
 * entry's own fill when it is blamed from behind a device-TLB answer (the request did not use
 * it, so u->filled holds nothing for it). */
static uint64_t oldest_fill(const struct iommu_use *u, unsigned caches, uint64_t behind_fill)
{
    uint64_t oldest = UINT64_MAX;
    for (unsigned i = 0; i < VTD_C_NKINDS; i++) {
        if (!(caches & (1u << i)))
            continue;
        uint64_t fill = u->used & (1u << i) ? u->filled[i] : i == VTD_C_IOTLB ? behind_fill : UINT64_MAX;
        if (fill < oldest)
            oldest = fill;
    }
    return oldest == UINT64_MAX ? 0 : oldest;
}

void iommu_oracle_check(struct vtd_iommu *io, const struct iommu_use *use, const struct vtd_request *req,
                        struct vtd_dma_result *res)
{
    struct vtd_request r = *req;
    struct vtd_stale *rep = &res->report;
    int rc_fresh = fresh_translate(io, &r, &rep->fresh);
    if (!results_differ(res->x.fault.code, &res->x, rc_fresh, &rep->fresh))
        return;
    res->stale = true;
    struct vtd_cache_key iotlb = {{0}};
    uint64_t behind_fill = UINT64_MAX;
    bool behind = stale_iotlb_key(io, use, req, &iotlb, &behind_fill);
    rep->caches = stale_caches(io, use, req, &res->x, behind);
    rep->filled_step = oldest_fill(use, rep->caches, behind_fill);
    rep->fix[0] = 0;
    rep->nfixes = 0;
    /* Software must invalidate in this order (VT-d 6.5.3): context, PASID, IOTLB, then the
     * device TLB (6.5.2.5: a device-TLB invalidation before the IOTLB's can be refilled). */
    static const enum vtd_cache_id order[] = {VTD_C_CONTEXT, VTD_C_PASID, VTD_C_PSC_SS, VTD_C_PSC_FS, VTD_C_IOTLB,
                                              VTD_C_DEVTLB};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (rep->caches & (1u << order[i])) {
            struct vtd_desc d = fix_for(io, use, order[i], req, &res->x, &iotlb);
            fix_append(rep, &d);
            if (order[i] < VTD_C_NCACHES && (use->used & (1u << order[i])))
                vtd_cache_stats_mut(io->cache[order[i]])->stale_hits++;
        }
    if (io->cfg.oracle_groups)
        iommu_oracle_cover(io, req, (rep->caches & (1u << VTD_C_IOTLB)) ? &iotlb : NULL,
                           (rep->caches & (1u << VTD_C_DEVTLB)) ? use : NULL, rep);
}

/* ---- over-invalidation: was a removed entry still correct? ---- */

static bool iotlb_entry_ok(struct vtd_iommu *io, const struct vtd_cache_entry *e)
{
    const struct iotlb_payload *p = (const struct iotlb_payload *)e->payload;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    struct vtd_request req = {.sid = p->fill_sid, .pasid_valid = p->fill_pasid_valid, .pasid = p->fill_pasid,
                              .addr = t.page << t.shift, .priv = p->fill_priv};
    struct vtd_xlate x;
    if (fresh_translate(io, &req, &x) || x.out != p->out_page || x.page_shift != t.shift || x.pe.did != t.did)
        return false;
    unsigned fs = vtd_pgtt_uses_fs(x.pe.pgtt) ? x.fs.raw_perm : VTD_PERM_ALL;
    unsigned ss = vtd_pgtt_uses_ss(x.pe.pgtt) ? x.ss.raw_perm : VTD_PERM_ALL;
    return fs == p->fs_perm && ss == p->ss_perm;
}

/* The domain, level and input address of a paging-structure entry of either stage. */
struct psc_place {
    uint16_t did;
    unsigned level;
    uint64_t addr;
};

static struct psc_place psc_place_of(enum vtd_cache_id id, const struct vtd_cache_key *key)
{
    if (id == VTD_C_PSC_FS) {
        struct psc_fs_tag t = psc_fs_tag_unpack(key);
        return (struct psc_place){t.did, t.level, t.index << vtd_pt_level_shift(t.level)};
    }
    struct psc_ss_tag t = psc_ss_tag_unpack(key);
    return (struct psc_place){t.did, t.level, t.index << vtd_pt_level_shift(t.level)};
}

/* A paging-structure entry is still right if a fresh walk reaches the same table below it. */
static bool psc_entry_ok(struct vtd_iommu *io, enum vtd_cache_id id, const struct vtd_cache_entry *e)
{
    const struct psc_payload *p = (const struct psc_payload *)e->payload;
    struct psc_place at = psc_place_of(id, &e->key);
    struct vtd_pasid_cfg pe;
    if (!fresh_pasid(io, p->fill_sid, p->fill_pasid, &pe) || pe.did != at.did)
        return false;
    struct vtd_stage_result res;
    struct vtd_fault_info f = {0};
    int rc;
    if (id == VTD_C_PSC_FS)
        rc = vtd_fs_walk(&io->oracle_env, &pe, at.addr, 0, true, VTD_REQ_TRANSLATION, &res, &f);
    else
        rc = vtd_ss_walk(&io->oracle_env, &pe, at.addr, VTD_ACC_NOCHECK, &res, &f);
    unsigned reached = rc ? f.level : res.leaf_level;
    return reached && reached <= at.level - 1 && res.table[at.level - 1] == p->next_table &&
           res.perm_above[at.level - 1] == p->perm;
}

bool iommu_entry_still_ok(struct vtd_iommu *io, enum vtd_cache_id id, const struct vtd_cache_entry *e)
{
    struct vtd_ctx ctx;
    struct vtd_pasid_cfg pe;
    switch (id) {
    case VTD_C_CONTEXT:
        return fresh_ctx(io, ctx_cache_tag_unpack(&e->key).sid, &ctx) &&
               ctx_equal(&ctx, &((const struct ctx_cache_payload *)e->payload)->ctx);
    case VTD_C_PASID: {
        struct pasid_cache_tag t = pasid_cache_tag_unpack(&e->key);
        return fresh_pasid(io, t.sid, t.pasid, &pe) &&
               pasid_cfg_equal(&pe, &((const struct pasid_cache_payload *)e->payload)->pe);
    }
    case VTD_C_IOTLB:
        return iotlb_entry_ok(io, e);
    default:
        return psc_entry_ok(io, id, e);
    }
}

bool iommu_devtlb_entry_still_ok(struct vtd_iommu *io, const struct vtd_device *dev, const struct vtd_cache_entry *e)
{
    const struct devtlb_payload *p = (const struct devtlb_payload *)e->payload;
    struct devtlb_tag t = devtlb_tag_unpack(&e->key);
    struct vtd_request req = {.sid = dev->sid, .pasid_valid = t.pasid_tag != VTD_TAG_NO_PASID,
                              .pasid = (uint32_t)t.pasid_tag, .addr = t.page << t.shift, .priv = p->priv};
    struct vtd_xlate x;
    return fresh_translate(io, &req, &x) == 0 && x.out == p->out_page && x.page_shift == t.shift && x.perm == p->perm;
}
