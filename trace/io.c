/* io.c: reading and writing traces in the binary and CSV formats (see trace.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"
#include "walker/alloc.h"
#include "walker/outfile.h"
#include "walker/hostfile.h"
#include "walker/bdf.h"

/* Records per block: reads and writes go through the file in blocks of this many. 1024 (32 KiB)
 * keeps a reader or writer under 128 KiB, which sanitizer allocators serve without an mmap. */
#define BLOCK_RECORDS 1024u
/* Longest CSV line accepted (the longest valid one is about 90 characters). */
#define CSV_LINE_MAX 512u
#define CSV_HEADER "kind,sid,pasid,addr,size,access,page,out"

struct vtrace_reader {
    FILE *f;
    bool owns;
    enum vtrace_format fmt;
    char name[160];
    char err[VTRACE_ERR_LEN];
    bool failed;
    uint64_t expected, index;      /* binary: records announced, records read */
    unsigned long line;            /* CSV: current line number */
    uint8_t block[BLOCK_RECORDS * VTRACE_RECORD_SIZE];
};

struct vtrace_writer {
    FILE *f;
    bool owns;                     /* writes a file through `out` (vtrace_create) */
    struct vtd_outfile out;
    enum vtrace_format fmt;
    char name[160];
    char err[VTRACE_ERR_LEN];
    uint64_t count;
    long start;                    /* where the header is (a stream may hold output before it) */
    unsigned pending;              /* binary: records in block not yet written */
    uint8_t block[BLOCK_RECORDS * VTRACE_RECORD_SIZE];
};

enum vtrace_format vtrace_format_of(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".csv") ? VTRACE_CSV : VTRACE_BIN;
}

static void fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, VTRACE_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* ---- reading ---- */

static int read_binary_header(struct vtrace_reader *r, char *err)
{
    uint8_t h[VTRACE_HEADER_SIZE];
    size_t got = fread(h, 1, sizeof(h), r->f);
    if (got < sizeof(h)) {
        fail(err, "%s: header: truncated (%zu of %u bytes)", r->name, got, VTRACE_HEADER_SIZE);
        return -1;
    }
    char why[160];
    if (vtrace_header_decode(h, &r->expected, why, sizeof(why))) {
        fail(err, "%s: header: %s", r->name, why);
        return -1;
    }
    return 0;
}

struct vtrace_reader *vtrace_open_stream(FILE *f, const char *name, enum vtrace_format fmt, char err[VTRACE_ERR_LEN])
{
    struct vtrace_reader *r = vtd_calloc(1, sizeof(*r));
    if (!r) {
        fail(err, "%s: out of memory", name);
        return NULL;
    }
    r->f = f;
    r->fmt = fmt;
    snprintf(r->name, sizeof(r->name), "%s", name);
    if (fmt == VTRACE_BIN && read_binary_header(r, err)) {
        vtd_free(r);
        return NULL;
    }
    return r;
}

struct vtrace_reader *vtrace_open(const char *path, char err[VTRACE_ERR_LEN])
{
    char why[128];
    /* A FIFO or device is refused without being opened for a blocking read. */
    FILE *f = vtd_fopen_regular(path, NULL, why, sizeof why);
    if (!f) {
        fail(err, "%s: %s", path, why);
        return NULL;
    }
    struct vtrace_reader *r = vtrace_open_stream(f, path, vtrace_format_of(path), err);
    if (!r) {
        fclose(f);
        return NULL;
    }
    r->owns = true;
    return r;
}

void vtrace_close(struct vtrace_reader *r)
{
    if (!r)
        return;
    if (r->owns)
        fclose(r->f);
    vtd_free(r);
}

const char *vtrace_error(const struct vtrace_reader *r) { return r->err; }
int64_t vtrace_expected(const struct vtrace_reader *r) { return r->fmt == VTRACE_BIN ? (int64_t)r->expected : -1; }

static long read_fail(struct vtrace_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long read_fail(struct vtrace_reader *r, const char *fmt, ...)
{
    char msg[VTRACE_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* CSV positions follow the name as name:line:column. */
    bool position = r->fmt == VTRACE_CSV && msg[0] >= '0' && msg[0] <= '9';
    snprintf(r->err, sizeof(r->err), "%.80s%s%.170s", r->name, position ? ":" : ": ", msg);
    r->failed = true;
    return -1;
}

static long read_binary(struct vtrace_reader *r, struct vtrace_event *ev, long max)
{
    uint64_t left = r->expected - r->index;
    if (!left) {
        if (fgetc(r->f) != EOF)
            return read_fail(r, "record %llu: trailing data after the %llu records the header announces",
                             (unsigned long long)r->index, (unsigned long long)r->expected);
        return 0;
    }
    size_t want = (size_t)(left < BLOCK_RECORDS ? left : BLOCK_RECORDS);
    if ((uint64_t)max < want)
        want = (size_t)max;
    size_t got = fread(r->block, 1, want * VTRACE_RECORD_SIZE, r->f);
    size_t whole = got / VTRACE_RECORD_SIZE;
    for (size_t i = 0; i < whole; i++) {
        const uint8_t *rec = r->block + i * VTRACE_RECORD_SIZE;
        uint64_t idx = r->index + i;
        vtrace_record_decode(rec, &ev[i]);
        if (vtrace_record_reserved(rec))
            return read_fail(r, "record %llu: reserved bytes 6-7 are not zero", (unsigned long long)idx);
        enum vtrace_field fld;
        char why[200];
        if (vtrace_event_check(&ev[i], &fld, why, sizeof(why)))
            return read_fail(r, "record %llu: %s: %s", (unsigned long long)idx, vtrace_field_name(fld), why);
    }
    if (whole < want) {
        uint64_t idx = r->index + whole;
        if (got % VTRACE_RECORD_SIZE)
            return read_fail(r, "record %llu: truncated (the file ends after %zu of its %u bytes)",
                             (unsigned long long)idx, got % VTRACE_RECORD_SIZE, VTRACE_RECORD_SIZE);
        return read_fail(r, "record %llu: truncated (the file ends after %llu records, the header announces %llu)",
                         (unsigned long long)idx, (unsigned long long)idx, (unsigned long long)r->expected);
    }
    r->index += whole;
    return (long)whole;
}

/* ---- CSV cells ---- */

struct cell {
    const char *s;   /* not NUL-terminated */
    size_t n;
    unsigned col;    /* 1-based */
};

static bool cell_is(const struct cell *c, const char *word) { return c->n == strlen(word) && !memcmp(c->s, word, c->n); }

/* A number, 0x hex or decimal: 0, or -1 with the reason. */
static int parse_u64(const struct cell *c, uint64_t *v, char *why, size_t len)
{
    const char *p = c->s, *end = c->s + c->n;
    unsigned base = 10;
    if (c->n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (p == end) {
        snprintf(why, len, "empty cell, a number expected");
        return -1;
    }
    uint64_t x = 0;
    for (; p < end; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else {
            snprintf(why, len, "'%.*s' is not a number (character '%c')", (int)c->n, c->s, *p);
            return -1;
        }
        if (x > (UINT64_MAX - d) / base) {
            snprintf(why, len, "'%.*s' is too large (more than 64 bits)", (int)c->n, c->s);
            return -1;
        }
        x = x * base + d;
    }
    *v = x;
    return 0;
}

static int parse_u32(const struct cell *c, uint32_t *v, char *why, size_t len)
{
    uint64_t x;
    if (parse_u64(c, &x, why, len))
        return -1;
    if (x > UINT32_MAX) {
        snprintf(why, len, "'%.*s' does not fit in 32 bits", (int)c->n, c->s);
        return -1;
    }
    *v = (uint32_t)x;
    return 0;
}

/* bb:dd.f with hexadecimal bus and device (PCI's usual notation; walker/bdf.h). */
static int parse_sid(const struct cell *c, uint16_t *sid, char *why, size_t len)
{
    if (!vtd_sid_parse(c->s, c->n, sid)) {
        snprintf(why, len, "'%.*s' is not a source-id bb:dd.f (bus 00-ff, device 00-1f, function 0-7)", (int)c->n, c->s);
        return -1;
    }
    return 0;
}

static int parse_access(const struct cell *c, uint8_t *acc, char *why, size_t len)
{
    *acc = 0;
    if (cell_is(c, "-"))
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        unsigned bit = c->s[i] == 'r' ? VTRACE_ACC_R : c->s[i] == 'w' ? VTRACE_ACC_W : c->s[i] == 'x' ? VTRACE_ACC_X : 0;
        if (!bit || (*acc & bit)) {
            snprintf(why, len, "'%.*s' is not a combination of r, w and x (or -)", (int)c->n, c->s);
            return -1;
        }
        *acc |= (uint8_t)bit;
    }
    if (!c->n) {
        snprintf(why, len, "empty cell: r, w, x or - expected");
        return -1;
    }
    return 0;
}

static int parse_page(const struct cell *c, uint8_t *shift, char *why, size_t len)
{
    if (cell_is(c, "-"))
        *shift = 0;
    else if (cell_is(c, "4k"))
        *shift = 12;
    else if (cell_is(c, "2m"))
        *shift = 21;
    else if (cell_is(c, "1g"))
        *shift = 30;
    else {
        snprintf(why, len, "'%.*s' is not a page size (4k, 2m, 1g or -)", (int)c->n, c->s);
        return -1;
    }
    return 0;
}

static int parse_kind(const struct cell *c, uint8_t *kind, char *why, size_t len)
{
    for (unsigned k = 0; k < VTRACE_NKINDS; k++)
        if (cell_is(c, vtrace_kind_name(k))) {
            *kind = (uint8_t)k;
            return 0;
        }
    snprintf(why, len, "'%.*s' is not dma, map, unmap, invalidate, desc or domain", (int)c->n, c->s);
    return -1;
}

static int parse_cell(enum vtrace_field f, const struct cell *c, struct vtrace_event *e, char *why, size_t len)
{
    switch (f) {
    case VTRACE_FLD_KIND: return parse_kind(c, &e->kind, why, len);
    case VTRACE_FLD_SID: return parse_sid(c, &e->sid, why, len);
    case VTRACE_FLD_PASID:
        if (cell_is(c, "-"))
            return 0;
        e->flags |= VTRACE_F_PASID;
        return parse_u32(c, &e->pasid, why, len);
    case VTRACE_FLD_ADDR: return parse_u64(c, &e->addr, why, len);
    case VTRACE_FLD_SIZE: return parse_u32(c, &e->size, why, len);
    case VTRACE_FLD_ACCESS: return parse_access(c, &e->access, why, len);
    case VTRACE_FLD_PAGE: return parse_page(c, &e->page_shift, why, len);
    default: return cell_is(c, "-") ? 0 : parse_u64(c, &e->out, why, len);
    }
}

/* Split a line into exactly VTRACE_NFIELDS cells: 0, or -1 with the column and reason. */
static int split_cells(const char *line, size_t n, struct cell *cells, unsigned *col, char *why, size_t len)
{
    unsigned k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && line[i] != ',')
            continue;
        if (k == VTRACE_NFIELDS) {
            *col = (unsigned)start + 1;
            snprintf(why, len, "too many cells (%u expected: %s)", VTRACE_NFIELDS, CSV_HEADER);
            return -1;
        }
        cells[k++] = (struct cell){line + start, i - start, (unsigned)start + 1};
        start = i + 1;
    }
    if (k < VTRACE_NFIELDS) {
        *col = (unsigned)n + 1;
        snprintf(why, len, "%u cells, %u expected (%s)", k, VTRACE_NFIELDS, CSV_HEADER);
        return -1;
    }
    return 0;
}

/* One CSV line: 1 with an event, 0 for a line without one (header, comment, blank), -1 on error. */
static int csv_line(struct vtrace_reader *r, char *line, struct vtrace_event *e)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (!n || line[0] == '#')
        return 0;
    if (!r->index) {
        if (strcmp(line, CSV_HEADER))
            return (int)read_fail(r, "%lu:1: the header line '%s' is missing", r->line, CSV_HEADER);
        r->index = 1; /* header seen */
        return 0;
    }
    struct cell cells[VTRACE_NFIELDS];
    unsigned col = 1;
    char why[200];
    if (split_cells(line, n, cells, &col, why, sizeof(why)))
        return (int)read_fail(r, "%lu:%u: %s", r->line, col, why);
    *e = (struct vtrace_event){0};
    for (unsigned f = 0; f < VTRACE_NFIELDS; f++)
        if (parse_cell((enum vtrace_field)f, &cells[f], e, why, sizeof(why)))
            return (int)read_fail(r, "%lu:%u: %s: %s", r->line, cells[f].col, vtrace_field_name((enum vtrace_field)f), why);
    enum vtrace_field fld;
    if (vtrace_event_check(e, &fld, why, sizeof(why)))
        return (int)read_fail(r, "%lu:%u: %s: %s", r->line, cells[fld].col, vtrace_field_name(fld), why);
    return 1;
}

static long read_csv(struct vtrace_reader *r, struct vtrace_event *ev, long max)
{
    long k = 0;
    char line[CSV_LINE_MAX];
    while (k < max && fgets(line, sizeof(line), r->f)) {
        r->line++;
        if (!strchr(line, '\n') && !feof(r->f))
            return read_fail(r, "%lu:%u: line too long (at most %u characters)", r->line, CSV_LINE_MAX - 1,
                             CSV_LINE_MAX - 2);
        int rc = csv_line(r, line, &ev[k]);
        if (rc < 0)
            return -1;
        k += rc;
    }
    if (!k && !r->index && !r->failed && feof(r->f))
        return read_fail(r, "%lu:1: the header line '%s' is missing", r->line + 1, CSV_HEADER);
    if (ferror(r->f))
        return read_fail(r, "read error: %s", strerror(errno));
    return k;
}

long vtrace_read(struct vtrace_reader *r, struct vtrace_event *ev, long max)
{
    if (r->failed)
        return -1;
    if (max <= 0)
        return 0;
    return r->fmt == VTRACE_BIN ? read_binary(r, ev, max) : read_csv(r, ev, max);
}

/* ---- writing ---- */

struct vtrace_writer *vtrace_create_stream(FILE *f, const char *name, enum vtrace_format fmt, char err[VTRACE_ERR_LEN])
{
    struct vtrace_writer *w = vtd_calloc(1, sizeof(*w));
    if (!w) {
        fail(err, "%s: out of memory", name);
        return NULL;
    }
    w->f = f;
    w->fmt = fmt;
    w->start = ftell(f); /* -1 on a pipe: vtrace_finish's seek then says it needs a seekable file */
    snprintf(w->name, sizeof(w->name), "%s", name);
    int ok;
    if (fmt == VTRACE_BIN) {
        uint8_t h[VTRACE_HEADER_SIZE];
        vtrace_header_encode(0, h); /* the count is written by vtrace_finish */
        ok = fwrite(h, sizeof(h), 1, f) == 1;
    } else {
        ok = fprintf(f, "%s\n", CSV_HEADER) > 0;
    }
    if (!ok) {
        fail(err, "%s: %s", name, strerror(errno));
        vtd_free(w);
        return NULL;
    }
    return w;
}

/* A trace file that replaces `path` only once finished (walker/outfile.h); never `input`. */
static struct vtrace_writer *create_file(const char *path, const char *input, char err[VTRACE_ERR_LEN])
{
    struct vtd_outfile out;
    if (vtd_outfile_open(&out, path, &input, input ? 1 : 0)) {
        fail(err, "%s", out.err);
        return NULL;
    }
    struct vtrace_writer *w = vtrace_create_stream(out.f, path, vtrace_format_of(path), err);
    if (!w) {
        vtd_outfile_discard(&out);
        return NULL;
    }
    w->out = out;
    w->owns = true;
    return w;
}

struct vtrace_writer *vtrace_create(const char *path, char err[VTRACE_ERR_LEN])
{
    return create_file(path, NULL, err);
}

void vtrace_abandon(struct vtrace_writer *w)
{
    if (w->owns)
        vtd_outfile_discard(&w->out);
    vtd_free(w);
}

static int flush_block(struct vtrace_writer *w)
{
    if (w->pending && fwrite(w->block, VTRACE_RECORD_SIZE, w->pending, w->f) != w->pending) {
        fail(w->err, "%s: %s", w->name, strerror(errno));
        return -1;
    }
    w->pending = 0;
    return 0;
}

int vtrace_write(struct vtrace_writer *w, const struct vtrace_event *e)
{
    enum vtrace_field fld;
    char why[200];
    if (vtrace_event_check(e, &fld, why, sizeof(why))) {
        fail(w->err, "%s: event %llu: %s: %s", w->name, (unsigned long long)w->count, vtrace_field_name(fld), why);
        return -1;
    }
    if (w->fmt == VTRACE_BIN) {
        vtrace_record_encode(e, w->block + (size_t)w->pending * VTRACE_RECORD_SIZE);
        if (++w->pending == BLOCK_RECORDS && flush_block(w))
            return -1;
    } else {
        char line[CSV_LINE_MAX];
        vtrace_event_csv(e, line, sizeof(line));
        if (fprintf(w->f, "%s\n", line) < 0) {
            fail(w->err, "%s: %s", w->name, strerror(errno));
            return -1;
        }
    }
    w->count++;
    return 0;
}

const char *vtrace_writer_error(const struct vtrace_writer *w) { return w->err; }
uint64_t vtrace_written(const struct vtrace_writer *w) { return w->count; }

int vtrace_finish(struct vtrace_writer *w, char err[VTRACE_ERR_LEN])
{
    int rc = 0;
    if (w->fmt == VTRACE_BIN) {
        uint8_t h[VTRACE_HEADER_SIZE];
        vtrace_header_encode(w->count, h);
        if (flush_block(w))
            rc = -1;
        else if (w->start < 0 || fseek(w->f, w->start, SEEK_SET) || fwrite(h, sizeof(h), 1, w->f) != 1 || fseek(w->f, 0, SEEK_END)) {
            fail(w->err, "%s: cannot write the header's record count (a binary trace needs a seekable file): %s",
                 w->name, strerror(errno));
            rc = -1;
        }
    }
    if (fflush(w->f) && !rc) {
        fail(w->err, "%s: %s", w->name, strerror(errno));
        rc = -1;
    }
    if (w->owns && rc) {
        vtd_outfile_discard(&w->out);
    } else if (w->owns && vtd_outfile_commit(&w->out)) {
        fail(w->err, "%s", w->out.err);
        rc = -1;
    }
    if (rc)
        snprintf(err, VTRACE_ERR_LEN, "%s", w->err);
    vtd_free(w);
    return rc;
}

int vtrace_convert(const char *in, const char *out, char err[VTRACE_ERR_LEN])
{
    struct vtrace_reader *r = vtrace_open(in, err);
    if (!r)
        return -1;
    struct vtrace_writer *w = create_file(out, in, err);
    if (!w) {
        vtrace_close(r);
        return -1;
    }
    enum { CHUNK = 1024 };
    struct vtrace_event *ev = vtd_malloc(CHUNK * sizeof(*ev));
    long n = ev ? 0 : -1;
    int rc = 0;
    if (!ev) {
        fail(err, "out of memory");
        rc = -1;
    }
    while (!rc && (n = vtrace_read(r, ev, CHUNK)) > 0)
        for (long i = 0; i < n && !rc; i++)
            if (vtrace_write(w, &ev[i])) {
                snprintf(err, VTRACE_ERR_LEN, "%s", vtrace_writer_error(w));
                rc = -1;
            }
    if (!rc && n < 0) {
        snprintf(err, VTRACE_ERR_LEN, "%s", vtrace_error(r));
        rc = -1;
    }
    char ferr[VTRACE_ERR_LEN];
    if (rc) {
        vtrace_abandon(w);
    } else if (vtrace_finish(w, ferr)) {
        snprintf(err, VTRACE_ERR_LEN, "%s", ferr);
        rc = -1;
    }
    vtd_free(ev);
    vtrace_close(r);
    return rc;
}
