/**
 * Which `resources.*` features the v1 hierarchies on this host honour: a feature counts only when
 * its hierarchy is mounted and the kernel file exists (memory.memsw.* needs swap accounting,
 * cpu.cfs_burst_us needs 5.14+, blkio weights need CFQ or BFQ ...). Files that exist only in
 * non-root cgroups (BFQ weights) are probed in a short-lived child cgroup.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpecFeature } from '../../../../core/driver/features';

export interface V1FileSupport {
  features: Set<SpecFeature>;
  swapAccounting: boolean;
  blkioWeightFile: 'blkio.weight' | 'blkio.bfq.weight' | undefined;
}

function childFiles(root: string): string[] {
  const probe = path.join(root, `berth-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    fs.mkdirSync(probe);
  } catch {
    return fs.readdirSync(root);
  }
  try {
    return fs.readdirSync(probe);
  } finally {
    fs.rmdirSync(probe);
  }
}

export function detectV1Support(hierarchies: Record<string, string>): V1FileSupport {
  const features = new Set<SpecFeature>();
  const has = (controller: string, file: string): boolean => {
    const dir = hierarchies[controller];
    return !!dir && fs.existsSync(path.join(dir, file));
  };
  if (has('memory', 'memory.limit_in_bytes')) features.add('resources.memory.limit');
  if (has('memory', 'memory.soft_limit_in_bytes')) features.add('resources.memory.reservation');
  const swapAccounting = has('memory', 'memory.memsw.limit_in_bytes');
  if (swapAccounting) features.add('resources.memory.swap');
  if (has('memory', 'memory.swappiness')) features.add('resources.memory.swappiness');
  if (has('memory', 'memory.oom_control')) features.add('resources.memory.disableOOMKiller');
  if (has('cpu', 'cpu.shares')) features.add('resources.cpu.shares');
  if (has('cpu', 'cpu.cfs_quota_us') && has('cpu', 'cpu.cfs_period_us')) features.add('resources.cpu.quota');
  if (has('cpu', 'cpu.cfs_burst_us')) features.add('resources.cpu.burst');
  if (has('cpu', 'cpu.rt_runtime_us') && has('cpu', 'cpu.rt_period_us')) features.add('resources.cpu.realtime');
  if (has('cpu', 'cpu.idle')) features.add('resources.cpu.idle');
  if (has('cpuset', 'cpuset.cpus')) features.add('resources.cpu.cpus');
  if (has('cpuset', 'cpuset.mems')) features.add('resources.cpu.mems');
  if (has('pids', 'cgroup.procs')) features.add('resources.pids');
  if (has('devices', 'devices.allow')) features.add('resources.devices');
  if (has('blkio', 'blkio.throttle.read_bps_device')) features.add('resources.blockIO.throttle');
  let blkioWeightFile: V1FileSupport['blkioWeightFile'];
  if (hierarchies.blkio) {
    const files = childFiles(hierarchies.blkio);
    blkioWeightFile = files.includes('blkio.weight') ? 'blkio.weight' : files.includes('blkio.bfq.weight') ? 'blkio.bfq.weight' : undefined;
    if (blkioWeightFile) features.add('resources.blockIO.weight');
  }
  if (hierarchies.hugetlb) features.add('resources.hugepageLimits');
  return { features, swapAccounting, blkioWeightFile };
}
