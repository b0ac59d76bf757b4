/* world.c: ready-made setups (see world.h). */
#include "world.h"

#include <errno.h>

#include "walker/legacy_ctx_entry.h"

int world_init_mem(struct world *w, const struct vtd_caps *caps, struct vtd_mem *mem)
{
    *w = (struct world){0};
    if (caps)
        w->caps = *caps;
    else
        vtd_caps_default(&w->caps);
    w->mem = mem;
    if (!w->mem)
        return -ENOMEM;
    int rc = vtd_builder_init(&w->b, w->mem, &w->caps, WORLD_POOL_BASE, WORLD_POOL_SIZE);
    if (!rc)
        rc = vtd_build_root_table(&w->b, &w->rtaddr);
    vtd_walk_env_init(&w->env, w->mem, &w->caps, w->rtaddr);
    w->env.trace = &w->trace;
    return rc;
}

int world_init(struct world *w, const struct vtd_caps *caps)
{
    struct vtd_caps c;
    if (caps)
        c = *caps;
    else
        vtd_caps_default(&c);
    int rc = world_init_mem(w, &c, vtd_mem_new(c.haw));
    w->owns_mem = w->mem != NULL;
    return rc;
}

void world_fini(struct world *w)
{
    if (w->owns_mem)
        vtd_mem_free(w->mem);
    w->mem = NULL;
}

int world_device(struct world *w, uint16_t sid, struct vtd_ctx *ctx)
{
    *ctx = (struct vtd_ctx){.paside = true, .pdts = 7,
                            .dte = vtd_ecap_has(&w->caps, VTD_ECAP_DT),
                            .pre = vtd_ecap_has(&w->caps, VTD_ECAP_PRS)};
    int rc = vtd_build_pasid_dir(&w->b, ctx->pdts, &ctx->pdtp);
    return rc ? rc : vtd_build_context(&w->b, w->rtaddr, sid, ctx);
}

static int world_guest_ram(struct world *w, unsigned ss_levels, struct vtd_pt *ss)
{
    int rc = vtd_pt_init(ss, &w->b, VTD_PT_SS, ss_levels, NULL, 0, 0);
    return rc ? rc : vtd_pt_map_auto(ss, 0, WORLD_GUEST_RAM_HPA, WORLD_GUEST_RAM_SIZE,
                                     VTD_PERM_R | VTD_PERM_W | VTD_PERM_X, 0);
}

int world_pasid(struct world *w, const struct vtd_ctx *ctx, uint32_t pasid, unsigned pgtt, unsigned levels,
                unsigned ss_levels, struct vtd_pt *fs, struct vtd_pt *ss, struct vtd_pasid_cfg *cfg_out)
{
    struct vtd_pasid_cfg cfg;
    vtd_pasid_cfg_init(&cfg, pgtt, (uint16_t)(pasid + 1));
    int rc = 0;
    switch (pgtt) {
    case VTD_PGTT_FS:
        rc = vtd_pt_init(fs, &w->b, VTD_PT_FS, levels, NULL, 0, 0);
        cfg.fs_levels = levels;
        cfg.fsptptr = fs->root;
        break;
    case VTD_PGTT_SS:
        rc = vtd_pt_init(ss, &w->b, VTD_PT_SS, levels, NULL, 0, 0);
        cfg.ss_levels = levels;
        cfg.ssptptr = ss->root;
        break;
    case VTD_PGTT_NESTED:
        rc = world_guest_ram(w, ss_levels, ss);
        if (!rc)
            rc = vtd_pt_init(fs, &w->b, VTD_PT_FS, levels, ss, WORLD_GUEST_PT_GPA, WORLD_GUEST_PT_SIZE);
        cfg.fs_levels = levels;
        cfg.ss_levels = ss_levels;
        cfg.fsptptr = fs->root;
        cfg.ssptptr = ss->root;
        break;
    default:
        break;
    }
    if (!rc)
        rc = vtd_build_pasid_entry(&w->b, ctx, pasid, &cfg);
    if (cfg_out)
        *cfg_out = cfg;
    return rc;
}

int world_legacy_root(struct world *w)
{
    int rc = vtd_build_legacy_root_table(&w->b, &w->rtaddr);
    w->env.rtaddr = w->rtaddr;
    return rc;
}

/* The widest second-stage table the capabilities announce (what legacy pass-through names). */
static unsigned widest_levels(const struct vtd_caps *caps)
{
    unsigned levels = 5;
    while (levels > 3 && !vtd_caps_sagaw_allows(caps, levels))
        levels--;
    return levels;
}

int world_legacy_device(struct world *w, uint16_t sid, unsigned tt, unsigned levels, uint16_t did, struct vtd_pt *ss,
                        struct vtd_ctx *ctx_out)
{
    struct vtd_ctx c = {.legacy = true, .tt = tt, .ss_levels = levels, .did = did};
    int rc = 0;
    if (tt == VTD_LCTX_TT_PT)
        c.ss_levels = widest_levels(&w->caps);
    else if (!(rc = vtd_pt_init(ss, &w->b, VTD_PT_SS, levels, NULL, 0, 0)))
        c.slptptr = ss->root;
    if (!rc)
        rc = vtd_build_legacy_context(&w->b, w->rtaddr, sid, &c);
    if (ctx_out)
        *ctx_out = c;
    return rc;
}

int world_xlate_kind(struct world *w, uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv,
                     enum vtd_req_kind kind, struct vtd_xlate *x)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
                              .addr = addr, .access = access, .priv = priv, .kind = kind};
    w->trace.n = w->trace.dropped = 0;
    w->env.cnt = (struct vtd_walk_counters){0};
    w->env.rtaddr = w->rtaddr;
    return vtd_translate(&w->env, &req, x);
}

int world_xlate(struct world *w, uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv,
                struct vtd_xlate *x)
{
    return world_xlate_kind(w, sid, pasid, addr, access, priv, VTD_REQ_UNTRANSLATED, x);
}
