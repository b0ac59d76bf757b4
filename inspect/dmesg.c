/*
 * dmesg.c: the DMAR unit lines of a kernel log. The format is dmar.c's pr_info in alloc_iommu()
 * ("%s: reg_base_addr %llx ver %d:%d cap %llx ecap %llx") under the "DMAR: " prefix, and the
 * host address width from parse_dmar_table() ("Host address width %d").
 */
#define _POSIX_C_SOURCE 200809L
#include "inspect/dmesg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The unit's name: the word before ": reg_base_addr", or "dmarN" for the old "IOMMU N:". */
static void unit_name(const char *line, const char *colon, char *name, size_t n)
{
    const char *w = colon;
    while (w > line && w[-1] != ' ' && w[-1] != '\t' && w[-1] != ']')
        w--;
    size_t len = (size_t)(colon - w);
    bool old = w - line >= 6 && !strncmp(w - 6, "IOMMU ", 6);
    snprintf(name, n, "%s%.*s", old ? "dmar" : "", (int)len, w);
}

int vtd_insp_dmesg_line(const char *line, struct vtd_insp_dmar *u, unsigned *haw)
{
    const char *h = strstr(line, "DMAR: Host address width ");
    if (h) {
        unsigned w;
        if (sscanf(h + strlen("DMAR: Host address width "), "%u", &w) == 1 && w >= 12 && w <= 64)
            *haw = w;
        return 0;
    }
    const char *r = strstr(line, ": reg_base_addr ");
    if (!r || r == line)
        return 0;
    *u = (struct vtd_insp_dmar){0};
    if (sscanf(r + strlen(": reg_base_addr "), "%" SCNx64 " ver %u:%u cap %" SCNx64 " ecap %" SCNx64, &u->reg_base,
               &u->ver_major, &u->ver_minor, &u->cap, &u->ecap) != 5)
        return 0;
    unit_name(line, r, u->name, sizeof u->name);
    return 1;
}

int vtd_insp_dmesg_read(FILE *f, struct vtd_insp_dmesg *out)
{
    char *line = NULL;
    size_t cap = 0;
    *out = (struct vtd_insp_dmesg){0};
    for (unsigned long no = 1; getline(&line, &cap, f) >= 0; no++) {
        struct vtd_insp_dmar u;
        if (vtd_insp_dmesg_line(line, &u, &out->haw) && out->n < VTD_INSP_DMAR_MAX) {
            u.line = no;
            out->unit[out->n++] = u;
        }
    }
    free(line);
    return ferror(f) ? -EIO : 0;
}

const struct vtd_insp_dmar *vtd_insp_dmesg_find(const struct vtd_insp_dmesg *d, const char *name)
{
    for (unsigned i = 0; i < d->n; i++)
        if (!strcmp(d->unit[i].name, name))
            return &d->unit[i];
    return NULL;
}
