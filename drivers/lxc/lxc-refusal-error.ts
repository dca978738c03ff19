import { BerthError } from '../../core';

/**
 * A spec value the lxc driver cannot honour although the feature is declared (a capability split,
 * a mount type, a non-namespaced sysctl...). Raised from create before anything exists; names the
 * field. Same shape as the other drivers' refusals (code FEATURE_NOT_SUPPORTED).
 */
export class LxcRefusalError extends BerthError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('FEATURE_NOT_SUPPORTED', `${field}: ${reason}: not supported by driver "lxc"`);
    this.field = field;
  }
}
