/*
 * prq.c: page requests (PRI) of a container's devices and the VMM's page responses, as the host
 * driver handles them (Linux drivers/iommu/intel/prq.c and svm.c).
 *
 * The first container of an IOMMU sets up its page request queue (one 4 KiB page, 128
 * descriptors: PQH = PQT = 0, then PQA) and unmasks the page request event. The event's handler
 * drains the queue as Linux's prq_event_thread does: PRS.PPR cleared first, every descriptor
 * from PQH to PQT read from memory, PQH moved to the tail, then PRS.PRO cleared once the queue
 * is seen empty. Each request goes to the container its device is attached to as an
 * iommu_fault of type PAGE_REQ; a last-page-in-group request is remembered as a pending group
 * (iommu_report_device_fault). A request nobody can take (no container, a full fault queue) is
 * answered Invalid Request when it ends its group (handle_bad_prq_event). The VMM answers with
 * struct iommu_page_response; the answer reaches the device as a page group response
 * descriptor (VT-d 6.5.2.x) and the device may retry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/container_internal.h"
#include "sim/prq.h"
#include "sim/regs.h"
#include "walker/alloc.h"
#include "walker/mem.h"

/* VT-d page group response codes for the uAPI codes SUCCESS, INVALID, FAILURE. */
static const unsigned resp_rc[] = { VTD_PRG_RC_SUCCESS, VTD_PRG_RC_INVALID, VTD_PRG_RC_FAILURE };

/* The queue's size in PQA.PQS: 2^0 pages (Linux uses 2^4; one page is enough for a model
 * whose handler drains the queue at each event). */
#define PRQ_PQS 0u
#define PRQ_BYTES (UINT64_C(4096) << PRQ_PQS)

static uint64_t reg(struct vtd_iommu *io, unsigned off, unsigned size)
{
    uint64_t v = 0;
    vtd_iommu_reg_read(io, off, size, &v);
    return v;
}

static uint64_t reg64(struct vtd_iommu *io, unsigned off) { return reg(io, off, 8); }

static int respond(struct vtd_iommu *io, const struct vtd_page_request *pr, unsigned rc)
{
    struct vtd_qi_result r;
    struct vtd_desc d = vtd_desc_pgrp_resp(pr->sid, pr->pasid_present, pr->pasid_present ? pr->pasid : 0, pr->prgi, rc);
    return vtd_qi_submit_desc(io, &d, &r);
}

static uint32_t request_perm(const struct vtd_page_request *pr)
{
    return (pr->read ? IOMMU_FAULT_PERM_READ : 0) | (pr->write ? IOMMU_FAULT_PERM_WRITE : 0) |
           (pr->exec ? IOMMU_FAULT_PERM_EXEC : 0) | (pr->priv ? IOMMU_FAULT_PERM_PRIV : 0);
}

static struct iommu_fault request_record(const struct vtd_page_request *pr)
{
    struct iommu_fault f;
    memset(&f, 0, sizeof(f));
    f.type = IOMMU_FAULT_PAGE_REQ;
    f.prm.flags = pr->last ? IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE : 0;
    if (pr->pasid_present) {
        f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
        f.prm.pasid = pr->pasid;
    }
    f.prm.grpid = pr->prgi;
    f.prm.perm = request_perm(pr);
    f.prm.addr = pr->addr;
    /* Revision 3.0's PDP bit is gone from the descriptor: data is private when not zero. */
    if (pr->data[0] || pr->data[1]) {
        f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA;
        memcpy(f.prm.private_data, pr->data, sizeof(f.prm.private_data));
    }
    return f;
}

/* Room for one more pending group (a group ends with its last page). */
static int reserve_group(struct vtd_container *c)
{
    if (c->x.ngroups < c->x.capgroups)
        return 0;
    size_t n = c->x.capgroups ? 2 * c->x.capgroups : 16;
    struct pending_group *p = vtd_realloc(c->x.groups, n * sizeof(*p));
    if (!p) {
        vtd_iommu_count_alloc_failure(c->io);
        return -ENOMEM;
    }
    c->x.groups = p;
    c->x.capgroups = n;
    return 0;
}

/* iommu_report_device_fault: the record queued; a last page leaves a pending group. */
static int report_request(struct vtd_container *c, const struct vtd_page_request *pr)
{
    if (pr->last && (c->x.ngroups >= c->x.faults.cap || reserve_group(c))) {
        c->x.faults.overflows++; /* no room for another group: answered, never silent */
        return -ENOSPC;
    }
    struct iommu_fault f = request_record(pr);
    if (cont_fault_push(c, &f))
        return -ENOSPC; /* counted as an overflow */
    if (pr->last)
        c->x.groups[c->x.ngroups++] = (struct pending_group){
            .sid = pr->sid, .pasid = pr->pasid, .pasid_valid = pr->pasid_present, .grpid = pr->prgi};
    return 0;
}

static void handle_request(struct iommu_share *s, const struct vtd_page_request *pr)
{
    for (size_t i = 0; i < s->nconts; i++)
        if (cont_attached(s->conts[i], pr->sid)) {
            if (report_request(s->conts[i], pr) == 0)
                return;
            break;
        }
    if (pr->last)
        respond(s->io, pr, VTD_PRG_RC_INVALID);
}

/* The page request event's handler (Linux prq_event_thread). */
static void prq_event(void *arg)
{
    struct iommu_share *s = arg;
    struct vtd_iommu *io = s->io;
    vtd_iommu_reg_write(io, VTD_REG_PRS, 4, VTD_PRS_PPR);
    uint64_t base = reg64(io, VTD_REG_PQA) & VTD_PQA_PQA;
    uint64_t head = reg64(io, VTD_REG_PQH) & VTD_PQH_PQH, tail = reg64(io, VTD_REG_PQT) & VTD_PQT_PQT;
    while (head != tail) {
        uint64_t qw[4];
        struct vtd_page_request pr;
        if (vtd_mem_read(vtd_iommu_mem(io), base + head, qw, sizeof(qw)) == 0 && vtd_prq_desc_decode(qw, &pr) == 0)
            handle_request(s, &pr);
        head = (head + VTD_PRQ_DESC_BYTES) % PRQ_BYTES;
    }
    vtd_iommu_reg_write(io, VTD_REG_PQH, 8, tail);
    /* PRO is cleared only with the queue seen empty, so that no request is lost unseen. */
    if ((reg(io, VTD_REG_PRS, 4) & VTD_PRS_PRO) &&
        (reg64(io, VTD_REG_PQH) & VTD_PQH_PQH) == (reg64(io, VTD_REG_PQT) & VTD_PQT_PQT))
        vtd_iommu_reg_write(io, VTD_REG_PRS, 4, VTD_PRS_PRO);
}

/* Linux intel_svm_enable_prq: the queue, head and tail at 0, PQA, the event unmasked. */
static int prq_setup(struct vtd_container *c)
{
    struct iommu_share *s = c->share;
    if (!(vtd_iommu_caps(c->io)->ecap & VTD_ECAP_PRS))
        return 0;
    if (!s->prq_ready) {
        uint64_t pa;
        if (vtd_builder_alloc_page(&c->b, &pa))
            return -ENOMEM;
        vtd_iommu_reg_write(c->io, VTD_REG_PQH, 8, 0);
        vtd_iommu_reg_write(c->io, VTD_REG_PQT, 8, 0);
        vtd_iommu_reg_write(c->io, VTD_REG_PQA, 8, pa | PRQ_PQS);
        s->prq_ready = true;
    }
    vtd_iommu_set_prq_handler(c->io, prq_event, s);
    vtd_iommu_reg_write(c->io, VTD_REG_PECTL, 4, 0);
    return 0;
}

int cont_prq_init(struct vtd_container *c) { return prq_setup(c); }

void cont_prq_fini(struct vtd_container *c)
{
    if (c->share->nconts == 0)
        vtd_iommu_set_prq_handler(c->io, NULL, NULL);
    vtd_free(c->x.groups);
}

/*
 * iommu_page_response (Linux 5.10 drivers/iommu/iommu.c): version and flags (-EINVAL), then the
 * pending group matched by grpid and, when the request carried a PASID
 * (RESPONSE_NEEDS_PASID), by the PASID_VALID flag and the PASID; no match: -EINVAL. A response
 * with a PASID to a request without one is accepted (the kernel clears the PASID). The argsz
 * and code checks are vtdsim's: 5.10 took the structure from the kernel side and put `code`
 * into the descriptor unchecked (intel_svm_page_response), so FAILURE (2) reached the device
 * as a reserved response code; vtdsim sends the VT-d code for each uAPI code instead.
 * A group whose PASID was unbound meanwhile is consumed and answered -ENODEV.
 */
int vtd_container_page_response(struct vtd_container *c, const struct iommu_page_response *msg)
{
    if (!c || !msg)
        return -EINVAL;
    if (msg->argsz < offsetofend(struct iommu_page_response, code))
        return -EINVAL;
    if (msg->version != IOMMU_PAGE_RESP_VERSION_1 || (msg->flags & ~(uint32_t)IOMMU_PAGE_RESP_PASID_VALID))
        return -EINVAL;
    if (msg->code > IOMMU_PAGE_RESP_FAILURE)
        return -EINVAL;
    bool has_pasid = msg->flags & IOMMU_PAGE_RESP_PASID_VALID;
    for (size_t i = 0; i < c->x.ngroups; i++) {
        struct pending_group g = c->x.groups[i];
        if (g.grpid != msg->grpid || (g.pasid_valid && (!has_pasid || g.pasid != msg->pasid)))
            continue;
        c->x.groups[i] = c->x.groups[--c->x.ngroups];
        /* intel_svm_page_response (5.10): a PASID no longer bound to the device has no one to
         * answer for it: -ENODEV, and iommu_page_response has consumed the group already. */
        if (g.pasid_valid && !cont_pasid_bound(c, g.pasid))
            return -ENODEV;
        int rc = cont_qi(c, vtd_desc_pgrp_resp(g.sid, g.pasid_valid, g.pasid_valid ? g.pasid : 0, g.grpid,
                                               resp_rc[msg->code]));
        return rc ? rc : cont_qi_wait(c);
    }
    return -EINVAL; /* no pending page request with that group */
}

unsigned vtd_container_pending_page_requests(const struct vtd_container *c) { return (unsigned)c->x.ngroups; }
