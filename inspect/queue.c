/* queue.c: the pending part of an invalidation queue, read from memory and described. */
#include "inspect/queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "sim/qi_desc.h"
#include "sim/regs.h"

int vtd_inspect_queue(struct vtd_mem *m, uint64_t iqa, uint64_t iqh, uint64_t iqt, vtd_insp_desc_fn fn, void *arg,
                      char *why, size_t whylen)
{
    /* IQA.DW selects 256-bit descriptors; QS sizes the queue at 2^QS 4 KiB pages (VT-d 11.4.9.3). */
    unsigned nqw = iqa & VTD_IQA_DW ? 4 : 2, bytes = 8 * nqw;
    uint64_t base = iqa & VTD_IQA_IQA, size = VTD_PAGE_SIZE << vtd_field(iqa, VTD_IQA_QS);
    uint64_t head = iqh & VTD_IQH_QH, tail = iqt & VTD_IQT_QT;
    if (head >= size || tail >= size || (head | tail) & (bytes - 1)) {
        snprintf(why, whylen, "IQH 0x%" PRIx64 " or IQT 0x%" PRIx64 " is beyond the %" PRIu64 "-byte queue or not on "
                 "a %u-byte descriptor boundary (hardware reports an invalidation queue error)", head, tail, size, bytes);
        return -EINVAL;
    }
    for (uint64_t off = head; off != tail; off = (off + bytes) % size) {
        struct vtd_insp_desc d = {.offset = off, .addr = base + off, .nqw = nqw};
        if (vtd_mem_read(m, d.addr, d.qw, bytes)) {
            snprintf(why, whylen, "the descriptor at 0x%" PRIx64 " cannot be read", d.addr);
            return -EFAULT;
        }
        vtd_qi_describe(d.qw, nqw, d.text, sizeof d.text);
        int rc = fn(arg, &d);
        if (rc)
            return rc;
    }
    return 0;
}
