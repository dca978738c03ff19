/**
 * v2 io writes. Weights: io.bfq.weight takes blkio's 10..1000 scale as is (when BFQ is there),
 * else io.weight gets the converted 1..10000 value. Throttles: io.max `MAJ:MIN rbps=N` etc.
 */
import type { BlockIoResources, ThrottleDevice } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

export function blkioToIoWeight(weight: number): number {
  if (weight <= 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export function v2IoWrites(b: BlockIoResources | undefined, bfq: boolean): CgroupWrite[] {
  if (!b) return [];
  const out: CgroupWrite[] = [];
  if (b.weight !== undefined && b.weight > 0) {
    out.push(bfq ? { file: 'io.bfq.weight', value: String(b.weight) } : { file: 'io.weight', value: `default ${blkioToIoWeight(b.weight)}` });
  }
  for (const d of b.weightDevice ?? []) {
    if (d.weight === undefined) continue;
    out.push(bfq
      ? { file: 'io.bfq.weight', value: `${d.major}:${d.minor} ${d.weight}` }
      : { file: 'io.weight', value: `${d.major}:${d.minor} ${blkioToIoWeight(d.weight)}` });
  }
  const throttle = (key: string, list: ThrottleDevice[] | undefined): void => {
    for (const t of list ?? []) out.push({ file: 'io.max', value: `${t.major}:${t.minor} ${key}=${t.rate > 0 ? t.rate : 'max'}` });
  };
  throttle('rbps', b.throttleReadBpsDevice);
  throttle('wbps', b.throttleWriteBpsDevice);
  throttle('riops', b.throttleReadIOPSDevice);
  throttle('wiops', b.throttleWriteIOPSDevice);
  return out;
}
