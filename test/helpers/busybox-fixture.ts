import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBusyboxRootfs } from '../../core/rootfs/busybox-rootfs';
import { withFileLock } from '../../core/state/file-lock';

/** A shared busybox rootfs for tests, built once per machine (read-only use only: do not write into it). */
export const TEST_ROOTFS = '/var/lib/berth/test-rootfs/busybox';

export async function testRootfs(): Promise<string> {
  if (fs.existsSync(path.join(TEST_ROOTFS, 'bin/busybox'))) return TEST_ROOTFS;
  fs.mkdirSync(path.dirname(TEST_ROOTFS), { recursive: true });
  await withFileLock(`${TEST_ROOTFS}.lock`, async () => {
    if (!fs.existsSync(path.join(TEST_ROOTFS, 'bin/busybox'))) buildBusyboxRootfs(TEST_ROOTFS);
  }, 60000);
  return TEST_ROOTFS;
}

/** A private, writable busybox rootfs in a temporary folder; remove it with the returned cleanup. */
export function privateRootfs(): { dir: string; cleanup: () => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rootfs-'));
  const dir = path.join(base, 'rootfs');
  buildBusyboxRootfs(dir);
  return { dir, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

/** A fresh state root for one test file. */
export function tempStateRoot(): { root: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-state-'));
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
