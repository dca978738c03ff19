/** The container's own cgroup directories, named as they appear under /sys/fs/cgroup inside. */
import * as path from 'node:path';
import type { CgroupHandle } from './cgroups/cgroup-manager';

export function cgroupBinds(handle: CgroupHandle, mountRoot = '/sys/fs/cgroup'): { name: string; source: string }[] {
  const seen = new Map<string, string>();
  for (const [controller, dir] of Object.entries(handle.paths)) {
    const rel = path.relative(mountRoot, dir);
    const name = handle.version === 2 ? '' : rel && !rel.startsWith('..') ? rel.split(path.sep)[0]! : controller.replace(/^name=/, '');
    if (![...seen.values()].includes(dir)) seen.set(name || controller, dir);
  }
  return [...seen.entries()].map(([name, source]) => ({ name, source }));
}

/** The file whose `oom_kill N` line counts the cgroup's OOM kills. */
export function oomFile(handle: CgroupHandle): string | undefined {
  if (handle.version === 2) {
    const dir = handle.paths.unified ?? Object.values(handle.paths)[0];
    return dir ? path.join(dir, 'memory.events') : undefined;
  }
  const dir = handle.paths.memory;
  return dir ? path.join(dir, 'memory.oom_control') : undefined;
}
