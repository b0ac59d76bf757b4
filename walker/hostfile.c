/*
 * hostfile.c: see hostfile.h. The file is checked twice: stat() before opening, so that a
 * FIFO or device is never opened at all, and fstat() of what was opened (with O_NONBLOCK, so
 * that a FIFO swapped in between cannot block the open), so that the check holds for the file
 * actually read.
 */
#define _POSIX_C_SOURCE 200809L
#include "walker/hostfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "a special file";
}

static FILE *refuse(mode_t m, char *why, size_t len)
{
    snprintf(why, len, "not a regular file (%s)", file_kind(m));
    errno = EINVAL;
    return NULL;
}

static FILE *cannot_open(char *why, size_t len)
{
    int e = errno;
    snprintf(why, len, "cannot open: %s", strerror(e));
    errno = e;
    return NULL;
}

FILE *vtd_fopen_regular(const char *path, uint64_t *size, char *why, size_t why_len)
{
    struct stat sb;
    if (stat(path, &sb))
        return cannot_open(why, why_len);
    if (!S_ISREG(sb.st_mode))
        return refuse(sb.st_mode, why, why_len);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return cannot_open(why, why_len);
    FILE *f = NULL;
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        close(fd);
        return refuse(sb.st_mode, why, why_len);
    }
    /* A regular file: back to ordinary blocking reads. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) || !(f = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        errno = e;
        return cannot_open(why, why_len);
    }
    if (size)
        *size = (uint64_t)sb.st_size;
    return f;
}
