/**
 * The two small shell programs the LXC driver writes into each container's state folder. They are
 * run as files with arguments (never built as shell strings), and cost a millisecond where a Node
 * helper would cost a hundred.
 */

/**
 * The supervisor, started detached by create so that it outlives the CLI: it runs lxc-execute (LXC's
 * monitor, which hands this process's stdout and stderr to the container) and records its exit
 * status, which lxc-execute takes from the container's init. Usage: supervisor.sh STATEDIR ARGV...
 */
export const SUPERVISOR_SCRIPT = `#!/bin/sh
# berth lxc supervisor: runs lxc-execute and records the container's exit status.
dir=$1
shift
"$@"
code=$?
[ -e "$dir/exit.code" ] || printf '%s\\n' "$code" > "$dir/exit.code"
`;

/**
 * The start gate, LXC's start-host hook: it runs once the container is set up (namespaces, mounts,
 * cgroup) and before its init runs. It records the init's host pid and its own, then stops itself
 * (SIGSTOP, no helper process, no fifo). start creates `started` and sends SIGCONT: the gate exits 0
 * and LXC runs the init. Killing the gate, or continuing it without `started`, aborts the container.
 * First it writes the spec's sysctls (see SYSCTL_SCRIPT).
 * Usage (by LXC, which prepends `exec` and appends NAME lxc start-host): start-gate.sh STATEDIR
 */
export const START_GATE_SCRIPT = `#!/bin/sh
# berth lxc start gate (lxc.hook.start-host): hold the set-up container until berth start.
dir=$1
if [ -s "$dir/sysctl" ]; then
  nsenter --target "$LXC_PID" --net --ipc --uts /bin/sh "$dir/sysctl.sh" "$dir/sysctl" 2> "$dir/hook.err" || exit 1
fi
printf '%s %s\\n' "$LXC_PID" "$$" > "$dir/init.pid"
kill -STOP $$
[ -e "$dir/started" ]
`;

/**
 * Writes sysctls, one `PATH VALUE` line each (PATH below /proc/sys), run by the start gate through
 * nsenter inside the container's net, ipc and uts namespaces: /proc/sys shows the writer's namespaces.
 * Usage: sysctl.sh FILE
 */
export const SYSCTL_SCRIPT = `#!/bin/sh
# berth lxc: write the container's sysctls from inside its namespaces.
while read -r key value; do
  printf '%s\\n' "$value" > "/proc/sys/$key" || { echo "sysctl $key: cannot write $value" >&2; exit 1; }
done < "$1"
`;
