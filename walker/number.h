/*
 * number.h: numbers and sizes as text. One parser for every reader of them (scenario files, the
 * command line), so that they all accept exactly the same spelling:
 *
 *   number  decimal digits ("4096", "010" is ten: a leading zero is not octal), or "0x"/"0X"
 *           and hexadecimal digits ("0x1000"); nothing else: no sign, blank, "0b" or "0o"
 *   size    a number, then at most one suffix K, M, G or T (either case) multiplying it by
 *           2^10, 2^20, 2^30 or 2^40 ("4K" is 4096, "0x10M" is 16 MiB); no "KiB", "KB" or "k4"
 *
 * A value that does not fit in 64 bits is an error of its own (-ERANGE), so that messages can
 * say "too large" rather than "not a number".
 */
#ifndef VTDSIM_WALKER_NUMBER_H
#define VTDSIM_WALKER_NUMBER_H

#include <stdint.h>

/* s as a number: 0, -EINVAL (not one) or -ERANGE (beyond 2^64 - 1); *out set only on 0. */
int vtd_number_parse(const char *s, uint64_t *out);
/* s as a size (a number with an optional K/M/G/T suffix): the same returns. */
int vtd_size_parse(const char *s, uint64_t *out);

#endif
