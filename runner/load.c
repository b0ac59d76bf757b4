/*
 * load.c: the scenario loader. libyaml's document API (yaml_parser_load) gives a node tree with
 * positions; every mapping is then read against a table of {key, type, id, required, range},
 * in the style of netplan's parse.c, so that an unknown key, a wrong type or an out-of-range
 * value is always reported as file:line:column: reason, and the first error stops the load.
 */
#define _POSIX_C_SOURCE 200809L
#include "runner/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "walker/builder.h"
#include "walker/fault.h"
#include "walker/alloc.h"

/* ---- the loader's state and error reporting ------------------------------------------- */

struct ld {
    yaml_document_t *doc;
    struct scenario *s;
    struct sc_error *err;
    unsigned steps_total;
    uint64_t repeat_mult;   /* product of the counts of the repeats being loaded */
};

static bool fail_at(struct ld *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(struct ld *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err->msg, sizeof L->err->msg, fmt, ap);
    va_end(ap);
    L->err->line = n ? (unsigned)n->start_mark.line + 1 : 0;
    L->err->col = n ? (unsigned)n->start_mark.column + 1 : 0;
    return false;
}

static yaml_node_t *node_at(struct ld *L, int index) { return yaml_document_get_node(L->doc, index); }

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

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

/* Decimal, or hexadecimal with 0x. No sign, no octal (a leading 0 is decimal). */
static bool parse_u64(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + d;
    }
    *out = v;
    return true;
}

struct name_val {
    const char *name;
    uint64_t val;
};

static const struct name_val size_suffixes[] = {
    {"K", UINT64_C(1) << 10}, {"M", UINT64_C(1) << 20}, {"G", UINT64_C(1) << 30}, {"T", UINT64_C(1) << 40},
};

/* A number with an optional K/M/G/T suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
    size_t len = strlen(s);
    if (len < 2 || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
        return parse_u64(s, out);
    for (size_t i = 0; i < sizeof size_suffixes / sizeof size_suffixes[0]; i++) {
        if (strcasecmp(s + len - 1, size_suffixes[i].name))
            continue;
        char num[32];
        uint64_t v;
        if (len - 1 >= sizeof num)
            return false;
        memcpy(num, s, len - 1);
        num[len - 1] = 0;
        if (!parse_u64(num, &v) || v > UINT64_MAX / size_suffixes[i].val)
            return false;
        *out = v * size_suffixes[i].val;
        return true;
    }
    return parse_u64(s, out);
}

static bool lookup_name(const struct name_val *t, const char *name, uint64_t *val)
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

/* "bb:dd.f" in hex, as lspci prints it. */
static bool parse_bdf(const char *s, uint64_t *sid)
{
    unsigned b, d, f;
    char tail;
    if (strlen(s) != 7 || sscanf(s, "%2x:%2x.%1x%c", &b, &d, &f, &tail) != 3 || s[2] != ':' || s[5] != '.')
        return false;
    if (d > 0x1f || f > 7)
        return false;
    *sid = vtd_sid(b, d, f);
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
        if (!lookup_name(perm_letters, l, &bit) || (p & bit))
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
    {"ERANGE", ERANGE}, {"EOVERFLOW", EOVERFLOW}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOSYS", ENOSYS}, {NULL, 0},
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
    {"IECTL", 0xA0}, {"IQERCD", 0xB0}, {"PQH", 0xC0}, {"PQT", 0xC8}, {"PQA", 0xD0}, {"PRS", 0xDC},
    {"PECTL", 0xE0}, {NULL, 0},
};

/* ---- tables of keys ------------------------------------------------------------------- */

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

static int index_by_name_dev(const struct scenario *s, const char *name)
{
    for (unsigned i = 0; i < s->ndev; i++)
        if (!strcmp(s->dev[i].name, name))
            return (int)i;
    return -1;
}

static int index_by_name_tab(const struct scenario *s, const char *name)
{
    for (unsigned i = 0; i < s->ntab; i++)
        if (s->tab[i].name && !strcmp(s->tab[i].name, name))
            return (int)i;
    return -1;
}

/* Digits only (hex after 0x), with an optional K/M/G/T: a number, maybe too large for 64 bits. */
static bool looks_numeric(const char *s, bool suffix)
{
    size_t len = strlen(s);
    bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (suffix && !hex && len > 1 && strchr("KMGTkmgt", s[len - 1]))
        len--;
    if (len == 0)
        return false;
    for (size_t i = hex ? 2 : 0; i < len; i++)
        if (!(hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i])))
            return false;
    return true;
}

static bool type_error(struct ld *L, const yaml_node_t *n, const struct field *f)
{
    if ((f->type == T_U64 || f->type == T_SIZE) && looks_numeric(scalar(n), f->type == T_SIZE))
        return fail_at(L, n, "'%s' does not fit in 64 bits: %s", f->key, scalar(n));
    if (f->type == T_ENUM) {
        char list[256];
        names_list(f->names, list, sizeof list);
        return fail_at(L, n, "'%s' must be one of: %s", f->key, list);
    }
    return fail_at(L, n, "'%s' must be %s", f->key, ftype_names[f->type]);
}

static bool range_check(struct ld *L, const yaml_node_t *n, const struct field *f, uint64_t v)
{
    if (f->max && (v < f->min || v > f->max))
        return fail_at(L, n, "'%s' out of range: %s (allowed 0x%llx..0x%llx)", f->key, scalar(n),
                       (unsigned long long)f->min, (unsigned long long)f->max);
    return true;
}

/* Convert one scalar per its field type into vals->v[f->id]. */
static bool convert_scalar(struct ld *L, const yaml_node_t *n, const struct field *f, struct vals *out)
{
    const char *s = scalar(n);
    uint64_t v = 0;
    bool ok = true;
    int idx;
    switch (f->type) {
    case T_U64:
    case T_SIZE:
        if (!(f->type == T_U64 ? parse_u64(s, &v) : parse_size(s, &v)))
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
        if (!lookup_name(f->names, s, &v)) {
            ok = f->max && parse_u64(s, &v);
            if (ok && !range_check(L, n, f, v))
                return false;
        }
        break;
    case T_PERM: ok = parse_perm(s, &v); break;
    case T_PAGE:
        ok = parse_size(s, &v) && (v == (UINT64_C(1) << 12) || v == (UINT64_C(1) << 21) || v == (UINT64_C(1) << 30));
        v = ok ? (uint64_t)__builtin_ctzll(v) : 0;
        break;
    case T_PASID:
        if (!strcasecmp(s, "none"))
            v = UINT64_MAX;
        else if ((ok = parse_u64(s, &v)) && v > 0xFFFFF)
            return fail_at(L, n, "'%s' out of range: %s (a PASID is 20 bits)", f->key, s);
        break;
    case T_BDF: ok = parse_bdf(s, &v); break;
    case T_FAULT: {
        int code = vtd_fault_by_name(s);
        if (!strcasecmp(s, "none"))
            v = 0;
        else if (!strcasecmp(s, "PAGE_REQUEST"))
            v = VTD_DMA_PAGE_REQUEST; /* not a fault: the device sent a page request (PRI) */
        else if (code >= 0)
            v = (uint64_t)code;
        else if (parse_u64(s, &v) && !vtd_fault_known((int)(v & 0xff)))
            return fail_at(L, n, "unknown fault code %s", s);
        else if (!parse_u64(s, &v))
            return fail_at(L, n, "unknown fault name '%s'", s);
        break;
    }
    case T_ERRNO:
        if (!lookup_name(errno_names, s, &v) && (!parse_u64(s, &v) || v > 4095))
            return fail_at(L, n, "unknown errno '%s'", s);
        break;
    case T_DEVICE:
        if ((idx = index_by_name_dev(L->s, s)) < 0)
            return fail_at(L, n, "unknown device '%s'", s);
        v = (uint64_t)idx;
        break;
    case T_TABLE:
    case T_SSTABLE:
        if (f->type == T_SSTABLE && L->s->has_container && !strcmp(s, "container")) {
            v = (uint64_t)(int64_t)SC_BACKING_CONTAINER;
            break;
        }
        if ((idx = index_by_name_tab(L->s, s)) < 0)
            return fail_at(L, n, "unknown table '%s'", s);
        if (f->type == T_SSTABLE && L->s->tab[idx].first_stage)
            return fail_at(L, n, "table '%s' is not a second-stage table", s);
        v = (uint64_t)idx;
        break;
    case T_REG:
        ok = lookup_name(reg_names, s, &v) || (parse_u64(s, &v) && v < 0x1000);
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
        if (!parse_u64(scalar(n), &v))
            return type_error(L, n, f);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
            yaml_node_t *item = node_at(L, *i);
            if (item->type != YAML_SCALAR_NODE || !lookup_name(f->names, scalar(item), &bit)) {
                char list[256];
                names_list(f->names, list, sizeof list);
                return fail_at(L, item, "'%s' entries must be among: %s", f->key, list);
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

static bool convert_value(struct ld *L, yaml_node_t *n, const struct field *f, struct vals *out)
{
    if (f->type == T_FLAGS)
        return convert_flags(L, n, f, out);
    bool want_map = f->type == T_MAP, want_seq = f->type == T_SEQ || f->type == T_U64SEQ;
    if (want_map || want_seq) {
        if (n->type != (want_map ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE))
            return fail_at(L, n, "'%s' must be %s, not %s", f->key, ftype_names[f->type], node_type_name(n));
        out->node[f->id] = n;
        return true;
    }
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(L, n, "'%s' must be %s, not %s", f->key, ftype_names[f->type], node_type_name(n));
    out->node[f->id] = n;
    return convert_scalar(L, n, f, out);
}

/* Read a mapping against a table: unknown, duplicate and missing keys are errors. */
static bool parse_mapping(struct ld *L, yaml_node_t *map, const char *what, const struct field *t, size_t nt,
                          struct vals *out)
{
    memset(out, 0, sizeof *out);
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(L, map, "%s must be a mapping, not %s", what, node_type_name(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(L, k, "keys of %s must be scalars", what);
        const struct field *f = field_find(t, nt, scalar(k));
        if (!f)
            return fail_at(L, k, "unknown key '%s' in %s", scalar(k), what);
        if (out->given[f->id])
            return fail_at(L, k, "duplicate key '%s' in %s", scalar(k), what);
        if (!convert_value(L, v, f, out))
            return false;
        out->given[f->id] = true;
    }
    for (size_t i = 0; i < nt; i++)
        if (t[i].required && !out->given[t[i].id])
            return fail_at(L, map, "missing key '%s' in %s", t[i].key, what);
    return true;
}

#define NT(t) (sizeof(t) / sizeof((t)[0]))

static char *dup_str(const char *s)
{
    return s ? vtd_strdup(s) : NULL;
}

/* ---- iommu: capabilities, caches, policies ------------------------------------------- */

/* Feature switches: key, register (0 CAP, 1 ECAP), bit. One row per named CAP/ECAP bit. */
#define SC_FEATURES(X)                                                                                         \
    X(cm, 0, VTD_CAP_CM) X(zlr, 0, VTD_CAP_ZLR) X(sslps_2m, 0, VTD_CAP_SSLPS_2M) X(sslps_1g, 0, VTD_CAP_SSLPS_1G) \
    X(psi, 0, VTD_CAP_PSI) X(dwd, 0, VTD_CAP_DWD) X(drd, 0, VTD_CAP_DRD) X(fs1gp, 0, VTD_CAP_FS1GP)          \
    X(pi, 0, VTD_CAP_PI) X(fs5lp, 0, VTD_CAP_FS5LP) X(c, 1, VTD_ECAP_C) X(qi, 1, VTD_ECAP_QI)                 \
    X(dt, 1, VTD_ECAP_DT) X(ir, 1, VTD_ECAP_IR) X(eim, 1, VTD_ECAP_EIM) X(pt, 1, VTD_ECAP_PT)                \
    X(sc, 1, VTD_ECAP_SC) X(mts, 1, VTD_ECAP_MTS) X(nest, 1, VTD_ECAP_NEST) X(prs, 1, VTD_ECAP_PRS)          \
    X(ers, 1, VTD_ECAP_ERS) X(srs, 1, VTD_ECAP_SRS) X(nwfs, 1, VTD_ECAP_NWFS) X(eafs, 1, VTD_ECAP_EAFS)      \
    X(pasid, 1, VTD_ECAP_PASID) X(dit, 1, VTD_ECAP_DIT) X(pds, 1, VTD_ECAP_PDS) X(smts, 1, VTD_ECAP_SMTS)    \
    X(vcs, 1, VTD_ECAP_VCS) X(ssads, 1, VTD_ECAP_SSADS) X(ssts, 1, VTD_ECAP_SSTS) X(fsts, 1, VTD_ECAP_FSTS)  \
    X(smpwc, 1, VTD_ECAP_SMPWC) X(rps, 1, VTD_ECAP_RPS)

enum {
    C_HAW, C_MGAW, C_SAGAW, C_MAMV, C_NFR, C_ND, C_PASID_BITS, C_CAP, C_ECAP,
#define X(name, reg, bit) C_F_##name,
    SC_FEATURES(X)
#undef X
};

struct feature {
    unsigned reg;
    uint64_t bit;
};
static const struct feature features[] = {
#define X(name, reg, bit) [C_F_##name - C_F_cm] = {reg, bit},
    SC_FEATURES(X)
#undef X
};

static const struct field caps_fields[] = {
    {"haw", T_U64, C_HAW, false, 12, 52, NULL},
    {"mgaw", T_U64, C_MGAW, false, 1, 64, NULL},
    {"sagaw", T_U64SEQ, C_SAGAW, false, 0, 0, NULL},
    {"mamv", T_U64, C_MAMV, false, 0, 63, NULL},
    {"nfr", T_U64, C_NFR, false, 1, 256, NULL},
    {"nd", T_U64, C_ND, false, 0, 7, NULL},
    {"pasid_bits", T_U64, C_PASID_BITS, false, 1, 20, NULL},
    {"cap", T_U64, C_CAP, false, 0, 0, NULL},
    {"ecap", T_U64, C_ECAP, false, 0, 0, NULL},
#define X(name, reg, bit) {#name, T_BOOL, C_F_##name, false, 0, 0, NULL},
    SC_FEATURES(X)
#undef X
};

static bool parse_sagaw(struct ld *L, yaml_node_t *seq, uint64_t *bits)
{
    static const struct name_val widths[] = {{"39", VTD_SAGAW_39}, {"48", VTD_SAGAW_48}, {"57", VTD_SAGAW_57}, {NULL, 0}};
    *bits = 0;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        yaml_node_t *n = node_at(L, *i);
        uint64_t b;
        if (n->type != YAML_SCALAR_NODE || !lookup_name(widths, scalar(n), &b))
            return fail_at(L, n, "'sagaw' entries must be 39, 48 or 57");
        *bits |= b;
    }
    return true;
}

static bool load_caps(struct ld *L, yaml_node_t *n, struct vtd_caps *caps)
{
    struct vals v;
    if (!parse_mapping(L, n, "caps", caps_fields, NT(caps_fields), &v))
        return false;
    /* Whole registers first, then fields and switches on top of them. */
    if (v.given[C_CAP])
        caps->cap = v.v[C_CAP];
    if (v.given[C_ECAP])
        caps->ecap = v.v[C_ECAP];
    if (v.given[C_HAW])
        caps->haw = (unsigned)v.v[C_HAW];
    if (v.given[C_MGAW])
        vtd_caps_set_field(&caps->cap, VTD_CAP_MGAW, v.v[C_MGAW] - 1);
    if (v.given[C_MAMV])
        vtd_caps_set_field(&caps->cap, VTD_CAP_MAMV, v.v[C_MAMV]);
    if (v.given[C_NFR])
        vtd_caps_set_field(&caps->cap, VTD_CAP_NFR, v.v[C_NFR] - 1);
    if (v.given[C_ND])
        vtd_caps_set_field(&caps->cap, VTD_CAP_ND, v.v[C_ND]);
    if (v.given[C_PASID_BITS])
        vtd_caps_set_field(&caps->ecap, VTD_ECAP_PSS, v.v[C_PASID_BITS] - 1);
    if (v.given[C_SAGAW]) {
        uint64_t bits;
        if (!parse_sagaw(L, v.node[C_SAGAW], &bits))
            return false;
        vtd_caps_set_field(&caps->cap, VTD_CAP_SAGAW, bits);
    }
    for (unsigned i = 0; i < NT(features); i++)
        if (v.given[C_F_cm + i])
            vtd_caps_set(features[i].reg ? &caps->ecap : &caps->cap, features[i].bit, v.v[C_F_cm + i] != 0);
    return true;
}

enum { G_ENTRIES, G_SETS, G_WAYS, G_REPL, G_SEED };
static const struct name_val repl_names[] = {
    {"lru", VTD_REPL_LRU}, {"fifo", VTD_REPL_FIFO}, {"random", VTD_REPL_RANDOM}, {NULL, 0},
};
static const struct field geometry_fields[] = {
    {"entries", T_U64, G_ENTRIES, false, 0, 1u << 24, NULL},
    {"sets", T_U64, G_SETS, false, 1, 1u << 24, NULL},
    {"ways", T_U64, G_WAYS, false, 1, 1u << 24, NULL},
    {"replacement", T_ENUM, G_REPL, false, 0, 0, repl_names},
    {"seed", T_U64, G_SEED, false, 0, 0, NULL},
};

/* entries alone: fully associative; entries and ways: entries/ways sets; sets and ways: as given. */
static bool load_geometry(struct ld *L, yaml_node_t *n, const char *what, struct vtd_cache_geometry *g)
{
    struct vals v;
    if (!parse_mapping(L, n, what, geometry_fields, NT(geometry_fields), &v))
        return false;
    if (v.given[G_ENTRIES] && v.given[G_SETS] && v.given[G_WAYS])
        return fail_at(L, n, "%s: give entries, or sets and ways, or entries and ways, not all three", what);
    if (v.given[G_ENTRIES]) {
        uint64_t ways = v.given[G_WAYS] ? v.v[G_WAYS] : (v.v[G_ENTRIES] ? v.v[G_ENTRIES] : 1);
        if (v.v[G_ENTRIES] % ways)
            return fail_at(L, v.node[G_WAYS], "%s: %llu entries is not a multiple of %llu ways", what,
                           (unsigned long long)v.v[G_ENTRIES], (unsigned long long)ways);
        g->ways = (unsigned)ways;
        g->sets = (unsigned)(v.v[G_ENTRIES] / ways);
    } else if (v.given[G_SETS] || v.given[G_WAYS]) {
        if (!v.given[G_SETS] || !v.given[G_WAYS])
            return fail_at(L, n, "%s: sets and ways go together", what);
        if (v.v[G_SETS] * v.v[G_WAYS] > (1u << 24))
            return fail_at(L, n, "%s: more than 16M entries", what);
        g->sets = (unsigned)v.v[G_SETS];
        g->ways = (unsigned)v.v[G_WAYS];
    }
    if (v.given[G_REPL])
        g->repl = (enum vtd_repl)v.v[G_REPL];
    if (v.given[G_SEED])
        g->seed = v.v[G_SEED];
    return true;
}

enum { I_CAPS, I_ORACLE, I_ORDERING, I_POLICY, I_CACHE0 };
static const struct name_val policy_names[] = {{"spec", SC_POLICY_SPEC}, {"linux-5.10", SC_POLICY_LINUX_5_10}, {NULL, 0}};
/* Cache keys in enum vtd_cache_id order (also the names expectations use). */
static const char *const cache_keys[VTD_C_NCACHES + 1] = {"context_cache", "pasid_cache", "iotlb", "psc_fs", "psc_ss",
                                                          "devtlb"};
static const struct field iommu_fields[] = {
    {"caps", T_MAP, I_CAPS, false, 0, 0, NULL},
    {"oracle", T_BOOL, I_ORACLE, false, 0, 0, NULL},
    {"ordering_checks", T_BOOL, I_ORDERING, false, 0, 0, NULL},
    {"invalidation_policy", T_ENUM, I_POLICY, false, 0, 0, policy_names},
    {"context_cache", T_MAP, I_CACHE0 + VTD_C_CONTEXT, false, 0, 0, NULL},
    {"pasid_cache", T_MAP, I_CACHE0 + VTD_C_PASID, false, 0, 0, NULL},
    {"iotlb", T_MAP, I_CACHE0 + VTD_C_IOTLB, false, 0, 0, NULL},
    {"psc_fs", T_MAP, I_CACHE0 + VTD_C_PSC_FS, false, 0, 0, NULL},
    {"psc_ss", T_MAP, I_CACHE0 + VTD_C_PSC_SS, false, 0, 0, NULL},
};

const char *sc_cache_key_name(int cache)
{
    return cache >= 0 && cache <= VTD_C_NCACHES ? cache_keys[cache] : "global";
}

static bool load_iommu(struct ld *L, yaml_node_t *n)
{
    struct vals v;
    struct scenario *s = L->s;
    s->iommu_line = (unsigned)n->start_mark.line + 1;
    s->iommu_col = (unsigned)n->start_mark.column + 1;
    if (!parse_mapping(L, n, "iommu", iommu_fields, NT(iommu_fields), &v))
        return false;
    if (v.given[I_CAPS] && !load_caps(L, v.node[I_CAPS], &s->cfg.caps))
        return false;
    if (v.given[I_ORACLE])
        s->cfg.oracle = v.v[I_ORACLE];
    if (v.given[I_ORDERING])
        s->cfg.ordering_checks = v.v[I_ORDERING];
    if (v.given[I_POLICY])
        s->policy = (enum sc_policy)v.v[I_POLICY];
    for (unsigned c = 0; c < VTD_C_NCACHES; c++)
        if (v.given[I_CACHE0 + c] && !load_geometry(L, v.node[I_CACHE0 + c], cache_keys[c], &s->cfg.cache[c]))
            return false;
    const char *why = NULL;
    if (!vtd_caps_valid(&s->cfg.caps, &why))
        return fail_at(L, n, "inconsistent capabilities: %s", why ? why : "?");
    return true;
}

/* ---- devices ----------------------------------------------------------------------------- */

enum { D_NAME, D_BDF, D_ATS, D_PRI, D_PASID_BITS, D_DEVTLB };
static const struct field device_fields[] = {
    {"name", T_STR, D_NAME, true, 0, 0, NULL},
    {"bdf", T_BDF, D_BDF, true, 0, 0, NULL},
    {"ats", T_BOOL, D_ATS, false, 0, 0, NULL},
    {"pri", T_BOOL, D_PRI, false, 0, 0, NULL},
    {"pasid_bits", T_U64, D_PASID_BITS, false, 0, 20, NULL},
    {"devtlb", T_MAP, D_DEVTLB, false, 0, 0, NULL},
};

static bool load_device(struct ld *L, yaml_node_t *n, struct sc_device *d)
{
    struct vals v;
    if (!parse_mapping(L, n, "a device", device_fields, NT(device_fields), &v))
        return false;
    if (index_by_name_dev(L->s, v.s[D_NAME]) >= 0)
        return fail_at(L, v.node[D_NAME], "duplicate device name '%s'", v.s[D_NAME]);
    for (unsigned i = 0; i < L->s->ndev; i++)
        if (L->s->dev[i].cfg.sid == v.v[D_BDF])
            return fail_at(L, v.node[D_BDF], "bdf %s already belongs to device '%s'", scalar(v.node[D_BDF]),
                           L->s->dev[i].name);
    d->line = (unsigned)n->start_mark.line + 1;
    d->col = (unsigned)n->start_mark.column + 1;
    d->cfg = (struct vtd_device_config){.sid = (uint16_t)v.v[D_BDF], .ats = v.v[D_ATS], .pri = v.v[D_PRI],
                                        .pasid_bits = v.given[D_PASID_BITS] ? (unsigned)v.v[D_PASID_BITS] : 20,
                                        .devtlb = {.sets = 1, .ways = 64, .repl = VTD_REPL_LRU}};
    if (v.given[D_DEVTLB] && !load_geometry(L, v.node[D_DEVTLB], "devtlb", &d->cfg.devtlb))
        return false;
    d->name = dup_str(v.s[D_NAME]);
    return d->name != NULL || fail_at(L, n, "out of memory");
}

static bool load_devices(struct ld *L, yaml_node_t *seq)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_DEVICES)
        return fail_at(L, seq, "too many devices (%zu; at most %u)", n, SC_MAX_DEVICES);
    if (!(L->s->dev = vtd_calloc(n ? n : 1, sizeof *L->s->dev)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        if (!load_device(L, node_at(L, *i), &L->s->dev[L->s->ndev]))
            return false;
        L->s->ndev++;
    }
    return true;
}

/* ---- page tables --------------------------------------------------------------------------- */

enum { P_NAME, P_FORMAT, P_LEVELS, P_BACKING, P_POOL, P_POOL_SIZE, P_MAPPINGS };
static const struct name_val format_names[] = {{"fs", 1}, {"ss", 0}, {NULL, 0}};
static const struct field table_fields[] = {
    {"name", T_STR, P_NAME, true, 0, 0, NULL},
    {"format", T_ENUM, P_FORMAT, true, 0, 0, format_names},
    {"levels", T_U64, P_LEVELS, false, 3, 5, NULL},
    {"backing", T_SSTABLE, P_BACKING, false, 0, 0, NULL},
    {"pool", T_U64, P_POOL, false, 0, 0, NULL},
    {"pool_size", T_SIZE, P_POOL_SIZE, false, 0x1000, UINT64_C(1) << 40, NULL},
    {"mappings", T_SEQ, P_MAPPINGS, false, 0, 0, NULL},
};

enum { M_VA, M_PA, M_SIZE, M_PAGE, M_PERM, M_AD, M_SNP };
static const struct field mapping_fields[] = {
    {"va", T_U64, M_VA, true, 0, 0, NULL},
    {"pa", T_U64, M_PA, true, 0, 0, NULL},
    {"size", T_SIZE, M_SIZE, true, 1, UINT64_MAX, NULL},
    {"page", T_PAGE, M_PAGE, false, 0, 0, NULL},
    {"perm", T_PERM, M_PERM, true, 0, 0, NULL},
    {"ad", T_BOOL, M_AD, false, 0, 0, NULL},
    {"snp", T_BOOL, M_SNP, false, 0, 0, NULL},
};

static bool load_mappings(struct ld *L, yaml_node_t *seq, struct sc_table *t)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_STEPS)
        return fail_at(L, seq, "too many mappings (%zu)", n);
    if (!(t->map = vtd_calloc(n ? n : 1, sizeof *t->map)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        struct vals v;
        yaml_node_t *m = node_at(L, *i);
        if (!parse_mapping(L, m, "a mapping entry", mapping_fields, NT(mapping_fields), &v))
            return false;
        t->map[t->nmap++] = (struct sc_mapping){
            .va = v.v[M_VA], .pa = v.v[M_PA], .size = v.v[M_SIZE], .page_shift = (unsigned)v.v[M_PAGE],
            .perm = (unsigned)v.v[M_PERM], .flags = (v.v[M_AD] ? VTD_MAP_AD : 0) | (v.v[M_SNP] ? VTD_MAP_SNP : 0),
            .line = (unsigned)m->start_mark.line + 1, .col = (unsigned)m->start_mark.column + 1};
    }
    return true;
}

static bool load_table(struct ld *L, yaml_node_t *n, struct sc_table *t)
{
    struct vals v;
    if (!parse_mapping(L, n, "a table", table_fields, NT(table_fields), &v))
        return false;
    if (index_by_name_tab(L->s, v.s[P_NAME]) >= 0)
        return fail_at(L, v.node[P_NAME], "duplicate table name '%s'", v.s[P_NAME]);
    t->first_stage = v.v[P_FORMAT] == 1;
    t->levels = v.given[P_LEVELS] ? (unsigned)v.v[P_LEVELS] : 4;
    if (t->first_stage && t->levels == 3)
        return fail_at(L, v.node[P_LEVELS], "a first-stage table has 4 or 5 levels");
    if (v.given[P_BACKING] && !t->first_stage)
        return fail_at(L, v.node[P_BACKING], "only a first-stage table lives behind a second-stage one");
    t->backing = v.given[P_BACKING] ? (int)(int64_t)v.v[P_BACKING] : SC_BACKING_NONE;
    t->pool = v.given[P_POOL] ? v.v[P_POOL] : 0x100000;
    t->pool_size = v.given[P_POOL_SIZE] ? v.v[P_POOL_SIZE] : 0x1000000;
    if ((t->pool | t->pool_size) & 0xfff)
        return fail_at(L, v.node[P_POOL] ? v.node[P_POOL] : n, "pool and pool_size must be 4 KiB aligned");
    t->line = (unsigned)n->start_mark.line + 1;
    t->col = (unsigned)n->start_mark.column + 1;
    if (v.given[P_MAPPINGS] && !load_mappings(L, v.node[P_MAPPINGS], t))
        return false;
    t->name = dup_str(v.s[P_NAME]);
    return t->name != NULL || fail_at(L, n, "out of memory");
}

static bool load_tables(struct ld *L, yaml_node_t *seq)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_TABLES)
        return fail_at(L, seq, "too many tables (%zu; at most %u)", n, SC_MAX_TABLES);
    if (!(L->s->tab = vtd_calloc(n ? n : 1, sizeof *L->s->tab)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        /* Counted before loading so that a failed table's allocations are freed too. */
        L->s->ntab++;
        L->s->tab[L->s->ntab - 1].backing = -1;
        if (!load_table(L, node_at(L, *i), &L->s->tab[L->s->ntab - 1]))
            return false;
    }
    return true;
}

/* ---- expectations ------------------------------------------------------------------------ */

enum { X_MEM = E_MAX, X_STATS, X_REMOVED, X_FREC, X_UFAULT };
static const struct name_val source_names[] = {
    {"walk", VTD_SRC_WALK}, {"psc", VTD_SRC_PSC}, {"iotlb", VTD_SRC_IOTLB}, {"devtlb", VTD_SRC_DEVTLB}, {NULL, 0},
};
static const struct field expect_fields[] = {
    {"out", T_U64, E_OUT, false, 0, 0, NULL},
    {"page", T_PAGE, E_PAGE, false, 0, 0, NULL},
    {"perm", T_PERM, E_PERM, false, 0, 0, NULL},
    {"fault", T_FAULT, E_FAULT, false, 0, 0, NULL},
    {"errno", T_ERRNO, E_ERRNO, false, 0, 0, NULL},
    {"iommu_errno", T_ERRNO, E_IOMMU_ERRNO, false, 0, 0, NULL},
    {"entry_num", T_U64, E_ENTRY_NUM, false, 0, 0xFFFFFFFF, NULL},
    {"source", T_ENUM, E_SOURCE, false, 0, 0, source_names},
    {"stale", T_BOOL, E_STALE, false, 0, 0, NULL},
    {"fix", T_STR, E_FIX, false, 0, 0, NULL},
    {"reads", T_U64, E_READS, false, 0, 0, NULL},
    {"paging_reads", T_U64, E_PAGING_READS, false, 0, 0, NULL},
    {"warnings", T_U64, E_WARNINGS, false, 0, 0, NULL},
    {"warning", T_STR, E_WARNING, false, 0, 0, NULL},
    {"pending_faults", T_U64, E_PENDING_FAULTS, false, 0, 0, NULL},
    {"value", T_U64, E_VALUE, false, 0, 0, NULL},
    {"dirty", T_BOOL, E_DIRTY, false, 0, 0, NULL},
    {"mem", T_SEQ, X_MEM, false, 0, 0, NULL},
    {"stats", T_MAP, X_STATS, false, 0, 0, NULL},
    {"removed", T_MAP, X_REMOVED, false, 0, 0, NULL},
    {"fault_records", T_SEQ, X_FREC, false, 0, 0, NULL},
    {"uapi_faults", T_SEQ, X_UFAULT, false, 0, 0, NULL},
};

/* enum iommu_fault_reason of the seed's uAPI. */
static const struct name_val ureason_names[] = {
    {"unknown", 0}, {"pasid_fetch", 1}, {"bad_pasid_entry", 2}, {"pasid_invalid", 3}, {"walk_eabt", 4},
    {"pte_fetch", 5}, {"permission", 6}, {"access", 7}, {"oor_address", 8}, {NULL, 0},
};
static const struct name_val utype_names[] = {{"unrecov", 1}, {"page_req", 2}, {NULL, 0}};
static const struct field ufault_fields[] = {
    {"type", T_ENUM, UF_TYPE, false, 0, 0, utype_names},
    {"grpid", T_U64, UF_GRPID, false, 0, 0, NULL},
    {"reason", T_ENUM, UF_REASON, false, 0, 255, ureason_names},
    {"pasid", T_PASID, UF_PASID, false, 0, 0, NULL},
    {"addr", T_U64, UF_ADDR, false, 0, 0, NULL},
};

/* uapi_faults: the whole queue, in order ([] when it must be empty). */
static bool load_ufault_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_LIST)
        return fail_at(L, seq, "too many 'uapi_faults' entries (%zu; at most %u)", n, SC_MAX_LIST);
    if (!(e->ufault = vtd_calloc(n ? n : 1, sizeof *e->ufault)))
        return fail_at(L, seq, "out of memory");
    e->has_ufault = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        struct vals v;
        if (!parse_mapping(L, node_at(L, *i), "a 'uapi_faults' entry", ufault_fields, NT(ufault_fields), &v))
            return false;
        memcpy(e->ufault[e->nufault].given, v.given, sizeof e->ufault[0].given);
        memcpy(e->ufault[e->nufault].v, v.v, sizeof e->ufault[0].v);
        e->nufault++;
    }
    return true;
}

static const struct field frec_fields[] = {
    {"index", T_U64, FR_INDEX, false, 0, 255, NULL},
    {"reason", T_FAULT, FR_REASON, false, 0, 0, NULL},
    {"device", T_DEVICE, FR_DEVICE, false, 0, 0, NULL},
    {"pasid", T_PASID, FR_PASID, false, 0, 0, NULL},
    {"addr", T_U64, FR_ADDR, false, 0, 0, NULL},
    {"write", T_BOOL, FR_WRITE, false, 0, 0, NULL},
};

/* fault_records: [{index, reason, device, pasid, addr, write}]; index defaults to the position. */
static bool load_frec_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_LIST)
        return fail_at(L, seq, "too many 'fault_records' entries (%zu; at most %u)", n, SC_MAX_LIST);
    if (!(e->frec = vtd_calloc(n ? n : 1, sizeof *e->frec)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        struct vals v;
        if (!parse_mapping(L, node_at(L, *i), "a 'fault_records' entry", frec_fields, NT(frec_fields), &v))
            return false;
        struct sc_frec_expect *r = &e->frec[e->nfrec];
        memcpy(r->given, v.given, sizeof r->given);
        memcpy(r->v, v.v, sizeof r->v);
        if (!r->given[FR_INDEX])
            r->v[FR_INDEX] = e->nfrec;
        e->nfrec++;
    }
    return true;
}

enum { MX_ADDR, MX_VALUE, MX_BYTES };
static const struct field mem_fields[] = {
    {"addr", T_U64, MX_ADDR, true, 0, 0, NULL},
    {"value", T_U64, MX_VALUE, true, 0, 0, NULL},
    {"bytes", T_U64, MX_BYTES, false, 1, 8, NULL},
};

static bool load_mem_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_LIST)
        return fail_at(L, seq, "too many 'mem' entries (%zu; at most %u)", n, SC_MAX_LIST);
    if (!(e->mem = vtd_calloc(n ? n : 1, sizeof *e->mem)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        struct vals v;
        if (!parse_mapping(L, node_at(L, *i), "a 'mem' entry", mem_fields, NT(mem_fields), &v))
            return false;
        unsigned bytes = v.given[MX_BYTES] ? (unsigned)v.v[MX_BYTES] : 8;
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
            return fail_at(L, v.node[MX_BYTES], "'bytes' must be 1, 2, 4 or 8");
        e->mem[e->nmem++] = (struct sc_mem_expect){.addr = v.v[MX_ADDR], .value = v.v[MX_VALUE], .bytes = bytes};
    }
    return true;
}

/* Counters: per cache (struct vtd_cache_stats order), then global (struct vtd_iommu_stats). */
static const char *const counter_names[] = {
    "lookups", "hits", "misses", "fills", "evictions", "invalidated", "over_invalidated", "stale_hits",
    "requests", "faults", "stale", "walks", "walk_reads", "warnings",
};
#define SC_CACHE_COUNTERS 8u
#define SC_COUNTERS (sizeof counter_names / sizeof counter_names[0])

const char *sc_counter_name(unsigned c) { return c < SC_COUNTERS ? counter_names[c] : "?"; }

static int counter_index(const char *name, unsigned first, unsigned end)
{
    for (unsigned i = first; i < end; i++)
        if (!strcmp(counter_names[i], name))
            return (int)i;
    return -1;
}

static int cache_index(const char *name)
{
    for (int i = 0; i <= VTD_C_NCACHES; i++)
        if (!strcmp(cache_keys[i], name))
            return i;
    return -1;
}

static bool add_counter(struct ld *L, yaml_node_t *at, struct sc_expect *e, int cache, int dev, unsigned counter,
                        yaml_node_t *val)
{
    uint64_t v;
    if (val->type != YAML_SCALAR_NODE || !parse_u64(scalar(val), &v))
        return fail_at(L, val, "'%s' must be a number", counter_names[counter]);
    if (e->nstats >= SC_MAX_LIST)
        return fail_at(L, at, "too many statistics expectations (at most %u)", SC_MAX_LIST);
    e->stats[e->nstats++] = (struct sc_counter_expect){.cache = cache, .device = dev, .counter = counter, .value = v};
    return true;
}

static bool load_cache_counters(struct ld *L, yaml_node_t *map, struct sc_expect *e, int cache, int dev)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(L, map, "statistics of '%s' must be a mapping of counters", cache_keys[cache]);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(L, p->key);
        int c = k->type == YAML_SCALAR_NODE ? counter_index(scalar(k), 0, SC_CACHE_COUNTERS) : -1;
        if (c < 0)
            return fail_at(L, k, "unknown cache counter '%s'", k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
        if (!add_counter(L, k, e, cache, dev, (unsigned)c, node_at(L, p->value)))
            return false;
    }
    return true;
}

/* devtlb: {device-name: {counter: n}} */
static bool load_devtlb_counters(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(L, map, "'devtlb' statistics must map device names to counters");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(L, p->key);
        int d = k->type == YAML_SCALAR_NODE ? index_by_name_dev(L->s, scalar(k)) : -1;
        if (d < 0)
            return fail_at(L, k, "unknown device '%s'", k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
        if (!load_cache_counters(L, node_at(L, p->value), e, VTD_C_DEVTLB, d))
            return false;
    }
    return true;
}

static bool load_stats_expect(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (!(e->stats = vtd_calloc(SC_MAX_LIST, sizeof *e->stats)))
        return fail_at(L, map, "out of memory");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
        const char *name = k->type == YAML_SCALAR_NODE ? scalar(k) : "?";
        int cache = cache_index(name), global = counter_index(name, SC_CACHE_COUNTERS, SC_COUNTERS);
        bool ok = cache == VTD_C_DEVTLB ? load_devtlb_counters(L, v, e)
                  : cache >= 0          ? load_cache_counters(L, v, e, cache, -1)
                  : global >= 0         ? add_counter(L, k, e, -1, -1, (unsigned)global, v)
                                        : fail_at(L, k, "unknown statistic '%s'", name);
        if (!ok)
            return false;
    }
    return true;
}

static bool load_removed_expect(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (!(e->removed = vtd_calloc(VTD_C_NCACHES + 1, sizeof *e->removed)))
        return fail_at(L, map, "out of memory");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
        int cache = k->type == YAML_SCALAR_NODE ? cache_index(scalar(k)) : -1;
        uint64_t n;
        if (cache < 0)
            return fail_at(L, k, "unknown cache '%s'", k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
        if (v->type != YAML_SCALAR_NODE || !parse_u64(scalar(v), &n))
            return fail_at(L, v, "'%s' must be a number", scalar(k));
        for (unsigned i = 0; i < e->nremoved; i++)
            if (e->removed[i].cache == cache)
                return fail_at(L, k, "duplicate key '%s' in removed", scalar(k));
        e->removed[e->nremoved++] = (struct sc_counter_expect){.cache = cache, .value = n};
    }
    return true;
}

static bool load_expect(struct ld *L, yaml_node_t *n, struct sc_expect *e)
{
    struct vals v;
    if (!parse_mapping(L, n, "expect", expect_fields, NT(expect_fields), &v))
        return false;
    memcpy(e->given, v.given, sizeof e->given);
    memcpy(e->v, v.v, sizeof e->v);
    e->line = (unsigned)n->start_mark.line + 1;
    e->col = (unsigned)n->start_mark.column + 1;
    if ((v.given[E_FIX] && !(e->fix = dup_str(v.s[E_FIX]))) || (v.given[E_WARNING] && !(e->warning = dup_str(v.s[E_WARNING]))))
        return fail_at(L, n, "out of memory");
    if (v.given[X_MEM] && !load_mem_expect(L, v.node[X_MEM], e))
        return false;
    if (v.given[X_STATS] && !load_stats_expect(L, v.node[X_STATS], e))
        return false;
    if (v.given[X_FREC] && !load_frec_expect(L, v.node[X_FREC], e))
        return false;
    if (v.given[X_UFAULT] && !load_ufault_expect(L, v.node[X_UFAULT], e))
        return false;
    return !v.given[X_REMOVED] || load_removed_expect(L, v.node[X_REMOVED], e);
}

/* ---- steps ---------------------------------------------------------------------------------- */

enum { S_EXPECT = A_MAX, S_RAW, S_STEPS, S_ENTRIES };

static const struct name_val access_names[] = {{"read", VTD_ACC_R}, {"write", VTD_ACC_W}, {"exec", VTD_ACC_X}, {NULL, 0}};
static const struct name_val ats_names[] = {
    {"none", VTD_REQ_UNTRANSLATED}, {"translate", VTD_REQ_TRANSLATION}, {"translated", VTD_REQ_TRANSLATED}, {NULL, 0},
};
static const struct name_val pgtt_names[] = {{"fs", 1}, {"ss", 2}, {"nested", 3}, {"pt", 4}, {NULL, 0}};
static const struct name_val half_names[] = {{"lo", 0}, {"hi", 1}, {NULL, 0}};
static const struct name_val qi_type_names[] = {
    {"cc", 1}, {"iotlb", 2}, {"devtlb", 3}, {"iec", 4}, {"wait", 5}, {"p_iotlb", 6}, {"pc", 7}, {"p_devtlb", 8},
    {"pgrp_resp", 9}, {NULL, 0},
};
/* Granularity names; a number is taken as the raw G field. */
static const struct name_val gran_names[] = {
    {"global", SC_GRAN_GLOBAL}, {"domain", SC_GRAN_DOMAIN}, {"device", SC_GRAN_DEVICE}, {"page", SC_GRAN_PAGE},
    {"pasid", SC_GRAN_PASID}, {NULL, 0},
};

#define ARG(k, t, id) {k, t, id, false, 0, 0, NULL}
#define ARGR(k, t, id) {k, t, id, true, 0, 0, NULL}
#define ARGN(k, id, lo, hi) {k, T_U64, id, false, lo, hi, NULL}
#define ARGE(k, id, names) {k, T_ENUM, id, false, 0, 0, names}
#define EXPECT {"expect", T_MAP, S_EXPECT, false, 0, 0, NULL}
#define DEVICE ARGR("device", T_DEVICE, A_DEVICE)
#define PASIDR {"pasid", T_PASID, A_PASID, true, 0, 0, NULL}
#define EDIT_VALUE ARG("value", T_U64, A_VALUE), ARG("set", T_U64, A_SET), ARG("clear", T_U64, A_CLEAR)

static const struct field attach_fields[] = {
    DEVICE, ARGN("pdts", A_PDTS, 0, 7), ARG("paside", T_BOOL, A_PASIDE), ARG("dte", T_BOOL, A_DTE),
    ARG("pre", T_BOOL, A_PRE), ARG("fpd", T_BOOL, A_FPD), ARGN("rid_pasid", A_RID_PASID, 0, 0xFFFFF),
    ARG("rid_priv", T_BOOL, A_RID_PRIV), EXPECT,
};
static const struct field pasid_entry_fields[] = {
    DEVICE, PASIDR, {"pgtt", T_ENUM, A_PGTT, true, 0, 7, pgtt_names}, ARG("table", T_TABLE, A_TABLE),
    ARG("ss_table", T_SSTABLE, A_SS_TABLE), ARGN("did", A_DID, 0, 0xFFFF), ARG("fpd", T_BOOL, A_FPD),
    ARG("sre", T_BOOL, A_SRE), ARG("wpe", T_BOOL, A_WPE), ARG("ssee", T_BOOL, A_SSEE), ARG("ssade", T_BOOL, A_SSADE),
    ARG("eafe", T_BOOL, A_EAFE), ARG("ere", T_BOOL, A_ERE), ARG("nxe", T_BOOL, A_NXE), ARG("smep", T_BOOL, A_SMEP),
    ARG("pwsnp", T_BOOL, A_PWSNP), ARG("pgsnp", T_BOOL, A_PGSNP), EXPECT,
};
static const struct field pasid_clear_fields[] = {DEVICE, PASIDR, EXPECT};
static const struct field map_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), ARGR("pa", T_U64, A_PA),
    {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL}, ARG("page", T_PAGE, A_PAGE), ARGR("perm", T_PERM, A_PERM),
    ARG("ad", T_BOOL, A_AD), ARG("snp", T_BOOL, A_SNP), EXPECT,
};
static const struct field unmap_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL},
    EXPECT,
};
static const struct field protect_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL},
    ARGR("perm", T_PERM, A_PERM), EXPECT,
};
static const struct field dma_fields[] = {
    DEVICE, {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARGR("addr", T_U64, A_ADDR),
    {"size", T_SIZE, A_SIZE, false, 1, UINT64_C(1) << 32, NULL}, {"access", T_ENUM, A_ACCESS, true, 0, 0, access_names},
    ARG("priv", T_BOOL, A_PRIV), ARGE("ats", A_ATS, ats_names), EXPECT,
};
static const struct field qi_fields[] = {
    {"type", T_ENUM, A_TYPE, false, 0, 15, qi_type_names}, {"granularity", T_ENUM, A_GRAN, false, 0, 3, gran_names},
    ARGN("did", A_DID, 0, 0xFFFF), {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARG("addr", T_U64, A_ADDR),
    {"size", T_SIZE, A_SIZE, false, 0x1000, UINT64_MAX, NULL}, ARGN("am", A_AM, 0, 63), ARG("ih", T_BOOL, A_IH),
    ARG("device", T_DEVICE, A_DEVICE), ARG("sid", T_BDF, A_SID), ARG("s", T_BOOL, A_S), ARG("g", T_BOOL, A_G),
    ARGN("fm", A_FM, 0, 3), ARGN("pfsid", A_PFSID, 0, 0xFFFF), ARGN("qdep", A_QDEP, 0, 31), ARG("dw", T_BOOL, A_DW),
    ARG("dr", T_BOOL, A_DR), ARG("if", T_BOOL, A_IF), ARG("sw", T_BOOL, A_SW), ARG("fn", T_BOOL, A_FN),
    ARG("pd", T_BOOL, A_PD), ARG("status_addr", T_U64, A_STATUS_ADDR), ARGN("status_data", A_STATUS_DATA, 0, 0xFFFFFFFF),
    ARGN("rc", A_RC, 0, 15), ARGN("prgi", A_PRGI, 0, 511), ARG("pp", T_BOOL, A_PP), ARGN("width", A_WIDTH, 128, 256),
    {"raw", T_U64SEQ, S_RAW, false, 0, 0, NULL}, EXPECT,
};
static const struct field write_root_fields[] = {
    ARGN("bus", A_BUS, 0, 255), ARGE("half", A_HALF, half_names), EDIT_VALUE, EXPECT,
};
static const struct field write_context_fields[] = {DEVICE, ARGN("qword", A_QWORD, 0, 3), EDIT_VALUE, EXPECT};
static const struct field write_pdir_fields[] = {DEVICE, PASIDR, EDIT_VALUE, EXPECT};
static const struct field write_pasid_fields[] = {DEVICE, PASIDR, ARGN("qword", A_QWORD, 0, 7), EDIT_VALUE, EXPECT};
static const struct field write_pte_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"level", T_U64, A_LEVEL, true, 1, 5, NULL},
    EDIT_VALUE, EXPECT,
};
static const struct field write_mem_fields[] = {
    ARGR("addr", T_U64, A_ADDR), ARG("value", T_U64, A_VALUE), ARGN("fill", A_FILL, 0, 255),
    /* Filled memory is real memory: at most 16 MiB per step. */
    {"size", T_SIZE, A_SIZE, false, 1, UINT64_C(1) << 24, NULL}, EXPECT,
};
static const struct field reg_write_fields[] = {
    ARGR("reg", T_REG, A_OFFSET), {"width", T_U64, A_WIDTH, false, 4, 8, NULL}, ARGR("value", T_U64, A_VALUE), EXPECT,
};
static const struct field reg_read_fields[] = {
    ARGR("reg", T_REG, A_OFFSET), {"width", T_U64, A_WIDTH, false, 4, 8, NULL}, EXPECT,
};
static const struct field check_fields[] = {ARG("device", T_DEVICE, A_DEVICE), EXPECT};
static const struct field repeat_fields[] = {
    {"count", T_U64, A_COUNT, true, 1, SC_MAX_REPEAT, NULL}, {"steps", T_SEQ, S_STEPS, true, 0, 0, NULL},
};

static const struct name_val pasid_op_names[] = {{"alloc", 0}, {"free", 1}, {NULL, 0}};
static const struct name_val inv_cache_names[] = {{"iotlb", 1}, {"dev_iotlb", 2}, {"pasid", 4}, {NULL, 0}};
static const struct name_val inv_gran_names[] = {{"domain", 0}, {"pasid", 1}, {"addr", 2}, {NULL, 0}};
#define ARGSZ ARGN("argsz", A_ARGSZ, 0, 0xFFFFFFFF)
#define FLAGS ARG("flags", T_U64, A_FLAGS)

static const struct name_val resp_code_names[] = {{"success", 0}, {"invalid", 1}, {"failure", 2}, {NULL, 0}};
static const struct field container_attach_fields[] = {DEVICE, EXPECT};
static const struct field page_response_fields[] = {
    ARGR("grpid", T_U64, A_GRPID), {"pasid", T_PASID, A_PASID, false, 0, 0, NULL},
    {"code", T_ENUM, A_CODE, false, 0, 15, resp_code_names}, ARGSZ, FLAGS, ARG("version", T_U64, A_VERSION), EXPECT,
};
static const struct field get_info_fields[] = {ARGSZ, EXPECT};
static const struct field map_dma_fields[] = {
    ARGR("iova", T_U64, A_IOVA), ARGR("vaddr", T_U64, A_VADDR), ARGR("size", T_SIZE, A_SIZE),
    ARG("perm", T_PERM, A_PERM), ARGSZ, FLAGS, EXPECT,
};
static const struct field unmap_dma_fields[] = {ARGR("iova", T_U64, A_IOVA), ARGR("size", T_SIZE, A_SIZE), ARGSZ, FLAGS, EXPECT};
static const struct field pasid_request_fields[] = {
    ARGE("op", A_OP, pasid_op_names), ARGR("min", T_U64, A_MIN), ARGR("max", T_U64, A_MAX_PASID), ARGSZ, FLAGS, EXPECT,
};
static const struct field bind_fields[] = {
    {"hpasid", T_U64, A_HPASID, true, 0, 0, NULL}, ARG("gpasid", T_U64, A_GPASID), ARG("table", T_TABLE, A_TABLE),
    ARG("gpgd", T_U64, A_ADDR), ARG("addr_width", T_U64, A_ADDR_WIDTH), ARG("sre", T_BOOL, A_SRE),
    ARG("eafe", T_BOOL, A_EAFE), ARGSZ, FLAGS, ARG("version", T_U64, A_VERSION), ARG("format", T_U64, A_FORMAT), EXPECT,
};
static const struct field cache_invalidate_fields[] = {
    {"cache", T_FLAGS, A_CACHE, false, 0, 0, inv_cache_names}, ARGE("granularity", A_UGRAN, inv_gran_names),
    {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARG("archid", T_U64, A_ARCHID), ARG("addr", T_U64, A_ADDR),
    ARG("granule_size", T_SIZE, A_GRANULE), ARG("nb_granules", T_U64, A_NB), ARG("leaf", T_BOOL, A_LEAF), ARGSZ,
    FLAGS, ARG("version", T_U64, A_VERSION), EXPECT,
};
/* The iommufd forms (uapi/linux/iommufd_vtd.h): IOMMU_HWPT_ALLOC (vtd_s1) and IOMMU_HWPT_INVALIDATE. */
static const struct name_val hwpt_s1_flag_names[] = {{"sre", 1}, {"eafe", 2}, {"wpe", 4}, {NULL, 0}};
static const struct name_val hwpt_inv_flag_names[] = {{"leaf", 1}, {NULL, 0}};
static const struct field hwpt_alloc_fields[] = {
    {"pasid", T_U64, A_PASID, true, 0, 0xFFFFF, NULL}, {"flags", T_FLAGS, A_FLAGS, false, 0, 0, hwpt_s1_flag_names},
    ARG("table", T_TABLE, A_TABLE), ARG("pgtbl_addr", T_U64, A_ADDR), ARG("addr_width", T_U64, A_ADDR_WIDTH),
    ARGN("reserved", A_VALUE, 0, 0xFFFFFFFF), EXPECT,
};
static const struct field hwpt_invalidate_fields[] = {
    {"pasid", T_U64, A_PASID, true, 0, 0xFFFFF, NULL}, {"entries", T_SEQ, S_ENTRIES, true, 0, 0, NULL},
    ARGN("entry_len", A_WIDTH, 0, 4096), ARGN("entry_num", A_COUNT, 0, SC_MAX_HWPT_INV), EXPECT,
};
enum { HI_ADDR, HI_NPAGES, HI_FLAGS, HI_RESERVED };
static const struct field hwpt_inv_entry_fields[] = {
    {"addr", T_U64, HI_ADDR, true, 0, 0, NULL}, {"npages", T_U64, HI_NPAGES, true, 0, 0, NULL},
    {"flags", T_FLAGS, HI_FLAGS, false, 0, 0, hwpt_inv_flag_names}, {"reserved", T_U64, HI_RESERVED, false, 0, 0xFFFFFFFF, NULL},
};

struct step_kind {
    const char *name;
    enum sc_kind kind;
    const struct field *fields;
    size_t nfields;
};
#define KIND(n, k, t) {n, k, t, NT(t)}
static const struct step_kind step_kinds[] = {
    KIND("attach", SK_ATTACH, attach_fields),
    KIND("pasid_entry", SK_PASID_ENTRY, pasid_entry_fields),
    KIND("pasid_clear", SK_PASID_CLEAR, pasid_clear_fields),
    KIND("map", SK_MAP, map_fields),
    KIND("unmap", SK_UNMAP, unmap_fields),
    KIND("protect", SK_PROTECT, protect_fields),
    KIND("dma", SK_DMA, dma_fields),
    KIND("qi", SK_QI, qi_fields),
    KIND("write_root", SK_WRITE_ROOT, write_root_fields),
    KIND("write_context", SK_WRITE_CONTEXT, write_context_fields),
    KIND("write_pdir", SK_WRITE_PDIR, write_pdir_fields),
    KIND("write_pasid", SK_WRITE_PASID, write_pasid_fields),
    KIND("write_pte", SK_WRITE_PTE, write_pte_fields),
    KIND("write_mem", SK_WRITE_MEM, write_mem_fields),
    KIND("reg_write", SK_REG_WRITE, reg_write_fields),
    KIND("reg_read", SK_REG_READ, reg_read_fields),
    KIND("check", SK_CHECK, check_fields),
    KIND("repeat", SK_REPEAT, repeat_fields),
    KIND("container_attach", SK_CONTAINER_ATTACH, container_attach_fields),
    KIND("get_info", SK_GET_INFO, get_info_fields),
    KIND("map_dma", SK_MAP_DMA, map_dma_fields),
    KIND("unmap_dma", SK_UNMAP_DMA, unmap_dma_fields),
    KIND("pasid_request", SK_PASID_REQUEST, pasid_request_fields),
    KIND("bind", SK_BIND, bind_fields),
    KIND("unbind", SK_UNBIND, bind_fields),
    KIND("cache_invalidate", SK_CACHE_INVALIDATE, cache_invalidate_fields),
    KIND("page_response", SK_PAGE_RESPONSE, page_response_fields),
    KIND("hwpt_alloc", SK_HWPT_ALLOC, hwpt_alloc_fields),
    KIND("hwpt_invalidate", SK_HWPT_INVALIDATE, hwpt_invalidate_fields),
};

const char *sc_kind_name(enum sc_kind k)
{
    for (size_t i = 0; i < NT(step_kinds); i++)
        if (step_kinds[i].kind == k)
            return step_kinds[i].name;
    return "?";
}

static const struct step_kind *step_kind_find(const char *name)
{
    for (size_t i = 0; i < NT(step_kinds); i++)
        if (!strcmp(step_kinds[i].name, name))
            return &step_kinds[i];
    return NULL;
}

static bool load_raw(struct ld *L, yaml_node_t *seq, struct sc_step *st)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n != 2 && n != 4)
        return fail_at(L, seq, "'raw' holds 2 qwords (128-bit descriptor) or 4 (256-bit), not %zu", n);
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        yaml_node_t *q = node_at(L, *i);
        if (q->type != YAML_SCALAR_NODE || !parse_u64(scalar(q), &st->raw[st->nraw]))
            return fail_at(L, q, "'raw' entries must be numbers");
        st->nraw++;
    }
    return true;
}

/* entries: the array of struct iommu_hwpt_vtd_s1_invalidate, in order. */
static bool load_hwpt_entries(struct ld *L, yaml_node_t *seq, struct sc_step *st)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_HWPT_INV)
        return fail_at(L, seq, "too many 'entries' (%zu; at most %u)", n, SC_MAX_HWPT_INV);
    if (!(st->inv = vtd_calloc(n ? n : 1, sizeof *st->inv)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        struct vals v;
        if (!parse_mapping(L, node_at(L, *i), "an 'entries' item", hwpt_inv_entry_fields, NT(hwpt_inv_entry_fields), &v))
            return false;
        st->inv[st->ninv++] = (struct sc_hwpt_inv){.addr = v.v[HI_ADDR], .npages = v.v[HI_NPAGES],
                                                   .flags = (uint32_t)v.v[HI_FLAGS], .reserved = (uint32_t)v.v[HI_RESERVED]};
    }
    return true;
}

/* What a qi step must say: a raw descriptor, or a type with the fields it needs. */
static bool check_qi_step(struct ld *L, yaml_node_t *n, const struct vals *v)
{
    if (v->given[S_RAW])
        return true;
    if (!v->given[A_TYPE])
        return fail_at(L, n, "a qi step needs 'type' (or 'raw')");
    if (v->given[A_SIZE] && v->given[A_AM])
        return fail_at(L, v->node[A_AM], "give 'am' or 'size', not both");
    if (v->given[A_SIZE] && (v->v[A_SIZE] & (v->v[A_SIZE] - 1)))
        return fail_at(L, v->node[A_SIZE], "'size' must be a power of two");
    if (v->given[A_WIDTH] && v->v[A_WIDTH] != 128 && v->v[A_WIDTH] != 256)
        return fail_at(L, v->node[A_WIDTH], "'width' must be 128 or 256");
    return true;
}

static bool check_edit(struct ld *L, yaml_node_t *n, const struct vals *v)
{
    if (v->given[A_VALUE] && (v->given[A_SET] || v->given[A_CLEAR]))
        return fail_at(L, n, "give 'value', or 'set'/'clear', not both");
    if (!v->given[A_VALUE] && !v->given[A_SET] && !v->given[A_CLEAR])
        return fail_at(L, n, "missing 'value' (or 'set'/'clear')");
    return true;
}

static bool load_steps(struct ld *L, yaml_node_t *seq, struct sc_step **out, unsigned *nout);

/* Per-kind checks beyond single fields. */
static bool check_step(struct ld *L, yaml_node_t *n, enum sc_kind k, const struct vals *v)
{
    switch (k) {
    case SK_QI: return check_qi_step(L, n, v);
    case SK_WRITE_ROOT: case SK_WRITE_CONTEXT: case SK_WRITE_PDIR: case SK_WRITE_PASID: case SK_WRITE_PTE:
        return check_edit(L, n, v);
    case SK_WRITE_MEM:
        if (v->given[A_VALUE] == v->given[A_FILL])
            return fail_at(L, n, "write_mem takes 'value' or 'fill' (with 'size')");
        if (v->given[A_FILL] && !v->given[A_SIZE])
            return fail_at(L, n, "'fill' needs 'size'");
        return true;
    case SK_REG_WRITE: case SK_REG_READ:
        if (v->given[A_WIDTH] && v->v[A_WIDTH] != 4 && v->v[A_WIDTH] != 8)
            return fail_at(L, v->node[A_WIDTH], "'width' must be 4 or 8");
        return true;
    default: return true;
    }
}

static const char *expect_key(unsigned id)
{
    for (size_t i = 0; i < NT(expect_fields); i++)
        if (expect_fields[i].id == id)
            return expect_fields[i].key;
    return "?";
}

/* Expectations about a translation belong to dma steps; 'removed' to qi steps. */
static bool check_expect_applies(struct ld *L, yaml_node_t *n, const struct sc_step *st)
{
    static const enum sc_exp dma_only[] = {E_OUT, E_PAGE, E_PERM, E_FAULT, E_SOURCE, E_STALE, E_FIX,
                                           E_READS, E_PAGING_READS, E_DIRTY};
    for (size_t i = 0; st->kind != SK_DMA && i < NT(dma_only); i++)
        if (st->expect.given[dma_only[i]])
            return fail_at(L, n, "expectation '%s' applies to dma steps only", expect_key(dma_only[i]));
    if (st->kind != SK_UNBIND && st->kind != SK_CACHE_INVALIDATE && st->expect.given[E_IOMMU_ERRNO])
        return fail_at(L, n, "expectation 'iommu_errno' applies to unbind and cache_invalidate steps only");
    if (st->kind != SK_HWPT_INVALIDATE && st->expect.given[E_ENTRY_NUM])
        return fail_at(L, n, "expectation 'entry_num' applies to hwpt_invalidate steps only");
    if (st->kind != SK_QI && st->expect.nremoved)
        return fail_at(L, n, "expectation 'removed' applies to qi steps only");
    if (st->kind != SK_REG_READ && st->kind < SK_GET_INFO && st->expect.given[E_VALUE])
        return fail_at(L, n, "expectation 'value' applies to reg_read and uAPI steps only");
    return true;
}

static bool load_step(struct ld *L, yaml_node_t *item, struct sc_step *st)
{
    if (item->type != YAML_MAPPING_NODE || item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
        return fail_at(L, item, "a step is a mapping with one key, the step kind (e.g. 'dma: {...}')");
    yaml_node_pair_t *p = item->data.mapping.pairs.start;
    yaml_node_t *k = node_at(L, p->key), *body = node_at(L, p->value);
    const struct step_kind *sk = k->type == YAML_SCALAR_NODE ? step_kind_find(scalar(k)) : NULL;
    if (!sk)
        return fail_at(L, k, "unknown step kind '%s'", k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
    if (++L->steps_total > SC_MAX_STEPS)
        return fail_at(L, item, "too many steps (at most %u)", SC_MAX_STEPS);
    st->kind = sk->kind;
    st->line = (unsigned)k->start_mark.line + 1;
    st->col = (unsigned)k->start_mark.column + 1;
    struct vals v;
    char what[64];
    snprintf(what, sizeof what, "'%s'", sk->name);
    if (!parse_mapping(L, body, what, sk->fields, sk->nfields, &v) || !check_step(L, body, sk->kind, &v))
        return false;
    memcpy(st->given, v.given, sizeof st->given);
    memcpy(st->v, v.v, sizeof st->v);
    if (v.given[S_RAW] && !load_raw(L, v.node[S_RAW], st))
        return false;
    if (v.given[S_ENTRIES] && !load_hwpt_entries(L, v.node[S_ENTRIES], st))
        return false;
    if (v.given[S_EXPECT]) {
        st->has_expect = true;
        if (!load_expect(L, v.node[S_EXPECT], &st->expect) || !check_expect_applies(L, v.node[S_EXPECT], st))
            return false;
    }
    if (!v.given[S_STEPS])
        return true;
    /* Nested repeats multiply: bound the iterations of the innermost steps as one repeat is. */
    uint64_t outer = L->repeat_mult;
    if (outer * v.v[A_COUNT] > SC_MAX_REPEAT)
        return fail_at(L, v.node[A_COUNT], "nested repeats run their steps more than %u times", SC_MAX_REPEAT);
    L->repeat_mult = outer * v.v[A_COUNT];
    bool ok = load_steps(L, v.node[S_STEPS], &st->sub, &st->nsub);
    L->repeat_mult = outer;
    return ok;
}

static bool load_steps(struct ld *L, yaml_node_t *seq, struct sc_step **out, unsigned *nout)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_STEPS)
        return fail_at(L, seq, "too many steps (%zu; at most %u)", n, SC_MAX_STEPS);
    if (!(*out = vtd_calloc(n ? n : 1, sizeof **out)))
        return fail_at(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        (*nout)++; /* counted first: a half-loaded step is freed with the others */
        if (!load_step(L, node_at(L, *i), &(*out)[*nout - 1]))
            return false;
    }
    return true;
}

/* ---- the document ------------------------------------------------------------------------- */

enum { K_DID, K_LEVELS, K_POOL, K_POOL_SIZE };
static const struct field container_fields[] = {
    {"did", T_U64, K_DID, false, 1, 0xFFFF, NULL},
    {"ss_levels", T_U64, K_LEVELS, false, 3, 5, NULL},
    {"pool", T_U64, K_POOL, false, 0, 0, NULL},
    {"pool_size", T_SIZE, K_POOL_SIZE, false, 0x1000, UINT64_C(1) << 40, NULL},
};

/* The VFIO container (sim/container.h): it owns the root table, the host domain and its pool. */
static bool load_container(struct ld *L, yaml_node_t *n)
{
    struct vals v;
    struct sc_container *c = &L->s->container;
    if (!parse_mapping(L, n, "container", container_fields, NT(container_fields), &v))
        return false;
    *c = (struct sc_container){.did = v.v[K_DID], .ss_levels = v.v[K_LEVELS], .pool = v.v[K_POOL],
                               .pool_size = v.v[K_POOL_SIZE], .given_did = v.given[K_DID],
                               .given_levels = v.given[K_LEVELS], .given_pool = v.given[K_POOL],
                               .given_pool_size = v.given[K_POOL_SIZE]};
    L->s->has_container = true;
    L->s->container_line = (unsigned)n->start_mark.line + 1;
    return true;
}

enum { R_NAME, R_DESCRIPTION, R_IOMMU, R_DEVICES, R_TABLES, R_STEPS, R_CONTAINER };
static const struct field root_fields[] = {
    {"name", T_STR, R_NAME, true, 0, 0, NULL},
    {"description", T_STR, R_DESCRIPTION, false, 0, 0, NULL},
    {"iommu", T_MAP, R_IOMMU, false, 0, 0, NULL},
    {"devices", T_SEQ, R_DEVICES, false, 0, 0, NULL},
    {"tables", T_SEQ, R_TABLES, false, 0, 0, NULL},
    {"steps", T_SEQ, R_STEPS, true, 0, 0, NULL},
    {"container", T_MAP, R_CONTAINER, false, 0, 0, NULL},
};

/* Depth and size of the node graph; aliases may make it a DAG or even a cycle, so both are bounded. */
static bool check_shape(struct ld *L, yaml_node_t *n, unsigned depth, unsigned *visited)
{
    if (depth > SC_MAX_DEPTH)
        return fail_at(L, n, "nesting deeper than %u levels", SC_MAX_DEPTH);
    if (++*visited > SC_MAX_NODES)
        return fail_at(L, n, "document too large (more than %u nodes, aliases included)", SC_MAX_NODES);
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
            if (!check_shape(L, node_at(L, *i), depth + 1, visited))
                return false;
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (!check_shape(L, node_at(L, p->key), depth + 1, visited) ||
                !check_shape(L, node_at(L, p->value), depth + 1, visited))
                return false;
    }
    return true;
}

static bool load_document(struct ld *L, yaml_node_t *root)
{
    struct vals v;
    unsigned visited = 0;
    if (!check_shape(L, root, 0, &visited) || !parse_mapping(L, root, "the scenario", root_fields, NT(root_fields), &v))
        return false;
    struct scenario *s = L->s;
    if (!(s->name = dup_str(v.s[R_NAME])) || (v.given[R_DESCRIPTION] && !(s->description = dup_str(v.s[R_DESCRIPTION]))))
        return fail_at(L, root, "out of memory");
    /* Sections in dependency order: steps and tables name devices and tables. */
    if (v.given[R_IOMMU] && !load_iommu(L, v.node[R_IOMMU]))
        return false;
    if (v.given[R_CONTAINER] && !load_container(L, v.node[R_CONTAINER]))
        return false;
    if (v.given[R_DEVICES] && !load_devices(L, v.node[R_DEVICES]))
        return false;
    if (v.given[R_TABLES] && !load_tables(L, v.node[R_TABLES]))
        return false;
    return load_steps(L, v.node[R_STEPS], &s->steps, &s->nsteps);
}

static bool yaml_problem(struct ld *L, const yaml_parser_t *p)
{
    L->err->line = (unsigned)p->problem_mark.line + 1;
    L->err->col = (unsigned)p->problem_mark.column + 1;
    snprintf(L->err->msg, sizeof L->err->msg, "YAML syntax error: %s%s%s", p->problem ? p->problem : "unknown",
             p->context ? " " : "", p->context ? p->context : "");
    return false;
}

struct scenario *sc_load_string(const char *name, const char *text, size_t len, struct sc_error *err)
{
    *err = (struct sc_error){0};
    struct scenario *s = vtd_calloc(1, sizeof *s);
    if (!s || !(s->path = vtd_strdup(name))) {
        vtd_free(s);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    vtd_iommu_config_default(&s->cfg);
    struct ld L = {.s = s, .err = err, .repeat_mult = 1};
    bool ok;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (len > SC_MAX_FILE_BYTES) {
        snprintf(err->msg, sizeof err->msg, "file too large (%zu bytes; at most %u)", len, SC_MAX_FILE_BYTES);
        sc_free(s);
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        sc_free(s);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    L.doc = &doc;
    if (!yaml_parser_load(&parser, &doc)) {
        ok = yaml_problem(&L, &parser);
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        ok = root ? load_document(&L, root) : fail_at(&L, NULL, "empty document");
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    if (!ok) {
        sc_free(s);
        return NULL;
    }
    return s;
}

struct scenario *sc_load_file(const char *path, struct sc_error *err)
{
    *err = (struct sc_error){0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* Read at most one byte past the limit: enough to tell that the file is too large. */
    char *buf = vtd_malloc(SC_MAX_FILE_BYTES + 1);
    size_t len = buf ? fread(buf, 1, SC_MAX_FILE_BYTES + 1, f) : 0;
    bool read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        vtd_free(buf);
        snprintf(err->msg, sizeof err->msg, buf ? "read error" : "out of memory");
        return NULL;
    }
    struct scenario *s = sc_load_string(path, buf, len, err);
    vtd_free(buf);
    return s;
}

static void free_steps(struct sc_step *st, unsigned n)
{
    for (unsigned i = 0; st && i < n; i++) {
        vtd_free(st[i].expect.fix);
        vtd_free(st[i].expect.warning);
        vtd_free(st[i].expect.mem);
        vtd_free(st[i].expect.stats);
        vtd_free(st[i].expect.removed);
        vtd_free(st[i].expect.frec);
        vtd_free(st[i].expect.ufault);
        vtd_free(st[i].inv);
        free_steps(st[i].sub, st[i].nsub);
    }
    vtd_free(st);
}

void sc_free(struct scenario *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->ndev; i++)
        vtd_free(s->dev[i].name);
    vtd_free(s->dev);
    for (unsigned i = 0; i < s->ntab; i++) {
        vtd_free(s->tab[i].name);
        vtd_free(s->tab[i].map);
    }
    vtd_free(s->tab);
    free_steps(s->steps, s->nsteps);
    vtd_free(s->path);
    vtd_free(s->name);
    vtd_free(s->description);
    vtd_free(s);
}

void sc_error_format(const char *path, const struct sc_error *err, char *buf, size_t len)
{
    if (err->line)
        snprintf(buf, len, "%s:%u:%u: %s", path, err->line, err->col, err->msg);
    else
        snprintf(buf, len, "%s: %s", path, err->msg);
}
