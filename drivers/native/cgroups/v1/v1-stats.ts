/** Read a v1 container's statistics from its memory, cpuacct and pids hierarchies. */
import type { ContainerStats } from '../../../../core/driver/execution-driver';
import { parseKeyValues, readCgroupFile, readCgroupNumber } from '../cgroup-files';

/** v1 reports "no limit" as a huge page-rounded number (PAGE_COUNTER_MAX * page size). */
const V1_UNLIMITED = 2 ** 62;
const USER_HZ = 100;

export async function readV1Stats(paths: Record<string, string>): Promise<ContainerStats> {
  const stats: ContainerStats = {};
  const mem = paths.memory;
  if (mem) {
    const usage = await readCgroupNumber(mem, 'memory.usage_in_bytes');
    if (usage !== undefined) {
      const max = await readCgroupNumber(mem, 'memory.max_usage_in_bytes');
      const limit = await readCgroupNumber(mem, 'memory.limit_in_bytes');
      const oom = parseKeyValues(await readCgroupFile(mem, 'memory.oom_control'));
      stats.memory = {
        usageBytes: usage,
        ...(max !== undefined ? { maxUsageBytes: max } : {}),
        ...(limit !== undefined && limit < V1_UNLIMITED ? { limitBytes: limit } : {}),
        ...(oom.oom_kill !== undefined ? { oomEvents: oom.oom_kill } : {}),
      };
    }
  }
  const acct = paths.cpuacct;
  if (acct) {
    const usage = await readCgroupNumber(acct, 'cpuacct.usage');
    if (usage !== undefined) {
      const user = await readCgroupNumber(acct, 'cpuacct.usage_user');
      const sys = await readCgroupNumber(acct, 'cpuacct.usage_sys');
      const ticks = parseKeyValues(await readCgroupFile(acct, 'cpuacct.stat'));
      const toNs = (t: number | undefined): number | undefined => (t === undefined ? undefined : (t * 1e9) / USER_HZ);
      const userNanos = user ?? toNs(ticks.user);
      const systemNanos = sys ?? toNs(ticks.system);
      stats.cpu = {
        usageNanos: usage,
        ...(userNanos !== undefined ? { userNanos } : {}),
        ...(systemNanos !== undefined ? { systemNanos } : {}),
      };
    }
  }
  const pids = paths.pids;
  if (pids) {
    const current = await readCgroupNumber(pids, 'pids.current');
    if (current !== undefined) {
      const limit = await readCgroupNumber(pids, 'pids.max');
      stats.pids = { current, ...(limit !== undefined ? { limit } : {}) };
    }
  }
  return stats;
}
