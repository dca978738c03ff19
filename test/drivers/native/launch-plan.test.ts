/** Unit tests of the pure spec -> launch plan translation (the integration tests run the same plans for real). */
import { defaultSpec } from '../../../core/spec/default-spec';
import { DEFAULT_CAPABILITIES } from '../../../core/spec/capabilities';
import type { Spec } from '../../../core/spec/oci-spec';
import { CLONE_FLAGS, capabilityMask, encodePlan, execPlan, launchPlan, type PlanContext } from '../../../drivers/native/launch-plan';
import { decodePlan } from '../../../drivers/native/plan-encoding';
import { MS, parseMountOptions } from '../../../drivers/native/mount-options';

const ctx: PlanContext = {
  stateDir: '/run/berth/x/driver',
  procsFiles: ['/sys/fs/cgroup/memory/berth/x/cgroup.procs', '/sys/fs/cgroup/pids/berth/x/cgroup.procs'],
  oomFile: '/sys/fs/cgroup/memory/berth/x/memory.oom_control',
  cgroupBinds: [{ name: 'memory', source: '/sys/fs/cgroup/memory/berth/x' }, { name: 'pids', source: '/sys/fs/cgroup/pids/berth/x' }],
  cgroupVersion: 1,
  compileSeccomp: () => Buffer.alloc(16, 1),
};
const spec = (patch: (s: Spec) => void = () => {}): Spec => {
  const s = defaultSpec({ rootfs: '/rootfs', args: ['/bin/true'] });
  patch(s);
  return s;
};

describe('launchPlan', () => {
  it('turns the default spec into namespaces, caps, mounts, devices and masks', () => {
    const p = launchPlan(spec(), ctx);
    expect(p.cloneFlags).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.network | CLONE_FLAGS.ipc | CLONE_FLAGS.uts | CLONE_FLAGS.mount);
    expect(p.cgroupNamespace).toBe(true); // unshared by the init once inside its cgroup, not at clone
    const caps = capabilityMask(DEFAULT_CAPABILITIES, 'c');
    expect(p.capabilities).toEqual({ bounding: caps, effective: caps, permitted: caps, inheritable: 0n, ambient: 0n });
    expect(p.noNewPrivileges).toBe(true);
    expect(p.rlimits).toEqual([{ resource: 7, soft: '1024', hard: '1024' }]);
    expect(p.rootReadonly).toBe(true);
    expect(p.devices.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(p.devLinks).toBe(true);
    const dev = p.mounts.find((m) => m.destination === '/dev')!;
    expect(dev).toMatchObject({ type: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' });
    expect(p.mounts.find((m) => m.destination === '/sys')!.flags).toBe(MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
    // a cgroup mount becomes a tmpfs with the container's own cgroup directories bound read-only
    const cg = p.mounts.filter((m) => m.destination.startsWith('/sys/fs/cgroup'));
    expect(cg.map((m) => [m.destination, m.type, m.source])).toEqual([
      ['/sys/fs/cgroup', 'tmpfs', 'tmpfs'],
      ['/sys/fs/cgroup/memory', 'none', '/sys/fs/cgroup/memory/berth/x'],
      ['/sys/fs/cgroup/pids', 'none', '/sys/fs/cgroup/pids/berth/x'],
    ]);
    expect(cg[1]!.flags & (MS.BIND | MS.RDONLY)).toBe(MS.BIND | MS.RDONLY);
    expect(p.maskedPaths).toContain('/proc/kcore');
    expect(p.readonlyPaths).toContain('/proc/sys');
    expect(p.seccomp).toEqual(Buffer.alloc(16, 1));
    expect(p.procsFiles).toEqual(ctx.procsFiles);
  });

  it('encodes to the records berth-native parses, binary-safe', () => {
    const p = launchPlan(spec((s) => (s.process!.env = ['A=1', 'B=two words'])), ctx);
    const records = decodePlan(encodePlan(p));
    const keys = records.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['statedir', 'clone', 'cgroupns', 'procs', 'oomfile', 'rootfs', 'rootro', 'mount', 'dev', 'devlinks', 'mask', 'ro', 'hostname', 'rlimit', 'uid', 'gid', 'caps', 'nnp', 'seccomp', 'env', 'arg', 'cwd']));
    expect(records.filter((r) => r.key === 'env').map((r) => r.fields[0])).toEqual(['A=1', 'B=two words']);
    expect(records.find((r) => r.key === 'seccomp')!.raw).toEqual(Buffer.alloc(16, 1));
    expect(records.find((r) => r.key === 'mount' && r.fields[0] === '/proc')!.fields).toEqual(['/proc', 'proc', 'proc', '0', '0', '']);
  });

  it('writes id maps for a new user namespace and join paths for given ones', () => {
    const p = launchPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.namespaces!.find((n) => n.type === 'network')!.path = '/run/netns/x';
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
    }), ctx);
    expect(p.uidMap).toBe('0 100000 65536\n');
    expect(p.gidMap).toBe('0 200000 1000\n');
    expect(p.cloneFlags & CLONE_FLAGS.user).toBeTruthy();
    expect(p.cloneFlags & CLONE_FLAGS.network).toBe(0);
    expect(p.joins).toEqual([{ flag: CLONE_FLAGS.network, path: '/run/netns/x' }]);
  });

  it.each<[string, (s: Spec) => void, RegExp]>([
    ['a time namespace', (s) => s.linux!.namespaces!.push({ type: 'time' }), /linux\.namespaces\[\d\].*time/],
    ['joining a mount namespace', (s) => (s.linux!.namespaces!.find((n) => n.type === 'mount')!.path = '/proc/1/ns/mnt'), /mount namespace/],
    ['no mount namespace', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount')), /new mount namespace/],
    ['a user namespace without mappings', (s) => s.linux!.namespaces!.push({ type: 'user' }), /uidMappings/],
    ['a hostname without a uts namespace', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')), /^hostname/],
    ['a host-wide sysctl', (s) => (s.linux!.sysctl = { 'kernel.panic': '1' }), /linux\.sysctl\["kernel\.panic"\]/],
    ['an idmap mount', (s) => s.mounts!.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] }), /mounts\[\d+\]\.options\[1\].*idmap/],
    ['a filesystem option on a bind mount', (s) => s.mounts!.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['bind', 'size=1m'] }), /filesystem option/],
    ['a relative mount destination', (s) => s.mounts!.push({ destination: 'm', type: 'tmpfs', source: 'tmpfs' }), /destination/],
    ['an unknown capability', (s) => s.process!.capabilities!.bounding!.push('CAP_NOPE'), /bounding\[14\]/],
    ['a device outside /dev', (s) => (s.linux!.devices = [{ type: 'c', path: '/tmp/null', major: 1, minor: 3 }]), /under \/dev/],
  ])('refuses %s, naming the field', (_what, patch, message) => {
    expect(() => launchPlan(spec(patch), ctx)).toThrow(message);
  });

  it('keeps RLIM_INFINITY exact', () => {
    const p = launchPlan(spec((s) => (s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 2 ** 64 }])), ctx);
    expect(p.rlimits[0]).toEqual({ resource: 4, soft: '18446744073709551615', hard: '18446744073709551615' });
  });
});

describe('execPlan', () => {
  it('joins the init namespaces from /proc, user first and mount last, with the request overrides', () => {
    const s = spec((x) => x.linux!.namespaces!.push({ type: 'user' }));
    const p = execPlan(s, { args: ['ps'], cwd: '/tmp', user: { uid: 5, gid: 6 } }, 42, ['/cg/cgroup.procs'], ctx.compileSeccomp);
    expect(p.joins.map((j) => j.path)).toEqual(['/proc/42/ns/user', '/proc/42/ns/ipc', '/proc/42/ns/uts', '/proc/42/ns/net', '/proc/42/ns/pid', '/proc/42/ns/cgroup', '/proc/42/ns/mnt']);
    expect(p).toMatchObject({ args: ['ps'], cwd: '/tmp', uid: 5, gid: 6, noNewPrivileges: true, procsFiles: ['/cg/cgroup.procs'] });
    expect(p.mounts).toEqual([]);
    expect(p.seccomp).toBeDefined();
  });
});

describe('parseMountOptions', () => {
  it('splits flags, propagation and data', () => {
    expect(parseMountOptions(['rbind', 'ro', 'rslave', 'nosuid'], true, 'm')).toEqual({ flags: MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID, propagation: MS.SLAVE | MS.REC, data: '' });
    expect(parseMountOptions(['nosuid', 'mode=1777', 'size=1m', 'rw'], false, 'm')).toEqual({ flags: MS.NOSUID, propagation: 0, data: 'mode=1777,size=1m' });
  });
});
