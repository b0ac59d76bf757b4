/*
 * run_steps.c: one handler per step kind, found through a table: each performs the operation
 * (a table edit, a raw write, a queued invalidation, a DMA, a uAPI call) and fills an outcome,
 * which run_check.c then checks against the step's expectations.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include "runner/run_internal.h"
#include "runner/uapi.h"
#include "host/container.h"
#include "sim/regs.h"
#include "walker/builder.h"
#include "walker/legacy_ctx_entry.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"

/* ---- step handlers --------------------------------------------------------------------- */

static int context_addr(struct ex *e, uint16_t sid, uint64_t *addr);

/*
 * The device's context: the one an attach step wrote, or (a device the container attached)
 * the context entry decoded from memory.
 */
static int need_attached(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    unsigned d = (unsigned)ARGV(st, A_DEVICE);
    struct vtd_ctx_entry ce;
    uint64_t addr;
    if (e->attached[d])
        return 0;
    o->err_what = "device not attached (add an attach or container_attach step first)";
    if (context_addr(e, e->s->dev[d].cfg.sid, &addr) || vtd_mem_read(vtd_iommu_mem(e->io), addr, &ce, sizeof ce) ||
        ctx_entry_decode(&ce, vtd_iommu_caps(e->io), &e->ctx[d]))
        return -ENODEV;
    return 0;
}

/* The widest second-stage table SAGAW announces (legacy pass-through must name it, VT-d 9.3). */
static unsigned widest_sagaw_levels(const struct vtd_caps *caps)
{
    unsigned levels = 5;
    while (levels > 3 && !vtd_caps_sagaw_allows(caps, levels))
        levels--;
    return levels;
}

/* A legacy context entry: TT (default: all for an ATS device when ECAP.DT allows, else
 * untranslated), the second-stage table, DID, FPD. */
static int do_attach_legacy(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    unsigned d = (unsigned)ARGV(st, A_DEVICE);
    const struct vtd_caps *caps = vtd_iommu_caps(e->io);
    const struct sc_device *dev = step_dev(e, st);
    bool ats = dev->cfg.ats && vtd_ecap_has(caps, VTD_ECAP_DT);
    struct vtd_ctx c = {.legacy = true, .fpd = ARG_OR(st, A_FPD, 0), .did = (uint16_t)ARG_OR(st, A_DID, 1),
                        .tt = (unsigned)ARG_OR(st, A_TT, ats ? VTD_LCTX_TT_ALL : VTD_LCTX_TT_UNTRANSLATED),
                        .ss_levels = widest_sagaw_levels(caps)};
    if (HAS(st, A_TABLE)) {
        const struct vtd_pt *ss = &e->pt[ARGV(st, A_TABLE)];
        c.ss_levels = ss->levels;
        c.slptptr = ss->root;
    }
    o->err_what = "attach (legacy context entry)";
    int rc = vtd_build_legacy_context(e->b, ex_rtaddr(e), dev->cfg.sid, &c);
    if (!rc) {
        e->ctx[d] = c;
        e->attached[d] = true;
    }
    return rc;
}

static int do_attach(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    if (e->s->legacy)
        return do_attach_legacy(e, st, o);
    unsigned d = (unsigned)ARGV(st, A_DEVICE);
    const struct vtd_caps *caps = vtd_iommu_caps(e->io);
    const struct sc_device *dev = step_dev(e, st);
    struct vtd_ctx c = {
        .paside = ARG_OR(st, A_PASIDE, 1), .pdts = (unsigned)ARG_OR(st, A_PDTS, 7),
        .dte = ARG_OR(st, A_DTE, dev->cfg.ats && vtd_ecap_has(caps, VTD_ECAP_DT)),
        .pre = ARG_OR(st, A_PRE, dev->cfg.pri && vtd_ecap_has(caps, VTD_ECAP_PRS)),
        .fpd = ARG_OR(st, A_FPD, 0), .rid_pasid = (uint32_t)ARG_OR(st, A_RID_PASID, 0),
        .rid_priv = ARG_OR(st, A_RID_PRIV, 0)};
    int rc = 0;
    /* Re-attaching keeps the PASID directory when its size is unchanged. */
    if (e->attached[d] && e->ctx[d].pdts == c.pdts)
        c.pdtp = e->ctx[d].pdtp;
    else
        rc = vtd_build_pasid_dir(e->b, c.pdts, &c.pdtp);
    if (!rc)
        rc = vtd_build_context(e->b, ex_rtaddr(e), dev->cfg.sid, &c);
    if (!rc) {
        e->ctx[d] = c;
        e->attached[d] = true;
    }
    o->err_what = "attach";
    return rc;
}

/* The PASID configuration a pasid_entry step describes. */
static int pasid_cfg_of(struct ex *e, const struct sc_step *st, struct vtd_pasid_cfg *cfg, struct outcome *o)
{
    unsigned pgtt = (unsigned)ARGV(st, A_PGTT);
    vtd_pasid_cfg_init(cfg, pgtt, (uint16_t)ARG_OR(st, A_DID, 1));
    int ti = HAS(st, A_TABLE) ? (int)ARGV(st, A_TABLE) : -1;
    int si = HAS(st, A_SS_TABLE) ? (int)ARGV(st, A_SS_TABLE) : -1;
    const struct sc_table *t = ti >= 0 ? &e->s->tab[ti] : NULL;
    o->err_what = "pasid_entry: tables";
    if (vtd_pgtt_uses_fs(pgtt)) {
        if (!t || !t->first_stage)
            return -EINVAL; /* 'table' must name a first-stage table */
        cfg->fs_levels = t->levels;
        cfg->fsptptr = e->pt[ti].root;
        if (pgtt == VTD_PGTT_NESTED && si < 0)
            si = t->backing;
    } else if (pgtt == VTD_PGTT_SS) {
        si = si >= 0 ? si : (t && !t->first_stage ? ti : -1);
    }
    if (vtd_pgtt_uses_ss(pgtt)) {
        const struct vtd_pt *ss = si >= 0 ? &e->pt[si] : si == SC_BACKING_CONTAINER ? sc_uapi_container_ss(e->c) : NULL;
        if (!ss)
            return -EINVAL; /* a second-stage table is needed */
        cfg->ss_levels = ss->levels;
        cfg->ssptptr = ss->root;
    }
    static const struct { enum sc_arg a; size_t off; } flags[] = {
        {A_FPD, offsetof(struct vtd_pasid_cfg, fpd)}, {A_SRE, offsetof(struct vtd_pasid_cfg, sre)},
        {A_WPE, offsetof(struct vtd_pasid_cfg, wpe)}, {A_SSEE, offsetof(struct vtd_pasid_cfg, ssee)},
        {A_SSADE, offsetof(struct vtd_pasid_cfg, ssade)}, {A_EAFE, offsetof(struct vtd_pasid_cfg, eafe)},
        {A_ERE, offsetof(struct vtd_pasid_cfg, ere)}, {A_NXE, offsetof(struct vtd_pasid_cfg, nxe)},
        {A_SMEP, offsetof(struct vtd_pasid_cfg, smep)}, {A_PWSNP, offsetof(struct vtd_pasid_cfg, pwsnp)},
        {A_PGSNP, offsetof(struct vtd_pasid_cfg, pgsnp)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (HAS(st, flags[i].a))
            *(bool *)((char *)cfg + flags[i].off) = ARGV(st, flags[i].a) != 0;
    return 0;
}

static int do_pasid_entry(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_pasid_cfg cfg;
    int rc = need_attached(e, st, o);
    if (!rc)
        rc = pasid_cfg_of(e, st, &cfg, o);
    if (rc)
        return rc;
    o->err_what = "pasid_entry";
    return vtd_build_pasid_entry(e->b, &e->ctx[ARGV(st, A_DEVICE)], (uint32_t)ARGV(st, A_PASID), &cfg);
}

static int do_pasid_clear(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    int rc = need_attached(e, st, o);
    o->err_what = "pasid_clear";
    return rc ? rc : vtd_build_pasid_clear(e->b, &e->ctx[ARGV(st, A_DEVICE)], (uint32_t)ARGV(st, A_PASID));
}

static unsigned table_perm(const struct ex *e, const struct sc_step *st)
{
    /* The second-stage format has no U/S bit: 'u' is ignored there. */
    unsigned p = (unsigned)ARGV(st, A_PERM);
    return e->s->tab[ARGV(st, A_TABLE)].first_stage ? p : (p & ~VTD_PERM_U);
}

static int do_map(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_pt *pt = &e->pt[ARGV(st, A_TABLE)];
    unsigned flags = (ARG_OR(st, A_AD, 0) ? VTD_MAP_AD : 0) | (ARG_OR(st, A_SNP, 0) ? VTD_MAP_SNP : 0);
    o->err_what = "map";
    if (HAS(st, A_PAGE))
        return vtd_pt_map(pt, ARGV(st, A_VA), ARGV(st, A_PA), ARGV(st, A_SIZE), (unsigned)ARGV(st, A_PAGE),
                          table_perm(e, st), flags);
    return vtd_pt_map_auto(pt, ARGV(st, A_VA), ARGV(st, A_PA), ARGV(st, A_SIZE), table_perm(e, st), flags);
}

static int do_unmap(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "unmap";
    return vtd_pt_unmap(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), ARGV(st, A_SIZE));
}

static int do_protect(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "protect";
    return vtd_pt_protect(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), ARGV(st, A_SIZE), table_perm(e, st));
}

/* ---- raw writes ---- */

static int edit_qword(struct ex *e, const struct sc_step *st, uint64_t addr, struct outcome *o)
{
    struct vtd_mem *m = vtd_iommu_mem(e->io);
    uint64_t v = 0;
    int rc = vtd_mem_read64(m, addr, &v);
    if (!rc) {
        uint64_t old = v;
        v = HAS(st, A_VALUE) ? ARGV(st, A_VALUE) : ((v | ARG_OR(st, A_SET, 0)) & ~ARG_OR(st, A_CLEAR, 0));
        rc = vtd_mem_write64(m, addr, v);
        o->edited = !rc;
        o->edit_addr = addr;
        o->edit_old = old;
        o->edit_new = v;
    }
    o->err_what = "memory write";
    return rc;
}

static int do_write_root(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr = vtd_root_entry_addr(ex_rtaddr(e) & VTD_RTADDR_RTA, (uint8_t)ARG_OR(st, A_BUS, 0)) + 8 * ARG_OR(st, A_HALF, 0);
    return edit_qword(e, st, addr, o);
}

/* The context entry's address, from the root entry as it is in memory now (legacy mode: the
 * low qword serves every devfn, entries are 16 bytes). */
static int context_addr(struct ex *e, uint16_t sid, uint64_t *addr)
{
    uint64_t half;
    bool split = !e->s->legacy && (sid & 0x80);
    uint64_t re = vtd_root_entry_addr(ex_rtaddr(e) & VTD_RTADDR_RTA, (uint8_t)(sid >> 8)) + (split ? 8 : 0);
    int rc = vtd_mem_read64(vtd_iommu_mem(e->io), re, &half);
    if (rc)
        return rc;
    if (!(half & VTD_ROOT_P))
        return -ENOENT;
    *addr = e->s->legacy ? vtd_lctx_entry_addr(half & VTD_ROOT_CTP, (uint8_t)sid)
                         : vtd_ctx_entry_addr(half & VTD_ROOT_CTP, (uint8_t)sid);
    return 0;
}

static int do_write_context(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr;
    if (e->s->legacy && ARG_OR(st, A_QWORD, 0) > 1) {
        o->err_what = "write_context: a legacy context entry has qwords 0 and 1";
        return -EINVAL;
    }
    int rc = context_addr(e, step_dev(e, st)->cfg.sid, &addr);
    o->err_what = "write_context: no context table for the device";
    return rc ? rc : edit_qword(e, st, addr + 8 * ARG_OR(st, A_QWORD, 0), o);
}

/*
 * The PASID-directory entry's address, found as the IOMMU finds it: root entry, context entry
 * (its PDTP, whatever else the entry holds) and directory index, all as they are in memory now.
 */
static int pdir_entry_addr(struct ex *e, const struct sc_step *st, struct outcome *o, uint64_t *addr)
{
    uint64_t ce, qw0;
    int rc = context_addr(e, step_dev(e, st)->cfg.sid, &ce);
    o->err_what = "device not attached: no context table for it (add an attach or container_attach step first)";
    if (rc)
        return rc == -ENOENT ? -ENODEV : rc;
    o->err_what = "reading the context entry";
    if ((rc = vtd_mem_read64(vtd_iommu_mem(e->io), ce, &qw0)))
        return rc;
    *addr = vtd_pasid_dir_entry_addr(qw0 & VTD_CTX_PDTP, (uint32_t)ARGV(st, A_PASID));
    return 0;
}

static int do_write_pdir(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr;
    int rc = pdir_entry_addr(e, st, o, &addr);
    return rc ? rc : edit_qword(e, st, addr, o);
}

/* The PASID entry through the directory entry in memory (its PASID table must exist). */
static int do_write_pasid(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr, de;
    int rc = pdir_entry_addr(e, st, o, &addr);
    if (rc)
        return rc;
    o->err_what = "reading the PASID-directory entry";
    if ((rc = vtd_mem_read64(vtd_iommu_mem(e->io), addr, &de)))
        return rc;
    if (!(de & VTD_PDIR_P)) {
        o->err_what = "write_pasid: the PASID has no PASID table";
        return -ENOENT;
    }
    addr = vtd_pasid_entry_addr(de & VTD_PDIR_PTP, (uint32_t)ARGV(st, A_PASID));
    return edit_qword(e, st, addr + 8 * ARG_OR(st, A_QWORD, 0), o);
}

static int do_write_pte(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t hpa;
    int rc = vtd_pt_entry_addr(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), (unsigned)ARGV(st, A_LEVEL), &hpa);
    o->err_what = "write_pte: no table at that level for that address";
    return rc ? rc : edit_qword(e, st, hpa, o);
}

static int do_write_mem(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_mem *m = vtd_iommu_mem(e->io);
    o->err_what = "write_mem";
    if (HAS(st, A_FILL))
        return vtd_mem_fill(m, ARGV(st, A_ADDR), (uint8_t)ARGV(st, A_FILL), (size_t)ARGV(st, A_SIZE));
    if (st->nbulk)
        return vtd_mem_write(m, ARGV(st, A_ADDR), st->bulk, st->nbulk);
    uint64_t v = ARGV(st, A_VALUE);
    return vtd_mem_write(m, ARGV(st, A_ADDR), &v, HAS(st, A_SIZE) && ARGV(st, A_SIZE) < 8 ? (size_t)ARGV(st, A_SIZE) : 8);
}

static int do_reg_write(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "reg_write";
    return vtd_iommu_reg_write(e->io, (unsigned)ARGV(st, A_OFFSET), (unsigned)ARG_OR(st, A_WIDTH, 4), ARGV(st, A_VALUE));
}

static int do_reg_read(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "reg_read";
    o->has_value = true;
    return vtd_iommu_reg_read(e->io, (unsigned)ARGV(st, A_OFFSET), (unsigned)ARG_OR(st, A_WIDTH, 4), &o->value);
}

/* ---- queued invalidation descriptors by fields ---- */

/* G field of each (type, symbolic granularity) pair (VT-d 6.5.2). */
static const struct { unsigned type, gran, g; } gran_table[] = {
    {1, SC_GRAN_GLOBAL, 1}, {1, SC_GRAN_DOMAIN, 2}, {1, SC_GRAN_DEVICE, 3},
    {2, SC_GRAN_GLOBAL, 1}, {2, SC_GRAN_DOMAIN, 2}, {2, SC_GRAN_PAGE, 3},
    {6, SC_GRAN_PASID, 2}, {6, SC_GRAN_PAGE, 3},
    {7, SC_GRAN_DOMAIN, 0}, {7, SC_GRAN_PASID, 1}, {7, SC_GRAN_GLOBAL, 3},
    {4, SC_GRAN_GLOBAL, 0}, {4, SC_GRAN_INDEX, 1},
};

static int qi_gran(const struct sc_step *st, unsigned type, uint64_t *g)
{
    uint64_t v = ARG_OR(st, A_GRAN, 0);
    if (v < SC_GRAN_GLOBAL) {
        *g = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof gran_table / sizeof gran_table[0]; i++)
        if (gran_table[i].type == type && gran_table[i].gran == v) {
            *g = gran_table[i].g;
            return 0;
        }
    return -EINVAL;
}

static uint64_t qi_sid(const struct ex *e, const struct sc_step *st)
{
    return HAS(st, A_DEVICE) ? e->s->dev[ARGV(st, A_DEVICE)].cfg.sid : ARG_OR(st, A_SID, 0);
}

/* AM from 'am' or from a power-of-two 'size'. */
static uint64_t qi_am(const struct sc_step *st)
{
    if (HAS(st, A_SIZE))
        return ARGV(st, A_SIZE) <= 0x1000 ? 0 : (uint64_t)__builtin_ctzll(ARGV(st, A_SIZE)) - 12;
    return ARG_OR(st, A_AM, 0);
}

/* Device-TLB ADDR and S for 'addr' and 'size' (VT-d 6.5.2.5), a size not a power of two
 * rounded up; 's' overrides the S bit the size implies. */
static struct vtd_devtlb_size devtlb_size(const struct sc_step *st)
{
    uint64_t size = ARG_OR(st, A_SIZE, 0x1000);
    unsigned order = size <= 0x1000 ? 0 : 64 - (unsigned)__builtin_clzll(size - 1) - VTD_PAGE_SHIFT;
    struct vtd_devtlb_size ds = vtd_devtlb_size_encode(ARG_OR(st, A_ADDR, 0), order);
    ds.s = ARG_OR(st, A_S, ds.s);
    return ds;
}

static uint64_t pasid_field(const struct sc_step *st)
{
    return HAS(st, A_PASID) && ARGV(st, A_PASID) != UINT64_MAX ? ARGV(st, A_PASID) : 0;
}

/* The descriptor a qi step's fields describe, by sim/qi_desc.h's encoders. */
static struct vtd_desc qi_encode(const struct ex *e, const struct sc_step *st, unsigned type, uint64_t g)
{
    uint16_t did = (uint16_t)ARG_OR(st, A_DID, 0), sid = (uint16_t)qi_sid(e, st);
    uint16_t pfsid = (uint16_t)ARG_OR(st, A_PFSID, 0);
    uint64_t addr = ARG_OR(st, A_ADDR, 0);
    uint32_t pasid = (uint32_t)pasid_field(st);
    unsigned am = (unsigned)qi_am(st), qdep = (unsigned)ARG_OR(st, A_QDEP, 0);
    bool ih = ARG_OR(st, A_IH, 0);
    switch (type) {
    case VTD_QI_CC: return vtd_desc_cc((unsigned)g, did, sid, (unsigned)ARG_OR(st, A_FM, 0));
    case VTD_QI_IOTLB:
        return vtd_desc_iotlb((unsigned)g, did, addr, am, ih, ARG_OR(st, A_DR, 0), ARG_OR(st, A_DW, 0));
    case VTD_QI_DEVTLB: return vtd_desc_devtlb(sid, pfsid, qdep, devtlb_size(st));
    case VTD_QI_WAIT:
        return vtd_desc_wait((ARG_OR(st, A_IF, 0) ? VTD_QI_WAIT_IF : 0) | (ARG_OR(st, A_SW, 0) ? VTD_QI_WAIT_SW : 0) |
                                 (ARG_OR(st, A_FN, 0) ? VTD_QI_WAIT_FN : 0) | (ARG_OR(st, A_PD, 0) ? VTD_QI_WAIT_PD : 0),
                             (uint32_t)ARG_OR(st, A_STATUS_DATA, 0), ARG_OR(st, A_STATUS_ADDR, 0));
    case VTD_QI_PIOTLB: return vtd_desc_p_iotlb((unsigned)g, did, pasid, addr, am, ih);
    case VTD_QI_PC: return vtd_desc_pc((unsigned)g, did, pasid);
    case VTD_QI_PDEVTLB: return vtd_desc_p_devtlb(sid, pfsid, qdep, pasid, ARG_OR(st, A_G, 0), devtlb_size(st));
    case VTD_QI_PGRP_RESP:
        return vtd_desc_pgrp_resp(sid, ARG_OR(st, A_PP, HAS(st, A_PASID)), pasid, (unsigned)ARG_OR(st, A_PRGI, 0),
                                  (unsigned)ARG_OR(st, A_RC, 0));
    case VTD_QI_IEC: /* index-selective when the granularity says so or an index is given */
        return vtd_desc_iec(HAS(st, A_GRAN) ? g == 1 : HAS(st, A_INDEX), (uint16_t)ARG_OR(st, A_INDEX, 0),
                            (unsigned)ARG_OR(st, A_IM, 0));
    default: return vtd_desc_bare(type);                /* a type the IOMMU is to refuse */
    }
}

int ex_qi_desc(const struct ex *e, const struct sc_step *st, uint64_t q[SC_MAX_RAW], unsigned *nqw)
{
    uint64_t g = 0;
    memset(q, 0, SC_MAX_RAW * sizeof q[0]);
    if (st->nraw) {
        memcpy(q, st->raw, sizeof st->raw);
        *nqw = st->nraw;
        return 0;
    }
    unsigned type = (unsigned)ARGV(st, A_TYPE);
    if (qi_gran(st, type, &g))
        return -EINVAL;
    struct vtd_desc d = qi_encode(e, st, type, g);
    memcpy(q, d.qw, sizeof d.qw);
    /* PASID-based descriptors exist only in the 256-bit format (VT-d 6.5.2). */
    *nqw = (unsigned)ARG_OR(st, A_WIDTH, type >= VTD_QI_PIOTLB && type <= VTD_QI_PGRP_RESP ? 256 : 128) / 64;
    return 0;
}

static int do_qi(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t q[SC_MAX_RAW];
    unsigned nqw;
    o->is_qi = true;
    o->err_what = "qi";
    if (ex_qi_desc(e, st, q, &nqw)) {
        o->err_what = "qi: that granularity does not exist for this descriptor type";
        return -EINVAL;
    }
    o->qi = (struct vtd_qi_result){0};
    return vtd_qi_submit(e->io, q, nqw, &o->qi);
}

/* ---- DMA, repeats, uAPI calls; the table of handlers; running steps ---- */

/* A 4 GiB range is a million requests: the clock is read at every 4096th page of a step (the
 * page index's low 12 bits all ones), wherever the range starts. */
#define DMA_CLOCK_PAGES 4096u
static uint64_t dma_clock_page(uint64_t first) { return first + (uint64_t)(DMA_CLOCK_PAGES - 1) * VTD_PAGE_SIZE; }

/* At the clock's page, the next one is set and the step's time looked at: true when it is up. */
static bool dma_out_of_time(struct ex *e, const struct sc_step *st, uint64_t page, uint64_t *clock_at)
{
    if (page != *clock_at)
        return false;
    *clock_at += (uint64_t)DMA_CLOCK_PAGES * VTD_PAGE_SIZE;
    return ex_out_of_time(e, st);
}

/*
 * The pages of a dma step without expectations and with nothing for the dirty-page notes: no
 * trace, no checks and nothing to do between pages, so the IOMMU answers them in runs
 * (vtd_iommu_dma_pages) that end where the clock is to be read. The IOMMU's trace is left as it
 * is (off: a checked step turns it off after each request), which keeps its fast paths armed
 * across requests.
 */
static void dma_pages(struct ex *e, const struct sc_step *st, struct outcome *o, uint64_t first, uint64_t last)
{
    uint64_t addr = o->req.addr, clock_at = dma_clock_page(first), pages = ((last - first) >> VTD_PAGE_SHIFT) + 1;
    for (uint64_t page = first; pages;) {
        if (dma_out_of_time(e, st, page, &clock_at))
            break;
        /* Up to the clock's next page, which is checked before its request. */
        uint64_t run = (clock_at - page) >> VTD_PAGE_SHIFT;
        if (run > pages)
            run = pages;
        o->req.addr = page == first ? addr : page;
        o->fault = vtd_iommu_dma_pages(e->io, &o->req, run, &o->res);
        e->r->requests += (unsigned)run;
        pages -= run;
        page += (run - 1) * VTD_PAGE_SIZE;
        o->req.addr = page == first ? addr : page; /* the last request's, as the per-page loop leaves it */
        page += VTD_PAGE_SIZE;
    }
}

/* The pages of a dma step one request at a time: for the dirty-page notes after each and, in a
 * step with expectations, each request traced and checked. */
static void dma_pages_each(struct ex *e, const struct sc_step *st, struct outcome *o, uint64_t first, uint64_t last)
{
    uint64_t addr = o->req.addr, clock_at = dma_clock_page(first);
    for (uint64_t page = first;; page += VTD_PAGE_SIZE) {
        if (dma_out_of_time(e, st, page, &clock_at))
            break;
        o->req.addr = page == first ? addr : page;
        if (st->has_expect) {
            e->trace.n = e->trace.dropped = 0;
            vtd_iommu_set_trace(e->io, &e->trace);
        }
        o->fault = vtd_iommu_dma(e->io, &o->req, &o->res);
        if (st->has_expect)
            vtd_iommu_set_trace(e->io, NULL);
        ex_dirty_note_dma(e, o);
        e->r->requests++;
        if (st->has_expect)
            ex_check_dma(e, st, o, o->req.addr - addr);
        if (page == last)
            break;
    }
}

static int do_dma(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    const struct sc_device *dev = step_dev(e, st);
    uint64_t pasid = ARG_OR(st, A_PASID, UINT64_MAX), addr = ARGV(st, A_ADDR), size = ARG_OR(st, A_SIZE, 1);
    o->is_dma = true;
    o->req = (struct vtd_request){.sid = dev->cfg.sid, .pasid_valid = pasid != UINT64_MAX,
                                  .pasid = pasid != UINT64_MAX ? (uint32_t)pasid : 0, .addr = addr,
                                  .access = (unsigned)ARGV(st, A_ACCESS), .priv = ARG_OR(st, A_PRIV, 0),
                                  .kind = (enum vtd_req_kind)ARG_OR(st, A_ATS, VTD_REQ_UNTRANSLATED)};
    /* One request per 4 KiB page the range touches. */
    uint64_t first = addr & VTD_PAGE_MASK, last = (addr + size - 1) & VTD_PAGE_MASK;
    if (st->has_expect || ex_dirty_may_note(e, &o->req))
        dma_pages_each(e, st, o, first, last);
    else
        dma_pages(e, st, o, first, last);
    return 0;
}

static int do_nothing(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)e, (void)st, (void)o;
    return 0;
}

static int do_repeat(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)o;
    for (uint64_t i = 0; i < ARGV(st, A_COUNT) && !e->stop; i++)
        ex_run_steps(e, st->sub, st->nsub, false);
    return 0;
}

/* uAPI steps (runner/uapi.c): the ioctl's return value is the step's value. */
static int do_uapi(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    long long ret = 0;
    o->err_what = sc_kind_name(st->kind);
    if (!e->c) {
        o->err_what = "uAPI step without a `container:` section";
        return -ENODEV;
    }
    const struct vtd_pt *gpt = HAS(st, A_TABLE) ? &e->pt[ARGV(st, A_TABLE)] : NULL;
    uint16_t sid = HAS(st, A_DEVICE) ? e->s->dev[ARGV(st, A_DEVICE)].cfg.sid : 0;
    uint64_t pinned = st->kind == SK_MAP_DMA ? vtd_container_pinned_pages(e->c) : 0;
    int rc = sc_uapi_step(e->c, st, gpt, sid, &ret);
    /* MAP_DMA's -ENOMEM past the pin limit is the kernel's answer, not a lack of memory. */
    if (rc == -ENOMEM && st->kind == SK_MAP_DMA && (ARGV(st, A_SIZE) >> 12) > VTD_CONTAINER_PIN_LIMIT_PAGES - pinned) {
        o->err_what = "map_dma (the container would pin more than its limit of 2^20 pages, 4 GiB, as "
                      "RLIMIT_MEMLOCK bounds vfio_pin_pages_remote)";
        o->enomem_is_limit = true;
    }
    if (st->kind == SK_UNBIND || st->kind == SK_CACHE_INVALIDATE) {
        o->has_layer_err = true;
        o->layer_err = sc_uapi_layer_error(e->c);
    }
    if (st->kind == SK_HWPT_INVALIDATE) {
        o->has_entry_num = true;
        o->entry_num = (uint64_t)ret;
    }
    if (!rc) {
        o->has_value = true;
        o->value = (uint64_t)ret;
    }
    return rc;
}

typedef int (*step_fn)(struct ex *e, const struct sc_step *st, struct outcome *o);
static const step_fn step_handlers[] = {
    [SK_ATTACH] = do_attach, [SK_PASID_ENTRY] = do_pasid_entry, [SK_PASID_CLEAR] = do_pasid_clear,
    [SK_MAP] = do_map, [SK_UNMAP] = do_unmap, [SK_PROTECT] = do_protect, [SK_DMA] = do_dma, [SK_QI] = do_qi,
    [SK_WRITE_ROOT] = do_write_root, [SK_WRITE_CONTEXT] = do_write_context, [SK_WRITE_PDIR] = do_write_pdir,
    [SK_WRITE_PASID] = do_write_pasid, [SK_WRITE_PTE] = do_write_pte, [SK_WRITE_MEM] = do_write_mem,
    [SK_REG_WRITE] = do_reg_write, [SK_REG_READ] = do_reg_read, [SK_CHECK] = do_nothing, [SK_REPEAT] = do_repeat,
    [SK_IRT] = ex_do_irt, [SK_IRTE] = ex_do_irte, [SK_INTERRUPT] = ex_do_interrupt,
    [SK_CPU_CACHE] = ex_do_cpu_cache, [SK_CLFLUSH] = ex_do_clflush, [SK_WBINVD] = ex_do_wbinvd,
    [SK_ATS_REPLY] = ex_do_ats_reply, [SK_ELAPSE] = ex_do_elapse, [SK_UNPLUG] = ex_do_unplug,
    [SK_QI_QUEUE] = ex_do_qi_queue,
    [SK_CONTAINER_ATTACH] = do_uapi, [SK_GET_INFO] = do_uapi, [SK_MAP_DMA] = do_uapi, [SK_UNMAP_DMA] = do_uapi,
    [SK_PASID_REQUEST] = do_uapi, [SK_BIND] = do_uapi, [SK_UNBIND] = do_uapi, [SK_CACHE_INVALIDATE] = do_uapi,
    [SK_PAGE_RESPONSE] = do_uapi, [SK_HWPT_ALLOC] = do_uapi, [SK_HWPT_INVALIDATE] = do_uapi,
    [SK_PAGE_REQUEST] = ex_do_page_request, [SK_PRI_RESET] = ex_do_pri_reset,
    [SK_DIRTY_PAGES] = ex_dirty_step, [SK_HWPT_SET_DIRTY] = ex_dirty_step, [SK_HWPT_GET_DIRTY] = ex_dirty_step,
};

static void run_step(struct ex *e, const struct sc_step *st)
{
    struct outcome o = {.warnings_before = vtd_iommu_warning_count(e->io)};
    uint64_t enomem_before = ex_model_enomem(e);
    e->mem_refused_before = vtd_mem_enomem_count(vtd_iommu_mem(e->io));
    if (ex_out_of_time(e, st) || !ex_charge(e, st, sc_step_work(e->s, st))) {
        ex_step_done(e, st);
        return;
    }
    o.err = ex_table_ready(e, st, A_TABLE, &o.err_what);
    if (!o.err)
        o.err = ex_table_ready(e, st, A_SS_TABLE, &o.err_what);
    ex_issued_begin(e, st);
    ex_audit_begin(e, st);
    if (!o.err)
        o.err = step_handlers[st->kind](e, st, &o);
    ex_issued_end(e, st);
    ex_audit_step(e, st, &o);
    /* Remembered for sc_run_until: a step that could not execute, as opposed to a missed check. */
    if (o.err && !st->expect.given[E_ERRNO] && !e->bad_step)
        e->bad_step = e->step_no;
    if (st->kind != SK_REPEAT)
        ex_check_step(e, st, &o);
    /* A repeat's steps report for themselves; an expected ENOMEM is an answer, not a failure. */
    bool enomem_expected = st->has_expect && st->expect.given[E_ERRNO] && st->expect.v[E_ERRNO] == ENOMEM;
    bool enomem_step = o.err == -ENOMEM && !enomem_expected && !o.enomem_is_limit;
    if (st->kind != SK_REPEAT && (enomem_step || ex_model_enomem(e) != enomem_before))
        ex_report_enomem(e, st);
    ex_step_done(e, st);
}

void ex_run_steps(struct ex *e, const struct sc_step *steps, unsigned n, bool top)
{
    for (unsigned i = 0; i < n && !e->stop; i++) {
        if (top) {
            e->step_no = i + 1;
            e->r->steps++;
        }
        vtd_iommu_set_step(e->io, e->step_no);
        run_step(e, &steps[i]);
    }
}

