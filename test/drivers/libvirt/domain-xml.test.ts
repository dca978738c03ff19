import { convert } from 'xmlbuilder2';
import { defaultSpec, type Spec } from '../../../core';
import { bareLxcDomainXml, commonDomain, lxcDomain, renderDomainXml, INIT_PATH_IN_CONTAINER, type DomainInputs } from '../../../drivers/libvirt/domain-xml';
import { capabilityMasks } from '../../../drivers/libvirt/init-arguments';
import { parseMountOptions, tmpfsSizeKiB, MS } from '../../../drivers/libvirt/mount-options';
import { parseInitStatus } from '../../../drivers/libvirt/init-status';

const inputs: DomainInputs = {
  name: 'berth-t-libvirt-unit',
  uuid: '2f1b4b7e-8a4e-4a53-9a0e-1b2c3d4e5f60',
  initHostDir: '/opt/berth/init',
  hostMemoryBytes: 8 * 1024 ** 3,
  withStdin: false,
};

function spec(args: string[] = ['sh', '-c', 'echo hi'], edit: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec({ rootfs: '/var/lib/rootfs', args });
  s.mounts = (s.mounts ?? []).filter((m) => m.type !== 'cgroup');
  delete s.linux!.seccomp;
  edit(s);
  return s;
}

/** The rendered XML parsed back into a plain object, so tests check the document, not the model. */
function parsed(s: Spec, extra: Partial<DomainInputs> = {}): any {
  return (convert(renderDomainXml(lxcDomain(s, { ...inputs, ...extra })), { format: 'object' }) as any).domain;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

describe('libvirt domain XML (LXC)', () => {
  it('names the domain, runs berth-lxc-init with the command after "--", and passes env and cwd to libvirt', () => {
    const d = parsed(spec(['sh', '-c', 'echo "<a & b>"'], (s) => {
      s.process!.env = ['PATH=/bin', 'A=1 2', 'A=3'];
      s.process!.cwd = '/tmp';
    }));
    expect(d['@type']).toBe('lxc');
    expect(d.name).toBe(inputs.name);
    expect(d.uuid).toBe(inputs.uuid);
    expect(d.os.type).toBe('exe');
    expect(d.os.init).toBe(INIT_PATH_IN_CONTAINER);
    const args: string[] = list(d.os.initarg);
    expect(args[0]).toBe('init');
    expect(args.slice(args.indexOf('--') + 1, -1)).toEqual(['sh', '-c']);
    // Escaped by the XML library, never concatenated: libvirt reads back the original text.
    expect(renderDomainXml(lxcDomain(spec(['sh', '-c', 'echo "<a & b>"']), inputs))).toContain('<initarg>echo "&lt;a &amp; b&gt;"</initarg>');
    expect(list(d.os.initenv).map((e: any) => [e['@name'], e['#']])).toEqual([['PATH', '/bin'], ['A', '3']]);
    expect(d.os.initdir).toBe('/tmp');
    expect(args.filter((a, i) => args[i - 1] === '--keep-env')).toEqual(['PATH', 'A']);
  });

  it('mounts the rootfs at / (read-only when asked) and the init folder read-only under /dev', () => {
    const fs = list(parsed(spec()).devices.filesystem);
    expect(fs[0]).toMatchObject({ '@type': 'mount', source: { '@dir': '/var/lib/rootfs' }, target: { '@dir': '/' } });
    expect(fs[0]).toHaveProperty('readonly');
    expect(fs[1]).toMatchObject({ source: { '@dir': '/opt/berth/init' }, target: { '@dir': '/dev/.berth' } });
    const rw = list(parsed(spec([], (s) => (s.root!.readonly = false))).devices.filesystem);
    expect(rw[0]).not.toHaveProperty('readonly');
  });

  it('gives a network namespace <privnet/> (only lo), and shares the host network without one', () => {
    expect(parsed(spec()).features).toHaveProperty('privnet');
    const host = parsed(spec(['true'], (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'))));
    expect(host.features?.privnet).toBeUndefined();
    expect(host.devices.interface).toBeUndefined();
  });

  it('maps the memory limit to memtune hard_limit (and currentMemory), <memory> staying the host RAM so setmem can raise it; cpu to <cputune>/<vcpu cpuset>', () => {
    const d = parsed(spec(['true'], (s) => {
      s.linux!.resources = { memory: { limit: 64 * 1024 ** 2, reservation: 32 * 1024 ** 2, swap: 128 * 1024 ** 2 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' } };
    }));
    expect(d.memory).toEqual({ '@unit': 'b', '#': String(inputs.hostMemoryBytes) });
    expect(d.currentMemory).toEqual({ '@unit': 'b', '#': String(64 * 1024 ** 2) });
    expect(d.memtune.hard_limit['#']).toBe(String(64 * 1024 ** 2));
    expect(d.memtune.soft_limit['#']).toBe(String(32 * 1024 ** 2));
    expect(d.memtune.swap_hard_limit['#']).toBe(String(128 * 1024 ** 2));
    expect(d.cputune).toEqual({ shares: '512', period: '100000', quota: '50000' });
    expect(d.vcpu['@cpuset']).toBe('0');
  });

  it('uses the host memory as <memory> when the spec sets no limit, and no memtune', () => {
    const d = parsed(spec());
    expect(d.memory['#']).toBe(String(inputs.hostMemoryBytes));
    expect(d.memtune).toBeUndefined();
    expect(commonDomain(spec(), inputs).cputune).toEqual({});
  });

  it('turns off the capabilities outside the bounding set, keeping those the init needs until exec', () => {
    const d = parsed(spec());
    expect(d.features.capabilities['@policy']).toBe('allow');
    const off = Object.keys(d.features.capabilities);
    expect(off).toContain('sys_module');
    expect(off).toContain('net_admin');
    expect(off).not.toContain('chown');
    expect(off).not.toContain('sys_admin');
    expect(d.features.capabilities.sys_module['@state']).toBe('off');
    expect(capabilityMasks({ bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'] })).toBe('21:20:0:0:0');
  });

  it('translates bind mounts to <filesystem type=mount> and tmpfs to type=ram with its size', () => {
    const d = parsed(spec(['true'], (s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'nosuid'] });
      s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700'] });
    }));
    const fs = list(d.devices.filesystem);
    expect(fs).toContainEqual(expect.objectContaining({ '@type': 'mount', source: { '@dir': '/srv/data' }, target: { '@dir': '/data' }, readonly: {} }));
    expect(fs).toContainEqual(expect.objectContaining({ '@type': 'ram', source: { '@usage': '1024', '@units': 'KiB' }, target: { '@dir': '/scratch' } }));
    const args: string[] = list(d.os.initarg);
    expect(args).toContain(`/data|${MS.RDONLY | MS.NOSUID}|`);
    expect(args).toContain('/scratch|0|mode=700');
    expect(args).toContain('mqueue|/dev/mqueue|14|');
  });

  it('maps a user namespace to <idmap>', () => {
    const d = parsed(spec(['true'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
      s.mounts!.find((m) => m.destination === '/dev')!.options = ['nosuid', 'mode=755'];
    }));
    expect(d.idmap.uid).toEqual({ '@start': '0', '@target': '100000', '@count': '65536' });
    expect(d.idmap.gid).toEqual({ '@start': '0', '@target': '200000', '@count': '1000' });
    expect(parsed(spec()).idmap).toBeUndefined();
  });

  it('refuses what libvirt LXC cannot do, naming the field', () => {
    const cases: [(s: Spec) => void, RegExp][] = [
      [(s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/srv', options: ['rbind', 'shared'] }), /^mounts\[\d+\]\.options: .*shared/],
      [(s) => s.mounts!.push({ destination: '/x', type: 'proc', source: 'proc' }), /^mounts\[\d+\]\.destination/],
      [(s) => s.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['huge=always'] }), /^mounts\[\d+\]\.options: tmpfs option "huge=always"/],
      [(s) => s.mounts!.push({ destination: '/x', type: 'nfs', source: 'srv:/x' }), /^mounts\[\d+\]\.type/],
      [(s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid')), /^linux\.namespaces: .*pid/],
      [(s) => (s.process!.terminal = true), /^process\.terminal/],
      [(s) => (s.linux!.resources = { cpu: { quota: 500 } }), /^linux\.resources\.cpu\.quota/],
      [(s) => (s.linux!.resources = { memory: { swap: 1024 ** 3 } }), /^linux\.resources\.memory\.swap/],
      [(s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 1, hostID: 100000, size: 10 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
      }, /^linux\.uidMappings: .*id 0/],
      [(s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
      }, /^mounts\[1\]\.options: .*user namespace/],
    ];
    for (const [edit, message] of cases) {
      expect(() => lxcDomain(spec(['true'], edit), inputs)).toThrow(message);
    }
  });
});

describe('the bare domain of the raw baseline', () => {
  it('runs the command itself as init on a read-only rootfs with a private network', () => {
    const d = (convert(bareLxcDomainXml('raw-x', '/r', ['/bin/echo', 'a b'], 1024), { format: 'object' }) as any).domain;
    expect(d.os).toMatchObject({ type: 'exe', init: '/bin/echo', initarg: 'a b' });
    expect(d.features).toHaveProperty('privnet');
    expect(d.devices.filesystem).toMatchObject({ source: { '@dir': '/r' }, target: { '@dir': '/' }, readonly: {} });
  });
});

describe('mount options and the init status file', () => {
  it('splits flags, data and propagation', () => {
    expect(parseMountOptions(['nosuid', 'nodev', 'ro', 'rbind', 'size=4k'])).toEqual({ flags: MS.NOSUID | MS.NODEV | MS.RDONLY, readonly: true, data: ['size=4k'], unsupported: [] });
    expect(parseMountOptions(['ro', 'rw']).readonly).toBe(false);
    expect(parseMountOptions(['rslave']).unsupported).toEqual(['rslave']);
    expect(tmpfsSizeKiB(['size=65536k'])).toBe(65536);
    expect(tmpfsSizeKiB(['size=2g'])).toBe(2 * 1024 * 1024);
    expect(tmpfsSizeKiB(['size=50%'])).toBeUndefined();
  });

  it('reads ready, started and exit lines', () => {
    expect(parseInitStatus('')).toEqual({ ready: false });
    expect(parseInitStatus('ready\nstarted 2\n')).toEqual({ ready: true, startedPid: 2 });
    expect(parseInitStatus('ready\nstarted 2\nexit 137\n')).toEqual({ ready: true, startedPid: 2, exitCode: 137 });
  });
});
