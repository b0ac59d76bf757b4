/*
 * test_fuzz_cli.c: replays fuzz_cli's inputs (fuzz/fuzz_cli_input.c, linked in with the tool,
 * whose main() is renamed vtdsim_tool_main as for the fuzz target): the
 * checked-in seeds, one per command, and hand-made edge cases. Each must return 0 with no
 * sanitizer report. A finding of fuzz_cli becomes a Test here (docs/robustness.md).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fchdir in fuzz_cli_input.c */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_cli_input.h"

static void run_text(const char *name, const char *text)
{
    char why[256] = "";
    cr_assert_eq(fuzz_cli_one((const uint8_t *)text, strlen(text), why, sizeof why), 0, "%s: %s", name, why);
}

Test(fuzz_cli, seed_corpus, .timeout = 300)
{
    char dir[1024];
    const char *slash = strrchr(__FILE__, '/');
    int len = slash ? (int)(slash - __FILE__) : 1;
    snprintf(dir, sizeof dir, "%.*s/../fuzz/corpus/fuzz_cli", len, slash ? __FILE__ : ".");
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400], text[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "cannot open %s", path);
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[got] = '\0';
        run_text(path, text);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 10);
}

/* The inputs the harness skips must be skipped, not run: each would touch files outside the
 * sandbox or run for minutes if it ran (nothing here may hang the test). */
Test(fuzz_cli, skipped_inputs, .timeout = 60)
{
    run_text("a path", "trace\ngen\nnic\n--count\n4\n-o\n/tmp/x.bin");
    run_text("gen without --count", "trace\ngen\nuniform\n-o\nx.bin");
    run_text("a big number", "trace\ngen\nuniform\n--count\n100000000\n-o\nx.bin");
    run_text("a big size", "trace\ngen\nstorage\n--count\n4\n--buffer\n64g\n-o\nx.bin");
    run_text("a big list item", "trace\nsweep\nt.bin\n--csv\no.csv\n--iotlb-sizes\n32,99999999");
    cr_assert(!fc_allowed((char *[]){"vtdsim", "run", "../a.yaml", NULL}, 3));
    cr_assert(!fc_allowed((char *[]){"vtdsim", "run", "--json", "r.json", "..", NULL}, 5));
    cr_assert(fc_allowed((char *[]){"vtdsim", "run", ".", NULL}, 3));
    /* a count with a size suffix is still a count (the fuzzing campaign's timeout) */
    cr_assert(!fc_allowed((char *[]){"vtdsim", "trace", "gen", "storage", "--count", "8m", "-o", "s.csv", NULL}, 8));
    cr_assert(fc_allowed((char *[]){"vtdsim", "trace", "gen", "storage", "--count", "4k", "--req-max", "64k", NULL}, 8));
    cr_assert(!fc_allowed((char *[]){"vtdsim", "trace", "gen", "nic", "-o", "x", NULL}, 6));
    cr_assert(!fc_allowed((char *[]){"vtdsim", "-j", "0x10000", NULL}, 3));
    cr_assert(!fc_allowed((char *[]){"vtdsim", "x", "1,2,3,4,5,6,7,8", NULL}, 3));
    cr_assert(fc_allowed((char *[]){"vtdsim", "translate", "a.yaml", "--addr", "0xffffffffffff", NULL}, 5));
    cr_assert(fc_allowed((char *[]){"vtdsim", "trace", "gen", "storage", "--count", "8", "--buffer", "1g", NULL}, 8));
}

Test(fuzz_cli, edge_inputs, .timeout = 60)
{
    run_text("empty", "");
    run_text("one empty word", "\n");
    run_text("unknown command", "frobnicate");
    run_text("empty words", "run\n\n\n");
    run_text("option without value", "trace\nreplay\nt.bin\n--iotlb");
    /* An input that writes a file, then one that needs it: the second must not find it. */
    run_text("writes x.csv", "trace\nconvert\nt.bin\nx.csv");
    run_text("replays x.csv", "trace\nreplay\nx.csv");
    char over[FC_MAX_WORDS * 2 + 1];
    memset(over, '\n', sizeof over - 1);
    over[sizeof over - 1] = '\0';
    run_text("too many words", over);
}
