/*
 * answer.h: one request and the walk's answer as one line of text or one JSON object: what
 * `vtdsim inspect translate` prints, for a single request and for each line of a batch.
 *
 *   text: 00:03.0 1 0x4000 w -> out 0xb000 page 4K perm rwu
 *         00:03.0 - 0x9000 r -> fault 0x71 FS_PAGING_ENTRY_P
 *   JSON: {"sid": "00:03.0", "pasid": 1, "addr": "0x4000", "access": "w", "out": "0xb000",
 *          "page_size": 4096, "perm": "rwu", "leaf_entry": "0x8f020", "fault": null}
 * leaf_entry: the address of the paging entry that gave the output (the second stage's when
 * there is one), null for pass-through.
 * Addresses are hexadecimal strings in JSON (64-bit values exceed a JSON reader's doubles).
 */
#ifndef VTDSIM_INSPECT_ANSWER_H
#define VTDSIM_INSPECT_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "walker/walk.h"

/* The answer to `req` (rc: vtd_translate's return, x its result) in buf; returns the length
 * (at most n - 1; 256 bytes always suffice). A newline ends it. */
size_t vtd_insp_format_answer(char *buf, size_t n, const struct vtd_request *req, int rc, const struct vtd_xlate *x,
                              bool json);

/* "rwxu"-style letters of VTD_PERM_* bits ("none" for none); buf holds at least 8 bytes. */
const char *vtd_insp_perm_letters(unsigned perm, char buf[8]);
/* "4K", "2M", "1G" (or the size in bytes for any other shift); buf holds at least 24 bytes. */
const char *vtd_insp_page_name(unsigned shift, char buf[24]);

#endif
