/*
 * test_container_nest.c: NESTING_OP (bind, unbind, CACHE_INVLD under both policies) and a
 * whole vSVA flow through a container (issue 5).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "host/container.h"
#include "sim/iommu_internal.h"
#include "walker/builder.h"
#include "container_fixture.h"

#define GUEST_PT_GPA UINT64_C(0x100000)
#define GUEST_DATA_GPA UINT64_C(0x800000)
#define VA UINT64_C(0x400000)

static struct vtd_iommu *io;
static struct vtd_container *c;
static struct vtd_pt fs;
static int pasid;

static void make_cfg(const struct vtd_container_config *cc)
{
    container_fixture_cfg(&io, &c, cc);
    /* Guest RAM: GPA [0, 16 MiB) at HOST_RAM. */
    struct vfio_iommu_type1_dma_map m = { sizeof(m), VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, HOST_RAM, 0,
                                          UINT64_C(0x1000000) };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m), 0);
    struct vfio_iommu_type1_pasid_request r = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { 1, 1000 } };
    pasid = vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r);
    cr_assert_eq(pasid, 1);
    /* The guest's first-stage table, in guest memory. */
    cr_assert_eq(vtd_pt_init(&fs, vtd_container_builder(c), VTD_PT_FS, 4, vtd_container_ss(c), GUEST_PT_GPA,
                             0x100000), 0);
    cr_assert_eq(vtd_pt_map(&fs, VA, GUEST_DATA_GPA, 0x4000, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD), 0);
}

static void make(enum vtd_inv_policy policy)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.policy = policy;
    make_cfg(&cc);
}

static void setup_spec(void) { make(VTD_INV_SPEC); }
static void setup_linux(void) { make(VTD_INV_LINUX_5_10); }
static void setup_iommufd_6_8(void)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.iommufd_kernel = VTD_IOMMUFD_6_8;
    make_cfg(&cc);
}
static void teardown(void)
{
    vtd_container_free(c);
    vtd_iommu_free(io);
}

TestSuite(nest, .init = setup_spec, .fini = teardown);
TestSuite(nest510, .init = setup_linux, .fini = teardown);
TestSuite(nest68, .init = setup_iommufd_6_8, .fini = teardown);

/* A NESTING_OP buffer: header then payload. */
struct op_buf {
    struct vfio_iommu_type1_nesting_op hdr;
    union {
        struct iommu_gpasid_bind_data bind;
        struct iommu_cache_invalidate_info inv;
        unsigned char raw[128];
    } u;
};

static struct iommu_gpasid_bind_data bind_data(uint64_t hpasid)
{
    return (struct iommu_gpasid_bind_data){ .argsz = sizeof(struct iommu_gpasid_bind_data),
                                            .version = IOMMU_GPASID_BIND_VERSION_1,
                                            .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                            .gpgd = fs.root, .hpasid = hpasid };
}

static int op_bind(unsigned op, const struct iommu_gpasid_bind_data *d)
{
    struct op_buf b;
    memset(&b, 0, sizeof(b));
    b.hdr = (struct vfio_iommu_type1_nesting_op){ sizeof(b.hdr) + sizeof(*d), op };
    b.u.bind = *d;
    return vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b);
}

static int bind(const struct iommu_gpasid_bind_data *d) { return op_bind(VFIO_IOMMU_NESTING_OP_BIND_PGTBL, d); }

static int dma_p(uint16_t sid, uint64_t addr, unsigned acc, struct vtd_dma_result *r)
{
    struct vtd_request req = { .sid = sid, .pasid_valid = true, .pasid = (uint32_t)pasid, .addr = addr, .access = acc };
    return vtd_iommu_dma(io, &req, r);
}

static struct iommu_cache_invalidate_info inv_addr(uint8_t cache, uint64_t addr, uint64_t gsize, uint64_t n)
{
    struct iommu_cache_invalidate_info v = { .argsz = sizeof(v), .version = 1, .cache = cache,
                                             .granularity = IOMMU_INV_GRANU_ADDR };
    v.granu.addr_info = (struct iommu_inv_addr_info){ .flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = (uint64_t)pasid,
                                                      .addr = addr, .granule_size = gsize, .nb_granules = n };
    return v;
}

static struct iommu_cache_invalidate_info inv_pasid(uint8_t cache)
{
    struct iommu_cache_invalidate_info v = { .argsz = sizeof(v), .version = 1, .cache = cache,
                                             .granularity = IOMMU_INV_GRANU_PASID };
    v.granu.pasid_info = (struct iommu_inv_pasid_info){ .flags = IOMMU_INV_PASID_FLAGS_PASID, .pasid = (uint64_t)pasid };
    return v;
}

static struct iommu_cache_invalidate_info inv_domain(uint8_t cache)
{
    return (struct iommu_cache_invalidate_info){ .argsz = offsetof(struct iommu_cache_invalidate_info, granu),
                                                 .version = 1, .cache = cache, .granularity = IOMMU_INV_GRANU_DOMAIN };
}

#define T_IOTLB IOMMU_CACHE_INV_TYPE_IOTLB
#define T_DEV IOMMU_CACHE_INV_TYPE_DEV_IOTLB
#define T_PASID IOMMU_CACHE_INV_TYPE_PASID

/* ---- the whole flow ---- */

static void whole_flow(void)
{
    /* GET_INFO first: the VMM learns the nesting features and widths (MAP_DMA and
     * PASID_REQUEST ran in the fixture). */
    _Alignas(8) unsigned char info[168];
    struct vfio_iommu_type1_info hdr = { .argsz = sizeof(info) };
    memcpy(info, &hdr, sizeof(hdr));
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_GET_INFO, info), 0);
    struct vfio_iommu_type1_info_cap_nesting nc;
    memcpy(&nc, info + 104, sizeof(nc));
    cr_assert_eq(nc.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_NESTING);
    cr_assert(nc.info.features & IOMMU_NESTING_FEAT_BIND_PGTBL);
    cr_assert_eq(nc.info.pasid_bits, 20);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x123, VTD_ACC_R, &r), VTD_FR_PASID_P, "nothing bound yet");
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x123, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + GUEST_DATA_GPA + 0x123);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x123, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB);
    /* The guest unmaps the page: served stale until CACHE_INVLD. */
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x1000), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x123, VTD_ACC_R, &r), 0);
    cr_assert(r.stale);
    struct op_buf b;
    memset(&b, 0, sizeof(b));
    b.hdr = (struct vfio_iommu_type1_nesting_op){ sizeof(b), VFIO_IOMMU_NESTING_OP_CACHE_INVLD };
    b.u.inv = inv_addr(T_IOTLB, VA, 4096, 1);
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), 0);
    cr_assert_eq(vtd_container_last_op_error(c), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x123, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x1123, VTD_ACC_R, &r), 0, "the next page is still mapped");
    /* The two faults so far, as the VMM reads them. */
    struct iommu_fault f[4];
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 2);
    cr_assert_eq(f[0].type, IOMMU_FAULT_DMA_UNRECOV);
    cr_assert_eq(f[0].event.reason, IOMMU_FAULT_REASON_BAD_PASID_ENTRY);
    cr_assert_eq(f[1].type, IOMMU_FAULT_DMA_UNRECOV);
    cr_assert_eq(f[1].event.reason, IOMMU_FAULT_REASON_PTE_FETCH);
    cr_assert_eq(f[1].event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID | IOMMU_FAULT_UNRECOV_ADDR_VALID |
                                       IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID);
    cr_assert_eq(f[1].event.pasid, (uint32_t)pasid);
    cr_assert_eq(f[1].event.perm, IOMMU_FAULT_PERM_READ);
    cr_assert_eq(f[1].event.addr, VA + 0x123);
    uint64_t pte_gpa;
    cr_assert_eq(vtd_pt_entry_addr(&fs, VA, 1, &pte_gpa), 0);
    cr_assert_eq(f[1].event.fetch_addr, pte_gpa, "the leaf entry whose fetch failed");
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 0, "read once");
    cr_assert_eq(vtd_container_fault_overflows(c), 0);
    /* The ATS+PRI device touches a page the guest has not mapped: page request, the guest maps
     * it, the VMM answers SUCCESS, the device retries. */
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x5008, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 1);
    cr_assert_eq(f[0].type, IOMMU_FAULT_PAGE_REQ);
    cr_assert_eq(f[0].prm.addr, VA + 0x5000);
    cr_assert_eq(vtd_pt_map(&fs, VA + 0x5000, GUEST_DATA_GPA + 0x5000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U,
                            VTD_MAP_AD), 0);
    struct iommu_page_response pr = { .argsz = sizeof(pr), .version = IOMMU_PAGE_RESP_VERSION_1,
                                      .flags = IOMMU_PAGE_RESP_PASID_VALID, .pasid = (uint32_t)pasid,
                                      .grpid = f[0].prm.grpid, .code = IOMMU_PAGE_RESP_SUCCESS };
    cr_assert_eq(vtd_container_page_response(c, &pr), 0);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x5008, VTD_ACC_R, &r), 0, "the retry is translated");
    cr_assert_eq(r.x.out, HOST_RAM + GUEST_DATA_GPA + 0x5008);
    /* UNBIND, then FREE. */
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x1123, VTD_ACC_R, &r), VTD_FR_PASID_P);
    cr_assert_not(r.stale);
    struct vfio_iommu_type1_pasid_request fr = { 16, VFIO_IOMMU_FLAG_FREE_PASID, { 1, 1 } };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &fr), 0);
    cr_assert_eq(bind(&d), -ENOENT, "a freed PASID cannot be bound");
    cr_assert_eq(vtd_iommu_warning_count(io), 0, "%s", vtd_iommu_warning(io, 0) ? vtd_iommu_warning(io, 0) : "");
}

Test(nest, whole_vsva_flow) { whole_flow(); }
Test(nest510, whole_vsva_flow) { whole_flow(); }

/* ---- BIND errnos ---- */

Test(nest, nesting_op_header_errnos)
{
    struct op_buf b;
    memset(&b, 0, sizeof(b));
    b.hdr = (struct vfio_iommu_type1_nesting_op){ 7, VFIO_IOMMU_NESTING_OP_BIND_PGTBL };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), -EINVAL, "argsz");
    b.hdr = (struct vfio_iommu_type1_nesting_op){ 8, VFIO_IOMMU_NESTING_OP_NUM };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), -EINVAL, "unknown op");
    b.hdr = (struct vfio_iommu_type1_nesting_op){ 8, 0x10000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), -EINVAL, "flags beyond the op mask");
    b.hdr = (struct vfio_iommu_type1_nesting_op){ 8, 0xFFFF };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), -EINVAL, "op beyond OP_NUM");
}

Test(nest, nesting_op_without_devices_is_eopnotsupp)
{
    struct vtd_container *c2 = container_fixture_other(io, 2, UINT64_C(0x20000000));
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    for (unsigned op = 0; op < VFIO_IOMMU_NESTING_OP_NUM; op++)
        cr_assert_eq(vtd_container_nesting_op(c2, op, &d, sizeof(d)), -EOPNOTSUPP, "op %u", op);
    cr_assert_eq(vtd_container_nesting_op(c2, VFIO_IOMMU_NESTING_OP_NUM, &d, sizeof(d)), -EINVAL,
                 "the header is checked first");
    vtd_container_free(c2);
}

Test(nest, bind_errnos)
{
    struct iommu_gpasid_bind_data d;
#define BAD(field_stmt, err, what)                                                                              \
    do {                                                                                                          \
        d = bind_data((uint64_t)pasid);                                                                           \
        field_stmt;                                                                                               \
        cr_assert_eq(bind(&d), err, what);                                                                        \
    } while (0)
    BAD(d.argsz = 55, -EINVAL, "argsz below the vendor union");
    BAD(d.argsz = 71, -EINVAL, "argsz below the end of vendor.vtd");
    BAD(d.version = 2, -EINVAL, "version");
    BAD(d.format = 0, -EINVAL, "format not VT-d");
    BAD(d.format = 2, -EINVAL, "format beyond LAST");
    BAD(d.flags = 2, -EINVAL, "flags beyond GPASID_VAL");
    BAD(d.padding[3] = 1, -EINVAL, "padding");
    BAD(d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_LAST, -EINVAL, "vendor flags beyond LAST");
    BAD(d.hpasid = 0, -EINVAL, "hpasid 0");
    BAD(d.hpasid = 1u << 20, -EINVAL, "hpasid beyond 20 bits");
    BAD(d.hpasid = 7, -ENOENT, "hpasid never allocated");
    BAD(d.addr_width = 39, -EINVAL, "addr_width");
    BAD(d.gpgd = UINT64_C(0x1001000), -EINVAL, "gpgd above the domain's max_addr (end of the highest mapping)");
    BAD(d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_PCD, -EINVAL, "5.10 refuses every memory-type flag");
    BAD(d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_CD, -EINVAL, "CD too");
#undef BAD
    d = bind_data((uint64_t)pasid);
    d.gpgd = UINT64_C(0x1000000);
    cr_assert_eq(bind(&d), 0, "gpgd == max_addr passes ('>' in intel_pasid_setup_nested)");
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    d = bind_data((uint64_t)pasid);
    d.flags = IOMMU_SVA_GPASID_VAL;
    d.gpasid = 5;
    d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_EAFE;
    cr_assert_eq(bind(&d), 0);
}

/* A second bind of the same PASID: -EBUSY, and VFIO's roll-back unbind removes the first. */
Test(nest, repeated_bind_is_ebusy_and_rolls_back)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    struct vtd_dma_result r;
    cr_assert_eq(bind(&d), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(bind(&d), -EBUSY);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_PASID_P, "the roll-back tore the first bind down");
    cr_assert_eq(bind(&d), 0, "and the PASID can be bound again");
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    /* A bind that fails a VT-d check after the generic ones rolls back the same way. */
    d.format = 0;
    cr_assert_eq(bind(&d), -EINVAL);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_PASID_P);
    /* One that fails the generic checks never reaches the unbind. */
    d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    d.version = 2;
    cr_assert_eq(bind(&d), -EINVAL);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0, "still bound");
}

Test(nest, unbind_errnos_stay_in_the_iommu_layer)
{
    struct iommu_gpasid_bind_data d = bind_data(0);
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -ENOENT, "PASID 0 was never allocated (ioasid_find)");
    d.hpasid = 1u << 20;
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -EINVAL, "beyond PASID_MAX");
    d.hpasid = UINT32_MAX;
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -EINVAL, "INVALID_IOASID");
    d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    d.hpasid = (UINT64_C(1) << 32) | (uint64_t)pasid;
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), 0, "hpasid is truncated to an ioasid_t");
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_PASID_P, "so that unbind took PASID 1 down");
    d.version = 3;
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -EINVAL, "the generic checks apply to unbind too");
}

/* gpgd is checked against max_addr, which an unmap of the top mapping lowers to the start of
 * the last piece intel_iommu_unmap was given. */
Test(nest, gpgd_limit_follows_max_addr)
{
    struct vfio_iommu_type1_dma_map m = { sizeof(m), VFIO_DMA_MAP_FLAG_READ, HOST_RAM + 0x2000000, 0x2000000,
                                          0x201000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_MAP_DMA, &m), 0);
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    d.gpgd = 0x2201000;
    cr_assert_eq(bind(&d), 0, "the end of the new top mapping");
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    struct vfio_iommu_type1_dma_unmap u = { sizeof(u), 0, 0x2000000, 0x201000 };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
    cr_assert_eq(u.size, 0x201000);
    cr_assert_eq(bind(&d), -EINVAL, "max_addr fell to 0x2200000, the start of the last 4 KiB piece");
    d.gpgd = 0x2200000;
    cr_assert_eq(bind(&d), 0, "not to the mapping's start: 5.10 lowers it piece by piece");
}

Test(nest, bind_never_overwrites_a_present_entry)
{
    struct vfio_iommu_type1_pasid_request r = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { 2, 2 } };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r), 2);
    /* Someone (not a bind) made PASID 2's entry present: find its slot by binding and unbinding. */
    struct iommu_gpasid_bind_data d = bind_data(2);
    cr_assert_eq(bind(&d), 0);
    struct vtd_request req = { .sid = DEV_PLAIN, .pasid_valid = true, .pasid = 2, .addr = VA, .access = VTD_ACC_R };
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0);
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0, "unbind of an unbound PASID: VFIO says 0");
    cr_assert_eq(vtd_container_last_op_error(c), 0);
    d.hpasid = 9;
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -ENOENT, "the iommu layer's answer is kept");
}

/* The PASID entry's writes, in order. */
struct wlog {
    unsigned n;
    uint64_t pa[256], val[256];
};
static void observe(void *arg, uint64_t pa, size_t len, const void *data, uint8_t fill)
{
    struct wlog *w = arg;
    (void)fill;
    if (len != 8 || !data || w->n >= 256)
        return;
    w->pa[w->n] = pa;
    memcpy(&w->val[w->n], data, 8);
    w->n++;
}

Test(nest, bind_sets_present_last)
{
    static struct wlog w;
    w.n = 0;
    vtd_mem_set_observer(vtd_iommu_mem(io), observe, &w);
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    vtd_mem_set_observer(vtd_iommu_mem(io), NULL, NULL);
    /* The entry: the one written with PGTT = nested. */
    int last = -1;
    for (unsigned i = 0; i < w.n; i++)
        if ((w.val[i] & VTD_PE_P) && ((w.val[i] >> 6) & 7) == VTD_PGTT_NESTED)
            last = (int)i;
    cr_assert_geq(last, 0);
    uint64_t qw0 = w.pa[last];
    unsigned seen = 0;
    for (int i = 0; i < last; i++) {
        if (w.pa[i] < qw0 || w.pa[i] >= qw0 + 64)
            continue;
        cr_assert_eq(w.val[i] & (w.pa[i] == qw0 ? VTD_PE_P : 0), 0, "present before the last write");
        seen |= 1u << ((w.pa[i] - qw0) / 8);
    }
    cr_assert_eq(seen, 0xFF, "every qword written before P");
    for (unsigned i = (unsigned)last + 1; i < w.n; i++)
        cr_assert(w.pa[i] < qw0 || w.pa[i] >= qw0 + 64, "nothing written after P");
}

/* ---- CACHE_INVLD: generic checks (both policies) ---- */

static int inv(const struct iommu_cache_invalidate_info *v) { return vtd_container_cache_invalidate(c, v); }

static void generic_errnos(void)
{
    struct iommu_cache_invalidate_info v = inv_pasid(T_IOTLB);
    v.argsz = 11;
    cr_assert_eq(inv(&v), -EINVAL, "argsz below granu");
    v = inv_pasid(T_IOTLB);
    v.argsz = 16 + 15;
    cr_assert_eq(inv(&v), -EINVAL, "argsz below pasid_info");
    v = inv_addr(T_IOTLB, VA, 4096, 1);
    v.argsz = 16 + 39;
    cr_assert_eq(inv(&v), -EINVAL, "argsz below addr_info");
    v = inv_pasid(T_IOTLB);
    v.version = 0;
    cr_assert_eq(inv(&v), -EINVAL, "version");
    v = inv_pasid(8);
    cr_assert_eq(inv(&v), -EINVAL, "cache bits beyond 0x7");
    v = inv_pasid(T_IOTLB);
    v.granularity = 3;
    cr_assert_eq(inv(&v), -EINVAL, "granularity");
    v = inv_addr(T_PASID, VA, 4096, 1);
    cr_assert_eq(inv(&v), -EINVAL, "ADDR with the PASID cache");
    v = inv_addr(T_IOTLB, VA, 4096, 1);
    v.granu.addr_info.flags |= 8;
    cr_assert_eq(inv(&v), -EINVAL, "addr flags");
    v = inv_pasid(T_IOTLB);
    v.granu.pasid_info.flags |= 4;
    cr_assert_eq(inv(&v), -EINVAL, "pasid flags");
    v = inv_domain(T_DEV);
    cr_assert_eq(inv(&v), -EINVAL, "DOMAIN with DEV_IOTLB");
    v = inv_pasid(T_IOTLB);
    v.padding[5] = 1;
    cr_assert_eq(inv(&v), -EINVAL, "padding");
    v = inv_addr(T_IOTLB, VA, UINT64_C(1) << 40, UINT64_C(1) << 30);
    cr_assert_eq(inv(&v), -EINVAL, "granule_size x nb_granules overflows");
    /* The VFIO path swallows all of it. */
    struct op_buf b;
    memset(&b, 0, sizeof(b));
    b.hdr = (struct vfio_iommu_type1_nesting_op){ sizeof(b), VFIO_IOMMU_NESTING_OP_CACHE_INVLD };
    b.u.inv = inv_pasid(T_IOTLB);
    b.u.inv.version = 9;
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_NESTING_OP, &b), 0);
    cr_assert_eq(vtd_container_last_op_error(c), -EINVAL);
}

Test(nest, cache_invld_generic_errnos) { generic_errnos(); }
Test(nest510, cache_invld_generic_errnos) { generic_errnos(); }

/* ---- both policies on every cell ---- */

enum { G_DOMAIN, G_PASID, G_ADDR };
struct cell {
    uint8_t cache;
    unsigned granu;
    int err;            /* the iommu layer's answer */
    bool iotlb_removed; /* the stale IOTLB entry of the plain device is gone */
    bool devtlb_removed; /* the stale device-TLB entry of the ATS device is gone */
    bool pc_removed;    /* the PASID-cache entry is gone */
};

static const struct cell spec_cells[] = {
    { .cache = T_DEV, .granu = G_DOMAIN, .err = -EINVAL },
    { .cache = T_IOTLB, .granu = G_DOMAIN, .err = 0, .iotlb_removed = true },
    { .cache = T_PASID, .granu = G_DOMAIN, .err = 0, .pc_removed = true },
    { .cache = T_DEV, .granu = G_PASID, .err = 0, .devtlb_removed = true },
    { .cache = T_IOTLB, .granu = G_PASID, .err = 0, .iotlb_removed = true },
    { .cache = T_PASID, .granu = G_PASID, .err = 0, .pc_removed = true },
    { .cache = T_DEV, .granu = G_ADDR, .err = 0, .devtlb_removed = true },
    { .cache = T_IOTLB, .granu = G_ADDR, .err = 0, .iotlb_removed = true },
    { .cache = T_PASID, .granu = G_ADDR, .err = -EINVAL },
};

/* linux-5.10: only IOTLB x {PASID, ADDR} and DEV_IOTLB x ADDR do anything; IOTLB also flushes
 * the device TLB of the ATS device. */
static const struct cell linux_cells[] = {
    { .cache = T_DEV, .granu = G_DOMAIN, .err = -EINVAL },
    { .cache = T_IOTLB, .granu = G_DOMAIN, .err = 0 },
    { .cache = T_PASID, .granu = G_DOMAIN, .err = 0 },
    { .cache = T_DEV, .granu = G_PASID, .err = 0 },
    { .cache = T_IOTLB, .granu = G_PASID, .err = 0, .iotlb_removed = true, .devtlb_removed = true },
    { .cache = T_PASID, .granu = G_PASID, .err = 0 },
    { .cache = T_DEV, .granu = G_ADDR, .err = 0, .devtlb_removed = true },
    { .cache = T_IOTLB, .granu = G_ADDR, .err = 0, .iotlb_removed = true, .devtlb_removed = true },
    { .cache = T_PASID, .granu = G_ADDR, .err = -EINVAL },
};

static bool pc_has(uint16_t sid)
{
    struct vtd_cache_key k = pasid_cache_key(sid, (uint32_t)pasid);
    return vtd_cache_peek(vtd_iommu_cache(io, VTD_C_PASID), &k) != NULL;
}

static void run_cell(const struct cell *cl)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    /* Fill: the plain device's IOTLB entry and the ATS device's TLB entry for two pages. */
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x1000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x1000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
    cr_assert(pc_has(DEV_PLAIN));
    /* Drop the device TLB's backing from the IOTLB (host-side, not by the policy under test)
     * so a device-TLB hit is the only way to be served stale. */
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x2000), 0);
    struct iommu_cache_invalidate_info v = cl->granu == G_DOMAIN ? inv_domain(cl->cache)
                                         : cl->granu == G_PASID  ? inv_pasid(cl->cache)
                                                                 : inv_addr(cl->cache, VA, 4096, 2);
    cr_assert_eq(inv(&v), cl->err, "cache %u granu %u", cl->cache, cl->granu);
    cr_assert_eq(!pc_has(DEV_PLAIN), cl->pc_removed, "PASID cache, cache %u granu %u", cl->cache, cl->granu);
    int rc = dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r);
    cr_assert_eq(rc == VTD_FR_FS_P, cl->iotlb_removed, "IOTLB, cache %u granu %u (rc %#x)", cl->cache, cl->granu, rc);
    /* The ATS device: a device-TLB hit serves the stale page; a miss asks the IOMMU, whose
     * IOTLB may still hold it when only the device TLB was flushed: both count as stale
     * unless the device TLB went. */
    rc = dma_p(DEV_ATS, VA + 0x1000, VTD_ACC_R, &r);
    cr_assert_eq(r.source != VTD_SRC_DEVTLB, cl->devtlb_removed, "device TLB, cache %u granu %u (src %d)", cl->cache,
                 cl->granu, r.source);
}

static void all_cells(const struct cell *cells)
{
    for (unsigned i = 0; i < 9; i++) {
        teardown();
        make(cells == spec_cells ? VTD_INV_SPEC : VTD_INV_LINUX_5_10);
        run_cell(&cells[i]);
    }
}

Test(nest, spec_policy_every_cell) { all_cells(spec_cells); }
Test(nest510, linux_policy_every_cell) { all_cells(linux_cells); }

Test(nest510, pasid_flag_missing_flushes_pasid_0)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x1000), 0);
    struct iommu_cache_invalidate_info v = inv_pasid(T_IOTLB);
    v.granu.pasid_info.flags = 0;
    cr_assert_eq(inv(&v), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert(r.stale, "PASID 0 was flushed, not ours");
}

Test(nest, spec_refuses_missing_pasid_flag)
{
    struct iommu_cache_invalidate_info v = inv_pasid(T_IOTLB);
    v.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_ARCHID;
    cr_assert_eq(inv(&v), -EINVAL);
    v = inv_addr(T_IOTLB, VA, 4096, 1);
    v.granu.addr_info.flags = 0;
    cr_assert_eq(inv(&v), -EINVAL);
    v = inv_addr(T_IOTLB, VA + 0x10, 4096, 1);
    cr_assert_eq(inv(&v), -EINVAL, "unaligned address");
    v = inv_addr(T_IOTLB, VA, 0, 1);
    cr_assert_eq(inv(&v), -EINVAL, "empty range");
}

/* ---- the fault queue ---- */

Test(nest, fault_queue_overflow_is_counted)
{
    struct vtd_dma_result r;
    for (unsigned i = 0; i < 130; i++)
        cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_W, &r), VTD_FR_PASID_P);
    cr_assert_eq(vtd_container_fault_overflows(c), 2);
    struct iommu_fault f[200];
    cr_assert_eq(vtd_container_read_faults(c, f, 200), 128);
    cr_assert_eq(f[127].event.perm, IOMMU_FAULT_PERM_WRITE);
    cr_assert_eq(f[127].event.flags, IOMMU_FAULT_UNRECOV_PASID_VALID | IOMMU_FAULT_UNRECOV_ADDR_VALID |
                                         IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID);
    /* Requests without PASID: no PASID_VALID. */
    struct vtd_request req = { .sid = DEV_PLAIN, .addr = UINT64_C(0x2000000), .access = VTD_ACC_R };
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), VTD_FR_READ);
    cr_assert_eq(vtd_container_read_faults(c, f, 200), 1);
    cr_assert_eq(f[0].event.reason, IOMMU_FAULT_REASON_PERMISSION);
    cr_assert_eq(f[0].event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID, 0);
    cr_assert_eq(f[0].event.addr, UINT64_C(0x2000000));
}

Test(nest, fault_reason_table)
{
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_CTX_P), IOMMU_FAULT_REASON_UNKNOWN);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_CTX_PDTS), IOMMU_FAULT_REASON_PASID_INVALID);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_PASID_ACCESS), IOMMU_FAULT_REASON_PASID_FETCH);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_PASID_RSVD), IOMMU_FAULT_REASON_BAD_PASID_ENTRY);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_FS_ACCESS), IOMMU_FAULT_REASON_WALK_EABT);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_SS_RSVD), IOMMU_FAULT_REASON_PTE_FETCH);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_US), IOMMU_FAULT_REASON_PERMISSION);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_FS_NEST_READ), IOMMU_FAULT_REASON_PERMISSION);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_FS_AD_NOSNOOP), IOMMU_FAULT_REASON_ACCESS);
    cr_assert_eq(vtd_container_fault_reason(VTD_FR_BEYOND_AGAW), IOMMU_FAULT_REASON_OOR_ADDRESS);
}

/* ---- page requests ---- */

static struct iommu_page_response resp(uint32_t grpid, uint32_t code)
{
    return (struct iommu_page_response){ .argsz = sizeof(struct iommu_page_response),
                                         .version = IOMMU_PAGE_RESP_VERSION_1, .flags = IOMMU_PAGE_RESP_PASID_VALID,
                                         .pasid = (uint32_t)pasid, .grpid = grpid, .code = code };
}

Test(nest, page_request_response_retry)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    const uint64_t va = VA + 0x10000; /* not mapped by the guest yet */
    struct vtd_dma_result r;
    uint64_t faults_before = vtd_iommu_stats(io)->faults;
    cr_assert_eq(dma_p(DEV_ATS, va + 0x44, VTD_ACC_W, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_container_pending_page_requests(c), 1);
    cr_assert_eq(vtd_iommu_stats(io)->page_requests, 1);
    cr_assert_eq(vtd_iommu_stats(io)->faults, faults_before, "a page request is not a fault");
    struct iommu_fault f[4];
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 1, "a page request, not a fault");
    cr_assert_eq(f[0].type, IOMMU_FAULT_PAGE_REQ);
    cr_assert_eq(f[0].prm.flags, IOMMU_FAULT_PAGE_REQUEST_PASID_VALID | IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE |
                                     IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID);
    cr_assert_eq(f[0].prm.pasid, (uint32_t)pasid);
    cr_assert_eq(f[0].prm.perm, IOMMU_FAULT_PERM_WRITE);
    cr_assert_eq(f[0].prm.addr, va);
    uint32_t g = f[0].prm.grpid;
    /* Errors first: nothing is consumed. */
    struct iommu_page_response m = resp(g, IOMMU_PAGE_RESP_SUCCESS);
    m.argsz = 23;
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "argsz");
    m = resp(g, IOMMU_PAGE_RESP_SUCCESS);
    m.version = 2;
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "version");
    m = resp(g, IOMMU_PAGE_RESP_SUCCESS);
    m.flags = 2;
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "flags");
    m = resp(g, 3);
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "code");
    m = resp(g + 1, IOMMU_PAGE_RESP_SUCCESS);
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "unknown group");
    m = resp(g, IOMMU_PAGE_RESP_SUCCESS);
    m.pasid = (uint32_t)pasid + 1;
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "the group's PASID differs");
    cr_assert_eq(vtd_container_pending_page_requests(c), 1);
    /* The VMM (guest) maps the page, then answers SUCCESS; the device retries. */
    cr_assert_eq(vtd_pt_map(&fs, va, GUEST_DATA_GPA + 0x10000, 0x1000, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U,
                            VTD_MAP_AD), 0);
    m = resp(g, IOMMU_PAGE_RESP_SUCCESS);
    cr_assert_eq(vtd_container_page_response(c, &m), 0);
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "answered already");
    cr_assert_eq(dma_p(DEV_ATS, va + 0x44, VTD_ACC_W, &r), 0);
    cr_assert_eq(r.x.out, HOST_RAM + GUEST_DATA_GPA + 0x10044);
    cr_assert_not(r.stale);
}

Test(nest, page_request_invalid_and_failure_answers)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x20000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x21000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    struct iommu_fault f[4];
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 2);
    cr_assert_neq(f[0].prm.grpid, f[1].prm.grpid, "one group per request");
    struct iommu_page_response m = resp(f[0].prm.grpid, IOMMU_PAGE_RESP_INVALID);
    cr_assert_eq(vtd_container_page_response(c, &m), 0);
    m = resp(f[1].prm.grpid, IOMMU_PAGE_RESP_FAILURE);
    cr_assert_eq(vtd_container_page_response(c, &m), 0);
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
    /* A device without PRI faults instead. */
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x20000, VTD_ACC_R, &r), VTD_FR_FS_P);
}

/* ---- iommufd's form: the same scenario ---- */

#include <linux/iommufd_vtd.h>

Test(nest, iommufd_generation_same_flow)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = fs.root, .addr_width = 48 };
    s1.addr_width = 39;
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), -EINVAL, "addr_width");
    s1.addr_width = 48;
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 77, &s1), -ENOENT);
    s1.flags = IOMMU_VTD_S1_WPE;
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x10, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x1010, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x2000), 0);
    struct iommu_hwpt_vtd_s1_invalidate inv[3] = {
        { .addr = VA, .npages = 2, .flags = IOMMU_VTD_INV_FLAGS_LEAF },
        { .addr = VA + 0x10, .npages = 1 },
        { .addr = 0, .npages = UINT64_MAX },
    };
    uint32_t n = 3;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, inv, sizeof(inv[0]), &n), -EINVAL);
    cr_assert_eq(n, 1, "the first entry was handled");
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x10, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x1010, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST, "device TLB flushed too");
    inv[1].flags = 2;
    n = 3;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &inv[1], sizeof(inv[0]), &n), -EOPNOTSUPP);
    cr_assert_eq(n, 0);
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &inv[2], sizeof(inv[0]), &n), 0);
    cr_assert_eq(n, 1);
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, inv, 16, &n), -EINVAL, "entry_len too small");
    cr_assert_eq(n, 0);
}

/* 6.8 intel_nested_domain_alloc checks neither unknown flags nor __reserved; WPE takes effect
 * only with SRE; merged 6.8+ intel_pasid_setup_nested checks no first-stage pointer at all. */
Test(nest, iommufd_alloc_ignores_unknown_flags_and_reserved)
{
    struct vfio_iommu_type1_pasid_request r = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { 2, 3 } };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r), 2);
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &r), 3);
    struct iommu_hwpt_vtd_s1 s1 = { .flags = 8, .pgtbl_addr = fs.root, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 2, &s1), 0, "unknown flag ignored");
    s1.flags = 0;
    s1.__reserved = 1;
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 3, &s1), 0, "__reserved ignored");
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 3, &s1), -EBUSY, "the entry is present");
}

/* A first-stage table beyond the second stage's reach (2^50 with a 48-bit, 4-level domain) is
 * accepted (only the pre-merge RFC refused it); the walk then fails translating the table
 * pointer through the second stage: fault 84h, the GPA is beyond the second stage's AGAW
 * (VT-d 3.8: every first-stage table address is a GPA translated by the second stage). */
Test(nest, iommufd_alloc_accepts_unreachable_table)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = UINT64_C(1) << 50, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result res;
    int fr = dma_p(DEV_PLAIN, VA, VTD_ACC_R, &res);
    cr_assert_eq(fr, VTD_FR_BEYOND_AGAW, "got %#x", fr);
    cr_assert_not(res.stale);
}

Test(nest, iommufd_invalidate_entry_rules)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = fs.root, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x2000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x3000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA + 0x3000, 0x1000), 0);
    /* npages 0 is not refused: 6.10+ flushes one page at addr, and only that page. */
    struct iommu_hwpt_vtd_s1_invalidate e[2] = { { .addr = VA + 0x3000, .npages = 0 } };
    uint32_t n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, e, sizeof(e[0]), &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x3000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x2000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_IOTLB, "the neighbouring page stays cached (not a PASID-wide flush)");
    /* A larger entry (a newer header) must have zero bytes beyond the structure. */
    unsigned char big[2][32];
    memset(big, 0, sizeof(big));
    memcpy(big[0], &e[0], sizeof(e[0]));
    memcpy(big[1], &e[0], sizeof(e[0]));
    big[1][28] = 1;
    n = 2;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, big, 32, &n), -E2BIG);
    cr_assert_eq(n, 1, "the first entry was handled");
    /* An empty array does nothing; entries with no buffer are refused. */
    n = 0;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, NULL, 0, &n), 0);
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, NULL, sizeof(e[0]), &n), -EINVAL);
    cr_assert_eq(n, 0);
    /* All-ones npages with a non-zero address. */
    e[0] = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = 0x1000, .npages = UINT64_MAX };
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, e, sizeof(e[0]), &n), -EINVAL);
    e[0] = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = 0, .npages = 1, .__reserved = 1 };
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, e, sizeof(e[0]), &n), -EOPNOTSUPP);
    /* A huge npages (beyond 2^52 pages) flushes the whole PASID. */
    e[0] = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = 0, .npages = UINT64_C(1) << 53 };
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, e, sizeof(e[0]), &n), 0);
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(NULL, 1, &s1), -EINVAL);
    cr_assert_eq(vtd_container_hwpt_invalidate(c, 1, e, sizeof(e[0]), NULL), -EINVAL);
}

/* ---- HWPT_INVALIDATE as Linux 6.8 and 6.10 answer it ---- */

/* Fill the IOTLB for VA + 0x1000 and VA + 0x2000, unmap both from the guest table, invalidate
 * them with one entry, and return whether VA + 0x2000 is then served stale. */
static bool straddling_entry_leaves_stale(void)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = fs.root, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x1000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x2000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA + 0x1000, 0x2000), 0);
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = VA + 0x1000, .npages = 2 };
    uint32_t n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &e, sizeof(e), &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x1000, VTD_ACC_R, &r), VTD_FR_FS_P, "the first page is flushed either way");
    cr_assert_not(r.stale);
    int fr = dma_p(DEV_PLAIN, VA + 0x2000, VTD_ACC_R, &r);
    cr_assert(r.stale ? fr == 0 : fr == VTD_FR_FS_P);
    return r.stale;
}

/* 6.10+ (calculate_psi_aligned_address) flushes the aligned block covering both pages. */
Test(nest, iommufd_6_10_straddling_range_is_covered) { cr_assert_not(straddling_entry_leaves_stale()); }

/* 6.8 (qi_flush_piotlb) flushes 2^ilog2(roundup(2)) = 2 pages from the address aligned down to
 * 8 KiB: VA and VA + 0x1000, so VA + 0x2000 stays in the IOTLB. */
Test(nest68, straddling_range_leaves_a_page_stale) { cr_assert(straddling_entry_leaves_stale()); }

/* 6.8: npages 0 makes qi_flush_piotlb warn and return, so the IOTLB keeps the page (6.10+
 * flushes one page: nest.iommufd_invalidate_entry_rules). */
Test(nest68, npages_zero_skips_the_iotlb_flush)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = fs.root, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x3000, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA + 0x3000, 0x1000), 0);
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = VA + 0x3000, .npages = 0 };
    uint32_t n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &e, sizeof(e), &n), 0, "not refused");
    cr_assert_eq(n, 1);
    int fr = dma_p(DEV_PLAIN, VA + 0x3000, VTD_ACC_R, &r);
    cr_assert_eq(fr, 0, "%#x", fr);
    cr_assert(r.stale, "served from the IOTLB entry 6.8 did not flush");
    /* The whole-PASID form is the same in both. */
    e = (struct iommu_hwpt_vtd_s1_invalidate){ .addr = 0, .npages = UINT64_MAX };
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &e, sizeof(e), &n), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA + 0x3000, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
}

Test(nest68, unknown_kernel_is_refused)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.did = 9;
    cc.pool_base = UINT64_C(0x30000000);
    cc.iommufd_kernel = (enum vtd_iommufd_kernel)7;
    const char *why = NULL;
    cr_assert_null(vtd_container_new(io, &cc, &why));
    cr_assert_str_eq(why, "unknown iommufd kernel");
}

/* ---- rarer paths of faults and page requests ---- */

Test(nest, fault_record_carries_exec_and_priv)
{
    struct vtd_request req = { .sid = DEV_PLAIN, .pasid_valid = true, .pasid = (uint32_t)pasid, .addr = VA,
                               .access = VTD_ACC_R | VTD_ACC_X, .priv = true };
    struct vtd_dma_result r;
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), VTD_FR_PASID_P);
    struct iommu_fault f;
    cr_assert_eq(vtd_container_read_faults(c, &f, 1), 1);
    cr_assert_eq(f.event.perm, IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_EXEC | IOMMU_FAULT_PERM_PRIV);
    cr_assert_eq(f.event.pasid, (uint32_t)pasid);
}

Test(nest, page_response_needs_the_pasid_of_a_pasid_request)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x30000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    struct iommu_fault f;
    cr_assert_eq(vtd_container_read_faults(c, &f, 1), 1);
    struct iommu_page_response m = resp(f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS);
    m.flags = 0;
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "NEEDS_PASID: PASID_VALID is required");
    cr_assert_eq(vtd_container_page_response(c, NULL), -EINVAL);
    cr_assert_eq(vtd_container_page_response(NULL, &m), -EINVAL);
    m.flags = IOMMU_PAGE_RESP_PASID_VALID;
    cr_assert_eq(vtd_container_page_response(c, &m), 0);
}

/* A request without PASID (second stage not mapped) also becomes a page request; its answer may
 * carry a PASID, which the kernel clears. */
Test(nest, page_request_without_pasid)
{
    struct vtd_request req = { .sid = DEV_ATS, .addr = UINT64_C(0x3000000), .access = VTD_ACC_R };
    struct vtd_dma_result r;
    cr_assert_eq(vtd_iommu_dma(io, &req, &r), VTD_DMA_PAGE_REQUEST);
    struct iommu_fault f;
    cr_assert_eq(vtd_container_read_faults(c, &f, 1), 1);
    cr_assert_eq(f.type, IOMMU_FAULT_PAGE_REQ);
    cr_assert_eq(f.prm.flags, IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE, "no PASID flags");
    struct iommu_page_response m = resp(f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS);
    m.pasid = 99;
    cr_assert_eq(vtd_container_page_response(c, &m), 0);
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
}

/* Pending groups are bounded by the fault queue's size; a page request the host cannot record
 * is answered Invalid Request by it (Linux handle_bad_prq_event), counted as an overflow. */
Test(nest, page_requests_are_bounded)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    for (unsigned i = 0; i < 128; i++)
        cr_assert_eq(dma_p(DEV_ATS, VA + 0x100000 + i * 0x1000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST, "%u", i);
    cr_assert_eq(vtd_container_pending_page_requests(c), 128);
    cr_assert_eq(vtd_container_fault_overflows(c), 0);
    struct vtd_pri_status ps;
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_ATS, &ps), 0);
    uint64_t invalid = ps.invalid;
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x200000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST, "the device sent it");
    cr_assert_eq(vtd_container_pending_page_requests(c), 128, "no group left");
    cr_assert_geq(vtd_container_fault_overflows(c), 1, "counted, not silent");
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_ATS, &ps), 0);
    cr_assert_eq(ps.invalid, invalid + 1, "answered Invalid Request by the host");
    /* Answer them all; now fill the fault queue, and a page request has no room. */
    static struct iommu_fault f[256];
    unsigned n = (unsigned)vtd_container_read_faults(c, f, 256);
    cr_assert_geq(n, 128);
    for (unsigned i = 0; i < n; i++)
        if (f[i].type == IOMMU_FAULT_PAGE_REQ) {
            struct iommu_page_response m = resp(f[i].prm.grpid, IOMMU_PAGE_RESP_INVALID);
            cr_assert_eq(vtd_container_page_response(c, &m), 0);
        }
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
    for (unsigned i = 0; i < 128; i++)
        cr_assert_neq(dma_p(DEV_PLAIN, VA + 0x100000, VTD_ACC_R, &r), 0);
    uint64_t over = vtd_container_fault_overflows(c);
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_ATS, &ps), 0);
    cr_assert_eq(ps.invalid, invalid + 1 + 128, "the VMM's 128 answers reached the device");
    invalid = ps.invalid;
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x300000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    cr_assert_eq(vtd_container_fault_overflows(c), over + 1, "the page request with no room is counted");
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_ATS, &ps), 0);
    cr_assert_eq(ps.invalid, invalid + 1);
    cr_assert_eq(ps.outstanding, 0, "every group was answered");
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
}

/* ---- rarer paths of bind and CACHE_INVLD ---- */

Test(nest, spec_policy_range_edges)
{
    struct iommu_cache_invalidate_info v = inv_pasid(T_IOTLB);
    v.granu.pasid_info.pasid = 1u << 20;
    cr_assert_eq(inv(&v), -EINVAL, "PASID beyond 20 bits");
    v = inv_addr(T_IOTLB, VA, 4096, 1);
    v.granu.addr_info.pasid = 1u << 20;
    cr_assert_eq(inv(&v), -EINVAL, "PASID beyond 20 bits");
    v = inv_addr(T_IOTLB, VA, 4096, 0);
    cr_assert_eq(inv(&v), -EINVAL, "no granules");
    v = inv_addr(T_IOTLB, UINT64_C(0xFFFFFFFFFFFFF000), 4096, 2);
    cr_assert_eq(inv(&v), -EINVAL, "the range wraps");
    v = inv_addr(T_IOTLB, VA, UINT64_C(1) << 63, 4);
    cr_assert_eq(inv(&v), -EINVAL, "granule_size x nb_granules overflows");
    /* A range across bit 63 needs no aligned block below 2^64: the whole PASID is flushed. */
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x1000), 0);
    v = inv_addr(T_IOTLB | T_DEV, 0, UINT64_C(1) << 62, 3);
    cr_assert_eq(inv(&v), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale, "the whole PASID went");
}

Test(nest510, addr_without_pasid_flag_flushes_pasid_0)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x1000), 0);
    struct iommu_cache_invalidate_info v = inv_addr(T_IOTLB, VA, 4096, 1);
    v.granu.addr_info.flags = 0;
    cr_assert_eq(inv(&v), 0, "5.10 flushes PASID 0 and says 0");
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert(r.stale, "PASID %d kept its stale entry", pasid);
}

/* Binds that depend on the hardware: PASID width of the device, 5-level paging, SRS, EAFS. */
static struct vtd_container *container_on(struct vtd_iommu *io2, unsigned dev_pasid_bits)
{
    struct vtd_device_config dc = { .sid = DEV_PLAIN, .pasid_bits = dev_pasid_bits };
    cr_assert_eq(vtd_iommu_add_device(io2, &dc), 0);
    struct vtd_container *c2 = container_fixture_other(io2, 4, UINT64_C(0x30000000));
    cr_assert_eq(vtd_container_attach_device(c2, DEV_PLAIN), 0);
    struct vfio_iommu_type1_dma_map m = { sizeof(m), VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, HOST_RAM, 0,
                                          UINT64_C(0x1000000) };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_MAP_DMA, &m), 0);
    struct vfio_iommu_type1_pasid_request r = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { 100, 100 } };
    cr_assert_eq(vtd_container_ioctl(c2, VFIO_IOMMU_PASID_REQUEST, &r), 100);
    return c2;
}

static int bind_on(struct vtd_container *c2, unsigned width, uint64_t vflags)
{
    struct iommu_gpasid_bind_data d = { .argsz = sizeof(d), .version = 1, .format = IOMMU_PASID_FORMAT_INTEL_VTD,
                                        .addr_width = width, .gpgd = GUEST_PT_GPA, .hpasid = 100 };
    d.vendor.vtd.flags = vflags;
    return vtd_container_nesting_op(c2, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &d, sizeof(d));
}

Test(nest, bind_depends_on_the_hardware)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.cap &= ~VTD_CAP_FS5LP;
    cfg.caps.ecap &= ~(VTD_ECAP_SRS | VTD_ECAP_EAFS);
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_container *c2 = container_on(io2, 20);
    cr_assert_eq(bind_on(c2, 57, 0), -EINVAL, "5-level paging without CAP.FS5LP");
    cr_assert_eq(bind_on(c2, 48, IOMMU_SVA_VTD_GPASID_SRE), -EINVAL, "SRE without ECAP.SRS");
    cr_assert_eq(bind_on(c2, 48, IOMMU_SVA_VTD_GPASID_EAFE), -EINVAL, "EAFE without ECAP.EAFS");
    cr_assert_eq(bind_on(c2, 48, 0), 0, "PASID 100: a new directory entry is made");
    vtd_container_free(c2);
    vtd_iommu_free(io2);
}

Test(nest, bind_with_5_level_paging)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.cap |= VTD_CAP_FS5LP;
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_container *c2 = container_on(io2, 20);
    cr_assert_eq(bind_on(c2, 57, 0), 0);
    vtd_container_free(c2);
    vtd_iommu_free(io2);
}

Test(nest, bind_needs_devices_with_20_bit_pasids)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    struct vtd_iommu *io2 = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io2);
    struct vtd_container *c2 = container_on(io2, 16);
    cr_assert_eq(bind_on(c2, 48, 0), -EINVAL);
    vtd_container_free(c2);
    vtd_iommu_free(io2);
}

Test(nest, iommufd_argument_edges)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = fs.root, .addr_width = 48 };
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 1u << 20, &s1), -EINVAL, "PASID beyond 20 bits");
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 0, &s1), -EINVAL, "PASID 0");
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, 1, NULL), -EINVAL);
    uint32_t n = 1;
    struct iommu_hwpt_vtd_s1_invalidate e = { .addr = UINT64_C(1) << 62, .npages = UINT64_C(1) << 51 };
    cr_assert_eq(vtd_container_hwpt_invalidate(NULL, 1, &e, sizeof(e), &n), -EINVAL);
    cr_assert_eq(vtd_container_hwpt_alloc_vtd_s1(c, (uint32_t)pasid, &s1), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    cr_assert_eq(vtd_pt_unmap(&fs, VA, 0x1000), 0);
    /* [2^62, 2^62 + 2^63): no aligned block below 2^64 covers it: the whole PASID. */
    n = 1;
    cr_assert_eq(vtd_container_hwpt_invalidate(c, (uint32_t)pasid, &e, sizeof(e), &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_FS_P);
    cr_assert_not(r.stale);
}

/* intel_svm_page_response: the PASID was unbound after the request: -ENODEV, group consumed. */
Test(nest, page_response_after_unbind_is_enodev)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_ATS, VA + 0x40000, VTD_ACC_R, &r), VTD_DMA_PAGE_REQUEST);
    struct iommu_fault f;
    cr_assert_eq(vtd_container_read_faults(c, &f, 1), 1);
    cr_assert_eq(op_bind(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d), 0);
    struct iommu_page_response m = resp(f.prm.grpid, IOMMU_PAGE_RESP_SUCCESS);
    cr_assert_eq(vtd_container_page_response(c, &m), -ENODEV);
    cr_assert_eq(vtd_container_pending_page_requests(c), 0, "iommu_page_response consumed it");
    cr_assert_eq(vtd_container_page_response(c, &m), -EINVAL, "nothing pending any more");
}

/* FREE of a bound PASID: the ioasid notifier tears the binding down (series v7). */
Test(nest, free_of_a_bound_pasid_unbinds_it)
{
    struct iommu_gpasid_bind_data d = bind_data((uint64_t)pasid);
    cr_assert_eq(bind(&d), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), 0);
    struct vfio_iommu_type1_pasid_request fr = { 16, VFIO_IOMMU_FLAG_FREE_PASID, { (uint32_t)pasid, (uint32_t)pasid } };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &fr), 0);
    cr_assert_eq(dma_p(DEV_PLAIN, VA, VTD_ACC_R, &r), VTD_FR_PASID_P);
    cr_assert_not(r.stale, "entry cleared and caches flushed");
    struct vfio_iommu_type1_pasid_request ar = { 16, VFIO_IOMMU_FLAG_ALLOC_PASID, { (uint32_t)pasid, (uint32_t)pasid } };
    cr_assert_eq(vtd_container_ioctl(c, VFIO_IOMMU_PASID_REQUEST, &ar), pasid);
    cr_assert_eq(bind(&d), 0, "the reallocated PASID binds again: no stale present entry");
}
