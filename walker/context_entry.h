/*
 * context_entry.h: the scalable-mode context entry (VT-d 9.4).
 *
 * 256 bits; a 4 KiB context table holds 128 of them, indexed by devfn & 0x7f. It enables PASID
 * use, device TLBs and page requests for one requester and points at the PASID directory.
 */
#ifndef VTDSIM_WALKER_CONTEXT_ENTRY_H
#define VTDSIM_WALKER_CONTEXT_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"

#define VTD_CTX_ENTRY_SIZE 32u

/* qw0 */
#define VTD_CTX_P VTD_BIT(0)
#define VTD_CTX_FPD VTD_BIT(1)
#define VTD_CTX_DTE VTD_BIT(2)       /* device-TLB (ATS) enable */
#define VTD_CTX_PASIDE VTD_BIT(3)    /* requests with PASID allowed */
#define VTD_CTX_PRE VTD_BIT(4)       /* page requests allowed */
#define VTD_CTX_RSVD0 VTD_GENMASK(8, 5)
#define VTD_CTX_PDTS VTD_GENMASK(11, 9) /* directory has 2^(PDTS+7) entries */
#define VTD_CTX_PDTP VTD_GENMASK(63, 12)
/* qw1 */
#define VTD_CTX_RID_PASID VTD_GENMASK(19, 0)
#define VTD_CTX_RID_PRIV VTD_BIT(20)
#define VTD_CTX_RSVD1 VTD_GENMASK(63, 21)
/* qw2 and qw3 are reserved. */

struct vtd_ctx_entry {
    uint64_t qw[4];
};

/* Decoded context entry, scalable or legacy: what the rest of the walk needs (also what a
 * context cache holds). */
struct vtd_ctx {
    bool fpd, dte, paside, pre, rid_priv;
    unsigned pdts;          /* directory holds 2^(pdts+7) entries */
    uint64_t pdtp;          /* PASID directory address */
    uint32_t rid_pasid;     /* PASID used for requests without PASID */
    /* A legacy-mode entry (TTM 00b, legacy_ctx_entry.h): only fpd above and these apply. */
    bool legacy;
    unsigned tt;            /* enum vtd_lctx_tt */
    unsigned ss_levels;     /* second-stage levels from AW: 3, 4 or 5 */
    uint16_t did;
    uint64_t slptptr;       /* second-stage table */
};

/* Address of the context entry for a devfn inside the table at `ctp`. */
static inline uint64_t vtd_ctx_entry_addr(uint64_t ctp, uint8_t devfn) { return ctp + (uint64_t)(devfn & 0x7f) * VTD_CTX_ENTRY_SIZE; }
static inline bool vtd_ctx_entry_present(const struct vtd_ctx_entry *ce) { return ce->qw[0] & VTD_CTX_P; }
/* Number of PASID-directory entries the context entry provides. */
static inline uint32_t vtd_ctx_pdir_entries(const struct vtd_ctx *c) { return UINT32_C(1) << (c->pdts + 7); }

/* Whether a PASID falls inside the context's PASID directory (fault 46h otherwise). */
static inline bool vtd_ctx_pasid_in_range(const struct vtd_ctx *c, uint32_t pasid)
{
    return pasid < (UINT32_C(1) << 20) && (pasid >> 6) < vtd_ctx_pdir_entries(c);
}

/*
 * Check and decode a context entry: VTD_FR_CTX_P, VTD_FR_CTX_RSVD (reserved bits, pointer at or
 * beyond HAW) or VTD_FR_CTX_INVALID (PRE without ECAP.PRS, DTE without ECAP.DT); 0 when usable.
 */
int ctx_entry_decode(const struct vtd_ctx_entry *ce, const struct vtd_caps *caps, struct vtd_ctx *out);

#endif
