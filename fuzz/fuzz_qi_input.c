/*
 * fuzz_qi_input.c: queued invalidation over arbitrary descriptors (layout: fuzz_qi_input.h).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *   - vtd_qi_submit returns 0 (r.error 0) or -EINVAL with r.error set and a non-empty,
 *     terminated r.why; vtd_qi_describe of any descriptor is terminated;
 *   - the queue in memory always stops: IQH ends inside the queue, at IQT unless FSTS.IQE
 *     halted it (then IQERCD.IQEI names a reason);
 *   - the DMAs run after invalidations still return 0 or a known fault code.
 */
#include "fuzz_qi_input.h"
#include "fuzz_why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/iommu.h"
#include "sim/qi.h"
#include "sim/regs.h"
#include "walker/fault.h"
#include "world.h"

#define FQ_SID vtd_sid(0, 3, 0)
#define FQ_ATS_SID vtd_sid(0, 4, 0)
#define FQ_RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

struct fq_state {
    struct vtd_iommu *io;
    struct world w;
    struct vtd_ctx ctx, ats_ctx;
    struct vtd_pt fs, ss, nfs, nss;
};

/*
 * The default configuration with small caches that still hold everything the DMAs fill (at
 * most 9 translations, 3 devices' contexts, 4 PASID entries): the oracle scans a whole cache
 * per stale answer and the reset clears it, so the default 512-entry IOTLB made those scans
 * and clears most of an input's time. Sets of more than one way keep set indexing exercised.
 */
static void fq_config(struct vtd_iommu_config *c)
{
    vtd_iommu_config_default(c);
    c->cache[VTD_C_CONTEXT] = (struct vtd_cache_geometry){.sets = 1, .ways = 4};
    c->cache[VTD_C_PASID] = (struct vtd_cache_geometry){.sets = 2, .ways = 4};
    c->cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 4, .ways = 4};
    c->cache[VTD_C_PSC_FS] = (struct vtd_cache_geometry){.sets = 2, .ways = 4};
    c->cache[VTD_C_PSC_SS] = (struct vtd_cache_geometry){.sets = 2, .ways = 4};
}

/*
 * The IOMMU with its two devices. One instance lives for the whole process and is reset per
 * input (vtd_iommu_reset): building and freeing it each time cost more than the input's own
 * work (the instance, its caches and the memory index are ~400 KiB of cleared allocations).
 */
static struct vtd_iommu *fq_iommu(char *why, size_t why_len)
{
    static struct vtd_iommu *io;
    if (io) {
        vtd_iommu_reset(io);
        return io;
    }
    struct vtd_iommu_config c;
    const char *msg = NULL;
    fq_config(&c);
    if (!(io = vtd_iommu_new(&c, &msg))) {
        fuzz_fail(why, why_len, "vtd_iommu_new: %s", msg ? msg : "?");
        return NULL;
    }
    struct vtd_device_config plain = {.sid = FQ_SID, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = FQ_ATS_SID, .ats = true, .pasid_bits = 20, .devtlb = {.sets = 1, .ways = 32}};
    int rc = vtd_iommu_add_device(io, &plain);
    if (!rc)
        rc = vtd_iommu_add_device(io, &ats);
    if (rc) {
        vtd_iommu_free(io);
        io = NULL;
        fuzz_fail(why, why_len, "adding the devices failed: %d", rc);
    }
    return io;
}

static void fq_free(struct fq_state *s) { world_fini(&s->w); }

/* The tables of fuzz_qi_input.h in the (empty) IOMMU's memory. */
static int fq_setup(struct fq_state *s, char *why, size_t why_len)
{
    *s = (struct fq_state){.io = fq_iommu(why, why_len)};
    if (!s->io)
        return -1;
    struct vtd_pasid_cfg cfg;
    int rc = world_init_mem(&s->w, vtd_iommu_caps(s->io), vtd_iommu_mem(s->io));
    if (!rc)
        rc = world_device(&s->w, FQ_SID, &s->ctx);
    if (!rc)
        rc = world_device(&s->w, FQ_ATS_SID, &s->ats_ctx);
    if (!rc)
        rc = world_pasid(&s->w, &s->ctx, 1, VTD_PGTT_FS, 4, 0, &s->fs, NULL, &cfg);
    if (!rc)
        rc = vtd_pt_map(&s->fs, 0x10000, 0x80000, 0x4000, 12, FQ_RWU, 0);
    if (!rc)
        rc = world_pasid(&s->w, &s->ctx, 2, VTD_PGTT_SS, 4, 0, NULL, &s->ss, &cfg);
    if (!rc)
        rc = vtd_pt_map(&s->ss, 0x10000, 0x90000, 0x4000, 12, VTD_PERM_R | VTD_PERM_W, 0);
    if (!rc)
        rc = world_pasid(&s->w, &s->ats_ctx, 5, VTD_PGTT_NESTED, 4, 4, &s->nfs, &s->nss, &cfg);
    if (!rc)
        rc = vtd_pt_map(&s->nfs, 0x10000000, 0x2000000 - 0x100000, 0x2000, 12, FQ_RWU, VTD_MAP_AD);
    if (!rc)
        rc = world_pasid(&s->w, &s->ats_ctx, 0, VTD_PGTT_PT, 0, 0, NULL, NULL, &cfg);
    if (rc) {
        fq_free(s);
        return fuzz_fail(why, why_len, "setup failed: %d", rc);
    }
    vtd_iommu_set_root(s->io, s->w.rtaddr);
    return 0;
}

/* The DMAs that fill the caches. */
#define FQ_NDMAS 9u

/* DMA i (mod FQ_NDMAS) of the list; its outcome must be 0 or a known fault. */
static int fq_dma(struct fq_state *s, size_t i, char *why, size_t why_len)
{
    const struct {
        uint16_t sid;
        int32_t pasid;
        uint64_t addr;
        unsigned access;
    } dmas[FQ_NDMAS] = {
        {FQ_SID, 1, 0x10000, VTD_ACC_R},    {FQ_SID, 1, 0x11008, VTD_ACC_W},  {FQ_SID, 1, 0x13000, VTD_ACC_R},
        {FQ_SID, 2, 0x10000, VTD_ACC_R},    {FQ_SID, 2, 0x12000, VTD_ACC_W},  {FQ_ATS_SID, 5, 0x10000000, VTD_ACC_R},
        {FQ_ATS_SID, 5, 0x10001000, VTD_ACC_W}, {FQ_ATS_SID, -1, 0x5000, VTD_ACC_R}, {FQ_SID, 1, 0x10000, VTD_ACC_R},
    };
    i %= FQ_NDMAS;
    struct vtd_request req = {.sid = dmas[i].sid, .pasid_valid = dmas[i].pasid >= 0,
                              .pasid = dmas[i].pasid >= 0 ? (uint32_t)dmas[i].pasid : 0,
                              .addr = dmas[i].addr, .access = dmas[i].access};
    struct vtd_dma_result res;
    int rc = vtd_iommu_dma(s->io, &req, &res);
    if (rc && !vtd_fault_known(rc))
        return fuzz_fail(why, why_len, "DMA %zu: unknown fault code 0x%x", i, rc);
    return 0;
}

static int fq_dmas(struct fq_state *s, char *why, size_t why_len)
{
    for (size_t i = 0; i < FQ_NDMAS; i++)
        if (fq_dma(s, i, why, why_len))
            return -1;
    return 0;
}

static uint64_t fq_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int fq_check_text(const char *text, size_t cap, const char *what, char *why, size_t why_len)
{
    if (memchr(text, '\0', cap) == NULL)
        return fuzz_fail(why, why_len, "%s is not terminated", what);
    return 0;
}

/* The direct phase: every record through vtd_qi_submit. */
static int fq_direct(struct fq_state *s, const uint8_t *d, size_t n, bool refill, char *why, size_t why_len)
{
    size_t off = 0, ndesc = 0;
    while (off < n) {
        uint8_t ctl = d[off++];
        unsigned nqw = (ctl & 0x40) ? (ctl & 7u) : (ctl & 0x80) ? 4u : 2u;
        /* Bytes for the qwords the record claims (zero-filled past the input's end). */
        unsigned have = nqw;
        uint64_t *desc = malloc(nqw ? 8u * nqw : 1u);
        if (!desc)
            return fuzz_fail(why, why_len, "out of memory");
        for (unsigned i = 0; i < have; i++) {
            uint8_t b[8] = {0};
            for (unsigned k = 0; k < 8 && off < n; k++)
                b[k] = d[off++];
            desc[i] = fq_le64(b);
        }
        struct vtd_qi_result r;
        char text[160];
        memset(&r, 0x5a, sizeof r);
        int rc = vtd_qi_submit(s->io, desc, nqw, &r);
        if (nqw == 2 || nqw == 4) {
            vtd_qi_describe(desc, nqw, text, sizeof text);
            if (fq_check_text(text, sizeof text, "vtd_qi_describe's text", why, why_len)) {
                free(desc);
                return -1;
            }
        }
        uint64_t qw0 = nqw ? desc[0] : 0;
        free(desc);
        if (rc == 0 && r.error != 0)
            return fuzz_fail(why, why_len, "accepted (qw0 0x%llx) with error %d", (unsigned long long)qw0, r.error);
        if (rc != 0 && rc != -EINVAL)
            return fuzz_fail(why, why_len, "vtd_qi_submit returned %d", rc);
        if (rc == -EINVAL) {
            if (fq_check_text(r.why, sizeof r.why, "r.why", why, why_len))
                return -1;
            if (r.error == 0 || r.why[0] == '\0')
                return fuzz_fail(why, why_len, "rejected (qw0 0x%llx, nqw %u) without error code or reason",
                               (unsigned long long)qw0, nqw);
        }
        /* One DMA per accepted descriptor, in turn through the list: all nine after each one
         * made the long inputs cost ~100 oracle-checked DMAs and the target ran a few hundred
         * per second. A refused descriptor invalidated nothing (every refusal of qi.c is a check
         * made before the descriptor acts), so a DMA after it would only repeat what the caches
         * already answered; the grown corpus averaged 130 records an input, mostly refused. */
        if (refill && rc == 0 && fq_dma(s, ndesc++, why, why_len))
            return -1;
    }
    return 0;
}

static int fq_reg_write(struct fq_state *s, unsigned off, unsigned size, uint64_t val, char *why, size_t why_len)
{
    int rc = vtd_iommu_reg_write(s->io, off, size, val);
    return rc ? fuzz_fail(why, why_len, "register write 0x%x failed: %d", off, rc) : 0;
}

static uint64_t fq_reg(struct fq_state *s, unsigned off, unsigned size)
{
    uint64_t v = 0;
    vtd_iommu_reg_read(s->io, off, size, &v);
    return v;
}

/* The queue phase: the bytes as an invalidation queue in memory, run through the registers. */
static int fq_queue(struct fq_state *s, uint8_t flags, uint64_t iqt, const uint8_t *d, size_t n, char *why,
                    size_t why_len)
{
    unsigned qs = (flags >> 3) & 7;
    uint64_t size = UINT64_C(4096) << qs;
    if (n > size)
        n = (size_t)size;
    if (n && vtd_mem_write(vtd_iommu_mem(s->io), FQ_QUEUE_BASE, d, n))
        return fuzz_fail(why, why_len, "cannot write the queue");
    uint64_t iqa = FQ_QUEUE_BASE | ((flags & 4) ? VTD_IQA_DW : 0) | qs;
    if (fq_reg_write(s, VTD_REG_IQA, 8, iqa, why, why_len) ||
        fq_reg_write(s, VTD_REG_GCMD, 4, VTD_GCMD_TE | VTD_GCMD_QIE, why, why_len) ||
        fq_reg_write(s, VTD_REG_IQT, 8, iqt, why, why_len))
        return -1;
    for (unsigned resumes = 0;; resumes++) {
        uint64_t fsts = fq_reg(s, VTD_REG_FSTS, 4), iqh = fq_reg(s, VTD_REG_IQH, 8);
        if ((iqh & VTD_IQH_QH) >= size || (iqh & ~VTD_IQH_QH))
            return fuzz_fail(why, why_len, "IQH 0x%llx outside a queue of %llu bytes", (unsigned long long)iqh,
                           (unsigned long long)size);
        if (!(fsts & VTD_FSTS_IQE)) {
            if ((iqh & VTD_IQH_QH) != (fq_reg(s, VTD_REG_IQT, 8) & VTD_IQT_QT))
                return fuzz_fail(why, why_len, "queue stopped at IQH 0x%llx before IQT without an error",
                               (unsigned long long)iqh);
            break;
        }
        if (!vtd_field(fq_reg(s, VTD_REG_IQERCD, 8), VTD_IQERCD_IQEI))
            return fuzz_fail(why, why_len, "IQE set with IQERCD.IQEI 0");
        if (!(flags & 0x80) || resumes >= FQ_MAX_RESUMES)
            break;
        if (fq_reg_write(s, VTD_REG_FSTS, 4, VTD_FSTS_IQE, why, why_len))
            return -1;
    }
    return fq_dmas(s, why, why_len);
}

int fuzz_qi_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    struct fq_state s;
    if (fq_setup(&s, why, why_len))
        return -1;
    uint8_t flags = size > 0 ? data[0] : 0;
    uint64_t iqt = (size > 1 ? data[1] : 0) | (uint64_t)(size > 2 ? data[2] : 0) << 8;
    const uint8_t *d = size > FQ_HDR_LEN ? data + FQ_HDR_LEN : data;
    size_t n = size > FQ_HDR_LEN ? size - FQ_HDR_LEN : 0;
    int ret = fq_dmas(&s, why, why_len);
    if (!ret && (flags & 1))
        ret = fq_direct(&s, d, n, flags & 0x40, why, why_len);
    if (!ret && (flags & 2))
        ret = fq_queue(&s, flags, (iqt << 4) & VTD_IQT_QT, d, n, why, why_len);
    fq_free(&s);
    return ret;
}
