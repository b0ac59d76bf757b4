/*
 * test_faults_report.c: the walker's faults for how faults are reported: fault processing disable
 * (FPD), the fault qualification, and ATS translation requests, whose permission outcomes are
 * not faults.
 * The fixture, the helpers and what every test checks are in faults_fixture.h.
 */
#include "faults_fixture.h"

/* ---- fault processing disable (FPD) ---------------------------------------------------- */

Test(faults, fpd_pasid_entry)
{
    start();
    fs_pasid(1, 4);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x71);
    cr_assert_not(x.fault.suppressed);
    cfg.fpd = true;
    rebuild_pe(1);
    EXPECT_AT(xl(1, VA, VTD_ACC_R, false), 0x71, pt_entry(&fs, VA, 4), 4);
    cr_assert(x.fault.suppressed);
}

Test(faults, fpd_context_not_for_root_faults)
{
    start();
    pt_pasid(1);
    ctx.fpd = true;
    rebuild_ctx(SID);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0);
    EXPECT(xl(2, 0x1000, VTD_ACC_R, false), 0x59); /* qualified: suppressed */
    cr_assert(x.fault.suppressed);
    clr_bits(root_half(SID), VTD_ROOT_P);
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0x39); /* no context entry was reached */
    cr_assert_not(x.fault.suppressed);
}

Test(faults, fpd_context_not_for_its_own_reserved_bits)
{
    start();
    pt_pasid(1);
    ctx.fpd = true;
    rebuild_ctx(SID);
    set_bits(ctx_entry(SID), BIT(5));
    EXPECT(xl(1, 0x1000, VTD_ACC_R, false), 0x42);
    cr_assert_not(x.fault.suppressed);
}

Test(faults, fpd_pasid_directory_entry)
{
    start();
    pt_pasid(1);
    EXPECT(xl(2, 0x1000, VTD_ACC_R, false), 0x59);
    cr_assert_not(x.fault.suppressed);
    set_bits(vtd_pasid_dir_entry_addr(ctx.pdtp, 2), VTD_PDIR_FPD);
    EXPECT_AT(xl(2, 0x1000, VTD_ACC_R, false), 0x59, pe_entry(2), 0);
    cr_assert(x.fault.suppressed);
    /* And a fault further on, through the same directory entry. */
    fs_pasid(3, 4);
    EXPECT(xl(3, VA, VTD_ACC_R, false), 0x71);
    cr_assert(x.fault.suppressed);
    /* Another directory entry is not covered. */
    fs_pasid(64, 4);
    EXPECT(xl(64, VA, VTD_ACC_R, false), 0x71);
    cr_assert_not(x.fault.suppressed);
}

/*
 * The walk never knows a context entry's FPD before that entry decodes, so the qualification
 * rule itself is checked directly: faults before a context entry is accepted (RTADDR, root
 * entry, context entry itself) are never suppressible; from 44h on they are (docs/walker.md).
 */
Test(faults, fault_qualification)
{
    static const int unqualified[] = {0x30, 0x31, 0x38, 0x39, 0x3A, 0x40, 0x41, 0x42, 0x43};
    static const int qualified[] = {0x44, 0x45, 0x46, 0x48, 0x50, 0x51, 0x52, 0x58, 0x59, 0x5A, 0x5B,
                                    0x5C, 0x5D, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
                                    0x7A, 0x7B, 0x7C, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x90};
    for (size_t i = 0; i < sizeof(unqualified) / sizeof(unqualified[0]); i++)
        cr_assert_not(vtd_fault_qualified(unqualified[i]), "%#x must not be suppressible", (unsigned)unqualified[i]);
    for (size_t i = 0; i < sizeof(qualified) / sizeof(qualified[0]); i++)
        cr_assert(vtd_fault_qualified(qualified[i]), "%#x must be suppressible under FPD", (unsigned)qualified[i]);
}

/*
 * WALKER BUG: walker/pasid_entry.c:95 (pasid_entry_decode) stores out->fpd before the second-
 * and first-stage field checks at :100-103, and walker/translate.c:129 (vtd_translate) then
 * reads x->pe.fpd even though the decode failed. So an entry rejected by those later checks
 * (AW not supported, FSPM, SSADE/EAFE/SRE/ERE without the capability, ...) has its own FPD
 * honoured and its 5Ah/5Bh comes back suppressed, while the same entry with FPD rejected by
 * the earlier checks (PGTT, qw3-qw7, qw0 11:10, DID, memory type) is not suppressed. An entry
 * that failed validation must not be used, its FPD included (QEMU's model reads the PASID
 * entry's FPD only after validating the entry); at the very least one code cannot be both.
 * Expected here: suppressed == false in both cases. The second assertion fails today.
 */
Test(faults, fpd_of_an_invalid_pasid_entry_is_not_used)
{
    start();
    ss_pasid(1, 4);
    struct vtd_pasid_entry pe;
    cfg.fpd = true;
    pasid_entry_encode(&cfg, &pe);
    pe.qw[0] &= ~VTD_PE_PGTT; /* PGTT 0: rejected before FPD is decoded */
    pe_write_raw(1, &pe);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x5B);
    cr_assert_not(x.fault.suppressed, "PGTT 0 with FPD");
    pasid_entry_encode(&cfg, &pe);
    pe.qw[0] &= ~VTD_PE_AW; /* AW 0: rejected after FPD was decoded */
    pe_write_raw(1, &pe);
    EXPECT(xl(1, VA, VTD_ACC_R, false), 0x5B);
    cr_assert_not(x.fault.suppressed, "AW 0 with FPD: the invalid entry's FPD was used (walker bug)");
}

/* ---- ATS translation requests: permission outcomes are not faults ---------------------- */

Test(faults, ats_translation_not_present_is_no_access)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, R | U, 0);
    EXPECT(xl(1, VA + PAGE, VTD_ACC_R, false), 0x71); /* ordinary DMA faults */
    EXPECT(xl_kind(SID, 1, VA + PAGE, VTD_ACC_R, false, VTD_REQ_TRANSLATION), 0);
    cr_assert_eq(x.fault.code, 0);
    cr_assert_not(x.fault.suppressed);
    cr_assert_eq(x.perm, 0);
    cr_assert_eq(w.env.cnt.ad_writes, 0);
}

Test(faults, ats_translation_reports_permissions)
{
    start();
    fs_pasid(1, 4);
    map4k(&fs, VA, PA, R | U, 0);
    EXPECT(xl(1, VA, VTD_ACC_W, false), 0x85); /* ordinary DMA faults */
    EXPECT(xl_kind(SID, 1, VA, VTD_ACC_R | VTD_ACC_W, false, VTD_REQ_TRANSLATION), 0);
    cr_assert_eq(x.out, PA);
    cr_assert(x.perm & VTD_PERM_R);
    cr_assert_not(x.perm & VTD_PERM_W);
    cr_assert_not(rd(pt_entry(&fs, VA, 1)) & VTD_FS_D, "no D for a write that was not granted");
}
