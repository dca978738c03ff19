import { requiredFeatures } from '../../../core/driver/required-features';
import { assertSpecSupported } from '../../../core/driver/feature-check';
import { defaultSpec } from '../../../core/spec/default-spec';
import { FeatureNotSupportedError } from '../../../core/errors/feature-not-supported-error';
import { ALL_FEATURES, type Feature } from '../../../core/driver/features';

describe('requiredFeatures', () => {
  test('the default spec needs its namespaces, mounts, capabilities, masks and the device rule', () => {
    const fields = requiredFeatures(defaultSpec()).map((r) => `${r.feature}@${r.field}`);
    expect(fields).toEqual(expect.arrayContaining([
      'namespace.pid@linux.namespaces[0]',
      'mount.proc@mounts[0]',
      'mount.tmpfs@mounts[1]',
      'mount.devpts@mounts[2]',
      'mount.sysfs@mounts[5]',
      'mount.readonly@mounts[5].options',
      'process.capabilities@process.capabilities',
      'linux.maskedPaths@linux.maskedPaths',
      'resources.devices@linux.resources.devices',
      'root.readonly@root.readonly',
      'hostname@hostname',
    ]));
  });

  test('each resource limit is its own feature', () => {
    const spec = defaultSpec();
    spec.linux!.resources = { memory: { limit: 1 << 26, swap: 1 << 27 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' }, pids: { limit: 10 }, blockIO: { weight: 100 } };
    const features = requiredFeatures(spec).map((r) => r.feature);
    expect(features).toEqual(expect.arrayContaining([
      'resources.memory.limit', 'resources.memory.swap', 'resources.cpu.shares', 'resources.cpu.quota', 'resources.cpu.cpus', 'resources.pids', 'resources.blockIO.weight',
    ]));
  });

  test('every feature a spec can need is in the vocabulary', () => {
    const spec = defaultSpec();
    spec.hooks = { prestart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/true' }] };
    spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    spec.linux!.sysctl = { 'kernel.x': '1' };
    for (const r of requiredFeatures(spec)) expect(ALL_FEATURES).toContain(r.feature);
  });

  test('the feature check refuses naming the field and the driver', () => {
    const spec = defaultSpec();
    spec.linux!.resources = { memory: { limit: 1 << 26 } };
    const declared = new Set<Feature>(requiredFeatures(defaultSpec()).map((r) => r.feature));
    let err: unknown;
    try {
      assertSpecSupported(spec, { name: 'toy', features: declared });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FeatureNotSupportedError);
    expect((err as Error).message).toBe('linux.resources.memory.limit: not supported by driver "toy" (feature resources.memory.limit)');
  });
});
