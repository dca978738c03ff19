/*
 * berth-nspawn-init: the last step before the user's process, inside the container.
 *
 * systemd-nspawn bind-mounts this static binary read-only at /run/.berth/init and runs it as the
 * container's payload (PID 1); `exec` runs it again through nsenter. It applies what nspawn cannot
 * express exactly, in runc's order, then execs the command with exactly the spec's environment:
 *
 *   namespaced sysctls, masked and read-only paths (init only), oom_score_adj, rlimits, umask, capability bounding
 *   set, groups, gid, uid (keeping capabilities), effective/permitted/inheritable and ambient
 *   capabilities, no_new_privs, cwd, execvp.
 *
 * Usage: berth-nspawn-init [OPTION]... -- COMMAND [ARG]...
 *   --wait-for PATH (first, until PATH exists)  --sysctl PATH=VALUE  --mask PATH  --readonly PATH  --oom-score-adj N  --rlimit NUM:SOFT:HARD  --umask OCTAL
 *   --uid N  --gid N  --groups G1,G2 (may be empty)  --caps B:E:P:I:A (five hex masks)
 *   --nnp  --cwd DIR  --env NAME=VALUE (repeatable; the environment is exactly these)
 * Failures print "berth-nspawn-init: STEP: REASON" on stderr and exit 127 (command not found),
 * 126 (not executable) or 125 (set-up failed).
 *
 * Readiness: as the container's payload it gets berth-nspawn-supervisor's pipe as a socket-activation
 * fd (LISTEN_FDS=1, fd 3, passed on by nspawn). It marks it close-on-exec, writes "R" into it just
 * before exec'ing the user's command, so the pipe closes exactly when that exec succeeds; a failure
 * writes "!" (after "R" when the exec itself failed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define MAX_LIST 256
#define READY_FD 3

/* capget/capset's ABI (linux/capability.h, declared here so that the helper builds against musl too). */
#define CAP_VERSION_3 0x20080522
struct cap_header {
  uint32_t version;
  int pid;
};
struct cap_data {
  uint32_t effective;
  uint32_t permitted;
  uint32_t inheritable;
};

/* The supervisor's readiness pipe (fd 3), when nspawn passed it on; -1 otherwise. */
static int ready_fd = -1;

static void die(int code, const char *step, const char *what) {
  int err = errno;
  fprintf(stderr, "berth-nspawn-init: %s: %s%s%s\n", step, what ? what : "", what ? ": " : "", strerror(err));
  if (ready_fd >= 0 && write(ready_fd, "!", 1) < 0) { /* the supervisor is gone: nothing to tell */ }
  exit(code);
}

/* Take the readiness pipe when nspawn passed exactly it (LISTEN_FDS=1 for PID 1, fd 3 a pipe). */
static void take_ready_fd(void) {
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  struct stat st;
  if (!fds || !pid || strcmp(fds, "1") != 0 || atol(pid) != (long)getpid()) return;
  if (fstat(READY_FD, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  if (fcntl(READY_FD, F_SETFD, FD_CLOEXEC) == 0) ready_fd = READY_FD;
}

static void fail(const char *step, const char *what) { die(125, step, what); }

static void mask_path(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0) {
    if (errno == ENOENT) return;
    fail("mask", p);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0") != 0) fail("mask", p);
  } else if (mount("/dev/null", p, NULL, MS_BIND, NULL) != 0) {
    fail("mask", p);
  }
}

static void readonly_path(const char *p) {
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) {
    if (errno == ENOENT) return;
    fail("readonly", p);
  }
  if (mount(p, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) != 0) fail("readonly", p);
}

/*
 * Namespaced sysctls (PATH=VALUE, PATH below /proc/sys as the driver read the name): nspawn mounts /proc/sys read-only, so a fresh procfs of
 * the container's own namespaces goes on a scratch folder, takes the writes and goes again.
 */
#define SYSCTL_PROC "/run/.berth/proc"
static void apply_sysctls(const char **list, int n) {
  if (n == 0) return;
  if (mkdir(SYSCTL_PROC, 0700) != 0 && errno != EEXIST) fail("sysctl", SYSCTL_PROC);
  if (mount("proc", SYSCTL_PROC, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) fail("sysctl", "mount proc");
  for (int k = 0; k < n; k++) {
    const char *eq = strchr(list[k], '=');
    if (!eq) {
      errno = EINVAL;
      fail("sysctl", list[k]);
    }
    char file[512];
    int len = snprintf(file, sizeof file, "%s/sys/%.*s", SYSCTL_PROC, (int)(eq - list[k]), list[k]);
    if (len < 0 || (size_t)len >= sizeof file) {
      errno = ENAMETOOLONG;
      fail("sysctl", list[k]);
    }
    int fd = open(file, O_WRONLY);
    if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0) fail("sysctl", list[k]);
    close(fd);
  }
  if (umount2(SYSCTL_PROC, MNT_DETACH) != 0) fail("sysctl", "umount");
  rmdir(SYSCTL_PROC);
}

/* Wait until `path` exists: berth runs the prestart/createRuntime hooks meanwhile. */
static void wait_for(const char *path) {
  struct timespec ms = {0, 1000000};
  while (access(path, F_OK) != 0) nanosleep(&ms, NULL);
}

static uint64_t hex64(const char *s, const char **end) {
  char *e;
  errno = 0;
  uint64_t v = strtoull(s, &e, 16);
  if (errno || e == s) {
    errno = EINVAL;
    fail("caps", s);
  }
  *end = e;
  return v;
}

static int cap_last(void) {
  int last = 40;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = 40;
    fclose(f);
  }
  return last;
}

static void apply_caps(const char *spec) {
  const char *p = spec;
  uint64_t m[5];
  for (int i = 0; i < 5; i++) {
    m[i] = hex64(p, &p);
    if (i < 4) {
      if (*p != ':') {
        errno = EINVAL;
        fail("caps", spec);
      }
      p++;
    }
  }
  uint64_t bounding = m[0], effective = m[1], permitted = m[2], inheritable = m[3], ambient = m[4];
  struct cap_header hdr = {CAP_VERSION_3, 0};
  struct cap_data data[2];
  memset(data, 0, sizeof data);
  data[0].effective = (uint32_t)effective;
  data[1].effective = (uint32_t)(effective >> 32);
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)inheritable;
  data[1].inheritable = (uint32_t)(inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) fail("capset", NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("ambient", NULL);
  int last = cap_last();
  for (int c = 0; c <= last && c < 64; c++) {
    if (!(ambient & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) fail("ambient", NULL);
  }
  (void)bounding;
}

/* While still root: inheritable bits can be raised only with CAP_SETPCAP in the effective set. */
static void preset_inheritable(const char *spec) {
  const char *p = spec;
  for (int i = 0; i < 3; i++) {
    hex64(p, &p);
    p++;
  }
  uint64_t inheritable = hex64(p, &p);
  struct cap_header hdr = {CAP_VERSION_3, 0};
  struct cap_data data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) != 0) fail("capget", NULL);
  data[0].inheritable = (uint32_t)inheritable;
  data[1].inheritable = (uint32_t)(inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) fail("capset", "inheritable");
}

static void drop_bounding(const char *spec) {
  const char *end;
  uint64_t bounding = hex64(spec, &end);
  int last = cap_last();
  for (int c = 0; c <= last && c < 64; c++) {
    if (bounding & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) fail("bounding", NULL);
  }
}

int main(int argc, char **argv) {
  const char *masks[MAX_LIST], *readonly[MAX_LIST], *rlimits[MAX_LIST], *sysctls[MAX_LIST];
  char *envs[1024];
  int nmask = 0, nro = 0, nrl = 0, nenv = 0, nsys = 0;
  const char *uid = NULL, *gid = NULL, *groups = NULL, *caps = NULL, *cwd = NULL, *oom = NULL, *umask_s = NULL, *wait_path = NULL;
  int nnp = 0, i = 1;
  take_ready_fd();
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "--nnp") == 0) {
      nnp = 1;
      continue;
    }
    if (i + 1 >= argc) {
      errno = EINVAL;
      fail("usage", a);
    }
    const char *v = argv[++i];
    if (strcmp(a, "--mask") == 0 && nmask < MAX_LIST) masks[nmask++] = v;
    else if (strcmp(a, "--readonly") == 0 && nro < MAX_LIST) readonly[nro++] = v;
    else if (strcmp(a, "--rlimit") == 0 && nrl < MAX_LIST) rlimits[nrl++] = v;
    else if (strcmp(a, "--sysctl") == 0 && nsys < MAX_LIST) sysctls[nsys++] = v;
    else if (strcmp(a, "--env") == 0 && nenv < 1023) envs[nenv++] = (char *)v;
    else if (strcmp(a, "--uid") == 0) uid = v;
    else if (strcmp(a, "--gid") == 0) gid = v;
    else if (strcmp(a, "--groups") == 0) groups = v;
    else if (strcmp(a, "--caps") == 0) caps = v;
    else if (strcmp(a, "--cwd") == 0) cwd = v;
    else if (strcmp(a, "--oom-score-adj") == 0) oom = v;
    else if (strcmp(a, "--umask") == 0) umask_s = v;
    else if (strcmp(a, "--wait-for") == 0) wait_path = v;
    else {
      errno = EINVAL;
      fail("usage", a);
    }
  }
  if (i >= argc) {
    errno = EINVAL;
    fail("usage", "no command after --");
  }
  envs[nenv] = NULL;

  if (wait_path) wait_for(wait_path);
  apply_sysctls(sysctls, nsys);
  for (int k = 0; k < nmask; k++) mask_path(masks[k]);
  for (int k = 0; k < nro; k++) readonly_path(readonly[k]);
  if (oom) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0 || write(fd, oom, strlen(oom)) < 0) fail("oom_score_adj", oom);
    close(fd);
  }
  for (int k = 0; k < nrl; k++) {
    unsigned long long soft, hard;
    int res;
    if (sscanf(rlimits[k], "%d:%llu:%llu", &res, &soft, &hard) != 3) {
      errno = EINVAL;
      fail("rlimit", rlimits[k]);
    }
    struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};
    if (setrlimit(res, &rl) != 0) fail("rlimit", rlimits[k]);
  }
  if (umask_s) umask((mode_t)strtoul(umask_s, NULL, 8));
  if (caps) drop_bounding(caps);
  if (caps) preset_inheritable(caps);
  if (groups) {
    gid_t list[MAX_LIST];
    size_t n = 0;
    char *copy = strdup(groups), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < MAX_LIST; t = strtok_r(NULL, ",", &save)) list[n++] = (gid_t)strtoul(t, NULL, 10);
    if (setgroups(n, list) != 0) fail("setgroups", groups);
    free(copy);
  }
  if (gid && setresgid((gid_t)atol(gid), (gid_t)atol(gid), (gid_t)atol(gid)) != 0) fail("setgid", gid);
  if (uid) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("keepcaps", NULL);
    if (setresuid((uid_t)atol(uid), (uid_t)atol(uid), (uid_t)atol(uid)) != 0) fail("setuid", uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("keepcaps", NULL);
  }
  if (caps) apply_caps(caps);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs", NULL);
  if (cwd && chdir(cwd) != 0) fail("chdir", cwd);
  clearenv();
  for (int k = 0; k < nenv; k++) putenv(envs[k]);
  if (ready_fd >= 0 && write(ready_fd, "R", 1) < 0) { /* the supervisor is gone: nothing to tell */ }
  execvp(argv[i], &argv[i]);
  die(errno == ENOENT ? 127 : 126, "exec", argv[i]);
  return 125;
}
