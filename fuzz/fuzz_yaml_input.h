/*
 * fuzz_yaml_input.h: how fuzz_yaml interprets its input, shared by the fuzz target
 * (fuzz/fuzz_yaml.c) and the regression test (tests/test_fuzz_regressions.c).
 *
 * The input is the text of a scenario file, loaded with sc_load_string (runner/scenario.h).
 * When it loads and its work is small (at most FY_MAX_WORK steps and mapped pages, counting
 * repeats; caches of at most FY_MAX_CACHE_ENTRIES entries in all), it is run with sc_run under a
 * frame limit of FY_MAX_FRAMES (4 MiB of simulated memory), so that every input ends quickly:
 * the loader's own limits (scenario.h) allow runs of minutes, which are not bugs.
 */
#ifndef VTDSIM_FUZZ_YAML_INPUT_H
#define VTDSIM_FUZZ_YAML_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define FY_MAX_WORK 4096u
#define FY_MAX_CACHE_ENTRIES 65536u
#define FY_MAX_FRAMES 1024u

/* Load (and maybe run) one input; 0, or -1 with the violated property in `why`. */
int fuzz_yaml_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
