/*
 * key_index.h: a table from 64-bit keys to small numbers (an index into the owner's array), for
 * finding a replay's devices and address spaces in constant time however many there are.
 * Open addressing with linear probing, grown to keep it at most half full; no removal (a
 * replay never forgets a device or a space). Not a public interface.
 */
#ifndef VTDSIM_TRACE_KEY_INDEX_H
#define VTDSIM_TRACE_KEY_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtrace_key_index {
    uint64_t *keys;
    uint32_t *vals;  /* value + 1; 0 marks an empty slot */
    size_t cap, n;   /* cap: a power of two, or 0 */
};

/* The value stored under `key`, or -1 when there is none. */
int64_t vtrace_key_index_find(const struct vtrace_key_index *ix, uint64_t key);
/* Store `val` (below UINT32_MAX) under `key`, which must not be there yet; false when out of memory. */
bool vtrace_key_index_add(struct vtrace_key_index *ix, uint64_t key, uint32_t val);
/* Host bytes one more key may take (the table doubles at half full: two slots a key at most, four
 * while the doubled copy is made). */
#define VTRACE_KEY_INDEX_BYTES_PER_KEY (2 * (sizeof(uint64_t) + sizeof(uint32_t)))
void vtrace_key_index_free(struct vtrace_key_index *ix);

#endif
