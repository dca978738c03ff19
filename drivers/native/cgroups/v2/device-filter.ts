/**
 * The cgroup v2 device allow-list as an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), generated in
 * TypeScript like runc's devicefilter. v2 has no devices.allow/deny files: the kernel runs this
 * program on every device access of the cgroup's processes (open, mknod) with
 * `struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type *\/; u32 major; u32 minor; }`
 * and allows the access when it returns 1.
 *
 * Rules (the spec's, then the OCI default devices, as on v1) are checked from the last to the
 * first: the last rule that matches decides, like writing them one by one to devices.allow/deny.
 * A rule matches when its type (a = any), major and minor (undefined = any) match and the requested
 * access is a subset of the rule's access. No rule matching: allowed (a v1 cgroup under the root
 * starts from "allow all"; lists start with a deny-all rule to change that).
 *
 * Loading and attaching need bpf(2), i.e. native code: the caller loads the bytes with
 * BPF_PROG_LOAD (prog_type BPF_PROG_TYPE_CGROUP_DEVICE, any license string) and attaches the
 * program fd to the cgroup directory fd with BPF_PROG_ATTACH (attach_type BPF_CGROUP_DEVICE,
 * flags BPF_F_ALLOW_MULTI) before the container's first process runs. See docs/native-cgroups.md.
 */
import type { DeviceCgroupRule } from '../../../../core/spec/oci-spec';
import { SpecInvalidError } from '../../../../core/errors/spec-invalid-error';
import { DEFAULT_DEVICE_RULES } from '../v1/v1-devices';

/** One eBPF instruction: `struct bpf_insn { u8 code; u8 dst:4, src:4; s16 off; s32 imm; }`. */
export interface EbpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const EBPF = {
  LDX_MEM_W: 0x61, // dst = *(u32 *)(src + off)
  ALU32_AND_K: 0x54,
  ALU32_RSH_K: 0x74,
  ALU32_MOV_K: 0xb4,
  ALU32_MOV_X: 0xbc,
  JMP_JNE_K: 0x55, // if dst != imm goto pc + 1 + off
  JMP_JNE_X: 0x5d, // if dst != src goto pc + 1 + off
  EXIT: 0x95,
} as const;

const DEVCG_DEV_BLOCK = 1;
const DEVCG_DEV_CHAR = 2;
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

const insn = (code: number, dst: number, src: number, off: number, imm: number): EbpfInsn => ({ code, dst, src, off, imm });

function accessMask(access: string | undefined, field: string): number {
  let mask = 0;
  for (const c of access || 'rwm') {
    const bit = ACCESS_BITS[c];
    if (bit === undefined) throw new SpecInvalidError([{ path: field, message: `device access "${access}" may only contain r, w and m` }]);
    mask |= bit;
  }
  return mask;
}

/** The program's instructions for `rules` (the OCI default devices are appended). */
export function deviceFilterProgram(rules: readonly DeviceCgroupRule[]): EbpfInsn[] {
  const all = [...rules, ...DEFAULT_DEVICE_RULES];
  // r1 = ctx; r2 = type, r3 = access, r4 = major, r5 = minor
  const out: EbpfInsn[] = [
    insn(EBPF.LDX_MEM_W, 2, 1, 0, 0),
    insn(EBPF.ALU32_AND_K, 2, 0, 0, 0xffff),
    insn(EBPF.LDX_MEM_W, 3, 1, 0, 0),
    insn(EBPF.ALU32_RSH_K, 3, 0, 0, 16),
    insn(EBPF.LDX_MEM_W, 4, 1, 4, 0),
    insn(EBPF.LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    const field = i < rules.length ? `linux.resources.devices[${i}]` : 'default device rules';
    const checks: ((skip: number) => EbpfInsn[])[] = [];
    const type = r.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new SpecInvalidError([{ path: `${field}.type`, message: `must be a, b or c, got "${type}"` }]);
    if (type !== 'a') checks.push((skip) => [insn(EBPF.JMP_JNE_K, 2, 0, skip, type === 'b' ? DEVCG_DEV_BLOCK : DEVCG_DEV_CHAR)]);
    const mask = accessMask(r.access, `${field}.access`);
    if (mask !== 7) {
      // (access & mask) != access: the request asks for more than the rule covers.
      checks.push((skip) => [insn(EBPF.ALU32_MOV_X, 1, 3, 0, 0), insn(EBPF.ALU32_AND_K, 1, 0, 0, mask), insn(EBPF.JMP_JNE_X, 1, 3, skip, 0)]);
    }
    if (type !== 'a' && r.major !== undefined && r.major >= 0) checks.push((skip) => [insn(EBPF.JMP_JNE_K, 4, 0, skip, r.major!)]);
    if (type !== 'a' && r.minor !== undefined && r.minor >= 0) checks.push((skip) => [insn(EBPF.JMP_JNE_K, 5, 0, skip, r.minor!)]);
    // Lay out the checks; each jumps past the rule's end (the 2-instruction verdict) on mismatch.
    const sizes = checks.map((c) => c(0).length);
    let remaining = sizes.reduce((a, b) => a + b, 0);
    for (let c = 0; c < checks.length; c++) {
      remaining -= sizes[c]!;
      const code = checks[c]!(0);
      // the jump is the last instruction of each check: skip the checks after it and the verdict
      code[code.length - 1] = { ...code[code.length - 1]!, off: remaining + 2 };
      out.push(...code);
    }
    out.push(insn(EBPF.ALU32_MOV_K, 0, 0, 0, r.allow ? 1 : 0), insn(EBPF.EXIT, 0, 0, 0, 0));
    // A rule without checks matches everything: the rest would be unreachable (the verifier refuses that).
    if (checks.length === 0) return out;
  }
  out.push(insn(EBPF.ALU32_MOV_K, 0, 0, 0, 1), insn(EBPF.EXIT, 0, 0, 0, 0));
  return out;
}

export function encodeEbpf(program: readonly EbpfInsn[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8((p.dst & 0xf) | ((p.src & 0xf) << 4), i * 8 + 1);
    buf.writeInt16LE(p.off, i * 8 + 2);
    buf.writeInt32LE(p.imm | 0, i * 8 + 4);
  });
  return buf;
}

/** `struct bpf_insn[]` bytes of the device filter for `rules`, ready for BPF_PROG_LOAD. */
export function compileDeviceFilter(rules: readonly DeviceCgroupRule[]): Buffer {
  return encodeEbpf(deviceFilterProgram(rules));
}
