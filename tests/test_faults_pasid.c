/*
 * test_faults_pasid.c: the walker's faults for the PASID directory entry and the PASID table entry
 * (fault codes 50h-5Dh, VT-d 7.1.3).
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 50h-52h: PASID directory entry ---------------------------------------------------- */

Test(faults, pdir_entry_access)
{
    start(); /* PDTS 7: the directory spans 32 pages; PASID 0x8000 uses the second one */
    pt_pasid(1);
    pt_pasid(0x8000);
    EXPECT(xl(0x8000, 0x1000, VTD_ACC_R, false), 0);
    abort_page(ctx.pdtp + 0x1000, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(0x8000, 0x1000, VTD_ACC_R, false), 0x50, ctx.pdtp + 0x1000, 0);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, pdir_entry_not_present)
{
    start();
    pt_pasid(1);
    EXPECT_AT(xl(100, 0x1000, VTD_ACC_R, false), 0x51, ctx.pdtp + 8, 0); /* 100 >> 6 = 1 */
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    pt_pasid(100);
    EXPECT(xl(100, 0x1000, VTD_ACC_R, false), 0);
}

Test(faults, pdir_entry_reserved)
{
    start();
    pt_pasid(1);
    const uint64_t de = ctx.pdtp, orig = rd(de);
    const struct {
        const char *name;
        uint64_t set;
        int expect;
    } rows[] = {
        {"as built", 0, 0},
        {"bit 2", BIT(2), 0x52},
        {"bit 11", BIT(11), 0x52},
        {"bit 1 (FPD)", BIT(1), 0},
        {"table pointer at 2^haw", HAW_LIMIT, 0x52},
        {"table pointer plus 2^(haw-1) (an empty table)", BIT(47), 0x59},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wr(de, orig | rows[i].set);
        int rc = xl(1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        if (rc == 0x52)
            cr_assert_eq(x.fault.addr, de, "row '%s'", rows[i].name);
    }
}

/* ---- 58h-5Dh: PASID table entry -------------------------------------------------------- */

Test(faults, pasid_entry_access)
{
    start();
    pt_pasid(1);
    const uint64_t pe = pe_entry(1);
    abort_page(pe, VTD_MEM_ABORT_WRITE);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    abort_page(pe, VTD_MEM_ABORT_READ);
    EXPECT_AT(xl(1, 0x1000, VTD_ACC_R, false), 0x58, pe, 0);
}

Test(faults, pasid_entry_not_present)
{
    start();
    pt_pasid(1);
    cr_assert_eq(pe_entry(2), pe_entry(1) + 64); /* the same PASID table */
    EXPECT_AT(xl(2, 0x1000, VTD_ACC_R, false), 0x59, pe_entry(2), 0);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    pt_pasid(2);
    EXPECT(xl(2, 0x1000, VTD_ACC_R, false), 0);
}

/* Base PASID entries for the table below; each row edits one qword of one of them. */
enum pe_base { B_FS4, B_FS5, B_SS3, B_SS4, B_SS5, B_NEST, B_PT, B_COUNT };
/* Field values in place (constant expressions for the table; positions from VT-d 9.6, 11.4.2). */
#define PGTT(v) ((uint64_t)(v) << 6)   /* qw0 bits 8:6 */
#define AW(v) ((uint64_t)(v) << 2)     /* qw0 bits 4:2 */
#define FSPM(v) ((uint64_t)(v) << 2)   /* qw2 bits 3:2 (bits 131:130) */
#define SAGAW(v) ((uint64_t)(v) << 8)  /* CAP bits 12:8 */
#define ND(v) ((uint64_t)(v) << 0)     /* CAP bits 2:0 */

struct pe_row {
    const char *name;
    enum pe_base base;
    unsigned qw;
    uint64_t clr, set;                                /* qw = (qw & ~clr) | set */
    uint64_t cap_clr, cap_set, ecap_clr, ecap_set;    /* capabilities for this row */
    int expect;
};

static const struct pe_row pe_rows[] = {
    /* every base as built */
    { .name = "first stage, 4 levels", .base = B_FS4, .qw = 0, .expect = 0 },
    { .name = "first stage, 5 levels (FSPM 1 with CAP.FS5LP)", .base = B_FS5, .qw = 0, .expect = 0 },
    { .name = "second stage, AW 1", .base = B_SS3, .qw = 0, .expect = 0 },
    { .name = "second stage, AW 2", .base = B_SS4, .qw = 0, .expect = 0 },
    { .name = "second stage, AW 3 (SAGAW bit 3 set)", .base = B_SS5, .qw = 0, .expect = 0 },
    { .name = "nested (with ECAP.NEST)", .base = B_NEST, .qw = 0, .expect = 0 },
    { .name = "pass-through (with ECAP.PT)", .base = B_PT, .qw = 0, .expect = 0 },

    /* 5Ah: reserved fields */
    { .name = "qw3 bit 0", .base = B_FS4, .qw = 3, .set = BIT(0), .expect = 0x5A },
    { .name = "qw7 bit 63", .base = B_PT, .qw = 7, .set = BIT(63), .expect = 0x5A },
    { .name = "qw0 bit 10", .base = B_FS4, .qw = 0, .set = BIT(10), .expect = 0x5A },
    { .name = "qw0 bit 11", .base = B_SS4, .qw = 0, .set = BIT(11), .expect = 0x5A },
    { .name = "qw1 bit 16", .base = B_FS4, .qw = 1, .set = BIT(16), .expect = 0x5A },
    { .name = "qw1 bit 22", .base = B_PT, .qw = 1, .set = BIT(22), .expect = 0x5A },
    { .name = "SSADE without ECAP.SSADS", .base = B_SS4, .qw = 0, .set = VTD_PE_SSADE, .ecap_clr = VTD_ECAP_SSADS,
      .expect = 0x5A },
    { .name = "SSADE with ECAP.SSADS", .base = B_SS4, .qw = 0, .set = VTD_PE_SSADE, .expect = 0 },
    { .name = "EAFE without ECAP.EAFS", .base = B_FS4, .qw = 2, .set = VTD_PE_EAFE, .ecap_clr = VTD_ECAP_EAFS,
      .expect = 0x5A },
    { .name = "EAFE with ECAP.EAFS", .base = B_FS4, .qw = 2, .set = VTD_PE_EAFE, .expect = 0 },
    { .name = "FSPM 2", .base = B_FS4, .qw = 2, .clr = VTD_PE_FSPM, .set = FSPM(2), .expect = 0x5A },
    { .name = "FSPM 3", .base = B_FS4, .qw = 2, .clr = VTD_PE_FSPM, .set = FSPM(3), .expect = 0x5A },
    { .name = "memory-type bit 25 without ECAP.MTS", .base = B_FS4, .qw = 1, .set = BIT(25), .expect = 0x5A },
    { .name = "memory-type bit 25 with ECAP.MTS", .base = B_FS4, .qw = 1, .set = BIT(25), .ecap_set = VTD_ECAP_MTS,
      .expect = 0 },
    { .name = "memory-type bit 63 without ECAP.MTS", .base = B_SS4, .qw = 1, .set = BIT(63), .expect = 0x5A },
    { .name = "DID 0x100 with 8-bit DIDs (CAP.ND 2)", .base = B_FS4, .qw = 1, .clr = VTD_PE_DID, .set = 0x100,
      .cap_clr = VTD_CAP_ND, .cap_set = ND(2), .expect = 0x5A },
    { .name = "DID 0xff with 8-bit DIDs (CAP.ND 2)", .base = B_FS4, .qw = 1, .clr = VTD_PE_DID, .set = 0xff,
      .cap_clr = VTD_CAP_ND, .cap_set = ND(2), .expect = 0 },
    { .name = "DID 0x100 with 16-bit DIDs (CAP.ND 6)", .base = B_FS4, .qw = 1, .clr = VTD_PE_DID, .set = 0x100,
      .expect = 0 },
    { .name = "qw2 bit 8", .base = B_FS4, .qw = 2, .set = BIT(8), .expect = 0x5A },
    { .name = "qw2 bit 11 (nested)", .base = B_NEST, .qw = 2, .set = BIT(11), .expect = 0x5A },
    { .name = "SRE without ECAP.SRS", .base = B_FS4, .qw = 2, .set = VTD_PE_SRE, .ecap_clr = VTD_ECAP_SRS,
      .expect = 0x5A },
    { .name = "SRE with ECAP.SRS", .base = B_FS4, .qw = 2, .set = VTD_PE_SRE, .expect = 0 },
    { .name = "ERE without ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_ERE, .expect = 0x5A },
    { .name = "ERE with ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_ERE, .ecap_set = VTD_ECAP_ERS, .expect = 0 },
    { .name = "NXE without ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_NXE, .expect = 0x5A },
    { .name = "NXE with ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_NXE, .ecap_set = VTD_ECAP_ERS, .expect = 0 },
    { .name = "SMEP without ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_SMEP, .expect = 0x5A },
    { .name = "SMEP with ECAP.ERS", .base = B_FS4, .qw = 2, .set = VTD_PE_SMEP, .ecap_set = VTD_ECAP_ERS, .expect = 0 },

    /* 5Bh: invalid programming */
    { .name = "PGTT 0", .base = B_FS4, .qw = 0, .clr = VTD_PE_PGTT, .set = PGTT(0), .expect = 0x5B },
    { .name = "PGTT 5", .base = B_FS4, .qw = 0, .clr = VTD_PE_PGTT, .set = PGTT(5), .expect = 0x5B },
    { .name = "PGTT 6", .base = B_FS4, .qw = 0, .clr = VTD_PE_PGTT, .set = PGTT(6), .expect = 0x5B },
    { .name = "PGTT 7", .base = B_FS4, .qw = 0, .clr = VTD_PE_PGTT, .set = PGTT(7), .expect = 0x5B },
    { .name = "PGTT 1 without ECAP.FSTS", .base = B_FS4, .qw = 0, .ecap_clr = VTD_ECAP_FSTS, .expect = 0x5B },
    { .name = "PGTT 2 without ECAP.SSTS", .base = B_SS4, .qw = 0, .ecap_clr = VTD_ECAP_SSTS, .expect = 0x5B },
    { .name = "PGTT 3 without ECAP.NEST", .base = B_NEST, .qw = 0, .ecap_clr = VTD_ECAP_NEST, .expect = 0x5B },
    { .name = "PGTT 4 without ECAP.PT", .base = B_PT, .qw = 0, .ecap_clr = VTD_ECAP_PT, .expect = 0x5B },
    { .name = "AW 3 without SAGAW bit 3", .base = B_SS5, .qw = 0, .cap_clr = VTD_CAP_SAGAW,
      .cap_set = SAGAW(VTD_SAGAW_39 | VTD_SAGAW_48), .expect = 0x5B },
    { .name = "AW 2 without SAGAW bit 3", .base = B_SS4, .qw = 0, .cap_clr = VTD_CAP_SAGAW,
      .cap_set = SAGAW(VTD_SAGAW_39 | VTD_SAGAW_48), .expect = 0 },
    { .name = "AW 2 with SAGAW bit 1 only", .base = B_SS4, .qw = 0, .cap_clr = VTD_CAP_SAGAW,
      .cap_set = SAGAW(VTD_SAGAW_39), .expect = 0x5B },
    { .name = "AW 1 with SAGAW bit 1 only", .base = B_SS3, .qw = 0, .cap_clr = VTD_CAP_SAGAW,
      .cap_set = SAGAW(VTD_SAGAW_39), .expect = 0 },
    { .name = "AW 0", .base = B_SS4, .qw = 0, .clr = VTD_PE_AW, .expect = 0x5B },
    { .name = "AW 4", .base = B_SS4, .qw = 0, .clr = VTD_PE_AW, .set = AW(4), .expect = 0x5B },
    { .name = "AW 7", .base = B_SS4, .qw = 0, .clr = VTD_PE_AW, .set = AW(7), .expect = 0x5B },
    { .name = "FSPM 1 without CAP.FS5LP", .base = B_FS5, .qw = 0, .cap_clr = VTD_CAP_FS5LP, .expect = 0x5B },
    { .name = "FSPM 0 without CAP.FS5LP", .base = B_FS4, .qw = 0, .cap_clr = VTD_CAP_FS5LP, .expect = 0 },
};

Test(faults, pasid_entry_reserved_and_invalid)
{
    start();
    struct vtd_pasid_cfg base[B_COUNT];
    uint64_t out[B_COUNT];
    fs_pasid(10, 4);
    map4k(&fs, 0x1000, PA, RWUX, VTD_MAP_AD);
    base[B_FS4] = cfg, out[B_FS4] = PA;
    fs_pasid(11, 5);
    map4k(&fs, 0x1000, PA, RWUX, VTD_MAP_AD);
    base[B_FS5] = cfg, out[B_FS5] = PA;
    const unsigned ss_bases[] = {B_SS3, B_SS4, B_SS5};
    for (unsigned i = 0; i < 3; i++) {
        ss_pasid(12 + i, 3 + i);
        map4k(&ss, 0x1000, PA, RWX, 0);
        base[ss_bases[i]] = cfg, out[ss_bases[i]] = PA;
    }
    cr_assert_eq(world_pasid(&w, &ctx, 15, VTD_PGTT_NESTED, 4, 4, &fs, &ss, &cfg), 0);
    map4k(&fs, 0x1000, NEST_DATA_GPA, RWUX, VTD_MAP_AD);
    base[B_NEST] = cfg, out[B_NEST] = WORLD_GUEST_RAM_HPA + NEST_DATA_GPA;
    pt_pasid(16);
    base[B_PT] = cfg, out[B_PT] = 0x1000;
    pt_pasid(1); /* the entry every row rewrites */

    const struct vtd_caps def = w.caps;
    for (size_t i = 0; i < sizeof(pe_rows) / sizeof(pe_rows[0]); i++) {
        const struct pe_row *r = &pe_rows[i];
        w.caps = def;
        w.caps.cap = (w.caps.cap & ~r->cap_clr) | r->cap_set;
        w.caps.ecap = (w.caps.ecap & ~r->ecap_clr) | r->ecap_set;
        struct vtd_pasid_entry pe;
        pasid_entry_encode(&base[r->base], &pe);
        pe.qw[r->qw] = (pe.qw[r->qw] & ~r->clr) | r->set;
        pe_write_raw(1, &pe);
        int rc = xl(1, 0x1000, VTD_ACC_R, false);
        cr_assert_eq(rc, r->expect, "row '%s': expected %#x, got %#x", r->name, (unsigned)r->expect, (unsigned)rc);
        if (rc) {
            cr_assert_eq(x.fault.addr, pe_entry(1), "row '%s': fault.addr", r->name);
            cr_assert_eq(x.fault.level, 0, "row '%s': fault.level", r->name);
        } else {
            cr_assert_eq(x.out, out[r->base], "row '%s': output %#" PRIx64, r->name, x.out);
        }
    }
    w.caps = def;
}

Test(faults, pasid_ere)
{
    struct vtd_caps c = caps_with(0, 0, 0, VTD_ECAP_ERS);
    start_caps(&c);
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWUX, 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0); /* reads need no ERE */
    EXPECT_AT(xl(1, VA, VTD_ACC_X, false), 0x5C, 0, 0);
    cfg.ere = true;
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
}

Test(faults, pasid_ere_needs_ers)
{
    start(); /* no ECAP.ERS: an execute request is a read, and ERE does not exist */
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWUX, 0);
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
}

Test(faults, pasid_ere_not_for_second_stage_only)
{
    struct vtd_caps c = caps_with(0, 0, 0, VTD_ECAP_ERS);
    start_caps(&c);
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, RWX, 0);
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
}

Test(faults, pasid_sre)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, true), 0x5D, 0, 0);
    cfg.sre = true;
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_R, true), 0);
    cr_assert(x.priv);
}

Test(faults, pasid_sre_for_rid_priv)
{
    start();
    fs_pasid(0, 4); /* RID_PASID */
    map4k(&fs, VA, PA, RWU, 0);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0);
    ctx.rid_priv = true; /* requests without PASID become privileged */
    rebuild_ctx(SID);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0x5D);
    cfg.sre = true;
    rebuild_pe(0);
    EXPECT(xl(-1, VA, VTD_ACC_R, false), 0);
}

Test(faults, pasid_sre_not_for_second_stage_only)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, RW, 0);
    EXPECT(xl(1, VA, VTD_ACC_R, true), 0);
}
