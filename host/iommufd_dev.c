/*
 * iommufd_dev.c: the VFIO device cdev's requests (drivers/vfio/device_cdev.c: bind, attach and
 * detach, a device's RID or one of its PASIDs) on the context (drivers/iommu/iommufd/device.c).
 * The RID goes to the container's domain; a PASID attached to a nested HWPT gets the HWPT's
 * stage 1 through vtd_container_hwpt_alloc_vtd_s1.
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "host/container_internal.h"
#include "host/iommufd_internal.h"
#include "walker/alloc.h"

/* vfio_df_ioctl_bind_iommufd: argsz, flags; a second bind of the same device -EINVAL. */
int vtd_iommufd_bind(struct vtd_iommufd *ctx, uint16_t sid, void *arg)
{
    struct vfio_device_bind_iommufd *b = arg;
    if (!b)
        return -EFAULT;
    if (b->argsz < offsetofend(struct vfio_device_bind_iommufd, out_devid) || b->flags || b->iommufd < 0)
        return -EINVAL;
    if (!ctx)
        return -EBADF; /* the iommufd descriptor is not an iommufd */
    struct vtd_device_info info;
    if (vtd_iommu_device_info(ctx->io, sid, &info))
        return -ENODEV;
    if (ifd_dev_by_sid(ctx, sid))
        return -EINVAL;
    struct ifd_dev *d = vtd_realloc(ctx->dev, (ctx->ndev + 1) * sizeof *d);
    if (!d)
        return -ENOMEM;
    ctx->dev = d;
    uint32_t id;
    int rc = ifd_obj_new(ctx, IFD_DEVICE, &id);
    if (rc)
        return rc;
    ctx->obj[id - 1].users = 1; /* held by the bound cdev: IOMMU_DESTROY answers -EBUSY */
    ctx->dev[ctx->ndev++] = (struct ifd_dev){ .sid = sid, .dev_id = id };
    b->out_devid = id;
    return 0;
}

/* The container's domain takes the device (context entry, RID_PASID entry) once. */
static int join_container(struct vtd_iommufd *ctx, uint16_t sid)
{
    if (!ctx->c)
        return -ENOENT;
    if (cont_attached(ctx->c, sid))
        return 0;
    return vtd_container_attach_device(ctx->c, sid);
}

/* The RID on an IOAS (an automatic paging HWPT, whose ID comes back in pt_id) or a paging HWPT. */
static int attach_rid(struct vtd_iommufd *ctx, struct ifd_dev *d, struct vfio_device_attach_iommufd_pt *a)
{
    const struct ifd_obj *pt = ifd_obj_get(ctx, a->pt_id, IFD_NONE);
    if (!pt)
        return -ENOENT;
    if (pt->type == IFD_HWPT_NESTED)
        return -EOPNOTSUPP; /* vtdsim nests through PASIDs only (docs/uapi.md) */
    if (pt->type != IFD_IOAS && pt->type != IFD_HWPT_PAGING)
        return -EINVAL;
    int rc = join_container(ctx, d->sid);
    if (rc)
        return rc;
    uint32_t hwpt = a->pt_id;
    if (pt->type == IFD_IOAS) {
        if ((rc = ifd_obj_new(ctx, IFD_HWPT_PAGING, &hwpt)))
            return rc;
        ctx->obj[hwpt - 1].parent = a->pt_id;
        ctx->obj[hwpt - 1].auto_domain = true;
        ctx->obj[a->pt_id - 1].users++;
    }
    ctx->obj[hwpt - 1].users++;
    if (d->pt_id)
        ifd_hwpt_release(ctx, d->pt_id);
    d->pt_id = hwpt;
    a->pt_id = hwpt;
    return 0;
}

static struct ifd_pasid *find_pasid(struct vtd_iommufd *ctx, uint16_t sid, uint32_t pasid)
{
    for (size_t i = 0; i < ctx->npasid; i++)
        if (ctx->pasid[i].sid == sid && ctx->pasid[i].pasid == pasid)
            return &ctx->pasid[i];
    return NULL;
}

static const struct ifd_pasid *pasid_user(const struct vtd_iommufd *ctx, uint32_t pasid)
{
    for (size_t i = 0; i < ctx->npasid; i++)
        if (ctx->pasid[i].pasid == pasid)
            return &ctx->pasid[i];
    return NULL;
}

/* The PASID in the container's space: taken exactly, unless this context holds it already. */
static int claim_pasid(struct vtd_iommufd *ctx, uint32_t pasid)
{
    if (cont_pasid_allocated(ctx->c, pasid))
        return 0;
    struct vfio_iommu_type1_pasid_request r = {
        .argsz = sizeof r, .flags = VFIO_IOMMU_FLAG_ALLOC_PASID, .range = { .min = pasid, .max = pasid } };
    int rc = vtd_container_ioctl(ctx->c, VFIO_IOMMU_PASID_REQUEST, &r);
    return rc < 0 ? (rc == -ENOSPC ? -EBUSY : rc) : 0;
}

static int add_pasid(struct vtd_iommufd *ctx, struct ifd_pasid p)
{
    if (ctx->npasid == ctx->cappasid) {
        size_t n = ctx->cappasid ? 2 * ctx->cappasid : 8;
        struct ifd_pasid *q = vtd_realloc(ctx->pasid, n * sizeof *q);
        if (!q)
            return -ENOMEM;
        ctx->pasid = q;
        ctx->cappasid = n;
    }
    ctx->pasid[ctx->npasid++] = p;
    ctx->obj[p.hwpt_id - 1].users++;
    return 0;
}

/* A PASID on a nested HWPT (iommufd_device_attach with a PASID, intel_nested_set_dev_pasid ->
 * intel_pasid_setup_nested: the entry's checks are the container's). */
static int attach_pasid(struct vtd_iommufd *ctx, struct ifd_dev *d, const struct vfio_device_attach_iommufd_pt *a)
{
    struct vtd_device_info info;
    if (vtd_iommu_device_info(ctx->io, d->sid, &info) || a->pasid == 0 ||
        (uint64_t)a->pasid >= (UINT64_C(1) << info.pasid_bits))
        return -EINVAL; /* iommu_attach_device_pasid: beyond the device's max_pasids */
    const struct ifd_obj *pt = ifd_obj_get(ctx, a->pt_id, IFD_NONE);
    if (!pt)
        return -ENOENT;
    if (pt->type == IFD_HWPT_PAGING || pt->type == IFD_IOAS)
        return -EOPNOTSUPP; /* vtdsim: a PASID takes a nested stage 1 only (docs/uapi.md) */
    if (pt->type != IFD_HWPT_NESTED)
        return -EINVAL;
    if (find_pasid(ctx, d->sid, a->pasid))
        return -EBUSY;
    const struct ifd_pasid *other = pasid_user(ctx, a->pasid);
    if (other && other->hwpt_id != a->pt_id)
        return -EBUSY; /* the container's PASID table is shared: one stage 1 per PASID */
    int rc = join_container(ctx, d->sid);
    if (rc || (rc = claim_pasid(ctx, a->pasid)))
        return rc;
    if (!other && (rc = vtd_container_hwpt_alloc_vtd_s1(ctx->c, a->pasid, &pt->s1)))
        return rc;
    return add_pasid(ctx, (struct ifd_pasid){ d->sid, a->pasid, a->pt_id });
}

/* vfio_df_ioctl_attach_pt: argsz up to pt_id (and pasid with the flag), known flags, bound. */
int vtd_iommufd_attach(struct vtd_iommufd *ctx, uint16_t sid, void *arg)
{
    struct vfio_device_attach_iommufd_pt *a = arg;
    if (!ctx || !a)
        return -EFAULT;
    if (a->argsz < offsetofend(struct vfio_device_attach_iommufd_pt, pt_id) ||
        (a->flags & ~(uint32_t)VFIO_DEVICE_ATTACH_PASID))
        return -EINVAL;
    bool with_pasid = a->flags & VFIO_DEVICE_ATTACH_PASID;
    if (with_pasid && a->argsz < offsetofend(struct vfio_device_attach_iommufd_pt, pasid))
        return -EINVAL;
    struct ifd_dev *d = ifd_dev_by_sid(ctx, sid);
    if (!d)
        return -EINVAL; /* vfio_device_fops_unl_ioctl: the cdev is not bound yet */
    return with_pasid ? attach_pasid(ctx, d, a) : attach_rid(ctx, d, a);
}

/* vfio_df_ioctl_detach_pt: the RID's HWPT is let go (the context entry stays: vtdsim keeps the
 * device in the container's domain); a PASID's last user unbinds its stage 1. */
int vtd_iommufd_detach(struct vtd_iommufd *ctx, uint16_t sid, void *arg)
{
    struct vfio_device_detach_iommufd_pt *a = arg;
    if (!ctx || !a)
        return -EFAULT;
    if (a->argsz < offsetofend(struct vfio_device_detach_iommufd_pt, flags) ||
        (a->flags & ~(uint32_t)VFIO_DEVICE_DETACH_PASID))
        return -EINVAL;
    bool with_pasid = a->flags & VFIO_DEVICE_DETACH_PASID;
    if (with_pasid && a->argsz < offsetofend(struct vfio_device_detach_iommufd_pt, pasid))
        return -EINVAL;
    struct ifd_dev *d = ifd_dev_by_sid(ctx, sid);
    if (!d)
        return -EINVAL;
    if (!with_pasid) {
        if (d->pt_id)
            ifd_hwpt_release(ctx, d->pt_id);
        d->pt_id = 0;
        return 0;
    }
    struct ifd_pasid *p = find_pasid(ctx, sid, a->pasid);
    if (!p)
        return 0; /* iommufd_device_detach of an unattached PASID does nothing */
    ifd_hwpt_release(ctx, p->hwpt_id);
    uint32_t pasid = p->pasid;
    *p = ctx->pasid[--ctx->npasid];
    return pasid_user(ctx, pasid) ? 0 : cont_unbind_pasid(ctx->c, pasid);
}
