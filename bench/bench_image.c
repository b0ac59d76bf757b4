/*
 * bench_image.c: opening a large memory image (walker/mem_image.h) and answering the first
 * translation from it, and the host memory that costs.
 *
 * Target: a 4 GiB image opened and its first translation answered in under 50 ms, with host
 * memory touched in proportion to the tables read, not to the image's size. The images are
 * sparse files (a hole costs no disk) holding one guest's tables at 256 MiB: a raw image, and
 * an ELF core shaped like QEMU's dump of a 4 GiB guest (a PT_NOTE, 3 GiB below the PCI hole
 * and 1 GiB above 4 GiB). Each run builds a new IOMMU over the image, latches the guest's root
 * table and translates one address (a 4-level first-stage walk); the time is the median of the
 * runs, the resident-memory growth (VmRSS) and the model's footprint are the last run's.
 */
#define _DEFAULT_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "sim/iommu.h"
#include "walker/mem_image.h"
#include "world.h"

#define GIB (UINT64_C(1) << 30)
#define GUEST_VA UINT64_C(0x4000)
#define GUEST_PA UINT64_C(0x9000)

/* The guest's tables: the pool's pages and the root table that starts them. */
struct guest {
    uint64_t rtaddr;
    uint8_t *pool;
    uint64_t pool_len;
};

struct image_row {
    const char *name;
    double open_ms;      /* IOMMU, attach, root latched */
    double first_ms;     /* open plus the first translation */
    uint64_t rss_kib;    /* resident-memory growth of the last run */
    uint64_t footprint;  /* vtd_mem_footprint after the translation */
    uint64_t out;        /* the translation's output, to check it */
    bool skipped, failed;
};

static int guest_build(struct guest *g)
{
    struct world w;
    struct vtd_ctx ctx;
    struct vtd_pt fs, ss;
    struct vtd_pasid_cfg cfg;
    if (world_init(&w, NULL) || world_device(&w, 0x0018, &ctx) ||
        world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 4, &fs, &ss, &cfg) ||
        vtd_pt_map(&fs, GUEST_VA, GUEST_PA, 0x1000, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD))
        return -1;
    g->rtaddr = w.rtaddr;
    g->pool_len = w.b.pool_next - WORLD_POOL_BASE;
    g->pool = malloc(g->pool_len);
    int rc = g->pool ? vtd_mem_read(w.mem, WORLD_POOL_BASE, g->pool, g->pool_len) : -1;
    world_fini(&w);
    return rc;
}

/* A sparse file of `size` bytes with the pool written at file offset `pool_off`. */
static int sparse_file(const char *path, uint64_t size, const void *head, size_t head_len, const struct guest *g,
                       uint64_t pool_off)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int rc = ftruncate(fd, (off_t)size);
    if (!rc && head_len && pwrite(fd, head, head_len, 0) != (ssize_t)head_len)
        rc = -1;
    if (!rc && pwrite(fd, g->pool, g->pool_len, (off_t)pool_off) != (ssize_t)g->pool_len)
        rc = -1;
    return close(fd) || rc ? -1 : 0;
}

/* QEMU's layout for a 4 GiB guest: a note, RAM [0, 3 GiB) and [4 GiB, 5 GiB). */
static int elf_file(const char *path, const struct guest *g)
{
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph[3];
        uint8_t note[64];
    } h = {0};
    uint64_t data = 0x1000; /* QEMU's offsets are not page aligned; any works */
    memcpy(h.eh.e_ident, ELFMAG, SELFMAG);
    h.eh.e_ident[EI_CLASS] = ELFCLASS64;
    h.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    h.eh.e_ident[EI_VERSION] = EV_CURRENT;
    h.eh.e_type = ET_CORE;
    h.eh.e_machine = EM_X86_64;
    h.eh.e_version = EV_CURRENT;
    h.eh.e_phoff = sizeof h.eh;
    h.eh.e_ehsize = sizeof h.eh;
    h.eh.e_phentsize = sizeof(Elf64_Phdr);
    h.eh.e_phnum = 3;
    h.ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = sizeof h.eh + sizeof h.ph, .p_filesz = 64, .p_memsz = 64};
    h.ph[1] = (Elf64_Phdr){.p_type = PT_LOAD, .p_offset = data, .p_filesz = 3 * GIB, .p_memsz = 3 * GIB};
    h.ph[2] = (Elf64_Phdr){.p_type = PT_LOAD, .p_offset = data + 3 * GIB, .p_paddr = 4 * GIB, .p_filesz = GIB,
                           .p_memsz = GIB};
    return sparse_file(path, data + 4 * GIB, &h, sizeof h, g, data + WORLD_POOL_BASE);
}

/* Resident set in KiB (VmRSS), 0 if unknown. */
static uint64_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* One open and first translation; false on any error. */
static bool run_once(const char *path, enum vtd_image_format fmt, const struct guest *g, struct image_row *r,
                     double *open_ns, double *first_ns)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    const struct vtd_device_config dev = {.sid = 0x0018, .pasid_bits = 20};
    const struct vtd_request req = {.sid = 0x0018, .pasid_valid = true, .pasid = 1, .addr = GUEST_VA,
                                    .access = VTD_ACC_R};
    char err[256];
    struct vtd_dma_result res;
    uint64_t rss0 = rss_kib();
    double t0 = bench_now_ns();
    struct vtd_iommu *io = vtd_iommu_new(&cfg, NULL);
    bool ok = io && !vtd_mem_attach_image(vtd_iommu_mem(io), path, fmt, 0, err, sizeof err) &&
              !vtd_iommu_add_device(io, &dev);
    if (ok)
        vtd_iommu_set_root(io, g->rtaddr);
    double t1 = bench_now_ns();
    ok = ok && !vtd_iommu_dma(io, &req, &res);
    double t2 = bench_now_ns();
    if (ok) {
        r->out = res.x.out;
        r->footprint = vtd_mem_footprint(vtd_iommu_mem(io));
        r->rss_kib = rss_kib() - rss0;
    } else {
        fprintf(stderr, "%s: %s\n", r->name, io ? err : "no IOMMU");
    }
    *open_ns = t1 - t0;
    *first_ns = t2 - t0;
    vtd_iommu_free(io);
    return ok;
}

static void measure(struct image_row *r, const char *path, enum vtd_image_format fmt, const struct guest *g, int runs)
{
    double open_ns[9], first_ns[9];
    for (int i = 0; i < runs; i++)
        if (!run_once(path, fmt, g, r, &open_ns[i], &first_ns[i])) {
            r->failed = true;
            return;
        }
    r->open_ms = bench_median(open_ns, runs) / 1e6;
    r->first_ms = bench_median(first_ns, runs) / 1e6;
}

static void write_rows(const char *path, const struct image_row *rows, int n, bool json)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        if (path)
            fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fprintf(f, json ? "[\n" : "name,open_ms,first_translation_ms,rss_growth_kib,footprint_bytes\n");
    for (int i = 0, first = 1; i < n; i++) {
        const struct image_row *r = &rows[i];
        if (r->skipped || r->failed)
            continue;
        if (json)
            fprintf(f, "%s  {\"name\": \"%s\", \"open_ms\": %.3f, \"first_translation_ms\": %.3f, "
                       "\"rss_growth_kib\": %llu, \"footprint_bytes\": %llu}",
                    first ? "" : ",\n", r->name, r->open_ms, r->first_ms, (unsigned long long)r->rss_kib,
                    (unsigned long long)r->footprint);
        else
            fprintf(f, "\"%s\",%.3f,%.3f,%llu,%llu\n", r->name, r->open_ms, r->first_ms,
                    (unsigned long long)r->rss_kib, (unsigned long long)r->footprint);
        first = 0;
    }
    if (json)
        fprintf(f, "\n]\n");
    fclose(f);
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (!bench_parse_args(argc, argv, "bench_image", &o))
        return 2;
    struct guest g;
    char dir[] = "/tmp/vtdsim-bench-image-XXXXXX", raw[64], elf[64];
    if (guest_build(&g) || !mkdtemp(dir)) {
        fprintf(stderr, "bench_image: setup failed\n");
        return 1;
    }
    snprintf(raw, sizeof raw, "%s/guest.raw", dir);
    snprintf(elf, sizeof elf, "%s/guest.elf", dir);
    struct image_row rows[] = {
        {.name = "raw 4 GiB, tables at 256 MiB"},
        {.name = "elf 4 GiB core (3 GiB + 1 GiB above 4 GiB)"},
    };
    const char *paths[] = {raw, elf};
    const enum vtd_image_format fmts[] = {VTD_IMAGE_RAW, VTD_IMAGE_ELF};
    int runs = o.quick ? 3 : 7, rc = 0;
    for (int i = 0; i < 2; i++) {
        rows[i].skipped = !bench_selected(&o, rows[i].name);
        if (rows[i].skipped)
            continue;
        int made = i == 0 ? sparse_file(raw, 4 * GIB, NULL, 0, &g, WORLD_POOL_BASE) : elf_file(elf, &g);
        if (made) {
            fprintf(stderr, "%s: cannot write the image\n", rows[i].name);
            rows[i].failed = true;
        } else {
            measure(&rows[i], paths[i], fmts[i], &g, runs);
        }
        unlink(paths[i]);
        rc |= rows[i].failed || rows[i].out != GUEST_PA;
    }
    rmdir(dir);
    free(g.pool);
    printf("%-46s %9s %12s %12s %12s\n", "benchmark", "open ms", "+1st xlate", "RSS +KiB", "footprint");
    for (int i = 0; i < 2; i++)
        if (!rows[i].skipped)
            printf("%-46s %9.3f %12.3f %12llu %12llu%s\n", rows[i].name, rows[i].open_ms, rows[i].first_ms,
                   (unsigned long long)rows[i].rss_kib, (unsigned long long)rows[i].footprint,
                   rows[i].failed ? "  FAILED" : rows[i].out != GUEST_PA ? "  WRONG ANSWER" : "");
    printf("\ntarget: a 4 GiB image opened and first translation answered in < 50 ms\n");
    write_rows(o.json, rows, 2, true);
    write_rows(o.csv, rows, 2, false);
    return rc;
}
