/*
 * invtable.c: `vtdsim inv-table`: print (or write as JSON) the uAPI invalidation table that
 * the probe in host/invtable.c measures.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "host/invtable.h"
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>

#include "host/invrange.h"
#include "walker/outfile.h"
#include "walker/alloc.h"
#include "walker/number.h"

/* ---- output ------------------------------------------------------------------------------- */

static const char *errno_name(int e)
{
    return e == 0 ? "0" : e == -EINVAL ? "-EINVAL" : e == -ENOENT ? "-ENOENT" : e == -ENOMEM ? "-ENOMEM" : "-E?";
}

static const char *removed_name(enum inv_removed r)
{
    return r == IR_YES ? "yes" : r == IR_NO ? "no" : "-";
}

static void print_caches(FILE *f, unsigned bits, const char *sep)
{
    const char *s = "";
    for (int c = 0; c <= VTD_C_NCACHES; c++)
        if (bits & (1u << c)) {
            fprintf(f, "%s%s", s, inv_cache_name(c));
            s = sep;
        }
}

static void print_cell_line(FILE *f, const struct inv_cell *cell, unsigned line)
{
    char buf[64];
    if (line == 0) {
        snprintf(buf, sizeof buf, "errno %s", cell->probe_err ? "probe failed" : errno_name(cell->err));
        fprintf(f, " %-30s |", buf);
        return;
    }
    if (line <= IK_N) {
        enum inv_kind k = (enum inv_kind)(line - 1);
        char *q = buf + snprintf(buf, sizeof buf, "%-11s %s", inv_kind_name(k), removed_name(cell->removed[k]));
        if (cell->removed[k] == IR_NO && cell->left[k]) {
            const char *sep = " (";
            for (int c = 0; c <= VTD_C_NCACHES; c++)
                if (cell->left[k] & (1u << c)) {
                    q += snprintf(q, sizeof buf - (size_t)(q - buf), "%s%s", sep, inv_cache_name(c));
                    sep = ",";
                }
            snprintf(q, sizeof buf - (size_t)(q - buf), ")");
        }
        fprintf(f, " %-30s |", buf);
        return;
    }
    /* The victims that lost something, by short name; details in the list below the table. */
    static const char *const short_name[IV_N] = {"pasid", "page", "ats-pasid", "ats-page"};
    char *q = buf + snprintf(buf, sizeof buf, "over-inv. %s", cell->err ? "-" : "");
    const char *sep = "";
    for (unsigned v = 0; v < IV_N && !cell->err; v++)
        if (cell->lost[v]) {
            q += snprintf(q, sizeof buf - (size_t)(q - buf), "%s%s", sep, short_name[v]);
            sep = ",";
        }
    if (!cell->err && !*sep)
        snprintf(q, sizeof buf - (size_t)(q - buf), "none");
    fprintf(f, " %-30s |", buf);
}

static void print_over(FILE *f, const struct inv_table *t)
{
    fprintf(f, "\nover-invalidation (entries the change did not concern, removed):\n");
    for (unsigned row = 0; row < INV_ROWS; row++)
        for (unsigned col = 0; col < IC_N; col++)
            for (unsigned v = 0; v < IV_N; v++) {
                unsigned lost = t->cell[row][col].lost[v];
                if (!lost)
                    continue;
                fprintf(f, "  %-6s x %-11s: %-15s lost ", inv_row_name(row), inv_col_name((enum inv_col)col),
                        inv_victim_name((enum inv_victim)v));
                print_caches(f, lost, ", ");
                fprintf(f, "\n");
            }
}

static const char table_legend[] =
    "\nlegend:\n"
    "  errno        the iommu layer's answer to the cell's CACHE_INVLD (PASID flag and the changed\n"
    "               PASID; ADDR: the changed 4 KiB page, no LEAF hint); -EINVAL: refused\n"
    "  leaf PTE     change: the PTE of page 0x3000 points at another guest page (stale: IOTLB)\n"
    "  non-leaf     change: the PDE above it points at another page table (stale: IOTLB, PSC)\n"
    "  PASID entry  change: the PASID entry's first-stage pointer rewritten in place (stale:\n"
    "               PASID cache, IOTLB)\n"
    "  device TLB   change: the leaf PTE change, seen by the ATS device (stale: its device TLB)\n"
    "  yes          the request removed the stale entry: the next DMA gets the new translation\n"
    "  no (...)     it did not: the caches listed still serve the old translation\n"
    "  -            refused (errno): nothing to judge\n"
    "  over-inv.    cached entries the change did not concern that the request removed too\n"
    "               (after the leaf change): none, or\n"
    "    pasid      the other PASID's entries, plain device, any cache (list: other-pasid)\n"
    "    page       page 0x5000 of the changed PASID, plain device, IOTLB (other-page)\n"
    "    ats-pasid  the other PASID's page 0x3000 in the ATS device's TLB (ats-other-pasid)\n"
    "    ats-page   page 0x5000 of the changed PASID in the ATS device's TLB (ats-other-page)\n"
    "  caches       ctx: context cache, pasidc: PASID cache, iotlb: IOTLB, psc_fs / psc_ss:\n"
    "               first- / second-stage paging-structure caches, devtlb: the ATS device's TLB\n";

static void print_table(FILE *f, const struct inv_table *t)
{
    fprintf(f, "CACHE_INVLD policy %s: errno from the iommu layer; per change kind, whether the stale\n"
               "entry is gone after the request (no: the caches that still serve it)\n\n",
            t->policy == VTD_INV_SPEC ? "spec" : "linux-5.10");
    fprintf(f, "| %-11s |", "granularity");
    for (unsigned col = 0; col < IC_N; col++)
        fprintf(f, " %-30s |", inv_col_name((enum inv_col)col));
    fprintf(f, "\n|-------------|");
    for (unsigned col = 0; col < IC_N; col++)
        fprintf(f, "--------------------------------|");
    fprintf(f, "\n");
    for (unsigned row = 0; row < INV_ROWS; row++)
        for (unsigned line = 0; line <= IK_N + 1; line++) {
            fprintf(f, "| %-11s |", line == 0 ? inv_row_name(row) : "");
            for (unsigned col = 0; col < IC_N; col++)
                print_cell_line(f, &t->cell[row][col], line);
            fprintf(f, "\n");
        }
    print_over(f, t);
    fputs(table_legend, f);
}

static void json_cell(FILE *f, const struct inv_table *t, unsigned row, unsigned col)
{
    const struct inv_cell *c = &t->cell[row][col];
    fprintf(f, "    {\"granularity\": \"%s\", \"cache\": \"%s\", \"errno\": %d, \"probe_error\": %d, \"removed\": {",
            inv_row_name(row), inv_col_name((enum inv_col)col), c->err, c->probe_err);
    for (unsigned k = 0; k < IK_N; k++)
        fprintf(f, "%s\"%s\": \"%s\"", k ? ", " : "", inv_kind_name((enum inv_kind)k), removed_name(c->removed[k]));
    fprintf(f, "}, \"over_invalidated\": {");
    for (unsigned v = 0; v < IV_N; v++) {
        fprintf(f, "%s\"%s\": [", v ? ", " : "", inv_victim_name((enum inv_victim)v));
        const char *s = "";
        for (int id = 0; id <= VTD_C_NCACHES; id++)
            if (c->lost[v] & (1u << id)) {
                fprintf(f, "%s\"%s\"", s, inv_cache_name(id));
                s = ", ";
            }
        fprintf(f, "]");
    }
    fprintf(f, "}}");
}

/* The table as JSON, through walker/outfile.h (a failed write leaves an older file as it was). */
static int write_json(const char *path, const struct inv_table *t, struct vtd_outfile *out)
{
    int rc = vtd_outfile_open(out, path, NULL, 0);
    if (rc)
        return rc;
    FILE *f = out->f;
    fprintf(f, "{\n  \"policy\": \"%s\",\n  \"cells\": [\n", t->policy == VTD_INV_SPEC ? "spec" : "linux-5.10");
    for (unsigned row = 0; row < INV_ROWS; row++)
        for (unsigned col = 0; col < IC_N; col++) {
            json_cell(f, t, row, col);
            fprintf(f, "%s\n", row == INV_ROWS - 1 && col == IC_N - 1 ? "" : ",");
        }
    fprintf(f, "  ]\n}\n");
    return vtd_outfile_commit(out);
}

/* ---- the command ---------------------------------------------------------------------------- */

static const char inv_help[] =
    "usage: vtdsim inv-table [--policy spec|linux-5.10] [--json FILE]\n"
    "       vtdsim inv-table --range ADDR SIZE [--json FILE]\n"
    "\n"
    "Validates the uAPI invalidation table (CACHE_INVLD, docs/uapi.md) without hardware. For\n"
    "every granularity (DOMAIN, PASID, ADDR) x cache (DEV_IOTLB, IOTLB, PASID cache) cell and\n"
    "every kind of change (leaf PTE, non-leaf entry, PASID entry, device-TLB entry) it builds a\n"
    "fresh probe world (container, MAP_DMA, PASID_REQUEST, BIND_PGTBL, a plain and an ATS\n"
    "device), warms the caches, makes the change without invalidating, issues the cell's\n"
    "request and sends the DMA again. Each cell shows the iommu layer's errno, whether each\n"
    "stale entry is gone (yes / no, with the caches still serving it / - when refused), and\n"
    "whether entries of the other PASID or of the next page were removed (over-invalidation).\n"
    "A legend below the table explains every label.\n"
    "\n"
    "With --range, it probes one guest invalidation of ADDR..ADDR+SIZE-1 (at most 64 pages,\n"
    "aligned or not) under every policy: CACHE_INVLD spec and linux-5.10, HWPT_INVALIDATE as\n"
    "iommufd-6.10 and iommufd-6.8 compute it. Per policy: the descriptors issued (address, AM,\n"
    "what each covers), and per page of the range and of 4 pages on either side whether its\n"
    "IOTLB and device-TLB entries were flushed, left stale, kept or lost; then a legend.\n"
    "\n"
    "options:\n"
    "  --policy P   spec (default) or linux-5.10\n"
    "  --json FILE  also write the table (or the --range probe) as JSON\n"
    "  --range ADDR SIZE  probe one range under every policy (ADDR a number, SIZE a size\n"
    "               such as 12K or 0x3000)\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0; 2 on a usage error, when a probe world could not be built or the JSON file\n"
    "could not be written.\n";

static int inv_usage(const char *fmt, const char *arg) { return tool_usage_error("inv-table", fmt, arg); }

/* --range ADDR SIZE: a number and a size (walker/number.h) naming 1 to 64 pages below 2^47. */
static int parse_range(const char *a, const char *s, uint64_t *addr, uint64_t *size)
{
    if (vtd_number_parse(a, addr))
        return inv_usage("--range: ADDR must be a number (decimal or 0x hex), not '%s'", a);
    if (vtd_size_parse(s, size) || !*size)
        return inv_usage("--range: SIZE must be a positive size (e.g. 12K, 0x3000), not '%s'", s);
    uint64_t n = inv_range_pages(*addr, *size);
    if (!n)
        return inv_usage("--range: the range %s wraps past 2^64", "ADDR..ADDR+SIZE-1");
    if (n > INV_RANGE_MAX_PAGES)
        return inv_usage("--range: SIZE '%s' touches more than 64 pages (one line per page)", s);
    if (((*addr >> 12) + n + INV_RANGE_MARGIN) > (UINT64_C(1) << 35))
        return inv_usage("--range: ADDR '%s' is beyond the 47-bit lower half a 4-level first stage maps", a);
    return 0;
}

int cmd_inv_table(int argc, char **argv)
{
    enum vtd_inv_policy policy = VTD_INV_SPEC;
    const char *json = NULL, *range = NULL;
    bool policy_given = false;
    uint64_t addr = 0, size = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(inv_help, stdout);
            return 0;
        }
        if (strcmp(a, "--policy") && strcmp(a, "--json") && strcmp(a, "--range"))
            return inv_usage("unknown argument '%s'", a);
        if (!v || (!strcmp(a, "--range") && i + 2 >= argc))
            return inv_usage("%s needs a value", !strcmp(a, "--range") ? "--range ADDR SIZE" : a);
        i++;
        if (!strcmp(a, "--range")) {
            int rc = parse_range(v, argv[++i], &addr, &size);
            if (rc)
                return rc;
            range = v;
            continue;
        }
        policy_given |= !strcmp(a, "--policy");
        if (!strcmp(a, "--json"))
            json = v;
        else if (!strcmp(v, "spec"))
            policy = VTD_INV_SPEC;
        else if (!strcmp(v, "linux-5.10"))
            policy = VTD_INV_LINUX_5_10;
        else
            return inv_usage("unknown policy '%s' (spec or linux-5.10)", v);
    }
    if (range && policy_given)
        return inv_usage("--range probes every policy: not with %s", "--policy");
    if (range)
        return inv_table_range(addr, size, json);
    struct inv_table *t = vtd_malloc(sizeof *t);
    if (!t) {
        fputs("vtdsim inv-table: out of memory\n", stderr);
        return 2;
    }
    int rc = inv_table_build(policy, t);
    print_table(stdout, t);
    if (rc)
        fprintf(stderr, "vtdsim inv-table: a probe world could not be built: %s\n", strerror(-rc));
    struct vtd_outfile out;
    int jrc = json ? write_json(json, t, &out) : 0;
    if (jrc)
        tool_error("inv-table", out.err);
    vtd_free(t);
    return rc || jrc ? 2 : 0;
}
