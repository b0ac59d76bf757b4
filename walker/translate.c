/*
 * translate.c: one request through every stage (VT-d 3.4-3.9): device context, PASID entry,
 * then the paging structures the PGTT selects, and the final output checks.
 */
#include <stddef.h>
#include <string.h>

#include "walker/legacy_ctx_entry.h"
#include "walker/root_entry.h"
#include "walker/walk_internal.h"

/* ATS translation requests report "no access" instead of faulting on permission (VT-d 4.2.3). */
static bool ats_permission_outcome(int code)
{
    return code == VTD_FR_FS_P || code == VTD_FR_US || code == VTD_FR_WRITE || code == VTD_FR_READ ||
           code == VTD_FR_EXEC || code == VTD_FR_L_WRITE || code == VTD_FR_L_READ;
}

static int translate_passthrough(const struct vtd_walk_env *env, uint64_t addr, struct vtd_xlate *x)
{
    if (addr & vtd_bits_above(env->caps->haw))
        return walk_fault(&x->fault, VTD_FR_BEYOND_HAW, 0, 0);
    x->out = addr;
    x->page_shift = VTD_PAGE_SHIFT;
    x->perm = VTD_PERM_ALL;
    x->dirty = true;
    return 0;
}

void vtd_nested_combine(const struct vtd_stage_result *fs, const struct vtd_stage_result *ss, struct vtd_xlate *x)
{
    x->out = ss->out;
    x->page_shift = fs->page_shift < ss->page_shift ? fs->page_shift : ss->page_shift;
    x->perm = (fs->perm & (ss->perm | VTD_PERM_U)) & VTD_PERM_ALL;
    x->dirty = fs->dirty && ss->dirty;
}

int vtd_translate_paging(struct vtd_walk_env *env, const struct vtd_request *req, unsigned access,
                         struct vtd_xlate *x)
{
    const struct vtd_pasid_cfg *pe = &x->pe;
    int rc;
    switch (pe->pgtt) {
    case VTD_PGTT_PT:
        return translate_passthrough(env, req->addr, x);
    case VTD_PGTT_SS:
        if ((rc = vtd_ss_translate_hooked(env, pe, req->addr, access, &x->ss, &x->fault)))
            return rc;
        x->out = x->ss.out;
        x->page_shift = x->ss.page_shift;
        x->perm = x->ss.perm | VTD_PERM_U;
        x->dirty = x->ss.dirty;
        return 0;
    case VTD_PGTT_FS:
        if ((rc = vtd_fs_walk(env, pe, req->addr, access, x->priv, req->kind, &x->fs, &x->fault)))
            return rc;
        x->out = x->fs.out;
        x->page_shift = x->fs.page_shift;
        x->perm = x->fs.perm;
        x->dirty = x->fs.dirty;
        return 0;
    default: /* nested: the first stage's output is guest-physical */
        if ((rc = vtd_fs_walk(env, pe, req->addr, access, x->priv, req->kind, &x->fs, &x->fault)))
            return rc;
        if ((rc = vtd_ss_translate_hooked(env, pe, x->fs.out, access, &x->ss, &x->fault)))
            return rc;
        vtd_nested_combine(&x->fs, &x->ss, x);
        return 0;
    }
}

void vtd_xlate_set_device(const struct vtd_request *req, const struct vtd_ctx *ctx, struct vtd_xlate *x)
{
    if (&x->ctx != ctx)
        x->ctx = *ctx;
    x->pasid = req->pasid_valid ? req->pasid : ctx->rid_pasid;
    /* Requests without PASID take their privilege from the context entry (VT-d 9.4). */
    x->priv = req->pasid_valid ? req->priv : ctx->rid_priv;
}

/* Device stage: context entry, request-type checks and the PASID to use. */
static int translate_device(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    int rc;
    const struct vtd_walk_hooks *h = env->hooks;
    if ((rc = (h && h->ctx_fetch ? h->ctx_fetch : vtd_ctx_fetch)(env, req->sid, &x->ctx, &x->fault)))
        return rc;
    if (req->kind != VTD_REQ_UNTRANSLATED && !x->ctx.dte)
        return walk_fault(&x->fault, VTD_FR_CTX_DTE, 0, 0);
    if (req->pasid_valid && !x->ctx.paside)
        return walk_fault(&x->fault, VTD_FR_CTX_PASIDE, 0, 0);
    vtd_xlate_set_device(req, &x->ctx, x);
    return 0;
}

int vtd_xlate_set_pasid(const struct vtd_caps *caps, const struct vtd_request *req, const struct vtd_pasid_cfg *pe,
                        struct vtd_xlate *x, struct vtd_request *eff, unsigned *access)
{
    if (&x->pe != pe)
        x->pe = *pe;
    x->did = pe->did;
    x->pgtt = pe->pgtt;
    *eff = *req;
    eff->priv = x->priv;
    /* Without ECAP.ERS (revision 3.2 on) execute is not a separate permission: a read. */
    if (!vtd_ecap_has(caps, VTD_ECAP_ERS) && (eff->access & VTD_ACC_X))
        eff->access = (eff->access & ~VTD_ACC_X) | VTD_ACC_R;
    *access = eff->access | (req->kind == VTD_REQ_TRANSLATION ? VTD_ACC_NOCHECK : 0);
    return vtd_pasid_request_check(caps, pe, eff);
}

bool vtd_xlate_out_blocked(const struct vtd_request *req, uint64_t out)
{
    return req->kind == VTD_REQ_UNTRANSLATED && out >= VTD_INTR_ADDR_FIRST && out <= VTD_INTR_ADDR_LAST;
}

/* Legacy device stage: the legacy context entry and the TT's verdict on ATS requests. */
static int translate_legacy_device(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    int rc;
    const struct vtd_walk_hooks *h = env->hooks;
    if ((rc = (h && h->ctx_fetch ? h->ctx_fetch : vtd_ctx_fetch)(env, req->sid, &x->ctx, &x->fault)))
        return rc;
    if (req->kind != VTD_REQ_UNTRANSLATED && !vtd_lctx_tt_allows_ats(x->ctx.tt))
        return walk_fault(&x->fault, VTD_FR_L_TT_BLOCKED, 0, 0);
    vtd_xlate_set_device(req, &x->ctx, x);
    return 0;
}

/* Legacy input width: the smaller of MGAW and the context's AGAW (fault 4h, VT-d 7.1.3). */
static bool legacy_beyond_agaw(const struct vtd_caps *caps, const struct vtd_ctx *ctx, uint64_t addr)
{
    unsigned agaw = vtd_pt_level_shift(ctx->ss_levels + 1), mgaw = vtd_caps_mgaw(caps);
    return addr & vtd_bits_above(agaw < mgaw ? agaw : mgaw);
}

/*
 * A request in legacy mode (TTM 00b): the legacy context, then the second stage or
 * pass-through through the same paging step as scalable mode, with the paging faults in
 * their scalable-mode codes (the caller turns them into legacy ones).
 */
static int translate_legacy(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    int rc;
    /* Legacy mode has no PASID: such requests get the scalable-mode code for it (31h). */
    if (req->pasid_valid)
        return walk_fault(&x->fault, VTD_FR_TTM_PASID, 0, 0);
    if ((rc = translate_legacy_device(env, req, x)))
        return rc;
    if (req->kind == VTD_REQ_TRANSLATED)
        return translate_passthrough(env, req->addr, x);
    vtd_lctx_paging_cfg(&x->ctx, &x->pe);
    if (legacy_beyond_agaw(env->caps, &x->ctx, req->addr))
        return walk_fault(&x->fault, VTD_FR_L_BEYOND_AGAW, 0, 0);
    struct vtd_request eff;
    unsigned access;
    /* No request check applies to a second-stage or pass-through configuration. */
    (void)vtd_xlate_set_pasid(env->caps, req, &x->pe, x, &eff, &access);
    const struct vtd_walk_hooks *h = env->hooks;
    if ((rc = (h && h->paging ? h->paging : vtd_translate_paging)(env, &eff, access, x)))
        return rc;
    if (vtd_xlate_out_blocked(req, x->out))
        return walk_fault(&x->fault, VTD_FR_INTR_ADDR, 0, 0);
    return 0;
}

static int translate_walk(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    int rc;
    if (req->kind == VTD_REQ_INTERRUPT)
        return vtd_interrupt_translate(env, req, x);
    if (vtd_rtaddr_is_legacy(env->rtaddr)) {
        if ((rc = translate_legacy(env, req, x)))
            x->fault.code = rc = vtd_fault_to_legacy(rc);
        return rc;
    }
    if ((rc = translate_device(env, req, x)))
        return rc;
    if (req->kind == VTD_REQ_TRANSLATED)
        return translate_passthrough(env, req->addr, x);
    const struct vtd_walk_hooks *h = env->hooks;
    if ((rc = (h && h->pasid_fetch ? h->pasid_fetch : vtd_pasid_fetch)(env, &x->ctx, x->pasid, &x->pe, &x->fault))) {
        if (rc == VTD_FR_CTX_PDTS && !req->pasid_valid)
            x->fault.code = rc = VTD_FR_CTX_RID_PASID;
        return rc;
    }
    struct vtd_request eff;
    unsigned access;
    if ((rc = vtd_xlate_set_pasid(env->caps, req, &x->pe, x, &eff, &access)))
        return walk_fault(&x->fault, rc, 0, 0);
    if ((rc = (h && h->paging ? h->paging : vtd_translate_paging)(env, &eff, access, x)))
        return rc;
    if (vtd_xlate_out_blocked(req, x->out))
        return walk_fault(&x->fault, VTD_FR_INTR_ADDR, 0, 0);
    return 0;
}

void vtd_xlate_reset(struct vtd_xlate *x)
{
    /* Cleared piece by piece: one 144-byte memset compiles to a string store ("rep stos")
     * whose start-up cost is about 5% of a whole nested walk. */
    x->fault = (struct vtd_fault_info){0};
    x->out = 0;
    x->page_shift = x->perm = x->pgtt = 0;
    x->dirty = x->priv = false;
    x->did = 0;
    x->pasid = 0;
    x->ctx = (struct vtd_ctx){0};
    x->pe = (struct vtd_pasid_cfg){0};
    x->fs.leaf_level = x->ss.leaf_level = 0;
}

int vtd_translate(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    vtd_xlate_reset(x);
    int rc = translate_walk(env, req, x);
    if (rc && req->kind == VTD_REQ_TRANSLATION && ats_permission_outcome(rc)) {
        /* The completion carries no permissions; nothing is recorded as a fault. */
        x->fault = (struct vtd_fault_info){0};
        x->out = 0;
        x->perm = 0;
        x->page_shift = VTD_PAGE_SHIFT;
        return 0;
    }
    if (rc) {
        bool fpd = x->ctx.fpd || x->pe.fpd || x->fault.suppressed;
        x->fault.suppressed = fpd && vtd_fault_qualified(rc);
    }
    return rc;
}
