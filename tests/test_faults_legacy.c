/*
 * test_faults_legacy.c: legacy-mode translation (RTADDR_REG.TTM = 00b): the legacy root and
 * context entries, TT and AW against CAP/ECAP, second-stage translation and pass-through, and
 * every legacy fault code (01h-0Eh, VT-d 7.1.3; the codes are literals from the specification's
 * table, as QEMU's VTDFaultReason and Linux's dma_remap_fault_reasons[] number them).
 * The fixture's world starts in scalable mode; start_legacy() moves it to a legacy root table.
 */
#include "faults_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "walker/explain.h"
#include "walker/legacy_ctx_entry.h"

#define DID 9

/* A legacy world with SID attached as `tt` over an empty `levels`-level second-stage table. */
static void start_legacy_caps(const struct vtd_caps *caps, unsigned tt, unsigned levels)
{
    start_caps(caps);
    cr_assert_eq(world_legacy_root(&w), 0);
    cr_assert(vtd_rtaddr_is_legacy(w.rtaddr));
    cr_assert_eq(world_legacy_device(&w, SID, tt, levels, DID, &ss, &ctx), 0);
}
static void start_legacy(unsigned tt, unsigned levels) { start_legacy_caps(NULL, tt, levels); }

/* The legacy root entry of a bus (one qword pair; the low one serves every devfn). */
static uint64_t lroot(uint16_t sid) { return vtd_root_entry_addr(rta(), (uint8_t)(sid >> 8)); }
static uint64_t lctx(uint16_t sid) { return vtd_lctx_entry_addr(rd(lroot(sid)) & VTD_ROOT_CTP, (uint8_t)sid); }

/* ---- translation ----------------------------------------------------------------------- */

Test(legacy, second_stage_levels_from_aw)
{
    for (unsigned levels = 3; levels <= 5; levels++) {
        start_legacy(VTD_LCTX_TT_UNTRANSLATED, levels);
        cr_assert_eq(vtd_field(rd(lctx(SID) + 8), VTD_LCTX_AW), levels - 2, "AW for %u levels", levels);
        map4k(&ss, VA, PA, RW, 0);
        EXPECT(xl(-1, VA + 0x10, VTD_ACC_W, false), 0);
        cr_assert_eq(x.out, PA + 0x10);
        cr_assert_eq(x.did, DID);
        cr_assert_eq(x.perm, RWUX, "second stage without SSEE grants X, and U always");
        cr_assert_eq(w.env.cnt.paging_reads, levels, "%u-level walk", levels);
        cr_assert_eq(w.env.cnt.by_kind[VTD_TR_ROOT], 1);
        cr_assert_eq(w.env.cnt.by_kind[VTD_TR_CTX], 1);
        cr_assert_eq(w.env.cnt.by_kind[VTD_TR_PDIR] + w.env.cnt.by_kind[VTD_TR_PASID], 0, "no PASID structures");
        cr_assert(x.ctx.legacy);
        teardown();
    }
}

Test(legacy, devfn_above_127_uses_low_qword)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    struct vtd_pt ss2;
    cr_assert_eq(world_legacy_device(&w, SID_HI, VTD_LCTX_TT_UNTRANSLATED, 3, DID + 1, &ss2, NULL), 0);
    cr_assert_eq(rd(lroot(SID) + 8), 0, "the high qword stays reserved");
    map4k(&ss2, 0x5000, PA, R, 0);
    EXPECT(xl_sid(SID_HI, -1, 0x5000, VTD_ACC_R, false), 0);
    cr_assert_eq(x.out, PA);
    cr_assert_eq(x.did, DID + 1);
    cr_assert_eq(lctx(SID_HI) - lctx(SID), (uint64_t)(0x80 - 0x18) * 16, "one table, 16-byte entries");
}

Test(legacy, pass_through)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    EXPECT(xl(-1, 0x123456789, VTD_ACC_W, false), 0);
    cr_assert_eq(x.out, 0x123456789);
    cr_assert_eq(x.pgtt, VTD_PGTT_PT);
    cr_assert_eq(w.env.cnt.paging_reads, 0);
    /* Beyond the widest AGAW (57 bits by default, as wide as MGAW): 4h. */
    EXPECT(xl(-1, BIT(57), VTD_ACC_R, false), 0x4);
    /* Within the AGAW but beyond HAW: the output could not be used, also 4h. */
    EXPECT(xl(-1, HAW_LIMIT, VTD_ACC_R, false), 0x4);
}

Test(legacy, requests_with_pasid_blocked)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x31, 0, 0);
    cr_assert_eq(w.env.cnt.reads, 0, "blocked before any structure is read");
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
}

/* ---- 1h, 8h, Ah: root entry ------------------------------------------------------------ */

Test(legacy, root_entry_faults)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    EXPECT_AT(xl_sid(SID_BUS2, -1, 0x1000, VTD_ACC_R, false), 0x1, lroot(SID_BUS2), 0);
    cr_assert_not(x.fault.suppressed, "1h is not qualified");
    set_bits(lroot(SID) + 8, BIT(0)); /* the high qword is reserved in legacy mode */
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0xA, lroot(SID), 0);
    clr_bits(lroot(SID) + 8, BIT(0));
    set_bits(lroot(SID), BIT(11));
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0xA);
    clr_bits(lroot(SID), BIT(11));
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    abort_page(rta(), VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0x8, lroot(SID), 0);
    cr_assert_not(x.fault.suppressed);
}

Test(legacy, rtaddr_unusable_is_root_access)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    uint64_t good = w.rtaddr;
    w.rtaddr = good | BIT(3);
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0x8, good & VTD_RTADDR_RTA, 0);
    w.rtaddr = HAW_LIMIT;
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x8);
    w.rtaddr = good | (UINT64_C(3) << 10); /* TTM 11b stays the scalable-mode 30h */
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x30);
}

/* ---- 2h, 3h, 9h, Bh: context entry ----------------------------------------------------- */

Test(legacy, context_not_present_and_fpd)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    EXPECT_AT(xl_sid(SID_FN1, -1, 0x1000, VTD_ACC_R, false), 0x2, lctx(SID_FN1), 0);
    cr_assert_not(x.fault.suppressed);
    /* FPD counts even in an entry that is not present (VT-d 9.3): 2h is qualified. */
    wr(lctx(SID_FN1), VTD_LCTX_FPD);
    EXPECT(xl_sid(SID_FN1, -1, 0x1000, VTD_ACC_R, false), 0x2);
    cr_assert(x.fault.suppressed);
}

Test(legacy, context_access)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    set_bits(lctx(SID), VTD_LCTX_FPD);
    abort_page(lctx(SID), VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0x9, lctx(SID), 0);
    cr_assert_not(x.fault.suppressed, "9h is not qualified");
}

Test(legacy, context_reserved)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, 0x1000, PA, R, 0);
    const struct {
        const char *name;
        unsigned qw;
        uint64_t bit;
        int expect;
    } rows[] = {
        {"lo bit 4", 0, BIT(4), 0xB},
        {"lo bit 11", 0, BIT(11), 0xB},
        {"SLPTPTR at HAW", 0, HAW_LIMIT, 0xB},
        {"hi bit 7", 1, BIT(7), 0xB},
        {"hi bit 24", 1, BIT(24), 0xB},
        {"hi bit 63", 1, BIT(63), 0xB},
        {"AVAIL bits 6:3 are ignored", 1, VTD_LCTX_AVAIL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t a = lctx(SID) + 8 * rows[i].qw, old = rd(a), lo = rd(lctx(SID));
        wr(a, old | rows[i].bit);
        set_bits(lctx(SID), VTD_LCTX_FPD); /* Bh is not qualified: FPD must not hide it */
        int rc = xl(-1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        if (rc)
            cr_assert_not(x.fault.suppressed, "row '%s': Bh is not qualified", rows[i].name);
        wr(a, old);
        wr(lctx(SID), lo);
    }
}

Test(legacy, did_beyond_nd_is_reserved)
{
    struct vtd_caps c = caps_with(VTD_CAP_ND, vtd_field_prep(2, VTD_CAP_ND), 0, 0); /* 8-bit DIDs */
    start_legacy_caps(&c, VTD_LCTX_TT_PT, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    set_bits(lctx(SID) + 8, vtd_field_prep(0x100, VTD_LCTX_DID));
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0xB);
}

Test(legacy, pass_through_ignores_slptptr)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    set_bits(lctx(SID), HAW_LIMIT);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
}

Test(legacy, invalid_programming)
{
    /* TT 11b is reserved. */
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    set_bits(lctx(SID), vtd_field_prep(VTD_LCTX_TT_RSVD, VTD_LCTX_TT));
    EXPECT_AT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3, lctx(SID), 0);
    teardown();
    /* AW 0 (30-bit, 2-level) and 4 are not SAGAW widths. */
    for (unsigned aw = 0; aw <= 7; aw += 4) {
        start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
        uint64_t hi = rd(lctx(SID) + 8);
        wr(lctx(SID) + 8, (hi & ~VTD_LCTX_AW) | vtd_field_prep(aw, VTD_LCTX_AW));
        EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3);
        teardown();
    }
    /* 3h is qualified: the entry's own FPD suppresses it. */
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    set_bits(lctx(SID), vtd_field_prep(VTD_LCTX_TT_RSVD, VTD_LCTX_TT) | VTD_LCTX_FPD);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3);
    cr_assert(x.fault.suppressed);
}

Test(legacy, aw_must_be_in_sagaw)
{
    struct vtd_caps c = caps_with(VTD_CAP_SAGAW, vtd_field_prep(VTD_SAGAW_48, VTD_CAP_SAGAW), 0, 0);
    start_legacy_caps(&c, VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, 0x1000, PA, R, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    struct vtd_pt ss3;
    cr_assert_eq(world_legacy_device(&w, SID_FN1, VTD_LCTX_TT_UNTRANSLATED, 3, DID, &ss3, NULL), 0);
    EXPECT(xl_sid(SID_FN1, -1, 0x1000, VTD_ACC_R, false), 0x3);
}

Test(legacy, pass_through_needs_widest_aw)
{
    start_legacy(VTD_LCTX_TT_PT, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    uint64_t hi = rd(lctx(SID) + 8);
    wr(lctx(SID) + 8, (hi & ~VTD_LCTX_AW) | vtd_field_prep(2, VTD_LCTX_AW)); /* 48 bits of 57 */
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3);
}

Test(legacy, tt_gated_by_ecap)
{
    struct vtd_caps c = caps_with(0, 0, VTD_ECAP_PT | VTD_ECAP_DT, 0);
    start_legacy_caps(&c, VTD_LCTX_TT_PT, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3);
    teardown();
    start_legacy_caps(&c, VTD_LCTX_TT_ALL, 4);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0x3);
    teardown();
    start_legacy_caps(&c, VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, 0x1000, PA, R, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
}

/* ---- Dh: ATS requests and TT ----------------------------------------------------------- */

Test(legacy, ats_blocked_unless_tt_all)
{
    static const unsigned blocked[] = {VTD_LCTX_TT_UNTRANSLATED, VTD_LCTX_TT_PT};
    for (size_t i = 0; i < 2; i++) {
        start_legacy(blocked[i], 4);
        EXPECT(xl_kind(SID, -1, 0x1000, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0xD);
        cr_assert_not(x.fault.suppressed);
        EXPECT(xl_kind(SID, -1, PA, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0xD);
        teardown();
    }
    start_legacy(VTD_LCTX_TT_ALL, 4);
    map4k(&ss, 0x1000, PA, R, 0);
    EXPECT(xl_kind(SID, -1, 0x1000, VTD_ACC_R | VTD_ACC_W, false, VTD_REQ_TRANSLATION), 0);
    cr_assert_eq(x.out, PA);
    cr_assert_eq(x.perm & RW, R, "permissions reported, not enforced");
    /* A not-present page answers "no access" to a translation request, without a fault. */
    EXPECT(xl_kind(SID, -1, 0x7000, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0);
    cr_assert_eq(x.perm, 0);
    EXPECT(xl_kind(SID, -1, PA, VTD_ACC_W, false, VTD_REQ_TRANSLATED), 0);
    cr_assert_eq(x.out, PA);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    /* Dh is qualified. */
    teardown();
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    set_bits(lctx(SID), VTD_LCTX_FPD);
    EXPECT(xl_kind(SID, -1, 0x1000, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0xD);
    cr_assert(x.fault.suppressed);
}

/* ---- 4h-7h, Ch, Eh: second stage -------------------------------------------------------- */

Test(legacy, beyond_agaw_and_mgaw)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 3);
    EXPECT_AT(xl(-1, BIT(39), VTD_ACC_R, false), 0x4, 0, 0);
    cr_assert_eq(w.env.cnt.paging_reads, 0);
    teardown();
    /* A 5-level table on a 48-bit MGAW: the smaller width counts. */
    struct vtd_caps c = caps_with(VTD_CAP_MGAW, vtd_field_prep(48 - 1, VTD_CAP_MGAW), 0, 0);
    start_legacy_caps(&c, VTD_LCTX_TT_UNTRANSLATED, 5);
    EXPECT(xl(-1, BIT(48), VTD_ACC_R, false), 0x4);
    cr_assert(!x.fault.suppressed);
    EXPECT(xl(-1, BIT(47), VTD_ACC_R, false), 0x6); /* inside: the empty table denies the read */
}

Test(legacy, read_write_denied)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, VA, PA, R, 0);
    EXPECT_LEVEL(xl(-1, VA, VTD_ACC_W, false), 0x5, 1);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0);
    cr_assert_eq(vtd_pt_protect(&ss, VA, PAGE, W), 0);
    EXPECT_LEVEL(xl(-1, VA, VTD_ACC_R, false), 0x6, 1);
    /* Not present: the access's permission fault, at the level that was empty. */
    EXPECT_LEVEL(xl(-1, VA + BIT(30), VTD_ACC_W, false), 0x5, 3);
    EXPECT_LEVEL(xl(-1, VA + BIT(30), VTD_ACC_R, false), 0x6, 3);
    /* Qualified: FPD suppresses both. */
    set_bits(lctx(SID), VTD_LCTX_FPD);
    EXPECT(xl(-1, VA + BIT(30), VTD_ACC_R, false), 0x6);
    cr_assert(x.fault.suppressed);
}

Test(legacy, paging_entry_access_and_reserved)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, VA, PA, RW, 0);
    uint64_t pte = pt_entry(&ss, VA, 1);
    set_bits(pte, BIT(62)); /* TM: reserved */
    EXPECT_AT(xl(-1, VA, VTD_ACC_R, false), 0xC, pte, 1);
    clr_bits(pte, BIT(62));
    set_bits(pt_entry(&ss, VA, 4), VTD_SS_PS); /* PS in a PML4E */
    EXPECT_AT(xl(-1, VA, VTD_ACC_R, false), 0xC, pt_entry(&ss, VA, 4), 4);
    clr_bits(pt_entry(&ss, VA, 4), VTD_SS_PS);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0);
    abort_page(pte, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(-1, VA, VTD_ACC_R, false), 0x7, pte, 1);
    set_bits(lctx(SID), VTD_LCTX_FPD);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0x7);
    cr_assert(x.fault.suppressed, "7h is qualified");
}

Test(legacy, legacy_tables_have_no_ad_or_execute)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, VA, PA, RW, 0);
    EXPECT(xl(-1, VA, VTD_ACC_W, false), 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0, "no A/D in legacy second-stage tables");
    cr_assert_eq(rd(pt_entry(&ss, VA, 1)) & (VTD_SS_A | VTD_SS_D), 0);
    EXPECT(xl(-1, VA, VTD_ACC_X, false), 0);
}

Test(legacy, interrupt_range_output)
{
    start_legacy(VTD_LCTX_TT_UNTRANSLATED, 4);
    map4k(&ss, VA, VTD_INTR_ADDR_FIRST, RW, 0);
    EXPECT(xl(-1, VA, VTD_ACC_W, false), 0xE);
    cr_assert_not(x.fault.suppressed);
    set_bits(lctx(SID), VTD_LCTX_FPD);
    EXPECT(xl(-1, VA, VTD_ACC_W, false), 0xE);
    cr_assert(x.fault.suppressed, "Eh is qualified");
}

/* ---- names, explain, builder ------------------------------------------------------------- */

Test(legacy, fault_names_and_codes)
{
    static const struct { int code; const char *name; } rows[] = {
        {0x1, "LEGACY_ROOT_ENTRY_P"}, {0x2, "LEGACY_CTX_ENTRY_P"}, {0x3, "LEGACY_CTX_ENTRY_INV"},
        {0x4, "LEGACY_BEYOND_AGAW"}, {0x5, "LEGACY_WRITE_DENIED"}, {0x6, "LEGACY_READ_DENIED"},
        {0x7, "LEGACY_PAGING_ENTRY_ACCESS"}, {0x8, "LEGACY_ROOT_ENTRY_ACCESS"}, {0x9, "LEGACY_CTX_ENTRY_ACCESS"},
        {0xA, "LEGACY_ROOT_ENTRY_RSVD"}, {0xB, "LEGACY_CTX_ENTRY_RSVD"}, {0xC, "LEGACY_PAGING_ENTRY_RSVD"},
        {0xD, "LEGACY_TT_BLOCKED"}, {0xE, "LEGACY_INTR_ADDR"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cr_assert_str_eq(vtd_fault_name(rows[i].code), rows[i].name);
        cr_assert_eq(vtd_fault_by_name(rows[i].name), rows[i].code);
        cr_assert(vtd_fault_known(rows[i].code));
    }
    cr_assert_not(vtd_fault_known(0xF));
    cr_assert_eq(vtd_fault_to_legacy(0x42), 0x42, "codes without a legacy twin are kept");
}

Test(legacy, explain_context_entry)
{
    start_legacy(VTD_LCTX_TT_ALL, 4);
    map4k(&ss, 0x1000, PA, R, 0);
    EXPECT(xl(-1, 0x1000, VTD_ACC_R, false), 0);
    char buf[256];
    cr_assert_eq(w.trace.rec[0].kind, VTD_TR_ROOT);
    cr_assert(w.trace.rec[0].legacy);
    vtd_explain_entry(w.mem, &w.trace.rec[0], buf, sizeof buf);
    cr_assert(strstr(buf, "(legacy: devfn 0-255)"), "%s", buf);
    cr_assert_eq(w.trace.rec[1].kind, VTD_TR_CTX);
    vtd_explain_entry(w.mem, &w.trace.rec[1], buf, sizeof buf);
    char want[160];
    snprintf(want, sizeof want, "legacy P=1 FPD=0 TT=1 (all) SLPTPTR=0x%" PRIx64 " AW=2 (4-level SS) DID=9", ss.root);
    cr_assert_str_eq(buf, want);
    cr_assert_not(w.trace.rec[2].legacy, "paging entries are the shared format");
}

Test(legacy, builder_rejects_what_it_cannot_encode)
{
    start();
    struct vtd_ctx c = {.legacy = true, .tt = 0, .ss_levels = 4, .did = 1};
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr, SID, &c), -EINVAL, "a scalable-mode RTADDR");
    cr_assert_eq(world_legacy_root(&w), 0);
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr, SID, &c), 0);
    c.ss_levels = 2;
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr, SID, &c), -EINVAL);
    c.ss_levels = 4;
    c.tt = 4;
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr, SID, &c), -EINVAL);
    c.tt = 0;
    c.slptptr = 0x1001;
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr, SID, &c), -EINVAL);
    cr_assert_eq(vtd_build_legacy_context(NULL, w.rtaddr, SID, &c), -EINVAL);
    cr_assert_eq(vtd_build_legacy_context(&w.b, w.rtaddr | 1, SID, &c), -EINVAL);
    cr_assert_str_eq(vtd_lctx_tt_name(VTD_LCTX_TT_PT), "pass-through");
    cr_assert_str_eq(vtd_lctx_tt_name(VTD_LCTX_TT_RSVD), "reserved");
}
