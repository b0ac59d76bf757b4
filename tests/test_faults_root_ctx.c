/*
 * test_faults_root_ctx.c: the walker's faults for RTADDR_REG, the root entry and the context entry
 * (fault codes 30h-48h, VT-d 7.1.3).
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 30h, 31h: RTADDR_REG -------------------------------------------------------------- */

Test(faults, rtaddr_invalid)
{
    start();
    pt_pasid(1);
    const uint64_t base = w.rtaddr & ~VTD_RTADDR_TTM;
    const struct {
        const char *name;
        uint64_t rtaddr;
        int expect;
    } rows[] = {
        {"TTM 01b (scalable)", base | (UINT64_C(1) << 10), 0},
        {"TTM 11b", base | (UINT64_C(3) << 10), 0x30},
        {"TTM 10b", base | (UINT64_C(2) << 10), 0x30},
        {"TTM 01b, reserved bit 0", base | (UINT64_C(1) << 10) | BIT(0), 0x30},
        {"TTM 01b, reserved bit 9", base | (UINT64_C(1) << 10) | BIT(9), 0x30},
        {"TTM 01b, root table at 2^haw", base | (UINT64_C(1) << 10) | HAW_LIMIT, 0x30},
        /* Just below HAW the register is fine: the (empty) root entry is what fails. */
        {"TTM 01b, root table at 2^(haw-1)", (UINT64_C(1) << 10) | BIT(47), 0x39},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        w.rtaddr = rows[i].rtaddr;
        int rc = xl(1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        if (rc == 0x30) {
            cr_assert_eq(x.fault.addr, rows[i].rtaddr & VTD_RTADDR_RTA, "row '%s': fault.addr", rows[i].name);
            cr_assert_not(x.fault.suppressed, "row '%s'", rows[i].name);
        }
    }
}

Test(faults, ttm_legacy_with_pasid)
{
    start();
    pt_pasid(0); /* RID_PASID */
    pt_pasid(1);
    w.rtaddr &= ~VTD_RTADDR_TTM; /* TTM 00b: legacy mode */
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x31, 0, 0);
    /* Without PASID the scalable-mode tables are read as legacy ones: the 16-byte context entry
     * at devfn 0x18 lies inside the (empty) scalable entry of devfn 12, not present (2h). */
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x2);
    /* The same request with TTM 01b. */
    w.rtaddr |= vtd_field_prep(VTD_TTM_SCALABLE, VTD_RTADDR_TTM);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
}

/* ---- 38h-3Ah: root entry --------------------------------------------------------------- */

Test(faults, root_entry_access)
{
    start();
    pt_pasid(1);
    abort_page(rta(), VTD_MEM_ABORT_WRITE); /* the walk never writes a root entry */
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    abort_page(rta(), VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x38, vtd_root_entry_addr(rta(), 0), 0);
    cr_assert_not(x.fault.suppressed);
}

Test(faults, root_entry_not_present_other_bus)
{
    start();
    pt_pasid(1);
    EXPECT_AT(xl_sid(SID_BUS2, 1, 0x1000, VTD_ACC_R, false), 0x39, vtd_root_entry_addr(rta(), 2), 0);
    cr_assert_not(x.fault.suppressed);
    rebuild_ctx(SID_BUS2); /* the same PASID directory for the second device */
    EXPECT(xl_sid(SID_BUS2, 1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, root_entry_high_half_not_present)
{
    start(); /* bus 0: the low half (devfn 0x18) is present, the high half is not */
    pt_pasid(1);
    EXPECT(xl_sid(SID, 1, 0x1000, VTD_ACC_R, false), 0);
    EXPECT_AT(xl_sid(SID_HI, 1, 0x1000, VTD_ACC_R, false), 0x39, vtd_root_entry_addr(rta(), 0) + 8, 0);
    rebuild_ctx(SID_HI);
    EXPECT(xl_sid(SID_HI, 1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, root_entry_reserved)
{
    start();
    pt_pasid(1);
    rebuild_ctx(SID_HI);
    const uint64_t lo = vtd_root_entry_addr(rta(), 0), hi = lo + 8;
    const uint64_t lo_val = rd(lo), hi_val = rd(hi);
    const struct {
        const char *name;
        uint64_t lo_set, hi_set;
        int expect_lo, expect_hi; /* for SID (low half) and SID_HI (high half) */
    } rows[] = {
        { .name = "as built", .expect_lo = 0, .expect_hi = 0 },
        { .name = "bit 1 of the low half", .lo_set = BIT(1), .expect_lo = 0x3A, .expect_hi = 0 },
        { .name = "bit 11 of the low half", .lo_set = BIT(11), .expect_lo = 0x3A, .expect_hi = 0 },
        { .name = "bit 1 of the high half", .hi_set = BIT(1), .expect_lo = 0, .expect_hi = 0x3A },
        { .name = "low pointer at 2^haw", .lo_set = HAW_LIMIT, .expect_lo = 0x3A, .expect_hi = 0 },
        /* Below HAW the pointer is legal: it points at an empty context table. */
        { .name = "low pointer plus 2^(haw-1)", .lo_set = BIT(47), .expect_lo = 0x41, .expect_hi = 0 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wr(lo, lo_val | rows[i].lo_set);
        wr(hi, hi_val | rows[i].hi_set);
        int rc = xl_sid(SID, 1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect_lo, "row '%s', low devfn: expected %#x, got %#x", rows[i].name,
                     (unsigned)rows[i].expect_lo, (unsigned)rc);
        if (rc == 0x3A)
            cr_assert_eq(x.fault.addr, lo, "row '%s'", rows[i].name);
        rc = xl_sid(SID_HI, 1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect_hi, "row '%s', high devfn: expected %#x, got %#x", rows[i].name,
                     (unsigned)rows[i].expect_hi, (unsigned)rc);
        if (rc == 0x3A)
            cr_assert_eq(x.fault.addr, hi, "row '%s'", rows[i].name);
    }
}

/* ---- 40h-48h: context entry ------------------------------------------------------------ */

Test(faults, ctx_entry_access)
{
    start();
    pt_pasid(1);
    rebuild_ctx(SID_HI); /* a second context table, in another page */
    abort_page(ctx_entry(SID), VTD_MEM_ABORT_READ);
    EXPECT_AT(xl_sid(SID, 1, 0x1000, VTD_ACC_R, false), 0x40, ctx_entry(SID), 0);
    EXPECT(xl_sid(SID_HI, 1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, ctx_entry_not_present)
{
    start();
    pt_pasid(1);
    EXPECT_AT(xl_sid(SID_FN1, 1, 0x1000, VTD_ACC_R, false), 0x41, ctx_entry(SID_FN1), 0);
    cr_assert_eq(ctx_entry(SID_FN1), ctx_entry(SID) + 32); /* the next entry of the same table */
    rebuild_ctx(SID_FN1);
    EXPECT(xl_sid(SID_FN1, 1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, ctx_entry_reserved)
{
    start();
    pt_pasid(1);
    const uint64_t ce = ctx_entry(SID);
    uint64_t orig[4];
    for (unsigned i = 0; i < 4; i++)
        orig[i] = rd(ce + 8 * i);
    const struct {
        const char *name;
        unsigned qw;
        uint64_t set;
        int expect;
    } rows[] = {
        { .name = "as built", .qw = 0, .expect = 0 },
        { .name = "qw0 bit 5", .qw = 0, .set = BIT(5), .expect = 0x42 },
        { .name = "qw0 bit 8", .qw = 0, .set = BIT(8), .expect = 0x42 },
        { .name = "qw0 bit 1 (FPD)", .qw = 0, .set = BIT(1), .expect = 0 },
        { .name = "PDTP at 2^haw", .qw = 0, .set = HAW_LIMIT, .expect = 0x42 },
        { .name = "PDTP plus 2^(haw-1) (an empty directory)", .qw = 0, .set = BIT(47), .expect = 0x51 },
        { .name = "qw1 bit 21", .qw = 1, .set = BIT(21), .expect = 0x42 },
        { .name = "qw1 bit 63", .qw = 1, .set = BIT(63), .expect = 0x42 },
        { .name = "qw1 bit 20 (RID_PRIV)", .qw = 1, .set = BIT(20), .expect = 0 },
        { .name = "qw2 bit 0", .qw = 2, .set = BIT(0), .expect = 0x42 },
        { .name = "qw3 bit 63", .qw = 3, .set = BIT(63), .expect = 0x42 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (unsigned q = 0; q < 4; q++)
            wr(ce + 8 * q, orig[q] | (q == rows[i].qw ? rows[i].set : 0));
        int rc = xl(1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        if (rc == 0x42) {
            cr_assert_eq(x.fault.addr, ce, "row '%s'", rows[i].name);
            cr_assert_not(x.fault.suppressed, "row '%s'", rows[i].name);
        }
    }
}

Test(faults, ctx_entry_invalid_pre_without_prs)
{
    struct vtd_caps c = caps_with(0, 0, VTD_ECAP_PRS, 0);
    start_caps(&c);
    pt_pasid(1);
    cr_assert_not(ctx.pre); /* world_device did not set it */
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    ctx.pre = true; /* written as given by the builder */
    rebuild_ctx(SID);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x43, ctx_entry(SID), 0);
    cr_assert_not(x.fault.suppressed);
}

Test(faults, ctx_entry_pre_with_prs_is_valid)
{
    start(); /* default caps have ECAP.PRS */
    pt_pasid(1);
    ctx.pre = true;
    rebuild_ctx(SID);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, ctx_entry_invalid_dte_without_dt)
{
    struct vtd_caps c = caps_with(0, 0, VTD_ECAP_DT, 0);
    start_caps(&c);
    pt_pasid(1);
    cr_assert_not(ctx.dte);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    ctx.dte = true;
    rebuild_ctx(SID);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x43, ctx_entry(SID), 0);
}

Test(faults, ctx_dte)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0);
    ctx.dte = false;
    rebuild_ctx(SID);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0); /* ordinary DMA does not need DTE */
    EXPECT_AT(xl_kind(SID, 1, VA, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0x44, 0, 0);
    EXPECT(xl_kind(SID, 1, PA, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0x44);
    EXPECT(xl_kind(SID, -1, PA, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0x44);
    ctx.dte = true;
    rebuild_ctx(SID);
    EXPECT(xl_kind(SID, 1, VA, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0);
    cr_assert_eq(x.out, PA);
    EXPECT(xl_kind(SID, 1, PA, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0);
}

Test(faults, ctx_paside)
{
    start();
    pt_pasid(0); /* RID_PASID */
    pt_pasid(1);
    ctx.paside = false;
    rebuild_ctx(SID);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x45, 0, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0); /* without PASID: RID_PASID's entry */
    cr_assert_eq(x.pasid, 0);
    ctx.paside = true;
    rebuild_ctx(SID);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, ctx_pdts)
{
    start();
    /* PDTS 0: 2^7 directory entries, that is PASIDs 0 .. 128*64-1. */
    ctx.pdts = 0;
    cr_assert_eq(vtd_build_pasid_dir(&w.b, 0, &ctx.pdtp), 0);
    rebuild_ctx(SID);
    EXPECT_AT(xl(128 * 64, 0x1000, VTD_ACC_R, false), 0x46, 0, 0);
    EXPECT_AT(xl(128 * 64 - 1, 0x1000, VTD_ACC_R, false), 0x51, ctx.pdtp + 127 * 8, 0);
    pt_pasid(128 * 64 - 1);
    EXPECT(xl(128 * 64 - 1, 0x1000, VTD_ACC_R, false), 0);
    EXPECT(xl(128 * 64, 0x1000, VTD_ACC_R, false), 0x46);
}

Test(faults, ctx_pdts_7_covers_20_bit_pasids)
{
    start(); /* PDTS 7: 2^14 directory entries */
    EXPECT_AT(xl(0xFFFFF, 0x1000, VTD_ACC_R, false), 0x51, ctx.pdtp + 0x3FFF * 8, 0);
    pt_pasid(0xFFFFF);
    EXPECT(xl(0xFFFFF, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, ctx_rid_pasid)
{
    start();
    ctx.pdts = 0;
    cr_assert_eq(vtd_build_pasid_dir(&w.b, 0, &ctx.pdtp), 0);
    ctx.rid_pasid = 128 * 64;
    rebuild_ctx(SID);
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0x48, 0, 0);
    EXPECT(xl(128 * 64, 0x1000, VTD_ACC_R, false), 0x46); /* the same PASID, given in the request */
    ctx.rid_pasid = 128 * 64 - 1;
    rebuild_ctx(SID);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x51);
    pt_pasid(128 * 64 - 1);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    cr_assert_eq(x.pasid, 128 * 64 - 1);
}
