/*
 * test_scenario_issued.c: what a uAPI step made the host layer issue (runner/run_issued.c): the
 * descriptors are logged with their step, `expect: descriptors` matches them in order and names
 * both lists when they differ, and its mistakes are load errors at their line:column; and a
 * stale DMA's failure carries the oracle's covering descriptor into the result and the JSON report.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"

/* A container with one device and a first-stage table behind it, up to a bound PASID 1 whose
 * 0x3000-0x4fff was mapped, used once and unmapped (the uAPI unmap story). */
#define STORY                                                                                            \
    "name: t\n"                                                                                          \
    "iommu: {invalidation_policy: spec}\n"                                                               \
    "container: {did: 1}\n"                                                                              \
    "devices:\n  - {name: nic0, bdf: \"00:03.0\", pasid_bits: 20}\n"                                     \
    "tables:\n  - {name: gpt, format: fs, levels: 4, backing: container, pool: 0x100000, pool_size: 1M}\n" \
    "steps:\n"                                                                                           \
    "  - container_attach: {device: nic0}\n"                                                             \
    "  - map_dma: {iova: 0x0, vaddr: 0x40000000, size: 1G, perm: rw}\n"                                  \
    "  - pasid_request: {min: 1, max: 1023}\n"                                                           \
    "  - map: {table: gpt, va: 0x3000, pa: 0x200000, size: 8K, perm: rwu}\n"                             \
    "  - bind: {hpasid: 1, gpasid: 1, table: gpt, addr_width: 48}\n"                                     \
    "  - dma: {device: nic0, pasid: 1, addr: 0x3000, access: write}\n"                                   \
    "  - unmap: {table: gpt, va: 0x3000, size: 8K}\n"
#define INVALIDATE                                                                                       \
    "  - cache_invalidate:\n"                                                                            \
    "      {cache: [iotlb], granularity: addr, pasid: 1, addr: 0x3000, granule_size: 4K, nb_granules: 2,\n" \
    "       expect: {descriptors: %s}}\n"

static struct scenario *load(const char *text)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "%u:%u: %s", err.line, err.col, err.msg);
    return s;
}

static bool run_story(const char *descriptors, struct sc_result *r)
{
    char text[2048];
    snprintf(text, sizeof text, STORY INVALIDATE, descriptors);
    struct scenario *s = load(text);
    *r = (struct sc_result){0};
    bool ok = sc_run(s, NULL, r);
    sc_free(s);
    return ok;
}

static char *failures(const struct sc_result *r)
{
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    sc_result_print(r, f);
    fclose(f);
    return all;
}

static void expect_load_error(const char *text, unsigned line, unsigned col, const char *msg)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_null(s, "loaded");
    cr_assert(strstr(err.msg, msg) != NULL, "got %u:%u: %s", err.line, err.col, err.msg);
    cr_assert_eq(err.line, line, "line %u: %s", err.line, err.msg);
    cr_assert_eq(err.col, col, "col %u: %s", err.col, err.msg);
}

Test(issued, descriptors_in_order_hold)
{
    struct sc_result r;
    bool ok = run_story("[{type: p_iotlb, granularity: page, did: 1, pasid: 1, addr: 0, am: 3}, {type: wait}]", &r);
    char *all = failures(&r);
    cr_assert(ok, "%s", all);
    free(all);
    sc_result_free(&r);
}

Test(issued, the_log_holds_every_uapi_steps_descriptors_with_their_step)
{
    struct sc_result r;
    cr_assert(run_story("[{type: p_iotlb, granularity: page, did: 1, pasid: 1, addr: 0, am: 3}, {type: wait}]", &r));
    /* container_attach: 3; bind: 3; cache_invalidate: 2 (map_dma and pasid_request issue none). */
    cr_assert_eq(r.issued_total, 8);
    cr_assert_eq(r.nissued, 8);
    cr_assert_eq(r.issued[0].step, 1);
    cr_assert_eq(r.issued[0].kind, SK_CONTAINER_ATTACH);
    cr_assert_eq(r.issued[3].step, 5);
    cr_assert_eq(r.issued[3].kind, SK_BIND);
    const struct sc_issued *inv = &r.issued[6];
    cr_assert_eq(inv->step, 8);
    cr_assert_eq(inv->kind, SK_CACHE_INVALIDATE);
    cr_assert_eq(inv->line, 16);
    cr_assert_eq(inv->rc, 0);
    char t[128];
    vtd_qi_describe(inv->d.qw, inv->d.nqw, t, sizeof t);
    cr_assert_str_eq(t, "P_IOTLB PSI DID 1 PASID 1 ADDR 0x0 AM 3 IH 0");
    sc_result_free(&r);
}

Test(issued, a_different_descriptor_names_both_lists)
{
    struct sc_result r;
    cr_assert_not(run_story("[{type: p_iotlb, granularity: page, did: 1, pasid: 1, addr: 0x3000, am: 1}, {type: wait}]", &r));
    cr_assert_eq(r.failed, 1);
    char *all = failures(&r);
    cr_assert(strstr(all, "t.yaml:16: step 8 (cache_invalidate) failed\n    expected 2 descriptors:\n"
                          "      1. P_IOTLB PSI DID 1 PASID 1 ADDR 0x3000 AM 1 IH 0 (qw0 0x100010036, qw1 0x3001)\n"
                          "      2. wait (qw0 0x5, qw1 0x0)\n    the host layer issued 2:\n"
                          "      1. P_IOTLB PSI DID 1 PASID 1 ADDR 0x0 AM 3 IH 0") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
}

Test(issued, a_different_count_fails_too)
{
    struct sc_result r;
    cr_assert_not(run_story("[]", &r));
    char *all = failures(&r);
    cr_assert(strstr(all, "expected 0 descriptors:\n    the host layer issued 2:") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
    cr_assert_not(run_story("[{type: p_iotlb, granularity: page, did: 1, pasid: 1, addr: 0, am: 3}]", &r));
    sc_result_free(&r);
}

Test(issued, descriptor_count_counts_them_all)
{
    char text[2048];
    snprintf(text, sizeof text, STORY "  - cache_invalidate:\n"
             "      {cache: [iotlb], granularity: addr, pasid: 1, addr: 0x3000, granule_size: 4K, nb_granules: 2,\n"
             "       expect: {descriptor_count: %d}}\n", 2);
    struct scenario *s = load(text);
    struct sc_result r = {0};
    cr_assert(sc_run(s, NULL, &r));
    sc_result_free(&r);
    sc_free(s);
    snprintf(text, sizeof text, STORY "  - cache_invalidate:\n"
             "      {cache: [iotlb], granularity: addr, pasid: 1, addr: 0x3000, granule_size: 4K, nb_granules: 2,\n"
             "       expect: {descriptor_count: %d}}\n", 3);
    s = load(text);
    cr_assert_not(sc_run(s, NULL, &r));
    char *all = failures(&r);
    cr_assert(strstr(all, "expected descriptor_count 3, the host layer issued 2") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
    sc_free(s);
}

Test(issued, a_raw_descriptor_matches_its_qwords)
{
    struct sc_result r;
    cr_assert(run_story("[{raw: [0x100010036, 0x3, 0, 0]}, {raw: [0x5, 0]}]", &r));
    sc_result_free(&r);
}

Test(issued, a_granularity_the_type_lacks_is_a_failure)
{
    struct sc_result r;
    cr_assert_not(run_story("[{type: pc, granularity: page, did: 1}, {type: wait}]", &r));
    char *all = failures(&r);
    cr_assert(strstr(all, "descriptors entry 1 (line 18): that granularity does not exist") != NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
}

Test(issued, qi_steps_are_not_logged)
{
    struct scenario *s = load("name: t\nsteps:\n  - qi: {type: wait}\n  - qi: {type: iotlb, granularity: global}\n");
    struct sc_result r = {0};
    cr_assert(sc_run(s, NULL, &r));
    cr_assert_eq(r.issued_total, 0);
    cr_assert_null(r.issued);
    sc_result_free(&r);
    sc_free(s);
}

Test(issued, load_errors_name_their_place)
{
    expect_load_error("name: t\nsteps:\n  - qi: {type: wait, expect: {descriptors: []}}\n", 3, 30,
                      "expectation 'descriptors' applies to uAPI steps only");
    expect_load_error("name: t\nsteps:\n  - check: {expect: {descriptor_count: 0}}\n", 3, 21,
                      "expectation 'descriptor_count' applies to uAPI steps only");
    expect_load_error("name: t\ncontainer: {}\nsteps:\n  - get_info: {expect: {descriptors: [{type: wait, expect: {}}]}}\n",
                      4, 52, "unknown key 'expect' in a 'descriptors' entry");
    expect_load_error("name: t\ncontainer: {}\nsteps:\n  - get_info: {expect: {descriptors: [{did: 1}]}}\n", 4, 39,
                      "a qi step needs 'type' (or 'raw')");
    expect_load_error("name: t\ncontainer: {}\nsteps:\n  - get_info: {expect: {descriptors: [{type: wait, dd: 1}]}}\n",
                      4, 52, "dd");
    expect_load_error("name: t\ncontainer: {}\nsteps:\n  - get_info: {expect: {descriptors: {type: wait}}}\n", 4, 38,
                      "'descriptors' must be a sequence, not a mapping");
}

/* A failing stale DMA keeps the oracle's covering descriptor: in the result and the JSON report. */
Test(issued, a_stale_failure_carries_the_covering_fix_into_the_json_report)
{
    struct scenario *s = load("name: t\ndevices:\n  - {name: nic, bdf: \"03:00.0\"}\ntables:\n  - {name: fs, format: fs}\n"
                              "steps:\n  - attach: {device: nic}\n"
                              "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs, did: 2}\n"
                              "  - map: {table: fs, va: 0x10000, pa: 0x90000, size: 16K, perm: rwu}\n"
                              "  - dma: {device: nic, pasid: 7, addr: 0x10000, size: 16K, access: read}\n"
                              "  - unmap: {table: fs, va: 0x10000, size: 16K}\n"
                              "  - dma: {device: nic, pasid: 7, addr: 0x11000, access: read, expect: {out: 0x91000}}\n");
    struct sc_result r = {0};
    cr_assert_not(sc_run(s, NULL, &r));
    cr_assert_eq(r.nfail, 1);
    cr_assert_not_null(r.fail[0].covering_fix);
    cr_assert(strstr(r.fail[0].covering_fix, "P_IOTLB PSI DID 2 PASID 7 ADDR 0x10000 AM 2 IH 0 (covers the 4 stale "
                                             "IOTLB entries the change at step 5 left, 0x10000-0x13fff)") != NULL,
              "got %s", r.fail[0].covering_fix);
    cr_assert(strstr(r.fail[0].text, "      or one descriptor: P_IOTLB PSI DID 2 PASID 7 ADDR 0x10000 AM 2 IH 0\n") !=
              NULL, "got %s", r.fail[0].text);
    char path[] = "/tmp/vtdsim-issued-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char err[SC_REPORT_ERR_LEN];
    cr_assert_eq(sc_report_json(path, &r, 1, err), 0, "%s", err);
    FILE *f = fopen(path, "r");
    char buf[8192] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    unlink(path);
    cr_assert_gt(n, 0);
    cr_assert(strstr(buf, "\"covering_fix\": \"P_IOTLB PSI DID 2 PASID 7 ADDR 0x10000 AM 2 IH 0 (covers") != NULL,
              "got %s", buf);
    cr_assert(strstr(buf, "\"descriptor_count\": 0, \"descriptors\": []") != NULL, "got %s", buf);
    sc_result_free(&r);
    sc_free(s);
}
