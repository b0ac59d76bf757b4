/*
 * test_invrange.c: the range probe behind `vtdsim inv-table --range` (host/invrange.h): on an
 * unaligned 3-page range the policies differ (linux-5.10 and iommufd-6.8 leave the end of the
 * range stale, spec and iommufd-6.10 flush a covering block and lose its other pages), on an
 * aligned range none leaves anything or loses anything, and the descriptors are the ones issued.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "host/invrange.h"

static struct inv_range_result r;

static const struct inv_range_page *page_at(uint64_t va)
{
    for (unsigned i = 0; i < r.npages; i++)
        if (r.page[i].va == va)
            return &r.page[i];
    cr_assert_fail("page 0x%llx is not in the window", (unsigned long long)va);
    return NULL;
}

/* The states of pages [first, first + n pages) in both caches. */
static void expect_pages(uint64_t first, unsigned n, enum inv_page_state want)
{
    for (unsigned i = 0; i < n; i++) {
        const struct inv_range_page *p = page_at(first + ((uint64_t)i << 12));
        cr_expect_eq(p->iotlb, want, "%s page 0x%llx iotlb: %s, wanted %s", inv_range_policy_name(r.policy),
                     (unsigned long long)p->va, inv_page_state_name(p->iotlb), inv_page_state_name(want));
        cr_expect_eq(p->devtlb, want, "%s page 0x%llx devtlb: %s, wanted %s", inv_range_policy_name(r.policy),
                     (unsigned long long)p->va, inv_page_state_name(p->devtlb), inv_page_state_name(want));
    }
}

/* The first descriptor: a page-selective P_IOTLB with this address and mask. */
static void expect_piotlb(uint64_t addr, unsigned am)
{
    cr_assert_geq(r.ndesc, 1);
    cr_assert_eq(vtd_desc_type(r.desc[0].qw[0]), VTD_QI_PIOTLB);
    struct vtd_desc_p_iotlb_fields f = vtd_desc_p_iotlb_decode(r.desc[0].qw);
    cr_expect_eq(f.g, VTD_QI_PIOTLB_G_PAGE);
    cr_expect_eq(f.addr, addr, "%s: ADDR 0x%llx", inv_range_policy_name(r.policy), (unsigned long long)f.addr);
    cr_expect_eq(f.am, am, "%s: AM %u", inv_range_policy_name(r.policy), f.am);
    cr_expect_eq(f.pasid, r.pasid);
}

/* 0x3000..0x5fff: spec covers it with 0x0 AM 3 (8 pages: 5 lost beyond the range). */
Test(invrange, spec_flushes_a_covering_block)
{
    cr_assert_eq(inv_range_probe(IRP_SPEC, 0x3000, 0x3000, &r), 0);
    cr_assert_eq(r.err, 0);
    cr_assert_eq(r.npages, 3 + 3 + 4); /* 3 pages below (page 0 is the first), 4 above */
    expect_piotlb(0x0, 3);
    expect_pages(0x0, 3, IPS_LOST);
    expect_pages(0x3000, 3, IPS_FLUSHED);
    expect_pages(0x6000, 2, IPS_LOST);
    expect_pages(0x8000, 2, IPS_KEPT);
}

/* Linux 5.10: AM 2 from the unaligned 0x3000, which hardware reads as 0x0..0x3fff: the last two
 * pages of the range stay stale. */
Test(invrange, linux_5_10_leaves_the_end_of_the_range_stale)
{
    cr_assert_eq(inv_range_probe(IRP_LINUX_5_10, 0x3000, 0x3000, &r), 0);
    cr_assert_eq(r.err, 0);
    expect_piotlb(0x3000, 2);
    expect_pages(0x0, 3, IPS_LOST);
    expect_pages(0x3000, 1, IPS_FLUSHED);
    expect_pages(0x4000, 2, IPS_STALE);
    expect_pages(0x6000, 4, IPS_KEPT);
}

Test(invrange, iommufd_6_10_as_spec_6_8_as_linux)
{
    cr_assert_eq(inv_range_probe(IRP_IOMMUFD_6_10, 0x3000, 0x3000, &r), 0);
    expect_piotlb(0x0, 3);
    expect_pages(0x3000, 3, IPS_FLUSHED);
    cr_assert_eq(inv_range_probe(IRP_IOMMUFD_6_8, 0x3000, 0x3000, &r), 0);
    expect_piotlb(0x0, 2); /* aligned down by the host this time, the same pages */
    expect_pages(0x4000, 2, IPS_STALE);
}

/* An aligned 4-page range: every policy flushes exactly it. */
Test(invrange, aligned_range_is_exact_under_every_policy)
{
    for (unsigned p = 0; p < IRP_N; p++) {
        cr_assert_eq(inv_range_probe((enum inv_range_policy)p, 0x8000, 0x4000, &r), 0);
        cr_assert_eq(r.err, 0);
        expect_piotlb(0x8000, 2);
        expect_pages(0x4000, 4, IPS_KEPT);
        expect_pages(0x8000, 4, IPS_FLUSHED);
        expect_pages(0xc000, 4, IPS_KEPT);
    }
}

/* An address that is not 4 KiB aligned: refused but by linux-5.10, which issues nothing
 * wrong for a single page; a refusal leaves the change stale and issues nothing. */
Test(invrange, unaligned_address)
{
    cr_assert_eq(inv_range_probe(IRP_SPEC, 0x3010, 8, &r), 0);
    cr_expect_eq(r.err, -EINVAL);
    cr_expect_eq(r.ndesc, 0);
    expect_pages(0x3000, 1, IPS_STALE);
    expect_pages(0x0, 3, IPS_KEPT);
    cr_assert_eq(inv_range_probe(IRP_LINUX_5_10, 0x3010, 8, &r), 0);
    cr_expect_eq(r.err, 0);
    expect_pages(0x3000, 1, IPS_FLUSHED);
}

Test(invrange, bad_ranges)
{
    cr_expect_eq(inv_range_probe(IRP_SPEC, 0x3000, 0, &r), -EINVAL);
    cr_expect_eq(inv_range_probe(IRP_SPEC, UINT64_MAX - 0xfff, 0x2000, &r), -EINVAL);
    cr_expect_eq(inv_range_probe(IRP_SPEC, 0x1000, (INV_RANGE_MAX_PAGES + 1) << 12, &r), -E2BIG);
    cr_expect_eq(inv_range_probe(IRP_SPEC, UINT64_C(1) << 47, 0x1000, &r), -ERANGE);
    cr_expect_eq(inv_range_pages(0x3fff, 2), 2);
    cr_expect_eq(inv_range_pages(0x3000, 0x1000), 1);
    cr_expect_str_eq(inv_range_policy_name(IRP_N), "?");
    cr_expect_str_eq(inv_page_state_name(IPS_LOST), "lost");
}
