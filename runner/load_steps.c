/*
 * load_steps.c: the `steps:` sequence: one table of keys per step kind, the checks that need
 * several keys at once, and `repeat` blocks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/vfio.h>

#include "runner/load_internal.h"
#include "runner/suggest.h"
#include <linux/iommufd_vtd.h>
#include "walker/alloc.h"

enum { S_EXPECT = A_MAX, S_RAW, S_STEPS, S_ENTRIES, S_QWORDS, S_HEX };
_Static_assert(S_HEX < VALS_MAX, "a step's keys must fit struct vals");

static const struct name_val access_names[] = {{"read", VTD_ACC_R}, {"write", VTD_ACC_W}, {"exec", VTD_ACC_X}, {NULL, 0}};
static const struct name_val ats_names[] = {
    {"none", VTD_REQ_UNTRANSLATED}, {"translate", VTD_REQ_TRANSLATION}, {"translated", VTD_REQ_TRANSLATED}, {NULL, 0},
};
static const struct name_val pgtt_names[] = {{"fs", 1}, {"ss", 2}, {"nested", 3}, {"pt", 4}, {NULL, 0}};
/* Legacy context entry translation types (VT-d 9.3 TT). */
static const struct name_val tt_names[] = {{"untranslated", 0}, {"all", 1}, {"pass-through", 2}, {NULL, 0}};
static const struct name_val half_names[] = {{"lo", 0}, {"hi", 1}, {NULL, 0}};
static const struct name_val qi_type_names[] = {
    {"cc", 1}, {"iotlb", 2}, {"devtlb", 3}, {"iec", 4}, {"wait", 5}, {"p_iotlb", 6}, {"pc", 7}, {"p_devtlb", 8},
    {"pgrp_resp", 9}, {NULL, 0},
};
/* Granularity names; a number is taken as the raw G field. */
static const struct name_val gran_names[] = {
    {"global", SC_GRAN_GLOBAL}, {"domain", SC_GRAN_DOMAIN}, {"device", SC_GRAN_DEVICE}, {"page", SC_GRAN_PAGE},
    {"pasid", SC_GRAN_PASID}, {"index", SC_GRAN_INDEX}, {NULL, 0},
};

#define ARG(k, t, id) {k, t, id, false, 0, 0, NULL}
#define ARGR(k, t, id) {k, t, id, true, 0, 0, NULL}
#define ARGN(k, id, lo, hi) {k, T_U64, id, false, lo, hi, NULL}
#define ARGE(k, id, names) {k, T_ENUM, id, false, 0, 0, names}
#define EXPECT {"expect", T_MAP, S_EXPECT, false, 0, 0, NULL}
#define DEVICE ARGR("device", T_DEVICE, A_DEVICE)
#define PASIDR {"pasid", T_PASID, A_PASID, true, 0, 0, NULL}
#define EDIT_VALUE ARG("value", T_U64, A_VALUE), ARG("set", T_U64, A_SET), ARG("clear", T_U64, A_CLEAR)

static const struct field attach_fields[] = {
    DEVICE, ARGN("pdts", A_PDTS, 0, 7), ARG("paside", T_BOOL, A_PASIDE), ARG("dte", T_BOOL, A_DTE),
    ARG("pre", T_BOOL, A_PRE), ARG("fpd", T_BOOL, A_FPD), ARGN("rid_pasid", A_RID_PASID, 0, 0xFFFFF),
    ARG("rid_priv", T_BOOL, A_RID_PRIV), ARGE("tt", A_TT, tt_names), ARG("table", T_SSTABLE, A_TABLE),
    ARGN("did", A_DID, 0, 0xFFFF), EXPECT,
};
static const struct field pasid_entry_fields[] = {
    DEVICE, PASIDR, {"pgtt", T_ENUM, A_PGTT, true, 0, 7, pgtt_names}, ARG("table", T_TABLE, A_TABLE),
    ARG("ss_table", T_SSTABLE, A_SS_TABLE), ARGN("did", A_DID, 0, 0xFFFF), ARG("fpd", T_BOOL, A_FPD),
    ARG("sre", T_BOOL, A_SRE), ARG("wpe", T_BOOL, A_WPE), ARG("ssee", T_BOOL, A_SSEE), ARG("ssade", T_BOOL, A_SSADE),
    ARG("eafe", T_BOOL, A_EAFE), ARG("ere", T_BOOL, A_ERE), ARG("nxe", T_BOOL, A_NXE), ARG("smep", T_BOOL, A_SMEP),
    ARG("pwsnp", T_BOOL, A_PWSNP), ARG("pgsnp", T_BOOL, A_PGSNP), EXPECT,
};
static const struct field pasid_clear_fields[] = {DEVICE, PASIDR, EXPECT};
static const struct field map_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), ARGR("pa", T_U64, A_PA),
    {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL}, ARG("page", T_PAGE, A_PAGE), ARGR("perm", T_PERM, A_PERM),
    ARG("ad", T_BOOL, A_AD), ARG("snp", T_BOOL, A_SNP), EXPECT,
};
static const struct field unmap_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL},
    EXPECT,
};
static const struct field protect_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"size", T_SIZE, A_SIZE, true, 1, UINT64_MAX, NULL},
    ARGR("perm", T_PERM, A_PERM), EXPECT,
};
static const struct field dma_fields[] = {
    DEVICE, {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARGR("addr", T_U64, A_ADDR),
    {"size", T_SIZE, A_SIZE, false, 1, UINT64_C(1) << 32, NULL}, {"access", T_ENUM, A_ACCESS, true, 0, 0, access_names},
    ARG("priv", T_BOOL, A_PRIV), ARGE("ats", A_ATS, ats_names), EXPECT,
};
/* A qi step's descriptor fields; an `expect: descriptors` entry has these and no `expect`. */
#define QI_ARGS \
    {"type", T_ENUM, A_TYPE, false, 0, 15, qi_type_names}, {"granularity", T_ENUM, A_GRAN, false, 0, 3, gran_names}, \
    ARGN("did", A_DID, 0, 0xFFFF), {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARG("addr", T_U64, A_ADDR), \
    {"size", T_SIZE, A_SIZE, false, 0x1000, UINT64_MAX, NULL}, ARGN("am", A_AM, 0, 63), ARG("ih", T_BOOL, A_IH), \
    ARG("device", T_DEVICE, A_DEVICE), ARG("sid", T_BDF, A_SID), ARG("s", T_BOOL, A_S), ARG("g", T_BOOL, A_G), \
    ARGN("fm", A_FM, 0, 3), ARGN("pfsid", A_PFSID, 0, 0xFFFF), ARGN("qdep", A_QDEP, 0, 31), ARG("dw", T_BOOL, A_DW), \
    ARG("dr", T_BOOL, A_DR), ARG("if", T_BOOL, A_IF), ARG("sw", T_BOOL, A_SW), ARG("fn", T_BOOL, A_FN), \
    ARG("pd", T_BOOL, A_PD), ARG("status_addr", T_U64, A_STATUS_ADDR), ARGN("status_data", A_STATUS_DATA, 0, 0xFFFFFFFF), \
    ARGN("rc", A_RC, 0, 15), ARGN("prgi", A_PRGI, 0, 511), ARG("pp", T_BOOL, A_PP), ARGN("width", A_WIDTH, 128, 256), \
    ARGN("index", A_INDEX, 0, 0xFFFF), ARGN("im", A_IM, 0, 31), \
    {"raw", T_U64SEQ, S_RAW, false, 0, 0, NULL}
static const struct field qi_fields[] = {QI_ARGS, EXPECT};
/* qi_queue: the same descriptor, written at IQT into the queue in memory (steps_ats.c). */
static const struct field qi_queue_fields[] = {QI_ARGS, EXPECT};
static const struct field qi_spec_fields[] = {QI_ARGS};
const struct ld_nest ld_qi_spec_nest = NEST_LEAF("descriptor", "a 'descriptors' entry", qi_spec_fields);
static const struct field write_root_fields[] = {
    ARGN("bus", A_BUS, 0, 255), ARGE("half", A_HALF, half_names), EDIT_VALUE, EXPECT,
};
static const struct field write_context_fields[] = {DEVICE, ARGN("qword", A_QWORD, 0, 3), EDIT_VALUE, EXPECT};
static const struct field write_pdir_fields[] = {DEVICE, PASIDR, EDIT_VALUE, EXPECT};
static const struct field write_pasid_fields[] = {DEVICE, PASIDR, ARGN("qword", A_QWORD, 0, 7), EDIT_VALUE, EXPECT};
static const struct field write_pte_fields[] = {
    ARGR("table", T_TABLE, A_TABLE), ARGR("va", T_U64, A_VA), {"level", T_U64, A_LEVEL, true, 1, 5, NULL},
    EDIT_VALUE, EXPECT,
};
static const struct field write_mem_fields[] = {
    ARGR("addr", T_U64, A_ADDR), ARG("value", T_U64, A_VALUE), ARGN("fill", A_FILL, 0, 255),
    /* Filled memory is real memory: at most 16 MiB per step. */
    {"size", T_SIZE, A_SIZE, false, 1, UINT64_C(1) << 24, NULL},
    /* Bulk forms, one page at most: a table written in one step. */
    {"qwords", T_U64SEQ, S_QWORDS, false, 0, 0, NULL}, ARG("hex", T_STR, S_HEX), EXPECT,
};
static const struct field reg_write_fields[] = {
    ARGR("reg", T_REG, A_OFFSET), {"width", T_U64, A_WIDTH, false, 4, 8, NULL}, ARGR("value", T_U64, A_VALUE), EXPECT,
};
static const struct field reg_read_fields[] = {
    ARGR("reg", T_REG, A_OFFSET), {"width", T_U64, A_WIDTH, false, 4, 8, NULL}, EXPECT,
};
/* Interrupt remapping (VT-d 5.1, 9.10, 9.11): the table, one IRTE, one interrupt request. */
static const struct name_val svt_names[] = {{"none", 0}, {"sid", 1}, {"bus", 2}, {NULL, 0}};
static const struct field irt_fields[] = {
    ARGR("addr", T_U64, A_ADDR), {"entries", T_U64, A_COUNT, false, 2, 65536, NULL}, ARG("eime", T_BOOL, A_EIME),
    ARG("cfi", T_BOOL, A_CFI), EXPECT,
};
static const struct field irte_fields[] = {
    ARGN("index", A_INDEX, 0, 0xFFFF), ARG("present", T_BOOL, A_PRESENT), ARG("fpd", T_BOOL, A_FPD),
    ARGN("vector", A_VECTOR, 0, 255), ARGN("destination", A_DEST, 0, 0xFFFFFFFF),
    {"dest_mode", T_ENUM, A_DEST_MODE, false, 0, 1, ld_dest_mode_names},
    {"trigger", T_ENUM, A_TRIGGER, false, 0, 1, ld_trigger_names},
    {"delivery", T_ENUM, A_DLM, false, 0, 7, ld_dlm_names}, ARG("redirection_hint", T_BOOL, A_RH),
    ARG("device", T_DEVICE, A_DEVICE), ARG("sid", T_BDF, A_SID), ARGN("sid_value", A_SID_VALUE, 0, 0xFFFF),
    ARGN("sq", A_SQ, 0, 3), {"svt", T_ENUM, A_SVT, false, 0, 3, svt_names}, ARG("posted", T_BOOL, A_POSTED),
    ARG("pda", T_U64, A_PDA), ARG("urgent", T_BOOL, A_URGENT), ARGE("half", A_HALF, half_names), EXPECT,
};
static const struct field interrupt_fields[] = {
    DEVICE, ARGR("addr", T_U64, A_ADDR), ARGN("data", A_DATA, 0, 0xFFFFFFFF), EXPECT,
};
static const struct field check_fields[] = {ARG("device", T_DEVICE, A_DEVICE), EXPECT};
/* A page request as a PRI device sends it (sim/prq.h). */
static const struct field page_request_fields[] = {
    DEVICE, {"pasid", T_PASID, A_PASID, false, 0, 0, NULL}, ARGR("addr", T_U64, A_ADDR), ARG("read", T_BOOL, A_READ),
    ARG("write", T_BOOL, A_WRITE), ARG("exec", T_BOOL, A_EXEC), ARG("priv", T_BOOL, A_PRIV), ARG("last", T_BOOL, A_LAST),
    ARGN("prgi", A_PRGI, 0, 511), ARG("private_data", T_U64, A_DATA_LO), ARG("private_data_hi", T_U64, A_DATA_HI),
    EXPECT,
};
static const struct field pri_reset_fields[] = {DEVICE, EXPECT};
/* The CPU's write-back cache (steps_cpu.c). */
static const struct field cpu_cache_fields[] = {ARGR("enable", T_BOOL, A_ON), EXPECT};
static const struct field clflush_fields[] = {
    ARGR("addr", T_U64, A_ADDR), {"size", T_SIZE, A_SIZE, false, 1, UINT64_C(1) << 32, NULL}, EXPECT,
};
static const struct field wbinvd_fields[] = {EXPECT};
/* Device-TLB invalidation completion (steps_ats.c). */
static const struct name_val reply_names[] = {{"now", 0}, {"delayed", 1}, {"never", 2}, {"bad_itag", 3}, {NULL, 0}};
static const struct field ats_reply_fields[] = {
    DEVICE, {"reply", T_ENUM, A_REPLY, true, 0, 0, reply_names}, ARGN("delay_us", A_DELAY_US, 0, UINT64_C(1) << 40),
    EXPECT,
};
static const struct field elapse_fields[] = {{"us", T_U64, A_US, true, 0, UINT64_C(1) << 40, NULL}, EXPECT};
static const struct field unplug_fields[] = {DEVICE, EXPECT};
static const struct field repeat_fields[] = {
    {"count", T_U64, A_COUNT, true, 1, SC_MAX_REPEAT, NULL}, {"steps", T_SEQ, S_STEPS, true, 0, 0, NULL},
};

static const struct name_val pasid_op_names[] = {{"alloc", 0}, {"free", 1}, {NULL, 0}};
static const struct name_val inv_cache_names[] = {{"iotlb", 1}, {"dev_iotlb", 2}, {"pasid", 4}, {NULL, 0}};
static const struct name_val inv_gran_names[] = {{"domain", 0}, {"pasid", 1}, {"addr", 2}, {NULL, 0}};
/*
 * uAPI fields are checked against the width of the structure member they fill (the seed's
 * headers), so that a value the member cannot hold (a PASID_REQUEST min of 0x100000005 in a
 * __u32) is an error at its line:column rather than silently truncated.
 */
#define MEMBER_MAX(type, m) (UINT64_MAX >> (64 - 8 * sizeof(((type *)0)->m)))
#define UARG(k, id, type, m) {k, T_U64, id, false, 0, MEMBER_MAX(type, m), NULL}
#define UARGR(k, id, type, m) {k, T_U64, id, true, 0, MEMBER_MAX(type, m), NULL}
#define ARGSZ ARGN("argsz", A_ARGSZ, 0, 0xFFFFFFFF)
#define FLAGS(type) UARG("flags", A_FLAGS, type, flags)

static const struct name_val resp_code_names[] = {{"success", 0}, {"invalid", 1}, {"failure", 2}, {NULL, 0}};
static const struct field container_attach_fields[] = {DEVICE, EXPECT};
static const struct field page_response_fields[] = {
    UARGR("grpid", A_GRPID, struct iommu_page_response, grpid), {"pasid", T_PASID, A_PASID, false, 0, 0, NULL},
    {"code", T_ENUM, A_CODE, false, 0, 15, resp_code_names}, ARGSZ, FLAGS(struct iommu_page_response),
    UARG("version", A_VERSION, struct iommu_page_response, version), EXPECT,
};
static const struct field get_info_fields[] = {ARGSZ, EXPECT};
static const struct field map_dma_fields[] = {
    ARGR("iova", T_U64, A_IOVA), ARGR("vaddr", T_U64, A_VADDR), ARGR("size", T_SIZE, A_SIZE),
    ARG("perm", T_PERM, A_PERM), ARGSZ, FLAGS(struct vfio_iommu_type1_dma_map), EXPECT,
};
static const struct field unmap_dma_fields[] = {
    ARGR("iova", T_U64, A_IOVA), ARGR("size", T_SIZE, A_SIZE), ARGSZ, FLAGS(struct vfio_iommu_type1_dma_unmap), EXPECT,
};
static const struct field pasid_request_fields[] = {
    ARGE("op", A_OP, pasid_op_names), UARGR("min", A_MIN, struct vfio_iommu_type1_pasid_request, range.min),
    UARGR("max", A_MAX_PASID, struct vfio_iommu_type1_pasid_request, range.max), ARGSZ,
    FLAGS(struct vfio_iommu_type1_pasid_request), EXPECT,
};
static const struct field bind_fields[] = {
    {"hpasid", T_U64, A_HPASID, true, 0, 0, NULL}, ARG("gpasid", T_U64, A_GPASID), ARG("table", T_TABLE, A_TABLE),
    ARG("gpgd", T_U64, A_ADDR), UARG("addr_width", A_ADDR_WIDTH, struct iommu_gpasid_bind_data, addr_width),
    ARG("sre", T_BOOL, A_SRE), ARG("eafe", T_BOOL, A_EAFE), ARGSZ, FLAGS(struct iommu_gpasid_bind_data),
    UARG("version", A_VERSION, struct iommu_gpasid_bind_data, version),
    UARG("format", A_FORMAT, struct iommu_gpasid_bind_data, format), EXPECT,
};
static const struct field cache_invalidate_fields[] = {
    {"cache", T_FLAGS, A_CACHE, false, 0, MEMBER_MAX(struct iommu_cache_invalidate_info, cache), inv_cache_names},
    ARGE("granularity", A_UGRAN, inv_gran_names), {"pasid", T_PASID, A_PASID, false, 0, 0, NULL},
    UARG("archid", A_ARCHID, struct iommu_inv_addr_info, archid), ARG("addr", T_U64, A_ADDR),
    ARG("granule_size", T_SIZE, A_GRANULE), ARG("nb_granules", T_U64, A_NB), ARG("leaf", T_BOOL, A_LEAF), ARGSZ,
    FLAGS(struct iommu_inv_addr_info), UARG("version", A_VERSION, struct iommu_cache_invalidate_info, version), EXPECT,
};
/* The iommufd forms (uapi/linux/iommufd_vtd.h): IOMMU_HWPT_ALLOC (vtd_s1) and IOMMU_HWPT_INVALIDATE. */
static const struct name_val hwpt_s1_flag_names[] = {{"sre", 1}, {"eafe", 2}, {"wpe", 4}, {NULL, 0}};
static const struct name_val hwpt_inv_flag_names[] = {{"leaf", 1}, {NULL, 0}};
static const struct field hwpt_alloc_fields[] = {
    {"pasid", T_U64, A_PASID, true, 0, 0xFFFFF, NULL},
    {"flags", T_FLAGS, A_FLAGS, false, 0, MEMBER_MAX(struct iommu_hwpt_vtd_s1, flags), hwpt_s1_flag_names},
    ARG("table", T_TABLE, A_TABLE), ARG("pgtbl_addr", T_U64, A_ADDR),
    UARG("addr_width", A_ADDR_WIDTH, struct iommu_hwpt_vtd_s1, addr_width),
    ARGN("reserved", A_VALUE, 0, 0xFFFFFFFF), EXPECT,
};
static const struct field hwpt_invalidate_fields[] = {
    {"pasid", T_U64, A_PASID, true, 0, 0xFFFFF, NULL}, {"entries", T_SEQ, S_ENTRIES, true, 0, 0, NULL},
    ARGN("entry_len", A_WIDTH, 0, 4096), ARGN("entry_num", A_COUNT, 0, SC_MAX_HWPT_INV), EXPECT,
};
enum { HI_ADDR, HI_NPAGES, HI_FLAGS, HI_RESERVED };
static const struct field hwpt_inv_entry_fields[] = {
    {"addr", T_U64, HI_ADDR, true, 0, 0, NULL}, {"npages", T_U64, HI_NPAGES, true, 0, 0, NULL},
    {"flags", T_FLAGS, HI_FLAGS, false, 0, MEMBER_MAX(struct iommu_hwpt_vtd_s1_invalidate, flags), hwpt_inv_flag_names}, {"reserved", T_U64, HI_RESERVED, false, 0, 0xFFFFFFFF, NULL},
};

/* Dirty tracking (runner/steps_dirty.c): VFIO_IOMMU_DIRTY_PAGES and iommufd's two calls. */
static const struct name_val dirty_op_names[] = {{"start", 1}, {"stop", 2}, {"get_bitmap", 4}, {NULL, 0}};
#define DIRTY_RANGE ARG("iova", T_U64, A_IOVA), ARG("size", T_SIZE, A_SIZE), ARG("discard", T_BOOL, A_DISCARD)
static const struct field dirty_pages_fields[] = {
    {"op", T_ENUM, A_OP, true, 0, 0, dirty_op_names}, DIRTY_RANGE, ARG("pgsize", T_SIZE, A_PGSIZE),
    {"bitmap_size", T_U64, A_BITMAP_SIZE, false, 0, (UINT64_C(1) << 28) + 4096, NULL}, ARGSZ,
    FLAGS(struct vfio_iommu_type1_dirty_bitmap), EXPECT,
};
static const struct field hwpt_set_dirty_fields[] = {ARG("enable", T_BOOL, A_ENABLE), ARGN("flags", A_FLAGS, 0, 0xFFFFFFFF), EXPECT};
static const struct field hwpt_get_dirty_fields[] = {
    DIRTY_RANGE, ARG("page_size", T_SIZE, A_PGSIZE), ARG("no_clear", T_BOOL, A_NO_CLEAR),
    ARGN("flags", A_FLAGS, 0, 0xFFFFFFFF), ARGN("reserved", A_VALUE, 0, 0xFFFFFFFF), EXPECT,
};

static const struct ld_nest hwpt_inv_entry_nest = NEST_LEAF("hwpt_invalidate_entry", "an 'entries' item", hwpt_inv_entry_fields);

/* What the arguments of a step that nest hold: `expect:` in every kind but repeat. */
static const struct ld_link step_links[] = {{"expect", &ld_expect_nest}};
static const struct ld_link repeat_links[] = {{"steps", &ld_steps_nest}};
static const struct ld_link hwpt_invalidate_links[] = {{"entries", &hwpt_inv_entry_nest}, {"expect", &ld_expect_nest}};
#define KIND(n, k, t) {n, k, t, NT(t), step_links, NT(step_links)}
#define KIND_LINKS(n, k, t, l) {n, k, t, NT(t), l, NT(l)}
static const struct step_kind step_kinds[] = {
    KIND("attach", SK_ATTACH, attach_fields),
    KIND("pasid_entry", SK_PASID_ENTRY, pasid_entry_fields),
    KIND("pasid_clear", SK_PASID_CLEAR, pasid_clear_fields),
    KIND("map", SK_MAP, map_fields),
    KIND("unmap", SK_UNMAP, unmap_fields),
    KIND("protect", SK_PROTECT, protect_fields),
    KIND("dma", SK_DMA, dma_fields),
    KIND("qi", SK_QI, qi_fields),
    KIND("write_root", SK_WRITE_ROOT, write_root_fields),
    KIND("write_context", SK_WRITE_CONTEXT, write_context_fields),
    KIND("write_pdir", SK_WRITE_PDIR, write_pdir_fields),
    KIND("write_pasid", SK_WRITE_PASID, write_pasid_fields),
    KIND("write_pte", SK_WRITE_PTE, write_pte_fields),
    KIND("write_mem", SK_WRITE_MEM, write_mem_fields),
    KIND("reg_write", SK_REG_WRITE, reg_write_fields),
    KIND("reg_read", SK_REG_READ, reg_read_fields),
    KIND("check", SK_CHECK, check_fields),
    KIND_LINKS("repeat", SK_REPEAT, repeat_fields, repeat_links),
    KIND("irt", SK_IRT, irt_fields),
    KIND("irte", SK_IRTE, irte_fields),
    KIND("interrupt", SK_INTERRUPT, interrupt_fields),
    KIND("cpu_cache", SK_CPU_CACHE, cpu_cache_fields),
    KIND("clflush", SK_CLFLUSH, clflush_fields),
    KIND("wbinvd", SK_WBINVD, wbinvd_fields),
    KIND("ats_reply", SK_ATS_REPLY, ats_reply_fields),
    KIND("elapse", SK_ELAPSE, elapse_fields),
    KIND("unplug", SK_UNPLUG, unplug_fields),
    KIND("qi_queue", SK_QI_QUEUE, qi_queue_fields),
    KIND("container_attach", SK_CONTAINER_ATTACH, container_attach_fields),
    KIND("get_info", SK_GET_INFO, get_info_fields),
    KIND("map_dma", SK_MAP_DMA, map_dma_fields),
    KIND("unmap_dma", SK_UNMAP_DMA, unmap_dma_fields),
    KIND("pasid_request", SK_PASID_REQUEST, pasid_request_fields),
    KIND("bind", SK_BIND, bind_fields),
    KIND("unbind", SK_UNBIND, bind_fields),
    KIND("cache_invalidate", SK_CACHE_INVALIDATE, cache_invalidate_fields),
    KIND("page_response", SK_PAGE_RESPONSE, page_response_fields),
    KIND("hwpt_alloc", SK_HWPT_ALLOC, hwpt_alloc_fields),
    KIND_LINKS("hwpt_invalidate", SK_HWPT_INVALIDATE, hwpt_invalidate_fields, hwpt_invalidate_links),
    KIND("page_request", SK_PAGE_REQUEST, page_request_fields),
    KIND("pri_reset", SK_PRI_RESET, pri_reset_fields),
    KIND("dirty_pages", SK_DIRTY_PAGES, dirty_pages_fields),
    KIND("hwpt_set_dirty", SK_HWPT_SET_DIRTY, hwpt_set_dirty_fields),
    KIND("hwpt_get_dirty", SK_HWPT_GET_DIRTY, hwpt_get_dirty_fields),
};
const struct ld_nest ld_steps_nest = {"step", "steps", LD_KINDS, NULL, 0, NULL, 0, step_kinds, NT(step_kinds)};

const char *sc_kind_name(enum sc_kind k)
{
    for (size_t i = 0; i < NT(step_kinds); i++)
        if (step_kinds[i].kind == k)
            return step_kinds[i].name;
    return "?";
}

static const struct step_kind *step_kind_find(const char *name)
{
    for (size_t i = 0; i < NT(step_kinds); i++)
        if (!strcmp(step_kinds[i].name, name))
            return &step_kinds[i];
    return NULL;
}

static bool load_raw(struct ld *L, yaml_node_t *seq, struct sc_step *st)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n != 2 && n != 4)
        return ld_fail(L, seq, "'raw' holds 2 qwords (128-bit descriptor) or 4 (256-bit), not %zu", n);
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        yaml_node_t *q = ld_node(L, *i);
        if (q->type != YAML_SCALAR_NODE || !ld_parse_u64(ld_scalar(q), &st->raw[st->nraw]))
            return ld_fail(L, q, "'raw' entries must be numbers");
        st->nraw++;
    }
    return true;
}

/* entries: the array of struct iommu_hwpt_vtd_s1_invalidate, in order. */
static bool load_hwpt_entries(struct ld *L, yaml_node_t *seq, struct sc_step *st)
{
    size_t n;
    if (!(st->inv = ld_list_alloc(L, seq, "'entries'", SC_MAX_HWPT_INV, sizeof *st->inv, &n)))
        return false;
    bool ok = true;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        struct vals v;
        if (!ld_nested(L, ld_node(L, *i), &hwpt_inv_entry_nest, &v)) {
            ok = false;
            continue;
        }
        st->inv[st->ninv++] = (struct sc_hwpt_inv){.addr = v.v[HI_ADDR], .npages = v.v[HI_NPAGES],
                                                   .flags = (uint32_t)v.v[HI_FLAGS], .reserved = (uint32_t)v.v[HI_RESERVED]};
    }
    return ok;
}

/* qwords: numbers, each stored little-endian as memory holds it, at most one page of them. */
static bool load_qwords(struct ld *L, yaml_node_t *seq, struct sc_step *st)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0 || n > SC_MAX_BULK / 8)
        return ld_fail(L, seq, "'qwords' holds 1 to %u numbers (one page), not %zu", SC_MAX_BULK / 8, n);
    if (!(st->bulk = vtd_calloc(n, 8)))
        return ld_fail(L, seq, "out of memory");
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        yaml_node_t *q = ld_node(L, *i);
        uint64_t v;
        if (q->type != YAML_SCALAR_NODE || !ld_parse_u64(ld_scalar(q), &v))
            return ld_fail(L, q, "'qwords' entries must be numbers");
        for (unsigned b = 0; b < 8; b++)
            st->bulk[st->nbulk++] = (uint8_t)(v >> (8 * b));
    }
    return true;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* hex: bytes in file order as two hex digits each ("00 10 ff"), blanks and newlines between bytes. */
static bool load_hex(struct ld *L, yaml_node_t *node, struct sc_step *st)
{
    const char *s = ld_scalar(node);
    if (!(st->bulk = vtd_malloc(SC_MAX_BULK)))
        return ld_fail(L, node, "out of memory");
    for (size_t i = 0; s[i];) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
            i++;
            continue;
        }
        int hi = hex_digit(s[i]), lo = hi < 0 ? -1 : hex_digit(s[i + 1]);
        if (lo < 0)
            return ld_fail(L, node, "'hex' must be pairs of hex digits (blanks between bytes allowed); '%c' at offset %zu",
                           hi < 0 ? s[i] : s[i + 1] ? s[i + 1] : '?', hi < 0 ? i : i + 1);
        if (st->nbulk == SC_MAX_BULK)
            return ld_fail(L, node, "'hex' holds more than %u bytes (one page)", SC_MAX_BULK);
        st->bulk[st->nbulk++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return st->nbulk || ld_fail(L, node, "'hex' holds no bytes");
}

/* What a qi step must say: a raw descriptor, or a type with the fields it needs. */
static bool check_qi_step(struct ld *L, yaml_node_t *n, const struct vals *v)
{
    if (v->given[S_RAW])
        return true;
    if (!v->given[A_TYPE])
        return ld_fail(L, n, "a qi step needs 'type' (or 'raw')");
    if (v->given[A_SIZE] && v->given[A_AM])
        return ld_fail(L, v->node[A_AM], "give 'am' or 'size', not both");
    if (v->given[A_SIZE] && (v->v[A_SIZE] & (v->v[A_SIZE] - 1)))
        return ld_fail(L, v->node[A_SIZE], "'size' must be a power of two");
    if (v->given[A_WIDTH] && v->v[A_WIDTH] != 128 && v->v[A_WIDTH] != 256)
        return ld_fail(L, v->node[A_WIDTH], "'width' must be 128 or 256");
    return true;
}

bool ld_qi_spec(struct ld *L, yaml_node_t *n, struct sc_step *st)
{
    struct vals v;
    if (!ld_nested(L, n, &ld_qi_spec_nest, &v) || !check_qi_step(L, n, &v))
        return false;
    st->kind = SK_QI;
    st->line = (unsigned)n->start_mark.line + 1;
    st->col = (unsigned)n->start_mark.column + 1;
    memcpy(st->given, v.given, sizeof st->given);
    memcpy(st->v, v.v, sizeof st->v);
    return !v.given[S_RAW] || load_raw(L, v.node[S_RAW], st);
}

static bool check_edit(struct ld *L, yaml_node_t *n, const struct vals *v)
{
    if (v->given[A_VALUE] && (v->given[A_SET] || v->given[A_CLEAR]))
        return ld_fail(L, n, "give 'value', or 'set'/'clear', not both");
    if (!v->given[A_VALUE] && !v->given[A_SET] && !v->given[A_CLEAR])
        return ld_fail(L, n, "missing 'value' (or 'set'/'clear')");
    return true;
}

static const char *attach_key(enum sc_arg id)
{
    for (size_t i = 0; i < NT(attach_fields); i++)
        if (attach_fields[i].id == (unsigned)id)
            return attach_fields[i].key;
    return "?";
}

/* An attach writes a legacy context entry (tt, table, did) or a scalable one (the rest). */
static bool check_attach(struct ld *L, yaml_node_t *n, const struct vals *v)
{
    static const enum sc_arg scalable_only[] = {A_PDTS, A_PASIDE, A_DTE, A_PRE, A_RID_PASID, A_RID_PRIV};
    static const enum sc_arg legacy_only[] = {A_TT, A_TABLE, A_DID};
    const enum sc_arg *wrong = L->s->legacy ? scalable_only : legacy_only;
    size_t nwrong = L->s->legacy ? NT(scalable_only) : NT(legacy_only);
    for (size_t i = 0; i < nwrong; i++)
        if (v->given[wrong[i]])
            return ld_fail(L, v->node[wrong[i]], "'%s' is a %s context-entry field (iommu mode is %s)",
                           attach_key(wrong[i]), L->s->legacy ? "scalable-mode" : "legacy-mode",
                           L->s->legacy ? "legacy" : "scalable");
    if (!L->s->legacy)
        return true;
    bool pt = v->given[A_TT] && v->v[A_TT] == 2;
    if (pt && v->given[A_TABLE])
        return ld_fail(L, v->node[A_TABLE], "'table' has no use with tt: pass-through");
    if (!pt && !v->given[A_TABLE])
        return ld_fail(L, n, "a legacy attach needs 'table' (a second-stage table) unless tt is pass-through");
    return true;
}

/* Per-kind checks beyond single fields. */
static bool check_step(struct ld *L, yaml_node_t *n, enum sc_kind k, const struct vals *v)
{
    /* Legacy mode has no PASID structures (VT-d 3.4.2). */
    if (L->s->legacy && (k == SK_PASID_ENTRY || k == SK_PASID_CLEAR || k == SK_WRITE_PDIR || k == SK_WRITE_PASID))
        return ld_fail(L, n, "'%s' edits PASID structures, which legacy mode does not have", sc_kind_name(k));
    switch (k) {
    case SK_ATTACH: return check_attach(L, n, v);
    case SK_QI: case SK_QI_QUEUE: return check_qi_step(L, n, v);
    case SK_DMA:
        /* The IOMMU takes such a write for an interrupt request (VT-d 3.14, 5.1). */
        if (!v->given[A_PASID] && v->v[A_ACCESS] == VTD_ACC_W && vtd_irq_addr_is_interrupt(v->v[A_ADDR]) &&
            (!v->given[A_ATS] || v->v[A_ATS] == VTD_REQ_UNTRANSLATED))
            return ld_fail(L, v->node[A_ADDR], "a write without PASID to 0xFEEx_xxxx is an interrupt request, not a "
                                               "DMA: use an 'interrupt' step");
        return true;
    case SK_IRTE:
        if (v->given[A_DEVICE] + v->given[A_SID] + v->given[A_SID_VALUE] > 1)
            return ld_fail(L, n, "give one of 'device', 'sid' or 'sid_value' for the IRTE's SID");
        if (v->given[A_PDA] && (v->v[A_PDA] & 0x3F))
            return ld_fail(L, v->node[A_PDA], "'pda' must be 64-byte aligned (VT-d 9.11)");
        return true;
    case SK_IRT:
        if (v->given[A_COUNT] && (v->v[A_COUNT] & (v->v[A_COUNT] - 1)))
            return ld_fail(L, v->node[A_COUNT], "'entries' must be a power of two (IRTA_REG.S: 2^(S+1))");
        if (v->v[A_ADDR] & 0xFFF)
            return ld_fail(L, v->node[A_ADDR], "'addr' must be 4 KiB aligned (IRTA_REG)");
        return true;
    case SK_ATS_REPLY:
        if ((v->v[A_REPLY] == 1 || v->v[A_REPLY] == 3) != v->given[A_DELAY_US])
            return ld_fail(L, n, "'delay_us' goes with reply delayed or bad_itag, and they need it");
        return true;
    case SK_WRITE_ROOT: case SK_WRITE_CONTEXT: case SK_WRITE_PDIR: case SK_WRITE_PASID: case SK_WRITE_PTE:
        return check_edit(L, n, v);
    case SK_WRITE_MEM:
        if (v->given[A_VALUE] + v->given[A_FILL] + v->given[S_QWORDS] + v->given[S_HEX] != 1)
            return ld_fail(L, n, "write_mem takes one of 'value', 'fill' (with 'size'), 'qwords' or 'hex'");
        if (v->given[A_FILL] && !v->given[A_SIZE])
            return ld_fail(L, n, "'fill' needs 'size'");
        if ((v->given[S_QWORDS] || v->given[S_HEX]) && v->given[A_SIZE])
            return ld_fail(L, v->node[A_SIZE], "'size' goes with 'value' or 'fill': 'qwords' and 'hex' give their own");
        return true;
    case SK_REG_WRITE: case SK_REG_READ:
        if (v->given[A_WIDTH] && v->v[A_WIDTH] != 4 && v->v[A_WIDTH] != 8)
            return ld_fail(L, v->node[A_WIDTH], "'width' must be 4 or 8");
        /* A 4-byte write (the default) cannot carry more: the value would be cut to 32 bits. */
        if (k == SK_REG_WRITE && (!v->given[A_WIDTH] || v->v[A_WIDTH] == 4) && v->v[A_VALUE] > 0xFFFFFFFFu)
            return ld_fail(L, v->node[A_VALUE], "'value' out of range: %s (a 4-byte write; give width: 8)",
                           ld_scalar(v->node[A_VALUE]));
        return true;
    default: return true;
    }
}

/* Expectations about a translation belong to dma steps; 'removed' to qi steps. */
static bool check_expect_applies(struct ld *L, yaml_node_t *n, const struct sc_step *st)
{
    static const enum sc_exp dma_only[] = {E_OUT, E_PAGE, E_PERM, E_PAGING_READS, E_DIRTY};
    static const enum sc_exp request_only[] = {E_FAULT, E_SOURCE, E_STALE, E_FIX, E_READS};
    static const enum sc_exp interrupt_only[] = {E_VECTOR, E_DEST, E_DEST_MODE, E_TRIGGER, E_DLM, E_POSTED, E_PDA,
                                                 E_REMAPPED};
    for (size_t i = 0; st->kind != SK_DMA && i < NT(dma_only); i++)
        if (st->expect.given[dma_only[i]])
            return ld_fail(L, n, "expectation '%s' applies to dma steps only", ld_expect_key(dma_only[i]));
    for (size_t i = 0; st->kind != SK_DMA && st->kind != SK_INTERRUPT && i < NT(request_only); i++)
        if (st->expect.given[request_only[i]])
            return ld_fail(L, n, "expectation '%s' applies to dma and interrupt steps only",
                           ld_expect_key(request_only[i]));
    for (size_t i = 0; st->kind != SK_INTERRUPT && i < NT(interrupt_only); i++)
        if (st->expect.given[interrupt_only[i]])
            return ld_fail(L, n, "expectation '%s' applies to interrupt steps only", ld_expect_key(interrupt_only[i]));
    if (st->kind != SK_UNBIND && st->kind != SK_CACHE_INVALIDATE && st->expect.given[E_IOMMU_ERRNO])
        return ld_fail(L, n, "expectation 'iommu_errno' applies to unbind and cache_invalidate steps only");
    if (st->kind != SK_HWPT_INVALIDATE && st->expect.given[E_ENTRY_NUM])
        return ld_fail(L, n, "expectation 'entry_num' applies to hwpt_invalidate steps only");
    if (st->kind != SK_QI && st->expect.nremoved)
        return ld_fail(L, n, "expectation 'removed' applies to qi steps only");
    if (st->kind < SK_CONTAINER_ATTACH && (st->expect.has_desc || st->expect.given[E_DESC_COUNT]))
        return ld_fail(L, n, "expectation '%s' applies to uAPI steps only",
                       st->expect.has_desc ? "descriptors" : "descriptor_count");
    if (st->kind != SK_REG_READ && st->kind < SK_GET_INFO && st->expect.given[E_VALUE])
        return ld_fail(L, n, "expectation 'value' applies to reg_read and uAPI steps only");
    return true;
}

/* The sub-steps of a repeat, their iterations multiplied by its count (1 when the count is in
 * error: the steps are still read for their own errors). */
static bool load_repeat_steps(struct ld *L, const struct vals *v, struct sc_step *st)
{
    uint64_t outer = L->repeat_mult, count = v->given[A_COUNT] ? v->v[A_COUNT] : 1;
    /* Nested repeats multiply: bound the iterations of the innermost steps as one repeat is. */
    if (outer * count > SC_MAX_REPEAT)
        return ld_fail(L, v->node[A_COUNT], "nested repeats run their steps more than %u times", SC_MAX_REPEAT);
    L->repeat_mult = outer * count;
    bool ok = ld_steps(L, v->node[S_STEPS], &st->sub, &st->nsub);
    L->repeat_mult = outer;
    st->work_upto = L->work;
    return ok;
}

/* A step's expectations: read even when its other keys had errors (theirs are their own). */
static bool load_step_expect(struct ld *L, yaml_node_t *n, struct sc_step *st)
{
    st->has_expect = true;
    bool ok = ld_expect(L, n, &st->expect);
    return check_expect_applies(L, n, st) && ok;
}

static bool load_step(struct ld *L, yaml_node_t *item, struct sc_step *st)
{
    if (item->type != YAML_MAPPING_NODE || item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
        return ld_fail(L, item, "a step is a mapping with one key, the step kind (e.g. 'dma: {...}')");
    yaml_node_pair_t *p = item->data.mapping.pairs.start;
    yaml_node_t *k = ld_node(L, p->key), *body = ld_node(L, p->value);
    const struct step_kind *sk = k->type == YAML_SCALAR_NODE ? step_kind_find(ld_scalar(k)) : NULL;
    if (!sk && k->type != YAML_SCALAR_NODE)
        return ld_fail(L, k, "a step kind must be a scalar (e.g. 'dma')");
    if (!sk) {
        struct sc_suggest sg;
        char hint[96];
        sc_suggest_init(&sg, ld_scalar(k));
        for (size_t i = 0; i < NT(step_kinds); i++)
            sc_suggest_offer(&sg, step_kinds[i].name);
        return ld_fail(L, k, "unknown step kind '%s'%s", ld_scalar(k), sc_suggest_text(&sg, hint, sizeof hint));
    }
    if (++L->steps_total > SC_MAX_STEPS)
        return ld_fatal(L, item, "too many steps (at most %u)", SC_MAX_STEPS);
    st->kind = sk->kind;
    st->line = (unsigned)k->start_mark.line + 1;
    st->col = (unsigned)k->start_mark.column + 1;
    struct vals v;
    char what[64];
    snprintf(what, sizeof what, "'%s'", sk->name);
    /* The checks across keys need them all: they run only on a mapping read without error. */
    bool ok = ld_mapping(L, body, what, sk->fields, sk->nfields, &v) && check_step(L, body, sk->kind, &v);
    memcpy(st->given, v.given, sizeof st->given);
    memcpy(st->v, v.v, sizeof st->v);
    if (v.given[S_RAW] && !L->stop && !load_raw(L, v.node[S_RAW], st))
        ok = false;
    if (v.given[S_ENTRIES] && !L->stop && !load_hwpt_entries(L, v.node[S_ENTRIES], st))
        ok = false;
    if (v.given[S_QWORDS] && !L->stop && !load_qwords(L, v.node[S_QWORDS], st))
        ok = false;
    if (v.given[S_HEX] && !L->stop && !load_hex(L, v.node[S_HEX], st))
        ok = false;
    if (v.given[S_EXPECT] && !L->stop && !load_step_expect(L, v.node[S_EXPECT], st))
        ok = false;
    /* The work budget (runner/budget.c) is checked against these totals before a run. */
    if (ok)
        L->work = sc_work_add(L->work, sc_step_work(L->s, st), L->repeat_mult);
    st->work_upto = L->work;
    if (v.given[S_STEPS] && !L->stop && !load_repeat_steps(L, &v, st))
        ok = false;
    return ok;
}

bool ld_steps(struct ld *L, yaml_node_t *seq, struct sc_step **out, unsigned *nout)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SC_MAX_STEPS)
        return ld_fail(L, seq, "too many steps (%zu; at most %u)", n, SC_MAX_STEPS);
    if (!(*out = vtd_calloc(n ? n : 1, sizeof **out)))
        return ld_fatal(L, seq, "out of memory");
    bool ok = true;
    /* A step in error is skipped and the next one read. */
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top && !L->stop; i++) {
        (*nout)++; /* counted first: a half-loaded step is freed with the others */
        if (!load_step(L, ld_node(L, *i), &(*out)[*nout - 1]))
            ok = false;
    }
    return ok;
}
