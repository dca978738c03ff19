/**
 * The cgroup v2 device filter (eBPF): run with a small interpreter against a reference of
 * "last matching rule wins", and for real: a gcc-built harness loads it with BPF_PROG_LOAD,
 * attaches it to a fresh cgroup2 directory (this host's hybrid /sys/fs/cgroup/unified, or the
 * root on a v2 host), moves itself in and execs busybox.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { DeviceCgroupRule } from '../../../../core/spec/oci-spec';
import { EBPF, compileDeviceFilter, deviceFilterProgram, type EbpfInsn } from '../../../../drivers/native/cgroups/v2/device-filter';
import { DEFAULT_DEVICE_RULES } from '../../../../drivers/native/cgroups/v1/v1-devices';
import { testRootfs } from '../../../helpers/busybox-fixture';

const ACC = { m: 1, r: 2, w: 4 } as const;
type Ctx = { type: 1 | 2; access: number; major: number; minor: number };

function runEbpf(program: readonly EbpfInsn[], ctx: Ctx): number {
  const regs = new Array<number>(11).fill(0);
  const mem = [(ctx.access << 16) | ctx.type, ctx.major, ctx.minor];
  let pc = 0;
  for (let steps = 0; steps < 10000; steps++) {
    const i = program[pc];
    if (!i) throw new Error(`fell off at ${pc}`);
    switch (i.code) {
      case EBPF.LDX_MEM_W:
        if (i.src !== 1 || i.off % 4 !== 0 || i.off > 8) throw new Error('bad load');
        regs[i.dst] = mem[i.off / 4]! >>> 0; pc++; break;
      case EBPF.ALU32_AND_K: regs[i.dst] = (regs[i.dst]! & i.imm) >>> 0; pc++; break;
      case EBPF.ALU32_RSH_K: regs[i.dst] = regs[i.dst]! >>> i.imm; pc++; break;
      case EBPF.ALU32_MOV_K: regs[i.dst] = i.imm >>> 0; pc++; break;
      case EBPF.ALU32_MOV_X: regs[i.dst] = regs[i.src]!; pc++; break;
      case EBPF.JMP_JNE_K: pc += 1 + (regs[i.dst] !== i.imm >>> 0 ? i.off : 0); break;
      case EBPF.JMP_JNE_X: pc += 1 + (regs[i.dst] !== regs[i.src] ? i.off : 0); break;
      case EBPF.EXIT: return regs[0]!;
      default: throw new Error(`opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error('too many steps');
}

/** The reference: the last rule that matches decides; none: allowed. */
function reference(rules: readonly DeviceCgroupRule[], ctx: Ctx): number {
  const all = [...rules, ...DEFAULT_DEVICE_RULES];
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    const type = r.type ?? 'a';
    if (type !== 'a' && (type === 'b' ? 1 : 2) !== ctx.type) continue;
    const mask = [...(r.access || 'rwm')].reduce((m, c) => m | ACC[c as 'r'], 0);
    if ((ctx.access & mask) !== ctx.access) continue;
    if (type !== 'a' && r.major !== undefined && r.major !== ctx.major) continue;
    if (type !== 'a' && r.minor !== undefined && r.minor !== ctx.minor) continue;
    return r.allow ? 1 : 0;
  }
  return 1;
}

describe('device filter program', () => {
  const ruleSets: DeviceCgroupRule[][] = [
    [],
    [{ allow: false, access: 'rwm' }],
    [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }, { allow: true, type: 'c', major: 10, access: 'rw' }],
    [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'w' }],
    [{ allow: false, type: 'b', access: 'm' }],
  ];
  const contexts: Ctx[] = [];
  for (const type of [1, 2] as const) {
    for (const access of [1, 2, 4, 6, 7]) for (const [major, minor] of [[1, 3], [1, 9], [1, 11], [8, 0], [8, 1], [10, 200], [136, 4], [5, 2]]) contexts.push({ type, access, major: major!, minor: minor! });
  }
  test.each(ruleSets.map((r, i) => [i, r] as const))('rule set %i decides like "last match wins" for every sample access', (_i, rules) => {
    const program = deviceFilterProgram(rules);
    for (const ctx of contexts) expect({ ctx, verdict: runEbpf(program, ctx) }).toEqual({ ctx, verdict: reference(rules, ctx) });
  });

  test('deny-all plus defaults: /dev/null rw allowed, /dev/kmsg and block devices denied, mknod of any char allowed', () => {
    const p = deviceFilterProgram([{ allow: false, access: 'rwm' }]);
    expect(runEbpf(p, { type: 2, access: 6, major: 1, minor: 3 })).toBe(1);
    expect(runEbpf(p, { type: 2, access: 2, major: 1, minor: 11 })).toBe(0);
    expect(runEbpf(p, { type: 1, access: 2, major: 8, minor: 0 })).toBe(0);
    expect(runEbpf(p, { type: 2, access: 1, major: 1, minor: 11 })).toBe(1);
    expect(compileDeviceFilter([]).length).toBe(deviceFilterProgram([]).length * 8);
  });

  test('bad access letters and types are refused', () => {
    expect(() => deviceFilterProgram([{ allow: true, type: 'c', access: 'rx' }])).toThrow(expect.objectContaining({ code: 'SPEC_INVALID' }));
    expect(() => deviceFilterProgram([{ allow: true, type: 'z' as 'c', access: 'r' }])).toThrow(expect.objectContaining({ code: 'SPEC_INVALID' }));
  });
});

const HARNESS_C = `
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s PROGRAM CGROUP_DIR CMD [ARG...]\\n", argv[0]); return 2; }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror("open program"); return 125; }
  void *insns = malloc(st.st_size);
  if (!insns || read(fd, insns, st.st_size) != st.st_size) { perror("read program"); return 125; }
  static char log[1 << 16];
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = st.st_size / 8;
  load.license = (uint64_t)(uintptr_t)"Apache";
  load.log_buf = (uint64_t)(uintptr_t)log;
  load.log_size = sizeof log;
  load.log_level = 1;
  int prog = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (prog < 0) { perror("BPF_PROG_LOAD"); fprintf(stderr, "%s\\n", log); return 125; }
  int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (cg < 0) { perror("open cgroup"); return 125; }
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = cg;
  attach.attach_bpf_fd = prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0) { perror("BPF_PROG_ATTACH"); return 125; }
  char procs[4096], pid[32];
  snprintf(procs, sizeof procs, "%s/cgroup.procs", argv[2]);
  int p = open(procs, O_WRONLY);
  int n = snprintf(pid, sizeof pid, "%d", getpid());
  if (p < 0 || write(p, pid, n) != n) { perror("join cgroup"); return 125; }
  close(p); close(cg); close(prog); close(fd);
  execv(argv[3], argv + 3);
  perror("execv");
  return 127;
}
`;

function cgroup2Mount(): string | undefined {
  for (const dir of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (fs.existsSync(path.join(dir, 'cgroup.controllers'))) return dir;
  return undefined;
}
const mount = cgroup2Mount();
const canRun = process.getuid?.() === 0 && !!mount && spawnSync('gcc', ['--version']).status === 0 && fs.existsSync('/dev/kmsg');
if (!canRun) process.stderr.write('SKIP device filter kernel test: needs root, gcc, /dev/kmsg and a cgroup2 mount\n');

(canRun ? describe : describe.skip)('device filter in the kernel (cgroup2 directory)', () => {
  let tmp = '';
  let harness = '';
  let busybox = '';
  const cgroup = path.join(mount ?? '/nonexistent', `berth-test-${Math.random().toString(36).slice(2, 10)}`);
  let n = 0;

  beforeAll(async () => {
    busybox = path.join(await testRootfs(), 'bin/busybox');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-devfilter-'));
    fs.writeFileSync(path.join(tmp, 'harness.c'), HARNESS_C);
    harness = path.join(tmp, 'harness');
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', harness, path.join(tmp, 'harness.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  });
  afterAll(() => {
    for (let i = 1; i <= n; i++) if (fs.existsSync(`${cgroup}-${i}`)) fs.rmdirSync(`${cgroup}-${i}`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function run(rules: DeviceCgroupRule[], ...args: string[]): { status: number | null; stderr: string; stdout: string } {
    const dir = `${cgroup}-${++n}`;
    fs.mkdirSync(dir);
    const file = path.join(tmp, `dev-${n}.bpf`);
    fs.writeFileSync(file, compileDeviceFilter(rules));
    const r = spawnSync(harness, [file, dir, busybox, ...args], { encoding: 'utf8', timeout: 20000 });
    fs.rmdirSync(dir); // the process has exited; the attached program goes with the cgroup
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  }

  test('deny-all + defaults: /dev/null usable, /dev/kmsg refused; a read-only rule allows reading only', () => {
    const denyAll: DeviceCgroupRule[] = [{ allow: false, access: 'rwm' }];
    expect(run(denyAll, 'sh', '-c', 'echo x > /dev/null && echo null-ok')).toMatchObject({ stderr: '', status: 0, stdout: 'null-ok\n' });
    const kmsg = run(denyAll, 'dd', 'if=/dev/kmsg', 'of=/dev/null', 'count=0');
    expect(kmsg.status).not.toBe(0);
    expect(kmsg.stderr).toMatch(/Operation not permitted/);
    // No rules at all (nothing denied): the same open works, so the refusal above came from the filter.
    expect(run([], 'dd', 'if=/dev/kmsg', 'of=/dev/null', 'count=0').status).toBe(0);
    const readOnly: DeviceCgroupRule[] = [...denyAll, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }];
    expect(run(readOnly, 'dd', 'if=/dev/kmsg', 'of=/dev/null', 'count=0').status).toBe(0);
    const write = run(readOnly, 'sh', '-c', 'exec 3>/dev/kmsg');
    expect(write.status).not.toBe(0);
    expect(write.stderr).toMatch(/Operation not permitted|can't create/);
  });
});
