/*
 * schema.c: the JSON Schema (draft-07, which Debian 12's python3-jsonschema and the
 * yaml-language-server both validate) for scenario files, written from the loader's tables.
 * Every nest of keys (struct ld_nest) becomes one definition; a key's schema follows its type
 * (enum ftype) and accepts every spelling the loader's conversions accept (load_fields.c):
 * numbers as YAML integers or as decimal / 0x strings, sizes with K/M/G/T, names in any case.
 * Patterns use only what ECMA-262 and Python's re share (no inline flags).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "runner/load_internal.h"
#include "runner/schema.h"
#include "sim/iommu.h"
#include "walker/fault.h"

#define NUMBER_PATTERN "^(0[xX][0-9a-fA-F]+|[0-9]+)$"
#define SIZE_PATTERN "^(0[xX][0-9a-fA-F]+|[0-9]+[KMGTkmgt]?)$"
/* walker/bdf.h: two hex digits of bus, device 00-1f, function 0-7. */
#define BDF_PATTERN "^[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\\\.[0-7]$" /* JSON text: a backslash doubled */
/* Letters of rwxu (any case), each at most once as the loader counts them, or "none". */
#define PERM_PATTERN "^((?!.*([rR].*[rR]|[wW].*[wW]|[xX].*[xX]|[uU].*[uU]))[rwxuRWXU]{1,4}|[nN][oO][nN][eE])$"
#define MAX_NESTS 128

/* One generation: where it writes, the nests defined so far, and the keys it could not describe. */
struct gen {
    FILE *out, *problems;
    const struct ld_nest *nests[MAX_NESTS];
    unsigned nnests;
    unsigned issues;
};

/* ---- JSON text ---------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void problem(struct gen *g, const char *nest, const char *key, const char *why)
{
    g->issues++;
    if (g->problems)
        fprintf(g->problems, "schema: key '%s' of '%s': %s\n", key, nest, why);
}

/* A name matched in any case: "lru" -> "[lL][rR][uU]", other characters escaped. */
static void ci_name(FILE *f, const char *name)
{
    for (; *name; name++) {
        unsigned char c = (unsigned char)*name;
        if (isalpha(c))
            fprintf(f, "[%c%c]", tolower(c), toupper(c));
        else if (strchr(".^$|?*+()[]{}\\", c)) /* ECMA-262's syntax characters, nothing else */
            fprintf(f, "\\\\%c", c);
        else
            fputc(c, f);
    }
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* ---- value schemas by type ---------------------------------------------------------------- */

/* A number as YAML writes it, or as a string the loader parses (decimal or 0x). */
static void number_schema(FILE *f, uint64_t min, uint64_t max)
{
    fprintf(f, "{\"anyOf\": [{\"type\": \"integer\", \"minimum\": %" PRIu64 ", \"maximum\": %" PRIu64 "}, "
               "{\"type\": \"string\", \"pattern\": \"" NUMBER_PATTERN "\"}]}",
            min, max);
}

/* Each name of `t`, then each of `extra`, written by `put` with `sep` between them. */
static void each_name(FILE *f, const struct name_val *t, const char *const *extra, size_t nextra, const char *sep,
                      void (*put)(FILE *, const char *))
{
    bool first = true;
    for (const struct name_val *n = t; n && n->name; n++, first = false) {
        fputs(first ? "" : sep, f);
        put(f, n->name);
    }
    for (size_t i = 0; i < nextra; i++, first = false) {
        fputs(first ? "" : sep, f);
        put(f, extra[i]);
    }
}

/* The names of a table in their own spelling (for completion), in any case, and numbers as
 * numbers and strings when a name is one ("39"; "6.10" stays a string). */
static void names_alternatives(FILE *f, const struct name_val *t, const char *const *extra, size_t nextra)
{
    fputs("{\"enum\": [", f);
    each_name(f, t, extra, nextra, ", ", json_str);
    for (const struct name_val *n = t; n && n->name; n++)
        if (all_digits(n->name))
            fprintf(f, ", %s", n->name);
    fputs("]}, {\"type\": \"string\", \"pattern\": \"^(", f);
    each_name(f, t, extra, nextra, "|", ci_name);
    fputs(")$\"}", f);
}

/* A fault reason by name (walker/fault.c), a known 8-bit code, none, PAGE_REQUEST, or any (expectations only). */
static void fault_schema(FILE *f)
{
    static const char *const extra[] = {"none", "PAGE_REQUEST", "any"};
    struct name_val names[257];
    size_t n = 0;
    for (int c = 0; c <= 0xff; c++)
        if (vtd_fault_known(c))
            names[n++] = (struct name_val){vtd_fault_name(c), (uint64_t)c};
    names[n] = (struct name_val){NULL, 0};
    fputs("{\"anyOf\": [", f);
    names_alternatives(f, names, extra, sizeof extra / sizeof extra[0]);
    fputs(", {\"enum\": [", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%" PRIu64, i ? ", " : "", names[i].val);
    fputs("]}, {\"type\": \"string\", \"pattern\": \"" NUMBER_PATTERN "\"}]}", f);
}

/* Names from `t` (and `extra`), or, with numbers allowed, numbers in [min, max]. */
static void named_schema(FILE *f, const struct name_val *t, const char *const *extra, size_t nextra, bool numbers,
                         uint64_t min, uint64_t max)
{
    fputs("{\"anyOf\": [", f);
    names_alternatives(f, t, extra, nextra);
    if (numbers) {
        fprintf(f, ", {\"type\": \"integer\", \"minimum\": %" PRIu64 ", \"maximum\": %" PRIu64 "}", min, max);
        fputs(", {\"type\": \"string\", \"pattern\": \"" NUMBER_PATTERN "\"}", f);
    }
    fputs("]}", f);
}

/* A string, or any other scalar YAML would type (the loader reads every scalar as text). */
static void scalar_text_schema(FILE *f)
{
    fputs("{\"anyOf\": [{\"type\": \"string\", \"minLength\": 1}, {\"type\": [\"number\", \"boolean\"]}]}", f);
}

static uint64_t field_max(const struct field *fl, uint64_t dflt) { return fl->max ? fl->max : dflt; }

static void nest_ref(FILE *f, const struct ld_nest *n)
{
    fputs("{\"$ref\": \"#/definitions/", f);
    fputs(n->name, f);
    fputs("\"}", f);
}

static const struct ld_nest *link_of(const struct ld_link *links, size_t nlinks, const char *key)
{
    for (size_t i = 0; i < nlinks; i++)
        if (!strcmp(links[i].key, key))
            return links[i].nest;
    return NULL;
}

static bool remember(struct gen *g, const struct ld_nest *n);

/* A mapping or a sequence: the nest its link names, or only its YAML kind when none does. */
static void nested_schema(struct gen *g, const char *owner, const struct field *fl, const struct ld_nest *sub)
{
    FILE *f = g->out;
    bool seq = fl->type == T_SEQ;
    if (!sub) {
        problem(g, owner, fl->key, seq ? "a sequence whose entries no nest describes (no struct ld_link for it)"
                                       : "a mapping whose keys no nest describes (no struct ld_link for it)");
        fputs(seq ? "{\"type\": \"array\"}" : "{\"type\": \"object\"}", f);
        return;
    }
    remember(g, sub);
    if (seq) {
        fputs("{\"type\": \"array\", \"items\": ", f);
        nest_ref(f, sub);
        fputs("}", f);
    } else {
        nest_ref(f, sub);
    }
}

/* The schema of one key's value, by its type. */
static void value_schema(struct gen *g, const char *owner, const struct field *fl, const struct ld_nest *sub)
{
    static const char *const none[] = {"none"};
    FILE *f = g->out;
    switch (fl->type) {
    case T_U64: number_schema(f, fl->max ? fl->min : 0, field_max(fl, UINT64_MAX)); break;
    case T_SIZE:
        fprintf(f, "{\"anyOf\": [{\"type\": \"integer\", \"minimum\": %" PRIu64 ", \"maximum\": %" PRIu64 "}, "
                   "{\"type\": \"string\", \"pattern\": \"" SIZE_PATTERN "\"}]}",
                fl->max ? fl->min : 0, field_max(fl, UINT64_MAX));
        break;
    case T_BOOL: fputs("{\"anyOf\": [{\"type\": \"boolean\"}, {\"enum\": [\"true\", \"false\"]}]}", f); break;
    case T_STR:
    case T_DEVICE:
    case T_TABLE:
    case T_SSTABLE: scalar_text_schema(f); break;
    case T_ENUM: named_schema(f, fl->names, NULL, 0, fl->max != 0, fl->min, fl->max); break;
    case T_PERM: fputs("{\"type\": \"string\", \"pattern\": \"" PERM_PATTERN "\"}", f); break;
    case T_PAGE:
        fputs("{\"anyOf\": [{\"enum\": [\"4K\", \"2M\", \"1G\", 4096, 2097152, 1073741824]}, "
              "{\"type\": \"string\", \"pattern\": \"" SIZE_PATTERN "\"}]}",
              f);
        break;
    case T_PASID: named_schema(f, NULL, none, 1, true, 0, 0xFFFFF); break;
    case T_BDF: fputs("{\"type\": \"string\", \"pattern\": \"" BDF_PATTERN "\"}", f); break;
    case T_FAULT: fault_schema(f); break;
    case T_ERRNO: named_schema(f, ld_type_names(T_ERRNO), NULL, 0, true, 0, 4095); break;
    case T_REG: named_schema(f, ld_type_names(T_REG), NULL, 0, true, 0, 0xFFF); break;
    case T_MAP:
    case T_SEQ: nested_schema(g, owner, fl, sub); break;
    case T_U64SEQ:
        fputs("{\"type\": \"array\", \"items\": ", f);
        if (fl->names)
            named_schema(f, fl->names, NULL, 0, false, 0, 0);
        else
            number_schema(f, 0, UINT64_MAX);
        fputs("}", f);
        break;
    case T_FLAGS:
        fputs("{\"anyOf\": [{\"type\": \"array\", \"items\": ", f);
        named_schema(f, fl->names, NULL, 0, false, 0, 0);
        fputs("}, ", f);
        number_schema(f, fl->min, field_max(fl, UINT64_MAX));
        fputs("]}", f);
        break;
    default:
        problem(g, owner, fl->key, "a type the schema generator does not know");
        fputs("{}", f);
        break;
    }
}

/* ---- descriptions --------------------------------------------------------------------------- */

/* The hand-written text (runner/schema_doc.c; for a key without one, that of the nest it holds),
 * then what the loader takes, from the tables, with the range as its messages give it. */
static void describe(FILE *f, const char *owner, const struct field *fl, const struct ld_nest *sub)
{
    const char *doc = sc_schema_doc(owner, fl->key);
    if (!doc && sub)
        doc = sc_schema_doc(sub->name, NULL);
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "%s%s%s", doc ? doc : "", doc ? "; " : "", ld_type_text(fl->type));
    if (fl->type == T_ENUM || fl->type == T_FLAGS || (fl->type == T_U64SEQ && fl->names))
        for (const struct name_val *n = fl->names; n && n->name && used < sizeof text; n++)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", n == fl->names ? ": " : ", ", n->name);
    if (fl->max && fl->type != T_ENUM && fl->type != T_FLAGS && used < sizeof text)
        used += (size_t)snprintf(text + used, sizeof text - used, ", 0x%" PRIx64 "..0x%" PRIx64, fl->min, fl->max);
    if (fl->required && used < sizeof text)
        snprintf(text + used, sizeof text - used, ", required");
    json_str(f, text);
}

/* ---- definitions ---------------------------------------------------------------------------- */

static bool remember(struct gen *g, const struct ld_nest *n)
{
    for (unsigned i = 0; i < g->nnests; i++) {
        if (g->nests[i] == n)
            return false;
        /* Two nests under one name would share one definition: the second's keys would be lost. */
        if (!strcmp(g->nests[i]->name, n->name)) {
            problem(g, n->name, "*", "two nests of the loader have this name; the schema defines only the first");
            return false;
        }
    }
    if (g->nnests == MAX_NESTS) {
        problem(g, n->name, "*", "more nests than the schema generator holds");
        return false;
    }
    g->nests[g->nnests++] = n;
    return true;
}

/* "properties", "required" and "additionalProperties: false" of one table of keys. */
static void keys_body(struct gen *g, const char *owner, const struct field *t, size_t nt, const struct ld_link *links,
                      size_t nlinks)
{
    FILE *f = g->out;
    for (size_t i = 0; i < nlinks; i++) {
        bool found = false;
        for (size_t j = 0; j < nt; j++)
            found |= !strcmp(t[j].key, links[i].key) && (t[j].type == T_MAP || t[j].type == T_SEQ);
        if (!found)
            problem(g, owner, links[i].key, "a link to no mapping or sequence key of the table");
    }
    fputs("\"type\": \"object\",\n      \"properties\": {", f);
    for (size_t i = 0; i < nt; i++) {
        fputs(i ? ",\n        " : "\n        ", f);
        const struct ld_nest *sub = link_of(links, nlinks, t[i].key);
        json_str(f, t[i].key);
        fputs(": {\"description\": ", f);
        describe(f, owner, &t[i], sub);
        fputs(", \"allOf\": [", f);
        value_schema(g, owner, &t[i], sub);
        fputs("]}", f);
    }
    fputs("\n      },\n      \"required\": [", f);
    bool first = true;
    for (size_t i = 0; i < nt; i++)
        if (t[i].required) {
            fputs(first ? "" : ", ", f);
            json_str(f, t[i].key);
            first = false;
        }
    fputs("],\n      \"additionalProperties\": false", f);
}

/* A step: a mapping with exactly one key, the kind, whose value is that kind's arguments. */
static void kinds_body(struct gen *g, const struct ld_nest *n)
{
    FILE *f = g->out;
    fputs("\"type\": \"object\", \"minProperties\": 1, \"maxProperties\": 1,\n      \"properties\": {", f);
    for (size_t i = 0; i < n->nkinds; i++) {
        const char *doc = sc_schema_doc("step", n->kinds[i].name);
        fputs(i ? ",\n        " : "\n        ", f);
        json_str(f, n->kinds[i].name);
        fputs(": {\"description\": ", f);
        json_str(f, doc ? doc : n->kinds[i].name);
        fprintf(f, ", \"allOf\": [{\"$ref\": \"#/definitions/step_%s\"}]}", n->kinds[i].name);
    }
    fputs("\n      },\n      \"additionalProperties\": false", f);
    for (size_t i = 0; i < n->nkinds; i++) {
        const struct step_kind *k = &n->kinds[i];
        char name[96];
        snprintf(name, sizeof name, "step_%s", k->name);
        const char *doc = sc_schema_doc("step", k->name);
        fputs("\n    },\n    ", f);
        json_str(f, name);
        fputs(": {\n      \"description\": ", f);
        json_str(f, doc ? doc : k->name);
        fputs(",\n      ", f);
        keys_body(g, name, k->fields, k->nfields, k->links, k->nlinks);
    }
}

/* One cache's counters by name (sc_counter_name: the per-cache ones come first). */
static void cache_counters(FILE *f)
{
    fputs("{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {", f);
    for (unsigned c = 0; c < SC_CACHE_COUNTERS; c++) {
        fputs(c ? ", " : "", f);
        json_str(f, sc_counter_name(c));
        fputs(": ", f);
        number_schema(f, 0, UINT64_MAX);
    }
    fputs("}}", f);
}

/* expect.stats: a cache's counters, devtlb's by device name, or a global counter's value. */
static void stats_body(FILE *f)
{
    fputs("\"type\": \"object\", \"additionalProperties\": false,\n      \"properties\": {", f);
    for (int c = 0; c <= VTD_C_NCACHES; c++) {
        fputs(c ? ",\n        " : "\n        ", f);
        json_str(f, sc_cache_key_name(c));
        fputs(": ", f);
        if (c == VTD_C_DEVTLB) {
            fputs("{\"type\": \"object\", \"additionalProperties\": ", f);
            cache_counters(f);
            fputs("}", f);
        } else {
            cache_counters(f);
        }
    }
    for (unsigned c = SC_CACHE_COUNTERS; strcmp(sc_counter_name(c), "?"); c++) {
        fputs(",\n        ", f);
        json_str(f, sc_counter_name(c));
        fputs(": ", f);
        number_schema(f, 0, UINT64_MAX);
    }
    fputs("\n      }", f);
}

/* expect.removed: entries each cache lost, by cache name. */
static void removed_body(FILE *f)
{
    fputs("\"type\": \"object\", \"additionalProperties\": false,\n      \"properties\": {", f);
    for (int c = 0; c <= VTD_C_NCACHES; c++) {
        fputs(c ? ", " : "", f);
        json_str(f, sc_cache_key_name(c));
        fputs(": ", f);
        number_schema(f, 0, UINT64_MAX);
    }
    fputs("}", f);
}

static void nest_body(struct gen *g, const struct ld_nest *n)
{
    switch (n->form) {
    case LD_KEYS: keys_body(g, n->name, n->fields, n->nfields, n->links, n->nlinks); break;
    case LD_KINDS: kinds_body(g, n); break;
    case LD_STATS: stats_body(g->out); break;
    case LD_REMOVED: removed_body(g->out); break;
    }
}

unsigned sc_schema_write(FILE *out, FILE *problems)
{
    struct gen g = {.out = out, .problems = problems};
    const struct ld_nest *root = &ld_scenario_nest;
    const char *doc = sc_schema_doc(root->name, NULL);
    g.nests[g.nnests++] = root;
    fputs("{\n  \"$schema\": \"http://json-schema.org/draft-07/schema#\",\n  \"title\": \"vtdsim scenario\",\n"
          "  \"description\": ",
          out);
    json_str(out, doc ? doc : "a vtdsim scenario");
    fputs(",\n  ", out);
    /* The root's keys at the top; each nest they reach is remembered, then defined below. */
    keys_body(&g, root->name, root->fields, root->nfields, root->links, root->nlinks);
    fputs(",\n  \"definitions\": {", out);
    for (unsigned i = 1; i < g.nnests; i++) {
        const struct ld_nest *n = g.nests[i];
        const char *ndoc = sc_schema_doc(n->name, NULL);
        fputs(i > 1 ? "\n    },\n    " : "\n    ", out);
        json_str(out, n->name);
        fputs(": {\n      \"description\": ", out);
        json_str(out, ndoc ? ndoc : n->what);
        fputs(",\n      ", out);
        nest_body(&g, n);
    }
    fputs(g.nnests > 1 ? "\n    }\n  }\n}\n" : "\n  }\n}\n", out);
    return g.issues;
}
