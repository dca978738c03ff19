import { defaultSeccompProfile } from '../../../core/spec/default-seccomp';
import { hasCode } from '../../../core';
import { lxcSeccompPolicy } from '../../../drivers/lxc/lxc-seccomp';

describe('lxcSeccompPolicy', () => {
  test('the default profile becomes an allowlist with EPERM default, args and errno rules kept', () => {
    const p = lxcSeccompPolicy(defaultSeccompProfile(), 'SCMP_ARCH_X86_64');
    expect(p.mode).toBe('allowlist');
    expect(p.defaultAction).toEqual({ errno: 1 });
    expect(p.rules).toContainEqual({ syscall: 'read', action: 'allow' });
    expect(p.rules).toContainEqual({ syscall: 'clone3', action: { errno: 38 } });
    expect(p.rules).toContainEqual({ syscall: 'clone', action: 'allow', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }] });
    expect(p.rules).toContainEqual({ syscall: 'socket', action: 'allow', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] });
  });

  test('default ALLOW becomes a denylist (allow rules dropped), actions mapped', () => {
    expect(lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir', 'rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['ptrace'], action: 'SCMP_ACT_KILL' },
      { names: ['kexec_load'], action: 'SCMP_ACT_TRAP' },
      { names: ['acct'], action: 'SCMP_ACT_LOG' },
      { names: ['swapon'], action: 'SCMP_ACT_ERRNO' },
    ] })).toEqual({ mode: 'denylist', rules: [
      { syscall: 'mkdir', action: { errno: 13 } }, { syscall: 'rmdir', action: { errno: 13 } }, { syscall: 'ptrace', action: 'kill' },
      { syscall: 'kexec_load', action: 'trap' }, { syscall: 'acct', action: 'log' }, { syscall: 'swapon', action: { errno: 1 } },
    ] });
  });

  test('refusals name the field', () => {
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(hasCode(err, 'FEATURE_NOT_SUPPORTED')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refused(() => lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' }))).toMatch(/^linux\.seccomp\.listenerPath/);
    expect(refused(() => lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }))).toMatch(/^linux\.seccomp\.flags/);
    expect(refused(() => lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64'] }, 'SCMP_ARCH_X86_64'))).toMatch(/^linux\.seccomp\.architectures/);
    expect(refused(() => lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_NOTIFY' }] }))).toMatch(/^linux\.seccomp\.syscalls\[0\]\.action/);
    expect(refused(() => lxcSeccompPolicy({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }))).toMatch(/^linux\.seccomp\.defaultAction/);
  });
});
