/**
 * The libvirt driver against a real libvirtd (lxc:///system): every lifecycle operation on real
 * LXC domains, and that nothing is left behind. CI starts libvirtd with scripts/daemons/libvirtd.sh.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireBackend, describeIf, isRoot } from '../../helpers/backend-gate';
import { captureStdio } from '../../helpers/capture-stdio';
import { testRootfs, TEST_ROOTFS } from '../../helpers/busybox-fixture';
import { harness, hostCgroupFile, leftovers, specFor, URI, virsh } from './libvirt-fixture';
import type { ContainerRef, Fingerprint } from '../../../core';
import { LibvirtDriver } from '../../../drivers/libvirt/libvirt-driver';

const reachable = isRoot && spawnSync('virsh', ['-c', URI, 'version'], { encoding: 'utf8' }).status === 0;
const suite = process.env.CI === 'true' ? describe : describeIf(reachable);

suite('libvirt driver lifecycle (real libvirt LXC domains)', () => {
  const h = harness();
  let rootfs: string;
  let fp: Fingerprint;

  beforeAll(async () => {
    fp = await requireBackend(h.driver);
    rootfs = await testRootfs();
  });
  afterAll(() => h.cleanup());

  const sleeper = async (): Promise<ContainerRef> => {
    const ref = await h.create(specFor(rootfs, ['sleep', '300']), { kind: 'log' });
    await h.driver.start(ref);
    return ref;
  };

  it('fingerprints libvirtd: version, uri, hypervisor', () => {
    expect(fp.available).toBe(true);
    expect(fp.version).toMatch(/^\d+\.\d+/);
    expect(fp.attributes.uri).toBe(URI);
    expect(fp.attributes.hypervisor).toMatch(/LXC/);
  });

  it('runs in the foreground with stdout and stderr apart and the real exit code', async () => {
    const io = captureStdio();
    try {
      const ref = await h.create(specFor(rootfs, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 42']), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await h.driver.start(ref);
      expect(await h.driver.wait(ref)).toEqual({ exitCode: 42 });
      expect(io.read()).toEqual({ stdout: 'to-out\n', stderr: 'to-err\n' });
      expect(await h.driver.state(ref)).toMatchObject({ status: 'stopped', exitCode: 42 });
      await h.driver.delete(ref, false);
      expect(leftovers(ref)).toEqual([]);
    } finally {
      io.close();
    }
  });

  it('passes the caller\'s stdin when given', async () => {
    const io = captureStdio();
    const input = path.join(os.tmpdir(), `berth-lv-stdin-${process.pid}`);
    fs.writeFileSync(input, 'line one\nline two\n');
    const stdin = fs.openSync(input, 'r');
    try {
      const ref = await h.create(specFor(rootfs, ['sh', '-c', 'wc -l; exit 4']), { kind: 'fds', stdin, stdout: io.stdout, stderr: io.stderr });
      await h.driver.start(ref);
      expect(await h.driver.wait(ref)).toEqual({ exitCode: 4 });
      expect(io.read().stdout.trim()).toBe('2');
      await h.driver.delete(ref, false);
    } finally {
      fs.closeSync(stdin);
      fs.rmSync(input, { force: true });
      io.close();
    }
  });

  it('create does not run the user process; start does (OCI create/start)', async () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lv-'));
    try {
      const spec = specFor(rootfs, ['sh', '-c', 'echo ran > /shared/marker; sleep 300'], (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'bind', source: shared, options: ['rbind', 'rw'] });
        s.process!.args = ['sh', '-c', 'echo ran > /mnt/marker; sleep 300'];
      });
      const ref = await h.create(spec, { kind: 'log' });
      const created = await h.driver.state(ref);
      expect(created.status).toBe('created');
      expect(virsh('domstate', String(ref.handle.uuid)).stdout.trim()).toBe('running');
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.existsSync(path.join(shared, 'marker'))).toBe(false);
      await h.driver.start(ref);
      const running = await h.driver.state(ref);
      expect(running.status).toBe('running');
      expect(running.pid).not.toBe(created.pid);
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.readFileSync(path.join(shared, 'marker'), 'utf8')).toBe('ran\n');
      await h.driver.kill(ref, 'SIGKILL', false);
      expect(await h.driver.wait(ref)).toEqual({ exitCode: 137, signal: 'SIGKILL' });
      await h.driver.delete(ref, false);
      expect(leftovers(ref)).toEqual([]);
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it('deleting a created (never started) container removes the domain', async () => {
    const ref = await h.create(specFor(rootfs, ['true']), { kind: 'log' });
    expect((await h.driver.state(ref)).status).toBe('created');
    await h.driver.delete(ref, false);
    expect(leftovers(ref)).toEqual([]);
    await h.driver.delete(ref, true); // idempotent
    await h.driver.delete({ ...ref, handle: {} }, true); // and with an empty handle
  });

  it('runs detached and keeps stdout and stderr for logs', async () => {
    const ref = await h.create(specFor(rootfs, ['sh', '-c', 'echo one; echo two >&2; echo three']), { kind: 'log' });
    await h.driver.start(ref);
    expect((await h.driver.wait(ref)).exitCode).toBe(0);
    const io = captureStdio();
    try {
      await h.driver.logs(ref, { follow: false, stdout: io.stdout, stderr: io.stderr });
      expect(io.read()).toEqual({ stdout: 'one\nthree\n', stderr: 'two\n' });
    } finally {
      io.close();
    }
    await h.driver.delete(ref, false);
  });

  it('exec joins the container: its processes, hostname, cgroup, exit code and separate streams', async () => {
    const ref = await sleeper();
    const io = captureStdio();
    try {
      const initCgroup = fs.readFileSync(`/proc/${ref.handle.initPid}/cgroup`, 'utf8');
      const r = await h.driver.exec(ref, {
        args: ['sh', '-c', 'ps -o comm | grep -cx sleep; hostname; cat /proc/self/cgroup | grep memory; pwd; id -u; echo oops >&2; exit 5'],
        cwd: '/tmp',
        user: { uid: 1000, gid: 1000 },
        stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr },
      });
      expect(r.exitCode).toBe(5);
      const out = io.read();
      const [count, hostname, memcg, pwd, uid] = out.stdout.trim().split('\n');
      expect(count).toBe('1');
      expect(hostname).toBe(ref.spec.hostname);
      expect(initCgroup).toContain(memcg!.split(':').pop()!);
      expect(pwd).toBe('/tmp');
      expect(uid).toBe('1000');
      expect(out.stderr).toBe('oops\n');
      await expect(h.driver.exec(ref, { args: ['true'], tty: true, stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).rejects.toThrow(/exec --tty/);
    } finally {
      io.close();
    }
    await h.driver.delete(ref, true);
    expect(leftovers(ref)).toEqual([]);
  });

  it('a new driver instance re-adopts a running container from its handle alone (recover)', async () => {
    const ref = await sleeper();
    const other = new LibvirtDriver();
    expect(await other.recover(ref)).toEqual(ref.handle);
    expect((await other.state(ref)).status).toBe('running');
    await other.kill(ref, 'SIGKILL', false);
    expect((await other.wait(ref)).exitCode).toBe(137);
    await other.delete(ref, false);
    expect(leftovers(ref)).toEqual([]);
  });

  it('pauses and resumes (virsh suspend/resume)', async () => {
    const ref = await sleeper();
    await h.driver.pause(ref);
    expect((await h.driver.state(ref)).status).toBe('paused');
    expect(virsh('domstate', String(ref.handle.uuid)).stdout.trim()).toBe('paused');
    expect(hostCgroupFile(Number(ref.handle.initPid), 'freezer', 'freezer.state')).toBe('FROZEN');
    await h.driver.resume(ref);
    expect((await h.driver.state(ref)).status).toBe('running');
    expect(hostCgroupFile(Number(ref.handle.initPid), 'freezer', 'freezer.state')).toBe('THAWED');
    await h.driver.delete(ref, true);
  });

  it('reports stats and applies updates (setmem, memtune, schedinfo) to the live cgroups', async () => {
    const ref = await h.create(specFor(rootfs, ['sleep', '300'], (s) => (s.linux!.resources = { memory: { limit: 256 * 1024 * 1024 } })), { kind: 'log' });
    await h.driver.start(ref);
    const stats = await h.driver.stats(ref);
    expect(stats.memory!.usageBytes).toBeGreaterThan(0);
    expect(stats.memory!.limitBytes).toBe(256 * 1024 * 1024);
    expect(stats.cpu!.usageNanos).toBeGreaterThan(0);
    expect(stats.pids!.current).toBe(1);
    await h.driver.update(ref, { memory: { limit: 128 * 1024 * 1024, reservation: 64 * 1024 * 1024 }, cpu: { shares: 256, quota: 20000, period: 100000 } });
    const read = (controller: string, file: string) => hostCgroupFile(Number(ref.handle.initPid), controller, file);
    expect(read('memory', 'memory.limit_in_bytes')).toBe(String(128 * 1024 * 1024));
    expect(read('memory', 'memory.soft_limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(read('cpu', 'cpu.shares')).toBe('256');
    expect(read('cpu', 'cpu.cfs_quota_us')).toBe('20000');
    await expect(h.driver.update(ref, { cpu: { cpus: '0' } })).rejects.toThrow(/linux\.resources\.cpu\.cpus/);
    await h.driver.delete(ref, true);
    expect(leftovers(ref)).toEqual([]);
  });

  it('kill signals the process; kill --all every process but berth\'s init', async () => {
    const ref = await h.create(specFor(rootfs, ['sh', '-c', 'trap "exit 9" TERM; sleep 300 & wait']), { kind: 'log' });
    await h.driver.start(ref);
    await new Promise((r) => setTimeout(r, 200));
    await h.driver.kill(ref, 'SIGTERM', false);
    expect((await h.driver.wait(ref)).exitCode).toBe(9);
    await h.driver.delete(ref, false);

    const all = await h.create(specFor(rootfs, ['sh', '-c', 'sleep 300 & sleep 301 & wait']), { kind: 'log' });
    await h.driver.start(all);
    await new Promise((r) => setTimeout(r, 200));
    await h.driver.kill(all, 'SIGKILL', true);
    expect(await h.driver.wait(all)).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    await h.driver.delete(all, false);
    expect(leftovers(all)).toEqual([]);
  });

  it('a signal to a created container ends it with 128+N', async () => {
    const ref = await h.create(specFor(rootfs, ['true']), { kind: 'log' });
    await h.driver.kill(ref, 'SIGTERM', false);
    expect(await h.driver.wait(ref)).toEqual({ exitCode: 143, signal: 'SIGTERM' });
    await h.driver.delete(ref, false);
  });

  it('--network none: the container sees only lo; without a network namespace it shares the host\'s', async () => {
    const links = async (edit: (s: import('../../../core').Spec) => void) => {
      const io = captureStdio();
      try {
        const ref = await h.create(specFor(rootfs, ['sh', '-c', 'ls /sys/class/net'], edit), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
        await h.driver.start(ref);
        await h.driver.wait(ref);
        await h.driver.delete(ref, false);
        return io.read().stdout.split(/\s+/).filter(Boolean).sort();
      } finally {
        io.close();
      }
    };
    expect(await links(() => {})).toEqual(['lo']);
    const host = fs.readdirSync('/sys/class/net').sort();
    expect(host.length).toBeGreaterThan(1);
    expect(await links((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network')))).toEqual(host);
  });

  it('a failing command still reports its exit code (127 when not found)', async () => {
    const io = captureStdio();
    try {
      const ref = await h.create(specFor(TEST_ROOTFS, ['/no/such/binary']), { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
      await h.driver.start(ref);
      expect((await h.driver.wait(ref)).exitCode).toBe(127);
      expect(io.read().stderr).toMatch(/no\/such\/binary/);
      await h.driver.delete(ref, false);
    } finally {
      io.close();
    }
  });
});
