/*
 * test_regs.c: the register file: identification registers, GCMD/GSTS (root table latch,
 * translation and queued-invalidation enables), access sizes and alignment, read-only and RW1C
 * bits, fault recording (overflow, freeing records, FRI, decoded fields, the Linux view of the
 * record) and the invalidation queue registers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/regs.h"

static struct vtd_iommu *io;
static struct vtd_iommu_config cfg;

static void setup(void)
{
    const char *why = NULL;
    vtd_iommu_config_default(&cfg);
    io = vtd_iommu_new(&cfg, &why);
    cr_assert_not_null(io, "%s", why ? why : "");
}

static void teardown(void) { vtd_iommu_free(io); }

TestSuite(regs, .init = setup, .fini = teardown);

static uint64_t rd(unsigned off, unsigned size)
{
    uint64_t v = 0xbad;
    cr_assert_eq(vtd_iommu_reg_read(io, off, size, &v), 0, "read 0x%x/%u", off, size);
    return v;
}

static void wr(unsigned off, unsigned size, uint64_t v)
{
    cr_assert_eq(vtd_iommu_reg_write(io, off, size, v), 0, "write 0x%x/%u", off, size);
}

static unsigned fro(void) { return (unsigned)vtd_field(cfg.caps.cap, VTD_CAP_FRO) * 16; }
static unsigned nfr(void) { return vtd_caps_nfr(&cfg.caps); }
static unsigned frcd_hi(unsigned i) { return fro() + i * VTD_FRCD_LEN + 8; }

/* A DMA fault from `sid` at `addr`, as the translation path reports it. */
static void fault(uint16_t sid, uint64_t addr, unsigned access, int code)
{
    struct vtd_request req = {.sid = sid, .addr = addr, .access = access};
    struct vtd_xlate x = {.fault = {.code = code}};
    iommu_record_fault(io, &req, &x);
}

static void clear_f(unsigned i) { wr(frcd_hi(i) + 4, 4, UINT32_C(1) << 31); }

/* ---- identification ---- */

Test(regs, cap_and_ecap_read_back_the_configuration)
{
    cr_assert_eq(rd(VTD_REG_CAP, 8), cfg.caps.cap);
    cr_assert_eq(rd(VTD_REG_ECAP, 8), cfg.caps.ecap);
    cr_assert_eq(rd(VTD_REG_CAP, 4), cfg.caps.cap & 0xFFFFFFFF);
    cr_assert_eq(rd(VTD_REG_CAP + 4, 4), cfg.caps.cap >> 32);
    cr_assert_eq(rd(VTD_REG_ECAP + 4, 4), cfg.caps.ecap >> 32);
}

Test(regs, version_is_4_0)
{
    uint64_t v = rd(VTD_REG_VER, 4);
    cr_assert_eq(v, 0x40);
    cr_assert_eq(vtd_field(v, VTD_VER_MAX), 4);
    cr_assert_eq(vtd_field(v, VTD_VER_MIN), 0);
}

Test(regs, read_only_registers_ignore_writes)
{
    wr(VTD_REG_CAP, 8, 0);
    wr(VTD_REG_ECAP + 4, 4, 0);
    wr(VTD_REG_VER, 4, 0x10);
    wr(VTD_REG_GSTS, 4, 0xFFFFFFFF);
    wr(VTD_REG_IQH, 8, 0x40);
    cr_assert_eq(rd(VTD_REG_CAP, 8), cfg.caps.cap);
    cr_assert_eq(rd(VTD_REG_ECAP, 8), cfg.caps.ecap);
    cr_assert_eq(rd(VTD_REG_VER, 4), 0x40);
    cr_assert_eq(rd(VTD_REG_GSTS, 4), 0);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 0);
    cr_assert_not(io->te);
}

/* ---- global command and status ---- */

Test(regs, srtp_latches_rtaddr)
{
    uint64_t rt = UINT64_C(0x12345000) | vtd_field_prep(1, VTD_RTADDR_TTM);
    wr(VTD_REG_RTADDR, 8, rt);
    cr_assert_eq(rd(VTD_REG_RTADDR, 8), rt);
    cr_assert_eq(io->rtaddr, 0, "RTADDR alone latches nothing");
    cr_assert_not(rd(VTD_REG_GSTS, 4) & VTD_GSTS_RTPS);

    wr(VTD_REG_GCMD, 4, VTD_GCMD_SRTP);
    cr_assert_eq(io->rtaddr, rt);
    cr_assert_eq(io->env.rtaddr, rt);
    cr_assert_eq(io->oracle_env.rtaddr, rt);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_RTPS);
    cr_assert_not(io->te, "SRTP does not enable translation");

    /* A new RTADDR is used only after the next SRTP. */
    wr(VTD_REG_RTADDR, 8, 0x99000);
    cr_assert_eq(io->env.rtaddr, rt);
}

Test(regs, rtaddr_reserved_bits_read_zero)
{
    wr(VTD_REG_RTADDR, 8, UINT64_C(0x7000) | 0x3FF);
    cr_assert_eq(rd(VTD_REG_RTADDR, 8), 0x7000);
}

Test(regs, te_sets_tes_and_is_a_level)
{
    wr(VTD_REG_GCMD, 4, VTD_GCMD_TE);
    cr_assert(io->te);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_TES);
    cr_assert_eq(rd(VTD_REG_GCMD, 4), 0, "GCMD is write-only");

    /* Writing a command without TE turns translation off: drivers keep a shadow of GCMD. */
    wr(VTD_REG_GCMD, 4, VTD_GCMD_TE | VTD_GCMD_SRTP);
    cr_assert(io->te);
    wr(VTD_REG_GCMD, 4, VTD_GCMD_SRTP);
    cr_assert_not(io->te);
    cr_assert_not(rd(VTD_REG_GSTS, 4) & VTD_GSTS_TES);
}

Test(regs, gsts_follows_set_root)
{
    vtd_iommu_set_root(io, 0x5000);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_TES);
}

Test(regs, unsupported_commands_are_ignored)
{
    wr(VTD_REG_GCMD, 4, VTD_GCMD_WBF | VTD_GCMD_IRE | VTD_GCMD_SIRTP | VTD_GCMD_CFI | VTD_GCMD_SFL | VTD_GCMD_EAFL);
    cr_assert_eq(rd(VTD_REG_GSTS, 4), 0);
    cr_assert_not(io->te);
}

/* ---- access sizes ---- */

Test(regs, halves_of_64_bit_registers)
{
    wr(VTD_REG_RTADDR, 4, 0x5000);
    wr(VTD_REG_RTADDR + 4, 4, 0x1);
    cr_assert_eq(rd(VTD_REG_RTADDR, 8), UINT64_C(0x100005000));
    wr(VTD_REG_RTADDR + 4, 4, 0x2);
    cr_assert_eq(rd(VTD_REG_RTADDR, 8), UINT64_C(0x200005000), "the low half is untouched");
    cr_assert_eq(rd(VTD_REG_RTADDR, 4), 0x5000);
    cr_assert_eq(rd(VTD_REG_RTADDR + 4, 4), 0x2);

    wr(VTD_REG_IQA + 4, 4, 0xAB);
    wr(VTD_REG_IQA, 4, 0x3000 | VTD_IQA_DW | 2);
    cr_assert_eq(rd(VTD_REG_IQA, 8), (UINT64_C(0xAB) << 32) | 0x3000 | VTD_IQA_DW | 2);
}

Test(regs, eight_bytes_over_two_32_bit_registers)
{
    /* FECTL at 0x38 and FEDATA at 0x3C in one access. */
    wr(VTD_REG_FECTL, 8, (UINT64_C(0x4321) << 32) | VTD_ECTL_IM);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), VTD_ECTL_IM);
    cr_assert_eq(rd(VTD_REG_FEDATA, 4), 0x4321);
    cr_assert_eq(rd(VTD_REG_FECTL, 8), (UINT64_C(0x4321) << 32) | VTD_ECTL_IM);

    wr(VTD_REG_GCMD, 4, VTD_GCMD_TE);
    cr_assert_eq(rd(VTD_REG_GCMD, 8), (uint64_t)VTD_GSTS_TES << 32, "GCMD reads 0, GSTS above it");
}

Test(regs, bad_size_or_alignment_is_einval)
{
    uint64_t v;
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_CAP + 1, 4, &v), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_CAP + 4, 8, &v), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_GSTS, 2, &v), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_CAP, 16, &v), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_CAP, 1, &v), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_CAP, 8, NULL), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_RTADDR + 2, 4, 0), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_GSTS, 8, 0), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_GCMD, 0, 0), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_write(NULL, VTD_REG_GCMD, 4, 0), -EINVAL);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_RTADDR + 4, 8, 0x1000), -EINVAL);
    cr_assert_eq(rd(VTD_REG_RTADDR, 8), 0, "a refused write changes nothing");
}

Test(regs, unknown_offsets_read_zero_and_ignore_writes)
{
    wr(0x50, 4, 0xFFFFFFFF);
    wr(0x1000, 8, ~UINT64_C(0));
    cr_assert_eq(rd(0x50, 4), 0);
    cr_assert_eq(rd(0x1000, 8), 0);
    cr_assert_eq(rd(0xFFFFFFF8u, 8), 0);
    cr_assert_null(vtd_iommu_reg_name(io, 0x50));
}

/* The last warning, if any was raised since `before`. */
static const char *warning_since(uint64_t before)
{
    uint64_t n = vtd_iommu_warning_count(io);
    return n > before ? vtd_iommu_warning(io, n - 1) : NULL;
}

Test(regs, register_based_invalidation_reports_granularity)
{
    unsigned iro = (unsigned)vtd_field(cfg.caps.ecap, VTD_ECAP_IRO) * 16;
    cr_assert_str_eq(vtd_iommu_reg_name(io, iro), "IVA");
    cr_assert_str_eq(vtd_iommu_reg_name(io, iro + 12), "IOTLB");
    /* After reset no root table is latched: TTM 00b, legacy mode, QI off. */
    wr(iro, 8, 0x1000 | VTD_IVA_IH | 1);
    wr(iro + 8, 8, VTD_IOTLB_IVT | vtd_field_prep(3, VTD_IOTLB_IIRG) | vtd_field_prep(5, VTD_IOTLB_DID));
    uint64_t v = rd(iro + 8, 8);
    cr_assert_eq(v & VTD_IOTLB_IVT, 0, "IVT reads clear: a polling driver does not hang");
    cr_assert_eq(vtd_field(v, VTD_IOTLB_IAIG), 3, "page-selective performed");
    cr_assert_eq(vtd_field(v, VTD_IOTLB_DID), 5);
    cr_assert_eq(rd(iro, 8), 0x1000 | VTD_IVA_IH | 1);
    wr(VTD_REG_CCMD, 8, VTD_CCMD_ICC | vtd_field_prep(1, VTD_CCMD_CIRG));
    v = rd(VTD_REG_CCMD, 8);
    cr_assert_eq(v & VTD_CCMD_ICC, 0);
    cr_assert_eq(vtd_field(v, VTD_CCMD_CAIG), 1, "global performed");
    /* A reserved granularity is not performed: CAIG 0 and a warning. */
    uint64_t w0 = vtd_iommu_warning_count(io);
    wr(VTD_REG_CCMD, 8, VTD_CCMD_ICC);
    cr_assert_eq(vtd_field(rd(VTD_REG_CCMD, 8), VTD_CCMD_CAIG), 0);
    cr_assert_not_null(warning_since(w0));
    /* A 4-byte write of the low half starts nothing; the high half (with ICC) does. */
    wr(VTD_REG_CCMD, 4, 7);
    cr_assert_eq(rd(VTD_REG_CCMD, 8), 7);
    wr(VTD_REG_CCMD + 4, 4, (uint32_t)((VTD_CCMD_ICC | vtd_field_prep(2, VTD_CCMD_CIRG)) >> 32));
    cr_assert_eq(rd(VTD_REG_CCMD, 8), 7 | vtd_field_prep(2, VTD_CCMD_CIRG) | vtd_field_prep(2, VTD_CCMD_CAIG));
}

Test(regs, register_based_invalidation_without_psi_is_domain_selective)
{
    vtd_iommu_free(io);
    vtd_iommu_config_default(&cfg);
    cfg.caps.cap &= ~VTD_CAP_PSI;
    const char *why = NULL;
    cr_assert_not_null(io = vtd_iommu_new(&cfg, &why), "%s", why ? why : "");
    unsigned iro = (unsigned)vtd_field(cfg.caps.ecap, VTD_ECAP_IRO) * 16;
    wr(iro, 8, 0x4000);
    wr(iro + 8, 8, VTD_IOTLB_IVT | vtd_field_prep(3, VTD_IOTLB_IIRG) | vtd_field_prep(2, VTD_IOTLB_DID));
    cr_assert_eq(vtd_field(rd(iro + 8, 8), VTD_IOTLB_IAIG), 2);
    /* AM above MAMV is refused: IAIG 0. */
    vtd_iommu_free(io);
    vtd_iommu_config_default(&cfg);
    cr_assert_not_null(io = vtd_iommu_new(&cfg, &why), "%s", why ? why : "");
    wr(iro, 8, vtd_caps_mamv(&cfg.caps) + 1);
    wr(iro + 8, 8, VTD_IOTLB_IVT | vtd_field_prep(3, VTD_IOTLB_IIRG));
    cr_assert_eq(vtd_field(rd(iro + 8, 8), VTD_IOTLB_IAIG), 0);
}

Test(regs, register_based_invalidation_refused_in_scalable_mode_and_with_qi)
{
    unsigned iro = (unsigned)vtd_field(cfg.caps.ecap, VTD_ECAP_IRO) * 16;
    wr(VTD_REG_RTADDR, 8, 0x5000 | vtd_field_prep(1, VTD_RTADDR_TTM));
    wr(VTD_REG_GCMD, 4, (uint32_t)VTD_GCMD_SRTP);
    uint64_t w0 = vtd_iommu_warning_count(io);
    wr(VTD_REG_CCMD, 8, VTD_CCMD_ICC | vtd_field_prep(1, VTD_CCMD_CIRG));
    cr_assert_eq(rd(VTD_REG_CCMD, 8), vtd_field_prep(1, VTD_CCMD_CIRG), "ICC clear, CAIG 0");
    cr_assert(strstr(warning_since(w0), "scalable mode"), "%s", warning_since(w0));
    /* Legacy root table, but queued invalidation enabled. */
    wr(VTD_REG_RTADDR, 8, 0x5000);
    wr(VTD_REG_GCMD, 4, (uint32_t)VTD_GCMD_SRTP);
    wr(VTD_REG_IQA, 8, 0x9000);
    wr(VTD_REG_GCMD, 4, (uint32_t)VTD_GCMD_QIE);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
    w0 = vtd_iommu_warning_count(io);
    wr(iro + 8, 8, VTD_IOTLB_IVT | vtd_field_prep(1, VTD_IOTLB_IIRG));
    cr_assert_eq(vtd_field(rd(iro + 8, 8), VTD_IOTLB_IAIG), 0);
    cr_assert(strstr(warning_since(w0), "queued invalidation is enabled"), "%s", warning_since(w0));
}

Test(regs, names)
{
    cr_assert_str_eq(vtd_iommu_reg_name(io, VTD_REG_GSTS), "GSTS");
    cr_assert_str_eq(vtd_iommu_reg_name(io, VTD_REG_RTADDR + 4), "RTADDR");
    cr_assert_str_eq(vtd_iommu_reg_name(io, fro()), "FRCD_LO");
    cr_assert_str_eq(vtd_iommu_reg_name(io, frcd_hi(nfr() - 1) + 4), "FRCD_HI");
    cr_assert_null(vtd_iommu_reg_name(io, fro() + nfr() * VTD_FRCD_LEN));
}

Test(regs, masks_of_plain_registers)
{
    wr(VTD_REG_IQT, 8, ~UINT64_C(0));
    cr_assert_eq(rd(VTD_REG_IQT, 8), VTD_IQT_QT);
    wr(VTD_REG_IQA, 8, ~UINT64_C(0));
    cr_assert_eq(rd(VTD_REG_IQA, 8), VTD_IQA_IQA | VTD_IQA_DW | VTD_IQA_QS);
    wr(VTD_REG_FEADDR, 4, 0xFEE00003);
    cr_assert_eq(rd(VTD_REG_FEADDR, 4), 0xFEE00000);
    wr(VTD_REG_FEUADDR, 4, 0x12345678);
    cr_assert_eq(rd(VTD_REG_FEUADDR, 4), 0x12345678);
    wr(VTD_REG_PQH, 8, ~UINT64_C(0));
    cr_assert_eq(rd(VTD_REG_PQH, 8), VTD_PQH_PQH);
    wr(VTD_REG_IECTL, 4, 0xFFFFFFFF);
    cr_assert_eq(rd(VTD_REG_IECTL, 4), VTD_ECTL_IM, "IP is read-only");
    wr(VTD_REG_IQERCD, 8, ~UINT64_C(0));
    cr_assert_eq(rd(VTD_REG_IQERCD, 8), 0);
}

Test(regs, reset_state)
{
    wr(VTD_REG_GCMD, 4, VTD_GCMD_TE);
    fault(1, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    vtd_iommu_reg_reset(io);
    cr_assert_not(io->te);
    cr_assert_eq(rd(VTD_REG_GSTS, 4), 0);
    cr_assert_eq(rd(VTD_REG_FSTS, 4), 0);
    cr_assert_eq(vtd_iommu_pending_faults(io), 0);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), VTD_ECTL_IM);
    cr_assert_eq(rd(VTD_REG_IECTL, 4), VTD_ECTL_IM);
    cr_assert_eq(rd(VTD_REG_PECTL, 4), VTD_ECTL_IM);
}

/* ---- RW1C status ---- */

Test(regs, ics_iwc_is_write_one_to_clear)
{
    io->regs.ics = VTD_ICS_IWC;
    io->regs.iectl = VTD_ECTL_IM | VTD_ECTL_IP;
    wr(VTD_REG_ICS, 4, 0);
    cr_assert_eq(rd(VTD_REG_ICS, 4), VTD_ICS_IWC);
    wr(VTD_REG_ICS, 4, VTD_ICS_IWC);
    cr_assert_eq(rd(VTD_REG_ICS, 4), 0);
    cr_assert_eq(rd(VTD_REG_IECTL, 4), VTD_ECTL_IM, "clearing IWC services the held event");
}

Test(regs, prs_bits_are_write_one_to_clear)
{
    io->regs.prs = VTD_PRS_PPR | VTD_PRS_PRO;
    wr(VTD_REG_PRS, 4, VTD_PRS_PRO);
    cr_assert_eq(rd(VTD_REG_PRS, 4), VTD_PRS_PPR);
}

/* ---- fault recording ---- */

Test(regs, records_fill_then_overflow)
{
    cr_assert_eq(nfr(), 8, "the default has 8 fault-recording registers");
    for (unsigned i = 0; i < nfr(); i++)
        fault((uint16_t)(0x100 + i), 0x1000 * (i + 1) + 0x123, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert_eq(vtd_iommu_pending_faults(io), nfr());
    uint64_t fsts = rd(VTD_REG_FSTS, 4);
    cr_assert(fsts & VTD_FSTS_PPF);
    cr_assert_not(fsts & VTD_FSTS_PFO);
    cr_assert_eq(vtd_field(fsts, VTD_FSTS_FRI), 0);
    for (unsigned i = 0; i < nfr(); i++) {
        struct vtd_fault_record r;
        cr_assert_eq(vtd_iommu_read_fault_record(io, i, &r), 0);
        cr_assert(r.pending);
        cr_assert_eq(r.sid, 0x100 + i);
        cr_assert_eq(r.addr, 0x1000 * (i + 1), "page address only");
        cr_assert_eq(r.reason, VTD_FR_CTX_P);
    }

    fault(0x999, 0x9000, VTD_ACC_W, VTD_FR_WRITE);
    cr_assert(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PFO);
    cr_assert_eq(vtd_iommu_pending_faults(io), nfr());
    cr_assert_eq(io->regs.faults_dropped, 1);
    for (unsigned i = 0; i < nfr(); i++) {
        struct vtd_fault_record r;
        vtd_iommu_read_fault_record(io, i, &r);
        cr_assert_neq(r.sid, 0x999, "the overflowing fault is dropped");
    }
}

Test(regs, clearing_f_frees_a_record)
{
    for (unsigned i = 0; i <= nfr(); i++)
        fault((uint16_t)i, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PFO);

    /* The way Linux clears it: a 32-bit write of F to the top word. */
    clear_f(0);
    cr_assert_eq(vtd_iommu_pending_faults(io), nfr() - 1);
    cr_assert(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PPF, "others still pending");

    /* While PFO is set nothing is recorded, even with a free record (7.2.1). */
    fault(0x77, 0x7000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert_eq(vtd_iommu_pending_faults(io), nfr() - 1);
    cr_assert_eq(io->regs.faults_dropped, 2);

    wr(VTD_REG_FSTS, 4, VTD_FSTS_PFO);
    cr_assert_not(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PFO);
    fault(0x77, 0x7000, VTD_ACC_R, VTD_FR_CTX_P);
    struct vtd_fault_record r;
    vtd_iommu_read_fault_record(io, 0, &r);
    cr_assert(r.pending);
    cr_assert_eq(r.sid, 0x77, "the next fault lands in the freed record");
    cr_assert_eq(vtd_iommu_pending_faults(io), nfr());

    /* A 64-bit write of F clears too; PPF goes once every F is clear. */
    for (unsigned i = 0; i < nfr(); i++)
        wr(frcd_hi(i), 8, VTD_FRCD_HI_F);
    cr_assert_eq(vtd_iommu_pending_faults(io), 0);
    cr_assert_not(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PPF);
}

Test(regs, fri_names_the_first_pending_record)
{
    fault(1, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    fault(2, 0x2000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert_eq(vtd_field(rd(VTD_REG_FSTS, 4), VTD_FSTS_FRI), 0);
    clear_f(0);
    clear_f(1);
    cr_assert_not(rd(VTD_REG_FSTS, 4) & VTD_FSTS_PPF);
    fault(3, 0x3000, VTD_ACC_R, VTD_FR_CTX_P);
    fault(4, 0x4000, VTD_ACC_R, VTD_FR_CTX_P);
    uint64_t fsts = rd(VTD_REG_FSTS, 4);
    cr_assert(fsts & VTD_FSTS_PPF);
    cr_assert_eq(vtd_field(fsts, VTD_FSTS_FRI), 2, "FRI is set when PPF was clear, not moved after");
}

Test(regs, records_wrap_around)
{
    for (unsigned i = 0; i < nfr(); i++) {
        fault((uint16_t)i, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
        clear_f(i);
    }
    fault(0x55, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    struct vtd_fault_record r;
    vtd_iommu_read_fault_record(io, 0, &r);
    cr_assert(r.pending);
    cr_assert_eq(r.sid, 0x55);
    cr_assert_eq(vtd_field(rd(VTD_REG_FSTS, 4), VTD_FSTS_FRI), 0);
}

Test(regs, decoded_fields)
{
    struct vtd_request rq = {.sid = vtd_sid(3, 4, 5), .pasid_valid = true, .pasid = 0xABCDE, .addr = 0x7654321,
                             .access = VTD_ACC_R | VTD_ACC_X, .priv = true};
    struct vtd_xlate x = {.fault = {.code = VTD_FR_EXEC}};
    iommu_record_fault(io, &rq, &x);
    struct vtd_request wq = {.sid = 0x42, .addr = 0x5000, .access = VTD_ACC_W, .kind = VTD_REQ_TRANSLATED};
    x.fault.code = VTD_FR_WRITE;
    iommu_record_fault(io, &wq, &x);

    struct vtd_fault_record r;
    cr_assert_eq(vtd_iommu_read_fault_record(io, 0, &r), 0);
    cr_assert(r.pending);
    cr_assert_eq(r.sid, vtd_sid(3, 4, 5));
    cr_assert(r.pasid_present);
    cr_assert_eq(r.pasid, 0xABCDE);
    cr_assert_eq(r.reason, VTD_FR_EXEC);
    cr_assert_eq(r.addr, 0x7654000);
    cr_assert_not(r.is_write);
    cr_assert(r.priv);
    cr_assert(r.exe);
    cr_assert_eq(r.at, VTD_REQ_UNTRANSLATED);

    cr_assert_eq(vtd_iommu_read_fault_record(io, 1, &r), 0);
    cr_assert_eq(r.sid, 0x42);
    cr_assert_not(r.pasid_present);
    cr_assert_eq(r.pasid, 0);
    cr_assert(r.is_write);
    cr_assert_not(r.priv);
    cr_assert_not(r.exe);
    cr_assert_eq(r.at, VTD_REQ_TRANSLATED);

    cr_assert_eq(vtd_iommu_read_fault_record(io, 2, &r), 0);
    cr_assert_not(r.pending);
    cr_assert_eq(vtd_iommu_read_fault_record(io, nfr(), &r), -EINVAL);
}

/* What Linux's dmar_fault() sees through its dma_frcd_* macros on 32-bit reads. */
Test(regs, record_as_linux_reads_it)
{
    struct vtd_request rq = {.sid = 0x1234, .pasid_valid = true, .pasid = 0x54321, .addr = 0xDEAD1ABC,
                             .access = VTD_ACC_R};
    struct vtd_xlate x = {.fault = {.code = VTD_FR_FS_P}};
    iommu_record_fault(io, &rq, &x);

    unsigned fri = (unsigned)((rd(VTD_REG_FSTS, 4) >> 8) & 0xff);           /* dma_fsts_fault_record_index */
    unsigned base = fro() + fri * 16;
    uint32_t w3 = (uint32_t)rd(base + 12, 4);
    cr_assert(w3 & (UINT32_C(1) << 31));                                      /* DMA_FRCD_F */
    cr_assert_eq((w3 >> 30) & 1, 1, "read");                                  /* dma_frcd_type */
    cr_assert_eq(w3 & 0xff, VTD_FR_FS_P);                                     /* dma_frcd_fault_reason */
    cr_assert_eq((w3 >> 8) & 0xfffff, 0x54321);                               /* dma_frcd_pasid_value */
    uint32_t w2 = (uint32_t)rd(base + 8, 4);
    cr_assert_eq(w2 & 0xffff, 0x1234);                                        /* dma_frcd_source_id */
    cr_assert_eq((w2 >> 31) & 1, 1);                                          /* dma_frcd_pasid_present */
    cr_assert_eq(rd(base, 8) & ~UINT64_C(0xfff), 0xDEAD1000);                 /* dma_frcd_page_addr */

    wr(base + 12, 4, UINT32_C(1) << 31);
    wr(VTD_REG_FSTS, 4, VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_PRO);
    cr_assert_eq(rd(VTD_REG_FSTS, 4) & (VTD_FSTS_PFO | VTD_FSTS_PPF), 0);
}

Test(regs, suppressed_and_empty_faults_are_not_recorded)
{
    struct vtd_request rq = {.sid = 1, .addr = 0x1000, .access = VTD_ACC_R};
    struct vtd_xlate x = {.fault = {.code = VTD_FR_SS_PERM, .suppressed = true}};
    iommu_record_fault(io, &rq, &x);
    x.fault = (struct vtd_fault_info){.code = 0};
    iommu_record_fault(io, &rq, &x);
    cr_assert_eq(vtd_iommu_pending_faults(io), 0);
    cr_assert_eq(rd(VTD_REG_FSTS, 4), 0);
}

Test(regs, ppf_and_fri_are_read_only)
{
    fault(1, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    fault(2, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    clear_f(0);
    uint64_t before = rd(VTD_REG_FSTS, 4);
    wr(VTD_REG_FSTS, 4, VTD_FSTS_PPF | VTD_FSTS_FRI);
    cr_assert_eq(rd(VTD_REG_FSTS, 4), before);
    cr_assert(before & VTD_FSTS_PPF);
}

Test(regs, frcd_lo_is_read_only)
{
    fault(1, 0x3000, VTD_ACC_R, VTD_FR_CTX_P);
    wr(fro(), 8, 0);
    wr(frcd_hi(0), 8, 0);
    struct vtd_fault_record r;
    vtd_iommu_read_fault_record(io, 0, &r);
    cr_assert_eq(r.addr, 0x3000);
    cr_assert(r.pending, "writing 0 to F leaves it set");
}

Test(regs, disabling_translation_resets_the_record_index)
{
    wr(VTD_REG_GCMD, 4, VTD_GCMD_TE);
    fault(1, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    fault(2, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    clear_f(0);
    clear_f(1);
    wr(VTD_REG_GCMD, 4, 0);
    fault(3, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    struct vtd_fault_record r;
    vtd_iommu_read_fault_record(io, 0, &r);
    cr_assert(r.pending);
    cr_assert_eq(r.sid, 3);
}

Test(regs, fault_event_pending_while_masked)
{
    wr(VTD_REG_FECTL, 4, VTD_ECTL_IM);
    fault(1, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), VTD_ECTL_IM | VTD_ECTL_IP);
    clear_f(0);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), VTD_ECTL_IM, "serviced: IP clears");

    fault(2, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert(rd(VTD_REG_FECTL, 4) & VTD_ECTL_IP);
    wr(VTD_REG_FECTL, 4, 0);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), 0, "unmasking sends the message");

    /* Unmasked, no event is held. */
    clear_f(1);
    fault(3, 0x1000, VTD_ACC_R, VTD_FR_CTX_P);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), 0);
}

/* ---- invalidation queue registers ---- */

Test(regs, iq_registers_store_without_qie)
{
    wr(VTD_REG_IQA, 8, UINT64_C(0x100000) | 1);
    wr(VTD_REG_IQT, 8, 0x40);
    cr_assert_eq(rd(VTD_REG_IQA, 8), UINT64_C(0x100000) | 1);
    cr_assert_eq(rd(VTD_REG_IQT, 8), 0x40);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 0, "nothing runs while queued invalidation is off");
    cr_assert_not(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
}

Test(regs, qie_sets_qies_and_iqh_resets)
{
    wr(VTD_REG_GCMD, 4, VTD_GCMD_QIE);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 0);
    io->regs.iqh = io->regs.iqt = 0x60; /* as if hardware had consumed three descriptors */
    wr(VTD_REG_GCMD, 4, 0);
    cr_assert_not(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 0, "IQH reads 0 while queued invalidation is disabled");
}

Test(regs, qie_needs_ecap_qi)
{
    vtd_iommu_free(io);
    vtd_iommu_config_default(&cfg);
    vtd_caps_set(&cfg.caps.ecap, VTD_ECAP_QI, false);
    io = vtd_iommu_new(&cfg, NULL);
    cr_assert_not_null(io);
    wr(VTD_REG_GCMD, 4, VTD_GCMD_QIE);
    cr_assert_not(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
}

Test(regs, queue_errors_raise_a_fault_event)
{
    wr(VTD_REG_FECTL, 4, VTD_ECTL_IM);
    iommu_fault_status_set(io, VTD_FSTS_IQE);
    cr_assert_eq(rd(VTD_REG_FSTS, 4), VTD_FSTS_IQE);
    cr_assert(rd(VTD_REG_FECTL, 4) & VTD_ECTL_IP);
    wr(VTD_REG_FSTS, 4, VTD_FSTS_IQE);
    cr_assert_eq(rd(VTD_REG_FSTS, 4), 0);
    cr_assert_eq(rd(VTD_REG_FECTL, 4), VTD_ECTL_IM, "serviced: IP clears");
}

/* ---- the invalidation queue through the registers (sim/qi.c behind IQT) ---- */

#define IQ_BASE UINT64_C(0x100000)
#define STATUS_ADDR UINT64_C(0x200000)
#define WAIT_DESC(flags, data) (VTD_QI_WAIT | (flags) | ((uint64_t)(data) << 32))
#define WAIT_IF (UINT64_C(1) << 4)
#define WAIT_SW (UINT64_C(1) << 5)

/* Put a 128-bit descriptor in slot `slot` of the queue. */
static void put_desc(unsigned slot, uint64_t qw0, uint64_t qw1)
{
    struct vtd_mem *m = vtd_iommu_mem(io);
    cr_assert_eq(vtd_mem_write64(m, IQ_BASE + 16 * slot, qw0), 0);
    cr_assert_eq(vtd_mem_write64(m, IQ_BASE + 16 * slot + 8, qw1), 0);
}

static uint64_t status_word(void)
{
    uint64_t v = 0;
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), STATUS_ADDR, &v), 0);
    return v & 0xFFFFFFFF;
}

static void enable_queue(void)
{
    wr(VTD_REG_IQT, 8, 0);
    wr(VTD_REG_IQA, 8, IQ_BASE); /* QS 0: 256 128-bit descriptors */
    wr(VTD_REG_GCMD, 4, VTD_GCMD_QIE);
    cr_assert(rd(VTD_REG_GSTS, 4) & VTD_GSTS_QIES);
}

Test(regs, iqt_write_runs_the_queue)
{
    enable_queue();
    put_desc(0, WAIT_DESC(WAIT_SW, 0x1234), STATUS_ADDR);
    wr(VTD_REG_IQT, 8, 16);
    cr_assert_eq(status_word(), 0x1234, "the wait descriptor wrote its status");
    cr_assert_eq(rd(VTD_REG_IQH, 8), 16);

    /* Two more, one with IF: ICS.IWC reports it. */
    put_desc(1, WAIT_DESC(WAIT_SW, 0x5678), STATUS_ADDR);
    put_desc(2, WAIT_DESC(WAIT_IF, 0), 0);
    wr(VTD_REG_IQT, 8, 48);
    cr_assert_eq(status_word(), 0x5678);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 48);
    cr_assert_eq(rd(VTD_REG_ICS, 4), VTD_ICS_IWC);
    wr(VTD_REG_ICS, 4, VTD_ICS_IWC);
    cr_assert_eq(rd(VTD_REG_ICS, 4), 0);
}

Test(regs, iqt_write_without_qie_runs_nothing)
{
    wr(VTD_REG_IQA, 8, IQ_BASE);
    put_desc(0, WAIT_DESC(WAIT_SW, 0x1234), STATUS_ADDR);
    wr(VTD_REG_IQT, 8, 16);
    cr_assert_eq(status_word(), 0);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 0);
}

Test(regs, queue_error_halts_until_iqe_is_cleared)
{
    enable_queue();
    put_desc(0, WAIT_DESC(WAIT_SW, 0x1111), STATUS_ADDR);
    put_desc(1, 0xF, 0); /* type 15: no such descriptor */
    put_desc(2, WAIT_DESC(WAIT_SW, 0x2222), STATUS_ADDR);
    wr(VTD_REG_IQT, 8, 48);
    cr_assert(rd(VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 16, "IQH stays on the bad descriptor");
    cr_assert_eq(status_word(), 0x1111);

    /* Halted: a new tail runs nothing. */
    put_desc(3, WAIT_DESC(WAIT_SW, 0x3333), STATUS_ADDR);
    wr(VTD_REG_IQT, 8, 64);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 16);

    /* Software replaces the bad descriptor and clears IQE: hardware fetches again from IQH. */
    put_desc(1, WAIT_DESC(0, 0), 0);
    wr(VTD_REG_FSTS, 4, VTD_FSTS_IQE);
    cr_assert_not(rd(VTD_REG_FSTS, 4) & VTD_FSTS_IQE);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 64);
    cr_assert_eq(status_word(), 0x3333);
}

Test(regs, descriptors_queued_before_qie_run_when_it_is_set)
{
    wr(VTD_REG_IQA, 8, IQ_BASE);
    put_desc(0, WAIT_DESC(WAIT_SW, 0xABCD), STATUS_ADDR);
    wr(VTD_REG_IQT, 8, 16);
    cr_assert_eq(status_word(), 0);
    wr(VTD_REG_GCMD, 4, VTD_GCMD_QIE);
    cr_assert_eq(status_word(), 0xABCD);
    cr_assert_eq(rd(VTD_REG_IQH, 8), 16);
}
