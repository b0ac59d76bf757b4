/*
 * invtable.c: the probe behind `vtdsim inv-table`: validate the uAPI invalidation table
 * without hardware.
 *
 * For each (granularity x cache) cell and each kind of change, a fresh probe world: an IOMMU,
 * a container (guest RAM mapped with MAP_DMA, two PASIDs from PASID_REQUEST, each bound with
 * BIND_PGTBL to a first-stage table in guest memory), a plain device and an ATS device. The
 * caches are warmed with DMAs, one change is written without any invalidation, the cell's
 * CACHE_INVLD is issued, and a DMA shows whether the stale entry is gone (the oracle's `stale`
 * flag, and the fresh output served). Entries the change did not touch (the other PASID, the
 * next page) are probed too: losing them is over-invalidation.
 */
#include "host/invtable.h"

#include <errno.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "walker/builder.h"
#include "walker/fs_entry.h"
#include "walker/pasid_entry.h"
#include "walker/alloc.h"

/* ---- the probe world's layout --------------------------------------------------------------- */

#define DEV_PLAIN 0x0010u
#define DEV_ATS 0x0018u
#define GUEST_RAM_HPA UINT64_C(0x40000000) /* guest-physical 0 */
#define GUEST_RAM_SIZE UINT64_C(0x40000000)
#define VA_CHANGED UINT64_C(0x3000)        /* the page every change concerns */
#define VA_OTHER UINT64_C(0x5000)          /* another page of the same PASID: must survive ADDR */
#define GPA_OLD UINT64_C(0x800000)
#define GPA_NEW UINT64_C(0x900000)         /* where the changed page points afterwards */
#define GPA_OTHER UINT64_C(0x801000)
#define PT_POOL_SIZE UINT64_C(0x100000)

/* Guest tables: the changed PASID's, the other PASID's, and an alternative (new tables). */
enum { T_A, T_B, T_ALT, T_N };
static const uint64_t pt_pool[T_N] = {0x100000, 0x200000, 0x300000};

struct probe {
    struct vtd_iommu *io;
    struct vtd_container *c;
    struct vtd_pt pt[T_N];
    uint32_t pasid[2];           /* [0]: changed, [1]: the other */
    uint64_t pasid_entry_addr;   /* of pasid[0] for the plain device */
};

const char *inv_col_name(enum inv_col c)
{
    static const char *const n[IC_N] = {"DEV_IOTLB", "IOTLB", "PASID cache"};
    return n[c];
}

const char *inv_row_name(unsigned row)
{
    static const char *const n[INV_ROWS] = {"DOMAIN", "PASID", "ADDR"};
    return n[row];
}

const char *inv_kind_name(enum inv_kind k)
{
    static const char *const n[IK_N] = {"leaf PTE", "non-leaf", "PASID entry", "device TLB"};
    return n[k];
}

const char *inv_victim_name(enum inv_victim v)
{
    static const char *const n[IV_N] = {"other-pasid", "other-page", "ats-other-pasid", "ats-other-page"};
    return n[v];
}

const char *inv_cache_name(int id)
{
    static const char *const n[VTD_C_NKINDS] = {"ctx", "pasidc", "iotlb", "psc_fs", "psc_ss", "devtlb"};
    return n[id];
}

static const uint8_t col_cache_bit[IC_N] = {IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_CACHE_INV_TYPE_IOTLB,
                                            IOMMU_CACHE_INV_TYPE_PASID};

/* ---- building and warming ------------------------------------------------------------------ */

static int probe_dma(struct probe *p, uint16_t sid, unsigned which, uint64_t va, struct vtd_dma_result *r)
{
    struct vtd_request req = {.sid = sid, .pasid_valid = true, .pasid = p->pasid[which], .addr = va,
                              .access = VTD_ACC_R};
    *r = (struct vtd_dma_result){0};
    return vtd_iommu_dma(p->io, &req, r);
}

static int add_devices(struct vtd_iommu *io)
{
    struct vtd_device_config plain = {.sid = DEV_PLAIN, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = DEV_ATS, .ats = true, .pasid_bits = 20, .devtlb = {.sets = 8, .ways = 4}};
    int rc = vtd_iommu_add_device(io, &plain);
    return rc ? rc : vtd_iommu_add_device(io, &ats);
}

static int container_setup(struct probe *p, enum vtd_inv_policy policy)
{
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    cc.policy = policy;
    if (!(p->c = vtd_container_new(p->io, &cc, NULL)))
        return -EINVAL;
    int rc = vtd_container_attach_device(p->c, DEV_PLAIN);
    if (!rc)
        rc = vtd_container_attach_device(p->c, DEV_ATS);
    struct vfio_iommu_type1_dma_map m = {sizeof m, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, GUEST_RAM_HPA, 0,
                                         GUEST_RAM_SIZE};
    return rc ? rc : vtd_container_ioctl(p->c, VFIO_IOMMU_MAP_DMA, &m);
}

/* The guest's tables: A maps both pages, B the changed VA, ALT the changed VA elsewhere. */
static int tables_setup(struct probe *p)
{
    static const struct { unsigned t; uint64_t va, gpa; } maps[] = {
        {T_A, VA_CHANGED, GPA_OLD}, {T_A, VA_OTHER, GPA_OTHER}, {T_B, VA_CHANGED, GPA_OLD}, {T_B, VA_OTHER, GPA_OTHER},
        {T_ALT, VA_CHANGED, GPA_NEW},
    };
    int rc = 0;
    for (unsigned t = 0; !rc && t < T_N; t++)
        rc = vtd_pt_init(&p->pt[t], vtd_container_builder(p->c), VTD_PT_FS, 4, vtd_container_ss(p->c), pt_pool[t],
                         PT_POOL_SIZE);
    for (size_t i = 0; !rc && i < sizeof maps / sizeof maps[0]; i++)
        rc = vtd_pt_map(&p->pt[maps[i].t], maps[i].va, maps[i].gpa, 4096, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, 0);
    return rc;
}

/* Two PASIDs from PASID_REQUEST, bound to tables A and B. */
static int bind_setup(struct probe *p)
{
    for (unsigned i = 0; i < 2; i++) {
        struct vfio_iommu_type1_pasid_request r = {sizeof r, VFIO_IOMMU_FLAG_ALLOC_PASID, {1, 1023}};
        int pasid = vtd_container_ioctl(p->c, VFIO_IOMMU_PASID_REQUEST, &r);
        if (pasid <= 0)
            return pasid ? pasid : -ENOSPC;
        p->pasid[i] = (uint32_t)pasid;
        struct iommu_gpasid_bind_data b = {.argsz = sizeof b, .version = IOMMU_GPASID_BIND_VERSION_1,
                                           .format = IOMMU_PASID_FORMAT_INTEL_VTD, .addr_width = 48,
                                           .gpgd = p->pt[i == 0 ? T_A : T_B].root, .hpasid = (uint64_t)pasid};
        int rc = vtd_container_nesting_op(p->c, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &b, sizeof b);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every entry the probe looks at, cached; the first walk also tells where the PASID entry is. */
static int warm(struct probe *p)
{
    static const struct { uint16_t sid; unsigned which; uint64_t va; } reqs[] = {
        {DEV_PLAIN, 0, VA_CHANGED}, {DEV_PLAIN, 0, VA_OTHER}, {DEV_PLAIN, 1, VA_CHANGED},
        {DEV_ATS, 0, VA_CHANGED},   {DEV_ATS, 0, VA_OTHER},   {DEV_ATS, 1, VA_CHANGED},
    };
    struct vtd_trace *t = vtd_calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    struct vtd_dma_result r;
    vtd_iommu_set_trace(p->io, t);
    int rc = probe_dma(p, DEV_PLAIN, 0, VA_CHANGED, &r);
    vtd_iommu_set_trace(p->io, NULL);
    for (unsigned i = 0; i < t->n; i++)
        if (t->rec[i].kind == VTD_TR_PASID)
            p->pasid_entry_addr = t->rec[i].addr;
    vtd_free(t);
    for (size_t i = 0; !rc && i < sizeof reqs / sizeof reqs[0]; i++)
        rc = probe_dma(p, reqs[i].sid, reqs[i].which, reqs[i].va, &r);
    return rc ? -EIO : p->pasid_entry_addr ? 0 : -ENOENT;
}

static void probe_free(struct probe *p)
{
    if (p->c)
        vtd_container_free(p->c);
    vtd_iommu_free(p->io);
}

static int probe_new(struct probe *p, enum vtd_inv_policy policy)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    *p = (struct probe){0};
    if (!(p->io = vtd_iommu_new(&cfg, NULL)))
        return -ENOMEM;
    int rc = add_devices(p->io);
    if (!rc)
        rc = container_setup(p, policy);
    if (!rc)
        rc = tables_setup(p);
    if (!rc)
        rc = bind_setup(p);
    if (!rc)
        rc = warm(p);
    if (rc)
        probe_free(p);
    return rc;
}

/* ---- the changes, written without invalidating ------------------------------------------------ */

static int rewrite(struct probe *p, uint64_t hpa, uint64_t mask, uint64_t bits)
{
    uint64_t v;
    struct vtd_mem *m = vtd_iommu_mem(p->io);
    int rc = vtd_mem_read64(m, hpa, &v);
    return rc ? rc : vtd_mem_write64(m, hpa, (v & ~mask) | bits);
}

/* The leaf PTE of the changed page now points at GPA_NEW (IOTLB, device TLB hold the old one). */
static int change_leaf(struct probe *p)
{
    uint64_t hpa;
    int rc = vtd_pt_entry_addr(&p->pt[T_A], VA_CHANGED, 1, &hpa);
    return rc ? rc : rewrite(p, hpa, VTD_FS_ADDR, GPA_NEW);
}

/* The PDE now points at the alternative table's page table (the PSC holds the old one). */
static int change_nonleaf(struct probe *p)
{
    uint64_t dst, src, v;
    int rc = vtd_pt_entry_addr(&p->pt[T_A], VA_CHANGED, 2, &dst);
    if (!rc)
        rc = vtd_pt_entry_addr(&p->pt[T_ALT], VA_CHANGED, 2, &src);
    if (!rc)
        rc = vtd_mem_read64(vtd_iommu_mem(p->io), src, &v);
    return rc ? rc : rewrite(p, dst, VTD_FS_ADDR, v & VTD_FS_ADDR);
}

/* A rebind-like change: FSPTPTR switched to the alternative table in place (the PASID cache
 * holds the old pointer). Both devices share the PASID table of the container's PASID. */
static int change_pasid(struct probe *p)
{
    return rewrite(p, p->pasid_entry_addr + 16, VTD_PE_FSPTPTR, p->pt[T_ALT].root & VTD_PE_FSPTPTR);
}

typedef int (*change_fn)(struct probe *p);
static const change_fn changes[IK_N] = {change_leaf, change_nonleaf, change_pasid, change_leaf};
/* The device each change is observed through: the device-TLB kind needs the ATS device. */
static const uint16_t observer[IK_N] = {DEV_PLAIN, DEV_PLAIN, DEV_PLAIN, DEV_ATS};

/* ---- the cell's request -------------------------------------------------------------------- */

static void cell_request(unsigned row, enum inv_col col, uint32_t pasid, struct iommu_cache_invalidate_info *inv)
{
    *inv = (struct iommu_cache_invalidate_info){.argsz = sizeof *inv,
                                                .version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
                                                .cache = col_cache_bit[col], .granularity = (uint8_t)row};
    if (row == IOMMU_INV_GRANU_PASID)
        inv->granu.pasid_info = (struct iommu_inv_pasid_info){.flags = IOMMU_INV_PASID_FLAGS_PASID, .pasid = pasid};
    else if (row == IOMMU_INV_GRANU_ADDR)
        /* No LEAF flag: the non-leaf change needs the paging-structure caches flushed too. */
        inv->granu.addr_info = (struct iommu_inv_addr_info){
            .flags = IOMMU_INV_ADDR_FLAGS_PASID, .pasid = pasid, .addr = VA_CHANGED, .granule_size = 4096,
            .nb_granules = 1};
}

/* Which caches served a request: used bits, with the device TLB when it answered. */
static unsigned served_by(const struct vtd_dma_result *r)
{
    return r->used | (r->source == VTD_SRC_DEVTLB ? 1u << VTD_C_DEVTLB : 0);
}

static const struct { uint16_t sid; unsigned which; uint64_t va; unsigned mask; } victims[IV_N] = {
    /* Another PASID: every cache counts. The same PASID's other page: only translations count
     * (its PASID-cache entry is the changed PASID's own). */
    [IV_PASID] = {DEV_PLAIN, 1, VA_CHANGED, ~0u},
    [IV_RANGE] = {DEV_PLAIN, 0, VA_OTHER, 1u << VTD_C_IOTLB},
    [IV_ATS_PASID] = {DEV_ATS, 1, VA_CHANGED, 1u << VTD_C_DEVTLB},
    [IV_ATS_RANGE] = {DEV_ATS, 0, VA_OTHER, 1u << VTD_C_DEVTLB},
};

/* What the victims had cached before the invalidation (a repeat DMA: served from the caches). */
static void victims_before(struct probe *p, unsigned before[IV_N])
{
    struct vtd_dma_result r;
    for (unsigned v = 0; v < IV_N; v++) {
        probe_dma(p, victims[v].sid, victims[v].which, victims[v].va, &r);
        before[v] = served_by(&r) & victims[v].mask;
    }
}

static void victims_after(struct probe *p, const unsigned before[IV_N], struct inv_cell *cell)
{
    struct vtd_dma_result r;
    for (unsigned v = 0; v < IV_N; v++) {
        probe_dma(p, victims[v].sid, victims[v].which, victims[v].va, &r);
        cell->lost[v] = before[v] & ~served_by(&r);
    }
}

/* Did the stale entry of this change go? */
static void judge(enum inv_kind k, int rc, const struct vtd_dma_result *r, struct inv_cell *cell)
{
    bool gone = k == IK_DEVTLB ? r->source != VTD_SRC_DEVTLB
                               : !rc && !r->stale && r->x.out == GUEST_RAM_HPA + GPA_NEW + (VA_CHANGED & 0xfff);
    cell->removed[k] = gone ? IR_YES : IR_NO;
    cell->left[k] = gone ? 0 : r->stale ? r->report.caches : served_by(r);
}

/* One probe world for one (cell, change kind). */
static int probe_cell(enum vtd_inv_policy policy, unsigned row, enum inv_col col, enum inv_kind k, struct inv_cell *cell)
{
    struct probe p;
    unsigned before[IV_N];
    int rc = probe_new(&p, policy);
    if (rc)
        return rc;
    /* Over-invalidation is measured once, in the leaf world (the other changes move the victims). */
    if (k == IK_LEAF)
        victims_before(&p, before);
    rc = changes[k](&p);
    if (!rc) {
        struct iommu_cache_invalidate_info inv;
        cell_request(row, col, p.pasid[0], &inv);
        cell->err = vtd_container_cache_invalidate(p.c, &inv);
        struct vtd_dma_result r;
        if (cell->err)
            cell->removed[k] = IR_NA;
        else
            judge(k, probe_dma(&p, observer[k], 0, VA_CHANGED, &r), &r, cell);
        if (!cell->err && k == IK_LEAF)
            victims_after(&p, before, cell);
    }
    probe_free(&p);
    return rc;
}

int inv_table_build(enum vtd_inv_policy policy, struct inv_table *t)
{
    int first = 0;
    *t = (struct inv_table){.policy = policy};
    for (unsigned row = 0; row < INV_ROWS; row++)
        for (unsigned col = 0; col < IC_N; col++)
            for (unsigned k = 0; k < IK_N; k++) {
                struct inv_cell *cell = &t->cell[row][col];
                int rc = probe_cell(policy, row, (enum inv_col)col, (enum inv_kind)k, cell);
                if (rc && !cell->probe_err)
                    cell->probe_err = rc;
                if (rc && !first)
                    first = rc;
            }
    return first;
}
