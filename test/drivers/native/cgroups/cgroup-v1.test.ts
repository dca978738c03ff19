/**
 * The cgroup v1 manager, for real, on this host's v1 hierarchies (root only). Everything lives
 * under a unique `berth-test-<random>` parent in every hierarchy; every process is started here
 * and killed by its recorded pid; afterAll removes the parent tree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { detectBerthCgroupManager, type CgroupHandle } from '../../../../drivers/native/cgroups/cgroup-manager';
import { CgroupV1Manager } from '../../../../drivers/native/cgroups/v1/cgroup-v1-manager';
import { isAlive } from '../../../../core/util/processes';
import { testRootfs } from '../../../helpers/busybox-fixture';

const isRoot = process.getuid?.() === 0;
const isV1 = isRoot && fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') && fs.existsSync('/sys/fs/cgroup/freezer');
if (!isV1) process.stderr.write('SKIP cgroup v1 tests: need root and v1 hierarchies under /sys/fs/cgroup\n');
const d = isV1 ? describe : describe.skip;

const PARENT = `berth-test-${Math.random().toString(36).slice(2, 10)}`;
const MiB = 1024 * 1024;

d('cgroup v1 manager (real)', () => {
  const manager = isV1 ? (detectBerthCgroupManager() as CgroupV1Manager) : (undefined as unknown as CgroupV1Manager);
  const children: ChildProcess[] = [];
  let busybox = '';
  let tmp = '';
  let n = 0;
  const rel = (): string => `${PARENT}/c${++n}`;
  const read = (dir: string | undefined, file: string): string => fs.readFileSync(path.join(dir!, file), 'utf8').trim();

  /** A busybox sh that waits for a line on stdin before running `script`, so it can be put in the cgroup first. */
  function gatedShell(script: string): ChildProcess & { pid: number } {
    const child = spawn(busybox, ['sh', '-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    if (!child.pid) throw new Error('spawn failed');
    child.stdout!.resume();
    return child as ChildProcess & { pid: number };
  }
  const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  const stderrOf = (child: ChildProcess): (() => string) => {
    let text = '';
    child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    return () => text;
  };

  beforeAll(async () => {
    busybox = path.join(await testRootfs(), 'bin/busybox');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg1-'));
  });

  afterAll(async () => {
    for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
    const parents: CgroupHandle = { version: 1, paths: Object.fromEntries(Object.entries(manager.hierarchies).map(([c, m]) => [c, path.join(m, PARENT)])) };
    await manager.destroy(parents);
    for (const dir of Object.values(parents.paths)) expect(fs.existsSync(dir)).toBe(false);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('detects v1 with every mounted hierarchy, and the features this host honours', () => {
    expect(manager.version).toBe(1);
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices', 'blkio']) {
      expect(manager.hierarchies[c]).toBe(fs.realpathSync(`/sys/fs/cgroup/${c}`));
    }
    const features = manager.resourceFeatures();
    expect(features.has('resources.memory.limit')).toBe(true);
    expect(features.has('resources.pids')).toBe(true);
    expect(features.has('resources.devices')).toBe(true);
    expect(features.has('resources.memory.swap')).toBe(fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'));
    expect(features.has('resources.memory.kernel')).toBe(false);
    expect(features.has('resources.unified')).toBe(false);
    expect(manager.deviceFilter({ devices: [{ allow: false, access: 'rwm' }] })).toBeUndefined(); // devices.allow/deny do it on v1
  });

  test('create writes every limit; procsFiles are one per hierarchy; join moves a real process', async () => {
    const swap = manager.resourceFeatures().has('resources.memory.swap');
    const h = await manager.create(rel(), {
      memory: { limit: 64 * MiB, reservation: 32 * MiB, ...(swap ? { swap: 96 * MiB } : {}), swappiness: 10 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 42 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
    });
    expect(read(h.paths.memory, 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    expect(read(h.paths.memory, 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
    if (swap) expect(read(h.paths.memory, 'memory.memsw.limit_in_bytes')).toBe(String(96 * MiB));
    expect(read(h.paths.memory, 'memory.swappiness')).toBe('10');
    expect(read(h.paths.cpu, 'cpu.shares')).toBe('512');
    expect(read(h.paths.cpu, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read(h.paths.cpu, 'cpu.cfs_period_us')).toBe('100000');
    expect(read(h.paths.cpuset, 'cpuset.cpus')).toBe('0');
    expect(read(h.paths.cpuset, 'cpuset.mems')).toBe('0');
    // The intermediate level got cpus/mems from its parent, or no task could ever enter.
    expect(read(path.dirname(h.paths.cpuset!), 'cpuset.cpus')).toBe(read(manager.hierarchies.cpuset, 'cpuset.cpus'));
    expect(read(h.paths.pids, 'pids.max')).toBe('42');
    const devices = read(h.paths.devices, 'devices.list').split('\n');
    expect(devices).toContain('c 1:3 rwm'); // spec rule rw merged with the OCI default rwm for /dev/null
    expect(devices).toContain('c 136:* rwm');
    expect(devices).not.toContain('a *:* rwm');

    const files = manager.procsFiles(h);
    expect(new Set(files).size).toBe(files.length);
    expect(files.length).toBe(new Set(Object.values(manager.hierarchies)).size);
    for (const f of files) expect(fs.existsSync(f)).toBe(true);

    const child = gatedShell(`${busybox} ls -R /proc/self > /dev/null; sleep 100`);
    await manager.join(h, child.pid);
    const own = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
    for (const c of ['memory', 'pids', 'freezer', 'cpuset', 'devices']) expect(own).toMatch(new RegExp(`:${c}:/${h.paths.memory!.split('/').slice(-2).join('/')}$`, 'm'));
    expect(await manager.pids(h)).toEqual([child.pid]);
    expect((await manager.stats(h)).pids).toEqual({ current: 1, limit: 42 });
    child.stdin!.write('go\n'); // some work inside, so that memory and cpu are charged to the cgroup
    await new Promise((r) => setTimeout(r, 200));
    const stats = await manager.stats(h);
    expect(stats.memory?.limitBytes).toBe(64 * MiB);
    expect(stats.memory!.usageBytes).toBeGreaterThan(0);
    expect(stats.cpu!.usageNanos).toBeGreaterThan(0);
    await manager.destroy(h);
    expect(isAlive(child.pid)).toBe(false);
    for (const dir of Object.values(h.paths)) expect(fs.existsSync(dir)).toBe(false);
    await manager.destroy(h); // idempotent
  });

  test('a pids limit contains a fork loop', async () => {
    const h = await manager.create(rel(), { pids: { limit: 5 } });
    const child = gatedShell('i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo forked; wait');
    const stderr = stderrOf(child);
    await manager.join(h, child.pid);
    child.stdin!.write('go\n');
    const deadline = Date.now() + 5000;
    while (!/fork|Resource temporarily unavailable/i.test(stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stderr()).toMatch(/fork|Resource temporarily unavailable/i);
    expect((await manager.pids(h)).length).toBeLessThanOrEqual(5);
    expect((await manager.stats(h)).pids!.current).toBeLessThanOrEqual(5);
    await manager.destroy(h);
    expect(isAlive(child.pid)).toBe(false);
    expect(fs.existsSync(h.paths.pids!)).toBe(false);
  });

  test('a memory limit OOM-kills a process that allocates past it, and oomKilled/stats report it', async () => {
    const h = await manager.create(rel(), { memory: { limit: 16 * MiB } });
    expect(await manager.oomKilled(h)).toBe(false);
    const child = gatedShell(`a=$(${busybox} head -c 100000000 /dev/zero | ${busybox} tr '\\0' x); echo survived`);
    await manager.join(h, child.pid);
    child.stdin!.write('go\n');
    const result = await exited(child);
    expect(result.signal).toBe('SIGKILL');
    expect(await manager.oomKilled(h)).toBe(true);
    expect((await manager.stats(h)).memory!.oomEvents).toBeGreaterThanOrEqual(1);
    await manager.destroy(h);
  });

  test('freeze stops progress, thaw resumes it; update changes limits live', async () => {
    const h = await manager.create(rel(), { pids: { limit: 10 }, memory: { limit: 64 * MiB } });
    const counter = path.join(tmp, 'counter');
    const child = gatedShell(`i=0; while true; do i=$((i+1)); echo $i > ${counter}; sleep 0.02; done`);
    await manager.join(h, child.pid);
    child.stdin!.write('go\n');
    const value = (): number => Number(fs.readFileSync(counter, 'utf8').trim() || 0);
    await new Promise((r) => setTimeout(r, 200));
    await manager.freeze(h);
    expect(await manager.isFrozen(h)).toBe(true);
    const frozenAt = value();
    await new Promise((r) => setTimeout(r, 300));
    expect(value()).toBe(frozenAt);
    await manager.thaw(h);
    expect(await manager.isFrozen(h)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(value()).toBeGreaterThan(frozenAt);

    const swap = manager.resourceFeatures().has('resources.memory.swap');
    await manager.update(h, { pids: { limit: 20 }, memory: { limit: 256 * MiB, ...(swap ? { swap: 256 * MiB } : {}) } });
    expect(read(h.paths.pids, 'pids.max')).toBe('20');
    expect(read(h.paths.memory, 'memory.limit_in_bytes')).toBe(String(256 * MiB));
    await manager.update(h, { memory: { limit: 32 * MiB, ...(swap ? { swap: 32 * MiB } : {}) } });
    expect(read(h.paths.memory, 'memory.limit_in_bytes')).toBe(String(32 * MiB));
    await manager.update(h, { pids: { limit: -1 } });
    expect(read(h.paths.pids, 'pids.max')).toBe('max');
    await manager.destroy(h);
    expect(isAlive(child.pid)).toBe(false);
  });

  test('killAll signals every process; destroy of a paused cgroup whose processes ignore SIGTERM leaves nothing', async () => {
    const h = await manager.create(rel(), undefined);
    const polite = gatedShell('sleep 100 & sleep 100 & wait');
    await manager.join(h, polite.pid);
    polite.stdin!.write('go\n');
    while ((await manager.pids(h)).length < 3) await new Promise((r) => setTimeout(r, 10));
    const before = await manager.pids(h);
    await manager.killAll(h, 'SIGTERM');
    await exited(polite);
    const deadline = Date.now() + 3000;
    while ((await manager.pids(h)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await manager.pids(h)).toEqual([]);
    for (const pid of before) expect(isAlive(pid)).toBe(false);

    const stubborn = gatedShell("trap '' TERM; sleep 100 & sleep 100 & while true; do wait; done");
    await manager.join(h, stubborn.pid);
    stubborn.stdin!.write('go\n');
    while ((await manager.pids(h)).length < 3) await new Promise((r) => setTimeout(r, 10));
    const pids = await manager.pids(h);
    await manager.freeze(h);
    await manager.destroy(h);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const dir of Object.values(h.paths)) expect(fs.existsSync(dir)).toBe(false);
  });

  test('unsupported or invalid resources are refused before any directory is created', async () => {
    const r = rel();
    await expect(manager.create(r, { memory: { kernel: 1 } })).rejects.toMatchObject({ code: 'FEATURE_NOT_SUPPORTED' });
    await expect(manager.create(r, { unified: { 'memory.high': '1' } })).rejects.toMatchObject({ code: 'FEATURE_NOT_SUPPORTED' });
    await expect(manager.create('../escape', undefined)).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    for (const mount of Object.values(manager.hierarchies)) expect(fs.existsSync(path.join(mount, r))).toBe(false);
    // A value the kernel refuses: create fails and removes what it made.
    await expect(manager.create(r, { cpu: { cpus: '999' } })).rejects.toThrow(/cpuset\.cpus/);
    for (const mount of Object.values(manager.hierarchies)) expect(fs.existsSync(path.join(mount, r))).toBe(false);
  });
});
