/*
 * audit_entries.c: the context- and PASID-entry part of a run's audit (`vtdsim run --audit`).
 * A context entry is cached in the context cache (legacy ones by their DID), a PASID entry in
 * the PASID cache by its DID and PASID (VT-d 6.2.1), and the IOTLB holds translations made
 * through either, tagged by the DID. Software that takes an entry down clears it, invalidates
 * the entry's cache (context cache 6.5.2.1, PASID cache 6.5.2.2), then the IOTLB entries of its
 * domain (6.5.2.3, 6.5.2.4), and waits for them (6.5.2.8) before it writes the entry again: the
 * order of the spec's guidance for invalidations (6.5.3) and of Linux's domain_context_clear_one
 * and intel_pasid_tear_down_entry. A write over an entry that is present, or that was cleared
 * without all of that completed since, is a reuse that exposes a possibly cached old entry,
 * whether a DMA used it or not. Scalable-mode context entries carry no DID: theirs is the
 * context-cache invalidation and its wait (the PASID entries under them are audited as such).
 */
#include <errno.h>
#include <stdio.h>

#include "runner/run_internal.h"
#include "sim/audit.h"
#include "sim/qi_desc.h"
#include "walker/alloc.h"
#include "walker/bdf.h"
#include "walker/context_entry.h"
#include "walker/legacy_ctx_entry.h"
#include "walker/pasid_entry.h"

/* The key of a context entry among the PASID entries (PASIDs have 20 bits). */
#define CTX_PASID VTD_AUDIT_NO_PASID

struct audit_entry {
    uint16_t sid;
    uint32_t pasid;       /* CTX_PASID: the device's context entry */
    uint16_t did;         /* of the entry last written (legacy context entries, PASID entries) */
    bool legacy;          /* a legacy context entry: its context-cache entries are tagged by DID */
    bool fs;              /* a first-stage or nested PASID entry: its IOTLB entries carry the PASID */
    bool present;
    bool stale;           /* cleared; a cache may still hold the old entry */
    bool cache_done;      /* since the clear: the context or PASID cache invalidated */
    bool iotlb_done;      /* and after that, the IOTLB entries of its domain */
    unsigned step;        /* the write (present; 0: made by no step the audit follows) or the clear */
    unsigned inv_step;    /* the last invalidation that covered it */
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
    if (!vtd_grow_array((void **)&t->ent, &t->cap, t->n, sizeof(*t->ent)))
        return NULL;
    t->ent[t->n] = (struct audit_entry){.sid = sid, .pasid = pasid};
    return &t->ent[t->n++];
}

static bool is_ctx(const struct audit_entry *en) { return en->pasid == CTX_PASID; }

/* Scalable-mode context entries have no IOTLB entries of their own (see the file comment). */
static bool needs_iotlb(const struct audit_entry *en) { return !is_ctx(en) || en->legacy; }

/* The first descriptor the entry still needs: its cache's, the IOTLB's, or the wait. */
static struct vtd_desc missing_desc(const struct audit_entry *en)
{
    if (!en->cache_done || en->present)
        return is_ctx(en) ? vtd_desc_cc(VTD_QI_CC_G_DEVICE, en->did, en->sid, 0)
                          : vtd_desc_pc(VTD_QI_PC_G_PASID, en->did, en->pasid);
    if (!en->iotlb_done)
        return en->fs ? vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, en->did, en->pasid, 0, 0, false)
                      : vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, en->did, 0, 0, false, false, false);
    return vtd_desc_wait(0, 0, 0);
}

static void entry_name(const struct audit_entry *en, char *buf, size_t len)
{
    if (!is_ctx(en))
        snprintf(buf, len, "PASID entry rewritten: device %s PASID %u (DID %u)", vtd_bdf_format(en->sid).s,
                 (unsigned)en->pasid, (unsigned)en->did);
    else if (en->legacy)
        snprintf(buf, len, "context entry rewritten: device %s (DID %u)", vtd_bdf_format(en->sid).s, (unsigned)en->did);
    else
        snprintf(buf, len, "context entry rewritten: device %s", vtd_bdf_format(en->sid).s);
}

/* What happened between the clear (or the write) and this write, in words. */
static void history(const struct ex *e, const struct audit_entry *en, char *buf, size_t len)
{
    const char *cache = is_ctx(en) ? "context-cache" : "PASID-cache";
    if (en->present && en->step)
        snprintf(buf, len, "written at step %u and again at step %u over the present entry (clear it and invalidate "
                           "first)", en->step, e->step_no);
    else if (en->present)
        snprintf(buf, len, "changed at step %u while present (clear it and invalidate first)", e->step_no);
    else if (!en->cache_done)
        snprintf(buf, len, "cleared at step %u and written again at step %u with no %s invalidation in between",
                 en->step, e->step_no, cache);
    else if (!en->iotlb_done)
        snprintf(buf, len, "cleared at step %u, its %s invalidated at step %u but not its domain's IOTLB entries "
                           "before the write at step %u", en->step, cache, en->inv_step, e->step_no);
    else
        snprintf(buf, len, "cleared at step %u, invalidated by step %u but not waited for before the write at step %u",
                 en->step, en->inv_step, e->step_no);
}

/* The finding of a write at the current step over an entry a cache may hold. */
static void report_rewrite(struct ex *e, struct ex_audit_entries *t, const struct audit_entry *en)
{
    char name[96], what[256], missing[160], line[600];
    struct vtd_desc d = missing_desc(en);
    vtd_qi_describe(d.qw, d.nqw, missing, sizeof missing);
    entry_name(en, name, sizeof name);
    history(e, en, what, sizeof what);
    snprintf(line, sizeof line, "%s %s; missing: %s", name, what, missing);
    ex_audit_found(e, line);
    t->findings++;
}

/* The entry (sid, pasid) was written present: a finding when a cache may hold its old self. */
static int entry_written(struct ex *e, struct ex_audit_entries *t, struct audit_entry w)
{
    struct audit_entry *en = entry_of(t, w.sid, w.pasid, true);
    if (!en)
        return -ENOMEM;
    if (en->present || en->stale)
        report_rewrite(e, t, en);
    w.present = true;
    w.step = e->step_no;
    *en = w;
    return 0;
}

static void entry_cleared(struct ex *e, struct audit_entry *en)
{
    if (en && en->present)
        *en = (struct audit_entry){.sid = en->sid, .pasid = en->pasid, .did = en->did, .legacy = en->legacy,
                                   .fs = en->fs, .stale = true, .iotlb_done = !needs_iotlb(en), .step = e->step_no};
}

int ex_audit_pasid_write(struct ex *e, struct ex_audit_entries *t, uint16_t sid, uint32_t pasid, uint16_t did,
                         bool fs)
{
    return entry_written(e, t, (struct audit_entry){.sid = sid, .pasid = pasid, .did = did, .fs = fs});
}

void ex_audit_pasid_clear(struct ex *e, struct ex_audit_entries *t, uint16_t sid, uint32_t pasid)
{
    entry_cleared(e, entry_of(t, sid, pasid, false));
}

/* ---- raw writes ---- */

/* An entry as memory holds it: qw0 and qw1 before or after the write. */
struct raw_entry {
    bool present;
    uint16_t did;
    bool fs;
};

static struct raw_entry raw_decode(const struct ex *e, bool ctx, const uint64_t *qw)
{
    if (ctx)
        return (struct raw_entry){.present = qw[0] & VTD_CTX_P,
                                  .did = e->s->legacy ? (uint16_t)vtd_field(qw[1], VTD_LCTX_DID) : 0};
    return (struct raw_entry){.present = qw[0] & VTD_PE_P, .did = (uint16_t)vtd_field(qw[1], VTD_PE_DID),
                              .fs = vtd_pgtt_uses_fs((unsigned)vtd_field(qw[0], VTD_PE_PGTT))};
}

/*
 * A write_context or write_pasid step: the entry's state before and after comes from memory
 * (the runner's own steps, the host layer's or earlier raw writes may have made it). A present
 * entry changed in place, or a cleared one made present again too early, is a finding.
 */
int ex_audit_raw_write(struct ex *e, const struct sc_step *st, struct ex_audit_entries *t, const struct outcome *o)
{
    bool ctx = st->kind == SK_WRITE_CONTEXT;
    unsigned q = (unsigned)ARG_OR(st, A_QWORD, 0);
    uint64_t base = o->edit_addr - 8u * q, now[2], before[2];
    if (!o->edited || q > 1 || vtd_mem_read64(vtd_iommu_mem(e->io), base, &now[0]) ||
        vtd_mem_read64(vtd_iommu_mem(e->io), base + 8, &now[1]))
        return 0; /* qwords 2 and 3 hold nothing the audit follows */
    before[0] = now[0];
    before[1] = now[1];
    before[q] = o->edit_old;
    struct raw_entry was = raw_decode(e, ctx, before), is = raw_decode(e, ctx, now);
    uint16_t sid = step_dev(e, st)->cfg.sid;
    uint32_t pasid = ctx ? CTX_PASID : (uint32_t)ARGV(st, A_PASID);
    struct audit_entry w = {.sid = sid, .pasid = pasid, .did = is.did, .legacy = ctx && e->s->legacy, .fs = is.fs};
    if (!is.present) {
        struct audit_entry *en = entry_of(t, sid, pasid, was.present);
        if (!en)
            return was.present ? -ENOMEM : 0;
        if (was.present) {
            *en = (struct audit_entry){.sid = sid, .pasid = pasid, .did = was.did, .legacy = w.legacy, .fs = was.fs,
                                       .present = true};
            entry_cleared(e, en);
        }
        return 0;
    }
    if (was.present && o->edit_old == o->edit_new)
        return 0;
    if (was.present) { /* changed in place: the old entry may be cached as it was */
        struct audit_entry *en = entry_of(t, sid, pasid, true);
        if (!en)
            return -ENOMEM;
        *en = (struct audit_entry){.sid = sid, .pasid = pasid, .did = was.did, .legacy = w.legacy, .fs = was.fs,
                                   .present = true, .step = en->present ? en->step : 0};
    }
    return entry_written(e, t, w);
}

/* ---- descriptors ---- */

/* SID bits a context-cache function mask ignores (FM 1: bit 2, 2: bits 2:1, 3: bits 2:0). */
static uint16_t fm_ignored(unsigned fm) { return fm ? (uint16_t)(((1u << fm) - 1u) << (3 - fm)) : 0; }

/* Whether a context-cache descriptor covers the entry (6.5.2.1): legacy entries by DID too. */
static bool cc_covers(const struct vtd_desc_cc_fields *f, const struct audit_entry *en)
{
    bool did_ok = !en->legacy || f->did == en->did;
    switch (f->g) {
    case VTD_QI_CC_G_GLOBAL: return true;
    case VTD_QI_CC_G_DOMAIN: return did_ok;
    case VTD_QI_CC_G_DEVICE: return did_ok && ((f->sid ^ en->sid) & (uint16_t)~fm_ignored(f->fm)) == 0;
    default: return false;
    }
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

/* Whether an IOTLB descriptor removes every translation of the entry: global, or all of its
 * DID (type 2), or all of its DID and PASID (type 6, PASID-selective). Page-selective ones
 * leave the rest of the domain. */
static bool iotlb_covers(const uint64_t *qw, const struct audit_entry *en)
{
    if (vtd_desc_type(qw[0]) == VTD_QI_IOTLB) {
        struct vtd_desc_iotlb_fields f = vtd_desc_iotlb_decode(qw);
        return f.g == VTD_QI_IOTLB_G_GLOBAL || (f.g == VTD_QI_IOTLB_G_DOMAIN && f.did == en->did);
    }
    struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(qw);
    return !is_ctx(en) && f.g == VTD_QI_PIOTLB_G_PASID && f.did == en->did && f.pasid == en->pasid;
}

static bool cache_covers(const uint64_t *qw, const struct audit_entry *en)
{
    unsigned type = vtd_desc_type(qw[0]);
    if (type == VTD_QI_CC && is_ctx(en)) {
        struct vtd_desc_cc_fields f = vtd_desc_cc_decode(qw);
        return cc_covers(&f, en);
    }
    if (type == VTD_QI_PC && !is_ctx(en)) {
        struct vtd_desc_pc_fields f = vtd_desc_pc_decode(qw);
        return pc_covers(&f, en);
    }
    return false;
}

/* One descriptor against one cleared entry: the cache first, the IOTLB after it, then a wait. */
static void entry_desc(struct ex *e, struct audit_entry *en, const uint64_t *qw)
{
    unsigned type = vtd_desc_type(qw[0]);
    if (cache_covers(qw, en)) {
        en->cache_done = true;
        en->inv_step = e->step_no;
    } else if ((type == VTD_QI_IOTLB || type == VTD_QI_PIOTLB) && en->cache_done && iotlb_covers(qw, en)) {
        en->iotlb_done = true; /* one before the cache's could be refilled from the old entry */
        en->inv_step = e->step_no;
    } else if (type == VTD_QI_WAIT && en->cache_done && en->iotlb_done) {
        en->stale = false; /* the old entry is gone from every cache */
    }
}

void ex_audit_entries_desc(struct ex *e, struct ex_audit_entries *t, const uint64_t *qw)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->ent[i].stale)
            entry_desc(e, &t->ent[i], qw);
}
