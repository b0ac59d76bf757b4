/*
 * walk_internal.h: helpers shared by the walk's stage files (not a public interface).
 */
#ifndef VTDSIM_WALKER_WALK_INTERNAL_H
#define VTDSIM_WALKER_WALK_INTERNAL_H

#include <string.h>

#include "walker/walk.h"

static inline int walk_fault(struct vtd_fault_info *f, int code, uint64_t addr, unsigned level)
{
    f->code = code;
    f->addr = addr;
    f->level = level;
    f->suppressed = false;
    return code;
}

void walk_trace(struct vtd_walk_env *env, unsigned kind, unsigned level, bool write, uint64_t addr, uint64_t val);

/*
 * The tag a remembered frame is found by (struct vtd_walk_frame): the frame's address with bit 3
 * set. An address's tag keeps its low 3 bits, so a misaligned 8-byte read matches no frame
 * and takes the slow path (which rejects it) without a test of its own; bit 3 keeps a zeroed
 * slot from matching frame 0.
 */
#define WALK_FRAME_TAG_BIT UINT64_C(8)
static inline uint64_t walk_frame_tag(uint64_t addr) { return (addr & ~UINT64_C(0xff8)) | WALK_FRAME_TAG_BIT; }

/* The remembered frame (of the two for a kind and level) holding `addr`, or NULL; always NULL
 * while abort ranges exist, so that those reads take the checked path. */
static inline const uint8_t *walk_frame_find(const struct vtd_walk_env *env, const struct vtd_walk_frame *fr,
                                             uint64_t addr)
{
    uint64_t tag = walk_frame_tag(addr & ~UINT64_C(7));
    if (vtd_mem_may_abort(env->mem))
        return NULL;
    if (fr[0].tag == tag)
        return fr[0].frame;
    return fr[1].tag == tag ? fr[1].frame : NULL;
}

/*
 * Whether a read of a structure of this kind is snooped (sees the CPU's cache): root, context and
 * PASID structures with ECAP.C; scalable-mode paging structures with ECAP.SMPWC and the PASID
 * entry's PWSNP; legacy-mode paging structures with ECAP.C (VT-d 11.4.3; Linux
 * iommu_paging_structure_coherency() and __iommu_flush_cache()).
 */
bool walk_snooped(const struct vtd_walk_env *env, unsigned kind);

/* Whether the read must see the CPU's view rather than memory: only while the CPU cache holds
 * dirty lines (they are otherwise the same). */
static inline bool walk_cpu_view(const struct vtd_walk_env *env, unsigned kind)
{
    return __builtin_expect(vtd_mem_cpu_dirty(env->mem) != 0, 0) && walk_snooped(env, kind);
}

/* The slow paths of the two reads below: simulated memory (the CPU's view or memory itself, as
 * the kind's coherency says), then remember the frame. Kept out of line: the flattened walks
 * would otherwise copy it into every read. */
__attribute__((noinline)) int walk_mem_read64_slow(struct vtd_walk_env *env, unsigned kind, struct vtd_walk_frame *fr,
                                                   uint64_t addr, uint64_t *val);
int walk_mem_read_slow(struct vtd_walk_env *env, unsigned kind, struct vtd_walk_frame *fr, uint64_t addr, void *buf,
                       size_t len);

/*
 * The word at `addr` through a frame remembered for (kind, level), or through simulated
 * memory (remembering the frame for next time). Same results as vtd_mem_read64.
 */
static inline int walk_mem_read64(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr,
                                  uint64_t *val)
{
    struct vtd_walk_frame *fr = env->host.frames[kind][level];
    const uint8_t *frame = walk_cpu_view(env, kind) ? NULL : walk_frame_find(env, fr, addr);
    if (__builtin_expect(frame && !(addr & 7), 1)) {
        __builtin_memcpy(val, frame + (addr & 0xfff), 8); /* little-endian host, as mem.c */
        return 0;
    }
    /* Through a local: were the caller's variable passed out, it would live in memory and
     * every entry read would make a store-to-load round trip on the walk's dependent chain. */
    uint64_t v;
    int rc = walk_mem_read64_slow(env, kind, fr, addr, &v);
    *val = v;
    return rc;
}

/* A block read (within one frame when served from a remembered one), the same way. */
static inline int walk_mem_read(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, void *buf,
                                size_t len)
{
    struct vtd_walk_frame *fr = env->host.frames[kind][level];
    const uint8_t *frame = walk_cpu_view(env, kind) ? NULL : walk_frame_find(env, fr, addr);
    if (frame && (addr & 0xfff) + len <= 0x1000) {
        memcpy(buf, frame + (addr & 0xfff), len);
        return 0;
    }
    return walk_mem_read_slow(env, kind, fr, addr, buf, len);
}

/* Read one 64-bit structure word, counting and tracing it; returns the memory result. */
static inline int walk_read64(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, uint64_t *val)
{
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
    if (kind == VTD_TR_FS || kind == VTD_TR_SS)
        env->cnt.paging_reads++;
    int rc = walk_mem_read64(env, kind, level, addr, val);
    if (rc)
        *val = 0;
    if (env->trace)
        walk_trace(env, kind, level, false, addr, *val);
    return rc;
}
/*
 * Whether a walk may take its lean path: no trace hook, no abort ranges and no dirty CPU
 * lines. Then every read is a plain read of memory with nothing to record per read, so a
 * stage walk tests this once, reads through walk_read64_lean() and adds its read counts
 * once at the end (walk_count_paging); the results, counts and A/D updates are the same.
 */
static inline bool walk_is_lean(const struct vtd_walk_env *env)
{
    return !env->trace && !vtd_mem_may_abort(env->mem) && !vtd_mem_cpu_dirty(env->mem);
}

/* `n` paging-structure reads of one kind, counted at once (a lean walk's reads). */
static inline void walk_count_paging(struct vtd_walk_env *env, unsigned kind, unsigned n)
{
    env->cnt.reads += n;
    env->cnt.by_kind[kind] += n;
    env->cnt.paging_reads += n;
}

/*
 * The lean read of the word at `addr`, `off` bytes into its frame, whose remembered-frame tag
 * is `tag`: the remembered frames without the abort and CPU-view tests, else the slow path.
 */
static inline int walk_read64_tagged(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t tag,
                                     uint64_t addr, uint64_t off, uint64_t *val)
{
    struct vtd_walk_frame *fr = env->host.frames[kind][level];
    /* A remembered frame is never NULL, and the tag compare also rejects misaligned reads. */
    const uint8_t *frame;
    if (__builtin_expect(fr[0].tag == tag, 1)) {
        frame = fr[0].frame;
    } else if (fr[1].tag == tag) {
        frame = fr[1].frame;
    } else {
        uint64_t v;
        int rc = walk_mem_read64_slow(env, kind, fr, addr, &v);
        *val = rc ? 0 : v;
        return rc;
    }
    __builtin_memcpy(val, frame + off, 8);
    return 0;
}

/* A paging-entry read on the lean path (walk_is_lean() held at the walk's start); not counted. */
static inline int walk_read64_lean(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr,
                                   uint64_t *val)
{
    return walk_read64_tagged(env, kind, level, walk_frame_tag(addr), addr, addr & 0xfff, val);
}

/*
 * walk_read64_lean() of the entry `off` bytes into the table at `page`, for a table that starts
 * a frame (read from an entry's address field) and an entry offset (8 x index, below 4096):
 * the frame's tag and the offset within it need no masking.
 */
static inline int walk_read64_lean_in(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t page,
                                      uint64_t off, uint64_t *val)
{
    return walk_read64_tagged(env, kind, level, page | WALK_FRAME_TAG_BIT, page + off, off, val);
}

/* A paging-entry read on the path a walk chose: lean (counted by the caller) or checked. */
static inline __attribute__((always_inline)) int walk_read64_on(struct vtd_walk_env *env, bool lean, unsigned kind,
                                                                unsigned level, uint64_t addr, uint64_t *val)
{
    return lean ? walk_read64_lean(env, kind, level, addr, val) : walk_read64(env, kind, level, addr, val);
}

/*
 * Set `bits` in the entry at `addr` (holding `*val`) atomically, as hardware does for A/D
 * updates; *val receives the new value. Returns the memory result.
 */
int walk_set_bits(struct vtd_walk_env *env, unsigned kind, unsigned level, uint64_t addr, uint64_t *val, uint64_t bits);

/*
 * Read a multi-qword structure in one block access; it is counted and traced as one read.
 * Simulated memory is little-endian, like the x86 hosts this model runs on. Always inlined so
 * that `n` is a constant at each call: a variable-length copy compiles to a string move
 * ("rep movs") whose start-up cost was a tenth of a nested walk.
 */
static inline __attribute__((always_inline)) int walk_read_qwords(struct vtd_walk_env *env, unsigned kind, uint64_t addr,
                                                                  uint64_t *qw, unsigned n)
{
    _Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "block reads assume a little-endian host");
    env->cnt.reads++;
    env->cnt.by_kind[kind]++;
    int rc = walk_mem_read(env, kind, 0, addr, qw, 8 * (size_t)n);
    if (rc)
        memset(qw, 0, 8 * (size_t)n);
    if (env->trace)
        walk_trace(env, kind, 0, false, addr, qw[0]);
    return rc;
}

/*
 * Whether entry `e` sets a bit reserved at its level: `rsvd` is that level's pair of masks
 * (struct vtd_walk_masks), [1] for an entry with its PS bit `ps` set. A branch on PS rather
 * than an index by it: the walk branches on PS for its leaf test anyway, where an indexed
 * load of the mask costs four more instructions a level.
 */
static inline __attribute__((always_inline)) bool walk_entry_rsvd(uint64_t e, uint64_t ps,
                                                                  const uint64_t rsvd[VTD_PT_PS_KINDS])
{
    if (e & ps)
        return (e & rsvd[1]) != 0;
    return (e & rsvd[0]) != 0;
}

void walk_masks_compute(struct vtd_walk_env *env);

/* The reserved-bit masks for the current capabilities. */
static inline const struct vtd_walk_masks *walk_masks(struct vtd_walk_env *env)
{
    const struct vtd_caps *c = env->caps;
    struct vtd_walk_masks *m = &env->host.masks;
    if (!m->valid || m->cap != c->cap || m->ecap != c->ecap || m->haw != c->haw)
        walk_masks_compute(env);
    return m;
}

/*
 * What a second-stage walk's levels test, fixed for the whole walk: the validated reserved
 * masks (walk_masks(env)->ss), the entry bits of which one makes an entry present (R and W,
 * and X with SSEE; VT-d 9.8), and the permissions every entry grants (U, and X without SSEE).
 */
struct walk_ss_rules {
    const uint64_t (*rsvd)[VTD_PT_PS_KINDS];
    uint64_t present;
    unsigned implied;
};

/* The rules for the PASID entry's second stage with the validated masks (walk_masks()). */
struct walk_ss_rules walk_ss_rules_with(const struct vtd_walk_masks *masks, const struct vtd_pasid_cfg *pe);

/*
 * What the nested table fetches of one first-stage walk share, computed once per walk: the
 * level rules, the input bits beyond the second stage's width, whether SSPTPTR lies beyond HAW,
 * the table-address bits beyond MGAW (fault 74h, VT-d 3.8), and whether no ss_translate hook
 * is set (the fetches walk directly).
 */
struct walk_ss_nest {
    struct walk_ss_rules rules;
    uint64_t memo_key; /* walk_ss_memo_key() */
    uint64_t beyond_agaw;
    uint64_t beyond_mgaw;
    bool ptr_beyond_haw;
    bool direct;
};

/*
 * The remembered upper levels of the nested table fetches (struct vtd_walk_ss_memo): the key
 * of a PASID entry's second-stage settings (SSPTPTR, levels, SSEE, SSADE) a memo serves; never
 * 0, an empty memo's key.
 */
#define WALK_SS_MEMO_REGION_SHIFT 21 /* the input bits that index levels 2 and up */
#define WALK_FS_MEMO_GIB_SHIFT 9     /* a region number's bits that index level 2 */
uint64_t walk_ss_memo_key(const struct vtd_pasid_cfg *pe);

/*
 * Remember the upper levels of the second-stage walk of `gpa` under `pe` (keyed `key`), after a
 * fetch walked them: read again through memory's frames and kept only when each passes the
 * walk's tests as a non-leaf entry needing no A/D update, else the memo is emptied. Called on
 * the lean path only.
 */
void walk_ss_memo_fill(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct walk_ss_rules *rules,
                       uint64_t key, uint64_t gpa);

/*
 * The second-stage translation of a nested first-stage table address on the lean path with no
 * ss_translate hook: a full read-only walk (VTD_ACC_R | VTD_ACC_NOCHECK) with the faults of
 * vtd_ss_walk(). On success it fills out->out, perm, raw_perm, dirty, leaf_level, page_shift
 * and leaf_entry_addr, not the per-level table[] and perm_above[] (only a paging-structure
 * cache reads those). The caller has set env->paging_pwsnp from `pe`, and counts the reads
 * made, added to *nread, as second-stage paging reads (one addition for a whole first-stage
 * walk's fetches).
 */
int walk_ss_table_fetch_lean(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa,
                             const struct walk_ss_nest *nest, unsigned *nread, struct vtd_stage_result *out,
                             struct vtd_fault_info *f);

/*
 * The nested first-stage walk's remembered upper levels (struct vtd_walk_fs_memo): the second
 * key, which with FSPTPTR (the first) names the PASID-entry settings the memo serves; never 0.
 */
uint64_t walk_fs_memo_key(const struct vtd_pasid_cfg *pe, uint64_t ss_key);

/*
 * Remember the upper levels of the nested first-stage walk of `va` under `pe` (keys `ss_key`,
 * walk_fs_memo_key()), after a lean walk without an ss_translate hook went through them from
 * FSPTPTR to a 4 KiB page: read again through memory's frames, with the second-stage entries
 * of their table fetches, and kept only when every entry passes the walk's tests as a non-leaf
 * entry needing no A/D update (the second stage's: as the fetches use them), else the memo is
 * emptied. `masks` are the validated ones, `nest` the walk's shared fetch values. The walk
 * calls it for the second walk in a row the memo did not serve in the same 2 MiB.
 */
void walk_fs_memo_fill(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_masks *masks,
                       const struct walk_ss_nest *nest, uint64_t key, uint64_t va);

/* Second-stage translation through the hook if one is set (sim/ puts its caches there), else
 * the uncached walk vtd_ss_walk(). */
static inline int vtd_ss_translate_hooked(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa,
                                          unsigned access, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    if (env->hooks && env->hooks->ss_translate)
        return env->hooks->ss_translate(env, pe, gpa, access, out, f);
    return vtd_ss_walk(env, pe, gpa, access, out, f);
}

#endif
