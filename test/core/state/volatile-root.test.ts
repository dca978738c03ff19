import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureVolatileRoot } from '../../../core/state/volatile-root';
import { StateStore } from '../../../core/state/state-store';
import { isMountPoint, mountOf } from '../../../core/util/mount-info';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '25 22 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,mode=755',
  '30 25 0:40 / /run/with\\040space rw - tmpfs berth rw',
  '31 22 0:41 / /srv rw - xfs /dev/vdb rw',
  '32 31 0:42 / /srv rw - tmpfs over rw',
].join('\n');

describe('mountOf (pure, from mountinfo text)', () => {
  test('the longest mount point holding the path decides; a later mount on the same point is the one on top', () => {
    expect(mountOf('/run/berth', MOUNTINFO)).toEqual({ point: '/run', type: 'tmpfs' });
    expect(mountOf('/runx/a', MOUNTINFO)).toEqual({ point: '/', type: 'ext4' });
    expect(mountOf('/var/lib/berth', MOUNTINFO).type).toBe('ext4');
    expect(mountOf('/run/with space/x', MOUNTINFO)).toEqual({ point: '/run/with space', type: 'tmpfs' });
    expect(mountOf('/srv/data', MOUNTINFO).type).toBe('tmpfs');
    expect(isMountPoint('/run', MOUNTINFO)).toBe(true);
    expect(isMountPoint('/run/berth', MOUNTINFO)).toBe(false);
  });
});

describe('ensureVolatileRoot (real mounts, as root)', () => {
  // A folder on the machine's disk (not /tmp, which may be a tmpfs elsewhere).
  const base = fs.mkdtempSync('/var/tmp/berth-volatile-');
  const mounted: string[] = [];
  const onDisk = !['tmpfs', 'ramfs'].includes(mountOf(base).type);
  const mountLines = (dir: string) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === dir).length;

  afterAll(() => {
    for (const dir of mounted.reverse()) while (isMountPoint(dir)) spawnSync('umount', [dir]);
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('the test folder is on disk on this machine kind (else the tests below prove nothing)', () => {
    expect(onDisk).toBe(true);
  });

  test('a root on disk becomes a tmpfs once; a second call (or another process) finds it done', async () => {
    const root = path.join(base, 'state');
    mounted.push(root);
    const first = await ensureVolatileRoot(root);
    expect(first).toEqual({ fs: 'tmpfs', mounted: true });
    expect(isMountPoint(root)).toBe(true);
    expect((fs.statSync(root).mode & 0o777).toString(8)).toBe('711');
    fs.writeFileSync(path.join(root, 'x'), 'kept');
    expect(await ensureVolatileRoot(root)).toEqual({ fs: 'tmpfs', mounted: false });
    expect(mountLines(root)).toBe(1);
    expect(fs.readFileSync(path.join(root, 'x'), 'utf8')).toBe('kept');
    expect(fs.existsSync(`${root}.lock`)).toBe(false);
  });

  test('concurrent calls mount exactly one tmpfs', async () => {
    const root = path.join(base, 'race');
    mounted.push(root);
    const results = await Promise.all([ensureVolatileRoot(root), ensureVolatileRoot(root), ensureVolatileRoot(root)]);
    expect(results.filter((r) => r.mounted)).toHaveLength(1);
    expect(results.every((r) => r.fs === 'tmpfs')).toBe(true);
    expect(mountLines(root)).toBe(1);
  });

  test('a folder that already holds state stays on disk, its files visible; nothing is mounted', async () => {
    const root = path.join(base, 'busy');
    fs.mkdirSync(path.join(root, 'old-container'), { recursive: true });
    const r = await ensureVolatileRoot(root);
    expect(r.mounted).toBe(false);
    expect(r.fs).toBe(mountOf(base).type);
    expect(r.reason).toMatch(/already holds state/);
    expect(isMountPoint(root)).toBe(false);
    expect(fs.existsSync(path.join(root, 'old-container'))).toBe(true);
  });

  test('not root, or a failing mount: the root stays on disk with the reason, no error', async () => {
    const a = await ensureVolatileRoot(path.join(base, 'user'), { uid: 1000 });
    expect(a).toMatchObject({ mounted: false, reason: expect.stringMatching(/not root/) });
    expect(fs.existsSync(path.join(base, 'user'))).toBe(false);
    const b = await ensureVolatileRoot(path.join(base, 'fails'), { mount: async () => { throw new Error('no tmpfs here'); } });
    expect(b).toMatchObject({ mounted: false, reason: 'mount failed: no tmpfs here' });
    expect(isMountPoint(path.join(base, 'fails'))).toBe(false);
  });

  test('a volatile StateStore makes its root a tmpfs at the first claim and works on it', async () => {
    const root = path.join(base, 'store');
    mounted.push(root);
    const store = new StateStore(root, { volatile: true });
    await store.claim('c1', 'chroot', { ociVersion: '1.2.0' });
    expect(store.volatileRoot).toEqual({ fs: 'tmpfs', mounted: true });
    expect(mountOf(store.dir('c1')).type).toBe('tmpfs');
    await store.write({ version: 1, id: 'c1', driver: 'chroot', bundle: '/b', created: new Date().toISOString(), phase: 'created', handle: {}, stdio: 'log' });
    expect((await store.read('c1')).driver).toBe('chroot');
    await store.remove('c1');
    expect(await store.ids()).toEqual([]);
    // A plain store leaves its root as it is.
    const plain = new StateStore(path.join(base, 'plain'));
    await plain.claim('c2');
    expect(isMountPoint(plain.root)).toBe(false);
  });
});
