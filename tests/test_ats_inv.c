/*
 * test_ats_inv.c: device-TLB invalidation completion and time-out (sim/ats_inv.h) through the
 * invalidation queue in memory: answers at once, after a delay, never (ITE, ITESID, the wait
 * aborted, the queue halted until ITE is cleared), with a bad ITag (ICE, ICESID), hot-unplug,
 * request slots running out, and the API's errors.
 */
#include <errno.h>

#include "sim_fixture.h"

#include "sim/ats_inv.h"
#include "sim/regs.h"

#define QBASE UINT64_C(0x700000)
#define STATUS UINT64_C(0x7f0000)
#define MS (UINT64_C(1000) * 1000)

TestSuite(ats_inv, .init = setup, .fini = teardown);

static uint64_t reg(unsigned off, unsigned width)
{
    uint64_t v = 0;
    cr_assert_eq(vtd_iommu_reg_read(io, off, width, &v), 0);
    return v;
}

/* A queue of 256-bit descriptors at QBASE, enabled with translation kept on. */
static void queue_on(void)
{
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_IQA, 8, QBASE | VTD_IQA_DW), 0);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_TE | VTD_GCMD_QIE), 0);
}

/* Write a descriptor at IQT and move IQT past it (the IOMMU fetches at once). */
static void queue(struct vtd_desc d)
{
    uint64_t tail = reg(VTD_REG_IQT, 8);
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(vtd_mem_write64(vtd_iommu_mem(io), QBASE + tail + 8 * i, i < d.nqw ? d.qw[i] : 0), 0);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_IQT, 8, tail + 32), 0);
}

static uint32_t status(void)
{
    uint32_t v = 0;
    cr_assert_eq(vtd_mem_read(vtd_iommu_mem(io), STATUS, &v, sizeof v), 0);
    return v;
}

/* A device-TLB entry for PASID 1 at 0x10000 (the ATS device's translation request filled it). */
static void devtlb_filled(void)
{
    struct vtd_pasid_cfg c;
    struct vtd_pt t;
    cr_assert_eq(world_pasid(&w, &ats_ctx, 1, VTD_PGTT_FS, 4, 0, &t, NULL, &c), 0);
    cr_assert_eq(vtd_pt_map(&t, 0x10000, 0x80000, 0x1000, 12, RWU, 0), 0);
    struct vtd_dma_result r;
    cr_assert_eq(dma(ATS_SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(dma(ATS_SID, 1, 0x10000, VTD_ACC_R, &r), 0);
    cr_assert_eq(r.source, VTD_SRC_DEVTLB);
}

static unsigned devtlb_entries(void) { return vtd_cache_count(vtd_iommu_devtlb(io, ATS_SID)); }

/* The device-TLB invalidation of that entry, then a wait writing 1 to STATUS. */
static void invalidate_and_wait(void)
{
    queue(vtd_desc_p_devtlb(ATS_SID, 0, 0, 1, false, vtd_devtlb_size_encode(0x10000, 0)));
    queue(vtd_desc_wait(VTD_QI_WAIT_SW, 1, STATUS));
}

Test(ats_inv, a_device_answering_at_once_completes_in_order)
{
    devtlb_filled();
    queue_on();
    invalidate_and_wait();
    cr_assert_eq(devtlb_entries(), 0);
    cr_assert_eq(status(), 1);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 0);
}

Test(ats_inv, a_delayed_answer_holds_the_wait)
{
    devtlb_filled();
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_DELAYED, 2 * MS), 0);
    invalidate_and_wait();
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 1);
    cr_assert_eq(reg(VTD_REG_IQH, 8), 64, "the wait was fetched");
    cr_assert_eq(status(), 0);
    cr_assert_eq(devtlb_entries(), 1);
    vtd_iommu_advance(io, 2 * MS - 1);
    cr_assert_eq(status(), 0);
    vtd_iommu_advance(io, 1);
    cr_assert_eq(status(), 1);
    cr_assert_eq(devtlb_entries(), 0);
    cr_assert_eq(vtd_iommu_now(io), 2 * MS);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), 0);
}

Test(ats_inv, no_answer_times_out_and_halts_the_queue_until_ite_is_cleared)
{
    devtlb_filled();
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    invalidate_and_wait();
    vtd_iommu_advance(io, VTD_ATS_INV_TIMEOUT_DEFAULT_NS - 1);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), 0);
    vtd_iommu_advance(io, 1);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), VTD_FSTS_ITE);
    cr_assert_eq(vtd_field(reg(VTD_REG_IQERCD, 8), VTD_IQERCD_ITESID), ATS_SID);
    cr_assert(reg(VTD_REG_FECTL, 4) & VTD_ECTL_IP, "a fault event, held while masked");
    cr_assert_eq(status(), 0, "the wait was aborted");
    cr_assert_eq(devtlb_entries(), 1);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 0);
    /* Halted: a new wait is not fetched until ITE is cleared. */
    queue(vtd_desc_wait(VTD_QI_WAIT_SW, 2, STATUS));
    cr_assert_eq(reg(VTD_REG_IQH, 8), 64);
    cr_assert_eq(status(), 0);
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NOW, 0), 0);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_FSTS, 4, VTD_FSTS_ITE), 0);
    cr_assert_eq(status(), 2);
    cr_assert_eq(reg(VTD_REG_IQH, 8), 96);
}

Test(ats_inv, a_bad_itag_raises_ice_then_the_request_times_out)
{
    devtlb_filled();
    queue_on();
    vtd_iommu_set_inv_timeout(io, 10 * MS);
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_BAD_ITAG, MS), 0);
    invalidate_and_wait();
    vtd_iommu_advance(io, MS);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), VTD_FSTS_ICE);
    cr_assert_eq(vtd_field(reg(VTD_REG_IQERCD, 8), VTD_IQERCD_ICESID), ATS_SID);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 1, "the bad completion is dropped");
    vtd_iommu_advance(io, 9 * MS);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), VTD_FSTS_ICE | VTD_FSTS_ITE);
    cr_assert_eq(status(), 0);
}

Test(ats_inv, an_unplugged_device_never_answers)
{
    devtlb_filled();
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_DELAYED, MS), 0);
    invalidate_and_wait();
    cr_assert_eq(vtd_iommu_unplug(io, ATS_SID), 0);
    cr_assert_eq(devtlb_entries(), 0, "its TLB went with it");
    vtd_iommu_advance(io, 2 * MS);
    cr_assert_eq(status(), 0);
    vtd_iommu_advance(io, VTD_ATS_INV_TIMEOUT_DEFAULT_NS);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), VTD_FSTS_ITE);
}

Test(ats_inv, requests_beyond_the_slots_wait_at_iqh)
{
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    for (unsigned i = 0; i < 17; i++)
        queue(vtd_desc_p_devtlb(ATS_SID, 0, 0, 1, false, vtd_devtlb_size_encode(0x10000 + 0x1000 * i, 0)));
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 16);
    cr_assert_eq(reg(VTD_REG_IQH, 8), 16 * 32, "the 17th is not sent");
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NOW, 0), 0);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 0);
    cr_assert_eq(reg(VTD_REG_IQH, 8), 17 * 32);
}

Test(ats_inv, an_invalid_wait_behind_a_request_is_a_queue_error)
{
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    queue(vtd_desc_p_devtlb(ATS_SID, 0, 0, 1, false, vtd_devtlb_size_encode(0x10000, 0)));
    struct vtd_desc bad = vtd_desc_wait(VTD_QI_WAIT_SW, 1, STATUS);
    bad.qw[0] |= UINT64_C(1) << 8; /* reserved */
    queue(bad);
    cr_assert_eq(reg(VTD_REG_FSTS, 4), VTD_FSTS_IQE);
    cr_assert_eq(reg(VTD_REG_IQH, 8), 32, "IQH points at the invalid wait");
}

Test(ats_inv, direct_submission_is_answered_at_once)
{
    devtlb_filled();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    p_devtlb(ATS_SID, 1, false, 0x10000, NULL);
    cr_assert_eq(devtlb_entries(), 0);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 0);
}

Test(ats_inv, the_clock_saturates_without_inventing_events)
{
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    vtd_iommu_set_inv_timeout(io, UINT64_MAX);
    queue(vtd_desc_p_devtlb(ATS_SID, 0, 0, 1, false, vtd_devtlb_size_encode(0x10000, 0)));
    vtd_iommu_advance(io, UINT64_MAX);
    vtd_iommu_advance(io, 1);
    cr_assert_eq(vtd_iommu_now(io), UINT64_MAX);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 1, "a deadline past the end of time never comes");
    cr_assert_eq(reg(VTD_REG_FSTS, 4), 0);
}

Test(ats_inv, api_errors_and_reset)
{
    cr_assert_eq(vtd_iommu_set_ats_reply(io, vtd_sid(9, 0, 0), VTD_ATS_REPLY_NEVER, 0), -ENODEV);
    cr_assert_eq(vtd_iommu_set_ats_reply(io, SID, VTD_ATS_REPLY_NEVER, 0), -EINVAL, "not an ATS device");
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, (enum vtd_ats_reply)7, 0), -EINVAL);
    cr_assert_eq(vtd_iommu_unplug(io, vtd_sid(9, 0, 0)), -ENODEV);
    queue_on();
    cr_assert_eq(vtd_iommu_set_ats_reply(io, ATS_SID, VTD_ATS_REPLY_NEVER, 0), 0);
    queue(vtd_desc_p_devtlb(ATS_SID, 0, 0, 1, false, vtd_devtlb_size_encode(0x10000, 0)));
    vtd_iommu_advance(io, 5);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 1);
    vtd_iommu_reset(io);
    cr_assert_eq(vtd_iommu_inv_outstanding(io), 0);
    cr_assert_eq(vtd_iommu_now(io), 0);
}
