/**
 * OCI `linux.seccomp` as LXC's seccomp policy (pure translation). LXC installs the filter for the
 * container's init and everything it runs, and for lxc-attach'ed processes. What LXC's format
 * cannot say is refused by field.
 */
import type { Seccomp, SeccompAction } from '../../core';
import { LxcRefusalError } from './lxc-refusal-error';
import type { LxcSeccompAction, LxcSeccompPolicy, LxcSeccompRule } from '../../vendor/lxc-ts-shim/src';

const EPERM = 1;

/** The architecture this Node runs on, as OCI names it; LXC's `[all]` section covers it and its compat ones. */
export function nativeSeccompArch(arch: string = process.arch): string {
  return ({ x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', ia32: 'SCMP_ARCH_X86', arm: 'SCMP_ARCH_ARM' } as Record<string, string>)[arch] ?? `SCMP_ARCH_${arch.toUpperCase()}`;
}

function invalid(path: string, message: string): LxcRefusalError {
  return new LxcRefusalError(path, message);
}

function lxcAction(action: SeccompAction, errnoRet: number | undefined, field: string): LxcSeccompAction {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return 'allow';
    case 'SCMP_ACT_ERRNO':
      return { errno: errnoRet ?? EPERM };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 'kill';
    case 'SCMP_ACT_TRAP':
      return 'trap';
    case 'SCMP_ACT_LOG':
      return 'log';
    default:
      throw invalid(field, `${action} cannot be written in LXC's seccomp policy`);
  }
}

export function lxcSeccompPolicy(s: Seccomp, nativeArch = nativeSeccompArch()): LxcSeccompPolicy {
  if (s.listenerPath) throw invalid('linux.seccomp.listenerPath', 'seccomp notification listeners are not supported');
  if ((s.flags ?? []).length > 0) throw invalid('linux.seccomp.flags', 'LXC installs the filter without flags');
  if ((s.architectures ?? []).length > 0 && !s.architectures!.includes(nativeArch)) {
    throw invalid('linux.seccomp.architectures', `must include this host's ${nativeArch} (LXC's policy covers the native architecture and its compat ones)`);
  }
  const denylist = s.defaultAction === 'SCMP_ACT_ALLOW';
  const rules: LxcSeccompRule[] = [];
  (s.syscalls ?? []).forEach((r, i) => {
    const field = `linux.seccomp.syscalls[${i}]`;
    const action = lxcAction(r.action, r.errnoRet, `${field}.action`);
    if (denylist && action === 'allow') return; // already the default
    if ((r.args ?? []).length > 6) throw invalid(`${field}.args`, 'at most 6 argument conditions');
    for (const name of r.names) {
      if (!/^[a-z0-9_]+$/.test(name)) throw invalid(`${field}.names`, `"${name}" is not a syscall name`);
      rules.push({ syscall: name, action, ...(r.args && r.args.length > 0 ? { args: r.args.map((a) => ({ index: a.index, value: a.value, op: a.op, ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo } : {}) })) } : {}) });
    }
  });
  return denylist
    ? { mode: 'denylist', rules }
    : { mode: 'allowlist', defaultAction: lxcAction(s.defaultAction, s.defaultErrnoRet, 'linux.seccomp.defaultAction'), rules };
}
