/*
 * walk_fs.c: the first-stage walk (VT-d 3.6 and 9.7; IA-32e paging): 4 or 5 levels by FSPM,
 * canonical input, 2 MiB and (with FS1GP) 1 GiB pages, U/S, R/W with WPE for supervisor writes,
 * XD for execute requests (with ECAP.ERS), A/EA on every level and D on the leaf. In nested mode
 * (VT-d 3.8) every table address is guest-physical and goes through the second stage first.
 */
#include "walker/fs_entry.h"
#include "walker/ss_entry.h"
#include "walker/walk_fs_rules.h"
#include "walker/walk_internal.h"

struct fs_walk {
    bool nested;
    unsigned start_level;
    uint64_t entry_hpa[VTD_PT_LEVEL_SLOTS];     /* host address of the entry read at each level */
    uint64_t entry[VTD_PT_LEVEL_SLOTS];
    unsigned table_ss_perm[VTD_PT_LEVEL_SLOTS]; /* nested: second-stage permissions of the table page */
    uint64_t table_ss_leaf[VTD_PT_LEVEL_SLOTS]; /* nested: second-stage leaf entry mapping the table page */
    bool table_ss_dirty[VTD_PT_LEVEL_SLOTS];
};

/* The outcome of a nested table fetch's second-stage translation `ss` (rc its result): the
 * host address, or the fault for a table the second stage does not let the IOMMU read. */
static inline __attribute__((always_inline)) int
fs_table_located(const struct vtd_pasid_cfg *pe, struct fs_walk *w, unsigned level, uint64_t gpa, int rc,
                 const struct vtd_stage_result *ss, uint64_t *hpa, struct vtd_fault_info *f)
{
    if (__builtin_expect(rc == VTD_FR_READ || (!rc && !(ss->perm & VTD_PERM_R)), 0))
        return walk_fault(f, level == pe->fs_levels ? VTD_FR_FS_NEST_PTR_READ : VTD_FR_FS_NEST_READ, gpa, level);
    if (rc)
        return rc;
    *hpa = ss->out;
    w->table_ss_perm[level] = ss->perm;
    w->table_ss_leaf[level] = ss->leaf_entry_addr;
    w->table_ss_dirty[level] = ss->dirty;
    return 0;
}

/*
 * Host address of a first-stage table entry. In nested mode the guest-physical address is
 * translated by the second stage, which must allow reads (VT-d 3.8: faults 74h-76h). On the
 * lean path with no ss_translate hook that is walk_ss_table_fetch_lean(), with the values the
 * first-stage walk computed once (`nest`); otherwise the hook or the checked walk. Always inlined into the
 * walk's two flattened variants, so the second-stage walk runs here once per level, inlined.
 */
static inline __attribute__((always_inline)) int
fs_entry_location(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, struct fs_walk *w, unsigned level,
                  uint64_t gpa, bool lean, const struct walk_ss_nest *nest, unsigned *ss_reads, uint64_t *hpa,
                  struct vtd_fault_info *f)
{
    if (!w->nested) {
        *hpa = gpa;
        return 0;
    }
    if (gpa & nest->beyond_mgaw)
        return walk_fault(f, VTD_FR_FS_NEST_MGAW, gpa, level);
    /* Each branch has a result of its own: the direct one's address never escapes, so once
     * inlined its fields stay in registers. */
    int rc;
    if (lean && nest->direct) {
        struct vtd_stage_result ss;
        rc = walk_ss_table_fetch_lean(env, pe, gpa, nest, ss_reads, &ss, f);
        return fs_table_located(pe, w, level, gpa, rc, &ss, hpa, f);
    }
    struct vtd_stage_result ss;
    env->for_fs = true;
    rc = vtd_ss_translate_hooked(env, pe, gpa, VTD_ACC_R | VTD_ACC_NOCHECK, &ss, f);
    env->for_fs = false;
    return fs_table_located(pe, w, level, gpa, rc, &ss, hpa, f);
}

/* The fault an access meets with the accumulated permissions, or 0 (VT-d 3.6.2). */
int vtd_fs_access_fault(const struct vtd_caps *caps, const struct vtd_pasid_cfg *pe, unsigned perm,
                        unsigned access, bool priv)
{
    if (!priv && !(perm & VTD_PERM_U))
        return VTD_FR_US;
    /* Supervisor writes to read-only pages are allowed unless WPE asks for write protection. */
    if ((access & VTD_ACC_W) && !(perm & VTD_PERM_W) && (!priv || pe->wpe))
        return VTD_FR_WRITE;
    if ((access & VTD_ACC_X) && vtd_ecap_has(caps, VTD_ECAP_ERS)) {
        if (!(perm & VTD_PERM_X))
            return VTD_FR_EXEC;
        if (priv && pe->smep && (perm & VTD_PERM_U))
            return VTD_FR_EXEC;
    }
    return 0;
}

/* Permissions the translation grants this requester. */
unsigned vtd_fs_effective_perm(const struct vtd_pasid_cfg *pe, unsigned perm, bool priv)
{
    if (priv && !pe->wpe)
        perm |= VTD_PERM_W;
    if (!priv && !(perm & VTD_PERM_U))
        perm &= ~(VTD_PERM_R | VTD_PERM_W | VTD_PERM_X);
    return perm;
}

/* The second-stage side of an A/D write to a nested first-stage table: it must be writable. */
static int fs_nested_ad_write_ok(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, struct fs_walk *w,
                                 unsigned level, struct vtd_fault_info *f)
{
    if (!(w->table_ss_perm[level] & VTD_PERM_W))
        return walk_fault(f, VTD_FR_FS_NEST_AD_WRITE, w->entry_hpa[level], level);
    if (!pe->ssade || w->table_ss_dirty[level])
        return 0;
    /* The write dirties the page holding the table (second-stage D, VT-d 3.8). */
    uint64_t leaf = w->table_ss_leaf[level], val;
    if (vtd_mem_read64(env->mem, leaf, &val) || walk_set_bits(env, VTD_TR_SS, 0, leaf, &val, VTD_SS_D))
        return walk_fault(f, VTD_FR_SS_ACCESS, leaf, 0);
    w->table_ss_dirty[level] = true;
    return 0;
}

/* Set A (and EA with EAFE) on every entry used, D on the leaf for writes (VT-d 3.6.3). */
static int fs_update_ad(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, struct fs_walk *w,
                        unsigned leaf_level, bool write, struct vtd_fault_info *f)
{
    uint64_t a_bits = fs_a_bits(pe);
    for (unsigned l = w->start_level; l >= leaf_level; l--) {
        uint64_t bits = a_bits | (l == leaf_level && write ? VTD_FS_D : 0);
        if ((w->entry[l] & bits) == bits)
            continue;
        if (!pe->pwsnp)
            return walk_fault(f, VTD_FR_FS_AD_NOSNOOP, w->entry_hpa[l], l);
        if (w->nested) {
            int rc = fs_nested_ad_write_ok(env, pe, w, l, f);
            if (rc)
                return rc;
        }
        if (walk_set_bits(env, VTD_TR_FS, l, w->entry_hpa[l], &w->entry[l], bits))
            return walk_fault(f, VTD_FR_FS_ACCESS, w->entry_hpa[l], l);
    }
    return 0;
}

struct vtd_walk_start vtd_fs_full_start(const struct vtd_pasid_cfg *pe)
{
    return (struct vtd_walk_start){.level = pe->fs_levels, .table = pe->fsptptr, .perm = VTD_PERM_ALL};
}

/* Checks made before the first read: canonical input and a usable FSPTPTR. */
static int fs_walk_precheck(const struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                            const struct vtd_walk_start *start, uint64_t va, struct vtd_fault_info *f)
{
    if (!fs_canonical(va, fs_width(pe)))
        return walk_fault(f, VTD_FR_NON_CANONICAL, 0, 0);
    bool full = start->level == pe->fs_levels;
    if (full && pe->pgtt != VTD_PGTT_NESTED && (start->table & vtd_bits_above(env->caps->haw)))
        return walk_fault(f, VTD_FR_FSPTPTR, start->table, 0);
    return 0;
}

/* Whether the memo (struct vtd_walk_fs_memo) was filled for `pe`, whose second stage's memo
 * key is `ss_key` (walk_ss_memo_key()). */
static inline bool fs_memo_keyed(const struct vtd_walk_fs_memo *m, const struct vtd_pasid_cfg *pe, uint64_t ss_key)
{
    return m->key == pe->fsptptr && m->ss_key == walk_fs_memo_key(pe, ss_key);
}

/* Whether the first `n` entries the memo remembers still hold their values: read each again
 * (the reads the walk makes of them) and compare, without a test per entry. */
static inline bool fs_memo_current(const struct vtd_walk_fs_memo *m, unsigned n)
{
    uint64_t diff = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t e;
        __builtin_memcpy(&e, m->at[i], 8); /* little-endian host, as mem.c */
        diff |= e ^ m->val[i];
    }
    return diff == 0;
}

/*
 * The levels from `top` down to `bottom` of a walk whose entries the memo found unchanged
 * (`fs_reads` and `ss_reads` reads of them): they passed the walk's tests when remembered and
 * pass them again, so the walk records what they gave and counts their reads; it goes on below
 * `bottom`. They need no A/D update, so the walk's A/D pass starts there too.
 */
static inline void fs_walk_from_memo(const struct vtd_walk_fs_memo *m, unsigned top, unsigned bottom,
                                     unsigned fs_reads, unsigned ss_reads_memo, unsigned *nread, unsigned *ss_reads,
                                     struct vtd_stage_result *out)
{
    *nread += fs_reads;
    *ss_reads += ss_reads_memo;
    for (unsigned l = top; l >= bottom; l--) {
        out->table[l] = m->table[l];
        out->perm_above[l] = m->perm_above[l];
    }
}

/* Where a whole walk goes on: the level, its table, the permissions and the AND of the entries
 * above it; and the memo's key when the walk is to refill the memo (0: it is not). */
struct fs_memo_resume {
    unsigned level, perm;
    uint64_t table, all, refill_key;
};

/*
 * A whole lean nested walk of `va` (second-stage key `ss_key`) consults the memo: the levels it
 * serves, from the top (`r` holds the walk's start) down to level 2 in the same 2 MiB or level 3
 * in the same 1 GiB, are taken from it and the walk resumes below them. Not inlined into the
 * walk's variants that never consult it, so that it exists once.
 */
static void fs_memo_consult(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t ss_key, uint64_t va,
                            unsigned *nread, unsigned *ss_reads, struct vtd_stage_result *out,
                            struct fs_memo_resume *r)
{
    struct vtd_walk_fs_memo *m = &env->host.fs_memo;
    uint64_t region = va >> WALK_SS_MEMO_REGION_SHIFT;
    bool keyed = fs_memo_keyed(m, pe, ss_key);
    if (m->region == region && keyed && fs_memo_current(m, m->n)) {
        fs_walk_from_memo(m, r->level, 2, m->fs_reads, m->ss_reads, nread, ss_reads, out);
        *r = (struct fs_memo_resume){.level = 1, .table = m->leaf_table, .perm = m->perm, .all = m->all};
        return;
    }
    /* Elsewhere in the memo's 1 GiB: the levels above level 2 from it. */
    bool gib = keyed && (m->region ^ region) >> WALK_FS_MEMO_GIB_SHIFT == 0 && fs_memo_current(m, m->n_gib);
    if (gib) {
        fs_walk_from_memo(m, r->level, 3, m->fs_reads_gib, m->ss_reads_gib, nread, ss_reads, out);
        *r = (struct fs_memo_resume){.level = 2, .table = m->table[2], .perm = m->perm_above[2], .all = m->all_gib};
    }
    /* Only a second walk in a region the memo does not cover refills it (walks that each go
     * elsewhere, a device's scattered buffers, would pay for a memo unused): in the same 2 MiB
     * when the 1 GiB levels served it, else in the same 1 GiB. */
    uint64_t moved = gib ? m->missed ^ region : (m->missed ^ region) >> WALK_FS_MEMO_GIB_SHIFT;
    if (moved)
        m->missed = region;
    else
        r->refill_key = walk_fs_memo_key(pe, ss_key);
}

/*
 * The levels of the walk, the permission checks and the A/D updates, on the path the caller
 * chose (`lean` is a constant once inlined; see walk_is_lean): the lean path leaves the
 * first-stage reads made in *nread, and its nested table fetches' second-stage reads in
 * *ss_reads, for the caller to count. (Not unrolled by level like the
 * second stage's: with the nested second-stage walks inlined at every level, that made the
 * code ten times larger for 2% fewer instructions.)
 */
static inline __attribute__((always_inline)) int
fs_walk_levels(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
               uint64_t va, unsigned access, bool priv, enum vtd_req_kind kind, bool lean, bool nested_direct,
               unsigned *nread, unsigned *ss_reads, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    /* Not zero-initialised: the walk fills each level's slots before anything reads them, and
     * clearing all 184 bytes (a string store) cost about 5% of a nested walk. */
    struct fs_walk w;
    w.nested = nested_direct || pe->pgtt == VTD_PGTT_NESTED;
    w.start_level = start->level;
    const struct vtd_walk_masks *masks = walk_masks(env);
    const uint64_t(*rsvd)[2] = w.nested ? masks->fs_nested : masks->fs_host;
    const struct walk_ss_nest nest = {
        .rules = walk_ss_rules_with(masks, pe),
        .memo_key = walk_ss_memo_key(pe),
        .beyond_agaw = vtd_bits_above(12 + 9 * pe->ss_levels),
        .ptr_beyond_haw = (pe->ssptptr & vtd_bits_above(env->caps->haw)) != 0,
        .beyond_mgaw = vtd_bits_above(vtd_caps_mgaw(env->caps)),
        /* vtd_fs_walk_from() sends the lean nested walks without an ss_translate hook to the
         * variant with `nested_direct`: every other walk fetches through the hook or checked. */
        .direct = nested_direct,
    };
    /* The AND of every entry read: when it shows all the A bits set (and D on the leaf for a
     * write), the A/D pass would change nothing and is skipped. */
    uint64_t table = start->table, e = 0, all = ~UINT64_C(0);
    unsigned perm = start->perm, l = start->level;
    int rc;
    /* A whole walk (not one a paging-structure cache resumed) may go on from the memo. */
    struct fs_memo_resume resume = {.level = l, .table = table, .perm = perm, .all = all};
    if (lean && nested_direct && start->level == pe->fs_levels && start->table == pe->fsptptr &&
        start->perm == VTD_PERM_ALL && !nest.ptr_beyond_haw) {
        fs_memo_consult(env, pe, nest.memo_key, va, nread, ss_reads, out, &resume);
        l = w.start_level = resume.level;
        table = resume.table;
        perm = resume.perm;
        all = resume.all;
    }
    for (;; l--) {
        out->table[l] = table;
        out->perm_above[l] = perm;
        uint64_t hpa;
        if ((rc = fs_entry_location(env, pe, &w, l, table + 8 * (uint64_t)vtd_pt_index(va, l), lean, &nest, ss_reads, &hpa, f)))
            return rc;
        ++*nread;
        if (walk_read64_on(env, lean, VTD_TR_FS, l, hpa, &e))
            return walk_fault(f, VTD_FR_FS_ACCESS, hpa, l);
        w.entry_hpa[l] = hpa;
        w.entry[l] = e;
        all &= e;
        if (!vtd_fs_entry_present(e))
            return walk_fault(f, VTD_FR_FS_P, hpa, l);
        if (e & rsvd[l][(e & VTD_FS_PS) != 0])
            return walk_fault(f, VTD_FR_FS_RSVD, hpa, l);
        perm &= fs_entry_perm(e);
        if (vtd_fs_entry_is_leaf(e, l))
            break;
        table = e & VTD_FS_ADDR;
    }
    out->leaf_level = l;
    out->page_shift = vtd_pt_level_shift(l);
    out->out = vtd_fs_entry_addr(e, l) | (va & ((UINT64_C(1) << out->page_shift) - 1));
    out->leaf_entry_addr = w.entry_hpa[l];
    if (w.nested && (out->out & vtd_bits_above(vtd_caps_mgaw(env->caps))))
        return walk_fault(f, VTD_FR_FS_NEST_MGAW, w.entry_hpa[l], l);
    if (kind != VTD_REQ_TRANSLATION && (rc = vtd_fs_access_fault(env->caps, pe, perm, access, priv)))
        return walk_fault(f, rc, w.entry_hpa[l], l);
    out->raw_perm = perm;
    out->perm = vtd_fs_effective_perm(pe, perm, priv);
    bool write = (access & VTD_ACC_W) && (out->perm & VTD_PERM_W);
    /* A translation that grants nothing (an ATS answer of "no access") marks nothing accessed. */
    if ((out->perm & VTD_PERM_R) && fs_ad_update_needed(pe, all, e, write) &&
        (rc = fs_update_ad(env, pe, &w, l, write, f)))
        return rc;
    out->dirty = (w.entry[l] & VTD_FS_D) != 0;
    if (resume.refill_key && l == 1)
        walk_fs_memo_fill(env, pe, masks, &nest, resume.refill_key, va);
    return 0;
}

/* The walk's two variants, each with everything it calls inlined (the nested second-stage
 * walks included). */
__attribute__((flatten)) static int fs_walk_lean(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                                                 const struct vtd_walk_start *start, uint64_t va, unsigned access,
                                                 bool priv, enum vtd_req_kind kind, struct vtd_stage_result *out,
                                                 struct vtd_fault_info *f)
{
    unsigned n = 0, n_ss = 0;
    int rc = fs_walk_levels(env, pe, start, va, access, priv, kind, true, false, &n, &n_ss, out, f);
    walk_count_paging(env, VTD_TR_FS, n);
    walk_count_paging(env, VTD_TR_SS, n_ss);
    return rc;
}

/* The lean walk of a nested first stage whose table fetches walk the second stage directly (no
 * ss_translate hook): the usual uncached nested walk, with those two tests made constants. */
__attribute__((flatten)) static int fs_walk_lean_nested(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                                                        const struct vtd_walk_start *start, uint64_t va,
                                                        unsigned access, bool priv, enum vtd_req_kind kind,
                                                        struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    unsigned n = 0, n_ss = 0;
    int rc = fs_walk_levels(env, pe, start, va, access, priv, kind, true, true, &n, &n_ss, out, f);
    walk_count_paging(env, VTD_TR_FS, n);
    walk_count_paging(env, VTD_TR_SS, n_ss);
    return rc;
}

__attribute__((flatten)) static int fs_walk_checked(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                                                    const struct vtd_walk_start *start, uint64_t va, unsigned access,
                                                    bool priv, enum vtd_req_kind kind, struct vtd_stage_result *out,
                                                    struct vtd_fault_info *f)
{
    unsigned n = 0, n_ss = 0;
    return fs_walk_levels(env, pe, start, va, access, priv, kind, false, false, &n, &n_ss, out, f);
}

int vtd_fs_walk_from(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t va, unsigned access, bool priv, enum vtd_req_kind kind,
                     struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    env->paging_pwsnp = pe->pwsnp;
    out->top_level = pe->fs_levels;
    out->leaf_level = 0;
    out->perm = 0;
    out->dirty = false;
    int rc = fs_walk_precheck(env, pe, start, va, f);
    if (rc)
        return rc;
    if (!walk_is_lean(env))
        return fs_walk_checked(env, pe, start, va, access, priv, kind, out, f);
    if (pe->pgtt == VTD_PGTT_NESTED && !(env->hooks && env->hooks->ss_translate))
        return fs_walk_lean_nested(env, pe, start, va, access, priv, kind, out, f);
    return fs_walk_lean(env, pe, start, va, access, priv, kind, out, f);
}

int vtd_fs_walk(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va, unsigned access, bool priv,
                enum vtd_req_kind kind, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    struct vtd_walk_start start = vtd_fs_full_start(pe);
    const struct vtd_walk_hooks *h = env->hooks;
    if (h && h->fs_start)
        h->fs_start(env, pe, va, &start);
    int rc = vtd_fs_walk_from(env, pe, &start, va, access, priv, kind, out, f);
    if (!rc && h && h->fs_done)
        h->fs_done(env, pe, va, start.level, out);
    return rc;
}
