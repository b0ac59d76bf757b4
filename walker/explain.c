/*
 * explain.c: see explain.h. Field names and positions are those of the structure headers
 * (root_entry.h, context_entry.h, pasid_dir.h, pasid_entry.h, fs_entry.h, ss_entry.h).
 */
#include "walker/explain.h"

#include <inttypes.h>
#include <stdio.h>

#include "walker/context_entry.h"
#include "walker/fs_entry.h"
#include "walker/legacy_ctx_entry.h"
#include "walker/pasid_dir.h"
#include "walker/pasid_entry.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"

static int explain_root(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    (void)m;
    return snprintf(buf, n, "P=%d CTP=0x%" PRIx64 "%s", !!(r->val & VTD_ROOT_P), r->val & VTD_ROOT_CTP,
                    r->legacy ? " (legacy: devfn 0-255)" : "");
}

/* A legacy context entry (VT-d 9.3): both qwords, read again whole. */
static int explain_lctx(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    struct vtd_lctx_entry ce = {0, 0};
    vtd_mem_read(m, r->addr, &ce, sizeof ce);
    unsigned tt = (unsigned)vtd_field(ce.lo, VTD_LCTX_TT), aw = (unsigned)vtd_field(ce.hi, VTD_LCTX_AW);
    return snprintf(buf, n, "legacy P=%d FPD=%d TT=%u (%s) SLPTPTR=0x%" PRIx64 " AW=%u (%u-level SS) DID=%" PRIu64,
                    !!(ce.lo & VTD_LCTX_P), !!(ce.lo & VTD_LCTX_FPD), tt, vtd_lctx_tt_name(tt),
                    ce.lo & VTD_LCTX_SLPTPTR, aw, vtd_lctx_aw_levels(aw), vtd_field(ce.hi, VTD_LCTX_DID));
}

static int explain_ctx(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    if (r->legacy)
        return explain_lctx(m, r, buf, n);
    struct vtd_ctx_entry ce = {{0}};
    vtd_mem_read(m, r->addr, &ce, sizeof ce);
    uint64_t q = ce.qw[0];
    return snprintf(buf, n, "P=%d FPD=%d DTE=%d PASIDE=%d PRE=%d PDTS=%" PRIu64 " (%u entries) PDTP=0x%" PRIx64 " RID_PASID=%" PRIu64,
           !!(q & VTD_CTX_P), !!(q & VTD_CTX_FPD), !!(q & VTD_CTX_DTE), !!(q & VTD_CTX_PASIDE), !!(q & VTD_CTX_PRE),
           vtd_field(q, VTD_CTX_PDTS), 1u << (vtd_field(q, VTD_CTX_PDTS) + 7), q & VTD_CTX_PDTP,
           vtd_field(ce.qw[1], VTD_CTX_RID_PASID));
}

static int explain_pdir(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    (void)m;
    return snprintf(buf, n, "P=%d FPD=%d PTP=0x%" PRIx64, !!(r->val & VTD_PDIR_P), !!(r->val & VTD_PDIR_FPD), r->val & VTD_PDIR_PTP);
}

static int explain_pasid(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    struct vtd_pasid_entry pe = {{0}};
    vtd_mem_read(m, r->addr, &pe, sizeof pe);
    uint64_t q0 = pe.qw[0], q1 = pe.qw[1], q2 = pe.qw[2];
    unsigned aw = (unsigned)vtd_field(q0, VTD_PE_AW), fspm = (unsigned)vtd_field(q2, VTD_PE_FSPM);
    const char *pg = pgtt_name(vtd_pasid_entry_pgtt(&pe));
    return snprintf(buf, n, "P=%d FPD=%d PGTT=%s DID=%u AW=%u (%u-level SS) SSPTPTR=0x%" PRIx64 " SSADE=%d SSEE=%d PWSNP=%d\n"
           "FSPM=%u (%u-level FS) FSPTPTR=0x%" PRIx64 " SRE=%d WPE=%d EAFE=%d ERE=%d",
           !!(q0 & VTD_PE_P), !!(q0 & VTD_PE_FPD), pg ? pg : "?", (unsigned)vtd_field(q1, VTD_PE_DID), aw, aw + 2,
           q0 & VTD_PE_SSPTPTR, !!(q0 & VTD_PE_SSADE), !!(q0 & VTD_PE_SSEE), !!(q1 & VTD_PE_PWSNP), fspm,
           fspm + 4, q2 & VTD_PE_FSPTPTR, !!(q2 & VTD_PE_SRE), !!(q2 & VTD_PE_WPE), !!(q2 & VTD_PE_EAFE),
           !!(q2 & VTD_PE_ERE));
}

static int explain_fs(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    (void)m;
    uint64_t e = r->val;
    if (!vtd_fs_entry_present(e)) {
        return snprintf(buf, n, "P=0: not present");
    }
    return snprintf(buf, n, "P=%d R/W=%d U/S=%d XD=%d A=%d D=%d PS=%d %s=0x%" PRIx64, !!(e & VTD_FS_P), !!(e & VTD_FS_RW),
           !!(e & VTD_FS_US), !!(e & VTD_FS_XD), !!(e & VTD_FS_A), !!(e & VTD_FS_D), !!(e & VTD_FS_PS),
           vtd_fs_entry_is_leaf(e, r->level) ? "page" : "table", vtd_fs_entry_addr(e, r->level));
}

static int explain_ss(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    (void)m;
    uint64_t e = r->val;
    if (!(e & (VTD_SS_R | VTD_SS_W | VTD_SS_X))) {
        return snprintf(buf, n, "R=W=X=0: not present");
    }
    return snprintf(buf, n, "R=%d W=%d X=%d A=%d D=%d PS=%d %s=0x%" PRIx64, !!(e & VTD_SS_R), !!(e & VTD_SS_W), !!(e & VTD_SS_X),
           !!(e & VTD_SS_A), !!(e & VTD_SS_D), !!(e & VTD_SS_PS), vtd_ss_entry_is_leaf(e, r->level) ? "page" : "table",
           vtd_ss_entry_addr(e, r->level));
}

/* Indexed by enum vtd_trace_kind. */
static int (*const explainers[])(struct vtd_mem *, const struct vtd_trace_rec *, char *, size_t) = {
    [VTD_TR_ROOT] = explain_root, [VTD_TR_CTX] = explain_ctx, [VTD_TR_PDIR] = explain_pdir,
    [VTD_TR_PASID] = explain_pasid, [VTD_TR_FS] = explain_fs, [VTD_TR_SS] = explain_ss,
};

int vtd_explain_entry(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n)
{
    if (n)
        buf[0] = 0;
    if ((unsigned)r->kind >= sizeof explainers / sizeof explainers[0] || !explainers[r->kind])
        return 0;
    return explainers[r->kind](m, r, buf, n);
}
