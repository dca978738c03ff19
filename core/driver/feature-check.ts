import type { Feature, FeatureRequirement } from './features';
import type { Spec } from '../spec/oci-spec';
import { requiredFeatures } from './required-features';
import { FeatureNotSupportedError } from '../errors/feature-not-supported-error';

/** Requirements of `spec` that `declared` does not cover, one per field. */
export function unsupportedRequirements(spec: Spec, declared: ReadonlySet<Feature>): FeatureRequirement[] {
  return requiredFeatures(spec).filter((r) => !declared.has(r.feature));
}

/** Refuse `spec` for `driver` unless every feature it needs is declared. Runs before anything is created. */
export function assertSpecSupported(spec: Spec, driver: { name: string; features: ReadonlySet<Feature> }): void {
  const missing = unsupportedRequirements(spec, driver.features);
  if (missing.length > 0) throw new FeatureNotSupportedError(driver.name, missing);
}
