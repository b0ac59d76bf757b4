/*
 * hostfile.h: opening an input file of the host (a scenario, a trace) safely.
 *
 * A path named like an input may be a FIFO, a terminal, a socket or a directory: reading a FIFO
 * with no writer blocks forever, and opening some devices has side effects. Every input goes
 * through vtd_fopen_regular(), which refuses anything but a regular file without ever
 * blocking, and tells the file's size so that a caller can refuse a file that is too large
 * before reading it.
 */
#ifndef VTDSIM_WALKER_HOSTFILE_H
#define VTDSIM_WALKER_HOSTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Open `path` for reading if it is a regular file. On success the stream (blocking reads, as
 * usual) and, when `size` is not NULL, the file's size in bytes. On failure NULL, errno set
 * (EINVAL for a file that is not regular), and the reason in `why` (e.g. "not a regular file
 * (a FIFO)", "cannot open: No such file or directory").
 */
FILE *vtd_fopen_regular(const char *path, uint64_t *size, char *why, size_t why_len);

#endif
