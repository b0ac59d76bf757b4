/*
 * test_explain.c: walker/explain.h, one decoder per structure kind: each field named as the
 * VT-d specification names it (9.1 root, 9.4 context, 9.5 PASID directory, 9.6 PASID entry,
 * 9.7 first-stage and 9.8 second-stage paging entries), read from the record or from memory.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walker/context_entry.h"
#include "walker/explain.h"
#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/pasid_entry.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"

static struct vtd_mem *m;
static char text[320];

static void setup(void) { cr_assert_not_null(m = vtd_mem_new(48)); }
static void teardown(void) { vtd_mem_free(m); }
TestSuite(explain, .init = setup, .fini = teardown);

static const char *explain(uint8_t kind, uint8_t level, uint64_t addr, uint64_t val)
{
    struct vtd_trace_rec r = { .kind = kind, .level = level, .addr = addr, .val = val };
    int len = vtd_explain_entry(m, &r, text, sizeof text);
    cr_assert_eq((size_t)len, strlen(text), "the length returned is the text's");
    return text;
}

#define HAS(s, part) cr_assert(strstr((s), (part)) != NULL, "\"%s\" lacks \"%s\"", (s), (part))

Test(explain, root_entry)
{
    const char *s = explain(VTD_TR_ROOT, 0, 0x1000, 0x5000 | VTD_ROOT_P);
    cr_assert_str_eq(s, "P=1 CTP=0x5000");
}

/* The context entry is read back whole: the PASID table fields are in its first qword, the
 * RID_PASID in its second. */
Test(explain, context_entry_from_memory)
{
    struct vtd_ctx_entry ce = { { VTD_CTX_P | VTD_CTX_PASIDE | VTD_CTX_DTE | (UINT64_C(1) << 9) | 0x7000, 5 } };
    cr_assert_eq(vtd_mem_write(m, 0x2000, &ce, sizeof ce), 0);
    const char *s = explain(VTD_TR_CTX, 0, 0x2000, ce.qw[0]);
    HAS(s, "P=1 FPD=0 DTE=1 PASIDE=1 PRE=0");
    HAS(s, "PDTS=1 (256 entries)");
    HAS(s, "PDTP=0x7000");
    HAS(s, "RID_PASID=5");
}

Test(explain, pasid_directory_entry)
{
    const char *s = explain(VTD_TR_PDIR, 0, 0x3000, 0x9000 | VTD_PDIR_P | VTD_PDIR_FPD);
    cr_assert_str_eq(s, "P=1 FPD=1 PTP=0x9000");
}

/* Two lines: the second-stage fields, then the first-stage ones. */
Test(explain, pasid_entry_two_lines)
{
    struct vtd_pasid_entry pe = { { VTD_PE_P | ((uint64_t)VTD_PGTT_FS << 6), 7, 0xb000 | VTD_PE_SRE } };
    cr_assert_eq(vtd_mem_write(m, 0x4000, &pe, sizeof pe), 0);
    const char *s = explain(VTD_TR_PASID, 0, 0x4000, pe.qw[0]);
    const char *nl = strchr(s, '\n');
    cr_assert_not_null(nl);
    cr_assert_null(strchr(nl + 1, '\n'), "exactly two lines");
    HAS(s, "P=1 FPD=0 PGTT=first-stage DID=7");
    HAS(nl + 1, "FSPM=0 (4-level FS) FSPTPTR=0xb000 SRE=1 WPE=0");
}

Test(explain, first_stage_entries)
{
    HAS(explain(VTD_TR_FS, 4, 0, 0x8000 | VTD_FS_P | VTD_FS_RW | VTD_FS_US), "P=1 R/W=1 U/S=1 XD=0 A=0 D=0 PS=0 table=0x8000");
    HAS(explain(VTD_TR_FS, 2, 0, 0x200000 | VTD_FS_P | VTD_FS_PS | VTD_FS_D), "PS=1 page=0x200000");
    cr_assert_str_eq(explain(VTD_TR_FS, 1, 0, VTD_FS_RW), "P=0: not present");
}

Test(explain, second_stage_entries)
{
    HAS(explain(VTD_TR_SS, 3, 0, 0x40000000 | VTD_SS_R | VTD_SS_PS), "R=1 W=0 X=0 A=0 D=0 PS=1 page=0x40000000");
    HAS(explain(VTD_TR_SS, 4, 0, 0x6000 | VTD_SS_R | VTD_SS_W), "table=0x6000");
    cr_assert_str_eq(explain(VTD_TR_SS, 1, 0, 0x6000), "R=W=X=0: not present");
}

Test(explain, unknown_kind_is_empty)
{
    cr_assert_str_eq(explain(200, 0, 0, 1), "");
    /* A buffer too small is cut, and the length says how long the text would be. */
    struct vtd_trace_rec r = { .kind = VTD_TR_ROOT, .val = 0x5000 | VTD_ROOT_P };
    char small[4];
    cr_assert_eq(vtd_explain_entry(m, &r, small, sizeof small), (int)strlen("P=1 CTP=0x5000"));
    cr_assert_str_eq(small, "P=1");
}
