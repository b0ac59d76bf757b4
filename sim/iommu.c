/* iommu.c: the simulated IOMMU's lifetime, configuration and devices. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/prq_internal.h"
#include "sim/regs.h"
#include "walker/alloc.h"

static const char *const cache_names[VTD_C_NCACHES] = {"context", "pasid", "iotlb", "psc-fs", "psc-ss"};

void vtd_iommu_config_default(struct vtd_iommu_config *cfg)
{
    *cfg = (struct vtd_iommu_config){.oracle = true, .ordering_checks = true, .fast_path = true, .fast_miss = true, .oracle_groups = true,
                                     .oracle_memo = true};
    vtd_caps_default(&cfg->caps);
    cfg->cache[VTD_C_CONTEXT] = (struct vtd_cache_geometry){.sets = 1, .ways = 64};
    cfg->cache[VTD_C_PASID] = (struct vtd_cache_geometry){.sets = 1, .ways = 128};
    cfg->cache[VTD_C_IOTLB] = (struct vtd_cache_geometry){.sets = 64, .ways = 8};
    cfg->cache[VTD_C_PSC_FS] = (struct vtd_cache_geometry){.sets = 16, .ways = 4};
    cfg->cache[VTD_C_PSC_SS] = (struct vtd_cache_geometry){.sets = 16, .ways = 4};
    cfg->iec = (struct vtd_cache_geometry){.sets = 64, .ways = 4};
}

static size_t cache_payload_size(enum vtd_cache_id id)
{
    switch (id) {
    case VTD_C_CONTEXT: return sizeof(struct ctx_cache_payload);
    case VTD_C_PASID: return sizeof(struct pasid_cache_payload);
    case VTD_C_IOTLB: return sizeof(struct iotlb_payload);
    default: return sizeof(struct psc_payload);
    }
}

uint64_t vtd_iommu_cache_host_bytes(const struct vtd_iommu_config *cfg, enum vtd_cache_id id)
{
    return (unsigned)id < VTD_C_NCACHES ? vtd_cache_host_bytes(&cfg->cache[id], cache_payload_size(id)) : UINT64_MAX;
}

uint64_t vtd_device_host_bytes(const struct vtd_device_config *dc)
{
    uint64_t b = dc->ats ? vtd_cache_host_bytes(&dc->devtlb, sizeof(struct devtlb_payload)) : 0;
    return b == UINT64_MAX ? b : b + sizeof(struct vtd_device);
}

static void devices_free(struct vtd_iommu *io)
{
    for (unsigned b = 0; b < 256; b++) {
        for (unsigned i = 0; io->bus[b] && i < 256; i++) {
            struct vtd_device *d = io->bus[b]->dev[i];
            if (d) {
                vtd_cache_free(d->devtlb);
                iommu_pri_free(d);
            }
            vtd_free(d);
        }
        vtd_free(io->bus[b]);
    }
}

/* The cached path's walk environment (cache hooks) and the oracle's (uncached, dry run). */
static void envs_init(struct vtd_iommu *io, struct vtd_trace *trace)
{
    vtd_walk_env_init(&io->env, io->mem, &io->cfg.caps, 0);
    io->env.hooks = &iommu_cache_hooks;
    io->env.opaque = NULL; /* the request in flight (xlate.c) */
    io->env.trace = trace;
    iommu_move_fast_epoch(io);
    vtd_walk_env_init(&io->oracle_env, io->mem, &io->cfg.caps, 0);
    io->oracle_env.dry_run = true;
}

void vtd_iommu_free(struct vtd_iommu *io)
{
    if (!io)
        return;
    devices_free(io);
    iommu_order_free(io);
    for (unsigned i = 0; i < VTD_C_NCACHES; i++)
        vtd_cache_free(io->cache[i]);
    iommu_ir_free(io);
    vtd_mem_free(io->mem);
    vtd_free(io);
}

struct vtd_iommu *vtd_iommu_new(const struct vtd_iommu_config *cfg, const char **why)
{
    const char *msg = NULL;
    if (!cfg || !vtd_caps_valid(&cfg->caps, &msg)) {
        if (why)
            *why = cfg ? msg : "no configuration";
        return NULL;
    }
    struct vtd_iommu *io = vtd_calloc(1, sizeof(*io));
    if (!io || !(io->mem = vtd_mem_new(cfg->caps.haw))) {
        vtd_free(io);
        if (why)
            *why = "out of memory";
        return NULL;
    }
    io->cfg = *cfg;
    for (unsigned i = 0; i < VTD_C_NCACHES; i++) {
        static const unsigned class_words[VTD_C_NCACHES] = {KEY_WORD_NONE, KEY_WORD_NONE, KEY_CLASS_WORD,
                                                            KEY_CLASS_WORD, KEY_CLASS_WORD};
        io->cache[i] = vtd_cache_new(cache_names[i], &cfg->cache[i], cache_payload_size(i));
        if (io->cache[i])
            vtd_cache_share_changes(io->cache[i], &io->cache_changes);
        if (!io->cache[i]) {
            if (why)
                *why = "bad cache geometry or out of memory";
            vtd_iommu_free(io);
            return NULL;
        }
        vtd_cache_count_classes(io->cache[i], class_words[i]);
    }
    envs_init(io, NULL);
    if (iommu_ir_init(io)) {
        if (why)
            *why = "bad interrupt-entry-cache geometry or out of memory";
        vtd_iommu_free(io);
        return NULL;
    }
    vtd_iommu_reg_reset(io);
    iommu_ats_reset(io);
    return io;
}

/* Empties what a run fills and keeps what the owner configured; see iommu.h. */
void vtd_iommu_reset(struct vtd_iommu *io)
{
    vtd_mem_reset(io->mem);
    for (unsigned i = 0; i < VTD_C_NCACHES; i++)
        vtd_cache_reset(io->cache[i]);
    for (unsigned b = 0; b < 256; b++)
        for (unsigned i = 0; io->bus[b] && i < 256; i++)
            if (io->bus[b]->dev[i]) {
                if (io->bus[b]->dev[i]->devtlb)
                    vtd_cache_reset(io->bus[b]->dev[i]->devtlb);
                iommu_pri_free(io->bus[b]->dev[i]);
            }
    iommu_order_free(io);
    io->step = 0;
    io->stats = (struct vtd_iommu_stats){0};
    io->prq_stats = (struct vtd_prq_stats){0};
    io->last_ctx = io->last_pasid = NULL;
    memset(io->fast, 0, sizeof io->fast);
    io->fast_hits = io->fast_dma_hits = 0;
    io->fast_misses = 0;
    io->fast_miss_psc = NULL;
    io->fast_miss_memo = (struct iommu_miss_memo){0}; /* forgotten with the caches it points into */
    memset(io->memo, 0, sizeof io->memo);
    io->memo_hits = 0;
    io->nwarnings = 0;
    /* The walk environments remember host frame pointers, which the memory reset freed. */
    envs_init(io, io->env.trace);
    vtd_iommu_reg_reset(io);
    iommu_ir_reset(io);
    iommu_ats_reset(io);
}

struct vtd_mem *vtd_iommu_mem(struct vtd_iommu *io) { return io->mem; }
const struct vtd_caps *vtd_iommu_caps(const struct vtd_iommu *io) { return &io->cfg.caps; }

void vtd_iommu_set_root(struct vtd_iommu *io, uint64_t rtaddr)
{
    io->rtaddr = io->regs.rtaddr = rtaddr;
    io->env.rtaddr = io->oracle_env.rtaddr = rtaddr;
    io->regs.gsts |= (uint32_t)VTD_GSTS_RTPS;
    io->te = true;
    iommu_move_fast_epoch(io);
}

uint64_t vtd_iommu_root(const struct vtd_iommu *io) { return io->rtaddr; }

void vtd_iommu_set_step(struct vtd_iommu *io, uint64_t step)
{
    io->step = step;
    /* The oracle tells which change left an entry stale by the step that last wrote its tables. */
    vtd_mem_set_write_tag(io->mem, step);
}

void vtd_iommu_set_fault_listener(struct vtd_iommu *io, vtd_fault_listener fn, void *arg)
{
    io->fault_listener = fn;
    io->fault_listener_arg = arg;
}

void vtd_iommu_set_qi_listener(struct vtd_iommu *io, vtd_qi_listener fn, void *arg)
{
    io->qi_listener = fn;
    io->qi_listener_arg = arg;
}

void vtd_iommu_set_host(struct vtd_iommu *io, void *host) { io->host = host; }
void *vtd_iommu_host(const struct vtd_iommu *io) { return io->host; }

int vtd_iommu_device_info(const struct vtd_iommu *io, uint16_t sid, struct vtd_device_info *out)
{
    const struct vtd_bus *b = io->bus[sid >> 8];
    const struct vtd_device *d = b ? b->dev[sid & 0xff] : NULL;
    if (!d)
        return -ENODEV;
    *out = (struct vtd_device_info){ .sid = d->sid, .ats = d->ats, .pri = d->pri, .pasid_bits = d->pasid_bits };
    return 0;
}

void vtd_iommu_count_alloc_failure(struct vtd_iommu *io) { io->stats.alloc_failures++; }

void vtd_iommu_set_trace(struct vtd_iommu *io, struct vtd_trace *trace)
{
    io->env.trace = trace;
    iommu_move_fast_epoch(io);
}

int vtd_iommu_add_device(struct vtd_iommu *io, const struct vtd_device_config *dc)
{
    if (!io || !dc || dc->pasid_bits > 20)
        return -EINVAL;
    if (iommu_device(io, dc->sid))
        return -EEXIST;
    struct vtd_bus **bus = &io->bus[dc->sid >> 8];
    if (!*bus && !(*bus = vtd_calloc(1, sizeof(**bus))))
        return -ENOMEM;
    struct vtd_device *d = vtd_calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    /* A geometry the device TLB could not have is refused now, as when it was made here. */
    if (dc->ats && vtd_cache_host_bytes(&dc->devtlb, sizeof(struct devtlb_payload)) == UINT64_MAX) {
        vtd_free(d);
        return -ENOMEM;
    }
    *d = (struct vtd_device){.sid = dc->sid, .ats = dc->ats, .pri = dc->pri, .pasid_bits = dc->pasid_bits,
                             .devtlb_geo = dc->devtlb};
    (*bus)->dev[dc->sid & 0xff] = d;
    /* A whole-request answer (fast_dma.c) armed for this source-id before must not answer a
     * requester with a device TLB: moving the epoch disarms every slot. */
    if (d->ats)
        iommu_move_fast_epoch(io);
    return 0;
}

struct vtd_cache *vtd_iommu_cache(struct vtd_iommu *io, enum vtd_cache_id id)
{
    return id < VTD_C_NCACHES ? io->cache[id] : NULL;
}

struct vtd_cache *iommu_devtlb_of(struct vtd_iommu *io, struct vtd_device *d)
{
    if (d->ats && !d->devtlb) {
        if ((d->devtlb = vtd_cache_new("devtlb", &d->devtlb_geo, sizeof(struct devtlb_payload))))
            vtd_cache_count_classes(d->devtlb, KEY_CLASS_WORD);
        else
            io->stats.alloc_failures++;
    }
    return d->devtlb;
}

struct vtd_cache *vtd_iommu_devtlb(struct vtd_iommu *io, uint16_t sid)
{
    struct vtd_device *d = iommu_device(io, sid);
    return d ? iommu_devtlb_of(io, d) : NULL;
}

const struct vtd_iommu_stats *vtd_iommu_stats(const struct vtd_iommu *io) { return &io->stats; }

const char *vtd_source_name(enum vtd_source s)
{
    static const char *const names[] = {"walk", "psc", "iotlb", "devtlb", "iec"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
