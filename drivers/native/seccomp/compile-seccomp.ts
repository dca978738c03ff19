/**
 * Compile an OCI `linux.seccomp` section to a classic BPF program for SECCOMP_SET_MODE_FILTER,
 * in TypeScript (no libseccomp). Layout:
 *
 *   load arch; for each allowed ABI: if arch == AUDIT_ARCH_x goto block_x;  return KILL_PROCESS
 *   block_x86_64: load nr; if nr >= X32 bit goto block_x32 (or KILL_PROCESS when x32 is not listed)
 *   block_<abi>:  if nr > highest syscall berth knows for this ABI: return ERRNO(ENOSYS)
 *                 binary search on nr over the profile's syscalls (sorted), down to short chains of
 *                   if nr == N { for each rule: if all its conditions hold return its action;
 *                                return the default action }
 *                 return the default action
 *
 * Semantics (see docs/native-seccomp.md):
 * - Rules of one syscall are tried in profile order; the first whose conditions all hold wins.
 * - Conditions of one rule are ANDed; when one rule has several conditions on the same argument
 *   they are ORed instead (split into one rule each), as runc does for libseccomp.
 * - 64-bit arguments are compared as high and low 32-bit halves (unsigned); on 32-bit ABIs (i386,
 *   arm) only the low half. SCMP_CMP_MASKED_EQ is `(arg & value) == valueTwo`.
 * - Syscall names unknown for an ABI are skipped for that ABI (as runc with libseccomp does);
 *   an unknown action, operator or architecture name is refused (SpecInvalidError).
 * - A foreign architecture is killed (SECCOMP_RET_KILL_PROCESS) unless listed in `architectures`;
 *   a listed compatible ABI without a syscall table in berth (arm on aarch64) is killed too.
 * - Syscalls newer than berth's tables get ENOSYS (not the default action) unless the default
 *   action is ALLOW or LOG, so that libc falls back to older calls (runc's stub does the same).
 */
import type { Seccomp, SeccompArg, SeccompSyscall } from '../../../core/spec/oci-spec';
import { BerthError } from '../../../core/errors/berth-error';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';
import { BPF, BPF_MAXINSNS, SECCOMP_DATA, encodeFilter, type SockFilter } from './bpf';
import { ENOSYS, SECCOMP_RET, actionValue } from './seccomp-actions';
import { ABIS, X32_SYSCALL_BIT, allowedAbis, nativeArch, type SeccompAbi } from './seccomp-arch';

/** A condition on one argument, with the value split into 32-bit halves. */
interface Condition {
  index: number;
  op: SeccompArg['op'];
  hi: number;
  lo: number;
  hi2: number;
  lo2: number;
}

interface Rule {
  action: number;
  conditions: Condition[];
}

const OPS: readonly SeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

/** A jump target resolved after layout. */
class Label {
  pos = -1;
}
type Target = Label | number; // a label, or a literal relative offset
interface Insn {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
}

const ld = (offset: number): Insn => ({ code: BPF.LD_W_ABS, k: offset });
const ret = (value: number): Insn => ({ code: BPF.RET_K, k: value >>> 0 });
const jmp = (code: number, k: number, jt: Target, jf: Target): Insn => ({ code, k: k >>> 0, jt, jf });
const mark = (label: Label): Insn => ({ code: -1, k: 0, jt: label }); // a label position, removed at layout

function split64(value: number, field: string): { hi: number; lo: number } {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new SpecInvalidError([{ path: field, message: `must be an integer, got ${JSON.stringify(value)}` }]);
  }
  const v = BigInt.asUintN(64, BigInt(value));
  return { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) };
}

function parseRules(call: SeccompSyscall, field: string): Rule[] {
  const action = actionValue(call.action, call.errnoRet, `${field}.action`);
  const conditions = (call.args ?? []).map((a, j): Condition => {
    const f = `${field}.args[${j}]`;
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SpecInvalidError([{ path: `${f}.index`, message: 'must be 0..5' }]);
    if (!OPS.includes(a.op)) throw new SpecInvalidError([{ path: `${f}.op`, message: `unknown operator "${a.op}" (one of ${OPS.join(', ')})` }]);
    const v = split64(a.value, `${f}.value`);
    const v2 = a.op === 'SCMP_CMP_MASKED_EQ' ? split64(a.valueTwo ?? 0, `${f}.valueTwo`) : { hi: 0, lo: 0 };
    return { index: a.index, op: a.op, hi: v.hi, lo: v.lo, hi2: v2.hi, lo2: v2.lo };
  });
  const counts = new Map<number, number>();
  for (const c of conditions) counts.set(c.index, (counts.get(c.index) ?? 0) + 1);
  if ([...counts.values()].some((n) => n > 1)) return conditions.map((c) => ({ action, conditions: [c] }));
  return [{ action, conditions }];
}

/** Code for one condition: falls through when it holds, jumps to `fail` when not. */
function conditionCode(c: Condition, bits32: boolean, fail: Label): Insn[] {
  const pass = new Label();
  const loOff = SECCOMP_DATA.argLow(c.index);
  const hiOff = SECCOMP_DATA.argHigh(c.index);
  const out: Insn[] = [];
  // The high half first (skipped on 32-bit ABIs), then the low half decides.
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JEQ_K, c.hi, 0, fail));
      out.push(ld(loOff), jmp(BPF.JMP_JEQ_K, c.lo, 0, fail));
      break;
    case 'SCMP_CMP_NE':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JEQ_K, c.hi, 0, pass));
      out.push(ld(loOff), jmp(BPF.JMP_JEQ_K, c.lo, fail, 0));
      break;
    case 'SCMP_CMP_GT':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JGT_K, c.hi, pass, 0), jmp(BPF.JMP_JEQ_K, c.hi, 0, fail));
      out.push(ld(loOff), jmp(BPF.JMP_JGT_K, c.lo, 0, fail));
      break;
    case 'SCMP_CMP_GE':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JGT_K, c.hi, pass, 0), jmp(BPF.JMP_JEQ_K, c.hi, 0, fail));
      out.push(ld(loOff), jmp(BPF.JMP_JGE_K, c.lo, 0, fail));
      break;
    case 'SCMP_CMP_LT':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JGT_K, c.hi, fail, 0), jmp(BPF.JMP_JEQ_K, c.hi, 0, pass));
      out.push(ld(loOff), jmp(BPF.JMP_JGE_K, c.lo, fail, 0));
      break;
    case 'SCMP_CMP_LE':
      if (!bits32) out.push(ld(hiOff), jmp(BPF.JMP_JGT_K, c.hi, fail, 0), jmp(BPF.JMP_JEQ_K, c.hi, 0, pass));
      out.push(ld(loOff), jmp(BPF.JMP_JGT_K, c.lo, fail, 0));
      break;
    case 'SCMP_CMP_MASKED_EQ':
      if (!bits32) out.push(ld(hiOff), { code: BPF.ALU_AND_K, k: c.hi }, jmp(BPF.JMP_JEQ_K, c.hi2, 0, fail));
      out.push(ld(loOff), { code: BPF.ALU_AND_K, k: c.lo }, jmp(BPF.JMP_JEQ_K, c.lo2, 0, fail));
      break;
  }
  out.push(mark(pass));
  return out;
}

/** The body run once `nr` matched: each rule in order, then the default action. Always returns. */
function syscallBody(rules: readonly Rule[], bits32: boolean, defaultAction: number): Insn[] {
  const out: Insn[] = [];
  for (const rule of rules) {
    if (rule.conditions.length === 0) {
      out.push(ret(rule.action));
      return out; // later rules for this syscall can never match
    }
    const next = new Label();
    for (const c of rule.conditions) out.push(...conditionCode(c, bits32, next));
    out.push(ret(rule.action), mark(next));
  }
  out.push(ret(defaultAction));
  return out;
}

/** Resolve labels into relative offsets and return the final instructions (layout of one body or program). */
function layout(code: readonly Insn[]): SockFilter[] {
  const real: Insn[] = [];
  for (const insn of code) {
    if (insn.code === -1) (insn.jt as Label).pos = real.length;
    else real.push(insn);
  }
  return real.map((insn, pos) => {
    const rel = (t: Target | undefined, what: string): number => {
      if (t === undefined) return 0;
      const off = t instanceof Label ? t.pos - pos - 1 : t;
      if (t instanceof Label && t.pos < 0) throw new BerthError('INTERNAL', 'seccomp compiler: unplaced label');
      if (off < 0) throw new BerthError('INTERNAL', `seccomp compiler: backward ${what} jump`);
      return off;
    };
    if (insn.code === BPF.JMP_JA) return { code: insn.code, jt: 0, jf: 0, k: rel(insn.jt, 'ja') };
    const jt = rel(insn.jt, 'jt');
    const jf = rel(insn.jf, 'jf');
    if (jt > 255 || jf > 255) throw new BerthError('INTERNAL', 'seccomp compiler: conditional jump out of range');
    return { code: insn.code, jt, jf, k: insn.k };
  });
}

/** Per-syscall rules for one ABI, in order of first appearance; names unknown to the ABI are skipped. */
function rulesForAbi(abi: SeccompAbi, calls: readonly { names: string[]; rules: Rule[] }[]): Map<number, Rule[]> {
  const table = ABIS[abi].table!;
  const byNr = new Map<number, Rule[]>();
  for (const call of calls) {
    for (const name of call.names) {
      const nr = table[name];
      if (nr === undefined) continue;
      const list = byNr.get(nr) ?? [];
      list.push(...call.rules);
      byNr.set(nr, list);
    }
  }
  return byNr;
}

/** Syscalls per leaf of the search tree: below this a linear chain is cheaper than more levels. */
const LEAF_SIZE = 6;

/** `if nr == N { body }` for each entry, then the default action. */
function linearChain(entries: readonly (readonly [number, Rule[]])[], bits32: boolean, defaultAction: number): Insn[] {
  const out: Insn[] = [];
  for (const [nr, rules] of entries) {
    const body = layout(syscallBody(rules, bits32, defaultAction));
    const bodyInsns: Insn[] = body.map((b) => ({ code: b.code, k: b.k, jt: b.jt, jf: b.jf }));
    if (body.length <= 255) {
      out.push(jmp(BPF.JMP_JEQ_K, nr, 0, body.length), ...bodyInsns);
    } else {
      out.push(jmp(BPF.JMP_JEQ_K, nr, 1, 0), { code: BPF.JMP_JA, k: 0, jt: body.length }, ...bodyInsns);
    }
  }
  out.push(ret(defaultAction));
  return out;
}

/** A binary search on the syscall number over sorted entries (a few comparisons instead of hundreds). */
function searchTree(entries: readonly (readonly [number, Rule[]])[], bits32: boolean, defaultAction: number): Insn[] {
  if (entries.length <= LEAF_SIZE) return linearChain(entries, bits32, defaultAction);
  const mid = Math.floor(entries.length / 2);
  const upper = new Label();
  return [
    jmp(BPF.JMP_JGE_K, entries[mid]![0], 0, 1),
    { code: BPF.JMP_JA, k: 0, jt: upper },
    ...searchTree(entries.slice(0, mid), bits32, defaultAction),
    mark(upper),
    ...searchTree(entries.slice(mid), bits32, defaultAction),
  ];
}

/** Code for one ABI block; A holds the syscall number on entry. Always returns. */
function abiBlock(abi: SeccompAbi, byNr: Map<number, Rule[]>, defaultAction: number, enosysStub: boolean): Insn[] {
  const out: Insn[] = [];
  if (enosysStub) {
    const highest = Math.max(...Object.values(ABIS[abi].table!));
    out.push(jmp(BPF.JMP_JGT_K, highest, 0, 1), ret(SECCOMP_RET.ERRNO | ENOSYS));
  }
  const entries = [...byNr].sort((a, b) => a[0] - b[0]);
  out.push(...searchTree(entries, ABIS[abi].bits32, defaultAction));
  return out;
}

/** The program as instructions (compileSeccomp encodes them). */
export function compileSeccompProgram(profile: Seccomp, arch: string = process.arch): SockFilter[] {
  const native = nativeArch(arch);
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet, 'linux.seccomp.defaultAction');
  const calls = (profile.syscalls ?? []).map((call, i) => {
    const field = `linux.seccomp.syscalls[${i}]`;
    if (!Array.isArray(call.names) || call.names.length === 0 || call.names.some((n) => typeof n !== 'string' || n === '')) {
      throw new SpecInvalidError([{ path: `${field}.names`, message: 'must be a non-empty list of syscall names' }]);
    }
    return { names: call.names, rules: parseRules(call, field) };
  });
  const enosysStub = defaultAction !== SECCOMP_RET.ALLOW && defaultAction !== SECCOMP_RET.LOG;
  const abis = allowedAbis(native, profile.architectures);
  const kill = ret(SECCOMP_RET.KILL_PROCESS);

  const code: Insn[] = [ld(SECCOMP_DATA.arch)];
  const blocks: { abi: SeccompAbi; label: Label }[] = [];
  // x32 shares x86_64's audit arch: it is dispatched inside the x86_64 block.
  for (const abi of abis.filter((a) => a !== 'x32')) {
    const label = new Label();
    blocks.push({ abi, label });
    code.push(jmp(BPF.JMP_JEQ_K, ABIS[abi].auditArch, 0, 1), { code: BPF.JMP_JA, k: 0, jt: label });
  }
  code.push(kill);
  for (const { abi, label } of blocks) {
    code.push(mark(label), ld(SECCOMP_DATA.nr));
    if (!ABIS[abi].table) {
      code.push(kill); // listed, but berth has no syscall table for it
      continue;
    }
    if (abi === 'x86_64') {
      const x32 = new Label();
      code.push(jmp(BPF.JMP_JGE_K, X32_SYSCALL_BIT, 0, 1), { code: BPF.JMP_JA, k: 0, jt: x32 });
      code.push(...abiBlock('x86_64', rulesForAbi('x86_64', calls), defaultAction, enosysStub));
      code.push(mark(x32));
      if (abis.includes('x32')) code.push(...abiBlock('x32', rulesForAbi('x32', calls), defaultAction, enosysStub));
      else code.push(kill);
    } else {
      code.push(...abiBlock(abi, rulesForAbi(abi, calls), defaultAction, enosysStub));
    }
  }
  const program = layout(code);
  if (program.length > BPF_MAXINSNS) {
    throw new BerthError('FEATURE_NOT_SUPPORTED', `linux.seccomp: the compiled filter has ${program.length} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  return program;
}

/** struct sock_filter[] bytes (8 bytes each, little-endian), ready for SECCOMP_SET_MODE_FILTER. */
export function compileSeccomp(profile: Seccomp, arch?: string): Buffer {
  return encodeFilter(compileSeccompProgram(profile, arch));
}
