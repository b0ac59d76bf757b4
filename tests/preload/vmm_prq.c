/*
 * vmm_prq.c: page requests through iommufd's fault queue, against the kernel's uAPI headers
 * only: a nested HWPT allocated with a fault queue, an ATS+PRI device (the machine's device 1)
 * touching a page the guest has not mapped, the queue's file polled readable, the
 * iommu_hwpt_pgfault read, the guest mapping the page, the response written, the retry served.
 */
#include <poll.h>
#include <sys/ioctl.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "guest.h"

#define MISSING_GVA (GVA + 0x1000)

int main(void)
{
    int ifd = open("/dev/iommu", O_RDWR), dev = open("/dev/vfio/devices/vfio1", O_RDWR), ctl = control_open();
    CHECK(ifd >= 0 && dev >= 0, "open /dev/iommu and the device cdev");
    struct vfio_device_bind_iommufd b = { .argsz = sizeof b, .iommufd = ifd };
    CHECK(!ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b), "VFIO_DEVICE_BIND_IOMMUFD");
    struct iommu_ioas_alloc ioas = { .size = sizeof ioas };
    CHECK(!ioctl(ifd, IOMMU_IOAS_ALLOC, &ioas), "IOMMU_IOAS_ALLOC");
    uint8_t *ram = guest_ram_new();
    struct iommu_ioas_map map = { .size = sizeof map, .ioas_id = ioas.out_ioas_id, .user_va = (uintptr_t)ram,
                                  .length = RAM_SIZE, .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                                                               IOMMU_IOAS_MAP_WRITEABLE };
    CHECK(!ioctl(ifd, IOMMU_IOAS_MAP, &map), "IOMMU_IOAS_MAP");
    struct iommu_hwpt_alloc parent = { .size = sizeof parent, .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
                                       .dev_id = b.out_devid, .pt_id = ioas.out_ioas_id };
    CHECK(!ioctl(ifd, IOMMU_HWPT_ALLOC, &parent), "IOMMU_HWPT_ALLOC (parent)");
    struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof at, .pt_id = parent.out_hwpt_id };
    CHECK(!ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "attach the RID");

    struct iommu_fault_alloc fa = { .size = sizeof fa };
    CHECK(!ioctl(ifd, IOMMU_FAULT_QUEUE_ALLOC, &fa), "IOMMU_FAULT_QUEUE_ALLOC");
    int qfd = (int)fa.out_fault_fd;
    guest_map(ram);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = PGTBL_GPA, .addr_width = 48 };
    struct iommu_hwpt_alloc nested = { .size = sizeof nested, .flags = IOMMU_HWPT_FAULT_ID_VALID,
                                       .dev_id = b.out_devid, .pt_id = parent.out_hwpt_id,
                                       .data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof s1,
                                       .data_uptr = (uintptr_t)&s1, .fault_id = fa.out_fault_id };
    CHECK(!ioctl(ifd, IOMMU_HWPT_ALLOC, &nested), "IOMMU_HWPT_ALLOC (nested, with the fault queue)");
    at = (struct vfio_device_attach_iommufd_pt){ .argsz = sizeof at, .flags = VFIO_DEVICE_ATTACH_PASID,
                                                 .pt_id = nested.out_hwpt_id, .pasid = PASID };
    CHECK(!ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), "attach the PASID");

    /* The control file's own errors: one answer line each, the program carries on. */
    char bad[128], why[512];
    const char *const wrong[][2] = {
        { "bogus\n", "error: unknown command" }, { "dma nosuch read 0x1000\n", "error: no such device" },
        { "dma 1 pasid=5 read\n", "error: no address" }, { "dma 1 size=3 read 0x1000\n", "error: unknown key" },
        { "dma 1 pasid=zz read 0x1000\n", "error: a key's value is not a number" },
        { "dma 1 sideways 0x1000\n", "error: expected read, write" },
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        snprintf(bad, sizeof bad, "%s", wrong[i][0]);
        control(ctl, bad, why, sizeof why);
        CHECK(!strncmp(why, wrong[i][1], strlen(wrong[i][1])), "'%s' answered '%s'", wrong[i][0], why);
    }

    struct pollfd pf = { .fd = qfd, .events = POLLIN };
    CHECK(poll(&pf, 1, 0) == 0, "the queue is empty");
    char cmd[128], ans[512];
    snprintf(cmd, sizeof cmd, "dma 1 pasid=%u write 0x%llx value=0x55\n", PASID, (unsigned long long)MISSING_GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strcmp(ans, "page-request\n"), "no page request: %s", ans);
    CHECK(poll(&pf, 1, 1000) == 1 && (pf.revents & POLLIN), "the queue polls readable");
    struct iommu_hwpt_pgfault rec;
    CHECK(read(qfd, &rec, sizeof rec) == (ssize_t)sizeof rec, "read of the fault record");
    CHECK(rec.dev_id == b.out_devid && rec.pasid == PASID && rec.addr == MISSING_GVA &&
          (rec.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) && (rec.perm & IOMMU_PGFAULT_PERM_WRITE),
          "the record: dev %u pasid %u addr 0x%llx", rec.dev_id, rec.pasid, (unsigned long long)rec.addr);
    CHECK(poll(&pf, 1, 0) == 0, "read once");
    CHECK(read(qfd, &rec, 3) == -1 && errno == ESPIPE, "a partial record");

    /* The guest maps the page, then the VMM answers. */
    *guest_qword(ram, 0x4000 + 8 * ((MISSING_GVA >> 12) & 511)) = (DATA_GPA + 0x1000) | FS_TABLE;
    struct iommu_hwpt_page_response resp = { .cookie = rec.cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS };
    CHECK(write(qfd, &resp, sizeof resp) == (ssize_t)sizeof resp, "write of the page response");
    CHECK(write(qfd, &resp, sizeof resp) == -1 && errno == EINVAL, "a cookie answered already");
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strncmp(ans, "ok ", 3), "the retry failed: %s", ans);
    CHECK(*guest_qword(ram, DATA_GPA + 0x1000) == 0x55, "the retried write did not reach the guest's page");
    close(qfd);
    close(ctl);
    close(dev);
    close(ifd);
    return 0;
}
