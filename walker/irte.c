/*
 * irte.c: decoding interrupt requests and interrupt-remapping table entries (VT-d 5.1, 9.10,
 * 9.11).
 */
#include "walker/irte.h"

#include "walker/fault.h"

int vtd_irq_decode(uint64_t addr, uint32_t data, struct vtd_irq_req *out)
{
    *out = (struct vtd_irq_req){.remappable = addr & VTD_IRQ_ADDR_IF};
    if (!out->remappable)
        return 0;
    out->shv = addr & VTD_IRQ_ADDR_SHV;
    out->handle = (uint16_t)(vtd_field(addr, VTD_IRQ_ADDR_HANDLE_LO) |
                             (vtd_field(addr, VTD_IRQ_ADDR_HANDLE_HI) << 15));
    out->subhandle = (uint16_t)vtd_field(data, VTD_IRQ_DATA_SUBHANDLE);
    /* With SHV the device picks one of several vectors by the data (multi-vector MSI). */
    out->index = out->handle + (out->shv ? out->subhandle : 0u);
    /* The data's upper half is reserved in the remappable format (5.1.2.2). */
    return (data & VTD_IRQ_DATA_RSVD) ? VTD_FR_IR_REQ_RSVD : 0;
}

/* The reserved bits of the low qword for the entry's format and interrupt mode. */
static uint64_t irte_rsvd_lo(bool posted, bool eime)
{
    if (posted)
        return VTD_IRTE_PI_RSVD_LO | VTD_IRTE_PI_RSVD_LO2;
    return VTD_IRTE_RSVD_LO | VTD_IRTE_RSVD_LO2 | (eime ? 0 : VTD_IRTE_DST_XAPIC_RSVD);
}

static uint32_t irte_dest(uint64_t lo, bool eime)
{
    return eime ? (uint32_t)vtd_field(lo, VTD_IRTE_DST) : (uint32_t)vtd_field(lo, VTD_IRTE_DST_XAPIC_ID);
}

int vtd_irte_decode(uint64_t lo, uint64_t hi, const struct vtd_caps *caps, bool eime, struct vtd_irte *out)
{
    bool posted = lo & VTD_IRTE_IM;
    *out = (struct vtd_irte){
        .present = lo & VTD_IRTE_P, .fpd = lo & VTD_IRTE_FPD, .posted = posted,
        .vector = (uint8_t)vtd_field(lo, VTD_IRTE_V), .sid = (uint16_t)vtd_field(hi, VTD_IRTE_SID),
        .sq = (unsigned)vtd_field(hi, VTD_IRTE_SQ), .svt = (unsigned)vtd_field(hi, VTD_IRTE_SVT),
    };
    if (!out->present)
        return VTD_FR_IR_ENTRY_P;
    if (posted) {
        out->urgent = lo & VTD_IRTE_PI_URG;
        out->pda = (vtd_field(lo, VTD_IRTE_PI_PDA_LO) << 6) | (vtd_field(hi, VTD_IRTE_PI_PDA_HI) << 32);
    } else {
        out->dm = lo & VTD_IRTE_DM;
        out->rh = lo & VTD_IRTE_RH;
        out->tm = lo & VTD_IRTE_TM;
        out->dlm = (unsigned)vtd_field(lo, VTD_IRTE_DLM);
        out->dest = irte_dest(lo, eime);
    }
    uint64_t rsvd_hi = posted ? VTD_IRTE_PI_RSVD_HI : VTD_IRTE_RSVD_HI;
    /* The posted format exists only with CAP.PI (9.11); SVT 11b is reserved (9.10). */
    if ((posted && !vtd_cap_has(caps, VTD_CAP_PI)) || out->svt == VTD_SVT_RSVD || (lo & irte_rsvd_lo(posted, eime)) ||
        (hi & rsvd_hi))
        return VTD_FR_IR_IRTE_RSVD;
    return 0;
}

bool vtd_irte_sid_ok(const struct vtd_irte *e, uint16_t requester)
{
    switch (e->svt) {
    case VTD_SVT_SID: {
        /* SQ 01b/10b/11b: ignore function bit 2, bits 2:1, bits 2:0 of the requester id (9.10;
         * QEMU's vtd_svt_mask has the same masks). */
        static const uint16_t ignore[4] = {0, 0x4, 0x6, 0x7};
        uint16_t mask = (uint16_t)~ignore[e->sq & 3];
        return (requester & mask) == (e->sid & mask);
    }
    case VTD_SVT_BUS: {
        unsigned bus = requester >> 8, start = e->sid >> 8, end = e->sid & 0xff;
        return bus >= start && bus <= end;
    }
    default: return true;
    }
}

void vtd_irte_encode(const struct vtd_irte *e, bool eime, uint64_t *lo, uint64_t *hi)
{
    uint64_t l = (e->present ? VTD_IRTE_P : 0) | (e->fpd ? VTD_IRTE_FPD : 0) | vtd_field_prep(e->vector, VTD_IRTE_V);
    if (e->posted) {
        l |= VTD_IRTE_IM | (e->urgent ? VTD_IRTE_PI_URG : 0) | vtd_field_prep(e->pda >> 6, VTD_IRTE_PI_PDA_LO);
        *hi = vtd_field_prep(e->pda >> 32, VTD_IRTE_PI_PDA_HI);
    } else {
        l |= (e->dm ? VTD_IRTE_DM : 0) | (e->rh ? VTD_IRTE_RH : 0) | (e->tm ? VTD_IRTE_TM : 0) |
             vtd_field_prep(e->dlm, VTD_IRTE_DLM) |
             /* xAPIC: the ID at DST bits 15:8; a wider value spills into the reserved bits. */
             vtd_field_prep(eime ? e->dest : (uint64_t)e->dest << 8, VTD_IRTE_DST);
        *hi = 0;
    }
    *hi |= vtd_field_prep(e->sid, VTD_IRTE_SID) | vtd_field_prep(e->sq, VTD_IRTE_SQ) |
           vtd_field_prep(e->svt, VTD_IRTE_SVT);
    *lo = l;
}

const char *vtd_irte_dlm_name(unsigned dlm)
{
    /* Delivery modes of the xAPIC/x2APIC message (Intel SDM vol. 3, 11.11.2). */
    static const char *const names[8] = {"fixed", "lowest", "smi", "rsvd", "nmi", "init", "rsvd", "extint"};
    return names[dlm & 7];
}
