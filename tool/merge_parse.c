/*
 * merge_parse.c: reading one shard's output for `vtdsim merge`. The three formats are the
 * ones tool/run.c and tool/trace.c write for a shard (runner/report.c, trace/sweep.c): a JSON
 * report with one scenario a line, a JUnit report with one testcase block per file, and a CSV
 * table whose rows start with point,points. Anything else is refused with its file:line:column.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "walker/alloc.h"

/* "FILE:LINE:COLUMN: reason" into m->err; returns -1. */
static int fail_at(struct merge *m, const struct merge_lines *in, size_t col, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(m->err, sizeof m->err, "%s:%lu:%zu: %s", in->path, in->no, col + 1, why);
    return -1;
}

/* The next line (newline dropped); false at the end of the file or on a read error (errno). */
static bool next_line(struct merge_lines *in)
{
    errno = 0;
    ssize_t n = getline(&in->buf, &in->cap, in->f);
    if (n < 0)
        return false;
    in->no++;
    if (n && in->buf[n - 1] == '\n')
        in->buf[--n] = '\0';
    in->len = (size_t)n;
    return true;
}

/* A line that must come next: false (with the reason) when the file ends or says something else. */
static int expect_line(struct merge *m, struct merge_lines *in, const char *what, bool (*ok)(const char *))
{
    if (!next_line(in))
        return errno ? fail_at(m, in, 0, "cannot read: %s", strerror(errno))
                     : fail_at(m, in, in->len, "the file ends where %s should follow (not a whole shard's output)", what);
    return ok(in->buf) ? 0 : fail_at(m, in, 0, "expected %s", what);
}

/* Digits at *p, at most MERGE_MAX_ITEMS; *p moves past them. */
static bool number_at(const char **p, unsigned long *v)
{
    const char *s = *p;
    unsigned long x = 0;
    while (*s >= '0' && *s <= '9' && x <= MERGE_MAX_ITEMS)
        x = x * 10 + (unsigned long)(*s++ - '0');
    if (s == *p || x > MERGE_MAX_ITEMS)
        return false;
    *v = x;
    *p = s;
    return true;
}

/* line == prefix NUMBER suffix exactly. */
static bool field(const char *line, const char *prefix, const char *suffix, unsigned long *v)
{
    size_t n = strlen(prefix);
    const char *p = line + n;
    return !strncmp(line, prefix, n) && number_at(&p, v) && !strcmp(p, suffix);
}

/* The whole run's item count, the same in every input. */
static int take_total(struct merge *m, struct merge_lines *in, unsigned long total)
{
    if (m->total >= 0 && (unsigned long)m->total != total)
        return fail_at(m, in, 0, "a shard of a run of %lu items, where %s is one of %ld: not shards of the same run",
                       total, m->total_from, m->total);
    if (m->total < 0) {
        m->item = vtd_calloc(total ? total : 1, sizeof *m->item);
        if (!m->item)
            return fail_at(m, in, 0, "out of memory for %lu items", total);
        m->total = (long)total;
        m->total_from = in->path;
    }
    return 0;
}

/* Item `index`, whose text is head + rest (+ a newline when nl); an index out of range or seen before is an error. */
static int take_item(struct merge *m, struct merge_lines *in, unsigned long index, const char *head, const char *rest,
                     size_t rest_len, bool nl)
{
    if (m->total < 0 || index >= (unsigned long)m->total)
        return fail_at(m, in, 0, "item %lu, beyond the run's %ld items", index, m->total < 0 ? 0 : m->total);
    struct merge_item *it = &m->item[index];
    if (it->text)
        return fail_at(m, in, 0, "item %lu again (it is at %s:%lu): a shard given twice, or shards of different runs",
                       index, it->from, it->line);
    size_t hl = strlen(head);
    it->text = vtd_malloc(hl + rest_len + 2);
    if (!it->text)
        return fail_at(m, in, 0, "out of memory");
    memcpy(it->text, head, hl);
    memcpy(it->text + hl, rest, rest_len);
    it->len = hl + rest_len;
    if (nl)
        it->text[it->len++] = '\n';
    it->text[it->len] = '\0';
    it->from = in->path;
    it->line = in->no;
    return 0;
}

/* More lines of the current JUnit item (a testcase's warnings and failure). */
static int append_item(struct merge *m, struct merge_lines *in, struct merge_item *it)
{
    char *t = vtd_realloc(it->text, it->len + in->len + 2);
    if (!t)
        return fail_at(m, in, 0, "out of memory");
    memcpy(t + it->len, in->buf, in->len);
    it->len += in->len;
    t[it->len++] = '\n';
    t[it->len] = '\0';
    it->text = t;
    return 0;
}

static bool is_open_brace(const char *l) { return !strcmp(l, "{"); }
static bool is_shard_json(const char *l) { return !strncmp(l, "  \"shard\": \"", 12); }
static bool is_scenarios(const char *l) { return !strcmp(l, "  \"scenarios\": ["); }
static bool is_close_brace(const char *l) { return !strcmp(l, "}"); }
static bool is_xml_decl(const char *l) { return !strncmp(l, "<?xml ", 6); }
static bool is_testsuites(const char *l) { return !strncmp(l, "<testsuites ", 12); }
static bool is_testsuite(const char *l) { return !strncmp(l, "  <testsuite ", 13); }
static bool is_properties(const char *l) { return strstr(l, "<property name=\"total\" value=\"") != NULL; }
static bool is_end_testsuites(const char *l) { return !strcmp(l, "</testsuites>"); }

/* A header line "  \"NAME\": NUMBER," of a JSON shard report. */
static int json_number(struct merge *m, struct merge_lines *in, const char *prefix, unsigned long *v)
{
    if (!next_line(in))
        return fail_at(m, in, in->len, "the file ends where %s should follow", prefix + 2);
    return field(in->buf, prefix, ",", v) ? 0 : fail_at(m, in, 0, "expected %s N,", prefix + 2);
}

static int parse_json(struct merge *m, struct merge_lines *in)
{
    static const char head[] = "    {\"index\": ";
    unsigned long total, passed, failed, items = 0;
    if (expect_line(m, in, "'{' (a vtdsim run --shard --json report)", is_open_brace) ||
        expect_line(m, in, "\"shard\": \"I/N\" (a report of vtdsim run --shard)", is_shard_json) ||
        json_number(m, in, "  \"total\": ", &total) || take_total(m, in, total) ||
        json_number(m, in, "  \"passed\": ", &passed) || json_number(m, in, "  \"failed\": ", &failed) ||
        expect_line(m, in, "\"scenarios\": [", is_scenarios))
        return -1;
    bool closed = false;
    while (!closed && next_line(in)) {
        unsigned long index;
        if ((closed = !strcmp(in->buf, "  ]")))
            break;
        const char *p = in->buf + sizeof head - 1;
        if (strncmp(in->buf, head, sizeof head - 1) || !number_at(&p, &index) || strncmp(p, ", ", 2))
            return fail_at(m, in, 0, "expected a scenario starting {\"index\": N, or the end of the list");
        p += 2;
        size_t len = in->len - (size_t)(p - in->buf);
        if (len && p[len - 1] == ',')
            len--; /* the separator of all but the last */
        if (take_item(m, in, index, "    {", p, len, false))
            return -1;
        items++;
    }
    if (!closed)
        return fail_at(m, in, in->len, "the file ends inside the scenario list");
    if (items != passed + failed)
        return fail_at(m, in, 0, "%lu scenarios listed, where the header counts %lu passed and %lu failed", items,
                       passed, failed);
    m->tests += items;
    m->failed += failed;
    return expect_line(m, in, "'}'", is_close_brace);
}

/* A number attribute NAME="N" of a line. */
static bool attr_number(const char *line, const char *name, unsigned long *v)
{
    const char *p = strstr(line, name);
    return p && (p += strlen(name), number_at(&p, v)) && *p == '"';
}

static int parse_junit(struct merge *m, struct merge_lines *in)
{
    static const char head[] = "    <testcase index=\"";
    unsigned long tests, failed, total, items = 0;
    if (expect_line(m, in, "<?xml ...?> (a vtdsim run --shard --junit report)", is_xml_decl) ||
        expect_line(m, in, "<testsuites ...>", is_testsuites) || expect_line(m, in, "<testsuite ...>", is_testsuite))
        return -1;
    const char *time = strstr(in->buf, " time=\"");
    if (!attr_number(in->buf, " tests=\"", &tests) || !attr_number(in->buf, " failures=\"", &failed) || !time)
        return fail_at(m, in, 0, "a testsuite without tests, failures and time");
    m->seconds += strtod(time + 7, NULL);
    if (expect_line(m, in, "the shard and total properties (a report of vtdsim run --shard)", is_properties))
        return -1;
    if (!attr_number(in->buf, "<property name=\"total\" value=\"", &total) || take_total(m, in, total))
        return -1;
    struct merge_item *cur = NULL;
    bool closed = false;
    while (!closed && next_line(in)) {
        unsigned long index;
        if ((closed = !strcmp(in->buf, "  </testsuite>")))
            break;
        const char *p = in->buf + sizeof head - 1;
        if (!strncmp(in->buf, head, sizeof head - 1)) {
            if (!number_at(&p, &index) || strncmp(p, "\" ", 2))
                return fail_at(m, in, sizeof head - 1, "expected the testcase's index, a number");
            p += 2;
            if (take_item(m, in, index, "    <testcase ", p, in->len - (size_t)(p - in->buf), true))
                return -1;
            cur = &m->item[index];
            items++;
        } else if (!cur) {
            return fail_at(m, in, 0, "expected a testcase with an index (a report of vtdsim run --shard)");
        } else if (append_item(m, in, cur)) {
            return -1;
        }
    }
    if (!closed)
        return fail_at(m, in, in->len, "the file ends inside the testsuite");
    if (items != tests)
        return fail_at(m, in, 0, "%lu testcases, where the testsuite says %lu", items, tests);
    m->tests += tests;
    m->failed += failed;
    return expect_line(m, in, "</testsuites>", is_end_testsuites);
}

static int parse_csv(struct merge *m, struct merge_lines *in)
{
    static const char cols[] = "point,points,";
    if (!next_line(in))
        return fail_at(m, in, 0, "an empty file, not a sweep shard's CSV");
    if (strncmp(in->buf, cols, sizeof cols - 1))
        return fail_at(m, in, 0, "expected the header of a vtdsim trace sweep --shard table (point,points,...)");
    const char *header = in->buf + sizeof cols - 1;
    if (m->csv_header && strcmp(m->csv_header, header))
        return fail_at(m, in, sizeof cols - 1, "the columns differ from the first table's");
    if (!m->csv_header && !(m->csv_header = vtd_strdup(header)))
        return fail_at(m, in, 0, "out of memory");
    while (next_line(in)) {
        unsigned long point, points;
        const char *p = in->buf;
        if (!number_at(&p, &point) || *p++ != ',')
            return fail_at(m, in, 0, "expected the point's number");
        size_t col = (size_t)(p - in->buf);
        if (!number_at(&p, &points) || *p++ != ',')
            return fail_at(m, in, col, "expected the number of points");
        if (take_total(m, in, points) ||
            take_item(m, in, point, "", p, in->len - (size_t)(p - in->buf), false))
            return -1;
    }
    return errno ? fail_at(m, in, 0, "cannot read: %s", strerror(errno)) : 0;
}

int merge_parse(struct merge *m, struct merge_lines *in)
{
    switch (m->kind) {
    case MERGE_JSON:
        return parse_json(m, in);
    case MERGE_JUNIT:
        return parse_junit(m, in);
    default:
        return parse_csv(m, in);
    }
}
