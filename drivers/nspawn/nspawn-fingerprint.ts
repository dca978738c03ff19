/**
 * Is systemd-nspawn usable here: its version, root, the init helper, the cgroup layout, and
 * whether systemd-machined is present (berth never registers with it: --register=no --keep-unit
 * works with or without it, and berth manages the cgroup itself).
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { missingCniPlugins, type Fingerprint } from '../../core';
import { cgroupVersion } from './nspawn-cgroup';

const MACHINED_BINARIES = ['/lib/systemd/systemd-machined', '/usr/lib/systemd/systemd-machined'];

export function machinedStatus(): 'running' | 'installed, not running' | 'absent' {
  const installed = MACHINED_BINARIES.some((p) => fs.existsSync(p));
  if (!installed) return 'absent';
  return fs.existsSync('/run/systemd/machines') && fs.existsSync('/run/systemd/system') ? 'running' : 'installed, not running';
}

export function nspawnFingerprint(nspawnBinary: string, initPath: string | undefined): Fingerprint {
  const hint = 'apt-get install systemd-container';
  const r = spawnSync(nspawnBinary, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return { available: false, reason: `${nspawnBinary} not found`, installHint: hint, health: 'undetected', attributes: {} };
  }
  const version = /systemd (\d+)/.exec(r.stdout)?.[1];
  const attributes: Record<string, string> = {
    machined: machinedStatus(),
    registration: 'off (--register=no --keep-unit); berth manages the cgroup',
    cgroup: `v${cgroupVersion()}`,
    isolation: 'pid, mount, ipc, uts, cgroup namespaces; network with --private-network',
  };
  const base = { ...(version ? { version } : {}), attributes };
  if (process.getuid?.() !== 0) return { ...base, available: false, reason: 'systemd-nspawn needs root', health: 'unhealthy' };
  if (!initPath) {
    return { ...base, available: false, reason: 'berth-nspawn-init is not built', installHint: 'npm run build (needs gcc and libc6-dev)', health: 'unhealthy' };
  }
  // Bridge networking needs the CNI plugins; everything else works without them.
  const cni = missingCniPlugins();
  attributes.cni = cni.missing.length === 0 ? 'plugins present (bridge networking)' : `missing ${cni.missing.join(', ')}`;
  if (cni.missing.length > 0) {
    return { ...base, available: true, health: 'degraded', reason: `bridge networking unavailable: CNI plugins ${cni.missing.join(', ')} missing`, installHint: cni.installHint };
  }
  return { ...base, available: true, health: 'healthy' };
}
