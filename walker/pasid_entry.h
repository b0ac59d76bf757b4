/*
 * pasid_entry.h: the scalable-mode PASID table entry (VT-d 9.6).
 *
 * 512 bits, 64 per PASID table, indexed by PASID[5:0]. It selects the translation type (PGTT)
 * and holds the second-stage pointer and width, the domain id, and the first-stage pointer and
 * paging mode. Bit positions here are absolute within the entry's qwords.
 */
#ifndef VTDSIM_WALKER_PASID_ENTRY_H
#define VTDSIM_WALKER_PASID_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"

#define VTD_PASID_ENTRY_SIZE 64u
#define VTD_PASID_TABLE_ENTRIES 64u

/* qw0: bits 63:0 */
#define VTD_PE_P VTD_BIT(0)
#define VTD_PE_FPD VTD_BIT(1)
#define VTD_PE_AW VTD_GENMASK(4, 2)       /* second-stage width: 1 = 39, 2 = 48, 3 = 57 bits */
#define VTD_PE_SSEE VTD_BIT(5)            /* second-stage execute enable */
#define VTD_PE_PGTT VTD_GENMASK(8, 6)
#define VTD_PE_SSADE VTD_BIT(9)           /* second-stage accessed/dirty enable */
#define VTD_PE_RSVD0 VTD_GENMASK(11, 10)
#define VTD_PE_SSPTPTR VTD_GENMASK(63, 12)
/* qw1: bits 127:64 */
#define VTD_PE_DID VTD_GENMASK(15, 0)
#define VTD_PE_RSVD1 VTD_GENMASK(22, 16)
#define VTD_PE_PWSNP VTD_BIT(23)          /* bit 87: page-walk snoop */
#define VTD_PE_PGSNP VTD_BIT(24)          /* bit 88: page snoop */
#define VTD_PE_MT_FIELDS VTD_GENMASK(63, 25) /* CD, EMTE, EMT, PWT, PCD, PAT: need ECAP.MTS */
/* qw2: bits 191:128 */
#define VTD_PE_SRE VTD_BIT(0)             /* bit 128: supervisor requests enable */
#define VTD_PE_ERE VTD_BIT(1)             /* bit 129: execute requests enable (needs ECAP.ERS) */
#define VTD_PE_FSPM VTD_GENMASK(3, 2)     /* bits 131:130: 0 = 4-level, 1 = 5-level */
#define VTD_PE_WPE VTD_BIT(4)             /* bit 132: write protect enable */
#define VTD_PE_NXE VTD_BIT(5)             /* bit 133 (needs ECAP.ERS) */
#define VTD_PE_SMEP VTD_BIT(6)            /* bit 134 (needs ECAP.ERS) */
#define VTD_PE_EAFE VTD_BIT(7)            /* bit 135: extended accessed flag enable */
#define VTD_PE_RSVD2 VTD_GENMASK(11, 8)
#define VTD_PE_FSPTPTR VTD_GENMASK(63, 12)
/* qw3..qw7 are reserved. */

enum vtd_pgtt {
    VTD_PGTT_FS = 1,     /* first stage only */
    VTD_PGTT_SS = 2,     /* second stage only */
    VTD_PGTT_NESTED = 3, /* first stage nested over second stage */
    VTD_PGTT_PT = 4,     /* pass-through */
};

struct vtd_pasid_entry {
    uint64_t qw[8];
};

/* Decoded PASID entry: what the walk needs (also what a PASID cache holds). */
struct vtd_pasid_cfg {
    unsigned pgtt;
    bool fpd;
    uint16_t did;
    bool pwsnp, pgsnp;
    /* second stage (PGTT 2 and 3) */
    unsigned ss_levels;     /* 3, 4 or 5 */
    bool ssee, ssade;
    uint64_t ssptptr;
    /* first stage (PGTT 1 and 3) */
    unsigned fs_levels;     /* 4 or 5 */
    bool sre, ere, wpe, nxe, smep, eafe;
    uint64_t fsptptr;
};

static inline uint64_t vtd_pasid_entry_addr(uint64_t ptp, uint32_t pasid) { return ptp + (uint64_t)(pasid & 0x3f) * VTD_PASID_ENTRY_SIZE; }
static inline bool vtd_pasid_entry_present(const struct vtd_pasid_entry *pe) { return pe->qw[0] & VTD_PE_P; }
static inline unsigned vtd_pasid_entry_pgtt(const struct vtd_pasid_entry *pe) { return (unsigned)vtd_field(pe->qw[0], VTD_PE_PGTT); }
static inline uint16_t vtd_pasid_entry_did(const struct vtd_pasid_entry *pe) { return (uint16_t)vtd_field(pe->qw[1], VTD_PE_DID); }
static inline bool vtd_pgtt_uses_fs(unsigned pgtt) { return pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED; }
static inline bool vtd_pgtt_uses_ss(unsigned pgtt) { return pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED; }

/*
 * Check and decode a PASID entry against the capabilities: VTD_FR_PASID_P, VTD_FR_PASID_RSVD
 * (reserved bits, or a field whose feature is absent) or VTD_FR_PASID_INVALID (PGTT value or
 * type not supported, AW not in SAGAW or above MGAW, 5-level first stage without FS5LP);
 * 0 when usable. Fields the PGTT does not use are ignored, as the specification says.
 */
int pasid_entry_decode(const struct vtd_pasid_entry *pe, const struct vtd_caps *caps, struct vtd_pasid_cfg *out);
/* Encode a decoded entry (with P set); the inverse of pasid_entry_decode for valid entries. */
void pasid_entry_encode(const struct vtd_pasid_cfg *cfg, struct vtd_pasid_entry *pe);
const char *pgtt_name(unsigned pgtt);

#endif
