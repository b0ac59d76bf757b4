/*
 * test_scenario_ir.c: the interrupt-remapping steps (irt, irte, interrupt) and their
 * expectations: errors at load with line:column and the reason, errors while running with the
 * errno, and failed expectations that say what was expected and what came.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load_error_fixture.h"
#include "runner/runner.h"

#define HEAD "name: t\ndescription: t\niommu: {caps: {ir: true}}\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n"

Test(scenario_ir, load_errors)
{
    expect_load_error(HEAD "  - dma: {device: nic, addr: 0xfee00010, access: write}\n",
                      "7:30: a write without PASID to 0xFEEx_xxxx is an interrupt request");
    /* With PASID, or a read, it is a DMA. */
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, pasid: 1, addr: 0xfee00010, access: write}\n"), "(loaded)");
    cr_assert_str_eq(load_error(HEAD "  - dma: {device: nic, addr: 0xfee00010, access: read}\n"), "(loaded)");
    expect_load_error(HEAD "  - irt: {addr: 0x80800}\n", "7:17: 'addr' must be 4 KiB aligned (IRTA_REG)");
    expect_load_error(HEAD "  - irt: {addr: 0x80000, entries: 96}\n", "7:35: 'entries' must be a power of two");
    expect_load_error(HEAD "  - irt: {addr: 0x80000, entries: 1}\n", "'entries' out of range");
    expect_load_error(HEAD "  - irte: {index: 1, device: nic, sid: \"00:04.0\"}\n",
                      "give one of 'device', 'sid' or 'sid_value'");
    expect_load_error(HEAD "  - irte: {index: 1, posted: true, pda: 0x1010}\n", "'pda' must be 64-byte aligned");
    expect_load_error(HEAD "  - irte: {index: 1, svt: all}\n", "'svt' must be one of: none, sid, bus");
    expect_load_error(HEAD "  - interrupt: {device: nic, addr: 0xfee00010, data: 0x100000000}\n", "'data' out of range");
    expect_load_error(HEAD "  - dma: {device: nic, addr: 0x1000, access: read, expect: {vector: 3}}\n",
                      "expectation 'vector' applies to interrupt steps only");
    expect_load_error(HEAD "  - interrupt: {device: nic, addr: 0xfee00010, expect: {out: 3}}\n",
                      "expectation 'out' applies to dma steps only");
    expect_load_error(HEAD "  - interrupt: {device: nic, addr: 0xfee00010, expect: {delivery: fast}}\n",
                      "'delivery' must be one of: fixed, lowest, smi, nmi, init, extint");
}

/* Run a scenario text; the failure text of its first failure (or "" when it passed). */
static const char *run_text(const char *text, struct sc_result *r)
{
    char path[] = "/tmp/vtdsim-ir-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    struct sc_run_opts o = {0};
    sc_run_file(path, &o, r);
    unlink(path);
    return r->nfail ? r->fail[0].text : "";
}

Test(scenario_ir, run_errors_and_misses)
{
    struct sc_result r;
    /* An irte before any table, an irt without ECAP.IR, an index beyond the table. */
    const char *t = run_text(HEAD "  - irte: {index: 1}\n", &r);
    cr_assert(strstr(t, "no interrupt-remapping table") && strstr(t, "ENODEV"), "got: %s", t);
    sc_result_free(&r);
    t = run_text("name: t\ndescription: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n"
                 "  - irt: {addr: 0x80000}\n", &r);
    cr_assert(strstr(t, "caps ir: true"), "got: %s", t);
    sc_result_free(&r);
    t = run_text(HEAD "  - irt: {addr: 0x80000, entries: 4}\n  - irte: {index: 4}\n", &r);
    cr_assert(strstr(t, "index beyond the table") && strstr(t, "ERANGE"), "got: %s", t);
    sc_result_free(&r);
    t = run_text(HEAD "  - interrupt: {device: nic, addr: 0xfef00000}\n", &r);
    cr_assert(strstr(t, "not in the interrupt range") && strstr(t, "EINVAL"), "got: %s", t);
    sc_result_free(&r);
    /* A miss names what was expected and what came. */
    t = run_text(HEAD "  - irt: {addr: 0x80000}\n  - irte: {index: 1, vector: 0x30, device: nic}\n"
                      "  - interrupt: {device: nic, addr: 0xfee00030, expect: {vector: 0x31, destination: 0}}\n"
                      "  - interrupt: {device: nic, addr: 0xfee00050, expect: {vector: 0x31}}\n", &r);
    cr_assert(strstr(t, "expected vector 0x31, got 0x30"), "got: %s", t);
    cr_assert_eq(r.nfail, 2);
    cr_assert(strstr(r.fail[1].text, "expected no fault, got IR_ENTRY_P"), "got: %s", r.fail[1].text);
    sc_result_free(&r);
    /* An unexpected stale answer fails; expected, it passes. */
    t = run_text(HEAD "  - irt: {addr: 0x80000}\n  - irte: {index: 1, vector: 0x30, device: nic}\n"
                      "  - interrupt: {device: nic, addr: 0xfee00030}\n"
                      "  - irte: {index: 1, vector: 0x40, device: nic}\n"
                      "  - interrupt: {device: nic, addr: 0xfee00030, expect: {vector: 0x30}}\n", &r);
    cr_assert(strstr(t, "expected no stale interrupt, got stale (fix: IEC index-selective IIDX 1 IM 0)"), "got: %s", t);
    sc_result_free(&r);
    t = run_text(HEAD "  - irt: {addr: 0x80000}\n  - interrupt: {device: nic, addr: 0xfee00030, expect: {fault: any}}\n"
                      "  - interrupt: {device: nic, addr: 0xfee00030, expect: {fault: any, source: iec}}\n", &r);
    cr_assert(strstr(t, "expected source iec, got walk"), "got: %s", t);
    sc_result_free(&r);
}
