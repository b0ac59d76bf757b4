/*
 * addrset.h: a set of 64-bit keys (table addresses with their level and format in the low,
 * always-zero bits), so that the audit reads a table shared by many address spaces once.
 */
#ifndef VTDSIM_INSPECT_ADDRSET_H
#define VTDSIM_INSPECT_ADDRSET_H

#include <stddef.h>
#include <stdint.h>

struct vtd_insp_addrset {
    uint64_t *slot;   /* key + 1; 0: empty */
    size_t cap, n;
};

/* 1 if the key was added, 0 if it was there already, -ENOMEM. */
int vtd_insp_addrset_add(struct vtd_insp_addrset *s, uint64_t key);
void vtd_insp_addrset_free(struct vtd_insp_addrset *s);

#endif
