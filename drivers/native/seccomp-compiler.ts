/** The seccomp compiler (drivers/native/seccomp), loaded on first use; undefined when not built in. */
import type { Seccomp } from '../../core/spec/oci-spec';

export type SeccompCompiler = (profile: Seccomp) => Buffer;

let cached: SeccompCompiler | null | undefined;

export function seccompCompiler(): SeccompCompiler | undefined {
  if (cached === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require('./seccomp/compile-seccomp') as { compileSeccomp?: SeccompCompiler };
      cached = mod.compileSeccomp ?? null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
