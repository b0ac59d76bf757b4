/*
 * xorshift.h: the tests' small deterministic generator, Marsaglia's xorshift64 (shifts 13, 7,
 * 17): the caller keeps the state, which must not be 0, so each test's sequence is its own and
 * repeats from its seed.
 */
#ifndef VTDSIM_TESTS_XORSHIFT_H
#define VTDSIM_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
