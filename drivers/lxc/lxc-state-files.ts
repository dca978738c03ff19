/**
 * The files an LXC container keeps in its state folder, and their readers. Writers are the
 * supervise and gate roles of berth-lxc-helper (native/berth-lxc-helper.c), which publish each file
 * whole (temporary file, then rename or link); a value still counts only once its line is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const STATE_FILES = {
  config: 'lxc.conf',
  log: 'lxc.log',
  hookError: 'hook.err',
  initPid: 'init.pid',
  exitCode: 'exit.code',
  started: 'started',
} as const;

export function stateFile(dir: string, name: keyof typeof STATE_FILES): string {
  return path.join(dir, STATE_FILES[name]);
}

/** A number written as one complete line, or undefined while absent or half-written. */
export function readNumberLine(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.endsWith('\n')) return undefined;
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : undefined;
}

/** `init.pid` as the start gate writes it: the init's host pid and the gate's own pid. */
export function readInitLine(file: string): { initPid: number; gatePid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+)\n$/.exec(text);
  return m ? { initPid: Number(m[1]), gatePid: Number(m[2]) } : undefined;
}

/** The one-letter state of a process (`T` stopped, `Z` zombie...), or undefined when gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Resolve when `check` returns a value: re-checked on every change in `dir` (inotify) and every
 * `intervalMs` as a fallback; rejects after `timeoutMs` (Infinity: never).
 */
export function watchUntil<T>(dir: string, check: () => T | undefined, timeoutMs: number, what: string, intervalMs = 50): Promise<T> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise((resolve, reject) => {
    let watcher: fs.FSWatcher | undefined;
    const finish = (fn: () => void) => {
      clearInterval(poll);
      clearTimeout(timer);
      watcher?.close();
      fn();
    };
    const test = () => {
      let value: T | undefined;
      try {
        value = check();
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (value !== undefined) finish(() => resolve(value));
    };
    const poll = setInterval(test, intervalMs);
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs)
      : undefined;
    try {
      watcher = fs.watch(dir, test);
      watcher.on('error', () => undefined);
    } catch {
      /* polling only */
    }
    test();
  });
}
