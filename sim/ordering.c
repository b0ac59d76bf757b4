/*
 * ordering.c: checks of the order software must follow when it changes translation
 * structures (VT-d 6.5.3 and 6.5.2.x): never modify a present 512-bit PASID entry in place,
 * invalidate the IOTLB before the device TLB, and do not reuse a page-table page before the
 * invalidation wait that follows its release. Violations are warnings: the model keeps going,
 * as hardware would, and the oracle reports any stale translation that results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* uthash allocates through the project's allocator; out of memory is an error, not exit(). */
#include "walker/alloc.h"
#define uthash_malloc(sz) vtd_malloc(sz)
#define uthash_free(ptr, sz) vtd_free(ptr)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) vtd_free(obj)
#include <uthash.h>

#include "sim/iommu_internal.h"
#include "walker/pasid_dir.h"

struct watched {
    uint64_t addr;        /* PASID entry, or table page */
    uint16_t sid;
    uint32_t pasid;
    bool warned;          /* one warning per torn update, not one per qword written */
    UT_hash_handle hh;
};

struct order_watch {
    struct watched *pasid_entries;
    struct watched *released_tables; /* released since the last completed wait */
};

void iommu_warn(struct vtd_iommu *io, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(io->warnings[io->nwarnings % IOMMU_WARNINGS_KEPT], sizeof(io->warnings[0]), fmt, ap);
    va_end(ap);
    io->nwarnings++;
    io->stats.warnings++;
}

uint64_t vtd_iommu_warning_count(const struct vtd_iommu *io) { return io->nwarnings; }

const char *vtd_iommu_warning(const struct vtd_iommu *io, uint64_t i)
{
    if (i >= io->nwarnings || io->nwarnings - i > IOMMU_WARNINGS_KEPT)
        return NULL;
    return io->warnings[i % IOMMU_WARNINGS_KEPT];
}

static void set_free(struct watched **set)
{
    struct watched *w, *tmp;
    HASH_ITER(hh, *set, w, tmp) {
        HASH_DEL(*set, w);
        vtd_free(w);
    }
}

void iommu_order_free(struct vtd_iommu *io)
{
    if (!io->watch)
        return;
    set_free(&io->watch->pasid_entries);
    set_free(&io->watch->released_tables);
    vtd_free(io->watch);
    io->watch = NULL;
}

static struct watched *set_find(struct watched *set, uint64_t addr);

/* Add an address to a set (no-op when present or out of memory: checks are best effort). */
static void set_add(struct vtd_iommu *io, struct watched **set, uint64_t addr, uint16_t sid, uint32_t pasid)
{
    struct watched *w;
    HASH_FIND(hh, *set, &addr, sizeof(addr), w);
    if (w)
        return;
    if (!(w = vtd_calloc(1, sizeof(*w))))
        goto nomem;
    *w = (struct watched){.addr = addr, .sid = sid, .pasid = pasid};
    HASH_ADD(hh, *set, addr, sizeof(w->addr), w);
    if (!set_find(*set, addr))
        goto nomem; /* uthash could not grow: it freed w (uthash_nonfatal_oom) */
    return;
nomem:
    io->stats.alloc_failures++;
}

static struct watched *set_find(struct watched *set, uint64_t addr)
{
    struct watched *w;
    HASH_FIND(hh, set, &addr, sizeof(addr), w);
    return w;
}

/* Is this software write a torn update of a present PASID entry (VT-d 6.5.3.3)? */
static void check_pasid_write(struct vtd_iommu *io, uint64_t pa, size_t len, const void *data, uint8_t fill)
{
    uint64_t first = pa & ~(uint64_t)(VTD_PASID_ENTRY_SIZE - 1);
    for (uint64_t e = first; e < pa + len; e += VTD_PASID_ENTRY_SIZE) {
        struct watched *w = set_find(io->watch->pasid_entries, e);
        uint64_t qw0;
        if (!w || vtd_mem_read64(io->mem, e, &qw0) || !(qw0 & VTD_PE_P))
            continue;
        /* Clearing P first (a write of qw0 alone with P clear) is the correct first step. */
        if (pa == e && len == 8) {
            uint64_t v = 0;
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)(data ? ((const uint8_t *)data)[i] : fill) << (8 * i);
            if (!(v & VTD_PE_P)) {
                w->warned = false;
                continue;
            }
        }
        if (w->warned)
            continue;
        w->warned = true;
        iommu_warn(io, "PASID entry of SID %#x PASID %u at 0x%llx modified while present (torn 512-bit update): "
                   "clear P, invalidate the PASID cache, then rewrite it", w->sid, w->pasid, (unsigned long long)e);
    }
}

/* Is this a write into a page-table page released before the covering wait completed? */
static void check_table_write(struct vtd_iommu *io, uint64_t pa, size_t len)
{
    for (uint64_t page = pa & VTD_PAGE_MASK; page < pa + len; page += VTD_PAGE_SIZE)
        if (set_find(io->watch->released_tables, page))
            iommu_warn(io, "page-table page 0x%llx written before the invalidation wait covering its release "
                       "completed: the IOMMU may still walk it", (unsigned long long)page);
}

static void order_observe(void *arg, uint64_t pa, size_t len, const void *data, uint8_t fill)
{
    struct vtd_iommu *io = arg;
    if (!io->cfg.ordering_checks || !io->watch)
        return;
    check_pasid_write(io, pa, len, data, fill);
    check_table_write(io, pa, len);
}

static bool order_ready(struct vtd_iommu *io)
{
    if (!io->cfg.ordering_checks)
        return false;
    if (!io->watch && (io->watch = vtd_calloc(1, sizeof(*io->watch))))
        vtd_mem_set_observer(io->mem, order_observe, io);
    if (!io->watch)
        io->stats.alloc_failures++;
    return io->watch != NULL;
}

void iommu_order_watch_pasid(struct vtd_iommu *io, const struct vtd_ctx *ctx, uint16_t sid, uint32_t pasid)
{
    uint64_t pde;
    if (!order_ready(io) || vtd_mem_read64(io->mem, vtd_pasid_dir_entry_addr(ctx->pdtp, pasid), &pde))
        return;
    set_add(io, &io->watch->pasid_entries, vtd_pasid_entry_addr(pde & VTD_PDIR_PTP, pasid), sid, pasid);
}

void iommu_order_table_released(struct vtd_iommu *io, uint64_t table)
{
    if (order_ready(io))
        set_add(io, &io->watch->released_tables, table & VTD_PAGE_MASK, 0, 0);
}

void iommu_order_wait_completed(struct vtd_iommu *io)
{
    if (io->watch)
        set_free(&io->watch->released_tables);
}

struct devtlb_probe {
    struct vtd_iommu *io;
    uint16_t did;
    uint64_t tag, start, end;
    unsigned stale;
};

static void count_stale_iotlb(const struct vtd_cache_entry *e, void *arg)
{
    struct devtlb_probe *p = arg;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    uint64_t lo = t.page << t.shift, hi = lo + (UINT64_C(1) << t.shift);
    if (t.did == p->did && t.pasid_tag == p->tag && lo < p->end && p->start < hi &&
        !iommu_entry_still_ok(p->io, VTD_C_IOTLB, e))
        p->stale++;
}

/* Stale IOTLB entries that could refill the device TLB of `sid` for one PASID tag. */
static unsigned stale_iotlb_for(struct vtd_iommu *io, uint16_t sid, uint64_t pasid_tag, uint64_t start, uint64_t end)
{
    /* The device's domain: from the PASID cache entry its translations came through. */
    uint32_t pasid = pasid_tag == VTD_TAG_NO_PASID ? 0 : (uint32_t)pasid_tag;
    struct vtd_cache_key key = pasid_cache_key(sid, pasid);
    const struct vtd_cache_entry *pe = vtd_cache_peek(io->cache[VTD_C_PASID], &key);
    if (!pe)
        return 0;
    const struct vtd_pasid_cfg *cfg = &((const struct pasid_cache_payload *)pe->payload)->pe;
    struct devtlb_probe p = {.io = io, .did = cfg->did, .start = start, .end = end,
                             .tag = vtd_pgtt_uses_fs(cfg->pgtt) ? pasid : VTD_TAG_NO_PASID};
    vtd_cache_foreach(io->cache[VTD_C_IOTLB], count_stale_iotlb, &p);
    return p.stale;
}

static void warn_devtlb_first(struct vtd_iommu *io, uint16_t sid, unsigned stale)
{
    if (stale)
        iommu_warn(io, "device-TLB invalidation for SID %#x before the IOTLB invalidation it depends on: "
                   "%u stale IOTLB entr%s can refill the device TLB", sid, stale, stale == 1 ? "y" : "ies");
}

void iommu_order_check_devtlb(struct vtd_iommu *io, uint16_t sid, uint64_t pasid_tag, uint64_t start, uint64_t end)
{
    if (io->cfg.ordering_checks)
        warn_devtlb_first(io, sid, stale_iotlb_for(io, sid, pasid_tag, start, end));
}

/* The distinct PASID tags a device TLB holds (at most `max`; more are rare and skipped). */
struct tag_set {
    uint64_t tag[64];
    unsigned n;
};

static void collect_pasid_tag(const struct vtd_cache_entry *e, void *arg)
{
    struct tag_set *t = arg;
    uint64_t tag = devtlb_tag_unpack(&e->key).pasid_tag;
    if (tag == VTD_TAG_NO_PASID)
        return;
    for (unsigned i = 0; i < t->n; i++)
        if (t->tag[i] == tag)
            return;
    if (t->n < sizeof(t->tag) / sizeof(t->tag[0]))
        t->tag[t->n++] = tag;
}

void iommu_order_check_devtlb_all_pasids(struct vtd_iommu *io, uint16_t sid, const struct vtd_cache *devtlb,
                                         uint64_t start, uint64_t end)
{
    if (!io->cfg.ordering_checks)
        return;
    struct tag_set tags = {.n = 0};
    vtd_cache_foreach(devtlb, collect_pasid_tag, &tags);
    unsigned stale = 0;
    for (unsigned i = 0; i < tags.n; i++)
        stale += stale_iotlb_for(io, sid, tags.tag[i], start, end);
    warn_devtlb_first(io, sid, stale);
}
