/*
 * iommufd_hwpt.c: HWPT_ALLOC and HWPT_INVALIDATE (drivers/iommu/iommufd/hw_pagetable.c, with the
 * VT-d driver's answers from drivers/iommu/intel/iommu.c intel_iommu_domain_alloc_user and
 * drivers/iommu/intel/nested.c). A nested HWPT is bound when it is attached to a PASID
 * (iommufd_dev.c); its invalidations go to every PASID it is attached to.
 */
#include <errno.h>
#include <string.h>

#include "host/container_internal.h"
#include "host/iommufd_internal.h"

/* A kernel-managed HWPT on the IOAS (iommufd_hwpt_paging_alloc). */
static int alloc_paging(struct vtd_iommufd *ctx, struct iommu_hwpt_alloc *cmd)
{
    const uint32_t valid = IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
                           IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID;
    if (cmd->flags & ~valid)
        return -EOPNOTSUPP;
    /* iommufd_hwpt_paging_alloc: dirty tracking needs IOMMU_CAP_DIRTY_TRACKING, which
     * intel_iommu_capable grants with ECAP.SSADS (ssads_supported); intel_iommu_domain_alloc_user
     * refuses driver data on a paging domain. The domain is second-stage, so it gets dirty ops. */
    bool dirty = cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
    if (dirty && !vtd_ecap_has(vtd_iommu_caps(ctx->io), VTD_ECAP_SSADS))
        return -EOPNOTSUPP;
    if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
        return -EOPNOTSUPP;
    uint32_t id;
    int rc = ifd_obj_new(ctx, IFD_HWPT_PAGING, &id);
    if (rc)
        return rc;
    struct ifd_obj *o = &ctx->obj[id - 1];
    o->parent = cmd->pt_id;
    o->nest_parent = cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
    o->dirty_ops = dirty;
    ctx->obj[cmd->pt_id - 1].users++;
    cmd->out_hwpt_id = id;
    return 0;
}

/* A user-managed stage 1 under a nesting parent (iommufd_hwpt_nested_alloc, then
 * intel_nested_domain_alloc: the type, then iommu_copy_struct_from_user). */
static int alloc_nested(struct vtd_iommufd *ctx, struct iommu_hwpt_alloc *cmd, const struct ifd_obj *parent)
{
    if ((cmd->flags & ~(uint32_t)IOMMU_HWPT_FAULT_ID_VALID) || !cmd->data_len)
        return -EOPNOTSUPP;
    if (!parent->nest_parent)
        return -EINVAL;
    if (cmd->data_type != IOMMU_HWPT_DATA_VTD_S1)
        return -EOPNOTSUPP;
    if (cmd->data_len < sizeof(struct iommu_hwpt_vtd_s1))
        return -EINVAL;
    if (!cmd->data_uptr)
        return -EFAULT;
    const unsigned char *src = (const unsigned char *)(uintptr_t)cmd->data_uptr;
    for (uint32_t i = sizeof(struct iommu_hwpt_vtd_s1); i < cmd->data_len; i++)
        if (src[i])
            return -E2BIG;
    uint32_t id;
    int rc = ifd_obj_new(ctx, IFD_HWPT_NESTED, &id);
    if (rc)
        return rc;
    struct ifd_obj *o = &ctx->obj[id - 1];
    memcpy(&o->s1, src, sizeof o->s1);
    o->parent = cmd->pt_id;
    ctx->obj[cmd->pt_id - 1].users++;
    cmd->out_hwpt_id = id;
    return 0;
}

int ifd_hwpt_alloc(struct vtd_iommufd *ctx, struct iommu_hwpt_alloc *cmd, uint32_t user_size)
{
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    if ((cmd->data_type == IOMMU_HWPT_DATA_NONE) != (cmd->data_len == 0))
        return -EINVAL;
    if (!ifd_dev_by_id(ctx, cmd->dev_id))
        return -ENOENT;
    const struct ifd_obj *pt = ifd_obj_get(ctx, cmd->pt_id, IFD_NONE);
    if (!pt)
        return -ENOENT;
    bool with_fault = cmd->flags & IOMMU_HWPT_FAULT_ID_VALID;
    int rc;
    if (pt->type == IFD_IOAS)
        rc = alloc_paging(ctx, cmd);
    else if (pt->type == IFD_HWPT_PAGING)
        rc = alloc_nested(ctx, cmd, pt);
    else
        rc = -EINVAL;
    if (rc || !with_fault)
        return rc;
    /* The fault queue is looked up once the HWPT exists (iommufd_hwpt_alloc); fault_id is read
     * only from a caller that passed it (the structure's 6.11 extension). */
    struct ifd_obj *h = &ctx->obj[cmd->out_hwpt_id - 1];
    if (user_size < offsetofend(struct iommu_hwpt_alloc, fault_id) || !ifd_obj_get(ctx, cmd->fault_id, IFD_FAULT)) {
        ctx->obj[h->parent - 1].users--;
        *h = (struct ifd_obj){ .type = IFD_NONE };
        cmd->out_hwpt_id = 0;
        return -ENOENT;
    }
    h->fault_id = cmd->fault_id;
    ctx->obj[cmd->fault_id - 1].users++;
    return rc;
}

/* A HWPT attached to no PASID has nothing cached: its entries are only checked, as the driver
 * checks each before it flushes (intel_nested_cache_invalidate_user). */
static int check_entries(const struct iommu_hwpt_invalidate *cmd, uint32_t want, uint32_t *done)
{
    if (want && cmd->entry_len < sizeof(struct iommu_hwpt_vtd_s1_invalidate))
        return *done = 0, -EINVAL;
    for (*done = 0; *done < want; (*done)++) {
        const unsigned char *src = (const unsigned char *)(uintptr_t)cmd->data_uptr + (size_t)*done * cmd->entry_len;
        struct iommu_hwpt_vtd_s1_invalidate e;
        memcpy(&e, src, sizeof e);
        for (size_t i = sizeof e; i < cmd->entry_len; i++)
            if (src[i])
                return -E2BIG;
        int rc = cont_hwpt_inv_check(&e);
        if (rc)
            return rc;
    }
    return 0;
}

/* iommufd_hwpt_invalidate: entry_num comes back as the entries handled, on errors too. With the
 * HWPT attached to no PASID the entries are checked only. */
int ifd_hwpt_invalidate(struct vtd_iommufd *ctx, struct iommu_hwpt_invalidate *cmd)
{
    uint32_t want = cmd->entry_num;
    cmd->entry_num = 0;
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    if (want && (!cmd->data_uptr || !cmd->entry_len))
        return -EINVAL;
    if (!ifd_obj_get(ctx, cmd->hwpt_id, IFD_HWPT_NESTED))
        return -ENOENT;
    if (cmd->data_type != IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
        return -EINVAL; /* intel_nested_cache_invalidate_user */
    uint32_t done = want;
    int rc = 0;
    bool any = false;
    for (size_t i = 0; i < ctx->npasid; i++) {
        const struct ifd_pasid *p = &ctx->pasid[i];
        bool seen = false; /* one flush per PASID, however many devices share it */
        for (size_t j = 0; j < i; j++)
            seen |= ctx->pasid[j].pasid == p->pasid && ctx->pasid[j].hwpt_id == p->hwpt_id;
        if (p->hwpt_id != cmd->hwpt_id || seen)
            continue;
        uint32_t n = want;
        int r = vtd_container_hwpt_invalidate(ctx->c, p->pasid, (const void *)(uintptr_t)cmd->data_uptr,
                                              cmd->entry_len, &n);
        if (!any || n < done)
            done = n;
        if (r && !rc)
            rc = r;
        any = true;
    }
    if (!any)
        rc = check_entries(cmd, want, &done);
    cmd->entry_num = done;
    return rc;
}
