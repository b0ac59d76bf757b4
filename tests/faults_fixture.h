/*
 * faults_fixture.h: the world every test_faults_*.c suite starts from, and the helpers they share.
 *
 * Each fault code has a test that raises it (the exact code, and where meaningful the fault's
 * address and level, and that x.fault.code equals the return value) next to a request or a
 * structure that differs minimally and does NOT raise it: it succeeds, or stops at the next
 * check with that check's code. The expected codes are literals from the specification's
 * table (VT-d 7.1.3; walker/fault.h names them), never computed from the implementation.
 *
 * Codes the walker never raises (32h, 47h: page requests; 79h: not produced, see
 * docs/walker.md) have no test.
 *
 * One header per suite executable: the state below is static, one copy per suite.
 */
#ifndef VTDSIM_TESTS_FAULTS_FIXTURE_H
#define VTDSIM_TESTS_FAULTS_FIXTURE_H

#include <criterion/criterion.h>

#include <inttypes.h>

#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)      /* devfn 0x18: low half of bus 0's root entry */
#define SID_FN1 vtd_sid(0, 3, 1)  /* same bus, same context table, another entry */
#define SID_HI vtd_sid(0, 16, 0)  /* devfn 0x80: high half of bus 0's root entry */
#define SID_BUS2 vtd_sid(2, 3, 0) /* another bus */

#define R VTD_PERM_R
#define W VTD_PERM_W
#define X VTD_PERM_X
#define U VTD_PERM_U
#define RW (R | W)
#define RWX (R | W | X)
#define RWU (R | W | U)
#define RWUX (R | W | U | X)

#define PAGE UINT64_C(0x1000)
#define BIT(n) (UINT64_C(1) << (n))
#define HAW_LIMIT BIT(48) /* 2^haw with the default capabilities */

/* The usual mapping: PML4 index 0, then index 1 at every lower level. */
#define VA UINT64_C(0x40201000)
#define PA UINT64_C(0x80000)

static struct world w;
static struct vtd_ctx ctx;
static struct vtd_pt fs, ss;
static struct vtd_pasid_cfg cfg;
static struct vtd_xlate x;

/* ---- fixture and helpers --------------------------------------------------------------- */

static inline void start_caps(const struct vtd_caps *caps)
{
    cr_assert_eq(world_init(&w, caps), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
}
static inline void start(void) { start_caps(NULL); }
static inline void teardown(void)
{
    if (w.mem)
        world_fini(&w);
}

TestSuite(faults, .fini = teardown);

static inline struct vtd_caps caps_with(uint64_t cap_clr, uint64_t cap_set, uint64_t ecap_clr, uint64_t ecap_set)
{
    struct vtd_caps c;
    vtd_caps_default(&c);
    c.cap = (c.cap & ~cap_clr) | cap_set;
    c.ecap = (c.ecap & ~ecap_clr) | ecap_set;
    return c;
}

/* Translate and check that the fault record agrees with the return value. */
static inline int xl_kind(uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv,
                          enum vtd_req_kind kind)
{
    int rc = world_xlate_kind(&w, sid, pasid, addr, access, priv, kind, &x);
    cr_assert_eq(x.fault.code, rc, "x.fault.code %#x differs from the return value %#x", (unsigned)x.fault.code,
                 (unsigned)rc);
    return rc;
}
static inline int xl_sid(uint16_t sid, int64_t pasid, uint64_t addr, unsigned access, bool priv)
{
    return xl_kind(sid, pasid, addr, access, priv, VTD_REQ_UNTRANSLATED);
}
static inline int xl(int64_t pasid, uint64_t addr, unsigned access, bool priv)
{
    return xl_sid(SID, pasid, addr, access, priv);
}

/* rc must be `code` (0: success). */
#define EXPECT(expr, code)                                                                                    \
    do {                                                                                                      \
        int rc_ = (expr);                                                                                     \
        cr_assert_eq(rc_, (code), "%s: expected %#x, got %#x", #expr, (unsigned)(code), (unsigned)rc_);      \
    } while (0)
/* Same with the fault's address and level. */
#define EXPECT_AT(expr, code, addr_, level_)                                                                  \
    do {                                                                                                      \
        EXPECT(expr, code);                                                                                   \
        cr_assert_eq(x.fault.addr, (uint64_t)(addr_), "%s: fault.addr %#" PRIx64 ", expected %#" PRIx64, #expr, \
                     x.fault.addr, (uint64_t)(addr_));                                                        \
        cr_assert_eq(x.fault.level, (unsigned)(level_), "%s: fault.level %u, expected %u", #expr,             \
                     x.fault.level, (unsigned)(level_));                                                      \
    } while (0)
/* Same with the level only (permission faults: the level of the leaf that decided). */
#define EXPECT_LEVEL(expr, code, level_)                                                                      \
    do {                                                                                                      \
        EXPECT(expr, code);                                                                                   \
        cr_assert_eq(x.fault.level, (unsigned)(level_), "%s: fault.level %u, expected %u", #expr,             \
                     x.fault.level, (unsigned)(level_));                                                      \
    } while (0)

static inline uint64_t rd(uint64_t pa)
{
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(w.mem, pa, &v), 0, "read at %#" PRIx64, pa);
    return v;
}
static inline void wr(uint64_t pa, uint64_t v)
{
    cr_assert_eq(vtd_mem_write64(w.mem, pa, v), 0, "write at %#" PRIx64, pa);
}
static inline void set_bits(uint64_t pa, uint64_t bits) { wr(pa, rd(pa) | bits); }
static inline void clr_bits(uint64_t pa, uint64_t bits) { wr(pa, rd(pa) & ~bits); }

static inline void abort_page(uint64_t pa, unsigned flags)
{
    cr_assert_eq(vtd_mem_set_abort(w.mem, pa & VTD_PAGE_MASK, VTD_PAGE_SIZE, flags), 0);
}

/* Host address of the entry that maps va at `level` of a page table. */
static inline uint64_t pt_entry(const struct vtd_pt *pt, uint64_t va, unsigned level)
{
    uint64_t hpa;
    cr_assert_eq(vtd_pt_entry_addr(pt, va, level, &hpa), 0, "entry of %#" PRIx64 " at level %u", va, level);
    return hpa;
}

static inline uint64_t rta(void) { return w.rtaddr & VTD_RTADDR_RTA; }
/* The root-entry qword serving sid (VT-d 9.2: devfn 0-127 low, 128-255 high). */
static inline uint64_t root_half(uint16_t sid)
{
    return vtd_root_entry_addr(rta(), (uint8_t)(sid >> 8)) + ((sid & 0x80) ? 8 : 0);
}
static inline uint64_t ctx_entry(uint16_t sid)
{
    return vtd_ctx_entry_addr(rd(root_half(sid)) & VTD_ROOT_CTP, (uint8_t)sid);
}
static inline uint64_t pe_entry(uint32_t pasid)
{
    uint64_t a = vtd_build_pasid_entry_addr(&w.b, &ctx, pasid);
    cr_assert_neq(a, 0, "no PASID table for PASID %u", pasid);
    return a;
}
static inline void rebuild_ctx(uint16_t sid) { cr_assert_eq(vtd_build_context(&w.b, w.rtaddr, sid, &ctx), 0); }
static inline void rebuild_pe(uint32_t pasid) { cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, pasid, &cfg), 0); }

/* Write a raw PASID entry (qw0, holding P, last). */
static inline void pe_write_raw(uint32_t pasid, const struct vtd_pasid_entry *pe)
{
    uint64_t a = pe_entry(pasid);
    for (unsigned i = 8; i-- > 0;)
        wr(a + 8 * i, pe->qw[i]);
}

static inline void pt_pasid(uint32_t pasid)
{
    cr_assert_eq(world_pasid(&w, &ctx, pasid, VTD_PGTT_PT, 0, 0, NULL, NULL, &cfg), 0);
}
static inline void fs_pasid(uint32_t pasid, unsigned levels)
{
    cr_assert_eq(world_pasid(&w, &ctx, pasid, VTD_PGTT_FS, levels, 0, &fs, NULL, &cfg), 0);
}
static inline void ss_pasid(uint32_t pasid, unsigned levels)
{
    cr_assert_eq(world_pasid(&w, &ctx, pasid, VTD_PGTT_SS, levels, 0, NULL, &ss, &cfg), 0);
}
static inline void map4k(struct vtd_pt *pt, uint64_t va, uint64_t pa, unsigned perm, unsigned flags)
{
    cr_assert_eq(vtd_pt_map(pt, va, pa, PAGE, 12, perm, flags), 0, "map %#" PRIx64, va);
}

/* ---- shared by several stages ---------------------------------------------------------- */

#define NEST_DATA_GPA UINT64_C(0x2000000) /* outside the guest's page-table pool */

/* One entry of a mapping edited per row: the walk must stop there with `expect`, or pass. */
struct entry_row {
    const char *name;
    uint64_t va;       /* the address translated; the entry edited is on its path */
    unsigned level;    /* level of the entry edited */
    uint64_t set;      /* bits set in it */
    uint64_t cap_clr;  /* CAP bits withdrawn for the row */
    uint64_t ecap_clr; /* ECAP bits withdrawn for the row */
    int expect;
};

static inline void run_entry_rows(const struct vtd_pt *pt, const struct entry_row *rows, size_t n)
{
    const struct vtd_caps def = w.caps;
    for (size_t i = 0; i < n; i++) {
        const struct entry_row *r = &rows[i];
        const uint64_t e = pt_entry(pt, r->va, r->level), orig = rd(e);
        wr(e, orig | r->set);
        w.caps.cap &= ~r->cap_clr;
        w.caps.ecap &= ~r->ecap_clr;
        int rc = xl(1, r->va + 0x10, VTD_ACC_R, false);
        cr_assert_eq(rc, r->expect, "row '%s': expected %#x, got %#x", r->name, (unsigned)r->expect, (unsigned)rc);
        if (rc) {
            cr_assert_eq(x.fault.addr, e, "row '%s': fault.addr %#" PRIx64, r->name, x.fault.addr);
            cr_assert_eq(x.fault.level, r->level, "row '%s': fault.level %u", r->name, x.fault.level);
        }
        w.caps = def;
        wr(e, orig);
    }
}

#define VA2M UINT64_C(0x40400000)
#define PA2M UINT64_C(0x200000)
#define VA1G UINT64_C(0x80000000)
#define PA1G UINT64_C(0x40000000)

#endif
