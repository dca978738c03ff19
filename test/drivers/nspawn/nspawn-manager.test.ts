/**
 * The nspawn driver through core's ContainerManager and the real drivers.json registry entry,
 * and through the built CLI (a detached container outlives the CLI process that started it).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ContainerManager, defaultSpec, DriverRegistry, loadDriversConfig, silentLogger, StateStore, type ExecutionDriver } from '../../../core';
import { captureStdio } from '../../helpers/capture-stdio';
import { describeIf, isRoot, requireBackend } from '../../helpers/backend-gate';
import { tempStateRoot, testRootfs } from '../../helpers/busybox-fixture';

const top = path.resolve(__dirname, '../../..');
const registry = new DriverRegistry(loadDriversConfig([path.join(top, 'drivers.json')]));
const state = tempStateRoot();
const manager = new ContainerManager(registry, new StateStore(state.root), silentLogger);
let driver: ExecutionDriver;
let available = false;
let rootfs = '';
const ids: string[] = [];
const newId = () => {
  const id = `t-nspawn-${crypto.randomBytes(4).toString('hex')}`;
  ids.push(id);
  return id;
};

beforeAll(async () => {
  driver = await registry.get('nspawn');
  available = isRoot && (await requireBackend(driver)).available;
  if (available) rootfs = await testRootfs();
});

afterAll(async () => {
  for (const id of ids) await manager.delete(id, true).catch(() => undefined);
  state.cleanup();
});

describeIf(isRoot)('nspawn through ContainerManager and the CLI', () => {
  beforeEach(() => {
    if (!available) throw new Error('systemd-nspawn unavailable');
  });

  it('is registered in drivers.json and loaded through its DI module', () => {
    expect(driver.name).toBe('nspawn');
    expect(registry.config.preference).toContain('nspawn');
  });

  it('runs the lifecycle: create, start, exec, pause, resume, kill, delete', async () => {
    const id = newId();
    const spec = defaultSpec({ rootfs, args: ['sleep', '60'] });
    delete spec.linux!.seccomp;
    await manager.create({ id, bundle: state.root, spec, driver, stdio: { kind: 'log' } });
    expect((await manager.state(id)).status).toBe('created');
    await manager.start(id);
    expect((await manager.state(id)).status).toBe('running');
    const io = captureStdio();
    try {
      expect(await manager.exec(id, { args: ['hostname'], stdio: { stdin: null, stdout: io.stdout, stderr: io.stderr } })).toEqual({ exitCode: 0 });
      expect(io.read().stdout).toBe('berth\n');
    } finally {
      io.close();
    }
    await manager.pause(id);
    expect((await manager.state(id)).status).toBe('paused');
    await expect(manager.exec(id, { args: ['true'], stdio: { stdin: null, stdout: 1, stderr: 2 } })).rejects.toMatchObject({ code: 'CONTAINER_STATE' });
    await manager.resume(id);
    await manager.kill(id, 'SIGKILL', true);
    expect((await manager.wait(id)).exitCode).toBe(137);
    expect((await manager.state(id)).status).toBe('stopped');
    await manager.delete(id, false);
    expect(await manager.store.exists(id)).toBe(false);
  });

  it('refuses an unsupported feature before anything exists, naming the field', async () => {
    const id = newId();
    const spec = defaultSpec({ rootfs, args: ['true'] });
    spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    spec.process!.terminal = true;
    await expect(manager.create({ id, bundle: state.root, spec, driver, stdio: { kind: 'log' } })).rejects.toMatchObject({
      code: 'FEATURE_NOT_SUPPORTED',
      message: expect.stringMatching(/^process\.terminal: not supported by driver "nspawn".*linux\.seccomp/),
    });
    expect(await manager.store.exists(id)).toBe(false);
  });

  it('keeps a detached container running after the CLI that started it exits', () => {
    const cli = path.join(top, 'dist/cli/main.js');
    if (!fs.existsSync(cli)) throw new Error('run `npm run build` first');
    const id = newId();
    const berth = (...args: string[]) => spawnSync(process.execPath, [cli, '--root', state.root, ...args], { encoding: 'utf8', timeout: 30000 });
    const run = berth('run', '-d', '--driver', 'nspawn', '--name', id, '--rootfs', rootfs, '--', 'sleep', '60');
    expect(run.status).toBe(0);
    const st = JSON.parse(berth('state', id).stdout) as { status: string; pid: number };
    expect(st.status).toBe('running');
    const kill = berth('kill', id, 'KILL');
    expect(kill.status).toBe(0);
    expect(berth('delete', id).status).toBe(0);
    // Run in the foreground: the exit code and both streams come back through the CLI.
    const fg = berth('run', '--rm', '--driver', 'nspawn', '--rootfs', rootfs, '--', 'sh', '-c', 'echo o; echo e >&2; exit 5');
    expect({ status: fg.status, stdout: fg.stdout, stderr: fg.stderr }).toEqual({ status: 5, stdout: 'o\n', stderr: 'e\n' });
  });
});
