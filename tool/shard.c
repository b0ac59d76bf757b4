/* shard.c: parsing --shard INDEX/COUNT (see shard.h). */
#include "shard.h"

#include <stdint.h>

/* A decimal number without sign or leading blanks, up to TOOL_SHARD_MAX; where it ends in *end. */
static bool shard_number(const char *s, const char **end, unsigned *v)
{
    uint64_t x = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && x <= TOOL_SHARD_MAX)
        x = x * 10 + (uint64_t)(*p++ - '0');
    if (p == s || x > TOOL_SHARD_MAX)
        return false;
    *v = (unsigned)x;
    *end = p;
    return true;
}

bool tool_shard_parse(const char *s, struct tool_shard *sh)
{
    const char *p;
    unsigned i, n;
    if (!shard_number(s, &p, &i) || *p != '/' || !shard_number(p + 1, &p, &n) || *p)
        return false;
    if (i < 1 || i > n)
        return false;
    *sh = (struct tool_shard){.index = i, .count = n};
    return true;
}
