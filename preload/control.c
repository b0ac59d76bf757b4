/*
 * control.c: the control file, through which a test makes the simulated devices do DMA while
 * the program runs. Each line written is one command, run at once; its answer is one line read
 * back from the same file:
 *
 *   dma DEVICE [pasid=N] read|write ADDR [value=V] [size=1|2|4|8]
 *     -> "ok out=HPA value=V" | "fault REASON" | "page-request" | "error: why"
 *
 * DEVICE is a device's name in the machine file or its index. The program's mapped memory is
 * carried into simulated memory first and back after (memory.c); a stale answer of a cache is a
 * finding (report.c) and its line ends with " stale"; a write whose page a dirty harvest will never
 * see (the oracle's lost D bit) is one too, and its line ends with " dirty-lost".
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "preload/internal.h"
#include "walker/fault.h"
#include "walker/number.h"

static void reply(struct pl_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct pl_file *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->reply + f->nreply, sizeof f->reply - f->nreply, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->nreply += (size_t)n < sizeof f->reply - f->nreply ? (size_t)n : sizeof f->reply - f->nreply - 1;
}

bool pl_find_device(const struct vtd_preload *p, const char *name, unsigned *dev)
{
    uint64_t v;
    for (unsigned i = 0; i < p->s->ndev; i++)
        if (p->s->dev[i].name && !strcmp(p->s->dev[i].name, name)) {
            *dev = i;
            return true;
        }
    if (!vtd_number_parse(name, &v) && v < p->s->ndev) {
        *dev = (unsigned)v;
        return true;
    }
    return false;
}

/* One token of "key=value" or a bare word; false with *why on a bad one. */
static bool parse_token(const struct vtd_preload *p, char *tok, struct pl_dma *d, bool *have_addr, const char **why)
{
    uint64_t v;
    char *eq = strchr(tok, '=');
    if (!strcmp(tok, "read") || !strcmp(tok, "write")) {
        d->write = tok[0] == 'w';
        return true;
    }
    if (!eq) {
        if (vtd_number_parse(tok, &v))
            return *why = "expected read, write, an address or key=value", false;
        d->addr = v;
        *have_addr = true;
        return true;
    }
    *eq = 0;
    if (vtd_number_parse(eq + 1, &v))
        return *why = "a key's value is not a number", false;
    if (!strcmp(tok, "pasid") && v < (UINT64_C(1) << 20))
        d->pasid_valid = true, d->pasid = (uint32_t)v;
    else if (!strcmp(tok, "value"))
        d->value = v;
    else if (!strcmp(tok, "size") && (v == 1 || v == 2 || v == 4 || v == 8))
        d->size = (unsigned)v;
    else
        return *why = "unknown key or value out of range (pasid < 2^20, size 1/2/4/8)", false;
    (void)p;
    return true;
}

bool pl_dma_parse(const struct vtd_preload *p, char *line, struct pl_dma *d, const char **why)
{
    char *save = NULL, *tok = strtok_r(line, " \t", &save);
    *d = (struct pl_dma){ .size = 8 };
    if (!tok || strcmp(tok, "dma"))
        return *why = "unknown command (dma DEVICE [pasid=N] read|write ADDR [value=V] [size=N])", false;
    if (!(tok = strtok_r(NULL, " \t", &save)) || !pl_find_device(p, tok, &d->dev))
        return *why = "no such device", false;
    bool have_addr = false;
    while ((tok = strtok_r(NULL, " \t", &save)))
        if (!parse_token(p, tok, d, &have_addr, why))
            return false;
    if (!have_addr)
        return *why = "no address", false;
    return true;
}

/* A stale answer, as the report names it: the request, what was served and from where, what
 * memory says now, and the oracle's missing invalidation. */
static void stale_finding(struct vtd_preload *p, const struct pl_dma *d, const struct vtd_dma_result *res)
{
    char fresh[128];
    if (res->report.fresh.fault.code)
        snprintf(fresh, sizeof fresh, "a fault (%s)", vtd_fault_name(res->report.fresh.fault.code));
    else
        snprintf(fresh, sizeof fresh, "0x%llx", (unsigned long long)res->report.fresh.out);
    char pasid[24] = "";
    if (d->pasid_valid)
        snprintf(pasid, sizeof pasid, " pasid %u", d->pasid);
    pl_finding(p, "stale: device %s%s %s 0x%llx served 0x%llx from the %s (filled at call %llu), memory says %s; "
                  "missing invalidation: %s",
               p->s->dev[d->dev].name ? p->s->dev[d->dev].name : "?", pasid, d->write ? "write" : "read",
               (unsigned long long)d->addr, (unsigned long long)res->x.out, vtd_source_name(res->source),
               (unsigned long long)res->report.filled_step, fresh, res->report.fix);
}

/* A write served from a cached translation whose D bit is clear in memory (a harvest cleared
 * it and nothing flushed the translation): the page will never show in a dirty bitmap. */
static void dirty_lost_finding(struct vtd_preload *p, const struct pl_dma *d, const struct vtd_dma_result *res)
{
    char pasid[24] = "";
    if (d->pasid_valid)
        snprintf(pasid, sizeof pasid, " pasid %u", d->pasid);
    pl_finding(p, "dirty-lost: device %s%s: %s", p->s->dev[d->dev].name ? p->s->dev[d->dev].name : "?", pasid,
               res->lost.text);
}

/* The DMA itself: memory carried in, the request, the data moved, memory carried out; the answer
 * line (with its newline) goes to ans. */
enum pl_outcome pl_dma_run(struct vtd_preload *p, const struct pl_dma *d, char *ans, size_t len)
{
    struct vtd_request rq = {
        .sid = p->s->dev[d->dev].cfg.sid, .pasid_valid = d->pasid_valid, .pasid = d->pasid,
        .addr = d->addr, .access = d->write ? VTD_ACC_W : VTD_ACC_R, .kind = VTD_REQ_UNTRANSLATED,
    };
    struct vtd_dma_result res;
    pl_mem_sync_in(p);
    int rc = vtd_iommu_dma(p->io, &rq, &res);
    uint64_t value = d->value;
    struct vtd_mem *m = vtd_iommu_mem(p->io);
    int mrc = 0;
    if (!rc)
        mrc = d->write ? vtd_mem_write(m, res.x.out, &value, d->size) : vtd_mem_read(m, res.x.out, &value, d->size);
    pl_mem_sync_out(p);
    if (rc == VTD_DMA_PAGE_REQUEST) {
        snprintf(ans, len, "page-request\n");
        return PL_OUT_PAGE_REQUEST;
    }
    if (rc) {
        snprintf(ans, len, "fault %s\n", vtd_fault_name(rc));
        return PL_OUT_FAULT;
    }
    if (mrc) {
        snprintf(ans, len, "error: memory at 0x%llx refused the access\n", (unsigned long long)res.x.out);
        return PL_OUT_ERROR;
    }
    snprintf(ans, len, "ok out=0x%llx value=0x%llx%s%s\n", (unsigned long long)res.x.out,
             (unsigned long long)(d->size == 8 ? value : value & ((UINT64_C(1) << (8 * d->size)) - 1)),
             res.stale ? " stale" : "", res.lost.dirty ? " dirty-lost" : "");
    if (res.stale)
        stale_finding(p, d, &res);
    if (res.lost.dirty)
        dirty_lost_finding(p, d, &res);
    return res.stale ? PL_OUT_STALE : res.lost.dirty ? PL_OUT_DIRTY_LOST : PL_OUT_OK;
}

void pl_command(struct vtd_preload *p, char *line, char *ans, size_t len)
{
    struct pl_dma d;
    const char *why = NULL;
    if (pl_dma_parse(p, line, &d, &why))
        pl_dma_run(p, &d, ans, len);
    else
        snprintf(ans, len, "error: %s\n", why);
}

long pl_control_write(struct vtd_preload *p, int h, const void *buf, size_t len)
{
    struct pl_file *f = &p->f[h];
    const char *b = buf;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != '\n') {
            if (f->nline + 1 >= sizeof f->line) {
                f->nline = 0; /* a command line longer than any valid one: dropped whole */
                reply(f, "error: a command line longer than %zu bytes\n", sizeof f->line - 1);
                return -E2BIG;
            }
            f->line[f->nline++] = b[i];
            continue;
        }
        f->line[f->nline] = 0;
        f->nline = 0;
        if (!f->line[0])
            continue;
        char ans[PL_ANSWER_MAX];
        pl_command(p, f->line, ans, sizeof ans);
        reply(f, "%s", ans);
    }
    return (long)len;
}

long pl_control_read(struct vtd_preload *p, int h, void *buf, size_t len)
{
    struct pl_file *f = &p->f[h];
    size_t n = len < f->nreply ? len : f->nreply;
    memcpy(buf, f->reply, n);
    memmove(f->reply, f->reply + n, f->nreply - n);
    f->nreply -= n;
    return (long)n;
}
