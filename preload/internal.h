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

struct pl_socket;
struct pl_steps;

struct vtd_preload {
    struct vtd_preload_opts o;
    char *machine_path, *control_path, *report_path, *dma_path, *socket_path;
    bool ready;                   /* the machine was made: the program runs on it */
    struct pl_socket *sock;       /* socket.c: the DMA socket, or NULL */
    struct pl_steps *steps;       /* dma_steps.c: timed DMA steps, or NULL */
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

/* One DMA by a simulated device (control.c's command line, or a timed step of dma_steps.c). */
struct pl_dma {
    unsigned dev;
    bool pasid_valid, write;
    uint32_t pasid;
    uint64_t addr, value;
    unsigned size;
};

/* What a DMA came to, as an expectation names it. */
enum pl_outcome { PL_OUT_OK, PL_OUT_STALE, PL_OUT_DIRTY_LOST, PL_OUT_FAULT, PL_OUT_PAGE_REQUEST, PL_OUT_ERROR };

/* The longest answer line of a command. */
#define PL_ANSWER_MAX 256

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
bool pl_find_device(const struct vtd_preload *p, const char *name, unsigned *dev);
bool pl_dma_parse(const struct vtd_preload *p, char *line, struct pl_dma *d, const char **why);
/* Runs the DMA (findings go to the report) and writes its answer line, newline included. */
enum pl_outcome pl_dma_run(struct vtd_preload *p, const struct pl_dma *d, char *ans, size_t len);
/* One command line (no newline) and its answer line. */
void pl_command(struct vtd_preload *p, char *line, char *ans, size_t len);
/* socket.c: the DMA socket's service thread; 0, or -1 with the reason in err */
int pl_socket_start(struct vtd_preload *p, const char *path, char *err, size_t errlen);
void pl_socket_stop(struct vtd_preload *p);
/* dma_steps.c: timed DMA steps; 0, or -1 with "file:line:column: reason" in err */
int pl_steps_load(struct vtd_preload *p, const char *path, char *err, size_t errlen);
/* The steps whose point is now: before (after false) or after a call, an ioctl's request. */
void pl_steps_at(struct vtd_preload *p, bool after, bool is_ioctl, unsigned long request);
/* With ran, a step that never fired is a finding. */
void pl_steps_free(struct vtd_preload *p, bool ran);
/* report.c */
void pl_finding(struct vtd_preload *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_check_warnings(struct vtd_preload *p);
void pl_report_write(struct vtd_preload *p);

#endif
