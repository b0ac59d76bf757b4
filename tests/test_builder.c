/*
 * test_builder.c: the structure builder writes exactly the bits VT-d specifies (9.2 root,
 * 9.4 context, 9.5 PASID directory, 9.6 PASID entry, 9.7 first-stage and 9.8 second-stage
 * paging entries), refuses what it cannot do without changing memory, and its page tables
 * map exactly what was asked (including a seeded random property test).
 *
 * Expected values are literal numbers on purpose: they check the headers' masks too.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "walker/builder.h"
#include "walker/walk.h"
#include "xorshift.h"

#define POOL_BASE UINT64_C(0x1000)
#define POOL_PAGES 4096u
#define SMALL_POOL UINT64_C(0x4000000) /* a second pool, clear of the first */

static struct vtd_mem *mem;
static struct vtd_caps caps;
static struct vtd_builder b;

static void setup(void)
{
    vtd_caps_default(&caps);
    mem = vtd_mem_new(caps.haw);
    cr_assert_not_null(mem);
    cr_assert_eq(vtd_builder_init(&b, mem, &caps, POOL_BASE, (uint64_t)POOL_PAGES * 0x1000), 0);
}

static void teardown(void)
{
    vtd_mem_free(mem);
    mem = NULL;
}

static uint64_t rd(uint64_t pa)
{
    uint64_t v = 0;
    cr_assert_eq(vtd_mem_read64(mem, pa, &v), 0, "read at %#llx", (unsigned long long)pa);
    return v;
}

static void wr(uint64_t pa, uint64_t v) { cr_assert_eq(vtd_mem_write64(mem, pa, v), 0); }

/* Value of the entry at `level` on the path of va. */
static uint64_t entry_at(const struct vtd_pt *pt, uint64_t va, unsigned level)
{
    uint64_t hpa = 0;
    cr_assert_eq(vtd_pt_entry_addr(pt, va, level, &hpa), 0, "entry at level %u for %#llx", level,
                 (unsigned long long)va);
    return rd(hpa);
}

/* Lookup expecting a mapping; returns the page shift. */
static unsigned expect_map(const struct vtd_pt *pt, uint64_t va, uint64_t want_pa, unsigned want_perm)
{
    uint64_t pa = 0;
    unsigned shift = 0, perm = 0;
    cr_assert_eq(vtd_pt_lookup(pt, va, &pa, &shift, &perm), 0, "lookup %#llx", (unsigned long long)va);
    cr_assert_eq(pa, want_pa, "va %#llx -> %#llx, want %#llx", (unsigned long long)va, (unsigned long long)pa,
                 (unsigned long long)want_pa);
    cr_assert_eq(perm, want_perm, "va %#llx perm %#x, want %#x", (unsigned long long)va, perm, want_perm);
    return shift;
}

/* A copy of every builder-allocated page, to prove a refused call changed nothing. */
struct snapshot {
    uint64_t pool_next;
    size_t len;
    uint8_t *bytes;
};

static struct snapshot snap_take(void)
{
    struct snapshot s = { .pool_next = b.pool_next, .len = (size_t)(b.pool_next - POOL_BASE) };
    s.bytes = malloc(s.len);
    cr_assert_not_null(s.bytes);
    cr_assert_eq(vtd_mem_read(mem, POOL_BASE, s.bytes, s.len), 0);
    return s;
}

static void snap_expect_same(struct snapshot *s)
{
    cr_assert_eq(b.pool_next, s->pool_next, "pages were allocated");
    uint8_t *now = malloc(s->len);
    cr_assert_not_null(now);
    cr_assert_eq(vtd_mem_read(mem, POOL_BASE, now, s->len), 0);
    cr_assert(memcmp(now, s->bytes, s->len) == 0, "memory changed");
    free(now);
    free(s->bytes);
    s->bytes = NULL;
}

#define RW (VTD_PERM_R | VTD_PERM_W)
#define RWX (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X)
#define KB4 UINT64_C(0x1000)
#define MB2 UINT64_C(0x200000)
#define GB1 UINT64_C(0x40000000)

TestSuite(builder, .init = setup, .fini = teardown);

/* ---- builder and pool ------------------------------------------------------------------ */

Test(builder, init_rejects_bad_pools)
{
    struct vtd_builder x;
    cr_expect_eq(vtd_builder_init(&x, mem, &caps, 0x1800, 0x1000), -EINVAL);
    cr_expect_eq(vtd_builder_init(&x, mem, &caps, 0x1000, 0x1800), -EINVAL);
    cr_expect_eq(vtd_builder_init(&x, mem, &caps, (UINT64_C(1) << 48) - 0x1000, 0x2000), -ERANGE);
    cr_expect_eq(vtd_builder_init(&x, mem, &caps, (UINT64_C(1) << 48) - 0x1000, 0x1000), 0);
}

Test(builder, alloc_page_zeroes_and_exhausts)
{
    struct vtd_builder small;
    wr(SMALL_POOL + 8, 0xdeadbeef);
    cr_assert_eq(vtd_builder_init(&small, mem, &caps, SMALL_POOL, 0x2000), 0);
    uint64_t pa = 0;
    cr_assert_eq(vtd_builder_alloc_page(&small, &pa), 0);
    cr_expect_eq(pa, SMALL_POOL);
    cr_expect_eq(rd(SMALL_POOL + 8), 0);
    cr_assert_eq(vtd_builder_alloc_page(&small, &pa), 0);
    cr_expect_eq(pa, SMALL_POOL + 0x1000);
    cr_expect_eq(vtd_builder_alloc_page(&small, &pa), -ENOMEM);
    cr_expect_eq(small.pool_next, SMALL_POOL + 0x2000);
}

/* ---- root, context, PASID structures --------------------------------------------------- */

Test(builder, root_and_context_entries)
{
    uint64_t rtaddr = 0;
    cr_assert_eq(vtd_build_root_table(&b, &rtaddr), 0);
    cr_expect_eq(rtaddr, 0x1000 | 0x400); /* TTM = 01b: scalable */

    struct vtd_ctx ctx = { .paside = true, .pdts = 2, .pdtp = 0x5000 };
    cr_assert_eq(vtd_build_context(&b, rtaddr, vtd_sid(3, 2, 0), &ctx), 0); /* devfn 0x10 */
    cr_expect_eq(rd(0x1000 + 3 * 16), 0x2000 | 1);                          /* low half */
    cr_expect_eq(rd(0x1000 + 3 * 16 + 8), 0);
    cr_expect_eq(rd(0x2000 + 0x10 * 32), 0x5000 | 0x400 | 0x8 | 0x1);
    cr_expect_eq(rd(0x2000 + 0x10 * 32 + 8), 0);
    cr_expect_eq(rd(0x2000 + 0x10 * 32 + 16), 0);
    cr_expect_eq(rd(0x2000 + 0x10 * 32 + 24), 0);

    /* devfn 0x90 uses the high half and its own table; fn 1 of the same device reuses 0x2000. */
    struct vtd_ctx all = { .fpd = true, .dte = true, .pre = true, .rid_priv = true, .pdts = 7,
                           .pdtp = 0xabc000, .rid_pasid = 0x12345 };
    cr_assert_eq(vtd_build_context(&b, rtaddr, vtd_sid(3, 0x12, 0), &all), 0);
    cr_expect_eq(rd(0x1000 + 3 * 16 + 8), 0x3000 | 1);
    cr_expect_eq(rd(0x3000 + 0x10 * 32), 0xabc000 | 0xe00 | 0x10 | 0x4 | 0x2 | 0x1);
    cr_expect_eq(rd(0x3000 + 0x10 * 32 + 8), 0x100000 | 0x12345);
    uint64_t next = b.pool_next;
    cr_assert_eq(vtd_build_context(&b, rtaddr, vtd_sid(3, 2, 1), &ctx), 0);
    cr_expect_eq(b.pool_next, next);
    cr_expect_eq(rd(0x2000 + 0x11 * 32), 0x5409);

    /* What was written decodes back to what was asked. */
    struct vtd_ctx_entry ce;
    struct vtd_ctx back;
    for (unsigned i = 0; i < 4; i++)
        ce.qw[i] = rd(0x3000 + 0x10 * 32 + 8 * i);
    cr_assert_eq(ctx_entry_decode(&ce, &caps, &back), 0);
    cr_expect(back.fpd && back.dte && back.pre && back.rid_priv && !back.paside);
    cr_expect_eq(back.pdts, 7);
    cr_expect_eq(back.pdtp, 0xabc000);
    cr_expect_eq(back.rid_pasid, 0x12345);
}

Test(builder, context_rejects_unrepresentable)
{
    uint64_t rtaddr = 0;
    cr_assert_eq(vtd_build_root_table(&b, &rtaddr), 0);
    struct vtd_ctx bad_pdtp = { .pdtp = 0x5800 }, bad_pdts = { .pdts = 8 }, bad_rp = { .rid_pasid = 1u << 20 };
    struct vtd_ctx ok = { .pdtp = 0x5000 };
    cr_expect_eq(vtd_build_context(&b, rtaddr, 0, &bad_pdtp), -EINVAL);
    cr_expect_eq(vtd_build_context(&b, rtaddr, 0, &bad_pdts), -EINVAL);
    cr_expect_eq(vtd_build_context(&b, rtaddr, 0, &bad_rp), -EINVAL);
    cr_expect_eq(vtd_build_context(&b, rtaddr & ~UINT64_C(0xc00), 0, &ok), -EINVAL); /* legacy TTM */
}

Test(builder, pasid_directory_sizes)
{
    static const unsigned pages[8] = { 1, 1, 1, 2, 4, 8, 16, 32 }; /* 2^(pdts+7) * 8 bytes */
    for (unsigned pdts = 0; pdts < 8; pdts++) {
        uint64_t before = b.pool_next, pdtp = 0;
        cr_assert_eq(vtd_build_pasid_dir(&b, pdts, &pdtp), 0);
        cr_expect_eq(pdtp, before);
        cr_expect_eq(b.pool_next - before, pages[pdts] * 0x1000ull, "pdts %u", pdts);
    }
    uint64_t pdtp;
    cr_expect_eq(vtd_build_pasid_dir(&b, 8, &pdtp), -EINVAL);
}

Test(builder, pasid_entry_bits)
{
    struct vtd_ctx ctx = { .paside = true, .pdts = 0 };
    cr_assert_eq(vtd_build_pasid_dir(&b, 0, &ctx.pdtp), 0);
    cr_expect_eq(vtd_build_pasid_entry_addr(&b, &ctx, 0x1234), 0); /* no table yet */

    struct vtd_pasid_cfg cfg;
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_SS, 5);
    cfg.ssptptr = 0x7000;
    cr_assert_eq(vtd_build_pasid_entry(&b, &ctx, 0x1234, &cfg), 0);
    uint64_t ptp = rd(ctx.pdtp + 0x48 * 8); /* directory index 0x1234 >> 6 */
    cr_expect_eq(ptp & 0xfff, 1);
    ptp &= ~UINT64_C(0xfff);
    uint64_t pe = ptp + 0x34 * 64;          /* table index 0x1234 & 0x3f */
    cr_expect_eq(vtd_build_pasid_entry_addr(&b, &ctx, 0x1234), pe);
    cr_expect_eq(rd(pe), 0x7000 | 0x80 | 0x8 | 0x1); /* SSPTPTR, PGTT=2, AW=2 (48-bit), P */
    cr_expect_eq(rd(pe + 8), 0x800000 | 5);          /* PWSNP (bit 87), DID */
    for (unsigned i = 2; i < 8; i++)
        cr_expect_eq(rd(pe + 8 * i), 0, "qw%u", i);

    /* All eight qwords are written, not only the ones with fields. */
    wr(pe + 5 * 8, 0xdead);
    struct vtd_pasid_cfg fs;
    vtd_pasid_cfg_init(&fs, VTD_PGTT_FS, 0x42);
    fs.fs_levels = 5;
    fs.sre = true;
    fs.fsptptr = 0x9000;
    cr_assert_eq(vtd_build_pasid_entry(&b, &ctx, 0x1234, &fs), 0);
    cr_expect_eq(rd(pe), 0x40 | 0x8 | 0x1);       /* PGTT=1, AW=2, P */
    cr_expect_eq(rd(pe + 8), 0x800000 | 0x42);
    cr_expect_eq(rd(pe + 16), 0x9000 | 0x4 | 0x1); /* FSPTPTR, FSPM=1 (5-level), SRE */
    cr_expect_eq(rd(pe + 5 * 8), 0);

    /* A neighbour in the same PASID table reuses it. */
    uint64_t next = b.pool_next;
    cr_assert_eq(vtd_build_pasid_entry(&b, &ctx, 0x1200, &cfg), 0);
    cr_expect_eq(b.pool_next, next);

    struct vtd_pasid_entry e;
    struct vtd_pasid_cfg back;
    for (unsigned i = 0; i < 8; i++)
        e.qw[i] = rd(pe + 8 * i);
    cr_assert_eq(pasid_entry_decode(&e, &caps, &back), 0);
    cr_expect_eq(back.pgtt, VTD_PGTT_FS);
    cr_expect_eq(back.fs_levels, 5);
    cr_expect_eq(back.fsptptr, 0x9000);
    cr_expect(back.sre && back.pwsnp);

    cr_assert_eq(vtd_build_pasid_clear(&b, &ctx, 0x1234), 0);
    for (unsigned i = 0; i < 8; i++)
        cr_expect_eq(rd(pe + 8 * i), 0, "qw%u", i);
    cr_expect_eq(vtd_build_pasid_clear(&b, &ctx, 0x40), 0); /* no table there: nothing to do */
}

Test(builder, pasid_entry_refusals)
{
    struct vtd_ctx ctx = { .pdts = 0 };
    cr_assert_eq(vtd_build_pasid_dir(&b, 0, &ctx.pdtp), 0);
    struct vtd_pasid_cfg cfg;
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_SS, 1);
    cr_expect_eq(vtd_build_pasid_entry(&b, &ctx, 128u << 6, &cfg), -ERANGE); /* directory has 128 entries */
    cfg.ssptptr = 0x7008;
    cr_expect_eq(vtd_build_pasid_entry(&b, &ctx, 1, &cfg), -EINVAL);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, 1);
    cfg.fs_levels = 3;
    cr_expect_eq(vtd_build_pasid_entry(&b, &ctx, 1, &cfg), -EINVAL);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_SS, 1);
    cfg.ss_levels = 6;
    cr_expect_eq(vtd_build_pasid_entry(&b, &ctx, 1, &cfg), -EINVAL);
    cr_expect_eq(rd(ctx.pdtp), 0, "no PASID table was hooked in");
}

Test(builder, pasid_cfg_defaults)
{
    struct vtd_pasid_cfg cfg;
    memset(&cfg, 0xff, sizeof cfg);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, 9);
    cr_expect_eq(cfg.pgtt, VTD_PGTT_NESTED);
    cr_expect_eq(cfg.did, 9);
    cr_expect(cfg.pwsnp);
    cr_expect_eq(cfg.fs_levels, 4);
    cr_expect_eq(cfg.ss_levels, 4);
    cr_expect(!cfg.fpd && !cfg.pgsnp && !cfg.ssee && !cfg.ssade && !cfg.sre && !cfg.ere && !cfg.wpe && !cfg.nxe &&
              !cfg.smep && !cfg.eafe);
    cr_expect_eq(cfg.ssptptr, 0);
    cr_expect_eq(cfg.fsptptr, 0);
}

/* ---- page tables ----------------------------------------------------------------------- */

Test(builder, pt_init_checks)
{
    struct vtd_pt pt, ss;
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 3, NULL, 0, 0), -EINVAL);
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 2, NULL, 0, 0), -EINVAL);
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 6, NULL, 0, 0), -EINVAL);
    caps.cap &= ~VTD_CAP_FS5LP;
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 5, NULL, 0, 0), -EINVAL);
    cr_assert_eq(vtd_pt_init(&ss, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_expect_eq(ss.root, POOL_BASE);
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, &ss, 0, 0x1000), -EINVAL); /* SS over SS */
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, &ss, 0x800, 0x1000), -EINVAL);
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, &ss, 0, 0x1000), -ENOENT); /* backing maps nothing */
    cr_expect_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, &ss, UINT64_C(1) << 48, 0x1000), -ERANGE);
}

Test(builder, ss_pages_at_every_depth)
{
    for (unsigned levels = 3; levels <= 5; levels++) {
        struct vtd_pt pt;
        cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, levels, NULL, 0, 0), 0);
        uint64_t top = (UINT64_C(1) << (12 + 9 * levels)) - GB1; /* the last GiB of the space */
        cr_assert_eq(vtd_pt_map(&pt, 0x1000, 0x200000, KB4, 12, RW, 0), 0);
        cr_assert_eq(vtd_pt_map(&pt, 0x40000000, 0x80000000, MB2, 21, VTD_PERM_R | VTD_PERM_X, 0), 0);
        cr_assert_eq(vtd_pt_map(&pt, top, 0x3c0000000, GB1, 30, RW, VTD_MAP_AD), 0);

        cr_expect_eq(expect_map(&pt, 0x1abc, 0x200abc, RW), 12);
        cr_expect_eq(expect_map(&pt, 0x401fffff, 0x801fffff, VTD_PERM_R | VTD_PERM_X), 21);
        cr_expect_eq(expect_map(&pt, top + 0x12345678, 0x3d2345678, RW), 30);
        cr_expect_eq(vtd_pt_lookup(&pt, 0x2000, NULL, NULL, NULL), -ENOENT);
        cr_expect_eq(vtd_pt_lookup(&pt, top + GB1, NULL, NULL, NULL), -ERANGE);

        /* VT-d 9.8: R bit 0, W bit 1, X bit 2, PS bit 7, A bit 8, D bit 9; tables R|W|X. */
        cr_expect_eq(entry_at(&pt, 0x1000, 1), 0x200000 | 0x3);
        cr_expect_eq(entry_at(&pt, 0x40000000, 2), 0x80000000 | 0x80 | 0x5);
        cr_expect_eq(entry_at(&pt, top, 3), 0x3c0000000 | 0x200 | 0x100 | 0x80 | 0x3);
        uint64_t t = entry_at(&pt, 0x1000, levels);
        cr_expect_eq(t & 0xfff, 0x7, "non-leaf at level %u: %#llx", levels, (unsigned long long)t);
        if (levels > 3) /* at 3 levels the 1 GiB leaf is in the top table */
            cr_expect_eq(entry_at(&pt, top, levels) & 0xfff, 0x107, "A on tables created with VTD_MAP_AD");
    }
}

Test(builder, ss_page_sizes_need_caps)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    caps.cap &= ~(VTD_CAP_SSLPS_2M | VTD_CAP_SSLPS_1G);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, MB2, 21, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, GB1, 30, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 13, RW, 0), -EINVAL);
    caps.cap |= VTD_CAP_SSLPS_2M;
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, MB2, 21, RW, 0), 0);
}

Test(builder, ss_permissions_and_flags)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, 0, 0), -EINVAL);          /* grants nothing */
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, VTD_PERM_U, 0), -EINVAL); /* no U in SS */
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, VTD_PERM_R | VTD_PERM_U, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, VTD_PERM_R, 0x80), -EINVAL);
    cr_assert_eq(vtd_pt_map(&pt, 0, 0x5000, KB4, 12, VTD_PERM_X, 0), 0); /* X alone is a choice */
    cr_expect_eq(expect_map(&pt, 0, 0x5000, VTD_PERM_X), 12);
    cr_assert_eq(vtd_pt_map(&pt, 0x1000, 0x6000, KB4, 12, VTD_PERM_R, VTD_MAP_SNP | VTD_MAP_AD), 0);
    cr_expect_eq(entry_at(&pt, 0x1000, 1), 0x6000 | 0x800 | 0x100 | 0x1); /* SNP bit 11, A, no D */
    caps.ecap &= ~VTD_ECAP_SC;
    cr_expect_eq(vtd_pt_map(&pt, 0x2000, 0x6000, KB4, 12, VTD_PERM_R, VTD_MAP_SNP), -EINVAL);
}

Test(builder, fs_leaf_bits)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 0x1000, 0x5000, KB4, 12, VTD_PERM_R, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 0x2000, 0x6000, KB4, 12, VTD_PERM_ALL, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 0x3000, 0x7000, KB4, 12, VTD_PERM_R | VTD_PERM_U, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 0x200000, 0x400000, MB2, 21, RW, VTD_MAP_AD), 0);

    /* VT-d 9.7: P bit 0, RW bit 1, US bit 2, A bit 5, D bit 6, PS bit 7, XD bit 63. */
    cr_expect_eq(entry_at(&pt, 0x1000, 1), UINT64_C(0x8000000000005001));
    cr_expect_eq(entry_at(&pt, 0x2000, 1), 0x6007);
    cr_expect_eq(entry_at(&pt, 0x3000, 1), UINT64_C(0x8000000000007005));
    cr_expect_eq(entry_at(&pt, 0x200000, 2), UINT64_C(0x8000000000400000) | 0x80 | 0x40 | 0x20 | 0x3);
    uint64_t top = entry_at(&pt, 0x1000, 4);
    cr_expect_eq(top & (0xfff | (UINT64_C(1) << 63)), 0x7, "tables: P|RW|US, no XD, no A");

    cr_expect_eq(expect_map(&pt, 0x1008, 0x5008, VTD_PERM_R), 12);
    cr_expect_eq(expect_map(&pt, 0x2008, 0x6008, VTD_PERM_ALL), 12);
    cr_expect_eq(expect_map(&pt, 0x3008, 0x7008, VTD_PERM_R | VTD_PERM_U), 12);
    cr_expect_eq(expect_map(&pt, 0x3fffff, 0x5fffff, RW), 21);
    /* FS can express no write-only or execute-only page: R comes with presence. */
    cr_assert_eq(vtd_pt_map(&pt, 0x4000, 0x8000, KB4, 12, VTD_PERM_W, 0), 0);
    cr_expect_eq(expect_map(&pt, 0x4000, 0x8000, RW), 12);
    cr_expect_eq(vtd_pt_map(&pt, 0x5000, 0x8000, KB4, 12, VTD_PERM_R, VTD_MAP_SNP), -EINVAL);
}

Test(builder, fs_1g_needs_fs1gp)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    caps.cap &= ~VTD_CAP_FS1GP;
    cr_expect_eq(vtd_pt_map(&pt, GB1, GB1, GB1, 30, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, GB1, GB1, MB2, 21, RW, 0), 0); /* 2 MiB needs no capability */
    caps.cap |= VTD_CAP_FS1GP;
    cr_assert_eq(vtd_pt_map(&pt, 2 * GB1, 3 * GB1, GB1, 30, VTD_PERM_R | VTD_PERM_X, 0), 0);
    cr_expect_eq(entry_at(&pt, 2 * GB1, 3), 3 * GB1 | 0x80 | 0x1);
    cr_expect_eq(expect_map(&pt, 2 * GB1 + 0x123456, 3 * GB1 + 0x123456, VTD_PERM_R | VTD_PERM_X), 30);
}

Test(builder, fs_five_levels)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 5, NULL, 0, 0), 0);
    uint64_t va = UINT64_C(1) << 56;
    cr_assert_eq(vtd_pt_map(&pt, va, 0x9000, KB4, 12, RW, 0), 0);
    cr_expect_eq(expect_map(&pt, va, 0x9000, RW), 12);
    cr_expect_eq(vtd_pt_map(&pt, UINT64_C(1) << 57, 0x9000, KB4, 12, RW, 0), -ERANGE);
}

Test(builder, overlap_small_into_large)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, MB2, 0x10000000, MB2, 21, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 2 * GB1, 0x40000000, GB1, 30, RW, 0), 0);
    struct snapshot s = snap_take();
    cr_expect_eq(vtd_pt_map(&pt, MB2 + 0x5000, 0x1000, KB4, 12, RW, 0), -EEXIST);
    cr_expect_eq(vtd_pt_map(&pt, 2 * GB1 + 3 * MB2, 0, MB2, 21, RW, 0), -EEXIST);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, 2 * MB2, 21, RW, 0), -EEXIST);        /* second half overlaps */
    cr_expect_eq(vtd_pt_map_auto(&pt, 0x1ff000, 0x1ff000, 0x2000, RW, 0), -EEXIST);
    snap_expect_same(&s);
}

Test(builder, overlap_large_over_small)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 2 * MB2 + 0x3000, 0x1000, KB4, 12, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, GB1 + 5 * MB2, 0, MB2, 21, RW, 0), 0);
    struct snapshot s = snap_take();
    cr_expect_eq(vtd_pt_map(&pt, 2 * MB2, 0x10000000, MB2, 21, RW, 0), -EEXIST);
    cr_expect_eq(vtd_pt_map(&pt, GB1, 0x40000000, GB1, 30, RW, 0), -EEXIST);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, GB1, 30, RW, 0), -EEXIST); /* a table two levels down */
    snap_expect_same(&s);
    /* Once the small page is gone, its empty table may be replaced by a large page. */
    cr_assert_eq(vtd_pt_unmap(&pt, 2 * MB2 + 0x3000, KB4), 0);
    cr_assert_eq(vtd_pt_map(&pt, 2 * MB2, 0x10000000, MB2, 21, RW, 0), 0);
    cr_expect_eq(expect_map(&pt, 2 * MB2 + 0x3000, 0x10003000, RW), 21);
}

Test(builder, overlapping_range_writes_nothing)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, GB1 + 0x13000, 0x1000, KB4, 12, RW, 0), 0);
    struct snapshot s = snap_take();
    /* The range starts in unmapped space, under a table that does not exist yet... */
    cr_expect_eq(vtd_pt_map(&pt, GB1 - 0x2000, 0x100000, 0x16000, 12, RW, 0), -EEXIST);
    snap_expect_same(&s);
    cr_expect_eq(vtd_pt_lookup(&pt, GB1 - 0x2000, NULL, NULL, NULL), -ENOENT);
    cr_expect_eq(vtd_pt_lookup(&pt, GB1, NULL, NULL, NULL), -ENOENT);
}

Test(builder, misalignment_and_size)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    struct snapshot s = snap_take();
    cr_expect_eq(vtd_pt_map(&pt, MB2 + KB4, 0, MB2, 21, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, MB2, KB4, MB2, 21, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, MB2, 0, MB2 + KB4, 21, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, GB1, MB2, GB1, 30, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, 0x800, 0, KB4, 12, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, 0, 12, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map_auto(&pt, 0, 0, 0, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_map_auto(&pt, 0, 0x10, KB4, RW, 0), -EINVAL);
    cr_expect_eq(vtd_pt_unmap(&pt, 0x10, KB4), -EINVAL);
    cr_expect_eq(vtd_pt_unmap(&pt, 0, 0), -EINVAL);
    cr_expect_eq(vtd_pt_protect(&pt, 0, 0x800, VTD_PERM_R), -EINVAL);
    snap_expect_same(&s);
}

Test(builder, out_of_range)
{
    struct vtd_pt ss3, fs4;
    cr_assert_eq(vtd_pt_init(&ss3, &b, VTD_PT_SS, 3, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_init(&fs4, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    struct snapshot s = snap_take();
    uint64_t end39 = UINT64_C(1) << 39, end48 = UINT64_C(1) << 48;
    cr_expect_eq(vtd_pt_map(&ss3, end39, 0, KB4, 12, RW, 0), -ERANGE);
    cr_expect_eq(vtd_pt_map(&ss3, end39 - KB4, 0, 2 * KB4, 12, RW, 0), -ERANGE);
    cr_expect_eq(vtd_pt_map(&ss3, 0, end48, KB4, 12, RW, 0), -ERANGE);        /* HAW is 48 */
    cr_expect_eq(vtd_pt_map(&ss3, 0, end48 - KB4, 2 * KB4, 12, RW, 0), -ERANGE);
    cr_expect_eq(vtd_pt_map(&fs4, end48, 0, KB4, 12, RW, 0), -ERANGE);
    cr_expect_eq(vtd_pt_map(&fs4, UINT64_MAX & ~UINT64_C(0xfff), 0, 2 * KB4, 12, RW, 0), -ERANGE);
    cr_expect_eq(vtd_pt_unmap(&fs4, end48, KB4), -ERANGE);
    cr_expect_eq(vtd_pt_lookup(&fs4, end48, NULL, NULL, NULL), -ERANGE);
    snap_expect_same(&s);
    cr_expect_eq(vtd_pt_map(&ss3, end39 - KB4, end48 - KB4, KB4, 12, RW, 0), 0);
}

Test(builder, unmap)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, MB2, 0x10000000, MB2, 21, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 4 * MB2, 0x1000, 2 * KB4, 12, RW, 0), 0);
    struct snapshot s = snap_take();
    cr_expect_eq(vtd_pt_unmap(&pt, MB2, KB4), -EINVAL);               /* part of a large page */
    cr_expect_eq(vtd_pt_unmap(&pt, MB2 + MB2 / 2, MB2), -EINVAL);
    cr_expect_eq(vtd_pt_unmap(&pt, 0, MB2 + KB4), -EINVAL);
    cr_expect_eq(vtd_pt_unmap(&pt, 0, MB2), -ENOENT);                 /* nothing there */
    cr_expect_eq(vtd_pt_unmap(&pt, 8 * GB1, 16 * GB1), -ENOENT);
    snap_expect_same(&s);

    cr_expect_eq(vtd_pt_unmap(&pt, 0, 2 * MB2), 0);                   /* the whole large page */
    cr_expect_eq(vtd_pt_lookup(&pt, MB2, NULL, NULL, NULL), -ENOENT);
    cr_expect_eq(entry_at(&pt, MB2, 2), 0);
    cr_expect_eq(vtd_pt_unmap(&pt, 4 * MB2 + KB4, 3 * KB4), 0);       /* partly mapped is fine */
    cr_expect_eq(expect_map(&pt, 4 * MB2, 0x1000, RW), 12);
    cr_expect_eq(vtd_pt_lookup(&pt, 4 * MB2 + KB4, NULL, NULL, NULL), -ENOENT);
    cr_expect_eq(vtd_pt_unmap(&pt, 4 * MB2 + KB4, KB4), -ENOENT);
}

Test(builder, protect)
{
    struct vtd_pt ss, fs;
    cr_assert_eq(vtd_pt_init(&ss, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_init(&fs, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0, 0x10000, 4 * KB4, 12, RW, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_pt_map(&ss, MB2, 0x400000, MB2, 21, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0, 0x10000, 2 * KB4, 12, RW, 0), 0);

    cr_assert_eq(vtd_pt_protect(&ss, KB4, 2 * KB4, VTD_PERM_R | VTD_PERM_X), 0);
    cr_expect_eq(expect_map(&ss, 0, 0x10000, RW), 12);
    cr_expect_eq(expect_map(&ss, KB4, 0x11000, VTD_PERM_R | VTD_PERM_X), 12);
    cr_expect_eq(expect_map(&ss, 3 * KB4, 0x13000, RW), 12);
    cr_expect_eq(entry_at(&ss, KB4, 1), 0x11000 | 0x300 | 0x5, "A/D kept");
    cr_assert_eq(vtd_pt_protect(&ss, MB2, MB2, VTD_PERM_R), 0);
    cr_expect_eq(expect_map(&ss, MB2 + KB4, 0x401000, VTD_PERM_R), 21);

    cr_assert_eq(vtd_pt_protect(&fs, 0, 2 * KB4, VTD_PERM_R | VTD_PERM_X | VTD_PERM_U), 0);
    cr_expect_eq(entry_at(&fs, KB4, 1), 0x11000 | 0x5); /* RW and XD cleared, US set */

    struct snapshot s = snap_take();
    cr_expect_eq(vtd_pt_protect(&ss, 2 * KB4, 4 * KB4, VTD_PERM_R), -ENOENT); /* runs into a hole */
    cr_expect_eq(vtd_pt_protect(&ss, MB2, KB4, VTD_PERM_R), -EINVAL);         /* part of a large page */
    cr_expect_eq(vtd_pt_protect(&ss, 0, KB4, 0), -EINVAL);                    /* would not be present */
    cr_expect_eq(vtd_pt_protect(&ss, 0, KB4, VTD_PERM_U | VTD_PERM_R), -EINVAL);
    snap_expect_same(&s);
}

Test(builder, map_auto_picks_largest)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map_auto(&pt, 0x3fe00000, 0x3fe00000, 0x80200000 - 0x3fe00000, RW, 0), 0);
    cr_expect_eq(expect_map(&pt, 0x3fe00000, 0x3fe00000, RW), 21);
    cr_expect_eq(expect_map(&pt, 0x3fffffff, 0x3fffffff, RW), 21);
    cr_expect_eq(expect_map(&pt, 0x40000000, 0x40000000, RW), 30);
    cr_expect_eq(expect_map(&pt, 0x7fffffff, 0x7fffffff, RW), 30);
    cr_expect_eq(expect_map(&pt, 0x80000000, 0x80000000, RW), 21);
    cr_expect_eq(expect_map(&pt, 0x801ff000, 0x801ff000, RW), 21);
    cr_expect_eq(vtd_pt_lookup(&pt, 0x80200000, NULL, NULL, NULL), -ENOENT);
    cr_expect_eq(vtd_pt_lookup(&pt, 0x3fdff000, NULL, NULL, NULL), -ENOENT);

    /* 4 KiB at unaligned edges; all 4 KiB when va and pa disagree on 2 MiB alignment. */
    cr_assert_eq(vtd_pt_map_auto(&pt, 0x1001ff000, 0x1ff000, 0x202000, RW, 0), 0);
    cr_expect_eq(expect_map(&pt, 0x1001ff000, 0x1ff000, RW), 12);
    cr_expect_eq(expect_map(&pt, 0x100200000, 0x200000, RW), 21);
    cr_expect_eq(expect_map(&pt, 0x100400000, 0x400000, RW), 12);
    cr_assert_eq(vtd_pt_map_auto(&pt, 0x200000000, 0x1000, MB2, RW, 0), 0);
    cr_expect_eq(expect_map(&pt, 0x2001ff000, 0x200000, RW), 12);
}

Test(builder, map_auto_respects_caps)
{
    struct vtd_pt ss, fs;
    cr_assert_eq(vtd_pt_init(&ss, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_init(&fs, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    caps.cap &= ~(VTD_CAP_SSLPS_1G | VTD_CAP_FS1GP);
    cr_assert_eq(vtd_pt_map_auto(&ss, GB1, GB1, GB1, RW, 0), 0);
    cr_assert_eq(vtd_pt_map_auto(&fs, GB1, GB1, GB1, RW, 0), 0);
    cr_expect_eq(expect_map(&ss, GB1 + 0x12345, GB1 + 0x12345, RW), 21);
    cr_expect_eq(expect_map(&fs, GB1 + 0x12345, GB1 + 0x12345, RW), 21);
    caps.cap &= ~VTD_CAP_SSLPS_2M;
    cr_assert_eq(vtd_pt_map_auto(&ss, 0, 0, MB2, RW, 0), 0);
    cr_expect_eq(expect_map(&ss, 0x1000, 0x1000, RW), 12);
}

Test(builder, entry_addr_needs_tables)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    uint64_t hpa = 0;
    cr_expect_eq(vtd_pt_entry_addr(&pt, 0x1000, 4, &hpa), 0);
    cr_expect_eq(hpa, pt.root);
    cr_expect_eq(vtd_pt_entry_addr(&pt, 0x1000, 3, &hpa), -ENOENT);
    cr_expect_eq(vtd_pt_entry_addr(&pt, 0x1000, 5, &hpa), -EINVAL);
    cr_expect_eq(vtd_pt_entry_addr(&pt, 0x1000, 0, &hpa), -EINVAL);
    cr_assert_eq(vtd_pt_map(&pt, MB2, 0, MB2, 21, RW, 0), 0);
    cr_expect_eq(vtd_pt_entry_addr(&pt, MB2 + 0x5000, 2, &hpa), 0);
    cr_expect_eq(vtd_pt_entry_addr(&pt, MB2 + 0x5000, 1, &hpa), -ENOENT); /* below a leaf */
    cr_expect_eq(vtd_pt_entry_addr(&pt, UINT64_C(1) << 48, 4, &hpa), -ERANGE);
}

/* ---- nesting --------------------------------------------------------------------------- */

#define GUEST_HOST_BASE UINT64_C(0x10000000)
#define GUEST_SIZE (UINT64_C(64) << 20)
#define FS_POOL_GPA UINT64_C(0x100000)

Test(builder, nested_tables_live_in_guest_memory)
{
    struct vtd_pt ss, fs;
    cr_assert_eq(vtd_pt_init(&ss, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map_auto(&ss, 0, GUEST_HOST_BASE, GUEST_SIZE, RW, 0), 0);
    wr(GUEST_HOST_BASE + FS_POOL_GPA + 0x10, 0xdead); /* garbage where the FS root will go */
    uint64_t host_pages = b.pool_next;
    cr_assert_eq(vtd_pt_init(&fs, &b, VTD_PT_FS, 4, &ss, FS_POOL_GPA, 0x10000), 0);
    cr_expect_eq(fs.root, FS_POOL_GPA);
    cr_expect_eq(rd(GUEST_HOST_BASE + FS_POOL_GPA + 0x10), 0, "zeroed through the translation");
    uint64_t hpa = 0;
    cr_assert_eq(vtd_pt_table_hpa(&fs, fs.root, &hpa), 0);
    cr_expect_eq(hpa, GUEST_HOST_BASE + FS_POOL_GPA);

    uint64_t va = UINT64_C(0x7f0000403000);
    cr_assert_eq(vtd_pt_map(&fs, va, 0x2345000, KB4, 12, RW | VTD_PERM_U, 0), 0);
    cr_expect_eq(b.pool_next, host_pages, "no host pool page for FS tables");
    cr_expect_eq(fs.gpa_next, FS_POOL_GPA + 4 * KB4);
    cr_expect_eq(expect_map(&fs, va + 0x10, 0x2345010, RW | VTD_PERM_U), 12); /* output stays a GPA */

    /* The PML4E for va (index 0xfe) sits in host memory, pointing at the next GPA page. */
    cr_expect_eq(rd(GUEST_HOST_BASE + FS_POOL_GPA + 0xfe * 8), (FS_POOL_GPA + KB4) | 0x7);
    cr_assert_eq(vtd_pt_entry_addr(&fs, va, 1, &hpa), 0);
    cr_expect_eq(hpa, GUEST_HOST_BASE + FS_POOL_GPA + 3 * KB4 + 3 * 8);
    cr_expect_eq(rd(hpa), UINT64_C(0x8000000002345007)); /* XD: no X */

    /* Outputs are bounded by the backing table's width, not by HAW. */
    cr_expect_eq(vtd_pt_map(&fs, 0, (UINT64_C(1) << 48) - KB4, KB4, 12, RW, 0), 0);
    cr_expect_eq(vtd_pt_map(&fs, KB4, UINT64_C(1) << 48, KB4, 12, RW, 0), -ERANGE);
    cr_assert_eq(vtd_pt_unmap(&fs, va, KB4), 0);
    cr_expect_eq(rd(hpa), 0);
}

Test(builder, nested_gpa_pool_limits)
{
    struct vtd_pt ss, fs, fs2;
    cr_assert_eq(vtd_pt_init(&ss, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0, GUEST_HOST_BASE, 2 * KB4, 12, RW, 0), 0);
    /* Only one guest page for tables: the root; the map needs three more. */
    cr_assert_eq(vtd_pt_init(&fs, &b, VTD_PT_FS, 4, &ss, 0, KB4), 0);
    cr_expect_eq(vtd_pt_map(&fs, 0, 0, KB4, 12, RW, 0), -ENOMEM);
    cr_expect_eq(fs.gpa_next, KB4);
    /* Room in the GPA pool, but the backing maps only the root's page. */
    cr_assert_eq(vtd_pt_init(&fs2, &b, VTD_PT_FS, 4, &ss, KB4, 0x10000), 0);
    cr_expect_eq(vtd_pt_map(&fs2, 0, 0, KB4, 12, RW, 0), -ENOENT);
    cr_expect_eq(rd(GUEST_HOST_BASE + KB4), 0, "root untouched");
}

/* ---- exhaustion ------------------------------------------------------------------------ */

Test(builder, pool_exhaustion_changes_nothing)
{
    struct vtd_builder small;
    struct vtd_pt pt;
    cr_assert_eq(vtd_builder_init(&small, mem, &caps, SMALL_POOL, 3 * KB4), 0);
    cr_assert_eq(vtd_pt_init(&pt, &small, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, RW, 0), -ENOMEM); /* needs 3 tables, 2 left */
    cr_expect_eq(small.pool_next, SMALL_POOL + KB4);
    for (unsigned i = 0; i < 512; i++)
        cr_expect_eq(rd(pt.root + 8 * i), 0);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, MB2, 21, RW, 0), 0); /* 2 MiB needs only 2 */
    cr_expect_eq(vtd_pt_map(&pt, MB2, 0, KB4, 12, RW, 0), -ENOMEM);
    struct vtd_pt none;
    cr_expect_eq(vtd_pt_init(&none, &small, VTD_PT_FS, 4, NULL, 0, 0), -ENOMEM);
    uint64_t rt;
    cr_expect_eq(vtd_build_root_table(&small, &rt), -ENOMEM);
    cr_expect_eq(vtd_build_pasid_dir(&small, 0, &rt), -ENOMEM);
}

/* Memory that aborts accesses is reported as -ERANGE (VTD_MEM_EFAULT mapped, see builder.c). */
Test(builder, aborting_memory_is_erange)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_mem_set_abort(mem, b.pool_next, KB4, VTD_MEM_ABORT_WRITE), 0);
    uint64_t pa;
    cr_expect_eq(vtd_builder_alloc_page(&b, &pa), -ERANGE);
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, KB4, 12, RW, 0), -ERANGE);
    cr_assert_eq(vtd_mem_set_abort(mem, pt.root, KB4, VTD_MEM_ABORT_READ), 0);
    cr_expect_eq(vtd_pt_lookup(&pt, 0, NULL, NULL, NULL), -ERANGE);
}

/* The up-front count of new tables is exact: a range across two leaf tables needs four. */
Test(builder, table_count_is_exact)
{
    struct vtd_builder tight, short_by_one;
    struct vtd_pt a, c;
    cr_assert_eq(vtd_builder_init(&tight, mem, &caps, SMALL_POOL, 5 * KB4), 0);
    cr_assert_eq(vtd_builder_init(&short_by_one, mem, &caps, SMALL_POOL + 5 * KB4, 4 * KB4), 0);
    cr_assert_eq(vtd_pt_init(&a, &tight, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_init(&c, &short_by_one, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_expect_eq(vtd_pt_map(&a, MB2 - KB4, 0, 2 * KB4, 12, RW, 0), 0);
    cr_expect_eq(tight.pool_next, tight.pool_end);
    cr_expect_eq(vtd_pt_map(&c, MB2 - KB4, 0, 2 * KB4, 12, RW, 0), -ENOMEM);
    cr_expect_eq(short_by_one.pool_next, SMALL_POOL + 6 * KB4, "only the root was allocated");
    cr_expect_eq(rd(c.root), 0);
}

/*
 * The check pass stops where the pool runs out: a range whose first 2 MiB already need more
 * tables than the pool holds answers -ENOMEM, though a mapping further on overlaps it (a full
 * pass answered -EEXIST, after checking every 4 KiB page of the range).
 */
Test(builder, map_stops_where_the_pool_runs_out)
{
    struct vtd_builder small;
    struct vtd_pt pt;
    cr_assert_eq(vtd_builder_init(&small, mem, &caps, SMALL_POOL, 4 * KB4), 0);
    cr_assert_eq(vtd_pt_init(&pt, &small, VTD_PT_SS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&pt, 1024 * MB2, 0, MB2, 21, RW, 0), 0); /* 2 tables: 1 left */
    uint64_t next = small.pool_next;
    cr_expect_eq(vtd_pt_map(&pt, 0, 0, 1025 * MB2, 12, RW, 0), -ENOMEM);
    cr_expect_eq(small.pool_next, next, "nothing allocated");
    cr_expect_eq(vtd_pt_lookup(&pt, 0, NULL, NULL, NULL), -ENOENT);
    cr_expect_eq(vtd_pt_map(&pt, 1023 * MB2, 0, 2 * MB2, 21, RW, 0), -EEXIST, "an overlap the pool can hold");
}

/* ---- property: random mappings read back exactly ---------------------------------------- */

#define PROP_SLOTS 1024u  /* 2 MiB slots of VA */
#define PROP_MAPS 2000u

struct prop_map {
    uint64_t va, pa, size;
    unsigned perm;
    bool gone;
};

static void property_run(enum vtd_pt_format fmt)
{
    struct vtd_pt pt;
    cr_assert_eq(vtd_pt_init(&pt, &b, fmt, 4, NULL, 0, 0), 0);
    uint64_t seed = 12345;
    static uint8_t slot_state[PROP_SLOTS];         /* 0 free, 1 small pages, 2 large page */
    static uint64_t slot_used[PROP_SLOTS][512 / 64];
    static struct prop_map maps[PROP_MAPS];
    memset(slot_state, 0, sizeof slot_state);
    memset(slot_used, 0, sizeof slot_used);
    const uint64_t va_base = UINT64_C(0x7f0000000000);

    for (unsigned n = 0; n < PROP_MAPS;) {
        uint64_t r = xorshift64(&seed);
        unsigned slot = (unsigned)(r % PROP_SLOTS);
        bool large = (r >> 20) % 8 == 0;
        struct prop_map *m = &maps[n];
        if (large) {
            if (slot_state[slot])
                continue;
            slot_state[slot] = 2;
            m->va = va_base + slot * MB2;
            m->size = MB2;
        } else {
            unsigned page = (unsigned)((r >> 32) % 512);
            if (slot_state[slot] == 2 || (slot_used[slot][page / 64] >> (page % 64) & 1))
                continue;
            slot_state[slot] = 1;
            slot_used[slot][page / 64] |= UINT64_C(1) << (page % 64);
            m->va = va_base + slot * MB2 + page * KB4;
            m->size = KB4;
        }
        m->pa = (xorshift64(&seed) & ((UINT64_C(1) << 47) - 1)) & ~(m->size - 1);
        unsigned bits = (unsigned)(xorshift64(&seed) % 16);
        m->perm = fmt == VTD_PT_SS ? (bits & RWX ? bits & RWX : VTD_PERM_R) : (bits | VTD_PERM_R);
        m->gone = false;
        cr_assert_eq(vtd_pt_map(&pt, m->va, m->pa, m->size, m->size == MB2 ? 21 : 12, m->perm, 0), 0,
                     "map %u", n);
        n++;
    }
    for (unsigned i = 0; i < PROP_MAPS; i++) {
        struct prop_map *m = &maps[i];
        uint64_t off = (xorshift64(&seed) % m->size) & ~UINT64_C(7);
        cr_assert_eq(expect_map(&pt, m->va + off, m->pa + off, m->perm), m->size == MB2 ? 21 : 12);
    }
    for (unsigned i = 0; i < PROP_MAPS; i++) {
        if (xorshift64(&seed) & 1) {
            maps[i].gone = true;
            cr_assert_eq(vtd_pt_unmap(&pt, maps[i].va, maps[i].size), 0, "unmap %u", i);
        }
    }
    for (unsigned i = 0; i < PROP_MAPS; i++) {
        struct prop_map *m = &maps[i];
        if (m->gone) {
            cr_assert_eq(vtd_pt_lookup(&pt, m->va, NULL, NULL, NULL), -ENOENT, "lookup after unmap %u", i);
            cr_assert_eq(vtd_pt_unmap(&pt, m->va, m->size), -ENOENT);
        } else {
            cr_assert_eq(expect_map(&pt, m->va + m->size - 8, m->pa + m->size - 8, m->perm), m->size == MB2 ? 21 : 12);
        }
    }
}

Test(builder, property_random_maps_ss) { property_run(VTD_PT_SS); }
Test(builder, property_random_maps_fs) { property_run(VTD_PT_FS); }
