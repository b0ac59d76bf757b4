/*
 * regs.h: the IOMMU's register file (VT-d chapter 11, "Register Descriptions"), as software sees it
 * through MMIO: offsets, bit masks, and 4- or 8-byte reads and writes with the side effects
 * hardware has (latching the root table, enabling translation and queued invalidation, running the
 * invalidation queue, fault recording and its status bits).
 *
 * Bit positions cross-checked against QEMU hw/i386/intel_iommu_internal.h, Linux
 * drivers/iommu/intel/iommu.h (DMA_FSTS_*, dma_frcd_*) and VirtualBox include/VBox/iommu-intel.h.
 *
 * Register-based invalidation (CCMD, and IVA/IOTLB_REG at ECAP.IRO, VT-d 6.5.1) works in legacy
 * mode with queued invalidation off; in scalable mode or with QI enabled a request is ignored
 * with a warning and reports granularity 0 (6.5: not allowed there). IRTA_REG with GCMD's
 * SIRTP, IRE and CFI drive interrupt remapping (sim/ir.c). Not modelled: write-buffer flushing (WBF), advanced fault logging (SFL, EAFL),
 * fault compression (every fault takes a record) and the interrupt messages themselves (only
 * the IP bits of the event control registers are kept).
 */
#ifndef VTDSIM_SIM_REGS_H
#define VTDSIM_SIM_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/iommu.h"
#include "walker/bits.h"

/* ---- register offsets (11.4) ---- */
#define VTD_REG_VER 0x00u
#define VTD_REG_CAP 0x08u
#define VTD_REG_ECAP 0x10u
#define VTD_REG_GCMD 0x18u
#define VTD_REG_GSTS 0x1Cu
#define VTD_REG_RTADDR 0x20u
#define VTD_REG_CCMD 0x28u
#define VTD_REG_FSTS 0x34u
#define VTD_REG_FECTL 0x38u
#define VTD_REG_FEDATA 0x3Cu
#define VTD_REG_FEADDR 0x40u
#define VTD_REG_FEUADDR 0x44u
#define VTD_REG_IQH 0x80u
#define VTD_REG_IQT 0x88u
#define VTD_REG_IQA 0x90u
#define VTD_REG_ICS 0x9Cu
#define VTD_REG_IECTL 0xA0u
#define VTD_REG_IQERCD 0xB0u
#define VTD_REG_IRTA 0xB8u
#define VTD_REG_PQH 0xC0u
#define VTD_REG_PQT 0xC8u
#define VTD_REG_PQA 0xD0u
#define VTD_REG_PRS 0xDCu
#define VTD_REG_PECTL 0xE0u
#define VTD_REG_PEDATA 0xE4u
#define VTD_REG_PEADDR 0xE8u
#define VTD_REG_PEUADDR 0xECu
/* IOTLB registers at ECAP.IRO * 16: IVA_REG, then IOTLB_REG (11.4). */
#define VTD_REG_IVA_OFF 0x0u
#define VTD_REG_IOTLB_OFF 0x8u
/* Fault-recording registers at CAP.FRO * 16, CAP.NFR + 1 of them, 16 bytes each (11.4). */
#define VTD_FRCD_LEN 16u

/* ---- VER_REG (11.4.1): major 7:4, minor 3:0 ---- */
#define VTD_VER_MIN VTD_GENMASK(3, 0)
#define VTD_VER_MAX VTD_GENMASK(7, 4)
#define VTD_VER_VALUE 0x40u /* architecture version 4.0 */

/* ---- GCMD_REG / GSTS_REG (11.4.4): each command bit has its status bit at the same position ---- */
#define VTD_GCMD_TE VTD_BIT(31)     /* translation enable (level) */
#define VTD_GCMD_SRTP VTD_BIT(30)   /* set root table pointer (one-shot) */
#define VTD_GCMD_SFL VTD_BIT(29)    /* set fault log (one-shot; ignored) */
#define VTD_GCMD_EAFL VTD_BIT(28)   /* enable advanced fault logging (ignored) */
#define VTD_GCMD_WBF VTD_BIT(27)    /* write buffer flush (one-shot; ignored) */
#define VTD_GCMD_QIE VTD_BIT(26)    /* queued invalidation enable (level) */
#define VTD_GCMD_IRE VTD_BIT(25)    /* interrupt remapping enable (level; needs ECAP.IR) */
#define VTD_GCMD_SIRTP VTD_BIT(24)  /* set interrupt remap table pointer (one-shot) */
#define VTD_GCMD_CFI VTD_BIT(23)    /* compatibility format interrupts pass (level) */
#define VTD_GSTS_TES VTD_BIT(31)
#define VTD_GSTS_RTPS VTD_BIT(30)
#define VTD_GSTS_FLS VTD_BIT(29)
#define VTD_GSTS_AFLS VTD_BIT(28)
#define VTD_GSTS_WBFS VTD_BIT(27)
#define VTD_GSTS_QIES VTD_BIT(26)
#define VTD_GSTS_IRES VTD_BIT(25)
#define VTD_GSTS_IRTPS VTD_BIT(24)
#define VTD_GSTS_CFIS VTD_BIT(23)

/* ---- RTADDR_REG (11.4.5) ---- */
#define VTD_RTADDR_TTM VTD_GENMASK(11, 10) /* translation table mode: 01b scalable */
#define VTD_RTADDR_RTA VTD_GENMASK(63, 12)

/* ---- CCMD_REG (11.4.7; QEMU's VTD_CCMD_*) ---- */
#define VTD_CCMD_DID VTD_GENMASK(15, 0)
#define VTD_CCMD_SID VTD_GENMASK(31, 16)
#define VTD_CCMD_FM VTD_GENMASK(33, 32)
#define VTD_CCMD_CAIG VTD_GENMASK(60, 59)  /* actual granularity (RO): 0 when not performed */
#define VTD_CCMD_CIRG VTD_GENMASK(62, 61)  /* requested: 1 global, 2 domain, 3 device */
#define VTD_CCMD_ICC VTD_BIT(63)           /* set to invalidate; hardware clears it when done */

/* ---- IVA_REG and IOTLB_REG at ECAP.IRO * 16 (11.4.8; QEMU's VTD_TLB_*, VTD_IVA_*) ---- */
#define VTD_IVA_AM VTD_GENMASK(5, 0)
#define VTD_IVA_IH VTD_BIT(6)
#define VTD_IVA_ADDR VTD_GENMASK(63, 12)
#define VTD_IOTLB_DID VTD_GENMASK(47, 32)
#define VTD_IOTLB_DW VTD_BIT(48)           /* drain writes */
#define VTD_IOTLB_DR VTD_BIT(49)           /* drain reads */
#define VTD_IOTLB_IAIG VTD_GENMASK(58, 57) /* actual granularity (RO): 0 when not performed */
#define VTD_IOTLB_IIRG VTD_GENMASK(61, 60) /* requested: 1 global, 2 domain, 3 page (IVA) */
#define VTD_IOTLB_IVT VTD_BIT(63)          /* set to invalidate; hardware clears it when done */

/* ---- FSTS_REG (11.4) ---- */
#define VTD_FSTS_PFO VTD_BIT(0)  /* primary fault overflow (RW1C) */
#define VTD_FSTS_PPF VTD_BIT(1)  /* primary pending fault: OR of all F bits (RO) */
#define VTD_FSTS_IQE VTD_BIT(4)  /* invalidation queue error (RW1C) */
#define VTD_FSTS_ICE VTD_BIT(5)  /* invalidation completion error (RW1C) */
#define VTD_FSTS_ITE VTD_BIT(6)  /* invalidation time-out error (RW1C) */
#define VTD_FSTS_PRO VTD_BIT(7)  /* page request overflow (Linux; deprecated in later revisions) */
#define VTD_FSTS_FRI VTD_GENMASK(15, 8) /* fault record index (RO) */

/* ---- FECTL_REG, IECTL_REG, PECTL_REG (11.4) ---- */
#define VTD_ECTL_IM VTD_BIT(31)  /* interrupt mask */
#define VTD_ECTL_IP VTD_BIT(30)  /* interrupt pending (RO) */

/* ---- invalidation queue registers (11.4; the queue itself: 6.5.2) ---- */
#define VTD_IQH_QH VTD_GENMASK(18, 4)
#define VTD_IQT_QT VTD_GENMASK(18, 4)
#define VTD_IQA_QS VTD_GENMASK(2, 0)    /* 2^(QS + 8) entries of 128 bits (half as many of 256) */
#define VTD_IQA_DW VTD_BIT(11)          /* 256-bit descriptors */
#define VTD_IQA_IQA VTD_GENMASK(63, 12)
#define VTD_ICS_IWC VTD_BIT(0)          /* invalidation wait descriptor complete (RW1C) */
#define VTD_IQERCD_IQEI VTD_GENMASK(3, 0)
#define VTD_IQERCD_ITESID VTD_GENMASK(47, 32)
#define VTD_IQERCD_ICESID VTD_GENMASK(63, 48)

/* ---- page request queue registers (11.4; the queue and its event: sim/prq.h) ---- */
#define VTD_PQH_PQH VTD_GENMASK(18, 5)
#define VTD_PQT_PQT VTD_GENMASK(18, 5)
#define VTD_PQA_PQS VTD_GENMASK(2, 0)
#define VTD_PQA_PQA VTD_GENMASK(63, 12)
#define VTD_PRS_PPR VTD_BIT(0)
#define VTD_PRS_PRO VTD_BIT(1)

/*
 * ---- fault-recording register (11.4; primary fault logging: 7.2.1), as two qwords ----
 * Linux reads it as 32-bit words: word 3 (offset +12) holds F (bit 31), T (30), PV (27:8) and FR
 * (7:0); word 2 (offset +8) holds PP (31) and SID (15:0). In the high qword those are the bits below.
 */
#define VTD_FRCD_LO_FI VTD_GENMASK(63, 12)   /* faulting page address */
#define VTD_FRCD_LO_IIDX VTD_GENMASK(63, 48) /* interrupt faults: the interrupt index */
#define VTD_FRCD_HI_SID VTD_GENMASK(15, 0)
#define VTD_FRCD_HI_T2 VTD_BIT(28)           /* type bit 2: page request (never set here) */
#define VTD_FRCD_HI_PRIV VTD_BIT(29)         /* privileged (supervisor) request, with PP */
#define VTD_FRCD_HI_EXE VTD_BIT(30)          /* execute requested, with PP */
#define VTD_FRCD_HI_PP VTD_BIT(31)           /* PASID present */
#define VTD_FRCD_HI_FR VTD_GENMASK(39, 32)   /* fault reason */
#define VTD_FRCD_HI_PV VTD_GENMASK(59, 40)   /* PASID value */
#define VTD_FRCD_HI_AT VTD_GENMASK(61, 60)   /* address type: 0 untranslated, 1 translation req, 2 translated */
#define VTD_FRCD_HI_T1 VTD_BIT(62)           /* type bit 1: 0 write, 1 read (or AtomicOp) */
#define VTD_FRCD_HI_F VTD_BIT(63)            /* fault: record valid (RW1C) */

/*
 * MMIO access. size is 4 or 8 and offset a multiple of size; anything else is -EINVAL. A 4-byte
 * access to a 64-bit register reads or writes that half; an 8-byte access over two 32-bit
 * registers acts on each. Offsets with no register read 0 and ignore writes; read-only bits ignore
 * writes; RW1C bits are cleared by writing 1. Returns 0 or -EINVAL.
 */
int vtd_iommu_reg_read(struct vtd_iommu *io, unsigned offset, unsigned size, uint64_t *val);
int vtd_iommu_reg_write(struct vtd_iommu *io, unsigned offset, unsigned size, uint64_t val);

/* Name of the register at `offset` ("GSTS", "FRCD_HI"...), or NULL (for traces and reports). */
const char *vtd_iommu_reg_name(struct vtd_iommu *io, unsigned offset);

/*
 * Put the registers in their reset state (11.4: everything 0 but the IM bits of FECTL, IECTL and
 * PECTL): translation and queued invalidation off, no root table latched, no fault recorded.
 */
void vtd_iommu_reg_reset(struct vtd_iommu *io);

/*
 * For sim/ files (queued invalidation): set FSTS status bits (IQE, ICE, ITE) as hardware does,
 * holding a fault event in FECTL.IP when that is a new interrupt condition and IM masks it.
 */
void iommu_fault_status_set(struct vtd_iommu *io, uint32_t bits);

/* Number of fault-recording registers with F set. */
unsigned vtd_iommu_pending_faults(struct vtd_iommu *io);

/* A fault-recording register, decoded. */
struct vtd_fault_record {
    bool pending;         /* F: holds an unserviced fault */
    uint16_t sid;
    bool pasid_present;
    uint32_t pasid;
    uint8_t reason;       /* enum vtd_fault */
    uint64_t addr;        /* page address of the faulting request */
    bool is_write;        /* T = 0 */
    bool priv, exe;       /* requested privilege / execute (with a PASID) */
    unsigned at;          /* address type: enum vtd_req_kind */
};

/* Decode record `index` (< CAP.NFR + 1). 0, or -EINVAL for a bad index. */
int vtd_iommu_read_fault_record(struct vtd_iommu *io, unsigned index, struct vtd_fault_record *out);

#endif
