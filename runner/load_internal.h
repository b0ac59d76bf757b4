/*
 * load_internal.h: what the scenario loader's files share (not a public interface): the
 * loader's state, the tables of keys every YAML mapping is read against, and the helpers that
 * read them. load_fields.c reads values, load_expect.c the `expect:` mappings, load_steps.c the
 * steps, load.c the rest of the document.
 */
#ifndef VTDSIM_RUNNER_LOAD_INTERNAL_H
#define VTDSIM_RUNNER_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "runner/scenario.h"

struct ld {
    yaml_document_t *doc;
    struct scenario *s;
    struct sc_error *err;
    unsigned steps_total;
    uint64_t repeat_mult;   /* product of the counts of the repeats being loaded */
    uint64_t work;          /* work units of the steps loaded so far, repeats multiplied out */
    char hint[96];          /* ld_device_hint's text */
    unsigned max_errors;    /* errors kept before the load stops */
    bool stop;              /* the limit was passed or an error ends the load (out of memory) */
    /* Names whose definition failed: a later reference to one is not reported again. */
    const char *failed_dev[SC_MAX_DEVICES], *failed_tab[SC_MAX_TABLES];
    unsigned nfailed_dev, nfailed_tab;
};

struct name_val {
    const char *name;
    uint64_t val;
};

enum ftype {
    T_U64,    /* number, range [min, max] */
    T_SIZE,   /* number with K/M/G/T */
    T_BOOL,
    T_STR,
    T_ENUM,   /* a name from `names`; numbers in [min, max] too when max > 0 */
    T_PERM,
    T_PAGE,   /* 4K, 2M or 1G: stored as the shift */
    T_PASID,  /* number or "none" (UINT64_MAX) */
    T_BDF,
    T_FAULT,
    T_ERRNO,
    T_DEVICE, /* a device name: stored as its index */
    T_TABLE,  /* a table name: stored as its index */
    T_SSTABLE,/* a second-stage table name */
    T_REG,    /* register name or offset */
    T_MAP,    /* a mapping, kept as a node for a later pass */
    T_SEQ,    /* a sequence, kept as a node */
    T_U64SEQ, /* a sequence of numbers, kept as a node */
    T_FLAGS,  /* a sequence of names from `names` (OR'ed), or a number */
};

struct field {
    const char *key;
    enum ftype type;
    unsigned id;
    bool required;
    uint64_t min, max;
    const struct name_val *names;
};

/*
 * What a mapping- or sequence-valued key holds, as data: the loader reads the value with it and
 * the schema generator (runner/schema.c) walks it, so the JSON Schema for scenario files cannot
 * drift from the loader. A nest is one table of keys (a mapping, or each item of a sequence),
 * the step kinds (each item a one-key mapping), or one of the two mappings of `expect:` whose
 * keys are cache and counter names.
 */
enum ld_form {
    LD_KEYS,    /* a mapping read against `fields` (for a sequence: each item) */
    LD_KINDS,   /* a sequence of steps: each item maps one of `kinds` to its arguments */
    LD_STATS,   /* expect.stats: counters by cache (devtlb: by device), global counters */
    LD_REMOVED, /* expect.removed: a number by cache name */
};

struct ld_nest;

/* The nest a T_MAP or T_SEQ key of a table holds. Every such key has one, and the loader reads
 * the value with that nest (tests/test_schema.c fails on a key without its link). */
struct ld_link {
    const char *key;
    const struct ld_nest *nest;
};

/* One step kind: its name, its arguments and what those of them that nest hold. */
struct step_kind {
    const char *name;
    enum sc_kind kind;
    const struct field *fields;
    size_t nfields;
    const struct ld_link *links;
    size_t nlinks;
};

struct ld_nest {
    const char *name; /* the schema's name for it (its definition) */
    const char *what; /* the loader's name for it in messages ("caps", "a device") */
    enum ld_form form;
    const struct field *fields;
    size_t nfields;
    const struct ld_link *links;
    size_t nlinks;
    const struct step_kind *kinds;
    size_t nkinds;
};

/* The scenario's top level (load.c), the steps (load_steps.c), a step's `expect:` (load_expect.c). */
extern const struct ld_nest ld_scenario_nest, ld_steps_nest, ld_expect_nest;
/* One entry of `expect: descriptors` (load_steps.c): a qi step's fields without `expect`. */
extern const struct ld_nest ld_qi_spec_nest;

#define VALS_MAX 128
/* What one mapping held, by field id. Strings point into the YAML document. */
struct vals {
    bool given[VALS_MAX];
    uint64_t v[VALS_MAX];
    const char *s[VALS_MAX];
    yaml_node_t *node[VALS_MAX];
};

#define NT(t) (sizeof(t) / sizeof((t)[0]))
/* A nest of keys: NEST_KEYS(name, what, fields, links); NEST_LEAF for one without nested keys. */
#define NEST_KEYS(n, w, f, l) {n, w, LD_KEYS, f, NT(f), l, NT(l), NULL, 0}
#define NEST_LEAF(n, w, f) {n, w, LD_KEYS, f, NT(f), NULL, 0, NULL, 0}

/* Record an error at node `n` (file position from libyaml) and return false. Past the limit
 * nothing more is recorded and L->stop is set: every loop of the loader ends on it. */
bool ld_fail(struct ld *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same at a libyaml mark (line and column 0-based, as libyaml counts). */
bool ld_fail_mark(struct ld *L, const yaml_mark_t *m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Record an error after which reading on makes no sense (out of memory, the step limit). */
bool ld_fatal(struct ld *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Remember that the device (table) called `name` failed to load: references to it are quiet. */
void ld_failed_device(struct ld *L, const char *name);
void ld_failed_table(struct ld *L, const char *name);
/* "unknown device 'x'" with a suggestion; quiet (false all the same) for a failed definition. */
bool ld_unknown_device(struct ld *L, const yaml_node_t *n, const char *name);
/* " (did you mean 'x'?)" for a misspelt device name of the scenario, else "". */
const char *ld_device_hint(struct ld *L, const char *name);
yaml_node_t *ld_node(struct ld *L, int index);
const char *ld_scalar(const yaml_node_t *n);
bool ld_parse_u64(const char *s, uint64_t *out);
bool ld_lookup_name(const struct name_val *t, const char *name, uint64_t *val);
/* Read a mapping against a table: unknown, duplicate and missing keys are errors. */
bool ld_mapping(struct ld *L, yaml_node_t *map, const char *what, const struct field *t, size_t nt, struct vals *out);
/* ld_mapping against a nest of keys. */
bool ld_nested(struct ld *L, yaml_node_t *map, const struct ld_nest *nest, struct vals *out);
/* The names a type takes besides numbers when its fields carry none (errno, register names). */
const struct name_val *ld_type_names(enum ftype t);
/* What a value of the type is, as the loader's messages say it ("a number"). */
const char *ld_type_text(enum ftype t);
char *ld_strdup(const char *s);
/* Room for the entries of sequence `seq` (at most `max`): a zeroed array of elem-sized items
 * (one at least), their number in *n; NULL with the error set otherwise. `what` names the
 * entries in the error ("'mem' entries"). */
void *ld_list_alloc(struct ld *L, yaml_node_t *seq, const char *what, unsigned max, size_t elem, size_t *n);
int ld_device_index(const struct scenario *s, const char *name);
int ld_table_index(const struct scenario *s, const char *name);

/* load_expect.c */
#define SC_CACHE_COUNTERS 8u /* sc_counter_name(): the per-cache counters come first */
bool ld_expect(struct ld *L, yaml_node_t *n, struct sc_expect *e);
/* One descriptor by the keys of a qi step (load_steps.c), for expect: descriptors. */
bool ld_qi_spec(struct ld *L, yaml_node_t *n, struct sc_step *st);
const char *ld_expect_key(unsigned id);

/* load_steps.c */
bool ld_steps(struct ld *L, yaml_node_t *seq, struct sc_step **out, unsigned *nout);

#endif
