import * as os from 'node:os';
import { buildSpec } from '../../../core/spec/spec-builder';
import { requiredFeatures } from '../../../core/driver/required-features';
import { validateSpec } from '../../../core/spec/validate-spec';
import type { Feature } from '../../../core/driver/features';

const rootfs = '/var/lib/berth/rootfs/busybox';

describe('buildSpec', () => {
  test('maps docker run flags to spec fields', () => {
    const { spec } = buildSpec({
      rootfs,
      args: ['sh', '-c', 'echo hi'],
      hostname: 'h1',
      env: ['A=1', 'HOME'],
      hostEnv: { HOME: '/root' },
      workdir: '/tmp',
      user: '1000:1001',
      memory: '64m',
      cpus: '1.5',
      pidsLimit: 50,
      capAdd: ['NET_ADMIN'],
      capDrop: ['chown'],
      readOnly: true,
      volume: [`${os.tmpdir()}:/data:ro`],
      tmpfs: ['/run:size=1m'],
      network: 'host',
      ulimit: ['nofile=100:200'],
      sysctl: ['kernel.shm_rmid_forced=1'],
      securityOpt: ['no-new-privileges'],
    });
    validateSpec(spec);
    expect(spec.process!.args).toEqual(['sh', '-c', 'echo hi']);
    expect(spec.hostname).toBe('h1');
    expect(spec.process!.env).toEqual(expect.arrayContaining(['A=1', 'HOME=/root']));
    expect(spec.process!.cwd).toBe('/tmp');
    expect(spec.process!.user).toEqual({ uid: 1000, gid: 1001 });
    expect(spec.linux!.resources!.memory!.limit).toBe(64 * 1048576);
    expect(spec.linux!.resources!.cpu).toEqual({ quota: 150000, period: 100000 });
    expect(spec.linux!.resources!.pids).toEqual({ limit: 50 });
    expect(spec.process!.capabilities!.bounding).toContain('CAP_NET_ADMIN');
    expect(spec.process!.capabilities!.bounding).not.toContain('CAP_CHOWN');
    expect(spec.root).toEqual({ path: rootfs, readonly: true });
    expect(spec.mounts).toEqual(expect.arrayContaining([
      { destination: '/data', type: 'bind', source: os.tmpdir(), options: ['rbind', 'ro'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    ]));
    expect(spec.linux!.namespaces!.map((n) => n.type)).not.toContain('network');
    expect(spec.process!.rlimits).toContainEqual({ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 });
    expect(spec.linux!.sysctl).toEqual({ 'kernel.shm_rmid_forced': '1' });
    expect(spec.process!.noNewPrivileges).toBe(true);
  });

  test('default isolation is trimmed to what the driver declares; explicit flags are kept', () => {
    const declared = new Set<Feature>(['process.args', 'process.env']);
    const { spec, omittedDefaults } = buildSpec({ rootfs, args: ['true'], memory: '64m' }, declared);
    expect(spec.linux!.namespaces).toEqual([]);
    expect(spec.mounts).toEqual([]);
    expect(spec.process!.capabilities).toBeUndefined();
    expect(spec.linux!.seccomp).toBeUndefined();
    expect(omittedDefaults.map((o) => o.feature)).toEqual(expect.arrayContaining(['namespace.pid', 'mount.proc', 'process.capabilities', 'linux.seccomp']));
    // The memory limit was asked for explicitly: still there, so the feature check refuses it.
    expect(requiredFeatures(spec).map((r) => r.field)).toContain('linux.resources.memory.limit');
  });

  test('without a driver the full default isolation is kept', () => {
    const { spec } = buildSpec({ rootfs, args: ['true'] });
    expect(spec.linux!.namespaces!.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(spec.linux!.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    // A driver that declares seccomp keeps the default profile.
    expect(buildSpec({ rootfs, args: ['true'] }, new Set<Feature>(['process.args', 'linux.seccomp'])).spec.linux!.seccomp).toEqual(spec.linux!.seccomp);
  });

  test.each([
    [{ user: 'root' }, '--user'],
    [{ memory: 'lots' }, '--memory'],
    [{ volume: ['relative:/x'] }, '--volume'],
    [{ network: 'overlay' }, '--network'],
    [{ ulimit: ['bogus=1'] }, '--ulimit'],
    [{ capAdd: ['CAP_NOPE'] }, '--cap-add'],
    [{ securityOpt: ['apparmor=x'] }, '--security-opt'],
  ])('refuses bad flag %j', (flags, name) => {
    expect(() => buildSpec({ rootfs, args: ['true'], ...flags })).toThrow(name);
  });
});
