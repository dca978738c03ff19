/**
 * The check both managers run before creating or writing anything: every `linux.resources` field
 * must map to a feature this host's manager honours, else FeatureNotSupportedError naming the field.
 */
import type { Resources } from '../../../core/spec/oci-spec';
import type { SpecFeature } from '../../../core/driver/features';
import { requiredFeatures } from '../../../core/driver/required-features';
import { FeatureNotSupportedError } from '../../../core/errors/feature-not-supported-error';

export const CGROUP_DRIVER_NAME = 'native';

export function assertResourcesHonoured(resources: Resources | undefined, honoured: ReadonlySet<SpecFeature>, who: string): void {
  if (!resources) return;
  const missing = requiredFeatures({ ociVersion: '1.2.0', linux: { resources } }).filter(
    (r) => r.feature.startsWith('resources.') && !honoured.has(r.feature as SpecFeature),
  );
  if (missing.length > 0) throw new FeatureNotSupportedError(`${CGROUP_DRIVER_NAME} (${who})`, missing);
}
