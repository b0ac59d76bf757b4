/*
 * pt_read.h: one 4 KiB paging-structure table read whole, for the enumerations (mappings and
 * the audit), which look at every entry of a table rather than one per level.
 */
#ifndef VTDSIM_INSPECT_PT_READ_H
#define VTDSIM_INSPECT_PT_READ_H

#include <stdint.h>

#include "walker/mem.h"

#define VTD_INSP_PT_ENTRIES 512u

/* The 512 entries of the table at `pa` (4 KiB aligned); unreadable memory reads as zero. */
void vtd_insp_read_table(struct vtd_mem *m, uint64_t pa, uint64_t ent[VTD_INSP_PT_ENTRIES]);

#endif
