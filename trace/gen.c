/* gen.c: trace generators (see gen.h). */
#include "trace/gen.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "walker/alloc.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define PAGE_4K (4 * KIB)
#define PAGE_2M (2 * MIB)
#define SHIFT_4K 12u
#define SHIFT_2M 21u
/* Largest map event the generators write (sizes are 32-bit in a record). */
#define MAP_CHUNK GIB

/* Output (physical) addresses start above 4 GiB: clear of the interrupt range and of the
 * replay's own table pools. */
#define OUT_BASE (4 * GIB)
/* Linux allocates DMA-API IOVAs top-down below the 32-bit boundary first (drivers/iommu/
 * dma-iommu.c iommu_dma_alloc_iova: a 32-bit attempt before the full mask). */
#define NIC_IOVA_TOP (4 * GIB)
/* NIC descriptors: 16 bytes each (the common size of Intel NICs' receive/transmit descriptors). */
#define NIC_DESC_SIZE 16u

static const char *const gen_names[VTRACE_GEN_NKINDS] = {"nic", "storage", "uniform", "zipf", "sva"};

const char *vtrace_gen_name(enum vtrace_gen_kind kind) { return kind < VTRACE_GEN_NKINDS ? gen_names[kind] : "?"; }

int vtrace_gen_kind_of(const char *name)
{
    for (int k = 0; k < VTRACE_GEN_NKINDS; k++)
        if (!strcmp(name, gen_names[k]))
            return k;
    return -1;
}

void vtrace_gen_defaults(struct vtrace_gen_params *p, enum vtrace_gen_kind kind)
{
    *p = (struct vtrace_gen_params){
        .kind = kind, .seed = 1, .sid = 0x0018, /* 00:03.0 */
        .ring = 256, .pkt_size = 1500, .rx = true, .tx = true, .inval = VTRACE_INVAL_STRICT, .fq_size = 256,
        .buffer = GIB, .req_min = 128 * KIB, .req_max = MIB,
        .pages = 4096, .dma_size = 64, .zipf_s = 1.0, .pasid = 1,
    };
    switch (kind) {
    case VTRACE_GEN_NIC: p->count = 100000; break;
    case VTRACE_GEN_STORAGE: p->count = 10000; break;
    default: p->count = 1000000; break;
    }
}

uint64_t vtrace_rand(uint64_t *state)
{
    /* splitmix64 (Steele, Lea, Flood 2014): a simple, well-mixed 64-bit generator. */
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0); the bias of a 64-bit modulo is negligible for these sizes. */
static uint64_t rand_below(uint64_t *s, uint64_t n) { return vtrace_rand(s) % n; }
/* Uniform in [0, 1). */
static double rand_unit(uint64_t *s) { return (double)(vtrace_rand(s) >> 11) * 0x1.0p-53; }

/* ---- the emitter every generator writes through ---- */

struct gen {
    const struct vtrace_gen_params *p;
    vtrace_emit_fn emit;
    void *arg;
    int rc;
    uint64_t rng;
    char *err;
    uint64_t dmas;  /* DMA events so far (migration rounds) */
};

static void gen_event(struct gen *g, unsigned kind, uint64_t addr, uint64_t size, unsigned access, unsigned shift,
                      uint64_t out)
{
    if (g->rc)
        return;
    struct vtrace_event e = {.kind = (uint8_t)kind, .access = (uint8_t)access, .page_shift = (uint8_t)shift,
                             .sid = g->p->sid, .size = (uint32_t)size, .addr = addr, .out = out};
    if (g->p->kind == VTRACE_GEN_SVA) {
        e.flags = VTRACE_F_PASID;
        e.pasid = g->p->pasid;
    }
    g->rc = g->emit(g->arg, &e);
    /* A pre-copy round ends: the VMM harvests the whole space (second stage, no PASID). */
    if (!g->rc && kind == VTRACE_DMA && g->p->dirty_every && ++g->dmas % g->p->dirty_every == 0)
        g->rc = g->emit(g->arg, &(struct vtrace_event){.kind = VTRACE_DIRTY, .sid = g->p->sid});
}

static void gen_dma(struct gen *g, uint64_t addr, uint64_t size, unsigned access)
{
    gen_event(g, VTRACE_DMA, addr, size, access, 0, 0);
}

/* Map [iova, +size) with pages of 2^shift, in events of at most MAP_CHUNK. */
static void gen_map(struct gen *g, uint64_t iova, uint64_t out, uint64_t size, unsigned shift, unsigned perm)
{
    for (uint64_t off = 0; off < size && !g->rc; off += MAP_CHUNK) {
        uint64_t n = size - off < MAP_CHUNK ? size - off : MAP_CHUNK;
        gen_event(g, VTRACE_MAP, iova + off, n, perm, shift, out + off);
    }
}

static int gen_fail(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int gen_fail(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, VTRACE_ERR_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- nic ---- */

/*
 * Linux's IOVA allocator as the NIC sees it: a freed IOVA goes back to a per-CPU cache and is
 * the next one handed out (LIFO, drivers/iommu/iova.c iova_rcache), else a new one is carved
 * below the lowest so far. A deferred unmap parks the IOVA in the flush queue until the flush.
 */
struct nic_iovas {
    uint64_t *free;        /* LIFO of free IOVAs */
    unsigned nfree, cap;
    uint64_t *fq;          /* flush queue (deferred) */
    unsigned nfq;
    uint64_t next;         /* the next new IOVA (allocated downwards) */
};

static uint64_t iova_alloc(struct nic_iovas *a, uint64_t size)
{
    if (a->nfree)
        return a->free[--a->nfree];
    a->next -= size;
    return a->next;
}

static void iova_free(struct nic_iovas *a, uint64_t iova) { a->free[a->nfree++] = iova; }

struct nic {
    struct gen *g;
    struct nic_iovas iovas;
    uint64_t buf_bytes;      /* IOVA span of one packet buffer (whole pages) */
    uint64_t *slot_iova;     /* per descriptor: the buffer mapped there */
    uint64_t out_next;       /* physical pages of packet buffers, recycled from a pool */
    uint64_t pool_pages, pool_pos, pool_base;
};

static uint64_t nic_next_out(struct nic *n)
{
    uint64_t out = n->pool_base + n->pool_pos * n->buf_bytes;
    n->pool_pos = (n->pool_pos + 1) % n->pool_pages;
    return out;
}

static uint64_t nic_map_buffer(struct nic *n, unsigned perm)
{
    uint64_t iova = iova_alloc(&n->iovas, n->buf_bytes);
    gen_map(n->g, iova, nic_next_out(n), n->buf_bytes, SHIFT_4K, perm);
    return iova;
}

/* The driver is done with a buffer: unmap it and invalidate the way the mode says. */
static void nic_release(struct nic *n, uint64_t iova)
{
    struct gen *g = n->g;
    const struct vtrace_gen_params *p = g->p;
    gen_event(g, VTRACE_UNMAP, iova, n->buf_bytes, 0, 0, 0);
    if (p->inval == VTRACE_INVAL_STRICT) {
        gen_event(g, VTRACE_INVALIDATE, iova, n->buf_bytes, 0, 0, 0);
        iova_free(&n->iovas, iova);
        return;
    }
    if (p->reuse_before_flush)
        iova_free(&n->iovas, iova);
    else
        n->iovas.fq[n->iovas.nfq] = iova;
    if (++n->iovas.nfq < p->fq_size)
        return;
    /* The queue is full: one flush of the whole domain, then its IOVAs may be reused. */
    gen_event(g, VTRACE_INVALIDATE, 0, 0, 0, 0, 0);
    if (!p->reuse_before_flush)
        for (unsigned i = 0; i < n->iovas.nfq; i++)
            iova_free(&n->iovas, n->iovas.fq[i]);
    n->iovas.nfq = 0;
}

static uint64_t nic_ring(struct nic *n, uint64_t out)
{
    uint64_t bytes = ((uint64_t)n->g->p->ring * NIC_DESC_SIZE + PAGE_4K - 1) & ~(PAGE_4K - 1);
    uint64_t iova = iova_alloc(&n->iovas, bytes);
    gen_map(n->g, iova, out, bytes, SHIFT_4K, VTRACE_ACC_R | VTRACE_ACC_W);
    return iova;
}

static int gen_nic(struct gen *g)
{
    const struct vtrace_gen_params *p = g->p;
    if (!p->ring || !p->pkt_size || p->pkt_size > 64 * KIB || (!p->rx && !p->tx) || !p->fq_size)
        return gen_fail(g, "nic: ring, fq-size and a packet size of 1 B - 64 KiB are needed, and rx or tx");
    struct nic n = {.g = g, .buf_bytes = (p->pkt_size + PAGE_4K - 1) & ~(PAGE_4K - 1)};
    unsigned rings = (unsigned)p->rx + (unsigned)p->tx;
    /* Every buffer can be outstanding at once, plus a full flush queue. */
    n.iovas.cap = rings * p->ring + p->fq_size + 2;
    n.iovas.free = vtd_calloc(n.iovas.cap, sizeof(uint64_t));
    n.iovas.fq = vtd_calloc(p->fq_size, sizeof(uint64_t));
    n.slot_iova = vtd_calloc((size_t)rings * p->ring, sizeof(uint64_t));
    int rc = 0;
    if (!n.iovas.free || !n.iovas.fq || !n.slot_iova) {
        rc = gen_fail(g, "nic: out of memory");
        goto out;
    }
    n.iovas.next = NIC_IOVA_TOP;
    n.pool_pages = 4u * rings * p->ring + p->fq_size;
    n.pool_base = OUT_BASE + 64 * MIB; /* the rings' own memory lies below */
    uint64_t rx_ring = p->rx ? nic_ring(&n, OUT_BASE) : 0;
    uint64_t tx_ring = p->tx ? nic_ring(&n, OUT_BASE + 32 * MIB) : 0;
    uint64_t *rx_slot = n.slot_iova, *tx_slot = n.slot_iova + (p->rx ? p->ring : 0);
    /* The driver fills the receive ring before the first packet. */
    for (unsigned i = 0; p->rx && i < p->ring; i++)
        rx_slot[i] = nic_map_buffer(&n, VTRACE_ACC_R | VTRACE_ACC_W);
    uint64_t rx_count = 0, tx_count = 0;
    for (uint64_t i = 0; i < p->count && !g->rc; i++) {
        bool rx = p->rx && (!p->tx || i % 2 == 0);
        if (rx) {
            unsigned s = (unsigned)(rx_count++ % p->ring);
            uint64_t desc = rx_ring + (uint64_t)s * NIC_DESC_SIZE;
            gen_dma(g, desc, NIC_DESC_SIZE, VTRACE_ACC_R);          /* fetch the descriptor */
            gen_dma(g, rx_slot[s], p->pkt_size, VTRACE_ACC_W);      /* the packet */
            gen_dma(g, desc, NIC_DESC_SIZE, VTRACE_ACC_W);          /* write back the status */
            nic_release(&n, rx_slot[s]);
            rx_slot[s] = nic_map_buffer(&n, VTRACE_ACC_R | VTRACE_ACC_W); /* refill */
        } else {
            unsigned s = (unsigned)(tx_count++ % p->ring);
            uint64_t desc = tx_ring + (uint64_t)s * NIC_DESC_SIZE;
            tx_slot[s] = nic_map_buffer(&n, VTRACE_ACC_R);
            gen_dma(g, desc, NIC_DESC_SIZE, VTRACE_ACC_R);
            gen_dma(g, tx_slot[s], p->pkt_size, VTRACE_ACC_R);
            gen_dma(g, desc, NIC_DESC_SIZE, VTRACE_ACC_W);
            nic_release(&n, tx_slot[s]);                            /* on completion */
        }
    }
out:
    vtd_free(n.iovas.free);
    vtd_free(n.iovas.fq);
    vtd_free(n.slot_iova);
    return rc ? rc : g->rc;
}

/* ---- storage ---- */

#define STORAGE_IOVA UINT64_C(0x40000000)  /* 1 GiB: 2 MiB (and 1 GiB) aligned */
#define STORAGE_QUEUE_IOVA UINT64_C(0x100000)
#define STORAGE_SQE 64u                    /* NVMe submission queue entry */
#define STORAGE_CQE 16u                    /* NVMe completion queue entry */
#define STORAGE_QDEPTH 1024u

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

static int gen_storage(struct gen *g)
{
    const struct vtrace_gen_params *p = g->p;
    if (!is_pow2(p->req_min) || !is_pow2(p->req_max) || p->req_min > p->req_max || p->req_max > p->buffer ||
        p->req_min < PAGE_4K || (p->buffer & (PAGE_4K - 1)))
        return gen_fail(g, "storage: request sizes must be powers of two, 4 KiB <= min <= max <= buffer, "
                           "and the buffer whole 4 KiB pages");
    uint64_t sq = STORAGE_QUEUE_IOVA, cq = sq + STORAGE_QDEPTH * STORAGE_SQE;
    gen_map(g, sq, OUT_BASE, STORAGE_QDEPTH * (STORAGE_SQE + STORAGE_CQE), SHIFT_4K, VTRACE_ACC_R | VTRACE_ACC_W);
    /* The buffer: 2 MiB pages over its aligned part (both addresses are 2 MiB aligned), 4 KiB for the tail. */
    uint64_t out = OUT_BASE + GIB, big = p->small_pages ? 0 : p->buffer & ~(PAGE_2M - 1);
    if (big)
        gen_map(g, STORAGE_IOVA, out, big, SHIFT_2M, VTRACE_ACC_R | VTRACE_ACC_W);
    if (p->buffer > big)
        gen_map(g, STORAGE_IOVA + big, out + big, p->buffer - big, SHIFT_4K, VTRACE_ACC_R | VTRACE_ACC_W);
    unsigned sizes = (unsigned)(__builtin_ctzll(p->req_max) - __builtin_ctzll(p->req_min)) + 1;
    uint64_t cursor = 0;
    for (uint64_t i = 0; i < p->count && !g->rc; i++) {
        uint64_t size = (uint64_t)p->req_min << rand_below(&g->rng, sizes);
        if (cursor + size > p->buffer)
            cursor = 0;
        unsigned slot = (unsigned)(i % STORAGE_QDEPTH);
        bool read = rand_below(&g->rng, 10) < 7; /* a read moves data into memory: the device writes */
        gen_dma(g, sq + (uint64_t)slot * STORAGE_SQE, STORAGE_SQE, VTRACE_ACC_R);
        gen_dma(g, STORAGE_IOVA + cursor, size, read ? VTRACE_ACC_W : VTRACE_ACC_R);
        gen_dma(g, cq + (uint64_t)slot * STORAGE_CQE, STORAGE_CQE, VTRACE_ACC_W);
        cursor += size;
    }
    return g->rc;
}

/* ---- uniform and zipf ---- */

#define RANDOM_IOVA UINT64_C(0x100000000)  /* 4 GiB */

/* A seeded permutation of [0, n) (Fisher-Yates), so that popular pages are scattered. */
static uint32_t *permutation(uint64_t n, uint64_t *rng)
{
    uint32_t *perm = vtd_malloc((size_t)n * sizeof(uint32_t));
    if (!perm)
        return NULL;
    for (uint64_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = rand_below(rng, i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return perm;
}

/* Cumulative Zipf weights 1/k^s for ranks 1..n, normalised to end at 1. */
static double *zipf_cdf(uint64_t n, double s)
{
    double *cdf = vtd_malloc((size_t)n * sizeof(double));
    if (!cdf)
        return NULL;
    double sum = 0;
    for (uint64_t k = 0; k < n; k++)
        cdf[k] = (sum += pow((double)(k + 1), -s));
    for (uint64_t k = 0; k < n; k++)
        cdf[k] /= sum;
    return cdf;
}

/* The rank (0-based) of a uniform draw u: the first k with cdf[k] > u. */
static uint64_t zipf_rank(const double *cdf, uint64_t n, double u)
{
    uint64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int gen_random(struct gen *g)
{
    const struct vtrace_gen_params *p = g->p;
    if (!p->pages || p->pages > (UINT64_C(1) << 30) || !p->dma_size || p->dma_size > PAGE_4K ||
        (p->kind == VTRACE_GEN_ZIPF && !(p->zipf_s > 0)))
        return gen_fail(g, "%s: 1 to 2^30 pages, a DMA size of 1 B - 4 KiB%s", gen_names[p->kind],
                        p->kind == VTRACE_GEN_ZIPF ? " and an exponent s > 0 are needed" : " are needed");
    gen_map(g, RANDOM_IOVA, OUT_BASE, p->pages * PAGE_4K, SHIFT_4K, VTRACE_ACC_R | VTRACE_ACC_W);
    uint32_t *perm = NULL;
    double *cdf = NULL;
    if (p->kind == VTRACE_GEN_ZIPF && (!(perm = permutation(p->pages, &g->rng)) || !(cdf = zipf_cdf(p->pages, p->zipf_s)))) {
        vtd_free(perm);
        return gen_fail(g, "zipf: out of memory for %llu pages", (unsigned long long)p->pages);
    }
    uint64_t slots = PAGE_4K / p->dma_size; /* DMAs stay inside their page */
    for (uint64_t i = 0; i < p->count && !g->rc; i++) {
        uint64_t page = cdf ? perm[zipf_rank(cdf, p->pages, rand_unit(&g->rng))] : rand_below(&g->rng, p->pages);
        uint64_t off = rand_below(&g->rng, slots) * p->dma_size;
        unsigned acc = rand_below(&g->rng, 4) ? VTRACE_ACC_R : VTRACE_ACC_W;
        gen_dma(g, RANDOM_IOVA + page * PAGE_4K + off, p->dma_size, acc);
    }
    vtd_free(perm);
    vtd_free(cdf);
    return g->rc;
}

/* ---- sva ---- */

/* A process's regions (x86-64 user layout: text low, heap above it, mmap area and stack high). */
#define SVA_TEXT UINT64_C(0x400000)
#define SVA_TEXT_SIZE (2 * MIB)
#define SVA_HEAP UINT64_C(0x40000000)
#define SVA_HEAP_SIZE (256 * MIB)
#define SVA_MMAP UINT64_C(0x7f0000000000)
#define SVA_MMAP_SIZE (512 * MIB)
#define SVA_STACK UINT64_C(0x7ffff0000000)
#define SVA_STACK_SIZE MIB
/* One heap 2 MiB region in this many stays in 4 KiB pages (transparent huge pages that could not
 * be assembled). */
#define SVA_HEAP_SPLIT 4u

static int gen_sva(struct gen *g)
{
    const struct vtrace_gen_params *p = g->p;
    if (!p->dma_size || p->dma_size > PAGE_4K || p->pasid >> VTRACE_PASID_BITS)
        return gen_fail(g, "sva: a DMA size of 1 B - 4 KiB and a 20-bit PASID are needed");
    uint64_t out = OUT_BASE;
    unsigned rw = VTRACE_ACC_R | VTRACE_ACC_W;
    gen_map(g, SVA_TEXT, out, SVA_TEXT_SIZE, SHIFT_4K, VTRACE_ACC_R | VTRACE_ACC_X);
    out += SVA_TEXT_SIZE;
    for (uint64_t off = 0; off < SVA_HEAP_SIZE; off += PAGE_2M, out += PAGE_2M) {
        bool split = p->small_pages || (off / PAGE_2M) % SVA_HEAP_SPLIT == SVA_HEAP_SPLIT - 1;
        gen_map(g, SVA_HEAP + off, out, PAGE_2M, split ? SHIFT_4K : SHIFT_2M, rw);
    }
    gen_map(g, SVA_MMAP, out, SVA_MMAP_SIZE, p->small_pages ? SHIFT_4K : SHIFT_2M, rw);
    out += SVA_MMAP_SIZE;
    gen_map(g, SVA_STACK, out, SVA_STACK_SIZE, SHIFT_4K, rw);
    /* The device streams through the huge-page buffers (60%), chases pointers in the heap (30%),
     * reads the process's stack (8%) and text (2%). */
    uint64_t stream = 0;
    for (uint64_t i = 0; i < p->count && !g->rc; i++) {
        unsigned pick = (unsigned)rand_below(&g->rng, 100);
        if (pick < 60) {
            gen_dma(g, SVA_MMAP + stream, p->dma_size, i % 2 ? VTRACE_ACC_W : VTRACE_ACC_R);
            stream = (stream + p->dma_size) % SVA_MMAP_SIZE;
        } else if (pick < 90) {
            uint64_t a = SVA_HEAP + rand_below(&g->rng, SVA_HEAP_SIZE / p->dma_size) * p->dma_size;
            gen_dma(g, a, p->dma_size, VTRACE_ACC_R);
        } else if (pick < 98) {
            uint64_t a = SVA_STACK + rand_below(&g->rng, SVA_STACK_SIZE / p->dma_size) * p->dma_size;
            gen_dma(g, a, p->dma_size, VTRACE_ACC_R);
        } else {
            gen_dma(g, SVA_TEXT + rand_below(&g->rng, SVA_TEXT_SIZE / p->dma_size) * p->dma_size, p->dma_size,
                    VTRACE_ACC_R);
        }
    }
    return g->rc;
}

int vtrace_generate(const struct vtrace_gen_params *p, vtrace_emit_fn emit, void *arg, char err[VTRACE_ERR_LEN])
{
    struct gen g = {.p = p, .emit = emit, .arg = arg, .rng = p->seed, .err = err};
    if (p->dirty_every && p->kind == VTRACE_GEN_SVA)
        return gen_fail(&g, "sva: a first-stage space has no second-stage D bits to harvest (dirty_every)");
    int rc;
    switch (p->kind) {
    case VTRACE_GEN_NIC: rc = gen_nic(&g); break;
    case VTRACE_GEN_STORAGE: rc = gen_storage(&g); break;
    case VTRACE_GEN_UNIFORM:
    case VTRACE_GEN_ZIPF: rc = gen_random(&g); break;
    case VTRACE_GEN_SVA: rc = gen_sva(&g); break;
    default: return gen_fail(&g, "unknown generator %d", (int)p->kind);
    }
    /* The stop-and-copy round: the last harvest, after the device stopped. */
    if (!rc && p->dirty_every)
        rc = emit(arg, &(struct vtrace_event){.kind = VTRACE_DIRTY, .sid = p->sid});
    return rc;
}

/* The writer, and what it was given, kind by kind. */
struct counted_writer {
    struct vtrace_writer *w;
    uint64_t events[VTRACE_NKINDS];
};

static int emit_to_writer(void *arg, const struct vtrace_event *e)
{
    struct counted_writer *cw = arg;
    if ((unsigned)e->kind < VTRACE_NKINDS)
        cw->events[e->kind]++;
    return vtrace_write(cw->w, e);
}

int vtrace_generate_file(const struct vtrace_gen_params *p, const char *path, uint64_t events[VTRACE_NKINDS],
                         char err[VTRACE_ERR_LEN])
{
    struct counted_writer cw = {.w = vtrace_create(path, err)};
    struct vtrace_writer *w = cw.w;
    if (!w)
        return -1;
    err[0] = 0;
    int rc = vtrace_generate(p, emit_to_writer, &cw, err);
    if (rc && !err[0])
        snprintf(err, VTRACE_ERR_LEN, "%s", vtrace_writer_error(w));
    char ferr[VTRACE_ERR_LEN];
    if (rc) {
        vtrace_abandon(w); /* a file that was there before stays as it was */
    } else if (vtrace_finish(w, ferr)) {
        snprintf(err, VTRACE_ERR_LEN, "%s", ferr);
        rc = -1;
    }
    if (!rc && events)
        memcpy(events, cw.events, sizeof cw.events);
    return rc ? -1 : 0;
}
