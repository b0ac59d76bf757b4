/*
 * test_qi.c: queued invalidation (sim/qi.h). Caches are filled directly with the key
 * constructors of sim/iommu_internal.h; each descriptor type and granularity must remove exactly
 * the entries in its scope and leave every other one. Then: field validation (reserved bits,
 * granularities, AM, widths), the invalidation wait, the queue in simulated memory driven by
 * IQA/IQH/IQT, and descriptions. (Over-invalidation counted against real walks, and the
 * ordering warnings, are in test_oracle.c and test_ordering.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/qi.h"
#include "sim/regs.h"

/* ---- descriptor fields, as the specification places them (VT-d 6.5.2.x) ---- */
#define T_LO(t) ((uint64_t)(t) & 0xf)            /* type bits 3:0 */
#define T_HI(t) (((uint64_t)(t) >> 4) << 9)      /* type bits 6:4 in qw0 bits 11:9 */
#define TYPE(t) (T_LO(t) | T_HI(t))
#define GRAN_SHIFT 4
#define DID_SHIFT 16
#define PASID_SHIFT 32
#define CC_SID_SHIFT 32
#define CC_FM_SHIFT 48
#define IOTLB_DW_BIT 6
#define IOTLB_DR_BIT 7
#define AM_SHIFT 0
#define IH_BIT 6
#define DEVTLB_SID_SHIFT 32
#define DEVTLB_QDEP_SHIFT 16
#define DEVTLB_PFSID_LO_SHIFT 12
#define DEVTLB_PFSID_HI_SHIFT 52
#define DEVTLB_S_BIT 0
#define PDEVTLB_SID_SHIFT 16
#define PDEVTLB_QDEP_SHIFT 4
#define PDEVTLB_G_BIT 0
#define PDEVTLB_S_BIT 11
#define WAIT_IF_BIT 4
#define WAIT_SW_BIT 5
#define WAIT_FN_BIT 6
#define WAIT_PD_BIT 7
#define WAIT_DATA_SHIFT 32
#define PGRP_PP_BIT 4
#define PGRP_RC_SHIFT 12
#define PGRP_RID_SHIFT 16
#define PGRP_LPIG_BIT 2
#define PGRP_PRGI_SHIFT 3
#define BIT(n) (UINT64_C(1) << (n))

#define SID vtd_sid(0, 3, 0)
#define ATS_SID vtd_sid(0, 4, 0)
#define ATS_SID2 vtd_sid(0, 5, 0)

struct desc {
    uint64_t q[4];
    unsigned n;
};

static struct desc d128(uint64_t qw0, uint64_t qw1) { return (struct desc){{qw0, qw1, 0, 0}, 2}; }
static struct desc d256(uint64_t qw0, uint64_t qw1) { return (struct desc){{qw0, qw1, 0, 0}, 4}; }

static struct desc cc(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    return d128(TYPE(VTD_QI_CC) | (uint64_t)g << GRAN_SHIFT | (uint64_t)did << DID_SHIFT |
                    (uint64_t)sid << CC_SID_SHIFT | (uint64_t)fm << CC_FM_SHIFT, 0);
}
static struct desc iotlb(unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    return d128(TYPE(VTD_QI_IOTLB) | (uint64_t)g << GRAN_SHIFT | (uint64_t)did << DID_SHIFT,
                addr | (uint64_t)am << AM_SHIFT | (ih ? BIT(IH_BIT) : 0));
}
static struct desc devtlb(uint16_t sid, uint64_t addr, bool s)
{
    return d128(TYPE(VTD_QI_DEVTLB) | (uint64_t)sid << DEVTLB_SID_SHIFT, addr | (s ? BIT(DEVTLB_S_BIT) : 0));
}
static struct desc piotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    return d256(TYPE(VTD_QI_PIOTLB) | (uint64_t)g << GRAN_SHIFT | (uint64_t)did << DID_SHIFT |
                    (uint64_t)pasid << PASID_SHIFT,
                addr | (uint64_t)am << AM_SHIFT | (ih ? BIT(IH_BIT) : 0));
}
static struct desc pc(unsigned g, uint16_t did, uint32_t pasid)
{
    return d256(TYPE(VTD_QI_PC) | (uint64_t)g << GRAN_SHIFT | (uint64_t)did << DID_SHIFT |
                    (uint64_t)pasid << PASID_SHIFT, 0);
}
static struct desc pdevtlb(uint16_t sid, uint32_t pasid, bool all, uint64_t addr, bool s)
{
    return d256(TYPE(VTD_QI_PDEVTLB) | (uint64_t)sid << PDEVTLB_SID_SHIFT | (uint64_t)pasid << PASID_SHIFT,
                addr | (all ? BIT(PDEVTLB_G_BIT) : 0) | (s ? BIT(PDEVTLB_S_BIT) : 0));
}
static struct desc wait_desc(bool sw, bool intr, uint32_t data, uint64_t addr)
{
    return d128(TYPE(VTD_QI_WAIT) | (sw ? BIT(WAIT_SW_BIT) : 0) | (intr ? BIT(WAIT_IF_BIT) : 0) |
                    (uint64_t)data << WAIT_DATA_SHIFT, addr);
}

/* Granularities. */
enum { CC_GLOBAL = 1, CC_DOMAIN = 2, CC_DEVICE = 3 };
enum { G_GLOBAL = 1, G_DOMAIN = 2, G_PAGE = 3 };
enum { P_PASID = 2, P_PAGE = 3 };
enum { PC_DOMAIN = 0, PC_PASID = 1, PC_GLOBAL = 3 };

#define NOPASID VTD_TAG_NO_PASID

static struct vtd_iommu *io;
static struct vtd_qi_result res;

static void setup_with(struct vtd_iommu_config *c)
{
    const char *why = NULL;
    io = vtd_iommu_new(c, &why);
    cr_assert_not_null(io, "%s", why ? why : "");
    struct vtd_device_config plain = {.sid = SID, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = ATS_SID, .ats = true, .pasid_bits = 20, .devtlb = {.sets = 1, .ways = 32}};
    struct vtd_device_config ats2 = {.sid = ATS_SID2, .ats = true, .pasid_bits = 20, .devtlb = {.sets = 1, .ways = 32}};
    cr_assert_eq(vtd_iommu_add_device(io, &plain), 0);
    cr_assert_eq(vtd_iommu_add_device(io, &ats), 0);
    cr_assert_eq(vtd_iommu_add_device(io, &ats2), 0);
}

static void setup(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    setup_with(&c);
}

static void teardown(void) { vtd_iommu_free(io); }

static int submit(struct desc d) { return vtd_qi_submit(io, d.q, d.n, &res); }

static void ok(struct desc d)
{
    char text[160];
    vtd_qi_describe(d.q, d.n, text, sizeof text);
    cr_assert_eq(submit(d), 0, "%s rejected: %s", text, res.why);
    cr_assert_eq(res.error, 0);
}

static void rejected(struct desc d, const char *why_part)
{
    cr_assert_eq(submit(d), -EINVAL, "accepted: qw0 0x%llx", (unsigned long long)d.q[0]);
    cr_assert_neq(res.error, 0);
    cr_assert(strstr(res.why, why_part) != NULL, "why \"%s\" lacks \"%s\"", res.why, why_part);
}

/* ---- filling and probing the caches ---- */

static struct vtd_cache *cache(enum vtd_cache_id id) { return vtd_iommu_cache(io, id); }

static void put(struct vtd_cache *c, struct vtd_cache_key k)
{
    cr_assert_not_null(vtd_cache_insert(c, &k, 0, NULL));
}
static bool has(struct vtd_cache *c, struct vtd_cache_key k) { return vtd_cache_peek(c, &k) != NULL; }

static void put_ctx(uint16_t sid) { put(cache(VTD_C_CONTEXT), ctx_cache_key(sid)); }
static bool has_ctx(uint16_t sid) { return has(cache(VTD_C_CONTEXT), ctx_cache_key(sid)); }

static void put_pasid(uint16_t sid, uint32_t pasid, uint16_t did)
{
    struct vtd_cache_key k = pasid_cache_key(sid, pasid);
    struct vtd_cache_entry *e = vtd_cache_insert(cache(VTD_C_PASID), &k, 0, NULL);
    cr_assert_not_null(e);
    struct pasid_cache_payload *p = (struct pasid_cache_payload *)e->payload;
    memset(p, 0, sizeof(*p));
    p->pe.did = did;
    p->pe.pgtt = VTD_PGTT_FS;
}
static bool has_pasid(uint16_t sid, uint32_t pasid) { return has(cache(VTD_C_PASID), pasid_cache_key(sid, pasid)); }

static void put_iotlb(uint16_t did, uint64_t tag, uint64_t addr, unsigned shift)
{
    put(cache(VTD_C_IOTLB), iotlb_key(did, tag, addr, shift));
}
static bool has_iotlb(uint16_t did, uint64_t tag, uint64_t addr, unsigned shift)
{
    return has(cache(VTD_C_IOTLB), iotlb_key(did, tag, addr, shift));
}

static void put_psc_fs(uint16_t did, uint32_t pasid, unsigned level, uint64_t va)
{
    put(cache(VTD_C_PSC_FS), psc_fs_key(did, pasid, level, va));
}
static bool has_psc_fs(uint16_t did, uint32_t pasid, unsigned level, uint64_t va)
{
    return has(cache(VTD_C_PSC_FS), psc_fs_key(did, pasid, level, va));
}

static void put_psc_ss(uint16_t did, unsigned level, uint64_t gpa) { put(cache(VTD_C_PSC_SS), psc_ss_key(did, level, gpa)); }
static bool has_psc_ss(uint16_t did, unsigned level, uint64_t gpa)
{
    return has(cache(VTD_C_PSC_SS), psc_ss_key(did, level, gpa));
}

static void put_dev(uint16_t sid, uint64_t tag, uint64_t addr, unsigned shift)
{
    put(vtd_iommu_devtlb(io, sid), devtlb_key(tag, addr, shift));
}
static bool has_dev(uint16_t sid, uint64_t tag, uint64_t addr, unsigned shift)
{
    return has(vtd_iommu_devtlb(io, sid), devtlb_key(tag, addr, shift));
}

/*
 * The standard population: two domains, PASIDs 5 and 6 of DID 1, second-stage-only entries
 * (no PASID tag), entries of DID 2, paging-structure entries of both stages, context and PASID
 * cache entries, and device-TLB entries with and without PASID.
 */
static void populate(void)
{
    put_ctx(SID);
    put_ctx(ATS_SID);
    put_ctx(vtd_sid(0, 3, 5));
    put_ctx(vtd_sid(1, 0, 0));
    put_pasid(SID, 5, 1);
    put_pasid(SID, 6, 1);
    put_pasid(ATS_SID, 5, 2);
    put_pasid(ATS_SID, 0, 1);
    /* DID 1 PASID 5: 4 KiB pages at 0x1000..0x8000, a 2 MiB page at 2 MiB */
    for (uint64_t a = 0x1000; a <= 0x8000; a += 0x1000)
        put_iotlb(1, 5, a, 12);
    put_iotlb(1, 5, 0x200000, 21);
    put_iotlb(1, 6, 0x2000, 12);
    put_iotlb(1, NOPASID, 0x2000, 12);
    put_iotlb(1, NOPASID, 0x4000, 12);
    put_iotlb(1, NOPASID, 0x40000000, 30);
    put_iotlb(2, 5, 0x2000, 12);
    put_iotlb(2, NOPASID, 0x2000, 12);
    put_psc_fs(1, 5, 2, 0x0);
    put_psc_fs(1, 5, 2, 0x400000);
    put_psc_fs(1, 6, 2, 0x0);
    put_psc_fs(2, 5, 2, 0x0);
    put_psc_ss(1, 2, 0x0);
    put_psc_ss(1, 2, 0x400000);
    put_psc_ss(1, 3, 0x0);
    put_psc_ss(2, 2, 0x0);
    put_dev(ATS_SID, NOPASID, 0x0, 12);
    put_dev(ATS_SID, NOPASID, 0x8000, 12);
    put_dev(ATS_SID, NOPASID, 0x10000, 12);
    put_dev(ATS_SID, NOPASID, 0x200000, 21);
    put_dev(ATS_SID, 5, 0x0, 12);
    put_dev(ATS_SID, 5, 0x10000, 12);
    put_dev(ATS_SID, 6, 0x0, 12);
    put_dev(ATS_SID2, NOPASID, 0x0, 12);
    put_dev(ATS_SID2, 5, 0x0, 12);
}

static unsigned count(enum vtd_cache_id id) { return vtd_cache_count(cache(id)); }

TestSuite(qi, .init = setup, .fini = teardown);

/* ---- type 1: context cache ---- */

Test(qi, context_global_removes_every_context_entry_and_nothing_else)
{
    populate();
    unsigned pasid = count(VTD_C_PASID), tlb = count(VTD_C_IOTLB);
    ok(cc(CC_GLOBAL, 0, 0, 0));
    cr_assert_eq(count(VTD_C_CONTEXT), 0);
    cr_assert_eq(res.removed[VTD_C_CONTEXT], 4);
    cr_assert_eq(count(VTD_C_PASID), pasid);
    cr_assert_eq(count(VTD_C_IOTLB), tlb);
    cr_assert_eq(res.over[VTD_C_CONTEXT], 0, "no root table: nothing removed was still correct");
}

Test(qi, context_domain_selective_removes_all_context_entries)
{
    populate();
    ok(cc(CC_DOMAIN, 7, 0, 0)); /* scalable-mode context entries carry no DID: all go */
    cr_assert_eq(count(VTD_C_CONTEXT), 0);
    cr_assert(has_pasid(SID, 5));
}

Test(qi, context_device_selective_exact_sid)
{
    populate();
    ok(cc(CC_DEVICE, 0, SID, 0));
    cr_assert_not(has_ctx(SID));
    cr_assert(has_ctx(ATS_SID));
    cr_assert(has_ctx(vtd_sid(0, 3, 5)));
    cr_assert(has_ctx(vtd_sid(1, 0, 0)));
    cr_assert_eq(res.removed[VTD_C_CONTEXT], 1);
}

Test(qi, context_function_masks)
{
    /* 00:03.0 .. 00:03.7 and 00:04.0 */
    for (unsigned fn = 0; fn < 8; fn++)
        put_ctx(vtd_sid(0, 3, fn));
    put_ctx(vtd_sid(0, 4, 0));
    ok(cc(CC_DEVICE, 0, vtd_sid(0, 3, 1), 1)); /* FM 1 ignores SID bit 2: functions 1 and 5 */
    for (unsigned fn = 0; fn < 8; fn++)
        cr_assert_eq(has_ctx(vtd_sid(0, 3, fn)), fn != 1 && fn != 5, "FM 1, function %u", fn);
    ok(cc(CC_DEVICE, 0, vtd_sid(0, 3, 0), 2)); /* bits 2:1 ignored: functions 0, 2, 4, 6 */
    for (unsigned fn = 0; fn < 8; fn++)
        cr_assert_eq(has_ctx(vtd_sid(0, 3, fn)), fn == 3 || fn == 7, "FM 2, function %u", fn);
    ok(cc(CC_DEVICE, 0, vtd_sid(0, 3, 0), 3)); /* bits 2:0 ignored: the whole device */
    for (unsigned fn = 0; fn < 8; fn++)
        cr_assert_not(has_ctx(vtd_sid(0, 3, fn)));
    cr_assert(has_ctx(vtd_sid(0, 4, 0)));
}

Test(qi, context_granularity_zero_is_invalid)
{
    put_ctx(SID);
    rejected(cc(0, 0, SID, 0), "context-cache (type 1): granularity 0");
    cr_assert(has_ctx(SID));
}

/* ---- type 2: IOTLB ---- */

Test(qi, iotlb_global_flushes_iotlb_and_both_psc_only)
{
    populate();
    ok(iotlb(G_GLOBAL, 0, 0, 0, false));
    cr_assert_eq(count(VTD_C_IOTLB), 0);
    cr_assert_eq(count(VTD_C_PSC_FS), 0);
    cr_assert_eq(count(VTD_C_PSC_SS), 0);
    cr_assert_eq(res.removed[VTD_C_IOTLB], 15);
    cr_assert_eq(res.removed[VTD_C_PSC_FS], 4);
    cr_assert_eq(res.removed[VTD_C_PSC_SS], 4);
    cr_assert_eq(count(VTD_C_CONTEXT), 4);
    cr_assert_eq(count(VTD_C_PASID), 4);
    cr_assert(has_dev(ATS_SID, NOPASID, 0x0, 12), "device TLBs need their own descriptors");
}

Test(qi, iotlb_domain_selective_removes_the_domain_only)
{
    populate();
    ok(iotlb(G_DOMAIN, 1, 0, 0, false));
    cr_assert_not(has_iotlb(1, 5, 0x1000, 12));
    cr_assert_not(has_iotlb(1, 5, 0x200000, 21));
    cr_assert_not(has_iotlb(1, 6, 0x2000, 12));
    cr_assert_not(has_iotlb(1, NOPASID, 0x40000000, 30));
    cr_assert_not(has_psc_fs(1, 5, 2, 0x0));
    cr_assert_not(has_psc_fs(1, 6, 2, 0x0));
    cr_assert_not(has_psc_ss(1, 3, 0x0));
    cr_assert(has_iotlb(2, 5, 0x2000, 12));
    cr_assert(has_iotlb(2, NOPASID, 0x2000, 12));
    cr_assert(has_psc_fs(2, 5, 2, 0x0));
    cr_assert(has_psc_ss(2, 2, 0x0));
    cr_assert_eq(count(VTD_C_IOTLB), 2);
    cr_assert_eq(count(VTD_C_PASID), 4);
}

Test(qi, iotlb_psi_removes_ss_range_and_every_first_stage_entry_of_the_domain)
{
    populate();
    ok(iotlb(G_PAGE, 1, 0x2000, 1, false)); /* [0x2000, 0x3fff] */
    cr_assert_not(has_iotlb(1, NOPASID, 0x2000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x4000, 12), "outside the range");
    cr_assert(has_iotlb(1, NOPASID, 0x40000000, 30));
    /* Every PASID-tagged entry of DID 1 goes, whatever its address (VT-d 6.5.2.3). */
    for (uint64_t a = 0x1000; a <= 0x8000; a += 0x1000)
        cr_assert_not(has_iotlb(1, 5, a, 12), "0x%llx", (unsigned long long)a);
    cr_assert_not(has_iotlb(1, 5, 0x200000, 21));
    cr_assert_not(has_iotlb(1, 6, 0x2000, 12));
    cr_assert(has_iotlb(2, 5, 0x2000, 12));
    cr_assert(has_iotlb(2, NOPASID, 0x2000, 12));
    /* IH 0: second-stage PSC entries over the range, first-stage PSC entries of the DID. */
    cr_assert_not(has_psc_ss(1, 2, 0x0));
    cr_assert_not(has_psc_ss(1, 3, 0x0));
    cr_assert(has_psc_ss(1, 2, 0x400000));
    cr_assert(has_psc_ss(2, 2, 0x0));
    cr_assert_not(has_psc_fs(1, 5, 2, 0x0));
    cr_assert_not(has_psc_fs(1, 5, 2, 0x400000));
    cr_assert_not(has_psc_fs(1, 6, 2, 0x0));
    cr_assert(has_psc_fs(2, 5, 2, 0x0));
    cr_assert_eq(res.removed[VTD_C_IOTLB], 11);
    cr_assert_eq(res.removed[VTD_C_PSC_SS], 2);
    cr_assert_eq(res.removed[VTD_C_PSC_FS], 3);
}

Test(qi, iotlb_psi_am_boundaries)
{
    for (uint64_t a = 0x0; a <= 0x9000; a += 0x1000)
        put_iotlb(1, NOPASID, a, 12);
    /* AM 1 at 0x2000: 0x2000 and 0x3000, not 0x1000 nor 0x4000 */
    ok(iotlb(G_PAGE, 1, 0x2000, 1, false));
    for (uint64_t a = 0x0; a <= 0x9000; a += 0x1000)
        cr_assert_eq(has_iotlb(1, NOPASID, a, 12), a != 0x2000 && a != 0x3000, "0x%llx", (unsigned long long)a);
    /* [0x3000, 0x4fff] is two pages but not one aligned block: AM 1 at 0x3000 is aligned down
     * to 0x2000 by the hardware, so 0x4000 survives (with a warning). */
    put_iotlb(1, NOPASID, 0x2000, 12);
    put_iotlb(1, NOPASID, 0x3000, 12);
    uint64_t warnings = vtd_iommu_warning_count(io);
    ok(iotlb(G_PAGE, 1, 0x3000, 1, false));
    cr_assert_not(has_iotlb(1, NOPASID, 0x2000, 12));
    cr_assert_not(has_iotlb(1, NOPASID, 0x3000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x4000, 12));
    cr_assert_eq(vtd_iommu_warning_count(io), warnings + 1);
    cr_assert(strstr(vtd_iommu_warning(io, warnings), "not aligned to AM 1") != NULL);
    /* ADDR 0 AM 3 covers 0x0-0x7fff */
    ok(iotlb(G_PAGE, 1, 0x0, 3, false));
    for (uint64_t a = 0x0; a <= 0x9000; a += 0x1000)
        cr_assert_eq(has_iotlb(1, NOPASID, a, 12), a >= 0x8000, "0x%llx", (unsigned long long)a);
    /* AM 0 is exactly one page */
    ok(iotlb(G_PAGE, 1, 0x9000, 0, false));
    cr_assert_not(has_iotlb(1, NOPASID, 0x9000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x8000, 12));
}

Test(qi, iotlb_psi_removes_a_large_page_overlapping_the_range)
{
    put_iotlb(1, NOPASID, 0x200000, 21);
    put_iotlb(1, NOPASID, 0x400000, 21);
    ok(iotlb(G_PAGE, 1, 0x3ff000, 0, false)); /* the last 4 KiB of the first 2 MiB page */
    cr_assert_not(has_iotlb(1, NOPASID, 0x200000, 21));
    cr_assert(has_iotlb(1, NOPASID, 0x400000, 21));
    /* A range larger than the page also removes it */
    put_iotlb(1, NOPASID, 0x200000, 12);
    ok(iotlb(G_PAGE, 1, 0x0, 10, false)); /* [0, 4 MiB) */
    cr_assert_not(has_iotlb(1, NOPASID, 0x200000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x400000, 21));
}

Test(qi, iotlb_psi_ih_keeps_paging_structure_caches)
{
    populate();
    unsigned fs = count(VTD_C_PSC_FS), ss = count(VTD_C_PSC_SS);
    ok(iotlb(G_PAGE, 1, 0x2000, 1, true));
    cr_assert_not(has_iotlb(1, NOPASID, 0x2000, 12));
    cr_assert_eq(count(VTD_C_PSC_FS), fs);
    cr_assert_eq(count(VTD_C_PSC_SS), ss);
    cr_assert_eq(res.removed[VTD_C_PSC_FS] + res.removed[VTD_C_PSC_SS], 0);
}

Test(qi, iotlb_am_above_mamv_is_invalid)
{
    put_iotlb(1, NOPASID, 0x0, 12);
    ok(iotlb(G_PAGE, 1, 0x0, 18, false)); /* MAMV 18 in the default caps */
    put_iotlb(1, NOPASID, 0x0, 12);
    rejected(iotlb(G_PAGE, 1, 0x0, 19, false), "IOTLB (type 2): AM 19 above MAMV 18");
    cr_assert(has_iotlb(1, NOPASID, 0x0, 12));
    /* AM is only read for page-selective requests */
    ok(iotlb(G_DOMAIN, 1, 0x0, 19, false));
}

Test(qi, iotlb_granularity_zero_is_invalid)
{
    rejected(iotlb(0, 1, 0, 0, false), "IOTLB (type 2): granularity 0");
}

Test(qi, iotlb_drain_hints_are_accepted)
{
    struct desc d = iotlb(G_DOMAIN, 1, 0, 0, false);
    d.q[0] |= BIT(IOTLB_DW_BIT) | BIT(IOTLB_DR_BIT);
    ok(d);
}

Test(qi, iotlb_psi_without_cap_psi_is_domain_selective)
{
    vtd_iommu_free(io);
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    vtd_caps_set(&c.caps.cap, VTD_CAP_PSI, false);
    setup_with(&c);
    put_iotlb(1, NOPASID, 0x2000, 12);
    put_iotlb(1, NOPASID, 0x9000, 12);
    put_iotlb(2, NOPASID, 0x9000, 12);
    put_psc_ss(1, 2, 0x40000000);
    ok(iotlb(G_PAGE, 1, 0x2000, 0, true));
    cr_assert_not(has_iotlb(1, NOPASID, 0x9000, 12));
    cr_assert_not(has_psc_ss(1, 2, 0x40000000), "domain-selective ignores IH");
    cr_assert(has_iotlb(2, NOPASID, 0x9000, 12));
}

/* ---- type 3: device TLB ---- */

Test(qi, devtlb_one_page_leaves_pasid_tagged_entries)
{
    populate();
    ok(devtlb(ATS_SID, 0x0, false));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x0, 12));
    cr_assert(has_dev(ATS_SID, NOPASID, 0x8000, 12));
    cr_assert(has_dev(ATS_SID, 5, 0x0, 12), "a non-PASID invalidation must not touch PASID entries");
    cr_assert(has_dev(ATS_SID, 6, 0x0, 12));
    cr_assert(has_dev(ATS_SID2, NOPASID, 0x0, 12), "another device");
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 1);
    cr_assert_eq(count(VTD_C_IOTLB), 15);
}

Test(qi, devtlb_size_encoding)
{
    populate();
    /* ADDR 0x7000 with S: ADDR>>12 = 0b111, three trailing ones: 8 KiB << 3 = 64 KiB at 0 */
    ok(devtlb(ATS_SID, 0x7000, true));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x0, 12));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x8000, 12));
    cr_assert(has_dev(ATS_SID, NOPASID, 0x10000, 12), "0x10000 is past 64 KiB");
    cr_assert(has_dev(ATS_SID, NOPASID, 0x200000, 21));
    cr_assert(has_dev(ATS_SID, 5, 0x0, 12));
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 2);
}

Test(qi, devtlb_size_encoding_small_sizes)
{
    /* S with ADDR bit 12 clear: 8 KiB at ADDR (aligned down to 8 KiB) */
    for (uint64_t a = 0; a < 0x6000; a += 0x1000)
        put_dev(ATS_SID, NOPASID, a, 12);
    ok(devtlb(ATS_SID, 0x2000, true)); /* [0x2000, 0x3fff] */
    for (uint64_t a = 0; a < 0x6000; a += 0x1000)
        cr_assert_eq(has_dev(ATS_SID, NOPASID, a, 12), a != 0x2000 && a != 0x3000, "0x%llx", (unsigned long long)a);
    /* ADDR 0x5000 with S: one trailing one, 16 KiB aligned down: [0x4000, 0x7fff] */
    ok(devtlb(ATS_SID, 0x5000, true));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x4000, 12));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x5000, 12));
    cr_assert(has_dev(ATS_SID, NOPASID, 0x1000, 12));
}

Test(qi, devtlb_all_ones_is_everything)
{
    populate();
    ok(devtlb(ATS_SID, ~UINT64_C(0xfff), true));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x0, 12));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x10000, 12));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x200000, 21));
    cr_assert(has_dev(ATS_SID, 5, 0x10000, 12));
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 4);
}

Test(qi, devtlb_large_entry_overlapping_the_range_goes)
{
    populate();
    ok(devtlb(ATS_SID, 0x300000, false));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x200000, 21));
}

Test(qi, devtlb_unknown_or_non_ats_device_is_not_an_error)
{
    populate();
    ok(devtlb(vtd_sid(9, 9, 1), 0x0, false));
    ok(devtlb(SID, 0x0, false)); /* exists, no ATS */
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 0);
}

Test(qi, devtlb_pfsid_and_qdep_are_fields_not_reserved)
{
    struct desc d = devtlb(ATS_SID, 0x0, false);
    d.q[0] |= UINT64_C(0x1f) << DEVTLB_QDEP_SHIFT | UINT64_C(0xf) << DEVTLB_PFSID_LO_SHIFT |
              UINT64_C(0xfff) << DEVTLB_PFSID_HI_SHIFT;
    ok(d);
    d.q[0] |= BIT(48);
    rejected(d, "device-TLB (type 3): reserved bits 0x1000000000000 set in qw0");
}

/* ---- type 4: interrupt entry cache ---- */

Test(qi, iec_is_accepted_without_effect)
{
    populate();
    unsigned tlb = count(VTD_C_IOTLB);
    ok(d128(TYPE(VTD_QI_IEC), 0));
    ok(d128(TYPE(VTD_QI_IEC) | BIT(4) | UINT64_C(3) << 27 | UINT64_C(0x40) << 32, 0));
    cr_assert_eq(count(VTD_C_IOTLB), tlb);
    rejected(d128(TYPE(VTD_QI_IEC), 1), "IEC (type 4): reserved bits 0x1 set in qw1");
}

/* ---- type 5: invalidation wait ---- */

Test(qi, wait_writes_status_and_sets_iwc)
{
    struct vtd_mem *m = vtd_iommu_mem(io);
    cr_assert_eq(vtd_mem_write64(m, 0x5000, UINT64_C(0xaaaaaaaaaaaaaaaa)), 0);
    ok(wait_desc(true, false, 0x12345678, 0x5004));
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(m, 0x5000, &v), 0);
    cr_assert_eq(v, UINT64_C(0x12345678aaaaaaaa), "32 bits at 0x5004, little-endian; 0x%llx", (unsigned long long)v);
    cr_assert_eq(io->regs.ics & VTD_ICS_IWC, 0, "IF clear: no completion event");
    ok(wait_desc(false, true, 0x99, 0x5000));
    cr_assert_eq(io->regs.ics & VTD_ICS_IWC, VTD_ICS_IWC);
    cr_assert_eq(vtd_mem_read64(m, 0x5000, &v), 0);
    cr_assert_eq(v, UINT64_C(0x12345678aaaaaaaa), "SW clear: nothing written");
}

Test(qi, wait_with_an_unwritable_status_address_is_an_error)
{
    rejected(wait_desc(true, true, 1, UINT64_C(1) << 50), "wait (type 5): status address 0x4000000000000 is not writable");
    cr_assert_eq(res.error, 2);
    cr_assert_eq(io->regs.ics & VTD_ICS_IWC, 0, "not completed");
}

Test(qi, wait_interrupt_is_held_while_masked)
{
    io->regs.iectl = (uint32_t)VTD_ECTL_IM;
    ok(wait_desc(false, true, 0, 0));
    cr_assert(io->regs.iectl & VTD_ECTL_IP);
}

Test(qi, wait_fence_and_drain_flags)
{
    struct desc d = wait_desc(true, true, 1, 0x6000);
    d.q[0] |= BIT(WAIT_FN_BIT) | BIT(WAIT_PD_BIT); /* PD needs ECAP.PDS: the default has it */
    ok(d);
    rejected(wait_desc(true, false, 1, 0x6001), "wait (type 5): reserved bits 0x1 set in qw1");
    struct desc bad = wait_desc(false, false, 0, 0);
    bad.q[0] |= BIT(8);
    rejected(bad, "wait (type 5): reserved bits 0x100 set in qw0");
}

Test(qi, wait_pd_without_pds_is_invalid)
{
    vtd_iommu_free(io);
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    vtd_caps_set(&c.caps.ecap, VTD_ECAP_PDS, false);
    setup_with(&c);
    struct desc d = wait_desc(false, false, 0, 0);
    d.q[0] |= BIT(WAIT_PD_BIT);
    rejected(d, "wait (type 5): PD set without ECAP.PDS");
}

/* ---- type 6: PASID-based IOTLB ---- */

Test(qi, piotlb_all_in_pasid)
{
    populate();
    ok(piotlb(P_PASID, 1, 5, 0, 0, false));
    for (uint64_t a = 0x1000; a <= 0x8000; a += 0x1000)
        cr_assert_not(has_iotlb(1, 5, a, 12));
    cr_assert_not(has_iotlb(1, 5, 0x200000, 21));
    cr_assert(has_iotlb(1, 6, 0x2000, 12), "another PASID");
    cr_assert(has_iotlb(1, NOPASID, 0x2000, 12), "second-stage-only entries need type 2");
    cr_assert(has_iotlb(2, 5, 0x2000, 12), "another domain");
    cr_assert_not(has_psc_fs(1, 5, 2, 0x0));
    cr_assert_not(has_psc_fs(1, 5, 2, 0x400000));
    cr_assert(has_psc_fs(1, 6, 2, 0x0));
    cr_assert(has_psc_fs(2, 5, 2, 0x0));
    cr_assert_eq(count(VTD_C_PSC_SS), 4, "the second-stage PSC is tagged by DID only");
    cr_assert_eq(res.removed[VTD_C_IOTLB], 9);
    cr_assert_eq(res.removed[VTD_C_PSC_FS], 2);
}

Test(qi, piotlb_page_selective)
{
    populate();
    ok(piotlb(P_PAGE, 1, 5, 0x2000, 1, false)); /* [0x2000, 0x3fff] */
    for (uint64_t a = 0x1000; a <= 0x8000; a += 0x1000)
        cr_assert_eq(has_iotlb(1, 5, a, 12), a != 0x2000 && a != 0x3000, "0x%llx", (unsigned long long)a);
    cr_assert(has_iotlb(1, 5, 0x200000, 21));
    cr_assert(has_iotlb(1, 6, 0x2000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x2000, 12));
    cr_assert(has_iotlb(2, 5, 0x2000, 12));
    /* IH 0: first-stage PSC entries of DID+PASID over the range */
    cr_assert_not(has_psc_fs(1, 5, 2, 0x0));
    cr_assert(has_psc_fs(1, 5, 2, 0x400000));
    cr_assert(has_psc_fs(1, 6, 2, 0x0));
    cr_assert_eq(count(VTD_C_PSC_SS), 4);
    /* A large page overlapping the range */
    ok(piotlb(P_PAGE, 1, 5, 0x3ff000, 0, false));
    cr_assert_not(has_iotlb(1, 5, 0x200000, 21));
}

Test(qi, piotlb_page_selective_ih_keeps_psc)
{
    populate();
    ok(piotlb(P_PAGE, 1, 5, 0x0, 9, true)); /* 2 MiB at 0 */
    cr_assert_not(has_iotlb(1, 5, 0x1000, 12));
    cr_assert(has_psc_fs(1, 5, 2, 0x0));
    cr_assert_eq(res.removed[VTD_C_PSC_FS], 0);
}

Test(qi, piotlb_needs_256_bits_and_a_valid_granularity)
{
    populate();
    struct desc d = piotlb(P_PASID, 1, 5, 0, 0, false);
    d.n = 2;
    rejected(d, "P_IOTLB (type 6): needs a 256-bit descriptor");
    cr_assert(has_iotlb(1, 5, 0x1000, 12));
    rejected(piotlb(0, 1, 5, 0, 0, false), "P_IOTLB (type 6): granularity 0 is reserved");
    rejected(piotlb(1, 1, 5, 0, 0, false), "P_IOTLB (type 6): granularity 1 is reserved");
    struct desc r = piotlb(P_PASID, 1, 5, 0, 0, false);
    r.q[0] |= BIT(60);
    rejected(r, "P_IOTLB (type 6): reserved bits 0x1000000000000000 set in qw0");
    r = piotlb(P_PASID, 1, 5, 0, 0, false);
    r.q[2] = 1;
    rejected(r, "P_IOTLB (type 6): reserved bits 0x1 set in qw2");
    cr_assert(has_iotlb(1, 5, 0x1000, 12));
    ok(piotlb(P_PAGE, 1, 5, 0x1000, 1, false)); /* misaligned: aligned down, not an error */
    cr_assert_not(has_iotlb(1, 5, 0x1000, 12));
}

Test(qi, piotlb_any_am_is_valid_mamv_bounds_type_2_only)
{
    populate();
    put_iotlb(1, 5, 0x7fffe000, 12);
    put_iotlb(1, 5, 0x80000000, 12);
    ok(piotlb(P_PAGE, 1, 5, 0x0, 19, false)); /* AM 19 > MAMV 18: 2 GiB at 0 (11.4.2) */
    cr_assert_not(has_iotlb(1, 5, 0x7fffe000, 12));
    cr_assert(has_iotlb(1, 5, 0x80000000, 12));
    ok(piotlb(P_PAGE, 1, 5, 0x0, 63, false)); /* the largest mask: everything */
    cr_assert_not(has_iotlb(1, 5, 0x80000000, 12));
    cr_assert(has_iotlb(1, 6, 0x2000, 12));
}

/* ---- type 7: PASID cache ---- */

Test(qi, pasid_cache_domain_selective_uses_the_entrys_did)
{
    populate();
    ok(pc(PC_DOMAIN, 1, 0));
    cr_assert_not(has_pasid(SID, 5));
    cr_assert_not(has_pasid(SID, 6));
    cr_assert_not(has_pasid(ATS_SID, 0));
    cr_assert(has_pasid(ATS_SID, 5), "DID 2");
    cr_assert_eq(res.removed[VTD_C_PASID], 3);
    cr_assert_eq(count(VTD_C_CONTEXT), 4);
    cr_assert_eq(count(VTD_C_IOTLB), 15);
}

Test(qi, pasid_cache_pasid_selective)
{
    populate();
    ok(pc(PC_PASID, 1, 5));
    cr_assert_not(has_pasid(SID, 5));
    cr_assert(has_pasid(SID, 6));
    cr_assert(has_pasid(ATS_SID, 5), "PASID 5 but DID 2");
    ok(pc(PC_PASID, 2, 5));
    cr_assert_not(has_pasid(ATS_SID, 5));
}

Test(qi, pasid_cache_global)
{
    populate();
    ok(pc(PC_GLOBAL, 0, 0));
    cr_assert_eq(count(VTD_C_PASID), 0);
    cr_assert_eq(res.removed[VTD_C_PASID], 4);
}

Test(qi, pasid_cache_needs_256_bits_and_a_valid_granularity)
{
    populate();
    struct desc d = pc(PC_GLOBAL, 0, 0);
    d.n = 2;
    rejected(d, "PASID-cache (type 7): needs a 256-bit descriptor");
    rejected(pc(2, 1, 5), "PASID-cache (type 7): granularity 2 is reserved");
    d = pc(PC_GLOBAL, 0, 0);
    d.q[1] = BIT(12);
    rejected(d, "PASID-cache (type 7): reserved bits 0x1000 set in qw1");
    cr_assert_eq(count(VTD_C_PASID), 4);
}

/* ---- type 8: PASID-based device TLB ---- */

Test(qi, pasid_devtlb_one_pasid_in_range)
{
    populate();
    ok(pdevtlb(ATS_SID, 5, false, 0x0, false));
    cr_assert_not(has_dev(ATS_SID, 5, 0x0, 12));
    cr_assert(has_dev(ATS_SID, 5, 0x10000, 12), "outside the range");
    cr_assert(has_dev(ATS_SID, 6, 0x0, 12), "another PASID");
    cr_assert(has_dev(ATS_SID, NOPASID, 0x0, 12), "non-PASID entries need type 3");
    cr_assert(has_dev(ATS_SID2, 5, 0x0, 12), "another device");
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 1);
    ok(pdevtlb(ATS_SID, 5, false, 0xf000, true)); /* 4 trailing ones: 128 KiB at 0 */
    cr_assert_not(has_dev(ATS_SID, 5, 0x10000, 12));
}

Test(qi, pasid_devtlb_all_pasids)
{
    populate();
    ok(pdevtlb(ATS_SID, 0, true, ~UINT64_C(0xfff) & ~BIT(PDEVTLB_S_BIT), true));
    cr_assert_not(has_dev(ATS_SID, 5, 0x0, 12));
    cr_assert_not(has_dev(ATS_SID, 5, 0x10000, 12));
    cr_assert_not(has_dev(ATS_SID, 6, 0x0, 12));
    cr_assert(has_dev(ATS_SID, NOPASID, 0x0, 12), "G covers every PASID, not requests without PASID");
    cr_assert(has_dev(ATS_SID2, 5, 0x0, 12));
    cr_assert_eq(res.removed[VTD_C_DEVTLB], 3);
}

Test(qi, pasid_devtlb_needs_256_bits)
{
    populate();
    struct desc d = pdevtlb(ATS_SID, 5, false, 0, false);
    d.n = 2;
    rejected(d, "PASID-based device-TLB (type 8): needs a 256-bit descriptor");
    cr_assert(has_dev(ATS_SID, 5, 0x0, 12));
    d = pdevtlb(ATS_SID, 5, false, 0, false);
    d.q[0] |= UINT64_C(0x1f) << PDEVTLB_QDEP_SHIFT | UINT64_C(0xf) << 12 | UINT64_C(0xfff) << 52; /* QDEP, PFSID */
    ok(d);
    d.q[1] |= BIT(1);
    rejected(d, "PASID-based device-TLB (type 8): reserved bits 0x2 set in qw1");
}

/* ---- type 9: page group response ---- */

Test(qi, page_group_response_is_validated_and_accepted)
{
    populate();
    struct desc d = d256(TYPE(VTD_QI_PGRP_RESP) | BIT(PGRP_PP_BIT) | UINT64_C(1) << PGRP_RC_SHIFT |
                             (uint64_t)ATS_SID << PGRP_RID_SHIFT | UINT64_C(5) << PASID_SHIFT,
                         BIT(PGRP_LPIG_BIT) | UINT64_C(0x1ff) << PGRP_PRGI_SHIFT);
    ok(d); /* LPIG: reserved since 4.0, ignored by hardware and accepted here */
    cr_assert_eq(count(VTD_C_IOTLB), 15);
    struct desc narrow = d;
    narrow.n = 2;
    rejected(narrow, "page group response (type 9): needs a 256-bit descriptor");
    struct desc bad = d;
    bad.q[1] |= BIT(12);
    rejected(bad, "page group response (type 9): reserved bits 0x1000 set in qw1");
    bad = d;
    bad.q[0] |= BIT(5);
    rejected(bad, "page group response (type 9): reserved bits 0x20 set in qw0");
}

/* ---- common validation ---- */

Test(qi, unknown_types_are_invalid)
{
    rejected(d128(0, 0), "invalid descriptor type 0");
    rejected(d128(TYPE(10), 0), "invalid descriptor type 10");
    rejected(d256(TYPE(0x11), 0), "invalid descriptor type 17"); /* type bits 11:9 count */
    rejected(d128(TYPE(VTD_QI_IOTLB) | T_HI(0x10) | (uint64_t)G_GLOBAL << GRAN_SHIFT, 0), "invalid descriptor type 18");
    cr_assert_eq(res.error, 3, "IQEI 3: invalid descriptor type");
}

Test(qi, reserved_bits_are_named_with_the_type)
{
    static const struct {
        unsigned type;
        uint64_t qw0, qw1;
        const char *why;
    } cases[] = {
        {VTD_QI_CC, UINT64_C(1) << GRAN_SHIFT | BIT(6), 0, "context-cache (type 1): reserved bits 0x40 set in qw0"},
        {VTD_QI_CC, UINT64_C(1) << GRAN_SHIFT | BIT(50), 0, "context-cache (type 1): reserved bits 0x4000000000000"},
        {VTD_QI_CC, UINT64_C(1) << GRAN_SHIFT, BIT(0), "context-cache (type 1): reserved bits 0x1 set in qw1"},
        {VTD_QI_IOTLB, UINT64_C(1) << GRAN_SHIFT | BIT(8), 0, "IOTLB (type 2): reserved bits 0x100 set in qw0"},
        {VTD_QI_IOTLB, UINT64_C(1) << GRAN_SHIFT | BIT(32), 0, "IOTLB (type 2): reserved bits 0x100000000 set in qw0"},
        {VTD_QI_IOTLB, UINT64_C(1) << GRAN_SHIFT, BIT(7), "IOTLB (type 2): reserved bits 0x80 set in qw1"},
        {VTD_QI_DEVTLB, BIT(4), 0, "device-TLB (type 3): reserved bits 0x10 set in qw0"},
        {VTD_QI_DEVTLB, BIT(21), 0, "device-TLB (type 3): reserved bits 0x200000 set in qw0"},
        {VTD_QI_DEVTLB, 0, BIT(11), "device-TLB (type 3): reserved bits 0x800 set in qw1"},
        {VTD_QI_IEC, BIT(5), 0, "IEC (type 4): reserved bits 0x20 set in qw0"},
        {VTD_QI_WAIT, BIT(12), 0, "wait (type 5): reserved bits 0x1000 set in qw0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rejected(d128(TYPE(cases[i].type) | cases[i].qw0, cases[i].qw1), cases[i].why);
        cr_assert_eq(res.error, 4, "IQEI 4: reserved field");
    }
}

Test(qi, a_128_bit_type_in_a_256_bit_descriptor_has_zero_upper_qwords)
{
    put_ctx(SID);
    struct desc d = cc(CC_GLOBAL, 0, 0, 0);
    d.n = 4;
    ok(d);
    put_ctx(SID);
    d.q[3] = BIT(63);
    rejected(d, "context-cache (type 1): reserved bits 0x8000000000000000 set in qw3");
    cr_assert(has_ctx(SID));
}

Test(qi, a_descriptor_is_two_or_four_qwords)
{
    uint64_t q[4] = {TYPE(VTD_QI_IEC), 0, 0, 0};
    cr_assert_eq(vtd_qi_submit(io, q, 3, &res), -EINVAL);
    cr_assert_eq(vtd_qi_submit(io, q, 2, NULL), 0, "a NULL result is allowed");
}

/* ---- the queue in memory ---- */

#define IQ_BASE UINT64_C(0x100000)

static void iq_put(unsigned slot, unsigned width, struct desc d)
{
    struct vtd_mem *m = vtd_iommu_mem(io);
    for (unsigned i = 0; i < width / 8; i++)
        cr_assert_eq(vtd_mem_write64(m, IQ_BASE + (uint64_t)slot * width + 8 * i, i < d.n ? d.q[i] : 0), 0);
}

static void iq_setup(bool wide, unsigned qs)
{
    io->regs.iqa = IQ_BASE | (wide ? VTD_IQA_DW : 0) | qs;
    io->regs.iqh = io->regs.iqt = 0;
}

Test(qi, queue_128_bit_runs_to_the_tail)
{
    populate();
    iq_setup(false, 0);
    iq_put(0, 16, cc(CC_DEVICE, 0, SID, 0));
    iq_put(1, 16, iotlb(G_DOMAIN, 2, 0, 0, false));
    iq_put(2, 16, devtlb(ATS_SID, 0x0, false));
    iq_put(3, 16, wait_desc(true, true, 0xfeed, 0x7000));
    io->regs.iqt = 4 * 16;
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 4 * 16);
    cr_assert_eq(io->regs.fsts & VTD_FSTS_IQE, 0);
    cr_assert_not(has_ctx(SID));
    cr_assert_not(has_iotlb(2, 5, 0x2000, 12));
    cr_assert_not(has_dev(ATS_SID, NOPASID, 0x0, 12));
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(vtd_iommu_mem(io), 0x7000, &v), 0);
    cr_assert_eq(v & 0xffffffff, 0xfeed);
    cr_assert(io->regs.ics & VTD_ICS_IWC);
}

Test(qi, queue_256_bit_and_wrap_around)
{
    populate();
    iq_setup(true, 0); /* 4 KiB: 128 descriptors of 256 bits */
    iq_put(127, 32, piotlb(P_PASID, 1, 5, 0, 0, false));
    iq_put(0, 32, pc(PC_GLOBAL, 0, 0));
    iq_put(1, 32, cc(CC_GLOBAL, 0, 0, 0)); /* a 128-bit type in a 256-bit slot */
    io->regs.iqh = 127 * 32;
    io->regs.iqt = 2 * 32;
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 2 * 32);
    cr_assert_eq(io->regs.fsts & VTD_FSTS_IQE, 0);
    cr_assert_not(has_iotlb(1, 5, 0x1000, 12));
    cr_assert_eq(count(VTD_C_PASID), 0);
    cr_assert_eq(count(VTD_C_CONTEXT), 0);
}

Test(qi, queue_stops_at_an_invalid_descriptor)
{
    populate();
    io->regs.fectl = (uint32_t)VTD_ECTL_IM;
    iq_setup(false, 1); /* 8 KiB */
    iq_put(0, 16, cc(CC_DEVICE, 0, SID, 0));
    iq_put(1, 16, iotlb(G_PAGE, 1, 0x0, 19, false)); /* AM above MAMV */
    iq_put(2, 16, cc(CC_GLOBAL, 0, 0, 0));
    io->regs.iqt = 3 * 16;
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 16, "IQH points at the invalid descriptor");
    cr_assert(io->regs.fsts & VTD_FSTS_IQE);
    cr_assert_eq(vtd_field(io->regs.iqercd, VTD_IQERCD_IQEI), 4);
    cr_assert(io->regs.fectl & VTD_ECTL_IP, "IQE is a fault event");
    cr_assert_not(has_ctx(SID), "the descriptor before it ran");
    cr_assert_eq(count(VTD_C_CONTEXT), 3, "nothing after it ran");
    cr_assert_eq(count(VTD_C_IOTLB), 15);
    /* Halted until software clears IQE */
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 16);
    /* Software fixes the descriptor and clears IQE: the queue resumes from IQH */
    iq_put(1, 16, iotlb(G_PAGE, 1, 0x0, 18, false));
    io->regs.fsts &= ~(uint32_t)VTD_FSTS_IQE;
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 3 * 16);
    cr_assert_eq(count(VTD_C_CONTEXT), 0);
    cr_assert_not(has_iotlb(1, NOPASID, 0x2000, 12));
    cr_assert(has_iotlb(1, NOPASID, 0x40000000, 30), "outside [0, 1 GiB)");
}

Test(qi, queue_of_128_bit_descriptors_rejects_256_bit_types)
{
    iq_setup(false, 0);
    iq_put(0, 16, pc(PC_GLOBAL, 0, 0));
    io->regs.iqt = 16;
    iommu_qi_drain(io);
    cr_assert_eq(io->regs.iqh, 0);
    cr_assert(io->regs.fsts & VTD_FSTS_IQE);
    cr_assert_eq(vtd_field(io->regs.iqercd, VTD_IQERCD_IQEI), 5);
}

Test(qi, queue_tail_errors)
{
    iq_setup(true, 0);
    io->regs.iqt = 16; /* bit 4 with 256-bit descriptors */
    iommu_qi_drain(io);
    cr_assert(io->regs.fsts & VTD_FSTS_IQE);
    cr_assert_eq(vtd_field(io->regs.iqercd, VTD_IQERCD_IQEI), 1);
    io->regs.fsts = 0;
    iq_setup(false, 0);
    io->regs.iqt = 0x1000; /* past a 4 KiB queue */
    iommu_qi_drain(io);
    cr_assert(io->regs.fsts & VTD_FSTS_IQE);
    cr_assert_eq(vtd_field(io->regs.iqercd, VTD_IQERCD_IQEI), 1);
    cr_assert_eq(io->regs.iqh, 0);
}

Test(qi, queue_fetch_error)
{
    iq_setup(false, 0);
    cr_assert_eq(vtd_mem_set_abort(vtd_iommu_mem(io), IQ_BASE, 0x1000, VTD_MEM_ABORT_READ), 0);
    io->regs.iqt = 16;
    iommu_qi_drain(io);
    cr_assert(io->regs.fsts & VTD_FSTS_IQE);
    cr_assert_eq(vtd_field(io->regs.iqercd, VTD_IQERCD_IQEI), 2);
    cr_assert_eq(io->regs.iqh, 0);
}

Test(qi, queue_through_the_registers)
{
    populate();
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_IQA, 8, IQ_BASE | VTD_IQA_DW), 0);
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_GCMD, 4, VTD_GCMD_QIE), 0);
    iq_put(0, 32, piotlb(P_PAGE, 1, 5, 0x1000, 0, true));
    iq_put(1, 32, wait_desc(true, false, 1, 0x7000));
    cr_assert_eq(vtd_iommu_reg_write(io, VTD_REG_IQT, 8, 2 * 32), 0);
    uint64_t head = 0;
    cr_assert_eq(vtd_iommu_reg_read(io, VTD_REG_IQH, 8, &head), 0);
    cr_assert_eq(head, 2 * 32);
    cr_assert_not(has_iotlb(1, 5, 0x1000, 12));
    cr_assert(has_iotlb(1, 5, 0x2000, 12));
}

/* ---- descriptions ---- */

static void describes(struct desc d, const char *want)
{
    char buf[160];
    vtd_qi_describe(d.q, d.n, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

Test(qi, descriptions)
{
    describes(piotlb(P_PAGE, 1, 5, 0x3000, 1, false), "P_IOTLB PSI DID 1 PASID 5 ADDR 0x3000 AM 1 IH 0");
    describes(piotlb(P_PASID, 1, 5, 0, 0, false), "P_IOTLB all-in-PASID DID 1 PASID 5");
    describes(iotlb(G_PAGE, 3, 0x200000, 9, true), "IOTLB PSI DID 3 ADDR 0x200000 AM 9 IH 1");
    describes(iotlb(G_DOMAIN, 3, 0, 0, false), "IOTLB domain-selective DID 3");
    describes(iotlb(G_GLOBAL, 0, 0, 0, false), "IOTLB global");
    describes(cc(CC_DEVICE, 0, vtd_sid(0, 3, 1), 2), "context-cache device-selective SID 00:03.1 FM 2");
    describes(cc(CC_GLOBAL, 0, 0, 0), "context-cache global");
    describes(devtlb(ATS_SID, 0x7000, true), "device-TLB SID 00:04.0 ADDR 0x7000 S 1 (64 KiB at 0x0)");
    describes(devtlb(ATS_SID, ~UINT64_C(0xfff), true),
              "device-TLB SID 00:04.0 ADDR 0xfffffffffffff000 S 1 (everything)");
    describes(pdevtlb(ATS_SID, 5, false, 0x2000, false),
              "PASID-based device-TLB SID 00:04.0 PASID 5 ADDR 0x2000 (4 KiB at 0x2000)");
    describes(pc(PC_PASID, 1, 5), "PASID-cache PASID-selective DID 1 PASID 5");
    describes(pc(PC_GLOBAL, 0, 0), "PASID-cache global");
    describes(wait_desc(true, true, 0x1, 0x7000), "wait IF SW data 0x1 to 0x7000");
    describes(d128(TYPE(VTD_QI_IEC), 0), "IEC global");
    describes(d128(TYPE(12), 0), "unknown descriptor type 12 (qw0 0xc)");
}
