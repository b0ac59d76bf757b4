/*
 * invrange.c: `vtdsim inv-table --range ADDR SIZE`: the range probe of host/invrange.h under
 * every policy, printed per policy as the descriptors issued (with what each covers) and the
 * state of every page of the range and its margin, then a legend.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host/invrange.h"
#include "runner/scenario.h"
#include "walker/alloc.h"
#include "walker/outfile.h"

/* What a descriptor invalidates, for the page-selective kinds: false for the others. */
static bool desc_range(const struct vtd_desc *d, struct vtd_qi_range *r)
{
    unsigned type = vtd_desc_type(d->qw[0]);
    if (type == VTD_QI_PIOTLB) {
        struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(d->qw);
        if (f.g != VTD_QI_PIOTLB_G_PAGE)
            return false;
        *r = vtd_qi_am_range(f.addr, f.am);
        return true;
    }
    if (type == VTD_QI_PDEVTLB) {
        struct vtd_desc_p_devtlb_fields f = vtd_desc_p_devtlb_decode(d->qw);
        *r = vtd_devtlb_size_decode(f.addr, f.s);
        return true;
    }
    return false;
}

static void desc_covers(const struct vtd_desc *d, char *buf, size_t len)
{
    struct vtd_qi_range r;
    buf[0] = 0;
    if (desc_range(d, &r))
        snprintf(buf, len, "covers 0x%llx-0x%llx", (unsigned long long)r.first, (unsigned long long)r.last);
}

static void print_descs(FILE *f, const struct inv_range_result *r)
{
    fprintf(f, "  descriptors issued (%u):\n", r->ndesc);
    for (unsigned i = 0; i < r->ndesc && i < INV_RANGE_MAX_DESCS; i++) {
        char text[160], cover[64];
        vtd_qi_describe(r->desc[i].qw, r->desc[i].nqw, text, sizeof text);
        desc_covers(&r->desc[i], cover, sizeof cover);
        fprintf(f, "    %s%s%s\n", text, cover[0] ? ": " : "", cover);
    }
    if (r->ndesc > INV_RANGE_MAX_DESCS)
        fprintf(f, "    ... and %u more\n", r->ndesc - INV_RANGE_MAX_DESCS);
}

/* "N stale in the range, M lost beyond it" for one cache. */
static void summary_of(const struct inv_range_result *r, bool devtlb, unsigned *stale, unsigned *lost)
{
    *stale = *lost = 0;
    for (unsigned i = 0; i < r->npages; i++) {
        enum inv_page_state s = devtlb ? r->page[i].devtlb : r->page[i].iotlb;
        *stale += s == IPS_STALE;
        *lost += s == IPS_LOST;
    }
}

static void print_policy(FILE *f, const struct inv_range_result *r)
{
    fprintf(f, "\npolicy %s (%s): errno %s%s\n", inv_range_policy_name(r->policy),
            r->policy == IRP_SPEC || r->policy == IRP_LINUX_5_10 ? "CACHE_INVLD" : "HWPT_INVALIDATE",
            r->err ? "-" : "", sc_errno_name(-r->err));
    print_descs(f, r);
    fprintf(f, "  %-18s %-5s %-8s %s\n", "page", "range", "iotlb", "devtlb");
    for (unsigned i = 0; i < r->npages; i++) {
        const struct inv_range_page *p = &r->page[i];
        fprintf(f, "  0x%-16llx %-5s %-8s %s\n", (unsigned long long)p->va, p->in_range ? "in" : "-",
                inv_page_state_name(p->iotlb), inv_page_state_name(p->devtlb));
    }
    unsigned is, il, ds, dl;
    summary_of(r, false, &is, &il);
    summary_of(r, true, &ds, &dl);
    fprintf(f, "  stale in the range: iotlb %u, devtlb %u page(s); lost beyond it: iotlb %u, devtlb %u\n", is, ds, il,
            dl);
}

static const char range_legend[] =
    "\nlegend:\n"
    "  page     a 4 KiB page of the guest's address space (first stage, one PASID)\n"
    "  range    in: a page of ADDR..ADDR+SIZE-1, whose translation changed before the request;\n"
    "           -: one of the pages on either side, unchanged\n"
    "  iotlb    the page's IOTLB entry, as a device without ATS sees it\n"
    "  devtlb   the page's entry in the device TLB of an ATS device\n"
    "  flushed  in the range: the stale translation is gone, as the guest asked\n"
    "  stale    in the range: still served from the cache, the invalidation missed it\n"
    "  kept     beyond the range: still cached, as it should be\n"
    "  lost     beyond the range: removed all the same (collateral over-invalidation)\n"
    "  -        nothing was cached for the page before the request\n"
    "  covers   the addresses a descriptor invalidates: ADDR aligned down to 2^AM pages\n"
    "           (hardware ignores the ADDR bits below AM), or a device-TLB size encoding\n";

/* One policy's result as a JSON object (names and descriptions hold no character to escape). */
static void json_policy(FILE *f, const struct inv_range_result *r)
{
    fprintf(f, "    {\"policy\": \"%s\", \"errno\": %d, \"descriptor_count\": %u, \"descriptors\": [",
            inv_range_policy_name(r->policy), r->err, r->ndesc);
    for (unsigned i = 0; i < r->ndesc && i < INV_RANGE_MAX_DESCS; i++) {
        char text[160];
        struct vtd_qi_range c;
        vtd_qi_describe(r->desc[i].qw, r->desc[i].nqw, text, sizeof text);
        fprintf(f, "%s{\"text\": \"%s\"", i ? ", " : "", text);
        if (desc_range(&r->desc[i], &c))
            fprintf(f, ", \"first\": %llu, \"last\": %llu", (unsigned long long)c.first, (unsigned long long)c.last);
        fputc('}', f);
    }
    fputs("], \"pages\": [", f);
    for (unsigned i = 0; i < r->npages; i++) {
        const struct inv_range_page *p = &r->page[i];
        fprintf(f, "%s{\"addr\": %llu, \"in_range\": %s, \"iotlb\": \"%s\", \"devtlb\": \"%s\"}", i ? ", " : "",
                (unsigned long long)p->va, p->in_range ? "true" : "false", inv_page_state_name(p->iotlb),
                inv_page_state_name(p->devtlb));
    }
    fputs("]}", f);
}

/* The results as JSON, through walker/outfile.h (a failed write leaves an older file as it was). */
static int write_json(const char *path, uint64_t addr, uint64_t size, const struct inv_range_result *r, unsigned n,
                      struct vtd_outfile *out)
{
    int rc = vtd_outfile_open(out, path, NULL, 0);
    if (rc)
        return rc;
    fprintf(out->f, "{\n  \"addr\": %llu,\n  \"size\": %llu,\n  \"policies\": [\n", (unsigned long long)addr,
            (unsigned long long)size);
    for (unsigned i = 0; i < n; i++) {
        json_policy(out->f, &r[i]);
        fputs(i + 1 < n ? ",\n" : "\n", out->f);
    }
    fputs("  ]\n}\n", out->f);
    return vtd_outfile_commit(out);
}

int inv_table_range(uint64_t addr, uint64_t size, const char *json)
{
    uint64_t n = inv_range_pages(addr, size);
    struct inv_range_result *r = vtd_calloc(IRP_N, sizeof *r);
    if (!r) {
        fputs("vtdsim inv-table: out of memory\n", stderr);
        return 2;
    }
    printf("inv-table --range: the guest invalidates 0x%llx..0x%llx (%llu page%s of one PASID) after\n"
           "changing their translations; the probe looks at %u more pages on either side.\n"
           "CACHE_INVLD: granularity ADDR, cache IOTLB|DEV_IOTLB, PASID flag, addr 0x%llx, granule_size\n"
           "4096, nb_granules %llu. HWPT_INVALIDATE: one entry, addr 0x%llx, npages %llu.\n",
           (unsigned long long)addr, (unsigned long long)(addr + size - 1), (unsigned long long)n, n == 1 ? "" : "s",
           INV_RANGE_MARGIN, (unsigned long long)addr, (unsigned long long)n, (unsigned long long)addr,
           (unsigned long long)n);
    int status = 0;
    unsigned done = 0;
    for (unsigned p = 0; p < IRP_N; p++) {
        int rc = inv_range_probe((enum inv_range_policy)p, addr, size, &r[done]);
        if (rc) {
            fprintf(stderr, "vtdsim inv-table: policy %s: a probe world could not be built: %s\n",
                    inv_range_policy_name((enum inv_range_policy)p), strerror(-rc));
            status = 2;
            continue;
        }
        print_policy(stdout, &r[done++]);
    }
    fputs(range_legend, stdout);
    struct vtd_outfile out;
    if (json && write_json(json, addr, size, r, done, &out)) {
        tool_error("inv-table", out.err);
        status = 2;
    }
    vtd_free(r);
    return status;
}
