/*
 * mem_image.c: reading an image file into simulated memory (see mem_image.h): open it as a
 * regular file, map it privately, find its segments (raw: one; ELF core: the PT_LOAD program
 * headers), validate every header field against the file and the host address width, and hand
 * the segments to mem.c. Headers are read from the mapping with memcpy, never through casts, so
 * a hostile file can misalign nothing.
 */
#define _DEFAULT_SOURCE /* MAP_NORESERVE */
#include "walker/mem_image.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "walker/alloc.h"
#include "walker/hostfile.h"
#include "walker/mem_internal.h"

#define IMG_FRAME UINT64_C(0x1000)
#define IMG_FRAME_MASK (IMG_FRAME - 1)

/* What one attach works on: the mapped file, where it goes, and where the reason goes. */
struct image {
    const char *path;
    const uint8_t *bytes; /* the mapping */
    uint64_t size;        /* of the file */
    uint64_t base;
    unsigned haw;
    char *err;
    size_t errlen;
};

/* A segment with the program header it came from, for messages about overlaps. */
struct found_seg {
    struct vtd_mem_backing_seg seg;
    size_t phdr;
};

static const char *const format_names[] = {[VTD_IMAGE_RAW] = "raw", [VTD_IMAGE_ELF] = "elf"};

const char *vtd_image_format_name(enum vtd_image_format fmt)
{
    return (unsigned)fmt < sizeof format_names / sizeof *format_names ? format_names[fmt] : NULL;
}

int vtd_image_format_parse(const char *name, enum vtd_image_format *fmt)
{
    for (unsigned i = 0; name && i < sizeof format_names / sizeof *format_names; i++)
        if (!strcmp(name, format_names[i])) {
            *fmt = (enum vtd_image_format)i;
            return 0;
        }
    return -EINVAL;
}

/* "PATH: reason" into the caller's buffer; returns rc. */
static int __attribute__((format(printf, 5, 6)))
say(const char *path, char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (!err || !errlen)
        return rc;
    int n = snprintf(err, errlen, "%s: ", path ? path : "(no path)");
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define FAIL(img, rc, ...) say((img)->path, (img)->err, (img)->errlen, (rc), __VA_ARGS__)

/* ---- the guest-physical range of a segment ---- */

/*
 * Whether [pa, pa+len) is a usable segment: 4 KiB granular (simulated memory's frame size) and
 * below 2^haw. `what` names it in the reason ("the raw image", "program header 3").
 */
static int range_check(const struct image *img, const char *what, uint64_t pa, uint64_t len)
{
    if (pa & IMG_FRAME_MASK)
        return FAIL(img, -EINVAL, "%s: guest-physical address %#llx is not 4 KiB aligned", what,
                    (unsigned long long)pa);
    if (len & IMG_FRAME_MASK)
        return FAIL(img, -EINVAL, "%s: size %#llx is not a multiple of 4 KiB", what, (unsigned long long)len);
    uint64_t limit = UINT64_C(1) << img->haw;
    if (pa >= limit || len > limit - pa)
        return FAIL(img, -ERANGE, "%s: guest-physical [%#llx, %#llx%s) lies beyond the host address width (%u bits)",
                    what, (unsigned long long)pa, (unsigned long long)(pa + len), pa + len < pa ? " + 2^64" : "",
                    img->haw);
    return 0;
}

/* ---- raw ---- */

static int raw_segments(const struct image *img, struct found_seg **out, size_t *n)
{
    int rc = range_check(img, "raw image", img->base, img->size);
    if (rc)
        return rc;
    if (!(*out = vtd_calloc(1, sizeof **out)))
        return FAIL(img, -ENOMEM, "out of memory");
    (*out)[0] = (struct found_seg){.seg = {.pa = img->base, .len = img->size, .file_offset = 0}};
    *n = 1;
    return 0;
}

/* ---- ELF core ---- */

/* Whether [off, off+len) lies inside the file (no wrap). */
static bool in_file(const struct image *img, uint64_t off, uint64_t len)
{
    return off <= img->size && len <= img->size - off;
}

static int ehdr_check(const struct image *img, const Elf64_Ehdr *eh)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    /* The headers are read in host order: only a little-endian host reads them right. */
    return FAIL(img, -EINVAL, "ELF images are read on little-endian hosts only");
#endif
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
        return FAIL(img, -EINVAL, "not an ELF file (bad magic)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return FAIL(img, -EINVAL, "ELF class %u is not supported (need ELFCLASS64, a 64-bit core)",
                    eh->e_ident[EI_CLASS]);
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return FAIL(img, -EINVAL, "ELF data encoding %u is not supported (need ELFDATA2LSB, little-endian)",
                    eh->e_ident[EI_DATA]);
    if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
        return FAIL(img, -EINVAL, "ELF version %u is not EV_CURRENT", (unsigned)eh->e_version);
    if (eh->e_type != ET_CORE)
        return FAIL(img, -EINVAL, "ELF type %u is not ET_CORE (a core file, as dump-guest-memory writes)",
                    (unsigned)eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return FAIL(img, -EINVAL, "e_phentsize %u is not %zu, the size of Elf64_Phdr", (unsigned)eh->e_phentsize,
                    sizeof(Elf64_Phdr));
    return 0;
}

/*
 * The number of program headers: e_phnum, or with PN_XNUM the count section header 0 keeps in
 * sh_info (the ELF gABI's extension for 65535 or more, which QEMU uses for large guests).
 */
static int phdr_count(const struct image *img, const Elf64_Ehdr *eh, uint64_t *count)
{
    *count = eh->e_phnum;
    if (eh->e_phnum != PN_XNUM)
        return 0;
    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
        return FAIL(img, -EINVAL, "e_phnum is PN_XNUM but there is no section header 0 with the real count");
    if (!in_file(img, eh->e_shoff, sizeof(Elf64_Shdr)))
        return FAIL(img, -EINVAL, "section header 0 at %#llx runs past the end of the file (size %#llx)",
                    (unsigned long long)eh->e_shoff, (unsigned long long)img->size);
    Elf64_Shdr sh;
    memcpy(&sh, img->bytes + eh->e_shoff, sizeof sh);
    *count = sh.sh_info;
    return 0;
}

/* The PT_LOAD segment of program header `i`, validated; *keep false for one with no file bytes. */
static int load_segment(const struct image *img, size_t i, const Elf64_Phdr *ph, struct found_seg *out, bool *keep)
{
    char what[48];
    snprintf(what, sizeof what, "program header %zu (PT_LOAD)", i);
    *keep = ph->p_filesz != 0; /* memory QEMU left out of the dump: a hole */
    if (!*keep)
        return 0;
    if (ph->p_filesz > ph->p_memsz)
        return FAIL(img, -EINVAL, "%s: p_filesz %#llx exceeds p_memsz %#llx", what,
                    (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
    if (!in_file(img, ph->p_offset, ph->p_filesz))
        return FAIL(img, -EINVAL, "%s: its bytes [%#llx, +%#llx) run past the end of the file (size %#llx)", what,
                    (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
                    (unsigned long long)img->size);
    if (ph->p_paddr + img->base < ph->p_paddr)
        return FAIL(img, -ERANGE, "%s: p_paddr %#llx + base %#llx wraps past 2^64", what,
                    (unsigned long long)ph->p_paddr, (unsigned long long)img->base);
    uint64_t pa = ph->p_paddr + img->base;
    int rc = range_check(img, what, pa, ph->p_filesz);
    if (rc)
        return rc;
    *out = (struct found_seg){.seg = {.pa = pa, .len = ph->p_filesz, .file_offset = ph->p_offset}, .phdr = i};
    return 0;
}

static int elf_segments(const struct image *img, struct found_seg **out, size_t *n)
{
    Elf64_Ehdr eh;
    if (img->size < sizeof eh)
        return FAIL(img, -EINVAL, "truncated ELF header (%llu bytes, need %zu)", (unsigned long long)img->size,
                    sizeof eh);
    memcpy(&eh, img->bytes, sizeof eh);
    uint64_t count;
    int rc = ehdr_check(img, &eh);
    if (rc || (rc = phdr_count(img, &eh, &count)))
        return rc;
    /* count < 2^32 and each header is 56 bytes: no overflow. */
    if (!in_file(img, eh.e_phoff, count * sizeof(Elf64_Phdr)))
        return FAIL(img, -EINVAL, "%llu program headers at %#llx run past the end of the file (size %#llx)",
                    (unsigned long long)count, (unsigned long long)eh.e_phoff, (unsigned long long)img->size);
    struct found_seg *segs = vtd_calloc(count ? count : 1, sizeof *segs);
    if (!segs)
        return FAIL(img, -ENOMEM, "out of memory for %llu program headers", (unsigned long long)count);
    size_t kept = 0;
    for (uint64_t i = 0; i < count; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img->bytes + eh.e_phoff + i * sizeof ph, sizeof ph);
        bool keep = false;
        if (ph.p_type == PT_LOAD && (rc = load_segment(img, (size_t)i, &ph, &segs[kept], &keep))) {
            vtd_free(segs);
            return rc;
        }
        kept += keep;
    }
    if (kept == 0) {
        vtd_free(segs);
        return FAIL(img, -EINVAL, "no PT_LOAD program header holds memory (%llu program headers)",
                    (unsigned long long)count);
    }
    *out = segs;
    *n = kept;
    return 0;
}

/* ---- the segment list ---- */

static int seg_order(const void *a, const void *b)
{
    uint64_t x = ((const struct found_seg *)a)->seg.pa, y = ((const struct found_seg *)b)->seg.pa;
    return (x > y) - (x < y);
}

/* Sorted by address; the first overlap is an error naming both program headers. */
static int segs_sort(const struct image *img, struct found_seg *segs, size_t n)
{
    qsort(segs, n, sizeof *segs, seg_order);
    for (size_t i = 1; i < n; i++) {
        const struct found_seg *a = &segs[i - 1], *b = &segs[i];
        if (b->seg.pa - a->seg.pa < a->seg.len)
            return FAIL(img, -EINVAL, "program headers %zu and %zu overlap at guest-physical %#llx", a->phdr,
                        b->phdr, (unsigned long long)b->seg.pa);
    }
    return 0;
}

/* The backing segments mem.c takes: host pointers into the mapping, in address order. */
static struct vtd_mem_backing_seg *backing_of(const struct image *img, const struct found_seg *segs, size_t n)
{
    struct vtd_mem_backing_seg *b = vtd_calloc(n, sizeof *b);
    for (size_t i = 0; b && i < n; i++) {
        b[i] = segs[i].seg;
        b[i].host = (uint8_t *)img->bytes + segs[i].seg.file_offset;
    }
    return b;
}

/* ---- mapping ---- */

static void image_unmap(void *map, size_t len) { munmap(map, len); }

/*
 * The whole file, mapped private and writable: the model's writes become the process's own
 * copies of the pages, never the file's. MAP_NORESERVE: a multi-GiB image must not be charged
 * as if every page were about to be copied.
 */
static int map_file(struct image *img, void **map)
{
    char why[256];
    FILE *f = vtd_fopen_regular(img->path, &img->size, why, sizeof why);
    if (!f)
        return FAIL(img, -(errno ? errno : EINVAL), "%s", why);
    if (img->size == 0) {
        fclose(f);
        return FAIL(img, -EINVAL, "empty file");
    }
#if SIZE_MAX < UINT64_MAX
    if (img->size > SIZE_MAX) {
        fclose(f);
        return FAIL(img, -EFBIG, "too large to map on this host");
    }
#endif
    void *p = mmap(NULL, (size_t)img->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fileno(f), 0);
    int e = errno;
    fclose(f); /* the mapping keeps the file */
    if (p == MAP_FAILED)
        return FAIL(img, -e, "cannot map: %s", strerror(e));
    *map = p;
    img->bytes = p;
    return 0;
}

int vtd_mem_attach_image(struct vtd_mem *m, const char *path, enum vtd_image_format fmt, uint64_t base,
                         char *err, size_t errlen)
{
    struct image img = {.path = path, .base = base, .haw = vtd_mem_haw(m), .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!m || !path || !vtd_image_format_name(fmt))
        return FAIL(&img, -EINVAL, "bad argument (%s)", !m ? "no memory" : !path ? "no path" : "unknown format");
    if (vtd_mem_frames(m) || vtd_mem_image_segments(m, NULL, 0))
        return FAIL(&img, -EBUSY, "memory already holds data: attach an image before writing");
    void *map = NULL;
    int rc = map_file(&img, &map);
    if (rc)
        return rc;
    struct found_seg *segs = NULL;
    size_t n = 0;
    rc = fmt == VTD_IMAGE_RAW ? raw_segments(&img, &segs, &n) : elf_segments(&img, &segs, &n);
    if (!rc)
        rc = segs_sort(&img, segs, n);
    struct vtd_mem_backing_seg *b = rc ? NULL : backing_of(&img, segs, n);
    if (!rc && !b)
        rc = FAIL(&img, -ENOMEM, "out of memory");
    if (!rc && (rc = vtd_mem_back(m, b, n, map, (size_t)img.size, image_unmap)))
        rc = FAIL(&img, rc, rc == -EBUSY ? "memory already holds data" : "out of memory");
    vtd_free(segs);
    if (rc) {
        vtd_free(b);
        munmap(map, (size_t)img.size);
    }
    return rc;
}
