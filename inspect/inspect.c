/* inspect.c: the inspection context: a dry-run environment, the image's extent, RTADDR. */
#include "inspect/inspect.h"

#include "walker/root_entry.h"

void vtd_inspect_env(const struct vtd_inspect *in, struct vtd_walk_env *env)
{
    vtd_walk_env_init(env, in->mem, &in->caps, in->rtaddr);
    /* The image and the registers are evidence: a walk must not set A/D bits in them. */
    env->dry_run = true;
}

bool vtd_inspect_in_image(const struct vtd_inspect *in, uint64_t pa, uint64_t len)
{
    if (!in->nranges)
        return true;
    for (size_t i = 0; i < in->nranges; i++) {
        const struct vtd_inspect_range *r = &in->ranges[i];
        if (pa >= r->base && pa < r->end && len <= r->end - pa)
            return true;
    }
    return false;
}

bool vtd_inspect_beyond_haw(const struct vtd_inspect *in, uint64_t pa)
{
    return (pa & vtd_bits_above(in->caps.haw)) != 0;
}

uint64_t vtd_inspect_root_table(const struct vtd_inspect *in, int *fault)
{
    uint64_t rta = in->rtaddr & VTD_RTADDR_RTA;
    /* Scalable mode only (TTM 01b, VT-d 11.4.6); the model does not walk legacy tables. */
    if (vtd_field(in->rtaddr, VTD_RTADDR_TTM) != VTD_TTM_SCALABLE || (in->rtaddr & VTD_RTADDR_RSVD) ||
        vtd_inspect_beyond_haw(in, rta)) {
        *fault = VTD_FR_RTADDR_INVALID;
        return 0;
    }
    *fault = 0;
    return rta;
}

int vtd_inspect_space(const struct vtd_inspect *in, uint16_t sid, bool pasid_valid, uint32_t pasid,
                      struct vtd_pasid_cfg *pe, uint32_t *pasid_used, struct vtd_fault_info *f)
{
    struct vtd_walk_env env;
    struct vtd_ctx ctx;
    vtd_inspect_env(in, &env);
    *f = (struct vtd_fault_info){0};
    *pasid_used = pasid;
    int rc = vtd_ctx_fetch(&env, sid, &ctx, f);
    if (rc)
        return rc;
    if (!pasid_valid)
        *pasid_used = ctx.rid_pasid;
    else if (!ctx.paside) {
        f->code = VTD_FR_CTX_PASIDE;
        return f->code;
    }
    return vtd_pasid_fetch(&env, &ctx, *pasid_used, pe, f);
}
