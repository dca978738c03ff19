/*
 * berth-lxc-init: the small program berth's libvirt driver puts at both ends of a libvirt LXC
 * container. Static, no dependencies; built by drivers/libvirt/native.mk.
 *
 *   berth-lxc-init init  [OPTIONS] -- CMD ARGS...   the domain's <init> (PID 1 inside the container)
 *   berth-lxc-init enter --pid PID [OPTIONS] -- CMD ARGS...   exec into a running container (host side)
 *
 * init: libvirt passes it, with `virsh create --pass-fds`, fd 3 = stdout target, fd 4 = stderr target,
 * fd 5 = the start fifo (opened read-write, so a read blocks until `start` writes one byte),
 * fd 6 = the status file (append). It blocks on fd 5 (OCI created), then applies the process
 * settings libvirt's domain XML cannot express exactly (hostname, capability sets, rlimits,
 * supplementary groups, umask, no_new_privs), forks the user's process with stdout/stderr on
 * fds 3/4, writes "started PID" to the status file, reaps every child (it is PID 1), and writes
 * "exit CODE" (128+N when killed by signal N) when the user's process ends; then it exits and libvirt
 * tears the transient domain down. Signals it receives are forwarded to the user's process.
 *
 * enter: joins the cgroups and namespaces of the container init PID and its root, then forks the
 * command with the container's capability bounding set, user, cwd and the environment it was given;
 * exits with the command's status (128+N for a signal).
 *
 * OPTIONS: --cwd DIR  --uid N  --gid N  --groups N,N  --umask OCTAL  --no-new-privs
 *          (--groups - = none)  --hostname NAME  --domainname NAME  --rlimit RESOURCE=SOFT:HARD  --keep-env NAME
 *          --caps B:E:P:I:A (five hex masks, init only; absent = leave capabilities alone)
 *          --stdin (init: fd 7 is stdin; otherwise /dev/null)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LIST 256

struct options {
  const char *cwd;
  long uid, gid;
  gid_t groups[MAX_LIST];
  int ngroups, set_groups;
  long umask_value;
  int no_new_privs;
  const char *hostname, *domainname;
  struct { int resource; rlim_t soft, hard; } rlimits[32];
  int nrlimits;
  const char *keep_env[MAX_LIST];
  int nkeep_env, filter_env;
  int set_caps;
  uint64_t caps[5]; /* bounding, effective, permitted, inheritable, ambient */
  int use_stdin;
  int cgroupns;
  const char *mounts[MAX_LIST];   /* TYPE|DST|FLAGS|DATA: new mounts libvirt does not make */
  int nmounts;
  const char *remounts[MAX_LIST]; /* DST|FLAGS|DATA: exact flags and data for a libvirt-made mount */
  int nremounts;
  const char *masked[MAX_LIST], *readonly_paths[MAX_LIST];
  int nmasked, nreadonly;
  pid_t pid;
  char **argv;
};

/* In init mode, before the user's process exists, the status file is fd 6: a failure is recorded there. */
static int status_fd = -1;

static void die(const char *what) {
  int err = errno;
  dprintf(2, "berth-lxc-init: %s: %s\n", what, strerror(err));
  if (status_fd >= 0) dprintf(status_fd, "exit 127\n");
  _exit(127);
}

static void usage(const char *msg) {
  dprintf(2, "berth-lxc-init: %s\n", msg);
  _exit(127);
}

static const struct { const char *name; int resource; } RLIMIT_NAMES[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

static void parse_rlimit(struct options *o, const char *spec) {
  const char *eq = strchr(spec, '=');
  if (!eq || o->nrlimits >= 32) usage("bad --rlimit");
  int found = -1;
  for (size_t i = 0; i < sizeof(RLIMIT_NAMES) / sizeof(RLIMIT_NAMES[0]); i++)
    if (strlen(RLIMIT_NAMES[i].name) == (size_t)(eq - spec) && strncmp(RLIMIT_NAMES[i].name, spec, eq - spec) == 0)
      found = RLIMIT_NAMES[i].resource;
  if (found < 0) usage("unknown rlimit");
  char *end;
  unsigned long long soft = strtoull(eq + 1, &end, 10);
  if (*end != ':') usage("bad --rlimit");
  unsigned long long hard = strtoull(end + 1, &end, 10);
  o->rlimits[o->nrlimits].resource = found;
  o->rlimits[o->nrlimits].soft = soft;
  o->rlimits[o->nrlimits].hard = hard;
  o->nrlimits++;
}

static void parse_options(struct options *o, int argc, char **argv, int first) {
  memset(o, 0, sizeof(*o));
  o->uid = o->gid = o->umask_value = -1;
  int i = first;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "--no-new-privs") == 0) { o->no_new_privs = 1; continue; }
    if (strcmp(a, "--stdin") == 0) { o->use_stdin = 1; continue; }
    if (strcmp(a, "--cgroupns") == 0) { o->cgroupns = 1; continue; }
    if (!v) usage("option without a value");
    i++;
    if (strcmp(a, "--cwd") == 0) o->cwd = v;
    else if (strcmp(a, "--uid") == 0) o->uid = strtol(v, NULL, 10);
    else if (strcmp(a, "--gid") == 0) o->gid = strtol(v, NULL, 10);
    else if (strcmp(a, "--umask") == 0) o->umask_value = strtol(v, NULL, 8);
    else if (strcmp(a, "--hostname") == 0) o->hostname = v;
    else if (strcmp(a, "--domainname") == 0) o->domainname = v;
    else if (strcmp(a, "--rlimit") == 0) parse_rlimit(o, v);
    else if (strcmp(a, "--mount") == 0 && o->nmounts < MAX_LIST) o->mounts[o->nmounts++] = v;
    else if (strcmp(a, "--remount") == 0 && o->nremounts < MAX_LIST) o->remounts[o->nremounts++] = v;
    else if (strcmp(a, "--mask") == 0 && o->nmasked < MAX_LIST) o->masked[o->nmasked++] = v;
    else if (strcmp(a, "--readonly-path") == 0 && o->nreadonly < MAX_LIST) o->readonly_paths[o->nreadonly++] = v;
    else if (strcmp(a, "--pid") == 0) o->pid = (pid_t)strtol(v, NULL, 10);
    else if (strcmp(a, "--keep-env") == 0) {
      if (o->nkeep_env >= MAX_LIST) usage("too many --keep-env");
      o->keep_env[o->nkeep_env++] = v;
      o->filter_env = 1;
    } else if (strcmp(a, "--groups") == 0) {
      o->set_groups = 1;
      if (strcmp(v, "-") == 0) continue; /* no supplementary groups (libvirt refuses an empty <initarg>) */
      char *copy = strdup(v), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t && o->ngroups < MAX_LIST; t = strtok_r(NULL, ",", &save))
        o->groups[o->ngroups++] = (gid_t)strtoul(t, NULL, 10);
    } else if (strcmp(a, "--caps") == 0) {
      if (sscanf(v, "%lx:%lx:%lx:%lx:%lx", (unsigned long *)&o->caps[0], (unsigned long *)&o->caps[1],
                 (unsigned long *)&o->caps[2], (unsigned long *)&o->caps[3], (unsigned long *)&o->caps[4]) != 5)
        usage("bad --caps");
      o->set_caps = 1;
    } else usage("unknown option");
  }
  if (i >= argc) usage("no command after --");
  o->argv = argv + i;
}

/* Keep only the variables named with --keep-env (libvirt adds container=, LIBVIRT_LXC_* ...). */
static void filter_environment(const struct options *o) {
  if (!o->filter_env) return;
  extern char **environ;
  static char *kept[MAX_LIST + 1];
  int n = 0;
  for (char **e = environ; *e && n < MAX_LIST; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    for (int k = 0; k < o->nkeep_env; k++)
      if (strlen(o->keep_env[k]) == (size_t)(eq - *e) && strncmp(o->keep_env[k], *e, eq - *e) == 0) { kept[n++] = *e; break; }
  }
  kept[n] = NULL;
  environ = kept;
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = {0};
  if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0) return 40;
  close(fd);
  return atoi(buf);
}

static void drop_bounding(uint64_t keep) {
  int last = last_cap();
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) die("drop bounding capability");
}

static void set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {
    {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
    {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
  };
  if (syscall(SYS_capset, &h, d) < 0) die("capset");
}

/* The user's process: everything the spec asks for, applied in the order runc uses. */
static void become_process(const struct options *o) {
  if (o->nrlimits)
    for (int i = 0; i < o->nrlimits; i++) {
      struct rlimit r = {o->rlimits[i].soft, o->rlimits[i].hard};
      if (setrlimit(o->rlimits[i].resource, &r) < 0) die("setrlimit");
    }
  if (o->set_caps) {
    drop_bounding(o->caps[0]);
    if (o->uid > 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die("keepcaps");
  }
  if (o->set_groups && setgroups(o->ngroups, o->groups) < 0) die("setgroups");
  if (o->gid >= 0 && setresgid(o->gid, o->gid, o->gid) < 0) die("setgid");
  if (o->uid >= 0 && setresuid(o->uid, o->uid, o->uid) < 0) die("setuid");
  if (o->set_caps) {
    set_caps(o->caps[1], o->caps[2], o->caps[3]);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int c = 0; c < 64; c++)
      if ((o->caps[4] & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) die("ambient capability");
  }
  if (o->cwd && chdir(o->cwd) < 0) die(o->cwd);
  if (o->umask_value >= 0) umask((mode_t)o->umask_value);
  if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
  filter_environment(o);
  execvp(o->argv[0], o->argv);
  int code = errno == ENOENT ? 127 : 126;
  dprintf(2, "berth-lxc-init: exec %s: %s\n", o->argv[0], strerror(errno));
  _exit(code);
}

/* Split "A|B|C[|D]" in place into at most `n` fields. */
static int split(char *s, char **out, int n) {
  int k = 0;
  out[k++] = s;
  for (char *p = s; *p && k < n; p++)
    if (*p == '|') { *p = 0; out[k++] = p + 1; }
  return k;
}

/* tmpfs takes mode=, uid= and gid= only when first mounted: give the mount's root them here. */
static void apply_root_mode(const char *dst, const char *data) {
  char *copy = strdup(data), *save = NULL;
  long mode = -1, uid = -1, gid = -1;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strncmp(t, "mode=", 5) == 0) mode = strtol(t + 5, NULL, 8);
    else if (strncmp(t, "uid=", 4) == 0) uid = strtol(t + 4, NULL, 10);
    else if (strncmp(t, "gid=", 4) == 0) gid = strtol(t + 4, NULL, 10);
  }
  free(copy);
  if ((uid >= 0 || gid >= 0) && chown(dst, (uid_t)uid, (gid_t)gid) < 0) die(dst);
  if (mode >= 0 && chmod(dst, (mode_t)mode) < 0) die(dst);
}

/* The container's file system, finished inside its mount namespace before `ready`. */
static void setup_mounts(const struct options *o) {
  for (int i = 0; i < o->nmounts; i++) {
    char *f[4];
    if (split(strdup(o->mounts[i]), f, 4) != 4) usage("bad --mount");
    mkdir(f[1], 0755);
    if (mount(f[0], f[1], f[0], strtoul(f[2], NULL, 10), *f[3] ? f[3] : NULL) < 0) die(f[1]);
  }
  for (int i = 0; i < o->nremounts; i++) {
    char *f[3];
    if (split(strdup(o->remounts[i]), f, 3) != 3) usage("bad --remount");
    unsigned long flags = strtoul(f[1], NULL, 10);
    if (*f[2] && mount(NULL, f[0], NULL, MS_REMOUNT | (flags & MS_RDONLY), f[2]) < 0) die(f[0]);
    if (mount(NULL, f[0], NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0) die(f[0]);
    apply_root_mode(f[0], f[2]);
  }
  for (int i = 0; i < o->nmasked; i++) {
    struct stat st;
    const char *p = o->masked[i];
    if (stat(p, &st) < 0) continue;
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
                                : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (r < 0) die(p);
  }
  for (int i = 0; i < o->nreadonly; i++) {
    const char *p = o->readonly_paths[i];
    struct stat st;
    if (stat(p, &st) < 0) continue;
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die(p);
  }
}

static volatile pid_t child_pid = 0;
static volatile sig_atomic_t early_signal = 0;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
  else early_signal = sig;
}

static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = forward;
  sa.sa_flags = 0; /* no SA_RESTART: a signal must interrupt the wait for start */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD) sigaction(s, &sa, NULL);
}

static int exit_code(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int run_init(int argc, char **argv) {
  struct options o;
  parse_options(&o, argc, argv, 2);
  status_fd = 6;
  dup2(4, 2); /* until the user's process runs, the init's own messages go to the container's stderr */
  catch_signals();
  setup_mounts(&o);
  if (o.cgroupns && unshare(CLONE_NEWCGROUP) < 0) die("cgroup namespace");
  dprintf(6, "ready\n");
  char go;
  ssize_t n;
  do n = read(5, &go, 1); while (n < 0 && errno == EINTR && !early_signal);
  if (early_signal || n != 1) {
    dprintf(6, "exit %d\n", early_signal ? 128 + early_signal : 255);
    return 0;
  }
  close(5);
  if (o.hostname && sethostname(o.hostname, strlen(o.hostname)) < 0) die("sethostname");
  if (o.domainname && setdomainname(o.domainname, strlen(o.domainname)) < 0) die("setdomainname");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    status_fd = -1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    if (setsid() < 0) die("setsid");
    int in = o.use_stdin ? 7 : open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(3, 1) < 0 || dup2(4, 2) < 0) die("stdio");
    for (int fd = 3; fd < 16; fd++) close(fd);
    become_process(&o);
  }
  child_pid = pid;
  for (int fd = 3; fd < 16; fd++) if (fd != 6) close(fd);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
  dprintf(6, "started %d\n", (int)pid);
  for (;;) {
    int status;
    pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (done == pid) {
      dprintf(6, "exit %d\n", exit_code(status));
      fsync(6);
      return 0;
    }
  }
}

/* Move this process into every cgroup of `pid` (v1 hierarchies and the v2 one) that exists here. */
static void join_cgroups(pid_t pid) {
  char path[4096];
  snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) die("read the container's cgroups");
  char line[4096];
  while (fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    const char *controllers = c1 + 1, *group = c2 + 1;
    char dir[4096];
    if (*controllers == 0) {
      struct stat st;
      const char *root = stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
      snprintf(dir, sizeof(dir), "%s%s/cgroup.procs", root, group);
    } else {
      const char *name = strncmp(controllers, "name=", 5) == 0 ? controllers + 5 : controllers;
      snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s/cgroup.procs", name, group);
    }
    int fd = open(dir, O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue; /* a hierarchy not mounted here, or one libvirt did not use */
    if (dprintf(fd, "%d\n", (int)getpid()) < 0) die(dir);
    close(fd);
  }
  fclose(f);
}

static uint64_t bounding_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) die("read the container's capabilities");
  uint64_t mask = 0;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "CapBnd:", 7) == 0) mask = strtoull(line + 7, NULL, 16);
  fclose(f);
  return mask;
}

static int run_enter(int argc, char **argv) {
  struct options o;
  parse_options(&o, argc, argv, 2);
  if (o.pid <= 0) usage("enter needs --pid");
  uint64_t bounding = bounding_of(o.pid);
  join_cgroups(o.pid);
  /* The user namespace first (when the container has its own), so the others are entered with its capabilities. */
  static const char *const kinds[] = {"user", "ipc", "uts", "net", "pid", "cgroup", "mnt"};
  int fds[7];
  char path[64];
  for (int i = 0; i < 7; i++) {
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)o.pid, kinds[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die(path);
  }
  struct stat mine, theirs;
  if (stat("/proc/self/ns/user", &mine) == 0 && fstat(fds[0], &theirs) == 0 && mine.st_ino == theirs.st_ino) {
    close(fds[0]);
    fds[0] = -1; /* same user namespace as ours: setns would fail with EINVAL */
  }
  snprintf(path, sizeof(path), "/proc/%d/root", (int)o.pid);
  int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die(path);
  for (int i = 0; i < 7; i++)
    if (fds[i] >= 0 && setns(fds[i], 0) < 0) die(kinds[i]);
  if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) die("enter the container's root");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    drop_bounding(bounding);
    become_process(&o);
  }
  child_pid = pid;
  catch_signals();
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  return exit_code(status);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return run_init(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "enter") == 0) return run_enter(argc, argv);
  usage("usage: berth-lxc-init init|enter [OPTIONS] -- CMD ARGS...");
  return 127;
}
