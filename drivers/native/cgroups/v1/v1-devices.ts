/**
 * v1 devices controller: the OCI allow-list (linux.resources.devices, applied in order) followed
 * by the devices every OCI container gets (the spec's "default devices": null, zero, full, random,
 * urandom, tty, console, ptmx, pts, plus mknod of any node, as runc adds them).
 * A rule is one write to devices.allow or devices.deny: `TYPE MAJOR:MINOR ACCESS`.
 */
import type { DeviceCgroupRule, Device } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

export const DEFAULT_DEVICE_RULES: readonly DeviceCgroupRule[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
];

/** Allow rules for the spec's `linux.devices` (the nodes the runtime creates must be usable). */
export function deviceRulesForLinuxDevices(devices: readonly Device[] | undefined): DeviceCgroupRule[] {
  return (devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u')
    .map((d) => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: 'rwm' }));
}

export function deviceRuleText(r: DeviceCgroupRule): string {
  const id = (n: number | undefined): string => (n === undefined || n < 0 ? '*' : String(n));
  const type = r.type ?? 'a';
  if (type === 'a') return `a *:* ${r.access || 'rwm'}`;
  return `${type} ${id(r.major)}:${id(r.minor)} ${r.access || 'rwm'}`;
}

/** Nothing when the spec has no device rules (the cgroup keeps its parent's list). */
export function v1DeviceWrites(rules: readonly DeviceCgroupRule[] | undefined): CgroupWrite[] {
  if (!rules || rules.length === 0) return [];
  return [...rules, ...DEFAULT_DEVICE_RULES].map((r) => ({ file: r.allow ? 'devices.allow' : 'devices.deny', value: deviceRuleText(r) }));
}
