/**
 * The files berth-native keeps in the container's state folder, and the handle that points at
 * them. A new CLI process finds everything again from these (or from the handle in the record).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupHandle } from './cgroups/cgroup-manager';
import type { JsonValue } from '../../core/driver/execution-driver';

export interface NativeHandle {
  version: 1;
  monitorPid: number;
  monitorStart?: number;
  initPid: number;
  initStart?: number;
  cgroup: CgroupHandle;
  /** The bridge attachment (core's NetworkAttacher record), when the container has one. */
  network?: JsonValue;
}

export interface ExitRecord {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
}

export const STATE_FILES = {
  monitorPid: 'monitor.pid',
  initPid: 'init.pid',
  startFifo: 'start.fifo',
  started: 'started',
  error: 'error',
  exit: 'exit',
  cgroup: 'cgroup.json',
} as const;

function read(dir: string, name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

export function readPid(dir: string, name: string): number | undefined {
  const text = read(dir, name);
  const n = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function readExit(dir: string): ExitRecord | undefined {
  const text = read(dir, STATE_FILES.exit);
  if (!text) return undefined;
  const [code, signal, oom] = text.trim().split(' ').map(Number);
  return { exitCode: code ?? 255, signal: signal ?? 0, oomKilled: oom === 1 };
}

export function readError(dir: string): string | undefined {
  return read(dir, STATE_FILES.error);
}

export function hasStarted(dir: string): boolean {
  return fs.existsSync(path.join(dir, STATE_FILES.started));
}

export function writeCgroupHandle(dir: string, handle: CgroupHandle): void {
  fs.writeFileSync(path.join(dir, STATE_FILES.cgroup), JSON.stringify(handle));
}

export function readCgroupHandle(dir: string): CgroupHandle | undefined {
  const text = read(dir, STATE_FILES.cgroup);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as CgroupHandle;
  } catch {
    return undefined;
  }
}

/** Resolve when one of `names` exists in `dir` (inotify through fs.watch, with a polling fallback). */
export function waitForFiles(dir: string, names: readonly string[], timeoutMs: number, stillHope: () => boolean = () => true): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    let poll: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (found: string | undefined) => {
      if (done) return;
      done = true;
      watcher?.close();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      resolve(found);
    };
    const check = () => {
      const found = names.find((n) => fs.existsSync(path.join(dir, n)));
      if (found) finish(found);
      else if (!stillHope()) finish(names.find((n) => fs.existsSync(path.join(dir, n))));
    };
    try {
      watcher = fs.watch(dir, () => check());
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined;
    }
    poll = setInterval(check, 50);
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(undefined), timeoutMs);
    check();
  });
}
