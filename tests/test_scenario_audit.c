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
                        "  - qi: {type: p_iotlb, granularity: pasid, did: 2, pasid: 7}\n"
                        "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                   true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_not_null(strstr(r.fail[0].text, "cleared at step 3, invalidated by step 5 but not waited for before the "
                                              "write at step 6; missing: wait"),
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
                       "  - qi: {type: iotlb, granularity: global}\n"
                       "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"
                       "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    sc_result_free(&r);
}

/* The IOTLB may still hold translations made through the old entry: after the PASID cache, the
 * PASID's IOTLB entries (intel_pasid_tear_down_entry's order); one before the PASID cache's does
 * not count (the old entry could refill the IOTLB in between). */
Test(scenario_audit, pasid_entry_needs_the_iotlb_after_the_pasid_cache)
{
    struct sc_result r;
    cr_assert(!run(HEAD "  - pasid_clear: {device: nic, pasid: 7}\n"
                        "  - qi: {type: p_iotlb, granularity: pasid, did: 2, pasid: 7}\n"
                        "  - qi: {type: pc, granularity: pasid, did: 2, pasid: 7}\n"
                        "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"
                        "  - pasid_entry: {device: nic, pasid: 7, pgtt: fs, table: fs2, did: 2}\n",
                   true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_not_null(strstr(r.fail[0].text, "its PASID-cache invalidated at step 5 but not its domain's IOTLB "
                                              "entries before the write at step 7; missing: P_IOTLB all-in-PASID DID 2 "
                                              "PASID 7"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
}

/* A raw write_pasid that clears P and another that sets it again: the same rule. */
Test(scenario_audit, raw_pasid_entry_writes)
{
    static const char clear_set[] = HEAD "  - write_pasid: {device: nic, pasid: 7, qword: 0, clear: 1}\n"
                                         "  - write_pasid: {device: nic, pasid: 7, qword: 0, set: 1}\n";
    struct sc_result r;
    cr_assert(!run(clear_set, true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.fail[0].step, 4);
    cr_assert_not_null(strstr(r.fail[0].text, "PASID entry rewritten: device 03:00.0 PASID 7 (DID 2) cleared at step 3 "
                                              "and written again at step 4 with no PASID-cache invalidation"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    cr_assert(run(HEAD "  - write_pasid: {device: nic, pasid: 7, qword: 0, clear: 1}\n"
                       "  - qi: {type: pc, granularity: pasid, did: 2, pasid: 7}\n"
                       "  - qi: {type: p_iotlb, granularity: pasid, did: 2, pasid: 7}\n"
                       "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"
                       "  - write_pasid: {device: nic, pasid: 7, qword: 0, set: 1}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    sc_result_free(&r);
    /* Changing a field of the present entry in place (its DID). */
    cr_assert(!run(HEAD "  - write_pasid: {device: nic, pasid: 7, qword: 1, clear: 0xffff, set: 3}\n", true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "PASID 7 (DID 2) written at step 2 and again at step 3 over the present "
                                              "entry"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
}

/* Legacy mode, queued invalidation off: the context entry of dev0 (DID 4) and the registers. */
#define LEGACY                                                                   \
    "name: t\n"                                                                  \
    "iommu: {mode: legacy}\n"                                                    \
    "devices:\n  - {name: dev0, bdf: \"00:03.0\"}\n"                             \
    "tables:\n  - name: ss\n    format: ss\n    levels: 4\n"                     \
    "    mappings:\n      - {va: 0x1000, pa: 0x51000, size: 4K, perm: rw}\n"     \
    "steps:\n"                                                                   \
    "  - attach: {device: dev0, table: ss, did: 4}\n"
#define CTX_CLEAR "  - write_context: {device: dev0, qword: 0, clear: 0x1}\n"
#define CTX_SET "  - write_context: {device: dev0, qword: 0, set: 0x1}\n"
/* CCMD: ICC, CIRG 3 (device), SID 00:03.0, the DID; IOTLB_REG (0xf08): IVT, IIRG 2 (domain), DID 4. */
#define CCMD_DID(d) "  - reg_write: {reg: CCMD, width: 8, value: 0xe00000000018000" #d "}\n"
#define IOTLB_DSI "  - reg_write: {reg: 0xf08, width: 8, value: 0xa000000400000000}\n"

/* A register-based invalidation has completed when the register says so (6.5.1): no wait. */
Test(scenario_audit, register_based_invalidation_is_heard)
{
    struct sc_result r;
    cr_assert(run(LEGACY "  - unmap: {table: ss, va: 0x1000, size: 4K}\n"
                         "  - reg_write: {reg: 0xf00, width: 8, value: 0x1000}\n"
                         "  - reg_write: {reg: 0xf08, width: 8, value: 0xb000000400000000}\n"
                         "  - map: {table: ss, va: 0x1000, pa: 0x52000, size: 4K, perm: rw}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
    /* Of another domain, it removes nothing. */
    cr_assert(!run(LEGACY "  - unmap: {table: ss, va: 0x1000, size: 4K}\n"
                          "  - reg_write: {reg: 0xf00, width: 8, value: 0x1000}\n"
                          "  - reg_write: {reg: 0xf08, width: 8, value: 0xb000000500000000}\n"
                          "  - map: {table: ss, va: 0x1000, pa: 0x52000, size: 4K, perm: rw}\n",
                   true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "never invalidated: DID 4 0x1000-0x1fff"), "%s", r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, context_entry_cleared_and_set_again)
{
    struct sc_result r;
    cr_assert(!run(LEGACY CTX_CLEAR CTX_SET, true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.fail[0].step, 3);
    cr_assert_not_null(strstr(r.fail[0].text, "context entry rewritten: device 00:03.0 (DID 4) cleared at step 2 and "
                                              "written again at step 3 with no context-cache invalidation in between; "
                                              "missing: context-cache device-selective"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    /* Legacy context-cache entries are tagged by DID: device-selective for DID 5 misses it. */
    cr_assert(!run(LEGACY CTX_CLEAR CCMD_DID(5) CTX_SET, true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "with no context-cache invalidation"), "%s", r.fail[0].text);
    sc_result_free(&r);
    /* The context cache alone: the IOTLB may still hold translations made through it. */
    cr_assert(!run(LEGACY CTX_CLEAR CCMD_DID(4) CTX_SET, true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "its context-cache invalidated at step 3 but not its domain's IOTLB "
                                              "entries before the write at step 4; missing: IOTLB domain-selective DID 4"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    /* domain_context_clear_one's order: the context cache, then the domain's IOTLB entries. */
    cr_assert(run(LEGACY CTX_CLEAR CCMD_DID(4) IOTLB_DSI CTX_SET, true, &r), "%s", r.nfail ? r.fail[0].text : "");
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
}

Test(scenario_audit, context_entry_changed_while_present)
{
    struct sc_result r;
    cr_assert(!run(LEGACY "  - write_context: {device: dev0, qword: 0, set: 0x2}\n", true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_not_null(strstr(r.fail[0].text, "context entry rewritten: device 00:03.0 (DID 4) changed at step 2 while "
                                              "present"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    /* Writing the value it already has changes nothing. */
    cr_assert(run(LEGACY "  - write_context: {device: dev0, qword: 0, set: 0x1}\n", true, &r));
    sc_result_free(&r);
}

/* expect: audit pins the findings a step exposes; other counts and texts fail it. */
static const char pinned[] = HEAD "  - map: {table: fs, va: 0x10000, pa: 0x90000, size: 4K, perm: rwu}\n"
                                  "  - unmap: {table: fs, va: 0x10000, size: 4K}\n"
                                  "  - map: {table: fs, va: 0x10000, pa: 0xa0000, size: 4K, perm: rwu, expect: %s}\n";

static bool run_pinned(const char *expect, bool audit, struct sc_result *r)
{
    char text[1024];
    snprintf(text, sizeof text, pinned, expect);
    return run(text, audit, r);
}

Test(scenario_audit, expect_audit_pins_the_findings)
{
    struct sc_result r;
    cr_assert(run_pinned("{audit: 1, audit_finding: \"never invalidated: DID 2 PASID 7\"}", true, &r), "%s",
              r.nfail ? r.fail[0].text : "");
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.audit_expected, 1);
    sc_result_free(&r);
    /* Without --audit there is nothing to compare. */
    cr_assert(run_pinned("{audit: 1}", false, &r));
    sc_result_free(&r);
}

Test(scenario_audit, expect_audit_other_count_fails)
{
    struct sc_result r;
    cr_assert(!run_pinned("{audit: 2}", true, &r));
    cr_assert_eq(r.fail[0].step, 5);
    cr_assert_not_null(strstr(r.fail[0].text, "expected 2 audit findings, the audit reported 1:\n    audit: never "
                                              "invalidated"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    cr_assert(!run_pinned("{audit: 1, audit_finding: \"partly invalidated\"}", true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "expected each audit finding to contain \"partly invalidated\""), "%s",
                       r.fail[0].text);
    sc_result_free(&r);
    cr_assert(!run(reuse, true, &r));
    cr_assert_eq(r.audit_expected, 0);
    sc_result_free(&r);
}

Test(scenario_audit, audit_finding_needs_audit)
{
    char text[1024];
    snprintf(text, sizeof text, pinned, "{audit_finding: \"never\"}");
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err.msg, "'audit_finding' needs 'audit'"), "%s", err.msg);
    cr_assert_eq(err.line, 12, "%u", err.line);
}

/* A table page unlinked by a write_pte: the scenario links its own page at 0x3000000 under the
 * PDE of 0x200000, then clears the PDE. */
#define FREED_PAGE                                                                            \
    HEAD "  - map: {table: fs, va: 0x200000, pa: 0x800000, size: 8K, perm: rwu}\n"            \
         "  - write_mem: {addr: 0x3000000, value: 0x900007}\n"                                 \
         "  - write_pte: {table: fs, va: 0x200000, level: 2, value: 0x3000007}\n"              \
         "  - write_pte: {table: fs, va: 0x200000, level: 2, value: 0}\n"
#define PSI_IH(ih)                                                                                       \
    "  - qi: {type: p_iotlb, granularity: page, did: 2, pasid: 7, addr: 0x200000, am: 9, ih: " #ih "}\n"
#define WAIT "  - qi: {type: wait, sw: true, status_addr: 0x9000, status_data: 0x1}\n"

Test(scenario_audit, freed_table_page_written_again)
{
    struct sc_result r;
    cr_assert(!run(FREED_PAGE "  - write_mem: {addr: 0x3000008, value: 0x1}\n", true, &r));
    cr_assert_eq(r.audit_findings, 1);
    cr_assert_eq(r.fail[0].step, 7);
    cr_assert_not_null(strstr(r.fail[0].text, "freed table page written: 0x3000000 (the level-1 table under DID 2 PASID 7 "
                                              "0x200000-0x3fffff), unlinked at step 6, written at step 7, before an "
                                              "invalidation covering it; missing: P_IOTLB PSI DID 2 PASID 7 ADDR "
                                              "0x200000 AM 9 IH 0"),
                       "%s", r.fail[0].text);
    sc_result_free(&r);
    /* IH 1 keeps the paging-structure caches: it does not count. */
    cr_assert(!run(FREED_PAGE PSI_IH(true) WAIT "  - map: {table: fs, va: 0x10000, pa: 0x3000000, size: 4K, perm: rwu}\n",
                   true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "mapped as data at step 9, before an invalidation"), "%s", r.fail[0].text);
    sc_result_free(&r);
    /* Invalidated but not waited for. */
    cr_assert(!run(FREED_PAGE PSI_IH(false) "  - write_mem: {addr: 0x3000000, value: 0x1}\n", true, &r));
    cr_assert_not_null(strstr(r.fail[0].text, "its invalidation not waited for; missing: wait"), "%s", r.fail[0].text);
    sc_result_free(&r);
}

Test(scenario_audit, freed_table_page_reused_after_the_flush)
{
    struct sc_result r;
    cr_assert(run(FREED_PAGE PSI_IH(false) WAIT "  - write_mem: {addr: 0x3000000, value: 0x1}\n", true, &r), "%s",
              r.nfail ? r.fail[0].text : "");
    cr_assert_eq(r.audit_findings, 0);
    sc_result_free(&r);
    cr_assert(run(FREED_PAGE "  - qi: {type: p_iotlb, granularity: pasid, did: 2, pasid: 7}\n" WAIT
                             "  - write_mem: {addr: 0x3000000, value: 0x1}\n",
                  true, &r),
              "%s", r.nfail ? r.fail[0].text : "");
    sc_result_free(&r);
}
