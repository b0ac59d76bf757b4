/* linux_line.c: one line of a Linux trace's text (see linux_line.h). */
#define _POSIX_C_SOURCE 200809L
#include "trace/linux_line.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"
#include "walker/bdf.h"

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The hexadecimal number after `key` in s (0x optional). */
static bool hex_after(const char *s, const char *key, uint64_t *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    char *end;
    errno = 0;
    *v = strtoull(p + strlen(key), &end, 16);
    return end != p + strlen(key) && !errno;
}

static bool dec_after(const char *s, const char *key, uint64_t *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    char *end;
    errno = 0;
    *v = strtoull(p + strlen(key), &end, 10);
    return end != p + strlen(key) && !errno;
}

/* A PCI device name, "0000:00:03.0" or "00:03.0", at s (ending at a space, '[' or the end). */
static bool device_name(const char *s, uint16_t *sid)
{
    size_t n = strcspn(s, " [\t\n");
    const char *colon = memchr(s, ':', n);
    if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) { /* a PCI segment first */
        n -= (size_t)(colon + 1 - s);
        s = colon + 1;
    }
    return vtd_sid_parse(s, n, sid);
}

static bool parse_map(const char *rest, struct lx_event *e)
{
    return hex_after(rest, "iova=", &e->iova) && hex_after(rest, "paddr=", &e->paddr) &&
           dec_after(rest, " size=", &e->size);
}

/* unmapped_size is what went; size what was asked (older kernels print only size). */
static bool parse_unmap(const char *rest, struct lx_event *e)
{
    if (!hex_after(rest, "iova=", &e->iova))
        return false;
    return dec_after(rest, "unmapped_size=", &e->size) || dec_after(rest, " size=", &e->size);
}

/* "iotlb_inv dmar0: 0x400f2 0xffffa000 0x0 0x0": the qwords after the unit's name. */
static bool parse_qi(const char *rest, struct lx_event *e)
{
    const char *p = strstr(rest, ": ");
    if (!p)
        return false;
    p += 2;
    for (int i = 0; i < 2; i++) {
        char *end;
        errno = 0;
        e->qw[i] = strtoull(p, &end, 16);
        if (end == p || errno)
            return false;
        p = end;
    }
    return true;
}

/* "dmar9/0000:00:01.0 type iotlb did 1 pasid 9 ref 1" (Linux 6.10 and later). */
static bool parse_tag(const char *rest, struct lx_event *e)
{
    const char *slash = strchr(rest, '/');
    uint64_t did;
    if (!slash || !device_name(slash + 1, &e->sid) || !dec_after(rest, " did ", &did) || !did || did > UINT16_MAX)
        return false;
    e->did = (uint16_t)did;
    e->devtlb = strstr(rest, " type devtlb ") != NULL;
    return true;
}

struct lx_name {
    const char *name;
    enum lx_kind kind;
};
static const struct lx_name lx_names[] = {
    {"map", LX_MAP}, {"unmap", LX_UNMAP}, {"qi_submit", LX_QI}, {"attach_device_to_domain", LX_ATTACH},
    {"io_page_fault", LX_FAULT}, {"cache_tag_assign", LX_TAG}, {"detach_device_from_domain", LX_KNOWN},
    {"add_device_to_group", LX_KNOWN}, {"remove_device_from_group", LX_KNOWN}, {"prq_report", LX_KNOWN},
    {"cache_tag_unassign", LX_KNOWN}, {"cache_tag_flush_range", LX_KNOWN}, {"cache_tag_flush_all", LX_KNOWN},
    {"cache_tag_flush_range_np", LX_KNOWN},
};

/* The event's text of a parsed kind. */
static enum lx_kind parse_rest(enum lx_kind k, const char *rest, struct lx_event *e)
{
    bool ok = true;
    switch (k) {
    case LX_MAP: ok = parse_map(rest, e); break;
    case LX_UNMAP: ok = parse_unmap(rest, e); break;
    case LX_QI: ok = parse_qi(rest, e); break;
    case LX_ATTACH: {
        const char *d = strstr(rest, "device=");
        ok = d && device_name(d + 7, &e->sid);
        break;
    }
    case LX_FAULT: ok = hex_after(rest, "iova=", &e->iova); break;
    case LX_TAG: ok = parse_tag(rest, e); break;
    default: break;
    }
    if (ok && (k == LX_MAP || k == LX_UNMAP) &&
        (!e->size || (e->iova | e->size) & ((1u << LX_PAGE_SHIFT) - 1) || e->iova + e->size < e->iova ||
         (e->iova + e->size - 1) >> VTRACE_ADDR_BITS))
        ok = false; /* Linux maps whole pages; anything else is not a trace we understand */
    return ok ? k : LX_BAD;
}

void lx_parse_line(const char *line, struct lx_event *e)
{
    memset(e, 0, sizeof(*e));
    const char *s = skip_spaces(line);
    if (!*s || *s == '\n' || *s == '#') {
        e->kind = LX_NONE;
        return;
    }
    e->kind = LX_BAD;
    const char *br = strstr(s, " [");
    char *end;
    if (!br)
        return;
    unsigned long cpu = strtoul(br + 2, &end, 10);
    if (end == br + 2 || *end != ']' || cpu > 4095)
        return;
    e->cpu = (unsigned)cpu;
    const char *ts = strchr(end, ':'); /* the colon that ends the timestamp */
    if (!ts || ts == end + 1 || ts[-1] < '0' || ts[-1] > '9')
        return;
    const char *name = skip_spaces(ts + 1);
    size_t n = strcspn(name, ": \n");
    if (!n || name[n] != ':')
        return;
    const char *rest = skip_spaces(name + n + 1);
    for (size_t i = 0; i < sizeof lx_names / sizeof lx_names[0]; i++)
        if (strlen(lx_names[i].name) == n && !memcmp(lx_names[i].name, name, n)) {
            e->kind = parse_rest(lx_names[i].kind, rest, e);
            return;
        }
    e->kind = LX_UNKNOWN;
    snprintf(e->name, sizeof e->name, "%.*s", (int)(n < 63 ? n : 63), name);
}

