/*
 * root_entry.h: the root table, scalable mode (VT-d 9.2) and legacy mode (9.1).
 *
 * 256 entries of 128 bits indexed by bus number. In scalable mode the low half points at the
 * context table for devfn 0-127, the high half at the one for devfn 128-255. In legacy mode
 * the low half points at one context table for all 256 devfns and the high half is reserved.
 * RTADDR_REG's TTM field selects the mode (00b legacy, 01b scalable).
 */
#ifndef VTDSIM_WALKER_ROOT_ENTRY_H
#define VTDSIM_WALKER_ROOT_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"

#define VTD_ROOT_ENTRY_SIZE 16u
#define VTD_ROOT_ENTRIES 256u

/* Each qword of a scalable-mode root entry, and the low qword of a legacy one: present bit and
 * context-table pointer. */
#define VTD_ROOT_P VTD_BIT(0)
#define VTD_ROOT_RSVD_LOW VTD_GENMASK(11, 1)
#define VTD_ROOT_CTP VTD_GENMASK(63, 12)

/* RTADDR_REG (VT-d 11.4.6). */
#define VTD_RTADDR_TTM VTD_GENMASK(11, 10)
#define VTD_RTADDR_RSVD VTD_GENMASK(9, 0)
#define VTD_RTADDR_RTA VTD_GENMASK(63, 12)
#define VTD_TTM_LEGACY 0u
#define VTD_TTM_SCALABLE 1u

/* Whether RTADDR_REG selects legacy mode (TTM 00b). */
static inline bool vtd_rtaddr_is_legacy(uint64_t rtaddr) { return vtd_field(rtaddr, VTD_RTADDR_TTM) == VTD_TTM_LEGACY; }

struct vtd_root_entry {
    uint64_t lo; /* devfn 0-127 */
    uint64_t hi; /* devfn 128-255 */
};

/* Address of the root entry for a bus. */
static inline uint64_t vtd_root_entry_addr(uint64_t rta, uint8_t bus) { return rta + (uint64_t)bus * VTD_ROOT_ENTRY_SIZE; }
/* The qword (lo or hi) that serves a devfn. */
static inline uint64_t vtd_root_entry_half(const struct vtd_root_entry *re, uint8_t devfn) { return devfn & 0x80 ? re->hi : re->lo; }
/* Reserved bits of one half: bits 11:1 and the pointer bits at or above HAW. */
static inline uint64_t vtd_root_entry_rsvd_mask(unsigned haw) { return VTD_ROOT_RSVD_LOW | (vtd_bits_above(haw) & VTD_ROOT_CTP); }

#endif
