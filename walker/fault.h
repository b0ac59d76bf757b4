/*
 * fault.h: translation fault reasons, legacy (01h-0Eh), interrupt remapping (20h-26h) and
 * scalable mode (30h on).
 *
 * The codes are those the VT-d specification lists (appendix A, "Non-Recoverable Fault Reason
 * Encodings"; cross-checked against the reason table in Linux's drivers/iommu/intel/dmar.c and,
 * for the legacy ones, QEMU's VTDFaultReason in hw/i386/intel_iommu_internal.h). Each has a
 * short symbolic name for scenarios and reports; legacy names start with "LEGACY_".
 */
#ifndef VTDSIM_WALKER_FAULT_H
#define VTDSIM_WALKER_FAULT_H

#include <stdbool.h>

enum vtd_fault {
    VTD_FR_NONE = 0,
    /* Legacy mode (RTADDR_REG.TTM = 00b). */
    VTD_FR_L_ROOT_P = 0x1,
    VTD_FR_L_CTX_P = 0x2,
    VTD_FR_L_CTX_INVALID = 0x3,       /* TT or AW the hardware does not support */
    VTD_FR_L_BEYOND_AGAW = 0x4,       /* input above 2^min(MGAW, AGAW) - 1 */
    VTD_FR_L_WRITE = 0x5,
    VTD_FR_L_READ = 0x6,
    VTD_FR_L_PAGING_ACCESS = 0x7,     /* error reading a second-stage paging entry */
    VTD_FR_L_ROOT_ACCESS = 0x8,
    VTD_FR_L_CTX_ACCESS = 0x9,
    VTD_FR_L_ROOT_RSVD = 0xA,
    VTD_FR_L_CTX_RSVD = 0xB,
    VTD_FR_L_PAGING_RSVD = 0xC,
    VTD_FR_L_TT_BLOCKED = 0xD,        /* translation or translated request blocked by TT */
    VTD_FR_L_INTR_ADDR = 0xE,         /* output in the interrupt address range */
    /* Interrupt remapping (VT-d 5.1.4.1; Linux's irq_remap_fault_reasons, QEMU's VTD_FR_IR_*). */
    VTD_FR_IR_REQ_RSVD = 0x20,        /* reserved field set in a remappable interrupt request */
    VTD_FR_IR_INDEX_OVER = 0x21,      /* interrupt index beyond the table IRTA_REG.S sizes */
    VTD_FR_IR_ENTRY_P = 0x22,         /* present bit clear in the IRTE */
    VTD_FR_IR_ROOT_INVAL = 0x23,      /* error reading the IRTE (table address not accessible) */
    VTD_FR_IR_IRTE_RSVD = 0x24,       /* reserved field set in a present IRTE */
    VTD_FR_IR_REQ_COMPAT = 0x25,      /* compatibility-format interrupt blocked (IRE set, CFIS clear) */
    VTD_FR_IR_SID_ERR = 0x26,         /* requester id fails the IRTE's source validation */
    /* Scalable mode (and the TTM checks of requests the legacy mode cannot serve). */
    VTD_FR_RTADDR_INVALID = 0x30,     /* root-table address beyond HAW or TTM reserved */
    VTD_FR_TTM_PASID = 0x31,          /* legacy TTM and a request with PASID */
    VTD_FR_TTM_PRQ = 0x32,            /* legacy TTM and a page request */
    VTD_FR_ROOT_ACCESS = 0x38,
    VTD_FR_ROOT_P = 0x39,
    VTD_FR_ROOT_RSVD = 0x3A,
    VTD_FR_CTX_ACCESS = 0x40,
    VTD_FR_CTX_P = 0x41,
    VTD_FR_CTX_RSVD = 0x42,
    VTD_FR_CTX_INVALID = 0x43,
    VTD_FR_CTX_DTE = 0x44,            /* translation or translated request with DTE clear */
    VTD_FR_CTX_PASIDE = 0x45,         /* request with PASID and PASIDE clear */
    VTD_FR_CTX_PDTS = 0x46,           /* PASID beyond the directory size */
    VTD_FR_CTX_PRE = 0x47,            /* page request with PRE clear */
    VTD_FR_CTX_RID_PASID = 0x48,
    VTD_FR_PDIR_ACCESS = 0x50,
    VTD_FR_PDIR_P = 0x51,
    VTD_FR_PDIR_RSVD = 0x52,
    VTD_FR_PASID_ACCESS = 0x58,
    VTD_FR_PASID_P = 0x59,
    VTD_FR_PASID_RSVD = 0x5A,
    VTD_FR_PASID_INVALID = 0x5B,      /* e.g. a PGTT or width the capabilities do not allow */
    VTD_FR_PASID_ERE = 0x5C,          /* execute request with ERE clear */
    VTD_FR_PASID_SRE = 0x5D,          /* supervisor request with SRE clear */
    VTD_FR_FS_ACCESS = 0x70,
    VTD_FR_FS_P = 0x71,
    VTD_FR_FS_RSVD = 0x72,
    VTD_FR_FSPTPTR = 0x73,            /* first-stage table pointer invalid */
    VTD_FR_FS_NEST_MGAW = 0x74,       /* nested: first-stage entry address beyond MGAW */
    VTD_FR_FS_NEST_PTR_READ = 0x75,   /* nested: no read permission for FSPTPTR's table */
    VTD_FR_FS_NEST_READ = 0x76,       /* nested: no read permission for a first-stage table */
    VTD_FR_FS_NEST_AD_WRITE = 0x77,   /* nested: no write permission for an A/D update */
    VTD_FR_SS_ACCESS = 0x78,
    VTD_FR_SS_PERM = 0x79,
    VTD_FR_SS_RSVD = 0x7A,
    VTD_FR_SSPTPTR = 0x7B,            /* second-stage table pointer invalid */
    VTD_FR_SS_AD_NOSNOOP = 0x7C,
    VTD_FR_NON_CANONICAL = 0x80,
    VTD_FR_US = 0x81,                 /* user request to a supervisor page */
    VTD_FR_EXEC = 0x82,
    VTD_FR_BEYOND_HAW = 0x83,
    VTD_FR_BEYOND_AGAW = 0x84,
    VTD_FR_WRITE = 0x85,
    VTD_FR_READ = 0x86,
    VTD_FR_INTR_ADDR = 0x87,          /* output in the interrupt address range */
    VTD_FR_FS_AD_NOSNOOP = 0x90,
};

/* Symbolic name ("FS_PAGING_ENTRY_P"), or NULL for a code the model does not know. */
const char *vtd_fault_name(int code);
/* One-line description for reports. */
const char *vtd_fault_desc(int code);
/* Code for a symbolic name (case-insensitive), or -1. */
int vtd_fault_by_name(const char *name);
/* Whether the code is a known fault reason (legacy or scalable mode). */
bool vtd_fault_known(int code);
/*
 * Whether a fault may be suppressed by FPD ("qualified"): root-table address and root/context
 * entry errors found before a context entry was accepted are never qualified; in legacy mode
 * a context entry's FPD covers its own not-present and invalid-programming faults too.
 */
bool vtd_fault_qualified(int code);
/*
 * The legacy code of a fault the shared second-stage walk, pass-through or output check
 * reported with its scalable-mode code (78h -> 7h, 7Ah -> Ch, 83h/84h -> 4h, 85h -> 5h,
 * 86h -> 6h, 87h -> Eh); any other code unchanged.
 */
int vtd_fault_to_legacy(int code);

#endif
