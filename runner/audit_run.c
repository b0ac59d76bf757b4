/*
 * audit_run.c: the latent-staleness audit over a scenario run (`vtdsim run --audit`,
 * sc_run_opts.audit; sim/audit.h, docs/trace-audit.md). The audit's events are the run's step
 * numbers: the map, unmap and protect steps of a table feed every address space that
 * translates through it, map_dma and unmap_dma feed the container's domain, and every
 * descriptor the IOMMU processes (a qi step's or one the host layer issued) is heard through
 * the descriptor listener (run_issued.c). Each finding is a failure of the step that exposed
 * it, or of the last step for what is still possibly cached when the run ends.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/container.h"
#include "sim/audit.h"
#include "sim/regs.h"
#include "runner/run_internal.h"
#include "walker/alloc.h"
#include "walker/pasid_entry.h"

/* An address space (a DID and the audit's PASID tag) that translates through a named table
 * (SC_BACKING_CONTAINER: the container's second stage). */
struct audit_space {
    int table;
    uint16_t did;
    uint32_t tag;
};

struct ex_audit {
    struct vtd_audit *a;
    struct ex_audit_entries *entries;
    struct ex_audit_pages *pages;
    const struct sc_step *step;   /* the step a finding is reported against */
    struct audit_space *sp;
    unsigned nsp, cap;
    /* The findings of the step being audited, for its `expect: audit` (settle). */
    char *found;
    size_t found_len;
    FILE *found_f;
    unsigned nfound;
};

/* The audit's events are the run's step numbers: say "step" where it says "event". */
static void print_in_steps(FILE *f, const char *s)
{
    static const char word[] = "event ";
    for (const char *p; (p = strstr(s, word)); s = p + sizeof word - 1)
        fprintf(f, "%.*sstep ", (int)(p - s), s);
    fprintf(f, "%s\n", s);
}

/* A finding's line is kept until the step is settled: it fails the step unless expected. */
void ex_audit_found(struct ex *e, const char *line)
{
    struct ex_audit *au = e->audit;
    if (!au->found_f && !(au->found_f = open_memstream(&au->found, &au->found_len))) {
        e->r->out_of_memory = true;
        return;
    }
    au->nfound++;
    fputs("    audit: ", au->found_f);
    print_in_steps(au->found_f, line);
}

static void heard(void *arg, const struct vtd_audit_finding *f)
{
    char line[512];
    vtd_audit_describe(f, line, sizeof line);
    ex_audit_found(arg, line);
}

/* Whether every line of `found` (NULL: none) contains `text` (NULL: anything). */
static bool all_contain(const char *found, const char *text)
{
    if (!found || !text)
        return true;
    for (const char *p = found; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *hit = strstr(p, text);
        if (!hit || hit + strlen(text) > p + len)
            return false;
        p += len + (end ? 1 : 0);
    }
    return true;
}

/*
 * The step's findings against its `expect: audit` (how many it exposed; for the last step,
 * with what is still possibly cached at the end): as many as expected pass as one check; any
 * other number fails the step with each finding's line. Without the expectation each finding
 * is a failure.
 */
static void settle(struct ex *e, const struct sc_step *st)
{
    struct ex_audit *au = e->audit;
    bool expect = st->has_expect && st->expect.given[E_AUDIT];
    unsigned n = au->nfound;
    if (au->found_f)
        fclose(au->found_f);
    au->found_f = NULL;
    au->nfound = 0;
    if (expect)
        e->r->checks++;
    if (expect && n == st->expect.v[E_AUDIT] && !all_contain(au->found, st->expect.audit_finding)) {
        fprintf(ex_miss(e, st), "    expected each audit finding to contain \"%s\":\n%s", st->expect.audit_finding,
                au->found);
    } else if (expect && n == st->expect.v[E_AUDIT]) {
        e->r->audit_expected += n;
    } else if (expect) {
        fprintf(ex_miss(e, st), "    expected %llu audit finding%s, the audit reported %u%s\n%s",
                (unsigned long long)st->expect.v[E_AUDIT], st->expect.v[E_AUDIT] == 1 ? "" : "s", n, n ? ":" : "",
                au->found ? au->found : "");
    } else if (n) {
        FILE *f = ex_miss(e, st);
        for (unsigned i = 1; i < n; i++)
            ex_miss(e, st); /* each finding counts as a failed check */
        fputs(au->found, f);
    }
    free(au->found);
    au->found = NULL;
    au->found_len = 0;
}

int ex_audit_new(struct ex *e)
{
    if (!(e->audit = vtd_calloc(1, sizeof *e->audit)) || !(e->audit->a = vtd_audit_new(heard, e)) ||
        !(e->audit->entries = ex_audit_entries_new()) || !(e->audit->pages = ex_audit_pages_new()))
        return -ENOMEM;
    return 0;
}

void ex_audit_free(struct ex *e)
{
    if (!e->audit)
        return;
    vtd_audit_free(e->audit->a);
    ex_audit_entries_free(e->audit->entries);
    ex_audit_pages_free(e->audit->pages);
    if (e->audit->found_f)
        fclose(e->audit->found_f);
    free(e->audit->found);
    vtd_free(e->audit->sp);
    vtd_free(e->audit);
    e->audit = NULL;
}

/* Remember that (did, tag) translates through `table`, once. */
static int space_add(struct ex_audit *au, int table, uint16_t did, uint32_t tag)
{
    for (unsigned i = 0; i < au->nsp; i++)
        if (au->sp[i].table == table && au->sp[i].did == did && au->sp[i].tag == tag)
            return 0;
    if (au->nsp == au->cap) {
        unsigned cap = au->cap ? au->cap * 2 : 8;
        struct audit_space *p = vtd_realloc(au->sp, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        au->sp = p;
        au->cap = cap;
    }
    au->sp[au->nsp++] = (struct audit_space){.table = table, .did = did, .tag = tag};
    return 0;
}

/*
 * The table and tag a pasid_entry step's space translates through: first-stage and nested
 * entries are tagged by their PASID (P_IOTLB), second-stage-only ones by the DID alone, as the
 * Linux driver invalidates them (IOTLB PSI/DSI); pass-through caches no translation.
 */
static int pasid_space(const struct ex *e, const struct sc_step *st, uint32_t *tag)
{
    unsigned pgtt = (unsigned)ARGV(st, A_PGTT);
    int ti = HAS(st, A_TABLE) ? (int)ARGV(st, A_TABLE) : -1;
    *tag = (uint32_t)ARGV(st, A_PASID);
    if (vtd_pgtt_uses_fs(pgtt))
        return ti;
    *tag = VTD_AUDIT_NO_PASID;
    if (pgtt != VTD_PGTT_SS)
        return -1;
    if (HAS(st, A_SS_TABLE))
        return (int)ARGV(st, A_SS_TABLE);
    return ti >= 0 && !e->s->tab[ti].first_stage ? ti : -1;
}

static int join(struct ex *e, const struct sc_step *st, int table, uint16_t did, uint32_t tag)
{
    int rc = space_add(e->audit, table, did, tag);
    if (!rc && HAS(st, A_DEVICE))
        rc = vtd_audit_join(e->audit->a, step_dev(e, st)->cfg.sid, did, tag, step_dev(e, st)->cfg.ats);
    return rc;
}

/* [va, va + size) of `table` changed: every space over it hears it. */
static int table_range(struct ex *e, int table, bool map, uint64_t va, uint64_t size)
{
    struct ex_audit *au = e->audit;
    if (!size)
        return 0;
    uint64_t last = va + size - 1;
    for (unsigned i = 0; i < au->nsp; i++) {
        const struct audit_space *s = &au->sp[i];
        if (s->table != table)
            continue;
        int rc = map ? vtd_audit_map(au->a, e->step_no, s->did, s->tag, va, last)
                     : vtd_audit_unmap(au->a, e->step_no, s->did, s->tag, va, last);
        if (rc)
            return rc;
    }
    return 0;
}

/* map_dma / unmap_dma: the container's domain. */
static int container_range(struct ex *e, bool map, const struct sc_step *st)
{
    if (space_add(e->audit, SC_BACKING_CONTAINER, vtd_container_did(e->c), VTD_AUDIT_NO_PASID))
        return -ENOMEM;
    return table_range(e, SC_BACKING_CONTAINER, map, ARGV(st, A_IOVA), ARGV(st, A_SIZE));
}

static int legacy_attach(struct ex *e, const struct sc_step *st)
{
    if (!HAS(st, A_TABLE))
        return 0;
    return join(e, st, (int)ARGV(st, A_TABLE), (uint16_t)ARG_OR(st, A_DID, 1), VTD_AUDIT_NO_PASID);
}

/* A write_pte: a write into a freed table page, and the page it unlinks for each space over
 * the table. */
static int pte_write(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    struct ex_audit *au = e->audit;
    if (!o->edited)
        return 0;
    ex_audit_pages_write(e, au->pages, o->edit_addr, 8, "written as a table entry");
    for (unsigned i = 0; i < au->nsp; i++)
        if (au->sp[i].table == (int)ARGV(st, A_TABLE) &&
            ex_audit_pages_unlink(e, au->pages, st, o, au->sp[i].did, au->sp[i].tag))
            return -ENOMEM;
    return 0;
}

/* The bytes a write_mem step wrote. */
static uint64_t mem_written(const struct sc_step *st)
{
    if (HAS(st, A_FILL))
        return ARGV(st, A_SIZE);
    if (st->nbulk)
        return st->nbulk;
    return HAS(st, A_SIZE) && ARGV(st, A_SIZE) < 8 ? ARGV(st, A_SIZE) : 8;
}

/* What a step that executed without error tells the audit. 0, or -ENOMEM. */
static int step_events(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    uint32_t tag;
    int t;
    switch (st->kind) {
    case SK_ATTACH: return e->s->legacy ? legacy_attach(e, st) : 0;
    case SK_PASID_ENTRY:
        if (ex_audit_pasid_write(e, e->audit->entries, step_dev(e, st)->cfg.sid, (uint32_t)ARGV(st, A_PASID),
                                 (uint16_t)ARG_OR(st, A_DID, 1), vtd_pgtt_uses_fs((unsigned)ARGV(st, A_PGTT))))
            return -ENOMEM;
        t = pasid_space(e, st, &tag);
        return t < 0 ? 0 : join(e, st, t, (uint16_t)ARG_OR(st, A_DID, 1), tag);
    case SK_PASID_CLEAR:
        ex_audit_pasid_clear(e, e->audit->entries, step_dev(e, st)->cfg.sid, (uint32_t)ARGV(st, A_PASID));
        return 0;
    case SK_WRITE_CONTEXT: case SK_WRITE_PASID: return ex_audit_raw_write(e, st, e->audit->entries, o);
    case SK_CONTAINER_ATTACH:
        return join(e, st, SC_BACKING_CONTAINER, vtd_container_did(e->c), VTD_AUDIT_NO_PASID);
    /* A protect leaves the old permissions possibly cached: a stale range until invalidated. */
    case SK_UNMAP: case SK_PROTECT:
        return table_range(e, (int)ARGV(st, A_TABLE), false, ARGV(st, A_VA), ARGV(st, A_SIZE));
    case SK_MAP:
        ex_audit_pages_write(e, e->audit->pages, ARGV(st, A_PA), ARGV(st, A_SIZE), "mapped as data");
        return table_range(e, (int)ARGV(st, A_TABLE), true, ARGV(st, A_VA), ARGV(st, A_SIZE));
    case SK_WRITE_PTE: return pte_write(e, st, o);
    case SK_WRITE_MEM:
        ex_audit_pages_write(e, e->audit->pages, ARGV(st, A_ADDR), mem_written(st), "written");
        return 0;
    case SK_MAP_DMA: return container_range(e, true, st);
    default: return 0;
    }
}

static void out_of_memory(struct ex *e, const struct sc_step *st)
{
    fprintf(ex_miss(e, st), "    audit: out of memory\n");
    e->r->out_of_memory = true;
}

/* A descriptor the IOMMU processed, to the range audit and to the PASID entries'. */
static int hear_desc(struct ex *e, const uint64_t *qw)
{
    ex_audit_entries_desc(e, e->audit->entries, qw);
    ex_audit_pages_desc(e, e->audit->pages, qw);
    return vtd_audit_desc(e->audit->a, e->step_no, qw);
}

/*
 * UNMAP_DMA's host layer invalidates inside the ioctl, after its own unmap: its descriptors
 * (kept by run_issued.c) are heard after the unmap, and only a call that unmapped something
 * (its value: the bytes unmapped) made a range stale.
 */
static int unmap_dma_events(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    if (!o->err && !(o->has_value && !o->value) && container_range(e, false, st))
        return -ENOMEM;
    for (unsigned i = 0; i < e->nstep_desc; i++)
        if (!e->step_rc[i] && hear_desc(e, e->step_desc[i].qw))
            return -ENOMEM;
    return 0;
}

void ex_audit_step(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    if (!e->audit)
        return;
    e->audit->step = st;
    int rc = st->kind == SK_UNMAP_DMA ? unmap_dma_events(e, st, o) : o->err ? 0 : step_events(e, st, o);
    if (rc)
        out_of_memory(e, st);
    /* The last step also answers for what is still possibly cached at the end (ex_audit_finish). */
    if (!(e->s->nsteps && st == &e->s->steps[e->s->nsteps - 1]))
        settle(e, st);
}

/*
 * Whether the descriptor just processed came from the invalidation registers (reg_inv.c turns
 * CCMD_REG and IOTLB_REG requests into descriptors): a reg_write step with queued invalidation
 * off. Such a request has completed when hardware clears ICC or IVT (VT-d 6.5.1, software
 * polls for it), so it needs no invalidation wait: the audit hears one after it.
 */
static bool register_based(struct ex *e)
{
    uint64_t gsts;
    return e->audit->step && e->audit->step->kind == SK_REG_WRITE &&
           !vtd_iommu_reg_read(e->io, VTD_REG_GSTS, 4, &gsts) && !(gsts & VTD_GSTS_QIES);
}

void ex_audit_desc(struct ex *e, const uint64_t *desc, unsigned nqw, int rc)
{
    /* A refused descriptor removed nothing; an unmap_dma's wait for the step's end. */
    if (!e->audit || rc || nqw < 2 || (e->recording && e->audit->step && e->audit->step->kind == SK_UNMAP_DMA))
        return;
    struct vtd_desc done = vtd_desc_wait(0, 0, 0);
    if (hear_desc(e, desc) || (register_based(e) && hear_desc(e, done.qw)))
        e->r->out_of_memory = true;
}

/* The end of the run: what is still possibly cached is reported against the last step. */
void ex_audit_finish(struct ex *e)
{
    if (!e->audit || !e->s->nsteps)
        return;
    const struct sc_step *last = &e->s->steps[e->s->nsteps - 1];
    e->audit->step = last;
    e->step_no = e->s->nsteps;
    vtd_audit_finish(e->audit->a);
    settle(e, last);
    const struct vtd_audit_stats *s = vtd_audit_stats(e->audit->a);
    e->r->audit_findings =
        s->findings + ex_audit_entries_findings(e->audit->entries) + ex_audit_pages_findings(e->audit->pages);
    e->r->audited = true;
    ex_step_done(e, last);
}

/* The step the descriptors the IOMMU processes from now on belong to. */
void ex_audit_begin(struct ex *e, const struct sc_step *st)
{
    if (e->audit)
        e->audit->step = st;
}
