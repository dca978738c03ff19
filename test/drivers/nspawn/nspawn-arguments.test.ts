import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec, validateSpec, DEFAULT_CAPABILITIES, type Spec } from '../../../core';
import { capabilityMask, capabilityMasks, initArguments, INIT_IN_CONTAINER, machineName, nspawnArguments } from '../../../drivers/nspawn/nspawn-arguments';
import { specIssues, type HostFacts } from '../../../drivers/nspawn/nspawn-spec-check';
import { plannedHandle } from '../../../drivers/nspawn/nspawn-cgroup';
import { rootfsPlan } from '../../../drivers/nspawn/nspawn-rootfs';

const base = (args = ['/bin/true']): Spec => {
  const s = defaultSpec({ rootfs: '/srv/rootfs', args });
  delete s.linux!.seccomp;
  return validateSpec(s);
};
const argv = (spec: Spec) => nspawnArguments({ spec, machine: 'berth-x', directory: '/srv/rootfs', initPath: '/opt/init', hostHostname: 'host1' });
const after = (list: string[], marker: string) => list.slice(list.indexOf(marker) + 1);

describe('nspawnArguments', () => {
  it('runs nspawn without machined, with the pipe console, the helper bound read-only and the command last', () => {
    const a = argv(base(['sh', '-c', 'echo hi']));
    expect(a[0]).toBe('systemd-nspawn');
    expect(a).toEqual(expect.arrayContaining(['--register=no', '--keep-unit', '--console=pipe', '--directory=/srv/rootfs', '--machine=berth-x']));
    expect(a).toContain(`--bind-ro=/opt/init:${INIT_IN_CONTAINER}`);
    expect(a.slice(-4)).toEqual(['--', 'sh', '-c', 'echo hi']);
    expect(a.indexOf(INIT_IN_CONTAINER)).toBe(a.indexOf(`--bind-ro=/opt/init:${INIT_IN_CONTAINER}`) + 1);
  });

  it('maps root.readonly, hostname and the network namespace', () => {
    const spec = base();
    expect(argv(spec)).toEqual(expect.arrayContaining(['--read-only', '--hostname=berth', '--private-network']));
    const open: Spec = { ...spec, hostname: undefined, root: { path: '/srv/rootfs', readonly: false }, linux: { ...spec.linux, namespaces: spec.linux!.namespaces!.filter((n) => n.type !== 'network') } };
    const a = argv(open);
    expect(a).not.toContain('--read-only');
    expect(a).not.toContain('--private-network');
    expect(a).toContain('--hostname=host1');
  });

  it('joins the named namespace berth attached for bridge networking instead of --private-network', () => {
    const a = nspawnArguments({ spec: base(), machine: 'm', directory: '/d', initPath: '/i', hostHostname: 'h', networkNamespacePath: '/run/netns/m' });
    expect(a).toContain('--network-namespace-path=/run/netns/m');
    expect(a).not.toContain('--private-network');
  });

  it('maps a user namespace with one range to --private-users without chowning the tree', () => {
    const spec = base();
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    expect(argv(spec)).toEqual(expect.arrayContaining(['--private-users=100000:65536', '--private-users-ownership=off']));
    expect(argv(base()).some((a) => a.startsWith('--private-users'))).toBe(false);
  });

  it('maps bind and tmpfs mounts and leaves nspawn its own API filesystems', () => {
    const spec = base();
    spec.mounts = [
      ...spec.mounts!,
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
      { destination: '/one', type: 'none', source: '/srv/one', options: ['bind'] },
      { destination: '/scratch/', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'nosuid'] },
      { destination: '/nodev', type: 'tmpfs', source: 'tmpfs', options: ['nodev', 'ro'] },
    ];
    const a = argv(spec).slice(0, argv(spec).indexOf(INIT_IN_CONTAINER));
    expect(a).toContain('--bind-ro=/srv/data:/data');
    expect(a).toContain('--bind=/srv/one:/one:norbind');
    expect(a).toContain('--tmpfs=/scratch:size=1m,mode=700,nosuid,dev');
    expect(a).toContain('--tmpfs=/nodev:nodev,ro');
    expect(a.filter((x) => x.startsWith('--tmpfs') || x.startsWith('--bind'))).toHaveLength(5);
  });

  it('hands process settings to the helper: user, groups, caps, rlimits, nnp, cwd, exact env, masks', () => {
    const spec = base(['id']);
    spec.process!.user = { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o27 };
    spec.process!.cwd = '/tmp';
    spec.process!.oomScoreAdj = 100;
    const h = after(argv(spec), INIT_IN_CONTAINER);
    const pair = (flag: string) => h[h.indexOf(flag) + 1];
    expect(pair('--uid')).toBe('1000');
    expect(pair('--gid')).toBe('100');
    expect(pair('--groups')).toBe('5,6');
    expect(pair('--umask')).toBe('27');
    expect(pair('--cwd')).toBe('/tmp');
    expect(pair('--rlimit')).toBe('7:1024:1024');
    expect(pair('--oom-score-adj')).toBe('100');
    expect(h).toContain('--nnp');
    expect(h.filter((x, i) => h[i - 1] === '--env')).toEqual(spec.process!.env);
    // nspawn already hides /proc/kcore and makes the default read-only paths read-only.
    expect(h.filter((x, i) => h[i - 1] === '--mask')).toEqual(spec.linux!.maskedPaths!.filter((p) => p !== '/proc/kcore'));
    expect(h.filter((x, i) => h[i - 1] === '--readonly')).toEqual([]);
    spec.linux!.readonlyPaths = ['/proc/sys', '/opt'];
    const h2 = after(argv(spec), INIT_IN_CONTAINER);
    expect(h2.filter((x, i) => h2[i - 1] === '--readonly')).toEqual(['/opt']);
  });

  it('spells out nspawn\'s full set when the spec names no capabilities (an exec would have the host\'s)', () => {
    const spec = base();
    delete spec.process!.capabilities;
    const h = initArguments({ ...spec.process!, args: ['ps'] }, { init: false, spec });
    const full = (1n << 41n) - 1n - (1n << 16n);
    expect(h[h.indexOf('--caps') + 1]).toBe([full, full, full, full, 0n].map((m) => m.toString(16)).join(':'));
  });

  it('exec arguments leave masks to the init', () => {
    const spec = base();
    const h = initArguments({ ...spec.process!, args: ['ps'] }, { init: false, spec });
    expect(h).not.toContain('--mask');
    expect(h.slice(-2)).toEqual(['--', 'ps']);
  });

  it('encodes the five capability sets as hex masks', () => {
    expect(capabilityMask(['CAP_CHOWN', 'CAP_KILL'])).toBe(0b100001n);
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe(0xa80425fbn);
    expect(capabilityMasks({ bounding: ['CAP_CHOWN'], effective: [], permitted: ['CAP_CHOWN'], ambient: [] })).toBe('1:0:1:0:0');
  });

  it('makes machine names nspawn accepts', () => {
    expect(machineName('my_box.1', 'abc')).toBe('berth-my-box-1-abc');
    expect(machineName('x'.repeat(128), 'abc').length).toBeLessThanOrEqual(64);
  });
});

describe('specIssues (refusals naming the field)', () => {
  const facts: HostFacts = { cgroupVersion: 1 };
  const fields = (spec: Spec, f = facts) => specIssues(spec, f).map((i) => i.path);

  it('accepts the default spec', () => {
    expect(specIssues(base(), facts)).toEqual([]);
  });

  it('refuses sharing a namespace nspawn always creates', () => {
    const spec = base();
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
    expect(fields(spec)).toEqual(['linux.namespaces']);
    expect(specIssues(spec, facts)[0]!.message).toMatch(/cgroup namespace.*driver "nspawn"/);
  });

  it('refuses mount options nspawn cannot express, by index', () => {
    const spec = base();
    spec.mounts = [{ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'nosuid'] }, { destination: '/t', type: 'tmpfs', options: ['noexec', 'relatime'] }, { destination: '/p2', type: 'proc', source: 'proc' }, { destination: '/proc', type: 'proc', options: ['ro'] }];
    expect(fields(spec)).toEqual(['mounts[0].options[1]', 'mounts[1].options[1]', 'mounts[2].destination', 'mounts[3].options']);
  });

  it('refuses CAP_SYS_MODULE and inconsistent capability sets', () => {
    const spec = base();
    spec.process!.capabilities = { bounding: ['CAP_SYS_MODULE'], effective: ['CAP_KILL'], permitted: [], inheritable: [], ambient: ['CAP_CHOWN'] };
    expect(fields(spec)).toEqual(['process.capabilities.bounding[0]', 'process.capabilities.effective[0]', 'process.capabilities.ambient[0]']);
  });

  it('refuses user namespace mappings nspawn cannot express', () => {
    const spec = base();
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 200000, size: 10 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
    expect(fields(spec)).toEqual(['linux.uidMappings']);
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 1000 }];
    expect(fields(spec)).toEqual(['linux.gidMappings']);
  });

  it('refuses sysctls that are not namespaced, by key', () => {
    const spec = base();
    spec.linux!.sysctl = { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_forward': '1', 'vm.swappiness': '10', 'kernel/../x': '1' };
    expect(fields(spec)).toEqual(['linux.sysctl["vm.swappiness"]', 'linux.sysctl["kernel/../x"]']);
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
    spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    expect(fields(spec)).toEqual(['linux.sysctl["net.ipv4.ip_forward"]']);
  });

  it('refuses a systemd-style or escaping cgroupsPath', () => {
    const spec = base();
    for (const bad of ['system.slice:berth:box', '/a/../b', '/']) {
      spec.linux!.cgroupsPath = bad;
      expect(fields(spec)).toEqual(['linux.cgroupsPath']);
    }
    spec.linux!.cgroupsPath = '/berth/box1';
    expect(fields(spec)).toEqual([]);
  });

  it('refuses device rules on cgroup v2 only', () => {
    expect(fields(base(), { cgroupVersion: 2 })).toEqual(['linux.resources.devices']);
  });
});

describe('rootfsPlan', () => {
  it('lists what nspawn needs and what read-only mount points lack', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nspawn-plan-'));
    try {
      fs.mkdirSync(path.join(dir, 'etc'));
      const spec = base();
      spec.root = { path: dir, readonly: true };
      spec.mounts = [...spec.mounts!, { destination: '/data', type: 'tmpfs' }];
      expect(rootfsPlan(spec)).toEqual({ addDirs: ['usr', 'data'], addFiles: ['etc/os-release'] });
      fs.mkdirSync(path.join(dir, 'usr/lib'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'usr/lib/os-release'), '');
      spec.root.readonly = false;
      expect(rootfsPlan(spec)).toEqual({ addDirs: [], addFiles: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plannedHandle (where a half-created container\'s cgroup would be)', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('names the unified directory on a cgroup v2 layout', () => {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpu memory pids');
    expect(plannedHandle('berth/c1', root)).toEqual({ version: 2, paths: { unified: path.join(root, 'berth/c1') } });
  });

  it('names one directory per v1 hierarchy, co-mounted controllers once', () => {
    for (const h of ['memory', 'cpu,cpuacct', 'freezer']) {
      fs.mkdirSync(path.join(root, h));
      fs.writeFileSync(path.join(root, h, 'cgroup.procs'), '');
    }
    fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
    const h = plannedHandle('berth/c1', root);
    expect(h.version).toBe(1);
    expect(new Set(Object.values(h.paths))).toEqual(new Set(['memory', 'cpu,cpuacct', 'freezer'].map((d) => path.join(root, d, 'berth/c1'))));
  });
});
