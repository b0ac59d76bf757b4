/*
 * oracle_cover.c: when the oracle reports a stale IOTLB or device-TLB entry, the other entries
 * the same change left stale in that cache, and the one descriptor that removes them all.
 *
 * A change is known by the step that last wrote a structure a fresh walk of the entry reads
 * (walker/mem.h's write tags, stamped by vtd_iommu_set_step): an unmap of 16 KiB clears four
 * leaf entries of one table in one step, so the four IOTLB entries it left stale share that step,
 * while an entry left stale by an earlier change to another table does not. A user that sets no
 * step (trace replay) has every write at step 0: every stale entry of a tag is then one group. Entries of one
 * group share the cache's tag (DID and PASID tag for the IOTLB, device and PASID tag for a
 * device TLB), so one descriptor can name them all: page-selective with the smallest naturally
 * aligned block over their span (VT-d 6.5.2.3, 6.5.2.4: ADDR aligned to AM; 6.5.2.5, 6.5.2.6:
 * the device-TLB size in ADDR and S), else PASID- or domain-selective where the block is not
 * allowed (AM above CAP.MAMV for type 2, or the whole address space).
 */
#include <stdio.h>
#include <string.h>

#include "sim/iommu_internal.h"

/* The step of the latest software write to a structure that a fresh walk for req reads. */
static uint64_t change_of(struct vtd_iommu *io, const struct vtd_request *req)
{
    struct vtd_trace t;
    struct vtd_xlate x;
    uint64_t latest = 0;
    if (!io->te)
        return 0;
    t.n = t.dropped = 0;
    io->oracle_env.cnt = (struct vtd_walk_counters){0};
    io->oracle_env.rtaddr = io->rtaddr;
    io->oracle_env.trace = &t;
    (void)vtd_translate(&io->oracle_env, req, &x);
    io->oracle_env.trace = NULL;
    for (unsigned i = 0; i < t.n; i++) {
        uint64_t tag = vtd_mem_write_tag_of(io->mem, t.rec[i].addr);
        latest = tag > latest ? tag : latest;
    }
    return latest;
}

/* One group being collected: what its members share and what they cover so far. */
struct cover_scan {
    struct vtd_iommu *io;
    const struct vtd_device *dev;  /* device-TLB groups */
    uint16_t did;                  /* IOTLB groups */
    uint64_t pasid_tag;
    uint64_t change;
    struct vtd_stale_group *g;
    uint64_t kept_addr[VTD_STALE_PAGES_KEPT]; /* the address of each descriptor in g->pages */
};

/* Count one member of 2^shift bytes at addr, keeping its descriptor among the lowest ones. */
static void group_add(struct cover_scan *s, uint64_t addr, unsigned shift, struct vtd_desc d)
{
    struct vtd_stale_group *g = s->g;
    uint64_t last = addr + ((UINT64_C(1) << shift) - 1);
    g->first = g->entries && g->first < addr ? g->first : addr;
    g->last = g->entries && g->last > last ? g->last : last;
    g->entries++;
    unsigned at = g->npages;
    while (at && s->kept_addr[at - 1] > addr)
        at--;
    if (at == VTD_STALE_PAGES_KEPT)
        return;
    unsigned n = g->npages < VTD_STALE_PAGES_KEPT ? g->npages : VTD_STALE_PAGES_KEPT - 1;
    memmove(&g->pages[at + 1], &g->pages[at], (n - at) * sizeof g->pages[0]);
    memmove(&s->kept_addr[at + 1], &s->kept_addr[at], (n - at) * sizeof s->kept_addr[0]);
    g->pages[at] = d;
    s->kept_addr[at] = addr;
    g->npages = n + 1;
}

/* The request whose fresh walk checks an IOTLB entry (who filled it, at its page). */
static struct vtd_request iotlb_entry_request(const struct vtd_cache_entry *e)
{
    const struct iotlb_payload *p = (const struct iotlb_payload *)e->payload;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    return (struct vtd_request){.sid = p->fill_sid, .pasid_valid = p->fill_pasid_valid, .pasid = p->fill_pasid,
                                .addr = t.page << t.shift, .priv = p->fill_priv};
}

static struct vtd_request devtlb_entry_request(const struct vtd_device *dev, const struct vtd_cache_entry *e)
{
    struct devtlb_tag t = devtlb_tag_unpack(&e->key);
    return (struct vtd_request){.sid = dev->sid, .pasid_valid = t.pasid_tag != VTD_TAG_NO_PASID,
                                .pasid = (uint32_t)t.pasid_tag, .addr = t.page << t.shift,
                                .priv = ((const struct devtlb_payload *)e->payload)->priv};
}

static void scan_iotlb_entry(const struct vtd_cache_entry *e, void *arg)
{
    struct cover_scan *s = arg;
    struct iotlb_tag t = iotlb_tag_unpack(&e->key);
    if (t.did != s->did || t.pasid_tag != s->pasid_tag || iommu_entry_still_ok(s->io, VTD_C_IOTLB, e))
        return;
    struct vtd_request req = iotlb_entry_request(e);
    if (change_of(s->io, &req) == s->change)
        group_add(s, req.addr, t.shift, iommu_iotlb_entry_fix(s->io, &e->key));
}

static void scan_devtlb_entry(const struct vtd_cache_entry *e, void *arg)
{
    struct cover_scan *s = arg;
    struct devtlb_tag t = devtlb_tag_unpack(&e->key);
    if (t.pasid_tag != s->pasid_tag || iommu_devtlb_entry_still_ok(s->io, s->dev, e))
        return;
    struct vtd_request req = devtlb_entry_request(s->dev, e);
    if (change_of(s->io, &req) == s->change)
        group_add(s, req.addr, t.shift, iommu_devtlb_entry_fix(s->dev->sid, t.pasid_tag, req.addr, t.shift));
}

/* The group of the IOTLB entry `key` names; false when that entry is gone or not stale itself
 * (the request was stale through another cache). */
static bool iotlb_group(struct vtd_iommu *io, const struct vtd_cache_key *key, struct vtd_stale_group *g)
{
    const struct vtd_cache_entry *e = vtd_cache_peek(io->cache[VTD_C_IOTLB], key);
    if (!e)
        return false;
    struct iotlb_tag t = iotlb_tag_unpack(key);
    struct vtd_request req = iotlb_entry_request(e);
    struct cover_scan s = {.io = io, .did = t.did, .pasid_tag = t.pasid_tag, .change = change_of(io, &req), .g = g};
    *g = (struct vtd_stale_group){.cache = VTD_C_IOTLB, .change_step = s.change};
    vtd_cache_foreach(io->cache[VTD_C_IOTLB], scan_iotlb_entry, &s);
    unsigned am = vtd_qi_am_covering(g->first, g->last);
    g->covering = iommu_iotlb_block_fix(io, t.did, t.pasid_tag, vtd_qi_am_range(g->first, am).first, am);
    return g->entries > 0;
}

/* The group of the device-TLB entry that answered req (`u` says which). */
static bool devtlb_group(struct vtd_iommu *io, const struct iommu_use *u, const struct vtd_request *req,
                         struct vtd_stale_group *g)
{
    const struct vtd_device *dev = iommu_device(io, u->sid);
    uint64_t pasid_tag = req->pasid_valid ? req->pasid : VTD_TAG_NO_PASID;
    struct vtd_cache_key key = devtlb_key(pasid_tag, req->addr, u->iotlb_shift);
    const struct vtd_cache_entry *e = dev && dev->devtlb ? vtd_cache_peek(dev->devtlb, &key) : NULL;
    if (!e)
        return false;
    struct vtd_request own = devtlb_entry_request(dev, e);
    struct cover_scan s = {.io = io, .dev = dev, .pasid_tag = pasid_tag, .change = change_of(io, &own), .g = g};
    *g = (struct vtd_stale_group){.cache = VTD_C_DEVTLB, .change_step = s.change};
    vtd_cache_foreach(dev->devtlb, scan_devtlb_entry, &s);
    unsigned order = vtd_qi_am_covering(g->first, g->last);
    g->covering = iommu_devtlb_entry_fix(dev->sid, pasid_tag, g->first, VTD_PAGE_SHIFT + order);
    return g->entries > 0;
}

/* "DESC (covers the N stale IOTLB entries the change at step S left, A-B)" for the report's
 * covering text, and "; or one descriptor for ...: DESC" for its fix, when the change left more
 * than one. */
static void describe_group(const struct vtd_stale_group *g, struct vtd_stale *rep)
{
    char d[128], what[160];
    size_t used = strlen(rep->covering), fused = strlen(rep->fix);
    vtd_qi_describe(g->covering.qw, g->covering.nqw, d, sizeof d);
    char when[64] = "";
    /* Step 0: the IOMMU's user numbers no steps (trace replay), so changes are not told apart. */
    if (g->change_step)
        snprintf(when, sizeof when, " the change at step %llu left", (unsigned long long)g->change_step);
    snprintf(what, sizeof what, "the %u stale %s entr%s%s, 0x%llx-0x%llx", g->entries,
             g->cache == VTD_C_IOTLB ? "IOTLB" : "device-TLB", g->entries == 1 ? "y" : "ies", when,
             (unsigned long long)g->first, (unsigned long long)g->last);
    snprintf(rep->covering + used, sizeof rep->covering - used, "%s%s (covers %s)", used ? "; " : "", d, what);
    if (g->entries > 1)
        snprintf(rep->fix + fused, sizeof rep->fix - fused, "; or one descriptor for %s: %s", what, d);
}

void iommu_oracle_cover(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_cache_key *iotlb,
                        const struct iommu_use *devtlb_use, struct vtd_stale *rep)
{
    rep->ngroups = 0;
    rep->covering[0] = 0;
    if (iotlb && iotlb_group(io, iotlb, &rep->groups[rep->ngroups]))
        rep->ngroups++;
    if (devtlb_use && devtlb_group(io, devtlb_use, req, &rep->groups[rep->ngroups]))
        rep->ngroups++;
    for (unsigned i = 0; i < rep->ngroups; i++)
        describe_group(&rep->groups[i], rep);
}
