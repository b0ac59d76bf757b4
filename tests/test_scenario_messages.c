/*
 * test_scenario_messages.c: messages say the real reason (issue 13): the pin limit is not "out of
 * memory", E2BIG is explained in words, a too-large file reports its size, the node limit does
 * not stop a realistic file before the step limit; and text from input is escaped for a terminal,
 * JSON and XML (runner/text.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"
#include "runner/text.h"

/* Run a scenario that loads and must fail; its failure texts, joined (caller frees). */
static char *failure_text(const char *text, struct sc_result *r)
{
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
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

Test(messages, pin_limit_is_not_called_out_of_memory, .timeout = 30)
{
    struct sc_result r;
    char *all = failure_text("name: t\ncontainer: {}\nsteps:\n"
                             "  - map_dma: {iova: 0x0, vaddr: 0x40000000, size: 3G, perm: rw}\n"
                             "  - map_dma: {iova: 0x100000000, vaddr: 0x40000000, size: 2G, perm: rw}\n",
                             &r);
    cr_assert(strstr(all, "pin more than its limit of 2^20 pages") != NULL, "got: %s", all);
    cr_assert(strstr(all, "simulated memory") == NULL, "got: %s", all);
    cr_assert_not(r.out_of_memory);
    free(all);
    sc_result_free(&r);
}

Test(messages, e2big_is_explained_in_words, .timeout = 20)
{
    struct sc_result r;
    char *all = failure_text("name: t\ntables:\n  - {name: fs, format: fs}\nsteps:\n"
                             "  - map: {table: fs, va: 0, pa: 0, size: 0x40000000000, perm: rw, page: 4K}\n",
                             &r);
    cr_assert(strstr(all, "more than 2^20 leaves") != NULL, "got: %s", all);
    cr_assert(strstr(all, "Argument list too long") == NULL, "got: %s", all);
    free(all);
    sc_result_free(&r);
}

Test(messages, too_large_file_reports_its_size)
{
    char path[] = "/tmp/vtdsim-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 5 << 20), 0); /* 5 MiB of zeros */
    close(fd);
    struct sc_error err;
    struct scenario *s = sc_load_file(path, &err);
    unlink(path);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "file too large (5242880 bytes; at most 4194304)") != NULL, "got: %s", err.msg);
}

/* The step limit, not the node limit, stops a file of realistic steps (each of these 23 nodes). */
Test(messages, node_limit_allows_the_step_limit, .timeout = 60)
{
    static const char step[] = "  - dma: {device: nic, pasid: 1, addr: 0x1000, size: 8, access: write, priv: false, "
                               "expect: {out: 0x2000, source: iotlb, stale: false}}\n";
    const char head[] = "name: t\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\nsteps:\n";
    size_t len = sizeof(head) + (size_t)(SC_MAX_STEPS + 1) * (sizeof(step) - 1);
    char *text = malloc(len);
    cr_assert_not_null(text);
    char *p = text + sprintf(text, "%s", head);
    for (unsigned i = 0; i < SC_MAX_STEPS; i++)
        p += sprintf(p, "%s", step);
    cr_assert_leq((size_t)(p - text), SC_MAX_FILE_BYTES);
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, (size_t)(p - text), &err);
    cr_assert_not_null(s, "%u:%u: %s", err.line, err.col, err.msg);
    cr_assert_eq(s->nsteps, SC_MAX_STEPS);
    sc_free(s);
    /* One more step: the step limit says so. */
    p += sprintf(p, "%s", step);
    s = sc_load_string("t.yaml", text, (size_t)(p - text), &err);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "document too large") == NULL, "got: %s", err.msg);
    free(text);
}

static const char *escaped(void (*fn)(FILE *, const char *), const char *s)
{
    static char out[512];
    FILE *f = fmemopen(out, sizeof(out), "w");
    fn(f, s);
    fclose(f);
    return out;
}

/* ESC, BEL, C1 CSI, a lone 0xff, an overlong '/', U+FFFE, CR, a quote, and valid UTF-8 (é). */
static const char hostile[] = "a\x1b[2J\x07\xc2\x9b\xff\xc0\xaf\xef\xbf\xbe\r\"\xc3\xa9\n";

Test(messages, terminal_text_has_no_raw_controls)
{
    cr_assert_str_eq(escaped(sc_text_terminal, hostile), "a\\x1b[2J\\x07\\u009b\\xff\\xc0\\xaf\xef\xbf\xbe\\x0d\"\xc3\xa9\n");
}

Test(messages, json_text_is_valid_json)
{
    cr_assert_str_eq(escaped(sc_text_json, hostile),
                     "\"a\\u001b[2J\\u0007\\u009b\\\\xff\\\\xc0\\\\xaf\xef\xbf\xbe\\u000d\\\"\xc3\xa9\\n\"");
}

Test(messages, xml_text_has_only_xml_characters)
{
    cr_assert_str_eq(escaped(sc_text_xml, hostile), "a\\x1b[2J\\x07\xc2\x9b\\xff\\xc0\\xaf\\ufffe&#xD;&quot;\xc3\xa9\n");
}
