/*
 * test_scenario_hostile.c: issue 13's hostile inputs for the scenario loader and runner: files
 * that are not regular files, nesting that would make libyaml quadratic, work and host-memory
 * budgets, and values that used to be accepted silently. Each test asserts the error and where
 * it points; none measures time (a Criterion timeout only guards against a hang).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"

#define HEAD "name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\ntables:\n  - {name: fs, format: fs}\nsteps:\n"

/* The loader's "line:col: reason" for a scenario that must not load. */
static const char *load_error_len(const char *text, size_t len)
{
    static char buf[512];
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, len, &err);
    if (s) {
        sc_free(s);
        return "(loaded)";
    }
    snprintf(buf, sizeof buf, "%u:%u: %s", err.line, err.col, err.msg);
    return buf;
}
#define load_error(text) load_error_len(text, strlen(text))

#define expect_load_error(text, want)                                                                      \
    do {                                                                                                   \
        const char *got_ = load_error(text);                                                               \
        cr_assert(strstr(got_, want) != NULL, "expected \"%s\", got \"%s\"", want, got_);                  \
    } while (0)

static void expect_loads(const char *text)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "does not load: %u:%u: %s", err.line, err.col, err.msg);
    sc_free(s);
}

/* A fresh directory under /tmp for files a test makes (removed by the caller). */
static void temp_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/vtdsim-hostile-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* ---- 3a: special files ------------------------------------------------------------------- */

/* A FIFO named *.yaml with no writer: opening it for reading used to block forever. */
Test(hostile, fifo_scenario_is_refused_without_blocking, .timeout = 20)
{
    char dir[64], path[128];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.yaml", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    struct sc_result r;
    cr_assert_not(sc_run_file(path, NULL, &r));
    cr_assert_not_null(r.load_error);
    cr_assert(strstr(r.load_error, "x.yaml: not a regular file (a FIFO)"), "got \"%s\"", r.load_error);
    sc_result_free(&r);
    unlink(path);
    rmdir(dir);
}

Test(hostile, directory_and_device_are_refused)
{
    struct sc_error err;
    cr_assert_null(sc_load_file("/tmp", &err));
    cr_assert_str_eq(err.msg, "not a regular file (a directory)");
    cr_assert_null(sc_load_file("/dev/null", &err));
    cr_assert_str_eq(err.msg, "not a regular file (a character device)");
    cr_assert_null(sc_load_file("/nonexistent/x.yaml", &err));
    cr_assert_str_eq(err.msg, "cannot open: No such file or directory");
}

/* The size comes from the file itself, not from the bytes read before giving up. */
Test(hostile, too_large_file_reports_its_size)
{
    char dir[64], path[128];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 5 << 20, SEEK_SET), 0);
    fputc('\n', f);
    fclose(f);
    struct sc_error err;
    cr_assert_null(sc_load_file(path, &err));
    cr_assert_str_eq(err.msg, "file too large (5242881 bytes; at most 4194304)");
    unlink(path);
    rmdir(dir);
}

/* ---- 3b: nesting refused while parsing ------------------------------------------------------ */

/*
 * A file of the largest size the loader reads, all '[': libyaml's scanner is quadratic in the
 * flow depth, so building the document first took hours. The timeout only guards a hang.
 */
Test(hostile, deep_flow_nesting_in_a_4mib_file_is_refused_while_parsing, .timeout = 60)
{
    const char *shapes[] = {"[", "{a: ", "[{a: "};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t len = SC_MAX_FILE_BYTES, unit = strlen(shapes[k]);
        char *text = malloc(len);
        cr_assert_not_null(text);
        for (size_t i = 0; i + unit <= len; i += unit)
            memcpy(text + i, shapes[k], unit);
        memset(text + len - len % unit, ' ', len % unit);
        const char *got = load_error_len(text, len);
        cr_assert(strstr(got, "nesting deeper than 16 levels"), "shape '%s': got \"%s\"", shapes[k], got);
        free(text);
    }
}

/* Block nesting, and the limit exactly: 16 levels below the root load, 17 do not. */
Test(hostile, nesting_limit_is_exact_for_block_and_flow)
{
    char ok[1024] = HEAD "  - check: {expect: {x: ", bad[1024];
    /* check_shape's depth: the root mapping 0, steps 1, the step 2, check's mapping 3, expect 4,
     * x's value 5: 11 more sequences reach depth 16 with a scalar at 17. */
    strcpy(bad, ok);
    for (unsigned i = 0; i < 11; i++)
        strcat(ok, "[");
    strcat(ok, "1");
    for (unsigned i = 0; i < 11; i++)
        strcat(ok, "]");
    strcat(ok, "}}\n");
    /* Loads past the shape check (then fails on the unknown key 'x', not on nesting). */
    cr_assert(strstr(load_error(ok), "unknown key 'x'"), "got \"%s\"", load_error(ok));
    for (unsigned i = 0; i < 12; i++)
        strcat(bad, "[");
    strcat(bad, "1");
    for (unsigned i = 0; i < 12; i++)
        strcat(bad, "]");
    strcat(bad, "}}\n");
    expect_load_error(bad, "7:37: nesting deeper than 16 levels");
    /* Block style: each level indented one more. */
    char block[8192] = "name: t\nsteps: []\nx:\n";
    for (unsigned i = 0; i < 20; i++) {
        size_t n = strlen(block);
        memset(block + n, ' ', i + 1);
        snprintf(block + n + i + 1, sizeof block - n - i - 1, "k%u:\n", i);
    }
    strcat(block, "                      v\n");
    expect_load_error(block, "nesting deeper than 16 levels");
}

/* ---- 6: silently accepted input ------------------------------------------------------------- */

Test(hostile, second_document_is_an_error)
{
    expect_load_error("name: t\nsteps: []\n---\nname: u\nsteps: [{bogus: 1}]\n", "3:1: a second YAML document");
    expect_load_error("name: t\nsteps: []\n...\n---\n", "4:1: a second YAML document");
    /* One explicit document is fine. */
    expect_loads("---\nname: t\nsteps: []\n...\n");
}

Test(hostile, bdf_is_exactly_two_two_one_hex_digits)
{
    const char *bad[] = {"-1:02.0", " 1:02.0", "+1:02.0", "1:02.0 ", "0x1:2.0", "00:+2.0", "00:02.-", "00:20.0",
                         "00:02.8", "000:02.0", "00:02", "g0:02.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "name: t\ndevices:\n  - {name: nic, bdf: \"%s\"}\nsteps: []\n", bad[i]);
        expect_load_error(text, "3:22: 'bdf' must be a bus:device.function");
    }
    expect_loads("name: t\ndevices:\n  - {name: nic, bdf: \"fF:1f.7\"}\nsteps: []\n");
}

Test(hostile, nul_inside_a_quoted_scalar_is_an_error)
{
    expect_load_error("name: \"t\\0hidden\"\nsteps: []\n", "1:7: a NUL character (\\0) inside a scalar");
    expect_load_error(HEAD "  - dma: {device: \"nic\\x00x\", addr: 0x1000, access: read}\n",
                      "7:19: a NUL character");
}

Test(hostile, empty_values_never_satisfy_a_key)
{
    expect_load_error("name:\nsteps: []\n", "1:6: 'name' has no value (it must be a string)");
    expect_load_error("name: \"\"\nsteps: []\n", "1:7: 'name' has no value");
    expect_load_error("name: t\nsteps: ~\n", "2:8: 'steps' has no value (it must be a sequence)");
    expect_load_error("name: t\ndevices:\n  - {name: nic, bdf: }\nsteps: []\n", "'bdf' has no value");
    expect_load_error(HEAD "  - dma: {device: nic, addr: null, access: read}\n", "7:30: 'addr' has no value (it must be a number)");
    expect_load_error(HEAD "  - dma: {device: nic, addr: 0, access: }\n", "'access' has no value (it must be one of: read");
}

Test(hostile, fault_codes_are_8_bits)
{
    expect_load_error(HEAD "  - dma: {device: nic, addr: 0, access: read, expect: {fault: 0x171}}\n",
                      "7:63: unknown fault code 0x171");
    expect_load_error(HEAD "  - check: {expect: {fault_records: [{reason: 0x106}]}}\n", "unknown fault code 0x106");
    /* The same codes within 8 bits load. */
    expect_loads(HEAD "  - dma: {device: nic, addr: 0, access: read, expect: {fault: 0x71}}\n");
}

#define UAPI_HEAD "name: t\ncontainer: {}\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n"

/* Every uAPI field is as wide as the structure member it fills, no wider. */
Test(hostile, uapi_fields_are_as_wide_as_their_member)
{
    expect_load_error(UAPI_HEAD "  - pasid_request: {min: 0x100000005, max: 0x100000010}\n",
                      "6:26: 'min' out of range: 0x100000005 (allowed 0x0..0xffffffff)");
    expect_load_error(UAPI_HEAD "  - pasid_request: {min: 5, max: 0x100000010}\n", "'max' out of range");
    expect_load_error(UAPI_HEAD "  - pasid_request: {min: 5, max: 6, flags: 0x100000001}\n", "'flags' out of range");
    expect_load_error(UAPI_HEAD "  - page_response: {grpid: 0x100000000}\n", "'grpid' out of range");
    expect_load_error(UAPI_HEAD "  - page_response: {grpid: 1, version: 0x100000001}\n", "'version' out of range");
    expect_load_error(UAPI_HEAD "  - map_dma: {iova: 0, vaddr: 0, size: 4K, flags: 0x100000003}\n", "'flags' out of range");
    expect_load_error(UAPI_HEAD "  - unmap_dma: {iova: 0, size: 4K, flags: 0x100000000}\n", "'flags' out of range");
    expect_load_error(UAPI_HEAD "  - bind: {hpasid: 1, addr_width: 0x100000030}\n", "'addr_width' out of range");
    expect_load_error(UAPI_HEAD "  - bind: {hpasid: 1, format: 0x100000001}\n", "'format' out of range");
    expect_load_error(UAPI_HEAD "  - cache_invalidate: {archid: 0x100000000}\n", "'archid' out of range");
    expect_load_error(UAPI_HEAD "  - cache_invalidate: {cache: 0x101}\n", "'cache' out of range: 0x101 (allowed 0x0..0xff)");
    expect_load_error(UAPI_HEAD "  - hwpt_alloc: {pasid: 1, addr_width: 0x100000030}\n", "'addr_width' out of range");
    expect_load_error(UAPI_HEAD "  - hwpt_invalidate: {pasid: 1, entries: [{addr: 0, npages: 1, flags: 0x100000001}]}\n",
                      "'flags' out of range");
    expect_load_error(UAPI_HEAD "  - check: {expect: {uapi_faults: [{grpid: 0x100000000}]}}\n", "'grpid' out of range");
    /* A register write of the default 4 bytes holds 32 bits; width 8 takes 64. */
    expect_load_error(UAPI_HEAD "  - reg_write: {reg: IQT, value: 0x100000000}\n",
                      "6:34: 'value' out of range: 0x100000000 (a 4-byte write; give width: 8)");
    expect_loads(UAPI_HEAD "  - reg_write: {reg: IQT, width: 8, value: 0x100000000}\n");
    /* 64-bit members keep their whole range. */
    expect_loads(UAPI_HEAD "  - bind: {hpasid: 1, flags: 0x100000000}\n");
    expect_loads(UAPI_HEAD "  - pasid_request: {min: 0xffffffff, max: 0xffffffff}\n");
}

/* ---- 3c: the work budget and the timeout ---------------------------------------------------- */

/* Run a scenario text with options; the load error and failure texts, concatenated (caller frees). */
static char *run_text(const char *text, const struct sc_run_opts *o, struct sc_result *r)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "does not load: %u:%u: %s", err.line, err.col, err.msg);
    *r = (struct sc_result){0};
    cr_assert_not(sc_run(s, o, r), "the run passed");
    sc_free(s);
    size_t len = 1 + (r->load_error ? strlen(r->load_error) : 0);
    for (unsigned i = 0; i < r->nfail; i++)
        len += strlen(r->fail[i].text);
    char *all = calloc(1, len);
    cr_assert_not_null(all);
    if (r->load_error)
        strcat(all, r->load_error);
    for (unsigned i = 0; i < r->nfail; i++)
        strcat(all, r->fail[i].text);
    return all;
}

#define expect_run_error(text, opts, want)                                                                 \
    do {                                                                                                   \
        struct sc_result r_;                                                                               \
        char *all_ = run_text(text, opts, &r_);                                                            \
        cr_assert(strstr(all_, want) != NULL, "expected \"%s\", got \"%s\"", want, all_);                  \
        free(all_);                                                                                        \
        sc_result_free(&r_);                                                                               \
    } while (0)

/* 10^7 repeats of a 4 GiB DMA: 10^13 translations from a 150-byte file, refused before it starts. */
Test(hostile, huge_repeat_of_a_huge_dma_is_refused_at_its_step, .timeout = 30)
{
    expect_run_error(HEAD "  - check: {}\n  - repeat:\n      count: 10000000\n      steps:\n"
                          "        - dma: {device: nic, addr: 0, size: 0x100000000, access: read}\n",
                     NULL,
                     "t.yaml:11:11: the scenario asks for 10485760000001 units of work (4 KiB pages translated, "
                     "mapped or filled, repeats multiplied out), more than the work budget of 100000000 (--max-work)");
    cr_assert_eq(SC_DEFAULT_MAX_WORK, 100000000u, "the default documented in docs/robustness.md");
}

/* The budget is an option; the step named is the one whose total crosses it, inside repeats too. */
Test(hostile, work_budget_names_the_crossing_step)
{
    const char *text = HEAD "  - map: {table: fs, va: 0, pa: 0, size: 64K, perm: rw}\n"
                            "  - repeat:\n      count: 10\n      steps:\n"
                            "        - dma: {device: nic, pasid: 1, addr: 0, size: 8K, access: read}\n"
                            "        - dma: {device: nic, pasid: 1, addr: 0, size: 4K, access: read}\n";
    /* 16 (map) + 10 * (2 + 1) = 46 units. */
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s);
    cr_assert_eq(s->work, 46u);
    sc_free(s);
    struct sc_run_opts o = {.max_work = 30};
    expect_run_error(text, &o, "t.yaml:11:11: the scenario asks for 46 units of work");
    o.max_work = 17;
    expect_run_error(text, &o, "t.yaml:11:11: the scenario asks for 46 units");
    o.max_work = 15;
    expect_run_error(text, &o, "t.yaml:7:5: the scenario asks for 46 units");
    /* Within the budget it runs. */
    o.max_work = 46;
    struct sc_result r = {0};
    s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s);
    cr_assert(sc_run(s, &o, &r), "%s", r.load_error ? r.load_error : r.nfail ? r.fail[0].text : "?");
    cr_assert_eq(r.requests, 30u);
    sc_free(s);
    sc_result_free(&r);
}

/* An invalidation looks at every cache slot: with 2^24 entries, a repeat of them is refused. */
Test(hostile, invalidations_cost_their_cache_scan)
{
    const char *text = "name: t\niommu:\n  iotlb: {entries: 4194304}\nsteps:\n"
                       "  - repeat:\n      count: 1000000\n      steps:\n"
                       "        - qi: {type: iotlb, granularity: global}\n";
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert_eq(s->work, 1000000u * (1 + (4194304 + 64 + 128 + 64 + 64) / 4096));
    sc_free(s);
    expect_run_error(text, NULL, "t.yaml:8:11: the scenario asks for 1025000000 units of work");
}

/* A scenario built in C skips the loader's sum: the executor counts too, and stops at the budget. */
Test(hostile, work_budget_is_enforced_while_running)
{
    const char *text = HEAD "  - repeat:\n      count: 10\n      steps:\n"
                            "        - dma: {device: nic, pasid: 1, addr: 0, size: 8K, access: read}\n";
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_not_null(s);
    s->steps[0].v[A_COUNT] = 1000000; /* as a C caller might, without updating the totals */
    struct sc_run_opts o = {.max_work = 100};
    struct sc_result r = {0};
    cr_assert_not(sc_run(s, &o, &r));
    cr_assert_eq(r.requests, 100u, "stopped at the budget, after %u requests", r.requests);
    cr_assert_eq(r.nfail, 1u);
    cr_assert(strstr(r.fail[0].text, "t.yaml:10: step 1 (dma) failed\n    work budget exhausted: more than 100 units "
                                     "of work (--max-work); the run stops here"), "got %s", r.fail[0].text);
    sc_free(s);
    sc_result_free(&r);
}

/* --timeout: the run stops between steps, within repeats and within one long DMA. */
Test(hostile, timeout_stops_a_long_run_at_its_step, .timeout = 60)
{
    const char *texts[] = {
        HEAD "  - check: {}\n  - repeat:\n      count: 10000000\n      steps:\n"
             "        - dma: {device: nic, addr: 0x1000, access: read}\n",
        HEAD "  - check: {}\n  - dma: {device: nic, addr: 0, size: 0x100000000, access: read}\n",
    };
    const char *where[] = {"t.yaml:11: step 2 (dma) failed", "t.yaml:8: step 2 (dma) failed"};
    for (unsigned k = 0; k < 2; k++) {
        struct sc_run_opts o = {.timeout = 0.2};
        struct sc_result r;
        char *all = run_text(texts[k], &o, &r);
        cr_assert(r.timed_out);
        cr_assert(strstr(all, where[k]), "got %s", all);
        cr_assert(strstr(all, "timed out: the file ran longer than 0.2 s (--timeout); the run stops here"), "got %s", all);
        cr_assert_lt(r.seconds, 20.0, "stopped soon after the deadline, not at the end");
        free(all);
        sc_result_free(&r);
    }
}

/* ---- 4: the host-memory budget ----------------------------------------------------------------- */

/* 2^24 entries in one cache and in a device TLB: about 2.8 GiB of host memory from 150 bytes. */
Test(hostile, caches_beyond_the_host_budget_are_refused_at_their_line)
{
    const char *text = "name: t\niommu:\n  pasid_cache: {entries: 16777216}\ndevices:\n"
                       "  - {name: nic, bdf: \"00:03.0\", ats: true, devtlb: {entries: 16777216}}\nsteps: []\n";
    expect_run_error(text, NULL, "t.yaml:3:16: the caches and device TLBs take ");
    expect_run_error(text, NULL, "more than the host-memory budget of 2048 MiB (--max-memory)");
    cr_assert_eq(SC_DEFAULT_MAX_HOST_BYTES, UINT64_C(2) << 30, "the default documented in docs/robustness.md");
    /* Many devices, each with a modest device TLB, add up; the largest is named. */
    char many[16384] = "name: t\ndevices:\n";
    for (unsigned i = 0; i < 64; i++) {
        size_t n = strlen(many);
        snprintf(many + n, sizeof many - n, "  - {name: d%u, bdf: \"00:%02x.%u\", ats: true, devtlb: {entries: %u}}\n",
                 i, i / 8, i % 8, i == 40 ? 1u << 20 : 1u << 18);
    }
    strcat(many, "steps: []\n");
    struct sc_run_opts o = {.max_host_bytes = UINT64_C(1) << 30};
    expect_run_error(many, &o, "t.yaml:43:5: the caches and device TLBs take ");
    expect_run_error(many, &o, "more than the host-memory budget of 1024 MiB (--max-memory)");
}

/* What the caches leave bounds simulated memory, index nodes included: sparse frames cost more. */
Test(hostile, simulated_memory_stays_within_what_the_caches_leave)
{
    struct sc_run_opts o = {.max_host_bytes = UINT64_C(8) << 20};
    expect_run_error(HEAD "  - write_mem: {addr: 0x100000, size: 16M, fill: 1}\n", &o,
                     "out of memory (ENOMEM): simulated memory reached the ");
    /* One frame every 32 MiB: each needs a 64 KiB index node, which the frame count missed. */
    char text[16384] = HEAD;
    for (unsigned i = 0; i < 200; i++) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, "  - write_mem: {addr: 0x%llx, value: 1}\n", (unsigned long long)i << 25);
    }
    expect_run_error(text, &o, "leaves beside the caches (--max-memory) during this step");
}
