/* outfile.c: outputs written to a temporary file and renamed into place (see outfile.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "walker/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walker/alloc.h"

/* Tries at a free temporary name before giving up (another process may hold some). */
#define TMP_TRIES 100

static int fail(struct vtd_outfile *o, int err, const char *path, const char *fmt, ...)
{
    char why[VTD_OUTFILE_ERR_LEN / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(o->err, sizeof(o->err), "%.*s: %s", (int)(sizeof(o->err) - sizeof(why) - 4), path, why);
    return -err;
}

static void release(struct vtd_outfile *o)
{
    vtd_free(o->dest);
    vtd_free(o->tmp);
    o->dest = o->tmp = NULL;
    o->f = NULL;
}

/*
 * Where the output goes: `path` itself, or the target of the symbolic link `path` (so the link
 * survives the rename). *sb is the destination's status; *exists says whether it has one.
 */
static int resolve_dest(struct vtd_outfile *o, const char *path, struct stat *sb, bool *exists)
{
    struct stat lsb;
    *exists = lstat(path, &lsb) == 0;
    if (!*exists) {
        if (errno != ENOENT)
            return fail(o, errno, path, "%s", strerror(errno));
        o->dest = vtd_strdup(path);
        return o->dest ? 0 : fail(o, ENOMEM, path, "out of memory");
    }
    if (!S_ISLNK(lsb.st_mode)) {
        *sb = lsb;
        o->dest = vtd_strdup(path);
        return o->dest ? 0 : fail(o, ENOMEM, path, "out of memory");
    }
    if (stat(path, sb))
        return fail(o, errno, path, "a symbolic link whose target cannot be written: %s", strerror(errno));
    /* A link to a pipe or device (/dev/stdout -> /proc/self/fd/1 -> pipe:[n]) has no path to
     * resolve: it is written in place through the link. */
    char *target = S_ISREG(sb->st_mode) ? realpath(path, NULL) : strdup(path);
    if (!target)
        return fail(o, errno, path, "%s", strerror(errno));
    o->dest = vtd_strdup(target);
    free(target);
    return o->dest ? 0 : fail(o, ENOMEM, path, "out of memory");
}

/* Refuse an output that is one of the inputs under any name (a hard or symbolic link too). */
static int check_not_input(struct vtd_outfile *o, const char *path, const struct stat *sb,
                           const char *const *inputs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat in;
        if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == sb->st_dev && in.st_ino == sb->st_ino)
            return fail(o, EEXIST, path, "is the input file %s: refusing to overwrite it", inputs[i]);
    }
    return 0;
}

/*
 * The file the standard output or error already writes (`--json /dev/stdout >log`): written
 * through a duplicate of that descriptor, after what the tool printed, never replaced (a rename
 * would leave the tool's own output in a file no longer there). 1 when it is one of them.
 */
static int open_std_stream(struct vtd_outfile *o, const char *path, const struct stat *sb)
{
    for (int fd = 1; fd <= 2; fd++) {
        struct stat std;
        if (fstat(fd, &std) || std.st_dev != sb->st_dev || std.st_ino != sb->st_ino)
            continue;
        int dup_fd = dup(fd);
        if (dup_fd < 0 || !(o->f = fdopen(dup_fd, "wb"))) {
            int e = errno;
            if (dup_fd >= 0)
                close(dup_fd);
            return fail(o, e, path, "%s", strerror(e));
        }
        return 1;
    }
    return 0;
}

/* A character device or a FIFO: written where it is, never truncated or removed. */
static int open_in_place(struct vtd_outfile *o, const char *path)
{
    int fd = open(o->dest, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(o, e, path, "%s", strerror(e));
    }
    return 0;
}

/* "DIR/.BASE.vtdsim-PID-N.tmp" next to the destination, so the rename stays in one file system. */
static int temp_name(struct vtd_outfile *o, unsigned n)
{
    const char *slash = strrchr(o->dest, '/');
    size_t dirlen = slash ? (size_t)(slash - o->dest) + 1 : 0;
    const char *base = o->dest + dirlen;
    size_t len = strlen(o->dest) + 64;
    vtd_free(o->tmp);
    if (!(o->tmp = vtd_malloc(len)))
        return -ENOMEM;
    snprintf(o->tmp, len, "%.*s.%s.vtdsim-%ld-%u.tmp", (int)dirlen, o->dest, base, (long)getpid(), n);
    return 0;
}

/* A new temporary file (O_EXCL: never an existing one), with the permissions of the file it
 * replaces, or those a new file gets under the umask. */
static int open_temp(struct vtd_outfile *o, const char *path, const struct stat *old)
{
    int fd = -1;
    for (unsigned n = 0; fd < 0 && n < TMP_TRIES; n++) {
        if (temp_name(o, n))
            return fail(o, ENOMEM, path, "out of memory");
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        return fail(o, e, path, "cannot create a temporary file next to it: %s", strerror(e));
    }
    if ((old && fchmod(fd, old->st_mode & 07777)) || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        return fail(o, e, path, "%s", strerror(e));
    }
    return 0;
}

/* Where the output goes, and whether it may go there at all (the rules of outfile.h). */
static int resolve_and_check(struct vtd_outfile *o, const char *path, const char *const *inputs, size_t n,
                             struct stat *sb, bool *exists)
{
    *o = (struct vtd_outfile){0};
    int rc = resolve_dest(o, path, sb, exists);
    if (!rc && *exists)
        rc = check_not_input(o, path, sb, inputs, n);
    if (!rc && *exists && S_ISDIR(sb->st_mode))
        rc = fail(o, EISDIR, path, "is a directory");
    else if (!rc && *exists && !S_ISREG(sb->st_mode) && !S_ISCHR(sb->st_mode) && !S_ISFIFO(sb->st_mode))
        rc = fail(o, EINVAL, path, "not a regular file, character device or FIFO: not written");
    return rc;
}

/* The folder that will hold the temporary file: it must exist and take new files. */
static int check_folder(struct vtd_outfile *o, const char *path)
{
    const char *slash = strrchr(o->dest, '/');
    char *dir = slash ? vtd_strdup(o->dest) : NULL;
    if (slash && !dir)
        return fail(o, ENOMEM, path, "out of memory");
    if (dir)
        dir[slash - o->dest + 1] = 0; /* keep the slash: "/" stays the root */
    int rc = access(dir ? dir : ".", W_OK | X_OK) ? fail(o, errno, path, "cannot create a file in its folder: %s",
                                                           strerror(errno)) : 0;
    vtd_free(dir);
    return rc;
}

int vtd_outfile_check(const char *path, const char *const *inputs, size_t n, char err[VTD_OUTFILE_ERR_LEN])
{
    struct vtd_outfile o;
    struct stat sb;
    bool exists;
    int rc = resolve_and_check(&o, path, inputs, n, &sb, &exists);
    if (!rc && (!exists || S_ISREG(sb.st_mode)))
        rc = check_folder(&o, path);
    if (rc)
        snprintf(err, VTD_OUTFILE_ERR_LEN, "%s", o.err);
    release(&o);
    return rc;
}

int vtd_outfile_open(struct vtd_outfile *o, const char *path, const char *const *inputs, size_t n)
{
    struct stat sb;
    bool exists;
    int rc = resolve_and_check(o, path, inputs, n, &sb, &exists);
    if (!rc && exists)
        rc = open_std_stream(o, path, &sb);
    if (rc == 1)
        rc = 0; /* o->f writes the standard stream's file */
    else if (!rc)
        rc = exists && !S_ISREG(sb.st_mode) ? open_in_place(o, path) : open_temp(o, path, exists ? &sb : NULL);
    if (rc)
        release(o);
    return rc;
}

int vtd_outfile_commit(struct vtd_outfile *o)
{
    int e = 0;
    if (fflush(o->f))
        e = errno;
    else if (ferror(o->f))
        e = EIO; /* an earlier write failed; its errno is gone */
    if (fclose(o->f) && !e)
        e = errno;
    o->f = NULL;
    if (!e && o->tmp && rename(o->tmp, o->dest))
        e = errno;
    if (e) {
        fail(o, e, o->dest, "%s", strerror(e));
        if (o->tmp)
            unlink(o->tmp);
    }
    release(o);
    return -e;
}

void vtd_outfile_discard(struct vtd_outfile *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    release(o);
}
