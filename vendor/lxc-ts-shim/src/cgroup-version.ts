import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupVersion } from './config-options';

/**
 * Which cgroup keys LXC needs on this host: `v2` when /sys/fs/cgroup is itself a cgroup2 mount
 * (it holds cgroup.controllers), else `v1` (legacy or hybrid: the controllers live in v1 hierarchies).
 */
export function detectCgroupVersion(root = '/sys/fs/cgroup'): CgroupVersion {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? 'v2' : 'v1';
}
