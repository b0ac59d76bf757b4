/*
 * builder.c: construct translation structures in simulated memory (see builder.h).
 *
 * Memory results are mapped onto the builder's error set: VTD_MEM_EFAULT (beyond the host
 * address width, or an abort range) becomes -ERANGE; ENOMEM and EINVAL keep their meaning.
 *
 * Operations on a range of a page table check the whole range first and write only when all
 * of it can be done, so a refused call leaves memory as it was. Map even counts the tables it
 * will need and refuses with -ENOMEM up front. What remains possible is a memory failure in the
 * middle of writing (frame limit, abort range): the tables and entries written so far stay,
 * which is harmless since new tables are empty until their leaf is written.
 */
#include "walker/builder.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "walker/fs_entry.h"
#include "walker/legacy_ctx_entry.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "walker/ss_entry.h"
#include "walker/walk.h"

_Static_assert(VTD_ROOT_ENTRIES * VTD_ROOT_ENTRY_SIZE == VTD_PAGE_SIZE, "a root table is one page");
_Static_assert(VTD_PASID_TABLE_ENTRIES * VTD_PASID_ENTRY_SIZE == VTD_PAGE_SIZE, "a PASID table is one page");

#define ROOT_HI_DEVFN 0x80u          /* devfn 128-255 use the root entry's high qword (VT-d 9.2) */
#define QW_BYTES sizeof(uint64_t)
#define CTX_QWORDS (VTD_CTX_ENTRY_SIZE / QW_BYTES)
#define PASID_QWORDS (VTD_PASID_ENTRY_SIZE / QW_BYTES)

#define PT_ENTRY_SIZE QW_BYTES
#define PT_ENTRIES (VTD_PAGE_SIZE / PT_ENTRY_SIZE)
#define PT_MAX_LEAF_LEVEL 3u         /* 1 GiB pages are the largest (VT-d 9.7/9.8) */
#define PT_MAX_LEVELS 5u

/* ---- memory ---------------------------------------------------------------------------- */

static int mem_rc(int rc)
{
    switch (rc) {
    case VTD_MEM_OK: return 0;
    case VTD_MEM_EFAULT: return -ERANGE;
    case VTD_MEM_ENOMEM: return -ENOMEM;
    case VTD_MEM_EINVAL: return -EINVAL;
    default: return rc < 0 ? rc : -EINVAL;
    }
}

static int rd64(const struct vtd_builder *b, uint64_t pa, uint64_t *v) { return mem_rc(vtd_mem_read64(b->mem, pa, v)); }
/* Write back what was written when the builder flushes its writes (flush_writes). */
static int wr_flush(const struct vtd_builder *b, uint64_t pa, uint64_t len)
{
    return b->flush_writes ? mem_rc(vtd_mem_clflush(b->mem, pa, len, NULL)) : 0;
}

static int wr64(const struct vtd_builder *b, uint64_t pa, uint64_t v)
{
    int rc = mem_rc(vtd_mem_write64(b->mem, pa, v));
    return rc ? rc : wr_flush(b, pa, 8);
}

/* End (exclusive) of an address space of `width` bits. */
static uint64_t space_end(unsigned width) { return width >= 64 ? UINT64_MAX : UINT64_C(1) << width; }

/* Largest value a field can hold. */
static uint64_t field_max(uint64_t mask) { return vtd_field(mask, mask); }

/* Whether [base, base+size) lies inside an address space ending at `end`. */
static bool range_fits(uint64_t base, uint64_t size, uint64_t end) { return base + size >= base && base + size <= end; }

/* ---- host frame pool ------------------------------------------------------------------- */

int vtd_builder_init(struct vtd_builder *b, struct vtd_mem *mem, const struct vtd_caps *caps,
                     uint64_t pool_base, uint64_t pool_size)
{
    if (!b || !mem || !caps || ((pool_base | pool_size) & ~VTD_PAGE_MASK))
        return -EINVAL;
    if (!range_fits(pool_base, pool_size, space_end(caps->haw)))
        return -ERANGE;
    *b = (struct vtd_builder){ .mem = mem, .caps = caps, .pool_next = pool_base, .pool_end = pool_base + pool_size };
    return 0;
}

static uint64_t builder_free_pages(const struct vtd_builder *b) { return (b->pool_end - b->pool_next) / VTD_PAGE_SIZE; }

/* `n` contiguous zeroed frames; the pool is a bump allocator, so consecutive pages are contiguous. */
static int builder_alloc_pages(struct vtd_builder *b, uint64_t n, uint64_t *pa)
{
    if (builder_free_pages(b) < n)
        return -ENOMEM;
    int rc = mem_rc(vtd_mem_fill(b->mem, b->pool_next, 0, (size_t)(n * VTD_PAGE_SIZE)));
    if (!rc)
        rc = wr_flush(b, b->pool_next, n * VTD_PAGE_SIZE);
    if (rc)
        return rc;
    *pa = b->pool_next;
    b->pool_next += n * VTD_PAGE_SIZE;
    return 0;
}

int vtd_builder_alloc_page(struct vtd_builder *b, uint64_t *pa)
{
    if (!b || !pa)
        return -EINVAL;
    return builder_alloc_pages(b, 1, pa);
}

/* ---- root and context tables ----------------------------------------------------------- */

int vtd_build_root_table(struct vtd_builder *b, uint64_t *rtaddr)
{
    if (!b || !rtaddr)
        return -EINVAL;
    uint64_t rta;
    int rc = builder_alloc_pages(b, 1, &rta);
    if (rc)
        return rc;
    *rtaddr = rta | vtd_field_prep(VTD_TTM_SCALABLE, VTD_RTADDR_TTM);
    return 0;
}

/* Address of the root-entry qword serving `sid` (VT-d 9.2: low half devfn 0-127, high 128-255). */
static uint64_t root_half_addr(uint64_t rta, uint16_t sid)
{
    uint8_t bus = (uint8_t)(sid >> 8), devfn = (uint8_t)sid;
    return vtd_root_entry_addr(rta, bus) + ((devfn & ROOT_HI_DEVFN) ? QW_BYTES : 0);
}

/* The context table serving `sid`, created and hooked into the root entry if absent. */
static int ctx_table_for(struct vtd_builder *b, uint64_t rta, uint16_t sid, uint64_t *ctp)
{
    uint64_t half_addr = root_half_addr(rta, sid), half;
    int rc = rd64(b, half_addr, &half);
    if (rc)
        return rc;
    if (half & VTD_ROOT_P) {
        *ctp = half & VTD_ROOT_CTP;
        return 0;
    }
    rc = builder_alloc_pages(b, 1, ctp);
    return rc ? rc : wr64(b, half_addr, *ctp | VTD_ROOT_P);
}

/* The four qwords of a scalable-mode context entry (VT-d 9.4). */
static void ctx_entry_encode(const struct vtd_ctx *c, uint64_t qw[CTX_QWORDS])
{
    qw[0] = VTD_CTX_P | (c->fpd ? VTD_CTX_FPD : 0) | (c->dte ? VTD_CTX_DTE : 0) | (c->paside ? VTD_CTX_PASIDE : 0) |
            (c->pre ? VTD_CTX_PRE : 0) | vtd_field_prep(c->pdts, VTD_CTX_PDTS) | (c->pdtp & VTD_CTX_PDTP);
    qw[1] = vtd_field_prep(c->rid_pasid, VTD_CTX_RID_PASID) | (c->rid_priv ? VTD_CTX_RID_PRIV : 0);
    for (size_t i = 2; i < CTX_QWORDS; i++)
        qw[i] = 0;
}

/* Whether the decoded fields fit the entry (the encoding must not silently drop bits). */
static bool ctx_representable(const struct vtd_ctx *c)
{
    return c->pdts <= field_max(VTD_CTX_PDTS) && !(c->pdtp & ~VTD_CTX_PDTP) &&
           c->rid_pasid <= field_max(VTD_CTX_RID_PASID);
}

static bool rtaddr_is_scalable(uint64_t rtaddr)
{
    return !(rtaddr & VTD_RTADDR_RSVD) && vtd_field(rtaddr, VTD_RTADDR_TTM) == VTD_TTM_SCALABLE;
}

/* Write an entry of several qwords, the one holding the present bit (qw0) last. */
static int write_entry_p_last(struct vtd_builder *b, uint64_t addr, const uint64_t *qw, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        int rc = wr64(b, addr + i * QW_BYTES, qw[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int vtd_build_context(struct vtd_builder *b, uint64_t rtaddr, uint16_t sid, const struct vtd_ctx *ctx)
{
    if (!b || !ctx || !rtaddr_is_scalable(rtaddr) || !ctx_representable(ctx))
        return -EINVAL;
    uint64_t ctp, qw[CTX_QWORDS];
    int rc = ctx_table_for(b, rtaddr & VTD_RTADDR_RTA, sid, &ctp);
    if (rc)
        return rc;
    ctx_entry_encode(ctx, qw);
    return write_entry_p_last(b, vtd_ctx_entry_addr(ctp, (uint8_t)sid), qw, CTX_QWORDS);
}

/* ---- legacy-mode root and context tables (VT-d 9.1, 9.3) ------------------------------- */

int vtd_build_legacy_root_table(struct vtd_builder *b, uint64_t *rtaddr)
{
    int rc = vtd_build_root_table(b, rtaddr);
    if (!rc)
        *rtaddr &= ~VTD_RTADDR_TTM; /* TTM 00b */
    return rc;
}

/* The legacy context table of a bus (one for all 256 devfns, from the root entry's low qword),
 * created and hooked into the root entry if absent. */
static int legacy_ctx_table_for(struct vtd_builder *b, uint64_t rta, uint8_t bus, uint64_t *ctp)
{
    return ctx_table_for(b, rta, (uint16_t)(bus << 8), ctp);
}

static bool lctx_representable(const struct vtd_ctx *c)
{
    return c->tt <= field_max(VTD_LCTX_TT) && c->ss_levels >= 3 && c->ss_levels <= 5 &&
           !(c->slptptr & ~VTD_LCTX_SLPTPTR);
}

int vtd_build_legacy_context(struct vtd_builder *b, uint64_t rtaddr, uint16_t sid, const struct vtd_ctx *ctx)
{
    if (!b || !ctx || (rtaddr & VTD_RTADDR_RSVD) || !vtd_rtaddr_is_legacy(rtaddr) || !lctx_representable(ctx))
        return -EINVAL;
    uint64_t ctp;
    int rc = legacy_ctx_table_for(b, rtaddr & VTD_RTADDR_RTA, (uint8_t)(sid >> 8), &ctp);
    if (rc)
        return rc;
    struct vtd_lctx_entry ce;
    lctx_entry_encode(ctx, &ce);
    uint64_t qw[2] = {ce.lo, ce.hi};
    return write_entry_p_last(b, vtd_lctx_entry_addr(ctp, (uint8_t)sid), qw, 2);
}

/* ---- PASID directory and tables -------------------------------------------------------- */

int vtd_build_pasid_dir(struct vtd_builder *b, unsigned pdts, uint64_t *pdtp)
{
    if (!b || !pdtp || pdts > field_max(VTD_CTX_PDTS))
        return -EINVAL;
    /* 2^(pdts+7) entries of 8 bytes: 1 KiB .. 128 KiB, always whole pages (VT-d 9.4). */
    uint64_t bytes = vtd_ctx_pdir_entries(&(struct vtd_ctx){ .pdts = pdts }) * (uint64_t)VTD_PDIR_ENTRY_SIZE;
    return builder_alloc_pages(b, (bytes + VTD_PAGE_SIZE - 1) / VTD_PAGE_SIZE, pdtp);
}

/* The PASID table for `pasid`; created and hooked into the directory if absent and `create`. */
static int pasid_table_for(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid, bool create, uint64_t *ptp)
{
    if (ctx->pdts > field_max(VTD_CTX_PDTS))
        return -EINVAL;
    if (vtd_pasid_dir_index(pasid) >= vtd_ctx_pdir_entries(ctx))
        return -ERANGE;
    uint64_t de_addr = vtd_pasid_dir_entry_addr(ctx->pdtp, pasid), de;
    int rc = rd64(b, de_addr, &de);
    if (rc)
        return rc;
    if (de & VTD_PDIR_P) {
        *ptp = de & VTD_PDIR_PTP;
        return 0;
    }
    if (!create)
        return -ENOENT;
    rc = builder_alloc_pages(b, 1, ptp);
    return rc ? rc : wr64(b, de_addr, *ptp | VTD_PDIR_P);
}

/* Whether pasid_entry_encode() can represent the configuration without dropping bits. */
static bool pasid_cfg_representable(const struct vtd_pasid_cfg *c)
{
    if (c->pgtt > field_max(VTD_PE_PGTT) || (c->ssptptr & ~VTD_PE_SSPTPTR) || (c->fsptptr & ~VTD_PE_FSPTPTR))
        return false;
    if (vtd_pgtt_uses_fs(c->pgtt) && c->fs_levels != 4 && c->fs_levels != 5)
        return false;
    return !vtd_pgtt_uses_ss(c->pgtt) || (c->ss_levels >= 3 && c->ss_levels <= 5);
}

int vtd_build_pasid_entry(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid,
                          const struct vtd_pasid_cfg *cfg)
{
    if (!b || !ctx || !cfg || !pasid_cfg_representable(cfg))
        return -EINVAL;
    uint64_t ptp;
    int rc = pasid_table_for(b, ctx, pasid, true, &ptp);
    if (rc)
        return rc;
    struct vtd_pasid_entry pe;
    pasid_entry_encode(cfg, &pe);
    return write_entry_p_last(b, vtd_pasid_entry_addr(ptp, pasid), pe.qw, PASID_QWORDS);
}

int vtd_build_pasid_clear(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid)
{
    if (!b || !ctx)
        return -EINVAL;
    uint64_t ptp;
    int rc = pasid_table_for(b, ctx, pasid, false, &ptp);
    if (rc == -ENOENT)
        return 0; /* no table: the entry is already not present */
    if (rc)
        return rc;
    /* Present bit first, so the entry is never present with half its fields gone. */
    uint64_t addr = vtd_pasid_entry_addr(ptp, pasid);
    for (size_t i = 0; i < PASID_QWORDS && !rc; i++)
        rc = wr64(b, addr + i * QW_BYTES, 0);
    return rc;
}

uint64_t vtd_build_pasid_entry_addr(struct vtd_builder *b, const struct vtd_ctx *ctx, uint32_t pasid)
{
    uint64_t ptp;
    if (!b || !ctx || pasid_table_for(b, ctx, pasid, false, &ptp))
        return 0;
    return vtd_pasid_entry_addr(ptp, pasid);
}

void vtd_pasid_cfg_init(struct vtd_pasid_cfg *cfg, unsigned pgtt, uint16_t did)
{
    *cfg = (struct vtd_pasid_cfg){ .pgtt = pgtt, .did = did, .pwsnp = true, .fs_levels = 4, .ss_levels = 4 };
}

/* ---- page tables: the two formats ------------------------------------------------------ */

/*
 * What differs between first-stage (VT-d 9.7, IA-32e) and second-stage (VT-d 9.8) entries. A
 * permission bit of 0 means the format cannot grant it separately: FS reads come with presence.
 */
struct pt_fmt {
    unsigned min_levels, max_levels;
    uint64_t five_level_cap;   /* CAP bit a 5-level table needs (0: none) */
    uint64_t large_cap[PT_MAX_LEAF_LEVEL + 1]; /* CAP bit a leaf at level 2/3 needs (0: none) */
    uint64_t present;          /* any of these makes an entry present */
    uint64_t table_bits;       /* a table pointer grants everything: the leaf decides */
    uint64_t leaf_bits;        /* in every leaf */
    uint64_t r, w, x, u;       /* bits granting a permission */
    uint64_t xd;               /* bit denying execute */
    uint64_t ps, a, d, snp, addr;
};

static const struct pt_fmt pt_fmts[] = {
    [VTD_PT_FS] = {
        .min_levels = 4, .max_levels = 5, .five_level_cap = VTD_CAP_FS5LP,
        .large_cap = { [3] = VTD_CAP_FS1GP }, /* 2 MiB pages need no capability */
        .present = VTD_FS_P, .table_bits = VTD_FS_P | VTD_FS_RW | VTD_FS_US, .leaf_bits = VTD_FS_P,
        .w = VTD_FS_RW, .u = VTD_FS_US, .xd = VTD_FS_XD,
        .ps = VTD_FS_PS, .a = VTD_FS_A, .d = VTD_FS_D, .addr = VTD_FS_ADDR,
    },
    [VTD_PT_SS] = {
        .min_levels = 3, .max_levels = 5,
        .large_cap = { [2] = VTD_CAP_SSLPS_2M, [3] = VTD_CAP_SSLPS_1G },
        .present = VTD_SS_R | VTD_SS_W | VTD_SS_X, .table_bits = VTD_SS_R | VTD_SS_W | VTD_SS_X,
        .r = VTD_SS_R, .w = VTD_SS_W, .x = VTD_SS_X,
        .ps = VTD_SS_PS, .a = VTD_SS_A, .d = VTD_SS_D, .snp = VTD_SS_SNP, .addr = VTD_SS_ADDR,
    },
};

static const struct pt_fmt *pt_fmt_of(const struct vtd_pt *pt) { return &pt_fmts[pt->fmt]; }

static bool pt_present(const struct pt_fmt *f, uint64_t e) { return e & f->present; }
static bool pt_is_leaf(const struct pt_fmt *f, uint64_t e, unsigned level)
{
    return level == 1 || (level <= PT_MAX_LEAF_LEVEL && (e & f->ps));
}
static uint64_t pt_level_size(unsigned level) { return UINT64_C(1) << vtd_pt_level_shift(level); }
/* Input width of the table: 39, 48 or 57 bits. */
static unsigned pt_width(const struct vtd_pt *pt) { return vtd_pt_level_shift(pt->levels + 1); }

/* Where the table's leaves may point: host memory, or the backing table's input space. */
static uint64_t pt_output_end(const struct vtd_pt *pt)
{
    return pt->backing ? space_end(pt_width(pt->backing)) : space_end(pt->b->caps->haw);
}

/* Leaf level for a page size (12, 21, 30), 0 if none. */
static unsigned pt_level_for_shift(unsigned page_shift)
{
    for (unsigned level = 1; level <= PT_MAX_LEAF_LEVEL; level++)
        if (vtd_pt_level_shift(level) == page_shift)
            return level;
    return 0;
}

static bool pt_leaf_allowed(const struct vtd_pt *pt, unsigned level)
{
    if (level < 1 || level > PT_MAX_LEAF_LEVEL)
        return false;
    uint64_t cap = pt_fmt_of(pt)->large_cap[level];
    return !cap || vtd_cap_has(pt->b->caps, cap);
}

/* Permission bits of a leaf granting `perm` (VT-d 9.7: XD when not executable; 9.8: R/W/X). */
static uint64_t pt_perm_bits(const struct pt_fmt *f, unsigned perm)
{
    return f->leaf_bits | ((perm & VTD_PERM_R) ? f->r : 0) | ((perm & VTD_PERM_W) ? f->w : 0) |
           ((perm & VTD_PERM_X) ? f->x : f->xd) | ((perm & VTD_PERM_U) ? f->u : 0);
}
static uint64_t pt_perm_mask(const struct pt_fmt *f) { return f->r | f->w | f->x | f->u | f->xd; }

static unsigned pt_leaf_perm(const struct pt_fmt *f, uint64_t e)
{
    unsigned perm = 0;
    if (!f->r || (e & f->r))
        perm |= VTD_PERM_R;
    if (e & f->w)
        perm |= VTD_PERM_W;
    if (f->xd ? !(e & f->xd) : (e & f->x) != 0)
        perm |= VTD_PERM_X;
    if (e & f->u)
        perm |= VTD_PERM_U;
    return perm;
}

/* A permission set the format can express in a present leaf. */
static bool pt_perm_ok(const struct pt_fmt *f, unsigned perm)
{
    if ((perm & ~VTD_PERM_ALL) || ((perm & VTD_PERM_U) && !f->u))
        return false;
    return pt_present(f, pt_perm_bits(f, perm)); /* SS: a leaf granting nothing is not present */
}

static bool pt_flags_ok(const struct vtd_pt *pt, unsigned flags)
{
    if (flags & ~(VTD_MAP_AD | VTD_MAP_SNP))
        return false;
    return !(flags & VTD_MAP_SNP) || (pt_fmt_of(pt)->snp && vtd_ecap_has(pt->b->caps, VTD_ECAP_SC));
}

static uint64_t pt_entry_for_leaf(const struct pt_fmt *f, uint64_t pa, unsigned level, unsigned perm, unsigned flags)
{
    uint64_t e = pt_perm_bits(f, perm) | (pa & f->addr) | (level > 1 ? f->ps : 0);
    if (flags & VTD_MAP_AD)
        e |= f->a | ((perm & VTD_PERM_W) ? f->d : 0);
    if (flags & VTD_MAP_SNP)
        e |= f->snp;
    return e;
}

static uint64_t pt_entry_for_table(const struct pt_fmt *f, uint64_t table, unsigned flags)
{
    return f->table_bits | (table & f->addr) | ((flags & VTD_MAP_AD) ? f->a : 0);
}

/* Frame a leaf maps (aligned to its page size). */
static uint64_t pt_leaf_frame(const struct pt_fmt *f, uint64_t e, unsigned level)
{
    return e & f->addr & ~(pt_level_size(level) - 1);
}

/* ---- page tables: memory of the table's own address space ------------------------------ */

int vtd_pt_table_hpa(const struct vtd_pt *pt, uint64_t addr, uint64_t *hpa)
{
    if (!pt || !hpa)
        return -EINVAL;
    if (!pt->backing) {
        *hpa = addr;
        return 0;
    }
    return vtd_pt_lookup(pt->backing, addr, hpa, NULL, NULL);
}

static int pt_read(const struct vtd_pt *pt, uint64_t addr, uint64_t *e)
{
    uint64_t hpa;
    int rc = vtd_pt_table_hpa(pt, addr, &hpa);
    return rc ? rc : rd64(pt->b, hpa, e);
}

static int pt_write(const struct vtd_pt *pt, uint64_t addr, uint64_t e)
{
    uint64_t hpa;
    int rc = vtd_pt_table_hpa(pt, addr, &hpa);
    return rc ? rc : wr64(pt->b, hpa, e);
}

/*
 * n consecutive entries from addr, read or written as one block: one bounds, abort and frame
 * check for a whole run of a table instead of one per entry. A table is one page, so a run in
 * it is contiguous in host memory too (nested: the backing maps the page whole). Entries are
 * little-endian in memory (VT-d 9: every structure is).
 */
static int pt_read_run(const struct vtd_pt *pt, uint64_t addr, uint64_t *e, size_t n)
{
    uint8_t bytes[VTD_PAGE_SIZE];
    uint64_t hpa;
    int rc = vtd_pt_table_hpa(pt, addr, &hpa);
    rc = rc ? rc : mem_rc(vtd_mem_read(pt->b->mem, hpa, bytes, n * PT_ENTRY_SIZE));
    if (rc)
        return rc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(e, bytes, n * PT_ENTRY_SIZE);
#else
    for (size_t i = 0; i < n; i++) {
        e[i] = 0;
        for (unsigned k = 0; k < PT_ENTRY_SIZE; k++)
            e[i] |= (uint64_t)bytes[i * PT_ENTRY_SIZE + k] << (8 * k);
    }
#endif
    return 0;
}

static int pt_write_run(const struct vtd_pt *pt, uint64_t addr, const uint64_t *e, size_t n)
{
    uint8_t bytes[VTD_PAGE_SIZE];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(bytes, e, n * PT_ENTRY_SIZE);
#else
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < PT_ENTRY_SIZE; k++)
            bytes[i * PT_ENTRY_SIZE + k] = (uint8_t)(e[i] >> (8 * k));
#endif
    uint64_t hpa;
    int rc = vtd_pt_table_hpa(pt, addr, &hpa);
    rc = rc ? rc : mem_rc(vtd_mem_write(pt->b->mem, hpa, bytes, n * PT_ENTRY_SIZE));
    return rc ? rc : wr_flush(pt->b, hpa, n * PT_ENTRY_SIZE);
}

static uint64_t pt_free_pages(const struct vtd_pt *pt)
{
    return pt->backing ? (pt->gpa_end - pt->gpa_next) / VTD_PAGE_SIZE : builder_free_pages(pt->b);
}

/* Whether `n` more table pages can be had (nested: and the backing maps every one of them). */
static int pt_pool_has_room(const struct vtd_pt *pt, uint64_t n)
{
    if (pt_free_pages(pt) < n)
        return -ENOMEM;
    for (uint64_t i = 0; pt->backing && i < n; i++) {
        uint64_t hpa;
        int rc = vtd_pt_table_hpa(pt, pt->gpa_next + i * VTD_PAGE_SIZE, &hpa);
        if (rc)
            return rc;
    }
    return 0;
}

/* A zeroed table page in the table's own address space. */
static int pt_alloc_table(struct vtd_pt *pt, uint64_t *addr)
{
    if (!pt->backing)
        return builder_alloc_pages(pt->b, 1, addr);
    if (pt_free_pages(pt) < 1)
        return -ENOMEM;
    uint64_t hpa;
    int rc = vtd_pt_table_hpa(pt, pt->gpa_next, &hpa);
    if (!rc)
        rc = mem_rc(vtd_mem_fill(pt->b->mem, hpa, 0, VTD_PAGE_SIZE));
    if (!rc)
        rc = wr_flush(pt->b, hpa, VTD_PAGE_SIZE);
    if (rc)
        return rc;
    *addr = pt->gpa_next;
    pt->gpa_next += VTD_PAGE_SIZE;
    return 0;
}

int vtd_pt_init(struct vtd_pt *pt, struct vtd_builder *b, enum vtd_pt_format fmt, unsigned levels,
                const struct vtd_pt *backing, uint64_t gpa_pool_base, uint64_t gpa_pool_size)
{
    if (!pt || !b || (fmt != VTD_PT_FS && fmt != VTD_PT_SS))
        return -EINVAL;
    const struct pt_fmt *f = &pt_fmts[fmt];
    if (levels < f->min_levels || levels > f->max_levels)
        return -EINVAL;
    if (levels == PT_MAX_LEVELS && f->five_level_cap && !vtd_cap_has(b->caps, f->five_level_cap))
        return -EINVAL;
    struct vtd_pt t = { .b = b, .fmt = fmt, .levels = levels, .backing = backing };
    if (backing) {
        /* Nesting is a first stage over a second stage in the same memory (VT-d 3.8). */
        if (fmt != VTD_PT_FS || backing->fmt != VTD_PT_SS || backing->b->mem != b->mem ||
            ((gpa_pool_base | gpa_pool_size) & ~VTD_PAGE_MASK))
            return -EINVAL;
        if (!range_fits(gpa_pool_base, gpa_pool_size, space_end(pt_width(backing))))
            return -ERANGE;
        t.gpa_next = gpa_pool_base;
        t.gpa_end = gpa_pool_base + gpa_pool_size;
    }
    int rc = pt_alloc_table(&t, &t.root);
    if (!rc)
        *pt = t;
    return rc;
}

/* ---- page tables: walking -------------------------------------------------------------- */

/* Where a descent stopped: the entry for some va at `level` of `table`, and its value. */
struct pt_pos {
    unsigned level;
    uint64_t table;
    uint64_t entry;
};

static uint64_t pt_pos_addr(const struct pt_pos *pos, uint64_t va)
{
    return pos->table + (uint64_t)vtd_pt_index(va, pos->level) * PT_ENTRY_SIZE;
}

/* Descend along va to level `stop`, or to the first non-present entry or leaf above it. */
static int pt_walk_to_level(const struct vtd_pt *pt, uint64_t va, unsigned stop, struct pt_pos *pos)
{
    const struct pt_fmt *f = pt_fmt_of(pt);
    pos->table = pt->root;
    for (pos->level = pt->levels;; pos->level--) {
        int rc = pt_read(pt, pt_pos_addr(pos, va), &pos->entry);
        if (rc)
            return rc;
        if (pos->level == stop || !pt_present(f, pos->entry) || pt_is_leaf(f, pos->entry, pos->level))
            return 0;
        pos->table = pos->entry & f->addr;
    }
}

/*
 * First-stage inputs are canonical (IA-32e): an upper-half address indexes the tables by its low
 * `width` bits. Folds it to those bits; -ERANGE for a non-canonical address.
 */
static int pt_fold_va(const struct vtd_pt *pt, uint64_t *va)
{
    unsigned w = pt_width(pt);
    if (pt->fmt != VTD_PT_FS || !(*va & vtd_bits_above(w)))
        return 0;
    if ((*va & vtd_bits_above(w - 1)) != vtd_bits_above(w - 1))
        return -ERANGE;
    *va &= ~vtd_bits_above(w);
    return 0;
}

int vtd_pt_lookup(const struct vtd_pt *pt, uint64_t va, uint64_t *pa, unsigned *page_shift, unsigned *perm)
{
    if (!pt)
        return -EINVAL;
    if (pt_fold_va(pt, &va) || (va & vtd_bits_above(pt_width(pt))))
        return -ERANGE;
    const struct pt_fmt *f = pt_fmt_of(pt);
    struct pt_pos pos;
    int rc = pt_walk_to_level(pt, va, 1, &pos);
    if (rc)
        return rc;
    if (!pt_present(f, pos.entry))
        return -ENOENT;
    if (pa)
        *pa = pt_leaf_frame(f, pos.entry, pos.level) | (va & (pt_level_size(pos.level) - 1));
    if (page_shift)
        *page_shift = vtd_pt_level_shift(pos.level);
    if (perm)
        *perm = pt_leaf_perm(f, pos.entry);
    return 0;
}

int vtd_pt_entry_addr(const struct vtd_pt *pt, uint64_t va, unsigned level, uint64_t *hpa)
{
    if (!pt || !hpa || level < 1 || level > pt->levels)
        return -EINVAL;
    if (pt_fold_va(pt, &va) || (va & vtd_bits_above(pt_width(pt))))
        return -ERANGE;
    struct pt_pos pos;
    int rc = pt_walk_to_level(pt, va, level, &pos);
    if (rc)
        return rc;
    return pos.level == level ? vtd_pt_table_hpa(pt, pt_pos_addr(&pos, va), hpa) : -ENOENT;
}

/* ---- page tables: mapping -------------------------------------------------------------- */

/* 1 if the table at `level` (or a table below it) holds a present leaf, 0 if not, or an error. */
static int pt_subtree_has_leaf(const struct vtd_pt *pt, uint64_t table, unsigned level)
{
    const struct pt_fmt *f = pt_fmt_of(pt);
    for (uint64_t i = 0; i < PT_ENTRIES; i++) {
        uint64_t e;
        int rc = pt_read(pt, table + i * PT_ENTRY_SIZE, &e);
        if (rc)
            return rc;
        if (!pt_present(f, e))
            continue;
        rc = pt_is_leaf(f, e, level) ? 1 : pt_subtree_has_leaf(pt, e & f->addr, level - 1);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Tables a map will create. The check pass visits addresses in increasing order, so a table
 * is new exactly when its region differs from the last one counted at its level.
 */
struct pt_new_tables {
    uint64_t count;
    bool seen[PT_MAX_LEVELS + 1];
    uint64_t region[PT_MAX_LEVELS + 1];
};

/* Count the tables at levels [leaf_level, missing_level) the path of va lacks. */
static void pt_count_new_tables(struct pt_new_tables *nt, uint64_t va, unsigned missing_level, unsigned leaf_level)
{
    for (unsigned level = leaf_level; level < missing_level; level++) {
        uint64_t region = va >> vtd_pt_level_shift(level + 1);
        if (!nt->seen[level] || nt->region[level] != region) {
            nt->seen[level] = true;
            nt->region[level] = region;
            nt->count++;
        }
    }
}

/*
 * A map visits consecutive slots, which share their path: the descent made for one address is
 * remembered, and the next address under the same table (or under the same missing entry or
 * leaf above it) reads one entry instead of one per level. Nothing but the map itself writes
 * the tables while it runs, so what was read stays true; the install pass records the table it
 * wrote into.
 */
struct pt_walk_memo {
    bool valid;
    unsigned stop;  /* the level the descent was asked for */
    unsigned shift; /* addresses equal above this bit share the remembered position */
    uint64_t key;
    struct pt_pos pos;
};

static void pt_memo_set(struct pt_walk_memo *m, uint64_t va, unsigned stop, const struct pt_pos *pos)
{
    *m = (struct pt_walk_memo){.valid = true, .stop = stop, .pos = *pos,
                               .shift = vtd_pt_level_shift(pos->level == stop ? stop + 1 : pos->level)};
    m->key = va >> m->shift;
}

static bool pt_memo_covers(const struct pt_walk_memo *m, uint64_t va, unsigned stop)
{
    return m->valid && m->stop == stop && va >> m->shift == m->key;
}

/* pt_walk_to_level through the memo. */
static int pt_walk_memo(const struct vtd_pt *pt, struct pt_walk_memo *m, uint64_t va, unsigned stop, struct pt_pos *pos)
{
    if (pt_memo_covers(m, va, stop)) {
        *pos = m->pos;
        /* Reached the level: another slot of the same table. Stopped above: the same entry. */
        return pos->level == stop ? pt_read(pt, pt_pos_addr(pos, va), &pos->entry) : 0;
    }
    m->valid = false;
    int rc = pt_walk_to_level(pt, va, stop, pos);
    if (!rc)
        pt_memo_set(m, va, stop, pos);
    return rc;
}

/* 0 if a leaf at `level` may be written for va (-EEXIST if it would cover a mapping). */
static int pt_check_free(const struct vtd_pt *pt, struct pt_walk_memo *memo, uint64_t va, unsigned level,
                         struct pt_new_tables *nt)
{
    const struct pt_fmt *f = pt_fmt_of(pt);
    struct pt_pos pos;
    int rc = pt_walk_memo(pt, memo, va, level, &pos);
    if (rc)
        return rc;
    if (!pt_present(f, pos.entry)) {
        pt_count_new_tables(nt, va, pos.level, level);
        return 0;
    }
    if (pt_is_leaf(f, pos.entry, pos.level))
        return -EEXIST;
    /* A large page may replace a table only when nothing below it is mapped (unmap keeps tables). */
    rc = pt_subtree_has_leaf(pt, pos.entry & f->addr, pos.level - 1);
    return rc > 0 ? -EEXIST : rc;
}

/* Write a leaf for va at `level`, creating the tables above it. The check pass found the slot
 * free, so a slot in the table the memo holds is written without a descent. */
static int pt_install_leaf(struct vtd_pt *pt, struct pt_walk_memo *memo, uint64_t va, unsigned level, uint64_t leaf,
                           unsigned flags)
{
    if (pt_memo_covers(memo, va, level) && memo->pos.level == level)
        return pt_write(pt, pt_pos_addr(&memo->pos, va), leaf);
    const struct pt_fmt *f = pt_fmt_of(pt);
    struct pt_pos pos;
    memo->valid = false;
    int rc = pt_walk_to_level(pt, va, level, &pos);
    while (!rc && pos.level > level) {
        if (pt_present(f, pos.entry))
            return -EEXIST; /* a leaf above: the check pass should have refused */
        uint64_t table;
        rc = pt_alloc_table(pt, &table);
        if (!rc)
            rc = pt_write(pt, pt_pos_addr(&pos, va), pt_entry_for_table(f, table, flags));
        pos.table = table;
        pos.entry = 0;
        pos.level--;
    }
    rc = rc ? rc : pt_write(pt, pt_pos_addr(&pos, va), leaf);
    if (!rc)
        pt_memo_set(memo, va, level, &pos);
    return rc;
}

/*
 * A map of one page size fills tables run by run: the slots from va to the end of its table
 * at `level`, or to the end of the range (bench_setup: a 256 GiB map spent ~220 instructions a
 * page checking and writing slot by slot).
 */
static uint64_t pt_run_slots(uint64_t va, unsigned level, uint64_t left)
{
    uint64_t in_table = PT_ENTRIES - vtd_pt_index(va, level);
    uint64_t wanted = left >> vtd_pt_level_shift(level);
    return wanted < in_table ? wanted : in_table;
}

/*
 * After pt_check_free() passed the first slot of a run of n: how many of the following slots
 * are free too, found without a descent or a read per slot. Under a missing entry above their
 * table all n - 1 are (the first slot counted the tables they need: they share them); in an
 * existing table, those before the first present entry of one block read. The caller checks
 * that entry with pt_check_free(), so the first problem in address order is the one reported.
 */
static int pt_free_run(const struct vtd_pt *pt, const struct pt_walk_memo *memo, uint64_t va, unsigned level,
                       uint64_t n, uint64_t *nfree)
{
    *nfree = 0;
    if (n < 2 || !pt_memo_covers(memo, va, level))
        return 0;
    if (memo->pos.level > level) {
        *nfree = n - 1;
        return 0;
    }
    uint64_t e[PT_ENTRIES];
    int rc = pt_read_run(pt, pt_pos_addr(&memo->pos, va) + PT_ENTRY_SIZE, e, n - 1);
    while (!rc && *nfree < n - 1 && !pt_present(pt_fmt_of(pt), e[*nfree]))
        ++*nfree;
    return rc;
}

/*
 * Write the n - 1 leaves after va's into the table the memo holds (pt_install_leaf() wrote va's
 * and left the memo there). Leaf i maps pa + i pages: the address field is contiguous from bit
 * 12 and the range check kept pa + size within it, so adding to the first leaf is exact.
 */
static int pt_install_run(struct vtd_pt *pt, const struct pt_walk_memo *memo, uint64_t va, unsigned level,
                          uint64_t first_leaf, uint64_t n)
{
    uint64_t e[PT_ENTRIES];
    for (uint64_t i = 1; i < n; i++)
        e[i - 1] = first_leaf + (i << vtd_pt_level_shift(level));
    return pt_write_run(pt, pt_pos_addr(&memo->pos, va) + PT_ENTRY_SIZE, e, n - 1);
}

/* Leaf level for the chunk at va: the fixed one, or the largest that alignment and caps allow. */
static unsigned pt_chunk_level(const struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t left, unsigned fixed)
{
    if (fixed)
        return fixed;
    for (unsigned level = PT_MAX_LEAF_LEVEL; level > 1; level--) {
        uint64_t size = pt_level_size(level);
        if (pt_leaf_allowed(pt, level) && !((va | pa) & (size - 1)) && left >= size)
            return level;
    }
    return 1;
}

static int pt_map_args_check(const struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned perm,
                             unsigned flags)
{
    if (!size || ((va | pa | size) & ~VTD_PAGE_MASK) || !pt_perm_ok(pt_fmt_of(pt), perm) || !pt_flags_ok(pt, flags))
        return -EINVAL;
    if (!range_fits(va, size, space_end(pt_width(pt))) || !range_fits(pa, size, pt_output_end(pt)))
        return -ERANGE;
    return 0;
}

/* Check the whole range (overlaps, room for tables), then write it. fixed_level 0: auto sizes. */
static int pt_map_range(struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned fixed_level,
                        unsigned perm, unsigned flags)
{
    int rc = pt_fold_va(pt, &va);
    if (!rc)
        rc = pt_map_args_check(pt, va, pa, size, perm, flags);
    if (rc)
        return rc;
    struct pt_new_tables nt = { .count = 0 };
    struct pt_walk_memo check = {0}, install = {0};
    unsigned level = 1;
    uint64_t leaves = 0, slots = 1;
    for (uint64_t off = 0; off < size && !rc; off += slots * pt_level_size(level)) {
        level = pt_chunk_level(pt, va + off, pa + off, size - off, fixed_level);
        uint64_t run = fixed_level ? pt_run_slots(va + off, level, size - off) : 1, more = 0;
        /* Bound the time one call takes: 4 TiB of 4 KiB pages would take minutes. */
        rc = ++leaves > VTD_PT_MAX_LEAVES ? -E2BIG : pt_check_free(pt, &check, va + off, level, &nt);
        /* Stop once the pool cannot hold the tables counted so far: the rest of the range can
         * only need more (a 4 GiB map of 4 KiB pages in a small pool checked a million pages,
         * a second under ASan, before it failed). */
        if (!rc && nt.count > pt_free_pages(pt))
            rc = -ENOMEM;
        /* The rest of the run at once, unless it would pass the leaf bound (then slot by slot). */
        if (!rc && leaves + run - 1 <= VTD_PT_MAX_LEAVES)
            rc = pt_free_run(pt, &check, va + off, level, run, &more);
        leaves += more;
        slots = 1 + more;
    }
    if (!rc)
        rc = pt_pool_has_room(pt, nt.count);
    const struct pt_fmt *f = pt_fmt_of(pt);
    for (uint64_t off = 0; off < size && !rc; off += slots * pt_level_size(level)) {
        level = pt_chunk_level(pt, va + off, pa + off, size - off, fixed_level);
        slots = fixed_level ? pt_run_slots(va + off, level, size - off) : 1;
        uint64_t leaf = pt_entry_for_leaf(f, pa + off, level, perm, flags);
        rc = pt_install_leaf(pt, &install, va + off, level, leaf, flags);
        if (!rc && slots > 1)
            rc = pt_install_run(pt, &install, va + off, level, leaf, slots);
    }
    return rc;
}

int vtd_pt_map(struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned page_shift,
               unsigned perm, unsigned flags)
{
    if (!pt)
        return -EINVAL;
    unsigned level = pt_level_for_shift(page_shift);
    if (!level || !pt_leaf_allowed(pt, level) || !size || ((va | pa | size) & (pt_level_size(level) - 1)))
        return -EINVAL;
    return pt_map_range(pt, va, pa, size, level, perm, flags);
}

int vtd_pt_map_auto(struct vtd_pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned perm, unsigned flags)
{
    if (!pt)
        return -EINVAL;
    return pt_map_range(pt, va, pa, size, 0, perm, flags);
}

/* ---- page tables: changing existing leaves --------------------------------------------- */

/* One range operation: its bounds, the new permissions, and what the check pass found. */
struct pt_range_op {
    uint64_t va, end;
    unsigned perm;
    uint64_t leaves;
};

typedef int (*pt_visit_fn)(struct vtd_pt *pt, const struct pt_pos *pos, uint64_t slot_va, struct pt_range_op *op);

/* Visit, in order, every leaf and every hole (non-present entry) that covers [op->va, op->end). */
static int pt_for_each_slot(struct vtd_pt *pt, struct pt_range_op *op, pt_visit_fn visit)
{
    for (uint64_t cur = op->va; cur < op->end;) {
        struct pt_pos pos;
        int rc = pt_walk_to_level(pt, cur, 1, &pos);
        if (rc)
            return rc;
        uint64_t slot = cur & ~(pt_level_size(pos.level) - 1);
        rc = visit(pt, &pos, slot, op);
        if (rc)
            return rc;
        cur = slot + pt_level_size(pos.level);
    }
    return 0;
}

static int pt_range_args_check(const struct vtd_pt *pt, uint64_t *va_io, uint64_t size)
{
    if (pt_fold_va(pt, va_io))
        return -ERANGE;
    uint64_t va = *va_io;
    if (!size || ((va | size) & ~VTD_PAGE_MASK))
        return -EINVAL;
    return range_fits(va, size, space_end(pt_width(pt))) ? 0 : -ERANGE;
}

/* A leaf must lie wholly inside the range: large pages are not split. */
static int visit_check_leaf(struct vtd_pt *pt, const struct pt_pos *pos, uint64_t slot_va, struct pt_range_op *op)
{
    if (!pt_present(pt_fmt_of(pt), pos->entry))
        return 0;
    if (slot_va < op->va || slot_va + pt_level_size(pos->level) > op->end)
        return -EINVAL;
    op->leaves++;
    return 0;
}

static int visit_check_mapped(struct vtd_pt *pt, const struct pt_pos *pos, uint64_t slot_va, struct pt_range_op *op)
{
    return pt_present(pt_fmt_of(pt), pos->entry) ? visit_check_leaf(pt, pos, slot_va, op) : -ENOENT;
}

static int visit_clear(struct vtd_pt *pt, const struct pt_pos *pos, uint64_t slot_va, struct pt_range_op *op)
{
    (void)op;
    return pt_present(pt_fmt_of(pt), pos->entry) ? pt_write(pt, pt_pos_addr(pos, slot_va), 0) : 0;
}

/* A/D bits stay as they are: D may remain on a page made read-only, as after a real write. */
static int visit_protect(struct vtd_pt *pt, const struct pt_pos *pos, uint64_t slot_va, struct pt_range_op *op)
{
    const struct pt_fmt *f = pt_fmt_of(pt);
    uint64_t e = (pos->entry & ~pt_perm_mask(f)) | pt_perm_bits(f, op->perm);
    return pt_write(pt, pt_pos_addr(pos, slot_va), e);
}

/*
 * -ENOENT only when nothing at all in the range was mapped: clearing holes is not an error.
 * Table pages are not freed (simpler): an emptied table stays linked, later maps reuse it,
 * and a large page may replace it.
 */
int vtd_pt_unmap(struct vtd_pt *pt, uint64_t va, uint64_t size)
{
    if (!pt)
        return -EINVAL;
    int rc = pt_range_args_check(pt, &va, size);
    struct pt_range_op op = { .va = va, .end = va + size };
    if (!rc)
        rc = pt_for_each_slot(pt, &op, visit_check_leaf);
    if (!rc && !op.leaves)
        rc = -ENOENT;
    return rc ? rc : pt_for_each_slot(pt, &op, visit_clear);
}

/* Every page of the range must be mapped (-ENOENT otherwise), and large pages whole. */
int vtd_pt_protect(struct vtd_pt *pt, uint64_t va, uint64_t size, unsigned perm)
{
    if (!pt)
        return -EINVAL;
    if (!pt_perm_ok(pt_fmt_of(pt), perm))
        return -EINVAL;
    int rc = pt_range_args_check(pt, &va, size);
    struct pt_range_op op = { .va = va, .end = va + size, .perm = perm };
    if (!rc)
        rc = pt_for_each_slot(pt, &op, visit_check_mapped);
    return rc ? rc : pt_for_each_slot(pt, &op, visit_protect);
}
