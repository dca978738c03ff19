/**
 * Architectures: the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch, the syscall table
 * for each, and which OCI `SCMP_ARCH_*` names a process of the native architecture can use.
 */
import { BerthError } from '../../../core/errors/berth-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';
import { X86_64_SYSCALLS } from './syscall-tables/x86_64';
import { I386_SYSCALLS } from './syscall-tables/i386';
import { X32_SYSCALLS } from './syscall-tables/x32';
import { AARCH64_SYSCALLS } from './syscall-tables/aarch64';

export type NativeArch = 'x86_64' | 'aarch64';
/** An ABI a native process can call the kernel with. */
export type SeccompAbi = 'x86_64' | 'x32' | 'i386' | 'aarch64' | 'arm';

export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  x32: 0xc000003e, // x32 shares x86_64's audit arch; its syscall numbers carry bit 30
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const satisfies Record<SeccompAbi, number>;

export const X32_SYSCALL_BIT = 0x40000000;

export interface AbiInfo {
  abi: SeccompAbi;
  auditArch: number;
  /** Arguments are 32-bit (only the low halves are compared). */
  bits32: boolean;
  /** Undefined when berth has no table: the ABI is then killed even when listed (see docs). */
  table: Readonly<Record<string, number>> | undefined;
}

export const ABIS: Record<SeccompAbi, AbiInfo> = {
  x86_64: { abi: 'x86_64', auditArch: AUDIT_ARCH.x86_64, bits32: false, table: X86_64_SYSCALLS },
  x32: { abi: 'x32', auditArch: AUDIT_ARCH.x32, bits32: false, table: X32_SYSCALLS },
  i386: { abi: 'i386', auditArch: AUDIT_ARCH.i386, bits32: true, table: I386_SYSCALLS },
  aarch64: { abi: 'aarch64', auditArch: AUDIT_ARCH.aarch64, bits32: false, table: AARCH64_SYSCALLS },
  arm: { abi: 'arm', auditArch: AUDIT_ARCH.arm, bits32: true, table: undefined },
};

/** Which ABIs a process of each native architecture can use (the others never reach its filter). */
export const COMPAT_ABIS: Record<NativeArch, readonly SeccompAbi[]> = {
  x86_64: ['x86_64', 'x32', 'i386'],
  aarch64: ['aarch64', 'arm'],
};

/** Every OCI architecture name; those outside the native family are accepted and have no effect. */
const OCI_ARCHES: Record<string, SeccompAbi | null> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_MIPS: null, SCMP_ARCH_MIPS64: null, SCMP_ARCH_MIPS64N32: null, SCMP_ARCH_MIPSEL: null,
  SCMP_ARCH_MIPSEL64: null, SCMP_ARCH_MIPSEL64N32: null, SCMP_ARCH_PPC: null, SCMP_ARCH_PPC64: null,
  SCMP_ARCH_PPC64LE: null, SCMP_ARCH_S390: null, SCMP_ARCH_S390X: null, SCMP_ARCH_PARISC: null,
  SCMP_ARCH_PARISC64: null, SCMP_ARCH_RISCV64: null, SCMP_ARCH_LOONGARCH64: null, SCMP_ARCH_M68K: null,
  SCMP_ARCH_SH: null, SCMP_ARCH_SHEB: null,
};

export function nativeArch(arch: string = process.arch): NativeArch {
  switch (arch) {
    case 'x64':
    case 'x86_64':
    case 'amd64':
    case 'SCMP_ARCH_X86_64':
      return 'x86_64';
    case 'arm64':
    case 'aarch64':
    case 'SCMP_ARCH_AARCH64':
      return 'aarch64';
    default:
      throw new BerthError('FEATURE_NOT_SUPPORTED', `seccomp: architecture "${arch}" is not supported by berth's seccomp compiler (x86_64 and aarch64 are)`);
  }
}

/** The ABIs the filter lets through: the native one always, plus the listed ones of its family. */
export function allowedAbis(native: NativeArch, architectures: readonly string[] | undefined): SeccompAbi[] {
  const out: SeccompAbi[] = [native];
  (architectures ?? []).forEach((name, i) => {
    if (!(name in OCI_ARCHES)) {
      throw new SpecInvalidError([{ path: `linux.seccomp.architectures[${i}]`, message: `unknown architecture "${name}"` }]);
    }
    const abi = OCI_ARCHES[name];
    if (abi && COMPAT_ABIS[native].includes(abi) && !out.includes(abi)) out.push(abi);
  });
  return out;
}
