/* import_linux.c: Linux IOMMU trace events to a vtdsim trace (see import_linux.h). */
#define _POSIX_C_SOURCE 200809L
#include "trace/import_linux.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/qi_desc.h"
#include "trace/linux_line.h"
#include "trace/page_set.h"
#include "walker/alloc.h"
#include "walker/bdf.h"
#include "walker/hostfile.h"

#define NO_DID 0u
/* Open maps that may start at one IOVA page at once (one per domain that maps it). */
#define MAPS_PER_PAGE 16u
/* The largest size one map or unmap event holds (its size is 32 bits), a whole number of pages. */
#define MAX_EVENT_BYTES UINT64_C(0x80000000)
/* Made-up devices for domains no device was tied to: bus 0xff, counting up. */
#define MADE_UP_SID_BASE 0xff00u
#define IO_BUFFER (1u << 20)

/* How a map or unmap was tied to its domain. */
enum { HOW_NONE, HOW_FLUSH, HOW_LATER, HOW_PAIR, HOW_ASSUMED };

/* A map or unmap waiting for the descriptors its CPU submits next. */
struct held {
    uint64_t j, first, last;
    bool unmap;
};

struct cpu_state {
    struct held *held;
    unsigned nheld, heldcap;
    bool in_batch;
    uint16_t batch_did;       /* the DID the CPU's latest descriptors named (0: none) */
    int32_t cc_sid;           /* a device-selective context invalidation waiting for its DID, or -1 */
};

struct join {
    uint16_t sid, did;
};

struct importer {
    struct vtrace_import_stats *st;
    char *err;
    /* first pass */
    uint16_t *did;            /* per map or unmap, in order */
    uint8_t *how;
    uint64_t nmu, mucap;
    struct cpu_state *cpus;
    unsigned ncpus;
    struct vtrace_page_set open_maps;   /* (page << 4 | slot) -> map index */
    struct held *pool;        /* unmaps still untied after their CPU moved on (lazy mode) */
    uint64_t npool, poolcap;
    uint64_t (*pairs)[2];     /* (unmap, map) both untied */
    uint64_t npairs, paircap;
    struct join *joins;
    unsigned njoins, joincap;
    uint64_t did_count[65536];
    /* second pass */
    struct vtrace_page_set mapped;      /* (did << 48 | page) */
    struct vtrace_page_set partner;     /* an untied pair's unmap -> its map */
    uint16_t *used;           /* the domains maps and unmaps use */
    unsigned nused;
    uint16_t sid_of[65536];   /* the device a domain's events name; 0 with !has_sid */
    bool has_sid[65536];
    struct vtrace_writer *w;
};

static int ifail(struct importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ifail(struct importer *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err, VTRACE_ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

static bool grow(void **arr, uint64_t *cap, uint64_t n, size_t elem)
{
    if (n < *cap)
        return true;
    uint64_t ncap = *cap ? *cap * 2 : 64;
    void *p = vtd_realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* ---- first pass: tie maps and unmaps to domains ---- */

static struct cpu_state *cpu_of(struct importer *im, unsigned cpu)
{
    if (cpu >= im->ncpus) {
        struct cpu_state *c = vtd_realloc(im->cpus, (cpu + 1) * sizeof(*c));
        if (!c)
            return NULL;
        for (unsigned i = im->ncpus; i <= cpu; i++)
            c[i] = (struct cpu_state){.cc_sid = -1};
        im->cpus = c;
        im->ncpus = cpu + 1;
    }
    return &im->cpus[cpu];
}

static bool join_add(struct importer *im, uint16_t sid, uint16_t did)
{
    for (unsigned i = 0; i < im->njoins; i++)
        if (im->joins[i].sid == sid)
            return true; /* a device keeps its first domain */
    uint64_t cap = im->joincap;
    if (!grow((void **)&im->joins, &cap, im->njoins, sizeof(*im->joins)))
        return false;
    im->joincap = (unsigned)cap;
    im->joins[im->njoins++] = (struct join){sid, did};
    return true;
}

static void tie(struct importer *im, uint64_t j, uint16_t did, uint8_t how)
{
    im->did[j] = did;
    im->how[j] = how;
}

/* An IOTLB-level descriptor of `did` over [first, last] ties the CPU's held maps and unmaps. */
static void tie_held(struct importer *im, struct cpu_state *c, uint16_t did, uint64_t first, uint64_t last)
{
    for (unsigned i = 0; i < c->nheld; i++) {
        struct held *h = &c->held[i];
        if (im->did[h->j] == NO_DID && h->first <= last && h->last >= first)
            tie(im, h->j, did, HOW_FLUSH);
    }
}

/* Lazy mode flushes a domain long after its unmaps, from any CPU: the first IOTLB invalidation
 * that covers a pooled unmap ties it (no later than its real flush, so never a finding too many). */
static void tie_pool(struct importer *im, uint16_t did, uint64_t first, uint64_t last)
{
    for (uint64_t i = 0; i < im->npool;) {
        struct held *h = &im->pool[i];
        if (h->first <= last && h->last >= first) {
            if (im->did[h->j] == NO_DID)
                tie(im, h->j, did, HOW_LATER);
            *h = im->pool[--im->npool];
        } else
            i++;
    }
}

static bool first_qi(struct importer *im, struct cpu_state *c, const struct lx_event *e)
{
    if (!c->in_batch) {
        c->in_batch = true;
        c->batch_did = NO_DID;
    }
    const uint64_t *qw = e->qw;
    switch (vtd_desc_type(qw[0])) {
    case VTD_QI_IOTLB: {
        struct vtd_desc_iotlb_fields f = vtd_desc_iotlb_decode(qw);
        if (f.g == VTD_QI_IOTLB_G_GLOBAL || !f.did)
            return true;
        struct vtd_qi_range r = f.g == VTD_QI_IOTLB_G_PAGE ? vtd_qi_am_range(f.addr, f.am)
                                                           : (struct vtd_qi_range){0, UINT64_MAX};
        tie_held(im, c, f.did, r.first, r.last);
        tie_pool(im, f.did, r.first, r.last);
        c->batch_did = f.did;
        break;
    }
    case VTD_QI_PIOTLB: {
        struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(qw);
        if (!f.did)
            return true;
        struct vtd_qi_range r = f.g == VTD_QI_PIOTLB_G_PAGE ? vtd_qi_am_range(f.addr, f.am)
                                                            : (struct vtd_qi_range){0, UINT64_MAX};
        tie_held(im, c, f.did, r.first, r.last);
        tie_pool(im, f.did, r.first, r.last);
        c->batch_did = f.did;
        break;
    }
    case VTD_QI_PC: {
        struct vtd_desc_pc_fields f = vtd_desc_pc_decode(qw);
        if (f.did)
            c->batch_did = f.did;
        return true;
    }
    case VTD_QI_CC: {
        struct vtd_desc_cc_fields f = vtd_desc_cc_decode(qw);
        if (f.g != VTD_QI_CC_G_DEVICE)
            return true;
        if (f.did)
            return join_add(im, f.sid, f.did);
        c->cc_sid = f.sid;
        return true;
    }
    case VTD_QI_DEVTLB: {
        struct vtd_desc_devtlb_fields f = vtd_desc_devtlb_decode(qw);
        return !c->batch_did || join_add(im, f.sid, c->batch_did);
    }
    default: return true;
    }
    /* An IOTLB invalidation after a device-selective context one with DID 0 names its domain. */
    if (c->cc_sid >= 0 && !join_add(im, (uint16_t)c->cc_sid, c->batch_did))
        return false;
    c->cc_sid = -1;
    return true;
}

/* Pair an unmap with the open maps of its pages, first mapped first. */
static bool pair_unmap(struct importer *im, const struct held *u)
{
    for (uint64_t p = u->first >> LX_PAGE_SHIFT; p <= u->last >> LX_PAGE_SHIFT; p++)
        for (unsigned k = 0; k < MAPS_PER_PAGE; k++) {
            uint64_t key = p << 4 | k;
            int64_t m = vtrace_page_set_find(&im->open_maps, key);
            if (m < 0)
                continue;
            uint16_t du = im->did[u->j], dm = im->did[m];
            if (du && dm && du != dm)
                continue; /* another domain's map of the same page */
            if (du && !dm)
                tie(im, (uint64_t)m, du, HOW_PAIR);
            else if (!du && dm)
                tie(im, u->j, dm, HOW_PAIR);
            else if (!du) {
                if (!grow((void **)&im->pairs, &im->paircap, im->npairs, sizeof(*im->pairs)))
                    return false;
                im->pairs[im->npairs][0] = u->j;
                im->pairs[im->npairs++][1] = (uint64_t)m;
            }
            vtrace_page_set_remove(&im->open_maps, key);
            du = im->did[u->j];
            break;
        }
    return true;
}

/* The CPU did something else: its batch of descriptors is over, its held events are settled. */
static bool release(struct importer *im, struct cpu_state *c)
{
    c->in_batch = false;
    for (unsigned i = 0; i < c->nheld; i++) {
        struct held *h = &c->held[i];
        if (!h->unmap)
            continue;
        if (!pair_unmap(im, h))
            return false;
        if (im->did[h->j] == NO_DID) {
            if (!grow((void **)&im->pool, &im->poolcap, im->npool, sizeof(*im->pool)))
                return false;
            im->pool[im->npool++] = *h;
        }
    }
    c->nheld = 0;
    return true;
}

static bool hold(struct importer *im, struct cpu_state *c, const struct lx_event *e, bool unmap)
{
    uint64_t cap = c->heldcap;
    if (im->nmu == im->mucap) {
        uint64_t ncap = im->mucap ? im->mucap * 2 : 1024;
        uint16_t *did = vtd_realloc(im->did, (size_t)ncap * sizeof(*did));
        if (!did)
            return false;
        im->did = did;
        uint8_t *how = vtd_realloc(im->how, (size_t)ncap);
        if (!how)
            return false;
        im->how = how;
        im->mucap = ncap;
    }
    if (!grow((void **)&c->held, &cap, c->nheld, sizeof(*c->held)))
        return false;
    c->heldcap = (unsigned)cap;
    uint64_t j = im->nmu++;
    tie(im, j, NO_DID, HOW_NONE);
    c->held[c->nheld++] = (struct held){j, e->iova, e->iova + e->size - 1, unmap};
    if (unmap)
        return true;
    for (unsigned k = 0; k < MAPS_PER_PAGE; k++) {
        uint64_t key = (e->iova >> LX_PAGE_SHIFT) << 4 | k;
        if (vtrace_page_set_find(&im->open_maps, key) < 0)
            return vtrace_page_set_put(&im->open_maps, key, (uint32_t)j);
    }
    return true; /* more maps of one page than domains worth tracking: this one pairs with nothing */
}

/* Maps of one scatter-gather list come one after another and are flushed together (with CAP.CM,
 * Linux 6.1 iommu_map_sg then one iotlb_sync_map): a map after maps, an unmap after unmaps, with
 * no descriptor between, joins the group held for the next descriptors. */
static bool continues_group(const struct cpu_state *c, const struct lx_event *e)
{
    if (c->in_batch || !c->nheld || (e->kind != LX_MAP && e->kind != LX_UNMAP))
        return false;
    for (unsigned i = 0; i < c->nheld; i++)
        if (c->held[i].unmap != (e->kind == LX_UNMAP))
            return false;
    return true;
}

static void count_unknown(struct importer *im, const struct lx_event *e, uint64_t line)
{
    struct vtrace_import_stats *st = im->st;
    if (e->kind == LX_UNKNOWN) {
        if (!st->unknown_events++) {
            st->first_unknown_line = line;
            snprintf(st->first_unknown, sizeof st->first_unknown, "%s", e->name);
        }
    } else if (e->kind == LX_BAD && !st->unparsed++)
        st->first_unparsed_line = line;
}

static bool first_event(struct importer *im, const struct lx_event *e, uint64_t line)
{
    if (e->kind == LX_NONE || e->kind == LX_UNKNOWN || e->kind == LX_BAD) {
        count_unknown(im, e, line);
        return true;
    }
    struct cpu_state *c = cpu_of(im, e->cpu);
    if (!c)
        return false;
    if (e->kind == LX_QI)
        return first_qi(im, c, e);
    if (!continues_group(c, e) && !release(im, c))
        return false;
    bool ok = true;
    switch (e->kind) {
    case LX_MAP: ok = hold(im, c, e, false); break;
    case LX_UNMAP: ok = hold(im, c, e, true); break;
    case LX_ATTACH: ok = !c->batch_did || join_add(im, e->sid, c->batch_did); break;
    case LX_TAG: ok = join_add(im, e->sid, e->did); break;
    default: break;
    }
    c->batch_did = NO_DID;
    return ok;
}

/* Untied pairs take each other's domain, or the assumed one; anything else untied too. */
static bool settle(struct importer *im)
{
    uint16_t best = NO_DID;
    for (uint64_t j = 0; j < im->nmu; j++)
        im->did_count[im->did[j]]++;
    for (unsigned d = 1; d < 65536; d++)
        if (im->did_count[d] > im->did_count[best] || !best)
            best = im->did_count[d] ? (uint16_t)d : best;
    if (!best)
        best = 1;
    for (uint64_t i = 0; i < im->npairs; i++) {
        uint64_t u = im->pairs[i][0], m = im->pairs[i][1];
        uint16_t d = im->did[u] ? im->did[u] : im->did[m];
        uint8_t how = d ? HOW_PAIR : HOW_ASSUMED;
        if (!d && !vtrace_page_set_put(&im->partner, u, (uint32_t)m))
            return false;
        if (!im->did[u])
            tie(im, u, d ? d : best, how);
        if (!im->did[m])
            tie(im, m, d ? d : best, how);
    }
    for (uint64_t j = 0; j < im->nmu; j++)
        if (!im->did[j])
            tie(im, j, best, HOW_ASSUMED);
    for (uint64_t j = 0; j < im->nmu; j++) {
        im->st->by_flush += im->how[j] == HOW_FLUSH;
        im->st->by_later += im->how[j] == HOW_LATER;
        im->st->by_pair += im->how[j] == HOW_PAIR;
        im->st->assumed += im->how[j] == HOW_ASSUMED;
    }
    if (im->st->assumed)
        im->st->assumed_did = best;
    return true;
}

/* ---- second pass: write ---- */

static int put(struct importer *im, const struct vtrace_event *ev)
{
    if (vtrace_write(im->w, ev))
        return ifail(im, "%s", vtrace_writer_error(im->w));
    return 0;
}

static bool sid_taken(const struct importer *im, uint16_t sid)
{
    for (unsigned i = 0; i < im->njoins; i++)
        if (im->joins[i].sid == sid)
            return true;
    return false;
}

/* A domain event for every device tied to a domain the maps use, and a made-up device for a
 * domain without one. */
static int write_domains(struct importer *im)
{
    bool *used = vtd_calloc(65536, sizeof(bool));
    if (!used)
        return ifail(im, "out of memory");
    for (uint64_t j = 0; j < im->nmu; j++)
        used[im->did[j]] = true;
    if (!(im->used = vtd_malloc(65536 * sizeof(*im->used)))) {
        vtd_free(used);
        return ifail(im, "out of memory");
    }
    for (unsigned d = 1; d < 65536; d++)
        if (used[d])
            im->used[im->nused++] = (uint16_t)d;
    int rc = 0;
    for (unsigned i = 0; i < im->njoins && !rc; i++) {
        struct join *jn = &im->joins[i];
        if (!used[jn->did])
            continue;
        if (!im->has_sid[jn->did]) {
            im->has_sid[jn->did] = true;
            im->sid_of[jn->did] = jn->sid;
        }
        im->st->domains++;
        rc = put(im, &(struct vtrace_event){.kind = VTRACE_DOMAIN, .sid = jn->sid, .addr = jn->did});
    }
    uint16_t next = MADE_UP_SID_BASE;
    for (unsigned d = 1; d < 65536 && !rc; d++) {
        if (!used[d] || im->has_sid[d])
            continue;
        while (sid_taken(im, next))
            next++;
        im->has_sid[d] = true;
        im->sid_of[d] = next++;
        im->st->made_up_devices++;
        im->st->domains++;
        rc = put(im, &(struct vtrace_event){.kind = VTRACE_DOMAIN, .sid = im->sid_of[d], .addr = d});
    }
    vtd_free(used);
    return rc;
}

static uint64_t page_key(uint16_t did, uint64_t page) { return (uint64_t)did << 48 | page; }

/* Pages [first, last] of `did` are all mapped (want true) or all unmapped (want false). */
static bool pages_are(const struct importer *im, uint16_t did, uint64_t iova, uint64_t size, bool want)
{
    for (uint64_t p = iova >> LX_PAGE_SHIFT; p <= (iova + size - 1) >> LX_PAGE_SHIFT; p++)
        if ((vtrace_page_set_find(&im->mapped, page_key(did, p)) >= 0) != want)
            return false;
    return true;
}

/*
 * An assumed domain may be wrong: a map over pages the assumed domain has mapped goes to the
 * first other domain that has them free (two DMA-API domains allocate the same IOVAs), and the
 * unmap paired with it follows it.
 */
static uint16_t settle_assumed(struct importer *im, const struct lx_event *e, uint64_t j)
{
    if (e->kind == LX_UNMAP) {
        int64_t m = vtrace_page_set_find(&im->partner, j);
        if (m >= 0)
            im->did[j] = im->did[m];
        return im->did[j];
    }
    if (pages_are(im, im->did[j], e->iova, e->size, false))
        return im->did[j];
    for (unsigned i = 0; i < im->nused; i++)
        if (pages_are(im, im->used[i], e->iova, e->size, false))
            return im->did[j] = im->used[i];
    return im->did[j];
}

static int write_map_unmap(struct importer *im, const struct lx_event *e, uint64_t j)
{
    bool unmap = e->kind == LX_UNMAP;
    uint16_t did = im->how[j] == HOW_ASSUMED ? settle_assumed(im, e, j) : im->did[j];
    if (!pages_are(im, did, e->iova, e->size, unmap)) {
        im->st->inconsistent++;
        return 0;
    }
    for (uint64_t p = e->iova >> LX_PAGE_SHIFT; p <= (e->iova + e->size - 1) >> LX_PAGE_SHIFT; p++)
        if (unmap ? !vtrace_page_set_remove(&im->mapped, page_key(did, p))
                  : !vtrace_page_set_put(&im->mapped, page_key(did, p), 0))
            return unmap ? ifail(im, "internal: page not mapped") : ifail(im, "out of memory");
    unmap ? im->st->unmaps++ : im->st->maps++;
    for (uint64_t off = 0; off < e->size; off += MAX_EVENT_BYTES) {
        uint64_t n = e->size - off < MAX_EVENT_BYTES ? e->size - off : MAX_EVENT_BYTES;
        struct vtrace_event ev = {.kind = unmap ? VTRACE_UNMAP : VTRACE_MAP, .sid = im->sid_of[did],
                                  .addr = e->iova + off, .size = (uint32_t)n};
        if (!unmap) {
            ev.access = VTRACE_ACC_R | VTRACE_ACC_W; /* Linux's map event does not say */
            ev.page_shift = LX_PAGE_SHIFT;
            ev.out = e->paddr + off;
        }
        if (put(im, &ev))
            return -1;
    }
    return 0;
}

/* The wait qi_submit_sync added to the batch (it does not trace it). */
static int end_batch(struct importer *im, struct cpu_state *c)
{
    if (!c->in_batch)
        return 0;
    c->in_batch = false;
    struct vtd_desc w = vtd_desc_wait(0, 0, 0);
    im->st->waits_added++;
    return put(im, &(struct vtrace_event){.kind = VTRACE_DESC, .addr = w.qw[0], .out = w.qw[1]});
}

static int end_batches(struct importer *im, unsigned except)
{
    for (unsigned i = 0; i < im->ncpus; i++)
        if (i != except && end_batch(im, &im->cpus[i]))
            return -1;
    return 0;
}

static int second_event(struct importer *im, const struct lx_event *e, uint64_t *j)
{
    if (e->kind == LX_NONE || e->kind == LX_UNKNOWN || e->kind == LX_BAD)
        return 0;
    /* Any other line ends every batch but a descriptor's own CPU's. */
    if (end_batches(im, e->kind == LX_QI ? e->cpu : UINT32_MAX))
        return -1;
    switch (e->kind) {
    case LX_QI:
        if (!(e->qw[0] & 0xf) && !(e->qw[0] & 0xe00)) {
            im->st->unparsed++; /* type 0: not a descriptor */
            return 0;
        }
        im->cpus[e->cpu].in_batch = true;
        im->st->descriptors++;
        return put(im, &(struct vtrace_event){.kind = VTRACE_DESC, .addr = e->qw[0], .out = e->qw[1]});
    case LX_MAP:
    case LX_UNMAP: return write_map_unmap(im, e, (*j)++);
    case LX_ATTACH: im->st->attaches++; return 0;
    case LX_FAULT: im->st->page_faults++; return 0;
    default: im->st->known_skipped++; return 0;
    }
}

/* ---- the two passes over the file ---- */

typedef int (*line_fn)(struct importer *im, const struct lx_event *e, uint64_t line, uint64_t *j);

static int pass1_line(struct importer *im, const struct lx_event *e, uint64_t line, uint64_t *j)
{
    (void)j;
    im->st->lines++;
    return first_event(im, e, line) ? 0 : ifail(im, "out of memory");
}

static int pass2_line(struct importer *im, const struct lx_event *e, uint64_t line, uint64_t *j)
{
    (void)line;
    return second_event(im, e, j);
}

static int read_pass(struct importer *im, const char *in, line_fn fn)
{
    char why[VTRACE_ERR_LEN];
    uint64_t size;
    FILE *f = vtd_fopen_regular(in, &size, why, sizeof why);
    if (!f)
        return ifail(im, "%s: %s", in, why);
    /* Large reads: a trace is read twice, and is often gigabytes. */
    char *iobuf = vtd_malloc(IO_BUFFER);
    if (iobuf)
        setvbuf(f, iobuf, _IOFBF, IO_BUFFER);
    char *buf = NULL;
    size_t cap = 0;
    uint64_t line = 0, j = 0;
    int rc = 0;
    struct lx_event e;
    while (!rc && getline(&buf, &cap, f) >= 0) {
        lx_parse_line(buf, &e);
        rc = fn(im, &e, ++line, &j);
    }
    if (!rc && ferror(f))
        rc = ifail(im, "%s: read error", in);
    free(buf);
    fclose(f);
    vtd_free(iobuf);
    return rc;
}

static void importer_free(struct importer *im)
{
    for (unsigned i = 0; i < im->ncpus; i++)
        vtd_free(im->cpus[i].held);
    vtd_free(im->cpus);
    vtd_free(im->did);
    vtd_free(im->how);
    vtd_free(im->pairs);
    vtd_free(im->pool);
    vtd_free(im->joins);
    vtrace_page_set_free(&im->open_maps);
    vtrace_page_set_free(&im->mapped);
    vtrace_page_set_free(&im->partner);
    vtd_free(im->used);
    vtd_free(im);
}

int vtrace_import_linux(const char *in, const char *out, struct vtrace_import_stats *st, char err[VTRACE_ERR_LEN])
{
    memset(st, 0, sizeof(*st));
    struct importer *im = vtd_calloc(1, sizeof(*im));
    if (!im) {
        snprintf(err, VTRACE_ERR_LEN, "out of memory");
        return -1;
    }
    im->st = st;
    im->err = err;
    int rc = read_pass(im, in, pass1_line);
    for (unsigned i = 0; !rc && i < im->ncpus; i++)
        if (!release(im, &im->cpus[i]))
            rc = ifail(im, "out of memory");
    if (!rc && !settle(im))
        rc = ifail(im, "out of memory");
    if (!rc) {
        for (unsigned i = 0; i < im->ncpus; i++)
            im->cpus[i] = (struct cpu_state){.held = im->cpus[i].held, .heldcap = im->cpus[i].heldcap, .cc_sid = -1};
        if (!(im->w = vtrace_create(out, err)))
            rc = -1;
    }
    if (!rc)
        rc = write_domains(im);
    if (!rc)
        rc = read_pass(im, in, pass2_line);
    if (!rc)
        rc = end_batches(im, UINT32_MAX);
    if (im->w) {
        if (rc)
            vtrace_abandon(im->w);
        else
            rc = vtrace_finish(im->w, err);
    }
    importer_free(im);
    return rc;
}
