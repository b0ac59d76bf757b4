/*
 * test_qi_desc.c: the descriptor codec (sim/qi_desc.h): every encoder's fields come back from
 * its decoder, sit where VT-d 6.5.2 puts them, and the device-TLB size encoding covers exactly
 * the block it was asked for.
 */
#include <criterion/criterion.h>

#include "sim/qi_desc.h"

/* The type of every encoder's descriptor, and its width: 256-bit from type 6 on (6.5.2). */
Test(qi_desc, types_and_widths)
{
    struct { struct vtd_desc d; unsigned type, nqw; } rows[] = {
        {vtd_desc_cc(VTD_QI_CC_G_GLOBAL, 0, 0, 0), VTD_QI_CC, 2},
        {vtd_desc_iotlb(VTD_QI_IOTLB_G_GLOBAL, 0, 0, 0, false, false, false), VTD_QI_IOTLB, 2},
        {vtd_desc_devtlb(0, 0, 0, vtd_devtlb_size_encode(0, 0)), VTD_QI_DEVTLB, 2},
        {vtd_desc_iec(false, 0, 0), VTD_QI_IEC, 2},
        {vtd_desc_wait(0, 0, 0), VTD_QI_WAIT, 2},
        {vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, 0, 0, 0, 0, false), VTD_QI_PIOTLB, 4},
        {vtd_desc_pc(VTD_QI_PC_G_GLOBAL, 0, 0), VTD_QI_PC, 4},
        {vtd_desc_p_devtlb(0, 0, 0, 0, false, vtd_devtlb_size_encode(0, 0)), VTD_QI_PDEVTLB, 4},
        {vtd_desc_pgrp_resp(0, false, 0, 0, 0), VTD_QI_PGRP_RESP, 4},
        {vtd_desc_bare(0x15), 0x15, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cr_assert_eq(vtd_desc_type(rows[i].d.qw[0]), rows[i].type, "row %zu", i);
        cr_assert_eq(rows[i].d.nqw, rows[i].nqw, "row %zu", i);
        cr_assert_eq(rows[i].d.qw[2] | rows[i].d.qw[3], 0, "row %zu", i);
    }
    cr_assert_eq(vtd_desc_bare(0x15).qw[0], 0x205, "type bits 6:4 go to qw0 11:9");
}

Test(qi_desc, fields_round_trip)
{
    struct vtd_desc d = vtd_desc_cc(VTD_QI_CC_G_DEVICE, 0x1234, 0xabcd, 3);
    struct vtd_desc_cc_fields cc = vtd_desc_cc_decode(d.qw);
    cr_assert(cc.g == 3 && cc.did == 0x1234 && cc.sid == 0xabcd && cc.fm == 3);
    cr_assert_eq(d.qw[0], 0x3abcd12340031, "qw0 0x%llx", (unsigned long long)d.qw[0]);

    d = vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, 7, 0x200123, 9, true, true, false);
    struct vtd_desc_iotlb_fields io = vtd_desc_iotlb_decode(d.qw);
    cr_assert(io.g == 3 && io.did == 7 && io.addr == 0x200000 && io.am == 9 && io.ih && io.dr && !io.dw);
    cr_assert_eq(d.qw[1], 0x200049);

    d = vtd_desc_devtlb(0x20, 0x1234, 31, (struct vtd_devtlb_size){0x5000, true});
    struct vtd_desc_devtlb_fields dt = vtd_desc_devtlb_decode(d.qw);
    cr_assert(dt.sid == 0x20 && dt.pfsid == 0x1234 && dt.qdep == 31 && dt.addr == 0x5000 && dt.s);
    cr_assert_eq(d.qw[0], (UINT64_C(0x123) << 52) | (UINT64_C(0x20) << 32) | (31u << 16) | (4u << 12) | 3);

    d = vtd_desc_iec(true, 0x99, 4);
    struct vtd_desc_iec_fields iec = vtd_desc_iec_decode(d.qw);
    cr_assert(iec.index_selective && iec.iidx == 0x99 && iec.im == 4);

    d = vtd_desc_wait(VTD_QI_WAIT_IF | VTD_QI_WAIT_SW | VTD_QI_WAIT_PD, 0xabcd, 0x7003);
    struct vtd_desc_wait_fields w = vtd_desc_wait_decode(d.qw);
    cr_assert(w.iflag && w.sw && !w.fn && w.pd && w.data == 0xabcd);
    cr_assert_eq(w.status_addr, 0x7000, "the status address is dword aligned (qw1 63:2)");

    d = vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 1, 0xfffff, 0x3000, 1, false);
    struct vtd_desc_p_iotlb_fields pi = vtd_desc_p_iotlb_decode(d.qw);
    cr_assert(pi.g == 3 && pi.did == 1 && pi.pasid == 0xfffff && pi.addr == 0x3000 && pi.am == 1 && !pi.ih);

    d = vtd_desc_pc(VTD_QI_PC_G_PASID, 5, 77);
    struct vtd_desc_pc_fields pc = vtd_desc_pc_decode(d.qw);
    cr_assert(pc.g == 1 && pc.did == 5 && pc.pasid == 77);

    d = vtd_desc_p_devtlb(0x21, 0xfff1, 2, 9, true, (struct vtd_devtlb_size){0x2000, false});
    struct vtd_desc_p_devtlb_fields pd = vtd_desc_p_devtlb_decode(d.qw);
    cr_assert(pd.sid == 0x21 && pd.pfsid == 0xfff1 && pd.qdep == 2 && pd.pasid == 9 && pd.all_pasids &&
              pd.addr == 0x2000 && !pd.s);

    d = vtd_desc_pgrp_resp(0x18, true, 3, 511, 15);
    struct vtd_desc_pgrp_resp_fields pg = vtd_desc_pgrp_resp_decode(d.qw);
    cr_assert(pg.rid == 0x18 && pg.pasid_present && pg.pasid == 3 && pg.prgi == 511 && pg.rc == 15 && !pg.lpig);
    cr_assert_eq(d.qw[1], 511u << 3);
}

/* Encoding 2^(12+order) bytes and decoding them again gives the aligned block that holds the
 * address (6.5.2.5), for every order up to everything. */
Test(qi_desc, devtlb_size_round_trip)
{
    uint64_t addr = UINT64_C(0x123456789000);
    for (unsigned order = 0; order <= 52; order++) {
        struct vtd_devtlb_size enc = vtd_devtlb_size_encode(addr, order);
        struct vtd_qi_range r = vtd_devtlb_size_decode(enc.addr, enc.s);
        cr_assert_eq(enc.s, order > 0, "order %u", order);
        if (order >= 52) {
            cr_assert(r.first == 0 && r.last == UINT64_MAX, "order %u", order);
            continue;
        }
        uint64_t size = UINT64_C(1) << (12 + order);
        cr_assert_eq(r.first, addr & ~(size - 1), "order %u", order);
        cr_assert_eq(r.last, r.first + size - 1, "order %u", order);
    }
    cr_assert_eq(vtd_devtlb_size_encode(0x5000, 2).addr, (0x5000 & ~UINT64_C(0x3fff)) | 0x1000, "16 KiB: one 1 at bit 12");
    cr_assert_eq(vtd_devtlb_size_encode(0, 60).addr, vtd_devtlb_size_encode(0, 52).addr, "beyond 52: everything");
}

Test(qi_desc, am_range_and_covering)
{
    struct vtd_qi_range r = vtd_qi_am_range(0x3000, 1);
    cr_assert(r.first == 0x2000 && r.last == 0x3fff, "ADDR bits below AM are ignored (6.5.2.3)");
    r = vtd_qi_am_range(0x3000, 52);
    cr_assert(r.first == 0 && r.last == UINT64_MAX);
    cr_assert_eq(vtd_qi_am_covering(0x3000, 0x4fff), 3, "[0x3000, 0x4fff] needs the 32 KiB block at 0");
    cr_assert_eq(vtd_qi_am_covering(0x4000, 0x4fff), 0);
    cr_assert_eq(vtd_qi_am_covering(0, UINT64_MAX), 52);
}
