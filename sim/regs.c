/*
 * regs.c: the register file (VT-d 11.4) and primary fault logging (VT-d 7.2.1).
 *
 * Fixed-offset registers are described by one table (offset, size, name, read and write
 * functions, writable and write-1-to-clear masks, backing field in struct vtd_regs); the IOTLB
 * registers (at ECAP.IRO) and the fault-recording registers (at CAP.FRO) move with the
 * capabilities and are resolved by reg_lookup(). Every access is reduced to a read or a masked
 * write of one whole register: `wmask` says which bits the access covered (a 4-byte access to a
 * 64-bit register covers one half), so write-1-to-clear bits of the other half stay untouched.
 */
#include "sim/regs.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sim/iommu_internal.h"
#include "sim/prq_internal.h"

struct reg_desc;

/* One register found at an offset: its description, where it starts, which record (FRCD). */
struct reg_ref {
    const struct reg_desc *d;
    unsigned offset;
    unsigned idx;
};

typedef uint64_t (*reg_read_fn)(struct vtd_iommu *io, const struct reg_ref *r);
typedef void (*reg_write_fn)(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask);

struct reg_desc {
    unsigned offset, size;
    const char *name;
    reg_read_fn read;
    reg_write_fn write;
    uint64_t rw;      /* bits software writes */
    uint64_t rw1c;    /* bits software clears by writing 1 */
    size_t field;     /* offsetof(struct vtd_regs, ...), or NO_FIELD */
};

#define NO_FIELD ((size_t)-1)
#define FIELD(f) offsetof(struct vtd_regs, f)

/* FSTS status bits: software clears them by writing 1; any of them set holds FECTL.IP. */
#define FSTS_RW1C (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE | VTD_FSTS_PRO)
#define FSTS_STATUS (FSTS_RW1C | VTD_FSTS_PPF)

/* ---- plain registers: a field of struct vtd_regs behind the masks ---- */

static uint64_t field_get(struct vtd_iommu *io, const struct reg_desc *d)
{
    const char *p = (const char *)&io->regs + d->field;
    if (d->size == 8) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void field_set(struct vtd_iommu *io, const struct reg_desc *d, uint64_t val)
{
    char *p = (char *)&io->regs + d->field;
    if (d->size == 8) {
        memcpy(p, &val, sizeof(val));
    } else {
        uint32_t v = (uint32_t)val;
        memcpy(p, &v, sizeof(v));
    }
}

/* The new value of a register after a write of `val` over the bits in `wmask`. */
static uint64_t masked_update(const struct reg_desc *d, uint64_t old, uint64_t val, uint64_t wmask)
{
    uint64_t w = val & wmask;
    uint64_t v = (old & ~(wmask & d->rw)) | (w & d->rw);
    return v & ~(w & d->rw1c);
}

static uint64_t plain_read(struct vtd_iommu *io, const struct reg_ref *r) { return field_get(io, r->d); }

static void plain_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    field_set(io, r->d, masked_update(r->d, field_get(io, r->d), val, wmask));
}

static uint64_t zero_read(struct vtd_iommu *io, const struct reg_ref *r)
{
    (void)io, (void)r;
    return 0;
}

static void ignore_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    (void)io, (void)r, (void)val, (void)wmask;
}

/* ---- identification (11.4.1 - 11.4.3) ---- */

static uint64_t ver_read(struct vtd_iommu *io, const struct reg_ref *r)
{
    (void)io, (void)r;
    return VTD_VER_VALUE;
}

static uint64_t cap_read(struct vtd_iommu *io, const struct reg_ref *r)
{
    (void)r;
    return io->cfg.caps.cap;
}

static uint64_t ecap_read(struct vtd_iommu *io, const struct reg_ref *r)
{
    (void)r;
    return io->cfg.caps.ecap;
}

/* ---- fault events (FECTL.IP rules, 11.4) ---- */

/*
 * Set FSTS status bits. Only a status set while no other was pending is a new interrupt
 * condition; with the interrupt masked it is held pending in FECTL.IP (unmasked, the message
 * would go out at once, which the model does not represent).
 */
static void fsts_raise(struct vtd_iommu *io, uint32_t bits, bool event)
{
    bool quiet = !(io->regs.fsts & FSTS_STATUS);
    io->regs.fsts |= bits;
    if (event && quiet && (io->regs.fectl & VTD_ECTL_IM))
        io->regs.fectl |= (uint32_t)VTD_ECTL_IP;
}

/* IP clears once software has serviced every status that could hold it. */
static void fault_event_serviced(struct vtd_iommu *io)
{
    if (!(io->regs.fsts & FSTS_STATUS))
        io->regs.fectl &= ~(uint32_t)VTD_ECTL_IP;
}

/* FECTL, IECTL, PECTL: clearing IM sends the pending message, which clears IP. */
static void ectl_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    uint64_t v = field_get(io, r->d);
    if (!(v & VTD_ECTL_IM))
        field_set(io, r->d, v & ~VTD_ECTL_IP);
}

/* PECTL: clearing IM while IP holds an event sends the page request message (prq.c). */
static void pectl_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    bool held = io->regs.pectl & VTD_ECTL_IP;
    ectl_write(io, r, val, wmask);
    if (held && !(io->regs.pectl & VTD_ECTL_IM))
        iommu_prq_message(io);
}

/* PRS: RW1C status; clearing what held the page request event services it (prq.c). */
static void prs_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    iommu_prs_written(io);
}

/* ---- queued invalidation (6.5.2) ---- */

/* Run the queue if it is enabled, not halted by an error (IQE) and not empty. */
static void qi_kick(struct vtd_iommu *io)
{
    struct vtd_regs *g = &io->regs;
    if ((g->gsts & VTD_GSTS_QIES) && !(g->fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE)) && g->iqh != g->iqt)
        iommu_qi_drain(io);
}

static void iqt_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    if (wmask & VTD_IQT_QT)
        qi_kick(io);
}

/* ICS.IWC is RW1C; clearing it services a held invalidation event (IECTL.IP). */
static void ics_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    if (!(io->regs.ics & VTD_ICS_IWC))
        io->regs.iectl &= ~(uint32_t)VTD_ECTL_IP;
}

/* FSTS: RW1C status. Once IQE (or ITE, sim/ats_inv.h) is cleared hardware fetches again from
 * IQH (6.5.2.10). */
static void fsts_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    uint32_t halts = (uint32_t)(VTD_FSTS_IQE | VTD_FSTS_ITE);
    bool halted = io->regs.fsts & halts;
    plain_write(io, r, val, wmask);
    fault_event_serviced(io);
    if (halted && !(io->regs.fsts & halts))
        qi_kick(io);
}

/* ---- register-based invalidation (6.5.1): setting ICC or IVT starts it ---- */

static void ccmd_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    if (io->regs.ccmd & VTD_CCMD_ICC)
        iommu_reg_context_invalidate(io);
}

static void iotlb_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    plain_write(io, r, val, wmask);
    if (io->regs.iotlb & VTD_IOTLB_IVT)
        iommu_reg_iotlb_invalidate(io);
}

/* ---- global command (11.4.4) ---- */

/* SRTP: latch RTADDR for every walk; RTPS reports completion. Caches are not flushed: software
 * must invalidate them afterwards, as on hardware. */
static void gcmd_srtp(struct vtd_iommu *io)
{
    io->rtaddr = io->env.rtaddr = io->oracle_env.rtaddr = io->regs.rtaddr;
    iommu_move_fast_epoch(io);
    io->regs.gsts |= (uint32_t)VTD_GSTS_RTPS;
}

static void gcmd_te(struct vtd_iommu *io, bool on)
{
    io->te = on;
    iommu_move_fast_epoch(io);
    if (on) {
        io->regs.gsts |= (uint32_t)VTD_GSTS_TES;
    } else {
        io->regs.gsts &= ~(uint32_t)VTD_GSTS_TES;
        io->regs.frcd_next = 0; /* 7.2.1: the record index resets with TES and IRES clear */
    }
}

/* QIE: IQH reads 0 whenever queued invalidation is disabled, so it starts at 0 (11.4). */
static void gcmd_qie(struct vtd_iommu *io, bool on)
{
    bool was = io->regs.gsts & VTD_GSTS_QIES;
    if (on == was || (on && !vtd_ecap_has(&io->cfg.caps, VTD_ECAP_QI)))
        return;
    io->regs.iqh = 0;
    if (on) {
        io->regs.gsts |= (uint32_t)VTD_GSTS_QIES;
        qi_kick(io); /* descriptors queued before enabling (QEMU accepts this too) */
    } else {
        io->regs.gsts &= ~(uint32_t)VTD_GSTS_QIES;
    }
}

/*
 * TE and QIE are levels (writing the register without them turns them off, which is why
 * drivers keep a shadow copy); SRTP is a one-shot command. IRE, CFI and SIRTP go to
 * interrupt remapping (ir.c) the same way; WBF, SFL and EAFL are accepted and ignored.
 */
static void gcmd_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    (void)r, (void)wmask;
    uint32_t cmd = (uint32_t)val;
    io->regs.gcmd = cmd;
    if (cmd & VTD_GCMD_SRTP)
        gcmd_srtp(io);
    gcmd_te(io, cmd & VTD_GCMD_TE);
    gcmd_qie(io, cmd & VTD_GCMD_QIE);
    iommu_ir_gcmd(io, cmd);
}

/* GSTS.TES follows io->te, which vtd_iommu_set_root() also sets. */
static uint64_t gsts_read(struct vtd_iommu *io, const struct reg_ref *r)
{
    (void)r;
    uint32_t s = io->regs.gsts & ~(uint32_t)VTD_GSTS_TES;
    return s | (io->te ? (uint32_t)VTD_GSTS_TES : 0);
}

/* ---- fault-recording registers (11.4) ---- */

static unsigned frcd_count(const struct vtd_iommu *io) { return vtd_caps_nfr(&io->cfg.caps); }

static void update_ppf(struct vtd_iommu *io)
{
    if (vtd_iommu_pending_faults(io))
        io->regs.fsts |= (uint32_t)VTD_FSTS_PPF;
    else
        io->regs.fsts &= ~(uint32_t)VTD_FSTS_PPF;
}

static uint64_t frcd_lo_read(struct vtd_iommu *io, const struct reg_ref *r) { return io->regs.frcd[r->idx][0]; }
static uint64_t frcd_hi_read(struct vtd_iommu *io, const struct reg_ref *r) { return io->regs.frcd[r->idx][1]; }

/* F is RW1C; clearing it frees the record (the other fields keep their values). */
static void frcd_hi_write(struct vtd_iommu *io, const struct reg_ref *r, uint64_t val, uint64_t wmask)
{
    if (!(val & wmask & VTD_FRCD_HI_F))
        return;
    io->regs.frcd[r->idx][1] &= ~VTD_FRCD_HI_F;
    update_ppf(io);
    fault_event_serviced(io);
}

/* ---- the table ---- */

#define ECTL_RW VTD_ECTL_IM
#define CCMD_RW (VTD_CCMD_ICC | VTD_CCMD_CIRG | VTD_CCMD_FM | VTD_CCMD_SID | VTD_CCMD_DID)
#define IVA_RW (VTD_IVA_ADDR | VTD_IVA_IH | VTD_IVA_AM)
#define IRTA_RW (VTD_IRTA_IRTA | VTD_IRTA_EIME | VTD_IRTA_S)
#define IOTLB_RW (VTD_IOTLB_IVT | VTD_IOTLB_IIRG | VTD_IOTLB_DR | VTD_IOTLB_DW | VTD_IOTLB_DID)

static const struct reg_desc reg_table[] = {
    {VTD_REG_VER, 4, "VER", ver_read, ignore_write, 0, 0, NO_FIELD},
    {VTD_REG_CAP, 8, "CAP", cap_read, ignore_write, 0, 0, NO_FIELD},
    {VTD_REG_ECAP, 8, "ECAP", ecap_read, ignore_write, 0, 0, NO_FIELD},
    {VTD_REG_GCMD, 4, "GCMD", zero_read, gcmd_write, 0, 0, FIELD(gcmd)},  /* write-only */
    {VTD_REG_GSTS, 4, "GSTS", gsts_read, ignore_write, 0, 0, FIELD(gsts)},
    {VTD_REG_RTADDR, 8, "RTADDR", plain_read, plain_write, VTD_RTADDR_RTA | VTD_RTADDR_TTM, 0, FIELD(rtaddr)},
    {VTD_REG_CCMD, 8, "CCMD", plain_read, ccmd_write, CCMD_RW, 0, FIELD(ccmd)},  /* register-based invalidation */
    {VTD_REG_FSTS, 4, "FSTS", plain_read, fsts_write, 0, FSTS_RW1C, FIELD(fsts)},
    {VTD_REG_FECTL, 4, "FECTL", plain_read, ectl_write, ECTL_RW, 0, FIELD(fectl)},
    {VTD_REG_FEDATA, 4, "FEDATA", plain_read, plain_write, VTD_GENMASK(15, 0), 0, FIELD(fedata)},
    {VTD_REG_FEADDR, 4, "FEADDR", plain_read, plain_write, VTD_GENMASK(31, 2), 0, FIELD(feaddr)},
    {VTD_REG_FEUADDR, 4, "FEUADDR", plain_read, plain_write, VTD_GENMASK(31, 0), 0, FIELD(feuaddr)},
    {VTD_REG_IQH, 8, "IQH", plain_read, plain_write, 0, 0, FIELD(iqh)},  /* hardware advances it */
    {VTD_REG_IQT, 8, "IQT", plain_read, iqt_write, VTD_IQT_QT, 0, FIELD(iqt)},
    {VTD_REG_IQA, 8, "IQA", plain_read, plain_write, VTD_IQA_IQA | VTD_IQA_DW | VTD_IQA_QS, 0, FIELD(iqa)},
    {VTD_REG_ICS, 4, "ICS", plain_read, ics_write, 0, VTD_ICS_IWC, FIELD(ics)},
    {VTD_REG_IECTL, 4, "IECTL", plain_read, ectl_write, ECTL_RW, 0, FIELD(iectl)},
    {VTD_REG_IQERCD, 8, "IQERCD", plain_read, plain_write, 0, 0, FIELD(iqercd)},
    {VTD_REG_IRTA, 8, "IRTA", plain_read, plain_write, IRTA_RW, 0, FIELD(irta)},
    {VTD_REG_PQH, 8, "PQH", plain_read, plain_write, VTD_PQH_PQH, 0, FIELD(pqh)},
    {VTD_REG_PQT, 8, "PQT", plain_read, plain_write, VTD_PQT_PQT, 0, FIELD(pqt)},
    {VTD_REG_PQA, 8, "PQA", plain_read, plain_write, VTD_PQA_PQA | VTD_PQA_PQS, 0, FIELD(pqa)},
    {VTD_REG_PRS, 4, "PRS", plain_read, prs_write, 0, VTD_PRS_PPR | VTD_PRS_PRO, FIELD(prs)},
    {VTD_REG_PECTL, 4, "PECTL", plain_read, pectl_write, ECTL_RW, 0, FIELD(pectl)},
    {VTD_REG_PEDATA, 4, "PEDATA", plain_read, plain_write, VTD_GENMASK(15, 0), 0, FIELD(pedata)},
    {VTD_REG_PEADDR, 4, "PEADDR", plain_read, plain_write, VTD_GENMASK(31, 2), 0, FIELD(peaddr)},
    {VTD_REG_PEUADDR, 4, "PEUADDR", plain_read, plain_write, VTD_GENMASK(31, 0), 0, FIELD(peuaddr)},
};

/* Backing fields must have the register's width. */
#define FIELD_IS(f, n) _Static_assert(sizeof(((struct vtd_regs *)0)->f) == (n), #f " width")
FIELD_IS(gcmd, 4); FIELD_IS(gsts, 4); FIELD_IS(rtaddr, 8); FIELD_IS(fsts, 4); FIELD_IS(fectl, 4);
FIELD_IS(fedata, 4); FIELD_IS(feaddr, 4); FIELD_IS(feuaddr, 4); FIELD_IS(iqh, 8); FIELD_IS(iqt, 8);
FIELD_IS(iqa, 8); FIELD_IS(ics, 4); FIELD_IS(iectl, 4); FIELD_IS(iqercd, 8); FIELD_IS(pqh, 8);
FIELD_IS(pqt, 8); FIELD_IS(pqa, 8); FIELD_IS(prs, 4); FIELD_IS(pectl, 4); FIELD_IS(ccmd, 8);
FIELD_IS(iva, 8); FIELD_IS(iotlb, 8); FIELD_IS(irta, 8); FIELD_IS(pedata, 4); FIELD_IS(peaddr, 4);
FIELD_IS(peuaddr, 4);

/* Registers whose place comes from the capabilities (offsets relative to their group). */
static const struct reg_desc iva_desc = {VTD_REG_IVA_OFF, 8, "IVA", plain_read, plain_write, IVA_RW, 0, FIELD(iva)};
static const struct reg_desc iotlb_desc = {VTD_REG_IOTLB_OFF, 8, "IOTLB", plain_read, iotlb_write, IOTLB_RW, 0,
                                           FIELD(iotlb)};
static const struct reg_desc frcd_lo_desc = {0, 8, "FRCD_LO", frcd_lo_read, ignore_write, 0, 0, NO_FIELD};
static const struct reg_desc frcd_hi_desc = {8, 8, "FRCD_HI", frcd_hi_read, frcd_hi_write, 0, VTD_FRCD_HI_F, NO_FIELD};

static bool covers(const struct reg_desc *d, unsigned base, unsigned off)
{
    return off >= base && off - base < d->size;
}

/* The register holding byte `off`, if any. Fixed registers win over a misplaced FRO/IRO. */
static bool reg_lookup(struct vtd_iommu *io, unsigned off, struct reg_ref *ref)
{
    for (size_t i = 0; i < sizeof(reg_table) / sizeof(reg_table[0]); i++) {
        if (covers(&reg_table[i], reg_table[i].offset, off)) {
            *ref = (struct reg_ref){&reg_table[i], reg_table[i].offset, 0};
            return true;
        }
    }
    unsigned iro = (unsigned)vtd_field(io->cfg.caps.ecap, VTD_ECAP_IRO) * 16;
    if (off >= iro && off - iro < 16) {
        const struct reg_desc *d = off - iro < 8 ? &iva_desc : &iotlb_desc;
        *ref = (struct reg_ref){d, iro + d->offset, 0};
        return true;
    }
    unsigned fro = (unsigned)vtd_field(io->cfg.caps.cap, VTD_CAP_FRO) * 16;
    if (off >= fro && off - fro < frcd_count(io) * VTD_FRCD_LEN) {
        unsigned idx = (off - fro) / VTD_FRCD_LEN;
        const struct reg_desc *d = (off - fro) % VTD_FRCD_LEN < 8 ? &frcd_lo_desc : &frcd_hi_desc;
        *ref = (struct reg_ref){d, fro + idx * VTD_FRCD_LEN + d->offset, idx};
        return true;
    }
    return false;
}

/* ---- MMIO access ---- */

static bool access_ok(const struct vtd_iommu *io, unsigned offset, unsigned size)
{
    return io && (size == 4 || size == 8) && offset % size == 0;
}

static uint32_t read32(struct vtd_iommu *io, unsigned off)
{
    struct reg_ref r;
    if (!reg_lookup(io, off, &r))
        return 0;
    return (uint32_t)(r.d->read(io, &r) >> (8 * (off - r.offset)));
}

static void write32(struct vtd_iommu *io, unsigned off, uint32_t val)
{
    struct reg_ref r;
    if (!reg_lookup(io, off, &r))
        return;
    unsigned shift = 8 * (off - r.offset);
    r.d->write(io, &r, (uint64_t)val << shift, UINT64_C(0xFFFFFFFF) << shift);
}

int vtd_iommu_reg_read(struct vtd_iommu *io, unsigned offset, unsigned size, uint64_t *val)
{
    if (!access_ok(io, offset, size) || !val)
        return -EINVAL;
    struct reg_ref r;
    if (size == 8 && reg_lookup(io, offset, &r) && r.d->size == 8) {
        *val = r.d->read(io, &r);
        return 0;
    }
    *val = read32(io, offset);
    if (size == 8)
        *val |= (uint64_t)read32(io, offset + 4) << 32;
    return 0;
}

int vtd_iommu_reg_write(struct vtd_iommu *io, unsigned offset, unsigned size, uint64_t val)
{
    if (!access_ok(io, offset, size))
        return -EINVAL;
    struct reg_ref r;
    if (size == 8 && reg_lookup(io, offset, &r) && r.d->size == 8) {
        r.d->write(io, &r, val, ~UINT64_C(0));
        return 0;
    }
    write32(io, offset, (uint32_t)val);
    if (size == 8)
        write32(io, offset + 4, (uint32_t)(val >> 32));
    return 0;
}

const char *vtd_iommu_reg_name(struct vtd_iommu *io, unsigned offset)
{
    struct reg_ref r;
    return io && reg_lookup(io, offset, &r) ? r.d->name : NULL;
}

void vtd_iommu_reg_reset(struct vtd_iommu *io)
{
    io->regs = (struct vtd_regs){.fectl = (uint32_t)VTD_ECTL_IM, .iectl = (uint32_t)VTD_ECTL_IM,
                                 .pectl = (uint32_t)VTD_ECTL_IM};
    io->te = false;
    io->rtaddr = io->env.rtaddr = io->oracle_env.rtaddr = 0;
    iommu_move_fast_epoch(io);
    io->ir_env.ir = (struct vtd_ir_cfg){0};
}

/* ---- primary fault logging (7.2.1) ---- */

static uint64_t frcd_hi_value(const struct vtd_request *req, int code)
{
    uint64_t hi = vtd_field_prep(req->sid, VTD_FRCD_HI_SID) | vtd_field_prep((unsigned)code & 0xff, VTD_FRCD_HI_FR);
    /* An interrupt request is an untranslated write (7.2.1). */
    hi |= vtd_field_prep(req->kind == VTD_REQ_INTERRUPT ? 0u : (unsigned)req->kind, VTD_FRCD_HI_AT);
    if (!(req->access & VTD_ACC_W))
        hi |= VTD_FRCD_HI_T1;
    if (req->pasid_valid) {
        hi |= VTD_FRCD_HI_PP | vtd_field_prep(req->pasid, VTD_FRCD_HI_PV);
        if (req->priv)
            hi |= VTD_FRCD_HI_PRIV;
        if (req->access & VTD_ACC_X)
            hi |= VTD_FRCD_HI_EXE;
    }
    return hi;
}

/*
 * While PFO is set no fault is recorded; a fault finding F still set in the next record sets PFO.
 * Otherwise it takes that record; FRI names it if no fault was pending (PPF clear), and only
 * then is it a new fault event. Faults are not compressed by source-id.
 */
void iommu_record_fault(struct vtd_iommu *io, const struct vtd_request *req, const struct vtd_xlate *x)
{
    if (!x->fault.code || x->fault.suppressed)
        return;
    struct vtd_regs *g = &io->regs;
    unsigned i = g->frcd_next % frcd_count(io);
    if ((g->fsts & VTD_FSTS_PFO) || (g->frcd[i][1] & VTD_FRCD_HI_F)) {
        g->faults_dropped++;
        fsts_raise(io, (uint32_t)VTD_FSTS_PFO, false);
        return;
    }
    /* For an interrupt FI's bits 63:48 hold the interrupt index instead (7.2.1). */
    g->frcd[i][0] = req->kind == VTD_REQ_INTERRUPT ? vtd_field_prep(x->intr.index, VTD_FRCD_LO_IIDX)
                                                   : req->addr & VTD_FRCD_LO_FI;
    g->frcd[i][1] = frcd_hi_value(req, x->fault.code) | VTD_FRCD_HI_F;
    if (!(g->fsts & VTD_FSTS_PPF)) {
        g->fsts = (g->fsts & ~(uint32_t)VTD_FSTS_FRI) | (uint32_t)vtd_field_prep(i, VTD_FSTS_FRI);
        fsts_raise(io, (uint32_t)VTD_FSTS_PPF, true);
    }
    g->frcd_next = (i + 1) % frcd_count(io);
}

void iommu_fault_status_set(struct vtd_iommu *io, uint32_t bits) { fsts_raise(io, bits & (uint32_t)FSTS_RW1C, true); }

unsigned vtd_iommu_pending_faults(struct vtd_iommu *io)
{
    unsigned n = 0;
    for (unsigned i = 0; i < frcd_count(io); i++)
        n += (io->regs.frcd[i][1] & VTD_FRCD_HI_F) != 0;
    return n;
}

int vtd_iommu_read_fault_record(struct vtd_iommu *io, unsigned index, struct vtd_fault_record *out)
{
    if (!io || !out || index >= frcd_count(io))
        return -EINVAL;
    uint64_t lo = io->regs.frcd[index][0], hi = io->regs.frcd[index][1];
    *out = (struct vtd_fault_record){
        .pending = hi & VTD_FRCD_HI_F,
        .sid = (uint16_t)vtd_field(hi, VTD_FRCD_HI_SID),
        .pasid_present = hi & VTD_FRCD_HI_PP,
        .pasid = (uint32_t)vtd_field(hi, VTD_FRCD_HI_PV),
        .reason = (uint8_t)vtd_field(hi, VTD_FRCD_HI_FR),
        .addr = lo & VTD_FRCD_LO_FI,
        .is_write = !(hi & VTD_FRCD_HI_T1),
        .priv = hi & VTD_FRCD_HI_PRIV,
        .exe = hi & VTD_FRCD_HI_EXE,
        .at = (unsigned)vtd_field(hi, VTD_FRCD_HI_AT),
    };
    return 0;
}
