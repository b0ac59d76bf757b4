/*
 * test_scenario_limits.c: the resource limits of issue 8 (docs/robustness.md, "Limits"), each
 * met head-on by a scenario: the error must name the place and the limit, and come quickly.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "runner/scenario.h"
#include "walker/builder.h"

#define HEAD "name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\ntables:\n  - {name: fs, format: fs}\nsteps:\n"

#include "load_error_fixture.h"

/* Run a scenario that loads; the concatenated failure texts (caller frees). */
static char *run_failures(const char *text, size_t max_frames, struct sc_result *r)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "does not load: %u:%u: %s", err.line, err.col, err.msg);
    struct sc_run_opts o = {.max_frames = max_frames};
    *r = (struct sc_result){0};
    cr_assert_not(sc_run(s, &o, r), "the run passed");
    sc_free(s);
    size_t len = 1;
    for (unsigned i = 0; i < r->nfail; i++)
        len += strlen(r->fail[i].text);
    if (r->load_error)
        len += strlen(r->load_error);
    char *all = calloc(1, len);
    cr_assert_not_null(all);
    if (r->load_error)
        strcat(all, r->load_error);
    for (unsigned i = 0; i < r->nfail; i++)
        strcat(all, r->fail[i].text);
    return all;
}

Test(limits, numbers_beyond_64_bits)
{
    expect_load_error(HEAD "  - dma: {device: nic, pasid: 1, addr: 0x10000000000000000, access: read}\n",
                      "7:40: 'addr' does not fit in 64 bits: 0x10000000000000000");
    expect_load_error(HEAD "  - dma: {device: nic, pasid: 1, addr: 18446744073709551616, access: read}\n",
                      "'addr' does not fit in 64 bits");
    expect_load_error(HEAD "  - map: {table: fs, va: 0, pa: 0, size: 17179869184T, perm: rw}\n",
                      "'size' does not fit in 64 bits: 17179869184T");
    /* Not a number at all keeps the type message. */
    expect_load_error(HEAD "  - dma: {device: nic, pasid: 1, addr: 12K, access: read}\n", "'addr' must be");
}

Test(limits, pasid_and_did_widths)
{
    expect_load_error(HEAD "  - dma: {device: nic, pasid: 0x100000, addr: 0x1000, access: read}\n",
                      "'pasid' out of range: 0x100000 (a PASID is 20 bits)");
    expect_load_error(HEAD "  - pasid_entry: {device: nic, pasid: 1, pgtt: fs, table: fs, did: 0x10000}\n",
                      "'did' out of range: 0x10000");
}

Test(limits, nesting_depth)
{
    char text[1024] = HEAD "  - check: {expect: {x: ";
    for (unsigned i = 0; i < SC_MAX_DEPTH + 2; i++)
        strcat(text, "[");
    for (unsigned i = 0; i < SC_MAX_DEPTH + 2; i++)
        strcat(text, "]");
    strcat(text, "}}\n");
    expect_load_error(text, "nesting deeper than 16 levels");
}

Test(limits, file_size)
{
    size_t len = SC_MAX_FILE_BYTES + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, '#', len);
    struct sc_error err;
    cr_assert_null(sc_load_string("big.yaml", text, len, &err));
    cr_assert(strstr(err.msg, "file too large") != NULL, "got %s", err.msg);
    free(text);
}

Test(limits, repeat_counts)
{
    expect_load_error(HEAD "  - repeat: {count: 10000001, steps: [{check: {}}]}\n", "'count' out of range: 10000001");
    /* Nested repeats multiply. */
    expect_load_error(HEAD "  - repeat: {count: 10000, steps: [{repeat: {count: 10000, steps: [{check: {}}]}}]}\n",
                      "nested repeats run their steps more than 10000000 times");
}

/* Simulated memory is capped: a write past the cap fails the step with the limit named. */
Test(limits, frame_limit)
{
    struct sc_result r;
    char *all = run_failures(HEAD "  - write_mem: {addr: 0x100000, size: 1M, fill: 1}\n", 64, &r);
    cr_assert(strstr(all, "simulated memory reached its limit of 64 frames") != NULL, "got: %s", all);
    cr_assert(r.out_of_memory);
    cr_assert_eq(SC_DEFAULT_MAX_FRAMES, 1u << 18, "the default (1 GiB) documented in docs/robustness.md");
    free(all);
    sc_result_free(&r);
}

/* One map of 4 TiB in 4 KiB pages: refused at once, not after minutes. */
Test(limits, map_leaves, .timeout = 20)
{
    struct sc_result r;
    char *all = run_failures(HEAD "  - map: {table: fs, va: 0, pa: 0, size: 0x40000000000, perm: rw, page: 4K}\n", 0, &r);
    cr_assert(strstr(all, "E2BIG") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
    cr_assert_eq(VTD_PT_MAX_LEAVES, UINT64_C(1) << 20);
}

/* Addresses that wrap or leave the table's width. */
Test(limits, address_overflow)
{
    struct sc_result r;
    char *all = run_failures(HEAD "  - map: {table: fs, va: 0xfffffffffffff000, pa: 0, size: 8K, perm: rw}\n", 0, &r);
    cr_assert(strstr(all, "ERANGE") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
    all = run_failures(HEAD "  - map: {table: fs, va: 0, pa: 0xfffffffffffff000, size: 8K, perm: rw}\n", 0, &r);
    cr_assert(strstr(all, "ERANGE") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
    all = run_failures(HEAD "  - write_mem: {addr: 0xfffffffffffff000, size: 4K, fill: 1}\n", 0, &r);
    cr_assert(strstr(all, "EFAULT") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
}

/*
 * A container pins at most 4 GiB (PIN_LIMIT_PAGES, like RLIMIT_MEMLOCK): MAP_DMA past it is
 * -ENOMEM at once. A scenario that expects that ENOMEM passes: an expected errno is an answer,
 * not the runner's "out of memory" failure.
 */
Test(limits, pinned_pages_expected_enomem, .timeout = 30)
{
    static const char text[] =
        "name: t\ncontainer: {}\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n"
        "  - map_dma: {iova: 0x0, vaddr: 0x40000000, size: 3G, perm: rw}\n"
        "  - map_dma: {iova: 0x100000000, vaddr: 0x100001000, size: 2G, perm: rw, expect: {errno: ENOMEM}}\n"
        "  - map_dma: {iova: 0x100000000, vaddr: 0x100000000, size: 1G, perm: rw}\n";
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "%u:%u: %s", err.line, err.col, err.msg);
    struct sc_result r = {0};
    bool ok = sc_run(s, NULL, &r);
    if (!ok)
        sc_result_print(&r, stderr);
    cr_assert(ok);
    cr_assert_not(r.out_of_memory);
    sc_result_free(&r);
    sc_free(s);
}
