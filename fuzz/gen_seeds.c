/*
 * gen_seeds.c: writes the seed corpora: small valid inputs for each fuzz target, one per
 * translation type or descriptor family, laid out as fuzz_walker_input.h and fuzz_qi_input.h
 * and fuzz_ioctl_input.h describe. Usage: gen_seeds DIR (writes DIR/fuzz_walker/, DIR/fuzz_qi/
 * and DIR/fuzz_ioctl/, which must exist). fuzz_yaml's seeds are the files of scenarios/.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/iommufd_vtd.h>
#include <linux/vfio.h>

#include "fuzz_ioctl_input.h"
#include "fuzz_qi_input.h"
#include "fuzz_walker_input.h"
#include "sim/qi.h"
#include "walker/builder.h"
#include "walker/context_entry.h"
#include "walker/fs_entry.h"
#include "walker/pasid_dir.h"
#include "walker/pasid_entry.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"

#define SEED_MAX 2048

struct seed {
    uint8_t b[SEED_MAX];
    size_t n;
};

static void put_le(uint8_t *p, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int save(const char *dir, const char *target, const char *name, const struct seed *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
        perror(path);
        return 1;
    }
    return 0;
}

/* ---- walker seeds ---- */

#define FS_TABLE (VTD_FS_P | VTD_FS_RW | VTD_FS_US)
#define SS_RW (VTD_SS_R | VTD_SS_W)

struct wseed {
    struct seed s;
    uint8_t *hdr, *ent;
};

static void w_init(struct wseed *w, unsigned npt, uint8_t req_flags, uint16_t sid, uint32_t pasid, uint64_t addr)
{
    memset(w, 0, sizeof *w);
    w->hdr = w->s.b;
    w->ent = w->s.b + FW_HDR_LEN;
    w->s.n = FW_HDR_LEN + FW_ENT_LEN;
    w->hdr[0] = 16; /* HAW 48 */
    w->hdr[5] = (uint8_t)(npt - 1);
    w->hdr[7] = req_flags;
    put_le(w->hdr + 8, sid, 2);
    put_le(w->hdr + 10, pasid, 3);
    put_le(w->hdr + 13, addr, 8);
    /* root -> context table -> PASID directory -> PASID table */
    put_le(w->ent + ((sid & 0x80) ? 8 : 0), FW_CTX | VTD_ROOT_P, 8);
    put_le(w->ent + 16, FW_PDIR | VTD_CTX_P | VTD_CTX_PASIDE, 8);
    put_le(w->ent + 48, FW_PASIDT | VTD_PDIR_P, 8);
}

static void w_pasid(struct wseed *w, const struct vtd_pasid_cfg *cfg)
{
    struct vtd_pasid_entry pe;
    pasid_entry_encode(cfg, &pe);
    for (unsigned i = 0; i < 8; i++)
        put_le(w->ent + 56 + 8 * i, pe.qw[i], 8);
}

/* One record: qword `val` at slot `slot` of page-table page `pt`. */
static void w_rec(struct wseed *w, unsigned pt, unsigned slot, uint64_t val)
{
    uint8_t *p = w->s.b + w->s.n;
    p[0] = (uint8_t)(4 + pt);
    put_le(p + 1, slot, 2);
    put_le(p + 3, val, 8);
    w->s.n += FW_REC_LEN;
}

static unsigned idx(uint64_t va, unsigned level) { return (unsigned)(va >> (12 + 9 * (level - 1))) & 511; }

#define REQ_PASID 1u
#define REQ_PRIV 2u
#define REQ_R (VTD_ACC_R << 2)
#define REQ_W (VTD_ACC_W << 2)
#define REQ_KIND(k) ((uint8_t)((k) << 6))

static int walker_seeds(const char *dir)
{
    const uint16_t sid = 0x18; /* 00:03.0 */
    struct wseed w;
    struct vtd_pasid_cfg cfg;
    int bad = 0;

    /* first stage, 4 levels, read of 0x10000 -> 0x80000 */
    uint64_t va = 0x10000;
    w_init(&w, 4, REQ_PASID | REQ_R, sid, 1, va);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_FS, 1);
    cfg.fs_levels = 4, cfg.fsptptr = FW_PT(0), cfg.pwsnp = true;
    w_pasid(&w, &cfg);
    for (unsigned l = 4; l > 1; l--)
        w_rec(&w, 4 - l, idx(va, l), FW_PT(5 - l) | FS_TABLE);
    w_rec(&w, 3, idx(va, 1), 0x80000 | FS_TABLE);
    bad |= save(dir, "fuzz_walker", "fs4_read.bin", &w.s);

    /* first stage, 2 MiB page, supervisor write */
    va = 0x40200000;
    w_init(&w, 3, REQ_PASID | REQ_W | REQ_PRIV, sid, 1, va);
    cfg.sre = true;
    w_pasid(&w, &cfg);
    w_rec(&w, 0, idx(va, 4), FW_PT(1) | FS_TABLE);
    w_rec(&w, 1, idx(va, 3), FW_PT(2) | FS_TABLE);
    w_rec(&w, 2, idx(va, 2), 0x600000 | FS_TABLE | VTD_FS_PS);
    bad |= save(dir, "fuzz_walker", "fs_2m_priv_write.bin", &w.s);

    /* first stage, 5 levels */
    va = 0x12345000;
    w_init(&w, 5, REQ_PASID | REQ_R, sid, 63, va);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_FS, 7);
    cfg.fs_levels = 5, cfg.fsptptr = FW_PT(0), cfg.pwsnp = true;
    w_pasid(&w, &cfg);
    for (unsigned l = 5; l > 1; l--)
        w_rec(&w, 5 - l, idx(va, l), FW_PT(6 - l) | FS_TABLE);
    w_rec(&w, 4, idx(va, 1), 0x99000 | FS_TABLE);
    bad |= save(dir, "fuzz_walker", "fs5_read.bin", &w.s);

    /* second stage, 4 levels, with A/D, write */
    va = 0x7000;
    w_init(&w, 4, REQ_PASID | REQ_W, sid, 2, va);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_SS, 2);
    cfg.ss_levels = 4, cfg.ssptptr = FW_PT(0), cfg.ssade = true, cfg.pwsnp = true;
    w_pasid(&w, &cfg);
    for (unsigned l = 4; l > 1; l--)
        w_rec(&w, 4 - l, idx(va, l), FW_PT(5 - l) | SS_RW);
    w_rec(&w, 3, idx(va, 1), 0xa0000 | SS_RW);
    bad |= save(dir, "fuzz_walker", "ss4_write_ad.bin", &w.s);

    /* nested: SS maps GPA [0, 1 GiB) 1:1 with a 1 GiB page; FS tables at PT(0..3) */
    va = 0x10000;
    w_init(&w, 6, REQ_PASID | REQ_R, sid, 3, va);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_NESTED, 3);
    cfg.fs_levels = 4, cfg.fsptptr = FW_PT(0), cfg.ss_levels = 4, cfg.ssptptr = FW_PT(4), cfg.pwsnp = true;
    w_pasid(&w, &cfg);
    w_rec(&w, 4, 0, FW_PT(5) | SS_RW);
    w_rec(&w, 5, 0, 0 | SS_RW | VTD_SS_PS);
    for (unsigned l = 4; l > 1; l--)
        w_rec(&w, 4 - l, idx(va, l), FW_PT(5 - l) | FS_TABLE);
    w_rec(&w, 3, idx(va, 1), 0x80000 | FS_TABLE);
    bad |= save(dir, "fuzz_walker", "nested_read.bin", &w.s);

    /* pass-through request without PASID (RID_PASID 0) */
    w_init(&w, 1, REQ_R, sid, 0, 0x123456000);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_PT, 9);
    w_pasid(&w, &cfg);
    bad |= save(dir, "fuzz_walker", "pt_no_pasid.bin", &w.s);

    /* ATS translation request (DTE) on bus 1, devfn 0x85 (high half of the root entry) */
    va = 0x3000;
    w_init(&w, 4, REQ_PASID | REQ_R | REQ_KIND(VTD_REQ_TRANSLATION), 0x185, 4, va);
    put_le(w.ent + 16, FW_PDIR | VTD_CTX_P | VTD_CTX_PASIDE | VTD_CTX_DTE, 8);
    vtd_pasid_cfg_init(&cfg, VTD_PGTT_FS, 4);
    cfg.fs_levels = 4, cfg.fsptptr = FW_PT(0), cfg.pwsnp = true;
    w_pasid(&w, &cfg);
    for (unsigned l = 4; l > 1; l--)
        w_rec(&w, 4 - l, idx(va, l), FW_PT(5 - l) | FS_TABLE);
    w_rec(&w, 3, idx(va, 1), 0x55000 | VTD_FS_P); /* read-only, supervisor */
    bad |= save(dir, "fuzz_walker", "ats_translation.bin", &w.s);
    return bad;
}

/* ---- queued invalidation seeds ---- */

#define QT(t) ((uint64_t)((t) & 0xf) | (uint64_t)((t) >> 4) << 9)

static void q_init(struct seed *s, uint8_t flags, unsigned iqt16)
{
    memset(s, 0, sizeof *s);
    s->b[0] = flags;
    put_le(s->b + 1, iqt16, 2);
    s->n = FQ_HDR_LEN;
}

/* A direct-phase record (control byte, then the qwords). */
static void q_rec(struct seed *s, unsigned nqw, uint64_t qw0, uint64_t qw1)
{
    s->b[s->n++] = nqw == 4 ? 0x80 : 0x00;
    put_le(s->b + s->n, qw0, 8);
    put_le(s->b + s->n + 8, qw1, 8);
    memset(s->b + s->n + 16, 0, 8u * nqw - 16);
    s->n += 8u * nqw;
}

/* A queue-phase descriptor (no control byte). */
static void q_desc(struct seed *s, unsigned nqw, uint64_t qw0, uint64_t qw1)
{
    put_le(s->b + s->n, qw0, 8);
    put_le(s->b + s->n + 8, qw1, 8);
    memset(s->b + s->n + 16, 0, 8u * nqw - 16);
    s->n += 8u * nqw;
}

static int qi_seeds(const char *dir)
{
    struct seed s;
    int bad = 0;
    const uint64_t ats_sid = 0x20;

    /* direct: 128-bit descriptors of every family */
    q_init(&s, 0x01, 0);
    q_rec(&s, 2, QT(VTD_QI_IOTLB) | 3u << 4 | 2u << 16, 0x10000);             /* PSI DID 2 */
    q_rec(&s, 2, QT(VTD_QI_IOTLB) | 2u << 4 | 3u << 16, 0);                   /* DID 3 */
    q_rec(&s, 2, QT(VTD_QI_CC) | 3u << 4 | (uint64_t)0x18 << 32, 0);          /* device-selective */
    q_rec(&s, 2, QT(VTD_QI_DEVTLB) | ats_sid << 32, 0x1000 | 1);              /* S = 1 */
    q_rec(&s, 2, QT(VTD_QI_IEC), 0);
    q_rec(&s, 2, QT(VTD_QI_WAIT) | 1u << 4 | 1u << 5 | (uint64_t)7 << 32, 0x3000000);
    q_rec(&s, 2, QT(VTD_QI_IOTLB) | 1u << 4, 0);                              /* global */
    bad |= save(dir, "fuzz_qi", "direct_128.bin", &s);

    /* direct: 256-bit descriptors, with the DMAs re-run after each */
    q_init(&s, 0x41, 0);
    q_rec(&s, 4, QT(VTD_QI_PIOTLB) | 3u << 4 | 2u << 16 | (uint64_t)1 << 32, 0x11000);
    q_rec(&s, 4, QT(VTD_QI_PIOTLB) | 2u << 4 | 6u << 16 | (uint64_t)5 << 32, 0);
    q_rec(&s, 4, QT(VTD_QI_PC) | 1u << 4 | 3u << 16 | (uint64_t)2 << 32, 0);
    q_rec(&s, 4, QT(VTD_QI_PDEVTLB) | ats_sid << 16 | (uint64_t)5 << 32, 0x10000000);
    q_rec(&s, 4, QT(VTD_QI_PDEVTLB) | ats_sid << 16, 0x7ffff000 | 1u << 11 | 1);
    q_rec(&s, 4, QT(VTD_QI_PGRP_RESP) | 1u << 4 | ats_sid << 16 | (uint64_t)5 << 32, 3u << 3);
    q_rec(&s, 4, QT(VTD_QI_PC) | 3u << 4, 0);
    bad |= save(dir, "fuzz_qi", "direct_256.bin", &s);

    /* direct: invalid ones (reserved bits, unknown type, 256-bit-only type in 128 bits) */
    q_init(&s, 0x01, 0);
    q_rec(&s, 2, QT(VTD_QI_IOTLB) | 1u << 4 | 1u << 8, 0);
    q_rec(&s, 2, QT(15), 0);
    q_rec(&s, 2, QT(VTD_QI_PIOTLB) | 2u << 4, 0);
    q_rec(&s, 2, QT(VTD_QI_IOTLB) | 3u << 4 | 2u << 16, 0x10000 | 40);      /* AM above MAMV */
    s.b[s.n++] = 0x43; /* nqw 3 */
    memset(s.b + s.n, 0, 24);
    s.n += 24;
    bad |= save(dir, "fuzz_qi", "direct_invalid.bin", &s);

    /* queue: 128-bit descriptors, then a wait with status write */
    q_init(&s, 0x02, 3);
    q_desc(&s, 2, QT(VTD_QI_IOTLB) | 1u << 4, 0);
    q_desc(&s, 2, QT(VTD_QI_CC) | 1u << 4, 0);
    q_desc(&s, 2, QT(VTD_QI_WAIT) | 1u << 5 | (uint64_t)1 << 32, 0x3000000);
    bad |= save(dir, "fuzz_qi", "queue_128.bin", &s);

    /* queue: 256-bit descriptors (DW) */
    q_init(&s, 0x06, 6);
    q_desc(&s, 4, QT(VTD_QI_PIOTLB) | 3u << 4 | 2u << 16 | (uint64_t)1 << 32, 0x10000);
    q_desc(&s, 4, QT(VTD_QI_PC) | 1u << 4 | 2u << 16 | (uint64_t)1 << 32, 0);
    q_desc(&s, 4, QT(VTD_QI_WAIT) | 1u << 4, 0);
    bad |= save(dir, "fuzz_qi", "queue_256.bin", &s);

    /* queue: an invalid descriptor halts it; IQE cleared, it halts again */
    q_init(&s, 0x82, 3);
    q_desc(&s, 2, QT(VTD_QI_IOTLB) | 1u << 4, 0);
    q_desc(&s, 2, QT(VTD_QI_IOTLB), 0); /* granularity 0 */
    q_desc(&s, 2, QT(VTD_QI_WAIT), 0);
    bad |= save(dir, "fuzz_qi", "queue_error_resume.bin", &s);
    return bad;
}

/* ---- ioctl seeds: the shapes of the container tests' valid calls ---- */

/* One record: op, 16-bit payload length, payload. */
static void i_rec(struct seed *s, uint8_t op, const void *payload, size_t len)
{
    s->b[s->n++] = op;
    put_le(s->b + s->n, len, 2);
    s->n += 2;
    memcpy(s->b + s->n, payload, len);
    s->n += len;
}

static void i_pasid(struct seed *s, uint32_t flags, uint32_t min, uint32_t max)
{
    struct vfio_iommu_type1_pasid_request r = {sizeof r, flags, {min, max}};
    i_rec(s, FI_PASID_REQUEST, &r, sizeof r);
}

/* A NESTING_OP: header and payload in one argument. */
static void i_nesting(struct seed *s, uint32_t op, const void *data, size_t len)
{
    uint8_t buf[sizeof(struct vfio_iommu_type1_nesting_op) + 128];
    struct vfio_iommu_type1_nesting_op h = {(uint32_t)(sizeof h + len), op};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, data, len);
    i_rec(s, FI_NESTING_OP, buf, sizeof h + len);
}

static struct iommu_gpasid_bind_data i_bind_data(uint64_t pasid)
{
    return (struct iommu_gpasid_bind_data){.argsz = sizeof(struct iommu_gpasid_bind_data),
                                           .version = IOMMU_GPASID_BIND_VERSION_1,
                                           .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                           .gpgd = FI_GUEST_PT_GPA, .hpasid = pasid};
}

/* A DMA record: flags (fuzz_ioctl_input.h), PASID, address. */
static void i_dma(struct seed *s, uint8_t flags, uint32_t pasid, uint64_t addr)
{
    uint8_t b[13];
    b[0] = flags;
    put_le(b + 1, pasid, 4);
    put_le(b + 5, addr, 8);
    i_rec(s, FI_DMA, b, sizeof b);
}

#define I_ATS 1
#define I_PASID 2
#define I_WRITE 4

static void i_read_faults(struct seed *s)
{
    uint8_t max = 8;
    i_rec(s, FI_READ_FAULTS, &max, 1);
}

static int ioctl_seeds(const char *dir)
{
    struct seed s;
    int rc = 0;

    /* vSVA: allocate PASID 1, bind the guest table, DMA, invalidate, unbind, free. */
    memset(&s, 0, sizeof s);
    i_pasid(&s, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, 1000);
    struct iommu_gpasid_bind_data bind = i_bind_data(1);
    i_nesting(&s, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &bind, sizeof bind);
    i_dma(&s, I_PASID | I_WRITE, 1, FI_VA + 0x123);
    i_dma(&s, I_PASID, 1, FI_VA + 0x1123);
    struct iommu_cache_invalidate_info inv = {.argsz = sizeof inv, .version = 1, .cache = IOMMU_CACHE_INV_TYPE_IOTLB,
                                              .granularity = IOMMU_INV_GRANU_ADDR};
    inv.granu.addr_info = (struct iommu_inv_addr_info){.flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = 1, .addr = FI_VA,
                                                       .granule_size = 4096, .nb_granules = 1};
    i_nesting(&s, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, &inv, sizeof inv);
    i_dma(&s, I_PASID, 1, FI_VA + 0x123);
    i_read_faults(&s);
    i_nesting(&s, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &bind, sizeof bind);
    i_pasid(&s, VFIO_IOMMU_FLAG_FREE_PASID, 1, 1);
    rc |= save(dir, "fuzz_ioctl", "vsva_flow.bin", &s);

    /* The same invalidation through vtd_container_cache_invalidate, PASID- and domain-wide. */
    memset(&s, 0, sizeof s);
    i_pasid(&s, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, 1000);
    i_nesting(&s, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &bind, sizeof bind);
    i_dma(&s, I_ATS | I_PASID, 1, FI_VA);
    struct iommu_cache_invalidate_info pinv = {.argsz = sizeof pinv, .version = 1,
                                               .cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB |
                                                        IOMMU_CACHE_INV_TYPE_PASID,
                                               .granularity = IOMMU_INV_GRANU_PASID};
    pinv.granu.pasid_info = (struct iommu_inv_pasid_info){.flags = IOMMU_INV_PASID_FLAGS_PASID, .pasid = 1};
    i_rec(&s, FI_CACHE_INVALIDATE, &pinv, sizeof pinv);
    struct iommu_cache_invalidate_info dinv = {.argsz = offsetof(struct iommu_cache_invalidate_info, granu),
                                               .version = 1, .cache = IOMMU_CACHE_INV_TYPE_IOTLB,
                                               .granularity = IOMMU_INV_GRANU_DOMAIN};
    i_rec(&s, FI_CACHE_INVALIDATE, &dinv, sizeof dinv);
    i_dma(&s, I_ATS | I_PASID, 1, FI_VA);
    rc |= save(dir, "fuzz_ioctl", "cache_invalidate.bin", &s);

    /* MAP_DMA, a DMA without PASID through it, UNMAP_DMA, the DMA again. */
    memset(&s, 0, sizeof s);
    struct vfio_iommu_type1_dma_map map = {sizeof map, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                           UINT64_C(0x50000000), UINT64_C(0x2000000), 0x10000};
    i_rec(&s, FI_MAP_DMA, &map, sizeof map);
    i_dma(&s, I_WRITE, 0, UINT64_C(0x2000010));
    struct vfio_iommu_type1_dma_unmap unmap = {sizeof unmap, 0, UINT64_C(0x2000000), 0x10000};
    i_rec(&s, FI_UNMAP_DMA, &unmap, sizeof unmap);
    i_dma(&s, 0, 0, UINT64_C(0x2000010));
    i_read_faults(&s);
    rc |= save(dir, "fuzz_ioctl", "map_unmap.bin", &s);

    /* GET_INFO: the short form, and one long enough for the capability chain. */
    memset(&s, 0, sizeof s);
    struct vfio_iommu_type1_info info = {.argsz = sizeof info};
    i_rec(&s, FI_GET_INFO, &info, sizeof info);
    uint8_t big[512] = {0};
    put_le(big, sizeof big, 4);
    i_rec(&s, FI_GET_INFO, big, sizeof big);
    rc |= save(dir, "fuzz_ioctl", "get_info.bin", &s);

    /* PRI: the ATS device touches an unmapped page, the VMM reads the request and answers. */
    memset(&s, 0, sizeof s);
    i_pasid(&s, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, 1000);
    i_nesting(&s, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &bind, sizeof bind);
    i_dma(&s, I_ATS | I_PASID, 1, FI_VA + 0x10000);
    i_read_faults(&s);
    struct iommu_page_response resp = {sizeof resp, IOMMU_PAGE_RESP_VERSION_1, IOMMU_PAGE_RESP_PASID_VALID, 1, 0,
                                       IOMMU_PAGE_RESP_SUCCESS};
    i_rec(&s, FI_PAGE_RESPONSE, &resp, sizeof resp);
    rc |= save(dir, "fuzz_ioctl", "page_request.bin", &s);

    /* iommufd: a nested hwpt for PASID 1, then two invalidations in one array. */
    memset(&s, 0, sizeof s);
    i_pasid(&s, VFIO_IOMMU_FLAG_ALLOC_PASID, 1, 1000);
    uint8_t hw[4 + sizeof(struct iommu_hwpt_vtd_s1)];
    struct iommu_hwpt_vtd_s1 s1 = {.flags = 0, .pgtbl_addr = FI_GUEST_PT_GPA, .addr_width = 48};
    put_le(hw, 1, 4);
    memcpy(hw + 4, &s1, sizeof s1);
    i_rec(&s, FI_HWPT_ALLOC, hw, sizeof hw);
    i_dma(&s, I_PASID, 1, FI_VA);
    uint8_t hinv[12 + 2 * sizeof(struct iommu_hwpt_vtd_s1_invalidate)];
    struct iommu_hwpt_vtd_s1_invalidate e[2] = {{FI_VA, 1, IOMMU_VTD_INV_FLAGS_LEAF, 0}, {0, UINT64_MAX, 0, 0}};
    put_le(hinv, 1, 4);
    put_le(hinv + 4, sizeof e[0], 4);
    put_le(hinv + 8, 2, 4);
    memcpy(hinv + 12, e, sizeof e);
    i_rec(&s, FI_HWPT_INVALIDATE, hinv, sizeof hinv);
    i_dma(&s, I_PASID, 1, FI_VA);
    rc |= save(dir, "fuzz_ioctl", "iommufd.bin", &s);

    /* Requests the container does not know, a NULL argument and a raw request number. */
    memset(&s, 0, sizeof s);
    i_rec(&s, FI_GET_API_VERSION, NULL, 0);
    i_rec(&s, FI_CHECK_EXTENSION, NULL, 0);
    i_rec(&s, FI_MAP_DMA, NULL, 0);
    s.b[s.n++] = FI_RAW_REQUEST;
    put_le(s.b + s.n, VFIO_IOMMU_NESTING_OP, 4);
    s.n += 4;
    put_le(s.b + s.n, 8, 2);
    s.n += 2;
    put_le(s.b + s.n, 8, 4);
    put_le(s.b + s.n + 4, VFIO_IOMMU_NESTING_OP_NUM, 4);
    s.n += 8;
    rc |= save(dir, "fuzz_ioctl", "unknown_requests.bin", &s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds DIR\n");
        return 2;
    }
    return walker_seeds(argv[1]) | qi_seeds(argv[1]) | ioctl_seeds(argv[1]);
}
