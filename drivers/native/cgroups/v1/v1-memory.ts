/**
 * v1 memory controller writes. OCI `memory.swap` is the memory+swap total, exactly v1's
 * memory.memsw.limit_in_bytes. The kernel demands memsw >= limit at every moment, so when the
 * limits grow memsw goes first and when they shrink the limit goes first (as runc does).
 */
import type { MemoryResources } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

export interface V1MemoryState {
  /** Current memory.limit_in_bytes (undefined when unknown). */
  currentLimit?: number;
  /** Whether memory.memsw.* exists (swap accounting on). */
  swapAccounting: boolean;
}

export function v1MemoryWrites(m: MemoryResources | undefined, state: V1MemoryState): CgroupWrite[] {
  if (!m) return [];
  const out: CgroupWrite[] = [];
  const limit = m.limit;
  let swap = m.swap;
  // Unlimited memory with swap unset means unlimited swap too.
  if (limit === -1 && swap === undefined && state.swapAccounting) swap = -1;
  const memWrite = limit !== undefined ? [{ file: 'memory.limit_in_bytes', value: String(limit) }] : [];
  const swapWrite = swap !== undefined ? [{ file: 'memory.memsw.limit_in_bytes', value: String(swap) }] : [];
  const swapFirst = limit !== undefined && swap !== undefined && (swap === -1 || (state.currentLimit !== undefined && state.currentLimit < swap));
  out.push(...(swapFirst ? [...swapWrite, ...memWrite] : [...memWrite, ...swapWrite]));
  if (m.reservation !== undefined) out.push({ file: 'memory.soft_limit_in_bytes', value: String(m.reservation) });
  if (m.swappiness !== undefined) out.push({ file: 'memory.swappiness', value: String(m.swappiness) });
  if (m.disableOOMKiller) out.push({ file: 'memory.oom_control', value: '1' });
  return out;
}
