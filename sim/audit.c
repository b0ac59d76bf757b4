/* audit.c: the latent-staleness audit (see audit.h and docs/trace-audit.md). */
#include "sim/audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* uthash allocates through the project's allocator; out of memory is an error, not exit(). */
#include "walker/alloc.h"
#define uthash_malloc(sz) vtd_malloc(sz)
#define uthash_free(ptr, sz) vtd_free(ptr)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) ((void)(obj)) /* space_get frees it */
#include <uthash.h>

#include "walker/bdf.h"

/* Device-TLB bookkeeping covers this many members of one space (bits of a mask). */
#define MEMBER_BITS 32u

/* A range possibly still cached, and how far its invalidation got. */
struct pend {
    uint64_t first, last;
    uint64_t stale_event;   /* the unmap */
    uint64_t touch_event;   /* an invalidation that covered only a neighbour */
    uint64_t iotlb_event;   /* the IOTLB-level invalidation that covered it */
    uint32_t devtlb_done;   /* members whose device TLB was invalidated after iotlb_event */
    uint32_t devtlb_early;  /* members whose device TLB was invalidated before it */
    bool waited;            /* a wait completed after iotlb_event */
};

struct member {
    uint16_t sid;
    bool devtlb;
};

struct space {
    uint64_t key;           /* did << 32 | pasid */
    uint16_t did;
    uint32_t pasid;
    struct member *members;
    unsigned nmembers, memcap;
    struct pend *p;
    unsigned n, cap;
    bool submitted;         /* an invalidation covered one of its ranges since the last wait */
    unsigned dirty_idx;     /* its place in the audit's list of spaces with ranges */
    UT_hash_handle hh;
};

struct vtd_audit {
    struct space *spaces;   /* uthash by key */
    struct space **dirty;   /* spaces with pending ranges */
    unsigned ndirty, dirtycap;
    struct vtd_audit_stats st;
    vtd_audit_fn fn;
    void *arg;
};

static const char *const kind_names[VTD_AUDIT_NKINDS] = {
    "never invalidated", "partly invalidated", "invalidation not waited for",
    "device TLB not invalidated", "device TLB invalidated before the IOTLB"};

const char *vtd_audit_kind_name(enum vtd_audit_kind k) { return (unsigned)k < VTD_AUDIT_NKINDS ? kind_names[k] : "?"; }

static uint64_t space_key(uint16_t did, uint32_t pasid) { return (uint64_t)did << 32 | pasid; }

struct vtd_audit *vtd_audit_new(vtd_audit_fn fn, void *arg)
{
    struct vtd_audit *a = vtd_calloc(1, sizeof(*a));
    if (a) {
        a->fn = fn;
        a->arg = arg;
    }
    return a;
}

void vtd_audit_free(struct vtd_audit *a)
{
    if (!a)
        return;
    struct space *s, *tmp;
    HASH_ITER(hh, a->spaces, s, tmp) {
        HASH_DEL(a->spaces, s);
        vtd_free(s->members);
        vtd_free(s->p);
        vtd_free(s);
    }
    vtd_free(a->dirty);
    vtd_free(a);
}

const struct vtd_audit_stats *vtd_audit_stats(const struct vtd_audit *a) { return &a->st; }

static struct space *space_find(struct vtd_audit *a, uint16_t did, uint32_t pasid)
{
    uint64_t key = space_key(did, pasid);
    struct space *s;
    HASH_FIND(hh, a->spaces, &key, sizeof key, s);
    return s;
}

static struct space *space_get(struct vtd_audit *a, uint16_t did, uint32_t pasid)
{
    struct space *s = space_find(a, did, pasid);
    if (s)
        return s;
    if (!(s = vtd_calloc(1, sizeof(*s))))
        return NULL;
    s->key = space_key(did, pasid);
    s->did = did;
    s->pasid = pasid;
    HASH_ADD(hh, a->spaces, key, sizeof s->key, s);
    if (!space_find(a, did, pasid)) { /* uthash ran out of memory */
        vtd_free(s);
        return NULL;
    }
    return s;
}

int vtd_audit_join(struct vtd_audit *a, uint16_t sid, uint16_t did, uint32_t pasid, bool devtlb)
{
    struct space *s = space_get(a, did, pasid);
    if (!s)
        return -ENOMEM;
    for (unsigned i = 0; i < s->nmembers; i++)
        if (s->members[i].sid == sid) {
            s->members[i].devtlb |= devtlb;
            return 0;
        }
    if (!vtd_grow_array((void **)&s->members, &s->memcap, s->nmembers, sizeof(*s->members)))
        return -ENOMEM;
    s->members[s->nmembers++] = (struct member){sid, devtlb};
    return 0;
}

/* The members whose device TLBs must be invalidated, as a mask. */
static uint32_t devtlb_need(const struct space *s)
{
    uint32_t need = 0;
    for (unsigned i = 0; i < s->nmembers && i < MEMBER_BITS; i++)
        if (s->members[i].devtlb)
            need |= UINT32_C(1) << i;
    return need;
}

/* ---- pending ranges ---- */

static int pend_add(struct vtd_audit *a, struct space *s, struct pend p)
{
    if (!vtd_grow_array((void **)&s->p, &s->cap, s->n, sizeof(*s->p)))
        return -ENOMEM;
    if (!s->n) {
        if (!vtd_grow_array((void **)&a->dirty, &a->dirtycap, a->ndirty, sizeof(*a->dirty)))
            return -ENOMEM;
        s->dirty_idx = a->ndirty;
        a->dirty[a->ndirty++] = s;
    }
    s->p[s->n++] = p;
    if (++a->st.pending > a->st.pending_peak)
        a->st.pending_peak = a->st.pending;
    return 0;
}

static void pend_remove(struct vtd_audit *a, struct space *s, unsigned i)
{
    s->p[i] = s->p[--s->n];
    a->st.pending--;
    if (!s->n) {
        struct space *last = a->dirty[--a->ndirty];
        a->dirty[s->dirty_idx] = last;
        last->dirty_idx = s->dirty_idx;
        s->submitted = false;
    }
}

/* Replace pend i by its part inside [first, last] (returned) and append the parts outside,
 * each changed by `outside` (NULL: unchanged). -ENOMEM, else 0. */
static int pend_split(struct vtd_audit *a, struct space *s, unsigned i, uint64_t first, uint64_t last,
                      void (*outside)(struct pend *, uint64_t), uint64_t event)
{
    struct pend p = s->p[i];
    if (p.first < first) {
        struct pend lo = p;
        lo.last = first - 1;
        if (outside)
            outside(&lo, event);
        if (pend_add(a, s, lo))
            return -ENOMEM;
        s->p[i].first = first;
    }
    if (p.last > last) {
        struct pend hi = p;
        hi.first = last + 1;
        if (outside)
            outside(&hi, event);
        if (pend_add(a, s, hi))
            return -ENOMEM;
        s->p[i].last = last;
    }
    return 0;
}

int vtd_audit_unmap(struct vtd_audit *a, uint64_t event, uint16_t did, uint32_t pasid, uint64_t first, uint64_t last)
{
    a->st.unmaps++;
    struct space *s = space_get(a, did, pasid);
    if (!s)
        return -ENOMEM;
    return pend_add(a, s, (struct pend){.first = first, .last = last, .stale_event = event,
                                        .touch_event = VTD_AUDIT_NO_EVENT, .iotlb_event = VTD_AUDIT_NO_EVENT});
}

/* ---- findings ---- */

/* The IOTLB descriptor a space's entries of [first, last] needed: page-selective with the
 * smallest covering mask; a PASID-based one for a PASID-tagged space (6.5.2.3, 6.5.2.4). */
static struct vtd_desc iotlb_fix(const struct space *s, uint64_t first, uint64_t last)
{
    unsigned am = vtd_qi_am_covering(first, last);
    uint64_t addr = vtd_qi_am_range(first, am).first;
    if (s->pasid == VTD_AUDIT_NO_PASID)
        return vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, s->did, addr, am, false, false, false);
    return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, s->did, s->pasid, addr, am, false);
}

static struct vtd_desc devtlb_fix(const struct space *s, uint16_t sid, uint64_t first, uint64_t last)
{
    struct vtd_devtlb_size size = vtd_devtlb_size_encode(first, vtd_qi_am_covering(first, last));
    if (s->pasid == VTD_AUDIT_NO_PASID)
        return vtd_desc_devtlb(sid, 0, 0, size);
    return vtd_desc_p_devtlb(sid, 0, 0, s->pasid, false, size);
}

/* The first member with a device TLB in `missing` (a non-empty mask over members). */
static uint16_t first_member(const struct space *s, uint32_t missing)
{
    unsigned i = 0;
    while (i + 1 < MEMBER_BITS && !(missing >> i & 1))
        i++;
    return s->members[i].sid;
}

static void report(struct vtd_audit *a, const struct space *s, const struct pend *p, uint64_t reuse)
{
    struct vtd_audit_finding f = {.did = s->did, .pasid = s->pasid, .first = p->first, .last = p->last,
                                  .stale_event = p->stale_event, .reuse_event = reuse,
                                  .touch_event = p->iotlb_event};
    uint32_t need = devtlb_need(s);
    if (p->iotlb_event == VTD_AUDIT_NO_EVENT) {
        f.kind = p->touch_event == VTD_AUDIT_NO_EVENT ? VTD_AUDIT_NOT_INVALIDATED : VTD_AUDIT_PARTIAL;
        f.touch_event = p->touch_event;
        f.missing = iotlb_fix(s, p->first, p->last);
    } else if (!p->waited) {
        f.kind = VTD_AUDIT_NOT_WAITED;
        f.missing = vtd_desc_wait(VTD_QI_WAIT_SW, 1, 0);
    } else {
        uint32_t missing = need & ~p->devtlb_done;
        f.kind = (missing & p->devtlb_early) ? VTD_AUDIT_DEVTLB_EARLY : VTD_AUDIT_DEVTLB_MISSING;
        f.devtlb_sid = first_member(s, missing);
        f.missing = devtlb_fix(s, f.devtlb_sid, p->first, p->last);
    }
    a->st.findings++;
    if (a->fn)
        a->fn(a->arg, &f);
}

int vtd_audit_map(struct vtd_audit *a, uint64_t event, uint16_t did, uint32_t pasid, uint64_t first, uint64_t last)
{
    a->st.maps++;
    struct space *s = space_find(a, did, pasid);
    if (!s || !s->n)
        return 0;
    for (unsigned i = 0; i < s->n;) {
        struct pend *p = &s->p[i];
        if (p->last < first || p->first > last) {
            i++;
            continue;
        }
        a->st.reuses++;
        /* The part the map reuses is the finding; the rest stays possibly cached. */
        if (pend_split(a, s, i, first, last, NULL, 0))
            return -ENOMEM;
        report(a, s, &s->p[i], event);
        pend_remove(a, s, i);
    }
    return 0;
}

void vtd_audit_finish(struct vtd_audit *a)
{
    while (a->ndirty) {
        struct space *s = a->dirty[a->ndirty - 1];
        report(a, s, &s->p[s->n - 1], VTD_AUDIT_NO_EVENT);
        pend_remove(a, s, s->n - 1);
    }
}

/* ---- descriptors ---- */

static void mark_touched(struct pend *p, uint64_t event)
{
    if (p->iotlb_event == VTD_AUDIT_NO_EVENT)
        p->touch_event = event;
}

/* An IOTLB-level invalidation covered [first, last] of space s (everything: 0, UINT64_MAX). */
static int cover_iotlb(struct vtd_audit *a, struct space *s, uint64_t event, uint64_t first, uint64_t last)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct pend *p = &s->p[i];
        if (p->last < first || p->first > last || p->iotlb_event != VTD_AUDIT_NO_EVENT)
            continue;
        if (pend_split(a, s, i, first, last, mark_touched, event))
            return -ENOMEM;
        s->p[i].iotlb_event = event;
        s->p[i].waited = false;
        s->submitted = true;
    }
    return 0;
}

/* A device-TLB invalidation of member `bit` covered [first, last] of space s. */
static void cover_devtlb(struct space *s, unsigned bit, uint64_t first, uint64_t last)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct pend *p = &s->p[i];
        if (p->first < first || p->last > last)
            continue;
        if (p->iotlb_event == VTD_AUDIT_NO_EVENT)
            p->devtlb_early |= UINT32_C(1) << bit;
        else
            p->devtlb_done |= UINT32_C(1) << bit;
        s->submitted = true;
    }
}

/* Type 2 reaches every space of its DID: ranged for those tagged by DID only, whole for the
 * PASID-tagged ones, whose entries it removes at any address (6.5.2.3). */
static int desc_iotlb(struct vtd_audit *a, uint64_t event, const uint64_t *qw)
{
    struct vtd_desc_iotlb_fields f = vtd_desc_iotlb_decode(qw);
    struct vtd_qi_range r = vtd_qi_am_range(f.addr, f.am);
    for (unsigned k = a->ndirty; k-- > 0;) {
        struct space *s = a->dirty[k];
        if (f.g != VTD_QI_IOTLB_G_GLOBAL && s->did != f.did)
            continue;
        bool ranged = f.g == VTD_QI_IOTLB_G_PAGE && s->pasid == VTD_AUDIT_NO_PASID;
        if (cover_iotlb(a, s, event, ranged ? r.first : 0, ranged ? r.last : UINT64_MAX))
            return -ENOMEM;
    }
    return 0;
}

static int desc_p_iotlb(struct vtd_audit *a, uint64_t event, const uint64_t *qw)
{
    struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(qw);
    struct space *s = space_find(a, f.did, f.pasid);
    if (!s || (f.g != VTD_QI_PIOTLB_G_PASID && f.g != VTD_QI_PIOTLB_G_PAGE))
        return 0;
    struct vtd_qi_range r = vtd_qi_am_range(f.addr, f.am);
    bool ranged = f.g == VTD_QI_PIOTLB_G_PAGE;
    return cover_iotlb(a, s, event, ranged ? r.first : 0, ranged ? r.last : UINT64_MAX);
}

/* A device-TLB descriptor for `sid`: every space it is a member of, with or without a PASID as
 * the descriptor type says; naming a member tells that it has a device TLB. */
static void desc_devtlb_any(struct vtd_audit *a, uint16_t sid, bool with_pasid, bool all_pasids, uint32_t pasid,
                            struct vtd_qi_range r)
{
    struct space *s, *tmp;
    HASH_ITER(hh, a->spaces, s, tmp) {
        bool tagged = s->pasid != VTD_AUDIT_NO_PASID;
        if (tagged != with_pasid || (with_pasid && !all_pasids && s->pasid != pasid))
            continue;
        for (unsigned i = 0; i < s->nmembers && i < MEMBER_BITS; i++)
            if (s->members[i].sid == sid) {
                s->members[i].devtlb = true;
                cover_devtlb(s, i, r.first, r.last);
            }
    }
}

/* Everything covered since the last wait is complete now (6.5.2.8); a range whose device TLBs
 * are done too is no longer cached anywhere. */
static void desc_wait(struct vtd_audit *a)
{
    a->st.waits++;
    for (unsigned k = a->ndirty; k-- > 0;) {
        struct space *s = a->dirty[k];
        if (!s->submitted)
            continue;
        s->submitted = false;
        uint32_t need = devtlb_need(s);
        for (unsigned i = s->n; i-- > 0;) {
            struct pend *p = &s->p[i];
            if (p->iotlb_event == VTD_AUDIT_NO_EVENT)
                continue;
            p->waited = true;
            if ((p->devtlb_done & need) == need)
                pend_remove(a, s, i);
        }
    }
}

int vtd_audit_desc(struct vtd_audit *a, uint64_t event, const uint64_t qw[2])
{
    a->st.descriptors++;
    switch (vtd_desc_type(qw[0])) {
    case VTD_QI_IOTLB: return desc_iotlb(a, event, qw);
    case VTD_QI_PIOTLB: return desc_p_iotlb(a, event, qw);
    case VTD_QI_DEVTLB: {
        struct vtd_desc_devtlb_fields f = vtd_desc_devtlb_decode(qw);
        desc_devtlb_any(a, f.sid, false, false, 0, vtd_devtlb_size_decode(f.addr, f.s));
        return 0;
    }
    case VTD_QI_PDEVTLB: {
        struct vtd_desc_p_devtlb_fields f = vtd_desc_p_devtlb_decode(qw);
        desc_devtlb_any(a, f.sid, true, f.all_pasids, f.pasid, vtd_devtlb_size_decode(f.addr, f.s));
        return 0;
    }
    case VTD_QI_WAIT: desc_wait(a); return 0;
    default: return 0; /* context, PASID-cache, interrupt-entry caches: no IOVA ranges */
    }
}

/* ---- text ---- */

static void space_text(const struct vtd_audit_finding *f, char *buf, size_t len)
{
    if (f->pasid == VTD_AUDIT_NO_PASID)
        snprintf(buf, len, "DID %u", (unsigned)f->did);
    else
        snprintf(buf, len, "DID %u PASID %u", (unsigned)f->did, (unsigned)f->pasid);
}

static void event_text(const char *what, uint64_t ev, char *buf, size_t len)
{
    if (ev == VTD_AUDIT_NO_EVENT)
        buf[0] = 0;
    else
        snprintf(buf, len, ", %s at event %llu", what, (unsigned long long)ev);
}

void vtd_audit_describe(const struct vtd_audit_finding *f, char *buf, size_t len)
{
    char space[40], touch[64], reuse[64], missing[160], dev[48] = "";
    space_text(f, space, sizeof space);
    event_text(f->kind == VTD_AUDIT_PARTIAL ? "its neighbour invalidated" : "invalidated", f->touch_event, touch,
               sizeof touch);
    if (f->reuse_event == VTD_AUDIT_NO_EVENT)
        snprintf(reuse, sizeof reuse, ", still possibly cached at the end");
    else
        snprintf(reuse, sizeof reuse, ", reused by the map at event %llu", (unsigned long long)f->reuse_event);
    if (f->kind == VTD_AUDIT_DEVTLB_MISSING || f->kind == VTD_AUDIT_DEVTLB_EARLY)
        snprintf(dev, sizeof dev, " (device %s)", vtd_bdf_format(f->devtlb_sid).s);
    vtd_qi_describe(f->missing.qw, f->missing.nqw, missing, sizeof missing);
    snprintf(buf, len, "%s%s: %s 0x%llx-0x%llx, unmapped at event %llu%s%s; missing: %s", vtd_audit_kind_name(f->kind),
             dev, space, (unsigned long long)f->first, (unsigned long long)f->last,
             (unsigned long long)f->stale_event, touch, reuse, missing);
}
