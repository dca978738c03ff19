/*
 * `berth-native exec`: run one more process in a running container: enter its cgroups, join every
 * namespace of its init (user first, mount last), fork into the pid namespace, then the same last
 * steps as the init (identity, capabilities, no_new_privs, seccomp, fds) and exec. The parent waits
 * and exits with the process's status (128+signal when killed), forwarding signals to it.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLAN_FD 3
#define RESULT_FD 4

static struct plan plan;
static volatile pid_t child = -1;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

int exec_main(void) {
  char err[512];
  report_fd = RESULT_FD;
  /* Non-dumpable: it enters the container's namespaces holding every capability. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (plan_read(PLAN_FD, &plan, err, sizeof err) != 0) fail(0, "%s", err);
  close(PLAN_FD);
  char num[32];
  snprintf(num, sizeof num, "%d", getpid());
  for (int i = 0; i < plan.nprocs; i++) {
    int rc = write_file(plan.procs[i], num);
    if (rc < 0) fail(-rc, "join cgroup %s", plan.procs[i]);
  }
  join_namespaces(&plan, 1);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail(errno, "socketpair");
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) signal(forwarded[i], forward);
  int master = -1, peer = -1;
  if (plan.terminal) master = open_pty(&plan, &peer); /* the container's /dev/ptmx: the mount namespace is joined */
  pid_t pid = fork();
  if (pid < 0) fail(errno, "fork");
  if (pid == 0) {
    close(sv[0]);
    report_fd = sv[1];
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) signal(forwarded[i], SIG_DFL);
    close(RESULT_FD);
    if (master >= 0) {
      close(master);
      if (setsid() < 0) fail(errno, "setsid");
      make_controlling(peer);
    }
    apply_rlimits(&plan);
    char exe[4096];
    int rc = find_executable(&plan, exe, sizeof exe);
    if (rc != 0) fail(rc, "exec: %s", plan.args[0]);
    finish_and_exec(&plan, exe);
  }
  child = pid;
  close(sv[1]);
  if (peer >= 0) close(peer);
  char msg[1100];
  ssize_t n;
  do n = read(sv[0], msg, sizeof msg); while (n < 0 && errno == EINTR);
  if (n > 0) write_all(RESULT_FD, msg, (size_t)n);
  close(RESULT_FD);
  int status;
  if (master >= 0 && n <= 0) {
    /* Relay until the process is gone: stdin to the terminal, the terminal to stdout. */
    int in = 0;
    for (;;) {
      struct pollfd fds[2] = {{master, POLLIN, 0}, {in, POLLIN, 0}};
      if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !relay_once(master, 1)) break;
      if ((fds[1].revents & (POLLIN | POLLHUP)) && !relay_once(in, master)) in = -1;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        drain(master, 1);
        goto done;
      }
    }
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 255;
done:
  if (n > 0) return 255;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
