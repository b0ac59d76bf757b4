/* caps.c: the default capabilities and consistency checks. */
#include "walker/caps.h"

#include <stddef.h>

void vtd_caps_default(struct vtd_caps *c)
{
    c->haw = 48;
    c->cap = vtd_field_prep(6, VTD_CAP_ND) |
             vtd_field_prep(VTD_SAGAW_39 | VTD_SAGAW_48 | VTD_SAGAW_57, VTD_CAP_SAGAW) |
             vtd_field_prep(57 - 1, VTD_CAP_MGAW) | VTD_CAP_ZLR |
             vtd_field_prep(0x220 >> 4, VTD_CAP_FRO) | VTD_CAP_SSLPS_2M | VTD_CAP_SSLPS_1G |
             VTD_CAP_PSI | vtd_field_prep(8 - 1, VTD_CAP_NFR) | vtd_field_prep(18, VTD_CAP_MAMV) |
             VTD_CAP_DWD | VTD_CAP_DRD | VTD_CAP_FS1GP | VTD_CAP_FS5LP;
    c->ecap = VTD_ECAP_QI | VTD_ECAP_DT | VTD_ECAP_PT | VTD_ECAP_SC |
              vtd_field_prep(0xF00 >> 4, VTD_ECAP_IRO) | vtd_field_prep(15, VTD_ECAP_MHMV) |
              VTD_ECAP_NEST | VTD_ECAP_PRS | VTD_ECAP_SRS | VTD_ECAP_EAFS |
              vtd_field_prep(20 - 1, VTD_ECAP_PSS) | VTD_ECAP_PASID | VTD_ECAP_PDS | VTD_ECAP_SMTS |
              VTD_ECAP_SSADS | VTD_ECAP_SSTS | VTD_ECAP_FSTS | VTD_ECAP_SMPWC;
}

unsigned vtd_ss_levels_for_width(unsigned width)
{
    switch (width) {
    case 39: return 3;
    case 48: return 4;
    case 57: return 5;
    default: return 0;
    }
}

bool vtd_caps_sagaw_allows(const struct vtd_caps *c, unsigned levels)
{
    /* SAGAW bit n (n = 1, 2, 3) announces an (n+2)-level table (VT-d 11.4.2). */
    return levels >= 3 && levels <= 5 && (vtd_caps_sagaw(c) & (1u << (levels - 2)));
}

bool vtd_caps_valid(const struct vtd_caps *c, const char **why)
{
    const char *msg = NULL;
    if (c->haw < 32 || c->haw > 52)
        msg = "host address width must be 32..52 bits";
    else if (vtd_caps_mgaw(c) < 39 || vtd_caps_mgaw(c) > 57)
        msg = "MGAW must be 39..57 bits";
    else if (!vtd_ecap_has(c, VTD_ECAP_SMTS))
        msg = "ECAP.SMTS must be set: only scalable mode is modelled";
    else if (vtd_ecap_has(c, VTD_ECAP_NEST) && !(vtd_ecap_has(c, VTD_ECAP_FSTS) && vtd_ecap_has(c, VTD_ECAP_SSTS)))
        msg = "ECAP.NEST needs both FSTS and SSTS";
    else if (vtd_ecap_has(c, VTD_ECAP_SSTS) && !(vtd_caps_sagaw(c) & (VTD_SAGAW_39 | VTD_SAGAW_48 | VTD_SAGAW_57)))
        msg = "second-stage translation needs a SAGAW width of 39, 48 or 57 bits";
    else if (vtd_caps_did_bits(c) > 16)
        msg = "CAP.ND above 6 (16-bit domain ids) is reserved";
    if (why)
        *why = msg;
    return msg == NULL;
}
