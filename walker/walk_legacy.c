/*
 * walk_legacy.c: the device stage of a legacy-mode walk (RTADDR_REG.TTM = 00b, VT-d 3.4.2):
 * the root entry's low qword and the 128-bit legacy context entry (9.1, 9.3).
 */
#include "walker/legacy_ctx_entry.h"
#include "walker/root_entry.h"
#include "walker/walk_internal.h"

/* A block read like walk_read_qwords() whose trace record says it is a legacy structure (the
 * explainer decodes it as one). */
static int legacy_read(struct vtd_walk_env *env, unsigned kind, uint64_t addr, uint64_t qw[2])
{
    unsigned before = env->trace ? env->trace->n : 0;
    int rc = walk_read_qwords(env, kind, addr, qw, 2);
    if (env->trace && env->trace->n > before)
        env->trace->rec[env->trace->n - 1].legacy = true;
    return rc;
}

/* The legacy context table for a bus: 8h when RTADDR cannot address a root table, 1h/Ah/8h
 * for the root entry. */
static int legacy_root_fetch(struct vtd_walk_env *env, uint8_t bus, uint64_t *ctp, struct vtd_fault_info *f)
{
    uint64_t rta = env->rtaddr & VTD_RTADDR_RTA;
    /* Legacy mode has no RTADDR fault of its own (30h is scalable-mode only): a root table that
     * cannot be read is a root-table access error. */
    if ((env->rtaddr & VTD_RTADDR_RSVD) || (rta & vtd_bits_above(env->caps->haw)))
        return walk_fault(f, VTD_FR_L_ROOT_ACCESS, rta, 0);
    uint64_t addr = vtd_root_entry_addr(rta, bus), re[2];
    if (legacy_read(env, VTD_TR_ROOT, addr, re))
        return walk_fault(f, VTD_FR_L_ROOT_ACCESS, addr, 0);
    if (!(re[0] & VTD_ROOT_P))
        return walk_fault(f, VTD_FR_L_ROOT_P, addr, 0);
    /* The whole high qword is reserved in legacy mode (QEMU's vtd_get_root_entry checks it too). */
    if ((re[0] & vtd_root_entry_rsvd_mask(env->caps->haw)) || re[1])
        return walk_fault(f, VTD_FR_L_ROOT_RSVD, addr, 0);
    *ctp = re[0] & VTD_ROOT_CTP;
    return 0;
}

int vtd_legacy_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f)
{
    uint64_t ctp;
    *out = (struct vtd_ctx){.legacy = true};
    int rc = legacy_root_fetch(env, (uint8_t)(sid >> 8), &ctp, f);
    if (rc)
        return rc;
    uint64_t addr = vtd_lctx_entry_addr(ctp, (uint8_t)sid), qw[2];
    if (legacy_read(env, VTD_TR_CTX, addr, qw))
        return walk_fault(f, VTD_FR_L_CTX_ACCESS, addr, 0);
    struct vtd_lctx_entry ce = {qw[0], qw[1]};
    rc = lctx_entry_decode(&ce, env->caps, out);
    return rc ? walk_fault(f, rc, addr, 0) : 0;
}
