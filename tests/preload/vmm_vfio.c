/*
 * vmm_vfio.c: a VMM's vSVA flow on the seed's VFIO container API, written against
 * <linux/vfio.h> and <linux/iommu.h> only: the container and the group, the nesting IOMMU, the
 * guest's RAM mapped at GPA 0, a PASID, the guest's first-stage table bound to it, a device
 * write through it, then the guest unmaps the page and the VMM forwards the guest's
 * invalidation (NESTING_OP CACHE_INVLD) before the device reads again.
 *
 * Built twice: with LEAVE_OUT_INVALIDATION the forwarded invalidation is missing (the bug
 * twin), and the device's read is served from the IOTLB: the preload report names it.
 */
#include <sys/ioctl.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "guest.h"

static int open_container_with_group(int *group)
{
    int c = open("/dev/vfio/vfio", O_RDWR);
    CHECK(c >= 0, "open /dev/vfio/vfio");
    CHECK(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION");
    CHECK(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU) == 1, "VFIO_CHECK_EXTENSION(nesting)");
    CHECK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU) == -1 && errno == EINVAL, "SET_IOMMU before a group");
    *group = open("/dev/vfio/0", O_RDWR);
    CHECK(*group >= 0, "open /dev/vfio/0");
    struct vfio_group_status st = { .argsz = sizeof st };
    CHECK(!ioctl(*group, VFIO_GROUP_GET_STATUS, &st) && (st.flags & VFIO_GROUP_FLAGS_VIABLE), "GROUP_GET_STATUS");
    CHECK(!ioctl(*group, VFIO_GROUP_SET_CONTAINER, &c), "GROUP_SET_CONTAINER");
    CHECK(!ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU), "SET_IOMMU(nesting)");
    return c;
}

/* GET_INFO with room for the capability chain: the nesting capability must be in it. */
static void check_nesting_info(int c)
{
    union {
        struct vfio_iommu_type1_info info;
        unsigned char buf[4096];
    } u = { .info = { .argsz = sizeof u } };
    CHECK(!ioctl(c, VFIO_IOMMU_GET_INFO, &u), "IOMMU_GET_INFO");
    bool nesting = false;
    for (uint32_t off = (u.info.flags & VFIO_IOMMU_INFO_CAPS) ? u.info.cap_offset : 0; off && off < sizeof u;) {
        const struct vfio_info_cap_header *h = (const void *)(u.buf + off);
        nesting |= h->id == VFIO_IOMMU_TYPE1_INFO_CAP_NESTING;
        off = h->next;
    }
    CHECK(nesting, "GET_INFO has no nesting capability");
}

static void bind_guest_table(int c, uint32_t pasid)
{
    struct {
        struct vfio_iommu_type1_nesting_op op;
        struct iommu_gpasid_bind_data bind;
    } b = {
        .op = { .argsz = sizeof b, .flags = VFIO_IOMMU_NESTING_OP_BIND_PGTBL },
        .bind = { .argsz = sizeof b.bind, .version = IOMMU_GPASID_BIND_VERSION_1,
                  .format = IOMMU_PASID_FORMAT_INTEL_VTD, .gpgd = PGTBL_GPA, .hpasid = pasid, .addr_width = 48 },
    };
    CHECK(!ioctl(c, VFIO_IOMMU_NESTING_OP, &b), "NESTING_OP BIND_PGTBL");
}

/* The guest's page-selective IOTLB invalidation, forwarded as CACHE_INVLD. */
static void forward_invalidation(int c, uint32_t pasid)
{
    struct {
        struct vfio_iommu_type1_nesting_op op;
        struct iommu_cache_invalidate_info inv;
    } i = {
        .op = { .argsz = sizeof i, .flags = VFIO_IOMMU_NESTING_OP_CACHE_INVLD },
        .inv = { .argsz = sizeof i.inv, .version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
                 .cache = IOMMU_CACHE_INV_TYPE_IOTLB, .granularity = IOMMU_INV_GRANU_ADDR,
                 .granu.addr_info = { .flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = pasid, .addr = GVA,
                                      .granule_size = 4096, .nb_granules = 1 } },
    };
    CHECK(!ioctl(c, VFIO_IOMMU_NESTING_OP, &i), "NESTING_OP CACHE_INVLD");
}

int main(void)
{
    int group, c = open_container_with_group(&group), ctl = control_open();
    check_nesting_info(c);
    uint8_t *ram = guest_ram_new();
    struct vfio_iommu_type1_dma_map map = { .argsz = sizeof map, .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                            .vaddr = (uintptr_t)ram, .iova = 0, .size = RAM_SIZE };
    CHECK(!ioctl(c, VFIO_IOMMU_MAP_DMA, &map), "IOMMU_MAP_DMA");
    struct vfio_iommu_type1_pasid_request req = { .argsz = sizeof req, .flags = VFIO_IOMMU_FLAG_ALLOC_PASID,
                                                  .range = { .min = PASID, .max = PASID } };
    int pasid = ioctl(c, VFIO_IOMMU_PASID_REQUEST, &req);
    CHECK(pasid == (int)PASID, "PASID_REQUEST gave %d", pasid);
    guest_map(ram);
    bind_guest_table(c, PASID);

    char cmd[128], ans[512];
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u write 0x%llx value=0x1122334455667788\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(!strncmp(ans, "ok ", 3), "the device's write failed: %s", ans);
    CHECK(*guest_qword(ram, DATA_GPA) == UINT64_C(0x1122334455667788), "the write did not reach the guest's page");

    guest_unmap(ram);
    if (!LEAVE_OUT)
        forward_invalidation(c, PASID);
    snprintf(cmd, sizeof cmd, "dma 0 pasid=%u read 0x%llx\n", PASID, (unsigned long long)GVA);
    control(ctl, cmd, ans, sizeof ans);
    CHECK(LEAVE_OUT || !strncmp(ans, "fault ", 6), "the unmapped page was still reachable: %s", ans);
    struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof unmap, .iova = 0, .size = RAM_SIZE };
    CHECK(!ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap) && unmap.size == RAM_SIZE, "IOMMU_UNMAP_DMA");
    close(ctl);
    close(group);
    close(c);
    return 0;
}
