/*
 * vmm_pause.c: a VMM that does no DMA of its own, written against <linux/iommufd.h> and
 * <linux/vfio.h> only, for DMA that comes from outside the program (the library's socket or
 * its timed steps). It sets up the vSVA flow of vmm_iommufd.c (an IOAS with the guest's RAM,
 * a nesting parent, a nested HWPT with the guest's first-stage table attached to PASID 5), then
 * pauses; the guest unmaps its page and the VMM forwards the invalidation (HWPT_INVALIDATE),
 * then pauses again and tears everything down.
 *
 * A pause prints "paused NAME ..." on stdout and waits for a line on stdin (end of input: no
 * wait), so a harness can act between two of the program's calls. The second pause shows the
 * guest's data qword, where a device's write lands.
 *
 * Built twice: with LEAVE_OUT_INVALIDATION the HWPT_INVALIDATE is missing (the bug twin).
 */
#include <sys/ioctl.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "guest.h"

static void pause_here(const char *name, uint8_t *ram)
{
    char line[64];
    printf("paused %s data=0x%llx\n", name, (unsigned long long)*guest_qword(ram, DATA_GPA));
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        clearerr(stdin);
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

static void invalidate_page(int ifd, uint32_t hwpt)
{
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = GVA, .npages = 1 };
    struct iommu_hwpt_invalidate inv = { .size = sizeof inv, .hwpt_id = hwpt, .data_uptr = (uintptr_t)&e,
                                         .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, .entry_len = sizeof e,
                                         .entry_num = 1 };
    CHECK(!ioctl(ifd, IOMMU_HWPT_INVALIDATE, &inv) && inv.entry_num == 1, "IOMMU_HWPT_INVALIDATE");
}

int main(void)
{
    int ifd = open("/dev/iommu", O_RDWR), dev = open("/dev/vfio/devices/vfio0", O_RDWR);
    CHECK(ifd >= 0 && dev >= 0, "open /dev/iommu and the device cdev");
    struct vfio_device_bind_iommufd b = { .argsz = sizeof b, .iommufd = ifd };
    CHECK(!ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), "VFIO_DEVICE_BIND_IOMMUFD");

    struct iommu_ioas_alloc ioas = { .size = sizeof ioas };
    CHECK(!ioctl(ifd, IOMMU_IOAS_ALLOC, &ioas), "IOMMU_IOAS_ALLOC");
    uint8_t *ram = guest_ram_new();
    struct iommu_ioas_map map = { .size = sizeof map, .ioas_id = ioas.out_ioas_id, .user_va = (uintptr_t)ram,
                                  .length = RAM_SIZE, .iova = 0,
                                  .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE };
    CHECK(!ioctl(ifd, IOMMU_IOAS_MAP, &map), "IOMMU_IOAS_MAP");
    uint32_t parent = hwpt_alloc(ifd, b.out_devid, ioas.out_ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL);
    attach(dev, parent, false);
    guest_map(ram);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = PGTBL_GPA, .addr_width = 48 };
    uint32_t nested = hwpt_alloc(ifd, b.out_devid, parent, 0, &s1);
    attach(dev, nested, true);
    pause_here("mapped", ram);

    guest_unmap(ram);
    if (!LEAVE_OUT)
        invalidate_page(ifd, nested);
    pause_here("unmapped", ram);

    struct iommu_ioas_unmap unmap = { .size = sizeof unmap, .ioas_id = ioas.out_ioas_id, .iova = 0, .length = RAM_SIZE };
    CHECK(!ioctl(ifd, IOMMU_IOAS_UNMAP, &unmap) && unmap.length == RAM_SIZE, "IOMMU_IOAS_UNMAP");
    close(dev);
    close(ifd);
    return 0;
}
