/*
 * cpu_lines.h: the dirty lines of the CPU's write-back cache that mem.c keeps in front of
 * simulated memory (mem.h, "The CPU's write-back cache"): 64-byte lines by address, in an
 * open-addressing table with linear probing. Not installed.
 */
#ifndef VTDSIM_WALKER_CPU_LINES_H
#define VTDSIM_WALKER_CPU_LINES_H

#include <stddef.h>
#include <stdint.h>

#define CPU_LINE_SIZE 64u
#define CPU_LINE_MASK (~(uint64_t)(CPU_LINE_SIZE - 1))

struct cpu_line {
    uint64_t key;                   /* line address + 1; 0: an empty slot */
    uint8_t data[CPU_LINE_SIZE];
};

struct cpu_lines {
    struct cpu_line *slot;
    size_t cap, n;                  /* cap: 0 or a power of two */
};

/* The bytes of the dirty line at `line` (64-byte aligned), or NULL. */
uint8_t *cpu_lines_find(const struct cpu_lines *c, uint64_t line);
/* A new dirty line at `line` (not present yet), its bytes uninitialised; NULL when out of memory. */
uint8_t *cpu_lines_add(struct cpu_lines *c, uint64_t line);
void cpu_lines_remove(struct cpu_lines *c, uint64_t line);
/* Forget every line, keeping the table; cpu_lines_free releases it. */
void cpu_lines_clear(struct cpu_lines *c);
void cpu_lines_free(struct cpu_lines *c);

#endif
