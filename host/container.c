/*
 * container.c: the VFIO type1 nesting container of the vSVA proposal (issue 5): set-up,
 * GET_INFO, MAP_DMA / UNMAP_DMA and PASID_REQUEST, answered as Linux 5.9/5.10 with the vSVA
 * series did (vfio_iommu_type1.c, vfio/pasid.c). Errors are the kernel's, checked in its order.
 */
#include "host/container.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "host/container_internal.h"
#include "walker/alloc.h"


/* vfio_iommu_type1's default dma_entry_limit (module parameter, U16_MAX). */
#define DMA_ENTRY_LIMIT 65535u
/*
 * Pages a container may pin, like the RLIMIT_MEMLOCK accounting of vfio_pin_pages_remote
 * (Linux 5.9 vfio_iommu_type1.c: -ENOMEM past the limit): 4 GiB. It also bounds the time one
 * MAP_DMA takes, which maps page by page when iova and vaddr differ in alignment.
 */
#define PIN_LIMIT_PAGES VTD_CONTAINER_PIN_LIMIT_PAGES
/* Intel's pgsize_bitmap in 5.9/5.10 (INTEL_IOMMU_PGSIZES): every power of two from 4 KiB. */
#define INTEL_PGSIZES (~UINT64_C(0xFFF))
/* DIRTY_BITMAP_SIZE_MAX of 5.9: one bit per page for INT_MAX pages, rounded to 64 bits. */
#define DIRTY_BITMAP_SIZE_MAX (UINT64_C(1) << 28)

void vtd_container_config_default(struct vtd_container_config *cfg)
{
    *cfg = (struct vtd_container_config){
        .did = 1, .pool_base = UINT64_C(0x10000000), .pool_size = UINT64_C(0x10000000),
        .ss_levels = 4, .policy = VTD_INV_SPEC, .iommufd_kernel = VTD_IOMMUFD_6_10,
    };
}

/*
 * The IOMMU's share, made (with the root table) by its first container. It lives in the IOMMU's
 * host slot: state of the instance, never of the process, so containers of different IOMMUs
 * can run on different threads.
 */
static struct iommu_share *share_get(struct vtd_iommu *io, struct vtd_builder *b)
{
    struct iommu_share *s = vtd_iommu_host(io);
    if (s) {
        s->refs++;
        return s;
    }
    s = vtd_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (vtd_build_root_table(b, &s->rtaddr)) {
        vtd_free(s);
        return NULL;
    }
    s->io = io;
    s->refs = 1;
    vtd_iommu_set_host(io, s);
    vtd_iommu_set_root(io, s->rtaddr);
    return s;
}

static void share_put(struct iommu_share *s)
{
    if (--s->refs)
        return;
    vtd_iommu_set_host(s->io, NULL);
    vtd_free(s->pasids);
    vtd_free(s->conts);
    vtd_free(s);
}

static const char *config_error(const struct vtd_iommu *io, const struct vtd_container_config *cfg)
{
    const struct vtd_caps *caps = vtd_iommu_caps(io);
    if (cfg->did == 0 || cfg->did >= (UINT32_C(1) << vtd_caps_did_bits(caps)))
        return "DID 0 or beyond CAP.ND";
    if (!vtd_caps_sagaw_allows(caps, cfg->ss_levels))
        return "second-stage levels not in SAGAW";
    if (cfg->policy != VTD_INV_SPEC && cfg->policy != VTD_INV_LINUX_5_10)
        return "unknown invalidation policy";
    if (cfg->iommufd_kernel != VTD_IOMMUFD_6_10 && cfg->iommufd_kernel != VTD_IOMMUFD_6_8)
        return "unknown iommufd kernel";
    if ((unsigned)cfg->dirty_source > VTD_DIRTY_SSADE || (unsigned)cfg->dirty_flush > VTD_DIRTY_FLUSH_IOTLB)
        return "unknown dirty-tracking source or flush";
    if (!vtd_ecap_has(caps, VTD_ECAP_SMTS) || !vtd_ecap_has(caps, VTD_ECAP_NEST))
        return "the IOMMU lacks scalable mode or nesting";
    return NULL;
}

/* The PASID directory size for the IOMMU's PASID width: 2^(bits-6) directory entries. */
static unsigned pdts_for_bits(unsigned bits)
{
    return bits > 13 ? (bits - 13 > 7 ? 7 : bits - 13) : 0;
}

struct vtd_container *vtd_container_new(struct vtd_iommu *io, const struct vtd_container_config *cfg,
                                        const char **why)
{
    const char *err = io && cfg ? config_error(io, cfg) : "no IOMMU or configuration";
    if (err) {
        if (why)
            *why = err;
        return NULL;
    }
    struct vtd_container *c = vtd_calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    c->io = io;
    c->cfg = *cfg;
    if (vtd_builder_init(&c->b, vtd_iommu_mem(io), vtd_iommu_caps(io), cfg->pool_base, cfg->pool_size))
        goto bad_pool;
    /* Linux flushes root, context and PASID entries unless ECAP.C, page tables unless
     * ECAP.SMPWC (__iommu_flush_cache, iommu_paging_structure_coherency): the host layer
     * flushes everything it writes unless both are set. */
    c->b.flush_writes = !vtd_ecap_has(vtd_iommu_caps(io), VTD_ECAP_C) || !vtd_ecap_has(vtd_iommu_caps(io), VTD_ECAP_SMPWC);
    c->share = share_get(io, &c->b);
    if (!c->share)
        goto bad_pool;
    if (vtd_pt_init(&c->ss, &c->b, VTD_PT_SS, cfg->ss_levels, NULL, 0, 0))
        goto bad_pool_shared;
    c->ctx_proto = (struct vtd_ctx){ .paside = true, .pdts = pdts_for_bits(vtd_caps_pasid_bits(vtd_iommu_caps(io))) };
    if (vtd_build_pasid_dir(&c->b, c->ctx_proto.pdts, &c->ctx_proto.pdtp))
        goto bad_pool_shared;
    if (cont_fault_init(c, cfg->fault_queue) || cont_prq_init(c)) {
        cont_fault_fini(c);
        share_put(c->share);
        vtd_free(c);
        goto nomem;
    }
    return c;
bad_pool_shared:
    share_put(c->share);
bad_pool:
    vtd_free(c);
    if (why)
        *why = "pool too small or outside HAW, or out of memory";
    return NULL;
nomem:
    if (why)
        *why = "out of memory";
    return NULL;
}

static void release_pasids(struct vtd_container *c);

void vtd_container_free(struct vtd_container *c)
{
    if (!c)
        return;
    cont_fault_fini(c);
    cont_prq_fini(c);
    release_pasids(c); /* unbinds what is still bound: before the bound list goes */
    cont_nest_free(c);
    share_put(c->share);
    vtd_free(c->maps);
    vtd_free(c->sids);
    vtd_free(c);
}

uint16_t vtd_container_did(const struct vtd_container *c) { return c->cfg.did; }
const struct vtd_pt *vtd_container_ss(const struct vtd_container *c) { return &c->ss; }
struct vtd_builder *vtd_container_builder(struct vtd_container *c) { return &c->b; }

/* ---- descriptors (VT-d 6.5.2) ---- */

int cont_qi(struct vtd_container *c, struct vtd_desc d)
{
    struct vtd_qi_result r;
    return vtd_qi_submit_desc(c->io, &d, &r);
}

int cont_qi_wait(struct vtd_container *c) { return cont_qi(c, vtd_desc_wait(0, 0, 0)); }

/* Context-cache invalidation, device-selective (G = 11b). */
static int qi_cc_device(struct vtd_container *c, uint16_t sid)
{
    return cont_qi(c, vtd_desc_cc(VTD_QI_CC_G_DEVICE, c->cfg.did, sid, 0));
}

/* PASID-cache invalidation: PASID-selective (G = 01b) or domain-selective (G = 00b). */
static int qi_pc(struct vtd_container *c, unsigned g, uint32_t pasid)
{
    return cont_qi(c, vtd_desc_pc(g, c->cfg.did, pasid));
}

/* IOTLB invalidation of [start, last] for the domain: page-selective when AM fits, else DSI. */
static int qi_iotlb_range(struct vtd_container *c, uint64_t start, uint64_t last)
{
    const struct vtd_caps *caps = vtd_iommu_caps(c->io);
    unsigned am = vtd_qi_am_covering(start, last);
    if (!vtd_cap_has(caps, VTD_CAP_PSI) || am > vtd_caps_mamv(caps))
        return cont_qi(c, vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, c->cfg.did, 0, 0, false, false, false));
    uint64_t addr = vtd_qi_am_range(start, am).first;
    return cont_qi(c, vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, c->cfg.did, addr, am, false, false, false));
}

int cont_qi_iotlb_range(struct vtd_container *c, uint64_t start, uint64_t last) { return qi_iotlb_range(c, start, last); }

/* The device TLB's size encoding for the block that covers [start, last] (VT-d 6.5.2.5). */
static int qi_devtlb(struct vtd_container *c, uint16_t sid, uint64_t start, uint64_t last)
{
    struct vtd_devtlb_size size = vtd_devtlb_size_encode(start, vtd_qi_am_covering(start, last));
    return cont_qi(c, vtd_desc_devtlb(sid, 0, 0, size));
}

/* ---- attaching devices ---- */

bool cont_attached(const struct vtd_container *c, uint16_t sid)
{
    for (size_t i = 0; i < c->nsids; i++)
        if (c->sids[i] == sid)
            return true;
    return false;
}

bool cont_device_ats(const struct vtd_container *c, uint16_t sid)
{
    struct vtd_device_info d;
    return !vtd_iommu_device_info(c->io, sid, &d) && d.ats;
}

int vtd_container_attach_device(struct vtd_container *c, uint16_t sid)
{
    struct vtd_device_info dev;
    if (vtd_iommu_device_info(c->io, sid, &dev))
        return -ENODEV;
    if (cont_attached(c, sid))
        return -EBUSY;
    if (c->nsids == c->capsids) {
        size_t n = c->capsids ? 2 * c->capsids : 8;
        uint16_t *p = vtd_realloc(c->sids, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->sids = p;
        c->capsids = n;
    }
    struct vtd_ctx ctx = c->ctx_proto;
    ctx.dte = dev.ats;
    ctx.pre = dev.pri;
    struct vtd_pasid_cfg pe;
    vtd_pasid_cfg_init(&pe, VTD_PGTT_SS, c->cfg.did);
    pe.ss_levels = c->cfg.ss_levels;
    pe.ssptptr = c->ss.root;
    pe.ssade = c->ssade; /* dirty tracking on: the new entry tracks too (container_dirty.c) */
    /* The RID_PASID entry goes in before the context entry points at the directory. */
    int rc = vtd_build_pasid_entry(&c->b, &ctx, 0, &pe);
    if (!rc)
        rc = vtd_build_context(&c->b, c->share->rtaddr, sid, &ctx);
    if (rc)
        return rc == -ENOMEM ? -ENOMEM : -EINVAL;
    c->sids[c->nsids++] = sid;
    /* A context entry that was not present may still be cached as not present (CM): flush it,
     * and the PASID cache of the domain, then wait (VT-d 6.5.3.3, 6.5.3.1). */
    rc = qi_cc_device(c, sid);
    if (!rc)
        rc = qi_pc(c, 0, 0);
    if (!rc)
        rc = cont_qi_wait(c);
    return rc;
}

/* ---- VFIO_IOMMU_GET_INFO (vfio_iommu_type1_get_info, 5.9) ---- */

unsigned cont_ss_width(const struct vtd_container *c) { return 39 + 9 * (c->cfg.ss_levels - 3); }

/*
 * The IOVA list of a 5.10 Intel domain (vfio_iommu_type1_attach_group): the aperture of
 * intel_iommu_domain_alloc, [0, __DOMAIN_MAX_ADDR(57)] whatever the hardware's width, minus the
 * IOAPIC/MSI window intel_iommu_get_resv_regions reserves (IOMMU_RESV_MSI, excluded by
 * vfio_iommu_resv_exclude). Mappings above the domain's width pass this list and fail later in
 * intel_iommu_map (-EFAULT). Linux 5.10 drivers/iommu/intel/iommu.c, drivers/vfio/vfio_iommu_type1.c.
 */
#define APERTURE_END ((UINT64_C(1) << 57) - 1)
#define IOAPIC_START UINT64_C(0xFEE00000)
#define IOAPIC_END UINT64_C(0xFEEFFFFF)
#define NR_IOVA_RANGES 2

/* vfio_iommu_type1_info_cap_iova_range with its ranges spelled out (a flexible array member
 * may not sit inside another struct in ISO C). */
struct info_cap_iova_list {
    struct vfio_info_cap_header header;
    __u32 nr_iovas;
    __u32 reserved;
    struct vfio_iova_range range[NR_IOVA_RANGES];
};
_Static_assert(offsetof(struct info_cap_iova_list, range) ==
                   offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges), "IOVA range capability layout");

/* The capability chain in the order the series built it (vfio_iommu_type1_get_info, v5.9 +
 * vSVA v7): migration, IOVA ranges, then nesting. 5.10's DMA_AVAIL (also id 3) is left out:
 * the seed's nesting capability owns id 3. */
struct info_caps {
    struct vfio_iommu_type1_info_cap_migration mig;
    struct info_cap_iova_list iova;
    struct vfio_iommu_type1_info_cap_nesting nest;
};
_Static_assert(sizeof(struct info_caps) == 32 + 48 + 64, "capability chain packing");

/* Whether [start, last] lies inside one range of the IOVA list (vfio_iommu_iova_dma_valid). */
static bool iova_in_list(uint64_t start, uint64_t last)
{
    return (last < IOAPIC_START) || (start > IOAPIC_END && last <= APERTURE_END);
}

/* Bytes of the chain: v7 vfio_iommu_info_add_nesting_cap adds the nesting capability only
 * when nesting_info exists, i.e. once a device is attached. */
static uint32_t caps_size(const struct vtd_container *c)
{
    return (uint32_t)(cont_has_nesting_info(c) ? sizeof(struct info_caps) : offsetof(struct info_caps, nest));
}

static void build_nesting_cap(const struct vtd_caps *caps, struct vfio_iommu_type1_info_cap_nesting *k)
{
    k->header = (struct vfio_info_cap_header){ VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, 1, 0 };
    struct iommu_nesting_info *n = &k->info;
    n->argsz = sizeof(*n);
    n->format = IOMMU_PASID_FORMAT_INTEL_VTD;
    n->features = IOMMU_NESTING_FEAT_SYSWIDE_PASID | IOMMU_NESTING_FEAT_BIND_PGTBL | IOMMU_NESTING_FEAT_CACHE_INVLD;
    n->addr_width = vtd_cap_has(caps, VTD_CAP_FS5LP) ? 57 : 48;
    n->pasid_bits = (uint16_t)vtd_caps_pasid_bits(caps);
    n->vendor.vtd.cap_reg = caps->cap;
    n->vendor.vtd.ecap_reg = caps->ecap;
}

static void build_caps(const struct vtd_container *c, struct info_caps *k, uint32_t base)
{
    memset(k, 0, sizeof(*k));
    uint32_t off_iova = base + (uint32_t)offsetof(struct info_caps, iova);
    uint32_t off_nest = cont_has_nesting_info(c) ? base + (uint32_t)offsetof(struct info_caps, nest) : 0;
    k->mig.header = (struct vfio_info_cap_header){ VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1, off_iova };
    k->mig.flags = 0;
    k->mig.pgsize_bitmap = UINT64_C(1) << 12; /* the smallest page size */
    k->mig.max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX;
    k->iova.header = (struct vfio_info_cap_header){ VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, off_nest };
    k->iova.nr_iovas = NR_IOVA_RANGES;
    k->iova.range[0] = (struct vfio_iova_range){ 0, IOAPIC_START - 1 };
    k->iova.range[1] = (struct vfio_iova_range){ IOAPIC_END + 1, APERTURE_END };
    if (cont_has_nesting_info(c))
        build_nesting_cap(vtd_iommu_caps(c->io), &k->nest);
}

/* vfio_iommu_type1_get_info (Linux 5.9/5.10 drivers/vfio/vfio_iommu_type1.c). */
static int get_info(struct vtd_container *c, void *arg)
{
    struct vfio_iommu_type1_info info;
    size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
    size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);
    memcpy(&info, arg, minsz);
    if (info.argsz < minsz)
        return -EINVAL; /* 5.10: argsz below the end of iova_pgsizes */
    /* cap_offset is output only, and only for callers whose argsz reaches it (5.10: "for
     * backward compatibility, cannot require this"). */
    if (info.argsz >= capsz) {
        minsz = capsz;
        info.cap_offset = 0;
    }
    info.flags = VFIO_IOMMU_INFO_PGSIZES;
    info.iova_pgsizes = INTEL_PGSIZES;
    struct info_caps k;
    uint32_t need = (uint32_t)sizeof(info) + caps_size(c);
    info.flags |= VFIO_IOMMU_INFO_CAPS;
    if (info.argsz < need) {
        /* 5.10: too small for the chain: argsz raised, CAPS set, no chain, still 0. */
        info.argsz = need;
    } else {
        build_caps(c, &k, sizeof(info));
        memcpy((char *)arg + sizeof(info), &k, caps_size(c));
        info.cap_offset = sizeof(info);
    }
    memcpy(arg, &info, minsz);
    return 0;
}

/* ---- VFIO_IOMMU_MAP_DMA / UNMAP_DMA (vfio_dma_do_map / vfio_dma_do_unmap, 5.10) ---- */

/* The minimum page size of Intel's pgsize_bitmap (1 << __ffs(pgsize_bitmap) = 4 KiB). */
#define PAGE_MASK_4K UINT64_C(0xFFF)

/* The first mapping overlapping [start, start + size) (vfio_find_dma). */
static struct dma_map *find_dma(struct vtd_container *c, uint64_t start, uint64_t size)
{
    for (size_t i = 0; i < c->nmaps; i++) {
        struct dma_map *m = &c->maps[i];
        if (start < m->iova + m->size && m->iova < start + size)
            return m;
    }
    return NULL;
}

struct dma_map *cont_find_dma(struct vtd_container *c, uint64_t start, uint64_t size) { return find_dma(c, start, size); }

static uint64_t pinned_pages(const struct vtd_container *c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->nmaps; i++)
        n += c->maps[i].size >> 12;
    return n;
}

uint64_t vtd_container_pinned_pages(const struct vtd_container *c) { return pinned_pages(c); }

static unsigned map_perm(uint32_t flags)
{
    return ((flags & VFIO_DMA_MAP_FLAG_READ) ? VTD_PERM_R : 0) | ((flags & VFIO_DMA_MAP_FLAG_WRITE) ? VTD_PERM_W : 0);
}

/* The start of the last piece __iommu_unmap hands to intel_iommu_unmap for [iova, iova + size):
 * greedy power-of-two pieces limited by the alignment of iova (iommu_pgsize, 5.10 iommu.c;
 * Intel's pgsize_bitmap has every power of two from 4 KiB). */
static uint64_t last_unmap_piece(uint64_t iova, uint64_t size)
{
    uint64_t start = iova;
    while (size) {
        unsigned fls = 63 - (unsigned)__builtin_clzll(size);
        unsigned idx = iova ? (unsigned)__builtin_ctzll(iova) : 63;
        uint64_t piece = UINT64_C(1) << (idx < fls ? idx : fls);
        start = iova;
        iova += piece;
        size -= piece;
    }
    return start;
}

static int map_dma(struct vtd_container *c, void *arg)
{
    struct vfio_iommu_type1_dma_map map;
    size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
    memcpy(&map, arg, minsz);
    /* vfio_iommu_type1_map_dma: argsz or flags beyond READ | WRITE. */
    if (map.argsz < minsz || (map.flags & ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
        return -EINVAL;
    unsigned perm = map_perm(map.flags);
    /* vfio_dma_do_map: no permission, size 0, iova/vaddr/size off the minimum page size. */
    if (!perm || !map.size || ((map.size | map.iova | map.vaddr) & PAGE_MASK_4K))
        return -EINVAL;
    if (map.iova + map.size - 1 < map.iova || map.vaddr + map.size - 1 < map.vaddr)
        return -EINVAL; /* vfio_dma_do_map: iova or vaddr wrap */
    if (find_dma(c, map.iova, map.size))
        return -EEXIST; /* vfio_dma_do_map: any overlap with an existing mapping */
    if (c->nmaps >= DMA_ENTRY_LIMIT)
        return -ENOSPC; /* vfio_dma_do_map: dma_avail exhausted */
    if (!iova_in_list(map.iova, map.iova + map.size - 1))
        return -EINVAL; /* vfio_iommu_iova_dma_valid: outside the IOVA list */
    /* Past the pin limit (PIN_LIMIT_PAGES above). */
    if ((map.size >> 12) > PIN_LIMIT_PAGES - pinned_pages(c))
        return -ENOMEM;
    /* Pinning (vfio_pin_pages_remote): vaddr is host-physical here; beyond HAW it cannot be
     * pinned. vtdsim's stand-in for an unmapped user address (-EFAULT). */
    unsigned haw = vtd_iommu_caps(c->io)->haw;
    if (haw < 64 && map.vaddr + map.size - 1 >= (UINT64_C(1) << haw))
        return -EFAULT;
    /* intel_iommu_map (5.10): the end must fit the domain's width (gaw), else -EFAULT. */
    unsigned gaw = cont_ss_width(c);
    if (map.iova + map.size - 1 > (UINT64_C(1) << gaw) - 1)
        return -EFAULT;
    if (c->nmaps == c->capmaps) {
        size_t n = c->capmaps ? 2 * c->capmaps : 16;
        struct dma_map *p = vtd_realloc(c->maps, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->maps = p;
        c->capmaps = n;
    }
    int rc = vtd_pt_map_auto(&c->ss, map.iova, map.vaddr, map.size, perm, 0);
    if (rc) {
        vtd_pt_unmap(&c->ss, map.iova, map.size); /* undo a partial map */
        return rc == -ENOMEM ? -ENOMEM : -EFAULT;
    }
    c->maps[c->nmaps++] = (struct dma_map){ map.iova, map.size, map.vaddr, perm };
    if (map.iova + map.size > c->max_addr)
        c->max_addr = map.iova + map.size; /* intel_iommu_map raises max_addr */
    return 0;
}

/* Host flush after second-stage leaves went away: IOTLB of the domain's DID (nested PASID
 * entries share it), then every ATS device's TLB, then a wait (VT-d 6.5.2, 6.5.3.1). */
static int flush_ss_range(struct vtd_container *c, uint64_t start, uint64_t last)
{
    int rc = qi_iotlb_range(c, start, last);
    for (size_t i = 0; !rc && i < c->nsids; i++)
        if (cont_device_ats(c, c->sids[i]))
            rc = qi_devtlb(c, c->sids[i], start, last);
    return rc ? rc : cont_qi_wait(c);
}

int cont_flush_ss_range(struct vtd_container *c, uint64_t start, uint64_t last) { return flush_ss_range(c, start, last); }

static int unmap_one(struct vtd_container *c, struct dma_map *m, uint64_t *unmapped)
{
    uint64_t iova = m->iova, size = m->size;
    int rc = vtd_pt_unmap(&c->ss, iova, size);
    if (rc && rc != -ENOENT)
        return rc;
    *unmapped += size;
    *m = c->maps[--c->nmaps];
    /* intel_iommu_unmap lowers max_addr to the start of the piece that ended at it. */
    if (c->max_addr == iova + size)
        c->max_addr = last_unmap_piece(iova, size);
    return flush_ss_range(c, iova, iova + size - 1);
}

static int unmap_dma(struct vtd_container *c, void *arg)
{
    struct vfio_iommu_type1_dma_unmap unmap;
    size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
    memcpy(&unmap, arg, minsz);
    /* vfio_iommu_type1_unmap_dma: argsz, flags beyond GET_DIRTY_BITMAP. */
    if (unmap.argsz < minsz || (unmap.flags & ~(uint32_t)VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP))
        return -EINVAL;
    /* With GET_DIRTY_BITMAP: argsz must reach the bitmap, its size fit the range, tracking be
     * on and the page size the smallest (container_dirty.c). */
    struct vfio_bitmap bm = {0};
    if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
        if (unmap.argsz < minsz + sizeof bm)
            return -EINVAL;
        memcpy(&bm, (char *)arg + minsz, sizeof bm);
        int rc = cont_dirty_unmap_check(c, unmap.size, &bm);
        if (rc)
            return rc;
    }
    /* vfio_dma_do_unmap: iova, size 0 or misaligned, wrap. */
    if ((unmap.iova & PAGE_MASK_4K) || !unmap.size || (unmap.size & PAGE_MASK_4K))
        return -EINVAL;
    if (unmap.iova + unmap.size - 1 < unmap.iova)
        return -EINVAL;
    /* vfio_dma_do_unmap, type1 v2 (nesting implies v2): no unmap may bisect a mapping. */
    struct dma_map *m = find_dma(c, unmap.iova, 1);
    if (m && m->iova != unmap.iova)
        return -EINVAL;
    m = find_dma(c, unmap.iova + unmap.size - 1, 1);
    if (m && m->iova + m->size != unmap.iova + unmap.size)
        return -EINVAL;
    uint64_t unmapped = 0;
    int rc = 0;
    while (!rc && (m = find_dma(c, unmap.iova, unmap.size))) {
        /* The mapping's dirty pages are reported before it goes (vfio_dma_do_unmap). */
        if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
            rc = cont_dirty_unmap_report(c, m, unmap.iova, &bm);
        if (!rc)
            rc = unmap_one(c, m, &unmapped);
    }
    if (rc)
        return rc; /* 5.10 copies the size back only on success */
    unmap.size = unmapped;
    memcpy(arg, &unmap, minsz);
    return 0;
}

/* ---- VFIO_IOMMU_PASID_REQUEST (vfio_iommu_type1_pasid_request, vSVA series v7) ---- */

/* vfio_pasid.c (series v7): each process's ioasid set holds at most pasid_quota PASIDs (module
 * parameter, default 1000); vtdsim gives each container its own set. */
#define VFIO_DEFAULT_PASID_QUOTA 1000u

static size_t pasid_slot(const struct iommu_share *s, uint32_t pasid)
{
    size_t lo = 0, hi = s->npasids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->pasids[mid].pasid < pasid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The lowest free PASID in [min, max] of the hardware's space [1, 2^pasid_bits) (PASID 0 is
 * RID_PASID); -ENOSPC when none or over quota (vfio_pasid_alloc: ioasid_alloc failed). */
static int pasid_alloc(struct vtd_container *c, uint32_t min, uint32_t max)
{
    struct iommu_share *s = c->share;
    unsigned bits = vtd_caps_pasid_bits(vtd_iommu_caps(c->io));
    uint64_t lo = min ? min : 1, hi = max;
    if (bits == 0 || cont_pasids_owned(c) >= VFIO_DEFAULT_PASID_QUOTA)
        return -ENOSPC;
    if (hi > (UINT64_C(1) << bits) - 1)
        hi = (UINT64_C(1) << bits) - 1;
    size_t i = pasid_slot(s, (uint32_t)(lo > UINT32_MAX ? UINT32_MAX : lo));
    uint64_t p = lo;
    for (; p <= hi && i < s->npasids && s->pasids[i].pasid == p; i++)
        p++;
    if (p > hi)
        return -ENOSPC;
    if (s->npasids == s->cap) {
        size_t n = s->cap ? 2 * s->cap : 16;
        struct pasid_owner *q = vtd_realloc(s->pasids, n * sizeof(*q));
        if (!q)
            return -ENOMEM;
        s->pasids = q;
        s->cap = n;
    }
    memmove(&s->pasids[i + 1], &s->pasids[i], (s->npasids - i) * sizeof(*s->pasids));
    s->pasids[i] = (struct pasid_owner){ (uint32_t)p, c };
    s->npasids++;
    return (int)p;
}

/* Free this container's PASIDs in [min, max]; others' are skipped silently
 * (vfio_pasid_free_range only finds PASIDs of the caller's ioasid set). A bound PASID is torn
 * down first: the series' ioasid_free notifies the IOMMU driver, which clears its structures
 * (vfio_pasid.c v7: "IOASID core will notify PASID users ... to teardown"); VFIO's detach does
 * the same for a container that goes away. */
static void pasid_free_range(struct vtd_container *c, uint32_t min, uint32_t max)
{
    struct iommu_share *s = c->share;
    size_t out = 0;
    for (size_t i = 0; i < s->npasids; i++) {
        struct pasid_owner o = s->pasids[i];
        if (o.owner == c && o.pasid >= min && o.pasid <= max) {
            (void)cont_unbind_pasid(c, o.pasid);
            continue;
        }
        s->pasids[out++] = o;
    }
    s->npasids = out;
}

static void release_pasids(struct vtd_container *c) { pasid_free_range(c, 0, UINT32_MAX); }

unsigned cont_pasids_owned(const struct vtd_container *c)
{
    unsigned n = 0;
    for (size_t i = 0; i < c->share->npasids; i++)
        n += c->share->pasids[i].owner == c;
    return n;
}

bool cont_pasid_allocated(const struct vtd_container *c, uint32_t pasid)
{
    const struct iommu_share *s = c->share;
    size_t i = pasid_slot(s, pasid);
    return i < s->npasids && s->pasids[i].pasid == pasid;
}

static int pasid_request(struct vtd_container *c, void *arg)
{
    struct vfio_iommu_type1_pasid_request req;
    size_t minsz = offsetofend(struct vfio_iommu_type1_pasid_request, range);
    memcpy(&req, arg, minsz);
    /* Series v7: argsz, unknown flags. */
    if (req.argsz < minsz || (req.flags & ~(uint32_t)VFIO_PASID_REQUEST_MASK))
        return -EINVAL;
    /* min > max, or a bound wider than VFIO_IOMMU_PASID_BITS: the header says both fit in 31
     * bits, since the PASID comes back in a signed int (v7 compared with '>' and let 2^31 through
     * to come back negative; Alex Williamson's review asked for '>='). */
    if (req.range.min > req.range.max || req.range.min >= (UINT32_C(1) << VFIO_IOMMU_PASID_BITS) ||
        req.range.max >= (UINT32_C(1) << VFIO_IOMMU_PASID_BITS))
        return -EINVAL;
    /* Series v7: no vfio_mm yet (it is taken when a device is attached): -EOPNOTSUPP. */
    if (!cont_has_nesting_info(c))
        return -EOPNOTSUPP;
    switch (req.flags & VFIO_PASID_REQUEST_MASK) {
    case VFIO_IOMMU_FLAG_ALLOC_PASID:
        return pasid_alloc(c, req.range.min, req.range.max);
    case VFIO_IOMMU_FLAG_FREE_PASID:
        pasid_free_range(c, req.range.min, req.range.max);
        return 0; /* vfio_pasid_free_range frees what the set holds, always 0 */
    default:
        return -EINVAL; /* both flags or neither */
    }
}

/* ---- the entry point ---- */

int vtd_container_ioctl(struct vtd_container *c, unsigned long request, void *arg)
{
    if (!c)
        return -EINVAL;
    switch (request) {
    case VFIO_IOMMU_GET_INFO:
        return arg ? get_info(c, arg) : -EFAULT;
    case VFIO_IOMMU_MAP_DMA:
        return arg ? map_dma(c, arg) : -EFAULT;
    case VFIO_IOMMU_UNMAP_DMA:
        return arg ? unmap_dma(c, arg) : -EFAULT;
    case VFIO_IOMMU_PASID_REQUEST:
        return arg ? pasid_request(c, arg) : -EFAULT;
    case VFIO_IOMMU_NESTING_OP:
        return arg ? cont_nesting_op(c, arg) : -EFAULT;
    case VFIO_IOMMU_DIRTY_PAGES:
        return arg ? cont_dirty_pages(c, arg) : -EFAULT;
    default:
        return -ENOTTY; /* vfio_iommu_type1_ioctl's answer to an unknown command */
    }
}

int vtd_container_nesting_op(struct vtd_container *c, uint32_t op, const void *data, size_t len)
{
    struct vfio_iommu_type1_nesting_op *n = vtd_calloc(1, sizeof *n + len);
    if (!n)
        return -ENOMEM;
    n->argsz = (uint32_t)(sizeof *n + len);
    n->flags = op;
    memcpy(n->data, data, len);
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, n);
    vtd_free(n);
    return rc;
}
