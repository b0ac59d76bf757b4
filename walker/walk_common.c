/* walk_common.c: counted and traced structure accesses used by every stage of the walk. */
#include "walker/fs_entry.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"
#include "walker/walk_internal.h"

void walk_trace(struct vtd_walk_env *env, unsigned kind, unsigned level, bool write, uint64_t addr, uint64_t val)
{
    struct vtd_trace *t = env->trace;
    if (!t)
        return;
    if (t->n >= VTD_TRACE_MAX) {
        t->dropped++;
        return;
    }
    t->rec[t->n++] = (struct vtd_trace_rec){.kind = (uint8_t)kind, .level = (uint8_t)level, .write = write,
                                            .for_fs = env->for_fs, .addr = addr, .val = val};
}

int walk_set_bits(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, uint64_t *val, uint64_t bits)
{
    uint64_t cur = *val;
    if (env->dry_run) {
        /* Write nothing, but meet the same errors (aborts, HAW): a compare-exchange that
         * would store the value already there. */
        uint64_t actual;
        int rc = vtd_mem_cmpxchg64(env->mem, addr, cur, cur, &actual);
        if (!rc)
            *val = cur | bits;
        return rc;
    }
    /* A concurrent writer may change the entry between read and update: retry on it. */
    for (;;) {
        uint64_t actual;
        int rc = vtd_mem_cmpxchg64(env->mem, addr, cur, cur | bits, &actual);
        if (rc)
            return rc;
        if (actual == cur)
            break;
        cur = actual;
    }
    *val = cur | bits;
    env->cnt.ad_writes++;
    walk_trace(env, kind, level, true, addr, *val);
    return 0;
}

void walk_masks_compute(struct vtd_walk_env *env)
{
    const struct vtd_caps *c = env->caps;
    struct vtd_walk_masks *m = &env->host.masks;
    m->cap = c->cap;
    m->ecap = c->ecap;
    m->haw = c->haw;
    m->valid = true;
    /* The remembered second-stage levels passed tests made with the old masks. */
    env->host.ss_memo.key = env->host.fs_memo.key = env->host.fs_memo.ss_key = 0;
    for (unsigned l = 1; l <= VTD_PT_MAX_LEVELS; l++)
        for (unsigned ps = 0; ps < VTD_PT_PS_KINDS; ps++) {
            m->ss[l][ps] = vtd_ss_entry_rsvd_mask(ps ? VTD_SS_PS : 0, l, c);
            m->fs_host[l][ps] = vtd_fs_entry_rsvd_mask(ps ? VTD_FS_PS : 0, l, c, c->haw);
            m->fs_nested[l][ps] = vtd_fs_entry_rsvd_mask(ps ? VTD_FS_PS : 0, l, c, 52);
        }
}

/* Remember `frame` as the host frame of addr's page for this kind and level, the most recent
 * of the two kept. */
static void walk_frame_keep(struct vtd_walk_frame *fr, uint64_t addr, const uint8_t *frame)
{
    fr[1] = fr[0];
    fr[0] = (struct vtd_walk_frame){.tag = walk_frame_tag(addr & ~UINT64_C(7)), .frame = frame};
}

/* Remember the frame of a successful read (an unbacked frame, which reads as zero, is not). */
static void walk_frame_remember(struct vtd_walk_env *env, struct vtd_walk_frame *fr, uint64_t addr)
{
    /* Read the slow way while abort ranges exist: already known. */
    if (fr[0].tag == walk_frame_tag(addr & ~UINT64_C(7)))
        return;
    const uint8_t *frame = vtd_mem_frame_for_read(env->mem, addr);
    if (frame)
        walk_frame_keep(fr, addr, frame);
}

/*
 * The host frame a plain read of [addr, addr+len) may use directly: no abort ranges, no dirty
 * CPU lines, within one frame that exists. A walk over many address spaces misses its
 * remembered frames at every level, and then memory's small frame cache too: the frame is
 * found once, in the frame index, and kept by the caller (bench_spaces).
 */
static const uint8_t *walk_plain_frame(struct vtd_walk_env *env, uint64_t addr, size_t len)
{
    if (vtd_mem_cpu_dirty(env->mem) || vtd_mem_may_abort(env->mem) || (addr & 0xfff) + len > 0x1000)
        return NULL;
    return vtd_mem_frame_for_read_indexed(env->mem, addr);
}

bool walk_snooped(const struct vtd_walk_env *env, unsigned kind)
{
    const struct vtd_caps *c = env->caps;
    if (env->snoop_all)
        return true;
    if (kind != VTD_TR_FS && kind != VTD_TR_SS)
        return vtd_ecap_has(c, VTD_ECAP_C);
    if (vtd_rtaddr_is_legacy(env->rtaddr))
        return vtd_ecap_has(c, VTD_ECAP_C);
    return vtd_ecap_has(c, VTD_ECAP_SMPWC) && env->paging_pwsnp;
}

/* The read through memory's own checks (abort ranges, the CPU's view, unbacked frames); out of
 * line so that the plain miss below saves no registers for it. */
static __attribute__((noinline)) int walk_mem_read64_checked(struct vtd_walk_env *env, unsigned kind,
                                                             struct vtd_walk_frame *fr, uint64_t addr, uint64_t *val)
{
    int rc;
    if (!vtd_mem_cpu_dirty(env->mem))
        rc = vtd_mem_read64_fast(env->mem, addr, val);
    else
        rc = walk_snooped(env, kind) ? vtd_mem_read64(env->mem, addr, val) : vtd_mem_read64_nosnoop(env->mem, addr, val);
    if (!rc)
        walk_frame_remember(env, fr, addr);
    return rc;
}

int walk_mem_read64_slow(struct vtd_walk_env *env, unsigned kind, struct vtd_walk_frame *fr, uint64_t addr,
                         uint64_t *val)
{
    const uint8_t *frame = (addr & 7) ? NULL : walk_plain_frame(env, addr, 8);
    if (!frame)
        return walk_mem_read64_checked(env, kind, fr, addr, val);
    memcpy(val, frame + (addr & 0xfff), 8); /* little-endian host, as mem.c */
    walk_frame_keep(fr, addr, frame);
    return 0;
}

int walk_mem_read_slow(struct vtd_walk_env *env, unsigned kind, struct vtd_walk_frame *fr, uint64_t addr, void *buf,
                       size_t len)
{
    const uint8_t *frame = walk_plain_frame(env, addr, len);
    if (frame) {
        memcpy(buf, frame + (addr & 0xfff), len);
        walk_frame_keep(fr, addr, frame);
        return 0;
    }
    int rc = walk_snooped(env, kind) ? vtd_mem_read(env->mem, addr, buf, len)
                                     : vtd_mem_read_nosnoop(env->mem, addr, buf, len);
    if (!rc)
        walk_frame_remember(env, fr, addr);
    return rc;
}

void vtd_walk_env_init(struct vtd_walk_env *env, struct vtd_mem *mem, const struct vtd_caps *caps, uint64_t rtaddr)
{
    *env = (struct vtd_walk_env){.mem = mem, .caps = caps, .rtaddr = rtaddr};
}

const char *vtd_trace_kind_name(unsigned kind)
{
    static const char *const names[] = {"root", "context", "pasid-dir", "pasid", "fs", "ss"};
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
