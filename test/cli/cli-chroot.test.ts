/**
 * End-to-end through the built CLI on the chroot plugin: the core issue's "done when" points and
 * the bad-input rules (one clear line, non-zero exit, nothing left behind).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth } from '../helpers/run-cli';
import { isAlive } from '../../core/util/processes';
import { testRootfs, tempStateRoot } from '../helpers/busybox-fixture';

let rootfs = '';
const state = tempStateRoot();
const root = state.root;
const run = (args: string[], env?: NodeJS.ProcessEnv) => berth(args, { root, ...(env ? { env } : {}) });
const leftovers = () => fs.readdirSync(root).filter((e) => !e.startsWith('.'));

beforeAll(async () => {
  rootfs = await testRootfs();
});
afterAll(() => {
  for (const id of leftovers()) run(['delete', '--force', id]);
  state.cleanup();
});

describe('berth CLI on the chroot driver', () => {
  test('run streams stdout and stderr apart and exits with the container exit code', () => {
    const r = run(['run', '--rm', '--driver', 'chroot', '--rootfs', rootfs, '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(leftovers()).toEqual([]);
  });

  test('create + start + state + kill + delete walk the OCI states', () => {
    expect(run(['create', '--driver', 'chroot', '--rootfs', rootfs, 'walk', '--', 'sleep', '30']).code).toBe(0);
    const created = JSON.parse(run(['state', 'walk']).stdout);
    expect(created).toMatchObject({ ociVersion: '1.2.0', id: 'walk', status: 'created', bundle: path.join(root, 'walk') });
    expect(typeof created.pid).toBe('number');
    expect(run(['start', 'walk']).code).toBe(0);
    const running = JSON.parse(run(['state', 'walk']).stdout);
    expect(running.status).toBe('running');
    expect(fs.readFileSync(`/proc/${running.pid}/cmdline`, 'utf8')).toContain('sleep');
    expect(run(['delete', 'walk']).stderr).toMatch(/is running: delete needs created or stopped \[CONTAINER_STATE\]/);
    expect(run(['kill', 'walk', 'KILL']).code).toBe(0);
    for (let i = 0; i < 50 && JSON.parse(run(['state', 'walk']).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const stopped = JSON.parse(run(['state', 'walk']).stdout);
    expect(stopped).toMatchObject({ status: 'stopped', exitCode: 137 });
    expect(stopped.pid).toBeUndefined();
    expect(run(['delete', 'walk']).code).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  test('a memory limit is refused naming linux.resources.memory and chroot; nothing is created', () => {
    const r = run(['run', '--name', 'nomem', '--driver', 'chroot', '--rootfs', rootfs, '-m', '64m', '--', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('berth: linux.resources.memory.limit: not supported by driver "chroot" (feature resources.memory.limit) [FEATURE_NOT_SUPPORTED]\n');
    expect(leftovers()).toEqual([]);
  });

  test('detached run keeps logs, list and exec work', () => {
    expect(run(['run', '-d', '--name', 'det', '--driver', 'chroot', '--rootfs', rootfs, '--', 'sh', '-c', 'echo hello; echo oops >&2; sleep 30']).stdout).toBe('det\n');
    const list = JSON.parse(run(['list', '--format', 'json']).stdout);
    expect(list).toEqual([expect.objectContaining({ id: 'det', driver: 'chroot', status: 'running' })]);
    const exec = run(['exec', 'det', '--', 'sh', '-c', 'echo from-exec; exit 5']);
    expect(exec).toMatchObject({ code: 5, stdout: 'from-exec\n' });
    for (let i = 0; i < 40 && !run(['logs', 'det']).stdout.includes('hello'); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    expect(run(['logs', 'det'])).toMatchObject({ code: 0, stdout: 'hello\n', stderr: 'oops\n' });
    expect(run(['delete', '--force', 'det']).code).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  test('operations the driver lacks are refused with a typed error', () => {
    run(['run', '-d', '--name', 'nopause', '--driver', 'chroot', '--rootfs', rootfs, '--', 'sleep', '30']);
    const r = run(['pause', 'nopause']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('berth: pause: not supported by driver "chroot" [OPERATION_NOT_SUPPORTED]\n');
    run(['delete', '--force', 'nopause']);
  });

  test('berth drivers --format json lists drivers with availability and features', () => {
    const r = run(['drivers', '--format', 'json']);
    expect(r.code).toBe(0);
    const chroot = JSON.parse(r.stdout).drivers.find((d: { name: string }) => d.name === 'chroot');
    expect(chroot).toMatchObject({ name: 'chroot', loaded: true, fingerprint: { available: true } });
    expect(chroot.features).toEqual(expect.arrayContaining(['process.args', 'op.exec']));
  });

  test('spec writes a runc-like config.json that loads back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spec-'));
    expect(run(['spec', '--bundle', dir, '--', 'echo', 'hi']).code).toBe(0);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(spec.process.args).toEqual(['echo', 'hi']);
    expect(spec.process.capabilities.bounding).toHaveLength(14);
    expect(run(['spec', '--bundle', dir]).stderr).toMatch(/config.json exists: remove it first/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('bad input: one line, non-zero exit, nothing left', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const tempDir = (prefix: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
  const bundle = () => {
    const dir = tempDir('berth-bundle-');
    fs.symlinkSync(rootfs, path.join(dir, 'rootfs'));
    return dir;
  };
  const oneLine = (stderr: string) => stderr.trim().split('\n').length === 1;

  test.each<[string, () => string[], RegExp]>([
    ['invalid JSON config', () => { const b = bundle(); fs.writeFileSync(path.join(b, 'config.json'), '{ nope'); return ['run', '--driver', 'chroot', '--bundle', b]; }, /config.json: not valid JSON/],
    ['missing config.json', () => ['run', '--driver', 'chroot', '--bundle', bundle()], /config.json: cannot read: no such file/],
    ['schema error', () => { const b = bundle(); fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify({ ociVersion: '1.2.0', root: { path: 'rootfs' }, process: { user: { uid: 'x', gid: 0 }, cwd: '/', args: ['true'] } })); return ['run', '--driver', 'chroot', '--bundle', b]; }, /process\.user\.uid: /],
    ['rootfs that does not exist', () => ['run', '--driver', 'chroot', '--rootfs', '/nonexistent/rootfs', '--', 'true'], /rootfs "\/nonexistent\/rootfs" does not exist/],
    ['unknown driver', () => ['run', '--driver', 'warp', '--', 'true'], /unknown driver "warp"/],
    ['broken drivers.json', () => { const f = path.join(tempDir('berth-cfg-'), 'drivers.json'); fs.writeFileSync(f, '[1,'); return ['--config', f, 'run', '--', 'true']; }, /drivers.json: /],
    ['bad container id', () => ['run', '--driver', 'chroot', '--rootfs', rootfs, '--name', 'no/slash', '--', 'true'], /invalid container id "no\/slash"/],
  ])('%s', (_name, args, message) => {
    const r = run(args());
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(message);
    expect(leftovers()).toEqual([]);
  });

  test('an id that exists, and one that does not', () => {
    run(['create', '--driver', 'chroot', '--rootfs', rootfs, 'dup', '--', 'true']);
    const supervisor = JSON.parse(run(['state', 'dup']).stdout).pid as number;
    const again = run(['create', '--driver', 'chroot', '--rootfs', rootfs, 'dup', '--', 'true']);
    expect(again.code).toBe(125);
    expect(again.stderr).toBe('berth: container "dup" already exists [CONTAINER_EXISTS]\n');
    expect(run(['delete', 'dup']).code).toBe(0);
    expect(isAlive(supervisor)).toBe(false);
    const missing = run(['state', 'ghost']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'berth: container "ghost" does not exist [CONTAINER_NOT_FOUND]\n' });
    expect(leftovers()).toEqual([]);
  });

  test('a corrupted record is reported, and delete --force removes it', () => {
    run(['create', '--driver', 'chroot', '--rootfs', rootfs, 'broken', '--', 'sleep', '30']);
    const pid = JSON.parse(run(['state', 'broken']).stdout).pid as number;
    fs.writeFileSync(path.join(root, 'broken', 'record.json'), 'garbage');
    const r = run(['state', 'broken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/container "broken": record .* is corrupted; use delete --force \[STATE_CORRUPT\]/);
    expect(run(['delete', '--force', 'broken']).code).toBe(0);
    expect(leftovers()).toEqual([]);
    expect(isAlive(pid)).toBe(false);
  });
});
