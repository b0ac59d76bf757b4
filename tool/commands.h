/*
 * commands.h: the vtdsim tool's subcommands. Each takes argc/argv after its own name and
 * returns the process exit status.
 */
#ifndef VTDSIM_TOOL_COMMANDS_H
#define VTDSIM_TOOL_COMMANDS_H

#include <stdio.h>

int cmd_demo(int argc, char **argv);
/* Replay YAML scenarios (tool/run.c). */
int cmd_run(int argc, char **argv);
/* Replay a scenario up to a step and translate one request (tool/translate.c). */
int cmd_translate(int argc, char **argv);
/* Probe every CACHE_INVLD cell on fresh simulated worlds (host/invtable.c). */
int cmd_inv_table(int argc, char **argv);
/* Hit-rate studies on DMA traces: gen, replay, sweep, convert (tool/trace.c). */
int cmd_trace(int argc, char **argv);

/*
 * A usage error of `vtdsim CMD`: "vtdsim CMD: " + fmt (with arg) + a pointer to --help on
 * stderr. Returns 2, the tools' exit status for usage errors (tool/main.c).
 */
static inline int tool_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "vtdsim %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see 'vtdsim %s --help')\n", cmd);
    return 2;
}

#endif
