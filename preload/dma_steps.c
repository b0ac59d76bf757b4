/*
 * dma_steps.c: timed DMA steps (VTDSIM_DMA): DMA by the simulated devices at points of the
 * program's run that a test names without touching the program, read from a YAML file when the
 * machine is made:
 *
 *   steps:
 *     - after: {ioctl: VFIO_DEVICE_ATTACH_IOMMUFD_PT, count: 2}
 *       device: nic0
 *       pasid: 5
 *       write: 0x400000
 *       value: 0x77
 *       expect: ok
 *     - before: {call: 20}
 *       device: nic0
 *       pasid: 5
 *       read: 0x400000
 *       expect: fault
 *
 * A point is `after:` or `before:` the program's call number N (`call:`, as the report counts
 * calls) or the count-th call of an ioctl (`ioctl:` by the kernel's name or number; `count:`
 * 1 by default). A step runs once, in file order among the steps of one point; its answer goes
 * to stderr. An expectation it misses is a finding, and so is a step whose point never came.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "preload/internal.h"
#include "walker/alloc.h"
#include "walker/hostfile.h"
#include "walker/number.h"

#define PL_DMA_FILE_MAX (UINT64_C(1) << 20)

struct pl_step {
    struct pl_dma d;
    bool after, by_ioctl, fired;
    unsigned long request;  /* by_ioctl */
    uint64_t at;            /* the call number, or the ioctl's count */
    uint64_t seen;          /* calls of the ioctl so far */
    int expect;             /* an enum pl_outcome, or -1 */
    unsigned line, col;
};

struct pl_steps {
    struct pl_step *step;
    unsigned n;
};

/* The ioctls a step may name: every one the simulated files answer. */
static const struct {
    const char *name;
    unsigned long request;
} ioctl_names[] = {
#define N(x) { #x, x }
    N(VFIO_GET_API_VERSION), N(VFIO_CHECK_EXTENSION), N(VFIO_SET_IOMMU), N(VFIO_IOMMU_GET_INFO),
    N(VFIO_IOMMU_MAP_DMA), N(VFIO_IOMMU_UNMAP_DMA), N(VFIO_IOMMU_DIRTY_PAGES), N(VFIO_IOMMU_PASID_REQUEST),
    N(VFIO_IOMMU_NESTING_OP), N(VFIO_GROUP_GET_STATUS), N(VFIO_GROUP_SET_CONTAINER),
    N(VFIO_GROUP_UNSET_CONTAINER), N(VFIO_DEVICE_BIND_IOMMUFD), N(VFIO_DEVICE_ATTACH_IOMMUFD_PT),
    N(VFIO_DEVICE_DETACH_IOMMUFD_PT), N(IOMMU_DESTROY), N(IOMMU_IOAS_ALLOC), N(IOMMU_IOAS_IOVA_RANGES),
    N(IOMMU_IOAS_ALLOW_IOVAS), N(IOMMU_IOAS_MAP), N(IOMMU_IOAS_COPY), N(IOMMU_IOAS_UNMAP), N(IOMMU_OPTION),
    N(IOMMU_VFIO_IOAS), N(IOMMU_HWPT_ALLOC), N(IOMMU_GET_HW_INFO), N(IOMMU_HWPT_SET_DIRTY_TRACKING),
    N(IOMMU_HWPT_GET_DIRTY_BITMAP), N(IOMMU_HWPT_INVALIDATE), N(IOMMU_FAULT_QUEUE_ALLOC),
#undef N
};

/* The outcomes `expect:` names, indexed by enum pl_outcome. */
static const char *const outcome_name[] = { "ok", "stale", "dirty-lost", "fault", "page-request", "error" };

struct rd {
    yaml_document_t *doc;
    const struct vtd_preload *p;
    const char *path;
    char *err;
    size_t errlen;
};

static bool fail(struct rd *r, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct rd *r, const yaml_node_t *n, const char *fmt, ...)
{
    int k = snprintf(r->err, r->errlen, "%s:%zu:%zu: ", r->path, n->start_mark.line + 1, n->start_mark.column + 1);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < r->errlen)
        vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool number(struct rd *r, const yaml_node_t *n, const char *key, uint64_t max, uint64_t *v)
{
    const char *s = scalar(n);
    if (!s || vtd_number_parse(s, v))
        return fail(r, n, "%s: expected a number", key);
    if (*v > max)
        return fail(r, n, "%s: %s is above %llu", key, s, (unsigned long long)max);
    return true;
}

static bool ioctl_request(struct rd *r, const yaml_node_t *n, unsigned long *req)
{
    const char *s = scalar(n);
    uint64_t v;
    if (!s)
        return fail(r, n, "ioctl: expected an ioctl's name");
    for (size_t i = 0; i < sizeof ioctl_names / sizeof ioctl_names[0]; i++)
        if (!strcmp(s, ioctl_names[i].name))
            return *req = ioctl_names[i].request, true;
    if (!vtd_number_parse(s, &v) && v <= UINT32_MAX)
        return *req = (unsigned long)v, true;
    return fail(r, n, "ioctl: %s is not an ioctl of the simulated files (e.g. IOMMU_HWPT_INVALIDATE)", s);
}

/* after: / before: {call: N} or {ioctl: NAME, count: N} */
static bool point(struct rd *r, const yaml_node_t *n, struct pl_step *st)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(r, n, "%s: expected a mapping {call: N} or {ioctl: NAME, count: N}", st->after ? "after" : "before");
    bool call = false, ioctl = false, count = false;
    st->at = 1;
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
        const yaml_node_t *k = yaml_document_get_node(r->doc, q->key), *v = yaml_document_get_node(r->doc, q->value);
        const char *key = scalar(k);
        bool ok;
        if (key && !strcmp(key, "call"))
            ok = number(r, v, key, UINT64_MAX, &st->at) && (call = true);
        else if (key && !strcmp(key, "ioctl"))
            ok = ioctl_request(r, v, &st->request) && (ioctl = true);
        else if (key && !strcmp(key, "count"))
            ok = number(r, v, key, UINT64_MAX, &st->at) && (count = true);
        else
            return fail(r, k, "unknown key %s (call, ioctl, count)", key ? key : "(not a scalar)");
        if (!ok)
            return false;
    }
    if (call == ioctl || (call && count))
        return fail(r, n, "a point is {call: N} or {ioctl: NAME[, count: N]}");
    if (st->at == 0)
        return fail(r, n, "calls and counts start at 1");
    st->by_ioctl = ioctl;
    return true;
}

static bool expectation(struct rd *r, const yaml_node_t *n, int *expect)
{
    const char *s = scalar(n);
    for (int i = 0; s && i < (int)(sizeof outcome_name / sizeof outcome_name[0]); i++)
        if (!strcmp(s, outcome_name[i]))
            return *expect = i, true;
    return fail(r, n, "expect: expected ok, stale, dirty-lost, fault, page-request or error");
}

/* One key of a step. */
static bool step_key(struct rd *r, const char *key, const yaml_node_t *k, const yaml_node_t *v, struct pl_step *st,
                     unsigned *have)
{
    uint64_t x;
    if (!strcmp(key, "after") || !strcmp(key, "before")) {
        if (*have & 1)
            return fail(r, k, "a step has one point (after: or before:)");
        *have |= 1;
        st->after = key[0] == 'a';
        return point(r, v, st);
    }
    if (!strcmp(key, "read") || !strcmp(key, "write")) {
        if (*have & 2)
            return fail(r, k, "a step is one read: or write:");
        *have |= 2;
        st->d.write = key[0] == 'w';
        return number(r, v, key, UINT64_MAX, &st->d.addr);
    }
    if (!strcmp(key, "device")) {
        *have |= 4;
        if (!scalar(v) || !pl_find_device(r->p, scalar(v), &st->d.dev))
            return fail(r, v, "device: no such device in the machine file");
        return true;
    }
    if (!strcmp(key, "pasid")) {
        if (!number(r, v, key, (UINT64_C(1) << 20) - 1, &x))
            return false;
        st->d.pasid_valid = true;
        st->d.pasid = (uint32_t)x;
        return true;
    }
    if (!strcmp(key, "value"))
        return number(r, v, key, UINT64_MAX, &st->d.value);
    if (!strcmp(key, "size")) {
        if (!number(r, v, key, 8, &x) || (x != 1 && x != 2 && x != 4 && x != 8))
            return fail(r, v, "size: expected 1, 2, 4 or 8");
        st->d.size = (unsigned)x;
        return true;
    }
    if (!strcmp(key, "expect"))
        return expectation(r, v, &st->expect);
    return fail(r, k, "unknown key %s (after, before, device, pasid, read, write, value, size, expect)", key);
}

static bool step(struct rd *r, const yaml_node_t *n, struct pl_step *st)
{
    *st = (struct pl_step){ .d.size = 8, .expect = -1, .line = (unsigned)n->start_mark.line + 1,
                            .col = (unsigned)n->start_mark.column + 1 };
    if (n->type != YAML_MAPPING_NODE)
        return fail(r, n, "a step is a mapping");
    unsigned have = 0;
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
        const yaml_node_t *k = yaml_document_get_node(r->doc, q->key), *v = yaml_document_get_node(r->doc, q->value);
        if (!scalar(k))
            return fail(r, k, "a key is a plain word");
        if (!step_key(r, scalar(k), k, v, st, &have))
            return false;
    }
    if (have != 7)
        return fail(r, n, "a step needs %s", !(have & 1) ? "after: or before:" : !(have & 2) ? "read: or write:" : "device:");
    return true;
}

static bool document(struct rd *r, struct pl_steps *ss)
{
    const yaml_node_t *root = yaml_document_get_root_node(r->doc), *seq = NULL;
    if (!root || root->type != YAML_MAPPING_NODE)
        return snprintf(r->err, r->errlen, "%s:1:1: expected a mapping with steps:", r->path), false;
    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top; q++) {
        const yaml_node_t *k = yaml_document_get_node(r->doc, q->key);
        if (!scalar(k) || strcmp(scalar(k), "steps"))
            return fail(r, k, "unknown key %s (steps)", scalar(k) ? scalar(k) : "(not a scalar)");
        seq = yaml_document_get_node(r->doc, q->value);
    }
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return fail(r, seq ? seq : root, "steps: expected a sequence of steps");
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n && !(ss->step = vtd_calloc(n, sizeof *ss->step)))
        return snprintf(r->err, r->errlen, "%s: out of memory", r->path), false;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++)
        if (!step(r, yaml_document_get_node(r->doc, *i), &ss->step[ss->n++]))
            return false;
    return true;
}

/* The whole file in memory (a regular file only, never a FIFO or device: walker/hostfile.h). */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    char why[256];
    uint64_t size;
    FILE *f = vtd_fopen_regular(path, &size, why, sizeof why);
    if (!f)
        return snprintf(err, errlen, "%s: %s", path, why), NULL;
    char *buf = size <= PL_DMA_FILE_MAX ? vtd_malloc((size_t)size + 1) : NULL;
    size_t n = buf ? fread(buf, 1, (size_t)size + 1, f) : 0;
    fclose(f);
    if (size > PL_DMA_FILE_MAX)
        return snprintf(err, errlen, "%s: larger than %llu bytes", path, (unsigned long long)PL_DMA_FILE_MAX), NULL;
    if (!buf)
        return snprintf(err, errlen, "%s: out of memory", path), NULL;
    *len = n;
    return buf;
}

int pl_steps_load(struct vtd_preload *p, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = slurp(path, &len, err, errlen);
    if (!buf)
        return -1;
    yaml_parser_t parser;
    yaml_document_t doc;
    struct pl_steps *ss = vtd_calloc(1, sizeof *ss);
    int rc = -1;
    if (!ss || !yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        vtd_free(ss);
        vtd_free(buf);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "not YAML");
    } else {
        struct rd r = { &doc, p, path, err, errlen };
        if (document(&r, ss))
            rc = 0;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    vtd_free(buf);
    if (rc) {
        vtd_free(ss->step);
        vtd_free(ss);
        return -1;
    }
    p->steps = ss;
    return 0;
}

static void fire(struct vtd_preload *p, struct pl_step *st)
{
    char ans[PL_ANSWER_MAX];
    st->fired = true;
    enum pl_outcome out = pl_dma_run(p, &st->d, ans, sizeof ans);
    fprintf(stderr, "vtdsim-preload: dma step %s:%u:%u (call %llu): %s", p->dma_path, st->line, st->col,
            (unsigned long long)p->calls, ans);
    if (st->expect >= 0 && (enum pl_outcome)st->expect != out)
        pl_finding(p, "expectation: dma step %s:%u:%u (call %llu) expected %s, got %s", p->dma_path, st->line,
                   st->col, (unsigned long long)p->calls, outcome_name[st->expect], outcome_name[out]);
}

/* A call-numbered point that a call skipped (an open that failed early) is taken at the next one. */
static bool step_due(const struct vtd_preload *p, const struct pl_step *st, bool after)
{
    if (st->by_ioctl)
        return st->after == after && st->seen == st->at;
    if (!st->after)
        return !after && p->calls >= st->at;
    return p->calls > st->at || (after && p->calls == st->at);
}

void pl_steps_at(struct vtd_preload *p, bool after, bool is_ioctl, unsigned long request)
{
    struct pl_steps *ss = p->steps;
    if (!ss)
        return;
    for (unsigned i = 0; i < ss->n; i++) {
        struct pl_step *st = &ss->step[i];
        bool match = st->by_ioctl ? is_ioctl && st->request == request : true;
        if (!match || st->fired)
            continue;
        if (st->by_ioctl && !after)
            st->seen++;
        if (step_due(p, st, after))
            fire(p, st);
    }
}

void pl_steps_free(struct vtd_preload *p, bool ran)
{
    struct pl_steps *ss = p->steps;
    if (!ss)
        return;
    p->steps = NULL; /* the findings below may end the process: they must not be made twice */
    for (unsigned i = 0; ran && i < ss->n; i++)
        if (!ss->step[i].fired)
            pl_finding(p, "expectation: dma step %s:%u:%u never ran: its point did not come in %llu calls",
                       p->dma_path, ss->step[i].line, ss->step[i].col, (unsigned long long)p->calls);
    vtd_free(ss->step);
    vtd_free(ss);
}
