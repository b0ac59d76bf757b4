/*
 * fs_entry.h: first-stage (IA-32e format) paging entries (VT-d 9.7, Intel SDM vol. 3 4.5).
 *
 * Levels are numbered as in the walk: 5 = PML5E, 4 = PML4E, 3 = PDPE, 2 = PDE, 1 = PTE.
 */
#ifndef VTDSIM_WALKER_FS_ENTRY_H
#define VTDSIM_WALKER_FS_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"

#define VTD_FS_P VTD_BIT(0)
#define VTD_FS_RW VTD_BIT(1)
#define VTD_FS_US VTD_BIT(2)
#define VTD_FS_PWT VTD_BIT(3)
#define VTD_FS_PCD VTD_BIT(4)
#define VTD_FS_A VTD_BIT(5)
#define VTD_FS_D VTD_BIT(6)           /* leaf only */
#define VTD_FS_PS VTD_BIT(7)          /* PDPE/PDE: large page; PTE: PAT */
#define VTD_FS_G VTD_BIT(8)           /* ignored by the IOMMU */
#define VTD_FS_EA VTD_BIT(10)         /* extended accessed, with EAFE */
#define VTD_FS_LPAT VTD_BIT(12)       /* PAT bit of a large leaf */
#define VTD_FS_ADDR VTD_GENMASK(51, 12)
#define VTD_FS_XD VTD_BIT(63)

/* Address bits of a leaf's frame, by page size. */
#define VTD_FS_ADDR_2M VTD_GENMASK(51, 21)
#define VTD_FS_ADDR_1G VTD_GENMASK(51, 30)
#define VTD_FS_RSVD_2M VTD_GENMASK(20, 13)
#define VTD_FS_RSVD_1G VTD_GENMASK(29, 13)

static inline bool vtd_fs_entry_present(uint64_t e) { return e & VTD_FS_P; }
/* Whether the entry maps a page at this level (a PTE, or PS at PDE/PDPE). */
static inline bool vtd_fs_entry_is_leaf(uint64_t e, unsigned level) { return level == 1 || ((level == 2 || level == 3) && (e & VTD_FS_PS)); }
/*
 * Reserved bits of a present entry at `level`. `addr_width` bounds the address field: the HAW
 * when addresses are host-physical, 52 in nested mode (guest-physical, checked against MGAW).
 */
static inline uint64_t vtd_fs_entry_rsvd_mask(uint64_t e, unsigned level, const struct vtd_caps *caps, unsigned addr_width)
{
    /* Address bits at or above the address width are reserved at every level. */
    uint64_t rsvd = VTD_FS_ADDR & vtd_bits_above(addr_width);
    if (level >= 4)
        return rsvd | VTD_FS_PS; /* PML5E/PML4E never map pages */
    if (level == 3 && (e & VTD_FS_PS))
        return vtd_cap_has(caps, VTD_CAP_FS1GP) ? rsvd | VTD_FS_RSVD_1G : rsvd | VTD_FS_PS;
    if (level == 2 && (e & VTD_FS_PS))
        return rsvd | VTD_FS_RSVD_2M;
    return rsvd;
}
/* Frame address a leaf maps (page-aligned to its size) or the next table's address. */
static inline uint64_t vtd_fs_entry_addr(uint64_t e, unsigned level)
{
    if (level == 3 && (e & VTD_FS_PS)) return e & VTD_FS_ADDR_1G;
    if (level == 2 && (e & VTD_FS_PS)) return e & VTD_FS_ADDR_2M;
    return e & VTD_FS_ADDR;
}

#endif
