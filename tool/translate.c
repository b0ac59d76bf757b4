/*
 * translate.c: `vtdsim translate`: replay a scenario up to a step, then translate one request
 * twice: by an uncached dry-run walk of current memory (what the answer should be; nothing is
 * written and no cache is touched) and through the IOMMU (what its caches serve). With
 * --explain every structure the walk read is printed with its decoded fields.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runner/runner.h"
#include "walker/bdf.h"
#include "walker/number.h"
#include "walker/explain.h"
#include "walker/alloc.h"

static const char translate_help[] =
    "usage: vtdsim translate SCENARIO (--after STEP | --at-line N) (--device NAME | --sid BB:DD.F)\n"
    "                        [--pasid N]\n"
    "                        --addr A [--access r|w|x] [--priv] [--data D] [--explain]\n"
    "\n"
    "Loads SCENARIO, executes steps 1..STEP (0: none; a failed expectation does not stop it, a\n"
    "step that cannot execute is an error), then translates one request twice:\n"
    "  uncached  a dry-run walk of current memory (writes nothing, touches no cache)\n"
    "  iommu     the request sent through the IOMMU: what its caches serve, and the oracle's\n"
    "            stale-translation report when they serve something the memory no longer says\n"
    "Each shows output address, page size, permissions, fault (name and code) and, for the\n"
    "IOMMU, the source (walk, psc, iotlb, devtlb) and whether the answer was stale.\n"
    "\n"
    "options:\n"
    "  --after STEP    steps to execute first (vtdsim run --list-steps numbers them)\n"
    "  --at-line N     execute the steps up to and including the one that starts on line N\n"
    "  --device NAME   the requester, by its name in the scenario's devices\n"
    "  --sid BB:DD.F   the requester, by source-id (hex bus:device.function, or a number)\n"
    "  --pasid N       a request with PASID N (default: without PASID, i.e. RID_PASID)\n"
    "  --addr A        the input address\n"
    "  --access r|w|x  read (default), write or execute\n"
    "  --priv          a privileged (supervisor) request\n"
    "  --data D        the DWORD written: a write without PASID to 0xFEEx_xxxx is an interrupt\n"
    "                  request, remapped through the interrupt-remapping table (vector, destination)\n"
    "  --explain       print every structure each path read, decoded; the IOMMU's path also lists\n"
    "                  the A/D updates it wrote (the uncached walk is a dry run and writes none);\n"
    "                  first, every descriptor the uAPI steps executed made the host layer issue\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 when both translations ran (a fault is an answer), 2 on a usage error, an\n"
    "unknown step or device, or a scenario that does not load or run.\n";

struct tr_opts {
    const char *file, *device;
    unsigned long long after;
    unsigned long long at_line;
    bool has_after, has_at_line, has_sid, has_addr, explain;
    struct vtd_request req;
    const struct sc_result *run; /* the steps' result so far (the descriptors they issued) */
};

/* ---- argument parsing ---------------------------------------------------------------------- */

static int usage_err(const char *fmt, const char *arg) { return tool_usage_error("translate", fmt, arg); }

/* A number as scenarios spell it (walker/number.h: decimal or 0x hex), at most max. */
static bool parse_u64(const char *s, unsigned long long max, unsigned long long *v)
{
    uint64_t x;
    if (vtd_number_parse(s, &x) || x > max)
        return false;
    *v = x;
    return true;
}

/* "BB:DD.F" in hex (as lspci prints it), or a plain 16-bit number. */
static bool parse_bdf(const char *s, uint16_t *sid)
{
    unsigned long long v;
    if (vtd_sid_parse(s, strlen(s), sid))
        return true;
    if (!parse_u64(s, 0xffff, &v))
        return false;
    *sid = (uint16_t)v;
    return true;
}

static bool parse_access(const char *s, unsigned *acc)
{
    static const struct { const char *name; unsigned acc; } t[] = {
        {"r", VTD_ACC_R}, {"w", VTD_ACC_W}, {"x", VTD_ACC_X | VTD_ACC_R},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].name)) {
            *acc = t[i].acc;
            return true;
        }
    return false;
}

/* One option with a value; returns 0, or the exit status of a usage error. */
static int parse_valued(struct tr_opts *o, const char *opt, const char *val)
{
    unsigned long long v;
    if (!val)
        return usage_err("%s needs a value", opt);
    if (!strcmp(opt, "--after")) {
        if (!parse_u64(val, SC_MAX_STEPS, &o->after))
            return usage_err("bad step number '%s'", val);
        o->has_after = true;
    } else if (!strcmp(opt, "--at-line")) {
        if (!parse_u64(val, UINT32_MAX, &o->at_line) || !o->at_line)
            return usage_err("bad line number '%s'", val);
        o->has_at_line = true;
    } else if (!strcmp(opt, "--device")) {
        o->device = val;
    } else if (!strcmp(opt, "--sid")) {
        if (!parse_bdf(val, &o->req.sid))
            return usage_err("bad source-id '%s' (want BB:DD.F in hex)", val);
        o->has_sid = true;
    } else if (!strcmp(opt, "--pasid")) {
        if (!parse_u64(val, (1u << 20) - 1, &v))
            return usage_err("bad PASID '%s' (0 to 0xfffff)", val);
        o->req.pasid_valid = true;
        o->req.pasid = (uint32_t)v;
    } else if (!strcmp(opt, "--addr")) {
        if (!parse_u64(val, UINT64_MAX, &v))
            return usage_err("bad address '%s'", val);
        o->req.addr = v;
        o->has_addr = true;
    } else if (!strcmp(opt, "--data")) {
        if (!parse_u64(val, UINT32_MAX, &v))
            return usage_err("bad data '%s' (0 to 0xffffffff)", val);
        o->req.data = (uint32_t)v;
    } else if (!strcmp(opt, "--access")) {
        if (!parse_access(val, &o->req.access))
            return usage_err("bad access '%s' (r, w or x)", val);
    } else {
        return usage_err("unknown option '%s'", opt);
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct tr_opts *o)
{
    o->req.access = VTD_ACC_R;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--priv"))
            o->req.priv = true;
        else if (!strcmp(a, "--explain"))
            o->explain = true;
        else if (a[0] == '-' && a[1]) {
            int rc = parse_valued(o, a, i + 1 < argc ? argv[i + 1] : NULL);
            if (rc)
                return rc;
            i++;
        } else if (!o->file)
            o->file = a;
        else
            return usage_err("more than one scenario ('%s')", a);
    }
    if (!o->file)
        return usage_err("%s", "no scenario given");
    if (o->has_after == o->has_at_line)
        return usage_err("%s", "one of --after STEP and --at-line N is required");
    if (!o->device == !o->has_sid)
        return usage_err("%s", "give exactly one of --device NAME and --sid BB:DD.F");
    if (!o->has_addr)
        return usage_err("%s", "--addr A is required");
    return 0;
}

/* ---- printing ------------------------------------------------------------------------------ */

static const char *page_name(unsigned shift)
{
    return shift == 12 ? "4K" : shift == 21 ? "2M" : shift == 30 ? "1G" : "?";
}

static const char *perm_name(unsigned p, char buf[8])
{
    char *q = buf;
    if (p & VTD_PERM_R) *q++ = 'r';
    if (p & VTD_PERM_W) *q++ = 'w';
    if (p & VTD_PERM_X) *q++ = 'x';
    if (p & VTD_PERM_U) *q++ = 'u';
    strcpy(q, q == buf ? "none" : "");
    return buf;
}

static void print_fault(int code)
{
    const char *n = vtd_fault_name(code);
    if (code == VTD_DMA_PAGE_REQUEST)
        printf("fault PAGE_REQUEST (the device sent a page request)");
    else
        printf("fault %s (0x%x): %s", n ? n : "?", (unsigned)code, n ? vtd_fault_desc(code) : "unknown code");
}

static void print_xlate(const char *label, int rc, const struct vtd_xlate *x)
{
    char pb[8];
    printf("%-9s ", label);
    if (rc)
        print_fault(rc);
    else
        printf("out 0x%" PRIx64 ", page %s, perm %s, fault none", x->out, page_name(x->page_shift), perm_name(x->perm, pb));
    printf(" (pasid %" PRIu32 ", did %u)\n", x->pasid, (unsigned)x->did);
}

static void print_dma(int rc, const struct vtd_dma_result *r)
{
    print_xlate("iommu", rc, &r->x);
    printf("          source %s, stale %s, structure reads %u\n", vtd_source_name(r->source),
           r->stale ? "true" : "false", r->reads);
    if (!r->stale)
        return;
    const struct vtd_stale *s = &r->report;
    printf("          stale from");
    for (int c = 0; c <= VTD_C_NCACHES; c++)
        if (s->caches & (1u << c))
            printf(" %s", sc_cache_key_name(c));
    printf(" (filled at step %" PRIu64 "); the fix: %s\n", s->filled_step, s->fix);
}

/* An interrupt request's answer: the interrupt delivered, or the fault. */
static void print_intr(const char *label, int rc, const struct vtd_xlate *x)
{
    const struct vtd_intr *i = &x->intr;
    printf("%-9s ", label);
    if (rc)
        print_fault(rc);
    else if (!i->remapped)
        printf("interrupt not remapped: vector 0x%x, destination 0x%x (compatibility format)", i->vector, i->dest);
    else if (i->posted)
        printf("interrupt posted: vector 0x%x, descriptor 0x%" PRIx64 "%s", i->vector, i->pda,
               i->urgent ? ", urgent" : "");
    else
        printf("interrupt vector 0x%x, destination 0x%x, %s, %s, %s%s", i->vector, i->dest,
               i->dm ? "logical" : "physical", i->tm ? "level" : "edge", vtd_irte_dlm_name(i->dlm),
               i->rh ? ", redirection hint" : "");
    if (rc || i->remapped)
        printf(" (index %u, IRTE at 0x%" PRIx64 ")", i->index, i->irte_addr);
    printf("\n");
}

/* The IRTE a remapped interrupt used, as memory holds it, field by field. */
static void explain_irte(struct vtd_iommu *io, const struct vtd_xlate *x)
{
    const struct vtd_intr *i = &x->intr;
    uint64_t qw[2];
    struct vtd_irte e;
    struct vtd_ir_cfg ir = vtd_iommu_ir(io);
    if (!i->irte_addr || vtd_mem_read(vtd_iommu_mem(io), i->irte_addr, qw, sizeof qw))
        return;
    int rc = vtd_irte_decode(qw[0], qw[1], vtd_iommu_caps(io), ir.irta & VTD_IRTA_EIME, &e);
    printf("  IRTE %u at 0x%" PRIx64 " = 0x%016" PRIx64 " 0x%016" PRIx64 "%s\n", i->index, i->irte_addr, qw[1], qw[0],
           rc ? " (not usable)" : "");
    printf("    P=%d FPD=%d IM=%d (%s) V=0x%x", e.present, e.fpd, e.posted, e.posted ? "posted" : "remapped", e.vector);
    if (e.posted)
        printf(" PDA=0x%" PRIx64 " URG=%d", e.pda, e.urgent);
    else
        printf(" DST=0x%x DM=%d RH=%d TM=%d DLM=%u (%s)", e.dest, e.dm, e.rh, e.tm, e.dlm, vtd_irte_dlm_name(e.dlm));
    printf(" SID=%s SQ=%u SVT=%u\n", vtd_bdf_format(e.sid).s, e.sq, e.svt);
}

/* An interrupt request: the table walked uncached, then the IOMMU with its entry cache. */
static void translate_interrupt(struct vtd_iommu *io, struct vtd_walk_env *env, const struct tr_opts *o)
{
    struct vtd_request req = o->req;
    struct vtd_xlate x = {0};
    req.kind = VTD_REQ_INTERRUPT;
    env->ir = vtd_iommu_ir(io);
    int rc = vtd_translate(env, &req, &x);
    print_intr("uncached", rc, &x);
    if (o->explain)
        explain_irte(io, &x);
    struct vtd_dma_result res = {0};
    rc = vtd_iommu_dma(io, &o->req, &res);
    print_intr("iommu", rc, &res.x);
    printf("          source %s, stale %s, structure reads %u\n", vtd_source_name(res.source),
           res.stale ? "true" : "false", res.reads);
    if (res.stale)
        printf("          stale from the interrupt entry cache (filled at step %" PRIu64 "); the fix: %s\n",
               res.report.filled_step, res.report.fix);
}

/* The hardware descriptors the uAPI steps executed so far made the host layer issue. */
static void explain_issued(const struct sc_result *r, unsigned long long after)
{
    printf("descriptors the uAPI steps 1..%llu issued: %llu\n", after, (unsigned long long)r->issued_total);
    for (unsigned i = 0; i < r->nissued; i++) {
        const struct sc_issued *d = &r->issued[i];
        char t[160];
        vtd_qi_describe(d->d.qw, d->d.nqw, t, sizeof t);
        printf("  step %u (%s, line %u): %s%s%s\n", d->step, sc_kind_name(d->kind), d->line, t,
               d->rc ? ", refused: " : "", d->rc ? strerror(-d->rc) : "");
    }
    if (r->issued_total > r->nissued)
        printf("  ... %llu more\n", (unsigned long long)(r->issued_total - r->nissued));
}

/* ---- the two translations ------------------------------------------------------------------ */

static int translate_both(struct vtd_iommu *io, uint64_t rtaddr, void *arg)
{
    const struct tr_opts *o = arg;
    struct vtd_trace *t = vtd_calloc(2, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (o->explain)
        explain_issued(o->run, o->after);
    struct vtd_walk_env env;
    struct vtd_xlate x = {0};
    /* A dry run: the A/D updates are traced but not written, so the IOMMU below sees the same memory. */
    vtd_walk_env_init(&env, vtd_iommu_mem(io), vtd_iommu_caps(io), rtaddr);
    env.dry_run = true;
    if (vtd_iommu_is_interrupt(&o->req)) {
        translate_interrupt(io, &env, o);
        vtd_free(t);
        return 0;
    }
    env.trace = &t[0];
    int rc = vtd_translate(&env, &o->req, &x);
    print_xlate("uncached", rc, &x);
    if (o->explain)
        tool_explain_trace(vtd_iommu_mem(io), &t[0]);

    struct vtd_dma_result res = {0};
    vtd_iommu_set_trace(io, &t[1]);
    rc = vtd_iommu_dma(io, &o->req, &res);
    vtd_iommu_set_trace(io, NULL);
    print_dma(rc, &res);
    if (o->explain) {
        printf("  structures the IOMMU read:\n");
        tool_explain_trace(vtd_iommu_mem(io), &t[1]);
    }
    vtd_free(t);
    return 0;
}

/* The device named, or -1. */
static int find_device(const struct scenario *s, const char *name)
{
    for (unsigned i = 0; i < s->ndev; i++)
        if (!strcmp(s->dev[i].name, name))
            return (int)i;
    return -1;
}

/* --at-line: the number of the top-level step that starts on that line (0: none does). */
static unsigned step_at_line(const struct scenario *s, unsigned long long line)
{
    for (unsigned i = 0; i < s->nsteps; i++)
        if (s->steps[i].line == line)
            return i + 1;
    return 0;
}

static int run_translate(struct tr_opts *o, const struct scenario *s)
{
    if (o->has_at_line && !(o->after = step_at_line(s, o->at_line))) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: no step starts on line %llu ('vtdsim run --list-steps %s' lists them)",
                 o->file, o->at_line, o->file);
        return tool_error("translate", msg);
    }
    if (o->after > s->nsteps) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: no step %llu (the scenario has %u steps)", o->file, o->after, s->nsteps);
        return tool_error("translate", msg);
    }
    if (o->device) {
        int d = find_device(s, o->device);
        if (d < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: no device named '%s'", o->file, o->device);
            return tool_error("translate", msg);
        }
        o->req.sid = s->dev[d].cfg.sid;
    }
    printf("request: sid %s, ", vtd_bdf_format(o->req.sid).s);
    if (o->req.pasid_valid)
        printf("pasid %" PRIu32, o->req.pasid);
    else
        printf("no pasid");
    printf(", addr 0x%" PRIx64 ", %s%s, after step %llu of %u\n", o->req.addr,
           o->req.access & VTD_ACC_W ? "write" : o->req.access & VTD_ACC_X ? "execute" : "read",
           o->req.priv ? ", privileged" : "", o->after, s->nsteps);
    if (vtd_iommu_is_interrupt(&o->req))
        printf("         (a write without PASID to 0xFEEx_xxxx: an interrupt request, data 0x%" PRIx32 ")\n",
               o->req.data);
    else if (!o->req.pasid_valid && !s->legacy)
        printf("         (without PASID: the walk uses the context's RID_PASID)\n");
    struct sc_result r = {0};
    unsigned bad = 0;
    o->run = &r;
    int rc = sc_run_until(s, (unsigned)o->after, &r, &bad, translate_both, o);
    if (rc == -EIO && bad) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: step %u could not execute:", o->file, bad);
        tool_error("translate", msg);
    }
    if (rc)
        sc_result_print(&r, stderr);
    else if (r.failed)
        printf("note: %u expectation(s) of steps 1..%llu did not hold (run 'vtdsim run' for details)\n", r.failed,
               o->after);
    sc_result_free(&r);
    return rc ? 2 : 0;
}

int cmd_translate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(translate_help, stdout);
            return 0;
        }
    struct tr_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    struct sc_error err;
    struct scenario *s = sc_load_file(o.file, &err);
    if (!s)
        return tool_load_errors("translate", o.file, &err);
    rc = run_translate(&o, s);
    sc_free(s);
    return rc;
}
