/*
 * ir.c: interrupt remapping around the walker's interrupt stage (VT-d chapter 5): the IRTA_REG
 * latch and the GCMD commands SIRTP, IRE and CFI, the interrupt entry cache (IEC, 6.2.6) with
 * its invalidation (6.5.2.7), and the oracle's check of an interrupt the IEC answered.
 */
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/regs.h"

/* The request in flight, reached by the IEC hook through the environment. */
struct ir_req {
    struct vtd_iommu *io;
    bool hit;
    uint64_t filled;    /* fill step of the IEC entry used */
};

/* ---- the interrupt entry cache: decoded IRTEs by interrupt index ---- */

static int cached_irte_fetch(struct vtd_walk_env *env, uint32_t index, struct vtd_irte *out, struct vtd_fault_info *f)
{
    struct ir_req *rq = env->opaque;
    struct vtd_iommu *io = rq->io;
    /* An index beyond the table faults before any cache could hold it. */
    if (index >= vtd_irta_entries(env->ir.irta))
        return vtd_irte_fetch(env, index, out, f);
    struct vtd_cache_key key = iec_key(index);
    struct vtd_cache_entry *e = vtd_cache_lookup(io->iec, &key);
    if (e) {
        rq->hit = true;
        rq->filled = e->fill_seq;
        *out = ((const struct iec_payload *)e->payload)->irte;
        return 0;
    }
    int rc = vtd_irte_fetch(env, index, out, f);
    /* Only usable entries are cached (6.2.6): a fault is found again on every request. */
    if (!rc && (e = vtd_cache_insert(io->iec, &key, io->step, NULL)))
        ((struct iec_payload *)e->payload)->irte = *out;
    return rc;
}

static const struct vtd_walk_hooks iec_hooks = {.irte_fetch = cached_irte_fetch};

int iommu_ir_init(struct vtd_iommu *io)
{
    vtd_walk_env_init(&io->ir_env, io->mem, &io->cfg.caps, 0);
    io->ir_env.hooks = &iec_hooks;
    io->iec = vtd_cache_new("iec", &io->cfg.iec, sizeof(struct iec_payload));
    return io->iec ? 0 : -1;
}

void iommu_ir_free(struct vtd_iommu *io) { vtd_cache_free(io->iec); }

void iommu_ir_reset(struct vtd_iommu *io)
{
    vtd_cache_reset(io->iec);
    io->ir_env.ir = (struct vtd_ir_cfg){0};
    io->ir_env.cnt = (struct vtd_walk_counters){0};
}

struct vtd_cache *vtd_iommu_iec(struct vtd_iommu *io) { return io->iec; }

/* ---- GCMD (11.4.4): SIRTP one-shot; IRE and CFI levels, each acknowledged in GSTS ---- */

static void gsts_set(struct vtd_iommu *io, uint32_t bit, bool on)
{
    io->regs.gsts = on ? io->regs.gsts | bit : io->regs.gsts & ~bit;
}

void iommu_ir_gcmd(struct vtd_iommu *io, uint32_t cmd)
{
    /* Without ECAP.IR the commands are reserved: nothing happens (11.4.4). */
    if (!vtd_ecap_has(&io->cfg.caps, VTD_ECAP_IR))
        return;
    /* SIRTP latches IRTA_REG; the IEC keeps what it held until software invalidates it. */
    if (cmd & VTD_GCMD_SIRTP) {
        io->ir_env.ir.irta = io->regs.irta;
        gsts_set(io, (uint32_t)VTD_GSTS_IRTPS, true);
    }
    io->ir_env.ir.enabled = cmd & VTD_GCMD_IRE;
    gsts_set(io, (uint32_t)VTD_GSTS_IRES, io->ir_env.ir.enabled);
    io->ir_env.ir.cfi = cmd & VTD_GCMD_CFI;
    gsts_set(io, (uint32_t)VTD_GSTS_CFIS, io->ir_env.ir.cfi);
}

void vtd_iommu_set_irt(struct vtd_iommu *io, uint64_t irta, bool cfi)
{
    io->regs.irta = irta;
    io->ir_env.ir = (struct vtd_ir_cfg){.irta = irta, .enabled = true, .cfi = cfi};
    gsts_set(io, (uint32_t)VTD_GSTS_IRTPS, true);
    gsts_set(io, (uint32_t)VTD_GSTS_IRES, true);
    gsts_set(io, (uint32_t)VTD_GSTS_CFIS, cfi);
}

struct vtd_ir_cfg vtd_iommu_ir(const struct vtd_iommu *io) { return io->ir_env.ir; }

/* ---- IEC invalidation (6.5.2.7): global, or 2^IM indices from IIDX with its low IM bits clear ---- */

struct iec_scope {
    uint32_t first, last;
};

static bool iec_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct iec_scope *s = arg;
    uint32_t index = iec_tag_unpack(&e->key).index;
    return index >= s->first && index <= s->last;
}

unsigned iommu_iec_invalidate(struct vtd_iommu *io, bool index_selective, uint16_t iidx, unsigned im)
{
    if (!index_selective)
        return vtd_cache_flush(io->iec);
    uint32_t span = UINT32_C(1) << (im > 16 ? 16 : im);
    struct iec_scope s = {.first = iidx & ~(span - 1)};
    s.last = s.first + span - 1;
    return vtd_cache_invalidate(io->iec, iec_in_scope, NULL, &s);
}

/* ---- one interrupt request ---- */

/* Two outcomes of an interrupt request are the same interrupt (or the same fault). */
static bool intr_differ(int rc_a, const struct vtd_intr *a, int rc_b, const struct vtd_intr *b)
{
    if (rc_a || rc_b)
        return rc_a != rc_b;
    return a->remapped != b->remapped || a->posted != b->posted || a->vector != b->vector || a->dest != b->dest ||
           a->dm != b->dm || a->rh != b->rh || a->tm != b->tm || a->dlm != b->dlm || a->urgent != b->urgent ||
           a->pda != b->pda;
}

/* The oracle: an IEC-served answer against the table in memory; the fix is the IEC descriptor
 * for that index (6.5.2.7), what software had to issue after changing the IRTE. */
static void ir_oracle_check(struct vtd_iommu *io, const struct vtd_request *req, int rc, const struct ir_req *rq,
                            struct vtd_dma_result *res)
{
    struct vtd_stale *rep = &res->report;
    const struct vtd_walk_hooks *hooks = io->ir_env.hooks;
    struct vtd_walk_counters cnt = io->ir_env.cnt;
    io->ir_env.hooks = NULL;
    int rc_fresh = vtd_translate(&io->ir_env, req, &rep->fresh);
    io->ir_env.hooks = hooks;
    io->ir_env.cnt = cnt;
    if (!intr_differ(rc, &res->x.intr, rc_fresh, &rep->fresh.intr))
        return;
    res->stale = true;
    rep->caches = 0;
    rep->filled_step = rq->filled;
    rep->ngroups = 0;
    rep->covering[0] = 0;
    rep->fixes[0] = vtd_desc_iec(true, (uint16_t)res->x.intr.index, 0);
    rep->nfixes = 1;
    vtd_qi_describe(rep->fixes[0].qw, rep->fixes[0].nqw, rep->fix, sizeof rep->fix);
    vtd_cache_stats_mut(io->iec)->stale_hits++;
}

int vtd_iommu_interrupt(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res)
{
    struct vtd_request r = *req;
    r.kind = VTD_REQ_INTERRUPT;
    r.access = VTD_ACC_W;
    struct ir_req rq = {.io = io};
    io->ir_env.opaque = &rq;
    io->ir_env.cnt.reads = 0;
    res->stale = false;
    int rc = vtd_translate(&io->ir_env, &r, &res->x);
    io->ir_env.opaque = NULL;
    res->used = 0;
    res->source = rq.hit ? VTD_SRC_IEC : VTD_SRC_WALK;
    res->reads = io->ir_env.cnt.reads;
    res->paging_reads = 0;
    if (rc) {
        iommu_record_fault(io, &r, &res->x);
        if (io->fault_listener)
            io->fault_listener(io->fault_listener_arg, &r, &res->x);
    }
    if (io->cfg.oracle && rq.hit)
        ir_oracle_check(io, &r, rc, &rq, res);
    struct vtd_iommu_stats *st = &io->stats;
    st->requests++;
    st->interrupts++;
    if (rc) {
        st->faults++;
        st->fault_count[rc & 0xff]++;
    }
    st->stale += res->stale;
    return rc;
}
