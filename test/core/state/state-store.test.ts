import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { StateStore } from '../../../core/state/state-store';
import { withFileLock } from '../../../core/state/file-lock';
import type { ContainerRecord } from '../../../core/state/container-record';
import { tempStateRoot } from '../../helpers/busybox-fixture';

const record = (id: string): ContainerRecord => ({ version: 1, id, driver: 'chroot', bundle: '/b', created: new Date().toISOString(), phase: 'created', handle: { a: 1 }, stdio: 'log' });

describe('StateStore', () => {
  const state = tempStateRoot();
  const store = new StateStore(state.root);
  afterAll(() => state.cleanup());

  test('claim is exclusive: of many concurrent claims exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.claim('race')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.every((r) => (r.reason as { code?: string }).code === 'CONTAINER_EXISTS')).toBe(true);
  });

  test('write then read round-trips; a corrupted record is STATE_CORRUPT; a missing one CONTAINER_NOT_FOUND', async () => {
    await store.claim('c1');
    await store.write(record('c1'));
    expect((await store.read('c1')).handle).toEqual({ a: 1 });
    fs.writeFileSync(path.join(store.dir('c1'), 'record.json'), '{"version":1,"id":"c1"');
    await expect(store.read('c1')).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    await expect(store.read('ghost')).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
    await expect(store.read('../etc')).rejects.toMatchObject({ code: 'CONTAINER_ID_INVALID' });
  });

  test('a claimed id without a record (CLI died mid-create) reads as STATE_CORRUPT', async () => {
    await store.claim('half');
    await expect(store.read('half')).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  test('a claim with a spec keeps it (and the driver name) on disk before any record; the first record write serves both from the cache', async () => {
    const spec = { ociVersion: '1.2.0', root: { path: '/r' }, process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } } };
    await store.claim('withspec', 'chroot', spec);
    expect(JSON.parse(fs.readFileSync(path.join(store.dir('withspec'), 'config.json'), 'utf8'))).toEqual(spec);
    expect(await store.driverNameOf('withspec')).toBe('chroot');
    await expect(store.read('withspec')).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    spec.process.args = ['/bin/false']; // the caller's object: the store keeps its own copy
    await store.write(record('withspec'));
    const read = await store.readContainer('withspec');
    expect(read.spec.process?.args).toEqual(['/bin/true']);
    expect(read.record.handle).toEqual({ a: 1 });
  });

  test('remove deletes the whole container folder, nested driver files included, and tolerates a missing one', async () => {
    await store.claim('gone', 'chroot');
    fs.mkdirSync(path.join(store.driverDir('gone'), 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(store.driverDir('gone'), 'a', 'b', 'f'), 'x');
    fs.symlinkSync('/etc/hostname', path.join(store.driverDir('gone'), 'link'));
    fs.mkdirSync(path.join(state.root, 'outside'));
    fs.symlinkSync(path.join(state.root, 'outside'), path.join(store.driverDir('gone'), 'dirlink'));
    await store.remove('gone');
    expect(fs.existsSync(store.dir('gone'))).toBe(false);
    expect(fs.existsSync(path.join(state.root, 'outside'))).toBe(true); // a symlink is removed, not followed
    expect(fs.existsSync('/etc/hostname')).toBe(true);
    await expect(store.remove('gone')).resolves.toBeUndefined();
  });

  test('the lock serialises concurrent writers', async () => {
    const order: string[] = [];
    const lockFile = path.join(state.root, 'x.lock');
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        withFileLock(lockFile, async () => {
          order.push(`${n}+`);
          await new Promise((r) => setTimeout(r, 20));
          order.push(`${n}-`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
  });

  test('a lock left by a dead process is taken over', async () => {
    const child = spawn('true');
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    const lockFile = path.join(state.root, 'stale.lock');
    fs.writeFileSync(lockFile, String(pid));
    await expect(withFileLock(lockFile, async () => 'got it', 2000)).resolves.toBe('got it');
    // The same as berth writes it now: a symbolic link to the dead owner's pid.
    fs.symlinkSync(String(pid), lockFile);
    await expect(withFileLock(lockFile, async () => 'again', 2000)).resolves.toBe('again');
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  test('a held lock names its owner (this process) and is not taken over while the owner lives', async () => {
    const lockFile = path.join(state.root, 'held.lock');
    let inside = '';
    await withFileLock(lockFile, async () => {
      inside = fs.readlinkSync(lockFile);
      await expect(withFileLock(lockFile, async () => 'never', 100)).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    });
    expect(inside).toBe(String(process.pid));
    expect(fs.existsSync(lockFile)).toBe(false);
  });
});
