/**
 * Small helpers to read and write cgroupfs files. Every write is one `write(2)` of the whole value
 * (cgroupfs parses each write separately), and failures become CgroupError with file and value.
 */
import { fsp } from './cgroupfs-sync';
import * as path from 'node:path';
import { CgroupError } from './cgroup-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';

/** One value to write into one file of a cgroup directory (`file` is relative to that directory). */
export interface CgroupWrite {
  file: string;
  value: string;
}

export async function writeCgroupFile(dir: string, file: string, value: string, what?: string): Promise<void> {
  const full = path.join(dir, file);
  try {
    await fsp.writeFile(full, value, { flag: 'w' });
  } catch (err) {
    throw new CgroupError(full, value, err, what);
  }
}

export async function applyWrites(dir: string, writes: readonly CgroupWrite[], what?: string): Promise<void> {
  for (const w of writes) await writeCgroupFile(dir, w.file, w.value, what);
}

/** The file's text, or undefined when it does not exist. */
export async function readCgroupFile(dir: string, file: string): Promise<string | undefined> {
  const full = path.join(dir, file);
  try {
    return await fsp.readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw new CgroupError(full, undefined, err);
  }
}

/** A single-number file (`max` and absent files give undefined). */
export async function readCgroupNumber(dir: string, file: string): Promise<number | undefined> {
  const text = (await readCgroupFile(dir, file))?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A flat-keyed file such as `memory.events` or `cpu.stat`: `key value` per line. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) out[key] = Number(value);
  }
  return out;
}

/** Pids listed in a `cgroup.procs` file (none when it is absent). */
export async function readProcs(dir: string): Promise<number[]> {
  const text = await readCgroupFile(dir, 'cgroup.procs');
  return (text ?? '').split('\n').filter((l) => l.trim() !== '').map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

/** `dir` and every cgroup below it, deepest first (the order in which they can be removed). */
export async function cgroupTreeDeepestFirst(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new CgroupError(d, undefined, err);
    }
    for (const e of entries) if (e.isDirectory()) await walk(path.join(d, e.name));
    out.push(d);
  };
  await walk(dir);
  return out;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Turn a container's cgroup path (`berth/<id>`, or an OCI `linux.cgroupsPath`, relative or
 * absolute) into a clean relative path below a hierarchy's root; refuses `..` escapes and
 * systemd's `slice:prefix:name` form.
 */
export function normaliseCgroupPath(relPath: string): string {
  if (/^[^/]*:[^/]*:[^/]*$/.test(relPath)) {
    throw new SpecInvalidError([{ path: 'linux.cgroupsPath', message: `"${relPath}": the systemd form "slice:prefix:name" is not supported by the native driver (cgroupfs only)` }]);
  }
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) {
    throw new SpecInvalidError([{ path: 'linux.cgroupsPath', message: `"${relPath}": must name a cgroup below the hierarchy root, without ".."` }]);
  }
  return parts.join('/');
}
