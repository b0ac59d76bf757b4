/*
 * test_trace_audit.c: Linux trace import (trace/import_linux.h) and the audited replay, on
 * traces captured from Linux 6.1 under QEMU (tests/linux_traces/, see docs/trace-audit.md):
 * the kernel's own traces give no finding, and removing one qi_submit line or shrinking one
 * descriptor's mask gives exactly that fault. Also the desc and domain events' checks.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/import_linux.h"
#include "trace/replay.h"
#include "trace/trace.h"

#ifndef VTDSIM_LINUX_TRACES
#error "VTDSIM_LINUX_TRACES names tests/linux_traces"
#endif

#define MAXF 64

struct heard {
    struct vtd_audit_finding f[MAXF];
    unsigned n;
};

static void hear(void *arg, const struct vtd_audit_finding *f)
{
    struct heard *h = arg;
    if (h->n < MAXF)
        h->f[h->n] = *f;
    h->n++;
}

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vtdsim-trace-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(trace_audit, .init = setup, .fini = teardown);

static const char *tmp(const char *name)
{
    static char path[4][128];
    static unsigned k;
    char *p = path[k++ % 4];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static const char *fixture(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", VTDSIM_LINUX_TRACES, name);
    return path;
}

/* Import `in`, replay it with the audit; the findings heard. */
static struct heard audit(const char *in, struct vtrace_import_stats *st)
{
    char err[VTRACE_ERR_LEN];
    const char *out = tmp("imported.bin");
    cr_assert_eq(vtrace_import_linux(in, out, st, err), 0, "%s", err);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    struct heard h = {.n = 0};
    cfg.audit = true;
    cfg.audit_fn = hear;
    cfg.audit_arg = &h;
    struct vtrace_replay_result r;
    cr_assert_eq(vtrace_replay_file(out, &cfg, &r, err), 0, "%s", err);
    cr_assert_eq(r.audit.findings, h.n);
    return h;
}

/* Copy `in` to `out` with line number `skip` (1-based) left out, or changed by `edit`. */
static void copy_changed(const char *in, const char *out, unsigned skip, const char *replacement)
{
    FILE *f = fopen(in, "r"), *g = fopen(out, "w");
    cr_assert(f && g);
    char line[1024];
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        if (++n != skip)
            fputs(line, g);
        else if (replacement)
            fputs(replacement, g);
    fclose(f);
    fclose(g);
}

/* The line number of the first qi_submit iotlb_inv line right after an unmap line whose text
 * contains `with` (NULL: any). */
static unsigned flush_after_unmap(const char *in, const char *with, char *text, size_t len)
{
    FILE *f = fopen(in, "r");
    cr_assert_not_null(f);
    char line[1024];
    unsigned n = 0;
    bool after_unmap = false;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (after_unmap && strstr(line, "qi_submit: iotlb_inv") && (!with || strstr(line, with))) {
            snprintf(text, len, "%s", line);
            fclose(f);
            return n;
        }
        after_unmap = strstr(line, " unmap: ") != NULL;
    }
    fclose(f);
    cr_assert_fail("no flush after an unmap in %s", in);
    return 0;
}

static void kernel_is_clean(const char *name)
{
    struct vtrace_import_stats st;
    struct heard h = audit(fixture(name), &st);
    cr_assert_gt(st.maps, 100, "%s: %llu maps", name, (unsigned long long)st.maps);
    cr_assert_gt(st.unmaps, 100);
    cr_assert_gt(st.descriptors, 40);
    cr_assert_eq(st.inconsistent, 0, "%s: %llu maps or unmaps left out", name, (unsigned long long)st.inconsistent);
    cr_assert_eq(st.unknown_events + st.unparsed, 0);
    char line[512] = "";
    if (h.n)
        vtd_audit_describe(&h.f[0], line, sizeof line);
    cr_assert_eq(h.n, 0, "%s: %u findings on the kernel's own trace, the first: %s", name, h.n, line);
}

Test(trace_audit, strict_kernel_trace_is_clean) { kernel_is_clean("strict-6.1.txt"); }
Test(trace_audit, lazy_kernel_trace_is_clean) { kernel_is_clean("lazy-6.1.txt"); }
Test(trace_audit, caching_mode_kernel_trace_is_clean) { kernel_is_clean("strict-cm-6.1.txt"); }

Test(trace_audit, caching_mode_ties_every_map_by_its_flush)
{
    struct vtrace_import_stats st;
    audit(fixture("strict-cm-6.1.txt"), &st);
    /* With CAP.CM Linux flushes after each map: nearly everything is tied by a flush, and the
     * devices by their context-cache invalidations. */
    cr_assert_geq(st.by_flush, st.maps + st.unmaps - 4);
    cr_assert_eq(st.made_up_devices, 0);
    cr_assert_gt(st.waits_added, 100);
}

Test(trace_audit, lazy_unmaps_are_tied_by_the_later_flush)
{
    struct vtrace_import_stats st;
    audit(fixture("lazy-6.1.txt"), &st);
    cr_assert_gt(st.by_later, 50, "%llu", (unsigned long long)st.by_later);
}

static void one_flush_removed(const char *name)
{
    char text[1024];
    unsigned n = flush_after_unmap(fixture(name), NULL, text, sizeof text);
    const char *cut = tmp("cut.txt");
    copy_changed(fixture(name), cut, n, NULL);
    struct vtrace_import_stats st;
    struct heard h = audit(cut, &st);
    cr_assert_eq(h.n, 1, "%s without line %u (%s): %u findings", name, n, text, h.n);
    cr_assert_eq(h.f[0].kind, VTD_AUDIT_NOT_INVALIDATED);
    /* The range is the unmapped one of the line before. */
    unsigned long long iova = strtoull(strstr(text, ": 0x") + 2, NULL, 16);
    (void)iova;
    unsigned long long qw1 = strtoull(strchr(strstr(text, ": 0x") + 2, ' ') + 1, NULL, 16);
    cr_assert_eq(h.f[0].first, qw1 & ~0xfffull, "finding at 0x%llx, flush of 0x%llx",
                 (unsigned long long)h.f[0].first, qw1);
    cr_assert_eq(vtd_desc_type(h.f[0].missing.qw[0]), VTD_QI_IOTLB);
}

Test(trace_audit, strict_without_one_flush) { one_flush_removed("strict-6.1.txt"); }
Test(trace_audit, caching_mode_without_one_flush) { one_flush_removed("strict-cm-6.1.txt"); }

Test(trace_audit, strict_with_one_mask_shrunk)
{
    /* The 8 KiB unmap at 0xffff6000 is flushed with AM 1 (qw1 0xffff6001); AM 0 misses its
     * second page. */
    char text[1024];
    unsigned n = flush_after_unmap(fixture("strict-6.1.txt"), "0xffff6001", text, sizeof text);
    char *p = strstr(text, "0xffff6001");
    p[9] = '0';
    const char *cut = tmp("shrunk.txt");
    copy_changed(fixture("strict-6.1.txt"), cut, n, text);
    struct vtrace_import_stats st;
    struct heard h = audit(cut, &st);
    cr_assert_eq(h.n, 1, "%u findings", h.n);
    cr_assert_eq(h.f[0].kind, VTD_AUDIT_PARTIAL);
    cr_assert_eq(h.f[0].first, 0xffff7000);
    cr_assert_eq(h.f[0].last, 0xffff7fff);
}

Test(trace_audit, lazy_without_one_domain_flush)
{
    /* Lazy mode flushes the domain (DSI: qw0 ends in e2); without one, IOVAs freed after it
     * come back while still possibly cached. */
    FILE *f = fopen(fixture("lazy-6.1.txt"), "r");
    char line[1024];
    unsigned n = 0, cut_at = 0, seen = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strstr(line, "qi_submit: iotlb_inv") && strstr(line, "e2 0x0 0x0 0x0") && strstr(line, "0x500e2") &&
            ++seen == 3) {
            cut_at = n;
            break;
        }
    }
    fclose(f);
    cr_assert_gt(cut_at, 0);
    const char *cut = tmp("lazy-cut.txt");
    copy_changed(fixture("lazy-6.1.txt"), cut, cut_at, NULL);
    struct vtrace_import_stats st;
    struct heard h = audit(cut, &st);
    cr_assert_geq(h.n, 1);
    for (unsigned i = 0; i < h.n && i < MAXF; i++)
        cr_assert_eq(h.f[i].kind, VTD_AUDIT_NOT_INVALIDATED);
}

/* ---- the importer on hand-written lines ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(trace_audit, unknown_and_bad_lines_are_counted)
{
    const char *in = tmp("mixed.txt");
    write_file(in,
               "# tracer: nop\n"
               "\n"
               "not a trace line at all\n"
               "  bash-1  [000] d..1.  1.000001: sched_switch: prev=bash next=idle\n"
               "  bash-1  [000] d..1.  1.000002: map: IOMMU: iova=0x1000 garbage\n"
               "  bash-1  [000] .....  1.000003: attach_device_to_domain: IOMMU: device=0000:00:04.0\n"
               "  bash-1  [000] .....  1.000004: io_page_fault: IOMMU:virtio-pci 0000:00:04.0 iova=0x0000000000009000 flags=0x0001\n"
               "  bash-1  [000] .....  1.000005: add_device_to_group: IOMMU: groupID=0 device=0000:00:04.0\n"
               "  bash-1  [000] .....  1.000006: cache_tag_assign: dmar0/0000:00:04.0 type devtlb did 7 pasid 0 ref 1\n"
               "  bash-1  [000] .....  1.000007: map: IOMMU: iova=0x0000000000002000 - 0x0000000000003000 paddr=0x0000000000005000 size=4096\n"
               /* trace-cmd report: no flags column */
               "  bash-1  [001]  1.000008: unmap:                IOMMU: iova=0x0000000000002000 - 0x0000000000003000 size=4096 unmapped_size=4096\n"
               "  bash-1  [001]  1.000009: qi_submit:            iotlb_inv dmar0: 0x700f2 0x2000 0x0 0x0\n"
               "  bash-1  [001]  1.000010: qi_submit:            dev_tlb_inv dmar0: 0x2000000003 0x2000 0x0 0x0\n");
    struct vtrace_import_stats st;
    struct heard h = audit(in, &st);
    cr_assert_eq(h.n, 0);
    cr_assert_eq(st.lines, 13);
    cr_assert_eq(st.unknown_events, 1);
    cr_assert_eq(st.first_unknown_line, 4);
    cr_assert_str_eq(st.first_unknown, "sched_switch");
    cr_assert_eq(st.unparsed, 2, "the text line and the map without its fields");
    cr_assert_eq(st.first_unparsed_line, 3);
    cr_assert_eq(st.attaches, 1);
    cr_assert_eq(st.page_faults, 1);
    cr_assert_eq(st.known_skipped, 2);
    cr_assert_eq(st.maps, 1);
    cr_assert_eq(st.unmaps, 1);
    cr_assert_eq(st.descriptors, 2);
    cr_assert_eq(st.waits_added, 1);
    cr_assert_eq(st.by_flush, 1);
    cr_assert_eq(st.by_pair, 1);
    cr_assert_eq(st.made_up_devices, 0, "cache_tag_assign tied 00:04.0 to DID 7");
}

Test(trace_audit, device_tlb_left_out_is_found)
{
    /* 00:04.0 has a device TLB (cache_tag_assign devtlb); the second unmap's flush forgets it. */
    const char *in = tmp("devtlb.txt");
    write_file(in,
               "  k-1  [000] .....  1.0: cache_tag_assign: dmar0/0000:00:04.0 type devtlb did 7 pasid 0 ref 1\n"
               "  k-1  [000] .....  1.1: map: IOMMU: iova=0x2000 - 0x3000 paddr=0x5000 size=4096\n"
               "  k-1  [000] .....  1.2: unmap: IOMMU: iova=0x2000 - 0x3000 size=4096 unmapped_size=4096\n"
               "  k-1  [000] .....  1.3: qi_submit: iotlb_inv dmar0: 0x700f2 0x2000 0x0 0x0\n"
               "  k-1  [000] .....  1.4: qi_submit: dev_tlb_inv dmar0: 0x2000000003 0x2000 0x0 0x0\n"
               "  k-1  [000] .....  1.5: map: IOMMU: iova=0x2000 - 0x3000 paddr=0x6000 size=4096\n"
               "  k-1  [000] .....  1.6: unmap: IOMMU: iova=0x2000 - 0x3000 size=4096 unmapped_size=4096\n"
               "  k-1  [000] .....  1.7: qi_submit: iotlb_inv dmar0: 0x700f2 0x2000 0x0 0x0\n"
               "  k-1  [000] .....  1.8: map: IOMMU: iova=0x2000 - 0x3000 paddr=0x7000 size=4096\n");
    struct vtrace_import_stats st;
    struct heard h = audit(in, &st);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.f[0].kind, VTD_AUDIT_DEVTLB_MISSING);
    cr_assert_eq(h.f[0].devtlb_sid, 0x20);
}

Test(trace_audit, import_errors_name_the_file)
{
    struct vtrace_import_stats st;
    char err[VTRACE_ERR_LEN];
    cr_assert_eq(vtrace_import_linux(tmp("missing.txt"), tmp("o.bin"), &st, err), -1);
    cr_assert(strstr(err, "missing.txt"), "%s", err);
    cr_assert_eq(vtrace_import_linux(tmpdir, tmp("o.bin"), &st, err), -1);
    cr_assert(strstr(err, "not a regular file") || strstr(err, "directory"), "%s", err);
}

/* ---- desc and domain events ---- */

static int check(const struct vtrace_event *e, char *why)
{
    enum vtrace_field fld;
    return vtrace_event_check(e, &fld, why, 200);
}

Test(trace_audit, desc_and_domain_checks)
{
    char why[200];
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 0x400f2, .out = 0x1000}, why), 0);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 0x40000}, why), -1);
    cr_assert(strstr(why, "descriptor type 0"), "%s", why);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 2, .size = 4}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 2, .access = 1}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 2, .page_shift = 12}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DESC, .addr = 2, .flags = VTRACE_F_PASID}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .sid = 0x18, .addr = 4}, why), 0);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .sid = 0x18, .addr = 0}, why), -1);
    cr_assert(strstr(why, "domain id 0 is not 1..65535"), "%s", why);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 0x10000}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 1, .size = 1}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 1, .flags = 2}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 1, .pasid = 3}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 1, .flags = 1, .pasid = 1u << 20}, why), -1);
    cr_assert_eq(check(&(struct vtrace_event){.kind = VTRACE_DOMAIN, .addr = 1, .flags = 1, .pasid = 3}, why), 0);
}

static int replay_csv(const char *text, char *err)
{
    const char *path = tmp("t.csv");
    write_file(path, text);
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.audit = true;
    struct vtrace_replay_result r;
    return vtrace_replay_file(path, &cfg, &r, err);
}

Test(trace_audit, domain_events_in_replay)
{
    char err[VTRACE_ERR_LEN];
    /* Two devices in one domain share its space: the second one's unmap is the first's map. */
    cr_assert_eq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                            "domain,00:03.0,-,0x9,0,-,-,-\n"
                            "domain,00:04.0,-,0x9,0,-,-,-\n"
                            "map,00:03.0,-,0x1000,0x1000,rw,4k,0x5000\n"
                            "unmap,00:04.0,-,0x1000,0x1000,-,-,-\n"
                            "desc,00:00.0,-,0x900f2,0,-,-,0x1000\n"
                            "desc,00:00.0,-,0x5,0,-,-,-\n",
                            err),
                 0, "%s", err);
    cr_assert_neq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                             "map,00:03.0,-,0x1000,0x1000,rw,4k,0x5000\n"
                             "domain,00:04.0,-,0x9,0,-,-,-\n",
                             err),
                  0);
    cr_assert(strstr(err, "spaces without a domain event came first"), "%s", err);
    cr_assert_neq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                             "domain,00:04.0,-,0x9,0,-,-,-\n"
                             "map,00:03.0,-,0x1000,0x1000,rw,4k,0x5000\n",
                             err),
                  0);
    cr_assert(strstr(err, "has no domain event"), "%s", err);
    cr_assert_neq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                             "domain,00:04.0,-,0x9,0,-,-,-\n"
                             "domain,00:04.0,-,0x8,0,-,-,-\n",
                             err),
                  0);
    cr_assert(strstr(err, "already has its domain"), "%s", err);
    cr_assert_neq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                             "domain,00:04.0,1,0x9,0,-,-,-\n"
                             "domain,00:05.0,2,0x9,0,-,-,-\n",
                             err),
                  0);
    cr_assert(strstr(err, "one domain for PASIDs"), "%s", err);
    /* A descriptor the IOMMU rejects stops the replay with its reason. */
    cr_assert_neq(replay_csv("kind,sid,pasid,addr,size,access,page,out\n"
                             "desc,00:00.0,-,0xf,0,-,-,-\n",
                             err),
                  0);
    cr_assert(strstr(err, "rejects the descriptor"), "%s", err);
}

Test(trace_audit, synthetic_invalidate_events_are_audited)
{
    char err[VTRACE_ERR_LEN];
    const char *path = tmp("s.csv");
    write_file(path, "kind,sid,pasid,addr,size,access,page,out\n"
                     "map,00:03.0,-,0x1000,0x2000,rw,4k,0x5000\n"
                     "unmap,00:03.0,-,0x1000,0x2000,-,-,-\n"
                     "invalidate,00:03.0,-,0x1000,0x1000,-,-,-\n"
                     "map,00:03.0,-,0x1000,0x2000,rw,4k,0x5000\n");
    struct vtrace_replay_config cfg;
    vtrace_replay_config_default(&cfg);
    cfg.audit = true;
    struct vtrace_replay_result r;
    cr_assert_eq(vtrace_replay_file(path, &cfg, &r, err), 0, "%s", err);
    cr_assert_eq(r.audit.findings, 1);
    cr_assert_eq(r.audit_kinds[VTD_AUDIT_PARTIAL], 1);
}
