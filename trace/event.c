/* event.c: trace events: names, validation and the binary record layout (see trace.h). */
#include "trace/trace.h"

#include <stdio.h>
#include <string.h>

#include "walker/bdf.h"

/* Byte offsets of a record's fields (trace.h describes the layout). */
enum {
    REC_KIND = 0, REC_ACCESS = 1, REC_PAGE = 2, REC_FLAGS = 3, REC_SID = 4, REC_RSVD = 6,
    REC_PASID = 8, REC_SIZE = 12, REC_ADDR = 16, REC_OUT = 24,
};

static const char *const field_names[VTRACE_NFIELDS] = {"kind", "sid", "pasid", "addr", "size", "access", "page", "out"};
static const char *const kind_names[VTRACE_NKINDS] = {"dma", "map", "unmap", "invalidate", "dirty", "desc", "domain"};

const char *vtrace_field_name(enum vtrace_field f) { return f < VTRACE_NFIELDS ? field_names[f] : "?"; }
const char *vtrace_kind_name(unsigned kind) { return kind < VTRACE_NKINDS ? kind_names[kind] : "?"; }

static int bad(enum vtrace_field *field, enum vtrace_field f, char *why, size_t len, const char *fmt,
               const char *kind, unsigned long long v)
{
    *field = f;
    char msg[200];
    snprintf(msg, sizeof(msg), fmt, v);
    snprintf(why, len, "%s%s%s", kind ? kind : "", kind ? ": " : "", msg);
    return -1;
}

static bool page_shift_valid(unsigned s) { return s == 12 || s == 21 || s == 30; }

/* The common case, a plain DMA event with every field in range, in one test: it accepts a subset
 * of what the checks below accept, so it only saves a replay the branch-by-branch walk. */
static inline bool plain_dma_ok(const struct vtrace_event *e)
{
    uint64_t end = e->addr + e->size;
    return e->kind == VTRACE_DMA && !(e->flags & ~VTRACE_F_MASK) && e->access && !(e->access & ~VTRACE_ACC_MASK) &&
           !e->page_shift && !e->out && e->size && end > e->addr && end <= (UINT64_C(1) << VTRACE_ADDR_BITS) &&
           (!(e->flags & VTRACE_F_PASID) ? !e->pasid : !(e->pasid >> VTRACE_PASID_BITS));
}

/* A descriptor: its two qwords in addr and out, every other field empty. Its own fields are the
 * IOMMU's to check when it is submitted (sim/qi.c). */
static int desc_check(const struct vtrace_event *e, enum vtrace_field *field, char *why, size_t len)
{
    if (e->flags || e->pasid)
        return bad(field, VTRACE_FLD_PASID, why, len, "a PASID (flags 0x%llx) means nothing here", "desc", e->flags);
    if (e->access)
        return bad(field, VTRACE_FLD_ACCESS, why, len, "access 0x%llx means nothing here", "desc", e->access);
    if (e->page_shift)
        return bad(field, VTRACE_FLD_PAGE, why, len, "a page size (shift %llu) means nothing here", "desc", e->page_shift);
    if (e->size)
        return bad(field, VTRACE_FLD_SIZE, why, len, "size %llu means nothing here", "desc", e->size);
    if (!(e->addr & 0xf) && !(e->addr & 0xe00))
        return bad(field, VTRACE_FLD_ADDR, why, len, "qword 0x%llx has descriptor type 0", "desc", e->addr);
    return 0;
}

/* A domain: its DID in addr, below 2^16 (CAP.ND at most 16 bits, VT-d 10.4.2). */
static int domain_check(const struct vtrace_event *e, enum vtrace_field *field, char *why, size_t len)
{
    if (e->flags & ~VTRACE_F_MASK)
        return bad(field, VTRACE_FLD_PASID, why, len, "reserved flag bits 0x%llx set", "domain", e->flags & ~VTRACE_F_MASK);
    if ((e->flags & VTRACE_F_PASID) && e->pasid >> VTRACE_PASID_BITS)
        return bad(field, VTRACE_FLD_PASID, why, len, "pasid 0x%llx is wider than 20 bits", "domain", e->pasid);
    if (!(e->flags & VTRACE_F_PASID) && e->pasid)
        return bad(field, VTRACE_FLD_PASID, why, len, "pasid %llu given without the PASID flag", "domain", e->pasid);
    if (!e->addr || e->addr > UINT16_MAX)
        return bad(field, VTRACE_FLD_ADDR, why, len, "domain id %llu is not 1..65535", "domain", e->addr);
    if (e->access || e->page_shift || e->size || e->out)
        return bad(field, e->access ? VTRACE_FLD_ACCESS : e->page_shift ? VTRACE_FLD_PAGE : e->size ? VTRACE_FLD_SIZE
                                                                                                   : VTRACE_FLD_OUT,
                   why, len, "only sid, pasid and addr (the domain id) mean something here%.0llu", "domain", 0);
    return 0;
}

int vtrace_event_check(const struct vtrace_event *e, enum vtrace_field *field, char *why, size_t len)
{
    if (plain_dma_ok(e))
        return 0;
    if (e->kind >= VTRACE_NKINDS)
        return bad(field, VTRACE_FLD_KIND, why, len, "kind %llu is not dma, map, unmap, invalidate, dirty, desc or domain",
                   NULL, e->kind);
    const char *k = kind_names[e->kind];
    if (e->kind == VTRACE_DESC)
        return desc_check(e, field, why, len);
    if (e->kind == VTRACE_DOMAIN)
        return domain_check(e, field, why, len);
    if (e->flags & ~VTRACE_F_MASK)
        return bad(field, VTRACE_FLD_PASID, why, len, "reserved flag bits 0x%llx set", k, e->flags & ~VTRACE_F_MASK);
    if ((e->flags & VTRACE_F_PASID) && e->pasid >> VTRACE_PASID_BITS)
        return bad(field, VTRACE_FLD_PASID, why, len, "pasid 0x%llx is wider than 20 bits", k, e->pasid);
    if (!(e->flags & VTRACE_F_PASID) && e->pasid)
        return bad(field, VTRACE_FLD_PASID, why, len, "pasid %llu given without the PASID flag", k, e->pasid);
    if (e->access & ~VTRACE_ACC_MASK)
        return bad(field, VTRACE_FLD_ACCESS, why, len, "access bits 0x%llx are not r, w or x", k, e->access);
    uint64_t end = e->addr + e->size;
    if (e->addr >> VTRACE_ADDR_BITS || end < e->addr || end > (UINT64_C(1) << VTRACE_ADDR_BITS))
        return bad(field, VTRACE_FLD_ADDR, why, len, "addr 0x%llx (+ size) is beyond 57 bits", k, e->addr);
    if (e->kind != VTRACE_MAP && e->page_shift)
        return bad(field, VTRACE_FLD_PAGE, why, len, "a page size (shift %llu) means nothing here", k, e->page_shift);
    if (e->kind != VTRACE_MAP && e->out)
        return bad(field, VTRACE_FLD_OUT, why, len, "an output address (0x%llx) means nothing here", k, e->out);
    switch (e->kind) {
    case VTRACE_DMA:
        if (!e->access)
            return bad(field, VTRACE_FLD_ACCESS, why, len, "no access (r, w or x) given%.0llu", k, 0);
        if (!e->size)
            return bad(field, VTRACE_FLD_SIZE, why, len, "size %llu: a DMA moves at least one byte", k, 0);
        return 0;
    case VTRACE_MAP: {
        if (!page_shift_valid(e->page_shift))
            return bad(field, VTRACE_FLD_PAGE, why, len, "page shift %llu is not 4k (12), 2m (21) or 1g (30)", k,
                       e->page_shift);
        uint64_t mask = (UINT64_C(1) << e->page_shift) - 1;
        if (!e->access)
            return bad(field, VTRACE_FLD_ACCESS, why, len, "no permission (r, w or x) given%.0llu", k, 0);
        if (!e->size || (e->size & mask))
            return bad(field, VTRACE_FLD_SIZE, why, len, "size 0x%llx is not a non-zero multiple of the page", k, e->size);
        if (e->addr & mask)
            return bad(field, VTRACE_FLD_ADDR, why, len, "addr 0x%llx is not aligned to the page", k, e->addr);
        if (e->out & mask)
            return bad(field, VTRACE_FLD_OUT, why, len, "out 0x%llx is not aligned to the page", k, e->out);
        if (e->out >> 52 || e->out + e->size < e->out || (e->out + e->size - 1) >> 52)
            return bad(field, VTRACE_FLD_OUT, why, len, "out 0x%llx (+ size) is beyond 52 bits", k, e->out);
        return 0;
    }
    case VTRACE_UNMAP:
        if (e->access)
            return bad(field, VTRACE_FLD_ACCESS, why, len, "access 0x%llx means nothing here", k, e->access);
        if (!e->size || (e->size & (VTRACE_PAGE_4K - 1)) || (e->addr & (VTRACE_PAGE_4K - 1)))
            return bad(field, e->addr & (VTRACE_PAGE_4K - 1) ? VTRACE_FLD_ADDR : VTRACE_FLD_SIZE, why, len,
                       "addr 0x%llx / size must be non-zero whole 4 KiB pages", k, e->addr);
        return 0;
    default: /* invalidate, dirty: the same range rules */
        if (e->access)
            return bad(field, VTRACE_FLD_ACCESS, why, len, "access 0x%llx means nothing here", k, e->access);
        if ((e->size & (VTRACE_PAGE_4K - 1)) || (e->addr & (VTRACE_PAGE_4K - 1)))
            return bad(field, e->addr & (VTRACE_PAGE_4K - 1) ? VTRACE_FLD_ADDR : VTRACE_FLD_SIZE, why, len,
                       "addr 0x%llx / size must be whole 4 KiB pages (size 0: everything)", k, e->addr);
        if (!e->size && e->addr)
            return bad(field, VTRACE_FLD_ADDR, why, len, "addr 0x%llx with size 0 (everything) must be 0", k, e->addr);
        return 0;
    }
}

/* ---- little-endian record layout ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

void vtrace_record_encode(const struct vtrace_event *e, uint8_t rec[VTRACE_RECORD_SIZE])
{
    memset(rec, 0, VTRACE_RECORD_SIZE);
    rec[REC_KIND] = e->kind;
    rec[REC_ACCESS] = e->access;
    rec[REC_PAGE] = e->page_shift;
    rec[REC_FLAGS] = e->flags;
    put16(rec + REC_SID, e->sid);
    put32(rec + REC_PASID, e->pasid);
    put32(rec + REC_SIZE, e->size);
    put64(rec + REC_ADDR, e->addr);
    put64(rec + REC_OUT, e->out);
}

/* The reserved u16 is not part of the event: vtrace_record_reserved() lets the reader check it. */
void vtrace_record_decode(const uint8_t rec[VTRACE_RECORD_SIZE], struct vtrace_event *e)
{
    e->kind = rec[REC_KIND];
    e->access = rec[REC_ACCESS];
    e->page_shift = rec[REC_PAGE];
    e->flags = rec[REC_FLAGS];
    e->sid = get16(rec + REC_SID);
    e->pasid = get32(rec + REC_PASID);
    e->size = get32(rec + REC_SIZE);
    e->addr = get64(rec + REC_ADDR);
    e->out = get64(rec + REC_OUT);
}

uint16_t vtrace_record_reserved(const uint8_t rec[VTRACE_RECORD_SIZE]) { return get16(rec + REC_RSVD); }

void vtrace_header_encode(uint64_t count, uint8_t h[VTRACE_HEADER_SIZE])
{
    memset(h, 0, VTRACE_HEADER_SIZE);
    memcpy(h, VTRACE_MAGIC, 8);
    put16(h + 8, VTRACE_VERSION);
    put16(h + 10, VTRACE_RECORD_SIZE);
    put64(h + 16, count);
}

int vtrace_header_decode(const uint8_t h[VTRACE_HEADER_SIZE], uint64_t *count, char *why, size_t len)
{
    if (memcmp(h, VTRACE_MAGIC, 8)) {
        snprintf(why, len, "bad magic (not a vtdsim binary trace; CSV traces need the .csv suffix)");
        return -1;
    }
    if (get16(h + 8) != VTRACE_VERSION) {
        snprintf(why, len, "version %u is not supported (this vtdsim reads version %u)", get16(h + 8), VTRACE_VERSION);
        return -1;
    }
    if (get16(h + 10) != VTRACE_RECORD_SIZE) {
        snprintf(why, len, "record size %u, expected %u", get16(h + 10), VTRACE_RECORD_SIZE);
        return -1;
    }
    if (get32(h + 12) || get64(h + 24)) {
        snprintf(why, len, "reserved header fields are not zero");
        return -1;
    }
    *count = get64(h + 16);
    return 0;
}

void vtrace_event_csv(const struct vtrace_event *e, char *buf, size_t len)
{
    char pasid[16] = "-", access[4] = "", page[4] = "-", out[24] = "-";
    if (e->flags & VTRACE_F_PASID)
        snprintf(pasid, sizeof(pasid), "%u", (unsigned)e->pasid);
    unsigned n = 0;
    if (e->access & VTRACE_ACC_R) access[n++] = 'r';
    if (e->access & VTRACE_ACC_W) access[n++] = 'w';
    if (e->access & VTRACE_ACC_X) access[n++] = 'x';
    access[n] = 0;
    if (!n)
        strcpy(access, "-");
    if (e->page_shift == 12) strcpy(page, "4k");
    else if (e->page_shift == 21) strcpy(page, "2m");
    else if (e->page_shift == 30) strcpy(page, "1g");
    else if (e->page_shift) snprintf(page, sizeof(page), "%u", e->page_shift);
    if (e->kind == VTRACE_MAP || e->out)
        snprintf(out, sizeof(out), "0x%llx", (unsigned long long)e->out);
    snprintf(buf, len, "%s,%s,%s,0x%llx,0x%x,%s,%s,%s", vtrace_kind_name(e->kind), vtd_bdf_format(e->sid).s, pasid,
             (unsigned long long)e->addr, (unsigned)e->size, access, page, out);
}
