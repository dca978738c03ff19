/**
 * Cgroup limits as LXC keys. v1 hosts (and hybrid ones, whose controllers are v1) take
 * `lxc.cgroup.<controller file>`; pure v2 hosts take `lxc.cgroup2.<file>`, with v2 units.
 */
import type { CgroupVersion, LxcCgroupLimits } from './config-options';

export interface CgroupAssignment {
  /** The controller file, as `lxc-cgroup` and the config key suffix name it (`memory.limit_in_bytes`). */
  file: string;
  value: string;
}

/** Convert v1 cpu shares (2..262144) to a v2 weight (1..10000), as runc does. */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 100;
  return 1 + Math.floor(((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
}

const unlimitedV1 = (n: number) => (n < 0 ? '-1' : String(n));
const unlimitedV2 = (n: number) => (n < 0 ? 'max' : String(n));

/** The controller files and values for `limits` on a host running cgroup `version`, in a stable order. */
export function cgroupAssignments(limits: LxcCgroupLimits, version: CgroupVersion): CgroupAssignment[] {
  const out: CgroupAssignment[] = [];
  const set = (file: string, value: string) => out.push({ file, value });
  if (version === 'v1') {
    if (limits.memoryLimit !== undefined) set('memory.limit_in_bytes', unlimitedV1(limits.memoryLimit));
    if (limits.memoryReservation !== undefined) set('memory.soft_limit_in_bytes', unlimitedV1(limits.memoryReservation));
    if (limits.memorySwapLimit !== undefined) set('memory.memsw.limit_in_bytes', unlimitedV1(limits.memorySwapLimit));
    if (limits.cpuShares !== undefined) set('cpu.shares', String(limits.cpuShares));
    if (limits.cpuPeriod !== undefined) set('cpu.cfs_period_us', String(limits.cpuPeriod));
    if (limits.cpuQuota !== undefined) set('cpu.cfs_quota_us', unlimitedV1(limits.cpuQuota));
    if (limits.cpusetCpus !== undefined) set('cpuset.cpus', limits.cpusetCpus);
    if (limits.cpusetMems !== undefined) set('cpuset.mems', limits.cpusetMems);
    if (limits.pidsMax !== undefined) set('pids.max', limits.pidsMax < 0 ? 'max' : String(limits.pidsMax));
  } else {
    if (limits.memoryLimit !== undefined) set('memory.max', unlimitedV2(limits.memoryLimit));
    if (limits.memoryReservation !== undefined) set('memory.low', unlimitedV2(limits.memoryReservation));
    if (limits.memorySwapLimit !== undefined) {
      // v2 counts swap alone: (memory+swap) - memory.
      const swap = limits.memorySwapLimit < 0 || limits.memoryLimit === undefined || limits.memoryLimit < 0 ? -1 : limits.memorySwapLimit - limits.memoryLimit;
      set('memory.swap.max', unlimitedV2(swap));
    }
    if (limits.cpuShares !== undefined) set('cpu.weight', String(sharesToWeight(limits.cpuShares)));
    if (limits.cpuQuota !== undefined || limits.cpuPeriod !== undefined) {
      set('cpu.max', `${unlimitedV2(limits.cpuQuota ?? -1)} ${limits.cpuPeriod ?? 100000}`);
    }
    if (limits.cpusetCpus !== undefined) set('cpuset.cpus', limits.cpusetCpus);
    if (limits.cpusetMems !== undefined) set('cpuset.mems', limits.cpusetMems);
    if (limits.pidsMax !== undefined) set('pids.max', unlimitedV2(limits.pidsMax));
  }
  for (const d of limits.devices ?? []) set(d.allow ? 'devices.allow' : 'devices.deny', d.rule);
  return out;
}

/** The config key prefix for `version`. */
export function cgroupKeyPrefix(version: CgroupVersion): string {
  return version === 'v1' ? 'lxc.cgroup.' : 'lxc.cgroup2.';
}
