/*
 * report.c: the oracle's findings (stale translations, lost dirty bits, ordering warnings), each
 * printed to stderr as it happens and kept for the report file, which is written aside and
 * renamed into place (walker/outfile.h) after every finding and at the end, so that a program
 * that dies still leaves the findings it had. With the fatal option the first finding ends the
 * process with VTD_PRELOAD_FATAL_STATUS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/internal.h"
#include "walker/alloc.h"
#include "walker/outfile.h"

void pl_report_write(struct vtd_preload *p)
{
    if (!p->report_path)
        return;
    struct vtd_outfile out;
    const char *inputs[] = { p->machine_path };
    if (vtd_outfile_open(&out, p->report_path, inputs, 1)) {
        fprintf(stderr, "vtdsim-preload: %s\n", out.err);
        return;
    }
    fprintf(out.f, "# vtdsim preload report: %s, %u finding%s\n", p->machine_path, p->nfinding,
            p->nfinding == 1 ? "" : "s");
    for (unsigned i = 0; i < p->nfinding; i++)
        fprintf(out.f, "%s\n", p->finding[i]);
    if (vtd_outfile_commit(&out))
        fprintf(stderr, "vtdsim-preload: %s\n", out.err);
}

void pl_finding(struct vtd_preload *p, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vtdsim-preload: %s\n", text);
    char **q = vtd_realloc(p->finding, (p->nfinding + 1) * sizeof *q);
    size_t n = strlen(text) + 1;
    char *copy = vtd_malloc(n);
    if (q)
        p->finding = q;
    if (q && copy) {
        memcpy(copy, text, n);
        p->finding[p->nfinding++] = copy;
    } else {
        vtd_free(copy);
    }
    pl_report_write(p);
    if (p->o.fatal) {
        fprintf(stderr, "vtdsim-preload: stopping at the first finding (VTDSIM_FATAL)\n");
        fflush(NULL);
        _Exit(VTD_PRELOAD_FATAL_STATUS);
    }
}

/* Ordering warnings the model raised since the last look (sim/iommu.h). */
void pl_check_warnings(struct vtd_preload *p)
{
    uint64_t n = vtd_iommu_warning_count(p->io);
    for (; p->warnings_seen < n; p->warnings_seen++) {
        const char *w = vtd_iommu_warning(p->io, p->warnings_seen);
        pl_finding(p, "ordering: %s (call %llu)", w ? w : "(no longer kept)", (unsigned long long)p->calls);
    }
}
