/*
 * commands.h: the vtdsim tool's subcommands. Each takes argc/argv after its own name and
 * returns the process exit status.
 */
#ifndef VTDSIM_TOOL_COMMANDS_H
#define VTDSIM_TOOL_COMMANDS_H

int cmd_demo(int argc, char **argv);
/* Replay YAML scenarios (tool/run.c). */
int cmd_run(int argc, char **argv);
/* Replay a scenario up to a step and translate one request (tool/translate.c). */
int cmd_translate(int argc, char **argv);
/* Probe every CACHE_INVLD cell on fresh simulated worlds (tool/invtable.c). */
int cmd_inv_table(int argc, char **argv);
/* Hit-rate studies on DMA traces: gen, replay, sweep, convert (tool/trace.c). */
int cmd_trace(int argc, char **argv);

#endif
