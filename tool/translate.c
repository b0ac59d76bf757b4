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
#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"
#include "walker/alloc.h"

static const char translate_help[] =
    "usage: vtdsim translate SCENARIO --after STEP (--device NAME | --sid BB:DD.F) [--pasid N]\n"
    "                        --addr A [--access r|w|x] [--priv] [--explain]\n"
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
    "  --after STEP    steps to execute first\n"
    "  --device NAME   the requester, by its name in the scenario's devices\n"
    "  --sid BB:DD.F   the requester, by source-id (hex bus:device.function, or a number)\n"
    "  --pasid N       a request with PASID N (default: without PASID, i.e. RID_PASID)\n"
    "  --addr A        the input address\n"
    "  --access r|w|x  read (default), write or execute\n"
    "  --priv          a privileged (supervisor) request\n"
    "  --explain       print every structure each path read, decoded; the IOMMU's path also lists\n"
    "                  the A/D updates it wrote (the uncached walk is a dry run and writes none)\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 when both translations ran (a fault is an answer), 2 on a usage error, an\n"
    "unknown step or device, or a scenario that does not load or run.\n";

struct tr_opts {
    const char *file, *device;
    unsigned long long after;
    bool has_after, has_sid, has_addr, explain;
    struct vtd_request req;
};

/* ---- argument parsing ---------------------------------------------------------------------- */

static int usage_err(const char *fmt, const char *arg) { return tool_usage_error("translate", fmt, arg); }

static bool parse_u64(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    /* strtoull would take leading blanks and a sign (and wrap "-1"): digits only. */
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return !errno && !*end && *v <= max;
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
    if (!o->has_after)
        return usage_err("%s", "--after STEP is required");
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

/* ---- --explain: one decoder per structure kind ------------------------------------------------ */

static void explain_root(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    (void)m;
    printf("P=%d CTP=0x%" PRIx64, !!(r->val & VTD_ROOT_P), r->val & VTD_ROOT_CTP);
}

static void explain_ctx(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    struct vtd_ctx_entry ce = {{0}};
    vtd_mem_read(m, r->addr, &ce, sizeof ce);
    uint64_t q = ce.qw[0];
    printf("P=%d FPD=%d DTE=%d PASIDE=%d PRE=%d PDTS=%" PRIu64 " (%u entries) PDTP=0x%" PRIx64 " RID_PASID=%" PRIu64,
           !!(q & VTD_CTX_P), !!(q & VTD_CTX_FPD), !!(q & VTD_CTX_DTE), !!(q & VTD_CTX_PASIDE), !!(q & VTD_CTX_PRE),
           vtd_field(q, VTD_CTX_PDTS), 1u << (vtd_field(q, VTD_CTX_PDTS) + 7), q & VTD_CTX_PDTP,
           vtd_field(ce.qw[1], VTD_CTX_RID_PASID));
}

static void explain_pdir(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    (void)m;
    printf("P=%d FPD=%d PTP=0x%" PRIx64, !!(r->val & VTD_PDIR_P), !!(r->val & VTD_PDIR_FPD), r->val & VTD_PDIR_PTP);
}

static void explain_pasid(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    struct vtd_pasid_entry pe = {{0}};
    vtd_mem_read(m, r->addr, &pe, sizeof pe);
    uint64_t q0 = pe.qw[0], q1 = pe.qw[1], q2 = pe.qw[2];
    unsigned aw = (unsigned)vtd_field(q0, VTD_PE_AW), fspm = (unsigned)vtd_field(q2, VTD_PE_FSPM);
    const char *pg = pgtt_name(vtd_pasid_entry_pgtt(&pe));
    printf("P=%d FPD=%d PGTT=%s DID=%u AW=%u (%u-level SS) SSPTPTR=0x%" PRIx64 " SSADE=%d SSEE=%d PWSNP=%d\n"
           "%33sFSPM=%u (%u-level FS) FSPTPTR=0x%" PRIx64 " SRE=%d WPE=%d EAFE=%d ERE=%d",
           !!(q0 & VTD_PE_P), !!(q0 & VTD_PE_FPD), pg ? pg : "?", (unsigned)vtd_field(q1, VTD_PE_DID), aw, aw + 2,
           q0 & VTD_PE_SSPTPTR, !!(q0 & VTD_PE_SSADE), !!(q0 & VTD_PE_SSEE), !!(q1 & VTD_PE_PWSNP), "", fspm,
           fspm + 4, q2 & VTD_PE_FSPTPTR, !!(q2 & VTD_PE_SRE), !!(q2 & VTD_PE_WPE), !!(q2 & VTD_PE_EAFE),
           !!(q2 & VTD_PE_ERE));
}

static void explain_fs(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    (void)m;
    uint64_t e = r->val;
    if (!vtd_fs_entry_present(e)) {
        printf("P=0: not present");
        return;
    }
    printf("P=%d R/W=%d U/S=%d XD=%d A=%d D=%d PS=%d %s=0x%" PRIx64, !!(e & VTD_FS_P), !!(e & VTD_FS_RW),
           !!(e & VTD_FS_US), !!(e & VTD_FS_XD), !!(e & VTD_FS_A), !!(e & VTD_FS_D), !!(e & VTD_FS_PS),
           vtd_fs_entry_is_leaf(e, r->level) ? "page" : "table", vtd_fs_entry_addr(e, r->level));
}

static void explain_ss(struct vtd_mem *m, const struct vtd_trace_rec *r)
{
    (void)m;
    uint64_t e = r->val;
    if (!(e & (VTD_SS_R | VTD_SS_W | VTD_SS_X))) {
        printf("R=W=X=0: not present");
        return;
    }
    printf("R=%d W=%d X=%d A=%d D=%d PS=%d %s=0x%" PRIx64, !!(e & VTD_SS_R), !!(e & VTD_SS_W), !!(e & VTD_SS_X),
           !!(e & VTD_SS_A), !!(e & VTD_SS_D), !!(e & VTD_SS_PS), vtd_ss_entry_is_leaf(e, r->level) ? "page" : "table",
           vtd_ss_entry_addr(e, r->level));
}

/* Indexed by enum vtd_trace_kind. */
static void (*const explainers[])(struct vtd_mem *, const struct vtd_trace_rec *) = {
    [VTD_TR_ROOT] = explain_root, [VTD_TR_CTX] = explain_ctx, [VTD_TR_PDIR] = explain_pdir,
    [VTD_TR_PASID] = explain_pasid, [VTD_TR_FS] = explain_fs, [VTD_TR_SS] = explain_ss,
};

static void explain_trace(struct vtd_mem *m, const struct vtd_trace *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        printf("  %-5s %-9s", r->write ? "A/D" : "read", vtd_trace_kind_name(r->kind));
        printf(r->level ? " L%u" : "   ", r->level);
        printf(" %s@0x%012" PRIx64 " = 0x%016" PRIx64 "\n%33s", r->for_fs ? "(for FS) " : "", r->addr, r->val, "");
        if (r->kind < sizeof explainers / sizeof explainers[0] && explainers[r->kind])
            explainers[r->kind](m, r);
        printf("\n");
    }
    if (!t->n)
        printf("  (no structure read: a cache answered)\n");
    if (t->dropped)
        printf("  ... %u more records\n", t->dropped);
}

/* ---- the two translations ------------------------------------------------------------------ */

static int translate_both(struct vtd_iommu *io, uint64_t rtaddr, void *arg)
{
    const struct tr_opts *o = arg;
    struct vtd_trace *t = vtd_calloc(2, sizeof *t);
    if (!t)
        return -ENOMEM;
    struct vtd_walk_env env;
    struct vtd_xlate x = {0};
    /* A dry run: the A/D updates are traced but not written, so the IOMMU below sees the same memory. */
    vtd_walk_env_init(&env, vtd_iommu_mem(io), vtd_iommu_caps(io), rtaddr);
    env.dry_run = true;
    env.trace = &t[0];
    int rc = vtd_translate(&env, &o->req, &x);
    print_xlate("uncached", rc, &x);
    if (o->explain)
        explain_trace(vtd_iommu_mem(io), &t[0]);

    struct vtd_dma_result res = {0};
    vtd_iommu_set_trace(io, &t[1]);
    rc = vtd_iommu_dma(io, &o->req, &res);
    vtd_iommu_set_trace(io, NULL);
    print_dma(rc, &res);
    if (o->explain) {
        printf("  structures the IOMMU read:\n");
        explain_trace(vtd_iommu_mem(io), &t[1]);
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

static int run_translate(struct tr_opts *o, const struct scenario *s)
{
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
    if (!o->req.pasid_valid)
        printf("         (without PASID: the walk uses the context's RID_PASID)\n");
    struct sc_result r = {0};
    unsigned bad = 0;
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
    if (!s) {
        char buf[512];
        sc_error_format(o.file, &err, buf, sizeof buf);
        return tool_error("translate", buf);
    }
    rc = run_translate(&o, s);
    sc_free(s);
    return rc;
}
