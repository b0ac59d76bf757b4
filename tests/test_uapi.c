/*
 * test_uapi.c: the ABI of uapi/linux/{iommu,vfio,iommufd_vtd}.h. Every size, offset, constant,
 * enum value and ioctl number is compared with a literal worked out by hand from the layout
 * rules of the x86-64 ABI (4-byte __u32, 8-byte aligned __u64 and pointers, unions as large as
 * their largest member, structs padded to their alignment) applied to the seed patch's
 * declarations. Nothing here is computed from the headers themselves.
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* vfio.h first: its own #include <linux/iommu.h> must also land on ours. */
#include <linux/vfio.h>
#include <linux/iommu.h>
#include <linux/iommufd_vtd.h>

#define SIZE_IS(type, n) \
    cr_expect_eq(sizeof(type), (size_t)(n), "sizeof(%s) is %zu, expected %d", #type, sizeof(type), (n))
#define OFF_IS(type, field, n)                                                                    \
    cr_expect_eq(offsetof(type, field), (size_t)(n), "offsetof(%s, %s) is %zu, expected %d", #type, \
                 #field, offsetof(type, field), (n))
#define VAL_IS(expr, n) \
    cr_expect_eq((long long)(expr), (long long)(n), "%s is %lld, expected %lld", #expr, (long long)(expr), (long long)(n))

/* ================================ iommu.h ================================================ */

Test(uapi_iommu, fault_constants)
{
    VAL_IS(IOMMU_FAULT_PERM_READ, 0x1);
    VAL_IS(IOMMU_FAULT_PERM_WRITE, 0x2);
    VAL_IS(IOMMU_FAULT_PERM_EXEC, 0x4);
    VAL_IS(IOMMU_FAULT_PERM_PRIV, 0x8);

    VAL_IS(IOMMU_FAULT_DMA_UNRECOV, 1);
    VAL_IS(IOMMU_FAULT_PAGE_REQ, 2);

    VAL_IS(IOMMU_FAULT_REASON_UNKNOWN, 0);
    VAL_IS(IOMMU_FAULT_REASON_PASID_FETCH, 1);
    VAL_IS(IOMMU_FAULT_REASON_BAD_PASID_ENTRY, 2);
    VAL_IS(IOMMU_FAULT_REASON_PASID_INVALID, 3);
    VAL_IS(IOMMU_FAULT_REASON_WALK_EABT, 4);
    VAL_IS(IOMMU_FAULT_REASON_PTE_FETCH, 5);
    VAL_IS(IOMMU_FAULT_REASON_PERMISSION, 6);
    VAL_IS(IOMMU_FAULT_REASON_ACCESS, 7);
    VAL_IS(IOMMU_FAULT_REASON_OOR_ADDRESS, 8);

    VAL_IS(IOMMU_FAULT_UNRECOV_PASID_VALID, 0x1);
    VAL_IS(IOMMU_FAULT_UNRECOV_ADDR_VALID, 0x2);
    VAL_IS(IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID, 0x4);

    VAL_IS(IOMMU_FAULT_PAGE_REQUEST_PASID_VALID, 0x1);
    VAL_IS(IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE, 0x2);
    VAL_IS(IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA, 0x4);
    VAL_IS(IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID, 0x8);
}

Test(uapi_iommu, fault_unrecoverable_layout)
{
    SIZE_IS(struct iommu_fault_unrecoverable, 32);
    OFF_IS(struct iommu_fault_unrecoverable, reason, 0);
    OFF_IS(struct iommu_fault_unrecoverable, flags, 4);
    OFF_IS(struct iommu_fault_unrecoverable, pasid, 8);
    OFF_IS(struct iommu_fault_unrecoverable, perm, 12);
    OFF_IS(struct iommu_fault_unrecoverable, addr, 16);
    OFF_IS(struct iommu_fault_unrecoverable, fetch_addr, 24);
}

Test(uapi_iommu, fault_page_request_layout)
{
    SIZE_IS(struct iommu_fault_page_request, 40);
    OFF_IS(struct iommu_fault_page_request, flags, 0);
    OFF_IS(struct iommu_fault_page_request, pasid, 4);
    OFF_IS(struct iommu_fault_page_request, grpid, 8);
    OFF_IS(struct iommu_fault_page_request, perm, 12);
    OFF_IS(struct iommu_fault_page_request, addr, 16);
    OFF_IS(struct iommu_fault_page_request, private_data, 24);
    SIZE_IS(((struct iommu_fault_page_request *)0)->private_data, 16);
}

Test(uapi_iommu, fault_layout)
{
    SIZE_IS(struct iommu_fault, 64);
    OFF_IS(struct iommu_fault, type, 0);
    OFF_IS(struct iommu_fault, padding, 4);
    OFF_IS(struct iommu_fault, event, 8);
    OFF_IS(struct iommu_fault, prm, 8);
    OFF_IS(struct iommu_fault, padding2, 8);
    SIZE_IS(((struct iommu_fault *)0)->padding2, 56);
}

Test(uapi_iommu, page_response)
{
    VAL_IS(IOMMU_PAGE_RESP_SUCCESS, 0);
    VAL_IS(IOMMU_PAGE_RESP_INVALID, 1);
    VAL_IS(IOMMU_PAGE_RESP_FAILURE, 2);
    VAL_IS(IOMMU_PAGE_RESP_VERSION_1, 1);
    VAL_IS(IOMMU_PAGE_RESP_PASID_VALID, 0x1);

    SIZE_IS(struct iommu_page_response, 24);
    OFF_IS(struct iommu_page_response, argsz, 0);
    OFF_IS(struct iommu_page_response, version, 4);
    OFF_IS(struct iommu_page_response, flags, 8);
    OFF_IS(struct iommu_page_response, pasid, 12);
    OFF_IS(struct iommu_page_response, grpid, 16);
    OFF_IS(struct iommu_page_response, code, 20);
}

Test(uapi_iommu, invalidation_constants)
{
    VAL_IS(IOMMU_INV_GRANU_DOMAIN, 0);
    VAL_IS(IOMMU_INV_GRANU_PASID, 1);
    VAL_IS(IOMMU_INV_GRANU_ADDR, 2);
    VAL_IS(IOMMU_INV_GRANU_NR, 3);

    VAL_IS(IOMMU_INV_ADDR_FLAGS_PASID, 0x1);
    VAL_IS(IOMMU_INV_ADDR_FLAGS_ARCHID, 0x2);
    VAL_IS(IOMMU_INV_ADDR_FLAGS_LEAF, 0x4);
    VAL_IS(IOMMU_INV_PASID_FLAGS_PASID, 0x1);
    VAL_IS(IOMMU_INV_PASID_FLAGS_ARCHID, 0x2);

    VAL_IS(IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, 1);
    VAL_IS(IOMMU_CACHE_INV_TYPE_IOTLB, 0x1);
    VAL_IS(IOMMU_CACHE_INV_TYPE_DEV_IOTLB, 0x2);
    VAL_IS(IOMMU_CACHE_INV_TYPE_PASID, 0x4);
    VAL_IS(IOMMU_CACHE_INV_TYPE_NR, 3);
}

Test(uapi_iommu, inv_addr_info_layout)
{
    SIZE_IS(struct iommu_inv_addr_info, 40);
    OFF_IS(struct iommu_inv_addr_info, flags, 0);
    OFF_IS(struct iommu_inv_addr_info, archid, 4);
    OFF_IS(struct iommu_inv_addr_info, pasid, 8);
    OFF_IS(struct iommu_inv_addr_info, addr, 16);
    OFF_IS(struct iommu_inv_addr_info, granule_size, 24);
    OFF_IS(struct iommu_inv_addr_info, nb_granules, 32);
}

Test(uapi_iommu, inv_pasid_info_layout)
{
    SIZE_IS(struct iommu_inv_pasid_info, 16);
    OFF_IS(struct iommu_inv_pasid_info, flags, 0);
    OFF_IS(struct iommu_inv_pasid_info, archid, 4);
    OFF_IS(struct iommu_inv_pasid_info, pasid, 8);
}

Test(uapi_iommu, cache_invalidate_info_layout)
{
    /* 4 + 4 + 1 + 1 + 6 = 16, then a 40-byte, 8-aligned union. */
    SIZE_IS(struct iommu_cache_invalidate_info, 56);
    OFF_IS(struct iommu_cache_invalidate_info, argsz, 0);
    OFF_IS(struct iommu_cache_invalidate_info, version, 4);
    OFF_IS(struct iommu_cache_invalidate_info, cache, 8);
    OFF_IS(struct iommu_cache_invalidate_info, granularity, 9);
    OFF_IS(struct iommu_cache_invalidate_info, padding, 10);
    OFF_IS(struct iommu_cache_invalidate_info, granu, 16);
    OFF_IS(struct iommu_cache_invalidate_info, granu.pasid_info, 16);
    OFF_IS(struct iommu_cache_invalidate_info, granu.addr_info, 16);
    OFF_IS(struct iommu_cache_invalidate_info, granu.addr_info.nb_granules, 48);
    SIZE_IS(((struct iommu_cache_invalidate_info *)0)->granu, 40);
}

Test(uapi_iommu, gpasid_bind_constants)
{
    VAL_IS(IOMMU_SVA_VTD_GPASID_SRE, 0x01);
    VAL_IS(IOMMU_SVA_VTD_GPASID_EAFE, 0x02);
    VAL_IS(IOMMU_SVA_VTD_GPASID_PCD, 0x04);
    VAL_IS(IOMMU_SVA_VTD_GPASID_PWT, 0x08);
    VAL_IS(IOMMU_SVA_VTD_GPASID_EMTE, 0x10);
    VAL_IS(IOMMU_SVA_VTD_GPASID_CD, 0x20);
    VAL_IS(IOMMU_SVA_VTD_GPASID_LAST, 0x40);
    VAL_IS(IOMMU_SVA_VTD_GPASID_MTS_MASK, 0x3c); /* CD | EMTE | PWT | PCD */

    VAL_IS(IOMMU_PASID_FORMAT_INTEL_VTD, 1);
    VAL_IS(IOMMU_PASID_FORMAT_LAST, 2);
    VAL_IS(IOMMU_GPASID_BIND_VERSION_1, 1);
    VAL_IS(IOMMU_SVA_GPASID_VAL, 0x1);
}

Test(uapi_iommu, gpasid_bind_data_vtd_layout)
{
    SIZE_IS(struct iommu_gpasid_bind_data_vtd, 16);
    OFF_IS(struct iommu_gpasid_bind_data_vtd, flags, 0);
    OFF_IS(struct iommu_gpasid_bind_data_vtd, pat, 8);
    OFF_IS(struct iommu_gpasid_bind_data_vtd, emt, 12);
}

Test(uapi_iommu, gpasid_bind_data_layout)
{
    SIZE_IS(struct iommu_gpasid_bind_data, 72);
    OFF_IS(struct iommu_gpasid_bind_data, argsz, 0);
    OFF_IS(struct iommu_gpasid_bind_data, version, 4);
    OFF_IS(struct iommu_gpasid_bind_data, format, 8);
    OFF_IS(struct iommu_gpasid_bind_data, addr_width, 12);
    OFF_IS(struct iommu_gpasid_bind_data, flags, 16);
    OFF_IS(struct iommu_gpasid_bind_data, gpgd, 24);
    OFF_IS(struct iommu_gpasid_bind_data, hpasid, 32);
    OFF_IS(struct iommu_gpasid_bind_data, gpasid, 40);
    OFF_IS(struct iommu_gpasid_bind_data, padding, 48);
    OFF_IS(struct iommu_gpasid_bind_data, vendor, 56);
    OFF_IS(struct iommu_gpasid_bind_data, vendor.vtd, 56);
    OFF_IS(struct iommu_gpasid_bind_data, vendor.vtd.pat, 64);
    OFF_IS(struct iommu_gpasid_bind_data, vendor.vtd.emt, 68);
}

Test(uapi_iommu, nesting_info)
{
    VAL_IS(IOMMU_NESTING_FEAT_SYSWIDE_PASID, 0x1);
    VAL_IS(IOMMU_NESTING_FEAT_BIND_PGTBL, 0x2);
    VAL_IS(IOMMU_NESTING_FEAT_CACHE_INVLD, 0x4);

    /* flags at 0, 4 bytes of hole, then two 8-aligned registers. */
    SIZE_IS(struct iommu_nesting_info_vtd, 24);
    OFF_IS(struct iommu_nesting_info_vtd, flags, 0);
    OFF_IS(struct iommu_nesting_info_vtd, cap_reg, 8);
    OFF_IS(struct iommu_nesting_info_vtd, ecap_reg, 16);

    SIZE_IS(struct iommu_nesting_info, 56);
    OFF_IS(struct iommu_nesting_info, argsz, 0);
    OFF_IS(struct iommu_nesting_info, flags, 4);
    OFF_IS(struct iommu_nesting_info, format, 8);
    OFF_IS(struct iommu_nesting_info, features, 12);
    OFF_IS(struct iommu_nesting_info, addr_width, 16);
    OFF_IS(struct iommu_nesting_info, pasid_bits, 18);
    OFF_IS(struct iommu_nesting_info, padding, 20);
    OFF_IS(struct iommu_nesting_info, vendor, 32);
    OFF_IS(struct iommu_nesting_info, vendor.vtd.cap_reg, 40);
    OFF_IS(struct iommu_nesting_info, vendor.vtd.ecap_reg, 48);
}

/* ================================ vfio.h ================================================= */

Test(uapi_vfio, base_constants)
{
    VAL_IS(VFIO_API_VERSION, 0);
    VAL_IS(VFIO_TYPE, 0x3b); /* ';' */
    VAL_IS(VFIO_BASE, 100);
    VAL_IS(VFIO_TYPE1_IOMMU, 1);
    VAL_IS(VFIO_TYPE1v2_IOMMU, 3);
    VAL_IS(VFIO_TYPE1_NESTING_IOMMU, 6);

    SIZE_IS(struct vfio_info_cap_header, 8);
    OFF_IS(struct vfio_info_cap_header, id, 0);
    OFF_IS(struct vfio_info_cap_header, version, 2);
    OFF_IS(struct vfio_info_cap_header, next, 4);
}

Test(uapi_vfio, ioctl_numbers)
{
    /* _IO(';', nr): direction 0, size 0, type 0x3b in bits 15:8, nr in bits 7:0. */
    VAL_IS(VFIO_GET_API_VERSION, 0x3b64);
    VAL_IS(VFIO_CHECK_EXTENSION, 0x3b65);
    VAL_IS(VFIO_SET_IOMMU, 0x3b66);
    VAL_IS(VFIO_IOMMU_GET_INFO, 0x3b70);
    VAL_IS(VFIO_IOMMU_MAP_DMA, 0x3b71);
    VAL_IS(VFIO_IOMMU_UNMAP_DMA, 0x3b72);
    VAL_IS(VFIO_IOMMU_ENABLE, 0x3b73);
    VAL_IS(VFIO_IOMMU_DISABLE, 0x3b74);
    VAL_IS(VFIO_IOMMU_DIRTY_PAGES, 0x3b75);
    VAL_IS(VFIO_IOMMU_PASID_REQUEST, 0x3b76);
    VAL_IS(VFIO_IOMMU_NESTING_OP, 0x3b77);
}

Test(uapi_vfio, get_info_and_capabilities)
{
    VAL_IS(VFIO_IOMMU_INFO_PGSIZES, 0x1);
    VAL_IS(VFIO_IOMMU_INFO_CAPS, 0x2);
    VAL_IS(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
    VAL_IS(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 2);
    VAL_IS(VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, 3);

    /* 4 + 4 + 8 + 4 = 20, rounded up to the 8-byte alignment of iova_pgsizes. */
    SIZE_IS(struct vfio_iommu_type1_info, 24);
    OFF_IS(struct vfio_iommu_type1_info, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_info, flags, 4);
    OFF_IS(struct vfio_iommu_type1_info, iova_pgsizes, 8);
    OFF_IS(struct vfio_iommu_type1_info, cap_offset, 16);

    SIZE_IS(struct vfio_iova_range, 16);
    OFF_IS(struct vfio_iova_range, start, 0);
    OFF_IS(struct vfio_iova_range, end, 8);

    SIZE_IS(struct vfio_iommu_type1_info_cap_iova_range, 16);
    OFF_IS(struct vfio_iommu_type1_info_cap_iova_range, header, 0);
    OFF_IS(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas, 8);
    OFF_IS(struct vfio_iommu_type1_info_cap_iova_range, reserved, 12);
    OFF_IS(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges, 16);

    SIZE_IS(struct vfio_iommu_type1_info_cap_migration, 32);
    OFF_IS(struct vfio_iommu_type1_info_cap_migration, header, 0);
    OFF_IS(struct vfio_iommu_type1_info_cap_migration, flags, 8);
    OFF_IS(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
    OFF_IS(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size, 24);

    SIZE_IS(struct vfio_iommu_type1_info_cap_nesting, 64);
    OFF_IS(struct vfio_iommu_type1_info_cap_nesting, header, 0);
    OFF_IS(struct vfio_iommu_type1_info_cap_nesting, info, 8);
    OFF_IS(struct vfio_iommu_type1_info_cap_nesting, info.vendor.vtd.cap_reg, 48);
    OFF_IS(struct vfio_iommu_type1_info_cap_nesting, info.vendor.vtd.ecap_reg, 56);
}

Test(uapi_vfio, map_unmap)
{
    VAL_IS(VFIO_DMA_MAP_FLAG_READ, 0x1);
    VAL_IS(VFIO_DMA_MAP_FLAG_WRITE, 0x2);
    VAL_IS(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 0x1);

    SIZE_IS(struct vfio_iommu_type1_dma_map, 32);
    OFF_IS(struct vfio_iommu_type1_dma_map, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_dma_map, flags, 4);
    OFF_IS(struct vfio_iommu_type1_dma_map, vaddr, 8);
    OFF_IS(struct vfio_iommu_type1_dma_map, iova, 16);
    OFF_IS(struct vfio_iommu_type1_dma_map, size, 24);

    SIZE_IS(struct vfio_bitmap, 24);
    OFF_IS(struct vfio_bitmap, pgsize, 0);
    OFF_IS(struct vfio_bitmap, size, 8);
    OFF_IS(struct vfio_bitmap, data, 16);

    SIZE_IS(struct vfio_iommu_type1_dma_unmap, 24);
    OFF_IS(struct vfio_iommu_type1_dma_unmap, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_dma_unmap, flags, 4);
    OFF_IS(struct vfio_iommu_type1_dma_unmap, iova, 8);
    OFF_IS(struct vfio_iommu_type1_dma_unmap, size, 16);
    OFF_IS(struct vfio_iommu_type1_dma_unmap, data, 24);
}

Test(uapi_vfio, dirty_pages)
{
    VAL_IS(VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 0x1);
    VAL_IS(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0x2);
    VAL_IS(VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 0x4);

    SIZE_IS(struct vfio_iommu_type1_dirty_bitmap, 8);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap, flags, 4);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap, data, 8);

    SIZE_IS(struct vfio_iommu_type1_dirty_bitmap_get, 40);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap_get, iova, 0);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap_get, size, 8);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap_get, bitmap, 16);
    OFF_IS(struct vfio_iommu_type1_dirty_bitmap_get, bitmap.data, 32);
}

Test(uapi_vfio, pasid_request)
{
    VAL_IS(VFIO_IOMMU_FLAG_ALLOC_PASID, 0x1);
    VAL_IS(VFIO_IOMMU_FLAG_FREE_PASID, 0x2);
    VAL_IS(VFIO_PASID_REQUEST_MASK, 0x3);
    VAL_IS(VFIO_IOMMU_PASID_BITS, 31);

    SIZE_IS(struct vfio_iommu_type1_pasid_request, 16);
    OFF_IS(struct vfio_iommu_type1_pasid_request, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_pasid_request, flags, 4);
    OFF_IS(struct vfio_iommu_type1_pasid_request, range, 8);
    OFF_IS(struct vfio_iommu_type1_pasid_request, range.min, 8);
    OFF_IS(struct vfio_iommu_type1_pasid_request, range.max, 12);
}

Test(uapi_vfio, nesting_op)
{
    VAL_IS(VFIO_NESTING_OP_MASK, 0xffff);
    VAL_IS(VFIO_IOMMU_NESTING_OP_BIND_PGTBL, 0);
    VAL_IS(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, 1);
    VAL_IS(VFIO_IOMMU_NESTING_OP_CACHE_INVLD, 2);
    VAL_IS(VFIO_IOMMU_NESTING_OP_NUM, 3);

    SIZE_IS(struct vfio_iommu_type1_nesting_op, 8);
    OFF_IS(struct vfio_iommu_type1_nesting_op, argsz, 0);
    OFF_IS(struct vfio_iommu_type1_nesting_op, flags, 4);
    OFF_IS(struct vfio_iommu_type1_nesting_op, data, 8);
}

/* A BIND_PGTBL request laid out as a VMM builds it: 8-byte header, then the bind data. */
Test(uapi_vfio, bind_request_bytes)
{
    union {
        unsigned char b[80];
        unsigned long long align;
    } buf;
    memset(&buf, 0, sizeof(buf));

    struct vfio_iommu_type1_nesting_op op = {
        .argsz = 8 + 72,
        .flags = VFIO_IOMMU_NESTING_OP_BIND_PGTBL,
    };
    struct iommu_gpasid_bind_data bind = {
        .argsz = 72,
        .version = IOMMU_GPASID_BIND_VERSION_1,
        .format = IOMMU_PASID_FORMAT_INTEL_VTD,
        .addr_width = 48,
        .flags = IOMMU_SVA_GPASID_VAL,
        .gpgd = 0x123456000ull,
        .hpasid = 0x41,
        .gpasid = 0x7,
        .vendor.vtd = { .flags = IOMMU_SVA_VTD_GPASID_SRE, .pat = 0x07010600u, .emt = 6 },
    };
    memcpy(buf.b, &op, 8);
    memcpy(buf.b + 8, &bind, 72);

    /* Little-endian bytes at the literal offsets of the seed layout. */
    cr_expect_eq(buf.b[0], 80);                 /* op.argsz */
    cr_expect_eq(buf.b[4], 0);                  /* op.flags: BIND_PGTBL */
    cr_expect_eq(buf.b[8 + 0], 72);             /* bind.argsz */
    cr_expect_eq(buf.b[8 + 4], 1);              /* version */
    cr_expect_eq(buf.b[8 + 8], 1);              /* format: INTEL_VTD */
    cr_expect_eq(buf.b[8 + 12], 48);            /* addr_width */
    cr_expect_eq(buf.b[8 + 16], 1);             /* flags: GPASID_VAL */
    cr_expect_eq(buf.b[8 + 25], 0x60);          /* gpgd bits 15:8 */
    cr_expect_eq(buf.b[8 + 28], 0x01);          /* gpgd bits 39:32 */
    cr_expect_eq(buf.b[8 + 32], 0x41);          /* hpasid */
    cr_expect_eq(buf.b[8 + 40], 0x07);          /* gpasid */
    cr_expect_eq(buf.b[8 + 56], 0x01);          /* vendor.vtd.flags: SRE */
    cr_expect_eq(buf.b[8 + 64], 0x00);          /* vendor.vtd.pat, lowest byte */
    cr_expect_eq(buf.b[8 + 67], 0x07);          /* vendor.vtd.pat, highest byte */
    cr_expect_eq(buf.b[8 + 68], 6);             /* vendor.vtd.emt */
}

/* ============================== iommufd_vtd.h ============================================ */

Test(uapi_iommufd_vtd, hwpt_vtd_s1)
{
    VAL_IS(IOMMU_VTD_S1_SRE, 0x1);
    VAL_IS(IOMMU_VTD_S1_EAFE, 0x2);
    VAL_IS(IOMMU_VTD_S1_WPE, 0x4);

    SIZE_IS(struct iommu_hwpt_vtd_s1, 24);
    OFF_IS(struct iommu_hwpt_vtd_s1, flags, 0);
    OFF_IS(struct iommu_hwpt_vtd_s1, pgtbl_addr, 8);
    OFF_IS(struct iommu_hwpt_vtd_s1, addr_width, 16);
    OFF_IS(struct iommu_hwpt_vtd_s1, __reserved, 20);
}

Test(uapi_iommufd_vtd, hwpt_vtd_s1_invalidate)
{
    VAL_IS(IOMMU_VTD_INV_FLAGS_LEAF, 0x1);

    SIZE_IS(struct iommu_hwpt_vtd_s1_invalidate, 24);
    OFF_IS(struct iommu_hwpt_vtd_s1_invalidate, addr, 0);
    OFF_IS(struct iommu_hwpt_vtd_s1_invalidate, npages, 8);
    OFF_IS(struct iommu_hwpt_vtd_s1_invalidate, flags, 16);
    OFF_IS(struct iommu_hwpt_vtd_s1_invalidate, __reserved, 20);
}

/* ============================== include resolution ======================================= */

/*
 * <linux/vfio.h> and <linux/iommu.h> must resolve to uapi/ and not to the system headers.
 * Names only ours defines must be present; names only later mainline headers define must not.
 */
#ifdef VFIO_IOMMU_PASID_REQUEST
static const bool ours_pasid_request = true;
#else
static const bool ours_pasid_request = false;
#endif
#ifdef VFIO_IOMMU_TYPE1_INFO_CAP_NESTING
static const bool ours_cap_nesting = true;
#else
static const bool ours_cap_nesting = false;
#endif
#ifdef IOMMU_NESTING_FEAT_BIND_PGTBL
static const bool ours_nesting_feat = true;
#else
static const bool ours_nesting_feat = false;
#endif
#ifdef IOMMU_CACHE_INVALIDATE_INFO_VERSION_1
static const bool ours_cache_inv = true;
#else
static const bool ours_cache_inv = false;
#endif
#if defined(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) || defined(VFIO_DMA_UNMAP_FLAG_ALL) || \
    defined(VFIO_DEVICE_FEATURE) || defined(VFIO_GROUP_GET_DEVICE_FD)
static const bool system_vfio_seen = true;
#else
static const bool system_vfio_seen = false;
#endif

Test(uapi_include, ours_shadow_the_system_headers)
{
    cr_expect(ours_pasid_request, "VFIO_IOMMU_PASID_REQUEST missing: <linux/vfio.h> is not ours");
    cr_expect(ours_cap_nesting, "VFIO_IOMMU_TYPE1_INFO_CAP_NESTING missing: <linux/vfio.h> is not ours");
    cr_expect(ours_nesting_feat, "IOMMU_NESTING_FEAT_BIND_PGTBL missing: <linux/iommu.h> is not ours");
    cr_expect(ours_cache_inv, "IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 missing: <linux/iommu.h> is not ours");
    cr_expect_not(system_vfio_seen, "a definition of the system <linux/vfio.h> is visible");
    VAL_IS(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 2);
    VAL_IS(VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, 3);
    VAL_IS(VFIO_IOMMU_PASID_REQUEST, 0x3b76);
}
