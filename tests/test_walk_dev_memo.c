/*
 * test_walk_dev_memo.c: the walker remembers where its last context and PASID fetches found
 * their entries and what they answered (struct vtd_walk_dev_memo), and answers a fetch with
 * the same inputs from there once every entry reads back the same. Root, context, PASID
 * directory and PASID table entries edited in memory between requests, without any
 * invalidation (the walker caches nothing a guest must invalidate), must be seen by the next
 * request, as a world forced onto the checked path (which never consults the memo) sees them;
 * so must a change of requester, PASID, capabilities or root table. Answers, faults, the
 * decoded context and PASID entry, and read counts of the two worlds are compared.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "walker/context_entry.h"
#include "walker/pasid_dir.h"
#include "walker/root_entry.h"
#include "world.h"
#include "xorshift.h"

#define UNUSED_PA UINT64_C(0x7f0000000000) /* far above every structure of the worlds */
#define PAGE_VA UINT64_C(0x40000000)
#define NPASIDS 3

enum { LEAN, CHECKED, NWORLDS };
/* Two devices sharing a root entry (its two halves), a third on another bus. */
static const uint16_t sids[] = {0x0110, 0x0188, 0x0200};
enum { NSIDS = sizeof sids / sizeof sids[0] };

static struct world worlds[NWORLDS];

static void teardown(void)
{
    for (unsigned i = 0; i < NWORLDS; i++)
        world_fini(&worlds[i]);
}

TestSuite(walk_dev_memo, .fini = teardown);

/* Each device with PASIDs 0 (its requests without PASID), 1 and 2: second-stage tables each
 * mapping PAGE_VA to a page of its own. */
static void build_worlds(void)
{
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct world *w = &worlds[k];
        cr_assert_eq(world_init(w, NULL), 0);
        w->env.trace = NULL;
        for (unsigned d = 0; d < NSIDS; d++) {
            struct vtd_ctx ctx;
            cr_assert_eq(world_device(w, sids[d], &ctx), 0);
            for (uint32_t p = 0; p < NPASIDS; p++) {
                struct vtd_pt fs, ss;
                struct vtd_pasid_cfg cfg;
                cr_assert_eq(world_pasid(w, &ctx, p, VTD_PGTT_SS, 4, 0, &fs, &ss, &cfg), 0);
                cr_assert_eq(vtd_pt_map(&ss, PAGE_VA, UINT64_C(0x80000000) + 0x1000 * (uint64_t)(d * NPASIDS + p),
                                        0x1000, 12, VTD_PERM_R | VTD_PERM_W, VTD_MAP_AD),
                             0);
            }
        }
    }
    cr_assert_eq(vtd_mem_set_abort(worlds[CHECKED].mem, UNUSED_PA, 0x1000, VTD_MEM_ABORT_READ), 0);
}

/* The host addresses of the structures on the way to (device d, pasid p) in world k. */
struct dev_path {
    uint64_t root, ctx, pdir, pasid;
};

static uint64_t read64(unsigned k, uint64_t addr)
{
    uint64_t v;
    cr_assert_eq(vtd_mem_read64(worlds[k].mem, addr, &v), 0);
    return v;
}

static struct dev_path dev_path(unsigned k, unsigned d, uint32_t p)
{
    struct dev_path at;
    uint8_t devfn = sids[d] & 0xff;
    at.root = vtd_root_entry_addr(worlds[k].rtaddr & VTD_RTADDR_RTA, (uint8_t)(sids[d] >> 8)) + (devfn & 0x80 ? 8 : 0);
    at.ctx = vtd_ctx_entry_addr(read64(k, at.root) & VTD_ROOT_CTP, devfn);
    at.pdir = vtd_pasid_dir_entry_addr(read64(k, at.ctx) & VTD_CTX_PDTP, p);
    at.pasid = vtd_pasid_entry_addr(read64(k, at.pdir) & VTD_PDIR_PTP, p);
    return at;
}

static void same_ctx(const struct vtd_ctx *a, const struct vtd_ctx *b)
{
    cr_assert(a->fpd == b->fpd && a->dte == b->dte && a->paside == b->paside && a->pre == b->pre &&
              a->rid_priv == b->rid_priv && a->pdts == b->pdts && a->pdtp == b->pdtp && a->rid_pasid == b->rid_pasid,
              "the decoded contexts differ");
}

static void same_pe(const struct vtd_pasid_cfg *a, const struct vtd_pasid_cfg *b)
{
    cr_assert(a->pgtt == b->pgtt && a->did == b->did && a->fpd == b->fpd && a->pwsnp == b->pwsnp &&
              a->pgsnp == b->pgsnp && a->ss_levels == b->ss_levels && a->ssptptr == b->ssptptr &&
              a->ssee == b->ssee && a->ssade == b->ssade && a->fs_levels == b->fs_levels &&
              a->fsptptr == b->fsptptr && a->sre == b->sre,
              "the decoded PASID entries differ");
}

/* Device d's request (PASID p, or none when p < 0) in both worlds: the same answer, fault,
 * decoded entries and read counts; returns the fault code. */
static int translate_both(unsigned d, int64_t p, unsigned access)
{
    struct vtd_xlate x[NWORLDS];
    int rc[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++)
        rc[k] = world_xlate(&worlds[k], sids[d], p, PAGE_VA + 0x40, access, false, &x[k]);
    cr_assert_eq(rc[LEAN], rc[CHECKED], "device %u pasid %d: %#x lean, %#x checked", d, (int)p, rc[LEAN], rc[CHECKED]);
    cr_assert_eq(x[LEAN].fault.code, x[CHECKED].fault.code);
    cr_assert_eq(x[LEAN].fault.addr, x[CHECKED].fault.addr);
    cr_assert_eq(x[LEAN].fault.level, x[CHECKED].fault.level);
    cr_assert_eq(x[LEAN].fault.suppressed, x[CHECKED].fault.suppressed, "device %u pasid %d: fault suppression", d,
                 (int)p);
    cr_assert_eq(x[LEAN].out, x[CHECKED].out);
    cr_assert_eq(x[LEAN].perm, x[CHECKED].perm);
    cr_assert_eq(x[LEAN].did, x[CHECKED].did);
    cr_assert_eq(x[LEAN].pgtt, x[CHECKED].pgtt);
    cr_assert_eq(x[LEAN].pasid, x[CHECKED].pasid);
    same_ctx(&x[LEAN].ctx, &x[CHECKED].ctx);
    same_pe(&x[LEAN].pe, &x[CHECKED].pe);
    const struct vtd_walk_counters *a = &worlds[LEAN].env.cnt, *b = &worlds[CHECKED].env.cnt;
    cr_assert_eq(a->reads, b->reads, "device %u pasid %d: %u reads lean, %u checked", d, (int)p, a->reads, b->reads);
    cr_assert(!memcmp(a->by_kind, b->by_kind, sizeof a->by_kind), "device %u pasid %d: reads by kind differ", d,
              (int)p);
    return rc[LEAN];
}

/* The request twice (the second through the memo) with the expected answer. */
static void expect_twice(unsigned d, int64_t p, int code)
{
    for (unsigned n = 0; n < 2; n++)
        cr_assert_eq(translate_both(d, p, VTD_ACC_R), code, "device %u pasid %d, request %u", d, (int)p, n);
}

/* XOR `bits` into the word at addr[k] in each world k. */
static void flip_both(const uint64_t addr[NWORLDS], uint64_t bits)
{
    for (unsigned k = 0; k < NWORLDS; k++)
        cr_assert_eq(vtd_mem_write64(worlds[k].mem, addr[k], read64(k, addr[k]) ^ bits), 0);
}

/* Which structure word of dev_path() an edit hits: `which` 0-3 for root, context, directory
 * and PASID entry, `qw` its word. */
static void word_at(unsigned d, uint32_t p, unsigned which, unsigned qw, uint64_t addr[NWORLDS])
{
    for (unsigned k = 0; k < NWORLDS; k++) {
        struct dev_path at = dev_path(k, d, p);
        const uint64_t base[] = {at.root, at.ctx, at.pdir, at.pasid};
        addr[k] = base[which] + 8 * qw;
    }
}

/* The memo serves the requests the tests make. */
Test(walk_dev_memo, repeated_requests_served_from_the_memo)
{
    build_worlds();
    expect_twice(0, 1, 0);
    const struct vtd_walk_dev_memo *m = &worlds[LEAN].env.host.dev_memo;
    cr_assert(m->ctx_valid && m->pe_valid);
    cr_assert_eq(m->sid, sids[0]);
    cr_assert_eq(m->pasid, 1);
}

/* Present cleared and a reserved bit set in each of the four entries, then undone: the next
 * request sees each, with the fault of that entry. */
Test(walk_dev_memo, entry_edits_seen)
{
    build_worlds();
    static const struct {
        unsigned which;
        uint64_t present, rsvd;
        int not_present, reserved;
    } entries[] = {
        {0, VTD_ROOT_P, VTD_BIT(5), VTD_FR_ROOT_P, VTD_FR_ROOT_RSVD},
        {1, VTD_CTX_P, VTD_BIT(7), VTD_FR_CTX_P, VTD_FR_CTX_RSVD},
        {2, VTD_PDIR_P, VTD_BIT(4), VTD_FR_PDIR_P, VTD_FR_PDIR_RSVD},
        {3, VTD_PE_P, VTD_BIT(10), VTD_FR_PASID_P, VTD_FR_PASID_RSVD},
    };
    for (unsigned e = 0; e < sizeof entries / sizeof entries[0]; e++) {
        uint64_t at[NWORLDS];
        word_at(1, 2, entries[e].which, 0, at);
        expect_twice(1, 2, 0);
        flip_both(at, entries[e].present);
        expect_twice(1, 2, entries[e].not_present);
        flip_both(at, entries[e].present);
        expect_twice(1, 2, 0);
        flip_both(at, entries[e].rsvd);
        expect_twice(1, 2, entries[e].reserved);
        flip_both(at, entries[e].rsvd);
        expect_twice(1, 2, 0);
    }
}

/* Fields the answer carries, edited: the PASID entry's DID and FPD, the directory's FPD (a
 * later fault is then suppressed), the context's PASIDE (requests with PASID refused) and its
 * RID_PASID (the PASID of requests without one). */
Test(walk_dev_memo, answer_fields_follow_the_entries)
{
    build_worlds();
    uint64_t pe0[NWORLDS], pe1[NWORLDS], pdir[NWORLDS], ctx0[NWORLDS], ctx1[NWORLDS];
    word_at(2, 1, 3, 0, pe0);
    word_at(2, 1, 3, 1, pe1);
    word_at(2, 1, 2, 0, pdir);
    word_at(2, 1, 1, 0, ctx0);
    word_at(2, 1, 1, 1, ctx1);
    expect_twice(2, 1, 0);
    flip_both(pe1, 0x40); /* DID 2 -> 0x42 */
    cr_assert_eq(translate_both(2, 1, VTD_ACC_R), 0);
    struct vtd_xlate x;
    cr_assert_eq(world_xlate(&worlds[LEAN], sids[2], 1, PAGE_VA, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(x.did, 0x42);
    /* A fault past the PASID stage (nothing mapped there) with FPD in the entry, then in the
     * directory: suppressed both times. */
    for (unsigned round = 0; round < 2; round++) {
        uint64_t *at = round ? pdir : pe0, bit = round ? VTD_PDIR_FPD : VTD_PE_FPD;
        flip_both(at, bit);
        for (unsigned k = 0; k < NWORLDS; k++) {
            cr_assert_neq(world_xlate(&worlds[k], sids[2], 1, PAGE_VA + 0x200000, VTD_ACC_R, false, &x), 0);
            cr_assert(x.fault.suppressed, "round %u", round);
        }
        translate_both(2, 1, VTD_ACC_R);
        flip_both(at, bit);
        cr_assert_eq(world_xlate(&worlds[LEAN], sids[2], 1, PAGE_VA + 0x200000, VTD_ACC_R, false, &x),
                     VTD_FR_READ);
        cr_assert(!x.fault.suppressed, "round %u", round);
    }
    flip_both(ctx0, VTD_CTX_PASIDE);
    expect_twice(2, 1, VTD_FR_CTX_PASIDE);
    flip_both(ctx0, VTD_CTX_PASIDE);
    expect_twice(2, -1, 0);
    flip_both(ctx1, 2); /* RID_PASID 0 -> 2 */
    expect_twice(2, -1, 0);
    cr_assert_eq(world_xlate(&worlds[LEAN], sids[2], -1, PAGE_VA, VTD_ACC_R, false, &x), 0);
    cr_assert_eq(x.pasid, 2);
    cr_assert_eq(x.out, UINT64_C(0x80000000) + 0x1000 * (2 * NPASIDS + 2));
}

/* Requesters and PASIDs in turn, the two sharing a root entry among them: each gets its own
 * page, never another's from the memo. */
Test(walk_dev_memo, requesters_and_pasids_in_turn)
{
    build_worlds();
    for (unsigned round = 0; round < 3; round++)
        for (unsigned d = 0; d < NSIDS; d++)
            for (int64_t p = -1; p < NPASIDS; p++) {
                cr_assert_eq(translate_both(d, p, VTD_ACC_R), 0);
                struct vtd_xlate x;
                cr_assert_eq(world_xlate(&worlds[LEAN], sids[d], p, PAGE_VA, VTD_ACC_R, false, &x), 0);
                cr_assert_eq(x.out, UINT64_C(0x80000000) + 0x1000 * (d * NPASIDS + (p < 0 ? 0 : p)));
            }
}

/* The capabilities and the root table changed between requests: without second-stage support
 * the PASID entries are invalid; a new, empty root table has no present entries. */
Test(walk_dev_memo, capabilities_and_root_table_changes_seen)
{
    build_worlds();
    expect_twice(0, 1, 0);
    for (unsigned k = 0; k < NWORLDS; k++)
        worlds[k].caps.ecap &= ~VTD_ECAP_SSTS;
    expect_twice(0, 1, VTD_FR_PASID_INVALID);
    for (unsigned k = 0; k < NWORLDS; k++)
        worlds[k].caps.ecap |= VTD_ECAP_SSTS;
    expect_twice(0, 1, 0);
    uint64_t old[NWORLDS];
    for (unsigned k = 0; k < NWORLDS; k++) {
        uint64_t page;
        cr_assert_eq(vtd_builder_alloc_page(&worlds[k].b, &page), 0);
        old[k] = worlds[k].rtaddr;
        worlds[k].rtaddr = page | (old[k] & ~VTD_RTADDR_RTA);
    }
    expect_twice(0, 1, VTD_FR_ROOT_P);
    for (unsigned k = 0; k < NWORLDS; k++)
        worlds[k].rtaddr = old[k];
    expect_twice(0, 1, 0);
}

static uint64_t rng_state;
static uint64_t rng(void) { return xorshift64(&rng_state); }

/*
 * Thousands of requests from the devices in turn, mostly repeating the last one (so that the
 * memo serves them), while a random bit of a random word of one of their root, context, PASID
 * directory and PASID entries is flipped between requests and flipped back at the next edit:
 * both worlds answer the same at every step.
 */
Test(walk_dev_memo, random_requests_and_entry_bit_flips)
{
    build_worlds();
    rng_state = 0x853c49e6748fea9b;
    static const unsigned words[] = {1, 4, 1, 8}; /* the words each entry has */
    uint64_t edited[NWORLDS], bit = 0;
    unsigned d = 0, served = 0, edits = 0;
    int64_t p = 1;
    for (unsigned n = 0; n < 6000; n++) {
        uint64_t r = rng();
        if ((r & 3) == 0) {
            d = (unsigned)(r >> 4) % NSIDS;
            p = (int64_t)((r >> 8) % (NPASIDS + 1)) - 1;
        }
        if ((r >> 12) % 25 == 0) {
            if (bit)
                flip_both(edited, bit); /* the previous edit undone */
            unsigned which = (unsigned)(r >> 20) % 4;
            word_at((unsigned)(r >> 16) % NSIDS, (uint32_t)(r >> 24) % NPASIDS, which,
                    (unsigned)(r >> 28) % words[which], edited);
            /* Mostly the low bits, where the flags and fields are. */
            bit = UINT64_C(1) << ((r >> 40) & 1 ? (r >> 41) % 16 : (r >> 41) % 64);
            flip_both(edited, bit);
            edits++;
        }
        served += translate_both(d, p, (r >> 50) & 1 ? VTD_ACC_W : VTD_ACC_R) == 0;
    }
    cr_assert_gt(edits, 100);
    cr_assert_gt(served, 2000, "only %u of the requests translated", served);
}
