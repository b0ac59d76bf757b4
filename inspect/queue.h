/*
 * queue.h: the descriptors pending in an invalidation queue (VT-d 6.5.2): those from the head
 * (IQH) up to the tail (IQT) in the queue IQA describes, decoded with sim/qi_desc.h's describer.
 */
#ifndef VTDSIM_INSPECT_QUEUE_H
#define VTDSIM_INSPECT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "walker/mem.h"

struct vtd_insp_desc {
    uint64_t offset;     /* byte offset in the queue (what IQH would hold while it is processed) */
    uint64_t addr;       /* physical address */
    uint64_t qw[4];
    unsigned nqw;        /* 2 (128-bit) or 4 (256-bit, IQA.DW) */
    char text[160];      /* vtd_qi_describe()'s description */
};

typedef int (*vtd_insp_desc_fn)(void *arg, const struct vtd_insp_desc *d);

/*
 * Describe each pending descriptor. Returns 0, fn's nonzero value, or -EINVAL with `why` set
 * (a head or tail beyond the queue or not on a descriptor boundary, as hardware would refuse
 * it with IQE) or -EFAULT (a descriptor that cannot be read).
 */
int vtd_inspect_queue(struct vtd_mem *m, uint64_t iqa, uint64_t iqh, uint64_t iqt, vtd_insp_desc_fn fn, void *arg,
                      char *why, size_t whylen);

#endif
