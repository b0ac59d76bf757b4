/*
 * schema_doc.c: the descriptions the scenario schema shows in an editor, by definition and key
 * (docs/scenario-format.md says the same at length). Types, ranges, names and whether a key is
 * required come from the loader's tables, not from here; a key without a line here is described
 * by those alone. tests/test_schema.c checks that every line names a key the loader has.
 */
#include <stddef.h>
#include <string.h>

#include "runner/schema.h"

struct doc {
    const char *nest, *key, *text;
};

static const struct doc docs[] = {
    {"scenario", NULL, "A vtdsim scenario: an IOMMU, devices, page tables and steps with expectations (docs/scenario-format.md)"},
    {"scenario", "name", "the scenario's name in reports"},
    {"scenario", "description", "one line for people"},
    {"scenario", "iommu", "the IOMMU's capabilities, caches and policies"},
    {"scenario", "devices", "the devices behind the IOMMU"},
    {"scenario", "tables", "page tables by name, built before the first step"},
    {"scenario", "steps", "what happens, in order"},
    {"scenario", "container", "run behind a simulated VFIO nesting container (uAPI steps)"},

    {"iommu", NULL, "The IOMMU's configuration"},
    {"iommu", "caps", "CAP_REG and ECAP_REG: whole values, fields and feature switches"},
    {"iommu", "oracle", "compare every cache-served answer with a fresh uncached walk (default true)"},
    {"iommu", "ordering_checks", "warn about unsafe update orders (default true)"},
    {"iommu", "invalidation_policy", "the container's CACHE_INVLD policy (default spec)"},
    {"iommu", "context_cache", "the context cache's geometry"},
    {"iommu", "pasid_cache", "the PASID cache's geometry"},
    {"iommu", "iotlb", "the IOTLB's geometry"},
    {"iommu", "psc_fs", "the first-stage paging-structure cache's geometry"},
    {"iommu", "psc_ss", "the second-stage paging-structure cache's geometry"},

    {"caps", NULL, "Capabilities: cap and ecap are applied first, the other keys change fields and bits of them"},
    {"caps", "haw", "host address width"},
    {"caps", "mgaw", "maximum guest address width (CAP_REG.MGAW + 1)"},
    {"caps", "sagaw", "second-stage widths supported"},
    {"caps", "mamv", "maximum address mask value for page-selective invalidation"},
    {"caps", "nfr", "number of fault-recording registers"},
    {"caps", "nd", "number of domains supported (CAP_REG.ND)"},
    {"caps", "pasid_bits", "PASID width (ECAP_REG.PSS + 1)"},
    {"caps", "cap", "the whole CAP_REG value"},
    {"caps", "ecap", "the whole ECAP_REG value"},

    {"cache_geometry", NULL, "A cache's size: entries alone (fully associative), entries and ways, or sets and ways; 0 entries disables it"},
    {"cache_geometry", "entries", "total entries"},
    {"cache_geometry", "sets", "number of sets (with ways)"},
    {"cache_geometry", "ways", "ways per set"},
    {"cache_geometry", "replacement", "replacement policy (default lru)"},
    {"cache_geometry", "seed", "seed of the random replacement"},

    {"device", NULL, "A device behind the IOMMU"},
    {"device", "name", "unique; steps name the device by it"},
    {"device", "bdf", "the source-id, unique"},
    {"device", "ats", "has a device TLB and uses ATS"},
    {"device", "pri", "may send page requests"},
    {"device", "pasid_bits", "the device's PASID width (default 20)"},
    {"device", "devtlb", "its device TLB's geometry (with ats)"},

    {"table", NULL, "A page table built before the first step"},
    {"table", "name", "unique; steps name the table by it"},
    {"table", "format", "first stage (IA-32e) or second stage"},
    {"table", "levels", "paging levels (default 4; a first-stage table has 4 or 5)"},
    {"table", "backing", "first stage only: the second-stage table (or container) whose guest-physical space holds it"},
    {"table", "pool", "with backing: guest-physical base of its table pages"},
    {"table", "pool_size", "with backing: size of that pool"},
    {"table", "mappings", "mappings made before the first step"},

    {"mapping", NULL, "A mapping of a page table"},
    {"mapping", "va", "input address"},
    {"mapping", "pa", "output address"},
    {"mapping", "size", "bytes mapped"},
    {"mapping", "page", "page size (default: the largest alignment and capabilities allow)"},
    {"mapping", "perm", "permissions"},
    {"mapping", "ad", "pre-set the A and D bits"},
    {"mapping", "snp", "second stage: set SNP in leaves"},

    {"container", NULL, "A simulated VFIO type1 nesting container (host/container.h)"},
    {"container", "did", "the host domain's DID (default 1)"},
    {"container", "ss_levels", "levels of the domain's second stage (default 4)"},
    {"container", "pool", "host-physical pool for the container's structures"},
    {"container", "pool_size", "size of that pool"},
    {"container", "iommufd_kernel", "whose hwpt_invalidate range arithmetic the host applies"},

    {"step", NULL, "A step: a mapping with one key, the step kind, holding its arguments and an optional expect"},
    {"step", "attach", "write a device's scalable-mode context entry and PASID directory"},
    {"step", "pasid_entry", "write a PASID table entry"},
    {"step", "pasid_clear", "clear a PASID table entry"},
    {"step", "map", "map a range in a page table (memory only: caches keep what they hold)"},
    {"step", "unmap", "unmap a range of a page table"},
    {"step", "protect", "change the permissions of a mapped range"},
    {"step", "dma", "a DMA request (or ATS request) from a device"},
    {"step", "qi", "submit one queued-invalidation descriptor"},
    {"step", "write_root", "edit a root entry in memory"},
    {"step", "write_context", "edit a device's context entry in memory"},
    {"step", "write_pdir", "edit a PASID directory entry in memory"},
    {"step", "write_pasid", "edit a PASID table entry in memory"},
    {"step", "write_pte", "edit a page-table entry in memory"},
    {"step", "write_mem", "write or fill simulated memory"},
    {"step", "reg_write", "write an IOMMU register"},
    {"step", "reg_read", "read an IOMMU register (expect: value)"},
    {"step", "check", "nothing: a place for expectations"},
    {"step", "repeat", "run steps count times"},
    {"step", "container_attach", "attach a device to the container"},
    {"step", "get_info", "VFIO_IOMMU_GET_INFO"},
    {"step", "map_dma", "VFIO_IOMMU_MAP_DMA"},
    {"step", "unmap_dma", "VFIO_IOMMU_UNMAP_DMA"},
    {"step", "pasid_request", "VFIO_IOMMU_PASID_REQUEST"},
    {"step", "bind", "NESTING_OP BIND_PGTBL with iommu_gpasid_bind_data"},
    {"step", "unbind", "NESTING_OP UNBIND_PGTBL"},
    {"step", "cache_invalidate", "NESTING_OP CACHE_INVLD with iommu_cache_invalidate_info"},
    {"step", "page_response", "answer a page request (iommu_page_response)"},
    {"step", "hwpt_alloc", "iommufd IOMMU_HWPT_ALLOC with iommu_hwpt_vtd_s1"},
    {"step", "hwpt_invalidate", "iommufd IOMMU_HWPT_INVALIDATE with iommu_hwpt_vtd_s1_invalidate entries"},

    {"step_dma", "device", "the requesting device"},
    {"step_dma", "pasid", "the request's PASID, or none"},
    {"step_dma", "addr", "input address"},
    {"step_dma", "size", "bytes; one request per 4 KiB page touched (default 1)"},
    {"step_dma", "access", "the access"},
    {"step_dma", "priv", "supervisor request"},
    {"step_dma", "ats", "ordinary DMA, ATS translation request or ATS translated request"},
    {"step_qi", "type", "descriptor type"},
    {"step_qi", "raw", "the descriptor as 2 or 4 qwords instead of named fields"},
    {"step_repeat", "count", "iterations"},
    {"step_repeat", "steps", "the steps repeated"},
    {"step_hwpt_invalidate", "entries", "the invalidation entries, in order"},

    {"hwpt_invalidate_entry", NULL, "One struct iommu_hwpt_vtd_s1_invalidate"},

    {"expect", NULL, "What the step must produce"},
    {"expect", "out", "dma: output address"},
    {"expect", "page", "dma: the translation's page size"},
    {"expect", "perm", "dma: the effective permissions"},
    {"expect", "fault", "dma: this fault (none: success)"},
    {"expect", "errno", "the operation's error (0: success)"},
    {"expect", "iommu_errno", "unbind, cache_invalidate: the iommu layer's discarded answer"},
    {"expect", "entry_num", "hwpt_invalidate: entries handled before the first error"},
    {"expect", "source", "dma: where the answer came from"},
    {"expect", "stale", "dma: the oracle found the answer stale"},
    {"expect", "fix", "dma: text the oracle's suggested descriptors contain"},
    {"expect", "reads", "dma: structure reads the IOMMU made"},
    {"expect", "paging_reads", "dma: paging-entry reads the IOMMU made"},
    {"expect", "warnings", "ordering warnings the step raised"},
    {"expect", "warning", "text one of the step's warnings contains"},
    {"expect", "pending_faults", "fault-recording registers holding a fault"},
    {"expect", "value", "reg_read and uAPI steps: the value read or returned"},
    {"expect", "dirty", "dma: the translation may serve writes without an A/D update"},
    {"expect", "mem", "memory values after the step"},
    {"expect", "stats", "cumulative statistics after the step"},
    {"expect", "removed", "qi: entries the descriptor removed, by cache"},
    {"expect", "fault_records", "fault-recording registers holding these faults"},
    {"expect", "uapi_faults", "the container's fault queue, exactly, in order"},

    {"stats", NULL, "Statistics by cache (devtlb: by device name) and global counters"},
    {"removed", NULL, "Entries removed, by cache name"},
    {"mem_expect", NULL, "A memory value after the step"},
    {"fault_record", NULL, "A pending fault in a fault-recording register"},
    {"uapi_fault", NULL, "A record of the container's fault queue"},
};

const char *sc_schema_doc(const char *nest, const char *key)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (!strcmp(docs[i].nest, nest) && (key ? docs[i].key && !strcmp(docs[i].key, key) : !docs[i].key))
            return docs[i].text;
    return NULL;
}

/* For tests/test_schema.c: the i-th line, false past the last. */
bool sc_schema_doc_at(size_t i, const char **nest, const char **key)
{
    if (i >= sizeof docs / sizeof docs[0])
        return false;
    *nest = docs[i].nest;
    *key = docs[i].key;
    return true;
}
