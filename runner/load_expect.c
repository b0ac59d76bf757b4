/*
 * load_expect.c: the `expect:` mapping of a step (what a DMA, a queued invalidation or a uAPI
 * call must produce), with its nested memory, statistics, fault-record and user-fault lists.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include "runner/load_internal.h"
#include "sim/prq.h"
#include "walker/alloc.h"

enum { X_MEM = E_MAX, X_STATS, X_REMOVED, X_FREC, X_UFAULT, X_DESC, X_PRI };
static const struct name_val source_names[] = {
    {"walk", VTD_SRC_WALK}, {"psc", VTD_SRC_PSC}, {"iotlb", VTD_SRC_IOTLB}, {"devtlb", VTD_SRC_DEVTLB},
    {"iec", VTD_SRC_IEC}, {NULL, 0},
};
/* Destination mode, trigger mode and delivery mode of an interrupt (walker/irte.h). */
const struct name_val ld_dest_mode_names[] = {{"physical", 0}, {"logical", 1}, {NULL, 0}};
const struct name_val ld_trigger_names[] = {{"edge", 0}, {"level", 1}, {NULL, 0}};
const struct name_val ld_dlm_names[] = {
    {"fixed", 0}, {"lowest", 1}, {"smi", 2}, {"nmi", 4}, {"init", 5}, {"extint", 7}, {NULL, 0},
};
static const struct name_val prq_names[] = {
    {"queued", VTD_PRQ_QUEUED}, {"dropped", VTD_PRQ_DROPPED}, {"auto_success", VTD_PRQ_AUTO_SUCCESS}, {NULL, 0},
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
    {"descriptors", T_SEQ, X_DESC, false, 0, 0, NULL},
    {"descriptor_count", T_U64, E_DESC_COUNT, false, 0, 0, NULL},
    {"vector", T_U64, E_VECTOR, false, 0, 255, NULL},
    {"destination", T_U64, E_DEST, false, 0, 0xFFFFFFFF, NULL},
    {"dest_mode", T_ENUM, E_DEST_MODE, false, 0, 1, ld_dest_mode_names},
    {"trigger", T_ENUM, E_TRIGGER, false, 0, 1, ld_trigger_names},
    {"delivery", T_ENUM, E_DLM, false, 0, 7, ld_dlm_names},
    {"posted", T_BOOL, E_POSTED, false, 0, 0, NULL},
    {"pda", T_U64, E_PDA, false, 0, 0, NULL},
    {"remapped", T_BOOL, E_REMAPPED, false, 0, 0, NULL},
    {"prq", T_ENUM, E_PRQ, false, 0, 0, prq_names},
    {"prq_messages", T_U64, E_PRQ_MESSAGES, false, 0, 0, NULL},
    {"pri", T_MAP, X_PRI, false, 0, 0, NULL},
    {"dirty_lost", T_BOOL, E_DIRTY_LOST, false, 0, 0, NULL},
    {"accessed_lost", T_BOOL, E_ACCESSED_LOST, false, 0, 0, NULL},
    {"all_writes_reported", T_BOOL, E_ALL_WRITES_REPORTED, false, 0, 0, NULL},
    {"pages_reported", T_U64, E_PAGES_REPORTED, false, 0, 0, NULL},
    {"pages_written", T_U64, E_PAGES_WRITTEN, false, 0, 0, NULL},
    {"audit", T_U64, E_AUDIT, false, 0, 1000, NULL},
    {"audit_finding", T_STR, E_AUDIT_FINDING, false, 0, 0, NULL},
};

/* enum iommu_fault_reason of the seed's uAPI. */
static const struct name_val ureason_names[] = {
    {"unknown", 0}, {"pasid_fetch", 1}, {"bad_pasid_entry", 2}, {"pasid_invalid", 3}, {"walk_eabt", 4},
    {"pte_fetch", 5}, {"permission", 6}, {"access", 7}, {"oor_address", 8}, {NULL, 0},
};
static const struct name_val utype_names[] = {{"unrecov", 1}, {"page_req", 2}, {NULL, 0}};
static const struct field ufault_fields[] = {
    {"type", T_ENUM, UF_TYPE, false, 0, 0, utype_names},
    {"grpid", T_U64, UF_GRPID, false, 0, 0xFFFFFFFF, NULL}, /* a __u32 in struct iommu_fault_page_request */
    {"reason", T_ENUM, UF_REASON, false, 0, 255, ureason_names},
    {"pasid", T_PASID, UF_PASID, false, 0, 0, NULL},
    {"addr", T_U64, UF_ADDR, false, 0, 0, NULL},
};
static const struct ld_nest ufault_nest = NEST_LEAF("uapi_fault", "a 'uapi_faults' entry", ufault_fields);

/* uapi_faults: the whole queue, in order ([] when it must be empty). */
static bool load_ufault_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n;
    if (!(e->ufault = ld_list_alloc(L, seq, "'uapi_faults' entries", SC_MAX_LIST, sizeof *e->ufault, &n)))
        return false;
    e->has_ufault = true;
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        struct vals v;
        if (!ld_nested(L, ld_node(L, *i), &ufault_nest, &v)) {
            ok = false;
            continue;
        }
        memcpy(e->ufault[e->nufault].given, v.given, sizeof e->ufault[0].given);
        memcpy(e->ufault[e->nufault].v, v.v, sizeof e->ufault[0].v);
        e->nufault++;
    }
    return ok;
}

/* descriptors: what a uAPI step's host layer issued, in order ([] when nothing). */
static bool load_desc_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n;
    if (!(e->desc = ld_list_alloc(L, seq, "'descriptors' entries", SC_MAX_LIST, sizeof *e->desc, &n)))
        return false;
    e->has_desc = true;
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        if (!ld_qi_spec(L, ld_node(L, *i), &e->desc[e->ndesc])) {
            e->desc[e->ndesc] = (struct sc_step){0}; /* the next entry starts clean */
            ok = false;
            continue;
        }
        e->ndesc++;
    }
    return ok;
}

static const struct field frec_fields[] = {
    {"index", T_U64, FR_INDEX, false, 0, 255, NULL},
    {"reason", T_FAULT, FR_REASON, false, 0, 0, NULL},
    {"device", T_DEVICE, FR_DEVICE, false, 0, 0, NULL},
    {"pasid", T_PASID, FR_PASID, false, 0, 0, NULL},
    {"addr", T_U64, FR_ADDR, false, 0, 0, NULL},
    {"write", T_BOOL, FR_WRITE, false, 0, 0, NULL},
};
static const struct ld_nest frec_nest = NEST_LEAF("fault_record", "a 'fault_records' entry", frec_fields);

/* fault_records: [{index, reason, device, pasid, addr, write}]; index defaults to the position. */
static bool load_frec_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n;
    if (!(e->frec = ld_list_alloc(L, seq, "'fault_records' entries", SC_MAX_LIST, sizeof *e->frec, &n)))
        return false;
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        struct vals v;
        if (!ld_nested(L, ld_node(L, *i), &frec_nest, &v)) {
            ok = false;
            continue;
        }
        struct sc_frec_expect *r = &e->frec[e->nfrec];
        memcpy(r->given, v.given, sizeof r->given);
        memcpy(r->v, v.v, sizeof r->v);
        if (!r->given[FR_INDEX])
            r->v[FR_INDEX] = e->nfrec;
        if (r->given[FR_REASON] && r->v[FR_REASON] == SC_FAULT_ANY)
            r->given[FR_REASON] = false; /* a pending record always holds some reason */
        e->nfrec++;
    }
    return ok;
}

enum { MX_ADDR, MX_VALUE, MX_BYTES };
static const struct field mem_fields[] = {
    {"addr", T_U64, MX_ADDR, true, 0, 0, NULL},
    {"value", T_U64, MX_VALUE, true, 0, 0, NULL},
    {"bytes", T_U64, MX_BYTES, false, 1, 8, NULL},
};
static const struct ld_nest mem_nest = NEST_LEAF("mem_expect", "a 'mem' entry", mem_fields);

static bool load_mem_expect(struct ld *L, yaml_node_t *seq, struct sc_expect *e)
{
    size_t n;
    if (!(e->mem = ld_list_alloc(L, seq, "'mem' entries", SC_MAX_LIST, sizeof *e->mem, &n)))
        return false;
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        struct vals v;
        if (!ld_nested(L, ld_node(L, *i), &mem_nest, &v)) {
            ok = false;
            continue;
        }
        unsigned bytes = v.given[MX_BYTES] ? (unsigned)v.v[MX_BYTES] : 8;
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
            ok = ld_fail(L, v.node[MX_BYTES], "'bytes' must be 1, 2, 4 or 8");
            continue;
        }
        e->mem[e->nmem++] = (struct sc_mem_expect){.addr = v.v[MX_ADDR], .value = v.v[MX_VALUE], .bytes = bytes};
    }
    return ok;
}

/* Counters: per cache (struct vtd_cache_stats order), then global (struct vtd_iommu_stats). */
static const char *const counter_names[] = {
    "lookups", "hits", "misses", "fills", "evictions", "invalidated", "over_invalidated", "stale_hits",
    "requests", "faults", "stale", "walks", "walk_reads", "warnings", "dirty_lost", "accessed_lost",
};
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
        if (!strcmp(sc_cache_key_name(i), name))
            return i;
    return -1;
}

static bool add_counter(struct ld *L, yaml_node_t *at, struct sc_expect *e, int cache, int dev, unsigned counter,
                        yaml_node_t *val)
{
    uint64_t v;
    if (val->type != YAML_SCALAR_NODE || !ld_parse_u64(ld_scalar(val), &v))
        return ld_fail(L, val, "'%s' must be a number", counter_names[counter]);
    if (e->nstats >= SC_MAX_LIST)
        return ld_fail(L, at, "too many statistics expectations (at most %u)", SC_MAX_LIST);
    e->stats[e->nstats++] = (struct sc_counter_expect){.cache = cache, .device = dev, .counter = counter, .value = v};
    return true;
}

static bool load_cache_counters(struct ld *L, yaml_node_t *map, struct sc_expect *e, int cache, int dev)
{
    if (map->type != YAML_MAPPING_NODE)
        return ld_fail(L, map, "statistics of '%s' must be a mapping of counters", sc_cache_key_name(cache));
    bool ok = true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !L->stop; p++) {
        yaml_node_t *k = ld_node(L, p->key);
        int c = k->type == YAML_SCALAR_NODE ? counter_index(ld_scalar(k), 0, SC_CACHE_COUNTERS) : -1;
        if (c < 0)
            ok = ld_fail(L, k, "unknown cache counter '%s'", k->type == YAML_SCALAR_NODE ? ld_scalar(k) : "?");
        else if (!add_counter(L, k, e, cache, dev, (unsigned)c, ld_node(L, p->value)))
            ok = false;
    }
    return ok;
}

/* devtlb: {device-name: {counter: n}} */
static bool load_devtlb_counters(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (map->type != YAML_MAPPING_NODE)
        return ld_fail(L, map, "'devtlb' statistics must map device names to counters");
    bool ok = true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !L->stop; p++) {
        yaml_node_t *k = ld_node(L, p->key);
        int d = k->type == YAML_SCALAR_NODE ? ld_device_index(L->s, ld_scalar(k)) : -1;
        if (d < 0)
            ok = ld_unknown_device(L, k, k->type == YAML_SCALAR_NODE ? ld_scalar(k) : "?");
        else if (!load_cache_counters(L, ld_node(L, p->value), e, VTD_C_DEVTLB, d))
            ok = false;
    }
    return ok;
}

static bool load_stats_expect(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (!(e->stats = vtd_calloc(SC_MAX_LIST, sizeof *e->stats)))
        return ld_fatal(L, map, "out of memory");
    bool all_ok = true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !L->stop; p++) {
        yaml_node_t *k = ld_node(L, p->key), *v = ld_node(L, p->value);
        const char *name = k->type == YAML_SCALAR_NODE ? ld_scalar(k) : "?";
        int cache = cache_index(name), global = counter_index(name, SC_CACHE_COUNTERS, SC_COUNTERS);
        bool ok = cache == VTD_C_DEVTLB ? load_devtlb_counters(L, v, e)
                  : cache >= 0          ? load_cache_counters(L, v, e, cache, -1)
                  : global >= 0         ? add_counter(L, k, e, -1, -1, (unsigned)global, v)
                                        : ld_fail(L, k, "unknown statistic '%s'", name);
        all_ok = all_ok && ok;
    }
    return all_ok;
}

/* One "cache: count" of removed. */
static bool load_removed_entry(struct ld *L, yaml_node_t *k, yaml_node_t *v, struct sc_expect *e)
{
    int cache = k->type == YAML_SCALAR_NODE ? cache_index(ld_scalar(k)) : -1;
    uint64_t n;
    if (cache < 0)
        return ld_fail(L, k, "unknown cache '%s'", k->type == YAML_SCALAR_NODE ? ld_scalar(k) : "?");
    if (v->type != YAML_SCALAR_NODE || !ld_parse_u64(ld_scalar(v), &n))
        return ld_fail(L, v, "'%s' must be a number", ld_scalar(k));
    for (unsigned i = 0; i < e->nremoved; i++)
        if (e->removed[i].cache == cache)
            return ld_fail(L, k, "duplicate key '%s' in removed", ld_scalar(k));
    e->removed[e->nremoved++] = (struct sc_counter_expect){.cache = cache, .value = n};
    return true;
}

static bool load_removed_expect(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    if (!(e->removed = vtd_calloc(VTD_C_NKINDS, sizeof *e->removed)))
        return ld_fatal(L, map, "out of memory");
    bool ok = true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !L->stop; p++)
        if (!load_removed_entry(L, ld_node(L, p->key), ld_node(L, p->value), e))
            ok = false;
    return ok;
}

static const struct field pri_fields[] = {
    {"open", T_U64, PRI_OPEN, false, 0, 512, NULL}, {"outstanding", T_U64, PRI_OUTSTANDING, false, 0, 512, NULL},
    {"rf", T_BOOL, PRI_RF, false, 0, 0, NULL}, {"uprgi", T_BOOL, PRI_UPRGI, false, 0, 0, NULL},
    {"success", T_U64, PRI_SUCCESS, false, 0, 0, NULL}, {"invalid", T_U64, PRI_INVALID, false, 0, 0, NULL},
    {"failure", T_U64, PRI_FAILURE, false, 0, 0, NULL}, {"unexpected", T_U64, PRI_UNEXPECTED, false, 0, 0, NULL},
};
static const struct ld_nest pri_nest = NEST_LEAF("pri_expect", "'pri'", pri_fields);

/* pri: {open, outstanding, rf, uprgi, success, invalid, failure, unexpected}, the fields given. */
static bool load_pri_expect(struct ld *L, yaml_node_t *map, struct sc_expect *e)
{
    struct vals v;
    if (!ld_nested(L, map, &pri_nest, &v))
        return false;
    e->has_pri = true;
    memcpy(e->pri.given, v.given, sizeof e->pri.given);
    memcpy(e->pri.v, v.v, sizeof e->pri.v);
    return true;
}

/* stats and removed are read by the functions above; their keys are the cache and counter names. */
static const struct ld_nest stats_nest = {"stats", "stats", LD_STATS, NULL, 0, NULL, 0, NULL, 0};
static const struct ld_nest removed_nest = {"removed", "removed", LD_REMOVED, NULL, 0, NULL, 0, NULL, 0};
static const struct ld_link expect_links[] = {
    {"mem", &mem_nest}, {"stats", &stats_nest}, {"removed", &removed_nest}, {"fault_records", &frec_nest},
    {"uapi_faults", &ufault_nest}, {"descriptors", &ld_qi_spec_nest}, {"pri", &pri_nest},
};
const struct ld_nest ld_expect_nest = NEST_KEYS("expect", "expect", expect_fields, expect_links);

bool ld_expect(struct ld *L, yaml_node_t *n, struct sc_expect *e)
{
    struct vals v;
    /* Each list is read even after an error in another key (its errors are its own). */
    bool ok = ld_nested(L, n, &ld_expect_nest, &v);
    memcpy(e->given, v.given, sizeof e->given);
    memcpy(e->v, v.v, sizeof e->v);
    e->line = (unsigned)n->start_mark.line + 1;
    e->col = (unsigned)n->start_mark.column + 1;
    if ((v.given[E_FIX] && !(e->fix = ld_strdup(v.s[E_FIX]))) || (v.given[E_WARNING] && !(e->warning = ld_strdup(v.s[E_WARNING]))) ||
        (v.given[E_AUDIT_FINDING] && !(e->audit_finding = ld_strdup(v.s[E_AUDIT_FINDING]))))
        return ld_fatal(L, n, "out of memory");
    if (v.given[E_AUDIT_FINDING] && !v.given[E_AUDIT] &&
        !ld_fail(L, n, "expect: 'audit_finding' needs 'audit' (how many findings the step exposes)"))
        ok = false;
    if (v.given[X_MEM] && !L->stop && !load_mem_expect(L, v.node[X_MEM], e))
        ok = false;
    if (v.given[X_STATS] && !L->stop && !load_stats_expect(L, v.node[X_STATS], e))
        ok = false;
    if (v.given[X_FREC] && !L->stop && !load_frec_expect(L, v.node[X_FREC], e))
        ok = false;
    if (v.given[X_UFAULT] && !L->stop && !load_ufault_expect(L, v.node[X_UFAULT], e))
        ok = false;
    if (v.given[X_REMOVED] && !L->stop && !load_removed_expect(L, v.node[X_REMOVED], e))
        ok = false;
    if (v.given[X_DESC] && !L->stop && !load_desc_expect(L, v.node[X_DESC], e))
        ok = false;
    if (v.given[X_PRI] && !L->stop && !load_pri_expect(L, v.node[X_PRI], e))
        ok = false;
    return ok;
}

/* The key an expectation id is written with, for error messages. */
const char *ld_expect_key(unsigned id)
{
    for (size_t i = 0; i < NT(expect_fields); i++)
        if (expect_fields[i].id == id)
            return expect_fields[i].key;
    return "?";
}
