/*
 * test_caps.c: the capability registers' checks (walker/caps.h): each inconsistency a
 * configuration can hold is refused with its reason (VT-d 11.4.2 CAP_REG, 11.4.3 ECAP_REG),
 * the SAGAW-to-levels mapping, and the fault table's names and descriptions (walker/fault.h).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walker/caps.h"
#include "walker/fault.h"

static struct vtd_caps base(void)
{
    struct vtd_caps c;
    vtd_caps_default(&c);
    return c;
}

static void refused(const struct vtd_caps *c, const char *reason)
{
    const char *why = NULL;
    cr_assert_not(vtd_caps_valid(c, &why));
    cr_assert_str_eq(why, reason);
    cr_assert_not(vtd_caps_valid(c, NULL), "the reason is optional");
}

Test(caps, default_part_is_consistent)
{
    struct vtd_caps c = base();
    const char *why = "unset";
    cr_assert(vtd_caps_valid(&c, &why));
    cr_assert_null(why);
}

Test(caps, each_inconsistency_has_its_reason)
{
    struct vtd_caps c = base();
    c.haw = 31;
    refused(&c, "host address width must be 32..52 bits");
    c = base();
    c.haw = 53;
    refused(&c, "host address width must be 32..52 bits");
    c = base();
    c.cap = (c.cap & ~VTD_CAP_MGAW) | vtd_field_prep(37, VTD_CAP_MGAW); /* 38 bits */
    refused(&c, "MGAW must be 39..57 bits");
    c = base();
    c.ecap &= ~VTD_ECAP_SMTS;
    refused(&c, "ECAP.SMTS must be set: only scalable mode is modelled");
    c = base();
    c.ecap &= ~VTD_ECAP_FSTS;
    refused(&c, "ECAP.NEST needs both FSTS and SSTS");
    c = base();
    c.cap &= ~VTD_CAP_SAGAW;
    refused(&c, "second-stage translation needs a SAGAW width of 39, 48 or 57 bits");
    c = base();
    c.cap = (c.cap & ~VTD_CAP_ND) | vtd_field_prep(7, VTD_CAP_ND);
    refused(&c, "CAP.ND above 6 (16-bit domain ids) is reserved");
}

Test(caps, widths_and_levels)
{
    cr_assert_eq(vtd_ss_levels_for_width(39), 3);
    cr_assert_eq(vtd_ss_levels_for_width(48), 4);
    cr_assert_eq(vtd_ss_levels_for_width(57), 5);
    cr_assert_eq(vtd_ss_levels_for_width(40), 0);
    struct vtd_caps c = base();
    c.cap = (c.cap & ~VTD_CAP_SAGAW) | vtd_field_prep(VTD_SAGAW_48, VTD_CAP_SAGAW);
    cr_assert(vtd_caps_sagaw_allows(&c, 4));
    cr_assert_not(vtd_caps_sagaw_allows(&c, 3));
    cr_assert_not(vtd_caps_sagaw_allows(&c, 6));
}

Test(caps, fault_names_and_descriptions)
{
    cr_assert_str_eq(vtd_fault_name(VTD_FR_FS_P), "FS_PAGING_ENTRY_P");
    cr_assert_eq(vtd_fault_by_name("FS_PAGING_ENTRY_P"), VTD_FR_FS_P);
    cr_assert(strlen(vtd_fault_desc(VTD_FR_FS_P)) > 0);
    /* 0Fh lies between the legacy codes (01h-0Eh) and the scalable-mode ones (30h on). */
    cr_assert_null(vtd_fault_name(0xF));
    cr_assert_str_eq(vtd_fault_desc(0xF), "unknown fault reason");
    cr_assert_not(vtd_fault_known(0xF));
    cr_assert_not(vtd_fault_qualified(0xF));
    cr_assert_str_eq(vtd_fault_name(0x3), "LEGACY_CTX_ENTRY_INV");
}
