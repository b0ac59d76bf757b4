/*
 * steps_ats.c: the steps of device-TLB invalidation completion (sim/ats_inv.h): how a device
 * answers, time passing, hot-unplug, and descriptors submitted through the invalidation queue
 * in memory as a driver does (written at IQT, then IQT moved past them).
 */
#include <errno.h>

#include "runner/run_internal.h"
#include "sim/ats_inv.h"
#include "sim/regs.h"

int ex_do_ats_reply(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "ats_reply (the device must have ats: true)";
    return vtd_iommu_set_ats_reply(e->io, step_dev(e, st)->cfg.sid, (enum vtd_ats_reply)ARGV(st, A_REPLY),
                                   ARG_OR(st, A_DELAY_US, 0) * 1000);
}

int ex_do_elapse(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)o;
    vtd_iommu_advance(e->io, ARGV(st, A_US) * 1000);
    return 0;
}

int ex_do_unplug(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "unplug";
    return vtd_iommu_unplug(e->io, step_dev(e, st)->cfg.sid);
}

static uint64_t reg_value(struct ex *e, unsigned offset, unsigned width)
{
    uint64_t v = 0;
    vtd_iommu_reg_read(e->io, offset, width, &v);
    return v;
}

/*
 * The descriptor goes in the slot at IQT (a 128-bit one in a 256-bit queue with qw2 and qw3
 * zero), then IQT moves past it, which makes the IOMMU fetch. A queue that is not enabled, a
 * 256-bit descriptor in a 128-bit queue, and a full queue (IQT would reach IQH) are errors.
 */
int ex_do_qi_queue(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t q[SC_MAX_RAW];
    unsigned nqw;
    o->err_what = "qi_queue: that granularity does not exist for this descriptor type";
    if (ex_qi_desc(e, st, q, &nqw))
        return -EINVAL;
    uint64_t gsts = reg_value(e, VTD_REG_GSTS, 4), iqa = reg_value(e, VTD_REG_IQA, 8);
    uint64_t head = reg_value(e, VTD_REG_IQH, 8) & VTD_IQH_QH, tail = reg_value(e, VTD_REG_IQT, 8) & VTD_IQT_QT;
    unsigned slot_qw = (iqa & VTD_IQA_DW) ? 4 : 2;
    uint64_t size = VTD_PAGE_SIZE << vtd_field(iqa, VTD_IQA_QS), next = (tail + 8 * slot_qw) % size;
    o->err_what = "qi_queue: queued invalidation is not enabled (write IQA, then GCMD with QIE)";
    if (!(gsts & VTD_GSTS_QIES))
        return -ENXIO;
    o->err_what = "qi_queue: a 256-bit descriptor does not fit a queue of 128-bit ones (IQA.DW is 0)";
    if (nqw > slot_qw)
        return -EINVAL;
    o->err_what = "qi_queue: the queue is full (IQT would reach IQH)";
    if (next == head)
        return -ENOSPC;
    o->err_what = "qi_queue: writing the descriptor";
    for (unsigned i = 0; i < slot_qw; i++) {
        int rc = vtd_mem_write64(vtd_iommu_mem(e->io), (iqa & VTD_IQA_IQA) + tail + 8 * i, i < nqw ? q[i] : 0);
        if (rc)
            return rc;
    }
    return vtd_iommu_reg_write(e->io, VTD_REG_IQT, 8, next);
}
