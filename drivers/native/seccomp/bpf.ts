/**
 * Classic BPF as seccomp uses it: `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`,
 * 8 bytes per instruction, little-endian. Only the opcodes a seccomp filter needs.
 */
export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(seccomp_data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGT_K: 0x25, // unsigned A > k
  JMP_JGE_K: 0x35, // unsigned A >= k
  RET_K: 0x06, // return k
} as const;

/** Offsets in `struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }`. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  /** Low 32 bits of args[i] on a little-endian machine. */
  argLow: (i: number): number => 16 + 8 * i,
  /** High 32 bits of args[i] on a little-endian machine. */
  argHigh: (i: number): number => 16 + 8 * i + 4,
} as const;

export const BPF_MAXINSNS = 4096;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function encodeFilter(program: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function decodeFilter(buf: Buffer): SockFilter[] {
  if (buf.length % 8 !== 0) throw new Error(`a BPF program is a multiple of 8 bytes, got ${buf.length}`);
  const out: SockFilter[] = [];
  for (let off = 0; off < buf.length; off += 8) {
    out.push({ code: buf.readUInt16LE(off), jt: buf.readUInt8(off + 2), jf: buf.readUInt8(off + 3), k: buf.readUInt32LE(off + 4) });
  }
  return out;
}
