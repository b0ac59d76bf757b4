/*
 * test_trace_dirty.c: `dirty` events in traces: the event's rules, the migration generator, and
 * a replay's pages written, reported and lost, with and without the host's flush.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "trace/gen.h"
#include "trace/replay.h"
#include "trace/trace.h"
#include "walker/alloc.h"

struct events {
    struct vtrace_event *ev;
    long n, cap;
};

static int collect(void *arg, const struct vtrace_event *e)
{
    struct events *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->ev = vtd_realloc(s->ev, (size_t)s->cap * sizeof *s->ev);
        cr_assert_not_null(s->ev);
    }
    s->ev[s->n++] = *e;
    return 0;
}

static struct events migration(uint64_t every)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_STORAGE);
    p.count = 400;
    p.buffer = 16 << 20;
    p.small_pages = true;
    p.dirty_every = every;
    struct events s = {0};
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_generate(&p, collect, &s, err), 0, "%s", err);
    return s;
}

static struct vtrace_replay_result replay(const struct events *s, bool oracle, bool no_flush)
{
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.iommu.oracle = oracle;
    cfg.dirty_no_flush = no_flush;
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    cr_assert_not_null(rp, "%s", err);
    cr_assert_eq(vtrace_replay_events(rp, s->ev, s->n, 0, err), 0, "%s", err);
    struct vtrace_replay_result r;
    vtrace_replay_result(rp, &r);
    vtrace_replay_free(rp);
    return r;
}

Test(trace_dirty, generator_ends_every_round_and_the_migration)
{
    struct events s = migration(100);
    long dirty = 0, dmas = 0;
    for (long i = 0; i < s.n; i++) {
        dirty += s.ev[i].kind == VTRACE_DIRTY;
        dmas += s.ev[i].kind == VTRACE_DMA;
        enum vtrace_field f;
        char why[128];
        cr_assert_eq(vtrace_event_check(&s.ev[i], &f, why, sizeof why), 0, "%s", why);
    }
    cr_assert_eq(dirty, dmas / 100 + 1);
    cr_assert_eq(s.ev[s.n - 1].kind, VTRACE_DIRTY);
    vtd_free(s.ev);
}

Test(trace_dirty, replay_reports_every_page_with_the_flush_and_loses_them_without)
{
    struct events s = migration(150);
    struct vtrace_replay_result ok = replay(&s, true, false);
    cr_assert_gt(ok.pages_written, 1024, "enough pages to grow the table");
    cr_assert_geq(ok.pages_reported, ok.pages_written);
    cr_assert_eq(ok.pages_lost, 0);
    cr_assert_eq(ok.dirty_lost, 0);
    struct vtrace_replay_result bad = replay(&s, true, true);
    cr_assert_eq(bad.pages_written, ok.pages_written);
    cr_assert_gt(bad.pages_lost, 0);
    cr_assert_gt(bad.dirty_lost, 0);
    cr_assert_lt(bad.descriptors, ok.descriptors);
    /* The oracle off: the runner-side count still finds the lost pages. */
    struct vtrace_replay_result quiet = replay(&s, false, true);
    cr_assert_eq(quiet.pages_lost, bad.pages_lost);
    cr_assert_eq(quiet.dirty_lost, 0);
    vtd_free(s.ev);
}

Test(trace_dirty, first_stage_spaces_and_bad_events_are_refused)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_SVA);
    p.dirty_every = 10;
    struct events s = {0};
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_generate(&p, collect, &s, err), -1);
    cr_assert(strstr(err, "no second-stage D bits"), "%s", err);
    const struct vtrace_event ev[] = {
        {.kind = VTRACE_MAP, .access = 3, .page_shift = 12, .flags = VTRACE_F_PASID, .pasid = 1, .sid = 0x18,
         .size = 0x1000, .addr = 0x1000, .out = 0x80000000},
        {.kind = VTRACE_DIRTY, .flags = VTRACE_F_PASID, .pasid = 1, .sid = 0x18},
    };
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    cr_assert_not_null(rp);
    cr_assert_eq(vtrace_replay_events(rp, ev, 2, 0, err), -1);
    cr_assert(strstr(err, "only second-stage spaces"), "%s", err);
    vtrace_replay_free(rp);
    enum vtrace_field f;
    char why[128];
    struct vtrace_event d = {.kind = VTRACE_DIRTY, .access = 2, .sid = 0x18};
    cr_assert_eq(vtrace_event_check(&d, &f, why, sizeof why), -1);
    cr_assert_eq(f, VTRACE_FLD_ACCESS);
    cr_assert(strstr(why, "dirty: "), "%s", why);
    d = (struct vtrace_event){.kind = VTRACE_DIRTY, .sid = 0x18, .addr = 0x1000, .size = 0x2000};
    cr_assert_eq(vtrace_event_check(&d, &f, why, sizeof why), 0);
    char line[128];
    vtrace_event_csv(&d, line, sizeof line);
    cr_assert(!strncmp(line, "dirty,00:03.0,-,0x1000,0x2000", 29), "%s", line);
}
