/*
 * test_prq_host.c: the host driver model's side of the page request queue (host/prq.c): the
 * queue the first container sets up, the handler draining it into the container's fault queue
 * (multi-page groups, private data), a request nobody takes answered Invalid Request, and an
 * overflow while the event was masked, drained and PRO cleared once the queue is empty.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <linux/iommu.h>

#include "container_fixture.h"
#include "sim/prq.h"
#include "sim/regs.h"

#define DEV_LONE 0x0020 /* a PRI device no container has */

static struct vtd_iommu *io;
static struct vtd_container *c;

static void setup(void)
{
    container_fixture(&io, &c, VTD_INV_SPEC);
    struct vtd_device_config d = {.sid = DEV_LONE, .ats = true, .pri = true, .pasid_bits = 20,
                                  .devtlb = {.sets = 2, .ways = 2}};
    cr_assert_eq(vtd_iommu_add_device(io, &d), 0);
}

static void teardown(void)
{
    vtd_container_free(c);
    vtd_iommu_free(io);
}

TestSuite(prq_host, .init = setup, .fini = teardown);

static uint64_t rd(unsigned off, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(vtd_iommu_reg_read(io, off, size, &v), 0);
    return v;
}

static int send(uint16_t sid, unsigned prgi, uint64_t addr, bool last)
{
    struct vtd_page_request pr = {.sid = sid, .pasid_present = true, .pasid = 1, .write = true, .last = last,
                                  .prgi = prgi, .addr = addr};
    return vtd_iommu_page_request(io, &pr);
}

Test(prq_host, the_container_sets_up_the_queue_and_unmasks_the_event)
{
    cr_assert_neq(rd(VTD_REG_PQA, 8) & VTD_PQA_PQA, 0, "a page from the container's pool");
    cr_assert_eq(rd(VTD_REG_PQA, 8) & VTD_PQA_PQS, 0);
    cr_assert_eq(rd(VTD_REG_PECTL, 4), 0);
}

Test(prq_host, a_multi_page_group_drained_into_the_fault_queue)
{
    struct vtd_page_request pr = {.sid = DEV_ATS, .pasid_present = true, .pasid = 1, .read = true, .prgi = 9,
                                  .addr = 0x7000, .data = {0xAB, 0}};
    cr_assert_eq(vtd_iommu_page_request(io, &pr), VTD_PRQ_QUEUED);
    cr_assert_eq(send(DEV_ATS, 9, 0x8000, true), VTD_PRQ_QUEUED);
    cr_assert_eq(rd(VTD_REG_PQH, 8), rd(VTD_REG_PQT, 8), "drained");
    cr_assert_eq(rd(VTD_REG_PRS, 4), 0);
    cr_assert_eq(vtd_iommu_prq_stats(io)->messages, 2);
    struct iommu_fault f[4];
    cr_assert_eq(vtd_container_read_faults(c, f, 4), 2);
    cr_assert_eq(f[0].prm.grpid, 9);
    cr_assert_eq(f[0].prm.flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE, 0);
    cr_assert(f[0].prm.flags & IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA);
    cr_assert_eq(f[0].prm.private_data[0], 0xAB);
    cr_assert_eq(f[0].prm.perm, IOMMU_FAULT_PERM_READ);
    cr_assert(f[1].prm.flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE);
    cr_assert_eq(f[1].prm.flags & IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA, 0);
    cr_assert_eq(f[1].prm.perm, IOMMU_FAULT_PERM_WRITE);
    cr_assert_eq(f[1].prm.addr, 0x8000);
    cr_assert_eq(vtd_container_pending_page_requests(c), 1, "one group, pending once its last page came");
}

Test(prq_host, a_request_nobody_takes_is_answered_invalid)
{
    cr_assert_eq(send(DEV_LONE, 3, 0x1000, false), VTD_PRQ_QUEUED);
    cr_assert_eq(send(DEV_LONE, 3, 0x2000, true), VTD_PRQ_QUEUED);
    struct vtd_pri_status s;
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_LONE, &s), 0);
    cr_assert_eq(s.invalid, 1, "the last page got the answer; the middle one none");
    cr_assert_eq(s.outstanding, 0);
    cr_assert_eq(vtd_container_pending_page_requests(c), 0);
}

Test(prq_host, overflow_while_masked_then_drained_and_pro_cleared)
{
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_PECTL, 4, VTD_ECTL_IM), 0);
    for (unsigned i = 0; i < 127; i++)
        cr_assert_eq(send(DEV_ATS, i, (uint64_t)i << 12, true), VTD_PRQ_QUEUED, "%u", i);
    cr_assert_eq(send(DEV_ATS, 200, 0x200000, true), VTD_PRQ_AUTO_SUCCESS);
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PPR | VTD_PRS_PRO);
    cr_assert_eq(vtd_iommu_prq_stats(io)->messages, 0);
    /* Unmasking sends the held message: the handler drains all 127 and clears PRO. */
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_PECTL, 4, 0), 0);
    cr_assert_eq(vtd_iommu_prq_stats(io)->messages, 1);
    cr_assert_eq(rd(VTD_REG_PRS, 4), 0, "PRS %llx PQH %llx PQT %llx", (unsigned long long)rd(VTD_REG_PRS, 4),
                 (unsigned long long)rd(VTD_REG_PQH, 8), (unsigned long long)rd(VTD_REG_PQT, 8));
    cr_assert_eq(rd(VTD_REG_PQH, 8), rd(VTD_REG_PQT, 8));
    cr_assert_eq(vtd_container_pending_page_requests(c), 127);
    /* The fault queue (128 records) takes one more; the one after is answered Invalid. */
    cr_assert_eq(send(DEV_ATS, 300, 0x300000, true), VTD_PRQ_QUEUED);
    cr_assert_eq(vtd_container_pending_page_requests(c), 128);
    uint64_t over = vtd_container_fault_overflows(c);
    cr_assert_eq(send(DEV_ATS, 301, 0x301000, false), VTD_PRQ_QUEUED);
    cr_assert_eq(vtd_container_fault_overflows(c), over + 1, "a middle page with no room: counted");
    struct vtd_pri_status s;
    cr_assert_eq(vtd_iommu_pri_status(io, DEV_ATS, &s), 0);
    cr_assert_eq(s.invalid, 0, "no answer for a page that is not the last");
}
