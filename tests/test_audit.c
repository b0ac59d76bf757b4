/*
 * test_audit.c: the latent-staleness audit (sim/audit.h): a range unmapped and reused before a
 * covering, completed invalidation is a finding of the right kind with the right missing
 * descriptor; a correct sequence is silent; ranges split where an invalidation covers part.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/audit.h"
#include "sim/qi_desc.h"
#include "walker/alloc.h"

#define NP VTD_AUDIT_NO_PASID
#define MAXF 16

struct heard {
    struct vtd_audit_finding f[MAXF];
    unsigned n;
};

static void hear(void *arg, const struct vtd_audit_finding *f)
{
    struct heard *h = arg;
    cr_assert_lt(h->n, MAXF);
    h->f[h->n++] = *f;
}

static struct heard H;
static struct vtd_audit *A;

static void setup(void)
{
    memset(&H, 0, sizeof H);
    A = vtd_audit_new(hear, &H);
    cr_assert_not_null(A);
}

static void teardown(void) { vtd_audit_free(A); }

TestSuite(audit, .init = setup, .fini = teardown);

static void desc(uint64_t ev, struct vtd_desc d) { cr_assert_eq(vtd_audit_desc(A, ev, d.qw), 0); }
static void wait_(uint64_t ev) { desc(ev, vtd_desc_wait(VTD_QI_WAIT_SW, 1, 0x1000)); }
static void psi(uint64_t ev, uint16_t did, uint64_t addr, unsigned am)
{
    desc(ev, vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, did, addr, am, false, false, false));
}

Test(audit, strict_sequence_is_silent)
{
    cr_assert_eq(vtd_audit_join(A, 0x18, 4, NP, false), 0);
    cr_assert_eq(vtd_audit_map(A, 0, 4, NP, 0x1000, 0x2fff), 0);
    cr_assert_eq(vtd_audit_unmap(A, 1, 4, NP, 0x1000, 0x2fff), 0);
    psi(2, 4, 0x1000, 1); /* [0, 0x1fff]: AM 1 aligns down and covers 0x1000 only... */
    psi(3, 4, 0x2000, 0);
    wait_(4);
    cr_assert_eq(vtd_audit_map(A, 5, 4, NP, 0x1000, 0x2fff), 0);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 0, "a covered and waited-for unmap is not a finding (%u)", H.n);
    const struct vtd_audit_stats *st = vtd_audit_stats(A);
    cr_assert_eq(st->maps, 2);
    cr_assert_eq(st->unmaps, 1);
    cr_assert_eq(st->waits, 1);
    cr_assert_eq(st->pending, 0);
    cr_assert_geq(st->pending_peak, 1);
}

Test(audit, reuse_without_invalidation)
{
    vtd_audit_unmap(A, 7, 4, NP, 0x5000, 0x5fff);
    vtd_audit_map(A, 9, 4, NP, 0x5000, 0x5fff);
    cr_assert_eq(H.n, 1);
    struct vtd_audit_finding *f = &H.f[0];
    cr_assert_eq(f->kind, VTD_AUDIT_NOT_INVALIDATED);
    cr_assert_eq(f->did, 4);
    cr_assert_eq(f->first, 0x5000);
    cr_assert_eq(f->last, 0x5fff);
    cr_assert_eq(f->stale_event, 7);
    cr_assert_eq(f->reuse_event, 9);
    struct vtd_desc_iotlb_fields d = vtd_desc_iotlb_decode(f->missing.qw);
    cr_assert_eq(vtd_desc_type(f->missing.qw[0]), VTD_QI_IOTLB);
    cr_assert_eq(d.g, VTD_QI_IOTLB_G_PAGE);
    cr_assert_eq(d.did, 4);
    cr_assert_eq(d.addr, 0x5000);
    cr_assert_eq(d.am, 0);
    char line[512];
    vtd_audit_describe(f, line, sizeof line);
    cr_assert(strstr(line, "never invalidated: DID 4 0x5000-0x5fff, unmapped at event 7, reused by the map at event 9"),
              "%s", line);
    cr_assert(strstr(line, "missing: "), "%s", line);
    /* Reported once: the range is no longer pending. */
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
}

Test(audit, other_domain_and_other_range_do_not_cover)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x5000, 0x5fff);
    psi(2, 5, 0x5000, 0);   /* another domain */
    psi(3, 4, 0x9000, 0);   /* another range */
    wait_(4);
    vtd_audit_map(A, 5, 4, NP, 0x4000, 0x4fff); /* not the stale page */
    cr_assert_eq(H.n, 0);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_NOT_INVALIDATED);
    cr_assert_eq(H.f[0].reuse_event, VTD_AUDIT_NO_EVENT);
    char line[512];
    vtd_audit_describe(&H.f[0], line, sizeof line);
    cr_assert(strstr(line, "still possibly cached at the end"), "%s", line);
}

Test(audit, mask_too_small_is_partial)
{
    /* Two pages unmapped, a mask of one page: the second page stays (address-mask rounding). */
    vtd_audit_unmap(A, 1, 4, NP, 0x6000, 0x7fff);
    psi(2, 4, 0x6000, 0);
    wait_(3);
    vtd_audit_map(A, 4, 4, NP, 0x6000, 0x7fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_PARTIAL);
    cr_assert_eq(H.f[0].first, 0x7000);
    cr_assert_eq(H.f[0].last, 0x7fff);
    cr_assert_eq(H.f[0].touch_event, 2);
    cr_assert_eq(vtd_desc_iotlb_decode(H.f[0].missing.qw).addr, 0x7000);
}

Test(audit, invalidation_not_waited_for)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x6000, 0x6fff);
    psi(2, 4, 0x6000, 0);
    vtd_audit_map(A, 3, 4, NP, 0x6000, 0x6fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_NOT_WAITED);
    cr_assert_eq(H.f[0].touch_event, 2);
    cr_assert_eq(vtd_desc_type(H.f[0].missing.qw[0]), VTD_QI_WAIT);
}

Test(audit, map_reuses_part_of_a_range)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x10000, 0x13fff);
    vtd_audit_map(A, 2, 4, NP, 0x11000, 0x11fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].first, 0x11000);
    cr_assert_eq(H.f[0].last, 0x11fff);
    vtd_audit_finish(A); /* what the map did not reuse is still stale: below and above it */
    cr_assert_eq(H.n, 3);
    uint64_t pages = 0;
    for (unsigned i = 1; i < 3; i++)
        pages += (H.f[i].last - H.f[i].first + 1) >> 12;
    cr_assert_eq(pages, 3);
}

Test(audit, domain_and_global_invalidations)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x1000, 0x1fff);
    vtd_audit_unmap(A, 2, 5, NP, 0x1000, 0x1fff);
    vtd_audit_unmap(A, 3, 6, 9, 0x1000, 0x1fff); /* a PASID-tagged space of DID 6 */
    desc(4, vtd_desc_iotlb(VTD_QI_IOTLB_G_DOMAIN, 4, 0, 0, false, false, false));
    /* A page-selective type 2 of DID 6 removes its first-stage entries whatever the address. */
    psi(5, 6, 0x80000, 0);
    wait_(6);
    vtd_audit_map(A, 7, 4, NP, 0x1000, 0x1fff);
    vtd_audit_map(A, 8, 6, 9, 0x1000, 0x1fff);
    cr_assert_eq(H.n, 0);
    desc(9, vtd_desc_iotlb(VTD_QI_IOTLB_G_GLOBAL, 0, 0, 0, false, false, false));
    wait_(10);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 0);
}

Test(audit, pasid_based_invalidation)
{
    vtd_audit_unmap(A, 1, 3, 7, 0x4000, 0x4fff);
    vtd_audit_unmap(A, 2, 3, 8, 0x4000, 0x4fff);
    desc(3, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 3, 7, 0x4000, 0, false));
    desc(4, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 9, 8, 0x4000, 0, false)); /* no such space */
    wait_(5);
    vtd_audit_map(A, 6, 3, 7, 0x4000, 0x4fff);
    vtd_audit_map(A, 7, 3, 8, 0x4000, 0x4fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].pasid, 8);
    cr_assert_eq(vtd_desc_type(H.f[0].missing.qw[0]), VTD_QI_PIOTLB);
    cr_assert_eq(vtd_desc_p_iotlb_decode(H.f[0].missing.qw).pasid, 8);
    char line[512];
    vtd_audit_describe(&H.f[0], line, sizeof line);
    cr_assert(strstr(line, "DID 3 PASID 8"), "%s", line);
    /* PASID-selective covers every address of the space. */
    vtd_audit_unmap(A, 8, 3, 7, 0x9000, 0x9fff);
    desc(9, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PASID, 3, 7, 0, 0, false));
    wait_(10);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
}

Test(audit, device_tlb_after_iotlb)
{
    vtd_audit_join(A, 0x18, 4, NP, true);
    vtd_audit_unmap(A, 1, 4, NP, 0x3000, 0x3fff);
    psi(2, 4, 0x3000, 0);
    desc(3, vtd_desc_devtlb(0x18, 0, 0, vtd_devtlb_size_encode(0x3000, 0)));
    wait_(4);
    vtd_audit_map(A, 5, 4, NP, 0x3000, 0x3fff);
    cr_assert_eq(H.n, 0);
}

Test(audit, device_tlb_missing)
{
    vtd_audit_join(A, 0x18, 4, NP, true);
    vtd_audit_unmap(A, 1, 4, NP, 0x3000, 0x3fff);
    psi(2, 4, 0x3000, 0);
    wait_(3);
    vtd_audit_map(A, 4, 4, NP, 0x3000, 0x3fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_DEVTLB_MISSING);
    cr_assert_eq(H.f[0].devtlb_sid, 0x18);
    cr_assert_eq(vtd_desc_type(H.f[0].missing.qw[0]), VTD_QI_DEVTLB);
    cr_assert_eq(vtd_desc_devtlb_decode(H.f[0].missing.qw).sid, 0x18);
    char line[512];
    vtd_audit_describe(&H.f[0], line, sizeof line);
    cr_assert(strstr(line, "device TLB not invalidated (device 00:03.0)"), "%s", line);
}

Test(audit, device_tlb_before_iotlb)
{
    /* Not declared: the device-TLB descriptor itself tells that 00:03.0 has one. */
    vtd_audit_join(A, 0x18, 4, NP, false);
    vtd_audit_unmap(A, 1, 4, NP, 0x3000, 0x3fff);
    desc(2, vtd_desc_devtlb(0x18, 0, 0, vtd_devtlb_size_encode(0x3000, 0)));
    psi(3, 4, 0x3000, 0);
    wait_(4);
    vtd_audit_map(A, 5, 4, NP, 0x3000, 0x3fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_DEVTLB_EARLY);
}

Test(audit, pasid_device_tlb)
{
    vtd_audit_join(A, 0x20, 2, 5, true);
    vtd_audit_unmap(A, 1, 2, 5, 0x3000, 0x3fff);
    desc(2, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 2, 5, 0x3000, 0, false));
    desc(3, vtd_desc_p_devtlb(0x20, 0, 0, 6, false, vtd_devtlb_size_encode(0x3000, 0))); /* other PASID */
    wait_(4);
    vtd_audit_map(A, 5, 2, 5, 0x3000, 0x3fff);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_DEVTLB_MISSING);
    cr_assert_eq(vtd_desc_type(H.f[0].missing.qw[0]), VTD_QI_PDEVTLB);
    vtd_audit_unmap(A, 6, 2, 5, 0x3000, 0x3fff);
    desc(7, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 2, 5, 0x3000, 0, false));
    desc(8, vtd_desc_p_devtlb(0x20, 0, 0, 0, true, vtd_devtlb_size_encode(0x3000, 0))); /* every PASID */
    wait_(9);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
}

Test(audit, other_descriptors_change_nothing)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x3000, 0x3fff);
    desc(2, vtd_desc_cc(VTD_QI_CC_G_GLOBAL, 0, 0, 0));
    desc(3, vtd_desc_pc(VTD_QI_PC_G_DOMAIN, 4, 0));
    desc(4, vtd_desc_iec(false, 0, 0));
    wait_(5);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(vtd_audit_stats(A)->descriptors, 4);
    cr_assert_eq(vtd_audit_stats(A)->findings, 1);
}

Test(audit, joins_are_idempotent_and_names_exist)
{
    cr_assert_eq(vtd_audit_join(A, 0x18, 4, NP, false), 0);
    cr_assert_eq(vtd_audit_join(A, 0x18, 4, NP, true), 0);
    cr_assert_eq(vtd_audit_join(A, 0x20, 4, NP, false), 0);
    vtd_audit_unmap(A, 1, 4, NP, 0x3000, 0x3fff);
    psi(2, 4, 0x3000, 0);
    wait_(3);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1, "00:03.0 has a device TLB, never invalidated");
    cr_assert_eq(H.f[0].devtlb_sid, 0x18);
    for (unsigned k = 0; k < VTD_AUDIT_NKINDS; k++)
        cr_assert_neq(strcmp(vtd_audit_kind_name((enum vtd_audit_kind)k), "?"), 0);
    cr_assert_str_eq(vtd_audit_kind_name(VTD_AUDIT_NKINDS), "?");
    vtd_audit_free(NULL);
}

Test(audit, invalidation_of_the_upper_part)
{
    vtd_audit_unmap(A, 1, 4, NP, 0x6000, 0x7fff);
    psi(2, 4, 0x7000, 0);
    wait_(3);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_PARTIAL);
    cr_assert_eq(H.f[0].first, 0x6000);
    cr_assert_eq(H.f[0].last, 0x6fff);
}

Test(audit, device_tlb_without_pasid_skips_pasid_spaces)
{
    vtd_audit_join(A, 0x18, 4, 3, false);
    vtd_audit_unmap(A, 1, 4, 3, 0x3000, 0x3fff);
    desc(2, vtd_desc_devtlb(0x18, 0, 0, vtd_devtlb_size_encode(0x3000, 0)));
    desc(3, vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, 4, 3, 0x3000, 0, false));
    desc(4, vtd_desc_p_iotlb(0, 4, 3, 0, 0, false)); /* a reserved granularity: no effect */
    wait_(5);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 0, "a device-TLB descriptor without PASID says nothing of a PASID space");
}

/* One run of everything the audit keeps: spaces, members, ranges split and reported. */
static int busy_run(struct vtd_audit *a)
{
    int rc = 0;
    for (unsigned d = 1; d <= 12 && !rc; d++) {
        rc = vtd_audit_join(a, (uint16_t)(0x10 + d), (uint16_t)d, d & 1 ? NP : d, d == 3);
        for (unsigned k = 0; k < 12 && !rc; k++)
            rc = vtd_audit_unmap(a, k, (uint16_t)d, d & 1 ? NP : d, 0x10000 * k, 0x10000 * k + 0x3fff);
        if (!rc) {
            struct vtd_desc q = vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, (uint16_t)d, 0x11000, 0, false, false, false);
            rc = vtd_audit_desc(a, 50, q.qw);
        }
        if (!rc)
            rc = vtd_audit_map(a, 60, (uint16_t)d, d & 1 ? NP : d, 0x21000, 0x21fff);
    }
    if (!rc)
        vtd_audit_finish(a);
    return rc;
}

Test(audit, out_of_memory_is_an_error_never_a_crash_or_a_leak)
{
    unsigned failures = 0;
    for (uint64_t nth = 1; nth < 400; nth++) {
        int64_t live = vtd_alloc_live();
        vtd_alloc_fail_nth(nth);
        struct vtd_audit *a = vtd_audit_new(NULL, NULL);
        int rc = a ? busy_run(a) : -ENOMEM;
        bool delivered = vtd_alloc_fault_delivered();
        vtd_alloc_fail_nth(0);
        vtd_audit_free(a);
        cr_assert_eq(vtd_alloc_live(), live, "allocation %llu failed: a leak", (unsigned long long)nth);
        if (!delivered) {
            cr_assert_eq(rc, 0);
            break;
        }
        cr_assert(rc == 0 || rc == -ENOMEM, "allocation %llu failed: %d", (unsigned long long)nth, rc);
        failures += rc != 0;
    }
    cr_assert_gt(failures, 5);
}

Test(audit, device_tlb_range_too_small)
{
    vtd_audit_join(A, 0x18, 4, NP, true);
    vtd_audit_unmap(A, 1, 4, NP, 0x2000, 0x3fff);
    psi(2, 4, 0x2000, 1);
    desc(3, vtd_desc_devtlb(0x18, 0, 0, vtd_devtlb_size_encode(0x2000, 0))); /* one page of two */
    wait_(4);
    vtd_audit_finish(A);
    cr_assert_eq(H.n, 1);
    cr_assert_eq(H.f[0].kind, VTD_AUDIT_DEVTLB_MISSING);
    /* The missing descriptor covers both pages: S set, an 8 KiB block. */
    struct vtd_desc_devtlb_fields d = vtd_desc_devtlb_decode(H.f[0].missing.qw);
    struct vtd_qi_range r = vtd_devtlb_size_decode(d.addr, d.s);
    cr_assert(r.first <= 0x2000 && r.last >= 0x3fff);
}
