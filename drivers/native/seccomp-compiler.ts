/** The seccomp compiler (drivers/native/seccomp), loaded on first use; undefined when not built in. */
import type { Seccomp } from '../../core/spec/oci-spec';

export type SeccompCompiler = (profile: Seccomp) => Buffer;

let cached: SeccompCompiler | null | undefined;
/** The last few programs, by profile JSON: the same default profile is compiled once per process. */
const programs = new Map<string, Buffer>();

export function seccompCompiler(): SeccompCompiler | undefined {
  if (cached === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require('./seccomp/compile-seccomp') as { compileSeccomp?: SeccompCompiler };
      const compile = mod.compileSeccomp;
      cached = compile
        ? (profile) => {
            const key = JSON.stringify(profile);
            let program = programs.get(key);
            if (!program) {
              program = compile(profile);
              if (programs.size >= 8) programs.delete(programs.keys().next().value!);
              programs.set(key, program);
            }
            return program;
          }
        : null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
