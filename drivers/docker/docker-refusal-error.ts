import { BerthError } from '../../core';

/**
 * A spec value the docker driver cannot honour although the feature is declared (one mount option,
 * a capability split Docker cannot express...). Raised before anything is created; names the field.
 */
export class DockerRefusalError extends BerthError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('FEATURE_NOT_SUPPORTED', `${field}: ${reason}: not supported by driver "docker"`);
    this.field = field;
  }
}
