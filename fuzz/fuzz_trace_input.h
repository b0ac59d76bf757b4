/*
 * fuzz_trace_input.h: how fuzz_trace interprets its input, shared by the fuzz target
 * (fuzz/fuzz_trace.c) and the regression test (tests/test_fuzz_regressions.c).
 *
 * Byte 0 chooses; the rest is the trace file's bytes:
 *   bit 0     0: a binary trace ("VTDTRACE" header, 32-byte records), 1: a CSV trace
 *   bits 1-2  the replay's translation mode (auto, ss, fs, nested; trace/replay.h)
 *   bit 3     replay with the oracle on (stale translations counted)
 *   bit 4     do not replay: only read and round-trip
 * The file is read with vtrace_read (trace/trace.h) from an in-memory stream in blocks of
 * FT_BLOCK events. Every event read is written back in the other format and read again, and
 * the events that load are replayed (trace/replay.h) while their work stays small: at most
 * FT_MAX_WORK 4 KiB pages translated or mapped in all and FT_MAX_FRAMES frames of simulated
 * memory, so every input ends in milliseconds (a valid trace may ask for hours, not a bug).
 */
#ifndef VTDSIM_FUZZ_TRACE_INPUT_H
#define VTDSIM_FUZZ_TRACE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define FT_BLOCK 64
#define FT_MAX_WORK 4096u
#define FT_MAX_FRAMES 2048u

#define FT_CSV 1u
#define FT_ORACLE 8u
#define FT_NO_REPLAY 16u

/* Read, round-trip and maybe replay one input; 0, or -1 with the violated property in `why`. */
int fuzz_trace_one(const uint8_t *data, size_t size, char *why, size_t why_len);

#endif
