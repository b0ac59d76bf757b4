/*
 * walk.h: the scalable-mode translation walk (VT-d chapter 3 and 9), without any caching.
 *
 * One DMA request in, one translation or one fault out, with a record of every structure read
 * and every A/D write. Legacy mode (TTM 00b) has a device stage of its own
 * (vtd_legacy_ctx_fetch) and then the same second-stage walk. The stages are separate functions so that sim/ can put a cache in front
 * of each while composing the very same functions its uncached oracle uses:
 *
 *   vtd_ctx_fetch()    root entry -> scalable-mode context entry
 *   vtd_pasid_fetch()  PASID directory entry -> PASID table entry
 *   vtd_fs_walk_from() first stage from any level (nested: table addresses through the second stage)
 *   vtd_ss_walk_from() second stage from any level
 *   vtd_translate()    all of them, in order, for one request
 *
 * Pure: no globals, no caches; all state is in the environment and the memory it points to.
 */
#ifndef VTDSIM_WALKER_WALK_H
#define VTDSIM_WALKER_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "walker/caps.h"
#include "walker/context_entry.h"
#include "walker/fault.h"
#include "walker/irte.h"
#include "walker/mem.h"
#include "walker/pasid_entry.h"

/* Access a request asks for. */
#define VTD_ACC_R 1u
#define VTD_ACC_W 2u
#define VTD_ACC_X 4u
/* Report permissions without faulting on them (ATS translation requests, nested table reads). */
#define VTD_ACC_NOCHECK 8u
/* Effective permissions of a translation (R/W/X, and U: user-accessible). */
#define VTD_PERM_R 1u
#define VTD_PERM_W 2u
#define VTD_PERM_X 4u
#define VTD_PERM_U 8u
#define VTD_PERM_ALL (VTD_PERM_R | VTD_PERM_W | VTD_PERM_X | VTD_PERM_U)

#define VTD_INTR_ADDR_FIRST UINT64_C(0xFEE00000)
#define VTD_INTR_ADDR_LAST UINT64_C(0xFEEFFFFF)

enum vtd_req_kind {
    VTD_REQ_UNTRANSLATED = 0, /* ordinary DMA */
    VTD_REQ_TRANSLATION,      /* ATS translation request: permissions reported, not enforced */
    VTD_REQ_TRANSLATED,       /* ATS translated request: address already a host address */
    VTD_REQ_INTERRUPT,        /* interrupt request: a DWORD write of `data` to 0xFEEx_xxxx (VT-d 5.1) */
};

struct vtd_request {
    uint16_t sid;         /* bus:dev.fn */
    bool pasid_valid;     /* false: request without PASID (uses the context's RID_PASID) */
    uint32_t pasid;
    uint64_t addr;
    unsigned access;      /* VTD_ACC_* */
    bool priv;            /* privileged (supervisor) request; with PASID only */
    enum vtd_req_kind kind;
    uint32_t data;        /* VTD_REQ_INTERRUPT: the DWORD written */
};

/* What the trace records: which structure, at which level, read or A/D write. */
enum vtd_trace_kind {
    VTD_TR_ROOT, VTD_TR_CTX, VTD_TR_PDIR, VTD_TR_PASID, VTD_TR_FS, VTD_TR_SS,
    VTD_TR_NKINDS, /* the number of kinds: the size of per-kind arrays */
};
struct vtd_trace_rec {
    uint8_t kind;      /* enum vtd_trace_kind */
    uint8_t level;     /* paging level for FS/SS entries */
    bool write;        /* an A/D update rather than a read */
    bool for_fs;       /* a second-stage access made to reach a first-stage structure */
    bool legacy;       /* a legacy-mode root or context entry (TTM 00b) */
    uint64_t addr;     /* physical address of the entry (first qword) */
    uint64_t val;      /* value read (or written) */
};
#define VTD_TRACE_MAX 128
struct vtd_trace {
    unsigned n;        /* records kept (at most VTD_TRACE_MAX) */
    unsigned dropped;  /* records past the capacity */
    struct vtd_trace_rec rec[VTD_TRACE_MAX];
};

struct vtd_fault_info {
    int code;          /* enum vtd_fault; 0 = none */
    bool suppressed;   /* a qualified fault under FPD: not to be recorded */
    uint64_t addr;     /* structure whose fetch failed, or 0 */
    unsigned level;    /* paging level for FS/SS faults, else 0 */
};

/* Counters the walk keeps for statistics and tests (reset by the caller as it likes). */
struct vtd_walk_counters {
    unsigned reads;        /* every 64-bit-or-wider structure read */
    unsigned paging_reads; /* FS and SS paging-entry reads only */
    unsigned ad_writes;    /* A/D updates made */
    unsigned by_kind[VTD_TR_NKINDS]; /* reads per structure kind (enum vtd_trace_kind) */
};

/* Result of one stage walk (first or second stage). */
struct vtd_stage_result {
    uint64_t out;           /* output address for the input, offset included */
    unsigned page_shift;    /* 12, 21 or 30 */
    unsigned perm;          /* VTD_PERM_* granted by this stage to this requester */
    unsigned raw_perm;      /* permissions the entries grant (FS: R, W, U, X as accumulated) */
    bool dirty;             /* the leaf's D bit is set (after any update) */
    /* For paging-structure caches: the table used at each level (index = level) and the
     * permissions accumulated above it; valid from the level the walk started at down to
     * `leaf_level` (entries outside that range are unspecified). */
    unsigned top_level, leaf_level;
    uint64_t table[VTD_PT_LEVEL_SLOTS];
    unsigned perm_above[VTD_PT_LEVEL_SLOTS];
    uint64_t leaf_entry_addr;
};

struct vtd_walk_env;

/* Interrupt remapping's state (VT-d 11.4.4 GSTS.IRES/CFIS, 11.4.12 IRTA_REG latched by SIRTP). */
struct vtd_ir_cfg {
    uint64_t irta;    /* table address, S and EIME */
    bool enabled;     /* IRES: remap interrupt requests */
    bool cfi;         /* CFIS: let compatibility-format requests through unremapped */
};

/* What an interrupt request became (vtd_translate with VTD_REQ_INTERRUPT). */
struct vtd_intr {
    bool remapped;       /* through an IRTE; false: passed through in compatibility format */
    bool posted;         /* the IRTE is in posted format: vector and pda, no destination */
    uint32_t index;      /* interrupt index (remappable format) */
    uint64_t irte_addr;  /* where the IRTE is */
    uint8_t vector;
    uint32_t dest;       /* destination ID */
    bool dm, rh, tm, urgent;
    unsigned dlm;
    uint64_t pda;        /* posted: descriptor address */
};

struct vtd_xlate;
struct vtd_walk_start;

/*
 * Where sim/ puts its caches: each hook replaces (or informs) one stage of vtd_translate(), and
 * may call the uncached stage function itself. A NULL hook (or NULL hooks) means the uncached
 * stage. The oracle runs the same vtd_translate() without hooks.
 */
struct vtd_walk_hooks {
    /* Stage 1 and 2 (context and PASID caches). */
    int (*ctx_fetch)(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f);
    int (*pasid_fetch)(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid,
                       struct vtd_pasid_cfg *out, struct vtd_fault_info *f);
    /* The paging step after the PASID entry (IOTLB); the uncached one is vtd_translate_paging(). */
    int (*paging)(struct vtd_walk_env *env, const struct vtd_request *req, unsigned access, struct vtd_xlate *x);
    /* First stage: where a walk may start (paging-structure cache), and what a walk found. */
    void (*fs_start)(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va, struct vtd_walk_start *start);
    void (*fs_done)(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va, unsigned start_level,
                    const struct vtd_stage_result *res);
    /* Second-stage translation (nested table fetches, the nested output, PGTT 2). */
    int (*ss_translate)(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa, unsigned access,
                        struct vtd_stage_result *out, struct vtd_fault_info *f);
    /* The IRTE of an interrupt index (interrupt entry cache); the uncached one is vtd_irte_fetch(). */
    int (*irte_fetch)(struct vtd_walk_env *env, uint32_t index, struct vtd_irte *out, struct vtd_fault_info *f);
};

/*
 * Reserved-bit masks per level and PS bit, derived from the capabilities the first time a walk
 * needs them and again whenever the capabilities change (a per-level computation otherwise).
 */
struct vtd_walk_masks {
    uint64_t cap, ecap;
    unsigned haw;
    bool valid;
    uint64_t ss[VTD_PT_LEVEL_SLOTS][VTD_PT_PS_KINDS];        /* [level][PS] */
    uint64_t fs_host[VTD_PT_LEVEL_SLOTS][VTD_PT_PS_KINDS];   /* first stage, addresses bounded by HAW */
    uint64_t fs_nested[VTD_PT_LEVEL_SLOTS][VTD_PT_PS_KINDS]; /* first stage in nested mode (guest-physical) */
};

/*
 * Per structure kind and level, the two host frames last read there, most recent first
 * (tag 0: none). The next walk usually reads the same table pages, and a remembered
 * pointer takes the frame lookup off the chain of dependent reads; two, because a nested walk's
 * second stage alternates between the leaf table mapping the guest's page tables and the one
 * mapping its data.
 */
#define VTD_WALK_FRAME_SLOTS 2
struct vtd_walk_frame {
    uint64_t tag;           /* the frame's address | 8 (walk_frame_tag); 0: none (so a zeroed env is safe) */
    const uint8_t *frame;
};

/*
 * The last context and PASID entries decoded without a fault, raw and decoded, with the
 * capabilities they were decoded against (valid false: none). The decoders read nothing but
 * the entry and the capabilities, so an entry read again with the same bytes under the same
 * capabilities decodes the same; the walk still reads the entry every time.
 */
struct vtd_walk_decoded {
    bool ctx_valid, pe_valid;
    struct vtd_caps ctx_caps, pe_caps;
    struct vtd_ctx_entry ctx_raw;
    struct vtd_ctx ctx;
    struct vtd_pasid_entry pe_raw;
    struct vtd_pasid_cfg pe;
};

/*
 * Where the last context fetch and the last PASID fetch on the lean path found their entries
 * (the root and context entries; the PASID directory and table entries), each entry's bytes
 * as read, and the fetch's answer, with its inputs: RTADDR, the source id and the capabilities;
 * the context's PASID directory, the PASID and the capabilities. Those inputs and those entry
 * bytes are all a fetch's answer depends on, so a fetch with the same inputs that reads every
 * entry again and finds the same bytes gives the same answer without decoding anything
 * (walk_ctx.c). A fetch answered from here still makes (and counts) its reads. valid false: none.
 */
struct vtd_walk_dev_memo {
    bool ctx_valid, pe_valid;
    uint16_t sid;
    uint32_t pasid;
    uint64_t rtaddr, pdtp;
    struct vtd_caps ctx_caps, pe_caps;
    const uint8_t *root_at, *ctx_at;   /* the entries' bytes in host memory */
    const uint8_t *pdir_at, *pe_at;
    uint64_t root_val, pdir_val;       /* and their values */
    struct vtd_ctx_entry ctx_raw;
    struct vtd_pasid_entry pe_raw;
    struct vtd_ctx ctx;                /* the answers */
    struct vtd_pasid_cfg pe;           /* (with the directory's FPD) */
};

/*
 * The upper levels (the top one down to level 2) of the last nested table fetch's second-stage
 * walk that ended at a 4 KiB page through entries needing no A/D update: where each entry lies
 * in host memory, its value, and the page table they lead to. A fetch in the same 2 MiB of
 * input under the same PASID-entry settings reads those entries again; when every one still
 * holds the remembered value, the walk's tests of them would pass again and lead to the same
 * page table, so only the level-1 entry is tested (walk_ss.c). key 0: none.
 */
struct vtd_walk_ss_memo {
    uint64_t key;                                 /* walk_ss_memo_key() of the PASID entry */
    uint64_t region;                              /* input address >> 21 */
    uint64_t all;                                 /* AND of the upper entries */
    uint64_t leaf_table;                          /* the level-1 table's address */
    const uint8_t *leaf_frame;                    /* and its host frame */
    const uint8_t *at[VTD_PT_LEVEL_SLOTS];        /* [level]: the entry's bytes in host memory */
    uint64_t val[VTD_PT_LEVEL_SLOTS];             /* [level]: the entry */
};

/*
 * The upper levels (the top one down to level 2) of a recent nested first-stage walk that
 * ended at a 4 KiB page through entries needing no A/D update, with the second-stage entries
 * its table fetches read for them: where each lies in host memory and its value, in the order
 * read, and what the walk had derived from them (the tables, the permissions above each level,
 * the AND of the first-stage entries, the level-1 table). A walk of an address in the same
 * 2 MiB under the same PASID-entry settings reads those entries again; when every one still
 * holds the remembered value, it goes on at level 1 (walk_fs.c). The entries of the levels
 * above level 2 come first: a walk elsewhere in the same 1 GiB reads those alone again and goes
 * on at level 2. key 0: none.
 */
#define VTD_WALK_FS_MEMO_READS 24 /* 4 upper first-stage levels, each with a 5-level fetch */
struct vtd_walk_fs_memo {
    uint64_t key, ss_key;                         /* FSPTPTR; the settings (walk_fs_memo.c) */
    uint64_t region;                              /* input address >> 21 */
    uint64_t missed;                              /* the region of the last walk not served */
    unsigned n, fs_reads, ss_reads;               /* entries remembered; reads of each kind */
    unsigned perm;                                /* the permissions the upper entries leave */
    uint64_t all;                                 /* AND of the upper first-stage entries */
    unsigned n_gib, fs_reads_gib, ss_reads_gib;   /* the same for the levels above level 2 ... */
    uint64_t all_gib;                             /* ... which serve the whole 1 GiB */
    uint64_t leaf_table;                          /* the level-1 table's guest-physical address */
    uint64_t table[VTD_PT_LEVEL_SLOTS];           /* [level]: the table read there */
    unsigned perm_above[VTD_PT_LEVEL_SLOTS];      /* [level]: the permissions above it */
    const uint8_t *at[VTD_WALK_FS_MEMO_READS];    /* the entries' bytes in host memory */
    uint64_t val[VTD_WALK_FS_MEMO_READS];         /* and their values */
};

/*
 * The walker's host-side speed-up state, in one member of the environment: it changes how fast
 * a walk runs, never what it reads or answers. Private to the walker (walk_internal.h reads
 * it); a zeroed one is valid.
 */
struct vtd_walk_host {
    struct vtd_walk_masks masks;
    struct vtd_walk_frame frames[VTD_TR_NKINDS][VTD_PT_LEVEL_SLOTS][VTD_WALK_FRAME_SLOTS];
    struct vtd_walk_decoded decoded;
    struct vtd_walk_dev_memo dev_memo;
    struct vtd_walk_ss_memo ss_memo;
    struct vtd_walk_fs_memo fs_memo;
};

struct vtd_walk_env {
    struct vtd_mem *mem;
    const struct vtd_caps *caps;
    uint64_t rtaddr;            /* RTADDR_REG: root table address and TTM */
    struct vtd_trace *trace;    /* optional */
    const struct vtd_walk_hooks *hooks; /* optional, see above */
    void *opaque;               /* for the hooks */
    bool for_fs;                /* set while the second stage serves a first-stage fetch */
    bool dry_run;               /* compute A/D updates but write nothing (the oracle's walks) */
    struct vtd_ir_cfg ir;       /* interrupt remapping as GSTS and the latched IRTA_REG say */
    /* Coherency (docs/walker.md): whether the paging structures being walked are snooped (the
     * PASID entry's PWSNP, set by the stage walks), and a switch that makes every read snooped
     * (the CPU's view, for the missing-flush check). Only matter while the CPU cache holds
     * dirty lines (walker/mem.h). */
    bool paging_pwsnp;
    bool snoop_all;
    struct vtd_walk_counters cnt;
    struct vtd_walk_host host;  /* private to the walker */
};

/* Where a first- or second-stage walk starts: the full walk or a paging-structure-cache hit. */
struct vtd_walk_start {
    unsigned level;   /* level of `table` (top level for a full walk) */
    uint64_t table;   /* table address (guest-physical for a nested first stage) */
    unsigned perm;    /* permissions accumulated above (VTD_PERM_ALL for a full walk) */
};

/* The complete outcome of vtd_translate(). */
struct vtd_xlate {
    /* Every field up to `fs` is cleared by vtd_xlate_reset(), one by one: add new ones there. */
    struct vtd_fault_info fault;
    uint64_t out;             /* host physical address */
    unsigned page_shift;      /* size of the translation (combined for nested) */
    unsigned perm;            /* effective VTD_PERM_* */
    bool dirty;               /* the translation may be used for writes without an A/D update */
    uint16_t did;
    uint32_t pasid;           /* the PASID used (RID_PASID for requests without PASID) */
    unsigned pgtt;
    bool priv;                /* effective privilege */
    struct vtd_ctx ctx;
    struct vtd_pasid_cfg pe;
    /* Stage details, valid only when the walk ran that stage (pgtt_uses_fs/ss) and the answer
     * did not come from an IOTLB; they come last so that vtd_translate() need not clear them. */
    struct vtd_stage_result fs, ss; /* ss: of the final address */
    struct vtd_intr intr;     /* interrupt requests only (set whole by their stage) */
};

/* Initialise an environment with no trace and the uncached second stage. */
void vtd_walk_env_init(struct vtd_walk_env *env, struct vtd_mem *mem, const struct vtd_caps *caps, uint64_t rtaddr);

/* Stage 1: root and context entry for a source-id (legacy mode: vtd_legacy_ctx_fetch). */
int vtd_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f);
/*
 * Stage 1 in legacy mode (RTADDR_REG.TTM 00b): the root entry's low qword and the 128-bit
 * legacy context entry, with the legacy fault codes (1h-3h, 8h-Bh). *out holds the legacy
 * fields (ctx->legacy set); vtd_translate() then walks the second stage or passes through.
 */
int vtd_legacy_ctx_fetch(struct vtd_walk_env *env, uint16_t sid, struct vtd_ctx *out, struct vtd_fault_info *f);
/* Stage 2: PASID directory and table entry. */
int vtd_pasid_fetch(struct vtd_walk_env *env, const struct vtd_ctx *ctx, uint32_t pasid, struct vtd_pasid_cfg *out,
                    struct vtd_fault_info *f);
/* Second-stage walk of `gpa` from `start` (full walk: vtd_ss_walk). */
int vtd_ss_walk_from(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t gpa, unsigned access, struct vtd_stage_result *out, struct vtd_fault_info *f);
int vtd_ss_walk(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t gpa, unsigned access,
                struct vtd_stage_result *out, struct vtd_fault_info *f);
/*
 * First-stage walk of `va` from `start`, with permission checks for `access`/`priv` and A/D
 * updates. In nested mode every table address is translated by the second stage (hook or vtd_ss_walk)
 * and out->out is still guest-physical: the caller translates it (vtd_translate does).
 */
int vtd_fs_walk_from(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, const struct vtd_walk_start *start,
                     uint64_t va, unsigned access, bool priv, enum vtd_req_kind kind,
                     struct vtd_stage_result *out, struct vtd_fault_info *f);
int vtd_fs_walk(struct vtd_walk_env *env, const struct vtd_pasid_cfg *pe, uint64_t va, unsigned access, bool priv,
                enum vtd_req_kind kind, struct vtd_stage_result *out, struct vtd_fault_info *f);
/* Full start descriptors for a PASID entry. */
struct vtd_walk_start vtd_fs_full_start(const struct vtd_pasid_cfg *pe);
struct vtd_walk_start vtd_ss_full_start(const struct vtd_pasid_cfg *pe);

/*
 * Checks that depend only on the request and the PASID entry, made before any paging walk:
 * SRE for privileged requests, ERE for execute requests (with ECAP.ERS). 0 or a fault code.
 */
int vtd_pasid_request_check(const struct vtd_caps *caps, const struct vtd_pasid_cfg *pe, const struct vtd_request *req);

/*
 * The first-stage permission rules (VT-d 3.6.2), shared with caches that keep the entries'
 * accumulated permissions: the fault an access meets (0 if none), and what a requester is granted.
 */
int vtd_fs_access_fault(const struct vtd_caps *caps, const struct vtd_pasid_cfg *pe, unsigned raw_perm,
                        unsigned access, bool priv);
unsigned vtd_fs_effective_perm(const struct vtd_pasid_cfg *pe, unsigned raw_perm, bool priv);

/*
 * Combine a first-stage result (guest-physical output) with the second-stage translation of
 * that output: the final output, page size, permissions, dirty state.
 */
void vtd_nested_combine(const struct vtd_stage_result *fs, const struct vtd_stage_result *ss, struct vtd_xlate *x);

/*
 * The paging step for a request whose x->pe, x->priv are set: the PGTT's stages (through the
 * hooks for the first and second stage) and the combined result. Returns 0 or the fault code.
 */
int vtd_translate_paging(struct vtd_walk_env *env, const struct vtd_request *req, unsigned access, struct vtd_xlate *x);
/* Second-stage access check: the fault `access` meets with permissions `perm`, or 0. */
int vtd_ss_access_fault(unsigned access, unsigned perm, bool ssee);

/*
 * The per-request steps vtd_translate() composes, public so that sim/ can answer a repeated
 * request from cached entries through exactly the same checks:
 *   vtd_xlate_reset()       clears x before a translation;
 *   vtd_xlate_set_device()  the PASID and privilege a request uses under a context entry;
 *   vtd_xlate_set_pasid()   records the PASID entry and runs the request checks against it
 *                           (0 or the fault code); *eff and *access are the request and access
 *                           flags the paging step is to use;
 *   vtd_xlate_out_blocked() whether an untranslated request's output hits the interrupt range.
 */
void vtd_xlate_reset(struct vtd_xlate *x);
void vtd_xlate_set_device(const struct vtd_request *req, const struct vtd_ctx *ctx, struct vtd_xlate *x);
int vtd_xlate_set_pasid(const struct vtd_caps *caps, const struct vtd_request *req, const struct vtd_pasid_cfg *pe,
                        struct vtd_xlate *x, struct vtd_request *eff, unsigned *access);
bool vtd_xlate_out_blocked(const struct vtd_request *req, uint64_t out);

/*
 * The interrupt stage (VT-d 5.1): the IRTE for `index` from the table env->ir.irta names:
 * VTD_FR_IR_INDEX_OVER, VTD_FR_IR_ROOT_INVAL (unreadable), or the decoder's faults (irte.h).
 * out->fpd is valid whenever the entry was read.
 */
int vtd_irte_fetch(struct vtd_walk_env *env, uint32_t index, struct vtd_irte *out, struct vtd_fault_info *f);
/* An interrupt request through interrupt remapping (vtd_translate calls it for VTD_REQ_INTERRUPT). */
int vtd_interrupt_translate(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x);

/* The whole walk for one request. Returns 0 or the fault code (also in x->fault). */
int vtd_translate(struct vtd_walk_env *env, const struct vtd_request *req, struct vtd_xlate *x);

/* Helpers for reports. */
const char *vtd_trace_kind_name(unsigned kind);
static inline uint16_t vtd_sid(unsigned bus, unsigned dev, unsigned fn) { return (uint16_t)((bus << 8) | (dev << 3) | fn); }

#endif
