/*
 * test_scenario_report_once.c: an expectation that fails on many pages of one dma step prints
 * one description with its walk traces (the first failed request), then one line counting the
 * others with their addresses and the expectations they missed; every failed check still counts.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "runner/scenario.h"

static const char head[] = "name: t\n"
                           "devices:\n"
                           "  - {name: fs, bdf: \"00:03.0\"}\n"
                           "tables:\n"
                           "  - name: fs_tab\n"
                           "    format: fs\n"
                           "    mappings:\n"
                           "      - {va: 0x10000, pa: 0x500000, size: 64K, perm: rwu}\n"
                           "steps:\n"
                           "  - attach: {device: fs}\n"
                           "  - pasid_entry: {device: fs, pasid: 1, pgtt: fs, table: fs_tab, did: 3}\n";

/* Run head + steps, which must fail; the printed failures (caller frees). */
static char *failures(const char *steps, struct sc_result *r)
{
    char text[2048];
    int n = snprintf(text, sizeof text, "%s%s", head, steps);
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, (size_t)n, &err);
    cr_assert_not_null(s, "%u:%u: %s", err.line, err.col, err.msg);
    *r = (struct sc_result){0};
    cr_assert_not(sc_run(s, NULL, r), "the run passed");
    sc_free(s);
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    sc_result_print(r, f);
    fclose(f);
    return all;
}

static unsigned occurrences(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* A cold 4-page first-stage read: page 1 walks, pages 2-4 start from the PSC. */
Test(report_once, one_trace_block_for_many_pages)
{
    struct sc_result r;
    char *all = failures("  - dma: {device: fs, pasid: 1, addr: 0x10000, size: 16K, access: read, expect: {source: walk}}\n", &r);
    cr_expect_eq(occurrences(all, "walk trace (cached path)"), 1, "got: %s", all);
    cr_expect_eq(occurrences(all, "fresh uncached walk"), 1, "got: %s", all);
    cr_expect_eq(occurrences(all, "expected source walk, got psc"), 1, "got: %s", all);
    cr_expect(strstr(all, "request: sid 00:03.0 pasid 1 addr 0x11000 access read") != NULL, "got: %s", all);
    cr_expect(strstr(all, "    ... and 2 more requests of this step failed (addr 0x12000 to 0x13000; expected source): "
                          "only the first failed request is described\n") != NULL,
              "got: %s", all);
    /* Every failed request still counts: three pages, one expectation each. */
    cr_expect_eq(r.failed, 3);
    cr_expect_eq(r.checks, 4);
    cr_expect_eq(r.nfail, 1);
    free(all);
    sc_result_free(&r);
}

/* Two steps: each describes its own first failure, and the summary names every expectation
 * its requests missed. */
Test(report_once, each_step_describes_its_first_failure)
{
    struct sc_result r;
    char *all = failures("  - dma: {device: fs, pasid: 1, addr: 0x10000, size: 8K, access: read, expect: {source: psc}}\n"
                         "  - dma: {device: fs, pasid: 1, addr: 0x1f000, size: 12K, access: read, "
                         "expect: {source: iotlb, out: 0x50f000}}\n",
                         &r);
    cr_expect_eq(occurrences(all, "walk trace (cached path)"), 2, "got: %s", all);
    /* Step 3: page 0x10000 walks (fails), page 0x11000 is from the PSC (holds): nothing more. */
    cr_expect_eq(occurrences(all, "more request"), 1, "got: %s", all);
    /* Step 4: 0x1f000 comes from the PSC (described); 0x20000 and 0x21000, beyond the mapping,
     * fault: summarized with both expectations they missed. */
    cr_expect(strstr(all, "request: sid 00:03.0 pasid 1 addr 0x1f000 access read") != NULL, "got: %s", all);
    cr_expect(strstr(all, "    ... and 2 more requests of this step failed (addr 0x20000 to 0x21000; expected fault, "
                          "source)") != NULL,
              "got: %s", all);
    cr_expect_eq(r.nfail, 2);
    /* Step 3's page 1 (source), step 4's first page (source) and two pages (fault, source). */
    cr_expect_eq(r.failed, 6);
    free(all);
    sc_result_free(&r);
}

/* One more failed request reads in the singular, with its one address. */
Test(report_once, one_more_request)
{
    struct sc_result r;
    char *all = failures("  - dma: {device: fs, pasid: 1, addr: 0x1e000, size: 16K, access: read, expect: {out: 0x50e000}}\n",
                         &r);
    cr_expect(strstr(all, "    ... and 1 more request of this step failed (addr 0x21000; expected fault): only the first "
                          "failed request is described\n") != NULL,
              "got: %s", all);
    free(all);
    sc_result_free(&r);
}
