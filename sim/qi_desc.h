/*
 * qi_desc.h: the queued-invalidation descriptor codec (VT-d 6.5.2), the one place that knows
 * where each field of each descriptor lives.
 *
 * Every descriptor type has its fields as named masks, one encoder (vtd_desc_<type>(), which
 * returns a struct vtd_desc ready for vtd_qi_submit) and one decoder (vtd_desc_<type>_decode(),
 * which returns the fields). The device-TLB size encoding and the AM range have one encoder and
 * one decoder each, and vtd_qi_describe() prints any descriptor. sim/qi.c interprets
 * descriptors with these decoders; the container front end, the runner, trace replay and the
 * oracle build theirs with these encoders.
 */
#ifndef VTDSIM_SIM_QI_DESC_H
#define VTDSIM_SIM_QI_DESC_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"

/* Descriptor types (bits 11:9 and 3:0 of the first qword, VT-d 6.5.2). */
enum vtd_qi_type {
    VTD_QI_CC = 1,       /* context-cache invalidation (6.5.2.1) */
    VTD_QI_IOTLB = 2,    /* IOTLB invalidation (6.5.2.3) */
    VTD_QI_DEVTLB = 3,   /* device-TLB invalidation (6.5.2.5) */
    VTD_QI_IEC = 4,      /* interrupt entry cache (6.5.2.7) */
    VTD_QI_WAIT = 5,     /* invalidation wait (6.5.2.8) */
    VTD_QI_PIOTLB = 6,   /* PASID-based IOTLB invalidation (6.5.2.4) */
    VTD_QI_PC = 7,       /* PASID-cache invalidation (6.5.2.2) */
    VTD_QI_PDEVTLB = 8,  /* PASID-based device-TLB invalidation (6.5.2.6) */
    VTD_QI_PGRP_RESP = 9 /* page group response (7.6) */
};

/* A descriptor: 2 qwords (128-bit) or 4 (256-bit); unused qwords are zero. */
struct vtd_desc {
    uint64_t qw[4];
    unsigned nqw;
};

/* ---- fields (absolute bit numbers within each qword) ---- */

/* Every type: bits 3:0 and 11:9 of qw0 form the 7-bit type (6.5.2). */
#define VTD_QI_TYPE_LO VTD_GENMASK(3, 0)
#define VTD_QI_TYPE_HI VTD_GENMASK(11, 9)
#define VTD_QI_GRAN VTD_GENMASK(5, 4)      /* granularity of types 1, 2, 6, 7 */
#define VTD_QI_DID VTD_GENMASK(31, 16)     /* types 1, 2, 6, 7 */
#define VTD_QI_PASID VTD_GENMASK(51, 32)   /* types 6, 7, 8, 9 */
#define VTD_QI_ADDR VTD_GENMASK(63, 12)    /* qw1 of types 2, 3, 6, 8 */

/* 1: context-cache invalidate (6.5.2.1) */
#define VTD_QI_CC_SID VTD_GENMASK(47, 32)
#define VTD_QI_CC_FM VTD_GENMASK(49, 48)
enum { VTD_QI_CC_G_GLOBAL = 1, VTD_QI_CC_G_DOMAIN = 2, VTD_QI_CC_G_DEVICE = 3 };
/* 2: IOTLB invalidate (6.5.2.3); AM, IH and ADDR also of 6 */
#define VTD_QI_IOTLB_DW VTD_BIT(6)
#define VTD_QI_IOTLB_DR VTD_BIT(7)
#define VTD_QI_AM VTD_GENMASK(5, 0)        /* qw1 */
#define VTD_QI_IH VTD_BIT(6)               /* qw1 */
enum { VTD_QI_IOTLB_G_GLOBAL = 1, VTD_QI_IOTLB_G_DOMAIN = 2, VTD_QI_IOTLB_G_PAGE = 3 };
/* 3: device-TLB invalidate (6.5.2.5) */
#define VTD_QI_DEVTLB_PFSID_LO VTD_GENMASK(15, 12)
#define VTD_QI_DEVTLB_QDEP VTD_GENMASK(20, 16) /* MIP: max invalidations pending */
#define VTD_QI_DEVTLB_SID VTD_GENMASK(47, 32)
#define VTD_QI_DEVTLB_PFSID_HI VTD_GENMASK(63, 52)
#define VTD_QI_DEVTLB_S VTD_BIT(0)         /* qw1 */
/* 4: interrupt entry cache invalidate (6.5.2.7) */
#define VTD_QI_IEC_G VTD_BIT(4)            /* 1: index-selective */
#define VTD_QI_IEC_IM VTD_GENMASK(31, 27)
#define VTD_QI_IEC_IIDX VTD_GENMASK(47, 32)
/* 5: invalidation wait (6.5.2.8) */
#define VTD_QI_WAIT_IF VTD_BIT(4)
#define VTD_QI_WAIT_SW VTD_BIT(5)
#define VTD_QI_WAIT_FN VTD_BIT(6)
#define VTD_QI_WAIT_PD VTD_BIT(7)          /* page-request drain: needs ECAP.PDS */
#define VTD_QI_WAIT_DATA VTD_GENMASK(63, 32)
#define VTD_QI_WAIT_ADDR VTD_GENMASK(63, 2) /* qw1 */
/* 6: PASID-based IOTLB invalidate (6.5.2.4): GRAN, DID, PASID; AM, IH, ADDR in qw1 */
enum { VTD_QI_PIOTLB_G_PASID = 2, VTD_QI_PIOTLB_G_PAGE = 3 };
/* 7: PASID-cache invalidate (6.5.2.2): GRAN, DID, PASID */
enum { VTD_QI_PC_G_DOMAIN = 0, VTD_QI_PC_G_PASID = 1, VTD_QI_PC_G_GLOBAL = 3 };
/* 8: PASID-based device-TLB invalidate (6.5.2.6) */
#define VTD_QI_PDEVTLB_QDEP VTD_GENMASK(8, 4)
#define VTD_QI_PDEVTLB_PFSID_LO VTD_GENMASK(15, 12)
#define VTD_QI_PDEVTLB_SID VTD_GENMASK(31, 16)
#define VTD_QI_PDEVTLB_PFSID_HI VTD_GENMASK(63, 52)
#define VTD_QI_PDEVTLB_G VTD_BIT(0)        /* qw1: every PASID of the device */
#define VTD_QI_PDEVTLB_S VTD_BIT(11)       /* qw1 */
/* 9: page group response (7.6) */
#define VTD_QI_PGRP_PP VTD_BIT(4)
#define VTD_QI_PGRP_RC VTD_GENMASK(15, 12)
#define VTD_QI_PGRP_RID VTD_GENMASK(31, 16)
#define VTD_QI_PGRP_LPIG VTD_BIT(2)        /* qw1: reserved since 4.0, ignored */
#define VTD_QI_PGRP_PRGI VTD_GENMASK(11, 3) /* qw1 */

/*
 * Reserved bits of qw0 and qw1 (QEMU's VTD_INV_DESC_*_RSVD*, except PFSID, which VT-d 3.0+
 * defines and Linux fills for every ATS device; see docs/invalidation.md). The type bits 11:9
 * belong to the type. qw2 and qw3 are all reserved for every type.
 */
#define VTD_QI_ALL_ONES UINT64_MAX
#define VTD_QI_CC_RSVD0 (VTD_GENMASK(63, 50) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6))
#define VTD_QI_CC_RSVD1 VTD_QI_ALL_ONES
#define VTD_QI_IOTLB_RSVD0 (VTD_GENMASK(63, 32) | VTD_GENMASK(15, 12) | VTD_BIT(8))
#define VTD_QI_IOTLB_RSVD1 VTD_GENMASK(11, 7)
#define VTD_QI_DEVTLB_RSVD0 (VTD_GENMASK(51, 48) | VTD_GENMASK(31, 21) | VTD_GENMASK(8, 4))
#define VTD_QI_DEVTLB_RSVD1 VTD_GENMASK(11, 1)
#define VTD_QI_IEC_RSVD0 (VTD_GENMASK(63, 48) | VTD_GENMASK(26, 12) | VTD_GENMASK(8, 5))
#define VTD_QI_IEC_RSVD1 VTD_QI_ALL_ONES
#define VTD_QI_WAIT_RSVD0 (VTD_GENMASK(31, 12) | VTD_BIT(8)) /* | PD without ECAP.PDS */
#define VTD_QI_WAIT_RSVD1 VTD_GENMASK(1, 0)
#define VTD_QI_PIOTLB_RSVD0 (VTD_GENMASK(63, 52) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6))
#define VTD_QI_PIOTLB_RSVD1 VTD_GENMASK(11, 7)
#define VTD_QI_PC_RSVD0 (VTD_GENMASK(63, 52) | VTD_GENMASK(15, 12) | VTD_GENMASK(8, 6))
#define VTD_QI_PC_RSVD1 VTD_QI_ALL_ONES
#define VTD_QI_PDEVTLB_RSVD0 UINT64_C(0)
#define VTD_QI_PDEVTLB_RSVD1 VTD_GENMASK(10, 1)
#define VTD_QI_PGRP_RSVD0 (VTD_GENMASK(63, 52) | VTD_GENMASK(8, 5))
#define VTD_QI_PGRP_RSVD1 (VTD_GENMASK(63, 12) | VTD_GENMASK(1, 0))

/* The 7-bit type of a descriptor (6.5.2). */
static inline unsigned vtd_desc_type(uint64_t qw0)
{
    return (unsigned)(vtd_field(qw0, VTD_QI_TYPE_HI) << 4 | vtd_field(qw0, VTD_QI_TYPE_LO));
}

/* A descriptor of `type` with every other field zero: 256-bit for types 6 and above (6.5.2). */
struct vtd_desc vtd_desc_bare(unsigned type);

/* ---- address ranges (inclusive bounds, so that "everything" fits in 64 bits) ---- */

struct vtd_qi_range {
    uint64_t first, last;
};

/* [ADDR, ADDR + 2^(12 + AM)) of a page-selective IOTLB or P_IOTLB descriptor, ADDR aligned down
 * (6.5.2.3; hardware ignores the ADDR bits below AM). AM 52 and above: everything. */
struct vtd_qi_range vtd_qi_am_range(uint64_t addr, unsigned am);
/* The AM from which a block covers every address (52 address bits above 12). */
#define VTD_QI_AM_EVERYTHING 52u
/* The smallest AM whose naturally aligned block holds [first, last] (at most 52). */
unsigned vtd_qi_am_covering(uint64_t first, uint64_t last);

/*
 * Device-TLB size (6.5.2.5, 6.5.2.6; the PCIe ATS invalidate-request encoding): S = 0 is the
 * 4 KiB page at ADDR; S = 1 encodes 8 KiB << n in n ones of ADDR from bit 12 up. The encoder
 * gives ADDR and S for the 2^(12 + order) bytes that hold `addr` (order 52 and above:
 * everything); the decoder the range a descriptor's ADDR and S cover.
 */
struct vtd_devtlb_size {
    uint64_t addr; /* the ADDR field, bits 63:12 */
    bool s;
};
struct vtd_devtlb_size vtd_devtlb_size_encode(uint64_t addr, unsigned order);
struct vtd_qi_range vtd_devtlb_size_decode(uint64_t addr, bool s);

/* ---- one encoder and one decoder per type; decoders read qw0 and qw1 ---- */

struct vtd_desc_cc_fields {
    unsigned g, fm;
    uint16_t did, sid;
};
struct vtd_desc vtd_desc_cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm);
struct vtd_desc_cc_fields vtd_desc_cc_decode(const uint64_t *qw);

struct vtd_desc_iotlb_fields {
    unsigned g, am;
    uint16_t did;
    bool dr, dw, ih;
    uint64_t addr;
};
struct vtd_desc vtd_desc_iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih, bool dr, bool dw);
struct vtd_desc_iotlb_fields vtd_desc_iotlb_decode(const uint64_t *qw);

struct vtd_desc_devtlb_fields {
    uint16_t sid, pfsid;
    unsigned qdep;
    uint64_t addr;
    bool s;
};
struct vtd_desc vtd_desc_devtlb(uint16_t sid, uint16_t pfsid, unsigned qdep, struct vtd_devtlb_size size);
struct vtd_desc_devtlb_fields vtd_desc_devtlb_decode(const uint64_t *qw);

struct vtd_desc_iec_fields {
    bool index_selective;
    unsigned im;
    uint16_t iidx;
};
struct vtd_desc vtd_desc_iec(bool index_selective, uint16_t iidx, unsigned im);
struct vtd_desc_iec_fields vtd_desc_iec_decode(const uint64_t *qw);

struct vtd_desc_wait_fields {
    bool iflag, sw, fn, pd;
    uint32_t data;
    uint64_t status_addr;
};
/* flags: VTD_QI_WAIT_IF | VTD_QI_WAIT_SW | VTD_QI_WAIT_FN | VTD_QI_WAIT_PD */
struct vtd_desc vtd_desc_wait(uint64_t flags, uint32_t data, uint64_t status_addr);
struct vtd_desc_wait_fields vtd_desc_wait_decode(const uint64_t *qw);

struct vtd_desc_p_iotlb_fields {
    unsigned g, am;
    uint16_t did;
    uint32_t pasid;
    uint64_t addr;
    bool ih;
};
struct vtd_desc vtd_desc_p_iotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih);
struct vtd_desc_p_iotlb_fields vtd_desc_p_iotlb_decode(const uint64_t *qw);

struct vtd_desc_pc_fields {
    unsigned g;
    uint16_t did;
    uint32_t pasid;
};
struct vtd_desc vtd_desc_pc(unsigned g, uint16_t did, uint32_t pasid);
struct vtd_desc_pc_fields vtd_desc_pc_decode(const uint64_t *qw);

struct vtd_desc_p_devtlb_fields {
    uint16_t sid, pfsid;
    unsigned qdep;
    uint32_t pasid;
    bool all_pasids; /* G */
    uint64_t addr;
    bool s;
};
struct vtd_desc vtd_desc_p_devtlb(uint16_t sid, uint16_t pfsid, unsigned qdep, uint32_t pasid, bool all_pasids,
                                  struct vtd_devtlb_size size);
struct vtd_desc_p_devtlb_fields vtd_desc_p_devtlb_decode(const uint64_t *qw);

struct vtd_desc_pgrp_resp_fields {
    uint16_t rid;
    bool pasid_present, lpig;
    uint32_t pasid;
    unsigned prgi, rc;
};
struct vtd_desc vtd_desc_pgrp_resp(uint16_t rid, bool pasid_present, uint32_t pasid, unsigned prgi, unsigned rc);
struct vtd_desc_pgrp_resp_fields vtd_desc_pgrp_resp_decode(const uint64_t *qw);

/* A short human-readable description of a descriptor ("P_IOTLB PSI DID 1 PASID 5 ADDR 0x3000 AM 1 IH 0"). */
void vtd_qi_describe(const uint64_t *desc, unsigned nqw, char *buf, unsigned len);

#endif
