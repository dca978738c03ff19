/*
 * The last steps before exec, shared by the container init and `exec`: rlimits, sysctls, the
 * working directory (checked), groups/gid/uid, the five capability sets, no_new_privs, the seccomp
 * filter (last when no_new_privs is set; otherwise while CAP_SYS_ADMIN is still held), umask,
 * every fd but 0-2 closed on exec, and execve.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RLIM_MAX_SAFE 9223372036854775807ULL

static rlim_t rlim_value(const char *s) {
  unsigned long long v = strtoull(s, NULL, 10);
  return v >= RLIM_MAX_SAFE ? RLIM_INFINITY : (rlim_t)v;
}

void apply_rlimits(const struct plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = rlim_value(p->rlimits[i].f[1]), .rlim_max = rlim_value(p->rlimits[i].f[2])};
    if (setrlimit((int)strtol(p->rlimits[i].f[0], NULL, 10), &rl) != 0) fail(errno, "setrlimit %s", p->rlimits[i].f[0]);
  }
}

void write_sysctls(const struct plan *p) {
  for (int i = 0; i < p->nsysctls; i++) {
    /* The plan holds the path below /proc/sys (the driver read the name as sysctl(8) does). */
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "/proc/sys/%s", p->sysctls[i].f[0]) >= sizeof path) fail(ENAMETOOLONG, "sysctl %s", p->sysctls[i].f[0]);
    int rc = write_file(path, p->sysctls[i].f[1]);
    if (rc < 0) fail(-rc, "sysctl %s", p->sysctls[i].f[0]);
  }
}

static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  return access(path, X_OK) == 0 ? 0 : errno;
}

int find_executable(const struct plan *p, char *out, size_t outlen) {
  const char *name = p->args[0];
  if (strchr(name, '/')) {
    snprintf(out, outlen, "%s", name);
    return executable(out);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; i < p->nenv; i++)
    if (!strncmp(p->env[i], "PATH=", 5)) path = p->env[i] + 5;
  int last = ENOENT;
  while (*path) {
    const char *e = strchr(path, ':');
    size_t len = e ? (size_t)(e - path) : strlen(path);
    snprintf(out, outlen, "%.*s/%s", (int)len, len ? path : ".", name);
    int rc = executable(out);
    if (rc == 0) return 0;
    if (rc != ENOENT) last = rc;
    path += len + (e ? 1 : 0);
  }
  return last;
}

static void apply_seccomp(const struct plan *p) {
  if (!p->seccomp_len) return;
  if (p->seccomp_len % sizeof(struct sock_filter) != 0) fail(0, "seccomp program of %zu bytes", p->seccomp_len);
  struct sock_fprog prog = {.len = (unsigned short)(p->seccomp_len / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)(void *)p->seccomp};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog) != 0) fail(errno, "load the seccomp filter");
}

/* Before the user changes: dropping from the bounding set needs CAP_SETPCAP in the effective set. */
static void drop_bounding(const struct plan *p) {
  for (int cap = 0; cap < 64; cap++) {
    if (p->caps[0] & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail(errno, "drop capability %d from the bounding set", cap);
  }
}

static void apply_caps(const struct plan *p) {
  const uint64_t effective = p->caps[1], permitted = p->caps[2], inheritable = p->caps[3], ambient = p->caps[4];
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)effective, .permitted = (uint32_t)permitted, .inheritable = (uint32_t)inheritable},
      {.effective = (uint32_t)(effective >> 32), .permitted = (uint32_t)(permitted >> 32), .inheritable = (uint32_t)(inheritable >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) != 0) fail(errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail(errno, "clear ambient capabilities");
  for (int cap = 0; cap < 64; cap++) {
    if (!(ambient & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) fail(errno, "raise ambient capability %d", cap);
  }
}

static void change_user(const struct plan *p) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail(errno, "keepcaps");
  if (setgroups((size_t)p->ngroups, (const gid_t *)p->groups) != 0) {
    /* A user namespace whose setgroups is denied keeps no supplementary groups at all. */
    if (!(errno == EPERM && p->ngroups == 0)) fail(errno, "setgroups");
  }
  if (setresgid(p->gid, p->gid, p->gid) != 0) fail(errno, "setgid %u", p->gid);
  if (setresuid(p->uid, p->uid, p->uid) != 0) fail(errno, "setuid %u", p->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail(errno, "keepcaps off");
}

void check_cwd(const struct plan *p) {
  const char *cwd = p->cwd ? p->cwd : "/";
  if (chdir(cwd) != 0) fail(errno, "process.cwd %s", cwd);
  char here[4096];
  /* getcwd fails (or says "(unreachable)") when the directory is not below the process's root. */
  if (!getcwd(here, sizeof here) || here[0] != '/') fail(0, "process.cwd %s is outside the container root", cwd);
}

void finish_and_exec(const struct plan *p, const char *exe) {
  check_cwd(p);
  if (!p->nnp) apply_seccomp(p);
  if (p->has_caps) drop_bounding(p);
  change_user(p);
  if (p->has_caps) apply_caps(p);
  if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(errno, "no_new_privs");
  if (p->nnp) apply_seccomp(p);
  umask(p->has_umask ? p->umask : 022);
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(errno, "close_range");
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  execve(exe, (char *const *)p->args, (char *const *)p->env);
  fail(errno, "exec %s", exe);
}
