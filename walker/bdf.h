/*
 * bdf.h: a PCI requester id (source-id) as text, "bb:dd.f" (bus 15:8, device 7:3, function 2:0;
 * VT-d 3.4.1), the one formatter every report and description uses. The parser of scenario
 * files' `bdf:` values is the loader's (runner/).
 */
#ifndef VTDSIM_WALKER_BDF_H
#define VTDSIM_WALKER_BDF_H

#include <stdint.h>

#define VTD_BDF_LEN 8 /* "bb:dd.f" and its NUL */

struct vtd_bdf_text {
    char s[VTD_BDF_LEN];
};

/* Returned by value, so `printf("%s", vtd_bdf_format(sid).s)` needs no buffer (C11 6.2.4p8). */
struct vtd_bdf_text vtd_bdf_format(uint16_t sid);

#endif
