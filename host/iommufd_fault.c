/*
 * iommufd_fault.c: fault queues (drivers/iommu/iommufd/fault.c). The container queues a PRI
 * device's page requests as iommu_fault records; a fault queue's reader gets them as
 * struct iommu_hwpt_pgfault with a cookie per group, and answers with struct
 * iommu_hwpt_page_response records naming the cookie. Unrecoverable faults have no iommufd
 * record and are not delivered.
 */
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/container_internal.h"
#include "host/iommufd_internal.h"
#include "walker/alloc.h"

/* iommufd_fault_alloc: flags must be 0; the fd is the caller's (vtd_iommufd_fault_read). */
int ifd_fault_alloc(struct vtd_iommufd *ctx, struct iommu_fault_alloc *cmd)
{
    if (cmd->flags)
        return -EOPNOTSUPP;
    uint32_t id;
    int rc = ifd_obj_new(ctx, IFD_FAULT, &id);
    if (rc)
        return rc;
    cmd->out_fault_id = id;
    cmd->out_fault_fd = UINT32_MAX;
    return 0;
}

/* The device (source-id) of the pending group, from the container's page-request state. */
static int group_sid(const struct vtd_container *c, const struct iommu_fault_page_request *prm)
{
    for (size_t i = 0; i < c->x.ngroups; i++)
        if (c->x.groups[i].grpid == prm->grpid &&
            (!(prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) || c->x.groups[i].pasid == prm->pasid))
            return c->x.groups[i].sid;
    return -1;
}

static int remember(struct vtd_iommufd *ctx, struct ifd_cookie k)
{
    if (ctx->ncookie == ctx->capcookie) {
        size_t n = ctx->capcookie ? 2 * ctx->capcookie : 8;
        struct ifd_cookie *q = vtd_realloc(ctx->cookie, n * sizeof *q);
        if (!q)
            return -ENOMEM;
        ctx->cookie = q;
        ctx->capcookie = n;
    }
    ctx->cookie[ctx->ncookie++] = k;
    return 0;
}

static int push_pending(struct vtd_iommufd *ctx, const struct iommu_hwpt_pgfault *f)
{
    if (ctx->npending == ctx->cappending) {
        size_t n = ctx->cappending ? 2 * ctx->cappending : 8;
        struct iommu_hwpt_pgfault *q = vtd_realloc(ctx->pending, n * sizeof *q);
        if (!q)
            return -ENOMEM;
        ctx->pending = q;
        ctx->cappending = n;
    }
    ctx->pending[ctx->npending++] = *f;
    return 0;
}

/* The fault queue a page request of (sid, pasid) goes to: that of the HWPT the PASID (or else
 * the RID) is attached to. */
static uint32_t queue_of(const struct vtd_iommufd *ctx, uint16_t sid, bool pv, uint32_t pasid)
{
    for (size_t i = 0; pv && i < ctx->npasid; i++)
        if (ctx->pasid[i].sid == sid && ctx->pasid[i].pasid == pasid)
            return ctx->obj[ctx->pasid[i].hwpt_id - 1].fault_id;
    for (size_t i = 0; i < ctx->ndev; i++)
        if (ctx->dev[i].sid == sid && ctx->dev[i].pt_id)
            return ctx->obj[ctx->dev[i].pt_id - 1].fault_id;
    return 0;
}

/* Move the container's new page requests into the context's list, as iommufd records. */
static void drain_container(struct vtd_iommufd *ctx)
{
    struct iommu_fault f[16];
    int n;
    while (ctx->c && (n = vtd_container_read_faults(ctx->c, f, 16)) > 0) {
        for (int i = 0; i < n; i++) {
            if (f[i].type != IOMMU_FAULT_PAGE_REQ)
                continue;
            const struct iommu_fault_page_request *prm = &f[i].prm;
            int sid = group_sid(ctx->c, prm);
            const struct ifd_dev *d = sid < 0 ? NULL : ifd_dev_by_sid(ctx, (uint16_t)sid);
            bool pv = prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
            uint32_t q = d ? queue_of(ctx, d->sid, pv, prm->pasid) : 0;
            if (!q)
                continue; /* no fault queue for it: iommufd answers such groups INVALID itself */
            struct ifd_cookie k = { ctx->next_cookie++, q, prm->pasid, prm->grpid, pv };
            struct iommu_hwpt_pgfault rec = {
                .flags = (pv ? IOMMU_PGFAULT_FLAGS_PASID_VALID : 0) | IOMMU_PGFAULT_FLAGS_LAST_PAGE,
                .dev_id = d->dev_id, .pasid = prm->pasid, .grpid = prm->grpid, .perm = prm->perm,
                .addr = prm->addr, .length = 0, .cookie = k.cookie,
            };
            if (remember(ctx, k) || push_pending(ctx, &rec))
                vtd_iommu_count_alloc_failure(ctx->io);
        }
    }
}

static uint32_t cookie_queue(const struct vtd_iommufd *ctx, uint32_t cookie)
{
    for (size_t k = 0; k < ctx->ncookie; k++)
        if (ctx->cookie[k].cookie == cookie)
            return ctx->cookie[k].fault_id;
    return 0;
}

bool vtd_iommufd_fault_readable(struct vtd_iommufd *ctx, uint32_t fault_id)
{
    if (!ctx)
        return false;
    drain_container(ctx);
    for (size_t i = 0; i < ctx->npending; i++)
        if (cookie_queue(ctx, ctx->pending[i].cookie) == fault_id)
            return true;
    return false;
}

/* iommufd_fault_fops_read: whole records only (-ESPIPE otherwise), as many as fit. */
long vtd_iommufd_fault_read(struct vtd_iommufd *ctx, uint32_t fault_id, void *buf, size_t len)
{
    const size_t rec = sizeof(struct iommu_hwpt_pgfault);
    if (!ctx || !ifd_obj_get(ctx, fault_id, IFD_FAULT))
        return -ENOENT;
    if (len % rec)
        return -ESPIPE;
    drain_container(ctx);
    size_t done = 0, out = 0;
    for (size_t i = 0; i < ctx->npending; i++) {
        if (cookie_queue(ctx, ctx->pending[i].cookie) == fault_id && done + rec <= len) {
            memcpy((unsigned char *)buf + done, &ctx->pending[i], rec);
            done += rec;
            continue;
        }
        ctx->pending[out++] = ctx->pending[i];
    }
    ctx->npending = out;
    return (long)done;
}

/* iommufd_fault_fops_write: whole responses only (-ESPIPE), a known code and a cookie this
 * queue delivered (-EINVAL); the bytes of the responses taken, or the error if none was. */
long vtd_iommufd_fault_write(struct vtd_iommufd *ctx, uint32_t fault_id, const void *buf, size_t len)
{
    const size_t rsz = sizeof(struct iommu_hwpt_page_response);
    if (!ctx || !ifd_obj_get(ctx, fault_id, IFD_FAULT))
        return -ENOENT;
    if (len % rsz)
        return -ESPIPE;
    size_t done = 0;
    long rc = 0;
    for (; done < len; done += rsz) {
        struct iommu_hwpt_page_response r;
        memcpy(&r, (const unsigned char *)buf + done, rsz);
        size_t k = 0;
        while (k < ctx->ncookie && !(ctx->cookie[k].cookie == r.cookie && ctx->cookie[k].fault_id == fault_id))
            k++;
        if ((r.code != IOMMUFD_PAGE_RESP_SUCCESS && r.code != IOMMUFD_PAGE_RESP_INVALID) || k == ctx->ncookie) {
            rc = -EINVAL;
            break;
        }
        struct ifd_cookie g = ctx->cookie[k];
        ctx->cookie[k] = ctx->cookie[--ctx->ncookie];
        struct iommu_page_response msg = {
            .argsz = sizeof msg, .version = IOMMU_PAGE_RESP_VERSION_1,
            .flags = g.pasid_valid ? IOMMU_PAGE_RESP_PASID_VALID : 0, .pasid = g.pasid, .grpid = g.grpid,
            .code = r.code == IOMMUFD_PAGE_RESP_SUCCESS ? IOMMU_PAGE_RESP_SUCCESS : IOMMU_PAGE_RESP_INVALID,
        };
        if ((rc = vtd_container_page_response(ctx->c, &msg)))
            break;
    }
    return done ? (long)done : rc;
}
