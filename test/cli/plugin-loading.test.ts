/**
 * A driver arrives only through drivers.json: core and CLI import no driver, and a user's
 * drivers.json can register the example plugin from its own path and run it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth } from '../helpers/run-cli';
import { testRootfs, tempStateRoot } from '../helpers/busybox-fixture';

const top = path.join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

test('core/ and cli/ import no driver or plugin module', () => {
  const offenders = [...sourceFiles(path.join(top, 'core')), ...sourceFiles(path.join(top, 'cli'))].filter((f) =>
    /from ['"][./]*\/(drivers|plugins)\//.test(fs.readFileSync(f, 'utf8')),
  );
  expect(offenders).toEqual([]);
});

test('the example plugin registered only by a user drivers.json is listed and runs', async () => {
  const rootfs = await testRootfs();
  const state = tempStateRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-user-cfg-'));
  const config = path.join(dir, 'drivers.json');
  const pluginDir = path.join(top, 'dist', 'plugins', 'chroot');
  fs.writeFileSync(config, JSON.stringify({ preference: ['chroot'], drivers: { chroot: { module: pluginDir, options: {} } } }));
  try {
    const listed = JSON.parse(berth(['drivers', '--format', 'json'], { root: state.root, env: { BERTH_CONFIG: config } }).stdout);
    expect(listed.config).toEqual([path.join(top, 'dist', 'drivers.json'), config]);
    expect(listed.drivers.find((d: { name: string }) => d.name === 'chroot')).toMatchObject({ module: pluginDir, loaded: true });
    const r = berth(['run', '--rm', '--rootfs', rootfs, '--', 'echo', 'plugin ran'], { root: state.root, env: { BERTH_CONFIG: config, BERTH_DRIVER: 'chroot' } });
    expect(r).toEqual({ code: 0, stdout: 'plugin ran\n', stderr: '' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    state.cleanup();
  }
});
