/*
 * iommufd.c: /dev/iommu and the device cdevs /dev/vfio/devices/vfioN, answered by the host
 * layer's iommufd context (host/iommufd.h). IOAS_MAP's user_va becomes the simulated address
 * of the program's memory (memory.c); FAULT_QUEUE_ALLOC gets a descriptor from the interposer.
 */
#include <errno.h>
#include <string.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "preload/internal.h"

#define offsetofend(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

static long ioas_map(struct vtd_preload *p, struct vtd_iommufd *ictx, struct iommu_ioas_map *m)
{
    if (m->size < offsetofend(struct iommu_ioas_map, iova))
        return vtd_iommufd_ioctl(ictx, IOMMU_IOAS_MAP, m); /* the size error, as the kernel gives it */
    uint64_t va = m->user_va, hpa;
    int rc = pl_mem_hpa(p, va, m->length, &hpa);
    if (rc)
        return rc;
    m->user_va = hpa;
    rc = vtd_iommufd_ioctl(ictx, IOMMU_IOAS_MAP, m);
    m->user_va = va;
    return rc;
}

/* A fault queue object gets a file of its own (iommufd_fault_alloc: anon inode). */
static long fault_alloc(struct vtd_preload *p, int h, struct iommu_fault_alloc *a)
{
    int rc = vtd_iommufd_ioctl(p->f[h].ictx, IOMMU_FAULT_QUEUE_ALLOC, a);
    if (rc)
        return rc;
    int fh = pl_handle_new(p, (struct pl_file){ .kind = PL_FAULT, .owner = h, .fault_id = a->out_fault_id });
    if (fh < 0)
        return fh;
    int fd = p->fds.new_fd(p->fds.arg, fh);
    if (fd < 0) {
        p->f[fh] = (struct pl_file){ .kind = PL_FREE };
        struct iommu_destroy d = { .size = sizeof d, .id = a->out_fault_id };
        (void)vtd_iommufd_ioctl(p->f[h].ictx, IOMMU_DESTROY, &d);
        return fd;
    }
    a->out_fault_fd = (uint32_t)fd;
    return 0;
}

long pl_iommufd_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg)
{
    struct vtd_iommufd *ictx = p->f[h].ictx;
    if (request == IOMMU_IOAS_MAP && arg)
        return ioas_map(p, ictx, arg);
    if (request == IOMMU_FAULT_QUEUE_ALLOC && arg) {
        struct iommu_fault_alloc *a = arg;
        if (a->size < sizeof *a)
            return vtd_iommufd_ioctl(ictx, request, arg);
        return fault_alloc(p, h, a);
    }
    return vtd_iommufd_ioctl(ictx, request, arg);
}

/* vfio_df_ioctl_bind_iommufd: the iommufd descriptor must be one (-EBADF otherwise). */
static long bind(struct vtd_preload *p, int h, struct vfio_device_bind_iommufd *b)
{
    if (!b)
        return -EFAULT;
    if (p->f[h].owner >= 0)
        return -EINVAL; /* bound already */
    int ih = b->iommufd < 0 ? -1 : p->fds.handle_of(p->fds.arg, b->iommufd);
    if (b->argsz >= sizeof *b && !b->flags && b->iommufd >= 0 && (ih < 0 || p->f[ih].kind != PL_IOMMUFD))
        return -EBADF;
    long rc = vtd_iommufd_bind(ih >= 0 ? p->f[ih].ictx : NULL, p->s->dev[p->f[h].dev].cfg.sid, b);
    if (!rc)
        p->f[h].owner = ih;
    return rc;
}

long pl_device_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg)
{
    const struct pl_file *f = &p->f[h];
    uint16_t sid = p->s->dev[f->dev].cfg.sid;
    switch (request) {
    case VFIO_DEVICE_BIND_IOMMUFD:
        return bind(p, h, arg);
    case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
    case VFIO_DEVICE_DETACH_IOMMUFD_PT:
        if (f->owner < 0)
            return -EINVAL; /* vfio_device_fops_unl_ioctl: the cdev is not bound */
        return request == VFIO_DEVICE_ATTACH_IOMMUFD_PT ? vtd_iommufd_attach(p->f[f->owner].ictx, sid, arg)
                                                        : vtd_iommufd_detach(p->f[f->owner].ictx, sid, arg);
    default:
        return -ENOTTY;
    }
}
