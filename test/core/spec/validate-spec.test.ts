import { validateSpec, jsonPath } from '../../../core/spec/validate-spec';
import { defaultSpec } from '../../../core/spec/default-spec';
import { SpecInvalidError } from '../../../core/errors/spec-invalid-error';
import type { Spec } from '../../../core/spec/oci-spec';

function issuesOf(input: unknown): string[] {
  try {
    validateSpec(input);
  } catch (err) {
    if (err instanceof SpecInvalidError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('validateSpec', () => {
  test('the default spec (runc spec equivalent) is valid', () => {
    expect(issuesOf(defaultSpec())).toEqual([]);
  });

  test('names the JSON path of an unknown capability', () => {
    const spec = defaultSpec();
    spec.process!.capabilities!.bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_FOO'];
    expect(issuesOf(spec)).toContain('process.capabilities.bounding[3]: unknown capability "CAP_FOO"');
  });

  test('schema errors carry the path', () => {
    const spec = defaultSpec() as unknown as Record<string, unknown>;
    (spec.process as Record<string, unknown>).user = { uid: -1, gid: 0 };
    expect(issuesOf(spec)[0]).toMatch(/^process\.user\.uid: /);
  });

  test.each<[string, (s: Spec) => void, string]>([
    ['relative mount destination', (s) => { s.mounts![0]!.destination = 'proc'; }, 'mounts[0].destination: must be an absolute path'],
    ['unknown namespace', (s) => { (s.linux!.namespaces![0] as { type: string }).type = 'bogus'; }, 'linux.namespaces[0].type'],
    ['duplicate namespace', (s) => { s.linux!.namespaces!.push({ type: 'pid' }); }, 'duplicate namespace "pid"'],
    ['ociVersion 2', (s) => { s.ociVersion = '2.0.0'; }, 'ociVersion: unsupported version'],
    ['relative cwd', (s) => { s.process!.cwd = 'tmp'; }, 'process.cwd: must be an absolute path'],
    ['hostname without uts', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, 'hostname: setting a hostname needs a private uts namespace'],
    ['unknown rlimit', (s) => { s.process!.rlimits![0]!.type = 'RLIMIT_BOGUS'; }, 'process.rlimits[0].type: unknown rlimit'],
    ['soft above hard', (s) => { s.process!.rlimits![0] = { type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }; }, 'process.rlimits[0]: soft limit 10 is above hard limit 5'],
    ['empty args', (s) => { s.process!.args = []; }, 'process.args: must name a command'],
    ['bad env', (s) => { s.process!.env = ['NOEQUALS']; }, 'process.env[0]: not of the form NAME=VALUE'],
    ['mappings without userns', (s) => { s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, 'linux.uidMappings: id mappings need a user namespace'],
    ['tiny memory limit', (s) => { s.linux!.resources = { memory: { limit: 1000 } }; }, 'linux.resources.memory.limit'],
    ['bad seccomp action', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_BOGUS' as 'SCMP_ACT_ALLOW' }; }, 'linux.seccomp.defaultAction'],
  ])('refuses %s', (_name, mutate, expected) => {
    const spec = defaultSpec();
    mutate(spec);
    expect(issuesOf(spec).join('\n')).toContain(expected);
  });

  test('unknown top-level properties are accepted (runtime-spec says ignore)', () => {
    expect(issuesOf({ ...defaultSpec(), somethingNew: 1 })).toEqual([]);
  });

  test('jsonPath renders indexes and odd keys', () => {
    expect(jsonPath(['linux', 'sysctl', 'net.ipv4.ip_forward'])).toBe('linux.sysctl["net.ipv4.ip_forward"]');
    expect(jsonPath(['mounts', 2, 'options', 0])).toBe('mounts[2].options[0]');
  });
});

describe('validateSpec on repeats (validated specs are remembered by their JSON text)', () => {
  test('a repeat gives an equal spec that is the caller\'s own: mutating one result never reaches the next', () => {
    const spec = defaultSpec({ rootfs: '/r', args: ['/bin/true'] });
    const a = validateSpec(spec);
    a.process!.args = ['/bin/false'];
    const rules = a.linux!.seccomp!.syscalls!.length;
    a.linux!.seccomp!.syscalls!.length = 0;
    const b = validateSpec(spec);
    expect(b.process!.args).toEqual(['/bin/true']);
    expect(rules).toBeGreaterThan(0);
    expect(b.linux!.seccomp!.syscalls!.length).toBe(rules);
    expect(b).not.toBe(a);
    expect(validateSpec(spec)).toEqual(b);
  });

  test('an invalid spec is refused every time, and a changed spec is validated afresh', () => {
    const bad = { ...defaultSpec({ rootfs: '/r', args: ['/bin/true'] }), ociVersion: 7 };
    for (let i = 0; i < 2; i++) expect(() => validateSpec(bad)).toThrow(SpecInvalidError);
    const good = defaultSpec({ rootfs: '/r', args: ['/bin/true'] });
    validateSpec(good);
    good.process!.user.uid = -1;
    expect(() => validateSpec(good)).toThrow(/process\.user\.uid/);
  });

  test('the JSON form is what is validated: undefined reads as absent, NaN as null', () => {
    const spec = defaultSpec({ rootfs: '/r', args: ['/bin/true'] });
    expect(validateSpec({ ...spec, hostname: undefined }).hostname).toBeUndefined();
    const nan = structuredClone(spec);
    nan.process!.user.uid = Number.NaN;
    expect(() => validateSpec(nan)).toThrow(/process\.user\.uid/);
  });
});
