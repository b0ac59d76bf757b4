/* cpu_lines.c: the CPU cache's dirty lines by address (cpu_lines.h). */
#include "walker/cpu_lines.h"

#include <stdbool.h>
#include <string.h>

#include "walker/alloc.h"

static size_t line_home(const struct cpu_lines *c, uint64_t line)
{
    uint64_t h = (line >> 6) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 20) & (c->cap - 1);
}

/* The slot holding `line`, or the empty slot where it would go. */
static size_t line_slot(const struct cpu_lines *c, uint64_t line)
{
    size_t i = line_home(c, line);
    while (c->slot[i].key && c->slot[i].key != line + 1)
        i = (i + 1) & (c->cap - 1);
    return i;
}

uint8_t *cpu_lines_find(const struct cpu_lines *c, uint64_t line)
{
    if (!c->n)
        return NULL;
    size_t i = line_slot(c, line);
    return c->slot[i].key ? c->slot[i].data : NULL;
}

/* Twice the room, every line moved over; false when out of memory. */
static bool lines_grow(struct cpu_lines *c)
{
    size_t cap = c->cap ? 2 * c->cap : 64;
    struct cpu_lines bigger = {.slot = vtd_calloc(cap, sizeof(struct cpu_line)), .cap = cap};
    if (!bigger.slot)
        return false;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].key)
            bigger.slot[line_slot(&bigger, c->slot[i].key - 1)] = c->slot[i];
    bigger.n = c->n;
    vtd_free(c->slot);
    *c = bigger;
    return true;
}

uint8_t *cpu_lines_add(struct cpu_lines *c, uint64_t line)
{
    /* At most half full, so that probes stay short. */
    if (2 * (c->n + 1) > c->cap && !lines_grow(c))
        return NULL;
    size_t i = line_slot(c, line);
    c->slot[i].key = line + 1;
    c->n++;
    return c->slot[i].data;
}

/* Backward-shift deletion: later lines of the same probe run move up into the hole. */
void cpu_lines_remove(struct cpu_lines *c, uint64_t line)
{
    if (!c->n)
        return;
    size_t hole = line_slot(c, line);
    if (!c->slot[hole].key)
        return;
    c->slot[hole].key = 0;
    c->n--;
    for (size_t i = (hole + 1) & (c->cap - 1); c->slot[i].key; i = (i + 1) & (c->cap - 1)) {
        size_t home = line_home(c, c->slot[i].key - 1);
        /* The line may fill the hole if its home is not in (hole, i] cyclically. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays)
            continue;
        c->slot[hole] = c->slot[i];
        c->slot[i].key = 0;
        hole = i;
    }
}

void cpu_lines_clear(struct cpu_lines *c)
{
    if (c->slot)
        memset(c->slot, 0, c->cap * sizeof *c->slot);
    c->n = 0;
}

void cpu_lines_free(struct cpu_lines *c)
{
    vtd_free(c->slot);
    *c = (struct cpu_lines){0};
}
