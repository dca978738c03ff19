/*
 * The launch plan, as TypeScript (launch-plan.ts) serialises it: a sequence of records
 * "<key> <length>\n<bytes>\n". Multi-field values separate their fields with NUL bytes.
 * Everything here points into one static buffer; nothing is allocated.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H
#include <stddef.h>
#include <stdint.h>

#define MAX_ITEMS 256
#define MAX_FIELDS 8

struct item {
  const char *f[MAX_FIELDS]; /* NUL-terminated fields */
  int n;
};

struct hook {
  const char *data; /* NUL-separated words, see hooks.c */
  size_t len;
};

struct plan {
  unsigned long clone_flags;  /* new namespaces (CLONE_NEW*) made at clone */
  int cgroupns;               /* unshare(CLONE_NEWCGROUP) once inside the cgroup */
  struct item joins[16];      /* type-flag, path */
  int njoins;
  const char *uidmap, *gidmap;
  const char *procs[32];
  int nprocs;
  const char *oomfile;
  const char *devcgroup;             /* cgroup v2 dir the device program is attached to */
  const unsigned char *devfilter;    /* struct bpf_insn[] */
  size_t devfilter_len;
  const char *statedir;
  const char *rootfs;
  unsigned long rootprop;     /* propagation of / in the new mount ns (MS_SLAVE|MS_REC...) */
  unsigned long rootfsprop;   /* linux.rootfsPropagation, applied after pivot_root; 0 = none */
  int rootro;
  struct item mounts[MAX_ITEMS]; /* dest, type, source, flags, pflags, data */
  int nmounts;
  struct item devs[64];       /* path, type(c/b/p), major, minor, mode, uid, gid, hostpath */
  int ndevs;
  int devlinks;
  const char *masked[64];
  int nmasked;
  const char *ropaths[64];
  int nropaths;
  const char *hostname, *domainname;
  struct item sysctls[64];
  int nsysctls;
  struct item rlimits[16];    /* resource, soft, hard */
  int nrlimits;
  int has_oomscore;
  int oomscore;
  uint32_t uid, gid;
  uint32_t groups[64];
  int ngroups;
  int has_umask;
  unsigned umask;
  uint64_t caps[5];           /* bounding, effective, permitted, inheritable, ambient */
  int has_caps;
  int nnp;
  const unsigned char *seccomp;
  size_t seccomp_len;
  unsigned seccomp_flags;
  const char *env[256];
  int nenv;
  const char *args[256];
  int nargs;
  const char *cwd;
  int terminal;
  int nomonitor;              /* runc's shape: the init is the caller's child, no monitor stays */
  struct hook hooks[32];      /* createContainer / startContainer, run by the init */
  int nhooks;
  const char *state_head, *state_tail; /* the state JSON around the init's host pid */
  unsigned rows, cols;        /* process.consoleSize */
  int init_pid;               /* exec: the container's init (namespaces from /proc/PID/ns) */
};

/* Read the whole plan from fd and parse it. Returns 0, or -1 with a message in err. */
int plan_read(int fd, struct plan *p, char *err, size_t errlen);

#endif
