/*
 * test_number.c: the one spelling of numbers and sizes (walker/number.h): decimal (a leading
 * zero is not octal) or 0x hex, K/M/G/T binary suffixes, overflow as its own error; and the
 * scenario loader reads `size:` exactly as the parser does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/scenario.h"
#include "walker/number.h"

struct case_ {
    const char *text;
    int rc;
    uint64_t v;
};

static void check(int (*parse)(const char *, uint64_t *), const struct case_ *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0xdead;
        int rc = parse(c[i].text, &v);
        cr_expect_eq(rc, c[i].rc, "'%s': rc %d, wanted %d", c[i].text, rc, c[i].rc);
        if (c[i].rc == 0)
            cr_expect_eq(v, c[i].v, "'%s': %llu, wanted %llu", c[i].text, (unsigned long long)v,
                         (unsigned long long)c[i].v);
        else
            cr_expect_eq(v, 0xdead, "'%s': the output was written on an error", c[i].text);
    }
}

static const struct case_ numbers[] = {
    {"0", 0, 0},
    {"4096", 0, 4096},
    {"010", 0, 10}, /* decimal, never octal */
    {"0x1000", 0, 0x1000},
    {"0XaBc", 0, 0xabc},
    {"18446744073709551615", 0, UINT64_MAX},
    {"18446744073709551616", -ERANGE, 0},
    {"0xffffffffffffffff", 0, UINT64_MAX},
    {"0x10000000000000000", -ERANGE, 0},
    {"99999999999999999999x", -EINVAL, 0}, /* not a number at all, however large */
    {"", -EINVAL, 0},
    {"0x", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"+1", -EINVAL, 0},
    {" 1", -EINVAL, 0},
    {"1 ", -EINVAL, 0},
    {"0b101", -EINVAL, 0},
    {"0o17", -EINVAL, 0},
    {"4K", -EINVAL, 0}, /* a suffix makes a size, not a number */
    {"1.5", -EINVAL, 0},
    {"0xg", -EINVAL, 0},
};

static const struct case_ sizes[] = {
    {"4096", 0, 4096},
    {"010", 0, 10},
    {"010K", 0, 10240},
    {"4K", 0, 4096},
    {"4k", 0, 4096},
    {"2M", 0, 2u << 20},
    {"1G", 0, 1u << 30},
    {"1t", 0, UINT64_C(1) << 40},
    {"0x10M", 0, UINT64_C(16) << 20},
    {"0x1b", 0, 0x1b}, /* b is a hex digit, not a suffix */
    {"16777215T", 0, UINT64_C(16777215) << 40},
    {"16777216T", -ERANGE, 0},
    {"17179869184G", -ERANGE, 0},
    {"18446744073709551616K", -ERANGE, 0},
    {"K", -EINVAL, 0},
    {"4KiB", -EINVAL, 0},
    {"4KB", -EINVAL, 0},
    {"4 K", -EINVAL, 0},
    {"4Q", -EINVAL, 0},
    {"1.5K", -EINVAL, 0},
    {"-4K", -EINVAL, 0},
    {"0xK", -EINVAL, 0},
    {"", -EINVAL, 0},
};

Test(number, numbers) { check(vtd_number_parse, numbers, sizeof numbers / sizeof numbers[0]); }

Test(number, sizes) { check(vtd_size_parse, sizes, sizeof sizes / sizeof sizes[0]); }

Test(number, null_is_not_a_number)
{
    uint64_t v;
    cr_expect_eq(vtd_number_parse(NULL, &v), -EINVAL);
    cr_expect_eq(vtd_size_parse(NULL, &v), -EINVAL);
}

/* A scenario's `size:` takes what vtd_size_parse takes, with the same value. */
Test(number, scenario_sizes_follow_the_parser)
{
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char text[256];
        int n = snprintf(text, sizeof text,
                         "name: t\ntables:\n  - {name: fs, format: fs}\nsteps:\n"
                         "  - map: {table: fs, va: 0, pa: 0, size: \"%s\", perm: rw}\n", sizes[i].text);
        struct sc_error err;
        struct scenario *s = sc_load_string("t.yaml", text, (size_t)n, &err);
        bool want = sizes[i].rc == 0 && sizes[i].v != 0; /* a map's size is at least 1 */
        cr_expect_eq(s != NULL, want, "size '%s': %s", sizes[i].text, s ? "loaded" : err.msg);
        if (s && want)
            cr_expect_eq(s->steps[0].v[A_SIZE], sizes[i].v, "size '%s'", sizes[i].text);
        if (sizes[i].rc == -ERANGE)
            cr_expect(strstr(err.msg, "does not fit in 64 bits") != NULL, "size '%s': %s", sizes[i].text, err.msg);
        sc_free(s);
    }
}
