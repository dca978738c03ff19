/*
 * `berth-native create`: launch the container init and stay as its monitor.
 *
 * launch_init() is the one launch path: clone the init with the new namespaces, give it its id
 * maps, cgroups and oom_score_adj, let it build its root and block before exec. Then the monitor
 * (optional by design: see docs/drivers/native.md) waits for `start` on start.fifo, tells the init
 * to exec, reaps it as subreaper and records the exit status and OOM kill in the state folder.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLAN_FD 3
#define RESULT_FD 4

static struct plan plan;
/* start.fifo, opened before clone: without a monitor the init itself waits on it. */
static int start_fd = -1;

/* Monitor-side failure before the container exists: tell the caller on RESULT_FD. */
__attribute__((noreturn)) static void launch_fail(const char *msg, int err) {
  char buf[1200];
  int n = snprintf(buf, sizeof buf, "E%s%s%s", msg, err ? ": " : "", err ? strerror(err) : "");
  write_all(RESULT_FD, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
  _exit(1);
}

static void write_pidfile(const char *path, int pid) {
  char num[32];
  snprintf(num, sizeof num, "%d", pid);
  int rc = write_file(path, num);
  if (rc < 0) {
    char msg[600];
    snprintf(msg, sizeof msg, "write %s", path);
    launch_fail(msg, -rc);
  }
}

/* The child side: runs as the container init until exec. Never returns. */
__attribute__((noreturn)) static void init_child(const struct plan *p, int sync) {
  char c, exe[4096];
  report_fd = sync;
  close(RESULT_FD); /* (the plan fd was closed before clone; its number may be reused) */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  char go[32];
  ssize_t gn = read(sync, go, sizeof go - 1);
  if (gn < 1 || go[0] != 'G') _exit(1);
  go[gn] = '\0';
  int host_pid = atoi(go + 1); /* this process as the host sees it, for the hooks' state */
  join_namespaces(p, 0);
  int userns = (p->clone_flags & CLONE_NEWUSER) != 0;
  for (int i = 0; i < p->njoins; i++) userns |= strtoul(p->joins[i].f[0], NULL, 0) == CLONE_NEWUSER;
  if (userns && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)) fail(errno, "become root in the user namespace");
  if (p->cgroupns && unshare(CLONE_NEWCGROUP) != 0) fail(errno, "unshare the cgroup namespace");
  if (p->clone_flags & CLONE_NEWNET) loopback_up();
  if (setsid() < 0) fail(errno, "setsid");
  if (p->rootfs) setup_rootfs(p);
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) != 0) fail(errno, "sethostname");
  if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) != 0) fail(errno, "setdomainname");
  apply_rlimits(p);
  int rc = find_executable(p, exe, sizeof exe);
  if (rc != 0) fail(rc, "process.args[0] %s", p->args[0]);
  check_cwd(p);
  run_container_hooks(p, "createContainer", host_pid);
  if (p->terminal) {
    int peer, master = open_pty(p, &peer);
    make_controlling(peer);
    if (send_fd(sync, 'R', master) < 0) _exit(1);
    close(master);
  } else if (write_all(sync, "R", 1) < 0) {
    _exit(1);
  }
  if (p->nomonitor) {
    /* Nobody relays `start`: wait on the fifo directly; later errors go to the caller's stderr. */
    report_fd = -1;
    close(sync);
    struct pollfd pfd = {start_fd, POLLIN, 0};
    while (poll(&pfd, 1, -1) < 0)
      if (errno != EINTR) _exit(1);
    char b[16];
    if (read(start_fd, b, sizeof b) <= 0) _exit(1);
  } else if (read(sync, &c, 1) != 1 || c != 'S') {
    _exit(1);
  }
  run_container_hooks(p, "startContainer", host_pid);
  finish_and_exec(p, exe);
}

/* Clone the init and bring it to "ready, blocked before exec". Returns its pid. */
static int launch_init(const struct plan *p, int *sync_out, int *master_out) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) launch_fail("socketpair", errno);
  for (int i = 0; i < p->njoins; i++) {
    if (strtoul(p->joins[i].f[0], NULL, 0) != CLONE_NEWPID) continue;
    /* Only the monitor's future children enter it; the monitor itself stays where it is. */
    int fd = open(p->joins[i].f[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWPID) != 0) launch_fail("join the pid namespace", errno);
    close(fd);
  }
  /* CLONE_PARENT (no monitor): the init becomes the caller's child, which reaps it (runc's shape). */
  unsigned long flags = (p->clone_flags & ~(unsigned long)CLONE_NEWCGROUP) | (p->nomonitor ? CLONE_PARENT : 0);
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) launch_fail("clone the container init", errno);
  if (pid == 0) {
    close(sv[0]);
    init_child(p, sv[1]);
  }
  close(sv[1]);
  char path[64], msg[1100];
  if (p->gidmap) {
    snprintf(path, sizeof path, "/proc/%ld/gid_map", pid);
    int rc = write_file(path, p->gidmap);
    if (rc < 0) { kill((pid_t)pid, SIGKILL); launch_fail("write linux.gidMappings", -rc); }
  }
  if (p->uidmap) {
    snprintf(path, sizeof path, "/proc/%ld/uid_map", pid);
    int rc = write_file(path, p->uidmap);
    if (rc < 0) { kill((pid_t)pid, SIGKILL); launch_fail("write linux.uidMappings", -rc); }
  }
  if (p->devfilter_len) {
    char err[600];
    if (p->devcgroup == NULL || attach_device_filter(p, err, sizeof err) != 0) {
      kill((pid_t)pid, SIGKILL);
      launch_fail(p->devcgroup ? err : "plan: devfilter without devcgroup", 0);
    }
  }
  for (int i = 0; i < p->nprocs; i++) write_pidfile(p->procs[i], (int)pid);
  if (p->has_oomscore) {
    char v[32];
    snprintf(path, sizeof path, "/proc/%ld/oom_score_adj", pid);
    snprintf(v, sizeof v, "%d", p->oomscore);
    int rc = write_file(path, v);
    if (rc < 0) { kill((pid_t)pid, SIGKILL); launch_fail("write process.oomScoreAdj", -rc); }
  }
  char go[32];
  int gl = snprintf(go, sizeof go, "G%ld", pid);
  if (write_all(sv[0], go, (size_t)gl) < 0) launch_fail("release the init", errno);
  ssize_t n = recv_with_fd(sv[0], msg, sizeof msg - 1, master_out);
  if (n != 1 || msg[0] != 'R' || (p->terminal && *master_out < 0)) {
    kill((pid_t)pid, SIGKILL);
    waitpid((pid_t)pid, NULL, 0);
    if (n > 1 && msg[0] == 'E') {
      msg[n] = '\0';
      launch_fail(msg + 1, 0);
    }
    launch_fail("the container init died during set-up", 0);
  }
  *sync_out = sv[0];
  return (int)pid;
}

static int oom_killed(const char *file) {
  char buf[2048];
  if (!file) return 0;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *at = strstr(buf, "oom_kill ");
  return at && strtol(at + 9, NULL, 10) > 0;
}

static void monitor_loop(const struct plan *p, int init, int sync, int fifo, int master) {
  sigset_t set;
  sigemptyset(&set);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) _exit(1);
  int in = master >= 0 ? 0 : -1; /* the terminal's input: the caller's stdin */
  for (;;) {
    struct pollfd fds[5] = {{sfd, POLLIN, 0}, {fifo, POLLIN, 0}, {sync, POLLIN, 0}, {master, POLLIN, 0}, {in, POLLIN, 0}};
    if (poll(fds, 5, -1) < 0 && errno != EINTR) _exit(1);
    if ((fds[3].revents & (POLLIN | POLLHUP)) && !relay_once(master, 1)) master = -1;
    if ((fds[4].revents & (POLLIN | POLLHUP)) && !relay_once(in, master)) in = -1;
    if (fds[1].revents & POLLIN) {
      char b[16];
      if (read(fifo, b, sizeof b) > 0) {
        write_all(sync, "S", 1);
        close(fifo);
        fifo = -1;
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      char msg[1100];
      ssize_t n = read(sync, msg, sizeof msg - 1);
      if (n > 1 && msg[0] == 'E') {
        msg[n] = '\0';
        put_state(p->statedir, "error", msg + 1);
      }
      if (n <= 0 || msg[0] == 'E') {
        /* The sync socket closes on exec (close-on-exec): the user's process runs. */
        put_state(p->statedir, "started", "");
        close(sync);
        sync = -1;
      }
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if ((int)si.ssi_signo != SIGCHLD) {
          kill(init, (int)si.ssi_signo);
          continue;
        }
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
          if (w != init) continue;
          if (master >= 0) drain(master, 1);
          int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
          char text[64];
          snprintf(text, sizeof text, "%d %d %d\n", code, sig, oom_killed(p->oomfile));
          put_state(p->statedir, "exit", text);
          _exit(0);
        }
        break;
      }
    }
  }
}

int monitor_main(void) {
  char err[512];
  if (plan_read(PLAN_FD, &plan, err, sizeof err) != 0) launch_fail(err, 0);
  close(PLAN_FD);
  /* Only the monitor answers on RESULT_FD: the init must not hold it open. */
  if (fcntl(RESULT_FD, F_SETFD, FD_CLOEXEC) != 0) _exit(1);
  if (!plan.statedir) launch_fail("plan: no statedir", 0);
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  int blocked[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) sigaddset(&set, blocked[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) launch_fail("subreaper", errno);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  char path[4096];
  snprintf(path, sizeof path, "%s/monitor.pid", plan.statedir);
  char num[32];
  snprintf(num, sizeof num, "%d", getpid());
  if (!plan.nomonitor && put_state(plan.statedir, "monitor.pid", num) != 0) launch_fail("write monitor.pid", errno);
  snprintf(path, sizeof path, "%s/start.fifo", plan.statedir);
  if (mkfifo(path, 0600) != 0 && errno != EEXIST) launch_fail("mkfifo start.fifo", errno);
  /* Read-write, so the fifo never reports end-of-file and `start` never blocks opening it. */
  int fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) launch_fail("open start.fifo", errno);
  start_fd = fifo;
  int sync, master = -1;
  int init = launch_init(&plan, &sync, &master);
  snprintf(num, sizeof num, "%d", init);
  if (put_state(plan.statedir, "init.pid", num) != 0) launch_fail("write init.pid", errno);
  char ok[32];
  int n = snprintf(ok, sizeof ok, "O%d\n", init);
  write_all(RESULT_FD, ok, (size_t)n);
  close(RESULT_FD);
  if (plan.nomonitor) return 0; /* the same launch, minus the monitor: the caller reaps the init */
  /* The caller's stdio belongs to the container now; with a terminal the monitor relays it. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = master >= 0 ? 2 : 0; fd < 3; fd++) dup3(devnull, fd, 0);
  close(devnull);
  monitor_loop(&plan, init, sync, fifo, master);
  return 0;
}
