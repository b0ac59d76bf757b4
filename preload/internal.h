/*
 * internal.h: the preload library's state, shared by the files of preload/ other than the shim. Not installed.
 */
#ifndef VTDSIM_PRELOAD_INTERNAL_H
#define VTDSIM_PRELOAD_INTERNAL_H

#include "host/container.h"
#include "host/iommufd.h"
#include "preload/preload.h"
#include "runner/scenario.h"
#include "sim/iommu.h"

enum pl_kind { PL_FREE, PL_CONTAINER, PL_GROUP, PL_DEVICE, PL_IOMMUFD, PL_FAULT, PL_CONTROL };

struct pl_file {
    enum pl_kind kind;
    unsigned dev;                 /* group / device cdev: the machine's device index */
    int owner;                    /* group: its container's handle; device: its iommufd's; fault: its iommufd's (-1: none) */
    uint32_t fault_id;            /* fault queue */
    bool iommu_set;               /* container: SET_IOMMU done */
    unsigned ngroups;             /* container: groups set on it */
    struct vtd_container *c;      /* container after SET_IOMMU */
    struct vtd_iommufd *ictx;     /* iommufd */
    char reply[4096];             /* control: answers not read yet */
    size_t nreply;
    char line[512];               /* control: a command line being written */
    size_t nline;
};

/* A range of the program's memory behind simulated host-physical addresses. */
struct pl_region {
    uint64_t va, hpa, len;
};

struct vtd_preload {
    struct vtd_preload_opts o;
    char *machine_path, *control_path, *report_path;
    struct vtd_preload_fds fds;
    struct scenario *s;
    struct vtd_iommu *io;
    unsigned domains;             /* containers and iommufd contexts made (each its own DID and pool) */
    struct pl_file *f;
    int nf;
    struct pl_region *reg;
    size_t nreg;
    uint64_t next_hpa;
    uint64_t calls;               /* intercepted calls so far: the IOMMU's step */
    uint64_t warnings_seen;
    char **finding;               /* texts, in order */
    unsigned nfinding;
};

/* machine.c: a free slot of the file table for f, or -ENOMEM */
int pl_handle_new(struct vtd_preload *p, struct pl_file f);
/* memory.c */
int pl_mem_hpa(struct vtd_preload *p, uint64_t va, uint64_t len, uint64_t *hpa);
void pl_mem_sync_in(struct vtd_preload *p);
void pl_mem_sync_out(struct vtd_preload *p);
/* vfio.c and iommufd.c */
long pl_vfio_container_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg);
long pl_vfio_group_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg);
void pl_vfio_group_close(struct vtd_preload *p, int h);
long pl_iommufd_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg);
long pl_device_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg);
void pl_container_config(struct vtd_preload *p, struct vtd_container_config *cfg);
/* control.c */
long pl_control_write(struct vtd_preload *p, int h, const void *buf, size_t len);
long pl_control_read(struct vtd_preload *p, int h, void *buf, size_t len);
/* report.c */
void pl_finding(struct vtd_preload *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_check_warnings(struct vtd_preload *p);
void pl_report_write(struct vtd_preload *p);

#endif
