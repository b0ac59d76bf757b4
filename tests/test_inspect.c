/*
 * test_inspect.c: inspect/ over tables the builders made: the enumeration of devices and
 * PASIDs, mappings merged into ranges for every translation type, each class of the audit's
 * findings with its fault code, the queue decoder, batch lines and their errors, the answers'
 * text and JSON, the kernel-log parser, and that nothing an inspection walks is written.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/answer.h"
#include "inspect/batch.h"
#include "inspect/check.h"
#include "inspect/dmesg.h"
#include "inspect/mappings.h"
#include "inspect/queue.h"
#include "inspect/structs.h"
#include "walker/bdf.h"
#include "sim/qi_desc.h"
#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/ss_entry.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)
#define SID2 vtd_sid(0x41, 0x1f, 7) /* devfn >= 128: the root entry's high half */
#define RW (VTD_PERM_R | VTD_PERM_W)
#define RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)
#define RWX (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X)

static struct world w;
static struct vtd_ctx ctx;
static struct vtd_inspect in;

static void setup(void)
{
    cr_assert_eq(world_init(&w, NULL), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
    in = (struct vtd_inspect){.mem = w.mem, .caps = w.caps, .rtaddr = w.rtaddr};
}
static void teardown(void) { world_fini(&w); }

TestSuite(inspect, .init = setup, .fini = teardown);

/* ---- collectors ---- */

#define MAXN 64
struct seen {
    unsigned ndev, npasid, npdir;
    struct vtd_insp_device dev[MAXN];
    struct vtd_insp_pasid pasid[MAXN];
    unsigned nrange;
    struct vtd_insp_range range[MAXN];
    unsigned nfind;
    struct vtd_insp_finding find[MAXN];
};
static struct seen s;

static int on_dev(void *arg, const struct vtd_insp_device *d)
{
    (void)arg;
    if (s.ndev < MAXN)
        s.dev[s.ndev++] = *d;
    return 0;
}
static int on_pdir(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pdir *p)
{
    (void)arg, (void)d, (void)p;
    s.npdir++;
    return 0;
}
static int on_pasid(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pasid *p)
{
    (void)arg, (void)d;
    if (s.npasid < MAXN)
        s.pasid[s.npasid++] = *p;
    return 0;
}
static int on_range(void *arg, const struct vtd_insp_range *r)
{
    (void)arg;
    if (s.nrange < MAXN)
        s.range[s.nrange++] = *r;
    return 0;
}
static int on_find(void *arg, const struct vtd_insp_finding *f)
{
    (void)arg;
    if (s.nfind < MAXN)
        s.find[s.nfind++] = *f;
    return 0;
}

static void collect_structs(void)
{
    memset(&s, 0, sizeof s);
    struct vtd_insp_visitor v = {.device = on_dev, .pdir = on_pdir, .pasid = on_pasid};
    cr_assert_eq(vtd_inspect_structs(&in, &v), 0);
}

static struct vtd_insp_map_stats collect_mappings(const struct vtd_pasid_cfg *pe)
{
    struct vtd_insp_map_stats st;
    memset(&s, 0, sizeof s);
    cr_assert_eq(vtd_inspect_mappings(&in, pe, on_range, NULL, &st), 0);
    cr_assert_eq(st.ranges, s.nrange);
    return st;
}

static struct vtd_insp_check_stats collect_check(void)
{
    struct vtd_insp_check_stats st;
    memset(&s, 0, sizeof s);
    cr_assert_eq(vtd_inspect_check(&in, on_find, NULL, &st), 0);
    cr_assert_eq(st.findings, s.nfind);
    return st;
}

/* The one finding of a kind, asserted to be the only finding. */
static const struct vtd_insp_finding *only_finding(enum vtd_insp_finding_kind kind)
{
    struct vtd_insp_check_stats st = collect_check();
    for (unsigned i = 0; i < s.nfind; i++)
        cr_log_info("finding %u: %s %s 0x%llx fault %#x: %s", i, vtd_insp_finding_kind_name(s.find[i].kind),
                    s.find[i].structure, (unsigned long long)s.find[i].addr, s.find[i].fault, s.find[i].text);
    cr_assert_eq(st.findings, 1, "%llu findings", (unsigned long long)st.findings);
    cr_assert_eq(s.find[0].kind, kind, "kind %s", vtd_insp_finding_kind_name(s.find[0].kind));
    return &s.find[0];
}

static uint64_t entry_addr(const struct vtd_pt *pt, uint64_t va, unsigned level)
{
    uint64_t hpa;
    cr_assert_eq(vtd_pt_entry_addr(pt, va, level, &hpa), 0);
    return hpa;
}

static void poke_or(uint64_t pa, uint64_t bits)
{
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(w.mem, pa, &v), 0);
    cr_assert_eq(vtd_mem_write64(w.mem, pa, v | bits), 0);
}

/* A clean setup: PASID 0 (RID_PASID) pass-through, 1 first stage, 2 second stage, 3 nested. */
static struct vtd_pt fs1, ss2, fs3, ss3;
static struct vtd_pasid_cfg cfg0, cfg1, cfg2, cfg3;
static void clean_world(void)
{
    cr_assert_eq(world_pasid(&w, &ctx, 0, VTD_PGTT_PT, 0, 0, NULL, NULL, &cfg0), 0);
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs1, NULL, &cfg1), 0);
    cr_assert_eq(world_pasid(&w, &ctx, 2, VTD_PGTT_SS, 4, 0, NULL, &ss2, &cfg2), 0);
    cr_assert_eq(world_pasid(&w, &ctx, 3, VTD_PGTT_NESTED, 4, 4, &fs3, &ss3, &cfg3), 0);
    cr_assert_eq(vtd_pt_map(&fs1, 0x4000, 0xb000, 0x2000, 12, RWU, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss2, 0x200000, 0x80000000, 0x200000, 21, RWX, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs3, 0x7000, 0x3000, 0x1000, 12, RWU, 0), 0);
}

/* ---- devices ---- */

Test(inspect, devices_and_pasids_in_table_order)
{
    clean_world();
    struct vtd_ctx c2;
    cr_assert_eq(world_device(&w, SID2, &c2), 0);
    cr_assert_eq(world_pasid(&w, &c2, 0x12345, VTD_PGTT_PT, 0, 0, NULL, NULL, NULL), 0);
    collect_structs();
    cr_assert_eq(s.ndev, 2);
    cr_assert_eq(s.dev[0].sid, SID);
    cr_assert_eq(s.dev[1].sid, SID2);
    cr_assert_eq(s.dev[1].fault, 0);
    cr_assert_eq(s.dev[1].ctx.pdts, 7);
    cr_assert_eq(s.npasid, 5);
    cr_assert_eq(s.npdir, 2); /* PASIDs 0-3 share one directory entry; 0x12345 has its own */
    unsigned pgtt[] = {VTD_PGTT_PT, VTD_PGTT_FS, VTD_PGTT_SS, VTD_PGTT_NESTED};
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq(s.pasid[i].pasid, i);
        cr_assert_eq(s.pasid[i].cfg.pgtt, pgtt[i]);
        cr_assert_eq(s.pasid[i].cfg.did, i + 1);
    }
    cr_assert_eq(s.pasid[4].pasid, 0x12345);
}

Test(inspect, bad_rtaddr_visits_nothing)
{
    in.rtaddr &= ~VTD_RTADDR_TTM; /* legacy mode */
    struct vtd_insp_visitor v = {0};
    cr_assert_eq(vtd_inspect_structs(&in, &v), VTD_FR_RTADDR_INVALID);
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_WOULD_FAULT);
    cr_assert_eq(f->fault, VTD_FR_RTADDR_INVALID);
}

Test(inspect, faulty_context_entry_is_listed_not_followed)
{
    collect_structs();
    cr_assert_eq(s.ndev, 1);
    poke_or(s.dev[0].addr + 8, VTD_BIT(30)); /* qw1 reserved bit */
    collect_structs();
    cr_assert_eq(s.dev[0].fault, VTD_FR_CTX_RSVD);
    cr_assert_eq(s.npdir, 0);
}

/* ---- mappings ---- */

Test(inspect, first_stage_ranges_merge_and_split)
{
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    /* 16 contiguous pages: one range; a gap, then 2 pages with other output: a second range. */
    cr_assert_eq(vtd_pt_map(&fs, 0x100000, 0x900000, 0x10000, 12, RWU, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x111000, 0xa00000, 0x2000, 12, RWU, 0), 0);
    /* Contiguous in both, but read-only: its own range. */
    cr_assert_eq(vtd_pt_map(&fs, 0x113000, 0xa02000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, 0), 0);
    /* A 2 MiB page follows: another page size, another range. */
    cr_assert_eq(vtd_pt_map(&fs, 0x200000, 0xc00000, 0x200000, 21, RWU | VTD_PERM_X, 0), 0);
    /* The upper half of a 4-level space is canonical (sign-extended). */
    cr_assert_eq(vtd_pt_map(&fs, UINT64_C(0x800000000000), 0xe00000, 0x1000, 12, RWU, 0), 0);
    struct vtd_insp_map_stats st = collect_mappings(&cfg);
    cr_assert_eq(st.leaves, 16 + 2 + 1 + 1 + 1);
    cr_assert_eq(s.nrange, 5);
    cr_assert_eq(s.range[0].iova, 0x100000);
    cr_assert_eq(s.range[0].out, 0x900000);
    cr_assert_eq(s.range[0].size, 0x10000);
    cr_assert_eq(s.range[0].page_shift, 12);
    cr_assert_eq(s.range[0].perm, RWU);
    cr_assert_eq(s.range[1].iova, 0x111000);
    cr_assert_eq(s.range[1].size, 0x2000);
    cr_assert_eq(s.range[2].perm, VTD_PERM_R | VTD_PERM_U);
    cr_assert_eq(s.range[3].page_shift, 21);
    cr_assert_eq(s.range[3].perm, RWU | VTD_PERM_X);
    cr_assert_eq(s.range[4].iova, UINT64_C(0xffff800000000000));
    cr_assert_eq(st.bad_entries, 0);
}

Test(inspect, second_stage_and_passthrough_ranges)
{
    struct vtd_pt ss;
    struct vtd_pasid_cfg cfg, pt;
    cr_assert_eq(world_pasid(&w, &ctx, 2, VTD_PGTT_SS, 3, 0, NULL, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0x40000000, 0x80000000, 0x40000000, 30, RW, 0), 0);
    cr_assert_eq(vtd_pt_map(&ss, 0x80000000, 0xc0000000, 0x3000, 12, VTD_PERM_R, 0), 0);
    collect_mappings(&cfg);
    cr_assert_eq(s.nrange, 2);
    cr_assert_eq(s.range[0].page_shift, 30);
    /* Without SSEE execute is implied; second-stage translations are user-accessible. */
    cr_assert_eq(s.range[0].perm, RWX | VTD_PERM_U);
    cr_assert_eq(s.range[1].size, 0x3000);
    cr_assert_eq(s.range[1].perm, VTD_PERM_R | VTD_PERM_X | VTD_PERM_U);
    cr_assert_eq(world_pasid(&w, &ctx, 4, VTD_PGTT_PT, 0, 0, NULL, NULL, &pt), 0);
    collect_mappings(&pt);
    cr_assert_eq(s.nrange, 1);
    cr_assert_eq(s.range[0].size, UINT64_C(1) << 48);
    cr_assert_eq(s.range[0].out, 0);
}

Test(inspect, nested_ranges_follow_both_stages)
{
    struct vtd_pt fs, ss;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 3, VTD_PGTT_NESTED, 4, 4, &fs, &ss, &cfg), 0);
    /* A 2 MiB first-stage page over guest RAM the second stage maps with 1 GiB pages. */
    cr_assert_eq(vtd_pt_map(&fs, 0x40000000, 0x200000, 0x200000, 21, RWU, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x1000, 0x5000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, 0), 0);
    collect_mappings(&cfg);
    cr_assert_eq(s.nrange, 2);
    cr_assert_eq(s.range[0].iova, 0x1000);
    cr_assert_eq(s.range[0].out, WORLD_GUEST_RAM_HPA + 0x5000);
    cr_assert_eq(s.range[0].perm, VTD_PERM_R | VTD_PERM_U);
    cr_assert_eq(s.range[1].iova, 0x40000000);
    cr_assert_eq(s.range[1].out, WORLD_GUEST_RAM_HPA + 0x200000);
    cr_assert_eq(s.range[1].size, 0x200000);
    cr_assert_eq(s.range[1].page_shift, 21);
    /* Every answer agrees with the walk. */
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&w, SID, 3, 0x40001234, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(x.out, s.range[1].out + 0x1234);
}

Test(inspect, malformed_entries_are_skipped_and_counted)
{
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x1000, 0x9000, 0x3000, 12, RWU, 0), 0);
    poke_or(entry_addr(&fs, 0x2000, 1), VTD_BIT(51)); /* beyond the 48-bit HAW */
    struct vtd_insp_map_stats st = collect_mappings(&cfg);
    cr_assert_eq(st.bad_entries, 1);
    cr_assert_eq(s.nrange, 2);
}

/* Tables that point back at each other: 512^4 leaves from four tables; the walk stops. */
Test(inspect, looping_tables_stop_at_the_leaf_limit)
{
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0, 0x9000, 0x1000, 12, RWU, 0), 0);
    uint64_t t[5], e;
    for (unsigned l = 4; l >= 1; l--)
        t[l] = entry_addr(&fs, 0, l) & VTD_PAGE_MASK;
    for (unsigned l = 4; l >= 1; l--) {
        cr_assert_eq(vtd_mem_read64(w.mem, t[l], &e), 0);
        for (unsigned i = 1; i < 512; i++)
            cr_assert_eq(vtd_mem_write64(w.mem, t[l] + 8 * i, e), 0);
    }
    in.max_leaves = 5000;
    struct vtd_insp_map_stats st;
    memset(&s, 0, sizeof s);
    cr_assert_eq(vtd_inspect_mappings(&in, &cfg, on_range, NULL, &st), 0);
    cr_assert(st.truncated);
    cr_assert_eq(st.leaves, 5000);
    /* The audit reads each of the four tables once. */
    struct vtd_insp_check_stats cs;
    cr_assert_eq(vtd_inspect_check(&in, on_find, NULL, &cs), 0);
    cr_assert_eq(cs.tables, 4);
}

/* ---- check: one test per class of finding ---- */

Test(inspect, check_clean_world_has_no_finding)
{
    clean_world();
    struct vtd_insp_check_stats st = collect_check();
    cr_assert_eq(st.findings, 0, "first: %s", s.nfind ? s.find[0].text : "");
    cr_assert_gt(st.tables, 8);
    cr_assert_gt(st.entries, 10);
}

Test(inspect, check_reserved_bits_in_a_first_stage_leaf)
{
    clean_world();
    cr_assert_eq(vtd_pt_map(&fs1, 0x40000000, 0x80000000, 0x200000, 21, RWU, 0), 0);
    uint64_t pde = entry_addr(&fs1, 0x40000000, 2);
    poke_or(pde, VTD_BIT(13)); /* bits 20:13 of a 2 MiB leaf are reserved */
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_RSVD);
    cr_assert_eq(f->fault, VTD_FR_FS_RSVD);
    cr_assert_eq(f->addr, pde);
    cr_assert_str_eq(f->structure, "FS L2 entry");
    cr_assert(f->has_sid && f->has_pasid);
    cr_assert_eq(f->pasid, 1);
}

Test(inspect, check_reserved_bits_in_root_context_pdir_pasid)
{
    clean_world();
    collect_structs();
    uint64_t ctx_addr = s.dev[0].addr, pe2 = s.pasid[2].addr;
    uint64_t root = vtd_root_entry_addr(w.rtaddr & VTD_RTADDR_RTA, 0);
    poke_or(root, VTD_BIT(5));
    cr_assert_eq(only_finding(VTD_INSP_RSVD)->fault, VTD_FR_ROOT_RSVD);
    cr_assert_eq(s.find[0].addr, root);
    cr_assert_eq(vtd_mem_write64(w.mem, root, 0), 0); /* the bus is gone: nothing below it is read */
    cr_assert_eq(collect_check().findings, 0);
    world_fini(&w);
    setup();
    clean_world();
    collect_structs();
    ctx_addr = s.dev[0].addr;
    pe2 = s.pasid[2].addr;
    poke_or(ctx_addr + 16, 1); /* qw2 is reserved */
    cr_assert_eq(only_finding(VTD_INSP_RSVD)->fault, VTD_FR_CTX_RSVD);
    cr_assert_eq(s.find[0].addr, ctx_addr);
    cr_assert_eq(vtd_mem_write64(w.mem, ctx_addr + 16, 0), 0);
    poke_or(ctx.pdtp, VTD_BIT(3));
    cr_assert_eq(only_finding(VTD_INSP_RSVD)->fault, VTD_FR_PDIR_RSVD);
    cr_assert_eq(s.find[0].addr, ctx.pdtp);
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(w.mem, ctx.pdtp, &v), 0);
    cr_assert_eq(vtd_mem_write64(w.mem, ctx.pdtp, v & ~VTD_BIT(3)), 0);
    poke_or(pe2 + 8, VTD_BIT(17)); /* qw1 bits 22:16 */
    cr_assert_eq(only_finding(VTD_INSP_RSVD)->fault, VTD_FR_PASID_RSVD);
    cr_assert_eq(s.find[0].addr, pe2);
    cr_assert_eq(s.find[0].pasid, 2);
}

Test(inspect, check_pointer_beyond_haw)
{
    clean_world();
    uint64_t pde = entry_addr(&ss2, 0x200000, 2);
    poke_or(pde, VTD_BIT(49)); /* the 2 MiB page's address, above the 48-bit HAW */
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_BEYOND_HAW);
    cr_assert_eq(f->fault, VTD_FR_SS_RSVD);
    cr_assert_eq(f->addr, pde);
    cr_assert_str_eq(f->structure, "SS L2 entry");
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(w.mem, pde, &v), 0);
    cr_assert_eq(vtd_mem_write64(w.mem, pde, v & ~VTD_BIT(49)), 0);
    collect_structs();
    poke_or(s.dev[0].addr, VTD_BIT(50)); /* the PASID directory pointer */
    f = only_finding(VTD_INSP_BEYOND_HAW);
    cr_assert_eq(f->fault, VTD_FR_CTX_RSVD);
    cr_assert_str_eq(f->structure, "context entry");
}

Test(inspect, check_pointer_beyond_the_image)
{
    clean_world();
    /* The image holds the structure pool only; PASID 2's second-stage table moves out of it. */
    struct vtd_inspect_range r = {WORLD_POOL_BASE, WORLD_POOL_BASE + WORLD_POOL_SIZE};
    r.end = WORLD_POOL_BASE + WORLD_POOL_SIZE;
    in.ranges = &r;
    in.nranges = 1;
    struct vtd_insp_check_stats st = collect_check();
    cr_assert_eq(st.findings, 1, "nested guest RAM is outside the pool: its FS tables are");
    cr_assert_eq(s.find[0].kind, VTD_INSP_BEYOND_IMAGE);
    cr_assert_eq(s.find[0].fault, VTD_FR_FS_ACCESS);
    cr_assert_eq(s.find[0].pasid, 3);
    r.end = WORLD_GUEST_RAM_HPA + WORLD_GUEST_RAM_SIZE;
    cr_assert_eq(collect_check().findings, 0);
    r.end = cfg2.ssptptr;
    r.base = WORLD_POOL_BASE;
    struct vtd_inspect_range two[2] = {{WORLD_POOL_BASE, cfg2.ssptptr},
                                       {cfg2.ssptptr + VTD_PAGE_SIZE, WORLD_GUEST_RAM_HPA + WORLD_GUEST_RAM_SIZE}};
    in.ranges = two;
    in.nranges = 2;
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_BEYOND_IMAGE);
    cr_assert_eq(f->fault, VTD_FR_SS_ACCESS);
    cr_assert_str_eq(f->structure, "PASID entry");
    cr_assert_eq(f->pasid, 2);
}

Test(inspect, check_entries_that_would_fault)
{
    clean_world();
    collect_structs();
    uint64_t pe1 = s.pasid[1].addr;
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(w.mem, pe1, &v), 0);
    cr_assert_eq(vtd_mem_write64(w.mem, pe1, (v & ~VTD_PE_PGTT) | vtd_field_prep(6, VTD_PE_PGTT)), 0);
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_WOULD_FAULT);
    cr_assert_eq(f->fault, VTD_FR_PASID_INVALID);
    cr_assert_eq(f->addr, pe1);
    /* RID_PASID without an entry: requests without PASID fault. */
    cr_assert_eq(vtd_mem_write64(w.mem, pe1, v), 0);
    cr_assert_eq(vtd_build_pasid_clear(&w.b, &ctx, 0), 0);
    f = only_finding(VTD_INSP_WOULD_FAULT);
    cr_assert_eq(f->fault, VTD_FR_PASID_P);
    cr_assert_str_eq(f->structure, "context entry");
    cr_assert(strstr(f->text, "RID_PASID 0"));
}

Test(inspect, check_nested_table_the_second_stage_does_not_map)
{
    clean_world();
    /* The nested first stage's top table points at a GPA beyond guest RAM. */
    uint64_t top;
    cr_assert_eq(vtd_pt_table_hpa(&fs3, fs3.root, &top), 0);
    cr_assert_eq(vtd_mem_write64(w.mem, top + 8, 0x40000000 | VTD_FS_P | VTD_FS_RW | VTD_FS_US), 0);
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_WOULD_FAULT);
    cr_assert_eq(f->fault, VTD_FR_FS_NEST_READ);
    cr_assert_eq(f->addr, top + 8);
}

Test(inspect, check_same_did_different_tables)
{
    clean_world();
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 9, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cfg.did = cfg1.did; /* PASID 1's DID over another table */
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 9, &cfg), 0);
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_DID_TABLES);
    cr_assert_eq(f->fault, 0);
    cr_assert(strstr(f->text, "DID 2"), "%s", f->text);
    /* The same DID over the same table is one address space: fine. */
    cfg.fsptptr = cfg1.fsptptr;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 9, &cfg), 0);
    cr_assert_eq(collect_check().findings, 0);
}

Test(inspect, check_table_shared_between_domains)
{
    clean_world();
    struct vtd_pasid_cfg cfg = cfg2;
    cfg.did = 77;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 10, &cfg), 0);
    const struct vtd_insp_finding *f = only_finding(VTD_INSP_SHARED_TABLE);
    cr_assert_eq(f->fault, 0);
    cr_assert(strstr(f->text, "DID 3 and DID 77"), "%s", f->text);
}

Test(inspect, check_reads_each_shared_table_once)
{
    clean_world();
    struct vtd_insp_check_stats one = collect_check();
    for (uint32_t p = 20; p < 30; p++)
        cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, p, &cfg1), 0); /* same DID, same table */
    struct vtd_insp_check_stats many = collect_check();
    cr_assert_eq(many.findings, 0);
    cr_assert_eq(many.tables, one.tables);
}

/* ---- dry run ---- */

Test(inspect, walks_write_nothing)
{
    clean_world();
    uint64_t pte = entry_addr(&fs1, 0x4000, 1), before, after;
    cr_assert_eq(vtd_mem_read64(w.mem, pte, &before), 0);
    cr_assert_eq(before & (VTD_FS_A | VTD_FS_D), 0);
    struct vtd_walk_env env;
    vtd_inspect_env(&in, &env);
    struct vtd_request req = {.sid = SID, .pasid_valid = true, .pasid = 1, .addr = 0x4000, .access = VTD_ACC_W};
    struct vtd_xlate x;
    cr_assert_eq(vtd_translate(&env, &req, &x), 0);
    cr_assert_eq(x.out, 0xb000);
    cr_assert_eq(vtd_mem_read64(w.mem, pte, &after), 0);
    cr_assert_eq(after, before);
    /* The ordinary walk would have set A and D. */
    cr_assert_eq(world_xlate(&w, SID, 1, 0x4000, VTD_ACC_W, false, &x), 0);
    cr_assert_eq(vtd_mem_read64(w.mem, pte, &after), 0);
    cr_assert_eq(after & (VTD_FS_A | VTD_FS_D), VTD_FS_A | VTD_FS_D);
}

Test(inspect, space_lookup)
{
    clean_world();
    struct vtd_pasid_cfg pe;
    uint32_t used;
    struct vtd_fault_info f;
    cr_assert_eq(vtd_inspect_space(&in, SID, false, 0, &pe, &used, &f), 0);
    cr_assert_eq(used, 0);
    cr_assert_eq(pe.pgtt, VTD_PGTT_PT);
    cr_assert_eq(vtd_inspect_space(&in, SID, true, 3, &pe, &used, &f), 0);
    cr_assert_eq(pe.pgtt, VTD_PGTT_NESTED);
    cr_assert_eq(vtd_inspect_space(&in, SID, true, 5, &pe, &used, &f), VTD_FR_PASID_P);
    cr_assert_eq(vtd_inspect_space(&in, vtd_sid(9, 0, 0), true, 1, &pe, &used, &f), VTD_FR_ROOT_P);
}

/* ---- queue ---- */

struct descs {
    unsigned n;
    char text[4][160];
    uint64_t off[4];
};

static int collect(void *arg, const struct vtd_insp_desc *x)
{
    struct descs *got = arg;
    if (got->n < 4) {
        strcpy(got->text[got->n], x->text);
        got->off[got->n] = x->offset;
        got->n++;
    }
    return 0;
}

Test(inspect, queue_describes_pending_descriptors)
{
    const uint64_t base = 0x20000000;
    struct vtd_desc d[3] = {vtd_desc_p_iotlb(3, 5, 1, 0x4000, 0, false), vtd_desc_pc(2, 5, 1),
                            vtd_desc_wait(0, 1, 0x30000000)};
    /* 128-bit queue of 256 entries; pending: entries 254, 255, 0 (wrapping). */
    for (unsigned i = 0; i < 3; i++)
        cr_assert_eq(vtd_mem_write(w.mem, base + ((254 + i) % 256) * 16, d[i].qw, 16), 0);
    char why[256];
    struct descs got = {0};
    cr_assert_eq(vtd_inspect_queue(w.mem, base, 254 * 16, 1 * 16, collect, &got, why, sizeof why), 0);
    cr_assert_eq(got.n, 3);
    cr_assert_eq(got.off[2], 0);
    char want[160];
    vtd_qi_describe(d[0].qw, 2, want, sizeof want);
    cr_assert_str_eq(got.text[0], want);
    cr_assert(strstr(got.text[0], "P_IOTLB"), "%s", got.text[0]);
    /* A tail beyond the queue, or between descriptors, is refused as hardware refuses it. */
    cr_assert_eq(vtd_inspect_queue(w.mem, base, 0, 256 * 16, collect, &got, why, sizeof why), -EINVAL);
    cr_assert(strstr(why, "beyond"), "%s", why);
    cr_assert_eq(vtd_inspect_queue(w.mem, base | VTD_BIT(11), 0, 16, collect, &got, why, sizeof why), -EINVAL);
    /* An empty queue: nothing. */
    got.n = 0;
    cr_assert_eq(vtd_inspect_queue(w.mem, base, 32, 32, collect, &got, why, sizeof why), 0);
    cr_assert_eq(got.n, 0);
}

/* ---- batch lines ---- */

Test(inspect, request_lines_parse)
{
    struct vtd_request r;
    unsigned col;
    const char *why;
    const char *ok = "  00:03.0 1 0x4000 w\r";
    cr_assert_eq(vtd_insp_parse_request(ok, strlen(ok), &r, &col, &why), 0);
    cr_assert_eq(r.sid, SID);
    cr_assert(r.pasid_valid);
    cr_assert_eq(r.pasid, 1);
    cr_assert_eq(r.addr, 0x4000);
    cr_assert_eq(r.access, VTD_ACC_W);
    const char *nopasid = "ff:1f.7\t-\t4096 x";
    cr_assert_eq(vtd_insp_parse_request(nopasid, strlen(nopasid), &r, &col, &why), 0);
    cr_assert(!r.pasid_valid);
    cr_assert_eq(r.addr, 4096);
    cr_assert_eq(r.access, VTD_ACC_X | VTD_ACC_R);
    cr_assert_eq(vtd_insp_parse_request("# comment", 9, &r, &col, &why), 1);
    cr_assert_eq(vtd_insp_parse_request("   ", 3, &r, &col, &why), 1);
    static const struct {
        const char *line;
        unsigned col;
        const char *why;
    } bad[] = {
        {"00:3.0 1 0 r", 1, "source-id"},
        {"00:03.0 0x100000 0 r", 9, "bad PASID"},
        {"00:03.0", 8, "missing PASID"},
        {"00:03.0 1 0x1g r", 11, "bad address"},
        {"00:03.0 1 0x10000000000000000 r", 11, "bad address"},
        {"00:03.0 1 5 rw", 13, "bad access"},
        {"00:03.0 1 5", 12, "missing access"},
        {"00:03.0 1 5 r extra", 15, "unexpected text"},
        {"00:03.0 -1 5 r", 9, "bad PASID"},
        {"00:03.0 1048576 5 r", 9, "bad PASID"},
        {"00:03.0 1 18446744073709551616 r", 11, "bad address"},
        {"00:03.0 1 0x1fffffffffffffff0 r", 11, "bad address"},
    };
    /* The largest values of each base, and leading zeros past 16 hexadecimal digits. */
    cr_assert_eq(vtd_insp_parse_request("00:03.0 1048575 18446744073709551615 r", 38, &r, &col, &why), 0);
    cr_assert_eq(r.pasid, 0xfffff);
    cr_assert_eq(r.addr, UINT64_MAX);
    cr_assert_eq(vtd_insp_parse_request("00:03.0 0xFFFFF 0x0000ffffffffffffffff r", 40, &r, &col, &why), 0);
    cr_assert_eq(r.pasid, 0xfffff);
    cr_assert_eq(r.addr, UINT64_MAX);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(vtd_insp_parse_request(bad[i].line, strlen(bad[i].line), &r, &col, &why), -EINVAL, "%s",
                     bad[i].line);
        cr_assert_eq(col, bad[i].col, "%s: column %u", bad[i].line, col);
        cr_assert(strstr(why, bad[i].why), "%s: %s", bad[i].line, why);
    }
}

Test(inspect, batch_answers_each_line_and_stops_at_a_bad_one)
{
    clean_world();
    const char text[] = "# requests\n00:03.0 1 0x4008 w\n00:03.0 1 0x9000 r\n\n00:03.0 - 0x1234 r\n";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    char *out = NULL;
    size_t outlen = 0;
    FILE *o = open_memstream(&out, &outlen);
    struct vtd_insp_batch_stats st;
    char err[256];
    cr_assert_eq(vtd_inspect_batch(&in, f, "reqs.txt", o, false, &st, err, sizeof err), 0, "%s", err);
    fclose(f);
    fclose(o);
    cr_assert_eq(st.requests, 3);
    cr_assert_eq(st.faults, 1);
    cr_assert_str_eq(out, "00:03.0 1 0x4008 w -> out 0xb008 page 4K perm rwu\n"
                          "00:03.0 1 0x9000 r -> fault 0x71 FS_PAGING_ENTRY_P\n"
                          "00:03.0 - 0x1234 r -> out 0x1234 page 4K perm rwxu\n");
    free(out);
    const char bad[] = "00:03.0 1 0x4000 r\n00:03.0 1 0x4000 q\n";
    f = fmemopen((void *)bad, sizeof bad - 1, "r");
    o = open_memstream(&out, &outlen);
    cr_assert_eq(vtd_inspect_batch(&in, f, "reqs.txt", o, true, &st, err, sizeof err), -EINVAL);
    fclose(f);
    fclose(o);
    cr_assert_str_eq(err, "reqs.txt:2:18: bad access (r, w or x)");
    cr_assert_eq(st.requests, 1);
    cr_assert(strstr(out, "\"out\": \"0xb000\""), "%s", out);
    free(out);
}

Test(inspect, answers_in_json)
{
    struct vtd_request r = {.sid = SID, .pasid_valid = true, .pasid = 7, .addr = 0xfee00000, .access = VTD_ACC_R};
    struct vtd_xlate x = {.out = 0x1234000, .page_shift = 21, .perm = RW};
    char buf[256];
    vtd_insp_format_answer(buf, sizeof buf, &r, 0, &x, true);
    cr_assert_str_eq(buf, "{\"sid\": \"00:03.0\", \"pasid\": 7, \"addr\": \"0xfee00000\", \"access\": \"r\", "
                          "\"priv\": false, \"out\": \"0x1234000\", \"page_size\": 2097152, \"perm\": \"rw\", "
                          "\"leaf_entry\": null, \"fault\": null}\n");
    /* The leaf entry: the second stage's for second-stage-only and nested, else the first's. */
    x.pgtt = VTD_PGTT_NESTED;
    x.fs.leaf_entry_addr = 0x5008;
    x.ss.leaf_entry_addr = 0x7010;
    vtd_insp_format_answer(buf, sizeof buf, &r, 0, &x, true);
    cr_assert(strstr(buf, "\"perm\": \"rw\", \"leaf_entry\": \"0x7010\", \"fault\": null}"), "%s", buf);
    x.pgtt = VTD_PGTT_FS;
    vtd_insp_format_answer(buf, sizeof buf, &r, 0, &x, true);
    cr_assert(strstr(buf, "\"leaf_entry\": \"0x5008\""), "%s", buf);
    r.pasid_valid = false;
    r.priv = true;
    vtd_insp_format_answer(buf, sizeof buf, &r, VTD_FR_INTR_ADDR, &x, true);
    cr_assert(strstr(buf, "\"pasid\": null"), "%s", buf);
    cr_assert(strstr(buf, "\"priv\": true, \"out\": null, \"page_size\": null, \"perm\": null, \"fault\": {\"code\": "
                          "\"0x87\", \"name\": \""),
              "%s", buf);
    /* A short buffer is cut, never overrun. */
    cr_assert_eq(vtd_insp_format_answer(buf, 10, &r, 0, &x, false), 9);
    cr_assert_eq(strlen(buf), 9);
}

/* ---- the kernel log ---- */

Test(inspect, dmesg_lines)
{
    const char log[] = "[    0.010000] ACPI: DMAR 0x000000007FFE2000 000050 (v01 BOCHS  BXPC)\n"
                       "[    0.020000] DMAR: Host address width 39\n"
                       "[    0.030000] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap 12008c22260286 ecap f00f5e\n"
                       "<6>[    0.030001] DMAR: dmar1: reg_base_addr fed91000 ver 6:0 cap d2008c40660462 ecap f050da\n"
                       "[    0.0] IOMMU 2: reg_base_addr fed92000 ver 1:0 cap c0000020e60262 ecap f0101a\n"
                       "[    0.0] DMAR: dmar3: reg_base_addr zz ver 1:0 cap 1 ecap 1\n";
    FILE *f = fmemopen((void *)log, sizeof log - 1, "r");
    struct vtd_insp_dmesg d;
    cr_assert_eq(vtd_insp_dmesg_read(f, &d), 0);
    fclose(f);
    cr_assert_eq(d.haw, 39);
    cr_assert_eq(d.n, 3);
    cr_assert_str_eq(d.unit[0].name, "dmar0");
    cr_assert_eq(d.unit[0].cap, UINT64_C(0x12008c22260286));
    cr_assert_eq(d.unit[0].ecap, UINT64_C(0xf00f5e));
    cr_assert_eq(d.unit[0].line, 3);
    cr_assert_eq(d.unit[1].ver_major, 6);
    cr_assert_eq(d.unit[1].reg_base, 0xfed91000);
    cr_assert_str_eq(d.unit[2].name, "dmar2");
    cr_assert_eq(vtd_insp_dmesg_find(&d, "dmar1"), &d.unit[1]);
    cr_assert_null(vtd_insp_dmesg_find(&d, "dmar3"));
}

/* The batch's memo of context and PASID fetches changes no answer: random requests over every
 * device, PASID (present or not) and address, compared with the plain uncached walk. */
Test(inspect, batch_memo_answers_as_the_uncached_walk)
{
    clean_world();
    struct vtd_ctx c2;
    cr_assert_eq(world_device(&w, SID2, &c2), 0);
    cr_assert_eq(world_pasid(&w, &c2, 1, VTD_PGTT_PT, 0, 0, NULL, NULL, NULL), 0);
    const uint16_t sids[] = {SID, SID2, vtd_sid(0, 7, 0), vtd_sid(3, 0, 0)};
    static const uint64_t addrs[] = {0x4000, 0x5008, 0x6000, 0x200100, 0x7010, 0, 0xfee00000};
    char *text = NULL, *out = NULL, *want = NULL;
    size_t tlen = 0, olen = 0, wlen = 0;
    FILE *t = open_memstream(&text, &tlen), *wf = open_memstream(&want, &wlen);
    struct vtd_walk_env env;
    vtd_inspect_env(&in, &env);
    uint64_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        struct vtd_request r = {.sid = sids[x % 4], .pasid_valid = (x >> 4) % 5 != 0, .pasid = (uint32_t)((x >> 8) % 6),
                                .addr = addrs[(x >> 12) % 7], .access = (x >> 16) & 1 ? VTD_ACC_W : VTD_ACC_R};
        char pasid[16] = "-";
        if (r.pasid_valid)
            snprintf(pasid, sizeof pasid, "%u", (unsigned)r.pasid);
        fprintf(t, "%s %s %#llx %s\n", vtd_bdf_format(r.sid).s, pasid, (unsigned long long)r.addr,
                r.access == VTD_ACC_W ? "w" : "r");
        struct vtd_xlate xl;
        char ans[256];
        int rc = vtd_translate(&env, &r, &xl);
        vtd_insp_format_answer(ans, sizeof ans, &r, rc, &xl, false);
        fputs(ans, wf);
    }
    fclose(t);
    fclose(wf);
    FILE *f = fmemopen(text, tlen, "r"), *o = open_memstream(&out, &olen);
    struct vtd_insp_batch_stats st;
    char err[256];
    int rc = vtd_inspect_batch(&in, f, "r", o, false, &st, err, sizeof err);
    fclose(f);
    fclose(o);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(st.requests, 3000);
    cr_assert_gt(st.faults, 100);
    cr_assert_str_eq(out, want);
    free(text);
    free(out);
    free(want);
}

/* Every context entry of bus 0 sharing one directory of 16384 present entries: 2^21 PASID
 * tables named from a few pages; the enumeration stops at its bound (lowered here to keep the
 * test short) instead of reading them. */
Test(inspect, shared_directories_stop_at_the_table_bound)
{
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 0, VTD_PGTT_PT, 0, 0, NULL, NULL, &cfg), 0);
    uint64_t pde;
    cr_assert_eq(vtd_mem_read64(w.mem, ctx.pdtp, &pde), 0);
    for (uint32_t i = 1; i < 16384; i++)
        cr_assert_eq(vtd_mem_write64(w.mem, ctx.pdtp + 8 * i, pde), 0);
    for (unsigned devfn = 0; devfn < 128; devfn++)
        cr_assert_eq(vtd_build_context(&w.b, w.rtaddr, vtd_sid(0, devfn >> 3, devfn & 7), &ctx), 0);
    in.max_pasid_tables = 3000;
    struct vtd_insp_visitor v = {0};
    cr_assert_eq(vtd_inspect_structs(&in, &v), -E2BIG);
    struct vtd_insp_check_stats st;
    cr_assert_eq(vtd_inspect_check(&in, on_find, NULL, &st), -E2BIG);
}

/* The batch's memo of first-stage leaf tables changes no answer either: random pages over
 * several leaf tables, holes at each level, read-only and supervisor-only pages, a 2 MiB page,
 * and a second PASID sharing the tables without PWSNP (their A bits are clear, so its walks
 * fault where PASID 1's pass: a memo keyed by the tables alone would answer it wrongly). */
Test(inspect, batch_leaf_table_memo_answers_as_the_uncached_walk)
{
    struct vtd_pt fs;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs, NULL, &cfg), 0);
    cr_assert(cfg.pwsnp);
    cfg.pwsnp = false;
    cr_assert_eq(vtd_build_pasid_entry(&w.b, &ctx, 2, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0, 0x10000000, 0x200000, 12, RWU, 0), 0);           /* no A bits */
    cr_assert_eq(vtd_pt_map(&fs, 0x400000, 0x10400000, 0x1f0000, 12, RWU, VTD_MAP_AD), 0); /* a hole at its end */
    cr_assert_eq(vtd_pt_map(&fs, 0x600000, 0x20000000, 0x200000, 21, RWU, VTD_MAP_AD), 0);
    cr_assert_eq(vtd_pt_protect(&fs, 0x10000, 0x10000, VTD_PERM_R | VTD_PERM_U), 0);
    cr_assert_eq(vtd_pt_protect(&fs, 0x420000, 0x8000, RW), 0); /* supervisor only */
    char *text = NULL, *want[2] = {NULL, NULL}, *out[2] = {NULL, NULL};
    size_t tlen = 0, wlen[2] = {0, 0}, olen[2] = {0, 0};
    FILE *t = open_memstream(&text, &tlen), *wf[2] = {open_memstream(&want[0], &wlen[0]), open_memstream(&want[1], &wlen[1])};
    struct vtd_walk_env env;
    vtd_inspect_env(&in, &env);
    unsigned faults[3] = {0, 0, 0};
    uint64_t x = 777;
    for (int i = 0; i < 4000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Pages of the first 8 MiB and 1 GiB above (no directory entry there). */
        uint64_t addr = ((x >> 8) % 2048) << 12 | (x & 0xff8) | ((x >> 40) % 9 == 0 ? 0x40000000 : 0);
        struct vtd_request r = {.sid = SID, .pasid_valid = true, .pasid = 1 + (uint32_t)((x >> 20) % 2),
                                .addr = addr, .access = (x >> 24) & 1 ? VTD_ACC_W : VTD_ACC_R};
        fprintf(t, "%s %u %#llx %s\n", vtd_bdf_format(r.sid).s, (unsigned)r.pasid, (unsigned long long)r.addr,
                r.access == VTD_ACC_W ? "w" : "r");
        struct vtd_xlate xl;
        char ans[256];
        int rc = vtd_translate(&env, &r, &xl);
        faults[r.pasid] += rc != 0;
        for (int j = 0; j < 2; j++) {
            vtd_insp_format_answer(ans, sizeof ans, &r, rc, &xl, j == 1);
            fputs(ans, wf[j]);
        }
    }
    fclose(t);
    fclose(wf[0]);
    fclose(wf[1]);
    /* Both PASIDs asked about ~2000 addresses: PASID 2 faults on every page lacking A bits. */
    cr_assert_gt(faults[1], 300);
    cr_assert_gt(faults[2], faults[1] + 300);
    cr_assert_lt(faults[1], 1500);
    for (int j = 0; j < 2; j++) {
        FILE *f = fmemopen(text, tlen, "r"), *o = open_memstream(&out[j], &olen[j]);
        struct vtd_insp_batch_stats st;
        char err[256];
        int rc = vtd_inspect_batch(&in, f, "r", o, j == 1, &st, err, sizeof err);
        fclose(f);
        fclose(o);
        cr_assert_eq(rc, 0, "%s", err);
        cr_assert_eq(st.requests, 4000);
        cr_assert_eq(st.faults, faults[1] + faults[2]);
        cr_assert_str_eq(out[j], want[j]);
        free(out[j]);
        free(want[j]);
    }
    free(text);
}

/* Lines are found in blocks: a comment longer than a block (the buffer grows), a request split
 * across two reads and a last line without '\n' are read as getline would have read them. */
Test(inspect, batch_reads_long_lines_and_an_unterminated_last_one)
{
    clean_world();
    size_t big = 150000, len = 0;
    char *text = malloc(big + 64);
    cr_assert_not_null(text);
    text[len++] = '#';
    memset(text + len, 'x', big);
    len += big;
    len += (size_t)sprintf(text + len, "\n00:03.0 - 0x1000 r\n00:03.0 - 0x2000 w");
    FILE *f = fmemopen(text, len, "r");
    char *out = NULL;
    size_t olen = 0;
    FILE *o = open_memstream(&out, &olen);
    struct vtd_insp_batch_stats st;
    char err[256];
    cr_assert_eq(vtd_inspect_batch(&in, f, "r", o, false, &st, err, sizeof err), 0, "%s", err);
    fclose(f);
    fclose(o);
    cr_assert_eq(st.requests, 2);
    cr_assert(strstr(out, "00:03.0 - 0x1000 r -> ") == out, "%s", out);
    cr_assert_not_null(strstr(out, "\n00:03.0 - 0x2000 w -> "), "%s", out);
    cr_assert_eq(out[olen - 1], '\n');
    free(out);
    free(text);
}
