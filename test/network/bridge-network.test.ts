/** Pure: CIDR math and the bridge network's CNI list. */
import { bridgeConfList, bridgeNetworkSpec, defaultBridgeName, summarizeConfList, DEFAULT_BRIDGE_NETWORK } from '../../core/network/bridge-network';
import { cidrsOverlap, formatIpv4, hostRange, parseIpv4, parseIpv4Cidr } from '../../core/network/ipv4-cidr';
import { convertCniResult, parseCniResult } from '../../core/network/cni/cni-result';
import { pluginConfig } from '../../core/network/cni/cni-executor';
import { pluginEnvironment } from '../../core/network/cni/cni-plugin-exec';

describe('ipv4 cidr', () => {
  test('parse, format, overlap, host range', () => {
    expect(formatIpv4(parseIpv4('10.77.0.1')!)).toBe('10.77.0.1');
    expect(parseIpv4('256.0.0.1')).toBeUndefined();
    expect(() => parseIpv4Cidr('10.77.0.1/16')).toThrow(/host bits set \(did you mean 10.77.0.0\/16\?\)/);
    expect(() => parseIpv4Cidr('10.77.0.0/33')).toThrow(/not an IPv4 CIDR/);
    expect(cidrsOverlap(parseIpv4Cidr('10.77.0.0/16'), parseIpv4Cidr('10.77.5.0/24'))).toBe(true);
    expect(cidrsOverlap(parseIpv4Cidr('10.77.0.0/16'), parseIpv4Cidr('10.78.0.0/24'))).toBe(false);
    const r = hostRange(parseIpv4Cidr('10.90.0.0/24'));
    expect([formatIpv4(r.first), formatIpv4(r.last)]).toEqual(['10.90.0.1', '10.90.0.254']);
  });
});

describe('bridge network', () => {
  test('defaults: gateway is the first host, bridge berth-NAME or a hash when too long', () => {
    expect(bridgeNetworkSpec({ name: 'web', subnet: '10.90.0.0/24' })).toEqual({ name: 'web', subnet: '10.90.0.0/24', gateway: '10.90.0.1', bridge: 'berth-web' });
    const long = defaultBridgeName('a-rather-long-network-name');
    expect(long).toMatch(/^berth-[0-9a-f]{9}$/);
    expect(long).toHaveLength(15);
    expect(() => bridgeNetworkSpec({ name: 'web', subnet: '10.90.0.0/24', gateway: '10.90.0.255' })).toThrow(/not a host address/);
    expect(() => bridgeNetworkSpec({ name: 'web', subnet: '10.90.0.0/31' })).toThrow(/too small/);
    expect(() => bridgeNetworkSpec({ name: 'web', subnet: '10.90.0.0/24', bridge: 'much-too-long-bridge' })).toThrow(/not an interface name/);
  });

  test('the list is bridge + portmap + firewall and reads back', () => {
    const list = bridgeConfList(DEFAULT_BRIDGE_NETWORK);
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
    expect(list.plugins[1]!.capabilities).toEqual({ portMappings: true });
    expect(summarizeConfList(list)).toEqual({ name: 'berth0', driver: 'bridge', bridge: 'berth0', subnet: '10.77.0.0/16', gateway: '10.77.0.1', plugins: ['bridge', 'portmap', 'firewall'] });
  });
});

describe('CNI plumbing', () => {
  test('results convert between versions and are validated', () => {
    const r = parseCniResult({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/x' }], ips: [{ address: 'fd00::2/64', interface: 0 }] }, 't');
    expect(convertCniResult(r, '0.4.0').ips![0]).toEqual({ address: 'fd00::2/64', interface: 0, version: '6' });
    expect(() => parseCniResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 3 }] }, 't')).toThrow(/ips\[0\].interface 3 names no interface/);
    expect(() => parseCniResult({ cniVersion: '0.2.0' }, 't')).toThrow(/not supported/);
  });

  test('plugin config: injected keys win over the plugin file, runtimeConfig only for declared capabilities', () => {
    const conf = pluginConfig(
      { cniVersion: '1.0.0', name: 'n', plugins: [] },
      '1.0.0',
      { type: 'x', name: 'spoofed', prevResult: { bogus: true }, capabilities: { portMappings: false } } as never,
      { containerId: 'c', netns: '/n', ifName: 'eth0', capabilityArgs: { portMappings: [] } },
      undefined,
    );
    expect(conf).toEqual({ type: 'x', name: 'n', cniVersion: '1.0.0', capabilities: { portMappings: false } });
  });

  test('plugin environment: caller CNI_* replaced, PATH has sbin', () => {
    const env = pluginEnvironment({ command: 'DEL', cniPath: ['/a'], runtime: { containerId: 'c', netns: '/n', ifName: 'eth0' } }, { PATH: '/usr/bin', CNI_ARGS: 'evil=1', HOME: '/root' });
    expect(env).toMatchObject({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_ARGS: '', CNI_PATH: '/a', HOME: '/root' });
    expect(env.PATH!.split(':')).toEqual(expect.arrayContaining(['/usr/bin', '/usr/sbin', '/sbin']));
  });
});

describe('missingCniPlugins', () => {
  test('reports what a plugin path lacks', () => {
    const { missingCniPlugins } = require('../../core/network/cni/cni-plugin-exec') as typeof import('../../core/network/cni/cni-plugin-exec');
    expect(missingCniPlugins(['/nonexistent']).missing).toEqual(['loopback', 'bridge', 'host-local', 'portmap', 'firewall']);
    expect(missingCniPlugins(['/nonexistent']).installHint).toMatch(/containernetworking-plugins/);
  });
});
