import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../../core';
import type { LxcMountEntry } from '../../vendor/lxc-ts-shim/src';

/**
 * With a read-only root LXC mounts the rootfs read-only first, so it cannot create missing mount
 * points (`create=dir|file`) directly in it. Create them beforehand, as runc does before its final
 * read-only remount: only for targets not below an earlier mount (those live in that mount, e.g. a
 * /dev tmpfs) and not optional (masked paths, default device nodes). Returns what it created.
 */
export function prepareMountpoints(rootfs: string, mounts: readonly LxcMountEntry[]): string[] {
  const created: string[] = [];
  const earlier: string[] = [];
  for (const m of mounts) {
    const covered = earlier.some((t) => t === '/' || m.target.startsWith(`${t}/`));
    earlier.push(m.target);
    if (covered || m.options.includes('optional')) continue;
    const at = path.join(rootfs, m.target);
    if (fs.existsSync(at)) continue;
    try {
      if (m.options.includes('create=file')) {
        fs.mkdirSync(path.dirname(at), { recursive: true });
        fs.writeFileSync(at, '', { flag: 'wx' });
      } else {
        fs.mkdirSync(at, { recursive: true });
      }
      created.push(at);
    } catch (err) {
      throw new BerthError('BACKEND_FAILED', `lxc: cannot create mount point ${m.target} in the read-only rootfs ${rootfs}: ${(err as Error).message}`, { cause: err });
    }
  }
  return created;
}
