/*
 * guest.h: what the proof programs share, written against the kernel's uAPI and libc only (no
 * vtdsim header): a guest's RAM with a 4-level first-stage table in it, the control file that
 * makes the simulated device do DMA, and a check that stops the program with a message.
 *
 * Guest layout (guest-physical = IOVA of the host's mapping): PML4 at 0x1000, PDPT 0x2000,
 * PD 0x3000, PT 0x4000; guest virtual GVA maps the 4 KiB page at GPA DATA_GPA.
 */
#ifndef VTDSIM_TESTS_PRELOAD_GUEST_H
#define VTDSIM_TESTS_PRELOAD_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE (UINT64_C(4) << 20)
#define PGTBL_GPA UINT64_C(0x1000)
#define DATA_GPA UINT64_C(0x200000)
#define GVA UINT64_C(0x400000)
#define PASID 5u

/* The bug twin leaves the VMM's forwarding of the guest's invalidation out. */
#ifdef LEAVE_OUT_INVALIDATION
#define LEAVE_OUT 1
#else
#define LEAVE_OUT 0
#endif

/* First-stage entry bits (VT-d 9.7, the IA-32e paging format). */
#define FS_P (UINT64_C(1) << 0)
#define FS_RW (UINT64_C(1) << 1)
#define FS_US (UINT64_C(1) << 2)
#define FS_TABLE (FS_P | FS_RW | FS_US)

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                     \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));                       \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static inline uint64_t *guest_qword(uint8_t *ram, uint64_t gpa) { return (uint64_t *)(void *)(ram + gpa); }

static inline uint8_t *guest_ram_new(void)
{
    void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ram != MAP_FAILED, "mmap of the guest's RAM");
    return ram;
}

/* The guest maps GVA -> DATA_GPA, as its IOMMU driver would for an SVA buffer. */
static inline void guest_map(uint8_t *ram)
{
    *guest_qword(ram, 0x1000 + 8 * ((GVA >> 39) & 511)) = 0x2000 | FS_TABLE;
    *guest_qword(ram, 0x2000 + 8 * ((GVA >> 30) & 511)) = 0x3000 | FS_TABLE;
    *guest_qword(ram, 0x3000 + 8 * ((GVA >> 21) & 511)) = 0x4000 | FS_TABLE;
    *guest_qword(ram, 0x4000 + 8 * ((GVA >> 12) & 511)) = DATA_GPA | FS_TABLE;
}

/* The guest unmaps the page (and would then ask its vIOMMU to invalidate it). */
static inline void guest_unmap(uint8_t *ram) { *guest_qword(ram, 0x4000 + 8 * ((GVA >> 12) & 511)) = 0; }

static inline int control_open(void)
{
    const char *path = getenv("VTDSIM_CONTROL");
    int fd = open(path && *path ? path : "/dev/vtdsim/control", O_RDWR);
    CHECK(fd >= 0, "open of the control file");
    return fd;
}

/* One command to the simulated device and its answer line. */
static inline void control(int fd, const char *cmd, char *answer, size_t len)
{
    CHECK(write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd), "write of '%s' to the control file", cmd);
    ssize_t n = read(fd, answer, len - 1);
    CHECK(n > 0, "no answer to '%s'", cmd);
    answer[n] = 0;
    printf("%s-> %s", cmd, answer);
}

#endif
