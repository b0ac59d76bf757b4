/*
 * trace.h: DMA traces for hit-rate studies (issue 7): the events, their validation, and the two
 * file formats (compact binary and CSV) with readers, writers and a converter.
 *
 * A trace is what a driver and its device did to an IOMMU: DMA requests, and the map, unmap
 * and invalidate operations that change what those requests find. trace/gen.h makes traces of
 * typical workloads; trace/replay.h replays them on a simulated IOMMU (sim/). This layer knows
 * nothing of YAML or of the tool.
 *
 * Binary format (all little-endian): a 32-byte header, then `count` records of 32 bytes.
 *   header: magic "VTDTRACE" (8 bytes), u16 version (1), u16 record size (32), u32 reserved (0),
 *           u64 record count, u64 reserved (0)
 *   record: u8 kind, u8 access, u8 page shift, u8 flags, u16 source-id, u16 reserved (0),
 *           u32 PASID, u32 size, u64 address, u64 output address
 *
 * Imported traces (trace/import_linux.h) also carry what a driver submitted: `desc` events
 * hold one invalidation descriptor's two qwords (addr, out; 128-bit descriptors, or the first half
 * of a 256-bit one, whose second half is zero for every invalidation), and `domain` events give
 * an address space the domain id the driver chose (addr), so that the descriptors' DIDs reach it.
 *
 * CSV format: the header line `kind,sid,pasid,addr,size,access,page,out`, then one event per
 * line; '#' starts a comment line. sid is bus:dev.fn (00:03.0); pasid a number or '-';
 * addr, size and out numbers (0x hex or decimal); access a combination of r, w, x; page 4k, 2m,
 * 1g or '-'; out '-' where it has no meaning.
 */
#ifndef VTDSIM_TRACE_TRACE_H
#define VTDSIM_TRACE_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum vtrace_kind {
    VTRACE_DMA = 0,        /* a device reads/writes/executes [addr, addr+size) */
    VTRACE_MAP = 1,        /* [addr, addr+size) -> [out, out+size) with pages of 2^page_shift */
    VTRACE_UNMAP = 2,      /* remove the leaves covering [addr, addr+size) */
    VTRACE_INVALIDATE = 3, /* flush [addr, addr+size) of the address space; size 0: all of it */
    VTRACE_DIRTY = 4,      /* harvest: read and clear the D bits of [addr, addr+size) (size 0: all)
                              of a second-stage space, then the host's flush (docs/dirty-tracking.md) */
    VTRACE_DESC = 5,       /* a descriptor submitted as is: addr its first qword, out its second */
    VTRACE_DOMAIN = 6,     /* the address space (sid, pasid) has domain id addr (before its first use) */
    VTRACE_NKINDS
};

/* Access bits of a DMA, permissions of a map (the walker's VTD_ACC_* / VTD_PERM_* values). */
#define VTRACE_ACC_R 1u
#define VTRACE_ACC_W 2u
#define VTRACE_ACC_X 4u
#define VTRACE_ACC_MASK (VTRACE_ACC_R | VTRACE_ACC_W | VTRACE_ACC_X)

/* Record flags. */
#define VTRACE_F_PASID 1u  /* the event names a PASID (else: the device's request-without-PASID space) */
#define VTRACE_F_MASK VTRACE_F_PASID

#define VTRACE_PASID_BITS 20u   /* VT-d PASIDs are 20 bits wide */
#define VTRACE_ADDR_BITS 57u    /* widest input address (5-level paging) */
#define VTRACE_PAGE_4K UINT64_C(0x1000)

struct vtrace_event {
    uint8_t kind;          /* enum vtrace_kind */
    uint8_t access;        /* VTRACE_ACC_*: DMA access, or map permissions */
    uint8_t page_shift;    /* map: 12, 21 or 30; 0 otherwise */
    uint8_t flags;         /* VTRACE_F_* */
    uint16_t sid;          /* source-id bus:dev.fn */
    uint32_t pasid;        /* when flags & VTRACE_F_PASID */
    uint32_t size;         /* bytes (invalidate: 0 = the whole address space) */
    uint64_t addr;         /* input address (IOVA, or process virtual address with a PASID) */
    uint64_t out;          /* map: output address; 0 otherwise */
};

/* Fields, for error messages (the CSV column order). */
enum vtrace_field {
    VTRACE_FLD_KIND, VTRACE_FLD_SID, VTRACE_FLD_PASID, VTRACE_FLD_ADDR, VTRACE_FLD_SIZE,
    VTRACE_FLD_ACCESS, VTRACE_FLD_PAGE, VTRACE_FLD_OUT, VTRACE_NFIELDS
};
const char *vtrace_field_name(enum vtrace_field f);
const char *vtrace_kind_name(unsigned kind);

/*
 * Check one event: 0 when it makes sense, else -1 with *field set to the field at fault and
 * the reason in why[len] (for instance "map: out 0x1800 is not aligned to the 4 KiB page").
 */
int vtrace_event_check(const struct vtrace_event *e, enum vtrace_field *field, char *why, size_t len);

/* ---- binary format ---- */

#define VTRACE_MAGIC "VTDTRACE"
#define VTRACE_VERSION 1u
#define VTRACE_HEADER_SIZE 32u
#define VTRACE_RECORD_SIZE 32u

/* Encode/decode one record (decoding does not validate: vtrace_event_check does). */
void vtrace_record_encode(const struct vtrace_event *e, uint8_t rec[VTRACE_RECORD_SIZE]);
void vtrace_record_decode(const uint8_t rec[VTRACE_RECORD_SIZE], struct vtrace_event *e);

/* ---- readers and writers of either format ---- */

enum vtrace_format { VTRACE_BIN, VTRACE_CSV };
/* The format a file name asks for: .csv is CSV, anything else binary. */
enum vtrace_format vtrace_format_of(const char *path);

#define VTRACE_ERR_LEN 256

struct vtrace_reader;
/*
 * Open a trace (the format from the name, see vtrace_format_of). NULL on failure with the
 * reason in err (file name included). A binary header is checked here.
 */
struct vtrace_reader *vtrace_open(const char *path, char err[VTRACE_ERR_LEN]);
/* The same over an open stream (not closed by vtrace_close); `name` is used in messages. */
struct vtrace_reader *vtrace_open_stream(FILE *f, const char *name, enum vtrace_format fmt, char err[VTRACE_ERR_LEN]);
/*
 * The next `max` events at most, read in blocks: the number read (0 at the end), or -1 with
 * the reason in vtrace_error() ("t.bin: record 12: kind 9 is not dma, map, unmap or invalidate",
 * "t.csv:4:3: pasid: '0x100000' is wider than 20 bits").
 */
long vtrace_read(struct vtrace_reader *r, struct vtrace_event *ev, long max);
const char *vtrace_error(const struct vtrace_reader *r);
/* Events promised by a binary header (-1 for CSV, which does not say). */
int64_t vtrace_expected(const struct vtrace_reader *r);
void vtrace_close(struct vtrace_reader *r);

struct vtrace_writer;
/*
 * Create a trace file; NULL with the reason in err. It is written next to `path` and renamed
 * into place by vtrace_finish (walker/outfile.h): until then, and for ever if the writing fails
 * or is abandoned, a file that was at `path` stays as it was.
 */
struct vtrace_writer *vtrace_create(const char *path, char err[VTRACE_ERR_LEN]);
struct vtrace_writer *vtrace_create_stream(FILE *f, const char *name, enum vtrace_format fmt, char err[VTRACE_ERR_LEN]);
/* Append an event (checked first). 0, or -1 with the reason in vtrace_writer_error(). */
int vtrace_write(struct vtrace_writer *w, const struct vtrace_event *e);
const char *vtrace_writer_error(const struct vtrace_writer *w);
uint64_t vtrace_written(const struct vtrace_writer *w);
/* Finish (a binary file gets its record count) and close: 0, or -1 with the reason in err. */
int vtrace_finish(struct vtrace_writer *w, char err[VTRACE_ERR_LEN]);
/* Give up a writer: the temporary file of vtrace_create goes, nothing else changes. */
void vtrace_abandon(struct vtrace_writer *w);

/* Read `in` and write every event to `out`, each in the format its name asks for; `out` may not
 * be `in` (under any name: refused before anything is written). */
int vtrace_convert(const char *in, const char *out, char err[VTRACE_ERR_LEN]);

/* Format one event as a CSV line (no newline). */
void vtrace_event_csv(const struct vtrace_event *e, char *buf, size_t len);

#endif
