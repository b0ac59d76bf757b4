/*
 * invrange.c: the range probe (host/invrange.h). One fresh world per policy: an IOMMU, a
 * container (1 GiB of guest RAM by MAP_DMA, one PASID from PASID_REQUEST bound to a first-stage
 * table in guest memory, by BIND_PGTBL or by iommufd's HWPT_ALLOC), a plain device and an ATS
 * device. Every page of the range and of a margin on either side is mapped and cached (IOTLB,
 * device TLB); the range's leaf PTEs are then pointed elsewhere without invalidating, the
 * guest's request for the range is made while the container's descriptors are recorded, and a
 * DMA per page and device tells what each cache still holds.
 */
#include "host/invrange.h"

#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>
#include <linux/iommufd_vtd.h>

#include "walker/builder.h"
#include "walker/fs_entry.h"

#define DEV_PLAIN 0x0010u
#define DEV_ATS 0x0018u
#define GUEST_RAM_HPA UINT64_C(0x40000000) /* guest-physical 0 */
#define GUEST_RAM_SIZE UINT64_C(0x40000000)
#define PT_POOL UINT64_C(0x100000)         /* guest-physical pool of the first-stage table */
#define PT_POOL_SIZE UINT64_C(0x400000)
#define GPA_OLD UINT64_C(0x1000000)        /* page i of the window maps GPA_OLD + i pages */
#define GPA_NEW UINT64_C(0x2000000)        /* and, changed, GPA_NEW + i pages */
#define VA_LIMIT (UINT64_C(1) << 47)       /* a 4-level first stage's canonical lower half */

struct range_world {
    struct vtd_iommu *io;
    struct vtd_container *c;
    struct vtd_pt pt;
    uint32_t pasid;
};

const char *inv_range_policy_name(enum inv_range_policy p)
{
    static const char *const n[IRP_N] = {"spec", "linux-5.10", "iommufd-6.10", "iommufd-6.8"};
    return p < IRP_N ? n[p] : "?";
}

const char *inv_page_state_name(enum inv_page_state s)
{
    static const char *const n[] = {"-", "flushed", "stale", "kept", "lost"};
    return s <= IPS_LOST ? n[s] : "?";
}

uint64_t inv_range_pages(uint64_t addr, uint64_t size)
{
    if (!size || addr + (size - 1) < addr)
        return 0;
    return (((addr + (size - 1)) >> 12) - (addr >> 12)) + 1;
}

/* ---- the world ------------------------------------------------------------------------------ */

static bool policy_is_iommufd(enum inv_range_policy p) { return p == IRP_IOMMUFD_6_10 || p == IRP_IOMMUFD_6_8; }

static int world_container(struct range_world *w, enum inv_range_policy policy)
{
    static const struct vtd_device_config plain = {.sid = DEV_PLAIN, .pasid_bits = 20};
    /* Fully associative, room for every page of the window. */
    static const struct vtd_device_config ats = {.sid = DEV_ATS, .ats = true, .pasid_bits = 20,
                                                 .devtlb = {.sets = 1, .ways = 128}};
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.policy = policy == IRP_LINUX_5_10 ? VTD_INV_LINUX_5_10 : VTD_INV_SPEC;
    cc.iommufd_kernel = policy == IRP_IOMMUFD_6_8 ? VTD_IOMMUFD_6_8 : VTD_IOMMUFD_6_10;
    int rc = vtd_iommu_add_device(w->io, &plain);
    if (!rc)
        rc = vtd_iommu_add_device(w->io, &ats);
    if (!rc && !(w->c = vtd_container_new(w->io, &cc, NULL)))
        rc = -EINVAL;
    if (!rc)
        rc = vtd_container_attach_device(w->c, DEV_PLAIN);
    if (!rc)
        rc = vtd_container_attach_device(w->c, DEV_ATS);
    struct vfio_iommu_type1_dma_map m = {sizeof m, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, GUEST_RAM_HPA, 0,
                                         GUEST_RAM_SIZE};
    return rc ? rc : vtd_container_ioctl(w->c, VFIO_IOMMU_MAP_DMA, &m);
}

/* The guest's table maps every page of the window; one PASID is bound to it. */
static int world_bind(struct range_world *w, enum inv_range_policy policy, uint64_t first, unsigned npages)
{
    int rc = vtd_pt_init(&w->pt, vtd_container_builder(w->c), VTD_PT_FS, 4, vtd_container_ss(w->c), PT_POOL,
                         PT_POOL_SIZE);
    for (unsigned i = 0; !rc && i < npages; i++)
        rc = vtd_pt_map(&w->pt, first + ((uint64_t)i << 12), GPA_OLD + ((uint64_t)i << 12), 4096, 12,
                        VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, 0);
    struct vfio_iommu_type1_pasid_request r = {sizeof r, VFIO_IOMMU_FLAG_ALLOC_PASID, {1, 1023}};
    int pasid = rc ? rc : vtd_container_ioctl(w->c, VFIO_IOMMU_PASID_REQUEST, &r);
    if (pasid <= 0)
        return pasid ? pasid : -ENOSPC;
    w->pasid = (uint32_t)pasid;
    if (policy_is_iommufd(policy)) {
        struct iommu_hwpt_vtd_s1 s1 = {.pgtbl_addr = w->pt.root, .addr_width = 48};
        return vtd_container_hwpt_alloc_vtd_s1(w->c, w->pasid, &s1);
    }
    struct iommu_gpasid_bind_data b = {.argsz = sizeof b, .version = IOMMU_GPASID_BIND_VERSION_1,
                                       .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                       .gpgd = w->pt.root, .hpasid = w->pasid};
    return vtd_container_nesting_op(w->c, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &b, sizeof b);
}

static void world_free(struct range_world *w)
{
    if (w->c)
        vtd_container_free(w->c);
    vtd_iommu_free(w->io);
}

static int world_new(struct range_world *w, enum inv_range_policy policy, uint64_t first, unsigned npages)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    *w = (struct range_world){0};
    if (!(w->io = vtd_iommu_new(&cfg, NULL)))
        return -ENOMEM;
    int rc = world_container(w, policy);
    if (!rc)
        rc = world_bind(w, policy, first, npages);
    if (rc)
        world_free(w);
    return rc;
}

/* ---- DMAs and judgements -------------------------------------------------------------------- */

/* Whether the device's request for va was answered from its cache: the IOTLB for the plain
 * device, the device TLB for the ATS one. */
static bool served_cached(struct range_world *w, uint16_t sid, uint64_t va)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = true, .pasid = w->pasid, .addr = va, .access = VTD_ACC_R};
    struct vtd_dma_result r = {0};
    if (vtd_iommu_dma(w->io, &req, &r))
        return false;
    return sid == DEV_ATS ? r.source == VTD_SRC_DEVTLB : (r.used & (1u << VTD_C_IOTLB)) != 0;
}

/* Fill both caches with every page, then note which pages each cache serves. */
static void warm(struct range_world *w, struct inv_range_result *out)
{
    for (unsigned i = 0; i < out->npages; i++) {
        served_cached(w, DEV_PLAIN, out->page[i].va);
        served_cached(w, DEV_ATS, out->page[i].va);
    }
    for (unsigned i = 0; i < out->npages; i++) {
        out->page[i].iotlb = served_cached(w, DEV_PLAIN, out->page[i].va) ? IPS_KEPT : IPS_NONE;
        out->page[i].devtlb = served_cached(w, DEV_ATS, out->page[i].va) ? IPS_KEPT : IPS_NONE;
    }
}

/* The range's pages now map elsewhere; their cached translations are stale. */
static int change_range(struct range_world *w, const struct inv_range_result *out)
{
    struct vtd_mem *m = vtd_iommu_mem(w->io);
    int rc = 0;
    for (unsigned i = 0; !rc && i < out->npages; i++) {
        uint64_t hpa, v;
        if (!out->page[i].in_range)
            continue;
        rc = vtd_pt_entry_addr(&w->pt, out->page[i].va, 1, &hpa);
        if (!rc)
            rc = vtd_mem_read64(m, hpa, &v);
        if (!rc)
            rc = vtd_mem_write64(m, hpa, (v & ~VTD_FS_ADDR) | ((GPA_NEW + ((uint64_t)i << 12)) & VTD_FS_ADDR));
    }
    return rc;
}

/* The guest's request for the range, as its policy's uAPI carries it. */
static int request(struct range_world *w, enum inv_range_policy policy, uint64_t addr, uint64_t npages)
{
    if (policy_is_iommufd(policy)) {
        struct iommu_hwpt_vtd_s1_invalidate e = {.addr = addr, .npages = npages};
        uint32_t n = 1;
        return vtd_container_hwpt_invalidate(w->c, w->pasid, &e, sizeof e, &n);
    }
    struct iommu_cache_invalidate_info inv = {
        .argsz = sizeof inv, .version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
        .cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB, .granularity = IOMMU_INV_GRANU_ADDR};
    inv.granu.addr_info = (struct iommu_inv_addr_info){.flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = w->pasid,
                                                       .addr = addr, .granule_size = 4096, .nb_granules = npages};
    return vtd_container_cache_invalidate(w->c, &inv);
}

/* A page's state in one cache after the request, from whether it was cached before and is now. */
static enum inv_page_state judge(enum inv_page_state before, bool in_range, bool cached)
{
    if (before == IPS_NONE)
        return IPS_NONE;
    if (in_range)
        return cached ? IPS_STALE : IPS_FLUSHED;
    return cached ? IPS_KEPT : IPS_LOST;
}

static void observe(struct range_world *w, struct inv_range_result *out)
{
    /* The plain device first: an ATS miss would refill the IOTLB with its translation request. */
    for (unsigned i = 0; i < out->npages; i++) {
        struct inv_range_page *p = &out->page[i];
        p->iotlb = judge(p->iotlb, p->in_range, served_cached(w, DEV_PLAIN, p->va));
    }
    for (unsigned i = 0; i < out->npages; i++) {
        struct inv_range_page *p = &out->page[i];
        p->devtlb = judge(p->devtlb, p->in_range, served_cached(w, DEV_ATS, p->va));
    }
}

/* The window: the range's pages with INV_RANGE_MARGIN on either side (fewer below page 0). */
static int window(uint64_t addr, uint64_t size, struct inv_range_result *out)
{
    uint64_t n = inv_range_pages(addr, size);
    if (!n)
        return -EINVAL;
    if (n > INV_RANGE_MAX_PAGES)
        return -E2BIG;
    uint64_t first = addr >> 12, below = first < INV_RANGE_MARGIN ? first : INV_RANGE_MARGIN;
    if (((first + n + INV_RANGE_MARGIN) << 12) > VA_LIMIT)
        return -ERANGE;
    out->npages = (unsigned)(below + n + INV_RANGE_MARGIN);
    for (unsigned i = 0; i < out->npages; i++) {
        uint64_t page = first - below + i;
        out->page[i] = (struct inv_range_page){.va = page << 12, .in_range = page >= first && page < first + n};
    }
    return 0;
}

/* The IOMMU's descriptor listener: what the host layer issued for the guest's request. */
static void record_desc(void *arg, const uint64_t *qw, unsigned nqw, int rc)
{
    (void)rc;
    struct inv_range_result *out = arg;
    if (out->ndesc < INV_RANGE_MAX_DESCS) {
        struct vtd_desc *d = &out->desc[out->ndesc];
        *d = (struct vtd_desc){.nqw = nqw};
        memcpy(d->qw, qw, 8u * (nqw < 4 ? nqw : 4));
    }
    out->ndesc++;
}

int inv_range_probe(enum inv_range_policy policy, uint64_t addr, uint64_t size, struct inv_range_result *out)
{
    *out = (struct inv_range_result){.policy = policy};
    int rc = window(addr, size, out);
    struct range_world w;
    if (rc || (rc = world_new(&w, policy, out->page[0].va, out->npages)))
        return rc;
    out->pasid = w.pasid;
    warm(&w, out);
    rc = change_range(&w, out);
    if (!rc) {
        vtd_iommu_set_qi_listener(w.io, record_desc, out);
        out->err = request(&w, policy, addr, inv_range_pages(addr, size));
        vtd_iommu_set_qi_listener(w.io, NULL, NULL);
        observe(&w, out);
    }
    world_free(&w);
    return rc;
}
