/*
 * fuzz_cli_input.h: how fuzz_cli interprets its input, shared by the fuzz target
 * (fuzz/fuzz_cli.c) and the regression test (tests/test_fuzz_regressions.c).
 *
 * The input is a command line: words separated by newlines (at most FC_MAX_WORDS words of at
 * most FC_MAX_WORD bytes; "vtdsim" is prepended). It runs in this process through the tool's
 * own main() (tool/main.c, compiled for the target as vtdsim_tool_main), in a private working
 * directory that holds, before every input, exactly these files:
 *   a.yaml, b.yaml   two scenarios of scenarios/ (pgtt-pt, fault-first-stage; no container,
 *                    so `run -j` stays clear of the container layer's shared state)
 *   t.bin, t.csv     a 16-packet nic trace in both formats (vtrace_generate_file)
 * Everything an input writes is removed before the next one. Inputs the harness skips (returns
 * at once), so that a command only ever touches that directory and ends in well under a second:
 *   - a word containing '/', or the word ".." (every path is then a name in the working
 *     directory; `run ..` would run whatever the parent directory holds, for seconds);
 *   - a number (0x hex or decimal, or with a k, m or g suffix) above FC_MAX_NUMBER, in a word or
 *     a comma list, except the value of an option that is a size in bytes (--buffer, --req-min,
 *     --req-max, --pkt-size, --fq-size, --dma-size, --max-memory), which may reach FC_MAX_SIZE
 *     (the defaults' own scale); --addr's value is free;
 *   - `trace gen` without --count (its defaults write 10^4..10^6 events);
 *   - more than FC_MAX_COMMAS commas in all (a sweep grid of 16x16x3x16 geometries).
 * Properties: the exit status is 0, 1 or 2 (docs/cli.md); no crash, sanitizer report or leak.
 */
#ifndef VTDSIM_FUZZ_CLI_INPUT_H
#define VTDSIM_FUZZ_CLI_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_MAX_WORDS 24
#define FC_MAX_WORD 128
#define FC_MAX_NUMBER 4096u
#define FC_MAX_SIZE (1ull << 30)
#define FC_MAX_COMMAS 6

/* Run one command line; 0 (also for a skipped input), or -1 with the violated property in `why`. */
int fuzz_cli_one(const uint8_t *data, size_t size, char *why, size_t why_len);

/* Whether the harness runs this command line at all (what it skips: see above). */
bool fc_allowed(char **argv, int argc);

#endif
