/** exec joins everything of the container; hooks run with the state on stdin; stats and update are live. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs } from '../../helpers/busybox-fixture';
import { DEFAULT_CAPABILITIES } from '../../../core/spec/capabilities';
import { capabilityMask } from '../../../drivers/native/launch-plan';
import { seccompCompiler } from '../../../drivers/native/seccomp-compiler';
import type { NativeHandle } from '../../../drivers/native/native-state-files';
import { captureStdio, newId, nativeFixture, shSpec, type NativeFixture } from './native-fixture';

describe('native driver: exec, hooks, stats, update', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  it('exec joins every namespace, the cgroup, capabilities, no_new_privs and seccomp of the container', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const spec = shSpec(rootfs, 'echo $$ > /dev/shm/init; sleep 100', (s) => {
      s.hostname = 'exec-host';
      if (seccompCompiler()) s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    const record = await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
    const h = record.handle as unknown as NativeHandle;
    try {
      await fx.manager.start(id);
      const io = captureStdio();
      try {
        const script = 'hostname; cat /dev/shm/init; cat /proc/self/cgroup; grep -E "CapEff|NoNewPrivs|Seccomp:" /proc/self/status; mkdir /dev/shm/d 2>/dev/null; echo mkdir=$?; exit 5';
        const r = await fx.manager.exec(id, { args: ['/bin/sh', '-c', script], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
        expect(r.exitCode).toBe(5);
        const out = io.read().stdout;
        const lines = out.split('\n');
        expect(lines[0]).toBe('exec-host'); // uts
        expect(lines[1]).toBe('1'); // the container's /dev/shm (mount) and its pid namespace
        // In the container's cgroup namespace its own cgroup is "/"; any other cgroup would show as "/..".
        expect(out).toMatch(h.cgroup.version === 1 ? /^\d+:memory:\/$/m : /^0::\/$/m);
        expect(out).not.toContain('/..');
        expect(out).toMatch(new RegExp(`CapEff:\\s*${capabilityMask(DEFAULT_CAPABILITIES, 'c').toString(16).padStart(16, '0')}`));
        expect(out).toMatch(/NoNewPrivs:\s*1/);
        if (seccompCompiler()) {
          expect(out).toMatch(/Seccomp:\s*2/);
          expect(out).toContain('mkdir=1');
        }
      } finally {
        io.close();
      }
      await expect(fx.manager.exec(id, { args: ['/no/such/binary'], stdio: { stdin: null, stdout: 1, stderr: 2 } })).rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
    } finally {
      await fx.manager.delete(id, true);
    }
  });

  it('runs createRuntime, prestart, poststart and poststop hooks with the state JSON on stdin', async () => {
    if (!available) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hooks-'));
    try {
      const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json`] });
      const id = newId();
      const driver = await fx.manager['registry'].get('native');
      const spec = shSpec(rootfs, 'sleep 100', (s) => {
        s.hooks = { createRuntime: [hook('createRuntime')], prestart: [hook('prestart')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
      });
      await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
      const created = JSON.parse(fs.readFileSync(path.join(dir, 'createRuntime.json'), 'utf8'));
      expect(created).toMatchObject({ id, status: 'created', bundle: rootfs });
      expect(created.pid).toBe((await fx.manager.state(id)).pid);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'prestart.json'), 'utf8')).status).toBe('created');
      expect(fs.existsSync(path.join(dir, 'poststart.json'))).toBe(false);
      await fx.manager.start(id);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststart.json'), 'utf8')).status).toBe('running');
      await fx.manager.delete(id, true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststop.json'), 'utf8'))).toMatchObject({ id, status: 'stopped' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs createContainer and startContainer hooks inside the container, with the state on stdin', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const inside = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > /dev/shm/${name}.json; hostname >> /dev/shm/${name}.host`] });
    const spec = shSpec(rootfs, 'sleep 100', (s) => {
      s.hostname = 'hooked';
      s.hooks = { createContainer: [inside('createContainer')], startContainer: [inside('startContainer')] };
    });
    await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
    try {
      const { pid } = await fx.manager.state(id);
      const shm = `/proc/${pid}/root/dev/shm`;
      expect(JSON.parse(fs.readFileSync(`${shm}/createContainer.json`, 'utf8'))).toMatchObject({ id, status: 'created', pid, bundle: rootfs });
      expect(fs.readFileSync(`${shm}/createContainer.host`, 'utf8')).toBe('hooked\n'); // the container's uts namespace
      expect(fs.existsSync(`${shm}/startContainer.json`)).toBe(false);
      await fx.manager.start(id);
      expect(JSON.parse(fs.readFileSync(`${shm}/startContainer.json`, 'utf8'))).toMatchObject({ id, pid });
    } finally {
      await fx.manager.delete(id, true);
    }
  });

  it('a failing startContainer hook fails start', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const spec = shSpec(rootfs, 'echo should-not-run', (s) => (s.hooks = { startContainer: [{ path: '/bin/false' }] }));
    await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
    try {
      await expect(fx.manager.start(id)).rejects.toThrow(/hooks\.startContainer \/bin\/false failed/);
      expect(fs.readFileSync(path.join(fx.manager.store.driverDir(id), 'stdout.log'), 'utf8')).toBe('');
    } finally {
      await fx.manager.delete(id, true);
    }
  });

  it('a failing createRuntime hook fails create and leaves nothing', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const spec = shSpec(rootfs, 'true', (s) => (s.hooks = { createRuntime: [{ path: '/bin/false' }] }));
    await expect(fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } })).rejects.toThrow(/createRuntime/);
    expect(await fx.manager.store.exists(id)).toBe(false);
    expect(fs.existsSync(`/sys/fs/cgroup/memory/berth/${id}`)).toBe(false);
  });

  it('reports stats and applies a live update', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const record = await fx.manager.create({ id, bundle: rootfs, spec: shSpec(rootfs, 'sleep 100'), driver, stdio: { kind: 'log' } });
    const h = record.handle as unknown as NativeHandle;
    try {
      await fx.manager.start(id);
      const stats = await fx.manager.stats(id);
      expect(stats.pids?.current).toBeGreaterThanOrEqual(1);
      expect(stats.memory?.usageBytes).toBeGreaterThan(0);
      await fx.manager.update(id, { memory: { limit: 64 * 1024 * 1024 } });
      if (h.cgroup.version === 1) expect(fs.readFileSync(path.join(h.cgroup.paths.memory!, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 1024 * 1024));
      expect((await fx.manager.stats(id)).memory?.limitBytes).toBe(64 * 1024 * 1024);
    } finally {
      await fx.manager.delete(id, true);
    }
  });
});

describe('native driver: process.terminal', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  it("gives the init a pty from the container's own devpts, with the console size, relayed to stdout", async () => {
    if (!available) return;
    const io = captureStdio();
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    try {
      const spec = shSpec(rootfs, 'tty; stty size; test -t 0 && echo stdin-is-tty; ls /dev/pts', (s) => {
        s.process!.terminal = true;
        s.process!.consoleSize = { height: 33, width: 101 };
      });
      await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
      await fx.manager.start(id);
      expect((await fx.manager.wait(id)).exitCode).toBe(0);
      const out = io.read().stdout.split('\r\n');
      expect(out.slice(0, 3)).toEqual(['/dev/pts/0', '33 101', 'stdin-is-tty']);
      expect(out[3]).toMatch(/^0\s+ptmx$/); // a fresh devpts instance: only our pty
    } finally {
      await fx.manager.delete(id, true).catch(() => undefined);
      io.close();
    }
  });

  it('exec with tty gets a pty inside the container', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    await fx.manager.create({ id, bundle: rootfs, spec: shSpec(rootfs, 'sleep 100'), driver, stdio: { kind: 'log' } });
    const io = captureStdio();
    try {
      await fx.manager.start(id);
      const r = await fx.manager.exec(id, { args: ['tty'], tty: true, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect(r.exitCode).toBe(0);
      expect(io.read().stdout).toBe('/dev/pts/0\r\n');
    } finally {
      io.close();
      await fx.manager.delete(id, true);
    }
  });
});
