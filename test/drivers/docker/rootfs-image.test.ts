/**
 * The rootfs image cache: the hash sees what it promises to see, and against the real engine an
 * unchanged rootfs is imported once, a changed one again under a new tag.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureRootfsImage, rootfsHash, ROOTFS_LABEL, ROOTFS_REPOSITORY } from '../../../drivers/docker/rootfs-image';
import { dockerClient } from '../../../drivers/docker/docker-connection';
import { privateRootfs } from '../../helpers/busybox-fixture';
import { isRoot, requireBackend } from '../../helpers/backend-gate';
import { TEST_DOCKER_HOST, testDocker, testDriver } from './docker-test-env';

function tree(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hash-'));
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.writeFileSync(path.join(dir, 'etc/file'), 'abc');
  fs.symlinkSync('file', path.join(dir, 'etc/link'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('rootfsHash', () => {
  test('stable for an unchanged tree; changes with a mode, a symlink target, a new entry or a same-size rewrite, not with the times of a folder', () => {
    const t = tree();
    try {
      const h0 = rootfsHash(t.dir);
      expect(rootfsHash(t.dir)).toBe(h0);
      expect(h0).toMatch(/^[0-9a-f]{32}$/);
      fs.chmodSync(path.join(t.dir, 'etc/file'), 0o600);
      const h1 = rootfsHash(t.dir);
      expect(h1).not.toBe(h0);
      fs.unlinkSync(path.join(t.dir, 'etc/link'));
      fs.symlinkSync('other', path.join(t.dir, 'etc/link'));
      const h2 = rootfsHash(t.dir);
      expect(h2).not.toBe(h1);
      // Same size, mtime put back: ctime still moves.
      const file = path.join(t.dir, 'etc/file');
      const { atime, mtime } = fs.statSync(file);
      fs.writeFileSync(file, 'xyz');
      fs.utimesSync(file, atime, mtime);
      const h3 = rootfsHash(t.dir);
      expect(h3).not.toBe(h2);
      fs.writeFileSync(path.join(t.dir, 'new'), '');
      const h4 = rootfsHash(t.dir);
      expect(h4).not.toBe(h3);
      // An entry that comes and goes (a runtime's pivot_root folder) leaves no trace: directory times are not hashed.
      fs.mkdirSync(path.join(t.dir, '.oldroot'));
      expect(rootfsHash(t.dir)).not.toBe(h4);
      fs.rmdirSync(path.join(t.dir, '.oldroot'));
      expect(rootfsHash(t.dir)).toBe(h4);
    } finally {
      t.cleanup();
    }
  });
});

describe('ensureRootfsImage on the engine', () => {
  let available = false;
  beforeAll(async () => {
    available = (await requireBackend(testDriver())).available && isRoot;
  });

  test('imports an unchanged rootfs once; a changed one under a new tag, pruning the old image unless a container uses it', async () => {
    if (!available) return;
    const api = dockerClient(TEST_DOCKER_HOST);
    const docker = testDocker();
    const rootfs = privateRootfs();
    const made: string[] = [];
    const tags = async () => (await docker.listImages()).flatMap((i) => i.RepoTags ?? []);
    let holder: { remove: (o: object) => Promise<unknown> } | undefined;
    try {
      const first = await ensureRootfsImage(api, rootfs.dir);
      made.push(first.image);
      expect(first).toEqual({ image: `${ROOTFS_REPOSITORY}:${rootfsHash(rootfs.dir)}`, imported: true });
      expect(await ensureRootfsImage(api, rootfs.dir)).toEqual({ image: first.image, imported: false });
      const inspected = await docker.getImage(first.image).inspect();
      expect(inspected.Config.Labels).toEqual({ [ROOTFS_LABEL]: rootfs.dir });

      fs.writeFileSync(path.join(rootfs.dir, 'etc/berth-test'), 'changed');
      const second = await ensureRootfsImage(api, rootfs.dir);
      made.push(second.image);
      expect(second.imported).toBe(true);
      expect(second.image).not.toBe(first.image);
      expect(await tags()).toContain(second.image);
      expect(await tags()).not.toContain(first.image); // nothing used it: pruned

      holder = await docker.createContainer({ Image: second.image, Cmd: ['true'] });
      fs.writeFileSync(path.join(rootfs.dir, 'etc/berth-test'), 'changed again');
      const third = await ensureRootfsImage(api, rootfs.dir);
      made.push(third.image);
      expect(await tags()).toEqual(expect.arrayContaining([second.image, third.image])); // in use: kept
    } finally {
      await holder?.remove({ force: true }).catch(() => undefined);
      for (const image of made) await testDocker().getImage(image).remove({ force: true }).catch(() => undefined);
      rootfs.cleanup();
    }
  }, 120000);
});
