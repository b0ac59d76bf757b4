/*
 * number.c: the one parser of numbers and sizes (walker/number.h). Written by hand rather than
 * with strtoull, which skips blanks, takes a sign (and wraps "-1" to 2^64 - 1) and reads a
 * leading zero as octal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "walker/number.h"

/* The value of one digit in base 10 or 16, or -1. */
static int digit_value(char c, unsigned base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The n characters at s (n > 0 after any prefix) as a number. */
static int parse_digits(const char *s, size_t n, uint64_t *out)
{
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n == 0)
        return -EINVAL;
    uint64_t v = 0;
    bool big = false;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(s[i], base);
        if (d < 0)
            return -EINVAL;
        /* Keep reading after an overflow: "99999999999999999999x" is not a number at all. */
        if (v > (UINT64_MAX - (unsigned)d) / base)
            big = true;
        v = v * base + (unsigned)d;
    }
    if (big)
        return -ERANGE;
    *out = v;
    return 0;
}

int vtd_number_parse(const char *s, uint64_t *out)
{
    return s ? parse_digits(s, strlen(s), out) : -EINVAL;
}

/* The shift a size suffix stands for (binary units), or 0 for a character that is none. */
static unsigned suffix_shift(char c)
{
    switch (c) {
    case 'K': case 'k': return 10;
    case 'M': case 'm': return 20;
    case 'G': case 'g': return 30;
    case 'T': case 't': return 40;
    default: return 0;
    }
}

int vtd_size_parse(const char *s, uint64_t *out)
{
    if (!s)
        return -EINVAL;
    size_t n = strlen(s);
    unsigned shift = n > 1 ? suffix_shift(s[n - 1]) : 0;
    uint64_t v;
    int rc = parse_digits(s, shift ? n - 1 : n, &v);
    if (rc)
        return rc;
    if (v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}
