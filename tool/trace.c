/*
 * trace.c: `vtdsim trace`: hit-rate studies on DMA traces (trace/): generate a trace of a
 * typical workload, replay it on the simulated IOMMU with chosen caches, sweep it over a grid
 * of cache geometries, convert between the binary and CSV formats.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "shard.h"
#include "trace/gen.h"
#include "trace/import_linux.h"
#include "trace/replay.h"
#include "trace/trace.h"
#include "walker/alloc.h"
#include "walker/outfile.h"
#include "walker/bdf.h"
#include "walker/number.h"

static const char trace_help[] =
    "usage: vtdsim trace gen KIND [options] -o FILE     generate a trace (FILE.csv: CSV, else binary)\n"
    "       vtdsim trace replay FILE [options]          replay it, report hit rates and reads\n"
    "       vtdsim trace sweep FILE --csv OUT [options] replay it over a grid of cache geometries\n"
    "       vtdsim trace convert IN OUT                 binary <-> CSV (by the names' suffixes)\n"
    "       vtdsim trace import linux FILE -o OUT       a Linux kernel's IOMMU trace events as a trace\n"
    "\n"
    "gen KIND: nic, storage, uniform, zipf, sva\n"
    "  --count N          packets (nic), requests (storage), DMAs (others)\n"
    "  --seed N           random seed (default 1); same parameters and seed, same trace\n"
    "  --sid BB:DD.F      the device (default 00:03.0)\n"
    "  nic:      --ring N (256)  --pkt-size B (1500)  --dir rx|tx|both (both)\n"
    "            --inval strict|deferred (strict)  --fq-size N (256 unmaps per deferred flush)\n"
    "            --reuse-before-flush  (deferred: reuse IOVAs before their flush: unsafe)\n"
    "  storage:  --buffer B (1g)  --req-min B (128k)  --req-max B (1m)  --small-pages\n"
    "  uniform, zipf: --pages N (4096)  --dma-size B (64)  --zipf-s S (1.0)\n"
    "  sva:      --pasid N (1)  --dma-size B (64)  --small-pages\n"
    "  --dirty-every N    live migration (not sva): a dirty harvest of the whole space after\n"
    "                     every N DMAs, and a last one at the end\n"
    "  numbers are decimal (010 is ten) or 0x hex; sizes take K, M, G, T suffixes (powers of 1024)\n"
    "\n"
    "replay and sweep:\n"
    "  --mode auto|ss|fs|nested  translation type of every address space (auto: second stage\n"
    "                     without PASID, first stage with one)\n"
    "  --nested-ss-page 4k|2m|1g  second-stage pages backing a nested guest (2m)\n"
    "  --oracle           compare every cached answer with a fresh walk (counts stale hits; slow)\n"
    "  --stale-list N     with --oracle: list the first N stale translations: event, device,\n"
    "                     PASID, address, caches, the missing invalidation (10; at most 64)\n"
    "  --fail-on-stale    exit status 1 when the oracle found a stale translation\n"
    "  --audit            replay only: the latent-staleness audit: every range unmapped and not yet\n"
    "                     invalidated (and waited for) when it is mapped again or the trace ends;\n"
    "                     exit status 1 when it finds one (docs/trace-audit.md)\n"
    "  --audit-list N     with --audit: list the first N findings (10)\n"
    "  --max-memory SIZE  host-memory budget of one replay: caches, page tables, records (2g)\n"
    "  --dirty-no-flush   dirty events harvest without the IOTLB flush that must follow (the bug)\n"
    "replay only:\n"
    "  --iotlb N          IOTLB entries (512)      --iotlb-ways W|full (8)\n"
    "  --psc N            entries of each paging-structure cache (64, 4-way; 0: off)\n"
    "  --repl lru|fifo|random  replacement of the IOTLB and paging-structure caches (lru)\n"
    "  --json             print the result as JSON\n"
    "  --overhead         also time the loop alone (read and split, no translation)\n"
    "import linux FILE: the text of /sys/kernel/tracing/trace or of trace-cmd report with the iommu\n"
    "  and intel_iommu events (map, unmap, qi_submit, attach_device_to_domain, io_page_fault,\n"
    "  cache_tag_assign); other lines are counted and skipped\n"
    "  -o OUT             the trace to write (OUT.csv: CSV, else binary)\n"
    "sweep only:\n"
    "  --csv OUT          the rows (required)\n"
    "  --iotlb-sizes L    comma list (32,64,128,256,512,1024,2048,4096)\n"
    "  --ways L           comma list of 1, 4, 8, ..., full (1,4,8,full)\n"
    "  --repls L          comma list (lru,fifo,random)\n"
    "  --psc-sizes L      comma list (0,16,64,256)\n"
    "  --shard I/N        replay only shard I of N (1 <= I <= N): the grid's points k (0-based,\n"
    "                     in sweep order) with k mod N = I - 1; its rows start with point,points\n"
    "                     and 'vtdsim merge --csv' joins the shards into the whole sweep's CSV\n"
    "\n"
    "Progress goes to stderr when it is a terminal. Exit status: 0, 1 when a trace is invalid or\n"
    "the replay fails, 2 on a usage error.\n";

static int usage_err(const char *fmt, const char *arg) { return tool_usage_error("trace", fmt, arg); }

/* A size as scenarios spell it (walker/number.h: decimal or 0x hex, K/M/G/T), at most max. */
static bool parse_size(const char *s, unsigned long long max, unsigned long long *v)
{
    uint64_t x;
    if (vtd_size_parse(s, &x) || x > max)
        return false;
    *v = x;
    return true;
}

/* bb:dd.f, strictly (walker/bdf.h). */
static bool parse_sid(const char *s, uint16_t *sid) { return vtd_sid_parse(s, strlen(s), sid); }

static bool parse_page(const char *s, unsigned *shift)
{
    *shift = !strcmp(s, "4k") ? 12 : !strcmp(s, "2m") ? 21 : !strcmp(s, "1g") ? 30 : 0;
    return *shift != 0;
}

static int parse_repl(const char *s)
{
    return !strcmp(s, "lru") ? VTD_REPL_LRU : !strcmp(s, "fifo") ? VTD_REPL_FIFO : !strcmp(s, "random") ? VTD_REPL_RANDOM : -1;
}

/* Fetch the value of option argv[*i]; NULL (after a message) when missing. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        usage_err("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* ---- gen ---- */

static int gen_option(struct vtrace_gen_params *p, const char *opt, const char *v)
{
    unsigned long long x;
    if (!strcmp(opt, "--count") && parse_size(v, UINT64_MAX, &x))
        p->count = x;
    else if (!strcmp(opt, "--seed") && parse_size(v, UINT64_MAX, &x))
        p->seed = x;
    else if (!strcmp(opt, "--sid") && parse_sid(v, &p->sid))
        ;
    else if (!strcmp(opt, "--ring") && parse_size(v, 1u << 16, &x) && x)
        p->ring = (unsigned)x;
    else if (!strcmp(opt, "--pkt-size") && parse_size(v, 64 << 10, &x) && x)
        p->pkt_size = (unsigned)x;
    else if (!strcmp(opt, "--dir") && (!strcmp(v, "rx") || !strcmp(v, "tx") || !strcmp(v, "both"))) {
        p->rx = strcmp(v, "tx") != 0;
        p->tx = strcmp(v, "rx") != 0;
    } else if (!strcmp(opt, "--inval") && (!strcmp(v, "strict") || !strcmp(v, "deferred")))
        p->inval = !strcmp(v, "strict") ? VTRACE_INVAL_STRICT : VTRACE_INVAL_DEFERRED;
    else if (!strcmp(opt, "--fq-size") && parse_size(v, 1u << 20, &x) && x)
        p->fq_size = (unsigned)x;
    else if (!strcmp(opt, "--buffer") && parse_size(v, UINT64_C(1) << 40, &x))
        p->buffer = x;
    else if (!strcmp(opt, "--req-min") && parse_size(v, UINT32_MAX, &x))
        p->req_min = (uint32_t)x;
    else if (!strcmp(opt, "--req-max") && parse_size(v, UINT32_MAX, &x))
        p->req_max = (uint32_t)x;
    else if (!strcmp(opt, "--pages") && parse_size(v, UINT64_C(1) << 30, &x) && x)
        p->pages = x;
    else if (!strcmp(opt, "--dma-size") && parse_size(v, 4096, &x) && x)
        p->dma_size = (uint32_t)x;
    else if (!strcmp(opt, "--zipf-s")) {
        char *end;
        p->zipf_s = strtod(v, &end);
        if (*end || !(p->zipf_s > 0) || p->zipf_s > 10)
            return usage_err("--zipf-s wants a number in (0, 10], not '%s'", v);
    } else if (!strcmp(opt, "--pasid") && parse_size(v, (1u << 20) - 1, &x))
        p->pasid = (uint32_t)x;
    else if (!strcmp(opt, "--dirty-every") && parse_size(v, UINT64_MAX, &x))
        p->dirty_every = x;
    else
        return usage_err("bad option or value for gen: %s", opt);
    return 0;
}

static int cmd_gen(int argc, char **argv)
{
    if (argc < 2)
        return usage_err("gen needs a KIND (nic, storage, uniform, zipf, sva)%s", "");
    int kind = vtrace_gen_kind_of(argv[1]);
    if (kind < 0)
        return usage_err("unknown generator '%s' (nic, storage, uniform, zipf, sva)", argv[1]);
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, (enum vtrace_gen_kind)kind);
    const char *out = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--reuse-before-flush")) {
            p.reuse_before_flush = true;
            continue;
        }
        if (!strcmp(argv[i], "--small-pages")) {
            p.small_pages = true;
            continue;
        }
        if (strncmp(argv[i], "-", 1))
            return usage_err("unexpected argument '%s'", argv[i]);
        const char *opt = argv[i], *v = value(argc, argv, &i);
        if (!v)
            return 2;
        if (!strcmp(opt, "-o"))
            out = v;
        else if (gen_option(&p, opt, v))
            return 2;
    }
    if (!out)
        return usage_err("gen needs -o FILE%s", "");
    char err[VTRACE_ERR_LEN];
    uint64_t n[VTRACE_NKINDS];
    if (vtrace_generate_file(&p, out, n, err)) {
        return tool_error("trace gen", err);
    }
    /* What was written, so a user need not replay the file to know. */
    struct stat sb;
    fputs("wrote ", stdout);
    sc_text_terminal(stdout, out);
    printf(": %llu dma, %llu map, %llu unmap, %llu invalidate events", (unsigned long long)n[VTRACE_DMA],
           (unsigned long long)n[VTRACE_MAP], (unsigned long long)n[VTRACE_UNMAP],
           (unsigned long long)n[VTRACE_INVALIDATE]);
    if (n[VTRACE_DIRTY])
        printf(", %llu dirty harvests", (unsigned long long)n[VTRACE_DIRTY]);
    if (!stat(out, &sb) && S_ISREG(sb.st_mode))
        printf(", %lld bytes", (long long)sb.st_size);
    printf("\n");
    return 0;
}

/* ---- progress on a terminal ---- */

static void show_progress(void *arg, uint64_t done, int64_t total)
{
    (void)arg;
    if (total > 0)
        fprintf(stderr, "\r  replay: %.1f M of %.1f M events (%.0f%%)  ", (double)done / 1e6, (double)total / 1e6,
                100.0 * (double)done / (double)total);
    else
        fprintf(stderr, "\r  replay: %.1f M events  ", (double)done / 1e6);
}

static void end_progress(bool shown)
{
    if (shown)
        fprintf(stderr, "\r%60s\r", "");
}

/* ---- replay and sweep options ---- */

struct replay_opts {
    struct vtrace_replay_config cfg;
    unsigned iotlb, ways, psc;
    enum vtd_repl repl;
    bool json, overhead, fail_on_stale;
    unsigned audit_list;      /* findings listed */
    unsigned audit_listed;
    unsigned stale_list;      /* stale translations listed (at most VTRACE_STALE_KEPT) */
    const char *csv;
    struct vtrace_sweep_grid grid;
};

/* --stale-list N: 0 to VTRACE_STALE_KEPT. */
static bool parse_stale_list(const char *s, unsigned *n)
{
    uint64_t v;
    if (vtd_number_parse(s, &v) || v > VTRACE_STALE_KEPT)
        return false;
    *n = (unsigned)v;
    return true;
}

/* A comma list of unsigned numbers ('full' allowed when full_ok). */
static bool parse_list(const char *s, unsigned *out, unsigned *n, bool full_ok)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned long long x;
        if (*n == VTRACE_SWEEP_MAX)
            return false;
        if (full_ok && !strcmp(tok, "full"))
            out[(*n)++] = VTRACE_WAYS_FULL;
        else if (parse_size(tok, 1u << 20, &x) && (x || !full_ok))
            out[(*n)++] = (unsigned)x;
        else
            return false;
    }
    return *n > 0;
}

static bool parse_repl_list(const char *s, struct vtrace_sweep_grid *g)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    g->n_repl = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int r = parse_repl(tok);
        if (r < 0 || g->n_repl == 3)
            return false;
        g->repl[g->n_repl++] = (enum vtd_repl)r;
    }
    return g->n_repl > 0;
}

/* --shard I/N (tool/shard.h) into the grid. */
static bool parse_shard(const char *s, struct vtrace_sweep_grid *g)
{
    struct tool_shard sh;
    if (!tool_shard_parse(s, &sh))
        return false;
    g->shard = sh.index;
    g->shards = sh.count;
    return true;
}

static int replay_option(struct replay_opts *o, bool sweep, const char *opt, const char *v)
{
    unsigned long long x;
    unsigned shift;
    int m;
    if (!strcmp(opt, "--mode") && (m = vtrace_mode_of(v)) >= 0)
        o->cfg.mode = (enum vtrace_mode)m;
    else if (!strcmp(opt, "--nested-ss-page") && parse_page(v, &shift))
        o->cfg.nested_ss_shift = shift;
    else if (!strcmp(opt, "--max-memory") && parse_size(v, UINT64_MAX, &x) && x)
        o->cfg.max_host_bytes = x;
    else if (!sweep && !strcmp(opt, "--iotlb") && parse_size(v, 1u << 20, &x))
        o->iotlb = (unsigned)x;
    else if (!sweep && !strcmp(opt, "--iotlb-ways") && !strcmp(v, "full"))
        o->ways = VTRACE_WAYS_FULL;
    else if (!sweep && !strcmp(opt, "--iotlb-ways") && parse_size(v, 1u << 20, &x) && x)
        o->ways = (unsigned)x;
    else if (!sweep && !strcmp(opt, "--psc") && parse_size(v, 1u << 20, &x))
        o->psc = (unsigned)x;
    else if (!sweep && !strcmp(opt, "--repl") && parse_repl(v) >= 0)
        o->repl = (enum vtd_repl)parse_repl(v);
    else if (sweep && !strcmp(opt, "--csv"))
        o->csv = v;
    else if (sweep && !strcmp(opt, "--iotlb-sizes") && parse_list(v, o->grid.iotlb_entries, &o->grid.n_iotlb, false))
        ;
    else if (!sweep && !strcmp(opt, "--stale-list") && parse_stale_list(v, &o->stale_list))
        ;
    else if (!sweep && !strcmp(opt, "--audit-list") && parse_size(v, 1u << 20, &x))
        o->audit_list = (unsigned)x;
    else if (sweep && !strcmp(opt, "--ways") && parse_list(v, o->grid.ways, &o->grid.n_ways, true))
        ;
    else if (sweep && !strcmp(opt, "--repls") && parse_repl_list(v, &o->grid))
        ;
    else if (sweep && !strcmp(opt, "--psc-sizes") && parse_list(v, o->grid.psc_entries, &o->grid.n_psc, false))
        ;
    else if (sweep && !strcmp(opt, "--shard") && parse_shard(v, &o->grid))
        ;
    else
        return usage_err("bad option or value: %s", opt);
    return 0;
}

static int parse_replay_args(int argc, char **argv, bool sweep, struct replay_opts *o, const char **file)
{
    *o = (struct replay_opts){.iotlb = 512, .ways = 8, .psc = 64, .repl = VTD_REPL_LRU, .stale_list = 10,
                              .audit_list = 10};
    vtrace_replay_config_default(&o->cfg);
    vtrace_sweep_grid_default(&o->grid);
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--oracle"))
            o->cfg.iommu.oracle = true;
        else if (!strcmp(argv[i], "--dirty-no-flush"))
            o->cfg.dirty_no_flush = true;
        else if (!sweep && !strcmp(argv[i], "--json"))
            o->json = true;
        else if (!sweep && !strcmp(argv[i], "--overhead"))
            o->overhead = true;
        else if (!sweep && !strcmp(argv[i], "--fail-on-stale"))
            o->fail_on_stale = true;
        else if (!sweep && !strcmp(argv[i], "--audit"))
            o->cfg.audit = true;
        else if (argv[i][0] != '-') {
            if (*file)
                return usage_err("one trace file only ('%s' is a second one)", argv[i]);
            *file = argv[i];
        } else {
            const char *opt = argv[i], *v = value(argc, argv, &i);
            if (!v || replay_option(o, sweep, opt, v))
                return 2;
        }
    }
    if (!*file)
        return usage_err("%s needs a trace FILE", sweep ? "sweep" : "replay");
    if (sweep && !o->csv)
        return usage_err("sweep needs --csv OUT%s", "");
    return 0;
}

/* The IOTLB and paging-structure caches of a replay's options. */
static int apply_geometry(struct replay_opts *o)
{
    unsigned ways = o->ways == VTRACE_WAYS_FULL ? o->iotlb : o->ways;
    if (o->iotlb && (!ways || o->iotlb % ways)) {
        fprintf(stderr, "vtdsim trace: --iotlb %u is not a multiple of --iotlb-ways %u\n", o->iotlb, ways);
        return 2;
    }
    if (o->psc % 4) {
        fprintf(stderr, "vtdsim trace: --psc %u is not a multiple of 4 (the caches are 4-way)\n", o->psc);
        return 2;
    }
    struct vtd_cache_geometry *c = o->cfg.iommu.cache;
    c[VTD_C_IOTLB] = o->iotlb ? (struct vtd_cache_geometry){.sets = o->iotlb / ways, .ways = ways, .repl = o->repl, .seed = 1}
                              : (struct vtd_cache_geometry){0};
    c[VTD_C_PSC_FS] = o->psc ? (struct vtd_cache_geometry){.sets = o->psc / 4, .ways = 4, .repl = o->repl, .seed = 1}
                             : (struct vtd_cache_geometry){0};
    c[VTD_C_PSC_SS] = c[VTD_C_PSC_FS];
    return 0;
}

static const char *const cache_names[VTD_C_NKINDS] = {"context", "pasid", "iotlb", "psc-fs", "psc-ss", "devtlb"};

/* The caches a stale report names, as "iotlb psc-fs". */
static void print_caches(unsigned bits, const char *sep, bool json)
{
    const char *s = "";
    for (unsigned c = 0; c < VTD_C_NKINDS; c++)
        if (bits & (1u << c)) {
            printf(json ? "%s\"%s\"" : "%s%s", s, cache_names[c]);
            s = sep;
        }
}

/* The first stale translations the oracle found, each with where it happened and its fix. */
static void print_stale_list(const struct replay_opts *o, const struct vtrace_replay_result *r)
{
    unsigned n = r->nfirst_stale < o->stale_list ? r->nfirst_stale : o->stale_list;
    if (!n)
        return;
    printf("first %u stale translation%s:\n", n, n == 1 ? "" : "s");
    for (unsigned i = 0; i < n; i++) {
        const struct vtrace_stale *s = &r->first_stale[i];
        printf("  event %llu: %s", (unsigned long long)s->event, vtd_bdf_format(s->sid).s);
        if (s->pasid_valid)
            printf(" pasid %u", (unsigned)s->pasid);
        printf(" addr 0x%llx served by ", (unsigned long long)s->addr);
        print_caches(s->caches, " and ", false);
        printf("; missing: %s\n", s->fix);
    }
}

static void json_stale_list(const struct replay_opts *o, const struct vtrace_replay_result *r)
{
    unsigned n = r->nfirst_stale < o->stale_list ? r->nfirst_stale : o->stale_list;
    printf(",\n  \"first_stale\": [");
    for (unsigned i = 0; i < n; i++) {
        const struct vtrace_stale *s = &r->first_stale[i];
        printf("%s\n    {\"event\": %llu, \"sid\": \"%s\", \"pasid\": ", i ? "," : "", (unsigned long long)s->event,
               vtd_bdf_format(s->sid).s);
        if (s->pasid_valid)
            printf("%u", (unsigned)s->pasid);
        else
            printf("null");
        printf(", \"addr\": %llu, \"caches\": [", (unsigned long long)s->addr);
        print_caches(s->caches, ", ", true);
        printf("], \"fix\": ");
        sc_text_json(stdout, s->fix);
        printf("}");
    }
    printf("%s]", n ? "\n  " : "");
}

static void print_text(const char *file, const struct replay_opts *o, const struct vtrace_replay_result *r,
                       const struct vtrace_replay_result *dry)
{
    double t = r->translations ? (double)r->translations : 1;
    fputs("trace ", stdout);
    sc_text_terminal(stdout, file);
    printf(": %llu dma, %llu map, %llu unmap, %llu invalidate events\n",
           (unsigned long long)r->events[VTRACE_DMA], (unsigned long long)r->events[VTRACE_MAP],
           (unsigned long long)r->events[VTRACE_UNMAP], (unsigned long long)r->events[VTRACE_INVALIDATE]);
    printf("mode %s, oracle %s, %llu invalidation descriptors\n", vtrace_mode_name(o->cfg.mode),
           o->cfg.iommu.oracle ? "on" : "off", (unsigned long long)r->descriptors);
    printf("translations %llu, faults %llu, stale %llu%s\n", (unsigned long long)r->translations,
           (unsigned long long)r->faults, (unsigned long long)r->stale, o->cfg.iommu.oracle ? "" : " (oracle off: not checked)");
    print_stale_list(o, r);
    if (r->events[VTRACE_DIRTY])
        printf("dirty: %llu harvests, pages written %llu, reported %llu, lost %llu%s\n",
               (unsigned long long)r->events[VTRACE_DIRTY], (unsigned long long)r->pages_written,
               (unsigned long long)r->pages_reported, (unsigned long long)r->pages_lost,
               o->cfg.iommu.oracle ? "" : " (--oracle also counts the writes that left D clear)");
    if (r->events[VTRACE_DIRTY] && o->cfg.iommu.oracle)
        printf("dirty_lost %llu writes served from a cached translation left D clear\n",
               (unsigned long long)r->dirty_lost);
    printf("reads per translation %.3f (paging-structure reads %.3f)\n", (double)r->reads / t,
           (double)r->paging_reads / t);
    printf("%-8s %8s %12s %12s %12s %9s\n", "cache", "entries", "lookups", "hits", "misses", "hit rate");
    for (unsigned c = 0; c < VTD_C_NCACHES; c++) {
        const struct vtd_cache_geometry *g = &o->cfg.iommu.cache[c];
        printf("%-8s %8u %12llu %12llu %12llu %8.2f%%\n", cache_names[c], g->sets * g->ways,
               (unsigned long long)r->cache[c].lookups, (unsigned long long)r->cache[c].hits,
               (unsigned long long)r->cache[c].misses, 100 * vtrace_hit_rate(&r->cache[c]));
    }
    printf("time %.3f s: %.2f M translations/s (%.1f ns each, reading the trace included)\n", r->seconds,
           t / r->seconds / 1e6, r->seconds * 1e9 / t);
    if (dry)
        printf("loop alone (read, decode, check, split; no translation): %.3f s, %.1f ns per translation\n",
               dry->seconds, dry->seconds * 1e9 / t);
}

/* The audit's finding kinds as JSON keys. */
static const char *const audit_json_names[VTD_AUDIT_NKINDS] = {"not_invalidated", "partly_invalidated",
                                                               "not_waited_for", "devtlb_not_invalidated",
                                                               "devtlb_before_iotlb"};

static void print_json(const char *file, const struct replay_opts *o, const struct vtrace_replay_result *r,
                       const struct vtrace_replay_result *dry)
{
    double t = r->translations ? (double)r->translations : 1;
    fputs("{\n  \"trace\": ", stdout);
    sc_text_json(stdout, file); /* a file name may hold quotes, controls, bytes that are not UTF-8 */
    printf(", \"mode\": \"%s\", \"oracle\": %s,\n", vtrace_mode_name(o->cfg.mode), o->cfg.iommu.oracle ? "true" : "false");
    printf("  \"events\": {\"dma\": %llu, \"map\": %llu, \"unmap\": %llu, \"invalidate\": %llu},\n",
           (unsigned long long)r->events[VTRACE_DMA], (unsigned long long)r->events[VTRACE_MAP],
           (unsigned long long)r->events[VTRACE_UNMAP], (unsigned long long)r->events[VTRACE_INVALIDATE]);
    printf("  \"translations\": %llu, \"faults\": %llu, \"stale\": %llu, \"descriptors\": %llu,\n",
           (unsigned long long)r->translations, (unsigned long long)r->faults, (unsigned long long)r->stale,
           (unsigned long long)r->descriptors);
    printf("  \"reads_per_translation\": %.4f, \"paging_reads_per_translation\": %.4f,\n", (double)r->reads / t,
           (double)r->paging_reads / t);
    printf("  \"dirty\": {\"harvests\": %llu, \"pages_written\": %llu, \"pages_reported\": %llu, "
           "\"pages_lost\": %llu, \"dirty_lost\": %llu},\n",
           (unsigned long long)r->events[VTRACE_DIRTY], (unsigned long long)r->pages_written,
           (unsigned long long)r->pages_reported, (unsigned long long)r->pages_lost, (unsigned long long)r->dirty_lost);
    printf("  \"caches\": {\n");
    for (unsigned c = 0; c < VTD_C_NCACHES; c++) {
        const struct vtd_cache_geometry *g = &o->cfg.iommu.cache[c];
        printf("    \"%s\": {\"entries\": %u, \"ways\": %u, \"lookups\": %llu, \"hits\": %llu, \"misses\": %llu, "
               "\"hit_rate\": %.6f}%s\n",
               cache_names[c], g->sets * g->ways, g->ways, (unsigned long long)r->cache[c].lookups,
               (unsigned long long)r->cache[c].hits, (unsigned long long)r->cache[c].misses,
               vtrace_hit_rate(&r->cache[c]), c + 1 < VTD_C_NCACHES ? "," : "");
    }
    printf("  },\n  \"seconds\": %.6f, \"mtranslations_per_s\": %.3f", r->seconds, t / r->seconds / 1e6);
    if (dry)
        printf(",\n  \"loop_seconds\": %.6f, \"loop_ns_per_translation\": %.2f", dry->seconds, dry->seconds * 1e9 / t);
    json_stale_list(o, r);
    if (o->cfg.audit) {
        printf(",\n  \"audit\": {\"findings\": %llu", (unsigned long long)r->audit.findings);
        for (unsigned k = 0; k < VTD_AUDIT_NKINDS; k++)
            printf(", \"%s\": %llu", audit_json_names[k], (unsigned long long)r->audit_kinds[k]);
        printf(", \"pending_peak\": %llu}", (unsigned long long)r->audit.pending_peak);
    }
    printf("\n}\n");
}

/* Each finding as the audit makes it, up to --audit-list of them. */
static void audit_print(void *arg, const struct vtd_audit_finding *f)
{
    struct replay_opts *o = arg;
    if (o->audit_listed >= o->audit_list)
        return;
    if (!o->audit_listed++)
        printf("audit findings (the first %u):\n", o->audit_list);
    char line[512];
    vtd_audit_describe(f, line, sizeof line);
    printf("  %s\n", line);
}

static void print_audit(const struct vtrace_replay_result *r)
{
    printf("audit: %llu finding%s (", (unsigned long long)r->audit.findings, r->audit.findings == 1 ? "" : "s");
    for (unsigned k = 0; k < VTD_AUDIT_NKINDS; k++)
        printf("%s%s %llu", k ? ", " : "", vtd_audit_kind_name((enum vtd_audit_kind)k),
               (unsigned long long)r->audit_kinds[k]);
    printf("); %llu maps checked, %llu unmaps, %llu descriptors, %llu waits, at most %llu ranges possibly cached\n",
           (unsigned long long)r->audit.maps, (unsigned long long)r->audit.unmaps,
           (unsigned long long)r->audit.descriptors, (unsigned long long)r->audit.waits,
           (unsigned long long)r->audit.pending_peak);
}

static int cmd_replay(int argc, char **argv)
{
    struct replay_opts o;
    const char *file;
    int rc = parse_replay_args(argc, argv, false, &o, &file);
    if (rc || (rc = apply_geometry(&o)))
        return rc;
    bool tty = isatty(STDERR_FILENO);
    if (tty)
        o.cfg.progress = show_progress;
    struct vtrace_replay_result r, dry;
    char err[VTRACE_ERR_LEN];
    if (o.cfg.audit && !o.json) {
        o.cfg.audit_fn = audit_print;
        o.cfg.audit_arg = &o;
    }
    rc = vtrace_replay_file(file, &o.cfg, &r, err);
    if (!rc && o.overhead) {
        struct vtrace_replay_config d = o.cfg;
        d.dry = true;
        d.audit = false;
        rc = vtrace_replay_file(file, &d, &dry, err);
    }
    end_progress(tty);
    if (rc) {
        return tool_error("trace replay", err);
    }
    (o.json ? print_json : print_text)(file, &o, &r, o.overhead ? &dry : NULL);
    if (o.cfg.audit && !o.json)
        print_audit(&r);
    return (o.fail_on_stale && r.stale) || r.audit.findings ? 1 : 0;
}

struct sweep_out {
    FILE *f;
    bool tty, shard;
    long rows, total;
};

static void sweep_row(void *arg, const struct vtrace_sweep_row *row)
{
    struct sweep_out *s = arg;
    char line[512];
    vtrace_sweep_csv_row(row, line, sizeof(line));
    if (s->shard) /* where the row goes in the whole sweep (vtdsim merge) */
        fprintf(s->f, "%ld,%ld,", row->point, row->points);
    fprintf(s->f, "%s\n", line);
    if (s->tty)
        fprintf(stderr, "\r  sweep: %ld of at most %ld geometries  ", ++s->rows, s->total);
}

static int cmd_sweep(int argc, char **argv)
{
    struct replay_opts o;
    const char *file;
    int rc = parse_replay_args(argc, argv, true, &o, &file);
    if (rc)
        return rc;
    char err[VTRACE_ERR_LEN];
    struct vtrace_event *ev = NULL;
    long n = vtrace_load(file, &ev, err);
    if (n < 0)
        return tool_error("trace sweep", err);
    struct vtd_outfile out;
    if (vtd_outfile_open(&out, o.csv, &file, 1)) {
        vtd_free(ev);
        return tool_error("trace sweep", out.err);
    }
    FILE *f = out.f;
    fprintf(f, "%s%s\n", o.grid.shards ? VTRACE_SWEEP_SHARD_COLUMNS : "", vtrace_sweep_csv_header());
    struct sweep_out s = {.f = f, .tty = isatty(STDERR_FILENO), .shard = o.grid.shards > 0,
                          .total = (long)(o.grid.n_iotlb * o.grid.n_ways * o.grid.n_repl * o.grid.n_psc)};
    long rows = vtrace_sweep(ev, n, &o.cfg, &o.grid, sweep_row, &s, err);
    end_progress(s.tty);
    vtd_free(ev);
    if (rows < 0) {
        vtd_outfile_discard(&out); /* a table that was there before stays */
        return tool_error("trace sweep", err);
    }
    if (vtd_outfile_commit(&out)) {
        return tool_error("trace sweep", out.err);
    }
    fprintf(stderr, "%ld geometries written to ", rows);
    sc_text_terminal(stderr, o.csv);
    fputc('\n', stderr);
    return 0;
}

static int cmd_convert(int argc, char **argv)
{
    if (argc != 3)
        return usage_err("convert needs IN and OUT%s", "");
    char err[VTRACE_ERR_LEN];
    if (vtrace_convert(argv[1], argv[2], err)) {
        return tool_error("trace convert", err);
    }
    return 0;
}

static void print_import(const struct vtrace_import_stats *s)
{
    printf("imported %llu lines: %llu map, %llu unmap, %llu descriptors, %llu waits added, %llu domains\n",
           (unsigned long long)s->lines, (unsigned long long)s->maps, (unsigned long long)s->unmaps,
           (unsigned long long)s->descriptors, (unsigned long long)s->waits_added, (unsigned long long)s->domains);
    printf("domains of maps and unmaps: %llu by their invalidation, %llu by a later one, %llu by their pair, "
           "%llu assumed",
           (unsigned long long)s->by_flush, (unsigned long long)s->by_later, (unsigned long long)s->by_pair,
           (unsigned long long)s->assumed);
    if (s->assumed)
        printf(" (DID %u: the domain most events were tied to)", (unsigned)s->assumed_did);
    printf("\n");
    if (s->made_up_devices)
        printf("%llu domain%s without a known device got a made-up one (ff:00.0 up)\n",
               (unsigned long long)s->made_up_devices, s->made_up_devices == 1 ? "" : "s");
    if (s->inconsistent)
        printf("%llu maps or unmaps left out: they disagree with what their domain has mapped\n",
               (unsigned long long)s->inconsistent);
    printf("skipped: %llu attach, %llu io_page_fault, %llu other iommu events, %llu lines of other events",
           (unsigned long long)s->attaches, (unsigned long long)s->page_faults, (unsigned long long)s->known_skipped,
           (unsigned long long)s->unknown_events);
    if (s->unknown_events) {
        printf(" (the first at line %llu: ", (unsigned long long)s->first_unknown_line);
        sc_text_terminal(stdout, s->first_unknown);
        printf(")");
    }
    printf(", %llu lines not understood", (unsigned long long)s->unparsed);
    if (s->unparsed && s->first_unparsed_line)
        printf(" (the first at line %llu)", (unsigned long long)s->first_unparsed_line);
    printf("\n");
}

static int cmd_import(int argc, char **argv)
{
    const char *from = NULL, *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (!(out = value(argc, argv, &i)))
                return 2;
        } else if (argv[i][0] == '-')
            return usage_err("bad option: %s", argv[i]);
        else if (!from)
            from = argv[i];
        else if (!in)
            in = argv[i];
        else
            return usage_err("one trace file only ('%s' is a second one)", argv[i]);
    }
    if (!from || strcmp(from, "linux"))
        return usage_err("import reads a trace of: linux%s", "");
    if (!in || !out)
        return usage_err("import linux needs FILE and -o OUT%s", "");
    struct vtrace_import_stats st;
    char err[VTRACE_ERR_LEN];
    if (vtrace_import_linux(in, out, &st, err))
        return tool_error("trace import", err);
    print_import(&st);
    return 0;
}

int cmd_trace(int argc, char **argv)
{
    if (argc < 2)
        return usage_err("which one: gen, replay, sweep, convert or import?%s", "");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(trace_help, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "gen"))
        return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(argv[1], "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sweep"))
        return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(argv[1], "convert"))
        return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(argv[1], "import"))
        return cmd_import(argc - 1, argv + 1);
    return usage_err("unknown subcommand '%s' (gen, replay, sweep, convert, import)", argv[1]);
}
