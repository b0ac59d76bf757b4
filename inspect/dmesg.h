/*
 * dmesg.h: the IOMMU registers as Linux logs them at boot (drivers/iommu/intel/dmar.c):
 *   DMAR: Host address width 46
 *   DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap 1c0000c40660462 ecap 19e2ff0505e
 * (kernels before 4.x wrote "IOMMU 0:" where newer ones write "dmar0:"). Any prefix before the
 * text (timestamps, syslog fields) is allowed.
 */
#ifndef VTDSIM_INSPECT_DMESG_H
#define VTDSIM_INSPECT_DMESG_H

#include <stdint.h>
#include <stdio.h>

struct vtd_insp_dmar {
    char name[24];          /* "dmar0" */
    uint64_t reg_base, cap, ecap;
    unsigned ver_major, ver_minor;
    unsigned long line;     /* line number in the log */
};

#define VTD_INSP_DMAR_MAX 64

struct vtd_insp_dmesg {
    struct vtd_insp_dmar unit[VTD_INSP_DMAR_MAX];
    unsigned n;             /* units found (the first VTD_INSP_DMAR_MAX) */
    unsigned haw;           /* from "Host address width", 0 if absent */
};

/* Read a whole log. Returns 0 (n may be 0: no DMAR line) or -EIO on a read error. */
int vtd_insp_dmesg_read(FILE *f, struct vtd_insp_dmesg *out);
/* One line: 1 and *u filled if it is a DMAR unit line, 0 otherwise; *haw set by a width line. */
int vtd_insp_dmesg_line(const char *line, struct vtd_insp_dmar *u, unsigned *haw);
/* The unit of that name ("dmar1"), or NULL. */
const struct vtd_insp_dmar *vtd_insp_dmesg_find(const struct vtd_insp_dmesg *d, const char *name);

#endif
