/* legacy_ctx_entry.c: validation and decoding of legacy-mode context entries (VT-d 9.3). */
#include "walker/legacy_ctx_entry.h"

#include "walker/fault.h"

/* The widest second-stage table SAGAW announces, in levels (0 if none). */
static unsigned widest_sagaw_levels(const struct vtd_caps *caps)
{
    for (unsigned levels = 5; levels >= 3; levels--)
        if (vtd_caps_sagaw_allows(caps, levels))
            return levels;
    return 0;
}

/* Reserved bits: fixed ones, DID bits beyond CAP.ND, and SLPTPTR bits at or above HAW when a
 * second-stage table is used (pass-through ignores SLPTPTR, VT-d 9.3). */
static bool lctx_rsvd_set(const struct vtd_lctx_entry *ce, const struct vtd_caps *caps, unsigned tt)
{
    uint64_t did_rsvd = vtd_field_prep(vtd_bits_above(vtd_caps_did_bits(caps)) & 0xFFFF, VTD_LCTX_DID);
    uint64_t ptr_rsvd = tt == VTD_LCTX_TT_PT ? 0 : VTD_LCTX_SLPTPTR & vtd_bits_above(caps->haw);
    return (ce->lo & (VTD_LCTX_RSVD_LO | ptr_rsvd)) || (ce->hi & (VTD_LCTX_RSVD_HI | VTD_LCTX_RSVD_HI2 | did_rsvd));
}

/* Whether TT and AW name something this hardware does (fault 3h otherwise, as QEMU's
 * vtd_dev_to_context_entry reports an unsupported level or type). */
static bool lctx_programming_valid(unsigned tt, unsigned levels, const struct vtd_caps *caps)
{
    if (tt == VTD_LCTX_TT_RSVD || (tt == VTD_LCTX_TT_ALL && !vtd_ecap_has(caps, VTD_ECAP_DT)) ||
        (tt == VTD_LCTX_TT_PT && !vtd_ecap_has(caps, VTD_ECAP_PT)))
        return false;
    /* Pass-through must still name the widest supported AGAW (VT-d 9.3, AW field). */
    if (tt == VTD_LCTX_TT_PT)
        return levels == widest_sagaw_levels(caps);
    return vtd_caps_sagaw_allows(caps, levels);
}

int lctx_entry_decode(const struct vtd_lctx_entry *ce, const struct vtd_caps *caps, struct vtd_ctx *out)
{
    *out = (struct vtd_ctx){0};
    out->legacy = true;
    out->fpd = ce->lo & VTD_LCTX_FPD;
    if (!(ce->lo & VTD_LCTX_P))
        return VTD_FR_L_CTX_P;
    unsigned tt = (unsigned)vtd_field(ce->lo, VTD_LCTX_TT);
    if (lctx_rsvd_set(ce, caps, tt))
        return VTD_FR_L_CTX_RSVD;
    unsigned levels = vtd_lctx_aw_levels((unsigned)vtd_field(ce->hi, VTD_LCTX_AW));
    if (!lctx_programming_valid(tt, levels, caps))
        return VTD_FR_L_CTX_INVALID;
    out->tt = tt;
    out->ss_levels = levels;
    out->did = (uint16_t)vtd_field(ce->hi, VTD_LCTX_DID);
    out->slptptr = ce->lo & VTD_LCTX_SLPTPTR;
    return 0;
}

void lctx_entry_encode(const struct vtd_ctx *ctx, struct vtd_lctx_entry *ce)
{
    ce->lo = VTD_LCTX_P | (ctx->fpd ? VTD_LCTX_FPD : 0) | vtd_field_prep(ctx->tt, VTD_LCTX_TT) |
             (ctx->slptptr & VTD_LCTX_SLPTPTR);
    ce->hi = vtd_field_prep(ctx->ss_levels - 2, VTD_LCTX_AW) | vtd_field_prep(ctx->did, VTD_LCTX_DID);
}

void vtd_lctx_paging_cfg(const struct vtd_ctx *ctx, struct vtd_pasid_cfg *out)
{
    /* Legacy second-stage tables have no A/D bits and no execute permission: SSADE and SSEE
     * stay clear, which is how the scalable-mode walk treats a PGTT 2 entry without them. */
    *out = (struct vtd_pasid_cfg){.pgtt = ctx->tt == VTD_LCTX_TT_PT ? VTD_PGTT_PT : VTD_PGTT_SS,
                                  .fpd = ctx->fpd, .did = ctx->did, .pwsnp = true,
                                  .ss_levels = ctx->ss_levels, .ssptptr = ctx->slptptr};
}

const char *vtd_lctx_tt_name(unsigned tt)
{
    static const char *const names[] = {"untranslated", "all", "pass-through", "reserved"};
    return names[tt & 3];
}
