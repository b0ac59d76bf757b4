/*
 * iommufd.c: the context, its object IDs and the ioctl entry point. The entry point follows
 * drivers/iommu/iommufd/main.c (iommufd_fops_ioctl): a number it does not know is -ENOTTY, a
 * size below the structure's minimum is -EINVAL, bytes past the structure it knows must be zero
 * (copy_struct_from_user: -E2BIG), and the answer is copied back up to the caller's size.
 */
#include <errno.h>
#include <string.h>

#include "host/container_internal.h"
#include "host/iommufd_internal.h"
#include "walker/alloc.h"

struct vtd_iommufd *vtd_iommufd_new(struct vtd_iommu *io, const struct vtd_container_config *cfg)
{
    if (!io)
        return NULL;
    struct vtd_iommufd *ctx = vtd_calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->io = io;
    if (cfg)
        ctx->cfg = *cfg;
    else
        vtd_container_config_default(&ctx->cfg);
    ctx->next_cookie = 1;
    return ctx;
}

void vtd_iommufd_free(struct vtd_iommufd *ctx)
{
    if (!ctx)
        return;
    if (ctx->c) {
        ifd_areas_release(ctx);
        vtd_container_free(ctx->c);
    }
    vtd_free(ctx->obj);
    vtd_free(ctx->area);
    vtd_free(ctx->allowed);
    vtd_free(ctx->dev);
    vtd_free(ctx->pasid);
    vtd_free(ctx->cookie);
    vtd_free(ctx->pending);
    vtd_free(ctx);
}

struct vtd_container *vtd_iommufd_container(struct vtd_iommufd *ctx) { return ctx ? ctx->c : NULL; }

struct ifd_obj *ifd_obj_get(struct vtd_iommufd *ctx, uint32_t id, enum ifd_type type)
{
    if (id == 0 || id > ctx->nobj || ctx->obj[id - 1].type == IFD_NONE)
        return NULL;
    struct ifd_obj *o = &ctx->obj[id - 1];
    return type == IFD_NONE || o->type == type ? o : NULL;
}

/* IDs count up from 1 and are not reused while the context lives (the kernel's xarray may
 * reuse a freed ID; programs rely on neither); a freed slot stays IFD_NONE. */
int ifd_obj_new(struct vtd_iommufd *ctx, enum ifd_type type, uint32_t *id)
{
    struct ifd_obj *o = vtd_realloc(ctx->obj, (ctx->nobj + 1) * sizeof *o);
    if (!o)
        return -ENOMEM;
    ctx->obj = o;
    ctx->obj[ctx->nobj] = (struct ifd_obj){ .type = type };
    *id = ++ctx->nobj;
    return 0;
}

void ifd_hwpt_release(struct vtd_iommufd *ctx, uint32_t id)
{
    struct ifd_obj *o = &ctx->obj[id - 1];
    if (--o->users || !o->auto_domain)
        return;
    ctx->obj[o->parent - 1].users--; /* the last device left an automatic domain: it goes */
    *o = (struct ifd_obj){ .type = IFD_NONE };
}

struct ifd_dev *ifd_dev_by_id(struct vtd_iommufd *ctx, uint32_t dev_id)
{
    for (size_t i = 0; i < ctx->ndev; i++)
        if (ctx->dev[i].dev_id == dev_id)
            return &ctx->dev[i];
    return NULL;
}

struct ifd_dev *ifd_dev_by_sid(struct vtd_iommufd *ctx, uint16_t sid)
{
    for (size_t i = 0; i < ctx->ndev; i++)
        if (ctx->dev[i].sid == sid)
            return &ctx->dev[i];
    return NULL;
}

/* iommufd_destroy -> iommufd_object_remove: -ENOENT for no such object, -EBUSY while another
 * object or an attachment refers to it. A device's ID is not destroyable (iommufd_destroy
 * refuses IOMMUFD_OBJ_DEVICE through its type check: -ENOENT). */
static int destroy(struct vtd_iommufd *ctx, struct iommu_destroy *cmd)
{
    struct ifd_obj *o = ifd_obj_get(ctx, cmd->id, IFD_NONE);
    if (!o)
        return -ENOENT;
    if (o->users)
        return -EBUSY;
    if (o->type == IFD_IOAS) {
        ifd_areas_release(ctx);
        ctx->ioas_id = 0;
        if (ctx->vfio_ioas_id == cmd->id)
            ctx->vfio_ioas_id = 0; /* iommufd_object_remove forgets the compat IOAS that goes */
    }
    if (o->parent)
        ctx->obj[o->parent - 1].users--;
    if (o->fault_id)
        ctx->obj[o->fault_id - 1].users--;
    *o = (struct ifd_obj){ .type = IFD_NONE };
    return 0;
}

/* intel_iommu_hw_info: flags (the SPR17 erratum, never set here), CAP_REG and ECAP_REG;
 * iommufd_get_hw_info: the caller's buffer gets min(data_len, ours) bytes and zeros after them,
 * data_len comes back as ours; out_max_pasid_log2 is the device's PASID width. */
int ifd_get_hw_info(struct vtd_iommufd *ctx, struct iommu_hw_info *cmd)
{
    if (cmd->flags || cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
        return -EOPNOTSUPP;
    struct ifd_dev *d = ifd_dev_by_id(ctx, cmd->dev_id);
    if (!d)
        return -ENOENT;
    const struct vtd_caps *caps = vtd_iommu_caps(ctx->io);
    struct iommu_hw_info_vtd vtd = { .flags = 0, .cap_reg = caps->cap, .ecap_reg = caps->ecap };
    if (cmd->data_len && !cmd->data_uptr)
        return -EFAULT;
    unsigned char *dst = (unsigned char *)(uintptr_t)cmd->data_uptr;
    size_t n = cmd->data_len < sizeof vtd ? cmd->data_len : sizeof vtd;
    if (n)
        memcpy(dst, &vtd, n);
    if (cmd->data_len > n)
        memset(dst + n, 0, cmd->data_len - n);
    struct vtd_device_info info;
    cmd->out_max_pasid_log2 = vtd_iommu_device_info(ctx->io, d->sid, &info) ? 0 : (uint8_t)info.pasid_bits;
    cmd->data_len = sizeof vtd;
    cmd->out_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
    /* iommufd_get_hw_info (6.7): IOMMU_CAP_DIRTY_TRACKING of the device, which
     * intel_iommu_capable answers with ssads_supported (ECAP.SSADS). */
    cmd->out_capabilities = vtd_ecap_has(caps, VTD_ECAP_SSADS) ? IOMMU_HW_CAP_DIRTY_TRACKING : 0;
    return 0;
}

/* iommufd_hwpt_set_dirty_tracking (drivers/iommu/iommufd/hw_pagetable.c, 6.7+): unknown flags,
 * then the paging HWPT (-ENOENT for any other object), then iopt_set_dirty_tracking, which is
 * -EOPNOTSUPP for a domain without dirty ops (allocated without IOMMU_HWPT_ALLOC_DIRTY_TRACKING).
 * __reserved is vtdsim's check: the kernel ignores it here. */
static int set_dirty_tracking(struct vtd_iommufd *ctx, const struct iommu_hwpt_set_dirty_tracking *cmd)
{
    if ((cmd->flags & ~(uint32_t)IOMMU_HWPT_DIRTY_TRACKING_ENABLE) || cmd->__reserved)
        return -EOPNOTSUPP;
    const struct ifd_obj *h = ifd_obj_get(ctx, cmd->hwpt_id, IFD_HWPT_PAGING);
    if (!h)
        return -ENOENT;
    if (!h->dirty_ops)
        return -EOPNOTSUPP;
    return vtd_container_hwpt_set_dirty_tracking(ctx->c, cmd->flags);
}

/* iommufd_hwpt_get_dirty_bitmap: unknown flags or __reserved, iova and length within unsigned
 * long, the paging HWPT; then iopt_read_and_clear_dirty_data: the range
 * (iommufd_check_iova_range) before the domain's read_and_clear_dirty op
 * (iommu_read_and_clear_dirty: -EOPNOTSUPP without dirty ops). */
static int get_dirty_bitmap(struct vtd_iommufd *ctx, const struct iommu_hwpt_get_dirty_bitmap *cmd)
{
    if ((cmd->flags & ~(uint32_t)IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->__reserved)
        return -EOPNOTSUPP;
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
        return -EOVERFLOW;
    const struct ifd_obj *h = ifd_obj_get(ctx, cmd->hwpt_id, IFD_HWPT_PAGING);
    if (!h)
        return -ENOENT;
    uint64_t last;
    int rc = cont_dirty_check_range(cmd->iova, cmd->length, cmd->page_size, &last);
    if (rc)
        return rc;
    if (!h->dirty_ops)
        return -EOPNOTSUPP;
    return vtd_container_hwpt_get_dirty_bitmap(ctx->c, cmd->iova, cmd->length, cmd->page_size, cmd->flags,
                                               cmd->__reserved, (uint64_t *)(uintptr_t)cmd->data);
}

int vtd_iommufd_hwpt_dirty(struct vtd_iommufd *ctx, unsigned long request, void *arg)
{
    if (request == IOMMU_HWPT_SET_DIRTY_TRACKING)
        return set_dirty_tracking(ctx, arg);
    return get_dirty_bitmap(ctx, arg);
}

/* One ioctl's structure: its full size and the minimum the kernel accepts (IOCTL_OP's last
 * mandatory member in iommufd_ioctl_ops). */
struct ifd_op {
    unsigned long request;
    uint32_t size, min_size;
};

#define OFFEND(t, f) ((uint32_t)offsetofend(t, f))
static const struct ifd_op ifd_ops[] = {
    { IOMMU_DESTROY, sizeof(struct iommu_destroy), OFFEND(struct iommu_destroy, id) },
    { IOMMU_IOAS_ALLOC, sizeof(struct iommu_ioas_alloc), OFFEND(struct iommu_ioas_alloc, out_ioas_id) },
    { IOMMU_IOAS_ALLOW_IOVAS, sizeof(struct iommu_ioas_allow_iovas), OFFEND(struct iommu_ioas_allow_iovas, allowed_iovas) },
    { IOMMU_IOAS_IOVA_RANGES, sizeof(struct iommu_ioas_iova_ranges),
      OFFEND(struct iommu_ioas_iova_ranges, out_iova_alignment) },
    { IOMMU_IOAS_MAP, sizeof(struct iommu_ioas_map), OFFEND(struct iommu_ioas_map, iova) },
    { IOMMU_IOAS_UNMAP, sizeof(struct iommu_ioas_unmap), OFFEND(struct iommu_ioas_unmap, length) },
    { IOMMU_IOAS_COPY, sizeof(struct iommu_ioas_copy), OFFEND(struct iommu_ioas_copy, src_iova) },
    { IOMMU_OPTION, sizeof(struct iommu_option), OFFEND(struct iommu_option, val64) },
    { IOMMU_VFIO_IOAS, sizeof(struct iommu_vfio_ioas), OFFEND(struct iommu_vfio_ioas, __reserved) },
    { IOMMU_HWPT_ALLOC, sizeof(struct iommu_hwpt_alloc), OFFEND(struct iommu_hwpt_alloc, data_uptr) },
    { IOMMU_GET_HW_INFO, sizeof(struct iommu_hw_info), OFFEND(struct iommu_hw_info, __reserved) },
    { IOMMU_HWPT_SET_DIRTY_TRACKING, sizeof(struct iommu_hwpt_set_dirty_tracking),
      OFFEND(struct iommu_hwpt_set_dirty_tracking, __reserved) },
    { IOMMU_HWPT_GET_DIRTY_BITMAP, sizeof(struct iommu_hwpt_get_dirty_bitmap),
      OFFEND(struct iommu_hwpt_get_dirty_bitmap, data) },
    { IOMMU_HWPT_INVALIDATE, sizeof(struct iommu_hwpt_invalidate), OFFEND(struct iommu_hwpt_invalidate, __reserved) },
    { IOMMU_FAULT_QUEUE_ALLOC, sizeof(struct iommu_fault_alloc), OFFEND(struct iommu_fault_alloc, out_fault_fd) },
};

static const struct ifd_op *find_op(unsigned long request)
{
    for (size_t i = 0; i < sizeof ifd_ops / sizeof ifd_ops[0]; i++)
        if (ifd_ops[i].request == request)
            return &ifd_ops[i];
    return NULL;
}

static bool bytes_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int dispatch(struct vtd_iommufd *ctx, unsigned long request, void *cmd, uint32_t user_size)
{
    switch (request) {
    case IOMMU_DESTROY: return destroy(ctx, cmd);
    case IOMMU_IOAS_ALLOC: return ifd_ioas_alloc(ctx, cmd);
    case IOMMU_IOAS_ALLOW_IOVAS: return ifd_ioas_allow_iovas(ctx, cmd);
    case IOMMU_IOAS_IOVA_RANGES: return ifd_ioas_iova_ranges(ctx, cmd);
    case IOMMU_IOAS_MAP: return ifd_ioas_map(ctx, cmd);
    case IOMMU_IOAS_UNMAP: return ifd_ioas_unmap(ctx, cmd);
    case IOMMU_IOAS_COPY: return ifd_ioas_copy(ctx, cmd);
    case IOMMU_OPTION: return ifd_option(ctx, cmd);
    case IOMMU_VFIO_IOAS: return ifd_vfio_ioas(ctx, cmd);
    case IOMMU_HWPT_ALLOC: return ifd_hwpt_alloc(ctx, cmd, user_size);
    case IOMMU_GET_HW_INFO: return ifd_get_hw_info(ctx, cmd);
    case IOMMU_HWPT_INVALIDATE: return ifd_hwpt_invalidate(ctx, cmd);
    case IOMMU_FAULT_QUEUE_ALLOC: return ifd_fault_alloc(ctx, cmd);
    default: return vtd_iommufd_hwpt_dirty(ctx, request, cmd);
    }
}

int vtd_iommufd_ioctl(struct vtd_iommufd *ctx, unsigned long request, void *arg)
{
    const struct ifd_op *op = find_op(request);
    if (!ctx || !op)
        return -ENOTTY;
    if (!arg)
        return -EFAULT;
    uint32_t user_size;
    memcpy(&user_size, arg, sizeof user_size);
    if (user_size < op->min_size)
        return -EINVAL;
    if (user_size > op->size && !bytes_zero((const unsigned char *)arg + op->size, user_size - op->size))
        return -E2BIG;
    _Static_assert(sizeof(struct iommu_hwpt_alloc) <= 64 && sizeof(struct iommu_hwpt_get_dirty_bitmap) <= 64 &&
                       sizeof(struct iommu_ioas_map) <= 64, "the largest structure fits the copy");
    unsigned char cmd[64] = { 0 };
    uint32_t in = user_size < op->size ? user_size : op->size;
    memcpy(cmd, arg, in);
    int rc = dispatch(ctx, request, cmd, user_size);
    /* iommufd_ucmd_respond copies the answer back on success; HWPT_INVALIDATE and IOAS_IOVA_RANGES
     * answer entry_num / num_iovas on their errors too. */
    if (!rc || request == IOMMU_HWPT_INVALIDATE || (request == IOMMU_IOAS_IOVA_RANGES && rc == -EMSGSIZE))
        memcpy(arg, cmd, in);
    return rc;
}
