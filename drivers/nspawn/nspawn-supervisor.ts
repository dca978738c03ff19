/**
 * The per-container supervisor: a detached POSIX shell (a few hundred microseconds to start,
 * against ~100 ms for another Node process) that outlives the CLI. The script is a fixed constant;
 * every path and argument reaches it as a positional parameter, never as shell text.
 *
 *   1. writes 0 into each cgroup.procs file, joining berth's cgroup at create time (done here, it
 *      overlaps the caller's own work between create and start),
 *   2. stops itself (SIGSTOP) until `start` sends SIGCONT (OCI create -> start: nothing of the
 *      user's runs before; no fifo, so no extra process to make one). `start` first writes
 *      STATE/go, so a supervisor that is still joining the cgroup when start comes goes straight on,
 *   3. starts systemd-nspawn with the caller's stdin restored (it inherits the cgroup), records its
 *      pid in STATE/nspawn.pid,
 *   4. waits for it and records its exit status in STATE/exit (one write; readers treat an empty
 *      file as not yet written).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { processStartTime } from '../../core';

export const SUPERVISOR_SCRIPT = [
  'd=$1; n=$2; shift 2',
  'while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 125; shift; n=$((n - 1)); done',
  'exec 3<&0 </dev/null',
  '[ -e "$d/go" ] || kill -STOP $$',
  '"$@" <&3 3<&- &',
  'echo $! > "$d/nspawn.pid"',
  'exec 3<&-',
  'wait $!',
  'echo $? > "$d/exit"',
].join('\n');

export const STATE_FILES = { nspawnPid: 'nspawn.pid', exit: 'exit', killed: 'killed' } as const;

export interface SupervisorLaunch {
  stateDir: string;
  procsFiles: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdio: { stdin: number | 'ignore'; stdout: number; stderr: number };
}

/** Start the supervisor; it stops itself until `release()` (unless STATE/go is there already). Returns its pid. */
export function launchSupervisor(launch: SupervisorLaunch): number {
  const args = ['-c', SUPERVISOR_SCRIPT, 'berth-nspawn-supervisor', launch.stateDir, String(launch.procsFiles.length), ...launch.procsFiles, ...launch.argv];
  const stdio: StdioOptions = [launch.stdio.stdin, launch.stdio.stdout, launch.stdio.stderr];
  const child = spawn('/bin/sh', args, { detached: true, stdio, env: launch.env });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the supervisor shell');
  return child.pid;
}

/** The one-letter process state from /proc/PID/stat (`T` when stopped), or undefined when gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

/**
 * Whether the supervisor has ended: gone, replaced (another start time), or a zombie (it has left
 * its cgroups and closed everything; only its parent's reaping is left, which can be this very
 * process when it created the container).
 */
export function supervisorGone(pid: number, startTime: number | undefined): boolean {
  const st = processState(pid);
  if (st === undefined || st === 'Z') return true;
  return startTime !== undefined && processStartTime(pid) !== startTime;
}

/**
 * Let the supervisor go on: true once it has started nspawn (or was woken from its stop), false
 * while it is still setting up. Writes STATE/go first, which it checks before stopping itself.
 */
export function release(stateDir: string, supervisorPid: number): boolean {
  const go = path.join(stateDir, 'go');
  if (!fs.existsSync(go)) fs.writeFileSync(go, '');
  const launched = (): boolean => readNumberFile(stateDir, STATE_FILES.nspawnPid) !== undefined || readNumberFile(stateDir, STATE_FILES.exit) !== undefined;
  if (launched()) return true;
  const st = processState(supervisorPid);
  // Gone: a failure, unless it launched nspawn (and the container ended) since the check above.
  if (st === undefined || st === 'Z') {
    if (launched()) return true;
    throw new Error('the nspawn supervisor is gone');
  }
  if (st !== 'T') return false;
  process.kill(supervisorPid, 'SIGCONT');
  return true;
}

export function readNumberFile(stateDir: string, name: string): number | undefined {
  const file = path.join(stateDir, name);
  // existsSync first: a missing file (the common case while polling) costs no thrown error.
  if (!fs.existsSync(file)) return undefined;
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : Number(text);
  } catch {
    return undefined;
  }
}
