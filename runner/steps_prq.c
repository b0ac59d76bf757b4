/*
 * steps_prq.c: the page_request step (a PRI device sends one page request to the IOMMU, which
 * writes it into the page request queue in memory or discards it: sim/prq.h), pri_reset
 * (software resets the device's PRI), and the expectations on them: prq (what the IOMMU did with
 * the request), prq_messages (page request event interrupts sent so far) and pri (the step's
 * device's groups and PRI status).
 */
#include <errno.h>
#include <stdio.h>

#include "runner/run_internal.h"
#include "sim/prq.h"

int ex_do_page_request(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t pasid = ARG_OR(st, A_PASID, UINT64_MAX);
    struct vtd_page_request pr = {
        .sid = step_dev(e, st)->cfg.sid, .pasid_present = pasid != UINT64_MAX,
        .pasid = pasid != UINT64_MAX ? (uint32_t)pasid : 0, .read = ARG_OR(st, A_READ, 0),
        .write = ARG_OR(st, A_WRITE, 0), .exec = ARG_OR(st, A_EXEC, 0), .priv = ARG_OR(st, A_PRIV, 0),
        .last = ARG_OR(st, A_LAST, 1), .prgi = (unsigned)ARG_OR(st, A_PRGI, 0), .addr = ARGV(st, A_ADDR),
        .data = {ARG_OR(st, A_DATA_LO, 0), ARG_OR(st, A_DATA_HI, 0)},
    };
    o->err_what = "page_request";
    int rc = vtd_iommu_page_request(e->io, &pr);
    if (rc < 0)
        return rc;
    o->has_value = true;
    o->value = (uint64_t)rc;
    return 0;
}

int ex_do_pri_reset(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "pri_reset";
    return vtd_iommu_pri_reset(e->io, step_dev(e, st)->cfg.sid);
}

/* The first miss of a step opens its failure text; later ones count as more failures. */
static FILE *miss(struct ex *e, const struct sc_step *st, FILE **f)
{
    if (!*f)
        *f = ex_miss(e, st);
    else
        e->r->failed++;
    return *f;
}

static const char *const prq_outcome_names[] = {"queued", "dropped", "auto_success"};

static const char *outcome_name(uint64_t v) { return v < 3 ? prq_outcome_names[v] : "?"; }

static void check_outcome(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    if (x->given[E_PRQ]) {
        e->r->checks++;
        if (st->kind != SK_PAGE_REQUEST || !o->has_value || o->value != x->v[E_PRQ])
            fprintf(miss(e, st, f), "    expected the page request %s, got %s\n", outcome_name(x->v[E_PRQ]),
                    st->kind != SK_PAGE_REQUEST ? "no page_request step" : !o->has_value ? "it refused" : outcome_name(o->value));
    }
    if (x->given[E_PRQ_MESSAGES]) {
        uint64_t got = vtd_iommu_prq_stats(e->io)->messages;
        e->r->checks++;
        if (got != x->v[E_PRQ_MESSAGES])
            fprintf(miss(e, st, f), "    expected %llu page request event message(s) so far, got %llu\n",
                    (unsigned long long)x->v[E_PRQ_MESSAGES], (unsigned long long)got);
    }
}

static const char *const pri_names[PRI_MAX] = {"open", "outstanding", "rf", "uprgi", "success", "invalid", "failure",
                                               "unexpected"};

static void pri_values(const struct vtd_pri_status *s, uint64_t v[PRI_MAX])
{
    v[PRI_OPEN] = s->open;
    v[PRI_OUTSTANDING] = s->outstanding;
    v[PRI_RF] = s->response_failure;
    v[PRI_UPRGI] = s->unexpected_index;
    v[PRI_SUCCESS] = s->success;
    v[PRI_INVALID] = s->invalid;
    v[PRI_FAILURE] = s->failure;
    v[PRI_UNEXPECTED] = s->unexpected;
}

static void check_pri(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_pri_expect *p = &st->expect.pri;
    struct vtd_pri_status s;
    e->r->checks++;
    if (!HAS(st, A_DEVICE) || vtd_iommu_pri_status(e->io, step_dev(e, st)->cfg.sid, &s)) {
        fprintf(miss(e, st, f), "    expect: pri needs the step's device\n");
        return;
    }
    uint64_t got[PRI_MAX];
    pri_values(&s, got);
    for (unsigned i = 0; i < PRI_MAX; i++)
        if (p->given[i] && got[i] != p->v[i])
            fprintf(miss(e, st, f), "    expected PRI %s of %s %llu, got %llu\n", pri_names[i], step_dev(e, st)->name,
                    (unsigned long long)p->v[i], (unsigned long long)got[i]);
}

void ex_check_prq(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    check_outcome(e, st, o, f);
    if (st->expect.has_pri)
        check_pri(e, st, f);
}
