/* pt_read.c: a whole paging-structure table from simulated memory. */
#include "inspect/pt_read.h"

#include <string.h>

#include "walker/bits.h"

void vtd_insp_read_table(struct vtd_mem *m, uint64_t pa, uint64_t ent[VTD_INSP_PT_ENTRIES])
{
    pa &= VTD_PAGE_MASK;
    const uint8_t *frame = vtd_mem_frame_for_read(m, pa);
    /* A frame pointer is the fast path; abort ranges must still go through the checked read. */
    if (frame && !vtd_mem_may_abort(m)) {
        memcpy(ent, frame, VTD_INSP_PT_ENTRIES * sizeof ent[0]);
        return;
    }
    for (unsigned i = 0; i < VTD_INSP_PT_ENTRIES; i++)
        if (vtd_mem_read64(m, pa + 8u * i, &ent[i]))
            ent[i] = 0;
}
