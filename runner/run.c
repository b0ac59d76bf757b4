/*
 * run.c: the step executor (see runner.h). One handler per step kind, found through a table;
 * each handler performs the operation and fills an outcome; the expectations are then checked
 * against the outcome by one table of checks, so every step kind supports the same generic
 * expectations (errno, warnings, statistics, memory) and DMA steps add their own.
 */
#define _POSIX_C_SOURCE 200809L
#include "runner/runner.h"
#include "runner/uapi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/qi.h"
#include "sim/regs.h"
#include "support/world.h"
#include "walker/builder.h"
#include "walker/fault.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "walker/alloc.h"

/* ---- executor state -------------------------------------------------------------------- */

struct ex {
    const struct scenario *s;
    struct sc_result *r;
    struct vtd_iommu *io;
    struct world w;          /* root table and builder, without a container */
    struct vtd_container *c; /* with a `container:` section: it owns root table and builder */
    struct vtd_builder *b;
    uint64_t rtaddr;
    struct vtd_ctx *ctx;     /* per device, valid when attached */
    bool *attached;
    struct vtd_pt *pt;       /* per table */
    bool *pt_ready;
    unsigned step_no;
    unsigned bad_step;       /* first step that raised an error it did not expect (0: none) */
    size_t max_frames;       /* simulated memory cap (sc_run_opts) */
    struct vtd_trace trace;
    /* The failure text of the step being checked (a memory stream, opened on the first miss). */
    char *msg;
    size_t msg_len;
    FILE *mf;
};

/* What a step did, for the expectations. */
struct outcome {
    int err;                  /* 0 or a negative errno from the operation */
    const char *err_what;     /* what failed, for the report */
    bool is_dma;
    struct vtd_request req;
    struct vtd_dma_result res;
    int fault;
    bool is_qi;
    struct vtd_qi_result qi;
    bool has_value;
    uint64_t value;
    bool has_entry_num;       /* hwpt_invalidate: entry_num as the call left it */
    uint64_t entry_num;
    bool has_layer_err;       /* unbind, cache_invalidate: the iommu layer's answer VFIO dropped */
    int layer_err;
    uint64_t warnings_before;
};

/* A copy of s for the result; a failed copy fails the result, marked out of memory. */
static char *result_strdup(struct sc_result *r, const char *s)
{
    char *d = s ? vtd_strdup(s) : NULL;
    if (s && !d) {
        r->out_of_memory = true;
        r->failed++;
    }
    return d;
}

/* ---- failure records ------------------------------------------------------------------- */

static FILE *miss(struct ex *e, const struct sc_step *st)
{
    if (!e->mf) {
        e->mf = open_memstream(&e->msg, &e->msg_len);
        if (e->mf)
            fprintf(e->mf, "%s:%u: step %u (%s) failed\n", e->s->path, st->line, e->step_no, sc_kind_name(st->kind));
    }
    e->r->failed++;
    return e->mf ? e->mf : stderr;
}

/* Close the step's failure text and keep it (up to SC_MAX_FAILURES_KEPT). */
static void step_done(struct ex *e, const struct sc_step *st)
{
    if (!e->mf)
        return;
    fclose(e->mf);
    e->mf = NULL;
    if (e->r->nfail < SC_MAX_FAILURES_KEPT)
        e->r->fail[e->r->nfail++] = (struct sc_failure){.step = e->step_no, .line = st->line, .text = e->msg};
    else
        free(e->msg);
    e->msg = NULL;
}

/* ---- names for reports ------------------------------------------------------------------ */

static const char *perm_str(unsigned p, char buf[8])
{
    char *q = buf;
    if (p & VTD_PERM_R) *q++ = 'r';
    if (p & VTD_PERM_W) *q++ = 'w';
    if (p & VTD_PERM_X) *q++ = 'x';
    if (p & VTD_PERM_U) *q++ = 'u';
    if (q == buf)
        strcpy(q, "none");
    else
        *q = 0;
    return buf;
}

static const char *fault_str(int code, char buf[48])
{
    const char *n = vtd_fault_name(code);
    if (!code)
        snprintf(buf, 48, "none");
    else if (code == VTD_DMA_PAGE_REQUEST)
        snprintf(buf, 48, "PAGE_REQUEST (a page request was sent)");
    else if (n)
        snprintf(buf, 48, "%s (0x%x)", n, (unsigned)code);
    else
        snprintf(buf, 48, "0x%x", (unsigned)code);
    return buf;
}

static const char *page_str(unsigned shift)
{
    switch (shift) {
    case 12: return "4K";
    case 21: return "2M";
    case 30: return "1G";
    default: return "?";
    }
}

static void print_trace(FILE *f, const struct vtd_trace *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        fprintf(f, "      %-5s %-9s L%u %s 0x%012llx = 0x%016llx\n", r->write ? "write" : "read",
                vtd_trace_kind_name(r->kind), r->level, r->for_fs ? "(for FS)" : "        ",
                (unsigned long long)r->addr, (unsigned long long)r->val);
    }
    if (!t->n)
        fprintf(f, "      (no structure read: served from a cache)\n");
    if (t->dropped)
        fprintf(f, "      ... %u more records\n", t->dropped);
}

/* ---- setup: IOMMU, root, devices, tables ------------------------------------------------- */

static int table_apply_mappings(struct vtd_pt *pt, const struct sc_table *t, unsigned *bad)
{
    for (unsigned i = 0; i < t->nmap; i++) {
        const struct sc_mapping *m = &t->map[i];
        unsigned perm = t->first_stage ? m->perm : (m->perm & ~VTD_PERM_U);
        int rc = m->page_shift ? vtd_pt_map(pt, m->va, m->pa, m->size, m->page_shift, perm, m->flags)
                               : vtd_pt_map_auto(pt, m->va, m->pa, m->size, perm, m->flags);
        if (rc) {
            *bad = m->line;
            return rc;
        }
    }
    return 0;
}

/* Create table i and make its listed mappings; *bad_line names the failing entry. */
static int table_build(struct ex *e, unsigned i, unsigned *bad_line)
{
    const struct sc_table *t = &e->s->tab[i];
    const struct vtd_pt *backing = t->backing >= 0 ? &e->pt[t->backing]
                                   : t->backing == SC_BACKING_CONTAINER ? sc_uapi_container_ss(e->c) : NULL;
    int rc = vtd_pt_init(&e->pt[i], e->b, t->first_stage ? VTD_PT_FS : VTD_PT_SS, t->levels, backing,
                         backing ? t->pool : 0, backing ? t->pool_size : 0);
    if (!rc)
        rc = table_apply_mappings(&e->pt[i], t, bad_line);
    if (!rc)
        e->pt_ready[i] = true;
    return rc;
}

/* A table a step names, built on first use if it lives behind the container. */
static int table_ready(struct ex *e, const struct sc_step *st, enum sc_arg a, const char **what)
{
    unsigned i = (unsigned)st->v[a], bad;
    if (!st->given[a] || e->pt_ready[i])
        return 0;
    *what = "building the guest table (is its pool mapped by map_dma?)";
    return table_build(e, i, &bad);
}

/*
 * Allocations the model could not make and carried on without (simulated-memory frames, ordering
 * checks, page requests): after one, a step's results may be wrong, so the runner says so.
 */
static uint64_t model_enomem(const struct ex *e)
{
    if (!e->io)
        return 0;
    return vtd_iommu_stats(e->io)->alloc_failures + vtd_mem_enomem_count(vtd_iommu_mem(e->io));
}

static void report_enomem(struct ex *e, const struct sc_step *st)
{
    e->r->out_of_memory = true;
    size_t limit = e->max_frames ? e->max_frames : SC_DEFAULT_MAX_FRAMES;
    fprintf(miss(e, st), "    out of memory (ENOMEM): simulated memory reached its limit of %zu frames (%zu MiB), or an "
                         "allocation in the model failed, during this step; its results may be wrong\n",
            limit, limit >> 8);
}

static bool setup_fail(struct ex *e, unsigned line, const char *what, int rc)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%u: %s: %s", e->s->path, line, what, rc ? strerror(-rc) : "invalid");
    if (rc == -ENOMEM || model_enomem(e))
        e->r->out_of_memory = true;
    e->r->load_error = result_strdup(e->r, buf);
    e->r->failed++;
    return false;
}

static bool setup_fail_why(struct ex *e, unsigned line, const char *what, const char *why)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%u: %s: %s", e->s->path, line, what, why ? why : "invalid");
    if (model_enomem(e))
        e->r->out_of_memory = true;
    e->r->load_error = result_strdup(e->r, buf);
    e->r->failed++;
    return false;
}

static bool setup(struct ex *e)
{
    const struct scenario *s = e->s;
    const char *why = NULL;
    if (!(e->io = vtd_iommu_new(&s->cfg, &why))) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s:%u:%u: iommu: %s", s->path, s->iommu_line, s->iommu_col, why ? why : "?");
        e->r->load_error = result_strdup(e->r, buf);
        e->r->failed++;
        return false;
    }
    vtd_mem_set_frame_limit(vtd_iommu_mem(e->io), e->max_frames ? e->max_frames : SC_DEFAULT_MAX_FRAMES);
    e->ctx = vtd_calloc(s->ndev + 1, sizeof *e->ctx);
    e->attached = vtd_calloc(s->ndev + 1, sizeof *e->attached);
    e->pt = vtd_calloc(s->ntab + 1, sizeof *e->pt);
    e->pt_ready = vtd_calloc(s->ntab + 1, sizeof *e->pt_ready);
    if (!e->ctx || !e->attached || !e->pt || !e->pt_ready)
        return setup_fail(e, 1, "setup", -ENOMEM);
    int rc = 0;
    for (unsigned i = 0; i < s->ndev; i++)
        if ((rc = vtd_iommu_add_device(e->io, &s->dev[i].cfg)))
            return setup_fail(e, s->dev[i].line, "device", rc);
    if (s->has_container) {
        /* The container builds the root table and programs RTADDR itself. */
        if (sc_uapi_container_new(e->io, s, &e->c, &why))
            return setup_fail_why(e, s->container_line, "container", why);
        e->b = sc_uapi_builder(e->c);
        e->rtaddr = sc_uapi_rtaddr(e->io);
    } else {
        if ((rc = world_init_mem(&e->w, vtd_iommu_caps(e->io), vtd_iommu_mem(e->io))))
            return setup_fail(e, s->iommu_line, "root table", rc);
        vtd_iommu_set_root(e->io, e->w.rtaddr);
        e->b = &e->w.b;
        e->rtaddr = e->w.rtaddr;
    }
    for (unsigned i = 0; i < s->ntab; i++) {
        unsigned bad = s->tab[i].line;
        /* Guest tables behind the container wait for MAP_DMA to map their pool (table_ready). */
        if (s->tab[i].backing != SC_BACKING_CONTAINER && (rc = table_build(e, i, &bad)))
            return setup_fail(e, bad, s->tab[i].first_stage ? "first-stage table" : "second-stage table", rc);
    }
    return true;
}

static void teardown(struct ex *e)
{
    sc_uapi_container_free(e->c);
    /* world_init_mem over the IOMMU's memory: the IOMMU frees it. */
    vtd_iommu_free(e->io);
    vtd_free(e->ctx);
    vtd_free(e->attached);
    vtd_free(e->pt);
    vtd_free(e->pt_ready);
}

/* ---- step handlers --------------------------------------------------------------------- */

#define HAS(st, a) ((st)->given[a])
#define ARGV(st, a) ((st)->v[a])
#define ARG_OR(st, a, d) (HAS(st, a) ? ARGV(st, a) : (uint64_t)(d))

static const struct sc_device *step_dev(const struct ex *e, const struct sc_step *st) { return &e->s->dev[ARGV(st, A_DEVICE)]; }

static int context_addr(struct ex *e, uint16_t sid, uint64_t *addr);

/*
 * The device's context: the one an attach step wrote, or (a device the container attached)
 * the context entry decoded from memory.
 */
static int need_attached(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    unsigned d = (unsigned)ARGV(st, A_DEVICE);
    struct vtd_ctx_entry ce;
    uint64_t addr;
    if (e->attached[d])
        return 0;
    o->err_what = "device not attached (add an attach or container_attach step first)";
    if (context_addr(e, e->s->dev[d].cfg.sid, &addr) || vtd_mem_read(vtd_iommu_mem(e->io), addr, &ce, sizeof ce) ||
        ctx_entry_decode(&ce, vtd_iommu_caps(e->io), &e->ctx[d]))
        return -ENODEV;
    return 0;
}

static int do_attach(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    unsigned d = (unsigned)ARGV(st, A_DEVICE);
    const struct vtd_caps *caps = vtd_iommu_caps(e->io);
    const struct sc_device *dev = step_dev(e, st);
    struct vtd_ctx c = {
        .paside = ARG_OR(st, A_PASIDE, 1), .pdts = (unsigned)ARG_OR(st, A_PDTS, 7),
        .dte = ARG_OR(st, A_DTE, dev->cfg.ats && vtd_ecap_has(caps, VTD_ECAP_DT)),
        .pre = ARG_OR(st, A_PRE, dev->cfg.pri && vtd_ecap_has(caps, VTD_ECAP_PRS)),
        .fpd = ARG_OR(st, A_FPD, 0), .rid_pasid = (uint32_t)ARG_OR(st, A_RID_PASID, 0),
        .rid_priv = ARG_OR(st, A_RID_PRIV, 0)};
    int rc = 0;
    /* Re-attaching keeps the PASID directory when its size is unchanged. */
    if (e->attached[d] && e->ctx[d].pdts == c.pdts)
        c.pdtp = e->ctx[d].pdtp;
    else
        rc = vtd_build_pasid_dir(e->b, c.pdts, &c.pdtp);
    if (!rc)
        rc = vtd_build_context(e->b, e->rtaddr, dev->cfg.sid, &c);
    if (!rc) {
        e->ctx[d] = c;
        e->attached[d] = true;
    }
    o->err_what = "attach";
    return rc;
}

/* The PASID configuration a pasid_entry step describes. */
static int pasid_cfg_of(struct ex *e, const struct sc_step *st, struct vtd_pasid_cfg *cfg, struct outcome *o)
{
    unsigned pgtt = (unsigned)ARGV(st, A_PGTT);
    vtd_pasid_cfg_init(cfg, pgtt, (uint16_t)ARG_OR(st, A_DID, 1));
    int ti = HAS(st, A_TABLE) ? (int)ARGV(st, A_TABLE) : -1;
    int si = HAS(st, A_SS_TABLE) ? (int)ARGV(st, A_SS_TABLE) : -1;
    const struct sc_table *t = ti >= 0 ? &e->s->tab[ti] : NULL;
    o->err_what = "pasid_entry: tables";
    if (pgtt_uses_fs(pgtt)) {
        if (!t || !t->first_stage)
            return -EINVAL; /* 'table' must name a first-stage table */
        cfg->fs_levels = t->levels;
        cfg->fsptptr = e->pt[ti].root;
        if (pgtt == VTD_PGTT_NESTED && si < 0)
            si = t->backing;
    } else if (pgtt == VTD_PGTT_SS) {
        si = si >= 0 ? si : (t && !t->first_stage ? ti : -1);
    }
    if (pgtt_uses_ss(pgtt)) {
        const struct vtd_pt *ss = si >= 0 ? &e->pt[si] : si == SC_BACKING_CONTAINER ? sc_uapi_container_ss(e->c) : NULL;
        if (!ss)
            return -EINVAL; /* a second-stage table is needed */
        cfg->ss_levels = ss->levels;
        cfg->ssptptr = ss->root;
    }
    static const struct { enum sc_arg a; size_t off; } flags[] = {
        {A_FPD, offsetof(struct vtd_pasid_cfg, fpd)}, {A_SRE, offsetof(struct vtd_pasid_cfg, sre)},
        {A_WPE, offsetof(struct vtd_pasid_cfg, wpe)}, {A_SSEE, offsetof(struct vtd_pasid_cfg, ssee)},
        {A_SSADE, offsetof(struct vtd_pasid_cfg, ssade)}, {A_EAFE, offsetof(struct vtd_pasid_cfg, eafe)},
        {A_ERE, offsetof(struct vtd_pasid_cfg, ere)}, {A_NXE, offsetof(struct vtd_pasid_cfg, nxe)},
        {A_SMEP, offsetof(struct vtd_pasid_cfg, smep)}, {A_PWSNP, offsetof(struct vtd_pasid_cfg, pwsnp)},
        {A_PGSNP, offsetof(struct vtd_pasid_cfg, pgsnp)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (HAS(st, flags[i].a))
            *(bool *)((char *)cfg + flags[i].off) = ARGV(st, flags[i].a) != 0;
    return 0;
}

static int do_pasid_entry(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_pasid_cfg cfg;
    int rc = need_attached(e, st, o);
    if (!rc)
        rc = pasid_cfg_of(e, st, &cfg, o);
    if (rc)
        return rc;
    o->err_what = "pasid_entry";
    return vtd_build_pasid_entry(e->b, &e->ctx[ARGV(st, A_DEVICE)], (uint32_t)ARGV(st, A_PASID), &cfg);
}

static int do_pasid_clear(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    int rc = need_attached(e, st, o);
    o->err_what = "pasid_clear";
    return rc ? rc : vtd_build_pasid_clear(e->b, &e->ctx[ARGV(st, A_DEVICE)], (uint32_t)ARGV(st, A_PASID));
}

static unsigned table_perm(const struct ex *e, const struct sc_step *st)
{
    /* The second-stage format has no U/S bit: 'u' is ignored there. */
    unsigned p = (unsigned)ARGV(st, A_PERM);
    return e->s->tab[ARGV(st, A_TABLE)].first_stage ? p : (p & ~VTD_PERM_U);
}

static int do_map(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_pt *pt = &e->pt[ARGV(st, A_TABLE)];
    unsigned flags = (ARG_OR(st, A_AD, 0) ? VTD_MAP_AD : 0) | (ARG_OR(st, A_SNP, 0) ? VTD_MAP_SNP : 0);
    o->err_what = "map";
    if (HAS(st, A_PAGE))
        return vtd_pt_map(pt, ARGV(st, A_VA), ARGV(st, A_PA), ARGV(st, A_SIZE), (unsigned)ARGV(st, A_PAGE),
                          table_perm(e, st), flags);
    return vtd_pt_map_auto(pt, ARGV(st, A_VA), ARGV(st, A_PA), ARGV(st, A_SIZE), table_perm(e, st), flags);
}

static int do_unmap(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "unmap";
    return vtd_pt_unmap(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), ARGV(st, A_SIZE));
}

static int do_protect(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "protect";
    return vtd_pt_protect(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), ARGV(st, A_SIZE), table_perm(e, st));
}

/* ---- raw writes ---- */

static int edit_qword(struct ex *e, const struct sc_step *st, uint64_t addr, struct outcome *o)
{
    struct vtd_mem *m = vtd_iommu_mem(e->io);
    uint64_t v = 0;
    int rc = vtd_mem_read64(m, addr, &v);
    if (!rc) {
        v = HAS(st, A_VALUE) ? ARGV(st, A_VALUE) : ((v | ARG_OR(st, A_SET, 0)) & ~ARG_OR(st, A_CLEAR, 0));
        rc = vtd_mem_write64(m, addr, v);
    }
    o->err_what = "memory write";
    return rc;
}

static int do_write_root(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr = root_entry_addr(e->rtaddr & VTD_RTADDR_RTA, (uint8_t)ARG_OR(st, A_BUS, 0)) + 8 * ARG_OR(st, A_HALF, 0);
    return edit_qword(e, st, addr, o);
}

/* The context entry's address, from the root entry as it is in memory now. */
static int context_addr(struct ex *e, uint16_t sid, uint64_t *addr)
{
    uint64_t half;
    uint64_t re = root_entry_addr(e->rtaddr & VTD_RTADDR_RTA, (uint8_t)(sid >> 8)) + ((sid & 0x80) ? 8 : 0);
    int rc = vtd_mem_read64(vtd_iommu_mem(e->io), re, &half);
    if (rc)
        return rc;
    if (!(half & VTD_ROOT_P))
        return -ENOENT;
    *addr = ctx_entry_addr(half & VTD_ROOT_CTP, (uint8_t)sid);
    return 0;
}

static int do_write_context(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t addr;
    int rc = context_addr(e, step_dev(e, st)->cfg.sid, &addr);
    o->err_what = "write_context: no context table for the device";
    return rc ? rc : edit_qword(e, st, addr + 8 * ARG_OR(st, A_QWORD, 0), o);
}

static int do_write_pdir(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    int rc = need_attached(e, st, o);
    if (rc)
        return rc;
    return edit_qword(e, st, pasid_dir_entry_addr(e->ctx[ARGV(st, A_DEVICE)].pdtp, (uint32_t)ARGV(st, A_PASID)), o);
}

static int do_write_pasid(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    int rc = need_attached(e, st, o);
    if (rc)
        return rc;
    uint64_t addr = vtd_build_pasid_entry_addr(e->b, &e->ctx[ARGV(st, A_DEVICE)], (uint32_t)ARGV(st, A_PASID));
    if (!addr) {
        o->err_what = "write_pasid: the PASID has no PASID table";
        return -ENOENT;
    }
    return edit_qword(e, st, addr + 8 * ARG_OR(st, A_QWORD, 0), o);
}

static int do_write_pte(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t hpa;
    int rc = vtd_pt_entry_addr(&e->pt[ARGV(st, A_TABLE)], ARGV(st, A_VA), (unsigned)ARGV(st, A_LEVEL), &hpa);
    o->err_what = "write_pte: no table at that level for that address";
    return rc ? rc : edit_qword(e, st, hpa, o);
}

static int do_write_mem(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    struct vtd_mem *m = vtd_iommu_mem(e->io);
    o->err_what = "write_mem";
    if (HAS(st, A_FILL))
        return vtd_mem_fill(m, ARGV(st, A_ADDR), (uint8_t)ARGV(st, A_FILL), (size_t)ARGV(st, A_SIZE));
    uint64_t v = ARGV(st, A_VALUE);
    return vtd_mem_write(m, ARGV(st, A_ADDR), &v, HAS(st, A_SIZE) && ARGV(st, A_SIZE) < 8 ? (size_t)ARGV(st, A_SIZE) : 8);
}

static int do_reg_write(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "reg_write";
    return vtd_iommu_reg_write(e->io, (unsigned)ARGV(st, A_OFFSET), (unsigned)ARG_OR(st, A_WIDTH, 4), ARGV(st, A_VALUE));
}

static int do_reg_read(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    o->err_what = "reg_read";
    o->has_value = true;
    return vtd_iommu_reg_read(e->io, (unsigned)ARGV(st, A_OFFSET), (unsigned)ARG_OR(st, A_WIDTH, 4), &o->value);
}

/* ---- queued invalidation descriptors by fields ---- */

/* G field of each (type, symbolic granularity) pair (VT-d 6.5.2). */
static const struct { unsigned type, gran, g; } gran_table[] = {
    {1, SC_GRAN_GLOBAL, 1}, {1, SC_GRAN_DOMAIN, 2}, {1, SC_GRAN_DEVICE, 3},
    {2, SC_GRAN_GLOBAL, 1}, {2, SC_GRAN_DOMAIN, 2}, {2, SC_GRAN_PAGE, 3},
    {6, SC_GRAN_PASID, 2}, {6, SC_GRAN_PAGE, 3},
    {7, SC_GRAN_DOMAIN, 0}, {7, SC_GRAN_PASID, 1}, {7, SC_GRAN_GLOBAL, 3},
};

static int qi_gran(const struct sc_step *st, unsigned type, uint64_t *g)
{
    uint64_t v = ARG_OR(st, A_GRAN, 0);
    if (v < SC_GRAN_GLOBAL) {
        *g = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof gran_table / sizeof gran_table[0]; i++)
        if (gran_table[i].type == type && gran_table[i].gran == v) {
            *g = gran_table[i].g;
            return 0;
        }
    return -EINVAL;
}

static uint64_t qi_sid(const struct ex *e, const struct sc_step *st)
{
    return HAS(st, A_DEVICE) ? e->s->dev[ARGV(st, A_DEVICE)].cfg.sid : ARG_OR(st, A_SID, 0);
}

/* AM from 'am' or from a power-of-two 'size'. */
static uint64_t qi_am(const struct sc_step *st)
{
    if (HAS(st, A_SIZE))
        return ARGV(st, A_SIZE) <= 0x1000 ? 0 : (uint64_t)__builtin_ctzll(ARGV(st, A_SIZE)) - 12;
    return ARG_OR(st, A_AM, 0);
}

/* Device-TLB address with the S bit: ones below the size's bit encode it (VT-d 6.5.2.5). */
static uint64_t devtlb_addr(const struct sc_step *st, uint64_t *s)
{
    uint64_t addr = ARG_OR(st, A_ADDR, 0) & VTD_PAGE_MASK, size = ARG_OR(st, A_SIZE, 0x1000);
    *s = ARG_OR(st, A_S, size > 0x1000);
    if (size <= 0x1000)
        return addr;
    return (addr & ~(size - 1)) | (((size >> 1) - 1) & VTD_PAGE_MASK);
}

static uint64_t pfsid_bits(const struct sc_step *st)
{
    uint64_t p = ARG_OR(st, A_PFSID, 0);
    return ((p & 0xf) << 12) | ((p >> 4) << 52);
}

static uint64_t pasid_field(const struct sc_step *st)
{
    return HAS(st, A_PASID) && ARGV(st, A_PASID) != UINT64_MAX ? ARGV(st, A_PASID) : 0;
}

static void qi_encode(const struct ex *e, const struct sc_step *st, unsigned type, uint64_t g, uint64_t *q)
{
    uint64_t did = ARG_OR(st, A_DID, 0), addr = ARG_OR(st, A_ADDR, 0) & VTD_PAGE_MASK, s = 0;
    uint64_t ih = ARG_OR(st, A_IH, 0), am = qi_am(st), sid = qi_sid(e, st), pasid = pasid_field(st);
    q[0] = (type & 0xf) | ((uint64_t)(type >> 4) << 9);
    switch (type) {
    case VTD_QI_CC:
        q[0] |= g << 4 | did << 16 | sid << 32 | ARG_OR(st, A_FM, 0) << 48;
        break;
    case VTD_QI_IOTLB:
        q[0] |= g << 4 | ARG_OR(st, A_DW, 0) << 6 | ARG_OR(st, A_DR, 0) << 7 | did << 16;
        q[1] = am | ih << 6 | addr;
        break;
    case VTD_QI_DEVTLB:
        q[1] = devtlb_addr(st, &s);
        q[0] |= pfsid_bits(st) | ARG_OR(st, A_QDEP, 0) << 16 | sid << 32;
        q[1] |= s;
        break;
    case VTD_QI_WAIT:
        q[0] |= ARG_OR(st, A_IF, 0) << 4 | ARG_OR(st, A_SW, 0) << 5 | ARG_OR(st, A_FN, 0) << 6 |
                ARG_OR(st, A_PD, 0) << 7 | ARG_OR(st, A_STATUS_DATA, 0) << 32;
        q[1] = ARG_OR(st, A_STATUS_ADDR, 0);
        break;
    case VTD_QI_PIOTLB:
        q[0] |= g << 4 | did << 16 | pasid << 32;
        q[1] = am | ih << 6 | addr;
        break;
    case VTD_QI_PC:
        q[0] |= g << 4 | did << 16 | pasid << 32;
        break;
    case VTD_QI_PDEVTLB:
        q[1] = devtlb_addr(st, &s);
        q[0] |= pfsid_bits(st) | ARG_OR(st, A_QDEP, 0) << 4 | sid << 16 | pasid << 32;
        q[1] |= ARG_OR(st, A_G, 0) | s << 11;
        break;
    case VTD_QI_PGRP_RESP:
        q[0] |= ARG_OR(st, A_PP, HAS(st, A_PASID)) << 4 | ARG_OR(st, A_RC, 0) << 12 | sid << 16 | pasid << 32;
        q[1] = ARG_OR(st, A_PRGI, 0) << 3;
        break;
    default:
        break;
    }
}

static int do_qi(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    uint64_t q[SC_MAX_RAW] = {0}, g = 0;
    unsigned nqw;
    o->is_qi = true;
    o->err_what = "qi";
    if (st->nraw) {
        memcpy(q, st->raw, sizeof q);
        nqw = st->nraw;
    } else {
        unsigned type = (unsigned)ARGV(st, A_TYPE);
        if (qi_gran(st, type, &g)) {
            o->err_what = "qi: that granularity does not exist for this descriptor type";
            return -EINVAL;
        }
        qi_encode(e, st, type, g, q);
        /* PASID-based descriptors exist only in the 256-bit format (VT-d 6.5.2). */
        nqw = (unsigned)ARG_OR(st, A_WIDTH, type >= VTD_QI_PIOTLB && type <= VTD_QI_PGRP_RESP ? 256 : 128) / 64;
    }
    o->qi = (struct vtd_qi_result){0};
    return vtd_qi_submit(e->io, q, nqw, &o->qi);
}

/* ---- DMA ---- */

static void fresh_walk_trace(struct ex *e, const struct vtd_request *req, FILE *f)
{
    struct vtd_walk_env env;
    struct vtd_xlate x;
    struct vtd_trace *t = vtd_calloc(1, sizeof *t);
    if (!t)
        return;
    vtd_walk_env_init(&env, vtd_iommu_mem(e->io), vtd_iommu_caps(e->io), e->rtaddr);
    env.dry_run = true;
    env.trace = t;
    int rc = vtd_translate(&env, req, &x);
    char fb[48], pb[8];
    fprintf(f, "    fresh uncached walk of current memory: %s", rc ? "fault " : "");
    if (rc)
        fprintf(f, "%s\n", fault_str(rc, fb));
    else
        fprintf(f, "out 0x%llx page %s perm %s\n", (unsigned long long)x.out, page_str(x.page_shift),
                perm_str(x.perm, pb));
    print_trace(f, t);
    vtd_free(t);
}

static void describe_dma(struct ex *e, const struct outcome *o, FILE *f)
{
    const struct vtd_dma_result *r = &o->res;
    char fb[48], pb[8];
    fprintf(f, "    request: sid %02x:%02x.%x pasid %s%llu addr 0x%llx access %s%s%s\n", o->req.sid >> 8,
            (o->req.sid >> 3) & 0x1f, o->req.sid & 7, o->req.pasid_valid ? "" : "none (RID_PASID ",
            (unsigned long long)(o->req.pasid_valid ? o->req.pasid : r->x.pasid), (unsigned long long)o->req.addr,
            o->req.access & VTD_ACC_W ? "write" : o->req.access & VTD_ACC_X ? "exec" : "read",
            o->req.pasid_valid ? "" : ")", o->req.priv ? " privileged" : "");
    if (o->fault)
        fprintf(f, "    got: fault %s, source %s, stale %s\n", fault_str(o->fault, fb), vtd_source_name(r->source),
                r->stale ? "true" : "false");
    else
        fprintf(f, "    got: out 0x%llx, page %s, perm %s, source %s, stale %s, reads %u\n", (unsigned long long)r->x.out,
                page_str(r->x.page_shift), perm_str(r->x.perm, pb), vtd_source_name(r->source),
                r->stale ? "true" : "false", r->reads);
    if (r->stale) {
        const struct vtd_stale *s = &r->report;
        fprintf(f, "    oracle: stale translation from");
        for (int c = 0; c <= VTD_C_NCACHES; c++)
            if (s->caches & (1u << c))
                fprintf(f, " %s", sc_cache_key_name(c));
        fprintf(f, " (filled at step %llu); a fresh walk says %s", (unsigned long long)s->filled_step,
                s->fresh.fault.code ? fault_str(s->fresh.fault.code, fb) : "");
        if (!s->fresh.fault.code)
            fprintf(f, "out 0x%llx page %s perm %s", (unsigned long long)s->fresh.out, page_str(s->fresh.page_shift),
                    perm_str(s->fresh.perm, pb));
        fprintf(f, "\n    oracle's fix: %s\n", s->fix);
    }
    fprintf(f, "    walk trace (cached path):\n");
    print_trace(f, &e->trace);
    fresh_walk_trace(e, &o->req, f);
}

/* ---- expectations ---------------------------------------------------------------------- */

/* DMA expectations: each returns true when it holds, else prints what was expected. */
typedef bool (*dma_check_fn)(const struct sc_expect *x, const struct outcome *o, uint64_t delta, FILE **f,
                             struct ex *e, const struct sc_step *st);

static FILE *want(struct ex *e, const struct sc_step *st, FILE **f)
{
    if (!*f)
        *f = miss(e, st);
    else
        e->r->failed++;
    return *f;
}

static bool chk_fault(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    /* Without 'fault', a DMA step with expectations expects success. */
    int exp = x->given[E_FAULT] ? (int)x->v[E_FAULT] : 0;
    char a[48], b[48];
    if (exp == o->fault)
        return true;
    fprintf(want(e, st, f), "    expected fault %s, got %s\n", fault_str(exp, a), fault_str(o->fault, b));
    return false;
}

static bool chk_out(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                    const struct sc_step *st)
{
    if (!x->given[E_OUT] || o->fault || o->res.x.out == x->v[E_OUT] + d)
        return true;
    fprintf(want(e, st, f), "    expected out 0x%llx, got 0x%llx\n", (unsigned long long)(x->v[E_OUT] + d),
            (unsigned long long)o->res.x.out);
    return false;
}

static bool chk_page(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                     const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_PAGE] || o->fault || o->res.x.page_shift == x->v[E_PAGE])
        return true;
    fprintf(want(e, st, f), "    expected page %s, got %s\n", page_str((unsigned)x->v[E_PAGE]), page_str(o->res.x.page_shift));
    return false;
}

static bool chk_perm(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                     const struct sc_step *st)
{
    char a[8], b[8];
    (void)d;
    if (!x->given[E_PERM] || o->fault || o->res.x.perm == x->v[E_PERM])
        return true;
    fprintf(want(e, st, f), "    expected perm %s, got %s\n", perm_str((unsigned)x->v[E_PERM], a), perm_str(o->res.x.perm, b));
    return false;
}

static bool chk_source(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                       const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_SOURCE] || o->res.source == x->v[E_SOURCE])
        return true;
    fprintf(want(e, st, f), "    expected source %s, got %s\n", vtd_source_name((enum vtd_source)x->v[E_SOURCE]),
            vtd_source_name(o->res.source));
    return false;
}

static bool chk_stale(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    /* Without 'stale', a DMA step with expectations expects a correct (not stale) answer. */
    bool exp = x->given[E_STALE] ? x->v[E_STALE] != 0 : false;
    if (exp == o->res.stale)
        return true;
    fprintf(want(e, st, f), "    expected stale %s, got %s\n", exp ? "true" : "false", o->res.stale ? "true" : "false");
    return false;
}

static bool chk_fix(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                    const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_FIX] || (o->res.stale && strstr(o->res.report.fix, x->fix)))
        return true;
    fprintf(want(e, st, f), "    expected the oracle's fix to contain \"%s\", got \"%s\"\n", x->fix,
            o->res.stale ? o->res.report.fix : "(not stale)");
    return false;
}

static bool chk_reads(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    bool ok = (!x->given[E_READS] || o->res.reads == x->v[E_READS]) &&
              (!x->given[E_PAGING_READS] || o->res.paging_reads == x->v[E_PAGING_READS]);
    if (!ok)
        fprintf(want(e, st, f), "    expected reads %lld / paging_reads %lld, got %u / %u\n",
                x->given[E_READS] ? (long long)x->v[E_READS] : -1LL,
                x->given[E_PAGING_READS] ? (long long)x->v[E_PAGING_READS] : -1LL, o->res.reads, o->res.paging_reads);
    return ok;
}

static bool chk_dirty(const struct sc_expect *x, const struct outcome *o, uint64_t d, FILE **f, struct ex *e,
                      const struct sc_step *st)
{
    (void)d;
    if (!x->given[E_DIRTY] || o->fault || o->res.x.dirty == (x->v[E_DIRTY] != 0))
        return true;
    fprintf(want(e, st, f), "    expected dirty %s, got %s\n", x->v[E_DIRTY] ? "true" : "false", o->res.x.dirty ? "true" : "false");
    return false;
}

static const dma_check_fn dma_checks[] = {chk_fault, chk_out, chk_page, chk_perm, chk_source, chk_stale, chk_fix,
                                          chk_reads, chk_dirty};

static void check_dma(struct ex *e, const struct sc_step *st, const struct outcome *o, uint64_t delta)
{
    FILE *f = NULL;
    bool ok = true;
    /* One check per request: its answer against every translation expectation of the step. */
    e->r->checks++;
    for (size_t i = 0; i < sizeof dma_checks / sizeof dma_checks[0]; i++)
        ok &= dma_checks[i](&st->expect, o, delta, &f, e, st);
    if (!ok)
        describe_dma(e, o, f);
}

static int do_dma(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    const struct sc_device *dev = step_dev(e, st);
    uint64_t pasid = ARG_OR(st, A_PASID, UINT64_MAX), addr = ARGV(st, A_ADDR), size = ARG_OR(st, A_SIZE, 1);
    o->is_dma = true;
    o->req = (struct vtd_request){.sid = dev->cfg.sid, .pasid_valid = pasid != UINT64_MAX,
                                  .pasid = pasid != UINT64_MAX ? (uint32_t)pasid : 0, .addr = addr,
                                  .access = (unsigned)ARGV(st, A_ACCESS), .priv = ARG_OR(st, A_PRIV, 0),
                                  .kind = (enum vtd_req_kind)ARG_OR(st, A_ATS, VTD_REQ_UNTRANSLATED)};
    /* One request per 4 KiB page the range touches. */
    uint64_t first = addr & VTD_PAGE_MASK, last = (addr + size - 1) & VTD_PAGE_MASK;
    for (uint64_t page = first;; page += VTD_PAGE_SIZE) {
        o->req.addr = page == first ? addr : page;
        if (st->has_expect) {
            e->trace.n = e->trace.dropped = 0;
            vtd_iommu_set_trace(e->io, &e->trace);
        }
        o->fault = vtd_iommu_dma(e->io, &o->req, &o->res);
        vtd_iommu_set_trace(e->io, NULL);
        e->r->requests++;
        if (st->has_expect)
            check_dma(e, st, o, o->req.addr - addr);
        if (page == last)
            break;
    }
    return 0;
}

static int do_nothing(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)e, (void)st, (void)o;
    return 0;
}

static void run_steps(struct ex *e, const struct sc_step *steps, unsigned n, bool top);

static int do_repeat(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    (void)o;
    for (uint64_t i = 0; i < ARGV(st, A_COUNT); i++)
        run_steps(e, st->sub, st->nsub, false);
    return 0;
}

/* uAPI steps (runner/uapi.c): the ioctl's return value is the step's value. */
static int do_uapi(struct ex *e, const struct sc_step *st, struct outcome *o)
{
    long long ret = 0;
    o->err_what = sc_kind_name(st->kind);
    if (!e->c) {
        o->err_what = "uAPI step without a `container:` section";
        return -ENODEV;
    }
    const struct vtd_pt *gpt = HAS(st, A_TABLE) ? &e->pt[ARGV(st, A_TABLE)] : NULL;
    uint16_t sid = HAS(st, A_DEVICE) ? e->s->dev[ARGV(st, A_DEVICE)].cfg.sid : 0;
    int rc = sc_uapi_step(e->c, st, gpt, sid, &ret);
    if (st->kind == SK_UNBIND || st->kind == SK_CACHE_INVALIDATE) {
        o->has_layer_err = true;
        o->layer_err = sc_uapi_layer_error(e->c);
    }
    if (st->kind == SK_HWPT_INVALIDATE) {
        o->has_entry_num = true;
        o->entry_num = (uint64_t)ret;
    }
    if (!rc) {
        o->has_value = true;
        o->value = (uint64_t)ret;
    }
    return rc;
}

typedef int (*step_fn)(struct ex *e, const struct sc_step *st, struct outcome *o);
static const step_fn step_handlers[] = {
    [SK_ATTACH] = do_attach, [SK_PASID_ENTRY] = do_pasid_entry, [SK_PASID_CLEAR] = do_pasid_clear,
    [SK_MAP] = do_map, [SK_UNMAP] = do_unmap, [SK_PROTECT] = do_protect, [SK_DMA] = do_dma, [SK_QI] = do_qi,
    [SK_WRITE_ROOT] = do_write_root, [SK_WRITE_CONTEXT] = do_write_context, [SK_WRITE_PDIR] = do_write_pdir,
    [SK_WRITE_PASID] = do_write_pasid, [SK_WRITE_PTE] = do_write_pte, [SK_WRITE_MEM] = do_write_mem,
    [SK_REG_WRITE] = do_reg_write, [SK_REG_READ] = do_reg_read, [SK_CHECK] = do_nothing, [SK_REPEAT] = do_repeat,
    [SK_CONTAINER_ATTACH] = do_uapi, [SK_GET_INFO] = do_uapi, [SK_MAP_DMA] = do_uapi, [SK_UNMAP_DMA] = do_uapi,
    [SK_PASID_REQUEST] = do_uapi, [SK_BIND] = do_uapi, [SK_UNBIND] = do_uapi, [SK_CACHE_INVALIDATE] = do_uapi,
    [SK_PAGE_RESPONSE] = do_uapi, [SK_HWPT_ALLOC] = do_uapi, [SK_HWPT_INVALIDATE] = do_uapi,
};

/* ---- generic expectations (every step kind) ---- */

static uint64_t counter_value(struct ex *e, const struct sc_counter_expect *c)
{
    if (c->cache < 0) {
        const struct vtd_iommu_stats *g = vtd_iommu_stats(e->io);
        const uint64_t vals[] = {g->requests, g->faults, g->stale, g->walks, g->walk_reads, g->warnings};
        return vals[c->counter - 8];
    }
    const struct vtd_cache *cache = c->cache == VTD_C_DEVTLB ? vtd_iommu_devtlb(e->io, e->s->dev[c->device].cfg.sid)
                                                             : vtd_iommu_cache(e->io, (enum vtd_cache_id)c->cache);
    if (!cache)
        return 0;
    const struct vtd_cache_stats *s = vtd_cache_stats(cache);
    const uint64_t vals[] = {s->lookups, s->hits, s->misses, s->fills, s->evictions, s->invalidated,
                             s->over_invalidated, s->stale_hits};
    return vals[c->counter];
}

static void check_errno(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    int exp = x->given[E_ERRNO] ? (int)x->v[E_ERRNO] : 0;
    e->r->checks++;
    if (-o->err == exp)
        return;
    if (x->given[E_ERRNO])
        fprintf(want(e, st, f), "    expected errno %s, got %s\n", sc_errno_name(exp), sc_errno_name(-o->err));
    else
        fprintf(want(e, st, f), "    %s failed: %s (%s)\n", o->err_what ? o->err_what : sc_kind_name(st->kind),
                sc_errno_name(-o->err), strerror(-o->err));
    if (o->is_qi && o->qi.why[0])
        fprintf(*f, "    invalidation queue error: %s\n", o->qi.why);
}

static bool warning_since(struct ex *e, uint64_t from, const char *needle)
{
    for (uint64_t i = from; i < vtd_iommu_warning_count(e->io); i++) {
        const char *w = vtd_iommu_warning(e->io, i);
        if (w && strstr(w, needle))
            return true;
    }
    return false;
}

static void list_warnings(struct ex *e, uint64_t from, FILE *f)
{
    for (uint64_t i = from; i < vtd_iommu_warning_count(e->io); i++) {
        const char *w = vtd_iommu_warning(e->io, i);
        fprintf(f, "    warning: %s\n", w ? w : "(no longer kept)");
    }
}

static void check_warnings(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    uint64_t raised = vtd_iommu_warning_count(e->io) - o->warnings_before;
    if (x->given[E_WARNINGS]) {
        e->r->checks++;
        if (raised != x->v[E_WARNINGS]) {
            fprintf(want(e, st, f), "    expected %llu warning(s) from this step, got %llu\n",
                    (unsigned long long)x->v[E_WARNINGS], (unsigned long long)raised);
            list_warnings(e, o->warnings_before, *f);
        }
    }
    if (x->given[E_WARNING]) {
        e->r->checks++;
        if (!warning_since(e, o->warnings_before, x->warning)) {
            fprintf(want(e, st, f), "    expected a warning containing \"%s\"\n", x->warning);
            list_warnings(e, o->warnings_before, *f);
        }
    }
}

/* "iotlb hits", "devtlb of nic hits", "requests". */
static void counter_label(const struct ex *e, const struct sc_counter_expect *c, char *buf, size_t len)
{
    if (c->cache < 0)
        snprintf(buf, len, "%s", sc_counter_name(c->counter));
    else if (c->cache == VTD_C_DEVTLB)
        snprintf(buf, len, "devtlb of %s %s", e->s->dev[c->device].name, sc_counter_name(c->counter));
    else
        snprintf(buf, len, "%s %s", sc_cache_key_name(c->cache), sc_counter_name(c->counter));
}

static void check_counters(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nstats; i++) {
        const struct sc_counter_expect *c = &x->stats[i];
        uint64_t got = counter_value(e, c);
        char label[96];
        e->r->checks++;
        counter_label(e, c, label, sizeof label);
        if (got != c->value)
            fprintf(want(e, st, f), "    expected %s = %llu, got %llu\n", label, (unsigned long long)c->value,
                    (unsigned long long)got);
    }
}

static void check_mem(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nmem; i++) {
        const struct sc_mem_expect *m = &x->mem[i];
        uint64_t got = 0;
        e->r->checks++;
        int rc = vtd_mem_read(vtd_iommu_mem(e->io), m->addr, &got, m->bytes);
        if (rc || got != m->value)
            fprintf(want(e, st, f), "    expected memory at 0x%llx (%u bytes) = 0x%llx, got %s0x%llx\n",
                    (unsigned long long)m->addr, m->bytes, (unsigned long long)m->value, rc ? "a read error, " : "",
                    (unsigned long long)got);
    }
}

static void check_misc(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    if (x->given[E_PENDING_FAULTS]) {
        unsigned got = vtd_iommu_pending_faults(e->io);
        e->r->checks++;
        if (got != x->v[E_PENDING_FAULTS])
            fprintf(want(e, st, f), "    expected %llu pending fault record(s), got %u\n",
                    (unsigned long long)x->v[E_PENDING_FAULTS], got);
    }
    if (x->given[E_VALUE]) {
        e->r->checks++;
        if (!o->has_value || o->value != x->v[E_VALUE])
            fprintf(want(e, st, f), "    expected value 0x%llx, got 0x%llx\n", (unsigned long long)x->v[E_VALUE],
                    (unsigned long long)o->value);
    }
    if (x->given[E_ENTRY_NUM]) {
        e->r->checks++;
        if (!o->has_entry_num || o->entry_num != x->v[E_ENTRY_NUM])
            fprintf(want(e, st, f), "    expected entry_num %llu, got %llu\n", (unsigned long long)x->v[E_ENTRY_NUM],
                    (unsigned long long)o->entry_num);
    }
    if (x->given[E_IOMMU_ERRNO]) {
        e->r->checks++;
        if (!o->has_layer_err || -o->layer_err != (int)x->v[E_IOMMU_ERRNO])
            fprintf(want(e, st, f), "    expected iommu_errno %s, got %s\n", sc_errno_name((int)x->v[E_IOMMU_ERRNO]),
                    sc_errno_name(-o->layer_err));
    }
    for (unsigned i = 0; o->is_qi && i < x->nremoved; i++) {
        const struct sc_counter_expect *c = &x->removed[i];
        e->r->checks++;
        if (o->qi.removed[c->cache] != c->value)
            fprintf(want(e, st, f), "    expected %llu %s entr%s removed, got %u\n", (unsigned long long)c->value,
                    sc_cache_key_name(c->cache), c->value == 1 ? "y" : "ies", o->qi.removed[c->cache]);
    }
}

/* Whether fault-recording register r->v[FR_INDEX] holds a pending fault with the fields given. */
static bool frec_matches(struct ex *e, const struct sc_frec_expect *r, struct vtd_fault_record *got)
{
    if (vtd_iommu_read_fault_record(e->io, (unsigned)r->v[FR_INDEX], got) || !got->pending)
        return false;
    uint64_t pasid = got->pasid_present ? got->pasid : UINT64_MAX;
    const uint64_t have[FR_MAX] = {
        [FR_INDEX] = r->v[FR_INDEX], [FR_REASON] = got->reason,
        [FR_DEVICE] = r->given[FR_DEVICE] && e->s->dev[r->v[FR_DEVICE]].cfg.sid == got->sid ? r->v[FR_DEVICE] : UINT64_MAX,
        [FR_PASID] = pasid, [FR_ADDR] = got->addr, [FR_WRITE] = got->is_write};
    for (unsigned f = 0; f < FR_MAX; f++)
        if (r->given[f] && have[f] != r->v[f])
            return false;
    return true;
}

static void check_fault_records(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    for (unsigned i = 0; i < x->nfrec; i++) {
        struct vtd_fault_record got = {0};
        char a[48], b[48];
        e->r->checks++;
        if (frec_matches(e, &x->frec[i], &got))
            continue;
        fprintf(want(e, st, f), "    expected fault record %llu: reason %s%s; got %s: reason %s, sid %02x:%02x.%x, pasid %s%u, addr 0x%llx, %s\n",
                (unsigned long long)x->frec[i].v[FR_INDEX],
                x->frec[i].given[FR_REASON] ? fault_str((int)x->frec[i].v[FR_REASON], a) : "any",
                x->frec[i].given[FR_ADDR] || x->frec[i].given[FR_PASID] || x->frec[i].given[FR_DEVICE] ? " (and the fields given)" : "",
                got.pending ? "pending" : "not pending", fault_str(got.reason, b), got.sid >> 8, (got.sid >> 3) & 0x1f,
                got.sid & 7, got.pasid_present ? "" : "none ", got.pasid_present ? got.pasid : 0,
                (unsigned long long)got.addr, got.is_write ? "write" : "read");
    }
}

/* The container's fault queue, drained: the records must be exactly those listed. */
static void check_uapi_faults(struct ex *e, const struct sc_step *st, FILE **f)
{
    const struct sc_expect *x = &st->expect;
    struct sc_ufault got[SC_MAX_LIST + 1];
    if (!x->has_ufault)
        return;
    unsigned n = e->c ? sc_uapi_read_faults(e->c, got, SC_MAX_LIST + 1) : 0;
    bool ok = n == x->nufault;
    for (unsigned i = 0; ok && i < n; i++) {
        const struct sc_ufault_expect *u = &x->ufault[i];
        uint64_t pasid = (got[i].flags & 1u) ? got[i].pasid : UINT64_MAX; /* PASID_VALID is bit 0 */
        ok = (!u->given[UF_REASON] || u->v[UF_REASON] == got[i].reason) && (!u->given[UF_PASID] || u->v[UF_PASID] == pasid) &&
             (!u->given[UF_ADDR] || u->v[UF_ADDR] == got[i].addr) && (!u->given[UF_TYPE] || u->v[UF_TYPE] == got[i].type) &&
             (!u->given[UF_GRPID] || u->v[UF_GRPID] == got[i].grpid);
    }
    e->r->checks++;
    if (ok)
        return;
    fprintf(want(e, st, f), "    expected %u uAPI fault record(s) as listed, got %u:\n", x->nufault, n);
    for (unsigned i = 0; i < n; i++)
        fprintf(*f, "      type %u reason %u flags 0x%x pasid %u grpid %u addr 0x%llx\n", got[i].type, got[i].reason,
                got[i].flags, got[i].pasid, got[i].grpid, (unsigned long long)got[i].addr);
}

static void check_step(struct ex *e, const struct sc_step *st, const struct outcome *o)
{
    FILE *f = NULL;
    /* A failing operation is a failure even without expectations, unless an errno is expected. */
    if (o->err || (st->has_expect && st->expect.given[E_ERRNO]))
        check_errno(e, st, o, &f);
    if (!st->has_expect)
        return;
    check_warnings(e, st, o, &f);
    check_counters(e, st, &f);
    check_mem(e, st, &f);
    check_misc(e, st, o, &f);
    check_fault_records(e, st, &f);
    check_uapi_faults(e, st, &f);
}

static void run_step(struct ex *e, const struct sc_step *st)
{
    struct outcome o = {.warnings_before = vtd_iommu_warning_count(e->io)};
    uint64_t enomem_before = model_enomem(e);
    o.err = table_ready(e, st, A_TABLE, &o.err_what);
    if (!o.err)
        o.err = table_ready(e, st, A_SS_TABLE, &o.err_what);
    if (!o.err)
        o.err = step_handlers[st->kind](e, st, &o);
    /* Remembered for sc_run_until: a step that could not execute, as opposed to a missed check. */
    if (o.err && !st->expect.given[E_ERRNO] && !e->bad_step)
        e->bad_step = e->step_no;
    if (st->kind != SK_REPEAT)
        check_step(e, st, &o);
    /* A repeat's steps report for themselves; an expected ENOMEM is an answer, not a failure. */
    bool enomem_expected = st->has_expect && st->expect.given[E_ERRNO] && st->expect.v[E_ERRNO] == ENOMEM;
    if (st->kind != SK_REPEAT && ((o.err == -ENOMEM && !enomem_expected) || model_enomem(e) != enomem_before))
        report_enomem(e, st);
    step_done(e, st);
}

static void run_steps(struct ex *e, const struct sc_step *steps, unsigned n, bool top)
{
    for (unsigned i = 0; i < n; i++) {
        if (top) {
            e->step_no = i + 1;
            e->r->steps++;
        }
        vtd_iommu_set_step(e->io, e->step_no);
        run_step(e, &steps[i]);
    }
}

/* ---- statistics ---------------------------------------------------------------------------- */

static void stats_row(FILE *f, const char *name, const struct vtd_cache_stats *s)
{
    fprintf(f, "  %-14s %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu\n", name, (unsigned long long)s->lookups,
            (unsigned long long)s->hits, (unsigned long long)s->misses, (unsigned long long)s->fills,
            (unsigned long long)s->evictions, (unsigned long long)s->invalidated,
            (unsigned long long)s->over_invalidated, (unsigned long long)s->stale_hits);
}

static char *stats_text(struct ex *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "  %-14s %9s %9s %9s %9s %9s %9s %9s %9s\n", "cache", "lookups", "hits", "misses", "fills", "evicted",
            "invalid.", "over-inv.", "stale");
    for (int c = 0; c < VTD_C_NCACHES; c++)
        stats_row(f, sc_cache_key_name(c), vtd_cache_stats(vtd_iommu_cache(e->io, (enum vtd_cache_id)c)));
    for (unsigned d = 0; d < e->s->ndev; d++) {
        struct vtd_cache *t = vtd_iommu_devtlb(e->io, e->s->dev[d].cfg.sid);
        char name[64];
        snprintf(name, sizeof name, "devtlb %s", e->s->dev[d].name);
        if (t)
            stats_row(f, name, vtd_cache_stats(t));
    }
    const struct vtd_iommu_stats *g = vtd_iommu_stats(e->io);
    fprintf(f, "  requests %llu, faults %llu, stale %llu, walks %llu (%.1f reads each), warnings %llu\n",
            (unsigned long long)g->requests, (unsigned long long)g->faults, (unsigned long long)g->stale,
            (unsigned long long)g->walks, g->walks ? (double)g->walk_reads / (double)g->walks : 0.0,
            (unsigned long long)g->warnings);
    fclose(f);
    return buf;
}

/* ---- entry points ---------------------------------------------------------------------------- */

bool sc_run(const struct scenario *s, const struct sc_run_opts *o, struct sc_result *r)
{
    struct ex e = {.s = s, .r = r, .max_frames = o ? o->max_frames : 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!r->path)
        r->path = result_strdup(r, s->path);
    r->name = result_strdup(r, s->name);
    if (setup(&e)) {
        run_steps(&e, s->steps, s->nsteps, true);
        if (o && o->stats)
            r->stats = stats_text(&e);
    }
    teardown(&e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return sc_result_passed(r);
}

int sc_run_until(const struct scenario *s, unsigned upto, struct sc_result *r, unsigned *bad_step,
                 sc_inspect_fn fn, void *arg)
{
    struct ex e = {.s = s, .r = r};
    int rc = -EIO;
    if (upto > s->nsteps)
        return -ERANGE;
    if (!r->path)
        r->path = result_strdup(r, s->path);
    if (setup(&e)) {
        run_steps(&e, s->steps, upto, true);
        if (bad_step)
            *bad_step = e.bad_step;
        rc = e.bad_step ? -EIO : fn(e.io, e.rtaddr, arg);
    }
    teardown(&e);
    return rc;
}

bool sc_run_file(const char *path, const struct sc_run_opts *o, struct sc_result *r)
{
    struct sc_error err;
    *r = (struct sc_result){0};
    r->path = result_strdup(r, path);
    struct scenario *s = sc_load_file(path, &err);
    if (!s) {
        char buf[512];
        sc_error_format(path, &err, buf, sizeof buf);
        r->load_error = result_strdup(r, buf);
        r->failed = 1;
        return false;
    }
    bool ok = sc_run(s, o, r);
    sc_free(s);
    return ok;
}

bool sc_result_passed(const struct sc_result *r) { return !r->failed && !r->load_error; }

void sc_result_free(struct sc_result *r)
{
    vtd_free(r->path);
    vtd_free(r->name);
    vtd_free(r->load_error);
    free(r->stats); /* open_memstream buffers come from libc */;
    for (unsigned i = 0; i < r->nfail; i++)
        free(r->fail[i].text);
    *r = (struct sc_result){0};
}

void sc_result_print(const struct sc_result *r, FILE *out)
{
    if (r->out_of_memory)
        fprintf(out, "%s: out of memory (ENOMEM)\n", r->path ? r->path : "?");
    if (r->load_error)
        fprintf(out, "%s\n", r->load_error);
    for (unsigned i = 0; i < r->nfail; i++)
        fputs(r->fail[i].text, out);
    if (r->failed > r->nfail && r->nfail == SC_MAX_FAILURES_KEPT)
        fprintf(out, "%s: ... more failed expectations not shown\n", r->path);
}
