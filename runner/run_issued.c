/*
 * run_issued.c: which hardware descriptors a uAPI step made the host layer issue. The IOMMU's
 * descriptor listener (sim/iommu.h) hears every descriptor it processes; during a uAPI step
 * (container_attach ... hwpt_invalidate) they are kept for the step's `expect: descriptors`
 * and logged in the result with the step (vtdsim run -v, the JSON report, translate --explain).
 * A qi step's descriptor is the user's own and is not logged.
 */
#include <errno.h>
#include <string.h>

#include "runner/run_internal.h"
#include "walker/alloc.h"

static void on_descriptor(void *arg, const uint64_t *desc, unsigned nqw, int rc)
{
    struct ex *e = arg;
    ex_audit_desc(e, desc, nqw, rc);
    if (!e->recording)
        return;
    if (e->nstep_desc < SC_STEP_ISSUED_MAX) {
        struct vtd_desc *d = &e->step_desc[e->nstep_desc];
        *d = (struct vtd_desc){.nqw = nqw};
        memcpy(d->qw, desc, nqw * sizeof desc[0]);
        e->step_rc[e->nstep_desc++] = rc;
    }
    e->step_desc_total++;
}

void ex_issued_listen(struct ex *e) { vtd_iommu_set_qi_listener(e->io, on_descriptor, e); }

void ex_issued_begin(struct ex *e, const struct sc_step *st)
{
    e->recording = st->kind >= SK_CONTAINER_ATTACH;
    e->nstep_desc = 0;
    e->step_desc_total = 0;
}

/* The step's descriptors into the result's log (the first SC_MAX_ISSUED_KEPT of the file). */
void ex_issued_end(struct ex *e, const struct sc_step *st)
{
    struct sc_result *r = e->r;
    e->recording = false;
    r->issued_total += e->step_desc_total;
    for (unsigned i = 0; i < e->nstep_desc && r->nissued < SC_MAX_ISSUED_KEPT; i++) {
        if (!r->issued && !(r->issued = vtd_calloc(SC_MAX_ISSUED_KEPT, sizeof *r->issued)))
            return; /* a log is a convenience: without memory the steps still run and check */
        r->issued[r->nissued++] = (struct sc_issued){.step = e->step_no, .line = st->line, .kind = st->kind,
                                                     .d = e->step_desc[i], .rc = e->step_rc[i]};
    }
}

/* Whether an issued descriptor is the one a spec describes: the same type and fields (the
 * first two qwords; the others are reserved in every type). */
static bool desc_matches(const uint64_t *want, const struct vtd_desc *got)
{
    return want[0] == got->qw[0] && want[1] == got->qw[1];
}

static void print_desc(FILE *f, unsigned i, const uint64_t *qw, unsigned nqw, int rc)
{
    char t[160];
    vtd_qi_describe(qw, nqw, t, sizeof t);
    /* The qwords too: two descriptors may differ in a field the description leaves out. */
    fprintf(f, "      %u. %s (qw0 0x%llx, qw1 0x%llx)%s%s\n", i + 1, t, (unsigned long long)qw[0],
            (unsigned long long)qw[1], rc ? ", refused: " : "", rc ? strerror(-rc) : "");
}

/* expect: descriptor_count: how many the step issued, kept or not. */
static bool check_issued_count(struct ex *e, const struct sc_step *st)
{
    const struct sc_expect *x = &st->expect;
    if (!x->given[E_DESC_COUNT])
        return true;
    e->r->checks++;
    if (e->step_desc_total == x->v[E_DESC_COUNT])
        return true;
    fprintf(ex_miss(e, st), "    expected descriptor_count %llu, the host layer issued %llu\n",
            (unsigned long long)x->v[E_DESC_COUNT], (unsigned long long)e->step_desc_total);
    return false;
}

bool ex_check_issued(struct ex *e, const struct sc_step *st)
{
    const struct sc_expect *x = &st->expect;
    uint64_t want[SC_MAX_LIST][SC_MAX_RAW];
    unsigned nqw[SC_MAX_LIST];
    bool same;
    bool count_ok = check_issued_count(e, st);
    if (!x->has_desc)
        return count_ok;
    e->r->checks++;
    for (unsigned i = 0; i < x->ndesc; i++)
        if (ex_qi_desc(e, &x->desc[i], want[i], &nqw[i])) {
            fprintf(ex_miss(e, st), "    expect: descriptors entry %u (line %u): that granularity does not exist for "
                                    "its descriptor type\n", i + 1, x->desc[i].line);
            return false;
        }
    same = e->step_desc_total == x->ndesc;
    for (unsigned i = 0; same && i < x->ndesc; i++)
        same = desc_matches(want[i], &e->step_desc[i]);
    if (same)
        return count_ok;
    FILE *f = ex_miss(e, st);
    fprintf(f, "    expected %u descriptor%s:\n", x->ndesc, x->ndesc == 1 ? "" : "s");
    for (unsigned i = 0; i < x->ndesc; i++)
        print_desc(f, i, want[i], nqw[i], 0);
    fprintf(f, "    the host layer issued %llu:\n", (unsigned long long)e->step_desc_total);
    for (unsigned i = 0; i < e->nstep_desc; i++)
        print_desc(f, i, e->step_desc[i].qw, e->step_desc[i].nqw, e->step_rc[i]);
    if (e->step_desc_total > e->nstep_desc)
        fprintf(f, "      ... %llu more\n", (unsigned long long)(e->step_desc_total - e->nstep_desc));
    return false;
}
