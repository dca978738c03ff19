/**
 * Checks of a spec against the host's files that the pure translation cannot make: libvirt binds
 * directories only, and cannot create a mount point in a read-only rootfs (it fails after the
 * domain started, "Read-only file system"); refuse those by field before anything exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mountKind, type Spec } from '../../core';
import { refuse } from './domain-xml';

export function assertHostPaths(spec: Spec): void {
  const root = spec.root!.path;
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const kind = mountKind(m);
    if (kind === 'mount.bind') {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(m.source!);
      } catch {
        throw refuse(`${field}.source`, `"${m.source}" does not exist`);
      }
      if (!stat.isDirectory()) throw refuse(`${field}.source`, `"${m.source}" is not a directory (libvirt LXC binds directories only)`);
    }
    const dest = m.destination;
    const underDev = dest === '/dev' || dest.startsWith('/dev/');
    const builtin = ['/proc', '/sys', '/dev', '/dev/pts'].includes(dest);
    if (spec.root!.readonly && !underDev && !builtin && !fs.existsSync(path.join(root, dest))) {
      throw refuse(`${field}.destination`, `"${dest}" does not exist in the read-only rootfs, and libvirt cannot create it`);
    }
  });
}
