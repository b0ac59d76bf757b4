/*
 * dirty_pages.c: the pages a replay saw written and reported (trace/dirty_pages.h).
 */
#include "trace/dirty_pages.h"

#include "walker/alloc.h"

static size_t slot_of(uint64_t key, size_t cap) { return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 17) & (cap - 1); }

static struct vtrace_page_slot *find_or_add(struct vtrace_dirty_pages *d, uint64_t key);

static bool grow(struct vtrace_dirty_pages *d)
{
    size_t cap = d->cap ? 2 * d->cap : 1024;
    struct vtrace_page_slot *old = d->slot, *s = vtd_calloc(cap, sizeof *s);
    if (!s)
        return false;
    size_t oldcap = d->cap;
    d->slot = s;
    d->cap = cap;
    d->n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key) {
            struct vtrace_page_slot *n = find_or_add(d, old[i].key);
            n->written = old[i].written;
            n->reported = old[i].reported;
        }
    vtd_free(old);
    return true;
}

/* The slot of `key`, made empty-valued when new (the table has room: the caller grew it). */
static struct vtrace_page_slot *find_or_add(struct vtrace_dirty_pages *d, uint64_t key)
{
    for (size_t i = slot_of(key, d->cap);; i = (i + 1) & (d->cap - 1)) {
        if (d->slot[i].key == key)
            return &d->slot[i];
        if (!d->slot[i].key) {
            d->slot[i].key = key;
            d->n++;
            return &d->slot[i];
        }
    }
}

static struct vtrace_page_slot *page_slot(struct vtrace_dirty_pages *d, uint32_t space, uint64_t page)
{
    if (2 * (d->n + 1) > d->cap && !grow(d))
        return NULL;
    return find_or_add(d, ((uint64_t)space << 45 | page) + 1);
}

bool vtrace_dirty_write(struct vtrace_dirty_pages *d, uint32_t space, uint64_t page)
{
    struct vtrace_page_slot *s = page_slot(d, space, page);
    if (s)
        s->written = ++d->clock;
    return s != NULL;
}

bool vtrace_dirty_report(struct vtrace_dirty_pages *d, uint32_t space, uint64_t page)
{
    struct vtrace_page_slot *s = page_slot(d, space, page);
    if (s)
        s->reported = d->clock;
    return s != NULL;
}

void vtrace_dirty_tick(struct vtrace_dirty_pages *d) { d->clock++; }

void vtrace_dirty_count(const struct vtrace_dirty_pages *d, uint64_t *written, uint64_t *reported, uint64_t *lost)
{
    *written = *reported = *lost = 0;
    for (size_t i = 0; i < d->cap; i++) {
        const struct vtrace_page_slot *s = &d->slot[i];
        if (!s->key)
            continue;
        *written += s->written != 0;
        *reported += s->reported != 0;
        *lost += s->written && s->written > s->reported;
    }
}

void vtrace_dirty_free(struct vtrace_dirty_pages *d)
{
    vtd_free(d->slot);
    *d = (struct vtrace_dirty_pages){0};
}
