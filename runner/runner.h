/*
 * runner.h: replay a scenario against a simulated IOMMU and check its expectations.
 *
 * sc_run() builds the IOMMU from the scenario's configuration, the devices and the named page
 * tables in its memory, then executes the steps in order, setting the IOMMU's step counter to
 * the step's number (1-based; steps inside a repeat share the repeat's number) so that the
 * oracle's reports say when a stale entry was filled. Each failed expectation becomes one
 * failure record with the file:line of the step, what was expected, what happened, the walk
 * trace of the cached path, a fresh uncached walk, and the oracle's explanation.
 *
 * Threads: every run builds its own IOMMU (and containers) and keeps nothing between calls, so
 * sc_run_file / sc_run on different threads with different results are safe (`vtdsim run -j`);
 * one sc_result is written by one thread.
 */
#ifndef VTDSIM_RUNNER_RUNNER_H
#define VTDSIM_RUNNER_RUNNER_H

#include <stdbool.h>
#include <stdio.h>

#include "runner/scenario.h"

/*
 * Failure texts kept per file by default (all are counted); sc_run_opts.max_failures changes it.
 * Even with no limit, texts stop being kept past SC_MAX_FAILURE_BYTES in all: a repeat can fail
 * ten million times.
 */
#define SC_MAX_FAILURES_KEPT 20u
#define SC_FAILURES_ALL UINT32_MAX
#define SC_MAX_FAILURE_BYTES (UINT64_C(64) << 20)

struct sc_failure {
    unsigned step;      /* 1-based step number */
    unsigned line;      /* of the step in the file */
    char *text;         /* several lines: header, expectation, what happened, traces */
    char *covering_fix; /* a stale DMA's one covering descriptor per cache, described (or NULL) */
};

/* A descriptor the host layer submitted to the IOMMU during a uAPI step (sim/iommu.h's
 * descriptor listener), with the step that issued it. */
#define SC_MAX_ISSUED_KEPT 256u
struct sc_issued {
    unsigned step, line;
    enum sc_kind kind;
    struct vtd_desc d;
    int rc;                 /* 0, or the error the IOMMU refused it with */
};

/* A warning a step raised (an ordering or alignment finding of the model, sim/iommu.h). */
#define SC_MAX_WARNINGS_KEPT 32
struct sc_warning {
    unsigned step, line, col;
    bool expected;          /* the step's expectation named it (warning: or warnings:) */
    char text[192];
};

struct sc_result {
    char *path;
    char *name;             /* the scenario's name (NULL if it did not load) */
    char *load_error;       /* "file:line:col: reason" when loading failed: one line per error,
                               then "file: N errors" when there are several */
    unsigned steps;         /* top-level steps executed */
    unsigned requests;      /* DMA requests made */
    unsigned checks;        /* expectations checked */
    unsigned failed;        /* expectations that did not hold (and steps that failed to execute) */
    struct sc_failure *fail; /* nfail of them, in step order */
    unsigned nfail, fail_cap;
    unsigned fail_dropped;  /* failed steps whose text was not kept (the limit was reached) */
    uint64_t fail_bytes;    /* of the texts kept */
    char *stats;            /* cache statistics table (with opts.stats) */
    bool out_of_memory;     /* an allocation failed: the failures may all follow from it */
    bool timed_out;         /* the run passed opts.timeout and stopped */
    double seconds;
    uint64_t warnings;      /* warnings raised by the steps */
    struct sc_warning warn[SC_MAX_WARNINGS_KEPT]; /* the first of them, with their steps */
    unsigned nwarn;
    uint64_t issued_total;  /* descriptors the uAPI steps issued */
    struct sc_issued *issued; /* the first SC_MAX_ISSUED_KEPT of them, in order */
    unsigned nissued;
    bool audited;           /* the run was audited (sc_run_opts.audit) */
    uint64_t audit_findings;/* the audit's findings, each a failure of its step unless expected */
    uint64_t audit_expected;/* those a step's `expect: audit` asked for */
};

/*
 * Budgets (docs/robustness.md): a scenario whose work or cache configuration exceeds one is
 * refused before it runs, with the file:line:column of the step or configuration; a run that
 * reaches one stops with a failure saying which.
 */
#define SC_DEFAULT_MAX_WORK UINT64_C(100000000)         /* units: 4 KiB pages translated, mapped, filled */
#define SC_DEFAULT_MAX_HOST_BYTES (UINT64_C(2) << 30)   /* caches, device TLBs and simulated memory */

struct sc_run_opts {
    bool stats;             /* fill result.stats */
    size_t max_frames;      /* simulated memory limit in 4 KiB frames (0: SC_DEFAULT_MAX_FRAMES) */
    uint64_t max_work;      /* work budget in units (0: SC_DEFAULT_MAX_WORK) */
    uint64_t max_host_bytes;/* host-memory budget in bytes (0: SC_DEFAULT_MAX_HOST_BYTES) */
    double timeout;         /* seconds the run may take (0: no limit) */
    bool warnings_as_errors;/* a warning no expectation names fails the file */
    unsigned max_errors;    /* load errors reported per file before the load stops (0: SC_DEFAULT_MAX_ERRORS) */
    unsigned max_failures;  /* failure texts kept (0: SC_MAX_FAILURES_KEPT; SC_FAILURES_ALL: all) */
    bool audit;             /* the latent-staleness audit (sim/audit.h, docs/trace-audit.md): each
                               finding fails the step that exposed it */
};

/* Run an already loaded scenario. Returns true when every expectation held. */
bool sc_run(const struct scenario *s, const struct sc_run_opts *o, struct sc_result *r);
/* Load and run one file (a load error is a failed file). */
bool sc_run_file(const char *path, const struct sc_run_opts *o, struct sc_result *r);
bool sc_result_passed(const struct sc_result *r);

/*
 * Inspect the IOMMU part-way through a scenario: run steps 1..upto (a failed expectation does
 * not stop it), then call fn with the IOMMU and its root-table address before teardown.
 * Returns -ERANGE when upto > s->nsteps, -EIO when setup failed (r->load_error says why) or a
 * step raised an error it did not expect (its number in *bad_step), else fn's return value.
 */
typedef int (*sc_inspect_fn)(struct vtd_iommu *io, uint64_t rtaddr, void *arg);
int sc_run_until(const struct scenario *s, unsigned upto, struct sc_result *r, unsigned *bad_step,
                 sc_inspect_fn fn, void *arg);
void sc_result_free(struct sc_result *r);

/* Print the failures (and the load error) of a result. */
void sc_result_print(const struct sc_result *r, FILE *out);

/*
 * Reports for CI: one JSON document / one JUnit XML document for all files, valid whatever bytes
 * the file names and messages hold (runner/text.h). Written aside and renamed into place when
 * complete (walker/outfile.h); never over one of the scenario files. 0, or -errno with
 * "PATH: reason" in err.
 */
#define SC_REPORT_ERR_LEN 512
int sc_report_json(const char *path, const struct sc_result *r, unsigned n, char err[SC_REPORT_ERR_LEN]);
int sc_report_junit(const char *path, const struct sc_result *r, unsigned n, char err[SC_REPORT_ERR_LEN]);

/*
 * One shard of a run (`vtdsim run --shard INDEX/COUNT`): the files k (0-based, in the order the
 * whole run would take them) with k % count == index - 1, so the j-th result of the shard is
 * file (index - 1) + j * count of `total`. Its reports say so (JSON: "shard" and "total", and
 * "index" first in each scenario; JUnit: shard and total properties, an index attribute on each
 * testcase), which is what `vtdsim merge` needs to put the shards back together.
 */
struct sc_shard {
    unsigned index, count; /* 1 <= index <= count */
    unsigned total;        /* files in the whole run */
};
int sc_report_json_shard(const char *path, const struct sc_result *r, unsigned n, const struct sc_shard *shard,
                         char err[SC_REPORT_ERR_LEN]);
int sc_report_junit_shard(const char *path, const struct sc_result *r, unsigned n, const struct sc_shard *shard,
                          char err[SC_REPORT_ERR_LEN]);

#endif
