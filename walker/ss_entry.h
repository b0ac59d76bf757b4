/*
 * ss_entry.h: second-stage paging entries (VT-d 9.8).
 *
 * An entry is present when any permission it may grant is set (R, W, or X with SSEE).
 * Levels: 5 = SS-PML5E, 4 = SS-PML4E, 3 = SS-PDPE, 2 = SS-PDE, 1 = SS-PTE.
 */
#ifndef VTDSIM_WALKER_SS_ENTRY_H
#define VTDSIM_WALKER_SS_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"

#define VTD_SS_R VTD_BIT(0)
#define VTD_SS_W VTD_BIT(1)
#define VTD_SS_X VTD_BIT(2)           /* with SSEE */
#define VTD_SS_EMT VTD_GENMASK(5, 3)  /* leaf memory type (not modelled, not checked) */
#define VTD_SS_IPAT VTD_BIT(6)
#define VTD_SS_PS VTD_BIT(7)
#define VTD_SS_A VTD_BIT(8)           /* with SSADE */
#define VTD_SS_D VTD_BIT(9)           /* with SSADE, leaf only */
#define VTD_SS_SNP VTD_BIT(11)        /* leaf: snoop, needs ECAP.SC */
#define VTD_SS_ADDR VTD_GENMASK(51, 12)
#define VTD_SS_TM VTD_BIT(62)         /* reserved since revision 3.2 */

#define VTD_SS_ADDR_2M VTD_GENMASK(51, 21)
#define VTD_SS_ADDR_1G VTD_GENMASK(51, 30)
#define VTD_SS_RSVD_2M VTD_GENMASK(20, 12)
#define VTD_SS_RSVD_1G VTD_GENMASK(29, 12)

static inline bool vtd_ss_entry_present(uint64_t e, bool ssee) { return e & (VTD_SS_R | VTD_SS_W | (ssee ? VTD_SS_X : 0)); }
static inline bool vtd_ss_entry_is_leaf(uint64_t e, unsigned level) { return level == 1 || ((level == 2 || level == 3) && (e & VTD_SS_PS)); }
static inline uint64_t vtd_ss_entry_rsvd_mask(uint64_t e, unsigned level, const struct vtd_caps *caps)
{
    uint64_t rsvd = (VTD_SS_ADDR & vtd_bits_above(caps->haw)) | VTD_SS_TM;
    bool leaf = vtd_ss_entry_is_leaf(e, level);
    /* SNP is defined only in leaves, and only with snoop control. */
    if (!leaf || !vtd_ecap_has(caps, VTD_ECAP_SC))
        rsvd |= VTD_SS_SNP;
    if (level >= 4)
        return rsvd | VTD_SS_PS;
    if (level == 3 && (e & VTD_SS_PS))
        return vtd_cap_has(caps, VTD_CAP_SSLPS_1G) ? rsvd | VTD_SS_RSVD_1G : rsvd | VTD_SS_PS;
    if (level == 2 && (e & VTD_SS_PS))
        return vtd_cap_has(caps, VTD_CAP_SSLPS_2M) ? rsvd | VTD_SS_RSVD_2M : rsvd | VTD_SS_PS;
    return rsvd;
}
static inline uint64_t vtd_ss_entry_addr(uint64_t e, unsigned level)
{
    if (level == 3 && (e & VTD_SS_PS)) return e & VTD_SS_ADDR_1G;
    if (level == 2 && (e & VTD_SS_PS)) return e & VTD_SS_ADDR_2M;
    return e & VTD_SS_ADDR;
}

#endif
