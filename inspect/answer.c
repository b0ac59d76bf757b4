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
/* A string literal, its length known at compile time: with room for it (the usual case) a
 * fixed-size copy the compiler turns into a few moves, not a byte loop. */
#define put_lit(o, lit)                                                                      \
    do {                                                                                     \
        if ((size_t)((o)->end - (o)->p) >= sizeof(lit) - 1) {                                \
            memcpy((o)->p, (lit), sizeof(lit) - 1);                                          \
            (o)->p += sizeof(lit) - 1;                                                       \
        } else                                                                               \
            put((o), (lit), sizeof(lit) - 1);                                                \
    } while (0)

/* Two hexadecimal digits per byte value: half the steps of one digit at a time. */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* 0x and the digits of v without leading zeros (at least one digit). */
static void put_hex(struct out *o, uint64_t v)
{
    char tmp[20];
    unsigned digits = (67u - (unsigned)__builtin_clzll(v | 1)) / 4; /* bits rounded up to nibbles */
    unsigned i = 2 + digits;
    for (uint64_t w = v; i > 3; w >>= 8, i -= 2)
        memcpy(tmp + i - 2, hex_pairs + 2 * (w & 0xff), 2);
    if (i == 3)
        tmp[2] = hex_pairs[2 * (v >> 4 * (digits - 1) & 0xf) + 1];
    tmp[0] = '0';
    tmp[1] = 'x';
    put(o, tmp, 2 + digits);
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
