/**
 * A tiny classic-BPF interpreter for seccomp programs (test helper): runs a decoded program on a
 * `struct seccomp_data` and returns the filter's 32-bit result. Fails on anything a seccomp
 * program may not do (unknown opcodes, jumps out of the program, falling off the end).
 */
import { BPF, decodeFilter, type SockFilter } from '../../../../drivers/native/seccomp/bpf';

export interface SeccompData {
  nr: number;
  arch: number;
  args?: readonly bigint[];
}

function load(data: SeccompData, offset: number): number {
  if (offset === 0) return data.nr >>> 0;
  if (offset === 4) return data.arch >>> 0;
  if (offset === 8 || offset === 12) return 0; // instruction pointer
  const i = Math.floor((offset - 16) / 8);
  if (offset < 16 || i > 5 || offset % 4 !== 0) throw new Error(`bad load offset ${offset}`);
  const v = BigInt.asUintN(64, data.args?.[i] ?? 0n);
  return Number((offset - 16) % 8 === 0 ? v & 0xffffffffn : v >> 32n);
}

export function runFilter(program: Buffer | readonly SockFilter[], data: SeccompData): number {
  const insns = Buffer.isBuffer(program) ? decodeFilter(program) : program;
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps < 100000; steps++) {
    const ins = insns[pc];
    if (!ins) throw new Error(`fell off the program at ${pc}`);
    const next = (off: number): number => {
      const to = pc + 1 + off;
      if (to >= insns.length) throw new Error(`jump out of the program from ${pc}`);
      return to;
    };
    switch (ins.code) {
      case BPF.LD_W_ABS: a = load(data, ins.k); pc++; break;
      case BPF.ALU_AND_K: a = (a & ins.k) >>> 0; pc++; break;
      case BPF.JMP_JA: pc = next(ins.k); break;
      case BPF.JMP_JEQ_K: pc = next(a === ins.k >>> 0 ? ins.jt : ins.jf); break;
      case BPF.JMP_JGT_K: pc = next(a > ins.k >>> 0 ? ins.jt : ins.jf); break;
      case BPF.JMP_JGE_K: pc = next(a >= ins.k >>> 0 ? ins.jt : ins.jf); break;
      case BPF.RET_K: return ins.k >>> 0;
      default: throw new Error(`unknown opcode 0x${ins.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('too many steps');
}
