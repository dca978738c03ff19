/**
 * Integration tests: real systemd-nspawn containers through the driver API, as root.
 * Needs `npm run build` first (the static berth-nspawn-init helper).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  capabilityNumber,
  BERTH_ANNOTATIONS,
  defaultSpec,
  pollUntil,
  DEFAULT_CAPABILITIES,
  validateSpec,
  type ContainerRef,
  type DriverHandle,
  type Spec,
  type StdioTarget,
} from '../../../core';
import { NspawnDriver } from '../../../drivers/nspawn/nspawn-driver';
import { captureStdio } from '../../helpers/capture-stdio';
import { describeIf, isRoot, requireBackend } from '../../helpers/backend-gate';
import { privateRootfs, tempStateRoot, testRootfs } from '../../helpers/busybox-fixture';

const driver = new NspawnDriver();
let available = false;
let rootfs = '';
const state = tempStateRoot();
const live: ContainerRef[] = [];

beforeAll(async () => {
  available = isRoot && (await requireBackend(driver)).available;
  if (available) rootfs = await testRootfs();
});

afterAll(async () => {
  for (const ref of live) await driver.delete(ref, true).catch(() => undefined);
  state.cleanup();
});

const spec = (args: string[], edit: (s: Spec) => void = () => {}): Spec => {
  const s = defaultSpec({ rootfs, args });
  delete s.linux!.seccomp; // not supported by this driver (see docs/drivers/nspawn.md)
  edit(s);
  return validateSpec(s);
};

async function create(s: Spec, stdio: StdioTarget): Promise<ContainerRef> {
  const id = `t-nspawn-${crypto.randomBytes(4).toString('hex')}`;
  const stateDir = path.join(state.root, id);
  fs.mkdirSync(stateDir, { recursive: true });
  const ctx = { id, bundle: state.root, spec: s, stateDir, options: {} };
  const handle: DriverHandle = await driver.create({ ...ctx, stdio });
  const ref = { ...ctx, handle };
  live.push(ref);
  return ref;
}

/** Run to completion with separate stdout/stderr; returns them and the exit code; deletes. */
async function run(s: Spec): Promise<{ stdout: string; stderr: string; exitCode: number; signal?: string }> {
  const io = captureStdio();
  try {
    const ref = await create(s, { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
    await driver.start(ref);
    const exit = await driver.wait(ref);
    await driver.delete(ref, false);
    return { ...io.read(), ...exit };
  } finally {
    io.close();
  }
}

const readNumber = (file: string): number | undefined => {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  return text === '' ? undefined : Number(text);
};
const mask = (names: readonly string[]) => names.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n))), 0n).toString(16).padStart(16, '0');
const capLine = (out: string, set: string) => new RegExp(`^${set}:\\s+([0-9a-f]+)$`, 'm').exec(out)?.[1];

/** Everything delete must remove for `ref`. */
function traces(ref: ContainerRef): string[] {
  const h = ref.handle as unknown as { machine: string; supervisorPid: number; cgroup: { paths: Record<string, string> }; unified?: string };
  const left: string[] = [];
  for (const d of [...Object.values(h.cgroup.paths), ...(h.unified ? [h.unified] : [])]) if (fs.existsSync(d)) left.push(d);
  if (fs.existsSync(`/run/systemd/nspawn/propagate/${h.machine}`)) left.push('propagate dir');
  if (fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(ref.stateDir)) left.push('mount under state dir');
  try {
    process.kill(h.supervisorPid, 0);
    if (!fs.readFileSync(`/proc/${h.supervisorPid}/stat`, 'utf8').includes(') Z')) left.push('supervisor');
  } catch {
    /* gone */
  }
  return left;
}

describeIf(isRoot)('nspawn driver (real containers)', () => {
  beforeEach(() => {
    if (!available) throw new Error('systemd-nspawn unavailable');
  });

  it('runs in the foreground with stdout and stderr apart and the exit code', async () => {
    const r = await run(spec(['sh', '-c', 'echo to-out; echo to-err >&2; exit 7']));
    expect(r).toEqual({ stdout: 'to-out\n', stderr: 'to-err\n', exitCode: 7 });
  });

  it("passes the caller's stdin to the container and to exec", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-in-'));
    const io = captureStdio();
    try {
      fs.writeFileSync(path.join(dir, 'in'), 'line one\nline two\n');
      const stdin = fs.openSync(path.join(dir, 'in'), 'r');
      const ref = await create(spec(['sh', '-c', 'wc -l; exec sleep 30']), { kind: 'fds', stdin, stdout: io.stdout, stderr: io.stderr });
      fs.closeSync(stdin);
      await driver.start(ref);
      await pollUntil(() => (io.read().stdout === '2\n' ? true : undefined), 10000, 'wc output');
      const execIn = fs.openSync(path.join(dir, 'in'), 'r');
      const out = captureStdio();
      try {
        expect(await driver.exec(ref, { args: ['cat'], stdio: { stdin: execIn, stdout: out.stdout, stderr: out.stderr } })).toEqual({ exitCode: 0 });
        expect(out.read().stdout).toBe('line one\nline two\n');
      } finally {
        fs.closeSync(execIn);
        out.close();
      }
      await driver.delete(ref, true);
    } finally {
      io.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("start returns once the user's command runs; it inherits no readiness fd", async () => {
    const io = captureStdio();
    try {
      const ref = await create(spec(['sh', '-c', 'ls /proc/$$/fd; exec sleep 30']), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await driver.start(ref);
      const s = await driver.state(ref);
      expect(s.status).toBe('running');
      expect(fs.readlinkSync(`/proc/${s.pid}/exe`)).not.toBe('/run/.berth/init');
      expect(fs.readlinkSync(`/proc/${s.pid}/exe`)).not.toMatch(/systemd-nspawn$/);
      expect(fs.readFileSync(path.join(ref.stateDir, 'running'), 'utf8')).toBe('1\n');
      await pollUntil(() => (io.read().stdout.includes('2\n') ? true : undefined), 10000, 'the fd list');
      expect(io.read().stdout.trim().split(/\s+/).map(Number).filter((fd) => fd < 10)).toEqual([0, 1, 2]);
      await driver.delete(ref, true);
      expect(traces(ref)).toEqual([]);
    } finally {
      io.close();
    }
  });

  it('reports a command that cannot be run (127) without calling it running', async () => {
    const io = captureStdio();
    try {
      const ref = await create(spec(['/nonexistent/berth']), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await driver.start(ref);
      expect(await driver.wait(ref)).toEqual({ exitCode: 127 });
      expect(readNumber(path.join(ref.stateDir, 'running'))).toBeUndefined(); // made empty, never written
      expect(io.read().stderr).toMatch(/berth-nspawn-init: exec: \/nonexistent\/berth/);
      await driver.delete(ref, false);
      expect(traces(ref)).toEqual([]);
    } finally {
      io.close();
    }
  });

  it('kill before start ends the created container with the signal; nothing of the user runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-kill-'));
    try {
      const s = spec(['sh', '-c', 'echo ran > /mnt/ran'], (x) => x.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind'] }));
      const ref = await create(s, { kind: 'log' });
      expect((await driver.state(ref)).status).toBe('created');
      await driver.kill(ref, 'SIGTERM', false);
      expect(await driver.state(ref)).toEqual({ status: 'stopped', exitCode: 143 });
      expect(await driver.wait(ref)).toEqual({ exitCode: 143, signal: 'SIGTERM' });
      await driver.delete(ref, false);
      expect(traces(ref)).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
      expect(readNumber(path.join(ref.stateDir, 'nspawn.pid'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a cgroup the supervisor cannot join, at start, leaving nothing', async () => {
    // A fresh v1 cpuset cgroup has no cpus: no task can join it (ENOSPC). berth copies them down
    // only into cgroups it makes, so a linux.cgroupsPath made beforehand stays unjoinable.
    const cpuset = '/sys/fs/cgroup/cpuset';
    if (!fs.existsSync(path.join(cpuset, 'cpuset.cpus'))) return; // cgroup v2: no such state
    const parent = `berth-test-${crypto.randomBytes(3).toString('hex')}`;
    fs.mkdirSync(path.join(cpuset, parent, 'box'), { recursive: true });
    const io = captureStdio();
    try {
      const ref = await create(spec(['true'], (s) => { s.linux!.cgroupsPath = `/${parent}/box`; }), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await expect(driver.start(ref)).rejects.toMatchObject({ code: 'BACKEND_FAILED', message: expect.stringMatching(/supervisor is gone/) });
      expect(io.read().stderr).toMatch(/berth-nspawn-supervisor: join cgroup: .*cpuset.*cgroup\.procs/);
      expect(readNumber(path.join(ref.stateDir, 'nspawn.pid'))).toBeUndefined();
      await driver.delete(ref, false);
      expect(traces(ref)).toEqual([]);
    } finally {
      io.close();
      for (const h of fs.readdirSync('/sys/fs/cgroup')) {
        try {
          fs.rmdirSync(path.join('/sys/fs/cgroup', h, parent));
        } catch {
          /* not made in this hierarchy */
        }
      }
    }
  });

  it('a create that fails after starting the supervisor leaves no supervisor and no cgroup', async () => {
    // A v1 devices cgroup may not allow more than its parent: a parent denying everything makes the
    // container's device rules fail while the supervisor already waits to join.
    const devices = '/sys/fs/cgroup/devices';
    if (!fs.existsSync(path.join(devices, 'devices.deny'))) return; // cgroup v2: no devices files
    const parent = `berth-test-${crypto.randomBytes(3).toString('hex')}`;
    fs.mkdirSync(path.join(devices, parent));
    fs.writeFileSync(path.join(devices, parent, 'devices.deny'), 'a');
    const id = `t-nspawn-${crypto.randomBytes(4).toString('hex')}`;
    const stateDir = path.join(state.root, id);
    fs.mkdirSync(stateDir);
    try {
      const s = spec(['true'], (x) => { x.linux!.cgroupsPath = `/${parent}/box`; });
      await expect(driver.create({ id, bundle: state.root, spec: s, stateDir, options: {}, stdio: { kind: 'log' } })).rejects.toThrow(/devices/);
      const supervisors = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(stateDir) && !fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z');
        } catch {
          return false;
        }
      });
      await pollUntil(() => (supervisors().length === 0 ? true : undefined), 5000, 'the supervisor to exit');
      expect(readNumber(path.join(stateDir, 'nspawn.pid'))).toBeUndefined();
      for (const h of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(path.join('/sys/fs/cgroup', h, parent, 'box'))).toBe(false);
    } finally {
      for (const h of fs.readdirSync('/sys/fs/cgroup')) {
        try {
          fs.rmdirSync(path.join('/sys/fs/cgroup', h, parent));
        } catch {
          /* not made in this hierarchy */
        }
      }
    }
  });

  it('create does not run the process; start does; delete leaves nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-mark-'));
    try {
      const s = spec(['sh', '-c', 'echo ran > /mark/ran'], (x) => x.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind'] }));
      s.process!.args = ['sh', '-c', 'echo ran > /mnt/ran'];
      const ref = await create(s, { kind: 'log' });
      expect((await driver.state(ref)).status).toBe('created');
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
      await driver.start(ref);
      expect((await driver.wait(ref)).exitCode).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'ran'), 'utf8')).toBe('ran\n');
      await driver.delete(ref, false);
      expect(traces(ref)).toEqual([]);
      await driver.delete(ref, false); // idempotent
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps nspawn's own sub-cgroups (payload, supervisor) inside berth's cgroup", async () => {
    const ref = await create(spec(['sleep', '30']), { kind: 'log' });
    await driver.start(ref);
    const leader = (await driver.state(ref)).pid!;
    const h = ref.handle as unknown as { machine: string };
    const lines = fs.readFileSync(`/proc/${leader}/cgroup`, 'utf8').trim().split('\n');
    for (const line of lines) expect(line).toContain(`/berth/${h.machine}`);
    await driver.delete(ref, true);
    expect(traces(ref)).toEqual([]);
  });

  it('attaches bridge networking through CNI in a named namespace, and removes it on delete', async () => {
    const ref = await create(spec(['sleep', '30'], (s) => {
      s.annotations = { ...s.annotations, [BERTH_ANNOTATIONS.network]: 'bridge' };
    }), { kind: 'log' });
    const h = ref.handle as unknown as { netns: string; network: { ips: string[] } };
    expect(fs.existsSync(`/run/netns/${h.netns}`)).toBe(true);
    await driver.start(ref);
    const io = captureStdio();
    try {
      expect(await driver.exec(ref, { args: ['sh', '-c', 'ip -o -4 addr show eth0 | awk "{print \\$4}"; ip route | grep -c default'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).toEqual({ exitCode: 0 });
      expect(io.read().stdout).toBe(`${h.network.ips[0]}\n1\n`);
    } finally {
      io.close();
    }
    await driver.delete(ref, true);
    expect(fs.existsSync(`/run/netns/${h.netns}`)).toBe(false);
    expect(traces(ref)).toEqual([]);
  });

  it('runs in a user namespace with the spec mapping, exec included', async () => {
    const ref = await create(spec(['sleep', '30'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }), { kind: 'log' });
    await driver.start(ref);
    const leader = (await driver.state(ref)).pid!;
    expect(fs.readlinkSync(`/proc/${leader}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    const status = fs.readFileSync(`/proc/${leader}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+100000\s/m);
    const io = captureStdio();
    try {
      const r = await driver.exec(ref, { args: ['sh', '-c', 'cat /proc/self/uid_map; id -u; readlink /proc/self/ns/user'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect(r.exitCode).toBe(0);
      const [map, uid, ns] = io.read().stdout.trim().split('\n');
      expect(map!.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
      expect(uid).toBe('0');
      expect(ns).toBe(fs.readlinkSync(`/proc/${leader}/ns/user`));
    } finally {
      io.close();
    }
    await driver.delete(ref, true);
    expect(traces(ref)).toEqual([]);
  });

  it("gives the process exactly the spec's capabilities (all five sets)", async () => {
    const r = await run(spec(['cat', '/proc/self/status']));
    const def = mask(DEFAULT_CAPABILITIES);
    expect([capLine(r.stdout, 'CapEff'), capLine(r.stdout, 'CapPrm'), capLine(r.stdout, 'CapBnd')]).toEqual([def, def, def]);
    expect([capLine(r.stdout, 'CapInh'), capLine(r.stdout, 'CapAmb')]).toEqual(['0000000000000000', '0000000000000000']);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);

    const custom = ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
    const r2 = await run(spec(['cat', '/proc/self/status'], (s) => {
      s.process!.capabilities = { bounding: custom, effective: custom, permitted: custom, inheritable: ['CAP_CHOWN'], ambient: [] };
    }));
    expect(capLine(r2.stdout, 'CapEff')).toBe(mask(custom));
    expect(capLine(r2.stdout, 'CapBnd')).toBe(mask(custom));
    expect(capLine(r2.stdout, 'CapInh')).toBe(mask(['CAP_CHOWN']));
  });

  it('applies user, groups, cwd, the exact environment, rlimits and hostname', async () => {
    const r = await run(spec(['sh', '-c', 'id -u; id -g; id -G; pwd; ulimit -n; hostname; env | sort'], (s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 1001] };
      s.process!.cwd = '/tmp';
      s.process!.env = ['PATH=/bin:/usr/bin', 'FOO=bar baz'];
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
      s.hostname = 'boxy';
    }));
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['1000', '1001', '1001 5', '/tmp', '100', 'boxy', 'FOO=bar baz', 'PATH=/bin:/usr/bin', 'PWD=/tmp', 'SHLVL=1', '']);
  });

  it('honours masked and read-only paths, bind and tmpfs mounts, and the network namespace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-vol-'));
    try {
      fs.writeFileSync(path.join(dir, 'in'), 'host-data');
      const r = await run(spec(['sh', '-c', [
        'wc -c < /proc/cpuinfo',
        'echo x > /tmp/f && echo tmp-writable',
        'echo x > /ro/f 2>/dev/null || echo tmp-readonly',
        'cat /rw/in; echo; echo from-container > /rw/out',
        'echo x > /robind/f 2>/dev/null || echo bind-readonly',
        'grep -c : /proc/net/dev',
        'echo x > /etc/f 2>/dev/null || echo root-readonly',
      ].join('; ')], (s) => {
        s.linux!.maskedPaths = ['/proc/cpuinfo'];
        s.linux!.readonlyPaths = ['/ro'];
        s.mounts!.push(
          { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          { destination: '/ro', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/rw', type: 'bind', source: dir, options: ['rbind', 'rw'] },
          { destination: '/robind', type: 'bind', source: dir, options: ['rbind', 'ro'] },
        );
      }));
      expect(r.stdout.split('\n')).toEqual(['0', 'tmp-writable', 'tmp-readonly', 'host-data', 'bind-readonly', '1', 'root-readonly', '']);
      expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('from-container\n');
      const host = await run(spec(['grep', '-c', ':', '/proc/net/dev'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      }));
      const hostCount = fs.readFileSync('/proc/net/dev', 'utf8').split('\n').filter((l) => l.includes(':')).length;
      expect(Number(host.stdout)).toBe(hostCount);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies namespaced sysctls inside the container only', async () => {
    const host = fs.readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8');
    const r = await run(spec(['sh', '-c', 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/tcp_syncookies; grep -c /run/.berth/proc /proc/mounts'], (s) => {
      s.linux!.sysctl = { 'kernel.shm_rmid_forced': host.trim() === '1' ? '0' : '1', 'net.ipv4.tcp_syncookies': '0' };
    }));
    expect(r.stdout).toBe(`${host.trim() === '1' ? '0' : '1'}\n0\n0\n`);
    expect(fs.readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8')).toBe(host);
  });

  it('runs prestart/createRuntime hooks before the process, poststart after, poststop on delete', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-hooks-'));
    try {
      const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json; [ -e ${dir}/ran ] && echo late > ${dir}/${name}.order || echo early > ${dir}/${name}.order`] });
      const ref = await create(spec(['sh', '-c', 'touch /mnt/ran; sleep 30'], (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind'] });
        s.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
      }), { kind: 'log' });
      expect(fs.existsSync(path.join(dir, 'prestart.json'))).toBe(false);
      await driver.start(ref);
      for (const name of ['prestart', 'createRuntime']) {
        const st = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { id: string; status: string; pid: number };
        expect(st).toMatchObject({ id: ref.id, status: 'created' });
        expect(st.pid).toBeGreaterThan(0);
        expect(fs.readFileSync(path.join(dir, `${name}.order`), 'utf8')).toBe('early\n');
      }
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststart.json'), 'utf8'))).toMatchObject({ id: ref.id, status: 'running' });
      expect(fs.existsSync(path.join(dir, 'poststop.json'))).toBe(false);
      await driver.delete(ref, true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststop.json'), 'utf8'))).toMatchObject({ id: ref.id, status: 'stopped' });
      expect(traces(ref)).toEqual([]);

      const failing = await create(spec(['sh', '-c', 'touch /mnt/never'], (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind'] });
        s.hooks = { prestart: [{ path: '/bin/false' }] };
      }), { kind: 'log' });
      await expect(driver.start(failing)).rejects.toThrow(/hook \/bin\/false failed/);
      expect((await driver.wait(failing)).exitCode).not.toBe(0);
      expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
      await driver.delete(failing, false);
      expect(traces(failing)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts the container in linux.cgroupsPath', async () => {
    const parent = `berth-test-${crypto.randomBytes(3).toString('hex')}`;
    try {
      const ref = await create(spec(['sleep', '30'], (s) => { s.linux!.cgroupsPath = `/${parent}/box`; }), { kind: 'log' });
      await driver.start(ref);
      const leader = (await driver.state(ref)).pid!;
      expect(fs.readFileSync(`/proc/${leader}/cgroup`, 'utf8')).toMatch(new RegExp(`^\\d+:memory:/${parent}/box$`, 'm'));
      await driver.delete(ref, true);
      expect(traces(ref)).toEqual([]);
    } finally {
      for (const h of fs.readdirSync('/sys/fs/cgroup')) {
        try {
          fs.rmdirSync(path.join('/sys/fs/cgroup', h, parent));
        } catch {
          /* not made in this hierarchy */
        }
      }
    }
  });

  it('denies devices outside the spec rules and the default set (cgroup v1 devices controller)', async () => {
    // mknod of any node is allowed (as runc does); using one needs a rule.
    const script = 'head -c 4 /dev/urandom | wc -c; mknod /tmp/loop b 7 0; head -c 1 /tmp/loop 2>&1 >/dev/null | grep -c "not permitted"';
    const withTmp = (s: Spec) => s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    expect((await run(spec(['sh', '-c', script], withTmp))).stdout).toBe('4\n1\n');
    const allowed = await run(spec(['sh', '-c', script], (s) => {
      withTmp(s);
      s.linux!.resources!.devices!.push({ allow: true, type: 'b', major: 7, access: 'rwm' });
    }));
    expect(allowed.stdout).toBe('4\n0\n');
  });

  it('runs detached with logs, execs by joining the namespaces and the cgroup, pauses, resumes, reports stats', async () => {
    const ref = await create(spec(['sh', '-c', 'echo started; echo warn >&2; exec sleep 60'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 << 20 }, pids: { limit: 50 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' } };
    }), { kind: 'log' });
    await driver.start(ref);
    const st = await driver.state(ref);
    expect(st.status).toBe('running');
    // The leader is the container's PID 1: sh, until it execs sleep.
    await pollUntil(() => (fs.readFileSync(`/proc/${st.pid}/cmdline`, 'utf8') === 'sleep\u000060\u0000' ? true : undefined), 5000, 'sleep');

    const io = captureStdio();
    try {
      const exec = await driver.exec(ref, { args: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; hostname; grep memory /proc/self/cgroup; id -u; echo oops >&2; exit 3'], user: { uid: 65534, gid: 65534 }, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect(exec.exitCode).toBe(3);
      expect(io.read()).toEqual({ stdout: 'sleep 60 \nberth\n4:memory:/\n65534\n', stderr: 'oops\n' });
    } finally {
      io.close();
    }

    const caps = captureStdio();
    try {
      expect(await driver.exec(ref, { args: ['cat', '/proc/self/status'], stdio: { stdin: null, stdout: caps.stdout, stderr: caps.stderr } })).toEqual({ exitCode: 0 });
      const def = mask(DEFAULT_CAPABILITIES);
      const status = caps.read().stdout;
      expect([capLine(status, 'CapEff'), capLine(status, 'CapBnd'), capLine(status, 'CapInh')]).toEqual([def, def, '0000000000000000']);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    } finally {
      caps.close();
    }

    const h = ref.handle as unknown as { cgroup: { paths: Record<string, string> } };
    const cg = (c: string, f: string) => fs.readFileSync(path.join(h.cgroup.paths[c]!, f), 'utf8').trim();
    expect(cg('memory', 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(cg('pids', 'pids.max')).toBe('50');
    expect(cg('cpu', 'cpu.shares')).toBe('512');
    expect(cg('cpu', 'cpu.cfs_quota_us')).toBe('50000');
    expect(cg('cpuset', 'cpuset.cpus')).toBe('0');
    await driver.update(ref, { pids: { limit: 80 }, memory: { limit: 128 << 20 } });
    expect(cg('pids', 'pids.max')).toBe('80');
    expect(cg('memory', 'memory.limit_in_bytes')).toBe(String(128 << 20));

    const stats = await driver.stats(ref);
    expect(stats.memory!.usageBytes).toBeGreaterThan(0);
    expect(stats.memory!.limitBytes).toBe(128 << 20);
    expect(stats.pids!.current).toBeGreaterThanOrEqual(2); // nspawn and the container's sleep
    expect(stats.pids!.limit).toBe(80);
    expect(stats.cpu!.usageNanos).toBeGreaterThan(0);

    await driver.pause(ref);
    expect((await driver.state(ref)).status).toBe('paused');
    expect(cg('freezer', 'freezer.state')).toBe('FROZEN');
    await driver.resume(ref);
    expect((await driver.state(ref)).status).toBe('running');

    await driver.kill(ref, 'SIGKILL', false);
    expect(await driver.wait(ref)).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    const out = captureStdio();
    try {
      await driver.logs(ref, { follow: false, stdout: out.stdout, stderr: out.stderr });
      expect(out.read()).toEqual({ stdout: 'started\n', stderr: 'warn\n' });
    } finally {
      out.close();
    }
    await driver.delete(ref, false);
    expect(traces(ref)).toEqual([]);
  });

  it('kill --all signals every process in the cgroup, exec ones included', async () => {
    const ref = await create(spec(['sh', '-c', 'trap "" TERM; sleep 60 & sleep 60 & wait; wait'], () => {}), { kind: 'log' });
    await driver.start(ref);
    const h = ref.handle as unknown as { cgroup: { paths: Record<string, string> } };
    const procs = () => fs.readFileSync(path.join(h.cgroup.paths.pids!, 'cgroup.procs'), 'utf8').trim().split('\n').length;
    // The supervisor, nspawn, sh and two sleeps.
    await pollUntil(() => (procs() >= 5 ? true : undefined), 10000, 'the sleeps to start', 20);
    await driver.kill(ref, 'SIGKILL', true);
    expect((await driver.wait(ref)).exitCode).toBe(137);
    await driver.delete(ref, false);
    expect(traces(ref)).toEqual([]);
  });

  it('force-deletes a running container and a created one, leaving nothing', async () => {
    const waiting = await create(spec(['sleep', '60']), { kind: 'log' });
    const t0 = Date.now();
    await driver.delete(waiting, false); // a created container deletes without force (OCI)
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(traces(waiting)).toEqual([]);
    const running = await create(spec(['sleep', '60']), { kind: 'log' });
    await driver.start(running);
    const created = await create(spec(['sleep', '60']), { kind: 'log' });
    await driver.delete(running, true);
    await driver.delete(created, true);
    expect(traces(running)).toEqual([]);
    expect(traces(created)).toEqual([]);
    // A half-created record: an empty handle still deletes cleanly.
    await driver.delete({ ...created, handle: {} }, true);
  });

  it('runs a read-only rootfs lacking /usr and os-release through an overlay, without writing into it', async () => {
    const own = privateRootfs();
    try {
      fs.rmSync(path.join(own.dir, 'usr'), { recursive: true, force: true });
      fs.rmSync(path.join(own.dir, 'etc/os-release'));
      const before = fs.readdirSync(own.dir).sort();
      const s = spec(['sh', '-c', 'echo ok; ls /data'], (x) => {
        x.root = { path: own.dir, readonly: true };
        x.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs' });
      });
      const r = await run(s);
      expect(r).toEqual({ stdout: 'ok\n', stderr: '', exitCode: 0 });
      expect(fs.readdirSync(own.dir).sort()).toEqual(before);
      expect(fs.existsSync(path.join(own.dir, 'etc/os-release'))).toBe(false);

      const rw = spec(['true'], (x) => {
        x.root = { path: own.dir, readonly: false };
      });
      await expect(create(rw, { kind: 'log' })).rejects.toThrow(/^root\.path: systemd-nspawn needs \/usr, \/etc\/os-release/);
    } finally {
      own.cleanup();
    }
  });

  it('runs several containers on one writable rootfs at once (no nspawn image lock)', async () => {
    const own = privateRootfs();
    try {
      const refs: ContainerRef[] = [];
      for (let i = 0; i < 3; i++) {
        const ref = await create(spec(['sleep', '30'], (s) => { s.root = { path: own.dir, readonly: false }; }), { kind: 'log' });
        await driver.start(ref);
        refs.push(ref);
      }
      for (const ref of refs) expect((await driver.state(ref)).status).toBe('running');
      for (const ref of refs) await driver.delete(ref, true);
      for (const ref of refs) expect(traces(ref)).toEqual([]);
    } finally {
      own.cleanup();
    }
  });

  it('refuses specs it cannot honour, naming the field, before anything exists', async () => {
    const bad = spec(['true'], (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'nosuid'] }));
    const id = `t-nspawn-${crypto.randomBytes(4).toString('hex')}`;
    const stateDir = path.join(state.root, id);
    fs.mkdirSync(stateDir);
    await expect(driver.create({ id, bundle: state.root, spec: bad, stateDir, options: {}, stdio: { kind: 'log' } })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringMatching(/^mounts\[7\]\.options\[1\]: "nosuid".*driver "nspawn"/),
    });
    const missing = spec(['true'], (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/berth', options: ['rbind'] }));
    await expect(driver.create({ id, bundle: state.root, spec: missing, stateDir, options: {}, stdio: { kind: 'log' } })).rejects.toThrow(/^mounts\[7\]\.source/);
    expect(fs.readdirSync(stateDir)).toEqual([]);
    expect(fs.readdirSync('/sys/fs/cgroup/pids/berth').filter((d) => d.includes(id))).toEqual([]);
  });
});
