/*
 * prq.c: page requests reaching the IOMMU (VT-d 7.5), the page request queue in memory and its
 * event, and the PRI state of the devices that send them (PCIe PRI: page request groups, the
 * responses and the status bits RF and UPRGI).
 *
 * A request is written at PQT when the queue has room and PRS.PRO is clear; the first one
 * written while PRS is clear is a page request event. Otherwise it is discarded and PRO set;
 * a discarded last-page-in-group request is answered by the IOMMU itself with Success, so that
 * the device retries its translation rather than wait for a response that never comes (the
 * retry sends a new request once software has drained the queue).
 */
#include <errno.h>
#include <string.h>

#include "sim/prq_internal.h"
#include "sim/regs.h"
#include "walker/alloc.h"
#include "walker/caps.h"
#include "walker/mem.h"

#define PRGI_COUNT 512u
#define PASID_MAX VTD_GENMASK(19, 0)

/* ---- the descriptor ---- */

void vtd_prq_desc_encode(const struct vtd_page_request *pr, uint64_t qw[4])
{
    qw[0] = vtd_field_prep(VTD_PRQ_TYPE_PAGE_REQ, VTD_PRQ_QW0_TYPE) | vtd_field_prep(pr->sid, VTD_PRQ_QW0_RID);
    if (pr->pasid_present)
        qw[0] |= VTD_PRQ_QW0_PP | vtd_field_prep(pr->pasid, VTD_PRQ_QW0_PASID) |
                 (pr->exec ? VTD_PRQ_QW0_ER : 0) | (pr->priv ? VTD_PRQ_QW0_PM : 0);
    qw[1] = (pr->read ? VTD_PRQ_QW1_RR : 0) | (pr->write ? VTD_PRQ_QW1_WR : 0) | (pr->last ? VTD_PRQ_QW1_LPIG : 0) |
            vtd_field_prep(pr->prgi, VTD_PRQ_QW1_PRGI) | (pr->addr & VTD_PRQ_QW1_ADDR);
    qw[2] = pr->data[0];
    qw[3] = pr->data[1];
}

int vtd_prq_desc_decode(const uint64_t qw[4], struct vtd_page_request *out)
{
    if (vtd_field(qw[0], VTD_PRQ_QW0_TYPE) != VTD_PRQ_TYPE_PAGE_REQ)
        return -EINVAL;
    *out = (struct vtd_page_request){
        .sid = (uint16_t)vtd_field(qw[0], VTD_PRQ_QW0_RID),
        .pasid_present = qw[0] & VTD_PRQ_QW0_PP,
        .pasid = (uint32_t)vtd_field(qw[0], VTD_PRQ_QW0_PASID),
        .exec = qw[0] & VTD_PRQ_QW0_ER,
        .priv = qw[0] & VTD_PRQ_QW0_PM,
        .read = qw[1] & VTD_PRQ_QW1_RR,
        .write = qw[1] & VTD_PRQ_QW1_WR,
        .last = qw[1] & VTD_PRQ_QW1_LPIG,
        .prgi = (unsigned)vtd_field(qw[1], VTD_PRQ_QW1_PRGI),
        .addr = qw[1] & VTD_PRQ_QW1_ADDR,
        .data = {qw[2], qw[3]},
    };
    return 0;
}

/* ---- group bitmaps ---- */

static bool bit_get(const uint64_t *map, unsigned i) { return map[i / 64] >> (i % 64) & 1; }
static void bit_set(uint64_t *map, unsigned i) { map[i / 64] |= UINT64_C(1) << (i % 64); }
static void bit_clear(uint64_t *map, unsigned i) { map[i / 64] &= ~(UINT64_C(1) << (i % 64)); }

static unsigned bits_count(const uint64_t *map)
{
    unsigned n = 0;
    for (unsigned w = 0; w < PRGI_COUNT / 64; w++)
        for (uint64_t v = map[w]; v; v &= v - 1)
            n++;
    return n;
}

static struct pri_state *pri_of(struct vtd_iommu *io, struct vtd_device *d)
{
    if (!d->pri_st && !(d->pri_st = vtd_calloc(1, sizeof(*d->pri_st))))
        io->stats.alloc_failures++;
    return d->pri_st;
}

void iommu_pri_free(struct vtd_device *d)
{
    vtd_free(d->pri_st);
    d->pri_st = NULL;
}

/* ---- the queue ---- */

static uint64_t prq_bytes(const struct vtd_iommu *io) { return UINT64_C(4096) << vtd_field(io->regs.pqa, VTD_PQA_PQS); }

/* Full when one more descriptor would make the tail meet the head (11.4, PQH/PQT). */
static bool prq_full(const struct vtd_iommu *io)
{
    return (io->regs.pqt + VTD_PRQ_DESC_BYTES) % prq_bytes(io) == (io->regs.pqh & VTD_PQH_PQH) % prq_bytes(io);
}

/* Send the event message, or hold it in PECTL.IP while IM masks it. */
static void prq_signal(struct vtd_iommu *io)
{
    io->prq_stats.events++;
    if (io->regs.pectl & VTD_ECTL_IM) {
        io->regs.pectl |= (uint32_t)VTD_ECTL_IP;
        return;
    }
    iommu_prq_message(io);
}

void iommu_prq_message(struct vtd_iommu *io)
{
    io->prq_stats.messages++;
    if (io->prq_handler)
        io->prq_handler(io->prq_handler_arg);
}

/* A status bit of PRS set; PRS going from clear to set is a new page request event. */
static void prs_raise(struct vtd_iommu *io, uint32_t bit)
{
    bool quiet = !(io->regs.prs & (VTD_PRS_PPR | VTD_PRS_PRO));
    io->regs.prs |= bit;
    if (quiet)
        prq_signal(io);
}

/* IP is held only while a status software has not cleared remains (as FECTL.IP for FSTS). */
void iommu_prs_written(struct vtd_iommu *io)
{
    if (!(io->regs.prs & (VTD_PRS_PPR | VTD_PRS_PRO)))
        io->regs.pectl &= ~(uint32_t)VTD_ECTL_IP;
}

static int prq_write(struct vtd_iommu *io, const struct vtd_page_request *pr)
{
    uint64_t qw[4];
    vtd_prq_desc_encode(pr, qw);
    uint64_t slot = (io->regs.pqa & VTD_PQA_PQA) + io->regs.pqt % prq_bytes(io);
    if (vtd_mem_write(io->mem, slot, qw, sizeof(qw)))
        return -EFAULT;
    io->regs.pqt = (io->regs.pqt + VTD_PRQ_DESC_BYTES) % prq_bytes(io);
    io->prq_stats.queued++;
    prs_raise(io, VTD_PRS_PPR);
    return VTD_PRQ_QUEUED;
}

/* No room, or an overflow software has not cleared yet: discarded (7.5). */
static int prq_overflow(struct vtd_iommu *io, const struct vtd_page_request *pr)
{
    io->prq_stats.dropped++;
    prs_raise(io, VTD_PRS_PRO);
    if (!pr->last)
        return VTD_PRQ_DROPPED;
    io->prq_stats.auto_responses++;
    iommu_pri_response(io, pr->sid, pr->prgi, VTD_PRG_RC_SUCCESS);
    return VTD_PRQ_AUTO_SUCCESS;
}

static bool request_valid(const struct vtd_page_request *pr)
{
    if (pr->prgi >= PRGI_COUNT)
        return false;
    if (pr->pasid_present)
        return pr->pasid <= PASID_MAX;
    return !pr->exec && !pr->priv;
}

/* The device's side: may it send this page of this group now? Marks the group. */
static int device_sends(struct vtd_iommu *io, const struct vtd_page_request *pr)
{
    struct vtd_device *d = iommu_device(io, pr->sid);
    if (!d)
        return -ENODEV;
    if (!d->pri)
        return -EPERM;
    struct pri_state *s = pri_of(io, d);
    if (!s)
        return -ENOMEM;
    if (s->rf)
        return -ECANCELED;
    if (bit_get(s->waiting, pr->prgi))
        return -EBUSY;
    if (pr->last) {
        bit_clear(s->open, pr->prgi);
        bit_set(s->waiting, pr->prgi);
    } else {
        bit_set(s->open, pr->prgi);
    }
    return 0;
}

int vtd_iommu_page_request(struct vtd_iommu *io, const struct vtd_page_request *pr)
{
    if (!io || !pr || !request_valid(pr))
        return -EINVAL;
    if (!(io->cfg.caps.ecap & VTD_ECAP_PRS))
        return -EOPNOTSUPP;
    int rc = device_sends(io, pr);
    if (rc)
        return rc;
    if ((io->regs.prs & VTD_PRS_PRO) || prq_full(io))
        return prq_overflow(io, pr);
    return prq_write(io, pr);
}

/* ---- the translation path's one-page groups ---- */

static int free_index(const struct pri_state *s, unsigned *prgi)
{
    for (unsigned k = 0; k < PRGI_COUNT; k++) {
        unsigned i = (s->next + k) % PRGI_COUNT;
        if (!bit_get(s->open, i) && !bit_get(s->waiting, i)) {
            *prgi = i;
            return 0;
        }
    }
    return -EBUSY;
}

int iommu_pri_request_page(struct vtd_iommu *io, struct vtd_device *d, const struct vtd_request *req)
{
    struct pri_state *s = pri_of(io, d);
    if (!s)
        return -ENOMEM;
    struct vtd_page_request pr = {
        .sid = req->sid, .pasid_present = req->pasid_valid, .pasid = req->pasid_valid ? req->pasid : 0,
        .read = (req->access & (VTD_ACC_R | VTD_ACC_X)) != 0, .write = (req->access & VTD_ACC_W) != 0,
        .exec = req->pasid_valid && (req->access & VTD_ACC_X), .priv = req->pasid_valid && req->priv,
        .last = true, .addr = req->addr,
    };
    int rc = free_index(s, &pr.prgi);
    if (rc)
        return rc;
    rc = vtd_iommu_page_request(io, &pr);
    if (rc < 0)
        return rc;
    s->next = (pr.prgi + 1) % PRGI_COUNT;
    return 0;
}

/* ---- responses ---- */

/*
 * The device matches a response to a group it waits on by index (PCIe PRI); a response to any
 * other is an unexpected index (UPRGI) and changes nothing else. Response Failure, and any code
 * the device does not know, stops its PRI (RF) with every group forgotten.
 */
void iommu_pri_response(struct vtd_iommu *io, uint16_t rid, unsigned prgi, unsigned rc)
{
    struct vtd_device *d = iommu_device(io, rid);
    struct pri_state *s = d && d->pri ? pri_of(io, d) : NULL;
    if (!s)
        return; /* no PRI function there: nobody takes the message */
    if (!bit_get(s->waiting, prgi % PRGI_COUNT)) {
        s->uprgi = true;
        s->unexpected++;
        return;
    }
    bit_clear(s->waiting, prgi % PRGI_COUNT);
    if (rc == VTD_PRG_RC_SUCCESS) {
        s->success++;
    } else if (rc == VTD_PRG_RC_INVALID) {
        s->invalid++;
    } else {
        s->failure++;
        s->rf = true;
        memset(s->open, 0, sizeof(s->open));
        memset(s->waiting, 0, sizeof(s->waiting));
    }
}

/* ---- queries ---- */

int vtd_iommu_pri_status(struct vtd_iommu *io, uint16_t sid, struct vtd_pri_status *out)
{
    struct vtd_device *d = io ? iommu_device(io, sid) : NULL;
    if (!d || !out)
        return -ENODEV;
    *out = (struct vtd_pri_status){0};
    const struct pri_state *s = d->pri_st;
    if (!s)
        return 0;
    *out = (struct vtd_pri_status){
        .response_failure = s->rf, .unexpected_index = s->uprgi, .open = bits_count(s->open),
        .outstanding = bits_count(s->waiting), .success = s->success, .invalid = s->invalid,
        .failure = s->failure, .unexpected = s->unexpected,
    };
    return 0;
}

bool vtd_iommu_pri_waiting(struct vtd_iommu *io, uint16_t sid, unsigned prgi)
{
    struct vtd_device *d = io ? iommu_device(io, sid) : NULL;
    return d && d->pri_st && prgi < PRGI_COUNT && bit_get(d->pri_st->waiting, prgi);
}

int vtd_iommu_pri_reset(struct vtd_iommu *io, uint16_t sid)
{
    struct vtd_device *d = io ? iommu_device(io, sid) : NULL;
    if (!d)
        return -ENODEV;
    iommu_pri_free(d);
    return 0;
}

const struct vtd_prq_stats *vtd_iommu_prq_stats(const struct vtd_iommu *io) { return &io->prq_stats; }

void vtd_iommu_set_prq_handler(struct vtd_iommu *io, vtd_prq_handler fn, void *arg)
{
    io->prq_handler = fn;
    io->prq_handler_arg = arg;
}
