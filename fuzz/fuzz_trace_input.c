/*
 * fuzz_trace_input.c: the trace readers, writers and replay over arbitrary bytes
 * (layout: fuzz_trace_input.h).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *   - a reader returns at most the events asked for, and only events vtrace_event_check
 *     accepts (the replay indexes tables by kind and trusts the ranges);
 *   - a refused file has a non-empty, terminated reason that starts with the file's name;
 *   - a binary trace read to its end gave exactly the records its header announced;
 *   - every event read, written in the other format, reads back identical, as many as read;
 *   - a replay error has a non-empty, terminated reason; a replay counts every event it was
 *     given, one translation per 4 KiB page a DMA touches, no more faults than translations and
 *     no more cache hits than lookups.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fmemopen, mkdtemp, fchdir */
#endif
#include "fuzz_trace_input.h"
#include "fuzz_why.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/replay.h"
#include "trace/trace.h"
#include "walker/mem.h"

struct ft_events {
    struct vtrace_event *ev;
    size_t n, cap;
};

static int ft_append(struct ft_events *a, const struct vtrace_event *ev, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap < a->n + n)
            cap *= 2;
        struct vtrace_event *p = realloc(a->ev, cap * sizeof *p);
        if (!p)
            return -1;
        a->ev = p;
        a->cap = cap;
    }
    memcpy(a->ev + a->n, ev, n * sizeof *ev);
    a->n += n;
    return 0;
}

/* A reason must be non-empty, terminated within its buffer and name the file first. */
static int ft_check_reason(const char *text, const char *name, const char *what, char *why, size_t why_len)
{
    if (!memchr(text, '\0', VTRACE_ERR_LEN))
        return fuzz_fail(why, why_len, "%s: the reason is not terminated", what);
    if (text[0] == '\0')
        return fuzz_fail(why, why_len, "%s: empty reason", what);
    if (name && strncmp(text, name, strlen(name)) != 0)
        return fuzz_fail(why, why_len, "%s: the reason '%s' does not start with the file name", what, text);
    return 0;
}

/* A stream over bytes that are only read (fmemopen wants a writable pointer for any mode). */
static FILE *ft_stream(const uint8_t *p, size_t n)
{
    static char empty[1];
    return n ? fmemopen((void *)(uintptr_t)p, n, "r") : fmemopen(empty, 0, "r");
}

/*
 * Read a whole trace into `out`. *complete is set when the reader reached the end without an
 * error. 0, or -1 with the violated property in why.
 */
static int ft_read(const uint8_t *p, size_t n, enum vtrace_format fmt, const char *name, struct ft_events *out,
                   bool *complete, char *why, size_t why_len)
{
    char err[VTRACE_ERR_LEN];
    *complete = false;
    FILE *f = ft_stream(p, n);
    if (!f)
        return fuzz_fail(why, why_len, "fmemopen failed");
    memset(err, 0x5a, sizeof err);
    struct vtrace_reader *r = vtrace_open_stream(f, name, fmt, err);
    int ret = 0;
    if (!r) {
        ret = ft_check_reason(err, name, "vtrace_open_stream", why, why_len);
        fclose(f);
        return ret;
    }
    struct vtrace_event blk[FT_BLOCK];
    for (;;) {
        long got = vtrace_read(r, blk, FT_BLOCK);
        if (got < 0) {
            ret = ft_check_reason(vtrace_error(r), name, "vtrace_read", why, why_len);
            break;
        }
        if (got > FT_BLOCK) {
            ret = fuzz_fail(why, why_len, "vtrace_read returned %ld events for %d asked", got, FT_BLOCK);
            break;
        }
        if (got == 0) {
            *complete = true;
            break;
        }
        for (long i = 0; i < got && !ret; i++) {
            enum vtrace_field fld;
            char msg[160];
            if (vtrace_event_check(&blk[i], &fld, msg, sizeof msg))
                ret = fuzz_fail(why, why_len, "event %zu was returned but is invalid: %s",
                                out->n + (size_t)i, msg);
        }
        if (ret || ft_append(out, blk, (size_t)got)) {
            ret = ret ? ret : fuzz_fail(why, why_len, "out of memory");
            break;
        }
    }
    int64_t expected = vtrace_expected(r);
    if (!ret && *complete && fmt == VTRACE_BIN && (expected < 0 || (uint64_t)expected != out->n))
        ret = fuzz_fail(why, why_len, "the header announced %lld records, %zu were read", (long long)expected, out->n);
    vtrace_close(r);
    fclose(f);
    return ret;
}

static bool ft_same(const struct vtrace_event *a, const struct vtrace_event *b)
{
    return a->kind == b->kind && a->access == b->access && a->page_shift == b->page_shift && a->flags == b->flags &&
           a->sid == b->sid && a->pasid == b->pasid && a->size == b->size && a->addr == b->addr && a->out == b->out;
}

/* Write the events in format `fmt`, read them back, compare. */
static int ft_round_trip(const struct ft_events *in, enum vtrace_format fmt, char *why, size_t why_len)
{
    /* Room for the header and the longest CSV line per event. */
    size_t cap = 256 + in->n * 160;
    char *buf = malloc(cap);
    FILE *f = buf ? fmemopen(buf, cap, "w+") : NULL;
    if (!f) {
        free(buf);
        return fuzz_fail(why, why_len, "out of memory");
    }
    char err[VTRACE_ERR_LEN];
    int ret = 0;
    struct vtrace_writer *w = vtrace_create_stream(f, "copy", fmt, err);
    if (!w)
        ret = fuzz_fail(why, why_len, "vtrace_create_stream: %s", err);
    for (size_t i = 0; w && !ret && i < in->n; i++)
        if (vtrace_write(w, &in->ev[i]))
            ret = fuzz_fail(why, why_len, "event %zu read but not written: %s", i, vtrace_writer_error(w));
    if (w && vtrace_finish(w, err) && !ret)
        ret = fuzz_fail(why, why_len, "vtrace_finish: %s", err);
    long len = ftell(f);
    fclose(f);
    struct ft_events back = {0};
    bool complete = false;
    if (!ret && len >= 0)
        ret = ft_read((const uint8_t *)buf, (size_t)len, fmt, "copy", &back, &complete, why, why_len);
    if (!ret && (!complete || back.n != in->n))
        ret = fuzz_fail(why, why_len, "%s copy: %zu of %zu events read back%s", fmt == VTRACE_CSV ? "CSV" : "binary",
                        back.n, in->n, complete ? "" : " before an error");
    for (size_t i = 0; !ret && i < in->n; i++)
        if (!ft_same(&in->ev[i], &back.ev[i])) {
            char a[160], b[160];
            vtrace_event_csv(&in->ev[i], a, sizeof a);
            vtrace_event_csv(&back.ev[i], b, sizeof b);
            ret = fuzz_fail(why, why_len, "event %zu changed in a round trip: %s became %s", i, a, b);
        }
    free(back.ev);
    free(buf);
    return ret;
}

/* 4 KiB pages an event makes the replay touch: translations for a DMA, leaves for a map. */
static uint64_t ft_work(const struct vtrace_event *e)
{
    switch (e->kind) {
    case VTRACE_DMA: return e->size ? ((e->addr + e->size - 1) >> 12) - (e->addr >> 12) + 1 : 1;
    case VTRACE_MAP:
    case VTRACE_UNMAP: return ((uint64_t)e->size >> 12) + 1;
    default: return 1;
    }
}

static int ft_check_result(const struct vtrace_replay_result *res, const uint64_t events[VTRACE_NKINDS],
                           uint64_t translations, char *why, size_t why_len)
{
    for (unsigned k = 0; k < VTRACE_NKINDS; k++)
        if (res->events[k] != events[k])
            return fuzz_fail(why, why_len, "replay counted %llu %s events, %llu given", (unsigned long long)res->events[k],
                             vtrace_kind_name(k), (unsigned long long)events[k]);
    if (res->translations != translations)
        return fuzz_fail(why, why_len, "replay made %llu translations, %llu pages were touched",
                         (unsigned long long)res->translations, (unsigned long long)translations);
    if (res->faults > res->translations)
        return fuzz_fail(why, why_len, "%llu faults in %llu translations", (unsigned long long)res->faults,
                         (unsigned long long)res->translations);
    for (unsigned c = 0; c < VTD_C_NCACHES; c++)
        if (res->cache[c].hits > res->cache[c].lookups)
            return fuzz_fail(why, why_len, "cache %u: %llu hits in %llu lookups", c,
                             (unsigned long long)res->cache[c].hits, (unsigned long long)res->cache[c].lookups);
    return 0;
}

/* Replay the events while the work stays within FT_MAX_WORK; stop at the first error. */
static int ft_replay(const struct ft_events *in, uint8_t ctl, char *why, size_t why_len)
{
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.mode = (enum vtrace_mode)((ctl >> 1) & 3);
    cfg.iommu.oracle = (ctl & FT_ORACLE) != 0;
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    if (!rp)
        return fuzz_fail(why, why_len, "vtrace_replay_new: %s", err);
    struct vtd_mem *mem = vtd_iommu_mem(vtrace_replay_iommu(rp));
    vtd_mem_set_frame_limit(mem, vtd_mem_frames(mem) + FT_MAX_FRAMES);
    uint64_t work = 0, translations = 0, events[VTRACE_NKINDS] = {0};
    int ret = 0;
    for (size_t i = 0; i < in->n && !ret; i++) {
        const struct vtrace_event *e = &in->ev[i];
        if ((work += ft_work(e)) > FT_MAX_WORK)
            break;
        events[e->kind]++;
        if (e->kind == VTRACE_DMA)
            translations += ft_work(e);
        memset(err, 0x5a, sizeof err);
        if (vtrace_replay_events(rp, e, 1, i, err)) {
            ret = ft_check_reason(err, NULL, "vtrace_replay_events", why, why_len);
            break;
        }
    }
    struct vtrace_replay_result res;
    vtrace_replay_result(rp, &res);
    if (!ret)
        ret = ft_check_result(&res, events, translations, why, why_len);
    vtrace_replay_free(rp);
    return ret;
}

int fuzz_trace_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    uint8_t ctl = size ? data[0] : 0;
    const uint8_t *p = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;
    enum vtrace_format fmt = (ctl & FT_CSV) ? VTRACE_CSV : VTRACE_BIN;
    struct ft_events in = {0};
    bool complete;
    int ret = ft_read(p, n, fmt, fmt == VTRACE_CSV ? "in.csv" : "in.bin", &in, &complete, why, why_len);
    if (!ret)
        ret = ft_round_trip(&in, fmt == VTRACE_CSV ? VTRACE_BIN : VTRACE_CSV, why, why_len);
    if (!ret && in.n && !(ctl & FT_NO_REPLAY))
        ret = ft_replay(&in, ctl, why, why_len);
    free(in.ev);
    return ret;
}
