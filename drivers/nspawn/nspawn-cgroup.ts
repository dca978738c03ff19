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
import { DEFAULT_CGROUP_ROOT, detectCgroupLayout } from '../native/cgroups/cgroup-layout';
import { normaliseCgroupPath } from '../native/cgroups/cgroup-files';
import { signalPid } from '../native/cgroups/v1/cgroup-v1-manager';

export type { CgroupHandle };

let shared: BerthCgroupManager | undefined;

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
  for (const dir of new Set(Object.values(handle.paths))) {
    for (const d of treeDeepestFirst(dir)) {
      try {
        fs.rmdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') clean = false;
      }
    }
  }
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
