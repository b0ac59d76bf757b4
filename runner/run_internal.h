/*
 * run_internal.h: what the step executor's files share (not a public interface): the
 * executor's state, a step's outcome, and the helpers between run.c (set-up, failure records,
 * entry points), run_steps.c (one handler per step kind) and run_check.c (the expectations).
 */
#ifndef VTDSIM_RUNNER_RUN_INTERNAL_H
#define VTDSIM_RUNNER_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "runner/runner.h"
#include "sim/qi.h"
#include "support/world.h"

#define SC_STEP_ISSUED_MAX 64u

struct ex {
    const struct scenario *s;
    struct sc_result *r;
    struct vtd_iommu *io;
    struct world w;          /* root table and builder, without a container */
    struct vtd_container *c; /* with a `container:` section: it owns root table and builder */
    struct vtd_builder *b;
    struct vtd_ctx *ctx;     /* per device, valid when attached */
    bool *attached;
    struct vtd_pt *pt;       /* per table */
    bool *pt_ready;
    unsigned step_no;
    bool warnings_as_errors; /* sc_run_opts */
    unsigned max_failures;   /* failure texts to keep (sc_run_opts, resolved) */
    unsigned bad_step;       /* first step that raised an error it did not expect (0: none) */
    size_t max_frames;       /* simulated memory cap (sc_run_opts) */
    struct vtd_trace trace;
    /* Budgets (budget.c): work units used and allowed, host memory, the deadline. */
    uint64_t work, max_work, max_host_bytes, mem_host_limit;
    double timeout;
    struct timespec deadline;
    bool stop;               /* a budget ran out: no further step runs */
    uint64_t mem_refused_before; /* vtd_mem_enomem_count when the step began */
    /* The descriptors the running uAPI step's host layer issued (run_issued.c), the first
     * SC_STEP_ISSUED_MAX of them and how many in all. */
    bool recording;
    struct vtd_desc step_desc[SC_STEP_ISSUED_MAX];
    int step_rc[SC_STEP_ISSUED_MAX];
    unsigned nstep_desc;
    uint64_t step_desc_total;
    char *covering_fix;      /* the failing stale DMA's covering descriptors (sc_failure) */
    /* The failure text of the step being checked (a memory stream, opened on the first miss). */
    char *msg;
    size_t msg_len;
    FILE *mf;
    /* A dma step's failed requests: the first is described whole (with its walk traces), the
     * later ones of the same step only counted, with their addresses and failed expectations. */
    bool dma_shown;
    uint64_t dma_more, dma_more_lo, dma_more_hi;
    unsigned dma_more_checks;   /* bit per expectation (run_check.c's dma_checks) */
    struct ex_dirty *dirty;     /* the migration loop's pages written and reported (steps_dirty.c) */
    struct ex_audit *audit;     /* with sc_run_opts.audit (audit_run.c) */
};

/* What a step did, for the expectations. */
struct outcome {
    int err;                  /* 0 or a negative errno from the operation */
    const char *err_what;     /* what failed, for the report */
    bool enomem_is_limit;     /* -ENOMEM is a documented limit's answer, not a lack of memory */
    bool is_dma;
    struct vtd_request req;
    struct vtd_dma_result res;
    int fault;
    bool is_qi;
    struct vtd_qi_result qi;
    bool has_value;
    uint64_t value;
    bool has_entry_num;       /* hwpt_invalidate: entry_num as the call left it */
    uint64_t entry_num;
    bool has_layer_err;       /* unbind, cache_invalidate: the iommu layer's answer VFIO dropped */
    int layer_err;
    uint64_t warnings_before;
    bool edited;              /* a raw write (edit_qword): the qword's address, old and new value */
    uint64_t edit_addr, edit_old, edit_new;
};

#define HAS(st, a) ((st)->given[a])
#define ARGV(st, a) ((st)->v[a])
#define ARG_OR(st, a, d) (HAS(st, a) ? ARGV(st, a) : (uint64_t)(d))

static inline const struct sc_device *step_dev(const struct ex *e, const struct sc_step *st) { return &e->s->dev[ARGV(st, A_DEVICE)]; }

/*
 * RTADDR as the IOMMU latched it (VT-d 11.4.4), TTM bits included: the root table every view
 * and every raw edit goes through. A scenario may point RTADDR at a table of its own and latch
 * it with GCMD.SRTP; the table the runner built is then just memory.
 */
static inline uint64_t ex_rtaddr(const struct ex *e) { return vtd_iommu_root(e->io); }

/* run.c */
/* The failure text of the step being checked, opened (with its heading) on the first miss. */
FILE *ex_miss(struct ex *e, const struct sc_step *st);
void ex_step_done(struct ex *e, const struct sc_step *st);
const char *ex_perm_str(unsigned p, char buf[8]);
const char *ex_fault_str(int code, char buf[48]);
const char *ex_page_str(unsigned shift);
uint64_t ex_model_enomem(const struct ex *e);
/* An errno in words, with the model's own meaning where strerror's text would mislead. */
const char *ex_errno_words(int err, enum sc_kind kind);
void ex_report_enomem(struct ex *e, const struct sc_step *st);
int ex_table_ready(struct ex *e, const struct sc_step *st, unsigned arg, const char **what);

/* The file's error before any step ran: "path:line:col: ..." as the result's load error. */
bool ex_setup_error(struct ex *e, unsigned line, unsigned col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* budget.c */
/* Work, host-memory and time budgets from the options, checked before setup; false: refused. */
bool ex_check_budgets(struct ex *e, const struct sc_run_opts *o);
/* Count `units` of work for step st; false (a failure recorded, the run stopped) past the budget. */
bool ex_charge(struct ex *e, const struct sc_step *st, uint64_t units);
/* Whether the run must stop: a budget ran out, or the deadline passed (recorded against st). */
bool ex_out_of_time(struct ex *e, const struct sc_step *st);

/* run_steps.c */
void ex_run_steps(struct ex *e, const struct sc_step *steps, unsigned n, bool top);

/* The descriptor a qi step (or an expect: descriptors entry) describes: 0, or -EINVAL for a
 * granularity its type does not have. */
int ex_qi_desc(const struct ex *e, const struct sc_step *st, uint64_t q[SC_MAX_RAW], unsigned *nqw);

/* steps_cpu.c and steps_ats.c: the CPU cache's steps and device-TLB invalidation completion. */
int ex_do_cpu_cache(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_clflush(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_wbinvd(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_ats_reply(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_elapse(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_unplug(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_qi_queue(struct ex *e, const struct sc_step *st, struct outcome *o);

/* run_issued.c: the descriptors uAPI steps issued, logged per step and checked. */
void ex_issued_listen(struct ex *e);
void ex_issued_begin(struct ex *e, const struct sc_step *st);
void ex_issued_end(struct ex *e, const struct sc_step *st);
/* expect: descriptors: true when it holds (or is not given), else a failure naming both lists. */
bool ex_check_issued(struct ex *e, const struct sc_step *st);

/* steps_interrupt.c: the irt, irte and interrupt steps (an interrupt checks its own expectations) */
int ex_do_irt(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_irte(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_interrupt(struct ex *e, const struct sc_step *st, struct outcome *o);
/* steps_prq.c: page_request and pri_reset steps, and the expectations prq, prq_messages, pri. */
int ex_do_page_request(struct ex *e, const struct sc_step *st, struct outcome *o);
int ex_do_pri_reset(struct ex *e, const struct sc_step *st, struct outcome *o);
void ex_check_prq(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f);

/* run_check.c */
/* The line that closes a dma step's failure text when more requests failed than were shown. */
void ex_dma_summary(struct ex *e);
void ex_check_dma(struct ex *e, const struct sc_step *st, const struct outcome *o, uint64_t delta);
void ex_check_step(struct ex *e, const struct sc_step *st, const struct outcome *o);
/* The step's failure text (opened on the first miss, counted after): for checks in other files. */
FILE *ex_want(struct ex *e, const struct sc_step *st, FILE **f);

/* steps_dirty.c: the dirty-tracking steps, the pages the device wrote while tracking was on
 * and the pages the bitmaps reported, and the expectations on them (all_writes_reported ...). */
int ex_dirty_step(struct ex *e, const struct sc_step *st, struct outcome *o);
void ex_dirty_note_dma(struct ex *e, const struct outcome *o);
/* Whether ex_dirty_note_dma could note a page of this request (tracking on, a write without
 * PASID, not a translation request): the same for every page of a dma step. */
bool ex_dirty_may_note(const struct ex *e, const struct vtd_request *req);
void ex_check_dirty(struct ex *e, const struct sc_step *st, const struct outcome *o, FILE **f);
void ex_dirty_free(struct ex *e);

/* audit_run.c: the latent-staleness audit of a run (sc_run_opts.audit); all no-ops without it. */
int ex_audit_new(struct ex *e);
void ex_audit_free(struct ex *e);
void ex_audit_begin(struct ex *e, const struct sc_step *st);
void ex_audit_step(struct ex *e, const struct sc_step *st, const struct outcome *o);
void ex_audit_desc(struct ex *e, const uint64_t *desc, unsigned nqw, int rc);
void ex_audit_finish(struct ex *e);
/* A finding of the running step (its text, one line): checked against its `expect: audit`. */
void ex_audit_found(struct ex *e, const char *line);
/* audit_entries.c: context and PASID entries rewritten before their caches were invalidated and
 * the invalidations waited for. */
struct ex_audit_entries;
struct ex_audit_entries *ex_audit_entries_new(void);
void ex_audit_entries_free(struct ex_audit_entries *t);
uint64_t ex_audit_entries_findings(const struct ex_audit_entries *t);
int ex_audit_pasid_write(struct ex *e, struct ex_audit_entries *t, uint16_t sid, uint32_t pasid, uint16_t did,
                         bool fs);
void ex_audit_pasid_clear(struct ex *e, struct ex_audit_entries *t, uint16_t sid, uint32_t pasid);
void ex_audit_entries_desc(struct ex *e, struct ex_audit_entries *t, const uint64_t *qw);
/* audit_pages.c: page-table pages unlinked by a write_pte and written again before the
 * invalidation of what was cached from them completed. */
struct ex_audit_pages;
struct ex_audit_pages *ex_audit_pages_new(void);
void ex_audit_pages_free(struct ex_audit_pages *t);
uint64_t ex_audit_pages_findings(const struct ex_audit_pages *t);
/* A write_pte step (o->edited) of a table the space (did, tag) translates through. */
int ex_audit_pages_unlink(struct ex *e, struct ex_audit_pages *t, const struct sc_step *st, const struct outcome *o,
                          uint16_t did, uint32_t tag);
void ex_audit_pages_write(struct ex *e, struct ex_audit_pages *t, uint64_t addr, uint64_t len, const char *how);
void ex_audit_pages_desc(struct ex *e, struct ex_audit_pages *t, const uint64_t *qw);
/* A write_context or write_pasid step changed a qword of an entry (o->edited). */
int ex_audit_raw_write(struct ex *e, const struct sc_step *st, struct ex_audit_entries *t, const struct outcome *o);

#endif
