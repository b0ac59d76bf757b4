/*
 * walk_ir.c: the interrupt stage (VT-d 5.1): an interrupt request, by its format, passed
 * through or remapped through the interrupt-remapping table, with the checks of 5.1.4.
 */
#include "walker/walk_internal.h"

int vtd_irte_fetch(struct vtd_walk_env *env, uint32_t index, struct vtd_irte *out, struct vtd_fault_info *f)
{
    *out = (struct vtd_irte){0};
    uint64_t irta = env->ir.irta;
    if (index >= vtd_irta_entries(irta))
        return walk_fault(f, VTD_FR_IR_INDEX_OVER, 0, 0);
    uint64_t addr = vtd_irta_table(irta) + (uint64_t)index * VTD_IRTE_SIZE, qw[2];
    env->cnt.reads++;
    /* A table beyond the host address width cannot be read either (5.1.4.1, 23h). */
    if ((addr & vtd_bits_above(env->caps->haw)) || vtd_mem_read(env->mem, addr, qw, sizeof qw))
        return walk_fault(f, VTD_FR_IR_ROOT_INVAL, addr, 0);
    bool eime = (irta & VTD_IRTA_EIME) && vtd_ecap_has(env->caps, VTD_ECAP_EIM);
    int rc = vtd_irte_decode(qw[0], qw[1], env->caps, eime, out);
    return rc ? walk_fault(f, rc, addr, 0) : 0;
}

/* A compatibility-format request keeps its own vector and destination (the xAPIC MSI fields). */
static void compat_answer(const struct vtd_request *req, struct vtd_intr *out)
{
    *out = (struct vtd_intr){
        .vector = (uint8_t)vtd_field(req->data, VTD_IRQ_DATA_COMPAT_VECTOR),
        .dest = (uint32_t)vtd_field(req->addr, VTD_IRQ_ADDR_COMPAT_DEST),
        .dm = req->addr & VTD_IRQ_ADDR_COMPAT_DM,
        .rh = req->addr & VTD_IRQ_ADDR_COMPAT_RH,
        .tm = req->data & VTD_IRQ_DATA_COMPAT_TM,
        .dlm = (unsigned)vtd_field(req->data, VTD_IRQ_DATA_COMPAT_DLM),
    };
}

static void irte_answer(const struct vtd_irte *e, uint32_t index, uint64_t irta, struct vtd_intr *out)
{
    *out = (struct vtd_intr){
        .remapped = true, .posted = e->posted, .index = index,
        .irte_addr = vtd_irta_table(irta) + (uint64_t)index * VTD_IRTE_SIZE,
        .vector = e->vector, .dest = e->dest, .dm = e->dm, .rh = e->rh, .tm = e->tm, .urgent = e->urgent,
        .dlm = e->dlm, .pda = e->pda,
    };
}

/* The remappable format: the IRTE of the request's index, then source validation (5.1.4). */
static int remap(struct vtd_walk_env *env, const struct vtd_request *req, const struct vtd_irq_req *irq,
                 struct vtd_xlate *x)
{
    struct vtd_irte e;
    const struct vtd_walk_hooks *h = env->hooks;
    x->intr.index = irq->index;
    x->intr.irte_addr = vtd_irta_table(env->ir.irta) + (uint64_t)irq->index * VTD_IRTE_SIZE;
    int rc = (h && h->irte_fetch ? h->irte_fetch : vtd_irte_fetch)(env, irq->index, &e, &x->fault);
    if (!rc && !vtd_irte_sid_ok(&e, req->sid))
        rc = walk_fault(&x->fault, VTD_FR_IR_SID_ERR, x->intr.irte_addr, 0);
    if (rc) {
        /* The IRTE's FPD covers the faults found in it (vtd_fault_qualified picks which). */
        x->fault.suppressed = e.fpd;
        return rc;
    }
    irte_answer(&e, irq->index, env->ir.irta, &x->intr);
    return 0;
}

int vtd_interrupt_translate(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x)
{
    struct vtd_irq_req irq;
    x->intr = (struct vtd_intr){0};
    x->page_shift = VTD_PAGE_SHIFT;
    int rc = vtd_irq_decode(req->addr, req->data, &irq);
    /* With remapping off every request goes through as the APIC reads it (5.1: IRES clear). */
    if (!env->ir.enabled || (!irq.remappable && env->ir.cfi)) {
        compat_answer(req, &x->intr);
        return 0;
    }
    if (!irq.remappable)
        return walk_fault(&x->fault, VTD_FR_IR_REQ_COMPAT, 0, 0);
    x->intr.index = irq.index;
    if (rc)
        return walk_fault(&x->fault, rc, 0, 0);
    return remap(env, req, &irq, x);
}
