/**
 * The handle a cgroup manager's create() is about to produce, computed before it runs and written
 * to the state folder first: a CLI killed in the middle of create() leaves directories that
 * `delete --force` can still find and remove. Mirrors the managers' own path rule (the hierarchy
 * or unified root joined with the normalised relative path).
 */
import * as path from 'node:path';
import { detectCgroupLayout } from './cgroups/cgroup-layout';
import { normaliseCgroupPath } from './cgroups/cgroup-files';
import type { CgroupHandle } from './cgroups/cgroup-manager';

export function expectedCgroupHandle(relPath: string, mountRoot?: string): CgroupHandle {
  const rel = normaliseCgroupPath(relPath);
  const layout = detectCgroupLayout(mountRoot);
  if (layout.version === 2) return { version: 2, paths: { unified: path.join(layout.root, rel) } };
  const paths: Record<string, string> = {};
  for (const [controller, mount] of Object.entries(layout.hierarchies)) paths[controller] = path.join(mount, rel);
  return { version: 1, paths };
}
