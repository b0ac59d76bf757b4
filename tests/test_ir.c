/*
 * test_ir.c: interrupt remapping: the request and IRTE decoders (walker/irte.h), the interrupt
 * stage and its faults (20h-26h, FPD), the registers (IRTA, GCMD SIRTP/IRE/CFI, GSTS), the
 * interrupt entry cache with its IEC descriptor, the oracle's stale report, fault recording.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/regs.h"
#include "walker/irte.h"
#include "walker/walk.h"

#define TABLE UINT64_C(0x80000)
#define SID vtd_sid(0, 3, 0)

static struct vtd_iommu *io;

static void setup_caps(uint64_t extra_cap, uint64_t extra_ecap)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.caps.cap |= extra_cap;
    c.caps.ecap |= VTD_ECAP_IR | extra_ecap;
    io = vtd_iommu_new(&c, NULL);
    cr_assert_not_null(io);
}
static void setup(void) { setup_caps(VTD_CAP_PI, VTD_ECAP_EIM); }
static void teardown(void) { vtd_iommu_free(io); }

/* 256 entries (S = 7), x2APIC mode. */
static void table_on(bool cfi) { vtd_iommu_set_irt(io, TABLE | 7 | VTD_IRTA_EIME, cfi); }

static void put_irte(uint32_t index, const struct vtd_irte *e)
{
    uint64_t qw[2];
    vtd_irte_encode(e, true, &qw[0], &qw[1]);
    cr_assert_eq(vtd_mem_write(vtd_iommu_mem(io), TABLE + 16 * index, qw, sizeof qw), 0);
}

static struct vtd_irte remapped(uint8_t vector, uint32_t dest)
{
    return (struct vtd_irte){.present = true, .vector = vector, .dest = dest, .sid = SID, .svt = VTD_SVT_SID};
}

/* A remappable-format request for `handle`, SHV clear. */
static uint64_t handle_addr(uint32_t handle)
{
    return 0xFEE00000u | vtd_field_prep(handle & 0x7FFF, VTD_IRQ_ADDR_HANDLE_LO) | VTD_IRQ_ADDR_IF |
           ((handle >> 15) ? VTD_IRQ_ADDR_HANDLE_HI : 0);
}

static int irq(uint16_t sid, uint64_t addr, uint32_t data, struct vtd_dma_result *res)
{
    struct vtd_request req = {.sid = sid, .addr = addr, .data = data, .access = VTD_ACC_W, .kind = VTD_REQ_INTERRUPT};
    return vtd_iommu_interrupt(io, &req, res);
}

TestSuite(irte, .init = setup, .fini = teardown);

Test(irte, request_formats)
{
    struct vtd_irq_req r;
    /* Handle 0x8005: bits 14:0 in address 19:5, bit 15 in address bit 2; SHV adds the data. */
    cr_assert_eq(vtd_irq_decode(handle_addr(0x8005) | VTD_IRQ_ADDR_SHV, 3, &r), 0);
    cr_assert(r.remappable && r.shv);
    cr_assert_eq(r.handle, 0x8005);
    cr_assert_eq(r.index, 0x8008);
    cr_assert_eq(vtd_irq_decode(handle_addr(9), 0x10000, &r), VTD_FR_IR_REQ_RSVD, "data bits 31:16 are reserved");
    cr_assert_eq(vtd_irq_decode(0xFEE01000, 0x10000, &r), 0, "compatibility format: no reserved data check");
    cr_assert(!r.remappable);
    cr_assert(vtd_irq_addr_is_interrupt(0xFEEFFFFC));
    cr_assert(!vtd_irq_addr_is_interrupt(0xFEF00000));
    cr_assert(!vtd_irq_addr_is_interrupt(UINT64_C(0x1FEE00000)));
}

Test(irte, decode_encode_and_reserved)
{
    const struct vtd_caps *caps = vtd_iommu_caps(io);
    struct vtd_irte e = {.present = true, .fpd = true, .dm = true, .rh = true, .tm = true, .dlm = 1, .vector = 0x66,
                         .dest = 0x12345678, .sid = 0x1234, .sq = 2, .svt = VTD_SVT_SID}, d;
    uint64_t lo, hi;
    vtd_irte_encode(&e, true, &lo, &hi);
    cr_assert_eq(vtd_irte_decode(lo, hi, caps, true, &d), 0);
    cr_assert(d.fpd && d.dm && d.rh && d.tm && !d.posted);
    cr_assert_eq(d.dlm, 1);
    cr_assert_eq(d.vector, 0x66);
    cr_assert_eq(d.dest, 0x12345678);
    cr_assert_eq(d.sq, 2);
    /* xAPIC mode: a destination beyond DST bits 15:8 is reserved. */
    cr_assert_eq(vtd_irte_decode(lo, hi, caps, false, &d), VTD_FR_IR_IRTE_RSVD);
    cr_assert_eq(vtd_irte_decode(lo | VTD_BIT(12), hi, caps, true, &d), VTD_FR_IR_IRTE_RSVD);
    cr_assert_eq(vtd_irte_decode(lo, hi | VTD_BIT(40), caps, true, &d), VTD_FR_IR_IRTE_RSVD);
    cr_assert_eq(vtd_irte_decode(lo, hi | VTD_IRTE_SVT, caps, true, &d), VTD_FR_IR_IRTE_RSVD, "SVT 11b");
    cr_assert_eq(vtd_irte_decode(lo & ~VTD_IRTE_P, hi, caps, true, &d), VTD_FR_IR_ENTRY_P);
    cr_assert(d.fpd, "FPD is read from a not-present entry too");
    /* xAPIC: the APIC ID sits in DST bits 15:8. */
    e.dest = 0x7;
    vtd_irte_encode(&e, false, &lo, &hi);
    cr_assert_eq(vtd_field(lo, VTD_IRTE_DST), 0x700);
    cr_assert_eq(vtd_irte_decode(lo, hi, caps, false, &d), 0);
    cr_assert_eq(d.dest, 7);
}

Test(irte, posted_format)
{
    struct vtd_irte e = {.present = true, .posted = true, .urgent = true, .vector = 0xEC,
                         .pda = UINT64_C(0x123456789C0)}, d;
    uint64_t lo, hi;
    vtd_irte_encode(&e, true, &lo, &hi);
    cr_assert(lo & VTD_IRTE_IM);
    cr_assert_eq(vtd_irte_decode(lo, hi, vtd_iommu_caps(io), true, &d), 0);
    cr_assert(d.posted && d.urgent);
    cr_assert_eq(d.pda, UINT64_C(0x123456789C0));
    cr_assert_eq(d.vector, 0xEC);
    struct vtd_caps nopi = *vtd_iommu_caps(io);
    nopi.cap &= ~VTD_CAP_PI;
    cr_assert_eq(vtd_irte_decode(lo, hi, &nopi, true, &d), VTD_FR_IR_IRTE_RSVD, "posted format needs CAP.PI");
}

Test(irte, source_validation)
{
    struct vtd_irte e = {.sid = vtd_sid(2, 1, 4), .svt = VTD_SVT_SID};
    cr_assert(vtd_irte_sid_ok(&e, vtd_sid(2, 1, 4)));
    cr_assert(!vtd_irte_sid_ok(&e, vtd_sid(2, 1, 0)));
    e.sq = 1; /* function bit 2 ignored */
    cr_assert(vtd_irte_sid_ok(&e, vtd_sid(2, 1, 0)));
    cr_assert(!vtd_irte_sid_ok(&e, vtd_sid(2, 1, 1)));
    e.sq = 3; /* the whole function number ignored */
    cr_assert(vtd_irte_sid_ok(&e, vtd_sid(2, 1, 7)));
    cr_assert(!vtd_irte_sid_ok(&e, vtd_sid(2, 2, 7)));
    e = (struct vtd_irte){.sid = 0x0305, .svt = VTD_SVT_BUS}; /* buses 3..5 */
    cr_assert(vtd_irte_sid_ok(&e, vtd_sid(3, 0, 0)) && vtd_irte_sid_ok(&e, vtd_sid(5, 31, 7)));
    cr_assert(!vtd_irte_sid_ok(&e, vtd_sid(2, 0, 0)) && !vtd_irte_sid_ok(&e, vtd_sid(6, 0, 0)));
    e.svt = VTD_SVT_NONE;
    cr_assert(vtd_irte_sid_ok(&e, 0xFFFF));
    cr_assert_str_eq(vtd_irte_dlm_name(7), "extint");
    cr_assert_str_eq(vtd_irte_dlm_name(3), "rsvd");
}

Test(irte, remapped_and_faults)
{
    struct vtd_dma_result res;
    /* Remapping off: every request passes as the APIC reads it. */
    cr_assert_eq(irq(SID, 0xFEE0300C, 0x8000 | 0x400 | 0x31, &res), 0);
    cr_assert(!res.x.intr.remapped);
    cr_assert_eq(res.x.intr.vector, 0x31);
    cr_assert_eq(res.x.intr.dest, 3);
    cr_assert(res.x.intr.dm && res.x.intr.rh && res.x.intr.tm);
    cr_assert_eq(res.x.intr.dlm, 4);
    table_on(false);
    struct vtd_irte e = remapped(0x41, 0x100);
    put_irte(5, &e);
    cr_assert_eq(irq(SID, handle_addr(5), 0, &res), 0);
    cr_assert(res.x.intr.remapped);
    cr_assert_eq(res.x.intr.vector, 0x41);
    cr_assert_eq(res.x.intr.dest, 0x100);
    cr_assert_eq(res.x.intr.irte_addr, TABLE + 5 * 16);
    cr_assert_eq(res.source, VTD_SRC_WALK);
    cr_assert_eq(res.reads, 1);
    /* SHV: handle 3 + subhandle 2 = index 5. */
    cr_assert_eq(irq(SID, handle_addr(3) | VTD_IRQ_ADDR_SHV, 2, &res), 0);
    cr_assert_eq(res.x.intr.index, 5);
    cr_assert_eq(res.source, VTD_SRC_IEC);
    cr_assert_eq(irq(SID, 0xFEE00000, 0x31, &res), VTD_FR_IR_REQ_COMPAT);
    cr_assert_eq(irq(SID, handle_addr(256), 0, &res), VTD_FR_IR_INDEX_OVER);
    cr_assert_eq(irq(SID, handle_addr(6), 0, &res), VTD_FR_IR_ENTRY_P);
    cr_assert_eq(irq(SID, handle_addr(5), 0x10000, &res), VTD_FR_IR_REQ_RSVD);
    cr_assert_eq(irq(vtd_sid(0, 4, 0), handle_addr(5), 0, &res), VTD_FR_IR_SID_ERR);
    cr_assert(!res.x.fault.suppressed);
    /* FPD suppresses the faults found in the IRTE, not the request's own. */
    e.fpd = true;
    e.present = false;
    put_irte(7, &e);
    cr_assert_eq(irq(SID, handle_addr(7), 0, &res), VTD_FR_IR_ENTRY_P);
    cr_assert(res.x.fault.suppressed);
    cr_assert(vtd_fault_qualified(VTD_FR_IR_SID_ERR) && !vtd_fault_qualified(VTD_FR_IR_INDEX_OVER));
    /* A table beyond the host address width cannot be read (23h). */
    vtd_iommu_set_irt(io, UINT64_C(1) << 50 | 7, false);
    cr_assert_eq(irq(SID, handle_addr(1), 0, &res), VTD_FR_IR_ROOT_INVAL);
    /* CFI lets compatibility-format requests through. */
    vtd_iommu_set_irt(io, TABLE | 7 | VTD_IRTA_EIME, true);
    cr_assert_eq(irq(SID, 0xFEE00000, 0x31, &res), 0);
    cr_assert(!res.x.intr.remapped);
    cr_assert_eq(vtd_iommu_stats(io)->interrupts, 11);
}

Test(irte, untranslated_write_is_an_interrupt)
{
    struct vtd_dma_result res;
    table_on(false);
    struct vtd_irte e = remapped(0x52, 1);
    put_irte(2, &e);
    struct vtd_request dma = {.sid = SID, .addr = handle_addr(2), .access = VTD_ACC_W};
    cr_assert(vtd_iommu_is_interrupt(&dma));
    cr_assert_eq(vtd_iommu_dma(io, &dma, &res), 0, "no root table: a DMA would fault");
    cr_assert_eq(res.x.intr.vector, 0x52);
    dma.pasid_valid = true;
    cr_assert(!vtd_iommu_is_interrupt(&dma), "with PASID it is a DMA");
    dma.pasid_valid = false;
    dma.access = VTD_ACC_R;
    cr_assert(!vtd_iommu_is_interrupt(&dma));
}

Test(irte, fault_record_holds_the_index)
{
    struct vtd_dma_result res;
    table_on(false);
    cr_assert_eq(irq(SID, handle_addr(9), 0, &res), VTD_FR_IR_ENTRY_P);
    struct vtd_fault_record r;
    cr_assert_eq(vtd_iommu_read_fault_record(io, 0, &r), 0);
    cr_assert(r.pending && r.is_write);
    cr_assert_eq(r.reason, VTD_FR_IR_ENTRY_P);
    cr_assert_eq(r.sid, SID);
    cr_assert_eq(r.at, 0);
    cr_assert_eq(r.addr >> 48, 9);
}

Test(irte, registers)
{
    uint64_t v;
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_IRTA, 8, TABLE | VTD_IRTA_EIME | 7 | VTD_BIT(5)), 0);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_IRTA, 8, &v), 0);
    cr_assert_eq(v, TABLE | VTD_IRTA_EIME | 7, "bits 10:4 are reserved");
    cr_assert_str_eq(vtd_iommu_reg_name(io, VTD_REG_IRTA), "IRTA");
    cr_assert_eq(vtd_iommu_ir(io).irta, 0, "IRTA is latched by SIRTP only");
    vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_SIRTP);
    cr_assert_eq(vtd_iommu_ir(io).irta, TABLE | VTD_IRTA_EIME | 7);
    vtd_iommu_reg_read(io, VTD_REG_GSTS, 4, &v);
    cr_assert_eq(v & (VTD_GSTS_IRTPS | VTD_GSTS_IRES), VTD_GSTS_IRTPS);
    vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_IRE | VTD_GCMD_CFI);
    vtd_iommu_reg_read(io, VTD_REG_GSTS, 4, &v);
    cr_assert_eq(v & (VTD_GSTS_IRES | VTD_GSTS_CFIS), VTD_GSTS_IRES | VTD_GSTS_CFIS);
    cr_assert(vtd_iommu_ir(io).enabled && vtd_iommu_ir(io).cfi);
    /* IRE and CFI are levels: a write without them turns them off. */
    vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_IRE);
    cr_assert(vtd_iommu_ir(io).enabled && !vtd_iommu_ir(io).cfi);
    vtd_iommu_reset(io);
    cr_assert(!vtd_iommu_ir(io).enabled);
    cr_assert_eq(vtd_iommu_ir(io).irta, 0);
}

Test(irte, registers_need_ecap_ir)
{
    vtd_iommu_free(io);
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    io = vtd_iommu_new(&c, NULL);
    vtd_iommu_reg_write(io, VTD_REG_IRTA, 8, TABLE | 7);
    vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_SIRTP | VTD_GCMD_IRE);
    uint64_t v;
    vtd_iommu_reg_read(io, VTD_REG_GSTS, 4, &v);
    cr_assert_eq(v & (VTD_GSTS_IRTPS | VTD_GSTS_IRES), 0);
    cr_assert(!vtd_iommu_ir(io).enabled);
}

/* A changed IRTE served from the IEC is stale until an IEC descriptor covering its index. */
static void iec_stale_then(const struct vtd_desc *d, bool removes)
{
    struct vtd_dma_result res;
    table_on(false);
    struct vtd_irte e = remapped(0x41, 2);
    put_irte(12, &e);
    cr_assert_eq(irq(SID, handle_addr(12), 0, &res), 0);
    e.vector = 0x42;
    put_irte(12, &e);
    cr_assert_eq(irq(SID, handle_addr(12), 0, &res), 0);
    cr_assert(res.stale);
    cr_assert_eq(res.source, VTD_SRC_IEC);
    cr_assert_eq(res.x.intr.vector, 0x41);
    cr_assert_eq(res.report.fresh.intr.vector, 0x42);
    cr_assert_str_eq(res.report.fix, "IEC index-selective IIDX 12 IM 0");
    struct vtd_qi_result r = {0};
    cr_assert_eq(vtd_qi_submit_desc(io, d, &r), 0);
    cr_assert_eq(r.iec_removed, removes ? 1u : 0u);
    cr_assert_eq(irq(SID, handle_addr(12), 0, &res), 0);
    cr_assert_eq(res.x.intr.vector, removes ? 0x42 : 0x41);
    cr_assert_eq(res.stale, !removes);
}

Test(irte, iec_index_selective)
{
    struct vtd_desc d = vtd_desc_iec(true, 12, 0);
    iec_stale_then(&d, true);
}
Test(irte, iec_other_index) { struct vtd_desc d = vtd_desc_iec(true, 13, 0); iec_stale_then(&d, false); }
Test(irte, iec_mask_covers) { struct vtd_desc d = vtd_desc_iec(true, 13, 2); iec_stale_then(&d, true); }
Test(irte, iec_mask_misses) { struct vtd_desc d = vtd_desc_iec(true, 8, 2); iec_stale_then(&d, false); }
Test(irte, iec_global) { struct vtd_desc d = vtd_desc_iec(false, 0, 0); iec_stale_then(&d, true); }

Test(irte, iec_geometry_refused)
{
    vtd_iommu_free(io);
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.iec = (struct vtd_cache_geometry){.sets = 1u << 20, .ways = 1u << 10}; /* beyond any cache's limit */
    const char *why = NULL;
    io = vtd_iommu_new(&c, &why);
    cr_assert_null(io);
    cr_assert_not_null(why);
}
