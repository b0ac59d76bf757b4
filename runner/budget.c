/*
 * budget.c: the budgets a run keeps (runner.h, docs/robustness.md "Budgets"): work, host memory
 * and time.
 *
 * Work is counted in units of one 4 KiB page handled: a DMA costs one unit per page its range
 * touches (one translation each), a map, unmap or protect one per 4 KiB page of its range (at
 * most VTD_PT_MAX_LEAVES, where the builder stops), a fill or MAP_DMA likewise, any other step
 * one. An invalidation also costs one unit per 4096 cache entries, since it looks at every slot
 * of the caches it targets (sim/cache.c vtd_cache_invalidate); a write to IQT may run a whole
 * queue of them. The loader adds up every step times the repeats around it (sc_step.work_upto), so a
 * scenario that asks for too much is refused before it starts, at the step that crosses the
 * budget; the executor counts again as it goes, for scenarios built in C.
 *
 * Host memory: the caches and device TLBs are allocated whole when the IOMMU is built, so their
 * cost is known from the configuration (vtd_iommu_cache_host_bytes); what remains of the budget
 * bounds simulated memory, frames and index nodes together (vtd_mem_set_host_limit).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "runner/run_internal.h"
#include "walker/builder.h"

/* Pages of 4 KiB in `size` bytes, rounded up, at most the builder's leaf limit (+1: it refuses). */
static uint64_t pages_capped(uint64_t size)
{
    uint64_t pages = size / VTD_PAGE_SIZE + (size % VTD_PAGE_SIZE != 0);
    return pages > VTD_PT_MAX_LEAVES + 1 ? VTD_PT_MAX_LEAVES + 1 : (pages ? pages : 1);
}

/* Pages a DMA's range touches: do_dma's loop, with the same wrapping arithmetic. */
static uint64_t dma_pages(const struct sc_step *st)
{
    uint64_t addr = st->v[A_ADDR], size = st->given[A_SIZE] ? st->v[A_SIZE] : 1;
    uint64_t first = addr & VTD_PAGE_MASK, last = (addr + size - 1) & VTD_PAGE_MASK;
    return ((last - first) >> 12) + 1;
}

/* Units of one pass over every cache slot: all IOMMU caches and device TLBs, 4096 entries a unit. */
static uint64_t scan_units(const struct scenario *s)
{
    uint64_t entries = 0;
    for (unsigned c = 0; c < VTD_C_NCACHES; c++)
        entries += (uint64_t)s->cfg.cache[c].sets * s->cfg.cache[c].ways;
    for (unsigned d = 0; d < s->ndev; d++)
        if (s->dev[d].cfg.ats)
            entries += (uint64_t)s->dev[d].cfg.devtlb.sets * s->dev[d].cfg.devtlb.ways;
    return entries / 4096;
}

/* The most descriptors one queue holds: 2^(QS+8) 128-bit ones with QS at most 7 (VT-d 6.5.2). */
#define QUEUE_MAX_DESCRIPTORS 32768u

uint64_t sc_step_work(const struct scenario *s, const struct sc_step *st)
{
    switch (st->kind) {
    case SK_DMA: return dma_pages(st);
    case SK_QI: case SK_CACHE_INVALIDATE: case SK_UNBIND: return 1 + scan_units(s);
    case SK_HWPT_INVALIDATE: return 1 + SC_MAX_HWPT_INV * scan_units(s);
    case SK_REG_WRITE: return st->v[A_OFFSET] == 0x88 /* IQT */ ? 1 + QUEUE_MAX_DESCRIPTORS * scan_units(s) : 1;
    /* A queued descriptor, or time passing that completes held ones and resumes the queue. */
    case SK_QI_QUEUE: case SK_ELAPSE: case SK_ATS_REPLY: return 1 + QUEUE_MAX_DESCRIPTORS * scan_units(s);
    case SK_UNMAP_DMA: return pages_capped(st->v[A_SIZE]) + scan_units(s);
    case SK_MAP: case SK_UNMAP: case SK_PROTECT: case SK_MAP_DMA:
        return pages_capped(st->v[A_SIZE]);
    case SK_WRITE_MEM: return st->given[A_FILL] ? pages_capped(st->v[A_SIZE]) : 1;
    case SK_REPEAT: return 0; /* its steps count for themselves, times the count */
    default: return 1;
    }
}

/* a + b * c, saturating at UINT64_MAX. */
uint64_t sc_work_add(uint64_t a, uint64_t b, uint64_t c)
{
    if (b && c > UINT64_MAX / b)
        return UINT64_MAX;
    return b * c > UINT64_MAX - a ? UINT64_MAX : a + b * c;
}

/* ---- work ----------------------------------------------------------------------------------- */

static uint64_t work_budget(const struct sc_run_opts *o) { return o && o->max_work ? o->max_work : SC_DEFAULT_MAX_WORK; }

/* The first step (depth first, in execution order of first appearance) whose total crosses max. */
static const struct sc_step *step_crossing(const struct sc_step *st, unsigned n, uint64_t max)
{
    for (unsigned i = 0; i < n; i++) {
        if (st[i].work_upto <= max)
            continue;
        const struct sc_step *inner = step_crossing(st[i].sub, st[i].nsub, max);
        return inner ? inner : &st[i];
    }
    return NULL;
}

static bool check_work(struct ex *e, const struct sc_run_opts *o)
{
    uint64_t max = work_budget(o);
    e->max_work = max;
    if (e->s->work <= max)
        return true;
    const struct sc_step *st = step_crossing(e->s->steps, e->s->nsteps, max);
    char total[32];
    if (e->s->work == UINT64_MAX)
        snprintf(total, sizeof total, "more than 2^64");
    else
        snprintf(total, sizeof total, "%llu", (unsigned long long)e->s->work);
    return ex_setup_error(e, st ? st->line : 0, st ? st->col : 0,
                          "the scenario asks for %s units of work (4 KiB pages translated, mapped or filled, "
                          "repeats multiplied out), more than the work budget of %llu (--max-work)",
                          total, (unsigned long long)max);
}

bool ex_charge(struct ex *e, const struct sc_step *st, uint64_t units)
{
    e->work = sc_work_add(e->work, units, 1);
    if (e->work <= e->max_work)
        return true;
    fprintf(ex_miss(e, st), "    work budget exhausted: more than %llu units of work (--max-work); the run stops here\n",
            (unsigned long long)e->max_work);
    e->stop = true;
    return false;
}

/* ---- host memory ------------------------------------------------------------------------------ */

static uint64_t host_budget(const struct sc_run_opts *o)
{
    return o && o->max_host_bytes ? o->max_host_bytes : SC_DEFAULT_MAX_HOST_BYTES;
}

static uint64_t mib(uint64_t bytes) { return (bytes + (1u << 20) - 1) >> 20; }

/* The caches' and device TLBs' bytes; *line, *col: the configuration of the largest of them. */
static uint64_t cache_bytes(const struct scenario *s, unsigned *line, unsigned *col)
{
    uint64_t total = 0, largest = 0;
    *line = s->iommu_line;
    *col = s->iommu_col;
    for (unsigned c = 0; c < VTD_C_NCACHES; c++) {
        uint64_t b = vtd_iommu_cache_host_bytes(&s->cfg, (enum vtd_cache_id)c);
        total = sc_work_add(total, b, 1);
        if (b > largest && s->cache_line[c]) {
            largest = b;
            *line = s->cache_line[c];
            *col = s->cache_col[c];
        }
    }
    for (unsigned d = 0; d < s->ndev; d++) {
        uint64_t b = vtd_device_host_bytes(&s->dev[d].cfg);
        total = sc_work_add(total, b, 1);
        if (b > largest) {
            largest = b;
            *line = s->dev[d].line;
            *col = s->dev[d].col;
        }
    }
    return total;
}

/* Simulated memory needs room for at least its root index and a few frames to be any use. */
#define MEM_MIN_BYTES (UINT64_C(1) << 20)

static bool check_host_memory(struct ex *e, const struct sc_run_opts *o)
{
    unsigned line, col;
    uint64_t max = host_budget(o), caches = cache_bytes(e->s, &line, &col);
    e->max_host_bytes = max;
    if (caches <= max && max - caches >= MEM_MIN_BYTES) {
        e->mem_host_limit = max - caches;
        return true;
    }
    return ex_setup_error(e, line, col,
                          "the caches and device TLBs take %llu MiB of host memory (largest configured here), "
                          "more than the host-memory budget of %llu MiB (--max-memory) leaves beside 1 MiB of "
                          "simulated memory",
                          (unsigned long long)mib(caches), (unsigned long long)mib(max));
}

bool ex_check_budgets(struct ex *e, const struct sc_run_opts *o)
{
    e->timeout = o ? o->timeout : 0;
    if (e->timeout > 0) {
        clock_gettime(CLOCK_MONOTONIC, &e->deadline);
        double whole = (double)(time_t)e->timeout;
        e->deadline.tv_sec += (time_t)whole;
        e->deadline.tv_nsec += (long)((e->timeout - whole) * 1e9);
        if (e->deadline.tv_nsec >= 1000000000L) {
            e->deadline.tv_sec++;
            e->deadline.tv_nsec -= 1000000000L;
        }
    }
    return check_work(e, o) && check_host_memory(e, o);
}

/* ---- time --------------------------------------------------------------------------------------- */

bool ex_out_of_time(struct ex *e, const struct sc_step *st)
{
    if (e->stop)
        return true;
    if (e->timeout <= 0)
        return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < e->deadline.tv_sec || (now.tv_sec == e->deadline.tv_sec && now.tv_nsec < e->deadline.tv_nsec))
        return false;
    fprintf(ex_miss(e, st), "    timed out: the file ran longer than %g s (--timeout); the run stops here\n", e->timeout);
    e->r->timed_out = true;
    e->stop = true;
    return true;
}
