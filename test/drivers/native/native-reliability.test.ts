/** The native driver's reliability points (issue 3): nothing left behind, limits, pause, surviving the CLI. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { requireBackend } from '../../helpers/backend-gate';
import { privateRootfs, testRootfs } from '../../helpers/busybox-fixture';
import { isAlive } from '../../../core/util/processes';
import type { Spec } from '../../../core/spec/oci-spec';
import type { ContainerRecord } from '../../../core/state/container-record';
import type { NativeHandle } from '../../../drivers/native/native-state-files';
import { expectedCgroupHandle } from '../../../drivers/native/cgroup-intent';
import { captureStdio, managerOn, newId, nativeFixture, shSpec, type NativeFixture } from './native-fixture';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every host pid whose mount namespace is `ns` (a container's mounts live exactly as long as these). */
function pidsInMountNs(ns: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/mnt`) === ns) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('native driver: reliability', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  async function startDetached(spec: Spec): Promise<{ id: string; record: ContainerRecord; handle: NativeHandle }> {
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const record = await fx.manager.create({ id, bundle: rootfs, spec, driver, stdio: { kind: 'log' } });
    await fx.manager.start(id);
    return { id, record, handle: record.handle as unknown as NativeHandle };
  }

  /** What must be gone: every process seen in the cgroup, the monitor, the cgroup dirs, the mount namespace, the state. */
  async function expectNothingLeft(id: string, handle: NativeHandle, pids: number[], mntNs: string): Promise<void> {
    for (const pid of [...pids, handle.initPid, handle.monitorPid]) expect(isAlive(pid)).toBe(false);
    for (const dir of Object.values(handle.cgroup.paths)) expect(fs.existsSync(dir)).toBe(false);
    expect(pidsInMountNs(mntNs)).toEqual([]);
    expect(await fx.manager.store.exists(id)).toBe(false);
  }

  const stubborn = 'trap "" TERM; sleep 1000 & sleep 1000 & while :; do sleep 1; done';

  for (const paused of [false, true]) {
    it(`delete --force leaves nothing, for a ${paused ? 'paused ' : ''}container whose PID 1 ignores SIGTERM`, async () => {
      if (!available) return;
      const { id, handle } = await startDetached(shSpec(rootfs, stubborn));
      await sleep(100);
      const mntNs = fs.readlinkSync(`/proc/${handle.initPid}/ns/mnt`);
      const pids = await fx.driver['cgroups']().pids(handle.cgroup);
      expect(pids.length).toBeGreaterThanOrEqual(3);
      if (paused) {
        await fx.manager.pause(id);
        expect((await fx.manager.state(id)).status).toBe('paused');
      }
      await fx.manager.kill(id, 'SIGTERM', false);
      await sleep(100);
      expect((await fx.manager.state(id)).status).toBe(paused ? 'paused' : 'running');
      await fx.manager.delete(id, true);
      await expectNothingLeft(id, handle, pids, mntNs);
    });

    it(`kill --all SIGKILL stops every process${paused ? ' of a paused container' : ''}; delete then leaves nothing`, async () => {
      if (!available) return;
      const { id, handle } = await startDetached(shSpec(rootfs, stubborn, (s) => s.linux!.namespaces!.splice(s.linux!.namespaces!.findIndex((n) => n.type === 'pid'), 1)));
      await sleep(100);
      const mntNs = fs.readlinkSync(`/proc/${handle.initPid}/ns/mnt`);
      const pids = await fx.driver['cgroups']().pids(handle.cgroup);
      expect(pids.length).toBeGreaterThanOrEqual(3); // no pid namespace: the init's death alone would not kill them
      if (paused) await fx.manager.pause(id);
      await fx.manager.kill(id, 'SIGKILL', true);
      const exit = await fx.manager.wait(id);
      expect(exit.exitCode).toBe(137);
      for (let i = 0; i < 100 && pids.some(isAlive); i++) await sleep(10);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      await fx.manager.delete(id, false);
      await expectNothingLeft(id, handle, pids, mntNs);
    });
  }

  it('pause freezes (state paused, no progress) and resume thaws', async () => {
    if (!available) return;
    const { id, handle } = await startDetached(shSpec(rootfs, 'i=0; while :; do i=$((i+1)); echo $i > /dev/shm/n; usleep 20000; done'));
    const counter = () => Number(fs.readFileSync(`/proc/${handle.initPid}/root/dev/shm/n`, 'utf8'));
    await sleep(200);
    await fx.manager.pause(id);
    expect((await fx.manager.state(id)).status).toBe('paused');
    const frozenAt = counter();
    await sleep(300);
    expect(counter()).toBe(frozenAt);
    await fx.manager.resume(id);
    expect((await fx.manager.state(id)).status).toBe('running');
    await sleep(300);
    expect(counter()).toBeGreaterThan(frozenAt);
    await fx.manager.delete(id, true);
  });

  it('enforces a memory limit: the OOM kill is reported by wait and state', async () => {
    if (!available) return;
    const limit = 32 * 1024 * 1024;
    const spec = shSpec(rootfs, 'tail /dev/zero', (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit, ...(fx.driver.features.has('resources.memory.swap') ? { swap: limit } : {}) } };
    });
    const { id } = await startDetached(spec);
    const exit = await fx.manager.wait(id);
    expect(exit).toMatchObject({ exitCode: 137, signal: 'SIGKILL', oomKilled: true });
    expect(await fx.manager.state(id)).toMatchObject({ status: 'stopped', exitCode: 137, oomKilled: true });
    await fx.manager.delete(id, false);
  });

  it('contains a fork loop with a pids limit', async () => {
    if (!available) return;
    const spec = shSpec(rootfs, 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; echo spawned; sleep 30', (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 16 } };
    });
    const { id, handle } = await startDetached(spec);
    for (let i = 0; i < 200 && !fs.readFileSync(path.join(fx.manager.store.driverDir(id), 'stdout.log'), 'utf8').includes('spawned'); i++) await sleep(20);
    const stats = await fx.manager.stats(id);
    expect(stats.pids?.current).toBeLessThanOrEqual(16);
    expect((await fx.driver['cgroups']().pids(handle.cgroup)).length).toBeLessThanOrEqual(16);
    await fx.manager.delete(id, true);
  });

  it('records the exit status and a detached container\'s output for logs', async () => {
    if (!available) return;
    const { id } = await startDetached(shSpec(rootfs, 'echo to-out; echo to-err >&2; exit 3'));
    expect((await fx.manager.wait(id)).exitCode).toBe(3);
    const dir = fx.manager.store.driverDir(id);
    expect(fs.readFileSync(path.join(dir, 'stdout.log'), 'utf8')).toBe('to-out\n');
    expect(fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8')).toBe('to-err\n');
    await fx.manager.delete(id, false);
  });

  it('places the container in linux.cgroupsPath and removes it at delete', async () => {
    if (!available) return;
    const id = newId();
    const rel = `berth-test-${id}/inner`;
    const { handle } = await startDetached(shSpec(rootfs, 'sleep 100', (s) => (s.linux!.cgroupsPath = `/${rel}`)));
    try {
      expect(handle.cgroup.paths.memory).toBe(`/sys/fs/cgroup/memory/${rel}`);
      const procs = fs.readFileSync(path.join(handle.cgroup.paths.memory!, 'cgroup.procs'), 'utf8');
      expect(procs.split('\n')).toContain(String(handle.initPid));
    } finally {
      await fx.manager.delete((await fx.manager.list()).find((c) => c.pid === handle.initPid)!.id, true);
      for (const dir of Object.values(handle.cgroup.paths)) {
        expect(fs.existsSync(dir)).toBe(false);
        try {
          fs.rmdirSync(path.dirname(dir)); // the parent the test asked for
        } catch {
          /* shared or already gone */
        }
      }
    }
  });

  it("writes the cgroup handle before creating the cgroup, equal to the manager's", async () => {
    if (!available) return;
    const rel = `berth/${newId()}`;
    const cgroups = fx.driver['cgroups']();
    const real = await cgroups.create(rel, undefined);
    try {
      expect(expectedCgroupHandle(rel)).toEqual(real);
    } finally {
      await cgroups.destroy(real);
    }
  });

  it('bridge networking: eth0 with an address inside, and delete --force removes the host veth', async () => {
    if (!available) return;
    const { id, handle } = await startDetached(shSpec(rootfs, 'sleep 100', (s) => {
      s.annotations = { ...s.annotations, 'org.berth.network': 'bridge' };
    }));
    const record = handle.network as { ips: string[]; interfaces?: { name: string; sandbox?: string }[] };
    expect(record.ips.length).toBeGreaterThan(0);
    const hostSide = (record.interfaces ?? []).filter((i) => !i.sandbox).map((i) => i.name).filter((n) => n.startsWith('veth'));
    expect(hostSide.length).toBe(1);
    expect(fs.existsSync(`/sys/class/net/${hostSide[0]}`)).toBe(true);
    const io = captureStdio();
    try {
      await fx.manager.exec(id, { args: ['cat', '/proc/net/dev'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } });
      expect(io.read().stdout).toMatch(/eth0:/);
    } finally {
      io.close();
    }
    await fx.manager.delete(id, true);
    expect(fs.existsSync(`/sys/class/net/${hostSide[0]}`)).toBe(false);
  });

  it('refuses a bad spec before anything exists', async () => {
    if (!available) return;
    const driver = await fx.manager['registry'].get('native');
    const before = fs.existsSync('/sys/fs/cgroup/memory/berth') ? fs.readdirSync('/sys/fs/cgroup/memory/berth') : [];
    for (const patch of [
      (s: Spec) => s.linux!.namespaces!.push({ type: 'time' }),
      (s: Spec) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] }),
      (s: Spec) => (s.linux!.sysctl = { 'kernel.panic': '1' }),
    ]) {
      const id = newId();
      await expect(fx.manager.create({ id, bundle: rootfs, spec: shSpec(rootfs, 'true', patch), driver, stdio: { kind: 'log' } })).rejects.toThrow(/time|idmap|sysctl/);
      expect(await fx.manager.store.exists(id)).toBe(false);
    }
    const after = fs.existsSync('/sys/fs/cgroup/memory/berth') ? fs.readdirSync('/sys/fs/cgroup/memory/berth') : [];
    expect(after).toEqual(before);
  });

  it('a record left half-created (CLI killed mid-create) is cleaned by delete --force', async () => {
    if (!available) return;
    const id = newId();
    const driver = await fx.manager['registry'].get('native');
    const spec = shSpec(rootfs, 'sleep 100');
    // What a CLI killed between the driver's create and the record update leaves: phase creating, no handle.
    await fx.manager.store.claim(id);
    await fx.manager.store.write({ version: 1, id, driver: 'native', bundle: rootfs, created: new Date().toISOString(), phase: 'creating', stdio: 'log' }, spec);
    const handle = (await driver.create({ id, bundle: rootfs, spec: { ...spec, root: { ...spec.root!, path: rootfs } }, stateDir: fx.manager.store.driverDir(id), options: {}, stdio: { kind: 'log' } })) as unknown as NativeHandle;
    const mntNs = fs.readlinkSync(`/proc/${handle.initPid}/ns/mnt`);
    await expect(fx.manager.state(id)).rejects.toThrow(/never fully created/);
    await fx.manager.delete(id, true);
    await expectNothingLeft(id, handle, [handle.initPid], mntNs);
  });

  it('a CLI SIGKILLed at any point of create leaves a record that delete --force cleans completely', async () => {
    if (!available) return;
    const cli = path.resolve(__dirname, '../../../dist/cli/main.js');
    if (!fs.existsSync(cli)) throw new Error('build first: npm run build');
    const priv = privateRootfs();
    // Any process still rooted in this rootfs (a waiting init, a running container) would be a leak.
    const rootedInside = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readlinkSync(`/proc/${p}/root`) === priv.dir;
      } catch {
        return false;
      }
    });
    try {
      // Killed once the id is claimed, after 0..150 ms more: before, during and after the driver's create.
      for (const delay of [0, 5, 15, 30, 60, 150]) {
        const id = newId();
        const child = spawn(process.execPath, [cli, '--root', fx.stateRoot, 'create', id, '--rootfs', priv.dir, '--', 'sleep', '100'], { stdio: 'ignore' });
        const exited = new Promise((r) => child.on('exit', r)); // it may finish on its own first
        for (let i = 0; i < 1000 && !fs.existsSync(path.join(fx.stateRoot, id)); i++) await sleep(2);
        await sleep(delay);
        child.kill('SIGKILL');
        await exited;
        const manager = managerOn(fx.stateRoot);
        if (process.env.BERTH_TEST_TRACE) process.stderr.write(`delay ${delay}: ${(await manager.store.read(id).catch(() => undefined))?.phase ?? (await manager.store.exists(id) ? 'claimed' : 'none')}\n`);
        if (await manager.store.exists(id)) await manager.delete(id, true);
        expect(await manager.store.exists(id)).toBe(false);
        for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) expect(fs.existsSync(`/sys/fs/cgroup/${hierarchy}/berth/${id}`)).toBe(false);
        for (let i = 0; i < 50 && rootedInside().length > 0; i++) await sleep(20);
        expect(rootedInside()).toEqual([]);
      }
    } finally {
      priv.cleanup();
    }
  });

  it('a container outlives a SIGKILLed CLI and a new manager manages it', async () => {
    if (!available) return;
    const cli = path.resolve(__dirname, '../../../dist/cli/main.js');
    if (!fs.existsSync(cli)) throw new Error('build first: npm run build');
    const id = newId();
    // A foreground `run`, SIGKILLed while it waits for the container.
    const child = spawn(process.execPath, [cli, '--root', fx.stateRoot, 'run', '--name', id, '--hostname', 'clihost', '--rootfs', rootfs, '--', 'sleep', '100'], { stdio: 'ignore' });
    const manager = managerOn(fx.stateRoot);
    for (let i = 0; i < 300; i++) {
      const s = await manager.state(id).catch(() => undefined);
      if (s?.status === 'running') break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await sleep(100);
    const fresh = managerOn(fx.stateRoot);
    expect((await fresh.state(id)).status).toBe('running');
    const io = captureStdio();
    try {
      expect((await fresh.exec(id, { args: ['hostname'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).exitCode).toBe(0);
      expect(io.read().stdout).toBe('clihost\n');
    } finally {
      io.close();
    }
    await fresh.kill(id, 'SIGKILL', false);
    expect((await fresh.wait(id)).exitCode).toBe(137);
    await fresh.delete(id, false);
    expect(await fresh.store.exists(id)).toBe(false);
  });
});
