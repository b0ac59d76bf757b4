/*
 * walk_internal.h: helpers shared by the walk's stage files (not a public interface).
 */
#ifndef VTDSIM_WALKER_WALK_INTERNAL_H
#define VTDSIM_WALKER_WALK_INTERNAL_H

#include "walker/walk.h"

static inline int walk_fault(struct vtd_fault_info *f, int code, uint64_t addr, unsigned level)
{
    f->code = code;
    f->addr = addr;
    f->level = level;
    f->suppressed = false;
    return code;
}

void walk_trace(struct vtd_walk_env *env, unsigned kind, unsigned level, bool write, uint64_t addr, uint64_t val);

/* Read one 64-bit structure word, counting and tracing it; returns the memory result. */
static inline int walk_read64(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, uint64_t *val)
{
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
    if (kind == VTD_TR_FS || kind == VTD_TR_SS)
        env->cnt.paging_reads++;
    int rc = vtd_mem_read64_fast(env->mem, addr, val);
    if (rc)
        *val = 0;
    if (env->trace)
        walk_trace(env, kind, level, false, addr, *val);
    return rc;
}
/*
 * Set `bits` in the entry at `addr` (holding `*val`) atomically, as hardware does for A/D
 * updates; *val receives the new value. Returns the memory result.
 */
int walk_set_bits(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, uint64_t *val, uint64_t bits);

void walk_masks_compute(struct vtd_walk_env *env);

/* The reserved-bit masks for the current capabilities. */
static inline const struct vtd_walk_masks *walk_masks(struct vtd_walk_env *env)
{
    const struct vtd_caps *c = env->caps;
    struct vtd_walk_masks *m = &env->masks;
    if (!m->valid || m->cap != c->cap || m->ecap != c->ecap || m->haw != c->haw)
        walk_masks_compute(env);
    return m;
}

/* Second-stage translation through the hook if one is set. */
static inline int vtd_walk_ss(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa, unsigned access,
                              struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    if (env->hooks && env->hooks->ss_translate)
        return env->hooks->ss_translate(env, pe, gpa, access, out, f);
    return vtd_ss_walk(env, pe, gpa, access, out, f);
}

#endif
