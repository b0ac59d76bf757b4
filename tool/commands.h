/*
 * commands.h: the vtdsim tool's subcommands. Each takes argc/argv after its own name and
 * returns the process exit status.
 */
#ifndef VTDSIM_TOOL_COMMANDS_H
#define VTDSIM_TOOL_COMMANDS_H

#include <stdint.h>
#include <stdio.h>

#include "runner/scenario.h"
#include "runner/text.h"
#include "walker/mem.h"
#include "walker/walk.h"

int cmd_demo(int argc, char **argv);
/* Replay YAML scenarios (tool/run.c). */
int cmd_run(int argc, char **argv);
/* Replay a scenario up to a step and translate one request (tool/translate.c). */
int cmd_translate(int argc, char **argv);
/* Probe every CACHE_INVLD cell on fresh simulated worlds (host/invtable.c). */
int cmd_inv_table(int argc, char **argv);
/* inv-table --range: one range under every policy (tool/invrange.c, host/invrange.c). */
int inv_table_range(uint64_t addr, uint64_t size, const char *json);
/* Read the structures of a memory image (tool/inspect.c, inspect/). */
int cmd_inspect(int argc, char **argv);
/* Every structure a walk read, one line of address and value and one of decoded fields each
 * (translate --explain, inspect translate --explain; tool/explain_print.c). */
void tool_explain_trace(struct vtd_mem *m, const struct vtd_trace *t);
/* Hit-rate studies on DMA traces: gen, replay, sweep, convert (tool/trace.c). */
int cmd_trace(int argc, char **argv);
/* Join the outputs of a sharded run or sweep (tool/merge.c). */
int cmd_merge(int argc, char **argv);
/* The JSON Schema for scenario files (tool/schema.c). */
int cmd_schema(int argc, char **argv);

/*
 * A usage error of `vtdsim CMD`: "vtdsim CMD: " + fmt (with arg) + a pointer to --help on
 * stderr. Returns 2, the tools' exit status for usage errors (tool/main.c). The text is escaped
 * for the terminal (runner/text.h): an argument may hold anything.
 */
static inline int tool_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    fprintf(stderr, "vtdsim %s: ", cmd);
    sc_text_terminal(stderr, msg);
    fprintf(stderr, "\n(see 'vtdsim %s --help')\n", cmd);
    return 2;
}

/* The errors of a scenario that does not load, one a line as tool_error prints them, then
 * "FILE: N errors" when there are several. Returns 2. */
static inline int tool_load_errors(const char *cmd, const char *path, const struct sc_error *err)
{
    char buf[1024];
    unsigned n = sc_error_count(err);
    for (unsigned i = 0; i < n; i++) {
        sc_error_format_nth(path, err, i, buf, sizeof buf);
        fprintf(stderr, "vtdsim %s: ", cmd);
        sc_text_terminal(stderr, buf);
        fputc('\n', stderr);
    }
    if (n > 1 || err->more) {
        sc_error_format_summary(path, err, buf, sizeof buf);
        fprintf(stderr, "vtdsim %s: ", cmd);
        sc_text_terminal(stderr, buf);
        fputc('\n', stderr);
    }
    return 2;
}

/* An error of `vtdsim CMD` (a file that cannot be read or written, a bad input): the message,
 * escaped for the terminal, on stderr. Returns 2 (docs/cli.md, exit status). */
static inline int tool_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "vtdsim %s: ", cmd);
    sc_text_terminal(stderr, msg);
    fputc('\n', stderr);
    return 2;
}

#endif
