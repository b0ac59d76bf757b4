/* explain_print.c: a walk's trace, each structure with its decoded fields (walker/explain.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "walker/explain.h"

void tool_explain_trace(struct vtd_mem *m, const struct vtd_trace *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        printf("  %-5s %-9s", r->write ? "A/D" : "read", vtd_trace_kind_name(r->kind));
        printf(r->level ? " L%u" : "   ", r->level);
        printf(" %s@0x%012" PRIx64 " = 0x%016" PRIx64 "\n%33s", r->for_fs ? "(for FS) " : "", r->addr, r->val, "");
        char text[320];
        vtd_explain_entry(m, r, text, sizeof text);
        /* A second line of fields (the PASID entry's first stage) is indented like the first. */
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = 0;
        printf("%s\n", text);
        if (nl)
            printf("%33s%s\n", "", nl + 1);
    }
    if (!t->n)
        printf("  (no structure read: a cache answered)\n");
    if (t->dropped)
        printf("  ... %u more records\n", t->dropped);
}
