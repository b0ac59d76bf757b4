/*
 * vfio.c: the seed's VFIO container path: /dev/vfio/vfio (GET_API_VERSION, CHECK_EXTENSION,
 * SET_IOMMU, then the type1 requests answered by vtd_container_ioctl) and the group files
 * /dev/vfio/N (GET_STATUS, SET_CONTAINER, UNSET_CONTAINER), with Linux 5.9's
 * drivers/vfio/vfio.c answers. MAP_DMA's vaddr, a pointer into the program, becomes the
 * simulated host-physical address of that memory (memory.c).
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "preload/internal.h"

/* The scenario's container: section, with a DID and a pool of its own for each domain made. */
void pl_container_config(struct vtd_preload *p, struct vtd_container_config *cfg)
{
    const struct sc_container *sc = &p->s->container;
    vtd_container_config_default(cfg);
    if (sc->given_did)
        cfg->did = (uint16_t)sc->did;
    if (sc->given_levels)
        cfg->ss_levels = (unsigned)sc->ss_levels;
    if (sc->given_pool)
        cfg->pool_base = sc->pool;
    if (sc->given_pool_size)
        cfg->pool_size = sc->pool_size;
    cfg->policy = p->s->policy == SC_POLICY_LINUX_5_10 ? VTD_INV_LINUX_5_10 : VTD_INV_SPEC;
    cfg->iommufd_kernel = sc->iommufd_kernel == SC_IOMMUFD_6_8 ? VTD_IOMMUFD_6_8 : VTD_IOMMUFD_6_10;
    /* The dirty-tracking keys, as the scenario runner passes them (docs/dirty-tracking.md). */
    cfg->dirty_source = (enum vtd_dirty_source)sc->dirty_source;
    cfg->dirty_flush = (enum vtd_dirty_flush)sc->dirty_flush;
    cfg->did = (uint16_t)(cfg->did + p->domains);
    cfg->pool_base += (uint64_t)p->domains * cfg->pool_size;
    p->domains++;
}

static bool known_type(unsigned long type)
{
    return type == VFIO_TYPE1_IOMMU || type == VFIO_TYPE1v2_IOMMU || type == VFIO_TYPE1_NESTING_IOMMU;
}

/* Attach every device of every group set on the container (vfio_iommu_type1_attach_group). */
static int attach_groups(struct vtd_preload *p, int ch)
{
    for (int g = 0; g < p->nf; g++) {
        if (p->f[g].kind != PL_GROUP || p->f[g].owner != ch)
            continue;
        int rc = vtd_container_attach_device(p->f[ch].c, p->s->dev[p->f[g].dev].cfg.sid);
        if (rc && rc != -EBUSY)
            return rc;
    }
    return 0;
}

/* vfio_ioctl_set_iommu: a group first, once, a type some driver takes. */
static long set_iommu(struct vtd_preload *p, int h, unsigned long type)
{
    struct pl_file *f = &p->f[h];
    if (!f->ngroups || f->iommu_set)
        return -EINVAL;
    if (!known_type(type))
        return -ENODEV;
    struct vtd_container_config cfg;
    const char *why = NULL;
    pl_container_config(p, &cfg);
    if (!(f->c = vtd_container_new(p->io, &cfg, &why)))
        return -ENOMEM;
    f->iommu_set = true;
    int rc = attach_groups(p, h);
    if (rc) {
        vtd_container_free(f->c);
        f->c = NULL;
        f->iommu_set = false;
    }
    return rc;
}

/* MAP_DMA with vaddr turned into the simulated address of the program's memory there. */
static long map_dma(struct vtd_preload *p, struct vtd_container *c, struct vfio_iommu_type1_dma_map *m)
{
    if (m->argsz < sizeof *m)
        return -EINVAL; /* vfio_iommu_type1_ioctl: argsz below the structure */
    uint64_t va = m->vaddr, hpa;
    int rc = pl_mem_hpa(p, va, m->size, &hpa);
    if (rc)
        return rc;
    m->vaddr = hpa;
    rc = vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, m);
    m->vaddr = va;
    return rc;
}

long pl_vfio_container_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg)
{
    struct pl_file *f = &p->f[h];
    switch (request) {
    case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION:
        return known_type((unsigned long)arg) ? 1 : 0;
    case VFIO_SET_IOMMU:
        return set_iommu(p, h, (unsigned long)arg);
    default:
        break;
    }
    if (!f->iommu_set)
        return -EINVAL; /* vfio_fops_unl_ioctl: no IOMMU driver yet */
    if (request == VFIO_IOMMU_MAP_DMA && arg)
        return map_dma(p, f->c, arg);
    /* Everything else, VFIO_IOMMU_DIRTY_PAGES included, as the container answers it. */
    return vtd_container_ioctl(f->c, request, arg);
}

static long set_container(struct vtd_preload *p, int h, const int *fdp)
{
    struct pl_file *g = &p->f[h];
    if (!fdp)
        return -EFAULT;
    if (g->owner >= 0)
        return -EINVAL; /* vfio_group_set_container: already in a container */
    int ch = p->fds.handle_of(p->fds.arg, *fdp);
    if (ch < 0 && *fdp < 0)
        return -EBADF;
    if (ch < 0 || p->f[ch].kind != PL_CONTAINER)
        return -EINVAL; /* not a VFIO container file */
    g->owner = ch;
    p->f[ch].ngroups++;
    if (p->f[ch].iommu_set) {
        int rc = vtd_container_attach_device(p->f[ch].c, p->s->dev[g->dev].cfg.sid);
        if (rc && rc != -EBUSY) {
            g->owner = -1;
            p->f[ch].ngroups--;
            return rc;
        }
    }
    return 0;
}

/* The last group leaving a container takes its IOMMU driver with it (__vfio_container_detach). */
static void leave_container(struct vtd_preload *p, int h)
{
    int ch = p->f[h].owner;
    p->f[h].owner = -1;
    if (ch < 0 || --p->f[ch].ngroups)
        return;
    if (p->f[ch].c)
        vtd_container_free(p->f[ch].c);
    p->f[ch].c = NULL;
    p->f[ch].iommu_set = false;
}

void pl_vfio_group_close(struct vtd_preload *p, int h) { leave_container(p, h); }

long pl_vfio_group_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg)
{
    struct pl_file *g = &p->f[h];
    switch (request) {
    case VFIO_GROUP_GET_STATUS: {
        struct vfio_group_status *st = arg;
        if (!st)
            return -EFAULT;
        if (st->argsz < sizeof *st)
            return -EINVAL;
        st->flags = VFIO_GROUP_FLAGS_VIABLE | (g->owner >= 0 ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
        return 0;
    }
    case VFIO_GROUP_SET_CONTAINER:
        return set_container(p, h, arg);
    case VFIO_GROUP_UNSET_CONTAINER:
        if (g->owner < 0)
            return -EINVAL;
        leave_container(p, h);
        return 0;
    default:
        return -ENOTTY;
    }
}
