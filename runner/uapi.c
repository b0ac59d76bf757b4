/*
 * uapi.c: the uAPI steps. Each builds the structure the ioctl takes from the step's fields
 * (defaults: the correct argsz, version and format, so a scenario states only what it varies)
 * and calls vtd_container_ioctl, exactly as a VMM would call the kernel.
 */
#include "runner/uapi.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "host/container.h"
#include <linux/iommufd_vtd.h>
#include "walker/alloc.h"

#define HAS(st, a) ((st)->given[a])
#define ARGV(st, a) ((st)->v[a])
#define ARG_OR(st, a, d) (HAS(st, a) ? ARGV(st, a) : (uint64_t)(d))

int sc_uapi_container_new(struct vtd_iommu *io, const struct scenario *s, struct vtd_container **out,
                          const char **why)
{
    struct vtd_container_config cfg;
    const struct sc_container *sc = &s->container;
    vtd_container_config_default(&cfg);
    if (sc->given_did)
        cfg.did = (uint16_t)sc->did;
    if (sc->given_levels)
        cfg.ss_levels = (unsigned)sc->ss_levels;
    if (sc->given_pool)
        cfg.pool_base = sc->pool;
    if (sc->given_pool_size)
        cfg.pool_size = sc->pool_size;
    cfg.policy = s->policy == SC_POLICY_LINUX_5_10 ? VTD_INV_LINUX_5_10 : VTD_INV_SPEC;
    cfg.iommufd_kernel = sc->iommufd_kernel == SC_IOMMUFD_6_8 ? VTD_IOMMUFD_6_8 : VTD_IOMMUFD_6_10;
    cfg.dirty_source = (enum vtd_dirty_source)sc->dirty_source;
    cfg.dirty_flush = (enum vtd_dirty_flush)sc->dirty_flush;
    *out = vtd_container_new(io, &cfg, why);
    return *out ? 0 : -EINVAL;
}

void sc_uapi_container_free(struct vtd_container *c)
{
    if (c)
        vtd_container_free(c);
}

struct vtd_builder *sc_uapi_builder(struct vtd_container *c) { return vtd_container_builder(c); }
const struct vtd_pt *sc_uapi_container_ss(const struct vtd_container *c) { return c ? vtd_container_ss(c) : NULL; }

/* ---- one function per ioctl ---- */

static int get_info(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    /* The caller's buffer is argsz bytes (default: room for the whole capability chain). */
    uint64_t argsz = ARG_OR(st, A_ARGSZ, 4096);
    size_t len = argsz < sizeof(struct vfio_iommu_type1_info) ? sizeof(struct vfio_iommu_type1_info) : (size_t)argsz;
    struct vfio_iommu_type1_info *info = vtd_calloc(1, len > 65536 ? 65536 : len);
    if (!info)
        return -ENOMEM;
    info->argsz = (uint32_t)argsz;
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, info);
    *ret = info->argsz;
    vtd_free(info);
    return rc;
}

static int map_dma(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    unsigned perm = (unsigned)ARG_OR(st, A_PERM, VTD_PERM_R | VTD_PERM_W);
    struct vfio_iommu_type1_dma_map m = {
        .argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof m),
        .flags = (uint32_t)ARG_OR(st, A_FLAGS, ((perm & VTD_PERM_R) ? VFIO_DMA_MAP_FLAG_READ : 0) |
                                                   ((perm & VTD_PERM_W) ? VFIO_DMA_MAP_FLAG_WRITE : 0)),
        .vaddr = ARGV(st, A_VADDR), .iova = ARGV(st, A_IOVA), .size = ARGV(st, A_SIZE)};
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
    *ret = rc;
    return rc < 0 ? rc : 0;
}

static int unmap_dma(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    /* Room for the vfio_bitmap that GET_DIRTY_BITMAP puts after the header (left zero here: a
     * step that sets the flag and a larger argsz gets the kernel's answer to a NULL bitmap, not
     * a read past the structure). */
    union {
        struct vfio_iommu_type1_dma_unmap u;
        unsigned char room[sizeof(struct vfio_iommu_type1_dma_unmap) + sizeof(struct vfio_bitmap)];
    } arg = {.u = {.argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof arg.u), .flags = (uint32_t)ARG_OR(st, A_FLAGS, 0),
                   .iova = ARGV(st, A_IOVA), .size = ARGV(st, A_SIZE)}};
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &arg);
    *ret = (long long)arg.u.size;
    return rc < 0 ? rc : 0;
}

static int pasid_request(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    uint32_t op = ARG_OR(st, A_OP, 0) ? VFIO_IOMMU_FLAG_FREE_PASID : VFIO_IOMMU_FLAG_ALLOC_PASID;
    struct vfio_iommu_type1_pasid_request r = {
        .argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof r), .flags = (uint32_t)ARG_OR(st, A_FLAGS, op),
        .range = {.min = (uint32_t)ARGV(st, A_MIN), .max = (uint32_t)ARGV(st, A_MAX_PASID)}};
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r);
    *ret = rc;
    return rc < 0 ? rc : 0;
}

static int bind(struct vtd_container *c, const struct sc_step *st, const struct vtd_pt *gpt, bool unbind,
                long long *ret)
{
    unsigned levels = gpt ? gpt->levels : 4;
    struct iommu_gpasid_bind_data b = {
        .argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof b), .version = (uint32_t)ARG_OR(st, A_VERSION, IOMMU_GPASID_BIND_VERSION_1),
        .format = (uint32_t)ARG_OR(st, A_FORMAT, IOMMU_PASID_FORMAT_INTEL_VTD),
        .addr_width = (uint32_t)ARG_OR(st, A_ADDR_WIDTH, levels == 5 ? 57 : 48),
        .flags = ARG_OR(st, A_FLAGS, HAS(st, A_GPASID) ? IOMMU_SVA_GPASID_VAL : 0),
        .gpgd = ARG_OR(st, A_ADDR, gpt ? gpt->root : 0), .hpasid = ARGV(st, A_HPASID), .gpasid = ARG_OR(st, A_GPASID, 0)};
    b.vendor.vtd.flags = (ARG_OR(st, A_SRE, 0) ? IOMMU_SVA_VTD_GPASID_SRE : 0) |
                         (ARG_OR(st, A_EAFE, 0) ? IOMMU_SVA_VTD_GPASID_EAFE : 0);
    *ret = 0;
    return vtd_container_nesting_op(c, unbind ? VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL : VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &b, sizeof b);
}

static int cache_invalidate(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    unsigned gran = (unsigned)ARG_OR(st, A_UGRAN, IOMMU_INV_GRANU_ADDR);
    bool pasid = HAS(st, A_PASID) && ARGV(st, A_PASID) != UINT64_MAX;
    struct iommu_cache_invalidate_info inv = {
        .argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof inv),
        .version = (uint32_t)ARG_OR(st, A_VERSION, IOMMU_CACHE_INVALIDATE_INFO_VERSION_1),
        .cache = (uint8_t)ARG_OR(st, A_CACHE, IOMMU_CACHE_INV_TYPE_IOTLB), .granularity = (uint8_t)gran};
    if (gran == IOMMU_INV_GRANU_PASID)
        inv.granu.pasid_info = (struct iommu_inv_pasid_info){
            .flags = (uint32_t)ARG_OR(st, A_FLAGS, pasid ? IOMMU_INV_PASID_FLAGS_PASID : 0),
            .archid = (uint32_t)ARG_OR(st, A_ARCHID, 0), .pasid = pasid ? ARGV(st, A_PASID) : 0};
    else if (gran == IOMMU_INV_GRANU_ADDR)
        inv.granu.addr_info = (struct iommu_inv_addr_info){
            .flags = (uint32_t)ARG_OR(st, A_FLAGS, (pasid ? IOMMU_INV_ADDR_FLAGS_PASID : 0) |
                                                       (ARG_OR(st, A_LEAF, 0) ? IOMMU_INV_ADDR_FLAGS_LEAF : 0)),
            .archid = (uint32_t)ARG_OR(st, A_ARCHID, 0), .pasid = pasid ? ARGV(st, A_PASID) : 0,
            .addr = ARG_OR(st, A_ADDR, 0), .granule_size = ARG_OR(st, A_GRANULE, 4096), .nb_granules = ARG_OR(st, A_NB, 1)};
    *ret = 0;
    return vtd_container_nesting_op(c, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, &inv, sizeof inv);
}

/* IOMMU_HWPT_ALLOC of a vtd_s1 hwpt for one PASID: the guest table's root unless pgtbl_addr. */
static int hwpt_alloc(struct vtd_container *c, const struct sc_step *st, const struct vtd_pt *gpt, long long *ret)
{
    unsigned levels = gpt ? gpt->levels : 4;
    struct iommu_hwpt_vtd_s1 s1 = {
        .flags = ARG_OR(st, A_FLAGS, 0), .pgtbl_addr = ARG_OR(st, A_ADDR, gpt ? gpt->root : 0),
        .addr_width = (uint32_t)ARG_OR(st, A_ADDR_WIDTH, levels == 5 ? 57 : 48),
        .__reserved = (uint32_t)ARG_OR(st, A_VALUE, 0)};
    *ret = 0;
    return vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)ARGV(st, A_PASID), &s1);
}

/*
 * IOMMU_HWPT_INVALIDATE: the entries laid out `entry_len` bytes apart (zero-padded when larger
 * than the structure), in a buffer large enough for `entry_num` of them; *ret is entry_num as
 * the call left it.
 */
static int hwpt_invalidate(struct vtd_container *c, const struct sc_step *st, long long *ret)
{
    typedef struct iommu_hwpt_vtd_s1_invalidate ent;
    uint32_t len = (uint32_t)ARG_OR(st, A_WIDTH, sizeof(ent));
    uint32_t num = (uint32_t)ARG_OR(st, A_COUNT, st->ninv);
    size_t stride = len > sizeof(ent) ? len : sizeof(ent);
    size_t n = num > st->ninv ? num : st->ninv;
    unsigned char *buf = vtd_calloc(n ? n : 1, stride);
    if (!buf)
        return -ENOMEM;
    for (unsigned i = 0; i < st->ninv; i++) {
        ent e = {.addr = st->inv[i].addr, .npages = st->inv[i].npages, .flags = st->inv[i].flags,
                 .__reserved = st->inv[i].reserved};
        memcpy(buf + i * stride, &e, sizeof e);
    }
    int rc = vtd_container_hwpt_invalidate(c, (uint32_t)ARGV(st, A_PASID), buf, len, &num);
    vtd_free(buf);
    *ret = num;
    return rc;
}

unsigned sc_uapi_read_faults(struct vtd_container *c, struct sc_ufault *out, unsigned max)
{
    struct iommu_fault buf[64];
    int n = vtd_container_read_faults(c, buf, max < 64 ? max : 64);
    for (int i = 0; i < n; i++) {
        const struct iommu_fault *f = &buf[i];
        out[i] = f->type == IOMMU_FAULT_DMA_UNRECOV
                     ? (struct sc_ufault){f->type, f->event.reason, f->event.flags, f->event.pasid, 0, f->event.addr}
                     : (struct sc_ufault){f->type, 0, f->prm.flags, f->prm.pasid, f->prm.grpid, f->prm.addr};
    }
    return n > 0 ? (unsigned)n : 0;
}

static int page_response(struct vtd_container *c, const struct sc_step *st)
{
    bool pasid = HAS(st, A_PASID) && ARGV(st, A_PASID) != UINT64_MAX;
    struct iommu_page_response r = {
        .argsz = (uint32_t)ARG_OR(st, A_ARGSZ, sizeof r), .version = (uint32_t)ARG_OR(st, A_VERSION, IOMMU_PAGE_RESP_VERSION_1),
        .flags = (uint32_t)ARG_OR(st, A_FLAGS, pasid ? IOMMU_PAGE_RESP_PASID_VALID : 0),
        .pasid = pasid ? (uint32_t)ARGV(st, A_PASID) : 0, .grpid = (uint32_t)ARGV(st, A_GRPID),
        .code = (uint32_t)ARG_OR(st, A_CODE, IOMMU_PAGE_RESP_SUCCESS)};
    return vtd_container_page_response(c, &r);
}

int sc_uapi_layer_error(const struct vtd_container *c) { return vtd_container_last_op_error(c); }

int sc_uapi_step(struct vtd_container *c, const struct sc_step *st, const struct vtd_pt *gpt, uint16_t sid,
                 long long *ret)
{
    *ret = 0;
    switch (st->kind) {
    case SK_CONTAINER_ATTACH: return vtd_container_attach_device(c, sid);
    case SK_GET_INFO: return get_info(c, st, ret);
    case SK_MAP_DMA: return map_dma(c, st, ret);
    case SK_UNMAP_DMA: return unmap_dma(c, st, ret);
    case SK_PASID_REQUEST: return pasid_request(c, st, ret);
    case SK_BIND: return bind(c, st, gpt, false, ret);
    case SK_UNBIND: return bind(c, st, gpt, true, ret);
    case SK_CACHE_INVALIDATE: return cache_invalidate(c, st, ret);
    case SK_PAGE_RESPONSE: return page_response(c, st);
    case SK_HWPT_ALLOC: return hwpt_alloc(c, st, gpt, ret);
    case SK_HWPT_INVALIDATE: return hwpt_invalidate(c, st, ret);
    default: return -EINVAL;
    }
}
