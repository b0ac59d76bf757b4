/* alloc.c: allocation wrappers with fail_nth-style injection (see alloc.h). */
#include "walker/alloc.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local uint64_t alloc_count;
static _Thread_local uint64_t alloc_fail_at;
static _Thread_local bool alloc_delivered;
static _Thread_local int64_t alloc_live;

/* Counts an allocation attempt; true when this one is the one to fail. */
static bool alloc_should_fail(void)
{
    alloc_count++;
    if (alloc_fail_at && alloc_count == alloc_fail_at) {
        alloc_delivered = true;
        return true;
    }
    return false;
}

/* Counts a block that now exists. */
static void *alloc_track(void *p)
{
    if (p)
        alloc_live++;
    return p;
}

void *vtd_malloc(size_t size)
{
    return alloc_should_fail() ? NULL : alloc_track(malloc(size));
}

void *vtd_calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? NULL : alloc_track(calloc(n, size));
}

void *vtd_realloc(void *p, size_t size)
{
    if (!p)
        return vtd_malloc(size);
    /* A failed realloc leaves the old block alive, a successful one replaces it. */
    return alloc_should_fail() ? NULL : realloc(p, size);
}

bool vtd_grow_array(void **arr, unsigned *cap, unsigned n, size_t elem)
{
    if (n < *cap)
        return true;
    unsigned ncap = *cap ? *cap * 2 : 8;
    if (ncap <= *cap || (size_t)ncap > SIZE_MAX / elem)
        return false;
    void *p = vtd_realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

char *vtd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = vtd_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void vtd_free(void *p)
{
    if (p)
        alloc_live--;
    free(p);
}

void vtd_alloc_fail_nth(uint64_t nth)
{
    alloc_count = 0;
    alloc_fail_at = nth;
    alloc_delivered = false;
}

uint64_t vtd_alloc_count(void)
{
    return alloc_count;
}

bool vtd_alloc_fault_delivered(void)
{
    return alloc_delivered;
}

int64_t vtd_alloc_live(void)
{
    return alloc_live;
}
