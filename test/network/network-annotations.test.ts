/** Pure parsing of --network / --publish and of the spec's network annotations. */
import { buildSpec } from '../../core/spec/spec-builder';
import { validateSpec } from '../../core/spec/validate-spec';
import { BERTH_ANNOTATIONS } from '../../core/spec/berth-annotations';
import { requiredFeatures } from '../../core/driver/required-features';
import { formatPublish, networkRequestFromSpec, parseNetworkMode, parsePublish } from '../../core/spec/network-annotations';
import type { Spec } from '../../core/spec/oci-spec';

describe('parsePublish', () => {
  test.each([
    ['8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['8080:80/udp', { hostPort: 8080, containerPort: 80, protocol: 'udp' }],
    ['127.0.0.1:8080:80/tcp', { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    [':8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['[::1]:8443:443', { hostIp: '::1', hostPort: 8443, containerPort: 443, protocol: 'tcp' }],
  ])('%s', (text, expected) => {
    expect(parsePublish(text)).toEqual(expected);
    expect(parsePublish(formatPublish(parsePublish(text)))).toEqual(expected);
  });

  test.each([
    ['80', /both a host port and a container port/],
    ['0:80', /host port "0"/],
    ['8080:70000', /container port "70000"/],
    ['8080:80/sctp', /protocol "sctp"/],
    ['300.1.1.1:8080:80', /not an IPv4 address/],
    ['[zz]:1:2', /not an IPv6 address/],
    ['a:b:c:d', /both a host port/],
  ])('refuses %s', (text, message) => {
    expect(() => parsePublish(text)).toThrow(message);
  });
});

describe('parseNetworkMode', () => {
  test('modes', () => {
    expect(parseNetworkMode('none')).toEqual({ mode: 'none' });
    expect(parseNetworkMode('host')).toEqual({ mode: 'host' });
    expect(parseNetworkMode('bridge')).toEqual({ mode: 'bridge', network: 'berth0' });
    expect(parseNetworkMode('bridge:web')).toEqual({ mode: 'bridge', network: 'web' });
    expect(() => parseNetworkMode('bridge:')).toThrow(/not a network name/);
    expect(() => parseNetworkMode('container:x')).toThrow(/not a network mode/);
  });
});

describe('spec builder: --network and --publish', () => {
  const build = (network: string | undefined, publish?: string[]) => buildSpec({ rootfs: '/tmp', args: ['sh'], ...(network ? { network } : {}), ...(publish ? { publish } : {}) }).spec;
  const netns = (spec: Spec) => (spec.linux?.namespaces ?? []).filter((n) => n.type === 'network');

  test('bridge adds a network namespace and the annotation; the request reads back', () => {
    const spec = build('bridge:web', ['127.0.0.1:8080:80', '5353:53/udp']);
    expect(netns(spec)).toHaveLength(1);
    expect(spec.annotations![BERTH_ANNOTATIONS.network]).toBe('bridge:web');
    expect(JSON.parse(spec.annotations![BERTH_ANNOTATIONS.publish]!)).toEqual([
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ]);
    expect(validateSpec(spec)).toBeDefined();
    expect(networkRequestFromSpec(spec)).toEqual({
      mode: 'bridge',
      network: 'web',
      publish: [
        { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp' },
      ],
    });
    expect(requiredFeatures(spec).map((r) => r.feature)).toEqual(expect.arrayContaining(['network.bridge', 'network.publish', 'namespace.network']));
  });

  test('--publish alone implies the default bridge', () => {
    const spec = build(undefined, ['8080:80']);
    expect(spec.annotations![BERTH_ANNOTATIONS.network]).toBe('bridge');
    expect(networkRequestFromSpec(spec)).toMatchObject({ mode: 'bridge', network: 'berth0' });
  });

  test('host drops the network namespace; none keeps it', () => {
    expect(netns(build('host'))).toHaveLength(0);
    expect(networkRequestFromSpec(build('host')).mode).toBe('host');
    expect(netns(build('none'))).toHaveLength(1);
    expect(networkRequestFromSpec(build('none')).mode).toBe('none');
    expect(requiredFeatures(build('none')).map((r) => r.feature)).not.toContain('network.bridge');
  });

  test('refusals name the flag', () => {
    expect(() => build('host', ['8080:80'])).toThrow(/--publish: needs bridge networking, not --network host/);
    expect(() => build('bogus')).toThrow(/--network: "bogus" is not a network mode/);
    expect(() => build('bridge', ['8080:80', '8080:81'])).toThrow(/claim the same host port/);
    expect(() => build('bridge', ['x'])).toThrow(/--publish: "x"/);
  });

  test('without annotations the namespaces decide', () => {
    const spec = build(undefined);
    expect(networkRequestFromSpec(spec)).toEqual({ mode: 'none', publish: [] });
    spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
    expect(networkRequestFromSpec(spec)).toEqual({ mode: 'none', publish: [], joinPath: '/run/netns/x' });
  });

  test('validation refuses inconsistent or malformed annotations by field', () => {
    const spec = build('host');
    spec.annotations = { [BERTH_ANNOTATIONS.network]: 'bridge' };
    expect(() => validateSpec(spec)).toThrow(/annotations\["org.berth.network"\]: network mode bridge needs a network namespace/);
    const spec2 = build('bridge');
    spec2.annotations![BERTH_ANNOTATIONS.publish] = '[{"hostPort":80}]';
    expect(() => validateSpec(spec2)).toThrow(/annotations\["org.berth.publish"\]\[0\].containerPort: must be a port number/);
    spec2.annotations![BERTH_ANNOTATIONS.publish] = 'nope';
    expect(() => validateSpec(spec2)).toThrow(/not JSON/);
    const spec3 = build('none');
    spec3.annotations![BERTH_ANNOTATIONS.publish] = '[{"hostPort":80,"containerPort":80,"protocol":"tcp"}]';
    expect(() => validateSpec(spec3)).toThrow(/published ports need bridge networking, not none/);
  });
});
