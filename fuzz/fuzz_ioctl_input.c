/*
 * fuzz_ioctl_input.c: the container's uAPI over arbitrary requests and payloads (layout:
 * fuzz_ioctl_input.h).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *   - every call returns 0 or a negative errno the uAPI documents (a PASID, 1..2^20-1, for
 *     PASID_REQUEST's ALLOC; an unknown request -ENOTTY; a NULL argument -EFAULT);
 *   - GET_INFO's argsz, as returned, never exceeds what the caller gave unless it asks the
 *     caller to retry with more (the kernel's "argsz too small" convention) and then it
 *     covers the info and its capability chain;
 *   - a DMA returns 0, a known fault code or VTD_DMA_PAGE_REQUEST;
 *   - a fault-queue read returns 0..max records;
 *   - the container and the IOMMU can be freed after any sequence (LeakSanitizer then sees
 *     nothing left).
 */
#include "fuzz_ioctl_input.h"
#include "fuzz_why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/iommu.h>
#include <linux/iommufd_vtd.h>
#include <linux/vfio.h>

#include "host/container.h"
#include "sim/iommu.h"
#include "walker/builder.h"
#include "walker/fault.h"

#define FI_RWU (VTD_PERM_R | VTD_PERM_W | VTD_PERM_U)

static int fi_last; /* the last call's answer, for FUZZ_IOCTL_TRACE */

static uint32_t fi_le(const uint8_t *p, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t fi_le64(const uint8_t *p)
{
    return (uint64_t)fi_le(p, 4) | (uint64_t)fi_le(p + 4, 4) << 32;
}

/* The container goes with each input; the IOMMU stays for the next one (fi_iommu). */
void fi_free(struct fi_state *s) { vtd_container_free(s->c); }

/*
 * The IOMMU with its two devices. One instance lives for the whole process and is reset per
 * input (vtd_iommu_reset), after the previous input's container is gone: building it each time
 * cost more than most inputs' calls (the instance, its caches and the memory index are ~400 KiB
 * of cleared allocations).
 */
static struct vtd_iommu *fi_iommu(char *why, size_t why_len)
{
    static struct vtd_iommu *io;
    if (io) {
        vtd_iommu_reset(io);
        return io;
    }
    struct vtd_iommu_config cfg;
    const char *msg = NULL;
    vtd_iommu_config_default(&cfg);
    if (!(io = vtd_iommu_new(&cfg, &msg))) {
        fuzz_fail(why, why_len, "vtd_iommu_new: %s", msg ? msg : "?");
        return NULL;
    }
    struct vtd_device_config plain = {.sid = FI_SID, .pasid_bits = 20};
    struct vtd_device_config ats = {.sid = FI_ATS_SID, .ats = true, .pri = true, .pasid_bits = 20,
                                    .devtlb = {.sets = 8, .ways = 4}};
    int rc = vtd_iommu_add_device(io, &plain);
    if (!rc)
        rc = vtd_iommu_add_device(io, &ats);
    if (rc) {
        vtd_iommu_free(io);
        io = NULL;
        fuzz_fail(why, why_len, "adding the devices failed: %d", rc);
    }
    return io;
}

/* The world of fuzz_ioctl_input.h; 0 or -1 with why. */
int fi_setup(struct fi_state *s, char *why, size_t why_len)
{
    const char *msg = NULL;
    memset(s, 0, sizeof *s);
    if (!(s->io = fi_iommu(why, why_len)))
        return -1;
    struct vtd_container_config cc;
    vtd_container_config_default(&cc);
    /* A small pool: a MAP_DMA of millions of 4 KiB pages runs out of tables after its check
     * pass instead of writing them all (which takes a second an input under ASan). */
    cc.pool_size = FI_POOL_SIZE;
    int rc = 0;
    if (!(s->c = vtd_container_new(s->io, &cc, &msg)))
        rc = -ENOMEM;
    if (!rc)
        rc = vtd_container_attach_device(s->c, FI_SID);
    if (!rc)
        rc = vtd_container_attach_device(s->c, FI_ATS_SID);
    struct vfio_iommu_type1_dma_map m = {sizeof m, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, FI_HOST_RAM, 0,
                                         FI_GUEST_RAM_SIZE};
    if (!rc)
        rc = vtd_container_ioctl(s->c, VFIO_IOMMU_MAP_DMA, &m);
    if (!rc)
        rc = vtd_pt_init(&s->fs, vtd_container_builder(s->c), VTD_PT_FS, 4, vtd_container_ss(s->c), FI_GUEST_PT_GPA,
                         0x100000);
    if (!rc)
        rc = vtd_pt_map(&s->fs, FI_VA, FI_GUEST_DATA_GPA, 0x4000, 12, FI_RWU, VTD_MAP_AD);
    if (!rc && s->fs.root != FI_GUEST_PT_GPA)
        rc = -EINVAL; /* the seeds name the root by its address */
    if (rc) {
        fi_free(s);
        return fuzz_fail(why, why_len, "setup failed: %d", rc);
    }
    return 0;
}

/* The errnos the container's calls may return (host/container.h, docs/uapi.md). */
static bool fi_errno_known(int rc)
{
    static const int known[] = {EINVAL, EFAULT, ENOTTY, ENOMEM, ENOSPC, EBUSY, ENOENT, EEXIST,
                                EPERM,  ENODEV, EOPNOTSUPP, E2BIG, ERANGE, ESRCH, EAGAIN, EIO};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (rc == -known[i])
            return true;
    return false;
}

static const unsigned long fi_requests[] = {
    [FI_GET_INFO] = VFIO_IOMMU_GET_INFO,           [FI_MAP_DMA] = VFIO_IOMMU_MAP_DMA,
    [FI_UNMAP_DMA] = VFIO_IOMMU_UNMAP_DMA,         [FI_PASID_REQUEST] = VFIO_IOMMU_PASID_REQUEST,
    [FI_NESTING_OP] = VFIO_IOMMU_NESTING_OP,       [FI_GET_API_VERSION] = VFIO_GET_API_VERSION,
    [FI_CHECK_EXTENSION] = VFIO_CHECK_EXTENSION,   [FI_SET_IOMMU] = VFIO_SET_IOMMU,
    [FI_IOMMU_ENABLE] = VFIO_IOMMU_ENABLE,         [FI_DIRTY_PAGES] = VFIO_IOMMU_DIRTY_PAGES,
};

/*
 * The bytes the kernel copies before it looks at argsz (offsetofend of the fixed fields), and
 * for NESTING_OP the header plus the largest payload it may read (a bind): the caller's buffer
 * must hold at least this much.
 */
static size_t fi_min_arg(unsigned long request)
{
    switch (request) {
    case VFIO_IOMMU_GET_INFO:
        return sizeof(struct vfio_iommu_type1_info);
    case VFIO_IOMMU_MAP_DMA:
        return sizeof(struct vfio_iommu_type1_dma_map);
    case VFIO_IOMMU_UNMAP_DMA:
        return sizeof(struct vfio_iommu_type1_dma_unmap);
    case VFIO_IOMMU_PASID_REQUEST:
        return sizeof(struct vfio_iommu_type1_pasid_request);
    case VFIO_IOMMU_NESTING_OP:
        return sizeof(struct vfio_iommu_type1_nesting_op) + sizeof(struct iommu_gpasid_bind_data);
    case VFIO_IOMMU_DIRTY_PAGES:
        return sizeof(struct vfio_iommu_type1_dirty_bitmap) + sizeof(struct vfio_iommu_type1_dirty_bitmap_get);
    default:
        return 0;
    }
}

/* A dirty bitmap's user pointer cannot come from the input (the model writes through it, as the
 * kernel's copy_to_user would): the struct vfio_bitmap at `off` gets the harness's own buffer,
 * its size clamped to that buffer, or NULL when the input's pointer was NULL (-EFAULT). */
#define FI_BITMAP_BYTES 4096u
static void fi_own_bitmap(uint8_t *buf, size_t len, size_t off, uint64_t *bitmap)
{
    if (off + sizeof(struct vfio_bitmap) > len)
        return;
    struct vfio_bitmap bm;
    memcpy(&bm, buf + off, sizeof bm);
    if (bm.size > FI_BITMAP_BYTES)
        bm.size = FI_BITMAP_BYTES;
    bm.data = bm.data ? (__u64 *)(void *)bitmap : NULL;
    memcpy(buf + off, &bm, sizeof bm);
}

/* Lower a u32 argsz at `off` of a `len`-byte buffer to what remains of the buffer from `base`. */
static void fi_clamp_argsz(uint8_t *buf, size_t len, size_t off, size_t base)
{
    if (off + 4 > len)
        return;
    uint32_t argsz;
    memcpy(&argsz, buf + off, 4);
    if (argsz > len - base) {
        argsz = (uint32_t)(len - base);
        memcpy(buf + off, &argsz, 4);
    }
}

/* One ioctl: the payload in a buffer of exactly max(P, the minimum) bytes. */
static int fi_ioctl(struct fi_state *s, unsigned long request, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    size_t len = n == 0 ? 0 : n > fi_min_arg(request) ? n : fi_min_arg(request);
    uint8_t *buf = len ? calloc(1, len) : NULL;
    if (len && !buf)
        return 0; /* the harness's own allocation: nothing to check */
    if (len)
        memcpy(buf, p, n);
    fi_clamp_argsz(buf, len, 0, 0);
    if (request == VFIO_IOMMU_NESTING_OP)
        fi_clamp_argsz(buf, len, sizeof(struct vfio_iommu_type1_nesting_op), sizeof(struct vfio_iommu_type1_nesting_op));
    uint64_t bitmap[FI_BITMAP_BYTES / 8];
    if (request == VFIO_IOMMU_DIRTY_PAGES)
        fi_own_bitmap(buf, len, sizeof(struct vfio_iommu_type1_dirty_bitmap) +
                                    offsetof(struct vfio_iommu_type1_dirty_bitmap_get, bitmap), bitmap);
    if (request == VFIO_IOMMU_UNMAP_DMA)
        fi_own_bitmap(buf, len, sizeof(struct vfio_iommu_type1_dma_unmap), bitmap);
    uint32_t argsz_in = len >= 4 ? fi_le(buf, 4) : 0;
    int rc = fi_last = vtd_container_ioctl(s->c, request, buf);
    int bad = 0;
    bool alloc = request == VFIO_IOMMU_PASID_REQUEST && len >= 8 && (fi_le(buf + 4, 4) & VFIO_IOMMU_FLAG_ALLOC_PASID);
    if (rc > 0 && !(alloc && rc < (1 << 20)))
        bad = fuzz_fail(why, why_len, "request 0x%lx returned %d", request, rc);
    else if (rc < 0 && !fi_errno_known(rc))
        bad = fuzz_fail(why, why_len, "request 0x%lx returned unknown errno %d", request, rc);
    else if (!buf && rc != -EFAULT && fi_min_arg(request))
        bad = fuzz_fail(why, why_len, "request 0x%lx with no argument returned %d, not -EFAULT", request, rc);
    else if (request == VFIO_IOMMU_GET_INFO && rc == 0) {
        uint32_t argsz_out = fi_le(buf, 4);
        if (argsz_out > argsz_in && argsz_out <= sizeof(struct vfio_iommu_type1_info))
            bad = fuzz_fail(why, why_len, "GET_INFO asks for argsz %u, no more than the info itself", argsz_out);
    }
    free(buf);
    return bad;
}

static int fi_dma(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    uint8_t b[13] = {0};
    memcpy(b, p, n < sizeof b ? n : sizeof b);
    static const enum vtd_req_kind kinds[] = {VTD_REQ_UNTRANSLATED, VTD_REQ_TRANSLATION, VTD_REQ_TRANSLATED,
                                              VTD_REQ_UNTRANSLATED};
    struct vtd_request req = {.sid = (b[0] & 1) ? FI_ATS_SID : FI_SID, .pasid_valid = b[0] & 2,
                              .pasid = fi_le(b + 1, 4) & 0xFFFFF, .addr = fi_le64(b + 5),
                              .access = (b[0] & 4) ? VTD_ACC_W : VTD_ACC_R, .priv = (b[0] & 8) != 0,
                              .kind = kinds[(b[0] >> 4) & 3]};
    struct vtd_dma_result res;
    int rc = fi_last = vtd_iommu_dma(s->io, &req, &res);
    if (rc && rc != VTD_DMA_PAGE_REQUEST && !vtd_fault_known(rc))
        return fuzz_fail(why, why_len, "DMA returned unknown code 0x%x", rc);
    return 0;
}

static int fi_read_faults(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    unsigned max = n ? p[0] : 4;
    struct iommu_fault *f = calloc(max ? max : 1, sizeof *f);
    if (!f)
        return 0;
    int got = fi_last = vtd_container_read_faults(s->c, f, max);
    free(f);
    if (got < 0 || (unsigned)got > max)
        return fuzz_fail(why, why_len, "read_faults(%u) returned %d", max, got);
    return 0;
}

static int fi_check_rc(const char *what, int rc, char *why, size_t why_len)
{
    fi_last = rc;
    if (rc > 0 || (rc < 0 && !fi_errno_known(rc)))
        return fuzz_fail(why, why_len, "%s returned %d", what, rc);
    return 0;
}

/* A fixed-size structure from the payload, zero-padded (its argsz lowered to its size). */
static void fi_struct(void *dst, size_t size, const uint8_t *p, size_t n)
{
    memset(dst, 0, size);
    memcpy(dst, p, n < size ? n : size);
}

static int fi_page_response(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    struct iommu_page_response *m = malloc(sizeof *m);
    if (!m)
        return 0;
    fi_struct(m, sizeof *m, p, n);
    fi_clamp_argsz((uint8_t *)m, sizeof *m, 0, 0);
    int rc = vtd_container_page_response(s->c, m);
    free(m);
    return fi_check_rc("page_response", rc, why, why_len);
}

static int fi_hwpt_alloc(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    uint8_t head[4] = {0};
    memcpy(head, p, n < 4 ? n : 4);
    struct iommu_hwpt_vtd_s1 *s1 = malloc(sizeof *s1);
    if (!s1)
        return 0;
    fi_struct(s1, sizeof *s1, n > 4 ? p + 4 : p, n > 4 ? n - 4 : 0);
    int rc = vtd_container_hwpt_alloc_vtd_s1(s->c, fi_le(head, 4), s1);
    free(s1);
    return fi_check_rc("hwpt_alloc", rc, why, why_len);
}

static int fi_hwpt_invalidate(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    uint8_t head[12] = {0};
    memcpy(head, p, n < 12 ? n : 12);
    const uint8_t *arr = n > 12 ? p + 12 : NULL;
    size_t alen = n > 12 ? n - 12 : 0;
    uint32_t entry_len = fi_le(head + 4, 4) % 256, num = fi_le(head + 8, 4);
    /* The array holds entry_num entries of entry_len bytes: no more than the payload gives. */
    if (entry_len && num > alen / entry_len)
        num = (uint32_t)(alen / entry_len);
    size_t bytes = (size_t)num * entry_len;
    uint8_t *copy = bytes ? malloc(bytes) : NULL;
    if (bytes && !copy)
        return 0;
    if (bytes)
        memcpy(copy, arr, bytes);
    uint32_t in = num, out = num;
    int rc = vtd_container_hwpt_invalidate(s->c, fi_le(head, 4), copy, entry_len, &out);
    free(copy);
    if (out > in)
        return fuzz_fail(why, why_len, "hwpt_invalidate handled %u of %u entries", out, in);
    return fi_check_rc("hwpt_invalidate", rc, why, why_len);
}

static int fi_cache_invalidate(struct fi_state *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
    size_t len = n > sizeof(struct iommu_cache_invalidate_info) ? n : sizeof(struct iommu_cache_invalidate_info);
    uint8_t *buf = calloc(1, len);
    if (!buf)
        return 0;
    memcpy(buf, p, n);
    fi_clamp_argsz(buf, len, 0, 0);
    int rc = vtd_container_cache_invalidate(s->c, buf);
    free(buf);
    return fi_check_rc("cache_invalidate", rc, why, why_len);
}

static int fi_record(struct fi_state *s, unsigned op, unsigned long request, bool raw, const uint8_t *p, size_t n,
                     char *why, size_t why_len)
{
    if (raw || op < sizeof fi_requests / sizeof fi_requests[0])
        return fi_ioctl(s, raw ? request : fi_requests[op], p, n, why, why_len);
    switch (op) {
    case FI_DMA:
        return fi_dma(s, p, n, why, why_len);
    case FI_READ_FAULTS:
        return fi_read_faults(s, p, n, why, why_len);
    case FI_PAGE_RESPONSE:
        return fi_page_response(s, p, n, why, why_len);
    case FI_HWPT_ALLOC:
        return fi_hwpt_alloc(s, p, n, why, why_len);
    case FI_HWPT_INVALIDATE:
        return fi_hwpt_invalidate(s, p, n, why, why_len);
    default:
        return fi_cache_invalidate(s, p, n, why, why_len);
    }
}

int fuzz_ioctl_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    struct fi_state s;
    if (fi_setup(&s, why, why_len))
        return -1;
    size_t off = 0;
    int rc = 0;
    bool trace = getenv("FUZZ_IOCTL_TRACE") != NULL; /* replaying a finding by hand */
    for (unsigned rec = 0; off < size && rec < FI_MAX_RECORDS && !rc; rec++) {
        unsigned op = data[off++];
        bool raw = op & FI_RAW_REQUEST;
        unsigned long request = 0;
        if (raw) {
            uint8_t r[4] = {0};
            memcpy(r, data + off, size - off < 4 ? size - off : 4);
            off += size - off < 4 ? size - off : 4;
            request = fi_le(r, 4);
        }
        uint8_t l[2] = {0};
        memcpy(l, data + off, size - off < 2 ? size - off : 2);
        off += size - off < 2 ? size - off : 2;
        size_t n = fi_le(l, 2) % (FI_MAX_PAYLOAD + 1);
        if (n > size - off)
            n = size - off;
        rc = fi_record(&s, op & 0xF, request, raw, data + off, n, why, why_len);
        off += n;
        if (trace)
            fprintf(stderr, "fuzz_ioctl: record %u op %u%s payload %zu: last answer %d\n", rec, op & 0xF,
                    raw ? " (raw)" : "", n, fi_last);
    }
    /* Whatever happened, the uAPI's objects must come apart cleanly. */
    fi_free(&s);
    return rc;
}
