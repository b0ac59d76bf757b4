/*
 * reg_inv.c: register-based invalidation (VT-d 6.5.1): the context-cache command register
 * (CCMD_REG) and the IOTLB registers (IVA_REG, IOTLB_REG at ECAP.IRO) that drivers use when
 * queued invalidation is off. Each request becomes the equivalent queued-invalidation
 * descriptor, run by the one interpreter (qi.c), so both interfaces remove exactly the same
 * entries; the register then reports the granularity actually performed (CAIG, IAIG).
 */
#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/regs.h"
#include "walker/root_entry.h"

/* Register-based invalidation exists for legacy mode with QI off only (6.5: software must not
 * use it in scalable mode or while queued invalidation is enabled). */
static bool reg_inv_allowed(struct vtd_iommu *io, const char *reg)
{
    if (io->regs.gsts & VTD_GSTS_QIES) {
        iommu_warn(io, "%s invalidation while queued invalidation is enabled: ignored", reg);
        return false;
    }
    if (!vtd_rtaddr_is_legacy(io->rtaddr)) {
        iommu_warn(io, "%s invalidation in scalable mode: ignored (use queued invalidation)", reg);
        return false;
    }
    return true;
}

/* Run one descriptor; its granularity when it was performed, 0 (and a warning) when refused. */
static unsigned run_desc(struct vtd_iommu *io, const struct vtd_desc *d, unsigned g)
{
    struct vtd_qi_result r;
    if (vtd_qi_submit_desc(io, d, &r)) {
        iommu_warn(io, "register-based invalidation refused: %s", r.why);
        return 0;
    }
    return g;
}

void iommu_reg_context_invalidate(struct vtd_iommu *io)
{
    uint64_t v = io->regs.ccmd;
    unsigned g = (unsigned)vtd_field(v, VTD_CCMD_CIRG), done = 0;
    if (reg_inv_allowed(io, "CCMD")) {
        struct vtd_desc d = vtd_desc_cc(g, (uint16_t)vtd_field(v, VTD_CCMD_DID), (uint16_t)vtd_field(v, VTD_CCMD_SID),
                                        (unsigned)vtd_field(v, VTD_CCMD_FM));
        done = run_desc(io, &d, g);
    }
    io->regs.ccmd = (v & ~(VTD_CCMD_ICC | VTD_CCMD_CAIG)) | vtd_field_prep(done, VTD_CCMD_CAIG);
}

void iommu_reg_iotlb_invalidate(struct vtd_iommu *io)
{
    uint64_t v = io->regs.iotlb, iva = io->regs.iva;
    unsigned g = (unsigned)vtd_field(v, VTD_IOTLB_IIRG), done = 0;
    /* Without page-selective support hardware performs a domain-selective one and says so. */
    if (g == VTD_QI_IOTLB_G_PAGE && !vtd_cap_has(&io->cfg.caps, VTD_CAP_PSI))
        g = VTD_QI_IOTLB_G_DOMAIN;
    if (reg_inv_allowed(io, "IOTLB_REG")) {
        bool page = g == VTD_QI_IOTLB_G_PAGE;
        struct vtd_desc d = vtd_desc_iotlb(g, (uint16_t)vtd_field(v, VTD_IOTLB_DID), page ? iva & VTD_IVA_ADDR : 0,
                                           page ? (unsigned)vtd_field(iva, VTD_IVA_AM) : 0, page && (iva & VTD_IVA_IH),
                                           v & VTD_IOTLB_DR, v & VTD_IOTLB_DW);
        done = run_desc(io, &d, g);
    }
    io->regs.iotlb = (v & ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG)) | vtd_field_prep(done, VTD_IOTLB_IAIG);
}
