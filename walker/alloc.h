/*
 * alloc.h: the project's allocation functions, with fail_nth-style fault injection.
 *
 * Every heap allocation in walker/, sim/ and runner/ goes through these, so that a test can
 * make the Nth allocation fail (as Linux's /proc/<pid>/fail-nth does for a task) and check that
 * each failure ends in a clean error with nothing leaked (issue 8). The injection state is
 * per thread, so parallel tests do not disturb each other; with no injection armed the cost is
 * one thread-local increment per allocation.
 */
#ifndef VTDSIM_WALKER_ALLOC_H
#define VTDSIM_WALKER_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *vtd_malloc(size_t size);
void *vtd_calloc(size_t n, size_t size);
void *vtd_realloc(void *p, size_t size);
char *vtd_strdup(const char *s);
void vtd_free(void *p);
/*
 * Make room for element `n` of a growable array of `elem`-byte elements: when n reaches the
 * capacity `*cap`, the array doubles (8 at first). False, with the array unchanged, when the
 * allocation fails or the size would overflow.
 */
bool vtd_grow_array(void **arr, unsigned *cap, unsigned n, size_t elem);

/*
 * Arm the injection: counting from this call, allocation number `nth` (1-based) fails and
 * every other one succeeds. 0 disarms it. Also resets vtd_alloc_count().
 */
void vtd_alloc_fail_nth(uint64_t nth);
/* Allocations attempted on this thread since the last vtd_alloc_fail_nth(). */
uint64_t vtd_alloc_count(void);
/* Whether the armed failure has been delivered (the run reached allocation `nth`). */
bool vtd_alloc_fault_delivered(void);
/*
 * Blocks allocated and not yet freed through these functions on this thread (a leak check for
 * tests: compare before and after a run that frees everything; memory freed on another thread,
 * or by plain free(), makes the count meaningless).
 */
int64_t vtd_alloc_live(void);

#endif
