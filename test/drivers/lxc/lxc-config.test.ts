/** Unit tests of the pure spec -> LXC options translation (the integration tests run the same paths for real). */
import { defaultSpec, validateSpec, hasCode, type Spec } from '../../../core';
import { lxcConfigFor, cgroupLimitsFor, sysctlsFor, DEFAULT_ALLOWED_DEVICES, type LxcTranslationContext } from '../../../drivers/lxc/lxc-config';
import { renderConfig } from '../../../vendor/lxc-ts-shim/src';

const ctx = (over: Partial<LxcTranslationContext> = {}): LxcTranslationContext => ({
  rootfsMount: '/lxc/.rootfs-mount',
  startHook: ['/state/start-gate.sh', '/state'],
  probe: (p) => (['/proc/acpi', '/sys/firmware', '/host/dir'].includes(p) ? 'dir' : ['/proc/keys', '/host/file'].includes(p) ? 'file' : undefined),
  swapAccounting: true,
  ...over,
});

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec({ rootfs: '/rootfs', args: ['/bin/true'] });
  edit?.(s);
  return validateSpec(s);
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(hasCode(err, 'FEATURE_NOT_SUPPORTED')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('lxcConfigFor', () => {
  test('the default (runc-like) spec', () => {
    const o = lxcConfigFor(spec(), ctx());
    expect(o.rootfs).toEqual({ path: '/rootfs', readonly: true, mount: '/lxc/.rootfs-mount' });
    expect(o.utsName).toBe('berth');
    expect(o.cloneNamespaces).toEqual(['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']);
    expect(o.network).toBe('empty');
    expect(o.mountAuto).toEqual(['sys:ro', 'cgroup:ro']);
    expect(o.init).toEqual({ uid: 0, gid: 0, cwd: '/' });
    expect(o.capabilities).toEqual({ keep: expect.arrayContaining(['CAP_CHOWN', 'CAP_KILL']) });
    expect(o.prlimits).toEqual({ nofile: { soft: 1024, hard: 1024 } });
    expect(o.noNewPrivs).toBe(true);
    expect(o.hooks).toEqual({ startHost: ['/state/start-gate.sh', '/state'] });
    // /dev tmpfs first, then the default device nodes bound over it, then the rest in spec order.
    const targets = o.mounts!.map((m) => `${m.type}:${m.target}`);
    expect(targets.slice(0, 3)).toEqual(['proc:/proc', 'tmpfs:/dev', 'none:/dev/null']);
    expect(targets).toContain('devpts:/dev/pts');
    expect(targets).toContain('mqueue:/dev/mqueue');
    // masked: a folder gets a read-only tmpfs, a file /dev/null, a missing path nothing.
    expect(o.mounts).toContainEqual({ source: 'tmpfs', target: '/proc/acpi', type: 'tmpfs', options: ['ro', 'optional'] });
    expect(o.mounts).toContainEqual({ source: '/dev/null', target: '/proc/keys', type: 'none', options: ['bind', 'optional'] });
    expect(targets).not.toContain('none:/proc/kcore');
    expect(o.mounts).toContainEqual({ source: '/lxc/.rootfs-mount/proc/sys', target: '/proc/sys', type: 'none', options: ['bind', 'ro', 'optional'] });
    // the deny-all device rule, then runc's always-allowed devices
    expect(o.cgroup?.devices?.[0]).toEqual({ allow: false, rule: 'a' });
    expect(o.cgroup?.devices?.slice(1).map((d) => d.rule)).toEqual([...DEFAULT_ALLOWED_DEVICES]);
    expect(renderConfig(o, { cgroupVersion: 'v1' })).toContain('lxc.cgroup.devices.deny = a');
  });

  test('process fields', () => {
    const o = lxcConfigFor(spec((s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 7] };
      s.process!.cwd = '/tmp';
      s.process!.env = ['A=1', 'B=two words'];
      s.process!.capabilities = { bounding: ['CAP_KILL'], effective: [], permitted: [] };
      s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 0, hard: 4096 }];
    }), ctx());
    expect(o.init).toEqual({ uid: 1000, gid: 1001, groups: [5, 7], cwd: '/tmp' });
    expect(o.environment).toEqual(['A=1', 'B=two words']);
    expect(o.capabilities).toEqual({ keep: ['CAP_KILL'] });
    expect(o.prlimits).toEqual({ core: { soft: 0, hard: 4096 } });
  });

  test('namespaces left out are shared with the host; net shared means lxc.net type none', () => {
    const o = lxcConfigFor(spec((s) => {
      s.linux!.namespaces = [{ type: 'mount' }, { type: 'pid' }];
      delete s.hostname;
    }), ctx());
    expect(o.cloneNamespaces).toEqual(['mnt', 'pid']);
    expect(o.network).toBe('none');
  });

  test('namespaces joined by path: lxc.namespace.share.*, no lxc.net for a joined network', () => {
    const o = lxcConfigFor(spec((s) => {
      delete s.hostname;
      s.linux!.namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/proc/7/ns/net' }, { type: 'uts', path: '/run/netns/x' }];
    }), ctx());
    expect(o.cloneNamespaces).toEqual(['mnt', 'pid']);
    expect(o.shareNamespaces).toEqual({ net: '/proc/7/ns/net', uts: '/run/netns/x' });
    expect(o.network).toBeUndefined();
    expect(refusal(() => lxcConfigFor(spec((s) => { s.linux!.namespaces!.find((n) => n.type === 'pid')!.path = '/proc/7/ns/pid'; }), ctx()))).toMatch(/^linux\.namespaces\[0\]\.path: joining a pid namespace/);
  });

  test('binds: source kind decides create=dir|file; ro and rbind kept', () => {
    const o = lxcConfigFor(spec((s) => {
      s.mounts = [
        { destination: '/data', type: 'bind', source: '/host/dir', options: ['rbind', 'ro'] },
        { destination: '/etc/x', source: '/host/file', options: ['bind'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      ];
    }), ctx());
    expect(o.mounts).toEqual(expect.arrayContaining([
      { source: '/host/dir', target: '/data', type: 'none', options: ['rbind', 'ro', 'create=dir'] },
      { source: '/host/file', target: '/etc/x', type: 'none', options: ['bind', 'create=file'] },
      { source: 'tmpfs', target: '/scratch', type: 'tmpfs', options: ['size=1m', 'create=dir'] },
    ]));
  });

  test('refusals name the field', () => {
    expect(refusal(() => lxcConfigFor(spec((s) => { s.process!.capabilities!.effective = ['CAP_KILL']; }), ctx()))).toMatch(/^process\.capabilities\.effective: .*not supported by driver "lxc"$/);
    expect(refusal(() => lxcConfigFor(spec((s) => { s.process!.capabilities!.ambient = ['CAP_KILL']; }), ctx()))).toMatch(/^process\.capabilities\.ambient/);
    // A non-root user: effective/permitted are what execve clears anyway; only bounding is carried.
    expect(lxcConfigFor(spec((s) => { s.process!.user.uid = 1000; }), ctx()).capabilities).toEqual({ keep: expect.arrayContaining(['CAP_KILL']) });
    expect(refusal(() => lxcConfigFor(spec((s) => { s.linux!.namespaces = [{ type: 'pid' }]; delete s.hostname; }), ctx()))).toMatch(/^linux\.namespaces: .*mount namespace/);
    expect(refusal(() => lxcConfigFor(spec((s) => { s.mounts = [{ destination: '/x', type: 'bind', source: '/nope' }]; }), ctx()))).toMatch(/^mounts\[0\]\.source: .*does not exist/);
    expect(refusal(() => lxcConfigFor(spec((s) => { s.mounts = [{ destination: '/x', type: 'nfs', source: 'h:/x' }]; }), ctx()))).toMatch(/^mounts\[0\]\.type/);
    expect(refusal(() => sysctlsFor(spec((s) => { s.linux!.sysctl = { 'kernel.panic': '1' }; })))).toMatch(/^linux\.sysctl\["kernel\.panic"\]: not a namespaced sysctl/);
    expect(refusal(() => sysctlsFor(spec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; })))).toMatch(/^linux\.sysctl\["net\.ipv4\.ip_forward"\]: needs a private network namespace/);
    expect(refusal(() => lxcConfigFor(spec((s) => { s.mounts = [{ destination: '/cg', type: 'cgroup', source: 'cgroup' }]; }), ctx()))).toMatch(/^mounts\[0\]\.destination/);
    expect(refusal(() => lxcConfigFor(spec((s) => { s.linux!.resources = { memory: { limit: 1 << 24, swap: 1 << 25 } }; }), ctx({ swapAccounting: false })))).toMatch(/^linux\.resources\.memory\.swap/);
  });
});

describe('sysctlsFor', () => {
  test('namespaced sysctls become /proc/sys paths; LXC\'s own lxc.sysctl is not used', () => {
    const sp = spec((s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1', 'fs.mqueue.msg_max': '20', 'kernel.sem': '250 32000 32 128' }; });
    expect(sysctlsFor(sp)).toEqual([
      { key: 'net.ipv4.ip_forward', path: 'net/ipv4/ip_forward', value: '1' },
      { key: 'kernel.shm_rmid_forced', path: 'kernel/shm_rmid_forced', value: '1' },
      { key: 'fs.mqueue.msg_max', path: 'fs/mqueue/msg_max', value: '20' },
      { key: 'kernel.sem', path: 'kernel/sem', value: '250 32000 32 128' },
    ]);
    expect(lxcConfigFor(sp, ctx()).sysctls).toBeUndefined();
  });
});

describe('cgroupLimitsFor', () => {
  test('maps every declared resource', () => {
    expect(cgroupLimitsFor({ memory: { limit: 1, reservation: 2, swap: 3 }, cpu: { shares: 4, quota: 5000, period: 10000, cpus: '0', mems: '0' }, pids: { limit: 7 } }, true)).toEqual({
      memoryLimit: 1, memoryReservation: 2, memorySwapLimit: 3, cpuShares: 4, cpuQuota: 5000, cpuPeriod: 10000, cpusetCpus: '0', cpusetMems: '0', pidsMax: 7,
    });
  });

  test('device rules keep their order and get the default allow list after them', () => {
    const limits = cgroupLimitsFor({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rw' }] }, true);
    expect(limits.devices!.slice(0, 2)).toEqual([{ allow: false, rule: 'a' }, { allow: true, rule: 'c 10:200 rw' }]);
  });
});
