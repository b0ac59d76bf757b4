/*
 * inspect.c: `vtdsim inspect`: a memory image and register values in, the structures they hold
 * out (inspect/ does the work; tool/inspect_cmds.c prints it). This file reads the options that
 * describe the machine (image format and base, RTADDR, CAP, ECAP, HAW, or a kernel log holding
 * them), attaches the image read-only to simulated memory and runs the command.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "inspect/dmesg.h"
#include "inspect_cmds.h"
#include "walker/alloc.h"
#include "walker/hostfile.h"
#include "walker/mem_image.h"

static const char inspect_help[] =
    "usage: vtdsim inspect [--format raw|elf] [--base ADDR] --rtaddr VALUE [--cap HEX] [--ecap HEX]\n"
    "                      [--haw BITS] [--dmesg FILE [--iommu NAME]] IMAGE COMMAND [options]\n"
    "\n"
    "Reads the VT-d structures in a memory image (QEMU's pmemsave or dump-guest-memory, a crash\n"
    "dump) as the IOMMU whose registers are given would: nothing is written, neither to the\n"
    "image nor as A/D bits. translate walks scalable (RTADDR.TTM 01b) and legacy (00b) mode;\n"
    "devices, mappings and check read scalable mode.\n"
    "\n"
    "machine options (before IMAGE):\n"
    "  --format raw|elf  the image: raw bytes of memory from --base on (default), or an ELF core\n"
    "                    whose PT_LOAD segments are memory (dump-guest-memory)\n"
    "  --base ADDR       raw: the physical address of the image's first byte; elf: added to\n"
    "                    every segment's address (default 0)\n"
    "  --rtaddr VALUE    the RTADDR register (hex): root-table address and TTM bits (required)\n"
    "  --cap HEX         the CAP register (default: the documented default part's)\n"
    "  --ecap HEX        the ECAP register (default: the documented default part's)\n"
    "  --haw BITS        the host address width (default: the log's, else 48)\n"
    "  --dmesg FILE      take CAP, ECAP and the host address width from a Linux kernel log\n"
    "                    ('DMAR: dmar0: reg_base_addr ... cap X ecap Y', 'Host address width N')\n"
    "  --iommu NAME      with --dmesg: the unit to use when the log has several (default: the\n"
    "                    first; the choice is said on stderr)\n"
    "\n"
    "commands:\n"
    "  translate --sid BB:DD.F [--pasid N] --addr A [--write] [--exec] [--priv] [--explain] [--json]\n"
    "            the uncached walk's answer for one request: output, page size, permissions, or\n"
    "            the fault; --explain prints every structure read, decoded\n"
    "  translate --batch FILE [--json]\n"
    "            one request per line of FILE ('BB:DD.F PASID|- ADDR r|w|x', '#' comments), one\n"
    "            answer per line; a bad line stops with FILE:LINE:COLUMN and the reason\n"
    "  devices   every present context entry: source-id, RID_PASID's translation type and DID,\n"
    "            PASID directory size, and every present PASID with its PGTT and DID\n"
    "  mappings --sid BB:DD.F [--pasid N]\n"
    "            every mapping of that address space, merged into ranges (input range, output\n"
    "            range, page size, permissions)\n"
    "  check     audit every reachable structure: reserved bits, pointers beyond the host\n"
    "            address width or the image, entries that fault when used, one DID over\n"
    "            different tables, tables shared between DIDs; each finding with its structure,\n"
    "            address and the fault code hardware would raise\n"
    "  queue --iqa V --iqh V --iqt V\n"
    "            the invalidation descriptors pending between IQH and IQT (register values, hex)\n"
    "\n"
    "  --sid, --pasid, --addr: as in 'vtdsim translate'. --json: one JSON object per request\n"
    "  (sid, pasid, addr, access, priv, out, page_size, perm, fault {code, name} or null).\n"
    "  --help: this text.\n"
    "\n"
    "Exit status: 0 done (a fault is an answer), 1 check found something, 2 a usage error, an\n"
    "image or log that cannot be read, a bad batch line.\n";

struct insp_opts {
    enum vtd_image_format fmt;
    uint64_t base, rtaddr, cap, ecap, haw;
    bool has_rtaddr, has_cap, has_ecap, has_haw;
    const char *dmesg, *iommu, *image;
    int cmd_index;  /* argv index of COMMAND */
};

int insp_usage(const char *fmt, const char *arg) { return tool_usage_error("inspect", fmt, arg); }

bool insp_parse_u64(const char *s, bool hex_default, uint64_t max, uint64_t *v)
{
    char *end;
    int base = hex_default ? 16 : 0;
    /* strtoull takes blanks and a sign (and wraps "-1"): a digit must come first. */
    if (!s || !((*s >= '0' && *s <= '9') || (hex_default && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))))
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, base);
    if (errno || *end || end == s || x > max)
        return false;
    *v = x;
    return true;
}

/* One machine option with its value: 0 or the exit status of a usage error. */
static int parse_machine_option(struct insp_opts *o, const char *opt, const char *val)
{
    if (!val)
        return insp_usage("%s needs a value", opt);
    if (!strcmp(opt, "--base")) {
        if (!insp_parse_u64(val, false, UINT64_MAX, &o->base))
            return insp_usage("bad --base address '%s'", val);
    } else if (!strcmp(opt, "--rtaddr")) {
        if (!(o->has_rtaddr = insp_parse_u64(val, true, UINT64_MAX, &o->rtaddr)))
            return insp_usage("bad --rtaddr value '%s' (hex)", val);
    } else if (!strcmp(opt, "--cap")) {
        if (!(o->has_cap = insp_parse_u64(val, true, UINT64_MAX, &o->cap)))
            return insp_usage("bad --cap value '%s' (hex)", val);
    } else if (!strcmp(opt, "--ecap")) {
        if (!(o->has_ecap = insp_parse_u64(val, true, UINT64_MAX, &o->ecap)))
            return insp_usage("bad --ecap value '%s' (hex)", val);
    } else if (!strcmp(opt, "--format")) {
        if (vtd_image_format_parse(val, &o->fmt))
            return insp_usage("bad --format '%s' (raw or elf)", val);
    } else if (!strcmp(opt, "--haw")) {
        if (!insp_parse_u64(val, false, 52, &o->haw) || o->haw < 32)
            return insp_usage("bad --haw '%s' (32 to 52 bits)", val);
        o->has_haw = true;
    } else if (!strcmp(opt, "--dmesg")) {
        o->dmesg = val;
    } else if (!strcmp(opt, "--iommu")) {
        o->iommu = val;
    } else {
        return insp_usage("unknown option '%s' (machine options come before IMAGE)", opt);
    }
    return 0;
}

static int parse_machine(int argc, char **argv, struct insp_opts *o)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i += 2) {
        int rc = parse_machine_option(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (rc)
            return rc;
    }
    if (i >= argc)
        return insp_usage("%s", "no IMAGE given");
    o->image = argv[i++];
    if (i >= argc)
        return insp_usage("%s", "no COMMAND given (translate, devices, mappings, check or queue)");
    o->cmd_index = i;
    if (!o->has_rtaddr)
        return insp_usage("%s", "--rtaddr VALUE is required (the RTADDR register, TTM bits included)");
    if (o->dmesg && (o->has_cap || o->has_ecap))
        return insp_usage("%s", "give --cap/--ecap or --dmesg, not both");
    if (o->iommu && !o->dmesg)
        return insp_usage("%s", "--iommu needs --dmesg");
    return 0;
}

/* CAP, ECAP and (unless --haw) the host address width from the kernel log. */
static int caps_from_dmesg(const struct insp_opts *o, struct vtd_caps *caps)
{
    char why[512], msg[1024];
    FILE *f = vtd_fopen_regular(o->dmesg, NULL, why, sizeof why);
    if (!f) {
        snprintf(msg, sizeof msg, "%s: %s", o->dmesg, why);
        return tool_error("inspect", msg);
    }
    struct vtd_insp_dmesg *d = vtd_malloc(sizeof *d);
    int rc = d ? vtd_insp_dmesg_read(f, d) : -ENOMEM;
    fclose(f);
    const struct vtd_insp_dmar *u = NULL;
    if (rc)
        snprintf(msg, sizeof msg, "%s: %s", o->dmesg, strerror(-rc));
    else if (!d->n)
        snprintf(msg, sizeof msg, "%s: no 'DMAR: dmarN: reg_base_addr ... cap X ecap Y' line", o->dmesg);
    else if (!(u = o->iommu ? vtd_insp_dmesg_find(d, o->iommu) : &d->unit[0]))
        snprintf(msg, sizeof msg, "%s: no IOMMU named '%s' (the log names %u, the first %s)", o->dmesg, o->iommu, d->n,
                 d->unit[0].name);
    if (!u) {
        vtd_free(d);
        return tool_error("inspect", msg);
    }
    caps->cap = u->cap;
    caps->ecap = u->ecap;
    if (!o->has_haw && d->haw)
        caps->haw = d->haw;
    fprintf(stderr, "vtdsim inspect: %s: using %s (line %lu: cap 0x%" PRIx64 " ecap 0x%" PRIx64 ", version %u.%u)%s%s\n",
            o->dmesg, u->name, u->line, u->cap, u->ecap, u->ver_major, u->ver_minor,
            d->n > 1 && !o->iommu ? "; the log has more units, --iommu picks one" : "",
            d->haw && !o->has_haw ? "; host address width from the log" : "");
    vtd_free(d);
    return 0;
}

static int machine_caps(const struct insp_opts *o, struct vtd_caps *caps)
{
    vtd_caps_default(caps);
    if (o->dmesg) {
        int rc = caps_from_dmesg(o, caps);
        if (rc)
            return rc;
    }
    if (o->has_cap)
        caps->cap = o->cap;
    if (o->has_ecap)
        caps->ecap = o->ecap;
    if (o->has_haw)
        caps->haw = (unsigned)o->haw;
    const char *why;
    /* Registers read from real hardware are what they are: say what the model finds odd, go on. */
    if (!vtd_caps_valid(caps, &why))
        fprintf(stderr, "vtdsim inspect: note: the registers are not a part the model knows: %s\n", why);
    return 0;
}

/* The image's segments as the context's extent. */
static struct vtd_inspect_range *image_ranges(struct vtd_mem *m, size_t *n)
{
    *n = vtd_mem_image_segments(m, NULL, 0);
    struct vtd_mem_image_segment *seg = vtd_calloc(*n ? *n : 1, sizeof *seg);
    struct vtd_inspect_range *r = vtd_calloc(*n ? *n : 1, sizeof *r);
    if (!seg || !r) {
        vtd_free(seg);
        vtd_free(r);
        return NULL;
    }
    vtd_mem_image_segments(m, seg, *n);
    for (size_t i = 0; i < *n; i++)
        r[i] = (struct vtd_inspect_range){seg[i].pa, seg[i].pa + seg[i].len};
    vtd_free(seg);
    return r;
}

static int run_command(const struct vtd_inspect *in, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const struct vtd_inspect *in, int argc, char **argv);
    } cmds[] = {
        {"translate", insp_cmd_translate}, {"devices", insp_cmd_devices}, {"mappings", insp_cmd_mappings},
        {"check", insp_cmd_check},         {"queue", insp_cmd_queue},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[0], cmds[i].name))
            return cmds[i].run(in, argc, argv);
    return insp_usage("unknown command '%s' (translate, devices, mappings, check or queue)", argv[0]);
}

int cmd_inspect(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(inspect_help, stdout);
            return 0;
        }
    struct insp_opts o = {.fmt = VTD_IMAGE_RAW};
    struct vtd_inspect in = {0};
    int rc = parse_machine(argc, argv, &o);
    if (rc || (rc = machine_caps(&o, &in.caps)))
        return rc;
    in.rtaddr = o.rtaddr;
    in.mem = vtd_mem_new(in.caps.haw);
    if (!in.mem)
        return tool_error("inspect", "out of memory");
    char err[1024];
    struct vtd_inspect_range *ranges = NULL;
    if (vtd_mem_attach_image(in.mem, o.image, o.fmt, o.base, err, sizeof err))
        rc = tool_error("inspect", err);
    else if (!(ranges = image_ranges(in.mem, &in.nranges)))
        rc = tool_error("inspect", "out of memory");
    else {
        in.ranges = ranges;
        rc = run_command(&in, argc - o.cmd_index, argv + o.cmd_index);
    }
    vtd_free(ranges);
    vtd_mem_free(in.mem);
    return rc;
}
