/*
 * berth-lxc-helper: the LXC driver's two small host-side programs, in one static binary (no shell,
 * no Node start-up: each role costs an exec, not an interpreter).
 *
 *   berth-lxc-helper supervise STATEDIR ARGV...
 *     Started detached by create (it outlives the CLI). Runs ARGV (lxc-execute ...) with the inherited
 *     stdio, waits for it and records its exit status (128+N when signal N killed it) as one complete
 *     line in STATEDIR/exit.code, unless that file exists already (first writer wins: berth writes it
 *     itself when it kills a created container). Exits with the same status.
 *
 *   berth-lxc-helper gate STATEDIR [--sysctl PATH=VALUE]... [NAME lxc start-host]
 *     LXC's start-host hook (LXC runs it once the container is set up, before its init runs, with
 *     LXC_PID = the init's host pid, and appends NAME, the section and the hook type). It writes the
 *     sysctls (PATH below /proc/sys) from inside the init's net, ipc and uts namespaces, writes
 *     "LXC_PID SELFPID\n" to STATEDIR/init.pid, stops itself (SIGSTOP), and once continued exits 0 if
 *     STATEDIR/started exists (berth start), 1 otherwise (LXC then aborts the container). A failure
 *     is written to STATEDIR/hook.err and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Write `text` to DIR/NAME so that readers see all of it or nothing: an unnamed O_TMPFILE file,
 * linked in once written (no temporary name, so one inotify event for berth's watcher); a named
 * temporary file where the file system has no O_TMPFILE. `exclusive`: an existing DIR/NAME is kept. */
static int publish(const char *dir, const char *name, const char *text, int exclusive) {
  char final[4096];
  if ((size_t)snprintf(final, sizeof final, "%s/%s", dir, name) >= sizeof final) return -1;
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0) rc = linkat(AT_FDCWD, self, AT_FDCWD, final, AT_SYMLINK_FOLLOW);
    int saved = errno;
    close(fd);
    if (rc == 0 || (exclusive && saved == EEXIST)) return 0;
    if (saved != EEXIST) {
      errno = saved;
      return -1;
    }
    /* not exclusive, and the file exists: replace it through a named temporary file below */
  } else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return -1;
  }
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.%d", dir, name, (int)getpid()) >= sizeof tmp) return -1;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, text, strlen(text));
  if (close(fd) != 0) rc = -1;
  if (rc == 0) {
    if (exclusive) {
      rc = link(tmp, final);
      if (rc != 0 && errno == EEXIST) rc = 0;
    } else {
      rc = rename(tmp, final);
    }
  }
  int saved = errno;
  unlink(tmp);
  errno = saved;
  return rc;
}

static int supervise(const char *dir, char **argv) {
  pid_t child = fork();
  if (child < 0) {
    perror("berth-lxc-helper: fork");
    return 1;
  }
  if (child == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "berth-lxc-helper: %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("berth-lxc-helper: waitpid");
      return 1;
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  char line[16];
  snprintf(line, sizeof line, "%d\n", code);
  if (publish(dir, "exit.code", line, 1) != 0) perror("berth-lxc-helper: exit.code");
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
  snprintf(line, sizeof line, "%s %d\n", init_pid, (int)getpid());
  if (publish(dir, "init.pid", line, 0) != 0) return gate_fail(dir, "start gate: cannot write init.pid: %s", strerror(errno));
  raise(SIGSTOP);
  return access(in_dir(dir, "started"), F_OK) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "supervise") == 0) return supervise(argv[2], argv + 3);
  if (argc >= 3 && strcmp(argv[1], "gate") == 0) return gate(argv[2], argc - 3, argv + 3);
  fprintf(stderr, "usage: berth-lxc-helper supervise STATEDIR ARGV... | gate STATEDIR [--sysctl PATH=VALUE]...\n");
  return 2;
}
