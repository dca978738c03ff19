/** The seccomp compiler's output, decoded and run on sample seccomp_data with a small BPF interpreter. */
import type { Seccomp, SeccompArg } from '../../../../core/spec/oci-spec';
import { compileSeccomp, compileSeccompProgram } from '../../../../drivers/native/seccomp/compile-seccomp';
import { decodeFilter } from '../../../../drivers/native/seccomp/bpf';
import { SECCOMP_RET } from '../../../../drivers/native/seccomp/seccomp-actions';
import { AUDIT_ARCH } from '../../../../drivers/native/seccomp/seccomp-arch';
import { X86_64_SYSCALLS as X64 } from '../../../../drivers/native/seccomp/syscall-tables/x86_64';
import { I386_SYSCALLS as I386 } from '../../../../drivers/native/seccomp/syscall-tables/i386';
import { X32_SYSCALLS as X32 } from '../../../../drivers/native/seccomp/syscall-tables/x32';
import { AARCH64_SYSCALLS as A64 } from '../../../../drivers/native/seccomp/syscall-tables/aarch64';
import { DEFAULT_SECCOMP_PROFILE } from '../../../../core/spec/default-seccomp';
import { defaultSpec } from '../../../../core/spec/default-spec';
import { runFilter } from './bpf-interpreter';
import { seccompFilterFlags } from '../../../../drivers/native/seccomp/seccomp-flags';

const ERRNO = (e: number): number => (SECCOMP_RET.ERRNO | e) >>> 0;
const EPERM = ERRNO(1);
const x64 = (profile: Seccomp) => {
  const prog = compileSeccomp(profile, 'x64');
  return (nr: number, args: bigint[] = [], arch: number = AUDIT_ARCH.x86_64): number => runFilter(prog, { nr, arch, args });
};

describe('compileSeccomp', () => {
  test('the bytes are struct sock_filter[]: 8 bytes each, little-endian, starting with the arch load', () => {
    const buf = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x64');
    expect(buf.length % 8).toBe(0);
    expect(buf.readUInt16LE(0)).toBe(0x20); // BPF_LD|BPF_W|BPF_ABS
    expect(buf.readUInt32LE(4)).toBe(4); // offsetof(struct seccomp_data, arch)
    expect(decodeFilter(buf)).toEqual(compileSeccompProgram({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x64'));
  });

  test('default action and defaultErrnoRet; rule actions with errnoRet; every action value', () => {
    const run = x64({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
        { names: ['kill'], action: 'SCMP_ACT_KILL' },
        { names: ['tkill'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['tgkill'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['uname'], action: 'SCMP_ACT_TRAP' },
        { names: ['getpid'], action: 'SCMP_ACT_LOG' },
        { names: ['getppid'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
      ],
    });
    expect(run(X64.read!)).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.write!)).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.mkdir!)).toBe(ERRNO(13));
    expect(run(X64.rmdir!)).toBe(EPERM);
    expect(run(X64.kill!)).toBe(SECCOMP_RET.KILL_THREAD);
    expect(run(X64.tkill!)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(run(X64.tgkill!)).toBe(SECCOMP_RET.KILL_THREAD);
    expect(run(X64.uname!)).toBe(SECCOMP_RET.TRAP);
    expect(run(X64.getpid!)).toBe(SECCOMP_RET.LOG);
    expect(run(X64.getppid!)).toBe((SECCOMP_RET.TRACE | 7) >>> 0);
    expect(run(X64.open!)).toBe(ERRNO(38));
  });

  test('architectures: foreign ones are killed unless listed; i386 and x32 use their own numbers', () => {
    const profile: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const native = x64(profile);
    expect(native(X64.mkdir!)).toBe(EPERM);
    expect(native(X64.rmdir!)).toBe(SECCOMP_RET.ALLOW);
    expect(native(I386.mkdir!, [], AUDIT_ARCH.i386)).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(native(X32.mkdir!)).toBe(SECCOMP_RET.KILL_PROCESS); // x32 numbers carry bit 30
    expect(native(A64.mkdirat!, [], AUDIT_ARCH.aarch64)).toBe(SECCOMP_RET.KILL_PROCESS);

    const multi = x64({ ...profile, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_PPC64LE'] });
    expect(multi(I386.mkdir!, [], AUDIT_ARCH.i386)).toBe(EPERM);
    expect(multi(X64.mkdir!, [], AUDIT_ARCH.i386)).toBe(SECCOMP_RET.ALLOW); // 83 is not mkdir on i386
    expect(multi(X32.mkdir!)).toBe(EPERM);
    expect(multi(X32.rmdir!)).toBe(SECCOMP_RET.ALLOW);
    expect(multi(A64.mkdirat!, [], AUDIT_ARCH.aarch64)).toBe(SECCOMP_RET.KILL_PROCESS);

    const arm = compileSeccomp({ ...profile, syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }], architectures: ['SCMP_ARCH_ARM'] }, 'arm64');
    expect(runFilter(arm, { nr: A64.mkdirat!, arch: AUDIT_ARCH.aarch64 })).toBe(EPERM);
    expect(runFilter(arm, { nr: X64.mkdirat!, arch: AUDIT_ARCH.aarch64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(arm, { nr: 39, arch: AUDIT_ARCH.arm })).toBe(SECCOMP_RET.KILL_PROCESS); // listed, but no arm table in berth
    expect(runFilter(arm, { nr: A64.mkdirat!, arch: AUDIT_ARCH.x86_64 })).toBe(SECCOMP_RET.KILL_PROCESS);
  });

  describe('argument conditions on 64-bit values (high and low halves)', () => {
    const interesting = [0n, 1n, 5n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x1ffffffffn, 0x200000000n, 0xfffffffffffffn, 0x7fffffffffffffffn, 0xffffffffffffffffn];
    const reference: Record<SeccompArg['op'], (a: bigint, v: bigint, v2: bigint) => boolean> = {
      SCMP_CMP_EQ: (a, v) => a === v,
      SCMP_CMP_NE: (a, v) => a !== v,
      SCMP_CMP_LT: (a, v) => a < v,
      SCMP_CMP_LE: (a, v) => a <= v,
      SCMP_CMP_GT: (a, v) => a > v,
      SCMP_CMP_GE: (a, v) => a >= v,
      SCMP_CMP_MASKED_EQ: (a, v, v2) => (a & v) === v2,
    };
    const values = [5, 0x100000005, 0xffffffff, 0x1ffffffff];
    for (const op of Object.keys(reference) as SeccompArg['op'][]) {
      test(op, () => {
        for (const value of values) {
          const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? value & 0xf : undefined;
          for (const index of [0, 3, 5]) {
            const run = x64({
              defaultAction: 'SCMP_ACT_ALLOW',
              syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index, value, op, ...(valueTwo !== undefined ? { valueTwo } : {}) }] }],
            });
            for (const a of interesting) {
              const args = [0n, 0n, 0n, 0n, 0n, 0n];
              args[index] = a;
              const expected = reference[op](a, BigInt(value), BigInt(valueTwo ?? 0)) ? EPERM : SECCOMP_RET.ALLOW;
              expect({ op, value, index, a: a.toString(16), result: run(X64.ioctl!, args) }).toEqual({ op, value, index, a: a.toString(16), result: expected });
            }
          }
        }
      });
    }

    test('a negative value is the two\'s complement u64; 32-bit ABIs compare only the low half', () => {
      const profile: Seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86'],
        syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: -1, op: 'SCMP_CMP_EQ' }] }],
      };
      const run = x64(profile);
      expect(run(X64.ioctl!, [0n, 0xffffffffffffffffn])).toBe(EPERM);
      expect(run(X64.ioctl!, [0n, 0xffffffffn])).toBe(SECCOMP_RET.ALLOW);
      expect(run(I386.ioctl!, [0n, 0xffffffffn], AUDIT_ARCH.i386)).toBe(EPERM);
    });
  });

  test('conditions of one rule are ANDed; on the same argument they are ORed (runc); several rules, first match wins', () => {
    const run = x64({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
        { names: ['socket'], action: 'SCMP_ACT_LOG' },
        { names: ['socket'], action: 'SCMP_ACT_KILL' },
      ],
    });
    expect(run(X64.socket!, [2n, 1n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.socket!, [2n, 2n])).toBe(SECCOMP_RET.LOG);
    expect(run(X64.socket!, [10n, 1n])).toBe(ERRNO(97));
    expect(run(X64.socket!, [1n])).toBe(SECCOMP_RET.LOG);
    expect(run(X64.personality!, [0n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.personality!, [8n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.personality!, [9n])).toBe(EPERM);
  });

  test('a syscall with a body longer than a conditional jump reaches (255) still compiles and works', () => {
    const args = Array.from({ length: 120 }, (_, i) => ({ names: ['ioctl'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 1, value: 1000 + i, op: 'SCMP_CMP_EQ' as const }] }));
    const run = x64({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [...args, { names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    expect(run(X64.ioctl!, [0n, 1119n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.ioctl!, [0n, 1000n])).toBe(SECCOMP_RET.ALLOW);
    expect(run(X64.ioctl!, [0n, 999n])).toBe(EPERM);
    expect(run(X64.ioctl!, [1n << 32n, 1000n])).toBe(SECCOMP_RET.ALLOW); // arg0 is not compared
    expect(run(X64.read!)).toBe(SECCOMP_RET.ALLOW);
  });

  test('names unknown for the architecture are skipped; syscalls newer than the tables get ENOSYS', () => {
    const run = x64({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['no_such_syscall', 'socketcall', 'read'], action: 'SCMP_ACT_ALLOW' }] });
    expect(run(X64.read!)).toBe(SECCOMP_RET.ALLOW);
    expect(run(Math.max(...Object.values(X64)))).toBe(EPERM);
    expect(run(Math.max(...Object.values(X64)) + 1)).toBe(ERRNO(38));
    expect(run(0x3fffffff)).toBe(ERRNO(38));
    // With a default of ALLOW, unknown syscalls stay allowed.
    expect(x64({ defaultAction: 'SCMP_ACT_ALLOW' })(999)).toBe(SECCOMP_RET.ALLOW);
  });

  test('refusals: unknown action, operator, architecture, bad index, NOTIFY, unsupported host arch', () => {
    const bad = (profile: unknown, code: string, arch = 'x64'): void => {
      expect(() => compileSeccomp(profile as Seccomp, arch)).toThrow(expect.objectContaining({ code }));
    };
    bad({ defaultAction: 'SCMP_ACT_SOMETHING' }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOPE' }] }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] }] }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, 'SPEC_INVALID');
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, 'FEATURE_NOT_SUPPORTED');
    bad({ defaultAction: 'SCMP_ACT_ALLOW' }, 'FEATURE_NOT_SUPPORTED', 'riscv64');
  });

  test('aarch64: its own numbers and audit arch', () => {
    const prog = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] }, 'arm64');
    expect(runFilter(prog, { nr: 34, arch: AUDIT_ARCH.aarch64 })).toBe(EPERM); // mkdirat is 34 on aarch64
    expect(runFilter(prog, { nr: X64.mkdirat!, arch: AUDIT_ARCH.aarch64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(prog, { nr: 34, arch: AUDIT_ARCH.x86_64 })).toBe(SECCOMP_RET.KILL_PROCESS);
  });

  describe('the default profile', () => {
    test('is in defaultSpec(), compiles for x86_64 and aarch64 within the kernel limit', () => {
      expect(defaultSpec().linux?.seccomp).toEqual(DEFAULT_SECCOMP_PROFILE);
      expect(defaultSpec().linux?.seccomp).not.toBe(DEFAULT_SECCOMP_PROFILE);
      for (const arch of ['x64', 'arm64']) expect(compileSeccompProgram(DEFAULT_SECCOMP_PROFILE, arch).length).toBeLessThan(4096);
    });

    test('allows ordinary calls, refuses the dangerous ones with EPERM, clone3 with ENOSYS', () => {
      const run = x64(DEFAULT_SECCOMP_PROFILE);
      for (const name of ['read', 'write', 'openat', 'execve', 'mmap', 'exit_group', 'getuid', 'arch_prctl', 'chroot', 'wait4']) {
        expect({ name, r: run(X64[name]!) }).toEqual({ name, r: SECCOMP_RET.ALLOW });
      }
      for (const name of ['mount', 'umount2', 'pivot_root', 'unshare', 'setns', 'bpf', 'perf_event_open', 'keyctl', 'add_key', 'init_module',
        'finit_module', 'kexec_load', 'reboot', 'swapon', 'acct', 'settimeofday', 'clock_settime', 'syslog', 'open_by_handle_at', 'userfaultfd',
        'io_uring_setup', 'process_vm_readv', 'kcmp', 'quotactl', 'vhangup', 'mbind', 'fanotify_init']) {
        expect({ name, r: run(X64[name]!) }).toEqual({ name, r: EPERM });
      }
      expect(run(X64.clone3!)).toBe(ERRNO(38));
      const CLONE_NEWUSER = 0x10000000n;
      const SIGCHLD = 17n;
      expect(run(X64.clone!, [SIGCHLD | 0x1000000n /* CLONE_CHILD_SETTID */])).toBe(SECCOMP_RET.ALLOW);
      expect(run(X64.clone!, [SIGCHLD | CLONE_NEWUSER])).toBe(EPERM);
      expect(run(X64.socket!, [2n])).toBe(SECCOMP_RET.ALLOW);
      expect(run(X64.socket!, [40n])).toBe(EPERM);
      expect(run(X64.personality!, [0xffffffffn])).toBe(SECCOMP_RET.ALLOW);
      expect(run(X64.personality!, [0x400000n])).toBe(EPERM); // READ_IMPLIES_EXEC
      expect(run(I386.mkdir!, [], AUDIT_ARCH.i386)).toBe(SECCOMP_RET.ALLOW);
      expect(run(I386.mount!, [], AUDIT_ARCH.i386)).toBe(EPERM);
      expect(run(X32.mount!)).toBe(EPERM);
      expect(run(X32.read!)).toBe(SECCOMP_RET.ALLOW);
    });
  });
});

describe('seccompFilterFlags', () => {
  test('maps OCI flag names to the seccomp(2) flag bits and refuses the rest', () => {
    expect(seccompFilterFlags({ defaultAction: 'SCMP_ACT_ALLOW' })).toBe(0);
    expect(seccompFilterFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] })).toBe(5);
    expect(() => seccompFilterFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] })).toThrow(expect.objectContaining({ code: 'SPEC_INVALID' }));
    expect(() => seccompFilterFlags({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' })).toThrow(expect.objectContaining({ code: 'FEATURE_NOT_SUPPORTED' }));
  });
});

describe('every syscall number against a reference evaluation of the profile', () => {
  const refOp = (a: SeccompArg, raw: bigint, bits32: boolean): boolean => {
    const mask = bits32 ? 0xffffffffn : 0xffffffffffffffffn;
    const arg = raw & mask;
    const v = BigInt.asUintN(64, BigInt(a.value)) & mask;
    const v2 = BigInt.asUintN(64, BigInt(a.valueTwo ?? 0)) & mask;
    switch (a.op) {
      case 'SCMP_CMP_EQ': return arg === v;
      case 'SCMP_CMP_NE': return arg !== v;
      case 'SCMP_CMP_LT': return arg < v;
      case 'SCMP_CMP_LE': return arg <= v;
      case 'SCMP_CMP_GT': return arg > v;
      case 'SCMP_CMP_GE': return arg >= v;
      case 'SCMP_CMP_MASKED_EQ': return (arg & v) === v2;
    }
  };
  const action = (name: string, errno: number | undefined): number => {
    switch (name) {
      case 'SCMP_ACT_ALLOW': return SECCOMP_RET.ALLOW;
      case 'SCMP_ACT_ERRNO': return ERRNO(errno ?? 1);
      case 'SCMP_ACT_LOG': return SECCOMP_RET.LOG;
      case 'SCMP_ACT_KILL_PROCESS': return SECCOMP_RET.KILL_PROCESS;
      default: throw new Error(name);
    }
  };
  function reference(profile: Seccomp, table: Record<string, number>, bits32: boolean, nr: number, args: bigint[]): number {
    const names = Object.keys(table).filter((n) => table[n] === nr);
    for (const call of profile.syscalls ?? []) {
      if (!call.names.some((n) => names.includes(n))) continue;
      const conds = call.args ?? [];
      const repeated = new Set(conds.map((c) => c.index)).size !== conds.length;
      const holds = (c: SeccompArg): boolean => refOp(c, args[c.index] ?? 0n, bits32);
      if (conds.length === 0 || (repeated ? conds.some(holds) : conds.every(holds))) return action(call.action, call.errnoRet);
    }
    const def = action(profile.defaultAction, profile.defaultErrnoRet);
    if (def !== SECCOMP_RET.ALLOW && def !== SECCOMP_RET.LOG && nr > Math.max(...Object.values(table))) return ERRNO(38);
    return def;
  }
  let seed = 12345;
  const rand32 = (): bigint => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return BigInt(seed); };
  const argVectors: bigint[][] = [
    [0n, 0n, 0n, 0n, 0n, 0n],
    [40n, 1n, 0n, 0n, 0n, 0n],
    [0x10000011n, 0n, 0n, 0n, 0n, 0n],
    [0xffffffffn, 0x1ffn, 0o777n, 0n, 0n, 0n],
    [0x100000000n, 0xffffffffffffffffn, 7n, 0n, 0n, 0n],
    ...Array.from({ length: 4 }, () => Array.from({ length: 6 }, () => (rand32() << 32n) | rand32())),
  ];
  const synthetic: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 13,
    architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write', 'close', 'mmap', 'openat', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 3, op: 'SCMP_CMP_LE' }, { index: 2, value: 7, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 7 }] },
      { names: ['fcntl', 'fcntl64'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 1, value: 0x100000000, op: 'SCMP_CMP_GE' }] },
      { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 15, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill', 'fcntl'], action: 'SCMP_ACT_ALLOW' },
      ...Object.keys(X64).filter((_n, i) => i % 7 === 3).map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 2, value: 100, op: 'SCMP_CMP_GT' as const }] })),
    ],
  };
  const abis = [
    { name: 'x86_64', table: X64, arch: AUDIT_ARCH.x86_64, bits32: false, range: [0, 520] },
    { name: 'x32', table: X32, arch: AUDIT_ARCH.x86_64, bits32: false, range: [0x40000000, 0x40000000 + 560] },
    { name: 'i386', table: I386, arch: AUDIT_ARCH.i386, bits32: true, range: [0, 520] },
  ] as const;
  for (const [label, profile] of [['default profile', DEFAULT_SECCOMP_PROFILE], ['synthetic profile', synthetic]] as const) {
    for (const abi of abis) {
      test(`${label}, ${abi.name}: numbers ${abi.range[0]}..${abi.range[1]}, ${argVectors.length} argument vectors`, () => {
        const prog = compileSeccomp(profile, 'x64');
        const mismatches: string[] = [];
        for (let nr = abi.range[0]; nr <= abi.range[1]; nr++) {
          for (const args of argVectors) {
            const got = runFilter(prog, { nr, arch: abi.arch, args });
            const want = reference(profile, abi.table as Record<string, number>, abi.bits32, nr, args);
            if (got !== want) mismatches.push(`nr ${nr} args ${args.map((a) => a.toString(16)).join(',')}: got ${got.toString(16)} want ${want.toString(16)}`);
          }
        }
        expect(mismatches.slice(0, 10)).toEqual([]);
      });
    }
  }
});
