/*
 * inspect_cmds.h: the commands of `vtdsim inspect` (tool/inspect_cmds.c), each given the
 * inspection context tool/inspect.c built from the image and registers, and its own arguments
 * (argv[0] is the command's name). Each returns the exit status.
 */
#ifndef VTDSIM_TOOL_INSPECT_CMDS_H
#define VTDSIM_TOOL_INSPECT_CMDS_H

#include <stdbool.h>
#include <stdint.h>

#include "inspect/inspect.h"

int insp_cmd_translate(const struct vtd_inspect *in, int argc, char **argv);
int insp_cmd_devices(const struct vtd_inspect *in, int argc, char **argv);
int insp_cmd_mappings(const struct vtd_inspect *in, int argc, char **argv);
int insp_cmd_check(const struct vtd_inspect *in, int argc, char **argv);
int insp_cmd_queue(const struct vtd_inspect *in, int argc, char **argv);

/* A usage error of `vtdsim inspect`: the message and a pointer to --help; returns 2. */
int insp_usage(const char *fmt, const char *arg);
/* A number: 0x-hex or decimal (hex_default: hex with or without 0x), nothing else, at most max. */
bool insp_parse_u64(const char *s, bool hex_default, uint64_t max, uint64_t *v);

#endif
