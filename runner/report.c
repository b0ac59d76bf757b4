/*
 * report.c: machine-readable reports of a `vtdsim run` for CI: a JSON document (one object per
 * file with its failures) and a JUnit XML document (one testcase per file, which CI systems
 * display natively).
 */
#include <errno.h>
#include <stdio.h>

#include "runner/runner.h"

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_result(FILE *f, const struct sc_result *r)
{
    fputs("    {\"file\": ", f);
    json_str(f, r->path);
    fputs(", \"name\": ", f);
    json_str(f, r->name ? r->name : "");
    fprintf(f, ", \"passed\": %s, \"steps\": %u, \"requests\": %u, \"checks\": %u, \"failed_checks\": %u, "
               "\"seconds\": %.6f",
            sc_result_passed(r) ? "true" : "false", r->steps, r->requests, r->checks, r->failed, r->seconds);
    if (r->load_error) {
        fputs(", \"load_error\": ", f);
        json_str(f, r->load_error);
    }
    fputs(", \"failures\": [", f);
    for (unsigned i = 0; i < r->nfail; i++) {
        fprintf(f, "%s{\"step\": %u, \"line\": %u, \"text\": ", i ? ", " : "", r->fail[i].step, r->fail[i].line);
        json_str(f, r->fail[i].text);
        fputc('}', f);
    }
    fputs("]}", f);
}

int sc_report_json(const char *path, const struct sc_result *r, unsigned n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    unsigned passed = 0;
    for (unsigned i = 0; i < n; i++)
        passed += sc_result_passed(&r[i]);
    fprintf(f, "{\n  \"passed\": %u,\n  \"failed\": %u,\n  \"scenarios\": [\n", passed, n - passed);
    for (unsigned i = 0; i < n; i++) {
        json_result(f, &r[i]);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    return fclose(f) ? -errno : 0;
}

static void xml_str(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* XML 1.0 allows no control characters but tab and newline. */
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

int sc_report_junit(const char *path, const struct sc_result *r, unsigned n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    unsigned failed = 0;
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        failed += !sc_result_passed(&r[i]);
        total += r[i].seconds;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" time=\"%.6f\">\n", n, failed, total);
    fprintf(f, "  <testsuite name=\"vtdsim scenarios\" tests=\"%u\" failures=\"%u\" time=\"%.6f\">\n", n, failed, total);
    for (unsigned i = 0; i < n; i++) {
        fputs("    <testcase classname=\"scenarios\" name=\"", f);
        xml_str(f, r[i].name ? r[i].name : r[i].path);
        fputs("\" file=\"", f);
        xml_str(f, r[i].path);
        fprintf(f, "\" time=\"%.6f\"", r[i].seconds);
        if (sc_result_passed(&r[i])) {
            fputs("/>\n", f);
            continue;
        }
        fprintf(f, ">\n      <failure message=\"%u failed expectation(s)\">", r[i].failed);
        xml_str(f, r[i].load_error);
        for (unsigned k = 0; k < r[i].nfail; k++)
            xml_str(f, r[i].fail[k].text);
        fputs("</failure>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    return fclose(f) ? -errno : 0;
}
