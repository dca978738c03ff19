/**
 * The check both managers run before creating or writing anything: every `linux.resources` field
 * must map to a feature this host's manager honours, else FeatureNotSupportedError naming the field.
 */
import type { Resources } from '../../../core/spec/oci-spec';
import type { SpecFeature } from '../../../core/driver/features';
import { requiredFeatures } from '../../../core/driver/required-features';
import { FeatureNotSupportedError } from '../../../core/errors/feature-not-supported-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';

export const CGROUP_DRIVER_NAME = 'native';

export function assertResourcesHonoured(resources: Resources | undefined, honoured: ReadonlySet<SpecFeature>, who: string): void {
  if (!resources) return;
  const missing = requiredFeatures({ ociVersion: '1.2.0', linux: { resources } }).filter(
    (r) => r.feature.startsWith('resources.') && !honoured.has(r.feature as SpecFeature),
  );
  if (missing.length > 0) throw new FeatureNotSupportedError(`${CGROUP_DRIVER_NAME} (${who})`, missing);
}

/** Values no kernel accepts, refused by field before anything is created (shared by v1 and v2). */
export function assertResourceValues(resources: Resources | undefined): void {
  (resources?.hugepageLimits ?? []).forEach((h, i) => {
    if (!/^[0-9]+(KB|MB|GB)$/.test(h.pageSize)) {
      throw new SpecInvalidError([{ path: `linux.resources.hugepageLimits[${i}].pageSize`, message: `"${h.pageSize}" is not a page size such as "2MB" or "1GB"` }]);
    }
  });
  const cpus = resources?.cpu?.cpus;
  if (cpus !== undefined && cpus !== '' && !/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(cpus)) {
    throw new SpecInvalidError([{ path: 'linux.resources.cpu.cpus', message: `"${cpus}" is not a CPU list such as "0-3,6"` }]);
  }
  const mems = resources?.cpu?.mems;
  if (mems !== undefined && mems !== '' && !/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(mems)) {
    throw new SpecInvalidError([{ path: 'linux.resources.cpu.mems', message: `"${mems}" is not a memory node list such as "0-1"` }]);
  }
}
