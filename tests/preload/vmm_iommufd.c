/*
 * vmm_iommufd.c: the same vSVA flow on mainline iommufd, written against <linux/iommufd.h> and
 * <linux/vfio.h> only: the device cdev bound to /dev/iommu, GET_HW_INFO, an IOAS with the
 * guest's RAM at GPA 0, a nesting-parent HWPT for the device, a nested HWPT with the guest's
 * first-stage table (iommu_hwpt_vtd_s1) attached to a PASID, a device write through it, then
 * the guest unmaps the page and the VMM forwards the guest's invalidation as HWPT_INVALIDATE.
 * The parent tracks dirty pages (live migration): the device's write shows in GET_DIRTY_BITMAP,
 * NO_CLEAR keeps it, a read without it clears it, and a second write shows again (unless the
 * machine's container leaves the flush after the harvest out: then the report names the write
 * as dirty-lost).
 *
 * Built twice: with LEAVE_OUT_INVALIDATION the HWPT_INVALIDATE is missing (the bug twin).
 * With "--bench N" it also times N HWPT_INVALIDATE calls of one entry and prints ns per call.
 */
#include <sys/ioctl.h>
#include <time.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "guest.h"

static uint32_t bind_device(int dev, int ifd)
{
    struct vfio_device_bind_iommufd b = { .argsz = sizeof b, .iommufd = ifd };
    CHECK(!ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), "VFIO_DEVICE_BIND_IOMMUFD");
    return b.out_devid;
}

static bool check_hw_info(int ifd, uint32_t dev_id)
{
    struct iommu_hw_info_vtd vtd;
    memset(&vtd, 0xff, sizeof vtd);
    struct iommu_hw_info info = { .size = sizeof info, .dev_id = dev_id, .data_len = sizeof vtd,
                                  .data_uptr = (uintptr_t)&vtd };
    CHECK(!ioctl(ifd, IOMMU_GET_HW_INFO, &info), "IOMMU_GET_HW_INFO");
    CHECK(info.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD && info.data_len == sizeof vtd, "GET_HW_INFO type");
    /* ECAP.NEST (bit 26, VT-d 11.4.3): the parent can take a nested stage 1. */
    CHECK(vtd.ecap_reg & (UINT64_C(1) << 26), "ECAP has no nesting: 0x%llx", (unsigned long long)vtd.ecap_reg);
    return info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING;
}

static uint32_t hwpt_alloc(int ifd, uint32_t dev_id, uint32_t pt_id, uint32_t flags, const struct iommu_hwpt_vtd_s1 *s1)
{
    struct iommu_hwpt_alloc a = { .size = sizeof a, .flags = flags, .dev_id = dev_id, .pt_id = pt_id };
    if (s1) {
        a.data_type = IOMMU_HWPT_DATA_VTD_S1;
        a.data_len = sizeof *s1;
        a.data_uptr = (uintptr_t)s1;
    }
    CHECK(!ioctl(ifd, IOMMU_HWPT_ALLOC, &a), "IOMMU_HWPT_ALLOC");
    return a.out_hwpt_id;
}

static void attach(int dev, uint32_t pt_id, bool with_pasid)
{
    struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof at, .pt_id = pt_id,
                                                .flags = with_pasid ? VFIO_DEVICE_ATTACH_PASID : 0,
                                                .pasid = with_pasid ? PASID : 0 };
    CHECK(!ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
}

/* HWPT_INVALIDATE of one page; entry_num comes back as the entries handled. */
static int invalidate(int ifd, uint32_t hwpt, uint32_t flags, uint32_t *entry_num)
{
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = GVA, .npages = 1, .flags = flags };
    struct iommu_hwpt_invalidate inv = { .size = sizeof inv, .hwpt_id = hwpt, .data_uptr = (uintptr_t)&e,
                                         .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, .entry_len = sizeof e,
                                         .entry_num = 1 };
    int rc = ioctl(ifd, IOMMU_HWPT_INVALIDATE, &inv);
    *entry_num = inv.entry_num;
    return rc;
}

static void set_dirty_tracking(int ifd, uint32_t hwpt, bool on)
{
    struct iommu_hwpt_set_dirty_tracking s = { .size = sizeof s, .hwpt_id = hwpt,
                                               .flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0 };
    CHECK(!ioctl(ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s), "IOMMU_HWPT_SET_DIRTY_TRACKING");
}

/* Whether the guest page at gpa is dirty in the bitmap of all of RAM (4 KiB a bit). */
static bool page_dirty(int ifd, uint32_t hwpt, uint64_t gpa, uint32_t flags)
{
    uint64_t bitmap[RAM_SIZE / 0x1000 / 64] = { 0 };
    struct iommu_hwpt_get_dirty_bitmap g = { .size = sizeof g, .hwpt_id = hwpt, .flags = flags, .iova = 0,
                                             .length = RAM_SIZE, .page_size = 0x1000, .data = (uintptr_t)bitmap };
    CHECK(!ioctl(ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), "IOMMU_HWPT_GET_DIRTY_BITMAP");
    uint64_t bit = gpa >> 12;
    return bitmap[bit / 64] >> (bit % 64) & 1;
}

/* The page the device wrote is dirty; NO_CLEAR leaves it so, a plain read clears it; a second
 * write makes it dirty again unless the harvest left a cached translation behind (dirty-lost). */
static void dirty_flow(int ifd, int ctl, uint32_t parent)
{
    char cmd[128], ans[512];
    CHECK(page_dirty(ifd, parent, DATA_GPA, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), "the written page is not dirty");
    CHECK(page_dirty(ifd, parent, DATA_GPA, 0), "NO_CLEAR cleared the page");
    CHECK(!page_dirty(ifd, parent, DATA_GPA, 0), "the read without NO_CLEAR left the page dirty");
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u write 0x%llx value=0x55\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strncmp(ans, "ok ", 3), "the device's second write failed: %s", ans);
    bool lost = strstr(ans, " dirty-lost") != NULL;
    CHECK(page_dirty(ifd, parent, DATA_GPA, 0) != lost, "the second write: dirty %s, answer %s", lost ? "" : "not ",
          ans);
}

static void bench(int ifd, uint32_t hwpt, long n)
{
    struct timespec t0, t1;
    uint32_t done;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        CHECK(!invalidate(ifd, hwpt, 0, &done), "HWPT_INVALIDATE in the loop");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
    printf("HWPT_INVALIDATE of one entry: %.0f ns per call (%ld calls)\n", ns, n);
}

int main(int argc, char **argv)
{
    int ifd = open("/dev/iommu", O_RDWR), dev = open("/dev/vfio/devices/vfio0", O_RDWR), ctl = control_open();
    CHECK(ifd >= 0 && dev >= 0, "open /dev/iommu and the device cdev");
    uint32_t dev_id = bind_device(dev, ifd);
    bool dirty = check_hw_info(ifd, dev_id);
    CHECK(dirty, "GET_HW_INFO reports no dirty tracking on a machine with ECAP.SSADS");

    struct iommu_ioas_alloc ioas = { .size = sizeof ioas };
    CHECK(!ioctl(ifd, IOMMU_IOAS_ALLOC, &ioas), "IOMMU_IOAS_ALLOC");
    uint8_t *ram = guest_ram_new();
    struct iommu_ioas_map map = { .size = sizeof map, .ioas_id = ioas.out_ioas_id, .user_va = (uintptr_t)ram,
                                  .length = RAM_SIZE, .iova = 0,
                                  .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE };
    CHECK(!ioctl(ifd, IOMMU_IOAS_MAP, &map), "IOMMU_IOAS_MAP");
    uint32_t parent = hwpt_alloc(ifd, dev_id, ioas.out_ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING, NULL);
    attach(dev, parent, false);

    guest_map(ram);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = PGTBL_GPA, .addr_width = 48 };
    uint32_t nested = hwpt_alloc(ifd, dev_id, parent, 0, &s1);
    attach(dev, nested, true);
    set_dirty_tracking(ifd, parent, true);

    char cmd[128], ans[512];
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u write 0x%llx value=0x1122334455667788\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strncmp(ans, "ok ", 3), "the device's write failed: %s", ans);
    CHECK(*guest_qword(ram, DATA_GPA) == UINT64_C(0x1122334455667788), "the write did not reach the guest's page");
    dirty_flow(ifd, ctl, parent);
    /* The last harvest flushed the IOTLB; the device reads the page back, which caches it again. */
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u read 0x%llx\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strncmp(ans, "ok ", 3) && strstr(ans, " value=0x55"), "the read-back failed: %s", ans);

    /* An entry with a flag the kernel does not know: -EOPNOTSUPP and no entry handled. */
    uint32_t done = 99;
    CHECK(invalidate(ifd, nested, 0x80, &done) == -1 && errno == EOPNOTSUPP && done == 0,
          "HWPT_INVALIDATE with an unknown flag: done %u", done);

    guest_unmap(ram);
    if (!LEAVE_OUT)
        CHECK(!invalidate(ifd, nested, 0, &done) && done == 1, "HWPT_INVALIDATE: done %u", done);
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u read 0x%llx\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(LEAVE_OUT || !strncmp(ans, "fault ", 6), "the unmapped page was still reachable: %s", ans);
    /* Disabling flushes the domain's IOTLB (intel_pasid_setup_dirty_tracking): only after the read,
     * or the bug twin's stale entry would go with it. */
    set_dirty_tracking(ifd, parent, false);
    if (argc == 3 && !strcmp(argv[1], "--bench"))
        bench(ifd, nested, atol(argv[2]));

    struct iommu_ioas_unmap unmap = { .size = sizeof unmap, .ioas_id = ioas.out_ioas_id, .iova = 0, .length = RAM_SIZE };
    CHECK(!ioctl(ifd, IOMMU_IOAS_UNMAP, &unmap) && unmap.length == RAM_SIZE, "IOMMU_IOAS_UNMAP");
    close(ctl);
    close(dev);
    close(ifd);
    return 0;
}
