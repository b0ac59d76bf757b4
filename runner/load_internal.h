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

#define VALS_MAX 96
/* What one mapping held, by field id. Strings point into the YAML document. */
struct vals {
    bool given[VALS_MAX];
    uint64_t v[VALS_MAX];
    const char *s[VALS_MAX];
    yaml_node_t *node[VALS_MAX];
};

#define NT(t) (sizeof(t) / sizeof((t)[0]))

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
char *ld_strdup(const char *s);
/* Room for the entries of sequence `seq` (at most `max`): a zeroed array of elem-sized items
 * (one at least), their number in *n; NULL with the error set otherwise. `what` names the
 * entries in the error ("'mem' entries"). */
void *ld_list_alloc(struct ld *L, yaml_node_t *seq, const char *what, unsigned max, size_t elem, size_t *n);
int ld_device_index(const struct scenario *s, const char *name);
int ld_table_index(const struct scenario *s, const char *name);

/* load_expect.c */
bool ld_expect(struct ld *L, yaml_node_t *n, struct sc_expect *e);
const char *ld_expect_key(unsigned id);

/* load_steps.c */
bool ld_steps(struct ld *L, yaml_node_t *seq, struct sc_step **out, unsigned *nout);

#endif
