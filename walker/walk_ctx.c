/*
 * walk_ctx.c: the device and PASID stages of the walk: root entry, scalable-mode context entry,
 * PASID directory entry and PASID table entry (VT-d 3.4.3 and 9.1-9.6).
 */
#include <string.h>

#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "walker/walk_internal.h"

/* Root-table address from RTADDR_REG, or 0 with a fault when the register is unusable. */
static int root_table_addr(const struct vtd_walk_env *env, uint64_t *rta, struct vtd_fault_info *f)
{
    uint64_t reg = env->rtaddr;
    *rta = reg & VTD_RTADDR_RTA;
    /* Legacy mode (00b) went to vtd_legacy_ctx_fetch(); the reserved encodings are rejected. */
    if (vtd_field(reg, VTD_RTADDR_TTM) != VTD_TTM_SCALABLE || (reg & VTD_RTADDR_RSVD) ||
        (*rta & vtd_bits_above(env->caps->haw)))
        return walk_fault(f, VTD_FR_RTADDR_INVALID, *rta, 0);
    return 0;
}

/* A root, context or PASID structure word on the path the walk chose (walk_is_lean), counted
 * as walk_read64() counts it. */
static inline int walk_entry_read64(struct vtd_walk_env *env, bool lean, unsigned kind, uint64_t addr, uint64_t *val)
{
    if (!lean)
        return walk_read64(env, kind, 0, addr, val);
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
    return walk_read64_lean(env, kind, 0, addr, val);
}

/*
 * On the lean path, the bytes of the `len`-byte entry at `addr` where they lie in a
 * remembered frame, counted as walk_read_qwords() counts its read; NULL when the entry must
 * be read the checked way (and nothing is counted). The remembered decodes compare these
 * bytes in place: no copy of the entry on the usual path.
 */
static inline const uint8_t *walk_entry_in_frame(struct vtd_walk_env *env, bool lean, unsigned kind, uint64_t addr,
                                                 size_t len)
{
    if (!lean || (addr & 0xfff) + len > 0x1000)
        return NULL;
    const struct vtd_walk_frame *fr = env->host.frames[kind][0];
    uint64_t tag = walk_frame_tag(addr);
    const uint8_t *frame = fr[0].tag == tag ? fr[0].frame : fr[1].tag == tag ? fr[1].frame : NULL;
    if (!frame)
        return NULL;
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
    return frame + (addr & 0xfff);
}

static int root_entry_fetch(struct vtd_walk_env *env, bool lean, uint64_t rta, uint16_t sid, uint64_t *ctp,
                            struct vtd_fault_info *f)
{
    uint8_t devfn = sid & 0xff;
    uint64_t addr = vtd_root_entry_addr(rta, (uint8_t)(sid >> 8)) + (devfn & 0x80 ? 8 : 0);
    uint64_t half;
    if (walk_entry_read64(env, lean, VTD_TR_ROOT, addr, &half))
        return walk_fault(f, VTD_FR_ROOT_ACCESS, addr, 0);
    if (!(half & VTD_ROOT_P))
        return walk_fault(f, VTD_FR_ROOT_P, addr, 0);
    if (half & vtd_root_entry_rsvd_mask(env->caps->haw))
        return walk_fault(f, VTD_FR_ROOT_RSVD, addr, 0);
    *ctp = half & VTD_ROOT_CTP;
    return 0;
}

/* Whether a remembered entry of n qwords and the bytes `b` (little-endian, as simulated memory)
 * are the same (one test, no early exit). */
static inline __attribute__((always_inline)) bool same_qwords(const uint64_t *a, const uint8_t *b, unsigned n)
{
    uint64_t diff = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t q;
        __builtin_memcpy(&q, b + 8 * i, 8);
        diff |= a[i] ^ q;
    }
    return diff == 0;
}

static bool same_caps(const struct vtd_caps *a, const struct vtd_caps *b)
{
    return a->cap == b->cap && a->ecap == b->ecap && a->haw == b->haw;
}

/* ctx_entry_decode() of the entry whose bytes are `raw`, or the remembered decode of the same
 * bytes (struct vtd_walk_decoded). */
static int ctx_entry_decode_remembered(struct vtd_walk_env *env, const uint8_t *raw, struct vtd_ctx *out)
{
    struct vtd_walk_decoded *d = &env->host.decoded;
    if (d->ctx_valid && same_qwords(d->ctx_raw.qw, raw, 4) && same_caps(&d->ctx_caps, env->caps)) {
        *out = d->ctx;
        return 0;
    }
    struct vtd_ctx_entry e;
    const struct vtd_ctx_entry *ce = &e;
    memcpy(e.qw, raw, sizeof e.qw);
    int rc = ctx_entry_decode(ce, env->caps, out);
    if (!rc) {
        d->ctx_raw = *ce;
        d->ctx = *out;
        d->ctx_caps = *env->caps;
        d->ctx_valid = true;
    }
    return rc;
}

/* pasid_entry_decode() of the entry whose bytes are `raw`, or the remembered decode of the same
 * bytes (struct vtd_walk_decoded). */
static int pasid_entry_decode_remembered(struct vtd_walk_env *env, const uint8_t *raw, struct vtd_pasid_cfg *out)
{
    struct vtd_walk_decoded *d = &env->host.decoded;
    if (d->pe_valid && same_qwords(d->pe_raw.qw, raw, 8) && same_caps(&d->pe_caps, env->caps)) {
        *out = d->pe;
        return 0;
    }
    struct vtd_pasid_entry e;
    const struct vtd_pasid_entry *pe = &e;
    memcpy(e.qw, raw, sizeof e.qw);
    int rc = pasid_entry_decode(pe, env->caps, out);
    if (!rc) {
        d->pe_raw = *pe;
        d->pe = *out;
        d->pe_caps = *env->caps;
        d->pe_valid = true;
    }
    return rc;
}

int vtd_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f)
{
    if (vtd_rtaddr_is_legacy(env->rtaddr))
        return vtd_legacy_ctx_fetch(env, sid, out, f);
    uint64_t rta, ctp;
    bool lean = walk_is_lean(env);
    int rc = root_table_addr(env, &rta, f);
    if (!rc)
        rc = root_entry_fetch(env, lean, rta, sid, &ctp, f);
    if (rc)
        return rc;
    uint64_t addr = vtd_ctx_entry_addr(ctp, sid & 0xff);
    const uint8_t *raw = walk_entry_in_frame(env, lean, VTD_TR_CTX, addr, sizeof(struct vtd_ctx_entry));
    struct vtd_ctx_entry ce;
    if (!raw) {
        if (walk_read_qwords(env, VTD_TR_CTX, addr, ce.qw, 4))
            return walk_fault(f, VTD_FR_CTX_ACCESS, addr, 0);
        raw = (const uint8_t *)ce.qw;
    }
    rc = ctx_entry_decode_remembered(env, raw, out);
    return rc ? walk_fault(f, rc, addr, 0) : 0;
}

int vtd_pasid_fetch(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid, struct vtd_pasid_cfg *out,
                    struct vtd_fault_info *f)
{
    *out = (struct vtd_pasid_cfg){0};
    if (!vtd_ctx_pasid_in_range(ctx, pasid))
        return walk_fault(f, VTD_FR_CTX_PDTS, 0, 0);
    bool lean = walk_is_lean(env);
    uint64_t daddr = vtd_pasid_dir_entry_addr(ctx->pdtp, pasid), pde;
    if (walk_entry_read64(env, lean, VTD_TR_PDIR, daddr, &pde))
        return walk_fault(f, VTD_FR_PDIR_ACCESS, daddr, 0);
    if (!(pde & VTD_PDIR_P))
        return walk_fault(f, VTD_FR_PDIR_P, daddr, 0);
    if (pde & vtd_pasid_dir_rsvd_mask(env->caps->haw))
        return walk_fault(f, VTD_FR_PDIR_RSVD, daddr, 0);
    bool dir_fpd = pde & VTD_PDIR_FPD;
    uint64_t paddr = vtd_pasid_entry_addr(pde & VTD_PDIR_PTP, pasid);
    const uint8_t *raw = walk_entry_in_frame(env, lean, VTD_TR_PASID, paddr, sizeof(struct vtd_pasid_entry));
    struct vtd_pasid_entry pe;
    int rc = 0;
    if (!raw) {
        rc = walk_read_qwords(env, VTD_TR_PASID, paddr, pe.qw, 8) ? VTD_FR_PASID_ACCESS : 0;
        raw = (const uint8_t *)pe.qw;
    }
    if (!rc)
        rc = pasid_entry_decode_remembered(env, raw, out);
    if (rc) {
        walk_fault(f, rc, paddr, 0);
        f->suppressed = dir_fpd && vtd_fault_qualified(rc);
        return rc;
    }
    /* The directory's FPD covers everything translated through it (VT-d 7.1.4). */
    out->fpd = out->fpd || dir_fpd;
    return 0;
}

int vtd_pasid_request_check(const struct vtd_caps *caps, const struct vtd_pasid_cfg *pe, const struct vtd_request *req)
{
    if (!vtd_pgtt_uses_fs(pe->pgtt))
        return 0;
    if (req->priv && !pe->sre)
        return VTD_FR_PASID_SRE;
    if ((req->access & VTD_ACC_X) && vtd_ecap_has(caps, VTD_ECAP_ERS) && !pe->ere)
        return VTD_FR_PASID_ERE;
    return 0;
}
