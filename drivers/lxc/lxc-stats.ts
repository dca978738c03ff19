/** Container statistics from the container's cgroup, read with `lxc-cgroup` (v1 or v2 file names). */
import type { ContainerStats } from '../../core';
import type { CgroupVersion, LxcTools } from '../../vendor/lxc-ts-shim/src';

/** USER_HZ: cpuacct.stat counts in these ticks per second. */
const USER_HZ = 100;

export async function readLxcStats(tools: LxcTools, name: string, version: CgroupVersion): Promise<ContainerStats> {
  const get = (file: string) => tools.cgroupGet(name, file).catch(() => undefined);
  const stats: ContainerStats = {};
  if (version === 'v1') {
    const [usage, max, limit, cpu, cpuStat, pids, pidsMax] = await Promise.all([
      get('memory.usage_in_bytes'), get('memory.max_usage_in_bytes'), get('memory.limit_in_bytes'),
      get('cpuacct.usage'), get('cpuacct.stat'), get('pids.current'), get('pids.max'),
    ]);
    if (usage !== undefined) stats.memory = { usageBytes: Number(usage), ...opt('maxUsageBytes', limitValue(max)), ...opt('limitBytes', limitValue(limit)) };
    if (cpu !== undefined) {
      const ticks = parseKeyed(cpuStat);
      const ns = (t: number | undefined) => (t === undefined ? undefined : (t * 1e9) / USER_HZ);
      stats.cpu = { usageNanos: Number(cpu), ...opt('userNanos', ns(ticks.user)), ...opt('systemNanos', ns(ticks.system)) };
    }
    if (pids !== undefined) stats.pids = { current: Number(pids), ...opt('limit', limitValue(pidsMax)) };
  } else {
    const [usage, peak, limit, cpuStat, pids, pidsMax] = await Promise.all([
      get('memory.current'), get('memory.peak'), get('memory.max'), get('cpu.stat'), get('pids.current'), get('pids.max'),
    ]);
    if (usage !== undefined) stats.memory = { usageBytes: Number(usage), ...opt('maxUsageBytes', limitValue(peak)), ...opt('limitBytes', limitValue(limit)) };
    const c = parseKeyed(cpuStat);
    const ns = (us: number | undefined) => (us === undefined ? undefined : us * 1000);
    if (c.usage_usec !== undefined) stats.cpu = { usageNanos: c.usage_usec * 1000, ...opt('userNanos', ns(c.user_usec)), ...opt('systemNanos', ns(c.system_usec)) };
    if (pids !== undefined) stats.pids = { current: Number(pids), ...opt('limit', limitValue(pidsMax)) };
  }
  return stats;
}

/** A limit as a number, or undefined for "no limit": v1 writes a huge page-aligned number (9223372036854771712), v2 `max`. */
export function limitValue(v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v === 'max') return undefined;
  const n = Number(v);
  return Number.isNaN(n) || n >= 2 ** 62 ? undefined : n;
}

/** `key value` lines (cpuacct.stat, cpu.stat) as numbers. */
export function parseKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

function opt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined || Number.isNaN(value) ? {} : ({ [key]: value } as Record<K, number>);
}
