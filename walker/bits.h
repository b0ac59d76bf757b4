/*
 * bits.h: bit-field helpers shared by the structure headers.
 *
 * Every VT-d structure header names its fields as masks built with these macros, so that code
 * reads `entry & VTD_FS_RW` rather than `entry & 2`.
 */
#ifndef VTDSIM_WALKER_BITS_H
#define VTDSIM_WALKER_BITS_H

#include <stdint.h>

#define VTD_BIT(n) (UINT64_C(1) << (n))
/* Bits hi..lo inclusive, 0 <= lo <= hi <= 63. */
#define VTD_GENMASK(hi, lo) ((~UINT64_C(0) >> (63 - (hi))) & (~UINT64_C(0) << (lo)))

/* Field value of a mask (the mask must be contiguous). */
static inline uint64_t vtd_field(uint64_t v, uint64_t mask)
{
    return (v & mask) >> __builtin_ctzll(mask);
}

/* The value shifted into place for a mask. */
static inline uint64_t vtd_field_prep(uint64_t val, uint64_t mask)
{
    return (val << __builtin_ctzll(mask)) & mask;
}

/* Mask of address bits at and above `width` up to bit 63 (zero when width >= 64). */
static inline uint64_t vtd_bits_above(unsigned width)
{
    return width >= 64 ? 0 : ~UINT64_C(0) << width;
}

#define VTD_PAGE_SHIFT 12
#define VTD_PAGE_SIZE (UINT64_C(1) << VTD_PAGE_SHIFT)
#define VTD_PAGE_MASK (~(VTD_PAGE_SIZE - 1))

/* Paging structures have at most five levels (PML5E, VT-d 3.6 and 3.7); arrays indexed by level
 * (1..5) have VTD_PT_LEVEL_SLOTS slots, slot 0 unused. */
#define VTD_PT_MAX_LEVELS 5
#define VTD_PT_LEVEL_SLOTS (VTD_PT_MAX_LEVELS + 1)
/* A leaf is a page (PS 0) or a large page (PS 1): per-level arrays of both have two columns. */
#define VTD_PT_PS_KINDS 2

/* Both paging formats use 512-entry tables: 9 index bits per level above the 4 KiB offset. */
static inline unsigned vtd_pt_index(uint64_t va, unsigned level) { return (unsigned)(va >> (VTD_PAGE_SHIFT + 9 * (level - 1))) & 0x1ff; }
/* log2 of the region one entry of `level` maps (12, 21, 30, 39, 48). */
static inline unsigned vtd_pt_level_shift(unsigned level) { return VTD_PAGE_SHIFT + 9 * (level - 1); }

#endif
