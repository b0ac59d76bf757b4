/*
 * batch.c: one request per text line (found in place, inspect/lines.h), parsed by hand and
 * translated with one long-lived dry-run environment (its frame and mask memo makes consecutive
 * walks cheap), whose context and PASID fetches and first-stage leaf tables are remembered
 * (inspect/memo.h): every walk still reads its leaf entry.
 */
#define _POSIX_C_SOURCE 200809L
#include "inspect/batch.h"

#include <errno.h>
#include <string.h>

#include "inspect/answer.h"
#include "inspect/lines.h"
#include "inspect/memo.h"
#include "walker/alloc.h"
#include "walker/bdf.h"

struct cursor {
    const char *s, *end, *start;
};

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void skip_blanks(struct cursor *c)
{
    while (c->s < c->end && blank(*c->s))
        c->s++;
}

/* The next field: [*f, *f + *n); the cursor moves past it. */
static void field(struct cursor *c, const char **f, size_t *n)
{
    skip_blanks(c);
    *f = c->s;
    while (c->s < c->end && !blank(*c->s))
        c->s++;
    *n = (size_t)(c->s - *f);
}

static int digit_value(char ch, unsigned base)
{
    unsigned c = (unsigned char)ch, lower = c | 0x20; /* ASCII: 'A' | 0x20 is 'a' */
    unsigned v = c - '0' < 10 ? c - '0' : lower - 'a' < 6 ? lower - 'a' + 10 : 99;
    return v < base ? (int)v : -1;
}

/* Hexadecimal digits: a 64-bit value holds 16 of them, so a 17th non-zero one overflows. */
static bool parse_hex(const char *f, size_t n, uint64_t *v)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(f[i], 16);
        if (d < 0 || acc >> 60)
            return false;
        acc = acc << 4 | (uint64_t)d;
    }
    *v = acc;
    return true;
}

static bool parse_dec(const char *f, size_t n, uint64_t *v)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(f[i], 10);
        if (d < 0 || acc > (UINT64_MAX - (uint64_t)d) / 10) /* a division by a constant: a multiply */
            return false;
        acc = acc * 10 + (uint64_t)d;
    }
    *v = acc;
    return true;
}

/* A number in decimal or with 0x in hexadecimal, nothing else, at most `max`. One loop per base
 * (a shift or a multiplication by a constant), not a division by a variable base per digit. */
static bool parse_number(const char *f, size_t n, uint64_t max, uint64_t *v)
{
    bool hex = n > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X');
    uint64_t acc;
    if (!n || !(hex ? parse_hex(f + 2, n - 2, &acc) : parse_dec(f, n, &acc)) || acc > max)
        return false;
    *v = acc;
    return true;
}

static bool parse_access(const char *f, size_t n, unsigned *acc)
{
    if (n != 1)
        return false;
    /* An execute request is also a read, as in `vtdsim translate --access x`. */
    *acc = *f == 'r' ? VTD_ACC_R : *f == 'w' ? VTD_ACC_W : *f == 'x' ? VTD_ACC_X | VTD_ACC_R : 0;
    return *acc != 0;
}

static int bad(const struct cursor *c, const char *f, unsigned *col, const char **why, const char *what)
{
    *col = (unsigned)(f - c->start) + 1;
    *why = what;
    return -EINVAL;
}

int vtd_insp_parse_request(const char *line, size_t len, struct vtd_request *req, unsigned *col, const char **why)
{
    struct cursor c = {line, line + len, line};
    const char *f;
    size_t n;
    uint64_t v;
    *req = (struct vtd_request){0};
    skip_blanks(&c);
    if (c.s == c.end || *c.s == '#')
        return 1;
    field(&c, &f, &n);
    if (!vtd_sid_parse(f, n, &req->sid))
        return bad(&c, f, col, why, "bad source-id (want bb:dd.f in hex)");
    field(&c, &f, &n);
    if (n == 1 && *f == '-')
        req->pasid_valid = false;
    else if (parse_number(f, n, (UINT32_C(1) << 20) - 1, &v)) {
        req->pasid_valid = true;
        req->pasid = (uint32_t)v;
    } else
        return bad(&c, f, col, why, n ? "bad PASID (0 to 0xfffff, or - for none)" : "missing PASID (or - for none)");
    field(&c, &f, &n);
    if (!parse_number(f, n, UINT64_MAX, &req->addr))
        return bad(&c, f, col, why, n ? "bad address (0x-hex or decimal, at most 64 bits)" : "missing address");
    field(&c, &f, &n);
    if (!parse_access(f, n, &req->access))
        return bad(&c, f, col, why, n ? "bad access (r, w or x)" : "missing access (r, w or x)");
    skip_blanks(&c);
    if (c.s != c.end)
        return bad(&c, c.s, col, why, "unexpected text after the access");
    return 0;
}

/* Answers are gathered and written in blocks: one stdio call per answer costs as much as a walk. */
#define BATCH_OUT_BYTES 65536
#define BATCH_ANSWER_MAX 256

struct out_block {
    FILE *f;
    char buf[BATCH_OUT_BYTES];
    size_t len;
    struct vtd_insp_memo memo; /* the walks' context and PASID fetches (inspect/memo.h) */
};

static int flush_block(struct out_block *o)
{
    size_t n = o->len;
    o->len = 0;
    return fwrite(o->buf, 1, n, o->f) == n ? 0 : -EIO;
}

/* The reason of a failed batch that is not a bad line: reading, writing or memory. */
static void batch_error(int rc, bool writing, const char *name, char *err, size_t errlen)
{
    const char *why = strerror(errno ? errno : EIO);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: out of memory for a line", name);
    else if (writing)
        snprintf(err, errlen, "cannot write the answers: %s", why);
    else
        snprintf(err, errlen, "%s: read error: %s", name, why);
}

int vtd_inspect_batch(const struct vtd_inspect *in, FILE *in_f, const char *name, FILE *out_f, bool json,
                      struct vtd_insp_batch_stats *st, char *err, size_t errlen)
{
    struct vtd_walk_env env;
    struct vtd_insp_lines lines;
    const char *line;
    size_t n;
    int rc = 0, got;
    bool writing = false;
    struct out_block *o = vtd_malloc(sizeof *o);
    *st = (struct vtd_insp_batch_stats){0};
    if (!o || vtd_insp_lines_init(&lines, in_f)) {
        vtd_free(o);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    o->f = out_f;
    o->len = 0;
    vtd_inspect_env(in, &env);
    vtd_insp_memo_attach(&o->memo, &env);
    uint64_t lineno = 1;
    for (; (got = vtd_insp_lines_next(&lines, &line, &n)) > 0; lineno++) {
        struct vtd_request req;
        struct vtd_xlate x;
        unsigned col;
        const char *why;
        int p = vtd_insp_parse_request(line, n, &req, &col, &why);
        if (p < 0) {
            snprintf(err, errlen, "%s:%llu:%u: %s", name, (unsigned long long)lineno, col, why);
            rc = -EINVAL;
            break;
        }
        if (p)
            continue;
        int f = vtd_translate(&env, &req, &x);
        st->requests++;
        st->faults += f != 0;
        if (BATCH_OUT_BYTES - o->len < BATCH_ANSWER_MAX && (rc = flush_block(o))) {
            writing = true;
            break;
        }
        o->len += vtd_insp_format_answer(o->buf + o->len, BATCH_ANSWER_MAX, &req, f, &x, json);
    }
    if (!rc && got < 0)
        rc = got;
    /* What was answered before a bad line or a read error is still written. */
    int wrc = writing ? 0 : flush_block(o);
    if (wrc && !rc) {
        rc = wrc;
        writing = true;
    }
    if (rc && rc != -EINVAL)
        batch_error(rc, writing, name, err, errlen);
    vtd_insp_lines_fini(&lines);
    vtd_free(o);
    return rc;
}
