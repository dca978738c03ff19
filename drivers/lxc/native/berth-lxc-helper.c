/*
 * berth-lxc-helper: the LXC driver's two small host-side programs, in one static binary (no shell,
 * no Node start-up: each role costs an exec, not an interpreter).
 *
 * Both record what they see in STATEDIR/state, berth's record of the container, one line per event
 * appended with O_APPEND (a line counts once it is complete; see drivers/lxc/lxc-state-files.ts):
 *   init INIT GATE   the start gate: the init's host pid and the gate's own pid
 *   started          berth start (written by berth)
 *   exit CODE        the container's exit status (the first such line counts)
 *
 *   berth-lxc-helper supervise STATEDIR [--lxc-log] [--lxc-config-env NAME] ARGV...
 *     Started detached by create (it outlives the CLI). Runs ARGV (lxc-execute ..., found on PATH;
 *     127 when it is not there) with the inherited
 *     stdio, waits for it and appends "exit CODE" (128+N when signal N killed it) unless an exit line
 *     is there already (berth writes one itself when it ends a created container). Exits with CODE.
 *     ARGV[0] is an LXC tool, given files in memory rather than on disk (a new file costs ~0.7 ms
 *     on the project's ext4 state folders, on the path from create to exit):
 *     --lxc-log: `-o` to a file in memory; whatever LXC logged is kept in STATEDIR/lxc.log (written
 *       only when there is something, before the exit line).
 *     --lxc-config-env NAME: the config (`-f`) is the value of the environment variable NAME, which
 *       is then removed from the environment (the environment, unlike the arguments, is readable
 *       by root only: the config holds the process's environment).
 *     A failure before ARGV runs is written to STATEDIR/lxc.log, with "exit 125".
 *
 *   berth-lxc-helper gate STATEDIR [--sysctl PATH=VALUE]... [NAME lxc start-host]
 *     LXC's start-host hook (LXC runs it once the container is set up, before its init runs, with
 *     LXC_PID = the init's host pid, and appends NAME, the section and the hook type). It writes the
 *     sysctls (PATH below /proc/sys) from inside the init's net, ipc and uts namespaces, appends
 *     "init LXC_PID SELFPID", stops itself (SIGSTOP), and once continued exits 0 if a "started" line
 *     is there (berth start), 1 otherwise (LXC then aborts the container). A failure is written to
 *     STATEDIR/hook.err and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATE_MAX 65536

extern char **environ;

static char path_buf[4096];

static const char *in_dir(const char *dir, const char *name) {
  if ((size_t)snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name) >= sizeof path_buf) {
    fprintf(stderr, "berth-lxc-helper: state folder path too long\n");
    exit(1);
  }
  return path_buf;
}

static int write_all(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    text += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Append one line to STATEDIR/state in a single write (O_APPEND: whole lines, whatever the writer). */
static int append_state(const char *dir, const char *line) {
  int fd = open(in_dir(dir, "state"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, line, strlen(line));
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* Whether STATEDIR/state holds a complete line starting with `prefix` (which includes its end: "started\n", "exit "). */
static int state_has(const char *dir, const char *prefix) {
  static char text[STATE_MAX + 1];
  int fd = open(in_dir(dir, "state"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, text + len, STATE_MAX - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
    if (len == STATE_MAX) break;
  }
  close(fd);
  text[len] = '\0';
  size_t plen = strlen(prefix);
  for (char *line = text; *line;) {
    char *end = strchr(line, '\n');
    if (!end) break; /* an incomplete last line does not count */
    if ((size_t)(end + 1 - line) >= plen && strncmp(line, prefix, plen) == 0) return 1;
    line = end + 1;
  }
  return 0;
}

/* Copy what LXC logged (the memory file `log`) to STATEDIR/lxc.log, when it logged anything. */
static void keep_log(const char *dir, int log) {
  struct stat st;
  if (fstat(log, &st) != 0 || st.st_size == 0) return;
  int out = open(in_dir(dir, "lxc.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (out < 0) return;
  char buf[8192];
  off_t at = 0;
  ssize_t n;
  while ((n = pread(log, buf, sizeof buf, at)) > 0) {
    if (write_all(out, buf, (size_t)n) != 0) break;
    at += n;
  }
  close(out);
}

/* Set-up failed before LXC ran: say why where berth looks (lxc.log), record the exit. */
static int supervise_fail(const char *dir, const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, "berth-lxc-helper: %s: %s\n", what, strerror(errno));
  int fd = open(in_dir(dir, "lxc.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd >= 0) {
    write_all(fd, msg, strlen(msg));
    close(fd);
  }
  if (!state_has(dir, "exit ")) append_state(dir, "exit 125\n");
  return 125;
}

/* Mark every descriptor above stderr close-on-exec (they stay open here: LXC opens the memory files
 * through /proc/SELF/fd). */
static void keep_only_stdio(void) {
  if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

static int supervise(const char *dir, int argc, char **argv) {
  int log = -1, config = -1, want_log = 0;
  char log_path[64], config_path[64];
  while (argc > 1 && strncmp(argv[0], "--", 2) == 0) {
    if (strcmp(argv[0], "--lxc-log") == 0) {
      want_log = 1;
      argv++;
      argc--;
    } else if (strcmp(argv[0], "--lxc-config-env") == 0 && argc > 2) {
      const char *text = getenv(argv[1]);
      if (!text) {
        errno = ENOENT;
        return supervise_fail(dir, "no LXC config in the environment");
      }
      config = memfd_create("lxc-config", MFD_CLOEXEC);
      if (config < 0 || write_all(config, text, strlen(text)) != 0) return supervise_fail(dir, "cannot keep the LXC config");
      unsetenv(argv[1]); /* neither lxc-execute nor its hooks see it */
      argv += 2;
      argc -= 2;
    } else {
      break;
    }
  }
  /* Files LXC opens by path: this process's descriptors, so that nothing inherits them. */
  char **args = calloc((size_t)argc + 5, sizeof *args);
  if (!args) return supervise_fail(dir, "out of memory");
  int n = 0;
  args[n++] = argv[0];
  if (want_log) {
    log = memfd_create("lxc-log", MFD_CLOEXEC);
    if (log >= 0) snprintf(log_path, sizeof log_path, "/proc/%d/fd/%d", (int)getpid(), log);
    else snprintf(log_path, sizeof log_path, "%s", in_dir(dir, "lxc.log"));
    args[n++] = "-o";
    args[n++] = log_path;
  }
  if (config >= 0) {
    snprintf(config_path, sizeof config_path, "/proc/%d/fd/%d", (int)getpid(), config);
    args[n++] = "-f";
    args[n++] = config_path;
  }
  for (int i = 1; i < argc; i++) args[n++] = argv[i];
  /* Only stdin, stdout and stderr go on: LXC passes every inherited descriptor into the container
   * (it only warns), and the CLI may hold some of its own. */
  keep_only_stdio();
  /* posix_spawn (vfork-like in musl and glibc): the child runs at once, no page tables copied. */
  pid_t child;
  int code;
  int err = posix_spawnp(&child, args[0], NULL, NULL, args, environ);
  if (err != 0) {
    fprintf(stderr, "berth-lxc-helper: %s: %s\n", args[0], strerror(err));
    code = err == ENOENT ? 127 : 126;
  } else {
    int status;
    while (waitpid(child, &status, 0) < 0) {
      if (errno != EINTR) {
        perror("berth-lxc-helper: waitpid");
        return 1;
      }
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  }
  if (log >= 0) keep_log(dir, log);
  if (!state_has(dir, "exit ")) {
    char line[32];
    snprintf(line, sizeof line, "exit %d\n", code);
    if (append_state(dir, line) != 0) perror("berth-lxc-helper: state");
  }
  return code;
}

/* The reason a start gate failed, for berth's create error (LXC itself only logs the hook's status). */
static int gate_fail(const char *dir, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg - 1, fmt, ap);
  va_end(ap);
  strcat(msg, "\n");
  int fd = open(in_dir(dir, "hook.err"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, msg, strlen(msg));
    close(fd);
  }
  return 1;
}

static int enter_namespaces(const char *dir, const char *init_pid) {
  static const char *const kinds[] = {"net", "ipc", "uts"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%s/ns/%s", init_pid, kinds[i]);
    int fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gate_fail(dir, "sysctl: cannot open %s: %s", ns, strerror(errno));
    int rc = setns(fd, 0);
    int saved = errno;
    close(fd);
    if (rc != 0) return gate_fail(dir, "sysctl: cannot enter %s: %s", ns, strerror(saved));
  }
  return 0;
}

static int write_sysctl(const char *dir, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg) return gate_fail(dir, "sysctl %s: expected PATH=VALUE", arg);
  char file[4096];
  int len = snprintf(file, sizeof file, "/proc/sys/%.*s", (int)(eq - arg), arg);
  if (len < 0 || (size_t)len >= sizeof file) return gate_fail(dir, "sysctl %s: path too long", arg);
  const char *key = file + strlen("/proc/sys/");
  int fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return gate_fail(dir, "sysctl %s: cannot write %s: %s", key, eq + 1, strerror(errno));
  size_t vlen = strlen(eq + 1);
  char *value = malloc(vlen + 2);
  if (!value) return gate_fail(dir, "sysctl %s: out of memory", key);
  memcpy(value, eq + 1, vlen);
  value[vlen] = '\n';
  value[vlen + 1] = '\0';
  int rc = write_all(fd, value, vlen + 1);
  int saved = errno;
  if (close(fd) != 0 && rc == 0) {
    rc = -1;
    saved = errno;
  }
  free(value);
  if (rc != 0) return gate_fail(dir, "sysctl %s: cannot write %s: %s", key, eq + 1, strerror(saved));
  return 0;
}

static int gate(const char *dir, int argc, char **argv) {
  const char *init_pid = getenv("LXC_PID");
  if (!init_pid || !*init_pid || strspn(init_pid, "0123456789") != strlen(init_pid)) {
    return gate_fail(dir, "start gate: LXC_PID is not set (not run as LXC's start-host hook)");
  }
  int entered = 0;
  for (int i = 0; i + 1 < argc && strcmp(argv[i], "--sysctl") == 0; i += 2) {
    if (!entered) {
      if (enter_namespaces(dir, init_pid) != 0) return 1;
      entered = 1;
    }
    if (write_sysctl(dir, argv[i + 1]) != 0) return 1;
  }
  char line[64];
  snprintf(line, sizeof line, "init %s %d\n", init_pid, (int)getpid());
  if (append_state(dir, line) != 0) return gate_fail(dir, "start gate: cannot write the state file: %s", strerror(errno));
  raise(SIGSTOP);
  return state_has(dir, "started\n") ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "supervise") == 0) return supervise(argv[2], argc - 3, argv + 3);
  if (argc >= 3 && strcmp(argv[1], "gate") == 0) return gate(argv[2], argc - 3, argv + 3);
  fprintf(stderr, "usage: berth-lxc-helper supervise STATEDIR [--lxc-log] ARGV... | gate STATEDIR [--sysctl PATH=VALUE]...\n");
  return 2;
}
