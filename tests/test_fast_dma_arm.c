/*
 * test_fast_dma_arm.c: what a whole-request answer (sim/fast_dma.c) relies on without checking
 * it per request. It does not look the requester up (arming skips a device with a device TLB,
 * and adding a device moves the epoch); it trusts an entry's fill version alone (a removed entry's
 * version is 0); it compares who asks as one word read from the request (its padding byte is
 * ignored, the privilege is not); it copies the answer's first fields from its slot. The random
 * differential comparison is tests/test_fast_dma.c; these are the cases it would meet by chance
 * only.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)
#define PASID 1

static struct vtd_iommu *io;
static struct world w;
static struct vtd_pt fs;

/* One requester with PASID 1 over a first-stage table, pages 0-3 readable (page 1 writable), and
 * no device registered for it (so no device TLB). */
static void setup(void)
{
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.oracle = false;
    const char *why = NULL;
    io = vtd_iommu_new(&c, &why);
    cr_assert_not_null(io, "%s", why ? why : "");
    struct vtd_ctx ctx;
    struct vtd_pasid_cfg pc;
    cr_assert_eq(world_init_mem(&w, vtd_iommu_caps(io), vtd_iommu_mem(io)), 0);
    cr_assert_eq(world_device(&w, SID, &ctx), 0);
    cr_assert_eq(world_pasid(&w, &ctx, PASID, VTD_PGTT_FS, 4, 0, &fs, NULL, &pc), 0);
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(vtd_pt_map(&fs, (uint64_t)i << 12, UINT64_C(0x80000000) + ((uint64_t)i << 12), 0x1000, 12,
                                VTD_PERM_R | VTD_PERM_U | (i == 1 ? VTD_PERM_W : 0), VTD_MAP_AD),
                     0);
    vtd_iommu_set_root(io, w.rtaddr);
}

static void teardown(void)
{
    world_fini(&w);
    vtd_iommu_free(io);
}

static struct vtd_request read_of(uint64_t addr)
{
    return (struct vtd_request){.sid = SID, .pasid_valid = true, .pasid = PASID, .addr = addr, .access = VTD_ACC_R};
}

/* A walk, a full lookup the fast path remembers, a fast-path hit that arms the slot, and one
 * answered whole. */
static void warm(const struct vtd_request *req)
{
    struct vtd_dma_result res;
    uint64_t before = io->fast_dma_hits;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(vtd_iommu_dma(io, req, &res), 0);
    cr_assert_eq(io->fast_dma_hits, before + 1);
    cr_assert_eq(res.x.out, UINT64_C(0x80000000) + req->addr);
}

TestSuite(fast_dma_arm, .init = setup, .fini = teardown);

Test(fast_dma_arm, a_device_tlb_added_after_arming_takes_the_general_path)
{
    struct vtd_request req = read_of(0x1008);
    warm(&req);
    struct vtd_device_config dc = {.sid = SID, .ats = true, .pasid_bits = 20, .devtlb = {.sets = 2, .ways = 2}};
    cr_assert_eq(vtd_iommu_add_device(io, &dc), 0);
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0); /* a translation request fills the device TLB */
    cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0);
    cr_assert_eq(res.source, VTD_SRC_DEVTLB, "the device's TLB answers, not the remembered IOTLB hit");
    cr_assert_eq(io->fast_dma_hits, 1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0);
    cr_assert_eq(io->fast_dma_hits, 1, "a requester with a device TLB arms nothing");
}

Test(fast_dma_arm, a_removed_entry_is_not_used)
{
    struct vtd_request req = read_of(0x2010);
    warm(&req);
    cr_assert_gt(vtd_cache_flush(vtd_iommu_cache(io, VTD_C_IOTLB)), 0);
    /* Remapped after the flush: only a fresh walk sees the new page. */
    cr_assert_eq(vtd_pt_unmap(&fs, 0x2000, 0x1000), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x2000, 0x90000000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U, VTD_MAP_AD), 0);
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0);
    cr_assert_eq(res.x.out, 0x90000010, "the flushed IOTLB entry must not answer");
    cr_assert_neq(res.source, VTD_SRC_IOTLB);
    cr_assert_eq(io->fast_dma_hits, 1);
}

Test(fast_dma_arm, who_asks_ignores_the_padding_byte_only)
{
    struct vtd_request req = read_of(0x3000);
    warm(&req);
    /* The same request with every padding byte set answers whole... */
    struct vtd_request same;
    memset(&same, 0xff, sizeof same);
    same.sid = req.sid;
    same.pasid_valid = req.pasid_valid;
    same.pasid = req.pasid;
    same.addr = req.addr;
    same.access = req.access;
    same.priv = req.priv;
    same.kind = req.kind;
    same.data = req.data;
    struct vtd_dma_result res;
    cr_assert_eq(vtd_iommu_dma(io, &same, &res), 0);
    cr_assert_eq(io->fast_dma_hits, 2);
    cr_assert_eq(res.x.out, 0x80003000);
    /* ...a privileged one, another PASID or a request without PASID does not. */
    struct vtd_request other = req;
    other.priv = true;
    vtd_iommu_dma(io, &other, &res);
    cr_assert_eq(io->fast_dma_hits, 2);
    other = req;
    other.pasid = PASID + 1;
    cr_assert_neq(vtd_iommu_dma(io, &other, &res), 0, "PASID 2 has no entry");
    other = req;
    other.pasid_valid = false;
    vtd_iommu_dma(io, &other, &res);
    cr_assert_eq(io->fast_dma_hits, 2);
}

Test(fast_dma_arm, an_access_beyond_the_key_arms_nothing)
{
    /* Bits above the VTD_ACC_* ones are ignored by the walk but would spill out of the key's
     * low 12 bits into the page: such a request is answered, never armed. */
    struct vtd_request req = read_of(0x2000);
    req.access |= 1u << VTD_PAGE_SHIFT;
    struct vtd_dma_result res;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(vtd_iommu_dma(io, &req, &res), 0);
        cr_assert_eq(res.x.out, 0x80002000);
    }
    cr_assert_eq(io->fast_dma_hits, 0);
    cr_assert_gt(vtd_iommu_fast_hits(io), 0, "the fast path still answers it");
}

Test(fast_dma_arm, the_copied_fields_are_those_of_the_general_path)
{
    struct vtd_request req = read_of(0x1000);
    warm(&req);
    struct vtd_iommu_config c;
    vtd_iommu_config_default(&c);
    c.oracle = false;
    c.fast_path = false;
    struct vtd_iommu *plain = vtd_iommu_new(&c, NULL);
    cr_assert_not_null(plain);
    /* The same memory is not shared: the second IOMMU gets its own copy of the tables. */
    struct world w2;
    struct vtd_ctx ctx;
    struct vtd_pt fs2;
    struct vtd_pasid_cfg pc;
    cr_assert_eq(world_init_mem(&w2, vtd_iommu_caps(plain), vtd_iommu_mem(plain)), 0);
    cr_assert_eq(world_device(&w2, SID, &ctx), 0);
    cr_assert_eq(world_pasid(&w2, &ctx, PASID, VTD_PGTT_FS, 4, 0, &fs2, NULL, &pc), 0);
    cr_assert_eq(vtd_pt_map(&fs2, 0x1000, 0x80001000, 0x1000, 12, VTD_PERM_R | VTD_PERM_U | VTD_PERM_W, VTD_MAP_AD),
                 0);
    vtd_iommu_set_root(plain, w2.rtaddr);
    struct vtd_dma_result res;
    for (int i = 0; i < 2; i++) /* a walk, then IOTLB hits like the other's */
        cr_assert_eq(vtd_iommu_dma(plain, &req, &res), 0);
    for (unsigned off = 0; off < 0x1000; off += 0x3f8) {
        req.addr = 0x1000 + off;
        struct vtd_dma_result a, b;
        memset(&a, 0xa5, sizeof a);
        memset(&b, 0x5a, sizeof b);
        uint64_t before = io->fast_dma_hits;
        cr_assert_eq(vtd_iommu_dma(io, &req, &a), 0);
        cr_assert_eq(vtd_iommu_dma(plain, &req, &b), 0);
        cr_assert_eq(io->fast_dma_hits, before + 1, "the same page and access: answered whole");
        cr_assert_eq(a.x.fault.code, b.x.fault.code);
        cr_assert_eq(a.x.fault.suppressed, b.x.fault.suppressed);
        cr_assert_eq(a.x.fault.addr, b.x.fault.addr);
        cr_assert_eq(a.x.fault.level, b.x.fault.level);
        cr_assert_eq(a.x.out, b.x.out);
        cr_assert_eq(a.x.page_shift, b.x.page_shift);
        cr_assert_eq(a.x.perm, b.x.perm);
        cr_assert_eq(a.x.dirty, b.x.dirty);
        cr_assert_eq(a.x.did, b.x.did);
        cr_assert_eq(a.x.pasid, b.x.pasid);
        cr_assert_eq(a.x.pgtt, b.x.pgtt);
        cr_assert_eq(a.x.priv, b.x.priv);
        cr_assert_eq(a.x.ctx.pdtp, b.x.ctx.pdtp);
        cr_assert_eq(a.x.ctx.rid_pasid, b.x.ctx.rid_pasid);
        cr_assert_eq(a.x.ctx.paside, b.x.ctx.paside);
        cr_assert_eq(a.x.pe.did, b.x.pe.did);
        cr_assert_eq(a.x.pe.fs_levels, b.x.pe.fs_levels);
        cr_assert_eq(a.x.pe.fsptptr - w.rtaddr, b.x.pe.fsptptr - w2.rtaddr, "the same table, relative to the root");
        cr_assert_eq(a.x.fs.leaf_level, b.x.fs.leaf_level);
        cr_assert_eq(a.x.ss.leaf_level, b.x.ss.leaf_level);
        cr_assert_eq(a.source, b.source);
        cr_assert_eq(a.used, b.used);
        cr_assert_eq(a.reads, b.reads);
        cr_assert_eq(a.stale, b.stale);
        cr_assert_eq(a.unflushed, b.unflushed);
    }
    world_fini(&w2);
    vtd_iommu_free(plain);
}
