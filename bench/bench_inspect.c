/*
 * bench_inspect.c: `vtdsim inspect` on a memory image: translate --batch (requests per second,
 * text and JSON answers) and mappings of an address space of one million 4 KiB pages, both on
 * a raw image written from builder-made tables and attached as `vtdsim inspect` attaches it.
 *
 * Targets: a batch of 1 M requests at >= 2 M requests/s; mappings of 1 M 4 KiB mappings < 1 s.
 * The batch reads its requests from a file and writes its answers to /dev/null, as the tool does
 * with a file and a redirected stdout; requests hit random pages of the 4 GiB mapped (one in 16
 * outside it: a fault), reads and writes mixed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Under callgrind, each batch's first run is dumped on its own (callgrind_annotate per row);
 * elsewhere the requests cost nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS ((void)0)
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

#include "common.h"
#include "image.h"
#include "inspect/batch.h"
#include "inspect/mappings.h"
#include "walker/mem_image.h"
#include "world.h"

#define SID vtd_sid(0, 3, 0)
#define RUNS 3

struct setup {
    char image[64], reqs[2][64]; /* random pages, pages in order */
    struct vtd_inspect in;
    struct vtd_inspect_range range;
    struct vtd_pasid_cfg merged, split; /* PASID 1: one range; PASID 2: read-only every other page */
    uint64_t pages, requests;
};

/* CPU time of this process: on a machine shared with other jobs it says what the work costs
 * when wall-clock time also counts the waits for a core. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The tables in a world, written as a raw image, attached to fresh memory. */
static int build(struct setup *s)
{
    struct world w;
    struct vtd_ctx ctx;
    struct vtd_pt fs1, fs2;
    const unsigned rwu = VTD_PERM_R | VTD_PERM_W | VTD_PERM_U;
    int rc = world_init(&w, NULL);
    rc = rc ? rc : world_device(&w, SID, &ctx);
    rc = rc ? rc : world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 0, &fs1, NULL, &s->merged);
    rc = rc ? rc : world_pasid(&w, &ctx, 2, VTD_PGTT_FS, 4, 0, &fs2, NULL, &s->split);
    rc = rc ? rc : vtd_pt_map(&fs1, 0, UINT64_C(0x100000000), s->pages << 12, 12, rwu, VTD_MAP_AD);
    rc = rc ? rc : vtd_pt_map(&fs2, 0, UINT64_C(0x100000000), s->pages << 12, 12, rwu, VTD_MAP_AD);
    for (uint64_t i = 1; !rc && i < s->pages; i += 2)
        rc = vtd_pt_protect(&fs2, i << 12, 0x1000, VTD_PERM_R | VTD_PERM_U);
    strcpy(s->image, "/tmp/bench_inspect_XXXXXX");
    int fd = rc ? -1 : mkstemp(s->image);
    if (fd >= 0)
        close(fd);
    uint64_t used = w.b.pool_next - WORLD_POOL_BASE;
    rc = rc ? rc : fd < 0 ? -1 : image_write_raw(w.mem, WORLD_POOL_BASE, used, s->image);
    s->in = (struct vtd_inspect){.caps = w.caps, .rtaddr = w.rtaddr, .ranges = &s->range, .nranges = 1};
    s->range = (struct vtd_inspect_range){WORLD_POOL_BASE, WORLD_POOL_BASE + used};
    world_fini(&w);
    char err[256] = "";
    if (!rc && (!(s->in.mem = vtd_mem_new(s->in.caps.haw)) ||
                vtd_mem_attach_image(s->in.mem, s->image, VTD_IMAGE_RAW, WORLD_POOL_BASE, err, sizeof err)))
        rc = -1;
    if (rc)
        fprintf(stderr, "bench_inspect: setup failed (%d) %s\n", rc, err);
    return rc;
}

/*
 * A request file: random pages of PASID 1's 4 GiB, one in 16 beyond it (the worst case: every
 * walk reads another leaf table), or (in_order) the pages one after the other, as a device
 * streaming through a buffer would.
 */
static int write_requests(struct setup *s, bool in_order)
{
    char *path = s->reqs[in_order];
    strcpy(path, "/tmp/bench_inspect_req_XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f)
        return -1;
    uint64_t x = 88172645463325252u; /* xorshift64: the same file every run */
    for (uint64_t i = 0; i < s->requests; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t page = in_order ? i % s->pages : (x >> 8) % (s->pages + s->pages / 15);
        fprintf(f, "00:03.0 1 0x%llx %c\n", (unsigned long long)(page << 12 | (x & 0xff8)), x & 1 ? 'w' : 'r');
    }
    return fclose(f) ? -1 : 0;
}

static int count_range(void *arg, const struct vtd_insp_range *r)
{
    (void)r;
    (*(uint64_t *)arg)++;
    return 0;
}

/* One enumeration of the space; ns per leaf. */
static struct bench_row bench_mappings(struct setup *s, const char *name, const struct vtd_pasid_cfg *pe)
{
    struct bench_row r = {.name = name};
    double t[RUNS], c[RUNS];
    uint64_t ranges = 0;
    struct vtd_insp_map_stats st = {0};
    for (int i = 0; i < RUNS; i++) {
        double t0 = bench_now_ns(), c0 = cpu_ns();
        vtd_inspect_mappings(&s->in, pe, count_range, &ranges, &st);
        t[i] = (bench_now_ns() - t0) / (double)st.leaves;
        c[i] = (cpu_ns() - c0) / (double)st.leaves;
    }
    bench_sink += ranges;
    r.ns = bench_median(t, RUNS);
    r.mops = 1e3 / r.ns;
    double cpu = bench_median(c, RUNS);
    printf("%s: %llu leaves in %llu ranges, %.1f ms per enumeration (CPU time %.1f ms; target < 1000 ms)\n", name,
           (unsigned long long)st.leaves, (unsigned long long)st.ranges, r.ns * (double)st.leaves / 1e6,
           cpu * (double)st.leaves / 1e6);
    return r;
}

static struct bench_row bench_batch(struct setup *s, const char *name, bool json, const char *reqs)
{
    struct bench_row r = {.name = name};
    double t[RUNS], c[RUNS];
    struct vtd_insp_batch_stats st = {0};
    char err[256];
    for (int i = 0; i < RUNS; i++) {
        FILE *in = fopen(reqs, "r"), *out = fopen("/dev/null", "w");
        if (i == 0)
            CALLGRIND_ZERO_STATS;
        double t0 = bench_now_ns(), c0 = cpu_ns();
        if (!in || !out || vtd_inspect_batch(&s->in, in, reqs, out, json, &st, err, sizeof err))
            fprintf(stderr, "%s: failed\n", name);
        if (i == 0)
            CALLGRIND_DUMP_STATS_AT(name);
        t[i] = (bench_now_ns() - t0) / (double)(st.requests ? st.requests : 1);
        c[i] = (cpu_ns() - c0) / (double)(st.requests ? st.requests : 1);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    r.ns = bench_median(t, RUNS);
    r.mops = 1e3 / r.ns;
    printf("%s: %llu requests (%llu faults), %.2f M requests/s (CPU time: %.2f M/s; target >= 2 M/s)\n", name,
           (unsigned long long)st.requests, (unsigned long long)st.faults, r.mops, 1e3 / bench_median(c, RUNS));
    return r;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (!bench_parse_args(argc, argv, "bench_inspect", &o))
        return 2;
    struct setup s = {.pages = o.quick ? 1u << 14 : 1u << 20, .requests = o.quick ? 20000 : 1000000};
    int rc = build(&s) || write_requests(&s, false) || write_requests(&s, true);
    static const char *const names[] = {"inspect: translate --batch, text, random pages",
                                        "inspect: translate --batch, json, random pages",
                                        "inspect: translate --batch, text, pages in order",
                                        "inspect: mappings, merged (per leaf)",
                                        "inspect: mappings, alternating perms (per leaf)"};
    enum { NNAMES = sizeof names / sizeof names[0] };
    struct bench_row rows[NNAMES + 1];
    int n = 0;
    if (!rc)
        rows[n++] = bench_ref_mem_read(o.quick ? 400000 : 4000000);
    for (int i = 0; i < NNAMES && !rc; i++) {
        if (!bench_selected(&o, names[i])) {
            rows[n++] = (struct bench_row){.name = names[i], .skipped = true};
            continue;
        }
        rows[n++] = i < 3 ? bench_batch(&s, names[i], i == 1, s.reqs[i == 2])
                          : bench_mappings(&s, names[i], i == 3 ? &s.merged : &s.split);
    }
    if (!rc) {
        printf("\n");
        bench_report(rows, n, &o);
    }
    vtd_mem_free(s.in.mem);
    for (int i = 0; i < 2; i++)
        if (s.reqs[i][0])
            remove(s.reqs[i]);
    if (s.image[0])
        remove(s.image);
    return rc ? 1 : 0;
}
