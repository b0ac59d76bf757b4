/*
 * prq.h: page requests (PCIe PRI) as the IOMMU receives them: the page request queue in memory
 * (PQA/PQH/PQT, VT-d 7.5 and 11.4), its status (PRS.PPR, PRS.PRO) and the page request event
 * (PECTL/PEDATA/PEADDR), and the PRI state of each device: which page request groups it has
 * open or waiting for a response, and what the responses (page group response descriptors,
 * 6.5.2.x, or the IOMMU's own on overflow) did to it.
 *
 * Software owns PQH and the queue's placement (PQA, PQS: 2^PQS pages of 4 KiB); the IOMMU owns
 * PQT. A descriptor is 256 bits; the queue is full when one more would make PQT equal PQH.
 */
#ifndef VTDSIM_SIM_PRQ_H
#define VTDSIM_SIM_PRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/bits.h"

struct vtd_iommu;

/* ---- the page request descriptor (VT-d 7.5.1; Linux drivers/iommu/intel/prq.c page_req_dsc) ---- */
#define VTD_PRQ_DESC_BYTES 32u
#define VTD_PRQ_TYPE_PAGE_REQ 0x1u
#define VTD_PRQ_QW0_TYPE VTD_GENMASK(7, 0)
#define VTD_PRQ_QW0_PP VTD_BIT(8)              /* PASID present */
#define VTD_PRQ_QW0_RID VTD_GENMASK(31, 16)    /* requester (source-id) */
#define VTD_PRQ_QW0_PASID VTD_GENMASK(51, 32)
#define VTD_PRQ_QW0_ER VTD_BIT(52)             /* execute requested (with a PASID) */
#define VTD_PRQ_QW0_PM VTD_BIT(53)             /* privileged mode requested (with a PASID) */
#define VTD_PRQ_QW1_RR VTD_BIT(0)              /* read requested */
#define VTD_PRQ_QW1_WR VTD_BIT(1)              /* write requested */
#define VTD_PRQ_QW1_LPIG VTD_BIT(2)            /* last page in group */
#define VTD_PRQ_QW1_PRGI VTD_GENMASK(11, 3)    /* page request group index */
#define VTD_PRQ_QW1_ADDR VTD_GENMASK(63, 12)   /* page address */

/* Page group response codes (6.5.2.x; PCIe PRI "PRG Response" codes). */
#define VTD_PRG_RC_SUCCESS 0x0u
#define VTD_PRG_RC_INVALID 0x1u
#define VTD_PRG_RC_FAILURE 0xFu

/* One page request message as a PRI device sends it. */
struct vtd_page_request {
    uint16_t sid;
    bool pasid_present;
    uint32_t pasid;
    bool read, write, exec, priv; /* exec and priv need a PASID */
    bool last;                    /* last page in its group (LPIG) */
    unsigned prgi;                /* 9-bit group index */
    uint64_t addr;                /* bits 11:0 are not sent */
    uint64_t data[2];             /* private data: qwords 2 and 3 of the descriptor */
};

/* The descriptor the IOMMU writes for a request, and back. */
void vtd_prq_desc_encode(const struct vtd_page_request *pr, uint64_t qw[4]);
/* 0, or -EINVAL when the type is not a page request. */
int vtd_prq_desc_decode(const uint64_t qw[4], struct vtd_page_request *out);

/* What the IOMMU did with a page request. */
enum vtd_prq_outcome {
    VTD_PRQ_QUEUED = 0,      /* written at PQT; PQT advanced */
    VTD_PRQ_DROPPED = 1,     /* the queue was full or PRO set: discarded (PRO set) */
    VTD_PRQ_AUTO_SUCCESS = 2 /* discarded, and being the last of its group, answered Success by the IOMMU */
};

/*
 * A device sends a page request. Returns an enum vtd_prq_outcome, or: -EINVAL (no request, a
 * group index over 511, a PASID over 20 bits, exec or priv without a PASID), -ENODEV (no device
 * with that source-id), -EPERM (the device has no PRI), -EOPNOTSUPP (ECAP.PRS clear),
 * -EBUSY (the group's last page was sent and no response has come: the index is not free),
 * -ECANCELED (the device's PRI stopped after a Response Failure), -EFAULT (the queue's slot
 * could not be written: an abort range or beyond the host address width), -ENOMEM.
 */
int vtd_iommu_page_request(struct vtd_iommu *io, const struct vtd_page_request *pr);

/* A device's PRI state as its PRI capability and the model see it. */
struct vtd_pri_status {
    bool response_failure; /* PRI status RF: a Response Failure came; the device sends no more */
    bool unexpected_index; /* PRI status UPRGI: a response named a group the device was not waiting on */
    unsigned open;         /* groups with pages sent and the last one not yet */
    unsigned outstanding;  /* groups whose last page was sent, waiting for their response */
    uint64_t success, invalid, failure, unexpected; /* responses received, by effect */
};
/* 0, or -ENODEV. */
int vtd_iommu_pri_status(struct vtd_iommu *io, uint16_t sid, struct vtd_pri_status *out);
/* Whether group `prgi` of the device waits for its response. */
bool vtd_iommu_pri_waiting(struct vtd_iommu *io, uint16_t sid, unsigned prgi);
/* Software resets the device's PRI (disable and enable): status cleared, groups forgotten. 0 or -ENODEV. */
int vtd_iommu_pri_reset(struct vtd_iommu *io, uint16_t sid);

/* Counters of the queue. */
struct vtd_prq_stats {
    uint64_t queued, dropped, auto_responses;
    uint64_t events;   /* page request events (PRS going from clear to set) */
    uint64_t messages; /* event interrupts sent (at once, or when PECTL.IM was cleared) */
};
const struct vtd_prq_stats *vtd_iommu_prq_stats(const struct vtd_iommu *io);

/*
 * Host software's page-request interrupt handler: called when the IOMMU sends the page request
 * event message (PECTL.IM clear). It reads the queue from PQH to PQT as a driver does. NULL clears.
 */
typedef void (*vtd_prq_handler)(void *arg);
void vtd_iommu_set_prq_handler(struct vtd_iommu *io, vtd_prq_handler fn, void *arg);

#endif
