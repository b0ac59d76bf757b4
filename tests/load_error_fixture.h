/*
 * load_error_fixture.h: the loader's "line:col: reason" for a scenario text that must not load,
 * and an assertion on it, for the Criterion suites that check load errors.
 */
#ifndef VTDSIM_TESTS_LOAD_ERROR_FIXTURE_H
#define VTDSIM_TESTS_LOAD_ERROR_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "runner/scenario.h"

static const char *load_error(const char *text)
{
    static char buf[512];
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    if (s) {
        sc_free(s);
        return "(loaded)";
    }
    snprintf(buf, sizeof buf, "%u:%u: %s", err.line, err.col, err.msg);
    return buf;
}

#define expect_load_error(text, want)                                                                      \
    do {                                                                                                   \
        const char *got_ = load_error(text);                                                               \
        cr_assert(strstr(got_, want) != NULL, "expected \"%s\", got \"%s\"", want, got_);                  \
    } while (0)

#endif
