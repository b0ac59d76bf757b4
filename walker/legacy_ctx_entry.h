/*
 * legacy_ctx_entry.h: the legacy-mode context entry (VT-d 9.3), used when RTADDR_REG.TTM is
 * 00b.
 *
 * 128 bits; a 4 KiB legacy context table holds 256 of them, indexed by the whole devfn (the
 * root entry's low qword points at it, its high qword is reserved: root_entry.h). The entry
 * chooses the translation type (TT), the second-stage table and its width (SLPTPTR, AW) and
 * the domain. Bit positions as in the specification's figure 9-3 and QEMU's
 * hw/i386/intel_iommu_internal.h (VTD_CONTEXT_ENTRY_*).
 */
#ifndef VTDSIM_WALKER_LEGACY_CTX_ENTRY_H
#define VTDSIM_WALKER_LEGACY_CTX_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"
#include "walker/context_entry.h"
#include "walker/pasid_entry.h"

#define VTD_LCTX_ENTRY_SIZE 16u

/* lo: bits 63:0 */
#define VTD_LCTX_P VTD_BIT(0)
#define VTD_LCTX_FPD VTD_BIT(1)          /* honoured even with P clear (VT-d 9.3) */
#define VTD_LCTX_TT VTD_GENMASK(3, 2)
#define VTD_LCTX_RSVD_LO VTD_GENMASK(11, 4)
#define VTD_LCTX_SLPTPTR VTD_GENMASK(63, 12)
/* hi: bits 127:64 */
#define VTD_LCTX_AW VTD_GENMASK(2, 0)    /* 1 = 39-bit/3-level, 2 = 48/4, 3 = 57/5 */
#define VTD_LCTX_AVAIL VTD_GENMASK(6, 3) /* ignored by hardware, free for software */
#define VTD_LCTX_RSVD_HI VTD_BIT(7)
#define VTD_LCTX_DID VTD_GENMASK(23, 8)
#define VTD_LCTX_RSVD_HI2 VTD_GENMASK(63, 24)

/* Translation types (TT). */
enum vtd_lctx_tt {
    VTD_LCTX_TT_UNTRANSLATED = 0, /* untranslated requests only, second stage; no device TLB */
    VTD_LCTX_TT_ALL = 1,          /* also translation and translated requests (needs ECAP.DT) */
    VTD_LCTX_TT_PT = 2,           /* pass-through of untranslated requests (needs ECAP.PT) */
    VTD_LCTX_TT_RSVD = 3,
};

struct vtd_lctx_entry {
    uint64_t lo, hi;
};

/* Address of the legacy context entry for a devfn inside the table at `ctp`. */
static inline uint64_t vtd_lctx_entry_addr(uint64_t ctp, uint8_t devfn) { return ctp + (uint64_t)devfn * VTD_LCTX_ENTRY_SIZE; }
/* Second-stage levels an AW value selects (AW + 2), as SAGAW bit AW announces them. */
static inline unsigned vtd_lctx_aw_levels(unsigned aw) { return aw + 2; }
/* Whether the translation type lets ATS translation and translated requests through. */
static inline bool vtd_lctx_tt_allows_ats(unsigned tt) { return tt == VTD_LCTX_TT_ALL; }

/*
 * Check and decode a legacy context entry into the legacy fields of struct vtd_ctx (legacy,
 * fpd, tt, ss_levels, did, slptptr): VTD_FR_L_CTX_P, VTD_FR_L_CTX_RSVD (reserved bits, DID bits
 * beyond CAP.ND, SLPTPTR at or above HAW when it is used) or VTD_FR_L_CTX_INVALID (TT 11b, TT 01b
 * without ECAP.DT, TT 10b without ECAP.PT, AW not in SAGAW, and for pass-through an AW other than
 * the widest SAGAW); 0 when usable. FPD is decoded even when the entry is not present.
 */
int lctx_entry_decode(const struct vtd_lctx_entry *ce, const struct vtd_caps *caps, struct vtd_ctx *out);
/* Encode the legacy fields of a decoded context (with P set); the inverse of lctx_entry_decode. */
void lctx_entry_encode(const struct vtd_ctx *ctx, struct vtd_lctx_entry *ce);
/* The paging configuration a legacy context gives the paging step: second stage or pass-through. */
void vtd_lctx_paging_cfg(const struct vtd_ctx *ctx, struct vtd_pasid_cfg *out);
/* Name of a translation type ("untranslated", "all", "pass-through", "reserved"). */
const char *vtd_lctx_tt_name(unsigned tt);

#endif
