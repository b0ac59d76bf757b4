/*
 * test_scenario_image.c: scenarios on real memory. A guest's tables are built with the walker's
 * builders, dumped as a raw image and as an ELF core with a hole (as dump-guest-memory writes
 * them), and scenarios state expectations about them through `memory:` and `rtaddr:`. Also: the
 * bulk write_mem forms, `fault: any`, every failure kept on request, the errors of each key at
 * file:line:column, and the views that must follow a re-latched root table.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "runner/scenario.h"
#include "walker/builder.h"
#include "world.h"

#define PAGE 0x1000u
#define GUEST_VA UINT64_C(0x4000)
#define GUEST_PA UINT64_C(0x9000)

static char dir[64];

/* What the generated guest looks like, for the scenarios' expectations. */
static struct guest {
    uint64_t rtaddr;     /* RTADDR_REG value */
    uint64_t leaf_page;  /* the page of the first-stage leaf table mapping GUEST_VA */
    uint64_t end;        /* the pool's first unused address */
    uint8_t *bytes;      /* [WORLD_POOL_BASE, end) */
} g;

static void guest_build(void)
{
    struct world w;
    struct vtd_ctx ctx;
    struct vtd_pt fs, ss;
    struct vtd_pasid_cfg cfg;
    cr_assert_eq(world_init(&w, NULL), 0);
    cr_assert_eq(world_device(&w, 0x0018, &ctx), 0); /* 00:03.0 */
    cr_assert_eq(world_pasid(&w, &ctx, 1, VTD_PGTT_FS, 4, 4, &fs, &ss, &cfg), 0);
    cr_assert_eq(vtd_pt_map(&fs, GUEST_VA, GUEST_PA, PAGE, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, 0), 0);
    uint64_t leaf;
    cr_assert_eq(vtd_pt_entry_addr(&fs, GUEST_VA, 1, &leaf), 0);
    g.rtaddr = w.rtaddr;
    g.leaf_page = leaf & ~(uint64_t)(PAGE - 1);
    g.end = w.b.pool_next;
    g.bytes = malloc(g.end - WORLD_POOL_BASE);
    cr_assert_not_null(g.bytes);
    cr_assert_eq(vtd_mem_read(w.mem, WORLD_POOL_BASE, g.bytes, g.end - WORLD_POOL_BASE), 0);
    world_fini(&w);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vtdsim-scimg-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    guest_build();
}

static void teardown(void)
{
    free(g.bytes);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(scenario_image, .init = setup, .fini = teardown);

static const char *path_in(const char *name)
{
    static char p[4][128];
    static unsigned next;
    char *s = p[next++ % 4];
    snprintf(s, 128, "%s/%s", dir, name);
    return s;
}

/* The pool as a raw image at WORLD_POOL_BASE. */
static void write_raw(const char *name)
{
    FILE *f = fopen(path_in(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(g.bytes, 1, g.end - WORLD_POOL_BASE, f), g.end - WORLD_POOL_BASE);
    fclose(f);
}

/* The pool as an ELF core: a PT_NOTE, then PT_LOADs around a hole where the leaf table was. */
static void write_elf(const char *name)
{
    uint64_t lo_len = g.leaf_page - WORLD_POOL_BASE, hi_pa = g.leaf_page + PAGE, hi_len = g.end - hi_pa;
    Elf64_Ehdr eh = {.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_phoff = sizeof eh, .e_ehsize = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    uint64_t data = sizeof eh + 3 * sizeof(Elf64_Phdr) + 20;
    Elf64_Phdr ph[3] = {
        {.p_type = PT_NOTE, .p_offset = data - 20, .p_filesz = 20, .p_memsz = 20},
        {.p_type = PT_LOAD, .p_offset = data, .p_paddr = WORLD_POOL_BASE, .p_filesz = lo_len, .p_memsz = lo_len},
        {.p_type = PT_LOAD, .p_offset = data + lo_len, .p_paddr = hi_pa, .p_filesz = hi_len, .p_memsz = hi_len},
    };
    FILE *f = fopen(path_in(name), "wb");
    cr_assert_not_null(f);
    uint8_t note[20] = {0};
    cr_assert_eq(fwrite(&eh, sizeof eh, 1, f), 1);
    cr_assert_eq(fwrite(ph, sizeof ph, 1, f), 1);
    cr_assert_eq(fwrite(note, sizeof note, 1, f), 1);
    cr_assert_eq(fwrite(g.bytes, 1, lo_len, f), lo_len);
    cr_assert_eq(fwrite(g.bytes + (hi_pa - WORLD_POOL_BASE), 1, hi_len, f), hi_len);
    fclose(f);
}

/* Run `text` as <dir>/t.yaml; its load error or the failures joined, "" when it passed. */
static const char *run(const char *text, const struct sc_run_opts *o, struct sc_result *keep)
{
    static char out[8192];
    struct sc_error err;
    struct sc_result r = {0};
    const char *name = path_in("t.yaml");
    out[0] = 0;
    struct scenario *s = sc_load_string(name, text, strlen(text), &err);
    if (!s) {
        sc_error_format("t.yaml", &err, out, sizeof out);
        return out;
    }
    bool ok = sc_run(s, o, &r);
    sc_free(s);
    if (r.load_error)
        snprintf(out, sizeof out, "%s", r.load_error);
    for (unsigned i = 0; i < r.nfail; i++)
        strncat(out, r.fail[i].text, sizeof out - strlen(out) - 1);
    if (!ok && !out[0])
        snprintf(out, sizeof out, "failed without a report");
    if (keep)
        *keep = r;
    else
        sc_result_free(&r);
    return out;
}

static char text[4096];

/* A scenario over the guest: `memory` is the memory: mapping's body. */
static const char *guest_scenario(const char *memory, const char *steps)
{
    snprintf(text, sizeof text,
             "name: t\nmemory: {%s}\nrtaddr: 0x%llx\ndevices:\n  - {name: nic, bdf: \"00:03.0\"}\n"
             "  - {name: other, bdf: \"05:00.0\"}\nsteps:\n%s",
             memory, (unsigned long long)g.rtaddr, steps);
    return text;
}

#define BASE_RAW "image: guest.raw, base: 0x10000000"

Test(scenario_image, raw_guest_translates_through_its_own_tables)
{
    write_raw("guest.raw");
    const char *steps =
        "  - dma: {device: nic, pasid: 1, addr: 0x4000, access: write, expect: {out: 0x9000, page: 4K, perm: rwu}}\n"
        "  - dma: {device: nic, pasid: 1, addr: 0x5000, access: read, expect: {fault: FS_PAGING_ENTRY_P}}\n"
        "  - dma: {device: nic, pasid: 1, addr: 0x5000, access: read, expect: {fault: any}}\n"
        "  - dma: {device: other, pasid: 1, addr: 0x4000, access: read, expect: {fault: ROOT_ENTRY_P}}\n"
        "  - check: {expect: {fault_records: [{reason: any, device: nic}]}}\n";
    cr_assert_str_eq(run(guest_scenario(BASE_RAW, steps), NULL, NULL), "");
    /* The A/D bits the write set went to a private copy: the file is as it was. */
    FILE *f = fopen(path_in("guest.raw"), "rb");
    uint8_t *again = malloc(g.end - WORLD_POOL_BASE);
    cr_assert_eq(fread(again, 1, g.end - WORLD_POOL_BASE, f), g.end - WORLD_POOL_BASE);
    fclose(f);
    cr_assert_eq(memcmp(again, g.bytes, g.end - WORLD_POOL_BASE), 0);
    free(again);
}

Test(scenario_image, elf_core_hole_is_an_access_error)
{
    write_elf("guest.elf");
    char mem[256];
    snprintf(mem, sizeof mem, "image: %s, format: elf", path_in("guest.elf")); /* an absolute path */
    const char *steps =
        "  - dma: {device: nic, pasid: 1, addr: 0x4000, access: read, expect: {fault: FS_PAGING_ENTRY_ACCESS}}\n"
        "  - write_mem: {addr: 0x4000, value: 1, expect: {errno: EFAULT}}\n";
    cr_assert_str_eq(run(guest_scenario(mem, steps), NULL, NULL), "");
}

Test(scenario_image, fault_any_fails_on_success_and_says_so)
{
    write_raw("guest.raw");
    const char *got = run(guest_scenario(BASE_RAW, "  - dma: {device: nic, pasid: 1, addr: 0x4000, access: read, "
                                                   "expect: {fault: any}}\n"),
                          NULL, NULL);
    cr_assert(strstr(got, "expected fault any, got none"), "%s", got);
}

Test(scenario_image, image_errors_point_at_the_memory_key)
{
    const char *got = run(guest_scenario("image: missing.raw", "  - check: {}\n"), NULL, NULL);
    cr_assert(strstr(got, ":2:9: memory: "), "%s", got);
    cr_assert(strstr(got, "missing.raw: cannot open: No such file or directory (ENOENT)"), "%s", got);
    FILE *f = fopen(path_in("odd.raw"), "wb");
    fputs("not a page", f);
    fclose(f);
    got = run(guest_scenario("image: odd.raw", "  - check: {}\n"), NULL, NULL);
    cr_assert(strstr(got, "odd.raw: raw image: size 0xa is not a multiple of 4 KiB (EINVAL)"), "%s", got);
    got = run(guest_scenario("image: odd.raw, format: elf", "  - check: {}\n"), NULL, NULL);
    cr_assert(strstr(got, "truncated ELF header"), "%s", got);
    cr_assert_str_eq(run(guest_scenario("image: x.raw, format: qcow2", "  - check: {}\n"), NULL, NULL),
                     "t.yaml:2:32: 'format' must be one of: raw, elf");
    cr_assert_str_eq(run(guest_scenario("image: x.raw, base: 0x800", "  - check: {}\n"), NULL, NULL),
                     "t.yaml:2:30: 'base' must be 4 KiB aligned");
    cr_assert_str_eq(run(guest_scenario("format: raw", "  - check: {}\n"), NULL, NULL),
                     "t.yaml:2:9: missing key 'image' in memory");
}

Test(scenario_image, rtaddr_is_checked_and_latched)
{
    const char *steps = "  - reg_read: {reg: GSTS, expect: {value: 0xc0000000}}\n"
                        "  - reg_read: {reg: RTADDR, width: 8, expect: {value: 0x3000400}}\n";
    snprintf(text, sizeof text, "name: t\nrtaddr: 0x3000400\nsteps:\n%s", steps);
    cr_assert_str_eq(run(text, NULL, NULL), "");
    cr_assert_str_eq(run("name: t\nrtaddr: 0x3000000\nsteps: []\n", NULL, NULL),
                     "t.yaml:2:9: 'rtaddr' TTM (bits 11:10) is 00b (legacy) but the iommu mode is scalable: set iommu: {mode: legacy}");
    cr_assert_str_eq(run("name: t\nrtaddr: 0x3000800\nsteps: []\n", NULL, NULL),
                     "t.yaml:2:9: 'rtaddr' TTM (bits 11:10) is 2b; vtdsim models scalable (01b, 0x400) and legacy (00b) mode");
    cr_assert_str_eq(run("name: t\niommu: {mode: legacy}\nrtaddr: 0x3000400\nsteps: []\n", NULL, NULL),
                     "t.yaml:3:9: 'rtaddr' TTM (bits 11:10) is 01b (scalable) but the iommu mode is legacy: clear bit 10");
    cr_assert_str_eq(run("name: t\niommu: {mode: legacy}\nrtaddr: 0x3000000\nsteps:\n"
                         "  - reg_read: {reg: RTADDR, width: 8, expect: {value: 0x3000000}}\n", NULL, NULL), "");
    cr_assert_str_eq(run("name: t\nrtaddr: 0x3000401\nsteps: []\n", NULL, NULL),
                     "t.yaml:2:9: 'rtaddr' bits 9:0 are reserved (RTADDR_REG: the address, TTM in bits 11:10)");
    cr_assert_str_eq(run("name: t\ncontainer: {}\nrtaddr: 0x3000400\nsteps: []\n", NULL, NULL),
                     "t.yaml:3:9: 'rtaddr' and 'container' both choose the root table: give one");
}

Test(scenario_image, bulk_write_mem)
{
    const char *ok = "name: t\nsteps:\n"
                     "  - write_mem: {addr: 0x1ffc, qwords: [0x1122334455667788, 2]}\n"
                     "  - write_mem: {addr: 0x3000, hex: \"de ad\n be ef\"}\n"
                     "  - check: {expect: {mem: [{addr: 0x1ffc, value: 0x55667788, bytes: 4},"
                     " {addr: 0x2000, value: 0x11223344, bytes: 4}, {addr: 0x2004, value: 2},"
                     " {addr: 0x3000, value: 0xefbeadde, bytes: 4}]}}\n";
    cr_assert_str_eq(run(ok, NULL, NULL), "");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, hex: \"0g\"}\n", NULL, NULL),
                     "t.yaml:3:31: 'hex' must be pairs of hex digits (blanks between bytes allowed); 'g' at offset 1");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, hex: \"abc\"}\n", NULL, NULL),
                     "t.yaml:3:31: 'hex' must be pairs of hex digits (blanks between bytes allowed); '?' at offset 3");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, hex: \" \"}\n", NULL, NULL),
                     "t.yaml:3:31: 'hex' holds no bytes");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, qwords: []}\n", NULL, NULL),
                     "t.yaml:3:34: 'qwords' holds 1 to 512 numbers (one page), not 0");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, qwords: [x]}\n", NULL, NULL),
                     "t.yaml:3:35: 'qwords' entries must be numbers");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, qwords: [1], value: 1}\n", NULL, NULL),
                     "t.yaml:3:16: write_mem takes one of 'value', 'fill' (with 'size'), 'qwords' or 'hex'");
    cr_assert_str_eq(run("name: t\nsteps:\n  - write_mem: {addr: 0, qwords: [1], size: 8}\n", NULL, NULL),
                     "t.yaml:3:45: 'size' goes with 'value' or 'fill': 'qwords' and 'hex' give their own");
    /* One page at most: 513 qwords, 4097 bytes of hex. */
    char big[16384] = "name: t\nsteps:\n  - write_mem: {addr: 0, qwords: [";
    for (int i = 0; i < 513; i++)
        strcat(big, i ? ",0" : "0");
    strcat(big, "]}\n");
    cr_assert(strstr(run(big, NULL, NULL), "'qwords' holds 1 to 512 numbers (one page), not 513"));
    strcpy(big, "name: t\nsteps:\n  - write_mem: {addr: 0, hex: \"");
    for (int i = 0; i < 4097; i++)
        strcat(big, "00");
    strcat(big, "\"}\n");
    cr_assert(strstr(run(big, NULL, NULL), "'hex' holds more than 4096 bytes (one page)"));
}

/* Every step fails: 30 failures, of which 20 are kept by default, all of them on request. */
Test(scenario_image, max_failures_keeps_what_is_asked)
{
    const char *t = "name: t\nsteps:\n  - repeat:\n      count: 30\n      steps:\n"
                    "        - check: {expect: {pending_faults: 1}}\n";
    struct sc_result r;
    run(t, NULL, &r);
    cr_assert_eq(r.failed, 30);
    cr_assert_eq(r.nfail, 20);
    cr_assert_eq(r.fail_dropped, 10);
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    sc_result_print(&r, f);
    fclose(f);
    cr_assert(strstr(buf, "t.yaml: ... 10 more failed steps not shown (--max-failures N shows N, 0 all)"), "%s", buf);
    free(buf);
    sc_result_free(&r);
    struct sc_run_opts o = {.max_failures = SC_FAILURES_ALL};
    run(t, &o, &r);
    cr_assert_eq(r.nfail, 30);
    cr_assert_eq(r.fail_dropped, 0);
    sc_result_free(&r);
    o.max_failures = 3;
    run(t, &o, &r);
    cr_assert_eq(r.nfail, 3);
    sc_result_free(&r);
}

/* After a re-latch, a failure's fresh uncached walk goes through the latched table. */
Test(scenario_image, fresh_walk_follows_the_latched_root)
{
    const char *t = "name: t\ndevices:\n  - {name: d, bdf: \"00:01.0\"}\n"
                    "tables:\n  - {name: t, format: fs, mappings: [{va: 0x1000, pa: 0x5000, size: 4K, perm: rwu}]}\n"
                    "steps:\n  - attach: {device: d}\n  - pasid_entry: {device: d, pasid: 1, pgtt: fs, table: t}\n"
                    "  - write_mem: {addr: 0x3000000, qwords: [0x3001001]}\n"
                    "  - write_mem: {addr: 0x3001100, qwords: [0x3002009]}\n"
                    "  - write_mem: {addr: 0x3002000, qwords: [0x3003001]}\n"
                    "  - write_mem: {addr: 0x3003040, qwords: [0x101, 1]}\n"
                    "  - reg_write: {reg: RTADDR, width: 8, value: 0x3000400}\n"
                    "  - reg_write: {reg: GCMD, value: 0xc0000000}\n"
                    "  - dma: {device: d, pasid: 1, addr: 0x1000, access: read, expect: {out: 0x5000}}\n";
    const char *got = run(t, NULL, NULL);
    cr_assert(strstr(got, "expected out 0x5000, got 0x1000"), "%s", got);
    cr_assert(strstr(got, "fresh uncached walk of current memory: out 0x1000 page 4K"), "%s", got);
}

/* ---- the bundled image: scenarios/images/guest-nic.elf ---- */

#define FIX_POOL UINT64_C(0x100000)
#define FIX_DATA UINT64_C(0x8000)   /* two pages of RAM: the DMA target 0x9000 among them */
#define FIX_HOLE_TABLE UINT64_C(0x80000) /* PASID 2's first-stage root: not in the dump */

/* A fixed-size buffer the image is assembled in. */
struct fix_file {
    uint8_t bytes[64 * 1024];
    size_t len;
};

static void fix_put(struct fix_file *f, size_t off, const void *p, size_t n)
{
    cr_assert_leq(off + n, sizeof f->bytes);
    memcpy(f->bytes + off, p, n);
    if (off + n > f->len)
        f->len = off + n;
}

/*
 * The guest of scenarios/image-guest-nic.yaml: 00:03.0 with PASID 1 (first stage, 0x4000 ->
 * 0x9000) and PASID 2 (first stage whose root table lies in a hole of the dump), dumped as
 * QEMU would: a note, RAM [0x8000, 0xa000), and the pages of its IOMMU tables from 0x100000.
 */
static void fixture_build(struct fix_file *f, uint64_t *rtaddr)
{
    struct vtd_caps caps;
    vtd_caps_default(&caps);
    struct vtd_mem *m = vtd_mem_new(caps.haw);
    struct vtd_builder b;
    struct vtd_ctx ctx = {.paside = true, .pdts = 0};
    struct vtd_pt fs;
    struct vtd_pasid_cfg c1, c2;
    cr_assert_eq(vtd_builder_init(&b, m, &caps, FIX_POOL, 0x10000), 0);
    cr_assert_eq(vtd_build_root_table(&b, rtaddr), 0);
    cr_assert_eq(vtd_build_pasid_dir(&b, 0, &ctx.pdtp), 0);
    cr_assert_eq(vtd_build_context(&b, *rtaddr, 0x0018, &ctx), 0);
    cr_assert_eq(vtd_pt_init(&fs, &b, VTD_PT_FS, 4, NULL, 0, 0), 0);
    cr_assert_eq(vtd_pt_map(&fs, 0x4000, 0x9000, PAGE, 12, VTD_PERM_R | VTD_PERM_W | VTD_PERM_U, VTD_MAP_AD), 0);
    vtd_pasid_cfg_init(&c1, VTD_PGTT_FS, 1);
    c1.fsptptr = fs.root;
    cr_assert_eq(vtd_build_pasid_entry(&b, &ctx, 1, &c1), 0);
    vtd_pasid_cfg_init(&c2, VTD_PGTT_FS, 2);
    c2.fsptptr = FIX_HOLE_TABLE;
    cr_assert_eq(vtd_build_pasid_entry(&b, &ctx, 2, &c2), 0);
    cr_assert_eq(vtd_mem_write(m, 0x9000, "a packet", 8), 0);
    uint64_t pool_len = b.pool_next - FIX_POOL;
    size_t hdr = sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr), note = 24, data = hdr + note;
    Elf64_Ehdr eh = {.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT, .e_phoff = sizeof eh,
                     .e_ehsize = sizeof eh, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    Elf64_Phdr ph[3] = {
        {.p_type = PT_NOTE, .p_offset = hdr, .p_filesz = note, .p_memsz = note},
        {.p_type = PT_LOAD, .p_offset = data, .p_paddr = FIX_DATA, .p_filesz = 2 * PAGE, .p_memsz = 2 * PAGE},
        {.p_type = PT_LOAD, .p_offset = data + 2 * PAGE, .p_paddr = FIX_POOL, .p_filesz = pool_len, .p_memsz = pool_len},
    };
    /* An empty ELF note as QEMU's begins (namesz 5, "CORE"), enough for a reader to skip. */
    const uint8_t note_bytes[24] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'C', 'O', 'R', 'E', 0};
    *f = (struct fix_file){.len = 0};
    fix_put(f, 0, &eh, sizeof eh);
    fix_put(f, sizeof eh, ph, sizeof ph);
    fix_put(f, hdr, note_bytes, note);
    cr_assert_eq(vtd_mem_read(m, FIX_DATA, f->bytes + data, 2 * PAGE), 0);
    cr_assert_leq(data + 2 * PAGE + pool_len, sizeof f->bytes);
    cr_assert_eq(vtd_mem_read(m, FIX_POOL, f->bytes + data + 2 * PAGE, pool_len), 0);
    f->len = data + 2 * PAGE + pool_len;
    vtd_mem_free(m);
}

/*
 * The bundled image is exactly what the builders make (VTDSIM_WRITE_FIXTURE=1 rewrites it after
 * a deliberate change), and its scenario's rtaddr is the root table's.
 */
Test(scenario_image, bundled_image_is_what_the_builders_make)
{
    static struct fix_file f;
    uint64_t rtaddr;
    fixture_build(&f, &rtaddr);
    char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/../scenarios/images/guest-nic.elf", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".");
    if (getenv("VTDSIM_WRITE_FIXTURE")) {
        FILE *w = fopen(path, "wb");
        cr_assert_not_null(w, "%s", path);
        cr_assert_eq(fwrite(f.bytes, 1, f.len, w), f.len);
        fclose(w);
    }
    static uint8_t disk[sizeof f.bytes + 1];
    FILE *r = fopen(path, "rb");
    cr_assert_not_null(r, "%s", path);
    size_t n = fread(disk, 1, sizeof disk, r);
    fclose(r);
    cr_assert_eq(n, f.len, "%s: %zu bytes, the builders make %zu", path, n, f.len);
    cr_assert_eq(memcmp(disk, f.bytes, n), 0, "%s differs from what the builders make", path);
    cr_assert_eq(rtaddr, UINT64_C(0x100400), "scenarios/image-guest-nic.yaml says rtaddr: 0x100400");
}
