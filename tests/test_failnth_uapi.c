/*
 * test_failnth_uapi.c: allocation-failure injection (walker/alloc.h) over a whole vSVA flow
 * through the container uAPI (host/container.h): IOMMU, devices, container, attach, MAP_DMA,
 * PASID allocation, the guest's table, BIND, DMA, CACHE_INVLD, a page request and its
 * response, iommufd's hwpt, UNBIND, FREE, UNMAP_DMA.
 *
 * For N = 1, 2, ... the Nth allocation fails. The step that meets it must fail cleanly
 * (-ENOMEM, or NULL with "out of memory" for a constructor); then, with injection off, the
 * same step is retried and must succeed (the failure left nothing half done), and the rest of
 * the flow must give the same answers as an undisturbed run, unless the model counted an
 * allocation it carried on without (vtd_iommu_stats().alloc_failures, vtd_mem_enomem_count()). After teardown no block is left
 * (vtd_alloc_live; LeakSanitizer checks the same under ASan). The sweep ends at the first N
 * the flow never reaches.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/iommufd_vtd.h>
#include <linux/vfio.h>

#include "host/container.h"
#include "sim/prq.h"
#include "walker/alloc.h"
#include "walker/builder.h"
#include "walker/mem.h"

#define DEV 0x0010
#define DEV_PRI 0x0018
#define HOST_RAM UINT64_C(0x40000000)
#define GUEST_PT UINT64_C(0x100000)
#define GUEST_DATA UINT64_C(0x800000)
#define VA UINT64_C(0x400000)

struct flow {
    struct vtd_iommu *io;
    struct vtd_container *c;
    struct vtd_pt fs;
    int pasid;
    uint64_t dma_out;  /* where the bound DMA went */
    int dma_rc, pr_rc; /* the bound DMA's and the page request DMA's answers */
};

static int dma(struct flow *f, uint16_t sid, uint64_t addr, unsigned acc, struct vtd_dma_result *r)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = true, .pasid = (uint32_t)f->pasid, .addr = addr,
                              .access = acc};
    return vtd_iommu_dma(f->io, &req, r);
}

static int nesting(struct flow *f, uint32_t op, const void *data, size_t len)
{
    return vtd_container_nesting_op(f->c, op, data, len);
}

static struct iommu_gpasid_bind_data bind_data(const struct flow *f)
{
    return (struct iommu_gpasid_bind_data){.argsz = sizeof(struct iommu_gpasid_bind_data),
                                           .version = IOMMU_GPASID_BIND_VERSION_1,
                                           .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                           .gpgd = f->fs.root, .hpasid = (uint64_t)f->pasid};
}

/* ---- the steps: each returns 0 or a negative errno ---- */

static int s_iommu(struct flow *f)
{
    struct vtd_iommu_config cfg;
    const char *why = NULL;
    vtd_iommu_config_default(&cfg);
    f->io = vtd_iommu_new(&cfg, &why);
    if (!f->io)
        cr_assert(why && strstr(why, "out of memory"), "vtd_iommu_new: %s", why ? why : "(no reason)");
    return f->io ? 0 : -ENOMEM;
}

static int s_devices(struct flow *f)
{
    struct vtd_device_config d = {.sid = DEV, .pasid_bits = 20};
    struct vtd_device_config a = {.sid = DEV_PRI, .ats = true, .pri = true, .pasid_bits = 20,
                                  .devtlb = {.sets = 8, .ways = 4}};
    int rc = vtd_iommu_add_device(f->io, &d);
    if (rc == -EEXIST)
        rc = 0; /* the retry after the second one failed */
    return rc ? rc : vtd_iommu_add_device(f->io, &a);
}

static int s_container(struct flow *f)
{
    struct vtd_container_config cc;
    const char *why = NULL;
    vtd_container_config_default(&cc);
    f->c = vtd_container_new(f->io, &cc, &why);
    if (!f->c)
        cr_assert(why && strstr(why, "out of memory"), "vtd_container_new: %s", why ? why : "(no reason)");
    return f->c ? 0 : -ENOMEM;
}

static int s_attach(struct flow *f)
{
    int rc = vtd_container_attach_device(f->c, DEV);
    if (rc == -EBUSY)
        rc = 0; /* the retry after the second one failed */
    return rc ? rc : vtd_container_attach_device(f->c, DEV_PRI);
}

static int s_map(struct flow *f)
{
    struct vfio_iommu_type1_dma_map m = {sizeof m, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, HOST_RAM, 0,
                                         UINT64_C(0x1000000)};
    return vtd_container_ioctl(f->c, VFIO_IOMMU_MAP_DMA, &m);
}

static int s_alloc_pasid(struct flow *f)
{
    struct vfio_iommu_type1_pasid_request r = {sizeof r, VFIO_IOMMU_FLAG_ALLOC_PASID, {1, 1000}};
    int rc = vtd_container_ioctl(f->c, VFIO_IOMMU_PASID_REQUEST, &r);
    if (rc > 0)
        f->pasid = rc;
    return rc > 0 ? 0 : rc;
}

static int s_guest_table(struct flow *f)
{
    int rc = vtd_pt_init(&f->fs, vtd_container_builder(f->c), VTD_PT_FS, 4, vtd_container_ss(f->c), GUEST_PT,
                         0x100000);
    return rc ? rc
              : vtd_pt_map(&f->fs, VA, GUEST_DATA, 0x4000, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD);
}

static int s_bind(struct flow *f)
{
    struct iommu_gpasid_bind_data d = bind_data(f);
    return nesting(f, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &d, sizeof d);
}

static int s_dma(struct flow *f)
{
    struct vtd_dma_result r;
    f->dma_rc = dma(f, DEV, VA + 0x123, VTD_ACC_W, &r);
    f->dma_out = f->dma_rc ? 0 : r.x.out;
    return 0;
}

static int s_invalidate(struct flow *f)
{
    struct iommu_cache_invalidate_info v = {.argsz = sizeof v, .version = 1, .cache = IOMMU_CACHE_INV_TYPE_IOTLB,
                                            .granularity = IOMMU_INV_GRANU_ADDR};
    v.granu.addr_info = (struct iommu_inv_addr_info){.flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = (uint64_t)f->pasid,
                                                     .addr = VA, .granule_size = 4096, .nb_granules = 1};
    int rc = nesting(f, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, &v, sizeof v);
    return rc ? rc : vtd_container_last_op_error(f->c);
}

/* The PRI device touches an unmapped page: a page request, which the VMM answers. */
static int s_page_request(struct flow *f)
{
    struct vtd_dma_result r;
    f->pr_rc = dma(f, DEV_PRI, VA + 0x10000, VTD_ACC_R, &r);
    if (f->pr_rc != VTD_DMA_PAGE_REQUEST)
        return f->pr_rc == 0 ? -EIO : 0; /* a fault instead: checked against the undisturbed run */
    struct iommu_fault buf[4];
    int n = vtd_container_read_faults(f->c, buf, 4);
    struct vtd_pri_status ps;
    if (n == 0 && vtd_iommu_pri_status(f->io, DEV_PRI, &ps) == 0 && ps.invalid == 1)
        return 0; /* the host could not record it and answered it Invalid Request (counted) */
    if (n != 1 || buf[0].type != IOMMU_FAULT_PAGE_REQ)
        return -EIO;
    struct iommu_page_response m = {sizeof m, IOMMU_PAGE_RESP_VERSION_1, IOMMU_PAGE_RESP_PASID_VALID,
                                    (uint32_t)f->pasid, buf[0].prm.grpid, IOMMU_PAGE_RESP_SUCCESS};
    return vtd_container_page_response(f->c, &m);
}

static int s_hwpt(struct flow *f)
{
    struct iommu_hwpt_vtd_s1_invalidate e = {VA, 1, 0, 0};
    uint32_t num = 1;
    return vtd_container_hwpt_invalidate(f->c, (uint32_t)f->pasid, &e, sizeof e, &num);
}

static int s_unbind(struct flow *f)
{
    struct iommu_gpasid_bind_data d = bind_data(f);
    int rc = nesting(f, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &d, sizeof d);
    return rc ? rc : vtd_container_last_op_error(f->c);
}

static int s_free_pasid(struct flow *f)
{
    struct vfio_iommu_type1_pasid_request r = {sizeof r, VFIO_IOMMU_FLAG_FREE_PASID,
                                               {(uint32_t)f->pasid, (uint32_t)f->pasid}};
    return vtd_container_ioctl(f->c, VFIO_IOMMU_PASID_REQUEST, &r);
}

static int s_unmap(struct flow *f)
{
    struct vfio_iommu_type1_dma_unmap u = {sizeof u, 0, 0, UINT64_C(0x1000000)};
    return vtd_container_ioctl(f->c, VFIO_IOMMU_UNMAP_DMA, &u);
}

static const struct {
    const char *name;
    int (*fn)(struct flow *f);
} steps[] = {
    {"iommu", s_iommu},     {"devices", s_devices},   {"container", s_container}, {"attach", s_attach},
    {"map_dma", s_map},     {"alloc_pasid", s_alloc_pasid}, {"guest_table", s_guest_table}, {"bind", s_bind},
    {"dma", s_dma},         {"invalidate", s_invalidate}, {"page_request", s_page_request}, {"hwpt", s_hwpt},
    {"unbind", s_unbind},   {"free_pasid", s_free_pasid}, {"unmap_dma", s_unmap},
};

static void teardown_flow(struct flow *f)
{
    vtd_container_free(f->c);
    vtd_iommu_free(f->io);
}

/*
 * The flow with allocation `nth` failing (0: none). Returns whether that allocation was
 * reached; *ref (when nth > 0) is the undisturbed run to compare with.
 */
static bool run_flow(uint64_t nth, struct flow *out, const struct flow *ref)
{
    struct flow f;
    memset(&f, 0, sizeof f);
    int64_t live = vtd_alloc_live();
    vtd_alloc_fail_nth(nth);
    bool delivered = false;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = steps[i].fn(&f);
        if (!delivered && vtd_alloc_fault_delivered()) {
            delivered = true;
            vtd_alloc_fail_nth(0);
            /* The failure must be reported as such, or be one the model tolerates. */
            cr_assert(rc == 0 || rc == -ENOMEM, "allocation %llu failing: step %s returned %d",
                      (unsigned long long)nth, steps[i].name, rc);
            if (rc) {
                rc = steps[i].fn(&f);
                cr_assert_eq(rc, 0, "allocation %llu failing: step %s failed again on retry (%d)",
                             (unsigned long long)nth, steps[i].name, rc);
            }
        }
        cr_assert_eq(rc, 0, "allocation %llu failing: step %s returned %d", (unsigned long long)nth, steps[i].name, rc);
    }
    vtd_alloc_fail_nth(0);
    /* An allocation the model carried on without (a page request the host could not record
     * is answered Invalid Request, as when the kernel cannot report it) is counted, never silent. */
    bool degraded = vtd_iommu_stats(f.io)->alloc_failures || vtd_mem_enomem_count(vtd_iommu_mem(f.io));
    if (ref && !degraded) {
        cr_assert_eq(f.dma_rc, ref->dma_rc, "allocation %llu failing: the bound DMA answered 0x%x, not 0x%x",
                     (unsigned long long)nth, f.dma_rc, ref->dma_rc);
        cr_assert_eq(f.dma_out, ref->dma_out);
        cr_assert_eq(f.pr_rc, ref->pr_rc, "allocation %llu failing: the page request DMA answered 0x%x, not 0x%x",
                     (unsigned long long)nth, f.pr_rc, ref->pr_rc);
    }
    teardown_flow(&f);
    cr_assert_eq(vtd_alloc_live(), live, "allocation %llu failing: %lld blocks leaked", (unsigned long long)nth,
                 (long long)(vtd_alloc_live() - live));
    if (out)
        *out = f;
    return delivered;
}

Test(failnth_uapi, vsva_flow)
{
    struct flow ref;
    run_flow(0, &ref, NULL);
    cr_assert_eq(ref.dma_rc, 0, "undisturbed: the bound DMA goes through");
    cr_assert_eq(ref.dma_out, HOST_RAM + GUEST_DATA + 0x123);
    cr_assert_eq(ref.pr_rc, VTD_DMA_PAGE_REQUEST, "undisturbed: the PRI device sends a page request");
    uint64_t nth = 1;
    while (run_flow(nth, NULL, &ref))
        nth++;
    cr_assert_gt(nth, 20, "the flow made only %llu allocations", (unsigned long long)nth - 1);
    cr_log_info("vSVA flow: %llu allocations, each failed once", (unsigned long long)nth - 1);
}
