import { BerthError } from './berth-error';

/** One problem found in a spec, at a JSON path such as `process.capabilities.bounding[3]`. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** A config.json or built spec that fails the schema or a semantic rule. */
export class SpecInvalidError extends BerthError {
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[], source?: string) {
    const first = issues[0];
    const where = source ? `${source}: ` : '';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('SPEC_INVALID', `${where}${first ? `${first.path}: ${first.message}` : 'invalid spec'}${more}`);
    this.issues = issues;
  }
}
