/*
 * qi_desc.c: the queued-invalidation descriptor codec (VT-d 6.5.2): one encoder and one decoder
 * per descriptor type, the device-TLB size and AM ranges, and the describer. Field positions
 * are the masks of sim/qi_desc.h (cross-checked against QEMU's VTD_INV_DESC_* and Linux's QI_*).
 */
#include "sim/qi_desc.h"

#include <stdio.h>
#include <string.h>

#include "walker/bdf.h"

struct vtd_desc vtd_desc_bare(unsigned type)
{
    /* Types 6 and above exist only as 256-bit descriptors (6.5.2). */
    struct vtd_desc d = {.nqw = type >= VTD_QI_PIOTLB ? 4 : 2};
    d.qw[0] = vtd_field_prep(type, VTD_QI_TYPE_LO) | vtd_field_prep(type >> 4, VTD_QI_TYPE_HI);
    return d;
}

/* ---- ranges ---- */

static const struct vtd_qi_range range_all = {0, UINT64_MAX};

/* The 2^shift bytes at page number `page` (shift 64 or more: everything). */
static struct vtd_qi_range region(uint64_t page, unsigned shift)
{
    if (shift >= 64)
        return range_all;
    uint64_t first = page << shift;
    return (struct vtd_qi_range){first, first + ((UINT64_C(1) << shift) - 1)};
}

struct vtd_qi_range vtd_qi_am_range(uint64_t addr, unsigned am)
{
    unsigned shift = VTD_PAGE_SHIFT + am;
    return shift >= 64 ? range_all : region(addr >> shift, shift);
}

unsigned vtd_qi_am_covering(uint64_t first, uint64_t last)
{
    unsigned am = 0;
    while (am < VTD_QI_AM_EVERYTHING && (first >> (VTD_PAGE_SHIFT + am)) != (last >> (VTD_PAGE_SHIFT + am)))
        am++;
    return am;
}

/* Order n > 0 is 8 KiB << (n - 1): n - 1 ones from bit 12, a zero above them, the block's
 * address above that. Order 52 sets all of bits 62:12, which decodes as everything. */
struct vtd_devtlb_size vtd_devtlb_size_encode(uint64_t addr, unsigned order)
{
    if (order == 0)
        return (struct vtd_devtlb_size){addr & VTD_QI_ADDR, false};
    if (order > 52)
        order = 52;
    unsigned shift = VTD_PAGE_SHIFT + order;
    uint64_t base = shift >= 64 ? 0 : (addr >> shift) << shift;
    return (struct vtd_devtlb_size){base | (((UINT64_C(1) << (order - 1)) - 1) << VTD_PAGE_SHIFT), true};
}

struct vtd_qi_range vtd_devtlb_size_decode(uint64_t addr, bool s)
{
    uint64_t pfn = addr >> VTD_PAGE_SHIFT;
    if (!s)
        return region(pfn, VTD_PAGE_SHIFT);
    unsigned ones = (unsigned)__builtin_ctzll(~pfn); /* pfn has 52 bits: ~pfn is never 0 */
    unsigned shift = VTD_PAGE_SHIFT + 1 + ones;    /* 64 or more: everything */
    return region(shift >= 64 ? 0 : addr >> shift, shift);
}

/* PFSID is split: bits 3:0 in qw0 15:12, bits 15:4 in qw0 63:52 (6.5.2.5, 6.5.2.6). */
static uint64_t pfsid_prep(uint16_t pfsid, uint64_t lo_mask, uint64_t hi_mask)
{
    return vtd_field_prep(pfsid & 0xf, lo_mask) | vtd_field_prep((uint64_t)pfsid >> 4, hi_mask);
}

static uint16_t pfsid_of(uint64_t qw0, uint64_t lo_mask, uint64_t hi_mask)
{
    return (uint16_t)(vtd_field(qw0, lo_mask) | vtd_field(qw0, hi_mask) << 4);
}

/* ---- 1: context-cache invalidation (6.5.2.1) ---- */

struct vtd_desc vtd_desc_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_CC);
    d.qw[0] |= vtd_field_prep(g, VTD_QI_GRAN) | vtd_field_prep(did, VTD_QI_DID) | vtd_field_prep(sid, VTD_QI_CC_SID) |
               vtd_field_prep(fm, VTD_QI_CC_FM);
    return d;
}

struct vtd_desc_cc_fields vtd_desc_cc_decode(const uint64_t *qw)
{
    return (struct vtd_desc_cc_fields){
        .g = (unsigned)vtd_field(qw[0], VTD_QI_GRAN), .fm = (unsigned)vtd_field(qw[0], VTD_QI_CC_FM),
        .did = (uint16_t)vtd_field(qw[0], VTD_QI_DID), .sid = (uint16_t)vtd_field(qw[0], VTD_QI_CC_SID)};
}

/* ---- 2: IOTLB invalidation (6.5.2.3) ---- */

struct vtd_desc vtd_desc_iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih, bool dr, bool dw)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_IOTLB);
    d.qw[0] |= vtd_field_prep(g, VTD_QI_GRAN) | (dw ? VTD_QI_IOTLB_DW : 0) | (dr ? VTD_QI_IOTLB_DR : 0) |
               vtd_field_prep(did, VTD_QI_DID);
    d.qw[1] = vtd_field_prep(am, VTD_QI_AM) | (ih ? VTD_QI_IH : 0) | (addr & VTD_QI_ADDR);
    return d;
}

struct vtd_desc_iotlb_fields vtd_desc_iotlb_decode(const uint64_t *qw)
{
    return (struct vtd_desc_iotlb_fields){
        .g = (unsigned)vtd_field(qw[0], VTD_QI_GRAN), .am = (unsigned)vtd_field(qw[1], VTD_QI_AM),
        .did = (uint16_t)vtd_field(qw[0], VTD_QI_DID), .dr = qw[0] & VTD_QI_IOTLB_DR, .dw = qw[0] & VTD_QI_IOTLB_DW,
        .ih = qw[1] & VTD_QI_IH, .addr = qw[1] & VTD_QI_ADDR};
}

/* ---- 3: device-TLB invalidation (6.5.2.5) ---- */

struct vtd_desc vtd_desc_devtlb(uint16_t sid, uint16_t pfsid, unsigned qdep, struct vtd_devtlb_size size)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_DEVTLB);
    d.qw[0] |= pfsid_prep(pfsid, VTD_QI_DEVTLB_PFSID_LO, VTD_QI_DEVTLB_PFSID_HI) |
               vtd_field_prep(qdep, VTD_QI_DEVTLB_QDEP) | vtd_field_prep(sid, VTD_QI_DEVTLB_SID);
    d.qw[1] = (size.addr & VTD_QI_ADDR) | (size.s ? VTD_QI_DEVTLB_S : 0);
    return d;
}

struct vtd_desc_devtlb_fields vtd_desc_devtlb_decode(const uint64_t *qw)
{
    return (struct vtd_desc_devtlb_fields){
        .sid = (uint16_t)vtd_field(qw[0], VTD_QI_DEVTLB_SID),
        .pfsid = pfsid_of(qw[0], VTD_QI_DEVTLB_PFSID_LO, VTD_QI_DEVTLB_PFSID_HI),
        .qdep = (unsigned)vtd_field(qw[0], VTD_QI_DEVTLB_QDEP), .addr = qw[1] & VTD_QI_ADDR,
        .s = qw[1] & VTD_QI_DEVTLB_S};
}

/* ---- 4: interrupt entry cache invalidation (6.5.2.7) ---- */

struct vtd_desc vtd_desc_iec(bool index_selective, uint16_t iidx, unsigned im)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_IEC);
    d.qw[0] |= (index_selective ? VTD_QI_IEC_G : 0) | vtd_field_prep(im, VTD_QI_IEC_IM) |
               vtd_field_prep(iidx, VTD_QI_IEC_IIDX);
    return d;
}

struct vtd_desc_iec_fields vtd_desc_iec_decode(const uint64_t *qw)
{
    return (struct vtd_desc_iec_fields){.index_selective = qw[0] & VTD_QI_IEC_G,
                                        .im = (unsigned)vtd_field(qw[0], VTD_QI_IEC_IM),
                                        .iidx = (uint16_t)vtd_field(qw[0], VTD_QI_IEC_IIDX)};
}

/* ---- 5: invalidation wait (6.5.2.8) ---- */

struct vtd_desc vtd_desc_wait(uint64_t flags, uint32_t data, uint64_t status_addr)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_WAIT);
    d.qw[0] |= (flags & (VTD_QI_WAIT_IF | VTD_QI_WAIT_SW | VTD_QI_WAIT_FN | VTD_QI_WAIT_PD)) |
               vtd_field_prep(data, VTD_QI_WAIT_DATA);
    d.qw[1] = status_addr & VTD_QI_WAIT_ADDR;
    return d;
}

struct vtd_desc_wait_fields vtd_desc_wait_decode(const uint64_t *qw)
{
    return (struct vtd_desc_wait_fields){
        .iflag = qw[0] & VTD_QI_WAIT_IF, .sw = qw[0] & VTD_QI_WAIT_SW, .fn = qw[0] & VTD_QI_WAIT_FN,
        .pd = qw[0] & VTD_QI_WAIT_PD, .data = (uint32_t)vtd_field(qw[0], VTD_QI_WAIT_DATA),
        .status_addr = qw[1] & VTD_QI_WAIT_ADDR};
}

/* ---- 6: PASID-based IOTLB invalidation (6.5.2.4) ---- */

struct vtd_desc vtd_desc_p_iotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_PIOTLB);
    d.qw[0] |= vtd_field_prep(g, VTD_QI_GRAN) | vtd_field_prep(did, VTD_QI_DID) | vtd_field_prep(pasid, VTD_QI_PASID);
    d.qw[1] = vtd_field_prep(am, VTD_QI_AM) | (ih ? VTD_QI_IH : 0) | (addr & VTD_QI_ADDR);
    return d;
}

struct vtd_desc_p_iotlb_fields vtd_desc_p_iotlb_decode(const uint64_t *qw)
{
    return (struct vtd_desc_p_iotlb_fields){
        .g = (unsigned)vtd_field(qw[0], VTD_QI_GRAN), .am = (unsigned)vtd_field(qw[1], VTD_QI_AM),
        .did = (uint16_t)vtd_field(qw[0], VTD_QI_DID), .pasid = (uint32_t)vtd_field(qw[0], VTD_QI_PASID),
        .addr = qw[1] & VTD_QI_ADDR, .ih = qw[1] & VTD_QI_IH};
}

/* ---- 7: PASID-cache invalidation (6.5.2.2) ---- */

struct vtd_desc vtd_desc_pc(unsigned g, uint16_t did, uint32_t pasid)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_PC);
    d.qw[0] |= vtd_field_prep(g, VTD_QI_GRAN) | vtd_field_prep(did, VTD_QI_DID) | vtd_field_prep(pasid, VTD_QI_PASID);
    return d;
}

struct vtd_desc_pc_fields vtd_desc_pc_decode(const uint64_t *qw)
{
    return (struct vtd_desc_pc_fields){.g = (unsigned)vtd_field(qw[0], VTD_QI_GRAN),
                                       .did = (uint16_t)vtd_field(qw[0], VTD_QI_DID),
                                       .pasid = (uint32_t)vtd_field(qw[0], VTD_QI_PASID)};
}

/* ---- 8: PASID-based device-TLB invalidation (6.5.2.6) ---- */

struct vtd_desc vtd_desc_p_devtlb(uint16_t sid, uint16_t pfsid, unsigned qdep, uint32_t pasid, bool all_pasids,
                                  struct vtd_devtlb_size size)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_PDEVTLB);
    d.qw[0] |= vtd_field_prep(qdep, VTD_QI_PDEVTLB_QDEP) |
               pfsid_prep(pfsid, VTD_QI_PDEVTLB_PFSID_LO, VTD_QI_PDEVTLB_PFSID_HI) |
               vtd_field_prep(sid, VTD_QI_PDEVTLB_SID) | vtd_field_prep(pasid, VTD_QI_PASID);
    d.qw[1] = (all_pasids ? VTD_QI_PDEVTLB_G : 0) | (size.s ? VTD_QI_PDEVTLB_S : 0) | (size.addr & VTD_QI_ADDR);
    return d;
}

struct vtd_desc_p_devtlb_fields vtd_desc_p_devtlb_decode(const uint64_t *qw)
{
    return (struct vtd_desc_p_devtlb_fields){
        .sid = (uint16_t)vtd_field(qw[0], VTD_QI_PDEVTLB_SID),
        .pfsid = pfsid_of(qw[0], VTD_QI_PDEVTLB_PFSID_LO, VTD_QI_PDEVTLB_PFSID_HI),
        .qdep = (unsigned)vtd_field(qw[0], VTD_QI_PDEVTLB_QDEP), .pasid = (uint32_t)vtd_field(qw[0], VTD_QI_PASID),
        .all_pasids = qw[1] & VTD_QI_PDEVTLB_G, .addr = qw[1] & VTD_QI_ADDR, .s = qw[1] & VTD_QI_PDEVTLB_S};
}

/* ---- 9: page group response (7.6) ---- */

struct vtd_desc vtd_desc_pgrp_resp(uint16_t rid, bool pasid_present, uint32_t pasid, unsigned prgi, unsigned rc)
{
    struct vtd_desc d = vtd_desc_bare(VTD_QI_PGRP_RESP);
    d.qw[0] |= (pasid_present ? VTD_QI_PGRP_PP : 0) | vtd_field_prep(rc, VTD_QI_PGRP_RC) |
               vtd_field_prep(rid, VTD_QI_PGRP_RID) | vtd_field_prep(pasid, VTD_QI_PASID);
    d.qw[1] = vtd_field_prep(prgi, VTD_QI_PGRP_PRGI);
    return d;
}

struct vtd_desc_pgrp_resp_fields vtd_desc_pgrp_resp_decode(const uint64_t *qw)
{
    return (struct vtd_desc_pgrp_resp_fields){
        .rid = (uint16_t)vtd_field(qw[0], VTD_QI_PGRP_RID), .pasid_present = qw[0] & VTD_QI_PGRP_PP,
        .lpig = qw[1] & VTD_QI_PGRP_LPIG, .pasid = (uint32_t)vtd_field(qw[0], VTD_QI_PASID),
        .prgi = (unsigned)vtd_field(qw[1], VTD_QI_PGRP_PRGI), .rc = (unsigned)vtd_field(qw[0], VTD_QI_PGRP_RC)};
}

/* ---- descriptions ---- */

static void describe_devtlb_range(char *buf, size_t len, struct vtd_qi_range range)
{
    if (range.first == 0 && range.last == UINT64_MAX)
        snprintf(buf, len, "everything");
    else
        snprintf(buf, len, "%llu KiB at 0x%llx", (unsigned long long)((range.last - range.first) / 1024 + 1),
                 (unsigned long long)range.first);
}

static void describe_cc(const uint64_t *qw, char *buf, unsigned len)
{
    static const char *const gran[] = {"reserved", "global", "domain-selective", "device-selective"};
    struct vtd_desc_cc_fields f = vtd_desc_cc_decode(qw);
    struct vtd_bdf_text bdf = vtd_bdf_format(f.sid);
    const char *sid = bdf.s;
    if (f.g == VTD_QI_CC_G_DEVICE)
        snprintf(buf, len, "context-cache device-selective SID %s FM %u", sid, f.fm);
    else if (f.g == VTD_QI_CC_G_DOMAIN)
        snprintf(buf, len, "context-cache domain-selective DID %u", f.did);
    else
        snprintf(buf, len, "context-cache %s", gran[f.g]);
}

static void describe_iotlb(const uint64_t *qw, char *buf, unsigned len)
{
    static const char *const gran[] = {"reserved", "global", "domain-selective", "PSI"};
    struct vtd_desc_iotlb_fields f = vtd_desc_iotlb_decode(qw);
    if (f.g == VTD_QI_IOTLB_G_PAGE)
        snprintf(buf, len, "IOTLB PSI DID %u ADDR 0x%llx AM %u IH %u", f.did, (unsigned long long)f.addr, f.am, f.ih);
    else if (f.g == VTD_QI_IOTLB_G_DOMAIN)
        snprintf(buf, len, "IOTLB domain-selective DID %u", f.did);
    else
        snprintf(buf, len, "IOTLB %s", gran[f.g]);
}

static void describe_devtlb(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_devtlb_fields f = vtd_desc_devtlb_decode(qw);
    char range[48];
    struct vtd_bdf_text bdf = vtd_bdf_format(f.sid);
    const char *sid = bdf.s;
    describe_devtlb_range(range, sizeof range, vtd_devtlb_size_decode(f.addr, f.s));
    snprintf(buf, len, "device-TLB SID %s ADDR 0x%llx S %u (%s)", sid, (unsigned long long)f.addr, f.s, range);
}

static void describe_iec(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_iec_fields f = vtd_desc_iec_decode(qw);
    if (f.index_selective)
        snprintf(buf, len, "IEC index-selective IIDX %u IM %u", f.iidx, f.im);
    else
        snprintf(buf, len, "IEC global");
}

static void describe_wait(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_wait_fields f = vtd_desc_wait_decode(qw);
    snprintf(buf, len, "wait%s%s%s%s", f.iflag ? " IF" : "", f.fn ? " FN" : "", f.pd ? " PD" : "", f.sw ? " SW" : "");
    size_t used = strlen(buf);
    if (f.sw && used < len)
        snprintf(buf + used, len - used, " data 0x%x to 0x%llx", f.data, (unsigned long long)f.status_addr);
}

static void describe_p_iotlb(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(qw);
    if (f.g == VTD_QI_PIOTLB_G_PAGE)
        snprintf(buf, len, "P_IOTLB PSI DID %u PASID %u ADDR 0x%llx AM %u IH %u", f.did, f.pasid,
                 (unsigned long long)f.addr, f.am, f.ih);
    else if (f.g == VTD_QI_PIOTLB_G_PASID)
        snprintf(buf, len, "P_IOTLB all-in-PASID DID %u PASID %u", f.did, f.pasid);
    else
        snprintf(buf, len, "P_IOTLB reserved granularity %u", f.g);
}

static void describe_pc(const uint64_t *qw, char *buf, unsigned len)
{
    static const char *const gran[] = {"domain-selective", "PASID-selective", "reserved", "global"};
    struct vtd_desc_pc_fields f = vtd_desc_pc_decode(qw);
    if (f.g == VTD_QI_PC_G_PASID)
        snprintf(buf, len, "PASID-cache PASID-selective DID %u PASID %u", f.did, f.pasid);
    else if (f.g == VTD_QI_PC_G_DOMAIN)
        snprintf(buf, len, "PASID-cache domain-selective DID %u", f.did);
    else
        snprintf(buf, len, "PASID-cache %s", gran[f.g]);
}

static void describe_p_devtlb(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_p_devtlb_fields f = vtd_desc_p_devtlb_decode(qw);
    char range[48];
    struct vtd_bdf_text bdf = vtd_bdf_format(f.sid);
    const char *sid = bdf.s;
    describe_devtlb_range(range, sizeof range, vtd_devtlb_size_decode(f.addr, f.s));
    if (f.all_pasids)
        snprintf(buf, len, "PASID-based device-TLB SID %s all PASIDs ADDR 0x%llx (%s)", sid,
                 (unsigned long long)f.addr, range);
    else
        snprintf(buf, len, "PASID-based device-TLB SID %s PASID %u ADDR 0x%llx (%s)", sid, f.pasid,
                 (unsigned long long)f.addr, range);
}

static void describe_pgrp_resp(const uint64_t *qw, char *buf, unsigned len)
{
    struct vtd_desc_pgrp_resp_fields f = vtd_desc_pgrp_resp_decode(qw);
    struct vtd_bdf_text bdf = vtd_bdf_format(f.rid);
    const char *sid = bdf.s;
    if (f.pasid_present)
        snprintf(buf, len, "page group response RID %s PASID %u PRGI %u RC %u%s", sid, f.pasid, f.prgi, f.rc,
                 f.lpig ? " LPIG" : "");
    else
        snprintf(buf, len, "page group response RID %s PRGI %u RC %u%s", sid, f.prgi, f.rc, f.lpig ? " LPIG" : "");
}

void vtd_qi_describe(const uint64_t *desc, unsigned nqw, char *buf, unsigned len)
{
    typedef void (*describer)(const uint64_t *qw, char *buf, unsigned len);
    static const describer by_type[] = {
        [VTD_QI_CC] = describe_cc,           [VTD_QI_IOTLB] = describe_iotlb, [VTD_QI_DEVTLB] = describe_devtlb,
        [VTD_QI_IEC] = describe_iec,         [VTD_QI_WAIT] = describe_wait,   [VTD_QI_PIOTLB] = describe_p_iotlb,
        [VTD_QI_PC] = describe_pc,           [VTD_QI_PDEVTLB] = describe_p_devtlb,
        [VTD_QI_PGRP_RESP] = describe_pgrp_resp,
    };
    if (!buf || !len)
        return;
    if (!desc || (nqw != 2 && nqw != 4)) {
        snprintf(buf, len, "(not a descriptor)");
        return;
    }
    unsigned type = vtd_desc_type(desc[0]);
    if (type < sizeof by_type / sizeof by_type[0] && by_type[type])
        by_type[type](desc, buf, len);
    else
        snprintf(buf, len, "unknown descriptor type %u (qw0 0x%llx)", type, (unsigned long long)desc[0]);
}
