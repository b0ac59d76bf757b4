/*
 * prq.c: page requests (PRI) of a container's devices and the VMM's page responses.
 *
 * A PRI device whose ATS completion grants too little sends a one-page request group (LAST
 * set); it is queued to the container as an iommu_fault of type PAGE_REQ. The VMM answers with
 * struct iommu_page_response; the answer reaches the device as a page group response
 * descriptor (VT-d 6.5.2.8) and the device may retry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/container_internal.h"
#include "walker/alloc.h"

/* VT-d page group response codes (6.5.2.8) for the uAPI codes SUCCESS, INVALID, FAILURE. */
static const unsigned resp_rc[] = { 0x0, 0x1, 0xF };

static struct pending_group *find_group(struct vtd_container *c, uint16_t sid, uint32_t grpid)
{
    for (size_t i = 0; i < c->x.ngroups; i++)
        if (c->x.groups[i].grpid == grpid && (sid == UINT16_MAX || c->x.groups[i].sid == sid))
            return &c->x.groups[i];
    return NULL;
}

/* A free 9-bit page request group index (PRGI) for the device. */
static int free_grpid(struct vtd_container *c, uint16_t sid, uint32_t *grpid)
{
    for (uint32_t g = 0; g < 512; g++) {
        uint32_t cand = (c->x.next_grpid + g) & 511;
        if (!find_group(c, sid, cand)) {
            *grpid = cand;
            c->x.next_grpid = (cand + 1) & 511;
            return 0;
        }
    }
    return -ENOSPC;
}

static int send_page_request(struct vtd_container *c, const struct vtd_request *req)
{
    uint32_t grpid;
    if (c->x.ngroups >= c->x.faults.cap || free_grpid(c, req->sid, &grpid)) {
        c->x.faults.overflows++; /* no room for another group: dropped, never silently */
        return -ENOSPC;
    }
    struct iommu_fault f;
    memset(&f, 0, sizeof(f));
    f.type = IOMMU_FAULT_PAGE_REQ;
    f.prm.flags = IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
    if (req->pasid_valid) {
        f.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
        f.prm.pasid = req->pasid;
    }
    f.prm.grpid = grpid;
    f.prm.perm = container_fault_perm(req);
    f.prm.addr = req->addr & ~UINT64_C(0xFFF);
    /* Room for the pending group first, so that a failure leaves no record without its group. */
    if (c->x.ngroups == c->x.capgroups) {
        size_t n = c->x.capgroups ? 2 * c->x.capgroups : 16;
        struct pending_group *p = vtd_realloc(c->x.groups, n * sizeof(*p));
        if (!p) {
            vtd_iommu_count_alloc_failure(c->io);
            return -ENOMEM;
        }
        c->x.groups = p;
        c->x.capgroups = n;
    }
    if (cont_fault_push(c, &f))
        return -ENOSPC; /* counted as an overflow; the device falls back */
    c->x.groups[c->x.ngroups++] =
        (struct pending_group){ .sid = req->sid, .pasid = req->pasid, .pasid_valid = req->pasid_valid, .grpid = grpid };
    return 0;
}

/* The IOMMU's page-request hook: the container the device is attached to takes it. */
static int on_page_request(void *arg, const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct iommu_share *s = arg;
    (void)x;
    for (size_t i = 0; i < s->nconts; i++)
        if (cont_attached(s->conts[i], req->sid))
            return send_page_request(s->conts[i], req);
    return -ENODEV;
}

void cont_prq_init(struct vtd_container *c)
{
    vtd_iommu_set_page_request_hook(c->io, on_page_request, c->share);
}

void cont_prq_fini(struct vtd_container *c)
{
    if (c->share->nconts == 0)
        vtd_iommu_set_page_request_hook(c->io, NULL, NULL);
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
