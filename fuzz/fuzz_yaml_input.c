/*
 * fuzz_yaml_input.c: the scenario loader (and runner) over arbitrary bytes (fuzz_yaml_input.h).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *   - a rejected file gets a non-empty, terminated reason whose line is within the file (or
 *     one past its last line, where "end of file" problems are reported);
 *   - sc_error_format always terminates its text; every error of the list has a reason and a
 *     line of the file, and there are no more of them than the limit;
 *   - a run keeps at most SC_MAX_FAILURES_KEPT failure texts, each non-empty, counts at least
 *     as many failures as it keeps, and a passed run has none.
 */
#include "fuzz_yaml_input.h"
#include "fuzz_why.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"
#include "runner/scenario.h"

/* a + b, or `cap` when that is larger (saturating). */
static uint64_t fy_add(uint64_t a, uint64_t b, uint64_t cap)
{
    return a > cap || b > cap - a ? cap : a + b;
}

/* The steps and pages a run of these steps touches, counting repeats, saturating at cap. */
static uint64_t fy_steps_work(const struct sc_step *st, unsigned n, uint64_t cap)
{
    uint64_t w = 0;
    for (unsigned i = 0; i < n && w < cap; i++) {
        uint64_t one = 1;
        if (st[i].given[A_SIZE])
            one = fy_add(one, st[i].v[A_SIZE] >> 12, cap);
        if (st[i].kind == SK_REPEAT) {
            uint64_t body = fy_steps_work(st[i].sub, st[i].nsub, cap) + 1;
            uint64_t count = st[i].v[A_COUNT];
            one = count && body > cap / count ? cap : body * count;
        }
        w = fy_add(w, one, cap);
    }
    return w;
}

static uint64_t fy_work(const struct scenario *s, uint64_t cap)
{
    uint64_t w = fy_steps_work(s->steps, s->nsteps, cap);
    for (unsigned t = 0; t < s->ntab; t++)
        for (unsigned m = 0; m < s->tab[t].nmap; m++)
            w = fy_add(w, s->tab[t].map[m].size >> 12, cap);
    return w;
}

static uint64_t fy_cache_entries(const struct scenario *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < VTD_C_NCACHES; i++)
        n += (uint64_t)s->cfg.cache[i].sets * s->cfg.cache[i].ways;
    for (unsigned d = 0; d < s->ndev; d++)
        n += (uint64_t)s->dev[d].cfg.devtlb.sets * s->dev[d].cfg.devtlb.ways;
    return n;
}

static int fy_check_error(const uint8_t *data, size_t size, const struct sc_error *err, char *why, size_t why_len)
{
    if (!memchr(err->msg, '\0', sizeof err->msg) || !err->msg[0])
        return fuzz_fail(why, why_len, "a rejected file without a reason");
    /* YAML breaks lines at LF, CR, CR LF, NEL (C2 85), LS and PS (E2 80 A8/A9): count them all
     * (CR LF twice) for an upper bound. */
    unsigned lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r' || (data[i] == 0x85 && i && data[i - 1] == 0xC2) ||
                 ((data[i] == 0xA8 || data[i] == 0xA9) && i > 1 && data[i - 1] == 0x80 && data[i - 2] == 0xE2);
    if (err->line > lines + 1)
        return fuzz_fail(why, why_len, "error at line %u of a %u-line file: %s", err->line, lines, err->msg);
    char buf[512];
    memset(buf, 'x', sizeof buf);
    sc_error_format("fuzz.yaml", err, buf, sizeof buf);
    if (!memchr(buf, '\0', sizeof buf))
        return fuzz_fail(why, why_len, "sc_error_format did not terminate its text");
    /* Every error of the list: within the limit, each with a reason and a line of the file. */
    if (err->count > err->limit || (err->more && err->count != err->limit))
        return fuzz_fail(why, why_len, "%u errors kept with a limit of %u", err->count, err->limit);
    for (unsigned i = 1; i < err->count; i++)
        if (!memchr(err->at[i].msg, '\0', sizeof err->at[i].msg) || !err->at[i].msg[0] || err->at[i].line > lines + 1)
            return fuzz_fail(why, why_len, "error %u of %u without a reason or beyond the file", i, err->count);
    return 0;
}

static int fy_check_result(const struct sc_result *r, bool passed, char *why, size_t why_len)
{
    if (r->nfail > SC_MAX_FAILURES_KEPT || r->failed < r->nfail)
        return fuzz_fail(why, why_len, "%u failures kept of %u counted", r->nfail, r->failed);
    if (passed && (r->failed || r->load_error))
        return fuzz_fail(why, why_len, "passed with %u failures", r->failed);
    for (unsigned i = 0; i < r->nfail; i++)
        if (!r->fail[i].text || !r->fail[i].text[0])
            return fuzz_fail(why, why_len, "failure %u has no text", i);
    return 0;
}

int fuzz_yaml_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    struct sc_error err;
    memset(&err, 0, sizeof err);
    struct scenario *s = sc_load_string("fuzz.yaml", (const char *)data, size, &err);
    if (!s)
        return fy_check_error(data, size, &err, why, why_len);
    int rc = 0;
    if (fy_work(s, FY_MAX_WORK + 1) <= FY_MAX_WORK && fy_cache_entries(s) <= FY_MAX_CACHE_ENTRIES) {
        struct sc_result r = {0};
        struct sc_run_opts o = {.stats = true, .max_frames = FY_MAX_FRAMES};
        bool passed = sc_run(s, &o, &r);
        rc = fy_check_result(&r, passed, why, why_len);
        sc_result_free(&r);
    }
    sc_free(s);
    return rc;
}
