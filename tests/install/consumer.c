/* consumer.c: a program built against an installed vtdsim (headers, library, vtdsim.pc). */
#include <linux/iommu.h>
#include <linux/vfio.h>
#include <stdio.h>

#include "sim/iommu.h"
#include "walker/fault.h"

int main(void)
{
    struct vtd_iommu_config cfg;
    vtd_iommu_config_default(&cfg);
    struct vtd_iommu *io = vtd_iommu_new(&cfg, NULL);
    int ok = io && sizeof(struct iommu_fault) == 64 && VFIO_IOMMU_TYPE1_INFO_CAP_NESTING == 3 &&
             vtd_fault_by_name("FS_PAGING_ENTRY_P") == 0x71;
    vtd_iommu_free(io);
    printf("installed vtdsim: %s\n", ok ? "usable" : "BROKEN");
    return ok ? 0 : 1;
}
