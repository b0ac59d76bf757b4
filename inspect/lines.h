/*
 * lines.h: the lines of a stream, read in large blocks. getline() locks the stream and scans
 * it byte by byte for every line, which cost a batch of a million requests as much as their
 * walks; here one fread fills a block and memchr finds each line's end in place.
 */
#ifndef VTDSIM_INSPECT_LINES_H
#define VTDSIM_INSPECT_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vtd_insp_lines {
    FILE *f;
    char *buf;
    size_t cap, pos, end; /* the bytes read but not yet returned are buf[pos, end) */
    bool eof;
};

/* Read `f` from where it stands. 0, or -ENOMEM. */
int vtd_insp_lines_init(struct vtd_insp_lines *l, FILE *f);
/*
 * The next line, without its '\n', in [*line, *line + *len) (it may hold NUL bytes; valid until
 * the next call). The last line needs no '\n'. 1 for a line, 0 at the end of the stream, -EIO
 * for a read error (errno says which), -ENOMEM for a line that does not fit in memory.
 */
int vtd_insp_lines_next(struct vtd_insp_lines *l, const char **line, size_t *len);
void vtd_insp_lines_fini(struct vtd_insp_lines *l);

#endif
