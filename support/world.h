/*
 * world.h: a ready-made setup: simulated memory, capabilities, a root table and devices with PASID
 * tables, built with walker/builder.h. Shared by the tests, the benchmarks and the `vtdsim demo` command.
 */
#ifndef VTDSIM_TESTS_WORLD_H
#define VTDSIM_TESTS_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/builder.h"
#include "walker/walk.h"

/* Host-physical layout of a world (HAW >= 36). */
#define WORLD_POOL_BASE UINT64_C(0x10000000)   /* structures: 256 MiB */
#define WORLD_POOL_SIZE UINT64_C(0x10000000)
#define WORLD_GUEST_RAM_HPA UINT64_C(0x40000000) /* nested: guest RAM backing, 1 GiB */
#define WORLD_GUEST_RAM_SIZE UINT64_C(0x40000000)
#define WORLD_GUEST_PT_GPA UINT64_C(0x00100000)  /* nested: guest's first-stage tables, 16 MiB */
#define WORLD_GUEST_PT_SIZE UINT64_C(0x01000000)

struct world {
    struct vtd_caps caps;
    struct vtd_mem *mem;
    struct vtd_builder b;
    uint64_t rtaddr;
    struct vtd_walk_env env;
    struct vtd_trace trace;
    bool owns_mem;
};

/* caps NULL: the defaults. Returns 0 or a negative errno. */
int world_init(struct world *w, const struct vtd_caps *caps);
/* The same over existing memory (e.g. a simulated IOMMU's), which world_fini leaves alone. */
int world_init_mem(struct world *w, const struct vtd_caps *caps, struct vtd_mem *mem);
void world_fini(struct world *w);

/* A device with PASIDs enabled (PASIDE, DTE and PRE as the caps allow, PDTS 7, RID_PASID 0). */
int world_device(struct world *w, uint16_t sid, struct vtd_ctx *ctx);

/*
 * A PASID entry of type `pgtt` with its tables: FS-only and SS-only get an empty table of
 * `levels`; nested gets an SS table (ss_levels) that maps guest RAM [0, 1 GiB) to
 * WORLD_GUEST_RAM_HPA and an FS table (levels) in guest memory. PT needs no table.
 * cfg_out receives the PASID configuration written (edit and rewrite it to vary fields).
 */
int world_pasid(struct world *w, const struct vtd_ctx *ctx, uint32_t pasid, unsigned pgtt, unsigned levels,
                unsigned ss_levels, struct vtd_pt *fs, struct vtd_pt *ss, struct vtd_pasid_cfg *cfg_out);

/*
 * Legacy mode (TTM 00b): world_legacy_root() switches the world to a new, empty legacy root
 * table; world_legacy_device() writes a legacy context entry of type `tt` (enum vtd_lctx_tt) for
 * `sid` with domain `did` over an empty second-stage table of `levels` (3-5; pass-through
 * gets the widest SAGAW and no table). ctx_out receives the decoded context written.
 */
int world_legacy_root(struct world *w);
int world_legacy_device(struct world *w, uint16_t sid, unsigned tt, unsigned levels, uint16_t did, struct vtd_pt *ss,
                        struct vtd_ctx *ctx_out);

/* Translate with tracing on; pasid < 0 means a request without PASID. Returns the fault code. */
int world_xlate(struct world *w, uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv,
                struct vtd_xlate *x);
int world_xlate_kind(struct world *w, uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv,
                     enum vtd_req_kind kind, struct vtd_xlate *x);

#endif
