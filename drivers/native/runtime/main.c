/*
 * berth-native: the C part of berth's native driver (modes: create, exec). It first re-executes
 * itself from a sealed memfd copy, so nothing running inside a container can overwrite the
 * binary on the host through /proc/PID/exe.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int monitor_main(void);
int exec_main(void);

static void run_sealed(char **argv, char **envp) {
  char self[128];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    if (!strncmp(self, "/memfd:berth-native", 19)) return;
  }
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) fail(errno, "open /proc/self/exe");
  int mfd = memfd_create("berth-native", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create("berth-native", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) fail(errno, "memfd_create");
  struct stat st;
  if (fstat(src, &st) != 0) fail(errno, "stat /proc/self/exe");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t w = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (w <= 0) fail(errno, "copy the binary to a memfd");
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) fail(errno, "seal the memfd");
  syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
  fail(errno, "exec the sealed copy");
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) {
    fprintf(stderr, "usage: berth-native create|exec   (plan on fd 3, result on fd 4)\n");
    return 2;
  }
  run_sealed(argv, envp);
  if (!strcmp(argv[1], "create")) return monitor_main();
  if (!strcmp(argv[1], "exec")) return exec_main();
  fprintf(stderr, "berth-native: unknown mode %s\n", argv[1]);
  return 2;
}
