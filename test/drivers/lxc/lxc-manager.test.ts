/** The LXC driver loaded the way berth loads it (drivers.json entry -> DI module) and driven by ContainerManager. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerManager, DriverRegistry, StateStore, hasCode, type DriversConfig, type Logger } from '../../../core';
import { containerCgroupDirs } from '../../../vendor/lxc-ts-shim/src';
import { testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';
import { describeIf, isRoot, requireBackend } from '../../helpers/backend-gate';
import { newId, specFor } from './lxc-test-kit';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const available = isRoot && fs.existsSync('/usr/bin/lxc-execute');

describeIf(available || process.env.CI === 'true')('lxc driver through ContainerManager', () => {
  let lxcpath: string;
  let state: ReturnType<typeof tempStateRoot>;
  let manager: ContainerManager;
  let registry: DriverRegistry;
  let rootfs: string;
  let io: ReturnType<typeof captureStdio>;

  beforeAll(async () => {
    lxcpath = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lxcpath-'));
    state = tempStateRoot();
    const config: DriversConfig = {
      drivers: { lxc: { module: path.resolve(__dirname, '../../../drivers/lxc'), options: { lxcpath }, baseDir: '/' } },
      preference: ['lxc'],
      hosts: [],
      sources: [],
    };
    registry = new DriverRegistry(config);
    manager = new ContainerManager(registry, new StateStore(state.root), quiet);
    await requireBackend(await registry.get('lxc'));
    rootfs = await testRootfs();
  });
  afterAll(async () => {
    for (const id of await manager.store.ids()) await manager.delete(id, true).catch(() => undefined);
    state.cleanup();
    for (const shared of ['.rootfs-mount', '.seccomp']) fs.rmSync(path.join(lxcpath, shared), { recursive: true, force: true });
    fs.rmdirSync(lxcpath);
  });
  beforeEach(() => {
    io = captureStdio();
  });
  afterEach(() => io.close());

  test('the drivers.json entry loads the lxc driver with its lxcpath, and it is available', async () => {
    const driver = await registry.get('lxc');
    const fp = await driver.fingerprint();
    expect(fp).toMatchObject({ available: true, health: 'healthy' });
    expect(fp.version).toMatch(/^5\./);
    expect(fp.attributes.lxcpath).toBe(lxcpath);
  });

  test('run: create, start, wait, state, delete; the record and every trace go away', async () => {
    const driver = await registry.get('lxc');
    const id = newId();
    const spec = specFor(rootfs, ['/bin/sh', '-c', 'echo hello; echo bad >&2; exit 5']);
    await manager.create({ id, bundle: state.root, spec, driver, stdio: { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr } });
    expect((await manager.state(id)).status).toBe('created');
    await manager.start(id);
    expect((await manager.wait(id)).exitCode).toBe(5);
    expect(await manager.state(id)).toMatchObject({ status: 'stopped', exitCode: 5, driver: 'lxc' });
    expect(io.read()).toEqual({ stdout: 'hello\n', stderr: 'bad\n' });
    await manager.delete(id, false);
    expect(await manager.store.exists(id)).toBe(false);
    // only the folders shared by every container (the rootfs mount point, seccomp policies) remain
    expect(fs.readdirSync(lxcpath).filter((e) => e !== '.rootfs-mount' && e !== '.seccomp')).toEqual([]);
    expect(containerCgroupDirs(id)).toEqual([]);
  });

  test('detached: logs, kill --all, delete', async () => {
    const driver = await registry.get('lxc');
    const id = newId();
    await manager.create({ id, bundle: state.root, spec: specFor(rootfs, ['/bin/sh', '-c', 'echo up; echo warn >&2; sleep 100 & wait']), driver, stdio: { kind: 'log' } });
    await manager.start(id);
    const deadline = Date.now() + 5000;
    while (!io.read().stdout.includes('up') && Date.now() < deadline) {
      await manager.logs(id, { follow: false, stdout: io.stdout, stderr: io.stderr });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(io.read().stdout).toContain('up');
    expect(io.read().stderr).toContain('warn');
    await manager.kill(id, 'SIGKILL', true);
    expect((await manager.wait(id)).exitCode).toBe(137);
    await manager.delete(id, false);
    expect(containerCgroupDirs(id)).toEqual([]);
  });

  test('features the driver does not declare are refused by field before anything exists', async () => {
    const driver = await registry.get('lxc');
    const cases: [Parameters<typeof specFor>[2], string][] = [
      [(s) => { s.process!.terminal = true; }, 'process.terminal'],
      [(s) => { s.linux!.intelRdt = { closID: 'x' }; }, 'linux.intelRdt'],
      [(s) => { s.hooks = { createContainer: [{ path: '/bin/true' }] }; }, 'hooks.createContainer'],
      [(s) => { s.process!.user.umask = 0o22; }, 'process.user.umask'],
    ];
    for (const [edit, field] of cases) {
      const id = newId();
      const err = await manager.create({ id, bundle: state.root, spec: specFor(rootfs, ['/bin/true'], edit), driver, stdio: { kind: 'log' } }).then(() => undefined, (e: unknown) => e);
      expect(hasCode(err, 'FEATURE_NOT_SUPPORTED')).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: not supported by driver "lxc"`));
      expect(await manager.store.exists(id)).toBe(false);
    }
  });
});
