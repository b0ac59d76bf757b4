/*
 * qi.c: queued invalidation (VT-d 6.5.2). One table describes every descriptor type (name,
 * whether it exists only as a 256-bit descriptor, the reserved bits of each qword, the handler);
 * vtd_qi_submit() checks a descriptor against its row and runs the handler, which removes from
 * each cache exactly the entries the descriptor's scope covers. iommu_qi_drain() feeds it from
 * the invalidation queue in simulated memory (IQA/IQH/IQT).
 *
 * The scope of every descriptor, cache by cache, and the choices made where the specification
 * leaves freedom, are in docs/invalidation.md. Reserved-bit masks follow QEMU
 * hw/i386/intel_iommu_internal.h (VTD_INV_DESC_*_RSVD*) except where the specification defines
 * a field QEMU does not implement (PFSID of the device-TLB descriptors); field positions were
 * cross-checked against Linux drivers/iommu/intel/iommu.h (QI_*). The layout itself (fields,
 * reserved masks, encoders, decoders, the describer) is sim/qi_desc.h's.
 */
#include "sim/qi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/prq_internal.h"
#include "sim/regs.h"

/* IQERCD_REG.IQEI (11.4; encodings as Intel's register documentation lists them). */
enum {
    IQEI_TAIL = 1,      /* invalid tail pointer */
    IQEI_FETCH = 2,     /* descriptor fetch error */
    IQEI_TYPE = 3,      /* invalid descriptor type */
    IQEI_RSVD = 4,      /* reserved field violation (also: reserved encodings, AM, alignment) */
    IQEI_WIDTH = 5,     /* descriptor width in IQA invalid for the descriptor */
};

/* ---- one descriptor being processed ---- */

struct qi_type_info;

struct qi_op {
    struct vtd_iommu *io;
    const uint64_t *d;
    unsigned nqw;
    struct vtd_qi_result *r;
    const struct qi_type_info *t;
};

typedef int (*qi_handler)(struct qi_op *op);

struct qi_type_info {
    unsigned type;
    const char *name;
    bool wide_only;      /* exists only as a 256-bit descriptor */
    uint64_t rsvd[4];    /* reserved bits per qword; qw2/qw3 all ones for 128-bit types */
    qi_handler handle;
};

/* Record an invalid descriptor: the IQEI code in r->error, "NAME (type N): reason" in r->why. */
__attribute__((format(printf, 3, 4))) static int qi_fail(struct qi_op *op, int iqei, const char *fmt, ...)
{
    char reason[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    op->r->error = iqei;
    if (op->t)
        snprintf(op->r->why, sizeof op->r->why, "%s (type %u): %s", op->t->name, op->t->type, reason);
    else
        snprintf(op->r->why, sizeof op->r->why, "%s", reason);
    return -EINVAL;
}

/* ---- address ranges (inclusive bounds, sim/qi_desc.h) ---- */

static bool ranges_overlap(struct vtd_qi_range a, struct vtd_qi_range b) { return a.first <= b.last && b.first <= a.last; }

/* The region an entry of 2^shift bytes at page number `page` covers. */
static struct vtd_qi_range entry_region(uint64_t page, unsigned shift)
{
    if (shift >= 64)
        return (struct vtd_qi_range){0, UINT64_MAX};
    uint64_t first = page << shift;
    return (struct vtd_qi_range){first, first + ((UINT64_C(1) << shift) - 1)};
}

/* Whether ADDR is aligned to the 2^AM pages an IOTLB or P_IOTLB descriptor covers. */
static bool qi_am_aligned(uint64_t addr, unsigned am)
{
    unsigned shift = VTD_PAGE_SHIFT + am;
    return shift >= 64 || (addr & ((UINT64_C(1) << shift) - 1)) == 0;
}

/* ---- scopes: which entries of one cache a descriptor covers ---- */

enum tag_rule {
    TAG_ANY,        /* any PASID tag or none */
    TAG_EQUAL,      /* exactly `tag` */
    TAG_ANY_PASID,  /* any PASID tag, not VTD_TAG_NO_PASID */
};

struct qi_scope {
    struct qi_op *op;
    enum vtd_cache_id cache;
    const struct vtd_device *dev; /* for VTD_C_DEVTLB */
    bool by_did;
    uint16_t did;
    enum tag_rule tag_rule;
    uint64_t tag;                 /* PASID (IOTLB, PSC_FS, PASID cache, device TLB) */
    bool ranged;
    struct vtd_qi_range range;
    uint16_t sid, sid_mask;       /* context cache: (sid & mask) == (entry & mask) */
};

static bool tag_in_scope(const struct qi_scope *s, uint64_t tag)
{
    switch (s->tag_rule) {
    case TAG_EQUAL: return tag == s->tag;
    case TAG_ANY_PASID: return tag != VTD_TAG_NO_PASID;
    default: return true;
    }
}

static bool region_in_scope(const struct qi_scope *s, struct vtd_qi_range region)
{
    return !s->ranged || ranges_overlap(region, s->range);
}

/* Context cache (keys: sim/cache_keys_internal.h). A legacy entry is also tagged by its DID
 * (the payload's ctx.did), which domain- and device-selective requests must match (6.5.2.1). */
static bool ctx_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    const struct vtd_ctx *c = &((const struct ctx_cache_payload *)e->payload)->ctx;
    if (s->by_did && c->legacy && c->did != s->did)
        return false;
    return (ctx_cache_tag_unpack(&e->key).sid & s->sid_mask) == (s->sid & s->sid_mask);
}

/* PASID cache: the DID tag is the cached entry's own DID (payload pe.did). */
static bool pasid_cache_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    const struct pasid_cache_payload *p = (const struct pasid_cache_payload *)e->payload;
    return (!s->by_did || p->pe.did == s->did) && tag_in_scope(s, pasid_cache_tag_unpack(&e->key).pasid);
}

/* IOTLB. */
static bool iotlb_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    return (!s->by_did || t.did == s->did) && tag_in_scope(s, t.pasid_tag) &&
           region_in_scope(s, entry_region(t.page, t.shift));
}

/* First-stage paging-structure cache. */
static bool psc_fs_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    struct psc_fs_tag t = psc_fs_tag_unpack(&e->key);
    return (!s->by_did || t.did == s->did) && tag_in_scope(s, t.pasid) &&
           region_in_scope(s, entry_region(t.index, vtd_pt_level_shift(t.level)));
}

/* Second-stage paging-structure cache. */
static bool psc_ss_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    struct psc_ss_tag t = psc_ss_tag_unpack(&e->key);
    return (!s->by_did || t.did == s->did) && region_in_scope(s, entry_region(t.index, vtd_pt_level_shift(t.level)));
}

/* Device TLB. */
static bool devtlb_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    struct devtlb_tag t = devtlb_tag_unpack(&e->key);
    return tag_in_scope(s, t.pasid_tag) && region_in_scope(s, entry_region(t.page, t.shift));
}

/*
 * In nested translation a first-stage paging-structure entry names a guest-physical table:
 * the PASID cache, when it still holds the entry, says which kind it is.
 */
static bool psc_fs_table_is_guest_physical(struct vtd_iommu *io, const struct psc_payload *p)
{
    struct vtd_cache_key key = pasid_cache_key(p->fill_sid, p->fill_pasid);
    const struct vtd_cache_entry *pe = vtd_cache_peek(io->cache[VTD_C_PASID], &key);
    return pe && ((const struct pasid_cache_payload *)pe->payload)->pe.pgtt == VTD_PGTT_NESTED;
}

/*
 * Called for every entry about to be removed. With the oracle on, an entry that still matches
 * memory is counted as over-invalidated. A removed paging-structure entry that no longer
 * matches memory means its table was unlinked: the page may be reused only after the next
 * wait (ordering checks, 6.5.3); a table still linked is simply still in use.
 */
static bool entry_removed(const struct vtd_cache_entry *e, void *arg)
{
    struct qi_scope *s = arg;
    struct vtd_iommu *io = s->op->io;
    bool psc = s->cache == VTD_C_PSC_SS ||
               (s->cache == VTD_C_PSC_FS && !psc_fs_table_is_guest_physical(io, (const struct psc_payload *)e->payload));
    if (!io->cfg.oracle && !(psc && io->cfg.ordering_checks))
        return false;
    bool ok = s->cache == VTD_C_DEVTLB ? iommu_devtlb_entry_still_ok(io, s->dev, e)
                                       : iommu_entry_still_ok(io, (enum vtd_cache_id)s->cache, e);
    if (psc && !ok)
        iommu_order_table_released(io, ((const struct psc_payload *)e->payload)->next_table);
    if (ok && io->cfg.oracle)
        s->op->r->over[s->cache]++;
    return ok && io->cfg.oracle;
}

/* Remove the entries of the scope's cache that `in_scope` accepts. */
static void scope_remove(struct qi_scope *s, vtd_cache_pred in_scope)
{
    struct vtd_cache *c = s->cache == VTD_C_DEVTLB ? s->dev->devtlb : s->op->io->cache[s->cache];
    s->op->r->removed[s->cache] += vtd_cache_invalidate(c, in_scope, entry_removed, s);
}

static void remove_all(struct qi_op *op, enum vtd_cache_id cache, vtd_cache_pred in_scope)
{
    struct qi_scope s = {.op = op, .cache = cache};
    scope_remove(&s, in_scope);
}

static void remove_did(struct qi_op *op, enum vtd_cache_id cache, vtd_cache_pred in_scope, uint16_t did)
{
    struct qi_scope s = {.op = op, .cache = cache, .by_did = true, .did = did};
    scope_remove(&s, in_scope);
}

/* ---- 1: context-cache invalidation (6.5.2.1) ---- */

/* SID bits a function mask ignores: FM 1 masks bit 2, 2 bits 2:1, 3 bits 2:0. */
static uint16_t cc_function_mask(unsigned fm) { return fm ? (uint16_t)VTD_GENMASK(2, 3 - fm) : 0; }

static int qi_context_cache(struct qi_op *op)
{
    struct vtd_desc_cc_fields f = vtd_desc_cc_decode(op->d);
    struct qi_scope s = {.op = op, .cache = VTD_C_CONTEXT, .sid_mask = 0};
    switch (f.g) {
    case VTD_QI_CC_G_GLOBAL:
        break;
    case VTD_QI_CC_G_DOMAIN:
        /* Scalable-mode context entries carry no DID: a domain-selective request removes them all
         * (legacy ones only with the DID, ctx_in_scope). */
        s.by_did = true;
        s.did = f.did;
        break;
    case VTD_QI_CC_G_DEVICE:
        s.by_did = true;
        s.did = f.did;
        s.sid = f.sid;
        s.sid_mask = (uint16_t)~cc_function_mask(f.fm);
        break;
    default:
        return qi_fail(op, IQEI_RSVD, "granularity 0 is reserved");
    }
    scope_remove(&s, ctx_in_scope);
    return 0;
}

/* ---- 2: IOTLB invalidation (6.5.2.3) ---- */

/*
 * AM and ADDR of a page-selective request. CAP.MAMV bounds AM for IOTLB descriptors only: an
 * implementation with SMTS supports P_IOTLB page-selective requests with any AM (11.4.2).
 */
static int check_am(struct qi_op *op, uint64_t addr, unsigned am, bool mamv_applies)
{
    unsigned mamv = vtd_caps_mamv(&op->io->cfg.caps);
    if (mamv_applies && am > mamv)
        return qi_fail(op, IQEI_RSVD, "AM %u above MAMV %u", am, mamv);
    /* Hardware masks the ADDR bits below AM (6.5.2.3, as QEMU does): the block is aligned
     * down. That silently misses pages of an unaligned range, so say so. */
    if (!qi_am_aligned(addr, am))
        iommu_warn(op->io, "ADDR 0x%llx not aligned to AM %u (%llu KiB): the low bits are ignored, the "
                   "invalidation covers 0x%llx-0x%llx", (unsigned long long)addr, am,
                   (unsigned long long)(UINT64_C(4) << am), (unsigned long long)vtd_qi_am_range(addr, am).first,
                   (unsigned long long)vtd_qi_am_range(addr, am).last);
    return 0;
}

static void iotlb_domain(struct qi_op *op, uint16_t did)
{
    remove_did(op, VTD_C_IOTLB, iotlb_in_scope, did);
    remove_did(op, VTD_C_PSC_FS, psc_fs_in_scope, did);
    remove_did(op, VTD_C_PSC_SS, psc_ss_in_scope, did);
}

/*
 * Page-selective within domain, in scalable mode (6.5.2.3): second-stage-only and pass-through
 * entries (no PASID tag) of the DID in the range; every first-stage and nested entry of the DID,
 * whatever its address (their input addresses are not the second stage's); second-stage
 * paging-structure entries over the range and all first-stage ones of the DID (nested first-stage
 * tables may be reached through the changed second stage) unless IH says only leaves changed.
 */
static void iotlb_page(struct qi_op *op, uint16_t did, struct vtd_qi_range range, bool ih)
{
    struct qi_scope ss_entries = {.op = op, .cache = VTD_C_IOTLB, .by_did = true, .did = did,
                                  .tag_rule = TAG_EQUAL, .tag = VTD_TAG_NO_PASID, .ranged = true, .range = range};
    scope_remove(&ss_entries, iotlb_in_scope);
    struct qi_scope fs_entries = {.op = op, .cache = VTD_C_IOTLB, .by_did = true, .did = did,
                                  .tag_rule = TAG_ANY_PASID};
    scope_remove(&fs_entries, iotlb_in_scope);
    if (ih)
        return;
    struct qi_scope ss_psc = {.op = op, .cache = VTD_C_PSC_SS, .by_did = true, .did = did, .ranged = true,
                              .range = range};
    scope_remove(&ss_psc, psc_ss_in_scope);
    remove_did(op, VTD_C_PSC_FS, psc_fs_in_scope, did);
}

static int qi_iotlb(struct qi_op *op)
{
    struct vtd_desc_iotlb_fields f = vtd_desc_iotlb_decode(op->d);
    int rc;
    switch (f.g) {
    case VTD_QI_IOTLB_G_GLOBAL:
        remove_all(op, VTD_C_IOTLB, NULL);
        remove_all(op, VTD_C_PSC_FS, NULL);
        remove_all(op, VTD_C_PSC_SS, NULL);
        return 0;
    case VTD_QI_IOTLB_G_DOMAIN:
        iotlb_domain(op, f.did);
        return 0;
    case VTD_QI_IOTLB_G_PAGE:
        if ((rc = check_am(op, f.addr, f.am, true)))
            return rc;
        /* Without CAP.PSI hardware may invalidate at a coarser granularity: the domain (6.5.2.3). */
        if (!vtd_cap_has(&op->io->cfg.caps, VTD_CAP_PSI))
            iotlb_domain(op, f.did);
        else
            iotlb_page(op, f.did, vtd_qi_am_range(f.addr, f.am), f.ih);
        return 0;
    default:
        return qi_fail(op, IQEI_RSVD, "granularity 0 is reserved");
    }
}

/* ---- 3 and 8: device-TLB invalidations (6.5.2.5, 6.5.2.6) ---- */

/* Remove from a device's TLB the entries the tag rule and range cover (none if no such TLB). */
static void devtlb_remove(struct qi_op *op, uint16_t sid, enum tag_rule rule, uint64_t tag, struct vtd_qi_range range)
{
    struct vtd_device *dev = iommu_device(op->io, sid);
    if (!dev || !iommu_devtlb_of(op->io, dev))
        return;
    /* The IOTLB must have been invalidated first, or the device can refill stale entries
     * (checked when the request is sent, not again when its answer arrives). */
    uint64_t end = range.last == UINT64_MAX ? UINT64_MAX : range.last + 1;
    if (op->io->ats.completing)
        ;
    else if (rule == TAG_EQUAL)
        iommu_order_check_devtlb(op->io, sid, tag, range.first, end);
    else
        iommu_order_check_devtlb_all_pasids(op->io, sid, dev->devtlb, range.first, end);
    /* From the queue, a device that does not answer at once keeps its entries until it does
     * (sim/ats_inv.c). */
    if (iommu_ats_defer(op->io, dev, op->d, op->nqw))
        return;
    struct qi_scope s = {.op = op, .cache = VTD_C_DEVTLB, .dev = dev, .tag_rule = rule, .tag = tag,
                         .ranged = true, .range = range};
    scope_remove(&s, devtlb_in_scope);
}

/* Entries without PASID only: PASID-tagged translations need type 8 (6.5.2.5). */
static int qi_devtlb(struct qi_op *op)
{
    struct vtd_desc_devtlb_fields f = vtd_desc_devtlb_decode(op->d);
    devtlb_remove(op, f.sid, TAG_EQUAL, VTD_TAG_NO_PASID, vtd_devtlb_size_decode(f.addr, f.s));
    return 0;
}

static int qi_pasid_devtlb(struct qi_op *op)
{
    struct vtd_desc_p_devtlb_fields f = vtd_desc_p_devtlb_decode(op->d);
    struct vtd_qi_range range = vtd_devtlb_size_decode(f.addr, f.s);
    if (f.all_pasids)
        devtlb_remove(op, f.sid, TAG_ANY_PASID, 0, range);
    else
        devtlb_remove(op, f.sid, TAG_EQUAL, f.pasid, range);
    return 0;
}

/* ---- 4: interrupt entry cache (6.5.2.7): global, or index-selective over 2^IM indices ---- */

static int qi_iec(struct qi_op *op)
{
    struct vtd_desc_iec_fields f = vtd_desc_iec_decode(op->d);
    op->r->iec_removed += iommu_iec_invalidate(op->io, f.index_selective, f.iidx, f.im);
    return 0;
}

/* ---- 5: invalidation wait (6.5.2.8) ---- */

/* ICS.IWC: a new completion event only when IWC was clear; held in IECTL.IP while masked (6.5.2.9). */
static void wait_completion_event(struct vtd_iommu *io)
{
    if (io->regs.ics & VTD_ICS_IWC)
        return;
    io->regs.ics |= (uint32_t)VTD_ICS_IWC;
    if (io->regs.iectl & VTD_ECTL_IM)
        io->regs.iectl |= (uint32_t)VTD_ECTL_IP;
}

static int qi_wait(struct qi_op *op)
{
    struct vtd_desc_wait_fields f = vtd_desc_wait_decode(op->d);
    if (f.pd && !vtd_ecap_has(&op->io->cfg.caps, VTD_ECAP_PDS))
        return qi_fail(op, IQEI_RSVD, "PD set without ECAP.PDS");
    /* Descriptors are processed in order, so every earlier invalidation is complete now. */
    iommu_order_wait_completed(op->io);
    if (f.sw) {
        uint8_t bytes[4] = {(uint8_t)f.data, (uint8_t)(f.data >> 8), (uint8_t)(f.data >> 16), (uint8_t)(f.data >> 24)};
        /* A status write that fails stops the queue, as in QEMU: the driver would wait forever. */
        if (vtd_mem_write(op->io->mem, f.status_addr, bytes, sizeof bytes))
            return qi_fail(op, IQEI_FETCH, "status address 0x%llx is not writable",
                           (unsigned long long)f.status_addr);
    }
    if (f.iflag)
        wait_completion_event(op->io);
    return 0;
}

/* ---- 6: PASID-based IOTLB invalidation (6.5.2.4) ---- */

/*
 * Only PASID-tagged (first-stage and nested) IOTLB entries and first-stage paging-structure
 * entries: second-stage-only and pass-through entries, and the second-stage paging-structure
 * cache (tagged by DID alone), need a type-2 descriptor. CAP.PSI and CAP.MAMV do not apply.
 */
static int qi_pasid_iotlb(struct qi_op *op)
{
    struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(op->d);
    struct qi_scope s = {.op = op, .by_did = true, .did = f.did, .tag_rule = TAG_EQUAL, .tag = f.pasid};
    bool page = f.g == VTD_QI_PIOTLB_G_PAGE;
    int rc;
    if (f.g != VTD_QI_PIOTLB_G_PASID && !page)
        return qi_fail(op, IQEI_RSVD, "granularity %u is reserved", f.g);
    if (page) {
        if ((rc = check_am(op, f.addr, f.am, false)))
            return rc;
        s.ranged = true;
        s.range = vtd_qi_am_range(f.addr, f.am);
    }
    s.cache = VTD_C_IOTLB;
    scope_remove(&s, iotlb_in_scope);
    if (page && f.ih)
        return 0;
    s.cache = VTD_C_PSC_FS;
    scope_remove(&s, psc_fs_in_scope);
    return 0;
}

/* ---- 7: PASID-cache invalidation (6.5.2.2) ---- */

static int qi_pasid_cache(struct qi_op *op)
{
    struct vtd_desc_pc_fields f = vtd_desc_pc_decode(op->d);
    struct qi_scope s = {.op = op, .cache = VTD_C_PASID, .did = f.did};
    switch (f.g) {
    case VTD_QI_PC_G_DOMAIN:
        s.by_did = true;
        break;
    case VTD_QI_PC_G_PASID:
        s.by_did = true;
        s.tag_rule = TAG_EQUAL;
        s.tag = f.pasid;
        break;
    case VTD_QI_PC_G_GLOBAL:
        break;
    default:
        return qi_fail(op, IQEI_RSVD, "granularity 2 is reserved");
    }
    scope_remove(&s, pasid_cache_in_scope);
    return 0;
}

/* ---- 9: page group response (7.6) ---- */

/* LPIG (qw1 bit 2) is reserved since revision 4.0 but ignored by hardware, and older Linux
 * drivers still set it: it is accepted and ignored. */
static int qi_page_group(struct qi_op *op)
{
    struct vtd_desc_pgrp_resp_fields f = vtd_desc_pgrp_resp_decode(op->d);
    /* The response goes to device `rid`, which matches it to its group (prq.c); nothing is
     * cached by page requests, so nothing is removed. */
    iommu_pri_response(op->io, f.rid, f.prgi, f.rc);
    return 0;
}

/* ---- the table ---- */

/*
 * Reserved bits of each qword (sim/qi_desc.h: QEMU's VTD_INV_DESC_*_RSVD*, except PFSID). qw2
 * and qw3 are reserved whole: a 128-bit type read from a 256-bit queue must have them zero.
 */
#define RSVD(t) {VTD_QI_##t##_RSVD0, VTD_QI_##t##_RSVD1, VTD_QI_ALL_ONES, VTD_QI_ALL_ONES}
static const struct qi_type_info qi_types[] = {
    {VTD_QI_CC, "context-cache", false, RSVD(CC), qi_context_cache},
    {VTD_QI_IOTLB, "IOTLB", false, RSVD(IOTLB), qi_iotlb},
    {VTD_QI_DEVTLB, "device-TLB", false, RSVD(DEVTLB), qi_devtlb},
    {VTD_QI_IEC, "IEC", false, RSVD(IEC), qi_iec},
    {VTD_QI_WAIT, "wait", false, RSVD(WAIT), qi_wait},
    {VTD_QI_PIOTLB, "P_IOTLB", true, RSVD(PIOTLB), qi_pasid_iotlb},
    {VTD_QI_PC, "PASID-cache", true, RSVD(PC), qi_pasid_cache},
    {VTD_QI_PDEVTLB, "PASID-based device-TLB", true, RSVD(PDEVTLB), qi_pasid_devtlb},
    {VTD_QI_PGRP_RESP, "page group response", true, RSVD(PGRP), qi_page_group},
};

static const struct qi_type_info *qi_type_lookup(unsigned type)
{
    for (size_t i = 0; i < sizeof(qi_types) / sizeof(qi_types[0]); i++)
        if (qi_types[i].type == type)
            return &qi_types[i];
    return NULL;
}

static int qi_check_reserved(struct qi_op *op)
{
    for (unsigned i = 0; i < op->nqw; i++) {
        uint64_t bad = op->d[i] & op->t->rsvd[i];
        if (bad)
            return qi_fail(op, IQEI_RSVD, "reserved bits 0x%llx set in qw%u", (unsigned long long)bad, i);
    }
    return 0;
}

/* The checks every descriptor passes before its handler runs (type, width, reserved bits). */
static int qi_validate(struct qi_op *op)
{
    if (op->nqw != 2 && op->nqw != 4)
        return qi_fail(op, IQEI_WIDTH, "a descriptor is 2 or 4 qwords, not %u", op->nqw);
    unsigned type = vtd_desc_type(op->d[0]);
    if (!(op->t = qi_type_lookup(type)))
        return qi_fail(op, IQEI_TYPE, "invalid descriptor type %u", type);
    if (op->t->wide_only && op->nqw != 4)
        return qi_fail(op, IQEI_WIDTH, "needs a 256-bit descriptor");
    return qi_check_reserved(op);
}

static int qi_process(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw, struct vtd_qi_result *r)
{
    struct vtd_qi_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    struct qi_op op = {.io = io, .d = desc, .nqw = nqw, .r = r};
    int rc = qi_validate(&op);
    return rc ? rc : op.t->handle(&op);
}

/* Whether a wait descriptor is valid (its handler's own check included), without running it. */
static bool qi_wait_valid(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw)
{
    struct vtd_qi_result r;
    struct qi_op op = {.io = io, .d = desc, .nqw = nqw, .r = &r};
    return !qi_validate(&op) && (!vtd_desc_wait_decode(desc).pd || vtd_ecap_has(&io->cfg.caps, VTD_ECAP_PDS));
}

int vtd_qi_submit(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw, struct vtd_qi_result *r)
{
    int rc = qi_process(io, desc, nqw, r);
    if (io->qi_listener && desc)
        io->qi_listener(io->qi_listener_arg, desc, nqw > 4 ? 4 : nqw, rc);
    return rc;
}

/* An outstanding device-TLB request was answered, or a held wait may complete: the descriptor
 * takes effect now (it was checked and told to the listener when it was read). */
void iommu_qi_complete(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw)
{
    io->ats.completing = true;
    (void)qi_process(io, desc, nqw, NULL);
    io->ats.completing = false;
}

/* ---- the queue in memory (6.5.2; registers IQA, IQH, IQT, IQERCD: 11.4) ---- */

/* Halt the queue: FSTS.IQE (a fault event, regs.c) and the reason in IQERCD.IQEI. */
static void qi_raise_iqe(struct vtd_iommu *io, int iqei)
{
    io->regs.iqercd = (io->regs.iqercd & ~VTD_IQERCD_IQEI) | vtd_field_prep((uint64_t)iqei, VTD_IQERCD_IQEI);
    iommu_fault_status_set(io, (uint32_t)VTD_FSTS_IQE);
}

/* Read the descriptor at byte offset `off` of the queue. */
static int qi_fetch(struct vtd_iommu *io, uint64_t base, uint64_t off, unsigned nqw, uint64_t *desc)
{
    for (unsigned i = 0; i < nqw; i++)
        if (vtd_mem_read64(io->mem, base + off + 8 * i, &desc[i]))
            return -EFAULT;
    return 0;
}

/*
 * Process descriptors from IQH up to IQT, advancing IQH past each one processed. An invalid
 * descriptor stops the queue with IQH pointing at it and FSTS.IQE set (6.5.2.10): hardware
 * fetches again once software clears IQE. The caller (regs.c) checks that queued invalidation
 * is enabled; a queue halted by IQE is left alone here too.
 */
/*
 * Whether the descriptor at IQH must wait (sim/ats_inv.h): an invalidation wait behind
 * device-TLB requests still outstanding is fetched and held (IQH moves past it); a device-TLB
 * descriptor finds no free request slot and stays at IQH. Either way fetching stops for now.
 */
static bool qi_must_wait(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw)
{
    unsigned type = vtd_desc_type(desc[0]);
    if (type == VTD_QI_WAIT && io->ats.npend && qi_wait_valid(io, desc, nqw)) {
        io->ats.wait_held = true;
        memcpy(io->ats.wait_desc, desc, nqw * sizeof desc[0]);
        io->ats.wait_nqw = nqw;
        if (io->qi_listener)
            io->qi_listener(io->qi_listener_arg, desc, nqw, 0);
        return true;
    }
    return (type == VTD_QI_DEVTLB || type == VTD_QI_PDEVTLB) && iommu_ats_slots_full(io);
}

void iommu_qi_drain(struct vtd_iommu *io)
{
    struct vtd_regs *g = &io->regs;
    /* Halted by an error until software clears it, or waiting for the devices' answers. */
    if ((g->fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE)) || io->ats.wait_held)
        return;
    bool wide = g->iqa & VTD_IQA_DW;
    unsigned nqw = wide ? 4 : 2, bytes = 8 * nqw;
    uint64_t base = g->iqa & VTD_IQA_IQA;
    uint64_t size = VTD_PAGE_SIZE << vtd_field(g->iqa, VTD_IQA_QS);
    uint64_t tail = g->iqt & VTD_IQT_QT, head = (g->iqh & VTD_IQH_QH) % size;
    /* The tail must lie in the queue and, with 256-bit descriptors, on a 32-byte boundary. */
    if (tail >= size || (tail & (bytes - 1))) {
        qi_raise_iqe(io, IQEI_TAIL);
        return;
    }
    /* A head between two 256-bit descriptors: DW changed under a running queue. */
    if (head & (bytes - 1)) {
        qi_raise_iqe(io, IQEI_WIDTH);
        return;
    }
    while (head != tail) {
        uint64_t desc[4];
        struct vtd_qi_result r;
        g->iqh = head;
        if (qi_fetch(io, base, head, nqw, desc)) {
            qi_raise_iqe(io, IQEI_FETCH);
            return;
        }
        if (qi_must_wait(io, desc, nqw)) {
            if (io->ats.wait_held)
                g->iqh = (head + bytes) % size;
            return;
        }
        io->ats.from_queue = true;
        int rc = vtd_qi_submit(io, desc, nqw, &r);
        io->ats.from_queue = false;
        if (rc) {
            qi_raise_iqe(io, r.error);
            return;
        }
        head = (head + bytes) % size;
    }
    g->iqh = head;
}
