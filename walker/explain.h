/*
 * explain.h: one translation structure as text, field by field: what `vtdsim translate
 * --explain` and other reports print beside each structure a walk read. One decoder per
 * structure kind (root, context, PASID directory and PASID entries, first- and second-stage
 * paging entries), each naming the fields as the VT-d specification does (9.1-9.9).
 */
#ifndef VTDSIM_WALKER_EXPLAIN_H
#define VTDSIM_WALKER_EXPLAIN_H

#include <stddef.h>

#include "walker/mem.h"
#include "walker/walk.h"

/*
 * The fields of the structure the trace record `r` read, written to buf (at most n bytes, NUL
 * terminated). Context and PASID entries are read again from `m` whole (the record holds their
 * first qword only); the PASID entry's first- and second-stage fields are on two lines (one
 * '\n'). Returns the length the text has, as snprintf does; 0 for an unknown kind.
 */
int vtd_explain_entry(struct vtd_mem *m, const struct vtd_trace_rec *r, char *buf, size_t n);

#endif
