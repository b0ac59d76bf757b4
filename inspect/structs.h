/*
 * structs.h: every root, context, PASID-directory and PASID entry reachable from RTADDR, in
 * table order, told to a visitor. What `vtdsim inspect devices` prints and what the audit
 * (check.h) starts from. Entries are reported as found, faulty ones included, with the fault
 * their use would raise; a faulty entry's subtree is not followed.
 */
#ifndef VTDSIM_INSPECT_STRUCTS_H
#define VTDSIM_INSPECT_STRUCTS_H

#include <stdint.h>

#include "inspect/inspect.h"
#include "walker/context_entry.h"
#include "walker/pasid_entry.h"
#include "walker/root_entry.h"

/* One half of a root entry (VT-d 9.2): the pointer for devfn 0-127 (hi false) or 128-255. */
struct vtd_insp_root {
    uint8_t bus;
    bool hi;
    uint64_t addr;     /* of the qword */
    uint64_t val;
};

/* A present context entry and its decoding (fault 0: usable). */
struct vtd_insp_device {
    uint16_t sid;
    uint64_t addr;
    struct vtd_ctx_entry raw;
    int fault;
    struct vtd_ctx ctx;
};

/* A present PASID-directory entry. */
struct vtd_insp_pdir {
    uint32_t index;    /* PASID >> 6 */
    uint64_t addr;
    uint64_t val;
    int fault;         /* 0 or VTD_FR_PDIR_RSVD */
};

/* A present PASID entry and its decoding (fault 0: usable). */
struct vtd_insp_pasid {
    uint32_t pasid;
    uint64_t addr;
    struct vtd_pasid_entry raw;
    int fault;
    struct vtd_pasid_cfg cfg;
};

/* Any callback may be NULL; a nonzero return stops the walk and is returned. */
struct vtd_insp_visitor {
    int (*root)(void *arg, const struct vtd_insp_root *r);
    int (*device)(void *arg, const struct vtd_insp_device *d);
    int (*pdir)(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pdir *p);
    int (*pasid)(void *arg, const struct vtd_insp_device *d, const struct vtd_insp_pasid *p);
    void *arg;
};

/* Present PASID-directory entries (each a PASID table) visited at most: 16 M PASID entries.
 * Context entries and directories that share their tables can name 2^36 PASID entries from a
 * few pages. */
#define VTD_INSP_MAX_PASID_TABLES (UINT64_C(1) << 18)

/*
 * Visit every present structure. Returns 0, a visitor's nonzero value, VTD_FR_RTADDR_INVALID
 * when RTADDR cannot be used (nothing is visited then), or -E2BIG past
 * in->max_pasid_tables (default VTD_INSP_MAX_PASID_TABLES) present directory entries. Memory that cannot be read (beyond HAW, an abort
 * range) reads as not present.
 */
int vtd_inspect_structs(const struct vtd_inspect *in, const struct vtd_insp_visitor *v);

/* Root-entry, PASID-directory checks shared with the audit: 0 or the fault code. */
int vtd_insp_root_fault(const struct vtd_inspect *in, uint64_t half);
int vtd_insp_pdir_fault(const struct vtd_inspect *in, uint64_t pde);

#endif
