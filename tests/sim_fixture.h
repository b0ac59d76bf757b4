/*
 * sim_fixture.h: the IOMMU the cached-path suites start from (test_sim.c, test_oracle.c,
 * test_ordering.c): a plain device and an ATS device (device TLB of 1 set x 32 ways), both
 * with PASID width 20, over one world whose tables live in the IOMMU's memory; and the few
 * invalidation descriptors those suites submit, each field placed as VT-d 6.5.2.x places it.
 *
 * One header per suite executable: the state below is static, one copy per suite.
 */
#ifndef VTDSIM_TESTS_SIM_FIXTURE_H
#define VTDSIM_TESTS_SIM_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "walker/fs_entry.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)
#define ATS_SID vtd_sid(0, 4, 0)
#define RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

static struct vtd_iommu *io;
static struct world w;
static struct vtd_ctx ctx, ats_ctx;
static struct vtd_pt fs;
static struct vtd_pasid_cfg cfg;

static inline void setup_with(const struct vtd_iommu_config *c)
{
    const char *why = NULL;
    io = vtd_iommu_new(c, &why);
    cr_assert_not_null(io, "%s", why ? why : "");
    cr_assert_eq(world_init_mem(&w, vtd_iommu_caps(io), vtd_iommu_mem(io)), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
    cr_assert_eq(world_device(&w, ATS_SID, &ats_ctx), 0);
    vtd_iommu_set_root(io, w.rtaddr);
    struct vtd_device_config plain = {.sid = SID, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = ATS_SID, .ats = true, .pasid_bits = 20,
                                    .devtlb = {.sets = 1, .ways = 32}};
    cr_assert_eq(vtd_iommu_add_device(io, &plain), 0);
    cr_assert_eq(vtd_iommu_add_device(io, &ats), 0);
}

static inline void setup(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    setup_with(&c);
}

static inline void teardown(void)
{
    world_fini(&w);
    vtd_iommu_free(io);
}

/* The default configuration with the oracle off (ordering checks stay on). */
static inline void setup_no_oracle(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.oracle = false;
    setup_with(&c);
}

static inline int dma(uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, struct vtd_dma_result *r)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = pasid >= 0, .pasid = pasid >= 0 ? (uint32_t)pasid : 0,
                              .addr = addr, .access = access};
    return vtd_iommu_dma(io, &req, r);
}

/* A first-stage PASID 1 on SID with two pages in one page table. */
static inline void fs_two_pages(void)
{
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x10000, 0x80000, 0x1000, 12, RWU, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x11000, 0x81000, 0x1000, 12, RWU, 0), 0);
}

/* ---- invalidation descriptors, submitted as 256-bit ones ---------------------------- */

#define QI_G(g) ((uint64_t)(g) << 4)            /* granularity, qw0 bits 5:4 */
#define QI_DID(did) ((uint64_t)(did) << 16)     /* domain-id, qw0 bits 31:16 */
#define QI_PASID(p) ((uint64_t)(p) << 32)       /* PASID, qw0 bits 51:32 */
#define QI_IOTLB_PAGE 3                         /* IOTLB granularity: page-selective within a domain */
#define QI_PIOTLB_PASID 2                       /* P_IOTLB granularity: every page of a PASID */
#define QI_PIOTLB_PAGE 3                        /* P_IOTLB granularity: page-selective */
#define QI_IH (UINT64_C(1) << 6)                /* IOTLB and P_IOTLB qw1 bit 6: invalidation hint */
#define QI_PDEVTLB_SID(sid) ((uint64_t)(sid) << 16) /* type 8: SID, qw0 bits 31:16 */
#define QI_PDEVTLB_G UINT64_C(1)                /* type 8 qw1 bit 0: every PASID of the device */
#define QI_WAIT_IF (UINT64_C(1) << 4)           /* wait qw0 bit 4: interrupt flag */

/* Submit one descriptor that must be accepted; `qr` (may be NULL) receives the outcome. */
static inline void qi_ok(uint64_t qw0, uint64_t qw1, struct vtd_qi_result *qr)
{
    uint64_t d[4] = {qw0, qw1, 0, 0};
    struct vtd_qi_result local;
    if (!qr)
        qr = &local;
    cr_assert_eq(vtd_qi_submit(io, d, 4, qr), 0, "qw0 %#llx: %s", (unsigned long long)qw0, qr->why);
    cr_assert_eq(qr->error, 0);
}

/* IOTLB page-selective within a domain (type 2, VT-d 6.5.2.3): 2^am pages at addr, the
 * domain's second-stage (untagged) translations among them. */
static inline void iotlb_psi(uint16_t did, uint64_t addr, unsigned am, bool ih, struct vtd_qi_result *qr)
{
    qi_ok(VTD_QI_IOTLB | QI_G(QI_IOTLB_PAGE) | QI_DID(did), addr | am | (ih ? QI_IH : 0), qr);
}

/* P_IOTLB page-selective (type 6, VT-d 6.5.2.4): 2^am pages at addr of one PASID. */
static inline void p_iotlb_psi(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih,
                               struct vtd_qi_result *qr)
{
    qi_ok(VTD_QI_PIOTLB | QI_G(QI_PIOTLB_PAGE) | QI_DID(did) | QI_PASID(pasid), addr | am | (ih ? QI_IH : 0), qr);
}

/* P_IOTLB PASID-selective (type 6): every page of one PASID of a domain. */
static inline void p_iotlb_pasid(uint16_t did, uint32_t pasid, struct vtd_qi_result *qr)
{
    qi_ok(VTD_QI_PIOTLB | QI_G(QI_PIOTLB_PASID) | QI_DID(did) | QI_PASID(pasid), 0, qr);
}

/* PASID-based device-TLB (type 8, VT-d 6.5.2.6): one 4 KiB page (S=0) of one PASID, or with
 * `all_pasids` (G=1) of every PASID of the device. */
static inline void p_devtlb(uint16_t sid, uint32_t pasid, bool all_pasids, uint64_t addr, struct vtd_qi_result *qr)
{
    qi_ok(VTD_QI_PDEVTLB | QI_PDEVTLB_SID(sid) | QI_PASID(pasid), addr | (all_pasids ? QI_PDEVTLB_G : 0), qr);
}

/* Invalidation wait (type 5, VT-d 6.5.2.8) that only signals completion (IF). */
static inline void qi_wait(void) { qi_ok(VTD_QI_WAIT | QI_WAIT_IF, 0, NULL); }

#endif
