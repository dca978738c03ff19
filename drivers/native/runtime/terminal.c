/*
 * process.terminal: a pseudo-terminal from the container's own devpts instance (/dev/ptmx inside
 * the new root), its peer opened through TIOCGPTPEER (never by path), made the controlling
 * terminal of the process; the master goes to the monitor (or the exec parent) over SCM_RIGHTS
 * and is relayed to the caller's stdio or the log.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int open_pty(const struct plan *p, int *peer) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(errno, "process.terminal: open /dev/ptmx (a devpts mount with newinstance at /dev/pts is needed)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) fail(errno, "unlock the pty");
  *peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*peer < 0) fail(errno, "open the pty peer");
  if (p->rows && p->cols) {
    struct winsize ws = {.ws_row = (unsigned short)p->rows, .ws_col = (unsigned short)p->cols};
    ioctl(master, TIOCSWINSZ, &ws);
  }
  return master;
}

void make_controlling(int peer) {
  if (ioctl(peer, TIOCSCTTY, 0) != 0) fail(errno, "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(peer, fd) < 0) fail(errno, "dup the pty to fd %d", fd);
  if (peer > 2) close(peer);
}

int send_fd(int sock, char tag, int fd) {
  char buf[CMSG_SPACE(sizeof(int))];
  memset(buf, 0, sizeof buf);
  struct iovec iov = {.iov_base = &tag, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Read one message; a passed fd (if any) lands in *fd. Returns bytes read. */
ssize_t recv_with_fd(int sock, char *data, size_t len, int *fd) {
  char buf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  *fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
  return n;
}

static char relay_buf[4096];

/* Move what is readable from `from` to `to`; returns 0 at end of input (or error). */
int relay_once(int from, int to) {
  ssize_t n = read(from, relay_buf, sizeof relay_buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (n <= 0) return 0;
  write_all(to, relay_buf, (size_t)n);
  return 1;
}

/* Everything still buffered in the master (after the process exited). */
void drain(int master, int to) {
  int fl = fcntl(master, F_GETFL);
  fcntl(master, F_SETFL, fl | O_NONBLOCK);
  while (relay_once(master, to)) {
    struct pollfd pfd = {master, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN)) break;
  }
}
