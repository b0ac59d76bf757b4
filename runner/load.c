/*
 * load.c: the scenario loader's entry points and the document's top level (name, iommu,
 * devices, tables, container). libyaml's document API (yaml_parser_load) gives a node tree with
 * positions; every mapping is then read against a table of {key, type, id, required, range}
 * (load_fields.c), so that an unknown key, a wrong type or an out-of-range value is always
 * reported as file:line:column: reason. An error skips the key, entry or step at fault and the
 * load reads on, so that one pass reports every error of a file (up to a limit); a device or
 * table whose definition failed is remembered, and the steps naming it say nothing more. Steps
 * and their expectations are read by load_steps.c and load_expect.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/load_internal.h"
#include "walker/alloc.h"
#include "walker/builder.h"
#include "walker/hostfile.h"
#include "walker/root_entry.h"

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

/* The widths SAGAW can name (VT-d 11.4.2, CAP_REG.SAGAW). */
static const struct name_val sagaw_widths[] = {{"39", VTD_SAGAW_39}, {"48", VTD_SAGAW_48}, {"57", VTD_SAGAW_57}, {NULL, 0}};
static const struct field caps_fields[] = {
    {"haw", T_U64, C_HAW, false, 12, 52, NULL},
    {"mgaw", T_U64, C_MGAW, false, 1, 64, NULL},
    {"sagaw", T_U64SEQ, C_SAGAW, false, 0, 0, sagaw_widths},
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
static const struct ld_nest caps_nest = NEST_LEAF("caps", "caps", caps_fields);

static bool parse_sagaw(struct ld *L, yaml_node_t *seq, uint64_t *bits)
{
    *bits = 0;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        yaml_node_t *n = ld_node(L, *i);
        uint64_t b;
        if (n->type != YAML_SCALAR_NODE || !ld_lookup_name(sagaw_widths, ld_scalar(n), &b))
            return ld_fail(L, n, "'sagaw' entries must be 39, 48 or 57");
        *bits |= b;
    }
    return true;
}

static bool load_caps(struct ld *L, yaml_node_t *n, struct vtd_caps *caps)
{
    struct vals v;
    bool ok = ld_nested(L, n, &caps_nest, &v);
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
    return ok;
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
/* Read under each cache's own name (load_geometry's `what`). */
static const struct ld_nest geometry_nest = NEST_LEAF("cache_geometry", "a cache", geometry_fields);

/* entries alone: fully associative; entries and ways: entries/ways sets; sets and ways: as given. */
static bool load_geometry(struct ld *L, yaml_node_t *n, const char *what, struct vtd_cache_geometry *g)
{
    struct vals v;
    if (!ld_mapping(L, n, what, geometry_nest.fields, geometry_nest.nfields, &v))
        return false;
    if (v.given[G_ENTRIES] && v.given[G_SETS] && v.given[G_WAYS])
        return ld_fail(L, n, "%s: give entries, or sets and ways, or entries and ways, not all three", what);
    if (v.given[G_ENTRIES]) {
        uint64_t ways = v.given[G_WAYS] ? v.v[G_WAYS] : (v.v[G_ENTRIES] ? v.v[G_ENTRIES] : 1);
        if (v.v[G_ENTRIES] % ways)
            return ld_fail(L, v.node[G_WAYS], "%s: %llu entries is not a multiple of %llu ways", what,
                           (unsigned long long)v.v[G_ENTRIES], (unsigned long long)ways);
        g->ways = (unsigned)ways;
        g->sets = (unsigned)(v.v[G_ENTRIES] / ways);
    } else if (v.given[G_SETS] || v.given[G_WAYS]) {
        if (!v.given[G_SETS] || !v.given[G_WAYS])
            return ld_fail(L, n, "%s: sets and ways go together", what);
        if (v.v[G_SETS] * v.v[G_WAYS] > (1u << 24))
            return ld_fail(L, n, "%s: more than 16M entries", what);
        g->sets = (unsigned)v.v[G_SETS];
        g->ways = (unsigned)v.v[G_WAYS];
    }
    if (v.given[G_REPL])
        g->repl = (enum vtd_repl)v.v[G_REPL];
    if (v.given[G_SEED])
        g->seed = v.v[G_SEED];
    return true;
}

enum { I_CAPS, I_ORACLE, I_ORDERING, I_POLICY, I_MODE, I_CACHE0 };
static const struct name_val policy_names[] = {{"spec", SC_POLICY_SPEC}, {"linux-5.10", SC_POLICY_LINUX_5_10}, {NULL, 0}};
/* The translation table mode RTADDR_REG selects (TTM 01b scalable, 00b legacy). */
static const struct name_val mode_names[] = {{"scalable", 0}, {"legacy", 1}, {NULL, 0}};
/* Cache keys in enum vtd_cache_id order (also the names expectations use). */
static const char *const cache_keys[VTD_C_NKINDS] = {"context_cache", "pasid_cache", "iotlb", "psc_fs", "psc_ss",
                                                          "devtlb"};
static const struct field iommu_fields[] = {
    {"caps", T_MAP, I_CAPS, false, 0, 0, NULL},
    {"oracle", T_BOOL, I_ORACLE, false, 0, 0, NULL},
    {"ordering_checks", T_BOOL, I_ORDERING, false, 0, 0, NULL},
    {"invalidation_policy", T_ENUM, I_POLICY, false, 0, 0, policy_names},
    {"mode", T_ENUM, I_MODE, false, 0, 0, mode_names},
    {"context_cache", T_MAP, I_CACHE0 + VTD_C_CONTEXT, false, 0, 0, NULL},
    {"pasid_cache", T_MAP, I_CACHE0 + VTD_C_PASID, false, 0, 0, NULL},
    {"iotlb", T_MAP, I_CACHE0 + VTD_C_IOTLB, false, 0, 0, NULL},
    {"psc_fs", T_MAP, I_CACHE0 + VTD_C_PSC_FS, false, 0, 0, NULL},
    {"psc_ss", T_MAP, I_CACHE0 + VTD_C_PSC_SS, false, 0, 0, NULL},
};
static const struct ld_link iommu_links[] = {
    {"caps", &caps_nest}, {"context_cache", &geometry_nest}, {"pasid_cache", &geometry_nest},
    {"iotlb", &geometry_nest}, {"psc_fs", &geometry_nest}, {"psc_ss", &geometry_nest},
};
static const struct ld_nest iommu_nest = NEST_KEYS("iommu", "iommu", iommu_fields, iommu_links);

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
    /* The caps and each cache are read even after an error elsewhere: their errors are their own. */
    bool ok = ld_nested(L, n, &iommu_nest, &v);
    if (v.given[I_CAPS] && !load_caps(L, v.node[I_CAPS], &s->cfg.caps))
        ok = false;
    if (v.given[I_ORACLE])
        s->cfg.oracle = v.v[I_ORACLE];
    if (v.given[I_ORDERING])
        s->cfg.ordering_checks = v.v[I_ORDERING];
    if (v.given[I_POLICY])
        s->policy = (enum sc_policy)v.v[I_POLICY];
    s->legacy = v.given[I_MODE] && v.v[I_MODE];
    for (unsigned c = 0; c < VTD_C_NCACHES; c++) {
        if (!v.given[I_CACHE0 + c])
            continue;
        if (!load_geometry(L, v.node[I_CACHE0 + c], cache_keys[c], &s->cfg.cache[c])) {
            ok = false;
            continue;
        }
        /* For the host-memory budget's message (runner/budget.c). */
        s->cache_line[c] = (unsigned)v.node[I_CACHE0 + c]->start_mark.line + 1;
        s->cache_col[c] = (unsigned)v.node[I_CACHE0 + c]->start_mark.column + 1;
    }
    const char *why = NULL;
    if (!ok)
        return false; /* the capabilities may be half set: their consistency means nothing yet */
    if (!vtd_caps_valid(&s->cfg.caps, &why))
        return ld_fail(L, n, "inconsistent capabilities: %s", why ? why : "?");
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
static const struct ld_link device_links[] = {{"devtlb", &geometry_nest}};
static const struct ld_nest device_nest = NEST_KEYS("device", "a device", device_fields, device_links);

/* A device's name and bdf are its own: no other device of the scenario has either. */
static bool device_is_new(struct ld *L, const struct vals *v)
{
    if (ld_device_index(L->s, v->s[D_NAME]) >= 0)
        return ld_fail(L, v->node[D_NAME], "duplicate device name '%s'", v->s[D_NAME]);
    for (unsigned i = 0; i < L->s->ndev; i++)
        if (L->s->dev[i].cfg.sid == v->v[D_BDF])
            return ld_fail(L, v->node[D_BDF], "bdf %s already belongs to device '%s'", ld_scalar(v->node[D_BDF]),
                           L->s->dev[i].name);
    return true;
}

static bool load_device(struct ld *L, yaml_node_t *n, struct sc_device *d)
{
    struct vals v;
    if (!ld_nested(L, n, &device_nest, &v) || !device_is_new(L, &v)) {
        if (v.given[D_DEVTLB])
            load_geometry(L, v.node[D_DEVTLB], "devtlb", &d->cfg.devtlb); /* for its own errors */
        ld_failed_device(L, v.s[D_NAME]);
        return false;
    }
    d->line = (unsigned)n->start_mark.line + 1;
    d->col = (unsigned)n->start_mark.column + 1;
    d->cfg = (struct vtd_device_config){.sid = (uint16_t)v.v[D_BDF], .ats = v.v[D_ATS], .pri = v.v[D_PRI],
                                        .pasid_bits = v.given[D_PASID_BITS] ? (unsigned)v.v[D_PASID_BITS] : 20,
                                        .devtlb = {.sets = 1, .ways = 64, .repl = VTD_REPL_LRU}};
    if (v.given[D_DEVTLB] && !load_geometry(L, v.node[D_DEVTLB], "devtlb", &d->cfg.devtlb)) {
        ld_failed_device(L, v.s[D_NAME]);
        return false;
    }
    d->name = ld_strdup(v.s[D_NAME]);
    return d->name != NULL || ld_fatal(L, n, "out of memory");
}

static bool load_devices(struct ld *L, yaml_node_t *seq)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_DEVICES)
        return ld_fail(L, seq, "too many devices (%zu; at most %u)", n, SC_MAX_DEVICES);
    if (!(L->s->dev = vtd_calloc(n ? n : 1, sizeof *L->s->dev)))
        return ld_fatal(L, seq, "out of memory");
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        if (load_device(L, ld_node(L, *i), &L->s->dev[L->s->ndev]))
            L->s->ndev++;
        else
            ok = false; /* its slot is reused by the next device */
    }
    return ok;
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
static const struct ld_nest mapping_nest = NEST_LEAF("mapping", "a mapping entry", mapping_fields);
static const struct ld_link table_links[] = {{"mappings", &mapping_nest}};
static const struct ld_nest table_nest = NEST_KEYS("table", "a table", table_fields, table_links);

static bool load_mappings(struct ld *L, yaml_node_t *seq, struct sc_table *t)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_STEPS)
        return ld_fail(L, seq, "too many mappings (%zu)", n);
    if (!(t->map = vtd_calloc(n ? n : 1, sizeof *t->map)))
        return ld_fatal(L, seq, "out of memory");
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        struct vals v;
        yaml_node_t *m = ld_node(L, *i);
        if (!ld_nested(L, m, &mapping_nest, &v)) {
            ok = false;
            continue;
        }
        t->map[t->nmap++] = (struct sc_mapping){
            .va = v.v[M_VA], .pa = v.v[M_PA], .size = v.v[M_SIZE], .page_shift = (unsigned)v.v[M_PAGE],
            .perm = (unsigned)v.v[M_PERM], .flags = (v.v[M_AD] ? VTD_MAP_AD : 0) | (v.v[M_SNP] ? VTD_MAP_SNP : 0),
            .line = (unsigned)m->start_mark.line + 1, .col = (unsigned)m->start_mark.column + 1};
    }
    return ok;
}

/* The checks of a table's keys together (its mapping read without error). */
static bool check_table(struct ld *L, yaml_node_t *n, const struct vals *v, struct sc_table *t)
{
    if (ld_table_index(L->s, v->s[P_NAME]) >= 0)
        return ld_fail(L, v->node[P_NAME], "duplicate table name '%s'", v->s[P_NAME]);
    t->first_stage = v->v[P_FORMAT] == 1;
    t->levels = v->given[P_LEVELS] ? (unsigned)v->v[P_LEVELS] : 4;
    if (t->first_stage && t->levels == 3)
        return ld_fail(L, v->node[P_LEVELS], "a first-stage table has 4 or 5 levels");
    if (v->given[P_BACKING] && !t->first_stage)
        return ld_fail(L, v->node[P_BACKING], "only a first-stage table lives behind a second-stage one");
    t->backing = v->given[P_BACKING] ? (int)(int64_t)v->v[P_BACKING] : SC_BACKING_NONE;
    t->pool = v->given[P_POOL] ? v->v[P_POOL] : 0x100000;
    t->pool_size = v->given[P_POOL_SIZE] ? v->v[P_POOL_SIZE] : 0x1000000;
    if ((t->pool | t->pool_size) & 0xfff)
        return ld_fail(L, v->node[P_POOL] ? v->node[P_POOL] : n, "pool and pool_size must be 4 KiB aligned");
    return true;
}

/* A failed table keeps no name (nothing finds it) and is remembered as failed; its mappings
 * are read all the same, for their own errors. */
static bool load_table(struct ld *L, yaml_node_t *n, struct sc_table *t)
{
    struct vals v;
    bool ok = ld_nested(L, n, &table_nest, &v) && check_table(L, n, &v, t);
    t->line = (unsigned)n->start_mark.line + 1;
    t->col = (unsigned)n->start_mark.column + 1;
    if (v.given[P_MAPPINGS] && !L->stop && !load_mappings(L, v.node[P_MAPPINGS], t))
        ok = false;
    if (!ok) {
        ld_failed_table(L, v.s[P_NAME]);
        return false;
    }
    t->name = ld_strdup(v.s[P_NAME]);
    return t->name != NULL || ld_fatal(L, n, "out of memory");
}

static bool load_tables(struct ld *L, yaml_node_t *seq)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_TABLES)
        return ld_fail(L, seq, "too many tables (%zu; at most %u)", n, SC_MAX_TABLES);
    if (!(L->s->tab = vtd_calloc(n ? n : 1, sizeof *L->s->tab)))
        return ld_fatal(L, seq, "out of memory");
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        /* Counted before loading so that a failed table's allocations are freed too. */
        L->s->ntab++;
        L->s->tab[L->s->ntab - 1].backing = -1;
        if (!load_table(L, ld_node(L, *i), &L->s->tab[L->s->ntab - 1]))
            ok = false;
    }
    return ok;
}

/* ---- the document ------------------------------------------------------------------------- */

enum { K_DID, K_LEVELS, K_POOL, K_POOL_SIZE, K_IOMMUFD, K_DIRTY_SOURCE, K_DIRTY_FLUSH };
/* host/container.h: enum vtd_dirty_source, enum vtd_dirty_flush. */
static const struct name_val dirty_source_names[] = {{"pinned", 0}, {"ssade", 1}, {NULL, 0}};
static const struct name_val dirty_flush_names[] = {{"all", 0}, {"none", 1}, {"iotlb", 2}, {NULL, 0}};
static const struct name_val iommufd_kernel_names[] = {{"6.10", SC_IOMMUFD_6_10}, {"6.8", SC_IOMMUFD_6_8}, {NULL, 0}};
static const struct field container_fields[] = {
    {"did", T_U64, K_DID, false, 1, 0xFFFF, NULL},
    {"ss_levels", T_U64, K_LEVELS, false, 3, 5, NULL},
    {"pool", T_U64, K_POOL, false, 0, 0, NULL},
    {"pool_size", T_SIZE, K_POOL_SIZE, false, 0x1000, UINT64_C(1) << 40, NULL},
    {"iommufd_kernel", T_ENUM, K_IOMMUFD, false, 0, 0, iommufd_kernel_names},
    {"dirty_source", T_ENUM, K_DIRTY_SOURCE, false, 0, 0, dirty_source_names},
    {"dirty_flush", T_ENUM, K_DIRTY_FLUSH, false, 0, 0, dirty_flush_names},
};
static const struct ld_nest container_nest = NEST_LEAF("container", "container", container_fields);

/* The VFIO container (host/container.h): it owns the root table, the host domain and its pool. */
static bool load_container(struct ld *L, yaml_node_t *n)
{
    struct vals v;
    struct sc_container *c = &L->s->container;
    /* Even with an error in it, the container exists: the steps using it say nothing more. */
    L->s->has_container = true;
    if (!ld_nested(L, n, &container_nest, &v))
        return false;
    /* The VFIO/iommufd front ends program a scalable-mode root table of their own. */
    if (L->s->legacy)
        return ld_fail(L, n, "a container needs the scalable mode (iommu mode is legacy)");
    *c = (struct sc_container){.did = v.v[K_DID], .ss_levels = v.v[K_LEVELS], .pool = v.v[K_POOL],
                               .pool_size = v.v[K_POOL_SIZE], .given_did = v.given[K_DID],
                               .given_levels = v.given[K_LEVELS], .given_pool = v.given[K_POOL],
                               .given_pool_size = v.given[K_POOL_SIZE],
                               .iommufd_kernel = v.given[K_IOMMUFD] ? (enum sc_iommufd_kernel)v.v[K_IOMMUFD]
                                                                    : SC_IOMMUFD_6_10};
    c->dirty_source = v.given[K_DIRTY_SOURCE] ? (unsigned)v.v[K_DIRTY_SOURCE] : 0;
    c->dirty_flush = v.given[K_DIRTY_FLUSH] ? (unsigned)v.v[K_DIRTY_FLUSH] : 0;
    L->s->has_container = true;
    L->s->container_line = (unsigned)n->start_mark.line + 1;
    return true;
}

/* ---- memory and rtaddr: a real guest's tables ------------------------------------------ */

enum { Y_IMAGE, Y_FORMAT, Y_BASE };
static const struct name_val image_format_names[] = {{"raw", VTD_IMAGE_RAW}, {"elf", VTD_IMAGE_ELF}, {NULL, 0}};
static const struct field memory_fields[] = {
    {"image", T_STR, Y_IMAGE, true, 0, 0, NULL},
    {"format", T_ENUM, Y_FORMAT, false, 0, 0, image_format_names},
    {"base", T_U64, Y_BASE, false, 0, 0, NULL},
};
static const struct ld_nest memory_nest = NEST_LEAF("memory", "memory", memory_fields);

/* The image's path as the run opens it: a relative one is relative to the scenario's folder. */
static char *image_path(const char *scenario, const char *image)
{
    const char *slash = strrchr(scenario, '/');
    size_t dir = image[0] == '/' || !slash ? 0 : (size_t)(slash - scenario) + 1;
    char *p = vtd_malloc(dir + strlen(image) + 1);
    if (p) {
        memcpy(p, scenario, dir);
        strcpy(p + dir, image);
    }
    return p;
}

/* The file is opened when the run starts (its errors then point here): loading reads no image. */
static bool load_memory(struct ld *L, yaml_node_t *n)
{
    struct vals v;
    struct sc_memory *m = &L->s->memory;
    if (!ld_nested(L, n, &memory_nest, &v))
        return false;
    if (!(m->image = image_path(L->s->path, v.s[Y_IMAGE])))
        return ld_fail(L, n, "out of memory");
    m->format = v.given[Y_FORMAT] ? (enum vtd_image_format)v.v[Y_FORMAT] : VTD_IMAGE_RAW;
    m->base = v.v[Y_BASE];
    if (m->base & 0xfff)
        return ld_fail(L, v.node[Y_BASE], "'base' must be 4 KiB aligned");
    m->line = (unsigned)n->start_mark.line + 1;
    m->col = (unsigned)n->start_mark.column + 1;
    L->s->has_memory = true;
    return true;
}

/*
 * rtaddr: the RTADDR_REG value, as a driver writes it (VT-d 11.4.5): the root table's address
 * with TTM in bits 11:10: 01b (0x400) for scalable mode, 00b for legacy mode, which the scenario
 * then names (`iommu: {mode: legacy}`); 10b is reserved and 11b (abort DMA) is not modelled.
 */
static bool load_rtaddr(struct ld *L, yaml_node_t *n, uint64_t v)
{
    if (v & VTD_RTADDR_RSVD)
        return ld_fail(L, n, "'rtaddr' bits 9:0 are reserved (RTADDR_REG: the address, TTM in bits 11:10)");
    uint64_t ttm = vtd_field(v, VTD_RTADDR_TTM);
    if (ttm != VTD_TTM_SCALABLE && ttm != VTD_TTM_LEGACY)
        return ld_fail(L, n, "'rtaddr' TTM (bits 11:10) is %llub; vtdsim models scalable (01b, 0x400) and legacy (00b) mode",
                       (unsigned long long)ttm);
    if ((ttm == VTD_TTM_LEGACY) != L->s->legacy)
        return ld_fail(L, n, "'rtaddr' TTM (bits 11:10) is %s but the iommu mode is %s: %s",
                       ttm == VTD_TTM_LEGACY ? "00b (legacy)" : "01b (scalable)", L->s->legacy ? "legacy" : "scalable",
                       L->s->legacy ? "clear bit 10" : "set iommu: {mode: legacy}");
    if (L->s->has_container)
        return ld_fail(L, n, "'rtaddr' and 'container' both choose the root table: give one");
    L->s->has_rtaddr = true;
    L->s->rtaddr = v;
    L->s->rtaddr_line = (unsigned)n->start_mark.line + 1;
    L->s->rtaddr_col = (unsigned)n->start_mark.column + 1;
    return true;
}

enum { R_NAME, R_DESCRIPTION, R_IOMMU, R_DEVICES, R_TABLES, R_STEPS, R_CONTAINER, R_MEMORY, R_RTADDR };
static const struct field root_fields[] = {
    {"name", T_STR, R_NAME, true, 0, 0, NULL},
    {"description", T_STR, R_DESCRIPTION, false, 0, 0, NULL},
    {"iommu", T_MAP, R_IOMMU, false, 0, 0, NULL},
    {"devices", T_SEQ, R_DEVICES, false, 0, 0, NULL},
    {"tables", T_SEQ, R_TABLES, false, 0, 0, NULL},
    {"steps", T_SEQ, R_STEPS, true, 0, 0, NULL},
    {"container", T_MAP, R_CONTAINER, false, 0, 0, NULL},
    {"memory", T_MAP, R_MEMORY, false, 0, 0, NULL},
    {"rtaddr", T_U64, R_RTADDR, false, 0, 0, NULL},
};
static const struct ld_link root_links[] = {
    {"iommu", &iommu_nest}, {"devices", &device_nest}, {"tables", &table_nest}, {"steps", &ld_steps_nest},
    {"container", &container_nest}, {"memory", &memory_nest},
};
const struct ld_nest ld_scenario_nest = NEST_KEYS("scenario", "the scenario", root_fields, root_links);

/* Depth and size of the node graph; aliases may make it a DAG or even a cycle, so both are bounded. */
static bool check_shape(struct ld *L, yaml_node_t *n, unsigned depth, unsigned *visited)
{
    if (depth > SC_MAX_DEPTH)
        return ld_fatal(L, n, "nesting deeper than %u levels", SC_MAX_DEPTH);
    if (++*visited > SC_MAX_NODES)
        return ld_fatal(L, n, "document too large (more than %u nodes, aliases included)", SC_MAX_NODES);
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
            if (!check_shape(L, ld_node(L, *i), depth + 1, visited))
                return false;
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (!check_shape(L, ld_node(L, p->key), depth + 1, visited) ||
                !check_shape(L, ld_node(L, p->value), depth + 1, visited))
                return false;
    }
    return true;
}

/* Every section is read, whatever errors an earlier one had; true when none had any. */
static bool load_document(struct ld *L, yaml_node_t *root)
{
    struct vals v;
    unsigned visited = 0;
    if (!check_shape(L, root, 0, &visited))
        return false;
    bool ok = ld_nested(L, root, &ld_scenario_nest, &v);
    struct scenario *s = L->s;
    if ((v.given[R_NAME] && !(s->name = ld_strdup(v.s[R_NAME]))) ||
        (v.given[R_DESCRIPTION] && !(s->description = ld_strdup(v.s[R_DESCRIPTION]))))
        return ld_fatal(L, root, "out of memory");
    /* Sections in dependency order: steps and tables name devices and tables. */
    if (v.given[R_IOMMU] && !L->stop && !load_iommu(L, v.node[R_IOMMU]))
        ok = false;
    if (v.given[R_CONTAINER] && !L->stop && !load_container(L, v.node[R_CONTAINER]))
        ok = false;
    if (v.given[R_MEMORY] && !L->stop && !load_memory(L, v.node[R_MEMORY]))
        ok = false;
    if (v.given[R_RTADDR] && !L->stop && !load_rtaddr(L, v.node[R_RTADDR], v.v[R_RTADDR]))
        ok = false;
    if (v.given[R_DEVICES] && !L->stop && !load_devices(L, v.node[R_DEVICES]))
        ok = false;
    if (v.given[R_TABLES] && !L->stop && !load_tables(L, v.node[R_TABLES]))
        ok = false;
    if (v.given[R_STEPS] && !L->stop && !ld_steps(L, v.node[R_STEPS], &s->steps, &s->nsteps))
        ok = false;
    s->work = L->work;
    return ok && !L->stop;
}

/* A syntax error ends the load: libyaml cannot read past it. */
static bool yaml_problem(struct ld *L, const yaml_parser_t *p)
{
    ld_fail_mark(L, &p->problem_mark, "YAML syntax error: %s%s%s", p->problem ? p->problem : "unknown",
                 p->context ? " " : "", p->context ? p->context : "");
    L->stop = true;
    return false;
}

/* The event pass's errors end the load too: they are about the shape of the whole file. */
static bool fail_at(struct ld *L, const yaml_mark_t *m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(struct ld *L, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[sizeof L->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ld_fail_mark(L, m, "%s", msg);
    L->stop = true;
    return false;
}

/* What one event means for the shape checks; false (error set) when it breaks one. */
static bool check_event(struct ld *L, const yaml_event_t *ev, unsigned *depth, unsigned *docs, unsigned *nodes)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return fail_at(L, &ev->start_mark, "a second YAML document: a scenario file holds exactly one");
        return true;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        /* The root collection is at depth 0, as in check_shape: this one is at depth *depth. */
        if (++*depth > SC_MAX_DEPTH + 1)
            return fail_at(L, &ev->start_mark, "nesting deeper than %u levels", SC_MAX_DEPTH);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: --*depth; return true;
    case YAML_SCALAR_EVENT:
        /* "\0" in a quoted scalar: the value would be cut short at the NUL everywhere it is used. */
        if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
            return fail_at(L, &ev->start_mark, "a NUL character (\\0) inside a scalar");
        break;
    case YAML_ALIAS_EVENT: break;
    default: return true;
    }
    if (++*nodes > SC_MAX_NODES)
        return fail_at(L, &ev->start_mark, "document too large (more than %u nodes, aliases included)", SC_MAX_NODES);
    return true;
}

/*
 * A first pass over libyaml's events, before any node tree exists. libyaml's scanner spends
 * time proportional to the flow nesting on every token, so loading a 4 MiB "[[[[..." as a
 * document would take hours before check_shape could refuse it; here the 17th level stops the
 * parse after a few thousand tokens. The same pass refuses a second document (yaml_parser_load
 * would silently ignore it), NULs inside scalars, and more nodes than the loader takes, so
 * that no large node tree is ever built for a file that is refused.
 */
static bool check_events(struct ld *L, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    unsigned depth = 0, docs = 0, nodes = 0;
    if (!yaml_parser_initialize(&p)) {
        snprintf(L->err->msg, sizeof L->err->msg, "out of memory");
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    bool ok = true, end = false;
    while (ok && !end) {
        if (!yaml_parser_parse(&p, &ev)) {
            ok = yaml_problem(L, &p);
            break;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        ok = check_event(L, &ev, &depth, &docs, &nodes);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return ok;
}

struct scenario *sc_load_string(const char *name, const char *text, size_t len, struct sc_error *err)
{
    return sc_load_string_max(name, text, len, 0, err);
}

struct scenario *sc_load_string_max(const char *name, const char *text, size_t len, unsigned max_errors,
                                    struct sc_error *err)
{
    if (max_errors == 0 || max_errors > SC_MAX_ERRORS)
        max_errors = max_errors ? SC_MAX_ERRORS : SC_DEFAULT_MAX_ERRORS;
    memset(err, 0, sizeof *err);
    err->limit = max_errors;
    struct scenario *s = vtd_calloc(1, sizeof *s);
    if (!s || !(s->path = vtd_strdup(name))) {
        vtd_free(s);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    vtd_iommu_config_default(&s->cfg);
    struct ld L = {.s = s, .err = err, .repeat_mult = 1, .max_errors = max_errors};
    bool ok;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (len > SC_MAX_FILE_BYTES) {
        snprintf(err->msg, sizeof err->msg, "file too large (%zu bytes; at most %u)", len, SC_MAX_FILE_BYTES);
        sc_free(s);
        return NULL;
    }
    if (!check_events(&L, text, len) || !yaml_parser_initialize(&parser)) {
        if (!err->msg[0])
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
        ok = root ? load_document(&L, root) : ld_fail(&L, NULL, "empty document");
        ok = ok && err->count == 0;
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
    return sc_load_file_max(path, 0, err);
}

/*
 * The stream's bytes, at most `cap`, in a buffer first sized for the `expect` bytes measured
 * (plus one, to notice growth) and doubled only if the file grew meanwhile: a fixed buffer of
 * the 4 MiB limit cost a 4 MiB allocation and clearing for every tiny scenario.
 */
static char *read_bounded(FILE *f, size_t expect, size_t cap, size_t *len)
{
    size_t size = expect < cap ? expect + 1 : cap;
    char *buf = vtd_malloc(size);
    *len = 0;
    while (buf) {
        *len += fread(buf + *len, 1, size - *len, f);
        if (*len < size || size == cap || ferror(f))
            return buf;
        size_t bigger = size > cap / 2 ? cap : size * 2;
        char *grown = vtd_realloc(buf, bigger);
        if (!grown)
            vtd_free(buf);
        buf = grown;
        size = bigger;
    }
    return NULL;
}

struct scenario *sc_load_file_max(const char *path, unsigned max_errors, struct sc_error *err)
{
    memset(err, 0, sizeof *err);
    uint64_t size = 0;
    /* A FIFO or device named *.yaml is refused without being opened for a blocking read. */
    FILE *f = vtd_fopen_regular(path, &size, err->msg, sizeof err->msg);
    if (!f)
        return NULL;
    if (size > SC_MAX_FILE_BYTES) {
        fclose(f);
        snprintf(err->msg, sizeof err->msg, "file too large (%llu bytes; at most %u)", (unsigned long long)size,
                 SC_MAX_FILE_BYTES);
        return NULL;
    }
    /* Read at most one byte past the limit: the file may have grown since it was measured. */
    size_t len = 0;
    char *buf = read_bounded(f, (size_t)size, SC_MAX_FILE_BYTES + 1, &len);
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    struct stat sb;
    /* Too large: say how large (the whole file's size, not the part read). */
    if (buf && !read_errno && len > SC_MAX_FILE_BYTES && !fstat(fileno(f), &sb) && S_ISREG(sb.st_mode))
        len = (size_t)sb.st_size;
    fclose(f);
    if (!buf || read_errno) {
        vtd_free(buf);
        snprintf(err->msg, sizeof err->msg, "%s", buf ? strerror(read_errno) : "out of memory");
        return NULL;
    }
    if (len > SC_MAX_FILE_BYTES) {
        vtd_free(buf);
        snprintf(err->msg, sizeof err->msg, "file too large (%zu bytes; at most %u)", len, SC_MAX_FILE_BYTES);
        return NULL;
    }
    struct scenario *s = sc_load_string_max(path, buf, len, max_errors, err);
    vtd_free(buf);
    return s;
}

static void free_steps(struct sc_step *st, unsigned n)
{
    for (unsigned i = 0; st && i < n; i++) {
        vtd_free(st[i].expect.fix);
        vtd_free(st[i].expect.warning);
        vtd_free(st[i].expect.audit_finding);
        vtd_free(st[i].expect.mem);
        vtd_free(st[i].expect.stats);
        vtd_free(st[i].expect.removed);
        vtd_free(st[i].expect.frec);
        vtd_free(st[i].expect.ufault);
        vtd_free(st[i].expect.desc); /* qi fields only: they own nothing */
        vtd_free(st[i].inv);
        vtd_free(st[i].bulk);
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
    vtd_free(s->memory.image);
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

unsigned sc_error_count(const struct sc_error *err) { return err->count ? err->count : 1; }

void sc_error_format_nth(const char *path, const struct sc_error *err, unsigned i, char *buf, size_t len)
{
    if (i == 0 || i >= err->count) {
        sc_error_format(path, err, buf, len);
        return;
    }
    const struct sc_error_at *at = &err->at[i];
    if (at->line)
        snprintf(buf, len, "%s:%u:%u: %s", path, at->line, at->col, at->msg);
    else
        snprintf(buf, len, "%s: %s", path, at->msg);
}

void sc_error_format_summary(const char *path, const struct sc_error *err, char *buf, size_t len)
{
    unsigned n = sc_error_count(err);
    if (err->more)
        snprintf(buf, len, "%s: %u error%s shown; the load stopped at the limit of %u (there are more)", path, n,
                 n == 1 ? "" : "s", err->limit);
    else
        snprintf(buf, len, "%s: %u error%s", path, n, n == 1 ? "" : "s");
}

char *sc_error_text(const char *path, const struct sc_error *err)
{
    unsigned n = sc_error_count(err);
    bool summary = n > 1 || err->more;
    size_t line_max = strlen(path) + sizeof err->msg + 64, len = 0;
    char *text = vtd_malloc(line_max * (n + 1));
    if (!text)
        return NULL;
    for (unsigned i = 0; i <= n; i++) {
        if (i == n && !summary)
            break;
        if (i)
            text[len++] = '\n';
        if (i < n)
            sc_error_format_nth(path, err, i, text + len, line_max);
        else
            sc_error_format_summary(path, err, text + len, line_max);
        len += strlen(text + len);
    }
    text[len] = 0;
    return text;
}
