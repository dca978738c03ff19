/*
 * berth-nspawn-supervisor: the per-container supervisor of the nspawn driver, and the cgroup join
 * of `exec`. A static program started detached by the driver (it outlives the CLI); argv only.
 *
 * Supervisor mode:
 *   berth-nspawn-supervisor --state DIR [--join-after FD] [--join FILE]... -- NSPAWN [ARG]...
 *     0. records its own pid in DIR/supervisor.pid (for deleting a record that has no handle
 *        yet) and makes DIR/go, nspawn.pid, running and exit, empty (kept if there already), so
 *        that every later moment is one write into an existing file, not a file creation; with
 *        --join-after it then waits for one byte on FD (the driver makes the cgroup meanwhile, so
 *        that this start-up overlaps that work); EOF instead: the driver gave up, exit 125
 *        without joining anything,
 *     1. writes "0" into each cgroup.procs FILE, joining berth's cgroup (exit 125 on failure),
 *     2. stops itself (SIGSTOP) until `start` sends SIGCONT, unless DIR/go is non-empty already
 *        (`start` writes it first; OCI create -> start: nothing of the user's runs before),
 *     3. forks and execs NSPAWN with the caller's stdin (the supervisor itself then holds
 *        /dev/null), records its pid in DIR/nspawn.pid (one write of the whole number),
 *     4. passes nspawn a pipe as a socket-activation fd (LISTEN_FDS=1, fd 3): nspawn hands it to
 *        the container's payload, berth-nspawn-init, which marks it close-on-exec and writes "R"
 *        just before it execs the user's command ("!" when it fails). "R", then EOF (the exec
 *        closed it), nothing else, while nspawn still runs = the user's command runs, recorded as
 *        "1" in DIR/running. Anything else (nspawn ended, a helper or nspawn that closed the fd
 *        without a word) leaves DIR/running empty: start then falls back to /proc,
 *     5. waits for nspawn and records its exit status in DIR/exit (128+N for a death by signal N).
 *   The files are written whole in one write each: readers treat an empty file as not yet written.
 *
 * Join mode (exec):
 *   berth-nspawn-supervisor [--join FILE]... -- COMMAND [ARG]...
 *     joins the cgroups as above (exit 125 on failure), then execs COMMAND (127/126 if it cannot).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JOIN 64
#define READY_FD 3

static void die(int code, const char *step, const char *what) {
  fprintf(stderr, "berth-nspawn-supervisor: %s: %s%s%s\n", step, what ? what : "", what ? ": " : "", strerror(errno));
  exit(code);
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void join(const char *procs) {
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all(fd, "0", 1) != 0) die(125, "join cgroup", procs);
  close(fd);
}

/* DIR/NAME created (or truncated) empty, open for writing; -1 (reported) on failure. */
static int open_record(const char *dir, const char *name) {
  char file[4096];
  if (snprintf(file, sizeof file, "%s/%s", dir, name) >= (int)sizeof file) {
    fprintf(stderr, "berth-nspawn-supervisor: record: %s/%s: name too long\n", dir, name);
    return -1;
  }
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fprintf(stderr, "berth-nspawn-supervisor: record: %s: %s\n", file, strerror(errno));
  return fd;
}

/* Write `text` whole into an open record and close it; a failure is reported and the supervisor goes on. */
static void finish_record(int fd, const char *name, const char *text) {
  if (fd < 0) return;
  if (write_all(fd, text, strlen(text)) != 0) fprintf(stderr, "berth-nspawn-supervisor: record: %s: %s\n", name, strerror(errno));
  close(fd);
}

/* DIR/NAME with `text`, created or truncated, in one write. */
static void record(const char *dir, const char *name, const char *text) {
  finish_record(open_record(dir, name), name, text);
}

/* Whether DIR/NAME has content (STATE/go: written by start). */
static int written_in(const char *dir, const char *name) {
  char file[4096];
  struct stat st;
  if (snprintf(file, sizeof file, "%s/%s", dir, name) >= (int)sizeof file) return 0;
  return stat(file, &st) == 0 && st.st_size > 0;
}

/* DIR/NAME made empty if missing (content kept otherwise), open for writing; -1 (reported) on failure. */
static int prepare_record(const char *dir, const char *name) {
  char file[4096];
  if (snprintf(file, sizeof file, "%s/%s", dir, name) >= (int)sizeof file) {
    fprintf(stderr, "berth-nspawn-supervisor: record: %s/%s: name too long\n", dir, name);
    return -1;
  }
  int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fprintf(stderr, "berth-nspawn-supervisor: record: %s: %s\n", file, strerror(errno));
  return fd;
}

/* The state files, made before anything waits on them (see 0. above). */
struct records {
  int nspawn_pid, running, exit;
};

static struct records prepare(const char *dir) {
  char text[32];
  snprintf(text, sizeof text, "%d\n", (int)getpid());
  record(dir, "supervisor.pid", text);
  int go = prepare_record(dir, "go");
  if (go >= 0) close(go);
  struct records r = {prepare_record(dir, "nspawn.pid"), prepare_record(dir, "running"), prepare_record(dir, "exit")};
  return r;
}

/* The nspawn child: the caller's stdin, the ready pipe as fd 3 announced as socket activation. */
static void exec_nspawn(char **argv, int ready_write) {
  if (ready_write >= 0) {
    if (ready_write != READY_FD) {
      if (dup2(ready_write, READY_FD) < 0) die(125, "dup2", "ready pipe");
    } else if (fcntl(READY_FD, F_SETFD, 0) != 0) {
      die(125, "fcntl", "ready pipe");
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (setenv("LISTEN_FDS", "1", 1) != 0 || setenv("LISTEN_PID", pid, 1) != 0) die(125, "setenv", "LISTEN_FDS");
  }
  execvp(argv[0], argv);
  die(errno == ENOENT ? 127 : 126, "exec", argv[0]);
}

/* Block until every writer closed the ready pipe; true when exactly "R" came (the helper exec'd the user's command). */
static int await_ready(int fd) {
  char buf[64];
  size_t total = 0;
  int ok = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      ok = total == 0 && n == 1 && buf[0] == 'R';
      total += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  return ok && total == 1;
}

static int supervise(const char *dir, char **argv, struct records files) {
  /* Holding the caller's stdin from here on would keep a pipe open after the container closed it. */
  int saved_stdin = fcntl(0, F_DUPFD_CLOEXEC, 10);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) die(125, "open", "/dev/null");

  char text[32];
  if (!written_in(dir, "go")) raise(SIGSTOP);

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) ready[0] = ready[1] = -1;
  pid_t child = fork();
  if (child < 0) die(125, "fork", NULL);
  if (child == 0) {
    if (saved_stdin >= 0 && dup2(saved_stdin, 0) < 0) die(125, "dup2", "stdin");
    if (saved_stdin < 0) close(0);
    exec_nspawn(argv, ready[1]);
  }
  if (saved_stdin >= 0) close(saved_stdin);
  if (dup2(null, 0) < 0) close(0);
  close(null);
  if (ready[1] >= 0) close(ready[1]);

  snprintf(text, sizeof text, "%d\n", (int)child);
  if (files.nspawn_pid >= 0) finish_record(files.nspawn_pid, "nspawn.pid", text);
  else record(dir, "nspawn.pid", text);
  int running_fd = files.running;
  if (ready[0] < 0 && running_fd >= 0) {
    close(running_fd);
    running_fd = -1;
  }
  int exit_fd = files.exit;

  int status;
  pid_t got = 0;
  if (ready[0] >= 0) {
    int ok = await_ready(ready[0]);
    close(ready[0]);
    /* EOF also comes when the container ended before its command ran: then nspawn is exiting. */
    if (ok) {
      do got = waitpid(child, &status, WNOHANG);
      while (got < 0 && errno == EINTR);
      if (got == 0) finish_record(running_fd, "running", "1\n");
      else if (running_fd >= 0) close(running_fd);
    } else if (running_fd >= 0) {
      close(running_fd);
    }
  }
  while (got != child) {
    got = waitpid(child, &status, 0);
    if (got < 0 && errno != EINTR) die(125, "waitpid", NULL);
  }
  int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  snprintf(text, sizeof text, "%d\n", code);
  if (exit_fd >= 0) finish_record(exit_fd, "exit", text);
  else record(dir, "exit", text);
  return 0;
}

int main(int argc, char **argv) {
  const char *joins[MAX_JOIN];
  const char *state = NULL;
  int njoin = 0, i = 1, join_after = -1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) {
      errno = EINVAL;
      die(125, "usage", argv[i]);
    }
    if (strcmp(argv[i], "--join") == 0) {
      if (njoin == MAX_JOIN) {
        errno = E2BIG;
        die(125, "usage", "--join");
      }
      joins[njoin++] = argv[++i];
    }
    else if (strcmp(argv[i], "--state") == 0) state = argv[++i];
    else if (strcmp(argv[i], "--join-after") == 0) join_after = atoi(argv[++i]);
    else {
      errno = EINVAL;
      die(125, "usage", argv[i]);
    }
  }
  if (i >= argc) {
    errno = EINVAL;
    die(125, "usage", "no command after --");
  }
  struct records files = {-1, -1, -1};
  if (state) files = prepare(state);
  if (join_after >= 0) {
    char c;
    ssize_t n;
    do n = read(join_after, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) exit(125); /* the driver gave up (create failed): nothing joined, nothing to say */
    close(join_after);
  }
  for (int k = 0; k < njoin; k++) join(joins[k]);
  if (!state) {
    execvp(argv[i], &argv[i]);
    die(errno == ENOENT ? 127 : 126, "exec", argv[i]);
  }
  return supervise(state, &argv[i], files);
}
