/*
 * merge.c: `vtdsim merge (--json|--junit|--csv) OUT SHARD...`: the outputs of a run or sweep
 * split with --shard I/N (tool/shard.h), joined into the file the whole run would have written:
 * every item at its place in the whole run, the totals summed. A missing or repeated item is an
 * error, so a lost shard cannot pass for a smaller run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "merge.h"
#include "walker/alloc.h"
#include "walker/hostfile.h"
#include "walker/outfile.h"

static const char merge_help[] =
    "usage: vtdsim merge --json OUT SHARD...   join 'vtdsim run --shard I/N --json' reports\n"
    "       vtdsim merge --junit OUT SHARD...  join 'vtdsim run --shard I/N --junit' reports\n"
    "       vtdsim merge --csv OUT SHARD...    join 'vtdsim trace sweep --shard I/N --csv' tables\n"
    "\n"
    "Writes the file one unsharded run would have written: the scenarios (or sweep points) in\n"
    "the whole run's order, the totals summed (times are the shards' own). Give every shard's\n"
    "output once, in any order; an item missing or given twice is an error naming it. A run's\n"
    "merged totals end the output as 'N passed, M failed'.\n"
    "\n"
    "options:\n"
    "  --json OUT     merge JSON reports of vtdsim run --shard\n"
    "  --junit OUT    merge JUnit reports of vtdsim run --shard\n"
    "  --csv OUT      merge CSV tables of vtdsim trace sweep --shard\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 merged (a run: every file passed), 1 merged, and the run had a failed file,\n"
    "2 on a usage error, an input that is not a shard's output, a missing or repeated item, or\n"
    "an output that cannot be written.\n";

/* Take in every input; 0, or -1 with the reason in m->err. */
static int read_inputs(struct merge *m, char **paths, int n)
{
    for (int i = 0; i < n; i++) {
        char why[256];
        struct merge_lines in = {.path = paths[i]};
        in.f = vtd_fopen_regular(paths[i], NULL, why, sizeof why);
        if (!in.f) {
            snprintf(m->err, sizeof m->err, "%s: %s", paths[i], why);
            return -1;
        }
        int rc = merge_parse(m, &in);
        free(in.buf); /* getline's buffer */
        fclose(in.f);
        if (rc)
            return -1;
    }
    if (m->total < 0) /* only sweep tables without a row */
        m->total = 0;
    for (long k = 0; k < m->total; k++)
        if (!m->item[k].text) {
            snprintf(m->err, sizeof m->err, "item %ld of the %ld of the whole run is in no input: a shard is missing "
                     "(its output was given by %s)", k, m->total, m->total_from);
            return -1;
        }
    return 0;
}

/* The whole run's file, as runner/report.c and trace/sweep.c write it unsharded. */
static void write_merged(FILE *f, const struct merge *m)
{
    unsigned long n = (unsigned long)m->total;
    if (m->kind == MERGE_JSON)
        fprintf(f, "{\n  \"passed\": %lu,\n  \"failed\": %lu,\n  \"scenarios\": [\n", m->tests - m->failed, m->failed);
    else if (m->kind == MERGE_JUNIT)
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%lu\" failures=\"%lu\" time=\"%.6f\">\n"
                   "  <testsuite name=\"vtdsim scenarios\" tests=\"%lu\" failures=\"%lu\" time=\"%.6f\">\n",
                n, m->failed, m->seconds, n, m->failed, m->seconds);
    else
        fprintf(f, "%s\n", m->csv_header ? m->csv_header : "");
    for (unsigned long k = 0; k < n; k++) {
        fwrite(m->item[k].text, 1, m->item[k].len, f);
        if (m->kind == MERGE_JSON)
            fputs(k + 1 < n ? ",\n" : "\n", f);
        else if (m->kind == MERGE_CSV)
            fputc('\n', f);
    }
    if (m->kind == MERGE_JSON)
        fputs("  ]\n}\n", f);
    else if (m->kind == MERGE_JUNIT)
        fputs("  </testsuite>\n</testsuites>\n", f);
}

static void merge_free(struct merge *m)
{
    for (long k = 0; m->item && k < m->total; k++)
        vtd_free(m->item[k].text);
    vtd_free(m->item);
    vtd_free(m->csv_header);
}

static int merge_run(struct merge *m, const char *out, char **inputs, int n)
{
    struct vtd_outfile o;
    if (read_inputs(m, inputs, n))
        return tool_error("merge", m->err);
    if (vtd_outfile_open(&o, out, (const char *const *)inputs, (size_t)n))
        return tool_error("merge", o.err);
    write_merged(o.f, m);
    if (vtd_outfile_commit(&o))
        return tool_error("merge", o.err);
    if (m->kind == MERGE_CSV) {
        fprintf(stderr, "%ld points of %d shard file%s written to ", m->total, n, n == 1 ? "" : "s");
        sc_text_terminal(stderr, out);
        fputc('\n', stderr);
        return 0;
    }
    printf("%lu passed, %lu failed\n", m->tests - m->failed, m->failed);
    return m->failed ? 1 : 0;
}

int cmd_merge(int argc, char **argv)
{
    static const char *const kinds[] = {"--json", "--junit", "--csv"};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(merge_help, stdout);
        return 0;
    }
    struct merge m = {.total = -1};
    int kind = -1;
    for (int k = 0; argc >= 2 && k < 3; k++)
        if (!strcmp(argv[1], kinds[k]))
            kind = k;
    if (kind < 0)
        return tool_usage_error("merge", "the first argument is --json, --junit or --csv, not '%s'", argc >= 2 ? argv[1] : "");
    if (argc < 4)
        return tool_usage_error("merge", "%s needs OUT and at least one shard's output", argv[1]);
    m.kind = (enum merge_kind)kind;
    int rc = merge_run(&m, argv[2], argv + 3, argc - 3);
    merge_free(&m);
    return rc;
}
