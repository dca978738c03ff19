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
 * Usage (by LXC, which prepends `exec` and appends NAME lxc start-host): start-gate.sh STATEDIR
 */
export const START_GATE_SCRIPT = `#!/bin/sh
# berth lxc start gate (lxc.hook.start-host): hold the set-up container until berth start.
dir=$1
printf '%s %s\\n' "$LXC_PID" "$$" > "$dir/init.pid"
kill -STOP $$
[ -e "$dir/started" ]
`;
