import { BerthError } from './berth-error';
import type { FeatureRequirement } from '../driver/features';

/** The spec asks for features the chosen driver does not declare; raised before anything exists. */
export class FeatureNotSupportedError extends BerthError {
  readonly driver: string;
  readonly refusals: readonly FeatureRequirement[];

  constructor(driver: string, refusals: readonly FeatureRequirement[]) {
    const first = refusals[0];
    const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more: ${refusals.slice(1).map((r) => r.field).join(', ')})` : '';
    super(
      'FEATURE_NOT_SUPPORTED',
      `${first?.field ?? 'spec'}: not supported by driver "${driver}" (feature ${first?.feature ?? '?'})${more}`,
    );
    this.driver = driver;
    this.refusals = refusals;
  }
}
