/*
 * steps_interrupt.c: the interrupt-remapping steps: `irt` (a table, IRTA_REG latched and
 * remapping enabled), `irte` (one entry written, whole or one half) and `interrupt` (one
 * interrupt request, checked against its expectations here).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runner/run_internal.h"
#include "walker/irte.h"

int ex_do_irt(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t entries = ARG_OR(st, A_COUNT, 256);
    /* 2^(S+1) entries (11.4.12). */
    unsigned s = (unsigned)__builtin_ctzll(entries) - 1;
    uint64_t irta = ARGV(st, A_ADDR) | vtd_field_prep(s, VTD_IRTA_S) | (ARG_OR(st, A_EIME, 0) ? VTD_IRTA_EIME : 0);
    o->err_what = "irt (the IOMMU has no interrupt remapping: give caps ir: true)";
    if (!vtd_ecap_has(vtd_iommu_caps(e->io), VTD_ECAP_IR))
        return -ENODEV;
    vtd_iommu_set_irt(e->io, irta, ARG_OR(st, A_CFI, 0));
    return 0;
}

/* The IRTE's SID: a device's, a "bb:dd.f", or a raw value (bus ranges for SVT bus). */
static uint16_t irte_sid(const struct ex *e, const struct sc_step *st)
{
    if (HAS(st, A_DEVICE))
        return e->s->dev[ARGV(st, A_DEVICE)].cfg.sid;
    return (uint16_t)(HAS(st, A_SID) ? ARGV(st, A_SID) : ARG_OR(st, A_SID_VALUE, 0));
}

static struct vtd_irte irte_of(const struct ex *e, const struct sc_step *st)
{
    bool has_sid = HAS(st, A_DEVICE) || HAS(st, A_SID) || HAS(st, A_SID_VALUE);
    return (struct vtd_irte){
        .present = ARG_OR(st, A_PRESENT, 1), .fpd = ARG_OR(st, A_FPD, 0), .posted = ARG_OR(st, A_POSTED, 0),
        .dm = ARG_OR(st, A_DEST_MODE, 0), .rh = ARG_OR(st, A_RH, 0), .tm = ARG_OR(st, A_TRIGGER, 0),
        .dlm = (unsigned)ARG_OR(st, A_DLM, 0), .vector = (uint8_t)ARG_OR(st, A_VECTOR, 0),
        .dest = (uint32_t)ARG_OR(st, A_DEST, 0), .sid = irte_sid(e, st), .sq = (unsigned)ARG_OR(st, A_SQ, 0),
        /* Naming a requester means checking it (SVT 01b), as Linux's set_irte_sid does. */
        .svt = (unsigned)ARG_OR(st, A_SVT, has_sid ? VTD_SVT_SID : VTD_SVT_NONE),
        .urgent = ARG_OR(st, A_URGENT, 0), .pda = ARG_OR(st, A_PDA, 0),
    };
}

int ex_do_irte(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_ir_cfg ir = vtd_iommu_ir(e->io);
    o->err_what = "irte (no interrupt-remapping table: an irt step, or IRTA_REG and GCMD.SIRTP, comes first)";
    if (!vtd_irta_table(ir.irta))
        return -ENODEV;
    uint64_t index = ARG_OR(st, A_INDEX, 0);
    o->err_what = "irte (index beyond the table's entries)";
    if (index >= vtd_irta_entries(ir.irta))
        return -ERANGE;
    struct vtd_irte ent = irte_of(e, st);
    uint64_t qw[2];
    vtd_irte_encode(&ent, ir.irta & VTD_IRTA_EIME, &qw[0], &qw[1]);
    uint64_t addr = vtd_irta_table(ir.irta) + index * VTD_IRTE_SIZE;
    o->err_what = "irte (writing the entry)";
    /* half: one qword only, as a driver that updates a present entry with two 64-bit stores. */
    if (HAS(st, A_HALF))
        return vtd_mem_write(vtd_iommu_mem(e->io), addr + 8 * ARGV(st, A_HALF), &qw[ARGV(st, A_HALF)], 8);
    return vtd_mem_write(vtd_iommu_mem(e->io), addr, qw, sizeof qw);
}

/* ---- the interrupt step and its expectations ---- */

static void miss_u64(struct ex *e, const struct sc_step *st, const char *what, uint64_t want, uint64_t got)
{
    fprintf(ex_miss(e, st), "    expected %s 0x%" PRIx64 ", got 0x%" PRIx64 "\n", what, want, got);
}

/* One expectation on a field of the delivered interrupt. */
static void check_field(struct ex *e, const struct sc_step *st, enum sc_exp id, const char *what, uint64_t got)
{
    if (!st->expect.given[id])
        return;
    e->r->checks++;
    if (st->expect.v[id] != got)
        miss_u64(e, st, what, st->expect.v[id], got);
}

static void check_fault(struct ex *e, const struct sc_step *st, int rc)
{
    const struct sc_expect *x = &st->expect;
    char a[48], b[48];
    e->r->checks++;
    if (x->given[E_FAULT] && x->v[E_FAULT] == SC_FAULT_ANY) {
        if (!rc)
            fprintf(ex_miss(e, st), "    expected a fault, got none\n");
        return;
    }
    int want = x->given[E_FAULT] ? (int)x->v[E_FAULT] : 0;
    if (rc != want)
        fprintf(ex_miss(e, st), "    expected %s, got %s\n", want ? ex_fault_str(want, a) : "no fault",
                rc ? ex_fault_str(rc, b) : "no fault");
}

static void check_stale(struct ex *e, const struct sc_step *st, const struct vtd_dma_result *res)
{
    const struct sc_expect *x = &st->expect;
    /* A stale answer nobody expected is a failure, as for DMA. */
    bool want = x->given[E_STALE] ? x->v[E_STALE] : false;
    e->r->checks++;
    if (res->stale != want)
        fprintf(ex_miss(e, st), "    expected %s, got %s%s%s\n", want ? "a stale interrupt" : "no stale interrupt",
                res->stale ? "stale (fix: " : "not stale", res->stale ? res->report.fix : "", res->stale ? ")" : "");
    if (x->given[E_FIX]) {
        e->r->checks++;
        if (!res->stale || !strstr(res->report.fix, x->fix))
            fprintf(ex_miss(e, st), "    expected a fix containing \"%s\", got \"%s\"\n", x->fix,
                    res->stale ? res->report.fix : "");
    }
    if (x->given[E_SOURCE]) {
        e->r->checks++;
        if ((uint64_t)res->source != x->v[E_SOURCE])
            fprintf(ex_miss(e, st), "    expected source %s, got %s\n", vtd_source_name((enum vtd_source)x->v[E_SOURCE]),
                    vtd_source_name(res->source));
    }
}

static void check_interrupt(struct ex *e, const struct sc_step *st, int rc, const struct vtd_dma_result *res)
{
    const struct vtd_intr *i = &res->x.intr;
    check_fault(e, st, rc);
    check_stale(e, st, res);
    check_field(e, st, E_READS, "reads", res->reads);
    if (rc)
        return;
    check_field(e, st, E_VECTOR, "vector", i->vector);
    check_field(e, st, E_DEST, "destination", i->dest);
    check_field(e, st, E_DEST_MODE, "dest_mode (1: logical)", i->dm);
    check_field(e, st, E_TRIGGER, "trigger (1: level)", i->tm);
    check_field(e, st, E_DLM, "delivery mode", i->dlm);
    check_field(e, st, E_POSTED, "posted", i->posted);
    check_field(e, st, E_PDA, "posted-interrupt descriptor address", i->pda);
    check_field(e, st, E_REMAPPED, "remapped", i->remapped);
}

int ex_do_interrupt(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    const struct sc_device *dev = step_dev(e, st);
    o->req = (struct vtd_request){.sid = dev->cfg.sid, .addr = ARGV(st, A_ADDR), .access = VTD_ACC_W,
                                  .kind = VTD_REQ_INTERRUPT, .data = (uint32_t)ARG_OR(st, A_DATA, 0)};
    o->err_what = "interrupt (the address is not in the interrupt range 0xFEEx_xxxx)";
    if (!vtd_irq_addr_is_interrupt(o->req.addr))
        return -EINVAL;
    o->fault = vtd_iommu_interrupt(e->io, &o->req, &o->res);
    e->r->requests++;
    if (st->has_expect)
        check_interrupt(e, st, o->fault, &o->res);
    return 0;
}
