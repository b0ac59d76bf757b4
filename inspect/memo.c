/*
 * memo.c: direct-mapped memos of context and PASID fetches in front of the walker's own stage
 * functions (struct vtd_walk_hooks, as sim/ puts its caches there).
 */
#include "inspect/memo.h"

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

void vtd_insp_memo_attach(struct vtd_insp_memo *m, struct vtd_walk_env *env)
{
    *m = (struct vtd_insp_memo){.hooks = {.ctx_fetch = memo_ctx_fetch, .pasid_fetch = memo_pasid_fetch}};
    env->hooks = &m->hooks;
    env->opaque = m;
}
