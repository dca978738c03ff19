/* Shared helpers of the berth-native runtime (the C part of the native driver). */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H
#include <stddef.h>
#include <sys/types.h>
#include "plan.h"

/* Where the child side reports a fatal setup error ("E<message>"); -1: stderr. */
extern int report_fd;
/* Report "E<what>: <strerror(errno)>" (or without errno when err == 0) and _exit(1). */
__attribute__((noreturn, format(printf, 2, 3))) void fail(int err, const char *fmt, ...);
/* Write all of buf; returns 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Write a small file (O_TRUNC); returns 0 or -errno. */
int write_file(const char *path, const char *text);
/* Write text to dir/name atomically (name.tmp then rename). */
int put_state(const char *dir, const char *name, const char *text);

/* rootfs.c: everything between a fresh mount namespace and pivot_root + masks. */
void setup_rootfs(const struct plan *p);
/* process.c: the last steps shared by the init and exec: identity, rlimits, caps, nnp, seccomp, exec. */
void apply_rlimits(const struct plan *p);
void write_sysctls(const struct plan *p);
/* Resolve args[0] through PATH in env; returns 0 or an errno. Result in out. */
int find_executable(const struct plan *p, char *out, size_t outlen);
void check_cwd(const struct plan *p);
__attribute__((noreturn)) void finish_and_exec(const struct plan *p, const char *exe);

/* namespaces.c */
void join_namespaces(const struct plan *p, int include_pid);
void loopback_up(void);

/* devices-bpf.c: returns 0 or -1 with a message in err */
int attach_device_filter(const struct plan *p, char *err, size_t errlen);

/* hooks.c */
void run_container_hooks(const struct plan *p, const char *stage, int host_pid);

/* terminal.c */
int open_pty(const struct plan *p, int *peer);
void make_controlling(int peer);
int send_fd(int sock, char tag, int fd);
ssize_t recv_with_fd(int sock, char *data, size_t len, int *fd);
int relay_once(int from, int to);
void drain(int master, int to);

#endif
