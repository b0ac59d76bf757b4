/*
 * coherency.c: the missing-flush check. While the CPU's write-back cache (walker/mem.h) holds
 * dirty lines, a DMA's translation is walked twice more, uncached and without A/D writes: once
 * as the IOMMU reads (memory itself where its walks do not snoop) and once as software sees
 * memory (the CPU's view). When the two answers differ, software wrote a structure the IOMMU
 * cannot see yet: the report names the first structure the walk read whose word the CPU still
 * holds, both values, why the read did not snoop, and the line to flush.
 */
#include <inttypes.h>
#include <stdio.h>

#include "sim/iommu_internal.h"
#include "walker/root_entry.h"

/* Bytes of the structure a trace record names (a multi-qword read is traced once, at qw0). */
static unsigned traced_bytes(const struct vtd_trace_rec *r)
{
    switch (r->kind) {
    case VTD_TR_CTX: return r->legacy ? 16 : 32;
    case VTD_TR_PASID: return 64;
    default: return 8;
    }
}

static const char *structure_name(unsigned kind)
{
    static const char *const names[] = {"root entry", "context entry", "PASID-directory entry", "PASID entry",
                                        "first-stage entry", "second-stage entry"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "structure";
}

/* Why a read of this kind did not snoop (walk_snooped's rules, walker/walk_common.c). */
static const char *nosnoop_reason(const struct vtd_iommu *io, unsigned kind)
{
    if ((kind != VTD_TR_FS && kind != VTD_TR_SS) || vtd_rtaddr_is_legacy(io->rtaddr))
        return "ECAP.C is 0";
    return vtd_ecap_has(&io->cfg.caps, VTD_ECAP_SMPWC) ? "the PASID entry's PWSNP is 0" : "ECAP.SMPWC is 0";
}

static bool answers_differ(int rc_a, const struct vtd_xlate *a, int rc_b, const struct vtd_xlate *b)
{
    if (rc_a != rc_b)
        return true;
    return !rc_a && (a->out != b->out || a->page_shift != b->page_shift || a->perm != b->perm);
}

/* The first word a walk read from memory while the CPU holds a newer value; false if none. */
static bool first_unflushed(struct vtd_iommu *io, const struct vtd_trace *t, struct vtd_dma_result *res)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct vtd_trace_rec *r = &t->rec[i];
        for (unsigned off = 0; !r->write && off < traced_bytes(r); off += 8) {
            uint64_t cpu, mem, addr = r->addr + off;
            if (!vtd_mem_cpu_pending(io->mem, addr, &cpu, &mem))
                continue;
            snprintf(res->flush_fix, sizeof res->flush_fix,
                     "missing clflush: the walk read the %s at 0x%" PRIx64 " from memory (0x%" PRIx64
                     ") while the CPU cache holds 0x%" PRIx64 " (%s): flush line 0x%" PRIx64,
                     structure_name(r->kind), addr, mem, cpu, nosnoop_reason(io, r->kind),
                     addr & ~(uint64_t)(VTD_CPU_LINE_SIZE - 1));
            return true;
        }
    }
    return false;
}

void iommu_coherency_check(struct vtd_iommu *io, const struct vtd_request *req, struct vtd_dma_result *res)
{
    res->unflushed = false;
    if (!vtd_mem_cpu_dirty(io->mem) || !io->te)
        return;
    struct vtd_trace trace;
    struct vtd_walk_env env = io->oracle_env;
    struct vtd_xlate seen, meant;
    env.rtaddr = io->rtaddr;
    env.trace = &trace;
    trace.n = trace.dropped = 0;
    int rc_seen = vtd_translate(&env, req, &seen);
    env.trace = NULL;
    env.snoop_all = true;
    int rc_meant = vtd_translate(&env, req, &meant);
    if (!answers_differ(rc_seen, &seen, rc_meant, &meant) || !first_unflushed(io, &trace, res))
        return;
    res->unflushed = true;
    iommu_warn(io, "%s", res->flush_fix);
}
