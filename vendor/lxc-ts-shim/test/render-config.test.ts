import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cgroupAssignments,
  cgroupDirsAt,
  configValue,
  detectCgroupVersion,
  fstabField,
  hookCommand,
  lastLxcMessage,
  LxcConfigError,
  parseInfo,
  processCgroupPaths,
  renderConfig,
  sharesToWeight,
  type LxcConfigOptions,
} from '../src';

const FULL: LxcConfigOptions = {
  utsName: 'box',
  rootfs: { path: '/srv/rootfs', readonly: true, mount: '/var/lib/x/.rootfs-mount' },
  cloneNamespaces: ['mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup'],
  shareNamespaces: { net: '/proc/42/ns/net' },
  network: 'empty',
  idMaps: [{ kind: 'u', containerId: 0, hostId: 100000, size: 65536 }],
  mountAuto: ['sys:ro', 'cgroup:ro'],
  autodev: false,
  mounts: [{ source: '/host dir', target: '/data', type: 'none', options: ['bind', 'ro', 'create=dir'] }],
  init: { uid: 1000, gid: 1000, groups: [5, 7], cwd: '/work' },
  environment: ['PATH=/bin', 'A= padded '],
  capabilities: { keep: ['CAP_CHOWN', 'net_admin'] },
  prlimits: { nofile: { soft: 1024, hard: 4096 }, core: { soft: -1, hard: -1 } },
  sysctls: { 'net.ipv4.ip_forward': '1' },
  noNewPrivs: true,
  seccompProfile: '/etc/x.seccomp',
  apparmorProfile: 'unconfined',
  consolePath: 'none',
  cgroup: { memoryLimit: 64 << 20, pidsMax: 10, devices: [{ allow: false, rule: 'a' }, { allow: true, rule: 'c 1:3 rwm' }] },
  hooks: { startHost: ['/state dir/gate.sh', '/state dir'], postStop: ['/bin/true'] },
  log: { level: 'ERROR', file: '/tmp/lxc.log' },
};

describe('renderConfig', () => {
  test('writes every supported key, in order, with v1 cgroup keys', () => {
    const text = renderConfig(FULL, { cgroupVersion: 'v1' });
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'lxc.uts.name = box',
      'lxc.rootfs.path = dir:/srv/rootfs',
      'lxc.rootfs.mount = /var/lib/x/.rootfs-mount',
      'lxc.rootfs.options = ro',
      'lxc.namespace.clone = mnt pid uts ipc net cgroup',
      'lxc.namespace.share.net = /proc/42/ns/net',
      'lxc.net.0.type = empty',
      'lxc.idmap = u 0 100000 65536',
      'lxc.mount.auto = sys:ro cgroup:ro',
      'lxc.autodev = 0',
      'lxc.mount.entry = /host\\040dir data none bind,ro,create=dir 0 0',
      'lxc.init.uid = 1000',
      'lxc.init.gid = 1000',
      'lxc.init.groups = 5,7',
      'lxc.init.cwd = /work',
      'lxc.environment = PATH=/bin',
      'lxc.environment = "A= padded "',
      'lxc.cap.keep = chown net_admin',
      'lxc.prlimit.nofile = 1024:4096',
      'lxc.prlimit.core = unlimited:unlimited',
      'lxc.sysctl.net.ipv4.ip_forward = 1',
      'lxc.no_new_privs = 1',
      'lxc.seccomp.profile = /etc/x.seccomp',
      'lxc.apparmor.profile = unconfined',
      'lxc.console.path = none',
      'lxc.cgroup.memory.limit_in_bytes = 67108864',
      'lxc.cgroup.pids.max = 10',
      'lxc.cgroup.devices.deny = a',
      'lxc.cgroup.devices.allow = c 1:3 rwm',
      'lxc.hook.start-host = /state\\ dir/gate.sh /state\\ dir',
      'lxc.hook.post-stop = /bin/true',
      'lxc.log.level = ERROR',
      'lxc.log.file = /tmp/lxc.log',
    ]);
  });

  test('the same limits become lxc.cgroup2.* keys with v2 names and units', () => {
    const text = renderConfig({ rootfs: { path: '/r' }, cgroup: { memoryLimit: 1 << 20, memorySwapLimit: 3 << 20, cpuShares: 1024, cpuQuota: 50000, cpuPeriod: 100000, pidsMax: -1, devices: [{ allow: false, rule: 'a' }] } }, { cgroupVersion: 'v2' });
    const keys = text.split('\n').filter((l) => l.startsWith('lxc.cgroup'));
    expect(keys).toEqual([
      'lxc.cgroup2.memory.max = 1048576',
      'lxc.cgroup2.memory.swap.max = 2097152',
      `lxc.cgroup2.cpu.weight = ${sharesToWeight(1024)}`,
      'lxc.cgroup2.cpu.max = 50000 100000',
      'lxc.cgroup2.pids.max = max',
      'lxc.cgroup2.devices.deny = a',
    ]);
    expect(text).not.toMatch(/^lxc\.cgroup\./m);
  });

  test('minimal options write only the safe defaults', () => {
    expect(renderConfig({ rootfs: { path: '/r' } }, { cgroupVersion: 'v1' }).split('\n').filter((l) => l.startsWith('lxc.'))).toEqual([
      'lxc.rootfs.path = dir:/r',
      'lxc.autodev = 0',
      'lxc.apparmor.profile = unconfined',
      'lxc.console.path = none',
    ]);
  });

  test('a value cannot inject another key', () => {
    expect(() => renderConfig({ rootfs: { path: '/r' }, utsName: 'x\nlxc.init.uid = 0' }, { cgroupVersion: 'v1' })).toThrow(LxcConfigError);
    expect(() => renderConfig({ rootfs: { path: '/r' }, environment: ['A=1\nB=2'] }, { cgroupVersion: 'v1' })).toThrow(/line break/);
    expect(() => renderConfig({ rootfs: { path: '/r' }, environment: ['NOEQUALS'] }, { cgroupVersion: 'v1' })).toThrow(/NAME=VALUE/);
    expect(() => renderConfig({ rootfs: { path: '/r' }, sysctls: { 'a b': '1' } }, { cgroupVersion: 'v1' })).toThrow(/sysctl/);
    expect(() => renderConfig({ rootfs: { path: '/r' }, mounts: [{ source: 'tmpfs', target: 'rel', type: 'tmpfs', options: [] }] }, { cgroupVersion: 'v1' })).toThrow(/absolute/);
    expect(() => renderConfig({ rootfs: { path: '/r' }, mounts: [{ source: 'tmpfs', target: '/t', type: 'tmpfs', options: ['a,b'] }] }, { cgroupVersion: 'v1' })).toThrow(/comma/);
    expect(() => renderConfig({ rootfs: { path: '/r' }, init: { cmd: ['/bin/sh', '-c', 'echo hi'] } }, { cgroupVersion: 'v1' })).toThrow(/blanks/);
  });

  test('an empty keep list drops every capability', () => {
    expect(renderConfig({ rootfs: { path: '/r' }, capabilities: { keep: [] } }, { cgroupVersion: 'v1' })).toMatch(/^lxc\.cap\.keep = none$/m);
    expect(renderConfig({ rootfs: { path: '/r' }, capabilities: { drop: ['CAP_SYS_ADMIN'] } }, { cgroupVersion: 'v1' })).toMatch(/^lxc\.cap\.drop = sys_admin$/m);
  });
});

describe('escaping', () => {
  test('configValue protects what LXC would trim or unquote', () => {
    expect(configValue('k', 'plain value')).toBe('plain value');
    expect(configValue('k', ' lead')).toBe('" lead"');
    expect(configValue('k', 'trail ')).toBe('"trail "');
    expect(configValue('k', '"quoted"')).toBe('""quoted""');
    expect(configValue('k', "'single'")).toBe(`"'single'"`);
    expect(configValue('k', 'A="x y"')).toBe('A="x y"');
    expect(() => configValue('k', 'a\rb')).toThrow(LxcConfigError);
    expect(() => configValue('k', 'a\0b')).toThrow(LxcConfigError);
  });

  test('fstabField writes blanks and backslashes as octal escapes', () => {
    expect(fstabField('m', '/a b\tc\\d')).toBe('/a\\040b\\011c\\134d');
    expect(fstabField('m', '/a\nb')).toBe('/a\\012b');
    expect(() => fstabField('m', '')).toThrow(LxcConfigError);
  });

  test('hookCommand backslash-escapes each word for the shell LXC runs hooks with', () => {
    expect(hookCommand('h', ['/x/gate.sh', "it's here", '$HOME', ''])).toBe("/x/gate.sh it\\'s\\ here \\$HOME ''");
    expect(() => hookCommand('h', ['/x', 'a\nb'])).toThrow(LxcConfigError);
    expect(() => hookCommand('h', [])).toThrow(LxcConfigError);
  });
});

describe('cgroup keys', () => {
  test('v1 and v2 names for every limit', () => {
    const limits = { memoryLimit: 100, memoryReservation: 50, memorySwapLimit: 300, cpuShares: 512, cpuQuota: 20000, cpuPeriod: 100000, cpusetCpus: '0', cpusetMems: '0', pidsMax: 5 };
    expect(cgroupAssignments(limits, 'v1').map((a) => `${a.file}=${a.value}`)).toEqual([
      'memory.limit_in_bytes=100', 'memory.soft_limit_in_bytes=50', 'memory.memsw.limit_in_bytes=300', 'cpu.shares=512',
      'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=20000', 'cpuset.cpus=0', 'cpuset.mems=0', 'pids.max=5',
    ]);
    expect(cgroupAssignments(limits, 'v2').map((a) => `${a.file}=${a.value}`)).toEqual([
      'memory.max=100', 'memory.low=50', 'memory.swap.max=200', `cpu.weight=${sharesToWeight(512)}`, 'cpu.max=20000 100000',
      'cpuset.cpus=0', 'cpuset.mems=0', 'pids.max=5',
    ]);
  });

  test('unlimited values', () => {
    expect(cgroupAssignments({ memoryLimit: -1, cpuQuota: -1, pidsMax: -1 }, 'v1').map((a) => a.value)).toEqual(['-1', '-1', 'max']);
    expect(cgroupAssignments({ memoryLimit: -1, cpuQuota: -1, pidsMax: -1 }, 'v2').map((a) => a.value)).toEqual(['max', 'max 100000', 'max']);
  });

  test('shares to weight follows runc (2 -> 1, 1024 -> 39, 262144 -> 10000)', () => {
    expect([sharesToWeight(2), sharesToWeight(1024), sharesToWeight(262144)]).toEqual([1, 39, 10000]);
  });

  test('detectCgroupVersion looks for cgroup.controllers at the root', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim-cg-'));
    try {
      fs.mkdirSync(path.join(dir, 'memory'));
      expect(detectCgroupVersion(dir)).toBe('v1');
      fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'cpu memory pids\n');
      expect(detectCgroupVersion(dir)).toBe('v2');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cgroup folders of a container', () => {
  test('processCgroupPaths: the distinct paths of /proc/PID/cgroup; nothing for a gone process', () => {
    const paths = processCgroupPaths(process.pid);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.startsWith('/'))).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
    expect(processCgroupPaths(2 ** 22 + 1)).toEqual([]);
  });

  test('cgroupDirsAt: the folders that exist for the paths in every hierarchy (v1) or the root (v2), never a root itself', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim-cg-'));
    try {
      for (const h of ['memory', 'pids']) fs.mkdirSync(path.join(dir, h));
      fs.mkdirSync(path.join(dir, 'memory', 'lxc.payload.c1'));
      fs.mkdirSync(path.join(dir, 'pids', 'lxc.payload.c1'));
      fs.mkdirSync(path.join(dir, 'pids', 'lxc.monitor.c1'));
      expect(cgroupDirsAt(['/lxc.payload.c1', '/lxc.monitor.c1', '/'], dir).sort()).toEqual([
        path.join(dir, 'memory', 'lxc.payload.c1'), path.join(dir, 'pids', 'lxc.monitor.c1'), path.join(dir, 'pids', 'lxc.payload.c1'),
      ]);
      fs.writeFileSync(path.join(dir, 'cgroup.controllers'), 'memory pids\n');
      fs.mkdirSync(path.join(dir, 'lxc.payload.c1'));
      expect(cgroupDirsAt(['/lxc.payload.c1', '/lxc.monitor.c1'], dir)).toEqual([path.join(dir, 'lxc.payload.c1')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parsing LXC output', () => {
  test('lxc-info', () => {
    const info = parseInfo('Name:           t5\nState:          RUNNING\nPID:            28828\nIP:             10.0.3.5\nCPU use:        0.00 seconds\nMemory use:     232.00 KiB\n');
    expect(info).toEqual({ name: 't5', state: 'RUNNING', pid: 28828, ips: ['10.0.3.5'], memoryBytes: 232 * 1024 });
  });

  test("LXC's own message from tool stderr and from log files", () => {
    const stderr = [
      'lxc-execute: t6: ../src/lxc/confile.c: set_config_init_groups: 1354 Invalid argument - Failed to parse group 5 7',
      'lxc-execute: t6: ../src/lxc/parse.c: lxc_file_for_each_line_mmap: 129 Failed to parse config file "/x.conf" at line "lxc.init.groups = 5 7"',
    ].join('\n');
    expect(lastLxcMessage(stderr)).toBe('Invalid argument - Failed to parse group 5 7');
    const log = 'lxc-execute t6 20261129065903.260 ERROR    confile - ../src/lxc/confile.c:set_config_init_groups:1354 - Invalid argument - Failed to parse group 5 7\n';
    expect(lastLxcMessage(log)).toBe('Invalid argument - Failed to parse group 5 7');
    expect(lastLxcMessage('something else\n')).toBe('something else');
  });
});

describe('seccomp policy', () => {
  test('allowlist with a default action, rules with actions and argument conditions', () => {
    const { renderSeccompPolicy } = require('../src') as typeof import('../src');
    expect(renderSeccompPolicy({
      mode: 'allowlist',
      defaultAction: { errno: 1 },
      rules: [
        { syscall: 'read', action: 'allow' },
        { syscall: 'personality', action: 'allow', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { syscall: 'clone', action: 'allow', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }] },
        { syscall: 'clone3', action: { errno: 38 } },
        { syscall: 'ptrace', action: 'kill' },
      ],
    })).toBe('2\nallowlist errno 1\n[all]\nread allow\npersonality allow [0,8,SCMP_CMP_EQ,0]\nclone allow [0,2114060288,SCMP_CMP_MASKED_EQ,0]\nclone3 errno 38\nptrace kill\n');
  });

  test('denylist; bad names and values refused', () => {
    const { renderSeccompPolicy } = require('../src') as typeof import('../src');
    expect(renderSeccompPolicy({ mode: 'denylist', rules: [{ syscall: 'mkdir', action: 'trap' }] })).toBe('2\ndenylist\n[all]\nmkdir trap\n');
    expect(() => renderSeccompPolicy({ mode: 'denylist', rules: [{ syscall: 'mk dir', action: 'kill' }] })).toThrow(LxcConfigError);
    expect(() => renderSeccompPolicy({ mode: 'denylist', rules: [{ syscall: 'mkdir', action: { errno: 5000 } }] })).toThrow(/errno/);
    expect(() => renderSeccompPolicy({ mode: 'denylist', rules: [{ syscall: 'mkdir', action: 'kill', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] })).toThrow(/index/);
  });
});
