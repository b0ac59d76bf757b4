/*
 * test_container.c: the VFIO container front end (issue 5): GET_INFO, MAP_DMA, UNMAP_DMA,
 * PASID_REQUEST, with the literal errnos of Linux 5.9/5.10 + the vSVA series.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "host/container.h"
#include "sim/iommu_internal.h"
#include "walker/alloc.h"
#include "walker/builder.h"
#include "container_fixture.h"

static struct vtd_iommu *io;
static struct vtd_container *c;

static void setup(void) { container_fixture(&io, &c, VTD_INV_SPEC); }

static void teardown(void)
{
    vtd_container_free(c);
    vtd_iommu_free(io);
}

TestSuite(container, .init = setup, .fini = teardown);

static int dma(uint16_t sid, uint64_t addr, unsigned acc, struct vtd_dma_result *r)
{
    struct vtd_request req = { .sid = sid, .addr = addr, .access = acc };
    return vtd_iommu_dma(io, &req, r);
}

static int map(uint64_t iova, uint64_t vaddr, uint64_t size, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map m = { sizeof(m), flags, vaddr, iova, size };
    return vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap(uint64_t iova, uint64_t size, uint64_t *done)
{
    struct vfio_iommu_type1_dma_unmap u = { sizeof(u), 0, iova, size };
    int rc = vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
    if (done)
        *done = u.size;
    return rc;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* ---- set-up ---- */

Test(container, attach_errors)
{
    cr_assert_eq(vtd_container_attach_device(c, DEV_PLAIN), -EBUSY);
    cr_assert_eq(vtd_container_attach_device(c, 0x0100), -ENODEV);
}

Test(container, unknown_ioctl_is_enotty)
{
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_ENABLE, NULL), -ENOTTY);
    cr_assert_eq(vtd_container_ioctl(c, 0x1234, NULL), -ENOTTY);
}

Test(container, bad_config_is_refused)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = 0;
    const char *why = NULL;
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_not_null(why);
    cc.did = 2;
    cc.ss_levels = 6;
    cr_assert_null(vtd_container_new(io, &cc, &why));
}

/* ---- GET_INFO ---- */

Test(container, get_info_argsz_below_minsz)
{
    struct vfio_iommu_type1_info info = { .argsz = 15 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
}

Test(container, get_info_minsz_only_writes_16_bytes)
{
    struct vfio_iommu_type1_info info;
    memset(&info, 0xA5, sizeof(info));
    info.argsz = 16;
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, &info), 0);
    cr_assert_eq(info.flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    cr_assert_eq(info.argsz, 24 + 144);
    cr_assert_eq(info.iova_pgsizes, ~UINT64_C(0xFFF));
    cr_assert_eq(info.cap_offset, 0xA5A5A5A5u); /* beyond the 16 bytes the kernel copies */
}

Test(container, get_info_too_small_for_chain)
{
    unsigned char buf[168];
    memset(buf, 0xEE, sizeof(buf));
    struct vfio_iommu_type1_info info = { .argsz = 167, .cap_offset = 77 };
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, buf), 0);
    memcpy(&info, buf, sizeof(info));
    cr_assert_eq(info.argsz, 168);
    cr_assert_eq(info.flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    cr_assert_eq(info.cap_offset, 0);
    cr_assert_eq(buf[24], 0xEE, "no chain written");
}

Test(container, get_info_chain)
{
    _Alignas(8) unsigned char buf[256];
    memset(buf, 0, sizeof(buf));
    struct vfio_iommu_type1_info info = { .argsz = sizeof(buf) };
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, buf), 0);
    memcpy(&info, buf, sizeof(info));
    cr_assert_eq(info.argsz, sizeof(buf), "argsz untouched when large enough");
    cr_assert_eq(info.cap_offset, 24);
    struct vfio_iommu_type1_info_cap_migration mig;
    memcpy(&mig, buf + 24, sizeof(mig));
    cr_assert_eq(mig.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
    cr_assert_eq(mig.header.version, 1);
    cr_assert_eq(mig.header.next, 56);
    cr_assert_eq(mig.flags, 0);
    cr_assert_eq(mig.pgsize_bitmap, 4096);
    cr_assert_eq(mig.max_dirty_bitmap_size, UINT64_C(268435456));
    struct vfio_iommu_type1_info_cap_iova_range iova;
    struct vfio_iova_range r[2];
    memcpy(&iova, buf + 56, sizeof(iova));
    memcpy(r, buf + 56 + sizeof(iova), sizeof(r));
    cr_assert_eq(iova.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    cr_assert_eq(iova.header.next, 104);
    cr_assert_eq(iova.nr_iovas, 2, "the aperture minus the IOAPIC window");
    cr_assert_eq(r[0].start, 0);
    cr_assert_eq(r[0].end, UINT64_C(0xFEDFFFFF));
    cr_assert_eq(r[1].start, UINT64_C(0xFEF00000));
    cr_assert_eq(r[1].end, (UINT64_C(1) << 57) - 1, "5.10's aperture is 57 bits whatever the width");
    struct vfio_iommu_type1_info_cap_nesting n;
    memcpy(&n, buf + 104, sizeof(n));
    cr_assert_eq(n.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_NESTING);
    cr_assert_eq(n.header.next, 0);
    cr_assert_eq(n.info.argsz, 56);
    cr_assert_eq(n.info.format, IOMMU_PASID_FORMAT_INTEL_VTD);
    cr_assert_eq(n.info.features, IOMMU_NESTING_FEAT_SYSWIDE_PASID | IOMMU_NESTING_FEAT_BIND_PGTBL |
                                      IOMMU_NESTING_FEAT_CACHE_INVLD);
    const struct vtd_caps *caps = vtd_iommu_caps(io);
    cr_assert_eq(n.info.addr_width, vtd_cap_has(caps, VTD_CAP_FS5LP) ? 57 : 48);
    cr_assert_eq(n.info.pasid_bits, 20);
    cr_assert_eq(n.info.vendor.vtd.cap_reg, caps->cap);
    cr_assert_eq(n.info.vendor.vtd.ecap_reg, caps->ecap);
}

/* vSVA v7 adds the nesting capability only once nesting_info exists (the first attach), the
 * same condition under which PASID_REQUEST and NESTING_OP stop answering -EOPNOTSUPP. */
Test(container, get_info_nesting_cap_only_after_attach)
{
    struct vtd_container *c2 = container_fixture_other(io, 2, UINT64_C(0x20000000));
    _Alignas(8) unsigned char buf[256];
    memset(buf, 0xEE, sizeof(buf));
    struct vfio_iommu_type1_info info = { .argsz = 24 };
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_GET_INFO, buf), 0);
    memcpy(&info, buf, sizeof(info));
    cr_assert_eq(info.argsz, 24 + 32 + 48, "migration and IOVA ranges only");
    info.argsz = sizeof(buf);
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_GET_INFO, buf), 0);
    struct vfio_iommu_type1_info_cap_iova_range iova;
    memcpy(&iova, buf + 56, sizeof(iova));
    cr_assert_eq(iova.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    cr_assert_eq(iova.header.next, 0, "the chain ends before the nesting capability");
    cr_assert_eq(buf[104], 0xEE, "nothing written past the chain");
    struct vfio_iommu_type1_pasid_request req = { sizeof(req), VFIO_IOMMU_FLAG_ALLOC_PASID, { 1, 10 } };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &req), -EOPNOTSUPP, "same condition");

    /* A device of its own: the capability appears. */
    struct vtd_device_config d = { .sid = 0x0020, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io, &d), 0);
    cr_assert_eq(vtd_container_attach_device(c2, 0x0020), 0);
    info = (struct vfio_iommu_type1_info){ .argsz = 24 };
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_GET_INFO, buf), 0);
    memcpy(&info, buf, sizeof(info));
    cr_assert_eq(info.argsz, 24 + 32 + 48 + 64);
    info.argsz = sizeof(buf);
    memcpy(buf, &info, sizeof(info));
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_GET_INFO, buf), 0);
    memcpy(&iova, buf + 56, sizeof(iova));
    cr_assert_eq(iova.header.next, 104);
    struct vfio_iommu_type1_info_cap_nesting n;
    memcpy(&n, buf + 104, sizeof(n));
    cr_assert_eq(n.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_NESTING);
    vtd_container_free(c2);
}

/* ---- MAP_DMA ---- */

Test(container, map_dma_errnos)
{
    struct vfio_iommu_type1_dma_map m = { 31, RW, HOST_RAM, 0, 0x1000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m), -EINVAL, "argsz < minsz");
    cr_assert_eq(map(0, HOST_RAM, 0x1000, 4), -EINVAL, "unknown flag");
    cr_assert_eq(map(0, HOST_RAM, 0x1000, 0), -EINVAL, "no permission");
    cr_assert_eq(map(0, HOST_RAM, 0, RW), -EINVAL, "zero size");
    cr_assert_eq(map(0x800, HOST_RAM, 0x1000, RW), -EINVAL, "iova misaligned");
    cr_assert_eq(map(0, HOST_RAM + 8, 0x1000, RW), -EINVAL, "vaddr misaligned");
    cr_assert_eq(map(0, HOST_RAM, 0x1800, RW), -EINVAL, "size misaligned");
    cr_assert_eq(map(UINT64_C(0xFFFFFFFFFFFFF000), HOST_RAM, 0x2000, RW), -EINVAL, "iova wraps");
    cr_assert_eq(map(0, UINT64_C(0xFFFFFFFFFFFFF000), 0x2000, RW), -EINVAL, "vaddr wraps");
    cr_assert_eq(map(UINT64_C(1) << 57, HOST_RAM, 0x1000, RW), -EINVAL, "beyond the IOVA list");
    cr_assert_eq(map(UINT64_C(0xFEE00000), HOST_RAM, 0x1000, RW), -EINVAL, "inside the IOAPIC window");
    cr_assert_eq(map(UINT64_C(0xFED00000), HOST_RAM, 0x200000, RW), -EINVAL, "across the IOAPIC window");
    cr_assert_eq(map(UINT64_C(1) << 48, HOST_RAM, 0x1000, RW), -EFAULT, "beyond the domain width (intel_iommu_map)");
    cr_assert_eq(map(0, UINT64_C(1) << 48, 0x1000, RW), -EFAULT, "vaddr cannot be pinned");
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, RW), 0);
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, RW), -EEXIST);
    cr_assert_eq(map(0x13000, HOST_RAM, 0x2000, RW), -EEXIST, "tail overlap");
    cr_assert_eq(map(0xF000, HOST_RAM, 0x2000, RW), -EEXIST, "head overlap");
    cr_assert_eq(map(0x14000, HOST_RAM, 0x1000, RW), 0, "adjacent is fine");
}

Test(container, map_dma_translates_with_large_pages)
{
    cr_assert_eq(map(0x200000, HOST_RAM, 0x400000, VFIO_DMA_MAP_FLAG_READ), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_PLAIN, 0x201234, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + 0x1234);
    cr_assert_eq(r.x.page_shift, 21);
    cr_assert_eq(dma(DEV_PLAIN, 0x201234, VTD_ACC_W, &r), VTD_FR_WRITE);
    cr_assert_eq(dma(DEV_PLAIN, 0x600000, VTD_ACC_R, &r), VTD_FR_READ);
}

/* ---- UNMAP_DMA ---- */

Test(container, unmap_dma_errnos)
{
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, RW), 0);
    struct vfio_iommu_type1_dma_unmap u = { 23, 0, 0x10000, 0x4000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL, "argsz");
    u = (struct vfio_iommu_type1_dma_unmap){ sizeof(u), 2, 0x10000, 0x4000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL, "unknown flag");
    u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL, "no dirty tracking");
    cr_assert_eq(unmap(0x10800, 0x1000, NULL), -EINVAL, "iova misaligned");
    cr_assert_eq(unmap(0x10000, 0, NULL), -EINVAL, "zero size");
    cr_assert_eq(unmap(0x10000, 0x1800, NULL), -EINVAL, "size misaligned");
    cr_assert_eq(unmap(UINT64_C(0xFFFFFFFFFFFFF000), 0x2000, NULL), -EINVAL, "wrap");
    cr_assert_eq(unmap(0x11000, 0x3000, NULL), -EINVAL, "starts inside a mapping");
    cr_assert_eq(unmap(0x10000, 0x2000, NULL), -EINVAL, "ends inside a mapping");
    uint64_t done = 99;
    cr_assert_eq(unmap(0x100000, 0x1000, &done), 0, "nothing there");
    cr_assert_eq(done, 0);
    cr_assert_eq(unmap(0, 0x100000, &done), 0, "covers the whole mapping");
    cr_assert_eq(done, 0x4000);
}

Test(container, unmap_flushes_iotlb_and_device_tlb)
{
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, RW), 0);
    cr_assert_eq(map(0x20000, HOST_RAM + 0x10000, 0x1000, RW), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_PLAIN, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(DEV_PLAIN, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    cr_assert_eq(dma(DEV_ATS, 0x12000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(DEV_ATS, 0x12000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert_eq(dma(DEV_PLAIN, 0x20000, VTD_ACC_R, &r), 0);
    uint64_t done = 0;
    cr_assert_eq(unmap(0x10000, 0x4000, &done), 0);
    cr_assert_eq(done, 0x4000);
    cr_assert_eq(dma(DEV_PLAIN, 0x11000, VTD_ACC_R, &r), VTD_FR_READ);
    cr_assert_not(r.stale);
    cr_assert_eq(dma(DEV_ATS, 0x12000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST, "a PRI device asks for the page");
    cr_assert_not(r.stale, "%s", r.report.fix);
    cr_assert_eq(dma(DEV_PLAIN, 0x20000, VTD_ACC_R, &r), 0, "the other mapping stays");
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0) ? vtd_iommu_warning(io, 0) : "");
}

/* ---- PASID_REQUEST ---- */

static int preq(uint32_t argsz, uint32_t flags, uint32_t min, uint32_t max)
{
    struct vfio_iommu_type1_pasid_request r = { argsz, flags, { min, max } };
    return vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r);
}

#define ALLOC VFIO_IOMMU_FLAG_ALLOC_PASID
#define FREE VFIO_IOMMU_FLAG_FREE_PASID

Test(container, pasid_request_errnos)
{
    cr_assert_eq(preq(15, ALLOC, 1, 10), -EINVAL, "argsz");
    cr_assert_eq(preq(16, 4, 1, 10), -EINVAL, "unknown flag");
    cr_assert_eq(preq(16, 0, 1, 10), -EINVAL, "neither flag");
    cr_assert_eq(preq(16, ALLOC | FREE, 1, 10), -EINVAL, "both flags");
    cr_assert_eq(preq(16, ALLOC, 10, 1), -EINVAL, "min > max");
    cr_assert_eq(preq(16, ALLOC, 1, 0x80000001u), -EINVAL, "max beyond 2^31");
    cr_assert_eq(preq(16, ALLOC, 0x80000001u, 0x80000001u), -EINVAL, "min beyond 2^31");
    cr_assert_eq(preq(16, ALLOC, 1u << 20, 0x7FFFFFFFu), -ENOSPC, "beyond the hardware's 20 bits");
}

Test(container, pasid_alloc_and_free)
{
    cr_assert_eq(preq(16, ALLOC, 0, 3), 1, "PASID 0 is RID_PASID");
    cr_assert_eq(preq(16, ALLOC, 0, 3), 2);
    cr_assert_eq(preq(16, ALLOC, 0, 3), 3);
    cr_assert_eq(preq(16, ALLOC, 0, 3), -ENOSPC, "exhausted");
    cr_assert_eq(preq(16, FREE, 2, 2), 0);
    cr_assert_eq(preq(16, ALLOC, 0, 3), 2, "freed PASIDs are reused");
    cr_assert_eq(preq(16, ALLOC, 100, 100), 100);
    cr_assert_eq(preq(16, ALLOC, 0xFFFFF, 0x7FFFFFFFu), 0xFFFFF, "largest 20-bit PASID");
}

Test(container, pasids_are_system_wide)
{
    struct vtd_container *c2 = container_fixture_other(io, 2, UINT64_C(0x20000000));
    cr_assert_eq(preq(16, ALLOC, 5, 6), 5);
    struct vfio_iommu_type1_pasid_request r = { 16, ALLOC, { 5, 6 } };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r), -EOPNOTSUPP, "no device: no vfio_mm yet");
    struct vtd_device_config d3 = { .sid = 0x0020, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io, &d3), 0);
    cr_assert_eq(vtd_container_attach_device(c2, 0x0020), 0);
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r), 6, "5 is taken by the other");
    r.range.max = 5;
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r), -ENOSPC);
    /* Freeing someone else's PASID does nothing, silently (the ioasid set does not hold it). */
    r = (struct vfio_iommu_type1_pasid_request){ 16, FREE, { 5, 5 } };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r), 0);
    cr_assert_eq(preq(16, ALLOC, 5, 5), -ENOSPC, "still ours");
    /* A freed container gives its PASIDs back. */
    vtd_container_free(c2);
    cr_assert_eq(preq(16, ALLOC, 6, 6), 6);
}

Test(container, pasid_quota_is_1000_per_container)
{
    for (int i = 1; i <= 1000; i++)
        cr_assert_eq(preq(16, ALLOC, 1, 0x7FFFFFFFu), i);
    cr_assert_eq(preq(16, ALLOC, 1, 0x7FFFFFFFu), -ENOSPC, "vfio_pasid.c's default pasid_quota");
    cr_assert_eq(preq(16, FREE, 500, 500), 0);
    cr_assert_eq(preq(16, ALLOC, 1, 0x7FFFFFFFu), 500, "a freed PASID gives quota back");
}

Test(container, pasid_bound_2_pow_31_is_einval)
{
    /* The header allows 31 bits (the PASID comes back in a signed int): 2^31 does not fit. v7
     * compared with '>' and let it through; vtdsim follows the header (issue 13). */
    cr_assert_eq(preq(16, ALLOC, 0x80000000u, 0x80000000u), -EINVAL);
    cr_assert_eq(preq(16, ALLOC, 1, 0x80000000u), -EINVAL);
    cr_assert_eq(preq(16, FREE, 0, 0x80000000u), -EINVAL);
    cr_assert_eq(preq(16, FREE, 0, 0x7FFFFFFFu), 0, "FREE of nothing is 0");
}

/* ---- rarer paths ---- */

Test(container, config_errors_say_why)
{
    struct vtd_container_config cc;
    const char *why = NULL;
    vtd_container_config_default(&cc);
    cc.did = 0;
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_str_eq(why, "DID 0 or beyond CAP.ND");
    vtd_container_config_default(&cc);
    cc.policy = (enum vtd_inv_policy)7;
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_str_eq(why, "unknown invalidation policy");
    cr_assert_null(vtd_container_new(NULL, &cc, &why));
    cr_assert_str_eq(why, "no IOMMU or configuration");
    cr_assert_null(vtd_container_new(io, NULL, NULL), "no *why: still refused");
    vtd_container_free(NULL);
    cr_assert_eq(vtd_container_did(c), 1);
}

Test(container, iommu_without_nesting_is_refused)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.ecap &= ~VTD_ECAP_NEST;
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    const char *why = NULL;
    cr_assert_null(vtd_container_new(io2, &cc, &why));
    cr_assert_str_eq(why, "the IOMMU lacks scalable mode or nesting");
    vtd_iommu_free(io2);
}

Test(container, ioctl_without_container_or_argument)
{
    struct vfio_iommu_type1_info info = { .argsz = 24 };
    cr_assert_eq(vtd_container_ioctl(NULL, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
    unsigned long req[] = { VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_PASID_REQUEST,
                            VFIO_IOMMU_NESTING_OP };
    for (unsigned i = 0; i < sizeof(req) / sizeof(req[0]); i++)
        cr_assert_eq(vtd_container_ioctl(c, req[i], NULL), -EFAULT, "request %lx", req[i]);
}

Test(container, attach_of_an_unknown_device)
{
    cr_assert_eq(vtd_container_attach_device(c, 0x0777), -ENODEV);
}

/* Without CAP.PSI (or with AM beyond MAMV) the host flushes the whole DID: a cached
 * translation of another mapping goes too (where PSI would have kept it). */
static void flush_scope(uint64_t cap_clear, uint64_t size, bool expect_kept)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.cap &= ~cap_clear;
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_device_config d = { .sid = DEV_PLAIN, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io2, &d), 0);
    struct vtd_container *c2 = container_fixture_other(io2, 3, UINT64_C(0x30000000));
    cr_assert_eq(vtd_container_attach_device(c2, DEV_PLAIN), 0);
    struct vfio_iommu_type1_dma_map m = { sizeof(m), RW, HOST_RAM, 0x10000, size };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_MAP_DMA, &m), 0);
    m = (struct vfio_iommu_type1_dma_map){ sizeof(m), RW, HOST_RAM + 0x10000, 0x20000, 0x1000 };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_MAP_DMA, &m), 0);
    struct vtd_request req = { .sid = DEV_PLAIN, .addr = 0x20000, .access = VTD_ACC_R };
    struct vtd_dma_result r;
    cr_assert_eq(vtd_iommu_dma(io2, &req, &r), 0);
    struct vfio_iommu_type1_dma_unmap u = { sizeof(u), 0, 0x10000, size };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_UNMAP_DMA, &u), 0);
    cr_assert_eq(vtd_iommu_dma(io2, &req, &r), 0);
    cr_assert_eq(r.source == VTD_SRC_IOTLB, expect_kept, "source %s", vtd_source_name(r.source));
    vtd_container_free(c2);
    vtd_iommu_free(io2);
}

Test(container, unmap_flush_is_page_selective_with_psi) { flush_scope(0, 0x2000, true); }
Test(container, unmap_flush_is_domain_wide_without_psi) { flush_scope(VTD_CAP_PSI, 0x1000, false); }
/* MAMV 0: one page is still page-selective, two pages need AM 1 and flush the domain. */
Test(container, unmap_flush_within_mamv) { flush_scope(VTD_CAP_MAMV, 0x1000, true); }
Test(container, unmap_flush_beyond_mamv_is_domain_wide) { flush_scope(VTD_CAP_MAMV, 0x2000, false); }

Test(container, one_page_unmap_flushes_one_device_tlb_page)
{
    cr_assert_eq(map(0x10000, HOST_RAM, 0x1000, RW), 0);
    cr_assert_eq(map(0x11000, HOST_RAM + 0x1000, 0x1000, RW), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_ATS, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(DEV_ATS, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(unmap(0x10000, 0x1000, NULL), 0);
    cr_assert_eq(dma(DEV_ATS, 0x10000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_not(r.stale);
    cr_assert_eq(dma(DEV_ATS, 0x11000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB, "the neighbour stays in the device TLB");
}

Test(container, dma_entry_limit_is_65535)
{
    for (uint64_t i = 0; i < 65535; i++)
        cr_assert_eq(map(i << 12, HOST_RAM, 0x1000, VFIO_DMA_MAP_FLAG_READ), 0);
    cr_assert_eq(map(UINT64_C(65535) << 12, HOST_RAM, 0x1000, VFIO_DMA_MAP_FLAG_READ), -ENOSPC);
    cr_assert_eq(unmap(0, 0x1000, NULL), 0);
    cr_assert_eq(map(UINT64_C(65535) << 12, HOST_RAM, 0x1000, VFIO_DMA_MAP_FLAG_READ), 0, "a slot came back");
}

/* Every allocation of the container's life can fail: each failure is an error, never a crash or
 * a leak (LeakSanitizer checks the latter). */
Test(container, allocation_failures_are_clean)
{
    bool delivered = true;
    for (uint64_t nth = 1; delivered && nth < 200; nth++) {
        struct vtd_container_config cc;
        vtd_container_config_default(&cc);
        cc.did = 5;
        cc.pool_base = UINT64_C(0x50000000);
        vtd_alloc_fail_nth(nth);
        struct vtd_container *c2 = vtd_container_new(io, &cc, NULL);
        int rc = c2 ? 0 : -ENOMEM;
        if (!rc)
            rc = vtd_container_attach_device(c2, DEV_PLAIN);
        if (!rc) {
            struct vfio_iommu_type1_dma_map m = { sizeof(m), RW, HOST_RAM, 0x10000, 0x1000 };
            rc = vtd_container_ioctl(c2, VFIO_IOMMU_MAP_DMA, &m);
        }
        if (!rc) {
            struct vfio_iommu_type1_pasid_request r = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { 1, 100 } };
            rc = vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r) > 0 ? 0 : -ENOMEM;
        }
        if (!rc) {
            struct iommu_gpasid_bind_data d = { .argsz = sizeof(d), .version = 1,
                                                .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                                .gpgd = 0x10000, .hpasid = 1 };
            rc = vtd_container_nesting_op(c2, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &d, sizeof(d));
        }
        delivered = vtd_alloc_fault_delivered();
        vtd_alloc_fail_nth(0);
        if (delivered)
            cr_assert_eq(rc, -ENOMEM, "allocation %llu failed: -ENOMEM expected, got %d", (unsigned long long)nth, rc);
        else
            cr_assert_eq(rc, 0, "nothing failed, everything worked");
        vtd_container_free(c2);
    }
    cr_assert_not(delivered, "the whole flow ran without a failure in the end");
}

Test(container, pool_too_small_is_refused)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = 6;
    cc.pool_base = UINT64_C(0x60000000);
    cc.pool_size = 0;
    const char *why = NULL;
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_str_eq(why, "pool too small or outside HAW, or out of memory");
    cc.pool_size = 0x1000; /* the second-stage root fits, the PASID directory does not */
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_str_eq(why, "pool too small or outside HAW, or out of memory");
}

/* A pool that runs dry while MAP_DMA builds tables: -ENOMEM, the half-built mapping undone, the
 * earlier mappings intact. */
Test(container, map_dma_out_of_table_pages)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = 7;
    cc.pool_base = UINT64_C(0x70000000);
    cc.pool_size = 0x30000; /* the 128 KiB PASID directory, a few tables more */
    struct vtd_container *c2 = vtd_container_new(io, &cc, NULL);
    cr_assert_not_null(c2);
    struct vtd_device_config d3 = { .sid = 0x0030, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io, &d3), 0);
    cr_assert_eq(vtd_container_attach_device(c2, 0x0030), 0);
    int rc = 0;
    uint64_t i = 0;
    for (; i < 64 && rc == 0; i++) {
        struct vfio_iommu_type1_dma_map m = { sizeof(m), RW, HOST_RAM, i << 39, 0x1000 };
        rc = vtd_container_ioctl(c2, VFIO_IOMMU_MAP_DMA, &m);
    }
    cr_assert_eq(rc, -ENOMEM, "each mapping 512 GiB apart needs three new tables");
    uint64_t failed = (i - 1) << 39;
    struct vtd_request req = { .sid = 0x0030, .addr = failed, .access = VTD_ACC_R };
    struct vtd_dma_result r;
    cr_assert_neq(vtd_iommu_dma(io, &req, &r), 0, "the failed mapping is not there");
    req.addr = 0;
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), 0, "the first one still is");
    struct vfio_iommu_type1_dma_unmap u = { sizeof(u), 0, failed, 0x1000 };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_UNMAP_DMA, &u), 0);
    cr_assert_eq(u.size, 0, "and VFIO does not track it");
    vtd_container_free(c2);
}

/* A device has 512 page request group indices (9-bit PRGI); with a fault queue large enough,
 * the 513th outstanding request finds none: the device sends nothing and falls back to an
 * untranslated request, which faults. */
Test(container, page_request_group_indices_run_out)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = 8;
    cc.pool_base = UINT64_C(0x68000000);
    cc.fault_queue = 1024;
    struct vtd_container *c2 = vtd_container_new(io, &cc, NULL);
    cr_assert_not_null(c2);
    struct vtd_device_config d4 = { .sid = 0x0040, .ats = true, .pri = true, .pasid_bits = 20,
                                    .devtlb = { .sets = 8, .ways = 4 } };
    cr_assert_eq(vtd_iommu_add_device(io, &d4), 0);
    cr_assert_eq(vtd_container_attach_device(c2, 0x0040), 0);
    struct vtd_dma_result r;
    for (uint64_t i = 0; i < 512; i++) {
        struct vtd_request req = { .sid = 0x0040, .addr = i << 12, .access = VTD_ACC_R };
        cr_assert_eq(vtd_iommu_dma(io, &req, &r), VTD_DMA_PAGE_REQUEST, "%llu", (unsigned long long)i);
    }
    struct vtd_request req = { .sid = 0x0040, .addr = UINT64_C(512) << 12, .access = VTD_ACC_R };
    uint64_t queued = vtd_iommu_prq_stats(io)->queued;
    cr_assert_neq(vtd_iommu_dma(io, &req, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_iommu_prq_stats(io)->queued, queued, "no page request went out");
    cr_assert_eq(vtd_container_pending_page_requests(c2), 512);
    struct vtd_pri_status ps;
    cr_assert_eq(vtd_iommu_pri_status(io, 0x0040, &ps), 0);
    cr_assert_eq(ps.outstanding, 512);
    vtd_container_free(c2);
}
