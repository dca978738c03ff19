/*
 * cgroup v2 device control: load the eBPF program TypeScript compiled
 * (cgroups/v2/device-filter.ts) and attach it to the container's cgroup, before the init joins it.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int attach_device_filter(const struct plan *p, char *err, size_t errlen) {
  if (!p->devfilter_len) return 0;
  static char log[4096];
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (unsigned long)p->devfilter;
  load.insn_cnt = (unsigned)(p->devfilter_len / sizeof(struct bpf_insn));
  load.license = (unsigned long)"Apache";
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (prog < 0) {
    /* Once more with the verifier's log (its first lines) for the message. */
    int first = errno;
    load.log_buf = (unsigned long)log;
    load.log_size = sizeof log;
    load.log_level = 1;
    syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
    log[200] = '\0';
    snprintf(err, errlen, "load the device program: %s: %s", strerror(first), log);
    return -1;
  }
  int dir = open(p->devcgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    snprintf(err, errlen, "open %s: %s", p->devcgroup, strerror(errno));
    close(prog);
    return -1;
  }
  union bpf_attr at;
  memset(&at, 0, sizeof at);
  at.target_fd = (unsigned)dir;
  at.attach_bpf_fd = (unsigned)prog;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at);
  if (rc != 0) snprintf(err, errlen, "attach the device program to %s: %s", p->devcgroup, strerror(errno));
  close(dir);
  close(prog); /* the attachment keeps the program */
  return rc;
}
