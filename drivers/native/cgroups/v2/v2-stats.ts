/** Read a v2 container's statistics from its unified cgroup directory. */
import type { ContainerStats } from '../../../../core/driver/execution-driver';
import { parseKeyValues, readCgroupFile, readCgroupNumber } from '../cgroup-files';

export async function readV2Stats(dir: string): Promise<ContainerStats> {
  const stats: ContainerStats = {};
  const usage = await readCgroupNumber(dir, 'memory.current');
  if (usage !== undefined) {
    const peak = await readCgroupNumber(dir, 'memory.peak');
    const limit = await readCgroupNumber(dir, 'memory.max');
    const events = parseKeyValues(await readCgroupFile(dir, 'memory.events'));
    stats.memory = {
      usageBytes: usage,
      ...(peak !== undefined ? { maxUsageBytes: peak } : {}),
      ...(limit !== undefined ? { limitBytes: limit } : {}),
      ...(events.oom_kill !== undefined ? { oomEvents: events.oom_kill } : {}),
    };
  }
  const cpu = parseKeyValues(await readCgroupFile(dir, 'cpu.stat'));
  if (cpu.usage_usec !== undefined) {
    stats.cpu = {
      usageNanos: cpu.usage_usec * 1000,
      ...(cpu.user_usec !== undefined ? { userNanos: cpu.user_usec * 1000 } : {}),
      ...(cpu.system_usec !== undefined ? { systemNanos: cpu.system_usec * 1000 } : {}),
    };
  }
  const current = await readCgroupNumber(dir, 'pids.current');
  if (current !== undefined) {
    const limit = await readCgroupNumber(dir, 'pids.max');
    stats.pids = { current, ...(limit !== undefined ? { limit } : {}) };
  }
  return stats;
}
