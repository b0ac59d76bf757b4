/*
 * sid.h: source-ids (requester ids) in PCI's bus:device.function notation.
 *
 * Every place that reads a source-id from text (scenario files, CSV traces, the command line)
 * uses vtd_sid_parse(), so that they all accept exactly the same spelling: "bb:dd.f" as lspci
 * prints it, two hexadecimal digits of bus, two of device (00-1f), one of function (0-7), and
 * nothing else (no sign, space, prefix or missing digit).
 */
#ifndef VTDSIM_WALKER_SID_H
#define VTDSIM_WALKER_SID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The n characters at s as a source-id; false if they are not exactly "bb:dd.f". */
bool vtd_sid_parse(const char *s, size_t n, uint16_t *sid);

#endif
