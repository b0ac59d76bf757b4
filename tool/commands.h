/*
 * commands.h: the vtdsim tool's subcommands. Each takes argc/argv after its own name and
 * returns the process exit status.
 */
#ifndef VTDSIM_TOOL_COMMANDS_H
#define VTDSIM_TOOL_COMMANDS_H

int cmd_demo(int argc, char **argv);
/* Replay YAML scenarios (tool/run.c). */
int cmd_run(int argc, char **argv);

#endif
