/*
 * cache_keys_internal.h: what each of the IOMMU's caches is tagged by (VT-d 6.2), as one struct per cache
 * with its pack (into the generic cache's two-word key, sim/cache.h) and unpack, and the
 * constructor the translation path uses. This is the only file that knows which key bits hold
 * which tag; everyone else reads keys through the unpack functions. Not a public interface.
 *
 * Every tag fits two words: word 0 holds the small tags (a page shift or a level in its low
 * byte, whose low three bits are the class the cache counts entries by, then a DID, then a
 * PASID or PASID tag), word 1 a page number or table index. Two words, not four, keep an IOTLB
 * entry to one host cache line (sim/cache.h).
 *
 * Everything is inline: the constructors run on the translation hot path.
 */
#ifndef VTDSIM_SIM_CACHE_KEYS_H
#define VTDSIM_SIM_CACHE_KEYS_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/cache.h"
#include "walker/bits.h"

/* IOTLB and device-TLB entries made without a PASID tag (second-stage only, pass-through, or a
 * device TLB entry for a request without PASID). */
#define VTD_TAG_NO_PASID UINT64_C(0xFFFFFFFF)

static inline bool cache_key_equal(const struct vtd_cache_key *a, const struct vtd_cache_key *b)
{
    return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

/* Word 0's fields: the class byte (page shift or level), the DID above it, then the PASID or
 * PASID tag (32 bits: VTD_TAG_NO_PASID included). */
#define KEY_CLASS_BITS 8u
#define KEY_DID_SHIFT 8u
#define KEY_PASID_SHIFT 24u
static inline uint64_t key_word0(unsigned cls, uint16_t did, uint64_t pasid_tag)
{
    assert(cls <= 0xffu && pasid_tag <= 0xffffffffu);
    return (uint64_t)(cls & 0xffu) | (uint64_t)did << KEY_DID_SHIFT | (pasid_tag & 0xffffffffu) << KEY_PASID_SHIFT;
}
static inline unsigned key_class(uint64_t w0) { return (unsigned)(w0 & 0xffu); }
static inline uint16_t key_did(uint64_t w0) { return (uint16_t)(w0 >> KEY_DID_SHIFT); }
static inline uint64_t key_pasid_tag(uint64_t w0) { return (w0 >> KEY_PASID_SHIFT) & 0xffffffffu; }

/* ---- context cache: tagged by source-id (scalable-mode context entries carry no DID) ---- */
struct ctx_cache_tag {
    uint16_t sid;
};
static inline struct vtd_cache_key ctx_cache_tag_pack(struct ctx_cache_tag t)
{
    return (struct vtd_cache_key){{t.sid, 0}};
}
static inline struct ctx_cache_tag ctx_cache_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct ctx_cache_tag){.sid = (uint16_t)k->w[0]};
}
static inline struct vtd_cache_key ctx_cache_key(uint16_t sid) { return ctx_cache_tag_pack((struct ctx_cache_tag){sid}); }

/* ---- PASID cache: looked up per source-id and PASID (its DID tag is the payload's pe.did) ---- */
struct pasid_cache_tag {
    uint16_t sid;
    uint32_t pasid;
};
static inline struct vtd_cache_key pasid_cache_tag_pack(struct pasid_cache_tag t)
{
    return (struct vtd_cache_key){{t.sid, t.pasid}};
}
static inline struct pasid_cache_tag pasid_cache_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct pasid_cache_tag){.sid = (uint16_t)k->w[0], .pasid = (uint32_t)k->w[1]};
}
static inline struct vtd_cache_key pasid_cache_key(uint16_t sid, uint32_t pasid)
{
    return pasid_cache_tag_pack((struct pasid_cache_tag){sid, pasid});
}

/* ---- interrupt entry cache: the interrupt index (6.2.6) ---- */
struct iec_tag {
    uint32_t index;
};
static inline struct vtd_cache_key iec_tag_pack(struct iec_tag t) { return (struct vtd_cache_key){{t.index, 0}}; }
static inline struct iec_tag iec_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct iec_tag){.index = (uint32_t)k->w[0]};
}
static inline struct vtd_cache_key iec_key(uint32_t index) { return iec_tag_pack((struct iec_tag){index}); }

/* ---- IOTLB: DID, PASID tag (VTD_TAG_NO_PASID for second-stage-only and pass-through
 * entries), page number and page size ---- */
struct iotlb_tag {
    uint16_t did;
    uint64_t pasid_tag;
    uint64_t page;   /* input address >> shift */
    unsigned shift;  /* page size: 12, 21 or 30 */
};
static inline struct vtd_cache_key iotlb_tag_pack(struct iotlb_tag t)
{
    return (struct vtd_cache_key){{key_word0(t.shift, t.did, t.pasid_tag), t.page}};
}
static inline struct iotlb_tag iotlb_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct iotlb_tag){.did = key_did(k->w[0]), .pasid_tag = key_pasid_tag(k->w[0]), .page = k->w[1],
                              .shift = key_class(k->w[0])};
}
static inline struct vtd_cache_key iotlb_key(uint16_t did, uint64_t pasid_tag, uint64_t addr, unsigned shift)
{
    return iotlb_tag_pack((struct iotlb_tag){did, pasid_tag, addr >> shift, shift});
}

/* ---- first-stage paging-structure cache: DID, PASID, the level of the cached entry and the
 * input bits above that level's region ---- */
struct psc_fs_tag {
    uint16_t did;
    uint32_t pasid;
    unsigned level;
    uint64_t index;  /* input address >> vtd_pt_level_shift(level) */
};
static inline struct vtd_cache_key psc_fs_tag_pack(struct psc_fs_tag t)
{
    return (struct vtd_cache_key){{key_word0(t.level, t.did, t.pasid), t.index}};
}
static inline struct psc_fs_tag psc_fs_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct psc_fs_tag){.did = key_did(k->w[0]), .pasid = (uint32_t)key_pasid_tag(k->w[0]),
                               .level = key_class(k->w[0]), .index = k->w[1]};
}
static inline struct vtd_cache_key psc_fs_key(uint16_t did, uint32_t pasid, unsigned level, uint64_t va)
{
    return psc_fs_tag_pack((struct psc_fs_tag){did, pasid, level, va >> vtd_pt_level_shift(level)});
}

/* ---- second-stage paging-structure cache: DID, level, input bits above the level (no PASID) ---- */
struct psc_ss_tag {
    uint16_t did;
    unsigned level;
    uint64_t index;  /* guest-physical address >> vtd_pt_level_shift(level) */
};
static inline struct vtd_cache_key psc_ss_tag_pack(struct psc_ss_tag t)
{
    return (struct vtd_cache_key){{key_word0(t.level, t.did, 0), t.index}};
}
static inline struct psc_ss_tag psc_ss_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct psc_ss_tag){.did = key_did(k->w[0]), .level = key_class(k->w[0]), .index = k->w[1]};
}
static inline struct vtd_cache_key psc_ss_key(uint16_t did, unsigned level, uint64_t gpa)
{
    return psc_ss_tag_pack((struct psc_ss_tag){did, level, gpa >> vtd_pt_level_shift(level)});
}

/* ---- device TLB (in the device): PASID tag, page number, page size ---- */
struct devtlb_tag {
    uint64_t pasid_tag;
    uint64_t page;   /* input address >> shift */
    unsigned shift;
};
static inline struct vtd_cache_key devtlb_tag_pack(struct devtlb_tag t)
{
    return (struct vtd_cache_key){{key_word0(t.shift, 0, t.pasid_tag), t.page}};
}
static inline struct devtlb_tag devtlb_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct devtlb_tag){.pasid_tag = key_pasid_tag(k->w[0]), .page = k->w[1], .shift = key_class(k->w[0])};
}
static inline struct vtd_cache_key devtlb_key(uint64_t pasid_tag, uint64_t addr, unsigned shift)
{
    return devtlb_tag_pack((struct devtlb_tag){pasid_tag, addr >> shift, shift});
}

/* The key word whose low bits hold a page shift (IOTLB, device TLB) or a level (paging-structure
 * caches), the same word for every cache that has one: what vtd_cache_count_classes() counts
 * entries by, so that lookups skip absent sizes. KEY_WORD_NONE: a cache without classes. */
#define KEY_CLASS_WORD 0u
#define KEY_WORD_NONE VTD_CACHE_KEY_WORDS

#endif
