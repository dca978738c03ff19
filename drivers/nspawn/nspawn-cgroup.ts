/**
 * The nspawn driver's only contact with cgroups: the shared manager of drivers/native/cgroups
 * (v1 hierarchies or v2 unified, JSON handles), plus what nspawn needs on top of it.
 *
 * systemd is absent, so nspawn cannot hand limits to it: the supervisor joins this cgroup through
 * `procsFiles()` before starting nspawn, so nspawn, the container and later execs all live in it
 * (nspawn adds its own payload/ subgroup in the name=systemd hierarchy, removed with the rest).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectBerthCgroupManager, type BerthCgroupManager, type CgroupHandle } from '../native/cgroups/cgroup-manager';
import { DEFAULT_CGROUP_ROOT, detectCgroupLayout as detectLayout, type CgroupLayout } from '../native/cgroups/cgroup-layout';
import { normaliseCgroupPath, type CgroupWrite } from '../native/cgroups/cgroup-files';
import { CgroupError } from '../native/cgroups/cgroup-error';
import { signalPid } from '../native/cgroups/v1/cgroup-v1-manager';
import { v1DeviceWrites } from '../native/cgroups/v1/v1-devices';
import { v1MemoryWrites } from '../native/cgroups/v1/v1-memory';
import { cpusetWrites, v1CpuWrites } from '../native/cgroups/v1/v1-cpu';
import { pidsWrites } from '../native/cgroups/v1/v1-pids-blkio';
import type { Resources } from '../../core';

export type { CgroupHandle };

let shared: BerthCgroupManager | undefined;
const layouts = new Map<string, CgroupLayout>();
const unifiedMounts = new Map<string, boolean>();

/** The layout under `root`, read once per process (a dozen stat calls, on every create and delete otherwise). */
function detectCgroupLayout(root: string): CgroupLayout {
  let layout = layouts.get(root);
  if (!layout) {
    layout = detectLayout(root);
    layouts.set(root, layout);
  }
  return layout;
}

/** The host's manager, detected once per process. */
export function cgroupManager(): BerthCgroupManager {
  shared ??= detectBerthCgroupManager();
  return shared;
}

export function cgroupVersion(root = DEFAULT_CGROUP_ROOT): 1 | 2 {
  return detectCgroupLayout(root).version;
}

/** Where the manager puts `relPath` (without creating anything): for deleting a half-created container. */
export function plannedHandle(relPath: string, root = DEFAULT_CGROUP_ROOT): CgroupHandle {
  const layout = detectCgroupLayout(root);
  const rel = normaliseCgroupPath(relPath);
  if (layout.version === 2) return { version: 2, paths: { unified: path.join(layout.root, rel) } };
  return { version: 1, paths: Object.fromEntries(Object.entries(layout.hierarchies).map(([c, mount]) => [c, path.join(mount, rel)])) };
}

/**
 * Create the container's cgroup with its limits. On v1, with synchronous writes of exactly what the
 * shared manager would write (its own write builders, for the resources this driver declares):
 * the manager's asynchronous create costs ~10 ms more on a loaded host, on every container start.
 * On v2, the manager's create.
 */
export async function createCgroup(relPath: string, resources: Resources | undefined): Promise<CgroupHandle> {
  const m = cgroupManager();
  if (m.version === 2) return m.create(relPath, resources);
  m.validate(resources);
  const handle = plannedHandle(relPath);
  try {
    for (const [controller, dir] of Object.entries(handle.paths)) {
      if (controller === 'cpuset') makeCpusetDirs(dir);
      else fs.mkdirSync(dir, { recursive: true });
    }
    const r = resources ?? {};
    const p = handle.paths;
    if (p.devices) writeAll(p.devices, v1DeviceWrites(r.devices));
    if (p.memory) writeAll(p.memory, v1MemoryWrites(r.memory, { swapAccounting: false }));
    if (p.cpu) writeAll(p.cpu, v1CpuWrites(r.cpu));
    if (p.cpuset) writeAll(p.cpuset, cpusetWrites(r.cpu));
    if (p.pids) writeAll(p.pids, pidsWrites(r.pids));
  } catch (err) {
    removeIfEmpty(handle);
    throw err;
  }
  return handle;
}

function writeAll(dir: string, writes: readonly CgroupWrite[]): void {
  for (const w of writes) {
    const file = path.join(dir, w.file);
    try {
      fs.writeFileSync(file, w.value);
    } catch (err) {
      throw new CgroupError(file, w.value, err);
    }
  }
}

/** A new v1 cpuset cgroup accepts no task until cpus and mems are set: copy them down from the nearest ancestor. */
function makeCpusetDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    fs.mkdirSync(d);
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const value = fs.readFileSync(path.join(path.dirname(d), f), 'utf8').trim();
      if (value) fs.writeFileSync(path.join(d, f), value);
    }
  }
}

/**
 * On a hybrid host (v1 hierarchies plus a cgroup2 mount at ROOT/unified), nspawn places itself and
 * the payload by its cgroup2 path: without joining one it would make `supervisor/` and `payload/`
 * at the cgroup2 root and `payload/` at the name=systemd root, shared by every container and left
 * behind. The shared manager ignores that mount, so this driver gives nspawn its own directory there.
 */
export function hybridUnifiedDir(relPath: string, root = DEFAULT_CGROUP_ROOT): string | undefined {
  if (detectCgroupLayout(root).version === 2) return undefined;
  const mount = path.join(root, 'unified');
  let present = unifiedMounts.get(mount);
  if (present === undefined) {
    present = fs.existsSync(path.join(mount, 'cgroup.controllers'));
    unifiedMounts.set(mount, present);
  }
  return present ? path.join(mount, normaliseCgroupPath(relPath)) : undefined;
}

/** The subgroups nspawn makes in its own cgroup (name=systemd and cgroup2 hierarchies). */
const NSPAWN_SUBGROUPS = ['payload', 'supervisor'];

/** Remove a cgroup directory tree children first; true when nothing is left. */
export function removeTree(dir: string): boolean {
  // Most cgroups have no child, or only nspawn's own: plain rmdirs, without listing the folder's control files.
  if (tryRmdir(dir)) return true;
  let children = false;
  for (const sub of NSPAWN_SUBGROUPS) if (tryRmdir(path.join(dir, sub))) children = true;
  if (children && tryRmdir(dir)) return true;
  let clean = true;
  for (const d of treeDeepestFirst(dir)) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') clean = false;
    }
  }
  return clean;
}

/** rmdir, true when `dir` is gone (removed now, or absent). */
function tryRmdir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export function cgroupExists(handle: CgroupHandle): boolean {
  return Object.values(handle.paths).some((d) => fs.existsSync(d));
}

/**
 * Signal every process of the container except `spare` (the supervisor and nspawn, which stay to
 * report the exit status). SIGKILL is sent frozen, so no process can fork away meanwhile.
 */
export async function killAllExcept(handle: CgroupHandle, signal: NodeJS.Signals, spare: ReadonlySet<number>): Promise<void> {
  const m = cgroupManager();
  const freeze = signal === 'SIGKILL' && !(await m.isFrozen(handle));
  if (freeze) await m.freeze(handle);
  try {
    for (const pid of await m.pids(handle)) if (!spare.has(pid)) signalPid(pid, signal);
  } finally {
    if (freeze) await m.thaw(handle);
  }
}

/**
 * Remove the directories of an already empty cgroup, children first (nspawn's payload/), with
 * plain synchronous rmdir: the common case of deleting a stopped container, a few times cheaper
 * than the manager's destroy. False (nothing guaranteed) when anything is still there: then
 * `cgroupManager().destroy()` kills what is left and removes the rest.
 */
export function removeIfEmpty(handle: CgroupHandle): boolean {
  let clean = true;
  for (const dir of new Set(Object.values(handle.paths))) if (!removeTree(dir)) clean = false;
  return clean;
}

function treeDeepestFirst(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [...entries.filter((e) => e.isDirectory()).flatMap((e) => treeDeepestFirst(path.join(dir, e.name))), dir];
}
