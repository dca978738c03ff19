#include "plan.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];

static int split(char *v, size_t len, struct item *it) {
  it->n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len && it->n < MAX_FIELDS; i++) {
    if (i == len || v[i] == '\0') {
      v[i] = '\0';
      it->f[it->n++] = v + start;
      start = i + 1;
    }
  }
  return it->n;
}

static unsigned long long num(const char *s) { return strtoull(s, NULL, 0); }

#define PUSH(arr, n, max, val)                                                     \
  do {                                                                             \
    if ((n) >= (max)) { snprintf(err, errlen, "plan: too many %s", key); return -1; } \
    arr[(n)++] = (val);                                                            \
  } while (0)

int plan_read(int fd, struct plan *p, char *err, size_t errlen) {
  size_t total = 0;
  for (;;) {
    if (total >= sizeof buf - 1) { snprintf(err, errlen, "plan: larger than %zu bytes", sizeof buf); return -1; }
    ssize_t n = read(fd, buf + total, sizeof buf - 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { snprintf(err, errlen, "plan: read: %s", strerror(errno)); return -1; }
    if (n == 0) break;
    total += (size_t)n;
  }
  memset(p, 0, sizeof *p);
  p->init_pid = -1;
  size_t pos = 0;
  while (pos < total) {
    char *key = buf + pos;
    char *sp = memchr(key, ' ', total - pos);
    if (!sp) { snprintf(err, errlen, "plan: bad record at %zu", pos); return -1; }
    *sp = '\0';
    char *end;
    size_t len = strtoul(sp + 1, &end, 10);
    if (*end != '\n' || (size_t)(end + 1 - buf) + len + 1 > total) { snprintf(err, errlen, "plan: bad length for %s", key); return -1; }
    char *v = end + 1;
    v[len] = '\0'; /* replaces the record's trailing newline */
    pos = (size_t)(v - buf) + len + 1;
    struct item it;
    if (!strcmp(key, "clone")) p->clone_flags = num(v);
    else if (!strcmp(key, "cgroupns")) p->cgroupns = 1;
    else if (!strcmp(key, "join")) { split(v, len, &it); if (it.n != 2) goto bad; PUSH(p->joins, p->njoins, 16, it); }
    else if (!strcmp(key, "uidmap")) p->uidmap = v;
    else if (!strcmp(key, "gidmap")) p->gidmap = v;
    else if (!strcmp(key, "procs")) PUSH(p->procs, p->nprocs, 32, v);
    else if (!strcmp(key, "oomfile")) p->oomfile = v;
    else if (!strcmp(key, "devcgroup")) p->devcgroup = v;
    else if (!strcmp(key, "devfilter")) { p->devfilter = (const unsigned char *)v; p->devfilter_len = len; }
    else if (!strcmp(key, "statedir")) p->statedir = v;
    else if (!strcmp(key, "rootfs")) p->rootfs = v;
    else if (!strcmp(key, "rootprop")) p->rootprop = num(v);
    else if (!strcmp(key, "rootfsprop")) p->rootfsprop = num(v);
    else if (!strcmp(key, "rootro")) p->rootro = 1;
    else if (!strcmp(key, "mount")) { split(v, len, &it); if (it.n != 6) goto bad; PUSH(p->mounts, p->nmounts, MAX_ITEMS, it); }
    else if (!strcmp(key, "dev")) { split(v, len, &it); if (it.n != 8) goto bad; PUSH(p->devs, p->ndevs, 64, it); }
    else if (!strcmp(key, "devlinks")) p->devlinks = 1;
    else if (!strcmp(key, "mask")) PUSH(p->masked, p->nmasked, 64, v);
    else if (!strcmp(key, "ro")) PUSH(p->ropaths, p->nropaths, 64, v);
    else if (!strcmp(key, "hostname")) p->hostname = v;
    else if (!strcmp(key, "domainname")) p->domainname = v;
    else if (!strcmp(key, "sysctl")) { split(v, len, &it); if (it.n != 2) goto bad; PUSH(p->sysctls, p->nsysctls, 64, it); }
    else if (!strcmp(key, "rlimit")) { split(v, len, &it); if (it.n != 3) goto bad; PUSH(p->rlimits, p->nrlimits, 16, it); }
    else if (!strcmp(key, "oomscore")) { p->has_oomscore = 1; p->oomscore = (int)strtol(v, NULL, 10); }
    else if (!strcmp(key, "uid")) p->uid = (uint32_t)num(v);
    else if (!strcmp(key, "gid")) p->gid = (uint32_t)num(v);
    else if (!strcmp(key, "group")) PUSH(p->groups, p->ngroups, 64, (uint32_t)num(v));
    else if (!strcmp(key, "umask")) { p->has_umask = 1; p->umask = (unsigned)num(v); }
    else if (!strcmp(key, "caps")) {
      split(v, len, &it);
      if (it.n != 5) goto bad;
      for (int i = 0; i < 5; i++) p->caps[i] = num(it.f[i]);
      p->has_caps = 1;
    }
    else if (!strcmp(key, "nnp")) p->nnp = 1;
    else if (!strcmp(key, "seccomp")) { p->seccomp = (const unsigned char *)v; p->seccomp_len = len; }
    else if (!strcmp(key, "seccompflags")) p->seccomp_flags = (unsigned)num(v);
    else if (!strcmp(key, "env")) PUSH(p->env, p->nenv, 255, v);
    else if (!strcmp(key, "arg")) PUSH(p->args, p->nargs, 255, v);
    else if (!strcmp(key, "cwd")) p->cwd = v;
    else if (!strcmp(key, "terminal")) p->terminal = 1;
    else if (!strcmp(key, "nomonitor")) p->nomonitor = 1;
    else if (!strcmp(key, "hook")) { struct hook h = {v, len}; PUSH(p->hooks, p->nhooks, 32, h); }
    else if (!strcmp(key, "statehead")) p->state_head = v;
    else if (!strcmp(key, "statetail")) p->state_tail = v;
    else if (!strcmp(key, "consolesize")) { split(v, len, &it); if (it.n != 2) goto bad; p->rows = (unsigned)num(it.f[0]); p->cols = (unsigned)num(it.f[1]); }
    else if (!strcmp(key, "initpid")) p->init_pid = (int)num(v);
    else { snprintf(err, errlen, "plan: unknown key %s", key); return -1; }
    continue;
  bad:
    snprintf(err, errlen, "plan: malformed %s", key);
    return -1;
  }
  p->env[p->nenv] = NULL;
  p->args[p->nargs] = NULL;
  if (p->nargs == 0) { snprintf(err, errlen, "plan: no process args"); return -1; }
  return 0;
}
