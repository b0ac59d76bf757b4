/*
 * iommufd_option.c: IOMMU_OPTION (drivers/iommu/iommufd/main.c, iommufd_option, and ioas.c,
 * iommufd_ioas_option) and VFIO's compat IOAS, IOMMU_VFIO_IOAS (vfio_compat.c,
 * iommufd_vfio_ioas).
 *
 * RLIMIT_MODE is the context's: how pinned pages are charged (0: to the user, the default of
 * iommufd_fops_open; 1: to the process's mm). It may only change while the context holds no
 * object, and only for CAP_SYS_RESOURCE, which the model grants (the VMM is the privileged
 * process that opened /dev/iommu). HUGE_PAGES is the IOAS's: 0 forbids large pages in its
 * domains (iopt_disable_large_pages), refused while a domain is attached and something is mapped.
 */
#include <errno.h>

#include "host/iommufd_internal.h"

static bool has_objects(const struct vtd_iommufd *ctx)
{
    for (uint32_t i = 0; i < ctx->nobj; i++)
        if (ctx->obj[i].type != IFD_NONE)
            return true;
    return false;
}

static bool ioas_in_use(const struct vtd_iommufd *ctx)
{
    bool attached = false;
    for (size_t i = 0; i < ctx->ndev; i++)
        attached |= ctx->dev[i].pt_id != 0;
    return attached && ctx->narea;
}

/* iommufd_option_rlimit_mode: no object ID; GET answers, SET takes 0 or 1 on an empty context. */
static int rlimit_mode(struct vtd_iommufd *ctx, struct iommu_option *cmd)
{
    if (cmd->object_id)
        return -EOPNOTSUPP;
    if (cmd->op == IOMMU_OPTION_OP_GET) {
        cmd->val64 = ctx->account_mm;
        return 0;
    }
    if (cmd->op != IOMMU_OPTION_OP_SET)
        return -EOPNOTSUPP;
    if (has_objects(ctx))
        return -EBUSY;
    if (cmd->val64 > 1)
        return -EINVAL;
    ctx->account_mm = cmd->val64 == 1;
    return 0;
}

/* iommufd_ioas_option_huge_pages, after iommufd_get_ioas (-ENOENT for anything but an IOAS). */
static int huge_pages(struct vtd_iommufd *ctx, struct iommu_option *cmd)
{
    struct ifd_obj *ioas = ifd_obj_get(ctx, cmd->object_id, IFD_IOAS);
    if (!ioas)
        return -ENOENT;
    if (cmd->op == IOMMU_OPTION_OP_GET) {
        cmd->val64 = !ioas->no_large_pages;
        return 0;
    }
    if (cmd->op != IOMMU_OPTION_OP_SET)
        return -EOPNOTSUPP;
    if (cmd->val64 > 1)
        return -EINVAL;
    if (cmd->val64 == 0 && !ioas->no_large_pages && ioas_in_use(ctx))
        return -EINVAL; /* iopt_disable_large_pages: domains with pages mapped in them */
    ioas->no_large_pages = cmd->val64 == 0;
    return 0;
}

int ifd_option(struct vtd_iommufd *ctx, struct iommu_option *cmd)
{
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    switch (cmd->option_id) {
    case IOMMU_OPTION_RLIMIT_MODE: return rlimit_mode(ctx, cmd);
    case IOMMU_OPTION_HUGE_PAGES: return huge_pages(ctx, cmd);
    default: return -EOPNOTSUPP;
    }
}

/* GET: the compat IOAS's ID (-ENODEV without one); SET: an IOAS (-ENOENT); CLEAR: none. */
int ifd_vfio_ioas(struct vtd_iommufd *ctx, struct iommu_vfio_ioas *cmd)
{
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    switch (cmd->op) {
    case IOMMU_VFIO_IOAS_GET:
        if (!ctx->vfio_ioas_id)
            return -ENODEV;
        cmd->ioas_id = ctx->vfio_ioas_id;
        return 0;
    case IOMMU_VFIO_IOAS_SET:
        if (!ifd_obj_get(ctx, cmd->ioas_id, IFD_IOAS))
            return -ENOENT;
        ctx->vfio_ioas_id = cmd->ioas_id;
        return 0;
    case IOMMU_VFIO_IOAS_CLEAR:
        ctx->vfio_ioas_id = 0;
        return 0;
    default: return -EOPNOTSUPP;
    }
}
