/**
 * v2 memory writes. OCI `memory.swap` is memory+swap (v1's meaning); v2's memory.swap.max is swap
 * alone, so it gets `swap - limit` (runc's conversion). -1 means "max" everywhere.
 */
import type { MemoryResources } from '../../../../core/spec/oci-spec';
import { SpecInvalidError } from '../../../../core/errors/spec-invalid-error';
import type { CgroupWrite } from '../cgroup-files';

const v2Value = (n: number): string => (n === -1 ? 'max' : String(n));

/** memory.swap.max for OCI limit + memory-and-swap total; undefined when nothing is to be written. */
export function v2SwapValue(swap: number | undefined, limit: number | undefined): string | undefined {
  if (limit === -1 && (swap === undefined || swap === 0)) return 'max';
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit <= 0) {
    throw new SpecInvalidError([{ path: 'linux.resources.memory.swap', message: 'on cgroup v2 a swap limit needs a memory limit (swap is memory+swap, converted to memory.swap.max = swap - limit)' }]);
  }
  if (swap < limit) {
    throw new SpecInvalidError([{ path: 'linux.resources.memory.swap', message: `memory+swap (${swap}) must be >= the memory limit (${limit})` }]);
  }
  return String(swap - limit);
}

export function v2MemoryWrites(m: MemoryResources | undefined): CgroupWrite[] {
  if (!m) return [];
  const out: CgroupWrite[] = [];
  const swap = v2SwapValue(m.swap, m.limit);
  if (swap !== undefined) out.push({ file: 'memory.swap.max', value: swap });
  if (m.limit !== undefined) out.push({ file: 'memory.max', value: v2Value(m.limit) });
  if (m.reservation !== undefined) out.push({ file: 'memory.low', value: v2Value(m.reservation) });
  return out;
}
