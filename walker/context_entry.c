/* context_entry.c: validation and decoding of scalable-mode context entries (VT-d 9.4). */
#include "walker/context_entry.h"

#include "walker/fault.h"

int ctx_entry_decode(const struct vtd_ctx_entry *ce, const struct vtd_caps *caps, struct vtd_ctx *out)
{
    *out = (struct vtd_ctx){0};
    if (!vtd_ctx_entry_present(ce))
        return VTD_FR_CTX_P;
    uint64_t q0 = ce->qw[0], q1 = ce->qw[1];
    bool rsvd = (q0 & VTD_CTX_RSVD0) || (q1 & VTD_CTX_RSVD1) || ce->qw[2] || ce->qw[3] ||
                (q0 & VTD_CTX_PDTP & vtd_bits_above(caps->haw));
    if (rsvd)
        return VTD_FR_CTX_RSVD;
    /* Enabling a feature the hardware lacks is a programming error, not a reserved bit. */
    if (((q0 & VTD_CTX_PRE) && !vtd_ecap_has(caps, VTD_ECAP_PRS)) ||
        ((q0 & VTD_CTX_DTE) && !vtd_ecap_has(caps, VTD_ECAP_DT)))
        return VTD_FR_CTX_INVALID;
    out->fpd = q0 & VTD_CTX_FPD;
    out->dte = q0 & VTD_CTX_DTE;
    out->paside = q0 & VTD_CTX_PASIDE;
    out->pre = q0 & VTD_CTX_PRE;
    out->pdts = (unsigned)vtd_field(q0, VTD_CTX_PDTS);
    out->pdtp = q0 & VTD_CTX_PDTP;
    out->rid_pasid = (uint32_t)vtd_field(q1, VTD_CTX_RID_PASID);
    out->rid_priv = q1 & VTD_CTX_RID_PRIV;
    return 0;
}
