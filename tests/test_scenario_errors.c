/*
 * test_scenario_errors.c: a file with several mistakes reports every one of them in one load
 * (each at its file:line:column, then "N errors"), up to a limit; an entry whose definition
 * failed (a device, a table) is not reported again by each step naming it, nor is a required
 * key that a misspelt key stood for.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"
#include "walker/alloc.h"

/* Load text that must not load; the errors are in *err. */
static void load_fails(const char *text, unsigned max, struct sc_error *err)
{
    struct scenario *s = sc_load_string_max("t.yaml", text, strlen(text), max, err);
    cr_assert_null(s, "the scenario loaded");
}

static void assert_error(const struct sc_error *err, unsigned i, const char *want)
{
    char buf[600];
    cr_assert_lt(i, sc_error_count(err), "error %u of %u wanted: %s", i, sc_error_count(err), want);
    sc_error_format_nth("t.yaml", err, i, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

static const char three_mistakes[] = "name: t\n"
                                     "devices:\n"
                                     "  - {name: nic, bdf: \"00:03.0\"}\n"
                                     "steps:\n"
                                     "  - attach: {device: nic, pdts: 9}\n"
                                     "  - dma: {device: nic, addr: 0x1000, acess: read}\n"
                                     "  - dma: {device: nic, addr: 0x1000, access: read, expect: {fault: FS_NOT_THERE}}\n";

Test(errors, three_mistakes_three_errors)
{
    struct sc_error err;
    load_fails(three_mistakes, 0, &err);
    cr_assert_eq(err.count, 3, "got %u errors", err.count);
    cr_assert_not(err.more);
    assert_error(&err, 0, "t.yaml:5:33: 'pdts' out of range: 9 (allowed 0x0..0x7)");
    assert_error(&err, 1, "t.yaml:6:38: unknown key 'acess' in 'dma' (did you mean 'access'?)");
    assert_error(&err, 2, "t.yaml:7:68: unknown fault name 'FS_NOT_THERE'");
    /* The first error is also where it always was. */
    cr_assert_eq(err.line, 5);
    cr_assert_eq(err.col, 33);
    char *text = sc_error_text("t.yaml", &err);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "t.yaml:5:33: 'pdts'") == text, "got: %s", text);
    const char *last = strrchr(text, '\n');
    cr_assert_not_null(last);
    cr_assert_str_eq(last + 1, "t.yaml: 3 errors");
    vtd_free(text);
}

/* One mistake reads as it always did: one line, no count. */
Test(errors, one_mistake_one_line)
{
    struct sc_error err;
    load_fails("name: t\nsteps:\n  - dmaa: {}\n", 0, &err);
    cr_assert_eq(sc_error_count(&err), 1);
    char *text = sc_error_text("t.yaml", &err);
    cr_assert_str_eq(text, "t.yaml:3:5: unknown step kind 'dmaa' (did you mean 'dma'?)");
    vtd_free(text);
}

/* 30 misspelt step kinds: 20 are kept by default, 5 with a limit of 5, all 30 with 100. */
Test(errors, the_limit_stops_the_load)
{
    char text[4096];
    int len = snprintf(text, sizeof text, "name: t\nsteps:\n");
    for (int i = 0; i < 30; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "  - dmaa%d: {}\n", i);
    struct sc_error err;
    load_fails(text, 0, &err);
    cr_assert_eq(err.count, SC_DEFAULT_MAX_ERRORS);
    cr_assert(err.more);
    assert_error(&err, 19, "t.yaml:22:5: unknown step kind 'dmaa19'");
    load_fails(text, 5, &err);
    cr_assert_eq(err.count, 5);
    cr_assert(err.more);
    char sum[256];
    sc_error_format_summary("t.yaml", &err, sum, sizeof sum);
    cr_assert_str_eq(sum, "t.yaml: 5 errors shown; the load stopped at the limit of 5 (there are more)");
    load_fails(text, 100, &err);
    cr_assert_eq(err.count, 30);
    cr_assert_not(err.more);
    /* Exactly at the limit: all shown, nothing more. */
    load_fails(text, 30, &err);
    cr_assert_eq(err.count, 30);
    cr_assert_not(err.more);
}

/* A device whose definition failed: the steps naming it say nothing more, a misspelt name does. */
Test(errors, failed_device_is_not_reported_again)
{
    struct sc_error err;
    load_fails("name: t\n"
               "devices:\n"
               "  - {name: nic, bdf: \"00:03.0\", atss: true}\n"
               "steps:\n"
               "  - attach: {device: nic}\n"
               "  - dma: {device: nic, addr: 0, access: read}\n"
               "  - dma: {device: nic, addr: 0, access: read, expect: {stats: {devtlb: {nic: {hits: 1}}}}}\n"
               "  - dma: {device: nicc, addr: 0, access: read}\n",
               0, &err);
    cr_assert_eq(err.count, 2, "got %u errors, the first: %s", err.count, err.msg);
    assert_error(&err, 0, "t.yaml:3:33: unknown key 'atss' in a device (did you mean 'ats'?)");
    assert_error(&err, 1, "t.yaml:8:19: unknown device 'nicc'");
}

/* A table whose definition failed (in one of its mappings): no "unknown table" for its users;
 * a second-stage table is still a second-stage table for the rest. */
Test(errors, failed_table_is_not_reported_again)
{
    struct sc_error err;
    load_fails("name: t\n"
               "tables:\n"
               "  - {name: ss, format: ss}\n"
               "  - name: fs\n"
               "    format: fs\n"
               "    backing: ss\n"
               "    mappings:\n"
               "      - {va: 0, pa: 0, size: 4K, perm: rwq}\n"
               "steps:\n"
               "  - map: {table: fs, va: 0x1000, pa: 0, size: 4K, perm: rw}\n"
               "  - unmap: {table: fs, va: 0x1000, size: 4K}\n"
               "  - map: {table: ss, va: 0x1000, pa: 0, size: 4K, perm: rw, ad: maybe}\n",
               0, &err);
    cr_assert_eq(err.count, 2, "got %u errors, the first: %s", err.count, err.msg);
    assert_error(&err, 0, "t.yaml:8:40: 'perm' must be permissions from \"rwxu\" or \"none\"");
    assert_error(&err, 1, "t.yaml:12:65: 'ad' must be true or false");
}

/* A misspelt required key is one error, not also "missing key". */
Test(errors, misspelt_required_key_is_not_also_missing)
{
    struct sc_error err;
    load_fails("name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n"
               "  - dma: {device: nic, adr: 0x1000, access: read}\n"
               "  - dma: {device: nic, access: read}\n",
               0, &err);
    cr_assert_eq(err.count, 2, "got %u errors, the first: %s", err.count, err.msg);
    assert_error(&err, 0, "t.yaml:5:24: unknown key 'adr' in 'dma' (did you mean 'addr'?)");
    assert_error(&err, 1, "t.yaml:6:10: missing key 'addr' in 'dma'");
}

/* Errors inside a step's expect, a repeat's steps and the iommu's caches are read after an
 * error in another key of the same mapping. */
Test(errors, nested_parts_are_read_after_an_error)
{
    struct sc_error err;
    load_fails("name: t\n"
               "iommu:\n"
               "  oracel: true\n"
               "  iotlb: {entries: 7, ways: 2}\n"
               "devices:\n"
               "  - {name: nic, bdf: \"00:03.0\"}\n"
               "steps:\n"
               "  - dma: {device: nic, addr: 0, access: reed, expect: {source: cache}}\n"
               "  - repeat:\n"
               "      count: 0\n"
               "      steps:\n"
               "        - check: {device: nic, expect: {warnings: x}}\n",
               0, &err);
    cr_assert_eq(err.count, 6, "got %u errors, the first: %s", err.count, err.msg);
    assert_error(&err, 0, "t.yaml:3:3: unknown key 'oracel' in iommu (did you mean 'oracle'?)");
    assert_error(&err, 1, "t.yaml:4:29: iotlb: 7 entries is not a multiple of 2 ways");
    assert_error(&err, 2, "t.yaml:8:41: 'access' must be one of: read, write, exec");
    assert_error(&err, 3, "t.yaml:8:64: 'source' must be one of: walk, psc, iotlb, devtlb, iec");
    assert_error(&err, 4, "t.yaml:10:14: 'count' out of range: 0 (allowed 0x1..0x989680)");
    assert_error(&err, 5, "t.yaml:12:51: 'warnings' must be a number");
}

/* sc_run_file: the result's load_error holds every error and the count. */
Test(errors, run_file_reports_every_error)
{
    char path[] = "/tmp/vtdsim-errors-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(three_mistakes, f);
    fclose(f);
    struct sc_result r;
    struct sc_run_opts o = {.max_errors = 2};
    cr_assert_not(sc_run_file(path, &o, &r));
    unlink(path);
    cr_assert_not_null(r.load_error);
    cr_assert(strstr(r.load_error, ":5:33: 'pdts' out of range") != NULL, "got: %s", r.load_error);
    cr_assert(strstr(r.load_error, ":6:38: unknown key 'acess'") != NULL, "got: %s", r.load_error);
    cr_assert(strstr(r.load_error, "FS_NOT_THERE") == NULL, "got: %s", r.load_error);
    cr_assert(strstr(r.load_error, ": 2 errors shown; the load stopped at the limit of 2 (there are more)") != NULL,
              "got: %s", r.load_error);
    sc_result_free(&r);
}
