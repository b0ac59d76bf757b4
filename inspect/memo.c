/*
 * memo.c: direct-mapped memos of context and PASID fetches and of first-stage leaf tables in
 * front of the walker's own stage functions (struct vtd_walk_hooks, as sim/ puts its caches
 * there).
 */
#include "inspect/memo.h"

#include <string.h>

#include "walker/bits.h"

static int memo_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f)
{
    struct vtd_insp_memo *m = env->opaque;
    struct vtd_insp_memo_ctx *e = &m->ctx[(sid ^ sid >> 6) % VTD_INSP_MEMO_SLOTS];
    if (!e->valid || e->sid != sid) {
        e->f = (struct vtd_fault_info){0};
        e->rc = vtd_ctx_fetch(env, sid, &e->ctx, &e->f);
        e->sid = sid;
        e->valid = true;
    }
    *out = e->ctx;
    if (e->rc)
        *f = e->f;
    return e->rc;
}

static int memo_pasid_fetch(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid,
                            struct vtd_pasid_cfg *out, struct vtd_fault_info *f)
{
    struct vtd_insp_memo *m = env->opaque;
    /* What the fetch reads depends on the directory (address and size) and the PASID only. */
    uint64_t h = ctx->pdtp >> 12 ^ pasid ^ (uint64_t)pasid >> 6;
    struct vtd_insp_memo_pasid *e = &m->pasid[h % VTD_INSP_MEMO_SLOTS];
    if (!e->valid || e->pdtp != ctx->pdtp || e->pdts != ctx->pdts || e->pasid != pasid) {
        e->f = (struct vtd_fault_info){0};
        e->rc = vtd_pasid_fetch(env, ctx, pasid, &e->cfg, &e->f);
        e->pdtp = ctx->pdtp;
        e->pdts = ctx->pdts;
        e->pasid = pasid;
        e->valid = true;
    }
    *out = e->cfg;
    if (e->rc)
        *f = e->f;
    return e->rc;
}

/* The 2 MiB region a leaf table maps: va bits 63:21 (VT-d 3.6, a PDE's reach). */
static uint64_t memo_region(uint64_t va) { return va >> vtd_pt_level_shift(2); }

/* The slot of a region of one first-stage table tree: consecutive regions get consecutive slots. */
static struct vtd_insp_memo_table *memo_table_slot(struct vtd_insp_memo *m, const struct vtd_pasid_cfg *pe,
                                                   uint64_t region)
{
    uint64_t h = region ^ region >> 13 ^ pe->fsptptr >> 12;
    return &m->table[h % VTD_INSP_MEMO_TABLES];
}

/*
 * Whether slot `e` holds the leaf table of `region` under `pe`. Besides the tables, a walk above
 * the leaf depends on the A/D settings (a missing A bit faults without PWSNP, VT-d 3.6.2) and,
 * nested, on the second stage: nested walks are not remembered at all.
 */
static bool memo_table_matches(const struct vtd_insp_memo_table *e, const struct vtd_pasid_cfg *pe, uint64_t region)
{
    return e->region_plus1 == region + 1 && e->fsptptr == pe->fsptptr && e->levels == pe->fs_levels &&
           e->pwsnp == pe->pwsnp && e->eafe == pe->eafe;
}

static void memo_fs_start(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va,
                          struct vtd_walk_start *start)
{
    uint64_t region = memo_region(va);
    const struct vtd_insp_memo_table *e = memo_table_slot(env->opaque, pe, region);
    if (pe->pgtt == VTD_PGTT_FS && memo_table_matches(e, pe, region))
        *start = (struct vtd_walk_start){.level = 1, .table = e->table, .perm = e->perm};
}

/*
 * Remember the leaf table of a full walk that ended on a 4 KiB page with read access: such a
 * walk checked every entry above (present, reserved bits, their A bits) and the image cannot
 * change, so any later request in the region would pass them the same way. A walk without read
 * access skipped the A bit checks (fs_update_ad in walker/walk_fs.c) and is not remembered.
 */
static void memo_fs_done(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va, unsigned start_level,
                         const struct vtd_stage_result *res)
{
    if (pe->pgtt != VTD_PGTT_FS || start_level != pe->fs_levels || res->leaf_level != 1 ||
        !(res->perm & VTD_PERM_R))
        return;
    uint64_t region = memo_region(va);
    struct vtd_insp_memo_table *e = memo_table_slot(env->opaque, pe, region);
    *e = (struct vtd_insp_memo_table){.region_plus1 = region + 1, .fsptptr = pe->fsptptr, .levels = pe->fs_levels,
                                      .pwsnp = pe->pwsnp, .eafe = pe->eafe, .perm = res->perm_above[1],
                                      .table = res->table[1]};
}

void vtd_insp_memo_attach(struct vtd_insp_memo *m, struct vtd_walk_env *env)
{
    memset(m, 0, sizeof *m); /* every slot empty: valid false, region_plus1 0 */
    m->hooks = (struct vtd_walk_hooks){.ctx_fetch = memo_ctx_fetch,
                                       .pasid_fetch = memo_pasid_fetch,
                                       .fs_start = memo_fs_start,
                                       .fs_done = memo_fs_done};
    env->hooks = &m->hooks;
    env->opaque = m;
}
