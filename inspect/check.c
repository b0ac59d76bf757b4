/*
 * check.c: the structural audit. Each present entry is checked where the walk would check it
 * (VT-d 9.2-9.8: reserved bits, pointers against the host address width), and additionally
 * against the image's extent; each paging table is read once however many address spaces use
 * it. The cross-entry checks (DIDs, shared tables) run on the list of usable PASID entries.
 */
#include "inspect/check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "inspect/addrset.h"
#include "inspect/pt_read.h"
#include "inspect/structs.h"
#include "walker/alloc.h"
#include "walker/bdf.h"
#include "walker/fault.h"
#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/ss_entry.h"

/* One usable PASID entry, for the cross-entry checks. */
struct pasid_use {
    uint16_t sid, did;
    uint32_t pasid;
    unsigned pgtt;
    uint64_t addr, fs, ss;   /* the tables its PGTT uses (0: none) */
};

struct audit {
    const struct vtd_inspect *in;
    vtd_insp_finding_fn fn;
    void *arg;
    struct vtd_insp_check_stats *st;
    struct vtd_walk_env env;
    struct vtd_insp_addrset seen;
    struct pasid_use *use;
    size_t nuse, capuse;
    int rc;
    /* The requester being audited, named in findings. */
    bool has_sid, has_pasid;
    uint16_t sid;
    uint32_t pasid;
    const struct vtd_pasid_cfg *pe;
};

static const char *const kind_names[VTD_INSP_NKINDS] = {
    [VTD_INSP_RSVD] = "reserved",         [VTD_INSP_BEYOND_HAW] = "beyond-haw",
    [VTD_INSP_BEYOND_IMAGE] = "beyond-image", [VTD_INSP_WOULD_FAULT] = "would-fault",
    [VTD_INSP_DID_TABLES] = "did-tables",   [VTD_INSP_SHARED_TABLE] = "shared-table",
};

const char *vtd_insp_finding_kind_name(enum vtd_insp_finding_kind k)
{
    return (unsigned)k < VTD_INSP_NKINDS ? kind_names[k] : "?";
}

__attribute__((format(printf, 6, 7)))
static void report(struct audit *a, enum vtd_insp_finding_kind kind, const char *structure, uint64_t addr,
                   int fault, const char *fmt, ...)
{
    if (a->rc)
        return;
    struct vtd_insp_finding f = {.kind = kind, .structure = structure, .addr = addr, .fault = fault,
                                 .has_sid = a->has_sid, .has_pasid = a->has_pasid, .sid = a->sid,
                                 .pasid = a->pasid};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.text, sizeof f.text, fmt, ap);
    va_end(ap);
    a->st->findings++;
    a->st->by_kind[kind]++;
    a->rc = a->fn(a->arg, &f);
}

/* A pointer to a structure of `len` bytes: beyond HAW (fault `haw_code`) or the image (`img_code`). */
static bool check_pointer(struct audit *a, const char *structure, uint64_t addr, uint64_t ptr, uint64_t len,
                          int haw_code, int img_code)
{
    if (vtd_inspect_beyond_haw(a->in, ptr)) {
        report(a, VTD_INSP_BEYOND_HAW, structure, addr, haw_code, "points at 0x%" PRIx64 ", beyond the %u-bit host address width",
               ptr, a->in->caps.haw);
        return false;
    }
    if (!vtd_inspect_in_image(a->in, ptr, len)) {
        report(a, VTD_INSP_BEYOND_IMAGE, structure, addr, img_code, "points at 0x%" PRIx64 ", outside the memory image",
               ptr);
        return false;
    }
    return true;
}

/* ---- root, context, PASID-directory and PASID entries ---- */

static int on_root(void *arg, const struct vtd_insp_root *r)
{
    struct audit *a = arg;
    a->st->entries++;
    a->has_sid = a->has_pasid = false;
    const char *name = r->hi ? "root entry (devfn 128-255)" : "root entry (devfn 0-127)";
    if (r->val & VTD_ROOT_RSVD_LOW)
        report(a, VTD_INSP_RSVD, name, r->addr, VTD_FR_ROOT_RSVD, "bus %02x: reserved bits 0x%" PRIx64 " set",
               r->bus, r->val & VTD_ROOT_RSVD_LOW);
    else
        check_pointer(a, name, r->addr, r->val & VTD_ROOT_CTP, VTD_PAGE_SIZE, VTD_FR_ROOT_RSVD, VTD_FR_CTX_ACCESS);
    return a->rc;
}

/* Requests without PASID use RID_PASID's entry: a context whose RID_PASID leads nowhere faults on them. */
static void check_rid_pasid(struct audit *a, const struct vtd_insp_device *d)
{
    struct vtd_pasid_cfg pe;
    struct vtd_fault_info f = {0};
    int rc = vtd_pasid_fetch(&a->env, &d->ctx, d->ctx.rid_pasid, &pe, &f);
    if (rc == VTD_FR_CTX_PDTS || rc == VTD_FR_PDIR_P || rc == VTD_FR_PASID_P)
        report(a, VTD_INSP_WOULD_FAULT, "context entry", d->addr, rc,
               "RID_PASID %" PRIu32 " has no present PASID entry: requests without PASID fault (%s)",
               d->ctx.rid_pasid, vtd_fault_name(rc));
}

static int on_device(void *arg, const struct vtd_insp_device *d)
{
    struct audit *a = arg;
    const uint64_t *q = d->raw.qw;
    a->st->entries++;
    a->has_sid = true;
    a->has_pasid = false;
    a->sid = d->sid;
    if ((q[0] & VTD_CTX_RSVD0) || (q[1] & VTD_CTX_RSVD1) || q[2] || q[3])
        report(a, VTD_INSP_RSVD, "context entry", d->addr, VTD_FR_CTX_RSVD,
               "reserved bits set (qw0 0x%" PRIx64 ", qw1 0x%" PRIx64 ", qw2 0x%" PRIx64 ", qw3 0x%" PRIx64 ")",
               q[0] & VTD_CTX_RSVD0, q[1] & VTD_CTX_RSVD1, q[2], q[3]);
    else if (d->fault == VTD_FR_CTX_RSVD)
        check_pointer(a, "context entry", d->addr, q[0] & VTD_CTX_PDTP, 8, VTD_FR_CTX_RSVD, 0);
    else if (d->fault)
        report(a, VTD_INSP_WOULD_FAULT, "context entry", d->addr, d->fault,
               "enables what the capabilities lack (PRE without ECAP.PRS or DTE without ECAP.DT)");
    else if (check_pointer(a, "context entry", d->addr, d->ctx.pdtp,
                           (uint64_t)vtd_ctx_pdir_entries(&d->ctx) * VTD_PDIR_ENTRY_SIZE, VTD_FR_CTX_RSVD,
                           VTD_FR_PDIR_ACCESS))
        check_rid_pasid(a, d);
    return a->rc;
}

static int on_pdir(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pdir *p)
{
    struct audit *a = arg;
    (void)d;
    a->st->entries++;
    a->has_pasid = false;
    if (p->val & VTD_PDIR_RSVD)
        report(a, VTD_INSP_RSVD, "PASID directory entry", p->addr, VTD_FR_PDIR_RSVD,
               "PASIDs 0x%" PRIx32 "-0x%" PRIx32 ": reserved bits 0x%" PRIx64 " set", p->index << 6,
               (p->index << 6) | 63, p->val & VTD_PDIR_RSVD);
    else
        check_pointer(a, "PASID directory entry", p->addr, p->val & VTD_PDIR_PTP, VTD_PAGE_SIZE, VTD_FR_PDIR_RSVD,
                      VTD_FR_PASID_ACCESS);
    return a->rc;
}

/* ---- paging tables ---- */

static void audit_ss_table(struct audit *a, uint64_t table, unsigned level);
static void audit_fs_table(struct audit *a, uint64_t table, unsigned level);

/* The table's key in the set of tables read: its address, level and format in the low bits. */
static bool first_visit(struct audit *a, uint64_t table, unsigned level, bool fs)
{
    int r = vtd_insp_addrset_add(&a->seen, (table & VTD_PAGE_MASK) | (uint64_t)level << 1 | fs);
    if (r < 0 && !a->rc)
        a->rc = -ENOMEM;
    if (r == 1)
        a->st->tables++;
    return r == 1;
}

static const char *level_name(bool fs, unsigned level)
{
    static const char *const names[2][VTD_PT_LEVEL_SLOTS] = {
        {"", "SS L1 entry", "SS L2 entry", "SS L3 entry", "SS L4 entry", "SS L5 entry"},
        {"", "FS L1 entry", "FS L2 entry", "FS L3 entry", "FS L4 entry", "FS L5 entry"},
    };
    return names[fs][level];
}

/* One present paging entry: reserved bits, then the address against the width. */
static bool audit_pt_entry(struct audit *a, bool fs, unsigned level, uint64_t addr, uint64_t e, uint64_t rsvd,
                           uint64_t addr_field, unsigned width)
{
    uint64_t above = addr_field & vtd_bits_above(width);
    const char *name = level_name(fs, level);
    int code = fs ? VTD_FR_FS_RSVD : VTD_FR_SS_RSVD;
    a->st->entries++;
    if (rsvd & ~above) {
        report(a, VTD_INSP_RSVD, name, addr, code, "reserved bits 0x%" PRIx64 " set in 0x%016" PRIx64,
               rsvd & ~above, e);
        return false;
    }
    if (e & above) {
        report(a, VTD_INSP_BEYOND_HAW, name, addr, code, "address 0x%" PRIx64 " beyond the %u-bit width",
               e & addr_field, width);
        return false;
    }
    return true;
}

static void audit_ss_table(struct audit *a, uint64_t table, unsigned level)
{
    uint64_t ent[VTD_INSP_PT_ENTRIES];
    if (!first_visit(a, table, level, false))
        return;
    vtd_insp_read_table(a->in->mem, table, ent);
    for (unsigned i = 0; i < VTD_INSP_PT_ENTRIES && !a->rc; i++) {
        uint64_t e = ent[i], addr = table + 8u * i;
        if (!vtd_ss_entry_present(e, a->pe->ssee))
            continue;
        if (!audit_pt_entry(a, false, level, addr, e, e & vtd_ss_entry_rsvd_mask(e, level, &a->in->caps), VTD_SS_ADDR,
                            a->in->caps.haw) || vtd_ss_entry_is_leaf(e, level))
            continue;
        uint64_t next = vtd_ss_entry_addr(e, level);
        if (check_pointer(a, level_name(false, level), addr, next, VTD_PAGE_SIZE, VTD_FR_SS_RSVD, VTD_FR_SS_ACCESS))
            audit_ss_table(a, next, level - 1);
    }
}

/* Where a first-stage table is: host-physical, or (nested) through the second stage. */
static bool fs_table_hpa(struct audit *a, uint64_t table, unsigned level, uint64_t ref, uint64_t *hpa)
{
    if (a->pe->pgtt != VTD_PGTT_NESTED) {
        *hpa = table;
        return true;
    }
    struct vtd_stage_result r;
    struct vtd_fault_info f = {0};
    if (!vtd_ss_walk(&a->env, a->pe, table, VTD_ACC_R, &r, &f)) {
        *hpa = r.out & VTD_PAGE_MASK;
        return true;
    }
    /* The nested walk reports a table the second stage does not let it read as 75h/76h (VT-d 7.1.3). */
    int code = level == a->pe->fs_levels ? VTD_FR_FS_NEST_PTR_READ : VTD_FR_FS_NEST_READ;
    report(a, VTD_INSP_WOULD_FAULT, level == a->pe->fs_levels ? "PASID entry" : level_name(true, level + 1), ref,
           code, "the first-stage L%u table at GPA 0x%" PRIx64 " is not readable through the second stage (%s)", level,
           table, vtd_fault_name(f.code) ? vtd_fault_name(f.code) : "?");
    return false;
}

static void audit_fs_entries(struct audit *a, uint64_t hpa, unsigned level)
{
    uint64_t ent[VTD_INSP_PT_ENTRIES];
    bool nested = a->pe->pgtt == VTD_PGTT_NESTED;
    unsigned width = nested ? 52 : a->in->caps.haw;
    vtd_insp_read_table(a->in->mem, hpa, ent);
    for (unsigned i = 0; i < VTD_INSP_PT_ENTRIES && !a->rc; i++) {
        uint64_t e = ent[i], addr = hpa + 8u * i;
        if (!vtd_fs_entry_present(e))
            continue;
        if (!audit_pt_entry(a, true, level, addr, e, e & vtd_fs_entry_rsvd_mask(e, level, &a->in->caps, 64),
                            VTD_FS_ADDR, width) || vtd_fs_entry_is_leaf(e, level))
            continue;
        uint64_t next = vtd_fs_entry_addr(e, level), next_hpa;
        if (!fs_table_hpa(a, next, level - 1, addr, &next_hpa))
            continue;
        if (check_pointer(a, level_name(true, level), addr, next_hpa, VTD_PAGE_SIZE, VTD_FR_FS_RSVD,
                          VTD_FR_FS_ACCESS))
            audit_fs_table(a, next_hpa, level - 1);
    }
}

static void audit_fs_table(struct audit *a, uint64_t hpa, unsigned level)
{
    if (first_visit(a, hpa, level, true))
        audit_fs_entries(a, hpa, level);
}

static int remember_use(struct audit *a, const struct vtd_insp_device *d, const struct vtd_insp_pasid *p)
{
    if (a->nuse == a->capuse) {
        size_t cap = a->capuse ? a->capuse * 2 : 64;
        struct pasid_use *u = vtd_realloc(a->use, cap * sizeof *u);
        if (!u)
            return -ENOMEM;
        a->use = u;
        a->capuse = cap;
    }
    const struct vtd_pasid_cfg *c = &p->cfg;
    a->use[a->nuse++] = (struct pasid_use){.sid = d->sid, .did = c->did, .pasid = p->pasid, .pgtt = c->pgtt,
                                           .addr = p->addr, .fs = vtd_pgtt_uses_fs(c->pgtt) ? c->fsptptr : 0,
                                           .ss = vtd_pgtt_uses_ss(c->pgtt) ? c->ssptptr : 0};
    return 0;
}

/* The tables a usable PASID entry points at. */
static void audit_pasid_tables(struct audit *a, const struct vtd_insp_pasid *p)
{
    const struct vtd_pasid_cfg *c = &p->cfg;
    a->pe = c;
    if (vtd_pgtt_uses_ss(c->pgtt) &&
        check_pointer(a, "PASID entry", p->addr, c->ssptptr, VTD_PAGE_SIZE, VTD_FR_SSPTPTR, VTD_FR_SS_ACCESS))
        audit_ss_table(a, c->ssptptr, c->ss_levels);
    if (c->pgtt == VTD_PGTT_FS &&
        check_pointer(a, "PASID entry", p->addr, c->fsptptr, VTD_PAGE_SIZE, VTD_FR_FSPTPTR, VTD_FR_FS_ACCESS))
        audit_fs_table(a, c->fsptptr, c->fs_levels);
    uint64_t hpa;
    if (c->pgtt == VTD_PGTT_NESTED && fs_table_hpa(a, c->fsptptr, c->fs_levels, p->addr, &hpa) &&
        check_pointer(a, "PASID entry", p->addr, hpa, VTD_PAGE_SIZE, VTD_FR_FSPTPTR, VTD_FR_FS_ACCESS))
        audit_fs_table(a, hpa, c->fs_levels);
}

static int on_pasid(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pasid *p)
{
    struct audit *a = arg;
    a->st->entries++;
    a->has_pasid = true;
    a->pasid = p->pasid;
    if (p->fault == VTD_FR_PASID_RSVD)
        report(a, VTD_INSP_RSVD, "PASID entry", p->addr, p->fault,
               "reserved bits set, or a field whose feature the capabilities lack");
    else if (p->fault)
        report(a, VTD_INSP_WOULD_FAULT, "PASID entry", p->addr, p->fault,
               "PGTT %u, or its paging mode or width, is not supported by the capabilities",
               vtd_pasid_entry_pgtt(&p->raw));
    else if ((a->rc = remember_use(a, d, p)) == 0)
        audit_pasid_tables(a, p);
    return a->rc;
}

/* ---- across PASID entries ---- */

static int by_did(const void *x, const void *y)
{
    const struct pasid_use *a = x, *b = y;
    if (a->did != b->did)
        return a->did < b->did ? -1 : 1;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static void name_use(struct audit *a, const struct pasid_use *u)
{
    a->has_sid = a->has_pasid = true;
    a->sid = u->sid;
    a->pasid = u->pasid;
}

/* Entries of one DID must describe one address space: the IOTLB tags translations by DID. */
static void check_dids(struct audit *a)
{
    if (a->nuse < 2)
        return;
    qsort(a->use, a->nuse, sizeof *a->use, by_did);
    for (size_t i = 0; i + 1 < a->nuse && !a->rc; i++) {
        const struct pasid_use *u = &a->use[i], *v = &a->use[i + 1];
        if (u->did != v->did || (u->pgtt == v->pgtt && u->fs == v->fs && u->ss == v->ss))
            continue;
        name_use(a, v);
        report(a, VTD_INSP_DID_TABLES, "PASID entry", v->addr, 0,
               "DID %u also names %s PASID %" PRIu32 " (entry 0x%" PRIx64 ") with other tables (PGTT %u FS 0x%" PRIx64
               " SS 0x%" PRIx64 " here, PGTT %u FS 0x%" PRIx64 " SS 0x%" PRIx64 "): no fault, but either may be served "
               "the other's cached translations",
               u->did, vtd_bdf_format(u->sid).s, u->pasid, u->addr, v->pgtt, v->fs, v->ss, u->pgtt, u->fs, u->ss);
        /* One finding per DID: skip the rest of the group. */
        while (i + 1 < a->nuse && a->use[i + 1].did == u->did)
            i++;
    }
}

/* A table and the DID of one entry that uses it. */
struct table_use {
    uint64_t table;
    const struct pasid_use *u;
};

static int by_table(const void *x, const void *y)
{
    const struct table_use *a = x, *b = y;
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    return a->u->did < b->u->did ? -1 : a->u->did > b->u->did;
}

/* One table under two DIDs: invalidating one domain's caches leaves the other's stale. */
static int check_sharing(struct audit *a)
{
    if (a->nuse < 2)
        return 0;
    struct table_use *t = vtd_calloc(2 * a->nuse, sizeof *t);
    size_t n = 0;
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < a->nuse; i++) {
        if (a->use[i].fs)
            t[n++] = (struct table_use){a->use[i].fs, &a->use[i]};
        if (a->use[i].ss)
            t[n++] = (struct table_use){a->use[i].ss, &a->use[i]};
    }
    qsort(t, n, sizeof *t, by_table);
    for (size_t i = 0; i + 1 < n && !a->rc; i++) {
        if (t[i].table != t[i + 1].table || t[i].u->did == t[i + 1].u->did)
            continue;
        name_use(a, t[i + 1].u);
        report(a, VTD_INSP_SHARED_TABLE, "PASID entry", t[i + 1].u->addr, 0,
               "the table at 0x%" PRIx64 " is used under DID %u and DID %u: no fault, but a change to it needs "
               "invalidations for both domains", t[i].table, t[i].u->did, t[i + 1].u->did);
        while (i + 1 < n && t[i + 1].table == t[i].table)
            i++;
    }
    vtd_free(t);
    return 0;
}

int vtd_inspect_check(const struct vtd_inspect *in, vtd_insp_finding_fn fn, void *arg, struct vtd_insp_check_stats *st)
{
    struct audit a = {.in = in, .fn = fn, .arg = arg, .st = st};
    *st = (struct vtd_insp_check_stats){0};
    vtd_inspect_env(in, &a.env);
    int fault;
    uint64_t rta = vtd_inspect_root_table(in, &fault);
    if (fault)
        report(&a, VTD_INSP_WOULD_FAULT, "RTADDR", in->rtaddr, fault,
               "not a scalable-mode root table (TTM %u; reserved bits or the address beyond the %u-bit width)",
               (unsigned)vtd_field(in->rtaddr, VTD_RTADDR_TTM), in->caps.haw);
    else if (check_pointer(&a, "RTADDR", in->rtaddr, rta, VTD_ROOT_ENTRIES * VTD_ROOT_ENTRY_SIZE, VTD_FR_RTADDR_INVALID,
                           VTD_FR_ROOT_ACCESS)) {
        struct vtd_insp_visitor v = {.root = on_root, .device = on_device, .pdir = on_pdir, .pasid = on_pasid, .arg = &a};
        int rc = vtd_inspect_structs(in, &v);
        if (rc && !a.rc)
            a.rc = rc;
        if (!a.rc)
            check_dids(&a);
        if (!a.rc)
            a.rc = check_sharing(&a);
    }
    vtd_insp_addrset_free(&a.seen);
    vtd_free(a.use);
    return a.rc;
}
