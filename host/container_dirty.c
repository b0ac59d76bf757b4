/*
 * container_dirty.c: dirty-page tracking for live migration, in both generations of the uAPI.
 *
 * VFIO_IOMMU_DIRTY_PAGES (START, STOP, GET_BITMAP) and UNMAP_DMA's dirty bitmap, with the checks
 * of Linux 5.8-5.10 drivers/vfio/vfio_iommu_type1.c (vfio_iommu_type1_dirty_pages,
 * verify_bitmap_size, vfio_iova_dirty_bitmap, update_user_bitmap). Two sources of dirtiness, by
 * the container's configuration: type1's own (without a vendor driver pinning pages, every
 * pinned page is reported dirty in every round) and the IOMMU's second-stage D bits (SSADE),
 * harvested the way Linux 6.7+ intel_iommu_read_and_clear_dirty does, then flushed as
 * iommufd's iotlb_sync does (or not: the bug).
 *
 * iommufd's form (Linux 6.7+ drivers/iommu/iommufd/hw_pagetable.c iommufd_hwpt_set_dirty_tracking
 * and iommufd_hwpt_get_dirty_bitmap, io_pagetable.c iommufd_check_iova_range and
 * iopt_read_and_clear_dirty_data, drivers/iommu/intel/pasid.c intel_pasid_setup_dirty_tracking).
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "host/container_internal.h"
#include "walker/harvest.h"
#include "walker/pasid_entry.h"

/* The smallest page size of Intel's pgsize_bitmap: the only one a bitmap may use (5.8). */
#define MIN_PGSIZE UINT64_C(0x1000)
#define MIN_PGSHIFT 12
/* DIRTY_BITMAP_SIZE_MAX of 5.8: one bit per page for INT_MAX pages, rounded up to 64 bits. */
#define DIRTY_BITMAP_BYTES_MAX (UINT64_C(1) << 28)

bool vtd_container_dirty_tracking(const struct vtd_container *c) { return c && (c->dirty_vfio || c->dirty_hwpt); }

/* ---- the bitmap ---- */

/* Where found pages go: bit i is the page of 2^shift bytes at base + (i << shift). */
struct bitmap_out {
    uint64_t *data;
    uint64_t base;
    unsigned shift;
};

static void set_bits(struct bitmap_out *o, uint64_t iova, uint64_t size)
{
    uint64_t first = (iova - o->base) >> o->shift, last = (iova + size - 1 - o->base) >> o->shift;
    for (uint64_t i = first; i <= last; i++)
        o->data[i / 64] |= UINT64_C(1) << (i % 64);
}

static void harvest_to_bitmap(void *arg, uint64_t iova, uint64_t size) { set_bits(arg, iova, size); }

/* verify_bitmap_size (5.8): pages and bitmap non-zero, the bitmap at most
 * DIRTY_BITMAP_SIZE_MAX and large enough for the pages rounded up to 64 bits. */
static int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
    if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_BYTES_MAX)
        return -EINVAL;
    return (npages + 63) / 64 * 8 > bitmap_size ? -EINVAL : 0;
}

/* ---- SSADE in the PASID entries that use the container's second stage ---- */

/* Set or clear SSADE in one present PASID entry. A single-qword update of a present entry,
 * which Linux makes in place (pasid_set_ssade) and follows with the PASID-cache flush. */
static int entry_set_ssade(struct vtd_container *c, uint32_t pasid, bool on)
{
    uint64_t addr = vtd_build_pasid_entry_addr(&c->b, &c->ctx_proto, pasid), qw0;
    struct vtd_mem *m = vtd_iommu_mem(c->io);
    if (!addr)
        return 0; /* no table yet: no entry uses the second stage */
    if (vtd_mem_read64(m, addr, &qw0))
        return -EFAULT;
    if (!(qw0 & VTD_PE_P))
        return 0;
    for (;;) {
        uint64_t want = on ? qw0 | VTD_PE_SSADE : qw0 & ~VTD_PE_SSADE, actual;
        if (vtd_mem_cmpxchg64(m, addr, qw0, want, &actual))
            return -EFAULT;
        if (actual == qw0)
            return 0;
        qw0 = actual;
    }
}

/* The whole input range of the domain: [0, 2^width). */
static uint64_t domain_last(const struct vtd_container *c) { return (UINT64_C(1) << cont_ss_width(c)) - 1; }

/* After SSADE changed (intel_pasid_setup_dirty_tracking): the PASID cache, the IOTLB (domain),
 * device TLBs, a wait; the same for every bound PASID's nested entry. */
static int ssade_flush(struct vtd_container *c, uint32_t pasid)
{
    int rc = cont_qi(c, vtd_desc_pc(VTD_QI_PC_G_PASID, c->cfg.did, pasid));
    if (!rc && pasid)
        rc = cont_qi_piotlb_pasid(c, pasid);
    if (!rc && pasid)
        rc = cont_flush_devtlbs(c, pasid, 0, 52);
    return rc ? rc : cont_flush_ss_range(c, 0, domain_last(c));
}

static int set_ssade(struct vtd_container *c, bool on)
{
    if (c->ssade == on)
        return 0;
    int rc = entry_set_ssade(c, 0, on);
    if (!rc)
        rc = ssade_flush(c, 0);
    for (size_t i = 0; !rc && i < c->x.nbound; i++) {
        rc = entry_set_ssade(c, c->x.bound[i].pasid, on);
        if (!rc)
            rc = ssade_flush(c, c->x.bound[i].pasid);
    }
    if (!rc)
        c->ssade = on;
    return rc;
}

/*
 * Read (and clear) the D bits over [iova, last] into `out` (NULL: only clear), then the flush
 * the host driver issues for what it found (iommufd: iommu_iotlb_sync of the gathered range),
 * unless the configuration leaves it out.
 */
static int harvest(struct vtd_container *c, uint64_t iova, uint64_t last, bool clear, struct bitmap_out *out)
{
    struct vtd_harvest_stats st;
    int rc = vtd_ss_harvest(vtd_iommu_mem(c->io), c->ss.root, c->ss.levels, iova, last - iova + 1, clear,
                            out ? harvest_to_bitmap : NULL, out, &st);
    if (rc || !st.dirty || c->cfg.dirty_flush == VTD_DIRTY_FLUSH_NONE)
        return rc;
    if (c->cfg.dirty_flush == VTD_DIRTY_FLUSH_IOTLB) {
        rc = cont_qi_iotlb_range(c, st.first, st.last);
        return rc ? rc : cont_qi_wait(c);
    }
    return cont_flush_ss_range(c, st.first, st.last);
}

/* Tracking goes on: stale D bits from before are cleared first (iopt_clear_dirty_data), so a
 * round never inherits a previous cycle's pages, then SSADE is set. */
static int ssade_start(struct vtd_container *c)
{
    if (c->ssade)
        return 0;
    if (!vtd_ecap_has(vtd_iommu_caps(c->io), VTD_ECAP_SSADS))
        return -EOPNOTSUPP;
    int rc = harvest(c, 0, domain_last(c), true, NULL);
    return rc ? rc : set_ssade(c, true);
}

static int ssade_stop(struct vtd_container *c)
{
    if (c->dirty_vfio || c->dirty_hwpt)
        return 0; /* the other form still tracks */
    return set_ssade(c, false);
}

/* ---- VFIO_IOMMU_DIRTY_PAGES ---- */

static int vfio_start(struct vtd_container *c)
{
    if (c->dirty_vfio)
        return 0;
    int rc = c->cfg.dirty_source == VTD_DIRTY_SSADE ? ssade_start(c) : 0;
    if (!rc)
        c->dirty_vfio = true;
    return rc;
}

static int vfio_stop(struct vtd_container *c)
{
    if (!c->dirty_vfio)
        return 0;
    c->dirty_vfio = false;
    return c->cfg.dirty_source == VTD_DIRTY_SSADE ? ssade_stop(c) : 0;
}

/* The pages of one mapping as the configured source reports them. */
static int report_mapping(struct vtd_container *c, const struct dma_map *m, struct bitmap_out *out)
{
    if (c->cfg.dirty_source == VTD_DIRTY_PINNED) {
        set_bits(out, m->iova, m->size); /* update_user_bitmap without pinned_page_dirty_scope */
        return 0;
    }
    return harvest(c, m->iova, m->iova + m->size - 1, true, out);
}

/* vfio_iova_dirty_bitmap: the range must not bisect a mapping; each mapping inside it reports. */
static int iova_dirty_bitmap(struct vtd_container *c, uint64_t iova, uint64_t size, struct bitmap_out *out)
{
    struct dma_map *m = cont_find_dma(c, iova, 1);
    if (m && m->iova != iova)
        return -EINVAL;
    m = cont_find_dma(c, iova + size - 1, 1);
    if (m && m->iova + m->size != iova + size)
        return -EINVAL;
    for (size_t i = 0; i < c->nmaps; i++) {
        const struct dma_map *d = &c->maps[i];
        if (d->iova < iova || d->iova > iova + size - 1)
            continue;
        int rc = report_mapping(c, d, out);
        if (rc)
            return rc;
    }
    return 0;
}

static int vfio_get_bitmap(struct vtd_container *c, const void *arg, uint32_t argsz, size_t minsz)
{
    struct vfio_iommu_type1_dirty_bitmap_get range;
    if (argsz - minsz < sizeof range)
        return -EINVAL; /* data_size 0 or short of the range structure */
    memcpy(&range, (const char *)arg + minsz, sizeof range);
    if (range.iova + range.size < range.iova)
        return -EINVAL;
    /* __ffs(pgsize): the lowest set bit decides the shift the size check uses. */
    unsigned pgshift = range.bitmap.pgsize ? (unsigned)__builtin_ctzll(range.bitmap.pgsize) : 0;
    int rc = verify_bitmap_size(range.size >> pgshift, range.bitmap.size);
    if (rc)
        return rc;
    /* Only the smallest supported page size; iova and size aligned to it, size non-zero. */
    if (range.bitmap.pgsize != MIN_PGSIZE || (range.iova & (MIN_PGSIZE - 1)) || !range.size ||
        (range.size & (MIN_PGSIZE - 1)))
        return -EINVAL;
    if (!c->dirty_vfio)
        return -EINVAL; /* tracking not started */
    if (!range.bitmap.data)
        return -EFAULT; /* the copy to user memory fails */
    struct bitmap_out out = {(uint64_t *)(void *)range.bitmap.data, range.iova, MIN_PGSHIFT};
    return iova_dirty_bitmap(c, range.iova, range.size, &out);
}

int cont_dirty_pages(struct vtd_container *c, void *arg)
{
    const uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
                          VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
    struct vfio_iommu_type1_dirty_bitmap dirty;
    size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
    memcpy(&dirty, arg, minsz);
    /* argsz, unknown flags, and exactly one flag (__ffs != __fls; none falls through to the
     * final -EINVAL). The nesting container is type1 v2, so -EACCES never applies. */
    if (dirty.argsz < minsz || (dirty.flags & ~mask) || !dirty.flags || (dirty.flags & (dirty.flags - 1)))
        return -EINVAL;
    if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START)
        return vfio_start(c);
    if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP)
        return vfio_stop(c);
    return vfio_get_bitmap(c, arg, dirty.argsz, minsz);
}

/* ---- UNMAP_DMA with GET_DIRTY_BITMAP ---- */

int cont_dirty_unmap_check(const struct vtd_container *c, uint64_t size, const struct vfio_bitmap *bm)
{
    unsigned pgshift = bm->pgsize ? (unsigned)__builtin_ctzll(bm->pgsize) : 0;
    int rc = verify_bitmap_size(size >> pgshift, bm->size);
    if (rc)
        return rc;
    /* vfio_dma_do_unmap: only while tracking, only with the smallest page size. */
    return !c->dirty_vfio || bm->pgsize != MIN_PGSIZE ? -EINVAL : 0;
}

int cont_dirty_unmap_report(struct vtd_container *c, const struct dma_map *m, uint64_t base,
                            const struct vfio_bitmap *bm)
{
    if (!bm->data)
        return -EFAULT;
    struct bitmap_out out = {(uint64_t *)(void *)bm->data, base, MIN_PGSHIFT};
    return report_mapping(c, m, &out);
}

/* ---- iommufd: IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP ---- */

int vtd_container_hwpt_set_dirty_tracking(struct vtd_container *c, uint32_t flags)
{
    if (!c || (flags & ~VTD_HWPT_DIRTY_TRACKING_ENABLE))
        return -EINVAL;
    /* The domain has dirty ops only when allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, which
     * intel_iommu_domain_alloc_user refuses without SSADS. */
    if (!vtd_ecap_has(vtd_iommu_caps(c->io), VTD_ECAP_SSADS))
        return -EOPNOTSUPP;
    bool on = flags & VTD_HWPT_DIRTY_TRACKING_ENABLE;
    if (on == c->dirty_hwpt)
        return 0; /* intel_iommu_set_dirty_tracking: no change */
    if (!on) {
        c->dirty_hwpt = false;
        return c->dirty_vfio && c->cfg.dirty_source == VTD_DIRTY_SSADE ? 0 : set_ssade(c, false);
    }
    int rc = harvest(c, 0, domain_last(c), true, NULL); /* iopt_clear_dirty_data */
    if (!rc)
        rc = set_ssade(c, true);
    if (!rc)
        c->dirty_hwpt = true;
    return rc;
}

/* iopt_read_and_clear_dirty_data walks the areas of the range: a hole is -EINVAL. */
static bool range_mapped(struct vtd_container *c, uint64_t iova, uint64_t last)
{
    while (iova <= last) {
        const struct dma_map *m = cont_find_dma(c, iova, 1);
        if (!m)
            return false;
        if (m->iova + m->size - 1 >= last)
            return true;
        iova = m->iova + m->size;
    }
    return true;
}

/* iommufd_check_iova_range (6.7). */
int cont_dirty_check_range(uint64_t iova, uint64_t length, uint64_t page_size, uint64_t *last)
{
    /* check_add_overflow(iova, length - 1): length 0 wraps to the whole space, an overflow
     * unless iova is 0 (then the range has holes). */
    *last = iova + (length - 1);
    if (*last < iova)
        return -EOVERFLOW;
    if ((iova & (MIN_PGSIZE - 1)) || ((*last + 1) & (MIN_PGSIZE - 1)))
        return -EINVAL;
    /* The bitmap's page size must be a power of two (iova_bitmap counts in shifts): vtdsim's
     * check, where the kernel would silently use the lowest set bit. */
    if (!page_size || (page_size & (page_size - 1)))
        return -EINVAL;
    if ((iova & (page_size - 1)) || ((*last + 1) & (page_size - 1)))
        return -EINVAL;
    return 0;
}

int vtd_container_hwpt_get_dirty_bitmap(struct vtd_container *c, uint64_t iova, uint64_t length, uint64_t page_size,
                                        uint32_t flags, uint32_t reserved, uint64_t *data)
{
    if (!c)
        return -EINVAL;
    if ((flags & ~VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || reserved)
        return -EOPNOTSUPP;
    if (!vtd_ecap_has(vtd_iommu_caps(c->io), VTD_ECAP_SSADS))
        return -EOPNOTSUPP; /* no read_and_clear_dirty op */
    uint64_t last;
    int rc = cont_dirty_check_range(iova, length, page_size, &last);
    if (rc)
        return rc;
    /* intel_iommu_read_and_clear_dirty refuses a bitmap while tracking is off. */
    if (!c->dirty_hwpt)
        return -EINVAL;
    if (!range_mapped(c, iova, last))
        return -EINVAL;
    if (!data)
        return -EFAULT;
    struct bitmap_out out = {data, iova, (unsigned)__builtin_ctzll(page_size)};
    return harvest(c, iova, last, !(flags & VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), &out);
}
