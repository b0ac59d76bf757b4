/*
 * test_trace.c: DMA traces (trace/): the binary and CSV formats (round trips, every error path
 * with its record index or line:column), the generators (determinism and shape), replay hit
 * rates on hand-computable traces, stale translations under deferred invalidation, and sweeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/gen.h"
#include "trace/replay.h"
#include "trace/trace.h"
#include "walker/alloc.h"

#define SID 0x0018 /* 00:03.0 */
#define MAX_EVENTS 400000

/* ---- helpers ---- */

struct evbuf {
    struct vtrace_event *ev;
    long n;
};

static int collect(void *arg, const struct vtrace_event *e)
{
    struct evbuf *b = arg;
    cr_assert_lt(b->n, MAX_EVENTS, "generator made too many events for the test buffer");
    b->ev[b->n++] = *e;
    return 0;
}

static struct evbuf generate(const struct vtrace_gen_params *p)
{
    struct evbuf b = {.ev = vtd_malloc(MAX_EVENTS * sizeof(struct vtrace_event))};
    cr_assert_not_null(b.ev);
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_generate(p, collect, &b, err), 0, "%s", err);
    return b;
}

static bool same_event(const struct vtrace_event *a, const struct vtrace_event *b)
{
    return a->kind == b->kind && a->access == b->access && a->page_shift == b->page_shift && a->flags == b->flags &&
           a->sid == b->sid && a->pasid == b->pasid && a->size == b->size && a->addr == b->addr && a->out == b->out;
}

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vtdsim-trace-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *path(const char *name)
{
    static char buf[4][128];
    static unsigned k;
    char *p = buf[k++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* The events of a file, or the reader's error in err (returns -1). */
static long read_all(const char *p, struct vtrace_event *ev, long max, char *err)
{
    struct vtrace_reader *r = vtrace_open(p, err);
    if (!r)
        return -1;
    long total = 0, n;
    while ((n = vtrace_read(r, ev + total, max - total)) > 0)
        total += n;
    if (n < 0) {
        snprintf(err, VTRACE_ERR_LEN, "%s", vtrace_error(r));
        total = -1;
    }
    vtrace_close(r);
    return total;
}

static void write_events(const char *p, const struct vtrace_event *ev, long n)
{
    char err[VTRACE_ERR_LEN];
    struct vtrace_writer *w = vtrace_create(p, err);
    cr_assert_not_null(w, "%s", err);
    for (long i = 0; i < n; i++)
        cr_assert_eq(vtrace_write(w, &ev[i]), 0, "%s", vtrace_writer_error(w));
    cr_assert_eq(vtrace_finish(w, err), 0, "%s", err);
}

/* ---- formats ---- */

TestSuite(format, .init = make_dir, .fini = remove_dir);

Test(format, binary_csv_binary_round_trip_keeps_every_field)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_NIC);
    p.count = 300;
    p.inval = VTRACE_INVAL_DEFERRED;
    p.fq_size = 16;
    struct evbuf a = generate(&p);
    vtrace_gen_defaults(&p, VTRACE_GEN_SVA); /* PASIDs, exec permission, 2 MiB pages */
    p.count = 200;
    struct evbuf s = generate(&p);
    memcpy(a.ev + a.n, s.ev, (size_t)s.n * sizeof(*s.ev));
    a.n += s.n;
    vtd_free(s.ev);

    write_events(path("a.bin"), a.ev, a.n);
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_convert(path("a.bin"), path("a.csv"), err), 0, "%s", err);
    cr_assert_eq(vtrace_convert(path("a.csv"), path("b.bin"), err), 0, "%s", err);
    struct vtrace_event *back = vtd_malloc((size_t)a.n * sizeof(*back));
    cr_assert_eq(read_all(path("b.bin"), back, a.n, err), a.n, "%s", err);
    for (long i = 0; i < a.n; i++)
        cr_assert(same_event(&a.ev[i], &back[i]), "event %ld differs after bin -> csv -> bin", i);
    cr_assert_eq(read_all(path("a.csv"), back, a.n, err), a.n, "%s", err);
    for (long i = 0; i < a.n; i++)
        cr_assert(same_event(&a.ev[i], &back[i]), "event %ld differs in the CSV", i);
    vtd_free(back);
    vtd_free(a.ev);
}

static struct vtrace_event dma_event(uint64_t addr)
{
    return (struct vtrace_event){.kind = VTRACE_DMA, .access = VTRACE_ACC_R, .sid = SID, .size = 64, .addr = addr};
}

/* A binary file of a header announcing `count` and the given records. */
static void binary_file(const char *p, uint64_t count, const struct vtrace_event *ev, unsigned n, size_t cut)
{
    uint8_t buf[VTRACE_HEADER_SIZE + 8 * VTRACE_RECORD_SIZE] = {0};
    memcpy(buf, VTRACE_MAGIC, 8);
    buf[8] = VTRACE_VERSION;
    buf[10] = VTRACE_RECORD_SIZE;
    for (unsigned i = 0; i < 8; i++)
        buf[16 + i] = (uint8_t)(count >> (8 * i));
    for (unsigned i = 0; i < n; i++)
        vtrace_record_encode(&ev[i], buf + VTRACE_HEADER_SIZE + i * VTRACE_RECORD_SIZE);
    size_t len = VTRACE_HEADER_SIZE + n * VTRACE_RECORD_SIZE;
    write_file(p, buf, len - cut);
}

static void expect_error(const char *p, const char *want)
{
    struct vtrace_event ev[16];
    char err[VTRACE_ERR_LEN] = "";
    cr_assert_eq(read_all(p, ev, 16, err), -1, "%s read without error (want '%s')", p, want);
    cr_assert_not_null(strstr(err, want), "error '%s' does not say '%s'", err, want);
}

Test(format, binary_header_errors)
{
    write_file(path("short.bin"), VTRACE_MAGIC, 8);
    expect_error(path("short.bin"), "short.bin: header: truncated (8 of 32 bytes)");
    uint8_t h[VTRACE_HEADER_SIZE] = "NOTATRACE";
    write_file(path("magic.bin"), h, sizeof(h));
    expect_error(path("magic.bin"), "header: bad magic");
    binary_file(path("v.bin"), 0, NULL, 0, 0);
    FILE *f = fopen(path("v.bin"), "r+b");
    fseek(f, 8, SEEK_SET);
    fputc(7, f);
    fclose(f);
    expect_error(path("v.bin"), "header: version 7 is not supported");
    binary_file(path("rsvd.bin"), 0, NULL, 0, 0);
    f = fopen(path("rsvd.bin"), "r+b");
    fseek(f, 30, SEEK_SET);
    fputc(1, f);
    fclose(f);
    expect_error(path("rsvd.bin"), "reserved header fields are not zero");
}

Test(format, binary_truncation_and_trailing_data)
{
    struct vtrace_event ev[3] = {dma_event(0x1000), dma_event(0x2000), dma_event(0x3000)};
    binary_file(path("cut.bin"), 3, ev, 3, 27); /* the last record keeps 5 of its 32 bytes */
    expect_error(path("cut.bin"), "record 2: truncated (the file ends after 5 of its 32 bytes)");
    binary_file(path("few.bin"), 5, ev, 3, 0);
    expect_error(path("few.bin"), "record 3: truncated (the file ends after 3 records, the header announces 5)");
    binary_file(path("more.bin"), 2, ev, 3, 0);
    expect_error(path("more.bin"), "trailing data after the 2 records");
    binary_file(path("ok.bin"), 3, ev, 3, 0);
    char err[VTRACE_ERR_LEN];
    struct vtrace_event back[3];
    cr_assert_eq(read_all(path("ok.bin"), back, 3, err), 3, "%s", err);
}

Test(format, binary_bad_fields_name_the_record_and_field)
{
    struct vtrace_event ev[2] = {dma_event(0x1000), dma_event(0x2000)};
    ev[1].kind = 9;
    binary_file(path("kind.bin"), 2, ev, 2, 0);
    expect_error(path("kind.bin"), "record 1: kind: kind 9 is not dma, map, unmap, invalidate, dirty, desc or domain");

    ev[1] = (struct vtrace_event){.kind = VTRACE_MAP, .access = 3, .page_shift = 13, .sid = SID, .size = 0x2000,
                                  .addr = 0x2000, .out = 0x4000};
    binary_file(path("page.bin"), 2, ev, 2, 0);
    expect_error(path("page.bin"), "record 1: page: map: page shift 13 is not 4k (12), 2m (21) or 1g (30)");

    ev[1] = dma_event(0x2000);
    ev[1].flags = VTRACE_F_PASID;
    ev[1].pasid = 1u << 20;
    binary_file(path("pasid.bin"), 2, ev, 2, 0);
    expect_error(path("pasid.bin"), "record 1: pasid: dma: pasid 0x100000 is wider than 20 bits");

    ev[1] = dma_event(UINT64_MAX - 8); /* addr + size wraps */
    binary_file(path("wrap.bin"), 2, ev, 2, 0);
    expect_error(path("wrap.bin"), "record 1: addr: dma: addr 0xfffffffffffffff7 (+ size) is beyond 57 bits");

    ev[1] = dma_event(0x2000);
    ev[1].access = 0x10;
    binary_file(path("acc.bin"), 2, ev, 2, 0);
    expect_error(path("acc.bin"), "record 1: access: dma: access bits 0x10 are not r, w or x");

    ev[1] = (struct vtrace_event){.kind = VTRACE_MAP, .access = 3, .page_shift = 12, .sid = SID, .size = 0x1000,
                                  .addr = 0x2000, .out = 0x4800};
    binary_file(path("out.bin"), 2, ev, 2, 0);
    expect_error(path("out.bin"), "record 1: out: map: out 0x4800 is not aligned to the page");

    /* The reserved bytes of a record. */
    binary_file(path("rr.bin"), 2, ev, 1, 0);
    FILE *f = fopen(path("rr.bin"), "ab");
    uint8_t rec[VTRACE_RECORD_SIZE];
    struct vtrace_event d = dma_event(0x2000);
    vtrace_record_encode(&d, rec);
    rec[6] = 1;
    fwrite(rec, 1, sizeof(rec), f);
    fclose(f);
    f = fopen(path("rr.bin"), "r+b");
    fseek(f, 16, SEEK_SET);
    fputc(2, f); /* the header announces two records */
    fclose(f);
    expect_error(path("rr.bin"), "record 1: reserved bytes 6-7 are not zero");
}

static void csv_case(const char *body, const char *want)
{
    char text[512];
    snprintf(text, sizeof(text), "kind,sid,pasid,addr,size,access,page,out\n%s", body);
    write_file(path("t.csv"), text, strlen(text));
    expect_error(path("t.csv"), want);
}

Test(format, csv_errors_name_line_and_column)
{
    write_file(path("nohdr.csv"), "dma,00:03.0,-,0x1000,64,r,-,-\n", 30);
    expect_error(path("nohdr.csv"), "nohdr.csv:1:1: the header line");
    csv_case("dma,00:03.0,-,0x1000,64,r,-,-\nfoo,00:03.0,-,0x1000,64,r,-,-\n", "t.csv:3:1: kind: 'foo' is not dma");
    csv_case("dma,00:03.0,0x100000,0x1000,64,r,-,-\n", "t.csv:2:13: pasid: dma: pasid 0x100000 is wider than 20 bits");
    csv_case("dma,00:03.0,-,0x10000000000000000,64,r,-,-\n", "t.csv:2:15: addr: '0x10000000000000000' is too large");
    csv_case("dma,00:03.0,-,99999999999999999999,64,r,-,-\n", "t.csv:2:15: addr: '99999999999999999999' is too large");
    csv_case("dma,00:03.0,-,0x1000,0x100000000,r,-,-\n", "t.csv:2:22: size: '0x100000000' does not fit in 32 bits");
    csv_case("dma,00:33.0,-,0x1000,64,r,-,-\n", "t.csv:2:5: sid: '00:33.0' is not a source-id");
    csv_case("dma,00:03.0,-,0x10g0,64,r,-,-\n", "t.csv:2:15: addr: '0x10g0' is not a number (character 'g')");
    csv_case("dma,00:03.0,-,0x1000,64,rr,-,-\n", "t.csv:2:25: access: 'rr' is not a combination");
    csv_case("dma,00:03.0,-,0x1000,64,r,-\n", "t.csv:2:28: 7 cells, 8 expected");
    csv_case("dma,00:03.0,-,0x1000,64,r,-,-,9\n", "t.csv:2:31: too many cells");
    csv_case("map,00:03.0,-,0x1000,0x1000,rw,4k,0x2800\n", "t.csv:2:35: out: map: out 0x2800 is not aligned");
    csv_case("map,00:03.0,-,0x1000,0x1000,rw,8k,0x2000\n", "t.csv:2:32: page: '8k' is not a page size");
    csv_case("# comment\n\nunmap,00:03.0,-,0x1000,0,-,-,-\n", "t.csv:4:24: size: unmap:");
    csv_case("invalidate,00:03.0,-,0x1000,0,-,-,-\n", "t.csv:2:22: addr: invalidate: addr 0x1000 with size 0");
}

/* A FIFO named like a trace, with no writer: opening it used to block forever (issue 13). */
Test(format, fifo_trace_is_refused_without_blocking, .timeout = 20)
{
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(mkfifo(path("pipe.csv"), 0600), 0);
    cr_assert_null(vtrace_open(path("pipe.csv"), err));
    cr_assert(strstr(err, "pipe.csv: not a regular file (a FIFO)"), "got \"%s\"", err);
    cr_assert_null(vtrace_open("/dev/zero", err));
    cr_assert_str_eq(err, "/dev/zero: not a regular file (a character device)");
}

/* ---- generators ---- */

TestSuite(gen);

Test(gen, same_seed_same_trace_other_seed_other_trace)
{
    for (int k = 0; k < VTRACE_GEN_NKINDS; k++) {
        struct vtrace_gen_params p;
        vtrace_gen_defaults(&p, (enum vtrace_gen_kind)k);
        p.count = 2000;
        p.buffer = 64u << 20;
        struct evbuf a = generate(&p), b = generate(&p);
        cr_assert_eq(a.n, b.n, "%s", vtrace_gen_name((enum vtrace_gen_kind)k));
        for (long i = 0; i < a.n; i++)
            cr_assert(same_event(&a.ev[i], &b.ev[i]), "%s: event %ld differs", vtrace_gen_name((enum vtrace_gen_kind)k), i);
        if (k != VTRACE_GEN_NIC) { /* the NIC's trace has no random choices */
            p.seed = 2;
            struct evbuf c = generate(&p);
            long differ = 0;
            for (long i = 0; i < a.n && i < c.n; i++)
                differ += !same_event(&a.ev[i], &c.ev[i]);
            cr_assert_gt(differ, 0, "%s: seed 2 gives seed 1's trace", vtrace_gen_name((enum vtrace_gen_kind)k));
            vtd_free(c.ev);
        }
        vtd_free(a.ev);
        vtd_free(b.ev);
    }
}

Test(gen, strict_nic_invalidates_each_unmap_right_after_it)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_NIC);
    p.count = 1000;
    struct evbuf b = generate(&p);
    long unmaps = 0, invs = 0, dmas = 0;
    for (long i = 0; i < b.n; i++) {
        const struct vtrace_event *e = &b.ev[i];
        dmas += e->kind == VTRACE_DMA;
        if (e->kind == VTRACE_UNMAP) {
            unmaps++;
            cr_assert_lt(i + 1, b.n);
            cr_assert_eq(b.ev[i + 1].kind, VTRACE_INVALIDATE, "unmap %ld is not followed by its invalidation", i);
            cr_assert_eq(b.ev[i + 1].addr, e->addr);
            cr_assert_eq(b.ev[i + 1].size, e->size);
        }
        invs += e->kind == VTRACE_INVALIDATE;
    }
    cr_assert_eq(unmaps, 1000, "one unmap per packet");
    cr_assert_eq(invs, unmaps);
    cr_assert_eq(dmas, 3000, "descriptor fetch, packet, status write-back per packet");
    vtd_free(b.ev);
}

Test(gen, deferred_nic_flushes_the_domain_once_per_queue)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_NIC);
    p.count = 1000;
    p.inval = VTRACE_INVAL_DEFERRED;
    p.fq_size = 256;
    struct evbuf b = generate(&p);
    long unmaps = 0, invs = 0;
    for (long i = 0; i < b.n; i++) {
        unmaps += b.ev[i].kind == VTRACE_UNMAP;
        if (b.ev[i].kind == VTRACE_INVALIDATE) {
            invs++;
            cr_assert_eq(b.ev[i].size, 0, "a deferred flush covers the whole domain");
            cr_assert_eq(unmaps % 256, 0, "flush after unmap %ld", unmaps);
        }
    }
    cr_assert_eq(invs, 1000 / 256);
    vtd_free(b.ev);
}

/* Share of all DMAs that go to the most popular 1% of pages. */
static double top_share(const struct evbuf *b, uint64_t pages, double *top1)
{
    uint64_t *hits = vtd_calloc(pages, sizeof(uint64_t));
    uint64_t base = 0, dmas = 0;
    for (long i = 0; i < b->n; i++) {
        if (b->ev[i].kind == VTRACE_MAP && !base)
            base = b->ev[i].addr;
        if (b->ev[i].kind == VTRACE_DMA) {
            hits[(b->ev[i].addr - base) >> 12]++;
            dmas++;
        }
    }
    /* Partial selection of the top 1%. */
    uint64_t k = pages / 100, sum = 0;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t best = j;
        for (uint64_t m = j + 1; m < pages; m++)
            if (hits[m] > hits[best])
                best = m;
        uint64_t t = hits[j];
        hits[j] = hits[best];
        hits[best] = t;
        sum += hits[j];
    }
    *top1 = (double)hits[0] / (double)dmas;
    vtd_free(hits);
    return (double)sum / (double)dmas;
}

Test(gen, zipf_is_skewed_uniform_is_not)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_ZIPF);
    p.pages = 4096;
    p.count = 200000;
    struct evbuf z = generate(&p);
    double top1, share = top_share(&z, p.pages, &top1);
    /* s = 1 over 4096 ranks: H(40)/H(4096) = 4.28/8.89 = 0.48 of the accesses go to the top 40
     * pages, and 1/H(4096) = 0.112 to the first. */
    cr_assert(share > 0.44 && share < 0.52, "zipf: top 1%% of pages get %.3f", share);
    cr_assert(top1 > 0.10 && top1 < 0.125, "zipf: the hottest page gets %.3f", top1);
    p.kind = VTRACE_GEN_UNIFORM;
    struct evbuf u = generate(&p);
    share = top_share(&u, p.pages, &top1);
    cr_assert(share < 0.02, "uniform: top 1%% of pages get %.3f", share);
    vtd_free(z.ev);
    vtd_free(u.ev);
}

Test(gen, storage_and_sva_shapes)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_STORAGE);
    p.count = 500;
    struct evbuf s = generate(&p);
    bool big_map = false;
    long data = 0;
    for (long i = 0; i < s.n; i++) {
        const struct vtrace_event *e = &s.ev[i];
        big_map |= e->kind == VTRACE_MAP && e->page_shift == 21 && e->size == (1u << 30);
        if (e->kind == VTRACE_DMA && e->size >= 4096) {
            data++;
            cr_assert(e->size >= (128u << 10) && e->size <= (1u << 20) && !(e->size & (e->size - 1)), "size %u", e->size);
        }
    }
    cr_assert(big_map, "the 1 GiB buffer is mapped with 2 MiB pages");
    cr_assert_eq(data, 500);
    vtrace_gen_defaults(&p, VTRACE_GEN_SVA);
    p.count = 500;
    p.pasid = 77;
    struct evbuf v = generate(&p);
    unsigned shifts = 0;
    for (long i = 0; i < v.n; i++) {
        cr_assert_eq(v.ev[i].flags, VTRACE_F_PASID);
        cr_assert_eq(v.ev[i].pasid, 77);
        if (v.ev[i].kind == VTRACE_MAP)
            shifts |= 1u << (v.ev[i].page_shift == 21);
    }
    cr_assert_eq(shifts, 3, "both 4 KiB and 2 MiB pages");
    vtd_free(s.ev);
    vtd_free(v.ev);
}

Test(gen, bad_parameters_are_refused)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_STORAGE);
    p.req_min = 3000;
    char err[VTRACE_ERR_LEN];
    struct evbuf b = {.ev = vtd_malloc(16 * sizeof(struct vtrace_event))};
    cr_assert_eq(vtrace_generate(&p, collect, &b, err), -1);
    cr_assert_not_null(strstr(err, "powers of two"), "%s", err);
    vtrace_gen_defaults(&p, VTRACE_GEN_ZIPF);
    p.zipf_s = 0;
    cr_assert_eq(vtrace_generate(&p, collect, &b, err), -1);
    cr_assert_not_null(strstr(err, "exponent"), "%s", err);
    vtd_free(b.ev);
}

/* ---- replay ---- */

TestSuite(replay);

static struct vtrace_event map4k(uint64_t iova, uint64_t out, uint32_t size)
{
    return (struct vtrace_event){.kind = VTRACE_MAP, .access = VTRACE_ACC_R | VTRACE_ACC_W, .page_shift = 12,
                                 .sid = SID, .size = size, .addr = iova, .out = out};
}

static struct vtrace_event unmap(uint64_t iova, uint32_t size)
{
    return (struct vtrace_event){.kind = VTRACE_UNMAP, .sid = SID, .size = size, .addr = iova};
}

static struct vtrace_event inval(uint64_t iova, uint32_t size)
{
    return (struct vtrace_event){.kind = VTRACE_INVALIDATE, .sid = SID, .size = size, .addr = iova};
}

static void replay(const struct vtrace_event *ev, long n, const struct vtrace_replay_config *cfg,
                   struct vtrace_replay_result *r)
{
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(cfg, err);
    cr_assert_not_null(rp, "%s", err);
    cr_assert_eq(vtrace_replay_events(rp, ev, n, 0, err), 0, "%s", err);
    vtrace_replay_result(rp, r);
    vtrace_replay_free(rp);
}

static void iotlb_geometry(struct vtrace_replay_config *cfg, unsigned sets, unsigned ways)
{
    cfg->iommu.cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = sets, .ways = ways, .repl = VTD_REPL_LRU};
}

Test(replay, eight_pages_in_a_16_entry_iotlb_miss_once_each)
{
    struct vtrace_event ev[1 + 80];
    long n = 0;
    ev[n++] = map4k(0x100000, 0x100000000, 8 * 4096);
    for (int round = 0; round < 10; round++)
        for (int pg = 0; pg < 8; pg++)
            ev[n++] = dma_event(0x100000 + (uint64_t)pg * 4096 + 0x40);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    iotlb_geometry(&cfg, 1, 16);
    struct vtrace_replay_result r;
    replay(ev, n, &cfg, &r);
    cr_assert_eq(r.translations, 80);
    cr_assert_eq(r.cache[VTD_C_IOTLB].lookups, 80);
    cr_assert_eq(r.cache[VTD_C_IOTLB].misses, 8);
    cr_assert_eq(r.cache[VTD_C_IOTLB].hits, 72);
    cr_assert_eq(r.faults, 0);
    /* The first miss walks all four second-stage levels; the next seven start at the leaf
     * table the paging-structure cache remembers. */
    cr_assert_eq(r.paging_reads, 4 + 7);
    /* A 4-entry IOTLB cycling over 8 pages under LRU misses every time. */
    iotlb_geometry(&cfg, 1, 4);
    replay(ev, n, &cfg, &r);
    cr_assert_eq(r.cache[VTD_C_IOTLB].hits, 0);
}

Test(replay, a_dma_is_one_translation_per_4k_page_touched)
{
    struct vtrace_event ev[3] = {map4k(0x100000, 0x100000000, 4 * 4096), dma_event(0x100ff0), dma_event(0x101000)};
    ev[1].size = 0x20;   /* crosses into the second page: 2 translations */
    ev[2].size = 0x3000; /* exactly pages 2..4: 3 translations */
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct vtrace_replay_result r;
    replay(ev, 3, &cfg, &r);
    cr_assert_eq(r.translations, 5);
    cr_assert_eq(r.events[VTRACE_DMA], 2);
    cr_assert_eq(r.events[VTRACE_MAP], 1);
}

/* map A -> P1, use it, unmap, map A -> P2 (another page), use it: stale unless invalidated. */
static uint64_t reuse_stale(bool invalidate, bool oracle, enum vtrace_mode mode)
{
    struct vtrace_event ev[6];
    long n = 0;
    ev[n++] = map4k(0x200000, 0x100000000, 4096);
    ev[n++] = dma_event(0x200000);
    ev[n++] = unmap(0x200000, 4096);
    if (invalidate)
        ev[n++] = inval(0x200000, 4096);
    ev[n++] = map4k(0x200000, 0x100005000, 4096);
    ev[n++] = dma_event(0x200000);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.iommu.oracle = oracle;
    cfg.mode = mode;
    cfg.nested_ss_shift = 12;
    struct vtrace_replay_result r;
    replay(ev, n, &cfg, &r);
    cr_assert_eq(r.translations, 2);
    return r.stale;
}

Test(replay, iova_reused_without_invalidation_is_stale_in_every_mode)
{
    enum vtrace_mode modes[] = {VTRACE_MODE_SS, VTRACE_MODE_FS, VTRACE_MODE_NESTED};
    for (unsigned m = 0; m < 3; m++) {
        cr_assert_eq(reuse_stale(false, true, modes[m]), 1, "mode %s", vtrace_mode_name(modes[m]));
        cr_assert_eq(reuse_stale(true, true, modes[m]), 0, "mode %s", vtrace_mode_name(modes[m]));
        cr_assert_eq(reuse_stale(false, false, modes[m]), 0, "oracle off: nothing checked");
    }
}

static uint64_t nic_stale(enum vtrace_inval inval, bool reuse_early)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_NIC);
    p.count = 2000;
    p.ring = 64;
    p.inval = inval;
    p.reuse_before_flush = reuse_early;
    struct evbuf b = generate(&p);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.iommu.oracle = true;
    struct vtrace_replay_result r;
    replay(b.ev, b.n, &cfg, &r);
    cr_assert_eq(r.faults, 0);
    vtd_free(b.ev);
    return r.stale;
}

Test(replay, deferred_invalidation_with_early_iova_reuse_serves_stale_translations)
{
    cr_assert_eq(nic_stale(VTRACE_INVAL_STRICT, false), 0);
    cr_assert_eq(nic_stale(VTRACE_INVAL_DEFERRED, false), 0, "Linux's flush queue: reuse only after the flush");
    cr_assert_gt(nic_stale(VTRACE_INVAL_DEFERRED, true), 100);
}

Test(replay, an_unaligned_range_is_invalidated_whole)
{
    /* Pages 3, 4 and 5 of a region: the covering block is 8 pages at page 0 (AM 3). */
    struct vtrace_event ev[8];
    long n = 0;
    ev[n++] = map4k(0x400000, 0x100000000, 8 * 4096);
    for (int pg = 3; pg <= 5; pg++)
        ev[n++] = dma_event(0x400000 + (uint64_t)pg * 4096);
    ev[n++] = inval(0x403000, 3 * 4096);
    for (int pg = 3; pg <= 5; pg++)
        ev[n++] = dma_event(0x400000 + (uint64_t)pg * 4096);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct vtrace_replay_result r;
    replay(ev, n, &cfg, &r);
    cr_assert_eq(r.descriptors, 1);
    cr_assert_eq(r.cache[VTD_C_IOTLB].invalidated, 3);
    cr_assert_eq(r.cache[VTD_C_IOTLB].hits, 0, "every page was removed");
}

Test(replay, nested_4x4_walk_reads_24_paging_entries_without_caches)
{
    struct vtrace_event ev[2] = {map4k(0x100000, 0x100000000, 4096), dma_event(0x100000)};
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.mode = VTRACE_MODE_NESTED;
    cfg.nested_ss_shift = 12;
    cfg.iommu.cache[VTD_C_IOTLB] = cfg.iommu.cache[VTD_C_PSC_FS] = cfg.iommu.cache[VTD_C_PSC_SS] =
        (struct vtd_cache_geometry){0};
    struct vtrace_replay_result r;
    replay(ev, 2, &cfg, &r);
    cr_assert_eq(r.faults, 0);
    cr_assert_eq(r.paging_reads, 24);
    cfg.nested_ss_shift = 21; /* 2 MiB second-stage pages: 3 reads per second-stage walk */
    replay(ev, 2, &cfg, &r);
    cr_assert_eq(r.paging_reads, 5 * 3 + 4);
}

Test(replay, bad_operations_name_the_event)
{
    struct vtrace_event ev[2] = {map4k(0x100000, 0x100000000, 4096), map4k(0x100000, 0x100002000, 4096)};
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    cr_assert_not_null(rp);
    cr_assert_eq(vtrace_replay_events(rp, ev, 2, 40, err), -1);
    cr_assert_not_null(strstr(err, "event 41: map 0x100000+0x1000 -> 0x100002000: overlaps an existing mapping"), "%s", err);
    ev[0] = unmap(0x900000, 4096);
    cr_assert_eq(vtrace_replay_events(rp, ev, 1, 0, err), -1);
    cr_assert_not_null(strstr(err, "event 0: unmap 0x900000+0x1000: nothing mapped there"), "%s", err);
    vtrace_replay_free(rp);
}

Test(replay, file_replay_equals_in_memory_replay, .init = make_dir, .fini = remove_dir)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_ZIPF);
    p.count = 20000;
    struct evbuf b = generate(&p);
    write_events(path("z.bin"), b.ev, b.n);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct vtrace_replay_result mem, file;
    replay(b.ev, b.n, &cfg, &mem);
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_replay_file(path("z.bin"), &cfg, &file, err), 0, "%s", err);
    cr_assert_eq(file.translations, 20000);
    cr_assert_eq(file.cache[VTD_C_IOTLB].hits, mem.cache[VTD_C_IOTLB].hits);
    cr_assert_eq(file.reads, mem.reads);
    vtd_free(b.ev);
}

/* ---- sweeps ---- */

struct rows {
    struct vtrace_sweep_row row[64];
    int n;
};

static void keep_row(void *arg, const struct vtrace_sweep_row *row)
{
    struct rows *r = arg;
    cr_assert_lt(r->n, 64);
    r->row[r->n++] = *row;
}

Test(sweep, covers_the_grid_and_lru_hit_rate_grows_with_size)
{
    struct vtrace_gen_params p;
    vtrace_gen_defaults(&p, VTRACE_GEN_ZIPF);
    p.count = 20000;
    p.pages = 2048;
    struct evbuf b = generate(&p);
    struct vtrace_sweep_grid g = {.iotlb_entries = {64, 256, 1024}, .n_iotlb = 3,
                                  .ways = {1, 8, VTRACE_WAYS_FULL}, .n_ways = 3,
                                  .repl = {VTD_REPL_LRU, VTD_REPL_RANDOM}, .n_repl = 2,
                                  .psc_entries = {0, 16}, .n_psc = 2};
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct rows rows = {.n = 0};
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_sweep(b.ev, b.n, &cfg, &g, keep_row, &rows, err), 3 * 3 * 2 * 2, "%s", err);
    cr_assert_eq(rows.n, 36);
    double last = -1;
    for (int i = 0; i < rows.n; i++) {
        const struct vtrace_sweep_row *r = &rows.row[i];
        cr_assert_eq(r->r.translations, 20000);
        if (r->ways == VTRACE_WAYS_FULL && r->repl == VTD_REPL_LRU && r->psc_entries == 0) {
            double h = vtrace_hit_rate(&r->r.cache[VTD_C_IOTLB]);
            cr_assert_gt(h, last, "LRU's hit rate must grow with its size (%u entries: %.3f)", r->iotlb_entries, h);
            last = h;
        }
        if (r->psc_entries == 0)
            cr_assert_eq(r->r.cache[VTD_C_PSC_SS].hits, 0);
    }
    char line[512];
    vtrace_sweep_csv_row(&rows.row[0], line, sizeof(line));
    cr_assert_eq(strncmp(line, "64,1,lru,0,20000,", 17), 0, "%s", line);
    vtd_free(b.ev);
}

/* ---- the host-memory budget (issue 13) ---- */

/* Caches allocated whole: a configuration beyond the budget is refused before anything runs. */
Test(replay, caches_beyond_the_host_budget_are_refused)
{
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    iotlb_geometry(&cfg, 1u << 16, 256);
    cfg.iommu.cache[VTD_C_PASID] = (struct vtd_cache_geometry){.sets = 1u << 16, .ways = 256};
    cr_assert_null(vtrace_replay_new(&cfg, err));
    cr_assert(strstr(err, "the caches take ") && strstr(err, "more than the host-memory budget of 2048 MiB (--max-memory)"),
              "got %s", err);
    cr_assert_eq(VTRACE_DEFAULT_MAX_HOST_BYTES, UINT64_C(2) << 30, "the default documented in docs/robustness.md");
}

/*
 * Map events 4 GiB apart, each of 4 MiB in 4 KiB pages: two page-table pages (and index nodes)
 * each, a few hundred KiB per 60-byte line. The replay used to grow without bound; it now stops
 * at the event that would pass the budget, saying so.
 */
Test(replay, map_events_stop_at_the_host_budget)
{
    enum { N = 4096 };
    struct vtrace_event *ev = calloc(N, sizeof *ev);
    cr_assert_not_null(ev);
    for (long i = 0; i < N; i++)
        ev[i] = map4k((uint64_t)i << 32, (uint64_t)i << 22, 4u << 20);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.max_host_bytes = UINT64_C(16) << 20;
    char err[VTRACE_ERR_LEN];
    struct vtrace_replay *rp = vtrace_replay_new(&cfg, err);
    cr_assert_not_null(rp, "%s", err);
    cr_assert_eq(vtrace_replay_events(rp, ev, N, 0, err), -1, "all %d maps fit in 16 MiB?", N);
    cr_assert(strstr(err, ": the replay reached its host-memory budget of 16 MiB (--max-memory)"), "got %s", err);
    cr_assert(strncmp(err, "event ", 6) == 0, "names the event: %s", err);
    cr_assert_leq(vtd_mem_footprint(vtd_iommu_mem(vtrace_replay_iommu(rp))), (size_t)16 << 20);
    vtrace_replay_free(rp);
    free(ev);
}

/* Address spaces are found by (source-id, PASID) and devices by source-id among many: each of
 * 3 devices x 400 PASIDs (and each device's space without PASID) maps a page of its own at an
 * address no other space maps; interleaved accesses to its own page all translate, and to its
 * neighbour's page all fault. */
Test(replay, many_spaces_each_find_their_own_tables)
{
    enum { NSID = 3, NPASID = 401 }; /* PASID slot 0: the request without PASID */
    static const uint16_t sids[NSID] = {0x0008, 0x0100, 0xff07};
    struct vtrace_event *ev = calloc(4 * NSID * NPASID, sizeof(*ev));
    cr_assert_not_null(ev);
    long n = 0;
    for (unsigned k = 0; k < NSID * NPASID; k++) {
        uint64_t page = UINT64_C(0x100000) + ((uint64_t)k << 12);
        struct vtrace_event m = map4k(page, UINT64_C(0x200000000) + ((uint64_t)k << 12), 4096);
        m.sid = sids[k % NSID];
        m.pasid = k / NSID;
        m.flags = m.pasid ? VTRACE_F_PASID : 0;
        ev[n++] = m;
    }
    long maps = n;
    for (int pass = 0; pass < 2; pass++)
        for (long k = 0; k < maps; k++) {
            struct vtrace_event d = ev[k];
            d.kind = VTRACE_DMA;
            d.access = VTRACE_ACC_R;
            d.page_shift = 0;
            d.out = 0;
            if (pass) /* the page of the next space (the last one's: the first one's) */
                d.addr = ev[(k + 1) % maps].addr;
            ev[n++] = d;
        }
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct vtrace_replay_result r;
    replay(ev, n, &cfg, &r);
    cr_assert_eq(r.translations, (uint64_t)(2 * maps));
    cr_assert_eq(r.faults, (uint64_t)maps, "only the accesses to a neighbour's page fault: %llu",
                 (unsigned long long)r.faults);
    free(ev);
}
