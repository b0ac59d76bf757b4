/*
 * walk_ss.c: the second-stage walk (VT-d 3.7 and 9.8): 3, 4 or 5 levels by the PASID entry's
 * AW, large pages by CAP.SSLPS, R/W/X (X only with SSEE), and A/D updates with SSADE.
 */
#include "walker/ss_entry.h"
#include "walker/walk_internal.h"

struct ss_walk {
    uint64_t entry_addr[VTD_PT_LEVEL_SLOTS];
    uint64_t entry[VTD_PT_LEVEL_SLOTS];
};

/* R, W and X sit in the entry's low bits in the order of VTD_PERM_*: a mask converts them. */
_Static_assert(VTD_SS_R == VTD_PERM_R && VTD_SS_W == VTD_PERM_W && VTD_SS_X == VTD_PERM_X,
               "second-stage permission bits double as VTD_PERM_* bits");

/* Permissions every second-stage entry grants whatever its bits: U (a first-stage notion),
 * and X when SSEE is off (execute is not restricted then). */
static unsigned ss_implied_perm(bool ssee) { return VTD_PERM_U | (ssee ? 0 : VTD_PERM_X); }

struct walk_ss_rules walk_ss_rules_with(const struct vtd_walk_masks *masks, const struct vtd_pasid_cfg *pe)
{
    /* vtd_ss_entry_present() as a mask, so that a walk tests presence with one AND. */
    return (struct walk_ss_rules){.rsvd = masks->ss,
                                  .present = VTD_SS_R | VTD_SS_W | (pe->ssee ? VTD_SS_X : 0),
                                  .implied = ss_implied_perm(pe->ssee)};
}

/* Permissions one second-stage entry grants. */
static unsigned ss_entry_perm(uint64_t e, unsigned implied)
{
    return (unsigned)(e & (VTD_SS_R | VTD_SS_W | VTD_SS_X)) | implied;
}

/* The fault for an access the permissions do not allow (reads first, then writes, then execute). */
int vtd_ss_access_fault(unsigned access, unsigned perm, bool ssee)
{
    if ((access & VTD_ACC_R) && !(perm & VTD_PERM_R))
        return VTD_FR_READ;
    if ((access & VTD_ACC_W) && !(perm & VTD_PERM_W))
        return VTD_FR_WRITE;
    if ((access & VTD_ACC_X) && ssee && !(perm & VTD_PERM_X))
        return VTD_FR_EXEC;
    return 0;
}


/* A non-present entry blocks the access as a permission failure; a bare request still needs R. */
static int ss_not_present_fault(unsigned access)
{
    return vtd_ss_access_fault(access & (VTD_ACC_R | VTD_ACC_W | VTD_ACC_X) ? access : VTD_ACC_R, 0, true);
}

/* Set A on every entry used and D on the leaf for writes (VT-d 3.7.2 with SSADE). */
static int ss_update_ad(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, struct ss_walk *w,
                        unsigned from_level, const struct vtd_stage_result *out, bool write,
                        struct vtd_fault_info *f)
{
    for (unsigned l = from_level; l >= out->leaf_level; l--) {
        uint64_t bits = VTD_SS_A | (l == out->leaf_level && write ? VTD_SS_D : 0);
        if ((w->entry[l] & bits) == bits)
            continue;
        if (!pe->pwsnp)
            return walk_fault(f, VTD_FR_SS_AD_NOSNOOP, w->entry_addr[l], l);
        if (walk_set_bits(env, VTD_TR_SS, l, w->entry_addr[l], &w->entry[l], bits))
            return walk_fault(f, VTD_FR_SS_ACCESS, w->entry_addr[l], l);
    }
    return 0;
}

struct vtd_walk_start vtd_ss_full_start(const struct vtd_pasid_cfg *pe)
{
    return (struct vtd_walk_start){.level = pe->ss_levels, .table = pe->ssptptr, .perm = VTD_PERM_ALL};
}

/* The checks made before the first read, with the result's scalar fields reset. */
static int ss_walk_start_checks(const struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe,
                                const struct vtd_walk_start *start, uint64_t gpa, struct vtd_stage_result *out,
                                struct vtd_fault_info *f)
{
    /* Only the scalar fields are reset: the per-level arrays are filled as the walk goes. */
    out->top_level = pe->ss_levels;
    out->leaf_level = 0;
    out->perm = 0;
    out->dirty = false;
    if (gpa & vtd_bits_above(12 + 9 * pe->ss_levels))
        return walk_fault(f, VTD_FR_BEYOND_AGAW, 0, 0);
    if (start->level == pe->ss_levels && (start->table & vtd_bits_above(env->caps->haw)))
        return walk_fault(f, VTD_FR_SSPTPTR, start->table, 0);
    return 0;
}

/*
 * The levels of the walk, the access check and the A/D updates, on the path the caller chose
 * (`lean` and `record` are constants once inlined): `lean` reads through walk_read64_lean()
 * and leaves the reads made in *nread for the caller to count; `record` stores each level's
 * table and the permissions above it for the paging-structure caches. `top` is start->level,
 * passed apart so that a caller may make it a constant: the loop then unrolls, and each
 * level's index shift, reserved masks and leaf test become constants.
 */
static inline __attribute__((always_inline)) int
ss_walk_levels(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
               unsigned top, uint64_t gpa, unsigned access, const struct walk_ss_rules *rules, bool lean,
               bool record, unsigned *nread, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    struct ss_walk w;
    uint64_t table = start->table;
    unsigned perm = start->perm;
    /* The AND of the entries read: an entry's permissions are its low bits, so theirs
     * (ss_entry_perm of it) are the walk's without a per-level fold when nothing is recorded. */
    uint64_t all = ~UINT64_C(0);
    /* Loop invariants in locals: the stores into *out below could otherwise alias them. */
    const uint64_t (*rsvd)[VTD_PT_PS_KINDS] = rules->rsvd;
    const uint64_t present = rules->present;
    const unsigned implied = rules->implied;
#pragma GCC unroll 5
    for (unsigned l = top; l >= 1; l--) {
        if (record) {
            out->table[l] = table;
            out->perm_above[l] = perm;
        }
        uint64_t off = 8 * (uint64_t)vtd_pt_index(gpa, l), addr = table + off, e;
        ++*nread;
        /* Below the top, `table` came from an entry's address field: it starts a frame. */
        int rc = lean && l != top ? walk_read64_lean_in(env, VTD_TR_SS, l, table, off, &e)
                                  : walk_read64_on(env, lean, VTD_TR_SS, l, addr, &e);
        if (rc)
            return walk_fault(f, VTD_FR_SS_ACCESS, addr, l);
        w.entry_addr[l] = addr;
        w.entry[l] = e;
        all &= e;
        if (!(e & present))
            return walk_fault(f, ss_not_present_fault(access), addr, l);
        if (walk_entry_rsvd(e, VTD_SS_PS, rsvd[l]))
            return walk_fault(f, VTD_FR_SS_RSVD, addr, l);
        if (record)
            perm &= ss_entry_perm(e, implied);
        if (vtd_ss_entry_is_leaf(e, l)) {
            out->leaf_level = l;
            out->page_shift = vtd_pt_level_shift(l);
            out->out = vtd_ss_entry_addr(e, l) | (gpa & ((UINT64_C(1) << out->page_shift) - 1));
            out->leaf_entry_addr = addr;
            break;
        }
        table = e & VTD_SS_ADDR;
    }
    if (!record)
        perm &= ss_entry_perm(all, implied);
    out->perm = out->raw_perm = perm & ~VTD_PERM_U;
    if (!(access & VTD_ACC_NOCHECK)) {
        int code = vtd_ss_access_fault(access, out->perm, pe->ssee);
        if (code)
            return walk_fault(f, code, out->leaf_entry_addr, out->leaf_level);
    }
    bool write = (access & VTD_ACC_W) && (out->perm & VTD_PERM_W);
    if (pe->ssade) {
        int rc = ss_update_ad(env, pe, &w, top, out, write, f);
        if (rc)
            return rc;
    }
    /* Without SSADE nothing tracks dirtiness, so writes never need an update. */
    out->dirty = !pe->ssade || (w.entry[out->leaf_level] & VTD_SS_D);
    return 0;
}

int vtd_ss_walk_from(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t gpa, unsigned access, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    env->paging_pwsnp = pe->pwsnp;
    int rc = ss_walk_start_checks(env, pe, start, gpa, out, f);
    if (rc)
        return rc;
    const struct walk_ss_rules rules = walk_ss_rules_with(walk_masks(env), pe);
    unsigned n = 0;
    if (!walk_is_lean(env))
        return ss_walk_levels(env, pe, start, start->level, gpa, access, &rules, false, true, &n, out, f);
    /* The usual full depths with constant levels (ss_walk_levels). */
    if (start->level == 4)
        rc = ss_walk_levels(env, pe, start, 4, gpa, access, &rules, true, true, &n, out, f);
    else if (start->level == 5)
        rc = ss_walk_levels(env, pe, start, 5, gpa, access, &rules, true, true, &n, out, f);
    else
        rc = ss_walk_levels(env, pe, start, start->level, gpa, access, &rules, true, true, &n, out, f);
    walk_count_paging(env, VTD_TR_SS, n);
    return rc;
}

/* Whether every upper entry the memo remembers still holds its value: read each again (the
 * reads the walk makes of them) and compare, without a test per level. */
static inline __attribute__((always_inline)) bool ss_memo_current(const struct vtd_walk_ss_memo *m, unsigned top)
{
    uint64_t diff = 0;
#pragma GCC unroll 4
    for (unsigned l = top; l >= 2; l--) {
        uint64_t e;
        __builtin_memcpy(&e, m->at[l], 8); /* little-endian host, as mem.c */
        diff |= e ^ m->val[l];
    }
    return diff == 0;
}

/*
 * A table fetch whose upper entries the memo found unchanged (ss_memo_current): they passed the
 * walk's tests when remembered and pass them again, so the walk goes on at the remembered page
 * table with the level-1 entry, tested and used as ss_walk_levels() would. `top` reads in all.
 */
static inline __attribute__((always_inline)) int
ss_fetch_from_memo(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa,
                   const struct vtd_walk_ss_memo *m, const struct walk_ss_rules *rules, unsigned top,
                   unsigned *nread, struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    *nread += top;
    uint64_t off = 8 * (uint64_t)vtd_pt_index(gpa, 1), addr = m->leaf_table + off, e;
    __builtin_memcpy(&e, m->leaf_frame + off, 8); /* little-endian host, as mem.c */
    if (!(e & rules->present))
        return walk_fault(f, ss_not_present_fault(VTD_ACC_R), addr, 1);
    if (e & rules->rsvd[1][(e & VTD_SS_PS) != 0])
        return walk_fault(f, VTD_FR_SS_RSVD, addr, 1);
    out->leaf_level = 1;
    out->page_shift = VTD_PAGE_SHIFT;
    out->out = vtd_ss_entry_addr(e, 1) | (gpa & ~VTD_PAGE_MASK);
    out->leaf_entry_addr = addr;
    out->perm = out->raw_perm = ss_entry_perm(m->all & e, rules->implied) & VTD_PERM_ALL & ~VTD_PERM_U;
    if (pe->ssade) {
        /* The remembered entries have A set: only the leaf may need it. */
        struct ss_walk w;
        w.entry[1] = e;
        w.entry_addr[1] = addr;
        int rc = ss_update_ad(env, pe, &w, 1, out, false, f);
        if (rc)
            return rc;
        e = w.entry[1];
    }
    out->dirty = !pe->ssade || (e & VTD_SS_D);
    return 0;
}

int walk_ss_table_fetch_lean(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa,
                             const struct walk_ss_nest *nest, unsigned *nread, struct vtd_stage_result *out,
                             struct vtd_fault_info *f)
{
    /* ss_walk_start_checks() with the walk's shared values; the result is read only on success,
     * when every field named above has been written. */
    if (gpa & nest->beyond_agaw)
        return walk_fault(f, VTD_FR_BEYOND_AGAW, 0, 0);
    struct vtd_walk_start start = vtd_ss_full_start(pe);
    if (nest->ptr_beyond_haw)
        return walk_fault(f, VTD_FR_SSPTPTR, start.table, 0);
    const unsigned access = VTD_ACC_R | VTD_ACC_NOCHECK;
    const struct vtd_walk_ss_memo *m = &env->host.ss_memo;
    /* The memo's key fixes the depth: each case below tests it with constant levels. */
    bool in_memo = m->key == nest->memo_key && m->region == gpa >> WALK_SS_MEMO_REGION_SHIFT;
    int rc;
    /* The usual depths with constant levels (ss_walk_levels); AW allows only 3, 4 and 5. */
    if (start.level == 4) {
        if (in_memo && ss_memo_current(m, 4))
            return ss_fetch_from_memo(env, pe, gpa, m, &nest->rules, 4, nread, out, f);
        rc = ss_walk_levels(env, pe, &start, 4, gpa, access, &nest->rules, true, false, nread, out, f);
    } else if (start.level == 5) {
        if (in_memo && ss_memo_current(m, 5))
            return ss_fetch_from_memo(env, pe, gpa, m, &nest->rules, 5, nread, out, f);
        rc = ss_walk_levels(env, pe, &start, 5, gpa, access, &nest->rules, true, false, nread, out, f);
    } else {
        if (in_memo && ss_memo_current(m, start.level))
            return ss_fetch_from_memo(env, pe, gpa, m, &nest->rules, start.level, nread, out, f);
        rc = ss_walk_levels(env, pe, &start, start.level, gpa, access, &nest->rules, true, false, nread, out, f);
    }
    if (!rc && out->leaf_level == 1)
        walk_ss_memo_fill(env, pe, &nest->rules, nest->memo_key, gpa);
    return rc;
}

int vtd_ss_walk(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa, unsigned access,
                struct vtd_stage_result *out, struct vtd_fault_info *f)
{
    struct vtd_walk_start start = vtd_ss_full_start(pe);
    return vtd_ss_walk_from(env, pe, &start, gpa, access, out, f);
}
