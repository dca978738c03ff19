/** v1 pids and blkio controller writes. */
import type { BlockIoResources, ThrottleDevice } from '../../../../core/spec/oci-spec';
import type { CgroupWrite } from '../cgroup-files';

/** pids.max: a positive limit, otherwise unlimited (OCI: 0 or -1 means no limit). Same file on v2. */
export function pidsWrites(pids: { limit: number } | undefined): CgroupWrite[] {
  if (!pids) return [];
  return [{ file: 'pids.max', value: pids.limit > 0 ? String(pids.limit) : 'max' }];
}

/**
 * blkio: weights go to blkio.weight (CFQ, old kernels) or blkio.bfq.weight (BFQ), whichever the
 * kernel has (`weightFile`); throttles to blkio.throttle.*_device, one `major:minor rate` per write.
 */
export function v1BlkioWrites(b: BlockIoResources | undefined, weightFile: 'blkio.weight' | 'blkio.bfq.weight' | undefined): CgroupWrite[] {
  if (!b) return [];
  const out: CgroupWrite[] = [];
  const deviceFile = weightFile === 'blkio.bfq.weight' ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
  if (b.weight !== undefined && weightFile) out.push({ file: weightFile, value: String(b.weight) });
  if (b.leafWeight !== undefined) out.push({ file: 'blkio.leaf_weight', value: String(b.leafWeight) });
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined) out.push({ file: deviceFile, value: `${d.major}:${d.minor} ${d.weight}` });
    if (d.leafWeight !== undefined) out.push({ file: 'blkio.leaf_weight_device', value: `${d.major}:${d.minor} ${d.leafWeight}` });
  }
  const throttle = (file: string, list: ThrottleDevice[] | undefined): void => {
    for (const t of list ?? []) out.push({ file, value: `${t.major}:${t.minor} ${t.rate}` });
  };
  throttle('blkio.throttle.read_bps_device', b.throttleReadBpsDevice);
  throttle('blkio.throttle.write_bps_device', b.throttleWriteBpsDevice);
  throttle('blkio.throttle.read_iops_device', b.throttleReadIOPSDevice);
  throttle('blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice);
  return out;
}
