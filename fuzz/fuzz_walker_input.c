/*
 * fuzz_walker_input.c: the walker over arbitrary memory contents (layout: fuzz_walker_input.h).
 *
 * Properties checked for every input, beyond "no crash, no sanitizer report":
 *   - the outcome is 0 or a known fault code, and x.fault.code agrees with the return value;
 *   - the walk terminates within FW_MAX_READS structure reads, every read and A/D write is in
 *     the trace (which never overflows: FW_MAX_READS plus the A/D writes < VTD_TRACE_MAX);
 *   - a dry run writes nothing (no A/D write counted, memory and frame count unchanged);
 *   - the dry run and the real run give the same outcome, unless the real run read back a
 *     word it had itself updated (structures that alias each other: then the A/D update
 *     legitimately changes what the rest of the walk sees);
 *   - a translation has a page size of 4 KiB, 2 MiB or 1 GiB, permissions within
 *     VTD_PERM_ALL and an output address below 2^HAW.
 */
#include "fuzz_walker_input.h"
#include "fuzz_why.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walker/caps.h"
#include "walker/fault.h"
#include "walker/mem.h"
#include "walker/root_entry.h"
#include "walker/walk.h"

#define FW_PAGE 4096u
#define FW_MAX_FRAMES 64u

struct fw_reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t fw_byte(const struct fw_reader *r, size_t off) { return off < r->n ? r->p[off] : 0; }

static uint64_t fw_le(const struct fw_reader *r, size_t off, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)fw_byte(r, off + i) << (8 * i);
    return v;
}

/* Frames written (to check that a dry run leaves them alone). */
struct fw_frames {
    uint64_t pa[FW_MAX_FRAMES];
    unsigned n;
};

static void fw_note_frame(struct fw_frames *f, uint64_t pa)
{
    uint64_t frame = pa & ~(uint64_t)(FW_PAGE - 1);
    for (unsigned i = 0; i < f->n; i++)
        if (f->pa[i] == frame)
            return;
    if (f->n < FW_MAX_FRAMES)
        f->pa[f->n++] = frame;
}

static void fw_write(struct vtd_mem *m, struct fw_frames *f, uint64_t pa, const void *buf, size_t len)
{
    /* Writes past HAW fail and leave memory alone: the walker then meets zeros or errors. */
    if (vtd_mem_write(m, pa, buf, len) == 0) {
        fw_note_frame(f, pa);
        fw_note_frame(f, pa + len - 1);
    }
}

static void fw_caps(const struct fw_reader *r, struct vtd_caps *c)
{
    vtd_caps_default(c);
    c->haw = 32 + fw_byte(r, 0) % 21;
    const uint64_t cap_bits[7] = {VTD_CAP_SSLPS_2M, VTD_CAP_SSLPS_1G, VTD_CAP_FS1GP, VTD_CAP_FS5LP,
                                         vtd_field_prep(VTD_SAGAW_39, VTD_CAP_SAGAW),
                                         vtd_field_prep(VTD_SAGAW_48, VTD_CAP_SAGAW),
                                         vtd_field_prep(VTD_SAGAW_57, VTD_CAP_SAGAW)};
    uint8_t b1 = fw_byte(r, 1), b2 = fw_byte(r, 2), b3 = fw_byte(r, 3);
    for (unsigned i = 0; i < 7; i++)
        if (b1 & (1u << i))
            c->cap ^= cap_bits[i];
    if (b1 & 0x80)
        vtd_caps_set_field(&c->cap, VTD_CAP_MGAW, 48 - 1);
    static const uint64_t ecap_bits[12] = {VTD_ECAP_ERS, VTD_ECAP_SRS, VTD_ECAP_EAFS, VTD_ECAP_NEST,
                                           VTD_ECAP_PT, VTD_ECAP_SSADS, VTD_ECAP_DT, VTD_ECAP_PRS,
                                           VTD_ECAP_MTS, VTD_ECAP_FSTS, VTD_ECAP_SSTS, VTD_ECAP_PASID};
    unsigned toggles = b2 | (unsigned)(b3 & 0x0f) << 8;
    for (unsigned i = 0; i < 12; i++)
        if (toggles & (1u << i))
            c->ecap ^= ecap_bits[i];
    vtd_caps_set_field(&c->cap, VTD_CAP_ND, 6 - ((b3 >> 4) & 3));
}

static void fw_request(const struct fw_reader *r, struct vtd_request *req)
{
    uint8_t b7 = fw_byte(r, 7);
    *req = (struct vtd_request){
        .sid = (uint16_t)fw_le(r, 8, 2),
        .pasid_valid = b7 & 1,
        .pasid = (uint32_t)fw_le(r, 10, 3),
        .addr = fw_le(r, 13, 8),
        .access = ((b7 >> 2) & 7) | ((b7 & 0x20) ? VTD_ACC_NOCHECK : 0),
        .priv = (b7 >> 1) & 1,
        .kind = (enum vtd_req_kind)(((b7 >> 6) & 3) % 3),
    };
}

/* Address of fixed page `i` (root, context, PASID table, PASID directory, page-table pages). */
static uint64_t fw_page(unsigned i)
{
    switch (i) {
    case 0: return FW_ROOT;
    case 1: return FW_CTX;
    case 2: return FW_PASIDT;
    case 3: return FW_PDIR;
    default: return FW_PT(i - 4);
    }
}

/* Lay out memory from the input. */
static void fw_memory(const struct fw_reader *r, const struct vtd_request *req, struct vtd_mem *m,
                      struct fw_frames *frames)
{
    unsigned npages = 4 + 1 + fw_byte(r, 5) % FW_MAX_PT;
    uint8_t ent[FW_ENT_LEN];
    for (unsigned i = 0; i < FW_ENT_LEN; i++)
        ent[i] = fw_byte(r, FW_HDR_LEN + i);
    /* The PASID the walk will use: the request's, or RID_PASID (context qw1 bits 19:0). */
    uint32_t pasid = req->pasid;
    if (!req->pasid_valid)
        pasid = (uint32_t)(ent[16 + 8] | ent[16 + 9] << 8 | (ent[16 + 10] & 0x0f) << 16);
    fw_write(m, frames, FW_ROOT + (uint64_t)(req->sid >> 8) * 16, ent, 16);
    fw_write(m, frames, FW_CTX + (uint64_t)(req->sid & 0x7f) * 32, ent + 16, 32);
    fw_write(m, frames, FW_PDIR + (uint64_t)((pasid >> 6) & 0x3fff) * 8, ent + 48, 8);
    fw_write(m, frames, FW_PASIDT + (uint64_t)(pasid & 63) * 64, ent + 56, 64);
    for (size_t off = FW_HDR_LEN + FW_ENT_LEN; off + FW_REC_LEN <= r->n; off += FW_REC_LEN) {
        unsigned page = fw_byte(r, off) % npages;
        unsigned slot = (unsigned)fw_le(r, off + 1, 2) % 512;
        uint8_t val[8];
        memcpy(val, r->p + off + 3, 8);
        fw_write(m, frames, fw_page(page) + 8 * (uint64_t)slot, val, 8);
    }
    unsigned abort_flags = fw_byte(r, 3) >> 6;
    if (abort_flags)
        vtd_mem_set_abort(m, fw_page(fw_byte(r, 4) % npages), FW_PAGE, abort_flags);
    /* Nothing the walk does needs a new frame (A/D updates hit entries already present). */
    vtd_mem_set_frame_limit(m, vtd_mem_frames(m));
}

/* Copy every written frame (to compare after the dry run). */
static void fw_snapshot(struct vtd_mem *m, const struct fw_frames *f, uint8_t *buf)
{
    for (unsigned i = 0; i < f->n; i++)
        if (vtd_mem_read(m, f->pa[i], buf + (size_t)i * FW_PAGE, FW_PAGE))
            memset(buf + (size_t)i * FW_PAGE, 0xA5, FW_PAGE); /* an aborted page: compare the marker */
}

/* Whether the walk read a word back after updating it itself (aliased structures). */
static bool fw_read_after_write(const struct vtd_trace *t)
{
    for (unsigned j = 0; j < t->n; j++) {
        if (t->rec[j].write)
            continue;
        for (unsigned i = 0; i < j; i++)
            if (t->rec[i].write && (t->rec[i].addr & ~UINT64_C(7)) == (t->rec[j].addr & ~UINT64_C(7)))
                return true;
    }
    return false;
}

/* Invariants of one run. */
static int fw_check_run(const char *name, const struct vtd_walk_env *env, const struct vtd_trace *t, int rc,
                        const struct vtd_xlate *x, const struct vtd_caps *caps, char *why, size_t why_len)
{
    if (rc != x->fault.code)
        return fuzz_fail(why, why_len, "%s: returned 0x%x but x.fault.code is 0x%x", name, rc, x->fault.code);
    if (rc != 0 && !vtd_fault_known(rc))
        return fuzz_fail(why, why_len, "%s: unknown fault code 0x%x", name, rc);
    if (env->cnt.reads > FW_MAX_READS)
        return fuzz_fail(why, why_len, "%s: %u structure reads, bound %u", name, env->cnt.reads, FW_MAX_READS);
    if (t->dropped || t->n != env->cnt.reads + env->cnt.ad_writes)
        return fuzz_fail(why, why_len, "%s: trace has %u records (%u dropped) for %u reads and %u A/D writes", name,
                       t->n, t->dropped, env->cnt.reads, env->cnt.ad_writes);
    if (rc)
        return 0;
    if (x->page_shift != 12 && x->page_shift != 21 && x->page_shift != 30)
        return fuzz_fail(why, why_len, "%s: page shift %u", name, x->page_shift);
    if (x->perm & ~VTD_PERM_ALL)
        return fuzz_fail(why, why_len, "%s: permissions 0x%x", name, x->perm);
    if (x->out >> caps->haw)
        return fuzz_fail(why, why_len, "%s: output 0x%llx beyond HAW %u", name, (unsigned long long)x->out, caps->haw);
    return 0;
}

static int fw_compare(int rc_dry, const struct vtd_xlate *d, int rc, const struct vtd_xlate *x, char *why,
                      size_t why_len)
{
    if (rc_dry != rc)
        return fuzz_fail(why, why_len, "dry run returned 0x%x, real run 0x%x", rc_dry, rc);
    if (rc)
        return d->fault.addr != x->fault.addr || d->fault.level != x->fault.level ||
                       d->fault.suppressed != x->fault.suppressed
                   ? fuzz_fail(why, why_len, "fault 0x%x: dry run at 0x%llx level %u suppressed %d, real run at "
                             "0x%llx level %u suppressed %d", rc, (unsigned long long)d->fault.addr, d->fault.level,
                             d->fault.suppressed, (unsigned long long)x->fault.addr, x->fault.level,
                             x->fault.suppressed)
                   : 0;
    if (d->out != x->out || d->page_shift != x->page_shift || d->perm != x->perm || d->dirty != x->dirty ||
        d->did != x->did || d->pasid != x->pasid || d->pgtt != x->pgtt || d->priv != x->priv)
        return fuzz_fail(why, why_len, "dry run 0x%llx/%u perm %x dirty %d, real run 0x%llx/%u perm %x dirty %d",
                       (unsigned long long)d->out, d->page_shift, d->perm, d->dirty, (unsigned long long)x->out,
                       x->page_shift, x->perm, x->dirty);
    return 0;
}

/*
 * Empty memory of `haw` bits. One instance per width lives for the whole process and is reset
 * per input: creating it each time cost more than the walks (64 KiB index nodes cleared and
 * page-faulted in, 8,192 free() calls per node under ASan). After the reset it is exactly what
 * vtd_mem_new returns, so an input replays alone with the same result.
 */
static struct vtd_mem *fw_mem(unsigned haw)
{
    static struct vtd_mem *by_haw[64];
    if (haw >= sizeof by_haw / sizeof by_haw[0])
        return NULL;
    if (by_haw[haw])
        vtd_mem_reset(by_haw[haw]);
    else
        by_haw[haw] = vtd_mem_new(haw);
    return by_haw[haw];
}

int fuzz_walker_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    struct fw_reader r = {data, size};
    struct vtd_caps caps;
    struct vtd_request req;
    fw_caps(&r, &caps);
    fw_request(&r, &req);
    struct vtd_mem *m = fw_mem(caps.haw);
    if (!m)
        return fuzz_fail(why, why_len, "vtd_mem_new(%u) failed", caps.haw);
    struct fw_frames frames = {.n = 0};
    fw_memory(&r, &req, m, &frames);
    uint8_t b6 = fw_byte(&r, 6);
    uint64_t rtaddr = FW_ROOT | vtd_field_prep(1u ^ (b6 & 3u), VTD_RTADDR_TTM) | ((b6 & 4) ? 1 : 0);

    static struct vtd_trace trace;
    static struct vtd_xlate xd, x;
    static uint8_t before[FW_MAX_FRAMES * FW_PAGE], after[FW_MAX_FRAMES * FW_PAGE];
    struct vtd_walk_env env;
    int ret = 0;

    /* The dry run first, on memory nobody has updated yet. */
    fw_snapshot(m, &frames, before);
    size_t nframes = vtd_mem_frames(m);
    vtd_walk_env_init(&env, m, &caps, rtaddr);
    trace.n = trace.dropped = 0;
    env.trace = &trace;
    env.dry_run = true;
    int rc_dry = vtd_translate(&env, &req, &xd);
    ret = fw_check_run("dry run", &env, &trace, rc_dry, &xd, &caps, why, why_len);
    fw_snapshot(m, &frames, after);
    if (!ret && env.cnt.ad_writes)
        ret = fuzz_fail(why, why_len, "dry run counted %u A/D writes", env.cnt.ad_writes);
    if (!ret && (vtd_mem_frames(m) != nframes || memcmp(before, after, (size_t)frames.n * FW_PAGE)))
        ret = fuzz_fail(why, why_len, "dry run changed memory");

    if (!ret) {
        vtd_walk_env_init(&env, m, &caps, rtaddr);
        trace.n = trace.dropped = 0;
        env.trace = &trace;
        int rc = vtd_translate(&env, &req, &x);
        ret = fw_check_run("real run", &env, &trace, rc, &x, &caps, why, why_len);
        if (!ret && !fw_read_after_write(&trace))
            ret = fw_compare(rc_dry, &xd, rc, &x, why, why_len);
    }
    return ret;
}
