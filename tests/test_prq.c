/*
 * test_prq.c: the page request queue in memory (sim/prq.h): descriptors written at PQT, PRS.PPR
 * and the page request event (PECTL IM/IP, the message and its handler), a full queue (PRO,
 * discarded requests, the IOMMU's own Success for a last page), multi-page groups, page group
 * responses matched to groups by the device (Success, Invalid Request, Response Failure, an
 * unknown group), and every refusal.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/iommu.h"
#include "sim/prq.h"
#include "sim/qi.h"
#include "sim/qi_desc.h"
#include "sim/regs.h"
#include "walker/caps.h"
#include "walker/mem.h"

#define PRI_SID 0x0300
#define PLAIN_SID 0x0308
#define QBASE UINT64_C(0x200000)

static struct vtd_iommu *io;
static unsigned handled; /* messages the handler received */

static void handler(void *arg)
{
    (void)arg;
    handled++;
}

static struct vtd_iommu *new_iommu(uint64_t ecap_clear)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    cfg.caps.ecap &= ~ecap_clear;
    const char *why = NULL;
    struct vtd_iommu *n = vtd_iommu_new(&cfg, &why);
    cr_assert_not_null(n, "%s", why ? why : "");
    struct vtd_device_config pri = {.sid = PRI_SID, .ats = true, .pri = true, .pasid_bits = 20,
                                    .devtlb = {.sets = 4, .ways = 2}};
    struct vtd_device_config plain = {.sid = PLAIN_SID};
    cr_assert_eq(vtd_iommu_add_device(n, &pri), 0);
    cr_assert_eq(vtd_iommu_add_device(n, &plain), 0);
    return n;
}

static uint64_t rd(unsigned off, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(vtd_iommu_reg_read(io, off, size, &v), 0);
    return v;
}

static void wr(unsigned off, unsigned size, uint64_t v) { cr_assert_eq(vtd_iommu_reg_write(io, off, size, v), 0); }

/* The driver's set-up (Linux intel_svm_enable_prq): head and tail 0, then the queue's place. */
static void setup(void)
{
    io = new_iommu(0);
    handled = 0;
    wr(VTD_REG_PQH, 8, 0);
    wr(VTD_REG_PQT, 8, 0);
    wr(VTD_REG_PQA, 8, QBASE | 0); /* one page: 128 descriptors */
    vtd_iommu_set_prq_handler(io, handler, NULL);
}

static void teardown(void) { vtd_iommu_free(io); }

TestSuite(prq, .init = setup, .fini = teardown);

static struct vtd_page_request page(unsigned prgi, uint64_t addr, bool last)
{
    return (struct vtd_page_request){.sid = PRI_SID, .pasid_present = true, .pasid = 5, .read = true,
                                     .last = last, .prgi = prgi, .addr = addr};
}

static struct vtd_pri_status status(void)
{
    struct vtd_pri_status s;
    cr_assert_eq(vtd_iommu_pri_status(io, PRI_SID, &s), 0);
    return s;
}

static void respond(uint16_t sid, unsigned prgi, unsigned rc)
{
    struct vtd_qi_result r;
    struct vtd_desc d = vtd_desc_pgrp_resp(sid, true, 5, prgi, rc);
    cr_assert_eq(vtd_qi_submit_desc(io, &d, &r), 0);
}

Test(prq, descriptor_round_trip)
{
    struct vtd_page_request pr = {.sid = 0x1234, .pasid_present = true, .pasid = 0xABCDE, .read = true,
                                  .write = true, .exec = true, .priv = true, .last = true, .prgi = 0x1FF,
                                  .addr = UINT64_C(0x7FFFF000), .data = {0x11, 0x22}};
    uint64_t qw[4];
    vtd_prq_desc_encode(&pr, qw);
    cr_assert_eq(qw[0], UINT64_C(0x1) | VTD_PRQ_QW0_PP | (UINT64_C(0x1234) << 16) | (UINT64_C(0xABCDE) << 32) |
                            VTD_PRQ_QW0_ER | VTD_PRQ_QW0_PM);
    cr_assert_eq(qw[1], UINT64_C(0x7FFFF000) | (UINT64_C(0x1FF) << 3) | 0x7);
    struct vtd_page_request back;
    cr_assert_eq(vtd_prq_desc_decode(qw, &back), 0);
    cr_assert(back.sid == pr.sid && back.pasid_present && back.pasid == pr.pasid && back.read && back.write &&
              back.exec && back.priv && back.last && back.prgi == pr.prgi && back.addr == pr.addr &&
              back.data[0] == 0x11 && back.data[1] == 0x22);
    qw[0] = 0x9; /* a page group response's type is not a page request */
    cr_assert_eq(vtd_prq_desc_decode(qw, &back), -EINVAL);
    /* Without a PASID, the PASID, ER and PM fields stay zero. */
    struct vtd_page_request np = {.sid = 1, .write = true, .addr = 0x5000};
    vtd_prq_desc_encode(&np, qw);
    cr_assert_eq(qw[0], UINT64_C(0x1) | (UINT64_C(1) << 16));
    cr_assert_eq(qw[1], UINT64_C(0x5000) | 0x2);
}

Test(prq, request_written_at_the_tail_sets_ppr_and_holds_the_event_while_masked)
{
    struct vtd_page_request pr = page(3, 0x4000, true);
    pr.data[0] = 0xDA7A;
    cr_assert_eq(vtd_iommu_page_request(io, &pr), VTD_PRQ_QUEUED);
    uint64_t qw[4];
    cr_assert_eq(vtd_mem_read(vtd_iommu_mem(io), QBASE, qw, sizeof qw), 0);
    struct vtd_page_request back;
    cr_assert_eq(vtd_prq_desc_decode(qw, &back), 0);
    cr_assert_eq(back.prgi, 3);
    cr_assert_eq(back.addr, 0x4000);
    cr_assert_eq(qw[2], 0xDA7A, "private data in qword 2");
    cr_assert_eq(rd(VTD_REG_PQT, 8), 32);
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PPR);
    /* PECTL comes out of reset masked: the event waits in IP, nobody is told. */
    cr_assert_eq(rd(VTD_REG_PECTL, 4), VTD_ECTL_IM | VTD_ECTL_IP);
    cr_assert_eq(handled, 0);
    cr_assert_eq(vtd_iommu_prq_stats(io)->events, 1);
    /* A second request while PPR is set is no new event. */
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 4, .last = true}),
                 VTD_PRQ_QUEUED);
    cr_assert_eq(vtd_iommu_prq_stats(io)->events, 1);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 64);
    /* Unmasking sends the held message. */
    wr(VTD_REG_PECTL, 4, 0);
    cr_assert_eq(handled, 1);
    cr_assert_eq(rd(VTD_REG_PECTL, 4), 0);
    cr_assert_eq(vtd_iommu_prq_stats(io)->messages, 1);
    cr_assert_eq(status().outstanding, 2);
    cr_assert(vtd_iommu_pri_waiting(io, PRI_SID, 3));
    cr_assert_not(vtd_iommu_pri_waiting(io, PRI_SID, 5));
}

Test(prq, clearing_ppr_services_a_held_event)
{
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .last = true}), VTD_PRQ_QUEUED);
    cr_assert(rd(VTD_REG_PECTL, 4) & VTD_ECTL_IP);
    wr(VTD_REG_PRS, 4, VTD_PRS_PPR);
    cr_assert_eq(rd(VTD_REG_PRS, 4), 0);
    cr_assert_eq(rd(VTD_REG_PECTL, 4), VTD_ECTL_IM, "IP cleared with the status it stood for");
    wr(VTD_REG_PECTL, 4, 0);
    cr_assert_eq(handled, 0, "nothing was pending any more");
    /* Unmasked, the next event's message goes at once. */
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 1, .last = true}),
                 VTD_PRQ_QUEUED);
    cr_assert_eq(handled, 1);
    cr_assert_eq(rd(VTD_REG_PECTL, 4), 0);
}

Test(prq, event_message_registers_hold_what_software_wrote)
{
    wr(VTD_REG_PEDATA, 4, 0xFFFF0041);
    wr(VTD_REG_PEADDR, 4, 0xFEE00003);
    wr(VTD_REG_PEUADDR, 4, 0x12345678);
    cr_assert_eq(rd(VTD_REG_PEDATA, 4), 0x41);
    cr_assert_eq(rd(VTD_REG_PEADDR, 4), 0xFEE00000);
    cr_assert_eq(rd(VTD_REG_PEUADDR, 4), 0x12345678);
    cr_assert_str_eq(vtd_iommu_reg_name(io, VTD_REG_PEADDR), "PEADDR");
}

/* 128 slots, one always empty: 127 requests fit. The next is discarded with PRO set; a last
 * page is answered Success by the IOMMU, so its group is free again. */
Test(prq, full_queue_sets_pro_and_answers_last_pages_itself)
{
    for (unsigned i = 0; i < 127; i++)
        cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = i, .last = true}),
                     VTD_PRQ_QUEUED, "%u", i);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 127 * 32);
    struct vtd_page_request mid = page(200, 0x1000, false), last = page(201, 0x2000, true);
    cr_assert_eq(vtd_iommu_page_request(io, &mid), VTD_PRQ_DROPPED);
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PPR | VTD_PRS_PRO);
    cr_assert_eq(vtd_iommu_page_request(io, &last), VTD_PRQ_AUTO_SUCCESS);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 127 * 32, "nothing written");
    cr_assert_not(vtd_iommu_pri_waiting(io, PRI_SID, 201), "answered");
    struct vtd_pri_status s = status();
    cr_assert_eq(s.success, 1);
    cr_assert_eq(s.open, 1, "group 200's page was discarded; the device still thinks it open");
    const struct vtd_prq_stats *st = vtd_iommu_prq_stats(io);
    cr_assert_eq(st->dropped, 2);
    cr_assert_eq(st->auto_responses, 1);
    cr_assert_eq(st->queued, 127);
    /* Software drains (PQH to the tail); PRO still discards until it is cleared. */
    wr(VTD_REG_PQH, 8, rd(VTD_REG_PQT, 8));
    cr_assert_eq(vtd_iommu_page_request(io, &last), VTD_PRQ_AUTO_SUCCESS);
    wr(VTD_REG_PRS, 4, VTD_PRS_PPR | VTD_PRS_PRO);
    cr_assert_eq(vtd_iommu_page_request(io, &last), VTD_PRQ_QUEUED);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 0, "the tail wrapped to the start of the queue");
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PPR);
}

Test(prq, pro_on_an_empty_status_is_an_event)
{
    wr(VTD_REG_PECTL, 4, 0);
    wr(VTD_REG_PQH, 8, 32); /* head one ahead of the tail: full at once */
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID}), VTD_PRQ_DROPPED);
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PRO);
    cr_assert_eq(handled, 1);
}

Test(prq, multi_page_group_then_one_response)
{
    for (unsigned p = 0; p < 3; p++)
        cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 7, .read = true,
                                                                           .addr = 0x10000 + p * 0x1000, .last = p == 2}),
                     VTD_PRQ_QUEUED);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 96);
    cr_assert_eq(status().outstanding, 1);
    cr_assert_eq(status().open, 0);
    /* The group's index is busy until its response. */
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 7, .last = true}),
                 -EBUSY);
    respond(PRI_SID, 7, VTD_PRG_RC_SUCCESS);
    cr_assert_eq(status().outstanding, 0);
    cr_assert_eq(status().success, 1);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 7, .last = true}),
                 VTD_PRQ_QUEUED);
}

Test(prq, responses_matched_to_groups)
{
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 1, .last = true}), 0);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 2, .last = true}), 0);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 9}), 0);
    respond(PRI_SID, 2, VTD_PRG_RC_INVALID);
    cr_assert_eq(status().invalid, 1);
    cr_assert(vtd_iommu_pri_waiting(io, PRI_SID, 1), "the other group still waits");
    /* A group never sent, and one still open (its last page not sent): unexpected. */
    respond(PRI_SID, 300, VTD_PRG_RC_SUCCESS);
    respond(PRI_SID, 9, VTD_PRG_RC_SUCCESS);
    struct vtd_pri_status s = status();
    cr_assert(s.unexpected_index);
    cr_assert_eq(s.unexpected, 2);
    cr_assert_eq(s.outstanding, 1);
    cr_assert_eq(s.success, 0);
    /* Responses to a device without PRI, or no device, reach nobody. */
    respond(PLAIN_SID, 1, VTD_PRG_RC_SUCCESS);
    respond(0x0777, 1, VTD_PRG_RC_SUCCESS);
    cr_assert(vtd_iommu_pri_waiting(io, PRI_SID, 1));
    struct vtd_pri_status ps;
    cr_assert_eq(vtd_iommu_pri_status(io, PLAIN_SID, &ps), 0);
    cr_assert_eq(ps.unexpected, 0);
}

Test(prq, response_failure_stops_the_device_until_reset)
{
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 1, .last = true}), 0);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 2, .last = true}), 0);
    respond(PRI_SID, 1, VTD_PRG_RC_FAILURE);
    struct vtd_pri_status s = status();
    cr_assert(s.response_failure);
    cr_assert_eq(s.failure, 1);
    cr_assert_eq(s.outstanding, 0, "every group forgotten");
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 3, .last = true}),
                 -ECANCELED);
    cr_assert_eq(vtd_iommu_pri_reset(io, PRI_SID), 0);
    cr_assert_not(status().response_failure);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .prgi = 3, .last = true}), 0);
    /* A code the device does not know counts as Response Failure. */
    respond(PRI_SID, 3, 0x5);
    cr_assert(status().response_failure);
    cr_assert_eq(vtd_iommu_pri_reset(io, 0x0777), -ENODEV);
}

Test(prq, refusals)
{
    struct vtd_page_request pr = page(1, 0x1000, true);
    cr_assert_eq(vtd_iommu_page_request(NULL, &pr), -EINVAL);
    cr_assert_eq(vtd_iommu_page_request(io, NULL), -EINVAL);
    pr.prgi = 512;
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -EINVAL, "a 9-bit index");
    pr = page(1, 0x1000, true);
    pr.pasid = 1u << 20;
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -EINVAL, "a 20-bit PASID");
    pr = (struct vtd_page_request){.sid = PRI_SID, .exec = true};
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -EINVAL, "exec needs a PASID");
    pr = (struct vtd_page_request){.sid = PRI_SID, .priv = true};
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -EINVAL, "priv needs a PASID");
    pr = (struct vtd_page_request){.sid = 0x0777};
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -ENODEV);
    pr = (struct vtd_page_request){.sid = PLAIN_SID};
    cr_assert_eq(vtd_iommu_page_request(io, &pr), -EPERM, "no PRI capability");
    struct vtd_pri_status s;
    cr_assert_eq(vtd_iommu_pri_status(io, 0x0777, &s), -ENODEV);
    cr_assert_eq(vtd_iommu_pri_status(io, PRI_SID, NULL), -ENODEV);
    cr_assert_not(vtd_iommu_pri_waiting(io, PRI_SID, 600));
    cr_assert_not(vtd_iommu_pri_waiting(io, 0x0777, 1));
    /* The queue's slot cannot be written: refused, nothing advanced. */
    cr_assert_eq(vtd_mem_set_abort(vtd_iommu_mem(io), QBASE, 4096, VTD_MEM_ABORT_WRITE), 0);
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID}), -EFAULT);
    cr_assert_eq(rd(VTD_REG_PQT, 8), 0);
    cr_assert_eq(rd(VTD_REG_PRS, 4), 0);
}

Test(prq, no_page_requests_without_ecap_prs)
{
    struct vtd_iommu *n = new_iommu(VTD_ECAP_PRS);
    cr_assert_eq(vtd_iommu_page_request(n, &(struct vtd_page_request){.sid = PRI_SID}), -EOPNOTSUPP);
    vtd_iommu_free(n);
}

Test(prq, reset_forgets_groups_and_counters)
{
    cr_assert_eq(vtd_iommu_page_request(io, &(struct vtd_page_request){.sid = PRI_SID, .last = true}), 0);
    vtd_iommu_reset(io);
    cr_assert_eq(status().outstanding, 0);
    cr_assert_eq(vtd_iommu_prq_stats(io)->queued, 0);
    cr_assert_eq(rd(VTD_REG_PQA, 8), 0);
}
