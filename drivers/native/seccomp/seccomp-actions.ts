/** OCI seccomp actions to the kernel's SECCOMP_RET_* values (with errno or trace data in the low 16 bits). */
import type { SeccompAction } from '../../../core/spec/oci-spec';
import { BerthError } from '../../../core/errors/berth-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const EPERM = 1;
export const ENOSYS = 38;

const KNOWN: readonly SeccompAction[] = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];

/**
 * The 32-bit return value for `action`. ERRNO and TRACE carry `errnoRet` (default EPERM, as runc
 * does). SCMP_ACT_KILL is libseccomp's name for KILL_THREAD. NOTIFY is refused: it needs a
 * listener fd sent to `linux.seccomp.listenerPath`, which the native driver does not provide.
 */
export function actionValue(action: string, errnoRet: number | undefined, field: string): number {
  if (!(KNOWN as readonly string[]).includes(action)) {
    throw new SpecInvalidError([{ path: field, message: `unknown seccomp action "${action}" (one of ${KNOWN.join(', ')})` }]);
  }
  if (errnoRet !== undefined && (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff)) {
    throw new SpecInvalidError([{ path: field.replace(/action$/, 'errnoRet'), message: `errnoRet must be an integer in 0..65535, got ${errnoRet}` }]);
  }
  switch (action as SeccompAction) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new BerthError('FEATURE_NOT_SUPPORTED', `${field}: SCMP_ACT_NOTIFY needs a seccomp user-notification listener (linux.seccomp.listenerPath), which the native driver does not provide`);
  }
}
