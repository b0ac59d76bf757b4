/*
 * bdf.c: a source-id as "bb:dd.f" (VT-d 3.4.1).
 */
#include "walker/bdf.h"

#include <stdio.h>

struct vtd_bdf_text vtd_bdf_format(uint16_t sid)
{
    struct vtd_bdf_text t;
    snprintf(t.s, sizeof t.s, "%02x:%02x.%x", (unsigned)(sid >> 8), (unsigned)((sid >> 3) & 0x1f), (unsigned)(sid & 7));
    return t;
}
