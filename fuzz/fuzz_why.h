/*
 * fuzz_why.h: how every fuzz input reports a violated property: a formatted reason in the
 * caller's buffer (when it gave one), and -1 for the target to turn into a crash.
 */
#ifndef VTDSIM_FUZZ_WHY_H
#define VTDSIM_FUZZ_WHY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline int fuzz_fail(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif
