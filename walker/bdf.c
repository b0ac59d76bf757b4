/* bdf.c: see bdf.h. A source-id is bus << 8 | device << 3 | function (VT-d 3.4.1). */
#include "walker/bdf.h"

#include <stdio.h>

/* One hexadecimal digit's value, or -1. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value of the n hexadecimal digits at s, or -1 if one is not a digit. */
static int hex_field(const char *s, unsigned n)
{
    int v = 0;
    for (unsigned i = 0; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

bool vtd_sid_parse(const char *s, size_t n, uint16_t *sid)
{
    if (n != 7 || s[2] != ':' || s[5] != '.')
        return false;
    int bus = hex_field(s, 2), dev = hex_field(s + 3, 2), fn = hex_field(s + 6, 1);
    if (bus < 0 || dev < 0 || dev > 0x1f || fn < 0 || fn > 7)
        return false;
    *sid = (uint16_t)(bus << 8 | dev << 3 | fn);
    return true;
}

struct vtd_bdf_text vtd_bdf_format(uint16_t sid)
{
    /* By hand rather than snprintf: reports of a million requests format one per line. */
    static const char hex[] = "0123456789abcdef";
    unsigned bus = sid >> 8, dev = (sid >> 3) & 0x1f;
    struct vtd_bdf_text t = {{hex[bus >> 4], hex[bus & 15], ':', hex[dev >> 4], hex[dev & 15], '.', hex[sid & 7], 0}};
    return t;
}
