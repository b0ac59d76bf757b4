/* pasid_entry.c: validation and decoding of scalable-mode PASID table entries (VT-d 9.6). */
#include "walker/pasid_entry.h"

#include "walker/fault.h"

static bool pgtt_supported(unsigned pgtt, const struct vtd_caps *caps)
{
    switch (pgtt) {
    case VTD_PGTT_FS: return vtd_ecap_has(caps, VTD_ECAP_FSTS);
    case VTD_PGTT_SS: return vtd_ecap_has(caps, VTD_ECAP_SSTS);
    case VTD_PGTT_NESTED:
        return vtd_ecap_has(caps, VTD_ECAP_NEST) && vtd_ecap_has(caps, VTD_ECAP_FSTS) &&
               vtd_ecap_has(caps, VTD_ECAP_SSTS);
    case VTD_PGTT_PT: return vtd_ecap_has(caps, VTD_ECAP_PT);
    default: return false;
    }
}

/* Bits that must be zero whatever the PGTT. */
static bool pasid_entry_common_rsvd(const struct vtd_pasid_entry *pe, const struct vtd_caps *caps)
{
    for (unsigned i = 3; i < 8; i++)
        if (pe->qw[i])
            return true;
    if (pe->qw[0] & VTD_PE_RSVD0)
        return true;
    if (pe->qw[1] & VTD_PE_RSVD1)
        return true;
    if ((pe->qw[1] & VTD_PE_MT_FIELDS) && !vtd_ecap_has(caps, VTD_ECAP_MTS))
        return true;
    /* DID bits beyond the number of domains CAP.ND reports are reserved (VT-d 11.4.2). */
    unsigned did_bits = vtd_caps_did_bits(caps);
    return did_bits < 16 && (vtd_field(pe->qw[1], VTD_PE_DID) >> did_bits) != 0;
}

/* Second-stage fields (PGTT 2 and 3): 0 or a fault code. */
static int pasid_entry_decode_ss(const struct vtd_pasid_entry *pe, const struct vtd_caps *caps,
                                 struct vtd_pasid_cfg *out)
{
    uint64_t q0 = pe->qw[0];
    if ((q0 & VTD_PE_SSADE) && !vtd_ecap_has(caps, VTD_ECAP_SSADS))
        return VTD_FR_PASID_RSVD;
    unsigned aw = (unsigned)vtd_field(q0, VTD_PE_AW);
    unsigned levels = aw >= 1 && aw <= 3 ? aw + 2 : 0;
    if (!levels || !vtd_caps_sagaw_allows(caps, levels) || 30 + 9 * (levels - 2) > vtd_caps_mgaw(caps))
        return VTD_FR_PASID_INVALID;
    out->ss_levels = levels;
    out->ssee = q0 & VTD_PE_SSEE;
    out->ssade = q0 & VTD_PE_SSADE;
    out->ssptptr = q0 & VTD_PE_SSPTPTR;
    return 0;
}

/* First-stage fields (PGTT 1 and 3): 0 or a fault code. */
static int pasid_entry_decode_fs(const struct vtd_pasid_entry *pe, const struct vtd_caps *caps,
                                 struct vtd_pasid_cfg *out)
{
    uint64_t q2 = pe->qw[2];
    if (q2 & VTD_PE_RSVD2)
        return VTD_FR_PASID_RSVD;
    /* ERE, NXE and SMEP exist only on parts reporting execute requests (revision 3.0/3.1). */
    if ((q2 & (VTD_PE_ERE | VTD_PE_NXE | VTD_PE_SMEP)) && !vtd_ecap_has(caps, VTD_ECAP_ERS))
        return VTD_FR_PASID_RSVD;
    if ((q2 & VTD_PE_EAFE) && !vtd_ecap_has(caps, VTD_ECAP_EAFS))
        return VTD_FR_PASID_RSVD;
    if ((q2 & VTD_PE_SRE) && !vtd_ecap_has(caps, VTD_ECAP_SRS))
        return VTD_FR_PASID_RSVD;
    unsigned fspm = (unsigned)vtd_field(q2, VTD_PE_FSPM);
    if (fspm > 1)
        return VTD_FR_PASID_RSVD;
    if (fspm == 1 && !vtd_cap_has(caps, VTD_CAP_FS5LP))
        return VTD_FR_PASID_INVALID;
    out->fs_levels = fspm ? 5 : 4;
    out->sre = q2 & VTD_PE_SRE;
    out->ere = q2 & VTD_PE_ERE;
    out->wpe = q2 & VTD_PE_WPE;
    out->nxe = q2 & VTD_PE_NXE;
    out->smep = q2 & VTD_PE_SMEP;
    out->eafe = q2 & VTD_PE_EAFE;
    out->fsptptr = q2 & VTD_PE_FSPTPTR;
    return 0;
}

int pasid_entry_decode(const struct vtd_pasid_entry *pe, const struct vtd_caps *caps, struct vtd_pasid_cfg *out)
{
    *out = (struct vtd_pasid_cfg){0};
    if (!vtd_pasid_entry_present(pe))
        return VTD_FR_PASID_P;
    if (pasid_entry_common_rsvd(pe, caps))
        return VTD_FR_PASID_RSVD;
    unsigned pgtt = vtd_pasid_entry_pgtt(pe);
    if (!pgtt_supported(pgtt, caps))
        return VTD_FR_PASID_INVALID;
    out->pgtt = pgtt;
    out->fpd = pe->qw[0] & VTD_PE_FPD;
    out->did = vtd_pasid_entry_did(pe);
    out->pwsnp = pe->qw[1] & VTD_PE_PWSNP;
    out->pgsnp = pe->qw[1] & VTD_PE_PGSNP;
    int rc = 0;
    if (vtd_pgtt_uses_ss(pgtt))
        rc = pasid_entry_decode_ss(pe, caps, out);
    if (!rc && vtd_pgtt_uses_fs(pgtt))
        rc = pasid_entry_decode_fs(pe, caps, out);
    if (rc)
        *out = (struct vtd_pasid_cfg){0}; /* a rejected entry is not used, its FPD included */
    return rc;
}

void pasid_entry_encode(const struct vtd_pasid_cfg *c, struct vtd_pasid_entry *pe)
{
    *pe = (struct vtd_pasid_entry){0};
    unsigned aw = c->ss_levels >= 3 ? c->ss_levels - 2 : 0;
    pe->qw[0] = VTD_PE_P | (c->fpd ? VTD_PE_FPD : 0) | vtd_field_prep(aw, VTD_PE_AW) |
                (c->ssee ? VTD_PE_SSEE : 0) | vtd_field_prep(c->pgtt, VTD_PE_PGTT) |
                (c->ssade ? VTD_PE_SSADE : 0) | (c->ssptptr & VTD_PE_SSPTPTR);
    pe->qw[1] = vtd_field_prep(c->did, VTD_PE_DID) | (c->pwsnp ? VTD_PE_PWSNP : 0) | (c->pgsnp ? VTD_PE_PGSNP : 0);
    pe->qw[2] = (c->sre ? VTD_PE_SRE : 0) | (c->ere ? VTD_PE_ERE : 0) |
                vtd_field_prep(c->fs_levels == 5 ? 1 : 0, VTD_PE_FSPM) | (c->wpe ? VTD_PE_WPE : 0) |
                (c->nxe ? VTD_PE_NXE : 0) | (c->smep ? VTD_PE_SMEP : 0) | (c->eafe ? VTD_PE_EAFE : 0) |
                (c->fsptptr & VTD_PE_FSPTPTR);
}

const char *pgtt_name(unsigned pgtt)
{
    switch (pgtt) {
    case VTD_PGTT_FS: return "first-stage";
    case VTD_PGTT_SS: return "second-stage";
    case VTD_PGTT_NESTED: return "nested";
    case VTD_PGTT_PT: return "pass-through";
    default: return "invalid";
    }
}
