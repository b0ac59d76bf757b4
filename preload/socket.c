/*
 * socket.c: the DMA socket (VTDSIM_SOCKET), through which a process outside the program makes
 * the simulated devices do DMA while an unmodified program runs. The library listens on a
 * Unix-domain stream socket from a service thread; each line a client sends is one control
 * command (control.c) and gets one answer line back.
 *
 * Every command runs under the interposer's lock (struct vtd_preload_fds), the same lock every
 * intercepted call holds, so a DMA lands between two of the program's calls, never inside one.
 *
 * The socket file is made safely: a path that exists and is not a socket is refused, as is a
 * socket some process still listens on; a socket nobody answers (left by a run that died) is
 * replaced. bind() itself fails if anything appears at the path meanwhile. At the end the file is
 * removed only by the process that made it and only if it is still the inode bound here.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "preload/internal.h"
#include "walker/alloc.h"

/* Clients served at once; one more is told so and closed. */
#define PL_SOCKET_CLIENTS 8
#define PL_SOCKET_LINE 512

struct pl_client {
    int fd; /* -1: free */
    size_t n;
    char line[PL_SOCKET_LINE];
};

struct pl_socket {
    struct vtd_preload *p;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev;
    ino_t ino;
    pid_t pid;             /* the process that made the file and the thread */
    int listen_fd, stop_fd;
    pthread_t thread;
    bool running;
    struct pl_client client[PL_SOCKET_CLIENTS];
};

static void locked(struct vtd_preload *p, bool take)
{
    if (take && p->fds.lock)
        p->fds.lock(p->fds.arg);
    else if (!take && p->fds.unlock)
        p->fds.unlock(p->fds.arg);
}

/* A whole answer or nothing: a client that does not read its answers is dropped, never waited
 * for (the service thread must not block the program's calls). */
static bool send_line(int fd, const char *s)
{
    size_t n = strlen(s);
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    return w == (ssize_t)n;
}

static void client_close(struct pl_client *c)
{
    close(c->fd);
    c->fd = -1;
    c->n = 0;
}

/* Runs each complete line of the client's buffer; false when the client is to be dropped. */
static bool client_lines(struct pl_socket *s, struct pl_client *c)
{
    char *nl;
    while ((nl = memchr(c->line, '\n', c->n))) {
        *nl = 0;
        size_t used = (size_t)(nl - c->line) + 1;
        char ans[PL_ANSWER_MAX];
        if (nl > c->line && nl[-1] == '\r')
            nl[-1] = 0;
        if (c->line[0]) {
            locked(s->p, true);
            pl_command(s->p, c->line, ans, sizeof ans);
            pl_check_warnings(s->p);
            locked(s->p, false);
            if (!send_line(c->fd, ans))
                return false;
        }
        memmove(c->line, c->line + used, c->n - used);
        c->n -= used;
    }
    if (c->n == sizeof c->line) {
        char ans[96];
        snprintf(ans, sizeof ans, "error: a command line longer than %zu bytes\n", sizeof c->line - 1);
        send_line(c->fd, ans);
        return false;
    }
    return true;
}

static void client_read(struct pl_socket *s, struct pl_client *c)
{
    ssize_t r = read(c->fd, c->line + c->n, sizeof c->line - c->n);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        client_close(c);
        return;
    }
    c->n += (size_t)r;
    if (!client_lines(s, c))
        client_close(c);
}

static void client_accept(struct pl_socket *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (int i = 0; i < PL_SOCKET_CLIENTS; i++)
        if (s->client[i].fd < 0) {
            s->client[i].fd = fd;
            return;
        }
    send_line(fd, "error: too many clients\n");
    close(fd);
}

static void *serve(void *arg)
{
    struct pl_socket *s = arg;
    for (;;) {
        struct pollfd pf[2 + PL_SOCKET_CLIENTS];
        int map[2 + PL_SOCKET_CLIENTS];
        nfds_t n = 0;
        pf[n++] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
        pf[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
        for (int i = 0; i < PL_SOCKET_CLIENTS; i++)
            if (s->client[i].fd >= 0) {
                map[n] = i;
                pf[n++] = (struct pollfd){ .fd = s->client[i].fd, .events = POLLIN };
            }
        if (poll(pf, n, -1) < 0)
            continue; /* EINTR */
        if (pf[0].revents)
            return NULL;
        if (pf[1].revents)
            client_accept(s);
        for (nfds_t i = 2; i < n; i++)
            if (pf[i].revents)
                client_read(s, &s->client[map[i]]);
    }
}

/* Whether some process accepts connections at the path. */
static bool socket_live(const struct sockaddr_un *a)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* cannot tell: do not replace it */
    bool live = connect(fd, (const struct sockaddr *)a, sizeof *a) == 0 || errno != ECONNREFUSED;
    close(fd);
    return live;
}

/* The listening socket at s->path, made as the comment at the top says. */
static int socket_bind(struct pl_socket *s, char *err, size_t errlen)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, s->path, sizeof a.sun_path);
    struct stat st;
    if (!lstat(s->path, &st)) {
        if (!S_ISSOCK(st.st_mode))
            return snprintf(err, errlen, "%s: exists and is not a socket; not replacing it", s->path), -1;
        if (socket_live(&a))
            return snprintf(err, errlen, "%s: a process listens on this socket already", s->path), -1;
        unlink(s->path); /* a socket nobody serves, left by a run that ended without removing it */
    }
    if ((s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return snprintf(err, errlen, "%s: socket: %s", s->path, strerror(errno)), -1;
    if (bind(s->listen_fd, (const struct sockaddr *)&a, sizeof a) || lstat(s->path, &st))
        return snprintf(err, errlen, "%s: %s", s->path, strerror(errno)), -1;
    s->dev = st.st_dev; /* from here on the file is this process's to remove */
    s->ino = st.st_ino;
    s->pid = getpid();
    if (listen(s->listen_fd, PL_SOCKET_CLIENTS))
        return snprintf(err, errlen, "%s: listen: %s", s->path, strerror(errno)), -1;
    return 0;
}

/* Removes the socket file if it is still the one this process bound. */
static void socket_unlink(const struct pl_socket *s)
{
    struct stat st;
    if (s->pid == getpid() && !lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
}

static void socket_free(struct pl_socket *s)
{
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    for (int i = 0; i < PL_SOCKET_CLIENTS; i++)
        if (s->client[i].fd >= 0)
            close(s->client[i].fd);
    vtd_free(s);
}

int pl_socket_start(struct vtd_preload *p, const char *path, char *err, size_t errlen)
{
    struct pl_socket *s = vtd_calloc(1, sizeof *s);
    if (!s)
        return snprintf(err, errlen, "out of memory"), -1;
    s->p = p;
    s->listen_fd = s->stop_fd = -1;
    for (int i = 0; i < PL_SOCKET_CLIENTS; i++)
        s->client[i].fd = -1;
    if (strlen(path) >= sizeof s->path) {
        snprintf(err, errlen, "%s: a socket path has at most %zu bytes", path, sizeof s->path - 1);
        socket_free(s);
        return -1;
    }
    strcpy(s->path, path);
    if (socket_bind(s, err, errlen)) {
        socket_unlink(s); /* only if bind made it */
        socket_free(s);
        return -1;
    }
    int rc = -1;
    if ((s->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0)
        snprintf(err, errlen, "%s: eventfd: %s", path, strerror(errno));
    else if ((rc = pthread_create(&s->thread, NULL, serve, s)))
        snprintf(err, errlen, "%s: the service thread: %s", path, strerror(rc));
    if (rc) {
        socket_unlink(s);
        socket_free(s);
        return -1;
    }
    s->running = true;
    p->sock = s;
    return 0;
}

void pl_socket_stop(struct vtd_preload *p)
{
    struct pl_socket *s = p->sock;
    if (!s)
        return;
    /* A child of fork() has the descriptors but not the thread, and did not make the file. */
    if (s->running && s->pid == getpid()) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            return; /* the thread cannot be told to stop: it keeps its state */
        pthread_join(s->thread, NULL);
    }
    socket_unlink(s);
    socket_free(s);
    p->sock = NULL;
}
