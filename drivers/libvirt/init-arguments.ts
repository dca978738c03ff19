/**
 * The argv of berth-lxc-init (the domain's <init>) for the process part of a spec: pure translation.
 * libvirt's own <inituser>/<initgroup> switch user before the init runs and drop supplementary
 * groups, and libvirt's capability policy acts on the bounding set only; so berth's init applies
 * the user, groups, capability sets, rlimits, umask and no_new_privs itself, in runc's order,
 * just before it execs the user's command. The values still reach the init through its arguments
 * and libvirt's <initenv>/<initdir>, so the domain XML shows the whole container.
 */
import { capabilityNumber, type Capabilities, type Spec } from '../../core';

export type InitMount = { type: string; destination: string; flags: number; data: string[] };
export type InitRemount = { destination: string; flags: number; data: string[] };

export interface InitFileSystem {
  /** Mounts libvirt does not make (mqueue). */
  mounts: InitMount[];
  /** Exact flags and data for mounts libvirt made (its /proc, /sys, /dev, /dev/pts, ram and bind file systems). */
  remounts: InitRemount[];
}

/** Capability sets as five 64-bit masks, in the order berth-lxc-init reads them. */
export function capabilityMasks(caps: Capabilities): string {
  const mask = (names: readonly string[] = []) =>
    names.reduce((m, name) => m | (1n << BigInt(capabilityNumber(name))), 0n).toString(16);
  return [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient].map((s) => mask(s)).join(':');
}

/** Options for berth-lxc-init's `init` mode (everything before `--`). */
export function initOptions(spec: Spec, fileSystem: InitFileSystem, withStdin: boolean): string[] {
  const proc = spec.process!;
  const out: string[] = [];
  const opt = (name: string, value?: string | number) => out.push(name, ...(value === undefined ? [] : [String(value)]));
  for (const m of fileSystem.mounts) opt('--mount', [m.type, m.destination, m.flags, m.data.join(',')].join('|'));
  for (const r of fileSystem.remounts) opt('--remount', [r.destination, r.flags, r.data.join(',')].join('|'));
  for (const p of spec.linux?.maskedPaths ?? []) opt('--mask', p);
  for (const p of spec.linux?.readonlyPaths ?? []) opt('--readonly-path', p);
  if ((spec.linux?.namespaces ?? []).some((ns) => ns.type === 'cgroup')) opt('--cgroupns');
  if (spec.hostname) opt('--hostname', spec.hostname);
  if (spec.domainname) opt('--domainname', spec.domainname);
  out.push(...processOptions(proc));
  for (const name of envNames(proc.env ?? [])) opt('--keep-env', name);
  if (withStdin) opt('--stdin');
  return out;
}

/** User, groups, capabilities, rlimits, umask, no_new_privs and cwd: shared by init and exec. */
export function processOptions(proc: NonNullable<Spec['process']>): string[] {
  const out: string[] = [];
  const opt = (name: string, value?: string | number) => out.push(name, ...(value === undefined ? [] : [String(value)]));
  if (proc.cwd && proc.cwd !== '/') opt('--cwd', proc.cwd);
  opt('--uid', proc.user.uid);
  opt('--gid', proc.user.gid);
  opt('--groups', (proc.user.additionalGids ?? []).join(',') || '-');
  if (proc.user.umask !== undefined) opt('--umask', proc.user.umask.toString(8));
  if (proc.capabilities) opt('--caps', capabilityMasks(proc.capabilities));
  for (const r of proc.rlimits ?? []) opt('--rlimit', `${r.type}=${r.soft}:${r.hard}`);
  if (proc.noNewPrivileges) opt('--no-new-privs');
  return out;
}

/** Names of NAME=VALUE entries; the init keeps exactly these (libvirt adds container=, LIBVIRT_LXC_*...). */
export function envNames(env: readonly string[]): string[] {
  return [...new Set(env.map((e) => e.slice(0, e.indexOf('='))))];
}

/** NAME=VALUE entries as pairs; a later entry wins, as execve's environment would have it. */
export function envPairs(env: readonly string[]): [string, string][] {
  const map = new Map<string, string>();
  for (const e of env) map.set(e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1));
  return [...map.entries()];
}
