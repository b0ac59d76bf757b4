/*
 * run.c: the step executor (see runner.h): its state, the IOMMU, tables and devices a scenario
 * sets up, the failure records, the statistics, and the entry points. Each step runs through
 * run_steps.c (one handler per step kind, filling an outcome) and run_check.c (one table of
 * checks, so every step kind supports the same generic expectations and DMA steps add theirs).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/run_internal.h"
#include "runner/text.h"
#include "runner/uapi.h"
#include "sim/regs.h"
#include "walker/alloc.h"
#include "walker/builder.h"
#include "walker/fault.h"

/* ---- executor state -------------------------------------------------------------------- */

/* A copy of s for the result; a failed copy fails the result, marked out of memory. */
static char *result_strdup(struct sc_result *r, const char *s)
{
    char *d = s ? vtd_strdup(s) : NULL;
    if (s && !d) {
        r->out_of_memory = true;
        r->failed++;
    }
    return d;
}

/* ---- failure records ------------------------------------------------------------------- */

FILE *ex_miss(struct ex *e, const struct sc_step *st)
{
    if (!e->mf) {
        e->mf = open_memstream(&e->msg, &e->msg_len);
        if (e->mf)
            fprintf(e->mf, "%s:%u: step %u (%s) failed\n", e->s->path, st->line, e->step_no, sc_kind_name(st->kind));
    }
    e->r->failed++;
    return e->mf ? e->mf : stderr;
}

/* Room for one more failure record; false when out of memory. */
static bool fail_room(struct sc_result *r)
{
    if (r->nfail < r->fail_cap)
        return true;
    unsigned cap = r->fail_cap ? r->fail_cap * 2 : 8;
    struct sc_failure *f = vtd_realloc(r->fail, cap * sizeof *f);
    if (!f)
        return false;
    r->fail = f;
    r->fail_cap = cap;
    return true;
}

/* Close the step's failure text and keep it, within the count and byte limits. */
void ex_step_done(struct ex *e, const struct sc_step *st)
{
    ex_dma_summary(e);
    if (!e->mf) {
        free(e->covering_fix);
        e->covering_fix = NULL;
        return;
    }
    fclose(e->mf);
    e->mf = NULL;
    struct sc_result *r = e->r;
    bool keep = e->msg && r->nfail < e->max_failures && r->fail_bytes + e->msg_len <= SC_MAX_FAILURE_BYTES;
    if (keep && !fail_room(r)) {
        keep = false;
        r->out_of_memory = true;
    }
    if (keep) {
        r->fail[r->nfail++] = (struct sc_failure){.step = e->step_no, .line = st->line, .text = e->msg,
                                                  .covering_fix = e->covering_fix};
        r->fail_bytes += e->msg_len;
    } else {
        free(e->msg);
        free(e->covering_fix);
        r->fail_dropped++;
    }
    e->msg = NULL;
    e->covering_fix = NULL;
}

/* ---- names for reports ------------------------------------------------------------------ */

const char *ex_perm_str(unsigned p, char buf[8])
{
    char *q = buf;
    if (p & VTD_PERM_R) *q++ = 'r';
    if (p & VTD_PERM_W) *q++ = 'w';
    if (p & VTD_PERM_X) *q++ = 'x';
    if (p & VTD_PERM_U) *q++ = 'u';
    if (q == buf)
        strcpy(q, "none");
    else
        *q = 0;
    return buf;
}

const char *ex_fault_str(int code, char buf[48])
{
    const char *n = vtd_fault_name(code);
    if (!code)
        snprintf(buf, 48, "none");
    else if (code == SC_FAULT_ANY)
        snprintf(buf, 48, "any");
    else if (code == VTD_DMA_PAGE_REQUEST)
        snprintf(buf, 48, "PAGE_REQUEST (a page request was sent)");
    else if (n)
        snprintf(buf, 48, "%s (0x%x)", n, (unsigned)code);
    else
        snprintf(buf, 48, "0x%x", (unsigned)code);
    return buf;
}

const char *ex_page_str(unsigned shift)
{
    switch (shift) {
    case 12: return "4K";
    case 21: return "2M";
    case 30: return "1G";
    default: return "?";
    }
}

/* ---- setup: IOMMU, root, devices, tables ------------------------------------------------- */

static int table_apply_mappings(struct vtd_pt *pt, const struct sc_table *t, unsigned *bad)
{
    for (unsigned i = 0; i < t->nmap; i++) {
        const struct sc_mapping *m = &t->map[i];
        unsigned perm = t->first_stage ? m->perm : (m->perm & ~VTD_PERM_U);
        int rc = m->page_shift ? vtd_pt_map(pt, m->va, m->pa, m->size, m->page_shift, perm, m->flags)
                               : vtd_pt_map_auto(pt, m->va, m->pa, m->size, perm, m->flags);
        if (rc) {
            *bad = m->line;
            return rc;
        }
    }
    return 0;
}

/* Create table i and make its listed mappings; *bad_line names the failing entry. */
static int table_build(struct ex *e, unsigned i, unsigned *bad_line)
{
    const struct sc_table *t = &e->s->tab[i];
    const struct vtd_pt *backing = t->backing >= 0 ? &e->pt[t->backing]
                                   : t->backing == SC_BACKING_CONTAINER ? sc_uapi_container_ss(e->c) : NULL;
    int rc = vtd_pt_init(&e->pt[i], e->b, t->first_stage ? VTD_PT_FS : VTD_PT_SS, t->levels, backing,
                         backing ? t->pool : 0, backing ? t->pool_size : 0);
    if (!rc)
        rc = table_apply_mappings(&e->pt[i], t, bad_line);
    if (!rc)
        e->pt_ready[i] = true;
    return rc;
}

/* A table a step names, built on first use if it lives behind the container. */
int ex_table_ready(struct ex *e, const struct sc_step *st, enum sc_arg a, const char **what)
{
    unsigned i = (unsigned)st->v[a], bad;
    if (!st->given[a] || e->pt_ready[i])
        return 0;
    *what = "building the guest table (is its pool mapped by map_dma?)";
    return table_build(e, i, &bad);
}

/*
 * Allocations the model could not make and carried on without (simulated-memory frames, ordering
 * checks, page requests): after one, a step's results may be wrong, so the runner says so.
 */
uint64_t ex_model_enomem(const struct ex *e)
{
    if (!e->io)
        return 0;
    return vtd_iommu_stats(e->io)->alloc_failures + vtd_mem_enomem_count(vtd_iommu_mem(e->io));
}

void ex_report_enomem(struct ex *e, const struct sc_step *st)
{
    e->r->out_of_memory = true;
    size_t limit = e->max_frames ? e->max_frames : SC_DEFAULT_MAX_FRAMES;
    /* Name the limit that was met, if simulated memory refused a frame during this step. */
    enum vtd_mem_refusal why = e->mem_refused_before != vtd_mem_enomem_count(vtd_iommu_mem(e->io))
                                   ? vtd_mem_last_refusal(vtd_iommu_mem(e->io)) : VTD_MEM_REFUSED_ALLOC;
    FILE *f = ex_miss(e, st);
    if (why == VTD_MEM_REFUSED_FRAMES)
        fprintf(f, "    out of memory (ENOMEM): simulated memory reached its limit of %zu frames (%zu MiB)", limit, limit >> 8);
    else if (why == VTD_MEM_REFUSED_HOST)
        fprintf(f, "    out of memory (ENOMEM): simulated memory reached the %llu MiB the host-memory budget of %llu MiB "
                   "leaves beside the caches (--max-memory)",
                (unsigned long long)(e->mem_host_limit >> 20), (unsigned long long)(e->max_host_bytes >> 20));
    else
        fprintf(f, "    out of memory (ENOMEM): an allocation in the model failed");
    fprintf(f, " during this step; its results may be wrong\n");
}

/*
 * What an errno means here, in words: the model gives some a meaning of its own that strerror's
 * text ("Argument list too long") does not say.
 */
const char *ex_errno_words(int err, enum sc_kind kind)
{
    if (err == E2BIG && kind == SK_HWPT_INVALIDATE)
        return "an entry is larger than the structure this kernel knows and its extra bytes are not zero";
    if (err == E2BIG)
        return "one map would write more than 2^20 leaves (4 GiB of 4 KiB pages): split it or use larger pages";
    return strerror(err);
}

static bool setup_fail(struct ex *e, unsigned line, const char *what, int rc)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%u: %s: %s", e->s->path, line, what, rc ? ex_errno_words(-rc, SK_MAP) : "invalid");
    if (rc == -ENOMEM || ex_model_enomem(e))
        e->r->out_of_memory = true;
    e->r->load_error = result_strdup(e->r, buf);
    e->r->failed++;
    return false;
}

static bool setup_fail_why(struct ex *e, unsigned line, const char *what, const char *why)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%u: %s: %s", e->s->path, line, what, why ? why : "invalid");
    if (ex_model_enomem(e))
        e->r->out_of_memory = true;
    e->r->load_error = result_strdup(e->r, buf);
    e->r->failed++;
    return false;
}

bool ex_setup_error(struct ex *e, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[384], buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(buf, sizeof buf, "%s:%u:%u: %s", e->s->path, line, col, msg);
    else
        snprintf(buf, sizeof buf, "%s: %s", e->s->path, msg);
    e->r->load_error = result_strdup(e->r, buf);
    e->r->failed++;
    return false;
}

/* memory: the image is attached before anything is written (walker/mem_image.h). */
static bool memory_attach(struct ex *e)
{
    const struct sc_memory *m = &e->s->memory;
    char why[384];
    int rc = vtd_mem_attach_image(vtd_iommu_mem(e->io), m->image, m->format, m->base, why, sizeof why);
    return !rc || ex_setup_error(e, m->line, m->col, "memory: %s (%s)", why, sc_errno_name(-rc));
}

/*
 * The runner's builder without its root table: with an image, memory is the guest's, and a
 * root table written at the pool's start would replace the guest's bytes there. Structures the
 * steps build still come from the pool.
 */
static int builder_only(struct ex *e)
{
    e->w = (struct world){.caps = *vtd_iommu_caps(e->io), .mem = vtd_iommu_mem(e->io)};
    return vtd_builder_init(&e->w.b, e->w.mem, &e->w.caps, WORLD_POOL_BASE, WORLD_POOL_SIZE);
}

/*
 * rtaddr: as a driver sets the root table (Linux iommu_set_root_entry, VT-d 11.4.4): RTADDR_REG,
 * then GCMD.SRTP to latch it, then translation enabled. GCMD bits are levels, so the ones
 * already on (GSTS) are written back with each command.
 */
static bool rtaddr_latch(struct ex *e)
{
    uint64_t sts = 0;
    int rc = vtd_iommu_reg_write(e->io, VTD_REG_RTADDR, 8, e->s->rtaddr);
    if (!rc)
        rc = vtd_iommu_reg_read(e->io, VTD_REG_GSTS, 4, &sts);
    uint32_t on = (sts & VTD_GSTS_TES ? (uint32_t)VTD_GCMD_TE : 0) | (sts & VTD_GSTS_QIES ? (uint32_t)VTD_GCMD_QIE : 0);
    if (!rc)
        rc = vtd_iommu_reg_write(e->io, VTD_REG_GCMD, 4, on | VTD_GCMD_SRTP);
    if (!rc)
        rc = vtd_iommu_reg_write(e->io, VTD_REG_GCMD, 4, on | VTD_GCMD_TE);
    return !rc || ex_setup_error(e, e->s->rtaddr_line, e->s->rtaddr_col, "rtaddr: latching it failed (%s)",
                                 sc_errno_name(-rc));
}

static bool setup(struct ex *e)
{
    const struct scenario *s = e->s;
    const char *why = NULL;
    if (!(e->io = vtd_iommu_new(&s->cfg, &why))) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s:%u:%u: iommu: %s", s->path, s->iommu_line, s->iommu_col, why ? why : "?");
        e->r->load_error = result_strdup(e->r, buf);
        e->r->failed++;
        return false;
    }
    ex_issued_listen(e);
    vtd_mem_set_frame_limit(vtd_iommu_mem(e->io), e->max_frames ? e->max_frames : SC_DEFAULT_MAX_FRAMES);
    vtd_mem_set_host_limit(vtd_iommu_mem(e->io), (size_t)e->mem_host_limit);
    if (s->has_memory && !memory_attach(e))
        return false;
    e->ctx = vtd_calloc(s->ndev + 1, sizeof *e->ctx);
    e->attached = vtd_calloc(s->ndev + 1, sizeof *e->attached);
    e->pt = vtd_calloc(s->ntab + 1, sizeof *e->pt);
    e->pt_ready = vtd_calloc(s->ntab + 1, sizeof *e->pt_ready);
    if (!e->ctx || !e->attached || !e->pt || !e->pt_ready)
        return setup_fail(e, 1, "setup", -ENOMEM);
    int rc = 0;
    for (unsigned i = 0; i < s->ndev; i++)
        if ((rc = vtd_iommu_add_device(e->io, &s->dev[i].cfg)))
            return setup_fail(e, s->dev[i].line, "device", rc);
    if (s->has_container) {
        /* The container builds the root table and programs RTADDR itself. */
        if (sc_uapi_container_new(e->io, s, &e->c, &why))
            return setup_fail_why(e, s->container_line, "container", why);
        e->b = sc_uapi_builder(e->c);
    } else if (s->has_memory) {
        if ((rc = builder_only(e)))
            return setup_fail(e, s->iommu_line, "builder", rc);
        e->b = &e->w.b;
    } else {
        if ((rc = world_init_mem(&e->w, vtd_iommu_caps(e->io), vtd_iommu_mem(e->io))) ||
            (s->legacy && (rc = world_legacy_root(&e->w))))
            return setup_fail(e, s->iommu_line, "root table", rc);
        vtd_iommu_set_root(e->io, e->w.rtaddr);
        e->b = &e->w.b;
    }
    if (s->has_rtaddr && !rtaddr_latch(e))
        return false;
    for (unsigned i = 0; i < s->ntab; i++) {
        unsigned bad = s->tab[i].line;
        /* Guest tables behind the container wait for MAP_DMA to map their pool (table_ready). */
        if (s->tab[i].backing != SC_BACKING_CONTAINER && (rc = table_build(e, i, &bad)))
            return setup_fail(e, bad, s->tab[i].first_stage ? "first-stage table" : "second-stage table", rc);
    }
    return true;
}

static void teardown(struct ex *e)
{
    sc_uapi_container_free(e->c);
    ex_dirty_free(e);
    ex_audit_free(e);
    /* world_init_mem over the IOMMU's memory: the IOMMU frees it. */
    vtd_iommu_free(e->io);
    vtd_free(e->ctx);
    vtd_free(e->attached);
    vtd_free(e->pt);
    vtd_free(e->pt_ready);
}

/* ---- statistics ---------------------------------------------------------------------------- */

static void stats_row(FILE *f, const char *name, const struct vtd_cache_stats *s)
{
    fprintf(f, "  %-14s %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu\n", name, (unsigned long long)s->lookups,
            (unsigned long long)s->hits, (unsigned long long)s->misses, (unsigned long long)s->fills,
            (unsigned long long)s->evictions, (unsigned long long)s->invalidated,
            (unsigned long long)s->over_invalidated, (unsigned long long)s->stale_hits);
}

static char *stats_text(struct ex *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "  %-14s %9s %9s %9s %9s %9s %9s %9s %9s\n", "cache", "lookups", "hits", "misses", "fills", "evicted",
            "invalid.", "over-inv.", "stale");
    for (int c = 0; c < VTD_C_NCACHES; c++)
        stats_row(f, sc_cache_key_name(c), vtd_cache_stats(vtd_iommu_cache(e->io, (enum vtd_cache_id)c)));
    for (unsigned d = 0; d < e->s->ndev; d++) {
        struct vtd_cache *t = vtd_iommu_devtlb(e->io, e->s->dev[d].cfg.sid);
        char name[64];
        snprintf(name, sizeof name, "devtlb %s", e->s->dev[d].name);
        if (t)
            stats_row(f, name, vtd_cache_stats(t));
    }
    const struct vtd_iommu_stats *g = vtd_iommu_stats(e->io);
    fprintf(f, "  requests %llu, faults %llu, stale %llu, walks %llu (%.1f reads each), warnings %llu\n",
            (unsigned long long)g->requests, (unsigned long long)g->faults, (unsigned long long)g->stale,
            (unsigned long long)g->walks, g->walks ? (double)g->walk_reads / (double)g->walks : 0.0,
            (unsigned long long)g->warnings);
    fclose(f);
    return buf;
}

/* ---- entry points ---------------------------------------------------------------------------- */

bool sc_run(const struct scenario *s, const struct sc_run_opts *o, struct sc_result *r)
{
    struct ex e = {.s = s, .r = r, .max_frames = o ? o->max_frames : 0,
                   .warnings_as_errors = o && o->warnings_as_errors,
                   .max_failures = o && o->max_failures ? o->max_failures : SC_MAX_FAILURES_KEPT};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!r->path)
        r->path = result_strdup(r, s->path);
    r->name = result_strdup(r, s->name);
    if (ex_check_budgets(&e, o) && setup(&e)) {
        if (o && o->audit && ex_audit_new(&e)) {
            r->out_of_memory = true;
            r->failed++;
        } else {
            ex_run_steps(&e, s->steps, s->nsteps, true);
            ex_audit_finish(&e);
        }
        if (o && o->stats)
            r->stats = stats_text(&e);
    }
    teardown(&e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return sc_result_passed(r);
}

int sc_run_until(const struct scenario *s, unsigned upto, struct sc_result *r, unsigned *bad_step,
                 sc_inspect_fn fn, void *arg)
{
    struct ex e = {.s = s, .r = r, .max_failures = SC_MAX_FAILURES_KEPT};
    int rc = -EIO;
    if (upto > s->nsteps)
        return -ERANGE;
    if (!r->path)
        r->path = result_strdup(r, s->path);
    if (ex_check_budgets(&e, NULL) && setup(&e)) {
        ex_run_steps(&e, s->steps, upto, true);
        if (bad_step)
            *bad_step = e.bad_step;
        rc = e.bad_step ? -EIO : fn(e.io, ex_rtaddr(&e), arg);
    }
    teardown(&e);
    return rc;
}

bool sc_run_file(const char *path, const struct sc_run_opts *o, struct sc_result *r)
{
    struct sc_error err;
    *r = (struct sc_result){0};
    r->path = result_strdup(r, path);
    struct scenario *s = sc_load_file_max(path, o ? o->max_errors : 0, &err);
    if (!s) {
        r->load_error = sc_error_text(path, &err);
        if (!r->load_error)
            r->out_of_memory = true;
        r->failed = 1;
        return false;
    }
    bool ok = sc_run(s, o, r);
    sc_free(s);
    return ok;
}

bool sc_result_passed(const struct sc_result *r) { return !r->failed && !r->load_error; }

void sc_result_free(struct sc_result *r)
{
    vtd_free(r->path);
    vtd_free(r->name);
    vtd_free(r->load_error);
    free(r->stats); /* open_memstream buffers come from libc */;
    for (unsigned i = 0; i < r->nfail; i++) {
        free(r->fail[i].text);
        free(r->fail[i].covering_fix); /* strdup's */
    }
    vtd_free(r->issued);
    vtd_free(r->fail);
    *r = (struct sc_result){0};
}

/* File names, scalars and messages quoting them may hold anything: escaped for a terminal. */
void sc_result_print(const struct sc_result *r, FILE *out)
{
    const char *path = r->path ? r->path : "?";
    if (r->out_of_memory) {
        sc_text_terminal(out, path);
        fputs(": out of memory (ENOMEM)\n", out);
    }
    if (r->load_error) {
        sc_text_terminal(out, r->load_error);
        fputc('\n', out);
    }
    for (unsigned i = 0; i < r->nfail; i++)
        sc_text_terminal(out, r->fail[i].text);
    if (r->fail_dropped) {
        sc_text_terminal(out, path);
        fprintf(out, ": ... %u more failed step%s not shown (--max-failures N shows N, 0 all)\n", r->fail_dropped,
                r->fail_dropped == 1 ? "" : "s");
    }
}

