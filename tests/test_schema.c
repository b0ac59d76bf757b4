/*
 * test_schema.c: the JSON Schema for scenario files and the loader are one source of truth.
 * Every mapping- or sequence-valued key of the loader's tables links the nest it holds; the
 * generator describes every key of every nest in that nest's definition; and the loader reads
 * every key exactly where the schema puts it (a document with the key, empty, at that place is
 * refused for that key's missing value, never as an unknown key). A key added to a table
 * without its link, or read by code the tables do not describe, fails here.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/load_internal.h"
#include "runner/schema.h"
#include "sim/iommu.h"

/* ---- the nests the tables reach, from the top ------------------------------------------------ */

#define MAX_SEEN 128
struct seen {
    const struct ld_nest *n[MAX_SEEN];
    unsigned count;
};

static bool see(struct seen *s, const struct ld_nest *n)
{
    for (unsigned i = 0; i < s->count; i++)
        if (s->n[i] == n)
            return false;
    cr_assert_lt(s->count, MAX_SEEN);
    s->n[s->count++] = n;
    return true;
}

static const struct ld_nest *link_of(const struct ld_link *l, size_t nl, const char *key)
{
    for (size_t i = 0; i < nl; i++)
        if (!strcmp(l[i].key, key))
            return l[i].nest;
    return NULL;
}

/* Every T_MAP / T_SEQ key has a link, and every link names such a key. */
static void check_links(const char *owner, const struct field *t, size_t nt, const struct ld_link *l, size_t nl,
                        struct seen *s);

static void visit(struct seen *s, const struct ld_nest *n)
{
    if (!see(s, n))
        return;
    check_links(n->name, n->fields, n->nfields, n->links, n->nlinks, s);
    for (size_t i = 0; i < n->nkinds; i++)
        check_links(n->kinds[i].name, n->kinds[i].fields, n->kinds[i].nfields, n->kinds[i].links, n->kinds[i].nlinks, s);
}

static void check_links(const char *owner, const struct field *t, size_t nt, const struct ld_link *l, size_t nl,
                        struct seen *s)
{
    for (size_t i = 0; i < nt; i++) {
        const struct ld_nest *sub = link_of(l, nl, t[i].key);
        bool nests = t[i].type == T_MAP || t[i].type == T_SEQ;
        cr_expect(!nests || sub, "key '%s' of '%s' is a %s whose keys no struct ld_link names: link its nest so that "
                  "the loader and the schema share it", t[i].key, owner, t[i].type == T_MAP ? "mapping" : "sequence");
        cr_expect(nests || !sub, "key '%s' of '%s' links a nest but is neither a mapping nor a sequence", t[i].key, owner);
        if (sub)
            visit(s, sub);
    }
    for (size_t i = 0; i < nl; i++) {
        bool found = false;
        for (size_t j = 0; j < nt; j++)
            found |= !strcmp(t[j].key, l[i].key);
        cr_expect(found, "'%s' links '%s', a key it does not have", owner, l[i].key);
    }
}

Test(schema, every_nested_key_links_its_nest)
{
    struct seen s = {.count = 0};
    visit(&s, &ld_scenario_nest);
    /* scenario, iommu, caps, cache geometry, device, table, mapping, container, steps, expect... */
    cr_assert_geq(s.count, 14, "only %u nests reached from the top", s.count);
}

/* ---- the generated schema holds every key in its definition ------------------------------------ */

static char *generate(size_t *len, unsigned *issues, char **problems)
{
    char *out = NULL, *prob = NULL;
    size_t plen = 0;
    FILE *f = open_memstream(&out, len), *p = open_memstream(&prob, &plen);
    cr_assert(f && p);
    *issues = sc_schema_write(f, p);
    fclose(f);
    fclose(p);
    *problems = prob;
    return out;
}

/* The text of one definition (up to the next one), or of the top level (up to "definitions"). */
static char *definition(const char *schema, const char *name)
{
    const char *start = schema, *end;
    if (name) {
        char head[128];
        snprintf(head, sizeof head, "\n    \"%s\": {", name);
        start = strstr(schema, head);
        cr_assert(start, "the schema has no definition '%s'", name);
        start += strlen(head);
        end = strstr(start, "\n    },\n    \"");
        if (!end)
            end = start + strlen(start);
    } else {
        end = strstr(schema, "\"definitions\"");
        cr_assert(end);
    }
    return strndup(start, (size_t)(end - start));
}

static void expect_keys(const char *schema, const char *def, const struct field *t, size_t nt)
{
    char *text = definition(schema, def);
    for (size_t i = 0; i < nt; i++) {
        char prop[96];
        snprintf(prop, sizeof prop, "\"%s\": {\"description\"", t[i].key);
        cr_expect(strstr(text, prop), "key '%s' is missing from the schema's '%s'", t[i].key, def ? def : "top level");
        if (t[i].required) {
            snprintf(prop, sizeof prop, "\"%s\"", t[i].key);
            const char *req = strstr(text, "\"required\": [");
            cr_expect(req && strstr(req, prop), "required key '%s' of '%s' is not required in the schema", t[i].key,
                      def ? def : "top level");
        }
    }
    cr_expect(strstr(text, "\"additionalProperties\": false"), "'%s' accepts unknown keys", def ? def : "top level");
    free(text);
}

Test(schema, generator_describes_every_key_in_its_definition)
{
    size_t len;
    unsigned issues;
    char *problems, *schema = generate(&len, &issues, &problems);
    cr_expect_eq(issues, 0, "the generator could not describe: %s", problems);
    struct seen s = {.count = 0};
    visit(&s, &ld_scenario_nest);
    for (unsigned i = 0; i < s.count; i++) {
        const struct ld_nest *n = s.n[i];
        if (n->form == LD_KEYS)
            expect_keys(schema, n == &ld_scenario_nest ? NULL : n->name, n->fields, n->nfields);
        for (size_t k = 0; k < n->nkinds; k++) {
            char def[96], prop[96];
            snprintf(def, sizeof def, "step_%s", n->kinds[k].name);
            expect_keys(schema, def, n->kinds[k].fields, n->kinds[k].nfields);
            snprintf(prop, sizeof prop, "\"%s\": {\"description\"", n->kinds[k].name);
            char *steps = definition(schema, n->name);
            cr_expect(strstr(steps, prop), "step kind '%s' is missing from the schema", n->kinds[k].name);
            free(steps);
        }
    }
    /* The two mappings keyed by cache and counter names. */
    char *stats = definition(schema, "stats"), *removed = definition(schema, "removed");
    for (int c = 0; c <= VTD_C_NCACHES; c++) {
        char prop[64];
        snprintf(prop, sizeof prop, "\"%s\": ", sc_cache_key_name(c));
        cr_expect(strstr(stats, prop) && strstr(removed, prop), "cache '%s' missing from stats or removed", sc_cache_key_name(c));
    }
    for (unsigned c = 0; strcmp(sc_counter_name(c), "?"); c++) {
        char prop[64];
        snprintf(prop, sizeof prop, "\"%s\": ", sc_counter_name(c));
        cr_expect(strstr(stats, prop), "counter '%s' missing from stats", sc_counter_name(c));
    }
    free(stats);
    free(removed);
    free(schema);
    free(problems);
}

Test(schema, every_description_names_a_key_the_loader_has)
{
    size_t len;
    unsigned issues;
    char *problems, *schema = generate(&len, &issues, &problems);
    const char *nest, *key;
    for (size_t i = 0; sc_schema_doc_at(i, &nest, &key); i++) {
        char *text = definition(schema, strcmp(nest, "scenario") ? nest : NULL);
        if (key) {
            char prop[96];
            snprintf(prop, sizeof prop, "\"%s\": {\"description\"", key);
            cr_expect(strstr(text, prop), "a description for '%s' of '%s', which has no such key", key, nest);
        }
        free(text);
    }
    free(schema);
    free(problems);
}

/* ---- the loader reads each key where the schema puts it -------------------------------------- */

/* One hop from the top to the probed key: a table of keys (the key taken), or a step kind. */
struct hop {
    const struct field *fields; /* NULL: a step kind, `key` its name */
    size_t nfields;
    const char *key;
};
#define MAX_HOPS 12

/* Arguments a step needs beyond its required keys (rules across keys, load_steps.c). */
static const char *kind_extra(const char *kind)
{
    static const char *const extra[][2] = {
        {"qi", ", type: cc"}, {"write_root", ", value: 0"}, {"write_context", ", value: 0"},
        {"write_pdir", ", value: 0"}, {"write_pasid", ", value: 0"}, {"write_pte", ", value: 0"},
        {"write_mem", ", value: 0"}, {"qi_queue", ", type: cc"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (!strcmp(extra[i][0], kind))
            return extra[i][1];
    return "";
}

/* A value the loader takes for a key, in a document with device d0 and table t0. */
static const char *valid_value(const struct field *f, char *buf, size_t len)
{
    switch (f->type) {
    case T_U64: snprintf(buf, len, "%llu", (unsigned long long)(f->max ? f->min : 0)); return buf;
    case T_SIZE: snprintf(buf, len, "%llu", (unsigned long long)(f->max ? f->min : 4096)); return buf;
    case T_BOOL: return "false";
    case T_STR: return "x";
    case T_ENUM: case T_FLAGS: return f->names ? f->names[0].name : "0";
    case T_PERM: return "r";
    case T_PAGE: return "4K";
    case T_PASID: return "1";
    case T_BDF: return "\"00:09.0\"";
    case T_FAULT: return "none";
    case T_ERRNO: return "0";
    case T_DEVICE: return "d0";
    case T_TABLE: case T_SSTABLE: return "t0";
    case T_REG: return "VER";
    case T_MAP: return "{}";
    default: return "[]";
    }
}

/* The document: the hops from the top, each mapping with its required keys, around `inner`. */
static char *document(const struct hop *h, unsigned nh, const char *inner)
{
    char *text = strdup(inner);
    for (unsigned i = nh; i-- > 0;) {
        char *wrapped = NULL, buf[64];
        size_t wl = 0;
        FILE *f = open_memstream(&wrapped, &wl);
        if (!h[i].fields) {
            fprintf(f, "{%s: %s}", h[i].key, text);
        } else {
            const struct field *k = NULL;
            for (size_t j = 0; j < h[i].nfields; j++)
                if (!strcmp(h[i].fields[j].key, h[i].key))
                    k = &h[i].fields[j];
            cr_assert(k);
            fprintf(f, k->type == T_SEQ ? "{%s: [%s]" : "{%s: %s", h[i].key, text);
            for (size_t j = 0; j < h[i].nfields; j++)
                if (h[i].fields[j].required && &h[i].fields[j] != k)
                    fprintf(f, ", %s: %s", h[i].fields[j].key, valid_value(&h[i].fields[j], buf, sizeof buf));
            if (i == 0) { /* the top level: a device and a table for the steps to name */
                if (strcmp(h[i].key, "devices"))
                    fputs(", devices: [{name: d0, bdf: \"00:01.0\"}]", f);
                if (strcmp(h[i].key, "tables"))
                    fputs(", tables: [{name: t0, format: ss}]", f);
            }
            if (i > 0 && !h[i - 1].fields)
                fputs(kind_extra(h[i - 1].key), f);
            fputc('}', f);
        }
        fclose(f);
        free(text);
        text = wrapped;
    }
    return text;
}

/* Load the document; its error must be about `key`, in the words `want` gives. */
static void probe(const struct hop *h, unsigned nh, const char *inner, const char *key, const char *want)
{
    char *doc = document(h, nh, inner);
    struct sc_error err;
    struct scenario *s = sc_load_string("probe.yaml", doc, strlen(doc), &err);
    cr_expect_null(s, "%s loads", doc);
    sc_free(s);
    char quoted[96];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    /* "unknown key 'k'", "unknown step kind", "unknown statistic", "unknown cache 'k'": not read there. */
    bool refused_as_unknown = !strncmp(err.msg, "unknown", 7);
    cr_expect(strstr(err.msg, quoted) && strstr(err.msg, want) && !refused_as_unknown,
              "the loader does not read '%s' where the schema puts it: %s -> %s", key, doc, err.msg);
    free(doc);
}

static void probe_nest(const struct ld_nest *n, struct hop *h, unsigned nh, struct seen *s);

static void probe_keys(const struct field *t, size_t nt, const struct ld_link *l, size_t nl, struct hop *h, unsigned nh,
                       struct seen *s)
{
    for (size_t i = 0; i < nt; i++) {
        char inner[96];
        snprintf(inner, sizeof inner, "{%s: ~}", t[i].key);
        probe(h, nh, inner, t[i].key, "has no value");
        const struct ld_nest *sub = link_of(l, nl, t[i].key);
        if (sub && nh < MAX_HOPS) {
            h[nh] = (struct hop){t, nt, t[i].key};
            probe_nest(sub, h, nh + 1, s);
        }
    }
}

static void probe_nest(const struct ld_nest *n, struct hop *h, unsigned nh, struct seen *s)
{
    if (!see(s, n))
        return;
    char inner[160];
    switch (n->form) {
    case LD_KEYS: probe_keys(n->fields, n->nfields, n->links, n->nlinks, h, nh, s); break;
    case LD_KINDS:
        for (size_t k = 0; k < n->nkinds; k++) {
            snprintf(inner, sizeof inner, "{%s: ~}", n->kinds[k].name);
            probe(h, nh, inner, n->kinds[k].name, "must be a mapping");
            h[nh] = (struct hop){NULL, 0, n->kinds[k].name};
            /* Each kind's nests again (expect: in every kind reads the same nest). */
            struct seen again = *s;
            probe_keys(n->kinds[k].fields, n->kinds[k].nfields, n->kinds[k].links, n->kinds[k].nlinks, h, nh + 1, &again);
            if (k + 1 == n->nkinds)
                *s = again;
        }
        break;
    case LD_STATS:
    case LD_REMOVED:
        for (int c = 0; c <= VTD_C_NCACHES; c++) {
            snprintf(inner, sizeof inner, "{%s: ~}", sc_cache_key_name(c));
            probe(h, nh, inner, sc_cache_key_name(c), "must");
        }
        for (unsigned c = 0; n->form == LD_STATS && strcmp(sc_counter_name(c), "?"); c++) {
            if (c < SC_CACHE_COUNTERS)
                snprintf(inner, sizeof inner, "{iotlb: {%s: ~}}", sc_counter_name(c));
            else
                snprintf(inner, sizeof inner, "{%s: ~}", sc_counter_name(c));
            probe(h, nh, inner, sc_counter_name(c), "must be a number");
        }
        break;
    }
}

Test(schema, loader_reads_every_key_where_the_schema_puts_it)
{
    struct hop h[MAX_HOPS + 1];
    struct seen s = {.count = 0};
    probe_nest(&ld_scenario_nest, h, 0, &s);
    cr_assert_geq(s.count, 14);
}
