/*
 * qi.h: queued invalidation (VT-d 6.5.2): descriptor decoding, validation, and the removal of
 * exactly what each descriptor's scope covers from each cache.
 *
 * Descriptors reach the model two ways: through the invalidation queue in simulated memory
 * (IQA/IQH/IQT registers, sim/regs.h) or by direct submission (vtd_qi_submit), which is what
 * tests and scenarios use. Either way one function interprets them.
 */
#ifndef VTDSIM_SIM_QI_H
#define VTDSIM_SIM_QI_H

#include <stdint.h>

#include "sim/iommu.h"

/* Descriptor types (bits 11:9 and 3:0 of the first qword). */
enum vtd_qi_type {
    VTD_QI_CC = 1,       /* context-cache invalidation */
    VTD_QI_IOTLB = 2,    /* IOTLB invalidation */
    VTD_QI_DEVTLB = 3,   /* device-TLB invalidation */
    VTD_QI_IEC = 4,      /* interrupt entry cache (not modelled: accepted, no effect) */
    VTD_QI_WAIT = 5,     /* invalidation wait */
    VTD_QI_PIOTLB = 6,   /* PASID-based IOTLB invalidation */
    VTD_QI_PC = 7,       /* PASID-cache invalidation */
    VTD_QI_PDEVTLB = 8,  /* PASID-based device-TLB invalidation */
    VTD_QI_PGRP_RESP = 9 /* page group response */
};

/* Outcome of one descriptor. */
struct vtd_qi_result {
    int error;           /* 0, or an invalidation queue error (IQE) */
    char why[128];       /* for an error: the descriptor and the reason */
    unsigned removed[VTD_C_NCACHES + 1]; /* entries removed per cache (last: device TLBs) */
    unsigned over[VTD_C_NCACHES + 1];    /* of those, entries that were still correct */
};

/*
 * Process one descriptor of `nqw` qwords (2 for 128-bit, 4 for 256-bit). Returns 0 or -EINVAL
 * for an invalid descriptor (reserved bits, unknown type or granularity, AM above CAP.MAMV, a
 * 256-bit-only type in a 128-bit descriptor...), with the reason in r->why.
 */
int vtd_qi_submit(struct vtd_iommu *io, const uint64_t *desc, unsigned nqw, struct vtd_qi_result *r);

/* A short human-readable description of a descriptor ("P_IOTLB PSI DID 1 PASID 5 ADDR 0x3000 AM 1"). */
void vtd_qi_describe(const uint64_t *desc, unsigned nqw, char *buf, unsigned len);

#endif
