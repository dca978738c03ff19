/**
 * The compiled seccomp programs in the real kernel: a small C harness (compiled here with gcc in a
 * temporary folder) reads the program bytes from a file, sets no_new_privs, installs the filter
 * with seccomp(SECCOMP_SET_MODE_FILTER) and execs the command. Commands are the static busybox of
 * the test rootfs, run on the host (the filter applies to that child only).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Seccomp } from '../../../../core/spec/oci-spec';
import { compileSeccomp } from '../../../../drivers/native/seccomp/compile-seccomp';
import { DEFAULT_SECCOMP_PROFILE } from '../../../../core/spec/default-seccomp';
import { testRootfs } from '../../../helpers/busybox-fixture';

const HARNESS_C = `
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s PROGRAM CMD [ARG...]\\n", argv[0]); return 2; }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror("open program"); return 125; }
  struct sock_filter *insns = malloc(st.st_size);
  if (!insns || read(fd, insns, st.st_size) != st.st_size || st.st_size % 8 != 0) { perror("read program"); return 125; }
  close(fd);
  struct sock_fprog prog = { .len = (unsigned short)(st.st_size / 8), .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return 125; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { perror("seccomp"); return 125; }
  execv(argv[2], argv + 2);
  perror("execv");
  return 127;
}
`;

const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const supported = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
if (!hasGcc || !supported) {
  const why = !hasGcc ? 'gcc not installed (scripts/host-packages.d/native-libs.txt)' : `unsupported platform ${process.platform}/${process.arch}`;
  if (process.env.CI === 'true') throw new Error(`seccomp kernel tests: ${why}; CI must provide it`);
  process.stderr.write(`SKIP seccomp kernel tests: ${why}\n`);
}
const d = hasGcc && supported ? describe : describe.skip;

d('compiled seccomp filters in the kernel', () => {
  let tmp = '';
  let harness = '';
  let busybox = '';
  let n = 0;

  beforeAll(async () => {
    busybox = path.join(await testRootfs(), 'bin/busybox');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-'));
    fs.writeFileSync(path.join(tmp, 'harness.c'), HARNESS_C);
    harness = path.join(tmp, 'harness');
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', harness, path.join(tmp, 'harness.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function run(profile: Seccomp, ...args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
    const file = path.join(tmp, `prog-${++n}.bpf`);
    fs.writeFileSync(file, compileSeccomp(profile));
    const r = spawnSync(harness, [file, busybox, ...args], { encoding: 'utf8', timeout: 20000 });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  }

  test('a denied syscall fails with EPERM while the others work', () => {
    const deny: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const dir = path.join(tmp, 'denied');
    const r = run(deny, 'mkdir', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(fs.existsSync(dir)).toBe(false);
    expect(run(deny, 'echo', 'still here')).toMatchObject({ status: 0, stdout: 'still here\n' });
    const file = path.join(tmp, 'touched');
    expect(run(deny, 'touch', file).status).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    expect(run(deny, 'ls', tmp).stdout).toContain('touched');
    // The same command without the filter does create the directory (the filter made the difference).
    expect(run({ defaultAction: 'SCMP_ACT_ALLOW' }, 'mkdir', dir).status).toBe(0);
    expect(fs.existsSync(dir)).toBe(true);
  });

  test('errnoRet is the errno the caller sees', () => {
    const r = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }, 'mkdir', path.join(tmp, 'eacces'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  test('argument conditions are checked by the kernel: EQ and MASKED_EQ on the mode argument', () => {
    const file = path.join(tmp, 'modes');
    fs.writeFileSync(file, '');
    // chmod(path, mode): mode is arg 1; fchmodat(dirfd, path, mode): arg 2. Deny mode 0777 and any world-writable mode.
    const profile: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o777, op: 'SCMP_CMP_EQ' }] },
        { names: ['fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o777, op: 'SCMP_CMP_EQ' }] },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o002, valueTwo: 0o002, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 0o002, valueTwo: 0o002, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    expect(run(profile, 'chmod', '755', file).status).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o755);
    const r777 = run(profile, 'chmod', '777', file);
    expect(r777.status).toBe(1);
    expect(r777.stderr).toMatch(/Operation not permitted/);
    const r646 = run(profile, 'chmod', '646', file);
    expect(r646.status).toBe(1);
    expect(r646.stderr).toMatch(/Permission denied/);
    expect(run(profile, 'chmod', '640', file).status).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  test('SCMP_ACT_KILL_PROCESS kills with SIGSYS', () => {
    const r = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }] }, 'uname', '-a');
    expect(r.signal).toBe('SIGSYS');
  });

  test('the default profile lets busybox sh, echo, ls, id, mkdir run and refuses mount and unshare', () => {
    const work = path.join(tmp, 'default-profile');
    fs.mkdirSync(work);
    const ok = run(DEFAULT_SECCOMP_PROFILE, 'sh', '-c', `echo hello; ls ${tmp} >/dev/null && echo listed; id -u; mkdir ${work}/d && rmdir ${work}/d && echo dirs; cat /proc/self/status | grep -E '^(Seccomp|NoNewPrivs):'; (sleep 0; echo forked) | cat`);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^hello\nlisted\n0\ndirs\n/);
    expect(ok.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(ok.stdout).toMatch(/Seccomp:\s+2/);
    expect(ok.stdout).toContain('forked');
    const mount = run(DEFAULT_SECCOMP_PROFILE, 'mount', '-t', 'tmpfs', 'none', work);
    expect(mount.status).not.toBe(0);
    expect(mount.stderr).toMatch(/Operation not permitted|permission denied \(are you root\?\)/); // busybox's wording for EPERM
    const unshare = run(DEFAULT_SECCOMP_PROFILE, 'unshare', '-U', 'true');
    expect(unshare.status).not.toBe(0);
    expect(unshare.stderr).toMatch(/Operation not permitted/);
    // Without the filter, root can (checked so that the refusals above mean something).
    expect(run({ defaultAction: 'SCMP_ACT_ALLOW' }, 'unshare', '-U', 'true').status).toBe(0);
  });
});
