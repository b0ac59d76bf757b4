/*
 * preload.h: a simulated machine behind the device files a VMM opens (/dev/vfio/vfio,
 * /dev/vfio/N, /dev/vfio/devices/vfioN, /dev/iommu) and a control file that makes its devices
 * do DMA. The library proper: every piece of state is in one struct vtd_preload; the interposer
 * (shim.c) keeps the one instance a process has and maps its file descriptors to handles here.
 *
 * The machine is a scenario file (docs/scenario-format.md) read for its iommu:, devices: and
 * container: sections and its invalidation policy; its steps are not run. Group N and device
 * cdev vfioN are the machine's device N (0-based, in file order). Memory a program maps with
 * MAP_DMA or IOAS_MAP is copied into the simulated memory before each DMA and back after it
 * (preload/memory.c), so the program's own page tables and buffers are what the IOMMU walks.
 */
#ifndef VTDSIM_PRELOAD_PRELOAD_H
#define VTDSIM_PRELOAD_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtd_preload;

struct vtd_preload_opts {
    const char *machine;   /* the machine's scenario file (required) */
    const char *control;   /* the control file's path (NULL: VTD_PRELOAD_CONTROL_DEFAULT) */
    const char *report;    /* where findings are written (NULL: stderr only) */
    bool fatal;            /* the first finding ends the process (exit status VTD_PRELOAD_FATAL_STATUS) */
    const char *socket;    /* a Unix socket to serve DMA commands on (NULL: none) */
    const char *dma;       /* a YAML file of timed DMA steps (NULL: none) */
};

#define VTD_PRELOAD_CONTROL_DEFAULT "/dev/vtdsim/control"
#define VTD_PRELOAD_FATAL_STATUS 86

/* How the library reaches the interposer's descriptor table. */
struct vtd_preload_fds {
    void *arg;
    int (*handle_of)(void *arg, int fd);   /* the handle behind a descriptor, or -1 */
    int (*new_fd)(void *arg, int handle);  /* a descriptor for a new handle (a fault queue), or -errno */
    /* The lock every call into the library is made under; the socket's thread takes it around
     * each command (NULL: the caller serialises). */
    void (*lock)(void *arg);
    void (*unlock)(void *arg);
};

/* NULL with the reason in err ("file:line:column: reason" for the machine file). */
struct vtd_preload *vtd_preload_new(const struct vtd_preload_opts *o, const struct vtd_preload_fds *fds, char *err,
                                    size_t errlen);
/* Writes the report (if any) and frees everything. */
void vtd_preload_free(struct vtd_preload *p);

/* Whether a path is one of the simulated files (cheap: a few string compares). */
bool vtd_preload_path_is_ours(const char *path, const char *control);

/* Open a simulated file: a handle (>= 0), or -ENOENT (no such device), -ENOMEM. */
int vtd_preload_open(struct vtd_preload *p, const char *path);
void vtd_preload_close(struct vtd_preload *p, int h);
/* The kernel's answer: >= 0, or -errno. */
long vtd_preload_ioctl(struct vtd_preload *p, int h, unsigned long request, void *arg);
long vtd_preload_read(struct vtd_preload *p, int h, void *buf, size_t len);
long vtd_preload_write(struct vtd_preload *p, int h, const void *buf, size_t len);
/* Whether a read would return data now (poll's POLLIN). */
bool vtd_preload_readable(struct vtd_preload *p, int h);
/* Findings so far (stale translations, ordering warnings). */
unsigned vtd_preload_findings(const struct vtd_preload *p);

#endif
