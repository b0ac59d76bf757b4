/*
 * test_scenario_audit.c: the latent-staleness audit over a scenario run (sc_run_opts.audit,
 * runner/audit_run.c, runner/audit_entries.c): off by default; on, a reuse, a protect left
 * uninvalidated and a PASID entry rewritten each fail the step that exposed them and are
 * counted in the result, and a covering invalidation that was waited for leaves none.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "runner/scenario.h"

#define HEAD                                                  \
    "name: t\n"                                               \
    "devices:\n  - {name: nic, bdf: \"03:00.0\"}\n"           \
    "tables:\n  - {name: fs, format: fs}\n  - {name: fs2, format: fs}\n" \
    "steps:\n"                                                \
    "  - attach: {device: nic}\n"                             \
    "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs, did: 2}\n"
#define INV_WAIT                                                                 \
    "  - qi: {type: p_iotlb, granularity: page, did: 2, pasid: 7, addr: 0x10000}\n" \
    "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"

static bool run(const char *text, bool audit, struct sc_result *r)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "%u:%u: %s", err.line, err.col, err.msg);
    struct sc_run_opts o = {.audit = audit};
    *r = (struct sc_result){0};
    bool ok = sc_run(s, &o, r);
    sc_free(s);
    return ok;
}

static const char reuse[] = HEAD "  - map: {table: fs, va: 0x10000, pa: 0x90000, size: 4K, perm: rwu}\n"
                                 "  - unmap: {table: fs, va: 0x10000, size: 4K}\n"
                                 "  - map: {table: fs, va: 0x10000, pa: 0xa0000, size: 4K, perm: rwu}\n";

Test(scenario_audit, off_by_default)
{
    struct sc_result r;
    cr_assert(run(reuse, false, &r));
    cr_assert(!r.audited);
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
}

Test(scenario_audit, reuse_fails_its_step)
{
    struct sc_result r;
    cr_assert(!run(reuse, true, &r));
    cr_assert(r.audited);
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.nfail, 1);
    cr_assert_eq(r.fail[0].step, 5);
    cr_assert_not_null(strstr(r.fail[0].text, "audit: never invalidated: DID 2 PASID 7 0x10000-0x10fff, unmapped at "
                                              "step 4, reused by the map at step 5; missing: P_IOTLB PSI DID 2"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, waited_invalidation_leaves_none)
{
    struct sc_result r;
    cr_assert(run(HEAD "  - map: {table: fs, va: 0x10000, pa: 0x90000, size: 4K, perm: rwu}\n"
                       "  - unmap: {table: fs, va: 0x10000, size: 4K}\n" INV_WAIT
                       "  - map: {table: fs, va: 0x10000, pa: 0xa0000, size: 4K, perm: rwu}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    cr_assert(r.audited);
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
}

/* A table no space uses yet is nobody's: its unmaps are not stale anywhere. */
Test(scenario_audit, unused_table_is_not_audited)
{
    struct sc_result r;
    cr_assert(run(HEAD "  - map: {table: fs2, va: 0x10000, pa: 0x90000, size: 4K, perm: rwu}\n"
                       "  - unmap: {table: fs2, va: 0x10000, size: 4K}\n",
                  true, &r));
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
}

Test(scenario_audit, protect_left_at_the_end_fails_the_last_step)
{
    struct sc_result r;
    cr_assert(!run(HEAD "  - map: {table: fs, va: 0x10000, pa: 0x90000, size: 4K, perm: rwu}\n"
                        "  - protect: {table: fs, va: 0x10000, size: 4K, perm: ru}\n"
                        "  - dma: {device: nic, pasid: 7, addr: 0x10000, access: read, expect: {out: 0x90000}}\n",
                   true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.nfail, 1);
    cr_assert_eq(r.fail[0].step, 5);
    cr_assert_not_null(strstr(r.fail[0].text, "unmapped at step 4, still possibly cached at the end"), "%s",
                       r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, pasid_entry_over_a_present_one)
{
    struct sc_result r;
    cr_assert(!run(HEAD "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n", true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.fail[0].step, 3);
    cr_assert_not_null(strstr(r.fail[0].text, "written at step 2 and again at step 3 over the present entry"), "%s",
                       r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, pasid_cache_invalidated_but_not_waited)
{
    struct sc_result r;
    cr_assert(!run(HEAD "  - pasid_clear: {device: nic, pasid: 7}\n"
                        "  - qi: {type: pc, granularity: domain, did: 2}\n"
                        "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                   true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_not_null(strstr(r.fail[0].text, "its PASID cache invalidated at step 4 but not waited for before the "
                                              "write at step 5; missing: wait"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, pasid_cache_of_another_domain_does_not_cover)
{
    struct sc_result r;
    cr_assert(!run(HEAD "  - pasid_clear: {device: nic, pasid: 7}\n"
                        "  - qi: {type: pc, granularity: pasid, did: 3, pasid: 7}\n"
                        "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"
                        "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                   true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_not_null(strstr(r.fail[0].text, "missing: PASID-cache PASID-selective DID 2 PASID 7"), "%s",
                       r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, global_pasid_cache_invalidation_covers)
{
    struct sc_result r;
    cr_assert(run(HEAD "  - pasid_clear: {device: nic, pasid: 7}\n"
                       "  - qi: {type: pc, granularity: global}\n"
                       "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"
                       "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    sc_result_free(&r);
}
