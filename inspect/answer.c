/*
 * answer.c: the text and JSON forms of one translation answer, formatted by hand: a batch of a
 * million requests spends more time here than in the walk if printf parses a format per field.
 */
#include "inspect/answer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "walker/bdf.h"
#include "walker/fault.h"
#include "walker/pasid_entry.h"

/* A bounded writer: everything past the end is dropped, the length stays exact up to it. */
struct out {
    char *p, *end;
};

static void put(struct out *o, const char *s, size_t len)
{
    size_t room = (size_t)(o->end - o->p);
    if (len > room)
        len = room;
    memcpy(o->p, s, len);
    o->p += len;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }
/* A string literal, its length known at compile time. */
#define put_lit(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_hex(struct out *o, uint64_t v)
{
    char tmp[20];
    int i = 20;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    put(o, tmp + i, (size_t)(20 - i));
}

static void put_dec(struct out *o, uint64_t v)
{
    char tmp[20];
    int i = 20;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, tmp + i, (size_t)(20 - i));
}

const char *vtd_insp_perm_letters(unsigned p, char buf[8])
{
    char *q = buf;
    if (p & VTD_PERM_R) *q++ = 'r';
    if (p & VTD_PERM_W) *q++ = 'w';
    if (p & VTD_PERM_X) *q++ = 'x';
    if (p & VTD_PERM_U) *q++ = 'u';
    if (q == buf)
        memcpy(buf, "none", 5);
    else
        *q = '\0';
    return buf;
}

const char *vtd_insp_page_name(unsigned shift, char buf[24])
{
    if (shift == 12 || shift == 21 || shift == 30)
        return shift == 12 ? "4K" : shift == 21 ? "2M" : "1G";
    snprintf(buf, 24, "%" PRIu64, shift < 64 ? UINT64_C(1) << shift : 0);
    return buf;
}

static const char *access_letter(unsigned access)
{
    return access & VTD_ACC_W ? "w" : access & VTD_ACC_X ? "x" : "r";
}

static void format_text(struct out *o, const struct vtd_request *req, int rc, const struct vtd_xlate *x)
{
    char pb[8], sb[24];
    put(o, vtd_bdf_format(req->sid).s, VTD_BDF_LEN - 1);
    put(o, " ", 1);
    if (req->pasid_valid)
        put_dec(o, req->pasid);
    else
        put(o, "-", 1);
    put(o, " ", 1);
    put_hex(o, req->addr);
    put(o, " ", 1);
    puts_(o, access_letter(req->access));
    if (req->priv)
        put_lit(o, " priv");
    if (rc) {
        const char *name = vtd_fault_name(rc);
        put_lit(o, " -> fault ");
        put_hex(o, (uint64_t)rc);
        put(o, " ", 1);
        puts_(o, name ? name : "UNKNOWN");
    } else {
        put_lit(o, " -> out ");
        put_hex(o, x->out);
        put_lit(o, " page ");
        puts_(o, vtd_insp_page_name(x->page_shift, sb));
        put_lit(o, " perm ");
        puts_(o, vtd_insp_perm_letters(x->perm, pb));
    }
    put(o, "\n", 1);
}

/* The paging entry that gave the output address: the second stage's for second-stage-only and
 * nested translations (the final address is its output), the first stage's for first-stage
 * only; 0 for pass-through. Lets a reader compare it with the entry another model used. */
static uint64_t leaf_entry_addr(const struct vtd_xlate *x)
{
    if (vtd_pgtt_uses_ss(x->pgtt))
        return x->ss.leaf_entry_addr;
    return vtd_pgtt_uses_fs(x->pgtt) ? x->fs.leaf_entry_addr : 0;
}

static void format_json(struct out *o, const struct vtd_request *req, int rc, const struct vtd_xlate *x)
{
    char pb[8];
    put_lit(o, "{\"sid\": \"");
    put(o, vtd_bdf_format(req->sid).s, VTD_BDF_LEN - 1);
    put_lit(o, "\", \"pasid\": ");
    if (req->pasid_valid)
        put_dec(o, req->pasid);
    else
        put_lit(o, "null");
    put_lit(o, ", \"addr\": \"");
    put_hex(o, req->addr);
    put_lit(o, "\", \"access\": \"");
    puts_(o, access_letter(req->access));
    if (req->priv)
        put_lit(o, "\", \"priv\": true");
    else
        put_lit(o, "\", \"priv\": false");
    if (rc) {
        const char *name = vtd_fault_name(rc);
        put_lit(o, ", \"out\": null, \"page_size\": null, \"perm\": null, \"fault\": {\"code\": \"");
        put_hex(o, (uint64_t)rc);
        put_lit(o, "\", \"name\": \"");
        puts_(o, name ? name : "UNKNOWN");
        put_lit(o, "\"}}\n");
        return;
    }
    put_lit(o, ", \"out\": \"");
    put_hex(o, x->out);
    put_lit(o, "\", \"page_size\": ");
    put_dec(o, x->page_shift < 64 ? UINT64_C(1) << x->page_shift : 0);
    put_lit(o, ", \"perm\": \"");
    puts_(o, vtd_insp_perm_letters(x->perm, pb));
    uint64_t leaf = leaf_entry_addr(x);
    if (leaf) {
        put_lit(o, "\", \"leaf_entry\": \"");
        put_hex(o, leaf);
        put_lit(o, "\", \"fault\": null}\n");
    } else {
        put_lit(o, "\", \"leaf_entry\": null, \"fault\": null}\n");
    }
}

size_t vtd_insp_format_answer(char *buf, size_t n, const struct vtd_request *req, int rc, const struct vtd_xlate *x,
                              bool json)
{
    if (!n)
        return 0;
    struct out o = {buf, buf + n - 1};
    if (json)
        format_json(&o, req, rc, x);
    else
        format_text(&o, req, rc, x);
    *o.p = 0;
    return (size_t)(o.p - buf);
}
