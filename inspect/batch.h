/*
 * batch.h: requests as text, one per line ("BB:DD.F PASID|- ADDR r|w|x"), each translated by
 * the uncached dry-run walk and answered on one line (answer.h): `inspect translate --batch`.
 */
#ifndef VTDSIM_INSPECT_BATCH_H
#define VTDSIM_INSPECT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inspect/inspect.h"

/*
 * One request line (without its newline): source-id as "bb:dd.f", PASID in decimal or 0x-hex
 * or "-" for none, address in 0x-hex or decimal, access r, w or x; fields separated by blanks.
 * Returns 0, 1 for a line with nothing to do (blank, or a comment from '#'), or -EINVAL with
 * *col (1-based) and *why naming the bad field.
 */
int vtd_insp_parse_request(const char *line, size_t len, struct vtd_request *req, unsigned *col, const char **why);

struct vtd_insp_batch_stats {
    uint64_t requests, faults;
};

/*
 * Translate every request line of `in_f` and write each answer to `out_f`. A bad line stops
 * the batch with -EINVAL and "NAME:LINE:COLUMN: reason" in err; a read or write error is -EIO.
 */
int vtd_inspect_batch(const struct vtd_inspect *in, FILE *in_f, const char *name, FILE *out_f, bool json,
                      struct vtd_insp_batch_stats *st, char *err, size_t errlen);

#endif
