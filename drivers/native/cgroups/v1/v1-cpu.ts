/** v1 cpu controller writes: shares, CFS quota/period/burst, realtime, idle. */
import type { CpuResources } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

export function v1CpuWrites(c: CpuResources | undefined): CgroupWrite[] {
  if (!c) return [];
  const out: CgroupWrite[] = [];
  if (c.shares !== undefined) out.push({ file: 'cpu.shares', value: String(c.shares) });
  // Period before quota: a quota is checked against the period in force.
  if (c.period !== undefined) out.push({ file: 'cpu.cfs_period_us', value: String(c.period) });
  if (c.quota !== undefined) out.push({ file: 'cpu.cfs_quota_us', value: String(c.quota > 0 ? c.quota : -1) });
  if (c.burst !== undefined) out.push({ file: 'cpu.cfs_burst_us', value: String(c.burst) });
  if (c.realtimePeriod !== undefined) out.push({ file: 'cpu.rt_period_us', value: String(c.realtimePeriod) });
  if (c.realtimeRuntime !== undefined) out.push({ file: 'cpu.rt_runtime_us', value: String(c.realtimeRuntime) });
  if (c.idle !== undefined) out.push({ file: 'cpu.idle', value: String(c.idle) });
  return out;
}

/** v1 cpuset writes (same file names on v2). */
export function cpusetWrites(c: CpuResources | undefined): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  if (c?.cpus) out.push({ file: 'cpuset.cpus', value: c.cpus });
  if (c?.mems) out.push({ file: 'cpuset.mems', value: c.mems });
  return out;
}
