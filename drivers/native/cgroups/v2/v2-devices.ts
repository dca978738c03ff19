/**
 * Devices on cgroup v2. v2 has no devices.allow/deny files: the allow-list is an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup, which needs the bpf(2) syscall and so
 * native code. berth's v2 manager does not load one. It therefore accepts only the default
 * rule set, the one every OCI container gets anyway (deny everything, then optionally allow some
 * of the OCI default devices: null, zero, full, random, urandom, tty, console, ptmx, pts), and
 * refuses any other rule before creating anything, so that no spec relies on a custom allow-list
 * that would not be enforced. With the default set the container's devices are what the runtime
 * creates in its /dev tmpfs (the OCI defaults plus linux.devices); the device cgroup itself is not
 * enforced on v2 (see docs/native-cgroups.md).
 */
import type { DeviceCgroupRule } from '../../../../core/spec/oci-spec';
import { FeatureNotSupportedError } from '../../../../core/errors/feature-not-supported-error';
import { DEFAULT_DEVICE_RULES, deviceRuleText } from '../v1/v1-devices';

const DEFAULT_ALLOWED = new Set(DEFAULT_DEVICE_RULES.map((r) => deviceRuleText(r)));

export function isDefaultDeviceRuleSet(rules: readonly DeviceCgroupRule[] | undefined): boolean {
  if (!rules || rules.length === 0) return true;
  const [first, ...rest] = rules;
  const denyAll = !first!.allow && (first!.type ?? 'a') === 'a';
  return denyAll && rest.every((r) => r.allow && DEFAULT_ALLOWED.has(deviceRuleText(r)));
}

export function assertV2DeviceRules(rules: readonly DeviceCgroupRule[] | undefined): void {
  if (isDefaultDeviceRuleSet(rules)) return;
  throw new FeatureNotSupportedError('native (cgroup v2: device rules other than the default deny-all need an eBPF device program, which berth does not load)', [
    { feature: 'resources.devices', field: 'linux.resources.devices' },
  ]);
}
