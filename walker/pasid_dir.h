/*
 * pasid_dir.h: the scalable-mode PASID directory entry (VT-d 9.5).
 *
 * 64-bit entries indexed by PASID[19:6]; each points at a PASID table of 64 entries.
 */
#ifndef VTDSIM_WALKER_PASID_DIR_H
#define VTDSIM_WALKER_PASID_DIR_H

#include <stdint.h>

#include "walker/bits.h"

#define VTD_PDIR_ENTRY_SIZE 8u
#define VTD_PDIR_P VTD_BIT(0)
#define VTD_PDIR_FPD VTD_BIT(1)
#define VTD_PDIR_RSVD VTD_GENMASK(11, 2)
#define VTD_PDIR_PTP VTD_GENMASK(63, 12)

#define VTD_PASID_DIR_SHIFT 6 /* PASID bits below this index the PASID table */

static inline uint32_t vtd_pasid_dir_index(uint32_t pasid) { return pasid >> VTD_PASID_DIR_SHIFT; }
static inline uint64_t vtd_pasid_dir_entry_addr(uint64_t pdtp, uint32_t pasid) { return pdtp + (uint64_t)vtd_pasid_dir_index(pasid) * VTD_PDIR_ENTRY_SIZE; }
static inline uint64_t vtd_pasid_dir_rsvd_mask(unsigned haw) { return VTD_PDIR_RSVD | (vtd_bits_above(haw) & VTD_PDIR_PTP); }

#endif
