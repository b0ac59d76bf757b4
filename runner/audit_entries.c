/*
 * audit_entries.c: the PASID-entry part of a run's audit (`vtdsim run --audit`). A PASID entry
 * is cached in the PASID cache by its DID and PASID (VT-d 6.2.1): software that takes one down
 * clears it, invalidates the PASID cache (6.5.2.2) and waits for that to complete (6.5.2.8)
 * before it writes the entry again, as Linux's intel_pasid_tear_down_entry does. A pasid_entry
 * step over an entry that is present, or that was cleared with no such invalidation completed
 * since, is a reuse that exposes a possibly cached old entry, whether a DMA used it or not.
 */
#include <errno.h>

#include "runner/run_internal.h"
#include "sim/qi_desc.h"
#include "walker/alloc.h"
#include "walker/bdf.h"

struct audit_entry {
    uint16_t sid;
    uint32_t pasid;
    uint16_t did;         /* of the entry last written */
    bool present;
    bool stale;           /* cleared; the PASID cache may still hold the old entry */
    bool invalidated;     /* a PASID-cache descriptor covered it since, not yet waited for */
    unsigned step;        /* the write (present) or the clear (stale) */
    unsigned inv_step;
};

struct ex_audit_entries {
    struct audit_entry *ent;
    unsigned n, cap;
    uint64_t findings;
};

struct ex_audit_entries *ex_audit_entries_new(void) { return vtd_calloc(1, sizeof(struct ex_audit_entries)); }

void ex_audit_entries_free(struct ex_audit_entries *t)
{
    if (t)
        vtd_free(t->ent);
    vtd_free(t);
}

uint64_t ex_audit_entries_findings(const struct ex_audit_entries *t) { return t ? t->findings : 0; }

static struct audit_entry *entry_of(struct ex_audit_entries *t, uint16_t sid, uint32_t pasid, bool add)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->ent[i].sid == sid && t->ent[i].pasid == pasid)
            return &t->ent[i];
    if (!add)
        return NULL;
    if (t->n == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 8;
        struct audit_entry *p = vtd_realloc(t->ent, cap * sizeof *p);
        if (!p)
            return NULL;
        t->ent = p;
        t->cap = cap;
    }
    t->ent[t->n] = (struct audit_entry){.sid = sid, .pasid = pasid};
    return &t->ent[t->n++];
}

/* The finding of a rewrite at the current step over an entry the PASID cache may hold. */
static void report_rewrite(struct ex *e, const struct sc_step *st, struct ex_audit_entries *t,
                           const struct audit_entry *en)
{
    char missing[160];
    struct vtd_desc d = en->invalidated ? vtd_desc_wait(0, 0, 0) : vtd_desc_pc(VTD_QI_PC_G_PASID, en->did, en->pasid);
    vtd_qi_describe(d.qw, d.nqw, missing, sizeof missing);
    FILE *f = ex_miss(e, st);
    fprintf(f, "    audit: PASID entry rewritten: device %s PASID %u (DID %u) ", vtd_bdf_format(en->sid).s,
            (unsigned)en->pasid, (unsigned)en->did);
    if (en->present)
        fprintf(f, "written at step %u and again at step %u over the present entry (clear it and invalidate "
                   "first)", en->step, e->step_no);
    else if (en->invalidated)
        fprintf(f, "cleared at step %u, its PASID cache invalidated at step %u but not waited for before the "
                   "write at step %u", en->step, en->inv_step, e->step_no);
    else
        fprintf(f, "cleared at step %u and written again at step %u with no PASID-cache invalidation in between",
                en->step, e->step_no);
    fprintf(f, "; missing: %s\n", missing);
    t->findings++;
}

int ex_audit_pasid_write(struct ex *e, const struct sc_step *st, struct ex_audit_entries *t, uint16_t sid,
                         uint32_t pasid, uint16_t did)
{
    struct audit_entry *en = entry_of(t, sid, pasid, true);
    if (!en)
        return -ENOMEM;
    if (en->present || en->stale)
        report_rewrite(e, st, t, en);
    *en = (struct audit_entry){.sid = sid, .pasid = pasid, .did = did, .present = true, .step = e->step_no};
    return 0;
}

void ex_audit_pasid_clear(struct ex *e, struct ex_audit_entries *t, uint16_t sid, uint32_t pasid)
{
    struct audit_entry *en = entry_of(t, sid, pasid, false);
    if (en && en->present)
        *en = (struct audit_entry){.sid = sid, .pasid = pasid, .did = en->did, .stale = true, .step = e->step_no};
}

/* Whether a PASID-cache descriptor covers the entry (6.5.2.2: by DID, by DID and PASID, or all). */
static bool pc_covers(const struct vtd_desc_pc_fields *f, const struct audit_entry *en)
{
    switch (f->g) {
    case VTD_QI_PC_G_GLOBAL: return true;
    case VTD_QI_PC_G_DOMAIN: return f->did == en->did;
    case VTD_QI_PC_G_PASID: return f->did == en->did && f->pasid == en->pasid;
    default: return false;
    }
}

void ex_audit_entries_desc(struct ex *e, struct ex_audit_entries *t, const uint64_t *qw)
{
    unsigned type = vtd_desc_type(qw[0]);
    struct vtd_desc_pc_fields f;
    if (type == VTD_QI_PC)
        f = vtd_desc_pc_decode(qw);
    for (unsigned i = 0; i < t->n; i++) {
        struct audit_entry *en = &t->ent[i];
        if (!en->stale)
            continue;
        if (type == VTD_QI_PC && pc_covers(&f, en)) {
            en->invalidated = true;
            en->inv_step = e->step_no;
        } else if (type == VTD_QI_WAIT && en->invalidated) {
            en->stale = false; /* the old entry is gone from every PASID cache */
        }
    }
}
