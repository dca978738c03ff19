/** The native driver's security invariants (issue 3), each checked from inside a real container. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireBackend } from '../../helpers/backend-gate';
import { privateRootfs, testRootfs } from '../../helpers/busybox-fixture';
import { DEFAULT_CAPABILITIES } from '../../../core/spec/capabilities';
import { capabilityMask } from '../../../drivers/native/launch-plan';
import { seccompCompiler } from '../../../drivers/native/seccomp-compiler';
import { captureStdio, newId, nativeFixture, runToExit, shSpec, type NativeFixture } from './native-fixture';

const hex = (mask: bigint) => mask.toString(16).padStart(16, '0');
const statusField = (text: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1];

describe('native driver: security invariants', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  it("capabilities equal the spec's sets (default: Docker's 14; inheritable and ambient empty)", async () => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, 'cat /proc/self/status'), rootfs);
    const want = hex(capabilityMask(DEFAULT_CAPABILITIES, 'caps'));
    expect(statusField(r.stdout, 'CapEff')).toBe(want);
    expect(statusField(r.stdout, 'CapPrm')).toBe(want);
    expect(statusField(r.stdout, 'CapBnd')).toBe(want);
    expect(statusField(r.stdout, 'CapInh')).toBe(hex(0n));
    expect(statusField(r.stdout, 'CapAmb')).toBe(hex(0n));
  });

  it('a non-root user gets exactly the spec sets, ambient included', async () => {
    if (!available) return;
    const caps = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
    const spec = shSpec(rootfs, 'id -u; cat /proc/self/status', (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [44] };
      s.process!.capabilities = { bounding: [...caps, 'CAP_CHOWN'], effective: caps, permitted: caps, inheritable: caps, ambient: caps };
    });
    const r = await runToExit(fx.manager, spec, rootfs);
    expect(r.stdout.split('\n')[0]).toBe('1000');
    const mask = hex(capabilityMask(caps, 'caps'));
    expect(statusField(r.stdout, 'CapEff')).toBe(mask);
    expect(statusField(r.stdout, 'CapPrm')).toBe(mask);
    expect(statusField(r.stdout, 'CapAmb')).toBe(mask);
    expect(statusField(r.stdout, 'CapBnd')).toBe(hex(capabilityMask([...caps, 'CAP_CHOWN'], 'caps')));
    expect(r.stdout).toMatch(/^Groups:\s*44\s*$/m);
  });

  it('sets NoNewPrivs when asked, and only then', async () => {
    if (!available) return;
    const on = await runToExit(fx.manager, shSpec(rootfs, 'grep NoNewPrivs /proc/self/status'), rootfs);
    expect(on.stdout).toMatch(/NoNewPrivs:\s*1/);
    const off = await runToExit(fx.manager, shSpec(rootfs, 'grep NoNewPrivs /proc/self/status', (s) => (s.process!.noNewPrivileges = false)), rootfs);
    expect(off.stdout).toMatch(/NoNewPrivs:\s*0/);
  });

  it('loads the seccomp filter: a denied syscall returns EPERM', async () => {
    if (!available) return;
    if (!seccompCompiler()) {
      if (process.env.CI === 'true') throw new Error('the seccomp compiler is missing');
      return;
    }
    const spec = shSpec(rootfs, 'mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status', (s) => {
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    const r = await runToExit(fx.manager, spec, rootfs);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stdout).toMatch(/rc=1/);
    expect(r.stdout).toMatch(/Seccomp:\s*2/);
  });

  it('masks maskedPaths and makes readonlyPaths and a read-only root unwritable', async () => {
    if (!available) return;
    const script = [
      'wc -c < /proc/timer_list', 'ls /sys/firmware | wc -l',
      'echo 1 > /proc/sys/kernel/domainname && echo wrote-proc-sys', 'touch /newfile && echo wrote-root', 'echo ok',
    ].join('; ');
    const r = await runToExit(fx.manager, shSpec(rootfs, script), rootfs);
    expect(r.stdout).toBe('0\n0\nok\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(fs.existsSync(path.join(rootfs, 'newfile'))).toBe(false);
  });

  it('resolves a mount destination that is a symlink inside the rootfs, never on the host', async () => {
    if (!available) return;
    const priv = privateRootfs();
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-src-'));
    try {
      fs.writeFileSync(path.join(src, 'marker'), 'from-bind\n');
      fs.symlinkSync('/etc', path.join(priv.dir, 'data')); // absolute: must mean <rootfs>/etc
      fs.symlinkSync('../../../../../../../../tmp', path.join(priv.dir, 'up')); // `..` must stop at the rootfs
      const spec = shSpec(priv.dir, 'cat /etc/marker; cat /tmp/marker', (s) => {
        s.root!.readonly = false;
        s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] });
        s.mounts!.push({ destination: '/up', type: 'bind', source: src, options: ['rbind', 'ro'] });
      });
      const r = await runToExit(fx.manager, spec, priv.dir);
      expect(r.stdout).toBe('from-bind\nfrom-bind\n');
      expect(fs.existsSync('/etc/marker')).toBe(false);
      expect(fs.existsSync('/tmp/marker')).toBe(false);
    } finally {
      priv.cleanup();
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  it('refuses a /proc that is a symlink pointing out of the rootfs, mounting nothing outside', async () => {
    if (!available) return;
    const priv = privateRootfs();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
    try {
      fs.rmSync(path.join(priv.dir, 'proc'), { recursive: true, force: true });
      fs.symlinkSync(outside, path.join(priv.dir, 'proc'));
      const id = newId();
      const driver = await fx.manager['registry'].get('native');
      await expect(
        fx.manager.create({ id, bundle: priv.dir, spec: shSpec(priv.dir, 'true', (s) => (s.root!.readonly = false)), driver, stdio: { kind: 'log' } }),
      ).rejects.toThrow(/symlink.*refused/);
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(outside);
      expect(await fx.manager.store.exists(id)).toBe(false);
    } finally {
      priv.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('the device cgroup allows linux.devices nodes and denies a node made with mknod inside', async () => {
    if (!available) return;
    const spec = shSpec(rootfs, 'head -c 0 /dev/net/tun && echo tun-ok; mknod /dev/shm/disk b 7 0; head -c 1 /dev/shm/disk; echo disk=$?', (s) => {
      s.linux!.devices = [{ type: 'c', path: '/dev/net/tun', major: 10, minor: 200, fileMode: 0o600 }];
      s.mounts = s.mounts!.map((m) => (m.destination === '/dev/shm' ? { ...m, options: (m.options ?? []).filter((o) => o !== 'nodev') } : m));
    });
    const r = await runToExit(fx.manager, spec, rootfs);
    expect({ out: r.stdout, err: r.stderr }).toEqual({ out: 'tun-ok\ndisk=1\n', err: 'head: /dev/shm/disk: Operation not permitted\n' });
  });

  it('lets no fd other than 0, 1, 2 reach the container', async () => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, 'ls /proc/$$/fd; true'), rootfs);
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '1', '2']);
  });

  it('checks process.cwd inside the root: a symlink cwd resolves in the root, a missing one is refused at create', async () => {
    if (!available) return;
    const priv = privateRootfs();
    try {
      fs.symlinkSync('../../../../../..', path.join(priv.dir, 'up'));
      const r = await runToExit(fx.manager, shSpec(priv.dir, 'pwd -P; ls /', (s) => (s.process!.cwd = '/up')), priv.dir);
      expect(r.stdout.split('\n')[0]).toBe('/');
      expect(r.stdout).toContain('linuxrc');
      const driver = await fx.manager['registry'].get('native');
      await expect(
        fx.manager.create({ id: newId(), bundle: priv.dir, spec: shSpec(priv.dir, 'true', (s) => (s.process!.cwd = '/nope')), driver, stdio: { kind: 'log' } }),
      ).rejects.toThrow(/process\.cwd/);
    } finally {
      priv.cleanup();
    }
  });

  it('runs berth-native from a sealed memfd: /proc/PID/exe of the monitor and the waiting init cannot be written', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const record = await fx.manager.create({ id, bundle: rootfs, spec: shSpec(rootfs, 'true'), driver, stdio: { kind: 'log' } });
    try {
      const h = record.handle as { monitorPid: number; initPid: number };
      for (const pid of [h.monitorPid, h.initPid]) {
        expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:berth-native/);
        expect(() => fs.openSync(`/proc/${pid}/exe`, 'r+')).toThrow(/EPERM|ETXTBSY|EACCES/);
      }
    } finally {
      await fx.manager.delete(id, true);
    }
  });

  it('with a user namespace, uid 0 inside is the unprivileged host uid of the mapping', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const spec = shSpec(rootfs, 'id -u > /dev/null; sleep 30', (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
    try {
      await fx.manager.start(id);
      const { pid } = await fx.manager.state(id);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+100000\s+100000\s+100000\s+100000/m);
      expect(status).toMatch(/^Gid:\s+100000\s/m);
      const io = captureStdio();
      try {
        const r = await fx.manager.exec(id, { args: ['/bin/sh', '-c', 'id -u; cat /proc/self/uid_map'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
        expect(r.exitCode).toBe(0);
        expect(io.read().stdout.split(/\s+/).filter(Boolean)).toEqual(['0', '0', '100000', '65536']);
      } finally {
        io.close();
      }
    } finally {
      await fx.manager.delete(id, true);
    }
  });
});
