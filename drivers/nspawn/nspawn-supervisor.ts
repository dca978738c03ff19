/**
 * The per-container supervisor: berth-nspawn-supervisor (native/berth-nspawn-supervisor.c), a small
 * static program started detached, so it outlives the CLI; argv only, no shell. It
 *
 *   1. writes 0 into each cgroup.procs file, joining berth's cgroup at create time (exit 125 when
 *      it cannot),
 *   2. stops itself (SIGSTOP) until `start` sends SIGCONT (OCI create -> start: nothing of the
 *      user's runs before). `start` first writes STATE/go, so a supervisor that is still joining
 *      the cgroup when start comes goes straight on,
 *   3. starts systemd-nspawn with the caller's stdin (it inherits the cgroup), records its pid in
 *      STATE/nspawn.pid,
 *   4. writes "1" into STATE/running once berth-nspawn-init has exec'd the user's command (a pipe
 *      nspawn passes to its payload as a socket-activation fd: the helper writes "R" into it just
 *      before that exec, which closes it),
 *   5. waits for nspawn and records its exit status in STATE/exit (128+N for signal N).
 * Each file is written whole in one write; readers treat an empty file as not yet written
 * (STATE/running and STATE/exit are made empty while nspawn starts: the awaited moments are one
 * write each).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, pollUntil, processStat } from '../../core';

export const SUPERVISOR_BINARY = 'berth-nspawn-supervisor';

export const STATE_FILES = { nspawnPid: 'nspawn.pid', running: 'running', exit: 'exit', killed: 'killed' } as const;

export interface SupervisorLaunch {
  /** Host path of berth-nspawn-supervisor. */
  binary: string;
  stateDir: string;
  procsFiles: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdio: { stdin: number | 'ignore'; stdout: number; stderr: number };
}

/** A started supervisor that waits to join its cgroup until `join()`; `abort()` makes it exit without joining. */
export interface LaunchedSupervisor {
  pid: number;
  join(): void;
  abort(): void;
}

/**
 * Start the supervisor before its cgroup exists (its start-up then overlaps the cgroup's set-up):
 * it waits on a socket (its fd 3) until `join()`, then joins the cgroup.procs files and stops
 * itself until `release()` (unless STATE/go is there already).
 */
export function launchSupervisor(launch: SupervisorLaunch): LaunchedSupervisor {
  const args = ['--state', launch.stateDir, '--join-after', '3', ...joinArguments(launch.procsFiles), '--', ...launch.argv];
  const stdio: StdioOptions = [launch.stdio.stdin, launch.stdio.stdout, launch.stdio.stderr, 'pipe'];
  const child = spawn(launch.binary, args, { detached: true, stdio, env: launch.env });
  child.unref();
  const gate = child.stdio[3] as Socket | null;
  if (child.pid === undefined || !gate) throw new Error(`could not start ${launch.binary}`);
  gate.on('error', () => undefined); // the supervisor gone: its exit says the rest
  gate.unref();
  // One byte: libuv writes it at once into the socket (nothing is queued before it).
  return { pid: child.pid, join: () => void gate.end('j'), abort: () => void gate.destroy() };
}

/** The supervisor's argv for `exec`: join the cgroup.procs files, then exec `argv` (exit 125 when a join fails). */
export function joinThenExecArguments(procsFiles: readonly string[], argv: readonly string[]): string[] {
  return [...joinArguments(procsFiles), '--', ...argv];
}

function joinArguments(procsFiles: readonly string[]): string[] {
  return procsFiles.flatMap((f) => ['--join', f]);
}

/**
 * Whether the supervisor has ended: gone, replaced (another start time), or a zombie (it has left
 * its cgroups and closed everything; only its parent's reaping is left, which can be this very
 * process when it created the container).
 */
export function supervisorGone(pid: number, startTime: number | undefined): boolean {
  const st = processStat(pid);
  if (st === undefined || st.state === 'Z') return true;
  return startTime !== undefined && st.start !== startTime;
}

/**
 * Resolve once the supervisor has ended (supervisorGone). It exits right after writing STATE/exit,
 * usually while the caller reacts to that file: a few checks between event-loop turns first, then
 * every 1 ms (a timer alone would cost a whole millisecond on most deletes).
 */
export async function awaitSupervisorGone(pid: number, startTime: number | undefined, timeoutMs: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (supervisorGone(pid, startTime)) return;
    await new Promise((r) => setImmediate(r));
  }
  await pollUntil(() => (supervisorGone(pid, startTime) ? true : undefined), timeoutMs, 'the nspawn supervisor to exit', 1);
}

/**
 * Let the supervisor go on: true once it has started nspawn (or was woken from its stop), false
 * while it is still setting up. Writes "1" into STATE/go first, which it checks before stopping itself.
 * A supervisor gone without starting nspawn (its cgroup join failed, or it was killed) is a
 * BACKEND_FAILED error; a short container can run, end and have its supervisor reaped between two
 * calls: its files say so. `startTime` (when known) tells the supervisor from a later process
 * that reuses its pid.
 */
export function release(stateDir: string, supervisorPid: number, startTime?: number): boolean {
  const go = path.join(stateDir, 'go');
  // Non-empty: the supervisor makes `go` empty at its start, so this is usually a write into an existing file.
  if (!(fs.statSync(go, { throwIfNoEntry: false })?.size ?? 0)) fs.writeFileSync(go, '1');
  const launched = (): boolean => readNumberFile(stateDir, STATE_FILES.nspawnPid) !== undefined || readNumberFile(stateDir, STATE_FILES.exit) !== undefined;
  if (launched()) return true;
  const st = processStat(supervisorPid);
  if (st === undefined || st.state === 'Z' || (startTime !== undefined && st.start !== startTime)) {
    if (launched()) return true;
    throw new BerthError('BACKEND_FAILED', 'nspawn: the supervisor is gone (cgroup set-up failed?)');
  }
  if (st.state !== 'T' && st.state !== 't') return false; // t: stopped under a tracer (strace)
  process.kill(supervisorPid, 'SIGCONT');
  return true;
}

export function readNumberFile(stateDir: string, name: string): number | undefined {
  const file = path.join(stateDir, name);
  // One stat first: a missing or still empty file (the common cases while waiting) costs no open,
  // read or thrown error.
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st || st.size === 0) return undefined;
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : Number(text);
  } catch {
    return undefined;
  }
}
