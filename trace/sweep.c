/* sweep.c: one trace replayed over a grid of cache geometries (see replay.h). */
#include <stdio.h>
#include <string.h>

#include "trace/replay.h"
#include "walker/alloc.h"

/* The paging-structure caches keep the default 4-way organisation while their size varies. */
#define PSC_WAYS 4u

void vtrace_sweep_grid_default(struct vtrace_sweep_grid *g)
{
    static const unsigned sizes[] = {32, 64, 128, 256, 512, 1024, 2048, 4096};
    static const unsigned ways[] = {1, 4, 8, VTRACE_WAYS_FULL};
    static const unsigned psc[] = {0, 16, 64, 256};
    *g = (struct vtrace_sweep_grid){.n_iotlb = 8, .n_ways = 4, .n_repl = 3, .n_psc = 4,
                                    .repl = {VTD_REPL_LRU, VTD_REPL_FIFO, VTD_REPL_RANDOM}};
    memcpy(g->iotlb_entries, sizes, sizeof(sizes));
    memcpy(g->ways, ways, sizeof(ways));
    memcpy(g->psc_entries, psc, sizeof(psc));
}

long vtrace_load(const char *path, struct vtrace_event **out, char err[VTRACE_ERR_LEN])
{
    struct vtrace_reader *r = vtrace_open(path, err);
    if (!r)
        return -1;
    size_t cap = 4096, n = 0;
    struct vtrace_event *ev = vtd_malloc(cap * sizeof(*ev));
    long got = ev ? 0 : -1;
    while (ev && (got = vtrace_read(r, ev + n, (long)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap) {
            struct vtrace_event *bigger = vtd_realloc(ev, 2 * cap * sizeof(*ev));
            if (!bigger) {
                vtd_free(ev);
                ev = NULL;
                break;
            }
            ev = bigger;
            cap *= 2;
        }
    }
    if (!ev)
        snprintf(err, VTRACE_ERR_LEN, "%s: out of memory", path);
    else if (got < 0)
        snprintf(err, VTRACE_ERR_LEN, "%s", vtrace_error(r));
    vtrace_close(r);
    if (!ev || got < 0) {
        vtd_free(ev);
        return -1;
    }
    *out = ev;
    return (long)n;
}

static const char *repl_name(enum vtd_repl r) { return r == VTD_REPL_LRU ? "lru" : r == VTD_REPL_FIFO ? "fifo" : "random"; }

/* sets x ways for `entries`; false when the ways do not divide the entries. */
static bool geometry(unsigned entries, unsigned ways, enum vtd_repl repl, struct vtd_cache_geometry *g)
{
    unsigned w = ways == VTRACE_WAYS_FULL ? entries : ways;
    if (!entries) {
        *g = (struct vtd_cache_geometry){0};
        return true;
    }
    if (!w || entries % w)
        return false;
    *g = (struct vtd_cache_geometry){.sets = entries / w, .ways = w, .repl = repl, .seed = 1};
    return true;
}

/* The grid's points whose geometries divide evenly (the ones a sweep replays). */
static long valid_points(const struct vtrace_sweep_grid *grid)
{
    long points = 0;
    struct vtd_cache_geometry g;
    for (unsigned p = 0; p < grid->n_psc; p++)
        for (unsigned r = 0; r < grid->n_repl; r++)
            for (unsigned w = 0; w < grid->n_ways; w++)
                for (unsigned s = 0; s < grid->n_iotlb; s++)
                    points += geometry(grid->iotlb_entries[s], grid->ways[w], grid->repl[r], &g) &&
                              geometry(grid->psc_entries[p], PSC_WAYS, grid->repl[r], &g);
    return points;
}

long vtrace_sweep(const struct vtrace_event *ev, long n, const struct vtrace_replay_config *base,
                  const struct vtrace_sweep_grid *grid, vtrace_sweep_fn fn, void *arg, char err[VTRACE_ERR_LEN])
{
    long rows = 0, point = -1, points = valid_points(grid);
    for (unsigned p = 0; p < grid->n_psc; p++)
        for (unsigned r = 0; r < grid->n_repl; r++)
            for (unsigned w = 0; w < grid->n_ways; w++)
                for (unsigned s = 0; s < grid->n_iotlb; s++) {
                    struct vtrace_replay_config cfg = *base;
                    struct vtrace_sweep_row row = {.iotlb_entries = grid->iotlb_entries[s], .ways = grid->ways[w],
                                                   .psc_entries = grid->psc_entries[p], .repl = grid->repl[r],
                                                   .points = points};
                    if (!geometry(row.iotlb_entries, row.ways, row.repl, &cfg.iommu.cache[VTD_C_IOTLB]) ||
                        !geometry(row.psc_entries, PSC_WAYS, row.repl, &cfg.iommu.cache[VTD_C_PSC_FS]))
                        continue;
                    row.point = ++point;
                    if (grid->shards && point % grid->shards != grid->shard - 1)
                        continue; /* another shard's */
                    cfg.iommu.cache[VTD_C_PSC_SS] = cfg.iommu.cache[VTD_C_PSC_FS];
                    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
                    if (!rp)
                        return -1;
                    int rc = vtrace_replay_events(rp, ev, n, 0, err);
                    if (!rc)
                        vtrace_replay_result(rp, &row.r);
                    vtrace_replay_free(rp);
                    if (rc)
                        return -1;
                    if (fn)
                        fn(arg, &row);
                    rows++;
                }
    return rows;
}

const char *vtrace_sweep_csv_header(void)
{
    return "iotlb_entries,ways,repl,psc_entries,translations,iotlb_lookups,iotlb_hits,iotlb_hit_rate,"
           "psc_fs_hit_rate,psc_ss_hit_rate,reads_per_translation,paging_reads_per_translation,faults,stale,"
           "mtranslations_per_s";
}

void vtrace_sweep_csv_row(const struct vtrace_sweep_row *row, char *buf, size_t len)
{
    const struct vtrace_replay_result *r = &row->r;
    double t = r->translations ? (double)r->translations : 1;
    char ways[16];
    if (row->ways == VTRACE_WAYS_FULL)
        snprintf(ways, sizeof(ways), "full");
    else
        snprintf(ways, sizeof(ways), "%u", row->ways);
    snprintf(buf, len, "%u,%s,%s,%u,%llu,%llu,%llu,%.6f,%.6f,%.6f,%.4f,%.4f,%llu,%llu,%.3f", row->iotlb_entries, ways,
             repl_name(row->repl), row->psc_entries, (unsigned long long)r->translations,
             (unsigned long long)r->cache[VTD_C_IOTLB].lookups, (unsigned long long)r->cache[VTD_C_IOTLB].hits,
             vtrace_hit_rate(&r->cache[VTD_C_IOTLB]), vtrace_hit_rate(&r->cache[VTD_C_PSC_FS]),
             vtrace_hit_rate(&r->cache[VTD_C_PSC_SS]), (double)r->reads / t, (double)r->paging_reads / t,
             (unsigned long long)r->faults, (unsigned long long)r->stale,
             r->seconds > 0 ? (double)r->translations / r->seconds / 1e6 : 0);
}
