/*
 * createContainer and startContainer hooks: run by the init inside the container's namespaces
 * (after pivot_root, so the hook path is resolved in the container's root), with the state JSON
 * on stdin and the spec's timeout; a failing hook fails create or start.
 * Record value: stage NUL path NUL timeout NUL argc NUL args... NUL envc NUL env... (NUL-separated).
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOOK_WORDS 128

static const char *next(const char **cur, const char *end) {
  if (*cur >= end) return NULL;
  const char *w = *cur;
  *cur += strlen(w) + 1;
  return w;
}

static void run_one(const struct hook *h, const char *want, const char *state) {
  const char *cur = h->data, *end = h->data + h->len;
  const char *stage = next(&cur, end), *path = next(&cur, end), *timeout = next(&cur, end), *argc = next(&cur, end);
  if (!stage || !path || !timeout || !argc) fail(0, "plan: malformed hook");
  if (strcmp(stage, want)) return;
  const char *argv[MAX_HOOK_WORDS + 1], *envp[MAX_HOOK_WORDS + 1];
  long na = strtol(argc, NULL, 10);
  if (na < 0 || na > MAX_HOOK_WORDS) fail(0, "hooks.%s: too many arguments", want);
  for (long i = 0; i < na; i++) argv[i] = next(&cur, end);
  argv[na] = NULL;
  if (na == 0) { argv[0] = path; argv[1] = NULL; }
  const char *envc = next(&cur, end);
  long ne = envc ? strtol(envc, NULL, 10) : 0;
  if (ne < 0 || ne > MAX_HOOK_WORDS) fail(0, "hooks.%s: too many environment entries", want);
  for (long i = 0; i < ne; i++) envp[i] = next(&cur, end);
  envp[ne] = NULL;
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) fail(errno, "hooks.%s: pipe", want);
  pid_t pid = fork();
  if (pid < 0) fail(errno, "hooks.%s: fork", want);
  if (pid == 0) {
    dup2(in[0], 0);
    execve(path, (char *const *)argv, (char *const *)envp);
    _exit(127);
  }
  close(in[0]);
  write_all(in[1], state, strlen(state));
  close(in[1]);
  long limit_ms = strtol(timeout, NULL, 10) * 1000;
  int status;
  for (long waited = 0;; waited++) {
    pid_t w = waitpid(pid, &status, limit_ms > 0 ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) fail(errno, "hooks.%s: wait", want);
    if (limit_ms > 0 && waited >= limit_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail(0, "hooks.%s %s timed out after %s s", want, path, timeout);
    }
    if (limit_ms > 0) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(0, "hooks.%s %s failed (%s %d)", want, path, WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void run_container_hooks(const struct plan *p, const char *stage, int host_pid) {
  if (!p->nhooks) return;
  static char state[8192];
  snprintf(state, sizeof state, "%s%d%s", p->state_head ? p->state_head : "{", host_pid, p->state_tail ? p->state_tail : "}");
  for (int i = 0; i < p->nhooks; i++) run_one(&p->hooks[i], stage, state);
}
