/*
 * test_dirty.c: dirty tracking for live migration: the harvest over second-stage leaves, the
 * oracle's lost A/D findings, VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA's bitmap, iommufd's calls.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "host/container.h"
#include "walker/harvest.h"
#include "sim/iommu.h"
#include "sim/qi.h"
#include "walker/builder.h"
#include "walker/ss_entry.h"
#include "container_fixture.h"

static struct vtd_iommu *io;
static struct vtd_container *c;

static void setup_with(enum vtd_dirty_source src, enum vtd_dirty_flush flush)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.dirty_source = src;
    cc.dirty_flush = flush;
    container_fixture_cfg(&io, &c, &cc);
}

static void teardown(void)
{
    vtd_container_free(c);
    vtd_iommu_free(io);
}

static void map(uint64_t iova, uint64_t vaddr, uint64_t size)
{
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof m, .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                         .vaddr = vaddr, .iova = iova, .size = size};
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m), 0);
}

static int dma(uint16_t sid, uint64_t addr, unsigned access, struct vtd_dma_result *res)
{
    struct vtd_request r = {.sid = sid, .addr = addr, .access = access};
    return vtd_iommu_dma(io, &r, res);
}

static int dirty_op(uint32_t flags)
{
    struct vfio_iommu_type1_dirty_bitmap d = {.argsz = sizeof d, .flags = flags};
    return vtd_container_ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d);
}

static int get_bitmap(uint64_t iova, uint64_t size, uint64_t *bm, uint64_t bm_bytes)
{
    struct {
        struct vfio_iommu_type1_dirty_bitmap h;
        struct vfio_iommu_type1_dirty_bitmap_get g;
    } a = {{.argsz = sizeof a, .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
           {.iova = iova, .size = size, .bitmap = {.pgsize = 4096, .size = bm_bytes, .data = (__u64 *)(void *)bm}}};
    return vtd_container_ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &a);
}

static unsigned popcount(const uint64_t *bm, unsigned words)
{
    unsigned n = 0;
    for (unsigned i = 0; i < words; i++)
        n += (unsigned)__builtin_popcountll(bm[i]);
    return n;
}

/* ---- the harvest ---- */

struct seen {
    uint64_t iova[8], size[8];
    unsigned n;
};

static void record(void *arg, uint64_t iova, uint64_t size)
{
    struct seen *s = arg;
    if (s->n < 8) {
        s->iova[s->n] = iova;
        s->size[s->n] = size;
    }
    s->n++;
}

Test(harvest, reads_clears_and_cuts_large_leaves_to_the_range, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_ALL);
    map(0x200000, 0x40000000, 0x400000); /* two 2 MiB leaves */
    map(0x1000, 0x50000000, 0x4000);     /* four 4 KiB leaves */
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x3ff000, VTD_ACC_W, &res), 0);
    cr_assert_eq(res.x.page_shift, 21);
    cr_assert_eq(dma(DEV_PLAIN, 0x2000, VTD_ACC_W, &res), 0);
    const struct vtd_pt *ss = vtd_container_ss(c);
    struct seen s = {0};
    struct vtd_harvest_stats st;
    /* A range that starts inside the dirty 2 MiB leaf: the leaf is reported cut to it. */
    cr_assert_eq(vtd_ss_harvest(vtd_iommu_mem(io), ss->root, ss->levels, 0x1000, 0x300000, false, record, &s, &st), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.iova[0], 0x2000);
    cr_assert_eq(s.size[0], 0x1000);
    cr_assert_eq(s.iova[1], 0x200000);
    cr_assert_eq(s.size[1], 0x101000);
    cr_assert_eq(st.leaves, 5); /* four small leaves and the first large one */
    cr_assert_eq(st.first, 0x2000);
    cr_assert_eq(st.last, 0x300fff);
    /* Read without clearing: the same again; with clearing: then nothing. */
    s.n = 0;
    cr_assert_eq(vtd_ss_harvest(vtd_iommu_mem(io), ss->root, ss->levels, 0, 0x800000, true, record, &s, &st), 0);
    cr_assert_eq(st.dirty, 2);
    cr_assert_eq(s.iova[1], 0x200000);
    cr_assert_eq(s.size[1], 0x200000);
    cr_assert_eq(vtd_ss_harvest(vtd_iommu_mem(io), ss->root, ss->levels, 0, 0x800000, true, NULL, NULL, &st), 0);
    cr_assert_eq(st.dirty, 0);
    cr_assert_eq(st.leaves, 6);
    /* An unreadable table is an error, not a silent skip. */
    cr_assert_eq(vtd_mem_set_abort(vtd_iommu_mem(io), ss->root, 4096, VTD_MEM_ABORT_READ), 0);
    cr_assert_eq(vtd_ss_harvest(vtd_iommu_mem(io), ss->root, ss->levels, 0, 0x800000, false, NULL, NULL, NULL), -EFAULT);
    cr_assert_eq(vtd_ss_harvest(vtd_iommu_mem(io), ss->root, 2, 0, 0x800000, false, NULL, NULL, NULL), 0);
}

/* ---- the oracle ---- */

Test(oracle_dirty, names_the_entry_the_cache_and_the_fix, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_NONE);
    map(0x100000, 0x40000000, 0x10000);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    vtd_iommu_set_step(io, 7);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert(res.x.pe.ssade);
    cr_assert_not(res.lost.dirty);
    uint64_t bm[1] = {0};
    cr_assert_eq(get_bitmap(0x100000, 0x10000, bm, 8), 0);
    cr_assert_eq(bm[0], 1);
    vtd_iommu_set_step(io, 9);
    cr_assert_eq(dma(DEV_PLAIN, 0x100008, VTD_ACC_R, &res), 0);
    cr_assert_not(res.lost.dirty, "a read needs no D");
    cr_assert_not(res.lost.accessed, "the harvest leaves A set");
    cr_assert_eq(dma(DEV_PLAIN, 0x100010, VTD_ACC_W, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_IOTLB);
    cr_assert(res.lost.dirty);
    cr_assert_eq(res.lost.stage, 2);
    cr_assert_eq(res.lost.cache, VTD_C_IOTLB);
    cr_assert_eq(res.lost.filled_step, 7);
    uint64_t leaf;
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), res.lost.entry_addr, &leaf), 0);
    cr_assert_eq(leaf & ~UINT64_C(0xfff), 0x40000000);
    cr_assert_eq(leaf & VTD_SS_D, 0);
    cr_assert(strstr(res.lost.text, "IOTLB PSI DID 1 ADDR 0x100000 AM 0"), "%s", res.lost.text);
    cr_assert_eq(vtd_iommu_stats(io)->dirty_lost, 1);
    /* Submitting the fix the oracle gave ends it: the next write walks and sets D. */
    struct vtd_qi_result qr;
    cr_assert_eq(vtd_qi_submit_desc(io, &res.lost.fix, &qr), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x100018, VTD_ACC_W, &res), 0);
    cr_assert_not(res.lost.dirty);
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), res.x.ss.leaf_entry_addr, &leaf), 0);
    cr_assert_neq(leaf & VTD_SS_D, 0);
}

Test(oracle_dirty, device_tlb_write_without_invalidation, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_IOTLB);
    map(0x100000, 0x40000000, 0x10000);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_ATS, 0x100000, VTD_ACC_W, &res), 0);
    uint64_t bm[1] = {0};
    cr_assert_eq(get_bitmap(0x100000, 0x10000, bm, 8), 0);
    cr_assert_eq(dma(DEV_ATS, 0x100040, VTD_ACC_W, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_DEVTLB);
    cr_assert(res.lost.dirty);
    cr_assert_eq(res.lost.cache, VTD_C_DEVTLB);
    cr_assert(strstr(res.lost.text, "device-TLB"), "%s", res.lost.text);
}

Test(oracle_dirty, pinned_source_leaves_ssade_off, .fini = teardown)
{
    setup_with(VTD_DIRTY_PINNED, VTD_DIRTY_FLUSH_ALL);
    map(0x100000, 0x40000000, 0x10000);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert_not(res.x.pe.ssade);
    uint64_t bm[1] = {0};
    cr_assert_eq(get_bitmap(0x100000, 0x10000, bm, 8), 0);
    cr_assert_eq(bm[0], 0xffff, "every pinned page");
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert_not(res.lost.dirty);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
    cr_assert_not(vtd_container_dirty_tracking(c));
}

/* ---- VFIO ---- */

Test(vfio_dirty, get_bitmap_null_data_and_start_stop, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_ALL);
    map(0x100000, 0x40000000, 0x10000);
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_DIRTY_PAGES, NULL), -EFAULT);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    cr_assert(vtd_container_dirty_tracking(c));
    cr_assert_eq(get_bitmap(0x100000, 0x10000, NULL, 8), -EFAULT);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert(res.x.pe.ssade);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert_not(res.x.pe.ssade, "STOP clears SSADE and flushes the PASID cache");
    cr_assert_eq(res.source, VTD_SRC_WALK);
}

static int unmap_with_bitmap(uint64_t iova, uint64_t size, uint32_t argsz, uint64_t pgsize, uint64_t *bm,
                             uint64_t bm_bytes, uint64_t *unmapped)
{
    struct {
        struct vfio_iommu_type1_dma_unmap u;
        struct vfio_bitmap b;
    } a = {{.argsz = argsz, .flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, .iova = iova, .size = size},
           {.pgsize = pgsize, .size = bm_bytes, .data = (__u64 *)(void *)bm}};
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a);
    *unmapped = a.u.size;
    return rc;
}

Test(vfio_dirty, unmap_reports_the_mappings_dirty_pages, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_ALL);
    map(0x100000, 0x40000000, 0x8000);
    map(0x108000, 0x40008000, 0x8000);
    uint64_t bm[1] = {0}, unmapped;
    const uint32_t full = sizeof(struct vfio_iommu_type1_dma_unmap) + sizeof(struct vfio_bitmap);
    /* Not tracking yet; argsz short of the bitmap; the wrong page size; a bitmap too small. */
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full, 4096, bm, 8, &unmapped), -EINVAL);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full - 1, 4096, bm, 8, &unmapped), -EINVAL);
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full, 8192, bm, 8, &unmapped), -EINVAL);
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full, 4096, bm, 0, &unmapped), -EINVAL);
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full, 4096, NULL, 8, &unmapped), -EFAULT);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x101000, VTD_ACC_W, &res), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x10f000, VTD_ACC_W, &res), 0);
    cr_assert_eq(unmap_with_bitmap(0x100000, 0x10000, full, 4096, bm, 8, &unmapped), 0);
    cr_assert_eq(unmapped, 0x10000);
    cr_assert_eq(bm[0], (UINT64_C(1) << 1) | (UINT64_C(1) << 15));
    cr_assert_eq(vtd_container_pinned_pages(c), 0);
}

Test(vfio_dirty, get_info_migration_capability_matches_the_checks, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_ALL);
    map(0x100000, 0x40000000, 0x10000);
    uint8_t buf[512] = {0};
    struct vfio_iommu_type1_info *info = (void *)buf;
    info->argsz = sizeof buf;
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, info), 0);
    struct vfio_iommu_type1_info_cap_migration mig;
    memcpy(&mig, buf + info->cap_offset, sizeof mig);
    cr_assert_eq(mig.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    uint64_t bm[1] = {0};
    /* The advertised page size is the one accepted; the advertised maximum is the largest. */
    cr_assert_eq(mig.pgsize_bitmap, 4096);
    cr_assert_eq(get_bitmap(0x100000, 0x10000, bm, mig.max_dirty_bitmap_size + 8), -EINVAL);
    cr_assert_eq(get_bitmap(0x100000, 0x10000, bm, 8), 0);
}

/* ---- iommufd ---- */

Test(iommufd_dirty, no_clear_keeps_d_and_large_pages_set_every_bit, .fini = teardown)
{
    setup_with(VTD_DIRTY_PINNED, VTD_DIRTY_FLUSH_ALL);
    map(0x200000, 0x40000000, 0x200000);
    cr_assert_eq(vtd_container_hwpt_set_dirty_tracking(NULL, 1), -EINVAL);
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(NULL, 0, 4096, 4096, 0, 0, NULL), -EINVAL);
    cr_assert_eq(vtd_container_hwpt_set_dirty_tracking(c, VTD_HWPT_DIRTY_TRACKING_ENABLE), 0);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x2ff000, VTD_ACC_W, &res), 0);
    cr_assert_eq(res.x.page_shift, 21);
    uint64_t bm[8] = {0};
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(c, 0x200000, 0x200000, 4096, 0, 0, NULL), -EFAULT);
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(c, 0x200000, 0x200000, 4096,
                                                     VTD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 0, bm), 0);
    cr_assert_eq(popcount(bm, 8), 512);
    memset(bm, 0, sizeof bm);
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(c, 0x200000, 0x200000, 4096, 0, 0, bm), 0);
    cr_assert_eq(popcount(bm, 8), 512, "NO_CLEAR left D set");
    memset(bm, 0, sizeof bm);
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(c, 0x200000, 0x200000, 4096, 0, 0, bm), 0);
    cr_assert_eq(popcount(bm, 8), 0);
    /* Page size not a power of two. */
    cr_assert_eq(vtd_container_hwpt_get_dirty_bitmap(c, 0x200000, 0x6000, 0x3000, 0, 0, bm), -EINVAL);
    cr_assert_eq(vtd_container_hwpt_set_dirty_tracking(c, 0), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x200000, VTD_ACC_W, &res), 0);
    cr_assert_not(res.x.pe.ssade);
}

Test(iommufd_dirty, vfio_and_iommufd_share_ssade, .fini = teardown)
{
    setup_with(VTD_DIRTY_SSADE, VTD_DIRTY_FLUSH_ALL);
    map(0x100000, 0x40000000, 0x10000);
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
    cr_assert_eq(vtd_container_hwpt_set_dirty_tracking(c, VTD_HWPT_DIRTY_TRACKING_ENABLE), 0);
    cr_assert_eq(vtd_container_hwpt_set_dirty_tracking(c, 0), 0);
    struct vtd_dma_result res;
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert(res.x.pe.ssade, "VFIO still tracks");
    cr_assert_eq(dirty_op(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x100000, VTD_ACC_W, &res), 0);
    cr_assert_not(res.x.pe.ssade);
}

Test(container_config, refuses_unknown_dirty_settings)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    struct vtd_iommu *i = vtd_iommu_new(&cfg, NULL);
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cr_assert_eq(cc.dirty_source, VTD_DIRTY_PINNED);
    cr_assert_eq(cc.dirty_flush, VTD_DIRTY_FLUSH_ALL);
    cc.dirty_flush = (enum vtd_dirty_flush)7;
    const char *why = NULL;
    cr_assert_null(vtd_container_new(i, &cc, &why));
    cr_assert(strstr(why, "dirty"));
    vtd_iommu_free(i);
}
