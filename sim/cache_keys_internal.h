/*
 * cache_keys_internal.h: what each of the IOMMU's caches is tagged by (VT-d 6.2), as one struct per cache
 * with its pack (into the generic cache's four-word key, sim/cache.h) and unpack, and the
 * constructor the translation path uses. This is the only file that knows which key word holds
 * which tag; everyone else reads keys through the unpack functions. Not a public interface.
 *
 * Everything is inline: the constructors run on the translation hot path.
 */
#ifndef VTDSIM_SIM_CACHE_KEYS_H
#define VTDSIM_SIM_CACHE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cache.h"
#include "walker/bits.h"

/* IOTLB and device-TLB entries made without a PASID tag (second-stage only, pass-through, or a
 * device TLB entry for a request without PASID). */
#define VTD_TAG_NO_PASID UINT64_C(0xFFFFFFFF)

static inline bool cache_key_equal(const struct vtd_cache_key *a, const struct vtd_cache_key *b)
{
    return a->w[0] == b->w[0] && a->w[1] == b->w[1] && a->w[2] == b->w[2] && a->w[3] == b->w[3];
}

/* ---- context cache: tagged by source-id (scalable-mode context entries carry no DID) ---- */
struct ctx_cache_tag {
    uint16_t sid;
};
static inline struct vtd_cache_key ctx_cache_tag_pack(struct ctx_cache_tag t)
{
    return (struct vtd_cache_key){{t.sid, 0, 0, 0}};
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
    return (struct vtd_cache_key){{t.sid, t.pasid, 0, 0}};
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
static inline struct vtd_cache_key iec_tag_pack(struct iec_tag t) { return (struct vtd_cache_key){{t.index, 0, 0, 0}}; }
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
    return (struct vtd_cache_key){{t.did, t.pasid_tag, t.page, t.shift}};
}
static inline struct iotlb_tag iotlb_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct iotlb_tag){.did = (uint16_t)k->w[0], .pasid_tag = k->w[1], .page = k->w[2], .shift = (unsigned)k->w[3]};
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
    return (struct vtd_cache_key){{t.did, t.pasid, t.level, t.index}};
}
static inline struct psc_fs_tag psc_fs_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct psc_fs_tag){.did = (uint16_t)k->w[0], .pasid = (uint32_t)k->w[1], .level = (unsigned)k->w[2],
                               .index = k->w[3]};
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
    return (struct vtd_cache_key){{t.did, t.level, t.index, 0}};
}
static inline struct psc_ss_tag psc_ss_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct psc_ss_tag){.did = (uint16_t)k->w[0], .level = (unsigned)k->w[1], .index = k->w[2]};
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
    return (struct vtd_cache_key){{t.pasid_tag, t.page, t.shift, 0}};
}
static inline struct devtlb_tag devtlb_tag_unpack(const struct vtd_cache_key *k)
{
    return (struct devtlb_tag){.pasid_tag = k->w[0], .page = k->w[1], .shift = (unsigned)k->w[2]};
}
static inline struct vtd_cache_key devtlb_key(uint64_t pasid_tag, uint64_t addr, unsigned shift)
{
    return devtlb_tag_pack((struct devtlb_tag){pasid_tag, addr >> shift, shift});
}

/* The key word that holds a page shift (IOTLB, device TLB) or a level (paging-structure caches):
 * what vtd_cache_count_classes() counts entries by, so that lookups skip absent sizes. */
#define IOTLB_KEY_SHIFT_WORD 3u
#define DEVTLB_KEY_SHIFT_WORD 2u
#define PSC_FS_KEY_LEVEL_WORD 2u
#define PSC_SS_KEY_LEVEL_WORD 1u
#define KEY_WORD_NONE 4u

#endif
