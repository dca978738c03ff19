/**
 * `linux.seccomp.flags` to the flags argument of seccomp(SECCOMP_SET_MODE_FILTER, flags, prog),
 * for the C program that installs the filter. Refuses names it does not know, NEW_LISTENER and
 * a `listenerPath` (user notification is not provided by the native driver).
 */
import type { Seccomp } from '../../../core/spec/oci-spec';
import { BerthError } from '../../../core/errors/berth-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';

export const SECCOMP_FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

export function seccompFilterFlags(profile: Seccomp): number {
  if (profile.listenerPath) {
    throw new BerthError('FEATURE_NOT_SUPPORTED', 'linux.seccomp.listenerPath: seccomp user notification is not supported by the native driver');
  }
  let flags = 0;
  (profile.flags ?? []).forEach((name, i) => {
    const bit = SECCOMP_FILTER_FLAGS[name];
    if (bit === undefined) {
      throw new SpecInvalidError([{ path: `linux.seccomp.flags[${i}]`, message: `unknown or unsupported seccomp flag "${name}" (${Object.keys(SECCOMP_FILTER_FLAGS).join(', ')})` }]);
    }
    flags |= bit;
  });
  return flags;
}
