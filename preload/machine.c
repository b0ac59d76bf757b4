/*
 * machine.c: the simulated machine (the IOMMU and devices of a scenario file), its file table
 * and the dispatch of each call to the file kind's handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/internal.h"
#include "walker/alloc.h"

/* Simulated host-physical addresses for the program's memory start above the containers' pools
 * (each pool_size from pool_base) at 64 GiB. */
#define PL_RAM_BASE (UINT64_C(64) << 30)

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = vtd_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static bool build_iommu(struct vtd_preload *p, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!(p->io = vtd_iommu_new(&p->s->cfg, &why))) {
        snprintf(err, errlen, "%s:%u:%u: iommu: %s", p->s->path, p->s->iommu_line, p->s->iommu_col, why ? why : "?");
        return false;
    }
    for (unsigned i = 0; i < p->s->ndev; i++) {
        int rc = vtd_iommu_add_device(p->io, &p->s->dev[i].cfg);
        if (rc) {
            snprintf(err, errlen, "%s:%u:%u: device %s: %s", p->s->path, p->s->dev[i].line, p->s->dev[i].col,
                     p->s->dev[i].name, strerror(-rc));
            return false;
        }
    }
    return true;
}

struct vtd_preload *vtd_preload_new(const struct vtd_preload_opts *o, const struct vtd_preload_fds *fds, char *err,
                                    size_t errlen)
{
    if (!o || !o->machine || !fds) {
        snprintf(err, errlen, "no machine file (set VTDSIM_MACHINE)");
        return NULL;
    }
    struct vtd_preload *p = vtd_calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->fds = *fds;
    p->next_hpa = PL_RAM_BASE;
    p->machine_path = dup_or_null(o->machine);
    p->control_path = dup_or_null(o->control ? o->control : VTD_PRELOAD_CONTROL_DEFAULT);
    p->report_path = dup_or_null(o->report);
    p->dma_path = dup_or_null(o->dma);
    p->socket_path = dup_or_null(o->socket);
    p->o = *o;
    p->o.machine = p->machine_path;
    p->o.control = p->control_path;
    p->o.report = p->report_path;
    p->o.dma = p->dma_path;
    p->o.socket = p->socket_path;
    struct sc_error e;
    if (!p->machine_path || !p->control_path || (o->report && !p->report_path) || (o->dma && !p->dma_path) ||
        (o->socket && !p->socket_path)) {
        snprintf(err, errlen, "out of memory");
    } else if (!(p->s = sc_load_file(p->machine_path, &e))) {
        sc_error_format(p->machine_path, &e, err, errlen);
    } else if (build_iommu(p, err, errlen) && (!p->dma_path || !pl_steps_load(p, p->dma_path, err, errlen)) &&
               (!p->socket_path || !pl_socket_start(p, p->socket_path, err, errlen))) {
        p->ready = true;
        return p;
    }
    vtd_free(p->report_path); /* a machine that never ran has no report to leave */
    p->report_path = NULL;
    vtd_preload_free(p);
    return NULL;
}

void vtd_preload_free(struct vtd_preload *p)
{
    if (!p)
        return;
    pl_socket_stop(p); /* first: its thread uses everything below */
    pl_steps_free(p, p->ready);
    pl_report_write(p);
    for (int h = 0; h < p->nf; h++)
        vtd_preload_close(p, h);
    vtd_free(p->f);
    if (p->io)
        vtd_iommu_free(p->io);
    if (p->s)
        sc_free(p->s);
    for (unsigned i = 0; i < p->nfinding; i++)
        vtd_free(p->finding[i]);
    vtd_free(p->finding);
    vtd_free(p->reg);
    vtd_free(p->machine_path);
    vtd_free(p->control_path);
    vtd_free(p->report_path);
    vtd_free(p->dma_path);
    vtd_free(p->socket_path);
    vtd_free(p);
}

unsigned vtd_preload_findings(const struct vtd_preload *p) { return p ? p->nfinding : 0; }

/* "/dev/vfio/<digits>" or "/dev/vfio/devices/vfio<digits>": the number, else -1. */
static long number_after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) || !path[n])
        return -1;
    long v = 0;
    for (const char *q = path + n; *q; q++) {
        if (*q < '0' || *q > '9' || v > 100000)
            return -1;
        v = v * 10 + (*q - '0');
    }
    return v;
}

bool vtd_preload_path_is_ours(const char *path, const char *control)
{
    if (!path)
        return false;
    if (!strncmp(path, "/dev/vfio/", 10) || !strcmp(path, "/dev/iommu"))
        return true;
    return !strcmp(path, control ? control : VTD_PRELOAD_CONTROL_DEFAULT);
}

int pl_handle_new(struct vtd_preload *p, struct pl_file f)
{
    int h = 0;
    while (h < p->nf && p->f[h].kind != PL_FREE)
        h++;
    if (h == p->nf) {
        struct pl_file *q = vtd_realloc(p->f, (size_t)(p->nf + 1) * sizeof *q);
        if (!q)
            return -ENOMEM;
        p->f = q;
        p->nf++;
    }
    p->f[h] = f;
    return h;
}

int vtd_preload_open(struct vtd_preload *p, const char *path)
{
    struct pl_file f = { .owner = -1 };
    long n;
    p->calls++;
    if (p->steps) /* no steps file: one test per call */
        pl_steps_at(p, false, false, 0);
    if (!strcmp(path, "/dev/vfio/vfio"))
        f.kind = PL_CONTAINER;
    else if (!strcmp(path, "/dev/iommu"))
        f.kind = PL_IOMMUFD;
    else if (!strcmp(path, p->control_path))
        f.kind = PL_CONTROL;
    else if ((n = number_after(path, "/dev/vfio/devices/vfio")) >= 0 && (unsigned long)n < p->s->ndev)
        f.kind = PL_DEVICE, f.dev = (unsigned)n;
    else if ((n = number_after(path, "/dev/vfio/")) >= 0 && (unsigned long)n < p->s->ndev)
        f.kind = PL_GROUP, f.dev = (unsigned)n;
    else
        return -ENOENT;
    if (f.kind == PL_IOMMUFD) {
        struct vtd_container_config cfg;
        pl_container_config(p, &cfg);
        if (!(f.ictx = vtd_iommufd_new(p->io, &cfg)))
            return -ENOMEM;
    }
    int h = pl_handle_new(p, f);
    if (h < 0 && f.ictx)
        vtd_iommufd_free(f.ictx);
    if (p->steps)
        pl_steps_at(p, true, false, 0);
    return h;
}

static bool valid(const struct vtd_preload *p, int h) { return p && h >= 0 && h < p->nf && p->f[h].kind != PL_FREE; }

void vtd_preload_close(struct vtd_preload *p, int h)
{
    if (!valid(p, h))
        return;
    struct pl_file *f = &p->f[h];
    if (f->kind == PL_GROUP)
        pl_vfio_group_close(p, h);
    f = &p->f[h];
    if (f->kind == PL_CONTAINER && f->c)
        vtd_container_free(f->c);
    if (f->kind == PL_IOMMUFD)
        vtd_iommufd_free(f->ictx);
    /* Files that pointed at this one lose it (a device bound to a closed iommufd). */
    for (int i = 0; i < p->nf; i++)
        if (p->f[i].owner == h)
            p->f[i].owner = -1;
    *f = (struct pl_file){ .kind = PL_FREE };
}

long vtd_preload_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg)
{
    if (!valid(p, h))
        return -EBADF;
    p->calls++;
    vtd_iommu_set_step(p->io, p->calls);
    if (p->steps)
        pl_steps_at(p, false, true, request);
    long rc;
    switch (p->f[h].kind) {
    case PL_CONTAINER: rc = pl_vfio_container_ioctl(p, h, request, arg); break;
    case PL_GROUP: rc = pl_vfio_group_ioctl(p, h, request, arg); break;
    case PL_DEVICE: rc = pl_device_ioctl(p, h, request, arg); break;
    case PL_IOMMUFD: rc = pl_iommufd_ioctl(p, h, request, arg); break;
    default: rc = -ENOTTY; break; /* fault queues and the control file take no ioctls */
    }
    pl_check_warnings(p);
    if (p->steps)
        pl_steps_at(p, true, true, request);
    return rc;
}

long vtd_preload_read(struct vtd_preload *p, int h, void *buf, size_t len)
{
    if (!valid(p, h))
        return -EBADF;
    const struct pl_file *f = &p->f[h];
    if (f->kind == PL_CONTROL)
        return pl_control_read(p, h, buf, len);
    if (f->kind == PL_FAULT) {
        if (f->owner < 0)
            return -ENODEV;
        return vtd_iommufd_fault_read(p->f[f->owner].ictx, f->fault_id, buf, len);
    }
    return -EINVAL; /* the device files have no read() (vfio_fops and iommufd_fops) */
}

long vtd_preload_write(struct vtd_preload *p, int h, const void *buf, size_t len)
{
    if (!valid(p, h))
        return -EBADF;
    p->calls++;
    vtd_iommu_set_step(p->io, p->calls);
    if (p->steps)
        pl_steps_at(p, false, false, 0);
    const struct pl_file *f = &p->f[h];
    long rc = -EINVAL;
    if (f->kind == PL_CONTROL)
        rc = pl_control_write(p, h, buf, len);
    else if (f->kind == PL_FAULT)
        rc = f->owner < 0 ? -ENODEV : vtd_iommufd_fault_write(p->f[f->owner].ictx, f->fault_id, buf, len);
    pl_check_warnings(p);
    if (p->steps)
        pl_steps_at(p, true, false, 0);
    return rc;
}

bool vtd_preload_readable(struct vtd_preload *p, int h)
{
    if (!valid(p, h))
        return false;
    const struct pl_file *f = &p->f[h];
    if (f->kind == PL_CONTROL)
        return f->nreply > 0;
    if (f->kind == PL_FAULT)
        return f->owner >= 0 && vtd_iommufd_fault_readable(p->f[f->owner].ictx, f->fault_id);
    return false;
}
