/*
 * bdf.h: source-ids (PCI requester ids) as text, "bb:dd.f": bus 15:8, device 7:3, function 2:0
 * (VT-d 3.4.1). One parser and one formatter for every reader and writer of them.
 *
 * Every place that reads a source-id from text (scenario files, CSV traces, the command line)
 * uses vtd_sid_parse(), so that they all accept exactly the same spelling: "bb:dd.f" as lspci
 * prints it, two hexadecimal digits of bus, two of device (00-1f), one of function (0-7), and
 * nothing else (no sign, space, prefix or missing digit). Every report and description prints
 * them with vtd_bdf_format().
 */
#ifndef VTDSIM_WALKER_BDF_H
#define VTDSIM_WALKER_BDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The n characters at s as a source-id; false if they are not exactly "bb:dd.f". */
bool vtd_sid_parse(const char *s, size_t n, uint16_t *sid);

#define VTD_BDF_LEN 8 /* "bb:dd.f" and its NUL */

struct vtd_bdf_text {
    char s[VTD_BDF_LEN];
};

/* Returned by value, so `printf("%s", vtd_bdf_format(sid).s)` needs no buffer (C11 6.2.4p8). */
struct vtd_bdf_text vtd_bdf_format(uint16_t sid);

#endif
