/*
 * test_faults_perm.c: the walker's faults for the address and permission checks on the request
 * (fault codes 80h-87h, VT-d 7.1.3).
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- 80h-87h: address and permission checks -------------------------------------------- */

Test(faults, non_canonical)
{
    start();
    fs_pasid(1, 4);
    fs_pasid(2, 5);
    const struct {
        const char *name;
        uint32_t pasid;
        uint64_t va;
        int expect;
        unsigned level;
    } rows[] = {
        { .name = "4-level, bit 47 set, 63:48 clear", .pasid = 1, .va = UINT64_C(0x0000800000000000), .expect = 0x80 },
        { .name = "4-level, sign-extended", .pasid = 1, .va = UINT64_C(0xffff800000000000), .expect = 0x71,
          .level = 4 },
        { .name = "4-level, top of the lower half", .pasid = 1, .va = UINT64_C(0x00007ffffffff000), .expect = 0x71,
          .level = 4 },
        { .name = "5-level, bit 47 set", .pasid = 2, .va = UINT64_C(0x0000800000000000), .expect = 0x71, .level = 5 },
        { .name = "5-level, bit 56 set, 63:57 clear", .pasid = 2, .va = UINT64_C(0x0100000000000000), .expect = 0x80 },
        { .name = "5-level, sign-extended", .pasid = 2, .va = UINT64_C(0xff00000000000000), .expect = 0x71,
          .level = 5 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = xl(rows[i].pasid, rows[i].va, VTD_ACC_R, false);
        cr_assert_eq(rc, rows[i].expect, "row '%s': expected %#x, got %#x", rows[i].name, (unsigned)rows[i].expect,
                     (unsigned)rc);
        cr_assert_eq(x.fault.level, rows[i].level, "row '%s': level %u", rows[i].name, x.fault.level);
        if (rc == 0x80)
            cr_assert_eq(x.fault.addr, 0, "row '%s'", rows[i].name);
    }
}

Test(faults, us_violation)
{
    start();
    fs_pasid(1, 4);
    cfg.sre = true;
    rebuild_pe(1);
    map4k(&fs, VA, PA, RW, 0);                /* supervisor page */
    map4k(&fs, VA + PAGE, PA + PAGE, RWU, 0); /* user page */
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_R, false), 0x81, 1);
    EXPECT(xl(1, VA, VTD_ACC_R, true), 0);
    EXPECT(xl(1, VA + PAGE, VTD_ACC_R, false), 0);
    /* U/S clear in a directory entry covers the user page below it too. */
    clr_bits(pt_entry(&fs, VA, 2), VTD_FS_US);
    EXPECT_LEVEL(xl(1, VA + PAGE, VTD_ACC_R, false), 0x81, 1);
    EXPECT(xl(1, VA + PAGE, VTD_ACC_R, true), 0);
}

Test(faults, exec_denied_first_stage)
{
    struct vtd_caps c = caps_with(0, 0, 0, VTD_ECAP_ERS);
    start_caps(&c);
    fs_pasid(1, 4);
    cfg.ere = true;
    cfg.nxe = true; /* XD means execute-disable (not a reserved bit) */
    rebuild_pe(1);
    map4k(&fs, VA, PA, RWU, 0);                /* XD set */
    map4k(&fs, VA + PAGE, PA + PAGE, RWUX, 0); /* XD clear */
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_X, false), 0x82, 1);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT(xl(1, VA + PAGE, VTD_ACC_X, false), 0);
}

Test(faults, exec_without_ers_is_a_read)
{
    start(); /* revision 3.2+: no ECAP.ERS, no ERE/NXE */
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0); /* XD set */
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
}

Test(faults, exec_denied_smep)
{
    struct vtd_caps c = caps_with(0, 0, 0, VTD_ECAP_ERS);
    start_caps(&c);
    fs_pasid(1, 4);
    cfg.ere = cfg.nxe = cfg.sre = cfg.smep = true;
    rebuild_pe(1);
    map4k(&fs, VA, PA, RWUX, 0); /* an executable user page */
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_X, true), 0x82, 1);
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
    cfg.smep = false;
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_X, true), 0);
}

Test(faults, exec_denied_second_stage)
{
    struct vtd_caps c = caps_with(0, 0, 0, VTD_ECAP_ERS);
    start_caps(&c);
    ss_pasid(1, 4);
    cfg.ssee = true;
    rebuild_pe(1);
    map4k(&ss, VA, PA, RW, 0);
    map4k(&ss, VA + PAGE, PA + PAGE, RWX, 0);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_X, false), 0x82, 1);
    EXPECT(xl(1, VA + PAGE, VTD_ACC_X, false), 0);
    cfg.ssee = false; /* execute not restricted by the second stage */
    rebuild_pe(1);
    EXPECT(xl(1, VA, VTD_ACC_X, false), 0);
}

Test(faults, beyond_haw)
{
    start();
    pt_pasid(1);
    EXPECT(xl(1, HAW_LIMIT - 8, VTD_ACC_W, false), 0);
    cr_assert_eq(x.out, HAW_LIMIT - 8);
    EXPECT_AT(xl(1, HAW_LIMIT, VTD_ACC_R, false), 0x83, 0, 0);
    /* Translated requests carry a host address: the same limit. */
    EXPECT(xl_kind(SID, 1, HAW_LIMIT - PAGE, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0);
    EXPECT(xl_kind(SID, 1, HAW_LIMIT, VTD_ACC_R, false, VTD_REQ_TRANSLATED), 0x83);
}

Test(faults, beyond_agaw)
{
    start();
    ss_pasid(1, 3);
    map4k(&ss, BIT(39) - PAGE, PA, RW, 0);
    EXPECT(xl(1, BIT(39) - PAGE, VTD_ACC_R, false), 0);
    EXPECT_AT(xl(1, BIT(39), VTD_ACC_R, false), 0x84, 0, 0);
    ss_pasid(2, 4); /* 48-bit AGAW: the same address is walked */
    EXPECT_AT(xl(2, BIT(39), VTD_ACC_R, false), 0x86, pt_entry(&ss, BIT(39), 4), 4);
    map4k(&ss, BIT(39), PA, RW, 0);
    EXPECT(xl(2, BIT(39), VTD_ACC_R, false), 0);
}

Test(faults, write_denied_first_stage)
{
    start();
    fs_pasid(1, 4);
    cfg.sre = true;
    rebuild_pe(1);
    map4k(&fs, VA, PA, R | U, 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_W, false), 0x85, 1);
    EXPECT(xl(1, VA, VTD_ACC_W, true), 0); /* supervisor, WPE clear */
    cfg.wpe = true;
    rebuild_pe(1);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_W, true), 0x85, 1);
    EXPECT(xl(1, VA, VTD_ACC_R, true), 0);
}

Test(faults, write_denied_by_a_directory_entry)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, RWU, 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    clr_bits(pt_entry(&fs, VA, 3), VTD_FS_RW);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_W, false), 0x85, 1);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
}

Test(faults, write_denied_second_stage)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, R, 0);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_W, false), 0x85, 1);
    /* Not present: a write is a write fault. */
    EXPECT_AT(xl(1, VA + PAGE, VTD_ACC_W, false), 0x85, pt_entry(&ss, VA + PAGE, 1), 1);
}

Test(faults, read_denied_second_stage)
{
    start();
    ss_pasid(1, 4);
    map4k(&ss, VA, PA, W, 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0);
    EXPECT_LEVEL(xl(1, VA, VTD_ACC_R, false), 0x86, 1);
    /* Not present: a read is a read fault, at the level of the empty entry. */
    EXPECT_AT(xl(1, VA + PAGE, VTD_ACC_R, false), 0x86, pt_entry(&ss, VA + PAGE, 1), 1);
    EXPECT_AT(xl(1, VA + BIT(39), VTD_ACC_R, false), 0x86, pt_entry(&ss, VA + BIT(39), 4), 4);
}

Test(faults, intr_addr)
{
    start();
    fs_pasid(1, 4);
    const struct {
        uint64_t pa;
        int expect;
    } rows[] = {
        {UINT64_C(0xFED00000), 0}, {UINT64_C(0xFEDFF000), 0}, {UINT64_C(0xFEE00000), 0x87},
        {UINT64_C(0xFEEFF000), 0x87}, {UINT64_C(0xFEF00000), 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const uint64_t va = VA + i * PAGE;
        map4k(&fs, va, rows[i].pa, RWU, 0);
        int rc = xl(1, va + 0x40, VTD_ACC_W, false);
        cr_assert_eq(rc, rows[i].expect, "first stage to %#" PRIx64 ": expected %#x, got %#x", rows[i].pa,
                     (unsigned)rows[i].expect, (unsigned)rc);
        if (!rc)
            cr_assert_eq(x.out, rows[i].pa + 0x40);
        else
            cr_assert_eq(x.fault.addr, 0);
    }
    pt_pasid(2);
    EXPECT(xl(2, UINT64_C(0xFEDFFFFC), VTD_ACC_W, false), 0);
    EXPECT(xl(2, UINT64_C(0xFEE00000), VTD_ACC_W, false), 0x87);
    EXPECT(xl(2, UINT64_C(0xFEF00000), VTD_ACC_W, false), 0);
}
