#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int report_fd = -1;

void fail(int err, const char *fmt, ...) {
  char msg[1024];
  msg[0] = 'E';
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  size_t len = 1 + ((size_t)n < sizeof msg - 1 ? (size_t)n : sizeof msg - 2);
  if (err) len += (size_t)snprintf(msg + len, sizeof msg - len, ": %s", strerror(err));
  if (len >= sizeof msg) len = sizeof msg - 1;
  if (report_fd >= 0) {
    write_all(report_fd, msg, len);
  } else {
    msg[len++] = '\n';
    write_all(2, "berth-native: ", 14);
    write_all(2, msg + 1, len - 1);
  }
  _exit(1);
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = write_all(fd, text, strlen(text)) < 0 ? -errno : 0;
  close(fd);
  return rc;
}

int put_state(const char *dir, const char *name, const char *text) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, text, strlen(text));
  close(fd);
  if (rc < 0) return -1;
  return rename(tmp, dst);
}
