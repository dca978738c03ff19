/**
 * Which cgroup layout a host has, read from the cgroupfs mount root (default `/sys/fs/cgroup`):
 * - v2 (unified): the root itself is a cgroup2 mount, recognised by its `cgroup.controllers` file.
 * - v1 (legacy or hybrid): one directory per hierarchy below the root (`cpu`, `memory`,
 *   `cpu,cpuacct` with `cpu` and `cpuacct` symlinks, `systemd` for the named `name=systemd`
 *   hierarchy ...). A cgroup2 mount among them (hybrid's `unified`) is ignored: on a hybrid host
 *   it only holds controllers that no v1 hierarchy has, and berth does not use them.
 * Reading the layout from the directory (not /proc/self/mountinfo) lets tests point it at a
 * temporary folder laid out like cgroupfs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../../../core/errors/berth-error';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

export type CgroupLayout =
  | { version: 2; root: string }
  | { version: 1; root: string; hierarchies: Record<string, string> };

export function detectCgroupLayout(mountRoot: string = DEFAULT_CGROUP_ROOT): CgroupLayout {
  if (fs.existsSync(path.join(mountRoot, 'cgroup.controllers'))) return { version: 2, root: mountRoot };
  const hierarchies: Record<string, string> = {};
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(mountRoot);
  } catch {
    entries = [];
  }
  for (const name of entries.sort()) {
    const dir = path.join(mountRoot, name);
    if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) continue;
    if (fs.existsSync(path.join(dir, 'cgroup.controllers'))) continue; // a cgroup2 mount (hybrid's "unified")
    let real = dir;
    try {
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
    for (const controller of path.basename(real).split(',')) {
      const key = controller === 'systemd' ? 'name=systemd' : controller;
      if (!hierarchies[key]) hierarchies[key] = path.join(mountRoot, path.basename(real));
    }
  }
  if (Object.keys(hierarchies).length === 0) {
    throw new BerthError('DRIVER_UNAVAILABLE', `cgroups: no cgroup v1 hierarchy and no cgroup2 mount found under ${mountRoot}`);
  }
  return { version: 1, root: mountRoot, hierarchies };
}
