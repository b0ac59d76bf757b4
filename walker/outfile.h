/*
 * outfile.h: writing an output file without ever destroying one (issue 13).
 *
 * Every file vtdsim writes (traces, reports, sweep tables) goes through this. A regular file is
 * written to a new temporary file in the same folder and renamed into place only when the whole
 * output was written, flushed and closed without error; on any failure only that temporary file
 * is removed, so a file that existed before is left exactly as it was. A symbolic link is
 * followed: its target is replaced and the link stays. The output must not be one of the
 * inputs (same device and inode, whatever the name). A character device or a FIFO (/dev/null, a
 * pipe) is written in place: it is never truncated, renamed or removed. The file the standard
 * output or error already writes (`--json /dev/stdout >log`) is written through that descriptor,
 * after what was printed. A directory, a block device or a socket is refused. The state lives in
 * the caller's struct vtd_outfile.
 */
#ifndef VTDSIM_WALKER_OUTFILE_H
#define VTDSIM_WALKER_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#define VTD_OUTFILE_ERR_LEN 512

struct vtd_outfile {
    FILE *f;                        /* write the output here */
    char *dest;                     /* the file that receives it (a symbolic link resolved) */
    char *tmp;                      /* the temporary file; NULL when writing a special file */
    char err[VTD_OUTFILE_ERR_LEN];  /* "PATH: reason" after a failure */
};

/*
 * Open `path` for writing; `inputs` (n of them, NULL entries skipped) are the files the command
 * reads, which the output may not be. 0, or -errno with the reason in o->err (nothing opened,
 * nothing changed on disk).
 */
int vtd_outfile_open(struct vtd_outfile *o, const char *path, const char *const *inputs, size_t n);

/*
 * Whether vtd_outfile_open(path, inputs, n) would be refused, without creating or opening
 * anything (a FIFO's reader sees nothing): its rules, and a folder that takes new files for a
 * regular output. 0, or -errno with "PATH: reason" in err. For a command that writes only after
 * a long run.
 */
int vtd_outfile_check(const char *path, const char *const *inputs, size_t n, char err[VTD_OUTFILE_ERR_LEN]);

/*
 * Flush, check for write errors, close, and put the output in place. 0, or -errno with the
 * reason in o->err (the temporary file removed, the previous file untouched).
 */
int vtd_outfile_commit(struct vtd_outfile *o);

/* Give up: close and remove the temporary file; the previous file (if any) is untouched. */
void vtd_outfile_discard(struct vtd_outfile *o);

#endif
