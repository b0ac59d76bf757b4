/*
 * inspect.h: reading translation structures someone else built (a memory image of a real guest
 * or host, or a vtd_mem a test filled), without changing them: what `vtdsim inspect` runs.
 *
 * One context (struct vtd_inspect) names the memory, the capability registers and RTADDR; the
 * algorithms each have their own header: structs.h (every reachable root, context, PASID
 * directory and PASID entry), mappings.h (an address space as merged ranges), check.h (the
 * structural audit), queue.h (the pending invalidation descriptors), batch.h (one request per
 * text line), dmesg.h (the registers from a Linux kernel log). Every walk is a dry run: no A/D
 * bit is written, and nothing else is either.
 */
#ifndef VTDSIM_INSPECT_INSPECT_H
#define VTDSIM_INSPECT_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "walker/caps.h"
#include "walker/mem.h"
#include "walker/walk.h"

/* A range of physical memory the image holds: [base, end). */
struct vtd_inspect_range {
    uint64_t base, end;
};

struct vtd_inspect {
    struct vtd_mem *mem;
    struct vtd_caps caps;
    uint64_t rtaddr;    /* RTADDR_REG: root-table address and TTM */
    /* What the image covers, for the "beyond the image" check; nranges 0: unknown (no check). */
    const struct vtd_inspect_range *ranges;
    size_t nranges;
    uint64_t max_leaves;  /* mappings: leaves reported at most (0: VTD_INSP_MAX_LEAVES, mappings.h) */
    uint64_t max_pasid_tables; /* PASID tables visited at most (0: VTD_INSP_MAX_PASID_TABLES, structs.h) */
};

/* A walk environment over the context that writes nothing (env->dry_run). */
void vtd_inspect_env(const struct vtd_inspect *in, struct vtd_walk_env *env);
/* Whether [pa, pa+len) lies in memory the image holds (always true when the extent is unknown). */
bool vtd_inspect_in_image(const struct vtd_inspect *in, uint64_t pa, uint64_t len);
/* Whether an address has bits at or above the host address width. */
bool vtd_inspect_beyond_haw(const struct vtd_inspect *in, uint64_t pa);
/* The root-table address, or 0 with *fault = VTD_FR_RTADDR_INVALID when RTADDR is unusable
 * (legacy or reserved TTM, reserved bits, address beyond HAW). */
uint64_t vtd_inspect_root_table(const struct vtd_inspect *in, int *fault);

/*
 * The PASID configuration that serves requests of `sid` (with PASID `pasid`, or without one
 * when pasid_valid is false: the context's RID_PASID): 0, or the fault code with *f filled.
 * *pasid_used receives the PASID the lookup used.
 */
int vtd_inspect_space(const struct vtd_inspect *in, uint16_t sid, bool pasid_valid, uint32_t pasid,
                      struct vtd_pasid_cfg *pe, uint32_t *pasid_used, struct vtd_fault_info *f);

#endif
