import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DriverRegistry } from '../../../core/registry/driver-registry';
import { loadDriversConfig, configFiles } from '../../../core/registry/drivers-config';
import { selectDriver, hostnameMatches } from '../../../core/registry/driver-selection';
import { BerthError } from '../../../core/errors/berth-error';

const fixtures = path.join(__dirname, '../../fixtures/drivers');
const repoDriversJson = path.join(__dirname, '../../../drivers.json');
const loads = () => (globalThis as { berthFixtureLoads?: string[] }).berthFixtureLoads ?? [];

const configDirs: string[] = [];
afterAll(() => configDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function writeConfig(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cfg-'));
  configDirs.push(dir);
  const file = path.join(dir, 'drivers.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const fixtureConfig = () =>
  writeConfig({
    preference: ['throws', 'counting', 'chroot'],
    drivers: {
      counting: { module: path.join(fixtures, 'counting') },
      throws: { module: path.join(fixtures, 'throws') },
      'wrong-name': { module: path.join(fixtures, 'wrong-name') },
      'no-export': { module: path.join(fixtures, 'no-export') },
      chroot: { module: path.join(__dirname, '../../../plugins/chroot') },
    },
  });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BerthError ? err.code : 'not-a-berth-error';
  }
  return undefined;
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return err instanceof BerthError ? `${err.code}: ${err.message}` : `not-a-berth-error: ${(err as Error).message}`;
  }
  return undefined;
}

describe('DriverRegistry', () => {
  test('loads only the module asked for (lazy)', async () => {
    const registry = new DriverRegistry(loadDriversConfig([fixtureConfig()]));
    const before = loads().length;
    const d = await registry.get('counting');
    expect(d.name).toBe('counting');
    expect(loads().slice(before)).toEqual(['counting']);
  });

  test('a module that fails to load, exports nothing or binds another name is a typed load error', async () => {
    const registry = new DriverRegistry(loadDriversConfig([fixtureConfig()]));
    expect(await asyncCodeOf(registry.get('throws'))).toMatch(/^DRIVER_LOAD_FAILED: driver "throws": cannot load module/);
    expect(await asyncCodeOf(registry.get('no-export'))).toMatch(/^DRIVER_LOAD_FAILED: .*exports no berthDriver/);
    expect(await asyncCodeOf(registry.get('wrong-name'))).toMatch(/^DRIVER_LOAD_FAILED: .*bound nothing, not a driver named "wrong-name"/);
    expect(await asyncCodeOf(registry.get('nope'))).toMatch(/^DRIVER_UNKNOWN: unknown driver "nope"/);
  });

  test('summaries report every driver, broken ones as unavailable with the reason', async () => {
    const registry = new DriverRegistry(loadDriversConfig([fixtureConfig()]));
    const all = await registry.summaries();
    expect(all.map((s) => [s.name, s.fingerprint.available])).toEqual([
      ['counting', false], ['throws', false], ['wrong-name', false], ['no-export', false], ['chroot', true],
    ]);
    expect(all.find((s) => s.name === 'chroot')!.features).toContain('process.args');
  });

  test('selection: --driver > BERTH_DRIVER > host rule > first available in preference', async () => {
    const file = writeConfig({
      preference: ['throws', 'counting', 'chroot'],
      hosts: [{ hostname: 'build-*', driver: 'chroot' }],
      drivers: { counting: { module: path.join(fixtures, 'counting') }, throws: { module: path.join(fixtures, 'throws') }, chroot: { module: path.join(__dirname, '../../../plugins/chroot') } },
    });
    const registry = new DriverRegistry(loadDriversConfig([file]));
    expect((await selectDriver(registry, 'chroot', {}, 'x')).reason).toBe('--driver chroot');
    expect((await selectDriver(registry, undefined, { BERTH_DRIVER: 'chroot' }, 'x')).reason).toBe('BERTH_DRIVER=chroot');
    expect((await selectDriver(registry, undefined, {}, 'build-7')).reason).toMatch(/host rule "build-\*"/);
    const auto = await selectDriver(registry, undefined, {}, 'laptop');
    expect(auto.driver.name).toBe('chroot');
    expect(auto.reason).toMatch(/skipped throws: .*; counting: fixture only/);
    expect(await asyncCodeOf(selectDriver(registry, 'counting', {}, 'x'))).toMatch(/^DRIVER_UNAVAILABLE: driver "counting" is unavailable: fixture only/);
  });

  test('a user file overrides the built-in one, merging drivers by name', () => {
    const user = writeConfig({ preference: ['counting'], drivers: { counting: { module: path.join(fixtures, 'counting'), options: { a: 1 } } } });
    const config = loadDriversConfig([repoDriversJson, user]);
    expect(config.preference).toEqual(['counting']);
    expect(Object.keys(config.drivers)).toEqual(expect.arrayContaining(['chroot', 'counting']));
    expect(config.drivers.counting!.options).toEqual({ a: 1 });
    expect(configFiles(repoDriversJson, user, {})).toEqual([repoDriversJson, user]);
    expect(configFiles(repoDriversJson, undefined, { BERTH_CONFIG: user })).toEqual([repoDriversJson, user]);
  });

  test.each([
    ['{ not json', /drivers\.json: /],
    [{ drivers: { Bad_Name: { module: 'x' } } }, /drivers\.Bad_Name: driver names are lower-case/],
    [{ drivers: { a: {} } }, /drivers\.a\.module: /],
    [{ preference: ['ghost'], drivers: {} }, /preference names "ghost"/],
    [{ hosts: [{ hostname: '*', driver: 'ghost' }], drivers: {} }, /host rule "\*" names "ghost"/],
  ])('a broken drivers.json is refused with one clear line: %j', (content, message) => {
    const file = writeConfig(content);
    expect(codeOf(() => loadDriversConfig([file]))).toBe('DRIVERS_CONFIG_INVALID');
    expect(() => loadDriversConfig([file])).toThrow(message);
  });

  test('a named config file that does not exist is an error', () => {
    expect(() => configFiles(repoDriversJson, '/nonexistent/drivers.json', {})).toThrow(/no such drivers config file/);
  });

  test('hostname globs', () => {
    expect(hostnameMatches('ci-*', 'ci-runner-3')).toBe(true);
    expect(hostnameMatches('ci-?', 'ci-12')).toBe(false);
    expect(hostnameMatches('a.b', 'axb')).toBe(false);
  });
});
