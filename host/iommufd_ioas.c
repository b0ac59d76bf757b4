/*
 * iommufd_ioas.c: the context's IOAS (drivers/iommu/iommufd/ioas.c and io_pagetable.c): ALLOC,
 * IOVA_RANGES, ALLOW_IOVAS, MAP and UNMAP, served by the container's MAP_DMA and UNMAP_DMA one
 * whole area at a time.
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "host/container_internal.h"
#include "host/iommufd_internal.h"
#include "walker/alloc.h"

/* The x86 interrupt window, a reserved region of every device behind VT-d
 * (intel_iommu_get_resv_regions: IOAPIC_RANGE_START..END as IOMMU_RESV_MSI). */
#define IFD_MSI_FIRST UINT64_C(0xfee00000)
#define IFD_MSI_LAST UINT64_C(0xfeefffff)
#define IFD_PAGE UINT64_C(4096)

int ifd_container_make(struct vtd_iommufd *ctx)
{
    const char *why = NULL;
    if (ctx->c)
        return 0;
    ctx->c = vtd_container_new(ctx->io, &ctx->cfg, &why);
    return ctx->c ? 0 : -ENOMEM;
}

/* The domain's input width: the second stage's levels (agaw of the nesting parent). */
static uint64_t ioas_last_iova(const struct vtd_iommufd *ctx)
{
    unsigned bits = 12 + 9 * ctx->cfg.ss_levels;
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static bool any_device_attached(const struct vtd_iommufd *ctx)
{
    for (size_t i = 0; i < ctx->ndev; i++)
        if (ctx->dev[i].pt_id)
            return true;
    return false;
}

/* An empty IOAS spans everything; each attached device narrows it to its domain's aperture
 * minus its reserved regions (iopt_table_enforce_dev_resv_regions). */
static unsigned ioas_ranges(const struct vtd_iommufd *ctx, struct iommu_iova_range r[2])
{
    if (!any_device_attached(ctx)) {
        r[0] = (struct iommu_iova_range){ 0, UINT64_MAX };
        return 1;
    }
    r[0] = (struct iommu_iova_range){ 0, IFD_MSI_FIRST - 1 };
    r[1] = (struct iommu_iova_range){ IFD_MSI_LAST + 1, ioas_last_iova(ctx) };
    return 2;
}

int ifd_ioas_alloc(struct vtd_iommufd *ctx, struct iommu_ioas_alloc *cmd)
{
    if (cmd->flags)
        return -EOPNOTSUPP; /* iommufd_ioas_alloc */
    if (ctx->ioas_id)
        return -ENOMEM; /* vtdsim keeps one IOAS per context (docs/uapi.md) */
    int rc = ifd_container_make(ctx);
    if (rc || (rc = ifd_obj_new(ctx, IFD_IOAS, &cmd->out_ioas_id)))
        return rc;
    ctx->ioas_id = cmd->out_ioas_id;
    return 0;
}

/* iommufd_ioas_iova_ranges: -EMSGSIZE with num_iovas set when the caller's array is short. */
int ifd_ioas_iova_ranges(struct vtd_iommufd *ctx, struct iommu_ioas_iova_ranges *cmd)
{
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    if (!ifd_obj_get(ctx, cmd->ioas_id, IFD_IOAS))
        return -ENOENT;
    struct iommu_iova_range r[2];
    unsigned n = ioas_ranges(ctx, r), room = cmd->num_iovas;
    if (room && !cmd->allowed_iovas)
        return -EFAULT;
    memcpy((void *)(uintptr_t)cmd->allowed_iovas, r, (room < n ? room : n) * sizeof r[0]);
    cmd->num_iovas = n;
    cmd->out_iova_alignment = IFD_PAGE; /* the domain's smallest page (iopt->iova_alignment) */
    return room < n ? -EMSGSIZE : 0;
}

/* iommufd_ioas_allow_iovas -> iopt_set_allow_iova: every range start <= last, none overlapping. */
int ifd_ioas_allow_iovas(struct vtd_iommufd *ctx, struct iommu_ioas_allow_iovas *cmd)
{
    if (cmd->__reserved)
        return -EOPNOTSUPP;
    if (!ifd_obj_get(ctx, cmd->ioas_id, IFD_IOAS))
        return -ENOENT;
    if (cmd->num_iovas && !cmd->allowed_iovas)
        return -EFAULT;
    if (cmd->num_iovas > 4096)
        return -ENOMEM;
    const struct iommu_iova_range *in = (const void *)(uintptr_t)cmd->allowed_iovas;
    for (uint32_t i = 0; i < cmd->num_iovas; i++) {
        if (in[i].start > in[i].last)
            return -EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (in[j].start <= in[i].last && in[i].start <= in[j].last)
                return -EINVAL;
    }
    struct iommu_iova_range *copy = NULL;
    if (cmd->num_iovas && !(copy = vtd_calloc(cmd->num_iovas, sizeof *copy)))
        return -ENOMEM;
    if (copy)
        memcpy(copy, in, cmd->num_iovas * sizeof *copy);
    vtd_free(ctx->allowed);
    ctx->allowed = copy;
    ctx->nallowed = cmd->num_iovas;
    return 0;
}

static bool overlaps_area(const struct vtd_iommufd *ctx, uint64_t first, uint64_t last)
{
    for (size_t i = 0; i < ctx->narea; i++)
        if (ctx->area[i].iova <= last && first <= ctx->area[i].iova + ctx->area[i].length - 1)
            return true;
    return false;
}

static bool in_reserved(const struct vtd_iommufd *ctx, uint64_t first, uint64_t last)
{
    return any_device_attached(ctx) && first <= IFD_MSI_LAST && IFD_MSI_FIRST <= last;
}

static bool usable(const struct vtd_iommufd *ctx, uint64_t first, uint64_t last)
{
    return !overlaps_area(ctx, first, last) && !in_reserved(ctx, first, last);
}

/* The lowest free page-aligned IOVA for `len` bytes inside the allowed ranges (or the IOAS's
 * ranges), trying each range's start and the end of each area (iopt_alloc_iova). */
static int alloc_iova(const struct vtd_iommufd *ctx, uint64_t len, uint64_t *iova)
{
    struct iommu_iova_range own[2];
    const struct iommu_iova_range *r = ctx->allowed;
    unsigned n = ctx->nallowed;
    if (!n) {
        n = ioas_ranges(ctx, own);
        r = own;
    }
    for (unsigned k = 0; k < n; k++) {
        uint64_t cand = (r[k].start + IFD_PAGE - 1) & ~(IFD_PAGE - 1);
        for (size_t i = 0; i <= ctx->narea; i++) {
            if (cand >= r[k].start && cand + len - 1 >= cand && cand + len - 1 <= r[k].last &&
                usable(ctx, cand, cand + len - 1)) {
                *iova = cand;
                return 0;
            }
            if (i < ctx->narea)
                cand = ctx->area[i].iova + ctx->area[i].length;
        }
    }
    return -ENOSPC;
}

static int add_area(struct vtd_iommufd *ctx, uint64_t iova, uint64_t len, uint64_t user_va)
{
    if (ctx->narea == ctx->caparea) {
        size_t n = ctx->caparea ? 2 * ctx->caparea : 8;
        struct ifd_area *a = vtd_realloc(ctx->area, n * sizeof *a);
        if (!a)
            return -ENOMEM;
        ctx->area = a;
        ctx->caparea = n;
    }
    ctx->area[ctx->narea++] = (struct ifd_area){ iova, len, user_va };
    return 0;
}

/* A range at a fixed IOVA: aligned, not wrapping, outside the reserved regions (iopt_check_iova)
 * and every area (iopt_insert_area). */
static int fixed_range_check(const struct vtd_iommufd *ctx, uint64_t iova, uint64_t length)
{
    if (iova & (IFD_PAGE - 1))
        return -EINVAL;
    if (iova + length - 1 < iova)
        return -EOVERFLOW;
    if (in_reserved(ctx, iova, iova + length - 1))
        return -EADDRINUSE;
    if (overlaps_area(ctx, iova, iova + length - 1))
        return -EEXIST;
    return 0;
}

/* iommufd_ioas_map, then iopt_map_user_pages. */
int ifd_ioas_map(struct vtd_iommufd *ctx, struct iommu_ioas_map *cmd)
{
    const uint32_t known = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
    if ((cmd->flags & ~known) || cmd->__reserved)
        return -EOPNOTSUPP;
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
        return -EOVERFLOW;
    if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
        return -EINVAL;
    if (!ifd_obj_get(ctx, cmd->ioas_id, IFD_IOAS))
        return -ENOENT;
    if (!cmd->length || (cmd->length & (IFD_PAGE - 1)) || (cmd->user_va & (IFD_PAGE - 1)))
        return -EINVAL; /* iopt_alloc_area_pages: length and start not at the IOAS's alignment */
    uint64_t iova = cmd->iova;
    if (!(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA)) {
        int rc = alloc_iova(ctx, cmd->length, &iova);
        if (rc)
            return rc;
    } else {
        int rc = fixed_range_check(ctx, iova, cmd->length);
        if (rc)
            return rc;
    }
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m, .vaddr = cmd->user_va, .iova = iova, .size = cmd->length,
        .flags = ((cmd->flags & IOMMU_IOAS_MAP_READABLE) ? VFIO_DMA_MAP_FLAG_READ : 0) |
                 ((cmd->flags & IOMMU_IOAS_MAP_WRITEABLE) ? VFIO_DMA_MAP_FLAG_WRITE : 0),
    };
    int rc = vtd_container_ioctl(ctx->c, VFIO_IOMMU_MAP_DMA, &m);
    if (rc)
        return rc;
    if ((rc = add_area(ctx, iova, cmd->length, cmd->user_va))) {
        struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = iova, .size = cmd->length };
        (void)vtd_container_ioctl(ctx->c, VFIO_IOMMU_UNMAP_DMA, &u);
        return rc;
    }
    cmd->iova = iova;
    return 0;
}

static int unmap_area(struct vtd_iommufd *ctx, size_t i)
{
    struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = ctx->area[i].iova, .size = ctx->area[i].length };
    int rc = vtd_container_ioctl(ctx->c, VFIO_IOMMU_UNMAP_DMA, &u);
    ctx->area[i] = ctx->area[--ctx->narea];
    return rc;
}

void ifd_areas_release(struct vtd_iommufd *ctx)
{
    while (ctx->narea)
        (void)unmap_area(ctx, ctx->narea - 1);
}

/* iommufd_ioas_unmap -> iopt_unmap_iova / iopt_unmap_all: whole areas only; an area that sticks
 * out of the range, or no area at all, is -ENOENT; length comes back as the bytes unmapped. */
int ifd_ioas_unmap(struct vtd_iommufd *ctx, struct iommu_ioas_unmap *cmd)
{
    if (!ifd_obj_get(ctx, cmd->ioas_id, IFD_IOAS))
        return -ENOENT;
    bool all = cmd->iova == 0 && cmd->length == UINT64_MAX;
    uint64_t first = cmd->iova, last = cmd->iova + cmd->length - 1, unmapped = 0;
    if (!all) {
        if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
            return -EOVERFLOW;
        if (!cmd->length)
            return -EINVAL;
        if (last < first)
            return -EOVERFLOW;
    }
    int rc = 0;
    for (size_t i = 0; i < ctx->narea;) {
        const struct ifd_area *a = &ctx->area[i];
        uint64_t alast = a->iova + a->length - 1;
        if (!all && (a->iova > last || alast < first)) {
            i++;
            continue;
        }
        if (!all && (a->iova < first || alast > last))
            return -ENOENT;
        unmapped += a->length;
        if ((rc = unmap_area(ctx, i)))
            return rc;
    }
    if (!unmapped && !all)
        return -ENOENT;
    cmd->length = unmapped;
    return 0;
}

/* The pieces of the areas that cover [first, last] without a hole (iopt_get_pages: -ENOENT for a
 * hole): n pieces, each its IOVA, length and user address. */
struct ifd_piece {
    uint64_t iova, length, user_va;
};

static int copy_source(const struct vtd_iommufd *ctx, uint64_t first, uint64_t last, struct ifd_piece **out,
                       size_t *n)
{
    *n = 0;
    if (!(*out = vtd_calloc(ctx->narea ? ctx->narea : 1, sizeof **out)))
        return -ENOMEM;
    for (uint64_t at = first;;) {
        size_t i = 0;
        while (i < ctx->narea && !(ctx->area[i].iova <= at && at - ctx->area[i].iova < ctx->area[i].length))
            i++;
        if (i == ctx->narea)
            return -ENOENT;
        const struct ifd_area *a = &ctx->area[i];
        uint64_t end = a->iova + a->length - 1 < last ? a->iova + a->length - 1 : last;
        (*out)[(*n)++] = (struct ifd_piece){ at, end - at + 1, a->user_va + (at - a->iova) };
        if (end == last)
            return 0;
        at = end + 1;
    }
}

static int map_piece(struct vtd_iommufd *ctx, const struct ifd_piece *pc, uint64_t iova, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m, .vaddr = pc->user_va, .iova = iova, .size = pc->length,
        .flags = ((flags & IOMMU_IOAS_MAP_READABLE) ? VFIO_DMA_MAP_FLAG_READ : 0) |
                 ((flags & IOMMU_IOAS_MAP_WRITEABLE) ? VFIO_DMA_MAP_FLAG_WRITE : 0),
    };
    int rc = vtd_container_ioctl(ctx->c, VFIO_IOMMU_MAP_DMA, &m);
    if (rc || !(rc = add_area(ctx, iova, pc->length, pc->user_va)))
        return rc;
    struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = iova, .size = pc->length };
    (void)vtd_container_ioctl(ctx->c, VFIO_IOMMU_UNMAP_DMA, &u);
    return rc;
}

/* Maps the pieces one after the other from dst, each an area of its own (iopt_map_pages makes one
 * area per element of its list); a failure takes back what this call mapped. */
static int copy_map(struct vtd_iommufd *ctx, const struct ifd_piece *pc, size_t n, uint64_t dst, uint32_t flags)
{
    uint64_t at = dst;
    size_t done = 0;
    int rc = 0;
    for (; done < n && !(rc = map_piece(ctx, &pc[done], at, flags)); done++)
        at += pc[done].length;
    if (!rc)
        return 0;
    for (size_t i = ctx->narea; i-- > 0;)
        if (ctx->area[i].iova >= dst && ctx->area[i].iova < at)
            (void)unmap_area(ctx, i);
    return rc;
}

/* iommufd_ioas_copy: the flags, the 64-bit range, the source IOAS and its pages (iopt_get_pages:
 * -EINVAL for no length, -EOVERFLOW past the end, -ENOENT for a hole), the destination IOAS,
 * then iopt_map_pages: the IOAS's alignment (-EINVAL), and the destination range checked as
 * IOAS_MAP checks it (fixed) or found free. vtdsim keeps one IOAS per context, so the source and
 * destination are the same IOAS; a copy needs READABLE or WRITEABLE (the container maps nothing
 * without access: -EINVAL). */
int ifd_ioas_copy(struct vtd_iommufd *ctx, struct iommu_ioas_copy *cmd)
{
    const uint32_t known = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
    if (cmd->flags & ~known)
        return -EOPNOTSUPP;
    if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX || cmd->dst_iova >= UINT64_MAX)
        return -EOVERFLOW;
    if (!ifd_obj_get(ctx, cmd->src_ioas_id, IFD_IOAS))
        return -ENOENT;
    if (!cmd->length)
        return -EINVAL;
    if (cmd->src_iova + cmd->length - 1 < cmd->src_iova)
        return -EOVERFLOW;
    struct ifd_piece *pc;
    size_t n;
    int rc = copy_source(ctx, cmd->src_iova, cmd->src_iova + cmd->length - 1, &pc, &n);
    if (!rc && !ifd_obj_get(ctx, cmd->dst_ioas_id, IFD_IOAS))
        rc = -ENOENT;
    if (!rc && ((cmd->src_iova | cmd->length) & (IFD_PAGE - 1)))
        rc = -EINVAL;
    if (!rc && !(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
        rc = -EINVAL;
    uint64_t dst = cmd->dst_iova;
    if (!rc && !(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA))
        rc = alloc_iova(ctx, cmd->length, &dst);
    else if (!rc)
        rc = fixed_range_check(ctx, dst, cmd->length);
    if (!rc && !(rc = copy_map(ctx, pc, n, dst, cmd->flags)))
        cmd->dst_iova = dst;
    vtd_free(pc);
    return rc;
}
