#!/usr/bin/env bash
# libvirtd for berth's libvirt driver (and its tests): start | stop | status.
#
# start: run libvirtd in the foreground of its own session, inside a private mount namespace
#   (propagation "slave": it still sees mounts made later on the host, and its own changes stay
#   inside). On a hybrid cgroup host (v1 controllers + a cgroup2 mount at /sys/fs/cgroup/unified)
#   libvirt_lxc fails with "Unable to create directory /sys/fs/cgroup/unified": that mount is
#   removed inside the namespace only. Only the LXC connection driver is loaded (LIBVIRT_DRIVER_DIR
#   points at a folder holding just it), so the QEMU driver, which needs a libvirt-qemu user, never
#   loads. libvirtd's own pid is recorded in $PIDFILE; start returns once the socket answers.
# stop: SIGTERM exactly the recorded pid (SIGKILL after 10 s), then remove the files of this script.
#
# A libvirtd that is already answering and was not started by this script is left alone.
set -euo pipefail

STATE=${BERTH_TEST_RUN:-/run/berth-test}
PIDFILE=$STATE/libvirtd.pid
DRIVERS=$STATE/libvirt-drivers
LOG=/var/log/libvirt/berth-libvirtd.log
URI=${BERTH_LIBVIRT_URI:-lxc:///system}

die() { echo "libvirtd.sh: $*" >&2; exit 1; }
answers() { virsh -q -c "$URI" version >/dev/null 2>&1; }
ours() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && [ "$(cat /proc/"$(cat "$PIDFILE")"/comm 2>/dev/null)" = libvirtd ]; }

find_module_dir() {
  for d in /usr/lib/x86_64-linux-gnu/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver /usr/lib/libvirt/connection-driver; do
    [ -e "$d/libvirt_driver_lxc.so" ] && { echo "$d"; return; }
  done
  return 1
}

start() {
  [ "$(id -u)" = 0 ] || die "must run as root (libvirt's LXC driver needs it)"
  command -v libvirtd >/dev/null || die "libvirtd not found: apt-get install libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients"
  if ours; then echo "libvirtd.sh: already running (pid $(cat "$PIDFILE"))" >&2; return 0; fi
  if answers; then echo "libvirtd.sh: a libvirtd not started by this script already answers on $URI; leaving it alone" >&2; return 0; fi
  local modules
  modules=$(find_module_dir) || die "libvirt's LXC driver module is missing: apt-get install libvirt-daemon-driver-lxc"
  mkdir -p "$STATE" /run/libvirt /var/log/libvirt /var/lib/libvirt "$DRIVERS"
  rm -f "$DRIVERS"/*.so "$PIDFILE"
  ln -s "$modules/libvirt_driver_lxc.so" "$DRIVERS/"
  # unshare exec()s sh, which exec()s libvirtd: the pid of the background job is libvirtd's own.
  # shellcheck disable=SC2016
  LIBVIRT_DRIVER_DIR=$DRIVERS setsid unshare --mount --propagation slave -- sh -c '
    if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified; then
      umount /sys/fs/cgroup/unified || { echo "libvirtd.sh: cannot unmount /sys/fs/cgroup/unified in the private namespace" >&2; exit 1; }
    fi
    exec libvirtd' </dev/null >>"$LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 200); do
    if answers; then
      [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = libvirtd ] || die "pid $pid is not libvirtd"
      echo "libvirtd.sh: libvirtd running (pid $pid, $URI)" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; tail -n 20 "$LOG" >&2; die "libvirtd exited during start-up (log: $LOG)"; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  die "libvirtd did not answer on $URI within 20 s (log: $LOG)"
}

stop() {
  if ! ours; then rm -f "$PIDFILE"; echo "libvirtd.sh: not running (no live pid in $PIDFILE)" >&2; return 0; fi
  local pid
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$PIDFILE" "$DRIVERS"/*.so
  rmdir "$DRIVERS" 2>/dev/null || true
  echo "libvirtd.sh: stopped pid $pid" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if ours; then echo "running (pid $(cat "$PIDFILE"))"; else echo stopped; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
