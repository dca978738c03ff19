/**
 * The folder nspawn boots. nspawn refuses a tree without /usr and an os-release file, and with
 * --read-only it cannot create missing mount points. berth never writes into the user's rootfs:
 * for a read-only root it mounts an overlay in the state dir whose upper layer adds exactly what
 * is missing (removed on delete); a writable root lacking /usr or os-release is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMountPoint, runCommand, SpecInvalidError, type Spec } from '../../core';
import { isApiMount, isBindMount, normalise } from './nspawn-arguments';

export interface RootfsPlan {
  /** Folders and files the upper layer must add (relative to the rootfs). */
  addDirs: string[];
  addFiles: string[];
}

/** What the rootfs lacks for nspawn and this spec's mounts; empty lists when it can be used as is. */
export function rootfsPlan(spec: Spec): RootfsPlan {
  const root = spec.root!.path;
  const addDirs: string[] = [];
  const addFiles: string[] = [];
  if (!isDir(path.join(root, 'usr'))) addDirs.push('usr');
  if (!exists(path.join(root, 'etc/os-release')) && !exists(path.join(root, 'usr/lib/os-release'))) addFiles.push('etc/os-release');
  if (spec.root?.readonly) {
    for (const m of spec.mounts ?? []) {
      if (isApiMount(m)) continue;
      const dest = normalise(m.destination).slice(1);
      if (dest === '' || dest.startsWith('run/') || exists(path.join(root, dest))) continue;
      const fileBind = isBindMount(m) && m.source !== undefined && exists(m.source) && !isDir(m.source);
      (fileBind ? addFiles : addDirs).push(dest);
    }
  }
  return { addDirs, addFiles };
}

export function needsOverlay(plan: RootfsPlan): boolean {
  return plan.addDirs.length + plan.addFiles.length > 0;
}

/** Refuse a writable rootfs that would need berth to write into it. */
export function assertRootfsUsable(spec: Spec, plan: RootfsPlan): void {
  if (!needsOverlay(plan) || spec.root?.readonly) return;
  const missing = [...plan.addDirs, ...plan.addFiles].map((p) => `/${p}`).join(', ');
  throw new SpecInvalidError([
    {
      path: 'root.path',
      message: `systemd-nspawn needs ${missing} in the rootfs and berth does not write into a writable rootfs; add them, or set root.readonly (berth then adds them in an overlay) (driver "nspawn")`,
    },
  ]);
  }

/** Mount the overlay under `dir` and return the merged folder. */
export async function mountOverlay(spec: Spec, plan: RootfsPlan, dir: string): Promise<string> {
  const lower = spec.root!.path;
  if (/[,:\\]/.test(lower)) {
    throw new SpecInvalidError([{ path: 'root.path', message: 'an overlay cannot use a rootfs path containing ",", ":" or "\\" (driver "nspawn")' }]);
  }
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  const merged = path.join(dir, 'merged');
  for (const d of [upper, work, merged]) fs.mkdirSync(d, { recursive: true });
  for (const d of plan.addDirs) fs.mkdirSync(path.join(upper, d), { recursive: true });
  for (const f of plan.addFiles) {
    fs.mkdirSync(path.dirname(path.join(upper, f)), { recursive: true });
    fs.writeFileSync(path.join(upper, f), '');
  }
  await runCommand(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  return merged;
}

/** Unmount and remove the overlay folder; safe when it was never made. */
export async function removeOverlay(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return; // no overlay was made (the common case): nothing mounted, no mount table to read
  const merged = path.join(dir, 'merged');
  if (isMountPoint(merged)) {
    const r = await runCommand(['umount', merged], { allowFailure: true });
    if (r.exitCode !== 0) await runCommand(['umount', '-l', merged]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
