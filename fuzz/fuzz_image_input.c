/*
 * fuzz_image_input.c: memory images over arbitrary bytes (layout: fuzz_image_input.h).
 *
 * Properties checked, beyond "no crash, no sanitizer report, no leak":
 *   - a refused image has a negative errno and a non-empty, terminated reason that starts with
 *     the file's path, and leaves memory as it was (no segment, plain zero memory);
 *   - an attached image's segments are non-empty, 4 KiB granular, in address order, disjoint,
 *     below 2^haw and inside the file;
 *   - the first and last qword of each segment read what the file holds there;
 *   - the bytes just outside a segment are backed only when a neighbouring segment holds them;
 *   - a write lands in memory and never in the file;
 *   - vtd_mem_reset detaches the image.
 */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz_image_input.h"
#include "fuzz_why.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "walker/mem.h"
#include "walker/mem_image.h"

#define FI_MAX_SEGS 64u

static const uint64_t fi_bases[4] = {0, 0x1000, 0x10000000, (UINT64_C(1) << 48) - 0x1000};
static const unsigned fi_haws[4] = {48, 39, 52, 12};

/*
 * The input's file: one in-memory file (memfd) for the whole process, emptied and rewritten per
 * input, opened by its /proc/self/fd path as a user's file would be; -1 when the kernel will
 * not make one or the write fails. Making and closing a memfd per input was a third of the
 * target's time, with the per-input memory below.
 */
static int fi_file(const uint8_t *bytes, size_t len, char path[64])
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_image", MFD_CLOEXEC)) < 0)
        return -1;
    if (ftruncate(fd, 0))
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, bytes + done, len - done, (off_t)done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* One memory per host address width for the whole process; each input starts from it reset
 * (vtd_mem_reset: no frame, no image, as vtd_mem_new left it). */
static struct vtd_mem *fi_mem(unsigned which)
{
    static struct vtd_mem *mems[4];
    if (!mems[which])
        return mems[which] = vtd_mem_new(fi_haws[which]);
    vtd_mem_reset(mems[which]);
    return mems[which];
}

static int fi_check_refusal(struct vtd_mem *m, int rc, const char *err, size_t errlen, const char *path, char *why,
                            size_t why_len)
{
    uint64_t v = 1;
    if (rc >= 0)
        return fuzz_fail(why, why_len, "attach returned %d", rc);
    if (!memchr(err, '\0', errlen) || !err[0])
        return fuzz_fail(why, why_len, "refused (%d) without a terminated reason", rc);
    if (strncmp(err, path, strlen(path)) != 0)
        return fuzz_fail(why, why_len, "the reason '%s' does not start with the path", err);
    if (vtd_mem_image_segments(m, NULL, 0) || vtd_mem_read64(m, 0, &v) || v)
        return fuzz_fail(why, why_len, "a refused image changed memory (%s)", err);
    return 0;
}

/* Layout of the segments against the file and the width. */
static int fi_check_layout(const struct vtd_mem_image_segment *s, size_t n, uint64_t file_len, unsigned haw,
                           char *why, size_t why_len)
{
    if (n == 0)
        return fuzz_fail(why, why_len, "attached with no segment");
    for (size_t i = 0; i < n && i < FI_MAX_SEGS; i++) {
        if (!s[i].len || ((s[i].pa | s[i].len) & 0xfff))
            return fuzz_fail(why, why_len, "segment %zu [%#llx, +%#llx) not 4 KiB granular", i,
                             (unsigned long long)s[i].pa, (unsigned long long)s[i].len);
        if (s[i].pa >= (UINT64_C(1) << haw) || s[i].len > (UINT64_C(1) << haw) - s[i].pa)
            return fuzz_fail(why, why_len, "segment %zu beyond %u bits", i, haw);
        if (s[i].file_offset > file_len || s[i].len > file_len - s[i].file_offset)
            return fuzz_fail(why, why_len, "segment %zu beyond the file", i);
        if (i && s[i].pa < s[i - 1].pa + s[i - 1].len)
            return fuzz_fail(why, why_len, "segments %zu and %zu out of order or overlapping", i - 1, i);
    }
    return 0;
}

/* Contents and edges of each segment (the first FI_MAX_SEGS of n). */
static int fi_check_reads(struct vtd_mem *m, const struct vtd_mem_image_segment *s, size_t n, const uint8_t *file,
                          char *why, size_t why_len)
{
    size_t seen = n < FI_MAX_SEGS ? n : FI_MAX_SEGS;
    for (size_t i = 0; i < seen; i++) {
        uint64_t first, last, want_first, want_last;
        memcpy(&want_first, file + s[i].file_offset, 8);
        memcpy(&want_last, file + s[i].file_offset + s[i].len - 8, 8);
        if (vtd_mem_read64(m, s[i].pa, &first) || vtd_mem_read64(m, s[i].pa + s[i].len - 8, &last) ||
            first != want_first || last != want_last)
            return fuzz_fail(why, why_len, "segment %zu does not read as the file", i);
        bool prev_adjacent = i && s[i - 1].pa + s[i - 1].len == s[i].pa;
        bool next_known = i + 1 < seen || n == seen; /* the segment after it was copied, or there is none */
        bool next_adjacent = i + 1 < seen && s[i + 1].pa == s[i].pa + s[i].len;
        if (s[i].pa && vtd_mem_backed(m, s[i].pa - 1, 1) != prev_adjacent)
            return fuzz_fail(why, why_len, "the byte before segment %zu is wrongly %sbacked", i, prev_adjacent ? "un" : "");
        if (next_known && vtd_mem_backed(m, s[i].pa + s[i].len, 1) != next_adjacent)
            return fuzz_fail(why, why_len, "the byte after segment %zu is wrongly %sbacked", i, next_adjacent ? "un" : "");
    }
    return 0;
}

/* A write of the first segment's first qword: memory changes, the file does not. */
static int fi_check_write(struct vtd_mem *m, const struct vtd_mem_image_segment *s, int fd, const uint8_t *file,
                          char *why, size_t why_len)
{
    uint64_t old, now, on_disk;
    memcpy(&old, file + s->file_offset, 8);
    if (vtd_mem_write64(m, s->pa, ~old) || vtd_mem_read64(m, s->pa, &now) || now != ~old)
        return fuzz_fail(why, why_len, "a write to the image did not land");
    if (pread(fd, &on_disk, 8, (off_t)s->file_offset) != 8 || on_disk != old)
        return fuzz_fail(why, why_len, "a write reached the file");
    return 0;
}

int fuzz_image_one(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    uint8_t sel = size ? data[0] : 0;
    const uint8_t *file = size ? data + 1 : data;
    size_t file_len = size ? size - 1 : 0;
    unsigned haw = fi_haws[(sel >> 3) & 3];
    struct vtd_mem *m = fi_mem((sel >> 3) & 3);
    char path[64], err[512];
    int fd = fi_file(file, file_len, path);
    if (!m || fd < 0)
        return 0; /* the host is out of memory or file descriptors: nothing to check */
    memset(err, 'x', sizeof err);
    enum vtd_image_format fmt = sel & FI_ELF ? VTD_IMAGE_ELF : VTD_IMAGE_RAW;
    int rc = vtd_mem_attach_image(m, path, fmt, fi_bases[(sel >> 1) & 3], err, sizeof err);
    struct vtd_mem_image_segment segs[FI_MAX_SEGS];
    size_t n = rc ? 0 : vtd_mem_image_segments(m, segs, FI_MAX_SEGS);
    int bad = rc ? fi_check_refusal(m, rc, err, sizeof err, path, why, why_len)
                 : fi_check_layout(segs, n, file_len, haw, why, why_len);
    if (!rc && !bad)
        bad = fi_check_reads(m, segs, n, file, why, why_len);
    if (!rc && !bad)
        bad = fi_check_write(m, &segs[0], fd, file, why, why_len);
    vtd_mem_reset(m);
    if (!bad && vtd_mem_image_segments(m, NULL, 0))
        bad = fuzz_fail(why, why_len, "vtd_mem_reset kept the image");
    return bad;
}
