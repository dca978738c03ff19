/**
 * The cgroup v2 manager against a temporary folder laid out like a cgroup2 mount (this host is
 * hybrid v1, so v2 cannot run for real here): checks exactly which values are written to which
 * files and how the kernel's files are parsed. Pure write lists are checked in full through
 * writesFor(); multi-line files (io.max) keep only their last write in a plain folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { detectBerthCgroupManager, detectCgroupManager, cgroupResourceFeatures } from '../../../../drivers/native/cgroups/cgroup-manager';
import { CgroupV2Manager } from '../../../../drivers/native/cgroups/v2/cgroup-v2-manager';
import { sharesToWeight } from '../../../../drivers/native/cgroups/v2/v2-cpu';
import { blkioToIoWeight } from '../../../../drivers/native/cgroups/v2/v2-io';
import { compileDeviceFilter } from '../../../../drivers/native/cgroups/v2/device-filter';
import { isAlive } from '../../../../core/util/processes';

const MiB = 1024 * 1024;
const ALL = 'cpuset cpu io memory hugetlb pids rdma misc';

function fakeRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg2-'));
  const put = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put('cgroup.controllers', `${ALL}\n`);
  put('cgroup.subtree_control', 'memory\n');
  put('cgroup.procs', '1\n');
  // An existing child, as init.scope on a systemd host: files that only exist below the root.
  for (const f of ['memory.swap.max', 'cpu.max.burst', 'cpu.idle', 'memory.current']) put(`init.scope/${f}`, '0\n');
  return root;
}

/** What the kernel would show in a new cgroup's directory (a fake kernel for one level). */
function fakeLevel(root: string, rel: string, files: Record<string, string>): string {
  const dir = path.join(root, rel);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');

describe('cgroup v2 manager (fake cgroupfs)', () => {
  let root: string;
  let manager: CgroupV2Manager;
  beforeEach(() => {
    root = fakeRoot();
    manager = detectBerthCgroupManager(root) as CgroupV2Manager;
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('detection: a root with cgroup.controllers is v2, with the features its controllers give', () => {
    expect(manager).toBeInstanceOf(CgroupV2Manager);
    expect(detectCgroupManager(root).version).toBe(2);
    const f = cgroupResourceFeatures(manager);
    for (const x of ['resources.memory.limit', 'resources.memory.swap', 'resources.cpu.shares', 'resources.cpu.quota', 'resources.cpu.burst',
      'resources.cpu.cpus', 'resources.pids', 'resources.blockIO.weight', 'resources.blockIO.throttle', 'resources.hugepageLimits',
      'resources.unified', 'resources.devices'] as const) expect(f.has(x)).toBe(true);
    for (const x of ['resources.memory.swappiness', 'resources.memory.disableOOMKiller', 'resources.memory.kernel', 'resources.cpu.realtime',
      'resources.network'] as const) expect(f.has(x)).toBe(false);
    // Fewer controllers, fewer features.
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'memory pids\n');
    const small = cgroupResourceFeatures(detectCgroupManager(root));
    expect(small.has('resources.pids')).toBe(true);
    expect(small.has('resources.cpu.shares')).toBe(false);
  });

  test('conversions: shares to weight, blkio weight to io.weight, swap to memory.swap.max', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10000);
    expect(blkioToIoWeight(500)).toBe(4950);
    expect(manager.writesFor({
      memory: { limit: 64 * MiB, swap: 96 * MiB, reservation: 32 * MiB },
      cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, cpus: '0-1', mems: '0', idle: 0 },
      pids: { limit: 100 },
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }],
      unified: { 'memory.high': '50000000' },
    })).toEqual([
      { file: 'memory.swap.max', value: String(32 * MiB) },
      { file: 'memory.max', value: String(64 * MiB) },
      { file: 'memory.low', value: String(32 * MiB) },
      { file: 'cpu.weight', value: '39' },
      { file: 'cpu.max', value: '50000 100000' },
      { file: 'cpu.max.burst', value: '1000' },
      { file: 'cpu.idle', value: '0' },
      { file: 'cpuset.cpus', value: '0-1' },
      { file: 'cpuset.mems', value: '0' },
      { file: 'pids.max', value: '100' },
      { file: 'io.weight', value: 'default 4950' },
      { file: 'io.weight', value: '8:0 910' },
      { file: 'io.max', value: '8:0 rbps=1048576' },
      { file: 'io.max', value: '8:16 wiops=max' },
      { file: 'hugetlb.2MB.max', value: String(4 * MiB) },
      { file: 'memory.high', value: '50000000' },
    ]);
    expect(manager.writesFor({ memory: { limit: -1 }, cpu: { quota: -1 }, pids: { limit: 0 } })).toEqual([
      { file: 'memory.swap.max', value: 'max' },
      { file: 'memory.max', value: 'max' },
      { file: 'cpu.max', value: 'max' },
      { file: 'pids.max', value: 'max' },
    ]);
  });

  test('create enables controllers level by level, writes the limits, and procsFiles/join name the one directory', async () => {
    fakeLevel(root, 'berth', { 'cgroup.controllers': `${ALL}\n`, 'cgroup.subtree_control': '' });
    const h = await manager.create('berth/c1', { memory: { limit: 64 * MiB, swap: 64 * MiB }, cpu: { shares: 512, quota: 20000 }, pids: { limit: 7 } });
    const dir = path.join(root, 'berth/c1');
    expect(h).toEqual({ version: 2, paths: { unified: dir } });
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
    // memory was already on at the root: only the rest is enabled there; everything one level down. rdma/misc are not wanted.
    expect(read(root, 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +pids +hugetlb');
    expect(read(path.join(root, 'berth'), 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +pids +hugetlb');
    expect(read(dir, 'memory.max')).toBe(String(64 * MiB));
    expect(read(dir, 'memory.swap.max')).toBe('0');
    expect(read(dir, 'cpu.weight')).toBe(String(sharesToWeight(512)));
    expect(read(dir, 'cpu.max')).toBe('20000');
    expect(read(dir, 'pids.max')).toBe('7');
    expect(manager.procsFiles(h)).toEqual([path.join(dir, 'cgroup.procs')]);
    await manager.join(h, 4242);
    expect(read(dir, 'cgroup.procs')).toBe('4242');
    await manager.update(h, { memory: { limit: 128 * MiB }, pids: { limit: 9 } });
    expect(read(dir, 'memory.max')).toBe(String(128 * MiB));
    expect(read(dir, 'pids.max')).toBe('9');
  });

  test('freeze/thaw write cgroup.freeze and read cgroup.events; stats and oomKilled parse the kernel files', async () => {
    const dir = fakeLevel(root, 'berth/c2', {
      'cgroup.events': 'populated 1\nfrozen 1\n',
      'memory.current': '1048576\n',
      'memory.peak': '2097152\n',
      'memory.max': 'max\n',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n',
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n',
      'pids.current': '3\n',
      'pids.max': '50\n',
    });
    const h = { version: 2 as const, paths: { unified: dir } };
    await manager.freeze(h);
    expect(read(dir, 'cgroup.freeze')).toBe('1');
    expect(await manager.isFrozen(h)).toBe(true);
    await manager.thaw(h);
    expect(read(dir, 'cgroup.freeze')).toBe('0');
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    expect(await manager.isFrozen(h)).toBe(false);
    expect(await manager.stats(h)).toEqual({
      memory: { usageBytes: 1048576, maxUsageBytes: 2097152, oomEvents: 1 },
      cpu: { usageNanos: 1500000, userNanos: 1000000, systemNanos: 500000 },
      pids: { current: 3, limit: 50 },
    });
    expect(await manager.oomKilled(h)).toBe(true);
    fs.writeFileSync(path.join(dir, 'memory.max'), `${64 * MiB}\n`);
    fs.writeFileSync(path.join(dir, 'memory.events'), 'oom 0\noom_kill 0\n');
    expect((await manager.stats(h)).memory).toEqual({ usageBytes: 1048576, maxUsageBytes: 2097152, limitBytes: 64 * MiB, oomEvents: 0 });
    expect(await manager.oomKilled(h)).toBe(false);
  });

  test('killAll and destroy: cgroup.kill when the kernel has it, else signals to every listed pid; nothing is left', async () => {
    const withKill = fakeLevel(root, 'berth/k', { 'cgroup.procs': '', 'cgroup.kill': '', 'cgroup.events': 'populated 0\nfrozen 0\n' });
    const hk = { version: 2 as const, paths: { unified: withKill } };
    await manager.killAll(hk, 'SIGKILL');
    expect(read(withKill, 'cgroup.kill')).toBe('1');
    await manager.destroy(hk);
    expect(fs.existsSync(withKill)).toBe(false);
    await manager.destroy(hk); // idempotent

    // No cgroup.kill (kernel < 5.14): a real child of this test stands in for the container's process.
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    const pid = child.pid!;
    const dir = fakeLevel(root, 'berth/s', { 'cgroup.procs': `${pid}\n`, 'cgroup.events': 'populated 1\nfrozen 1\n' });
    child.on('exit', () => { // the fake kernel: an exited process leaves cgroup.procs
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), '');
      fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 0\nfrozen 0\n');
    });
    const h = { version: 2 as const, paths: { unified: dir } };
    try {
      expect(await manager.pids(h)).toEqual([pid]);
      await manager.destroy(h);
      expect(isAlive(pid)).toBe(false);
      expect(child.signalCode).toBe('SIGKILL');
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('refusals before anything is created: custom device rules, v1-only fields, bad unified keys, impossible swap', async () => {
    const refused = async (resources: Parameters<CgroupV2Manager['create']>[1], code: string): Promise<void> => {
      await expect(manager.create('berth/r', resources)).rejects.toMatchObject({ code });
      expect(fs.existsSync(path.join(root, 'berth'))).toBe(false);
    };
    await refused({ devices: [{ allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' }] }, 'FEATURE_NOT_SUPPORTED');
    await refused({ devices: [{ allow: true, access: 'rwm' }] }, 'FEATURE_NOT_SUPPORTED');
    await refused({ memory: { swappiness: 10 } }, 'FEATURE_NOT_SUPPORTED');
    await refused({ memory: { disableOOMKiller: true } }, 'FEATURE_NOT_SUPPORTED');
    await refused({ cpu: { realtimeRuntime: 1000 } }, 'FEATURE_NOT_SUPPORTED');
    await refused({ memory: { swap: 64 * MiB } }, 'SPEC_INVALID');
    await refused({ memory: { limit: 64 * MiB, swap: 32 * MiB } }, 'SPEC_INVALID');
    await refused({ unified: { '../../escape': '1' } }, 'SPEC_INVALID');
    await refused({ unified: { 'cgroup.procs': '1' } }, 'SPEC_INVALID');
    await refused({ unified: { 'net_cls.classid': '1' } }, 'SPEC_INVALID');
    await refused({ blockIO: { weight: 100, leafWeight: 100 } }, 'SPEC_INVALID');
    await refused({ hugepageLimits: [{ pageSize: '2M/../x', limit: 1 }] }, 'SPEC_INVALID');
    await refused({ cpu: { cpus: '0-1; rm' } }, 'SPEC_INVALID');
    await expect(manager.create('a:b:c', undefined)).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    // The default set (deny all, then some OCI default devices) is accepted.
    const h = await manager.create('berth/ok', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    expect(fs.existsSync(h.paths.unified!)).toBe(true);
  });
});

describe('cgroup v2 device rules', () => {
  let root: string;
  beforeEach(() => { root = fakeRoot(); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const custom = [{ allow: false, access: 'rwm' }, { allow: true, type: 'b' as const, major: 8, minor: 0, access: 'r' }];

  test('without callerAttachesDeviceFilter: nothing to attach, custom rules refused', async () => {
    const m = detectBerthCgroupManager(root);
    expect(m.deviceFilter({ devices: custom })).toBeUndefined();
    await expect(m.create('berth/x', { devices: custom })).rejects.toMatchObject({ code: 'FEATURE_NOT_SUPPORTED' });
  });

  test('with callerAttachesDeviceFilter: any rule list is accepted and deviceFilter() gives its eBPF program', async () => {
    const m = detectBerthCgroupManager(root, { callerAttachesDeviceFilter: true });
    const h = await m.create('berth/x', { devices: custom });
    expect(fs.existsSync(h.paths.unified!)).toBe(true);
    expect(m.deviceFilter({ devices: custom })).toEqual(compileDeviceFilter(custom));
    expect(m.deviceFilter({})).toBeUndefined();
    await expect(m.create('berth/y', { devices: [{ allow: true, type: 'c', access: 'rwx' }] })).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    await expect(m.update(h, { devices: custom })).rejects.toMatchObject({ code: 'FEATURE_NOT_SUPPORTED' });
  });
});

describe('cgroup layout detection (fake v1 folder)', () => {
  test('one hierarchy per folder, co-mounted controllers through their symlinks, hybrid "unified" ignored', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg1-fake-'));
    try {
      for (const d of ['memory', 'cpu,cpuacct', 'systemd', 'pids']) {
        fs.mkdirSync(path.join(root, d));
        fs.writeFileSync(path.join(root, d, 'cgroup.procs'), '');
      }
      fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
      fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpuacct'));
      fs.mkdirSync(path.join(root, 'unified'));
      fs.writeFileSync(path.join(root, 'unified', 'cgroup.procs'), '');
      fs.writeFileSync(path.join(root, 'unified', 'cgroup.controllers'), 'hugetlb\n');
      const m = detectBerthCgroupManager(root);
      expect(m.version).toBe(1);
      expect((m as unknown as { hierarchies: Record<string, string> }).hierarchies).toEqual({
        cpu: path.join(root, 'cpu,cpuacct'),
        cpuacct: path.join(root, 'cpu,cpuacct'),
        memory: path.join(root, 'memory'),
        'name=systemd': path.join(root, 'systemd'),
        pids: path.join(root, 'pids'),
      });
      const h = { version: 1 as const, paths: { cpu: path.join(root, 'cpu,cpuacct/x'), cpuacct: path.join(root, 'cpu,cpuacct/x'), memory: path.join(root, 'memory/x') } };
      expect(m.procsFiles(h)).toEqual([path.join(root, 'cpu,cpuacct/x/cgroup.procs'), path.join(root, 'memory/x/cgroup.procs')]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
