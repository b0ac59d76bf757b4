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
 * cross-checked against Linux drivers/iommu/intel/iommu.h (QI_*).
 */
#include "sim/qi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/regs.h"

/* ---- descriptor fields (VT-d 6.5.2.x; absolute bit numbers within each qword) ---- */

/* Every type: bits 3:0 and 11:9 of qw0 form the 7-bit type (6.5.2). */
#define QI_TYPE_LO VTD_GENMASK(3, 0)
#define QI_TYPE_HI VTD_GENMASK(11, 9)
#define QI_GRAN VTD_GENMASK(5, 4)        /* granularity of types 1, 2, 6, 7 */
#define QI_DID VTD_GENMASK(31, 16)       /* types 1, 2, 6, 7 */
#define QI_PASID VTD_GENMASK(51, 32)     /* types 6, 7, 8, 9 */

/* 1: context-cache invalidate (6.5.2.1) */
#define QI_CC_SID VTD_GENMASK(47, 32)
#define QI_CC_FM VTD_GENMASK(49, 48)
/* 2: IOTLB invalidate (6.5.2.3) and 6: PASID-based IOTLB invalidate (6.5.2.4) */
#define QI_IOTLB_DW VTD_BIT(6)
#define QI_IOTLB_DR VTD_BIT(7)
#define QI_AM VTD_GENMASK(5, 0)          /* qw1 */
#define QI_IH VTD_BIT(6)                 /* qw1 */
#define QI_ADDR VTD_GENMASK(63, 12)      /* qw1, also of types 3 and 8 */
/* 3: device-TLB invalidate (6.5.2.5) */
#define QI_DEVTLB_PFSID_LO VTD_GENMASK(15, 12)
#define QI_DEVTLB_QDEP VTD_GENMASK(20, 16) /* MIP: max invalidations pending */
#define QI_DEVTLB_SID VTD_GENMASK(47, 32)
#define QI_DEVTLB_PFSID_HI VTD_GENMASK(63, 52)
#define QI_DEVTLB_S VTD_BIT(0)           /* qw1 */
/* 4: interrupt entry cache invalidate (6.5.2.7) */
#define QI_IEC_G VTD_BIT(4)              /* 1: index-selective */
#define QI_IEC_IM VTD_GENMASK(31, 27)
#define QI_IEC_IIDX VTD_GENMASK(47, 32)
/* 5: invalidation wait (6.5.2.8) */
#define QI_WAIT_IF VTD_BIT(4)
#define QI_WAIT_SW VTD_BIT(5)
#define QI_WAIT_FN VTD_BIT(6)
#define QI_WAIT_PD VTD_BIT(7)            /* page-request drain: needs ECAP.PDS */
#define QI_WAIT_DATA VTD_GENMASK(63, 32)
#define QI_WAIT_ADDR VTD_GENMASK(63, 2)  /* qw1 */
/* 8: PASID-based device-TLB invalidate (6.5.2.6) */
#define QI_PDEVTLB_QDEP VTD_GENMASK(8, 4)
#define QI_PDEVTLB_PFSID_LO VTD_GENMASK(15, 12)
#define QI_PDEVTLB_SID VTD_GENMASK(31, 16)
#define QI_PDEVTLB_PFSID_HI VTD_GENMASK(63, 52)
#define QI_PDEVTLB_G VTD_BIT(0)          /* qw1: every PASID of the device */
#define QI_PDEVTLB_S VTD_BIT(11)         /* qw1 */
/* 9: page group response (7.6) */
#define QI_PGRP_PP VTD_BIT(4)
#define QI_PGRP_RC VTD_GENMASK(15, 12)
#define QI_PGRP_RID VTD_GENMASK(31, 16)
#define QI_PGRP_LPIG VTD_BIT(2)          /* qw1: reserved since 4.0, ignored (see qi_page_group) */
#define QI_PGRP_PRGI VTD_GENMASK(11, 3)  /* qw1 */

/* Granularities. */
enum { CC_GLOBAL = 1, CC_DOMAIN = 2, CC_DEVICE = 3 };
enum { IOTLB_GLOBAL = 1, IOTLB_DOMAIN = 2, IOTLB_PAGE = 3 };
enum { PIOTLB_PASID = 2, PIOTLB_PAGE = 3 };
enum { PC_DOMAIN = 0, PC_PASID = 1, PC_GLOBAL = 3 };

/* IQERCD_REG.IQEI (11.4; encodings as Intel's register documentation lists them). */
enum {
    IQEI_TAIL = 1,      /* invalid tail pointer */
    IQEI_FETCH = 2,     /* descriptor fetch error */
    IQEI_TYPE = 3,      /* invalid descriptor type */
    IQEI_RSVD = 4,      /* reserved field violation (also: reserved encodings, AM, alignment) */
    IQEI_WIDTH = 5,     /* descriptor width in IQA invalid for the descriptor */
};

#define ALL_ONES UINT64_MAX

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

/* ---- address ranges (inclusive bounds, so that "everything" fits in 64 bits) ---- */

struct qi_range {
    uint64_t first, last;
};

static const struct qi_range range_all = {0, UINT64_MAX};

static bool ranges_overlap(struct qi_range a, struct qi_range b) { return a.first <= b.last && b.first <= a.last; }

/* The region an entry of 2^shift bytes at page number `page` covers. */
static struct qi_range entry_region(uint64_t page, unsigned shift)
{
    if (shift >= 64)
        return range_all;
    uint64_t first = page << shift;
    return (struct qi_range){first, first + ((UINT64_C(1) << shift) - 1)};
}

/* Whether ADDR is aligned to the 2^AM pages an IOTLB or P_IOTLB descriptor covers. */
static bool qi_am_aligned(uint64_t addr, unsigned am)
{
    unsigned shift = VTD_PAGE_SHIFT + am;
    return shift >= 64 || (addr & ((UINT64_C(1) << shift) - 1)) == 0;
}

/* [ADDR, ADDR + 2^(12 + AM)) of a page-selective IOTLB or P_IOTLB descriptor (6.5.2.3). */
static struct qi_range qi_am_range(uint64_t addr, unsigned am)
{
    unsigned shift = VTD_PAGE_SHIFT + am;
    return shift >= 64 ? range_all : entry_region(addr >> shift, shift);
}

/*
 * The region of a device-TLB invalidation (6.5.2.5; the PCIe ATS invalidate request's encoding): S = 0 is the 4 KiB page
 * at ADDR; S = 1 encodes the size in the run of 1s starting at ADDR bit 12: n trailing ones
 * of ADDR >> 12 mean 8 KiB << n, aligned down to that size. All of bits 63:12 set (or a size
 * of 2^64) is everything.
 */
static struct qi_range devtlb_size_range(uint64_t addr, bool s)
{
    uint64_t pfn = addr >> VTD_PAGE_SHIFT;
    if (!s)
        return entry_region(pfn, VTD_PAGE_SHIFT);
    unsigned ones = (unsigned)__builtin_ctzll(~pfn); /* pfn has 52 bits: ~pfn is never 0 */
    unsigned shift = VTD_PAGE_SHIFT + 1 + ones;    /* 64 or more: everything */
    return entry_region(shift >= 64 ? 0 : addr >> shift, shift);
}

/* ---- scopes: which entries of one cache a descriptor covers ---- */

enum tag_rule {
    TAG_ANY,        /* any PASID tag or none */
    TAG_EQUAL,      /* exactly `tag` */
    TAG_ANY_PASID,  /* any PASID tag, not VTD_TAG_NO_PASID */
};

struct qi_scope {
    struct qi_op *op;
    unsigned cache;               /* enum vtd_cache_id, or VTD_C_DEVTLB */
    const struct vtd_device *dev; /* for VTD_C_DEVTLB */
    bool by_did;
    uint16_t did;
    enum tag_rule tag_rule;
    uint64_t tag;                 /* PASID (IOTLB, PSC_FS, PASID cache, device TLB) */
    bool ranged;
    struct qi_range range;
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

static bool region_in_scope(const struct qi_scope *s, struct qi_range region)
{
    return !s->ranged || ranges_overlap(region, s->range);
}

/* Context cache: key {sid}. */
static bool ctx_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    return ((uint16_t)e->key.w[0] & s->sid_mask) == (s->sid & s->sid_mask);
}

/* PASID cache: key {sid, pasid}; the DID tag is the cached entry's own DID (payload pe.did). */
static bool pasid_cache_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    const struct pasid_cache_payload *p = (const struct pasid_cache_payload *)e->payload;
    return (!s->by_did || p->pe.did == s->did) && tag_in_scope(s, e->key.w[1]);
}

/* IOTLB: key {did, pasid tag, page, shift}. */
static bool iotlb_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    return (!s->by_did || e->key.w[0] == s->did) && tag_in_scope(s, e->key.w[1]) &&
           region_in_scope(s, entry_region(e->key.w[2], (unsigned)e->key.w[3]));
}

/* First-stage paging-structure cache: key {did, pasid, level, va >> level shift}. */
static bool psc_fs_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    return (!s->by_did || e->key.w[0] == s->did) && tag_in_scope(s, e->key.w[1]) &&
           region_in_scope(s, entry_region(e->key.w[3], pt_level_shift((unsigned)e->key.w[2])));
}

/* Second-stage paging-structure cache: key {did, level, gpa >> level shift}. */
static bool psc_ss_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    return (!s->by_did || e->key.w[0] == s->did) &&
           region_in_scope(s, entry_region(e->key.w[2], pt_level_shift((unsigned)e->key.w[1])));
}

/* Device TLB: key {pasid tag, page, shift}. */
static bool devtlb_in_scope(const struct vtd_cache_entry *e, void *arg)
{
    const struct qi_scope *s = arg;
    return tag_in_scope(s, e->key.w[0]) && region_in_scope(s, entry_region(e->key.w[1], (unsigned)e->key.w[2]));
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

static void remove_all(struct qi_op *op, unsigned cache, vtd_cache_pred in_scope)
{
    struct qi_scope s = {.op = op, .cache = cache};
    scope_remove(&s, in_scope);
}

static void remove_did(struct qi_op *op, unsigned cache, vtd_cache_pred in_scope, uint16_t did)
{
    struct qi_scope s = {.op = op, .cache = cache, .by_did = true, .did = did};
    scope_remove(&s, in_scope);
}

/* ---- 1: context-cache invalidation (6.5.2.1) ---- */

/* SID bits a function mask ignores: FM 1 masks bit 2, 2 bits 2:1, 3 bits 2:0. */
static uint16_t cc_function_mask(unsigned fm) { return fm ? (uint16_t)VTD_GENMASK(2, 3 - fm) : 0; }

static int qi_context_cache(struct qi_op *op)
{
    uint64_t qw0 = op->d[0];
    unsigned g = (unsigned)vtd_field(qw0, QI_GRAN);
    struct qi_scope s = {.op = op, .cache = VTD_C_CONTEXT, .sid_mask = 0};
    switch (g) {
    case CC_GLOBAL:
    case CC_DOMAIN:
        /* Scalable-mode context entries carry no DID: a domain-selective request removes them all. */
        break;
    case CC_DEVICE:
        s.sid = (uint16_t)vtd_field(qw0, QI_CC_SID);
        s.sid_mask = (uint16_t)~cc_function_mask((unsigned)vtd_field(qw0, QI_CC_FM));
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
                   (unsigned long long)(UINT64_C(4) << am), (unsigned long long)qi_am_range(addr, am).first,
                   (unsigned long long)qi_am_range(addr, am).last);
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
static void iotlb_page(struct qi_op *op, uint16_t did, struct qi_range range, bool ih)
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
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    uint16_t did = (uint16_t)vtd_field(qw0, QI_DID);
    uint64_t addr = qw1 & QI_ADDR;
    unsigned am = (unsigned)vtd_field(qw1, QI_AM);
    int rc;
    switch (vtd_field(qw0, QI_GRAN)) {
    case IOTLB_GLOBAL:
        remove_all(op, VTD_C_IOTLB, NULL);
        remove_all(op, VTD_C_PSC_FS, NULL);
        remove_all(op, VTD_C_PSC_SS, NULL);
        return 0;
    case IOTLB_DOMAIN:
        iotlb_domain(op, did);
        return 0;
    case IOTLB_PAGE:
        if ((rc = check_am(op, addr, am, true)))
            return rc;
        /* Without CAP.PSI hardware may invalidate at a coarser granularity: the domain (6.5.2.3). */
        if (!vtd_cap_has(&op->io->cfg.caps, VTD_CAP_PSI))
            iotlb_domain(op, did);
        else
            iotlb_page(op, did, qi_am_range(addr, am), qw1 & QI_IH);
        return 0;
    default:
        return qi_fail(op, IQEI_RSVD, "granularity 0 is reserved");
    }
}

/* ---- 3 and 8: device-TLB invalidations (6.5.2.5, 6.5.2.6) ---- */

/* Remove from a device's TLB the entries the tag rule and range cover (none if no such TLB). */
static void devtlb_remove(struct qi_op *op, uint16_t sid, enum tag_rule rule, uint64_t tag, struct qi_range range)
{
    struct vtd_device *dev = iommu_device(op->io, sid);
    if (!dev || !dev->devtlb)
        return;
    /* The IOTLB must have been invalidated first, or the device can refill stale entries. */
    uint64_t end = range.last == UINT64_MAX ? UINT64_MAX : range.last + 1;
    if (rule == TAG_EQUAL)
        iommu_order_check_devtlb(op->io, sid, tag, range.first, end);
    else
        iommu_order_check_devtlb_all_pasids(op->io, sid, dev->devtlb, range.first, end);
    struct qi_scope s = {.op = op, .cache = VTD_C_DEVTLB, .dev = dev, .tag_rule = rule, .tag = tag,
                         .ranged = true, .range = range};
    scope_remove(&s, devtlb_in_scope);
}

/* Entries without PASID only: PASID-tagged translations need type 8 (6.5.2.5). */
static int qi_devtlb(struct qi_op *op)
{
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    devtlb_remove(op, (uint16_t)vtd_field(qw0, QI_DEVTLB_SID), TAG_EQUAL, VTD_TAG_NO_PASID,
                  devtlb_size_range(qw1 & QI_ADDR, qw1 & QI_DEVTLB_S));
    return 0;
}

static int qi_pasid_devtlb(struct qi_op *op)
{
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    struct qi_range range = devtlb_size_range(qw1 & QI_ADDR, qw1 & QI_PDEVTLB_S);
    uint16_t sid = (uint16_t)vtd_field(qw0, QI_PDEVTLB_SID);
    if (qw1 & QI_PDEVTLB_G)
        devtlb_remove(op, sid, TAG_ANY_PASID, 0, range);
    else
        devtlb_remove(op, sid, TAG_EQUAL, vtd_field(qw0, QI_PASID), range);
    return 0;
}

/* ---- 4: interrupt entry cache (6.5.2.7): not modelled, accepted ---- */

static int qi_iec(struct qi_op *op)
{
    (void)op;
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
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    if ((qw0 & QI_WAIT_PD) && !vtd_ecap_has(&op->io->cfg.caps, VTD_ECAP_PDS))
        return qi_fail(op, IQEI_RSVD, "PD set without ECAP.PDS");
    /* Descriptors are processed in order, so every earlier invalidation is complete now. */
    iommu_order_wait_completed(op->io);
    if (qw0 & QI_WAIT_SW) {
        uint32_t data = (uint32_t)vtd_field(qw0, QI_WAIT_DATA);
        uint8_t bytes[4] = {(uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16), (uint8_t)(data >> 24)};
        /* A status write that fails stops the queue, as in QEMU: the driver would wait forever. */
        if (vtd_mem_write(op->io->mem, qw1 & QI_WAIT_ADDR, bytes, sizeof bytes))
            return qi_fail(op, IQEI_FETCH, "status address 0x%llx is not writable",
                           (unsigned long long)(qw1 & QI_WAIT_ADDR));
    }
    if (qw0 & QI_WAIT_IF)
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
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    uint16_t did = (uint16_t)vtd_field(qw0, QI_DID);
    uint64_t pasid = vtd_field(qw0, QI_PASID), addr = qw1 & QI_ADDR;
    unsigned am = (unsigned)vtd_field(qw1, QI_AM);
    unsigned g = (unsigned)vtd_field(qw0, QI_GRAN);
    struct qi_scope s = {.op = op, .by_did = true, .did = did, .tag_rule = TAG_EQUAL, .tag = pasid};
    int rc;
    if (g != PIOTLB_PASID && g != PIOTLB_PAGE)
        return qi_fail(op, IQEI_RSVD, "granularity %u is reserved", g);
    if (g == PIOTLB_PAGE) {
        if ((rc = check_am(op, addr, am, false)))
            return rc;
        s.ranged = true;
        s.range = qi_am_range(addr, am);
    }
    s.cache = VTD_C_IOTLB;
    scope_remove(&s, iotlb_in_scope);
    if (g == PIOTLB_PAGE && (qw1 & QI_IH))
        return 0;
    s.cache = VTD_C_PSC_FS;
    scope_remove(&s, psc_fs_in_scope);
    return 0;
}

/* ---- 7: PASID-cache invalidation (6.5.2.2) ---- */

static int qi_pasid_cache(struct qi_op *op)
{
    uint64_t qw0 = op->d[0];
    struct qi_scope s = {.op = op, .cache = VTD_C_PASID, .did = (uint16_t)vtd_field(qw0, QI_DID)};
    switch (vtd_field(qw0, QI_GRAN)) {
    case PC_DOMAIN:
        s.by_did = true;
        break;
    case PC_PASID:
        s.by_did = true;
        s.tag_rule = TAG_EQUAL;
        s.tag = vtd_field(qw0, QI_PASID);
        break;
    case PC_GLOBAL:
        break;
    default:
        return qi_fail(op, IQEI_RSVD, "granularity 2 is reserved");
    }
    scope_remove(&s, pasid_cache_in_scope);
    return 0;
}

/* ---- 9: page group response (7.6) ---- */

/*
 * Hook for the page-request front end (a later issue): the response would go to the device
 * `rid` for page request group `prgi`. Nothing is cached by page requests, so nothing is removed.
 */
static void qi_page_group_response(struct vtd_iommu *io, uint16_t rid, bool pasid_present, uint32_t pasid,
                                   unsigned prgi, unsigned rc)
{
    (void)io, (void)rid, (void)pasid_present, (void)pasid, (void)prgi, (void)rc;
}

/* LPIG (qw1 bit 2) is reserved since revision 4.0 but ignored by hardware, and older Linux
 * drivers still set it: it is accepted and ignored. */
static int qi_page_group(struct qi_op *op)
{
    uint64_t qw0 = op->d[0], qw1 = op->d[1];
    qi_page_group_response(op->io, (uint16_t)vtd_field(qw0, QI_PGRP_RID), qw0 & QI_PGRP_PP,
                           (uint32_t)vtd_field(qw0, QI_PASID), (unsigned)vtd_field(qw1, QI_PGRP_PRGI),
                           (unsigned)vtd_field(qw0, QI_PGRP_RC));
    return 0;
}

/* ---- the table ---- */

/*
 * Reserved bits (QEMU's VTD_INV_DESC_*_RSVD*, except PFSID, which VT-d 3.0+ defines and Linux
 * fills for every ATS device). The type bits 11:9 are part of the type, not reserved. A 128-bit
 * type read from a 256-bit queue must have qw2 and qw3 zero.
 */
static const struct qi_type_info qi_types[] = {
    {VTD_QI_CC, "context-cache", false,
     {VTD_GENMASK(63, 50) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6), ALL_ONES, ALL_ONES, ALL_ONES}, qi_context_cache},
    {VTD_QI_IOTLB, "IOTLB", false,
     {VTD_GENMASK(63, 32) | VTD_GENMASK(15, 12) | VTD_BIT(8), VTD_GENMASK(11, 7), ALL_ONES, ALL_ONES}, qi_iotlb},
    {VTD_QI_DEVTLB, "device-TLB", false,
     {VTD_GENMASK(51, 48) | VTD_GENMASK(31, 21) | VTD_GENMASK(8, 4), VTD_GENMASK(11, 1), ALL_ONES, ALL_ONES},
     qi_devtlb},
    {VTD_QI_IEC, "IEC", false,
     {VTD_GENMASK(63, 48) | VTD_GENMASK(26, 12) | VTD_GENMASK(8, 5), ALL_ONES, ALL_ONES, ALL_ONES}, qi_iec},
    {VTD_QI_WAIT, "wait", false, {VTD_GENMASK(31, 12) | VTD_BIT(8), VTD_GENMASK(1, 0), ALL_ONES, ALL_ONES}, qi_wait},
    {VTD_QI_PIOTLB, "P_IOTLB", true,
     {VTD_GENMASK(63, 52) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6), VTD_GENMASK(11, 7), ALL_ONES, ALL_ONES},
     qi_pasid_iotlb},
    {VTD_QI_PC, "PASID-cache", true,
     {VTD_GENMASK(63, 52) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6), ALL_ONES, ALL_ONES, ALL_ONES}, qi_pasid_cache},
    {VTD_QI_PDEVTLB, "PASID-based device-TLB", true, {0, VTD_GENMASK(10, 1), ALL_ONES, ALL_ONES}, qi_pasid_devtlb},
    {VTD_QI_PGRP_RESP, "page group response", true,
     {VTD_GENMASK(63, 52) | VTD_GENMASK(8, 5), VTD_GENMASK(63, 12) | VTD_GENMASK(1, 0), ALL_ONES, ALL_ONES},
     qi_page_group},
};

static unsigned qi_desc_type(uint64_t qw0)
{
    return (unsigned)(vtd_field(qw0, QI_TYPE_HI) << 4 | vtd_field(qw0, QI_TYPE_LO));
}

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

int vtd_qi_submit(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw, struct vtd_qi_result *r)
{
    struct vtd_qi_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    struct qi_op op = {.io = io, .d = desc, .nqw = nqw, .r = r};
    if (nqw != 2 && nqw != 4)
        return qi_fail(&op, IQEI_WIDTH, "a descriptor is 2 or 4 qwords, not %u", nqw);
    unsigned type = qi_desc_type(desc[0]);
    if (!(op.t = qi_type_lookup(type)))
        return qi_fail(&op, IQEI_TYPE, "invalid descriptor type %u", type);
    if (op.t->wide_only && nqw != 4)
        return qi_fail(&op, IQEI_WIDTH, "needs a 256-bit descriptor");
    int rc = qi_check_reserved(&op);
    return rc ? rc : op.t->handle(&op);
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
void iommu_qi_drain(struct vtd_iommu *io)
{
    struct vtd_regs *g = &io->regs;
    if (g->fsts & VTD_FSTS_IQE)
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
        if (vtd_qi_submit(io, desc, nqw, &r)) {
            qi_raise_iqe(io, r.error);
            return;
        }
        head = (head + bytes) % size;
    }
    g->iqh = head;
}

/* ---- descriptions ---- */

static void describe_sid(char *buf, size_t len, uint16_t sid)
{
    snprintf(buf, len, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
}

static void describe_devtlb_range(char *buf, size_t len, struct qi_range range)
{
    if (range.first == 0 && range.last == UINT64_MAX)
        snprintf(buf, len, "everything");
    else
        snprintf(buf, len, "%llu KiB at 0x%llx", (unsigned long long)((range.last - range.first) / 1024 + 1),
                 (unsigned long long)range.first);
}

void vtd_qi_describe(const uint64_t *desc, unsigned nqw, char *buf, unsigned len)
{
    static const char *const cc_gran[] = {"reserved", "global", "domain-selective", "device-selective"};
    static const char *const iotlb_gran[] = {"reserved", "global", "domain-selective", "PSI"};
    static const char *const pc_gran[] = {"domain-selective", "PASID-selective", "reserved", "global"};
    if (!buf || !len)
        return;
    if (!desc || (nqw != 2 && nqw != 4)) {
        snprintf(buf, len, "(not a descriptor)");
        return;
    }
    uint64_t qw0 = desc[0], qw1 = desc[1];
    unsigned type = qi_desc_type(qw0), g = (unsigned)vtd_field(qw0, QI_GRAN);
    unsigned did = (unsigned)vtd_field(qw0, QI_DID), pasid = (unsigned)vtd_field(qw0, QI_PASID);
    unsigned long long addr = qw1 & QI_ADDR;
    unsigned am = (unsigned)vtd_field(qw1, QI_AM), ih = (qw1 & QI_IH) != 0;
    char sid[16], range[48];
    switch (type) {
    case VTD_QI_CC:
        describe_sid(sid, sizeof sid, (uint16_t)vtd_field(qw0, QI_CC_SID));
        if (g == CC_DEVICE)
            snprintf(buf, len, "context-cache device-selective SID %s FM %u", sid, (unsigned)vtd_field(qw0, QI_CC_FM));
        else if (g == CC_DOMAIN)
            snprintf(buf, len, "context-cache domain-selective DID %u", did);
        else
            snprintf(buf, len, "context-cache %s", cc_gran[g]);
        break;
    case VTD_QI_IOTLB:
        if (g == IOTLB_PAGE)
            snprintf(buf, len, "IOTLB PSI DID %u ADDR 0x%llx AM %u IH %u", did, addr, am, ih);
        else if (g == IOTLB_DOMAIN)
            snprintf(buf, len, "IOTLB domain-selective DID %u", did);
        else
            snprintf(buf, len, "IOTLB %s", iotlb_gran[g]);
        break;
    case VTD_QI_DEVTLB:
        describe_sid(sid, sizeof sid, (uint16_t)vtd_field(qw0, QI_DEVTLB_SID));
        describe_devtlb_range(range, sizeof range, devtlb_size_range(addr, qw1 & QI_DEVTLB_S));
        snprintf(buf, len, "device-TLB SID %s ADDR 0x%llx S %u (%s)", sid, addr, (unsigned)(qw1 & QI_DEVTLB_S), range);
        break;
    case VTD_QI_IEC:
        if (qw0 & QI_IEC_G)
            snprintf(buf, len, "IEC index-selective IIDX %u IM %u", (unsigned)vtd_field(qw0, QI_IEC_IIDX),
                     (unsigned)vtd_field(qw0, QI_IEC_IM));
        else
            snprintf(buf, len, "IEC global");
        break;
    case VTD_QI_WAIT:
        snprintf(buf, len, "wait%s%s%s%s", qw0 & QI_WAIT_IF ? " IF" : "", qw0 & QI_WAIT_FN ? " FN" : "",
                 qw0 & QI_WAIT_PD ? " PD" : "", qw0 & QI_WAIT_SW ? " SW" : "");
        if (qw0 & QI_WAIT_SW) {
            size_t used = strlen(buf);
            if (used < len)
                snprintf(buf + used, len - used, " data 0x%x to 0x%llx", (unsigned)vtd_field(qw0, QI_WAIT_DATA),
                         (unsigned long long)(qw1 & QI_WAIT_ADDR));
        }
        break;
    case VTD_QI_PIOTLB:
        if (g == PIOTLB_PAGE)
            snprintf(buf, len, "P_IOTLB PSI DID %u PASID %u ADDR 0x%llx AM %u IH %u", did, pasid, addr, am, ih);
        else if (g == PIOTLB_PASID)
            snprintf(buf, len, "P_IOTLB all-in-PASID DID %u PASID %u", did, pasid);
        else
            snprintf(buf, len, "P_IOTLB reserved granularity %u", g);
        break;
    case VTD_QI_PC:
        if (g == PC_PASID)
            snprintf(buf, len, "PASID-cache PASID-selective DID %u PASID %u", did, pasid);
        else if (g == PC_DOMAIN)
            snprintf(buf, len, "PASID-cache domain-selective DID %u", did);
        else
            snprintf(buf, len, "PASID-cache %s", pc_gran[g]);
        break;
    case VTD_QI_PDEVTLB:
        describe_sid(sid, sizeof sid, (uint16_t)vtd_field(qw0, QI_PDEVTLB_SID));
        describe_devtlb_range(range, sizeof range, devtlb_size_range(addr, qw1 & QI_PDEVTLB_S));
        if (qw1 & QI_PDEVTLB_G)
            snprintf(buf, len, "PASID-based device-TLB SID %s all PASIDs ADDR 0x%llx (%s)", sid, addr, range);
        else
            snprintf(buf, len, "PASID-based device-TLB SID %s PASID %u ADDR 0x%llx (%s)", sid, pasid, addr, range);
        break;
    case VTD_QI_PGRP_RESP:
        describe_sid(sid, sizeof sid, (uint16_t)vtd_field(qw0, QI_PGRP_RID));
        if (qw0 & QI_PGRP_PP)
            snprintf(buf, len, "page group response RID %s PASID %u PRGI %u RC %u%s", sid, pasid,
                     (unsigned)vtd_field(qw1, QI_PGRP_PRGI), (unsigned)vtd_field(qw0, QI_PGRP_RC),
                     qw1 & QI_PGRP_LPIG ? " LPIG" : "");
        else
            snprintf(buf, len, "page group response RID %s PRGI %u RC %u%s", sid,
                     (unsigned)vtd_field(qw1, QI_PGRP_PRGI), (unsigned)vtd_field(qw0, QI_PGRP_RC),
                     qw1 & QI_PGRP_LPIG ? " LPIG" : "");
        break;
    default:
        snprintf(buf, len, "unknown descriptor type %u (qw0 0x%llx)", type, (unsigned long long)qw0);
        break;
    }
}
