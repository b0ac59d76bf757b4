/*
 * scenario.h: the in-memory model of a YAML DMA scenario (docs/scenario-format.md).
 *
 * The loader (load.c) turns a file into this model and checks every key, type and range; the
 * executor (run.c) replays it against a simulated IOMMU. Nothing here knows YAML: a scenario
 * could as well be built in C by a test.
 *
 * Step arguments and expectations are stored as numbered fields (enum sc_arg, enum sc_exp)
 * with a "given" flag each, so the loader's key tables and the executor share one vocabulary.
 */
#ifndef VTDSIM_RUNNER_SCENARIO_H
#define VTDSIM_RUNNER_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/iommu.h"
#include "walker/mem_image.h"

/* Resource limits: a scenario file beyond them is rejected with a clear error. */
#define SC_MAX_FILE_BYTES (4u << 20)
#define SC_MAX_DEPTH 16u            /* nesting of mappings and sequences */
/* YAML nodes visited (also bounds alias expansion): one per byte of the largest file, so a file
 * within the size limit stops at the step limit, never here (a step takes 10-40 nodes). */
#define SC_MAX_NODES SC_MAX_FILE_BYTES
#define SC_MAX_STEPS 20000u         /* steps, counting those inside repeats */
#define SC_MAX_REPEAT 10000000u     /* iterations of one repeat */
#define SC_MAX_DEVICES 64u
#define SC_MAX_TABLES 64u
#define SC_MAX_LIST 64u             /* entries of an expectation list (mem, stats, removed) */
#define SC_MAX_RAW 8u               /* qwords of a raw QI descriptor */
#define SC_MAX_HWPT_INV 64u         /* entries of one hwpt_invalidate step */
#define SC_MAX_BULK 4096u           /* bytes of one bulk write_mem (qwords or hex): one page */
#define SC_DEFAULT_MAX_FRAMES (1u << 18) /* simulated memory a run may fill: 1 GiB of 4 KiB frames */

enum sc_kind {
    SK_ATTACH, SK_PASID_ENTRY, SK_PASID_CLEAR, SK_MAP, SK_UNMAP, SK_PROTECT, SK_DMA, SK_QI,
    SK_WRITE_ROOT, SK_WRITE_CONTEXT, SK_WRITE_PDIR, SK_WRITE_PASID, SK_WRITE_PTE, SK_WRITE_MEM,
    SK_REG_WRITE, SK_REG_READ, SK_CHECK, SK_REPEAT,
    /* interrupt remapping (runner/steps_interrupt.c) */
    SK_IRT, SK_IRTE, SK_INTERRUPT,
    /* the CPU's write-back cache (steps_cpu.c), device-TLB invalidation completion (steps_ats.c) */
    SK_CPU_CACHE, SK_CLFLUSH, SK_WBINVD, SK_ATS_REPLY, SK_ELAPSE, SK_UNPLUG, SK_QI_QUEUE,
    /* the uAPI (host/container.h) */
    SK_CONTAINER_ATTACH, SK_GET_INFO, SK_MAP_DMA, SK_UNMAP_DMA, SK_PASID_REQUEST, SK_BIND, SK_UNBIND,
    SK_CACHE_INVALIDATE, SK_PAGE_RESPONSE, SK_HWPT_ALLOC, SK_HWPT_INVALIDATE,
    /* page requests into the queue in memory (runner/steps_prq.c) */
    SK_PAGE_REQUEST, SK_PRI_RESET,
    /* dirty tracking (runner/steps_dirty.c) */
    SK_DIRTY_PAGES, SK_HWPT_SET_DIRTY, SK_HWPT_GET_DIRTY,
};

/* Step arguments (one namespace for every step kind; each kind's table says which it takes). */
enum sc_arg {
    A_DEVICE, A_PASID, A_ADDR, A_SIZE, A_VA, A_PA, A_PAGE, A_PERM, A_ACCESS, A_PRIV, A_ATS,
    A_TABLE, A_SS_TABLE, A_PGTT, A_DID, A_FPD, A_SRE, A_WPE, A_SSEE, A_SSADE, A_EAFE, A_ERE,
    A_NXE, A_SMEP, A_PWSNP, A_PGSNP, A_PDTS, A_DTE, A_PRE, A_PASIDE, A_RID_PASID, A_RID_PRIV,
    A_AD, A_SNP, A_TYPE, A_GRAN, A_AM, A_IH, A_SID, A_S, A_G, A_FM, A_PFSID, A_QDEP, A_DW, A_DR,
    A_IF, A_SW, A_FN, A_PD, A_STATUS_ADDR, A_STATUS_DATA, A_RC, A_PRGI, A_PP, A_WIDTH, A_QWORD,
    A_VALUE, A_SET, A_CLEAR, A_LEVEL, A_BUS, A_HALF, A_OFFSET, A_COUNT, A_FILL, A_TT,
    /* uAPI structure fields */
    A_IOVA, A_VADDR, A_ARGSZ, A_FLAGS, A_MIN, A_MAX_PASID, A_OP, A_HPASID, A_GPASID, A_ADDR_WIDTH, A_VERSION,
    A_FORMAT, A_CACHE, A_UGRAN, A_GRANULE, A_NB, A_LEAF, A_ARCHID, A_GRPID, A_CODE,
    /* interrupt remapping: the table, an IRTE, an interrupt request, an IEC descriptor */
    A_EIME, A_CFI, A_INDEX, A_VECTOR, A_DEST, A_DEST_MODE, A_TRIGGER, A_RH, A_DLM, A_SQ, A_SVT, A_SID_VALUE,
    A_PRESENT, A_POSTED, A_PDA, A_URGENT, A_DATA, A_IM,
    /* page_request */
    A_READ, A_WRITE, A_EXEC, A_LAST, A_DATA_LO, A_DATA_HI,
    /* CPU cache and device-TLB invalidation completion steps */
    A_ON, A_REPLY, A_DELAY_US, A_US,
    /* dirty tracking */
    A_PGSIZE, A_BITMAP_SIZE, A_NO_CLEAR, A_DISCARD, A_ENABLE,
    A_MAX
};

/* Expectations. */
enum sc_exp {
    E_OUT, E_PAGE, E_PERM, E_FAULT, E_ERRNO, E_SOURCE, E_STALE, E_FIX, E_READS, E_PAGING_READS,
    E_WARNINGS, E_WARNING, E_PENDING_FAULTS, E_VALUE, E_DIRTY, E_QI_ERROR, E_IOMMU_ERRNO, E_ENTRY_NUM, E_DESC_COUNT,
    /* an interrupt step's delivered interrupt */
    E_VECTOR, E_DEST, E_DEST_MODE, E_TRIGGER, E_DLM, E_POSTED, E_PDA, E_REMAPPED,
    E_PRQ, E_PRQ_MESSAGES,
    E_DIRTY_LOST, E_ACCESSED_LOST, E_ALL_WRITES_REPORTED, E_PAGES_REPORTED, E_PAGES_WRITTEN,
    E_AUDIT,        /* the audit's findings the step exposes (with --audit only) */
    E_AUDIT_FINDING,
    E_MAX
};

/* A counter an expectation may name: a cache's statistic or a global one. */
struct sc_counter_expect {
    int cache;          /* enum vtd_cache_id, VTD_C_DEVTLB (device given by `device`), or -1: global */
    int device;         /* for device-TLB counters */
    unsigned counter;   /* index into the loader's counter table */
    uint64_t value;
};

/* expect: {fault: any}: the request faulted, whatever the reason (not a page request). */
#define SC_FAULT_ANY 0x200u

struct sc_mem_expect {
    uint64_t addr, value;
    unsigned bytes;     /* 1, 2, 4 or 8 */
};

/* A fault-recording register expectation: the fields given must match, and F must be set. */
enum sc_frec_field { FR_INDEX, FR_REASON, FR_DEVICE, FR_PASID, FR_ADDR, FR_WRITE, FR_MAX };
struct sc_frec_expect {
    bool given[FR_MAX];
    uint64_t v[FR_MAX];   /* FR_DEVICE: device index; FR_PASID: UINT64_MAX for none */
};

/* A uAPI fault record (struct iommu_fault, DMA_UNRECOV) expectation. */
enum sc_ufault_field { UF_REASON, UF_PASID, UF_ADDR, UF_TYPE, UF_GRPID, UF_MAX };
struct sc_ufault_expect {
    bool given[UF_MAX];
    uint64_t v[UF_MAX];
};

/* A device's PRI state expectation (expect: pri). */
enum sc_pri_field { PRI_OPEN, PRI_OUTSTANDING, PRI_RF, PRI_UPRGI, PRI_SUCCESS, PRI_INVALID, PRI_FAILURE, PRI_UNEXPECTED, PRI_MAX };
struct sc_pri_expect {
    bool given[PRI_MAX];
    uint64_t v[PRI_MAX];
};

struct sc_expect {
    bool given[E_MAX];
    uint64_t v[E_MAX];
    char *fix;          /* E_FIX: a substring of the oracle's suggested descriptor(s) */
    char *audit_finding;   /* expect: audit_finding, text each of the step's audit findings contains */
    char *warning;      /* E_WARNING: a substring of a warning raised by this step */
    struct sc_mem_expect *mem;
    unsigned nmem;
    struct sc_counter_expect *stats;   /* cumulative statistics after the step */
    unsigned nstats;
    struct sc_counter_expect *removed; /* entries a QI step removed, per cache */
    unsigned nremoved;
    struct sc_frec_expect *frec;        /* fault-recording registers after the step */
    unsigned nfrec;
    bool has_ufault;                    /* the container's fault queue, read (drained) after the step */
    struct sc_ufault_expect *ufault;
    unsigned nufault;
    bool has_desc;                      /* the descriptors a uAPI step's host layer issued, in order */
    struct sc_step *desc;               /* each a qi step's fields (kind SK_QI, no expect) */
    unsigned ndesc;
    bool has_pri;                       /* the step's device's PRI state after the step */
    struct sc_pri_expect pri;
    unsigned line, col;
};

/* One entry of a hwpt_invalidate step (struct iommu_hwpt_vtd_s1_invalidate). */
struct sc_hwpt_inv {
    uint64_t addr, npages;
    uint32_t flags, reserved;
};

struct sc_step {
    enum sc_kind kind;
    unsigned line, col;
    bool given[A_MAX];
    uint64_t v[A_MAX];
    uint64_t raw[SC_MAX_RAW];
    unsigned nraw;
    struct sc_hwpt_inv *inv; /* SK_HWPT_INVALIDATE: the array of struct iommu_hwpt_vtd_s1_invalidate */
    unsigned ninv;
    uint8_t *bulk;          /* SK_WRITE_MEM with qwords or hex: the bytes written at addr */
    unsigned nbulk;
    bool has_expect;
    struct sc_expect expect;
    struct sc_step *sub;    /* SK_REPEAT: the steps repeated */
    unsigned nsub;
    uint64_t work_upto;     /* work units of the scenario up to and including this step, repeats
                             * multiplied out (saturating) */
};

struct sc_device {
    char *name;
    unsigned line, col;
    struct vtd_device_config cfg;
};

struct sc_mapping {
    uint64_t va, pa, size;
    unsigned page_shift;    /* 0: largest the alignment allows */
    unsigned perm, flags;
    unsigned line, col;
};

struct sc_table {
    char *name;
    unsigned line, col;
    bool first_stage;       /* format fs (else ss) */
    unsigned levels;
    int backing;            /* index of the second-stage table it lives behind, or -1 (host memory) */
    uint64_t pool, pool_size; /* guest-physical pool for its tables (with backing) */
    struct sc_mapping *map;
    unsigned nmap;
};

/* Symbolic QI granularities (a number in a scenario is the raw G field instead). */
#define SC_GRAN_GLOBAL 0x100u
#define SC_GRAN_DOMAIN 0x101u
#define SC_GRAN_DEVICE 0x102u
#define SC_GRAN_PAGE 0x103u
#define SC_GRAN_PASID 0x104u
#define SC_GRAN_INDEX 0x105u    /* IEC index-selective */

enum sc_policy { SC_POLICY_SPEC, SC_POLICY_LINUX_5_10 };
/* Which kernel's iommufd answers HWPT_INVALIDATE (docs/uapi.md). */
enum sc_iommufd_kernel { SC_IOMMUFD_6_10, SC_IOMMUFD_6_8 };

/* A table's backing: another table's index, none, or the container's second stage. */
#define SC_BACKING_NONE (-1)
#define SC_BACKING_CONTAINER (-2)

struct sc_container {
    uint64_t did, ss_levels, pool, pool_size;
    bool given_did, given_levels, given_pool, given_pool_size;
    enum sc_iommufd_kernel iommufd_kernel;
    unsigned dirty_source, dirty_flush; /* enum vtd_dirty_source, enum vtd_dirty_flush */
};

/* memory: simulated memory backed by an image file (walker/mem_image.h). */
struct sc_memory {
    char *image;            /* the path to open: relative ones resolved against the scenario's folder */
    enum vtd_image_format format;
    uint64_t base;
    unsigned line, col;     /* of the `memory:` mapping, for the image's errors */
};

struct scenario {
    char *path;
    char *name, *description;
    struct vtd_iommu_config cfg;
    /* Symbolic QI granularities (a number in a scenario is the raw G field instead). */
#define SC_GRAN_GLOBAL 0x100u
#define SC_GRAN_DOMAIN 0x101u
#define SC_GRAN_DEVICE 0x102u
#define SC_GRAN_PAGE 0x103u
#define SC_GRAN_PASID 0x104u
    enum sc_policy policy;
    unsigned iommu_line, iommu_col;
    bool legacy;            /* iommu mode: legacy (RTADDR_REG.TTM 00b) */
    bool has_memory;
    struct sc_memory memory;
    bool has_rtaddr;        /* rtaddr: written to RTADDR_REG and latched (GCMD.SRTP) before the first step */
    uint64_t rtaddr;
    unsigned rtaddr_line, rtaddr_col;
    bool has_container;
    struct sc_container container;
    unsigned container_line;
    struct sc_device *dev;
    unsigned ndev;
    struct sc_table *tab;
    unsigned ntab;
    struct sc_step *steps;
    unsigned nsteps;
    uint64_t work;          /* work units of the whole scenario (saturating; runner.h's budget) */
    unsigned cache_line[VTD_C_NCACHES], cache_col[VTD_C_NCACHES]; /* where a cache was configured */
};

/*
 * Loader errors. The loader reads on past an error (it skips the key, entry or step at fault
 * and checks the rest) and keeps every error up to a limit; a name whose definition failed
 * (a device, a table) is remembered so that the steps naming it are not reported again.
 */
#define SC_DEFAULT_MAX_ERRORS 20u
#define SC_MAX_ERRORS 100u          /* the most errors one load keeps (the limit's maximum) */

struct sc_error_at {
    unsigned line, col; /* 1-based; 0 when the error concerns the whole file */
    char msg[256];
};

struct sc_error {
    unsigned line, col; /* the first error: where (1-based; 0 for the whole file) */
    char msg[256];      /* and why (the text after "file:line:column: ") */
    unsigned count;     /* errors kept in at[], in file order of discovery (at[0] is the first) */
    bool more;          /* the limit stopped the load: there were further errors */
    unsigned limit;     /* the limit the load ran with */
    struct sc_error_at at[SC_MAX_ERRORS];
};

/* Load a file; NULL on error with *err filled (at most SC_DEFAULT_MAX_ERRORS errors). */
struct scenario *sc_load_file(const char *path, struct sc_error *err);
/* Load from memory (`name` is used as the path in messages). */
struct scenario *sc_load_string(const char *name, const char *text, size_t len, struct sc_error *err);
/* The same, keeping at most max_errors errors (1..SC_MAX_ERRORS; 0: the default). */
struct scenario *sc_load_file_max(const char *path, unsigned max_errors, struct sc_error *err);
struct scenario *sc_load_string_max(const char *name, const char *text, size_t len, unsigned max_errors,
                                    struct sc_error *err);
void sc_free(struct scenario *s);

/* Format the first error as "path:line:column: reason" (or "path: reason") into buf. */
void sc_error_format(const char *path, const struct sc_error *err, char *buf, size_t len);
/* The number of errors err holds (1 for an error set without the list, such as a read error). */
unsigned sc_error_count(const struct sc_error *err);
/* Format error i (0-based, below sc_error_count) as sc_error_format does. */
void sc_error_format_nth(const char *path, const struct sc_error *err, unsigned i, char *buf, size_t len);
/* Format "path: N errors" (with the limit when it stopped the load) into buf. */
void sc_error_format_summary(const char *path, const struct sc_error *err, char *buf, size_t len);
/* Every error, one a line, then the summary line when there are several: allocated text
 * (vtd_free), or NULL when out of memory. */
char *sc_error_text(const char *path, const struct sc_error *err);

/* Work units of one execution of a step of s (runner/budget.c), and a + b * c saturating. */
uint64_t sc_step_work(const struct scenario *s, const struct sc_step *st);
uint64_t sc_work_add(uint64_t a, uint64_t b, uint64_t c);

/* Names shared by the loader and the reports. */
const char *sc_kind_name(enum sc_kind k);
const char *sc_counter_name(unsigned counter);
const char *sc_cache_key_name(int cache);
const char *sc_errno_name(int e);

#endif
