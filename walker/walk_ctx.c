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

/* The root entry half for `sid` (its address in *addr, its value in *half), checked. */
static int root_entry_fetch(struct vtd_walk_env *env, bool lean, uint64_t rta, uint16_t sid, uint64_t *addr,
                            uint64_t *half, struct vtd_fault_info *f)
{
    uint8_t devfn = sid & 0xff;
    *addr = vtd_root_entry_addr(rta, (uint8_t)(sid >> 8)) + (devfn & 0x80 ? 8 : 0);
    if (walk_entry_read64(env, lean, VTD_TR_ROOT, *addr, half))
        return walk_fault(f, VTD_FR_ROOT_ACCESS, *addr, 0);
    if (!(*half & VTD_ROOT_P))
        return walk_fault(f, VTD_FR_ROOT_P, *addr, 0);
    if (*half & vtd_root_entry_rsvd_mask(env->caps->haw))
        return walk_fault(f, VTD_FR_ROOT_RSVD, *addr, 0);
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

/* The bytes of the `len`-byte entry at `addr` in its frame of host memory, or NULL (no frame, or
 * an entry crossing the frame's end). */
static const uint8_t *entry_bytes(struct vtd_walk_env *env, uint64_t addr, size_t len)
{
    const uint8_t *frame = vtd_mem_frame_for_read(env->mem, addr);
    return frame && (addr & 0xfff) + len <= 0x1000 ? frame + (addr & 0xfff) : NULL;
}

/* A lean fetch's read answered from the memo: counted as walk_entry_read64() counts it. */
static inline void count_entry_read(struct vtd_walk_env *env, unsigned kind)
{
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
}

/* Whether the memo holds the context fetch for `sid` with the current RTADDR and capabilities,
 * and its root and context entries still hold the bytes it found (struct vtd_walk_dev_memo). */
static inline bool ctx_memo_serves(const struct vtd_walk_env *env, const struct vtd_walk_dev_memo *m, uint16_t sid)
{
    if (!m->ctx_valid || m->sid != sid || m->rtaddr != env->rtaddr || !same_caps(&m->ctx_caps, env->caps))
        return false;
    uint64_t root;
    __builtin_memcpy(&root, m->root_at, 8); /* little-endian host, as mem.c */
    return (root == m->root_val) & same_qwords(m->ctx_raw.qw, m->ctx_at, 4);
}

/* Remember a lean context fetch that answered `ctx` from the root entry half `root` at
 * `root_addr` and the context entry bytes `raw` at `addr`: kept when memory still holds them. */
static void ctx_memo_fill(struct vtd_walk_env *env, uint16_t sid, uint64_t root_addr, uint64_t root, uint64_t addr,
                          const uint8_t *raw, const struct vtd_ctx *ctx)
{
    struct vtd_walk_dev_memo *m = &env->host.dev_memo;
    m->ctx_valid = false;
    m->root_at = entry_bytes(env, root_addr, 8);
    m->ctx_at = entry_bytes(env, addr, sizeof(struct vtd_ctx_entry));
    if (!m->root_at || !m->ctx_at)
        return;
    __builtin_memcpy(&m->root_val, m->root_at, 8);
    __builtin_memcpy(m->ctx_raw.qw, m->ctx_at, sizeof m->ctx_raw.qw);
    if (m->root_val != root || !same_qwords(m->ctx_raw.qw, raw, 4))
        return; /* changed since the fetch read it */
    m->sid = sid;
    m->rtaddr = env->rtaddr;
    m->ctx_caps = *env->caps;
    m->ctx = *ctx;
    m->ctx_valid = true;
}

int vtd_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f)
{
    if (vtd_rtaddr_is_legacy(env->rtaddr))
        return vtd_legacy_ctx_fetch(env, sid, out, f);
    bool lean = walk_is_lean(env);
    if (lean && ctx_memo_serves(env, &env->host.dev_memo, sid)) {
        count_entry_read(env, VTD_TR_ROOT);
        count_entry_read(env, VTD_TR_CTX);
        *out = env->host.dev_memo.ctx;
        return 0;
    }
    uint64_t rta, root_addr, root;
    int rc = root_table_addr(env, &rta, f);
    if (!rc)
        rc = root_entry_fetch(env, lean, rta, sid, &root_addr, &root, f);
    if (rc)
        return rc;
    uint64_t addr = vtd_ctx_entry_addr(root & VTD_ROOT_CTP, sid & 0xff);
    const uint8_t *raw = walk_entry_in_frame(env, lean, VTD_TR_CTX, addr, sizeof(struct vtd_ctx_entry));
    struct vtd_ctx_entry ce;
    if (!raw) {
        if (walk_read_qwords(env, VTD_TR_CTX, addr, ce.qw, 4))
            return walk_fault(f, VTD_FR_CTX_ACCESS, addr, 0);
        raw = (const uint8_t *)ce.qw;
    }
    rc = ctx_entry_decode_remembered(env, raw, out);
    if (rc)
        return walk_fault(f, rc, addr, 0);
    if (lean)
        ctx_memo_fill(env, sid, root_addr, root, addr, raw, out);
    return 0;
}

/* Whether the memo holds the PASID fetch of `pasid` from the directory at `pdtp` with the
 * current capabilities, and its directory and table entries still hold the bytes it found. */
static inline bool pasid_memo_serves(const struct vtd_walk_env *env, const struct vtd_walk_dev_memo *m,
                                     uint64_t pdtp, uint32_t pasid)
{
    if (!m->pe_valid || m->pasid != pasid || m->pdtp != pdtp || !same_caps(&m->pe_caps, env->caps))
        return false;
    uint64_t pde;
    __builtin_memcpy(&pde, m->pdir_at, 8); /* little-endian host, as mem.c */
    return (pde == m->pdir_val) & same_qwords(m->pe_raw.qw, m->pe_at, 8);
}

/* Remember a lean PASID fetch that answered `pe` from the directory entry `pde` at `daddr` and
 * the PASID entry bytes `raw` at `paddr`: kept when memory still holds them. */
static void pasid_memo_fill(struct vtd_walk_env *env, uint64_t pdtp, uint32_t pasid, uint64_t daddr, uint64_t pde,
                            uint64_t paddr, const uint8_t *raw, const struct vtd_pasid_cfg *pe)
{
    struct vtd_walk_dev_memo *m = &env->host.dev_memo;
    m->pe_valid = false;
    m->pdir_at = entry_bytes(env, daddr, 8);
    m->pe_at = entry_bytes(env, paddr, sizeof(struct vtd_pasid_entry));
    if (!m->pdir_at || !m->pe_at)
        return;
    __builtin_memcpy(&m->pdir_val, m->pdir_at, 8);
    __builtin_memcpy(m->pe_raw.qw, m->pe_at, sizeof m->pe_raw.qw);
    if (m->pdir_val != pde || !same_qwords(m->pe_raw.qw, raw, 8))
        return; /* changed since the fetch read it */
    m->pdtp = pdtp;
    m->pasid = pasid;
    m->pe_caps = *env->caps;
    m->pe = *pe;
    m->pe_valid = true;
}

int vtd_pasid_fetch(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid, struct vtd_pasid_cfg *out,
                    struct vtd_fault_info *f)
{
    bool lean = walk_is_lean(env);
    if (lean && vtd_ctx_pasid_in_range(ctx, pasid) && pasid_memo_serves(env, &env->host.dev_memo, ctx->pdtp, pasid)) {
        count_entry_read(env, VTD_TR_PDIR);
        count_entry_read(env, VTD_TR_PASID);
        *out = env->host.dev_memo.pe;
        return 0;
    }
    *out = (struct vtd_pasid_cfg){0};
    if (!vtd_ctx_pasid_in_range(ctx, pasid))
        return walk_fault(f, VTD_FR_CTX_PDTS, 0, 0);
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
    if (lean)
        pasid_memo_fill(env, ctx->pdtp, pasid, daddr, pde, paddr, raw, out);
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
