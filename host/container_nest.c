/*
 * container_nest.c: VFIO_IOMMU_NESTING_OP: BIND_PGTBL / UNBIND_PGTBL (iommu_gpasid_bind_data)
 * and CACHE_INVLD (iommu_cache_invalidate_info) under the two policies of docs/uapi.md.
 *
 * Checks follow the layers a request crossed in Linux 5.10 with the vSVA series: the VFIO
 * header, iommu_uapi_* in drivers/iommu/iommu.c (argsz, version, flags, padding), then
 * intel_svm_bind_gpasid / intel_pasid_setup_nested / intel_iommu_sva_invalidate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "host/container_internal.h"
#include "walker/alloc.h"
#include "walker/pasid_dir.h"

#define PASID_MAX (UINT32_C(1) << 20)

/* ---- descriptors ---- */


/* Write back an entry the host wrote when the IOMMU's walks may not see the CPU's cache
 * (the builder's flush_writes, set from ECAP.C and ECAP.SMPWC in container.c). */
static int host_flush(struct vtd_container *c, uint64_t pa, uint64_t len)
{
    return c->b.flush_writes ? vtd_mem_clflush(vtd_iommu_mem(c->io), pa, len, NULL) : 0;
}
static int qi_pc_pasid(struct vtd_container *c, uint32_t pasid)
{
    return cont_qi(c, vtd_desc_pc(VTD_QI_PC_G_PASID, c->cfg.did, pasid));
}
static int qi_pc_domain(struct vtd_container *c)
{
    return cont_qi(c, vtd_desc_pc(VTD_QI_PC_G_DOMAIN, c->cfg.did, 0));
}
/* P_IOTLB: G = 2 (all of one PASID) or 3 (pages, AM, IH). */
int cont_qi_piotlb_pasid(struct vtd_container *c, uint32_t pasid)
{
    return cont_qi(c, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, c->cfg.did, pasid, 0, 0, false));
}
int cont_qi_piotlb_pages(struct vtd_container *c, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    return cont_qi(c, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, c->cfg.did, pasid, addr, am, ih));
}
static int qi_iotlb_domain(struct vtd_container *c)
{
    return cont_qi(c, vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, c->cfg.did, 0, 0, false, false, false));
}
/* PASID-based device-TLB: the 2^(12+order) bytes around addr with the S-bit encoding (6.5.2.6);
 * order 52 is the whole address space. Low address bits are overwritten, as the driver did. */
static int qi_pdevtlb(struct vtd_container *c, uint16_t sid, uint32_t pasid, uint64_t addr, unsigned order)
{
    return cont_qi(c, vtd_desc_p_devtlb(sid, 0, 0, pasid, false, vtd_devtlb_size_encode(addr, order)));
}

/* Every ATS device of the container, one PASID, 2^(12+order) bytes at addr. */
int cont_flush_devtlbs(struct vtd_container *c, uint32_t pasid, uint64_t addr, unsigned order)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < c->nsids; i++)
        if (cont_device_ats(c, c->sids[i]))
            rc = qi_pdevtlb(c, c->sids[i], pasid, addr, order);
    return rc;
}

/* What the driver owes after a PASID entry changed (pasid_flush_caches / the tear-down path):
 * PASID cache, then the PASID's IOTLB entries, then device TLBs, then a wait (VT-d 6.5.3.3). */
static int flush_pasid_entry(struct vtd_container *c, uint32_t pasid)
{
    int rc = qi_pc_pasid(c, pasid);
    if (!rc)
        rc = cont_qi_piotlb_pasid(c, pasid);
    if (!rc)
        rc = cont_flush_devtlbs(c, pasid, 0, 52);
    return rc ? rc : cont_qi_wait(c);
}

/* ---- bound PASIDs ---- */

static struct bound_pasid *find_bound(struct vtd_container *c, uint32_t pasid)
{
    for (size_t i = 0; i < c->x.nbound; i++)
        if (c->x.bound[i].pasid == pasid)
            return &c->x.bound[i];
    return NULL;
}

bool cont_pasid_bound(struct vtd_container *c, uint32_t pasid) { return find_bound(c, pasid) != NULL; }

static int add_bound(struct vtd_container *c, uint32_t pasid)
{
    if (c->x.nbound == c->x.capbound) {
        size_t n = c->x.capbound ? 2 * c->x.capbound : 8;
        struct bound_pasid *p = vtd_realloc(c->x.bound, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->x.bound = p;
        c->x.capbound = n;
    }
    c->x.bound[c->x.nbound++] = (struct bound_pasid){ pasid };
    return 0;
}

void cont_nest_free(struct vtd_container *c) { vtd_free(c->x.bound); }

int vtd_container_last_op_error(const struct vtd_container *c) { return c->x.last_inv_error; }

/* ---- the PASID table slot (all devices of the container share one directory) ---- */

static int pasid_entry_pa(struct vtd_container *c, uint32_t pasid, bool create, uint64_t *pa)
{
    struct vtd_mem *m = vtd_iommu_mem(c->io);
    uint64_t de_pa = c->ctx_proto.pdtp + (uint64_t)(pasid >> 6) * 8, de;
    if (vtd_mem_read64(m, de_pa, &de))
        return -EFAULT;
    if (!(de & 1)) {
        uint64_t table;
        if (!create)
            return -ENOENT;
        if (vtd_builder_alloc_page(&c->b, &table))
            return -ENOMEM;
        de = table | 1; /* the table is zero: no entry appears present before it is written */
        if (vtd_mem_write64(m, de_pa, de) || host_flush(c, de_pa, 8))
            return -EFAULT;
    }
    *pa = (de & ~UINT64_C(0xFFF)) + (uint64_t)(pasid & 63) * VTD_PASID_ENTRY_SIZE;
    return 0;
}

/* ---- BIND_PGTBL / UNBIND_PGTBL ---- */

/* iommu_sva_prepare_bind_data + iommu_check_bind_data (Linux 5.10 drivers/iommu/iommu.c): the
 * generic layer, shared by bind and unbind. All -EINVAL. */
static int copy_bind_data(const void *u, struct iommu_gpasid_bind_data *d)
{
    size_t minsz = offsetof(struct iommu_gpasid_bind_data, vendor);
    memset(d, 0, sizeof(*d));
    memcpy(d, u, minsz);
    if (d->argsz < minsz)
        return -EINVAL; /* fields before the vendor union are mandatory */
    size_t n = d->argsz < sizeof(*d) ? d->argsz : sizeof(*d);
    memcpy((char *)d + minsz, (const char *)u + minsz, n - minsz);
    /* iommu_check_bind_data: version, format range, flags, padding. */
    if (d->version != IOMMU_GPASID_BIND_VERSION_1 || d->format >= IOMMU_PASID_FORMAT_LAST ||
        (d->flags & ~(uint64_t)IOMMU_SVA_GPASID_VAL))
        return -EINVAL;
    for (size_t i = 0; i < sizeof(d->padding); i++)
        if (d->padding[i])
            return -EINVAL;
    return 0;
}

/* The checks of intel_svm_bind_gpasid (Linux 5.10 drivers/iommu/intel/svm.c) that precede the
 * PASID-table work, in its order. */
static int check_bind_vtd(const struct vtd_container *c, const struct iommu_gpasid_bind_data *d)
{
    if (d->format != IOMMU_PASID_FORMAT_INTEL_VTD)
        return -EINVAL;
    if (d->argsz < offsetofend(struct iommu_gpasid_bind_data, vendor.vtd))
        return -EINVAL; /* the VT-d part of the union must be there */
    if (d->vendor.vtd.flags & ~(uint64_t)(IOMMU_SVA_VTD_GPASID_LAST - 1))
        return -EINVAL; /* undefined vendor flags */
    for (size_t i = 0; i < c->nsids; i++) {
        struct vtd_device_info dev;
        if (!vtd_iommu_device_info(c->io, c->sids[i], &dev) && dev.pasid_bits != 20)
            return -EINVAL; /* "VT-d supports devices with full 20 bit PASIDs only" */
    }
    if (d->hpasid == 0 || d->hpasid >= PASID_MAX)
        return -EINVAL; /* only the host PASID range is checked */
    if (!cont_pasid_allocated(c, (uint32_t)d->hpasid))
        return -ENOENT; /* pasid_to_svm_sdev: ioasid_find of a PASID nobody allocated */
    return 0;
}

/* The entry's content and the checks that go with it. Linux 5.10 intel_pasid_setup_nested +
 * intel_pasid_setup_bind_data (drivers/iommu/intel/pasid.c) for the VFIO form; Linux 6.8
 * intel_pasid_setup_nested for iommufd's (no gpgd check, WPE only with SRE). */
static int nested_entry(const struct vtd_container *c, const struct iommu_gpasid_bind_data *d,
                        const struct cont_bind_opts *o, struct vtd_pasid_entry *pe)
{
    const struct vtd_caps *caps = vtd_iommu_caps(c->io);
    struct vtd_pasid_cfg cfg;
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, c->cfg.did);
    /* addr_width: 48, or 57 with CAP.FS5LP (the host CPU is assumed to have LA57). */
    if (d->addr_width == 57 && vtd_cap_has(caps, VTD_CAP_FS5LP))
        cfg.fs_levels = 5;
    else if (d->addr_width != 48)
        return -EINVAL;
    /* 5.10 refuses a guest table (a GPA) beyond the domain's max_addr, the end of the highest
     * mapping (with '>'). Merged 6.8+ intel_pasid_setup_nested checks no pointer at all (only
     * the series' RFC compared it with 2^gaw): a table the second stage cannot reach faults
     * when a walk uses it. */
    if (!o->iommufd && d->gpgd > c->max_addr)
        return -EINVAL;
    uint64_t f = d->vendor.vtd.flags;
    if ((f & IOMMU_SVA_VTD_GPASID_SRE) && !vtd_ecap_has(caps, VTD_ECAP_SRS))
        return -EINVAL; /* no supervisor request support */
    if ((f & IOMMU_SVA_VTD_GPASID_EAFE) && !vtd_ecap_has(caps, VTD_ECAP_EAFS))
        return -EINVAL; /* no extended access flag support */
    if (f & IOMMU_SVA_VTD_GPASID_MTS_MASK)
        return -EINVAL; /* 5.10: "no memory type support", whatever ECAP.MTS says */
    cfg.sre = f & IOMMU_SVA_VTD_GPASID_SRE;
    cfg.eafe = f & IOMMU_SVA_VTD_GPASID_EAFE;
    cfg.wpe = o->wpe && cfg.sre; /* 6.8 sets WPE only together with SRE */
    cfg.fsptptr = d->gpgd & ~UINT64_C(0xFFF);
    cfg.ss_levels = c->cfg.ss_levels;
    cfg.ssptptr = c->ss.root;
    pasid_entry_encode(&cfg, pe);
    pe->qw[0] &= ~(uint64_t)VTD_PE_P;
    return 0;
}

/* Write a new entry so that no reader ever sees it present and half-written: qw0 with P
 * clear, the other qwords, then qw0 with P (VT-d 6.5.3.3; intel_pasid_setup_nested). */
static int write_entry_untorn(struct vtd_container *c, uint64_t pa, const struct vtd_pasid_entry *pe)
{
    struct vtd_mem *m = vtd_iommu_mem(c->io);
    int rc = vtd_mem_write64(m, pa, pe->qw[0] & ~(uint64_t)VTD_PE_P);
    for (unsigned i = 1; !rc && i < 8; i++)
        rc = vtd_mem_write64(m, pa + 8 * i, pe->qw[i]);
    rc = rc ? rc : vtd_mem_write64(m, pa, pe->qw[0] | VTD_PE_P);
    return rc ? rc : host_flush(c, pa, VTD_PASID_ENTRY_SIZE);
}

/* Whether the PASID's entry is present (an absent directory entry means no). */
static int entry_present(struct vtd_container *c, uint32_t pasid, bool *present)
{
    uint64_t pa, qw0;
    int rc = pasid_entry_pa(c, pasid, false, &pa);
    if (rc == -ENOENT) {
        *present = false;
        return 0;
    }
    if (rc || vtd_mem_read64(vtd_iommu_mem(c->io), pa, &qw0))
        return rc ? rc : -EFAULT;
    *present = qw0 & VTD_PE_P;
    return 0;
}

/* The PASID-table work of a bind once the request is checked (shared with iommufd's form). */
int cont_bind_checked(struct vtd_container *c, const struct iommu_gpasid_bind_data *d, const struct cont_bind_opts *o)
{
    uint32_t pasid = (uint32_t)d->hpasid;
    struct vtd_pasid_entry pe;
    bool present;
    uint64_t pa;
    int rc;
    /* 5.10 intel_svm_bind_gpasid: this device already bound the PASID; both generations then
     * find the entry present (intel_pasid_setup_nested) before anything else of the entry. */
    if (!o->iommufd && find_bound(c, pasid))
        return -EBUSY;
    if (o->iommufd && (rc = nested_entry(c, d, o, &pe)))
        return rc; /* 6.8 checks width and flags before looking at the entry */
    if ((rc = entry_present(c, pasid, &present)))
        return rc;
    if (present)
        return -EBUSY; /* someone else's entry: never overwrite a present entry */
    if (!o->iommufd && (rc = nested_entry(c, d, o, &pe)))
        return rc;
    if ((rc = pasid_entry_pa(c, pasid, true, &pa)))
        return rc;
    if ((rc = add_bound(c, pasid)))
        return rc;
    if (write_entry_untorn(c, pa, &pe))
        return -EFAULT;
    return flush_pasid_entry(c, pasid);
}

/* Tear down: P first, flush, then the rest of the entry (intel_pasid_tear_down_entry). */
static int clear_entry(struct vtd_container *c, uint32_t pasid)
{
    uint64_t pa;
    int rc = pasid_entry_pa(c, pasid, false, &pa);
    if (rc)
        return rc;
    struct vtd_mem *m = vtd_iommu_mem(c->io);
    if ((rc = vtd_mem_write64(m, pa, 0)) || (rc = host_flush(c, pa, 8)))
        return rc;
    if ((rc = flush_pasid_entry(c, pasid)))
        return rc;
    rc = vtd_mem_fill(m, pa, 0, VTD_PASID_ENTRY_SIZE);
    return rc ? rc : host_flush(c, pa, VTD_PASID_ENTRY_SIZE);
}

int cont_unbind_pasid(struct vtd_container *c, uint32_t pasid)
{
    struct bound_pasid *b = find_bound(c, pasid);
    if (!b)
        return 0;
    *b = c->x.bound[--c->x.nbound];
    return clear_entry(c, pasid);
}

/* intel_svm_unbind_gpasid (5.10) after the generic checks: the PASID as an ioasid_t (the u64
 * hpasid truncated), pasid_to_svm_sdev's checks, then tear-down if this device bound it. */
static int unbind_checked(struct vtd_container *c, const struct iommu_gpasid_bind_data *d)
{
    uint32_t pasid = (uint32_t)d->hpasid;
    if (pasid == UINT32_MAX || pasid >= PASID_MAX)
        return -EINVAL; /* INVALID_IOASID or beyond 20 bits */
    if (!cont_pasid_allocated(c, pasid))
        return -ENOENT; /* ioasid_find */
    return cont_unbind_pasid(c, pasid); /* nothing bound by this device: nothing to do, 0 */
}

/*
 * BIND_PGTBL through VFIO (series v7 vfio_iommu_handle_pgtbl_op): when the bind fails after
 * the generic checks, VFIO undoes "partial binds" by unbinding with the same user data. A
 * failed bind of a PASID the device had already bound (-EBUSY, or a VT-d check that fails
 * first) therefore tears the existing binding down.
 */
static int bind_pgtbl(struct vtd_container *c, const void *u)
{
    struct iommu_gpasid_bind_data d;
    int rc = copy_bind_data(u, &d);
    if (rc)
        return rc;
    const struct cont_bind_opts o = { .iommufd = false, .wpe = false };
    rc = check_bind_vtd(c, &d);
    if (!rc)
        rc = cont_bind_checked(c, &d, &o);
    if (rc)
        (void)unbind_checked(c, &d);
    return rc;
}

/* The iommu layer's answer to an unbind (VFIO discards it: the ioctl returns 0). */
static int unbind_pgtbl(struct vtd_container *c, const void *u)
{
    struct iommu_gpasid_bind_data d;
    int rc = copy_bind_data(u, &d);
    return rc ? rc : unbind_checked(c, &d);
}

/* ---- CACHE_INVLD ---- */

/* iommu_uapi_cache_invalidate + iommu_check_cache_invl_data (5.10): the generic layer. */
static int copy_inv_info(const void *u, struct iommu_cache_invalidate_info *v)
{
    size_t minsz = offsetof(struct iommu_cache_invalidate_info, granu);
    memset(v, 0, sizeof(*v));
    memcpy(v, u, minsz);
    if (v->argsz < minsz)
        return -EINVAL;
    if (v->granularity == IOMMU_INV_GRANU_PASID &&
        v->argsz < offsetofend(struct iommu_cache_invalidate_info, granu.pasid_info))
        return -EINVAL;
    if (v->granularity == IOMMU_INV_GRANU_ADDR &&
        v->argsz < offsetofend(struct iommu_cache_invalidate_info, granu.addr_info))
        return -EINVAL;
    size_t n = v->argsz < sizeof(*v) ? v->argsz : sizeof(*v);
    memcpy((char *)v + minsz, (const char *)u + minsz, n - minsz);
    if (v->version != IOMMU_CACHE_INVALIDATE_INFO_VERSION_1)
        return -EINVAL;
    if (v->cache & ~((1u << IOMMU_CACHE_INV_TYPE_NR) - 1))
        return -EINVAL;
    switch (v->granularity) {
    case IOMMU_INV_GRANU_ADDR:
        if ((v->cache & IOMMU_CACHE_INV_TYPE_PASID) ||
            (v->granu.addr_info.flags & ~(uint32_t)(IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_ARCHID |
                                                    IOMMU_INV_ADDR_FLAGS_LEAF)))
            return -EINVAL;
        break;
    case IOMMU_INV_GRANU_PASID:
        if (v->granu.pasid_info.flags & ~(uint32_t)(IOMMU_INV_PASID_FLAGS_PASID | IOMMU_INV_PASID_FLAGS_ARCHID))
            return -EINVAL;
        break;
    case IOMMU_INV_GRANU_DOMAIN:
        if (v->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(v->padding); i++)
        if (v->padding[i])
            return -EINVAL;
    return 0;
}

/* granule_size x nb_granules as a power-of-two order of 4 KiB pages (to_vtd_size), refusing a
 * product that overflows 64 bits. Order 0 for less than two pages. */
static int addr_order(const struct iommu_inv_addr_info *a, unsigned *order)
{
    uint64_t bytes;
    if (__builtin_mul_overflow(a->granule_size, a->nb_granules, &bytes))
        return -EINVAL;
    uint64_t pages = bytes >> 12;
    unsigned o = 0;
    while (o < 64 && (UINT64_C(1) << o) < pages)
        o++;
    *order = o;
    return 0;
}

/* The linux-5.10 policy: intel_iommu_sva_invalidate, cell by cell in cache-bit order. */
static int inv_linux_5_10(struct vtd_container *c, const struct iommu_cache_invalidate_info *v)
{
    unsigned order = 0;
    int rc = 0;
    if (v->granularity == IOMMU_INV_GRANU_ADDR && (rc = addr_order(&v->granu.addr_info, &order)))
        return rc;
    uint32_t pasid = 0; /* without the PASID flag the driver flushed PASID 0 */
    if (v->granularity == IOMMU_INV_GRANU_PASID && (v->granu.pasid_info.flags & IOMMU_INV_PASID_FLAGS_PASID))
        pasid = (uint32_t)v->granu.pasid_info.pasid;
    else if (v->granularity == IOMMU_INV_GRANU_ADDR && (v->granu.addr_info.flags & IOMMU_INV_ADDR_FLAGS_PASID))
        pasid = (uint32_t)v->granu.addr_info.pasid;
    uint64_t addr = v->granu.addr_info.addr; /* not aligned down (ALIGN misused in qi_flush_piotlb) */
    bool leaf = v->granu.addr_info.flags & IOMMU_INV_ADDR_FLAGS_LEAF;
    for (unsigned t = 0; !rc && t < IOMMU_CACHE_INV_TYPE_NR; t++) {
        if (!(v->cache & (1u << t)))
            continue;
        bool ok = (t == 0 && v->granularity != IOMMU_INV_GRANU_DOMAIN) ||
                  (t == 1 && v->granularity == IOMMU_INV_GRANU_ADDR);
        if (!ok)
            break; /* an unsupported cell ends the loop, quietly, with 0 */
        for (size_t i = 0; !rc && i < c->nsids; i++) {
            uint16_t sid = c->sids[i];
            if (t == 0)
                rc = v->granularity == IOMMU_INV_GRANU_PASID ? cont_qi_piotlb_pasid(c, pasid)
                                                             : cont_qi_piotlb_pages(c, pasid, addr, order, leaf);
            if (!rc && cont_device_ats(c, sid)) /* IOTLB falls through to the device TLB with ATS */
                rc = v->granularity == IOMMU_INV_GRANU_PASID ? qi_pdevtlb(c, sid, pasid, 0, 52)
                                                             : qi_pdevtlb(c, sid, pasid, addr, order);
        }
    }
    return rc ? rc : cont_qi_wait(c);
}

/* The spec policy: every allowed cell as the descriptor that expresses it exactly. */
static int inv_spec(struct vtd_container *c, const struct iommu_cache_invalidate_info *v)
{
    unsigned order = 0;
    uint32_t pasid = 0;
    uint64_t addr = 0;
    bool leaf = false;
    int rc = 0;
    if (v->granularity == IOMMU_INV_GRANU_PASID) {
        if (!(v->granu.pasid_info.flags & IOMMU_INV_PASID_FLAGS_PASID) || v->granu.pasid_info.pasid >= PASID_MAX)
            return -EINVAL; /* VT-d caches are tagged by PASID, not by an architecture ID */
        pasid = (uint32_t)v->granu.pasid_info.pasid;
    } else if (v->granularity == IOMMU_INV_GRANU_ADDR) {
        const struct iommu_inv_addr_info *a = &v->granu.addr_info;
        if (!(a->flags & IOMMU_INV_ADDR_FLAGS_PASID) || a->pasid >= PASID_MAX)
            return -EINVAL;
        if ((rc = addr_order(a, &order)))
            return rc;
        if (a->granule_size == 0 || a->nb_granules == 0 || (a->addr & 0xFFF))
            return -EINVAL;
        pasid = (uint32_t)a->pasid;
        uint64_t last;
        if (__builtin_add_overflow(a->addr, a->granule_size * a->nb_granules - 1, &last))
            return -EINVAL;
        /* The naturally aligned block that covers [addr, last] (VT-d 6.5.2.4: ADDR aligned to AM). */
        order = vtd_qi_am_covering(a->addr, last);
        addr = order >= 52 ? 0 : (a->addr >> (12 + order)) << (12 + order);
        leaf = a->flags & IOMMU_INV_ADDR_FLAGS_LEAF;
    }
    /* PASID cache first, then IOTLB, then device TLBs (VT-d 6.5.3.3). */
    if (v->cache & IOMMU_CACHE_INV_TYPE_PASID)
        rc = v->granularity == IOMMU_INV_GRANU_DOMAIN ? qi_pc_domain(c) : qi_pc_pasid(c, pasid);
    if (!rc && (v->cache & IOMMU_CACHE_INV_TYPE_IOTLB)) {
        if (v->granularity == IOMMU_INV_GRANU_DOMAIN)
            rc = qi_iotlb_domain(c);
        else if (v->granularity == IOMMU_INV_GRANU_PASID || order >= 52)
            rc = cont_qi_piotlb_pasid(c, pasid);
        else
            rc = cont_qi_piotlb_pages(c, pasid, addr, order, leaf);
    }
    if (!rc && (v->cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB))
        rc = cont_flush_devtlbs(c, pasid, addr, v->granularity == IOMMU_INV_GRANU_PASID ? 52 : order);
    return rc ? rc : cont_qi_wait(c);
}

int vtd_container_cache_invalidate(struct vtd_container *c, const void *uinfo)
{
    struct iommu_cache_invalidate_info v;
    int rc = copy_inv_info(uinfo, &v);
    if (rc)
        return rc;
    return c->cfg.policy == VTD_INV_LINUX_5_10 ? inv_linux_5_10(c, &v) : inv_spec(c, &v);
}

/* ---- the op header ---- */

int cont_nesting_op(struct vtd_container *c, void *arg)
{
    struct vfio_iommu_type1_nesting_op hdr;
    size_t minsz = offsetofend(struct vfio_iommu_type1_nesting_op, flags);
    memcpy(&hdr, arg, minsz);
    /* Series v7 vfio_iommu_type1_nesting_op: argsz, flags beyond the op mask, op >= OP_NUM. */
    if (hdr.argsz < minsz || (hdr.flags & ~(uint32_t)VFIO_NESTING_OP_MASK) ||
        (hdr.flags & VFIO_NESTING_OP_MASK) >= VFIO_IOMMU_NESTING_OP_NUM)
        return -EINVAL;
    /* Series v7: no nesting_info (no device attached yet): -EOPNOTSUPP for every op. */
    if (!cont_has_nesting_info(c))
        return -EOPNOTSUPP;
    const void *data = (const char *)arg + minsz;
    switch (hdr.flags & VFIO_NESTING_OP_MASK) {
    case VFIO_IOMMU_NESTING_OP_BIND_PGTBL:
        return bind_pgtbl(c, data);
    case VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL:
        /* vfio_dev_unbind_gpasid_fn ignores the iommu layer's answer; keep it readable. */
        c->x.last_inv_error = unbind_pgtbl(c, data);
        return 0;
    default: /* VFIO_IOMMU_NESTING_OP_CACHE_INVLD, the last op below OP_NUM */
        /* Likewise vfio_dev_cache_invalidate_fn: "always successful". */
        c->x.last_inv_error = vtd_container_cache_invalidate(c, data);
        return 0;
    }
}
