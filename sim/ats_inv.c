/*
 * ats_inv.c: device-TLB invalidation requests outstanding at the devices, their completions,
 * invalid completions (ICE) and time-outs (ITE), on the IOMMU's own clock. The rules, and the
 * choices where the specification leaves freedom, are in sim/ats_inv.h and docs/invalidation.md
 * ("Device-TLB invalidation completion and time-out").
 */
#include "sim/ats_inv.h"

#include <errno.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/regs.h"

#define NEVER UINT64_MAX

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t timeout_ns(const struct vtd_iommu *io)
{
    return io->ats.timeout_ns ? io->ats.timeout_ns : VTD_ATS_INV_TIMEOUT_DEFAULT_NS;
}

/* When the device's answer to request p arrives (NEVER: it does not). */
static uint64_t reply_time(const struct vtd_device *d, const struct ats_pending *p)
{
    if (!d || d->unplugged)
        return NEVER;
    switch (d->ats_reply) {
    case VTD_ATS_REPLY_NOW: return p->issued_ns;
    case VTD_ATS_REPLY_DELAYED: return add_sat(p->issued_ns, d->ats_delay_ns);
    case VTD_ATS_REPLY_BAD_ITAG: return p->ice_done ? NEVER : add_sat(p->issued_ns, d->ats_delay_ns);
    default: return NEVER;
    }
}

/* The next thing to happen to request p: its answer if that comes by the time-out, else the
 * time-out. */
static uint64_t event_time(struct vtd_iommu *io, const struct ats_pending *p)
{
    uint64_t reply = reply_time(iommu_device(io, p->sid), p), deadline = add_sat(p->issued_ns, timeout_ns(io));
    return reply <= deadline ? reply : deadline;
}

/* The request with the earliest event, NEVER when none is outstanding. */
static uint64_t next_event(struct vtd_iommu *io, unsigned *which)
{
    uint64_t best = NEVER;
    for (unsigned i = 0; i < io->ats.npend; i++) {
        uint64_t t = event_time(io, &io->ats.pend[i]);
        if (t < best) {
            best = t;
            *which = i;
        }
    }
    return best;
}

static void pending_remove(struct iommu_ats *a, unsigned i)
{
    memmove(&a->pend[i], &a->pend[i + 1], (a->npend - i - 1) * sizeof a->pend[0]);
    a->npend--;
}

/* A request was answered: a held wait completes once none is left before it, and the queue goes
 * on (it may also have stopped for want of a free request slot). */
static void queue_resume(struct vtd_iommu *io)
{
    struct iommu_ats *a = &io->ats;
    if (a->wait_held && !a->npend) {
        a->wait_held = false;
        iommu_qi_complete(io, a->wait_desc, a->wait_nqw);
    }
    if (io->regs.gsts & VTD_GSTS_QIES)
        iommu_qi_drain(io);
}

static void request_completed(struct vtd_iommu *io, unsigned i)
{
    struct ats_pending p = io->ats.pend[i];
    pending_remove(&io->ats, i);
    iommu_qi_complete(io, p.desc, p.nqw);
    queue_resume(io);
}

/* A completion whose ITag matches no request (6.5.2.10): ICE with the sender in ICESID; the
 * completion is dropped and the request stays outstanding. */
static void bad_completion(struct vtd_iommu *io, struct ats_pending *p)
{
    p->ice_done = true;
    io->regs.iqercd = (io->regs.iqercd & ~VTD_IQERCD_ICESID) | vtd_field_prep(p->sid, VTD_IQERCD_ICESID);
    iommu_fault_status_set(io, (uint32_t)VTD_FSTS_ICE);
}

/* No answer by the deadline (6.5.2.10): ITE with the device in ITESID; the held wait is aborted
 * and the requests still outstanding are abandoned; the queue stays stopped until ITE is clear. */
static void request_timed_out(struct vtd_iommu *io, const struct ats_pending *p)
{
    io->regs.iqercd = (io->regs.iqercd & ~VTD_IQERCD_ITESID) | vtd_field_prep(p->sid, VTD_IQERCD_ITESID);
    io->ats.npend = 0;
    io->ats.wait_held = false;
    iommu_fault_status_set(io, (uint32_t)VTD_FSTS_ITE);
}

static void event_happen(struct vtd_iommu *io, unsigned i)
{
    struct ats_pending *p = &io->ats.pend[i];
    const struct vtd_device *d = iommu_device(io, p->sid);
    if (reply_time(d, p) > add_sat(p->issued_ns, timeout_ns(io)))
        request_timed_out(io, p);
    else if (d->ats_reply == VTD_ATS_REPLY_BAD_ITAG)
        bad_completion(io, p);
    else
        request_completed(io, i);
}

void vtd_iommu_advance(struct vtd_iommu *io, uint64_t ns)
{
    uint64_t end = add_sat(io->ats.now_ns, ns);
    unsigned i = 0;
    /* NEVER is no event, even when the clock saturates there. */
    for (uint64_t t; (t = next_event(io, &i)) != NEVER && t <= end;) {
        io->ats.now_ns = t > io->ats.now_ns ? t : io->ats.now_ns;
        event_happen(io, i);
    }
    io->ats.now_ns = end;
}

int vtd_iommu_set_ats_reply(struct vtd_iommu *io, uint16_t sid, enum vtd_ats_reply reply, uint64_t delay_ns)
{
    struct vtd_device *d = iommu_device(io, sid);
    if (!d)
        return -ENODEV;
    if (!d->ats || (unsigned)reply > VTD_ATS_REPLY_BAD_ITAG)
        return -EINVAL;
    d->ats_reply = reply;
    d->ats_delay_ns = delay_ns;
    vtd_iommu_advance(io, 0); /* an answer now due arrives */
    return 0;
}

int vtd_iommu_unplug(struct vtd_iommu *io, uint16_t sid)
{
    struct vtd_device *d = iommu_device(io, sid);
    if (!d)
        return -ENODEV;
    d->unplugged = true;
    if (d->devtlb)
        vtd_cache_reset(d->devtlb);
    return 0;
}

void vtd_iommu_set_inv_timeout(struct vtd_iommu *io, uint64_t ns) { io->ats.timeout_ns = ns; }
uint64_t vtd_iommu_now(const struct vtd_iommu *io) { return io->ats.now_ns; }
unsigned vtd_iommu_inv_outstanding(const struct vtd_iommu *io) { return io->ats.npend; }

bool iommu_ats_slots_full(const struct vtd_iommu *io) { return io->ats.npend == IOMMU_ATS_PENDING_MAX; }

bool iommu_ats_defer(struct vtd_iommu *io, const struct vtd_device *dev, const uint64_t *desc, unsigned nqw)
{
    struct iommu_ats *a = &io->ats;
    if (!a->from_queue || a->completing || (!dev->unplugged && dev->ats_reply == VTD_ATS_REPLY_NOW) ||
        a->npend == IOMMU_ATS_PENDING_MAX)
        return false;
    struct ats_pending *p = &a->pend[a->npend++];
    *p = (struct ats_pending){.nqw = nqw, .sid = dev->sid, .issued_ns = a->now_ns};
    memcpy(p->desc, desc, nqw * sizeof desc[0]);
    return true;
}

void iommu_ats_reset(struct vtd_iommu *io)
{
    io->ats = (struct iommu_ats){0};
    for (unsigned b = 0; b < 256; b++)
        for (unsigned i = 0; io->bus[b] && i < 256; i++) {
            struct vtd_device *d = io->bus[b]->dev[i];
            if (d) {
                d->ats_reply = VTD_ATS_REPLY_NOW;
                d->ats_delay_ns = 0;
                d->unplugged = false;
            }
        }
}
