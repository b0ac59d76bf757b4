/*
 * test_scenario_legacy.c: the scenario keys of legacy mode (iommu mode: legacy, a legacy
 * attach's tt/table/did): what loads, what is refused with its line:column and reason, and a
 * run whose context-cache invalidations must match the legacy entry's DID.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"
#include "runner/scenario.h"

#define LEGACY_HEAD                                                                                        \
    "name: t\niommu: {mode: legacy}\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\n"                       \
    "tables:\n  - {name: ss, format: ss, levels: 3}\nsteps:\n"
#define SCALABLE_HEAD "name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\ntables:\n  - {name: ss, format: ss}\nsteps:\n"

#include "load_error_fixture.h"

/* Load and run; whether every step passed. */
static bool runs(const char *text)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "does not load: %u:%u: %s", err.line, err.col, err.msg);
    struct sc_result r = {0};
    bool ok = sc_run(s, NULL, &r);
    if (!ok)
        sc_result_print(&r, stderr);
    sc_result_free(&r);
    sc_free(s);
    return ok;
}

Test(scenario_legacy, mode_is_scalable_or_legacy)
{
    expect_load_error("name: t\niommu: {mode: legcy}\nsteps: []\n", "2:15: 'mode' must be one of: scalable, legacy");
    cr_assert_str_eq(load_error("name: t\niommu: {mode: scalable}\nsteps: []\n"), "(loaded)");
}

Test(scenario_legacy, attach_keys_follow_the_mode)
{
    expect_load_error(LEGACY_HEAD "  - attach: {device: nic, table: ss, pdts: 3}\n",
                      "8:44: 'pdts' is a scalable-mode context-entry field (iommu mode is legacy)");
    expect_load_error(LEGACY_HEAD "  - attach: {device: nic, table: ss, rid_pasid: 1}\n", "'rid_pasid' is a scalable-mode");
    expect_load_error(SCALABLE_HEAD "  - attach: {device: nic, tt: all}\n",
                      "7:31: 'tt' is a legacy-mode context-entry field (iommu mode is scalable)");
    expect_load_error(SCALABLE_HEAD "  - attach: {device: nic, did: 3}\n", "'did' is a legacy-mode");
    expect_load_error(LEGACY_HEAD "  - attach: {device: nic}\n",
                      "8:13: a legacy attach needs 'table' (a second-stage table) unless tt is pass-through");
    expect_load_error(LEGACY_HEAD "  - attach: {device: nic, tt: pass-through, table: ss}\n",
                      "'table' has no use with tt: pass-through");
    expect_load_error(LEGACY_HEAD "  - attach: {device: nic, tt: nested, table: ss}\n", "'tt' must be one of");
    cr_assert_str_eq(load_error(LEGACY_HEAD "  - attach: {device: nic, tt: all, table: ss, did: 2, fpd: true}\n"),
                     "(loaded)");
}

Test(scenario_legacy, pasid_steps_and_containers_are_refused)
{
    expect_load_error(LEGACY_HEAD "  - pasid_entry: {device: nic, pasid: 0, pgtt: ss, table: ss}\n",
                      "8:18: 'pasid_entry' edits PASID structures, which legacy mode does not have");
    expect_load_error(LEGACY_HEAD "  - write_pasid: {device: nic, pasid: 0, value: 1}\n", "'write_pasid' edits PASID");
    expect_load_error("name: t\niommu: {mode: legacy}\ncontainer: {}\nsteps: []\n",
                      "3:12: a container needs the scalable mode (iommu mode is legacy)");
}

Test(scenario_legacy, context_cache_invalidation_matches_the_did)
{
    cr_assert(runs(LEGACY_HEAD "  - map: {table: ss, va: 0x1000, pa: 0x9000, size: 4K, perm: r}\n"
                               "  - attach: {device: nic, table: ss, did: 6}\n"
                               "  - dma: {device: nic, addr: 0x1000, access: read, expect: {out: 0x9000}}\n"
                               "  - qi: {type: cc, granularity: domain, did: 5, expect: {removed: {context_cache: 0}}}\n"
                               "  - qi: {type: cc, granularity: device, did: 5, device: nic, expect: {removed: {context_cache: 0}}}\n"
                               "  - qi: {type: cc, granularity: domain, did: 6, expect: {removed: {context_cache: 1}}}\n"
                               "  - dma: {device: nic, addr: 0x1000, access: read, expect: {out: 0x9000, source: iotlb}}\n"
                               "  - qi: {type: cc, granularity: device, did: 6, device: nic, expect: {removed: {context_cache: 1}}}\n"));
    /* A context entry rewritten behind the cache's back is stale; the oracle's fix names its DID. */
    cr_assert(runs(LEGACY_HEAD "  - attach: {device: nic, table: ss, did: 6}\n"
                               "  - dma: {device: nic, addr: 0x1000, access: read, expect: {fault: LEGACY_READ_DENIED}}\n"
                               "  - write_context: {device: nic, qword: 0, clear: 0x1}\n"
                               "  - dma: {device: nic, addr: 0x1000, access: read, expect: {fault: LEGACY_READ_DENIED, stale: true, fix: \"context-cache device-selective SID 00:03.0\"}}\n"
                               "  - qi: {raw: [0x1800060031, 0x0], expect: {removed: {context_cache: 1}}}\n"
                               "  - dma: {device: nic, addr: 0x1000, access: read, expect: {fault: LEGACY_CTX_ENTRY_P}}\n"));
    /* A legacy context entry has two qwords. */
    cr_assert_not(runs(LEGACY_HEAD "  - attach: {device: nic, table: ss}\n"
                                   "  - write_context: {device: nic, qword: 2, value: 0}\n"));
}
