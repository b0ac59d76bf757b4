/*
 * check.h: the structural audit behind `vtdsim inspect check`: every structure reachable from
 * RTADDR (root, context, PASID directory and PASID entries, and every first- and second-stage
 * paging table they point at, each table read once) against the capabilities, the host address
 * width and the image's extent, and the PASID entries against each other.
 */
#ifndef VTDSIM_INSPECT_CHECK_H
#define VTDSIM_INSPECT_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "inspect/inspect.h"

enum vtd_insp_finding_kind {
    VTD_INSP_RSVD,          /* reserved bits set */
    VTD_INSP_BEYOND_HAW,    /* a pointer at or above the host address width */
    VTD_INSP_BEYOND_IMAGE,  /* a pointer to a structure the image does not hold */
    VTD_INSP_WOULD_FAULT,   /* an entry whose use faults for another reason */
    VTD_INSP_DID_TABLES,    /* PASID entries with one DID but different tables */
    VTD_INSP_SHARED_TABLE,  /* one table under PASID entries with different DIDs */
    VTD_INSP_NKINDS
};

struct vtd_insp_finding {
    enum vtd_insp_finding_kind kind;
    const char *structure;  /* "root entry", "context entry", "FS L2 entry", ... */
    uint64_t addr;          /* the entry's (or for a table, the table's) physical address */
    int fault;              /* the reason code hardware would raise on using it; 0: none */
    bool has_sid, has_pasid;
    uint16_t sid;           /* the first requester found using it */
    uint32_t pasid;
    char text[224];         /* what is wrong, in words */
};

/* A stable name for a kind ("reserved", "beyond-haw", ...). */
const char *vtd_insp_finding_kind_name(enum vtd_insp_finding_kind k);

struct vtd_insp_check_stats {
    uint64_t entries;       /* present entries examined */
    uint64_t tables;        /* paging tables read */
    uint64_t findings;
    uint64_t by_kind[VTD_INSP_NKINDS];
};

typedef int (*vtd_insp_finding_fn)(void *arg, const struct vtd_insp_finding *f);

/*
 * Audit everything; each finding goes to fn as it is found (the DID and sharing findings at
 * the end). Returns 0, fn's nonzero value, -ENOMEM, or -E2BIG when there are more PASID tables
 * than VTD_INSP_MAX_PASID_TABLES (structs.h; the findings so far were reported).
 */
int vtd_inspect_check(const struct vtd_inspect *in, vtd_insp_finding_fn fn, void *arg,
                      struct vtd_insp_check_stats *st);

#endif
