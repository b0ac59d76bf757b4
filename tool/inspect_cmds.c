/*
 * inspect_cmds.c: the commands of `vtdsim inspect`: their options, and the printing of what
 * inspect/ computes (answers, devices, ranges, findings, descriptors).
 */
#define _POSIX_C_SOURCE 200809L
#include "inspect_cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "inspect/answer.h"
#include "inspect/batch.h"
#include "inspect/check.h"
#include "inspect/mappings.h"
#include "inspect/queue.h"
#include "inspect/structs.h"
#include "walker/alloc.h"
#include "walker/bdf.h"
#include "walker/fault.h"
#include "sim/regs.h"
#include "walker/hostfile.h"

/* The options the commands share; each command says which it accepts. */
struct cmd_opts {
    struct vtd_request req;
    bool has_sid, has_addr, explain, json;
    const char *batch;
    uint64_t iqa, iqh, iqt;
    bool has_iqa, has_iqh, has_iqt;
};

enum { O_SID = 1, O_PASID = 2, O_ADDR = 4, O_ACCESS = 8, O_EXPLAIN = 16, O_JSON = 32, O_BATCH = 64, O_QUEUE = 128 };

static int valued(struct cmd_opts *o, unsigned allowed, const char *opt, const char *val)
{
    uint64_t v;
    if (!val)
        return insp_usage("%s needs a value", opt);
    if ((allowed & O_SID) && !strcmp(opt, "--sid")) {
        if (!(o->has_sid = vtd_sid_parse(val, strlen(val), &o->req.sid)))
            return insp_usage("bad source-id '%s' (want BB:DD.F in hex)", val);
    } else if ((allowed & O_PASID) && !strcmp(opt, "--pasid")) {
        if (!insp_parse_u64(val, false, (1u << 20) - 1, &v))
            return insp_usage("bad PASID '%s' (0 to 0xfffff)", val);
        o->req.pasid_valid = true;
        o->req.pasid = (uint32_t)v;
    } else if ((allowed & O_ADDR) && !strcmp(opt, "--addr")) {
        if (!(o->has_addr = insp_parse_u64(val, false, UINT64_MAX, &o->req.addr)))
            return insp_usage("bad address '%s'", val);
    } else if ((allowed & O_BATCH) && !strcmp(opt, "--batch")) {
        o->batch = val;
    } else if ((allowed & O_QUEUE) && !strcmp(opt, "--iqa")) {
        if (!(o->has_iqa = insp_parse_u64(val, true, UINT64_MAX, &o->iqa)))
            return insp_usage("bad --iqa value '%s' (hex)", val);
    } else if ((allowed & O_QUEUE) && !strcmp(opt, "--iqh")) {
        if (!(o->has_iqh = insp_parse_u64(val, true, UINT64_MAX, &o->iqh)))
            return insp_usage("bad --iqh value '%s' (hex)", val);
    } else if ((allowed & O_QUEUE) && !strcmp(opt, "--iqt")) {
        if (!(o->has_iqt = insp_parse_u64(val, true, UINT64_MAX, &o->iqt)))
            return insp_usage("bad --iqt value '%s' (hex)", val);
    } else {
        return insp_usage("unknown option '%s' for this command", opt);
    }
    return 0;
}

static int parse_cmd(int argc, char **argv, unsigned allowed, struct cmd_opts *o)
{
    o->req.access = VTD_ACC_R;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((allowed & O_ACCESS) && !strcmp(a, "--write"))
            o->req.access = (o->req.access & ~VTD_ACC_R) | VTD_ACC_W;
        else if ((allowed & O_ACCESS) && !strcmp(a, "--exec"))
            o->req.access |= VTD_ACC_X | VTD_ACC_R;
        else if ((allowed & O_ACCESS) && !strcmp(a, "--priv"))
            o->req.priv = true;
        else if ((allowed & O_EXPLAIN) && !strcmp(a, "--explain"))
            o->explain = true;
        else if ((allowed & O_JSON) && !strcmp(a, "--json"))
            o->json = true;
        else if (a[0] == '-') {
            int rc = valued(o, allowed, a, i + 1 < argc ? argv[i + 1] : NULL);
            if (rc)
                return rc;
            i++;
        } else
            return insp_usage("unexpected argument '%s'", a);
    }
    return 0;
}

/* ---- translate ---- */

static int translate_batch(const struct vtd_inspect *in, const struct cmd_opts *o)
{
    char why[512], err[1024];
    FILE *f = vtd_fopen_regular(o->batch, NULL, why, sizeof why);
    if (!f) {
        snprintf(err, sizeof err, "%s: %s", o->batch, why);
        return tool_error("inspect", err);
    }
    struct vtd_insp_batch_stats st;
    int rc = vtd_inspect_batch(in, f, o->batch, stdout, o->json, &st, err, sizeof err);
    fclose(f);
    return rc ? tool_error("inspect", err) : 0;
}

int insp_cmd_translate(const struct vtd_inspect *in, int argc, char **argv)
{
    struct cmd_opts o = {0};
    int rc = parse_cmd(argc, argv, O_SID | O_PASID | O_ADDR | O_ACCESS | O_EXPLAIN | O_JSON | O_BATCH, &o);
    if (rc)
        return rc;
    if (o.batch)
        return o.has_sid || o.has_addr || o.explain || o.req.pasid_valid
                   ? insp_usage("%s", "--batch FILE takes no --sid, --pasid, --addr or --explain")
                   : translate_batch(in, &o);
    if (!o.has_sid || !o.has_addr)
        return insp_usage("%s", "translate needs --sid BB:DD.F and --addr A (or --batch FILE)");
    if (o.explain && o.json)
        return insp_usage("%s", "--explain prints text: leave out --json");
    struct vtd_walk_env env;
    struct vtd_trace *t = vtd_calloc(1, sizeof *t);
    if (!t)
        return tool_error("inspect", "out of memory");
    struct vtd_xlate x;
    vtd_inspect_env(in, &env);
    env.trace = t;
    rc = vtd_translate(&env, &o.req, &x);
    char ans[256];
    fputs((vtd_insp_format_answer(ans, sizeof ans, &o.req, rc, &x, o.json), ans), stdout);
    if (rc && !o.json)
        printf("  %s; the structure: 0x%" PRIx64 "\n", vtd_fault_desc(rc), x.fault.addr);
    if (o.explain) {
        printf("structures read (a dry run: nothing is written, A/D bits included):\n");
        tool_explain_trace(in->mem, t);
    }
    vtd_free(t);
    return 0;
}

/* ---- devices ---- */

/* The enumeration's bound was met (inspect/structs.h). */
static int too_many_tables(void)
{
    char msg[256];
    snprintf(msg, sizeof msg, "stopped: more than %" PRIu64 " present PASID-directory entries (directories or context "
             "tables that share their tables?)", (uint64_t)VTD_INSP_MAX_PASID_TABLES);
    return tool_error("inspect", msg);
}

static int show_device(void *arg, const struct vtd_insp_device *d)
{
    const struct vtd_inspect *in = arg;
    const struct vtd_ctx *c = &d->ctx;
    printf("%s  context entry 0x%" PRIx64, vtd_bdf_format(d->sid).s, d->addr);
    if (d->fault) {
        printf("  fault 0x%x %s: %s\n", (unsigned)d->fault, vtd_fault_name(d->fault), vtd_fault_desc(d->fault));
        return 0;
    }
    printf("  PASID directory 0x%" PRIx64 " (PDTS %u: %" PRIu32 " entries, PASIDs 0-%" PRIu32 ")%s%s%s%s\n", c->pdtp,
           c->pdts, vtd_ctx_pdir_entries(c), vtd_ctx_pdir_entries(c) * 64 - 1, c->paside ? " PASIDE" : "",
           c->dte ? " DTE" : "", c->pre ? " PRE" : "", c->fpd ? " FPD" : "");
    struct vtd_pasid_cfg pe;
    uint32_t used;
    struct vtd_fault_info f;
    int rc = vtd_inspect_space(in, d->sid, false, 0, &pe, &used, &f);
    if (rc)
        printf("         without PASID (RID_PASID %" PRIu32 "): fault 0x%x %s\n", used, (unsigned)rc, vtd_fault_name(rc));
    else
        printf("         without PASID (RID_PASID %" PRIu32 "): %s, DID %u\n", used, pgtt_name(pe.pgtt), (unsigned)pe.did);
    return 0;
}

static int show_pasid(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pasid *p)
{
    (void)arg;
    printf("         PASID %-7" PRIu32 " entry 0x%" PRIx64 "  ", p->pasid, p->addr);
    if (p->fault)
        printf("fault 0x%x %s\n", (unsigned)p->fault, vtd_fault_name(p->fault));
    else
        printf("%s, DID %u%s\n", pgtt_name(p->cfg.pgtt), (unsigned)p->cfg.did,
               p->pasid == d->ctx.rid_pasid ? " (RID_PASID)" : "");
    return 0;
}

static int show_pdir(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pdir *p)
{
    (void)arg;
    (void)d;
    if (p->fault)
        printf("         PASID directory entry 0x%" PRIx64 " (PASIDs 0x%" PRIx32 "-0x%" PRIx32 "): fault 0x%x %s\n",
               p->addr, p->index << 6, (p->index << 6) | 63, (unsigned)p->fault, vtd_fault_name(p->fault));
    return 0;
}

int insp_cmd_devices(const struct vtd_inspect *in, int argc, char **argv)
{
    struct cmd_opts o = {0};
    int rc = parse_cmd(argc, argv, 0, &o);
    if (rc)
        return rc;
    struct vtd_insp_visitor v = {.device = show_device, .pdir = show_pdir, .pasid = show_pasid, .arg = (void *)in};
    rc = vtd_inspect_structs(in, &v);
    if (rc == -E2BIG)
        return too_many_tables();
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "RTADDR 0x%" PRIx64 " is not a scalable-mode root table (fault 0x%x %s)", in->rtaddr,
                 (unsigned)rc, vtd_fault_name(rc));
        return tool_error("inspect", msg);
    }
    return 0;
}

/* ---- mappings ---- */

static int show_range(void *arg, const struct vtd_insp_range *r)
{
    (void)arg;
    char pb[8], sb[24];
    printf("0x%016" PRIx64 "-0x%016" PRIx64 " -> 0x%016" PRIx64 "-0x%016" PRIx64 "  %-4s %s\n", r->iova,
           r->iova + (r->size - 1), r->out, r->out + (r->size - 1), vtd_insp_page_name(r->page_shift, sb),
           vtd_insp_perm_letters(r->perm, pb));
    return 0;
}

int insp_cmd_mappings(const struct vtd_inspect *in, int argc, char **argv)
{
    struct cmd_opts o = {0};
    int rc = parse_cmd(argc, argv, O_SID | O_PASID, &o);
    if (rc)
        return rc;
    if (!o.has_sid)
        return insp_usage("%s", "mappings needs --sid BB:DD.F");
    struct vtd_pasid_cfg pe;
    struct vtd_fault_info f;
    uint32_t used;
    rc = vtd_inspect_space(in, o.req.sid, o.req.pasid_valid, o.req.pasid, &pe, &used, &f);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s PASID %" PRIu32 ": no address space: fault 0x%x %s (%s) at 0x%" PRIx64,
                 vtd_bdf_format(o.req.sid).s, used, (unsigned)rc, vtd_fault_name(rc), vtd_fault_desc(rc), f.addr);
        return tool_error("inspect", msg);
    }
    printf("%s PASID %" PRIu32 "%s: %s, DID %u", vtd_bdf_format(o.req.sid).s, used,
           o.req.pasid_valid ? "" : " (RID_PASID)", pgtt_name(pe.pgtt), (unsigned)pe.did);
    if (vtd_pgtt_uses_fs(pe.pgtt))
        printf(", first stage %u-level at 0x%" PRIx64, pe.fs_levels, pe.fsptptr);
    if (vtd_pgtt_uses_ss(pe.pgtt))
        printf(", second stage %u-level at 0x%" PRIx64, pe.ss_levels, pe.ssptptr);
    printf("\n%-37s    %-37s  page perm\n", "input range", "output range");
    struct vtd_insp_map_stats st;
    vtd_inspect_mappings(in, &pe, show_range, NULL, &st);
    printf("%" PRIu64 " ranges from %" PRIu64 " leaves", st.ranges, st.leaves);
    if (st.bad_entries)
        printf("; %" PRIu64 " present entries skipped as malformed ('check' names them)", st.bad_entries);
    if (st.truncated)
        printf("; stopped there: more than %" PRIu64 " leaves (tables that point back at each other?)",
               (uint64_t)VTD_INSP_MAX_LEAVES);
    printf("\n");
    return 0;
}

/* ---- check ---- */

static int show_finding(void *arg, const struct vtd_insp_finding *f)
{
    (void)arg;
    printf("%s 0x%" PRIx64, f->structure, f->addr);
    if (f->has_sid)
        printf(" (%s", vtd_bdf_format(f->sid).s);
    if (f->has_sid && f->has_pasid)
        printf(" PASID %" PRIu32, f->pasid);
    if (f->has_sid)
        printf(")");
    printf(": %s: %s; ", vtd_insp_finding_kind_name(f->kind), f->text);
    if (f->fault)
        printf("fault 0x%x %s\n", (unsigned)f->fault, vtd_fault_name(f->fault));
    else
        printf("no fault\n");
    return 0;
}

int insp_cmd_check(const struct vtd_inspect *in, int argc, char **argv)
{
    struct cmd_opts o = {0};
    int rc = parse_cmd(argc, argv, 0, &o);
    if (rc)
        return rc;
    struct vtd_insp_check_stats st;
    rc = vtd_inspect_check(in, show_finding, NULL, &st);
    if (rc == -E2BIG)
        return too_many_tables();
    if (rc)
        return tool_error("inspect", "out of memory");
    printf("check: %" PRIu64 " present entries, %" PRIu64 " paging tables: %" PRIu64 " finding%s",
           st.entries, st.tables, st.findings, st.findings == 1 ? "" : "s");
    const char *sep = " (";
    for (unsigned k = 0; k < VTD_INSP_NKINDS; k++)
        if (st.by_kind[k]) {
            printf("%s%s %" PRIu64, sep, vtd_insp_finding_kind_name(k), st.by_kind[k]);
            sep = ", ";
        }
    printf("%s\n", st.findings ? ")" : "");
    return st.findings ? 1 : 0;
}

/* ---- queue ---- */

static int show_desc(void *arg, const struct vtd_insp_desc *d)
{
    (void)arg;
    printf("  IQH 0x%05" PRIx64 " @0x%" PRIx64 ":", d->offset, d->addr);
    for (unsigned i = 0; i < d->nqw; i++)
        printf(" %016" PRIx64, d->qw[i]);
    printf("\n                %s\n", d->text);
    return 0;
}

int insp_cmd_queue(const struct vtd_inspect *in, int argc, char **argv)
{
    struct cmd_opts o = {0};
    int rc = parse_cmd(argc, argv, O_QUEUE, &o);
    if (rc)
        return rc;
    if (!o.has_iqa || !o.has_iqh || !o.has_iqt)
        return insp_usage("%s", "queue needs --iqa V, --iqh V and --iqt V (the register values, hex)");
    char why[256];
    printf("invalidation queue at 0x%" PRIx64 ", %u-bit descriptors, IQH 0x%" PRIx64 ", IQT 0x%" PRIx64 ":\n",
           o.iqa & VTD_PAGE_MASK, o.iqa & VTD_IQA_DW ? 256 : 128, o.iqh, o.iqt);
    rc = vtd_inspect_queue(in->mem, o.iqa, o.iqh, o.iqt, show_desc, NULL, why, sizeof why);
    if (rc)
        return tool_error("inspect", why);
    if (o.iqh == o.iqt)
        printf("  (empty: IQH equals IQT)\n");
    return 0;
}
