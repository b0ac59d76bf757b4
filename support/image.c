/* image.c: raw and ELF-core images of simulated memory (the formats of QEMU's pmemsave and
 * dump-guest-memory), for the tests and benchmarks of `vtdsim inspect`. */
#include "image.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "walker/bits.h"

/* Copy [pa, pa+len) of memory to the stream, a page at a time. */
static int copy_out(struct vtd_mem *m, uint64_t pa, uint64_t len, FILE *f)
{
    uint8_t page[VTD_PAGE_SIZE];
    for (uint64_t off = 0; off < len; off += VTD_PAGE_SIZE) {
        size_t n = len - off < VTD_PAGE_SIZE ? (size_t)(len - off) : VTD_PAGE_SIZE;
        if (vtd_mem_read(m, pa + off, page, n))
            return -EFAULT;
        if (fwrite(page, 1, n, f) != n)
            return -EIO;
    }
    return 0;
}

static int finish(FILE *f, int rc)
{
    if (fclose(f) && !rc)
        rc = -EIO;
    return rc;
}

int image_write_raw(struct vtd_mem *m, uint64_t base, uint64_t len, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    return finish(f, copy_out(m, base, len, f));
}

int image_write_elf(struct vtd_mem *m, const struct image_segment *seg, size_t n, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    Elf64_Ehdr eh = {.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_phoff = sizeof eh, .e_ehsize = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = (Elf64_Half)n};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    int rc = fwrite(&eh, sizeof eh, 1, f) == 1 ? 0 : -EIO;
    /* Segment data from the first page boundary after the headers, page after page. */
    uint64_t off = (sizeof eh + n * sizeof(Elf64_Phdr) + VTD_PAGE_SIZE - 1) & VTD_PAGE_MASK;
    for (size_t i = 0; i < n && !rc; i++) {
        Elf64_Phdr ph = {.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_offset = off, .p_vaddr = seg[i].pa,
                         .p_paddr = seg[i].pa, .p_filesz = seg[i].len, .p_memsz = seg[i].len, .p_align = 0};
        rc = fwrite(&ph, sizeof ph, 1, f) == 1 ? 0 : -EIO;
        off += seg[i].len;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        /* Pad to the page boundary the header promised, then the bytes. */
        long pos = ftell(f);
        if (pos < 0)
            rc = -EIO;
        else if (i == 0)
            for (uint64_t p = (uint64_t)pos; p % VTD_PAGE_SIZE && !rc; p++)
                rc = fputc(0, f) == EOF ? -EIO : 0;
        if (!rc)
            rc = copy_out(m, seg[i].pa, seg[i].len, f);
    }
    return finish(f, rc);
}
