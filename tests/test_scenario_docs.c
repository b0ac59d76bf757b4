/*
 * test_scenario_docs.c: the tables of docs/scenario-format.md that restate the model cannot
 * drift from it: the fault names (every code the model knows, with its name, meaning and
 * whether FPD may suppress it, and no other), the default capabilities, and the default value
 * of every feature switch of `caps:` (checked through the loader, which names the switches).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/scenario.h"
#include "walker/caps.h"
#include "walker/fault.h"

/* docs/scenario-format.md, read whole (caller frees). */
static char *read_doc(void)
{
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    int n = slash ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/../docs/scenario-format.md", n, slash ? __FILE__ : ".");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *text = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&text, &cap, '\0', f);
    fclose(f);
    cr_assert_gt(len, 0, "%s is empty", path);
    return text;
}

/* The text of the section that starts with `heading` up to the next heading of any level. */
static char *section(const char *doc, const char *heading)
{
    const char *start = strstr(doc, heading);
    cr_assert_not_null(start, "no section '%s'", heading);
    const char *end = strstr(start + strlen(heading), "\n#");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memcpy(s, start, n);
    s[n] = 0;
    return s;
}

static unsigned count_lines_starting(const char *text, const char *prefix)
{
    unsigned n = 0;
    for (const char *p = text; p; p = strchr(p, '\n')) {
        p += *p == '\n';
        n += !strncmp(p, prefix, strlen(prefix));
    }
    return n;
}

Test(docs, fault_table_lists_every_fault)
{
    char *doc = read_doc(), *faults = section(doc, "## Fault names");
    unsigned known = 0;
    for (int code = 0; code <= 0xff; code++) {
        if (!vtd_fault_known(code))
            continue;
        known++;
        char row[512];
        snprintf(row, sizeof row, "\n| `%s` | 0x%02x | %s | %s |\n", vtd_fault_name(code), code, vtd_fault_desc(code),
                 vtd_fault_qualified(code) ? "yes" : "no");
        cr_expect(strstr(faults, row) != NULL, "docs/scenario-format.md lacks the row%s", row);
    }
    /* As many rows as faults: none the model no longer knows. */
    cr_expect_eq(count_lines_starting(faults, "| `"), known, "the fault table has %u rows, the model %u faults",
                 count_lines_starting(faults, "| `"), known);
    free(faults);
    free(doc);
}

Test(docs, default_capabilities_are_the_models)
{
    char *doc = read_doc(), *caps = section(doc, "### `caps:`");
    struct vtd_caps c;
    vtd_caps_default(&c);
    char row[256];
    snprintf(row, sizeof row, "| `cap` | `0x%016" PRIx64 "` |", c.cap);
    cr_expect(strstr(caps, row) != NULL, "docs lack %s", row);
    snprintf(row, sizeof row, "| `ecap` | `0x%016" PRIx64 "` |", c.ecap);
    cr_expect(strstr(caps, row) != NULL, "docs lack %s", row);
    const struct {
        const char *key;
        unsigned value;
    } fields[] = {
        {"haw", c.haw}, {"mgaw", vtd_caps_mgaw(&c)}, {"mamv", vtd_caps_mamv(&c)}, {"nfr", vtd_caps_nfr(&c)},
        {"nd", (unsigned)vtd_field(c.cap, VTD_CAP_ND)}, {"pasid_bits", vtd_caps_pasid_bits(&c)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(row, sizeof row, "| `%s` | %u |", fields[i].key, fields[i].value);
        cr_expect(strstr(caps, row) != NULL, "docs lack %s", row);
    }
    cr_expect_eq(vtd_caps_sagaw(&c), VTD_SAGAW_39 | VTD_SAGAW_48 | VTD_SAGAW_57);
    cr_expect(strstr(caps, "| `sagaw` | [39, 48, 57] |") != NULL);
    free(caps);
    free(doc);
}

/* The capabilities a scenario with `caps: {key: value}` gets; NULL when it does not load. */
static bool caps_with(const char *key, bool value, struct vtd_caps *out)
{
    char text[256];
    int n = snprintf(text, sizeof text, "name: t\niommu:\n  caps: {%s: %s}\nsteps: []\n", key, value ? "true" : "false");
    struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, (size_t)n, &err);
    if (!s)
        return false;
    *out = s->cfg.caps;
    sc_free(s);
    return true;
}

/* Each switch of a "| register | on | off |" row: giving it its documented default changes
 * nothing, giving it the other value changes the register (it is a switch of that bit). */
static unsigned check_switch_list(const char *list, bool on, const struct vtd_caps *def)
{
    unsigned n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *k = strtok_r(buf, " ", &save); k; k = strtok_r(NULL, " ", &save), n++) {
        struct vtd_caps got;
        /* A switch that would make the part inconsistent (NEST without both stages) may refuse
         * to load when turned the other way; the documented value must always load. */
        cr_assert(caps_with(k, on, &got), "caps: {%s: %s} does not load", k, on ? "true" : "false");
        cr_expect(got.cap == def->cap && got.ecap == def->ecap, "'%s' is not %s by default", k, on ? "on" : "off");
        if (caps_with(k, !on, &got))
            cr_expect(got.cap != def->cap || got.ecap != def->ecap, "'%s' changes nothing", k);
    }
    return n;
}

Test(docs, feature_switch_defaults_are_the_models)
{
    char *doc = read_doc(), *caps = section(doc, "### `caps:`");
    struct vtd_caps def;
    vtd_caps_default(&def);
    unsigned total = 0;
    for (const char *reg = "| CAP_REG | `"; reg; reg = !strcmp(reg, "| CAP_REG | `") ? "| ECAP_REG | `" : NULL) {
        const char *row = strstr(caps, reg);
        cr_assert_not_null(row, "no row starting %s", reg);
        char on[512], off[512];
        cr_assert_eq(sscanf(row + strlen(reg), "%511[^`]` | `%511[^`]`", on, off), 2, "cannot read the row %s", reg);
        total += check_switch_list(on, true, &def) + check_switch_list(off, false, &def);
    }
    /* Every named CAP_REG and ECAP_REG bit the loader takes (runner/load.c, SC_FEATURES): 34. */
    cr_expect_eq(total, 34, "the switch table names %u switches", total);
    free(caps);
    free(doc);
}
