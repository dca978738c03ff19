/**
 * Integration tests: real LXC containers through the driver API, as root. Each test gets its own
 * container (`t-lxc-*`) in this run's private lxcpath; afterEach deletes whatever a test left.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCode, isAlive, type DriverHandle } from '../../../core';
import { containerCgroupDirs } from '../../../vendor/lxc-ts-shim/src';
import { testRootfs } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';
import { describeIf, isRoot, requireBackend } from '../../helpers/backend-gate';
import { lxcTestKit, specFor, type LxcTestKit } from './lxc-test-kit';
import { LxcDriver } from '../../../drivers/lxc/lxc-driver';
import { spawn, spawnSync } from 'node:child_process';
import { BERTH_ANNOTATIONS } from '../../../core/spec/berth-annotations';
import { defaultSeccompProfile } from '../../../core/spec/default-seccomp';

const available = isRoot && fs.existsSync('/usr/bin/lxc-execute');

describeIf(available || process.env.CI === 'true')('lxc driver (real containers)', () => {
  let kit: LxcTestKit;
  let rootfs: string;
  let io: ReturnType<typeof captureStdio>;

  beforeAll(async () => {
    await requireBackend(new LxcDriver({}));
    rootfs = await testRootfs();
  });
  beforeEach(() => {
    kit = lxcTestKit();
    io = captureStdio();
  });
  afterEach(async () => {
    io.close();
    await kit.cleanup();
  });

  const fds = () => ({ kind: 'fds' as const, stdin: null, stdout: io.stdout, stderr: io.stderr });
  const supervisorOf = (handle: DriverHandle) => handle.supervisorPid as number;
  /** berth's and LXC's host processes of a held container: supervisor, lxc-execute (its child), gate, LXC's init. */
  const processesOf = (ref: { stateDir: string; handle: DriverHandle }) => {
    const supervisor = supervisorOf(ref.handle);
    const children = fs.readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const [, init, gate] = /^init (\d+) (\d+)$/m.exec(fs.readFileSync(path.join(ref.stateDir, 'state'), 'utf8'))!.map(Number);
    return { supervisor, lxcExecute: children, gate: gate!, init: init! };
  };
  const alive = (p: ReturnType<typeof processesOf>) => [p.supervisor, ...p.lxcExecute, p.gate, p.init].filter((pid) => isAlive(pid));

  async function runToExit(args: string[], edit?: Parameters<typeof specFor>[2]) {
    const request = kit.request(specFor(rootfs, args, edit), fds());
    const ref = kit.ref(request, await kit.driver.create(request));
    await kit.driver.start(ref);
    const exit = await kit.driver.wait(ref);
    return { ref, exit, out: io.read() };
  }

  test('foreground: stdout and stderr stay apart, the exit code is the process\'s own', async () => {
    const { ref, exit, out } = await runToExit(['/bin/sh', '-c', 'echo to-out; echo to-err >&2; exit 42']);
    expect(exit.exitCode).toBe(42);
    expect(out).toEqual({ stdout: 'to-out\n', stderr: 'to-err\n' });
    expect(await kit.driver.state(ref)).toEqual({ status: 'stopped', exitCode: 42 });
  });

  test('create holds the container: created with a pid, the process has not run until start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lxc-marker-'));
    try {
      const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'touch /mnt/ran; exec sleep 30'], (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind'] });
      }), fds());
      const ref = kit.ref(request, await kit.driver.create(request));
      const created = await kit.driver.state(ref);
      expect(created.status).toBe('created');
      expect(isAlive(created.pid!)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
      await kit.driver.start(ref);
      await waitFor(() => fs.existsSync(path.join(dir, 'ran')));
      const running = await kit.driver.state(ref);
      expect(running).toEqual({ status: 'running', pid: created.pid });
      await kit.driver.kill(ref, 'SIGKILL', false);
      expect((await kit.driver.wait(ref)).exitCode).toBe(137);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the spec is applied: user, groups, cwd, env, hostname, rlimits, no_new_privs, capabilities, read-only root', async () => {
    const { exit, out } = await runToExit(['/bin/sh', '-c', [
      'id', 'pwd', 'hostname', 'echo "A=$A"', 'ulimit -n', 'grep -E "^(NoNewPrivs|CapBnd|CapEff)" /proc/self/status',
      'touch /rootfs-write 2>/dev/null && echo root-rw || echo root-ro', 'touch /tmp/x 2>/dev/null && echo tmp-rw',
      'grep -q " /proc/irq ro," /proc/self/mountinfo && echo irq-ro',
      'echo > /dev/null && echo devnull-ok', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced',
      'echo 0 2>/dev/null >/proc/sys/kernel/shm_rmid_forced && echo procsys-rw || echo procsys-ro',
    ].join('; ')], (s) => {
      s.hostname = 'lxc-box';
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] };
      s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: [], permitted: [] };
      s.process!.cwd = '/tmp';
      s.process!.env = ['PATH=/bin', 'A=with space'];
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1' };
    });
    expect(out.stderr).toBe('');
    expect(exit.exitCode).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^uid=1000 gid=1000 groups=5/);
    expect(lines.slice(1, 5)).toEqual(['/tmp', 'lxc-box', 'A=with space', '321']);
    expect(out.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(out.stdout).toMatch(/CapBnd:\s+0000000000000021/);
    expect(out.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(lines.slice(-7)).toEqual(['root-ro', 'tmp-rw', 'irq-ro', 'devnull-ok', '1', '1', 'procsys-ro']);
  });

  test('bind mounts (read-only too) and masked paths', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lxc-bind-'));
    fs.writeFileSync(path.join(dir, 'f'), 'from-host\n');
    try {
      const { out } = await runToExit(['/bin/sh', '-c', 'cat /mnt/f; echo x > /mnt/g 2>/dev/null && echo data-rw || echo data-ro; ls /proc/acpi | wc -l; cat /proc/timer_list | wc -c'], (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind', 'ro'] });
      });
      expect(out.stdout.trim().split('\n').map((l) => l.trim())).toEqual(['from-host', 'data-ro', '0', '0']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('seccomp: the default profile (allowlist), errno values, argument conditions; exec is filtered too', async () => {
    // The default profile with ENOTSUP (95) as its default errno: swapoff is not in it.
    const a = await runToExit(['/bin/sh', '-c', 'grep Seccomp: /proc/self/status; swapoff /nonexistent; linux32 true && echo l32-ok; ls / >/dev/null && echo ls-ok'], (s) => {
      s.linux!.seccomp = { ...defaultSeccompProfile(), defaultErrnoRet: 95 };
    });
    expect(a.out.stdout).toBe('Seccomp:\t2\nl32-ok\nls-ok\n');
    expect(a.out.stderr).toMatch(/swapoff: .*not supported/i);
    io.close();
    io = captureStdio();
    // A denylist: mkdir fails with EACCES, personality(PER_LINUX32) with EPERM, personality(0) works.
    const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'mkdir /tmp/x; linux32 true; linux64 true && echo l64-ok; sleep 30'], (s) => {
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ] };
    }), { kind: 'log' });
    const ref = kit.ref(request, await kit.driver.create(request));
    await kit.driver.start(ref);
    const r = await kit.driver.exec(ref, { args: ['/bin/sh', '-c', 'mkdir /tmp/y'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
    expect(r.exitCode).not.toBe(0);
    expect(io.read().stderr).toMatch(/Permission denied/);
    await kit.driver.kill(ref, 'SIGKILL', false);
    await kit.driver.wait(ref);
    const logs = captureStdio();
    await kit.driver.logs(ref, { follow: false, stdout: logs.stdout, stderr: logs.stderr });
    expect(logs.read().stdout).toBe('l64-ok\n');
    expect(logs.read().stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': Permission denied\n.*personality\(0x8\): Operation not permitted/s);
    logs.close();
  });

  test('cgroup limits reach the container cgroup (v1 keys on this host)', async () => {
    const { out } = await runToExit(['/bin/sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 } };
    });
    expect(out.stdout.trim().split('\n')).toEqual([String(64 * 1024 * 1024), '20']);
  });

  test('detached: output goes to the logs, stdout and stderr apart', async () => {
    const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'echo one; echo two >&2; sleep 0.3; echo three']), { kind: 'log' });
    const ref = kit.ref(request, await kit.driver.create(request));
    await kit.driver.start(ref);
    await kit.driver.logs(ref, { follow: true, stdout: io.stdout, stderr: io.stderr });
    expect(io.read()).toEqual({ stdout: 'one\nthree\n', stderr: 'two\n' });
    expect((await kit.driver.wait(ref)).exitCode).toBe(0);
  });

  test('exec via lxc-attach, pause/resume, stats, update, kill --all', async () => {
    const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'sleep 100 & sleep 100 & wait'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 128 * 1024 * 1024 } };
    }), { kind: 'log' });
    const ref = kit.ref(request, await kit.driver.create(request));
    await kit.driver.start(ref);
    await waitFor(async () => ((await kit.driver.stats(ref).catch(() => undefined))?.pids?.current ?? 0) >= 4);

    const r = await kit.driver.exec(ref, { args: ['/bin/sh', '-c', 'echo in-$HOSTNAME-$E; echo oops >&2; id -u; exit 3'], env: ['E=v', 'HOSTNAME=x'], user: { uid: 1000, gid: 1000 }, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
    expect(r.exitCode).toBe(3);
    expect(io.read()).toEqual({ stdout: 'in-x-v\n1000\n', stderr: 'oops\n' });
    io.close();
    io = captureStdio();
    const inTmp = await kit.driver.exec(ref, { args: ['pwd'], cwd: '/tmp', stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
    expect({ code: inTmp.exitCode, ...io.read() }).toEqual({ code: 0, stdout: '/tmp\n', stderr: '' });
    await expect(kit.driver.exec(ref, { args: ['true'], user: { uid: 1, gid: 1, additionalGids: [5] }, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).rejects.toMatchObject({ code: 'OPERATION_NOT_SUPPORTED' });

    await kit.driver.pause(ref);
    expect((await kit.driver.state(ref)).status).toBe('paused');
    await kit.driver.resume(ref);
    expect((await kit.driver.state(ref)).status).toBe('running');

    const stats = await kit.driver.stats(ref);
    expect(stats.memory!.usageBytes).toBeGreaterThan(0);
    expect(stats.memory!.limitBytes).toBe(128 * 1024 * 1024);
    expect(stats.pids!.current).toBeGreaterThanOrEqual(4);
    expect(stats.cpu!.usageNanos).toBeGreaterThan(0);

    await kit.driver.update(ref, { memory: { limit: 96 * 1024 * 1024 }, pids: { limit: 50 } });
    const after = await kit.driver.stats(ref);
    expect(after.memory!.limitBytes).toBe(96 * 1024 * 1024);
    expect(after.pids!.limit).toBe(50);

    const cgroupDirs = containerCgroupDirs(ref.handle.name as string);
    const pidsDir = cgroupDirs.find((d) => d.includes('/pids/lxc.payload.'))!;
    const members = fs.readFileSync(path.join(pidsDir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    expect(members.length).toBeGreaterThanOrEqual(4);
    await kit.driver.kill(ref, 'SIGKILL', true);
    const exit = await kit.driver.wait(ref);
    expect(exit).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    for (const pid of members) expect(isAlive(pid)).toBe(false);
  });

  test('a detached container outlives the process that created it; a new driver instance manages it from the handle', async () => {
    const dist = path.resolve(__dirname, '../../../dist/drivers/lxc/lxc-driver.js');
    if (!fs.existsSync(dist)) throw new Error(`${dist} missing: run npm run build first (npm test does)`);
    const request = kit.request(specFor(rootfs, ['/bin/sleep', '100']), { kind: 'log' });
    const script = `
      require(${JSON.stringify(require.resolve('reflect-metadata'))});
      const { LxcDriver } = require(${JSON.stringify(dist)});
      const req = JSON.parse(process.argv[1]);
      const d = new LxcDriver({});
      d.create(req).then(async (h) => { await d.start({ ...req, handle: h }); process.stdout.write(JSON.stringify(h)); process.exit(0); });`;
    const { spawnSync } = await import('node:child_process');
    const child = spawnSync(process.execPath, ['-e', script, JSON.stringify(request)], { encoding: 'utf8' });
    expect(child.status).toBe(0);
    const ref = kit.ref(request, JSON.parse(child.stdout) as DriverHandle);
    const other = new LxcDriver({ lxcpath: kit.lxcpath });
    expect((await other.state(ref)).status).toBe('running');
    expect((await other.exec(ref, { args: ['/bin/true'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).exitCode).toBe(0);
    await other.kill(ref, 'SIGTERM', false);
    expect((await other.wait(ref)).exitCode).toBe(143);
  });

  test('bridge network: eth0 with the attached address before the process runs; delete removes the host side', async () => {
    const request = kit.request(specFor(rootfs, ['cat', '/proc/net/dev'], (s) => {
      s.annotations = { ...s.annotations, [BERTH_ANNOTATIONS.network]: 'bridge' };
    }), fds());
    const ref = kit.ref(request, await kit.driver.create(request));
    const network = ref.handle.network as { ips: string[]; interfaces: { name: string; sandbox?: string }[] };
    expect(network.ips[0]).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const hostSide = network.interfaces.filter((i) => !i.sandbox && i.name.startsWith('veth')).map((i) => i.name);
    expect(hostSide.length).toBe(1);
    const links = () => spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    expect(links()).toContain(hostSide[0]);
    await kit.driver.start(ref);
    expect((await kit.driver.wait(ref)).exitCode).toBe(0);
    expect(io.read().stdout).toMatch(/^\s*eth0:/m);
    await kit.driver.delete(ref, false);
    expect(links()).not.toContain(hostSide[0]);
  });

  test('hooks run in order with the state on stdin; a failing prestart hook fails create and leaves nothing; oom_score_adj', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lxc-hooks-'));
    try {
      const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json; echo ${name} >> ${dir}/order`], env: ['PATH=/usr/bin:/bin'] });
      const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', `cat /proc/self/oom_score_adj; test -e ${dir}/poststart.json && echo poststart-before-exit || true; sleep 0.3`], (s) => {
        s.process!.oomScoreAdj = 123;
        s.hooks = { createRuntime: [hook('createRuntime')], prestart: [hook('prestart')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
      }), fds());
      const ref = kit.ref(request, await kit.driver.create(request));
      const pid = (await kit.driver.state(ref)).pid;
      expect(fs.readFileSync(path.join(dir, 'order'), 'utf8')).toBe('createRuntime\nprestart\n');
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'prestart.json'), 'utf8'))).toMatchObject({ id: request.id, status: 'creating', pid, bundle: request.bundle });
      await kit.driver.start(ref);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststart.json'), 'utf8'))).toMatchObject({ id: request.id, status: 'running', pid });
      expect((await kit.driver.wait(ref)).exitCode).toBe(0);
      expect(io.read().stdout.split('\n')[0]).toBe('123');
      await kit.driver.delete(ref, false);
      expect(fs.readFileSync(path.join(dir, 'order'), 'utf8')).toBe('createRuntime\nprestart\npoststart\npoststop\n');

      const failing = kit.request(specFor(rootfs, ['/bin/true'], (s) => {
        s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no way >&2; exit 3'] }] };
      }), fds());
      const err = await kit.driver.create(failing).then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).toBe('hooks.prestart[0] failed: /bin/sh: exit 3: no way');
      expect(containerCgroupDirs(failing.id)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('joining network, ipc and uts namespaces by path', async () => {
    const holder = spawn('unshare', ['--net', '--ipc', '--uts', 'sleep', '60'], { stdio: 'ignore' });
    try {
      await waitFor(() => fs.readlinkSync(`/proc/${holder.pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net'));
      const ns = (t: string) => fs.readlinkSync(`/proc/${holder.pid}/ns/${t}`);
      const { exit, out } = await runToExit(['/bin/sh', '-c', 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done'], (s) => {
        delete s.hostname;
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (['network', 'ipc', 'uts'].includes(n.type) ? { type: n.type, path: `/proc/${holder.pid}/ns/${n.type === 'network' ? 'net' : n.type}` } : n));
      });
      expect(exit.exitCode).toBe(0);
      const [net, ipc, uts, pid] = out.stdout.trim().split('\n');
      expect([net, ipc, uts]).toEqual([ns('net'), ns('ipc'), ns('uts')]);
      expect(pid).not.toBe(fs.readlinkSync('/proc/self/ns/pid'));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('SIGTERM to the init reaches the process (LXC init forwards it)', async () => {
    const request = kit.request(specFor(rootfs, ['/bin/sleep', '100']), fds());
    const ref = kit.ref(request, await kit.driver.create(request));
    await kit.driver.start(ref);
    await waitFor(async () => (await kit.driver.stats(ref).catch(() => undefined))?.pids?.current === 2);
    await kit.driver.kill(ref, 'SIGTERM', false);
    expect((await kit.driver.wait(ref)).exitCode).toBe(143);
  });

  test('delete leaves no lxcpath entry, cgroup or process (stopped, running, created, {} handle)', async () => {
    const check = (ref: { handle: DriverHandle }, initPid: number | undefined) => {
      const name = ref.handle.name as string;
      expect(fs.existsSync(path.join(kit.lxcpath, name))).toBe(false);
      expect(containerCgroupDirs(name)).toEqual([]);
      expect(isAlive(supervisorOf(ref.handle))).toBe(false);
      if (initPid) expect(isAlive(initPid)).toBe(false);
    };
    // A cgroup folder LXC would have left behind (made here by hand) goes too: through the paths create
    // recorded in the handle, or the search by name with an empty handle.
    const hierarchy = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids';
    const leave = (name: string) => fs.mkdirSync(path.join(hierarchy, `lxc.payload.${name}`));
    // stopped
    const stopped = await runToExit(['/bin/true']);
    const stoppedPid = (await kit.driver.state(stopped.ref)).pid;
    const recorded = stopped.ref.handle.cgroups as string[];
    expect(recorded.map((p) => path.basename(p)).sort()).toEqual([`lxc.monitor.${stopped.ref.id}`, `lxc.payload.${stopped.ref.id}`]);
    leave(stopped.ref.id);
    await kit.driver.delete(stopped.ref, false);
    check(stopped.ref, stoppedPid);
    // running, forced
    const runReq = kit.request(specFor(rootfs, ['/bin/sleep', '100']), { kind: 'log' });
    const running = kit.ref(runReq, await kit.driver.create(runReq));
    await kit.driver.start(running);
    const runPid = (await kit.driver.state(running)).pid;
    expect(containerCgroupDirs(running.handle.name as string).length).toBeGreaterThan(0);
    await kit.driver.delete(running, true);
    check(running, runPid);
    await kit.driver.delete(running, true); // idempotent
    // created, never started: deleted with and without force
    for (const force of [true, false]) {
      const createdReq = kit.request(specFor(rootfs, ['/bin/sleep', '100']), { kind: 'log' });
      const created = kit.ref(createdReq, await kit.driver.create(createdReq));
      const createdPid = (await kit.driver.state(created)).pid;
      const procs = processesOf(created);
      expect(procs.lxcExecute.length).toBe(1);
      expect(alive(procs)).toHaveLength(4);
      const t0 = Date.now();
      await kit.driver.delete(created, force);
      expect(Date.now() - t0).toBeLessThan(5000);
      check(created, createdPid);
      expect(alive(procs)).toEqual([]);
    }
    // an empty handle (half-created record) deletes cleanly and twice
    const empty = { ...kit.request(specFor(rootfs, ['/bin/true']), { kind: 'log' }), handle: {} };
    leave(empty.id);
    await kit.driver.delete(empty, true);
    expect(containerCgroupDirs(empty.id)).toEqual([]);
    await kit.driver.delete(empty, true);
  });

  test('kill on a created container ends it without running the process', async () => {
    const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'echo ran']), fds());
    const ref = kit.ref(request, await kit.driver.create(request));
    const procs = processesOf(ref);
    expect(alive(procs)).toHaveLength(4);
    await kit.driver.kill(ref, 'SIGTERM', false);
    expect((await kit.driver.wait(ref)).exitCode).toBe(143);
    expect(io.read().stdout).toBe('');
    await expect(kit.driver.start(ref)).rejects.toMatchObject({ code: 'CONTAINER_STATE' });
    await kit.driver.delete(ref, false);
    expect(alive(procs)).toEqual([]);
    expect(containerCgroupDirs(request.id)).toEqual([]);
  });

  test('bad specs are refused naming the field, before anything exists', async () => {
    const cases: [Parameters<typeof specFor>[2], RegExp][] = [
      [(s) => { s.process!.capabilities!.effective = ['CAP_KILL']; }, /^process\.capabilities\.effective/],
      [(s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); }, /^linux\.namespaces/],
      [(s) => { s.mounts!.push({ destination: '/x', type: 'bind', source: '/does/not/exist' }); }, /^mounts\[\d+\]\.source/],
      [(s) => { s.linux!.sysctl = { 'kernel.panic': '1' }; }, /^linux\.sysctl\["kernel\.panic"\]/],
    ];
    for (const [edit, field] of cases) {
      const request = kit.request(specFor(rootfs, ['/bin/true'], edit), fds());
      const err = await kit.driver.create(request).then(() => undefined, (e: unknown) => e);
      expect(hasCode(err, 'FEATURE_NOT_SUPPORTED')).toBe(true);
      expect((err as Error).message).toMatch(field);
      expect(fs.readdirSync(request.stateDir)).toEqual([]);
      expect(containerCgroupDirs(request.id)).toEqual([]);
    }
  });

  test("a setup failure inside LXC surfaces LXC's message and leaves nothing", async () => {
    const request = kit.request(specFor(rootfs, ['/bin/true'], (s) => {
      s.linux!.sysctl = { 'net.ipv4.no_such_knob': '1' };
    }), fds());
    const err = await kit.driver.create(request).then(() => undefined, (e: unknown) => e);
    expect(hasCode(err, 'BACKEND_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^lxc-execute could not set up the container: sysctl net\/ipv4\/no_such_knob: cannot write 1/);
    expect(containerCgroupDirs(request.id)).toEqual([]);
    expect(fs.existsSync(path.join(kit.lxcpath, request.id))).toBe(false);
    expect(fs.readFileSync(path.join(request.stateDir, 'state'), 'utf8')).not.toMatch(/^init /m);
  });

  test('the process inherits stdin, stdout and stderr only (no descriptor of the CLI, the supervisor or LXC)', async () => {
    // ls lists its own descriptor of /proc/self/fd as 3
    const { exit, out } = await runToExit(['/bin/ls', '/proc/self/fd']);
    expect(exit.exitCode).toBe(0);
    expect(out.stdout).toBe('0\n1\n2\n3\n');
  });

  test('the LXC config reaches lxc-execute from memory, or through STATE/lxc.conf when too big for the environment', async () => {
    for (const count of [1, 3000]) {
      const big = Array.from({ length: count }, (_, i) => `V${i}=${'x'.repeat(40)}`);
      const { exit, out, ref } = await runToExit(['/bin/sh', '-c', 'echo "$V0" "$BERTH_LXC_CONFIG"; env | grep -c "^V"'], (s) => {
        s.process!.env = ['PATH=/bin', ...big];
      });
      expect(exit.exitCode).toBe(0);
      expect(out.stdout).toBe(`${'x'.repeat(40)} \n${count}\n`);
      const conf = fs.readFileSync(path.join(ref.stateDir, 'lxc.conf'), 'utf8');
      expect(conf).toContain(`lxc.environment = V${count - 1}=`);
      expect(conf.length > 100 * 1024).toBe(count > 1);
      io.close();
      io = captureStdio();
    }
  });

  test("an error LXC logs (kept in memory by the supervisor) becomes create's message and STATE/lxc.log", async () => {
    const request = kit.request(specFor(rootfs, ['/bin/true'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, cpu: { cpus: '999' } };
    }), fds());
    const err = await kit.driver.create(request).then(() => undefined, (e: unknown) => e);
    expect(hasCode(err, 'BACKEND_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^lxc-execute could not set up the container: .*Failed to set "cpuset\.cpus" to "999"/);
    expect(fs.readFileSync(path.join(request.stateDir, 'lxc.log'), 'utf8')).toMatch(/ERROR .*cpuset\.cpus/);
    expect(containerCgroupDirs(request.id)).toEqual([]);
  });

  test('berth-lxc-helper: supervisor and start gate, no per-container scripts; a missing helper fails create and leaves nothing', async () => {
    const request = kit.request(specFor(rootfs, ['/bin/sh', '-c', 'exit 3'], (s) => {
      s.linux!.sysctl = { 'kernel.shm_rmid_forced': '1' };
    }), fds());
    const ref = kit.ref(request, await kit.driver.create(request));
    const procs = processesOf(ref);
    const exe = (pid: number) => path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
    expect([exe(procs.supervisor), exe(procs.gate), ...procs.lxcExecute.map(exe)]).toEqual(['berth-lxc-helper', 'berth-lxc-helper', 'lxc-execute']);
    // the gate holds the container, stopped (create returns once its init line is there; it stops right after)
    await waitFor(() => /\) T /.test(fs.readFileSync(`/proc/${procs.gate}/stat`, 'utf8')));
    await kit.driver.start(ref);
    expect((await kit.driver.wait(ref)).exitCode).toBe(3);
    // the record: the gate's line, berth start's, the supervisor's (lxc-execute's status); no LXC log
    expect(fs.readFileSync(path.join(request.stateDir, 'state'), 'utf8')).toBe(`init ${procs.init} ${procs.gate}\nstarted\nexit 3\n`);
    expect(fs.existsSync(path.join(request.stateDir, 'lxc.log'))).toBe(false);
    await kit.driver.delete(ref, false);
    expect(alive(procs)).toEqual([]);
    expect(fs.readdirSync(request.stateDir).filter((f) => f.endsWith('.sh') || f.startsWith('.'))).toEqual([]);
    // the seccomp policy is one shared file per distinct profile, named after its content
    const profile = /^lxc\.seccomp\.profile = (.*)$/m.exec(fs.readFileSync(path.join(request.stateDir, 'lxc.conf'), 'utf8'))![1]!;
    expect(path.dirname(profile)).toBe(path.join(kit.lxcpath, '.seccomp'));
    expect(fs.readFileSync(profile, 'utf8')).toMatch(/^2\n/);
    const again = kit.request(specFor(rootfs, ['/bin/true']), fds());
    kit.ref(again, await kit.driver.create(again));
    expect(fs.readFileSync(path.join(again.stateDir, 'lxc.conf'), 'utf8')).toContain(`lxc.seccomp.profile = ${profile}\n`);
    expect(fs.readdirSync(path.dirname(profile))).toEqual([path.basename(profile)]);

    const missing = path.join(request.stateDir, 'no-such-helper');
    const other = new LxcDriver({ lxcpath: kit.lxcpath, helper: missing });
    const req2 = kit.request(specFor(rootfs, ['/bin/true']), fds());
    const err = await other.create(req2).then(() => undefined, (e: unknown) => e);
    expect(hasCode(err, 'DRIVER_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(missing);
    expect(fs.readdirSync(req2.stateDir)).toEqual([]);
    expect(containerCgroupDirs(req2.id)).toEqual([]);
    const fp = await other.fingerprint();
    expect(fp).toMatchObject({ available: false, health: 'unhealthy' });
    expect(fp.reason).toContain(missing);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
