/*
 * irte.h: interrupt remapping (VT-d chapter 5): the interrupt request as a device writes it
 * (a DWORD write to 0xFEEx_xxxx), the interrupt-remapping table entry (IRTE, 9.10 remapped
 * format and 9.11 posted format) and IRTA_REG's fields, as named masks with their decoders.
 *
 * Bit positions as the specification's figures 5-1/5-2 (request formats) and 9-36/9-37 (IRTE)
 * give them; cross-checked against Linux's struct irte (include/linux/dmar.h) and QEMU's
 * VTD_IR_* / VTDIrq (hw/i386/intel_iommu_internal.h).
 */
#ifndef VTDSIM_WALKER_IRTE_H
#define VTDSIM_WALKER_IRTE_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"
#include "walker/caps.h"

#define VTD_IRTE_SIZE 16u

/* ---- the interrupt request (5.1.2): address and data of the DWORD write ---- */
#define VTD_IRQ_ADDR_HEAD VTD_GENMASK(31, 20)   /* 0xFEE for every interrupt request */
#define VTD_IRQ_ADDR_HEAD_VALUE 0xFEEu
/* Remappable format (Interrupt Format = 1). */
#define VTD_IRQ_ADDR_HANDLE_LO VTD_GENMASK(19, 5) /* handle bits 14:0 */
#define VTD_IRQ_ADDR_IF VTD_BIT(4)               /* 1: remappable, 0: compatibility */
#define VTD_IRQ_ADDR_SHV VTD_BIT(3)              /* subhandle valid: the data adds to the handle */
#define VTD_IRQ_ADDR_HANDLE_HI VTD_BIT(2)        /* handle bit 15 */
#define VTD_IRQ_DATA_SUBHANDLE VTD_GENMASK(15, 0)
#define VTD_IRQ_DATA_RSVD VTD_GENMASK(31, 16)   /* reserved in the remappable format (fault 20h) */
/* Compatibility format (Interrupt Format = 0), the xAPIC MSI layout. */
#define VTD_IRQ_ADDR_COMPAT_DEST VTD_GENMASK(19, 12)
#define VTD_IRQ_ADDR_COMPAT_RH VTD_BIT(3)
#define VTD_IRQ_ADDR_COMPAT_DM VTD_BIT(2)
#define VTD_IRQ_DATA_COMPAT_VECTOR VTD_GENMASK(7, 0)
#define VTD_IRQ_DATA_COMPAT_DLM VTD_GENMASK(10, 8)
#define VTD_IRQ_DATA_COMPAT_TM VTD_BIT(15)

/* ---- IRTA_REG (11.4.12) ---- */
#define VTD_IRTA_S VTD_GENMASK(3, 0)      /* the table holds 2^(S+1) entries */
#define VTD_IRTA_EIME VTD_BIT(11)         /* x2APIC mode: 32-bit destination IDs (needs ECAP.EIM) */
#define VTD_IRTA_IRTA VTD_GENMASK(63, 12) /* table address, 4 KiB aligned */

/* ---- IRTE, low qword (9.10 remapped format) ---- */
#define VTD_IRTE_P VTD_BIT(0)
#define VTD_IRTE_FPD VTD_BIT(1)
#define VTD_IRTE_DM VTD_BIT(2)            /* destination mode: 1 logical */
#define VTD_IRTE_RH VTD_BIT(3)            /* redirection hint */
#define VTD_IRTE_TM VTD_BIT(4)            /* trigger mode: 1 level */
#define VTD_IRTE_DLM VTD_GENMASK(7, 5)    /* delivery mode */
#define VTD_IRTE_AVAIL VTD_GENMASK(11, 8) /* ignored by hardware */
#define VTD_IRTE_RSVD_LO VTD_GENMASK(14, 12)
#define VTD_IRTE_IM VTD_BIT(15)           /* IRTE mode: 1 posted (9.11) */
#define VTD_IRTE_V VTD_GENMASK(23, 16)    /* vector */
#define VTD_IRTE_RSVD_LO2 VTD_GENMASK(31, 24)
#define VTD_IRTE_DST VTD_GENMASK(63, 32)  /* destination ID */
/* xAPIC mode (EIME 0): the 8-bit APIC ID sits in DST bits 15:8; the rest of DST is reserved. */
#define VTD_IRTE_DST_XAPIC_ID VTD_GENMASK(47, 40)
#define VTD_IRTE_DST_XAPIC_RSVD (VTD_GENMASK(39, 32) | VTD_GENMASK(63, 48))
/* ---- IRTE, low qword (9.11 posted format) ---- */
#define VTD_IRTE_PI_RSVD_LO VTD_GENMASK(7, 2)
#define VTD_IRTE_PI_RSVD_LO2 (VTD_GENMASK(13, 12) | VTD_GENMASK(37, 24))
#define VTD_IRTE_PI_URG VTD_BIT(14)       /* urgent */
#define VTD_IRTE_PI_PDA_LO VTD_GENMASK(63, 38) /* posted-interrupt descriptor address bits 31:6 */
/* ---- IRTE, high qword (both formats) ---- */
#define VTD_IRTE_SID VTD_GENMASK(15, 0)
#define VTD_IRTE_SQ VTD_GENMASK(17, 16)   /* source-id qualifier: function bits ignored */
#define VTD_IRTE_SVT VTD_GENMASK(19, 18)  /* source validation type */
#define VTD_IRTE_RSVD_HI VTD_GENMASK(63, 20)
#define VTD_IRTE_PI_RSVD_HI VTD_GENMASK(31, 20)
#define VTD_IRTE_PI_PDA_HI VTD_GENMASK(63, 32) /* descriptor address bits 63:32 */

/* Source validation types (SVT). */
enum vtd_irte_svt {
    VTD_SVT_NONE = 0,  /* no check */
    VTD_SVT_SID = 1,   /* the requester id must equal SID, under the SQ mask */
    VTD_SVT_BUS = 2,   /* the bus must lie in [SID 15:8, SID 7:0] */
    VTD_SVT_RSVD = 3,
};

/* A decoded IRTE. */
struct vtd_irte {
    bool present, fpd, posted;
    bool dm, rh, tm;
    unsigned dlm;
    uint8_t vector;
    uint32_t dest;       /* destination ID: the 8-bit APIC ID in xAPIC mode */
    uint16_t sid;
    unsigned sq, svt;
    bool urgent;         /* posted format */
    uint64_t pda;        /* posted format: the descriptor's address (64-byte aligned) */
};

/* An interrupt request decoded from its address and data (5.1.2). */
struct vtd_irq_req {
    bool remappable;     /* Interrupt Format */
    bool shv;
    uint16_t handle;
    uint16_t subhandle;
    uint32_t index;      /* handle, plus the subhandle with SHV (may exceed 16 bits) */
};

/* Whether a write to `addr` without PASID is an interrupt request (0xFEEx_xxxx, 3.14). */
static inline bool vtd_irq_addr_is_interrupt(uint64_t addr)
{
    return addr <= UINT32_MAX && vtd_field(addr, VTD_IRQ_ADDR_HEAD) == VTD_IRQ_ADDR_HEAD_VALUE;
}
/* Entries of the table IRTA_REG describes, and its address. */
static inline uint32_t vtd_irta_entries(uint64_t irta) { return UINT32_C(2) << vtd_field(irta, VTD_IRTA_S); }
static inline uint64_t vtd_irta_table(uint64_t irta) { return irta & VTD_IRTA_IRTA; }

/* Decode an interrupt request's format, handle and index; 0 or VTD_FR_IR_REQ_RSVD. */
int vtd_irq_decode(uint64_t addr, uint32_t data, struct vtd_irq_req *out);
/*
 * Check and decode an IRTE: VTD_FR_IR_ENTRY_P when not present, VTD_FR_IR_IRTE_RSVD for a
 * reserved bit, SVT 11b, the posted format without CAP.PI, or (remapped, xAPIC mode) a
 * destination beyond 8 bits; 0 when usable. FPD is decoded even when the entry is not present.
 */
int vtd_irte_decode(uint64_t lo, uint64_t hi, const struct vtd_caps *caps, bool eime, struct vtd_irte *out);
/* Whether a requester passes the IRTE's source validation (9.10 SVT/SQ). */
bool vtd_irte_sid_ok(const struct vtd_irte *e, uint16_t requester);
/* Encode a decoded IRTE (with P as given); the inverse of vtd_irte_decode. */
void vtd_irte_encode(const struct vtd_irte *e, bool eime, uint64_t *lo, uint64_t *hi);
/* Name of a delivery mode ("fixed", "lowest", "smi", "nmi", "init", "extint", "rsvd"). */
const char *vtd_irte_dlm_name(unsigned dlm);

#endif
