/** v2 cpu writes: cpu.weight (from v1 shares), cpu.max (quota and period), cpu.max.burst, cpu.idle. */
import type { CpuResources } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

/** v1 shares [2, 262144] to v2 weight [1, 10000], the conversion runc and crun use. */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

export function v2CpuWrites(c: CpuResources | undefined): CgroupWrite[] {
  if (!c) return [];
  const out: CgroupWrite[] = [];
  if (c.shares !== undefined && c.shares > 0) out.push({ file: 'cpu.weight', value: String(sharesToWeight(c.shares)) });
  if (c.quota !== undefined || c.period !== undefined) {
    // "max PERIOD" when there is no positive quota; a missing period keeps the kernel's.
    let value = c.quota !== undefined && c.quota > 0 ? String(c.quota) : 'max';
    if (c.period !== undefined && c.period > 0) value += ` ${c.period}`;
    out.push({ file: 'cpu.max', value });
  }
  if (c.burst !== undefined) out.push({ file: 'cpu.max.burst', value: String(c.burst) });
  if (c.idle !== undefined) out.push({ file: 'cpu.idle', value: String(c.idle) });
  return out;
}
