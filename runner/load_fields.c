/*
 * load_fields.c: reading YAML values for the scenario loader: error reporting at a node's
 * line:column, scalar conversions (numbers, sizes, names, permissions, bus:device.function),
 * and the table-driven reading of a mapping against its keys, in the style of netplan's
 * parse.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "runner/load_internal.h"
#include "runner/suggest.h"
#include "walker/alloc.h"
#include "walker/fault.h"
#include "walker/bdf.h"
#include "walker/number.h"

/* ---- the loader's state and error reporting ------------------------------------------- */

/* Keep one more error (the first is also err's line, col and msg), or stop past the limit. */
static void record(struct ld *L, unsigned line, unsigned col, const char *fmt, va_list ap)
{
    struct sc_error *e = L->err;
    if (L->stop)
        return;
    if (e->count >= L->max_errors) {
        e->more = true;
        L->stop = true;
        return;
    }
    struct sc_error_at *at = &e->at[e->count++];
    vsnprintf(at->msg, sizeof at->msg, fmt, ap);
    at->line = line;
    at->col = col;
    if (e->count == 1) {
        memcpy(e->msg, at->msg, sizeof e->msg);
        e->line = line;
        e->col = col;
    }
}

bool ld_fail(struct ld *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(L, n ? (unsigned)n->start_mark.line + 1 : 0, n ? (unsigned)n->start_mark.column + 1 : 0, fmt, ap);
    va_end(ap);
    return false;
}

bool ld_fail_mark(struct ld *L, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(L, (unsigned)m->line + 1, (unsigned)m->column + 1, fmt, ap);
    va_end(ap);
    return false;
}

bool ld_fatal(struct ld *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(L, n ? (unsigned)n->start_mark.line + 1 : 0, n ? (unsigned)n->start_mark.column + 1 : 0, fmt, ap);
    va_end(ap);
    L->stop = true;
    return false;
}

void ld_failed_device(struct ld *L, const char *name)
{
    if (name && L->nfailed_dev < SC_MAX_DEVICES)
        L->failed_dev[L->nfailed_dev++] = name;
}

void ld_failed_table(struct ld *L, const char *name)
{
    if (name && L->nfailed_tab < SC_MAX_TABLES)
        L->failed_tab[L->nfailed_tab++] = name;
}

static bool name_in(const char *const *names, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

/* An unknown device: reported, unless its definition failed (that error was reported). */
bool ld_unknown_device(struct ld *L, const yaml_node_t *n, const char *name)
{
    if (name_in(L->failed_dev, L->nfailed_dev, name))
        return false;
    return ld_fail(L, n, "unknown device '%s'%s", name, ld_device_hint(L, name));
}

yaml_node_t *ld_node(struct ld *L, int index) { return yaml_document_get_node(L->doc, index); }

const char *ld_scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a sequence";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* ---- scalar conversions ----------------------------------------------------------------- */

/* Numbers and sizes are spelt as everywhere else (walker/number.h). */
bool ld_parse_u64(const char *s, uint64_t *out) { return vtd_number_parse(s, out) == 0; }

bool ld_lookup_name(const struct name_val *t, const char *name, uint64_t *val)
{
    for (; t && t->name; t++)
        if (!strcasecmp(t->name, name)) {
            *val = t->val;
            return true;
        }
    return false;
}

static const char *name_of(const struct name_val *t, uint64_t val)
{
    for (; t && t->name; t++)
        if (t->val == val)
            return t->name;
    return NULL;
}

/* "bb:dd.f" in hex, as lspci prints it (walker/bdf.h: exactly those digits, nothing else). */
static bool parse_bdf(const char *s, uint64_t *sid)
{
    uint16_t v;
    if (!vtd_sid_parse(s, strlen(s), &v))
        return false;
    *sid = v;
    return true;
}

static const struct name_val perm_letters[] = {
    {"r", VTD_PERM_R}, {"w", VTD_PERM_W}, {"x", VTD_PERM_X}, {"u", VTD_PERM_U}, {NULL, 0},
};

/* Permissions as letters from "rwxu" (each at most once), or "none". */
static bool parse_perm(const char *s, uint64_t *out)
{
    uint64_t p = 0;
    if (!strcasecmp(s, "none")) {
        *out = 0;
        return true;
    }
    for (; *s; s++) {
        char l[2] = {*s, 0};
        uint64_t bit;
        if (!ld_lookup_name(perm_letters, l, &bit) || (p & bit))
            return false;
        p |= bit;
    }
    *out = p;
    return true;
}

static const struct name_val errno_names[] = {
    {"EPERM", EPERM}, {"ENOENT", ENOENT}, {"ESRCH", ESRCH}, {"EIO", EIO}, {"ENXIO", ENXIO}, {"E2BIG", E2BIG},
    {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EFAULT", EFAULT}, {"EBUSY", EBUSY},
    {"EEXIST", EEXIST}, {"ENODEV", ENODEV}, {"EINVAL", EINVAL}, {"ENOSPC", ENOSPC}, {"ENOTTY", ENOTTY},
    {"ERANGE", ERANGE}, {"EOVERFLOW", EOVERFLOW}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOSYS", ENOSYS},
    {"ECANCELED", ECANCELED}, {NULL, 0},
};

const char *sc_errno_name(int e)
{
    const char *n = name_of(errno_names, (uint64_t)e);
    return n ? n : (e ? "E?" : "0");
}

/* Registers by name (sim/regs.h offsets) for reg_write/reg_read. */
static const struct name_val reg_names[] = {
    {"VER", 0x00}, {"CAP", 0x08}, {"ECAP", 0x10}, {"GCMD", 0x18}, {"GSTS", 0x1C}, {"RTADDR", 0x20},
    {"FSTS", 0x34}, {"FECTL", 0x38}, {"IQH", 0x80}, {"IQT", 0x88}, {"IQA", 0x90}, {"ICS", 0x9C},
    {"IECTL", 0xA0}, {"IQERCD", 0xB0}, {"IRTA", 0xB8}, {"PQH", 0xC0}, {"PQT", 0xC8}, {"PQA", 0xD0}, {"PRS", 0xDC},
    {"PECTL", 0xE0}, {"CCMD", 0x28}, {"PEDATA", 0xE4}, {"PEADDR", 0xE8}, {"PEUADDR", 0xEC}, {NULL, 0},
};

/* ---- tables of keys ------------------------------------------------------------------- */

static const char *const ftype_names[] = {
    [T_U64] = "a number", [T_SIZE] = "a size (e.g. 4K, 2M, 0x1000)", [T_BOOL] = "true or false",
    [T_STR] = "a string", [T_ENUM] = "one of", [T_PERM] = "permissions from \"rwxu\" or \"none\"",
    [T_PAGE] = "a page size (4K, 2M or 1G)", [T_PASID] = "a PASID (0-0xfffff) or \"none\"",
    [T_BDF] = "a bus:device.function like \"00:03.0\"", [T_FAULT] = "a fault name or number",
    [T_ERRNO] = "an errno name (EINVAL...) or number", [T_DEVICE] = "a device name",
    [T_TABLE] = "a table name", [T_SSTABLE] = "a second-stage table name", [T_REG] = "a register name or offset",
    [T_MAP] = "a mapping", [T_SEQ] = "a sequence", [T_U64SEQ] = "a sequence of numbers",
    [T_FLAGS] = "a list of names or a number",
};

const char *ld_type_text(enum ftype t) { return ftype_names[t]; }

const struct name_val *ld_type_names(enum ftype t)
{
    return t == T_ERRNO ? errno_names : t == T_REG ? reg_names : t == T_PERM ? perm_letters : NULL;
}

static const struct field *field_find(const struct field *t, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].key, key))
            return &t[i];
    return NULL;
}

static void names_list(const struct name_val *t, char *buf, size_t len)
{
    buf[0] = 0;
    for (; t && t->name; t++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? ", " : "", t->name);
    }
}

int ld_device_index(const struct scenario *s, const char *name)
{
    for (unsigned i = 0; i < s->ndev; i++)
        if (!strcmp(s->dev[i].name, name))
            return (int)i;
    return -1;
}

int ld_table_index(const struct scenario *s, const char *name)
{
    for (unsigned i = 0; i < s->ntab; i++)
        if (s->tab[i].name && !strcmp(s->tab[i].name, name))
            return (int)i;
    return -1;
}

static bool type_error(struct ld *L, const yaml_node_t *n, const struct field *f)
{
    if (f->type == T_ENUM) {
        char list[256];
        names_list(f->names, list, sizeof list);
        return ld_fail(L, n, "'%s' must be one of: %s", f->key, list);
    }
    return ld_fail(L, n, "'%s' must be %s", f->key, ftype_names[f->type]);
}

static bool range_check(struct ld *L, const yaml_node_t *n, const struct field *f, uint64_t v)
{
    if (f->max && (v < f->min || v > f->max))
        return ld_fail(L, n, "'%s' out of range: %s (allowed 0x%llx..0x%llx)", f->key, ld_scalar(n),
                       (unsigned long long)f->min, (unsigned long long)f->max);
    return true;
}

/* A fault by name ("none", "PAGE_REQUEST", a reason code's name) or by a known code. */
static bool convert_fault(struct ld *L, const yaml_node_t *n, const char *s, uint64_t *v)
{
    int code = vtd_fault_by_name(s);
    if (!strcasecmp(s, "none"))
        *v = 0;
    else if (!strcasecmp(s, "any"))
        *v = SC_FAULT_ANY; /* some fault: a real image's tables may fail in more than one way */
    else if (!strcasecmp(s, "PAGE_REQUEST"))
        *v = VTD_DMA_PAGE_REQUEST; /* not a fault: the device sent a page request (PRI) */
    else if (code >= 0)
        *v = (uint64_t)code;
    else if (!ld_parse_u64(s, v)) {
        struct sc_suggest sg;
        char hint[96];
        sc_suggest_init(&sg, s);
        for (int c = 0; c <= 0xff; c++)
            sc_suggest_offer(&sg, vtd_fault_name(c));
        return ld_fail(L, n, "unknown fault name '%s'%s", s, sc_suggest_text(&sg, hint, sizeof hint));
    }
    else if (*v > 0xff || !vtd_fault_known((int)*v)) /* a fault reason is 8 bits (VT-d 7.1.3) */
        return ld_fail(L, n, "unknown fault code %s (a fault reason is one of the 8-bit codes VT-d defines)", s);
    return true;
}

/* A table by name, as its index; a second-stage one may also be the container's ("container"). */
static bool convert_table(struct ld *L, const yaml_node_t *n, bool second_stage, const char *s, uint64_t *v)
{
    if (second_stage && L->s->has_container && !strcmp(s, "container")) {
        *v = (uint64_t)(int64_t)SC_BACKING_CONTAINER;
        return true;
    }
    int idx = ld_table_index(L->s, s);
    if (idx < 0 && name_in(L->failed_tab, L->nfailed_tab, s))
        return false; /* its definition failed and said why */
    if (idx < 0) {
        struct sc_suggest sg;
        char hint[96];
        sc_suggest_init(&sg, s);
        for (unsigned i = 0; i < L->s->ntab; i++)
            sc_suggest_offer(&sg, L->s->tab[i].name);
        return ld_fail(L, n, "unknown table '%s'%s", s, sc_suggest_text(&sg, hint, sizeof hint));
    }
    if (second_stage && L->s->tab[idx].first_stage)
        return ld_fail(L, n, "table '%s' is not a second-stage table", s);
    *v = (uint64_t)idx;
    return true;
}

/* Convert one scalar per its field type into vals->v[f->id]. */
static bool convert_scalar(struct ld *L, const yaml_node_t *n, const struct field *f, struct vals *out)
{
    const char *s = ld_scalar(n);
    uint64_t v = 0;
    bool ok = true;
    int idx, rc;
    switch (f->type) {
    case T_U64:
    case T_SIZE:
        rc = f->type == T_U64 ? vtd_number_parse(s, &v) : vtd_size_parse(s, &v);
        if (rc == -ERANGE)
            return ld_fail(L, n, "'%s' does not fit in 64 bits: %s", f->key, s);
        if (rc)
            return type_error(L, n, f);
        if (!range_check(L, n, f, v))
            return false;
        break;
    case T_BOOL:
        ok = !strcmp(s, "true") || !strcmp(s, "false");
        v = !strcmp(s, "true");
        break;
    case T_STR: out->s[f->id] = s; break;
    case T_ENUM:
        if (!ld_lookup_name(f->names, s, &v)) {
            ok = f->max && ld_parse_u64(s, &v);
            if (ok && !range_check(L, n, f, v))
                return false;
        }
        break;
    case T_PERM: ok = parse_perm(s, &v); break;
    case T_PAGE:
        ok = vtd_size_parse(s, &v) == 0 && (v == (UINT64_C(1) << 12) || v == (UINT64_C(1) << 21) || v == (UINT64_C(1) << 30));
        v = ok ? (uint64_t)__builtin_ctzll(v) : 0;
        break;
    case T_PASID:
        if (!strcasecmp(s, "none"))
            v = UINT64_MAX;
        else if ((ok = ld_parse_u64(s, &v)) && v > 0xFFFFF)
            return ld_fail(L, n, "'%s' out of range: %s (a PASID is 20 bits)", f->key, s);
        break;
    case T_BDF: ok = parse_bdf(s, &v); break;
    case T_FAULT:
        if (!convert_fault(L, n, s, &v))
            return false;
        break;
    case T_ERRNO:
        if (!ld_lookup_name(errno_names, s, &v) && (!ld_parse_u64(s, &v) || v > 4095))
            return ld_fail(L, n, "unknown errno '%s'", s);
        break;
    case T_DEVICE:
        if ((idx = ld_device_index(L->s, s)) < 0)
            return ld_unknown_device(L, n, s);
        v = (uint64_t)idx;
        break;
    case T_TABLE:
    case T_SSTABLE:
        if (!convert_table(L, n, f->type == T_SSTABLE, s, &v))
            return false;
        break;
    case T_REG:
        ok = ld_lookup_name(reg_names, s, &v) || (ld_parse_u64(s, &v) && v < 0x1000);
        break;
    default: ok = false; break;
    }
    if (!ok)
        return type_error(L, n, f);
    out->v[f->id] = v;
    return true;
}

/* [name, name...] OR'ed, or one number. */
static bool convert_flags(struct ld *L, yaml_node_t *n, const struct field *f, struct vals *out)
{
    uint64_t v = 0, bit;
    if (n->type == YAML_SCALAR_NODE) {
        if (!ld_parse_u64(ld_scalar(n), &v))
            return type_error(L, n, f);
        if (!range_check(L, n, f, v))
            return false;
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
            yaml_node_t *item = ld_node(L, *i);
            if (item->type != YAML_SCALAR_NODE || !ld_lookup_name(f->names, ld_scalar(item), &bit)) {
                char list[256];
                names_list(f->names, list, sizeof list);
                return ld_fail(L, item, "'%s' entries must be among: %s", f->key, list);
            }
            v |= bit;
        }
    } else {
        return type_error(L, n, f);
    }
    out->node[f->id] = n;
    out->v[f->id] = v;
    return true;
}

/* An empty or null value ("key:" with nothing after it, "", ~, null) gives no value. */
static bool is_empty(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return false;
    const char *s = ld_scalar(n);
    return !s[0] || (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                     (!strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")));
}

static bool convert_value(struct ld *L, yaml_node_t *n, const struct field *f, struct vals *out)
{
    /* Checked first, for every type: an empty value must never satisfy a key, required or not. */
    if (is_empty(n)) {
        char list[256] = "";
        if (f->type == T_ENUM)
            names_list(f->names, list, sizeof list);
        return ld_fail(L, n, "'%s' has no value (it must be %s%s%s)", f->key, ftype_names[f->type], list[0] ? ": " : "",
                       list);
    }
    if (f->type == T_FLAGS)
        return convert_flags(L, n, f, out);
    bool want_map = f->type == T_MAP, want_seq = f->type == T_SEQ || f->type == T_U64SEQ;
    if (want_map || want_seq) {
        if (n->type != (want_map ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE))
            return ld_fail(L, n, "'%s' must be %s, not %s", f->key, ftype_names[f->type], node_type_name(n));
        out->node[f->id] = n;
        return true;
    }
    if (n->type != YAML_SCALAR_NODE)
        return ld_fail(L, n, "'%s' must be %s, not %s", f->key, ftype_names[f->type], node_type_name(n));
    out->node[f->id] = n;
    return convert_scalar(L, n, f, out);
}

/* " (did you mean 'nic0'?)" for a misspelt device name, else "" (the text lives in L). */
const char *ld_device_hint(struct ld *L, const char *name)
{
    struct sc_suggest sg;
    sc_suggest_init(&sg, name);
    for (unsigned i = 0; i < L->s->ndev; i++)
        sc_suggest_offer(&sg, L->s->dev[i].name);
    return sc_suggest_text(&sg, L->hint, sizeof L->hint);
}

/* Read a mapping against a table: unknown, duplicate and missing keys are errors. */
bool ld_mapping(struct ld *L, yaml_node_t *map, const char *what, const struct field *t, size_t nt,
                          struct vals *out)
{
    memset(out, 0, sizeof *out);
    if (map->type != YAML_MAPPING_NODE)
        return ld_fail(L, map, "%s must be a mapping, not %s", what, node_type_name(map));
    /* A key in error is skipped and the others read; `seen` keeps a key whose value was wrong,
     * or that a misspelt key was taken for ("did you mean"), from being reported missing too. */
    bool ok = true, seen[VALS_MAX] = {false}, meant[VALS_MAX] = {false};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !L->stop; p++) {
        yaml_node_t *k = ld_node(L, p->key), *v = ld_node(L, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            ok = ld_fail(L, k, "keys of %s must be scalars", what);
            continue;
        }
        const struct field *f = field_find(t, nt, ld_scalar(k));
        if (!f) {
            struct sc_suggest sg;
            char hint[96];
            sc_suggest_init(&sg, ld_scalar(k));
            for (size_t i = 0; i < nt; i++)
                sc_suggest_offer(&sg, t[i].key);
            ok = ld_fail(L, k, "unknown key '%s' in %s%s", ld_scalar(k), what, sc_suggest_text(&sg, hint, sizeof hint));
            if (hint[0] && (f = field_find(t, nt, sg.best)))
                meant[f->id] = true;
            continue;
        }
        if (seen[f->id]) {
            ok = ld_fail(L, k, "duplicate key '%s' in %s", ld_scalar(k), what);
            continue;
        }
        seen[f->id] = true;
        if (!convert_value(L, v, f, out)) {
            out->node[f->id] = NULL;
            ok = false;
            continue;
        }
        out->given[f->id] = true;
    }
    for (size_t i = 0; i < nt && !L->stop; i++)
        if (t[i].required && !seen[t[i].id] && !meant[t[i].id])
            ok = ld_fail(L, map, "missing key '%s' in %s", t[i].key, what);
    return ok;
}

bool ld_nested(struct ld *L, yaml_node_t *map, const struct ld_nest *nest, struct vals *out)
{
    return ld_mapping(L, map, nest->what, nest->fields, nest->nfields, out);
}

char *ld_strdup(const char *s)
{
    return s ? vtd_strdup(s) : NULL;
}

void *ld_list_alloc(struct ld *L, yaml_node_t *seq, const char *what, unsigned max, size_t elem, size_t *n)
{
    *n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (*n > max) {
        ld_fail(L, seq, "too many %s (%zu; at most %u)", what, *n, max);
        return NULL;
    }
    void *p = vtd_calloc(*n ? *n : 1, elem);
    if (!p)
        ld_fatal(L, seq, "out of memory");
    return p;
}
