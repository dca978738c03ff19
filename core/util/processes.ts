import * as fs from 'node:fs';

/** True while `pid` exists (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The one-letter state (`T` stopped, `Z` zombie...) and the start time (as processStartTime) from one read of /proc/PID/stat; undefined when gone. */
export function processStat(pid: number): { state: string; start: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** The one-letter process state from /proc/PID/stat (`T` when stopped), or undefined when gone. */
export function processState(pid: number): string | undefined {
  return processStat(pid)?.state;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); guards against pid reuse. */
export function processStartTime(pid: number): number | undefined {
  return processStat(pid)?.start;
}

/** Whether `pid` is still the process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: number | undefined): boolean {
  return isAlive(pid) && (startTime === undefined || processStartTime(pid) === startTime);
}

/** Poll `check` every `intervalMs` until it returns a value, or throw after `timeoutMs`. */
export async function pollUntil<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Signal number for a name (`SIGKILL` -> 9), using Node's table. */
export function signalNumber(name: NodeJS.Signals): number {
  const n = (require('node:os') as typeof import('node:os')).constants.signals[name];
  if (n === undefined) throw new Error(`unknown signal ${name}`);
  return n;
}

/** Signal name for a number (9 -> `SIGKILL`). */
export function signalName(n: number): NodeJS.Signals | undefined {
  const table = (require('node:os') as typeof import('node:os')).constants.signals;
  return (Object.keys(table) as NodeJS.Signals[]).find((k) => table[k] === n);
}
