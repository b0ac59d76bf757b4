/*
 * shard.h: `--shard INDEX/COUNT`, the slice of a run or sweep that one machine takes: of the
 * items the whole run would take in order (scenario files, sweep points), item k (0-based) belongs
 * to shard k % COUNT + 1. Dealt round-robin, so neighbouring items (often alike in cost) go to
 * different machines. `vtdsim merge` joins the shards' outputs into what the whole run writes.
 */
#ifndef VTDSIM_TOOL_SHARD_H
#define VTDSIM_TOOL_SHARD_H

#include <stdbool.h>

#define TOOL_SHARD_MAX 100000u

struct tool_shard {
    unsigned index, count; /* 1 <= index <= count; count 0: no --shard, every item */
};

/* "I/N" with 1 <= I <= N <= TOOL_SHARD_MAX, decimal; false on anything else. */
bool tool_shard_parse(const char *s, struct tool_shard *sh);
/* Whether item k (0-based) belongs to the shard. */
static inline bool tool_shard_takes(const struct tool_shard *sh, unsigned long k)
{
    return !sh->count || k % sh->count == sh->index - 1;
}

#endif
