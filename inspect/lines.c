/* lines.c: lines found in place in a block buffer that grows only for a line longer than it. */
#include "inspect/lines.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "walker/alloc.h"

/* One block per read: large enough that the per-read cost vanishes, small enough for the cache. */
#define LINES_BLOCK 65536u

int vtd_insp_lines_init(struct vtd_insp_lines *l, FILE *f)
{
    *l = (struct vtd_insp_lines){.f = f, .buf = vtd_malloc(LINES_BLOCK), .cap = LINES_BLOCK};
    return l->buf ? 0 : -ENOMEM;
}

/* The unread bytes moved to the front, the buffer doubled when they fill it, then one read. */
static int lines_refill(struct vtd_insp_lines *l)
{
    size_t left = l->end - l->pos;
    memmove(l->buf, l->buf + l->pos, left);
    l->pos = 0;
    l->end = left;
    if (l->end == l->cap) {
        char *b = l->cap <= SIZE_MAX / 2 ? vtd_realloc(l->buf, l->cap * 2) : NULL;
        if (!b)
            return -ENOMEM;
        l->buf = b;
        l->cap *= 2;
    }
    size_t n = fread(l->buf + l->end, 1, l->cap - l->end, l->f);
    l->end += n;
    if (n == 0) {
        if (ferror(l->f))
            return -EIO;
        l->eof = true;
    }
    return 0;
}

int vtd_insp_lines_next(struct vtd_insp_lines *l, const char **line, size_t *len)
{
    for (;;) {
        char *start = l->buf + l->pos;
        char *nl = memchr(start, '\n', l->end - l->pos);
        if (nl || (l->eof && l->pos < l->end)) {
            *line = start;
            *len = nl ? (size_t)(nl - start) : l->end - l->pos;
            l->pos = nl ? (size_t)(nl - l->buf) + 1 : l->end;
            return 1;
        }
        if (l->eof)
            return 0;
        int rc = lines_refill(l);
        if (rc)
            return rc;
    }
}

void vtd_insp_lines_fini(struct vtd_insp_lines *l)
{
    vtd_free(l->buf);
    l->buf = NULL;
}
