import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { DockerApi } from './docker-api';
import { BackendCommandError, BerthError } from '../../core';
import { withFileLock } from '../../core/state/file-lock';

export const ROOTFS_REPOSITORY = 'berth-rootfs';
/** Image label naming the folder an image was imported from (for pruning older imports of it). */
export const ROOTFS_LABEL = 'org.berth.rootfs';
const HASH_FORMAT = 'berth-rootfs-hash-2';
/** How long a create waits for another process importing the same rootfs. */
const IMPORT_LOCK_TIMEOUT_MS = 10 * 60 * 1000;
/** Imports retried while the tree changes under tar. */
const MAX_IMPORT_ATTEMPTS = 3;

/**
 * A cheap fingerprint of a rootfs tree: for every entry (sorted, not following symlinks) its relative
 * path, type and mode, owner, size, device number and symlink target, and for every non-directory
 * its mtime and ctime in nanoseconds. File contents are not read: a change that keeps size, mtime
 * and ctime is not seen. ctime cannot be set from user space, so any write, chmod, chown or rename
 * of a file changes the hash; a copy of the same tree gets a new hash (and is imported once more,
 * which is safe). A directory's own times are left out: they change only when entries come or go
 * (already in the list), so a tool that briefly adds and removes an entry does not force a re-import.
 */
export function rootfsHash(root: string): string {
  const hash = crypto.createHash('sha256').update(HASH_FORMAT);
  const walk = (rel: string) => {
    const abs = rel ? path.join(root, rel) : root;
    const st = fs.lstatSync(abs, { bigint: true });
    const link = st.isSymbolicLink() ? fs.readlinkSync(abs) : '';
    const times = st.isDirectory() ? '' : `${st.mtimeNs}\0${st.ctimeNs}`;
    hash.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${times}\0${st.rdev}\0${link}\n`);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
    }
  };
  walk('');
  return hash.digest('hex').slice(0, 32);
}

/**
 * The image tag for a rootfs, importing the tree (as a tar stream) only when no image has that tag
 * yet. The tree is hashed again after packing: if it changed meanwhile (tar: "file changed as we
 * read it"), the image is dropped and the import retried, so a tag never names other contents.
 */
export async function ensureRootfsImage(docker: DockerApi, root: string): Promise<{ image: string; imported: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const hash = rootfsHash(root);
    const image = `${ROOTFS_REPOSITORY}:${hash}`;
    if (await imageExists(docker, image)) return { image, imported: false };
    // One import per hash at a time on this host: a second concurrent import would retag the image
    // and leave the first one dangling.
    const result = await withFileLock(path.join(os.tmpdir(), `berth-docker-import-${hash}.lock`), async () => {
      if (await imageExists(docker, image)) return { image, imported: false };
      const tar = await importTree(docker, root, image);
      if (rootfsHash(root) !== hash || tar.exitCode !== 0) {
        await docker.getImage(image).remove({ force: true }).catch(() => undefined);
        if (attempt < MAX_IMPORT_ATTEMPTS && (tar.exitCode === 0 || tar.exitCode === 1)) return undefined;
        throw tar.exitCode === 0
          ? new BerthError('BACKEND_FAILED', `docker: ${root} kept changing while it was imported (${attempt} attempts)`)
          : new BackendCommandError(tar.argv, tar.exitCode, tar.stderr, `packing ${root} for docker import`);
      }
      if (!(await imageExists(docker, image))) throw new BerthError('BACKEND_FAILED', `docker: importing ${root} did not produce image ${image}`);
      await pruneOlderImports(docker, root, image);
      return { image, imported: true };
    }, IMPORT_LOCK_TIMEOUT_MS);
    if (result) return result;
  }
}

/**
 * Remove earlier imports of the same folder, keeping the cache at one image per rootfs. An image a
 * container still uses (even a stopped one) is kept: the engine refuses to remove it without force.
 */
async function pruneOlderImports(docker: DockerApi, root: string, keep: string): Promise<void> {
  const tags = await docker.imageTagsWithLabel(ROOTFS_LABEL, path.resolve(root)).catch(() => []);
  for (const tag of tags) {
    if (tag !== keep && tag.startsWith(`${ROOTFS_REPOSITORY}:`)) await docker.getImage(tag).remove().catch(() => undefined);
  }
}

async function imageExists(docker: DockerApi, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Pack `root` with tar and stream it into the engine as `image`; returns how tar ended. */
async function importTree(docker: DockerApi, root: string, image: string): Promise<{ argv: string[]; exitCode: number; stderr: string }> {
  const argv = ['tar', '--numeric-owner', '--xattrs', '-C', root, '-cf', '-', '.'];
  const tar = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  tar.stderr.on('data', (d: Buffer) => stderr.push(d));
  const tarExit = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? 128));
  });
  const [repo, tag] = image.split(':') as [string, string];
  try {
    await docker.importImage(tar.stdout, repo, tag, [`LABEL ${ROOTFS_LABEL}=${JSON.stringify(path.resolve(root))}`]);
  } catch (err) {
    if (tar.exitCode === null) tar.kill('SIGKILL');
    await tarExit.catch(() => undefined);
    throw err;
  }
  return { argv, exitCode: await tarExit, stderr: Buffer.concat(stderr).toString() };
}
