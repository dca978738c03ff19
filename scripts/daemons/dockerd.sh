#!/usr/bin/env bash
# A private Docker engine for the docker driver's tests and bench.
#   start: run dockerd with its own socket, data root, exec root and pid file (flags from the host
#          notes: no iptables, no bridge), record its pid in /run/berth-test/dockerd.pid, wait until
#          it answers on the socket.
#   stop:  stop exactly that pid (SIGTERM, then SIGKILL after 30 s) and wait until it has exited.
# It never touches a system dockerd. It publishes DOCKER_HOST=unix:///run/berth-test/docker.sock in
# /run/berth-test/dockerd.env, which jest loads (test/helpers/daemon-env.ts), so the docker driver's
# default (DOCKER_HOST, else /var/run/docker.sock) reaches this engine in tests only.
set -euo pipefail

dir=/run/berth-test
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
exec_root="$dir/docker-exec"
data_root=/var/lib/berth-test/docker
log="$dir/dockerd.log"
envfile="$dir/dockerd.env"

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ]; }
answers() { docker -H "unix://$sock" version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

start() {
  mkdir -p "$dir" "$exec_root" "$data_root"
  if [ -f "$pidfile" ] && pid_alive "$(cat "$pidfile")"; then
    echo "dockerd.sh: already running as pid $(cat "$pidfile")" >&2
  else
    command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd not found (apt-get install docker.io)" >&2; exit 1; }
    rm -f "$sock" "$pidfile"
    # setsid: the engine outlives this script and is not in its process group.
    setsid dockerd \
      --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
      --host "unix://$sock" \
      --data-root "$data_root" --exec-root "$exec_root" --pidfile "$pidfile" \
      >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile.starting"
  fi
  for _ in $(seq 1 300); do
    if answers; then
      rm -f "$pidfile.starting"
      echo "DOCKER_HOST=unix://$sock" >"$envfile"
      echo "dockerd.sh: dockerd $(cat "$pidfile") answers on unix://$sock" >&2
      return 0
    fi
    if [ -f "$pidfile.starting" ] && ! kill -0 "$(cat "$pidfile.starting")" 2>/dev/null; then
      echo "dockerd.sh: dockerd exited during start-up; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      rm -f "$pidfile.starting"
      exit 1
    fi
    sleep 0.1
  done
  echo "dockerd.sh: dockerd did not answer within 30 s; see $log" >&2
  exit 1
}

stop() {
  local pid=""
  rm -f "$envfile"
  [ -f "$pidfile" ] && pid="$(cat "$pidfile")"
  [ -z "$pid" ] && [ -f "$pidfile.starting" ] && pid="$(cat "$pidfile.starting")"
  if ! pid_alive "$pid"; then
    echo "dockerd.sh: not running" >&2
    rm -f "$pidfile" "$pidfile.starting"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    echo "dockerd.sh: pid $pid ignored SIGTERM for 30 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$pidfile" "$pidfile.starting" "$sock"
  # dockerd leaves its default network namespace bind-mounted in its exec root: unmount what is ours.
  if [ -d "$exec_root/netns" ]; then
    for m in "$exec_root"/netns/*; do
      mountpoint -q "$m" 2>/dev/null && umount "$m" 2>/dev/null || true
    done
  fi
  echo "dockerd.sh: stopped pid $pid" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
