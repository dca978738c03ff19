/*
 * The container's filesystem, built inside its fresh mount namespace: make / non-propagating,
 * bind the rootfs, place every spec mount at a destination resolved INSIDE the rootfs (openat2
 * RESOLVE_IN_ROOT: symlinks, absolute or `..`, can never lead outside), create the devices,
 * pivot_root, then masked and read-only paths and a read-only root.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int open_in_root(int rootfd, const char *path) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (*path == '\0') return (int)syscall(SYS_openat2, rootfd, ".", &how, sizeof how);
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Resolve `path` inside the root, creating what is missing (the last part as a file when
 * `file`); returns an O_PATH fd of the result. A dangling symlink is refused, not followed out. */
static int make_in_root(int rootfd, const char *path, int file) {
  char prefix[4096];
  size_t plen = 0;
  int parent = dup(rootfd);
  const char *s = path;
  if (parent < 0) fail(errno, "dup");
  for (;;) {
    while (*s == '/') s++;
    if (*s == '\0') break;
    const char *e = strchr(s, '/');
    size_t clen = e ? (size_t)(e - s) : strlen(s);
    int last = (s[clen] == '\0') || (s[clen] == '/' && s[clen + strspn(s + clen, "/")] == '\0');
    if (plen + clen + 2 >= sizeof prefix) fail(0, "path too long: %s", path);
    prefix[plen++] = '/';
    memcpy(prefix + plen, s, clen);
    plen += clen;
    prefix[plen] = '\0';
    char comp[256];
    if (clen >= sizeof comp) fail(0, "path component too long in %s", path);
    memcpy(comp, s, clen);
    comp[clen] = '\0';
    int fd = open_in_root(rootfd, prefix);
    if (fd < 0 && errno == ENOENT) {
      int rc;
      if (last && file) {
        rc = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (rc >= 0) close(rc);
      } else {
        rc = mkdirat(parent, comp, 0755);
      }
      if (rc < 0 && errno == EEXIST) fail(0, "%s: %s is a symlink that does not resolve inside the rootfs: refused", path, prefix);
      if (rc < 0) fail(errno, "create %s in the rootfs", prefix);
      fd = open_in_root(rootfd, prefix);
    }
    if (fd < 0) fail(errno, "resolve %s in the rootfs", prefix);
    close(parent);
    parent = fd;
    s += clen;
  }
  return parent;
}

static void fdpath(char *out, size_t len, int fd) { snprintf(out, len, "/proc/self/fd/%d", fd); }

/* The per-mount flags a read-only remount must keep (locked in a user namespace). */
static unsigned long kept_flags(const char *target) {
  struct statvfs st;
  unsigned long f = 0;
  if (statvfs(target, &st) != 0) return 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount(const char *target, unsigned long flags) {
  return mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | kept_flags(target), NULL);
}

#define PER_MOUNT (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

static void do_mount(int rootfd, const struct item *m) {
  const char *dest = m->f[0], *type = m->f[1], *source = m->f[2], *data = m->f[5];
  unsigned long flags = strtoul(m->f[3], NULL, 0), pflags = strtoul(m->f[4], NULL, 0);
  char target[64];
  int fd;
  if (flags & MS_BIND) {
    struct stat st;
    if (stat(source, &st) != 0) fail(errno, "bind mount source %s", source);
    fd = make_in_root(rootfd, dest, !S_ISDIR(st.st_mode));
    fdpath(target, sizeof target, fd);
    if (mount(source, target, NULL, MS_BIND | (flags & MS_REC), NULL) != 0) fail(errno, "bind %s on %s", source, dest);
  } else {
    fd = make_in_root(rootfd, dest, 0);
    fdpath(target, sizeof target, fd);
    if (mount(source, target, type, flags & ~MS_RDONLY, *data ? data : NULL) != 0) {
      int err = errno;
      /* In a user namespace without its own network namespace sysfs cannot be mounted: bind the host's. */
      if (!(err == EPERM && !strcmp(type, "sysfs") && mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0))
        fail(err, "mount %s (%s) on %s", source, type, dest);
    }
  }
  close(fd);
  if (pflags) {
    fd = open_in_root(rootfd, dest);
    fdpath(target, sizeof target, fd);
    if (fd < 0 || mount(NULL, target, NULL, pflags, NULL) != 0) fail(errno, "propagation of %s", dest);
    close(fd);
  }
}

/* Read-only and per-mount flags last, so later mounts could still create their mount points. */
static void finish_mount(int rootfd, const struct item *m) {
  unsigned long flags = strtoul(m->f[3], NULL, 0);
  int bind = (flags & MS_BIND) != 0;
  if (bind ? !(flags & PER_MOUNT) : !(flags & MS_RDONLY)) return;
  int fd = open_in_root(rootfd, m->f[0]);
  char target[64];
  fdpath(target, sizeof target, fd);
  if (fd < 0 || remount(target, flags & PER_MOUNT) != 0) fail(errno, "remount %s with its flags", m->f[0]);
  close(fd);
}

static void make_device(int rootfd, const struct item *d) {
  const char *path = d->f[0], *hostpath = d->f[7];
  char parentpath[4096];
  snprintf(parentpath, sizeof parentpath, "%s", path);
  char *slash = strrchr(parentpath, '/');
  if (!slash || !slash[1]) fail(0, "device path %s", path);
  const char *name = path + (slash - parentpath) + 1;
  *slash = '\0';
  int parent = make_in_root(rootfd, parentpath, 0);
  char pp[64];
  fdpath(pp, sizeof pp, parent);
  int dfd = open(pp, O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(errno, "open %s", parentpath);
  close(parent);
  mode_t kind = d->f[1][0] == 'b' ? S_IFBLK : d->f[1][0] == 'p' ? S_IFIFO : S_IFCHR;
  mode_t mode = (mode_t)strtoul(d->f[4], NULL, 0) & 07777;
  dev_t dev = makedev(strtoul(d->f[2], NULL, 0), strtoul(d->f[3], NULL, 0));
  unlinkat(dfd, name, 0);
  if (mknodat(dfd, name, kind | mode, dev) == 0) {
    if (fchownat(dfd, name, (uid_t)strtoul(d->f[5], NULL, 0), (gid_t)strtoul(d->f[6], NULL, 0), AT_SYMLINK_NOFOLLOW) != 0)
      fail(errno, "chown %s", path);
    if (fchmodat(dfd, name, mode, 0) != 0) fail(errno, "chmod %s", path);
  } else if (errno == EPERM && *hostpath) {
    /* A user namespace cannot mknod: bind the host's device node instead, as runc does. */
    int f = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) fail(errno, "create %s", path);
    close(f);
    int fd = make_in_root(rootfd, path, 1);
    char target[64];
    fdpath(target, sizeof target, fd);
    if (mount(hostpath, target, NULL, MS_BIND, NULL) != 0) fail(errno, "bind device %s", hostpath);
    close(fd);
  } else {
    fail(errno, "mknod %s", path);
  }
  close(dfd);
}

static void dev_links(int rootfd) {
  static const char *links[][2] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
  };
  int fd = make_in_root(rootfd, "/dev", 0);
  char pp[64];
  fdpath(pp, sizeof pp, fd);
  int dfd = open(pp, O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(errno, "open /dev");
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    unlinkat(dfd, links[i][1], 0);
    if (symlinkat(links[i][0], dfd, links[i][1]) != 0) fail(errno, "symlink /dev/%s", links[i][1]);
  }
  close(dfd);
  close(fd);
}

static void mask_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT) return;
    fail(errno, "maskedPaths %s", path);
  }
  int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
                               : mount("/dev/null", path, NULL, MS_BIND, NULL);
  if (rc != 0) fail(errno, "mask %s", path);
}

static void readonly_path(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
    if (errno == ENOENT) return;
    fail(errno, "readonlyPaths %s", path);
  }
  if (remount(path, MS_RDONLY | MS_REC) != 0) fail(errno, "remount %s read-only", path);
}

void setup_rootfs(const struct plan *p) {
  if (mount(NULL, "/", NULL, p->rootprop ? p->rootprop : (MS_SLAVE | MS_REC), NULL) != 0) fail(errno, "make / non-shared");
  if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) fail(errno, "bind the rootfs %s", p->rootfs);
  int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(errno, "open the rootfs %s", p->rootfs);
  for (int i = 0; i < p->nmounts; i++) do_mount(rootfd, &p->mounts[i]);
  for (int i = 0; i < p->ndevs; i++) make_device(rootfd, &p->devs[i]);
  if (p->devlinks) dev_links(rootfd);
  for (int i = p->nmounts - 1; i >= 0; i--) finish_mount(rootfd, &p->mounts[i]);
  close(rootfd);

  if (chdir(p->rootfs) != 0) fail(errno, "chdir %s", p->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") != 0) fail(errno, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) fail(errno, "detach the old root");
  if (chdir("/") != 0) fail(errno, "chdir /");
  if (p->rootfsprop && mount(NULL, "/", NULL, p->rootfsprop, NULL) != 0) fail(errno, "linux.rootfsPropagation");
  /* sysctls go through the container's own /proc/sys, before readonlyPaths make it read-only. */
  write_sysctls(p);

  for (int i = 0; i < p->nmasked; i++) mask_path(p->masked[i]);
  for (int i = 0; i < p->nropaths; i++) readonly_path(p->ropaths[i]);
  if (p->rootro && remount("/", MS_RDONLY) != 0) fail(errno, "remount / read-only");
}
