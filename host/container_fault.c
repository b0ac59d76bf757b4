/*
 * container_fault.c: unrecoverable faults of a container's devices as struct iommu_fault
 * records in a bounded queue, read like the fault region of the vSVA series (oldest first).
 * A full queue drops the new record and counts it: overflow is never silent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/container_internal.h"
#include "walker/alloc.h"
#include "walker/fault.h"
#include "walker/alloc.h"

/*
 * VT-d fault reason (walker/fault.h) -> enum iommu_fault_reason. The uAPI names what failed
 * from the user's point of view; Linux 5.10 never reported DMA faults to user space, so this
 * table is vtdsim's (documented in docs/uapi.md).
 */
struct reason_map {
    int first, last;
    uint32_t reason;
};
static const struct reason_map reasons[] = {
    { VTD_FR_CTX_PASIDE, VTD_FR_CTX_PDTS, IOMMU_FAULT_REASON_PASID_INVALID },
    { VTD_FR_CTX_RID_PASID, VTD_FR_CTX_RID_PASID, IOMMU_FAULT_REASON_PASID_INVALID },
    { VTD_FR_PDIR_ACCESS, VTD_FR_PDIR_ACCESS, IOMMU_FAULT_REASON_PASID_FETCH },
    { VTD_FR_PDIR_P, VTD_FR_PDIR_RSVD, IOMMU_FAULT_REASON_BAD_PASID_ENTRY },
    { VTD_FR_PASID_ACCESS, VTD_FR_PASID_ACCESS, IOMMU_FAULT_REASON_PASID_FETCH },
    { VTD_FR_PASID_P, VTD_FR_PASID_INVALID, IOMMU_FAULT_REASON_BAD_PASID_ENTRY },
    { VTD_FR_PASID_ERE, VTD_FR_PASID_SRE, IOMMU_FAULT_REASON_PERMISSION },
    { VTD_FR_FS_ACCESS, VTD_FR_FS_ACCESS, IOMMU_FAULT_REASON_WALK_EABT },
    { VTD_FR_FS_P, VTD_FR_FS_RSVD, IOMMU_FAULT_REASON_PTE_FETCH },
    { VTD_FR_FSPTPTR, VTD_FR_FS_NEST_MGAW, IOMMU_FAULT_REASON_OOR_ADDRESS },
    { VTD_FR_FS_NEST_PTR_READ, VTD_FR_FS_NEST_AD_WRITE, IOMMU_FAULT_REASON_PERMISSION },
    { VTD_FR_SS_ACCESS, VTD_FR_SS_ACCESS, IOMMU_FAULT_REASON_WALK_EABT },
    { VTD_FR_SS_PERM, VTD_FR_SS_PERM, IOMMU_FAULT_REASON_PERMISSION },
    { VTD_FR_SS_RSVD, VTD_FR_SS_RSVD, IOMMU_FAULT_REASON_PTE_FETCH },
    { VTD_FR_SSPTPTR, VTD_FR_SSPTPTR, IOMMU_FAULT_REASON_OOR_ADDRESS },
    { VTD_FR_SS_AD_NOSNOOP, VTD_FR_SS_AD_NOSNOOP, IOMMU_FAULT_REASON_ACCESS },
    { VTD_FR_NON_CANONICAL, VTD_FR_NON_CANONICAL, IOMMU_FAULT_REASON_OOR_ADDRESS },
    { VTD_FR_US, VTD_FR_EXEC, IOMMU_FAULT_REASON_PERMISSION },
    { VTD_FR_BEYOND_HAW, VTD_FR_BEYOND_AGAW, IOMMU_FAULT_REASON_OOR_ADDRESS },
    { VTD_FR_WRITE, VTD_FR_READ, IOMMU_FAULT_REASON_PERMISSION },
    { VTD_FR_INTR_ADDR, VTD_FR_INTR_ADDR, IOMMU_FAULT_REASON_OOR_ADDRESS },
    { VTD_FR_FS_AD_NOSNOOP, VTD_FR_FS_AD_NOSNOOP, IOMMU_FAULT_REASON_ACCESS },
};

uint32_t vtd_container_fault_reason(int vtd_code)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (vtd_code >= reasons[i].first && vtd_code <= reasons[i].last)
            return reasons[i].reason;
    return IOMMU_FAULT_REASON_UNKNOWN; /* root / context errors: the host's business */
}

/* The uAPI permission bits of a request (IOMMU_FAULT_PERM_*), for fault and page-request records. */
uint32_t container_fault_perm(const struct vtd_request *req)
{
    uint32_t p = 0;
    if (req->access & VTD_ACC_R)
        p |= IOMMU_FAULT_PERM_READ;
    if (req->access & VTD_ACC_W)
        p |= IOMMU_FAULT_PERM_WRITE;
    if (req->access & VTD_ACC_X)
        p |= IOMMU_FAULT_PERM_EXEC;
    if (req->priv)
        p |= IOMMU_FAULT_PERM_PRIV;
    return p;
}

static struct iommu_fault unrecoverable_record(const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct iommu_fault f;
    memset(&f, 0, sizeof(f));
    f.type = IOMMU_FAULT_DMA_UNRECOV;
    struct iommu_fault_unrecoverable *e = &f.event;
    e->reason = vtd_container_fault_reason(x->fault.code);
    e->flags = IOMMU_FAULT_UNRECOV_ADDR_VALID;
    if (req->pasid_valid) {
        e->flags |= IOMMU_FAULT_UNRECOV_PASID_VALID;
        e->pasid = req->pasid;
    }
    if (x->fault.addr) {
        e->flags |= IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID;
        e->fetch_addr = x->fault.addr;
    }
    e->perm = container_fault_perm(req);
    e->addr = req->addr;
    return f;
}

int cont_fault_push(struct vtd_container *c, const struct iommu_fault *f)
{
    struct fault_queue *q = &c->x.faults;
    if (q->n == q->cap) {
        q->overflows++;
        return -ENOSPC;
    }
    q->rec[(q->head + q->n) % q->cap] = *f;
    q->n++;
    return 0;
}

/* The IOMMU's fault listener: hand the fault to the container its device is attached to. */
static void on_fault(void *arg, const struct vtd_request *req, const struct vtd_xlate *x)
{
    struct iommu_share *s = arg;
    if (x->fault.suppressed)
        return; /* FPD: hardware does not report it, so neither does the queue */
    for (size_t i = 0; i < s->nconts; i++)
        if (cont_attached(s->conts[i], req->sid)) {
            struct iommu_fault f = unrecoverable_record(req, x);
            cont_fault_push(s->conts[i], &f);
            return;
        }
}

int cont_fault_init(struct vtd_container *c, unsigned cap)
{
    struct fault_queue *q = &c->x.faults;
    q->cap = cap ? cap : 128;
    q->rec = vtd_calloc(q->cap, sizeof(*q->rec));
    if (!q->rec)
        return -ENOMEM;
    struct iommu_share *s = c->share;
    struct vtd_container **p = vtd_realloc(s->conts, (s->nconts + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    s->conts = p;
    s->conts[s->nconts++] = c;
    vtd_iommu_set_fault_listener(c->io, on_fault, s);
    return 0;
}

void cont_fault_fini(struct vtd_container *c)
{
    struct iommu_share *s = c->share;
    for (size_t i = 0; s && i < s->nconts; i++)
        if (s->conts[i] == c) {
            s->conts[i] = s->conts[--s->nconts];
            break;
        }
    if (s && s->nconts == 0)
        vtd_iommu_set_fault_listener(c->io, NULL, NULL);
    vtd_free(c->x.faults.rec);
}

int vtd_container_read_faults(struct vtd_container *c, struct iommu_fault *buf, unsigned max)
{
    struct fault_queue *q = &c->x.faults;
    unsigned n = 0;
    for (; n < max && q->n; n++, q->n--) {
        buf[n] = q->rec[q->head];
        q->head = (q->head + 1) % q->cap;
    }
    return (int)n;
}

uint64_t vtd_container_fault_overflows(const struct vtd_container *c) { return c->x.faults.overflows; }
