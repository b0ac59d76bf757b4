/* trace_internal.h: what the trace/ sources share beyond trace.h (binary header, reserved bits). */
#ifndef VTDSIM_TRACE_INTERNAL_H
#define VTDSIM_TRACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/* The record's reserved u16 (must be zero). */
uint16_t vtrace_record_reserved(const uint8_t rec[VTRACE_RECORD_SIZE]);
void vtrace_header_encode(uint64_t count, uint8_t h[VTRACE_HEADER_SIZE]);
/* 0 with *count, or -1 with the reason (magic, version, record size, reserved fields). */
int vtrace_header_decode(const uint8_t h[VTRACE_HEADER_SIZE], uint64_t *count, char *why, size_t len);

#endif
