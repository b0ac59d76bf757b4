/*
 * report.c: machine-readable reports of a `vtdsim run` for CI: a JSON document (one object per
 * file with its failures) and a JUnit XML document (one testcase per file, which CI systems
 * display natively). Both are valid for any bytes in names and messages (runner/text.h) and are
 * written aside and renamed into place when complete (walker/outfile.h).
 */
#include <errno.h>
#include <stdio.h>

#include "runner/runner.h"
#include "runner/text.h"
#include "walker/alloc.h"
#include "walker/outfile.h"

/*
 * Open a report (walker/outfile.h: written aside and renamed into place when complete), refusing
 * to overwrite any of the scenario files it reports on.
 */
static int report_open(struct vtd_outfile *o, const char *path, const struct sc_result *r, unsigned n,
                       char err[SC_REPORT_ERR_LEN])
{
    const char **inputs = vtd_calloc(n ? n : 1, sizeof(*inputs));
    if (!inputs) {
        snprintf(err, SC_REPORT_ERR_LEN, "%s: out of memory", path);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        inputs[i] = r[i].path;
    int rc = vtd_outfile_open(o, path, inputs, n);
    vtd_free(inputs);
    if (rc)
        snprintf(err, SC_REPORT_ERR_LEN, "%s", o->err);
    return rc;
}

static int report_commit(struct vtd_outfile *o, char err[SC_REPORT_ERR_LEN])
{
    int rc = vtd_outfile_commit(o);
    if (rc)
        snprintf(err, SC_REPORT_ERR_LEN, "%s", o->err);
    return rc;
}

/* The descriptors the uAPI steps issued: step, line, kind, errno (0: accepted), description and
 * qwords. */
static void json_issued(FILE *f, const struct sc_result *r)
{
    fprintf(f, ", \"descriptor_count\": %llu, \"descriptors\": [", (unsigned long long)r->issued_total);
    for (unsigned i = 0; i < r->nissued; i++) {
        const struct sc_issued *d = &r->issued[i];
        char t[160];
        vtd_qi_describe(d->d.qw, d->d.nqw, t, sizeof t);
        fprintf(f, "%s{\"step\": %u, \"line\": %u, \"kind\": \"%s\", \"error\": %d, \"text\": ", i ? ", " : "",
                d->step, d->line, sc_kind_name(d->kind), -d->rc);
        sc_text_json(f, t);
        fputs(", \"qw\": [", f);
        for (unsigned q = 0; q < d->d.nqw; q++)
            fprintf(f, "%s\"0x%llx\"", q ? ", " : "", (unsigned long long)d->d.qw[q]);
        fputs("]}", f);
    }
    fputc(']', f);
}

/* The place of a shard's j-th result in the whole run. */
static unsigned shard_item(const struct sc_shard *shard, unsigned j)
{
    return shard->index - 1 + j * shard->count;
}

/* index: the result's place in the whole run, written first when the report is a shard's; -1: not a shard. */
static void json_result(FILE *f, const struct sc_result *r, long index)
{
    fputs("    {", f);
    if (index >= 0)
        fprintf(f, "\"index\": %ld, ", index);
    fputs("\"file\": ", f);
    sc_text_json(f, r->path);
    fputs(", \"name\": ", f);
    sc_text_json(f, r->name ? r->name : "");
    fprintf(f, ", \"passed\": %s, \"steps\": %u, \"requests\": %u, \"checks\": %u, \"failed_checks\": %u, "
               "\"seconds\": %.6f",
            sc_result_passed(r) ? "true" : "false", r->steps, r->requests, r->checks, r->failed, r->seconds);
    if (r->audited)
        fprintf(f, ", \"audit_findings\": %llu, \"audit_expected\": %llu", (unsigned long long)r->audit_findings,
                (unsigned long long)r->audit_expected);
    if (r->load_error) {
        fputs(", \"load_error\": ", f);
        sc_text_json(f, r->load_error);
    }
    fputs(", \"failures\": [", f);
    for (unsigned i = 0; i < r->nfail; i++) {
        fprintf(f, "%s{\"step\": %u, \"line\": %u, \"text\": ", i ? ", " : "", r->fail[i].step, r->fail[i].line);
        sc_text_json(f, r->fail[i].text);
        if (r->fail[i].covering_fix) {
            fputs(", \"covering_fix\": ", f);
            sc_text_json(f, r->fail[i].covering_fix);
        }
        fputc('}', f);
    }
    fprintf(f, "], \"warning_count\": %llu, \"warnings\": [", (unsigned long long)r->warnings);
    for (unsigned i = 0; i < r->nwarn; i++) {
        const struct sc_warning *w = &r->warn[i];
        fprintf(f, "%s{\"step\": %u, \"line\": %u, \"column\": %u, \"expected\": %s, \"text\": ", i ? ", " : "",
                w->step, w->line, w->col, w->expected ? "true" : "false");
        sc_text_json(f, w->text);
        fputc('}', f);
    }
    fputc(']', f);
    json_issued(f, r);
    fputc('}', f);
}

/* The warnings of one file as JUnit's <system-out>: "file:line:col: step N: text" lines. */
static void junit_warnings(FILE *f, const struct sc_result *r)
{
    if (!r->nwarn)
        return;
    fputs("      <system-out>", f);
    for (unsigned i = 0; i < r->nwarn; i++) {
        char head[64];
        sc_text_xml(f, r->path);
        snprintf(head, sizeof head, ":%u:%u: step %u%s: ", r->warn[i].line, r->warn[i].col, r->warn[i].step,
                 r->warn[i].expected ? " (expected)" : "");
        sc_text_xml(f, head);
        sc_text_xml(f, r->warn[i].text);
        sc_text_xml(f, "\n");
    }
    fputs("</system-out>\n", f);
}

int sc_report_json_shard(const char *path, const struct sc_result *r, unsigned n, const struct sc_shard *shard,
                         char err[SC_REPORT_ERR_LEN])
{
    struct vtd_outfile o;
    int rc = report_open(&o, path, r, n, err);
    if (rc)
        return rc;
    FILE *f = o.f;
    unsigned passed = 0;
    for (unsigned i = 0; i < n; i++)
        passed += sc_result_passed(&r[i]);
    fputs("{\n", f);
    if (shard)
        fprintf(f, "  \"shard\": \"%u/%u\",\n  \"total\": %u,\n", shard->index, shard->count, shard->total);
    fprintf(f, "  \"passed\": %u,\n  \"failed\": %u,\n  \"scenarios\": [\n", passed, n - passed);
    for (unsigned i = 0; i < n; i++) {
        json_result(f, &r[i], shard ? (long)shard_item(shard, i) : -1);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    return report_commit(&o, err);
}

int sc_report_json(const char *path, const struct sc_result *r, unsigned n, char err[SC_REPORT_ERR_LEN])
{
    return sc_report_json_shard(path, r, n, NULL, err);
}

int sc_report_junit_shard(const char *path, const struct sc_result *r, unsigned n, const struct sc_shard *shard,
                          char err[SC_REPORT_ERR_LEN])
{
    struct vtd_outfile o;
    int rc = report_open(&o, path, r, n, err);
    if (rc)
        return rc;
    FILE *f = o.f;
    unsigned failed = 0;
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        failed += !sc_result_passed(&r[i]);
        total += r[i].seconds;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" time=\"%.6f\">\n", n, failed, total);
    fprintf(f, "  <testsuite name=\"vtdsim scenarios\" tests=\"%u\" failures=\"%u\" time=\"%.6f\">\n", n, failed, total);
    if (shard)
        fprintf(f, "    <properties><property name=\"shard\" value=\"%u/%u\"/><property name=\"total\" value=\"%u\"/>"
                   "</properties>\n", shard->index, shard->count, shard->total);
    for (unsigned i = 0; i < n; i++) {
        fputs("    <testcase ", f);
        if (shard)
            fprintf(f, "index=\"%u\" ", shard_item(shard, i));
        fputs("classname=\"scenarios\" name=\"", f);
        sc_text_xml(f, r[i].name ? r[i].name : r[i].path);
        fputs("\" file=\"", f);
        sc_text_xml(f, r[i].path);
        fprintf(f, "\" time=\"%.6f\"", r[i].seconds);
        if (sc_result_passed(&r[i]) && !r[i].nwarn) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n", f);
        junit_warnings(f, &r[i]);
        if (sc_result_passed(&r[i])) {
            fputs("    </testcase>\n", f);
            continue;
        }
        fprintf(f, "      <failure message=\"%u failed expectation(s)\">", r[i].failed);
        sc_text_xml(f, r[i].load_error);
        for (unsigned k = 0; k < r[i].nfail; k++)
            sc_text_xml(f, r[i].fail[k].text);
        fputs("</failure>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    return report_commit(&o, err);
}

int sc_report_junit(const char *path, const struct sc_result *r, unsigned n, char err[SC_REPORT_ERR_LEN])
{
    return sc_report_junit_shard(path, r, n, NULL, err);
}
