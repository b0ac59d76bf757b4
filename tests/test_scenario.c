/*
 * test_scenario.c: the scenario loader's errors (exact file:line:column and reason) and the
 * runner end to end: a passing scenario, and failing expectations reported as failures.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"

/* Load `text` as "t.yaml"; return the formatted error ("" when it loaded). */
static const char *load_error(const char *text)
{
    static char buf[512];
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    buf[0] = 0;
    if (s)
        sc_free(s);
    else
        sc_error_format("t.yaml", &err, buf, sizeof buf);
    return buf;
}

#define HEAD "name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\ntables:\n  - {name: fs, format: fs}\nsteps:\n"

Test(loader, accepts_a_valid_scenario)
{
    cr_assert_str_eq(load_error(HEAD "  - attach: {device: nic}\n"
                                     "  - dma: {device: nic, pasid: 1, addr: 0x1000, access: read, expect: {fault: PDIR_ENTRY_P}}\n"),
                     "");
}

Test(loader, unknown_key)
{
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, adr: 0x1000, access: read}\n"),
                     "t.yaml:7:24: unknown key 'adr' in 'dma' (did you mean 'addr'?)");
}

Test(loader, unknown_top_level_key)
{
    cr_assert_str_eq(load_error("name: t\nstep: []\n"), "t.yaml:2:1: unknown key 'step' in the scenario (did you mean 'steps'?)");
}

Test(loader, wrong_type)
{
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, addr: [1], access: read}\n"),
                     "t.yaml:7:30: 'addr' must be a number, not a sequence");
    cr_assert_str_eq(load_error(HEAD "  - attach: {device: nic, paside: yes}\n"),
                     "t.yaml:7:35: 'paside' must be true or false");
}

Test(loader, out_of_range)
{
    cr_assert_str_eq(load_error(HEAD "  - attach: {device: nic, pdts: 8}\n"),
                     "t.yaml:7:33: 'pdts' out of range: 8 (allowed 0x0..0x7)");
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, pasid: 0x100000, addr: 0, access: read}\n"),
                     "t.yaml:7:31: 'pasid' out of range: 0x100000 (a PASID is 20 bits)");
}

Test(loader, bad_bdf)
{
    cr_assert_str_eq(load_error("name: t\ndevices:\n  - {name: nic, bdf: \"00:20.0\"}\nsteps: []\n"),
                     "t.yaml:3:22: 'bdf' must be a bus:device.function like \"00:03.0\"");
}

Test(loader, bad_size_suffix)
{
    cr_assert_str_eq(load_error(HEAD "  - map: {table: fs, va: 0, pa: 0, size: 4Q, perm: rw}\n"),
                     "t.yaml:7:42: 'size' must be a size (e.g. 4K, 2M, 0x1000)");
}

Test(loader, unknown_fault_name)
{
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, addr: 0, access: read, expect: {fault: FS_NOT_THERE}}\n"),
                     "t.yaml:7:63: unknown fault name 'FS_NOT_THERE'");
}

Test(loader, duplicate_device_name)
{
    cr_assert_str_eq(load_error("name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\n  - {name: nic, bdf: \"00:04.0\"}\nsteps: []\n"),
                     "t.yaml:4:12: duplicate device name 'nic'");
}

Test(loader, unknown_names_and_kinds)
{
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: gpu, addr: 0, access: read}\n"), "t.yaml:7:19: unknown device 'gpu'");
    cr_assert_str_eq(load_error(HEAD "  - dmaa: {device: nic}\n"), "t.yaml:7:5: unknown step kind 'dmaa' (did you mean 'dma'?)");
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, addr: 0, access: rw}\n"),
                     "t.yaml:7:41: 'access' must be one of: read, write, exec");
}

Test(loader, missing_key)
{
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, access: read}\n"), "t.yaml:7:10: missing key 'addr' in 'dma'");
    cr_assert_str_eq(load_error("steps: []\n"), "t.yaml:1:1: missing key 'name' in the scenario");
}

Test(loader, expectation_on_the_wrong_step)
{
    cr_assert_str_eq(load_error(HEAD "  - attach: {device: nic, expect: {out: 0}}\n"),
                     "t.yaml:7:35: expectation 'out' applies to dma steps only");
}

Test(loader, yaml_syntax_error)
{
    cr_assert_str_eq(load_error("name: t\nsteps: [\n"),
                     "t.yaml:3:1: YAML syntax error: did not find expected node content while parsing a flow node");
}

Test(loader, limits)
{
    char deep[256] = "name: t\nsteps: []\nx: ";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    for (int i = 0; i < 20; i++)
        strcat(deep, "]");
    strcat(deep, "\n");
    cr_assert_str_eq(load_error(deep), "t.yaml:3:20: nesting deeper than 16 levels");
    cr_assert_str_eq(load_error("name: t\nsteps:\n  - repeat: {count: 0, steps: []}\n"),
                     "t.yaml:3:21: 'count' out of range: 0 (allowed 0x1..0x989680)");
}

Test(loader, alias_bomb_is_bounded)
{
    /* Each level doubles the nodes seen through aliases: bounded by the node limit, no blow-up. */
    char text[2048] = "name: t\nsteps: []\na0: &a0 [x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 10; i++) {
        char line[128];
        snprintf(line, sizeof line, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1,
                 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        strcat(text, line);
    }
    cr_assert(strstr(load_error(text), "document too large") != NULL, "got: %s", load_error(text));
}

/* ---- the runner ---- */

static bool run_text(const char *text, struct sc_result *r)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "load failed: %s", err.msg);
    *r = (struct sc_result){0};
    bool ok = sc_run(s, &(struct sc_run_opts){.stats = true}, r);
    sc_free(s);
    return ok;
}

#define STORY                                                                                                  \
    "name: story\n"                                                                                            \
    "devices:\n  - {name: nic0, bdf: \"00:03.0\"}\n"                                                          \
    "tables:\n"                                                                                                \
    "  - {name: ram, format: ss, mappings: [{va: 0, pa: 0x40000000, size: 1G, perm: rwx}]}\n"               \
    "  - {name: gpt, format: fs, backing: ram}\n"                                                              \
    "steps:\n"                                                                                                 \
    "  - attach: {device: nic0}\n"                                                                             \
    "  - pasid_entry: {device: nic0, pasid: 1, pgtt: nested, table: gpt, did: 1}\n"                          \
    "  - map: {table: gpt, va: 0x3000, pa: 0x200000, size: 8K, perm: rwu}\n"                                 \
    "  - dma: {device: nic0, pasid: 1, addr: 0x3000, size: 8K, access: write, expect: {out: 0x40200000}}\n"   \
    "  - unmap: {table: gpt, va: 0x3000, size: 8K}\n"                                                         \
    "  - qi: {type: p_iotlb, granularity: page, did: 1, pasid: 1, addr: 0x2000, am: 1}\n"

Test(runner, passes_the_user_story)
{
    struct sc_result r;
    bool ok = run_text(STORY "  - dma: {device: nic0, pasid: 1, addr: 0x4000, access: read, "
                             "expect: {stale: true, source: iotlb, fix: \"ADDR 0x4000\"}}\n",
                       &r);
    cr_assert(ok, "failed: %s", r.nfail ? r.fail[0].text : r.load_error ? r.load_error : "?");
    cr_assert_eq(r.steps, 7);
    cr_assert_eq(r.requests, 3);
    cr_assert_not_null(r.stats);
    sc_result_free(&r);
}

Test(runner, failed_expectations_are_reported_not_fatal)
{
    struct sc_result r;
    bool ok = run_text(STORY "  - dma: {device: nic0, pasid: 1, addr: 0x4000, access: read, expect: {fault: FS_PAGING_ENTRY_P}}\n"
                             "  - check: {expect: {stats: {requests: 99}}}\n",
                       &r);
    cr_assert(!ok);
    cr_assert_eq(r.nfail, 2);
    cr_assert_eq(r.fail[0].step, 7);
    cr_assert_eq(r.fail[0].line, 14);
    cr_assert(strstr(r.fail[0].text, "t.yaml:14: step 7 (dma) failed") != NULL, "%s", r.fail[0].text);
    cr_assert(strstr(r.fail[0].text, "expected fault FS_PAGING_ENTRY_P (0x71), got none") != NULL, "%s", r.fail[0].text);
    cr_assert(strstr(r.fail[0].text, "expected stale false, got true") != NULL, "%s", r.fail[0].text);
    cr_assert(strstr(r.fail[0].text, "oracle's fix: P_IOTLB PSI DID 1 PASID 1 ADDR 0x4000") != NULL, "%s",
              r.fail[0].text);
    cr_assert(strstr(r.fail[0].text, "fresh uncached walk of current memory: fault FS_PAGING_ENTRY_P") != NULL);
    cr_assert(strstr(r.fail[1].text, "expected requests = 99, got 3") != NULL, "%s", r.fail[1].text);
    sc_result_free(&r);
}

/* The oracle's fix, printed as a qi step, pasted into the scenario before the DMA, removes the
 * stale translation: the DMA then faults as a fresh walk says. */
Test(runner, the_oracles_fix_replays_as_a_qi_step)
{
    struct sc_result r;
    cr_assert_not(run_text(STORY "  - dma: {device: nic0, pasid: 1, addr: 0x4000, access: read, "
                                 "expect: {fault: FS_PAGING_ENTRY_P}}\n",
                           &r));
    cr_assert_eq(r.nfail, 1);
    const char *at = strstr(r.fail[0].text, "as a step: ");
    cr_assert_not_null(at, "%s", r.fail[0].text);
    at += strlen("as a step: ");
    char step[160];
    size_t n = strcspn(at, "\n");
    cr_assert_lt(n, sizeof step);
    memcpy(step, at, n);
    step[n] = 0;
    cr_assert(strstr(step, "- qi: {raw: [") == step, "%s", step);
    sc_result_free(&r);
    char text[2048];
    snprintf(text, sizeof text, "%s  %s\n  - dma: {device: nic0, pasid: 1, addr: 0x4000, access: read, "
             "expect: {fault: FS_PAGING_ENTRY_P}}\n", STORY, step);
    bool ok = run_text(text, &r);
    cr_assert(ok, "%s\nfailed: %s", text, r.nfail ? r.fail[0].text : r.load_error ? r.load_error : "?");
    sc_result_free(&r);
}

Test(runner, operation_errors_fail_the_step_unless_expected)
{
    struct sc_result r;
    bool ok = run_text("name: t\ntables:\n  - {name: fs, format: fs}\nsteps:\n"
                       "  - map: {table: fs, va: 0x1000, pa: 0x1000, size: 4K, perm: rw}\n"
                       "  - map: {table: fs, va: 0x1000, pa: 0x2000, size: 4K, perm: rw, expect: {errno: EEXIST}}\n"
                       "  - map: {table: fs, va: 0x1000, pa: 0x2000, size: 4K, perm: rw}\n",
                       &r);
    cr_assert(!ok);
    cr_assert_eq(r.nfail, 1);
    cr_assert(strstr(r.fail[0].text, "t.yaml:7: step 3 (map) failed\n    map failed: EEXIST") != NULL, "%s",
              r.fail[0].text);
    sc_result_free(&r);
}

Test(runner, reports_are_written)
{
    struct sc_result r;
    run_text(STORY, &r);
    char json[] = "/tmp/vtdsim-test-XXXXXX";
    int fd = mkstemp(json);
    cr_assert(fd >= 0);
    close(fd);
    char err[SC_REPORT_ERR_LEN];
    cr_assert_eq(sc_report_json(json, &r, 1, err), 0, "%s", err);
    cr_assert_eq(sc_report_junit(json, &r, 1, err), 0, "%s", err);
    FILE *f = fopen(json, "r");
    char buf[256] = {0};
    cr_assert_gt(fread(buf, 1, sizeof buf - 1, f), 0);
    fclose(f);
    remove(json);
    cr_assert(strstr(buf, "<testsuites tests=\"1\" failures=\"0\"") != NULL, "%s", buf);
    sc_result_free(&r);
}

Test(loader, uapi_fields)
{
    cr_assert_str_eq(load_error("name: t\ncontainer: {}\nsteps:\n  - cache_invalidate: {cache: [iotlb, tlb]}\n"),
                     "t.yaml:4:39: 'cache' entries must be among: iotlb, dev_iotlb, pasid");
    cr_assert_str_eq(load_error("name: t\ncontainer: {did: 0}\nsteps: []\n"),
                     "t.yaml:2:18: 'did' out of range: 0 (allowed 0x1..0xffff)");
    cr_assert_str_eq(load_error("name: t\ntables:\n  - {name: g, format: fs, backing: container}\nsteps: []\n"),
                     "t.yaml:3:36: unknown table 'container'");
}

Test(runner, uapi_steps_need_a_container)
{
    struct sc_result r;
    bool ok = run_text("name: t\nsteps:\n  - pasid_request: {min: 1, max: 9}\n", &r);
    cr_assert(!ok);
    cr_assert(strstr(r.fail[0].text, "uAPI step without a `container:` section failed: ENODEV") != NULL, "%s",
              r.fail[0].text);
    sc_result_free(&r);
    /* PASIDs come from the vfio_mm a container gets with its first device (series v7). */
    ok = run_text("name: t\ncontainer: {}\ndevices:\n  - {name: d, bdf: \"00:03.0\"}\nsteps:\n"
                  "  - pasid_request: {min: 1, max: 9, expect: {errno: EOPNOTSUPP}}\n"
                  "  - container_attach: {device: d}\n"
                  "  - pasid_request: {min: 1, max: 9, expect: {value: 1}}\n",
                  &r);
    cr_assert(ok, "%s", r.nfail ? r.fail[0].text : "");
    sc_result_free(&r);
}
