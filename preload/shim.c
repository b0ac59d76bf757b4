/*
 * shim.c: the interposer. With LD_PRELOAD, a program's open/openat/open64/ioctl/read/write/
 * poll/close/mmap come here first; calls on files that are not simulated go straight to the C
 * library's own (dlsym(RTLD_NEXT)), after one test of a flag while no simulated file is open, or
 * of one byte per descriptor after.
 *
 * This is the one place with process-wide state, and it has to be: the C library's entry points
 * take no context, so the machine behind them is one per process. The library proper
 * (the other files of preload/) keeps its state in the struct vtd_preload made here on the first
 * open of a simulated path. A simulated file is a real descriptor (an eventfd) so that the
 * program can poll, dup-free close and pass it around; its readiness follows the model's.
 *
 * Environment: VTDSIM_MACHINE (the machine's scenario file), VTDSIM_CONTROL (the control
 * file's path), VTDSIM_REPORT (the findings file), VTDSIM_FATAL=1 (stop at the first finding),
 * VTDSIM_SOCKET (a Unix socket serving DMA commands), VTDSIM_DMA (timed DMA steps).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/preload.h"

#define SHIM_MAX_FD 4096

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*close_fn)(int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

/* The process's one interposer state (see the comment at the top). */
static struct {
    pthread_mutex_t lock;
    struct vtd_preload *p;
    bool failed;                 /* the machine could not be made: simulated opens fail */
    bool any;                    /* a simulated file was ever opened */
    int handle[SHIM_MAX_FD];     /* handle + 1 per descriptor; 0: not simulated */
    const char *control;
} shim = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The C library's entry points, looked up once. */
static struct {
    open_fn open, open64;
    openat_fn openat;
    ioctl_fn ioctl;
    read_fn read;
    write_fn write;
    poll_fn poll;
    close_fn close;
    mmap_fn mmap;
} real;

static void *next(const char *name) { return dlsym(RTLD_NEXT, name); }

__attribute__((constructor)) static void shim_resolve(void)
{
    real.open = (open_fn)next("open");
    real.open64 = (open_fn)next("open64");
    real.openat = (openat_fn)next("openat");
    real.ioctl = (ioctl_fn)next("ioctl");
    real.read = (read_fn)next("read");
    real.write = (write_fn)next("write");
    real.poll = (poll_fn)next("poll");
    real.close = (close_fn)next("close");
    real.mmap = (mmap_fn)next("mmap");
}

/* A call that comes before the constructor ran (another library's constructor) resolves it. */
#define REAL(f) (real.f ? real.f : (shim_resolve(), real.f))

static int handle_of(void *arg, int fd)
{
    (void)arg;
    return fd >= 0 && fd < SHIM_MAX_FD ? shim.handle[fd] - 1 : -1;
}

/* A real descriptor for a simulated file: an eventfd, written while the file is readable. */
static int new_fd(void *arg, int h)
{
    (void)arg;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fd >= SHIM_MAX_FD) {
        REAL(close)(fd);
        return -EMFILE;
    }
    shim.handle[fd] = h + 1;
    shim.any = true;
    return fd;
}

static void shim_lock(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&shim.lock);
}

static void shim_unlock(void *arg)
{
    (void)arg;
    pthread_mutex_unlock(&shim.lock);
}

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static bool machine_ready(void)
{
    if (shim.p || shim.failed)
        return shim.p != NULL;
    struct vtd_preload_opts o = {
        .machine = getenv("VTDSIM_MACHINE"), .control = shim.control, .report = getenv("VTDSIM_REPORT"),
        .fatal = getenv("VTDSIM_FATAL") && strcmp(getenv("VTDSIM_FATAL"), "0"),
        .socket = env_or_null("VTDSIM_SOCKET"), .dma = env_or_null("VTDSIM_DMA"),
    };
    struct vtd_preload_fds fds = { NULL, handle_of, new_fd, shim_lock, shim_unlock };
    char err[512];
    if (!(shim.p = vtd_preload_new(&o, &fds, err, sizeof err))) {
        fprintf(stderr, "vtdsim-preload: %s\n", err);
        shim.failed = true;
    }
    return shim.p != NULL;
}

static const char *control_path(void)
{
    if (!shim.control) {
        const char *c = getenv("VTDSIM_CONTROL");
        shim.control = c && *c ? c : VTD_PRELOAD_CONTROL_DEFAULT;
    }
    return shim.control;
}

/* eventfd readiness follows the model's: a count while readable, none otherwise. */
static void refresh_readiness(int fd)
{
    uint64_t v = 1;
    if (vtd_preload_readable(shim.p, shim.handle[fd] - 1))
        (void)REAL(write)(fd, &v, sizeof v);
    else
        (void)REAL(read)(fd, &v, sizeof v);
}

static int sim_open(const char *path)
{
    pthread_mutex_lock(&shim.lock);
    int fd = -1;
    if (!machine_ready()) {
        errno = ENODEV;
    } else {
        int h = vtd_preload_open(shim.p, path);
        if (h < 0) {
            errno = -h;
        } else if ((fd = new_fd(NULL, h)) < 0) {
            vtd_preload_close(shim.p, h);
            errno = -fd;
            fd = -1;
        }
    }
    pthread_mutex_unlock(&shim.lock);
    return fd;
}

static bool is_sim(int fd) { return shim.any && fd >= 0 && fd < SHIM_MAX_FD && shim.handle[fd]; }

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (vtd_preload_path_is_ours(path, control_path()))
        return sim_open(path);
    return REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (vtd_preload_path_is_ours(path, control_path()))
        return sim_open(path);
    return REAL(open64)(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    if (path[0] == '/' && vtd_preload_path_is_ours(path, control_path()))
        return sim_open(path);
    return REAL(openat)(dirfd, path, flags, mode);
}

static long answer(long rc)
{
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!is_sim(fd))
        return REAL(ioctl)(fd, request, arg);
    pthread_mutex_lock(&shim.lock);
    long rc = vtd_preload_ioctl(shim.p, shim.handle[fd] - 1, request, arg);
    pthread_mutex_unlock(&shim.lock);
    return (int)answer(rc);
}

ssize_t read(int fd, void *buf, size_t len)
{
    if (!is_sim(fd))
        return REAL(read)(fd, buf, len);
    pthread_mutex_lock(&shim.lock);
    long rc = vtd_preload_read(shim.p, shim.handle[fd] - 1, buf, len);
    refresh_readiness(fd);
    pthread_mutex_unlock(&shim.lock);
    return answer(rc);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    if (!is_sim(fd))
        return REAL(write)(fd, buf, len);
    pthread_mutex_lock(&shim.lock);
    long rc = vtd_preload_write(shim.p, shim.handle[fd] - 1, buf, len);
    for (int i = 0; i < SHIM_MAX_FD; i++)
        if (shim.handle[i])
            refresh_readiness(i);
    pthread_mutex_unlock(&shim.lock);
    return answer(rc);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (shim.any) {
        pthread_mutex_lock(&shim.lock);
        for (nfds_t i = 0; i < n; i++)
            if (is_sim(fds[i].fd))
                refresh_readiness(fds[i].fd);
        pthread_mutex_unlock(&shim.lock);
    }
    return REAL(poll)(fds, n, timeout);
}

int close(int fd)
{
    if (is_sim(fd)) {
        pthread_mutex_lock(&shim.lock);
        vtd_preload_close(shim.p, shim.handle[fd] - 1);
        shim.handle[fd] = 0;
        pthread_mutex_unlock(&shim.lock);
    }
    return REAL(close)(fd);
}

/* The simulated files have nothing to map (no device regions are modelled). */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (is_sim(fd)) {
        errno = ENODEV;
        return MAP_FAILED;
    }
    if (!real.mmap) /* during start-up, before anything is resolved: the system call itself */
        return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return real.mmap(addr, len, prot, flags, fd, off);
}

/* The report is complete when the program ends normally. The machine is taken out under the
 * lock and freed outside it: freeing stops the socket's thread, which may be waiting for the lock. */
__attribute__((destructor)) static void shim_fini(void)
{
    pthread_mutex_lock(&shim.lock);
    struct vtd_preload *p = shim.p;
    shim.p = NULL;
    shim.any = false; /* descriptors still open are plain eventfds from here on */
    shim.failed = true; /* and no machine is made again */
    pthread_mutex_unlock(&shim.lock);
    vtd_preload_free(p);
}
