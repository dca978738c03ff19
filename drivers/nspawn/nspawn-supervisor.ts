/**
 * The per-container supervisor: a detached POSIX shell (a few hundred microseconds to start,
 * against ~100 ms for another Node process) that outlives the CLI. The script is a fixed constant;
 * every path and argument reaches it as a positional parameter, never as shell text.
 *
 *   1. makes STATE/start.fifo and waits on it (OCI create -> start: nothing of the user's runs before),
 *   2. forks a child that writes 0 into each cgroup.procs file (joining berth's cgroup), restores
 *      the caller's stdin, and execs systemd-nspawn; records that pid in STATE/nspawn.pid,
 *   3. waits for it and records its exit status in STATE/exit (one write; readers treat an empty
 *      file as not yet written).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SUPERVISOR_SCRIPT = [
  'd=$1; n=$2; shift 2',
  'exec 3<&0 </dev/null',
  'mkfifo -m 600 "$d/start.fifo" || exit 125',
  'IFS= read -r _ < "$d/start.fifo" || exit 0',
  '(',
  '  while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 125; shift; n=$((n - 1)); done',
  '  exec "$@" <&3 3<&-',
  ') &',
  'echo $! > "$d/nspawn.pid"',
  'exec 3<&-',
  'wait $!',
  'echo $? > "$d/exit"',
].join('\n');

export const STATE_FILES = { fifo: 'start.fifo', nspawnPid: 'nspawn.pid', exit: 'exit', killed: 'killed' } as const;

export interface SupervisorLaunch {
  stateDir: string;
  procsFiles: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdio: { stdin: number | 'ignore'; stdout: number; stderr: number };
}

/** Start the supervisor; it blocks on the fifo until `release()`. Returns its pid. */
export function launchSupervisor(launch: SupervisorLaunch): number {
  const args = ['-c', SUPERVISOR_SCRIPT, 'berth-nspawn-supervisor', launch.stateDir, String(launch.procsFiles.length), ...launch.procsFiles, ...launch.argv];
  const stdio: StdioOptions = [launch.stdio.stdin, launch.stdio.stdout, launch.stdio.stderr];
  const child = spawn('/bin/sh', args, { detached: true, stdio, env: launch.env });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the supervisor shell');
  return child.pid;
}

/** Tell a waiting supervisor to go; false while it has not opened the fifo yet. */
export function release(stateDir: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path.join(stateDir, STATE_FILES.fifo), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, 'start\n');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

export function readNumberFile(stateDir: string, name: string): number | undefined {
  try {
    const text = fs.readFileSync(path.join(stateDir, name), 'utf8').trim();
    return text === '' ? undefined : Number(text);
  } catch {
    return undefined;
  }
}
