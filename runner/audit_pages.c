/*
 * audit_pages.c: page-table pages freed and written again, the third reuse the run's audit
 * (`vtdsim run --audit`) follows. A `write_pte` that clears a present non-leaf entry (or points
 * it elsewhere) unlinks the table page below it: the page is free, but the paging-structure
 * caches and the IOTLB may still hold entries read from it (VT-d 6.2.4) until an invalidation of
 * the range the entry mapped, with IH clear (IH 1 keeps the paging-structure caches, 6.5.2.3),
 * or of the whole space, has completed (a wait after it, 6.5.2.8). Linux frees such pages only
 * after that flush (iommu_put_pages_list after the IOTLB sync). Writing the page before, as a
 * table (`write_pte` into it, `write_mem`) or mapping it as data (`map` with its `pa`), is a
 * finding naming the missing descriptor.
 */
#include <errno.h>
#include <stdio.h>

#include "runner/run_internal.h"
#include "sim/audit.h"
#include "sim/qi_desc.h"
#include "walker/alloc.h"
#include "walker/fs_entry.h"
#include "walker/ss_entry.h"

#define PAGE_SIZE 4096u

/* A freed page and one address space that may still cache entries read from it. */
struct freed {
    uint64_t page;          /* host-physical address of the freed table page */
    uint64_t va, size;      /* the range the cleared entry mapped */
    unsigned level;         /* of the cleared entry */
    uint16_t did;
    uint32_t tag;           /* VTD_AUDIT_NO_PASID: tagged by DID only */
    unsigned step;          /* the write_pte that freed it */
    unsigned inv_step;      /* the covering invalidation, 0: none yet */
};

struct ex_audit_pages {
    struct freed *f;
    unsigned n, cap;
    uint64_t findings;
};

struct ex_audit_pages *ex_audit_pages_new(void) { return vtd_calloc(1, sizeof(struct ex_audit_pages)); }

void ex_audit_pages_free(struct ex_audit_pages *t)
{
    if (t)
        vtd_free(t->f);
    vtd_free(t);
}

uint64_t ex_audit_pages_findings(const struct ex_audit_pages *t) { return t ? t->findings : 0; }

/* The table page a present non-leaf entry points at, else 0 (no page is at host address 0). */
static uint64_t child_page(bool fs, uint64_t v, unsigned level)
{
    if (fs)
        return vtd_fs_entry_present(v) && !vtd_fs_entry_is_leaf(v, level) ? v & VTD_FS_ADDR : 0;
    return vtd_ss_entry_present(v, true) && !vtd_ss_entry_is_leaf(v, level) ? v & VTD_SS_ADDR : 0;
}

int ex_audit_pages_unlink(struct ex *e, struct ex_audit_pages *t, const struct sc_step *st, const struct outcome *o,
                          uint16_t did, uint32_t tag)
{
    unsigned level = (unsigned)ARGV(st, A_LEVEL);
    bool fs = e->s->tab[ARGV(st, A_TABLE)].first_stage;
    uint64_t old = child_page(fs, o->edit_old, level);
    if (level < 2 || !old || old == child_page(fs, o->edit_new, level))
        return 0;
    uint64_t size = UINT64_C(1) << (12 + 9 * (level - 1));
    if (!vtd_grow_array((void **)&t->f, &t->cap, t->n, sizeof(*t->f)))
        return -ENOMEM;
    t->f[t->n++] = (struct freed){.page = old, .va = ARGV(st, A_VA) & ~(size - 1), .size = size, .level = level,
                                  .did = did, .tag = tag, .step = e->step_no};
    return 0;
}

/* The descriptor that would have removed what the space cached from the page. */
static struct vtd_desc page_fix(const struct freed *f)
{
    unsigned am = 9 * (f->level - 1);
    if (f->tag == VTD_AUDIT_NO_PASID)
        return vtd_desc_iotlb(VTD_QI_IOTLB_G_PAGE, f->did, f->va, am, false, false, false);
    return vtd_desc_p_iotlb(VTD_QI_PIOTLB_G_PAGE, f->did, f->tag, f->va, am, false);
}

static void report(struct ex *e, struct ex_audit_pages *t, const struct freed *f, const char *how)
{
    char missing[160], line[512];
    struct vtd_desc d = f->inv_step ? vtd_desc_wait(0, 0, 0) : page_fix(f);
    vtd_qi_describe(d.qw, d.nqw, missing, sizeof missing);
    char space[40];
    if (f->tag == VTD_AUDIT_NO_PASID)
        snprintf(space, sizeof space, "DID %u", (unsigned)f->did);
    else
        snprintf(space, sizeof space, "DID %u PASID %u", (unsigned)f->did, (unsigned)f->tag);
    snprintf(line, sizeof line,
             "freed table page written: 0x%llx (the level-%u table under %s 0x%llx-0x%llx), unlinked at step %u, %s "
             "at step %u%s; missing: %s",
             (unsigned long long)f->page, f->level - 1, space, (unsigned long long)f->va,
             (unsigned long long)(f->va + f->size - 1), f->step, how, e->step_no,
             f->inv_step ? ", its invalidation not waited for" : ", before an invalidation covering it", missing);
    ex_audit_found(e, line);
    t->findings++;
}

/* [addr, addr + len) of memory was written (`how`: as what): every freed page in it is reused. */
void ex_audit_pages_write(struct ex *e, struct ex_audit_pages *t, uint64_t addr, uint64_t len, const char *how)
{
    if (!len)
        return;
    for (unsigned i = 0; i < t->n;) {
        struct freed *f = &t->f[i];
        if (f->page + PAGE_SIZE - 1 < addr || f->page > addr + (len - 1)) {
            i++;
            continue;
        }
        report(e, t, f, how);
        t->f[i] = t->f[--t->n];
    }
}

/* Whether an IOTLB-level descriptor removes what the space cached from the page: all of the
 * space, or a page-selective one over the entry's range with IH clear. */
static bool covers(const uint64_t *qw, const struct freed *f)
{
    unsigned type = vtd_desc_type(qw[0]);
    uint64_t last = f->va + f->size - 1;
    if (type == VTD_QI_IOTLB) {
        struct vtd_desc_iotlb_fields d = vtd_desc_iotlb_decode(qw);
        if (d.g == VTD_QI_IOTLB_G_GLOBAL)
            return true;
        if (d.did != f->did)
            return false;
        if (d.g == VTD_QI_IOTLB_G_DOMAIN)
            return true;
        struct vtd_qi_range r = vtd_qi_am_range(d.addr, d.am);
        return d.g == VTD_QI_IOTLB_G_PAGE && !d.ih && r.first <= f->va && r.last >= last;
    }
    if (type != VTD_QI_PIOTLB)
        return false;
    struct vtd_desc_p_iotlb_fields d = vtd_desc_p_iotlb_decode(qw);
    if (d.did != f->did || d.pasid != f->tag)
        return false;
    if (d.g == VTD_QI_PIOTLB_G_PASID)
        return true;
    struct vtd_qi_range r = vtd_qi_am_range(d.addr, d.am);
    return d.g == VTD_QI_PIOTLB_G_PAGE && !d.ih && r.first <= f->va && r.last >= last;
}

void ex_audit_pages_desc(struct ex *e, struct ex_audit_pages *t, const uint64_t *qw)
{
    bool wait = vtd_desc_type(qw[0]) == VTD_QI_WAIT;
    for (unsigned i = 0; i < t->n;) {
        struct freed *f = &t->f[i];
        if (wait && f->inv_step) {
            t->f[i] = t->f[--t->n]; /* free for good */
            continue;
        }
        if (!wait && !f->inv_step && covers(qw, f))
            f->inv_step = e->step_no;
        i++;
    }
}
