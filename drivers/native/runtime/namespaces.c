/* Joining namespaces by path: open every path first, then setns, user first, mount last. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int rank(unsigned long type) {
  if (type == CLONE_NEWUSER) return 0;
  if (type == CLONE_NEWNS) return 2;
  return 1;
}

void join_namespaces(const struct plan *p, int include_pid) {
  int fds[16];
  unsigned long types[16];
  for (int i = 0; i < p->njoins; i++) {
    types[i] = strtoul(p->joins[i].f[0], NULL, 0);
    fds[i] = -1;
    if (types[i] == CLONE_NEWPID && !include_pid) continue;
    fds[i] = open(p->joins[i].f[1], O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail(errno, "open namespace %s", p->joins[i].f[1]);
  }
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < p->njoins; i++) {
      if (fds[i] < 0 || rank(types[i]) != r) continue;
      if (types[i] == CLONE_NEWUSER) {
        /* Joining the user namespace one is already in is an error: skip it. */
        struct stat a, b;
        if (fstat(fds[i], &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
          close(fds[i]);
          continue;
        }
      }
      if (setns(fds[i], (int)types[i]) != 0) fail(errno, "setns %s", p->joins[i].f[1]);
      close(fds[i]);
    }
  }
}

/* A new network namespace starts with lo down; bring it up, as runc does. */
void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(errno, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail(errno, "read the flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail(errno, "bring lo up");
  close(s);
}
