/* fault.c: names and descriptions of legacy and scalable-mode fault reasons (VT-d appendix A). */
#include "walker/fault.h"

#include <stddef.h>
#include <strings.h>

struct fault_desc {
    int code;
    const char *name;
    const char *desc;
};

static const struct fault_desc fault_table[] = {
    {VTD_FR_L_ROOT_P, "LEGACY_ROOT_ENTRY_P", "legacy: present bit clear in the root entry"},
    {VTD_FR_L_CTX_P, "LEGACY_CTX_ENTRY_P", "legacy: present bit clear in the context entry"},
    {VTD_FR_L_CTX_INVALID, "LEGACY_CTX_ENTRY_INV", "legacy: context entry programmed with a TT or AW the hardware lacks"},
    {VTD_FR_L_BEYOND_AGAW, "LEGACY_BEYOND_AGAW", "legacy: input address beyond the smaller of MGAW and the context's AGAW"},
    {VTD_FR_L_WRITE, "LEGACY_WRITE_DENIED", "legacy: write request without write permission"},
    {VTD_FR_L_READ, "LEGACY_READ_DENIED", "legacy: read request without read permission"},
    {VTD_FR_L_PAGING_ACCESS, "LEGACY_PAGING_ENTRY_ACCESS", "legacy: error reading a second-stage paging entry"},
    {VTD_FR_L_ROOT_ACCESS, "LEGACY_ROOT_ENTRY_ACCESS", "legacy: error reading the root entry"},
    {VTD_FR_L_CTX_ACCESS, "LEGACY_CTX_ENTRY_ACCESS", "legacy: error reading the context entry"},
    {VTD_FR_L_ROOT_RSVD, "LEGACY_ROOT_ENTRY_RSVD", "legacy: reserved bit set in the root entry"},
    {VTD_FR_L_CTX_RSVD, "LEGACY_CTX_ENTRY_RSVD", "legacy: reserved bit set in the context entry"},
    {VTD_FR_L_PAGING_RSVD, "LEGACY_PAGING_ENTRY_RSVD", "legacy: reserved bit set in a second-stage paging entry"},
    {VTD_FR_L_TT_BLOCKED, "LEGACY_TT_BLOCKED", "legacy: translation or translated request blocked by the context's TT"},
    {VTD_FR_L_INTR_ADDR, "LEGACY_INTR_ADDR", "legacy: translation output in the interrupt address range"},
    {VTD_FR_IR_REQ_RSVD, "IR_REQ_RSVD", "interrupt: reserved field set in a remappable interrupt request"},
    {VTD_FR_IR_INDEX_OVER, "IR_INDEX_OVER", "interrupt: index beyond the interrupt-remapping table's size"},
    {VTD_FR_IR_ENTRY_P, "IR_ENTRY_P", "interrupt: present bit clear in the IRTE"},
    {VTD_FR_IR_ROOT_INVAL, "IR_TABLE_ACCESS", "interrupt: error reading the interrupt-remapping table"},
    {VTD_FR_IR_IRTE_RSVD, "IR_IRTE_RSVD", "interrupt: reserved field set in a present IRTE"},
    {VTD_FR_IR_REQ_COMPAT, "IR_COMPAT_BLOCKED", "interrupt: compatibility-format request blocked (CFI clear)"},
    {VTD_FR_IR_SID_ERR, "IR_SID_ERR", "interrupt: requester id fails the IRTE's source validation"},
    {VTD_FR_RTADDR_INVALID, "RTADDR_INVALID", "root-table address invalid (beyond HAW, reserved TTM, or legacy mode)"},
    {VTD_FR_TTM_PASID, "TTM_PASID", "legacy translation mode (TTM 00b) and a request with PASID"},
    {VTD_FR_TTM_PRQ, "TTM_PRQ", "legacy translation mode (TTM 00b) and a page request"},
    {VTD_FR_ROOT_ACCESS, "ROOT_ENTRY_ACCESS", "error reading the root entry"},
    {VTD_FR_ROOT_P, "ROOT_ENTRY_P", "present bit clear in the root entry"},
    {VTD_FR_ROOT_RSVD, "ROOT_ENTRY_RSVD", "reserved bit set in the root entry"},
    {VTD_FR_CTX_ACCESS, "CTX_ENTRY_ACCESS", "error reading the context entry"},
    {VTD_FR_CTX_P, "CTX_ENTRY_P", "present bit clear in the context entry"},
    {VTD_FR_CTX_RSVD, "CTX_ENTRY_RSVD", "reserved bit set in the context entry"},
    {VTD_FR_CTX_INVALID, "CTX_ENTRY_INV", "context entry programmed with a feature the hardware lacks"},
    {VTD_FR_CTX_DTE, "CTX_DTE", "translation or translated request with DTE clear in the context entry"},
    {VTD_FR_CTX_PASIDE, "CTX_PASIDE", "request with PASID and PASIDE clear in the context entry"},
    {VTD_FR_CTX_PDTS, "CTX_PDTS", "PASID beyond the PASID-directory size of the context entry"},
    {VTD_FR_CTX_PRE, "CTX_PRE", "page request with PRE clear in the context entry"},
    {VTD_FR_CTX_RID_PASID, "CTX_RID_PASID", "RID_PASID beyond the PASID-directory size"},
    {VTD_FR_PDIR_ACCESS, "PDIR_ENTRY_ACCESS", "error reading the PASID-directory entry"},
    {VTD_FR_PDIR_P, "PDIR_ENTRY_P", "present bit clear in the PASID-directory entry"},
    {VTD_FR_PDIR_RSVD, "PDIR_ENTRY_RSVD", "reserved bit set in the PASID-directory entry"},
    {VTD_FR_PASID_ACCESS, "PASID_ENTRY_ACCESS", "error reading the PASID-table entry"},
    {VTD_FR_PASID_P, "PASID_ENTRY_P", "present bit clear in the PASID-table entry"},
    {VTD_FR_PASID_RSVD, "PASID_ENTRY_RSVD", "reserved bit set in the PASID-table entry"},
    {VTD_FR_PASID_INVALID, "PASID_ENTRY_INV", "PASID-table entry programmed with an unsupported type or width"},
    {VTD_FR_PASID_ERE, "PASID_ERE", "execute request with ERE clear in the PASID-table entry"},
    {VTD_FR_PASID_SRE, "PASID_SRE", "supervisor request with SRE clear in the PASID-table entry"},
    {VTD_FR_FS_ACCESS, "FS_PAGING_ENTRY_ACCESS", "error reading or updating a first-stage paging entry"},
    {VTD_FR_FS_P, "FS_PAGING_ENTRY_P", "present bit clear in a first-stage paging entry"},
    {VTD_FR_FS_RSVD, "FS_PAGING_ENTRY_RSVD", "reserved bit set in a first-stage paging entry"},
    {VTD_FR_FSPTPTR, "FSPTPTR_INVALID", "first-stage table pointer beyond the host address width"},
    {VTD_FR_FS_NEST_MGAW, "FS_NESTED_BEYOND_MGAW", "nested: first-stage table or output address beyond MGAW"},
    {VTD_FR_FS_NEST_PTR_READ, "FS_NESTED_PTR_READ", "nested: second stage denies reading the FSPTPTR table"},
    {VTD_FR_FS_NEST_READ, "FS_NESTED_ENTRY_READ", "nested: second stage denies reading a first-stage table"},
    {VTD_FR_FS_NEST_AD_WRITE, "FS_NESTED_AD_WRITE", "nested: second stage denies the write of a first-stage A/D update"},
    {VTD_FR_SS_ACCESS, "SS_PAGING_ENTRY_ACCESS", "error reading or updating a second-stage paging entry"},
    {VTD_FR_SS_PERM, "SS_PAGING_ENTRY_PERM", "second-stage permission error"},
    {VTD_FR_SS_RSVD, "SS_PAGING_ENTRY_RSVD", "reserved bit set in a second-stage paging entry"},
    {VTD_FR_SSPTPTR, "SSPTPTR_INVALID", "second-stage table pointer beyond the host address width"},
    {VTD_FR_SS_AD_NOSNOOP, "SS_AD_NOSNOOP", "second-stage A/D update needed with a non-snooped page walk"},
    {VTD_FR_NON_CANONICAL, "NON_CANONICAL", "first-stage input address not canonical"},
    {VTD_FR_US, "US_VIOLATION", "user request to a supervisor page"},
    {VTD_FR_EXEC, "EXEC_DENIED", "execute request without execute permission"},
    {VTD_FR_BEYOND_HAW, "BEYOND_HAW", "address beyond the host address width"},
    {VTD_FR_BEYOND_AGAW, "BEYOND_AGAW", "input address beyond the second-stage address width"},
    {VTD_FR_WRITE, "WRITE_DENIED", "write request without write permission"},
    {VTD_FR_READ, "READ_DENIED", "read request without read permission"},
    {VTD_FR_INTR_ADDR, "INTR_ADDR", "translation output in the interrupt address range"},
    {VTD_FR_FS_AD_NOSNOOP, "FS_AD_NOSNOOP", "first-stage A/D update needed with a non-snooped page walk"},
};

static const struct fault_desc *fault_find(int code)
{
    for (size_t i = 0; i < sizeof(fault_table) / sizeof(fault_table[0]); i++)
        if (fault_table[i].code == code)
            return &fault_table[i];
    return NULL;
}

const char *vtd_fault_name(int code)
{
    const struct fault_desc *d = fault_find(code);
    return d ? d->name : NULL;
}

const char *vtd_fault_desc(int code)
{
    const struct fault_desc *d = fault_find(code);
    return d ? d->desc : "unknown fault reason";
}

int vtd_fault_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(fault_table) / sizeof(fault_table[0]); i++)
        if (strcasecmp(fault_table[i].name, name) == 0)
            return fault_table[i].code;
    return -1;
}

bool vtd_fault_known(int code) { return fault_find(code) != NULL; }

/* Legacy faults FPD may suppress, as QEMU's vtd_qualified_faults[] lists them: all but the
 * root-entry faults, the table access errors and a context entry's reserved bits. */
static bool legacy_qualified(int code)
{
    return code != VTD_FR_L_ROOT_P && code != VTD_FR_L_ROOT_ACCESS && code != VTD_FR_L_CTX_ACCESS &&
           code != VTD_FR_L_ROOT_RSVD && code != VTD_FR_L_CTX_RSVD;
}

bool vtd_fault_qualified(int code)
{
    if (!vtd_fault_known(code))
        return false;
    if (code <= VTD_FR_L_INTR_ADDR)
        return legacy_qualified(code);
    /* Interrupt faults: only those found in a fetched IRTE, whose FPD covers them (5.1.4.1). */
    if (code <= VTD_FR_IR_SID_ERR)
        return code == VTD_FR_IR_ENTRY_P || code == VTD_FR_IR_IRTE_RSVD || code == VTD_FR_IR_SID_ERR;
    /* Faults found before a context entry is accepted cannot be covered by any FPD bit. */
    return code >= VTD_FR_CTX_DTE;
}

int vtd_fault_to_legacy(int code)
{
    switch (code) {
    case VTD_FR_SS_ACCESS: return VTD_FR_L_PAGING_ACCESS;
    case VTD_FR_SS_RSVD: return VTD_FR_L_PAGING_RSVD;
    case VTD_FR_BEYOND_HAW:
    case VTD_FR_BEYOND_AGAW: return VTD_FR_L_BEYOND_AGAW;
    case VTD_FR_WRITE: return VTD_FR_L_WRITE;
    case VTD_FR_READ: return VTD_FR_L_READ;
    case VTD_FR_INTR_ADDR: return VTD_FR_L_INTR_ADDR;
    default: return code;
    }
}
