/*
 * structs.c: the enumeration of every reachable root, context, PASID-directory and PASID entry
 * (VT-d 9.2, 9.4-9.6): a walk of the tables themselves, not of 2^16 source-ids times 2^20 PASIDs.
 */
#include "inspect/structs.h"

#include <errno.h>

#include "walker/fault.h"
#include "walker/pasid_dir.h"

/* 256 KiB of PASID directory is the most a context entry can name (PDTS 7: 2^14 entries). */
#define INSP_PDIR_MAX_ENTRIES (UINT32_C(1) << 14)

/* A 64-bit read that treats unreadable memory as zero (not present). */
static uint64_t read_or_zero(const struct vtd_inspect *in, uint64_t pa)
{
    uint64_t v;
    return vtd_mem_read64(in->mem, pa, &v) ? 0 : v;
}

static void read_qwords(const struct vtd_inspect *in, uint64_t pa, uint64_t *qw, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        qw[i] = read_or_zero(in, pa + 8u * i);
}

int vtd_insp_root_fault(const struct vtd_inspect *in, uint64_t half)
{
    return half & vtd_root_entry_rsvd_mask(in->caps.haw) ? VTD_FR_ROOT_RSVD : 0;
}

int vtd_insp_pdir_fault(const struct vtd_inspect *in, uint64_t pde)
{
    return pde & vtd_pasid_dir_rsvd_mask(in->caps.haw) ? VTD_FR_PDIR_RSVD : 0;
}

/* The 64 entries of one PASID table. */
static int visit_pasid_table(const struct vtd_inspect *in, const struct vtd_insp_visitor *v,
                             const struct vtd_insp_device *d, const struct vtd_insp_pdir *pd)
{
    uint64_t ptp = pd->val & VTD_PDIR_PTP;
    for (uint32_t i = 0; i < VTD_PASID_TABLE_ENTRIES; i++) {
        struct vtd_insp_pasid p = {.pasid = (pd->index << VTD_PASID_DIR_SHIFT) | i};
        p.addr = vtd_pasid_entry_addr(ptp, p.pasid);
        read_qwords(in, p.addr, p.raw.qw, 8);
        if (!vtd_pasid_entry_present(&p.raw))
            continue;
        p.fault = pasid_entry_decode(&p.raw, &in->caps, &p.cfg);
        int rc = v->pasid ? v->pasid(v->arg, d, &p) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* The directory of one usable context entry. */
static int visit_pasid_dir(const struct vtd_inspect *in, const struct vtd_insp_visitor *v,
                           const struct vtd_insp_device *d, uint64_t *tables)
{
    uint32_t n = vtd_ctx_pdir_entries(&d->ctx);
    if (n > INSP_PDIR_MAX_ENTRIES)
        n = INSP_PDIR_MAX_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        struct vtd_insp_pdir pd = {.index = i, .addr = d->ctx.pdtp + (uint64_t)i * VTD_PDIR_ENTRY_SIZE};
        pd.val = read_or_zero(in, pd.addr);
        if (!(pd.val & VTD_PDIR_P))
            continue;
        if (++*tables > (in->max_pasid_tables ? in->max_pasid_tables : VTD_INSP_MAX_PASID_TABLES))
            return -E2BIG;
        pd.fault = vtd_insp_pdir_fault(in, pd.val);
        int rc = v->pdir ? v->pdir(v->arg, d, &pd) : 0;
        if (!rc && !pd.fault)
            rc = visit_pasid_table(in, v, d, &pd);
        if (rc)
            return rc;
    }
    return 0;
}

/* The 128 context entries one root-entry half points at. */
static int visit_context_table(const struct vtd_inspect *in, const struct vtd_insp_visitor *v,
                               const struct vtd_insp_root *r, uint64_t *tables)
{
    uint64_t ctp = r->val & VTD_ROOT_CTP;
    for (unsigned i = 0; i < 128; i++) {
        uint8_t devfn = (uint8_t)((r->hi ? 0x80 : 0) | i);
        struct vtd_insp_device d = {.sid = (uint16_t)(r->bus << 8 | devfn)};
        d.addr = vtd_ctx_entry_addr(ctp, devfn);
        read_qwords(in, d.addr, d.raw.qw, 4);
        if (!vtd_ctx_entry_present(&d.raw))
            continue;
        d.fault = ctx_entry_decode(&d.raw, &in->caps, &d.ctx);
        int rc = v->device ? v->device(v->arg, &d) : 0;
        if (!rc && !d.fault)
            rc = visit_pasid_dir(in, v, &d, tables);
        if (rc)
            return rc;
    }
    return 0;
}

int vtd_inspect_structs(const struct vtd_inspect *in, const struct vtd_insp_visitor *v)
{
    int fault;
    uint64_t rta = vtd_inspect_root_table(in, &fault), tables = 0;
    if (fault)
        return fault;
    for (unsigned bus = 0; bus < VTD_ROOT_ENTRIES; bus++)
        for (unsigned half = 0; half < 2; half++) {
            struct vtd_insp_root r = {.bus = (uint8_t)bus, .hi = half};
            r.addr = vtd_root_entry_addr(rta, (uint8_t)bus) + 8u * half;
            r.val = read_or_zero(in, r.addr);
            if (!(r.val & VTD_ROOT_P))
                continue;
            int rc = v->root ? v->root(v->arg, &r) : 0;
            if (!rc && !vtd_insp_root_fault(in, r.val))
                rc = visit_context_table(in, v, &r, &tables);
            if (rc)
                return rc;
        }
    return 0;
}
