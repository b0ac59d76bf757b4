/*
 * run_check.c: a step's expectations checked against its outcome: the DMA checks (one function
 * per expectation, each printing what it wanted), then the generic ones every step kind
 * supports (errno, warnings, statistics, memory, fault records, uAPI faults). A failed DMA is
 * described with its walk trace and a fresh uncached walk of the current tables.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/run_internal.h"
#include "runner/uapi.h"
#include "sim/regs.h"
#include "walker/alloc.h"
#include "walker/bdf.h"

/* The structure accesses of a walk, one line each. */
static void print_trace(FILE *f, const struct vtd_trace *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        fprintf(f, "      %-5s %-9s L%u %s 0x%012llx = 0x%016llx\n", r->write ? "write" : "read",
                vtd_trace_kind_name(r->kind), r->level, r->for_fs ? "(for FS)" : "        ",
                (unsigned long long)r->addr, (unsigned long long)r->val);
    }
    if (!t->n)
        fprintf(f, "      (no structure read: served from a cache)\n");
    if (t->dropped)
        fprintf(f, "      ... %u more records\n", t->dropped);
}

/* ---- describing a DMA that missed its expectations ---- */

static void fresh_walk_trace(struct ex *e, const struct vtd_request *req, FILE *f)
{
    struct vtd_walk_env env;
    struct vtd_xlate x;
    struct vtd_trace *t = vtd_calloc(1, sizeof *t);
    if (!t)
        return;
    vtd_walk_env_init(&env, vtd_iommu_mem(e->io), vtd_iommu_caps(e->io), ex_rtaddr(e));
    env.dry_run = true;
    env.trace = t;
    int rc = vtd_translate(&env, req, &x);
    char fb[48], pb[8];
    fprintf(f, "    fresh uncached walk of current memory: %s", rc ? "fault " : "");
    if (rc)
        fprintf(f, "%s\n", ex_fault_str(rc, fb));
    else
        fprintf(f, "out 0x%llx page %s perm %s\n", (unsigned long long)x.out, ex_page_str(x.page_shift),
                ex_perm_str(x.perm, pb));
    print_trace(f, t);
    vtd_free(t);
}

/* A descriptor as the qi step that submits it. */
static void print_as_step(FILE *f, const struct vtd_desc *d)
{
    fprintf(f, "      as a step: - qi: {raw: [");
    for (unsigned q = 0; q < d->nqw; q++)
        fprintf(f, "%s0x%llx", q ? ", " : "", (unsigned long long)d->qw[q]);
    fprintf(f, "]}\n");
}

/* The stale entries one change left in one cache: a descriptor per page, or the one that
 * covers them all. */
static void print_group(FILE *f, const struct vtd_stale_group *g)
{
    char t[128];
    fprintf(f, "    the change at step %llu left %u stale %s entr%s, 0x%llx-0x%llx:\n", (unsigned long long)g->change_step,
            g->entries, g->cache == VTD_C_IOTLB ? "IOTLB" : "device-TLB", g->entries == 1 ? "y" : "ies",
            (unsigned long long)g->first, (unsigned long long)g->last);
    for (unsigned i = 0; i < g->npages; i++) {
        vtd_qi_describe(g->pages[i].qw, g->pages[i].nqw, t, sizeof t);
        fprintf(f, "      per page: %s\n", t);
    }
    if (g->entries > g->npages)
        fprintf(f, "      ... and %u more pages\n", g->entries - g->npages);
    vtd_qi_describe(g->covering.qw, g->covering.nqw, t, sizeof t);
    fprintf(f, "      or one descriptor: %s\n", t);
    print_as_step(f, &g->covering);
}

static void describe_dma(struct ex *e, const struct outcome *o, FILE *f)
{
    const struct vtd_dma_result *r = &o->res;
    char fb[48], pb[8];
    fprintf(f, "    request: sid %s pasid %s%llu addr 0x%llx access %s%s%s\n", vtd_bdf_format(o->req.sid).s,
            o->req.pasid_valid ? "" : "none (RID_PASID ",
            (unsigned long long)(o->req.pasid_valid ? o->req.pasid : r->x.pasid), (unsigned long long)o->req.addr,
            o->req.access & VTD_ACC_W ? "write" : o->req.access & VTD_ACC_X ? "exec" : "read",
            o->req.pasid_valid ? "" : ")", o->req.priv ? " privileged" : "");
    if (o->fault)
        fprintf(f, "    got: fault %s, source %s, stale %s\n", ex_fault_str(o->fault, fb), vtd_source_name(r->source),
                r->stale ? "true" : "false");
    else
        fprintf(f, "    got: out 0x%llx, page %s, perm %s, source %s, stale %s, reads %u\n", (unsigned long long)r->x.out,
                ex_page_str(r->x.page_shift), ex_perm_str(r->x.perm, pb), vtd_source_name(r->source),
                r->stale ? "true" : "false", r->reads);
    if (r->stale) {
        const struct vtd_stale *s = &r->report;
        fprintf(f, "    oracle: stale translation from");
        for (int c = 0; c <= VTD_C_NCACHES; c++)
            if (s->caches & (1u << c))
                fprintf(f, " %s", sc_cache_key_name(c));
        fprintf(f, " (filled at step %llu); a fresh walk says %s", (unsigned long long)s->filled_step,
                s->fresh.fault.code ? ex_fault_str(s->fresh.fault.code, fb) : "");
        if (!s->fresh.fault.code)
            fprintf(f, "out 0x%llx page %s perm %s", (unsigned long long)s->fresh.out, ex_page_str(s->fresh.page_shift),
                    ex_perm_str(s->fresh.perm, pb));
        fprintf(f, "\n    oracle's fix: %s\n", s->fix);
        for (unsigned i = 0; i < s->nfixes; i++)
            print_as_step(f, &s->fixes[i]);
        for (unsigned i = 0; i < s->ngroups; i++)
            print_group(f, &s->groups[i]);
    }
    fprintf(f, "    walk trace (cached path):\n");
    print_trace(f, &e->trace);
    fresh_walk_trace(e, &o->req, f);
}

/* ---- DMA expectations ------------------------------------------------------------------ */

/* DMA expectations: each returns true when it holds, else prints what was expected. */
typedef bool (*dma_check_fn)(const struct sc_expect *x, const struct outcome *o, uint64_t delta, FILE **f,
                             struct ex *e, const struct sc_step *st);

static FILE *want(struct ex *e, const struct sc_step *st, FILE **f)
{
    if (!*f)
        *f = ex_miss(e, st);
    else
        e->r->failed++;
    return *f;
}

static bool chk_fault(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    /* Without 'fault', a DMA step with expectations expects success. */
    int exp = x->given[E_FAULT] ? (int)x->v[E_FAULT] : 0;
    char a[48], b[48];
    if (exp == o->fault || (exp == SC_FAULT_ANY && o->fault && o->fault != VTD_DMA_PAGE_REQUEST))
        return true;
    fprintf(want(e, st, f), "    expected fault %s, got %s\n", ex_fault_str(exp, a), ex_fault_str(o->fault, b));
    return false;
}

static bool chk_out(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                    const struct sc_step *st)
{
    if (!x->given[E_OUT] || o->fault || o->res.x.out == x->v[E_OUT] + d)
        return true;
    fprintf(want(e, st, f), "    expected out 0x%llx, got 0x%llx\n", (unsigned long long)(x->v[E_OUT] + d),
            (unsigned long long)o->res.x.out);
    return false;
}

static bool chk_page(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                     const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_PAGE] || o->fault || o->res.x.page_shift == x->v[E_PAGE])
        return true;
    fprintf(want(e, st, f), "    expected page %s, got %s\n", ex_page_str((unsigned)x->v[E_PAGE]), ex_page_str(o->res.x.page_shift));
    return false;
}

static bool chk_perm(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                     const struct sc_step *st)
{
    char a[8], b[8];
    (void)d;
    if (!x->given[E_PERM] || o->fault || o->res.x.perm == x->v[E_PERM])
        return true;
    fprintf(want(e, st, f), "    expected perm %s, got %s\n", ex_perm_str((unsigned)x->v[E_PERM], a), ex_perm_str(o->res.x.perm, b));
    return false;
}

static bool chk_source(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                       const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_SOURCE] || o->res.source == x->v[E_SOURCE])
        return true;
    fprintf(want(e, st, f), "    expected source %s, got %s\n", vtd_source_name((enum vtd_source)x->v[E_SOURCE]),
            vtd_source_name(o->res.source));
    return false;
}

static bool chk_stale(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    /* Without 'stale', a DMA step with expectations expects a correct (not stale) answer. */
    bool exp = x->given[E_STALE] ? x->v[E_STALE] != 0 : false;
    if (exp == o->res.stale)
        return true;
    fprintf(want(e, st, f), "    expected stale %s, got %s\n", exp ? "true" : "false", o->res.stale ? "true" : "false");
    return false;
}

static bool chk_fix(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                    const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_FIX] || (o->res.stale && strstr(o->res.report.fix, x->fix)))
        return true;
    fprintf(want(e, st, f), "    expected the oracle's fix to contain \"%s\", got \"%s\"\n", x->fix,
            o->res.stale ? o->res.report.fix : "(not stale)");
    return false;
}

static bool chk_reads(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    bool ok = (!x->given[E_READS] || o->res.reads == x->v[E_READS]) &&
              (!x->given[E_PAGING_READS] || o->res.paging_reads == x->v[E_PAGING_READS]);
    if (!ok)
        fprintf(want(e, st, f), "    expected reads %lld / paging_reads %lld, got %u / %u\n",
                x->given[E_READS] ? (long long)x->v[E_READS] : -1LL,
                x->given[E_PAGING_READS] ? (long long)x->v[E_PAGING_READS] : -1LL, o->res.reads, o->res.paging_reads);
    return ok;
}

static bool chk_dirty(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_DIRTY] || o->fault || o->res.x.dirty == (x->v[E_DIRTY] != 0))
        return true;
    fprintf(want(e, st, f), "    expected dirty %s, got %s\n", x->v[E_DIRTY] ? "true" : "false", o->res.x.dirty ? "true" : "false");
    return false;
}

/* Lost A/D state (sim/dirty.c): without 'dirty_lost', a DMA step with expectations expects none;
 * 'accessed_lost' is checked only when given (software need not rely on A). */
static bool chk_ad_lost(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                        const struct sc_step *st)
{
    (void)d;
    bool dirty = x->given[E_DIRTY_LOST] ? x->v[E_DIRTY_LOST] != 0 : false;
    bool ok = dirty == o->res.lost.dirty &&
              (!x->given[E_ACCESSED_LOST] || (x->v[E_ACCESSED_LOST] != 0) == o->res.lost.accessed);
    if (ok)
        return true;
    FILE *out = want(e, st, f);
    fprintf(out, "    expected dirty_lost %s", dirty ? "true" : "false");
    if (x->given[E_ACCESSED_LOST])
        fprintf(out, ", accessed_lost %s", x->v[E_ACCESSED_LOST] ? "true" : "false");
    fprintf(out, "; got dirty_lost %s, accessed_lost %s\n", o->res.lost.dirty ? "true" : "false",
            o->res.lost.accessed ? "true" : "false");
    if (o->res.lost.dirty || o->res.lost.accessed)
        fprintf(out, "    oracle: %s\n", o->res.lost.text);
    return false;
}

static const dma_check_fn dma_checks[] = {chk_fault, chk_out, chk_page, chk_perm, chk_source, chk_stale, chk_fix,
                                          chk_reads, chk_dirty, chk_ad_lost};
/* The expectation each of dma_checks holds, for the summary of requests not described. */
static const char *const dma_check_names[] = {"fault", "out", "page", "perm", "source", "stale", "fix", "reads",
                                              "dirty", "dirty_lost"};

/* A later request of a step whose first failed request was described: its checks count as
 * before, their text is dropped, and the request joins the step's summary line. */
static void count_more_dma(struct ex *e, const struct sc_step *st, const struct outcome *o, uint64_t delta)
{
    char *scratch = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&scratch, &len), *f = sink; /* NULL: the text goes where it did */
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof dma_checks / sizeof dma_checks[0]; i++)
        if (!dma_checks[i](&st->expect, o, delta, &f, e, st))
            failed |= 1u << i;
    if (sink)
        fclose(sink);
    free(scratch); /* open_memstream's buffer comes from libc */
    if (!failed)
        return;
    if (!e->dma_more++)
        e->dma_more_lo = o->req.addr;
    e->dma_more_hi = o->req.addr;
    e->dma_more_checks |= failed;
}

void ex_dma_summary(struct ex *e)
{
    if (e->dma_more && e->mf) {
        fprintf(e->mf, "    ... and %llu more request%s of this step failed (addr 0x%llx", (unsigned long long)e->dma_more,
                e->dma_more == 1 ? "" : "s", (unsigned long long)e->dma_more_lo);
        if (e->dma_more > 1)
            fprintf(e->mf, " to 0x%llx", (unsigned long long)e->dma_more_hi);
        fprintf(e->mf, "; expected");
        const char *sep = " ";
        for (size_t i = 0; i < sizeof dma_check_names / sizeof dma_check_names[0]; i++)
            if (e->dma_more_checks & (1u << i)) {
                fprintf(e->mf, "%s%s", sep, dma_check_names[i]);
                sep = ", ";
            }
        fprintf(e->mf, "): only the first failed request is described\n");
    }
    e->dma_shown = false;
    e->dma_more = e->dma_more_lo = e->dma_more_hi = 0;
    e->dma_more_checks = 0;
}

void ex_check_dma(struct ex *e, const struct sc_step *st, const struct outcome *o, uint64_t delta)
{
    FILE *f = NULL;
    bool ok = true;
    /* One check per request: its answer against every translation expectation of the step. */
    e->r->checks++;
    if (e->dma_shown) {
        count_more_dma(e, st, o, delta);
        return;
    }
    for (size_t i = 0; i < sizeof dma_checks / sizeof dma_checks[0]; i++)
        ok &= dma_checks[i](&st->expect, o, delta, &f, e, st);
    if (!ok) {
        describe_dma(e, o, f);
        e->dma_shown = true;
    }
    /* The report's covering_fix: the first failing request's, when it was stale. */
    if (!ok && o->res.stale && o->res.report.covering[0] && !e->covering_fix)
        e->covering_fix = strdup(o->res.report.covering);
}

/* ---- generic expectations (every step kind) ---- */

static uint64_t counter_value(struct ex *e, const struct sc_counter_expect *c)
{
    if (c->cache < 0) {
        const struct vtd_iommu_stats *g = vtd_iommu_stats(e->io);
        const uint64_t vals[] = {g->requests, g->faults, g->stale, g->walks, g->walk_reads, g->warnings,
                                 g->dirty_lost, g->accessed_lost};
        return vals[c->counter - 8];
    }
    const struct vtd_cache *cache = c->cache == VTD_C_DEVTLB ? vtd_iommu_devtlb(e->io, e->s->dev[c->device].cfg.sid)
                                                             : vtd_iommu_cache(e->io, (enum vtd_cache_id)c->cache);
    if (!cache)
        return 0;
    const struct vtd_cache_stats *s = vtd_cache_stats(cache);
    const uint64_t vals[] = {s->lookups, s->hits, s->misses, s->fills, s->evictions, s->invalidated,
                             s->over_invalidated, s->stale_hits};
    return vals[c->counter];
}

static void check_errno(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    int exp = x->given[E_ERRNO] ? (int)x->v[E_ERRNO] : 0;
    e->r->checks++;
    if (-o->err == exp)
        return;
    if (x->given[E_ERRNO])
        fprintf(want(e, st, f), "    expected errno %s, got %s\n", sc_errno_name(exp), sc_errno_name(-o->err));
    else
        fprintf(want(e, st, f), "    %s failed: %s (%s)\n", o->err_what ? o->err_what : sc_kind_name(st->kind),
                sc_errno_name(-o->err), ex_errno_words(-o->err, st->kind));
    if (o->is_qi && o->qi.why[0])
        fprintf(*f, "    invalidation queue error: %s\n", o->qi.why);
}

static bool warning_since(struct ex *e, uint64_t from, const char *needle)
{
    for (uint64_t i = from; i < vtd_iommu_warning_count(e->io); i++) {
        const char *w = vtd_iommu_warning(e->io, i);
        if (w && strstr(w, needle))
            return true;
    }
    return false;
}

static void list_warnings(struct ex *e, uint64_t from, FILE *f)
{
    for (uint64_t i = from; i < vtd_iommu_warning_count(e->io); i++) {
        const char *w = vtd_iommu_warning(e->io, i);
        fprintf(f, "    warning: %s\n", w ? w : "(no longer kept)");
    }
}

static void check_warnings(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    uint64_t raised = vtd_iommu_warning_count(e->io) - o->warnings_before;
    if (x->given[E_WARNINGS]) {
        e->r->checks++;
        if (raised != x->v[E_WARNINGS]) {
            fprintf(want(e, st, f), "    expected %llu warning(s) from this step, got %llu\n",
                    (unsigned long long)x->v[E_WARNINGS], (unsigned long long)raised);
            list_warnings(e, o->warnings_before, *f);
        }
    }
    if (x->given[E_WARNING]) {
        e->r->checks++;
        if (!warning_since(e, o->warnings_before, x->warning)) {
            fprintf(want(e, st, f), "    expected a warning containing \"%s\"\n", x->warning);
            list_warnings(e, o->warnings_before, *f);
        }
    }
}

/* "iotlb hits", "devtlb of nic hits", "requests". */
static void counter_label(const struct ex *e, const struct sc_counter_expect *c, char *buf, size_t len)
{
    if (c->cache < 0)
        snprintf(buf, len, "%s", sc_counter_name(c->counter));
    else if (c->cache == VTD_C_DEVTLB)
        snprintf(buf, len, "devtlb of %s %s", e->s->dev[c->device].name, sc_counter_name(c->counter));
    else
        snprintf(buf, len, "%s %s", sc_cache_key_name(c->cache), sc_counter_name(c->counter));
}

static void check_counters(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nstats; i++) {
        const struct sc_counter_expect *c = &x->stats[i];
        uint64_t got = counter_value(e, c);
        char label[96];
        e->r->checks++;
        counter_label(e, c, label, sizeof label);
        if (got != c->value)
            fprintf(want(e, st, f), "    expected %s = %llu, got %llu\n", label, (unsigned long long)c->value,
                    (unsigned long long)got);
    }
}

static void check_mem(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nmem; i++) {
        const struct sc_mem_expect *m = &x->mem[i];
        uint64_t got = 0;
        e->r->checks++;
        int rc = vtd_mem_read(vtd_iommu_mem(e->io), m->addr, &got, m->bytes);
        if (rc || got != m->value)
            fprintf(want(e, st, f), "    expected memory at 0x%llx (%u bytes) = 0x%llx, got %s0x%llx\n",
                    (unsigned long long)m->addr, m->bytes, (unsigned long long)m->value, rc ? "a read error, " : "",
                    (unsigned long long)got);
    }
}

static void check_misc(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    if (x->given[E_PENDING_FAULTS]) {
        unsigned got = vtd_iommu_pending_faults(e->io);
        e->r->checks++;
        if (got != x->v[E_PENDING_FAULTS])
            fprintf(want(e, st, f), "    expected %llu pending fault record(s), got %u\n",
                    (unsigned long long)x->v[E_PENDING_FAULTS], got);
    }
    if (x->given[E_VALUE]) {
        e->r->checks++;
        if (!o->has_value || o->value != x->v[E_VALUE])
            fprintf(want(e, st, f), "    expected value 0x%llx, got 0x%llx\n", (unsigned long long)x->v[E_VALUE],
                    (unsigned long long)o->value);
    }
    if (x->given[E_ENTRY_NUM]) {
        e->r->checks++;
        if (!o->has_entry_num || o->entry_num != x->v[E_ENTRY_NUM])
            fprintf(want(e, st, f), "    expected entry_num %llu, got %llu\n", (unsigned long long)x->v[E_ENTRY_NUM],
                    (unsigned long long)o->entry_num);
    }
    if (x->given[E_IOMMU_ERRNO]) {
        e->r->checks++;
        if (!o->has_layer_err || -o->layer_err != (int)x->v[E_IOMMU_ERRNO])
            fprintf(want(e, st, f), "    expected iommu_errno %s, got %s\n", sc_errno_name((int)x->v[E_IOMMU_ERRNO]),
                    sc_errno_name(-o->layer_err));
    }
    for (unsigned i = 0; o->is_qi && i < x->nremoved; i++) {
        const struct sc_counter_expect *c = &x->removed[i];
        e->r->checks++;
        if (o->qi.removed[c->cache] != c->value)
            fprintf(want(e, st, f), "    expected %llu %s entr%s removed, got %u\n", (unsigned long long)c->value,
                    sc_cache_key_name(c->cache), c->value == 1 ? "y" : "ies", o->qi.removed[c->cache]);
    }
}

/* Whether fault-recording register r->v[FR_INDEX] holds a pending fault with the fields given. */
static bool frec_matches(struct ex *e, const struct sc_frec_expect *r, struct vtd_fault_record *got)
{
    if (vtd_iommu_read_fault_record(e->io, (unsigned)r->v[FR_INDEX], got) || !got->pending)
        return false;
    uint64_t pasid = got->pasid_present ? got->pasid : UINT64_MAX;
    const uint64_t have[FR_MAX] = {
        [FR_INDEX] = r->v[FR_INDEX], [FR_REASON] = got->reason,
        [FR_DEVICE] = r->given[FR_DEVICE] && e->s->dev[r->v[FR_DEVICE]].cfg.sid == got->sid ? r->v[FR_DEVICE] : UINT64_MAX,
        [FR_PASID] = pasid, [FR_ADDR] = got->addr, [FR_WRITE] = got->is_write};
    for (unsigned f = 0; f < FR_MAX; f++)
        if (r->given[f] && have[f] != r->v[f])
            return false;
    return true;
}

static void check_fault_records(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nfrec; i++) {
        struct vtd_fault_record got = {0};
        char a[48], b[48];
        e->r->checks++;
        if (frec_matches(e, &x->frec[i], &got))
            continue;
        fprintf(want(e, st, f), "    expected fault record %llu: reason %s%s; got %s: reason %s, sid %s, pasid %s%u, addr 0x%llx, %s\n",
                (unsigned long long)x->frec[i].v[FR_INDEX],
                x->frec[i].given[FR_REASON] ? ex_fault_str((int)x->frec[i].v[FR_REASON], a) : "any",
                x->frec[i].given[FR_ADDR] || x->frec[i].given[FR_PASID] || x->frec[i].given[FR_DEVICE] ? " (and the fields given)" : "",
                got.pending ? "pending" : "not pending", ex_fault_str(got.reason, b), vtd_bdf_format(got.sid).s,
                got.pasid_present ? "" : "none ", got.pasid_present ? got.pasid : 0,
                (unsigned long long)got.addr, got.is_write ? "write" : "read");
    }
}

/* The container's fault queue, drained: the records must be exactly those listed. */
static void check_uapi_faults(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    struct sc_ufault got[SC_MAX_LIST + 1];
    if (!x->has_ufault)
        return;
    unsigned n = e->c ? sc_uapi_read_faults(e->c, got, SC_MAX_LIST + 1) : 0;
    bool ok = n == x->nufault;
    for (unsigned i = 0; ok && i < n; i++) {
        const struct sc_ufault_expect *u = &x->ufault[i];
        uint64_t pasid = (got[i].flags & 1u) ? got[i].pasid : UINT64_MAX; /* PASID_VALID is bit 0 */
        ok = (!u->given[UF_REASON] || u->v[UF_REASON] == got[i].reason) && (!u->given[UF_PASID] || u->v[UF_PASID] == pasid) &&
             (!u->given[UF_ADDR] || u->v[UF_ADDR] == got[i].addr) && (!u->given[UF_TYPE] || u->v[UF_TYPE] == got[i].type) &&
             (!u->given[UF_GRPID] || u->v[UF_GRPID] == got[i].grpid);
    }
    e->r->checks++;
    if (ok)
        return;
    fprintf(want(e, st, f), "    expected %u uAPI fault record(s) as listed, got %u:\n", x->nufault, n);
    for (unsigned i = 0; i < n; i++)
        fprintf(*f, "      type %u reason %u flags 0x%x pasid %u grpid %u addr 0x%llx\n", got[i].type, got[i].reason,
                got[i].flags, got[i].pasid, got[i].grpid, (unsigned long long)got[i].addr);
}

/*
 * The warnings this step raised, kept with its place so that a passing run can show them (a
 * warning is often the finding: an invalidation that covers the range only by luck). Under
 * warnings_as_errors one that no expectation names fails the step.
 */
static void record_warnings(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    uint64_t now = vtd_iommu_warning_count(e->io);
    bool expected = st->has_expect && (st->expect.given[E_WARNING] || st->expect.given[E_WARNINGS]);
    for (uint64_t i = o->warnings_before; i < now; i++) {
        const char *w = vtd_iommu_warning(e->io, i);
        e->r->warnings++;
        if (e->r->nwarn < SC_MAX_WARNINGS_KEPT) {
            struct sc_warning *k = &e->r->warn[e->r->nwarn++];
            *k = (struct sc_warning){.step = e->step_no, .line = st->line, .col = st->col, .expected = expected};
            snprintf(k->text, sizeof k->text, "%s", w ? w : "(no longer kept)");
        }
        if (e->warnings_as_errors && !expected)
            fprintf(want(e, st, f), "    warning (--warnings-as-errors): %s\n", w ? w : "(no longer kept)");
    }
}

void ex_check_step(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    FILE *f = NULL;
    record_warnings(e, st, o, &f);
    /* A failing operation is a failure even without expectations, unless an errno is expected. */
    if (o->err || (st->has_expect && st->expect.given[E_ERRNO]))
        check_errno(e, st, o, &f);
    if (!st->has_expect)
        return;
    check_warnings(e, st, o, &f);
    check_counters(e, st, &f);
    check_mem(e, st, &f);
    check_misc(e, st, o, &f);
    check_fault_records(e, st, &f);
    check_uapi_faults(e, st, &f);
    ex_check_prq(e, st, o, &f);
    ex_check_dirty(e, st, o, &f);
    ex_check_issued(e, st);
}

FILE *ex_want(struct ex *e, const struct sc_step *st, FILE **f) { return want(e, st, f); }

