/*
 * builder.h: construct translation structures in simulated memory.
 *
 * For tests, scenarios and the uAPI front end: root and context tables, PASID directories and
 * tables, first- and second-stage page tables with chosen page sizes and permissions. Nested
 * setups keep first-stage tables at guest-physical addresses that a second-stage table maps.
 * Every function reports an error (negative errno) instead of doing something else.
 */
#ifndef VTDSIM_WALKER_BUILDER_H
#define VTDSIM_WALKER_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/caps.h"
#include "walker/context_entry.h"
#include "walker/mem.h"
#include "walker/pasid_entry.h"

/* Host-physical frames for structures come from one contiguous pool. */
struct vtd_builder {
    struct vtd_mem *mem;
    const struct vtd_caps *caps;
    uint64_t pool_next, pool_end;
    /* Write back (clflush) every entry and zeroed table written, as a driver must when the
     * IOMMU's walks do not snoop the CPU's cache (mem.h; docs/walker.md, "Coherency"). Off
     * after vtd_builder_init. */
    bool flush_writes;
};

/* Errors: -EINVAL (bad argument, misalignment, unsupported size), -EEXIST (overlap with an
 * existing mapping), -ENOMEM (pool or memory exhausted), -ERANGE (beyond the table's width
 * or the host address width), -ENOENT (nothing mapped where an operation needs a mapping),
 * -E2BIG (one map call would write more than VTD_PT_MAX_LEAVES leaves). A map checks its
 * range in address order and stops at the first problem: -ENOMEM as soon as the tables the
 * range needs so far exceed the pool, before any overlap or leaf count further on. */
#define VTD_PT_MAX_LEAVES (UINT64_C(1) << 20) /* 4 GiB of 4 KiB pages */
int vtd_builder_init(struct vtd_builder *b, struct vtd_mem *mem, const struct vtd_caps *caps,
                     uint64_t pool_base, uint64_t pool_size);
/* A zeroed 4 KiB host frame from the pool. */
int vtd_builder_alloc_page(struct vtd_builder *b, uint64_t *pa);

/* A root table; *rtaddr receives the RTADDR_REG value (address | TTM = scalable). */
int vtd_build_root_table(struct vtd_builder *b, uint64_t *rtaddr);
/* Write the context entry for `sid` (present), creating the context table if needed. */
int vtd_build_context(struct vtd_builder *b, uint64_t rtaddr, uint16_t sid, const struct vtd_ctx *ctx);
/* A legacy-mode root table (VT-d 9.1); *rtaddr receives the RTADDR_REG value (TTM = 00b). */
int vtd_build_legacy_root_table(struct vtd_builder *b, uint64_t *rtaddr);
/*
 * Write the legacy context entry for `sid` (present) from the legacy fields of `ctx` (tt,
 * ss_levels, did, slptptr, fpd), creating the context table if needed. -EINVAL unless rtaddr
 * selects legacy mode and the fields fit the entry (TT 0-3, 3-5 levels, SLPTPTR page-aligned).
 */
int vtd_build_legacy_context(struct vtd_builder *b, uint64_t rtaddr, uint16_t sid, const struct vtd_ctx *ctx);
/* A PASID directory for a context with `pdts` (2^(pdts+7) entries); *pdtp receives it. */
int vtd_build_pasid_dir(struct vtd_builder *b, unsigned pdts, uint64_t *pdtp);
/* Write the PASID entry for `pasid` (present), creating its PASID table if needed. */
int vtd_build_pasid_entry(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid,
                          const struct vtd_pasid_cfg *cfg);
/* Clear a PASID entry (all 512 bits) if its table exists. */
int vtd_build_pasid_clear(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid);
/* Physical address of the PASID entry for `pasid` (0 if its table does not exist). */
uint64_t vtd_build_pasid_entry_addr(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid);

/* Formats of page tables. */
enum vtd_pt_format { VTD_PT_FS, VTD_PT_SS };

/* Map flags. */
#define VTD_MAP_AD 1u        /* pre-set A (and D for writable leaves) */
#define VTD_MAP_SNP 2u       /* second stage: set SNP in leaves (needs ECAP.SC) */

/*
 * One page table. Its own address space is host-physical unless `backing` is set: then its
 * tables live at guest-physical addresses, taken from [gpa_pool_base, +gpa_pool_size), that
 * `backing` (a second-stage table) must map to host memory before they are used.
 */
struct vtd_pt {
    struct vtd_builder *b;
    enum vtd_pt_format fmt;
    unsigned levels;         /* FS: 4 or 5; SS: 3, 4 or 5 */
    uint64_t root;           /* top-level table (in the table's own address space) */
    const struct vtd_pt *backing;
    uint64_t gpa_next, gpa_end;
};

int vtd_pt_init(struct vtd_pt *pt, struct vtd_builder *b, enum vtd_pt_format fmt, unsigned levels,
                const struct vtd_pt *backing, uint64_t gpa_pool_base, uint64_t gpa_pool_size);
/*
 * Map [va, va+size) to [pa, pa+size) with pages of 2^page_shift bytes (12, 21 or 30; large
 * pages need the capability: SSLPS for SS, FS1GP for FS 1 GiB), permissions VTD_PERM_* (FS: R is
 * implied by presence, U sets U/S, missing X sets XD; SS: R/W/X bits).
 */
int vtd_pt_map(struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned page_shift,
               unsigned perm, unsigned flags);
/* Map with the largest page sizes alignment and capabilities allow. */
int vtd_pt_map_auto(struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned perm, unsigned flags);
/* Remove leaves covering [va, va+size); a large page must be removed whole (-EINVAL otherwise). */
int vtd_pt_unmap(struct vtd_pt *pt, uint64_t va, uint64_t size);
/* Change the permissions of the leaves covering [va, va+size). */
int vtd_pt_protect(struct vtd_pt *pt, uint64_t va, uint64_t size, unsigned perm);
/* Software lookup (no A/D updates, no faults): 0 with the mapping, -ENOENT if unmapped. */
int vtd_pt_lookup(const struct vtd_pt *pt, uint64_t va, uint64_t *pa, unsigned *page_shift, unsigned *perm);
/*
 * Address (host-physical) and level of the entry that maps `va` at `level` (for tests that
 * corrupt one entry): 0 on success, -ENOENT when a table on the way is missing.
 */
int vtd_pt_entry_addr(const struct vtd_pt *pt, uint64_t va, unsigned level, uint64_t *hpa);
/* Translate an address of this table's own address space to host-physical (identity if no backing). */
int vtd_pt_table_hpa(const struct vtd_pt *pt, uint64_t addr, uint64_t *hpa);

/* A PASID configuration with the usual defaults (present, PWSNP, 4-level FS, 4-level SS). */
void vtd_pasid_cfg_init(struct vtd_pasid_cfg *cfg, unsigned pgtt, uint16_t did);

#endif
