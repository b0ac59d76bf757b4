/*
 * test_iommufd.c: the iommufd context of host/iommufd.h, call by call with the kernel's errnos
 * (uapi/linux/iommufd.h and the device cdev requests of uapi/linux/vfio.h), a nested vSVA flow
 * with HWPT_INVALIDATE, and the fault queue's read and write.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "host/iommufd.h"
#include "sim/iommu.h"
#include "walker/builder.h"

#define DEV_PLAIN 0x0010
#define DEV_ATS 0x0018
#define HOST_RAM UINT64_C(0x40000000)
#define RAM_SIZE UINT64_C(0x1000000)
#define GUEST_PT_GPA UINT64_C(0x100000)
#define GUEST_DATA_GPA UINT64_C(0x800000)
#define VA UINT64_C(0x400000)
#define PASID 7u

static struct vtd_iommu *io;
static struct vtd_iommufd *ctx;
static uint32_t ioas, dev_plain, dev_ats;

static void setup(void)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    io = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io);
    struct vtd_device_config d = { .sid = DEV_PLAIN, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io, &d), 0);
    struct vtd_device_config a = { .sid = DEV_ATS, .ats = true, .pri = true, .pasid_bits = 20,
                                   .devtlb = { .sets = 8, .ways = 4 } };
    cr_assert_eq(vtd_iommu_add_device(io, &a), 0);
    ctx = vtd_iommufd_new(io, NULL);
    cr_assert_not_null(ctx);
    struct vfio_device_bind_iommufd b = { .argsz = sizeof b, .iommufd = 3 };
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, &b), 0);
    dev_plain = b.out_devid;
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_ATS, &b), 0);
    dev_ats = b.out_devid;
    struct iommu_ioas_alloc ia = { .size = sizeof ia };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOC, &ia), 0);
    ioas = ia.out_ioas_id;
}

static void teardown(void)
{
    vtd_iommufd_free(ctx);
    vtd_iommu_free(io);
}

TestSuite(iommufd, .init = setup, .fini = teardown);

static int map(uint64_t iova, uint64_t va, uint64_t len, uint32_t flags, uint64_t *out)
{
    struct iommu_ioas_map m = { .size = sizeof m, .flags = flags, .ioas_id = ioas, .user_va = va, .length = len,
                                .iova = iova };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_IOAS_MAP, &m);
    if (out)
        *out = m.iova;
    return rc;
}

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

static int unmap(uint64_t iova, uint64_t len, uint64_t *done)
{
    struct iommu_ioas_unmap u = { .size = sizeof u, .ioas_id = ioas, .iova = iova, .length = len };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_IOAS_UNMAP, &u);
    if (done)
        *done = u.length;
    return rc;
}

static int hwpt(uint32_t dev, uint32_t pt, uint32_t flags, const struct iommu_hwpt_vtd_s1 *s1, uint32_t *id)
{
    struct iommu_hwpt_alloc a = { .size = sizeof a, .flags = flags, .dev_id = dev, .pt_id = pt };
    if (s1) {
        a.data_type = IOMMU_HWPT_DATA_VTD_S1;
        a.data_len = sizeof *s1;
        a.data_uptr = (uintptr_t)s1;
    }
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a);
    if (id)
        *id = a.out_hwpt_id;
    return rc;
}

static int attach(uint16_t sid, uint32_t pt, bool with_pasid, uint32_t pasid, uint32_t *out)
{
    struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof a, .flags = with_pasid ? VFIO_DEVICE_ATTACH_PASID : 0,
                                               .pt_id = pt, .pasid = pasid };
    int rc = vtd_iommufd_attach(ctx, sid, &a);
    if (out)
        *out = a.pt_id;
    return rc;
}

static int destroy(uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof d, .id = id };
    return vtd_iommufd_ioctl(ctx, IOMMU_DESTROY, &d);
}

/* ---- numbers (worked out by hand: _IO(';', n) is 0x3B00 + n) ---- */

Test(iommufd, ioctl_numbers)
{
    const unsigned long want[][2] = {
        { IOMMU_DESTROY, 0x3B80 }, { IOMMU_IOAS_ALLOC, 0x3B81 }, { IOMMU_IOAS_ALLOW_IOVAS, 0x3B82 },
        { IOMMU_IOAS_COPY, 0x3B83 }, { IOMMU_IOAS_IOVA_RANGES, 0x3B84 }, { IOMMU_IOAS_MAP, 0x3B85 },
        { IOMMU_IOAS_UNMAP, 0x3B86 }, { IOMMU_OPTION, 0x3B87 }, { IOMMU_VFIO_IOAS, 0x3B88 },
        { IOMMU_HWPT_ALLOC, 0x3B89 }, { IOMMU_GET_HW_INFO, 0x3B8A }, { IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3B8B },
        { IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3B8C }, { IOMMU_HWPT_INVALIDATE, 0x3B8D }, { IOMMU_FAULT_QUEUE_ALLOC, 0x3B8E },
        { VFIO_GROUP_GET_STATUS, 0x3B67 }, { VFIO_GROUP_SET_CONTAINER, 0x3B68 }, { VFIO_GROUP_UNSET_CONTAINER, 0x3B69 },
        { VFIO_DEVICE_BIND_IOMMUFD, 0x3B76 }, { VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3B77 },
        { VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3B78 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(want[i][0], want[i][1], "entry %zu: 0x%lx", i, want[i][0]);
    cr_assert_eq(IOMMU_HWPT_DATA_VTD_S1, 1);
    cr_assert_eq(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
    cr_assert_eq(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
    cr_assert_eq(IOMMU_HWPT_FAULT_ID_VALID, 4);
    cr_assert_eq(IOMMU_HWPT_ALLOC_PASID, 8);
}

/* ---- the ioctl entry ---- */

Test(iommufd, entry_checks_number_size_and_tail)
{
    cr_assert_eq(vtd_iommufd_ioctl(ctx, _IO(IOMMUFD_TYPE, 0x7f), &(struct iommu_option){ .size = 24 }), -ENOTTY);
    cr_assert_eq(vtd_iommufd_ioctl(NULL, IOMMU_DESTROY, NULL), -ENOTTY);
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_DESTROY, NULL), -EFAULT);
    struct iommu_destroy d = { .size = 4, .id = ioas };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_DESTROY, &d), -EINVAL, "size below the minimum");
    struct {
        struct iommu_ioas_alloc a;
        uint32_t more[3];
    } big = { .a = { .size = sizeof big } };
    big.more[2] = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOC, &big), -E2BIG, "a non-zero byte past the structure");
    big.more[2] = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOC, &big), -ENOMEM, "zero tail accepted; one IOAS a context");
    big.a.flags = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOC, &big), -EOPNOTSUPP);
    cr_assert_null(vtd_iommufd_new(NULL, NULL));
    cr_assert_not_null(vtd_iommufd_container(ctx));
    cr_assert_null(vtd_iommufd_container(NULL));
    vtd_iommufd_free(NULL);
}

Test(iommufd, destroy_refuses_objects_in_use)
{
    uint32_t parent;
    cr_assert_eq(destroy(999), -ENOENT);
    cr_assert_eq(destroy(0), -ENOENT);
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &parent), 0);
    cr_assert_eq(destroy(ioas), -EBUSY, "the HWPT holds the IOAS");
    cr_assert_eq(destroy(dev_plain), -EBUSY, "a bound device");
    cr_assert_eq(destroy(parent), 0);
    cr_assert_eq(destroy(parent), -ENOENT);
    cr_assert_eq(map(0, HOST_RAM, 0x2000, FIXED, NULL), 0);
    cr_assert_eq(destroy(ioas), 0, "its mappings go with it");
    cr_assert_eq(map(0, HOST_RAM, 0x2000, FIXED, NULL), -ENOENT);
}

/* ---- the IOAS ---- */

Test(iommufd, iova_ranges_narrow_when_a_device_attaches)
{
    struct iommu_iova_range r[2];
    struct iommu_ioas_iova_ranges q = { .size = sizeof q, .ioas_id = ioas, .num_iovas = 2, .allowed_iovas = (uintptr_t)r };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), 0);
    cr_assert_eq(q.num_iovas, 1);
    cr_assert_eq(r[0].start, 0);
    cr_assert_eq(r[0].last, UINT64_MAX);
    cr_assert_eq(q.out_iova_alignment, 4096);
    uint32_t pt;
    cr_assert_eq(attach(DEV_PLAIN, ioas, false, 0, &pt), 0);
    cr_assert_neq(pt, ioas, "an automatic HWPT comes back");
    q.num_iovas = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), -EMSGSIZE);
    cr_assert_eq(q.num_iovas, 2, "the number needed");
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), 0);
    cr_assert_eq(r[0].last, 0xfedfffff);
    cr_assert_eq(r[1].start, 0xfef00000);
    cr_assert_eq(r[1].last, (UINT64_C(1) << 48) - 1, "a 4-level second stage");
    q.allowed_iovas = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), -EFAULT);
    q.__reserved = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), -EOPNOTSUPP);
    q.__reserved = 0;
    q.ioas_id = pt;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_IOVA_RANGES, &q), -ENOENT, "a HWPT is not an IOAS");
    cr_assert_eq(map(0xfee00000, HOST_RAM, 0x1000, FIXED, NULL), -EADDRINUSE, "the interrupt window");
    /* The automatic HWPT holds the IOAS while the device is on it, and goes with the device. */
    cr_assert_eq(destroy(ioas), -EBUSY);
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof d };
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0);
    cr_assert_eq(destroy(pt), -ENOENT, "the automatic HWPT went with its last device");
    cr_assert_eq(destroy(ioas), 0);
}

Test(iommufd, allow_iovas_steers_allocation)
{
    struct iommu_iova_range r[2] = { { 0x10000000, 0x1fffffff }, { 0x30000000, 0x3fffffff } };
    struct iommu_ioas_allow_iovas a = { .size = sizeof a, .ioas_id = ioas, .num_iovas = 2, .allowed_iovas = (uintptr_t)r };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), 0);
    uint64_t iova;
    cr_assert_eq(map(0, HOST_RAM, 0x2000, RW, &iova), 0);
    cr_assert_eq(iova, 0x10000000);
    cr_assert_eq(map(0, HOST_RAM + 0x2000, 0x2000, RW, &iova), 0);
    cr_assert_eq(iova, 0x10002000, "after the first area");
    cr_assert_eq(map(0, HOST_RAM, 0x20000000, RW, &iova), -ENOSPC, "larger than any allowed range");
    r[1].start = 0x1fff0000;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -EINVAL, "overlapping ranges");
    r[1] = (struct iommu_iova_range){ 5, 4 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -EINVAL, "start past last");
    a.allowed_iovas = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -EFAULT);
    a.num_iovas = 5000;
    a.allowed_iovas = (uintptr_t)r;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -ENOMEM);
    a.__reserved = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -EOPNOTSUPP);
    a.__reserved = 0;
    a.ioas_id = 99;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), -ENOENT);
    a.ioas_id = ioas;
    a.num_iovas = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_ALLOW_IOVAS, &a), 0, "an empty list lifts the limit");
    cr_assert_eq(map(0, HOST_RAM + 0x4000, 0x1000, RW, &iova), 0);
    cr_assert_eq(iova, 0, "the lowest free address again");
}

Test(iommufd, map_errors_in_the_kernel_order)
{
    struct iommu_ioas_map m = { .size = sizeof m, .flags = FIXED | 8, .ioas_id = ioas, .user_va = HOST_RAM, .length = 0x1000 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_MAP, &m), -EOPNOTSUPP, "unknown flag");
    m.flags = FIXED;
    m.__reserved = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_MAP, &m), -EOPNOTSUPP, "__reserved");
    cr_assert_eq(map(UINT64_MAX, HOST_RAM, 0x1000, FIXED, NULL), -EOVERFLOW);
    cr_assert_eq(map(0, HOST_RAM, 0x1000, IOMMU_IOAS_MAP_FIXED_IOVA, NULL), -EINVAL, "neither read nor write");
    cr_assert_eq(map(0, HOST_RAM, 0, FIXED, NULL), -EINVAL, "length 0");
    cr_assert_eq(map(0, HOST_RAM + 1, 0x1000, FIXED, NULL), -EINVAL, "unaligned user_va");
    cr_assert_eq(map(0x800, HOST_RAM, 0x1000, FIXED, NULL), -EINVAL, "unaligned iova");
    cr_assert_eq(map(UINT64_MAX - 0xfff - 0x1000, HOST_RAM, 0x3000, FIXED, NULL), -EOVERFLOW, "iova + length");
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, FIXED, NULL), 0);
    cr_assert_eq(map(0x12000, HOST_RAM, 0x1000, FIXED, NULL), -EEXIST);
    cr_assert_eq(map(0x100000, 0x7000000000000000, 0x1000, FIXED, NULL), -EFAULT,
                 "memory that cannot be pinned (the container's MAP_DMA)");
    cr_assert_eq(map(0x100000, HOST_RAM, 0x1000, FIXED, NULL), 0, "nothing was kept of the failed map");
    uint64_t iova;
    cr_assert_eq(map(0, HOST_RAM, 0x10000, IOMMU_IOAS_MAP_READABLE, &iova), 0);
    cr_assert_eq(iova, 0, "the gap below the first area");
    cr_assert_eq(map(0, HOST_RAM, 0x1000, IOMMU_IOAS_MAP_WRITEABLE, &iova), 0);
    cr_assert_eq(iova, 0x14000, "after the areas");
}

Test(iommufd, unmap_takes_whole_areas)
{
    uint64_t done;
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, FIXED, NULL), 0);
    cr_assert_eq(map(0x20000, HOST_RAM + 0x4000, 0x4000, FIXED, NULL), 0);
    cr_assert_eq(unmap(0x10000, 0x1000, NULL), -ENOENT, "part of an area");
    cr_assert_eq(unmap(0x40000, 0x1000, NULL), -ENOENT, "nothing there");
    cr_assert_eq(unmap(0x10000, 0, NULL), -EINVAL);
    cr_assert_eq(unmap(UINT64_MAX, 1, NULL), -EOVERFLOW);
    cr_assert_eq(unmap(UINT64_MAX - 1, 4, NULL), -EOVERFLOW, "iova + length");
    struct iommu_ioas_unmap u = { .size = sizeof u, .ioas_id = 77, .iova = 0, .length = 0x1000 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_UNMAP, &u), -ENOENT);
    cr_assert_eq(unmap(0x10000, 0x4000, &done), 0);
    cr_assert_eq(done, 0x4000);
    cr_assert_eq(map(0x10000, HOST_RAM, 0x4000, FIXED, NULL), 0, "the range is free again");
    cr_assert_eq(unmap(0, UINT64_MAX, &done), 0);
    cr_assert_eq(done, 0x8000, "everything");
    cr_assert_eq(unmap(0, UINT64_MAX, &done), 0, "everything of nothing");
    cr_assert_eq(done, 0);
}

/* ---- HWPTs, GET_HW_INFO, dirty tracking ---- */

Test(iommufd, hwpt_alloc_errors)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = GUEST_PT_GPA, .addr_width = 48 };
    uint32_t plain, parent, nested;
    struct iommu_hwpt_alloc a = { .size = sizeof a, .dev_id = dev_plain, .pt_id = ioas, .__reserved = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EOPNOTSUPP, "__reserved");
    a.__reserved = 0;
    a.data_len = 24;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EINVAL, "data without a type");
    a.data_len = 0;
    a.data_type = IOMMU_HWPT_DATA_VTD_S1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EINVAL, "a type without data");
    cr_assert_eq(hwpt(99, ioas, 0, NULL, NULL), -ENOENT, "no such device");
    cr_assert_eq(hwpt(dev_plain, 99, 0, NULL, NULL), -ENOENT, "no such pt");
    cr_assert_eq(hwpt(dev_plain, ioas, 1u << 5, NULL, NULL), -EOPNOTSUPP, "unknown flag");
    cr_assert_eq(hwpt(dev_plain, ioas, 0, &s1, NULL), -EOPNOTSUPP, "driver data on a paging domain");
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &s1, NULL), -EOPNOTSUPP,
                 "driver data on a dirty-tracking paging domain");
    cr_assert_eq(hwpt(dev_plain, ioas, 0, NULL, &plain), 0);
    cr_assert_eq(hwpt(dev_plain, plain, 0, &s1, NULL), -EINVAL, "the parent is no nesting parent");
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &parent), 0);
    cr_assert_eq(hwpt(dev_plain, parent, IOMMU_HWPT_ALLOC_NEST_PARENT, &s1, NULL), -EOPNOTSUPP, "flags on a nested");
    cr_assert_eq(hwpt(dev_plain, parent, 0, NULL, NULL), -EOPNOTSUPP, "a nested HWPT without data");
    a = (struct iommu_hwpt_alloc){ .size = sizeof a, .dev_id = dev_plain, .pt_id = parent, .data_type = 9,
                                   .data_len = 24, .data_uptr = (uintptr_t)&s1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EOPNOTSUPP, "unknown data type");
    a.data_type = IOMMU_HWPT_DATA_VTD_S1;
    a.data_len = 16;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EINVAL, "data shorter than vtd_s1");
    a.data_len = 24;
    a.data_uptr = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -EFAULT);
    unsigned char longer[32] = { 0 };
    memcpy(longer, &s1, sizeof s1);
    longer[30] = 1;
    a.data_len = 32;
    a.data_uptr = (uintptr_t)longer;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -E2BIG, "a non-zero tail");
    longer[30] = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), 0, "a zero tail");
    nested = a.out_hwpt_id;
    cr_assert_eq(hwpt(dev_plain, nested, 0, &s1, NULL), -EINVAL, "a nested HWPT parents nothing");
    cr_assert_eq(hwpt(dev_plain, parent, IOMMU_HWPT_FAULT_ID_VALID, &s1, NULL), -ENOENT, "fault_id 0");
    a = (struct iommu_hwpt_alloc){ .size = offsetof(struct iommu_hwpt_alloc, fault_id), .flags = IOMMU_HWPT_FAULT_ID_VALID,
                                   .dev_id = dev_plain, .pt_id = ioas };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), -ENOENT, "a caller without fault_id");
    cr_assert_eq(destroy(parent), -EBUSY, "the nested HWPT holds its parent");
}

Test(iommufd, get_hw_info_fills_the_vtd_registers)
{
    struct iommu_hw_info_vtd vtd[2];
    memset(vtd, 0xee, sizeof vtd);
    struct iommu_hw_info h = { .size = sizeof h, .dev_id = dev_plain, .data_len = sizeof vtd, .data_uptr = (uintptr_t)vtd };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), 0);
    cr_assert_eq(h.data_len, sizeof vtd[0]);
    cr_assert_eq(h.out_data_type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    cr_assert_eq(h.out_max_pasid_log2, 20);
    cr_assert_eq(h.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING, "the default ECAP has SSADS");
    cr_assert_eq(vtd[0].cap_reg, vtd_iommu_caps(io)->cap);
    cr_assert_eq(vtd[0].ecap_reg, vtd_iommu_caps(io)->ecap);
    cr_assert_eq(vtd[0].flags, 0);
    cr_assert_eq(vtd[1].cap_reg, 0, "the rest of the buffer zeroed");
    memset(vtd, 0xee, sizeof vtd);
    h.data_len = 8;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), 0);
    cr_assert_eq(vtd[0].flags, 0);
    cr_assert_eq(vtd[0].cap_reg, UINT64_C(0xeeeeeeeeeeeeeeee), "only data_len bytes written");
    h.data_len = 0;
    h.data_uptr = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), 0, "data_len 0 asks for the size");
    cr_assert_eq(h.data_len, sizeof vtd[0]);
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), -EFAULT, "no buffer for the length");
    h.data_len = 0;
    h.dev_id = 99;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), -ENOENT);
    h.flags = 1;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_GET_HW_INFO, &h), -EOPNOTSUPP);
}

static int set_dirty(uint32_t id, uint32_t flags)
{
    struct iommu_hwpt_set_dirty_tracking s = { .size = sizeof s, .flags = flags, .hwpt_id = id };
    return vtd_iommufd_ioctl(ctx, IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static int get_dirty(uint32_t id, uint64_t iova, uint64_t len, uint32_t flags, uint64_t *bitmap)
{
    struct iommu_hwpt_get_dirty_bitmap g = { .size = sizeof g, .hwpt_id = id, .flags = flags, .iova = iova,
                                             .length = len, .page_size = 0x1000, .data = (uintptr_t)bitmap };
    return vtd_iommufd_ioctl(ctx, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
}

Test(iommufd, dirty_tracking_errors_in_the_kernel_order)
{
    uint32_t plain, dirty, nested;
    cr_assert_eq(map(0, HOST_RAM, 0x10000, FIXED, NULL), 0);
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &plain), 0);
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING, NULL, &dirty), 0,
                 "a dirty-tracking nesting parent with ECAP.SSADS");
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = GUEST_PT_GPA, .addr_width = 48 };
    cr_assert_eq(hwpt(dev_plain, dirty, 0, &s1, &nested), 0, "it still parents a nested HWPT");
    cr_assert_eq(set_dirty(dirty, 2), -EOPNOTSUPP, "unknown flag");
    struct iommu_hwpt_set_dirty_tracking s = { .size = sizeof s, .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
                                               .hwpt_id = dirty, .__reserved = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_SET_DIRTY_TRACKING, &s), -EOPNOTSUPP, "__reserved");
    cr_assert_eq(set_dirty(ioas, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT, "an IOAS");
    cr_assert_eq(set_dirty(nested, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT, "a nested HWPT");
    cr_assert_eq(set_dirty(plain, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), -EOPNOTSUPP,
                 "allocated without IOMMU_HWPT_ALLOC_DIRTY_TRACKING: no dirty ops");
    uint64_t bitmap = 0;
    cr_assert_eq(get_dirty(dirty, 0, 0x1000, 0, &bitmap), -EINVAL, "tracking is off");
    cr_assert_eq(set_dirty(dirty, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
    cr_assert(vtd_container_dirty_tracking(vtd_iommufd_container(ctx)));
    cr_assert_eq(set_dirty(dirty, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0, "enabling twice changes nothing");
    cr_assert_eq(get_dirty(dirty, 0, 0x1000, 4, &bitmap), -EOPNOTSUPP, "unknown flag");
    struct iommu_hwpt_get_dirty_bitmap r = { .size = sizeof r, .hwpt_id = dirty, .__reserved = 1, .length = 0x1000,
                                             .page_size = 0x1000, .data = (uintptr_t)&bitmap };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_GET_DIRTY_BITMAP, &r), -EOPNOTSUPP, "__reserved");
    cr_assert_eq(get_dirty(dirty, UINT64_MAX, 0x1000, 0, &bitmap), -EOVERFLOW);
    cr_assert_eq(get_dirty(dirty, 0, UINT64_MAX, 0, &bitmap), -EOVERFLOW);
    cr_assert_eq(get_dirty(99, 0, 0x1000, 0, &bitmap), -ENOENT);
    cr_assert_eq(get_dirty(nested, 0, 0x1000, 0, &bitmap), -ENOENT, "a nested HWPT");
    cr_assert_eq(get_dirty(dirty, 0x800, 0x1000, 0, &bitmap), -EINVAL, "iova not page aligned");
    cr_assert_eq(get_dirty(plain, 0x800, 0x1000, 0, &bitmap), -EINVAL, "the range before the dirty ops");
    cr_assert_eq(get_dirty(plain, 0, 0x1000, 0, &bitmap), -EOPNOTSUPP, "no dirty ops");
    cr_assert_eq(get_dirty(dirty, 0, 0x20000, 0, &bitmap), -EINVAL, "a hole in the range");
    cr_assert_eq(get_dirty(dirty, 0, 0x1000, 0, NULL), -EFAULT, "no bitmap");
    struct iommu_hwpt_get_dirty_bitmap g = { .size = sizeof g, .hwpt_id = dirty, .length = 0x1000,
                                             .page_size = 0x3000, .data = (uintptr_t)&bitmap };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), -EINVAL, "page size not a power of two");
    cr_assert_eq(get_dirty(dirty, 0, 0x1000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, 0, "no DMA, nothing dirty");
    cr_assert_eq(set_dirty(dirty, 0), 0);
    cr_assert_not(vtd_container_dirty_tracking(vtd_iommufd_container(ctx)));
    cr_assert_eq(get_dirty(dirty, 0, 0x1000, 0, &bitmap), -EINVAL, "tracking is off again");
}

static int rid_dma(uint16_t sid, uint64_t addr, unsigned acc, struct vtd_dma_result *r)
{
    struct vtd_request req = { .sid = sid, .addr = addr, .access = acc };
    return vtd_iommu_dma(io, &req, r);
}

Test(iommufd, dirty_bitmap_shows_the_pages_a_dma_wrote)
{
    uint32_t dirty;
    cr_assert_eq(map(0, HOST_RAM, 0x10000, FIXED, NULL), 0);
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, NULL, &dirty), 0);
    cr_assert_eq(attach(DEV_PLAIN, dirty, false, 0, NULL), 0);
    struct vtd_dma_result r;
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x2010, VTD_ACC_W, &r), 0, "a write before tracking");
    cr_assert_eq(set_dirty(dirty, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
    uint64_t bitmap = 0;
    cr_assert_eq(get_dirty(dirty, 0, 0x10000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, 0, "enabling cleared what came before");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x3008, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + 0x3008);
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x5000, VTD_ACC_R, &r), 0, "a read dirties nothing");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0xf000, VTD_ACC_W, &r), 0);
    cr_assert_eq(get_dirty(dirty, 0, 0x10000, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, &bitmap), 0);
    cr_assert_eq(bitmap, (UINT64_C(1) << 3) | (UINT64_C(1) << 15), "pages 3 and 15: %#llx", (unsigned long long)bitmap);
    bitmap = 0;
    cr_assert_eq(get_dirty(dirty, 0, 0x10000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, (UINT64_C(1) << 3) | (UINT64_C(1) << 15), "NO_CLEAR left the D bits set");
    bitmap = 0;
    cr_assert_eq(get_dirty(dirty, 0, 0x10000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, 0, "the read without NO_CLEAR cleared them");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x3000, VTD_ACC_W, &r), 0);
    cr_assert_not(r.lost.dirty, "the harvest flushed the cached translation");
    cr_assert_eq(get_dirty(dirty, 0x2000, 0x2000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, 2, "bit 0 is the range's first page: 0x3000 is bit 1");
    cr_assert_eq(set_dirty(dirty, 0), 0);
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x4000, VTD_ACC_W, &r), 0);
    cr_assert_eq(set_dirty(dirty, IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
    bitmap = 0;
    cr_assert_eq(get_dirty(dirty, 0, 0x10000, 0, &bitmap), 0);
    cr_assert_eq(bitmap, 0, "a write while tracking was off is not reported");
}

/* An IOMMU without ECAP.SSADS: no dirty-tracking capability, no dirty-tracking domain. */
Test(iommufd, dirty_tracking_without_ssads)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.ecap &= ~VTD_ECAP_SSADS;
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_device_config d = { .sid = DEV_PLAIN, .pasid_bits = 20 };
    cr_assert_eq(vtd_iommu_add_device(io2, &d), 0);
    struct vtd_iommufd *ctx2 = vtd_iommufd_new(io2, NULL);
    cr_assert_not_null(ctx2);
    struct vfio_device_bind_iommufd b = { .argsz = sizeof b, .iommufd = 3 };
    cr_assert_eq(vtd_iommufd_bind(ctx2, DEV_PLAIN, &b), 0);
    struct iommu_ioas_alloc ia = { .size = sizeof ia };
    cr_assert_eq(vtd_iommufd_ioctl(ctx2, IOMMU_IOAS_ALLOC, &ia), 0);
    struct iommu_hw_info h = { .size = sizeof h, .dev_id = b.out_devid };
    cr_assert_eq(vtd_iommufd_ioctl(ctx2, IOMMU_GET_HW_INFO, &h), 0);
    cr_assert_eq(h.out_capabilities, 0);
    struct iommu_hwpt_alloc a = { .size = sizeof a, .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING, .dev_id = b.out_devid,
                                  .pt_id = ia.out_ioas_id };
    cr_assert_eq(vtd_iommufd_ioctl(ctx2, IOMMU_HWPT_ALLOC, &a), -EOPNOTSUPP, "no IOMMU_CAP_DIRTY_TRACKING");
    a.flags = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx2, IOMMU_HWPT_ALLOC, &a), 0);
    struct iommu_hwpt_set_dirty_tracking s = { .size = sizeof s, .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
                                               .hwpt_id = a.out_hwpt_id };
    cr_assert_eq(vtd_iommufd_ioctl(ctx2, IOMMU_HWPT_SET_DIRTY_TRACKING, &s), -EOPNOTSUPP);
    vtd_iommufd_free(ctx2);
    vtd_iommu_free(io2);
}

/* ---- the device cdev ---- */

Test(iommufd, bind_and_attach_errors)
{
    struct vfio_device_bind_iommufd b = { .argsz = 12, .iommufd = 3 };
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, NULL), -EFAULT);
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, &b), -EINVAL, "argsz");
    b.argsz = sizeof b;
    b.flags = 1;
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, &b), -EINVAL, "flags");
    b.flags = 0;
    b.iommufd = -1;
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, &b), -EINVAL, "a negative fd");
    b.iommufd = 3;
    cr_assert_eq(vtd_iommufd_bind(NULL, DEV_PLAIN, &b), -EBADF, "not an iommufd");
    cr_assert_eq(vtd_iommufd_bind(ctx, 0x99, &b), -ENODEV);
    cr_assert_eq(vtd_iommufd_bind(ctx, DEV_PLAIN, &b), -EINVAL, "bound already");

    struct vfio_device_attach_iommufd_pt a = { .argsz = 8, .pt_id = ioas };
    cr_assert_eq(vtd_iommufd_attach(ctx, DEV_PLAIN, NULL), -EFAULT);
    cr_assert_eq(vtd_iommufd_attach(NULL, DEV_PLAIN, &a), -EFAULT);
    cr_assert_eq(vtd_iommufd_attach(ctx, DEV_PLAIN, &a), -EINVAL, "argsz");
    a.argsz = 12;
    a.flags = 2;
    cr_assert_eq(vtd_iommufd_attach(ctx, DEV_PLAIN, &a), -EINVAL, "flags");
    a.flags = VFIO_DEVICE_ATTACH_PASID;
    cr_assert_eq(vtd_iommufd_attach(ctx, DEV_PLAIN, &a), -EINVAL, "argsz without room for the PASID");
    a.flags = 0;
    cr_assert_eq(vtd_iommufd_attach(ctx, 0x99, &a), -EINVAL, "not bound");
    cr_assert_eq(attach(DEV_PLAIN, 99, false, 0, NULL), -ENOENT);
    cr_assert_eq(attach(DEV_PLAIN, dev_ats, false, 0, NULL), -EINVAL, "a device is not a page table");
    uint32_t parent, nested, other;
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &parent), 0);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = GUEST_PT_GPA, .addr_width = 48 };
    cr_assert_eq(hwpt(dev_plain, parent, 0, &s1, &nested), 0);
    cr_assert_eq(attach(DEV_PLAIN, nested, false, 0, NULL), -EOPNOTSUPP, "a RID on a nested HWPT");
    cr_assert_eq(attach(DEV_PLAIN, parent, false, 0, &other), 0);
    cr_assert_eq(other, parent, "a HWPT comes back as itself");
    cr_assert_eq(attach(DEV_PLAIN, parent, false, 0, NULL), 0, "again: a replacement");
    cr_assert_eq(attach(DEV_PLAIN, nested, true, 0, NULL), -EINVAL, "PASID 0");
    cr_assert_eq(attach(DEV_PLAIN, nested, true, 1u << 20, NULL), -EINVAL, "beyond the device's PASID width");
    cr_assert_eq(attach(DEV_PLAIN, 99, true, PASID, NULL), -ENOENT);
    cr_assert_eq(attach(DEV_PLAIN, parent, true, PASID, NULL), -EOPNOTSUPP, "a PASID on a paging HWPT");
    cr_assert_eq(attach(DEV_PLAIN, dev_ats, true, PASID, NULL), -EINVAL);
    s1.addr_width = 39;
    cr_assert_eq(hwpt(dev_plain, parent, 0, &s1, &other), 0, "checked when attached");
    cr_assert_eq(attach(DEV_PLAIN, other, true, PASID, NULL), -EINVAL, "intel_pasid_setup_nested: the width");
    cr_assert_eq(attach(DEV_PLAIN, nested, true, PASID, NULL), 0);
    cr_assert_eq(attach(DEV_PLAIN, nested, true, PASID, NULL), -EBUSY, "attached already");
    cr_assert_eq(attach(DEV_ATS, other, true, PASID, NULL), -EBUSY, "the PASID has another stage 1");
    cr_assert_eq(attach(DEV_ATS, nested, true, PASID, NULL), 0, "a second device on the same HWPT and PASID");
    cr_assert_eq(destroy(nested), -EBUSY, "attached");

    struct vfio_device_detach_iommufd_pt d = { .argsz = 4 };
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, NULL), -EFAULT);
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), -EINVAL, "argsz");
    d.argsz = 8;
    d.flags = 2;
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), -EINVAL, "flags");
    d.flags = VFIO_DEVICE_DETACH_PASID;
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), -EINVAL, "argsz without the PASID");
    d.argsz = sizeof d;
    cr_assert_eq(vtd_iommufd_detach(ctx, 0x99, &d), -EINVAL, "not bound");
    d.pasid = PASID;
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0);
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0, "a PASID not attached: nothing to do");
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_ATS, &d), 0, "the last user unbinds");
    cr_assert_eq(destroy(nested), 0);
    d.flags = 0;
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0);
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0, "the RID again");
    cr_assert_eq(destroy(parent), -EBUSY, "the HWPT with the bad width still holds it");
}

/* ---- a nested vSVA flow ---- */

struct flow {
    struct vtd_pt fs;
    uint32_t parent, nested;
};

static void flow_setup(struct flow *f, uint32_t fault_id)
{
    cr_assert_eq(map(0, HOST_RAM, RAM_SIZE, FIXED, NULL), 0);
    cr_assert_eq(hwpt(dev_plain, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, &f->parent), 0);
    cr_assert_eq(attach(DEV_PLAIN, f->parent, false, 0, NULL), 0);
    cr_assert_eq(attach(DEV_ATS, f->parent, false, 0, NULL), 0);
    struct vtd_container *c = vtd_iommufd_container(ctx);
    cr_assert_eq(vtd_pt_init(&f->fs, vtd_container_builder(c), VTD_PT_FS, 4, vtd_container_ss(c), GUEST_PT_GPA,
                             0x100000), 0);
    cr_assert_eq(vtd_pt_map(&f->fs, VA, GUEST_DATA_GPA, 0x4000, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD), 0);
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = f->fs.root, .addr_width = 48 };
    cr_assert_eq(hwpt(dev_plain, f->parent, IOMMU_HWPT_FAULT_ID_VALID, NULL, NULL), -EOPNOTSUPP,
                 "a nested HWPT needs its data, before its fault queue is looked up");
    struct iommu_hwpt_alloc a = { .size = sizeof a, .flags = fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0,
                                  .dev_id = dev_plain, .pt_id = f->parent, .data_type = IOMMU_HWPT_DATA_VTD_S1,
                                  .data_len = sizeof s1, .data_uptr = (uintptr_t)&s1, .fault_id = fault_id };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_ALLOC, &a), 0);
    f->nested = a.out_hwpt_id;
}

static int dma(uint16_t sid, uint64_t addr, unsigned acc, struct vtd_dma_result *r)
{
    struct vtd_request req = { .sid = sid, .pasid_valid = true, .pasid = PASID, .addr = addr, .access = acc };
    return vtd_iommu_dma(io, &req, r);
}

static int invalidate(uint32_t id, const void *entries, uint32_t entry_len, uint32_t *num)
{
    struct iommu_hwpt_invalidate inv = { .size = sizeof inv, .hwpt_id = id, .data_uptr = (uintptr_t)entries,
                                         .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, .entry_len = entry_len,
                                         .entry_num = *num };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_HWPT_INVALIDATE, &inv);
    *num = inv.entry_num;
    return rc;
}

Test(iommufd, nested_flow_with_hwpt_invalidate)
{
    struct flow f;
    flow_setup(&f, 0);
    struct iommu_hwpt_vtd_s1_invalidate e[2] = { { .addr = VA, .npages = 1 }, { .addr = VA, .npages = 1, .flags = 0x10 } };
    uint32_t n = 2;
    cr_assert_eq(invalidate(f.nested, e, sizeof e[0], &n), -EOPNOTSUPP, "the second entry's flag");
    cr_assert_eq(n, 1, "no PASID attached yet: the first entry counts as handled");
    cr_assert_eq(attach(DEV_PLAIN, f.nested, true, PASID, NULL), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_PLAIN, VA + 0x10, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + GUEST_DATA_GPA + 0x10);
    cr_assert_eq(vtd_pt_unmap(&f.fs, VA, 0x1000), 0);
    cr_assert_eq(dma(DEV_PLAIN, VA + 0x10, VTD_ACC_R, &r), 0);
    cr_assert(r.stale, "left stale until the VMM forwards the invalidation");
    n = 2;
    cr_assert_eq(invalidate(f.nested, e, sizeof e[0], &n), -EOPNOTSUPP);
    cr_assert_eq(n, 1, "entry_num written back on the error");
    cr_assert_neq(dma(DEV_PLAIN, VA + 0x10, VTD_ACC_R, &r), 0, "the first entry took effect");
    cr_assert_not(r.stale);
    /* The errors before any entry. */
    struct iommu_hwpt_invalidate inv = { .size = sizeof inv, .hwpt_id = f.nested, .data_uptr = (uintptr_t)e,
                                         .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, .entry_len = sizeof e[0],
                                         .entry_num = 1, .__reserved = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_INVALIDATE, &inv), -EOPNOTSUPP);
    cr_assert_eq(inv.entry_num, 0);
    n = 1;
    cr_assert_eq(invalidate(f.nested, NULL, sizeof e[0], &n), -EINVAL, "entries without a buffer");
    n = 1;
    cr_assert_eq(invalidate(f.nested, e, 0, &n), -EINVAL, "entries without a length");
    n = 1;
    cr_assert_eq(invalidate(f.parent, e, sizeof e[0], &n), -ENOENT, "not a nested HWPT");
    inv = (struct iommu_hwpt_invalidate){ .size = sizeof inv, .hwpt_id = f.nested, .data_uptr = (uintptr_t)e,
                                          .data_type = 3, .entry_len = sizeof e[0], .entry_num = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_HWPT_INVALIDATE, &inv), -EINVAL, "data type");
    n = 0;
    cr_assert_eq(invalidate(f.nested, NULL, 0, &n), 0, "nothing to do");
    /* A second device on the same PASID: one flush serves both. */
    cr_assert_eq(attach(DEV_ATS, f.nested, true, PASID, NULL), 0);
    n = 1;
    cr_assert_eq(invalidate(f.nested, e, sizeof e[0], &n), 0);
    cr_assert_eq(n, 1);
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof d, .flags = VFIO_DEVICE_DETACH_PASID, .pasid = PASID };
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_PLAIN, &d), 0);
    cr_assert_eq(vtd_iommufd_detach(ctx, DEV_ATS, &d), 0);
    n = 1;
    cr_assert_eq(invalidate(f.nested, e, 8, &n), -EINVAL, "an entry shorter than the structure");
}

/* ---- the fault queue ---- */

Test(iommufd, fault_queue_delivers_page_requests)
{
    struct iommu_fault_alloc fa = { .size = sizeof fa, .flags = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_FAULT_QUEUE_ALLOC, &fa), -EOPNOTSUPP);
    fa.flags = 0;
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
    uint32_t q = fa.out_fault_id;
    cr_assert_eq(fa.out_fault_fd, UINT32_MAX, "the descriptor is the caller's to make");
    struct flow f;
    flow_setup(&f, q);
    cr_assert_eq(destroy(q), -EBUSY, "the HWPT names the queue");
    cr_assert_eq(attach(DEV_ATS, f.nested, true, PASID, NULL), 0);
    cr_assert_not(vtd_iommufd_fault_readable(ctx, q));
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_PLAIN, VA + 0x10000, VTD_ACC_R, &r), VTD_FR_FS_P, "an unrecoverable fault: no record");
    cr_assert_eq(dma(DEV_ATS, VA + 0x10008, VTD_ACC_W, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert(vtd_iommufd_fault_readable(ctx, q));
    cr_assert_not(vtd_iommufd_fault_readable(NULL, q));
    struct iommu_hwpt_pgfault pf[2];
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf, sizeof pf[0] + 1), -ESPIPE, "whole records only");
    cr_assert_eq(vtd_iommufd_fault_read(ctx, 99, pf, sizeof pf), -ENOENT);
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf, sizeof pf), (long)sizeof pf[0]);
    cr_assert_eq(pf[0].flags, IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE);
    cr_assert_eq(pf[0].dev_id, dev_ats);
    cr_assert_eq(pf[0].pasid, PASID);
    cr_assert_eq(pf[0].perm, IOMMU_PGFAULT_PERM_WRITE);
    cr_assert_eq(pf[0].addr, VA + 0x10000);
    cr_assert_not(vtd_iommufd_fault_readable(ctx, q));
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf, sizeof pf), 0, "read once");
    struct iommu_hwpt_page_response resp = { .cookie = pf[0].cookie, .code = 7 };
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, 5), -ESPIPE);
    cr_assert_eq(vtd_iommufd_fault_write(ctx, 99, &resp, sizeof resp), -ENOENT);
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, sizeof resp), -EINVAL, "code");
    resp.code = IOMMUFD_PAGE_RESP_SUCCESS;
    resp.cookie++;
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, sizeof resp), -EINVAL, "cookie");
    resp.cookie--;
    cr_assert_eq(vtd_pt_map(&f.fs, VA + 0x10000, GUEST_DATA_GPA + 0x10000, 0x1000, 12,
                            VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, sizeof resp), (long)sizeof resp);
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, sizeof resp), -EINVAL, "answered already");
    cr_assert_eq(dma(DEV_ATS, VA + 0x10008, VTD_ACC_W, &r), 0, "the retry is translated");
    cr_assert_eq(r.x.out, HOST_RAM + GUEST_DATA_GPA + 0x10008);
    /* An INVALID answer: the device gives up. */
    cr_assert_eq(dma(DEV_ATS, VA + 0x20000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf, sizeof pf), (long)sizeof pf[0]);
    resp = (struct iommu_hwpt_page_response){ .cookie = pf[0].cookie, .code = IOMMUFD_PAGE_RESP_INVALID };
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, &resp, sizeof resp), (long)sizeof resp);
}

Test(iommufd, fault_queue_keeps_what_does_not_fit)
{
    struct iommu_fault_alloc fa = { .size = sizeof fa };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
    uint32_t q = fa.out_fault_id;
    struct flow f;
    flow_setup(&f, q);
    cr_assert_eq(attach(DEV_ATS, f.nested, true, PASID, NULL), 0);
    /* Ten page requests: more records than fit in one read. */
    struct vtd_dma_result r;
    for (unsigned i = 0; i < 10; i++)
        cr_assert_eq(dma(DEV_ATS, VA + 0x100000 + i * 0x1000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST, "%u", i);
    struct iommu_hwpt_pgfault pf[10];
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf, 3 * sizeof pf[0]), (long)(3 * sizeof pf[0]));
    cr_assert_eq(pf[2].addr, VA + 0x102000, "oldest first");
    cr_assert(vtd_iommufd_fault_readable(ctx, q), "seven wait");
    cr_assert_eq(vtd_iommufd_fault_read(ctx, q, pf + 3, 7 * sizeof pf[0]), (long)(7 * sizeof pf[0]));
    cr_assert_eq(pf[9].addr, VA + 0x109000);
    /* Two answers, the second with a cookie never delivered: the first is taken. */
    struct iommu_hwpt_page_response resp[2] = { { pf[0].cookie, IOMMUFD_PAGE_RESP_INVALID }, { 9999, 0 } };
    cr_assert_eq(vtd_iommufd_fault_write(ctx, q, resp, sizeof resp), (long)sizeof resp[0]);
    /* Another queue's reader sees none of them. */
    struct iommu_fault_alloc fb = { .size = sizeof fb };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_FAULT_QUEUE_ALLOC, &fb), 0);
    cr_assert_eq(vtd_iommufd_fault_write(ctx, fb.out_fault_id, &resp[0], sizeof resp[0]), -EINVAL, "not its cookie");
    cr_assert_eq(dma(DEV_ATS, VA + 0x200000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_iommufd_fault_read(ctx, fb.out_fault_id, pf, sizeof pf), 0);
    cr_assert(vtd_iommufd_fault_readable(ctx, q), "the record waits for its own queue");
    cr_assert_not(vtd_iommufd_fault_readable(ctx, fb.out_fault_id));
}

Test(iommufd, page_requests_without_a_queue_are_not_delivered)
{
    struct iommu_fault_alloc fa = { .size = sizeof fa };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
    struct flow f;
    flow_setup(&f, 0); /* the nested HWPT names no queue */
    cr_assert_eq(attach(DEV_ATS, f.nested, true, PASID, NULL), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(DEV_ATS, VA + 0x100000, VTD_ACC_W, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_not(vtd_iommufd_fault_readable(ctx, fa.out_fault_id));
    struct iommu_hwpt_pgfault pf;
    cr_assert_eq(vtd_iommufd_fault_read(ctx, fa.out_fault_id, &pf, sizeof pf), 0);
    cr_assert_eq(destroy(fa.out_fault_id), 0, "no HWPT names it");
}

/* ---- IOMMU_OPTION, IOMMU_VFIO_IOAS, IOMMU_IOAS_COPY ---- */

static int option(uint32_t id, uint16_t op, uint32_t object, uint64_t *val)
{
    struct iommu_option o = { .size = sizeof o, .option_id = id, .op = op, .object_id = object, .val64 = *val };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_OPTION, &o);
    *val = o.val64;
    return rc;
}

Test(iommufd, option_layouts)
{
    cr_assert_eq(sizeof(struct iommu_option), 24);
    cr_assert_eq(offsetof(struct iommu_option, op), 8);
    cr_assert_eq(offsetof(struct iommu_option, object_id), 12);
    cr_assert_eq(offsetof(struct iommu_option, val64), 16);
    cr_assert_eq(sizeof(struct iommu_vfio_ioas), 12);
    cr_assert_eq(offsetof(struct iommu_vfio_ioas, op), 8);
    cr_assert_eq(sizeof(struct iommu_ioas_copy), 40);
    cr_assert_eq(offsetof(struct iommu_ioas_copy, src_iova), 32);
    cr_assert_eq(IOMMU_IOAS_COPY, 0x3b83);
    cr_assert_eq(IOMMU_OPTION, 0x3b87);
    cr_assert_eq(IOMMU_VFIO_IOAS, 0x3b88);
}

Test(iommufd, option_rlimit_mode)
{
    uint64_t v = 7;
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &v), 0);
    cr_assert_eq(v, 0, "charged to the user by default");
    v = 1;
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v), -EBUSY, "the context holds objects");
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, ioas, &v), -EOPNOTSUPP, "an object ID");
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, 2, 0, &v), -EOPNOTSUPP, "no such op");
    cr_assert_eq(option(9, IOMMU_OPTION_OP_GET, 0, &v), -EOPNOTSUPP, "no such option");
    struct iommu_option r = { .size = sizeof r, .op = IOMMU_OPTION_OP_GET, .__reserved = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_OPTION, &r), -EOPNOTSUPP, "__reserved");
    r.size = offsetof(struct iommu_option, val64);
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_OPTION, &r), -EINVAL, "size without val64");

    struct vtd_iommufd *empty = vtd_iommufd_new(io, NULL), *keep = ctx;
    cr_assert_not_null(empty);
    ctx = empty;
    v = 2;
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v), -EINVAL);
    v = 1;
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &v), 0);
    v = 0;
    cr_assert_eq(option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &v), 0);
    cr_assert_eq(v, 1, "charged to the mm now");
    ctx = keep;
    vtd_iommufd_free(empty);
}

Test(iommufd, option_huge_pages)
{
    uint64_t v = 0;
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &v), 0);
    cr_assert_eq(v, 1, "large pages allowed by default");
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, 99, &v), -ENOENT);
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, dev_plain, &v), -ENOENT, "not an IOAS");
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, 3, ioas, &v), -EOPNOTSUPP);
    v = 2;
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), -EINVAL);
    v = 0;
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), 0, "nothing attached");
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &v), 0);
    cr_assert_eq(v, 0);
    v = 1;
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), 0);
    cr_assert_eq(map(0, HOST_RAM, 0x10000, FIXED, NULL), 0);
    cr_assert_eq(attach(DEV_PLAIN, ioas, false, 0, NULL), 0);
    v = 0;
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), -EINVAL,
                 "a domain with pages mapped in it");
    cr_assert_eq(unmap(0, 0x10000, NULL), 0);
    cr_assert_eq(option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v), 0, "nothing mapped any more");
}

static int vfio_ioas(uint16_t op, uint32_t *id)
{
    struct iommu_vfio_ioas c = { .size = sizeof c, .ioas_id = *id, .op = op };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_VFIO_IOAS, &c);
    *id = c.ioas_id;
    return rc;
}

Test(iommufd, vfio_compat_ioas)
{
    uint32_t id = 0;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_GET, &id), -ENODEV, "none set");
    id = 99;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_SET, &id), -ENOENT);
    id = dev_plain;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_SET, &id), -ENOENT, "not an IOAS");
    id = ioas;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_SET, &id), 0);
    id = 0;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_GET, &id), 0);
    cr_assert_eq(id, ioas);
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_CLEAR, &id), 0);
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_GET, &id), -ENODEV, "cleared");
    cr_assert_eq(vfio_ioas(7, &id), -EOPNOTSUPP);
    struct iommu_vfio_ioas r = { .size = sizeof r, .op = IOMMU_VFIO_IOAS_GET, .__reserved = 1 };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_VFIO_IOAS, &r), -EOPNOTSUPP, "__reserved");
    id = ioas;
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_SET, &id), 0);
    cr_assert_eq(destroy(ioas), 0);
    cr_assert_eq(vfio_ioas(IOMMU_VFIO_IOAS_GET, &id), -ENODEV, "the compat IOAS went with its destruction");
}

static int copy(uint32_t flags, uint32_t src_ioas, uint64_t src, uint64_t len, uint64_t *dst)
{
    struct iommu_ioas_copy c = { .size = sizeof c, .flags = flags, .dst_ioas_id = ioas, .src_ioas_id = src_ioas,
                                 .length = len, .dst_iova = *dst, .src_iova = src };
    int rc = vtd_iommufd_ioctl(ctx, IOMMU_IOAS_COPY, &c);
    *dst = c.dst_iova;
    return rc;
}

Test(iommufd, ioas_copy_errors_in_the_kernel_order)
{
    uint64_t dst = 0x100000;
    cr_assert_eq(map(0, HOST_RAM, 0x4000, FIXED, NULL), 0);
    cr_assert_eq(copy(FIXED | 0x100, ioas, 0, 0x1000, &dst), -EOPNOTSUPP, "unknown flag");
    cr_assert_eq(copy(FIXED, ioas, 0, UINT64_MAX, &dst), -EOVERFLOW);
    cr_assert_eq(copy(FIXED, 99, 0, 0x1000, &dst), -ENOENT, "no source IOAS");
    cr_assert_eq(copy(FIXED, ioas, 0, 0, &dst), -EINVAL, "no length");
    cr_assert_eq(copy(FIXED, ioas, UINT64_MAX - 0xfff, 0x2000, &dst), -EOVERFLOW, "the range wraps");
    cr_assert_eq(copy(FIXED, ioas, 0x2000, 0x4000, &dst), -ENOENT, "a hole after the area");
    cr_assert_eq(copy(FIXED, ioas, 0x10000, 0x1000, &dst), -ENOENT, "nothing mapped there");
    struct iommu_ioas_copy c = { .size = sizeof c, .flags = FIXED, .dst_ioas_id = 99, .src_ioas_id = ioas,
                                 .length = 0x1000, .dst_iova = dst };
    cr_assert_eq(vtd_iommufd_ioctl(ctx, IOMMU_IOAS_COPY, &c), -ENOENT, "no destination IOAS");
    cr_assert_eq(copy(FIXED, ioas, 0x800, 0x1000, &dst), -EINVAL, "not page aligned");
    cr_assert_eq(copy(IOMMU_IOAS_MAP_FIXED_IOVA, ioas, 0, 0x1000, &dst), -EINVAL, "no access");
    dst = 0x100800;
    cr_assert_eq(copy(FIXED, ioas, 0, 0x1000, &dst), -EINVAL, "destination not aligned");
    dst = 0x2000;
    cr_assert_eq(copy(FIXED, ioas, 0, 0x1000, &dst), -EEXIST, "over the source itself");
    dst = UINT64_MAX & ~UINT64_C(0xfff);
    cr_assert_eq(copy(FIXED, ioas, 0, 0x2000, &dst), -EOVERFLOW, "the destination wraps");
    cr_assert_eq(attach(DEV_PLAIN, ioas, false, 0, NULL), 0);
    dst = 0xfee00000;
    cr_assert_eq(copy(FIXED, ioas, 0, 0x1000, &dst), -EADDRINUSE, "the interrupt window");
}

Test(iommufd, ioas_copy_shares_the_pages)
{
    cr_assert_eq(map(0, HOST_RAM, 0x2000, FIXED, NULL), 0);
    cr_assert_eq(map(0x2000, HOST_RAM + 0x10000, 0x2000, FIXED, NULL), 0);
    cr_assert_eq(attach(DEV_PLAIN, ioas, false, 0, NULL), 0);
    uint64_t dst = 0x200000, done;
    cr_assert_eq(copy(FIXED, ioas, 0x1000, 0x2000, &dst), 0, "the end of one area and the start of the next");
    cr_assert_eq(dst, 0x200000);
    struct vtd_dma_result r;
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x200008, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + 0x1008, "the first piece is the first area's second page");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x201010, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + 0x10010, "the second piece is the second area's first page");
    cr_assert_eq(unmap(0x201000, 0x1000, &done), 0, "each piece is an area of its own");
    cr_assert_eq(done, 0x1000);
    cr_assert_neq(rid_dma(DEV_PLAIN, 0x201010, VTD_ACC_R, &r), 0, "unmapped");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x1008, VTD_ACC_R, &r), 0, "the source stays mapped");

    dst = 0;
    cr_assert_eq(copy(IOMMU_IOAS_MAP_READABLE, ioas, 0, 0x1000, &dst), 0, "no FIXED_IOVA: a free IOVA");
    cr_assert_eq(dst, 0x4000, "the first free page after the areas");
    cr_assert_eq(rid_dma(DEV_PLAIN, 0x4000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM);
    cr_assert_neq(rid_dma(DEV_PLAIN, 0x4000, VTD_ACC_W, &r), 0, "copied read-only");
}

/* A copy whose second piece the container refuses (beyond the domain's 48-bit input) takes the
 * first piece back: nothing of it stays mapped. */
Test(iommufd, ioas_copy_failing_midway_maps_nothing)
{
    cr_assert_eq(map(0, HOST_RAM, 0x1000, FIXED, NULL), 0);
    cr_assert_eq(map(0x1000, HOST_RAM + 0x10000, 0x1000, FIXED, NULL), 0);
    uint64_t top = UINT64_C(1) << 48, dst = top - 0x1000, done;
    cr_assert_neq(copy(FIXED, ioas, 0, 0x2000, &dst), 0, "the second piece is past the domain's width");
    cr_assert_eq(unmap(top - 0x1000, 0x1000, &done), -ENOENT, "the first piece was taken back");
    cr_assert_eq(unmap(0, 0x2000, &done), 0);
    cr_assert_eq(done, 0x2000, "the source is whole");
}
