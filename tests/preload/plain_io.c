/*
 * plain_io.c: a program that touches no simulated file, run under the preload library: its
 * open/openat/read/write/poll/mmap/close/ioctl must behave exactly as without it. With
 * "--bench N" it times N 4 KiB reads of a plain file and prints ns per read (run it with and
 * without LD_PRELOAD to see the interception's cost).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, what)                                                                                   \
    do {                                                                                                    \
        if (!(cond)) {                                                                                      \
            fprintf(stderr, "%s:%d: %s (errno %d: %s)\n", __FILE__, __LINE__, what, errno, strerror(errno)); \
            exit(1);                                                                                        \
        }                                                                                                   \
    } while (0)

static void bench(int fd, long n)
{
    char buf[4096];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, sizeof buf) == (ssize_t)sizeof buf, "read in the loop");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
    printf("plain read loop: %.0f ns per iteration (%ld)\n", ns, n);
}

int main(int argc, char **argv)
{
    char path[] = "/tmp/vtdsim-plain-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    char page[4096];
    memset(page, 'v', sizeof page);
    CHECK(write(fd, page, sizeof page) == (ssize_t)sizeof page, "write");
    CHECK(!close(fd), "close");
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open");
    int dirfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0, "open /tmp");
    int fd2 = openat(dirfd, path + 5, O_RDONLY);
    CHECK(fd2 >= 0, "openat");
    char got[4096];
    CHECK(read(fd2, got, sizeof got) == (ssize_t)sizeof got && !memcmp(got, page, sizeof got), "read back");
    const char *m = mmap(NULL, sizeof page, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED && m[4095] == 'v', "mmap of a plain file");
    int avail = -1;
    CHECK(!ioctl(fd, FIONREAD, &avail) && avail == 4096, "ioctl FIONREAD");
    int p[2];
    CHECK(!pipe(p), "pipe");
    struct pollfd pf = { .fd = p[0], .events = POLLIN };
    CHECK(poll(&pf, 1, 0) == 0, "an empty pipe polls idle");
    CHECK(write(p[1], "x", 1) == 1, "write to the pipe");
    CHECK(poll(&pf, 1, 1000) == 1 && (pf.revents & POLLIN), "the pipe polls readable");
    errno = 0;
    CHECK(open("/dev/vfio-not-really", O_RDONLY) < 0 && errno == ENOENT, "a missing file is still missing");
    if (argc == 3 && !strcmp(argv[1], "--bench"))
        bench(fd, atol(argv[2]));
    CHECK(!close(p[0]) && !close(p[1]) && !close(fd2) && !close(dirfd) && !close(fd), "close");
    CHECK(!unlink(path), "unlink");
    puts("plain_io: every call behaved as without the preload library");
    return 0;
}
