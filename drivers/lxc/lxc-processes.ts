/** Small host-side facts and actions about a container's processes, read from /proc and cgroupfs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pollUntil } from '../../core';
import { processCgroupDirs } from '../../vendor/lxc-ts-shim/src';

/** The spec's process: the (first) child of LXC's init. */
export function userProcess(initPid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** What is at a host path: a folder, something else, or nothing. */
export function probePath(p: string): 'dir' | 'file' | undefined {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** True when the process's freezer cgroup is frozen or freezing (v1 freezer.state, v2 cgroup.freeze). */
export function frozen(pid: number): boolean {
  for (const dir of processCgroupDirs(pid)) {
    try {
      if (dir.includes('/freezer/')) return fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() !== 'THAWED';
      if (fs.existsSync(path.join(dir, 'cgroup.freeze'))) return fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim() === '1';
    } catch {
      /* gone */
    }
  }
  return false;
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * pollUntil for what is a few microseconds away (a process that is about to stop or exit): the first
 * ~2 ms are checked every 50 µs, blocking (a timer cannot wait less than ~1 ms, which would be most
 * of berth's cost on these steps), then every millisecond through timers.
 */
export async function pollSoon<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  for (let i = 0; i < 40; i++) {
    const value = check();
    if (value !== undefined) return value;
    Atomics.wait(pause, 0, 0, 0.05);
  }
  return pollUntil(check, timeoutMs, what, 1);
}
