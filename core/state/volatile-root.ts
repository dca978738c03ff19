/**
 * berth's state root is runtime state, like runc's /run/runc or podman's runroot: pids, handles and
 * records that mean nothing once the machine restarts, kept where creating and removing small files
 * costs microseconds. On a usual host /run is a tmpfs and there is nothing to do. On a host whose /run
 * is on disk (this project's CI machines: ext4, where each new file or folder cost 0.1-0.9 ms on a
 * container's way from create to exit), berth mounts a tmpfs on its default root the first time it
 * claims a container there, as `ip netns` makes /run/netns: only as root, only on an empty folder
 * (records already on disk stay visible), once (a lock, then a second look).
 */
import * as fs from 'node:fs';
import { withFileLock } from './file-lock';
import { mountOf, isMountPoint } from '../util/mount-info';
import { runCommand } from '../util/run-command';

export const DEFAULT_STATE_ROOT = '/run/berth';
const MEMORY_FILESYSTEMS = new Set(['tmpfs', 'ramfs']);

export interface VolatileRootResult {
  /** The file system the root is on afterwards. */
  fs: string;
  /** True when this call mounted the tmpfs. */
  mounted: boolean;
  /** Why the root stays on disk, when it does. */
  reason?: string;
}

export interface VolatileRootOptions {
  /** Mounts a tmpfs on the folder (default: `mount -t tmpfs`). */
  mount?: (dir: string) => Promise<void>;
  /** The effective uid (default: this process's). */
  uid?: number;
}

async function mountTmpfs(dir: string): Promise<void> {
  await runCommand(['mount', '-t', 'tmpfs', '-o', 'mode=0711', 'berth-state', dir], { timeoutMs: 10000 });
}

/** Make `root` a tmpfs when it is on disk (see above). Never throws for a root that stays on disk. */
export async function ensureVolatileRoot(root: string, options: VolatileRootOptions = {}): Promise<VolatileRootResult> {
  const before = mountOf(root).type;
  if (MEMORY_FILESYSTEMS.has(before)) return { fs: before, mounted: false };
  if ((options.uid ?? process.getuid?.() ?? -1) !== 0) return { fs: before, mounted: false, reason: 'not root: cannot mount a tmpfs' };
  fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  return withFileLock(`${root}.lock`, async () => {
    const now = mountOf(root);
    if (MEMORY_FILESYSTEMS.has(now.type)) return { fs: now.type, mounted: false };
    if (isMountPoint(root)) return { fs: now.type, mounted: false, reason: `${root} is a ${now.type} mount of its own` };
    if (fs.readdirSync(root).length > 0) return { fs: now.type, mounted: false, reason: `${root} already holds state on ${now.type}` };
    try {
      await (options.mount ?? mountTmpfs)(root);
    } catch (err) {
      return { fs: now.type, mounted: false, reason: `mount failed: ${(err as Error).message}` };
    }
    return { fs: mountOf(root).type, mounted: true };
  });
}
